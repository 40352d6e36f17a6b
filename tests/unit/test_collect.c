/*
 * test_collect.c - the collector: snapshot documents built from the fixture
 * cluster (tests/fixtures/cluster), and pulls from kubesim into a real store.
 *
 * The expected values are the ones tests/fixtures/cluster/README.md states for
 * each state (model, args, image digests, GPU labels, HPA, ingress timeouts).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <unistd.h>
#include <cmocka.h>
#include <jansson.h>

#include "collect/collect.h"
#include "diff/diff.h"
#include "doc/doc.h"
#include "engine/engine.h"
#include "seal/seal.h"
#include "util/err.h"
#include "util/banned.h"

#define CANARY "skewd-canary-secret-7f3a9c"
#define CANARY_B64 "c2tld2QtY2FuYXJ5LXNlY3JldC03ZjNhOWM="
#define DIGEST_LASTGOOD "sha256:aa65d0154fd659ddf7c7499de0f069639f39ed63a047286334a2af5d0b050de5"

static struct seal *seal;
static char tmpdir[256];

static int
setup_all(void **state)
{
	struct err e = ERR_INIT;
	char key[300];

	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/skewd-test-collect-XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	snprintf(key, sizeof(key), "%s/seal.key", tmpdir);
	unsetenv("SKEWD_SEAL_KEY");
	if (engine_init(&e) != 0 || seal_open(key, &seal, &e) != 0) {
		fprintf(stderr, "setup: %s\n", e.msg);
		return -1;
	}
	return 0;
}

static int
teardown_all(void **state)
{
	char cmd[400];

	(void)state;
	seal_close(seal);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Every object of a fixture state, in file order (or reversed). */
static json_t *
state_objects(const char *state, int reversed)
{
	const char *fx = getenv("SKEWD_FIXTURES");
	char dir[512], path[1024];
	struct dirent **ents = NULL;
	json_t *all = json_array();
	int n, i;

	assert_non_null(fx);
	snprintf(dir, sizeof(dir), "%s/cluster/%s", fx, state);
	n = scandir(dir, &ents, NULL, alphasort);
	assert_true(n > 0);
	for (i = 0; i < n; i++) {
		struct doc_set *d = NULL;
		struct err e = ERR_INIT;
		size_t j, len = strlen(ents[i]->d_name);

		if (len > 5 && strcmp(ents[i]->d_name + len - 5, ".yaml") == 0) {
			snprintf(path, sizeof(path), "%s/%s", dir, ents[i]->d_name);
			if (doc_load_file(path, DOC_YAML, &d, &e) != 0)
				fail_msg("%s", e.msg);
			for (j = 0; j < doc_set_count(d); j++) {
				if (reversed)
					json_array_insert(all, 0, doc_set_get(d, j));
				else
					json_array_append(all, doc_set_get(d, j));
			}
			doc_set_free(d);
		}
		free(ents[i]);
	}
	free(ents);
	return all;
}

static void
build(const char *state, const char *name, int reversed, json_t **config, json_t **evidence)
{
	json_t *objs = state_objects(state, reversed), *raw = NULL;
	struct err e = ERR_INIT;

	if (collect_raw_from_objects(objs, "sim", "llm", "Deployment", name, &raw, &e) != 0 ||
	    collect_build(raw, seal, config, evidence, &e) != 0)
		fail_msg("%s", e.msg);
	if (getenv("SKEWD_COLLECT_DUMP") != NULL) {
		char *s = json_dumps(*config, JSON_INDENT(1));

		fprintf(stderr, "%s\n", s);
		free(s);
		s = json_dumps(*evidence, JSON_INDENT(1));
		fprintf(stderr, "%s\n", s);
		free(s);
	}
	json_decref(raw);
	json_decref(objs);
}

static const json_t *
at(const json_t *v, const char *path)
{
	char seg[128];
	const char *p = path;

	while (*p != '\0' && v != NULL) {
		size_t n = strcspn(p, ".");

		snprintf(seg, sizeof(seg), "%.*s", (int)n, p);
		if (json_is_array(v))
			v = json_array_get(v, strtoul(seg, NULL, 10));
		else
			v = json_object_get(v, seg);
		p += n;
		if (*p == '.')
			p++;
	}
	return v;
}

