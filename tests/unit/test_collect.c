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
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <jansson.h>

#include <time.h>

#include "collect/collect.h"
#include "collect/collect_int.h"
#include "diff/diff.h"
#include "doc/doc.h"
#include "engine/engine.h"
#include "kubesim/kubesim.h"
#include "seal/seal.h"
#include "store/store.h"
#include "util/err.h"
#include "util/banned.h"

#define CANARY "skewd-canary-secret-7f3a9c"
#define CANARY_B64 "c2tld2QtY2FuYXJ5LXNlY3JldC03ZjNhOWM="
#define TOKEN "collect-test-token-1b2c"
#define TOKEN2 "collect-test-token-2d3e"
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

/* Inline secret-named env values and flag values become HMACs; log lines holding a
 * Secret value or a token shape are dropped; the rest of a log is filtered. */
static void
test_build_redaction(void **state)
{
	json_t *objs = state_objects("lastgood", 0), *raw = NULL, *c = NULL, *ev = NULL, *o;
	struct err e = ERR_INIT;
	char *s;
	size_t i;

	(void)state;
	json_array_foreach(objs, i, o) {
		json_t *ct;

		if (strcmp(json_string_value(json_object_get(o, "kind")), "Deployment") != 0 ||
		    strcmp(json_string_value(json_object_get(json_object_get(o, "metadata"), "name")),
		    "vllm-llama") != 0)
			continue;
		ct = json_array_get(json_object_get(json_object_get(json_object_get(json_object_get(o,
		    "spec"), "template"), "spec"), "containers"), 0);
		json_array_append_new(json_object_get(ct, "env"), json_pack("{s:s,s:s}", "name",
		    "OPENAI_API_KEY", "value", "sk-inline-canary-9d8e"));
		json_array_append_new(json_object_get(ct, "args"),
		    json_string("--api-key=flag-canary-5c4b"));
		json_array_append_new(json_object_get(ct, "args"), json_string("--hf-token"));
		json_array_append_new(json_object_get(ct, "args"), json_string("hf_abcdefghijklmnopqrstuvwxyz"));
		/* A shell string: credentials go word by word, the rest stays readable. */
		json_array_append_new(json_object_get(ct, "args"), json_string("exec vllm serve --api-key "
		    "sh-flag-canary-1a2b --max-model-len 8192 --header 'Authorization: Bearer sh-bearer-canary-3c4d' "
		    "DB=postgresql://u:sh-url-canary-5e6f@db/x HF_TOKEN=$HF_TOKEN"));
	}
	if (collect_raw_from_objects(objs, "sim", "llm", "Deployment", "vllm-llama", &raw, &e) != 0)
		fail_msg("%s", e.msg);
	json_array_append_new(json_object_get(raw, "logs"), json_pack("{s:s,s:s,s:s}", "pod",
	    "vllm-llama-7c9d8b6f5d-4xkqp", "container", "inference-server", "text",
	    "INFO Starting to load model meta-llama/Llama-3.1-8B-Instruct...\n"
	    "INFO unrelated line\n"
	    "DEBUG hf token is " CANARY "\n"
	    "DEBUG HF_TOKEN=hf_abcdefghijklmnopqrstuvwxyz0123\n"
	    "INFO Model loading took 14.9 GiB (revision 0e9e39f2)\n"));
	if (collect_build(raw, seal, &c, &ev, &e) != 0)
		fail_msg("%s", e.msg);
	s = json_dumps(c, JSON_COMPACT);
	assert_null(strstr(s, "sk-inline-canary-9d8e"));
	assert_null(strstr(s, "flag-canary-5c4b"));
	assert_null(strstr(s, "hf_abcdefghijklmnopqrstuvwxyz"));
	assert_non_null(strstr(s, "\"name\":\"OPENAI_API_KEY\",\"value\":\"hmac-sha256:"));
	assert_non_null(strstr(s, "\"--api-key=hmac-sha256:"));
	assert_null(strstr(s, "sh-flag-canary-1a2b"));
	assert_null(strstr(s, "sh-bearer-canary-3c4d"));
	assert_null(strstr(s, "sh-url-canary-5e6f"));
	{
		static const char *const kept[] = { "exec vllm serve --api-key hmac-sha256:",
			"--max-model-len 8192 --header 'Authorization: Bearer hmac-sha256:", " DB=hmac-sha256:",
			" HF_TOKEN=$HF_TOKEN" };
		size_t k;

		for (k = 0; k < sizeof(kept) / sizeof(kept[0]); k++)
			if (strstr(s, kept[k]) == NULL)
				fail_msg("the shell string lacks \"%s\": %.400s", kept[k],
				    strstr(s, "exec vllm") != NULL ? strstr(s, "exec vllm") : s);
	}
	free(s);
	s = json_dumps(ev, JSON_COMPACT);
	assert_null(strstr(s, CANARY));
	assert_null(strstr(s, "hf_abcdefghijklmnopqrstuvwxyz"));
	assert_null(strstr(s, "unrelated line"));
	free(s);
	assert_int_equal(json_array_size(at(ev, "logs.0.lines")), 2);
	assert_int_equal(json_integer_value(at(ev, "logs.0.dropped")), 2);
	assert_non_null(strstr(str(ev, "logs.0.lines.1"), "revision 0e9e39f2"));
	json_decref(c);
	json_decref(ev);
	json_decref(raw);
	json_decref(objs);
}

