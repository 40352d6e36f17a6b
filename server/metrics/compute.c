/*
 * compute.c - histogram and summary views of a parsed set, and the pure
 * computations of metrics.h: counter increases, histogram deltas,
 * histogram_quantile, and their windowed forms over two scrapes.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/metrics_int.h"
#include "util/err.h"
#include "util/limits.h"
#include "util/banned.h"

/* Relative tolerance under which a rise of a cumulative count is treated as float noise
 * (Prometheus' smallDeltaTolerance). */
#define QUANTILE_SMALL_DELTA 1e-12

void
metrics_histogram_init(struct metrics_histogram *h)
{
	h->buckets = NULL;
	h->nbuckets = 0;
	h->sum = NAN;
	h->count = NAN;
	h->series = 0;
}

void
metrics_histogram_release(struct metrics_histogram *h)
{
	if (h == NULL)
		return;
	free(h->buckets);
	metrics_histogram_init(h);
}

void
metrics_summary_init(struct metrics_summary *s)
{
	s->quantiles = NULL;
	s->nquantiles = 0;
	s->sum = NAN;
	s->count = NAN;
	s->series = 0;
}

void
metrics_summary_release(struct metrics_summary *s)
{
	if (s == NULL)
		return;
	free(s->quantiles);
	metrics_summary_init(s);
}

double
metrics_counter_increase(double prev, double cur)
{
	if (isnan(prev) || isnan(cur))
		return NAN;
	return cur < prev ? cur : cur - prev;
}

double
metrics_counter_rate(double prev, double cur, double seconds)
{
	if (!(seconds > 0))
		return NAN;
	return metrics_counter_increase(prev, cur) / seconds;
}

/* NaN-aware accumulation: NaN means "no value yet". */
static double
acc_add(double acc, double v)
{
	if (isnan(v))
		return acc;
	return isnan(acc) ? v : acc + v;
}

static int
bucket_cmp(const void *a, const void *b)
{
	const struct metrics_bucket *x = a, *y = b;

	return x->le < y->le ? -1 : x->le > y->le ? 1 : 0;
}

/* Sorts buckets by le and adds up the counts of equal le. */
static void
hist_normalize(struct metrics_histogram *h)
{
	size_t i, w = 0;

	if (h->nbuckets == 0)
		return;
	qsort(h->buckets, h->nbuckets, sizeof(h->buckets[0]), bucket_cmp);
	for (i = 1; i < h->nbuckets; i++) {
		if (h->buckets[i].le == h->buckets[w].le)
			h->buckets[w].count += h->buckets[i].count;
		else
			h->buckets[++w] = h->buckets[i];
	}
	h->nbuckets = w + 1;
}

static int
hist_append(struct metrics_histogram *h, const struct metrics_bucket *b, size_t n, struct err *e)
{
	struct metrics_bucket *nb;

	if (n == 0)
		return 0;
	nb = realloc(h->buckets, (h->nbuckets + n) * sizeof(*nb));
	if (nb == NULL)
		return err_set(e, ERR_NOMEM, "out of memory building a histogram");
	memcpy(nb + h->nbuckets, b, n * sizeof(*nb));
	h->buckets = nb;
	h->nbuckets += n;
	return 0;
}

/* Adds histogram `h` into `acc` (buckets appended; call hist_normalize() after). */
static int
hist_accumulate(struct metrics_histogram *acc, const struct metrics_histogram *h, struct err *e)
{
	if (hist_append(acc, h->buckets, h->nbuckets, e) < 0)
		return -1;
	acc->sum = acc_add(acc->sum, h->sum);
	acc->count = acc_add(acc->count, h->count);
	acc->series += h->series;
	return 0;
}

