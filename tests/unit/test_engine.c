/*
 * test_engine.c - engine detection, shell splitting and flag parsing, on the
 * real containers of tests/fixtures/corpus/manifests/ (copied from ../shared/corpus) and
 * on hand-written cases for each rule.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "doc/doc.h"
#include "engine/engine.h"
#include "util/err.h"
#include "util/limits.h"
#include "util/banned.h"

static char fixture_path[1024];

static const char *
fixture(const char *name)
{
	const char *dir = getenv("SKEWD_FIXTURES");

	assert_non_null(dir);
	snprintf(fixture_path, sizeof(fixture_path), "%s/corpus/manifests/%s", dir, name);
	return fixture_path;
}

static int
setup(void **state)
{
	struct err e = ERR_INIT;

	(void)state;
	if (engine_init(&e) < 0) {
		fprintf(stderr, "engine_init: %s\n", e.msg);
		return -1;
	}
	return 0;
}

/* Depth-first search for an object whose "name" is `name` and that has `key`. */
static json_t *
find_named(json_t *v, const char *name, const char *key)
{
	const char *k;
	json_t *x, *found;
	size_t i;

	if (json_is_object(v)) {
		json_t *n = json_object_get(v, "name");
		if (json_is_string(n) && strcmp(json_string_value(n), name) == 0 &&
		    json_object_get(v, key) != NULL)
			return v;
		json_object_foreach(v, k, x)
			if ((found = find_named(x, name, key)) != NULL)
				return found;
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, x)
			if ((found = find_named(x, name, key)) != NULL)
				return found;
	}
	return NULL;
}

/* The container `name` of a fixture file, parsed; caller frees. */
static struct engine_parse *
parse_fixture(const char *file, const char *name)
{
	struct err e = ERR_INIT;
	struct doc_set *d = NULL;
	struct engine_parse *p = NULL;
	json_t *c = NULL;
	size_t i;

	if (doc_load_file(fixture(file), DOC_YAML, &d, &e) < 0)
		fail_msg("loading %s: %s", file, e.msg);
	for (i = 0; c == NULL && i < doc_set_count(d); i++)
		c = find_named(doc_set_get(d, i), name, "image");
	if (c == NULL)
		fail_msg("no container '%s' in %s", name, file);
	if (engine_parse(c, &p, &e) < 0)
		fail_msg("parsing %s/%s: %s", file, name, e.msg);
	doc_set_free(d);
	return p;
}

static struct engine_parse *
parse_json(const char *text)
{
	struct err e = ERR_INIT;
	struct engine_parse *p = NULL;
	json_error_t je;
	json_t *c = json_loads(text, 0, &je);

	if (c == NULL)
		fail_msg("bad test json: %s: %s", je.text, text);
	if (engine_parse(c, &p, &e) < 0)
		fail_msg("engine_parse: %s", e.msg);
	json_decref(c);
	return p;
}

static void
expect_str(const struct engine_parse *p, const char *name, const char *want)
{
	const struct engine_setting *s = engine_parse_get(p, name);

	if (s == NULL)
		fail_msg("no setting '%s'", name);
	if (!json_is_string(s->value) || strcmp(json_string_value(s->value), want) != 0) {
		char *got = json_dumps(s->value, JSON_ENCODE_ANY);
		fail_msg("setting '%s' is %s, want \"%s\"", name, got, want);
	}
}

/* A secret setting holds a salted hash token, never the value. */
static void
expect_redacted(const struct engine_parse *p, const char *name)
{
	const struct engine_setting *s = engine_parse_get(p, name);

	if (s == NULL)
		fail_msg("no setting '%s'", name);
	if (!json_is_string(s->value) || strncmp(json_string_value(s->value), "<redacted:", 10) != 0) {
		char *got = json_dumps(s->value, JSON_ENCODE_ANY);
		fail_msg("setting '%s' is %s, want a <redacted:...> token", name, got);
	}
}

static void
expect_int(const struct engine_parse *p, const char *name, long long want)
{
	const struct engine_setting *s = engine_parse_get(p, name);

	if (s == NULL)
		fail_msg("no setting '%s'", name);
	if (!json_is_integer(s->value) || json_integer_value(s->value) != want) {
		char *got = json_dumps(s->value, JSON_ENCODE_ANY);
		fail_msg("setting '%s' is %s, want %lld", name, got, want);
	}
}

static void
expect_real(const struct engine_parse *p, const char *name, double want)
{
	const struct engine_setting *s = engine_parse_get(p, name);

	if (s == NULL)
		fail_msg("no setting '%s'", name);
	assert_true(json_is_real(s->value));
	assert_true(json_real_value(s->value) == want);
}

static void
expect_bool(const struct engine_parse *p, const char *name, int want)
{
	const struct engine_setting *s = engine_parse_get(p, name);

	if (s == NULL)
		fail_msg("no setting '%s'", name);
	assert_true(json_is_boolean(s->value));
	assert_int_equal(json_is_true(s->value), want);
}

static void
expect_raw(const struct engine_parse *p, const char *name, const char *raw)
{
	const struct engine_setting *s = engine_parse_get(p, name);

	assert_non_null(s);
	assert_string_equal(s->raw, raw);
}

