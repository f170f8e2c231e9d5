# moq-ffi-go: see README.md.
SHELL := /bin/bash
export PATH := /usr/local/go/bin:$(PATH)
GO ?= go
FUZZTIME ?= 60s
BENCHTIME ?= 1s
PKGS := ./...

.PHONY: all build test test-go lint fuzz bench demo clean tools

all: build

build:
	$(GO) build $(PKGS)
	$(GO) build -o build/bin/moq ./cmd/moq

## test: everything CI runs (lint, Go tests with the race detector).
test: lint test-go test-browser

test-go:
	$(GO) test -race -count=1 -timeout 15m $(PKGS)

## lint: go vet plus a gofmt check; fails on any finding.
lint:
	$(GO) vet $(PKGS)
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

## fuzz: runs every fuzz target for FUZZTIME each (default 60s).
fuzz:
	@set -e; for pkg in $$($(GO) list $(PKGS)); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "== $$pkg $$f"; \
	    $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg; \
	  done; \
	done

## bench: all Go benchmarks, with allocation counts.
bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) $(PKGS)

demo:
	@echo "make demo arrives with the C library and relay (issues 4, 5, 7); see README.md" >&2; exit 2

clean:
	rm -rf build dist

## test-browser: @moq/lite in headless Chromium subscribes through our relay to
## a Go publisher's track (installs chromium and the npm packages if missing).
.PHONY: test-browser
test-browser:
	bash scripts/browser-test.sh
