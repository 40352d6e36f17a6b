/*
 * unified.c - line diff and unified output (the `patch` format).
 *
 * Lines are interned to integers, then compared with Myers' O(ND) algorithm in
 * linear space: each box is split at the middle snake found by searching from
 * both ends at once, and the two halves are done in turn from an explicit stack
 * (no recursion, so no stack depth to run out of). When the search in one box
 * passes a cost bound (the square root of the input size, at least
 * RENDER_DIFF_MIN_COST), the box is split at the furthest point either search
 * reached, as git's xdiff does: the result is still a correct diff, found in
 * bounded time, though perhaps not minimal. Changed lines are marked per side;
 * hunks are then cut with `context` lines around each run of changes and merged
 * when their contexts touch, as GNU diff -u does.
 */
#include "render/render.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/err.h"
#include "util/limits.h"
#include "util/banned.h"

struct line {
	const char *p;
	size_t len; /* includes the '\n', if the line has one */
};

struct side {
	struct line *lines;
	long *ids;
	char *changed;
	long n;
};

struct intern_slot {
	uint64_t hash;
	const struct line *line; /* NULL: empty slot */
	long id;
};

struct box {
	long off1, lim1, off2, lim2;
};

static int
split_lines(const char *text, size_t len, struct side *s, struct err *e)
{
	const char *p = text, *end = text + len, *nl;
	long n = 0, i = 0;

	for (p = text; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (++n > RENDER_MAX_LINES)
			return err_set(e, ERR_TOO_LARGE,
			    "text has more than %d lines, the limit of a unified diff",
			    RENDER_MAX_LINES);
		if (nl == NULL)
			break;
	}
	s->n = n;
	s->lines = calloc((size_t)n + 1, sizeof(*s->lines));
	s->ids = calloc((size_t)n + 1, sizeof(*s->ids));
	s->changed = calloc((size_t)n + 1, 1);
	if (s->lines == NULL || s->ids == NULL || s->changed == NULL)
		return err_set(e, ERR_NOMEM, "out of memory for %ld lines", n);
	for (p = text; p < end; p = nl + 1, i++) {
		nl = memchr(p, '\n', (size_t)(end - p));
		s->lines[i].p = p;
		s->lines[i].len = nl == NULL ? (size_t)(end - p) : (size_t)(nl - p) + 1;
		if (nl == NULL)
			break;
	}
	return 0;
}

static void
side_release(struct side *s)
{
	free(s->lines);
	free(s->ids);
	free(s->changed);
}

/* FNV-1a, 64 bits. */
static uint64_t
hash_line(const struct line *l)
{
	uint64_t h = 14695981039346656037ULL;
	size_t i;

	for (i = 0; i < l->len; i++) {
		h ^= (unsigned char)l->p[i];
		h *= 1099511628211ULL;
	}
	return h;
}

/* Gives equal lines of both sides equal ids. */
static int
intern(struct side *a, struct side *b, struct err *e)
{
	struct intern_slot *tab = NULL;
	struct side *sides[2] = { a, b };
	size_t size = 16, mask, at;
	long next = 0, i;
	int k;

	while (size < 2 * (size_t)(a->n + b->n))
		size *= 2;
	tab = calloc(size, sizeof(*tab));
	if (tab == NULL)
		return err_set(e, ERR_NOMEM, "out of memory for a table of %zu lines", size);
	mask = size - 1;
	for (k = 0; k < 2; k++) {
		struct side *s = sides[k];

		for (i = 0; i < s->n; i++) {
			const struct line *l = &s->lines[i];
			uint64_t h = hash_line(l);

			for (at = (size_t)h & mask; tab[at].line != NULL; at = (at + 1) & mask) {
				if (tab[at].hash == h && tab[at].line->len == l->len &&
				    memcmp(tab[at].line->p, l->p, l->len) == 0)
					break;
			}
			if (tab[at].line == NULL) {
				tab[at].hash = h;
				tab[at].line = l;
				tab[at].id = next++;
			}
			s->ids[i] = tab[at].id;
		}
	}
	free(tab);
	return 0;
}

/* Integer square root, for the cost bound. */
static long
isqrt(long n)
{
	long r = 1;

	while (r * r < n)
		r++;
	return r;
}