/* ---- corpus containers ------------------------------------------------- */

static void
test_corpus_405b_pair(void **state)
{
	struct engine_parse *a, *b;
	json_t *ja, *jb, *sa, *sb;

	(void)state;
	a = parse_fixture("gke-samples-2024-10-25-ec129631__vllm-llama3-405b-A3.yaml", "vllm-leader");
	b = parse_fixture("gke-samples-2025-07-03-ee970fb0__vllm-llama3-405b-A3.yaml", "vllm-leader");
	assert_int_equal(engine_parse_kind(a), ENGINE_VLLM);
	assert_int_equal(engine_parse_kind(b), ENGINE_VLLM);
	/* The Vertex image tag is a build date, not a version. */
	assert_null(engine_parse_version(a));
	assert_string_equal(engine_parse_version(b), "0.8.5");
	expect_str(a, "model", "meta-llama/Meta-Llama-3.1-405B-Instruct");
	expect_int(a, "tensor_parallel_size", 8);
	expect_int(a, "pipeline_parallel_size", 2);
	expect_int(a, "port", 8080);
	expect_raw(a, "model", "--model");
	/* The launcher script changed; the engine's settings did not. */
	ja = engine_parse_to_json(a);
	jb = engine_parse_to_json(b);
	sa = json_object_get(ja, "settings");
	sb = json_object_get(jb, "settings");
	assert_true(json_equal(sa, sb));
	assert_int_equal(json_object_size(sa), 4);
	assert_string_equal(json_string_value(json_object_get(ja, "engine")), "vllm");
	assert_true(json_is_null(json_object_get(ja, "version")));
	json_decref(ja);
	json_decref(jb);
	engine_parse_free(a);
	engine_parse_free(b);

	/* The worker runs a ray script on a vLLM image: vLLM by image, its flags kept. */
	a = parse_fixture("gke-samples-2025-07-03-ee970fb0__vllm-llama3-405b-A3.yaml", "vllm-worker");
	assert_int_equal(engine_parse_kind(a), ENGINE_VLLM);
	expect_str(a, "ray_address", "$(LWS_LEADER_ADDRESS)");
	assert_null(engine_parse_get(a, "model"));
	engine_parse_free(a);
}

static void
test_corpus_vllm(void **state)
{
	struct engine_parse *p;
	const struct engine_setting *s;

	(void)state;
	/* --model=$(MODEL_ID) is expanded by the kubelet from the literal env value. */
	p = parse_fixture("gke-samples__vllm-3-27b-it.yaml", "inference-server");
	assert_int_equal(engine_parse_kind(p), ENGINE_VLLM);
	assert_string_equal(engine_parse_version(p), "0.10.0");
	expect_str(p, "model", "google/gemma-3-27b-it");
	expect_int(p, "tensor_parallel_size", 1);
	expect_real(p, "gpu_memory_utilization", 0.95);
	expect_int(p, "max_model_len", 32768);
	expect_int(p, "max_num_seqs", 4);
	expect_real(p, "swap_space", 16);
	expect_str(p, "host", "0.0.0.0");
	expect_int(p, "port", 8000);
	assert_int_equal(engine_parse_count(p), 8);
	engine_parse_free(p);

	p = parse_fixture("aibrix__vllm.yaml", "vllm-openai");
	assert_int_equal(engine_parse_kind(p), ENGINE_VLLM);
	assert_string_equal(engine_parse_version(p), "0.10.2");
	expect_str(p, "model", "/models/DeepSeek-R1-Distill-Llama-8B/");
	expect_bool(p, "trust_remote_code", 1);
	expect_int(p, "max_model_len", 32000);
	expect_bool(p, "enable_chunked_prefill", 0);
	expect_raw(p, "enable_chunked_prefill", "--no-enable-chunked-prefill");
	expect_bool(p, "disable_log_requests", 1);
	expect_bool(p, "vllm_use_v1", 1);
	expect_raw(p, "vllm_use_v1", "VLLM_USE_V1");
	s = engine_parse_get(p, "served_model_name");
	assert_non_null(s);
	assert_true(json_is_array(s->value));
	assert_string_equal(json_string_value(json_array_get(s->value, 0)),
	    "deepseek-r1-distill-llama-8b");
	s = engine_parse_get(p, "kv_transfer_config");
	assert_non_null(s);
	assert_string_equal(json_string_value(json_object_get(s->value, "kv_role")), "kv_both");
	/* The literal API key in the args never becomes a value. */
	expect_redacted(p, "api_key");
	engine_parse_free(p);

	/* Image entry point with args only: "serve MODEL" positional. */
	p = parse_fixture("vllm__vllm-deployment.yaml", "vllm");
	assert_int_equal(engine_parse_kind(p), ENGINE_VLLM);
	assert_null(engine_parse_version(p));
	expect_str(p, "model", "Qwen/Qwen3-235B-A22B");
	expect_raw(p, "model", "<positional>");
	expect_int(p, "tensor_parallel_size", 4);
	expect_int(p, "max_model_len", 32768);
	expect_real(p, "gpu_memory_utilization", 0.92);
	expect_bool(p, "enable_prefix_caching", 1);
	expect_bool(p, "log_requests", 1);
	expect_str(p, "vllm_worker_multiproc_method", "spawn");
	engine_parse_free(p);

	p = parse_fixture("kserve__kserve-vllmserver.yaml", "kserve-container");
	assert_int_equal(engine_parse_kind(p), ENGINE_VLLM);
	expect_str(p, "model", "/mnt/models");
	expect_int(p, "port", 8080);
	engine_parse_free(p);
}

