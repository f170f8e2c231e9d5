#!/usr/bin/env bash
# Burst loss accounting (issue 15): bench/c/burst.c through a `moq relay` on
# loopback with its defaults, for each delivery mode over raw QUIC and
# WebTransport: objects received, lost, and where the loss was counted.
#   scripts/burst-c.sh [COUNT] [SIZE]     (default 10000 objects of 28800 bytes)
# RELAY_ARGS adds relay flags (e.g. RELAY_ARGS=--subscriber-buffer=67108864);
# MODES chooses the modes (default "stream datagram reliable").
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/go/bin:$PATH
COUNT=${1:-10000}; SIZE=${2:-28800}
tmp=$(mktemp -d); relay=
cleanup() { [ -n "$relay" ] && { kill "$relay" 2>/dev/null; wait "$relay" 2>/dev/null; }; rm -rf "$tmp"; }
trap cleanup EXIT
make -s lib >/dev/null
go build -o build/bin/moq ./cmd/moq
cc -std=c11 -O2 -Wall -Wextra -D_POSIX_C_SOURCE=200809L -Ibuild/include bench/c/burst.c -o "$tmp/burst" -Lbuild/lib \
  -lmoq_ffi -Wl,-rpath,"$PWD/build/lib" -pthread
# shellcheck disable=SC2086
build/bin/moq relay --listen 127.0.0.1:0 ${RELAY_ARGS:-} > "$tmp/relay.out" 2>&1 &
relay=$!
for _ in $(seq 100); do grep -q fingerprint "$tmp/relay.out" && break; sleep 0.1; done
addr=$(sed -n 's/^moq relay listening on \([^ ]*\) (UDP)$/\1/p' "$tmp/relay.out")
fp=$(sed -n 's/^.*fingerprint: \([0-9a-f]*\)$/\1/p' "$tmp/relay.out")
for mode in ${MODES:-stream datagram reliable}; do
  for scheme in moqt https; do
    MOQ_FFI_LOG=error MOQ_FFI_PIN_SHA256=$fp "$tmp/burst" "$scheme://$addr/" "$mode" "$COUNT" "$SIZE"
  done
done
