package main

/*
#cgo CFLAGS: -I${SRCDIR}/../include
#include "bridge.h"
*/
import "C"

import (
	"os"
	"strings"
	"time"
	"unsafe"

	"github.com/moq-ffi/moq-ffi-go/internal/transport"
	"github.com/moq-ffi/moq-ffi-go/moq"
)

// Drafts (MoqDraft).
const (
	draftAuto = 0
	draft07   = 7
	draft07CF = 70
	draft14   = 14
	draft16   = 16
	draft18   = 18
	draft20   = 20
)

// maxConfiguredObject bounds MoqClientConfig.max_object_size.
const maxConfiguredObject = 1 << 30

// settings is a MoqClientConfig, copied and validated. Zero fields leave
// the environment (or the built-in default) in force.
type settings struct {
	drafts       []moq.Draft
	caFile       string
	caPEM        []byte
	pins         [][32]byte
	insecure     bool
	connectTO    time.Duration
	requestTO    time.Duration
	idleTO       time.Duration
	keepAlive    time.Duration
	maxObject    int
	subBuffer    int
	reconnect    bool
	reconnectMin time.Duration
	reconnectMax time.Duration
	authToken    string
}

// apply lays the settings over a configuration read from the environment.
func (st *settings) apply(cfg *config) {
	o := &cfg.opts
	if st.drafts != nil {
		o.Drafts = st.drafts
	}
	if st.caFile != "" || st.caPEM != nil || st.pins != nil || st.insecure {
		// Explicit TLS settings replace MOQ_FFI_CA_FILE / MOQ_FFI_PIN_SHA256.
		o.TLS = moq.TLSConfig{CAFile: st.caFile, CAPEM: st.caPEM, PinSHA256: st.pins, Insecure: st.insecure}
	}
	if st.connectTO > 0 {
		o.ConnectTimeout = st.connectTO
	}
	if st.requestTO > 0 {
		o.RequestTimeout = st.requestTO
		cfg.requestTimeout = st.requestTO
	}
	if st.idleTO > 0 {
		o.IdleTimeout = st.idleTO
	}
	if st.keepAlive > 0 {
		o.KeepAlive = st.keepAlive
	}
	if st.maxObject > 0 {
		o.MaxObjectSize = st.maxObject
	}
	if st.subBuffer > 0 {
		o.SubscriptionBuffer = st.subBuffer
	}
	if st.authToken != "" {
		o.AuthToken = st.authToken
	}
}

// maxObjectSize is the largest payload a client's publishers accept.
func (cfg *config) maxObjectSize() int {
	if cfg != nil && cfg.opts.MaxObjectSize > 0 {
		return cfg.opts.MaxObjectSize
	}
	return maxObject
}

func ms(v C.uint32_t) time.Duration { return time.Duration(v) * time.Millisecond }

// configSize is the size of the 0.3 MoqClientConfig layout: the fields
// before auth_token (0.5).
const configSize = C.size_t(unsafe.Offsetof(C.MoqClientConfig{}.auth_token))

// configHas reports whether a host config's struct_size covers the field
// that ends at offset end.
func configHas(cc *C.MoqClientConfig, end uintptr) bool { return uintptr(cc.struct_size) >= end }

