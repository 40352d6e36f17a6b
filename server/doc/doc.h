/*
 * doc.h - structured documents: YAML and JSON in, jansson values out.
 *
 * Everything skewd reads as a document (kubectl output, GitOps files, saved
 * last-good YAML, uploads, snapshot documents) comes through here, so it is
 * bounded and reported the same way everywhere:
 *
 *   - YAML: multi-document streams; plain scalars resolved the way Kubernetes
 *     (sigs.k8s.io/yaml, YAML 1.1) resolves them: true/false/yes/no/on/off,
 *     null/~/empty, ints (incl. 0x, 0o, 1.1 octal), floats, .inf/.nan;
 *     quoted scalars and !!str stay strings; anchors/aliases and merge keys
 *     (<<) expanded with a cap on expansion (DOC_MAX_ALIAS_EXPANSION, billion
 *     laughs) and cycles refused.
 *   - JSON: one value, or a JSON stream of values; duplicate keys refused.
 *   - Limits from util/limits.h: bytes, depth, nodes, scalar size, documents.
 *   - Errors: ERR_INVALID / ERR_TOO_LARGE with "NAME:LINE:COLUMN: reason"
 *     (1-based), never a crash.
 *
 * A document set owns its values; doc_set_get() hands out borrowed references.
 */
#ifndef SKEWD_DOC_DOC_H
#define SKEWD_DOC_DOC_H

#include <stddef.h>
#include <jansson.h>

struct err;
struct buf;
struct doc_set;

enum doc_format { DOC_AUTO = 0, DOC_YAML, DOC_JSON };

/* Reads a file (at most DOC_MAX_BYTES). `path` "-" reads standard input. */
int doc_load_file(const char *path, enum doc_format fmt, struct doc_set **out, struct err *e);
/* Parses memory; `name` is used in error messages. DOC_AUTO picks JSON when the first
 * non-blank byte is '{' or '[', YAML otherwise (YAML errors then name the line). */
int doc_load_mem(const char *name, const void *data, size_t len, enum doc_format fmt,
    struct doc_set **out, struct err *e);
void doc_set_free(struct doc_set *d);

/* Number of documents (empty and null documents are dropped). */
size_t doc_set_count(const struct doc_set *d);
/* The i-th document; borrowed, valid until doc_set_free(). */
json_t *doc_set_get(const struct doc_set *d, size_t i);

/* Writes v as block YAML with keys sorted, for people and for unified diffs.
 * Strings that YAML would read as something else are quoted. Appends to out. */
int doc_emit_yaml(const json_t *v, struct buf *out, struct err *e);

/* Canonical JSON (keys sorted, compact, UTF-8, integers exact): the input of the
 * content hash of a snapshot. Appends to out. */
int doc_canonical_json(const json_t *v, struct buf *out, struct err *e);

/* Lower-case hex SHA-256 of bytes; out has room for 64 chars + NUL. */
void doc_sha256_hex(const void *p, size_t n, char out[65]);

#endif
