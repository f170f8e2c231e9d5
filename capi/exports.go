// Command capi is the C library libmoq_ffi (build with -buildmode=c-shared
// or c-archive). Its API is include/moq_ffi.h; the exports below implement
// it (moq_version, moq_last_error and moq_free_str are in bridge.c).
//
// Handles are passed as uintptr_t in the exported signatures: the ABI is
// that of the header's pointer types, and Go never holds a host-made value
// as a pointer.
package main

/*
#cgo CFLAGS: -I${SRCDIR}/../include
#include "bridge.h"
*/
import "C"

import "unsafe"

func main() {}

func clientArg(h C.uintptr_t) (*client, error) {
	if h == 0 {
		return nil, errf(codeInvalid, "Client is null")
	}
	c := lookupClient(uintptr(h))
	if c == nil {
		return nil, errf(codeInvalid, "client handle is invalid or destroyed")
	}
	return c, nil
}

//export moq_init
func moq_init() (ok C.bool) {
	defer recoverFail()
	clearLastError()
	refreshLogger()
	return true
}

//export moq_client_create
func moq_client_create() (h C.uintptr_t) {
	defer recoverFail()
	c := newClient()
	clearLastError()
	return C.uintptr_t(c.id)
}

//export moq_client_destroy
func moq_client_destroy(h C.uintptr_t) {
	defer recoverFail()
	clearLastError()
	if c := lookupClient(uintptr(h)); c != nil {
		c.destroy()
	}
}

//export moq_connect
func moq_connect(h C.uintptr_t, url *C.char, cb C.MoqConnectionCallback, ud C.uintptr_t) (res C.MoqResult) {
	defer recoverResult(&res)
	if h == 0 || url == nil {
		return toResult(errf(codeInvalid, "Client or URL is null"))
	}
	c, err := clientArg(h)
	if err != nil {
		return toResult(err)
	}
	u, err := goString(url, "URL", maxURLLen)
	if err != nil {
		return toResult(err)
	}
	return toResult(c.connect(u, uintptr(unsafe.Pointer(cb)), uintptr(ud)))
}

//export moq_disconnect
func moq_disconnect(h C.uintptr_t) (res C.MoqResult) {
	defer recoverResult(&res)
	c, err := clientArg(h)
	if err != nil {
		return toResult(err)
	}
	return toResult(c.disconnect())
}

//export moq_is_connected
func moq_is_connected(h C.uintptr_t) (ok C.bool) {
	defer recoverFail()
	c, err := clientArg(h)
	if err != nil {
		fail(err)
		return false
	}
	up, err := c.isConnected()
	if !up {
		fail(err)
		return false
	}
	clearLastError()
	return true
}

//export moq_announce_namespace
func moq_announce_namespace(h C.uintptr_t, ns *C.char) (res C.MoqResult) {
	defer recoverResult(&res)
	c, err := clientArg(h)
	if err != nil {
		return toResult(err)
	}
	s, err := goString(ns, "namespace", maxNameLen)
	if err != nil {
		return toResult(err)
	}
	return toResult(c.announce(s))
}

//export moq_create_publisher
func moq_create_publisher(h C.uintptr_t, ns, name *C.char) (p C.uintptr_t) {
	defer recoverFail()
	return createPublisher(h, ns, name, deliveryStream)
}

//export moq_create_publisher_ex
func moq_create_publisher_ex(h C.uintptr_t, ns, name *C.char, mode C.MoqDeliveryMode) (p C.uintptr_t) {
	defer recoverFail()
	return createPublisher(h, ns, name, int(mode))
}

func createPublisher(h C.uintptr_t, ns, name *C.char, mode int) C.uintptr_t {
	c, nsS, nameS, err := trackArgs(h, ns, name)
	if err != nil {
		fail(err)
		return 0
	}
	p, err := c.createPublisher(nsS, nameS, mode)
	if err != nil {
		fail(err)
		return 0
	}
	clearLastError()
	return C.uintptr_t(p.id)
}

//export moq_publisher_destroy
func moq_publisher_destroy(h C.uintptr_t) {
	defer recoverFail()
	clearLastError()
	if p := lookupPublisher(uintptr(h)); p != nil {
		p.destroy()
	}
}

