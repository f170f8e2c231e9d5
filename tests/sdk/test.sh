#!/usr/bin/env bash
# Tests the Linux SDK tarball as a user would use it: unpacks it into a fresh
# temporary directory and builds tests/sdk/consumer/main.c against it
#   - with CMake: find_package(moq_ffi) via CMAKE_PREFIX_PATH, linking
#     moq_ffi::moq_ffi (shared; runs through the RPATH CMake gives build-tree
#     binaries, without LD_LIBRARY_PATH) and moq_ffi::moq_ffi_static;
#   - with pkg-config: PKG_CONFIG_PATH=<sdk>/lib/pkgconfig, shared (run with
#     LD_LIBRARY_PATH=<sdk>/lib) and static (the archive from the pc libdir);
# runs each program and checks its output, and checks with ldd that the
# shared builds load libmoq_ffi from the unpacked SDK and the static builds do
# not load it at all. LD_LIBRARY_PATH from the caller is ignored. Also checks
# the tarball's layout, the soname links, that no text file names the build
# tree, and that the CMake version check refuses an incompatible version.
# Installs cmake (and pkg-config, gcc) with apt-get when missing.
# Usage: tests/sdk/test.sh [TARBALL (default dist/moq-ffi-sdk-linux-x64.tar.gz)]
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
TARBALL=${1:-dist/moq-ffi-sdk-linux-x64.tar.gz}
[ -f "$TARBALL" ] || { echo "test-sdk: $TARBALL not found (run 'make sdk')" >&2; exit 1; }
TARBALL=$(realpath "$TARBALL")
NAME=$(basename "$TARBALL" .tar.gz)

