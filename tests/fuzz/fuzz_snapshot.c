/*
 * fuzz_snapshot.c - libFuzzer target for the snapshot builder: Kubernetes API
 * JSON (or YAML) objects -> a raw pull -> the skewd.snapshot/v1 document and
 * the evidence (collect_raw_from_objects, collect_build, collect_hash).
 *
 * The input is loaded as any number of documents (a YAML stream or JSON
 * values one after another); `kind: List` documents give their items. When a
 * document is itself a raw pull (an object with "target" and "workload") it
 * goes to collect_build() as it is. Otherwise the objects are binned for the
 * first Deployment, StatefulSet or LeaderWorkerSet among them, after a canary
 * is planted in each container of every workload's pod template (env HF_TOKEN, and
 * "--api-key" CANARY in args). Properties: a built configuration has the
 * schema and its hash is stable (the same raw pull builds the same bytes); the
 * canary reaches neither the configuration nor the evidence. Built by hand,
 * not by CMake's default build (tests/lint/fuzz_smoke.sh does the same):
 *
 *   cmake -DIN=server/engine/knowledge.yaml -DOUT=knowledge.c -DNAME=engine_knowledge_yaml \
 *       -P server/util/embed.cmake
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Iserver \
 *       tests/fuzz/fuzz_snapshot.c knowledge.c server/collect/build.c server/seal/seal.c \
 *       server/engine/[a-z]*.c server/doc/[a-z]*.c server/util/buf.c server/util/err.c \
 *       server/util/log.c -lyaml -ljansson -lcrypto -lm -o fuzz_snapshot
 *   ./fuzz_snapshot -max_total_time=60 -max_len=65536 CORPUS_DIR tests/fixtures/corpus/k8s-api
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collect/collect.h"
#include "doc/doc.h"
#include "engine/engine.h"
#include "seal/seal.h"
#include "util/err.h"
#include "util/banned.h"

#define CANARY "c4n4ry-snapshot-secret-5e6f7a8b9c"
#define CANARY_MARK "4n4ry"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct seal *seal;

static void
check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_snapshot: %s\n", what);
		abort();
	}
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct err e = ERR_INIT;

	(void)argc;
	(void)argv;
	setenv("SKEWD_SEAL_KEY", "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", 1);
	if (engine_init(&e) < 0 || seal_open("/nonexistent/seal.key", &seal, &e) < 0) {
		fprintf(stderr, "fuzz_snapshot: %s\n", e.msg);
		abort();
	}
	return 0;
}

static void
no_canary(const json_t *v, const char *what)
{
	char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

	check(s != NULL, "a built document dumps");
	if (strstr(s, CANARY) != NULL) {
		fprintf(stderr, "fuzz_snapshot: the canary reached the %s: %.4000s\n", what, s);
		abort();
	}
	free(s);
}

static void
build(const json_t *raw, int canary)
{
	struct err e = ERR_INIT;
	json_t *config = NULL, *evidence = NULL, *config2 = NULL, *evidence2 = NULL;
	char h1[65], h2[65];

	if (collect_build(raw, seal, &config, &evidence, &e) < 0) {
		check(config == NULL && evidence == NULL && e.msg[0] != '\0', "a failure has a message");
		return;
	}
	check(config != NULL && evidence != NULL, "both documents");
	check(json_is_string(json_object_get(config, "schema")) &&
	    strcmp(json_string_value(json_object_get(config, "schema")), COLLECT_SNAPSHOT_SCHEMA) == 0,
	    "the configuration has the schema");
	if (collect_hash(config, h1, &e) == 0) {
		check(strlen(h1) == 64, "a hash is 64 hex");
		check(collect_build(raw, seal, &config2, &evidence2, &e) == 0, "the same pull builds again");
		check(collect_hash(config2, h2, &e) == 0 && strcmp(h1, h2) == 0, "the hash is stable");
	}
	if (canary) {
		no_canary(config, "configuration");
		no_canary(evidence, "evidence");
	}
	json_decref(config);
	json_decref(evidence);
	json_decref(config2);
	json_decref(evidence2);
}

static int
is_workload(const json_t *o)
{
	const char *k = json_string_value(json_object_get(o, "kind"));

	return k != NULL && (strcmp(k, "Deployment") == 0 || strcmp(k, "StatefulSet") == 0 ||
	    strcmp(k, "LeaderWorkerSet") == 0) &&
	    json_is_string(json_object_get(json_object_get(o, "metadata"), "name"));
}

/* Plants the canary in every container of the object's pod templates
 * (Deployment/StatefulSet spec.template, LeaderWorkerSet leader and worker). */