/* Selectors: matchLabels and matchExpressions as a query value and as a match. */
static void
test_selectors(void **state)
{
	json_t *sel = json_loads("{\"matchLabels\": {\"app\": \"x\"}, \"matchExpressions\": ["
	    "{\"key\": \"tier\", \"operator\": \"In\", \"values\": [\"a\", \"b\"]},"
	    "{\"key\": \"canary\", \"operator\": \"DoesNotExist\"},"
	    "{\"key\": \"gpu\", \"operator\": \"Exists\"},"
	    "{\"key\": \"zone\", \"operator\": \"NotIn\", \"values\": [\"c\"]}]}", 0, NULL);
	json_t *yes = json_loads("{\"app\": \"x\", \"tier\": \"b\", \"gpu\": \"1\"}", 0, NULL);
	json_t *no = json_loads("{\"app\": \"x\", \"tier\": \"b\", \"gpu\": \"1\", \"canary\": \"\"}",
	    0, NULL);
	json_t *empty = json_object();
	char out[256];
	struct err e = ERR_INIT;

	(void)state;
	assert_int_equal(collect_selector_string(sel, out, sizeof(out), &e), 0);
	assert_string_equal(out, "app=x,tier in (a,b),!canary,gpu,zone notin (c)");
	assert_int_equal(collect_selector_match(sel, yes, 0), 1);
	assert_int_equal(collect_selector_match(sel, no, 0), 0);
	assert_int_equal(collect_selector_match(empty, yes, 0), 0);
	assert_int_equal(collect_selector_match(empty, yes, 1), 1);
	assert_int_equal(collect_selector_string(sel, out, 10, &e), -1);
	assert_int_equal(e.code, ERR_TOO_LARGE);
	json_decref(sel);
	json_decref(yes);
	json_decref(no);
	json_decref(empty);
}

/* ---- pulls from kubesim into a real store ---------------------------- */

struct pf {
	char dir[512];
	struct kubesim *k, *k2;   /* k2: a second API server for faults */
	struct store *st;
	char *ca;
};

