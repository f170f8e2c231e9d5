/* C boundary benchmark: the figures of `moq bench`, measured through the C
 * library (scripts/bench-c.sh runs both against one relay).
 *
 *   bench URL [SIZE] [SECONDS] [WINDOW]
 *
 * publish: moq_publish_data with no subscriber, calls per second;
 * pubsub:  a publisher and a subscriber client in this process, at most
 *          WINDOW objects in flight, objects per second delivered.
 * MOQ_FFI_PIN_SHA256 must hold the relay's certificate fingerprint.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "moq_ffi.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static long received;

static void on_data(void *ud, const uint8_t *data, size_t len) {
    (void)ud, (void)data, (void)len;
    pthread_mutex_lock(&mu);
    received++;
    pthread_cond_signal(&cv);
    pthread_mutex_unlock(&mu);
}

static int fail(const char *what, MoqResult r) {
    fprintf(stderr, "bench: %s: %s\n", what, r.message ? r.message : moq_last_error());
    moq_free_str(r.message);
    return 1;
}

/* Resident set size of this process, KiB (0 if unknown). */
static long rss_kib(void) {
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return 0;
    char line[256];
    long kib = 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld kB", &kib) == 1) break;
    fclose(f);
    return kib;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s URL [SIZE] [SECONDS] [WINDOW]\n", argv[0]);
        return 2;
    }
    const char *url = argv[1];
    size_t size = argc > 2 ? (size_t)atol(argv[2]) : 200;
    double seconds = argc > 3 ? atof(argv[3]) : 2;
    long window = argc > 4 ? atol(argv[4]) : 256;
    uint8_t *payload = calloc(size ? size : 1, 1);
    char ns[64];
    snprintf(ns, sizeof ns, "bench-c/%ld", (long)time(NULL));

    MoqClient *pub = moq_client_create(), *subc = moq_client_create();
    long rss0 = rss_kib(); /* the library loaded, its runtime started */
    MoqResult r = moq_connect(pub, url, NULL, NULL);
    if (r.code != MOQ_OK) return fail("connect", r);
    printf("c  RSS: %.1f MiB with the library loaded, %.1f MiB with one idle connected client\n", rss0 / 1024.0,
           rss_kib() / 1024.0);
    r = moq_announce_namespace(pub, ns);
    if (r.code != MOQ_OK) return fail("announce", r);

    /* publish, no subscriber */
    MoqPublisher *lonely = moq_create_publisher_ex(pub, ns, "lonely", MOQ_DELIVERY_STREAM);
    if (!lonely) return fail("create publisher", (MoqResult){MOQ_ERROR_INTERNAL, NULL});
    long n = 0;
    double t0 = now_s();
    while (now_s() - t0 < seconds) {
        for (int i = 0; i < 1000; i++) {
            r = moq_publish_data(lonely, payload, size, MOQ_DELIVERY_STREAM);
            if (r.code != MOQ_OK) return fail("publish", r);
        }
        n += 1000;
    }
    printf("c  publish (no subscriber): %.0f calls/s (%zu B)\n", (double)n / (now_s() - t0), size);

    /* pubsub, end to end */
    MoqPublisher *track = moq_create_publisher_ex(pub, ns, "e2e", MOQ_DELIVERY_STREAM);
    r = moq_connect(subc, url, NULL, NULL);
    if (r.code != MOQ_OK) return fail("connect subscriber", r);
    MoqSubscriber *sub = moq_subscribe(subc, ns, "e2e", on_data, NULL);
    if (!track || !sub) return fail("subscribe", (MoqResult){MOQ_ERROR_INTERNAL, NULL});
    /* moq_subscribe returns before SUBSCRIBE_OK: send until the first object
     * arrives, then measure. */
    for (int i = 0; i < 500; i++) {
        moq_publish_data(track, payload, size, MOQ_DELIVERY_STREAM);
        pthread_mutex_lock(&mu);
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += 20000000;
        if (until.tv_nsec >= 1000000000) until.tv_sec++, until.tv_nsec -= 1000000000;
        if (received == 0) pthread_cond_timedwait(&cv, &mu, &until);
        long got = received;
        pthread_mutex_unlock(&mu);
        if (got > 0) break;
    }
    pthread_mutex_lock(&mu);
    long base = received;
    pthread_mutex_unlock(&mu);
    if (base == 0) {
        fprintf(stderr, "bench: the subscriber received nothing\n");
        return 1;
    }
    /* objects still in flight from the warm-up count as received later */
    long sent = 0;
    t0 = now_s();
    while (now_s() - t0 < seconds) {
        pthread_mutex_lock(&mu);
        while (sent - (received - base) >= window) pthread_cond_wait(&cv, &mu);
        pthread_mutex_unlock(&mu); /* (a lost object would stall here: none is lost on loopback) */
        r = moq_publish_data(track, payload, size, MOQ_DELIVERY_STREAM);
        if (r.code != MOQ_OK) return fail("publish", r);
        sent++;
    }
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 10;
    pthread_mutex_lock(&mu);
    while (received - base < sent && pthread_cond_timedwait(&cv, &mu, &deadline) == 0) {
    }
    long got = received - base;
    pthread_mutex_unlock(&mu);
    if (got < sent) {
        fprintf(stderr, "bench: %ld of %ld objects arrived\n", got, sent);
        return 1;
    }
    double el = now_s() - t0;
    printf("c  pubsub end to end: %.0f objects/s, %.1f MB/s (%zu B, window %ld)\n", (double)sent / el,
           (double)sent * (double)size / el / 1e6, size, window);
    moq_subscriber_destroy(sub);
    moq_publisher_destroy(track);
    moq_publisher_destroy(lonely);
    moq_client_destroy(subc);
    moq_client_destroy(pub);
    free(payload);
    return 0;
}
