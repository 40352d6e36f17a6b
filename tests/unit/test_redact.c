/*
 * test_redact.c - the bundle redactor: each rule on crafted inputs and on real
 * corpus objects, stable tokens, records without values, and no false
 * positives on names like MAX_TOTAL_TOKENS, max_tokens or --tokenizer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <cmocka.h>
#include <jansson.h>

#include "bundle/bundle.h"
#include "doc/doc.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/limits.h"
#include "util/banned.h"

#define CANARY "skewd-canary-secret-7f3a9c"
#define CANARY_B64 "c2tld2QtY2FuYXJ5LXNlY3JldC03ZjNhOWM="
/* What the collector stores for a secret value: kept by the redactor. */
#define HMAC64 "hmac-sha256:00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

static struct redact *
new_redact(void)
{
	struct redact *r = NULL;
	struct err e = ERR_INIT;

	if (redact_new(&r, &e) != 0)
		fail_msg("redact_new: %s", e.msg);
	return r;
}

/* The redacted text of s (caller frees). */
static char *
text(struct redact *r, const char *s)
{
	struct buf b = BUF_INIT(1 << 20);
	struct err e = ERR_INIT;

	if (redact_text(r, s, strlen(s), "t.txt", &b, &e) != 0)
		fail_msg("redact_text: %s", e.msg);
	return buf_take(&b, NULL);
}

static void
expect_text(struct redact *r, const char *in, const char *want)
{
	char *got = text(r, in);

	if (strcmp(got, want) != 0)
		fail_msg("redacting\n  %s\ngave\n  %s\nwanted\n  %s", in, got, want);
	free(got);
}

static void
test_names(void **state)
{
	static const char *const secret[] = { "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "OPENAI_API_KEY",
		"apiKey", "api-key", "hf-token", "AWS_SECRET_ACCESS_KEY", "AWS_ACCESS_KEY_ID",
		"AWS_SESSION_TOKEN", "AZURE_OPENAI_KEY", "DB_PASSWORD", "passwd", "MYSQL_PWD",
		"private_key", "privateKey", "client_secret", "Cookie", "Authorization", "auth",
		"TOS_SECRET_KEY", "TOS_ACCESS_KEY", "ENCRYPTION_KEY", "x-api-key", "APIKey",
		"kubectl.kubernetes.io/last-applied-configuration", "SAS_TOKEN", "credentials",
		"webhookSecret", "session_id_cookie" };
	static const char *const plain[] = { "MAX_TOTAL_TOKENS", "max_tokens", "tokenizer",
		"tokenizer_revision", "max_num_batched_tokens", "MAX_KEY", "MAX_KEY_LEN", "SORT_KEY",
		"PUBLIC_KEY", "partition_key", "key", "sessionAffinity", "secretName", "secretKeyRef",
		"model", "MODEL_ID", "LD_LIBRARY_PATH", "VLLM_USE_V1", "num_auth_retries", "MAX_TOKEN",
		"kv_cache_dtype", "served_model_name", "hf_api_token_name_not" };
	struct redact *r = new_redact();
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(secret) / sizeof(secret[0]); i++)
		if (!redact_name_is_secret(r, secret[i]))
			fail_msg("'%s' should be a secret name", secret[i]);
	for (i = 0; i < sizeof(plain) / sizeof(plain[0]) - 1; i++)
		if (redact_name_is_secret(r, plain[i]))
			fail_msg("'%s' should not be a secret name", plain[i]);
	/* "hf_api_token_name_not": any secret word makes a name secret (documented). */
	assert_true(redact_name_is_secret(r, plain[i]));
	redact_free(r);
}

