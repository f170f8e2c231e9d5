/* Publish -> relay -> subscribe round trips, run once per URL scheme and
 * draft by scripts/ctest.sh (MOQ_TEST_URL, MOQ_FFI_DRAFT). */
#include "test_net.h"

static const char* url;

TEST(connect_reports_states_on_calling_thread) {
    state_log log;
    state_log_init(&log);
    MoqClient* c = moq_client_create();
    CHECK(c != NULL);
    CHECK(!moq_is_connected(c));
    CHECK(moq_last_error() != NULL);
    CHECK_RESULT(moq_connect(c, url, on_state, &log), MOQ_OK);
    CHECK(moq_last_error() == NULL);
    CHECK(log.n == 2);
    CHECK(state_at(&log, 0) == MOQ_STATE_CONNECTING);
    CHECK(state_at(&log, 1) == MOQ_STATE_CONNECTED);
    CHECK(log.n == 2 && pthread_equal(log.threads[0], pthread_self()) &&
          pthread_equal(log.threads[1], pthread_self()));
    CHECK(moq_is_connected(c));
    CHECK(moq_last_error() == NULL);
    /* Connecting a connected client is refused and leaves it connected. */
    CHECK_RESULT(moq_connect(c, url, on_state, &log), MOQ_ERROR_INVALID_ARGUMENT);
    CHECK(moq_is_connected(c));
    CHECK(log.n == 2);
    /* Graceful disconnect: DISCONNECTED on this thread, before returning. */
    CHECK_RESULT(moq_disconnect(c), MOQ_OK);
    CHECK(log.n == 3 && state_at(&log, 2) == MOQ_STATE_DISCONNECTED);
    CHECK(!moq_is_connected(c));
    CHECK(moq_last_error() != NULL);
    CHECK_RESULT(moq_disconnect(c), MOQ_OK); /* idempotent, no second callback */
    CHECK(log.n == 3);
    /* Reconnect on the same client. */
    CHECK_RESULT(moq_connect(c, url, on_state, &log), MOQ_OK);
    CHECK(moq_is_connected(c));
    CHECK(state_at(&log, 4) == MOQ_STATE_CONNECTED);
    moq_client_destroy(c);
    CHECK(log.n == 5); /* no callback from destroy */
    state_log_destroy(&log);
}

/* Publishes msgs objects and checks they arrive exactly, in order. */
static void roundtrip(MoqDeliveryMode mode, int lockstep) {
    char ns[128], track[64];
    unique("rt", ns, sizeof ns);
    unique("track", track, sizeof track);
    MoqClient* pc = connect_client(url, NULL);
    MoqClient* sc = connect_client(url, NULL);
    CHECK(pc && sc);
    if (!pc || !sc) return;
    CHECK(moq_create_publisher_ex(pc, ns, track, mode) == NULL); /* not announced yet */
    CHECK(moq_last_error() && strstr(moq_last_error(), "not announced"));
    CHECK_RESULT(moq_announce_namespace(pc, ns), MOQ_OK);
    CHECK_RESULT(moq_announce_namespace(pc, ns), MOQ_ERROR_INVALID_ARGUMENT);
    MoqPublisher* p = moq_create_publisher_ex(pc, ns, track, mode);
    CHECK(p != NULL);
    sink s;
    sink_init(&s);
    MoqSubscriber* sub = moq_subscribe(sc, ns, track, on_data, &s);
    CHECK(sub != NULL);
    CHECK(moq_is_subscribed(sub));
    CHECK(await_live(p, &s, mode, T(10)));
    long base = waiter_get(&s.w);
    /* Messages of varied sizes, including empty ones. */
    enum { N = 40 };
    size_t sizes[N];
    unsigned char buf[1000];
    for (int i = 0; i < N; i++) {
        sizes[i] = (i % 5 == 0) ? 0 : (size_t)(i * 23 % 1000);
        for (size_t k = 0; k < sizes[i]; k++) buf[k] = (unsigned char)(i + k);
        CHECK_RESULT(moq_publish_data(p, buf, sizes[i], mode), MOQ_OK);
        if (lockstep) CHECK(waiter_wait(&s.w, base + i + 1, T(5)) >= base + i + 1);
    }
    /* Probes still in flight may precede the messages. */
    double end = t_now() + T(10);
    while (t_now() < end && (long)(waiter_get(&s.w) - skip_probes(&s)) < N) waiter_wait(&s.w, waiter_get(&s.w) + 1, 0.1);
    size_t first = skip_probes(&s);
    pthread_mutex_lock(&s.mu);
    CHECK_MSG(s.n - first == N, "received %zu of %d", s.n - first, N);
    for (int i = 0; i < N && first + i < s.n; i++) {
        size_t got = s.len[first + i];
        int same = got == sizes[i];
        for (size_t k = 0; same && k < got; k++) same = s.data[first + i][k] == (unsigned char)(i + k);
        CHECK_MSG(same, "object %d: %zu bytes, want %zu", i, got, sizes[i]);
    }
    pthread_mutex_unlock(&s.mu);
    /* Unsubscribe: no callback afterwards, handle stays valid. */
    CHECK_RESULT(moq_unsubscribe(sub), MOQ_OK);
    CHECK(!moq_is_subscribed(sub));
    CHECK(moq_last_error() != NULL);
    long after = waiter_get(&s.w);
    CHECK_RESULT(moq_publish_data(p, buf, 10, mode), MOQ_OK);
    CHECK_RESULT(moq_unsubscribe(sub), MOQ_OK);
    moq_subscriber_destroy(sub);
    moq_subscriber_destroy(sub);
    CHECK(waiter_get(&s.w) == after);
    moq_publisher_destroy(p);
    moq_client_destroy(sc);
    moq_client_destroy(pc);
    CHECK(waiter_get(&s.w) == after);
    sink_destroy(&s);
}

