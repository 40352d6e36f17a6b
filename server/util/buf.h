/*
 * buf.h - a growable byte buffer with a hard cap (after curl's dynbuf).
 *
 * Every buffer has a maximum size set at init; an append that would pass it
 * fails with ERR_TOO_LARGE. On any failed append the buffer's memory is
 * released and it is left empty, so a caller never continues with a half
 * result. The contents are always NUL-terminated (the NUL is not counted).
 * Fields are private: use the functions.
 */
#ifndef SKEWD_UTIL_BUF_H
#define SKEWD_UTIL_BUF_H

#include <stddef.h>

struct err;

struct buf {
	char *ptr;
	size_t len;
	size_t cap;
	size_t max;
};

#define BUF_INIT(max) { NULL, 0, 0, (max) }

void buf_init(struct buf *b, size_t max);

/* Appends; returns 0, or -1 with `e` set (ERR_TOO_LARGE / ERR_NOMEM) and the buffer released. */
int buf_add(struct buf *b, const void *p, size_t n, struct err *e);
int buf_addstr(struct buf *b, const char *s, struct err *e);
int buf_addch(struct buf *b, char c, struct err *e);
int buf_addf(struct buf *b, struct err *e, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Contents (never NULL; "" when empty) and length. Borrowed. */
const char *buf_str(const struct buf *b);
size_t buf_len(const struct buf *b);

/* Hands the contents to the caller (free() them); the buffer is left empty. Never NULL
 * unless out of memory. `len` may be NULL. */
char *buf_take(struct buf *b, size_t *len);

/* Empties without freeing; keeps the cap. */
void buf_reset(struct buf *b);

/* A NUL-terminated copy of exactly n bytes at p (caller frees), or NULL when out of
 * memory. Unlike strndup() it never looks past p + n, so p need not be a string. */
char *buf_memdup0(const void *p, size_t n);

/* Frees the contents; the buffer may be reused. NULL-safe. */
void buf_release(struct buf *b);

#endif