/* KubeAI Model resources carry vLLM args without a container around them. */
static void
test_corpus_kubeai(void **state)
{
	struct err e = ERR_INIT;
	struct doc_set *d = NULL;
	struct engine_parse *p = NULL;
	json_t *c, *spec;

	(void)state;
	assert_int_equal(doc_load_file(fixture("kubeai__llama-3.1-70b-instruct-fp8-h100.yaml"),
	    DOC_YAML, &d, &e), 0);
	spec = json_object_get(doc_set_get(d, 0), "spec");
	c = json_pack("{s:s, s:O}", "image", "vllm/vllm-openai:v0.6.4", "args",
	    json_object_get(spec, "args"));
	assert_int_equal(engine_parse(c, &p, &e), 0);
	assert_int_equal(engine_parse_kind(p), ENGINE_VLLM);
	expect_int(p, "max_model_len", 65536);
	/* argparse abbreviation: --max-num-batched-token is --max-num-batched-tokens. */
	expect_int(p, "max_num_batched_tokens", 65536);
	expect_raw(p, "max_num_batched_tokens", "--max-num-batched-token");
	expect_int(p, "max_num_seqs", 1024);
	expect_int(p, "tensor_parallel_size", 2);
	expect_bool(p, "enable_prefix_caching", 1);
	engine_parse_free(p);
	json_decref(c);
	doc_set_free(d);

	assert_int_equal(doc_load_file(fixture("kubeai__qwen2.5-7b-instruct-l4.yaml"),
	    DOC_YAML, &d, &e), 0);
	spec = json_object_get(doc_set_get(d, 0), "spec");
	c = json_pack("{s:s, s:O, s:[{s:s, s:s}]}", "image", "vllm/vllm-openai:v0.6.4", "args",
	    json_object_get(spec, "args"), "env", "name", "VLLM_ATTENTION_BACKEND", "value",
	    json_string_value(json_object_get(json_object_get(spec, "env"),
	    "VLLM_ATTENTION_BACKEND")));
	assert_int_equal(engine_parse(c, &p, &e), 0);
	expect_str(p, "kv_cache_dtype", "fp8");
	expect_str(p, "vllm_attention_backend", "FLASHINFER");
	expect_real(p, "gpu_memory_utilization", 0.95);
	engine_parse_free(p);
	json_decref(c);
	doc_set_free(d);
}

static void
test_corpus_tgi(void **state)
{
	struct engine_parse *p;

	(void)state;
	p = parse_fixture("gke-samples__tgi-2-27b-it.yaml", "inference-server");
	assert_int_equal(engine_parse_kind(p), ENGINE_TGI);
	assert_null(engine_parse_version(p));
	expect_str(p, "model_id", "google/gemma-2-27b-it");
	expect_int(p, "num_shard", 4);
	expect_int(p, "max_input_tokens", 1562);
	expect_raw(p, "max_input_tokens", "MAX_INPUT_LENGTH");
	expect_int(p, "max_total_tokens", 2048);
	expect_int(p, "max_batch_prefill_tokens", 2048);
	expect_real(p, "cuda_memory_fraction", 0.93);
	/* AIP_HTTP_PORT is not a TGI setting; the hub token is valueFrom. */
	assert_null(engine_parse_get(p, "aip_http_port"));
	assert_null(engine_parse_get(p, "hf_token"));
	assert_int_equal(engine_parse_count(p), 6);
	engine_parse_free(p);
}

static void
test_corpus_sglang(void **state)
{
	struct engine_parse *p;

	(void)state;
	p = parse_fixture("sglang__k8s-sglang-service.yaml", "meta-llama-31-8b-instruct-sglang");
	assert_int_equal(engine_parse_kind(p), ENGINE_SGLANG);
	assert_null(engine_parse_version(p));
	expect_str(p, "model_path", "meta-llama/Meta-Llama-3.1-8B-Instruct");
	expect_str(p, "host", "0.0.0.0");
	expect_int(p, "port", 30000);
	/* HF_TOKEN=<secret> is a credential, not a setting. */
	assert_null(engine_parse_get(p, "hf_token"));
	engine_parse_free(p);

	/* sh -c with backslash-newline continuations. */
	p = parse_fixture("aibrix__tp-1p1d.yaml", "prefill");
	assert_int_equal(engine_parse_kind(p), ENGINE_SGLANG);
	assert_string_equal(engine_parse_version(p), "0.4.9.post3");
	expect_str(p, "model_path", "/models/Qwen3-8B");
	expect_raw(p, "tensor_parallel_size", "--tp-size");
	expect_int(p, "tensor_parallel_size", 2);
	expect_real(p, "mem_fraction_static", 0.8);
	expect_str(p, "disaggregation_mode", "prefill");
	expect_str(p, "disaggregation_transfer_backend", "nixl");
	expect_str(p, "dist_init_addr", "${PODSET_NAME}-0.${STORM_SERVICE_NAME}.default.svc.cluster.local:5000");
	expect_str(p, "node_rank", "$POD_GROUP_INDEX");
	expect_int(p, "nnodes", 2);
	expect_bool(p, "trust_remote_code", 1);
	engine_parse_free(p);

	/* The router in front is not the engine. */
	p = parse_fixture("aibrix__tp-1p1d.yaml", "mini-lb");
	assert_int_equal(engine_parse_kind(p), ENGINE_UNKNOWN);
	expect_str(p, "policy", "random");
	engine_parse_free(p);
}