static char *
read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = calloc(1, (size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return buf;
}

static struct kubesim *
start_sim(const char *dir)
{
	const char *fixtures = getenv("SKEWD_FIXTURES"), *src = getenv("SKEWD_SOURCE_DIR");
	char cluster[512], role[512];
	struct kubesim_user users[] = {
		{ "collector", TOKEN, KUBESIM_ROLE_COLLECTOR, 0 },
		{ "collector2", TOKEN2, KUBESIM_ROLE_COLLECTOR, 0 },
	};
	struct kubesim_options o;
	struct kubesim *k = NULL;
	struct err e = ERR_INIT;

	assert_non_null(fixtures);
	assert_non_null(src);
	snprintf(cluster, sizeof(cluster), "%s/cluster", fixtures);
	snprintf(role, sizeof(role), "%s/deploy/kubernetes/clusterrole-collector.yaml", src);
	memset(&o, 0, sizeof(o));
	o.fixtures_dir = cluster;
	o.state = "lastgood";
	o.role_file = role;
	o.tls_dir = dir;
	o.users = users;
	o.nusers = 2;
	o.threads = 8;
	if (kubesim_start(&o, &k, &e) != 0)
		fail_msg("kubesim_start: %s", e.msg);
	return k;
}

static void
add_cluster(struct pf *f, const char *name, const struct kubesim *k, const char *token)
{
	struct store_cluster cl;
	struct err e = ERR_INIT;
	char auth[256], cadir[300];

	memset(&cl, 0, sizeof(cl));
	snprintf(cl.name, sizeof(cl.name), "%s", name);
	cl.server = strdup(kubesim_url(k));
	snprintf(cadir, sizeof(cadir), "%s", kubesim_ca_path(k));
	cl.ca_pem = read_file(cadir);
	cl.namespaces_json = strdup("[\"llm\"]");
	cl.label_selector = strdup("");
	cl.auth_kind = strdup("token");
	snprintf(auth, sizeof(auth), "{\"token\": \"%s\"}", token);
	{
		char aad[128];

		snprintf(aad, sizeof(aad), "cluster:%s:auth", name);
		if (seal_lock(seal, aad, auth, strlen(auth), &cl.sealed_auth, &cl.sealed_auth_len,
		    &e) != 0)
			fail_msg("%s", e.msg);
	}
	if (store_cluster_create(f->st, &cl, &e) != 0)
		fail_msg("store_cluster_create: %s", e.msg);
	store_cluster_release(&cl);
}

static int
pf_setup(void **state)
{
	struct pf *f = calloc(1, sizeof(*f));
	char db[600], d1[600], d2[600];
	struct err e = ERR_INIT;

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "%s/pf-XXXXXX", tmpdir);
	assert_non_null(mkdtemp(f->dir));
	snprintf(d1, sizeof(d1), "%s/sim1", f->dir);
	snprintf(d2, sizeof(d2), "%s/sim2", f->dir);
	assert_int_equal(mkdir(d1, 0700), 0);
	assert_int_equal(mkdir(d2, 0700), 0);
	f->k = start_sim(d1);
	f->k2 = start_sim(d2);
	snprintf(db, sizeof(db), "%s/skewd.db", f->dir);
	if (store_open(db, NULL, &f->st, &e) != 0)
		fail_msg("store_open: %s", e.msg);
	add_cluster(f, "sim-a", f->k, TOKEN);
	*state = f;
	return 0;
}

static int
pf_teardown(void **state)
{
	struct pf *f = *state;

	store_close(f->st);
	kubesim_stop(f->k);
	kubesim_stop(f->k2);
	free(f);
	return 0;
}

static struct collect *
collector(struct pf *f, int interval_s, long timeout_ms)
{
	struct collect_options o;
	struct collect *c = NULL;
	struct err e = ERR_INIT;

	memset(&o, 0, sizeof(o));
	o.interval_s = interval_s;
	o.request_timeout_ms = timeout_ms;
	if (collect_new(f->st, seal, &o, &c, &e) != 0)
		fail_msg("collect_new: %s", e.msg);
	return c;
}

/* The snapshot entry of a target in a collect result, or NULL. */
static const json_t *
snap_of(const json_t *out, const char *target)
{
	const json_t *s;
	size_t i;

	json_array_foreach(json_object_get(out, "snapshots"), i, s)
		if (strcmp(json_string_value(json_object_get(s, "target")), target) == 0)
			return s;
	return NULL;
}

