#!/usr/bin/env bash
# Packs the C library built by scripts/build-lib.sh into a relocatable Linux SDK:
#   DIST/moq-ffi-sdk-linux-<arch>.tar.gz (+ .sha256) holding moq-ffi-sdk-linux-<arch>/
#     include/moq_ffi.h
#     lib/libmoq_ffi.so.VERSION, lib/libmoq_ffi.so.MAJOR -> ..., lib/libmoq_ffi.so -> ...
#     lib/libmoq_ffi.a
#     lib/pkgconfig/moq_ffi.pc                     (prefix=${pcfiledir}/../..)
#     lib/cmake/moq_ffi/moq_ffiConfig.cmake        (paths from its own location)
#     lib/cmake/moq_ffi/moq_ffiConfigVersion.cmake
#     README, LICENSE
# <arch> is x64 on x86_64 (arm64 on aarch64). The archive is reproducible: sorted
# entries, owner 0:0, fixed permissions, mtime SOURCE_DATE_EPOCH (default: the
# last commit's time).
# Usage: scripts/sdk.sh [BUILD (default build)] [DIST (default dist)]
# Run `make lib` (scripts/build-lib.sh) first; `make sdk` does both.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
DIST=${2:-dist}

die() { echo "sdk: $*" >&2; exit 1; }

case "$(uname -m)" in
  x86_64) arch=x64 ;;
  aarch64) arch=arm64 ;;
  *) die "unsupported machine $(uname -m) (expected x86_64 or aarch64)" ;;
esac
NAME=moq-ffi-sdk-linux-$arch

