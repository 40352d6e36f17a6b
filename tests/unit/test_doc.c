/*
 * test_doc.c - the document loader and writers: every real file in
 * tests/fixtures/corpus/, Kubernetes' scalar resolution, anchors and merge keys,
 * hostile inputs (billion laughs, recursive aliases, deep nesting, truncation,
 * bad UTF-8, NUL bytes, duplicate keys, huge scalars), the YAML emitter's
 * round trip and quoting, canonical JSON and SHA-256.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "doc/doc.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/limits.h"
#include "util/banned.h"

#define BROKEN_LLAMA3 "manifests/gke-samples__vllm-llama3-8b-instruct.yaml"
#define BROKEN_LLAMA4 "manifests/gke-samples__vllm-llama4-maverick-17b-128e-instruct-fp8.yaml"

/* A length argument meaning "up to the NUL". */
#define NUL_TERMINATED ((size_t)-1)

static char path_buf[1024];

static const char *
fixture(const char *name)
{
	const char *dir = getenv("SKEWD_FIXTURES");

	assert_non_null(dir);
	snprintf(path_buf, sizeof(path_buf), "%s/corpus/%s", dir, name);
	return path_buf;
}

/* Loads text and returns the canonical JSON of all its documents, one per line
 * (the caller frees it), or NULL with `e` set. */
static char *
load_canon(const char *text, size_t len, enum doc_format fmt, struct err *e)
{
	struct doc_set *d = NULL;
	struct buf out = BUF_INIT(1 << 24);
	size_t i;

	if (len == NUL_TERMINATED)
		len = strlen(text);
	if (doc_load_mem("t", text, len, fmt, &d, e) < 0)
		return NULL;
	for (i = 0; i < doc_set_count(d); i++) {
		assert_int_equal(doc_canonical_json(doc_set_get(d, i), &out, e), 0);
		assert_int_equal(buf_addch(&out, '\n', e), 0);
	}
	doc_set_free(d);
	return buf_take(&out, NULL);
}

static void
expect_yaml(const char *yaml, const char *canon)
{
	struct err e = ERR_INIT;
	char *got = load_canon(yaml, NUL_TERMINATED, DOC_YAML, &e);

	if (got == NULL)
		fail_msg("loading %s failed: %s", yaml, e.msg);
	if (strcmp(got, canon) != 0)
		fail_msg("'%s' loaded as %s, want %s", yaml, got, canon);
	free(got);
}

/* Loading must fail with `code` and a message containing `part`. */
static void
expect_fail(const char *text, size_t len, enum doc_format fmt, enum err_code code, const char *part)
{
	struct err e = ERR_INIT;
	char *got = load_canon(text, len, fmt, &e);

	if (got != NULL)
		fail_msg("'%.60s' loaded as %s, want an error", text, got);
	if (e.code != code)
		fail_msg("'%.60s': code %d (%s), want %d", text, e.code, e.msg, code);
	if (part != NULL && strstr(e.msg, part) == NULL)
		fail_msg("'%.60s': message '%s' lacks '%s'", text, e.msg, part);
}

/* Emits v, loads the YAML back and checks that it is equal; returns the YAML. */
static char *
round_trip(const json_t *v)
{
	struct buf y = BUF_INIT(1 << 26);
	struct err e = ERR_INIT;
	struct doc_set *d = NULL;
	char *text;

	assert_int_equal(doc_emit_yaml(v, &y, &e), 0);
	if (doc_load_mem("emitted", buf_str(&y), buf_len(&y), DOC_YAML, &d, &e) < 0)
		fail_msg("emitted YAML does not load: %s\n%s", e.msg, buf_str(&y));
	assert_int_equal(doc_set_count(d), json_is_null(v) ? 0 : 1);
	if (!json_is_null(v) && !json_equal((json_t *)v, doc_set_get(d, 0)))
		fail_msg("emit -> load changed the value:\n%s", buf_str(&y));
	doc_set_free(d);
	text = buf_take(&y, NULL);
	return text;
}

static int
ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

static void
test_corpus_loads(void **state)
{
	static const char *const sub[] = { "manifests", "k8s-api", "hf-config" };
	char name[512];
	DIR *dir;
	struct dirent *de;
	size_t k;
	int loaded = 0;

	(void)state;
	for (k = 0; k < sizeof(sub) / sizeof(sub[0]); k++) {
		dir = opendir(fixture(sub[k]));
		assert_non_null(dir);
		while ((de = readdir(dir)) != NULL) {
			struct doc_set *d = NULL;
			struct err e = ERR_INIT;
			size_t i;

			if (!ends_with(de->d_name, ".yaml") && !ends_with(de->d_name, ".json"))
				continue;
			snprintf(name, sizeof(name), "%s/%s", sub[k], de->d_name);
			if (strcmp(name, BROKEN_LLAMA3) == 0 || strcmp(name, BROKEN_LLAMA4) == 0)
				continue;
			if (doc_load_file(fixture(name), DOC_AUTO, &d, &e) < 0)
				fail_msg("%s: %s", name, e.msg);
			assert_true(doc_set_count(d) >= 1);
			for (i = 0; i < doc_set_count(d); i++) {
				assert_true(json_is_object(doc_set_get(d, i)));
				free(round_trip(doc_set_get(d, i)));
			}
			doc_set_free(d);
			loaded++;
		}
		closedir(dir);
	}
	/* 25 valid manifests, 9 API objects, a tokenizer config and two model configs. */
	assert_int_equal(loaded, 37);
}

