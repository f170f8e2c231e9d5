/* Delivery guarantees (issue 15, items 1, 4 and 6): objects larger than the
 * relay's per-subscriber queue, drops that must reach the subscriber's
 * stats, MOQ_DELIVERY_STREAM_RELIABLE, counted datagram loss, and the
 * delivery mode of objects replayed to a late joiner. Run by
 * scripts/ctest.sh against a default relay (MOQ_TEST_URL, pinned with
 * MOQ_FFI_PIN_SHA256); the tests that need other relay settings start
 * their own relay from MOQ_TEST_RELAY_BIN. */
#include "test_net.h"
#include "test_relay.h"

static const char* url;

/* A client connected to u, with a configuration (pin: pin, or the
 * environment's when NULL); NULL on failure. */
static MoqClient* client_with(const char* u, const char* pin, MoqDraft draft, uint32_t sub_buffer) {
    MoqClient* c = moq_client_create();
    if (!c) return NULL;
    MoqClientConfig cfg;
    moq_client_config_init(&cfg);
    cfg.pin_sha256 = pin;
    cfg.draft = draft;
    cfg.subscription_buffer = sub_buffer;
    CHECK_RESULT(moq_client_configure(c, &cfg), MOQ_OK);
    MoqResult r = moq_connect(c, u, NULL, NULL);
    if (r.code != MOQ_OK) {
        fprintf(stderr, "connect %s failed: %d %s\n", u, (int)r.code, r.message);
        moq_free_str(r.message);
        moq_client_destroy(c);
        return NULL;
    }
    return c;
}

static void put_index(unsigned char* b, uint32_t i) {
    b[0] = (unsigned char)(i >> 24);
    b[1] = (unsigned char)(i >> 16);
    b[2] = (unsigned char)(i >> 8);
    b[3] = (unsigned char)i;
}

static uint32_t get_index(const unsigned char* b) {
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | (uint32_t)b[3];
}

/* Waits until the sink holds an object of length len whose first bytes
 * encode index i (or, with len 0, any object equal to the string tag). */
typedef struct {
    sink* s;
    size_t len;
    uint32_t index;
} wanted;

static int has_wanted(void* arg) {
    wanted* w = (wanted*)arg;
    pthread_mutex_lock(&w->s->mu);
    int found = 0;
    for (size_t i = 0; i < w->s->n && !found; i++) {
        found = w->s->len[i] == w->len && w->len >= 4 && get_index(w->s->data[i]) == w->index;
    }
    pthread_mutex_unlock(&w->s->mu);
    return found;
}

static int count_len(sink* s, size_t len) {
    pthread_mutex_lock(&s->mu);
    int n = 0;
    for (size_t i = 0; i < s->n; i++) n += s->len[i] == len;
    pthread_mutex_unlock(&s->mu);
    return n;
}

/* Counts the objects of length len whose index is in [lo, hi]. */
static long count_range(sink* s, size_t len, uint32_t lo, uint32_t hi) {
    pthread_mutex_lock(&s->mu);
    long n = 0;
    for (size_t i = 0; i < s->n; i++) {
        if (s->len[i] != len || len < 4) continue;
        uint32_t x = get_index(s->data[i]);
        n += x >= lo && x <= hi;
    }
    pthread_mutex_unlock(&s->mu);
    return n;
}

static uint64_t sub_dropped(MoqSubscriber* sub) {
    MoqSubscriberStats st;
    memset(&st, 0, sizeof st);
    st.struct_size = sizeof st;
    CHECK_RESULT(moq_subscriber_stats(sub, &st), MOQ_OK);
    return st.dropped;
}

/* A publisher of NS/"t" and a callback subscriber of it into a sink, on
 * two clients of their own. */
typedef struct {
    char ns[128];
    MoqClient* pc;
    MoqClient* sc;
    MoqPublisher* p;
    MoqSubscriber* sub;
    sink s;
} track_pair;