// parseSettings validates a host MoqClientConfig.
func parseSettings(cc *C.MoqClientConfig) (*settings, error) {
	if cc == nil {
		return nil, errf(codeInvalid, "config is null")
	}
	if C.size_t(cc.struct_size) < configSize {
		return nil, errf(codeInvalid, "config struct_size %d is smaller than the 0.3 MoqClientConfig (%d bytes); call moq_client_config_init", uint32(cc.struct_size), uint64(configSize))
	}
	st := &settings{}
	switch int(cc.draft) {
	case draftAuto:
	case draft07:
		st.drafts = []moq.Draft{moq.Draft07}
	case draft07CF:
		st.drafts = []moq.Draft{moq.Draft07Cloudflare}
	case draft14:
		st.drafts = []moq.Draft{moq.Draft14}
	case draft16:
		st.drafts = []moq.Draft{moq.Draft16}
	case draft18:
		st.drafts = []moq.Draft{moq.Draft18}
	case draft20:
		st.drafts = []moq.Draft{moq.Draft20}
	default:
		return nil, errf(codeInvalid, "config draft %d is not a MoqDraft (0 auto, 7, 70, 14, 16, 18, 20)", int(cc.draft))
	}
	if cc.ca_file != nil {
		f, err := goString(cc.ca_file, "config ca_file", maxURLLen)
		if err != nil {
			return nil, err
		}
		if f != "" {
			if _, err := os.ReadFile(f); err != nil {
				return nil, errf(codeInvalid, "config ca_file: %v", err)
			}
			st.caFile = f
		}
	}
	if cc.ca_pem != nil && cc.ca_pem_len > 0 {
		if uint64(cc.ca_pem_len) > 16<<20 {
			return nil, errf(codeInvalid, "config ca_pem_len %d is larger than 16 MiB", uint64(cc.ca_pem_len))
		}
		st.caPEM = C.GoBytes(unsafe.Pointer(cc.ca_pem), C.int(cc.ca_pem_len))
	} else if cc.ca_pem == nil && cc.ca_pem_len > 0 {
		return nil, errf(codeInvalid, "config ca_pem is null but ca_pem_len is non-zero")
	}
	if cc.pin_sha256 != nil {
		v, err := goString(cc.pin_sha256, "config pin_sha256", maxURLLen)
		if err != nil {
			return nil, err
		}
		if strings.TrimSpace(v) != "" {
			for _, f := range strings.Split(v, ",") {
				fp, err := transport.ParseFingerprint(f)
				if err != nil {
					return nil, errf(codeInvalid, "config pin_sha256: %v", err)
				}
				st.pins = append(st.pins, fp)
			}
		}
	}
	st.insecure = bool(cc.insecure)
	const maxMS = 1 << 31 / 1000 * 1000 // about 24 days
	for _, v := range []C.uint32_t{cc.connect_timeout_ms, cc.request_timeout_ms, cc.idle_timeout_ms, cc.keepalive_ms, cc.reconnect_min_ms, cc.reconnect_max_ms} {
		if uint64(v) > maxMS {
			return nil, errf(codeInvalid, "config timeout of %d ms is too large", uint32(v))
		}
	}
	st.connectTO = ms(cc.connect_timeout_ms)
	st.requestTO = ms(cc.request_timeout_ms)
	st.idleTO = ms(cc.idle_timeout_ms)
	st.keepAlive = ms(cc.keepalive_ms)
	if cc.max_object_size > maxConfiguredObject {
		return nil, errf(codeInvalid, "config max_object_size %d is larger than %d", uint32(cc.max_object_size), maxConfiguredObject)
	}
	st.maxObject = int(cc.max_object_size)
	st.subBuffer = int(cc.subscription_buffer)
	st.reconnect = bool(cc.reconnect)
	st.reconnectMin = ms(cc.reconnect_min_ms)
	st.reconnectMax = ms(cc.reconnect_max_ms)
	if st.reconnectMin == 0 {
		st.reconnectMin = 500 * time.Millisecond
	}
	if st.reconnectMax == 0 {
		st.reconnectMax = 30 * time.Second
	}
	if st.reconnectMax < st.reconnectMin {
		return nil, errf(codeInvalid, "config reconnect_max_ms (%d) is below reconnect_min_ms (%d)", st.reconnectMax.Milliseconds(), st.reconnectMin.Milliseconds())
	}
	if configHas(cc, unsafe.Offsetof(cc.auth_token)+unsafe.Sizeof(cc.auth_token)) && cc.auth_token != nil {
		v, err := goString(cc.auth_token, "config auth_token", maxAuthToken)
		if err != nil {
			return nil, err
		}
		st.authToken = v
	}
	return st, nil
}

// configure implements moq_client_configure.
func (c *client) configure(st *settings) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.dead:
		return errDead()
	case c.phase != phaseIdle || c.sess != nil:
		return errf(codeInvalid, "client is connected or connecting; moq_client_configure must be called before moq_connect or after moq_disconnect")
	}
	c.settings = st
	return nil
}

// stats implements moq_client_stats.
func (c *client) stats() (moq.ConnStats, uint64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dead {
		return moq.ConnStats{}, 0, errDead()
	}
	var cs moq.ConnStats
	if c.sess != nil && c.sess.Err() == nil {
		cs = c.sess.ConnStats()
	}
	return cs, c.reconnects, nil
}
