/*
 * metrics_int.h - the insides of a parsed metrics set, shared by the files of
 * server/metrics/. Not for other modules.
 */
#ifndef SKEWD_METRICS_METRICS_INT_H
#define SKEWD_METRICS_METRICS_INT_H

#include <stddef.h>
#include <stdint.h>

#include "metrics/metrics.h"

/* A stored sample: one allocation holding this struct, its label array and its strings. */
struct msample {
	struct metrics_sample pub;   /* first member: handed out as the public view */
	struct metrics_family *family;
	uint64_t hash;               /* of name and labels, for the series table */
};

struct metrics_family {
	char *name;
	char *help;
	char *unit;
	enum metrics_type type;
	int has_type;
	int has_help;
	int has_unit;
	struct msample **samples;
	size_t nsamples;
	size_t cap;
};

struct metrics_set {
	enum metrics_format format;
	struct metrics_family **families;  /* in order of appearance */
	size_t nfamilies;
	size_t cap;
	struct metrics_family **ftable;    /* open addressing by name, size a power of 2 */
	size_t fsize;
	struct msample **stable;           /* open addressing by series, size a power of 2 */
	size_t ssize;
	size_t nsamples;
};

uint64_t metrics_hash(const char *p, size_t n, uint64_t h);
#define METRICS_HASH_SEED 1469598103934665603ULL

struct metrics_set *mset_new(enum metrics_format format);
struct metrics_family *mset_family_lookup(const struct metrics_set *set, const char *name,
	size_t len);
/* Adds an empty family; -1 on out of memory or over METRICS_MAX_FAMILIES (e filled). */
int mset_family_add(struct metrics_set *set, const char *name, size_t len,
	struct metrics_family **out, struct err *e);
/* Finds a stored sample with the same series as `s`, or NULL. */
struct msample *mset_series_lookup(const struct metrics_set *set, const struct msample *s);
/* Adds a sample to its family and the series table; takes ownership of `s` on success only. */
int mset_sample_add(struct metrics_set *set, struct metrics_family *f, struct msample *s,
	struct err *e);
uint64_t msample_hash(const struct metrics_sample *s);
int msample_same_series(const struct metrics_sample *a, const struct metrics_sample *b);

/* Reads a whole float token as the exposition formats write it; 0 or -1. */
int metrics_parse_float(const char *p, size_t n, double *out);

#endif
