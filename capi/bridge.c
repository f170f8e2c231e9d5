/* C side of the library: per-thread state, callback trampolines, and the
 * exports that need no Go (moq_version, moq_last_error, moq_last_error_code,
 * moq_free_str). */
#include "moq_ffi.h" /* with prototypes: the definitions below must match them */
#include "bridge.h"

#include <stdlib.h>
#include <string.h>

/* moq_last_error storage: a fixed per-thread buffer, so that nothing is left
 * to free when a thread exits. Longer messages are cut at a UTF-8 boundary. */
#define MOQ__ERR_CAP 2048
static _Thread_local char moq__err_buf[MOQ__ERR_CAP];
static _Thread_local int moq__err_set;
static _Thread_local int moq__err_code;
static _Thread_local int moq__cb_depth;

void moq__set_last_error(int code, const char* msg, size_t len) {
    if (len >= MOQ__ERR_CAP) {
        len = MOQ__ERR_CAP - 1;
        /* Do not end inside a multi-byte UTF-8 sequence. */
        while (len > 0 && (((unsigned char)msg[len]) & 0xC0) == 0x80) {
            len--;
        }
    }
    memcpy(moq__err_buf, msg, len);
    moq__err_buf[len] = '\0';
    moq__err_set = 1;
    moq__err_code = code;
}

void moq__clear_last_error(void) { moq__err_set = 0; }

int moq__in_callback(void) { return moq__cb_depth > 0; }

/* The last error is cleared here, in C, so that a successful call makes no
 * call from Go back into C (one cgo transition less per published object). */
MOQ_API MoqResult moq_publish_data(MoqPublisher* publisher, const uint8_t* data, size_t data_len,
                                   MoqDeliveryMode mode) {
    moq__err_set = 0;
    return moq__publish_data((uintptr_t)publisher, (uint8_t*)data, data_len, mode);
}

MOQ_API const char* moq_last_error(void) { return moq__err_set ? moq__err_buf : NULL; }

MOQ_API MoqResultCode moq_last_error_code(void) { return moq__err_set ? (MoqResultCode)moq__err_code : MOQ_OK; }

MOQ_API void moq_free_str(const char* str) { free((void*)str); }

MOQ_API const char* moq_version(void) { return "moq_ffi 0.6.0 (IETF Draft 07, 14, 16, 18, 20)"; }

void moq__call_conn(uintptr_t cb, uintptr_t ud, int state) {
    moq__cb_depth++;
    ((MoqConnectionCallback)cb)((void*)ud, (MoqConnectionState)state);
    moq__cb_depth--;
}

void moq__call_data(uintptr_t cb, uintptr_t ud, const uint8_t* data, size_t len) {
    moq__cb_depth++;
    ((MoqDataCallback)cb)((void*)ud, data, len);
    moq__cb_depth--;
}

void moq__call_track(uintptr_t cb, uintptr_t ud, const char* ns) {
    moq__cb_depth++;
    ((MoqTrackCallback)cb)((void*)ud, ns, NULL);
    moq__cb_depth--;
}

void moq__call_catalog(uintptr_t cb, uintptr_t ud, const MoqTrackInfo* tracks, size_t n) {
    moq__cb_depth++;
    ((MoqCatalogCallback)cb)((void*)ud, tracks, n);
    moq__cb_depth--;
}

void moq__call_object(uintptr_t cb, uintptr_t ud, uint64_t group, uint64_t subgroup, uint64_t object,
                      uint8_t priority, uint8_t status, const uint8_t* payload, size_t payload_len,
                      const uint8_t* ext, size_t ext_len, uint64_t received_us) {
    MoqObject o;
    memset(&o, 0, sizeof o);
    o.group_id = group;
    o.subgroup_id = subgroup;
    o.object_id = object;
    o.priority = priority;
    o.status = status;
    o.payload = payload;
    o.payload_len = payload_len;
    o.extensions = ext_len ? ext : NULL;
    o.extensions_len = ext_len;
    o.received_us = received_us;
    moq__cb_depth++;
    ((MoqObjectCallback)cb)((void*)ud, &o);
    moq__cb_depth--;
}

void moq__call_log(uintptr_t cb, uintptr_t ud, int level, const char* msg) {
    moq__cb_depth++;
    ((MoqLogCallback)cb)((void*)ud, (MoqLogLevel)level, msg);
    moq__cb_depth--;
}

void moq__call_fetch_done(uintptr_t cb, uintptr_t ud, int code, const char* msg) {
    moq__cb_depth++;
    ((MoqFetchDoneCallback)cb)((void*)ud, (MoqResultCode)code, msg);
    moq__cb_depth--;
}

void moq__call_subscribed(uintptr_t cb, uintptr_t ud, uintptr_t sub, int code, const char* msg) {
    moq__cb_depth++;
    ((MoqSubscribedCallback)cb)((void*)ud, (MoqSubscriber*)sub, (MoqResultCode)code, msg);
    moq__cb_depth--;
}

static const uint8_t moq__empty_byte = 0;
const uint8_t* moq__empty(void) { return &moq__empty_byte; }

const char* moq__getenv(const char* name) { return getenv(name); }