double
metrics_histogram_quantile(double q, const struct metrics_histogram *h)
{
	struct metrics_bucket *b;
	size_t n, i, k;
	double observations, rank, start, end, count, result;

	if (isnan(q))
		return NAN;
	if (q < 0)
		return -INFINITY;
	if (q > 1)
		return INFINITY;
	if (h == NULL || h->nbuckets == 0)
		return NAN;
	b = malloc(h->nbuckets * sizeof(*b));
	if (b == NULL)
		return NAN;
	memcpy(b, h->buckets, h->nbuckets * sizeof(*b));
	qsort(b, h->nbuckets, sizeof(*b), bucket_cmp);
	n = h->nbuckets;
	result = NAN;
	if (!(isinf(b[n - 1].le) && b[n - 1].le > 0))
		goto out;
	/* Coalesce equal bounds. */
	k = 0;
	for (i = 1; i < n; i++) {
		if (b[i].le == b[k].le)
			b[k].count += b[i].count;
		else
			b[++k] = b[i];
	}
	n = k + 1;
	/* Cumulative counts never fall; tiny rises are float noise. */
	for (i = 1; i < n; i++) {
		double prev = b[i - 1].count, cur = b[i].count;
		if (cur < prev)
			b[i].count = prev;
		else if (cur != prev && fabs(cur - prev) <= QUANTILE_SMALL_DELTA * fmax(fabs(cur), fabs(prev)))
			b[i].count = prev;
	}
	if (n < 2)
		goto out;
	observations = b[n - 1].count;
	if (observations == 0 || isnan(observations))
		goto out;
	rank = q * observations;
	for (i = 0; i < n - 1; i++)
		if (b[i].count >= rank)
			break;
	if (i == n - 1) {
		result = b[n - 2].le;
		goto out;
	}
	if (i == 0 && b[0].le <= 0) {
		result = b[0].le;
		goto out;
	}
	start = 0;
	end = b[i].le;
	count = b[i].count;
	if (i > 0) {
		start = b[i - 1].le;
		count -= b[i - 1].count;
		rank -= b[i - 1].count;
	}
	result = start + (end - start) * (rank / count);
out:
	free(b);
	return result;
}

int
metrics_histogram_delta(const struct metrics_histogram *prev, const struct metrics_histogram *cur,
	struct metrics_histogram *out, struct err *e)
{
	size_t i, j;
	int reset = 0;

	metrics_histogram_release(out);
	if (!isnan(prev->count) && !isnan(cur->count) && cur->count < prev->count)
		reset = 1;
	/* Both sides sorted by le: walk them together. */
	for (i = 0, j = 0; !reset && i < cur->nbuckets && j < prev->nbuckets;) {
		if (cur->buckets[i].le < prev->buckets[j].le)
			i++;
		else if (cur->buckets[i].le > prev->buckets[j].le)
			j++;
		else {
			if (cur->buckets[i].count < prev->buckets[j].count)
				reset = 1;
			i++;
			j++;
		}
	}
	if (hist_append(out, cur->buckets, cur->nbuckets, e) < 0)
		return -1;
	out->series = cur->series;
	out->sum = cur->sum;
	out->count = cur->count;
	if (reset)
		return 0;
	for (i = 0, j = 0; i < out->nbuckets && j < prev->nbuckets;) {
		if (out->buckets[i].le < prev->buckets[j].le)
			i++;
		else if (out->buckets[i].le > prev->buckets[j].le)
			j++;
		else
			out->buckets[i++].count -= prev->buckets[j++].count;
	}
	if (!isnan(prev->sum) && !isnan(cur->sum))
		out->sum = cur->sum - prev->sum;
	if (!isnan(prev->count) && !isnan(cur->count))
		out->count = cur->count - prev->count;
	return 0;
}

/*
 * Label sets of a family, grouped without one label (le for histograms, quantile for
 * summaries), found through a small hash table.
 */
struct group {
	const struct metrics_sample *key;
	uint64_t hash;
	struct metrics_histogram h;
	struct metrics_summary s;
};

struct groups {
	struct group *v;
	size_t n;
	size_t cap;
	size_t *table;               /* index + 1; 0 is empty */
	size_t tsize;
};

