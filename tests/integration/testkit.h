/*
 * testkit.h - helpers for the integration tests: run the real skewd binary
 * ($SKEWD_BIN) with a temporary data dir and config on a free port, talk
 * HTTP to it with libcurl (or a raw socket for requests curl would not
 * send), and run its CLI against the same data dir.
 *
 * Everything here is for tests: on an unexpected failure the helpers print
 * why to stderr and return -1 (or NULL), and the test asserts on that.
 */
#ifndef SKEWD_TESTKIT_H
#define SKEWD_TESTKIT_H

#include <stddef.h>
#include <sys/types.h>
#include <jansson.h>

struct tk_server {
	pid_t pid;
	char dir[256];          /* temporary folder: config.yaml, data/, stdout, stderr */
	char config[320];       /* dir/config.yaml */
	char stderr_path[320];  /* the server's stderr: log lines and the access log */
	char url[128];          /* "http://127.0.0.1:PORT" */
	int exit_status;        /* after tk_stop(): the exit code, or -1 for a signal */
};

/* Creates the temp folder and writes config.yaml: listen on 127.0.0.1:0,
 * data_dir inside the folder, then `extra_yaml` (may be NULL) appended. */
int tk_prepare(struct tk_server *s, const char *extra_yaml);

/* Starts `skewd serve --config dir/config.yaml` (after tk_prepare), waits for
 * its "listening on URL" line and a 200 from /healthz. Returns 0 or -1. */
int tk_launch(struct tk_server *s);

/* tk_prepare + tk_launch. */
int tk_start(struct tk_server *s, const char *extra_yaml);

/* Sends SIGTERM, waits (killing after 10 s) and records exit_status.
 * Returns 0 when it exited with status 0 and its stderr holds no sanitizer
 * report (ASan, LSan, TSan, UBSan). Leaves the folder. */
int tk_stop(struct tk_server *s);

/* Removes the temporary folder. NULL-safe on an unused struct. */
void tk_cleanup(struct tk_server *s);

/* Runs $SKEWD_BIN with argv (argv[0] is the first argument after the binary,
 * NULL-terminated); collects stdout and stderr (caller frees; either may be
 * NULL). Returns the exit code, or -1 when it did not exit normally. */
int tk_run(const char *const argv[], char **out, char **err);

/* Creates a token through `skewd token create` on the server's config.
 * Returns the token (caller frees) or NULL. */
char *tk_token(const struct tk_server *s, const char *name, const char *role);

struct tk_resp {
	long status;
	char *body;             /* NUL-terminated */
	size_t len;
	char *headers;          /* the raw header block */
	json_t *json;           /* the body parsed as JSON, or NULL */
};

#define TK_CHUNKED  0x1u    /* send the body with Transfer-Encoding: chunked */
#define TK_RAW_PATH 0x2u    /* send the path exactly as given (no dot-segment removal) */

/* One request. `headers` is a NULL-terminated list of "Name: value" lines
 * (may be NULL); `token` adds "Authorization: Bearer <token>" when not NULL.
 * Returns 0 with *r filled (free with tk_resp_free), or -1. */
int tk_request(const struct tk_server *s, const char *method, const char *path,
    const char *token, const char *const headers[], const char *body, size_t len,
    unsigned flags, struct tk_resp *r);

/* The value of a response header (case-insensitive), copied into out;
 * returns out, or NULL when absent. */
const char *tk_header(const struct tk_resp *r, const char *name, char *out, size_t outsz);

void tk_resp_free(struct tk_resp *r);

/* The "error.code" of a JSON error body, or NULL. Borrowed from r->json. */
const char *tk_error_code(const struct tk_resp *r);

/* Sends raw bytes to the server and reads until the server closes or
 * `timeout_ms` passes. Returns the response (caller frees) or NULL. */
char *tk_raw(const struct tk_server *s, const char *req, size_t len, int timeout_ms);

/* The whole file (caller frees), or NULL. */
char *tk_read_file(const char *path, size_t *len);

#endif
