/*
 * moq_ffi.h - Media over QUIC Transport (MoQT) client library, C interface.
 *
 * This header is the library's manual. It is source- and ABI-compatible with
 * the moq_ffi 0.1.x header (the same 20 functions, names, signatures, enum
 * values, struct layouts and callback types are kept; 0.3 adds the functions
 * and types under "BEYOND THE OLD HEADER"; 0.4 appends two fields to
 * MoqSubscriberStats, a 0.3 host keeping its layout; 0.5 adds MOQ_DRAFT_16,
 * offers draft-16 by default, and appends auth_token to MoqClientConfig with
 * moq_client_config_init_sized; 0.6 adds drafts 18 and 20 (offered first by
 * default), MOQ_DELIVERY_STREAM_RELIABLE with MOQ_ERROR_WOULD_BLOCK,
 * moq_publisher_stats, moq_last_error_code, and on_subscribed at the end of
 * MoqSubscribeOptions with moq_subscribe_options_init_sized): a host written against 0.1.x compiles and
 * links against this library unchanged. Where 0.1.x
 * misbehaved, this library does what the documentation below says; each such
 * change is marked "Changed from 0.1".
 *
 * ---------------------------------------------------------------------------
 * OVERVIEW
 * ---------------------------------------------------------------------------
 *   moq_init();                                  // optional
 *   MoqClient* c = moq_client_create();
 *   MoqResult r = moq_connect(c, "https://relay.example:4443/", on_state, ctx);
 *   if (r.code != MOQ_OK) { fprintf(stderr, "%s\n", r.message); moq_free_str(r.message); }
 *   moq_announce_namespace(c, "game/match-7");          // publisher side
 *   MoqPublisher* p = moq_create_publisher_ex(c, "game/match-7", "state", MOQ_DELIVERY_STREAM);
 *   moq_publish_data(p, bytes, n, MOQ_DELIVERY_STREAM);
 *   MoqSubscriber* s = moq_subscribe(c, "game/match-7", "state", on_data, ctx);  // subscriber side
 *   ...
 *   moq_subscriber_destroy(s); moq_publisher_destroy(p);
 *   moq_disconnect(c); moq_client_destroy(c);
 *
 * ---------------------------------------------------------------------------
 * PROTOCOL
 * ---------------------------------------------------------------------------
 * URLs: "https://host[:port]/path" connects over WebTransport (HTTP/3);
 * "moqt://host[:port]/path" connects over raw QUIC (ALPN "moqt-20",
 * "moqt-18", "moqt-16" and/or "moq-00", by the drafts offered). The default
 * port is 443.
 *
 * Drafts: MoQT draft-20, draft-18, draft-16, draft-14 and draft-07 (both the
 * specification's data layout and the Cloudflare / moq-rs layout). By default
 * moq_connect offers draft-20, draft-18, draft-16 and draft-14 in one
 * handshake (ALPN "moqt-20", "moqt-18", "moqt-16" and "moq-00"; over
 * WebTransport the
 * WT-Available-Protocols header) and runs the one the server picks; if the
 * server refuses draft-14 in SETUP, it reconnects offering
 * draft-07 with the Cloudflare layout. The environment variable MOQ_FFI_DRAFT
 * or MoqClientConfig.draft overrides this (see ENVIRONMENT). moq_version()
 * names the drafts supported.
 *
 * Strings: URLs, namespaces and track names are NUL-terminated UTF-8
 * (otherwise MOQ_ERROR_INVALID_ARGUMENT / NULL); URLs at most 8192 bytes.
 *
 * Namespaces: a namespace string is split on '/' into the tuple sent on the
 * wire: "a/b" is ("a","b"). Every field must be non-empty: "", "/a", "a/"
 * and "a//b" are rejected with MOQ_ERROR_INVALID_ARGUMENT (Changed from 0.1,
 * which produced empty fields). At most 32 fields; namespace plus track name
 * at most 4096 bytes. Namespaces reported to the host (announce callback) are
 * written the same way, without a leading '/' (Changed from 0.1).
 *
 * Objects: each moq_publish_data call sends one MoQT group holding one object
 * (group IDs count up from 0 per publisher). Objects are at most 16 MiB
 * (MoqClientConfig.max_object_size changes this);
 * datagram objects at most 1024 bytes (one QUIC datagram). Zero-length
 * objects are sent and delivered (Changed from 0.1, which dropped them).
 * An object of any size accepted goes through the queues of this library
 * and of `moq relay` with their default sizes (a queue's byte limit does not
 * count the largest object in it). What may be dropped, where, and where it
 * is counted depends on the delivery mode: see MoqDeliveryMode.
 *
 * Subscriptions start at the live edge: on draft-07 with the current group
 * (so the latest object is delivered first if one exists), on draft-14 and 16 with
 * the next group. Objects published before that are not delivered.
 *
 * ---------------------------------------------------------------------------
 * TLS
 * ---------------------------------------------------------------------------
 * The server certificate is verified against the system roots. On Linux
 * these are read (once, at the first connection) from the usual system
 * locations, or from SSL_CERT_FILE and SSL_CERT_DIR when set.
 * MOQ_FFI_CA_FILE adds a PEM file of trusted roots.
 * MOQ_FFI_PIN_SHA256 pins the server's certificate instead: one or more
 * SHA-256 fingerprints of the server's leaf certificate (DER), each 64 hex
 * digits (or 32 colon-separated hex pairs), separated by commas. When set,
 * chain and name verification are replaced by the pin (plus the certificate's
 * validity period), as browsers do for WebTransport serverCertificateHashes.
 * This is how a host connects to a relay with a self-signed certificate
 * (`moq relay` prints its fingerprint). The environment has no "insecure"
 * switch; MoqClientConfig.insecure (0.3) skips verification, for tests.
 *
 * ---------------------------------------------------------------------------
 * ENVIRONMENT (read with getenv at each moq_connect, so a host may setenv
 * before connecting; SSL_CERT_* are read when system roots are first loaded)
 * ---------------------------------------------------------------------------
 *   MOQ_FFI_PIN_SHA256          server certificate pin(s), see TLS.
 *   MOQ_FFI_CA_FILE             extra trusted root certificates (PEM file).
 *   MOQ_FFI_DRAFT               drafts to offer, in order, comma-separated:
 *                               "20", "18", "16", "14", "07" (specification
 *                               layout), "07cf" (Cloudflare / moq-rs layout).
 *                               Default "20,18,16,14,07cf". Unknown values make moq_connect
 *                               fail with MOQ_ERROR_INVALID_ARGUMENT.
 *   MOQ_FFI_CONNECT_TIMEOUT_MS  moq_connect deadline, default 10000.
 *   MOQ_FFI_REQUEST_TIMEOUT_MS  deadline for the relay's answer to ANNOUNCE,
 *                               SUBSCRIBE and SUBSCRIBE_ANNOUNCES, default 10000.
 *   MOQ_FFI_IDLE_TIMEOUT_MS     a silent peer is declared dead after this
 *                               long (QUIC idle timeout), default 5000
 *                               (0.6; it was 30000). The library sends
 *                               keep-alives at a third of it, so a live
 *                               but quiet relay is never timed out.
 *   MOQ_FFI_ANNOUNCE_PREFIX     namespace prefix ('/'-separated) that
 *                               moq_subscribe_announces asks the relay for;
 *                               default: all namespaces (see that function).
 *   MOQ_FFI_LOG                 library log level on stderr: "error",
 *                               "warn" (default), "info", "debug", "off".
 *   MOQ_FFI_AUTH_TOKEN          authorization token (e.g. a JWT for
 *                               `moq relay --jwt-key`) sent as the
 *                               AUTHORIZATION TOKEN of CLIENT_SETUP and of
 *                               each request (draft-14; draft-07 requests
 *                               carry it as AUTHORIZATION INFO, and its setup
 *                               cannot: add ?jwt=TOKEN to the URL). At most
 *                               16384 bytes. MoqClientConfig.auth_token
 *                               takes precedence.
 *
 * ---------------------------------------------------------------------------
 * HANDLES
 * ---------------------------------------------------------------------------
 * MoqClient*, MoqPublisher* and MoqSubscriber* are opaque identifiers, not
 * addresses: the library never dereferences them and never reuses a value.
 * Passing NULL, a destroyed handle, a handle of another type or a made-up
 * value is safe: the function fails with MOQ_ERROR_INVALID_ARGUMENT (or
 * returns NULL / false, with moq_last_error() set). Destroying a handle twice
 * is harmless. Publishers and subscribers belong to the client (and to the
 * session) that created them: after moq_client_destroy they are dead (calls
 * on them fail as above; destroying them is still allowed and harmless).
 *
 * ---------------------------------------------------------------------------
 * ERRORS
 * ---------------------------------------------------------------------------
 * Functions returning MoqResult report failure in .code; .message is then a
 * heap string describing it, which the caller must free with moq_free_str
 * (it is NULL when .code is MOQ_OK). Functions returning a handle or bool
 * report failure as NULL / false. In both cases moq_last_error() returns the
 * description on the calling thread, and moq_last_error_code() (0.6) the
 * MoqResultCode.
 *
 * moq_last_error() is per thread. Every function except moq_last_error,
 * moq_last_error_code, moq_free_str and moq_version sets it on failure and
 * clears it (NULL) on success. The returned pointer stays valid until the
 * same thread's next call into the library; do not free it. (Changed from
 * 0.1, which never cleared it.)
 *
 * Every function catches internal faults (Go panics) and reports them as
 * MOQ_ERROR_INTERNAL (or NULL / false); the library never aborts the host.
 * MOQ_ERROR_BUFFER_TOO_SMALL is returned only by moq_subscriber_poll.
 * MOQ_ERROR_WOULD_BLOCK is returned only by the publishing functions
 * (moq_publish_data, moq_group_write, moq_group_write_timestamped) in
 * MOQ_DELIVERY_STREAM_RELIABLE mode.
 * MOQ_ERROR_UNSUPPORTED is not returned by this version.
 *
 * ---------------------------------------------------------------------------
 * THREADS AND BLOCKING
 * ---------------------------------------------------------------------------
 * Every function may be called from any thread, concurrently, including from
 * inside callbacks. Blocking calls have deadlines: moq_connect (connect
 * timeout), moq_announce_namespace, and moq_subscribe_announces when
 * connected (request timeout). moq_disconnect, moq_client_destroy,
 * moq_unsubscribe and moq_subscriber_destroy wait only for a callback of the
 * handles concerned that is running on another thread to return (see
 * CALLBACKS). Everything else returns without waiting for the network.
 *
 * ---------------------------------------------------------------------------
 * CALLBACKS
 * ---------------------------------------------------------------------------
 * - No library lock is held while a callback runs. A callback may call any
 *   library function, including destroying the handle it belongs to or its
 *   client, and moq_connect (which then blocks that callback's thread).
 * - Data, object, fetch-done, catalog and announce callbacks run on threads
 *   created by the library (never the host's threads); log callbacks run on
 *   whichever thread logs, library or host. Connection callbacks for CONNECTING,
 *   CONNECTED and FAILED raised by moq_connect, and DISCONNECTED raised by
 *   moq_disconnect, run on the calling thread before the call returns;
 *   DISCONNECTED or FAILED caused by the network (peer closed the session,
 *   peer went silent, GOAWAY) run on a library thread. Hosts must be
 *   thread-safe accordingly; copy data to your own thread with a queue.
 * - Callbacks of one subscriber are serial (never concurrent) and in order;
 *   so are the connection callbacks of one client, and its announce
 *   callbacks. Callbacks of different handles may run concurrently.
 * - After moq_subscriber_destroy, moq_unsubscribe or moq_client_destroy
 *   returns (moq_disconnect for the client's announce and data callbacks), no
 *   callback of the handles concerned runs or starts, provided the call was
 *   made outside any library callback. A call made from inside a library
 *   callback never waits (so it cannot deadlock): the calling callback itself
 *   finishes normally, and a callback of another handle that was already
 *   running on another thread may still be finishing.
 * - Do not hold a lock in the host while calling a destroy function if one
 *   of your callbacks takes that same lock: the destroy waits for the callback.
 * - Pointers passed to callbacks (data, strings, MoqTrackInfo) are valid only
 *   until the callback returns; copy what you keep. data is never NULL (a
 *   zero-length object gets a valid pointer and data_len 0).
 * - Panicking, longjmp-ing or throwing C++ exceptions out of a callback is
 *   undefined behaviour.
 *
 * ---------------------------------------------------------------------------
 * PROCESS-WIDE NOTES
 * ---------------------------------------------------------------------------
 * The library is written in Go and contains the Go runtime. Only one library
 * built with Go may be loaded in a process. The shared library is never
 * unloaded (dlclose is a no-op). The runtime starts a few threads at load
 * time and installs signal handlers for synchronous signals (SIGSEGV, SIGBUS,
 * SIGFPE), SIGPIPE and SIGURG (preemption); host signal handlers must be
 * installed with SA_ONSTACK. The runtime is never shut down.
 *
 * Exported symbols: libmoq_ffi.so exports only the moq_* functions below
 * (a linker version script hides the rest). libmoq_ffi.a necessarily also
 * defines global Go runtime and cgo symbols (names beginning with "_cgo_",
 * "x_cgo_", "crosscall", "_rt0_", "runtime.", "go:", "type:" and Go package
 * paths, among others); they are not part of the API. Link the archive with
 * -pthread (and -ldl -lm -lresolv on older glibc).
 */