static void
plant_spec(json_t *podspec)
{
	const char *lists[] = { "containers", "initContainers" };
	size_t i, j;
	json_t *c;

	for (i = 0; i < 2; i++) {
		json_array_foreach(json_object_get(podspec, lists[i]), j, c) {
			json_t *env = json_object_get(c, "env"), *args = json_object_get(c, "args");

			if (!json_is_object(c))
				continue;
			if (!json_is_array(env)) {
				env = json_array();
				json_object_set_new(c, "env", env);
			}
			json_array_append_new(env, json_pack("{s:s,s:s}", "name", "HF_TOKEN", "value", CANARY));
			if (!json_is_array(args)) {
				args = json_array();
				json_object_set_new(c, "args", args);
			}
			json_array_append_new(args, json_string("--api-key"));
			json_array_append_new(args, json_string(CANARY));
		}
	}
}

static void
plant(json_t *wl)
{
	json_t *spec = json_object_get(wl, "spec"), *lw = json_object_get(spec, "leaderWorkerTemplate");

	plant_spec(json_object_get(json_object_get(spec, "template"), "spec"));
	plant_spec(json_object_get(json_object_get(json_object_get(lw, "leaderTemplate"), "spec"), "spec"));
	plant_spec(json_object_get(json_object_get(json_object_get(lw, "workerTemplate"), "spec"), "spec"));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct doc_set *ds = NULL;
	struct err e = ERR_INIT;
	json_t *objects = NULL, *wl = NULL, *raw = NULL, *x;
	int canary = memmem(data, size, CANARY_MARK, strlen(CANARY_MARK)) == NULL;
	size_t i, j;

	if (doc_load_mem("pull.json", (const char *)data, size, DOC_AUTO, &ds, &e) < 0)
		return 0;
	objects = json_array();
	if (objects == NULL)
		goto out;
	for (i = 0; i < doc_set_count(ds); i++) {
		json_t *d = doc_set_get(ds, i);
		const char *k = json_string_value(json_object_get(d, "kind"));

		if (json_is_object(json_object_get(d, "target")) && json_object_get(d, "workload") != NULL) {
			build(d, 0);
			continue;
		}
		if (k != NULL && strcmp(k, "List") == 0 && json_is_array(json_object_get(d, "items"))) {
			json_array_foreach(json_object_get(d, "items"), j, x)
				json_array_append_new(objects, json_deep_copy(x));
		} else {
			json_array_append_new(objects, json_deep_copy(d));
		}
	}
	json_array_foreach(objects, i, x) {
		if (!is_workload(x))
			continue;
		if (wl == NULL)
			wl = x;
		/* Every workload: a later one of the same name is the one binned. */
		if (canary)
			plant(x);
	}
	if (wl != NULL) {
		const json_t *md = json_object_get(wl, "metadata");
		const char *ns = json_string_value(json_object_get(md, "namespace"));

		if (collect_raw_from_objects(objects, "fuzz", ns != NULL ? ns : "default",
		    json_string_value(json_object_get(wl, "kind")),
		    json_string_value(json_object_get(md, "name")), &raw, &e) == 0) {
			json_object_set_new(raw, "pulled_at", json_integer(1796000000));
			build(raw, canary);
			json_decref(raw);
		}
	}
out:
	json_decref(objects);
	doc_set_free(ds);
	return 0;
}
