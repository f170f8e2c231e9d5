/* The 0.3 additions: client configuration (drafts, certificate pinning),
 * explicit groups with metadata and timestamps, poll mode, fetch, statistics,
 * the log callback and catalog publishing. Run against a relay by
 * scripts/ctest.sh (MOQ_TEST_URL, MOQ_FFI_PIN_SHA256, MOQ_FFI_DRAFT). The
 * pin is taken from the environment once and then passed only through
 * MoqClientConfig. */
#include "test_net.h"

static char g_pin[128];
static char g_draft[16];

/* ---- log collection ---------------------------------------------------- */
typedef struct {
    pthread_mutex_t mu;
    long count;
    char last_connected[512];
} log_sink;
static log_sink g_log = {PTHREAD_MUTEX_INITIALIZER, 0, ""};

static void on_log(void* ud, MoqLogLevel level, const char* msg) {
    log_sink* l = (log_sink*)ud;
    (void)level;
    pthread_mutex_lock(&l->mu);
    l->count++;
    if (strstr(msg, "msg=connected")) snprintf(l->last_connected, sizeof l->last_connected, "%s", msg);
    pthread_mutex_unlock(&l->mu);
}

static long log_count(void) {
    pthread_mutex_lock(&g_log.mu);
    long n = g_log.count;
    pthread_mutex_unlock(&g_log.mu);
    return n;
}

/* ---- helpers ----------------------------------------------------------- */
static MoqDraft env_draft(void) {
    if (strcmp(g_draft, "20") == 0) return MOQ_DRAFT_20;
    if (strcmp(g_draft, "18") == 0) return MOQ_DRAFT_18;
    if (strcmp(g_draft, "16") == 0) return MOQ_DRAFT_16;
    if (strcmp(g_draft, "14") == 0) return MOQ_DRAFT_14;
    if (strcmp(g_draft, "07") == 0) return MOQ_DRAFT_07;
    if (strcmp(g_draft, "07cf") == 0) return MOQ_DRAFT_07_CLOUDFLARE;
    return MOQ_DRAFT_AUTO;
}

/* A client configured with the pin and the run's draft, connected. */
static MoqClient* cfg_client(MoqDraft draft, const char* pin) {
    MoqClient* c = moq_client_create();
    MoqClientConfig cfg;
    moq_client_config_init(&cfg);
    cfg.draft = draft;
    cfg.pin_sha256 = pin;
    MoqResult r = moq_client_configure(c, &cfg);
    if (r.code != MOQ_OK) {
        fprintf(stderr, "configure: %s\n", r.message);
        moq_free_str(r.message);
        moq_client_destroy(c);
        return NULL;
    }
    r = moq_connect(c, relay_url(), NULL, NULL);
    if (r.code != MOQ_OK) {
        fprintf(stderr, "connect: %d %s\n", (int)r.code, r.message);
        moq_free_str(r.message);
        moq_client_destroy(c);
        return NULL;
    }
    return c;
}

/* Received objects with metadata (copies). */
typedef struct {
    uint64_t group, object;
    uint8_t priority;
    unsigned char data[256];
    size_t len;
    unsigned char ext[64];
    size_t ext_len;
    int has_ext;
} rec_obj;

typedef struct {
    waiter w;
    pthread_mutex_t mu;
    rec_obj objs[256];
    int n;
    int done_calls;
    int done_code;
    char done_msg[256];
} obj_sink;

static void obj_sink_init(obj_sink* s) {
    memset(s, 0, sizeof *s);
    waiter_init(&s->w);
    pthread_mutex_init(&s->mu, NULL);
}

static void obj_sink_destroy(obj_sink* s) {
    waiter_destroy(&s->w);
    pthread_mutex_destroy(&s->mu);
}

static void on_object(void* ud, const MoqObject* o) {
    obj_sink* s = (obj_sink*)ud;
    CHECK(o != NULL && o->payload != NULL);
    pthread_mutex_lock(&s->mu);
    if (s->n < 256) {
        rec_obj* r = &s->objs[s->n++];
        r->group = o->group_id;
        r->object = o->object_id;
        r->priority = o->priority;
        r->len = o->payload_len < sizeof r->data ? o->payload_len : sizeof r->data;
        memcpy(r->data, o->payload, r->len);
        r->has_ext = o->extensions != NULL;
        r->ext_len = o->extensions_len < sizeof r->ext ? o->extensions_len : sizeof r->ext;
        if (o->extensions) memcpy(r->ext, o->extensions, r->ext_len);
    }
    pthread_mutex_unlock(&s->mu);
    waiter_add(&s->w, 1);
}

static void on_done(void* ud, MoqResultCode code, const char* msg) {
    obj_sink* s = (obj_sink*)ud;
    CHECK(msg != NULL);
    pthread_mutex_lock(&s->mu);
    s->done_calls++;
    s->done_code = (int)code;
    snprintf(s->done_msg, sizeof s->done_msg, "%s", msg ? msg : "");
    pthread_mutex_unlock(&s->mu);
    waiter_add(&s->w, 1000);
}