/*
 * Finds where to split box (off1..lim1, off2..lim2), whose first and last lines
 * differ, into two boxes to compare separately. kvdf and kvdb are indexed by
 * diagonal k = i1 - i2 and hold the furthest i1 reached by the forward and
 * backward searches (after xdiff's xdl_split()).
 */
static void
split_box(const long *a, const long *b, long *kvdf, long *kvdb, long mxcost,
    const struct box *x, long *out1, long *out2)
{
	long off1 = x->off1, lim1 = x->lim1, off2 = x->off2, lim2 = x->lim2;
	long dmin = off1 - lim2, dmax = lim1 - off2;
	long fmid = off1 - off2, bmid = lim1 - lim2;
	long fmin = fmid, fmax = fmid, bmin = bmid, bmax = bmid;
	long ec, d, i1, i2, best, best1;
	int odd = (int)((fmid - bmid) & 1);

	kvdf[fmid] = off1;
	kvdb[bmid] = lim1;
	for (ec = 1;; ec++) {
		/* Forward: extend each diagonal by one edit, then follow the snake. */
		if (fmin > dmin)
			kvdf[--fmin - 1] = -1;
		else
			++fmin;
		if (fmax < dmax)
			kvdf[++fmax + 1] = -1;
		else
			--fmax;
		for (d = fmax; d >= fmin; d -= 2) {
			i1 = kvdf[d - 1] >= kvdf[d + 1] ? kvdf[d - 1] + 1 : kvdf[d + 1];
			i2 = i1 - d;
			while (i1 < lim1 && i2 < lim2 && a[i1] == b[i2]) {
				i1++;
				i2++;
			}
			kvdf[d] = i1;
			if (odd && bmin <= d && d <= bmax && kvdb[d] <= i1) {
				*out1 = i1;
				*out2 = i2;
				return;
			}
		}
		/* Backward, the same from the end. */
		if (bmin > dmin)
			kvdb[--bmin - 1] = LONG_MAX;
		else
			++bmin;
		if (bmax < dmax)
			kvdb[++bmax + 1] = LONG_MAX;
		else
			--bmax;
		for (d = bmax; d >= bmin; d -= 2) {
			i1 = kvdb[d - 1] < kvdb[d + 1] ? kvdb[d - 1] : kvdb[d + 1] - 1;
			i2 = i1 - d;
			while (i1 > off1 && i2 > off2 && a[i1 - 1] == b[i2 - 1]) {
				i1--;
				i2--;
			}
			kvdb[d] = i1;
			if (!odd && fmin <= d && d <= fmax && i1 <= kvdf[d]) {
				*out1 = i1;
				*out2 = i2;
				return;
			}
		}
		if (ec < mxcost)
			continue;
		/* Too costly: split at the point either search got furthest. */
		best = -1;
		best1 = off1;
		for (d = fmax; d >= fmin; d -= 2) {
			i1 = kvdf[d] < lim1 ? kvdf[d] : lim1;
			i2 = i1 - d;
			if (lim2 < i2) {
				i1 = lim2 + d;
				i2 = lim2;
			}
			if (best < i1 + i2) {
				best = i1 + i2;
				best1 = i1;
			}
		}
		{
			long bbest = LONG_MAX, bbest1 = lim1;

			for (d = bmax; d >= bmin; d -= 2) {
				i1 = kvdb[d] > off1 ? kvdb[d] : off1;
				i2 = i1 - d;
				if (i2 < off2) {
					i1 = off2 + d;
					i2 = off2;
				}
				if (i1 + i2 < bbest) {
					bbest = i1 + i2;
					bbest1 = i1;
				}
			}
			if ((lim1 + lim2) - bbest < best - (off1 + off2)) {
				*out1 = best1;
				*out2 = best - best1;
			} else {
				*out1 = bbest1;
				*out2 = bbest - bbest1;
			}
		}
		return;
	}
}

static void
mark_all(struct side *s, long from, long to)
{
	if (to > from)
		memset(s->changed + from, 1, (size_t)(to - from));
}