static void
test_corpus_triton_nim(void **state)
{
	struct engine_parse *p;

	(void)state;
	p = parse_fixture("gke-samples__deploy-triton-server.yaml", "inference-server");
	assert_int_equal(engine_parse_kind(p), ENGINE_TRITON);
	assert_string_equal(engine_parse_version(p), "2.42.0");
	engine_parse_free(p);

	p = parse_fixture("gke-samples__nim-gemma-deployment.yaml", "nim-gemma-3-27b-container");
	assert_int_equal(engine_parse_kind(p), ENGINE_NIM);
	assert_string_equal(engine_parse_version(p), "1.14");
	expect_str(p, "model", "hf://google/gemma-3-27b-it");
	expect_raw(p, "model", "NIM_MODEL_NAME");
	expect_int(p, "tensor_parallel_size", 2);
	expect_int(p, "max_images_per_prompt", 0);
	expect_str(p, "served_model_name", "google/gemma-3-27b-it");
	expect_str(p, "log_level", "TRACE");
	/* The literal NGC key and HF token are redacted. */
	expect_redacted(p, "ngc_api_key");
	expect_redacted(p, "hf_token");
	engine_parse_free(p);
}

/* ---- rules ------------------------------------------------------------- */

static void
test_spellings(void **state)
{
	struct engine_parse *a, *b, *c;
	json_t *ja, *jb, *jc;

	(void)state;
	a = parse_json("{\"image\":\"vllm/vllm-openai:v0.8.5\",\"command\":[\"vllm\",\"serve\",\"m\","
	    "\"--max-model-len\",\"8192\",\"-tp\",\"2\",\"--enable-prefix-caching\"]}");
	b = parse_json("{\"image\":\"vllm/vllm-openai:v0.8.5\",\"command\":[\"vllm\",\"serve\"],"
	    "\"args\":[\"--max_model_len=8192\",\"--tensor-parallel-size=2\",\"--model\",\"m\","
	    "\"--enable_prefix_caching\"]}");
	c = parse_json("{\"image\":\"vllm/vllm-openai:v0.8.5\",\"command\":[\"sh\",\"-c\","
	    "\"pip install x && exec vllm serve m --max-model-len 8k -tp=2 --enable-prefix-caching\"]}");
	ja = engine_parse_to_json(a);
	jb = engine_parse_to_json(b);
	jc = engine_parse_to_json(c);
	assert_true(json_equal(json_object_get(ja, "settings"), json_object_get(jb, "settings")));
	expect_int(a, "tensor_parallel_size", 2);
	expect_raw(a, "tensor_parallel_size", "-tp");
	expect_raw(b, "max_model_len", "--max_model_len");
	/* 8k is 8000, not 8192. */
	expect_int(c, "max_model_len", 8000);
	expect_int(c, "tensor_parallel_size", 2);
	expect_str(c, "model", "m");
	assert_false(json_equal(json_object_get(ja, "settings"), json_object_get(jc, "settings")));
	json_decref(ja);
	json_decref(jb);
	json_decref(jc);
	engine_parse_free(a);
	engine_parse_free(b);
	engine_parse_free(c);
}

static void
test_values(void **state)
{
	struct engine_parse *p;
	const struct engine_setting *s;

	(void)state;
	p = parse_json("{\"command\":[\"python3\",\"-m\",\"vllm.entrypoints.openai.api_server\"],"
	    "\"args\":[\"--max-model-len\",\"1K\",\"--max-num-batched-tokens=25.6k\","
	    "\"--max-num-seqs\",\"64\",\"--max-num-seqs\",\"128\",\"--no-enable-prefix-caching\","
	    "\"--enable-prefix-caching\",\"--no-enable-prefix-caching\",\"--dtype\",\"half\","
	    "\"-q\",\"awq\",\"-O3\",\"--seed\",\"$SEED\",\"--custom-thing\",\"--other\",\"1.5\","
	    "\"--word\",\"abc\",\"--served-model-name\",\"a\",\"b\",\"--hf-overrides\","
	    "\"{\\\"rope_theta\\\": 1000000, \\\"max_position_embeddings\\\": 8192}\","
	    "\"--hf-overrides.rope_scaling.factor\",\"8\",\"--speculative-config.method=ngram\","
	    "\"--kv-cache-memory-bytes\",\"2G\",\"--weird\",\"1.2.3\"]}");
	assert_int_equal(engine_parse_kind(p), ENGINE_VLLM);
	expect_int(p, "max_model_len", 1024);
	expect_int(p, "max_num_batched_tokens", 25600);
	expect_int(p, "max_num_seqs", 128);
	expect_bool(p, "enable_prefix_caching", 0);
	expect_str(p, "dtype", "half");
	expect_str(p, "quantization", "awq");
	expect_int(p, "compilation_config", 3);
	expect_raw(p, "compilation_config", "-O");
	/* No expansion: $SEED is reported as written. */
	expect_str(p, "seed", "$SEED");
	expect_bool(p, "custom_thing", 1);
	expect_real(p, "other", 1.5);
	expect_str(p, "word", "abc");
	expect_str(p, "weird", "1.2.3");
	expect_int(p, "kv_cache_memory_bytes", 2147483648LL);
	s = engine_parse_get(p, "served_model_name");
	assert_int_equal(json_array_size(s->value), 2);
	s = engine_parse_get(p, "hf_overrides");
	assert_non_null(s);
	assert_int_equal(json_integer_value(json_object_get(s->value, "rope_theta")), 1000000);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(s->value,
	    "rope_scaling"), "factor")), 8);
	assert_int_equal(json_integer_value(json_object_get(s->value, "max_position_embeddings")),
	    8192);
	s = engine_parse_get(p, "speculative_config");
	assert_string_equal(json_string_value(json_object_get(s->value, "method")), "ngram");
	engine_parse_free(p);
}