/* Index of the first object of group g, or -1. */
static int find_group(obj_sink* s, uint64_t g) {
    pthread_mutex_lock(&s->mu);
    int idx = -1;
    for (int i = 0; i < s->n; i++) {
        if (s->objs[i].group == g) {
            idx = i;
            break;
        }
    }
    pthread_mutex_unlock(&s->mu);
    return idx;
}

/* Publishes one-object probe groups until the sink receives something. */
static int await_live_obj(MoqPublisher* p, obj_sink* s) {
    double end = t_now() + T(10);
    while (t_now() < end) {
        MoqResult r = moq_publish_data(p, (const uint8_t*)"probe", 5, MOQ_DELIVERY_STREAM);
        moq_free_str(r.message);
        if (r.code != MOQ_OK) return 0;
        if (waiter_wait(&s->w, 1, 0.05) >= 1) return 1;
    }
    return 0;
}

/* ---- tests ------------------------------------------------------------- */
TEST(config_validation) {
    MoqClientConfig cfg;
    memset(&cfg, 0xAB, sizeof cfg);
    moq_client_config_init(&cfg);
    CHECK(cfg.struct_size == sizeof cfg);
    CHECK(cfg.draft == MOQ_DRAFT_AUTO && cfg.ca_file == NULL && cfg.pin_sha256 == NULL && !cfg.insecure);
    CHECK(cfg.connect_timeout_ms == 0 && !cfg.reconnect);

    MoqClient* c = moq_client_create();
    CHECK_RESULT(moq_client_configure(NULL, &cfg), MOQ_ERROR_INVALID_ARGUMENT);
    CHECK_RESULT(moq_client_configure(c, NULL), MOQ_ERROR_INVALID_ARGUMENT);
    CHECK_RESULT(moq_client_configure(c, &cfg), MOQ_OK);

    MoqClientConfig bad = cfg;
    bad.struct_size = 8;
    CHECK_RESULT(moq_client_configure(c, &bad), MOQ_ERROR_INVALID_ARGUMENT);
    bad = cfg;
    bad.draft = (MoqDraft)99;
    CHECK_RESULT(moq_client_configure(c, &bad), MOQ_ERROR_INVALID_ARGUMENT);
    CHECK(moq_last_error() && strstr(moq_last_error(), "draft"));
    bad = cfg;
    bad.pin_sha256 = "not-a-fingerprint";
    CHECK_RESULT(moq_client_configure(c, &bad), MOQ_ERROR_INVALID_ARGUMENT);
    bad = cfg;
    bad.ca_file = "/nonexistent/ca.pem";
    CHECK_RESULT(moq_client_configure(c, &bad), MOQ_ERROR_INVALID_ARGUMENT);
    bad = cfg;
    bad.reconnect_min_ms = 5000;
    bad.reconnect_max_ms = 100;
    CHECK_RESULT(moq_client_configure(c, &bad), MOQ_ERROR_INVALID_ARGUMENT);
    bad = cfg;
    bad.reconnect = true;
    CHECK_RESULT(moq_client_configure(c, &bad), MOQ_OK);

    /* A connected client cannot be reconfigured. */
    cfg.pin_sha256 = g_pin;
    CHECK_RESULT(moq_client_configure(c, &cfg), MOQ_OK);
    CHECK_RESULT(moq_connect(c, relay_url(), NULL, NULL), MOQ_OK);
    CHECK_RESULT(moq_client_configure(c, &cfg), MOQ_ERROR_INVALID_ARGUMENT);
    CHECK_RESULT(moq_disconnect(c), MOQ_OK);
    CHECK_RESULT(moq_client_configure(c, &cfg), MOQ_OK);
    moq_client_destroy(c);
    CHECK_RESULT(moq_client_configure(c, &cfg), MOQ_ERROR_INVALID_ARGUMENT);

    MoqSubscribeOptions so;
    moq_subscribe_options_init(&so);
    CHECK(so.struct_size == sizeof so && so.filter == MOQ_FILTER_LATEST_GROUP && so.priority == 128);
    CHECK(so.queue_objects == 1024 && !so.persistent);
}

/* The draft a connected session uses, from the "connected" log line. */
static int connected_with(MoqDraft d, const char* want) {
    pthread_mutex_lock(&g_log.mu);
    g_log.last_connected[0] = 0;
    pthread_mutex_unlock(&g_log.mu);
    MoqClient* c = cfg_client(d, g_pin);
    if (!c) return 0;
    pthread_mutex_lock(&g_log.mu);
    char needle[32];
    snprintf(needle, sizeof needle, "draft=%s ", want);
    int ok = strstr(g_log.last_connected, needle) != NULL;
    if (!ok) fprintf(stderr, "connected line: %s\n", g_log.last_connected);
    pthread_mutex_unlock(&g_log.mu);
    moq_client_destroy(c);
    return ok;
}

