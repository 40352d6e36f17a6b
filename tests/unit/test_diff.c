/*
 * test_diff.c - the semantic diff on real corpus pairs and on one case per rule.
 *
 * Every test asserts the exact changes (object, path, setting, kind, before, after,
 * category, severity), not only their number.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <cmocka.h>
#include <jansson.h>

#include "diff/diff.h"
#include "diff/diff_int.h"
#include "doc/doc.h"
#include "engine/engine.h"
#include "util/err.h"
#include "util/banned.h"

static struct diff_rules *rules;

static char *
fixture(const char *name)
{
	const char *dir = getenv("SKEWD_FIXTURES");
	char *p = NULL;

	assert_non_null(dir);
	assert_true(asprintf(&p, "%s/corpus/%s", dir, name) > 0);
	return p;
}

/* Runs the diff of two YAML/JSON texts (or files when `files` is set); returns the
 * skewd.diff/v1 document. */
static void
load(const char *text, int files, struct doc_set **out)
{
	struct err e = ERR_INIT;

	if (files) {
		char *p = fixture(text);

		assert_int_equal(doc_load_file(p, DOC_AUTO, out, &e), 0);
		free(p);
	} else {
		assert_int_equal(doc_load_mem("x", text, strlen(text), DOC_AUTO, out, &e), 0);
	}
}

/* All documents of a set as one canonical text, to see that nothing changed them. */
static char *
dump_set(const struct doc_set *d)
{
	json_t *all = json_array();
	size_t i;
	char *s;

	for (i = 0; i < doc_set_count(d); i++)
		json_array_append(all, doc_set_get(d, i));
	s = json_dumps(all, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(all);
	assert_non_null(s);
	return s;
}

/* The diff of a and b, built both ways: from taken document sets (normalised in
 * place) and from borrowed values (shared, never modified). Both must give the same
 * document, and the borrowed values must come out unchanged. */
static json_t *
run(const char *a, const char *b, int files, const struct diff_rules *r)
{
	struct err e = ERR_INIT;
	struct doc_set *da = NULL, *db = NULL;
	struct diff_side *sa = NULL, *sb = NULL;
	struct diff_result *res = NULL;
	json_t *out, *out2, **va, **vb;
	char *before_a, *before_b, *after_a, *after_b;
	size_t i;

	load(a, files, &da);
	load(b, files, &db);
	if (diff_side_from_docs(da, "before", &sa, &e) != 0 ||
	    diff_side_from_docs(db, "after", &sb, &e) != 0 ||
	    diff_run(r != NULL ? r : rules, sa, sb, &res, &e) != 0)
		fail_msg("diff failed: %s", e.msg);
	out = diff_result_to_json(res);
	assert_non_null(out);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(out, "summary"),
	    "changes")), (json_int_t)diff_result_count(res));
	if (getenv("SKEWD_DIFF_DUMP") != NULL) {
		char *s = json_dumps(out, JSON_INDENT(1) | JSON_PRESERVE_ORDER);

		fprintf(stderr, "%s\n", s);
		free(s);
	}
	diff_result_free(res);
	diff_side_free(sa);
	diff_side_free(sb);

	da = db = NULL;
	load(a, files, &da);
	load(b, files, &db);
	before_a = dump_set(da);
	before_b = dump_set(db);
	va = calloc(doc_set_count(da) + 1, sizeof(*va));
	vb = calloc(doc_set_count(db) + 1, sizeof(*vb));
	assert_non_null(va);
	assert_non_null(vb);
	for (i = 0; i < doc_set_count(da); i++)
		va[i] = doc_set_get(da, i);
	for (i = 0; i < doc_set_count(db); i++)
		vb[i] = doc_set_get(db, i);
	if (diff_side_from_values(va, doc_set_count(da), "before", &sa, &e) != 0 ||
	    diff_side_from_values(vb, doc_set_count(db), "after", &sb, &e) != 0 ||
	    diff_run(r != NULL ? r : rules, sa, sb, &res, &e) != 0)
		fail_msg("diff from values failed: %s", e.msg);
	out2 = diff_result_to_json(res);
	assert_non_null(out2);
	/* Secret hashes are salted per process, the same in both runs. */
	assert_true(json_equal(out, out2));
	after_a = dump_set(da);
	after_b = dump_set(db);
	assert_string_equal(before_a, after_a);
	assert_string_equal(before_b, after_b);
	json_decref(out2);
	diff_result_free(res);
	diff_side_free(sa);
	diff_side_free(sb);
	free(va);
	free(vb);
	free(before_a);
	free(before_b);
	free(after_a);
	free(after_b);
	doc_set_free(da);
	doc_set_free(db);
	return out;
}

static size_t
nchanges(const json_t *d)
{
	return json_array_size(json_object_get(d, "changes"));
}

/* Finds the change at `path` (exactly one) and checks its fields; before/after are JSON
 * texts ("null" for absent). */
