package main

/*
#cgo CFLAGS: -I${SRCDIR}/../include
#include "bridge.h"
*/
import "C"

import (
	"os"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/moq-ffi/moq-ffi-go/internal/transport"
	"github.com/moq-ffi/moq-ffi-go/moq"
)

// Limits on strings taken from the host.
const (
	maxURLLen    = 8192
	maxNameLen   = 4096
	maxObject    = 16 << 20
	maxAuthToken = 16 << 10 // as the library sends at most
)

// getenv reads the process environment at call time.
func getenv(name string) string {
	cs := C.CString(name)
	defer C.free(unsafe.Pointer(cs))
	v := C.moq__getenv(cs)
	if v == nil {
		return ""
	}
	// strlen + GoStringN rather than GoString: Go's own scan for the NUL
	// reads whole aligned words past it, which memcheck reports.
	return C.GoStringN(v, C.int(C.strlen(v)))
}

// config is what moq_connect reads from the environment.
type config struct {
	opts           moq.Options
	requestTimeout time.Duration
	announcePrefix moq.Namespace
	hasPrefix      bool
}

func envMillis(name string, def time.Duration) (time.Duration, error) {
	v := strings.TrimSpace(getenv(name))
	if v == "" {
		return def, nil
	}
	n, err := strconv.ParseUint(v, 10, 31)
	if err != nil || n == 0 {
		return 0, errf(codeInvalid, "%s=%q: want a positive number of milliseconds", name, v)
	}
	return time.Duration(n) * time.Millisecond, nil
}

// loadConfig builds session options from the client's settings
// (moq_client_configure; may be nil) and, for what they leave unset, the
// MOQ_FFI_* variables.
func loadConfig(st *settings) (*config, error) {
	refreshLogger()
	cfg := &config{}
	o := &cfg.opts
	o.Logger = logger()
	var err error
	if o.ConnectTimeout, err = envMillis("MOQ_FFI_CONNECT_TIMEOUT_MS", 10*time.Second); err != nil {
		return nil, err
	}
	if cfg.requestTimeout, err = envMillis("MOQ_FFI_REQUEST_TIMEOUT_MS", 10*time.Second); err != nil {
		return nil, err
	}
	o.RequestTimeout = cfg.requestTimeout
	if o.IdleTimeout, err = envMillis("MOQ_FFI_IDLE_TIMEOUT_MS", moq.DefaultClientIdleTimeout); err != nil {
		return nil, err
	}
	if v := strings.TrimSpace(getenv("MOQ_FFI_DRAFT")); v != "" {
		for _, f := range strings.Split(v, ",") {
			switch strings.ToLower(strings.TrimSpace(f)) {
			case "20":
				o.Drafts = append(o.Drafts, moq.Draft20)
			case "18":
				o.Drafts = append(o.Drafts, moq.Draft18)
			case "16":
				o.Drafts = append(o.Drafts, moq.Draft16)
			case "14":
				o.Drafts = append(o.Drafts, moq.Draft14)
			case "07":
				o.Drafts = append(o.Drafts, moq.Draft07)
			case "07cf":
				o.Drafts = append(o.Drafts, moq.Draft07Cloudflare)
			default:
				return nil, errf(codeInvalid, "MOQ_FFI_DRAFT=%q: want a comma-separated list of 20, 18, 16, 14, 07, 07cf", v)
			}
		}
	}
	if v := strings.TrimSpace(getenv("MOQ_FFI_PIN_SHA256")); v != "" {
		for _, f := range strings.Split(v, ",") {
			fp, err := transport.ParseFingerprint(f)
			if err != nil {
				return nil, errf(codeInvalid, "MOQ_FFI_PIN_SHA256: %v", err)
			}
			o.TLS.PinSHA256 = append(o.TLS.PinSHA256, fp)
		}
	}
	if v := strings.TrimSpace(getenv("MOQ_FFI_CA_FILE")); v != "" {
		if _, err := os.Stat(v); err != nil {
			return nil, errf(codeInvalid, "MOQ_FFI_CA_FILE: %v", err)
		}
		o.TLS.CAFile = v
	}
	if v := getenv("MOQ_FFI_ANNOUNCE_PREFIX"); v != "" {
		ns, err := parseNamespace(v)
		if err != nil {
			return nil, errf(codeInvalid, "MOQ_FFI_ANNOUNCE_PREFIX: %v", err)
		}
		cfg.announcePrefix, cfg.hasPrefix = ns, true
	}
	if v := strings.TrimSpace(getenv("MOQ_FFI_AUTH_TOKEN")); v != "" {
		if len(v) > maxAuthToken {
			return nil, errf(codeInvalid, "MOQ_FFI_AUTH_TOKEN is %d bytes; at most %d", len(v), maxAuthToken)
		}
		o.AuthToken = v
	}
	o.Implementation = "moq-ffi-go/0.6.0"
	if st != nil {
		st.apply(cfg)
	}
	return cfg, nil
}

// goString copies a host string of at most limit bytes that must be UTF-8.
func goString(p *C.char, what string, limit int) (string, error) {
	if p == nil {
		return "", errf(codeInvalid, "%s is null", what)
	}
	n := int(C.strnlen(p, C.size_t(limit+1)))
	if n > limit {
		return "", errf(codeInvalid, "%s is longer than %d bytes", what, limit)
	}
	s := C.GoStringN(p, C.int(n))
	if !utf8.ValidString(s) {
		return "", errf(codeInvalid, "%s is not valid UTF-8", what)
	}
	return s, nil
}

// parseNamespace splits s on '/' into a namespace tuple; empty fields are
// refused.
func parseNamespace(s string) (moq.Namespace, error) {
	if s == "" {
		return nil, errf(codeInvalid, "namespace is empty")
	}
	fields := strings.Split(s, "/")
	if len(fields) > 32 {
		return nil, errf(codeInvalid, "namespace %q has %d fields; at most 32 allowed", s, len(fields))
	}
	for i, f := range fields {
		if f == "" {
			return nil, errf(codeInvalid, "namespace %q has an empty field (field %d); fields are separated by single '/', with none leading or trailing", s, i+1)
		}
	}
	return moq.Namespace(fields), nil
}

// nsString writes a namespace the way the host spells it.
func nsString(ns moq.Namespace) string {
	return strings.Join(ns, "/")
}