TEST(draft_selection) {
    char saved[64] = "";
    const char* e = getenv("MOQ_FFI_DRAFT");
    if (e) snprintf(saved, sizeof saved, "%s", e);
    unsetenv("MOQ_FFI_DRAFT");
    moq_set_log_callback(on_log, MOQ_LOG_INFO, &g_log);
    CHECK(connected_with(MOQ_DRAFT_20, "20"));
    CHECK(connected_with(MOQ_DRAFT_18, "18"));
    CHECK(connected_with(MOQ_DRAFT_16, "16"));
    CHECK(connected_with(MOQ_DRAFT_14, "14"));
    CHECK(connected_with(MOQ_DRAFT_07_CLOUDFLARE, "07cf"));
    /* The default offers 20, 18, 16 and 14 in one handshake; our relay picks 20. */
    CHECK(connected_with(MOQ_DRAFT_AUTO, "20"));
    /* The configuration beats the environment. */
    setenv("MOQ_FFI_DRAFT", "14", 1);
    CHECK(connected_with(MOQ_DRAFT_07_CLOUDFLARE, "07cf"));
    moq_set_log_callback(NULL, MOQ_LOG_ERROR, NULL);
    if (saved[0]) {
        setenv("MOQ_FFI_DRAFT", saved, 1);
    } else {
        unsetenv("MOQ_FFI_DRAFT");
    }
}

TEST(pinning) {
    MoqClient* c = cfg_client(env_draft(), g_pin);
    CHECK(c != NULL && moq_is_connected(c));
    moq_client_destroy(c);

    /* Colon-separated upper-case form of the right pin works too. */
    char colon[200] = "";
    for (size_t i = 0; i + 1 < strlen(g_pin) && i < 64; i += 2) {
        char pair[4] = {(char)(g_pin[i] >= 'a' ? g_pin[i] - 32 : g_pin[i]),
                        (char)(g_pin[i + 1] >= 'a' ? g_pin[i + 1] - 32 : g_pin[i + 1]), 0, 0};
        if (i) strcat(colon, ":");
        strcat(colon, pair);
    }
    c = cfg_client(env_draft(), colon);
    CHECK(c != NULL);
    moq_client_destroy(c);

    const char* wrong = "0000000000000000000000000000000000000000000000000000000000000000";
    MoqClient* w = moq_client_create();
    MoqClientConfig cfg;
    moq_client_config_init(&cfg);
    cfg.pin_sha256 = wrong;
    cfg.connect_timeout_ms = (uint32_t)T(5000);
    CHECK_RESULT(moq_client_configure(w, &cfg), MOQ_OK);
    CHECK_RESULT(moq_connect(w, relay_url(), NULL, NULL), MOQ_ERROR_CONNECTION_FAILED);
    CHECK(!moq_is_connected(w));
    /* No pin and no CA: the self-signed certificate is refused. */
    cfg.pin_sha256 = NULL;
    CHECK_RESULT(moq_client_configure(w, &cfg), MOQ_OK);
    CHECK_RESULT(moq_connect(w, relay_url(), NULL, NULL), MOQ_ERROR_CONNECTION_FAILED);
    /* insecure skips verification. */
    cfg.insecure = true;
    CHECK_RESULT(moq_client_configure(w, &cfg), MOQ_OK);
    CHECK_RESULT(moq_connect(w, relay_url(), NULL, NULL), MOQ_OK);
    moq_client_destroy(w);
}

