#!/usr/bin/env bash
# check-docs.sh: compiles (and, where marked, runs) the code blocks of the
# user guides, so that the guides cannot drift from the API. `make test-docs`.
#
# Which blocks: every fenced block tagged ```c, ```cpp or ```go in
# docs/c-api.md, docs/go-api.md, docs/relay.md and docs/unreal.md must carry
# an annotation: an HTML comment on the last non-blank line before the fence,
#
#   <!-- check: KIND -->            or   <!-- check: KIND with: DECLS -->
#
# KIND is one of
#   program   a complete translation unit (C, C++) or file of package main (Go):
#             compiled and linked (C: also statically, with pkg-config --static).
#   run       a program that is also run: against a `moq relay` started on
#             loopback by this script (argv[1] is its moqt:// URL and
#             MOQ_FFI_PIN_SHA256 its fingerprint), and must exit with status 0.
#   top       file-scope code (functions, types) compiled after a prelude of
#             common headers / imports (see prelude_* below); not linked.
#   fragment  statements, compiled inside a function after the same prelude.
#             DECLS are what the fragment assumes: for C and C++ file-scope
#             declarations ("MoqClient* client; const char* ns;"), for Go the
#             wrapper function's parameter list ("ctx context.Context, s *moq.Session").
#   skip      not compiled (say why in prose next to it).
# An unannotated c/cpp/go block in a guide fails the check. In README.md
# annotated blocks are checked the same way and unannotated ones are listed as
# skipped. Shell and other blocks are never touched.
#
# Errors point at the guide: generated sources carry #line / //line
# directives, so a block that does not compile is reported as docs/x.md:LINE.
#
# Needs build/lib and build/include (make lib); go, gcc and g++.
# Environment: KEEP=1 keeps the generated sources (build/_docscheck); DOCS="a.md b.md"
# checks other files.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export PATH=/usr/local/go/bin:$PATH

GUIDES=${DOCS:-"docs/c-api.md docs/go-api.md docs/relay.md docs/unreal.md"}
OPTIONAL="README.md" # checked when annotated

# Generated Go packages live inside the module (so they import it) under a
# directory whose name starts with "_": `go build ./...`, `go vet ./...` and
# `go test ./...` elsewhere in the repo ignore it.
WORK=$ROOT/build/_docscheck
rm -rf "$WORK"
mkdir -p "$WORK/blocks"
relay_pid=
cleanup() {
    if [ -n "$relay_pid" ]; then
        kill "$relay_pid" 2>/dev/null || true
        wait "$relay_pid" 2>/dev/null || true
    fi
    if [ "${KEEP:-0}" != 1 ]; then rm -rf "$WORK"; fi
}
trap cleanup EXIT

if [ ! -f build/include/moq_ffi.h ] || [ ! -e build/lib/libmoq_ffi.so ]; then
    echo "check-docs: build/lib is missing; run 'make lib' first" >&2
    exit 2
fi

# ---- extract -----------------------------------------------------------------
# manifest lines: id|file|first code line|lang|kind|decls
: >"$WORK/manifest"
extract() { # file strict(0/1)
    awk -v file="$1" -v strict="$2" -v dir="$WORK/blocks" -v manifest="$WORK/manifest" '
    function trim(s) { sub(/^[ \t]+/, "", s); sub(/[ \t]+$/, "", s); return s }
    BEGIN { infence = 0; n = 0; prev = "" }
    {
        line = $0
        if (infence) {
            if (line ~ /^```[ \t]*$/) {
                infence = 0
                if (keep) close(out)
                next
            }
            if (keep) print line > out
            next
        }
        if (line ~ /^```/) {
            infence = 1; keep = 0
            lang = line; sub(/^```/, "", lang); lang = trim(lang)
            if (lang == "c" || lang == "cpp" || lang == "c++" || lang == "go") {
                if (lang == "c++") lang = "cpp"
                kind = ""; decls = ""
                if (prev ~ /^<!-- check: [a-z]+.*-->[ \t]*$/) {
                    a = prev; sub(/^<!-- check: /, "", a); sub(/[ \t]*-->[ \t]*$/, "", a)
                    kind = a; sub(/[ \t].*$/, "", kind)
                    if (a ~ / with: /) { decls = a; sub(/^[^ ]+ with: /, "", decls) }
                }
                if (kind == "") {
                    if (strict) { printf "%s:%d: ```%s block without <!-- check: KIND --> annotation\n", file, NR, lang > "/dev/stderr"; bad++ }
                    else printf "skip %s:%d (```%s, not annotated)\n", file, NR, lang
                    prev = line; next
                }
                if (kind !~ /^(program|run|top|fragment|skip)$/) {
                    printf "%s:%d: unknown check kind \"%s\"\n", file, NR, kind > "/dev/stderr"; bad++
                    prev = line; next
                }
                if (kind == "skip") { printf "skip %s:%d (marked skip)\n", file, NR; prev = line; next }
                n++
                id = sprintf("%s_%d", file, NR + 1); gsub(/[^A-Za-z0-9_]/, "_", id)
                out = dir "/" id
                printf "" > out
                keep = 1
                printf "%s|%s|%d|%s|%s|%s\n", id, file, NR + 1, lang, kind, decls >> manifest
            }
            prev = line
            next
        }
        if (trim(line) != "") prev = line
    }
    END {
        if (infence) { printf "%s: unterminated code fence\n", file > "/dev/stderr"; bad++ }
        exit bad ? 1 : 0
    }' "$1"
}