#ifndef MOQ_FFI_H
#define MOQ_FFI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if defined(_WIN32) || defined(__CYGWIN__)
#  ifdef MOQ_FFI_EXPORTS
#    define MOQ_API __declspec(dllexport)
#  else
#    define MOQ_API __declspec(dllimport)
#  endif
#else
#  define MOQ_API __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ======================================================================== */
/* Types                                                                    */
/* ======================================================================== */

/** Result codes. */
typedef enum {
    MOQ_OK = 0,
    /** A NULL, dead or unknown handle, or an invalid argument (bad URL,
     *  namespace, size, state such as "already connected"). */
    MOQ_ERROR_INVALID_ARGUMENT = 1,
    /** The connection could not be established (DNS, QUIC, TLS, WebTransport,
     *  MoQT SETUP failure, or a refused request). message says why. */
    MOQ_ERROR_CONNECTION_FAILED = 2,
    /** The client has no live session (never connected, disconnected, or the
     *  session ended). */
    MOQ_ERROR_NOT_CONNECTED = 3,
    /** A deadline passed: connect timeout, or no answer from the relay. */
    MOQ_ERROR_TIMEOUT = 4,
    /** An internal fault (a caught panic) or an unexpected failure. */
    MOQ_ERROR_INTERNAL = 5,
    /** Not returned by this version. */
    MOQ_ERROR_UNSUPPORTED = 6,
    /** The caller's buffer cannot hold the result (moq_subscriber_poll,
     *  which reports the size needed). */
    MOQ_ERROR_BUFFER_TOO_SMALL = 7,
    /** (0.6) MOQ_DELIVERY_STREAM_RELIABLE: the queue toward a subscriber is
     *  full; nothing was published. Publish the same object again later
     *  (e.g. next frame). */
    MOQ_ERROR_WOULD_BLOCK = 8
} MoqResultCode;

