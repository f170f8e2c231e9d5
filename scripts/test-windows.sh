#!/usr/bin/env bash
# Windows test: cross-compiles tests/windows/roundtrip.c against the import
# libraries of build/windows (scripts/sdk-windows.sh builds them when
# missing) and runs it under wine against our relay running natively on
# 127.0.0.1:
#   roundtrip.exe      linked with libmoq_ffi.dll.a, https:// (WebTransport,
#                      default drafts)
#   roundtrip_lib.exe  linked with moq_ffi.lib, moqt:// (raw QUIC, draft-07
#                      Cloudflare layout)
# Under Wine, roundtrip.c tolerates Wine's missing SIO_UDP_NETRESET (see
# tests/windows/wine_compat.c); the DLL is tested unmodified.
# Wine 8.0 (Debian bookworm) has no bcryptprimitives.dll, which the Go
# runtime needs; a test-only shim is then put into the prefix (see
# tests/windows/bcryptprimitives_shim.c). Uses a temporary WINEPREFIX (removed on exit, its wineserver stopped), and
# bounds everything with timeouts: WINE_BOOT_TIMEOUT (default 300 s) for the
# first wineboot, WINE_RUN_TIMEOUT (default 120 s) per test run. Installs
# wine/wine64 (and the MinGW toolchain) with apt-get when missing.
# Usage: scripts/test-windows.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/go/bin:$PATH
ROOT=$PWD
BOOT_TIMEOUT=${WINE_BOOT_TIMEOUT:-300}
RUN_TIMEOUT=${WINE_RUN_TIMEOUT:-120}
CC=x86_64-w64-mingw32-gcc

