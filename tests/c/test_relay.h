/* Runs `moq relay` (MOQ_TEST_RELAY_BIN) as a child process for the tests
 * that kill or restart it. */
#ifndef MOQ_TEST_RELAY_H
#define MOQ_TEST_RELAY_H

#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

typedef struct {
    pid_t pid;
    FILE* out;      /* kept open until the relay exits: it prints on shutdown */
    char addr[100]; /* HOST:PORT */
    char fp[80];    /* the certificate's SHA-256 fingerprint */
    char url[128];  /* https://HOST:PORT/ */
} relay;

/* Starts `moq relay --listen LISTEN [EXTRA]` and reads its address and
 * fingerprint from its stdout; 0 on failure. */
static inline int relay_start(relay* r, const char* listen, const char* extra) {
    memset(r, 0, sizeof *r);
    const char* bin = getenv("MOQ_TEST_RELAY_BIN");
    if (!bin) {
        fprintf(stderr, "MOQ_TEST_RELAY_BIN is not set\n");
        return 0;
    }
    int fds[2];
    if (pipe(fds) != 0) return 0;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    char* argv[] = {(char*)bin, (char*)"relay", (char*)"--listen", (char*)listen, (char*)extra, NULL};
    int rc = posix_spawn(&r->pid, bin, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    if (rc != 0) {
        close(fds[0]);
        return 0;
    }
    FILE* f = fdopen(fds[0], "r");
    char line[512];
    while (fgets(line, sizeof line, f)) {
        sscanf(line, "moq relay listening on %99s", r->addr);
        char* p = strstr(line, "fingerprint: ");
        if (p) {
            sscanf(p + 13, "%79s", r->fp);
            break;
        }
    }
    r->out = f;
    snprintf(r->url, sizeof r->url, "https://%s/", r->addr);
    return r->addr[0] && r->fp[0];
}

/* Sends sig to the relay, waits for it and returns its wait status. */
static inline int relay_stop(relay* r, int sig) {
    kill(r->pid, sig);
    int st = 0;
    waitpid(r->pid, &st, 0);
    fclose(r->out);
    return st;
}

#endif