TEST(roundtrip_stream) { roundtrip(MOQ_DELIVERY_STREAM, 0); }
TEST(roundtrip_datagram) { roundtrip(MOQ_DELIVERY_DATAGRAM, 1); }

TEST(sizes_and_limits) {
    char ns[128];
    unique("sz", ns, sizeof ns);
    MoqClient* pc = connect_client(url, NULL);
    MoqClient* sc = connect_client(url, NULL);
    CHECK(pc && sc);
    if (!pc || !sc) return;
    CHECK_RESULT(moq_announce_namespace(pc, ns), MOQ_OK);
    MoqPublisher* p = moq_create_publisher(pc, ns, "big");
    CHECK(p != NULL);
    sink s;
    sink_init(&s);
    MoqSubscriber* sub = moq_subscribe(sc, ns, "big", on_data, &s);
    CHECK(await_live(p, &s, MOQ_DELIVERY_STREAM, T(10)));
    long base = waiter_get(&s.w);
    size_t big = 4u << 20;
    unsigned char* b = (unsigned char*)malloc((16u << 20) + 1);
    for (size_t i = 0; i < big; i++) b[i] = (unsigned char)(i * 7);
    CHECK_RESULT(moq_publish_data(p, b, big, MOQ_DELIVERY_STREAM), MOQ_OK);
    CHECK(waiter_wait(&s.w, base + 1, T(20)) >= base + 1);
    pthread_mutex_lock(&s.mu);
    size_t last = s.n - 1;
    CHECK(s.len[last] == big && memcmp(s.data[last], b, big) == 0);
    pthread_mutex_unlock(&s.mu);
    CHECK_RESULT(moq_publish_data(p, b, (16u << 20) + 1, MOQ_DELIVERY_STREAM), MOQ_ERROR_INVALID_ARGUMENT);
    CHECK_RESULT(moq_publish_data(p, b, 1025, MOQ_DELIVERY_DATAGRAM), MOQ_ERROR_INVALID_ARGUMENT);
    CHECK_RESULT(moq_publish_data(p, b, 10, (MoqDeliveryMode)7), MOQ_ERROR_INVALID_ARGUMENT);
    CHECK_RESULT(moq_publish_data(p, NULL, 10, MOQ_DELIVERY_STREAM), MOQ_ERROR_INVALID_ARGUMENT);
    CHECK(moq_last_error() && strstr(moq_last_error(), "Data is null"));
    CHECK_RESULT(moq_publish_data(p, NULL, 0, MOQ_DELIVERY_STREAM), MOQ_OK);
    free(b);
    moq_subscriber_destroy(sub);
    moq_publisher_destroy(p);
    moq_client_destroy(sc);
    moq_client_destroy(pc);
    sink_destroy(&s);
}