/** A result, returned by value. When code != MOQ_OK, message is a heap
 *  string the caller frees with moq_free_str; it is NULL when code == MOQ_OK. */
typedef struct {
    MoqResultCode code;
    const char* message;
} MoqResult;

/** Connection states reported to MoqConnectionCallback. */
typedef enum {
    MOQ_STATE_DISCONNECTED = 0,
    MOQ_STATE_CONNECTING = 1,
    MOQ_STATE_CONNECTED = 2,
    MOQ_STATE_FAILED = 3
} MoqConnectionState;

/** How a publisher's objects travel, and what may be dropped on the way.
 *  Every object lost between a publisher and a subscriber of this library
 *  is counted: at the publisher in MoqPublisherStats, at the relay in its
 *  moq_relay_dropped_objects_total metric, and at the subscriber in
 *  MoqSubscriberStats.dropped, which also counts (and logs, as a warning at
 *  most once a second) what was lost before reaching it: each group ID
 *  skipped (publishers of this library number groups consecutively; one
 *  that skips IDs on purpose with moq_group_begin is over-counted, up to
 *  4096 per jump) and each group stream the relay or publisher reset
 *  (incomplete) counts as one object. */
typedef enum {
    /** One QUIC datagram per object: unreliable, may be reordered or lost;
     *  at most 1024 bytes per object. Datagrams wait in the same queue
     *  toward each subscriber as stream groups (see MOQ_DELIVERY_STREAM):
     *  a burst faster than the connection loses the oldest there
     *  (MoqPublisherStats.dropped); past it, the network and the receive
     *  queues of QUIC at the relay and the subscriber (128 datagrams each)
     *  lose them silently: the subscriber counts each as a skipped group. */
    MOQ_DELIVERY_DATAGRAM = 0,
    /** One QUIC stream per object (group): reliable and ordered on the
     *  network, but not end to end under load: when the bytes queued toward
     *  a subscriber (the relay, at the publisher; each subscriber, at the
     *  relay) exceed its limit (MoqClientConfig.subscription_buffer, default
     *  8 MiB; `moq relay --subscriber-buffer`), the oldest whole groups are
     *  dropped (MoqPublisherStats.dropped at the publisher) and publishing
     *  never waits. */
    MOQ_DELIVERY_STREAM = 1,
    /** (0.6) MOQ_DELIVERY_STREAM without drops at the publisher: when the
     *  queue toward a subscriber is full, publishing fails with
     *  MOQ_ERROR_WOULD_BLOCK and publishes nothing (counted in
     *  MoqPublisherStats.would_block), and objects once queued are never
     *  dropped: the publisher is paced by its connection. A relay's own
     *  queue toward a subscriber that reads slower than the publisher
     *  writes may still drop; that subscriber counts and logs it
     *  (MoqSubscriberStats.dropped). */
    MOQ_DELIVERY_STREAM_RELIABLE = 2
} MoqDeliveryMode;

/** Opaque handle types (never dereferenced; see HANDLES). */
typedef struct MoqClient MoqClient;
typedef struct MoqPublisher MoqPublisher;
typedef struct MoqSubscriber MoqSubscriber;

/** One track of a catalog. All pointers are valid only during the catalog
 *  callback. codec, mime_type and language may be NULL; numeric fields are 0
 *  when absent. */
typedef struct {
    const char* name;
    const char* codec;
    const char* mime_type;
    uint32_t width;
    uint32_t height;
    uint32_t bitrate;
    uint32_t sample_rate;
    const char* language;
} MoqTrackInfo;

/** Connection state changes of a client. See CALLBACKS for the thread. */
typedef void (*MoqConnectionCallback)(void* user_data, MoqConnectionState state);

/** One received object: data_len bytes at data (never NULL; valid only
 *  during the call). */
typedef void (*MoqDataCallback)(void* user_data, const uint8_t* data, size_t data_len);

/** A namespace announced by the relay: namespace_str is '/'-joined, without
 *  a leading '/'; track_name is always NULL. Valid only during the call. */
typedef void (*MoqTrackCallback)(void* user_data, const char* namespace_str, const char* track_name);

/** A complete catalog: track_count entries at tracks (tracks is NULL when
 *  track_count is 0). Valid only during the call. */
typedef void (*MoqCatalogCallback)(void* user_data, const MoqTrackInfo* tracks, size_t track_count);


/* ======================================================================== */
/* Types added in 0.3 (see "BEYOND THE OLD HEADER" below)                    */
/* ======================================================================== */

/** The library version these declarations describe. */
#define MOQ_FFI_VERSION_MAJOR 0
#define MOQ_FFI_VERSION_MINOR 6
#define MOQ_FFI_VERSION_PATCH 0

/** MoQT draft and wire layout of a client's sessions. */
typedef enum {
    /** MOQ_FFI_DRAFT when set; otherwise draft-20, draft-18, draft-16 or draft-14,
     *  as the server picks, falling back to draft-07 (Cloudflare layout) on
     *  a fresh connection when the server takes none of them. The default. */
    MOQ_DRAFT_AUTO = 0,
    /** Draft-07 with the specification's data layout. */
    MOQ_DRAFT_07 = 7,
    /** Draft-07 as Cloudflare's relay and moq-rs speak it. */
    MOQ_DRAFT_07_CLOUDFLARE = 70,
    /** Draft-14. */
    MOQ_DRAFT_14 = 14,
    /** Draft-16 (Added in 0.5). */
    MOQ_DRAFT_16 = 16,
    /** Draft-18: requests on streams of their own (Added in 0.6; a
     *  0.5 library refuses the value with MOQ_ERROR_INVALID_ARGUMENT). */
    MOQ_DRAFT_18 = 18,
    /** Draft-20: draft-18 sessions with FETCH ranges as LOCATION_FILTER
     *  and joining fetches as fills (Added in 0.6; a 0.5 library
     *  refuses the value with MOQ_ERROR_INVALID_ARGUMENT). */
    MOQ_DRAFT_20 = 20
} MoqDraft;

/**
 * Client configuration, applied with moq_client_configure before
 * moq_connect. Initialise with moq_client_config_init, then set fields:
 * struct_size lets later versions add fields at the end without breaking
 * programs built against this one. Zero numeric fields mean the default.
 * Settings here take precedence over the MOQ_FFI_* environment variables;
 * what is left at its default (zero, NULL, MOQ_DRAFT_AUTO) still follows
 * them. Setting any of ca_file, ca_pem, pin_sha256 or insecure replaces
 * MOQ_FFI_CA_FILE and MOQ_FFI_PIN_SHA256 for this client.
 */
