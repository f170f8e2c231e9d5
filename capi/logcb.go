package main

/*
#cgo CFLAGS: -I${SRCDIR}/../include
#include "bridge.h"
*/
import "C"

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"unsafe"
)

// Log levels (MoqLogLevel).
const (
	logError = 0
	logWarn  = 1
	logInfo  = 2
	logDebug = 3
)

// logTarget is one registered host log callback. inflight counts the calls
// of it that are running, so that replacing it can wait for them.
type logTarget struct {
	cb, ud   uintptr
	level    slog.Level
	inflight int
}

// logState routes the library's log: to the host's callback when one is
// set (moq_set_log_callback), otherwise to stderr at the MOQ_FFI_LOG level.
var logState struct {
	sync.Mutex
	cond     sync.Cond
	envLevel string
	stderrLv slog.Level
	off      bool
	target   *logTarget
	log      *slog.Logger
}

func init() {
	logState.cond.L = &logState.Mutex
	logState.stderrLv = slog.LevelWarn
	logState.log = slog.New(&dynHandler{}).With("lib", "moq_ffi")
}

// logger returns the library's logger. It is one logger for the life of the
// process; where its records go is decided per record.
func logger() *slog.Logger { return logState.log }

// refreshLogger re-reads MOQ_FFI_LOG (called at each connect and moq_init).
func refreshLogger() {
	lv := strings.ToLower(strings.TrimSpace(getenv("MOQ_FFI_LOG")))
	logState.Lock()
	defer logState.Unlock()
	logState.envLevel = lv
	logState.off = false
	switch lv {
	case "error":
		logState.stderrLv = slog.LevelError
	case "info":
		logState.stderrLv = slog.LevelInfo
	case "debug":
		logState.stderrLv = slog.LevelDebug
	case "off", "none":
		logState.off = true
	default:
		logState.stderrLv = slog.LevelWarn
	}
}

func toSlogLevel(l int) slog.Level {
	switch l {
	case logError:
		return slog.LevelError
	case logWarn:
		return slog.LevelWarn
	case logInfo:
		return slog.LevelInfo
	}
	return slog.LevelDebug
}

func fromSlogLevel(l slog.Level) int {
	switch {
	case l >= slog.LevelError:
		return logError
	case l >= slog.LevelWarn:
		return logWarn
	case l >= slog.LevelInfo:
		return logInfo
	}
	return logDebug
}

// setLogCallback implements moq_set_log_callback.
func setLogCallback(cb, ud uintptr, level int) {
	var nt *logTarget
	if cb != 0 {
		nt = &logTarget{cb: cb, ud: ud, level: toSlogLevel(level)}
	}
	in := inCallback()
	logState.Lock()
	old := logState.target
	logState.target = nt
	if old != nil && !in {
		for old.inflight > 0 {
			logState.cond.Wait()
		}
	}
	logState.Unlock()
}

// dynHandler is the slog.Handler behind logger(): it applies its
// attributes and groups to a text handler built for each record, writing to
// the host's callback or to stderr.
type dynHandler struct {
	ops []func(slog.Handler) slog.Handler
}

func (h *dynHandler) Enabled(_ context.Context, l slog.Level) bool {
	logState.Lock()
	defer logState.Unlock()
	if t := logState.target; t != nil {
		return l >= t.level
	}
	return !logState.off && l >= logState.stderrLv
}

func (h *dynHandler) with(op func(slog.Handler) slog.Handler) *dynHandler {
	ops := make([]func(slog.Handler) slog.Handler, len(h.ops), len(h.ops)+1)
	copy(ops, h.ops)
	return &dynHandler{ops: append(ops, op)}
}

func (h *dynHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return h.with(func(x slog.Handler) slog.Handler { return x.WithAttrs(as) })
}

func (h *dynHandler) WithGroup(name string) slog.Handler {
	return h.with(func(x slog.Handler) slog.Handler { return x.WithGroup(name) })
}

func (h *dynHandler) build(w io.Writer, opts *slog.HandlerOptions) slog.Handler {
	var x slog.Handler = slog.NewTextHandler(w, opts)
	for _, op := range h.ops {
		x = op(x)
	}
	return x
}

func (h *dynHandler) Handle(ctx context.Context, r slog.Record) error {
	logState.Lock()
	t := logState.target
	if t == nil {
		off, lv := logState.off, logState.stderrLv
		logState.Unlock()
		if off || r.Level < lv {
			return nil
		}
		return h.build(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}).Handle(ctx, r)
	}
	if r.Level < t.level {
		logState.Unlock()
		return nil
	}
	t.inflight++
	logState.Unlock()
	defer func() {
		logState.Lock()
		t.inflight--
		if t.inflight == 0 {
			logState.cond.Broadcast()
		}
		logState.Unlock()
	}()
	var buf bytes.Buffer
	err := h.build(&buf, &slog.HandlerOptions{
		Level: slog.LevelDebug,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) == 0 && a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	}).Handle(ctx, r)
	if err != nil {
		return err
	}
	msg := bytes.TrimRight(buf.Bytes(), "\n")
	msg = bytes.ReplaceAll(msg, []byte{0}, []byte{'?'})
	cs := C.CBytes(append(msg, 0))
	C.moq__call_log(C.uintptr_t(t.cb), C.uintptr_t(t.ud), C.int(fromSlogLevel(r.Level)), (*C.char)(cs))
	C.free(unsafe.Pointer(cs))
	return nil
}
