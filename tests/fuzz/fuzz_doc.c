/*
 * fuzz_doc.c - libFuzzer target for the document loader and writers.
 *
 * Loads the bytes as DOC_AUTO; for each document loaded, writes block YAML and
 * canonical JSON, loads the YAML again and checks that the value and its
 * canonical JSON are unchanged (an emitter bug is a crash here). Built by hand,
 * not by CMake's default build:
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Iserver \
 *       tests/fuzz/fuzz_doc.c server/doc/[a-z]*.c server/util/buf.c server/util/err.c \
 *       -lyaml -ljansson -lcrypto -lm -o fuzz_doc
 *   ./fuzz_doc -max_total_time=60 -max_len=65536 CORPUS_DIR tests/fixtures/corpus/manifests
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "doc/doc.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/banned.h"

/* Output cap per document; the inputs are small. */
#define FUZZ_MAX_OUT (16 * 1024 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_round_trip(const json_t *v)
{
	struct buf yaml = BUF_INIT(FUZZ_MAX_OUT), c1 = BUF_INIT(FUZZ_MAX_OUT), c2 = BUF_INIT(FUZZ_MAX_OUT);
	struct err e = ERR_INIT;
	struct doc_set *again = NULL;

	if (doc_canonical_json(v, &c1, &e) < 0) {
		fprintf(stderr, "canonical JSON failed: %s\n", e.msg);
		abort();
	}
	if (doc_emit_yaml(v, &yaml, &e) < 0) {
		fprintf(stderr, "emitting YAML failed: %s\n", e.msg);
		abort();
	}
	if (doc_load_mem("emitted", buf_str(&yaml), buf_len(&yaml), DOC_YAML, &again, &e) < 0) {
		fprintf(stderr, "emitted YAML does not load: %s\n---\n%s\n", e.msg, buf_str(&yaml));
		abort();
	}
	if (doc_set_count(again) != 1 || !json_equal((json_t *)v, doc_set_get(again, 0))) {
		fprintf(stderr, "emit -> load changed the value\n---\n%s\n", buf_str(&yaml));
		abort();
	}
	if (doc_canonical_json(doc_set_get(again, 0), &c2, &e) < 0 ||
	    buf_len(&c1) != buf_len(&c2) || memcmp(buf_str(&c1), buf_str(&c2), buf_len(&c1)) != 0) {
		fprintf(stderr, "canonical JSON changed after emit -> load\n");
		abort();
	}
	doc_set_free(again);
	buf_release(&yaml);
	buf_release(&c1);
	buf_release(&c2);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct doc_set *d = NULL;
	struct err e = ERR_INIT;
	size_t i;

	if (doc_load_mem("fuzz", data, size, DOC_AUTO, &d, &e) < 0) {
		/* A refusal must say why, with a code. */
		if (e.code == ERR_OK || e.msg[0] == '\0')
			abort();
		return 0;
	}
	for (i = 0; i < doc_set_count(d); i++)
		check_round_trip(doc_set_get(d, i));
	doc_set_free(d);
	return 0;
}
