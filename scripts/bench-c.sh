#!/usr/bin/env bash
# C boundary benchmark: moq_publish_data calls/s with no subscriber, and
# end-to-end objects/s through our relay, via the C library and via the Go
# API, in the same run against the same relay. Figures are noisy on a shared
# machine: compare the C and Go lines of one run.
#   scripts/bench-c.sh [SIZE] [SECONDS] [URL_SCHEME]
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE=${1:-200}; SECS=${2:-3}; SCHEME=${3:-moqt}
tmp=$(mktemp -d); relay=
cleanup() { [ -n "$relay" ] && { kill "$relay" 2>/dev/null; wait "$relay" 2>/dev/null; }; rm -rf "$tmp"; }
trap cleanup EXIT
make -s lib >/dev/null
go build -o build/bin/moq ./cmd/moq
cc -std=c11 -O2 -Wall -Wextra -Ibuild/include bench/c/bench.c -o "$tmp/bench" -Lbuild/lib -lmoq_ffi \
  -Wl,-rpath,"$PWD/build/lib" -pthread
build/bin/moq relay --listen 127.0.0.1:0 > "$tmp/relay.out" 2>&1 &
relay=$!
for _ in $(seq 100); do grep -q fingerprint "$tmp/relay.out" && break; sleep 0.1; done
addr=$(sed -n 's/^moq relay listening on \([^ ]*\) (UDP)$/\1/p' "$tmp/relay.out")
fp=$(sed -n 's/^.*fingerprint: \([0-9a-f]*\)$/\1/p' "$tmp/relay.out")
url="$SCHEME://$addr/"
# At most 4 MiB in flight (half the default subscription buffer), 256 objects.
WINDOW=$(( 4194304 / SIZE )); [ "$WINDOW" -gt 256 ] && WINDOW=256; [ "$WINDOW" -lt 1 ] && WINDOW=1
MOQ_FFI_PIN_SHA256=$fp "$tmp/bench" "$url" "$SIZE" "$SECS" "$WINDOW"
build/bin/moq bench --url "$url" --pin "$fp" --size "$SIZE" --seconds "$SECS" --window "$WINDOW"