/* Connects x's clients to u (pin: pin, or the environment's when NULL;
 * subscription buffers pub_buffer and sub_buffer, 0 for the default),
 * announces a fresh namespace named after prefix and opens the publisher in
 * mode and the subscriber. False, with the failure checked, when a part
 * failed. Close x with pair_close either way. */
static int pair_open(track_pair* x, const char* prefix, const char* u, const char* pin, uint32_t pub_buffer,
                     uint32_t sub_buffer, MoqDeliveryMode mode) {
    memset(x, 0, sizeof *x);
    sink_init(&x->s);
    unique(prefix, x->ns, sizeof x->ns);
    x->pc = client_with(u, pin, MOQ_DRAFT_AUTO, pub_buffer);
    x->sc = client_with(u, pin, MOQ_DRAFT_AUTO, sub_buffer);
    CHECK(x->pc && x->sc);
    if (!x->pc || !x->sc) return 0;
    CHECK_RESULT(moq_announce_namespace(x->pc, x->ns), MOQ_OK);
    x->p = moq_create_publisher_ex(x->pc, x->ns, "t", mode);
    x->sub = moq_subscribe(x->sc, x->ns, "t", on_data, &x->s);
    CHECK(x->p && x->sub);
    return x->p && x->sub;
}

/* Destroys what pair_open made (destroying NULL is harmless). */
static void pair_close(track_pair* x) {
    moq_subscriber_destroy(x->sub);
    moq_publisher_destroy(x->p);
    moq_client_destroy(x->sc);
    moq_client_destroy(x->pc);
    sink_destroy(&x->s);
}

/* Item 1: an object of 9 MiB (over the relay's default 8 MiB queue per
 * subscriber, and the clients' default 8 MiB subscription buffers) reaches
 * a callback subscriber and a poll subscriber through a relay with the
 * default settings, and nothing is dropped. */
TEST(object_larger_than_the_default_queues) {
    track_pair x;
    if (!pair_open(&x, "big", url, NULL, 0, 0, MOQ_DELIVERY_STREAM)) {
        pair_close(&x);
        return;
    }
    MoqPublisher* p = x.p;
    MoqSubscriber* sub = x.sub;
    sink* s = &x.s;
    MoqSubscriber* poll = moq_subscribe_ex(x.sc, x.ns, "t", NULL, NULL, NULL);
    CHECK(poll != NULL);
    CHECK(await_live(p, s, MOQ_DELIVERY_STREAM, T(10)));
    const size_t big = 9u << 20;
    unsigned char* data = (unsigned char*)malloc(big);
    for (size_t i = 0; i < big; i++) data[i] = (unsigned char)(i * 7 + 3);
    put_index(data, 1);
    CHECK_RESULT(moq_publish_data(p, data, big, MOQ_DELIVERY_STREAM), MOQ_OK);
    unsigned char tail[8] = {0};
    put_index(tail, 2);
    CHECK_RESULT(moq_publish_data(p, tail, sizeof tail, MOQ_DELIVERY_STREAM), MOQ_OK);
    wanted w = {s, sizeof tail, 2};
    CHECK_MSG(poll_until(has_wanted, &w, T(60)), "the object after the big one did not arrive");
    CHECK_MSG(count_len(s, big) == 1, "the %zu-byte object arrived %d times", big, count_len(s, big));
    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; i < s->n; i++) {
        if (s->len[i] == big) CHECK(memcmp(s->data[i], data, big) == 0);
    }
    pthread_mutex_unlock(&s->mu);
    CHECK(sub_dropped(sub) == 0);
    /* The poll subscriber gets it too (its queue's byte limit is 8 MiB). */
    unsigned char* buf = (unsigned char*)malloc(big);
    int got_big = 0, got_tail = 0;
    double end = t_now() + T(30);
    while (!got_tail && t_now() < end) {
        MoqObject o;
        size_t needed = 0;
        MoqResult r = moq_subscriber_poll(poll, &o, buf, big, &needed, 100);
        moq_free_str(r.message);
        if (r.code != MOQ_OK) continue;
        if (o.payload_len == big && memcmp(o.payload, data, big) == 0) got_big++;
        if (o.payload_len == sizeof tail && get_index(o.payload) == 2) got_tail = 1;
    }
    CHECK(got_tail);
    CHECK_MSG(got_big == 1, "the poll subscriber got the big object %d times", got_big);
    CHECK(sub_dropped(poll) == 0);
    MoqPublisherStats ps;
    memset(&ps, 0, sizeof ps);
    CHECK_RESULT(moq_publisher_stats(p, &ps), MOQ_OK);
    CHECK(ps.struct_size == sizeof ps && ps.dropped == 0 && ps.objects >= 3);
    free(buf);
    free(data);
    moq_subscriber_destroy(poll);
    pair_close(&x);
}