static void
test_pull_discover_and_dedup(void **state)
{
	struct pf *f = *state;
	struct collect *c = collector(f, 0, 5000);
	json_t *o1 = NULL, *o2 = NULL, *o3 = NULL;
	struct err e = ERR_INIT;
	struct store_target *ts = NULL;
	struct store_cluster cl;
	struct store_snapshot *hist = NULL, meta;
	struct store_target tv;
	const json_t *v1, *t1, *v2, *t2, *v3, *t3;
	char *doc = NULL, *evj = NULL;
	json_t *cfg;
	size_t n = 0, nh = 0;

	if (collect_cluster(c, "sim-a", &o1, &e) != 0)
		fail_msg("collect_cluster: %s", e.msg);
	if (json_array_size(json_object_get(o1, "errors")) != 0) {
		char *s = json_dumps(o1, 0);

		fail_msg("errors: %s", s);
	}
	v1 = snap_of(o1, "sim-a/llm/deployment/vllm-llama");
	t1 = snap_of(o1, "sim-a/llm/deployment/tgi-gemma");
	assert_non_null(v1);
	assert_non_null(t1);
	assert_true(json_is_true(json_object_get(v1, "changed")));
	assert_int_equal(store_target_list(f->st, "sim-a", &ts, &n, &e), 0);
	assert_int_equal(n, 2);
	free(ts);
	/* The stored document is the snapshot: facts from the pull, no canary. */
	assert_int_equal(store_snapshot_get(f->st, json_integer_value(json_object_get(v1, "id")),
	    &meta, &doc, &e), 0);
	assert_int_equal(meta.size, (int64_t)strlen(doc));
	assert_null(strstr(doc, CANARY));
	assert_null(strstr(doc, CANARY_B64));
	cfg = json_loads(doc, 0, NULL);
	assert_non_null(cfg);
	assert_string_equal(str(cfg, "facts.model.model"), "meta-llama/Llama-3.1-8B-Instruct");
	assert_string_equal(str(cfg, "facts.runtime.image_digests.0"), DIGEST_LASTGOOD);
	assert_string_equal(str(cfg, "facts.hardware.gpu_products.0"), "NVIDIA-A100-SXM4-80GB");
	assert_string_equal(str(cfg, "facts.serving.ingresses.0.proxy_read_timeout"), "3600");
	assert_int_equal(count_kind(cfg, "Secret"), 1);
	assert_int_equal(count_kind(cfg, "Node"), 2);
	json_decref(cfg);
	free(doc);
	/* Evidence: log lines with the model revision, metrics bytes, /v1/models. */
	{
		struct store_target t;
		json_t *ev;

		assert_int_equal(store_target_get(f->st, "sim-a", "llm", "deployment", "vllm-llama",
		    &t, &e), 0);
		assert_int_equal(store_evidence_latest(f->st, t.id, &evj, NULL, &e), 0);
		assert_null(strstr(evj, CANARY));
		ev = json_loads(evj, 0, NULL);
		assert_non_null(ev);
		assert_non_null(strstr(evj, "0e9e39f249a16976918f6564b8830bc894c89659"));
		assert_true(json_integer_value(at(ev, "scrapes.0.bytes")) > 1000);
		assert_string_equal(str(ev, "scrapes.0.engine"), "vllm");
		assert_non_null(at(ev, "scrapes.0.figures"));
		assert_int_equal(json_integer_value(at(ev, "models.0.models.0.max_model_len")), 32768);
		json_decref(ev);
		free(evj);
	}
	/* Second poll: nothing changed, no new document. */
	if (collect_cluster(c, "sim-a", &o2, &e) != 0)
		fail_msg("collect_cluster: %s", e.msg);
	v2 = snap_of(o2, "sim-a/llm/deployment/vllm-llama");
	t2 = snap_of(o2, "sim-a/llm/deployment/tgi-gemma");
	assert_false(json_is_true(json_object_get(v2, "changed")));
	assert_false(json_is_true(json_object_get(t2, "changed")));
	assert_int_equal(json_integer_value(json_object_get(v2, "id")),
	    json_integer_value(json_object_get(v1, "id")));
	/* The rollout: vllm-llama changed, tgi-gemma did not. */
	if (kubesim_set_state(f->k, "current", &e) != 0)
		fail_msg("%s", e.msg);
	if (collect_cluster(c, "sim-a", &o3, &e) != 0)
		fail_msg("collect_cluster: %s", e.msg);
	v3 = snap_of(o3, "sim-a/llm/deployment/vllm-llama");
	t3 = snap_of(o3, "sim-a/llm/deployment/tgi-gemma");
	assert_true(json_is_true(json_object_get(v3, "changed")));
	assert_false(json_is_true(json_object_get(t3, "changed")));
	assert_int_equal(json_integer_value(json_object_get(t3, "id")),
	    json_integer_value(json_object_get(t1, "id")));
	/* Two documents in vllm-llama's history, newest first. */
	assert_int_equal(store_target_get(f->st, "sim-a", "llm", "deployment", "vllm-llama", &tv,
	    &e), 0);
	assert_int_equal(store_snapshot_list(f->st, tv.id, 0, 0, &hist, &nh, &e), 0);
	assert_int_equal(nh, 2);
	assert_int_equal(hist[0].id, json_integer_value(json_object_get(v3, "id")));
	free(hist);
	/* Health: a success, the server version. */
	memset(&cl, 0, sizeof(cl));
	assert_int_equal(store_cluster_get(f->st, "sim-a", &cl, &e), 0);
	assert_true(cl.last_success_at > 0);
	assert_null(cl.last_error);
	assert_non_null(cl.server_version);
	store_cluster_release(&cl);
	assert_int_equal(kubesim_set_state(f->k, "lastgood", &e), 0);
	json_decref(o1);
	json_decref(o2);
	json_decref(o3);
	collect_free(c);
}

