/*
 * err.h - the one error type of skewd.
 *
 * A `struct err` lives on the caller's stack and is passed as the last
 * argument of anything that can fail. Functions return 0 on success and -1
 * on failure with the error filled in. `e` may be NULL when the caller does
 * not care why. Messages follow git's rules: lower case, no trailing period,
 * say what failed first, quote the subject, no newline, and never contain a
 * secret value.
 */
#ifndef SKEWD_UTIL_ERR_H
#define SKEWD_UTIL_ERR_H

#include <stddef.h>

enum err_code {
	ERR_OK = 0,
	ERR_INVALID,      /* bad input from a user, a file or a request: 400 */
	ERR_UNAUTHORIZED, /* no or bad credentials: 401 */
	ERR_FORBIDDEN,    /* authenticated but not allowed: 403 */
	ERR_NOT_FOUND,    /* 404 */
	ERR_CONFLICT,     /* exists already, or state does not allow it: 409 */
	ERR_TOO_LARGE,    /* over a named limit: 413 */
	ERR_UNSUPPORTED,  /* valid but not something skewd does: 415/422 */
	ERR_UPSTREAM,     /* a cluster or other upstream failed: 502 */
	ERR_TIMEOUT,      /* an upstream or a lock took too long: 504 */
	ERR_UNAVAILABLE,  /* skewd itself cannot serve now: 503 */
	ERR_IO,           /* a file or the database failed: 500 */
	ERR_NOMEM,        /* 500 */
	ERR_INTERNAL,     /* a bug: 500 */
	ERR__COUNT
};

#define ERR_MSG_MAX 512

struct err {
	enum err_code code;
	char msg[ERR_MSG_MAX];
};

#define ERR_INIT { ERR_OK, { 0 } }

/* Sets code and message; always returns -1 so callers can `return err_set(...)`. */
int err_set(struct err *e, enum err_code code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prefixes the existing message with context: "loading 'x': <old msg>". Returns -1. */
int err_prefix(struct err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Resets to ERR_OK with an empty message. NULL-safe. */
void err_clear(struct err *e);

/* Stable machine name of a code, e.g. "invalid_argument"; used in JSON errors. */
const char *err_code_name(enum err_code code);

#endif