static void
test_corpus_values(void **state)
{
	struct doc_set *d = NULL;
	struct err e = ERR_INIT;
	json_t *args;

	(void)state;
	assert_int_equal(doc_load_file(fixture("manifests/gke-samples__vllm-3-27b-it.yaml"), DOC_AUTO, &d, &e), 0);
	assert_int_equal(doc_set_count(d), 2);
	assert_string_equal(json_string_value(json_object_get(doc_set_get(d, 0), "kind")), "Deployment");
	assert_string_equal(json_string_value(json_object_get(doc_set_get(d, 1), "kind")), "Service");
	args = json_object_get(json_array_get(json_object_get(json_object_get(json_object_get(
	    json_object_get(doc_set_get(d, 0), "spec"), "template"), "spec"), "containers"), 0), "args");
	assert_true(json_is_array(args));
	assert_true(json_array_size(args) > 0);
	doc_set_free(d);

	/* 1e30 written out in digits is a real, the rest stays exact. */
	assert_int_equal(doc_load_file(fixture("hf-config/mistral7b-v0.2__tokenizer_config.json"), DOC_AUTO,
	    &d, &e), 0);
	assert_true(json_is_real(json_object_get(doc_set_get(d, 0), "model_max_length")));
	assert_true(json_real_value(json_object_get(doc_set_get(d, 0), "model_max_length")) > 9.9e29);
	doc_set_free(d);
}

static void
test_corpus_broken(void **state)
{
	struct doc_set *d = NULL;
	struct err e = ERR_INIT;

	(void)state;
	/* libyaml: "mapping values are not allowed in this context" at 17:9, where the
	 * mis-indented "kind: Deployment" follows "apiVersion: apps/v1". */
	assert_int_equal(doc_load_file(fixture(BROKEN_LLAMA3), DOC_AUTO, &d, &e), -1);
	assert_null(d);
	assert_int_equal(e.code, ERR_INVALID);
	assert_non_null(strstr(e.msg, BROKEN_LLAMA3 ":17:9: mapping values are not allowed"));

	/* The unquoted {{HF_TOKEN}} is a flow mapping whose key is a mapping, line 95. */
	err_clear(&e);
	assert_int_equal(doc_load_file(fixture(BROKEN_LLAMA4), DOC_AUTO, &d, &e), -1);
	assert_int_equal(e.code, ERR_INVALID);
	assert_non_null(strstr(e.msg, BROKEN_LLAMA4 ":95:"));
	assert_non_null(strstr(e.msg, "key"));
}

static void
test_load_file_errors(void **state)
{
	struct doc_set *d = NULL;
	struct err e = ERR_INIT;
	char path[] = "/tmp/skewd-test-doc-XXXXXX";
	int fd;

	(void)state;
	assert_int_equal(doc_load_file(fixture("no-such-file.yaml"), DOC_AUTO, &d, &e), -1);
	assert_int_equal(e.code, ERR_NOT_FOUND);
	assert_non_null(strstr(e.msg, "no-such-file.yaml"));

	/* A sparse file one byte over the limit is refused before it is read. */
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)DOC_MAX_BYTES + 1), 0);
	close(fd);
	err_clear(&e);
	assert_int_equal(doc_load_file(path, DOC_AUTO, &d, &e), -1);
	assert_int_equal(e.code, ERR_TOO_LARGE);
	unlink(path);
}

struct resolve_case {
	const char *yaml;
	const char *canon;
};