static void
test_text_rules(void **state)
{
	struct redact *r = new_redact();
	char *got;

	(void)state;
	expect_text(r, "pulling https://alice:s3cr3t@registry.example.com/v2/ ok",
	    "pulling https://[REDACTED:1]@registry.example.com/v2/ ok");
	expect_text(r, "GET https://b.s3.amazonaws.com/m.bin?X-Amz-Algorithm=AWS4-HMAC-SHA256"
	    "&X-Amz-Credential=AKIAEXAMPLE%2F20261127&X-Amz-Date=20261127T000000Z"
	    "&X-Amz-Signature=abcdef0123456789 200",
	    "GET https://b.s3.amazonaws.com/m.bin?X-Amz-Algorithm=AWS4-HMAC-SHA256"
	    "&X-Amz-Credential=[REDACTED:2]&X-Amz-Date=20261127T000000Z"
	    "&X-Amz-Signature=[REDACTED:3] 200");
	expect_text(r, "https://storage.googleapis.com/b/o?X-Goog-Signature=9f8e7d6c",
	    "https://storage.googleapis.com/b/o?X-Goog-Signature=[REDACTED:4]");
	expect_text(r, "https://acct.blob.core.windows.net/c/w.bin?sv=2022-11-02&se=2026-12-01T00%3A00Z"
	    "&sr=b&sp=r&sig=AbCd%2BeFg%3D",
	    "https://acct.blob.core.windows.net/c/w.bin?sv=2022-11-02&se=[REDACTED:5]"
	    "&sr=b&sp=r&sig=[REDACTED:6]");
	expect_text(r, "curl -H 'Authorization: Bearer abc.DEF-123_x' http://x/",
	    "curl -H 'Authorization: Bearer [REDACTED:7]' http://x/");
	expect_text(r, "Authorization: Basic YWxhZGRpbjpvcGVuc2VzYW1l",
	    "Authorization: Basic [REDACTED:8]");
	expect_text(r, "tok eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig-part_1 end",
	    "tok [REDACTED:9] end");
	expect_text(r, "vllm serve m --api-key sk-live-0123456789abcdefXYZ --port 8000",
	    "vllm serve m --api-key [REDACTED:10] --port 8000");
	expect_text(r, "run --hf-token=hf_abcdefghijklmnopqrstuvwxyz0123 --tokenizer t5 --max-tokens 12",
	    "run --hf-token=[REDACTED:11] --tokenizer t5 --max-tokens 12");
	expect_text(r, "--db-password 'two words' --model m",
	    "--db-password '[REDACTED:12]' --model m");
	expect_text(r, "export HF_TOKEN=plainvalue123; MAX_TOTAL_TOKENS=4096 run",
	    "export HF_TOKEN=[REDACTED:13]; MAX_TOTAL_TOKENS=4096 run");
	expect_text(r, "password: hunter2\nmax_tokens: 512\n\"client_secret\": \"xyz\"\n",
	    "password: [REDACTED:14]\nmax_tokens: 512\n\"client_secret\": \"[REDACTED:15]\"\n");
	/* A header in JSON: the bearer rule masks the token, the key-value rule keeps
	 * "Bearer [REDACTED:N]" as it is. */
	expect_text(r, "headers {\"Authorization\": \"Bearer abc.DEF-123_x\", \"X-Auth\": \"Bearer abc!tail\"}",
	    "headers {\"Authorization\": \"Bearer [REDACTED:7]\", \"X-Auth\": \"[REDACTED:17]\"}");
	/* Hashes and tokens are kept; a name rule never eats the bearer scheme. */
	expect_text(r, "secret: " HMAC64 " token: [REDACTED:3]",
	    "secret: " HMAC64 " token: [REDACTED:3]");
	/* A PEM block keeps its lines (records stay on the right line numbers). */
	expect_text(r, "a\n-----BEGIN RSA PRIVATE KEY-----\nMIIEow\nIBAAK\n-----END RSA PRIVATE KEY-----\nz",
	    "a\n-----BEGIN RSA PRIVATE KEY-----[REDACTED:18]\n\n\n-----END RSA PRIVATE KEY-----\nz");
	/* Nothing secret: unchanged. */
	expect_text(r, "INFO max_model_len=32768 dtype=torch.bfloat16 tokenizer=meta-llama/x http://h:8000/v1",
	    "INFO max_model_len=32768 dtype=torch.bfloat16 tokenizer=meta-llama/x http://h:8000/v1");
	assert_int_equal(redact_value_count(r), 18);
	/* Only that exact shape is kept: a secret that merely starts with the prefix is not. */
	got = text(r, "secret: hmac-sha256:hunter2 db_password=hmac-sha256:00ff");
	assert_null(strstr(got, "hunter2"));
	assert_null(strstr(got, "00ff"));
	free(got);
	redact_free(r);
}

