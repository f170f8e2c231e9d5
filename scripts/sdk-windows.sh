#!/usr/bin/env bash
# Cross-compiles moq_ffi.dll for Windows x64 with Debian's MinGW-w64 and
# packages it:
#   build/windows/                     the build: moq_ffi.dll, moq_ffi.def,
#                                      libmoq_ffi.dll.a (MinGW import library),
#                                      moq_ffi.lib (MSVC-linkable import library)
#   dist/moq-ffi-sdk-windows-x64.zip   include/moq_ffi.h, bin/moq_ffi.dll,
#                                      lib/Win64/Release/{moq_ffi.lib,libmoq_ffi.dll.a,moq_ffi.def}
#   dist/moq-ffi-plugin-windows-x64.zip  Unreal ThirdParty layout:
#                                      ThirdParty/moq_ffi/{include, lib/Win64/Release, bin/Win64/Release}
# The DLL must export exactly the functions listed in capi/exports.map (the
# script fails otherwise) and import nothing beyond KERNEL32.dll and msvcrt.dll.
# Installs gcc-mingw-w64-x86-64 (and zip) with apt-get when missing.
# Usage: scripts/sdk-windows.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/go/bin:$PATH
export TZ=UTC # zip stores local times
ROOT=$PWD
VERSION=$(sed -n 's/^VERSION=//p' scripts/build-lib.sh)
[ -n "$VERSION" ] || { echo "sdk-windows: cannot read VERSION from scripts/build-lib.sh" >&2; exit 1; }
CC=x86_64-w64-mingw32-gcc
DLLTOOL=x86_64-w64-mingw32-dlltool
OBJDUMP=x86_64-w64-mingw32-objdump

