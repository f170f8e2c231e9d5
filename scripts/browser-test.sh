#!/usr/bin/env bash
# Browser interop test: @moq/lite (pinned in tests/browser/package-lock.json)
# running in headless Debian Chromium subscribes, over WebTransport with
# serverCertificateHashes, to a track that a Go publisher (moq package,
# draft-14, pinned certificate) publishes through our relay.
#
#   1. installs Chromium (apt) if /usr/bin/chromium is missing, and the page's
#      npm packages (npm ci); bundles the page with esbuild;
#   2. builds and starts `moq relay` on 127.0.0.1 with a free port, reads its
#      address and certificate fingerprint;
#   3. starts tests/browser/publisher: namespace "browser-test", track "data",
#      one object per group, "object N" in group N, every 50 ms;
#   4. runs tests/browser/driver: serves the page on 127.0.0.1, starts headless
#      Chromium on it, and passes when the page received COUNT objects,
#      contiguous and in order.
# Every process is stopped on exit; every step is bounded.
#
# Environment: BROWSER_TEST_COUNT (default 20), BROWSER_TEST_TIMEOUT (seconds
# for the browser step, default 60), BROWSER_TEST_PUBLISHER (quic or
# webtransport: how the publisher reaches the relay, default quic),
# BROWSER_TEST_KEEP=1 keeps the work directory with all logs.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/go/bin:$PATH
COUNT=${BROWSER_TEST_COUNT:-20}
BROWSER_TIMEOUT=${BROWSER_TEST_TIMEOUT:-60}
PUB_TRANSPORT=${BROWSER_TEST_PUBLISHER:-quic}
T0=${EPOCHREALTIME/./}
say() { local ms=$(( (${EPOCHREALTIME/./} - T0) / 1000 )); printf 'browser-test [%3d.%03ds]: %s\n' $((ms / 1000)) $((ms % 1000)) "$*"; }

# --- installs (idempotent) -------------------------------------------------
if [ ! -x /usr/bin/chromium ]; then
  say "installing chromium (apt)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
command -v npm >/dev/null || { echo "browser-test: npm (Node.js) is required" >&2; exit 1; }
say "npm ci + bundle"
(cd tests/browser && npm ci --no-audit --no-fund --loglevel=error >/dev/null && npm run --silent build >/dev/null)

WORK=$(mktemp -d /tmp/browser-test.XXXXXX)
DRIVER_PID="" RELAY_PID="" PUB_PID="" STATUS=1
cleanup() {
  local rc=$?
  [ "$STATUS" = 0 ] || STATUS=$rc
  for pid in $DRIVER_PID $PUB_PID $RELAY_PID; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in $DRIVER_PID $PUB_PID $RELAY_PID; do
    wait "$pid" 2>/dev/null || true
  done
  if [ "$STATUS" != 0 ]; then
    echo "---- relay log (tail) ----" >&2;     tail -n 40 "$WORK/relay.log" >&2 2>/dev/null || true
    echo "---- publisher log (tail) ----" >&2; tail -n 20 "$WORK/publisher.log" >&2 2>/dev/null || true
    echo "---- chromium log (tail, dbus noise removed) ----" >&2
    grep -v -e 'dbus/' -e 'Fontconfig' "$WORK/chromium.log" 2>/dev/null | tail -n 40 >&2 || true
  fi
  if [ "${BROWSER_TEST_KEEP:-}" = 1 ] || [ "$STATUS" != 0 ]; then
    echo "browser-test: logs kept in $WORK" >&2
  else
    rm -rf "$WORK"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say "go build (relay, publisher, driver)"
go build -o "$WORK/moq" ./cmd/moq
go build -o "$WORK/publisher" ./tests/browser/publisher
go build -o "$WORK/driver" ./tests/browser/driver

# wait_for FILE REGEX SECONDS PID: waits until FILE has a line matching REGEX,
# failing early if PID exits.
wait_for() {
  local file=$1 re=$2 secs=$3 pid=$4 deadline=$(( $(date +%s) + $3 ))
  until grep -qE "$re" "$file" 2>/dev/null; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "browser-test: FAIL: process $pid exited before printing /$re/ in $file" >&2; return 1
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
      echo "browser-test: FAIL: no /$re/ in $file within ${secs}s" >&2; return 1
    fi
    sleep 0.1
  done
}

# --- relay --------------------------------------------------------------------
timeout 300 "$WORK/moq" relay --listen 127.0.0.1:0 --fingerprint-http 127.0.0.1:0 --drain 1s -v \
  >"$WORK/relay.out" 2>"$WORK/relay.log" &
RELAY_PID=$!
wait_for "$WORK/relay.out" 'fingerprint over HTTP:' 30 "$RELAY_PID"
ADDR=$(sed -n 's/^moq relay listening on \([0-9.]*:[0-9]*\) (UDP)$/\1/p' "$WORK/relay.out")
FP=$(sed -n 's/^ *certificate SHA-256 fingerprint: \([0-9a-f]*\)$/\1/p' "$WORK/relay.out")
FP_URL=$(sed -n 's/^ *fingerprint over HTTP: \(.*\)$/\1/p' "$WORK/relay.out")
[ -n "$ADDR" ] && [ ${#FP} = 64 ] || { echo "browser-test: FAIL: cannot read address/fingerprint from relay output:" >&2; cat "$WORK/relay.out" >&2; exit 1; }
if command -v curl >/dev/null; then
  served=$(curl -fsS --max-time 5 "$FP_URL" | tr -d '[:space:]')
  [ "$served" = "$FP" ] || { echo "browser-test: FAIL: $FP_URL serves '$served', relay printed '$FP'" >&2; exit 1; }
fi
say "relay on $ADDR, fingerprint $FP"

# --- publisher ----------------------------------------------------------------
case $PUB_TRANSPORT in
  quic) PUB_URL="moqt://$ADDR/" ;;
  webtransport) PUB_URL="https://$ADDR/" ;;
  *) echo "browser-test: BROWSER_TEST_PUBLISHER=$PUB_TRANSPORT: want quic or webtransport" >&2; exit 2 ;;
esac
timeout 240 "$WORK/publisher" -url "$PUB_URL" -fingerprint "$FP" -namespace browser-test -track data \
  -interval 50ms -timeout 200s -v >"$WORK/publisher.log" 2>&1 &
PUB_PID=$!
wait_for "$WORK/publisher.log" '^publisher ready' 30 "$PUB_PID"
say "publisher ready ($PUB_URL)"

# --- browser -----------------------------------------------------------------
say "chromium: subscribing to browser-test/data, want $COUNT objects"
# In the background so that a signal to this script reaches the trap at once;
# the driver stops Chromium when it gets SIGTERM.
timeout $((BROWSER_TIMEOUT + 30)) "$WORK/driver" -dir tests/browser/dist -relay "https://$ADDR/" -fingerprint "$FP" \
  -namespace browser-test -track data -count "$COUNT" -timeout "${BROWSER_TIMEOUT}s" \
  -chromium /usr/bin/chromium -chromium-log "$WORK/chromium.log" >"$WORK/driver.log" 2>&1 &
DRIVER_PID=$!
if wait "$DRIVER_PID"; then
  grep -E '^(driver: page \(|browser-test:)' "$WORK/driver.log"
  STATUS=0
  say "PASS"
else
  rc=$?
  echo "---- driver / page log ----" >&2
  cat "$WORK/driver.log" >&2
  [ $rc = 124 ] && echo "browser-test: FAIL: driver timed out" >&2
  say "FAIL"
  exit 1
fi