static void
test_stable_tokens_and_records(void **state)
{
	struct redact *r = new_redact();
	json_t *in, *out = NULL, *rep;
	struct err e = ERR_INIT;
	char *t1, *t2, *dump;
	struct buf b = BUF_INIT(1 << 16);

	(void)state;
	t1 = text(r, "line one\nBearer same-secret-value-1\n");
	t2 = text(r, "Authorization: Bearer other-secret-2 and Bearer same-secret-value-1");
	assert_string_equal(t1, "line one\nBearer [REDACTED:1]\n");
	assert_string_equal(t2, "Authorization: Bearer [REDACTED:2] and Bearer [REDACTED:1]");
	free(t1);
	free(t2);
	/* The same value found by another rule in a JSON document gets the same token. */
	in = json_pack("{s[{ss ss}]}", "env", "name", "API_TOKEN", "value", "same-secret-value-1");
	assert_int_equal(redact_json(r, in, "doc.yaml#/spec", &out, &e), 0);
	assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(out, "env"), 0),
	    "value")), "[REDACTED:1]");
	/* The input is not changed. */
	assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(in, "env"), 0),
	    "value")), "same-secret-value-1");
	rep = redact_report(r);
	dump = json_dumps(rep, JSON_COMPACT | JSON_SORT_KEYS);
	assert_non_null(dump);
	assert_null(strstr(dump, "same-secret-value-1"));
	assert_null(strstr(dump, "other-secret-2"));
	assert_non_null(strstr(dump, "{\"file\":\"t.txt\",\"line\":2,\"rule\":\"bearer-token\",\"token\":\"[REDACTED:1]\"}"));
	assert_non_null(strstr(dump, "{\"file\":\"doc.yaml\",\"pointer\":\"/spec/env/0/value\",\"rule\":\"env-name\","
	    "\"token\":\"[REDACTED:1]\"}"));
	assert_int_equal(json_integer_value(json_object_get(rep, "tokens")), 2);
	free(dump);
	json_decref(rep);
	json_decref(in);
	json_decref(out);
	buf_release(&b);
	redact_free(r);
}

