/* soak_pub URL NAMESPACE TRACK RATE: publishes numbered objects (one group
 * each, stream delivery) at RATE per second through a relay that may be
 * restarted, reconnecting as needed, until SIGTERM. A publish refused while
 * reconnecting is not numbered: the sequence counts published objects only.
 * Prints a status line every second and a final "pub done" line. */
#include "soak_common.h"

int main(int argc, char** argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: soak_pub URL NAMESPACE TRACK RATE\n");
        return 2;
    }
    const char* url = argv[1];
    const char* ns = argv[2];
    const char* track = argv[3];
    double rate = atof(argv[4]);
    if (rate <= 0) {
        fprintf(stderr, "bad rate %s\n", argv[4]);
        return 2;
    }
    soak_signals();
    MoqClient* c = soak_client(url, 3000);
    if (!c) return 1;
    MoqResult r = moq_announce_namespace(c, ns);
    if (r.code != MOQ_OK) {
        fprintf(stderr, "announce: %s\n", r.message ? r.message : "?");
        return 1;
    }
    MoqPublisher* p = moq_create_publisher(c, ns, track);
    if (!p) {
        fprintf(stderr, "publisher: %s\n", moq_last_error());
        return 1;
    }
    uint64_t seq = 0, refused = 0;
    uint8_t buf[SOAK_PAYLOAD];
    double start = soak_now(), next = start, status = start + 1;
    while (!soak_stop) {
        soak_payload(seq, buf);
        r = moq_publish_data(p, buf, sizeof buf, MOQ_DELIVERY_STREAM);
        if (r.code == MOQ_OK) {
            seq++;
        } else {
            refused++;
            if (r.code != MOQ_ERROR_NOT_CONNECTED) fprintf(stderr, "publish: %d %s\n", r.code, r.message ? r.message : "?");
        }
        moq_free_str(r.message);
        double now = soak_now();
        if (now >= status) {
            printf("pub t=%.0f published=%llu refused=%llu connects=%llu\n", now - start, (unsigned long long)seq,
                   (unsigned long long)refused, (unsigned long long)soak_connects);
            fflush(stdout);
            status += 1;
        }
        next += 1 / rate;
        if (next > now) soak_sleep(next - now);
        else next = now;
    }
    MoqClientStats st;
    memset(&st, 0, sizeof st);
    st.struct_size = sizeof st;
    moq_client_stats(c, &st);
    moq_publisher_destroy(p);
    moq_client_destroy(c);
    printf("pub done published=%llu refused=%llu reconnects=%llu\n", (unsigned long long)seq,
           (unsigned long long)refused, (unsigned long long)st.reconnects);
    fflush(stdout);
    return 0;
}