static const char *
str(const json_t *v, const char *path)
{
	const char *s = json_string_value(at(v, path));

	if (s == NULL)
		fail_msg("no string at %s", path);
	return s;
}

static size_t
count_kind(const json_t *config, const char *kind)
{
	const json_t *o;
	size_t i, n = 0;

	json_array_foreach(json_object_get(config, "objects"), i, o)
		if (strcmp(json_string_value(json_object_get(o, "kind")), kind) == 0)
			n++;
	return n;
}

static char *
hash(const json_t *config)
{
	static char out[4][65];
	static int k;
	struct err e = ERR_INIT;
	char *h = out[k++ % 4];

	assert_int_equal(collect_hash(config, h, &e), 0);
	return h;
}

static void
no_canary(const json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT);

	assert_non_null(s);
	assert_null(strstr(s, CANARY));
	assert_null(strstr(s, CANARY_B64));
	assert_null(strstr(s, "c2tld2QtY2FuYXJ5"));   /* any base64 of its start */
	free(s);
}

static void
test_build_lastgood(void **state)
{
	json_t *c = NULL, *ev = NULL;
	const json_t *facts;

	(void)state;
	build("lastgood", "vllm-llama", 0, &c, &ev);
	assert_string_equal(str(c, "schema"), "skewd.snapshot/v1");
	assert_int_equal(json_integer_value(at(c, "version")), 1);
	assert_string_equal(str(c, "target.cluster"), "sim");
	assert_string_equal(str(c, "target.kind"), "Deployment");
	facts = json_object_get(c, "facts");
	assert_string_equal(str(facts, "model.model"), "meta-llama/Llama-3.1-8B-Instruct");
	assert_string_equal(str(facts, "runtime.engine"), "vllm");
	assert_string_equal(str(facts, "runtime.version"), "0.10.0");
	assert_string_equal(str(facts, "runtime.dtype"), "bfloat16");
	assert_int_equal(json_integer_value(at(facts, "runtime.max_model_len")), 32768);
	assert_int_equal(json_integer_value(at(facts, "runtime.max_num_seqs")), 4);
	assert_int_equal(json_integer_value(at(facts, "runtime.tensor_parallel_size")), 1);
	assert_true(json_real_value(at(facts, "runtime.gpu_memory_utilization")) > 0.949);
	assert_string_equal(str(facts, "runtime.args.6"), "--max-model-len=32768");
	assert_int_equal(json_array_size(at(facts, "runtime.image_digests")), 1);
	assert_string_equal(str(facts, "runtime.image_digests.0"), DIGEST_LASTGOOD);
	assert_string_equal(str(facts, "hardware.gpu_products.0"), "NVIDIA-A100-SXM4-80GB");
	assert_false(json_is_true(at(facts, "hardware.mixed")));
	assert_string_equal(str(facts, "hardware.pods.0.driver"), "535.104.05");
	assert_string_equal(str(facts, "hardware.pods.0.cuda"), "12.2");
	assert_int_equal(json_integer_value(at(facts, "hardware.pods.0.gpu_memory_mib")), 81920);
	assert_int_equal(json_integer_value(at(facts, "hardware.pods.1.gpu_count")), 1);
	assert_string_equal(str(facts, "orchestration.hpa.name"), "vllm-llama");
	assert_int_equal(json_integer_value(at(facts, "orchestration.hpa.min_replicas")), 2);
	assert_int_equal(json_integer_value(at(facts, "orchestration.hpa.max_replicas")), 4);
	assert_string_equal(str(facts, "orchestration.hpa.metrics.0.object.metric.name"),
	    "vllm_num_requests_waiting");
	assert_int_equal(json_integer_value(at(facts, "orchestration.replicas")), 2);
	assert_string_equal(json_string_value(json_object_get(at(facts,
	    "orchestration.node_selector"), "cloud.google.com/gke-accelerator")), "nvidia-a100-80gb");
	assert_int_equal(json_integer_value(at(facts, "orchestration.pdb.max_unavailable")), 1);
	assert_string_equal(str(facts, "serving.ingresses.0.proxy_read_timeout"), "3600");
	assert_string_equal(str(facts, "serving.ingresses.0.proxy_send_timeout"), "3600");
	assert_string_equal(str(facts, "serving.ingresses.0.proxy_body_size"), "8m");
	assert_int_equal(json_integer_value(at(facts, "serving.services.0.ports.0.port")), 8000);
	/* Objects: the workload, its current ReplicaSet, 2 pods, 2 nodes, the ConfigMap,
	 * the Secret, HPA, PDB, Service, Ingress; tgi-gemma's things are not there. */
	assert_int_equal(count_kind(c, "Deployment"), 1);
	assert_int_equal(count_kind(c, "ReplicaSet"), 1);
	assert_int_equal(count_kind(c, "Pod"), 2);
	assert_int_equal(count_kind(c, "Node"), 2);
	assert_int_equal(count_kind(c, "ConfigMap"), 1);
	assert_int_equal(count_kind(c, "Secret"), 1);
	assert_int_equal(count_kind(c, "HorizontalPodAutoscaler"), 1);
	assert_int_equal(count_kind(c, "PodDisruptionBudget"), 1);
	assert_int_equal(count_kind(c, "Service"), 1);
	assert_int_equal(count_kind(c, "Ingress"), 1);
	assert_int_equal(count_kind(c, "Event"), 0);
	assert_int_equal(json_array_size(json_object_get(c, "objects")), 12);
	/* Evidence: real pod names, restarts, events, log lines with the revision. */
	assert_string_equal(str(ev, "schema"), "skewd.evidence/v1");
	assert_int_equal(json_array_size(json_object_get(ev, "pods")), 2);
	assert_non_null(strstr(str(ev, "pods.0.name"), "vllm-llama-7c9d8b6f5d-"));
	assert_string_equal(str(ev, "replicaset"), "vllm-llama-7c9d8b6f5d");
	assert_string_equal(str(ev, "revision"), "2");
	assert_true(json_array_size(json_object_get(ev, "events")) > 0);
	assert_true(json_array_size(json_object_get(ev, "logs")) == 0);
	no_canary(c);
	no_canary(ev);
	json_decref(c);
	json_decref(ev);
}

