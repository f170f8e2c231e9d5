/* Callbacks that re-enter the library and destroy their own handles, the
 * "no callback after destroy returns" guarantee, and 8 threads hammering
 * one client. */
#include "test_net.h"

static const char* url;

/* A data callback that destroys its own subscriber on the third object. */
typedef struct {
    MoqSubscriber* self;
    MoqClient* client;
    waiter w;
    int destroy_client;
    int after_destroy; /* callbacks seen after the destroy call */
    int destroyed;
} self_destroyer;

static void destroy_self(void* ud, const uint8_t* d, size_t n) {
    (void)d;
    (void)n;
    self_destroyer* s = (self_destroyer*)ud;
    if (s->destroyed) {
        s->after_destroy++;
        return;
    }
    long k = waiter_get(&s->w) + 1;
    /* Re-enter: queries on our own handle and the client. */
    CHECK(moq_is_subscribed(s->self));
    CHECK(moq_is_connected(s->client));
    if (k == 3) {
        if (s->destroy_client) {
            moq_client_destroy(s->client);
        } else {
            CHECK_RESULT(moq_unsubscribe(s->self), MOQ_OK);
            moq_subscriber_destroy(s->self);
        }
        CHECK(!moq_is_subscribed(s->self));
        s->destroyed = 1;
    }
    waiter_add(&s->w, 1);
}

static void self_destroy_case(int destroy_client) {
    char ns[64];
    unique("self", ns, sizeof ns);
    MoqClient* pc = connect_client(url, NULL);
    MoqClient* sc = connect_client(url, NULL);
    CHECK(pc && sc);
    if (!pc || !sc) return;
    CHECK_RESULT(moq_announce_namespace(pc, ns), MOQ_OK);
    MoqPublisher* p = moq_create_publisher(pc, ns, "t");
    self_destroyer s;
    memset(&s, 0, sizeof s);
    waiter_init(&s.w);
    s.client = sc;
    s.destroy_client = destroy_client;
    /* The handle is stored before any object can arrive: nothing is
     * published until the subscription is live (probes). */
    s.self = moq_subscribe(sc, ns, "t", destroy_self, &s);
    CHECK(s.self != NULL);
    double end = t_now() + T(10);
    while (t_now() < end && waiter_get(&s.w) < 3) {
        CHECK_RESULT(moq_publish_data(p, (const uint8_t*)"x", 1, MOQ_DELIVERY_STREAM), MOQ_OK);
        waiter_wait(&s.w, waiter_get(&s.w) + 1, 0.02);
    }
    CHECK(waiter_get(&s.w) == 3);
    /* More objects must not reach the destroyed subscriber. */
    for (int i = 0; i < 5; i++) moq_publish_data(p, (const uint8_t*)"y", 1, MOQ_DELIVERY_STREAM);
    CHECK(!moq_is_subscribed(s.self));
    moq_subscriber_destroy(s.self); /* harmless again */
    if (!destroy_client) moq_client_destroy(sc);
    moq_publisher_destroy(p);
    moq_client_destroy(pc);
    CHECK(s.after_destroy == 0);
    waiter_destroy(&s.w);
}

TEST(data_callback_destroys_its_subscriber) { self_destroy_case(0); }
TEST(data_callback_destroys_its_client) { self_destroy_case(1); }

/* A connection callback that re-enters: disconnect from CONNECTED. */
typedef struct {
    MoqClient* c;
    state_log log;
} reenter_conn;

static void conn_reenter(void* ud, MoqConnectionState st) {
    reenter_conn* r = (reenter_conn*)ud;
    on_state(&r->log, st);
    if (st == MOQ_STATE_CONNECTED) {
        CHECK(moq_is_connected(r->c));
        CHECK_RESULT(moq_connect(r->c, url, conn_reenter, r), MOQ_ERROR_INVALID_ARGUMENT);
        CHECK_RESULT(moq_disconnect(r->c), MOQ_OK);
    }
}

TEST(connection_callback_reenters) {
    reenter_conn r;
    state_log_init(&r.log);
    r.c = moq_client_create();
    CHECK_RESULT(moq_connect(r.c, url, conn_reenter, &r), MOQ_OK);
    /* DISCONNECTED was queued by the nested disconnect and delivered, in
     * order, before moq_connect returned. */
    CHECK(r.log.n == 3);
    CHECK(state_at(&r.log, 0) == MOQ_STATE_CONNECTING && state_at(&r.log, 1) == MOQ_STATE_CONNECTED &&
          state_at(&r.log, 2) == MOQ_STATE_DISCONNECTED);
    CHECK(!moq_is_connected(r.c));
    moq_client_destroy(r.c);
    state_log_destroy(&r.log);
}

