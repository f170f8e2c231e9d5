package main

/*
#cgo CFLAGS: -I${SRCDIR}/../include
#include "bridge.h"
*/
import "C"

import (
	"time"
	"unsafe"

	"github.com/moq-ffi/moq-ffi-go/moq"
)

// The exports added in 0.3 (see "BEYOND THE OLD HEADER" in moq_ffi.h).

func publisherArg(h C.uintptr_t) (*publisher, error) {
	if h == 0 {
		return nil, errf(codeInvalid, "Publisher is null")
	}
	p := lookupPublisher(uintptr(h))
	if p == nil {
		return nil, errf(codeInvalid, "publisher handle is invalid or destroyed")
	}
	return p, nil
}

// hostBytes views n bytes of host memory at p (nil p with n > 0 is an
// error named what).
func hostBytes(p *C.uint8_t, n C.size_t, what string, limit uint64) ([]byte, error) {
	if p == nil && n > 0 {
		return nil, errf(codeInvalid, "%s is null but its length is non-zero", what)
	}
	if uint64(n) > limit {
		return nil, errf(codeInvalid, "%s length %d exceeds %d bytes", what, uint64(n), limit)
	}
	if n == 0 {
		return []byte{}, nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(p)), int(n)), nil
}

// moq_client_config_init is the 0.3 symbol: programs built against older
// headers call it with a 0.3 MoqClientConfig, so it fills that layout only.
// The current header maps the name to moq_client_config_init_sized.
//
//export moq_client_config_init
func moq_client_config_init(cfg *C.MoqClientConfig) {
	defer recoverFail()
	clearLastError()
	initConfig(cfg, configSize)
}

//export moq_client_config_init_sized
func moq_client_config_init_sized(cfg *C.MoqClientConfig, size C.size_t) {
	defer recoverFail()
	clearLastError()
	if size < configSize {
		fail(errf(codeInvalid, "config size %d is smaller than the 0.3 MoqClientConfig (%d bytes)", uint64(size), uint64(configSize)))
		return
	}
	initConfig(cfg, min(size, C.sizeof_MoqClientConfig))
}

// initConfig zeroes the first n bytes of *cfg and sets the defaults.
func initConfig(cfg *C.MoqClientConfig, n C.size_t) {
	if cfg == nil {
		return
	}
	clear(unsafe.Slice((*byte)(unsafe.Pointer(cfg)), int(n)))
	cfg.struct_size = C.uint32_t(n)
	cfg.draft = draftAuto
}

//export moq_client_configure
func moq_client_configure(h C.uintptr_t, cfg *C.MoqClientConfig) (res C.MoqResult) {
	defer recoverResult(&res)
	c, err := clientArg(h)
	if err != nil {
		return toResult(err)
	}
	st, err := parseSettings(cfg)
	if err != nil {
		return toResult(err)
	}
	return toResult(c.configure(st))
}

//export moq_publisher_set_priority
func moq_publisher_set_priority(h C.uintptr_t, prio C.uint8_t) (res C.MoqResult) {
	defer recoverResult(&res)
	p, err := publisherArg(h)
	if err != nil {
		return toResult(err)
	}
	return toResult(p.setPriority(uint8(prio)))
}

//export moq_group_begin
func moq_group_begin(h C.uintptr_t, id *C.uint64_t, out *C.uint64_t) (res C.MoqResult) {
	defer recoverResult(&res)
	p, err := publisherArg(h)
	if err != nil {
		return toResult(err)
	}
	var idp *uint64
	if id != nil {
		v := uint64(*id)
		idp = &v
	}
	g, err := p.groupBegin(idp)
	if err == nil && out != nil {
		*out = C.uint64_t(g)
	}
	return toResult(err)
}

func groupWrite(h C.uintptr_t, data *C.uint8_t, n C.size_t, ext []byte, out *C.uint64_t) error {
	p, err := publisherArg(h)
	if err != nil {
		return err
	}
	b, err := hostBytes(data, n, "data", uint64(p.maxObj))
	if err != nil {
		return err
	}
	id, err := p.groupWrite(b, ext)
	if err == nil && out != nil {
		*out = C.uint64_t(id)
	}
	return err
}

//export moq_group_write
func moq_group_write(h C.uintptr_t, data *C.uint8_t, n C.size_t, ext *C.uint8_t, extLen C.size_t, out *C.uint64_t) (res C.MoqResult) {
	defer recoverResult(&res)
	e, err := hostBytes(ext, extLen, "ext", 1<<20)
	if err != nil {
		return toResult(err)
	}
	return toResult(groupWrite(h, data, n, e, out))
}