static void
test_build_current(void **state)
{
	json_t *c = NULL, *ev = NULL;
	const json_t *facts, *pods;
	size_t i;
	long long restarts = 0;

	(void)state;
	build("current", "vllm-llama", 0, &c, &ev);
	facts = json_object_get(c, "facts");
	assert_string_equal(str(facts, "runtime.dtype"), "float16");
	assert_int_equal(json_integer_value(at(facts, "runtime.max_model_len")), 8192);
	assert_string_equal(str(facts, "model.model"), "meta-llama/Llama-3.1-8B-Instruct");
	assert_int_equal(json_array_size(at(facts, "runtime.image_digests")), 1);
	assert_string_not_equal(str(facts, "runtime.image_digests.0"), DIGEST_LASTGOOD);
	assert_non_null(strstr(str(facts, "runtime.image_digests.0"), "sha256:78c33460"));
	assert_true(json_is_true(at(facts, "hardware.mixed")));
	assert_int_equal(json_array_size(at(facts, "hardware.gpu_products")), 2);
	assert_string_equal(str(facts, "serving.ingresses.0.proxy_read_timeout"), "60");
	assert_string_equal(json_string_value(json_object_get(at(facts,
	    "orchestration.node_selector"), "nvidia.com/gpu.present")), "true");
	pods = json_object_get(ev, "pods");
	for (i = 0; i < json_array_size(pods); i++)
		restarts += json_integer_value(at(json_array_get(pods, i), "restarts"));
	assert_int_equal(restarts, 2);
	no_canary(c);
	no_canary(ev);
	json_decref(c);
	json_decref(ev);
}