/* A slow callback running while another thread destroys the subscriber:
 * destroy waits for it, and nothing runs afterwards. */
typedef struct {
    waiter entered;
    volatile int running;
    int after;
    volatile int destroyed;
} slow_rec;

static void slow_cb(void* ud, const uint8_t* d, size_t n) {
    (void)d;
    (void)n;
    slow_rec* s = (slow_rec*)ud;
    if (s->destroyed) s->after++;
    __atomic_store_n(&s->running, 1, __ATOMIC_SEQ_CST);
    waiter_add(&s->entered, 1);
    struct timespec ts = {0, 50 * 1000000};
    nanosleep(&ts, NULL); /* work, not synchronisation */
    __atomic_store_n(&s->running, 0, __ATOMIC_SEQ_CST);
}

TEST(destroy_waits_for_running_callback) {
    char ns[64];
    unique("slow", ns, sizeof ns);
    MoqClient* pc = connect_client(url, NULL);
    MoqClient* sc = connect_client(url, NULL);
    CHECK(pc && sc);
    if (!pc || !sc) return;
    CHECK_RESULT(moq_announce_namespace(pc, ns), MOQ_OK);
    MoqPublisher* p = moq_create_publisher(pc, ns, "t");
    slow_rec s;
    memset(&s, 0, sizeof s);
    waiter_init(&s.entered);
    MoqSubscriber* sub = moq_subscribe(sc, ns, "t", slow_cb, &s);
    double end = t_now() + T(10);
    while (t_now() < end && waiter_get(&s.entered) == 0) {
        moq_publish_data(p, (const uint8_t*)"x", 1, MOQ_DELIVERY_STREAM);
        waiter_wait(&s.entered, 1, 0.02);
    }
    for (int i = 0; i < 20; i++) moq_publish_data(p, (const uint8_t*)"x", 1, MOQ_DELIVERY_STREAM);
    CHECK(waiter_wait(&s.entered, 2, T(10)) >= 2);
    moq_subscriber_destroy(sub);
    CHECK(__atomic_load_n(&s.running, __ATOMIC_SEQ_CST) == 0);
    s.destroyed = 1;
    long n = waiter_get(&s.entered);
    for (int i = 0; i < 5; i++) moq_publish_data(p, (const uint8_t*)"x", 1, MOQ_DELIVERY_STREAM);
    CHECK(waiter_get(&s.entered) == n);
    CHECK(s.after == 0);
    moq_publisher_destroy(p);
    moq_client_destroy(sc);
    moq_client_destroy(pc);
    waiter_destroy(&s.entered);
}

/* An announce callback that removes the listener and destroys its client. */
typedef struct {
    MoqClient* c;
    waiter w;
} ann_self;

static void ann_destroy(void* ud, const char* ns, const char* t) {
    (void)ns;
    (void)t;
    ann_self* a = (ann_self*)ud;
    CHECK_RESULT(moq_subscribe_announces(a->c, NULL, NULL), MOQ_OK);
    moq_client_destroy(a->c);
    waiter_add(&a->w, 1);
}

TEST(announce_callback_destroys_client) {
    char top[64], ns[128];
    unique("annself", top, sizeof top);
    snprintf(ns, sizeof ns, "%s/x", top);
    setenv("MOQ_FFI_ANNOUNCE_PREFIX", top, 1);
    ann_self a;
    waiter_init(&a.w);
    a.c = moq_client_create();
    CHECK_RESULT(moq_subscribe_announces(a.c, ann_destroy, &a), MOQ_OK);
    CHECK_RESULT(moq_connect(a.c, url, NULL, NULL), MOQ_OK);
    unsetenv("MOQ_FFI_ANNOUNCE_PREFIX");
    MoqClient* pc = connect_client(url, NULL);
    int i = 0;
    char each[160];
    double end = t_now() + T(10);
    while (t_now() < end && waiter_get(&a.w) == 0) {
        snprintf(each, sizeof each, "%s/%d", ns, i++);
        moq_announce_namespace(pc, each);
        waiter_wait(&a.w, 1, 0.2);
    }
    CHECK(waiter_get(&a.w) == 1);
    CHECK(!moq_is_connected(a.c));
    moq_client_destroy(a.c);
    moq_client_destroy(pc);
    CHECK(waiter_get(&a.w) == 1);
    waiter_destroy(&a.w);
}

