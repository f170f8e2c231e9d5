/* Motion-capture demo publisher: joint positions of a walking skeleton at a
 * fixed rate, one object per frame (moq_publish_data: one group each), plus a
 * catalog track describing it.
 *
 *   mocap_pub URL [RATE_HZ] [SECONDS]
 */
#define _POSIX_C_SOURCE 200809L /* sigaction, SA_ONSTACK, nanosleep, clock_gettime */
#define _DEFAULT_SOURCE
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "moq_ffi.h"
#include "mocap.h"

static volatile sig_atomic_t stop;
static void on_signal(int sig) { (void)sig; stop = 1; }

static void on_state(void *ud, MoqConnectionState st) {
    (void)ud;
    static const char *names[] = {"disconnected", "connecting", "connected", "failed"};
    fprintf(stderr, "publisher: %s\n", st <= MOQ_STATE_FAILED ? names[st] : "?");
}

static bool check(MoqResult r, const char *what) {
    if (r.code == MOQ_OK) return true;
    fprintf(stderr, "publisher: %s failed (%d): %s\n", what, (int)r.code, r.message ? r.message : "");
    moq_free_str(r.message);
    return false;
}

static void sleep_until(uint64_t t_ns) {
    uint64_t now = mocap_now_ns();
    if (t_ns <= now) return;
    struct timespec d = {(time_t)((t_ns - now) / 1000000000u), (long)((t_ns - now) % 1000000000u)};
    nanosleep(&d, NULL);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s URL [RATE_HZ] [SECONDS]\n", argv[0]);
        return 2;
    }
    const char *url = argv[1];
    int rate = argc > 2 ? atoi(argv[2]) : 90;
    double seconds = argc > 3 ? atof(argv[3]) : 10;
    if (rate <= 0 || rate > 10000) rate = 90;
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_ONSTACK; /* the Go runtime requires SA_ONSTACK handlers */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    moq_init();
    MoqClient *c = moq_client_create();
    if (!c) {
        fprintf(stderr, "publisher: %s\n", moq_last_error());
        return 1;
    }
    int rc = 1;
    MoqPublisher *track = NULL, *catalog = NULL;
    if (!check(moq_connect(c, url, on_state, NULL), "connect")) goto out;
    if (!check(moq_announce_namespace(c, MOCAP_NAMESPACE), "announce")) goto out;
    track = moq_create_publisher_ex(c, MOCAP_NAMESPACE, MOCAP_TRACK, MOQ_DELIVERY_STREAM);
    catalog = moq_create_publisher_ex(c, MOCAP_NAMESPACE, MOCAP_CATALOG, MOQ_DELIVERY_STREAM);
    if (!track || !catalog) {
        fprintf(stderr, "publisher: create publisher: %s\n", moq_last_error());
        goto out;
    }
    static const char catalog_json[] =
        "{\"version\":1,\"streamingFormat\":1,\"streamingFormatVersion\":\"0.2\","
        "\"supportsDeltaUpdates\":false,\"commonTrackFields\":{\"namespace\":\"" MOCAP_NAMESPACE "\",\"packaging\":\"loc\"},"
        "\"tracks\":[{\"name\":\"" MOCAP_TRACK "\",\"selectionParams\":{\"codec\":\"mocap-f32x3\","
        "\"mimeType\":\"application/x-mocap\",\"bitrate\":250000}}]}";

    uint64_t start = mocap_now_ns(), period = 1000000000u / (uint64_t)rate;
    uint64_t frames = (uint64_t)(seconds * rate);
    mocap_frame f;
    memset(&f, 0, sizeof f);
    f.joints = MOCAP_JOINTS;
    for (uint64_t i = 0; i < frames && !stop; i++) {
        if (i % (uint64_t)rate == 0 &&  /* the catalog once a second, for late joiners */
            !check(moq_publish_data(catalog, (const uint8_t *)catalog_json, sizeof catalog_json - 1,
                                    MOQ_DELIVERY_STREAM), "publish catalog"))
            goto out;
        double t = (double)i / rate;
        for (int j = 0; j < MOCAP_JOINTS; j++) {
            f.pos[j][0] = (float)(0.1 * j + 0.3 * sin(2 * 3.14159265358979 * 0.8 * t + j));
            f.pos[j][1] = (float)(0.05 * j);
            f.pos[j][2] = (float)(0.2 * cos(2 * 3.14159265358979 * 0.8 * t + j) + 0.5 * t);
        }
        f.seq = (uint32_t)i;
        f.sent_ns = mocap_now_ns();
        MoqResult r = moq_publish_data(track, (const uint8_t *)&f, sizeof f, MOQ_DELIVERY_STREAM);
        if (!check(r, "publish")) goto out;
        sleep_until(start + (i + 1) * period);
    }
    rc = 0;
out:
    moq_publisher_destroy(track);
    moq_publisher_destroy(catalog);
    moq_disconnect(c);
    moq_client_destroy(c);
    return rc;
}