static void
test_json_rules(void **state)
{
	struct redact *r = new_redact();
	struct err e = ERR_INIT;
	json_t *in, *out = NULL;
	char *dump;

	(void)state;
	in = json_loads("{\"objects\": ["
	    "{\"kind\": \"Secret\", \"metadata\": {\"name\": \"s\", \"annotations\": "
	    "{\"kubectl.kubernetes.io/last-applied-configuration\": \"{\\\"data\\\":{\\\"k\\\":\\\"" CANARY_B64 "\\\"}}\"}},"
	    " \"data\": {\"k\": \"" CANARY_B64 "\", \"h\": \"" HMAC64 "\"}, \"stringData\": {\"plain\": \"" CANARY "\"}},"
	    "{\"kind\": \"Deployment\", \"spec\": {\"containers\": [{\"args\": [\"--api-key\", \"sk-arg-secret-value\","
	    " \"--max-num-seqs\", \"4\", \"--tokenizer\", \"tok/x\"], \"env\": [{\"name\": \"MAX_TOTAL_TOKENS\", \"value\": \"4096\"},"
	    " {\"name\": \"HF_TOKEN\", \"value\": \"hf_envvalue\"}], \"sessionAffinity\": \"ClientIP\", \"password\": 1234}]}}],"
	    " \"changes\": [{\"object\": \"v1/ConfigMap/ns/c\", \"path\": \"/data/DB_PASSWORD\", \"kind\": \"modified\","
	    " \"before\": \"old-db-pass\", \"after\": \"new-db-pass\", \"summary\": \"DB_PASSWORD: old-db-pass \xe2\x86\x92 new-db-pass\"}]}",
	    0, NULL);
	assert_non_null(in);
	assert_int_equal(redact_json(r, in, "x.json", &out, &e), 0);
	dump = json_dumps(out, JSON_COMPACT);
	assert_non_null(dump);
	assert_null(strstr(dump, CANARY));
	assert_null(strstr(dump, CANARY_B64));
	assert_null(strstr(dump, "sk-arg-secret-value"));
	assert_null(strstr(dump, "hf_envvalue"));
	assert_null(strstr(dump, "db-pass"));
	assert_null(strstr(dump, "1234"));
	/* Kept: hashes, names that only look secret, settings. */
	assert_non_null(strstr(dump, "\"h\":\"" HMAC64 "\""));
	assert_non_null(strstr(dump, "\"--max-num-seqs\",\"4\",\"--tokenizer\",\"tok/x\""));
	assert_non_null(strstr(dump, "{\"name\":\"MAX_TOTAL_TOKENS\",\"value\":\"4096\"}"));
	assert_non_null(strstr(dump, "\"sessionAffinity\":\"ClientIP\""));
	/* The Secret's base64 value and the last-applied annotation holding it: the
	 * annotation is a different value, so a different token. */
	assert_non_null(strstr(dump, "\"data\":{\"k\":\"[REDACTED:2]\""));
	assert_non_null(strstr(dump, "\"--api-key\",\"[REDACTED:4]\""));
	assert_non_null(strstr(dump, "\"summary\":\"DB_PASSWORD: [REDACTED:7] \xe2\x86\x92 [REDACTED:8] (secret value redacted)\""));
	free(dump);
	json_decref(out);
	json_decref(in);
	redact_free(r);
}

/* A change whose values hold a credential under a plain name: the values are
 * masked by the text rules, and the summary (which quoted a cut prefix of the
 * secret that no rule would see any more) is written anew. */
static void
test_diff_summary_rewritten(void **state)
{
	struct redact *r = new_redact();
	struct err e = ERR_INIT;
	json_t *in, *out = NULL, *c;
	char *dump;

	(void)state;
	in = json_pack("{s[{ss ss ss ss ss ss}]}", "changes", "object", "v1/ConfigMap/ns/c",
	    "path", "/data/MODEL_URL", "kind", "modified",
	    "before", "https://user:longpasswordsecret99@models.example.com/a",
	    "after", "https://models.example.com/a",
	    "summary", "MODEL_URL: https://user:longpass\xe2\x80\xa6 \xe2\x86\x92 https://models.example.com/a");
	assert_int_equal(redact_json(r, in, "diff.json", &out, &e), 0);
	dump = json_dumps(out, JSON_COMPACT);
	assert_null(strstr(dump, "longpass"));
	c = json_array_get(json_object_get(out, "changes"), 0);
	assert_string_equal(json_string_value(json_object_get(c, "before")),
	    "https://[REDACTED:1]@models.example.com/a");
	assert_string_equal(json_string_value(json_object_get(c, "summary")),
	    "MODEL_URL: https://[REDACTED:1]@models.example.com/a \xe2\x86\x92 https://models.example.com/a "
	    "(secret value redacted)");
	free(dump);
	json_decref(out);
	/* A change with nothing to mask keeps its summary. */
	json_decref(in);
	in = json_pack("{ss ss ss ss}", "path", "/spec/replicas", "before", "2", "after", "3",
	    "summary", "replicas: 2 \xe2\x86\x92 3");
	assert_int_equal(redact_json(r, in, "diff.json", &out, &e), 0);
	assert_true(json_equal(in, out));
	json_decref(out);
	json_decref(in);
	redact_free(r);
}

