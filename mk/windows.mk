# ---- Windows x64 SDK (cross-compiled with Debian's MinGW-w64) ----
.PHONY: sdk-windows test-windows

## sdk-windows: build/windows/{moq_ffi.dll, libmoq_ffi.dll.a, moq_ffi.lib, moq_ffi.def},
## dist/moq-ffi-sdk-windows-x64.zip and dist/moq-ffi-plugin-windows-x64.zip (Unreal
## ThirdParty layout); checks the DLL exports exactly the 20 moq_* functions.
sdk-windows:
	bash scripts/sdk-windows.sh

## test-windows: a C round trip (announce, publish, subscribe) built against both
## import libraries, run under wine against our relay on 127.0.0.1.
test-windows: sdk-windows
	bash scripts/test-windows.sh
