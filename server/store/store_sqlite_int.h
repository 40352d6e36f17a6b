/*
 * store_sqlite_int.h - shared by the SQLite backend's files (store_sqlite*.c)
 * and nothing else.
 */
#ifndef SKEWD_STORE_STORE_SQLITE_INT_H
#define SKEWD_STORE_STORE_SQLITE_INT_H

#include <sqlite3.h>

#include "store/store_int.h"

struct err;

/* The calling thread's connection to the store's database, opened on first
 * use (see the threading rule in store.h). Borrowed: closed at store_close()
 * or when the thread exits. Returns NULL with e set on failure. */
sqlite3 *store_sqlite_db(struct store *s, struct err *e);

/* Copies SQLite's message for `rc` into e at once (it is overwritten by the
 * next call on `db`), mapped to a skewd code, prefixed with `what`. Returns -1. */
int store_sqlite_err(sqlite3 *db, int rc, struct err *e, const char *what);

/* The token functions of the backend (store_sqlite_token.c). */
int store_sqlite_token_insert(struct store *s, struct store_token_row *row, struct err *e);
int store_sqlite_token_find(struct store *s, const char *public_id, struct store_token_row *row,
    struct err *e);
int store_sqlite_token_touch(struct store *s, int64_t id, int64_t now, struct err *e);
int store_sqlite_token_list(struct store *s, struct store_token **items, size_t *n, struct err *e);
int store_sqlite_token_revoke(struct store *s, const char *name, int64_t now, struct err *e);

#endif