/* 8 threads share one client: announce, publish, subscribe, query, destroy. */
typedef struct {
    MoqClient* c;
    int idx;
    int errors;
} hammer_arg;

static void count_cb(void* ud, const uint8_t* d, size_t n) {
    (void)d;
    (void)n;
    __atomic_add_fetch((long*)ud, 1, __ATOMIC_SEQ_CST);
}

static long hammer_received;

static void* hammer(void* arg) {
    hammer_arg* h = (hammer_arg*)arg;
    char ns[64];
    snprintf(ns, sizeof ns, "hammer-%ld-%d", (long)getpid(), h->idx);
    MoqResult r = moq_announce_namespace(h->c, ns);
    if (r.code != MOQ_OK) h->errors++;
    moq_free_str(r.message);
    for (int round = 0; round < 20; round++) {
        MoqPublisher* p = moq_create_publisher_ex(h->c, ns, "t", round % 2 ? MOQ_DELIVERY_DATAGRAM : MOQ_DELIVERY_STREAM);
        MoqSubscriber* s = moq_subscribe(h->c, ns, "t", count_cb, &hammer_received);
        if (!p || !s) h->errors++;
        for (int i = 0; i < 10; i++) {
            r = moq_publish_data(p, (const uint8_t*)"hello", 5, round % 2 ? MOQ_DELIVERY_DATAGRAM : MOQ_DELIVERY_STREAM);
            if (r.code != MOQ_OK) h->errors++;
            moq_free_str(r.message);
            if (!moq_is_connected(h->c)) h->errors++;
            (void)moq_is_subscribed(s);
            (void)moq_last_error();
        }
        if (round % 3 == 0) {
            r = moq_unsubscribe(s);
            moq_free_str(r.message);
        }
        moq_subscriber_destroy(s);
        moq_publisher_destroy(p);
        moq_publisher_destroy(p);
    }
    return NULL;
}

TEST(eight_threads_one_client) {
    MoqClient* c = connect_client(url, NULL);
    CHECK(c != NULL);
    if (!c) return;
    pthread_t th[8];
    hammer_arg args[8];
    for (int i = 0; i < 8; i++) {
        args[i].c = c;
        args[i].idx = i;
        args[i].errors = 0;
        pthread_create(&th[i], NULL, hammer, &args[i]);
    }
    for (int i = 0; i < 8; i++) {
        pthread_join(th[i], NULL);
        CHECK_MSG(args[i].errors == 0, "thread %d: %d errors", i, args[i].errors);
    }
    CHECK(moq_is_connected(c));
    moq_client_destroy(c);
    fprintf(stderr, "  (%ld objects received by the hammer subscribers)\n", hammer_received);
}

/* Destroying a client while another thread is blocked in moq_connect on it. */
static void* slow_connect(void* arg) {
    MoqResult r = moq_connect((MoqClient*)arg, "moqt://127.0.0.1:9/", NULL, NULL);
    CHECK(r.code == MOQ_ERROR_CONNECTION_FAILED || r.code == MOQ_ERROR_INVALID_ARGUMENT);
    moq_free_str(r.message);
    return NULL;
}

static int connecting(void* c) {
    if (moq_is_connected((MoqClient*)c)) return 0;
    return moq_last_error() != NULL && strstr(moq_last_error(), "in progress") != NULL;
}

TEST(destroy_during_connect) {
    setenv("MOQ_FFI_CONNECT_TIMEOUT_MS", "20000", 1);
    MoqClient* c = moq_client_create();
    pthread_t t;
    pthread_create(&t, NULL, slow_connect, c);
    CHECK(poll_until(connecting, c, T(5)));
    double t0 = t_now();
    moq_client_destroy(c);
    pthread_join(t, NULL);
    CHECK(t_now() - t0 < T(5)); /* cancelled, not the 20 s deadline */
    unsetenv("MOQ_FFI_CONNECT_TIMEOUT_MS");
}

int main(void) {
    url = relay_url();
    RUN(data_callback_destroys_its_subscriber);
    RUN(data_callback_destroys_its_client);
    RUN(connection_callback_reenters);
    RUN(destroy_waits_for_running_callback);
    RUN(announce_callback_destroys_client);
    RUN(eight_threads_one_client);
    RUN(destroy_during_connect);
    return t_summary("test_callbacks");
}
