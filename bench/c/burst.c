/* Burst loss accounting (issue 15): one publisher writes COUNT objects of
 * SIZE bytes flat out (no pacing) through a relay to one subscriber, in one
 * delivery mode, and the program reports how many arrived, how many the
 * subscriber counted as dropped, and what the publisher dropped or was told
 * (MOQ_ERROR_WOULD_BLOCK, retried after 0.2 ms).
 *   burst URL stream|datagram|reliable [COUNT] [SIZE]
 * MOQ_FFI_PIN_SHA256 pins the relay's certificate. Datagram objects are
 * capped at 1000 bytes. A stream object after the burst marks its end. */
#include <moq_ffi.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
    pthread_mutex_t mu;
    long n;   /* burst objects received (index 1..count) */
    int end;  /* the end marker (index count + 1) arrived */
} counter;

static uint32_t get_index(const uint8_t* b) {
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | (uint32_t)b[3];
}

static void put_index(uint8_t* b, uint32_t i) {
    b[0] = (uint8_t)(i >> 24);
    b[1] = (uint8_t)(i >> 16);
    b[2] = (uint8_t)(i >> 8);
    b[3] = (uint8_t)i;
}

static uint32_t burst_count;

static void on_data(void* ud, const uint8_t* data, size_t n) {
    counter* c = (counter*)ud;
    if (n < 4) return;
    uint32_t i = get_index(data);
    pthread_mutex_lock(&c->mu);
    if (i >= 1 && i <= burst_count) c->n++;
    if (i == burst_count + 1) c->end = 1;
    pthread_mutex_unlock(&c->mu);
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void pause_us(long us) {
    struct timespec ts = {0, us * 1000};
    nanosleep(&ts, NULL);
}

static MoqClient* connect_to(const char* url) {
    MoqClient* c = moq_client_create();
    MoqResult r = moq_connect(c, url, NULL, NULL);
    if (r.code != MOQ_OK) {
        fprintf(stderr, "burst: connect %s: %s\n", url, r.message);
        moq_free_str(r.message);
        moq_client_destroy(c);
        return NULL;
    }
    return c;
}

int main(int argc, char** argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: burst URL stream|datagram|reliable [COUNT] [SIZE]\n");
        return 2;
    }
    const char* url = argv[1];
    const char* mode_name = argv[2];
    burst_count = argc > 3 ? (uint32_t)atol(argv[3]) : 10000;
    size_t size = argc > 4 ? (size_t)atol(argv[4]) : 28800;
    MoqDeliveryMode mode;
    if (strcmp(mode_name, "stream") == 0) {
        mode = MOQ_DELIVERY_STREAM;
    } else if (strcmp(mode_name, "datagram") == 0) {
        mode = MOQ_DELIVERY_DATAGRAM;
        if (size > 1000) size = 1000;
    } else if (strcmp(mode_name, "reliable") == 0) {
        mode = MOQ_DELIVERY_STREAM_RELIABLE;
    } else {
        fprintf(stderr, "burst: mode %s: want stream, datagram or reliable\n", mode_name);
        return 2;
    }
    if (size < 8) size = 8;
    MoqClient* pc = connect_to(url);
    MoqClient* sc = connect_to(url);
    if (!pc || !sc) return 1;
    char ns[64];
    snprintf(ns, sizeof ns, "burst-%ld", (long)time(NULL));
    MoqResult r = moq_announce_namespace(pc, ns);
    moq_free_str(r.message);
    MoqPublisher* p = moq_create_publisher_ex(pc, ns, "t", mode);
    counter c = {PTHREAD_MUTEX_INITIALIZER, 0, 0};
    MoqSubscriber* sub = moq_subscribe(sc, ns, "t", on_data, &c);
    if (!p || !sub) {
        fprintf(stderr, "burst: %s\n", moq_last_error());
        return 1;
    }
    uint8_t* b = (uint8_t*)calloc(1, size);
    /* Index-0 probes on a stream until the subscription is live. */
    int live = 0;
    for (int i = 0; i < 500 && !live; i++) {
        r = moq_publish_data(p, b, 8, MOQ_DELIVERY_STREAM);
        moq_free_str(r.message);
        pause_us(20000);
        MoqSubscriberStats st;
        memset(&st, 0, sizeof st);
        st.struct_size = sizeof st;
        moq_subscriber_stats(sub, &st);
        live = st.objects > 0;
    }
    MoqSubscriberStats s0;
    memset(&s0, 0, sizeof s0);
    s0.struct_size = sizeof s0;
    moq_subscriber_stats(sub, &s0);
    long would_block = 0;
    double t0 = now();
    for (uint32_t i = 1; i <= burst_count;) {
        put_index(b, i);
        r = moq_publish_data(p, b, size, mode);
        moq_free_str(r.message);
        if (r.code == MOQ_ERROR_WOULD_BLOCK) {
            would_block++;
            pause_us(200);
            continue;
        }
        i++;
    }
    double t1 = now();
    uint8_t end[8] = {0};
    put_index(end, burst_count + 1);
    do {
        r = moq_publish_data(p, end, sizeof end, mode == MOQ_DELIVERY_DATAGRAM ? MOQ_DELIVERY_STREAM : mode);
        moq_free_str(r.message);
    } while (r.code == MOQ_ERROR_WOULD_BLOCK && (pause_us(200), 1));
    double deadline = now() + 120;
    int ended = 0;
    while (!ended && now() < deadline) {
        pause_us(10000);
        pthread_mutex_lock(&c.mu);
        ended = c.end;
        pthread_mutex_unlock(&c.mu);
    }
    MoqSubscriberStats s1;
    memset(&s1, 0, sizeof s1);
    s1.struct_size = sizeof s1;
    moq_subscriber_stats(sub, &s1);
    MoqPublisherStats ps;
    memset(&ps, 0, sizeof ps);
    moq_publisher_stats(p, &ps);
    pthread_mutex_lock(&c.mu);
    long got = c.n;
    pthread_mutex_unlock(&c.mu);
    printf("%s %s: %u x %zu B published in %.2f s; received %ld, lost %ld; subscriber counted %llu dropped; "
           "publisher dropped %llu, refused %ld (would block)%s\n",
           url, mode_name, burst_count, size, t1 - t0, got, (long)burst_count - got,
           (unsigned long long)(s1.dropped - s0.dropped), (unsigned long long)ps.dropped, would_block,
           ended ? "" : " [end marker never arrived]");
    free(b);
    moq_subscriber_destroy(sub);
    moq_publisher_destroy(p);
    moq_client_destroy(sc);
    moq_client_destroy(pc);
    return 0;
}