static void
test_resolution_table(void **state)
{
	static const struct resolve_case cases[] = {
		/* YAML 1.1 booleans, as go-yaml v2 (and so kubectl) reads them. */
		{ "v: yes", "{\"v\":true}" }, { "v: Yes", "{\"v\":true}" }, { "v: YES", "{\"v\":true}" },
		{ "v: y", "{\"v\":true}" }, { "v: Y", "{\"v\":true}" }, { "v: on", "{\"v\":true}" },
		{ "v: ON", "{\"v\":true}" }, { "v: true", "{\"v\":true}" }, { "v: True", "{\"v\":true}" },
		{ "v: no", "{\"v\":false}" }, { "v: n", "{\"v\":false}" }, { "v: off", "{\"v\":false}" },
		{ "v: Off", "{\"v\":false}" }, { "v: FALSE", "{\"v\":false}" },
		{ "v: yEs", "{\"v\":\"yEs\"}" }, { "v: tRUE", "{\"v\":\"tRUE\"}" },
		/* Quoted and !!str stay strings. */
		{ "v: \"true\"", "{\"v\":\"true\"}" }, { "v: 'yes'", "{\"v\":\"yes\"}" },
		{ "v: \"8080\"", "{\"v\":\"8080\"}" }, { "v: !!str 12", "{\"v\":\"12\"}" },
		{ "v: !!str yes", "{\"v\":\"yes\"}" }, { "v: !!str", "{\"v\":\"\"}" },
		{ "v: !custom 12", "{\"v\":\"12\"}" },
		/* Integers: decimal, hex, 0o and leading-0 octal, binary, underscores, signs. */
		{ "v: 0x1F", "{\"v\":31}" }, { "v: 0o17", "{\"v\":15}" }, { "v: 017", "{\"v\":15}" },
		{ "v: 0b101", "{\"v\":5}" }, { "v: -0x1F", "{\"v\":-31}" }, { "v: +12", "{\"v\":12}" },
		{ "v: 1_000", "{\"v\":1000}" }, { "v: 0", "{\"v\":0}" }, { "v: -0", "{\"v\":0}" },
		{ "v: 9223372036854775807", "{\"v\":9223372036854775807}" },
		{ "v: -9223372036854775808", "{\"v\":-9223372036854775808}" },
		/* Floats; an integral one is written as an integer, as Kubernetes' JSON does. */
		{ "v: 1e3", "{\"v\":1000}" }, { "v: 1.5", "{\"v\":1.5}" }, { "v: .5", "{\"v\":0.5}" },
		{ "v: 08", "{\"v\":8}" }, { "v: 3.0", "{\"v\":3}" }, { "v: -2.5e-3", "{\"v\":-0.0025000000000000001}" },
		{ "v: 9223372036854775808", "{\"v\":9.2233720368547758e18}" },
		/* Not numbers. */
		{ "v: 1e400", "{\"v\":\"1e400\"}" }, { "v: 1.2.3", "{\"v\":\"1.2.3\"}" },
		{ "v: 0x", "{\"v\":\"0x\"}" }, { "v: 12:30", "{\"v\":\"12:30\"}" },
		{ "v: 2024-01-01", "{\"v\":\"2024-01-01\"}" }, { "v: 0x1G", "{\"v\":\"0x1G\"}" },
		{ "v: 64Gi", "{\"v\":\"64Gi\"}" }, { "v: 8000m", "{\"v\":\"8000m\"}" },
		{ "v: +", "{\"v\":\"+\"}" }, { "v: .", "{\"v\":\".\"}" }, { "v: Infinity", "{\"v\":\"Infinity\"}" },
		/* Null. */
		{ "v: ~", "{\"v\":null}" }, { "v:", "{\"v\":null}" }, { "v: null", "{\"v\":null}" },
		{ "v: Null", "{\"v\":null}" }, { "v: NULL", "{\"v\":null}" }, { "v: nULL", "{\"v\":\"nULL\"}" },
		{ "v: ''", "{\"v\":\"\"}" },
		/* Explicit tags are checked. */
		{ "v: !!int \"12\"", "{\"v\":12}" }, { "v: !!float 1", "{\"v\":1}" },
		{ "v: !!bool yes", "{\"v\":true}" }, { "v: !!null ''", "{\"v\":null}" },
		/* "<<" is a merge key only as a key. */
		{ "v: <<", "{\"v\":\"<<\"}" }, { "'<<': 1", "{\"<<\":1}" },
		/* Keys become strings the way sigs.k8s.io/yaml writes them. */
		{ "on: 1", "{\"true\":1}" }, { "n: 1", "{\"false\":1}" }, { "1: a", "{\"1\":\"a\"}" },
		{ "0x10: a", "{\"16\":\"a\"}" }, { "1.5: a", "{\"1.5\":\"a\"}" }, { "1e6: a", "{\"1e+06\":\"a\"}" },
		{ ".inf: a", "{\".inf\":\"a\"}" },
		/* Found by fuzz_doc: a float key beyond float32 is +Inf in Go, so ".inf". */
		{ "[a, 2222222222222222222222222222222222222222: c]", "[\"a\",{\".inf\":\"c\"}]" }, { "\"on\": 1", "{\"on\":1}" },
		/* Flow style, block scalars. */
		{ "v: {a: 1, b: [x, 'y', no]}", "{\"v\":{\"a\":1,\"b\":[\"x\",\"y\",false]}}" },
		{ "v: |\n  a\n  b\n", "{\"v\":\"a\\nb\\n\"}" }, { "v: >-\n  a\n  b\n", "{\"v\":\"a b\"}" },
		{ "- 1\n- two\n- [3]\n", "[1,\"two\",[3]]" }, { "just text", "\"just text\"" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char want[256];

		snprintf(want, sizeof(want), "%s\n", cases[i].canon);
		expect_yaml(cases[i].yaml, want);
	}
}

static void
test_resolution_refused(void **state)
{
	(void)state;
	expect_fail("v: .inf", NUL_TERMINATED, DOC_YAML, ERR_INVALID, "t:1:4: '.inf' is not a finite number");
	expect_fail("v: -.Inf", NUL_TERMINATED, DOC_YAML, ERR_INVALID, "not a finite number");
	expect_fail("v: .nan", NUL_TERMINATED, DOC_YAML, ERR_INVALID, "not a finite number");
	expect_fail("v: !!int abc", NUL_TERMINATED, DOC_YAML, ERR_INVALID, "'abc' is not a valid !!int");
	expect_fail("v: !!bool 1", NUL_TERMINATED, DOC_YAML, ERR_INVALID, "is not a valid !!bool");
	expect_fail("~: 1", NUL_TERMINATED, DOC_YAML, ERR_INVALID, "t:1:1: a mapping key is null");
	expect_fail("? [a]\n: 1\n", NUL_TERMINATED, DOC_YAML, ERR_INVALID, "keys must be scalars");
	expect_fail("{a: 1}: 1\n", NUL_TERMINATED, DOC_YAML, ERR_INVALID, "keys must be scalars");
	expect_fail("a: 1\nb: 2\na: 3\n", NUL_TERMINATED, DOC_YAML, ERR_INVALID, "t:3:1: duplicate mapping key 'a'");
	/* yes and on both mean true as keys, so they collide. */
	expect_fail("yes: 1\non: 2\n", NUL_TERMINATED, DOC_YAML, ERR_INVALID, "t:2:1: duplicate mapping key 'true'");
}

static void
test_multi_document(void **state)
{
	static const char text[] =
	    "# a comment before anything\n"
	    "---\n"
	    "---\n"
	    "a: 1\n"
	    "---\n"
	    "# only a comment\n"
	    "---\n"
	    "null\n"
	    "...\n"
	    "---\n"
	    "~\n"
	    "---\n"
	    "b: 2\n"
	    "...\n";

	(void)state;
	expect_yaml(text, "{\"a\":1}\n{\"b\":2}\n");
	expect_yaml("", "");
	expect_yaml("# nothing\n", "");
	expect_yaml("--- >\n  folded\n  text\n--- 12\n", "\"folded text\\n\"\n12\n");
}

static void
test_anchors_and_merge(void **state)
{
	(void)state;
	expect_yaml("a: &x {p: 1, q: [1, 2]}\nb: *x\n",
	    "{\"a\":{\"p\":1,\"q\":[1,2]},\"b\":{\"p\":1,\"q\":[1,2]}}\n");
	expect_yaml("a: &s hello\nb: *s\n*s : k\n", "{\"a\":\"hello\",\"b\":\"hello\",\"hello\":\"k\"}\n");
	/* Keys written in the mapping win over merged ones, wherever << stands. */
	expect_yaml("base: &b {p: 1, q: 2}\nd:\n  <<: *b\n  q: 3\n",
	    "{\"base\":{\"p\":1,\"q\":2},\"d\":{\"p\":1,\"q\":3}}\n");
	expect_yaml("base: &b {p: 1, q: 2}\nd:\n  q: 3\n  <<: *b\n",
	    "{\"base\":{\"p\":1,\"q\":2},\"d\":{\"p\":1,\"q\":3}}\n");
	/* y is a boolean key in YAML 1.1, as Kubernetes reads it. */
	expect_yaml("{x: 1, y: 2}", "{\"true\":2,\"x\":1}\n");
	/* In a list of merges the earlier mapping wins. */
	expect_yaml("a: &a {k: 1, a: 1}\nb: &b {k: 2, b: 2}\nc:\n  <<: [*a, *b]\n",
	    "{\"a\":{\"a\":1,\"k\":1},\"b\":{\"b\":2,\"k\":2},\"c\":{\"a\":1,\"b\":2,\"k\":1}}\n");
	expect_yaml("c:\n  <<: {x: 1}\n  z: 2\n", "{\"c\":{\"x\":1,\"z\":2}}\n");
	expect_yaml("c:\n  !!merge <<: {x: 1}\n  '<<': 2\n", "{\"c\":{\"<<\":2,\"x\":1}}\n");
	/* Anchors belong to their document. */
	expect_fail("a: &x 1\n---\nb: *x\n", NUL_TERMINATED, DOC_YAML, ERR_INVALID, "t:3:4: unknown anchor 'x'");
	expect_fail("c:\n  <<: 1\n", NUL_TERMINATED, DOC_YAML, ERR_INVALID, "t:2:3: a merge key (<<) takes a mapping");
	expect_fail("a: &x [1]\nc:\n  <<: [*x]\n", NUL_TERMINATED, DOC_YAML, ERR_INVALID, "merge key");
	/* Changing an alias's copy leaves the anchored value alone. */
	{
		struct doc_set *d = NULL;
		struct err e = ERR_INIT;
		static const char t[] = "a: &x {p: 1}\nb: *x\n";

		assert_int_equal(doc_load_mem("t", t, sizeof(t) - 1, DOC_YAML, &d, &e), 0);
		json_object_set_new(json_object_get(doc_set_get(d, 0), "b"), "p", json_integer(2));
		assert_int_equal(json_integer_value(json_object_get(json_object_get(doc_set_get(d, 0),
		    "a"), "p")), 1);
		doc_set_free(d);
	}
}

static long
max_rss_kb(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
test_billion_laughs(void **state)
{
	struct buf b = BUF_INIT(1 << 20);
	struct err e = ERR_INIT;
	long rss;
	double t0;
	int i, j;

	(void)state;
	/* The classic: nine levels of ten aliases each, 10^9 strings once expanded. */
	assert_int_equal(buf_addstr(&b, "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\","
	    "\"lol\",\"lol\"]\n", &e), 0);
	for (i = 1; i < 9; i++) {
		assert_int_equal(buf_addf(&b, &e, "%c: &%c [", 'a' + i, 'a' + i), 0);
		for (j = 0; j < 10; j++)
			assert_int_equal(buf_addf(&b, &e, "%s*%c", j ? "," : "", 'a' + i - 1), 0);
		assert_int_equal(buf_addstr(&b, "]\n", &e), 0);
	}
	rss = max_rss_kb();
	t0 = now_s();
	expect_fail(buf_str(&b), buf_len(&b), DOC_YAML, ERR_TOO_LARGE, "aliases expand to more than");
	assert_true(now_s() - t0 < 1.0);
	/* Bounded memory: the limit stops the copies long before they add up. */
	assert_true(max_rss_kb() - rss < 64 * 1024);

	/* Many cheap aliases: the count of uses is capped too. */
	buf_reset(&b);
	assert_int_equal(buf_addstr(&b, "a: &a x\nb: [", &e), 0);
	for (i = 0; i <= DOC_MAX_ALIAS_EXPANSION; i++)
		assert_int_equal(buf_addstr(&b, i ? ",*a" : "*a", &e), 0);
	assert_int_equal(buf_addstr(&b, "]\n", &e), 0);
	expect_fail(buf_str(&b), buf_len(&b), DOC_YAML, ERR_TOO_LARGE, "aliases in one document");
	buf_release(&b);
}

static void
test_recursive_alias(void **state)
{
	(void)state;
	expect_fail("&a [*a]", NUL_TERMINATED, DOC_YAML, ERR_INVALID, "t:1:5: alias '*a' refers to a node that contains it");
	expect_fail("a: &a\n  b: *a\n", NUL_TERMINATED, DOC_YAML, ERR_INVALID, "recursive alias");
	expect_fail("a: &a {b: [c, {d: *a}]}\n", NUL_TERMINATED, DOC_YAML, ERR_INVALID, "recursive alias");
	expect_fail("a: *nowhere\n", NUL_TERMINATED, DOC_YAML, ERR_INVALID, "unknown anchor 'nowhere'");
}

static void
test_deep_nesting(void **state)
{
	struct buf b = BUF_INIT(1 << 24);
	struct err e = ERR_INIT;
	int i;

	(void)state;
	for (i = 0; i < 3000; i++)
		assert_int_equal(buf_addch(&b, '[', &e), 0);
	for (i = 0; i < 3000; i++)
		assert_int_equal(buf_addch(&b, ']', &e), 0);
	expect_fail(buf_str(&b), buf_len(&b), DOC_JSON, ERR_TOO_LARGE, "t:1:129: nesting deeper than 128");
	expect_fail(buf_str(&b), buf_len(&b), DOC_YAML, ERR_TOO_LARGE, "nesting deeper than 128");
	expect_fail(buf_str(&b), buf_len(&b), DOC_AUTO, ERR_TOO_LARGE, "nesting deeper");

	/* With an anchor on every level (the one refused must not leak). */
	buf_reset(&b);
	for (i = 0; i < 200; i++)
		assert_int_equal(buf_addstr(&b, "&x [", &e), 0);
	expect_fail(buf_str(&b), buf_len(&b), DOC_YAML, ERR_TOO_LARGE, "t:1:513: nesting deeper");

	/* Block style: a mapping 3000 levels down. */
	buf_reset(&b);
	for (i = 0; i < 3000; i++)
		assert_int_equal(buf_addf(&b, &e, "%*sk:\n", i, ""), 0);
	expect_fail(buf_str(&b), buf_len(&b), DOC_YAML, ERR_TOO_LARGE, "t:129:");

	/* 128 levels are fine. */
	buf_reset(&b);
	for (i = 0; i < DOC_MAX_DEPTH; i++)
		assert_int_equal(buf_addch(&b, '[', &e), 0);
	for (i = 0; i < DOC_MAX_DEPTH; i++)
		assert_int_equal(buf_addch(&b, ']', &e), 0);
	{
		char *got = load_canon(buf_str(&b), buf_len(&b), DOC_JSON, &e);

		assert_non_null(got);
		free(got);
		got = load_canon(buf_str(&b), buf_len(&b), DOC_YAML, &e);
		assert_non_null(got);
		free(got);
	}
	buf_release(&b);
}

static void
test_truncated(void **state)
{
	(void)state;
	expect_fail("a: \"unterminated\n", NUL_TERMINATED, DOC_YAML, ERR_INVALID, "t:2:1: found unexpected end of stream");
	expect_fail("a:\n  - [1, 2\n", NUL_TERMINATED, DOC_YAML, ERR_INVALID, "t:3:");
	expect_fail("{\"a\": [1, 2", NUL_TERMINATED, DOC_JSON, ERR_INVALID, "t:1:");
	expect_fail("{\"a\": 1}\n{\"b\":\n", NUL_TERMINATED, DOC_JSON, ERR_INVALID, "t:3:");
	expect_fail("{\"a\": tru", NUL_TERMINATED, DOC_AUTO, ERR_INVALID, "t:1:");
	expect_fail("{\"a\": 1,\n \"b\": }", NUL_TERMINATED, DOC_AUTO, ERR_INVALID, "t:2:7:");
}

static void
test_bad_bytes(void **state)
{
	(void)state;
	/* Invalid UTF-8. */
	expect_fail("a: b\nc: \xff\n", NUL_TERMINATED, DOC_YAML, ERR_INVALID, "t:2:4: invalid leading UTF-8 octet");
	expect_fail("a: \xc3\x28\n", NUL_TERMINATED, DOC_YAML, ERR_INVALID, "UTF-8");
	expect_fail("a: \xed\xa0\x80\n", NUL_TERMINATED, DOC_YAML, ERR_INVALID, "t:1:");
	expect_fail("{\"a\": \"\xff\"}", NUL_TERMINATED, DOC_JSON, ERR_INVALID, "t:1:7: unable to decode byte 0xff");
	expect_fail("a: \"\\ud800\"\n", NUL_TERMINATED, DOC_YAML, ERR_INVALID, "t:1:");
	/* NUL bytes, raw and escaped. */
	expect_fail("a: b\0c\n", 7, DOC_YAML, ERR_INVALID, "t:1:");
	expect_fail("a: \"b\\0c\"\n", 10, DOC_YAML, ERR_INVALID, "NUL character");
	expect_fail("{\"a\": \"b\0c\"}", 12, DOC_JSON, ERR_INVALID, "t:1:");
	expect_fail("{\"a\": \"b\\u0000c\"}", NUL_TERMINATED, DOC_JSON, ERR_INVALID, "\\u0000");
	/* Control characters. */
	expect_fail("a: \x01\n", NUL_TERMINATED, DOC_YAML, ERR_INVALID, "control characters are not allowed");
	/* A UTF-8 BOM is fine for YAML. */
	expect_yaml("\xef\xbb\xbf" "a: 1\n", "{\"a\":1}\n");
}

static void
test_json(void **state)
{
	static const char stream[] = "{\"a\": 1}\n{\"b\": [1.0, 2.5, 1e2]} [3] null \"s\" 4\n";
	static const char stream2[] = "{\"a\": 1}{\"b\": 2}";

	(void)state;
	expect_fail("{\"a\": 1, \"a\": 2}", NUL_TERMINATED, DOC_JSON, ERR_INVALID, "duplicate object key");
	expect_fail("{\"x\": {\"a\": 1,\n \"a\": 2}}", NUL_TERMINATED, DOC_AUTO, ERR_INVALID, "t:2:");
	{
		struct err e = ERR_INIT;
		char *got = load_canon(stream, sizeof(stream) - 1, DOC_AUTO, &e);

		assert_non_null(got);
		assert_string_equal(got, "{\"a\":1}\n{\"b\":[1,2.5,100]}\n[3]\n\"s\"\n4\n");
		free(got);
		got = load_canon(stream2, sizeof(stream2) - 1, DOC_JSON, &e);
		assert_non_null(got);
		assert_string_equal(got, "{\"a\":1}\n{\"b\":2}\n");
		free(got);
		/* An error in the third value names its line. */
		expect_fail("{}\n[]\n{\"a\" 1}", NUL_TERMINATED, DOC_JSON, ERR_INVALID, "t:3:");
		/* Flow YAML that is not JSON gets the JSON error, as in kubectl. */
		expect_fail("{a: 1}", NUL_TERMINATED, DOC_AUTO, ERR_INVALID, "t:1:");
		got = load_canon("{a: 1}", NUL_TERMINATED, DOC_YAML, &e);
		assert_non_null(got);
		assert_string_equal(got, "{\"a\":1}\n");
		free(got);
		/* Integers beyond int64 become reals; the others stay exact. */
		got = load_canon("[123456789012345678901234567890, 9007199254740993, -1]", NUL_TERMINATED, DOC_JSON, &e);
		assert_non_null(got);
		assert_string_equal(got, "[1.2345678901234568e29,9007199254740993,-1]\n");
		free(got);
	}
}

static void
test_too_large(void **state)
{
	size_t n = DOC_MAX_SCALAR_BYTES + 16;
	char *big = malloc(n + 16);
	size_t k;

	(void)state;
	assert_non_null(big);
	memcpy(big, "a: ", 3);
	memset(big + 3, 'x', n - 3);
	expect_fail(big, n, DOC_YAML, ERR_TOO_LARGE, "t:1:4: a scalar of");

	big[0] = '[';
	big[1] = '"';
	memset(big + 2, 'x', n - 2);
	big[n] = '"';
	big[n + 1] = ']';
	expect_fail(big, n + 2, DOC_JSON, ERR_TOO_LARGE, "t:1:");

	/* More nodes than DOC_MAX_NODES, in few bytes each. */
	free(big);
	n = 2 * (size_t)DOC_MAX_NODES + 2;
	big = malloc(n + 2);
	assert_non_null(big);
	big[0] = '[';
	for (k = 1; k + 1 < n; k += 2) {
		big[k] = '1';
		big[k + 1] = ',';
	}
	big[n - 1] = '1';
	big[n] = ']';
	expect_fail(big, n + 1, DOC_JSON, ERR_TOO_LARGE, "nodes");
	free(big);
	expect_fail("", (size_t)DOC_MAX_BYTES + 1, DOC_YAML, ERR_TOO_LARGE, "larger than the limit");
}

/* Strings the emitter must write so that they read back as the same string. */
static void
test_emit_round_trip_strings(void **state)
{
	static const char *const strings[] = {
		"plain", "yes", "no", "on", "Off", "y", "N", "true", "FALSE", "null", "Null", "~", "",
		"1", "-1", "+1", "0x1F", "0o17", "017", "08", "1e3", "1.5", ".5", ".inf", "-.inf", ".nan",
		"1_000", "<<", "2024-01-01", "2024-01-01T10:00:00Z", "12:30", "-", "--", "---", "...",
		"--model", "-tp", "?x", "? x", ":x", ": x", "a: b", "a:b", "a:", "a #b", "a#b", "#x",
		"[x]", "{x}", "x]", ",x", "&x", "*x", "!x", "|x", ">x", "'x'", "\"x\"", "%x", "@x", "`x",
		" lead", "trail ", " both ", "tab\there", "\ttab", "multi\nline", "multi\nline\n",
		"ends\n\n\n", "\nleading newline", " lead\nline", "a\n\nb\n", "spaces  \n  inside\n",
		"cr\r\nlf", "\x01\x02\x7f", "caf\xc3\xa9", "\xe2\x80\xa8", "\xc2\x85", "\xef\xbb\xbf" "bom",
		"emoji \xf0\x9f\x98\x80", "back\\slash", "quote ' and \" both", "{{HF_TOKEN}}",
		"sh -c \"vllm serve --port 8000\"", "=", "0.0.0.0:8000", "--max-model-len=8192",
		"line with trailing space \nnext", "\t\n", "x\n ", "a\n---\nb", "a\n...\nb",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(strings) / sizeof(strings[0]); i++) {
		json_t *v = json_object();
		json_t *arr = json_array();

		json_object_set_new(v, "value", json_string(strings[i]));
		json_object_set_new(v, strings[i], json_integer((json_int_t)i));
		json_array_append_new(arr, json_string(strings[i]));
		json_array_append_new(arr, json_pack("{s:s}", strings[i], strings[i]));
		json_object_set_new(v, "list", arr);
		free(round_trip(v));
		json_decref(v);
		/* A bare string as a whole document. */
		v = json_string(strings[i]);
		free(round_trip(v));
		json_decref(v);
	}
}

static void
test_emit_layout(void **state)
{
	json_t *v;
	char *y;
	char longkey[301];

	(void)state;
	v = json_pack("{s:[s,s,s,s], s:s, s:s, s:i, s:f, s:b, s:n, s:{}, s:[], s:{s:{s:s}}, s:[[i,i],{s:i,s:i}]}",
	    "args", "--max-model-len", "8192", "--dtype", "bfloat16",
	    "port", "8000", "image", "vllm/vllm-openai:v0.6.3", "replicas", 3, "ratio", 0.9,
	    "on", 1, "none", "empty", "list", "nested", "a", "b", "c", "lol", 1, 2, "x", 1, "y", 2);
	y = round_trip(v);
	assert_string_equal(y,
	    "args:\n"
	    "- --max-model-len\n"
	    "- '8192'\n"
	    "- --dtype\n"
	    "- bfloat16\n"
	    "empty: {}\n"
	    "image: vllm/vllm-openai:v0.6.3\n"
	    "list: []\n"
	    "lol:\n"
	    "- - 1\n"
	    "  - 2\n"
	    "- x: 1\n"
	    "  'y': 2\n"
	    "nested:\n"
	    "  a:\n"
	    "    b: c\n"
	    "none: null\n"
	    "'on': true\n"
	    "port: '8000'\n"
	    "ratio: 0.9\n"
	    "replicas: 3\n");
	free(y);
	json_decref(v);

	/* Multi-line text is a literal block. */
	v = json_pack("{s:s,s:[s]}", "script", "#!/bin/sh\nexec vllm serve \\\n  --port 8000\n",
	    "l", "a\nb");
	y = round_trip(v);
	assert_string_equal(y,
	    "l:\n"
	    "- |-\n"
	    "  a\n"
	    "  b\n"
	    "script: |\n"
	    "  #!/bin/sh\n"
	    "  exec vllm serve \\\n"
	    "    --port 8000\n");
	free(y);
	json_decref(v);

	/* A key too long for an implicit key. */
	memset(longkey, 'k', sizeof(longkey) - 1);
	longkey[sizeof(longkey) - 1] = '\0';
	v = json_pack("{s:i,s:[i],s:{s:i}}", longkey, 1, "b", 2, "c", longkey, 3);
	free(round_trip(v));
	json_decref(v);

	/* Scalars and empty collections as whole documents. */
	v = json_integer(-5);
	y = round_trip(v);
	assert_string_equal(y, "-5\n");
	free(y);
	json_decref(v);
	v = json_object();
	y = round_trip(v);
	assert_string_equal(y, "{}\n");
	free(y);
	json_decref(v);
	v = json_real(1e300);
	free(round_trip(v));
	json_decref(v);
	v = json_real(0.1);
	y = round_trip(v);
	assert_string_equal(y, "0.1\n");
	free(y);
	json_decref(v);
}

static void
test_emit_limits(void **state)
{
	struct buf small = BUF_INIT(16);
	struct err e = ERR_INIT;
	json_t *v = json_pack("{s:s}", "key", "a value longer than sixteen bytes");
	json_t *deep = json_array(), *cur = deep;
	int i;

	(void)state;
	assert_int_equal(doc_emit_yaml(v, &small, &e), -1);
	assert_int_equal(e.code, ERR_TOO_LARGE);
	assert_int_equal(buf_len(&small), 0);
	json_decref(v);

	for (i = 0; i < DOC_MAX_DEPTH + 10; i++) {
		json_t *next = json_array();

		json_array_append_new(cur, next);
		cur = next;
	}
	json_array_append_new(cur, json_integer(1));
	{
		struct buf out = BUF_INIT(1 << 20);

		err_clear(&e);
		assert_int_equal(doc_emit_yaml(deep, &out, &e), -1);
		assert_int_equal(e.code, ERR_TOO_LARGE);
		buf_release(&out);
	}
	json_decref(deep);
}

static void
test_canonical_json(void **state)
{
	struct buf a = BUF_INIT(1 << 20), b = BUF_INIT(1 << 20);
	struct err e = ERR_INIT;
	json_t *x = json_object(), *y = json_object();
	char *c1, *c2;

	(void)state;
	json_object_set_new(x, "b", json_pack("[b,n,s]", 1, "x\xc3\xa9/"));
	json_object_set_new(x, "a", json_integer(1));
	json_object_set_new(x, "c", json_pack("{s:i,s:i}", "z", 1, "y", 2));
	json_object_set_new(y, "c", json_pack("{s:i,s:i}", "y", 2, "z", 1));
	json_object_set_new(y, "a", json_integer(1));
	json_object_set_new(y, "b", json_pack("[b,n,s]", 1, "x\xc3\xa9/"));
	assert_int_equal(doc_canonical_json(x, &a, &e), 0);
	assert_int_equal(doc_canonical_json(y, &b, &e), 0);
	assert_string_equal(buf_str(&a), "{\"a\":1,\"b\":[true,null,\"x\xc3\xa9/\"],\"c\":{\"y\":2,\"z\":1}}");
	assert_string_equal(buf_str(&a), buf_str(&b));
	json_decref(x);
	json_decref(y);
	buf_release(&a);
	buf_release(&b);

	/* The same configuration written as YAML and as JSON hashes the same. */
	c1 = load_canon("replicas: 3\nratio: 0.5\nports: [{port: 80}]\nbig: 9007199254740993\n", NUL_TERMINATED,
	    DOC_YAML, &e);
	c2 = load_canon("{\"ports\":[{\"port\":80}],\"ratio\":5e-1,\"replicas\":3.0,\"big\":9007199254740993}",
	    NUL_TERMINATED, DOC_JSON, &e);
	assert_non_null(c1);
	assert_non_null(c2);
	assert_string_equal(c1, c2);
	free(c1);
	free(c2);
}

static void
test_sha256(void **state)
{
	char hex[65];

	(void)state;
	doc_sha256_hex("abc", 3, hex);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	doc_sha256_hex("", 0, hex);
	assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

/* A JSON syntax error quotes the offending bytes printably (fuzz_kubeconfig found
 * a control byte copied from the input into the message). */
static void
test_json_error_printable(void **state)
{
	static const char t[] = "[\001\000IfAvailable\037";
	struct doc_set *d = NULL;
	struct err e = ERR_INIT;
	size_t i;

	(void)state;
	assert_int_equal(doc_load_mem("k", t, sizeof(t) - 1, DOC_AUTO, &d, &e), -1);
	assert_null(d);
	assert_non_null(strstr(e.msg, "\\x01"));
	for (i = 0; e.msg[i] != '\0'; i++)
		assert_true(e.msg[i] >= 0x20 && e.msg[i] < 0x7f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_corpus_loads),
		cmocka_unit_test(test_corpus_values),
		cmocka_unit_test(test_corpus_broken),
		cmocka_unit_test(test_load_file_errors),
		cmocka_unit_test(test_resolution_table),
		cmocka_unit_test(test_resolution_refused),
		cmocka_unit_test(test_multi_document),
		cmocka_unit_test(test_anchors_and_merge),
		cmocka_unit_test(test_billion_laughs),
		cmocka_unit_test(test_recursive_alias),
		cmocka_unit_test(test_deep_nesting),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_bad_bytes),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_too_large),
		cmocka_unit_test(test_emit_round_trip_strings),
		cmocka_unit_test(test_emit_layout),
		cmocka_unit_test(test_emit_limits),
		cmocka_unit_test(test_canonical_json),
		cmocka_unit_test(test_sha256),
		cmocka_unit_test(test_json_error_printable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
