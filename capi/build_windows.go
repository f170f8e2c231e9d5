//go:build windows

package main

// Windows (MinGW-w64) build settings; Linux builds do not see this file.
//
// MOQ_FFI_EXPORTS: bridge.c defines moq_version, moq_last_error,
// moq_last_error_code, moq_publish_data and moq_free_str in C. Go's linker exports from a c-shared DLL only the
// //export'd Go functions (it hands the MinGW linker a generated .def file),
// so these must carry __declspec(dllexport), which include/moq_ffi.h
// gives MOQ_API when MOQ_FFI_EXPORTS is defined.
//
// -static-libgcc: the per-thread error buffer in bridge.c (_Thread_local) uses
// GCC's emulated TLS on MinGW (__emutls_get_address); linking libgcc
// statically keeps the DLL free of a libgcc_s_seh-1.dll dependency, so it
// needs only KERNEL32.dll and msvcrt.dll.

/*
#cgo CFLAGS: -DMOQ_FFI_EXPORTS
#cgo LDFLAGS: -static-libgcc
*/
import "C"
