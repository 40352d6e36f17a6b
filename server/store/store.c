/*
 * store.c - the backend-neutral front of the store: picks the backend and
 * passes calls through. See store.h for the contract and store_int.h for the
 * backend interface.
 */
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "store/store_int.h"
#include "util/err.h"
#include "util/banned.h"

/* The backend for a database address. Only SQLite files exist today; a
 * PostgreSQL backend would claim "postgres://" addresses here. */
static const struct store_backend *
backend_for(const char *db_path)
{
	(void)db_path;
	return &store_sqlite_backend;
}

int
store_open(const char *db_path, const char *migrations_dir, struct store **out, struct err *e)
{
	struct store *s = NULL;
	struct store_mig *migs = NULL;
	size_t n = 0;
	int ret = -1;

	*out = NULL;
	if (db_path == NULL || db_path[0] == '\0') {
		ret = err_set(e, ERR_INVALID, "no database path given");
		goto out;
	}
	if (store_migs_load(migrations_dir, &migs, &n, e) < 0)
		goto out;
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		ret = err_set(e, ERR_NOMEM, "out of memory opening the store");
		goto out;
	}
	s->be = backend_for(db_path);
	if (s->be->open(s, db_path, migs, n, e) < 0) {
		free(s);
		s = NULL;
		goto out;
	}
	*out = s;
	s = NULL;
	ret = 0;
out:
	store_migs_free(migs, n);
	return ret;
}

void
store_close(struct store *s)
{
	if (s == NULL)
		return;
	s->be->close(s);
	free(s);
}

int
store_ping(struct store *s, struct err *e)
{
	return s->be->ping(s, e);
}

int
store_migration_status(const char *db_path, const char *migrations_dir,
    struct store_migration **items, size_t *n, struct err *e)
{
	struct store_mig *migs = NULL;
	struct store_migration *list = NULL;
	size_t nmigs = 0, count = 0, i;
	int ret = -1;

	*items = NULL;
	*n = 0;
	if (store_migs_load(migrations_dir, &migs, &nmigs, e) < 0)
		goto out;
	list = calloc(nmigs + 1, sizeof(*list));
	if (list == NULL) {
		ret = err_set(e, ERR_NOMEM, "out of memory listing migrations");
		goto out;
	}
	for (i = 0; i < nmigs; i++) {
		list[i].version = migs[i].version;
		snprintf(list[i].name, sizeof(list[i].name), "%s", migs[i].name);
		memcpy(list[i].sha256, migs[i].sha256, sizeof(list[i].sha256));
	}
	count = nmigs;
	if (backend_for(db_path)->migration_status(db_path, &list, &count, e) < 0)
		goto out;
	*items = list;
	*n = count;
	list = NULL;
	ret = 0;
out:
	free(list);
	store_migs_free(migs, nmigs);
	return ret;
}

const char *
store_role_name(enum store_role r)
{
	switch (r) {
	case ROLE_VIEWER:
		return "viewer";
	case ROLE_EDITOR:
		return "editor";
	case ROLE_ADMIN:
		return "admin";
	case ROLE_NONE:
		break;
	}
	return "none";
}

enum store_role
store_role_parse(const char *name)
{
	if (name == NULL)
		return ROLE_NONE;
	if (strcmp(name, "viewer") == 0)
		return ROLE_VIEWER;
	if (strcmp(name, "editor") == 0)
		return ROLE_EDITOR;
	if (strcmp(name, "admin") == 0)
		return ROLE_ADMIN;
	return ROLE_NONE;
}

int
store_sha256_hex(const void *p, size_t n, char out[65], struct err *e)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;

	if (EVP_Digest(p, n, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32)
		return err_set(e, ERR_INTERNAL, "computing a SHA-256 failed");
	for (i = 0; i < mdlen; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 0xf];
	}
	out[64] = '\0';
	return 0;
}

int64_t
store_now(void)
{
	return (int64_t)time(NULL);
}