static json_t *
load_yaml(const char *rel)
{
	const char *fx = getenv("SKEWD_FIXTURES");
	char path[1024];
	struct doc_set *d = NULL;
	struct err e = ERR_INIT;
	json_t *all = json_array();
	size_t i;

	assert_non_null(fx);
	snprintf(path, sizeof(path), "%s/%s", fx, rel);
	if (doc_load_file(path, DOC_YAML, &d, &e) != 0)
		fail_msg("%s", e.msg);
	for (i = 0; i < doc_set_count(d); i++)
		json_array_append(all, doc_set_get(d, i));
	doc_set_free(d);
	return all;
}

static void
test_corpus_objects(void **state)
{
	struct redact *r = new_redact();
	struct err e = ERR_INIT;
	json_t *objs, *out = NULL, *rep;
	char *dump;

	(void)state;
	/* The fixture cluster's vLLM Deployment, its pods, and the routing objects with
	 * the Secret (base64 canary). */
	objs = load_yaml("cluster/current/10-vllm-llama.yaml");
	{
		json_t *more = load_yaml("cluster/current/11-vllm-llama-routing.yaml");

		json_array_extend(objs, more);
		json_decref(more);
	}
	assert_int_equal(redact_json(r, objs, "10-vllm-llama.yaml", &out, &e), 0);
	dump = json_dumps(out, JSON_COMPACT);
	assert_null(strstr(dump, CANARY_B64));
	assert_null(strstr(dump, CANARY));
	free(dump);
	/* Only the Secret's value changed: no false positive anywhere else. */
	rep = redact_report(r);
	assert_int_equal(json_array_size(json_object_get(rep, "records")), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(rep, "records"), 0),
	    "rule")), "secret-data");
	json_decref(rep);
	{
		size_t i;
		json_t *a, *b;
		int diffs = 0;

		json_array_foreach(objs, i, a) {
			b = json_array_get(out, i);
			if (!json_equal(a, b)) {
				diffs++;
				assert_string_equal(json_string_value(json_object_get(a, "kind")), "Secret");
			}
		}
		assert_int_equal(diffs, 1);
	}
	json_decref(out);
	json_decref(objs);

	/* AIBrix's sample has a literal --api-key sk-... in its args. */
	objs = load_yaml("corpus/manifests/aibrix__vllm.yaml");
	assert_int_equal(redact_json(r, objs, "aibrix__vllm.yaml", &out, &e), 0);
	dump = json_dumps(out, JSON_COMPACT);
	assert_null(strstr(dump, "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"));
	assert_non_null(strstr(dump, "\"--api-key\",\"[REDACTED:2]\""));
	/* The secretKeyRef names stay readable. */
	assert_non_null(strstr(dump, "\"key\":\"TOS_SECRET_KEY\""));
	free(dump);
	json_decref(out);
	json_decref(objs);
	redact_free(r);
}

static void
test_crafted_log(void **state)
{
	const char *fx = getenv("SKEWD_FIXTURES");
	static const char *const secrets[] = { "hf_CraftedFixtureToken0123456789", "ghost-pass-771",
		"AKIAFIXTURE%2F20261127", "f1xturesignature00", "sk-fixture-openai-0123456789ab",
		"MIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu",
		"eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJrOHMifQ.c2lnbmF0dXJl", "u5er:pa55w0rd", "bearer-fixture-7c1" };
	char path[1024], *data = NULL, *got;
	struct redact *r = new_redact();
	size_t i, n;
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/bundle/crafted-secrets.log", fx);
	f = fopen(path, "rb");
	assert_non_null(f);
	data = calloc(1, 1 << 16);
	n = fread(data, 1, (1 << 16) - 1, f);
	fclose(f);
	got = text(r, data);
	for (i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++) {
		assert_non_null(strstr(data, secrets[i]));
		if (strstr(got, secrets[i]) != NULL)
			fail_msg("'%s' survived redaction:\n%s", secrets[i], got);
	}
	/* Lines kept: same line count. */
	{
		size_t a = 0, b = 0;

		for (i = 0; i < n; i++)
			a += data[i] == '\n';
		for (i = 0; got[i] != '\0'; i++)
			b += got[i] == '\n';
		assert_int_equal(a, b);
	}
	assert_non_null(strstr(got, "max_model_len=32768"));
	assert_non_null(strstr(got, "--tokenizer meta-llama/Llama-3.1-8B-Instruct"));
	free(got);
	free(data);
	redact_free(r);
}

