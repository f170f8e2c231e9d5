/* Small test framework for the moq_ffi C tests: checks that count failures,
 * deadlines on a monotonic clock, a condition-variable "waiter", and helpers
 * to make unique names. Header-only; C11 and C++17. */
#ifndef MOQ_TEST_UTIL_H
#define MOQ_TEST_UTIL_H

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "moq_ffi.h"

static int t_failures;
static int t_checks;
static const char* t_current = "";

#define CHECK(cond)                                                                          \
    do {                                                                                     \
        t_checks++;                                                                          \
        if (!(cond)) {                                                                       \
            t_failures++;                                                                    \
            fprintf(stderr, "FAIL %s:%d [%s]: %s (last_error: %s)\n", __FILE__, __LINE__,     \
                    t_current, #cond, moq_last_error() ? moq_last_error() : "(null)");       \
        }                                                                                    \
    } while (0)

#define CHECK_MSG(cond, ...)                                                                 \
    do {                                                                                     \
        t_checks++;                                                                          \
        if (!(cond)) {                                                                       \
            t_failures++;                                                                    \
            fprintf(stderr, "FAIL %s:%d [%s]: %s: ", __FILE__, __LINE__, t_current, #cond);  \
            fprintf(stderr, __VA_ARGS__);                                                    \
            fputc('\n', stderr);                                                             \
        }                                                                                    \
    } while (0)

/* Checks a MoqResult's code and frees its message. */
#define CHECK_RESULT(expr, want)                                                             \
    do {                                                                                     \
        MoqResult r_ = (expr);                                                               \
        t_checks++;                                                                          \
        if ((int)r_.code != (int)(want)) {                                                   \
            t_failures++;                                                                    \
            fprintf(stderr, "FAIL %s:%d [%s]: %s gave %d, want %d: %s\n", __FILE__, __LINE__, \
                    t_current, #expr, (int)r_.code, (int)(want),                             \
                    r_.message ? r_.message : "(no message)");                               \
        }                                                                                    \
        if ((r_.code == MOQ_OK) != (r_.message == NULL)) {                                   \
            t_failures++;                                                                    \
            fprintf(stderr, "FAIL %s:%d: message must be NULL exactly when OK\n", __FILE__, \
                    __LINE__);                                                               \
        }                                                                                    \
        moq_free_str(r_.message);                                                            \
    } while (0)

#define TEST(name) static void name(void)
#define RUN(name)                                                                            \
    do {                                                                                     \
        t_current = #name;                                                                   \
        int before_ = t_failures;                                                            \
        double t0_ = t_now();                                                                \
        name();                                                                              \
        fprintf(stderr, "%s %s (%.2fs)\n", t_failures == before_ ? "ok  " : "FAIL", #name,   \
                t_now() - t0_);                                                              \
    } while (0)

static inline double t_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline int t_summary(const char* prog) {
    fprintf(stderr, "%s: %d checks, %d failures\n", prog, t_checks, t_failures);
    return t_failures == 0 ? 0 : 1;
}

/* A counter guarded by a mutex, with a condition variable to wait on. */
typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    long count;
} waiter;

static inline void waiter_init(waiter* w) {
    pthread_mutex_init(&w->mu, NULL);
    pthread_condattr_t a;
    pthread_condattr_init(&a);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    pthread_cond_init(&w->cv, &a);
    pthread_condattr_destroy(&a);
    w->count = 0;
}

static inline void waiter_destroy(waiter* w) {
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
}

static inline void waiter_add(waiter* w, long n) {
    pthread_mutex_lock(&w->mu);
    w->count += n;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

static inline long waiter_get(waiter* w) {
    pthread_mutex_lock(&w->mu);
    long n = w->count;
    pthread_mutex_unlock(&w->mu);
    return n;
}

/* Waits until count >= n or timeout_s passes; returns the count. */
static inline long waiter_wait(waiter* w, long n, double timeout_s) {
    struct timespec dl;
    clock_gettime(CLOCK_MONOTONIC, &dl);
    long ns = dl.tv_nsec + (long)((timeout_s - (double)(long)timeout_s) * 1e9);
    dl.tv_sec += (time_t)timeout_s + ns / 1000000000L;
    dl.tv_nsec = ns % 1000000000L;
    pthread_mutex_lock(&w->mu);
    while (w->count < n) {
        if (pthread_cond_timedwait(&w->cv, &w->mu, &dl) == ETIMEDOUT) break;
    }
    long c = w->count;
    pthread_mutex_unlock(&w->mu);
    return c;
}

/* Polls pred(arg) every millisecond until true or timeout_s passes. */
static inline int poll_until(int (*pred)(void*), void* arg, double timeout_s) {
    double end = t_now() + timeout_s;
    for (;;) {
        if (pred(arg)) return 1;
        if (t_now() > end) return 0;
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
}

/* Time limits scale with MOQ_TEST_SLOW (e.g. 10 under valgrind). */
static inline double t_scale(void) {
    const char* s = getenv("MOQ_TEST_SLOW");
    double f = s ? atof(s) : 1.0;
    return f > 0 ? f : 1.0;
}
#define T(sec) ((sec) * t_scale())

/* A name unique to this process and call: prefix-pid-n. */
static inline const char* unique(const char* prefix, char* buf, size_t n) {
    static int counter;
    snprintf(buf, n, "%s-%ld-%d", prefix, (long)getpid(), __atomic_add_fetch(&counter, 1, __ATOMIC_SEQ_CST));
    return buf;
}

static inline const char* env_or(const char* name, const char* def) {
    const char* v = getenv(name);
    return v && *v ? v : def;
}

#endif