/* Marks the lines of a and b that are not in the common subsequence found. */
static int
compare(struct side *a, struct side *b, struct err *e)
{
	struct box *stack = NULL, x;
	size_t top = 0, cap = 64, ndiags = (size_t)(a->n + b->n) + 3;
	long *kvd = NULL, *kvdf, *kvdb, mxcost, s1, s2;
	int ret = -1;

	stack = malloc(cap * sizeof(*stack));
	kvd = malloc(2 * ndiags * sizeof(*kvd));
	if (stack == NULL || kvd == NULL) {
		err_set(e, ERR_NOMEM, "out of memory comparing %ld and %ld lines", a->n, b->n);
		goto out;
	}
	/* Diagonals run from -b->n - 1 to a->n + 1. */
	kvdf = kvd + b->n + 1;
	kvdb = kvd + ndiags + b->n + 1;
	mxcost = isqrt((long)ndiags);
	if (mxcost < RENDER_DIFF_MIN_COST)
		mxcost = RENDER_DIFF_MIN_COST;

	stack[top++] = (struct box){ 0, a->n, 0, b->n };
	while (top > 0) {
		x = stack[--top];
		while (x.off1 < x.lim1 && x.off2 < x.lim2 && a->ids[x.off1] == b->ids[x.off2]) {
			x.off1++;
			x.off2++;
		}
		while (x.off1 < x.lim1 && x.off2 < x.lim2 &&
		    a->ids[x.lim1 - 1] == b->ids[x.lim2 - 1]) {
			x.lim1--;
			x.lim2--;
		}
		if (x.off1 == x.lim1 || x.off2 == x.lim2) {
			mark_all(a, x.off1, x.lim1);
			mark_all(b, x.off2, x.lim2);
			continue;
		}
		split_box(a->ids, b->ids, kvdf, kvdb, mxcost, &x, &s1, &s2);
		if (s1 < x.off1 || s1 > x.lim1 || s2 < x.off2 || s2 > x.lim2 ||
		    (s1 == x.off1 && s2 == x.off2) || (s1 == x.lim1 && s2 == x.lim2)) {
			/* No progress possible: take the box as replaced. */
			mark_all(a, x.off1, x.lim1);
			mark_all(b, x.off2, x.lim2);
			continue;
		}
		if (top + 2 > cap) {
			struct box *p = realloc(stack, 2 * cap * sizeof(*stack));

			if (p == NULL) {
				err_set(e, ERR_NOMEM, "out of memory comparing %ld and %ld lines",
				    a->n, b->n);
				goto out;
			}
			stack = p;
			cap *= 2;
		}
		/* The first half is done first. */
		stack[top++] = (struct box){ s1, x.lim1, s2, x.lim2 };
		stack[top++] = (struct box){ x.off1, s1, x.off2, s2 };
	}
	ret = 0;
out:
	free(kvd);
	free(stack);
	return ret;
}

/* A run of changes: a[i0..i1) replaced by b[j0..j1). */
struct block {
	long i0, i1, j0, j1;
};

/* "--- label" with control characters shown as '?', so a label cannot add a line. */
static int
header_line(struct buf *out, const char *mark, const char *label, struct err *e)
{
	const char *p;

	if (buf_addstr(out, mark, e) < 0)
		return -1;
	for (p = label; *p != '\0'; p++) {
		if (buf_addch(out, (unsigned char)*p < 0x20 || *p == 0x7f ? '?' : *p, e) < 0)
			return -1;
	}
	return buf_addch(out, '\n', e);
}

/* One "-l,n" range in GNU's form: "l" when n is 1, "l-1,0" when empty. */
static int
range(struct buf *out, char sign, long start, long count, struct err *e)
{
	if (count == 1)
		return buf_addf(out, e, "%c%ld", sign, start + 1);
	if (count == 0)
		return buf_addf(out, e, "%c%ld,0", sign, start);
	return buf_addf(out, e, "%c%ld,%ld", sign, start + 1, count);
}

static int
emit_line(struct buf *out, char sign, const struct line *l, struct err *e)
{
	if (buf_addch(out, sign, e) < 0 || buf_add(out, l->p, l->len, e) < 0)
		return -1;
	if (l->len == 0 || l->p[l->len - 1] != '\n')
		return buf_addstr(out, "\n\\ No newline at end of file\n", e);
	return 0;
}