static int not_subscribed(void* sub) { return !moq_is_subscribed((MoqSubscriber*)sub); }

TEST(subscribe_error_and_track_end) {
    char ns[128];
    unique("end", ns, sizeof ns);
    MoqClient* pc = connect_client(url, NULL);
    MoqClient* sc = connect_client(url, NULL);
    CHECK(pc && sc);
    if (!pc || !sc) return;
    /* Nobody announced this namespace: the relay refuses. */
    MoqSubscriber* nope = moq_subscribe(sc, ns, "missing", on_data, NULL);
    CHECK(nope != NULL);
    CHECK(poll_until(not_subscribed, nope, T(10)));
    CHECK(!moq_is_subscribed(nope));
    CHECK_MSG(moq_last_error() != NULL, "no reason for the failed subscription");
    if (moq_last_error()) fprintf(stderr, "  reason: %s\n", moq_last_error());
    moq_subscriber_destroy(nope);
    /* Announced, but no such track. */
    CHECK_RESULT(moq_announce_namespace(pc, ns), MOQ_OK);
    MoqSubscriber* nope2 = moq_subscribe(sc, ns, "missing", on_data, NULL);
    CHECK(poll_until(not_subscribed, nope2, T(10)));
    moq_subscriber_destroy(nope2);
    /* The track ends when its publisher goes. */
    MoqPublisher* p = moq_create_publisher(pc, ns, "t");
    sink s;
    sink_init(&s);
    MoqSubscriber* sub = moq_subscribe(sc, ns, "t", on_data, &s);
    CHECK(await_live(p, &s, MOQ_DELIVERY_STREAM, T(10)));
    moq_publisher_destroy(p);
    moq_publisher_destroy(p);
    CHECK(poll_until(not_subscribed, sub, T(10)));
    CHECK(moq_last_error() != NULL);
    moq_subscriber_destroy(sub);
    moq_client_destroy(sc);
    moq_client_destroy(pc);
    sink_destroy(&s);
}

TEST(two_publishers_share_a_track) {
    char ns[128];
    unique("share", ns, sizeof ns);
    MoqClient* pc = connect_client(url, NULL);
    MoqClient* sc = connect_client(url, NULL);
    CHECK(pc && sc);
    if (!pc || !sc) return;
    CHECK_RESULT(moq_announce_namespace(pc, ns), MOQ_OK);
    MoqPublisher* a = moq_create_publisher(pc, ns, "t");
    MoqPublisher* b = moq_create_publisher(pc, ns, "t");
    CHECK(a && b && a != b);
    sink s;
    sink_init(&s);
    MoqSubscriber* sub = moq_subscribe(sc, ns, "t", on_data, &s);
    CHECK(await_live(a, &s, MOQ_DELIVERY_STREAM, T(10)));
    moq_publisher_destroy(a);
    long base = waiter_get(&s.w);
    CHECK_RESULT(moq_publish_data(b, (const uint8_t*)"xyz", 3, MOQ_DELIVERY_STREAM), MOQ_OK);
    CHECK(waiter_wait(&s.w, base + 1, T(5)) >= base + 1);
    CHECK(moq_is_subscribed(sub));
    CHECK_RESULT(moq_publish_data(a, (const uint8_t*)"xyz", 3, MOQ_DELIVERY_STREAM), MOQ_ERROR_INVALID_ARGUMENT);
    moq_publisher_destroy(b);
    moq_subscriber_destroy(sub);
    moq_client_destroy(sc);
    moq_client_destroy(pc);
    sink_destroy(&s);
}

