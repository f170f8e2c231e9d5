/* Issue 15, item 7: MoqSubscribeOptions.on_subscribed tells the host when
 * the relay accepted a SUBSCRIBE (and each resubscription) or refused it, so
 * a publisher can start without publishing probes until data arrives. */
#include <stddef.h>

#include "test_net.h"
#include "test_relay.h"

#define MAX_EVENTS 64

/* Records on_subscribed calls and the objects of one subscriber. */
typedef struct {
    waiter events, objects;
    pthread_mutex_t mu;
    int n;
    int codes[MAX_EVENTS];
    char msgs[MAX_EVENTS][512];
    MoqSubscriber* subs[MAX_EVENTS];
    bool subscribed_inside[MAX_EVENTS]; /* moq_is_subscribed inside the callback */
    long objects_at_first_ok;           /* objects delivered before the first MOQ_OK */
    pthread_t thread;
    char last[64];
} status_log;

static void status_init(status_log* l) {
    memset(l, 0, sizeof *l);
    waiter_init(&l->events);
    waiter_init(&l->objects);
    pthread_mutex_init(&l->mu, NULL);
    l->objects_at_first_ok = -1;
}

static void status_destroy(status_log* l) {
    waiter_destroy(&l->events);
    waiter_destroy(&l->objects);
    pthread_mutex_destroy(&l->mu);
}

static void on_subscribed(void* ud, MoqSubscriber* sub, MoqResultCode code, const char* msg) {
    status_log* l = (status_log*)ud;
    bool inside = moq_is_subscribed(sub);
    pthread_mutex_lock(&l->mu);
    if (l->n < MAX_EVENTS) {
        l->codes[l->n] = (int)code;
        snprintf(l->msgs[l->n], sizeof l->msgs[l->n], "%s", msg ? msg : "(null)");
        l->subs[l->n] = sub;
        l->subscribed_inside[l->n] = inside;
        l->n++;
    }
    if (code == MOQ_OK && l->objects_at_first_ok < 0) l->objects_at_first_ok = waiter_get(&l->objects);
    l->thread = pthread_self();
    pthread_mutex_unlock(&l->mu);
    waiter_add(&l->events, 1);
}

static void on_object(void* ud, const MoqObject* o) {
    status_log* l = (status_log*)ud;
    pthread_mutex_lock(&l->mu);
    snprintf(l->last, sizeof l->last, "%.*s", (int)o->payload_len, (const char*)o->payload);
    pthread_mutex_unlock(&l->mu);
    waiter_add(&l->objects, 1);
}

static MoqClient* client_with_fast_retry(void) {
    MoqClient* c = moq_client_create();
    MoqClientConfig cfg;
    moq_client_config_init(&cfg);
    cfg.reconnect_min_ms = 50;
    cfg.reconnect_max_ms = 200;
    CHECK_RESULT(moq_client_configure(c, &cfg), MOQ_OK);
    CHECK_RESULT(moq_connect(c, relay_url(), NULL, NULL), MOQ_OK);
    return c;
}

/* The relay accepts; the callback comes before any object; one object
 * published after it arrives (no probes). poll: in poll mode. */