/* Writes hunks for blocks[first..last]. */
static int
emit_hunk(struct buf *out, const struct side *a, const struct side *b,
    const struct block *blocks, size_t first, size_t last, long ctx, struct err *e)
{
	long as = blocks[first].i0 - ctx, ae, bs, be, i, j;
	size_t k;

	if (as < 0)
		as = 0;
	bs = blocks[first].j0 - (blocks[first].i0 - as);
	ae = blocks[last].i1 + ctx;
	if (ae > a->n)
		ae = a->n;
	be = blocks[last].j1 + (ae - blocks[last].i1);
	if (buf_addstr(out, "@@ ", e) < 0 || range(out, '-', as, ae - as, e) < 0 ||
	    buf_addch(out, ' ', e) < 0 || range(out, '+', bs, be - bs, e) < 0 ||
	    buf_addstr(out, " @@\n", e) < 0)
		return -1;
	i = as;
	for (k = first; k <= last; k++) {
		for (; i < blocks[k].i0; i++) {
			if (emit_line(out, ' ', &a->lines[i], e) < 0)
				return -1;
		}
		for (; i < blocks[k].i1; i++) {
			if (emit_line(out, '-', &a->lines[i], e) < 0)
				return -1;
		}
		for (j = blocks[k].j0; j < blocks[k].j1; j++) {
			if (emit_line(out, '+', &b->lines[j], e) < 0)
				return -1;
		}
	}
	for (; i < ae; i++) {
		if (emit_line(out, ' ', &a->lines[i], e) < 0)
			return -1;
	}
	return 0;
}

static int
emit(struct buf *out, const struct side *a, const struct side *b, const char *label_a,
    const char *label_b, long ctx, struct err *e)
{
	struct block *blocks = NULL;
	size_t nb = 0, cap = 0, first, k;
	long i = 0, j = 0;
	int ret = -1;

	while (i < a->n || j < b->n) {
		struct block blk;

		if (i < a->n && j < b->n && !a->changed[i] && !b->changed[j]) {
			i++;
			j++;
			continue;
		}
		blk.i0 = i;
		blk.j0 = j;
		while (i < a->n && a->changed[i])
			i++;
		while (j < b->n && b->changed[j])
			j++;
		blk.i1 = i;
		blk.j1 = j;
		if (blk.i0 == blk.i1 && blk.j0 == blk.j1) {
			err_set(e, ERR_INTERNAL, "line diff lost its alignment at line %ld", i + 1);
			goto out;
		}
		if (nb == cap) {
			struct block *p;

			cap = cap ? 2 * cap : 64;
			p = realloc(blocks, cap * sizeof(*blocks));
			if (p == NULL) {
				err_set(e, ERR_NOMEM, "out of memory for %zu changed blocks", cap);
				goto out;
			}
			blocks = p;
		}
		blocks[nb++] = blk;
	}
	if (nb == 0) {
		ret = 0;
		goto out;
	}
	if (header_line(out, "--- ", label_a, e) < 0 || header_line(out, "+++ ", label_b, e) < 0)
		goto out;
	for (first = 0, k = 1; k <= nb; k++) {
		/* A hunk ends where the next block is more than two contexts away. */
		if (k < nb && blocks[k].i0 - blocks[k - 1].i1 <= 2 * ctx)
			continue;
		if (emit_hunk(out, a, b, blocks, first, k - 1, ctx, e) < 0)
			goto out;
		first = k;
	}
	ret = 0;
out:
	free(blocks);
	return ret;
}

int
render_unified(const char *a, size_t alen, const char *b, size_t blen,
    const char *label_a, const char *label_b, unsigned context, struct buf *out,
    struct err *e)
{
	struct side sa = { 0 }, sb = { 0 };
	int ret = -1;

	if (split_lines(a, alen, &sa, e) < 0 || split_lines(b, blen, &sb, e) < 0)
		goto out;
	if (intern(&sa, &sb, e) < 0 || compare(&sa, &sb, e) < 0)
		goto out;
	if (emit(out, &sa, &sb, label_a ? label_a : "a", label_b ? label_b : "b",
	    (long)context, e) < 0)
		goto out;
	ret = 0;
out:
	side_release(&sb);
	side_release(&sa);
	return ret;
}