TEST(disconnect_kills_children) {
    char ns[128];
    unique("dc", ns, sizeof ns);
    MoqClient* pc = connect_client(url, NULL);
    MoqClient* sc = connect_client(url, NULL);
    CHECK(pc && sc);
    if (!pc || !sc) return;
    CHECK_RESULT(moq_announce_namespace(pc, ns), MOQ_OK);
    MoqPublisher* p = moq_create_publisher(pc, ns, "t");
    sink s;
    sink_init(&s);
    MoqSubscriber* sub = moq_subscribe(sc, ns, "t", on_data, &s);
    CHECK(await_live(p, &s, MOQ_DELIVERY_STREAM, T(10)));
    CHECK_RESULT(moq_disconnect(sc), MOQ_OK);
    CHECK(!moq_is_subscribed(sub));
    long n = waiter_get(&s.w);
    CHECK_RESULT(moq_publish_data(p, (const uint8_t*)"x", 1, MOQ_DELIVERY_STREAM), MOQ_OK);
    CHECK_RESULT(moq_disconnect(pc), MOQ_OK);
    CHECK_RESULT(moq_publish_data(p, (const uint8_t*)"x", 1, MOQ_DELIVERY_STREAM), MOQ_ERROR_NOT_CONNECTED);
    CHECK_RESULT(moq_announce_namespace(pc, ns), MOQ_ERROR_NOT_CONNECTED);
    CHECK(moq_create_publisher(pc, ns, "t") == NULL);
    CHECK(moq_subscribe(pc, ns, "t", on_data, &s) == NULL);
    CHECK(waiter_get(&s.w) == n);
    /* Reconnect: the namespace must be announced again on the new session. */
    CHECK_RESULT(moq_connect(pc, url, NULL, NULL), MOQ_OK);
    CHECK(moq_create_publisher(pc, ns, "t") == NULL);
    CHECK_RESULT(moq_announce_namespace(pc, ns), MOQ_OK);
    MoqPublisher* p2 = moq_create_publisher(pc, ns, "t");
    CHECK(p2 != NULL);
    CHECK_RESULT(moq_publish_data(p, (const uint8_t*)"x", 1, MOQ_DELIVERY_STREAM), MOQ_ERROR_NOT_CONNECTED);
    moq_publisher_destroy(p2);
    moq_publisher_destroy(p);
    moq_subscriber_destroy(sub);
    moq_client_destroy(sc);
    moq_client_destroy(pc);
    sink_destroy(&s);
}

/* ---- catalog ---- */
typedef struct {
    waiter w;
    pthread_mutex_t mu;
    int count;
    char names[8][32];
    char codec[8][32];
    char mime[8][32];
    char lang[8][8];
    int null_codec[8];
    uint32_t width[8], height[8], bitrate[8], rate[8];
} catalog_rec;

static void on_catalog(void* ud, const MoqTrackInfo* t, size_t n) {
    catalog_rec* r = (catalog_rec*)ud;
    pthread_mutex_lock(&r->mu);
    r->count = (int)n;
    if (n == 0 && t != NULL) t_failures++;
    for (size_t i = 0; i < n && i < 8; i++) {
        snprintf(r->names[i], 32, "%s", t[i].name);
        r->null_codec[i] = t[i].codec == NULL;
        snprintf(r->codec[i], 32, "%s", t[i].codec ? t[i].codec : "");
        snprintf(r->mime[i], 32, "%s", t[i].mime_type ? t[i].mime_type : "");
        snprintf(r->lang[i], 8, "%s", t[i].language ? t[i].language : "");
        r->width[i] = t[i].width;
        r->height[i] = t[i].height;
        r->bitrate[i] = t[i].bitrate;
        r->rate[i] = t[i].sample_rate;
    }
    pthread_mutex_unlock(&r->mu);
    waiter_add(&r->w, 1);
}

static const char* catalog01 =
    "{\"version\":1,\"streamingFormat\":1,\"streamingFormatVersion\":\"0.2\",\"supportsDeltaUpdates\":false,"
    "\"commonTrackFields\":{\"packaging\":\"loc\"},"
    "\"tracks\":[{\"name\":\"video\",\"selectionParams\":{\"codec\":\"avc1.64001f\",\"mimeType\":\"video/h264\","
    "\"width\":1920,\"height\":1080,\"bitrate\":5000000}},"
    "{\"name\":\"audio\",\"selectionParams\":{\"codec\":\"opus\",\"samplerate\":48000,\"lang\":\"en\"}}]}";
static const char* catalog_msf =
    "{\"version\":\"1\",\"generatedAt\":1700000000000,\"tracks\":["
    "{\"name\":\"cam\",\"namespace\":\"x\",\"packaging\":\"loc\",\"codec\":\"av01\",\"width\":640,\"height\":480,"
    "\"framerate\":30,\"bitrate\":99999999999},{\"name\":\"mic\",\"samplerate\":44100}]}";

