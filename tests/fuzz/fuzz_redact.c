/*
 * fuzz_redact.c - libFuzzer target for the bundle redactor (server/bundle/
 * redact.c with the compiled-in redact.yaml) and engine_redact_value().
 *
 * The input is used twice. As documents (doc_load_mem, any format): each is
 * learnt (redact_learn), then redacted (redact_json) with a canary planted in
 * it: an env entry {"name": "HF_TOKEN", "value": CANARY} and a string
 * "Authorization: Bearer CANARY". As text: redact_text() over the input with
 * a line "Authorization: Bearer CANARY" inserted at a line start the first
 * byte picks. Properties (an abort when broken):
 *   - the canary never appears in a redacted document, a redacted text or the
 *     redaction report (unless the input itself holds it);
 *   - redacted text keeps the number of lines;
 *   - engine_redact_value() of each input line is a string that does not hold
 *     the line.
 * Built by hand, not by CMake's default build (tests/lint/fuzz_smoke.sh does the same):
 *
 *   cmake -DIN=server/bundle/redact.yaml -DOUT=redact_rules.c -DNAME=redact_rules_yaml \
 *       -P server/util/embed.cmake
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Iserver \
 *       tests/fuzz/fuzz_redact.c redact_rules.c server/bundle/redact.c server/engine/redact.c \
 *       server/doc/[a-z]*.c server/util/buf.c server/util/err.c -lyaml -ljansson -lcrypto -lm \
 *       -o fuzz_redact
 *   ./fuzz_redact -max_total_time=60 -max_len=65536 CORPUS_DIR tests/fixtures/bundle
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundle/bundle.h"
#include "doc/doc.h"
#include "engine/engine.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/banned.h"

#define CANARY "c4n4ryT0k3n-8f1e2d3c4b5a69788796"
#define CANARY_MARK "4n4ry"
#define HEADER "Authorization: Bearer " CANARY

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_redact: %s\n", what);
		abort();
	}
}

static void
no_canary(const char *s, size_t n, const char *where)
{
	if (s != NULL && memmem(s, n, CANARY, strlen(CANARY)) != NULL) {
		fprintf(stderr, "fuzz_redact: the canary survived in %s: %.*s\n", where,
		    n > 4096 ? 4096 : (int)n, s);
		abort();
	}
}

/* The document with the canary planted: into it when it is an object, else
 * beside it. New reference, or NULL. */
static json_t *
plant(const json_t *doc)
{
	json_t *v = json_is_object(doc) ? json_deep_copy(doc) : json_pack("{s:O}", "items", doc);

	if (v == NULL)
		return NULL;
	json_object_set_new(v, "env", json_pack("[{s:s, s:s}]", "name", "HF_TOKEN", "value", CANARY));
	json_object_set_new(v, "note", json_string(HEADER));
	return v;
}

static void
documents(struct redact *r, const uint8_t *data, size_t size, int canary)
{
	struct doc_set *ds = NULL;
	struct err e = ERR_INIT;
	size_t i;

	if (doc_load_mem("fuzz.yaml", (const char *)data, size, DOC_AUTO, &ds, &e) < 0)
		return;
	for (i = 0; i < doc_set_count(ds); i++) {
		json_t *doc = doc_set_get(ds, i), *planted = plant(doc), *out = NULL;
		char *dump;

		e = (struct err)ERR_INIT;
		if (redact_learn(r, doc, &e) < 0) {
			check(e.msg[0] != '\0', "an error has a message");
			e = (struct err)ERR_INIT;
		}
		if (planted == NULL)
			continue;
		if (redact_json(r, planted, "current.yaml#/objects/0", &out, &e) == 0) {
			dump = json_dumps(out, JSON_COMPACT | JSON_ENCODE_ANY);
			check(dump != NULL, "the redacted document dumps");
			if (canary)
				no_canary(dump, strlen(dump), "a redacted document");
			free(dump);
			json_decref(out);
		} else {
			check(out == NULL && e.msg[0] != '\0', "a failure has a message and no result");
		}
		json_decref(planted);
	}
	doc_set_free(ds);
}

static size_t
count_lines(const char *s, size_t n)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++)
		if (s[i] == '\n')
			k++;
	return k;
}

static void
text(struct redact *r, const uint8_t *data, size_t size, int canary)
{
	struct buf in = BUF_INIT(4 * 1024 * 1024), out = BUF_INIT(64 * 1024 * 1024);
	struct err e = ERR_INIT;
	size_t at = 0, want = 0, lines = 0, i;

	/* Insert the header line at the start of line number data[0] (or at the end). */
	for (i = 0; i < size && lines < data[0]; i++)
		if (data[i] == '\n') {
			lines++;
			at = i + 1;
		}
	if (lines < data[0])
		at = size;
	if (buf_add(&in, data, at, &e) < 0 ||
	    (at > 0 && data[at - 1] != '\n' && buf_addch(&in, '\n', &e) < 0) ||
	    (canary && buf_add(&in, HEADER "\n", strlen(HEADER) + 1, &e) < 0) ||
	    buf_add(&in, data + at, size - at, &e) < 0) {
		buf_release(&in);
		return;
	}
	want = count_lines(buf_str(&in), buf_len(&in));
	if (redact_text(r, buf_str(&in), buf_len(&in), "logs/server.log", &out, &e) == 0) {
		check(count_lines(buf_str(&out), buf_len(&out)) == want, "redacted text keeps the lines");
		if (canary)
			no_canary(buf_str(&out), buf_len(&out), "redacted text");
	} else {
		check(e.msg[0] != '\0', "an error has a message");
	}
	buf_release(&in);
	buf_release(&out);
}

static void
engine_values(const uint8_t *data, size_t size)
{
	size_t i = 0;

	while (i < size) {
		const char *line = (const char *)data + i;
		const char *nl = memchr(line, '\n', size - i);
		size_t len = nl != NULL ? (size_t)(nl - line) : size - i;
		json_t *v = engine_redact_value(line, len);

		check(v != NULL && json_is_string(v), "engine_redact_value gives a string");
		if (len > 24 && memmem(line, len, "hmac-sha256:", 12) == NULL)
			check(memmem(json_string_value(v), json_string_length(v), line, len) == NULL,
			    "engine_redact_value hides the value");
		json_decref(v);
		i += len + 1;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct redact *r = NULL;
	struct err e = ERR_INIT;
	json_t *report;
	char *dump;
	int canary = memmem(data, size, CANARY_MARK, strlen(CANARY_MARK)) == NULL;

	if (size == 0)
		return 0;
	if (redact_new(&r, &e) < 0) {
		fprintf(stderr, "redact_new: %s\n", e.msg);
		abort();
	}
	documents(r, data, size, canary);
	text(r, data, size, canary);
	report = redact_report(r);
	check(report != NULL, "a report");
	dump = json_dumps(report, JSON_COMPACT);
	check(dump != NULL, "the report dumps");
	no_canary(dump, strlen(dump), "the report");
	free(dump);
	json_decref(report);
	check(redact_name_is_secret(r, "HF_TOKEN") == 1, "HF_TOKEN is a secret name");
	redact_free(r);
	engine_values(data, size);
	return 0;
}
