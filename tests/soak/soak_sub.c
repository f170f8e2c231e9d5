/* soak_sub URL NAMESPACE TRACK: a persistent subscription through a relay
 * that may be restarted. Checks every object: its payload, that sequence
 * numbers only go up (a repeat is a duplicate, a lower one out of order),
 * and counts the numbers skipped: those skipped at the first object after
 * a reconnect are what the relay restart lost (counted apart), any other
 * skip is a lost object. Prints a status line every second and a final
 * "sub done" line, until SIGTERM. */
#include <pthread.h>

#include "soak_common.h"

typedef struct {
    pthread_mutex_t mu;
    uint64_t received, dups, reorders, bad, lost, lost_gaps, restart_missing, restart_gaps;
    int64_t first, last;
    uint64_t epoch; /* soak_connects when the last object came */
} tally;

static void on_object(void* ud, const MoqObject* o) {
    tally* t = (tally*)ud;
    int64_t seq = soak_parse(o->payload, o->payload_len);
    uint64_t epoch = soak_connects;
    pthread_mutex_lock(&t->mu);
    if (seq < 0) {
        t->bad++;
    } else if (t->last < 0) {
        t->first = t->last = seq;
        t->received++;
    } else if (seq == t->last) {
        t->dups++;
    } else if (seq < t->last) {
        t->reorders++;
    } else {
        uint64_t gap = (uint64_t)(seq - t->last - 1);
        if (gap > 0) {
            if (epoch != t->epoch) {
                t->restart_missing += gap;
                t->restart_gaps++;
            } else {
                t->lost += gap;
                t->lost_gaps++;
                fprintf(stderr, "sub: %llu objects lost after %lld (no reconnect in between)\n",
                        (unsigned long long)gap, (long long)t->last);
            }
        }
        t->last = seq;
        t->received++;
    }
    t->epoch = epoch;
    pthread_mutex_unlock(&t->mu);
}

static void report(tally* t, const char* what, double secs, MoqSubscriber* s) {
    MoqSubscriberStats st;
    memset(&st, 0, sizeof st);
    st.struct_size = sizeof st;
    moq_subscriber_stats(s, &st);
    pthread_mutex_lock(&t->mu);
    printf("sub %s t=%.0f received=%llu first=%lld last=%lld lost=%llu lost_gaps=%llu restart_missing=%llu "
           "restart_gaps=%llu dups=%llu reorders=%llu bad=%llu dropped=%llu resubscribes=%llu connects=%llu\n",
           what, secs, (unsigned long long)t->received, (long long)t->first, (long long)t->last,
           (unsigned long long)t->lost, (unsigned long long)t->lost_gaps, (unsigned long long)t->restart_missing,
           (unsigned long long)t->restart_gaps, (unsigned long long)t->dups, (unsigned long long)t->reorders,
           (unsigned long long)t->bad, (unsigned long long)st.dropped, (unsigned long long)st.resubscribes,
           (unsigned long long)soak_connects);
    pthread_mutex_unlock(&t->mu);
    fflush(stdout);
}

int main(int argc, char** argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: soak_sub URL NAMESPACE TRACK\n");
        return 2;
    }
    soak_signals();
    tally t;
    memset(&t, 0, sizeof t);
    pthread_mutex_init(&t.mu, NULL);
    t.first = t.last = -1;
    MoqClient* c = soak_client(argv[1], 3000);
    if (!c) return 1;
    t.epoch = soak_connects;
    MoqSubscribeOptions o;
    moq_subscribe_options_init(&o);
    o.persistent = true;
    MoqSubscriber* s = moq_subscribe_ex(c, argv[2], argv[3], &o, on_object, &t);
    if (!s) {
        fprintf(stderr, "subscribe: %s\n", moq_last_error());
        return 1;
    }
    double start = soak_now();
    while (!soak_stop) {
        soak_sleep(1);
        report(&t, "status", soak_now() - start, s);
        if (!moq_is_subscribed(s)) {
            fprintf(stderr, "sub: the persistent subscription ended: %s\n", moq_last_error());
            break;
        }
    }
    report(&t, "done", soak_now() - start, s);
    moq_subscriber_destroy(s);
    moq_client_destroy(c);
    pthread_mutex_destroy(&t.mu);
    return 0;
}
