/* Session death: a relay killed mid-stream (SIGKILL: the client notices by
 * the idle timeout) and a relay shutting down (SIGTERM: GOAWAY). Each case
 * starts its own relay from MOQ_TEST_RELAY_BIN. */
#include "test_net.h"
#include "test_relay.h"

static int is_down(void* c) { return !moq_is_connected((MoqClient*)c); }

static int last_state_is(state_log* log, int want) {
    pthread_mutex_lock(&log->mu);
    int ok = log->n > 0 && log->states[log->n - 1] == want;
    pthread_mutex_unlock(&log->mu);
    return ok;
}

static void session_death(int sig, int want_state) {
    relay r;
    CHECK(relay_start(&r, "127.0.0.1:0", sig == SIGTERM ? "--drain=30s" : NULL));
    if (!r.fp[0]) return;
    setenv("MOQ_FFI_PIN_SHA256", r.fp, 1);
    setenv("MOQ_FFI_IDLE_TIMEOUT_MS", "1500", 1);
    state_log plog, slog;
    state_log_init(&plog);
    state_log_init(&slog);
    MoqClient* pc = connect_client(r.url, &plog);
    MoqClient* sc = connect_client(r.url, &slog);
    CHECK(pc && sc);
    char ns[64];
    unique("kill", ns, sizeof ns);
    CHECK_RESULT(moq_announce_namespace(pc, ns), MOQ_OK);
    MoqPublisher* p = moq_create_publisher(pc, ns, "t");
    sink s;
    sink_init(&s);
    MoqSubscriber* sub = moq_subscribe(sc, ns, "t", on_data, &s);
    CHECK(await_live(p, &s, MOQ_DELIVERY_STREAM, T(10)));
    /* Mid-stream: the relay goes away. */
    relay_stop(&r, sig);
    CHECK(poll_until(is_down, pc, T(20)));
    CHECK(poll_until(is_down, sc, T(20)));
    CHECK(moq_last_error() != NULL);
    if (moq_last_error()) fprintf(stderr, "  reason: %s\n", moq_last_error());
    CHECK(waiter_wait(&plog.w, 3, T(10)) == 3);
    CHECK(waiter_wait(&slog.w, 3, T(10)) == 3);
    CHECK_MSG(last_state_is(&plog, want_state), "publisher's last state %d, want %d", state_at(&plog, 2), want_state);
    CHECK_MSG(last_state_is(&slog, want_state), "subscriber's last state %d, want %d", state_at(&slog, 2), want_state);
    /* Reported from a library thread, not this one. */
    CHECK(plog.n == 3 && !pthread_equal(plog.threads[2], pthread_self()));
    CHECK_RESULT(moq_publish_data(p, (const uint8_t*)"x", 1, MOQ_DELIVERY_STREAM), MOQ_ERROR_NOT_CONNECTED);
    CHECK(!moq_is_subscribed(sub));
    CHECK_RESULT(moq_announce_namespace(pc, "other"), MOQ_ERROR_NOT_CONNECTED);
    /* Nothing more is reported; disconnect after death is harmless. */
    CHECK_RESULT(moq_disconnect(pc), MOQ_OK);
    CHECK(plog.n == 3);
    moq_subscriber_destroy(sub);
    moq_publisher_destroy(p);
    moq_client_destroy(pc);
    moq_client_destroy(sc);
    unsetenv("MOQ_FFI_IDLE_TIMEOUT_MS");
    sink_destroy(&s);
    state_log_destroy(&plog);
    state_log_destroy(&slog);
}

/* Issue 15, item 3: a relay killed outright is noticed within the idle
 * timeout, 5 s by default (it was 30 s), or what MoqClientConfig says; the
 * reason says it was this side's idle timeout, not the peer closing. The
 * wait below only bounds the test; the assertions are on the reason and the
 * state. idle_ms 0: the defaults (no environment variable, no config). */
static void idle_detection(uint32_t idle_ms, const char* want_for) {
    relay r;
    CHECK(relay_start(&r, "127.0.0.1:0", NULL));
    if (!r.fp[0]) return;
    setenv("MOQ_FFI_PIN_SHA256", r.fp, 1);
    unsetenv("MOQ_FFI_IDLE_TIMEOUT_MS");
    state_log log;
    state_log_init(&log);
    MoqClient* c = moq_client_create();
    if (idle_ms) {
        MoqClientConfig cfg;
        moq_client_config_init(&cfg);
        cfg.idle_timeout_ms = idle_ms;
        CHECK_RESULT(moq_client_configure(c, &cfg), MOQ_OK);
    }
    CHECK_RESULT(moq_connect(c, r.url, on_state, &log), MOQ_OK);
    char ns[64];
    unique("idle", ns, sizeof ns);
    CHECK_RESULT(moq_announce_namespace(c, ns), MOQ_OK);
    MoqPublisher* p = moq_create_publisher(c, ns, "t");
    CHECK(p != NULL);
    relay_stop(&r, SIGKILL);
    CHECK(poll_until(is_down, c, T(25)));
    const char* why = moq_last_error();
    CHECK_MSG(why && strstr(why, "local idle timeout") && strstr(why, want_for) && !strstr(why, "peer,"),
              "reason: %s; want a local idle timeout %s", why ? why : "(null)", want_for);
    CHECK(moq_last_error_code() == MOQ_ERROR_NOT_CONNECTED);
    CHECK(waiter_wait(&log.w, 3, T(10)) == 3);
    CHECK_MSG(last_state_is(&log, MOQ_STATE_FAILED), "last state %d", state_at(&log, 2));
    MoqResult pr = moq_publish_data(p, (const uint8_t*)"x", 1, MOQ_DELIVERY_STREAM);
    CHECK(pr.code == MOQ_ERROR_NOT_CONNECTED);
    CHECK_MSG(pr.message && strstr(pr.message, "local idle timeout"), "publish: %s",
              pr.message ? pr.message : "(null)");
    moq_free_str(pr.message);
    moq_publisher_destroy(p);
    moq_client_destroy(c);
    state_log_destroy(&log);
}

TEST(relay_killed_default_idle_timeout) { idle_detection(0, "for 5s"); }
TEST(relay_killed_configured_idle_timeout) { idle_detection(2000, "for 2s"); }

TEST(relay_killed_mid_stream) { session_death(SIGKILL, MOQ_STATE_FAILED); }
TEST(relay_sends_goaway) { session_death(SIGTERM, MOQ_STATE_DISCONNECTED); }

int main(void) {
    signal(SIGPIPE, SIG_IGN);
    RUN(relay_killed_mid_stream);
    RUN(relay_killed_default_idle_timeout);
    RUN(relay_killed_configured_idle_timeout);
    RUN(relay_sends_goaway);
    return t_summary("test_kill");
}
