/* Helpers shared by the tests that talk to a relay: clients, a message sink
 * for data callbacks, and connection-state recording. */
#ifndef MOQ_TEST_NET_H
#define MOQ_TEST_NET_H

#include "test_util.h"

static inline const char* relay_url(void) {
    const char* u = getenv("MOQ_TEST_URL");
    if (!u || !*u) {
        fprintf(stderr, "MOQ_TEST_URL is not set (run through scripts/ctest.sh)\n");
        exit(2);
    }
    return u;
}

/* Records connection states. */
typedef struct {
    waiter w;
    pthread_mutex_t mu;
    int states[64];
    pthread_t threads[64];
    int n;
} state_log;

static inline void state_log_init(state_log* s) {
    memset(s, 0, sizeof *s);
    waiter_init(&s->w);
    pthread_mutex_init(&s->mu, NULL);
}

static inline void state_log_destroy(state_log* s) {
    waiter_destroy(&s->w);
    pthread_mutex_destroy(&s->mu);
}

static inline void on_state(void* ud, MoqConnectionState st) {
    state_log* s = (state_log*)ud;
    pthread_mutex_lock(&s->mu);
    if (s->n < 64) {
        s->states[s->n] = (int)st;
        s->threads[s->n] = pthread_self();
        s->n++;
    }
    pthread_mutex_unlock(&s->mu);
    waiter_add(&s->w, 1);
}

static inline int state_at(state_log* s, int i) {
    pthread_mutex_lock(&s->mu);
    int v = i < s->n ? s->states[i] : -1;
    pthread_mutex_unlock(&s->mu);
    return v;
}

/* Collects received objects (copies). */
typedef struct {
    waiter w;
    pthread_mutex_t mu;
    unsigned char** data;
    size_t* len;
    size_t n, cap;
} sink;

static inline void sink_init(sink* s) {
    memset(s, 0, sizeof *s);
    waiter_init(&s->w);
    pthread_mutex_init(&s->mu, NULL);
}

static inline void sink_destroy(sink* s) {
    for (size_t i = 0; i < s->n; i++) free(s->data[i]);
    free(s->data);
    free(s->len);
    waiter_destroy(&s->w);
    pthread_mutex_destroy(&s->mu);
}

static inline void on_data(void* ud, const uint8_t* data, size_t n) {
    sink* s = (sink*)ud;
    if (data == NULL) {
        fprintf(stderr, "FAIL: data callback got a NULL pointer\n");
        t_failures++;
        return;
    }
    pthread_mutex_lock(&s->mu);
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 64;
        s->data = (unsigned char**)realloc(s->data, s->cap * sizeof *s->data);
        s->len = (size_t*)realloc(s->len, s->cap * sizeof *s->len);
    }
    s->data[s->n] = (unsigned char*)malloc(n ? n : 1);
    memcpy(s->data[s->n], data, n);
    s->len[s->n] = n;
    s->n++;
    pthread_mutex_unlock(&s->mu);
    waiter_add(&s->w, 1);
}

static inline MoqClient* connect_client(const char* url, state_log* log) {
    MoqClient* c = moq_client_create();
    if (!c) return NULL;
    MoqResult r = moq_connect(c, url, log ? on_state : NULL, log);
    if (r.code != MOQ_OK) {
        fprintf(stderr, "connect %s failed: %d %s\n", url, (int)r.code, r.message);
        moq_free_str(r.message);
        moq_client_destroy(c);
        return NULL;
    }
    return c;
}

static inline int failed_state(void* arg) {
    state_log* log = (state_log*)arg;
    pthread_mutex_lock(&log->mu);
    int failed = 0;
    for (int i = 0; i < log->n; i++) failed |= log->states[i] == MOQ_STATE_FAILED;
    pthread_mutex_unlock(&log->mu);
    return failed;
}

/* Connects c (then destroys it) to a relay that must refuse it: moq_connect
 * fails with CONNECTION_FAILED ("refused"), or the session ends at once
 * (FAILED) and announcing fails. */
static inline void expect_refused(MoqClient* c, const char* url) {
    state_log log;
    state_log_init(&log);
    MoqResult r = moq_connect(c, url, on_state, &log);
    if (r.code == MOQ_OK) {
        /* Refused just after setup: the session ends by itself. */
        CHECK_MSG(poll_until(failed_state, &log, T(10)), "%s: no FAILED after the refusal", url);
        CHECK(!moq_is_connected(c));
        MoqResult a = moq_announce_namespace(c, "refused/denied");
        CHECK(a.code != MOQ_OK);
        moq_free_str(a.message);
    } else {
        CHECK_MSG(r.code == MOQ_ERROR_CONNECTION_FAILED && r.message && strstr(r.message, "refused"),
                  "%s: code %d, message %s", url, (int)r.code, r.message ? r.message : "(null)");
    }
    moq_free_str(r.message);
    moq_client_destroy(c);
    state_log_destroy(&log);
}

/* Publishes probe objects (payload "probe") until the sink has received at
 * least one, so that the subscription is known to be live. */
static inline int await_live(MoqPublisher* p, sink* s, MoqDeliveryMode mode, double timeout_s) {
    double end = t_now() + timeout_s;
    while (t_now() < end) {
        MoqResult r = moq_publish_data(p, (const uint8_t*)"probe", 5, mode);
        moq_free_str(r.message);
        if (r.code != MOQ_OK) return 0;
        if (waiter_wait(&s->w, 1, 0.05) >= 1) return 1;
    }
    return 0;
}

/* Index of the first received object that is not a probe. */
static inline size_t skip_probes(sink* s) {
    size_t i = 0;
    pthread_mutex_lock(&s->mu);
    while (i < s->n && s->len[i] == 5 && memcmp(s->data[i], "probe", 5) == 0) i++;
    pthread_mutex_unlock(&s->mu);
    return i;
}

#endif