static void
test_json_key_order(void **state)
{
	struct engine_parse *a, *b;

	(void)state;
	a = parse_json("{\"command\":[\"vllm\",\"serve\",\"m\",\"--speculative-config\","
	    "\"{\\\"method\\\":\\\"ngram\\\",\\\"num_speculative_tokens\\\":5}\"]}");
	b = parse_json("{\"command\":[\"vllm\",\"serve\",\"m\",\"--speculative_config\","
	    "\"{ \\\"num_speculative_tokens\\\": 5, \\\"method\\\": \\\"ngram\\\" }\"]}");
	assert_true(json_equal(engine_parse_get(a, "speculative_config")->value,
	    engine_parse_get(b, "speculative_config")->value));
	engine_parse_free(a);
	engine_parse_free(b);
}

static void
test_tgi_env_twin(void **state)
{
	struct engine_parse *a, *b, *c;
	json_t *ja, *jb;

	(void)state;
	a = parse_json("{\"image\":\"ghcr.io/huggingface/text-generation-inference:2.3.1\","
	    "\"env\":[{\"name\":\"MAX_TOTAL_TOKENS\",\"value\":\"4096\"},"
	    "{\"name\":\"MODEL_ID\",\"value\":\"m\"},{\"name\":\"QUANTIZE\",\"value\":\"awq\"}]}");
	b = parse_json("{\"image\":\"ghcr.io/huggingface/text-generation-inference:2.3.1\","
	    "\"args\":[\"--max-total-tokens\",\"4096\",\"--model-id=m\",\"--quantize\",\"awq\"]}");
	assert_int_equal(engine_parse_kind(a), ENGINE_TGI);
	assert_string_equal(engine_parse_version(a), "2.3.1");
	ja = engine_parse_to_json(a);
	jb = engine_parse_to_json(b);
	assert_true(json_equal(json_object_get(ja, "settings"), json_object_get(jb, "settings")));
	json_decref(ja);
	json_decref(jb);
	expect_raw(a, "max_total_tokens", "MAX_TOTAL_TOKENS");
	assert_int_equal(engine_parse_get(a, "max_total_tokens")->source, ENGINE_SRC_ENV);
	/* The CLI wins over the env twin, whatever the order. */
	c = parse_json("{\"command\":[\"text-generation-launcher\",\"--max-total-tokens\",\"2048\"],"
	    "\"env\":[{\"name\":\"MAX_TOTAL_TOKENS\",\"value\":\"4096\"},"
	    "{\"name\":\"API_KEY\",\"value\":\"canary-secret-1\"}]}");
	expect_int(c, "max_total_tokens", 2048);
	assert_int_equal(engine_parse_get(c, "max_total_tokens")->source, ENGINE_SRC_ARG);
	expect_redacted(c, "api_key");
	engine_parse_free(a);
	engine_parse_free(b);
	engine_parse_free(c);
}

static void
test_no_secret_leaks(void **state)
{
	struct engine_parse *p;
	json_t *j;
	char *text;

	(void)state;
	p = parse_json("{\"image\":\"vllm/vllm-openai:v0.9.0\",\"command\":[\"sh\",\"-c\","
	    "\"HF_TOKEN=canary-1 vllm serve $(TOK) --api-key canary-2 --hf-token=canary-3 "
	    "--my-password canary-4 --hf-overrides.secret_key canary-5\"],"
	    "\"env\":[{\"name\":\"VLLM_API_KEY\",\"value\":\"canary-6\"},"
	    "{\"name\":\"TOK\",\"value\":\"m\"},{\"name\":\"HF_TOKEN\",\"value\":\"canary-7\"}]}");
	j = engine_parse_to_json(p);
	text = json_dumps(j, 0);
	assert_null(strstr(text, "canary"));
	expect_str(p, "model", "m");
	expect_redacted(p, "api_key");
	assert_int_equal(engine_parse_get(p, "api_key")->source, ENGINE_SRC_ARG);
	free(text);
	json_decref(j);
	engine_parse_free(p);
}

