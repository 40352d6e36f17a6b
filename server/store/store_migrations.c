/*
 * store_migrations.c - the migration files: found (compiled in, or in a
 * folder), named NNNN_name.sql, sorted, checksummed. Applying them is the
 * backend's job (store_sqlite.c).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/store_int.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/banned.h"

/* Parses "NNNN_name.sql": four or more digits, '_', [a-z0-9_]+, ".sql".
 * Returns the version, or -1 when the name does not fit. */
static int
parse_file_name(const char *file, char name[128])
{
	size_t len = strlen(file), i, digits = 0;
	int version = 0;

	if (len < 10 || len >= 128 || strcmp(file + len - 4, ".sql") != 0)
		return -1;
	for (i = 0; file[i] >= '0' && file[i] <= '9'; i++) {
		if (version > 99999)
			return -1;
		version = version * 10 + (file[i] - '0');
		digits++;
	}
	if (digits < 4 || file[i] != '_' || i + 1 == len - 4 || version == 0)
		return -1;
	for (i++; i < len - 4; i++) {
		char c = file[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
			return -1;
	}
	memcpy(name, file, len - 4);
	name[len - 4] = '\0';
	return version;
}

static int
cmp_mig(const void *a, const void *b)
{
	const struct store_mig *x = a, *y = b;

	return (x->version > y->version) - (x->version < y->version);
}

/* Fills m from a file name and its bytes (copied). */
static int
mig_fill(struct store_mig *m, const char *file, const char *where, const void *sql, size_t len,
    struct err *e)
{
	m->version = parse_file_name(file, m->name);
	if (m->version < 0)
		return err_set(e, ERR_INVALID, "migration '%s' is not named NNNN_name.sql", where);
	snprintf(m->file, sizeof(m->file), "%s", where);
	if (memchr(sql, '\0', len) != NULL)
		return err_set(e, ERR_INVALID, "migration '%s' contains a NUL byte", where);
	m->sql = malloc(len + 1);
	if (m->sql == NULL)
		return err_set(e, ERR_NOMEM, "out of memory reading migration '%s'", where);
	memcpy(m->sql, sql, len);
	m->sql[len] = '\0';
	m->len = len;
	return store_sha256_hex(sql, len, m->sha256, e);
}

/* Reads a whole file, capped at STORE_MAX_MIGRATION_BYTES. */
static int
read_file(const char *path, struct buf *b, struct err *e)
{
	char chunk[8192];
	ssize_t r;
	int fd, ret = -1;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set(e, ERR_IO, "cannot read migration '%s': %s", path, strerror(errno));
	for (;;) {
		r = read(fd, chunk, sizeof(chunk));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			ret = err_set(e, ERR_IO, "cannot read migration '%s': %s", path, strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		if (buf_add(b, chunk, (size_t)r, e) < 0) {
			ret = err_prefix(e, "reading migration '%s'", path);
			goto out;
		}
	}
	ret = 0;
out:
	close(fd);
	return ret;
}

static int
load_dir(const char *dir, struct store_mig **out, size_t *n, struct err *e)
{
	DIR *d = NULL;
	struct dirent *de;
	struct store_mig *migs = NULL;
	struct buf b = BUF_INIT(STORE_MAX_MIGRATION_BYTES);
	size_t count = 0;
	char path[4096];
	int ret = -1;

	d = opendir(dir);
	if (d == NULL) {
		ret = err_set(e, ERR_IO, "cannot open migrations folder '%s': %s", dir, strerror(errno));
		goto out;
	}
	migs = calloc(STORE_MAX_MIGRATIONS, sizeof(*migs));
	if (migs == NULL) {
		ret = err_set(e, ERR_NOMEM, "out of memory reading migrations");
		goto out;
	}
	while ((de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);
		if (de->d_name[0] == '.' || len < 4 || strcmp(de->d_name + len - 4, ".sql") != 0)
			continue;
		if (count == STORE_MAX_MIGRATIONS) {
			ret = err_set(e, ERR_TOO_LARGE, "more than %d migrations in '%s'",
			    STORE_MAX_MIGRATIONS, dir);
			goto out;
		}
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= sizeof(path)) {
			ret = err_set(e, ERR_INVALID, "migration path under '%s' is too long", dir);
			goto out;
		}
		buf_reset(&b);
		if (read_file(path, &b, e) < 0)
			goto out;
		if (mig_fill(&migs[count], de->d_name, path, buf_str(&b), buf_len(&b), e) < 0) {
			count++;
			goto out;
		}
		count++;
	}
	*out = migs;
	*n = count;
	migs = NULL;
	count = 0;
	ret = 0;
out:
	buf_release(&b);
	store_migs_free(migs, count);
	if (d != NULL)
		closedir(d);
	return ret;
}

static int
load_embedded(struct store_mig **out, size_t *n, struct err *e)
{
	struct store_mig *migs = NULL;
	size_t i, count = 0;
	int ret = -1;

	migs = calloc(store_embedded_migrations_count + 1, sizeof(*migs));
	if (migs == NULL) {
		ret = err_set(e, ERR_NOMEM, "out of memory reading migrations");
		goto out;
	}
	for (i = 0; i < store_embedded_migrations_count; i++) {
		const struct store_embedded_migration *em = &store_embedded_migrations[i];
		count++;
		if (mig_fill(&migs[i], em->file, em->file, em->sql, *em->len, e) < 0)
			goto out;
	}
	*out = migs;
	*n = count;
	migs = NULL;
	count = 0;
	ret = 0;
out:
	store_migs_free(migs, count);
	return ret;
}

int
store_migs_load(const char *dir, struct store_mig **out, size_t *n, struct err *e)
{
	struct store_mig *migs = NULL;
	size_t count = 0, i;

	*out = NULL;
	*n = 0;
	if ((dir != NULL ? load_dir(dir, &migs, &count, e) : load_embedded(&migs, &count, e)) < 0)
		return -1;
	qsort(migs, count, sizeof(*migs), cmp_mig);
	for (i = 1; i < count; i++) {
		if (migs[i].version == migs[i - 1].version) {
			err_set(e, ERR_INVALID, "migrations '%s' and '%s' have the same version %d",
			    migs[i - 1].file, migs[i].file, migs[i].version);
			store_migs_free(migs, count);
			return -1;
		}
	}
	*out = migs;
	*n = count;
	return 0;
}

void
store_migs_free(struct store_mig *m, size_t n)
{
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; i < n; i++)
		free(m[i].sql);
	free(m);
}
