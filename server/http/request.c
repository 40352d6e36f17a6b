/*
 * request.c - the pure checks of a request before any handler runs: the path
 * decoder, the dashboard file name, the client's request id and the nesting
 * depth of a JSON body. No CivetWeb here, so tests/unit/test_http.c and
 * tests/fuzz/fuzz_router.c call them on any bytes.
 */
#include "http/http.h"
#include "http/http_int.h"

#include <stdio.h>
#include <string.h>

#include "util/limits.h"
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

/* See http.h. CivetWeb's decode_url is off: it would turn %00 into an early
 * end of string and %2f into a separator. */
int
http_path_decode(const char *raw, char *out, size_t outsz)
{
	size_t i = 0, o = 0;
	const char *seg;

	while (raw[i] != '\0') {
		unsigned char c = (unsigned char)raw[i];

		if (o + 1 >= outsz)
			return -1;
		if (c == '%') {
			int hi, lo;

			hi = raw[i + 1] == '\0' ? -1 : hexval(raw[i + 1]);
			lo = hi < 0 || raw[i + 2] == '\0' ? -1 : hexval(raw[i + 2]);
			if (hi < 0 || lo < 0)
				return -1;
			c = (unsigned char)(hi * 16 + lo);
			if (c == '\0' || c == '/' || c == '\\')
				return -2;
			i += 3;
		} else {
			i++;
		}
		out[o++] = (char)c;
	}
	out[o] = '\0';
	/* Each segment; never looks past the NUL (an empty path has one empty segment). */
	for (seg = out;;) {
		size_t n;

		if (*seg == '/')
			seg++;
		n = strcspn(seg, "/");
		if ((n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.'))
			return -2;
		if (seg[n] == '\0')
			break;
		seg += n;
	}
	return 0;
}

int
http_static_path(const char *path, char *out, size_t outsz)
{
	const char *p, *seg;
	size_t n, o = 0;

	if (path == NULL || path[0] != '/' || outsz == 0)
		return -1;
	p = path + 1;
	if (*p == '\0')
		return snprintf(out, outsz, "index.html") < (int)outsz ? 0 : -1;
	while (*p != '\0') {
		seg = p;
		n = strcspn(seg, "/");
		/* Empty segments ("//"), and names starting with '.', which covers
		 * "." and ".." as well as hidden files. */
		if (n == 0 || seg[0] == '.')
			return -1;
		for (size_t i = 0; i < n; i++) {
			unsigned char c = (unsigned char)seg[i];

			/* A '%' left after decoding was double-encoded; a backslash is
			 * a separator elsewhere; control bytes are never file names. */
			if (c < 0x20 || c == 0x7f || c == '\\' || c == '%' || c == ':')
				return -1;
		}
		if (o + n + 2 > outsz)
			return -1;
		memcpy(out + o, seg, n);
		o += n;
		p += n;
		if (*p == '/') {
			p++;
			out[o++] = '/';
			if (*p == '\0') {
				/* A folder: its index.html. */
				if (o + sizeof("index.html") > outsz)
					return -1;
				memcpy(out + o, "index.html", sizeof("index.html"));
				return 0;
			}
		}
	}
	out[o] = '\0';
	return 0;
}

/* See http_int.h. */
int
http_request_id_sane(const char *s)
{
	size_t n = 0;

	for (; s[n] != '\0'; n++) {
		unsigned char c = (unsigned char)s[n];

		if (n >= HTTP_MAX_REQUEST_ID)
			return 0;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.' || c == ':'))
			return 0;
	}
	return n > 0;
}

/* See http_int.h. */
int
http_json_depth_ok(const char *p, size_t n, int max)
{
	int depth = 0, in_string = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		char c = p[i];

		if (in_string) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_string = 0;
		} else if (c == '"') {
			in_string = 1;
		} else if (c == '[' || c == '{') {
			if (++depth > max)
				return 0;
		} else if (c == ']' || c == '}') {
			depth--;
		}
	}
	return 1;
}