static const json_t *
expect(const json_t *d, const char *object, const char *path, const char *setting,
    const char *kind, const char *before, const char *after, const char *category,
    const char *severity)
{
	const json_t *changes = json_object_get(d, "changes"), *hit = NULL;
	size_t i, n = 0;

	for (i = 0; i < json_array_size(changes); i++) {
		const json_t *c = json_array_get(changes, i);

		if (strcmp(json_string_value(json_object_get(c, "path")), path) == 0 &&
		    strcmp(json_string_value(json_object_get(c, "object")), object) == 0) {
			hit = c;
			n++;
		}
	}
	if (n != 1)
		fail_msg("expected one change at %s %s, found %zu", object, path, n);
	if (setting == NULL)
		assert_true(json_is_null(json_object_get(hit, "setting")));
	else
		assert_string_equal(json_string_value(json_object_get(hit, "setting")), setting);
	assert_string_equal(json_string_value(json_object_get(hit, "kind")), kind);
	if (before != NULL) {
		json_t *want = json_loads(before, JSON_DECODE_ANY, NULL);

		assert_non_null(want);
		if (!json_equal(want, json_object_get(hit, "before")))
			fail_msg("%s: before is not %s", path, before);
		json_decref(want);
	}
	if (after != NULL) {
		json_t *want = json_loads(after, JSON_DECODE_ANY, NULL);

		assert_non_null(want);
		if (!json_equal(want, json_object_get(hit, "after")))
			fail_msg("%s: after is not %s", path, after);
		json_decref(want);
	}
	assert_string_equal(json_string_value(json_object_get(hit, "category")), category);
	assert_string_equal(json_string_value(json_object_get(hit, "severity")), severity);
	assert_true(json_string_length(json_object_get(hit, "summary")) > 0);
	return hit;
}

static long long
suppressed(const json_t *d, const char *rule)
{
	const json_t *by = json_object_get(json_object_get(json_object_get(d, "summary"),
	    "suppressed"), "by_rule");

	return json_integer_value(json_object_get(by, rule));
}

static int
setup(void **state)
{
	struct err e = ERR_INIT;

	(void)state;
	if (diff_rules_load(NULL, &rules, &e) != 0) {
		fprintf(stderr, "rules: %s\n", e.msg);
		return -1;
	}
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	diff_rules_free(rules);
	return 0;
}

/* ---- real pairs from the corpus ---- */

static void
test_corpus_405b_pair(void **state)
{
	json_t *d;
	const char *obj = "leaderworkerset.x-k8s.io/LeaderWorkerSet/vllm";
	const char *img_old = "\"us-docker.pkg.dev/vertex-ai/vertex-vision-model-garden-dockers/"
	    "pytorch-vllm-serve:20240821_1034_RC00\"";

	(void)state;
	d = run("manifests/gke-samples-2024-10-25-ec129631__vllm-llama3-405b-A3.yaml",
	    "manifests/gke-samples-2025-07-03-ee970fb0__vllm-llama3-405b-A3.yaml", 1, NULL);
	assert_int_equal(nchanges(d), 4);
	expect(d, obj, "/spec/leaderWorkerTemplate/leaderTemplate/spec/containers/vllm-leader/image",
	    NULL, "modified", img_old, "\"vllm/vllm-openai:v0.8.5\"", "runtime", "high");
	expect(d, obj, "/spec/leaderWorkerTemplate/workerTemplate/spec/containers/vllm-worker/image",
	    NULL, "modified", img_old, "\"vllm/vllm-openai:v0.8.5\"", "runtime", "high");
	expect(d, obj,
	    "/spec/leaderWorkerTemplate/leaderTemplate/spec/containers/vllm-leader/command", NULL,
	    "modified", NULL, NULL, "runtime", "medium");
	expect(d, obj,
	    "/spec/leaderWorkerTemplate/workerTemplate/spec/containers/vllm-worker/command", NULL,
	    "modified",
	    "[\"sh\",\"-c\",\"/workspace/vllm/examples/ray_init.sh worker "
	    "--ray_address=$(LWS_LEADER_ADDRESS)\"]",
	    "[\"sh\",\"-c\",\"bash /vllm-workspace/examples/online_serving/multi-node-serving.sh "
	    "worker --ray_address=$(LWS_LEADER_ADDRESS)\"]", "runtime", "medium");
	/* most severe first */
	assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(d,
	    "changes"), 0), "severity")), "high");
	json_decref(d);
}

static void
test_corpus_reflection_config(void **state)
{
	json_t *d;

	(void)state;
	d = run("hf-config/reflection70b-v1-276a4a0__config.json",
	    "hf-config/reflection70b-v2-2d5b978__config.json", 1,
	    NULL);
	assert_int_equal(nchanges(d), 7);
	expect(d, "document/1", "/max_position_embeddings", NULL, "modified", "131072", "8192",
	    "model", "high");
	expect(d, "document/1", "/rope_scaling", NULL, "modified",
	    "{\"factor\":8,\"high_freq_factor\":4,\"low_freq_factor\":1,"
	    "\"original_max_position_embeddings\":8192,\"rope_type\":\"llama3\"}", "null",
	    "model", "high");
	expect(d, "document/1", "/vocab_size", NULL, "modified", "128256", "128262", "model", "high");
	expect(d, "document/1", "/eos_token_id", NULL, "modified", "[128001,128008,128009]",
	    "128009", "model", "medium");
	expect(d, "document/1", "/_name_or_path", NULL, "modified",
	    "\"meta-llama/Meta-Llama-3.1-70B-Instruct\"", "\"meta-llama/Meta-Llama-3-70B-Instruct\"",
	    "model", "medium");
	expect(d, "document/1", "/transformers_version", NULL, "modified", "\"4.44.0\"",
	    "\"4.40.0\"", "model", "low");
	expect(d, "document/1", "/mlp_bias", NULL, "removed", "false", "null", "other", "low");
	json_decref(d);
}