/* A cluster that refuses the credentials (401 on everything) records the error
 * on itself; another cluster is still pulled. One pulled target too. */
static void
test_pull_fault_isolated(void **state)
{
	struct pf *f = *state;
	struct collect *c = collector(f, 0, 5000);
	json_t *out = NULL;
	struct err e = ERR_INIT;
	struct store_cluster cl;

	add_cluster(f, "sim-bad", f->k, "not-a-valid-token");
	add_cluster(f, "sim-b", f->k, TOKEN2);
	assert_int_equal(collect_cluster(c, "sim-bad", &out, &e), -1);
	assert_int_equal(e.code, ERR_UNAUTHORIZED);
	assert_null(out);
	if (collect_cluster(c, "sim-b", &out, &e) != 0)
		fail_msg("%s", e.msg);
	assert_non_null(snap_of(out, "sim-b/llm/deployment/vllm-llama"));
	json_decref(out);
	memset(&cl, 0, sizeof(cl));
	assert_int_equal(store_cluster_get(f->st, "sim-bad", &cl, &e), 0);
	assert_non_null(cl.last_error);
	assert_non_null(strstr(cl.last_error, "401"));
	assert_null(strstr(cl.last_error, "not-a-valid-token"));
	assert_int_equal(cl.last_success_at, 0);
	store_cluster_release(&cl);
	memset(&cl, 0, sizeof(cl));
	assert_int_equal(store_cluster_get(f->st, "sim-b", &cl, &e), 0);
	assert_null(cl.last_error);
	store_cluster_release(&cl);
	/* A 403 on an optional kind: the snapshot is still stored, the evidence says what
	 * could not be read. */
	assert_int_equal(kubesim_set_fault(f->k, "/apis/autoscaling", KUBESIM_FAULT_403, 0, &e), 0);
	if (collect_target(c, "sim-b", "llm", "deployment", "vllm-llama", &out, &e) != 0)
		fail_msg("%s", e.msg);
	assert_int_equal(json_array_size(json_object_get(out, "snapshots")), 1);
	json_decref(out);
	{
		struct store_target t;
		char *evj = NULL;

		assert_int_equal(store_target_get(f->st, "sim-b", "llm", "deployment", "vllm-llama",
		    &t, &e), 0);
		assert_int_equal(store_evidence_latest(f->st, t.id, &evj, NULL, &e), 0);
		assert_non_null(strstr(evj, "could not read horizontalpodautoscalers in namespace "
		    "'llm'"));
		assert_non_null(strstr(evj, "403"));
		free(evj);
	}
	/* A truncated pod list fails the targets, not the call; the cluster shows the error. */
	kubesim_clear_faults(f->k);
	assert_int_equal(kubesim_set_fault(f->k, "/api/v1/namespaces/llm/pods",
	    KUBESIM_FAULT_TRUNCATED, 0, &e), 0);
	if (collect_cluster(c, "sim-b", &out, &e) != 0)
		fail_msg("%s", e.msg);
	assert_int_equal(json_array_size(json_object_get(out, "snapshots")), 0);
	assert_int_equal(json_array_size(json_object_get(out, "errors")), 2);
	json_decref(out);
	memset(&cl, 0, sizeof(cl));
	assert_int_equal(store_cluster_get(f->st, "sim-b", &cl, &e), 0);
	assert_non_null(cl.last_error);
	store_cluster_release(&cl);
	kubesim_clear_faults(f->k);
	/* One target now; an unknown kind or workload is refused. */
	if (collect_target(c, "sim-b", "llm", "deployment", "tgi-gemma", &out, &e) != 0)
		fail_msg("%s", e.msg);
	assert_int_equal(json_array_size(json_object_get(out, "snapshots")), 1);
	assert_non_null(snap_of(out, "sim-b/llm/deployment/tgi-gemma"));
	json_decref(out);
	assert_int_equal(collect_target(c, "sim-b", "llm", "cronjob", "x", &out, &e), -1);
	assert_int_equal(e.code, ERR_INVALID);
	assert_int_equal(collect_target(c, "sim-b", "llm", "deployment", "nope", &out, &e), -1);
	assert_int_equal(e.code, ERR_NOT_FOUND);
	assert_int_equal(collect_cluster(c, "no-such-cluster", &out, &e), -1);
	assert_int_equal(e.code, ERR_NOT_FOUND);
	collect_free(c);
}