static uint64_t
group_hash(const struct metrics_sample *s, const char *skip)
{
	uint64_t h = METRICS_HASH_SEED;
	size_t i;

	for (i = 0; i < s->nlabels; i++) {
		if (strcmp(s->labels[i].name, skip) == 0)
			continue;
		h = metrics_hash(s->labels[i].name, strlen(s->labels[i].name) + 1, h);
		h = metrics_hash(s->labels[i].value, strlen(s->labels[i].value) + 1, h);
	}
	return h;
}

static int
group_same(const struct metrics_sample *a, const struct metrics_sample *b, const char *skip)
{
	size_t i = 0, j = 0;

	for (;;) {
		while (i < a->nlabels && strcmp(a->labels[i].name, skip) == 0)
			i++;
		while (j < b->nlabels && strcmp(b->labels[j].name, skip) == 0)
			j++;
		if (i == a->nlabels || j == b->nlabels)
			return i == a->nlabels && j == b->nlabels;
		if (strcmp(a->labels[i].name, b->labels[j].name) != 0 ||
		    strcmp(a->labels[i].value, b->labels[j].value) != 0)
			return 0;
		i++;
		j++;
	}
}

static void
groups_release(struct groups *g)
{
	size_t i;

	for (i = 0; i < g->n; i++) {
		metrics_histogram_release(&g->v[i].h);
		metrics_summary_release(&g->v[i].s);
	}
	free(g->v);
	free(g->table);
	memset(g, 0, sizeof(*g));
}

static struct group *
groups_find(const struct groups *g, const struct metrics_sample *s, uint64_t h, const char *skip)
{
	size_t i;

	if (g->tsize == 0)
		return NULL;
	for (i = h & (g->tsize - 1); g->table[i] != 0; i = (i + 1) & (g->tsize - 1)) {
		struct group *x = &g->v[g->table[i] - 1];
		if (x->hash == h && group_same(x->key, s, skip))
			return x;
	}
	return NULL;
}

static struct group *
groups_get(struct groups *g, const struct metrics_sample *s, const char *skip, struct err *e)
{
	uint64_t h = group_hash(s, skip);
	struct group *x = groups_find(g, s, h, skip);
	size_t i;

	if (x != NULL)
		return x;
	if ((g->n + 1) * 2 > g->tsize) {
		size_t nsize = g->tsize ? g->tsize * 2 : 16;
		size_t *t = calloc(nsize, sizeof(*t));
		if (t == NULL)
			goto nomem;
		for (i = 0; i < g->n; i++) {
			size_t j = g->v[i].hash & (nsize - 1);
			while (t[j] != 0)
				j = (j + 1) & (nsize - 1);
			t[j] = i + 1;
		}
		free(g->table);
		g->table = t;
		g->tsize = nsize;
	}
	if (g->n == g->cap) {
		size_t ncap = g->cap ? g->cap * 2 : 8;
		struct group *nv = realloc(g->v, ncap * sizeof(*nv));
		if (nv == NULL)
			goto nomem;
		g->v = nv;
		g->cap = ncap;
	}
	x = &g->v[g->n];
	x->key = s;
	x->hash = h;
	metrics_histogram_init(&x->h);
	metrics_summary_init(&x->s);
	x->h.series = 1;
	x->s.series = 1;
	g->n++;
	i = h & (g->tsize - 1);
	while (g->table[i] != 0)
		i = (i + 1) & (g->tsize - 1);
	g->table[i] = g->n;
	return x;
nomem:
	err_set(e, ERR_NOMEM, "out of memory grouping series");
	return NULL;
}

