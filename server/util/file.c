#include "util/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/err.h"
#include "util/banned.h"

#define FILE_READ_CHUNK 65536

int
file_read_all(const char *path, size_t max, char **out, size_t *len, struct err *e)
{
	struct buf b = BUF_INIT(max);
	struct stat st;
	char *chunk = NULL;
	ssize_t n;
	int fd, ret = -1;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set(e, errno == ENOENT ? ERR_NOT_FOUND : ERR_IO, "cannot open '%s': %s", path,
		    strerror(errno));
	if (fstat(fd, &st) < 0) {
		err_set(e, ERR_IO, "cannot stat '%s': %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		err_set(e, ERR_INVALID, "'%s' is not a regular file", path);
		goto out;
	}
	if ((size_t)st.st_size > max) {
		err_set(e, ERR_TOO_LARGE, "'%s' is larger than the limit of %zu bytes", path, max);
		goto out;
	}
	chunk = malloc(FILE_READ_CHUNK);
	if (chunk == NULL) {
		err_set(e, ERR_NOMEM, "out of memory reading '%s'", path);
		goto out;
	}
	for (;;) {
		n = read(fd, chunk, FILE_READ_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err_set(e, ERR_IO, "cannot read '%s': %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		if (buf_add(&b, chunk, (size_t)n, e) < 0) {
			err_prefix(e, "reading '%s'", path);
			goto out;
		}
	}
	*out = buf_take(&b, len);
	if (*out == NULL) {
		err_set(e, ERR_NOMEM, "out of memory reading '%s'", path);
		goto out;
	}
	ret = 0;
out:
	free(chunk);
	buf_release(&b);
	close(fd);
	return ret;
}