TEST(explicit_groups_and_timestamps) {
    char ns[64];
    unique("v03-groups", ns, sizeof ns);
    MoqClient* pc = cfg_client(env_draft(), g_pin);
    MoqClient* sc = cfg_client(env_draft(), g_pin);
    CHECK(pc && sc);
    if (!pc || !sc) goto out_clients;
    CHECK_RESULT(moq_announce_namespace(pc, ns), MOQ_OK);
    MoqPublisher* p = moq_create_publisher(pc, ns, "video");
    CHECK(p != NULL);
    obj_sink s;
    obj_sink_init(&s);
    MoqSubscribeOptions so;
    moq_subscribe_options_init(&so);
    MoqSubscriber* sub = moq_subscribe_ex(sc, ns, "video", &so, on_object, &s);
    CHECK(sub != NULL);
    CHECK(await_live_obj(p, &s));

    /* No group in progress. */
    CHECK_RESULT(moq_group_write(p, (const uint8_t*)"x", 1, NULL, 0, NULL), MOQ_ERROR_INVALID_ARGUMENT);
    CHECK_RESULT(moq_group_end(p), MOQ_ERROR_INVALID_ARGUMENT);
    CHECK_RESULT(moq_publisher_set_priority(p, 7), MOQ_OK);

    uint64_t gid = 1000, got = 0, oid = 99;
    CHECK_RESULT(moq_group_begin(p, &gid, &got), MOQ_OK);
    CHECK(got == 1000);
    /* Malformed extensions are refused (odd key announcing 5 bytes, none follow). */
    const uint8_t badext[] = {0x01, 0x05};
    CHECK_RESULT(moq_group_write(p, (const uint8_t*)"x", 1, badext, sizeof badext, NULL), MOQ_ERROR_INVALID_ARGUMENT);
    const uint64_t ts = 1700000000123456ull;
    CHECK_RESULT(moq_group_write_timestamped(p, (const uint8_t*)"obj0", 4, ts, &oid), MOQ_OK);
    CHECK(oid == 0);
    CHECK_RESULT(moq_group_write(p, (const uint8_t*)"obj1", 4, NULL, 0, &oid), MOQ_OK);
    CHECK(oid == 1);
    CHECK_RESULT(moq_group_write_timestamped(p, (const uint8_t*)"obj2", 4, 0, &oid), MOQ_OK);
    CHECK(oid == 2);
    CHECK_RESULT(moq_group_end(p), MOQ_OK);
    /* A group below the largest is refused; the next one is 1001. */
    uint64_t low = 5;
    CHECK_RESULT(moq_group_begin(p, &low, NULL), MOQ_ERROR_INVALID_ARGUMENT);
    CHECK_RESULT(moq_group_begin(p, NULL, &got), MOQ_OK);
    CHECK(got == 1001);
    CHECK_RESULT(moq_group_write(p, (const uint8_t*)"next", 4, NULL, 0, NULL), MOQ_OK);
    CHECK_RESULT(moq_group_end(p), MOQ_OK);

    double end = t_now() + T(10);
    while (find_group(&s, 1001) < 0 && t_now() < end) waiter_wait(&s.w, waiter_get(&s.w) + 1, 0.1);
    int i = find_group(&s, 1000);
    CHECK(i >= 0 && find_group(&s, 1001) >= 0);
    if (i >= 0) {
        pthread_mutex_lock(&s.mu);
        CHECK(i + 3 < s.n);
        for (int k = 0; k < 3 && i + k < s.n; k++) {
            rec_obj* r = &s.objs[i + k];
            char want[8];
            snprintf(want, sizeof want, "obj%d", k);
            CHECK(r->group == 1000 && r->object == (uint64_t)k);
            CHECK(r->len == 4 && memcmp(r->data, want, 4) == 0);
            CHECK_MSG(r->priority == 7, "priority %d", r->priority);
        }
        if (env_draft() == MOQ_DRAFT_14) {
            uint64_t v = 0;
            CHECK(s.objs[i].has_ext && moq_object_timestamp(s.objs[i].ext, s.objs[i].ext_len, &v));
            CHECK(v == ts);
            CHECK(!s.objs[i + 1].has_ext);
            CHECK(s.objs[i + 2].has_ext && moq_object_timestamp(s.objs[i + 2].ext, s.objs[i + 2].ext_len, &v));
            CHECK(v > ts);
        }
        pthread_mutex_unlock(&s.mu);
    }
    uint64_t v;
    CHECK(!moq_object_timestamp(NULL, 0, &v));
    CHECK(!moq_object_timestamp(badext, sizeof badext, &v));

    MoqSubscriberStats st;
    memset(&st, 0, sizeof st);
    CHECK_RESULT(moq_subscriber_stats(sub, &st), MOQ_OK);
    CHECK(st.objects >= 5 && st.bytes >= 16 && st.has_latest && st.latest_group == 1001);

    /* Ending the track ends the subscription; later writes fail. */
    CHECK_RESULT(moq_publisher_end_track(p), MOQ_OK);
    CHECK_RESULT(moq_publish_data(p, (const uint8_t*)"late", 4, MOQ_DELIVERY_STREAM), MOQ_ERROR_INVALID_ARGUMENT);
    CHECK_RESULT(moq_group_begin(p, NULL, NULL), MOQ_ERROR_INVALID_ARGUMENT);
    end = t_now() + T(10);
    while (moq_is_subscribed(sub) && t_now() < end) waiter_wait(&s.w, 1 << 30, 0.02);
    CHECK(!moq_is_subscribed(sub));

    moq_subscriber_destroy(sub);
    moq_publisher_destroy(p);
    obj_sink_destroy(&s);
    CHECK_RESULT(moq_publisher_set_priority(p, 1), MOQ_ERROR_INVALID_ARGUMENT);
out_clients:
    moq_client_destroy(pc);
    moq_client_destroy(sc);
}

