/*
 * doc.c - document sets: loading files and memory, picking the format.
 */
#include "doc/doc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "doc/doc_int.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/limits.h"
#include "util/banned.h"

/* Bytes read from a file per read(2). */
#define DOC_READ_CHUNK (64 * 1024)

struct doc_set {
	json_t *docs; /* array of the documents */
};

/* DOC_AUTO: JSON when the first byte that is not blank is '{' or '['. */
static int
looks_like_json(const char *p, size_t n)
{
	size_t k = 0;

	if (n >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
		return 0; /* a BOM: jansson refuses it, YAML takes it */
	while (k < n && (p[k] == ' ' || p[k] == '\t' || p[k] == '\r' || p[k] == '\n'))
		k++;
	return k < n && (p[k] == '{' || p[k] == '[');
}

int
doc_load_mem(const char *name, const void *data, size_t len, enum doc_format fmt,
    struct doc_set **out, struct err *e)
{
	struct doc_set *d = NULL;
	json_t *docs = NULL;
	int ret = -1;

	*out = NULL;
	if (name == NULL)
		name = "<input>";
	if (len > DOC_MAX_BYTES) {
		err_set(e, ERR_TOO_LARGE, "%s: %zu bytes is larger than the limit of %d bytes",
		    name, len, DOC_MAX_BYTES);
		goto out;
	}
	if (data == NULL)
		data = "";
	docs = json_array();
	d = calloc(1, sizeof(*d));
	if (docs == NULL || d == NULL) {
		err_set(e, ERR_NOMEM, "%s: out of memory", name);
		goto out;
	}
	if (fmt == DOC_AUTO)
		fmt = looks_like_json(data, len) ? DOC_JSON : DOC_YAML;
	if (fmt == DOC_JSON) {
		/* Like kubectl's YAML-or-JSON decoder, text that looks like JSON is read
		 * as JSON only: flow-style YAML starting with '{' gets the JSON error. */
		if (doc_json_load(name, data, len, docs, e) < 0)
			goto out;
	} else if (doc_yaml_load(name, data, len, docs, e) < 0) {
		goto out;
	}
	d->docs = docs;
	docs = NULL;
	*out = d;
	d = NULL;
	ret = 0;
out:
	json_decref(docs);
	free(d);
	return ret;
}

/* Reads fd to its end into b. The chunk is on the heap: CivetWeb's worker threads
 * have 100 KiB stacks in Debian's build, and this may run on one. */
static int
read_all(int fd, const char *path, struct buf *b, struct err *e)
{
	char *chunk;
	ssize_t n;
	int ret = -1;

	chunk = malloc(DOC_READ_CHUNK);
	if (chunk == NULL)
		return err_set(e, ERR_NOMEM, "out of memory reading '%s'", path);
	for (;;) {
		n = read(fd, chunk, DOC_READ_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err_set(e, ERR_IO, "cannot read '%s': %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		if (buf_add(b, chunk, (size_t)n, e) < 0) {
			if (e != NULL && e->code == ERR_TOO_LARGE)
				err_set(e, ERR_TOO_LARGE, "'%s' is larger than the limit of %d bytes",
				    path, DOC_MAX_BYTES);
			goto out;
		}
	}
	ret = 0;
out:
	free(chunk);
	return ret;
}

int
doc_load_file(const char *path, enum doc_format fmt, struct doc_set **out, struct err *e)
{
	struct buf b = BUF_INIT(DOC_MAX_BYTES);
	struct stat st;
	int fd = -1, ret = -1;

	*out = NULL;
	if (strcmp(path, "-") == 0) {
		fd = STDIN_FILENO;
	} else {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			err_set(e, errno == ENOENT ? ERR_NOT_FOUND : ERR_IO, "cannot open '%s': %s",
			    path, strerror(errno));
			goto out;
		}
		if (fstat(fd, &st) < 0) {
			err_set(e, ERR_IO, "cannot stat '%s': %s", path, strerror(errno));
			goto out;
		}
		if (S_ISDIR(st.st_mode)) {
			err_set(e, ERR_INVALID, "'%s' is a directory", path);
			goto out;
		}
		if (S_ISREG(st.st_mode) && st.st_size > DOC_MAX_BYTES) {
			err_set(e, ERR_TOO_LARGE, "'%s' is larger than the limit of %d bytes",
			    path, DOC_MAX_BYTES);
			goto out;
		}
	}
	if (read_all(fd, path, &b, e) < 0)
		goto out;
	ret = doc_load_mem(strcmp(path, "-") == 0 ? "<stdin>" : path, buf_str(&b), buf_len(&b),
	    fmt, out, e);
out:
	if (fd > STDIN_FILENO)
		close(fd);
	buf_release(&b);
	return ret;
}

void
doc_set_free(struct doc_set *d)
{
	if (d == NULL)
		return;
	json_decref(d->docs);
	free(d);
}

size_t
doc_set_count(const struct doc_set *d)
{
	return d != NULL ? json_array_size(d->docs) : 0;
}

json_t *
doc_set_get(const struct doc_set *d, size_t i)
{
	return d != NULL ? json_array_get(d->docs, i) : NULL;
}
