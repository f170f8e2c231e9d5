# ---- documentation (docs/c-api.md, docs/go-api.md, docs/relay.md, docs/unreal.md) ----
.PHONY: test-docs

## test-docs: compiles every ```c, ```cpp and ```go block of the guides (C with gcc -std=c11,
## C++ with g++ -std=c++17, Go with go build + go vet) and runs the blocks marked
## <!-- check: run --> against a loopback `moq relay`. Annotations: see scripts/check-docs.sh.
test-docs: lib
	bash scripts/check-docs.sh