TEST(poll_mode_and_stats) {
    char ns[64];
    unique("v03-poll", ns, sizeof ns);
    MoqClient* pc = cfg_client(env_draft(), g_pin);
    MoqClient* sc = cfg_client(env_draft(), g_pin);
    CHECK(pc && sc);
    if (!pc || !sc) goto out;
    CHECK_RESULT(moq_announce_namespace(pc, ns), MOQ_OK);
    MoqPublisher* p = moq_create_publisher(pc, ns, "t");
    MoqSubscriber* sub = moq_subscribe_ex(sc, ns, "t", NULL, NULL, NULL);
    CHECK(p && sub);
    MoqObject o;
    uint8_t buf[256];
    size_t needed = 0;
    CHECK_RESULT(moq_subscriber_poll(sub, &o, buf, sizeof buf, &needed, 0), MOQ_ERROR_TIMEOUT);
    CHECK_RESULT(moq_subscriber_poll(sub, NULL, buf, sizeof buf, &needed, 0), MOQ_ERROR_INVALID_ARGUMENT);

    /* Probe until the subscription is live. */
    int live = 0;
    double end = t_now() + T(10);
    while (!live && t_now() < end) {
        CHECK_RESULT(moq_publish_data(p, (const uint8_t*)"probe", 5, MOQ_DELIVERY_STREAM), MOQ_OK);
        MoqResult r = moq_subscriber_poll(sub, &o, buf, sizeof buf, &needed, 50);
        live = r.code == MOQ_OK;
        moq_free_str(r.message);
    }
    CHECK(live);
    /* Drain remaining probes. */
    for (;;) {
        MoqResult r = moq_subscriber_poll(sub, &o, buf, sizeof buf, &needed, (uint32_t)T(200));
        moq_free_str(r.message);
        if (r.code != MOQ_OK) break;
    }

    uint8_t big[100];
    for (int i = 0; i < 100; i++) big[i] = (uint8_t)i;
    CHECK_RESULT(moq_publish_data(p, big, sizeof big, MOQ_DELIVERY_STREAM), MOQ_OK);
    uint8_t small[10];
    MoqResult r;
    for (;;) { /* a late probe (5 bytes) fits; the 100-byte object does not */
        r = moq_subscriber_poll(sub, &o, small, sizeof small, &needed, (uint32_t)T(10000));
        moq_free_str(r.message);
        if (r.code != MOQ_OK || o.payload_len != 5) break;
    }
    CHECK(r.code == MOQ_ERROR_BUFFER_TOO_SMALL);
    CHECK(needed == 100);
    CHECK_RESULT(moq_subscriber_poll(sub, &o, NULL, 0, &needed, 0), MOQ_ERROR_BUFFER_TOO_SMALL);
    CHECK_RESULT(moq_subscriber_poll(sub, &o, buf, sizeof buf, &needed, 0), MOQ_OK);
    CHECK(o.payload == buf && o.payload_len == 100 && memcmp(o.payload, big, 100) == 0);
    CHECK(o.received_us > 0);
    CHECK_RESULT(moq_subscriber_poll(sub, &o, buf, sizeof buf, NULL, 0), MOQ_ERROR_TIMEOUT);

    /* Zeroed: the 0.3 layout, filled up to latest_object only. */
    MoqSubscriberStats st;
    memset(&st, 0xAB, sizeof st);
    st.struct_size = 0;
    CHECK_RESULT(moq_subscriber_stats(sub, &st), MOQ_OK);
    CHECK(st.struct_size == offsetof(MoqSubscriberStats, active));
    CHECK(st.objects >= 2 && st.bytes >= 105);
    const unsigned char* tail = (const unsigned char*)&st + offsetof(MoqSubscriberStats, active);
    int untouched = 1;
    for (size_t i = 0; i < sizeof st - offsetof(MoqSubscriberStats, active); i++) untouched &= tail[i] == 0xAB;
    CHECK_MSG(untouched, "a 0.3-sized stats struct was written past its end");
    /* The 0.4 layout: active and resubscribes too. */
    memset(&st, 0, sizeof st);
    st.struct_size = sizeof st;
    CHECK_RESULT(moq_subscriber_stats(sub, &st), MOQ_OK);
    CHECK(st.struct_size == sizeof st && st.active && st.resubscribes == 0);
    st.struct_size = offsetof(MoqSubscriberStats, active) - 1;
    CHECK_RESULT(moq_subscriber_stats(sub, &st), MOQ_ERROR_INVALID_ARGUMENT);
    MoqClientStats cs;
    memset(&cs, 0, sizeof cs);
    CHECK_RESULT(moq_client_stats(sc, &cs), MOQ_OK);
    CHECK(cs.bytes_received > 100 && cs.bytes_sent > 0 && cs.packets_received > 0 && cs.reconnects == 0);
    CHECK_RESULT(moq_client_stats(pc, &cs), MOQ_OK);
    CHECK(cs.bytes_sent > 100);
    CHECK_RESULT(moq_client_stats(pc, NULL), MOQ_ERROR_INVALID_ARGUMENT);
    CHECK_RESULT(moq_subscriber_stats(NULL, &st), MOQ_ERROR_INVALID_ARGUMENT);

    /* A callback-mode subscriber cannot be polled. */
    obj_sink s;
    obj_sink_init(&s);
    MoqSubscriber* cbsub = moq_subscribe_ex(sc, ns, "t", NULL, on_object, &s);
    CHECK_RESULT(moq_subscriber_poll(cbsub, &o, buf, sizeof buf, NULL, 0), MOQ_ERROR_INVALID_ARGUMENT);
    moq_subscriber_destroy(cbsub);
    obj_sink_destroy(&s);

    /* The end of the track: NOT_CONNECTED once drained. */
    moq_publisher_destroy(p);
    end = t_now() + T(10);
    for (;;) {
        r = moq_subscriber_poll(sub, &o, buf, sizeof buf, NULL, 100);
        moq_free_str(r.message);
        if (r.code == MOQ_ERROR_NOT_CONNECTED || t_now() > end) break;
    }
    CHECK(r.code == MOQ_ERROR_NOT_CONNECTED);
    moq_subscriber_destroy(sub);
    CHECK_RESULT(moq_subscriber_poll(sub, &o, buf, sizeof buf, NULL, 0), MOQ_ERROR_INVALID_ARGUMENT);
out:
    moq_client_destroy(pc);
    moq_client_destroy(sc);
}