typedef struct {
    /** sizeof(MoqClientConfig), set by moq_client_config_init. */
    uint32_t struct_size;
    MoqDraft draft;
    /** PEM file of additional trusted root certificates, or NULL. */
    const char* ca_file;
    /** PEM bytes of additional trusted root certificates, or NULL. */
    const uint8_t* ca_pem;
    size_t ca_pem_len;
    /** SHA-256 fingerprints (hex, colons allowed, comma-separated) pinning
     *  the server's certificate: chain verification is then replaced by the
     *  pin and the certificate's validity period. NULL: no pin. */
    const char* pin_sha256;
    /** Skip all certificate verification (the connection is then open to
     *  interception). For tests only. */
    bool insecure;
    /** Connect deadline (QUIC, TLS, WebTransport, SETUP). Default 10000. */
    uint32_t connect_timeout_ms;
    /** Deadline for answers to requests (ANNOUNCE, SUBSCRIBE, FETCH).
     *  Default 10000. */
    uint32_t request_timeout_ms;
    /** A silent peer is declared dead after this long: the session ends
     *  (FAILED) with the reason "local idle timeout: no packets from
     *  HOST:PORT for 5s" (moq_last_error after moq_is_connected, and the
     *  message of later calls). Default 5000 (0.6; it was 30000). */
    uint32_t idle_timeout_ms;
    /** QUIC keep-alive period. Default idle_timeout_ms / 3. */
    uint32_t keepalive_ms;
    /** Largest object payload sent or received. Default 16 MiB. */
    uint32_t max_object_size;
    /** Bytes buffered per subscription that the application has not taken;
     *  past it the oldest whole groups are dropped and counted.
     *  Default 8 MiB. */
    uint32_t subscription_buffer;
    /** Reconnect automatically after the session is lost (not after
     *  moq_disconnect), to the URL of the last moq_connect, with
     *  exponential backoff between reconnect_min_ms (default 500) and
     *  reconnect_max_ms (default 30000); each attempt is bounded by
     *  connect_timeout_ms. The connection callback reports the loss
     *  (FAILED or DISCONNECTED, as without reconnect), then, on a library
     *  thread, CONNECTING followed by CONNECTED or FAILED for every
     *  attempt. While reconnecting, moq_is_connected is false, publishing
     *  fails with MOQ_ERROR_NOT_CONNECTED, moq_is_subscribed stays true and
     *  moq_connect is refused (INVALID_ARGUMENT); moq_disconnect and
     *  moq_client_destroy stop it. After reconnecting, namespaces announced
     *  with moq_announce_namespace are announced again (before CONNECTED is
     *  reported), publishers continue (group IDs keep counting up) and
     *  subscriptions (not fetches) are made again, from the live edge (one
     *  the relay refuses is retried with the backoff for up to
     *  request_timeout_ms, as the publisher may still be reconnecting).
     *  moq_client_stats counts the reconnects. reconnect_min_ms and
     *  reconnect_max_ms also pace persistent subscriptions. */
    bool reconnect;
    uint32_t reconnect_min_ms;
    uint32_t reconnect_max_ms;
    /* Added in 0.5: read only when struct_size covers it (moq_client_config_init
     * from this header sets it so). */
    /** Authorization token (e.g. a JWT for `moq relay --jwt-key`) sent as
     *  the AUTHORIZATION TOKEN of CLIENT_SETUP and of each request (draft-14;
     *  draft-07 setup has none, so only requests carry it: put it in the
     *  URL too, ?jwt=TOKEN). At most 16384 bytes. NULL or "": the
     *  MOQ_FFI_AUTH_TOKEN environment variable, if set. */
    const char* auth_token;
} MoqClientConfig;

/** Object status codes (MoqObject.status). */
typedef enum {
    MOQ_OBJECT_NORMAL = 0,
    MOQ_OBJECT_DOES_NOT_EXIST = 1,
    MOQ_OBJECT_END_OF_GROUP = 3,
    MOQ_OBJECT_END_OF_TRACK = 4
} MoqObjectStatus;

/** A received object with its metadata. Pointers are valid only during the
 *  callback (or, from moq_subscriber_poll, point into the caller's buffer). */
typedef struct {
    uint64_t group_id;
    uint64_t subgroup_id;
    uint64_t object_id;
    /** Publisher priority, 0 (first) to 255. */
    uint8_t priority;
    /** A MoqObjectStatus value. */
    uint8_t status;
    const uint8_t* payload;
    size_t payload_len;
    /** The raw draft-14 extension headers block (key-value pairs), or NULL
     *  when there are none. See MOQ_EXT_TIMESTAMP_US. */
    const uint8_t* extensions;
    size_t extensions_len;
    /** When the object was received: microseconds since the Unix epoch. */
    uint64_t received_us;
} MoqObject;

/** A received object with metadata. See CALLBACKS for the thread. */
typedef void (*MoqObjectCallback)(void* user_data, const MoqObject* object);

/**
 * The per-object timestamp convention: an extension header (draft-14) with
 * this even key, whose value is a varint: microseconds since the Unix epoch
 * when the object was captured or published. moq_group_write_timestamped
 * writes it; receivers read it from MoqObject.extensions with
 * moq_object_timestamp. Draft-07 objects carry no extension headers.
 */
#define MOQ_EXT_TIMESTAMP_US 0x6D6F7100u

/** Where a subscription starts. */
typedef enum {
    /** The draft's default: the current group (draft-07) or the next group
     *  (draft-14). */
    MOQ_FILTER_LATEST_GROUP = 1,
    /** From the next object (draft-07: the current object). */
    MOQ_FILTER_LATEST_OBJECT = 2,
    /** From start_group/start_object on. */
    MOQ_FILTER_ABSOLUTE_START = 3,
    /** From start_group/start_object to end_group (inclusive). */
    MOQ_FILTER_ABSOLUTE_RANGE = 4
} MoqFilterType;

/**
 * (Added in 0.6) The answer to a SUBSCRIBE of a subscription made with
 * moq_subscribe_ex and MoqSubscribeOptions.on_subscribed. user_data is
 * moq_subscribe_ex's; subscriber is the handle moq_subscribe_ex returned.
 *   code MOQ_OK: the relay accepted the SUBSCRIBE (SUBSCRIBE_OK): from now
 *     on objects the publisher sends reach this subscriber, so a publisher
 *     may start (no need to publish probes until one arrives). Called once
 *     for the first SUBSCRIBE and again for each resubscription (after a
 *     reconnect; when persistent, each time the track comes back); message
 *     says which ("subscribed to NS/TRACK", "subscribed again to NS/TRACK
 *     (resubscription N)").
 *   any other code: the SUBSCRIBE failed: MOQ_ERROR_CONNECTION_FAILED when
 *     refused (e.g. no such track; message has the relay's code and
 *     reason), MOQ_ERROR_TIMEOUT when unanswered within the request
 *     timeout, MOQ_ERROR_NOT_CONNECTED when the session ended for good.
 *     The message ends with "; retrying" when the subscription goes on
 *     (persistent, or just after a reconnect: moq_is_subscribed stays
 *     true); otherwise the subscription has ended (moq_is_subscribed false).
 * Runs on a library thread, serially with the subscriber's object callbacks
 * (before the objects of the SUBSCRIBE it reports), and never after
 * moq_subscriber_destroy or moq_unsubscribe returns (see CALLBACKS). Ending
 * the subscription yourself reports nothing. message is valid only during
 * the call.
 */
typedef void (*MoqSubscribedCallback)(void* user_data, MoqSubscriber* subscriber, MoqResultCode code,
                                      const char* message);

/** Subscription options for moq_subscribe_ex. Initialise with
 *  moq_subscribe_options_init (struct_size as for MoqClientConfig). */
typedef struct {
    uint32_t struct_size;
    MoqFilterType filter;
    uint64_t start_group;
    uint64_t start_object;
    uint64_t end_group;
    /** Subscriber priority, 0 (first) to 255. Default 128. */
    uint8_t priority;
    /** 0 = the publisher's order, 1 = ascending, 2 = descending. */
    uint8_t group_order;
    /** Keep the subscription alive: when the relay refuses it (e.g. the
     *  track does not exist yet), does not answer, or the publisher ends
     *  the track, subscribe again (with the client's reconnect backoff,
     *  restarting from reconnect_min_ms after each success) until
     *  moq_unsubscribe; moq_is_subscribed stays true meanwhile. */
    bool persistent;
    /** Poll mode only: objects queued at most (default 1024); past it the
     *  oldest whole groups are dropped and counted. */
    uint32_t queue_objects;
    /* Added in 0.6: read only when struct_size covers it
     * (moq_subscribe_options_init from this header sets it so). */
    /** Told the answer to each SUBSCRIBE (see MoqSubscribedCallback), in
     *  callback and poll mode alike. NULL: not told. */
    MoqSubscribedCallback on_subscribed;
} MoqSubscribeOptions;