/* The same input twice, and reordered, hashes the same; another state does not. */
static void
test_build_hash_stable(void **state)
{
	json_t *a = NULL, *b = NULL, *r = NULL, *cur = NULL, *ea = NULL, *eb = NULL, *er = NULL;
	json_t *ec = NULL, *t1 = NULL, *t2 = NULL, *et1 = NULL, *et2 = NULL;
	char ha[65], hb[65];

	(void)state;
	build("lastgood", "vllm-llama", 0, &a, &ea);
	build("lastgood", "vllm-llama", 0, &b, &eb);
	build("lastgood", "vllm-llama", 1, &r, &er);
	build("current", "vllm-llama", 0, &cur, &ec);
	snprintf(ha, sizeof(ha), "%s", hash(a));
	snprintf(hb, sizeof(hb), "%s", hash(b));
	assert_string_equal(ha, hb);
	assert_string_equal(ha, hash(r));
	assert_string_not_equal(ha, hash(cur));
	/* tgi-gemma is the same in both states, pod names and all volatile fields aside. */
	build("lastgood", "tgi-gemma", 0, &t1, &et1);
	build("current", "tgi-gemma", 1, &t2, &et2);
	snprintf(ha, sizeof(ha), "%s", hash(t1));
	assert_string_equal(ha, hash(t2));
	assert_string_equal(str(json_object_get(t1, "facts"), "runtime.engine"), "tgi");
	assert_string_equal(str(json_object_get(t1, "facts"), "model.model"),
	    "google/gemma-2-27b-it");
	assert_int_equal(json_integer_value(at(json_object_get(t1, "facts"),
	    "runtime.tensor_parallel_size")), 4);
	assert_string_equal(str(json_object_get(t1, "facts"), "hardware.gpu_products.0"),
	    "NVIDIA-L4");
	json_decref(a);
	json_decref(b);
	json_decref(r);
	json_decref(cur);
	json_decref(ea);
	json_decref(eb);
	json_decref(er);
	json_decref(ec);
	json_decref(t1);
	json_decref(t2);
	json_decref(et1);
	json_decref(et2);
}

/* The diff engine reads two built snapshots: it groups the renamed pods under the
 * Deployment and finds the mixed GPUs, the same-tag digest, dtype and max_model_len. */
static void
test_build_diff_reads_it(void **state)
{
	json_t *a = NULL, *b = NULL, *ea = NULL, *eb = NULL, *res;
	struct diff_rules *rules = NULL;
	struct diff_side *sa = NULL, *sb = NULL;
	struct diff_result *dr = NULL;
	struct err e = ERR_INIT;
	char *s;

	(void)state;
	build("lastgood", "vllm-llama", 0, &a, &ea);
	build("current", "vllm-llama", 0, &b, &eb);
	if (diff_rules_load(NULL, &rules, &e) != 0 ||
	    diff_side_from_values(&a, 1, "lastgood", &sa, &e) != 0 ||
	    diff_side_from_values(&b, 1, "current", &sb, &e) != 0 ||
	    diff_run(rules, sa, sb, &dr, &e) != 0)
		fail_msg("%s", e.msg);
	res = diff_result_to_json(dr);
	s = json_dumps(res, JSON_COMPACT);
	if (getenv("SKEWD_COLLECT_DUMP") != NULL)
		fprintf(stderr, "%s\n", s);
	assert_non_null(strstr(s, "\"object\":\"apps/Deployment/llm/vllm-llama\",\"path\":"
	    "\"/pods/nodes/gpu\""));
	assert_non_null(strstr(s, "/pods/containers/inference-server/imageID"));
	assert_non_null(strstr(s, "\"setting\":\"dtype\""));
	assert_non_null(strstr(s, "\"setting\":\"max_model_len\""));
	assert_non_null(strstr(s, "proxy-read-timeout"));
	assert_null(strstr(s, "core/Pod/"));
	assert_null(strstr(s, CANARY));
	free(s);
	json_decref(res);
	diff_result_free(dr);
	diff_side_free(sa);
	diff_side_free(sb);
	diff_rules_free(rules);
	json_decref(a);
	json_decref(b);
	json_decref(ea);
	json_decref(eb);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_build_lastgood),
		cmocka_unit_test(test_build_current),
		cmocka_unit_test(test_build_hash_stable),
		cmocka_unit_test(test_build_diff_reads_it),
	};

	return cmocka_run_group_tests(tests, setup_all, teardown_all);
}