status=0
for f in $GUIDES; do
    if [ ! -f "$f" ]; then echo "check-docs: $f is missing" >&2; status=1; continue; fi
    extract "$f" 1 || status=1
done
# The guides say what the code does: a feature called "planned" there went
# stale once it shipped (issue 15: c-api.md and unreal.md still called the
# 0.3 poll API planned). Say what is missing plainly instead.
for f in $GUIDES $OPTIONAL; do
    [ -f "$f" ] || continue
    if grep -n -i -w 'planned' "$f" >"$WORK/planned"; then
        sed "s#^#$f:#; s#\$# (the guides describe what exists; remove 'planned')#" "$WORK/planned" >&2
        status=1
    fi
done
for f in $OPTIONAL; do
    [ -f "$f" ] && { extract "$f" 0 || status=1; }
done

# ---- preludes ------------------------------------------------------------------
prelude_c='#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "moq_ffi.h"'
prelude_cpp='#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>
#include "moq_ffi.h"'
prelude_go='import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/moq-ffi/moq-ffi-go/moq"
	"github.com/moq-ffi/moq-ffi-go/relay"
)

var (
	_ = context.Background
	_ = errors.Is
	_ = fmt.Sprint
	_ = log.Fatal
	_ = os.Exit
	_ = time.Second
	_ = moq.Dial
	_ = relay.New
)'

CFLAGS_PROG=(-std=c11 -Wall -Wextra -Werror -Ibuild/include)
CFLAGS_PART=(-std=c11 -Wall -Werror -Wno-unused-function -Wno-unused-variable -Ibuild/include)
CXXFLAGS_PROG=(-std=c++17 -Wall -Wextra -Werror -Ibuild/include)
CXXFLAGS_PART=(-std=c++17 -Wall -Werror -Wno-unused-function -Wno-unused-variable -Ibuild/include)
LDLIBS=(-Lbuild/lib -lmoq_ffi -Wl,-rpath,"$ROOT/build/lib" -pthread)
STATIC_LIBS=$(PKG_CONFIG_PATH=build/lib/pkgconfig pkg-config --static --libs moq_ffi | sed 's/-lmoq_ffi/-l:libmoq_ffi.a/')

