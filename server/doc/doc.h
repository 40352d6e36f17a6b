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
 *
 * The details, where Kubernetes or YAML leave a choice:
 *   - A float with an integral value that fits in 64 bits is an integer (1e3,
 *     3.0, 08): sigs.k8s.io/yaml writes it so in JSON. JSON 3.0 loads as 3 too,
 *     so equal configurations have equal canonical JSON. JSON integers beyond
 *     int64 load as reals (as Go reads them); other integers stay exact.
 *   - .inf and .nan (and -.inf) are refused with ERR_INVALID: JSON cannot hold
 *     them and Kubernetes refuses them too. Quoted, they are strings.
 *   - Map keys become strings as sigs.k8s.io/yaml makes them: on/yes/y -> "true",
 *     1 -> "1", 1.5 -> "1.5", 1e6 -> "1e+06". A null key, or a mapping or list
 *     used as a key, is refused.
 *   - Duplicate keys are refused in YAML as in JSON (kubectl's strict field
 *     validation does the same); keys that collide after conversion (yes, on)
 *     are duplicates. Keys brought in by << are not.
 *   - Merge keys: keys written in the mapping win over merged ones wherever the
 *     << stands; in `<<: [*a, *b]` the earlier mapping wins.
 *   - An alias is a deep copy (no two places share a value). Limits per
 *     document: DOC_MAX_ALIAS_EXPANSION alias uses and DOC_MAX_ALIAS_NODES nodes
 *     copied by aliases (ERR_TOO_LARGE at the first alias that would pass
 *     either, before copying). An alias inside the node it names is refused.
 *   - DOC_MAX_NODES counts every scalar (keys included), mapping and list of
 *     the whole input; DOC_MAX_DEPTH counts nested mappings and lists.
 *   - Tags: !!str, !!binary (kept as its base64 text), !!timestamp and local
 *     tags give the text as a string; !!int, !!float, !!bool, !!null must match
 *     the text or the load fails.
 *   - A NUL character in a scalar is refused (YAML \0, JSON \u0000).
 *   - DOC_AUTO: text that looks like JSON is read as JSON only, like kubectl's
 *     YAML-or-JSON decoder; flow-style YAML starting with '{' then fails as JSON.
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
 * Strings that YAML would read as something else are quoted. Appends to out.
 * Layout as kubectl writes it: two spaces, list items at their key's level,
 * multi-line strings as literal blocks (|) when they can be, long keys (over 128
 * bytes) as explicit "? " keys. Loading the output gives a value equal to v.
 * ERR_TOO_LARGE when out's cap is reached or v nests deeper than DOC_MAX_DEPTH. */
int doc_emit_yaml(const json_t *v, struct buf *out, struct err *e);

/* Canonical JSON (keys sorted bytewise, compact, UTF-8 unescaped, integers exact,
 * reals with 17 significant digits): the input of the content hash of a
 * snapshot. Equal values give equal bytes. Appends to out. */
int doc_canonical_json(const json_t *v, struct buf *out, struct err *e);

/* Lower-case hex SHA-256 of bytes; out has room for 64 chars + NUL. */
void doc_sha256_hex(const void *p, size_t n, char out[65]);

#endif
