#!/usr/bin/env bash
# C/C++ test suite for libmoq_ffi: builds the library and the test programs
# in tests/c, starts `moq relay` instances on loopback, runs the programs
# against them, and stops the relays.
#
# Usage: scripts/ctest.sh [MODE...]
#   plain      every test program, linked against the shared library
#              (test_errors also against the static archive)
#   valgrind   memcheck (library built with -tags valgrind, GODEBUG
#              asyncpreemptoff=1, only the two Go-runtime suppressions in
#              tests/c/valgrind.supp); a representative subset unless
#              MOQ_CTEST_FULL=1. GOGC=off: with the garbage collector on,
#              Go's valgrind annotations can describe a reused block twice,
#              and memcheck's leak check then aborts ("Block overlaps").
#   asan       programs built with -fsanitize=address (LeakSanitizer on)
#   selftest   proves the harness fails: a deliberately leaking program must
#              be caught by valgrind and by ASan
# Default: plain valgrind asan selftest.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/go/bin:$PATH
ROOT=$PWD
MODES=("$@")
[ ${#MODES[@]} -gt 0 ] || MODES=(plain valgrind asan selftest)
FULL=${MOQ_CTEST_FULL:-0}

# --- tools (idempotent) ---
need=()
command -v gcc >/dev/null || need+=(gcc)
command -v g++ >/dev/null || need+=(g++)
command -v openssl >/dev/null || need+=(openssl) # signs test_jwt's tokens
for m in "${MODES[@]}"; do
  if [ "$m" = valgrind ] || [ "$m" = selftest ]; then command -v valgrind >/dev/null || need+=(valgrind); fi
done
if [ ${#need[@]} -gt 0 ]; then
  echo "ctest: installing ${need[*]}" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/moq-ctest.XXXXXX")
RELAY_PIDS=()
cleanup() {
  local pid
  for pid in "${RELAY_PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT

t_start=$(date +%s)
stamp() { echo "ctest: [$(( $(date +%s) - t_start ))s] $*" >&2; }

# --- build ---
stamp "building the library and the relay"
scripts/build-lib.sh build >/dev/null
go build -o build/bin/moq ./cmd/moq
for m in "${MODES[@]}"; do
  if [ "$m" = valgrind ] || [ "$m" = selftest ]; then
    # DWARF 4: valgrind 3.19 cannot read the Go linker's DWARF 5.
    GOEXPERIMENT=nodwarf5 scripts/build-lib.sh build/valgrind -tags valgrind >/dev/null
    break
  fi
done

CFLAGS=(-std=c11 -Wall -Wextra -Werror -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -g -O1 -Iinclude -Itests/c)
CXXFLAGS=(-std=c++17 -Wall -Wextra -Werror -g -O1 -Iinclude -Itests/c -Iexamples/cpp)
C_TESTS=(test_errors test_pubsub test_callbacks test_kill test_compat test_v03 test_reconnect test_token test_crossdraft test_jwt test_subscribed test_delivery)

# The README's "C in a few lines" program, exactly as written there: built
# with the tests and run against a relay (argv[1] is its URL).
awk '/^## C in a few lines/ { sec = 1 } sec && /^```c/ { inb = 1; next } inb && /^```/ { exit } inb { print }' \
  README.md >"$WORK/readme.c"
[ -s "$WORK/readme.c" ] || { echo "ctest: no C program under 'C in a few lines' in README.md" >&2; exit 1; }
CXX_TESTS=(test_cpp)

# build_tests LIBDIR OUTDIR [extra flags...]
build_tests() {
  local lib=$1 out=$2
  shift 2
  mkdir -p "$out"
  local t
  for t in "${C_TESTS[@]}"; do
    gcc "${CFLAGS[@]}" "$@" "tests/c/$t.c" -o "$out/$t" -L"$lib" -lmoq_ffi -Wl,-rpath,"$ROOT/$lib" -pthread
  done
  for t in "${CXX_TESTS[@]}"; do
    g++ "${CXXFLAGS[@]}" "$@" "tests/c/$t.cpp" -o "$out/$t" -L"$lib" -lmoq_ffi -Wl,-rpath,"$ROOT/$lib" -pthread
  done
  gcc "${CFLAGS[@]}" "$@" tests/c/test_leak.c -o "$out/test_leak" -L"$lib" -lmoq_ffi -Wl,-rpath,"$ROOT/$lib" -pthread
  gcc "${CFLAGS[@]}" "$@" "$WORK/readme.c" -o "$out/readme" -L"$lib" -lmoq_ffi -Wl,-rpath,"$ROOT/$lib" -pthread
}

# start_relay NAME [relay flags...]: sets RELAY_ADDR and RELAY_FP.
start_relay() {
  local name=$1
  shift
  build/bin/moq relay --listen 127.0.0.1:0 "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" &
  local pid=$!
  RELAY_PIDS+=("$pid")
  local deadline=$(( $(date +%s) + 20 ))
  until grep -q 'certificate SHA-256 fingerprint' "$WORK/$name.out" 2>/dev/null; do
    if ! kill -0 "$pid" 2>/dev/null || [ "$(date +%s)" -gt "$deadline" ]; then
      echo "ctest: relay $name did not start:" >&2
      cat "$WORK/$name.out" "$WORK/$name.err" >&2
      exit 1
    fi
    sleep 0.05
  done
  RELAY_ADDR=$(sed -n 's/^moq relay listening on \([^ ]*\) (UDP)$/\1/p' "$WORK/$name.out")
  RELAY_FP=$(sed -n 's/.*certificate SHA-256 fingerprint: \([0-9a-f]*\)$/\1/p' "$WORK/$name.out")
  [ -n "$RELAY_ADDR" ] && [ -n "$RELAY_FP" ] || { echo "ctest: cannot parse relay $name output" >&2; exit 1; }
}

stamp "starting relays"
start_relay cf
ADDR_CF=$RELAY_ADDR
FP_CF=$RELAY_FP
start_relay spec --draft07-layout 07
ADDR_SPEC=$RELAY_ADDR
FP_SPEC=$RELAY_FP
# A relay that takes draft-07 only: clients left on "auto" must fall back.
start_relay only07 --drafts 07
ADDR_07=$RELAY_ADDR
FP_07=$RELAY_FP
# A relay that admits only clients with its token in the URL.
TOKEN=t0k-$$-$RANDOM
echo "$TOKEN" >"$WORK/token"
start_relay token --token-file "$WORK/token"
ADDR_TOKEN=$RELAY_ADDR
FP_TOKEN=$RELAY_FP
# A relay that admits clients presenting a JWT signed with its HS256 secret;
# the tokens are signed here (openssl), one valid for an hour whose claims
# allow the namespace prefix "cjwt", one expired.
JWT_SECRET=jwt-$$-$RANDOM-0123456789abcdef0123456789abcdef
echo "$JWT_SECRET" >"$WORK/jwt.key"
b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
jwt_hs256() { # PAYLOAD-JSON
  local h p
  h=$(printf '%s' '{"alg":"HS256","typ":"JWT"}' | b64url)
  p=$(printf '%s' "$1" | b64url)
  printf '%s.%s.%s' "$h" "$p" "$(printf '%s.%s' "$h" "$p" | openssl dgst -sha256 -hmac "$JWT_SECRET" -binary | b64url)"
}
now=$(date +%s)
JWT_OK=$(jwt_hs256 "{\"exp\":$((now + 3600)),\"publish\":[\"cjwt\"],\"subscribe\":[\"cjwt\"]}")
JWT_EXPIRED=$(jwt_hs256 "{\"exp\":$((now - 60))}")
start_relay jwt --jwt-key "$WORK/jwt.key" --jwt-alg HS256
ADDR_JWT=$RELAY_ADDR
FP_JWT=$RELAY_FP
export MOQ_FFI_LOG=${MOQ_FFI_LOG:-error}
export MOQ_TEST_RELAY_BIN=$ROOT/build/bin/moq

FAILED=()
# run LABEL WRAPPER... -- PROGRAM: runs with the environment set by the caller.
run() {
  local label=$1
  shift
  local log="$WORK/run.log"
  local t0
  t0=$(date +%s)
  if "$@" >"$log" 2>&1; then
    stamp "ok   $label ($(( $(date +%s) - t0 ))s)"
  else
    stamp "FAIL $label (exit $?)"
    tail -n 60 "$log" >&2
    FAILED+=("$label")
  fi
}

# expect_out TEXT COMMAND...: runs COMMAND; fails unless it succeeds and its
# standard output contains TEXT (a program that exits 0 having printed
# nothing has not shown it works).
expect_out() {
  local want=$1 out
  shift
  out=$("$@") || { echo "$out"; return 1; }
  echo "$out"
  grep -qF -- "$want" <<<"$out" || { echo "ctest: output lacks \"$want\""; return 1; }
}

# suite PREFIX DIR WRAPPER...: the test matrix.
suite() {
  local prefix=$1 dir=$2
  shift 2
  local w=("$@")
  local u d
  MOQ_FFI_PIN_SHA256=$FP_CF MOQ_TEST_URL=https://$ADDR_CF/ \
    run "$prefix test_errors" "${w[@]}" "$dir/test_errors"
  for u in "https://$ADDR_CF/moq" "moqt://$ADDR_CF/"; do
    for d in 20 18 16 14 07cf; do
      MOQ_FFI_PIN_SHA256=$FP_CF MOQ_TEST_URL=$u MOQ_FFI_DRAFT=$d \
        run "$prefix test_pubsub $u draft $d" "${w[@]}" "$dir/test_pubsub"
    done
  done
  for u in "https://$ADDR_SPEC/" "moqt://$ADDR_SPEC/"; do
    MOQ_FFI_PIN_SHA256=$FP_SPEC MOQ_TEST_URL=$u MOQ_FFI_DRAFT=07 \
      run "$prefix test_pubsub $u draft 07" "${w[@]}" "$dir/test_pubsub"
  done
  MOQ_FFI_PIN_SHA256=$FP_CF MOQ_TEST_URL=https://$ADDR_CF/ \
    run "$prefix test_callbacks" "${w[@]}" "$dir/test_callbacks"
  MOQ_FFI_PIN_SHA256=$FP_CF MOQ_TEST_URL=moqt://$ADDR_CF/ MOQ_FFI_DRAFT=07cf \
    run "$prefix test_callbacks draft 07cf" "${w[@]}" "$dir/test_callbacks"
  MOQ_FFI_PIN_SHA256=$FP_CF MOQ_TEST_URL=https://$ADDR_CF/ \
    run "$prefix test_subscribed" "${w[@]}" "$dir/test_subscribed"
  MOQ_FFI_PIN_SHA256=$FP_CF MOQ_TEST_URL=moqt://$ADDR_CF/ MOQ_FFI_DRAFT=07cf \
    run "$prefix test_subscribed draft 07cf" "${w[@]}" "$dir/test_subscribed"
  MOQ_FFI_PIN_SHA256=$FP_CF run "$prefix README C program" expect_out "2 bytes: hi" "${w[@]}" "$dir/readme" "moqt://$ADDR_CF/"
  run "$prefix test_kill" "${w[@]}" "$dir/test_kill"
  run "$prefix test_reconnect" "${w[@]}" "$dir/test_reconnect"
  MOQ_FFI_PIN_SHA256=$FP_CF MOQ_TEST_URL=https://$ADDR_CF/ \
    run "$prefix test_cpp" "${w[@]}" "$dir/test_cpp"
  MOQ_FFI_PIN_SHA256=$FP_CF MOQ_TEST_URL=https://$ADDR_CF/ \
    run "$prefix test_compat" "${w[@]}" "$dir/test_compat"
  # No MOQ_FFI_DRAFT: the default (14, then 07) must fall back to draft-07.
  MOQ_FFI_PIN_SHA256=$FP_07 MOQ_TEST_URL=https://$ADDR_07/ \
    run "$prefix test_compat (auto falls back to draft-07)" "${w[@]}" "$dir/test_compat"
  MOQ_FFI_PIN_SHA256=$FP_TOKEN MOQ_TEST_ADDR=$ADDR_TOKEN MOQ_TEST_TOKEN=$TOKEN \
    run "$prefix test_token" "${w[@]}" "$dir/test_token"
  MOQ_FFI_PIN_SHA256=$FP_CF MOQ_TEST_ADDR=$ADDR_CF \
    run "$prefix test_crossdraft (20, 18, 16 <-> 14, 07cf)" "${w[@]}" "$dir/test_crossdraft"
  MOQ_FFI_PIN_SHA256=$FP_JWT MOQ_TEST_ADDR=$ADDR_JWT MOQ_TEST_JWT=$JWT_OK MOQ_TEST_JWT_EXPIRED=$JWT_EXPIRED \
    run "$prefix test_jwt" "${w[@]}" "$dir/test_jwt"
  MOQ_FFI_PIN_SHA256=$FP_CF MOQ_TEST_URL=https://$ADDR_CF/ MOQ_FFI_DRAFT=14 \
    run "$prefix test_v03 https draft 14" "${w[@]}" "$dir/test_v03"
  MOQ_FFI_PIN_SHA256=$FP_CF MOQ_TEST_URL=moqt://$ADDR_CF/ MOQ_FFI_DRAFT=07cf \
    run "$prefix test_v03 moqt draft 07cf" "${w[@]}" "$dir/test_v03"
  MOQ_FFI_PIN_SHA256=$FP_SPEC MOQ_TEST_URL=https://$ADDR_SPEC/ MOQ_FFI_DRAFT=07 \
    run "$prefix test_v03 https draft 07" "${w[@]}" "$dir/test_v03"
  MOQ_FFI_PIN_SHA256=$FP_CF MOQ_TEST_URL=https://$ADDR_CF/ \
    run "$prefix test_delivery" "${w[@]}" "$dir/test_delivery"
}

# The subset run under valgrind by default: every function, both drafts,
# both schemes, callbacks, session death.
valgrind_subset() {
  local dir=$1
  shift
  local w=("$@")
  MOQ_FFI_PIN_SHA256=$FP_CF MOQ_TEST_URL=https://$ADDR_CF/ \
    run "valgrind test_errors" "${w[@]}" "$dir/test_errors"
  MOQ_FFI_PIN_SHA256=$FP_CF MOQ_TEST_URL=https://$ADDR_CF/ MOQ_FFI_DRAFT=14 \
    run "valgrind test_pubsub https draft 14" "${w[@]}" "$dir/test_pubsub"
  MOQ_FFI_PIN_SHA256=$FP_CF MOQ_TEST_URL=moqt://$ADDR_CF/ MOQ_FFI_DRAFT=07cf \
    run "valgrind test_pubsub moqt draft 07cf" "${w[@]}" "$dir/test_pubsub"
  MOQ_FFI_PIN_SHA256=$FP_CF MOQ_TEST_URL=moqt://$ADDR_CF/ MOQ_FFI_DRAFT=16 \
    run "valgrind test_pubsub moqt draft 16" "${w[@]}" "$dir/test_pubsub"
  MOQ_FFI_PIN_SHA256=$FP_CF MOQ_TEST_URL=https://$ADDR_CF/ \
    run "valgrind test_callbacks" "${w[@]}" "$dir/test_callbacks"
  MOQ_FFI_PIN_SHA256=$FP_CF MOQ_TEST_URL=https://$ADDR_CF/ \
    run "valgrind test_subscribed" "${w[@]}" "$dir/test_subscribed"
  MOQ_FFI_PIN_SHA256=$FP_CF run "valgrind README C program" expect_out "2 bytes: hi" "${w[@]}" "$dir/readme" "moqt://$ADDR_CF/"
  run "valgrind test_kill" "${w[@]}" "$dir/test_kill"
  MOQ_FFI_PIN_SHA256=$FP_CF MOQ_TEST_URL=https://$ADDR_CF/ \
    run "valgrind test_cpp" "${w[@]}" "$dir/test_cpp"
  MOQ_FFI_PIN_SHA256=$FP_CF MOQ_TEST_URL=https://$ADDR_CF/ MOQ_FFI_DRAFT=14 \
    run "valgrind test_v03 https draft 14" "${w[@]}" "$dir/test_v03"
  run "valgrind test_reconnect" "${w[@]}" "$dir/test_reconnect"
  MOQ_FFI_PIN_SHA256=$FP_CF MOQ_TEST_URL=https://$ADDR_CF/ \
    run "valgrind test_delivery" "${w[@]}" "$dir/test_delivery"
}

VG=(valgrind --tool=memcheck --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect,possible
    --errors-for-leak-kinds=definite,indirect,possible --suppressions="$ROOT/tests/c/valgrind.supp" --quiet
    --trace-children=no)

for mode in "${MODES[@]}"; do
  case $mode in
  plain)
    stamp "== plain"
    build_tests build/lib build/ctest/plain
    # The static archive links and works too.
    gcc "${CFLAGS[@]}" tests/c/test_errors.c -o build/ctest/plain/test_errors_static build/lib/libmoq_ffi.a -pthread -lm -ldl -lresolv
    MOQ_FFI_PIN_SHA256=$FP_CF MOQ_TEST_URL=https://$ADDR_CF/ run "plain test_errors (static)" build/ctest/plain/test_errors_static
    # A consumer that knows only pkg-config builds against build/ (the compatibility test: old header only).
    command -v pkg-config >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pkg-config; }
    pc=$(PKG_CONFIG_PATH=build/lib/pkgconfig pkg-config --cflags --libs moq_ffi)
    # shellcheck disable=SC2086
    gcc -std=c11 -Wall -Wextra -Werror -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Itests/c tests/c/test_compat.c \
      -o build/ctest/plain/test_compat_pc $pc -Wl,-rpath,"$ROOT/build/lib" -pthread
    MOQ_FFI_PIN_SHA256=$FP_CF MOQ_TEST_URL=https://$ADDR_CF/ run "plain test_compat (built with pkg-config)" build/ctest/plain/test_compat_pc
    suite plain build/ctest/plain env
    ;;
  asan)
    stamp "== asan"
    build_tests build/lib build/ctest/asan -fsanitize=address -fno-omit-frame-pointer
    suite asan build/ctest/asan env ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=98 MOQ_TEST_SLOW=2
    ;;
  valgrind)
    stamp "== valgrind"
    build_tests build/valgrind/lib build/ctest/valgrind
    if [ "$FULL" = 1 ]; then
      suite valgrind build/ctest/valgrind env GODEBUG=asyncpreemptoff=1 GOGC=off MOQ_TEST_SLOW=10 "${VG[@]}"
    else
      valgrind_subset build/ctest/valgrind env GODEBUG=asyncpreemptoff=1 GOGC=off MOQ_TEST_SLOW=10 "${VG[@]}"
    fi
    ;;
  selftest)
    stamp "== selftest: the harness must catch a deliberate leak"
    [ -x build/ctest/valgrind/test_leak ] || build_tests build/valgrind/lib build/ctest/valgrind
    [ -x build/ctest/asan/test_leak ] || build_tests build/lib build/ctest/asan -fsanitize=address -fno-omit-frame-pointer
    if env GODEBUG=asyncpreemptoff=1 GOGC=off "${VG[@]}" build/ctest/valgrind/test_leak >"$WORK/leak.log" 2>&1; then
      stamp "FAIL selftest: valgrind did not report the deliberate leak"
      cat "$WORK/leak.log" >&2
      FAILED+=("selftest valgrind")
    elif grep -q 'definitely lost' "$WORK/leak.log" && grep -q test_leak.c "$WORK/leak.log"; then
      stamp "ok   selftest: valgrind caught the leak"
    else
      stamp "FAIL selftest: valgrind failed for another reason"
      cat "$WORK/leak.log" >&2
      FAILED+=("selftest valgrind")
    fi
    if env ASAN_OPTIONS=detect_leaks=1:exitcode=98 build/ctest/asan/test_leak >"$WORK/leak.log" 2>&1; then
      stamp "FAIL selftest: ASan did not report the deliberate leak"
      cat "$WORK/leak.log" >&2
      FAILED+=("selftest asan")
    elif grep -q 'LeakSanitizer: detected memory leaks' "$WORK/leak.log"; then
      stamp "ok   selftest: ASan caught the leak"
    else
      stamp "FAIL selftest: ASan failed for another reason"
      cat "$WORK/leak.log" >&2
      FAILED+=("selftest asan")
    fi
    ;;
  *)
    echo "ctest: unknown mode $mode (plain, valgrind, asan, selftest)" >&2
    exit 2
    ;;
  esac
done

if [ ${#FAILED[@]} -gt 0 ]; then
  stamp "${#FAILED[@]} failed:"
  printf '  %s\n' "${FAILED[@]}" >&2
  exit 1
fi
stamp "all passed (${MODES[*]})"