//export moq_group_write_timestamped
func moq_group_write_timestamped(h C.uintptr_t, data *C.uint8_t, n C.size_t, ts C.uint64_t, out *C.uint64_t) (res C.MoqResult) {
	defer recoverResult(&res)
	if uint64(ts) >= 1<<62 {
		return toResult(errf(codeInvalid, "timestamp_us %d does not fit in a varint", uint64(ts)))
	}
	return toResult(groupWrite(h, data, n, timestampExt(uint64(ts)), out))
}

//export moq_group_end
func moq_group_end(h C.uintptr_t) (res C.MoqResult) {
	defer recoverResult(&res)
	p, err := publisherArg(h)
	if err != nil {
		return toResult(err)
	}
	return toResult(p.groupEnd())
}

//export moq_publisher_end_track
func moq_publisher_end_track(h C.uintptr_t) (res C.MoqResult) {
	defer recoverResult(&res)
	p, err := publisherArg(h)
	if err != nil {
		return toResult(err)
	}
	return toResult(p.endTrack())
}

//export moq_object_timestamp
func moq_object_timestamp(ext *C.uint8_t, n C.size_t, out *C.uint64_t) (ok C.bool) {
	defer recoverFail()
	clearLastError()
	if ext == nil || n == 0 {
		return false
	}
	ts, found := objectTimestamp(unsafe.Slice((*byte)(unsafe.Pointer(ext)), int(n)))
	if found && out != nil {
		*out = C.uint64_t(ts)
	}
	return C.bool(found)
}

// subOptsSize03 is the size of the 0.3 MoqSubscribeOptions layout: the
// fields before on_subscribed (0.6).
const subOptsSize03 = C.size_t(unsafe.Offsetof(C.MoqSubscribeOptions{}.on_subscribed))

// moq_subscribe_options_init is the 0.3 symbol: programs built against
// older headers call it with a 0.3 MoqSubscribeOptions, so it fills that
// layout only. The current header maps the name to
// moq_subscribe_options_init_sized.
//
//export moq_subscribe_options_init
func moq_subscribe_options_init(o *C.MoqSubscribeOptions) {
	defer recoverFail()
	clearLastError()
	initSubOpts(o, subOptsSize03)
}

//export moq_subscribe_options_init_sized
func moq_subscribe_options_init_sized(o *C.MoqSubscribeOptions, size C.size_t) {
	defer recoverFail()
	clearLastError()
	if size < subOptsSize03 {
		fail(errf(codeInvalid, "options size %d is smaller than the 0.3 MoqSubscribeOptions (%d bytes)", uint64(size), uint64(subOptsSize03)))
		return
	}
	initSubOpts(o, min(size, C.sizeof_MoqSubscribeOptions))
}

// initSubOpts zeroes the first n bytes of *o and sets the defaults.
func initSubOpts(o *C.MoqSubscribeOptions, n C.size_t) {
	if o == nil {
		return
	}
	clear(unsafe.Slice((*byte)(unsafe.Pointer(o)), int(n)))
	o.struct_size = C.uint32_t(n)
	o.filter = C.MOQ_FILTER_LATEST_GROUP
	o.priority = 128
	o.queue_objects = defaultQueueObjects
}

// parseSubscribeOptions validates host MoqSubscribeOptions (nil: defaults).
func parseSubscribeOptions(o *C.MoqSubscribeOptions) (subParams, error) {
	p := subParams{queueLimit: defaultQueueObjects}
	if o == nil {
		return p, nil
	}
	if C.size_t(o.struct_size) < subOptsSize03 {
		return p, errf(codeInvalid, "options struct_size %d is smaller than the 0.3 MoqSubscribeOptions (%d bytes); call moq_subscribe_options_init", uint32(o.struct_size), uint64(subOptsSize03))
	}
	if C.size_t(o.struct_size) >= C.sizeof_MoqSubscribeOptions {
		p.subscribedCB = uintptr(unsafe.Pointer(o.on_subscribed))
	}
	f := &p.opts.Filter
	switch int(o.filter) {
	case 0, C.MOQ_FILTER_LATEST_GROUP:
	case C.MOQ_FILTER_LATEST_OBJECT:
		f.Type = moq.FilterLatestObject
	case C.MOQ_FILTER_ABSOLUTE_START:
		f.Type = moq.FilterAbsoluteStart
		f.Start = moq.Location{Group: uint64(o.start_group), Object: uint64(o.start_object)}
	case C.MOQ_FILTER_ABSOLUTE_RANGE:
		f.Type = moq.FilterAbsoluteRange
		f.Start = moq.Location{Group: uint64(o.start_group), Object: uint64(o.start_object)}
		f.EndGroup = uint64(o.end_group)
		if f.EndGroup < f.Start.Group {
			return p, errf(codeInvalid, "options end_group %d is below start_group %d", f.EndGroup, f.Start.Group)
		}
	default:
		return p, errf(codeInvalid, "options filter %d is not a MoqFilterType", int(o.filter))
	}
	prio := uint8(o.priority)
	p.opts.Priority = &prio
	if o.group_order > 2 {
		return p, errf(codeInvalid, "options group_order %d: want 0 (publisher's), 1 (ascending) or 2 (descending)", uint8(o.group_order))
	}
	p.opts.GroupOrder = uint8(o.group_order)
	p.persistent = bool(o.persistent)
	if o.queue_objects > 0 {
		p.queueLimit = int(o.queue_objects)
	}
	return p, nil
}

