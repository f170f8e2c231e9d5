/*
 * roundtrip.c - Windows smoke test of moq_ffi.dll, cross-compiled with
 * MinGW-w64 and run under wine (scripts/test-windows.sh) or on Windows.
 *
 * Usage: roundtrip.exe URL
 *   URL  the relay, e.g. https://127.0.0.1:4443/ ; a self-signed relay is
 *        trusted through MOQ_FFI_PIN_SHA256 in the environment.
 *
 * Uses only the 20 functions of the moq_ffi 0.1 header. Two clients connect:
 * the subscriber registers an announce listener (prefix set with _putenv,
 * which the DLL's getenv must see), the publisher announces a namespace and
 * creates a publisher, the subscriber subscribes; probe objects are
 * published until the subscription is live, then NOBJ numbered objects of
 * different sizes (one empty, one of 200 KiB) must arrive complete and in
 * order. Every wait has a deadline. Exit status 0 on success, 1 on failure.
 *
 * Under Wine only, wine_compat.c first works around Wine's missing
 * SIO_UDP_NETRESET (see there); on Windows nothing is changed.
 */
#include <windows.h>

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "moq_ffi.h"
#include "wine_compat.h"

#define NOBJ 6
#define BIG (200 * 1024)
#define WAIT_MS 15000

static int failures;