static void
test_corpus_prodstack_values(void **state)
{
	json_t *d;
	const char *o = "document/1";
	const char *p = "/servingEngineSpec/modelSpec/qwen7b";
	char path[256];
	char *dump;

	(void)state;
	d = run("manifests/prodstack__values-02-basic-config.yaml",
	    "manifests/prodstack__values-25-v100-multi-gpu-tp2.yaml", 1, NULL);
	snprintf(path, sizeof(path), "%s/modelURL", p);
	expect(d, o, path, NULL, "modified", "\"meta-llama/Llama-3.1-8B-Instruct\"",
	    "\"Qwen/Qwen2.5-7B-Instruct\"", "model", "critical");
	snprintf(path, sizeof(path), "%s/tag", p);
	expect(d, o, path, NULL, "modified", "\"latest\"", "\"v0.8.5\"", "runtime", "high");
	snprintf(path, sizeof(path), "%s/vllmConfig/dtype", p);
	expect(d, o, path, NULL, "modified", "\"bfloat16\"", "\"half\"", "runtime", "high");
	snprintf(path, sizeof(path), "%s/vllmConfig/maxModelLen", p);
	expect(d, o, path, NULL, "modified", "4096", "8192", "runtime", "high");
	snprintf(path, sizeof(path), "%s/requestGPU", p);
	expect(d, o, path, NULL, "modified", "1", "2", "hardware", "high");
	/* the placeholder token of the values file is a secret-named key: never shown */
	snprintf(path, sizeof(path), "%s/hf_token", p);
	expect(d, o, path, NULL, "removed", NULL, "null", "runtime", "high");
	dump = json_dumps(d, 0);
	assert_null(strstr(dump, "YOUR HF TOKEN"));
	free(dump);
	/* the first change is the most severe */
	assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(d,
	    "changes"), 0), "severity")), "critical");
	json_decref(d);
}

static void
test_corpus_same_file_no_change(void **state)
{
	json_t *d;

	(void)state;
	d = run("k8s-api/k9s__dp.json", "k8s-api/k9s__dp.json", 1, NULL);
	assert_int_equal(nchanges(d), 0);
	json_decref(d);
	d = run("manifests/gke-samples__tgi-2-27b-it.yaml",
	    "manifests/gke-samples__tgi-2-27b-it.yaml", 1, NULL);
	assert_int_equal(nchanges(d), 0);
	json_decref(d);
}

static void
test_corpus_malformed_yaml(void **state)
{
	struct err e = ERR_INIT;
	struct doc_set *d = NULL;
	char *p = fixture(
	    "manifests/gke-samples__vllm-llama4-maverick-17b-128e-instruct-fp8.yaml");

	(void)state;
	assert_int_equal(doc_load_file(p, DOC_AUTO, &d, &e), -1);
	assert_null(d);
	/* FILE:LINE:COL: reason */
	assert_non_null(strstr(e.msg, ".yaml:"));
	free(p);
}

/* ---- normalisation ---- */

static const char *dep_a =
    "apiVersion: apps/v1\n"
    "kind: Deployment\n"
    "metadata:\n"
    "  name: vllm\n"
    "  namespace: llm\n"
    "  resourceVersion: \"111\"\n"
    "  uid: 1111-aaaa\n"
    "  generation: 4\n"
    "  creationTimestamp: \"2025-01-01T00:00:00Z\"\n"
    "  annotations:\n"
    "    deployment.kubernetes.io/revision: \"4\"\n"
    "  managedFields:\n"
    "  - manager: kubectl\n"
    "spec:\n"
    "  replicas: 2\n"
    "  template:\n"
    "    metadata:\n"
    "      labels: {app: vllm, pod-template-hash: abc}\n"
    "    spec:\n"
    "      containers:\n"
    "      - name: vllm\n"
    "        image: vllm/vllm-openai:v0.8.5\n"
    "        args: [\"--model\", \"m\", \"--max-model-len\", \"8192\", \"--dtype\", \"bfloat16\"]\n"
    "        env:\n"
    "        - {name: A, value: \"1\"}\n"
    "        - {name: B, value: \"2\"}\n"
    "        ports: [{containerPort: 8000}]\n"
    "        resources:\n"
    "          limits: {memory: 64Gi, cpu: 8, nvidia.com/gpu: 1}\n"
    "      - name: sidecar\n"
    "        image: busybox:1.36\n"
    "status:\n"
    "  replicas: 2\n"
    "---\n"
    "apiVersion: v1\n"
    "kind: Service\n"
    "metadata: {name: vllm, namespace: llm}\n"
    "spec:\n"
    "  ports: [{name: http, port: 80, targetPort: 8000}]\n";

