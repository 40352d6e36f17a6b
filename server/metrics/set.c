/*
 * set.c - storage of a parsed metrics set: families, samples, the hash tables
 * that find them, and the read-only lookups of metrics.h.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "metrics/metrics_int.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/limits.h"
#include "util/banned.h"

uint64_t
metrics_hash(const char *p, size_t n, uint64_t h)
{
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= (unsigned char)p[i];
		h *= 1099511628211ULL;
	}
	return h;
}

uint64_t
msample_hash(const struct metrics_sample *s)
{
	uint64_t h = metrics_hash(s->name, strlen(s->name) + 1, METRICS_HASH_SEED);
	size_t i;

	for (i = 0; i < s->nlabels; i++) {
		h = metrics_hash(s->labels[i].name, strlen(s->labels[i].name) + 1, h);
		h = metrics_hash(s->labels[i].value, strlen(s->labels[i].value) + 1, h);
	}
	return h;
}

int
msample_same_series(const struct metrics_sample *a, const struct metrics_sample *b)
{
	size_t i;

	if (a->nlabels != b->nlabels || strcmp(a->name, b->name) != 0)
		return 0;
	for (i = 0; i < a->nlabels; i++)
		if (strcmp(a->labels[i].name, b->labels[i].name) != 0 ||
		    strcmp(a->labels[i].value, b->labels[i].value) != 0)
			return 0;
	return 1;
}

struct metrics_set *
mset_new(enum metrics_format format)
{
	struct metrics_set *set = calloc(1, sizeof(*set));

	if (set == NULL)
		return NULL;
	set->format = format;
	return set;
}

static void
family_free(struct metrics_family *f)
{
	size_t i;

	if (f == NULL)
		return;
	for (i = 0; i < f->nsamples; i++)
		free(f->samples[i]);
	free(f->samples);
	free(f->name);
	free(f->help);
	free(f->unit);
	free(f);
}

void
metrics_set_free(struct metrics_set *set)
{
	size_t i;

	if (set == NULL)
		return;
	for (i = 0; i < set->nfamilies; i++)
		family_free(set->families[i]);
	free(set->families);
	free(set->ftable);
	free(set->stable);
	free(set);
}

struct metrics_family *
mset_family_lookup(const struct metrics_set *set, const char *name, size_t len)
{
	size_t mask, i;
	struct metrics_family *f;

	if (set->fsize == 0)
		return NULL;
	mask = set->fsize - 1;
	i = metrics_hash(name, len, METRICS_HASH_SEED) & mask;
	while ((f = set->ftable[i]) != NULL) {
		if (strlen(f->name) == len && memcmp(f->name, name, len) == 0)
			return f;
		i = (i + 1) & mask;
	}
	return NULL;
}

static int
ftable_grow(struct metrics_set *set)
{
	size_t nsize = set->fsize ? set->fsize * 2 : 64, i, j;
	struct metrics_family **t = calloc(nsize, sizeof(*t));

	if (t == NULL)
		return -1;
	for (i = 0; i < set->nfamilies; i++) {
		const char *n = set->families[i]->name;
		j = metrics_hash(n, strlen(n), METRICS_HASH_SEED) & (nsize - 1);
		while (t[j] != NULL)
			j = (j + 1) & (nsize - 1);
		t[j] = set->families[i];
	}
	free(set->ftable);
	set->ftable = t;
	set->fsize = nsize;
	return 0;
}

int
mset_family_add(struct metrics_set *set, const char *name, size_t len,
	struct metrics_family **out, struct err *e)
{
	struct metrics_family *f = NULL;
	size_t j;

	*out = NULL;
	if (set->nfamilies >= METRICS_MAX_FAMILIES)
		return err_set(e, ERR_TOO_LARGE, "more than %d metric families",
			METRICS_MAX_FAMILIES);
	if (set->nfamilies == set->cap) {
		size_t ncap = set->cap ? set->cap * 2 : 32;
		struct metrics_family **nf = realloc(set->families, ncap * sizeof(*nf));
		if (nf == NULL)
			goto nomem;
		set->families = nf;
		set->cap = ncap;
	}
	if ((set->nfamilies + 1) * 2 > set->fsize && ftable_grow(set) < 0)
		goto nomem;
	f = calloc(1, sizeof(*f));
	if (f == NULL || (f->name = buf_memdup0(name, len)) == NULL)
		goto nomem;
	f->type = METRICS_UNTYPED;
	set->families[set->nfamilies++] = f;
	j = metrics_hash(name, len, METRICS_HASH_SEED) & (set->fsize - 1);
	while (set->ftable[j] != NULL)
		j = (j + 1) & (set->fsize - 1);
	set->ftable[j] = f;
	*out = f;
	return 0;
nomem:
	family_free(f);
	return err_set(e, ERR_NOMEM, "out of memory storing metric families");
}

struct msample *
mset_series_lookup(const struct metrics_set *set, const struct msample *s)
{
	size_t mask, i;
	struct msample *x;

	if (set->ssize == 0)
		return NULL;
	mask = set->ssize - 1;
	i = s->hash & mask;
	while ((x = set->stable[i]) != NULL) {
		if (x->hash == s->hash && msample_same_series(&x->pub, &s->pub))
			return x;
		i = (i + 1) & mask;
	}
	return NULL;
}

static int
stable_grow(struct metrics_set *set)
{
	size_t nsize = set->ssize ? set->ssize * 2 : 256, i, j, k;
	struct msample **t = calloc(nsize, sizeof(*t));

	if (t == NULL)
		return -1;
	for (i = 0; i < set->nfamilies; i++) {
		struct metrics_family *f = set->families[i];
		for (k = 0; k < f->nsamples; k++) {
			j = f->samples[k]->hash & (nsize - 1);
			while (t[j] != NULL)
				j = (j + 1) & (nsize - 1);
			t[j] = f->samples[k];
		}
	}
	free(set->stable);
	set->stable = t;
	set->ssize = nsize;
	return 0;
}

int
mset_sample_add(struct metrics_set *set, struct metrics_family *f, struct msample *s,
	struct err *e)
{
	size_t j;

	if (set->nsamples >= METRICS_MAX_SERIES)
		return err_set(e, ERR_TOO_LARGE, "more than %d series", METRICS_MAX_SERIES);
	if ((set->nsamples + 1) * 2 > set->ssize && stable_grow(set) < 0)
		goto nomem;
	if (f->nsamples == f->cap) {
		size_t ncap = f->cap ? f->cap * 2 : 4;
		struct msample **ns = realloc(f->samples, ncap * sizeof(*ns));
		if (ns == NULL)
			goto nomem;
		f->samples = ns;
		f->cap = ncap;
	}
	s->family = f;
	f->samples[f->nsamples++] = s;
	j = s->hash & (set->ssize - 1);
	while (set->stable[j] != NULL)
		j = (j + 1) & (set->ssize - 1);
	set->stable[j] = s;
	set->nsamples++;
	return 0;
nomem:
	return err_set(e, ERR_NOMEM, "out of memory storing samples");
}

enum metrics_format
metrics_format_from_content_type(const char *ct)
{
	if (ct == NULL)
		return METRICS_FORMAT_AUTO;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	if (strncasecmp(ct, "application/openmetrics-text", 28) == 0)
		return METRICS_FORMAT_OPENMETRICS;
	if (strncasecmp(ct, "text/plain", 10) == 0)
		return METRICS_FORMAT_PROMETHEUS;
	return METRICS_FORMAT_AUTO;
}

enum metrics_format
metrics_set_format(const struct metrics_set *set)
{
	return set->format;
}

size_t
metrics_set_family_count(const struct metrics_set *set)
{
	return set->nfamilies;
}

const struct metrics_family *
metrics_set_family_at(const struct metrics_set *set, size_t i)
{
	return i < set->nfamilies ? set->families[i] : NULL;
}

size_t
metrics_set_sample_count(const struct metrics_set *set)
{
	return set->nsamples;
}

const struct metrics_family *
metrics_set_family(const struct metrics_set *set, const char *name)
{
	const struct metrics_family *f;
	size_t len = strlen(name);
	char tmp[METRICS_MAX_NAME_BYTES + 8];

	f = mset_family_lookup(set, name, len);
	if (f != NULL)
		return f;
	if (len > 6 && strcmp(name + len - 6, "_total") == 0) {
		f = mset_family_lookup(set, name, len - 6);
		if (f != NULL && f->type == METRICS_COUNTER)
			return f;
	} else if (len <= METRICS_MAX_NAME_BYTES) {
		memcpy(tmp, name, len);
		memcpy(tmp + len, "_total", 6);
		f = mset_family_lookup(set, tmp, len + 6);
		if (f != NULL && f->type == METRICS_COUNTER)
			return f;
	}
	return NULL;
}

const char *
metrics_family_name(const struct metrics_family *f)
{
	return f->name;
}

const char *
metrics_family_help(const struct metrics_family *f)
{
	return f->help ? f->help : "";
}

const char *
metrics_family_unit(const struct metrics_family *f)
{
	return f->unit ? f->unit : "";
}

enum metrics_type
metrics_family_type(const struct metrics_family *f)
{
	return f->type;
}

size_t
metrics_family_sample_count(const struct metrics_family *f)
{
	return f->nsamples;
}

const struct metrics_sample *
metrics_family_sample_at(const struct metrics_family *f, size_t i)
{
	return i < f->nsamples ? &f->samples[i]->pub : NULL;
}

const char *
metrics_type_name(enum metrics_type t)
{
	switch (t) {
	case METRICS_COUNTER: return "counter";
	case METRICS_GAUGE: return "gauge";
	case METRICS_HISTOGRAM: return "histogram";
	case METRICS_SUMMARY: return "summary";
	case METRICS_GAUGEHISTOGRAM: return "gaugehistogram";
	case METRICS_INFO: return "info";
	case METRICS_STATESET: return "stateset";
	case METRICS_UNTYPED: break;
	}
	return "untyped";
}

const char *
metrics_sample_label(const struct metrics_sample *s, const char *name)
{
	size_t lo = 0, hi = s->nlabels;

	/* Labels are sorted by name: binary search. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(s->labels[mid].name, name);
		if (c == 0)
			return s->labels[mid].value;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

int
metrics_sample_matches(const struct metrics_sample *s, const struct metrics_matcher *m,
	size_t nm)
{
	size_t i;

	for (i = 0; i < nm; i++) {
		const char *v = metrics_sample_label(s, m[i].name);
		if (strcmp(v ? v : "", m[i].value ? m[i].value : "") != 0)
			return 0;
	}
	return 1;
}

const struct metrics_sample *
metrics_set_find(const struct metrics_set *set, const char *family, const char *sample_name,
	const struct metrics_matcher *m, size_t nm)
{
	const struct metrics_family *f = metrics_set_family(set, family);
	size_t i;

	if (f == NULL)
		return NULL;
	for (i = 0; i < f->nsamples; i++) {
		const struct metrics_sample *s = &f->samples[i]->pub;
		if (sample_name != NULL && strcmp(s->name, sample_name) != 0)
			continue;
		if (metrics_sample_matches(s, m, nm))
			return s;
	}
	return NULL;
}

/* True when the name ends with `suffix`. */
static int
ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && strcmp(s + n - k, suffix) == 0;
}

int
metrics_set_sum(const struct metrics_set *set, const char *family,
	const struct metrics_matcher *m, size_t nm, double *out, struct err *e)
{
	const struct metrics_family *f = metrics_set_family(set, family);
	double sum = 0;
	size_t i, n = 0;

	*out = NAN;
	if (f == NULL)
		return err_set(e, ERR_NOT_FOUND, "no metric family '%s'", family);
	for (i = 0; i < f->nsamples; i++) {
		const struct metrics_sample *s = &f->samples[i]->pub;
		if (f->type == METRICS_COUNTER && ends_with(s->name, "_created"))
			continue;
		if (!metrics_sample_matches(s, m, nm))
			continue;
		sum += s->value;
		n++;
	}
	if (n == 0)
		return err_set(e, ERR_NOT_FOUND, "no sample of '%s' matches", family);
	*out = sum;
	return 0;
}
