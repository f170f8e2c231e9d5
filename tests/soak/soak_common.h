/* Shared by the soak programs: a reconnecting client, a stop flag set by
 * SIGTERM/SIGINT, and a monotonic clock. */
#ifndef MOQ_SOAK_COMMON_H
#define MOQ_SOAK_COMMON_H

#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "moq_ffi.h"

static volatile sig_atomic_t soak_stop;

static void soak_on_signal(int sig) {
    (void)sig;
    soak_stop = 1;
}

static inline void soak_signals(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = soak_on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
}

static inline double soak_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline void soak_sleep(double s) {
    struct timespec ts;
    ts.tv_sec = (time_t)s;
    ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
    nanosleep(&ts, NULL);
}

/* Connections reported CONNECTED (the first and every reconnect). */
static _Atomic uint64_t soak_connects;
static _Atomic uint64_t soak_losses;

static void soak_on_state(void* ud, MoqConnectionState st) {
    (void)ud;
    if (st == MOQ_STATE_CONNECTED) soak_connects++;
    if (st == MOQ_STATE_FAILED || st == MOQ_STATE_DISCONNECTED) soak_losses++;
}

/* A client that reconnects quickly (the relay is restarted under it) and
 * notices a killed relay within idle_ms; NULL on failure. */
static inline MoqClient* soak_client(const char* url, uint32_t idle_ms) {
    MoqClient* c = moq_client_create();
    if (!c) return NULL;
    MoqClientConfig cfg;
    moq_client_config_init(&cfg);
    cfg.insecure = true; /* each relay run has a new self-signed certificate */
    cfg.idle_timeout_ms = idle_ms;
    cfg.reconnect = true;
    cfg.reconnect_min_ms = 100;
    cfg.reconnect_max_ms = 1000;
    cfg.connect_timeout_ms = 3000;
    MoqResult r = moq_client_configure(c, &cfg);
    if (r.code != MOQ_OK) {
        fprintf(stderr, "configure: %s\n", r.message ? r.message : "?");
        moq_free_str(r.message);
        moq_client_destroy(c);
        return NULL;
    }
    r = moq_connect(c, url, soak_on_state, NULL);
    if (r.code != MOQ_OK) {
        fprintf(stderr, "connect %s: %s\n", url, r.message ? r.message : "?");
        moq_free_str(r.message);
        moq_client_destroy(c);
        return NULL;
    }
    return c;
}

/* Payload: the sequence number (8 bytes, big endian), then filler derived
 * from it, SOAK_PAYLOAD bytes in all. */
#define SOAK_PAYLOAD 100

static inline void soak_payload(uint64_t seq, uint8_t* p) {
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(seq >> (56 - 8 * i));
    for (int i = 8; i < SOAK_PAYLOAD; i++) p[i] = (uint8_t)(seq + (uint64_t)i);
}

/* The sequence number of p, or -1 when p is not a soak payload. */
static inline int64_t soak_parse(const uint8_t* p, size_t n) {
    if (n != SOAK_PAYLOAD) return -1;
    uint64_t seq = 0;
    for (int i = 0; i < 8; i++) seq = seq << 8 | p[i];
    for (int i = 8; i < SOAK_PAYLOAD; i++)
        if (p[i] != (uint8_t)(seq + (uint64_t)i)) return -1;
    return (int64_t)seq;
}

#endif
