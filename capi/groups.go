package main

import (
	"encoding/json"
	"errors"
	"time"

	"github.com/moq-ffi/moq-ffi-go/internal/wire"
	"github.com/moq-ffi/moq-ffi-go/moq"
)

// extTimestampUS is MOQ_EXT_TIMESTAMP_US.
const extTimestampUS = 0x6D6F7100

// setPriority implements moq_publisher_set_priority.
func (p *publisher) setPriority(prio uint8) error {
	c := p.c
	c.mu.Lock()
	dead := p.dead || c.dead
	c.mu.Unlock()
	if dead {
		return errf(codeInvalid, "publisher handle is invalid or destroyed")
	}
	p.mu.Lock()
	p.prio = &prio
	p.mu.Unlock()
	return nil
}

// groupBegin implements moq_group_begin.
func (p *publisher) groupBegin(id *uint64) (uint64, error) {
	if err := p.usable(); err != nil {
		return 0, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.inGroup {
		p.inGroup = false
		p.pt.track.EndGroup(p.group)
	}
	gw, err := p.pt.track.OpenGroup(id)
	if err != nil {
		return 0, p.mapWriteErr(err)
	}
	p.inGroup, p.group, p.nextObj = true, gw.Group(), 0
	return p.group, nil
}

// groupWrite implements moq_group_write (data and ext are host memory,
// copied here).
func (p *publisher) groupWrite(data, ext []byte) (uint64, error) {
	if len(data) > p.maxObj {
		return 0, errf(codeInvalid, "data_len %d exceeds the maximum object size of %d bytes", len(data), p.maxObj)
	}
	if len(ext) > 0 {
		if err := wire.ValidateExtensions(ext, nil); err != nil {
			return 0, errf(codeInvalid, "malformed extension headers: %v", err)
		}
	}
	if err := p.usable(); err != nil {
		return 0, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.inGroup {
		return 0, errf(codeInvalid, "no group in progress; call moq_group_begin first")
	}
	o := &moq.Object{Group: p.group, ID: p.nextObj, Priority: 128, Payload: append([]byte{}, data...)}
	if p.prio != nil {
		o.Priority = *p.prio
	}
	if len(ext) > 0 {
		o.Extensions = append([]byte(nil), ext...)
	}
	if err := p.pt.track.WriteObject(o); err != nil {
		return 0, p.mapWriteErr(err)
	}
	p.nextObj++
	return o.ID, nil
}

// timestampExt builds an extension headers block holding
// MOQ_EXT_TIMESTAMP_US (0: now).
func timestampExt(us uint64) []byte {
	if us == 0 {
		us = uint64(time.Now().UnixMicro())
	}
	b := wire.AppendVarint(nil, extTimestampUS)
	return wire.AppendVarint(b, us)
}

// objectTimestamp implements moq_object_timestamp: it walks the key-value
// pairs of an extension headers block (even keys carry a varint, odd keys a
// length and bytes).
func objectTimestamp(ext []byte) (uint64, bool) {
	for len(ext) > 0 {
		k, n, err := wire.ParseVarint(ext)
		if err != nil {
			return 0, false
		}
		ext = ext[n:]
		v, n, err := wire.ParseVarint(ext)
		if err != nil {
			return 0, false
		}
		ext = ext[n:]
		if k%2 == 1 {
			if v > uint64(len(ext)) {
				return 0, false
			}
			ext = ext[v:]
			continue
		}
		if k == extTimestampUS {
			return v, true
		}
	}
	return 0, false
}

// groupEnd implements moq_group_end.
func (p *publisher) groupEnd() error {
	c := p.c
	c.mu.Lock()
	dead := p.dead || c.dead
	c.mu.Unlock()
	if dead {
		return errf(codeInvalid, "publisher handle is invalid or destroyed")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.inGroup {
		return errf(codeInvalid, "no group in progress")
	}
	p.inGroup = false
	p.pt.track.EndGroup(p.group)
	return nil
}

// endTrack implements moq_publisher_end_track.
func (p *publisher) endTrack() error {
	c := p.c
	c.mu.Lock()
	if p.dead || c.dead {
		c.mu.Unlock()
		return errf(codeInvalid, "publisher handle is invalid or destroyed")
	}
	p.pt.ended = true
	if c.tracks[p.pt.key] == p.pt {
		delete(c.tracks, p.pt.key)
	}
	c.mu.Unlock()
	p.mu.Lock()
	p.inGroup = false
	p.mu.Unlock()
	p.pt.track.Close()
	return nil
}

// catalogJSON writes a draft-ietf-moq-catalogformat-01 catalog.
func catalogJSON(tracks []trackInfo) ([]byte, error) {
	type sel struct {
		Codec      string `json:"codec,omitempty"`
		MimeType   string `json:"mimeType,omitempty"`
		Width      uint32 `json:"width,omitempty"`
		Height     uint32 `json:"height,omitempty"`
		Bitrate    uint32 `json:"bitrate,omitempty"`
		SampleRate uint32 `json:"samplerate,omitempty"`
		Lang       string `json:"lang,omitempty"`
	}
	type track struct {
		Name            string `json:"name"`
		SelectionParams sel    `json:"selectionParams"`
	}
	type catalog struct {
		Version                int     `json:"version"`
		StreamingFormat        int     `json:"streamingFormat"`
		StreamingFormatVersion string  `json:"streamingFormatVersion"`
		Tracks                 []track `json:"tracks"`
	}
	cat := catalog{Version: 1, StreamingFormat: 1, StreamingFormatVersion: "0.2", Tracks: []track{}}
	for _, t := range tracks {
		cat.Tracks = append(cat.Tracks, track{Name: t.Name, SelectionParams: sel{
			Codec: t.Codec, MimeType: t.MimeType, Width: t.Width, Height: t.Height,
			Bitrate: t.Bitrate, SampleRate: t.SampleRate, Lang: t.Language}})
	}
	return json.Marshal(cat)
}

// publishCatalog implements moq_publish_catalog.
func (c *client) publishCatalog(nsStr, name string, tracks []trackInfo) error {
	ns, err := parseNamespace(nsStr)
	if err != nil {
		return err
	}
	if name == "" {
		return errf(codeInvalid, "catalog track name is empty")
	}
	if len(nsStr)+len(name) > maxNameLen {
		return errf(codeInvalid, "namespace and track name are longer than %d bytes", maxNameLen)
	}
	body, err := catalogJSON(tracks)
	if err != nil {
		return errf(codeInternal, "catalog: %v", err)
	}
	c.mu.Lock()
	if c.dead {
		c.mu.Unlock()
		return errDead()
	}
	if c.sess == nil || c.sess.Err() != nil {
		c.mu.Unlock()
		return errf(codeNotConnected, "Not connected to MoQ server")
	}
	if !c.announcedLocked(ns) {
		c.mu.Unlock()
		return errf(codeInvalid, "Namespace not announced: %s", nsStr)
	}
	if len(body) > c.cfg.maxObjectSize() {
		c.mu.Unlock()
		return errf(codeInvalid, "catalog of %d bytes exceeds the maximum object size of %d bytes", len(body), c.cfg.maxObjectSize())
	}
	k := trackKey(ns, name)
	pt := c.tracks[k]
	if pt == nil {
		tr, err := c.mc.Publish(ns, name, moq.TrackOptions{MaxObjectSize: c.cfg.maxObjectSize()})
		if err != nil {
			c.mu.Unlock()
			return errf(codeInternal, "catalog track: %v", err)
		}
		pt = &pubTrack{key: k, track: tr}
		c.tracks[k] = pt
	}
	if c.catalogs == nil {
		c.catalogs = map[string]bool{}
	}
	if !c.catalogs[k] {
		c.catalogs[k] = true
		pt.refs++ // held by the client until the session ends
	}
	c.mu.Unlock()
	if _, err := pt.track.Write(body); err != nil {
		if errors.Is(err, moq.ErrEnded) {
			return errf(codeNotConnected, "the session has ended")
		}
		return errf(codeInvalid, "publish catalog: %v", err)
	}
	return nil
}