/* A rotated secret shows as a change, an unchanged one does not, and an install
 * HMAC (what the collector stores) passes through as itself. */
static void
test_secret_rotation_visible(void **state)
{
	const char *hmac = "hmac-sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	struct engine_parse *a, *b, *c, *h;
	char body[512];

	(void)state;
	a = parse_json("{\"image\":\"vllm/vllm-openai:v0.9.0\",\"args\":[\"serve\",\"m\","
	    "\"--api-key\",\"sk-first\"]}");
	b = parse_json("{\"image\":\"vllm/vllm-openai:v0.9.0\",\"args\":[\"serve\",\"m\","
	    "\"--api-key=sk-first\"]}");
	c = parse_json("{\"image\":\"vllm/vllm-openai:v0.9.0\",\"args\":[\"serve\",\"m\","
	    "\"--api-key\",\"sk-second\"]}");
	snprintf(body, sizeof(body), "{\"image\":\"vllm/vllm-openai:v0.9.0\",\"args\":[\"serve\","
	    "\"m\",\"--api-key\",\"%s\"]}", hmac);
	h = parse_json(body);
	expect_redacted(a, "api_key");
	assert_true(json_equal(engine_parse_get(a, "api_key")->value,
	    engine_parse_get(b, "api_key")->value));
	assert_false(json_equal(engine_parse_get(a, "api_key")->value,
	    engine_parse_get(c, "api_key")->value));
	assert_null(strstr(json_string_value(engine_parse_get(c, "api_key")->value), "second"));
	expect_str(h, "api_key", hmac);
	engine_parse_free(a);
	engine_parse_free(b);
	engine_parse_free(c);
	engine_parse_free(h);
}

/* Only the exact shape of an install HMAC is kept: a secret that merely starts
 * with "hmac-sha256:" is redacted (fuzz_engine_args found such a value with
 * invalid UTF-8 kept verbatim, which also made engine_redact_value() NULL). */
static void
test_redact_hmac_shape(void **state)
{
	const char *bad[] = { "hmac-sha256:hunter2-is-my-password",
		"hmac-sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef",
		"hmac-sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0",
		"hmac-sha256:\xa3\x9c\x91 not utf-8" };
	const char *good = "hmac-sha256:00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
	size_t i;
	json_t *v;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = engine_redact_value(bad[i], strlen(bad[i]));
		assert_non_null(v);
		assert_int_equal(strncmp(json_string_value(v), "<redacted:", 10), 0);
		json_decref(v);
	}
	v = engine_redact_value(good, strlen(good));
	assert_non_null(v);
	assert_string_equal(json_string_value(v), good);
	json_decref(v);
}

static void
test_split_shell(void **state)
{
	struct err e = ERR_INIT;
	char **argv = NULL;
	size_t argc = 0;

	(void)state;
	assert_int_equal(engine_split_shell("pip install x && A=b exec vllm serve m "
	    "--max-model-len 4096 # comment\n", &argv, &argc, &e), 0);
	assert_int_equal(argc, 5);
	assert_string_equal(argv[0], "vllm");
	assert_string_equal(argv[2], "m");
	assert_null(argv[5]);
	engine_argv_free(argv);

	assert_int_equal(engine_split_shell("echo 'a b' \"c \\\"d\\\" $X\" e\\ f g\\\nh "
	    "$(date +%s) `x y` 2>&1 >/dev/null i", &argv, &argc, &e), 0);
	assert_int_equal(argc, 8);
	assert_string_equal(argv[1], "a b");
	assert_string_equal(argv[2], "c \"d\" $X");
	assert_string_equal(argv[3], "e f");
	assert_string_equal(argv[4], "gh");
	assert_string_equal(argv[5], "$(date +%s)");
	assert_string_equal(argv[6], "`x y`");
	assert_string_equal(argv[7], "i");
	engine_argv_free(argv);

	assert_int_equal(engine_split_shell("vllm '' \"\" 'x'\"y\"z ; b", &argv, &argc, &e), 0);
	assert_int_equal(argc, 4);
	assert_string_equal(argv[1], "");
	assert_string_equal(argv[3], "xyz");
	engine_argv_free(argv);

	argv = NULL;
	assert_int_equal(engine_split_shell("vllm serve 'm", &argv, &argc, &e), -1);
	assert_int_equal(e.code, ERR_INVALID);
	assert_non_null(strstr(e.msg, "unterminated single quote"));
	assert_null(argv);
	assert_int_equal(engine_split_shell("vllm serve \"m", &argv, &argc, &e), -1);
	assert_non_null(strstr(e.msg, "unterminated double quote"));
	assert_int_equal(engine_split_shell("echo $(date", &argv, &argc, &e), -1);
}

static void
test_bad_sh_c_is_an_error(void **state)
{
	struct err e = ERR_INIT;
	struct engine_parse *p = NULL;
	json_t *c = json_pack("{s:[s,s,s]}", "command", "bash", "-c", "vllm serve \"m");

	(void)state;
	assert_int_equal(engine_parse(c, &p, &e), -1);
	assert_null(p);
	assert_int_equal(e.code, ERR_INVALID);
	assert_non_null(strstr(e.msg, "unterminated double quote"));
	json_decref(c);
}