TEST(catalog_roundtrip) {
    char ns[128];
    unique("cat", ns, sizeof ns);
    MoqClient* pc = connect_client(url, NULL);
    MoqClient* sc = connect_client(url, NULL);
    CHECK(pc && sc);
    if (!pc || !sc) return;
    CHECK_RESULT(moq_announce_namespace(pc, ns), MOQ_OK);
    MoqPublisher* p = moq_create_publisher(pc, ns, ".catalog");
    catalog_rec r;
    memset(&r, 0, sizeof r);
    waiter_init(&r.w);
    pthread_mutex_init(&r.mu, NULL);
    MoqSubscriber* sub = moq_subscribe_catalog(sc, ns, ".catalog", on_catalog, &r);
    CHECK(sub != NULL);
    /* Publish until the subscriber has seen one catalog. */
    double end = t_now() + T(10);
    while (t_now() < end && waiter_get(&r.w) == 0) {
        CHECK_RESULT(moq_publish_data(p, (const uint8_t*)catalog01, strlen(catalog01), MOQ_DELIVERY_STREAM), MOQ_OK);
        waiter_wait(&r.w, 1, 0.05);
    }
    pthread_mutex_lock(&r.mu);
    CHECK(r.count == 2);
    CHECK(strcmp(r.names[0], "video") == 0 && strcmp(r.codec[0], "avc1.64001f") == 0);
    CHECK(strcmp(r.mime[0], "video/h264") == 0 && r.width[0] == 1920 && r.height[0] == 1080);
    CHECK(r.bitrate[0] == 5000000 && r.rate[0] == 0);
    CHECK(strcmp(r.names[1], "audio") == 0 && r.rate[1] == 48000 && strcmp(r.lang[1], "en") == 0);
    pthread_mutex_unlock(&r.mu);
    /* Malformed objects are skipped; a flat MSF catalog follows. */
    long base = waiter_get(&r.w);
    const char* bad[] = {"not json", "{\"tracks\":5}", "[{\"op\":\"add\"}]", "\xff\xfe", "{}", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_RESULT(moq_publish_data(p, (const uint8_t*)bad[i], strlen(bad[i]), MOQ_DELIVERY_STREAM), MOQ_OK);
    CHECK_RESULT(moq_publish_data(p, (const uint8_t*)catalog_msf, strlen(catalog_msf), MOQ_DELIVERY_STREAM), MOQ_OK);
    CHECK(waiter_wait(&r.w, base + 1, T(10)) >= base + 1);
    pthread_mutex_lock(&r.mu);
    CHECK(waiter_get(&r.w) == base + 1);
    CHECK(r.count == 2);
    CHECK(strcmp(r.names[0], "cam") == 0 && strcmp(r.codec[0], "av01") == 0 && r.width[0] == 640);
    CHECK(r.bitrate[0] == 0); /* out of range */
    CHECK(strcmp(r.names[1], "mic") == 0 && r.null_codec[1] && r.rate[1] == 44100);
    pthread_mutex_unlock(&r.mu);
    moq_subscriber_destroy(sub);
    moq_publisher_destroy(p);
    moq_client_destroy(sc);
    moq_client_destroy(pc);
    waiter_destroy(&r.w);
    pthread_mutex_destroy(&r.mu);
}

/* ---- announces ---- */
typedef struct {
    waiter w;
    pthread_mutex_t mu;
    char want[256];
    int seen, bad;
} ann_rec;

static void on_announce(void* ud, const char* ns, const char* track) {
    ann_rec* a = (ann_rec*)ud;
    pthread_mutex_lock(&a->mu);
    if (track != NULL || ns == NULL || ns[0] == '/') a->bad++;
    if (ns && strcmp(ns, a->want) == 0) a->seen++;
    pthread_mutex_unlock(&a->mu);
    waiter_add(&a->w, 1);
}

static int ann_seen(void* ud) {
    ann_rec* a = (ann_rec*)ud;
    pthread_mutex_lock(&a->mu);
    int s = a->seen;
    pthread_mutex_unlock(&a->mu);
    return s > 0;
}

static void announces(int use_prefix) {
    char top[64], ns[160];
    unique("ann", top, sizeof top);
    snprintf(ns, sizeof ns, "%s/room", top);
    if (use_prefix) setenv("MOQ_FFI_ANNOUNCE_PREFIX", top, 1);
    ann_rec a;
    memset(&a, 0, sizeof a);
    waiter_init(&a.w);
    pthread_mutex_init(&a.mu, NULL);
    snprintf(a.want, sizeof a.want, "%s", ns);
    /* Registered before connect: started by moq_connect. */
    MoqClient* lc = moq_client_create();
    CHECK_RESULT(moq_subscribe_announces(lc, on_announce, &a), MOQ_OK);
    CHECK_RESULT(moq_connect(lc, url, NULL, NULL), MOQ_OK);
    MoqClient* pc = connect_client(url, NULL);
    /* The listener's SUBSCRIBE_ANNOUNCES runs in the background: announce
     * until it is seen (a later announce of the same namespace is refused,
     * so use a fresh sub-namespace each time). */
    int i = 0;
    double end = t_now() + T(10);
    char each[200];
    while (t_now() < end && !ann_seen(&a)) {
        snprintf(each, sizeof each, "%s/%d", ns, i++);
        pthread_mutex_lock(&a.mu);
        snprintf(a.want, sizeof a.want, "%s", each);
        pthread_mutex_unlock(&a.mu);
        CHECK_RESULT(moq_announce_namespace(pc, each), MOQ_OK);
        poll_until(ann_seen, &a, 0.2);
    }
    CHECK(ann_seen(&a));
    /* Registered after connect: waits for the relay's answer, then sees
     * both the earlier namespaces and a later one. */
    ann_rec b;
    memset(&b, 0, sizeof b);
    waiter_init(&b.w);
    pthread_mutex_init(&b.mu, NULL);
    snprintf(b.want, sizeof b.want, "%s", each);
    MoqClient* lc2 = connect_client(url, NULL);
    CHECK_RESULT(moq_subscribe_announces(lc2, on_announce, &b), MOQ_OK);
    CHECK(poll_until(ann_seen, &b, T(10)));
    pthread_mutex_lock(&b.mu);
    b.seen = 0;
    snprintf(b.want, sizeof b.want, "%s/later", ns);
    pthread_mutex_unlock(&b.mu);
    snprintf(each, sizeof each, "%s/later", ns);
    CHECK_RESULT(moq_announce_namespace(pc, each), MOQ_OK);
    CHECK(poll_until(ann_seen, &b, T(10)));
    /* Removing the listener stops callbacks at once. */
    CHECK_RESULT(moq_subscribe_announces(lc2, NULL, NULL), MOQ_OK);
    long nb = waiter_get(&b.w);
    snprintf(each, sizeof each, "%s/after", ns);
    CHECK_RESULT(moq_announce_namespace(pc, each), MOQ_OK);
    CHECK(waiter_get(&b.w) == nb);
    CHECK(a.bad == 0 && b.bad == 0);
    moq_client_destroy(lc);
    moq_client_destroy(lc2);
    moq_client_destroy(pc);
    if (use_prefix) unsetenv("MOQ_FFI_ANNOUNCE_PREFIX");
    waiter_destroy(&a.w);
    pthread_mutex_destroy(&a.mu);
    waiter_destroy(&b.w);
    pthread_mutex_destroy(&b.mu);
}

TEST(announces_with_prefix) { announces(1); }
TEST(announces_all) { announces(0); }

int main(void) {
    url = relay_url();
    const char* draft = env_or("MOQ_FFI_DRAFT", "default");
    fprintf(stderr, "test_pubsub: %s draft=%s\n", url, draft);
    RUN(connect_reports_states_on_calling_thread);
    RUN(roundtrip_stream);
    RUN(roundtrip_datagram);
    RUN(sizes_and_limits);
    RUN(subscribe_error_and_track_end);
    RUN(two_publishers_share_a_track);
    RUN(disconnect_kills_children);
    RUN(catalog_roundtrip);
    RUN(announces_with_prefix);
    /* Draft-14 has no empty prefix: only draft-07 can listen to everything. */
    if (strncmp(draft, "07", 2) == 0) RUN(announces_all);
    return t_summary("test_pubsub");
}
