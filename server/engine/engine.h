/*
 * engine.h - what a serving engine's command line means.
 *
 * Given a Kubernetes container (command, args, env, image), engine_parse()
 * finds which serving engine it runs (vLLM, TGI, SGLang, Triton/TensorRT-LLM,
 * NIM, or unknown), tokenises `sh -c` / `bash -c` strings like a POSIX shell,
 * and turns flags and env twins into canonical settings:
 *
 *   --max-model-len 8192, --max_model_len=8192  ->  max_model_len = 8192
 *   -tp 2                                       ->  tensor_parallel_size = 2
 *   --no-enable-prefix-caching                  ->  enable_prefix_caching = false
 *   MAX_TOTAL_TOKENS=4096 (TGI env)             ->  max_total_tokens = 4096
 *   --hf-overrides '{"a":1}'                    ->  hf_overrides = {"a":1} (JSON)
 *
 * The last occurrence of a repeated flag wins. An unknown engine still gets a
 * generic flag parse (names canonicalised, no knowledge attached).
 *
 * The knowledge about each setting (category, severity, documented default by
 * engine version, why a change matters) is data: server/engine/knowledge.yaml,
 * compiled into the binary; engine_knob_find() looks it up.
 *
 * Thread-safety: parse results are independent values; the knowledge table is
 * read-only after engine_init().
 */
#ifndef SKEWD_ENGINE_ENGINE_H
#define SKEWD_ENGINE_ENGINE_H

#include <stddef.h>
#include <jansson.h>

struct err;

enum engine_kind {
	ENGINE_UNKNOWN = 0,
	ENGINE_VLLM,
	ENGINE_TGI,
	ENGINE_SGLANG,
	ENGINE_TRITON,  /* tritonserver, incl. the TensorRT-LLM backend */
	ENGINE_NIM,
	ENGINE__COUNT
};

/* Where a setting came from. */
enum engine_source { ENGINE_SRC_ARG, ENGINE_SRC_ENV, ENGINE_SRC_POSITIONAL, ENGINE_SRC_CONFIG };

struct engine_setting {
	const char *name;          /* canonical, snake_case: "max_model_len" */
	json_t *value;             /* typed: integer, real, bool, string, or parsed JSON */
	enum engine_source source;
	const char *raw;           /* as written: "--max_model_len", "-tp", "MAX_TOTAL_TOKENS" */
};

/* Knowledge about one setting of one engine (from knowledge.yaml). */
struct engine_knob {
	const char *name;          /* canonical */
	const char *category;      /* "model" | "runtime" | "hardware" | "serving" | "orchestration" | "other" */
	const char *severity;      /* "critical" | "high" | "medium" | "low" | "info" */
	const char *why;           /* one line: why a change matters, e.g. "different numerics; outputs may change" */
	const json_t *default_value; /* documented default for the engine (NULL when none); borrowed */
	const char *default_note;  /* e.g. "256 before v0.6, 1024 on V1 with GPU"; may be NULL */
};

struct engine_parse;

/* Loads the compiled-in knowledge table; call once at start-up. Returns 0 or -1 with e set. */
int engine_init(struct err *e);

/* Parses one container object ({"name","image","command","args","env"} as in a pod spec).
 * Returns 0 and a result in *out (free with engine_parse_free), or -1 with e set when the
 * input is over a limit in util/limits.h. An unrecognised engine is not an error. */
int engine_parse(const json_t *container, struct engine_parse **out, struct err *e);
void engine_parse_free(struct engine_parse *p);

enum engine_kind engine_parse_kind(const struct engine_parse *p);
/* Engine version from the image tag ("v0.8.5" -> "0.8.5"), or NULL. Borrowed. */
const char *engine_parse_version(const struct engine_parse *p);
size_t engine_parse_count(const struct engine_parse *p);
/* Settings in a stable order (sorted by name). Borrowed from p. */
const struct engine_setting *engine_parse_at(const struct engine_parse *p, size_t i);
const struct engine_setting *engine_parse_get(const struct engine_parse *p, const char *name);
/* {"engine": "vllm", "version": "0.8.5"|null, "settings": {name: value, ...},
 *  "raw": {name: "--flag", ...}}; new reference. */
json_t *engine_parse_to_json(const struct engine_parse *p);

const char *engine_kind_name(enum engine_kind k);          /* "vllm", "tgi", ... "unknown" */
enum engine_kind engine_kind_from_name(const char *name);  /* ENGINE_UNKNOWN when unknown */

/* Knowledge for a canonical setting name, or NULL. Borrowed, valid after engine_init(). */
const struct engine_knob *engine_knob_find(enum engine_kind k, const char *name);

/* Splits a shell command string as POSIX sh would for words (quotes, backslashes;
 * no expansion: $VAR stays literal). *argv is a NULL-terminated array; free with
 * engine_argv_free(). Returns 0, or -1 with e set (unterminated quote, over a limit). */
int engine_split_shell(const char *s, char ***argv, size_t *argc, struct err *e);
void engine_argv_free(char **argv);

/* 1 when an env var or flag name looks like it holds a credential (token,
 * password, secret, api key, ...). Such values are never copied into a
 * setting: a known secret setting gets the value "(redacted)". */
int engine_name_is_secret(const char *name);

/* 1 when a value (an env value, a flag value, a ConfigMap value, a log line)
 * carries a credential whatever it is named: a URL with user info
 * ("postgresql://app:pw@db"), an Authorization header or a bearer token, or a
 * secret-named key=value / key: value pair inside the text. */
int engine_value_has_credential(const char *s, size_t n);

/* 1 when value is exactly what the collector stores for a secret: "hmac-sha256:"
 * and 64 lower-case hex digits (an install-keyed HMAC, one-way). Such a value is
 * kept by every redactor; anything else that merely starts with the prefix
 * ("hmac-sha256:hunter2") is a value like any other. */
int engine_is_install_hmac(const char *value, size_t len);

/* What stands for a secret value (an API key flag, an HF_TOKEN env value):
 * "<redacted:" + 12 hex of SHA-256 under a per-process salt + ">", so equal
 * values compare equal within one run and nothing can be looked up outside
 * it; a value that is already an install HMAC ("hmac-sha256:" + 64 lower-case
 * hex, nothing else) is kept.
 * engine_redact_text() writes it into out (ENGINE_REDACTED_MAX bytes is
 * always enough); engine_redact_value() returns it as a new JSON string.
 * Thread-safe. */
#define ENGINE_REDACTED_MAX 160
void engine_redact_text(const char *value, size_t len, char *out, size_t outsz);
json_t *engine_redact_value(const char *value, size_t len);

#endif