need=()
command -v "$CC" >/dev/null || need+=(gcc-mingw-w64-x86-64)
command -v "$DLLTOOL" >/dev/null || need+=(binutils-mingw-w64-x86-64)
command -v zip >/dev/null || need+=(zip)
if [ ${#need[@]} -gt 0 ]; then
  echo "sdk-windows: installing ${need[*]}" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

OUT=build/windows
rm -rf "$OUT"
mkdir -p "$OUT" dist

# The exports, from the Linux version script (one source of truth), which
# must list every MOQ_API function of the header.
mapfile -t EXPORTS < <(sed -n '/global:/,/local:/p' capi/exports.map | tr ' ;' '\n\n' | grep '^moq_' | sort)
NEXP=$(grep -c '^MOQ_API' include/moq_ffi.h)
[ ${#EXPORTS[@]} -eq "$NEXP" ] || { echo "sdk-windows: capi/exports.map lists ${#EXPORTS[@]} exports, the header declares $NEXP" >&2; exit 1; }
{
  echo "LIBRARY moq_ffi.dll"
  echo "EXPORTS"
  printf '    %s\n' "${EXPORTS[@]}"
} >"$OUT/moq_ffi.def"

# capi/build_windows.go adds -DMOQ_FFI_EXPORTS and -static-libgcc. Go's
# linker passes MinGW ld a .def of the //export'd functions; the three C
# exports in bridge.c are __declspec(dllexport). --out-implib writes the
# MinGW import library. -s -w: no symbol table or DWARF (release DLL).
echo "sdk-windows: building $OUT/moq_ffi.dll (moq_ffi $VERSION)" >&2
GOOS=windows GOARCH=amd64 CGO_ENABLED=1 CC=$CC \
  go build -trimpath -buildmode=c-shared \
  -ldflags="-s -w -extldflags=-Wl,--out-implib,$ROOT/$OUT/libmoq_ffi.dll.a" \
  -o "$OUT/moq_ffi.dll" ./capi
rm -f "$OUT/moq_ffi.h" # cgo's generated header; ours is include/moq_ffi.h

# MSVC-linkable import library from the .def (binutils dlltool writes a COFF
# archive with import stubs and __imp_ symbols, which link.exe accepts).
"$DLLTOOL" -m i386:x86-64 -d "$OUT/moq_ffi.def" -D moq_ffi.dll -l "$OUT/moq_ffi.lib"

# Check the export and import tables.
dump=$("$OBJDUMP" -p "$OUT/moq_ffi.dll")
mapfile -t GOT < <(sed -n '/\[Ordinal\/Name Pointer\] Table/,/^$/p' <<<"$dump" | sed -n 's/^\s*\[ *[0-9]*\] //p' | sort)
if [ "${GOT[*]}" != "${EXPORTS[*]}" ]; then
  echo "sdk-windows: moq_ffi.dll exports differ from capi/exports.map:" >&2
  diff <(printf '%s\n' "${EXPORTS[@]}") <(printf '%s\n' "${GOT[@]}") >&2 || true
  exit 1
fi
mapfile -t DLLS < <(sed -n 's/^\s*DLL Name: //p' <<<"$dump" | sort -f)
for d in "${DLLS[@]}"; do
  case "${d,,}" in
    kernel32.dll | msvcrt.dll) ;;
    *) echo "sdk-windows: moq_ffi.dll imports an unexpected DLL: $d" >&2; exit 1 ;;
  esac
done
echo "sdk-windows: moq_ffi.dll exports ${#GOT[@]} functions, imports ${DLLS[*]}" >&2

# Import libraries must define __imp_ symbols for every export.
for lib in libmoq_ffi.dll.a moq_ffi.lib; do
  n=$(x86_64-w64-mingw32-nm "$OUT/$lib" 2>/dev/null | grep -c ' I __imp_moq_' || true)
  [ "$n" -eq "$NEXP" ] || { echo "sdk-windows: $lib defines $n __imp_moq_* symbols, want $NEXP" >&2; exit 1; }
done

README=$(
  cat <<TXT
moq_ffi $VERSION for Windows x64 (MoQ Transport client library, C API)

include/moq_ffi.h is the manual. Link against the import library and ship
moq_ffi.dll next to the executable:
  MSVC:    moq_ffi.lib          (cl app.c /I include lib\\Win64\\Release\\moq_ffi.lib)
  MinGW:   libmoq_ffi.dll.a     (gcc app.c -Iinclude -Llib/Win64/Release -lmoq_ffi)
  moq_ffi.def lists the exports (lib.exe /def:moq_ffi.def /machine:x64 rebuilds the .lib).
moq_ffi.dll depends only on KERNEL32.dll and msvcrt.dll. Built with Go and
MinGW-w64; no debug symbols (.pdb) are shipped.
TXT
)

# SDK zip.
stage=$(mktemp -d "${TMPDIR:-/tmp}/moq-sdk-win.XXXXXX")
trap 'rm -rf "$stage"' EXIT
sdk=$stage/sdk
mkdir -p "$sdk/include" "$sdk/lib/Win64/Release" "$sdk/bin"
cp include/moq_ffi.h "$sdk/include/"
cp "$OUT/moq_ffi.lib" "$OUT/libmoq_ffi.dll.a" "$OUT/moq_ffi.def" "$sdk/lib/Win64/Release/"
cp "$OUT/moq_ffi.dll" "$sdk/bin/"
printf '%s\n' "$README" | sed 's/$/\r/' >"$sdk/README.txt"

# Unreal ThirdParty zip.
ue=$stage/plugin/ThirdParty/moq_ffi
mkdir -p "$ue/include" "$ue/lib/Win64/Release" "$ue/bin/Win64/Release"
cp include/moq_ffi.h "$ue/include/"
cp "$OUT/moq_ffi.lib" "$OUT/libmoq_ffi.dll.a" "$OUT/moq_ffi.def" "$ue/lib/Win64/Release/"
cp "$OUT/moq_ffi.dll" "$ue/bin/Win64/Release/"
printf '%s\n' "$README" | sed 's/$/\r/' >"$ue/README.txt"

# Reproducible archives: fixed timestamps and file order.
find "$stage" -exec touch -h -d '2000-01-01 00:00:00 UTC' {} +
rm -f dist/moq-ffi-sdk-windows-x64.zip dist/moq-ffi-plugin-windows-x64.zip
(cd "$sdk" && find . -mindepth 1 | LC_ALL=C sort | zip -X -q -@ "$ROOT/dist/moq-ffi-sdk-windows-x64.zip")
(cd "$stage/plugin" && find . -mindepth 1 | LC_ALL=C sort | zip -X -q -@ "$ROOT/dist/moq-ffi-plugin-windows-x64.zip")
echo "sdk-windows: wrote dist/moq-ffi-sdk-windows-x64.zip and dist/moq-ffi-plugin-windows-x64.zip" >&2
