/* Argument checking, handle safety and moq_last_error semantics for all 20
 * functions. Needs a relay only for the "dead handle of a live type" cases
 * (MOQ_TEST_URL). */
#include "test_net.h"

static void nop_data(void* ud, const uint8_t* d, size_t n) { (void)ud; (void)d; (void)n; }
static void nop_track(void* ud, const char* ns, const char* t) { (void)ud; (void)ns; (void)t; }
static void nop_catalog(void* ud, const MoqTrackInfo* t, size_t n) { (void)ud; (void)t; (void)n; }

TEST(version_and_init) {
    CHECK(moq_init());
    CHECK(moq_init());
    CHECK(moq_last_error() == NULL);
    const char* v = moq_version();
    CHECK(v != NULL && strncmp(v, "moq_ffi 0.6.0", 13) == 0);
    CHECK(strstr(v, "07") && strstr(v, "14"));
    CHECK(moq_version() == v);
    moq_free_str(NULL);
}

/* Handles that are not handles: NULL, made-up values, and pointers to real
 * memory that the library never handed out. */
static void all_calls_fail(void* h, const char* what) {
    t_current = what;
    MoqClient* c = (MoqClient*)h;
    MoqPublisher* p = (MoqPublisher*)h;
    MoqSubscriber* s = (MoqSubscriber*)h;
    moq_client_destroy(c);
    moq_publisher_destroy(p);
    moq_subscriber_destroy(s);
    CHECK_RESULT(moq_connect(c, "https://127.0.0.1:1/", NULL, NULL), MOQ_ERROR_INVALID_ARGUMENT);
    CHECK(moq_last_error() != NULL);
    CHECK_RESULT(moq_disconnect(c), MOQ_ERROR_INVALID_ARGUMENT);
    CHECK(!moq_is_connected(c));
    CHECK(moq_last_error() != NULL);
    CHECK_RESULT(moq_announce_namespace(c, "a"), MOQ_ERROR_INVALID_ARGUMENT);
    CHECK(moq_create_publisher(c, "a", "b") == NULL);
    CHECK(moq_create_publisher_ex(c, "a", "b", MOQ_DELIVERY_DATAGRAM) == NULL);
    CHECK_RESULT(moq_publish_data(p, (const uint8_t*)"x", 1, MOQ_DELIVERY_STREAM), MOQ_ERROR_INVALID_ARGUMENT);
    CHECK(moq_subscribe(c, "a", "b", nop_data, NULL) == NULL);
    CHECK(moq_subscribe_catalog(c, "a", "b", nop_catalog, NULL) == NULL);
    CHECK_RESULT(moq_unsubscribe(s), MOQ_ERROR_INVALID_ARGUMENT);
    CHECK(!moq_is_subscribed(s));
    CHECK_RESULT(moq_subscribe_announces(c, nop_track, NULL), MOQ_ERROR_INVALID_ARGUMENT);
    CHECK_RESULT(moq_subscribe_announces(c, NULL, NULL), MOQ_ERROR_INVALID_ARGUMENT);
}

TEST(bogus_handles) {
    static int on_stack_is_fine;
    all_calls_fail(NULL, "NULL handle");
    all_calls_fail((void*)(uintptr_t)1, "handle 1");
    all_calls_fail((void*)(uintptr_t)0xdeadbeef, "handle 0xdeadbeef");
    all_calls_fail((void*)UINTPTR_MAX, "handle UINTPTR_MAX");
    all_calls_fail(&on_stack_is_fine, "pointer to a static");
    t_current = "bogus_handles";
}

TEST(destroyed_handles) {
    MoqClient* c = moq_client_create();
    CHECK(c != NULL);
    MoqClient* c2 = moq_client_create();
    CHECK(c2 != NULL && c2 != c);
    moq_client_destroy(c);
    all_calls_fail(c, "destroyed client");
    moq_client_destroy(c); /* twice */
    /* The other client is untouched, and handles are never reused. */
    CHECK_RESULT(moq_disconnect(c2), MOQ_OK);
    for (int i = 0; i < 100; i++) {
        MoqClient* x = moq_client_create();
        CHECK(x != c && x != c2);
        moq_client_destroy(x);
    }
    moq_client_destroy(c2);
    t_current = "destroyed_handles";
}