static double
secs_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

/* A hung API server: the pull ends within the deadline, with a timeout error; the
 * scheduler still pulls the healthy cluster, and collect_free() returns promptly. */
static void
test_pull_hang_and_scheduler(void **state)
{
	struct pf *f = *state;
	struct collect *c = collector(f, 0, 600);
	json_t *out = NULL;
	struct err e = ERR_INIT;
	struct timespec t0;
	struct store_cluster cl;
	int i, pulled = 0;

	add_cluster(f, "sim-hung", f->k2, TOKEN);
	assert_int_equal(kubesim_set_fault(f->k2, "", KUBESIM_FAULT_HANG, 0, &e), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(collect_cluster(c, "sim-hung", &out, &e), -1);
	assert_true(secs_since(&t0) < 3.0);
	assert_int_equal(e.code, ERR_TIMEOUT);
	memset(&cl, 0, sizeof(cl));
	assert_int_equal(store_cluster_get(f->st, "sim-hung", &cl, &e), 0);
	assert_non_null(cl.last_error);
	store_cluster_release(&cl);
	/* Only the pod lists hang: the first target times out, the second is not tried. */
	kubesim_clear_faults(f->k2);
	assert_int_equal(kubesim_set_fault(f->k2, "/api/v1/namespaces/llm/pods", KUBESIM_FAULT_HANG,
	    0, &e), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (collect_cluster(c, "sim-hung", &out, &e) != 0)
		fail_msg("%s", e.msg);
	assert_true(secs_since(&t0) < 3.0);
	assert_int_equal(json_array_size(json_object_get(out, "snapshots")), 0);
	assert_int_equal(json_array_size(json_object_get(out, "errors")), 2);
	{
		char *dump = json_dumps(out, 0);

		assert_non_null(strstr(dump, "not pulled: an earlier request to the cluster timed out"));
		free(dump);
	}
	json_decref(out);
	memset(&cl, 0, sizeof(cl));
	assert_int_equal(store_cluster_get(f->st, "sim-hung", &cl, &e), 0);
	assert_non_null(cl.last_error);
	store_cluster_release(&cl);
	kubesim_set_fault(f->k2, "", KUBESIM_FAULT_HANG, 0, &e);
	collect_free(c);

	/* The scheduler: sim-a is pulled again while sim-hung hangs. */
	memset(&cl, 0, sizeof(cl));
	assert_int_equal(store_cluster_get(f->st, "sim-a", &cl, &e), 0);
	{
		int64_t before = cl.last_pull_at;

		store_cluster_release(&cl);
		sleep(1);   /* last_pull_at is in seconds */
		c = collector(f, 1, 600);
		assert_int_equal(collect_start(c, &e), 0);
		for (i = 0; i < 100 && !pulled; i++) {
			struct timespec ts = { 0, 50 * 1000 * 1000 };

			nanosleep(&ts, NULL);
			memset(&cl, 0, sizeof(cl));
			assert_int_equal(store_cluster_get(f->st, "sim-a", &cl, &e), 0);
			pulled = cl.last_pull_at > before && cl.last_error == NULL;
			store_cluster_release(&cl);
		}
		assert_true(pulled);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	collect_free(c);
	assert_true(secs_since(&t0) < 3.0);
	kubesim_clear_faults(f->k2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_build_lastgood),
		cmocka_unit_test(test_build_current),
		cmocka_unit_test(test_build_hash_stable),
		cmocka_unit_test(test_build_diff_reads_it),
		cmocka_unit_test(test_build_redaction),
		cmocka_unit_test(test_selectors),
		cmocka_unit_test_setup_teardown(test_pull_discover_and_dedup, pf_setup, pf_teardown),
		cmocka_unit_test_setup_teardown(test_pull_fault_isolated, pf_setup, pf_teardown),
		cmocka_unit_test_setup_teardown(test_pull_hang_and_scheduler, pf_setup, pf_teardown),
	};

	return cmocka_run_group_tests(tests, setup_all, teardown_all);
}
