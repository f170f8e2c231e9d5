/* Automatic reconnection (MoqClientConfig.reconnect) and persistent
 * subscriptions (MoqSubscribeOptions.persistent). The test runs its own
 * relay from MOQ_TEST_RELAY_BIN, kills it, and starts a new one on the same
 * port (with a new self-signed certificate, so the clients skip
 * verification). */
#include "test_net.h"
#include "test_relay.h"

static int count_state(state_log* log, int want) {
    pthread_mutex_lock(&log->mu);
    int n = 0;
    for (int i = 0; i < log->n; i++) n += log->states[i] == want;
    pthread_mutex_unlock(&log->mu);
    return n;
}

/* A client configured to reconnect quickly, connected to url; *out is set
 * before moq_connect, so that the callback can use the handle. */
static MoqClient* reconnecting_client_cb(const char* url, MoqConnectionCallback cb, void* ud, MoqClient* _Atomic* out) {
    MoqClient* c = moq_client_create();
    if (out) *out = c;
    MoqClientConfig cfg;
    moq_client_config_init(&cfg);
    cfg.insecure = true;
    cfg.idle_timeout_ms = 1500;
    cfg.reconnect = true;
    cfg.reconnect_min_ms = 50;
    cfg.reconnect_max_ms = 400;
    cfg.connect_timeout_ms = (uint32_t)T(1000); /* attempts against a dead relay fail quickly */
    CHECK_RESULT(moq_client_configure(c, &cfg), MOQ_OK);
    MoqResult r = moq_connect(c, url, cb, ud);
    CHECK(r.code == MOQ_OK);
    moq_free_str(r.message);
    return c;
}

static MoqClient* reconnecting_client(const char* url, state_log* log) {
    return reconnecting_client_cb(url, log ? on_state : NULL, log, NULL);
}

typedef struct {
    state_log* log;
    int want;
} state_wait;

static int reached(void* arg) {
    state_wait* w = (state_wait*)arg;
    return count_state(w->log, MOQ_STATE_CONNECTED) >= w->want;
}

/* Counts objects whose payload is "after". */
static int count_payload(sink* s, const char* p) {
    pthread_mutex_lock(&s->mu);
    int n = 0;
    for (size_t i = 0; i < s->n; i++) n += s->len[i] == strlen(p) && memcmp(s->data[i], p, s->len[i]) == 0;
    pthread_mutex_unlock(&s->mu);
    return n;
}

static int publish_until(MoqPublisher* p, sink* s, const char* payload) {
    double end = t_now() + T(15);
    while (t_now() < end) {
        MoqResult r = moq_publish_data(p, (const uint8_t*)payload, strlen(payload), MOQ_DELIVERY_STREAM);
        moq_free_str(r.message);
        if (count_payload(s, payload) > 0) return 1;
        waiter_wait(&s->w, waiter_get(&s->w) + 1, 0.05);
    }
    return 0;
}

TEST(reconnect_after_relay_restart) {
    relay r;
    CHECK(relay_start(&r, "127.0.0.1:0", NULL));
    if (!r.addr[0]) return;
    char url[160];
    snprintf(url, sizeof url, "https://%s/", r.addr);
    state_log plog, slog;
    state_log_init(&plog);
    state_log_init(&slog);
    MoqClient* pc = reconnecting_client(url, &plog);
    MoqClient* sc = reconnecting_client(url, &slog);
    char ns[64];
    unique("reconnect", ns, sizeof ns);
    CHECK_RESULT(moq_announce_namespace(pc, ns), MOQ_OK);
    MoqPublisher* p = moq_create_publisher(pc, ns, "t");
    sink s;
    sink_init(&s);
    MoqSubscriber* sub = moq_subscribe(sc, ns, "t", on_data, &s);
    CHECK(p && sub);
    CHECK(publish_until(p, &s, "before"));

    relay_stop(&r, SIGKILL);
    /* Lost, then attempts: CONNECTING, FAILED, ... while the relay is down. */
    double end = t_now() + T(20);
    while ((count_state(&plog, MOQ_STATE_CONNECTING) < 3 || count_state(&slog, MOQ_STATE_CONNECTING) < 3) && t_now() < end) {
        waiter_wait(&plog.w, waiter_get(&plog.w) + 1, 0.1);
    }
    CHECK(count_state(&plog, MOQ_STATE_CONNECTING) >= 3 && count_state(&plog, MOQ_STATE_FAILED) >= 2);
    CHECK(!moq_is_connected(pc));
    CHECK(moq_is_subscribed(sub)); /* it will be made again */

    relay r2;
    CHECK(relay_start(&r2, r.addr, NULL));
    state_wait wp = {&plog, 2}, ws = {&slog, 2};
    CHECK(poll_until(reached, &wp, T(20)));
    CHECK(poll_until(reached, &ws, T(20)));
    CHECK(moq_is_connected(pc) && moq_is_connected(sc));
    CHECK(publish_until(p, &s, "after"));
    MoqClientStats st;
    memset(&st, 0, sizeof st);
    CHECK_RESULT(moq_client_stats(pc, &st), MOQ_OK);
    CHECK(st.reconnects == 1);
    CHECK(moq_is_subscribed(sub));

    /* moq_disconnect stops reconnecting. */
    CHECK_RESULT(moq_disconnect(sc), MOQ_OK);
    CHECK(!moq_is_subscribed(sub));
    moq_subscriber_destroy(sub);
    moq_publisher_destroy(p);
    moq_client_destroy(pc);
    moq_client_destroy(sc);
    relay_stop(&r2, SIGKILL);
    sink_destroy(&s);
    state_log_destroy(&plog);
    state_log_destroy(&slog);
}

