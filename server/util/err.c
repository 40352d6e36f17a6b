#include "util/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "util/banned.h"

int
err_set(struct err *e, enum err_code code, const char *fmt, ...)
{
	va_list ap;

	if (e == NULL)
		return -1;
	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return -1;
}

int
err_prefix(struct err *e, const char *fmt, ...)
{
	char head[ERR_MSG_MAX], joined[2 * ERR_MSG_MAX + 2];
	va_list ap;

	if (e == NULL)
		return -1;
	va_start(ap, fmt);
	vsnprintf(head, sizeof(head), fmt, ap);
	va_end(ap);
	if (e->msg[0] != '\0')
		snprintf(joined, sizeof(joined), "%s: %s", head, e->msg);
	else
		snprintf(joined, sizeof(joined), "%s", head);
	snprintf(e->msg, sizeof(e->msg), "%.*s", (int)sizeof(e->msg) - 1, joined);
	if (e->code == ERR_OK)
		e->code = ERR_INTERNAL;
	return -1;
}

void
err_clear(struct err *e)
{
	if (e == NULL)
		return;
	e->code = ERR_OK;
	e->msg[0] = '\0';
}

const char *
err_code_name(enum err_code code)
{
	static const char *const names[ERR__COUNT] = {
		[ERR_OK] = "ok",
		[ERR_INVALID] = "invalid_argument",
		[ERR_UNAUTHORIZED] = "unauthorized",
		[ERR_FORBIDDEN] = "forbidden",
		[ERR_NOT_FOUND] = "not_found",
		[ERR_CONFLICT] = "conflict",
		[ERR_TOO_LARGE] = "too_large",
		[ERR_UNSUPPORTED] = "unsupported",
		[ERR_UPSTREAM] = "upstream_error",
		[ERR_TIMEOUT] = "timeout",
		[ERR_UNAVAILABLE] = "unavailable",
		[ERR_IO] = "io_error",
		[ERR_NOMEM] = "out_of_memory",
		[ERR_INTERNAL] = "internal",
	};

	if ((unsigned)code >= ERR__COUNT)
		return "internal";
	return names[code];
}