/** Client statistics (moq_client_stats). */
typedef struct {
    uint32_t struct_size;
    /** Smoothed round-trip time, microseconds (0 when not connected). */
    uint64_t rtt_us;
    uint64_t bytes_sent;
    uint64_t bytes_received;
    uint64_t packets_sent;
    uint64_t packets_received;
    uint64_t packets_lost;
    /** Sessions established after the first (automatic reconnects). */
    uint64_t reconnects;
} MoqClientStats;

/** Subscription statistics (moq_subscriber_stats). */
typedef struct {
    uint32_t struct_size;
    /** Objects delivered to the callback or taken by poll. */
    uint64_t objects;
    uint64_t bytes;
    /** Objects dropped because the application fell behind, and (0.6)
     *  objects lost before reaching this subscriber (see MoqDeliveryMode). */
    uint64_t dropped;
    bool has_latest;
    uint64_t latest_group;
    uint64_t latest_object;
    /* Added in 0.4: filled only when struct_size covers them. */
    /** A SUBSCRIBE is in place now: false while waiting for a session after
     *  a loss, while a persistent subscription retries, and after the end
     *  (moq_is_subscribed stays true in the first two). A fetch: true
     *  while it runs. */
    bool active;
    /** SUBSCRIBEs accepted after the first (after reconnects, and when a
     *  persistent subscription found its track again). */
    uint64_t resubscribes;
} MoqSubscriberStats;

/** (0.6) Publisher statistics (moq_publisher_stats). The numbers are the
 *  track's: every publisher handle of one track reports the same. */
typedef struct {
    uint32_t struct_size;
    /** Objects published on the track, and their payload bytes. */
    uint64_t objects;
    uint64_t bytes;
    /** Objects dropped here before reaching the network: MOQ_DELIVERY_STREAM
     *  groups dropped because the connection to the relay could not keep up
     *  (one count per subscriber queue they were dropped from), and
     *  datagrams the connection refused (too large for the path). */
    uint64_t dropped;
    /** MOQ_DELIVERY_STREAM_RELIABLE publishes refused with
     *  MOQ_ERROR_WOULD_BLOCK. */
    uint64_t would_block;
} MoqPublisherStats;

/** Log levels. */
typedef enum {
    MOQ_LOG_ERROR = 0,
    MOQ_LOG_WARN = 1,
    MOQ_LOG_INFO = 2,
    MOQ_LOG_DEBUG = 3
} MoqLogLevel;

/** A log line (NUL-terminated, no trailing newline; valid only during the
 *  call). Called from any thread, never with a library lock held. */
typedef void (*MoqLogCallback)(void* user_data, MoqLogLevel level, const char* message);

/** The end of a fetch: code MOQ_OK when the fetch completed, otherwise the
 *  error. With MOQ_OK the message says what came: "complete: N objects,
 *  (g,o)..(g,o)", or "partial: ..." when the publisher or relay no longer
 *  (or not yet) had part of the range. The message is valid only during
 *  the call. */
typedef void (*MoqFetchDoneCallback)(void* user_data, MoqResultCode code, const char* message);

#ifndef MOQ_FFI_NO_PROTOTYPES /* defined only when building the library itself */

/* ======================================================================== */
/* Library                                                                  */
/* ======================================================================== */

/**
 * Initialises the library. Optional: the library initialises itself when
 * loaded; calling this any number of times from any thread is harmless.
 * Returns true. Non-blocking.
 */
MOQ_API bool moq_init(void);

/**
 * Returns the library version and the drafts it speaks, a static string that
 * is never freed: "moq_ffi 0.6.0 (IETF Draft 07, 14, 16, 18, 20)". Does not touch
 * moq_last_error.
 */
MOQ_API const char* moq_version(void);

/**
 * Returns the description of the last failure of a library call on the
 * calling thread, or NULL if the thread's last call succeeded (or it made
 * none). The string is owned by the library and valid until this thread's
 * next call into the library (other than moq_last_error); do not free it.
 */
MOQ_API const char* moq_last_error(void);

/**
 * (Added in 0.6) The result code of the last failure of a library call on
 * the calling thread (the code that call returned in MoqResult.code, or would
 * have, for functions returning a handle or bool: e.g.
 * MOQ_ERROR_NOT_CONNECTED when moq_create_publisher_ex or moq_subscribe
 * returned NULL because the session ended), or MOQ_OK exactly when
 * moq_last_error() returns NULL. Per thread, like moq_last_error; does not
 * change it.
 */
MOQ_API MoqResultCode moq_last_error_code(void);

/**
 * Frees a MoqResult.message. NULL is a no-op. Passing any other pointer is
 * undefined behaviour. Does not touch moq_last_error.
 */
MOQ_API void moq_free_str(const char* str);

/* ======================================================================== */
/* Client and connection                                                    */
/* ======================================================================== */

/**
 * Creates a disconnected client. Returns NULL only on an internal fault.
 * Non-blocking. Destroy it with moq_client_destroy.
 */
MOQ_API MoqClient* moq_client_create(void);

/**
 * Destroys a client: closes its session gracefully if it has one
 * (withdraws announced namespaces, unsubscribes, closes the connection with
 * NO_ERROR), stops its announce listener, and kills its publishers and
 * subscribers. No callback of the client or of its publishers and
 * subscribers runs after this returns (see CALLBACKS); no DISCONNECTED
 * callback is delivered for this. A moq_connect running on another thread
 * is cancelled and returns MOQ_ERROR_CONNECTION_FAILED.
 * NULL, dead or unknown handles are ignored. Blocks only to wait for running
 * callbacks (never from inside a callback).
 */
MOQ_API void moq_client_destroy(MoqClient* client);

/**
 * Connects to a MoQT relay or server and completes the MoQT SETUP. Blocks
 * until the session is set up or the connect deadline passes (default 10 s;
 * MOQ_FFI_CONNECT_TIMEOUT_MS).
 *
 * url: "https://..." (WebTransport) or "moqt://..." (raw QUIC).
 * connection_callback (may be NULL) and user_data are stored with the client
 * and receive every later state change of it, replacing any earlier ones.
 *
 * Callbacks: after validation succeeds, CONNECTING, then CONNECTED or FAILED,
 * on the calling thread before this returns. When the session later ends
 * without moq_disconnect, DISCONNECTED (peer closed it normally, or sent
 * GOAWAY) or FAILED (transport error, protocol error, peer silent for the
 * idle timeout) on a library thread; moq_is_connected is false from then on.
 * A relay that was killed or became unreachable is noticed by the idle
 * timeout: 5 s by default (MoqClientConfig.idle_timeout_ms,
 * MOQ_FFI_IDLE_TIMEOUT_MS); until then publishing still returns MOQ_OK. The
 * reason then given starts "local idle timeout: no packets from".
 *
 * GOAWAY: when the relay sends GOAWAY the library closes the session
 * gracefully at once and reports DISCONNECTED; connect again (to the new URI
 * the log names, or the same URL) to continue. A client configured with
 * reconnect does that by itself, to the new URI when the relay gave one.
 *
 * Returns:
 *   MOQ_OK                       connected.
 *   MOQ_ERROR_INVALID_ARGUMENT   NULL/dead client or NULL url (no callback);
 *                                URL not https:// or moqt://, or malformed,
 *                                or with user information ("user@"), a
 *                                fragment ("#...") or a port outside
 *                                1..65535 (no callback; Changed in 0.6:
 *                                these were accepted or failed later); bad
 *                                MOQ_FFI_* setting (no callback); the client
 *                                is already connected or connecting (no
 *                                callback; the existing session is
 *                                untouched; moq_disconnect first). With this
 *                                code connection_callback and user_data are
 *                                NOT stored: the client keeps the earlier
 *                                ones. With every other code they are.
 *   MOQ_ERROR_TIMEOUT            the deadline passed (FAILED fired).
 *   MOQ_ERROR_CONNECTION_FAILED  any other failure, with the reason: DNS,
 *                                unreachable, TLS verification, WebTransport
 *                                refused, no common MoQT version (FAILED
 *                                fired), or the client was destroyed meanwhile.
 * Changed from 0.1: moqt:// accepted; MOQ_ERROR_TIMEOUT on timeout (10 s
 * instead of 30 s); reconnecting a connected client is refused instead of
 * leaking the old session; callbacks run without locks held.
 */
