/* A relay started with `moq relay --jwt-key FILE --jwt-alg HS256`: the
 * client's token (MOQ_FFI_AUTH_TOKEN, or MoqClientConfig.auth_token, which
 * takes precedence) travels as the draft-14 AUTHORIZATION TOKEN. Without a
 * token, or with an expired one, the session is refused; with a valid one,
 * announces inside the token's "publish" prefix (cjwt) and a pub/sub round
 * trip work over both transports, and an announce outside it is refused.
 * MOQ_TEST_ADDR is the relay's HOST:PORT, MOQ_TEST_JWT a valid token,
 * MOQ_TEST_JWT_EXPIRED an expired one, MOQ_FFI_PIN_SHA256 the relay's
 * fingerprint. */
#include "test_net.h"

static const char* addr;
static const char* jwt_ok;
static const char* jwt_expired;

/* A fresh namespace under the tokens' prefix "cjwt". */
static void jwt_namespace(char* ns, size_t n) {
    char u[64];
    unique("t", u, sizeof u);
    snprintf(ns, n, "cjwt/%s", u);
}

TEST(refused_without_or_with_expired_token) {
    char url[256];
    snprintf(url, sizeof url, "moqt://%s/", addr);
    unsetenv("MOQ_FFI_AUTH_TOKEN");
    expect_refused(moq_client_create(), url);
    setenv("MOQ_FFI_AUTH_TOKEN", jwt_expired, 1);
    expect_refused(moq_client_create(), url);
    unsetenv("MOQ_FFI_AUTH_TOKEN");
}

TEST(served_with_env_token) {
    const char* schemes[] = {"moqt", "https"};
    setenv("MOQ_FFI_AUTH_TOKEN", jwt_ok, 1);
    for (int i = 0; i < 2; i++) {
        char url[256], ns[96];
        snprintf(url, sizeof url, "%s://%s/moq", schemes[i], addr);
        jwt_namespace(ns, sizeof ns);
        MoqClient* pc = connect_client(url, NULL);
        MoqClient* sc = connect_client(url, NULL);
        CHECK(pc && sc);
        if (pc && sc) {
            CHECK_RESULT(moq_announce_namespace(pc, ns), MOQ_OK);
            MoqResult r = moq_announce_namespace(pc, "elsewhere/x");
            CHECK_MSG(r.code != MOQ_OK, "an announce outside the token's prefix succeeded");
            moq_free_str(r.message);
            MoqPublisher* p = moq_create_publisher(pc, ns, "t");
            sink s;
            sink_init(&s);
            MoqSubscriber* sub = moq_subscribe(sc, ns, "t", on_data, &s);
            CHECK(p && sub);
            CHECK(p && sub && await_live(p, &s, MOQ_DELIVERY_STREAM, T(10)));
            moq_subscriber_destroy(sub);
            moq_publisher_destroy(p);
            sink_destroy(&s);
        }
        moq_client_destroy(pc);
        moq_client_destroy(sc);
    }
    unsetenv("MOQ_FFI_AUTH_TOKEN");
}

TEST(config_token_wins_over_env) {
    char url[256], ns[96];
    snprintf(url, sizeof url, "https://%s/moq", addr);
    setenv("MOQ_FFI_AUTH_TOKEN", jwt_expired, 1);
    MoqClientConfig cfg;
    moq_client_config_init(&cfg);
    CHECK(cfg.struct_size == sizeof cfg && cfg.auth_token == NULL);
    cfg.auth_token = jwt_ok;
    MoqClient* c = moq_client_create();
    CHECK_RESULT(moq_client_configure(c, &cfg), MOQ_OK);
    state_log log;
    state_log_init(&log);
    CHECK_RESULT(moq_connect(c, url, on_state, &log), MOQ_OK);
    jwt_namespace(ns, sizeof ns);
    CHECK_RESULT(moq_announce_namespace(c, ns), MOQ_OK);
    moq_client_destroy(c);
    state_log_destroy(&log);

    /* The config's token replaces a valid environment token too. */
    setenv("MOQ_FFI_AUTH_TOKEN", jwt_ok, 1);
    cfg.auth_token = jwt_expired;
    c = moq_client_create();
    CHECK_RESULT(moq_client_configure(c, &cfg), MOQ_OK);
    expect_refused(c, url);
    unsetenv("MOQ_FFI_AUTH_TOKEN");
}

TEST(config_sizes) {
    /* A 0.3-sized config: auth_token is not read (nor written by init). */
    MoqClientConfig cfg;
    memset(&cfg, 0xAB, sizeof cfg);
    moq_client_config_init_sized(&cfg, offsetof(MoqClientConfig, auth_token));
    CHECK(cfg.struct_size == offsetof(MoqClientConfig, auth_token));
    unsigned char* tail = (unsigned char*)&cfg + offsetof(MoqClientConfig, auth_token);
    CHECK(tail[0] == 0xAB && tail[sizeof(const char*) - 1] == 0xAB);
    cfg.auth_token = "ignored";
    MoqClient* c = moq_client_create();
    CHECK_RESULT(moq_client_configure(c, &cfg), MOQ_OK);
    moq_client_destroy(c);
    /* Too small: untouched, with an error. */
    memset(&cfg, 0xAB, sizeof cfg);
    moq_client_config_init_sized(&cfg, 8);
    CHECK(cfg.struct_size == 0xABABABABu);
    CHECK(strstr(moq_last_error(), "smaller") != NULL);
    /* An oversized token is refused at connect. */
    size_t n = 16385;
    char* big = malloc(n + 1);
    memset(big, 'x', n);
    big[n] = 0;
    moq_client_config_init(&cfg);
    cfg.auth_token = big;
    c = moq_client_create();
    MoqResult r = moq_client_configure(c, &cfg);
    CHECK_MSG(r.code == MOQ_ERROR_INVALID_ARGUMENT, "a %zu-byte token: code %d", n, (int)r.code);
    moq_free_str(r.message);
    moq_client_destroy(c);
    free(big);
}

int main(void) {
    addr = getenv("MOQ_TEST_ADDR");
    jwt_ok = getenv("MOQ_TEST_JWT");
    jwt_expired = getenv("MOQ_TEST_JWT_EXPIRED");
    if (!addr || !jwt_ok || !jwt_expired) {
        fprintf(stderr, "MOQ_TEST_ADDR, MOQ_TEST_JWT and MOQ_TEST_JWT_EXPIRED must be set\n");
        return 2;
    }
    RUN(refused_without_or_with_expired_token);
    RUN(served_with_env_token);
    RUN(config_token_wins_over_env);
    RUN(config_sizes);
    return t_summary("test_jwt");
}