static const char *dep_b_reordered =
    "apiVersion: v1\n"
    "kind: Service\n"
    "metadata: {name: vllm, namespace: llm}\n"
    "spec:\n"
    "  ports: [{name: http, port: \"80\", targetPort: 8000}]\n"
    "---\n"
    "apiVersion: apps/v1\n"
    "kind: Deployment\n"
    "metadata:\n"
    "  name: vllm\n"
    "  namespace: llm\n"
    "  resourceVersion: \"999\"\n"
    "  uid: 2222-bbbb\n"
    "  generation: 9\n"
    "  creationTimestamp: \"2025-02-01T00:00:00Z\"\n"
    "  annotations:\n"
    "    deployment.kubernetes.io/revision: \"9\"\n"
    "spec:\n"
    "  replicas: \"2\"\n"
    "  template:\n"
    "    metadata:\n"
    "      labels: {app: vllm, pod-template-hash: def}\n"
    "    spec:\n"
    "      containers:\n"
    "      - name: sidecar\n"
    "        image: busybox:1.36\n"
    "      - name: vllm\n"
    "        image: vllm/vllm-openai:v0.8.5\n"
    "        args: [\"--model=m\", \"--max_model_len=8192\", \"--dtype\", \"bfloat16\"]\n"
    "        env:\n"
    "        - {name: B, value: \"2\"}\n"
    "        - {name: A, value: 1}\n"
    "        ports: [{containerPort: \"8000\"}]\n"
    "        resources:\n"
    "          limits: {memory: 65536Mi, cpu: 8000m, nvidia.com/gpu: \"1\"}\n"
    "status:\n"
    "  replicas: 3\n";

static void
test_reorder_quantities_flags_noise(void **state)
{
	json_t *d;

	(void)state;
	d = run(dep_a, dep_b_reordered, 0, NULL);
	assert_int_equal(nchanges(d), 0);
	/* the noise is counted per rule, over both sides */
	assert_int_equal(suppressed(d, "resourceVersion"), 2);
	assert_int_equal(suppressed(d, "uid"), 2);
	assert_int_equal(suppressed(d, "generation"), 2);
	assert_int_equal(suppressed(d, "creationTimestamp"), 2);
	assert_int_equal(suppressed(d, "managedFields"), 1);
	assert_int_equal(suppressed(d, "deployment.kubernetes.io/revision"), 2);
	assert_int_equal(suppressed(d, "pod-template-hash"), 2);
	assert_int_equal(suppressed(d, "status"), 2);
	/* the two flag spellings: settings equal, raw args folded */
	assert_int_equal(suppressed(d, "folded-into-setting"), 1);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(json_object_get(d,
	    "summary"), "suppressed"), "count")), 16);
	json_decref(d);
}

/* Every field of the knowledge table is found (the table is sorted for bsearch) and
 * normalised the way its kind says; a real change in the same field still shows. */
static void
test_typed_fields(void **state)
{
	static const char *const ints[] = { "activeDeadlineSeconds", "averageUtilization",
		"backoffLimit", "completions", "containerPort", "defaultMode", "failureThreshold",
		"fsGroup", "hostPort", "initialDelaySeconds", "maxReplicas", "minReadySeconds",
		"minReplicas", "nodePort", "number", "parallelism", "periodSeconds", "port",
		"priority", "progressDeadlineSeconds", "replicas", "revisionHistoryLimit",
		"runAsGroup", "runAsUser", "size", "stabilizationWindowSeconds", "successThreshold",
		"targetPort", "terminationGracePeriodSeconds", "timeoutSeconds", NULL };
	static const char *const bools[] = { "allowPrivilegeEscalation",
		"automountServiceAccountToken", "enableServiceLinks", "hostIPC", "hostNetwork",
		"hostPID", "hostUsers", "immutable", "optional", "paused", "privileged", "readOnly",
		"readOnlyRootFilesystem", "runAsNonRoot", "setHostnameAsFQDN",
		"shareProcessNamespace", "stdin", "stdinOnce", "suspend", "tty", NULL };
	static const char *const qtys[] = { "averageValue", "sizeLimit", "storage", NULL };
	static const char *const parents[] = { "hard", "limits", "requests", NULL };
	const char *head = "apiVersion: x.io/v1\nkind: Widget\nmetadata: {name: w}\nspec:\n";
	char a[512], b[512], c[512];
	size_t i;
	json_t *d;

	(void)state;
	assert_int_equal(diff_field_table_check(), 0);
	for (i = 0; ints[i] != NULL; i++) {
		snprintf(a, sizeof(a), "%s  %s: \"8\"\n", head, ints[i]);
		snprintf(b, sizeof(b), "%s  %s: 8\n", head, ints[i]);
		snprintf(c, sizeof(c), "%s  %s: 9\n", head, ints[i]);
		d = run(a, b, 0, NULL);
		assert_int_equal(nchanges(d), 0);
		json_decref(d);
		d = run(a, c, 0, NULL);
		assert_int_equal(nchanges(d), 1);
		json_decref(d);
	}
	for (i = 0; bools[i] != NULL; i++) {
		snprintf(a, sizeof(a), "%s  %s: \"true\"\n", head, bools[i]);
		snprintf(b, sizeof(b), "%s  %s: true\n", head, bools[i]);
		snprintf(c, sizeof(c), "%s  %s: false\n", head, bools[i]);
		d = run(a, b, 0, NULL);
		assert_int_equal(nchanges(d), 0);
		json_decref(d);
		d = run(a, c, 0, NULL);
		assert_int_equal(nchanges(d), 1);
		json_decref(d);
	}
	for (i = 0; qtys[i] != NULL; i++) {
		snprintf(a, sizeof(a), "%s  %s: 64Gi\n", head, qtys[i]);
		snprintf(b, sizeof(b), "%s  %s: 65536Mi\n", head, qtys[i]);
		snprintf(c, sizeof(c), "%s  %s: 32Gi\n", head, qtys[i]);
		d = run(a, b, 0, NULL);
		assert_int_equal(nchanges(d), 0);
		json_decref(d);
		d = run(a, c, 0, NULL);
		assert_int_equal(nchanges(d), 1);
		json_decref(d);
	}
	for (i = 0; parents[i] != NULL; i++) {
		snprintf(a, sizeof(a), "%s  %s: {cpu: 8, memory: 1Gi}\n", head, parents[i]);
		snprintf(b, sizeof(b), "%s  %s: {cpu: 8000m, memory: 1024Mi}\n", head, parents[i]);
		snprintf(c, sizeof(c), "%s  %s: {cpu: 4, memory: 1Gi}\n", head, parents[i]);
		d = run(a, b, 0, NULL);
		assert_int_equal(nchanges(d), 0);
		json_decref(d);
		d = run(a, c, 0, NULL);
		assert_int_equal(nchanges(d), 1);
		json_decref(d);
	}
	/* A name outside the table keeps its type: "8" and 8 differ. */
	snprintf(a, sizeof(a), "%s  threads: \"8\"\n", head);
	snprintf(b, sizeof(b), "%s  threads: 8\n", head);
	d = run(a, b, 0, NULL);
	assert_int_equal(nchanges(d), 1);
	json_decref(d);
}