//export moq_subscribe_ex
func moq_subscribe_ex(h C.uintptr_t, ns, name *C.char, opts *C.MoqSubscribeOptions, cb C.MoqObjectCallback, ud C.uintptr_t) (s C.uintptr_t) {
	defer recoverFail()
	c, nsS, nameS, err := trackArgs(h, ns, name)
	if err != nil {
		fail(err)
		return 0
	}
	p, err := parseSubscribeOptions(opts)
	if err != nil {
		fail(err)
		return 0
	}
	kind := kindObject
	if cb == nil {
		kind = kindPoll
	}
	sub, err := c.subscribeKind(nsS, nameS, uintptr(unsafe.Pointer(cb)), uintptr(ud), kind, p)
	if err != nil {
		fail(err)
		return 0
	}
	clearLastError()
	return C.uintptr_t(sub.id)
}

//export moq_subscriber_poll
func moq_subscriber_poll(h C.uintptr_t, obj *C.MoqObject, buf *C.uint8_t, bufLen C.size_t, needed *C.size_t, timeoutMS C.uint32_t) (res C.MoqResult) {
	defer recoverResult(&res)
	s, err := subscriberArg(h)
	if err != nil {
		return toResult(err)
	}
	if obj == nil {
		return toResult(errf(codeInvalid, "object is null"))
	}
	need, err := s.poll(obj, unsafe.Pointer(buf), uint64(bufLen), time.Duration(timeoutMS)*time.Millisecond)
	if needed != nil && (err == nil || codeOf(err) == codeBufferTooSmall) {
		*needed = C.size_t(need)
	}
	return toResult(err)
}

//export moq_fetch
func moq_fetch(h C.uintptr_t, ns, name *C.char, sg, so, eg, eo C.uint64_t, cb C.MoqObjectCallback, done C.MoqFetchDoneCallback, ud C.uintptr_t) (s C.uintptr_t) {
	defer recoverFail()
	c, nsS, nameS, err := trackArgs(h, ns, name)
	if err != nil {
		fail(err)
		return 0
	}
	start := moq.Location{Group: uint64(sg), Object: uint64(so)}
	end := moq.Location{Group: uint64(eg), Object: uint64(eo)}
	if end.Less(start) {
		fail(errf(codeInvalid, "fetch range ends (%d,%d) before it starts (%d,%d)", end.Group, end.Object, start.Group, start.Object))
		return 0
	}
	kind := kindObject
	if cb == nil {
		kind = kindPoll
	}
	p := subParams{fetch: true, start: start, end: end, doneCB: uintptr(unsafe.Pointer(done)), queueLimit: defaultQueueObjects}
	sub, err := c.subscribeKind(nsS, nameS, uintptr(unsafe.Pointer(cb)), uintptr(ud), kind, p)
	if err != nil {
		fail(err)
		return 0
	}
	clearLastError()
	return C.uintptr_t(sub.id)
}

// statsSize checks a stats struct_size: 0 means the 0.3 layout.
func statsSize(got *C.uint32_t, want C.uint32_t) error {
	if *got == 0 {
		*got = want
	}
	if *got < want {
		return errf(codeInvalid, "stats struct_size %d is smaller than the 0.3 layout (%d bytes)", uint32(*got), uint32(want))
	}
	return nil
}