MOQ_API MoqResult moq_connect(MoqClient* client, const char* url,
                              MoqConnectionCallback connection_callback, void* user_data);

/**
 * Closes the client's session gracefully (UNANNOUNCE, UNSUBSCRIBE,
 * CONNECTION_CLOSE with NO_ERROR). Its publishers and subscribers die
 * (subscribers report moq_is_subscribed false; publishers fail with
 * MOQ_ERROR_NOT_CONNECTED); destroy them as usual. Fires DISCONNECTED on the
 * calling thread if the client was connected. The announce listener stays
 * registered and restarts on the next moq_connect. After it returns no data,
 * catalog or announce callback of this client runs (see CALLBACKS).
 * The client can connect again.
 * Returns MOQ_OK (also when not connected), or MOQ_ERROR_INVALID_ARGUMENT for
 * a NULL/dead client. Non-blocking apart from waiting for running callbacks.
 */
MOQ_API MoqResult moq_disconnect(MoqClient* client);

/**
 * True while the client has a live session. Becomes false as soon as the
 * session is gone (moq_disconnect, peer closed, transport failure, idle
 * timeout, GOAWAY). False for NULL/dead handles. When it returns false for a
 * valid client whose session ended, moq_last_error() on this thread says why.
 * Non-blocking. (Changed from 0.1: remote session death is detected.)
 */
MOQ_API bool moq_is_connected(const MoqClient* client);

/* ======================================================================== */
/* Publishing                                                               */
/* ======================================================================== */

/**
 * Announces a namespace (ANNOUNCE on draft-07, PUBLISH_NAMESPACE on
 * draft-14) and waits for the relay's answer, at most the request timeout
 * (default 10 s; MOQ_FFI_REQUEST_TIMEOUT_MS).
 * Returns:
 *   MOQ_OK                       the relay accepted it.
 *   MOQ_ERROR_INVALID_ARGUMENT   NULL/dead client, NULL or invalid namespace
 *                                (see Namespaces), or already announced by
 *                                this client.
 *   MOQ_ERROR_NOT_CONNECTED      no live session, or it ended while waiting.
 *   MOQ_ERROR_CONNECTION_FAILED  the relay refused it (message has the
 *                                relay's code and reason).
 *   MOQ_ERROR_TIMEOUT            no answer in time.
 * Changed from 0.1: waits for and returns the relay's answer.
 */
MOQ_API MoqResult moq_announce_namespace(MoqClient* client, const char* namespace_str);

/**
 * Same as moq_create_publisher_ex(client, namespace_str, track_name,
 * MOQ_DELIVERY_STREAM).
 */
MOQ_API MoqPublisher* moq_create_publisher(MoqClient* client, const char* namespace_str,
                                           const char* track_name);

/**
 * Creates a publisher of track (namespace_str, track_name) on the client's
 * current session. The namespace must have been announced by this client
 * with moq_announce_namespace on the current session. delivery_mode is the
 * default mode of the publisher (moq_publish_data also takes one per call).
 * The relay's subscribers are served as soon as it exists. Creating a second
 * publisher for the same track returns a new handle sharing the same track
 * (group IDs continue); the track ends (subscribers get SUBSCRIBE_DONE /
 * PUBLISH_DONE) when its last publisher is destroyed or the session ends.
 * Returns NULL, with moq_last_error set, for: a NULL/dead client, NULL or
 * invalid namespace or track name, a delivery_mode outside the enum, no live
 * session, or a namespace not announced ("Namespace not announced: <ns>").
 * Non-blocking.
 */
MOQ_API MoqPublisher* moq_create_publisher_ex(MoqClient* client, const char* namespace_str,
                                              const char* track_name, MoqDeliveryMode delivery_mode);

/**
 * Destroys a publisher. When it was the track's last publisher, the track
 * ends: subscribers get SUBSCRIBE_DONE (PUBLISH_DONE). NULL, dead and unknown
 * handles are ignored. Non-blocking.
 */
MOQ_API void moq_publisher_destroy(MoqPublisher* publisher);

/**
 * Publishes data_len bytes as a new group with one object, to every current
 * subscriber of the track. The bytes are copied before the call returns.
 * delivery_mode chooses how this object travels (Changed from 0.1, which
 * ignored it). Zero-length objects are allowed (data may then be NULL).
 * Returns OK when the object was queued for sending (also with no
 * subscriber). Non-blocking: when a subscriber cannot keep up, the oldest
 * whole groups queued for it are dropped (MOQ_DELIVERY_STREAM), or (0.6,
 * MOQ_DELIVERY_STREAM_RELIABLE) nothing is published and the call returns
 * MOQ_ERROR_WOULD_BLOCK (no group ID is used up: publish again later).
 * Returns:
 *   MOQ_ERROR_INVALID_ARGUMENT   NULL/dead publisher; data NULL with
 *                                data_len > 0 ("Data is null but data_len is
 *                                non-zero"); data_len over the maximum
 *                                object size (16 MiB unless configured); a
 *                                datagram over 1024 bytes; delivery_mode
 *                                outside the enum.
 *   MOQ_ERROR_NOT_CONNECTED      the session has ended.
 *   MOQ_ERROR_INTERNAL           an unexpected failure.
 */
MOQ_API MoqResult moq_publish_data(MoqPublisher* publisher, const uint8_t* data, size_t data_len,
                                   MoqDeliveryMode delivery_mode);

/* ======================================================================== */
/* Subscribing                                                              */
/* ======================================================================== */

/**
 * Subscribes to track (namespace_str, track_name). Returns a handle at once;
 * the SUBSCRIBE runs in the background. data_callback (may be NULL: objects
 * are then discarded) receives every object in order, including empty ones
 * (datagram objects in arrival order), serially, on a library thread.
 *
 * moq_is_subscribed is true while the subscription is pending or active. It
 * becomes false when the relay refuses it (SUBSCRIBE_ERROR, e.g. unknown
 * track), when no answer arrives within the request timeout, when the track
 * ends (SUBSCRIBE_DONE / PUBLISH_DONE), or when the session ends; then
 * moq_last_error() on the thread that called moq_is_subscribed gives the
 * reason, and the library also logs it (level "info").
 * Returns NULL, with moq_last_error set, for a NULL/dead client, NULL or
 * invalid namespace or track name, or no live session. Non-blocking.
 * Changed from 0.1: SUBSCRIBE_ERROR and the end of the track are reported.
 */
MOQ_API MoqSubscriber* moq_subscribe(MoqClient* client, const char* namespace_str,
                                     const char* track_name, MoqDataCallback data_callback,
                                     void* user_data);

/**
 * Unsubscribes (sends UNSUBSCRIBE, or cancels a pending SUBSCRIBE) and stops
 * the callbacks: none runs after this returns (see CALLBACKS). The handle
 * stays valid (moq_is_subscribed returns false) until
 * moq_subscriber_destroy. Idempotent.
 * Returns MOQ_OK, or MOQ_ERROR_INVALID_ARGUMENT for a NULL/dead handle.
 */
