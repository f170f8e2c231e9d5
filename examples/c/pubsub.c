/* pubsub: publish and subscribe through a MoQ relay.
 *
 *   pubsub URL [NAMESPACE [COUNT]]
 *
 * Connects two clients to URL (https://... for WebTransport, moqt://... for
 * raw QUIC), announces NAMESPACE (default "example/pubsub") and publishes
 * COUNT (default 5) messages on track "messages", which the second client
 * subscribes to and prints. For a relay with a self-signed certificate, set
 * MOQ_FFI_PIN_SHA256 to the fingerprint `moq relay` prints:
 *
 *   build/bin/moq relay --listen 127.0.0.1:4443 &
 *   MOQ_FFI_PIN_SHA256=<fingerprint> build/examples/pubsub https://127.0.0.1:4443/
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "moq_ffi.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int received;
static int subscribed; /* 1: the relay accepted the subscription; -1: it failed */

/* Runs on a library thread: print and count. */
static void on_message(void* user_data, const MoqObject* o) {
    (void)user_data;
    printf("received %zu bytes: %.*s\n", o->payload_len, (int)o->payload_len, (const char*)o->payload);
    pthread_mutex_lock(&mu);
    received++;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
}

/* Runs on a library thread: the answer to the SUBSCRIBE. */
static void on_subscribed(void* user_data, MoqSubscriber* s, MoqResultCode code, const char* message) {
    (void)user_data;
    (void)s;
    fprintf(stderr, "[subscriber] %s\n", message);
    pthread_mutex_lock(&mu);
    subscribed = code == MOQ_OK ? 1 : -1;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
}

static void on_state(void* user_data, MoqConnectionState state) {
    static const char* names[] = {"DISCONNECTED", "CONNECTING", "CONNECTED", "FAILED"};
    fprintf(stderr, "[%s] %s\n", (const char*)user_data, names[state]);
}

/* The deadline ms milliseconds from now (CLOCK_REALTIME, for the condvar). */
static struct timespec deadline(int ms) {
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += ms / 1000;
    dl.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (dl.tv_nsec >= 1000000000L) {
        dl.tv_sec++;
        dl.tv_nsec -= 1000000000L;
    }
    return dl;
}

/* Waits until the subscription was answered or ms milliseconds passed;
 * returns 1 when it is live. */
static int wait_subscribed(int ms) {
    struct timespec dl = deadline(ms);
    pthread_mutex_lock(&mu);
    while (subscribed == 0 && pthread_cond_timedwait(&cv, &mu, &dl) == 0) {
    }
    int live = subscribed == 1;
    pthread_mutex_unlock(&mu);
    return live;
}

/* Waits until at least n messages arrived or ms milliseconds passed. */
static int wait_received(int n, int ms) {
    struct timespec dl = deadline(ms);
    pthread_mutex_lock(&mu);
    while (received < n && pthread_cond_timedwait(&cv, &mu, &dl) == 0) {
    }
    int got = received;
    pthread_mutex_unlock(&mu);
    return got;
}

static int fail(const char* what, MoqResult r) {
    fprintf(stderr, "%s failed (%d): %s\n", what, (int)r.code, r.message ? r.message : "?");
    moq_free_str(r.message);
    return 1;
}

int main(int argc, char** argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s URL [NAMESPACE [COUNT]]\n", argv[0]);
        return 2;
    }
    const char* url = argv[1];
    const char* ns = argc > 2 ? argv[2] : "example/pubsub";
    int count = argc > 3 ? atoi(argv[3]) : 5;
    printf("%s\n", moq_version());

    MoqClient* pub = moq_client_create();
    MoqClient* sub = moq_client_create();
    MoqResult r = moq_connect(pub, url, on_state, "publisher");
    if (r.code != MOQ_OK) return fail("connect (publisher)", r);
    r = moq_connect(sub, url, on_state, "subscriber");
    if (r.code != MOQ_OK) return fail("connect (subscriber)", r);

    r = moq_announce_namespace(pub, ns);
    if (r.code != MOQ_OK) return fail("announce", r);
    MoqPublisher* p = moq_create_publisher_ex(pub, ns, "messages", MOQ_DELIVERY_STREAM);
    if (!p) {
        fprintf(stderr, "create publisher: %s\n", moq_last_error());
        return 1;
    }
    MoqSubscribeOptions opts;
    moq_subscribe_options_init(&opts);
    opts.on_subscribed = on_subscribed;
    MoqSubscriber* s = moq_subscribe_ex(sub, ns, "messages", &opts, on_message, NULL);
    if (!s) {
        fprintf(stderr, "subscribe: %s\n", moq_last_error());
        return 1;
    }

    /* The subscription starts at the live edge once the relay has accepted
     * it: publish after on_subscribed said so. */
    if (!wait_subscribed(10000)) {
        fprintf(stderr, "the subscription did not become live\n");
        return 1;
    }
    int base = wait_received(0, 0);
    char msg[64];
    for (int i = 0; i < count; i++) {
        int n = snprintf(msg, sizeof msg, "message %d", i);
        r = moq_publish_data(p, (const uint8_t*)msg, (size_t)n, MOQ_DELIVERY_STREAM);
        if (r.code != MOQ_OK) return fail("publish", r);
    }
    int got = wait_received(base + count, 10000) - base;
    printf("%d of %d messages received\n", got, count);

    moq_subscriber_destroy(s);
    moq_publisher_destroy(p);
    moq_disconnect(sub);
    moq_disconnect(pub);
    moq_client_destroy(sub);
    moq_client_destroy(pub);
    return got >= count ? 0 : 1;
}