TEST(fetch_retained_groups) {
    char ns[64];
    unique("v03-fetch", ns, sizeof ns);
    MoqClient* pc = cfg_client(env_draft(), g_pin);
    MoqClient* sc = cfg_client(env_draft(), g_pin);
    CHECK(pc && sc);
    if (!pc || !sc) goto out;
    CHECK_RESULT(moq_announce_namespace(pc, ns), MOQ_OK);
    MoqPublisher* p = moq_create_publisher(pc, ns, "t");
    obj_sink live;
    obj_sink_init(&live);
    MoqSubscriber* sub = moq_subscribe_ex(sc, ns, "t", NULL, on_object, &live);
    CHECK(p && sub);
    CHECK(await_live_obj(p, &live));
    for (uint64_t g = 50; g <= 52; g++) {
        CHECK_RESULT(moq_group_begin(p, &g, NULL), MOQ_OK);
        CHECK_RESULT(moq_group_write(p, (const uint8_t*)"a", 1, NULL, 0, NULL), MOQ_OK);
        CHECK_RESULT(moq_group_write(p, (const uint8_t*)"b", 1, NULL, 0, NULL), MOQ_OK);
        CHECK_RESULT(moq_group_end(p), MOQ_OK);
    }
    double end = t_now() + T(10);
    while (find_group(&live, 52) < 0 && t_now() < end) waiter_wait(&live.w, waiter_get(&live.w) + 1, 0.1);
    CHECK(find_group(&live, 52) >= 0);

    /* Callback mode: groups 51..52, both objects each. */
    obj_sink f;
    obj_sink_init(&f);
    MoqSubscriber* fh = moq_fetch(sc, ns, "t", 51, 0, 52, UINT64_MAX, on_object, on_done, &f);
    CHECK(fh != NULL);
    CHECK(waiter_wait(&f.w, 1000, T(10)) >= 1000);
    pthread_mutex_lock(&f.mu);
    CHECK_MSG(f.done_calls == 1 && f.done_code == MOQ_OK, "done %d code %d", f.done_calls, f.done_code);
    CHECK_MSG(f.n == 4, "fetched %d objects", f.n);
    CHECK_MSG(strncmp(f.done_msg, "complete:", 9) == 0, "done message \"%s\"", f.done_msg);
    for (int i = 0; i < f.n && i < 4; i++) {
        CHECK(f.objs[i].group == (uint64_t)(51 + i / 2) && f.objs[i].object == (uint64_t)(i % 2));
        CHECK(f.objs[i].len == 1 && f.objs[i].data[0] == (i % 2 ? 'b' : 'a'));
    }
    pthread_mutex_unlock(&f.mu);
    moq_subscriber_destroy(fh);
    pthread_mutex_lock(&f.mu);
    CHECK(f.done_calls == 1);
    pthread_mutex_unlock(&f.mu);
    obj_sink_destroy(&f);

    /* Poll mode: one object, then the end. */
    obj_sink d;
    obj_sink_init(&d);
    fh = moq_fetch(sc, ns, "t", 52, 1, 52, 1, NULL, on_done, &d);
    CHECK(fh != NULL);
    MoqObject o;
    uint8_t buf[16];
    CHECK_RESULT(moq_subscriber_poll(fh, &o, buf, sizeof buf, NULL, (uint32_t)T(10000)), MOQ_OK);
    CHECK(o.group_id == 52 && o.object_id == 1 && o.payload_len == 1 && buf[0] == 'b');
    CHECK_RESULT(moq_subscriber_poll(fh, &o, buf, sizeof buf, NULL, (uint32_t)T(10000)), MOQ_ERROR_NOT_CONNECTED);
    CHECK(waiter_wait(&d.w, 1000, T(10)) >= 1000);
    moq_subscriber_destroy(fh);
    obj_sink_destroy(&d);

    /* A range reaching past what exists: MOQ_OK, and the message says it
     * was partial. */
    obj_sink part;
    obj_sink_init(&part);
    fh = moq_fetch(sc, ns, "t", 51, 0, 60, UINT64_MAX, on_object, on_done, &part);
    CHECK(fh != NULL);
    CHECK(waiter_wait(&part.w, 1000, T(10)) >= 1000);
    pthread_mutex_lock(&part.mu);
    CHECK_MSG(part.done_code == MOQ_OK && strncmp(part.done_msg, "partial:", 8) == 0, "code %d message \"%s\"",
              part.done_code, part.done_msg);
    CHECK(part.n == 4 && part.objs[3].group == 52);
    pthread_mutex_unlock(&part.mu);
    moq_subscriber_destroy(fh);
    obj_sink_destroy(&part);

    /* Bad range. */
    CHECK(moq_fetch(sc, ns, "t", 5, 0, 4, 0, NULL, NULL, NULL) == NULL);
    moq_subscriber_destroy(sub);
    moq_publisher_destroy(p);
    obj_sink_destroy(&live);
out:
    moq_client_destroy(pc);
    moq_client_destroy(sc);
}

