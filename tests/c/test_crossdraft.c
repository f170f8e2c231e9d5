/* A draft-16 publisher written against the old (0.1) functions only,
 * selected with MOQ_FFI_DRAFT=16 as a host would, round-trips through
 * `moq relay` to a draft-14 and a draft-07cf subscriber, over both URL
 * schemes; then the other way round (a draft-14 and a draft-07cf publisher
 * to a draft-16 subscriber). MOQ_TEST_ADDR is the relay's host:port;
 * MOQ_FFI_PIN_SHA256 its certificate. The drafts are chosen per connection
 * by setting MOQ_FFI_DRAFT before each moq_connect (read at each connect).
 * Drafts 18 and 20 are paired with every other draft the same way. */
#include "test_net.h"

static const char* addr;

static MoqClient* connect_draft(const char* scheme, const char* draft) {
    char url[256];
    snprintf(url, sizeof url, "%s://%s/", scheme, addr);
    setenv("MOQ_FFI_DRAFT", draft, 1);
    MoqClient* c = connect_client(url, NULL);
    unsetenv("MOQ_FFI_DRAFT");
    return c;
}

/* Publishes probes until every sink got one, then n numbered objects; every
 * subscriber must get them all, in order, once. */
static void check_roundtrip(MoqPublisher* p, sink** sinks, int nsinks, const char** names) {
    for (int i = 0; i < nsinks; i++) {
        CHECK_MSG(await_live(p, sinks[i], MOQ_DELIVERY_STREAM, T(15)), "subscriber %s never received a probe", names[i]);
    }
    enum { N = 50 };
    for (int k = 0; k < N; k++) {
        char msg[32];
        int len = snprintf(msg, sizeof msg, "object %d", k);
        CHECK_RESULT(moq_publish_data(p, (const uint8_t*)msg, (size_t)len, MOQ_DELIVERY_STREAM), MOQ_OK);
    }
    for (int i = 0; i < nsinks; i++) {
        sink* s = sinks[i];
        size_t first = 0;
        /* Probes may still arrive before the numbered objects. */
        for (;;) {
            waiter_wait(&s->w, (long)(skip_probes(s) + N), T(15));
            size_t f = skip_probes(s);
            if (f == first) break;
            first = f;
        }
        pthread_mutex_lock(&s->mu);
        size_t got = s->n - first;
        CHECK_MSG(got == N, "subscriber %s got %zu objects after the probes, want %d", names[i], got, N);
        for (int k = 0; k < N && first + (size_t)k < s->n; k++) {
            char want[32];
            int len = snprintf(want, sizeof want, "object %d", k);
            size_t at = first + (size_t)k;
            CHECK_MSG(s->len[at] == (size_t)len && memcmp(s->data[at], want, (size_t)len) == 0,
                      "subscriber %s: object %d out of order or wrong", names[i], k);
        }
        pthread_mutex_unlock(&s->mu);
    }
}

/* One publisher of draft pub_draft and one subscriber per draft in subs. */
static void pair_test(const char* scheme, const char* pub_draft, const char** sub_drafts, int nsubs) {
    char ns[96], track[32];
    unique("xdraft", ns, sizeof ns);
    snprintf(track, sizeof track, "t");
    MoqClient* pc = connect_draft(scheme, pub_draft);
    CHECK_MSG(pc != NULL, "%s publisher (draft %s) did not connect", scheme, pub_draft);
    if (!pc) return;
    MoqClient* scs[4] = {0};
    MoqSubscriber* subs[4] = {0};
    sink sinks[4];
    sink* sp[4];
    CHECK_RESULT(moq_announce_namespace(pc, ns), MOQ_OK);
    MoqPublisher* p = moq_create_publisher(pc, ns, track);
    CHECK(p != NULL);
    for (int i = 0; i < nsubs; i++) {
        sink_init(&sinks[i]);
        sp[i] = &sinks[i];
        scs[i] = connect_draft(scheme, sub_drafts[i]);
        CHECK_MSG(scs[i] != NULL, "%s subscriber (draft %s) did not connect", scheme, sub_drafts[i]);
        if (scs[i]) subs[i] = moq_subscribe(scs[i], ns, track, on_data, &sinks[i]);
        CHECK(subs[i] != NULL);
    }
    if (p && subs[0] && (nsubs < 2 || subs[1])) check_roundtrip(p, sp, nsubs, sub_drafts);
    for (int i = 0; i < nsubs; i++) {
        moq_subscriber_destroy(subs[i]);
        moq_client_destroy(scs[i]);
        sink_destroy(&sinks[i]);
    }
    moq_publisher_destroy(p);
    moq_client_destroy(pc);
}

TEST(draft16_publisher_to_14_and_07cf_https) {
    const char* subs[] = {"14", "07cf"};
    pair_test("https", "16", subs, 2);
}

TEST(draft16_publisher_to_14_and_07cf_moqt) {
    const char* subs[] = {"14", "07cf"};
    pair_test("moqt", "16", subs, 2);
}

TEST(draft14_and_07cf_publishers_to_16) {
    const char* subs[] = {"16"};
    pair_test("https", "14", subs, 1);
    pair_test("moqt", "07cf", subs, 1);
}

TEST(draft18_publisher_to_16_14_and_07cf) {
    const char* subs[] = {"16", "14", "07cf"};
    pair_test("https", "18", subs, 3);
    pair_test("moqt", "18", subs, 3);
}

TEST(draft16_14_and_07cf_publishers_to_18) {
    const char* subs[] = {"18"};
    pair_test("moqt", "16", subs, 1);
    pair_test("https", "14", subs, 1);
    pair_test("moqt", "07cf", subs, 1);
}

TEST(draft20_publisher_to_18_16_14_and_07cf) {
    const char* subs[] = {"18", "16", "14", "07cf"};
    pair_test("moqt", "20", subs, 4);
    pair_test("https", "20", subs, 4);
}

TEST(draft18_16_14_and_07cf_publishers_to_20) {
    const char* subs[] = {"20"};
    pair_test("https", "18", subs, 1);
    pair_test("moqt", "16", subs, 1);
    pair_test("moqt", "14", subs, 1);
    pair_test("https", "07cf", subs, 1);
}

int main(void) {
    addr = getenv("MOQ_TEST_ADDR");
    if (!addr) {
        fprintf(stderr, "test_crossdraft: MOQ_TEST_ADDR is not set\n");
        return 2;
    }
    RUN(draft16_publisher_to_14_and_07cf_https);
    RUN(draft16_publisher_to_14_and_07cf_moqt);
    RUN(draft14_and_07cf_publishers_to_16);
    RUN(draft18_publisher_to_16_14_and_07cf);
    RUN(draft16_14_and_07cf_publishers_to_18);
    RUN(draft20_publisher_to_18_16_14_and_07cf);
    RUN(draft18_16_14_and_07cf_publishers_to_20);
    return t_summary("test_crossdraft");
}
