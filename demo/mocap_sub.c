/* Motion-capture demo subscriber: prints the catalog, then a live status line
 * (frames/s, one-way latency, drops) while frames arrive.
 *
 *   mocap_sub URL [SECONDS]
 */
#define _POSIX_C_SOURCE 200809L /* sigaction, SA_ONSTACK, nanosleep, clock_gettime */
#define _DEFAULT_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "moq_ffi.h"
#include "mocap.h"

static volatile sig_atomic_t stop;
static void on_signal(int sig) { (void)sig; stop = 1; }

/* Updated by the data callback (a library thread), read by main. */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static uint64_t frames, bytes, dropped, lat_sum_ns, lat_max_ns, lat_n;
static int64_t last_seq = -1;
static bool catalog_seen;

static void on_state(void *ud, MoqConnectionState st) {
    (void)ud;
    static const char *names[] = {"disconnected", "connecting", "connected", "failed"};
    fprintf(stderr, "subscriber: %s\n", st <= MOQ_STATE_FAILED ? names[st] : "?");
}

static void on_frame(void *ud, const uint8_t *data, size_t len) {
    (void)ud;
    mocap_frame f;
    if (len != sizeof f) return;
    memcpy(&f, data, sizeof f);
    uint64_t now = mocap_now_ns();
    pthread_mutex_lock(&mu);
    frames++;
    bytes += len;
    if (last_seq >= 0 && f.seq > (uint64_t)last_seq + 1) dropped += f.seq - (uint64_t)last_seq - 1;
    last_seq = f.seq;
    if (now > f.sent_ns) {
        uint64_t l = now - f.sent_ns;
        lat_sum_ns += l;
        lat_n++;
        if (l > lat_max_ns) lat_max_ns = l;
    }
    pthread_mutex_unlock(&mu);
}

static void on_catalog(void *ud, const MoqTrackInfo *tracks, size_t n) {
    (void)ud;
    pthread_mutex_lock(&mu);
    bool first = !catalog_seen;
    catalog_seen = true;
    pthread_mutex_unlock(&mu);
    if (!first) return;
    fprintf(stderr, "subscriber: catalog lists %zu track(s)\n", n);
    for (size_t i = 0; i < n; i++)
        fprintf(stderr, "  %s codec=%s mime=%s bitrate=%u\n", tracks[i].name,
                tracks[i].codec ? tracks[i].codec : "-", tracks[i].mime_type ? tracks[i].mime_type : "-",
                tracks[i].bitrate);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s URL [SECONDS]\n", argv[0]);
        return 2;
    }
    const char *url = argv[1];
    double seconds = argc > 2 ? atof(argv[2]) : 12;
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_ONSTACK;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    bool tty = isatty(STDOUT_FILENO);

    moq_init();
    MoqClient *c = moq_client_create();
    MoqResult r = moq_connect(c, url, on_state, NULL);
    if (r.code != MOQ_OK) {
        fprintf(stderr, "subscriber: connect failed: %s\n", r.message ? r.message : "");
        moq_free_str(r.message);
        moq_client_destroy(c);
        return 1;
    }
    MoqSubscriber *cat = moq_subscribe_catalog(c, MOCAP_NAMESPACE, MOCAP_CATALOG, on_catalog, NULL);
    MoqSubscriber *sub = moq_subscribe(c, MOCAP_NAMESPACE, MOCAP_TRACK, on_frame, NULL);
    if (!sub || !cat) {
        fprintf(stderr, "subscriber: subscribe: %s\n", moq_last_error());
        moq_client_destroy(c);
        return 1;
    }
    /* The status line: every 250 ms on a terminal, once a second otherwise. */
    uint64_t t0 = mocap_now_ns(), hist[4] = {0}, total = 0;
    uint64_t lat_avg = 0, lat_mx = 0;
    for (int tick = 1; !stop && tick <= (int)(seconds * 4); tick++) {
        struct timespec q = {0, 250000000};
        nanosleep(&q, NULL);
        pthread_mutex_lock(&mu);
        uint64_t fr = frames, dr = dropped;
        if (lat_n) {
            lat_avg = lat_sum_ns / lat_n;
            lat_mx = lat_max_ns;
        }
        lat_sum_ns = lat_n = lat_max_ns = 0;
        pthread_mutex_unlock(&mu);
        uint64_t rate = fr - hist[tick % 4]; /* frames over the last second */
        hist[tick % 4] = fr;
        total = fr;
        if (tty || tick % 4 == 0) {
            printf("%s%6.1fs  frames %6llu  %4llu/s  latency avg %6.2f ms  max %6.2f ms  drops %llu%s",
                   tty ? "\r" : "", (double)(mocap_now_ns() - t0) / 1e9, (unsigned long long)fr,
                   (unsigned long long)rate, (double)lat_avg / 1e6, (double)lat_mx / 1e6,
                   (unsigned long long)dr, tty ? "  " : "\n");
            fflush(stdout);
        }
        if (!moq_is_connected(c)) break;
        if (!moq_is_subscribed(sub) && fr > 0) break; /* the track ended */
        /* Subscribed before the publisher announced? The relay refused:
         * subscribe again (the old API has no persistent subscriptions). */
        if (!moq_is_subscribed(sub) && fr == 0) {
            moq_subscriber_destroy(sub);
            moq_subscriber_destroy(cat);
            cat = moq_subscribe_catalog(c, MOCAP_NAMESPACE, MOCAP_CATALOG, on_catalog, NULL);
            sub = moq_subscribe(c, MOCAP_NAMESPACE, MOCAP_TRACK, on_frame, NULL);
            if (!sub || !cat) break;
        }
    }
    if (tty) printf("\n");
    printf("received %llu frames\n", (unsigned long long)total);
    int rc = total == 0 ? 1 : 0;
    moq_subscriber_destroy(sub);
    moq_subscriber_destroy(cat);
    moq_disconnect(c);
    moq_client_destroy(c);
    return rc;
}
