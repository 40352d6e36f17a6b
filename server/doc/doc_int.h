/*
 * doc_int.h - what the files of the doc module share; not for other modules.
 */
#ifndef SKEWD_DOC_DOC_INT_H
#define SKEWD_DOC_DOC_INT_H

#include <stddef.h>
#include <jansson.h>

struct err;

/* What a scalar resolves to (the YAML 1.1 types go-yaml v2 knows). */
enum scalar_kind {
	SCALAR_STR = 0,
	SCALAR_NULL,
	SCALAR_BOOL,
	SCALAR_INT,
	SCALAR_FLOAT,
	SCALAR_MERGE
};

struct scalar {
	enum scalar_kind kind;
	int b;          /* SCALAR_BOOL */
	long long i;    /* SCALAR_INT */
	double f;       /* SCALAR_FLOAT; may be infinite or NaN */
};

/* Resolves the text of a plain (unquoted, untagged) scalar as go-yaml v2 does.
 * `s` holds `n` bytes; it need not be NUL-terminated. */
void doc_resolve_plain(const char *s, size_t n, struct scalar *out);

/* Formats a float map key as sigs.k8s.io/yaml does (Go's FormatFloat(f, 'g', -1, 32),
 * with .inf, -.inf and .nan). `out` has room for 64 bytes. */
void doc_format_float_key(double f, char out[64]);

/* A float as a JSON number: an integral value that fits in 64 bits becomes an
 * integer (that is how Kubernetes' YAML-to-JSON conversion writes it). Returns
 * NULL for an infinite or NaN value or when out of memory. */
json_t *doc_number_from_double(double f);

/* Loads a JSON text (one value or a stream of values) into `out` (a jansson array
 * the values are appended to, null values dropped). */
int doc_json_load(const char *name, const char *data, size_t len, json_t *out, struct err *e);

/* Loads a YAML stream into `out` (a jansson array), empty and null documents dropped. */
int doc_yaml_load(const char *name, const char *data, size_t len, json_t *out, struct err *e);

#endif
