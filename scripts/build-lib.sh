#!/usr/bin/env bash
# Builds the C library into OUT (default build): OUT/lib/libmoq_ffi.so.VERSION
# (soname libmoq_ffi.so.0, with the libmoq_ffi.so.0 and libmoq_ffi.so links),
# OUT/lib/libmoq_ffi.a, OUT/include/moq_ffi.h and OUT/lib/pkgconfig/moq_ffi.pc.
# Usage: scripts/build-lib.sh [OUT] [extra go build flags, e.g. -tags valgrind]
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/go/bin:$PATH
VERSION=0.6.0
OUT=${1:-build}
shift || true
mkdir -p "$OUT/lib/pkgconfig" "$OUT/include"
so=libmoq_ffi.so.$VERSION
go build -trimpath "$@" -buildmode=c-shared \
  -ldflags="-extldflags=-Wl,-soname,libmoq_ffi.so.0,--version-script=$PWD/capi/exports.map" \
  -o "$OUT/lib/$so" ./capi
ln -sf "$so" "$OUT/lib/libmoq_ffi.so.0"
ln -sf libmoq_ffi.so.0 "$OUT/lib/libmoq_ffi.so"
go build -trimpath "$@" -buildmode=c-archive -o "$OUT/lib/libmoq_ffi.a" ./capi
# cgo writes its own headers next to the outputs; ours is the public one.
rm -f "$OUT/lib/libmoq_ffi.h" "$OUT/lib/"*.so.*.h
cp include/moq_ffi.h "$OUT/include/moq_ffi.h"
cat > "$OUT/lib/pkgconfig/moq_ffi.pc" <<PC
prefix=\${pcfiledir}/../..
libdir=\${prefix}/lib
includedir=\${prefix}/include

Name: moq_ffi
Description: Media over QUIC Transport (MoQT) client library, C API
Version: $VERSION
Cflags: -I\${includedir}
Libs: -L\${libdir} -lmoq_ffi
Libs.private: -pthread -lm -ldl -lresolv
PC