TEST(wrong_handle_type) {
    const char* url = getenv("MOQ_TEST_URL");
    if (!url) return;
    char ns[64];
    unique("wt", ns, sizeof ns);
    MoqClient* c = connect_client(url, NULL);
    CHECK(c != NULL);
    if (!c) return;
    CHECK_RESULT(moq_announce_namespace(c, ns), MOQ_OK);
    MoqPublisher* p = moq_create_publisher(c, ns, "t");
    MoqSubscriber* s = moq_subscribe(c, ns, "t", NULL, NULL);
    CHECK(p && s);
    /* A publisher passed as a client or subscriber, and so on. */
    CHECK(!moq_is_connected((MoqClient*)p));
    CHECK(!moq_is_subscribed((MoqSubscriber*)p));
    CHECK(!moq_is_subscribed((MoqSubscriber*)c));
    CHECK_RESULT(moq_publish_data((MoqPublisher*)s, (const uint8_t*)"x", 1, MOQ_DELIVERY_STREAM), MOQ_ERROR_INVALID_ARGUMENT);
    CHECK_RESULT(moq_publish_data((MoqPublisher*)c, (const uint8_t*)"x", 1, MOQ_DELIVERY_STREAM), MOQ_ERROR_INVALID_ARGUMENT);
    moq_client_destroy((MoqClient*)p);
    moq_subscriber_destroy((MoqSubscriber*)p);
    CHECK(moq_is_connected(c));
    /* Children die with their client. */
    moq_client_destroy(c);
    CHECK_RESULT(moq_publish_data(p, (const uint8_t*)"x", 1, MOQ_DELIVERY_STREAM), MOQ_ERROR_INVALID_ARGUMENT);
    CHECK(!moq_is_subscribed(s));
    CHECK_RESULT(moq_unsubscribe(s), MOQ_ERROR_INVALID_ARGUMENT);
    moq_publisher_destroy(p);
    moq_subscriber_destroy(s);
    moq_publisher_destroy(p);
    moq_subscriber_destroy(s);
}

TEST(bad_urls_fire_no_callback) {
    state_log log;
    state_log_init(&log);
    MoqClient* c = moq_client_create();
    const char* bad[] = {"", "http://127.0.0.1:4443/", "quic://x/", "127.0.0.1:4443", "https://", "https:///path",
                         "moqt://", "https://[::1", "wss://relay/"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_RESULT(moq_connect(c, bad[i], on_state, &log), MOQ_ERROR_INVALID_ARGUMENT);
        CHECK(moq_last_error() != NULL);
    }
    CHECK_RESULT(moq_connect(c, NULL, on_state, &log), MOQ_ERROR_INVALID_ARGUMENT);
    CHECK(moq_last_error() && strstr(moq_last_error(), "null"));
    CHECK_RESULT(moq_connect(c, "https://\xff\xfe/", on_state, &log), MOQ_ERROR_INVALID_ARGUMENT);
    CHECK(log.n == 0);
    CHECK(!moq_is_connected(c));
    /* Bad settings in the environment are reported, with no callback. */
    setenv("MOQ_FFI_DRAFT", "13", 1);
    CHECK_RESULT(moq_connect(c, "https://127.0.0.1:1/", on_state, &log), MOQ_ERROR_INVALID_ARGUMENT);
    CHECK(moq_last_error() && strstr(moq_last_error(), "MOQ_FFI_DRAFT"));
    unsetenv("MOQ_FFI_DRAFT");
    setenv("MOQ_FFI_CONNECT_TIMEOUT_MS", "soon", 1);
    CHECK_RESULT(moq_connect(c, "https://127.0.0.1:1/", on_state, &log), MOQ_ERROR_INVALID_ARGUMENT);
    unsetenv("MOQ_FFI_CONNECT_TIMEOUT_MS");
    const char* pin = getenv("MOQ_FFI_PIN_SHA256");
    char* saved = pin ? strdup(pin) : NULL;
    setenv("MOQ_FFI_PIN_SHA256", "abcd", 1);
    CHECK_RESULT(moq_connect(c, "https://127.0.0.1:1/", on_state, &log), MOQ_ERROR_INVALID_ARGUMENT);
    if (saved) setenv("MOQ_FFI_PIN_SHA256", saved, 1); else unsetenv("MOQ_FFI_PIN_SHA256");
    free(saved);
    CHECK(log.n == 0);
    moq_client_destroy(c);
    state_log_destroy(&log);
}

/* Issue 15, item 5: URLs with user information, a fragment or a port outside
 * 1..65535 are refused at once with INVALID_ARGUMENT and a message naming the
 * fault, before any callback (they used to be accepted silently, or to fail
 * with CONNECTION_FAILED after CONNECTING/FAILED). */