need=()
command -v cmake >/dev/null || need+=(cmake)
command -v pkg-config >/dev/null || need+=(pkg-config)
command -v gcc >/dev/null || need+=(gcc)
if [ ${#need[@]} -gt 0 ]; then
  echo "test-sdk: installing ${need[*]}"
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${need[@]}"
fi

unset LD_LIBRARY_PATH PKG_CONFIG_PATH CMAKE_PREFIX_PATH moq_ffi_DIR
tmp=$(mktemp -d "${TMPDIR:-/tmp}/moq-sdk-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
tmp=$(realpath "$tmp")
sdk=$tmp/$NAME

pass=0
fail=0
ok() { echo "PASS: $*"; pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }
expect() { if eval "$1"; then ok "$2"; else bad "$2"; fi; }

# ---- layout ----
listing=$(tar -tzf "$TARBALL")
missing=()
for f in include/moq_ffi.h lib/libmoq_ffi.so lib/libmoq_ffi.so.0 lib/libmoq_ffi.a \
  lib/pkgconfig/moq_ffi.pc lib/cmake/moq_ffi/moq_ffiConfig.cmake \
  lib/cmake/moq_ffi/moq_ffiConfigVersion.cmake README LICENSE; do
  grep -qx "$NAME/$f" <<<"$listing" || missing+=("$f")
done
expect '[ ${#missing[@]} -eq 0 ]' "tarball has every SDK file${missing:+ (missing: ${missing[*]})}"
expect '! grep -qv "^$NAME/" <<<"$listing"' "every entry is under $NAME/"

tar -xzf "$TARBALL" -C "$tmp"
real_so=$(cd "$sdk/lib" && ls libmoq_ffi.so.*.*.* 2>/dev/null | head -n1)
expect '[ -n "$real_so" ] && [ -f "$sdk/lib/$real_so" ] && [ ! -L "$sdk/lib/$real_so" ]' \
  "lib/libmoq_ffi.so.X.Y.Z is a regular file ($real_so)"
expect '[ -L "$sdk/lib/libmoq_ffi.so.0" ] && [ "$(readlink "$sdk/lib/libmoq_ffi.so.0")" = "$real_so" ]' \
  "lib/libmoq_ffi.so.0 is a symlink to $real_so"
expect '[ -L "$sdk/lib/libmoq_ffi.so" ] && [ "$(readlink "$sdk/lib/libmoq_ffi.so")" = libmoq_ffi.so.0 ]' \
  "lib/libmoq_ffi.so is a symlink to libmoq_ffi.so.0"
expect '! grep -rIl -e "$repo" "$sdk" >/dev/null' "no text file in the SDK names the build tree ($repo)"
expect 'grep -q "Copyright (c) 2026 The moq-ffi-go authors" "$sdk/LICENSE"' "LICENSE is the project's MIT licence"

export PKG_CONFIG_PATH=$sdk/lib/pkgconfig
VERSION=$(pkg-config --modversion moq_ffi)
expect '[ "$(realpath "$(pkg-config --variable=prefix moq_ffi)")" = "$sdk" ]' \
  "pkg-config prefix resolves to the unpacked SDK"

# run_check LABEL BINARY [ENV...]: runs the consumer and checks its output.
run_check() {
  local label=$1 bin=$2 out rc=0
  shift 2
  out=$(env "$@" "$bin" 2>&1) || rc=$?
  if [ $rc -eq 0 ] && grep -qx "consumer: OK" <<<"$out" &&
    grep -qx "version: moq_ffi $VERSION (.*)" <<<"$out" && ! grep -q '^FAIL' <<<"$out"; then
    ok "$label runs and passes its checks ($(grep '^version:' <<<"$out"))"
  else
    bad "$label (exit $rc):"
    sed 's/^/    /' <<<"$out"
  fi
}

# ldd_from_sdk LABEL BINARY [ENV...]: libmoq_ffi.so.0 resolves into $sdk/lib.
ldd_from_sdk() {
  local label=$1 bin=$2 path
  shift 2
  path=$(env "$@" ldd "$bin" | awk '$1 == "libmoq_ffi.so.0" { print $3 }')
  if [ -n "$path" ] && [ -e "$path" ] && [ "$(dirname "$(realpath "$path")")" = "$sdk/lib" ]; then
    ok "$label loads libmoq_ffi.so.0 from the SDK ($path)"
  else
    bad "$label: libmoq_ffi.so.0 resolves to '${path:-nothing}', not into $sdk/lib"
    env "$@" ldd "$bin" | sed 's/^/    /'
  fi
}

# ldd_none LABEL BINARY: a static build does not load libmoq_ffi at all.
ldd_none() {
  if ldd "$2" | grep -q libmoq_ffi; then bad "$1 loads libmoq_ffi although linked statically"; else
    ok "$1 does not load libmoq_ffi (static)"; fi
}

# ---- CMake ----
cb=$tmp/cmake-build
if cmake -S tests/sdk/consumer -B "$cb" -DCMAKE_PREFIX_PATH="$sdk" -DCMAKE_BUILD_TYPE=Release \
  >"$tmp/cmake-configure.log" 2>&1; then
  ok "cmake configure: find_package(moq_ffi 0.2 REQUIRED) with CMAKE_PREFIX_PATH=<sdk>"
  found=$(sed -n 's/^moq_ffi_DIR:[A-Z]*=//p' "$cb/CMakeCache.txt")
  expect '[ "$(realpath "$found")" = "$sdk/lib/cmake/moq_ffi" ]' "CMake found the package in the SDK ($found)"
  expect 'grep -qF "moq_ffi::moq_ffi_static INTERFACE_LINK_LIBRARIES: -pthread;-lm;-ldl;-lresolv" "$tmp/cmake-configure.log"' \
    "moq_ffi::moq_ffi_static brings -pthread -lm -ldl -lresolv"
  if cmake --build "$cb" >"$tmp/cmake-build.log" 2>&1; then
    ok "cmake build of app (moq_ffi::moq_ffi) and app_static (moq_ffi::moq_ffi_static)"
    expect 'readelf -d "$cb/app" | grep -E "R(UN)?PATH" | grep -qF "$sdk/lib"' \
      "cmake app has an RPATH to the SDK's lib/"
    run_check "cmake app (shared, RPATH, no LD_LIBRARY_PATH)" "$cb/app"
    ldd_from_sdk "cmake app" "$cb/app"
    run_check "cmake app_static" "$cb/app_static"
    ldd_none "cmake app_static" "$cb/app_static"
  else
    bad "cmake build"; sed 's/^/    /' "$tmp/cmake-build.log"
  fi
else
  bad "cmake configure"; sed 's/^/    /' "$tmp/cmake-configure.log"
fi

# The version file: an older minor of the same major is accepted, 1.0 refused.
if cmake -S tests/sdk/consumer -B "$tmp/cmake-v01" -DCMAKE_PREFIX_PATH="$sdk" -DMOQ_FFI_WANT=0.1 \
  >"$tmp/v01.log" 2>&1; then ok "find_package(moq_ffi 0.1) accepts $VERSION"; else
  bad "find_package(moq_ffi 0.1) refused $VERSION"; sed 's/^/    /' "$tmp/v01.log"; fi
if cmake -S tests/sdk/consumer -B "$tmp/cmake-v10" -DCMAKE_PREFIX_PATH="$sdk" -DMOQ_FFI_WANT=1.0 \
  >"$tmp/v10.log" 2>&1; then bad "find_package(moq_ffi 1.0) accepted $VERSION"; else
  expect 'grep -qF "$VERSION" "$tmp/v10.log"' "find_package(moq_ffi 1.0) is refused, naming version $VERSION"; fi

# ---- pkg-config ----
pb=$tmp/pkgconfig-build
mkdir -p "$pb"
CFLAGS=(-std=c11 -Wall -Wextra -Werror)
# shellcheck disable=SC2046 # word splitting of pkg-config output is intended
if gcc "${CFLAGS[@]}" tests/sdk/consumer/main.c $(pkg-config --cflags --libs moq_ffi) -o "$pb/app" \
  >"$tmp/pc.log" 2>&1; then
  ok "gcc \$(pkg-config --cflags --libs moq_ffi) builds app"
  run_check "pkg-config app (shared, LD_LIBRARY_PATH=<sdk>/lib)" "$pb/app" LD_LIBRARY_PATH="$sdk/lib"
  ldd_from_sdk "pkg-config app" "$pb/app" LD_LIBRARY_PATH="$sdk/lib"
else
  bad "pkg-config shared build"; sed 's/^/    /' "$tmp/pc.log"
fi
# shellcheck disable=SC2046
if gcc "${CFLAGS[@]}" tests/sdk/consumer/main.c $(pkg-config --cflags moq_ffi) \
  "$(pkg-config --variable=libdir moq_ffi)/libmoq_ffi.a" -pthread -lm -ldl -lresolv -o "$pb/app_static" >"$tmp/pcs.log" 2>&1; then
  ok "gcc with the archive from pkg-config's libdir builds app_static"
  run_check "pkg-config app_static" "$pb/app_static"
  ldd_none "pkg-config app_static" "$pb/app_static"
else
  bad "pkg-config static build"; sed 's/^/    /' "$tmp/pcs.log"
fi

echo "test-sdk: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
