/*
 * query.c - query-string parameters of a request (api_query_get,
 * api_query_int). Pure: no store, no connection, so tests/fuzz/fuzz_router.c
 * runs them on any bytes.
 */
#include "api/api.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"
#include "util/banned.h"

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
api_query_get(const struct api_req *rq, const char *name, char *out, size_t outsz, struct err *e)
{
	const char *p = rq->query;
	size_t nlen = strlen(name);

	while (p != NULL && *p != '\0') {
		size_t len = strcspn(p, "&");

		if (len > nlen && strncmp(p, name, nlen) == 0 && p[nlen] == '=') {
			size_t i, o = 0;

			for (i = nlen + 1; i < len; i++) {
				char ch = p[i];

				if (ch == '+') {
					ch = ' ';
				} else if (ch == '%') {
					int hi = i + 2 < len ? hexval(p[i + 1]) : -1;
					int lo = i + 2 < len ? hexval(p[i + 2]) : -1;

					if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
						return err_set(e, ERR_INVALID,
						    "query parameter '%s' has a malformed %%-escape", name);
					ch = (char)(hi * 16 + lo);
					i += 2;
				}
				if (o + 1 >= outsz)
					return err_set(e, ERR_INVALID, "query parameter '%s' is too long", name);
				out[o++] = ch;
			}
			out[o] = '\0';
			return 1;
		}
		p += len;
		if (*p == '&')
			p++;
	}
	return 0;
}

int
api_query_int(const struct api_req *rq, const char *name, long long min, long long max,
    long long *out, struct err *e)
{
	char buf[32], *end;
	long long v;
	int r = api_query_get(rq, name, buf, sizeof(buf), e);

	if (r <= 0)
		return r;
	errno = 0;
	v = strtoll(buf, &end, 10);
	if (buf[0] == '\0' || *end != '\0' || errno != 0 || v < min || v > max)
		return err_set(e, ERR_INVALID, "query parameter '%s' must be a number from %lld to %lld",
		    name, min, max);
	*out = v;
	return 1;
}
