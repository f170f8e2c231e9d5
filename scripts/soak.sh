#!/usr/bin/env bash
# Fault, load and soak suites (package faults; see docs/faults.md).
#
# Usage: scripts/soak.sh SUITE...
#   soak    C publishers/subscribers through a relay restarted every
#           SOAK_RESTART (default 1m) for SOAK_TIME (default 10m)
#   netem   the impaired-network suite (network namespaces; needs root)
#   load    MOQ_LOAD_SESSIONS (default 1000) sessions on one relay
#   short   the short forms of all three (what `make test-faults` runs)
# MOQ_FAULTS=short|full overrides the size (default: full, except "short").
# Builds the C library, the soak programs (build/soak) and the relay
# (build/bin/moq) first; prints the measured figures at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/go/bin:$PATH
ROOT=$PWD
[ $# -gt 0 ] || set -- soak

runs=()
size=full
race=()
for s in "$@"; do
  case $s in
    soak) runs+=('^TestSoak$') ;;
    netem) runs+=('^TestNetem$') ;;
    load) runs+=('^TestLoad$') ;;
    short) runs+=('^(TestNetem|TestLoad|TestSoak)$'); size=short; race=(-race) ;;
    *) echo "soak.sh: unknown suite $s (soak, netem, load, short)" >&2; exit 2 ;;
  esac
done
size=${MOQ_FAULTS:-$size}

# iproute2 for the namespaces (ip); TUN carries the impaired link.
if ! command -v ip >/dev/null; then
  echo "soak.sh: installing iproute2" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq iproute2 >/dev/null
fi
command -v gcc >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gcc >/dev/null; }

echo "soak.sh: building the library, the soak programs and the relay" >&2
scripts/build-lib.sh build >/dev/null
mkdir -p build/soak build/bin
for p in soak_pub soak_sub; do
  gcc -std=c11 -Wall -Wextra -Werror -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -O1 -g -Iinclude -Itests/soak \
    "tests/soak/$p.c" -o "build/soak/$p" -Lbuild/lib -lmoq_ffi -Wl,-rpath,"$ROOT/build/lib" -pthread
done
go build -o build/bin/moq ./cmd/moq

export MOQ_FAULTS=$size MOQ_SOAK_BIN=$ROOT/build/soak MOQ_RELAY_BIN=$ROOT/build/bin/moq
log=$(mktemp "${TMPDIR:-/tmp}/moq-faults.XXXXXX")
trap 'rm -f "$log"' EXIT
# Bound: the soak time plus a margin for the rest.
seconds() { # 90, 90s, 10m, 1h -> seconds (default 600)
  local v=${1:-10m}
  case $v in
    *h) echo $(( ${v%h} * 3600 )) ;;
    *m) echo $(( ${v%m} * 60 )) ;;
    *s) echo "${v%s}" ;;
    *) echo "$v" ;;
  esac
}
soak_s=$(seconds "${SOAK_TIME:-}")
limit=$(( soak_s + 1800 ))s
status=0
for r in "${runs[@]}"; do
  echo "soak.sh: go test ${race[*]} -run '$r' ./faults (MOQ_FAULTS=$size)" >&2
  go test "${race[@]}" -count=1 -v -timeout "$limit" -run "$r" ./faults 2>&1 | tee -a "$log" || status=1
done
echo
echo "== figures"
grep -h 'FIGURE ' "$log" | sed 's/.*FIGURE /  /' | awk '!seen[$0]++' || true
exit $status