static void fail(const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("roundtrip: FAIL: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    fflush(stderr);
    failures++;
}

static void step(const char* what) {
    printf("roundtrip: %s\n", what);
    fflush(stdout);
}

/* Checks a MoqResult, frees its message, and reports a failure. */
static int ok(MoqResult r, const char* what) {
    if (r.code == MOQ_OK) {
        if (r.message != NULL) fail("%s: OK with a message", what);
        return 1;
    }
    fail("%s: code %d: %s", what, (int)r.code, r.message ? r.message : "(no message)");
    moq_free_str(r.message);
    return 0;
}

/* Shared state, guarded by lock; changes are signalled on cv. */
static CRITICAL_SECTION lock;
static CONDITION_VARIABLE cv;

typedef struct {
    int probes;          /* probe objects received */
    int n;               /* numbered objects received */
    size_t len[NOBJ];    /* their sizes */
    int intact[NOBJ];    /* content matched the expected pattern */
    int out_of_order;    /* a numbered object arrived with the wrong index */
    int after_numbered;  /* a probe arrived after a numbered object */
} rx_state;

static rx_state rx;
static char announced[256];
static int connected_events;

static void on_state(void* ud, MoqConnectionState st) {
    (void)ud;
    if (st == MOQ_STATE_CONNECTED) {
        EnterCriticalSection(&lock);
        connected_events++;
        LeaveCriticalSection(&lock);
    }
}

/* Object i: byte 0 = 'N', byte 1 = i, then (i * 31 + k) & 0xff, except
 * object 2, which is empty. */
static size_t obj_len(int i) {
    static const size_t lens[NOBJ] = {16, 1200, 0, BIG, 1, 4096};
    return lens[i];
}

static void fill(uint8_t* buf, int i) {
    size_t n = obj_len(i);
    for (size_t k = 0; k < n; k++) buf[k] = (uint8_t)((i * 31 + k) & 0xff);
    if (n >= 2) {
        buf[0] = 'N';
        buf[1] = (uint8_t)i;
    }
}

static void on_data(void* ud, const uint8_t* data, size_t len) {
    (void)ud;
    EnterCriticalSection(&lock);
    if (data == NULL) {
        fail("data callback got NULL data");
    } else if (len == 5 && memcmp(data, "probe", 5) == 0) {
        rx.probes++;
        if (rx.n > 0) rx.after_numbered = 1;
    } else if (rx.n < NOBJ) {
        int i = rx.n;
        rx.len[i] = len;
        if (len != obj_len(i)) {
            rx.out_of_order = 1;
        } else {
            uint8_t* want = (uint8_t*)malloc(len ? len : 1);
            if (want != NULL) {
                fill(want, i);
                rx.intact[i] = memcmp(want, data, len) == 0;
                free(want);
            }
        }
        rx.n++;
    } else {
        rx.out_of_order = 1;
    }
    WakeAllConditionVariable(&cv);
    LeaveCriticalSection(&lock);
}

static void on_announce(void* ud, const char* ns, const char* track) {
    (void)ud;
    EnterCriticalSection(&lock);
    if (track != NULL) fail("announce callback got a track name");
    if (ns != NULL && announced[0] == '\0') {
        strncpy(announced, ns, sizeof announced - 1);
    }
    WakeAllConditionVariable(&cv);
    LeaveCriticalSection(&lock);
}

/* Waits (lock held) until pred() is true or timeout_ms passes. */
static int wait_for(int (*pred)(void), DWORD timeout_ms) {
    ULONGLONG end = GetTickCount64() + timeout_ms;
    while (!pred()) {
        ULONGLONG now = GetTickCount64();
        if (now >= end) return 0;
        SleepConditionVariableCS(&cv, &lock, (DWORD)(end - now));
    }
    return 1;
}

static int have_probe(void) { return rx.probes > 0; }
static int have_all(void) { return rx.n >= NOBJ || rx.out_of_order; }
static int have_announce(void) { return announced[0] != '\0'; }

int main(int argc, char** argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s URL\n", argv[0]);
        return 2;
    }
    const char* url = argv[1];
    InitializeCriticalSection(&lock);
    InitializeConditionVariable(&cv);

    char prefix[64], ns[96];
    snprintf(prefix, sizeof prefix, "wintest-%lu", (unsigned long)GetCurrentProcessId());
    snprintf(ns, sizeof ns, "%s/room", prefix);

    const char* wine = wine_compat_version();
    if (wine != NULL) {
        int r = wine_compat_install("moq_ffi.dll");
        printf("roundtrip: running under Wine %s; SIO_UDP_NETRESET workaround %s\n", wine,
               r == 1 ? "installed" : "NOT installed");
        if (r != 1) fail("cannot install the Wine workaround");
    }
    step(moq_version());
    if (!moq_init()) fail("moq_init returned false: %s", moq_last_error());
    if (moq_last_error() != NULL) fail("moq_last_error not cleared after moq_init");

    /* Error path through the DLL boundary: a heap message freed by moq_free_str. */
    MoqResult bad = moq_connect(NULL, url, NULL, NULL);
    if (bad.code != MOQ_ERROR_INVALID_ARGUMENT || bad.message == NULL) {
        fail("moq_connect(NULL) gave code %d", (int)bad.code);
    } else if (moq_last_error() == NULL || strcmp(moq_last_error(), bad.message) != 0) {
        fail("moq_last_error does not match the result message");
    }
    moq_free_str(bad.message);

    /* The announce listener's prefix comes from the environment at call
     * time; _putenv changes the CRT environment the DLL reads. */
    char env[128];
    snprintf(env, sizeof env, "MOQ_FFI_ANNOUNCE_PREFIX=%s", prefix);
    _putenv(env);

    step("connecting the subscriber");
    MoqClient* sc = moq_client_create();
    MoqClient* pc = moq_client_create();
    if (sc == NULL || pc == NULL) {
        fail("moq_client_create: %s", moq_last_error());
        return 1;
    }
    if (!ok(moq_connect(sc, url, on_state, NULL), "moq_connect (subscriber)")) goto out;
    if (!moq_is_connected(sc)) fail("subscriber not connected after moq_connect");
    ok(moq_subscribe_announces(sc, on_announce, NULL), "moq_subscribe_announces");

    step("connecting the publisher");
    if (!ok(moq_connect(pc, url, on_state, NULL), "moq_connect (publisher)")) goto out;
    EnterCriticalSection(&lock);
    if (connected_events != 2) fail("%d CONNECTED callbacks, want 2", connected_events);
    LeaveCriticalSection(&lock);

    step("announcing");
    if (!ok(moq_announce_namespace(pc, ns), "moq_announce_namespace")) goto out;
    MoqPublisher* pub = moq_create_publisher_ex(pc, ns, "objects", MOQ_DELIVERY_STREAM);
    if (pub == NULL) {
        fail("moq_create_publisher_ex: %s", moq_last_error());
        goto out;
    }

    EnterCriticalSection(&lock);
    if (!wait_for(have_announce, WAIT_MS)) {
        fail("announce of %s not seen", ns);
    } else if (strcmp(announced, ns) != 0) {
        fail("announce callback got \"%s\", want \"%s\"", announced, ns);
    } else {
        printf("roundtrip: announce seen: %s\n", announced);
    }
    LeaveCriticalSection(&lock);

    step("subscribing");
    MoqSubscriber* sub = moq_subscribe(sc, ns, "objects", on_data, NULL);
    if (sub == NULL) {
        fail("moq_subscribe: %s", moq_last_error());
        moq_publisher_destroy(pub);
        goto out;
    }

    /* The subscription starts at the live edge: publish probes until one
     * arrives (each wait is short; the whole phase has a deadline). */
    ULONGLONG end = GetTickCount64() + WAIT_MS;
    int live = 0;
    while (!live && GetTickCount64() < end) {
        ok(moq_publish_data(pub, (const uint8_t*)"probe", 5, MOQ_DELIVERY_STREAM), "publish probe");
        EnterCriticalSection(&lock);
        live = wait_for(have_probe, 50);
        LeaveCriticalSection(&lock);
    }
    if (!live) {
        fail("no probe object arrived (is_subscribed=%d, last error: %s)", (int)moq_is_subscribed(sub),
             moq_last_error() ? moq_last_error() : "none");
    } else {
        step("subscription live; publishing numbered objects");
        uint8_t* buf = (uint8_t*)malloc(BIG);
        for (int i = 0; buf != NULL && i < NOBJ; i++) {
            fill(buf, i);
            ok(moq_publish_data(pub, obj_len(i) ? buf : NULL, obj_len(i), MOQ_DELIVERY_STREAM), "publish");
        }
        free(buf);
        EnterCriticalSection(&lock);
        if (!wait_for(have_all, WAIT_MS)) fail("received %d of %d objects", rx.n, NOBJ);
        if (rx.out_of_order) fail("objects out of order or unexpected");
        if (rx.after_numbered) fail("a probe arrived after the numbered objects");
        for (int i = 0; i < rx.n && i < NOBJ; i++) {
            if (rx.len[i] != obj_len(i) || !rx.intact[i]) {
                fail("object %d: %zu bytes, intact=%d", i, rx.len[i], rx.intact[i]);
            }
        }
        printf("roundtrip: received %d probe(s) and %d/%d objects (sizes", rx.probes, rx.n, NOBJ);
        for (int i = 0; i < rx.n && i < NOBJ; i++) printf(" %zu", rx.len[i]);
        printf(")\n");
        LeaveCriticalSection(&lock);
    }

    if (!moq_is_subscribed(sub)) fail("subscription ended early: %s", moq_last_error());
    ok(moq_unsubscribe(sub), "moq_unsubscribe");
    if (moq_is_subscribed(sub)) fail("still subscribed after moq_unsubscribe");
    moq_subscriber_destroy(sub);
    moq_publisher_destroy(pub);

out:
    step("disconnecting");
    ok(moq_disconnect(pc), "moq_disconnect (publisher)");
    moq_client_destroy(pc);
    moq_client_destroy(sc);
    if (moq_is_connected(sc)) fail("destroyed client reports connected");
    if (wine != NULL) printf("roundtrip: Wine workaround answered %ld SIO_UDP_NETRESET call(s)\n", wine_compat_netreset_faked());
    if (failures) {
        fprintf(stderr, "roundtrip: %d failure(s)\n", failures);
        return 1;
    }
    step("PASS");
    return 0;
}