/* Groups the matching samples of a histogram family by label set without le. */
static int
histogram_groups(const struct metrics_set *set, const char *family,
	const struct metrics_matcher *m, size_t nm, struct groups *g, struct err *e)
{
	const struct metrics_family *f = metrics_set_family(set, family);
	size_t i, fl;

	memset(g, 0, sizeof(*g));
	if (f == NULL)
		return err_set(e, ERR_NOT_FOUND, "no metric family '%s'", family);
	if (f->type != METRICS_HISTOGRAM && f->type != METRICS_GAUGEHISTOGRAM)
		return err_set(e, ERR_INVALID, "metric family '%s' is a %s, not a histogram",
			family, metrics_type_name(f->type));
	fl = strlen(f->name);
	for (i = 0; i < f->nsamples; i++) {
		const struct metrics_sample *s = &f->samples[i]->pub;
		const char *sfx = s->name + fl;
		struct group *x;

		if (!metrics_sample_matches(s, m, nm))
			continue;
		if (strcmp(sfx, "_created") == 0)
			continue;
		x = groups_get(g, s, "le", e);
		if (x == NULL)
			goto fail;
		if (strcmp(sfx, "_bucket") == 0) {
			struct metrics_bucket b;
			const char *le = metrics_sample_label(s, "le");
			if (le == NULL || metrics_parse_float(le, strlen(le), &b.le) < 0) {
				err_set(e, ERR_INVALID, "bucket of '%s' with a bad le", family);
				goto fail;
			}
			b.count = s->value;
			if (hist_append(&x->h, &b, 1, e) < 0)
				goto fail;
		} else if (strcmp(sfx, "_sum") == 0 || strcmp(sfx, "_gsum") == 0) {
			x->h.sum = s->value;
		} else if (strcmp(sfx, "_count") == 0 || strcmp(sfx, "_gcount") == 0) {
			x->h.count = s->value;
		}
	}
	if (g->n == 0) {
		err_set(e, ERR_NOT_FOUND, "no sample of '%s' matches", family);
		goto fail;
	}
	for (i = 0; i < g->n; i++)
		hist_normalize(&g->v[i].h);
	return 0;
fail:
	groups_release(g);
	return -1;
}

int
metrics_set_histogram(const struct metrics_set *set, const char *family,
	const struct metrics_matcher *m, size_t nm, struct metrics_histogram *out, struct err *e)
{
	struct groups g;
	size_t i;
	int ret = -1;

	metrics_histogram_release(out);
	if (histogram_groups(set, family, m, nm, &g, e) < 0)
		return -1;
	for (i = 0; i < g.n; i++)
		if (hist_accumulate(out, &g.v[i].h, e) < 0)
			goto out;
	hist_normalize(out);
	ret = 0;
out:
	if (ret < 0)
		metrics_histogram_release(out);
	groups_release(&g);
	return ret;
}

int
metrics_window_histogram(const struct metrics_set *prev, const struct metrics_set *cur,
	const char *family, const struct metrics_matcher *m, size_t nm,
	struct metrics_histogram *out, struct err *e)
{
	struct groups gp, gc;
	struct metrics_histogram d, empty;
	struct err pe = ERR_INIT;
	size_t i;
	int ret = -1;

	memset(&gp, 0, sizeof(gp));
	metrics_histogram_init(&d);
	metrics_histogram_init(&empty);
	metrics_histogram_release(out);
	if (histogram_groups(cur, family, m, nm, &gc, e) < 0)
		return -1;
	if (histogram_groups(prev, family, m, nm, &gp, &pe) < 0 && pe.code != ERR_NOT_FOUND) {
		if (e != NULL)
			*e = pe;
		goto out;
	}
	for (i = 0; i < gc.n; i++) {
		struct group *x = &gc.v[i];
		struct group *y = groups_find(&gp, x->key, x->hash, "le");
		const struct metrics_histogram *ph = y ? &y->h : &empty;

		if (metrics_histogram_delta(ph, &x->h, &d, e) < 0 || hist_accumulate(out, &d, e) < 0)
			goto out;
	}
	hist_normalize(out);
	ret = 0;
out:
	if (ret < 0)
		metrics_histogram_release(out);
	metrics_histogram_release(&d);
	groups_release(&gc);
	groups_release(&gp);
	return ret;
}

