/*
 * static.c - the dashboard: files from the web folder, served at "/".
 *
 * CivetWeb's own file serving is not used (no document_root is set, so its
 * directory listing, CGI and SSI can never run). A request path is checked
 * segment by segment before it touches the file system, the file is opened
 * without following a final symlink, and its real path must still be inside
 * the web folder. Anything else is 404.
 */
#include "http/http.h"
#include "http/http_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/err.h"
#include "util/limits.h"
#include "util/banned.h"

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

static const char *
content_type(const char *rel)
{
	static const struct {
		const char *ext;
		const char *type;
	} types[] = {
		{ ".html", "text/html; charset=utf-8" },
		{ ".css", "text/css; charset=utf-8" },
		{ ".js", "text/javascript; charset=utf-8" },
		{ ".mjs", "text/javascript; charset=utf-8" },
		{ ".json", "application/json" },
		{ ".svg", "image/svg+xml" },
		{ ".png", "image/png" },
		{ ".ico", "image/x-icon" },
		{ ".woff2", "font/woff2" },
		{ ".txt", "text/plain; charset=utf-8" },
		{ ".map", "application/json" },
	};
	const char *dot = strrchr(rel, '.');
	size_t i;

	if (dot != NULL && strchr(dot, '/') == NULL) {
		for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
			if (strcmp(dot, types[i].ext) == 0)
				return types[i].type;
		}
	}
	return "application/octet-stream";
}

int
http_static_read(const char *web_dir, const char *rel, struct buf *out,
    const char **ctype, struct err *e)
{
	char full[PATH_MAX], real[PATH_MAX], chunk[4096];
	size_t dlen = strlen(web_dir);
	struct stat st;
	ssize_t r;
	int fd = -1, ret = -1;

	if ((size_t)snprintf(full, sizeof(full), "%s/%s", web_dir, rel) >= sizeof(full)) {
		err_set(e, ERR_NOT_FOUND, "no such file");
		goto out;
	}
	fd = open(full, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP || errno == EACCES)
			err_set(e, ERR_NOT_FOUND, "no such file");
		else
			err_set(e, ERR_IO, "cannot open a dashboard file: %s", strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		err_set(e, ERR_NOT_FOUND, "no such file");
		goto out;
	}
	/* A symlinked folder on the way could lead outside: check where we are. */
	if (realpath(full, real) == NULL || strncmp(real, web_dir, dlen) != 0 || real[dlen] != '/') {
		err_set(e, ERR_NOT_FOUND, "no such file");
		goto out;
	}
	if (st.st_size > HTTP_MAX_STATIC_BYTES) {
		err_set(e, ERR_TOO_LARGE, "the dashboard file is larger than %d bytes", HTTP_MAX_STATIC_BYTES);
		goto out;
	}
	buf_reset(out);
	for (;;) {
		r = read(fd, chunk, sizeof(chunk));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err_set(e, ERR_IO, "cannot read a dashboard file: %s", strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		if (buf_add(out, chunk, (size_t)r, e) < 0)
			goto out;
	}
	*ctype = content_type(rel);
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	return ret;
}
