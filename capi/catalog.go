package main

/*
#cgo CFLAGS: -I${SRCDIR}/../include
#include "bridge.h"
*/
import "C"

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"unicode/utf8"
	"unsafe"
)

// trackInfo is one catalog track, as reported in MoqTrackInfo.
type trackInfo struct {
	Name, Codec, MimeType, Language    string
	HasCodec, HasMime, HasLang         bool
	Width, Height, Bitrate, SampleRate uint32
}

// maxCatalogTracks bounds the tracks reported from one catalog.
const maxCatalogTracks = 4096

// parseCatalog parses a catalog object: draft-ietf-moq-catalogformat-01
// (selectionParams, commonTrackFields) or the flat WARP / MSF layout.
func parseCatalog(b []byte) ([]trackInfo, error) {
	if !utf8.Valid(b) {
		return nil, errors.New("catalog is not valid UTF-8")
	}
	t := bytes.TrimSpace(b)
	if len(t) > 0 && t[0] == '[' {
		return nil, errors.New("catalog is a JSON array (a JSON Patch delta update?); delta updates are not supported")
	}
	var root map[string]json.RawMessage
	if err := json.Unmarshal(t, &root); err != nil {
		return nil, fmt.Errorf("catalog is not a JSON object: %w", err)
	}
	if v, ok := root["version"]; ok {
		if _, ok := jsonNumberOrString(v); !ok {
			return nil, errors.New(`catalog "version" is neither a number nor a string`)
		}
	}
	if d, ok := root["deltaUpdate"]; ok && string(bytes.TrimSpace(d)) == "true" {
		return nil, errors.New("delta catalog updates are not supported")
	}
	rawTracks, ok := root["tracks"]
	if !ok {
		return nil, errors.New(`catalog has no "tracks" array`)
	}
	var tracks []map[string]json.RawMessage
	if err := json.Unmarshal(rawTracks, &tracks); err != nil {
		return nil, fmt.Errorf(`catalog "tracks" is not an array of objects: %w`, err)
	}
	var common map[string]json.RawMessage
	if c, ok := root["commonTrackFields"]; ok {
		if err := json.Unmarshal(c, &common); err != nil {
			return nil, fmt.Errorf(`catalog "commonTrackFields" is not an object: %w`, err)
		}
	}
	out := make([]trackInfo, 0, min(len(tracks), maxCatalogTracks))
	for _, tr := range tracks {
		if len(out) == maxCatalogTracks {
			break
		}
		fields := mergeFields(common, tr)
		var ti trackInfo
		name, ok := jsonString(fields["name"])
		if !ok || name == "" {
			continue
		}
		ti.Name = name
		ti.Codec, ti.HasCodec = jsonString(fields["codec"])
		ti.MimeType, ti.HasMime = jsonString(fields["mimeType"])
		ti.Language, ti.HasLang = jsonString(fields["lang"])
		ti.Width = jsonU32(fields["width"])
		ti.Height = jsonU32(fields["height"])
		ti.Bitrate = jsonU32(fields["bitrate"])
		ti.SampleRate = jsonU32(fields["samplerate"])
		out = append(out, ti)
	}
	return out, nil
}

// mergeFields flattens a track: commonTrackFields, then the track's own
// fields, each with its selectionParams lifted to the top level (a track's
// own values win).
func mergeFields(common, track map[string]json.RawMessage) map[string]json.RawMessage {
	m := map[string]json.RawMessage{}
	add := func(src map[string]json.RawMessage) {
		for k, v := range src {
			if k != "selectionParams" {
				m[k] = v
			}
		}
		if sp, ok := src["selectionParams"]; ok {
			var p map[string]json.RawMessage
			if json.Unmarshal(sp, &p) == nil {
				for k, v := range p {
					m[k] = v
				}
			}
		}
	}
	add(common)
	add(track)
	return m
}

func jsonString(v json.RawMessage) (string, bool) {
	if v == nil {
		return "", false
	}
	var s string
	if json.Unmarshal(v, &s) != nil || strings.IndexByte(s, 0) >= 0 {
		return "", false
	}
	return s, true
}

func jsonNumberOrString(v json.RawMessage) (string, bool) {
	if s, ok := jsonString(v); ok {
		return s, true
	}
	var n json.Number
	if json.Unmarshal(v, &n) == nil {
		return n.String(), true
	}
	return "", false
}

// jsonU32 reads an integer in 0..MaxUint32 (a number, or a string holding
// one); anything else is 0.
func jsonU32(v json.RawMessage) uint32 {
	if v == nil {
		return 0
	}
	var f float64
	if err := json.Unmarshal(v, &f); err != nil {
		s, ok := jsonString(v)
		if !ok {
			return 0
		}
		if _, err := fmt.Sscanf(strings.TrimSpace(s), "%g", &f); err != nil {
			return 0
		}
	}
	if f < 0 || f > math.MaxUint32 || f != math.Trunc(f) {
		return 0
	}
	return uint32(f)
}

// deliverCatalog parses payload and calls the host's catalog callback with
// the tracks, in one C block freed after the call.
func deliverCatalog(cb, ud uintptr, payload []byte, where string) {
	tracks, err := parseCatalog(payload)
	if err != nil {
		logger().Warn("malformed catalog skipped", "track", where, "err", err)
		return
	}
	if len(tracks) == 0 {
		C.moq__call_catalog(C.uintptr_t(cb), C.uintptr_t(ud), nil, 0)
		return
	}
	size := int(unsafe.Sizeof(C.MoqTrackInfo{})) * len(tracks)
	strs := 0
	for _, t := range tracks {
		strs += len(t.Name) + len(t.Codec) + len(t.MimeType) + len(t.Language) + 4
	}
	block := C.malloc(C.size_t(size + strs))
	if block == nil {
		logger().Error("out of memory delivering a catalog", "track", where)
		return
	}
	defer C.free(block)
	infos := unsafe.Slice((*C.MoqTrackInfo)(block), len(tracks))
	buf := unsafe.Slice((*byte)(unsafe.Add(block, size)), strs)
	off := 0
	put := func(s string, has bool) *C.char {
		if !has {
			return nil
		}
		p := (*C.char)(unsafe.Pointer(&buf[off]))
		copy(buf[off:], s)
		buf[off+len(s)] = 0
		off += len(s) + 1
		return p
	}
	for i, t := range tracks {
		infos[i] = C.MoqTrackInfo{
			name:        put(t.Name, true),
			codec:       put(t.Codec, t.HasCodec),
			mime_type:   put(t.MimeType, t.HasMime),
			width:       C.uint32_t(t.Width),
			height:      C.uint32_t(t.Height),
			bitrate:     C.uint32_t(t.Bitrate),
			sample_rate: C.uint32_t(t.SampleRate),
			language:    put(t.Language, t.HasLang),
		}
	}
	C.moq__call_catalog(C.uintptr_t(cb), C.uintptr_t(ud), &infos[0], C.size_t(len(tracks)))
}