int
metrics_window_increase(const struct metrics_set *prev, const struct metrics_set *cur,
	const char *family, const struct metrics_matcher *m, size_t nm, double *out, struct err *e)
{
	const struct metrics_family *f = metrics_set_family(cur, family);
	double sum = 0;
	size_t i, fl, n = 0;

	*out = NAN;
	if (f == NULL)
		return err_set(e, ERR_NOT_FOUND, "no metric family '%s'", family);
	fl = strlen(f->name);
	for (i = 0; i < f->nsamples; i++) {
		const struct msample *s = f->samples[i];
		const struct msample *p;

		if (strcmp(s->pub.name + fl, "_created") == 0)
			continue;
		if (!metrics_sample_matches(&s->pub, m, nm))
			continue;
		p = mset_series_lookup(prev, s);
		sum += metrics_counter_increase(p ? p->pub.value : 0, s->pub.value);
		n++;
	}
	if (n == 0)
		return err_set(e, ERR_NOT_FOUND, "no sample of '%s' matches", family);
	*out = sum;
	return 0;
}

static int
quantile_cmp(const void *a, const void *b)
{
	const struct metrics_quantile *x = a, *y = b;

	return x->quantile < y->quantile ? -1 : x->quantile > y->quantile ? 1 : 0;
}

int
metrics_set_summary(const struct metrics_set *set, const char *family,
	const struct metrics_matcher *m, size_t nm, struct metrics_summary *out, struct err *e)
{
	const struct metrics_family *f = metrics_set_family(set, family);
	struct groups g;
	size_t i, fl;
	int ret = -1;

	memset(&g, 0, sizeof(g));
	metrics_summary_release(out);
	if (f == NULL)
		return err_set(e, ERR_NOT_FOUND, "no metric family '%s'", family);
	if (f->type != METRICS_SUMMARY)
		return err_set(e, ERR_INVALID, "metric family '%s' is a %s, not a summary",
			family, metrics_type_name(f->type));
	fl = strlen(f->name);
	for (i = 0; i < f->nsamples; i++) {
		const struct metrics_sample *s = &f->samples[i]->pub;
		const char *sfx = s->name + fl;
		struct group *x;

		if (!metrics_sample_matches(s, m, nm) || strcmp(sfx, "_created") == 0)
			continue;
		x = groups_get(&g, s, "quantile", e);
		if (x == NULL)
			goto out;
		if (*sfx == '\0') {
			struct metrics_quantile q, *nq;
			const char *qs = metrics_sample_label(s, "quantile");
			if (qs == NULL || metrics_parse_float(qs, strlen(qs), &q.quantile) < 0) {
				err_set(e, ERR_INVALID, "quantile of '%s' with a bad quantile label", family);
				goto out;
			}
			q.value = s->value;
			nq = realloc(x->s.quantiles, (x->s.nquantiles + 1) * sizeof(*nq));
			if (nq == NULL) {
				err_set(e, ERR_NOMEM, "out of memory building a summary");
				goto out;
			}
			nq[x->s.nquantiles++] = q;
			x->s.quantiles = nq;
		} else if (strcmp(sfx, "_sum") == 0) {
			x->s.sum = s->value;
		} else if (strcmp(sfx, "_count") == 0) {
			x->s.count = s->value;
		}
	}
	if (g.n == 0) {
		err_set(e, ERR_NOT_FOUND, "no sample of '%s' matches", family);
		goto out;
	}
	if (g.n > 1) {
		err_set(e, ERR_CONFLICT, "%zu label sets of summary '%s' match; quantiles cannot be added",
			g.n, family);
		goto out;
	}
	*out = g.v[0].s;
	metrics_summary_init(&g.v[0].s);
	if (out->nquantiles > 1)
		qsort(out->quantiles, out->nquantiles, sizeof(out->quantiles[0]), quantile_cmp);
	ret = 0;
out:
	groups_release(&g);
	return ret;
}