/* Every corpus manifest that loads: only real credentials (or their
 * placeholders) are masked, nothing else. */
static void
test_corpus_manifests(void **state)
{
	static const struct { const char *file; size_t records; } want[] = {
		{ "aibrix__vllm.yaml", 1 },                       /* --api-key sk-... */
		{ "gke-samples__nim-gemma-deployment.yaml", 2 },  /* NGC_API_KEY, HF_TOKEN values */
		{ "sglang__k8s-sglang-service.yaml", 1 },         /* HF_TOKEN: <secret> */
		{ "prodstack__values-02-basic-config.yaml", 1 },  /* hf_token: <YOUR HF TOKEN> */
	};
	const char *fx = getenv("SKEWD_FIXTURES");
	struct dirent **ents = NULL;
	char dir[1024], rel[1400];
	int n, i, loaded = 0;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/corpus/manifests", fx);
	n = scandir(dir, &ents, NULL, alphasort);
	assert_true(n > 0);
	for (i = 0; i < n; i++) {
		struct redact *r = new_redact();
		struct doc_set *d = NULL;
		struct err e = ERR_INIT;
		json_t *all, *out = NULL, *rep;
		size_t j, expect = 0, len = strlen(ents[i]->d_name);

		snprintf(rel, sizeof(rel), "%s/%s", dir, ents[i]->d_name);
		if (len < 5 || strcmp(ents[i]->d_name + len - 5, ".yaml") != 0 ||
		    doc_load_file(rel, DOC_YAML, &d, &e) != 0) {
			/* Helm templates and other non-YAML are not documents. */
			redact_free(r);
			free(ents[i]);
			continue;
		}
		loaded++;
		all = json_array();
		for (j = 0; j < doc_set_count(d); j++)
			json_array_append(all, doc_set_get(d, j));
		assert_int_equal(redact_json(r, all, ents[i]->d_name, &out, &e), 0);
		for (j = 0; j < sizeof(want) / sizeof(want[0]); j++)
			if (strcmp(want[j].file, ents[i]->d_name) == 0)
				expect = want[j].records;
		rep = redact_report(r);
		if (json_array_size(json_object_get(rep, "records")) != expect) {
			char *dump = json_dumps(rep, JSON_INDENT(1));

			fail_msg("%s: %zu records, want %zu:\n%s", ents[i]->d_name,
			    json_array_size(json_object_get(rep, "records")), expect, dump);
		}
		json_decref(rep);
		json_decref(out);
		json_decref(all);
		doc_set_free(d);
		redact_free(r);
		free(ents[i]);
	}
	free(ents);
	assert_true(loaded >= 20);
}

/* The fixture cluster's container logs (vLLM and TGI start-up logs built from
 * real ones) hold no secret: redaction leaves every byte. */
static void
test_fixture_logs(void **state)
{
	static const char *const logs[] = {
		"lastgood/logs/tgi-gemma-84c6d9f7b5-zk5wd/inference-server.log",
		"lastgood/logs/vllm-llama-7c9d8b6f5d-9rtmz/inference-server.log",
		"lastgood/logs/vllm-llama-7c9d8b6f5d-4xkqp/inference-server.log",
		"current/logs/tgi-gemma-84c6d9f7b5-zk5wd/inference-server.log",
		"current/logs/vllm-llama-5f8b7c9d44-h2lwn/inference-server.log",
		"current/logs/vllm-llama-5f8b7c9d44-q8vzc/inference-server.log" };
	const char *fx = getenv("SKEWD_FIXTURES");
	struct redact *r = new_redact();
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(logs) / sizeof(logs[0]); i++) {
		char path[1024], *data = calloc(1, 1 << 20), *got;
		size_t n;
		FILE *f;

		snprintf(path, sizeof(path), "%s/cluster/%s", fx, logs[i]);
		f = fopen(path, "rb");
		assert_non_null(f);
		n = fread(data, 1, (1 << 20) - 1, f);
		fclose(f);
		assert_true(n > 0);
		got = text(r, data);
		if (strcmp(got, data) != 0)
			fail_msg("%s changed:\n%s", logs[i], got);
		free(got);
		free(data);
	}
	assert_int_equal(redact_value_count(r), 0);
	redact_free(r);
}

