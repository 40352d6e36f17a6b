/*
 * errors.c - the one way out for errors: err_code -> HTTP status, and the
 * JSON error body {"error":{"code":"...","message":"..."}}.
 */
#include "http/http_int.h"

#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "util/err.h"
#include "util/banned.h"

static const int status_of[ERR__COUNT] = {
	[ERR_OK] = 200,
	[ERR_INVALID] = 400,
	[ERR_UNAUTHORIZED] = 401,
	[ERR_FORBIDDEN] = 403,
	[ERR_NOT_FOUND] = 404,
	[ERR_CONFLICT] = 409,
	[ERR_TOO_LARGE] = 413,
	[ERR_UNSUPPORTED] = 415,
	[ERR_UPSTREAM] = 502,
	[ERR_TIMEOUT] = 504,
	[ERR_UNAVAILABLE] = 503,
	[ERR_IO] = 500,
	[ERR_NOMEM] = 500,
	[ERR_INTERNAL] = 500,
};

int
http_status_of(enum err_code code)
{
	if ((unsigned)code >= ERR__COUNT || status_of[code] == 0)
		return 500;
	return status_of[code];
}

const char *
http_status_code_name(int status)
{
	static const struct {
		int status;
		const char *name;
	} extra[] = {
		{ 405, "method_not_allowed" },
		{ 408, "request_timeout" },
		{ 411, "length_required" },
		{ 414, "uri_too_long" },
		{ 416, "range_not_satisfiable" },
		{ 431, "headers_too_large" },
		{ 501, "not_implemented" },
		{ 505, "http_version_not_supported" },
	};
	size_t i;
	int c;

	for (i = 0; i < sizeof(extra) / sizeof(extra[0]); i++) {
		if (extra[i].status == status)
			return extra[i].name;
	}
	for (c = ERR_INVALID; c < ERR__COUNT; c++) {
		if (status_of[c] == status)
			return err_code_name((enum err_code)c);
	}
	return status >= 500 ? err_code_name(ERR_INTERNAL) : err_code_name(ERR_INVALID);
}

/* Length of the valid UTF-8 sequence at p (1..4), or 0 when it is not one. */
static size_t
utf8_seq(const unsigned char *p)
{
	size_t n, i;
	unsigned cp;

	if (p[0] < 0x80)
		return 1;
	if ((p[0] & 0xe0) == 0xc0) {
		n = 2;
		cp = p[0] & 0x1f;
	} else if ((p[0] & 0xf0) == 0xe0) {
		n = 3;
		cp = p[0] & 0x0f;
	} else if ((p[0] & 0xf8) == 0xf0) {
		n = 4;
		cp = p[0] & 0x07;
	} else {
		return 0;
	}
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

char *
http_error_body(const char *code, const char *message, size_t *len)
{
	char clean[ERR_MSG_MAX * 2];
	const unsigned char *p = (const unsigned char *)message;
	size_t o = 0, n;
	json_t *v;
	char *s;

	/* Messages may quote user input cut at a byte limit: replace what is not UTF-8. */
	while (*p != '\0' && o + 5 < sizeof(clean)) {
		n = utf8_seq(p);
		if (n == 0) {
			clean[o++] = '?';
			p++;
			continue;
		}
		memcpy(clean + o, p, n);
		o += n;
		p += n;
	}
	clean[o] = '\0';
	v = json_pack("{s:{s:s, s:s}}", "error", "code", code, "message", clean);
	s = v != NULL ? json_dumps(v, JSON_COMPACT) : NULL;
	json_decref(v);
	if (s == NULL) {
		/* The message was not valid UTF-8 or memory ran out: still answer in shape. */
		s = strdup("{\"error\":{\"code\":\"internal\",\"message\":\"the error could not be encoded\"}}");
	}
	if (s != NULL && len != NULL)
		*len = strlen(s);
	return s;
}
