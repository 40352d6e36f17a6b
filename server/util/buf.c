#include "util/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"
#include "util/banned.h"

void
buf_init(struct buf *b, size_t max)
{
	b->ptr = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

static int
grow(struct buf *b, size_t need, struct err *e)
{
	size_t cap;
	char *p;

	/* Callers have checked need <= b->max. */
	if (need + 1 <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 64;
	while (cap < need + 1)
		cap = cap > b->max / 2 ? b->max + 1 : cap * 2;
	p = realloc(b->ptr, cap);
	if (p == NULL) {
		buf_release(b);
		return err_set(e, ERR_NOMEM, "out of memory growing a buffer to %zu bytes", cap);
	}
	b->ptr = p;
	b->cap = cap;
	return 0;
}

int
buf_add(struct buf *b, const void *p, size_t n, struct err *e)
{
	if (n > b->max - b->len) {
		buf_release(b);
		return err_set(e, ERR_TOO_LARGE, "data exceeds the limit of %zu bytes", b->max);
	}
	if (grow(b, b->len + n, e) < 0)
		return -1;
	if (n > 0)
		memcpy(b->ptr + b->len, p, n);
	b->len += n;
	b->ptr[b->len] = '\0';
	return 0;
}

int
buf_addstr(struct buf *b, const char *s, struct err *e)
{
	return buf_add(b, s, strlen(s), e);
}

int
buf_addch(struct buf *b, char c, struct err *e)
{
	return buf_add(b, &c, 1, e);
}

int
buf_addf(struct buf *b, struct err *e, const char *fmt, ...)
{
	va_list ap;
	char small[256];
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0) {
		buf_release(b);
		return err_set(e, ERR_INTERNAL, "bad format string");
	}
	if ((size_t)n < sizeof(small))
		return buf_add(b, small, (size_t)n, e);
	if ((size_t)n > b->max - b->len) {
		buf_release(b);
		return err_set(e, ERR_TOO_LARGE, "data exceeds the limit of %zu bytes", b->max);
	}
	if (grow(b, b->len + (size_t)n, e) < 0)
		return -1;
	va_start(ap, fmt);
	vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

const char *
buf_str(const struct buf *b)
{
	return b->ptr ? b->ptr : "";
}

size_t
buf_len(const struct buf *b)
{
	return b->len;
}

char *
buf_take(struct buf *b, size_t *len)
{
	char *p = b->ptr;

	if (len != NULL)
		*len = b->len;
	if (p == NULL)
		p = calloc(1, 1);
	b->ptr = NULL;
	b->len = 0;
	b->cap = 0;
	return p;
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->ptr != NULL)
		b->ptr[0] = '\0';
}

char *
buf_memdup0(const void *p, size_t n)
{
	char *s;

	if (n == (size_t)-1)
		return NULL;
	s = malloc(n + 1);
	if (s == NULL)
		return NULL;
	if (n > 0)
		memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

void
buf_release(struct buf *b)
{
	if (b == NULL)
		return;
	free(b->ptr);
	b->ptr = NULL;
	b->len = 0;
	b->cap = 0;
}
