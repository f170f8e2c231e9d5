#!/usr/bin/env bash
# Runs every Go fuzz target of the module for a while each.
#
#   scripts/fuzz.sh TIME JOBS [PARALLEL]
#
# TIME is go test's -fuzztime (20s, 1m, or a count such as 100000x), JOBS how
# many targets run at once, PARALLEL the workers per target (go test
# -parallel; default: go's own, one per core).
#
# A target fails when go test fails, with one exception: Go 1.26's fuzzing
# coordinator can report its own -fuzztime deadline as a failure when a worker
# is still busy at that instant (golang/go#75804, fixed in Go 1.27). That
# failure prints "context deadline exceeded" as the whole of the failure and
# writes no failing input. Only then, and only when replaying the target's
# corpus (seeds and testdata/fuzz) passes, the run counts as passed and says
# so. Any failure that wrote an input, panicked, or printed anything else
# fails the target, as does a failing replay.
set -euo pipefail
cd "$(dirname "$0")/.."

time=${1:?usage: scripts/fuzz.sh TIME JOBS [PARALLEL]}
jobs=${2:?usage: scripts/fuzz.sh TIME JOBS [PARALLEL]}
parallel=${3:-}
GO=${GO:-go}

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

for pkg in $($GO list ./...); do
	for f in $($GO test -list '^Fuzz' "$pkg" | grep '^Fuzz' || true); do
		echo "$pkg $f"
	done
done >"$dir/targets"
echo "fuzz: $(wc -l <"$dir/targets") targets, $time each, $jobs at a time"

# one_target PKG TARGET: runs one target; prints one line, and the output
# when it failed.
one_target() {
	local pkg=$1 target=$2 out rc=0
	out=$(mktemp)
	local args=(-run '^$' -fuzz "^${target}\$" -fuzztime "$time")
	[ -n "$parallel" ] && args+=(-parallel "$parallel")
	$GO test "${args[@]}" "$pkg" >"$out" 2>&1 || rc=$?
	if [ $rc -eq 0 ]; then
		echo "ok   $pkg $target"
		rm -f "$out"
		return 0
	fi
	# The coordinator's deadline race: the failure's only line is the
	# deadline, and no failing input was written.
	local failure
	failure=$(sed -n "/^--- FAIL: ${target} /,/^FAIL\$/p" "$out" | sed '1d;$d' | sed 's/^[[:space:]]*//')
	if [ "$failure" = "context deadline exceeded" ] &&
		! grep -q -e 'Failing input written' -e '^panic:' -e 'fuzzing process hung' "$out"; then
		if $GO test -run "^${target}\$" -count=1 "$pkg" >>"$out" 2>&1; then
			echo "ok   $pkg $target (go test reported its own -fuzztime deadline as a failure, golang/go#75804; no failing input; the corpus replays clean)"
			rm -f "$out"
			return 0
		fi
	fi
	echo "FAIL $pkg $target"
	cat "$out"
	rm -f "$out"
	return 1
}
export -f one_target
export GO time parallel

xargs -P "$jobs" -L 1 bash -c 'one_target "$0" "$1"' <"$dir/targets"