/* Publishes "first" (index 0) until the sink has it. */
static int sync_first(MoqPublisher* p, sink* s, MoqDeliveryMode mode, size_t len) {
    unsigned char* b = (unsigned char*)calloc(1, len);
    wanted w = {s, len, 0};
    double end = t_now() + T(10);
    int ok = 0;
    while (!ok && t_now() < end) {
        MoqResult r = moq_publish_data(p, b, len, mode);
        moq_free_str(r.message);
        ok = poll_until(has_wanted, &w, 0.05);
    }
    free(b);
    return ok;
}

/* Item 1: a relay whose queue per subscriber is small (moq relay
 * --subscriber-buffer) drops groups of a burst; the subscriber accounts for
 * every object: delivered, or counted in its stats as dropped. */
TEST(relay_drops_reach_the_subscriber) {
    relay r;
    CHECK(relay_start(&r, "127.0.0.1:0", "--subscriber-buffer=65536"));
    char u[160];
    snprintf(u, sizeof u, "moqt://%s/", r.addr);
    track_pair x; /* the subscriber's buffer holds the burst: it drops nothing itself */
    if (pair_open(&x, "drops", u, r.fp, 0, 64u << 20, MOQ_DELIVERY_STREAM)) {
        MoqPublisher* p = x.p;
        MoqSubscriber* sub = x.sub;
        sink* s = &x.s;
        const size_t len = 16u << 10;
        CHECK(sync_first(p, s, MOQ_DELIVERY_STREAM, len));
        uint64_t dropped0 = sub_dropped(sub);
        const uint32_t n = (uint32_t)(300 / t_scale()) + 50;
        unsigned char* b = (unsigned char*)calloc(1, len);
        for (uint32_t i = 1; i <= n; i++) {
            put_index(b, i);
            CHECK_RESULT(moq_publish_data(p, b, len, MOQ_DELIVERY_STREAM), MOQ_OK);
        }
        wanted w = {s, len, n};
        CHECK_MSG(poll_until(has_wanted, &w, T(30)), "the last object of the burst did not arrive");
        long delivered = count_range(s, len, 1, n);
        uint64_t dropped = sub_dropped(sub) - dropped0;
        CHECK_MSG((uint64_t)delivered + dropped == n, "%ld delivered + %llu counted as dropped, want %u", delivered,
                  (unsigned long long)dropped, n);
        printf("relay_drops_reach_the_subscriber: %ld delivered, %llu counted as dropped of %u\n", delivered,
               (unsigned long long)dropped, n);
        free(b);
    }
    pair_close(&x);
    relay_stop(&r, SIGTERM);
}

/* Item 4: a MOQ_DELIVERY_STREAM_RELIABLE burst, flat out, from a publisher
 * whose queue toward the relay is small: publishing returns
 * MOQ_ERROR_WOULD_BLOCK instead of dropping, and with retries every object
 * arrives, in order, with nothing dropped anywhere (the relay's queue per
 * subscriber holds the whole burst, so it cannot drop either). */