MOQ_API MoqResult moq_unsubscribe(MoqSubscriber* subscriber);

/**
 * moq_unsubscribe, then frees the handle. Works for catalog subscribers too.
 * NULL, dead and unknown handles are ignored.
 */
MOQ_API void moq_subscriber_destroy(MoqSubscriber* subscriber);

/**
 * True while the subscription is pending or active (see moq_subscribe).
 * False for NULL/dead handles. When false for a valid handle,
 * moq_last_error() on this thread says why it ended. Non-blocking.
 */
MOQ_API bool moq_is_subscribed(const MoqSubscriber* subscriber);

/**
 * Registers (or, with callback NULL, removes) the client's announce
 * listener: callback(user_data, namespace, NULL) for each namespace the relay
 * announces to this client, serially, on a library thread. It may be called
 * before or after moq_connect; it is (re)started on every connect
 * (Changed from 0.1, which never started a listener registered before
 * connect).
 *
 * The listener asks the relay for announcements: SUBSCRIBE_ANNOUNCES with an
 * empty prefix (every namespace) on draft-07. Draft-14 does not allow an
 * empty prefix; there the listener asks for MOQ_FFI_ANNOUNCE_PREFIX if it is
 * set, and otherwise only reports namespaces the relay announces unasked
 * (logged once at "warn"). MOQ_FFI_ANNOUNCE_PREFIX also applies to draft-07.
 * Namespaces the relay had announced before are reported too. Namespaces are
 * reported without a leading '/'. Namespace withdrawals are not reported.
 *
 * When connected this waits for the relay's answer (request timeout).
 * Returns:
 *   MOQ_OK                       registered (and, when connected, accepted).
 *   MOQ_ERROR_INVALID_ARGUMENT   NULL/dead client, or a bad
 *                                MOQ_FFI_ANNOUNCE_PREFIX.
 *   MOQ_ERROR_CONNECTION_FAILED  the relay refused it (the listener stays
 *                                registered for unasked announces).
 *   MOQ_ERROR_TIMEOUT            no answer in time (likewise).
 *   MOQ_ERROR_NOT_CONNECTED      the session ended while waiting (likewise).
 */
MOQ_API MoqResult moq_subscribe_announces(MoqClient* client, MoqTrackCallback callback, void* user_data);

/**
 * Subscribes to a catalog track (for example ".catalog" or "catalog") like
 * moq_subscribe, and parses each object as a complete catalog:
 *   - draft-ietf-moq-catalogformat-01 ("version", "streamingFormat",
 *     "commonTrackFields", "tracks" with "selectionParams"); "version" and
 *     "streamingFormat" may be numbers or strings; commonTrackFields apply
 *     to every track unless overridden;
 *   - the flat WARP / MSF layout (codec, width, ... directly on each track).
 * Mapping to MoqTrackInfo: name; codec; mimeType -> mime_type; width; height;
 * bitrate; samplerate -> sample_rate; lang -> language. Numbers must be
 * integers in 0..4294967295 (else the field is 0); strings with NUL bytes
 * become NULL. Tracks without a name are skipped.
 * callback (may be NULL) receives the full track list after every catalog
 * object (tracks NULL when empty), serially, on a library thread. An object
 * that is not a catalog (bad UTF-8 or JSON, no "tracks" array, a JSON Patch
 * delta update) is logged at "warn" and skipped; it never crashes.
 * Returns NULL as moq_subscribe does. Destroy with moq_subscriber_destroy.
 */
MOQ_API MoqSubscriber* moq_subscribe_catalog(MoqClient* client, const char* namespace_str,
                                             const char* catalog_track_name,
                                             MoqCatalogCallback callback, void* user_data);


/* ======================================================================== */
/* BEYOND THE OLD HEADER (0.3)                                              */
/* ======================================================================== */

/** Fills *config with the defaults and sets struct_size. The library's
 *  moq_client_config_init symbol fills the 0.3 layout only (what programs
 *  built against older headers have); this header maps
 *  moq_client_config_init(config) to moq_client_config_init_sized(config,
 *  sizeof *config), which fills the whole struct. */
MOQ_API void moq_client_config_init(MoqClientConfig* config);

/** (0.5) Fills the first `size` bytes of *config (at least the 0.3 layout;
 *  at most sizeof(MoqClientConfig)) with the defaults and sets struct_size
 *  to what was filled. A size below the 0.3 layout leaves *config
 *  untouched and sets moq_last_error. */
MOQ_API void moq_client_config_init_sized(MoqClientConfig* config, size_t size);
#define moq_client_config_init(config) moq_client_config_init_sized((config), sizeof *(config))

/**
 * Applies a configuration to a client that is not connected (before
 * moq_connect, or after moq_disconnect). The strings are copied.
 * Errors: INVALID_ARGUMENT for a NULL or dead client, a NULL config, a
 * struct_size smaller than the 0.3 layout, an unknown draft, an unreadable
 * ca_file, a malformed pin, or a connected client.
 */
MOQ_API MoqResult moq_client_configure(MoqClient* client, const MoqClientConfig* config);

/** Sets the publisher priority (0 first .. 255, default 128) of this
 *  publisher's later objects: those of moq_group_write and, when sent with
 *  the publisher's own delivery mode, moq_publish_data. INVALID_ARGUMENT
 *  for a dead publisher. */
MOQ_API MoqResult moq_publisher_set_priority(MoqPublisher* publisher, uint8_t priority);

/**
 * Starts a group on a publisher, ending the one in progress, if any. The
 * group's objects travel as the publisher's delivery mode says (one stream
 * per group for MOQ_DELIVERY_STREAM and MOQ_DELIVERY_STREAM_RELIABLE). Each publisher handle has its own
 * group in progress; moq_publish_data still sends one-object groups.
 * group_id NULL: the next group after the largest used; else *group_id,
 * which must not be below the largest group used. *out_group_id (if not
 * NULL) receives the group ID. Errors: INVALID_ARGUMENT (dead publisher,
 * group below the largest), NOT_CONNECTED.
 */
MOQ_API MoqResult moq_group_begin(MoqPublisher* publisher, const uint64_t* group_id, uint64_t* out_group_id);

/**
 * Appends an object to the current group (object IDs 0, 1, 2, ...):
 * data_len bytes of payload (copied), and optionally a raw draft-14
 * extension headers block (ext, ext_len; NULL/0 for none; must be
 * well-formed key-value pairs). *out_object_id (if not NULL) receives the
 * object ID. Errors: INVALID_ARGUMENT (no group begun, data over the maximum
 * object size, malformed extensions, the track ended), NOT_CONNECTED,
 * (0.6) WOULD_BLOCK for a MOQ_DELIVERY_STREAM_RELIABLE publisher whose
 * queue toward a subscriber is full (nothing written: write it again).
 * Extension headers travel only on draft-14 sessions.
 */
MOQ_API MoqResult moq_group_write(MoqPublisher* publisher, const uint8_t* data, size_t data_len,
                                  const uint8_t* ext, size_t ext_len, uint64_t* out_object_id);

/** As moq_group_write, with an extension headers block holding only
 *  MOQ_EXT_TIMESTAMP_US = timestamp_us (0: now; at most 2^62-1). */
MOQ_API MoqResult moq_group_write_timestamped(MoqPublisher* publisher, const uint8_t* data,
                                              size_t data_len, uint64_t timestamp_us,
                                              uint64_t* out_object_id);

/** Ends the current group (its stream ends). INVALID_ARGUMENT when no group
 *  is in progress. */
