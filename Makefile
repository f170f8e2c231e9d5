# moq-ffi-go: see README.md.
SHELL := /bin/bash
export PATH := /usr/local/go/bin:$(PATH)
GO ?= go
FUZZTIME ?= 60s
BENCHTIME ?= 1s
PKGS := ./...

.PHONY: all build test test-go lint fuzz bench bench-relay bench-mem demo clean tools

all: build

build:
	$(GO) build $(PKGS)
	$(GO) build -o build/bin/moq ./cmd/moq

## test: everything CI runs: lint, Go tests with the race detector, the browser
## interop test, and the C/C++ suite (plain, ASan, valgrind subset, leak self-test).
test: lint test-go test-browser test-c test-sdk test-docs test-faults fuzz-ci

test-go:
	$(GO) test -race -count=1 -timeout 15m $(PKGS)

## lint: go vet plus a gofmt check; fails on any finding.
lint:
	$(GO) vet $(PKGS)
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

## fuzz: runs every fuzz target for FUZZTIME each (default 60s).
fuzz:
	GO=$(GO) bash scripts/fuzz.sh $(FUZZTIME) 1

## bench: all Go benchmarks, with allocation counts.
bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) $(PKGS)

## bench-relay: small and large objects through the relay against a direct
## session and raw quic-go in the same run (prints the ratios), the relay's own
## allocations per forwarded object and the latency it adds per object
## (docs/benchmarks.md); about two minutes.
bench-relay:
	$(GO) test -run '^$$' -bench 'RelayThroughput|RelayAllocs|RelayLatencyPaired' -benchmem -benchtime 2s ./relay/

## bench-mem: live heap per idle session and per subscription, and heap growth
## over MEM_OBJECTS (default 1000000) objects through the relay (about a minute).
MEM_OBJECTS ?= 1000000
bench-mem:
	$(GO) test -run '^$$' -bench 'Memory' -benchtime 1x ./relay/ -args -relay.memobjects=$(MEM_OBJECTS)

## demo: our relay on loopback, a C publisher of simulated motion capture and a C
## subscriber with a live status line; stops by itself (DEMO_SECONDS, default 10).
demo: lib
	bash scripts/setup.sh
	$(GO) build -o build/bin/moq ./cmd/moq
	bash scripts/demo.sh

clean:
	rm -rf build dist

## test-browser: @moq/lite in headless Chromium subscribes through our relay to
## a Go publisher's track (installs chromium and the npm packages if missing).
.PHONY: test-browser
test-browser:
	bash scripts/browser-test.sh

# ---- C library (issue 5) ----
.PHONY: lib examples test-c test-c-full test-c-asan test-c-valgrind

## lib: build/lib/libmoq_ffi.so (soname libmoq_ffi.so.0) and .a, build/include/moq_ffi.h,
## build/lib/pkgconfig/moq_ffi.pc (PKG_CONFIG_PATH=build/lib/pkgconfig pkg-config --cflags --libs moq_ffi).
lib:
	bash scripts/build-lib.sh build

## examples: build/examples/pubsub (C) and build/examples/chat (C++17 RAII wrapper).
examples: lib
	@mkdir -p build/examples
	gcc -std=c11 -Wall -Wextra -Werror -D_POSIX_C_SOURCE=200809L -Ibuild/include examples/c/pubsub.c \
	  -o build/examples/pubsub -Lbuild/lib -lmoq_ffi -Wl,-rpath,'$$ORIGIN/../lib' -pthread
	g++ -std=c++17 -Wall -Wextra -Werror -Ibuild/include -Iexamples/cpp examples/cpp/main.cpp \
	  -o build/examples/chat -Lbuild/lib -lmoq_ffi -Wl,-rpath,'$$ORIGIN/../lib' -pthread

## test-c: the C/C++ suite: everything plain and under ASan, a valgrind subset, and the leak self-test.
test-c:
	bash scripts/ctest.sh plain asan valgrind selftest

## test-c-full: as test-c, with the whole suite under valgrind.
test-c-full:
	MOQ_CTEST_FULL=1 bash scripts/ctest.sh plain asan valgrind selftest

test-c-asan:
	bash scripts/ctest.sh asan

test-c-valgrind:
	MOQ_CTEST_FULL=1 bash scripts/ctest.sh valgrind

# Further targets live in mk/*.mk (one file per area).
-include mk/*.mk