need=()
command -v "$CC" >/dev/null || need+=(gcc-mingw-w64-x86-64)
command -v wine >/dev/null || need+=(wine)
[ -x /usr/lib/wine/wine64 ] || need+=(wine64)
if [ ${#need[@]} -gt 0 ]; then
  echo "test-windows: installing ${need[*]}" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

W=build/windows
[ -f "$W/moq_ffi.dll" ] && [ -f "$W/moq_ffi.lib" ] && [ -f "$W/libmoq_ffi.dll.a" ] || bash scripts/sdk-windows.sh

# --- test programs (next to a copy of the DLL, where Windows looks first) ---
T=$W/test
rm -rf "$T"
mkdir -p "$T"
cp "$W/moq_ffi.dll" "$T/"
CFLAGS=(-std=c11 -O2 -Wall -Wextra -Werror -Iinclude)
SRC=(tests/windows/roundtrip.c tests/windows/wine_compat.c)
"$CC" "${CFLAGS[@]}" "${SRC[@]}" -o "$T/roundtrip.exe" -L"$W" -lmoq_ffi -lws2_32
"$CC" "${CFLAGS[@]}" "${SRC[@]}" -o "$T/roundtrip_lib.exe" "$W/moq_ffi.lib" -lws2_32
for exe in roundtrip.exe roundtrip_lib.exe; do
  imports=$(x86_64-w64-mingw32-objdump -p "$T/$exe")
  grep -q 'DLL Name: moq_ffi.dll' <<<"$imports" ||
    { echo "test-windows: $exe does not import moq_ffi.dll" >&2; exit 1; }
done

# --- relay, wine prefix, cleanup ---
WORK=$(mktemp -d "${TMPDIR:-/tmp}/moq-wintest.XXXXXX")
RELAY_PID=
export WINEPREFIX=$WORK/prefix WINEDEBUG=-all WINEARCH=win64
# No Mono/Gecko install prompts; no display needed for console programs.
export WINEDLLOVERRIDES="mscoree,mshtml="
unset DISPLAY WAYLAND_DISPLAY
cleanup() {
  if [ -n "$RELAY_PID" ]; then
    kill "$RELAY_PID" 2>/dev/null || true
    wait "$RELAY_PID" 2>/dev/null || true
  fi
  if [ -d "$WINEPREFIX" ]; then
    timeout 30 wineserver -k 2>/dev/null || true
    timeout 30 wineserver -w 2>/dev/null || true
    # wineserver leaves its socket directory, named after the prefix's
    # device and inode, in ${TMPDIR:-/tmp}/wine-XXXXXX (or /tmp/.wine-UID).
    local id d
    id=$(stat -c '%d %i' "$WINEPREFIX" | { read -r dev ino; printf 'server-%x-%x' "$dev" "$ino"; })
    for d in "${TMPDIR:-/tmp}"/wine-*/"$id" /tmp/wine-*/"$id" "/tmp/.wine-$(id -u)/$id"; do
      [ -d "$d" ] || continue
      rm -rf "$d"
      rmdir "$(dirname "$d")" 2>/dev/null || true
    done
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

go build -o build/bin/moq ./cmd/moq
build/bin/moq relay --listen 127.0.0.1:0 >"$WORK/relay.out" 2>"$WORK/relay.err" &
RELAY_PID=$!
for _ in $(seq 1 200); do
  grep -q 'certificate SHA-256 fingerprint' "$WORK/relay.out" 2>/dev/null && break
  kill -0 "$RELAY_PID" 2>/dev/null || break
  sleep 0.05
done
ADDR=$(sed -n 's/^moq relay listening on \([^ ]*\) (UDP)$/\1/p' "$WORK/relay.out")
FP=$(sed -n 's/.*certificate SHA-256 fingerprint: \([0-9a-f]*\)$/\1/p' "$WORK/relay.out")
if [ -z "$ADDR" ] || [ -z "$FP" ]; then
  echo "test-windows: relay did not start:" >&2
  cat "$WORK/relay.out" "$WORK/relay.err" >&2
  exit 1
fi
echo "test-windows: relay on $ADDR" >&2

echo "test-windows: creating the wine prefix (wineboot, at most ${BOOT_TIMEOUT}s)" >&2
t0=$(date +%s)
if ! timeout "$BOOT_TIMEOUT" wineboot -i >"$WORK/wineboot.log" 2>&1; then
  echo "test-windows: wineboot failed or timed out:" >&2
  cat "$WORK/wineboot.log" >&2
  exit 1
fi
echo "test-windows: wineboot took $(($(date +%s) - t0))s" >&2

# Go >= 1.24 needs bcryptprimitives.dll (ProcessPrng, Windows 10+), which
# Wine 8.0 lacks: the Go runtime then aborts at load with "fatal error:
# bcryptprimitives.dll not found". Install the test-only shim
# (tests/windows/bcryptprimitives_shim.c) into this prefix's system32.
SYS32=$WINEPREFIX/drive_c/windows/system32
if [ -e "$SYS32/bcryptprimitives.dll" ]; then
  echo "test-windows: wine provides bcryptprimitives.dll" >&2
else
  echo "test-windows: wine has no bcryptprimitives.dll; installing the test shim into the prefix" >&2
  "$CC" -std=c11 -O2 -Wall -Wextra -Werror -shared -static-libgcc \
    tests/windows/bcryptprimitives_shim.c -o "$SYS32/bcryptprimitives.dll" -lbcrypt
  export WINEDLLOVERRIDES="$WINEDLLOVERRIDES;bcryptprimitives=n"
fi

fails=0
# run NAME EXE URL [VAR=VALUE...]
run() {
  local name=$1 exe=$2 url=$3
  shift 3
  echo "test-windows: == $name" >&2
  local rc=0
  env MOQ_FFI_PIN_SHA256="$FP" "$@" timeout -k 10 "$RUN_TIMEOUT" wine "$T/$exe" "$url" || rc=$?
  if [ "$rc" -eq 0 ]; then
    echo "test-windows: PASS $name" >&2
  else
    [ "$rc" -eq 124 ] && echo "test-windows: $name timed out after ${RUN_TIMEOUT}s" >&2
    echo "test-windows: FAIL $name (exit $rc)" >&2
    fails=$((fails + 1))
  fi
}
run "roundtrip (libmoq_ffi.dll.a, WebTransport)" roundtrip.exe "https://$ADDR/"
run "roundtrip (moq_ffi.lib, raw QUIC, draft-07cf)" roundtrip_lib.exe "moqt://$ADDR/" MOQ_FFI_DRAFT=07cf

if ! kill -0 "$RELAY_PID" 2>/dev/null; then
  echo "test-windows: the relay died:" >&2
  cat "$WORK/relay.err" >&2
  fails=$((fails + 1))
fi
if [ "$fails" -ne 0 ]; then
  echo "test-windows: $fails failure(s); relay log:" >&2
  tail -n 40 "$WORK/relay.err" >&2
  exit 1
fi
echo "test-windows: all passed" >&2