static void subscribed_then_publish(bool poll) {
    MoqClient* pc = client_with_fast_retry();
    MoqClient* sc = client_with_fast_retry();
    char ns[64];
    unique("subd", ns, sizeof ns);
    CHECK_RESULT(moq_announce_namespace(pc, ns), MOQ_OK);
    MoqPublisher* p = moq_create_publisher(pc, ns, "t");
    CHECK(p != NULL);
    status_log l;
    status_init(&l);
    MoqSubscribeOptions o;
    moq_subscribe_options_init(&o);
    CHECK(o.struct_size == sizeof o && o.on_subscribed == NULL);
    o.on_subscribed = on_subscribed;
    MoqSubscriber* s = moq_subscribe_ex(sc, ns, "t", &o, poll ? NULL : on_object, &l);
    CHECK(s != NULL);
    CHECK(waiter_wait(&l.events, 1, T(10)) >= 1);
    pthread_mutex_lock(&l.mu);
    CHECK_MSG(l.n == 1 && l.codes[0] == MOQ_OK && l.subs[0] == s && strstr(l.msgs[0], "subscribed to ") &&
                  strstr(l.msgs[0], ns),
              "events %d, code %d, message %s", l.n, l.codes[0], l.msgs[0]);
    CHECK(l.subscribed_inside[0]);
    CHECK(!pthread_equal(l.thread, pthread_self()));
    pthread_mutex_unlock(&l.mu);
    MoqSubscriberStats st;
    memset(&st, 0, sizeof st);
    st.struct_size = sizeof st;
    CHECK_RESULT(moq_subscriber_stats(s, &st), MOQ_OK);
    CHECK(st.active && st.resubscribes == 0);
    /* The subscription is live: one object, published once, arrives. */
    CHECK_RESULT(moq_publish_data(p, (const uint8_t*)"hello", 5, MOQ_DELIVERY_STREAM), MOQ_OK);
    if (poll) {
        MoqObject obj;
        uint8_t buf[64];
        MoqResult r = moq_subscriber_poll(s, &obj, buf, sizeof buf, NULL, (uint32_t)(T(10) * 1000));
        CHECK_MSG(r.code == MOQ_OK, "poll: %d %s", (int)r.code, r.message ? r.message : "");
        CHECK(r.code != MOQ_OK || (obj.payload_len == 5 && memcmp(obj.payload, "hello", 5) == 0));
        moq_free_str(r.message);
    } else {
        CHECK(waiter_wait(&l.objects, 1, T(10)) >= 1);
        pthread_mutex_lock(&l.mu);
        CHECK(l.objects_at_first_ok == 0 && strcmp(l.last, "hello") == 0);
        pthread_mutex_unlock(&l.mu);
    }
    moq_subscriber_destroy(s);
    /* Nothing after destroy. */
    long n = waiter_get(&l.events);
    moq_publisher_destroy(p);
    moq_client_destroy(sc);
    moq_client_destroy(pc);
    CHECK(waiter_get(&l.events) == n);
    status_destroy(&l);
}

TEST(subscribed_then_publish_callback) { subscribed_then_publish(false); }
TEST(subscribed_then_publish_poll) { subscribed_then_publish(true); }

/* A refused SUBSCRIBE (no such track) is reported, as final. */
TEST(refused_is_reported) {
    MoqClient* sc = client_with_fast_retry();
    char ns[64];
    unique("subd-missing", ns, sizeof ns);
    status_log l;
    status_init(&l);
    MoqSubscribeOptions o;
    moq_subscribe_options_init(&o);
    o.on_subscribed = on_subscribed;
    MoqSubscriber* s = moq_subscribe_ex(sc, ns, "t", &o, on_object, &l);
    CHECK(s != NULL);
    CHECK(waiter_wait(&l.events, 1, T(10)) >= 1);
    pthread_mutex_lock(&l.mu);
    CHECK_MSG(l.n == 1 && l.codes[0] == MOQ_ERROR_CONNECTION_FAILED && strstr(l.msgs[0], "refused") &&
                  !strstr(l.msgs[0], "retrying"),
              "events %d, code %d, message %s", l.n, l.codes[0], l.msgs[0]);
    CHECK(!l.subscribed_inside[0]);
    pthread_mutex_unlock(&l.mu);
    CHECK(!moq_is_subscribed(s));
    moq_subscriber_destroy(s);
    moq_client_destroy(sc);
    status_destroy(&l);
}

/* A persistent subscription: refusals while the track is missing
 * ("retrying"), accepted when it appears, accepted again when it comes back
 * after the publisher ended it. */