static void on_log_replacing(void* ud, MoqLogLevel level, const char* msg) {
    (void)level;
    (void)msg;
    /* Replacing the callback from inside it must not deadlock. */
    moq_set_log_callback(on_log, MOQ_LOG_DEBUG, ud);
}

/* A log callback that calls back into the library: it must never be called
 * with a library lock held. Handles may be stale by the time it runs. */
static MoqClient* _Atomic g_reenter_client;
static MoqSubscriber* _Atomic g_reenter_sub;
static void on_log_reentrant(void* ud, MoqLogLevel level, const char* msg) {
    on_log(ud, level, msg);
    MoqClient* c = g_reenter_client;
    MoqSubscriber* s = g_reenter_sub;
    MoqClientStats cs;
    MoqSubscriberStats ss;
    memset(&cs, 0, sizeof cs);
    memset(&ss, 0, sizeof ss);
    (void)moq_is_connected(c);
    MoqResult r = moq_client_stats(c, &cs);
    moq_free_str(r.message);
    (void)moq_is_subscribed(s);
    r = moq_subscriber_stats(s, &ss);
    moq_free_str(r.message);
}

TEST(log_callback_reenters) {
    char ns[64];
    unique("v03-logre", ns, sizeof ns);
    long before = log_count();
    moq_set_log_callback(on_log_reentrant, MOQ_LOG_DEBUG, &g_log);
    MoqClient* pc = cfg_client(env_draft(), g_pin);
    MoqClient* sc = cfg_client(env_draft(), g_pin);
    CHECK(pc && sc);
    if (!pc || !sc) goto out;
    g_reenter_client = sc;
    CHECK_RESULT(moq_announce_namespace(pc, ns), MOQ_OK);
    MoqPublisher* p = moq_create_publisher(pc, ns, "t");
    obj_sink s;
    obj_sink_init(&s);
    MoqSubscriber* sub = moq_subscribe_ex(sc, ns, "t", NULL, on_object, &s);
    CHECK(p && sub);
    g_reenter_sub = sub;
    CHECK(await_live_obj(p, &s));
    moq_publisher_destroy(p); /* the subscription ends: logged */
    moq_subscriber_destroy(sub);
    CHECK_RESULT(moq_disconnect(sc), MOQ_OK);
    obj_sink_destroy(&s);
out:
    moq_client_destroy(pc);
    moq_client_destroy(sc);
    moq_set_log_callback(NULL, MOQ_LOG_ERROR, NULL);
    g_reenter_client = NULL;
    g_reenter_sub = NULL;
    CHECK_MSG(log_count() > before, "no log lines at DEBUG");
}

TEST(log_callback) {
    long before = log_count();
    moq_set_log_callback(on_log, MOQ_LOG_DEBUG, &g_log);
    MoqClient* c = cfg_client(env_draft(), g_pin);
    CHECK(c != NULL);
    moq_client_destroy(c);
    long during = log_count();
    CHECK_MSG(during > before, "no log lines at DEBUG (%ld)", during);

    moq_set_log_callback(on_log_replacing, MOQ_LOG_DEBUG, &g_log);
    c = cfg_client(env_draft(), g_pin);
    CHECK(c != NULL);
    moq_client_destroy(c);

    /* Removed: no more calls. */
    moq_set_log_callback(NULL, MOQ_LOG_ERROR, NULL);
    long after = log_count();
    c = cfg_client(env_draft(), g_pin);
    CHECK(c != NULL);
    moq_client_destroy(c);
    CHECK(log_count() == after);
}