static void
test_normalised_side_sorted(void **state)
{
	struct err e = ERR_INIT;
	struct doc_set *ds = NULL;
	struct diff_side *s = NULL;
	json_t *n, *ctrs;

	(void)state;
	assert_int_equal(doc_load_mem("b", dep_b_reordered, strlen(dep_b_reordered), DOC_YAML, &ds,
	    &e), 0);
	assert_int_equal(diff_side_from_docs(ds, "b", &s, &e), 0);
	n = diff_side_normalised(s);
	assert_int_equal(json_array_size(n), 2);
	/* sorted by identity: apps/... before core/... */
	assert_string_equal(json_string_value(json_object_get(json_array_get(n, 0), "kind")),
	    "Deployment");
	ctrs = json_object_get(json_object_get(json_object_get(json_object_get(
	    json_object_get(json_array_get(n, 0), "spec"), "template"), "spec"), "containers"), "x");
	assert_null(ctrs);
	ctrs = json_object_get(json_object_get(json_object_get(json_object_get(
	    json_array_get(n, 0), "spec"), "template"), "spec"), "containers");
	assert_string_equal(json_string_value(json_object_get(json_array_get(ctrs, 0), "name")),
	    "sidecar");
	assert_string_equal(json_string_value(json_object_get(json_object_get(json_object_get(
	    json_array_get(ctrs, 1), "resources"), "limits"), "memory")), "64Gi");
	assert_string_equal(json_string_value(json_object_get(json_object_get(json_object_get(
	    json_array_get(ctrs, 1), "resources"), "limits"), "cpu")), "8");
	assert_null(json_object_get(json_array_get(n, 0), "status"));
	assert_null(json_object_get(json_object_get(json_array_get(n, 0), "metadata"), "uid"));
	json_decref(n);
	diff_side_free(s);
}

static void
test_namespace_default_equals_missing(void **state)
{
	json_t *d;

	(void)state;
	d = run("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {k: v}\n",
	    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: default}\n"
	    "data: {k: w}\n", 0, NULL);
	assert_int_equal(nchanges(d), 1);
	expect(d, "core/ConfigMap/default/c", "/data/k", NULL, "modified", "\"v\"", "\"w\"",
	    "runtime", "medium");
	json_decref(d);
}