MOQ_API MoqResult moq_group_end(MoqPublisher* publisher);

/** Ends the track: subscribers are told (PUBLISH_DONE, "track ended") and
 *  later publishing on any publisher of that track fails with
 *  INVALID_ARGUMENT. A publisher created afterwards for the same name
 *  starts a new track. The handle must still be destroyed. */
MOQ_API MoqResult moq_publisher_end_track(MoqPublisher* publisher);

/** Reads the MOQ_EXT_TIMESTAMP_US value from an extension headers block.
 *  Returns false when absent or malformed. */
MOQ_API bool moq_object_timestamp(const uint8_t* ext, size_t ext_len, uint64_t* out_timestamp_us);

/** Fills *options with the defaults and sets struct_size. The library's
 *  moq_subscribe_options_init symbol fills the 0.3 layout only (what
 *  programs built against older headers have); this header maps
 *  moq_subscribe_options_init(options) to
 *  moq_subscribe_options_init_sized(options, sizeof *options). */
MOQ_API void moq_subscribe_options_init(MoqSubscribeOptions* options);

/** (0.6) Fills the first `size` bytes of *options (at least the 0.3 layout;
 *  at most sizeof(MoqSubscribeOptions)) with the defaults and sets
 *  struct_size to what was filled. A size below the 0.3 layout leaves
 *  *options untouched and sets moq_last_error. */
MOQ_API void moq_subscribe_options_init_sized(MoqSubscribeOptions* options, size_t size);
#define moq_subscribe_options_init(options) moq_subscribe_options_init_sized((options), sizeof *(options))

/**
 * Subscribes with options (NULL: the defaults). With callback, each object
 * is delivered with its metadata, serially, on a library thread (see
 * CALLBACKS). options->on_subscribed (0.6) is told when the relay accepts
 * the SUBSCRIBE (and each resubscription) or refuses it: the moment a
 * publisher may start. With callback NULL the subscription is in poll mode: objects
 * are queued (bounded by options->queue_objects) for moq_subscriber_poll.
 * Returns at once, like moq_subscribe; NULL (with moq_last_error) on a
 * NULL/dead client, bad names or options (struct_size too small, filter or
 * group_order out of range, end_group below start_group), or when not
 * connected (unless persistent and the client is reconnecting: the
 * SUBSCRIBE is then sent once it is connected again).
 */
MOQ_API MoqSubscriber* moq_subscribe_ex(MoqClient* client, const char* namespace_str,
                                        const char* track_name, const MoqSubscribeOptions* options,
                                        MoqObjectCallback callback, void* user_data);

/**
 * Takes the next queued object of a poll-mode subscription (or fetch):
 * copies its payload, then its extension headers, into buf and fills *object
 * (object->payload and object->extensions point into buf). Never blocks
 * longer than timeout_ms (0: does not wait).
 * Returns MOQ_OK with an object; MOQ_ERROR_TIMEOUT when none arrived in
 * time ("nothing yet"); MOQ_ERROR_BUFFER_TOO_SMALL when buf_len is less than
 * payload_len + extensions_len, with *needed set (the object stays queued);
 * MOQ_ERROR_NOT_CONNECTED when the subscription has ended and nothing is
 * left (moq_last_error says why); INVALID_ARGUMENT for a dead handle, a
 * callback-mode subscriber, or NULL object. needed may be NULL; it is set
 * (payload_len + extensions_len) on MOQ_OK and BUFFER_TOO_SMALL. buf may be
 * NULL when buf_len is 0 (an empty object then has payload pointing to a
 * valid empty byte). Several threads may poll one subscriber.
 */
MOQ_API MoqResult moq_subscriber_poll(MoqSubscriber* subscriber, MoqObject* object, uint8_t* buf,
                                      size_t buf_len, size_t* needed, uint32_t timeout_ms);

/**
 * Fetches past objects of a track, from (start_group, start_object) to
 * (end_group, end_object), both inclusive (end_object UINT64_MAX: the whole
 * end group), from what the publisher or relay retains. Objects go to
 * callback (or, when it is NULL, to moq_subscriber_poll, which returns
 * MOQ_ERROR_NOT_CONNECTED after the last one); done_callback (may be NULL)
 * is called once at the end, on a library thread, after the last object
 * callback: MOQ_OK when the fetch completed (its message starts with
 * "partial:" when only part of the range was still retained, see
 * MoqFetchDoneCallback), otherwise the error (CONNECTION_FAILED when
 * refused, TIMEOUT, NOT_CONNECTED). Neither runs
 * after moq_subscriber_destroy returns (see CALLBACKS). Returns a
 * subscriber handle to destroy with moq_subscriber_destroy (which cancels a
 * running fetch), or NULL (with moq_last_error) for a NULL/dead client, bad
 * names, a range that ends before it starts, or no live session.
 * moq_is_subscribed is true while the fetch runs.
 */
MOQ_API MoqSubscriber* moq_fetch(MoqClient* client, const char* namespace_str, const char* track_name,
                                 uint64_t start_group, uint64_t start_object, uint64_t end_group,
                                 uint64_t end_object, MoqObjectCallback callback,
                                 MoqFetchDoneCallback done_callback, void* user_data);

/** Client statistics into *stats (set stats->struct_size first, or zero it
 *  and the library uses the 0.3 layout). INVALID_ARGUMENT for a dead
 *  client or NULL stats. */
MOQ_API MoqResult moq_client_stats(const MoqClient* client, MoqClientStats* stats);

/** Subscription statistics, as moq_client_stats: a struct_size of the 0.3
 *  layout (up to latest_object) is filled up to there, one of the 0.4
 *  layout also gets active and resubscribes. */
MOQ_API MoqResult moq_subscriber_stats(const MoqSubscriber* subscriber, MoqSubscriberStats* stats);

/** (0.6) Publisher statistics into *stats (set stats->struct_size first, or
 *  zero it: the 0.6 layout). INVALID_ARGUMENT for a NULL/dead publisher,
 *  NULL stats, or a struct_size below the 0.6 layout. */
MOQ_API MoqResult moq_publisher_stats(const MoqPublisher* publisher, MoqPublisherStats* stats);

/**
 * Routes the library's log to callback, for messages at max_level or more
 * severe (callback NULL: back to the default, stderr at the MOQ_FFI_LOG
 * level). Messages are one logfmt line: level=... msg=... key=value ....
 * Process wide; replaces the previous callback. When this returns, the
 * previous callback is not running and will not be called again, unless
 * this is called from inside a library callback (then it does not wait).
 */
MOQ_API void moq_set_log_callback(MoqLogCallback callback, MoqLogLevel max_level, void* user_data);

/**
 * Publishes a draft-ietf-moq-catalogformat-01 catalog of the given tracks
 * on (namespace_str, catalog_track_name) (NULL name: ".catalog"), creating
 * the catalog track on first use: each call publishes the complete catalog
 * as a new group, so late joiners get the latest. The namespace must be
 * announced. The JSON has "version": 1, "streamingFormat": 1,
 * "streamingFormatVersion": "0.2" and, per track, "name" and
 * "selectionParams" (codec, mimeType, width, height, bitrate, samplerate,
 * lang; NULL strings and zero numbers are left out). tracks[i].name must be
 * a non-empty string. Errors as moq_create_publisher and moq_publish_data.
 */
MOQ_API MoqResult moq_publish_catalog(MoqClient* client, const char* namespace_str,
                                      const char* catalog_track_name, const MoqTrackInfo* tracks,
                                      size_t track_count);

#endif /* MOQ_FFI_NO_PROTOTYPES */

#ifdef __cplusplus
}
#endif

#endif /* MOQ_FFI_H */