typedef struct {
    waiter w;
    pthread_mutex_t mu;
    int ok;
} cat_sink;

static void on_catalog(void* ud, const MoqTrackInfo* t, size_t n) {
    cat_sink* s = (cat_sink*)ud;
    int ok = n == 2 && strcmp(t[0].name, "video") == 0 && t[0].codec && strcmp(t[0].codec, "avc1.64001f") == 0 &&
             t[0].width == 1280 && t[0].height == 720 && t[0].bitrate == 2000000 && t[0].mime_type &&
             strcmp(t[0].mime_type, "video/mp4") == 0 && t[0].language == NULL && strcmp(t[1].name, "audio") == 0 &&
             t[1].sample_rate == 48000 && t[1].language && strcmp(t[1].language, "en") == 0 && t[1].width == 0;
    pthread_mutex_lock(&s->mu);
    if (ok) s->ok++;
    pthread_mutex_unlock(&s->mu);
    waiter_add(&s->w, 1);
}

TEST(publish_catalog) {
    char ns[64];
    unique("v03-cat", ns, sizeof ns);
    MoqClient* pc = cfg_client(env_draft(), g_pin);
    MoqClient* sc = cfg_client(env_draft(), g_pin);
    CHECK(pc && sc);
    if (!pc || !sc) goto out;
    MoqTrackInfo tr[2];
    memset(tr, 0, sizeof tr);
    tr[0].name = "video";
    tr[0].codec = "avc1.64001f";
    tr[0].mime_type = "video/mp4";
    tr[0].width = 1280;
    tr[0].height = 720;
    tr[0].bitrate = 2000000;
    tr[1].name = "audio";
    tr[1].codec = "opus";
    tr[1].sample_rate = 48000;
    tr[1].language = "en";
    CHECK_RESULT(moq_publish_catalog(pc, ns, NULL, tr, 2), MOQ_ERROR_INVALID_ARGUMENT); /* not announced */
    CHECK_RESULT(moq_announce_namespace(pc, ns), MOQ_OK);
    /* The first call creates the catalog track, so the SUBSCRIBE finds it. */
    CHECK_RESULT(moq_publish_catalog(pc, ns, NULL, tr, 2), MOQ_OK);
    cat_sink s;
    memset(&s, 0, sizeof s);
    waiter_init(&s.w);
    pthread_mutex_init(&s.mu, NULL);
    MoqSubscriber* sub = moq_subscribe_catalog(sc, ns, ".catalog", on_catalog, &s);
    CHECK(sub != NULL);
    double end = t_now() + T(10);
    while (waiter_get(&s.w) == 0 && t_now() < end) {
        CHECK_RESULT(moq_publish_catalog(pc, ns, NULL, tr, 2), MOQ_OK);
        waiter_wait(&s.w, 1, 0.05);
    }
    CHECK(waiter_get(&s.w) > 0);
    pthread_mutex_lock(&s.mu);
    CHECK(s.ok > 0 && s.ok == (int)waiter_get(&s.w));
    pthread_mutex_unlock(&s.mu);
    tr[0].name = NULL;
    CHECK_RESULT(moq_publish_catalog(pc, ns, NULL, tr, 2), MOQ_ERROR_INVALID_ARGUMENT);
    CHECK_RESULT(moq_publish_catalog(pc, ns, NULL, NULL, 1), MOQ_ERROR_INVALID_ARGUMENT);
    moq_subscriber_destroy(sub);
    waiter_destroy(&s.w);
    pthread_mutex_destroy(&s.mu);
out:
    moq_client_destroy(pc);
    moq_client_destroy(sc);
}

int main(void) {
    const char* pin = getenv("MOQ_FFI_PIN_SHA256");
    if (!pin || !*pin) {
        fprintf(stderr, "MOQ_FFI_PIN_SHA256 is not set (run through scripts/ctest.sh)\n");
        return 2;
    }
    snprintf(g_pin, sizeof g_pin, "%s", pin);
    unsetenv("MOQ_FFI_PIN_SHA256"); /* from here on, only MoqClientConfig pins */
    snprintf(g_draft, sizeof g_draft, "%s", env_or("MOQ_FFI_DRAFT", ""));
    RUN(config_validation);
    RUN(draft_selection);
    RUN(pinning);
    RUN(explicit_groups_and_timestamps);
    RUN(poll_mode_and_stats);
    RUN(fetch_retained_groups);
    RUN(log_callback_reenters);
    RUN(log_callback);
    RUN(publish_catalog);
    return t_summary("test_v03");
}
