/* Internal declarations shared by the cgo preambles and bridge.c. Not part of
 * the public API: the public header is include/moq_ffi.h. */
#ifndef MOQ_FFI_BRIDGE_H
#define MOQ_FFI_BRIDGE_H

#define MOQ_FFI_NO_PROTOTYPES 1
#include "moq_ffi.h"
#include <stdlib.h>
#include <string.h>

/* Per-thread last error (bridge.c). */
void moq__set_last_error(int code, const char* msg, size_t len);
void moq__clear_last_error(void);

/* moq_publish_data's Go side (exports.go), called with the last error
 * cleared. */
MoqResult moq__publish_data(uintptr_t h, uint8_t* data, size_t n, MoqDeliveryMode mode);

/* Non-zero while the calling thread is running a library callback. */
int moq__in_callback(void);

/* Trampolines: Go calls the host's function pointers only through these. */
void moq__call_conn(uintptr_t cb, uintptr_t ud, int state);
void moq__call_data(uintptr_t cb, uintptr_t ud, const uint8_t* data, size_t len);
void moq__call_track(uintptr_t cb, uintptr_t ud, const char* ns);
void moq__call_catalog(uintptr_t cb, uintptr_t ud, const MoqTrackInfo* tracks, size_t n);
void moq__call_object(uintptr_t cb, uintptr_t ud, uint64_t group, uint64_t subgroup, uint64_t object,
                      uint8_t priority, uint8_t status, const uint8_t* payload, size_t payload_len,
                      const uint8_t* ext, size_t ext_len, uint64_t received_us);
void moq__call_log(uintptr_t cb, uintptr_t ud, int level, const char* msg);
void moq__call_fetch_done(uintptr_t cb, uintptr_t ud, int code, const char* msg);
void moq__call_subscribed(uintptr_t cb, uintptr_t ud, uintptr_t sub, int code, const char* msg);

/* A valid pointer for zero-length data. */
const uint8_t* moq__empty(void);

/* getenv, read at call time (Go's os.Getenv sees only the start-up
 * environment of a c-shared library's host). */
const char* moq__getenv(const char* name);

#endif
