/* Compatibility: a host written against the moq_ffi 0.1 header, using only
 * what that header documented, compiled unchanged against this library.
 * Each check is one documented 0.1 behaviour that still holds. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "moq_ffi.h"

static int failures, checks;
#define EXPECT(c)                                                           \
    do {                                                                    \
        checks++;                                                           \
        if (!(c)) {                                                         \
            failures++;                                                     \
            fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #c);    \
        }                                                                   \
    } while (0)

static int code_of(MoqResult r) {
    int c = (int)r.code;
    moq_free_str(r.message);
    return c;
}

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static int states[16], nstates, received;
static void on_state(void* ud, MoqConnectionState s) {
    (void)ud;
    pthread_mutex_lock(&mu);
    if (nstates < 16) states[nstates++] = (int)s;
    pthread_mutex_unlock(&mu);
}
static void on_data(void* ud, const uint8_t* d, size_t n) {
    (void)ud;
    (void)d;
    (void)n;
    pthread_mutex_lock(&mu);
    received++;
    pthread_mutex_unlock(&mu);
}
static int tracks_seen = -1;
static void on_catalog(void* ud, const MoqTrackInfo* t, size_t n) {
    (void)ud;
    pthread_mutex_lock(&mu);
    tracks_seen = (int)n;
    if (n > 0 && (t == NULL || t[0].name == NULL)) failures++;
    pthread_mutex_unlock(&mu);
}
static void on_announce(void* ud, const char* ns, const char* track) {
    (void)ud;
    (void)ns;
    (void)track;
}
static int get(int* v) {
    pthread_mutex_lock(&mu);
    int x = *v;
    pthread_mutex_unlock(&mu);
    return x;
}
static void pause_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

int main(void) {
    /* Enum values and struct layout. */
    EXPECT(MOQ_OK == 0 && MOQ_ERROR_INVALID_ARGUMENT == 1 && MOQ_ERROR_CONNECTION_FAILED == 2 &&
           MOQ_ERROR_NOT_CONNECTED == 3 && MOQ_ERROR_TIMEOUT == 4 && MOQ_ERROR_INTERNAL == 5 &&
           MOQ_ERROR_UNSUPPORTED == 6 && MOQ_ERROR_BUFFER_TOO_SMALL == 7);
    EXPECT(MOQ_STATE_DISCONNECTED == 0 && MOQ_STATE_CONNECTING == 1 && MOQ_STATE_CONNECTED == 2 && MOQ_STATE_FAILED == 3);
    EXPECT(MOQ_DELIVERY_DATAGRAM == 0 && MOQ_DELIVERY_STREAM == 1);
    EXPECT(offsetof(MoqTrackInfo, name) == 0 && offsetof(MoqTrackInfo, width) == 3 * sizeof(void*) &&
           offsetof(MoqTrackInfo, language) == 3 * sizeof(void*) + 16);
    EXPECT(offsetof(MoqResult, message) == sizeof(void*));

    /* moq_init always returns true; version is a static string naming moq_ffi. */
    EXPECT(moq_init());
    EXPECT(moq_version() != NULL && strncmp(moq_version(), "moq_ffi ", 8) == 0);
    moq_free_str(NULL);

    /* NULL handles: no-ops, false, NULL or INVALID_ARGUMENT. */
    moq_client_destroy(NULL);
    moq_publisher_destroy(NULL);
    moq_subscriber_destroy(NULL);
    EXPECT(code_of(moq_connect(NULL, "https://x/", NULL, NULL)) == MOQ_ERROR_INVALID_ARGUMENT);
    EXPECT(moq_last_error() != NULL);
    EXPECT(code_of(moq_disconnect(NULL)) == MOQ_ERROR_INVALID_ARGUMENT);
    EXPECT(!moq_is_connected(NULL));
    EXPECT(code_of(moq_announce_namespace(NULL, "a")) == MOQ_ERROR_INVALID_ARGUMENT);
    EXPECT(moq_create_publisher(NULL, "a", "b") == NULL);
    EXPECT(moq_create_publisher_ex(NULL, "a", "b", MOQ_DELIVERY_DATAGRAM) == NULL);
    EXPECT(code_of(moq_publish_data(NULL, (const uint8_t*)"x", 1, MOQ_DELIVERY_STREAM)) == MOQ_ERROR_INVALID_ARGUMENT);
    EXPECT(moq_subscribe(NULL, "a", "b", on_data, NULL) == NULL);
    EXPECT(code_of(moq_unsubscribe(NULL)) == MOQ_ERROR_INVALID_ARGUMENT);
    EXPECT(!moq_is_subscribed(NULL));
    EXPECT(code_of(moq_subscribe_announces(NULL, on_announce, NULL)) == MOQ_ERROR_INVALID_ARGUMENT);
    EXPECT(moq_subscribe_catalog(NULL, "a", ".catalog", on_catalog, NULL) == NULL);

    /* A fresh client is disconnected; disconnect is OK even then. */
    MoqClient* c = moq_client_create();
    EXPECT(c != NULL);
    EXPECT(!moq_is_connected(c));
    EXPECT(code_of(moq_disconnect(c)) == MOQ_OK);
    /* URL checks: NULL, and non-https, give INVALID_ARGUMENT with no callback. */
    EXPECT(code_of(moq_connect(c, NULL, on_state, NULL)) == MOQ_ERROR_INVALID_ARGUMENT);
    EXPECT(code_of(moq_connect(c, "http://relay.example/", on_state, NULL)) == MOQ_ERROR_INVALID_ARGUMENT);
    EXPECT(get(&nstates) == 0);
    /* Not connected: announce NOT_CONNECTED, publisher and subscriber NULL. */
    EXPECT(code_of(moq_announce_namespace(c, "a")) == MOQ_ERROR_NOT_CONNECTED);
    EXPECT(moq_create_publisher(c, "a", "b") == NULL);
    EXPECT(moq_subscribe(c, "a", "b", on_data, NULL) == NULL);
    /* Announce listener may be registered before connect. */
    EXPECT(code_of(moq_subscribe_announces(c, on_announce, NULL)) == MOQ_OK);

    const char* url = getenv("MOQ_TEST_URL");
    if (url && strncmp(url, "https://", 8) == 0) {
        char ns[64];
        snprintf(ns, sizeof ns, "compat-%ld", (long)getpid());
        /* Connect: CONNECTING then CONNECTED, before moq_connect returns. */
        EXPECT(code_of(moq_connect(c, url, on_state, NULL)) == MOQ_OK);
        EXPECT(get(&nstates) == 2 && states[0] == MOQ_STATE_CONNECTING && states[1] == MOQ_STATE_CONNECTED);
        EXPECT(moq_is_connected(c));
        MoqClient* sc = moq_client_create();
        EXPECT(code_of(moq_connect(sc, url, NULL, NULL)) == MOQ_OK);
        /* Publisher needs the namespace announced first; duplicate announce fails. */
        EXPECT(moq_create_publisher(c, ns, "t") == NULL);
        EXPECT(code_of(moq_announce_namespace(c, ns)) == MOQ_OK);
        EXPECT(code_of(moq_announce_namespace(c, ns)) != MOQ_OK);
        MoqPublisher* p = moq_create_publisher(c, ns, "t");
        MoqPublisher* pd = moq_create_publisher_ex(c, ns, "d", MOQ_DELIVERY_DATAGRAM);
        MoqPublisher* pc = moq_create_publisher(c, ns, ".catalog");
        EXPECT(p && pd && pc);
        /* data NULL with length > 0 is refused; length 0 is allowed. */
        EXPECT(code_of(moq_publish_data(p, NULL, 5, MOQ_DELIVERY_STREAM)) == MOQ_ERROR_INVALID_ARGUMENT);
        EXPECT(code_of(moq_publish_data(p, NULL, 0, MOQ_DELIVERY_STREAM)) == MOQ_OK);
        /* Publishing with no subscriber succeeds. */
        EXPECT(code_of(moq_publish_data(pd, (const uint8_t*)"dgram", 5, MOQ_DELIVERY_DATAGRAM)) == MOQ_OK);
        /* Subscribe returns at once and is_subscribed is true; NULL callback allowed. */
        MoqSubscriber* s = moq_subscribe(sc, ns, "t", on_data, NULL);
        MoqSubscriber* quiet = moq_subscribe(sc, ns, "t2", NULL, NULL);
        MoqSubscriber* cs = moq_subscribe_catalog(sc, ns, ".catalog", on_catalog, NULL);
        EXPECT(s && quiet && cs);
        EXPECT(moq_is_subscribed(s));
        const char* cat =
            "{\"version\":1,\"streamingFormat\":1,\"streamingFormatVersion\":\"0.2\",\"supportsDeltaUpdates\":false,"
            "\"commonTrackFields\":{},\"tracks\":[{\"name\":\"video\",\"selectionParams\":{\"codec\":\"avc1\"}}]}";
        /* The 0.1 integration tests published and waited; so does this host
         * (a bounded loop of publish + short pause, as those tests did). */
        for (int i = 0; i < 200 && (get(&received) == 0 || get(&tracks_seen) < 0); i++) {
            moq_publish_data(p, (const uint8_t*)"hello", 5, MOQ_DELIVERY_STREAM);
            moq_publish_data(pc, (const uint8_t*)cat, strlen(cat), MOQ_DELIVERY_STREAM);
            pause_ms(50);
        }
        EXPECT(get(&received) > 0);
        EXPECT(get(&tracks_seen) == 1);
        /* Unsubscribe is idempotent. */
        EXPECT(code_of(moq_unsubscribe(s)) == MOQ_OK);
        EXPECT(code_of(moq_unsubscribe(s)) == MOQ_OK);
        EXPECT(!moq_is_subscribed(s));
        moq_subscriber_destroy(s);
        moq_subscriber_destroy(quiet);
        moq_subscriber_destroy(cs);
        moq_publisher_destroy(p);
        moq_publisher_destroy(pd);
        moq_publisher_destroy(pc);
        /* Disconnect fires DISCONNECTED and clears is_connected. */
        EXPECT(code_of(moq_disconnect(c)) == MOQ_OK);
        EXPECT(get(&nstates) == 3 && states[2] == MOQ_STATE_DISCONNECTED);
        EXPECT(!moq_is_connected(c));
        moq_client_destroy(sc);
    }
    moq_client_destroy(c);
    fprintf(stderr, "test_compat: %d checks, %d failures\n", checks, failures);
    return failures == 0 ? 0 : 1;
}