TEST(persistent_resubscriptions) {
    MoqClient* pc = client_with_fast_retry();
    MoqClient* sc = client_with_fast_retry();
    char ns[64];
    unique("subd-persist", ns, sizeof ns);
    status_log l;
    status_init(&l);
    MoqSubscribeOptions o;
    moq_subscribe_options_init(&o);
    o.on_subscribed = on_subscribed;
    o.persistent = true;
    MoqSubscriber* s = moq_subscribe_ex(sc, ns, "t", &o, on_object, &l);
    CHECK(s != NULL);
    CHECK(waiter_wait(&l.events, 1, T(10)) >= 1);
    pthread_mutex_lock(&l.mu);
    CHECK_MSG(l.codes[0] == MOQ_ERROR_CONNECTION_FAILED && strstr(l.msgs[0], "; retrying"), "code %d, message %s",
              l.codes[0], l.msgs[0]);
    CHECK(l.subscribed_inside[0]);
    pthread_mutex_unlock(&l.mu);
    CHECK(moq_is_subscribed(s));
    /* The track appears. */
    CHECK_RESULT(moq_announce_namespace(pc, ns), MOQ_OK);
    MoqPublisher* p = moq_create_publisher(pc, ns, "t");
    CHECK(p != NULL);
    int ok_at = -1;
    for (double end = t_now() + T(15); ok_at < 0 && t_now() < end;) {
        long have = waiter_get(&l.events);
        waiter_wait(&l.events, have + 1, 0.2);
        pthread_mutex_lock(&l.mu);
        for (int i = 0; i < l.n; i++)
            if (l.codes[i] == MOQ_OK) ok_at = i;
        pthread_mutex_unlock(&l.mu);
    }
    CHECK_MSG(ok_at >= 0, "no MOQ_OK after the track appeared");
    if (ok_at >= 0) {
        pthread_mutex_lock(&l.mu);
        CHECK_MSG(strstr(l.msgs[ok_at], "subscribed to ") != NULL, "message %s", l.msgs[ok_at]);
        pthread_mutex_unlock(&l.mu);
    }
    CHECK_RESULT(moq_publish_data(p, (const uint8_t*)"one", 3, MOQ_DELIVERY_STREAM), MOQ_OK);
    CHECK(waiter_wait(&l.objects, 1, T(10)) >= 1);
    /* The publisher ends the track and starts it again: a resubscription. */
    CHECK_RESULT(moq_publisher_end_track(p), MOQ_OK);
    moq_publisher_destroy(p);
    p = moq_create_publisher(pc, ns, "t");
    CHECK(p != NULL);
    int again_at = -1;
    for (double end = t_now() + T(15); again_at < 0 && t_now() < end;) {
        long have = waiter_get(&l.events);
        waiter_wait(&l.events, have + 1, 0.2);
        pthread_mutex_lock(&l.mu);
        for (int i = ok_at + 1; i < l.n; i++)
            if (l.codes[i] == MOQ_OK) again_at = i;
        pthread_mutex_unlock(&l.mu);
    }
    CHECK_MSG(again_at > ok_at, "no second MOQ_OK after the track came back");
    if (again_at > ok_at) {
        pthread_mutex_lock(&l.mu);
        CHECK_MSG(strstr(l.msgs[again_at], "subscribed again to ") && strstr(l.msgs[again_at], "resubscription 1"),
                  "message %s", l.msgs[again_at]);
        pthread_mutex_unlock(&l.mu);
        MoqSubscriberStats st;
        memset(&st, 0, sizeof st);
        st.struct_size = sizeof st;
        CHECK_RESULT(moq_subscriber_stats(s, &st), MOQ_OK);
        CHECK(st.resubscribes == 1);
        long before = waiter_get(&l.objects);
        CHECK_RESULT(moq_publish_data(p, (const uint8_t*)"two", 3, MOQ_DELIVERY_STREAM), MOQ_OK);
        CHECK(waiter_wait(&l.objects, before + 1, T(10)) > before);
    }
    moq_subscriber_destroy(s);
    moq_publisher_destroy(p);
    moq_client_destroy(sc);
    moq_client_destroy(pc);
    status_destroy(&l);
}

/* Index of the first MOQ_OK event at or after from whose message contains
 * text, or -1. */
static int find_ok(status_log* l, int from, const char* text) {
    pthread_mutex_lock(&l->mu);
    int at = -1;
    for (int i = from; i < l->n && at < 0; i++)
        if (l->codes[i] == MOQ_OK && strstr(l->msgs[i], text)) at = i;
    pthread_mutex_unlock(&l->mu);
    return at;
}

static int wait_ok(status_log* l, int from, const char* text, double timeout_s) {
    double end = t_now() + timeout_s;
    int at;
    while ((at = find_ok(l, from, text)) < 0 && t_now() < end) {
        waiter_wait(&l->events, waiter_get(&l->events) + 1, 0.1);
    }
    return at;
}

/* After the relay restarts and the client reconnects, the subscription is
 * made again and reported ("subscribed again"); one object published then
 * arrives. */
