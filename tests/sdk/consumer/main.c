/* SDK consumer: a small program built against the unpacked SDK (CMake or
 * pkg-config, shared or static) by tests/sdk/test.sh. It needs no network:
 * it checks the version, creates and destroys a client, and exercises the
 * error reporting (MoqResult.message and the per-thread moq_last_error).
 * Prints one line per check and "consumer: OK" at the end; exits 1 on the
 * first failed check. */
#include <stdio.h>
#include <string.h>

#include <moq_ffi.h>

static int failed;

static void check(int ok, const char* what) {
    printf("%s: %s\n", ok ? "ok" : "FAIL", what);
    if (!ok) failed = 1;
}

int main(void) {
    check(moq_init(), "moq_init returns true");

    const char* v = moq_version();
    check(v != NULL && strncmp(v, "moq_ffi ", 8) == 0, "moq_version names the library");
    printf("version: %s\n", v ? v : "(null)");

    MoqClient* c = moq_client_create();
    check(c != NULL, "moq_client_create returns a client");
    check(!moq_is_connected(c), "a new client is not connected");

    /* Error path, no network: an unsupported URL scheme is refused at once. */
    MoqResult r = moq_connect(c, "ftp://127.0.0.1/", NULL, NULL);
    check(r.code == MOQ_ERROR_INVALID_ARGUMENT, "moq_connect(ftp://) fails with MOQ_ERROR_INVALID_ARGUMENT");
    check(r.message != NULL && r.message[0] != '\0', "the failed result carries a message");
    const char* le = moq_last_error();
    check(le != NULL && le[0] != '\0', "moq_last_error describes the failure");
    printf("error: %s\n", le ? le : "(null)");
    moq_free_str(r.message);

    /* A bad handle fails with NULL and sets the error... */
    check(moq_create_publisher(NULL, "a/b", "t") == NULL, "moq_create_publisher(NULL client) returns NULL");
    check(moq_last_error() != NULL, "moq_last_error is set after it");

    /* ...and a successful call clears it. */
    r = moq_disconnect(c);
    check(r.code == MOQ_OK && r.message == NULL, "moq_disconnect on a disconnected client is MOQ_OK");
    check(moq_last_error() == NULL, "moq_last_error is cleared by a successful call");

    moq_client_destroy(c);
    moq_client_destroy(c); /* harmless twice */
    r = moq_disconnect(c);
    check(r.code == MOQ_ERROR_INVALID_ARGUMENT, "a destroyed client is refused");
    moq_free_str(r.message);

    printf("consumer: %s\n", failed ? "FAILED" : "OK");
    return failed;
}
