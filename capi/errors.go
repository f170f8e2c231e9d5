package main

/*
#cgo CFLAGS: -I${SRCDIR}/../include
#include "bridge.h"
*/
import "C"

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"unsafe"

	"github.com/moq-ffi/moq-ffi-go/moq"
)

// Result codes (MoqResultCode).
const (
	codeOK             = 0
	codeInvalid        = 1
	codeConnFailed     = 2
	codeNotConnected   = 3
	codeTimeout        = 4
	codeInternal       = 5
	codeUnsupported    = 6
	codeBufferTooSmall = 7
	codeWouldBlock     = 8
)

// ffiError is an error with the result code it is reported as.
type ffiError struct {
	code int
	msg  string
}

func (e *ffiError) Error() string { return e.msg }

func errf(code int, format string, args ...any) error {
	return &ffiError{code: code, msg: fmt.Sprintf(format, args...)}
}

// codeOf maps an error to a result code.
func codeOf(err error) int {
	var fe *ffiError
	var re *moq.RequestError
	switch {
	case errors.As(err, &fe):
		return fe.code
	case errors.Is(err, moq.ErrTimeout), errors.Is(err, context.DeadlineExceeded):
		return codeTimeout
	case errors.As(err, &re):
		return codeConnFailed
	case errors.Is(err, moq.ErrClosed):
		return codeNotConnected
	case errors.Is(err, moq.ErrInvalid), errors.Is(err, moq.ErrTooLarge):
		return codeInvalid
	}
	return codeInternal
}

// setLastError stores msg and code as the calling thread's moq_last_error
// and moq_last_error_code.
func setLastError(code int, msg string) {
	if msg == "" {
		msg = "unknown error"
	}
	C.moq__set_last_error(C.int(code), (*C.char)(unsafe.Pointer(unsafe.StringData(msg))), C.size_t(len(msg)))
}

func clearLastError() { C.moq__clear_last_error() }

// fail records err as the last error (for functions returning a handle or
// bool).
func fail(err error) {
	setLastError(codeOf(err), err.Error())
}

// toResult converts err into a MoqResult, setting or clearing the last
// error.
func toResult(err error) C.MoqResult {
	if err == nil {
		clearLastError()
		return C.MoqResult{code: codeOK}
	}
	msg, code := err.Error(), codeOf(err)
	setLastError(code, msg)
	return C.MoqResult{code: C.MoqResultCode(code), message: C.CString(msg)}
}

// recoverResult turns a panic in an export into MOQ_ERROR_INTERNAL.
func recoverResult(res *C.MoqResult) {
	if r := recover(); r != nil {
		*res = toResult(panicErr(r))
	}
}

// recoverFail turns a panic in an export returning a handle or bool into a
// last error (the zero return value stands).
func recoverFail() {
	if r := recover(); r != nil {
		fail(panicErr(r))
	}
}

func panicErr(r any) error {
	logger().Error("internal fault caught", "panic", r, "stack", string(debug.Stack()))
	return errf(codeInternal, "moq_ffi: internal error: %v", r)
}

// recoverGoroutine logs a panic in a library goroutine instead of crashing
// the host.
func recoverGoroutine(what string) {
	if r := recover(); r != nil {
		logger().Error("internal fault caught in "+what, "panic", r, "stack", string(debug.Stack()))
	}
}

func inCallback() bool { return C.moq__in_callback() != 0 }