static void
test_json_list_input(void **state)
{
	json_t *d;

	(void)state;
	d = run("{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":[{\"apiVersion\":\"v1\","
	    "\"kind\":\"Service\",\"metadata\":{\"name\":\"s\",\"namespace\":\"n\"},\"spec\":{"
	    "\"selector\":{\"app\":\"a\"}}}]}",
	    "{\"schema\":\"skewd.snapshot/v1\",\"objects\":[{\"apiVersion\":\"v1\","
	    "\"kind\":\"Service\",\"metadata\":{\"name\":\"s\",\"namespace\":\"n\"},\"spec\":{"
	    "\"selector\":{\"app\":\"b\"}}}]}", 0, NULL);
	assert_int_equal(nchanges(d), 1);
	expect(d, "core/Service/n/s", "/spec/selector/app", NULL, "modified", "\"a\"", "\"b\"",
	    "serving", "high");
	json_decref(d);
}

/* ---- engine settings ---- */

static void
test_setting_change_sh_c(void **state)
{
	json_t *d;
	const json_t *c;
	const char *a =
	    "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: v, namespace: llm}\n"
	    "spec:\n  template:\n    spec:\n      containers:\n      - name: vllm\n"
	    "        image: vllm/vllm-openai:v0.8.5\n"
	    "        command: [sh, -c, \"pip list; vllm serve meta/m --max-model-len 8192 "
	    "--dtype=bfloat16\"]\n";
	const char *b =
	    "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: v, namespace: llm}\n"
	    "spec:\n  template:\n    spec:\n      containers:\n      - name: vllm\n"
	    "        image: vllm/vllm-openai:v0.8.5\n"
	    "        command: [sh, -c, \"pip list; vllm serve meta/m --max_model_len=4096 "
	    "--dtype float16 --max-num-seqs 512\"]\n";

	(void)state;
	d = run(a, b, 0, NULL);
	assert_int_equal(nchanges(d), 3);
	expect(d, "apps/Deployment/llm/v", "/spec/template/spec/containers/vllm/args/max_model_len",
	    "max_model_len", "modified", "8192", "4096", "runtime", "high");
	expect(d, "apps/Deployment/llm/v", "/spec/template/spec/containers/vllm/args/dtype", "dtype",
	    "modified", "\"bfloat16\"", "\"float16\"", "runtime", "high");
	c = expect(d, "apps/Deployment/llm/v",
	    "/spec/template/spec/containers/vllm/args/max_num_seqs", "max_num_seqs", "added",
	    "null", "512", "runtime", "medium");
	/* absent on one side: the summary names the engine's documented default */
	if (engine_knob_find(ENGINE_VLLM, "max_num_seqs") != NULL &&
	    engine_knob_find(ENGINE_VLLM, "max_num_seqs")->default_value != NULL)
		assert_non_null(strstr(json_string_value(json_object_get(c, "summary")), "default"));
	assert_int_equal(suppressed(d, "folded-into-setting"), 1);
	json_decref(d);
}

static void
test_model_unpinned(void **state)
{
	json_t *d;
	const char *a =
	    "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: v, namespace: llm}\n"
	    "spec:\n  template:\n    spec:\n      containers:\n      - name: vllm\n"
	    "        image: vllm/vllm-openai:v0.8.5\n"
	    "        args: [--model, meta/m, --revision, 0e9e39f249a16976918f6564b8830bc894c89659]\n";
	const char *b =
	    "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: v, namespace: llm}\n"
	    "spec:\n  template:\n    spec:\n      containers:\n      - name: vllm\n"
	    "        image: vllm/vllm-openai:v0.8.5\n"
	    "        args: [--model, meta/m]\n";

	(void)state;
	d = run(a, b, 0, NULL);
	assert_int_equal(nchanges(d), 1);
	expect(d, "apps/Deployment/llm/v", "/spec/template/spec/containers/vllm/args/revision",
	    "revision", "removed", "\"0e9e39f249a16976918f6564b8830bc894c89659\"", "null",
	    "model", "high");
	json_decref(d);
}

/* ---- pods, nodes, images ---- */

static char *
pod(const char *name, const char *node, const char *digest, int restarts)
{
	char *s = NULL;

	assert_true(asprintf(&s,
	    "apiVersion: v1\nkind: Pod\nmetadata:\n  name: %s\n  namespace: llm\n"
	    "  labels: {app: vllm, pod-template-hash: 7d9f8}\n"
	    "  ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: vllm-7d9f8}]\n"
	    "spec:\n  nodeName: %s\n  containers:\n  - name: vllm\n"
	    "    image: vllm/vllm-openai:v0.8.5\n    args: [--model, m]\n"
	    "status:\n  containerStatuses:\n  - name: vllm\n    image: vllm/vllm-openai:v0.8.5\n"
	    "    imageID: docker.io/vllm/vllm-openai@sha256:%s\n    restartCount: %d\n---\n",
	    name, node, digest, restarts) > 0);
	return s;
}

static char *
node(const char *name, const char *product, int old_labels)
{
	char *s = NULL;

	assert_true(asprintf(&s,
	    "apiVersion: v1\nkind: Node\nmetadata:\n  name: %s\n  labels:\n"
	    "    nvidia.com/gpu.product: %s\n    nvidia.com/gpu.memory: \"81559\"\n"
	    "    nvidia.com/gpu.count: \"8\"\n%s"
	    "    nvidia.com/gfd.timestamp: \"%d\"\n---\n", name, product,
	    old_labels ? "    nvidia.com/cuda.driver.major: \"550\"\n"
	    "    nvidia.com/cuda.driver.minor: \"107\"\n    nvidia.com/cuda.driver.rev: \"02\"\n" :
	    "    nvidia.com/cuda.driver-version.major: \"550\"\n"
	    "    nvidia.com/cuda.driver-version.minor: \"107\"\n"
	    "    nvidia.com/cuda.driver-version.revision: \"02\"\n", old_labels ? 1 : 2) > 0);
	return s;
}

static const char *workload =
    "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: vllm, namespace: llm}\n"
    "spec:\n  template:\n    spec:\n      containers:\n      - name: vllm\n"
    "        image: vllm/vllm-openai:v0.8.5\n        args: [--model, m]\n---\n";

static char *
cat(int n, ...)
{
	va_list ap;
	size_t len = 1;
	char *out, *p;
	int i;

	va_start(ap, n);
	for (i = 0; i < n; i++)
		len += strlen(va_arg(ap, const char *));
	va_end(ap);
	out = calloc(1, len);
	assert_non_null(out);
	p = out;
	va_start(ap, n);
	for (i = 0; i < n; i++) {
		const char *s = va_arg(ap, const char *);

		memcpy(p, s, strlen(s));
		p += strlen(s);
	}
	va_end(ap);
	return out;
}

static void
test_pods_moved_to_identical_node_no_change(void **state)
{
	char *p1 = pod("vllm-7d9f8-aaaaa", "gpu-1", "aa", 0);
	char *p2 = pod("vllm-7d9f8-bbbbb", "gpu-2", "aa", 0);
	char *n1 = node("gpu-1", "NVIDIA-H100-80GB-HBM3", 1);
	char *n2 = node("gpu-2", "NVIDIA-H100-80GB-HBM3", 0);
	char *a = cat(3, workload, p1, n1), *b = cat(3, workload, p2, n2);
	json_t *d;

	(void)state;
	/* other pod name, other node name, old vs new GFD driver label names: no change */
	d = run(a, b, 0, NULL);
	assert_int_equal(nchanges(d), 0);
	assert_int_equal(suppressed(d, "pod-compared-as-group"), 2);
	assert_int_equal(suppressed(d, "node-compared-by-fingerprint"), 2);
	json_decref(d);
	free(p1);
	free(p2);
	free(n1);
	free(n2);
	free(a);
	free(b);
}

static void
test_same_tag_other_digest(void **state)
{
	char *p1 = pod("vllm-7d9f8-aaaaa", "gpu-1", "aa", 0);
	char *p2 = pod("vllm-7d9f8-bbbbb", "gpu-1", "bb", 3);
	char *a = cat(2, workload, p1), *b = cat(2, workload, p2);
	json_t *d;

	(void)state;
	d = run(a, b, 0, NULL);
	assert_int_equal(nchanges(d), 2);
	expect(d, "apps/Deployment/llm/vllm", "/pods/containers/vllm/imageID", NULL, "modified",
	    "[\"sha256:aa\"]", "[\"sha256:bb\"]", "runtime", "high");
	expect(d, "apps/Deployment/llm/vllm", "/pods/restarts", NULL, "modified", "0", "3",
	    "orchestration", "medium");
	json_decref(d);
	free(p1);
	free(p2);
	free(a);
	free(b);
}

static void
test_mixed_replicas(void **state)
{
	char *p1 = pod("vllm-7d9f8-aaaaa", "gpu-1", "aa", 0);
	char *p2 = pod("vllm-7d9f8-bbbbb", "gpu-2", "aa", 0);
	char *p3 = pod("vllm-7d9f8-ccccc", "gpu-1", "aa", 0);
	char *p4 = pod("vllm-7d9f8-ddddd", "gpu-3", "bb", 0);
	char *n1 = node("gpu-1", "NVIDIA-H100-80GB-HBM3", 0);
	char *n2 = node("gpu-2", "NVIDIA-H100-80GB-HBM3", 0);
	char *n3 = node("gpu-3", "NVIDIA-A100-SXM4-80GB", 0);
	char *a = cat(5, workload, p1, p2, n1, n2), *b = cat(6, workload, p3, p4, n1, n2, n3);
	json_t *d;

	(void)state;
	d = run(a, b, 0, NULL);
	expect(d, "apps/Deployment/llm/vllm", "/pods/nodes/gpu", NULL, "modified",
	    "[\"NVIDIA-H100-80GB-HBM3 x8, 81559 MiB, driver 550.107.02, CUDA ?, MIG none\"]",
	    "[\"NVIDIA-A100-SXM4-80GB x8, 81559 MiB, driver 550.107.02, CUDA ?, MIG none\","
	    "\"NVIDIA-H100-80GB-HBM3 x8, 81559 MiB, driver 550.107.02, CUDA ?, MIG none\"]",
	    "hardware", "critical");
	expect(d, "apps/Deployment/llm/vllm", "/pods/containers/vllm/imageID", NULL, "modified",
	    "[\"sha256:aa\"]", "[\"sha256:aa\",\"sha256:bb\"]", "runtime", "critical");
	expect(d, "core/Node", "/nodes/NVIDIA-A100-SXM4-80GB x8, 81559 MiB, driver 550.107.02, "
	    "CUDA ?, MIG none", NULL, "added", "null", "1", "hardware", "high");
	assert_int_equal(nchanges(d), 3);
	json_decref(d);
	free(p1);
	free(p2);
	free(p3);
	free(p4);
	free(n1);
	free(n2);
	free(n3);
	free(a);
	free(b);
}

static void
test_floating_tag(void **state)
{
	json_t *d;

	(void)state;
	d = run(workload, "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: vllm, "
	    "namespace: llm}\nspec:\n  template:\n    spec:\n      containers:\n      - name: vllm\n"
	    "        image: vllm/vllm-openai:latest\n        args: [--model, m]\n", 0, NULL);
	assert_int_equal(nchanges(d), 1);
	expect(d, "apps/Deployment/llm/vllm", "/spec/template/spec/containers/vllm/image", NULL,
	    "modified", "\"vllm/vllm-openai:v0.8.5\"", "\"vllm/vllm-openai:latest\"", "runtime",
	    "high");
	assert_non_null(strstr(json_string_value(json_object_get(json_array_get(json_object_get(d,
	    "changes"), 0), "summary")), "floating"));
	json_decref(d);
}

/* ---- secrets ---- */

static void
test_secret_value_never_shown(void **state)
{
	json_t *d;
	char *dump;

	(void)state;
	/* c2tfY2FuYXJ5X29sZA== is "sk_canary_old" */
	d = run("apiVersion: v1\nkind: Secret\nmetadata: {name: hf, namespace: llm}\n"
	    "data: {token: c2tfY2FuYXJ5X29sZA==, same: eA==}\n---\n"
	    "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: v, namespace: llm}\n"
	    "spec:\n  template:\n    spec:\n      containers:\n      - name: c\n"
	    "        image: x:1\n        env: [{name: HF_TOKEN, value: hf_canary_inline_old}]\n",
	    "apiVersion: v1\nkind: Secret\nmetadata: {name: hf, namespace: llm}\n"
	    "stringData: {token: sk_canary_new, same: x}\n---\n"
	    "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: v, namespace: llm}\n"
	    "spec:\n  template:\n    spec:\n      containers:\n      - name: c\n"
	    "        image: x:1\n        env: [{name: HF_TOKEN, value: hf_canary_inline_new}]\n",
	    0, NULL);
	assert_int_equal(nchanges(d), 2);
	expect(d, "core/Secret/llm/hf", "/data/token", NULL, "modified", NULL, NULL, "runtime",
	    "high");
	expect(d, "apps/Deployment/llm/v", "/spec/template/spec/containers/c/env/HF_TOKEN/value",
	    NULL, "modified", NULL, NULL, "runtime", "high");
	dump = json_dumps(d, 0);
	assert_null(strstr(dump, "canary"));
	assert_null(strstr(dump, "c2tfY2FuYXJ5X29sZA"));
	free(dump);
	assert_true(suppressed(d, "secret-value-hashed") >= 4);
	json_decref(d);
}

/* ---- rules ---- */

static void
test_user_rules(void **state)
{
	struct err e = ERR_INIT;
	struct diff_rules *r = NULL;
	char path[] = "/tmp/skewd-diff-rules-XXXXXX";
	const char *text =
	    "rules:\n"
	    "  - name: no-replicas\n    match: {path: /spec/replicas}\n    ignore: true\n"
	    "  - name: dtype-critical\n    match: {setting: dtype}\n    severity: critical\n";
	int fd = mkstemp(path);
	json_t *d;
	const char *a = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: v}\nspec:\n"
	    "  replicas: 2\n  template:\n    spec:\n      containers:\n      - name: c\n"
	    "        image: vllm/vllm-openai:v0.8.5\n        args: [--model, m, --dtype, half]\n";
	const char *b = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: v}\nspec:\n"
	    "  replicas: 5\n  template:\n    spec:\n      containers:\n      - name: c\n"
	    "        image: vllm/vllm-openai:v0.8.5\n        args: [--model, m, --dtype, bfloat16]\n";

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	assert_int_equal(diff_rules_load(path, &r, &e), 0);
	d = run(a, b, 0, r);
	assert_int_equal(nchanges(d), 1);
	expect(d, "apps/Deployment/v", "/spec/template/spec/containers/c/args/dtype", "dtype",
	    "modified", "\"half\"", "\"bfloat16\"", "runtime", "critical");
	assert_int_equal(suppressed(d, "ignore:no-replicas"), 1);
	json_decref(d);
	/* without the user file, replicas is a change */
	d = run(a, b, 0, NULL);
	assert_int_equal(nchanges(d), 2);
	expect(d, "apps/Deployment/v", "/spec/replicas", NULL, "modified", "2", "5",
	    "orchestration", "medium");
	json_decref(d);
	diff_rules_free(r);

	/* a bad file names the file and the problem */
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	text = "rules:\n  - name: x\n    severity: urgent\n";
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	assert_int_equal(diff_rules_load(path, &r, &e), -1);
	assert_non_null(strstr(e.msg, path));
	assert_non_null(strstr(e.msg, "urgent"));
	unlink(path);
}