TEST(resubscribed_after_reconnect) {
    relay r;
    CHECK(relay_start(&r, "127.0.0.1:0", NULL));
    if (!r.addr[0]) return;
    char url[160];
    snprintf(url, sizeof url, "moqt://%s/", r.addr);
    MoqClient* cs[2];
    for (int i = 0; i < 2; i++) {
        cs[i] = moq_client_create();
        MoqClientConfig cfg;
        moq_client_config_init(&cfg);
        cfg.insecure = true; /* the restarted relay has a new certificate */
        cfg.idle_timeout_ms = 1500;
        cfg.reconnect = true;
        cfg.reconnect_min_ms = 50;
        cfg.reconnect_max_ms = 400;
        CHECK_RESULT(moq_client_configure(cs[i], &cfg), MOQ_OK);
        CHECK_RESULT(moq_connect(cs[i], url, NULL, NULL), MOQ_OK);
    }
    char ns[64];
    unique("subd-reconnect", ns, sizeof ns);
    CHECK_RESULT(moq_announce_namespace(cs[0], ns), MOQ_OK);
    MoqPublisher* p = moq_create_publisher(cs[0], ns, "t");
    status_log l;
    status_init(&l);
    MoqSubscribeOptions o;
    moq_subscribe_options_init(&o);
    o.on_subscribed = on_subscribed;
    MoqSubscriber* s = moq_subscribe_ex(cs[1], ns, "t", &o, on_object, &l);
    CHECK(p && s);
    int first = wait_ok(&l, 0, "subscribed to ", T(10));
    CHECK(first >= 0);
    relay_stop(&r, SIGKILL);
    relay r2;
    CHECK(relay_start(&r2, r.addr, NULL));
    int again = wait_ok(&l, first + 1, "subscribed again to ", T(30));
    CHECK_MSG(again > first, "no resubscription reported after the reconnect");
    if (again > first) {
        long before = waiter_get(&l.objects);
        CHECK_RESULT(moq_publish_data(p, (const uint8_t*)"after", 5, MOQ_DELIVERY_STREAM), MOQ_OK);
        CHECK(waiter_wait(&l.objects, before + 1, T(10)) > before);
        pthread_mutex_lock(&l.mu);
        CHECK(strcmp(l.last, "after") == 0);
        pthread_mutex_unlock(&l.mu);
    }
    moq_subscriber_destroy(s);
    moq_publisher_destroy(p);
    moq_client_destroy(cs[1]);
    moq_client_destroy(cs[0]);
    relay_stop(&r2, SIGKILL);
    status_destroy(&l);
}

static int not_subscribed(void* s) { return !moq_is_subscribed((MoqSubscriber*)s); }

/* A program built against the 0.5 header has no on_subscribed: the 0.3
 * init symbol fills that layout only, and the field is not read. */
TEST(old_layout_is_not_read) {
    MoqSubscribeOptions o;
    memset(&o, 0xAB, sizeof o);
    (moq_subscribe_options_init)(&o); /* the library symbol, not the macro */
    CHECK(o.struct_size == offsetof(MoqSubscribeOptions, on_subscribed));
    moq_subscribe_options_init_sized(&o, 4);
    CHECK(moq_last_error() != NULL && moq_last_error_code() == MOQ_ERROR_INVALID_ARGUMENT);
    MoqClient* sc = client_with_fast_retry();
    char ns[64];
    unique("subd-old", ns, sizeof ns);
    status_log l;
    status_init(&l);
    o.on_subscribed = on_subscribed; /* beyond struct_size: ignored */
    MoqSubscriber* s = moq_subscribe_ex(sc, ns, "t", &o, on_object, &l);
    CHECK(s != NULL);
    CHECK(poll_until(not_subscribed, s, T(10))); /* refused: no such track */
    CHECK(waiter_get(&l.events) == 0);
    moq_subscriber_destroy(s);
    moq_client_destroy(sc);
    status_destroy(&l);
}

int main(void) {
    signal(SIGPIPE, SIG_IGN);
    RUN(subscribed_then_publish_callback);
    RUN(subscribed_then_publish_poll);
    RUN(refused_is_reported);
    RUN(persistent_resubscriptions);
    RUN(resubscribed_after_reconnect);
    RUN(old_layout_is_not_read);
    return t_summary("test_subscribed");
}