TEST(reliable_stream_burst) {
    relay r;
    CHECK(relay_start(&r, "127.0.0.1:0", "--subscriber-buffer=67108864"));
    char u[160];
    snprintf(u, sizeof u, "https://%s/", r.addr);
    track_pair x;
    if (pair_open(&x, "reliable", u, r.fp, 256u << 10, 64u << 20, MOQ_DELIVERY_STREAM_RELIABLE)) {
        MoqPublisher* p = x.p;
        MoqSubscriber* sub = x.sub;
        sink* s = &x.s;
        const size_t len = 16u << 10;
        CHECK(sync_first(p, s, MOQ_DELIVERY_STREAM_RELIABLE, len));
        const uint32_t n = (uint32_t)(2000 / t_scale());
        unsigned char* b = (unsigned char*)calloc(1, len);
        uint64_t would_block = 0;
        for (uint32_t i = 1; i <= n;) {
            put_index(b, i);
            MoqResult res = moq_publish_data(p, b, len, MOQ_DELIVERY_STREAM_RELIABLE);
            moq_free_str(res.message);
            if (res.code == MOQ_ERROR_WOULD_BLOCK) {
                would_block++;
                struct timespec ts = {0, 200000};
                nanosleep(&ts, NULL); /* publish again later */
                continue;
            }
            CHECK_RESULT(res, MOQ_OK);
            if (res.code != MOQ_OK) break;
            i++;
        }
        wanted w = {s, len, n};
        CHECK_MSG(poll_until(has_wanted, &w, T(60)), "the last object of the burst did not arrive");
        /* The burst's objects (index 1 to n; the sync objects have 0), in order. */
        pthread_mutex_lock(&s->mu);
        uint32_t next = 1;
        for (size_t i = 0; i < s->n; i++) {
            uint32_t idx = get_index(s->data[i]);
            if (idx == 0) continue;
            CHECK_MSG(idx == next, "object %u has index %u", next, idx);
            if (idx != next) break;
            next++;
        }
        CHECK_MSG(next == n + 1, "received %u of %u", next - 1, n);
        pthread_mutex_unlock(&s->mu);
        CHECK(sub_dropped(sub) == 0);
        MoqPublisherStats ps;
        memset(&ps, 0, sizeof ps);
        ps.struct_size = sizeof ps;
        CHECK_RESULT(moq_publisher_stats(p, &ps), MOQ_OK);
        CHECK(ps.dropped == 0);
        CHECK(ps.would_block == would_block);
        printf("reliable_stream_burst: %u objects, %llu publishes refused with MOQ_ERROR_WOULD_BLOCK\n", n,
               (unsigned long long)would_block);
        free(b);
    }
    pair_close(&x);
    relay_stop(&r, SIGTERM);
}

/* datagram_loss_is_counted's check: the datagrams delivered plus those
 * counted as lost reach n (the figures it last read are kept for the
 * message). */
typedef struct {
    sink* s;
    MoqSubscriber* sub;
    size_t len;
    uint32_t n;
    uint64_t dropped0;
    long delivered;
    uint64_t dropped;
} dgloss_sum;

static int dgloss_adds_up(void* arg) {
    dgloss_sum* d = (dgloss_sum*)arg;
    d->delivered = count_range(d->s, d->len, 1, d->n);
    d->dropped = sub_dropped(d->sub) - d->dropped0;
    return (uint64_t)d->delivered + d->dropped >= (uint64_t)d->n;
}

/* Item 4: unpaced datagrams, some lost (full receive queues): the
 * subscriber counts every one that did not arrive. A stream object after
 * the burst marks its end. */
