#!/usr/bin/env bash
# make demo: our relay on loopback, a C publisher streaming simulated motion
# capture (24 joints at 90 Hz, plus a catalog) and a C subscriber showing a
# live status line. Everything stops by itself after DEMO_SECONDS (default
# 10) or on Ctrl-C, and every process is cleaned up.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_RUN=${DEMO_SECONDS:-10}
RATE=${DEMO_RATE:-90}
BUILD=build
tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The demo programs link the library the way an application would: the
# header from include/, -lmoq_ffi from lib/.
cc -std=c11 -O2 -Wall -Wextra -I"$BUILD/include" -Idemo demo/mocap_pub.c -o "$tmp/mocap_pub" \
  -L"$BUILD/lib" -lmoq_ffi -Wl,-rpath,"$PWD/$BUILD/lib" -lm -pthread
cc -std=c11 -O2 -Wall -Wextra -I"$BUILD/include" -Idemo demo/mocap_sub.c -o "$tmp/mocap_sub" \
  -L"$BUILD/lib" -lmoq_ffi -Wl,-rpath,"$PWD/$BUILD/lib" -pthread

"$BUILD/bin/moq" relay --listen 127.0.0.1:0 > "$tmp/relay.out" 2> "$tmp/relay.err" &
pids+=($!)
for _ in $(seq 100); do
  grep -q 'fingerprint' "$tmp/relay.out" 2>/dev/null && break
  kill -0 "${pids[0]}" 2>/dev/null || { cat "$tmp/relay.err" >&2; exit 1; }
  sleep 0.1
done
addr=$(sed -n 's/^moq relay listening on \([^ ]*\) (UDP)$/\1/p' "$tmp/relay.out")
fp=$(sed -n 's/^.*certificate SHA-256 fingerprint: \([0-9a-f]*\)$/\1/p' "$tmp/relay.out")
[ -n "$addr" ] && [ -n "$fp" ] || { echo "demo: the relay did not start" >&2; cat "$tmp/relay.out" "$tmp/relay.err" >&2; exit 1; }
export MOQ_FFI_PIN_SHA256=$fp
url="moqt://$addr/demo"
echo "relay on $addr (certificate $fp)"
echo "publisher: $RATE frames/s of a 24-joint skeleton for ${SECONDS_RUN}s; subscriber: live status below"

"$tmp/mocap_sub" "$url" "$((SECONDS_RUN + 2))" &
sub=$!
pids+=($sub)
"$tmp/mocap_pub" "$url" "$RATE" "$SECONDS_RUN" &
pub=$!
pids+=($pub)
pub_rc=0; wait "$pub" || pub_rc=$?
sub_rc=0; wait "$sub" || sub_rc=$?
pids=("${pids[0]}")
echo "demo done (publisher exit $pub_rc, subscriber exit $sub_rc)"
[ "$pub_rc" -eq 0 ] && [ "$sub_rc" -eq 0 ]
