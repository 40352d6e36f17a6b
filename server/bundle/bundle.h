/*
 * bundle.h - evidence bundles: redaction, and the .tar.gz a ticket holds.
 *
 * Redaction (redact_*) masks secrets in JSON values and in text with the
 * rules in server/bundle/redact.yaml (compiled in; docs/bundles.md): values
 * whose names look secret (env vars, keys, flags, diff paths), Secret data,
 * credentials in URLs, presigned URL signatures, bearer and basic
 * credentials, PEM blocks, JWTs, Hugging Face and OpenAI-style keys. Each
 * distinct secret value becomes one stable token "[REDACTED:N]" for the life
 * of a `struct redact` (one bundle), so the same secret on both sides of a
 * diff shows the same token. Every masked value leaves a record saying where
 * (file and JSON pointer, or file and line) and by which rule, never the
 * value. Values starting with "hmac-sha256:" are one-way hashes and are kept.
 *
 * A bundle (bundle_write) is a gzip'd ustar archive with one folder
 * "skewd-bundle-<id>/" holding exactly the files of BUNDLE_FILES, each a
 * regular file, mode 0644, owner 0/0 with no user names, mtime the creation
 * time. Everything that enters it goes through one `struct redact`. It is
 * written to a temporary file in the target folder, synced, and renamed into
 * place, so the final name never holds a partial bundle.
 *
 * Thread-safety: a `struct redact` belongs to one thread; bundle_write() uses
 * its own and may run on any thread.
 */
#ifndef SKEWD_BUNDLE_BUNDLE_H
#define SKEWD_BUNDLE_BUNDLE_H

#include <stddef.h>
#include <time.h>
#include <jansson.h>

#include "util/limits.h"

struct err;
struct buf;
struct redact;

/* Loads the built-in rules. Returns 0 and *out, or -1 with e set. */
int redact_new(struct redact **out, struct err *e);
/* NULL-safe. The token map dies with it. */
void redact_free(struct redact *r);

/* 1 when the names rules call `name` secret (an env var, a key, a flag without
 * its dashes), else 0. */
int redact_name_is_secret(const struct redact *r, const char *name);

/*
 * A redacted deep copy of `in` (new reference in *out; `in` is borrowed and not
 * changed). `file` names the document in the records (e.g. "current.yaml").
 * Objects: a string or number under a secret name, an env entry's "value" when
 * its "name" is secret, every value of a Secret's data/stringData, and a diff
 * change's before/after (and summary) when its path or setting names a secret.
 * Arrays of strings: the element after a secret flag ("--api-key", "X"). Every
 * other string goes through the text rules. `file` may be "FILE#/json/pointer"
 * when the value is placed at that pointer of FILE (records then say so).
 * Returns 0, or -1 with e set.
 */
int redact_json(struct redact *r, const json_t *in, const char *file, json_t **out,
    struct err *e);

/* Learns the secret values of `in` (those redact_json() would mask by name or by
 * kind; for a Secret's base64 data also the decoded value), without changing or
 * recording anything. From then on text that repeats one of them literally (a
 * Secret's value in a log line) is masked with that value's token (rule
 * "known-value"). Values shorter than REDACT_MIN_KNOWN_BYTES are not learnt.
 * Returns 0, or -1 with e set. */
int redact_learn(struct redact *r, const json_t *in, struct err *e);

/* Appends the redacted `text` (len bytes, may hold any bytes) to out; records
 * name `file` and the 1-based line. Lines are kept: a masked value that spanned
 * lines is followed by as many newlines. Returns 0, or -1 with e set. */
int redact_text(struct redact *r, const char *text, size_t len, const char *file,
    struct buf *out, struct err *e);

/* Distinct values masked so far. */
size_t redact_value_count(const struct redact *r);
/* The report: {"tokens": N, "records": [{"file", "pointer"|"line", "rule", "token"}],
 * "records_dropped": N}; new reference, NULL when out of memory. */
json_t *redact_report(const struct redact *r);

/* The files of a bundle, in archive order (MANIFEST.sha256 last). */
#define BUNDLE_FILES { "SUMMARY.md", "bundle.json", "diff.json", "diff.patch", \
	"baseline.yaml", "current.yaml", "metrics.json", "redaction.json", "MANIFEST.sha256" }
#define BUNDLE_NFILES 9

struct bundle_input {
	/* skewd.snapshot/v1 configuration documents. `baseline` may be NULL (no last
	 * good yet); `current` is required. Borrowed. */
	const json_t *baseline;
	const json_t *current;
	/* skewd.evidence/v1 documents of each side; may be NULL. */
	const json_t *baseline_evidence;
	const json_t *current_evidence;
	/* The skewd.diff/v1 document of baseline -> current; NULL: the bundle runs the
	 * diff itself (built-in rules) on the redacted sides. */
	const json_t *diff;
	/* metrics_extract() results: one, or {"baseline": ..., "current": ...}; may be NULL. */
	const json_t *metrics;
	/* metrics_verdict() result; may be NULL. */
	const json_t *verdict;
	/* Names of the sides (snapshot ids, "baseline"); may be NULL. */
	const char *baseline_label;
	const char *current_label;
	/* When the baseline was marked last good (0: unknown) and why (may be NULL). */
	time_t baseline_marked_at;
	const char *baseline_note;
	/* Creation time (0: now) and the size cap of the files (0: BUNDLE_MAX_BYTES). */
	time_t created;
	size_t max_bytes;
};

#define BUNDLE_INPUT_INIT { NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL, 0, 0 }

/* A fresh id: BUNDLE_ID_BYTES random bytes as BUNDLE_ID_CHARS lower-case base32
 * characters. Returns 0, or -1 with e set when no randomness is available. */
int bundle_id_new(char out[BUNDLE_ID_CHARS + 1], struct err *e);
/* 1 when `id` has the shape of a bundle id (safe in a path), else 0. */
int bundle_id_valid(const char *id);

/*
 * Writes "<dir>/skewd-bundle-<id>.tar.gz" with a new id. *meta (new reference):
 * {"id", "file" (the name in dir), "bytes", "sha256" (of the archive), "created"
 * (RFC 3339), "files": [{"name", "bytes", "sha256"}], "truncated": [...],
 * "redactions": N}. Over the size cap, log lines go first, then events, then the
 * evidence; each cut is listed in "truncated" (also in bundle.json); when the
 * files are still over the cap it fails with ERR_TOO_LARGE. Returns 0, or -1 with
 * e set and no file left under the final name or a temporary one.
 */
int bundle_write(const struct bundle_input *in, const char *dir, json_t **meta, struct err *e);

#endif