// moq__publish_data is moq_publish_data (bridge.c), which has cleared the
// last error already: a success returns with no call back into C.
//
//export moq__publish_data
func moq__publish_data(h C.uintptr_t, data *C.uint8_t, n C.size_t, mode C.MoqDeliveryMode) (res C.MoqResult) {
	defer recoverResult(&res)
	if h == 0 {
		return toResult(errf(codeInvalid, "Publisher is null"))
	}
	p := lookupPublisher(uintptr(h))
	if p == nil {
		return toResult(errf(codeInvalid, "publisher handle is invalid or destroyed"))
	}
	if data == nil && n > 0 {
		return toResult(errf(codeInvalid, "Data is null but data_len is non-zero"))
	}
	if uint64(n) > uint64(p.maxObj) {
		return toResult(errf(codeInvalid, "data_len %d exceeds the maximum object size of %d bytes", uint64(n), p.maxObj))
	}
	var b []byte
	if n > 0 {
		b = unsafe.Slice((*byte)(unsafe.Pointer(data)), int(n))
	} else {
		b = []byte{}
	}
	if err := p.publish(b, int(mode)); err != nil {
		return toResult(err)
	}
	return C.MoqResult{code: codeOK}
}

//export moq_subscribe
func moq_subscribe(h C.uintptr_t, ns, name *C.char, cb C.MoqDataCallback, ud C.uintptr_t) (s C.uintptr_t) {
	defer recoverFail()
	return subscribe(h, ns, name, uintptr(unsafe.Pointer(cb)), uintptr(ud), false)
}

//export moq_subscribe_catalog
func moq_subscribe_catalog(h C.uintptr_t, ns, name *C.char, cb C.MoqCatalogCallback, ud C.uintptr_t) (s C.uintptr_t) {
	defer recoverFail()
	return subscribe(h, ns, name, uintptr(unsafe.Pointer(cb)), uintptr(ud), true)
}

func subscribe(h C.uintptr_t, ns, name *C.char, cb, ud uintptr, catalog bool) C.uintptr_t {
	c, nsS, nameS, err := trackArgs(h, ns, name)
	if err != nil {
		fail(err)
		return 0
	}
	s, err := c.subscribe(nsS, nameS, cb, ud, catalog)
	if err != nil {
		fail(err)
		return 0
	}
	clearLastError()
	return C.uintptr_t(s.id)
}

// trackArgs decodes the (client, namespace, track name) arguments that the
// track-level exports share, checking them in that order.
func trackArgs(h C.uintptr_t, ns, name *C.char) (*client, string, string, error) {
	c, err := clientArg(h)
	if err != nil {
		return nil, "", "", err
	}
	nsS, err := goString(ns, "namespace", maxNameLen)
	if err != nil {
		return nil, "", "", err
	}
	nameS, err := goString(name, "track name", maxNameLen)
	if err != nil {
		return nil, "", "", err
	}
	return c, nsS, nameS, nil
}

func subscriberArg(h C.uintptr_t) (*subscriber, error) {
	if h == 0 {
		return nil, errf(codeInvalid, "Subscriber is null")
	}
	s := lookupSubscriber(uintptr(h))
	if s == nil {
		return nil, errf(codeInvalid, "subscriber handle is invalid or destroyed")
	}
	return s, nil
}

//export moq_subscriber_destroy
func moq_subscriber_destroy(h C.uintptr_t) {
	defer recoverFail()
	clearLastError()
	if s := lookupSubscriber(uintptr(h)); s != nil {
		s.destroy()
	}
}

//export moq_unsubscribe
func moq_unsubscribe(h C.uintptr_t) (res C.MoqResult) {
	defer recoverResult(&res)
	s, err := subscriberArg(h)
	if err != nil {
		return toResult(err)
	}
	s.halt(errf(codeInvalid, "unsubscribed by moq_unsubscribe"))
	return toResult(nil)
}

//export moq_is_subscribed
func moq_is_subscribed(h C.uintptr_t) (ok C.bool) {
	defer recoverFail()
	s, err := subscriberArg(h)
	if err != nil {
		fail(err)
		return false
	}
	up, err := s.isSubscribed()
	if !up {
		fail(err)
		return false
	}
	clearLastError()
	return true
}

//export moq_subscribe_announces
func moq_subscribe_announces(h C.uintptr_t, cb C.MoqTrackCallback, ud C.uintptr_t) (res C.MoqResult) {
	defer recoverResult(&res)
	c, err := clientArg(h)
	if err != nil {
		return toResult(err)
	}
	return toResult(c.subscribeAnnounces(uintptr(unsafe.Pointer(cb)), uintptr(ud)))
}