# ---- generate and compile --------------------------------------------------------
fails=0 checked=0
runs=()
gopkgs=()
report() { # loc message
    echo "FAIL $1: $2" >&2
    fails=$((fails + 1))
}
while IFS='|' read -r id file line lang kind decls; do
    checked=$((checked + 1))
    body=$WORK/blocks/$id
    loc="$file:$line"
    case $lang in
    c | cpp)
        ext=c; [ "$lang" = cpp ] && ext=cpp
        src=$WORK/$id.$ext
        {
            case $kind in
            program | run)
                printf '#line %d "%s"\n' "$line" "$file"
                cat "$body"
                ;;
            top)
                if [ "$lang" = c ]; then echo "$prelude_c"; else echo "$prelude_cpp"; fi
                printf '#line %d "%s"\n' "$line" "$file"
                cat "$body"
                ;;
            fragment)
                if [ "$lang" = c ]; then echo "$prelude_c"; else echo "$prelude_cpp"; fi
                echo "$decls"
                echo "void docs_fragment(void);"
                echo "void docs_fragment(void) {"
                printf '#line %d "%s"\n' "$line" "$file"
                cat "$body"
                echo "}"
                ;;
            esac
        } >"$src"
        if [ "$lang" = c ]; then
            cc=gcc
            if [ "$kind" = program ] || [ "$kind" = run ]; then flags=("${CFLAGS_PROG[@]}"); else flags=("${CFLAGS_PART[@]}"); fi
        else
            cc=g++
            if [ "$kind" = program ] || [ "$kind" = run ]; then flags=("${CXXFLAGS_PROG[@]}"); else flags=("${CXXFLAGS_PART[@]}"); fi
        fi
        if [ "$kind" = program ] || [ "$kind" = run ]; then
            if ! out=$($cc "${flags[@]}" "$src" -o "$WORK/$id" "${LDLIBS[@]}" 2>&1); then
                report "$loc" "does not compile ($lang $kind)"; echo "$out" >&2; continue
            fi
            if [ "$lang" = c ]; then
                # shellcheck disable=SC2086
                if ! out=$($cc "${flags[@]}" "$src" -o "$WORK/$id.static" $STATIC_LIBS 2>&1); then
                    report "$loc" "does not link statically (pkg-config --static --libs moq_ffi)"; echo "$out" >&2; continue
                fi
            fi
            echo "ok   $loc ($lang $kind)"
            [ "$kind" = run ] && runs+=("$id|$loc|$WORK/$id")
        else
            if ! out=$($cc "${flags[@]}" -c "$src" -o "$WORK/$id.o" 2>&1); then
                report "$loc" "does not compile ($lang $kind)"; echo "$out" >&2; continue
            fi
            echo "ok   $loc ($lang $kind)"
        fi
        ;;
    go)
        pkg=$WORK/go/$id
        mkdir -p "$pkg"
        {
            case $kind in
            program | run)
                printf '//line %s:%d\n' "$ROOT/$file" "$line"
                cat "$body"
                ;;
            top)
                echo "package docs"
                echo "$prelude_go"
                printf '//line %s:%d\n' "$ROOT/$file" "$line"
                cat "$body"
                ;;
            fragment)
                echo "package docs"
                echo "$prelude_go"
                echo "func docsFragment($decls) {"
                printf '//line %s:%d\n' "$ROOT/$file" "$line"
                cat "$body"
                echo "}"
                ;;
            esac
        } >"$pkg/main.go"
        gopkgs+=("$id|$loc|$kind")
        [ "$kind" = run ] && runs+=("$id|$loc|go")
        ;;
    esac
done <"$WORK/manifest"

# Go: one build and one vet over all generated packages; errors carry guide positions.
if [ ${#gopkgs[@]} -gt 0 ]; then
    if out=$(go build -o /dev/null ./build/_docscheck/go/... 2>&1) && vout=$(go vet ./build/_docscheck/go/... 2>&1); then
        for g in "${gopkgs[@]}"; do
            IFS='|' read -r id loc kind <<<"$g"
            echo "ok   $loc (go $kind)"
        done
    else
        out="${out:-}${vout:-}"
        # Attribute failures to blocks by the guide positions in the messages.
        for g in "${gopkgs[@]}"; do
            IFS='|' read -r id loc kind <<<"$g"
            go vet "./build/_docscheck/go/$id" >"$WORK/go/$id.log" 2>&1 || {
                report "$loc" "does not compile or vet (go $kind)"
                sed "s#$ROOT/##g" "$WORK/go/$id.log" >&2
            }
        done
    fi
fi

# ---- run -----------------------------------------------------------------------
if [ ${#runs[@]} -gt 0 ] && [ "$fails" -eq 0 ]; then
    go build -o build/bin/moq ./cmd/moq
    mkfifo "$WORK/relay.out"
    build/bin/moq relay --listen 127.0.0.1:0 --drain 1s >"$WORK/relay.out" 2>"$WORK/relay.err" &
    relay_pid=$!
    url= fp=
    exec 3<"$WORK/relay.out"
    while IFS= read -r -t 30 l <&3; do
        case $l in
        *"raw QUIC:"*) url=${l##* } ;;
        *"fingerprint:"*) fp=${l##* }; break ;;
        esac
    done
    # keep draining the relay's stdout so it never blocks on a full pipe
    cat <&3 >/dev/null &
    exec 3<&-
    if [ -z "$url" ] || [ -z "$fp" ]; then
        report "moq relay" "did not start"; cat "$WORK/relay.err" >&2
    else
        echo "relay $url"
        for r in "${runs[@]}"; do
            IFS='|' read -r id loc what <<<"$r"
            if [ "$what" = go ]; then
                cmd=(go run "./build/_docscheck/go/$id" "$url")
            else
                cmd=("$what" "$url")
            fi
            if out=$(MOQ_FFI_PIN_SHA256=$fp timeout 60 "${cmd[@]}" 2>&1); then
                echo "ran  $loc"
                echo "$out" | sed 's/^/     | /'
            else
                report "$loc" "program failed (status $?)"
                echo "$out" | sed 's/^/     | /' >&2
            fi
        done
    fi
fi

total=$(wc -l <"$WORK/manifest")
if [ "$status" -ne 0 ] || [ "$fails" -ne 0 ]; then
    echo "check-docs: FAILED ($fails of $total blocks failed; see the errors above)" >&2
    exit 1
fi
echo "check-docs: $total blocks compiled, ${#runs[@]} run, all ok"
