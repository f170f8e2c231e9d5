/* A relay started with `moq relay --token-file`: the old header reaches it
 * by putting the token in the URL's query. Without the token, moq_connect
 * fails with CONNECTION_FAILED or the session ends at once (FAILED); with
 * it, announce and a pub/sub round trip work, over both transports.
 * MOQ_TEST_ADDR is the relay's HOST:PORT, MOQ_TEST_TOKEN the token,
 * MOQ_FFI_PIN_SHA256 its fingerprint. */
#include "test_net.h"

static const char* addr;
static const char* token;

TEST(refused_without_token) {
    const char* queries[] = {"", "?token=wrong"};
    for (int q = 0; q < 2; q++) {
        char url[256];
        snprintf(url, sizeof url, "moqt://%s/%s", addr, queries[q]);
        expect_refused(moq_client_create(), url);
    }
}

TEST(served_with_token) {
    const char* schemes[] = {"moqt", "https"};
    for (int i = 0; i < 2; i++) {
        char url[256], ns[64];
        snprintf(url, sizeof url, "%s://%s/moq?token=%s", schemes[i], addr, token);
        unique("token", ns, sizeof ns);
        MoqClient* pc = connect_client(url, NULL);
        MoqClient* sc = connect_client(url, NULL);
        CHECK(pc && sc);
        if (pc && sc) {
            CHECK_RESULT(moq_announce_namespace(pc, ns), MOQ_OK);
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
}

int main(void) {
    addr = getenv("MOQ_TEST_ADDR");
    token = getenv("MOQ_TEST_TOKEN");
    if (!addr || !token) {
        fprintf(stderr, "MOQ_TEST_ADDR and MOQ_TEST_TOKEN must be set\n");
        return 2;
    }
    RUN(refused_without_token);
    RUN(served_with_token);
    return t_summary("test_token");
}