/* Text with NUL bytes is redacted past them; JSON pointers escape '/' and '~'. */
static void
test_nul_and_pointers(void **state)
{
	static const char in[] = "a\0Bearer nul-secret-1\0z";
	struct redact *r = new_redact();
	struct buf b = BUF_INIT(1 << 16);
	struct err e = ERR_INIT;
	json_t *doc, *out = NULL, *rep;
	char *dump;
	size_t len;

	(void)state;
	assert_int_equal(redact_text(r, in, sizeof(in) - 1, "n.txt", &b, &e), 0);
	len = buf_len(&b);
	assert_int_equal(len, strlen("a") + 1 + strlen("Bearer [REDACTED:1]") + 1 + 1);
	assert_memory_equal(buf_str(&b), "a\0Bearer [REDACTED:1]\0z", len);
	buf_release(&b);
	doc = json_pack("{s{ss}}", "a/b~c", "db_password", "pw-value-123");
	assert_int_equal(redact_json(r, doc, "p.json", &out, &e), 0);
	rep = redact_report(r);
	dump = json_dumps(rep, JSON_COMPACT);
	assert_non_null(strstr(dump, "\"pointer\":\"/a~1b~0c/db_password\""));
	free(dump);
	json_decref(rep);
	json_decref(out);
	json_decref(doc);
	redact_free(r);
}

/* Random bytes and random mixes of rule fragments: never a crash, never a leak
 * of a planted secret after a secret flag. (Seeded: the same run each time.) */
static void
test_random_inputs(void **state)
{
	static const char *const frags[] = { "--api-key ", "Bearer ", "https://", "u:p@", "?sig=", "&se=",
		"-----BEGIN X-----", "-----END X-----", "\n", " ", "=", ":", "\"", "'", "eyJ", ".", "hf_",
		"sk-", "password", "TOKEN", "[REDACTED:", "]", "hmac-sha256:", "\\", "\0", "\xff", "\xe2\x86" };
	struct redact *r = new_redact();
	unsigned seed = 12345;
	int iter;

	(void)state;
	for (iter = 0; iter < 2000; iter++) {
		char in[1024];
		size_t n = 0, i;
		struct buf b = BUF_INIT(1 << 20);
		struct err e = ERR_INIT;

		while (n < 900) {
			seed = seed * 1103515245u + 12345u;
			if (iter % 2 == 0) {
				const char *f = frags[(seed >> 8) % (sizeof(frags) / sizeof(frags[0]))];
				size_t fl = f[0] == '\0' ? 1 : strlen(f);

				memcpy(in + n, f, fl);
				n += fl;
			} else {
				in[n++] = (char)(seed >> 16);
			}
		}
		/* A planted secret after a secret flag, then a space. */
		memcpy(in + n, " --api-key PLANTED-zz9 ", 23);
		n += 23;
		if (redact_text(r, in, n, "r.txt", &b, &e) != 0)
			fail_msg("iteration %d: %s", iter, e.msg);
		for (i = 0; i + 10 <= buf_len(&b); i++)
			assert_false(memcmp(buf_str(&b) + i, "PLANTED-zz9", 10) == 0);
		buf_release(&b);
	}
	redact_free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_text_rules),
		cmocka_unit_test(test_stable_tokens_and_records),
		cmocka_unit_test(test_json_rules),
		cmocka_unit_test(test_diff_summary_rewritten),
		cmocka_unit_test(test_corpus_objects),
		cmocka_unit_test(test_crafted_log),
		cmocka_unit_test(test_corpus_manifests),
		cmocka_unit_test(test_fixture_logs),
		cmocka_unit_test(test_nul_and_pointers),
		cmocka_unit_test(test_random_inputs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