TEST(datagram_loss_is_counted) {
    track_pair x;
    if (!pair_open(&x, "dgloss", url, NULL, 0, 0, MOQ_DELIVERY_DATAGRAM)) {
        pair_close(&x);
        return;
    }
    MoqPublisher* p = x.p;
    MoqSubscriber* sub = x.sub;
    sink* s = &x.s;
    const size_t len = 1000;
    CHECK(sync_first(p, s, MOQ_DELIVERY_STREAM, len));
    uint64_t dropped0 = sub_dropped(sub);
    const uint32_t n = (uint32_t)(5000 / t_scale());
    unsigned char b[1000] = {0};
    for (uint32_t i = 1; i <= n; i++) {
        put_index(b, i);
        CHECK_RESULT(moq_publish_data(p, b, len, MOQ_DELIVERY_DATAGRAM), MOQ_OK);
    }
    unsigned char end[5] = {0};
    put_index(end, n + 1);
    CHECK_RESULT(moq_publish_data(p, end, sizeof end, MOQ_DELIVERY_STREAM), MOQ_OK);
    wanted w = {s, sizeof end, n + 1};
    CHECK_MSG(poll_until(has_wanted, &w, T(30)), "the end marker did not arrive");
    /* Every group up to the marker's was delivered or counted: a datagram
     * still on its way is counted as lost until it arrives. One that
     * arrives after the marker (datagrams and streams are not ordered with
     * each other) is uncounted when the session receives it and reaches
     * the sink a moment later, through the callback queue: in between it
     * is in neither figure, so wait for the two to add up. */
    dgloss_sum sum = {s, sub, len, n, dropped0, 0, 0};
    int adds_up = poll_until(dgloss_adds_up, &sum, T(10));
    long delivered = sum.delivered;
    uint64_t dropped = sum.dropped;
    CHECK_MSG(adds_up, "%ld delivered + %llu counted as lost, want %u", delivered, (unsigned long long)dropped, n);
    printf("datagram_loss_is_counted: %ld of %u datagrams delivered, %llu counted as lost\n", delivered, n,
           (unsigned long long)dropped);
    pair_close(&x);
}

/* Item 6: a publisher of a datagram track publishes a 4000-byte object with
 * MOQ_DELIVERY_STREAM before anyone subscribes. On draft-07 the relay's
 * subscription replays the current group from the publisher's cache: the
 * object must travel as it was published (a stream), not in the track's
 * mode (a datagram, too large: lost). */
TEST(replay_keeps_each_objects_delivery) {
    char ns[128];
    unique("replay", ns, sizeof ns);
    MoqClient* pc = client_with(url, NULL, MOQ_DRAFT_07_CLOUDFLARE, 0);
    MoqClient* sc = connect_client(url, NULL);
    CHECK(pc && sc);
    if (!pc || !sc) return;
    CHECK_RESULT(moq_announce_namespace(pc, ns), MOQ_OK);
    MoqPublisher* p = moq_create_publisher_ex(pc, ns, "t", MOQ_DELIVERY_DATAGRAM);
    CHECK(p != NULL);
    unsigned char big[4000];
    memset(big, 0x42, sizeof big);
    put_index(big, 7);
    CHECK_RESULT(moq_publish_data(p, big, sizeof big, MOQ_DELIVERY_STREAM), MOQ_OK); /* group 0 */
    sink s;
    sink_init(&s);
    MoqSubscribeOptions so;
    moq_subscribe_options_init(&so);
    so.filter = MOQ_FILTER_ABSOLUTE_START; /* from group 0, out of the relay's cache */
    MoqSubscriber* sub = moq_subscribe_ex(sc, ns, "t", &so, NULL, NULL);
    CHECK(sub != NULL);
    /* Nothing else is published: group 0 must stay the publisher's current
     * group, the one the relay's draft-07 subscription replays. */
    unsigned char buf[4096];
    int got_big = 0;
    double end = t_now() + T(10);
    while (!got_big && t_now() < end) {
        MoqObject o;
        MoqResult r = moq_subscriber_poll(sub, &o, buf, sizeof buf, NULL, 100);
        moq_free_str(r.message);
        if (r.code == MOQ_OK && o.payload_len == sizeof big && memcmp(o.payload, big, sizeof big) == 0) got_big = 1;
    }
    CHECK_MSG(got_big, "the 4000-byte stream object published before the subscription was not replayed");
    moq_subscriber_destroy(sub);
    moq_publisher_destroy(p);
    moq_client_destroy(sc);
    moq_client_destroy(pc);
    sink_destroy(&s);
}

int main(void) {
    signal(SIGPIPE, SIG_IGN);
    url = relay_url();
    RUN(object_larger_than_the_default_queues);
    RUN(relay_drops_reach_the_subscriber);
    RUN(reliable_stream_burst);
    RUN(datagram_loss_is_counted);
    RUN(replay_keeps_each_objects_delivery);
    return t_summary("test_delivery");
}
