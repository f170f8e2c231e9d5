package main

/*
#cgo CFLAGS: -I${SRCDIR}/../include
#include "bridge.h"
*/
import "C"

//export moq_publisher_stats
func moq_publisher_stats(h C.uintptr_t, st *C.MoqPublisherStats) (res C.MoqResult) {
	defer recoverResult(&res)
	p, err := publisherArg(h)
	if err != nil {
		return toResult(err)
	}
	if st == nil {
		return toResult(errf(codeInvalid, "stats is null"))
	}
	if st.struct_size == 0 {
		st.struct_size = C.sizeof_MoqPublisherStats
	}
	if st.struct_size < C.sizeof_MoqPublisherStats {
		return toResult(errf(codeInvalid, "stats struct_size %d is smaller than the 0.6 layout (%d bytes)",
			uint32(st.struct_size), C.sizeof_MoqPublisherStats))
	}
	ts := p.pt.track.Stats()
	st.objects = C.uint64_t(ts.ObjectsIn)
	st.bytes = C.uint64_t(ts.BytesIn)
	st.dropped = C.uint64_t(ts.Dropped)
	st.would_block = C.uint64_t(ts.WouldBlock)
	return toResult(nil)
}