static void
test_limits(void **state)
{
	struct err e = ERR_INIT;
	struct engine_parse *p = NULL;
	json_t *c, *args = json_array();
	char **argv = NULL;
	size_t i, argc;
	char *big;

	(void)state;
	for (i = 0; i <= ENGINE_MAX_ARGS; i++)
		json_array_append_new(args, json_string("--x"));
	c = json_pack("{s:[s,s], s:o}", "command", "vllm", "serve", "args", args);
	assert_int_equal(engine_parse(c, &p, &e), -1);
	assert_int_equal(e.code, ERR_TOO_LARGE);
	assert_null(p);
	json_decref(c);

	big = malloc(ENGINE_MAX_ARG_BYTES + 2);
	memset(big, 'a', ENGINE_MAX_ARG_BYTES + 1);
	big[ENGINE_MAX_ARG_BYTES + 1] = '\0';
	assert_int_equal(engine_split_shell(big, &argv, &argc, &e), -1);
	assert_int_equal(e.code, ERR_TOO_LARGE);
	c = json_pack("{s:[s,s,s]}", "command", "sh", "-c", big);
	assert_int_equal(engine_parse(c, &p, &e), -1);
	assert_int_equal(e.code, ERR_TOO_LARGE);
	json_decref(c);
	/* Many short words in one string. */
	for (i = 0; i < ENGINE_MAX_ARG_BYTES / 2; i++) {
		big[2 * i] = 'a';
		big[2 * i + 1] = ' ';
	}
	big[ENGINE_MAX_ARG_BYTES - 1] = '\0';
	assert_int_equal(engine_split_shell(big, &argv, &argc, &e), -1);
	assert_int_equal(e.code, ERR_TOO_LARGE);
	free(big);

	c = json_pack("{s:[s,i]}", "command", "vllm", 5);
	assert_int_equal(engine_parse(c, &p, &e), 0);
	engine_parse_free(p);
	json_decref(c);
	c = json_pack("{s:[s,{}]}", "command", "vllm");
	assert_int_equal(engine_parse(c, &p, &e), -1);
	assert_int_equal(e.code, ERR_INVALID);
	json_decref(c);
}

static void
test_unknown_engine(void **state)
{
	struct engine_parse *p;

	(void)state;
	p = parse_json("{\"image\":\"example.com/my-server:1.0\",\"command\":[\"/bin/server\","
	    "\"--Max-Len=5\",\"--flag\",\"--name\",\"x\",\"pos\",\"-v\"]}");
	assert_int_equal(engine_parse_kind(p), ENGINE_UNKNOWN);
	assert_null(engine_parse_version(p));
	expect_int(p, "Max_Len", 5);
	expect_bool(p, "flag", 1);
	expect_str(p, "name", "x");
	expect_bool(p, "v", 1);
	assert_int_equal(json_array_size(engine_parse_get(p, "positional")->value), 1);
	assert_null(engine_knob_find(ENGINE_UNKNOWN, "model"));
	engine_parse_free(p);

	p = parse_json("{\"name\":\"empty\"}");
	assert_int_equal(engine_parse_kind(p), ENGINE_UNKNOWN);
	assert_int_equal(engine_parse_count(p), 0);
	engine_parse_free(p);
}

static void
test_detection(void **state)
{
	static const struct {
		const char *json;
		enum engine_kind kind;
		const char *version;
	} cases[] = {
		{ "{\"command\":[\"python\",\"-u\",\"-m\",\"vllm.entrypoints.api_server\"]}", ENGINE_VLLM, NULL },
		{ "{\"image\":\"us-docker.pkg.dev/vertex-ai/x/pytorch-vllm-serve:20240821_1034_RC00\"}", ENGINE_VLLM, NULL },
		{ "{\"image\":\"vllm/vllm-openai@sha256:abcd\"}", ENGINE_VLLM, NULL },
		{ "{\"image\":\"vllm/vllm-openai:latest\"}", ENGINE_VLLM, NULL },
		{ "{\"command\":[\"/usr/local/bin/text-generation-launcher\"]}", ENGINE_TGI, NULL },
		{ "{\"image\":\"ghcr.io/huggingface/text-generation-inference:3.3.4@sha256:ab\"}", ENGINE_TGI, "3.3.4" },
		{ "{\"command\":[\"bash\",\"-ec\",\"python3 -m sglang.launch_server --tp 2\"]}", ENGINE_SGLANG, NULL },
		{ "{\"image\":\"lmsysorg/sglang:v0.5.2-cu126\"}", ENGINE_SGLANG, "0.5.2" },
		{ "{\"command\":[\"tritonserver\",\"--model-repository=/m\"]}", ENGINE_TRITON, NULL },
		{ "{\"image\":\"nvcr.io/nvidia/tritonserver:24.08-trtllm-python-py3\"}", ENGINE_TRITON, "24.08" },
		{ "{\"image\":\"nvcr.io/nim/meta/llama-3.1-8b-instruct:1.3.3\"}", ENGINE_NIM, "1.3.3" },
		{ "{\"image\":\"vllm/vllm-openai:v0.8.5\",\"command\":[\"python3\",\"-m\",\"sglang.launch_server\"]}", ENGINE_SGLANG, NULL },
		{ "{\"image\":\"busybox\",\"command\":[\"env\",\"A=1\",\"nohup\",\"vllm\",\"serve\",\"m\"]}", ENGINE_VLLM, NULL },
		{ "{\"command\":[\"/bin/sh\",\"-c\",\"if [ -n \\\"$X\\\" ]; then { exec text-generation-launcher; }; fi\"]}", ENGINE_TGI, NULL },
		{ "{\"command\":[\"sh\",\"-c\",\"echo hi; bash -c 'python3 -m sglang.launch_server'\"]}", ENGINE_SGLANG, NULL },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct engine_parse *p = parse_json(cases[i].json);

		if (engine_parse_kind(p) != cases[i].kind)
			fail_msg("case %zu: kind %s", i, engine_kind_name(engine_parse_kind(p)));
		if (cases[i].version == NULL ? engine_parse_version(p) != NULL :
		    engine_parse_version(p) == NULL ||
		    strcmp(engine_parse_version(p), cases[i].version) != 0)
			fail_msg("case %zu: version %s", i, engine_parse_version(p) ?
			    engine_parse_version(p) : "(null)");
		engine_parse_free(p);
	}
	assert_int_equal(engine_kind_from_name("sglang"), ENGINE_SGLANG);
	assert_int_equal(engine_kind_from_name("nope"), ENGINE_UNKNOWN);
	assert_string_equal(engine_kind_name(ENGINE_TRITON), "triton");
}