//export moq_client_stats
func moq_client_stats(h C.uintptr_t, st *C.MoqClientStats) (res C.MoqResult) {
	defer recoverResult(&res)
	c, err := clientArg(h)
	if err != nil {
		return toResult(err)
	}
	if st == nil {
		return toResult(errf(codeInvalid, "stats is null"))
	}
	if err := statsSize(&st.struct_size, C.sizeof_MoqClientStats); err != nil {
		return toResult(err)
	}
	cs, rec, err := c.stats()
	if err != nil {
		return toResult(err)
	}
	st.rtt_us = C.uint64_t(cs.SmoothedRTT.Microseconds())
	st.bytes_sent = C.uint64_t(cs.BytesSent)
	st.bytes_received = C.uint64_t(cs.BytesReceived)
	st.packets_sent = C.uint64_t(cs.PacketsSent)
	st.packets_received = C.uint64_t(cs.PacketsReceived)
	st.packets_lost = C.uint64_t(cs.PacketsLost)
	st.reconnects = C.uint64_t(rec)
	return toResult(nil)
}

//export moq_subscriber_stats
func moq_subscriber_stats(h C.uintptr_t, st *C.MoqSubscriberStats) (res C.MoqResult) {
	defer recoverResult(&res)
	s, err := subscriberArg(h)
	if err != nil {
		return toResult(err)
	}
	if st == nil {
		return toResult(errf(codeInvalid, "stats is null"))
	}
	// The 0.3 layout ends before active; 0.4 adds active and resubscribes.
	v03 := C.uint32_t(unsafe.Offsetof(st.active))
	if err := statsSize(&st.struct_size, v03); err != nil {
		return toResult(err)
	}
	ss := s.stats()
	st.objects = C.uint64_t(ss.objects)
	st.bytes = C.uint64_t(ss.bytes)
	st.dropped = C.uint64_t(ss.dropped)
	st.has_latest = C.bool(ss.hasLatest)
	st.latest_group = C.uint64_t(ss.latest.Group)
	st.latest_object = C.uint64_t(ss.latest.Object)
	if st.struct_size >= C.sizeof_MoqSubscriberStats {
		st.active = C.bool(ss.active)
		st.resubscribes = C.uint64_t(ss.resubscribes)
	}
	return toResult(nil)
}

//export moq_set_log_callback
func moq_set_log_callback(cb C.MoqLogCallback, level C.MoqLogLevel, ud C.uintptr_t) {
	defer recoverFail()
	clearLastError()
	setLogCallback(uintptr(unsafe.Pointer(cb)), uintptr(ud), int(level))
}

//export moq_publish_catalog
func moq_publish_catalog(h C.uintptr_t, ns, name *C.char, tracks *C.MoqTrackInfo, n C.size_t) (res C.MoqResult) {
	defer recoverResult(&res)
	c, err := clientArg(h)
	if err != nil {
		return toResult(err)
	}
	nsS, err := goString(ns, "namespace", maxNameLen)
	if err != nil {
		return toResult(err)
	}
	nameS := ".catalog"
	if name != nil {
		if nameS, err = goString(name, "catalog track name", maxNameLen); err != nil {
			return toResult(err)
		}
	}
	if tracks == nil && n > 0 {
		return toResult(errf(codeInvalid, "tracks is null but track_count is non-zero"))
	}
	if n > maxCatalogTracks {
		return toResult(errf(codeInvalid, "track_count %d exceeds %d", uint64(n), maxCatalogTracks))
	}
	var infos []trackInfo
	if n > 0 {
		for i, t := range unsafe.Slice(tracks, int(n)) {
			name, err := goString(t.name, "tracks[].name", maxNameLen)
			if err != nil || name == "" {
				return toResult(errf(codeInvalid, "tracks[%d].name is null, empty or not UTF-8", i))
			}
			ti := trackInfo{Name: name, Width: uint32(t.width), Height: uint32(t.height), Bitrate: uint32(t.bitrate), SampleRate: uint32(t.sample_rate)}
			for _, f := range []struct {
				p   *C.char
				dst *string
				nm  string
			}{{t.codec, &ti.Codec, "codec"}, {t.mime_type, &ti.MimeType, "mime_type"}, {t.language, &ti.Language, "language"}} {
				if f.p != nil {
					v, err := goString(f.p, "tracks[]."+f.nm, maxNameLen)
					if err != nil {
						return toResult(errf(codeInvalid, "tracks[%d].%s: %v", i, f.nm, err))
					}
					*f.dst = v
				}
			}
			infos = append(infos, ti)
		}
	}
	return toResult(c.publishCatalog(nsS, nameS, infos))
}