pc=$BUILD/lib/pkgconfig/moq_ffi.pc
[ -f "$pc" ] || die "$pc not found: run 'make lib' first"
VERSION=$(sed -n 's/^Version: *//p' "$pc")
[[ $VERSION =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "$pc: bad or missing Version line ('$VERSION')"
MAJOR=${VERSION%%.*}
MAJMIN=${VERSION%.*}
so=libmoq_ffi.so.$VERSION

for f in "$BUILD/include/moq_ffi.h" "$BUILD/lib/$so" "$BUILD/lib/libmoq_ffi.a" LICENSE \
  cmake/moq_ffiConfig.cmake.in cmake/moq_ffiConfigVersion.cmake.in; do
  [ -f "$f" ] || die "$f not found (run 'make lib' first)"
done
grep -q '^prefix=${pcfiledir}/' "$pc" || die "$pc is not relocatable (prefix must start with \${pcfiledir})"
if command -v readelf >/dev/null; then
  soname=$(readelf -d "$BUILD/lib/$so" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
  [ "$soname" = "libmoq_ffi.so.$MAJOR" ] || die "$BUILD/lib/$so has soname '$soname', expected libmoq_ffi.so.$MAJOR"
fi

mkdir -p "$DIST"
stage=$(mktemp -d "$DIST/.sdk-stage.XXXXXX")
trap 'rm -rf "$stage"' EXIT
root=$stage/$NAME
mkdir -p "$root/include" "$root/lib/pkgconfig" "$root/lib/cmake/moq_ffi"

install -m 0644 "$BUILD/include/moq_ffi.h" "$root/include/moq_ffi.h"
install -m 0755 "$BUILD/lib/$so" "$root/lib/$so"
ln -s "$so" "$root/lib/libmoq_ffi.so.$MAJOR"
ln -s "libmoq_ffi.so.$MAJOR" "$root/lib/libmoq_ffi.so"
install -m 0644 "$BUILD/lib/libmoq_ffi.a" "$root/lib/libmoq_ffi.a"
install -m 0644 "$pc" "$root/lib/pkgconfig/moq_ffi.pc"
install -m 0644 LICENSE "$root/LICENSE"

subst() {
  sed -e "s/@MOQ_FFI_VERSION@/$VERSION/g" \
      -e "s/@MOQ_FFI_VERSION_MAJOR_MINOR@/$MAJMIN/g" \
      -e "s/@MOQ_FFI_SOVERSION@/$MAJOR/g" \
      -e "s/@MOQ_FFI_SHARED_FILE@/$so/g" "$1" > "$2"
  if grep -n '@MOQ_FFI_[A-Z_]*@' "$2"; then die "$1: unknown placeholder left in $2"; fi
  chmod 0644 "$2"
}
subst cmake/moq_ffiConfig.cmake.in "$root/lib/cmake/moq_ffi/moq_ffiConfig.cmake"
subst cmake/moq_ffiConfigVersion.cmake.in "$root/lib/cmake/moq_ffi/moq_ffiConfigVersion.cmake"

# The ENVIRONMENT section of the header, without the comment decoration, so
# the README always lists the variables the shipped header documents.
env_doc=$(awk '
  /^ \* ENVIRONMENT/ { on = 1 }
  !on { next }
  /^ \* -----/ { if (++dashes == 2) exit; next }
  { line = $0; sub(/^ \* ?/, "", line) }
  dashes == 0 { intro = intro (intro == "" ? "" : "\n") line; next }
  line ~ /^[ \t]*$/ { next }
  {
    if (intro != "") {
      sub(/^ENVIRONMENT *\(/, "", intro); sub(/\) *$/, ".", intro)
      print toupper(substr(intro, 1, 1)) substr(intro, 2); print ""; intro = ""
    }
    print line
  }
' "$root/include/moq_ffi.h")
grep -q MOQ_FFI_PIN_SHA256 <<<"$env_doc" || die "could not extract the ENVIRONMENT section of moq_ffi.h"

title="moq_ffi $VERSION SDK for Linux $(uname -m)"
cat > "$root/README" <<EOF
$title
${title//?/=}

moq_ffi is a Media over QUIC Transport (MoQT) client library with a C API
(drafts 07 and 14, over WebTransport "https://" and raw QUIC "moqt://"). It
is written in Go and contains the Go runtime; it needs nothing but glibc.

Contents
--------
$(printf '  %-40s %s\n' \
  include/moq_ffi.h "the API and its manual (read it)" \
  "lib/$so" "the shared library (soname libmoq_ffi.so.$MAJOR)" \
  "lib/libmoq_ffi.so.$MAJOR, lib/libmoq_ffi.so" "symbolic links to it" \
  lib/libmoq_ffi.a "the static archive" \
  lib/pkgconfig/moq_ffi.pc "pkg-config file" \
  lib/cmake/moq_ffi/ "CMake package (moq_ffiConfig.cmake)" \
  README "this file" \
  LICENSE "MIT")

The directory is relocatable: unpack it anywhere. The pkg-config and CMake
files find everything relative to their own location.

CMake (3.11 or newer)
---------------------
  find_package(moq_ffi $MAJMIN REQUIRED)
  add_executable(app main.c)
  target_link_libraries(app PRIVATE moq_ffi::moq_ffi)          # shared
  # or:  target_link_libraries(app PRIVATE moq_ffi::moq_ffi_static)   # static

  cmake -S . -B build -DCMAKE_PREFIX_PATH=/path/to/$NAME
  cmake --build build

moq_ffi::moq_ffi is the shared library; moq_ffi::moq_ffi_static is the static
archive and brings the system libraries it needs (-pthread -lm -ldl -lresolv).
Both set the include directory. In the build tree CMake gives the program an
RPATH to this SDK's lib/ directory. To deploy a program, ship $so with
the libmoq_ffi.so.$MAJOR link (the name programs load) next to it, for example in
../lib relative to the program linked with RPATH '\$ORIGIN/../lib'; or link
statically.

pkg-config
----------
  export PKG_CONFIG_PATH=/path/to/$NAME/lib/pkgconfig
  cc main.c \$(pkg-config --cflags --libs moq_ffi) -o app
  LD_LIBRARY_PATH=/path/to/$NAME/lib ./app      # or link with -Wl,-rpath,...

Static, with pkg-config:
  cc main.c \$(pkg-config --cflags moq_ffi) \\
     "\$(pkg-config --variable=libdir moq_ffi)/libmoq_ffi.a" -pthread -lm -ldl -lresolv -o app

Plain compiler flags:
  cc main.c -I/path/to/$NAME/include -L/path/to/$NAME/lib -lmoq_ffi \\
     -Wl,-rpath,/path/to/$NAME/lib -o app

Notes
-----
- Only one library built with Go may be loaded in a process. Host signal
  handlers must be installed with SA_ONSTACK (see PROCESS-WIDE NOTES in
  moq_ffi.h).
- Callbacks run on library threads: make the host thread-safe accordingly.
- TLS: the server certificate is verified against the system roots (or
  SSL_CERT_FILE / SSL_CERT_DIR); MOQ_FFI_CA_FILE adds roots and
  MOQ_FFI_PIN_SHA256 pins a self-signed relay certificate (see below).

Environment variables (from moq_ffi.h)
--------------------------------------
$env_doc

License
-------
MIT, see LICENSE.
EOF
chmod 0644 "$root/README"

# Reproducible archive.
epoch=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}
find "$root" -type d -exec chmod 0755 {} +
out=$DIST/$NAME.tar.gz
tar --sort=name --mtime="@$epoch" --owner=0 --group=0 --numeric-owner \
  -C "$stage" -cf - "$NAME" | gzip -n -9 > "$out.tmp"
mv "$out.tmp" "$out"
(cd "$DIST" && sha256sum "$NAME.tar.gz" > "$NAME.tar.gz.sha256")
echo "sdk: wrote $out ($(du -h "$out" | cut -f1), moq_ffi $VERSION)"
tar -tvzf "$out"