static void
test_knowledge(void **state)
{
	const struct engine_knob *k;

	(void)state;
	k = engine_knob_find(ENGINE_VLLM, "dtype");
	assert_non_null(k);
	assert_string_equal(k->category, "runtime");
	assert_string_equal(k->severity, "high");
	assert_non_null(strstr(k->why, "numerics"));
	assert_string_equal(json_string_value(k->default_value), "auto");
	k = engine_knob_find(ENGINE_VLLM, "max_num_seqs");
	assert_non_null(k->default_note);
	k = engine_knob_find(ENGINE_TGI, "max_concurrent_requests");
	assert_int_equal(json_integer_value(k->default_value), 128);
	k = engine_knob_find(ENGINE_SGLANG, "tensor_parallel_size");
	assert_string_equal(k->severity, "high");
	assert_non_null(engine_knob_find(ENGINE_TRITON, "kv_cache_free_gpu_mem_fraction"));
	assert_non_null(engine_knob_find(ENGINE_NIM, "max_model_len"));
	assert_null(engine_knob_find(ENGINE_VLLM, "no_such_setting"));
	assert_null(engine_knob_find(ENGINE_VLLM, "-tp"));
	assert_int_equal(engine_name_is_secret("HF_TOKEN"), 1);
	assert_int_equal(engine_name_is_secret("NGC_API_KEY"), 1);
	assert_int_equal(engine_name_is_secret("MAX_TOTAL_TOKENS"), 0);
	assert_int_equal(engine_name_is_secret("tokenizer"), 0);
}

/* Values that carry a credential whatever they are named, and look-alikes that do not. */
static void
test_value_has_credential(void **state)
{
	static const char *const yes[] = {
		"postgresql://app:pw@db.llm.svc:5432/app", "https://user@mirror.example/x",
		"Authorization: Bearer abcdefgh12", "authorization=Basic dXNlcjpwdw==", "bearer eyJhbGciOiJIUzI1",
		"--hf-token=hf_x", "api_key=123456", "{\"password\": \"x\"}", "GET https://h:p@host/ 200",
		"-Dtrust.password=changeit",
	};
	static const char *const no[] = {
		"https://api.example.com/v1", "meta-llama/Llama-3.1-8B-Instruct", "max_num_batched_tokens=8192",
		"--tokenizer=meta-llama/x", "user@example.com", "Bearer", "the bearer of bad news", "token: ,",
		"tokenizer: meta-llama/Llama", "http://127.0.0.1:8000/metrics", "",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		if (!engine_value_has_credential(yes[i], strlen(yes[i])))
			fail_msg("'%s' was not seen as a credential", yes[i]);
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		if (engine_value_has_credential(no[i], strlen(no[i])))
			fail_msg("'%s' was seen as a credential", no[i]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_corpus_405b_pair),
		cmocka_unit_test(test_corpus_vllm),
		cmocka_unit_test(test_corpus_kubeai),
		cmocka_unit_test(test_corpus_tgi),
		cmocka_unit_test(test_corpus_sglang),
		cmocka_unit_test(test_corpus_triton_nim),
		cmocka_unit_test(test_spellings),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_json_key_order),
		cmocka_unit_test(test_tgi_env_twin),
		cmocka_unit_test(test_no_secret_leaks),
		cmocka_unit_test(test_split_shell),
		cmocka_unit_test(test_bad_sh_c_is_an_error),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_unknown_engine),
		cmocka_unit_test(test_detection),
		cmocka_unit_test(test_knowledge),
		cmocka_unit_test(test_secret_rotation_visible),
		cmocka_unit_test(test_value_has_credential),
		cmocka_unit_test(test_redact_hmac_shape),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
