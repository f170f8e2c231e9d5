# ---- Linux SDK tarball (scripts/sdk.sh, cmake/, tests/sdk/) ----
.PHONY: sdk test-sdk

## sdk: dist/moq-ffi-sdk-linux-x64.tar.gz: header, shared library (with its soname
## links) and static archive, relocatable pkg-config file and CMake package
## (moq_ffi::moq_ffi, moq_ffi::moq_ffi_static), README, LICENSE.
sdk: lib
	bash scripts/sdk.sh build dist

## test-sdk: unpacks the SDK in a temporary directory and builds and runs a C
## consumer with CMake (shared and static) and with pkg-config (shared and static).
test-sdk: sdk
	bash tests/sdk/test.sh