TEST(bad_url_parts_refused_at_once) {
    state_log log;
    state_log_init(&log);
    MoqClient* c = moq_client_create();
    struct {
        const char* url;
        const char* why;
    } bad[] = {
        {"moqt://user:secret@127.0.0.1:4443/", "user information"},
        {"https://user@127.0.0.1:4443/moq", "user information"},
        {"moqt://127.0.0.1:4443/#frag", "fragment"},
        {"https://127.0.0.1:4443/moq#", "fragment"},
        {"moqt://127.0.0.1:99999/", "outside 1..65535"},
        {"https://127.0.0.1:0/", "outside 1..65535"},
        {"moqt://127.0.0.1:65536/", "outside 1..65535"},
        {"moqt://127.0.0.1:/", "empty port"},
        {"ftp://127.0.0.1/", "scheme"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        MoqResult r = moq_connect(c, bad[i].url, on_state, &log);
        CHECK_MSG(r.code == MOQ_ERROR_INVALID_ARGUMENT, "%s gave %d: %s", bad[i].url, (int)r.code,
                  r.message ? r.message : "(none)");
        CHECK_MSG(r.message && strstr(r.message, bad[i].why), "%s: message %s lacks \"%s\"", bad[i].url,
                  r.message ? r.message : "(none)", bad[i].why);
        CHECK(moq_last_error() && strstr(moq_last_error(), bad[i].why));
        moq_free_str(r.message);
    }
    CHECK_MSG(log.n == 0, "%d connection callbacks fired", log.n);
    CHECK(!moq_is_connected(c));
    moq_client_destroy(c);
    state_log_destroy(&log);
}

TEST(connect_timeout) {
    /* Nothing answers on this UDP port: the deadline passes. */
    state_log log;
    state_log_init(&log);
    setenv("MOQ_FFI_CONNECT_TIMEOUT_MS", "300", 1);
    MoqClient* c = moq_client_create();
    double t0 = t_now();
    CHECK_RESULT(moq_connect(c, "moqt://127.0.0.1:9/", on_state, &log), MOQ_ERROR_TIMEOUT);
    CHECK(t_now() - t0 < T(10));
    CHECK(log.n == 2 && state_at(&log, 0) == MOQ_STATE_CONNECTING && state_at(&log, 1) == MOQ_STATE_FAILED);
    CHECK(!moq_is_connected(c));
    CHECK(moq_last_error() != NULL);
    CHECK_RESULT(moq_connect(c, "https://127.0.0.1:9/x", on_state, &log), MOQ_ERROR_TIMEOUT);
    unsetenv("MOQ_FFI_CONNECT_TIMEOUT_MS");
    moq_client_destroy(c);
    state_log_destroy(&log);
}

TEST(connection_failed) {
    /* An unresolvable host fails fast with CONNECTION_FAILED. */
    state_log log;
    state_log_init(&log);
    MoqClient* c = moq_client_create();
    CHECK_RESULT(moq_connect(c, "https://no-such-host.invalid:4443/", on_state, &log), MOQ_ERROR_CONNECTION_FAILED);
    CHECK(log.n == 2 && state_at(&log, 1) == MOQ_STATE_FAILED);
    /* A wrong pin against a real relay fails TLS. */
    const char* url = getenv("MOQ_TEST_URL");
    if (url) {
        const char* pin = getenv("MOQ_FFI_PIN_SHA256");
        char* saved = pin ? strdup(pin) : NULL;
        setenv("MOQ_FFI_PIN_SHA256", "0000000000000000000000000000000000000000000000000000000000000000", 1);
        MoqResult r = moq_connect(c, url, on_state, &log);
        CHECK(r.code == MOQ_ERROR_CONNECTION_FAILED);
        if (r.message) fprintf(stderr, "  wrong pin: %s\n", r.message);
        moq_free_str(r.message);
        /* Several pins: one matching is enough. */
        if (saved) {
            char both[200];
            snprintf(both, sizeof both, "%s,%s", "1111111111111111111111111111111111111111111111111111111111111111", saved);
            setenv("MOQ_FFI_PIN_SHA256", both, 1);
            CHECK_RESULT(moq_connect(c, url, on_state, &log), MOQ_OK);
            CHECK_RESULT(moq_disconnect(c), MOQ_OK);
            setenv("MOQ_FFI_PIN_SHA256", saved, 1);
        } else {
            unsetenv("MOQ_FFI_PIN_SHA256");
        }
        free(saved);
    }
    moq_client_destroy(c);
    state_log_destroy(&log);
}

TEST(not_connected_and_bad_names) {
    MoqClient* c = moq_client_create();
    CHECK_RESULT(moq_announce_namespace(c, "a/b"), MOQ_ERROR_NOT_CONNECTED);
    CHECK(moq_last_error() && strstr(moq_last_error(), "Not connected"));
    CHECK(moq_create_publisher(c, "a", "t") == NULL);
    CHECK(moq_subscribe(c, "a", "t", nop_data, NULL) == NULL);
    CHECK(moq_subscribe_catalog(c, "a", "t", nop_catalog, NULL) == NULL);
    CHECK_RESULT(moq_disconnect(c), MOQ_OK);
    CHECK_RESULT(moq_subscribe_announces(c, nop_track, NULL), MOQ_OK);
    CHECK_RESULT(moq_subscribe_announces(c, NULL, NULL), MOQ_OK);
    const char* bad_ns[] = {"", "/a", "a/", "a//b", "/"};
    for (size_t i = 0; i < sizeof bad_ns / sizeof bad_ns[0]; i++) {
        CHECK_RESULT(moq_announce_namespace(c, bad_ns[i]), MOQ_ERROR_INVALID_ARGUMENT);
        CHECK(moq_subscribe(c, bad_ns[i], "t", nop_data, NULL) == NULL);
        CHECK(moq_last_error() && strstr(moq_last_error(), "namespace"));
    }
    CHECK_RESULT(moq_announce_namespace(c, NULL), MOQ_ERROR_INVALID_ARGUMENT);
    CHECK(moq_subscribe(c, NULL, "t", nop_data, NULL) == NULL);
    CHECK(moq_subscribe(c, "a", NULL, nop_data, NULL) == NULL);
    CHECK(moq_subscribe(c, "a", "", nop_data, NULL) == NULL);
    CHECK(moq_create_publisher_ex(c, "a", NULL, MOQ_DELIVERY_STREAM) == NULL);
    /* 33 fields. */
    char many[100] = "a";
    for (int i = 0; i < 32; i++) strcat(many, "/a");
    CHECK_RESULT(moq_announce_namespace(c, many), MOQ_ERROR_INVALID_ARGUMENT);
    /* Over 4096 bytes. */
    char* huge = (char*)malloc(10000);
    memset(huge, 'x', 9999);
    huge[9999] = 0;
    CHECK_RESULT(moq_announce_namespace(c, huge), MOQ_ERROR_INVALID_ARGUMENT);
    free(huge);
    CHECK_RESULT(moq_announce_namespace(c, "\xc3\x28"), MOQ_ERROR_INVALID_ARGUMENT);
    moq_client_destroy(c);
}

/* moq_last_error is per thread, cleared by success, stable until the next
 * call. */
static void* other_thread(void* arg) {
    (void)arg;
    CHECK(moq_last_error() == NULL); /* nothing failed on this thread */
    CHECK_RESULT(moq_disconnect(NULL), MOQ_ERROR_INVALID_ARGUMENT);
    CHECK(moq_last_error() != NULL);
    return NULL;
}

TEST(last_error_per_thread) {
    CHECK_RESULT(moq_disconnect(NULL), MOQ_ERROR_INVALID_ARGUMENT);
    const char* e = moq_last_error();
    CHECK(e != NULL);
    char copy[256];
    snprintf(copy, sizeof copy, "%s", e ? e : "");
    pthread_t t;
    pthread_create(&t, NULL, other_thread, NULL);
    pthread_join(t, NULL);
    CHECK(moq_last_error() == e && strcmp(e, copy) == 0);
    moq_free_str(NULL); /* does not touch it */
    (void)moq_version();
    CHECK(moq_last_error() != NULL);
    MoqClient* c = moq_client_create(); /* success clears it */
    CHECK(moq_last_error() == NULL);
    CHECK(!moq_is_connected(c));
    CHECK(moq_last_error() != NULL);
    CHECK_RESULT(moq_disconnect(c), MOQ_OK);
    CHECK(moq_last_error() == NULL);
    moq_client_destroy(c);
}

int main(void) {
    RUN(version_and_init);
    RUN(bogus_handles);
    RUN(destroyed_handles);
    RUN(wrong_handle_type);
    RUN(bad_urls_fire_no_callback);
    RUN(bad_url_parts_refused_at_once);
    RUN(connect_timeout);
    RUN(connection_failed);
    RUN(not_connected_and_bad_names);
    RUN(last_error_per_thread);
    return t_summary("test_errors");
}