TEST(disconnect_while_reconnecting) {
    relay r;
    CHECK(relay_start(&r, "127.0.0.1:0", NULL));
    if (!r.addr[0]) return;
    char url[160];
    snprintf(url, sizeof url, "https://%s/", r.addr);
    state_log log;
    state_log_init(&log);
    MoqClient* c = reconnecting_client(url, &log);
    relay_stop(&r, SIGKILL);
    double end = t_now() + T(20);
    while (count_state(&log, MOQ_STATE_CONNECTING) < 2 && t_now() < end) waiter_wait(&log.w, waiter_get(&log.w) + 1, 0.1);
    CHECK(count_state(&log, MOQ_STATE_CONNECTING) >= 2);
    CHECK_RESULT(moq_disconnect(c), MOQ_OK);
    CHECK(!moq_is_connected(c));
    moq_client_destroy(c);
    state_log_destroy(&log);
}

/* The connection callback destroys its own client on the first FAILED after
 * the relay died (a host giving up): no callback may follow, and nothing may
 * leak or touch freed memory (valgrind runs this test). */
typedef struct {
    state_log log;
    MoqClient* _Atomic client;
    _Atomic int destroyed;
    _Atomic int after;
} destroyer;

static void on_state_destroy(void* ud, MoqConnectionState st) {
    destroyer* d = (destroyer*)ud;
    if (d->destroyed) {
        d->after++;
        return;
    }
    on_state(&d->log, st);
    if (st == MOQ_STATE_FAILED || st == MOQ_STATE_DISCONNECTED) {
        MoqClient* c = d->client;
        if (c && count_state(&d->log, MOQ_STATE_CONNECTED) >= 1) {
            moq_client_destroy(c);
            d->destroyed = 1;
            waiter_add(&d->log.w, 1000);
        }
    }
}

TEST(destroy_from_callback_while_reconnecting) {
    relay r;
    CHECK(relay_start(&r, "127.0.0.1:0", NULL));
    if (!r.addr[0]) return;
    char url[160];
    snprintf(url, sizeof url, "moqt://%s/", r.addr);
    destroyer d;
    memset(&d, 0, sizeof d);
    state_log_init(&d.log);
    MoqClient* c = reconnecting_client_cb(url, on_state_destroy, &d, &d.client);
    relay_stop(&r, SIGKILL);
    CHECK(waiter_wait(&d.log.w, 1000, T(20)) >= 1000);
    CHECK(d.destroyed);
    /* The handle is dead: every call says so, and nothing comes after. */
    CHECK(!moq_is_connected(c));
    CHECK_RESULT(moq_disconnect(c), MOQ_ERROR_INVALID_ARGUMENT);
    moq_client_destroy(c);
    CHECK_MSG(d.after == 0, "%d callbacks after the destroy", (int)d.after);
    state_log_destroy(&d.log);
}

static void on_obj(void* ud, const MoqObject* o) { on_data(ud, o->payload, o->payload_len); }

TEST(persistent_subscription) {
    relay r;
    CHECK(relay_start(&r, "127.0.0.1:0", NULL));
    if (!r.addr[0]) return;
    char url[160];
    snprintf(url, sizeof url, "https://%s/", r.addr);
    MoqClient* pc = reconnecting_client(url, NULL);
    MoqClient* sc = reconnecting_client(url, NULL);
    char ns[64];
    unique("persist", ns, sizeof ns);
    sink s;
    sink_init(&s);
    MoqSubscribeOptions so;
    moq_subscribe_options_init(&so);
    so.persistent = true;
    /* The track does not exist yet: refused, retried; subscribed, not active. */
    MoqSubscriber* sub = moq_subscribe_ex(sc, ns, "t", &so, on_obj, &s);
    CHECK(sub != NULL);
    CHECK(moq_is_subscribed(sub));
    MoqSubscriberStats st;
    memset(&st, 0, sizeof st);
    st.struct_size = sizeof st;
    CHECK_RESULT(moq_subscriber_stats(sub, &st), MOQ_OK);
    CHECK(!st.active);
    CHECK_RESULT(moq_announce_namespace(pc, ns), MOQ_OK);
    MoqPublisher* p = moq_create_publisher(pc, ns, "t");
    CHECK(publish_until(p, &s, "one"));
    CHECK(moq_is_subscribed(sub));
    CHECK_RESULT(moq_subscriber_stats(sub, &st), MOQ_OK);
    CHECK(st.active && st.resubscribes == 0);
    /* The publisher goes away and comes back. */
    moq_publisher_destroy(p);
    p = moq_create_publisher(pc, ns, "t");
    CHECK(publish_until(p, &s, "two"));
    CHECK(moq_is_subscribed(sub));
    CHECK_RESULT(moq_subscriber_stats(sub, &st), MOQ_OK);
    CHECK_MSG(st.active && st.resubscribes >= 1, "active %d resubscribes %llu", st.active, (unsigned long long)st.resubscribes);
    CHECK_RESULT(moq_unsubscribe(sub), MOQ_OK);
    CHECK(!moq_is_subscribed(sub));
    moq_subscriber_destroy(sub);
    moq_publisher_destroy(p);
    moq_client_destroy(pc);
    moq_client_destroy(sc);
    relay_stop(&r, SIGKILL);
    sink_destroy(&s);
}

int main(void) {
    signal(SIGPIPE, SIG_IGN);
    RUN(reconnect_after_relay_restart);
    RUN(disconnect_while_reconnecting);
    RUN(persistent_subscription);
    RUN(destroy_from_callback_while_reconnecting);
    return t_summary("test_reconnect");
}