static void
test_generic_documents_by_position(void **state)
{
	json_t *d;

	(void)state;
	d = run("a: 1\nlist: [{name: p, v: 1}, {name: q, v: 2}]\n---\nb: 2\n",
	    "a: 1\nlist: [{name: q, v: 3}, {name: p, v: 1}]\n---\nb: 3\n", 0, NULL);
	assert_int_equal(nchanges(d), 2);
	expect(d, "document/1", "/list/q/v", NULL, "modified", "2", "3", "other", "low");
	expect(d, "document/2", "/b", NULL, "modified", "2", "3", "other", "low");
	json_decref(d);
}

/* A real beyond the integer range is compared as a real (fuzz_diff: the check
 * converted it to an integer first, undefined behaviour under UBSan). */
static void
test_huge_real(void **state)
{
	json_t *d;

	(void)state;
	d = run("kind: ConfigMap\nmetadata: {name: a}\nspec: {finalizers: [8.8e94], n: 3.0}\n",
	    "kind: ConfigMap\nmetadata: {name: a}\nspec: {finalizers: [-9.1e300], n: 3}\n", 0, NULL);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(d, "summary"), "changes")), 1);
	json_decref(d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_corpus_405b_pair),
		cmocka_unit_test(test_corpus_reflection_config),
		cmocka_unit_test(test_corpus_prodstack_values),
		cmocka_unit_test(test_corpus_same_file_no_change),
		cmocka_unit_test(test_corpus_malformed_yaml),
		cmocka_unit_test(test_reorder_quantities_flags_noise),
		cmocka_unit_test(test_typed_fields),
		cmocka_unit_test(test_normalised_side_sorted),
		cmocka_unit_test(test_namespace_default_equals_missing),
		cmocka_unit_test(test_json_list_input),
		cmocka_unit_test(test_setting_change_sh_c),
		cmocka_unit_test(test_model_unpinned),
		cmocka_unit_test(test_pods_moved_to_identical_node_no_change),
		cmocka_unit_test(test_same_tag_other_digest),
		cmocka_unit_test(test_mixed_replicas),
		cmocka_unit_test(test_floating_tag),
		cmocka_unit_test(test_secret_value_never_shown),
		cmocka_unit_test(test_user_rules),
		cmocka_unit_test(test_generic_documents_by_position),
		cmocka_unit_test(test_huge_real),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
