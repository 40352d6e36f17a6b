/*
 * test_bundle.c - evidence bundles built from the fixture cluster's two states
 * (collect_build on tests/fixtures/cluster/{lastgood,current}), the diff of
 * them (diff_run), planted secrets, and hand-written metrics. The archive is
 * read back with libarchive: the exact file list, only regular files with safe
 * names, MANIFEST.sha256 recomputed, and no canary in any file in any
 * encoding. A write that fails halfway leaves nothing under the final name.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <jansson.h>
#include <archive.h>
#include <archive_entry.h>
#include <openssl/evp.h>

#include "bundle/bundle.h"
#include "collect/collect.h"
#include "diff/diff.h"
#include "doc/doc.h"
#include "engine/engine.h"
#include "seal/seal.h"
#include "util/err.h"
#include "util/limits.h"
#include "util/banned.h"

#define CANARY "skewd-canary-secret-7f3a9c"
#define CANARY_ENV "skewd-canary-env-41d8e2b7"
#define CANARY_ARG "sk-canaryarg0123456789abcdef"
#define CANARY_LOG "canary-bearer-93c1f0aa"
#define CREATED 1795770000

static struct seal *seal;
static char tmpdir[256];
static json_t *base_cfg, *base_ev, *cur_cfg, *cur_ev;

static json_t *
state_objects(const char *state)
{
	const char *fx = getenv("SKEWD_FIXTURES");
	char dir[512], path[1024];
	struct dirent **ents = NULL;
	json_t *all = json_array();
	int n, i;

	snprintf(dir, sizeof(dir), "%s/cluster/%s", fx, state);
	n = scandir(dir, &ents, NULL, alphasort);
	for (i = 0; i < n; i++) {
		struct doc_set *d = NULL;
		struct err e = ERR_INIT;
		size_t j, len = strlen(ents[i]->d_name);

		if (len > 5 && strcmp(ents[i]->d_name + len - 5, ".yaml") == 0) {
			snprintf(path, sizeof(path), "%s/%s", dir, ents[i]->d_name);
			if (doc_load_file(path, DOC_YAML, &d, &e) != 0) {
				fprintf(stderr, "%s\n", e.msg);
				return NULL;
			}
			for (j = 0; j < doc_set_count(d); j++)
				json_array_append(all, doc_set_get(d, j));
			doc_set_free(d);
		}
		free(ents[i]);
	}
	free(ents);
	return all;
}

/* The container of the workload in a snapshot document. */
static json_t *
container(json_t *cfg)
{
	json_t *o;
	size_t i;

	json_array_foreach(json_object_get(cfg, "objects"), i, o) {
		json_t *spec;

		if (strcmp(json_string_value(json_object_get(o, "kind")), "Deployment") != 0)
			continue;
		spec = json_object_get(json_object_get(json_object_get(o, "spec"), "template"), "spec");
		return json_array_get(json_object_get(spec, "containers"), 0);
	}
	return NULL;
}

/* Secrets a careless pull could carry: an env value, a literal --api-key, the
 * raw Secret (base64 of the fixture canary) in place of its HMAC, and log lines. */
static int
plant(json_t *cfg, json_t *ev, const char *state)
{
	json_t *c = container(cfg), *objs, *o, *raw = NULL, *found = NULL;
	size_t i;

	if (c == NULL)
		return -1;
	json_array_append_new(json_object_get(c, "env"), json_pack("{ss ss}", "name", "INTERNAL_API_KEY",
	    "value", CANARY_ENV));
	json_array_append_new(json_object_get(c, "args"), json_string("--api-key"));
	json_array_append_new(json_object_get(c, "args"), json_string(CANARY_ARG));
	objs = state_objects(state);
	json_array_foreach(objs, i, raw) {
		if (strcmp(json_string_value(json_object_get(raw, "kind")), "Secret") == 0) {
			found = raw;
			break;
		}
	}
	if (found == NULL) {
		json_decref(objs);
		return -1;
	}
	json_array_foreach(json_object_get(cfg, "objects"), i, o)
		if (strcmp(json_string_value(json_object_get(o, "kind")), "Secret") == 0)
			json_object_set(o, "data", json_object_get(found, "data"));
	json_decref(objs);
	json_array_append_new(json_object_get(ev, "logs"), json_pack("{ss ss sI s[sss] sI}",
	    "pod", "vllm-llama-pod-0", "container", "inference-server", "bytes", (json_int_t)300,
	    "lines", "INFO model=meta-llama/Llama-3.1-8B-Instruct",
	    "DEBUG headers {\"Authorization\": \"Bearer " CANARY_LOG "\"}",
	    "DEBUG secret value " CANARY " HF_TOKEN=" CANARY,
	    "dropped", (json_int_t)0));
	return 0;
}

static int
build_clean(const char *state, json_t **cfg, json_t **ev)
{
	json_t *objs = state_objects(state), *raw = NULL;
	struct err e = ERR_INIT;
	int rc;

	rc = collect_raw_from_objects(objs, "sim", "llm", "Deployment", "vllm-llama", &raw, &e) != 0 ||
	    collect_build(raw, seal, cfg, ev, &e) != 0 ? -1 : 0;
	json_decref(raw);
	json_decref(objs);
	return rc;
}

static int
build(const char *state, json_t **cfg, json_t **ev)
{
	json_t *objs = state_objects(state), *raw = NULL;
	struct err e = ERR_INIT;
	int rc;

	rc = collect_raw_from_objects(objs, "sim", "llm", "Deployment", "vllm-llama", &raw, &e) != 0 ||
	    collect_build(raw, seal, cfg, ev, &e) != 0 || plant(*cfg, *ev, state) != 0 ? -1 : 0;
	if (rc != 0)
		fprintf(stderr, "build %s: %s\n", state, e.msg);
	json_decref(raw);
	json_decref(objs);
	return rc;
}

static int
setup_all(void **state)
{
	struct err e = ERR_INIT;
	char key[300];

	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/skewd-test-bundle-XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	snprintf(key, sizeof(key), "%s/seal.key", tmpdir);
	unsetenv("SKEWD_SEAL_KEY");
	if (engine_init(&e) != 0 || seal_open(key, &seal, &e) != 0) {
		fprintf(stderr, "setup: %s\n", e.msg);
		return -1;
	}
	unlink(key);
	if (build("lastgood", &base_cfg, &base_ev) != 0 || build("current", &cur_cfg, &cur_ev) != 0)
		return -1;
	return 0;
}

static int
teardown_all(void **state)
{
	(void)state;
	json_decref(base_cfg);
	json_decref(base_ev);
	json_decref(cur_cfg);
	json_decref(cur_ev);
	seal_close(seal);
	return rmdir(tmpdir);
}

static json_t *
run_diff(void)
{
	struct diff_rules *rules = NULL;
	struct diff_side *a = NULL, *b = NULL;
	struct diff_result *res = NULL;
	struct err e = ERR_INIT;
	json_t *out;

	if (diff_rules_load(NULL, &rules, &e) != 0 ||
	    diff_side_from_values(&base_cfg, 1, "baseline", &a, &e) != 0 ||
	    diff_side_from_values(&cur_cfg, 1, "current", &b, &e) != 0 ||
	    diff_run(rules, a, b, &res, &e) != 0)
		fail_msg("diff: %s", e.msg);
	out = diff_result_to_json(res);
	diff_result_free(res);
	diff_side_free(a);
	diff_side_free(b);
	diff_rules_free(rules);
	return out;
}

struct file {
	char name[128];
	char *data;
	size_t len;
};

/* Reads every entry of an archive; checks each header on the way. */
static size_t
read_archive(const char *path, const char *id, struct file *files, size_t max)
{
	struct archive *a = archive_read_new();
	struct archive_entry *ent;
	char prefix[64];
	size_t n = 0;

	snprintf(prefix, sizeof(prefix), "skewd-bundle-%s/", id);
	archive_read_support_filter_all(a);
	archive_read_support_format_all(a);
	assert_int_equal(archive_read_open_filename(a, path, 10240), ARCHIVE_OK);
	while (archive_read_next_header(a, &ent) == ARCHIVE_OK) {
		const char *name = archive_entry_pathname(ent), *base;
		la_int64_t size = archive_entry_size(ent);

		assert_true(n < max);
		assert_int_equal(archive_entry_filetype(ent), AE_IFREG);
		assert_int_equal(archive_entry_perm(ent), 0644);
		assert_int_equal(archive_entry_uid(ent), 0);
		assert_int_equal(archive_entry_gid(ent), 0);
		assert_true(archive_entry_uname(ent) == NULL || archive_entry_uname(ent)[0] == '\0');
		assert_true(archive_entry_gname(ent) == NULL || archive_entry_gname(ent)[0] == '\0');
		assert_int_equal(archive_entry_mtime(ent), CREATED);
		assert_null(archive_entry_symlink(ent));
		assert_null(archive_entry_hardlink(ent));
		assert_int_equal(strncmp(name, prefix, strlen(prefix)), 0);
		base = name + strlen(prefix);
		assert_null(strchr(base, '/'));
		assert_null(strstr(base, ".."));
		assert_true(strlen(base) > 0 && strlen(base) < sizeof(files[n].name));
		snprintf(files[n].name, sizeof(files[n].name), "%s", base);
		files[n].data = calloc(1, (size_t)size + 1);
		assert_non_null(files[n].data);
		assert_int_equal(archive_read_data(a, files[n].data, (size_t)size), size);
		files[n].len = (size_t)size;
		n++;
	}
	assert_int_equal(archive_read_free(a), ARCHIVE_OK);
	return n;
}

static const struct file *
find(const struct file *files, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(files[i].name, name) == 0)
			return &files[i];
	fail_msg("no '%s' in the bundle", name);
	abort();  /* not reached: fail_msg() ends the test */
}

static int
contains(const struct file *f, const char *needle)
{
	size_t n = strlen(needle), i;

	if (n == 0 || n > f->len)
		return 0;
	for (i = 0; i + n <= f->len; i++)
		if (memcmp(f->data + i, needle, n) == 0)
			return 1;
	return 0;
}

/* Every encoding of a secret a file could carry: raw (also what URL- and JSON-
 * escaping leave of these characters), base64 at the three alignments, each
 * byte %-encoded, each byte \u-escaped. */
static void
assert_absent(const struct file *files, size_t n, const char *secret)
{
	char forms[8][512];
	size_t nforms = 0, i, k, len = strlen(secret);

	snprintf(forms[nforms++], sizeof(forms[0]), "%s", secret);
	for (k = 0; k < 3; k++) {
		unsigned char in[256], out[512];
		int olen;
		size_t skip = k > 0 ? 4 : 0;

		memset(in, 'x', k);
		memcpy(in + k, secret, len);
		olen = EVP_EncodeBlock(out, in, (int)(k + len));
		out[olen - 4] = '\0';
		snprintf(forms[nforms++], sizeof(forms[0]), "%s", (char *)out + skip);
	}
	forms[nforms][0] = '\0';
	for (i = 0; i < len; i++)
		snprintf(forms[nforms] + 3 * i, 4, "%%%02X", (unsigned char)secret[i]);
	nforms++;
	forms[nforms][0] = '\0';
	for (i = 0; i < len && 6 * i + 7 < sizeof(forms[0]); i++)
		snprintf(forms[nforms] + 6 * i, 7, "\\u%04x", (unsigned char)secret[i]);
	nforms++;
	for (i = 0; i < n; i++)
		for (k = 0; k < nforms; k++)
			if (contains(&files[i], forms[k]))
				fail_msg("'%s' (as '%s') is in %s", secret, forms[k], files[i].name);
}

static void
free_files(struct file *files, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(files[i].data);
}

static void
remove_bundle(const char *file)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", tmpdir, file);
	/* SKEWD_BUNDLE_KEEP=DIR keeps the bundles there, to look at them. */
	if (getenv("SKEWD_BUNDLE_KEEP") != NULL) {
		char keep[1024];

		snprintf(keep, sizeof(keep), "%s/%s", getenv("SKEWD_BUNDLE_KEEP"), file);
		assert_int_equal(rename(path, keep), 0);
		return;
	}
	assert_int_equal(unlink(path), 0);
}

static json_t *
metrics(void)
{
	return json_loads("{\"baseline\": {\"figures\": {\"generation_tokens_per_s\": {\"value\": 410.5, \"unit\": \"tokens/s\"},"
	    " \"e2e_latency_p99\": {\"value\": 1.2, \"unit\": \"s\"}}, \"gpus\": [{\"utilization_percent\": 80, \"fb_used_mib\": 70000}]},"
	    " \"current\": {\"figures\": {\"generation_tokens_per_s\": {\"value\": 250.25, \"unit\": \"tokens/s\"},"
	    " \"e2e_latency_p99\": {\"absent\": \"needs two scrapes\"}}, \"gpus\": [{\"utilization_percent\": 97, \"fb_used_mib\": 21000}]}}",
	    0, NULL);
}

static void
test_full_bundle(void **state)
{
	static const char *const want[] = BUNDLE_FILES;
	struct bundle_input in = BUNDLE_INPUT_INIT;
	struct err e = ERR_INIT;
	struct file files[32];
	json_t *meta = NULL, *diff = run_diff(), *m = metrics(), *verdict, *bj, *rj, *dj, *c;
	const char *id, *file;
	char path[512], cmd[1024];
	const char *line;
	size_t n, i, records_env = 0;

	(void)state;
	verdict = json_pack("{ss s[s]}", "verdict", "skew_likely", "reasons",
	    "generation tokens/s -39% while request rate is flat: load does not explain it");
	in.baseline = base_cfg;
	in.current = cur_cfg;
	in.baseline_evidence = base_ev;
	in.current_evidence = cur_ev;
	in.diff = diff;
	in.metrics = m;
	in.verdict = verdict;
	in.baseline_label = "snapshot 12";
	in.current_label = "snapshot 19";
	in.baseline_marked_at = CREATED - 86400;
	in.baseline_note = "after the v0.10.0 rollout";
	in.created = CREATED;
	if (bundle_write(&in, tmpdir, &meta, &e) != 0)
		fail_msg("bundle_write: %s", e.msg);
	id = json_string_value(json_object_get(meta, "id"));
	file = json_string_value(json_object_get(meta, "file"));
	assert_true(bundle_id_valid(id));
	snprintf(path, sizeof(path), "skewd-bundle-%s.tar.gz", id);
	assert_string_equal(file, path);
	snprintf(path, sizeof(path), "%s/%s", tmpdir, file);
	n = read_archive(path, id, files, 32);

	/* Exactly the files, in order. */
	assert_int_equal(n, BUNDLE_NFILES);
	for (i = 0; i < n; i++)
		assert_string_equal(files[i].name, want[i]);

	/* MANIFEST.sha256 covers every other file, in sha256sum's format. */
	line = files[n - 1].data;
	for (i = 0; i + 1 < n; i++) {
		char hex[65], expect[320];

		doc_sha256_hex(files[i].data, files[i].len, hex);
		snprintf(expect, sizeof(expect), "%s  %.200s\n", hex, files[i].name);
		assert_int_equal(strncmp(line, expect, strlen(expect)), 0);
		line += strlen(expect);
	}
	assert_string_equal(line, "");
	/* And sha256sum itself agrees. */
	snprintf(cmd, sizeof(cmd), "cd '%s' && mkdir x && tar -xzf '%s' -C x && cd x/skewd-bundle-%s && "
	    "sha256sum --strict --quiet -c MANIFEST.sha256 && cd ../.. && rm -rf x", tmpdir, file, id);
	assert_int_equal(system(cmd), 0);

	/* No canary in any form in any file. */
	assert_absent(files, n, CANARY);
	assert_absent(files, n, CANARY_ENV);
	assert_absent(files, n, CANARY_ARG);
	assert_absent(files, n, CANARY_LOG);

	/* SUMMARY.md: identity, image + digest, args, env, GPU, metrics, verdict, diff. */
	{
		const struct file *s = find(files, n, "SUMMARY.md");

		assert_true(contains(s, "| namespace | `llm` |"));
		assert_true(contains(s, "| workload | `Deployment` `vllm-llama` |"));
		assert_true(contains(s, "`vllm-llama-5f8b7c9d44-"));
		assert_true(contains(s, "`docker.io/vllm/vllm-openai:v0.10.0`"));
		assert_true(contains(s, "`sha256:78c33460"));
		assert_true(contains(s, "`--max-model-len=8192`"));
		assert_true(contains(s, "| `INTERNAL_API_KEY` | `[REDACTED:"));
		assert_true(contains(s, "| `HUGGING_FACE_HUB_TOKEN` | from `{\"secretKeyRef\":"));
		assert_true(contains(s, "| `vllm-llama-5f8b7c9d44-q8vzc` | `gke-llm-l4-pool-c45f` | `NVIDIA-L4` | 4 |"));
		assert_true(contains(s, "`535.104.05`"));
		assert_true(contains(s, "| generation tokens/s | 410.5 | 250.25 |"));
		assert_true(contains(s, "| GPU utilisation (%, mean) | 80 | 97 |"));
		assert_true(contains(s, "`skew_likely`"));
		assert_true(contains(s, "max_model_len"));
		assert_true(contains(s, "after the v0.10.0 rollout"));
	}
	/* diff.patch shows the changed argument; the YAML files are the redacted sides. */
	assert_true(contains(find(files, n, "diff.patch"), "-        - --max-model-len=32768"));
	assert_true(contains(find(files, n, "current.yaml"), "schema: skewd.snapshot/v1"));
	assert_true(contains(find(files, n, "baseline.yaml"), "--dtype=bfloat16"));

	/* The same secret on both sides has the same token: the diff has no change for it. */
	dj = json_loadb(find(files, n, "diff.json")->data, find(files, n, "diff.json")->len, 0, NULL);
	assert_non_null(dj);
	json_array_foreach(json_object_get(dj, "changes"), i, c) {
		const char *p = json_string_value(json_object_get(c, "path"));

		assert_null(strstr(p, "INTERNAL_API_KEY"));
		assert_null(strstr(p, "api_key"));
	}
	json_decref(dj);

	/* bundle.json parses and holds the same facts; redaction.json names places, not values. */
	bj = json_loadb(find(files, n, "bundle.json")->data, find(files, n, "bundle.json")->len, 0, NULL);
	assert_non_null(bj);
	assert_string_equal(json_string_value(json_object_get(bj, "id")), id);
	assert_string_equal(json_string_value(json_object_get(bj, "schema")), "skewd.bundle/v1");
	assert_int_equal(json_array_size(json_object_get(json_object_get(bj, "pods"), "current")), 2);
	assert_int_equal(json_array_size(json_object_get(bj, "truncated")), 0);
	json_decref(bj);
	rj = json_loadb(find(files, n, "redaction.json")->data, find(files, n, "redaction.json")->len, 0, NULL);
	assert_non_null(rj);
	json_array_foreach(json_object_get(rj, "records"), i, c) {
		const char *ptr = json_string_value(json_object_get(c, "pointer"));

		assert_non_null(json_object_get(c, "rule"));
		if (ptr != NULL && strstr(ptr, "/env/") != NULL)
			records_env++;
	}
	assert_int_equal(records_env, 2);
	json_decref(rj);

	assert_int_equal(json_array_size(json_object_get(meta, "files")), BUNDLE_NFILES);
	free_files(files, n);
	remove_bundle(file);
	json_decref(meta);
	json_decref(diff);
	json_decref(m);
	json_decref(verdict);
}

/* A secret that changed: the caller's diff (of the raw sides) quotes both values;
 * the bundle shows two different tokens and neither value. */
static void
test_changed_secret(void **state)
{
	struct bundle_input in = BUNDLE_INPUT_INIT;
	struct err e = ERR_INIT;
	struct file files[32];
	json_t *cur = json_deep_copy(cur_cfg), *env, *item, *args, *diff, *meta = NULL, *dj, *c;
	char path[512];
	size_t n, i, secret_changes = 0;

	(void)state;
	env = json_object_get(container(cur), "env");
	json_array_foreach(env, i, item)
		if (strcmp(json_string_value(json_object_get(item, "name")), "INTERNAL_API_KEY") == 0)
			json_object_set_new(item, "value", json_string(CANARY_ENV "-rotated"));
	args = json_object_get(container(cur), "args");
	json_array_set_new(args, json_array_size(args) - 1, json_string(CANARY_ARG "rotated"));
	{
		json_t *keep = cur_cfg;

		cur_cfg = cur;
		diff = run_diff();
		cur_cfg = keep;
	}
	in.baseline = base_cfg;
	in.current = cur;
	in.diff = diff;
	in.created = CREATED;
	if (bundle_write(&in, tmpdir, &meta, &e) != 0)
		fail_msg("bundle_write: %s", e.msg);
	snprintf(path, sizeof(path), "%s/%s", tmpdir, json_string_value(json_object_get(meta, "file")));
	n = read_archive(path, json_string_value(json_object_get(meta, "id")), files, 32);
	assert_absent(files, n, CANARY_ENV);
	assert_absent(files, n, CANARY_ENV "-rotated");
	assert_absent(files, n, CANARY_ARG);
	assert_absent(files, n, CANARY_ARG "rotated");
	dj = json_loadb(find(files, n, "diff.json")->data, find(files, n, "diff.json")->len, 0, NULL);
	assert_non_null(dj);
	json_array_foreach(json_object_get(dj, "changes"), i, c) {
		const char *b = json_string_value(json_object_get(c, "before"));
		const char *a = json_string_value(json_object_get(c, "after"));

		if (b != NULL && a != NULL && strncmp(b, "[REDACTED:", 10) == 0) {
			assert_int_equal(strncmp(a, "[REDACTED:", 10), 0);
			assert_string_not_equal(a, b);
			assert_non_null(strstr(json_string_value(json_object_get(c, "summary")), "secret value redacted"));
			secret_changes++;
		}
	}
	/* The env value's change and the rotated --api-key's: the engine keeps a
	 * salted hash of a secret flag, so a rotation shows without the value. */
	assert_int_equal(secret_changes, 2);
	json_decref(dj);
	free_files(files, n);
	remove_bundle(json_string_value(json_object_get(meta, "file")));
	json_decref(meta);
	json_decref(diff);
	json_decref(cur);
}

/* No last good and no diff given: the bundle says so and diffs against nothing. */
static void
test_no_baseline(void **state)
{
	struct bundle_input in = BUNDLE_INPUT_INIT;
	struct err e = ERR_INIT;
	struct file files[32];
	json_t *meta = NULL;
	char path[512];
	size_t n;

	(void)state;
	in.current = cur_cfg;
	in.current_evidence = cur_ev;
	in.created = CREATED;
	if (bundle_write(&in, tmpdir, &meta, &e) != 0)
		fail_msg("bundle_write: %s", e.msg);
	snprintf(path, sizeof(path), "%s/%s", tmpdir, json_string_value(json_object_get(meta, "file")));
	n = read_archive(path, json_string_value(json_object_get(meta, "id")), files, 32);
	assert_int_equal(n, BUNDLE_NFILES);
	assert_true(contains(find(files, n, "SUMMARY.md"), "No last good snapshot is marked"));
	assert_true(contains(find(files, n, "baseline.yaml"), "# no last good snapshot"));
	assert_true(contains(find(files, n, "diff.patch"), "+++ current.yaml"));
	assert_absent(files, n, CANARY);
	assert_absent(files, n, CANARY_ENV);
	assert_absent(files, n, CANARY_ARG);
	free_files(files, n);
	remove_bundle(json_string_value(json_object_get(meta, "file")));
	json_decref(meta);
}

static size_t
dir_entries(void)
{
	DIR *d = opendir(tmpdir);
	struct dirent *de;
	size_t n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

/* Over the cap, log lines go first and are recorded; far over, it fails. */
static void
test_size_cap(void **state)
{
	struct bundle_input in = BUNDLE_INPUT_INIT;
	struct err e = ERR_INIT;
	json_t *meta = NULL, *full = NULL, *tr;
	size_t total = 0, i;

	(void)state;
	in.baseline = base_cfg;
	in.current = cur_cfg;
	in.baseline_evidence = base_ev;
	in.current_evidence = cur_ev;
	in.created = CREATED;
	assert_int_equal(bundle_write(&in, tmpdir, &full, &e), 0);
	for (i = 0; i < json_array_size(json_object_get(full, "files")); i++)
		total += (size_t)json_integer_value(json_object_get(json_array_get(json_object_get(full, "files"), i),
		    "bytes"));
	remove_bundle(json_string_value(json_object_get(full, "file")));
	in.max_bytes = total - 1;
	assert_int_equal(bundle_write(&in, tmpdir, &meta, &e), 0);
	tr = json_object_get(meta, "truncated");
	assert_true(json_array_size(tr) >= 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(tr, 0), "what")), "log lines");
	remove_bundle(json_string_value(json_object_get(meta, "file")));
	json_decref(meta);
	meta = NULL;
	in.max_bytes = 1000;
	assert_int_equal(bundle_write(&in, tmpdir, &meta, &e), -1);
	assert_int_equal(e.code, ERR_TOO_LARGE);
	assert_null(meta);
	assert_int_equal(dir_entries(), 0);
	json_decref(full);
}

/* The file system refuses the write halfway (RLIMIT_FSIZE): no final file, no
 * temporary file left behind. */
static void
test_atomic_failure(void **state)
{
	struct bundle_input in = BUNDLE_INPUT_INIT;
	struct err e = ERR_INIT;
	struct rlimit old, lim;
	json_t *meta = NULL;
	int rc;

	(void)state;
	in.baseline = base_cfg;
	in.current = cur_cfg;
	in.baseline_evidence = base_ev;
	in.current_evidence = cur_ev;
	in.created = CREATED;
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_IGN);
	lim = old;
	lim.rlim_cur = 2048;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	rc = bundle_write(&in, tmpdir, &meta, &e);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_DFL);
	assert_int_equal(rc, -1);
	assert_int_equal(e.code, ERR_IO);
	assert_null(meta);
	assert_int_equal(dir_entries(), 0);
	/* The same input writes fine without the limit. */
	assert_int_equal(bundle_write(&in, tmpdir, &meta, &e), 0);
	assert_int_equal(dir_entries(), 1);
	remove_bundle(json_string_value(json_object_get(meta, "file")));
	json_decref(meta);
}

/* Labels and notes come from people: they cannot break SUMMARY.md's tables or
 * inject HTML; a folder that does not exist is an error with no file. */
static void
test_hostile_labels_and_dir(void **state)
{
	struct bundle_input in = BUNDLE_INPUT_INIT;
	struct err e = ERR_INIT;
	struct file files[32];
	json_t *meta = NULL;
	char path[512];
	size_t n;

	(void)state;
	in.baseline = base_cfg;
	in.current = cur_cfg;
	in.created = CREATED;
	in.baseline_label = "a | b";
	in.baseline_note = "x | <script>alert(1)</script>\n| fake | row |`y`";
	assert_int_equal(bundle_write(&in, "/nonexistent/skewd-bundles", &meta, &e), -1);
	assert_int_equal(e.code, ERR_IO);
	assert_null(meta);
	if (bundle_write(&in, tmpdir, &meta, &e) != 0)
		fail_msg("bundle_write: %s", e.msg);
	snprintf(path, sizeof(path), "%s/%s", tmpdir, json_string_value(json_object_get(meta, "file")));
	n = read_archive(path, json_string_value(json_object_get(meta, "id")), files, 32);
	assert_true(contains(find(files, n, "SUMMARY.md"),
	    "| last good | `a \\| b`, marked \xe2\x80\x94: ``x \\| <script>alert(1)</script> \\| fake \\| row \\|`y` `` |\n"));
	assert_false(contains(find(files, n, "SUMMARY.md"), "\n| fake"));
	free_files(files, n);
	remove_bundle(json_string_value(json_object_get(meta, "file")));
	json_decref(meta);
}

struct writer {
	json_t *meta;
	int rc;
};

static void *
write_one(void *arg)
{
	struct writer *w = arg;
	struct bundle_input in = BUNDLE_INPUT_INIT;
	struct err e = ERR_INIT;

	in.baseline = base_cfg;
	in.current = cur_cfg;
	in.baseline_evidence = base_ev;
	in.current_evidence = cur_ev;
	in.created = CREATED;
	w->rc = bundle_write(&in, tmpdir, &w->meta, &e);
	return NULL;
}

/* Four threads write bundles of the same inputs at once: four distinct bundles
 * with the same files (the contents depend on the inputs only, not the id...
 * except SUMMARY.md and bundle.json, which name it). */
static void
test_threads(void **state)
{
	pthread_t t[4];
	struct writer w[4];
	int i, j;

	(void)state;
	memset(w, 0, sizeof(w));
	for (i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, write_one, &w[i]), 0);
	for (i = 0; i < 4; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	for (i = 0; i < 4; i++) {
		json_t *fi = json_object_get(w[i].meta, "files");

		assert_int_equal(w[i].rc, 0);
		for (j = 0; j < i; j++) {
			json_t *fj = json_object_get(w[j].meta, "files");

			assert_string_not_equal(json_string_value(json_object_get(w[i].meta, "id")),
			    json_string_value(json_object_get(w[j].meta, "id")));
			/* diff.json .. redaction.json (indexes 2..7) are the same bytes. */
			assert_true(json_equal(json_array_get(fi, 2), json_array_get(fj, 2)));
			assert_true(json_equal(json_array_get(fi, 7), json_array_get(fj, 7)));
		}
	}
	assert_int_equal(dir_entries(), 4);
	for (i = 0; i < 4; i++) {
		remove_bundle(json_string_value(json_object_get(w[i].meta, "file")));
		json_decref(w[i].meta);
	}
}

/* The collector's own documents of both states (Secret data as HMACs, no
 * planted values) have nothing to redact: redaction changes not one value. */
static void
test_no_false_positives(void **state)
{
	static const char *const states[] = { "lastgood", "current" };
	struct redact *r = NULL;
	struct err e = ERR_INIT;
	size_t i;

	(void)state;
	assert_int_equal(redact_new(&r, &e), 0);
	for (i = 0; i < 2; i++) {
		json_t *cfg = NULL, *ev = NULL, *rc = NULL, *re = NULL;

		assert_int_equal(build_clean(states[i], &cfg, &ev), 0);
		assert_int_equal(redact_learn(r, cfg, &e), 0);
		assert_int_equal(redact_learn(r, ev, &e), 0);
		assert_int_equal(redact_json(r, cfg, "current.yaml", &rc, &e), 0);
		assert_int_equal(redact_json(r, ev, "bundle.json", &re, &e), 0);
		assert_true(json_equal(cfg, rc));
		assert_true(json_equal(ev, re));
		json_decref(cfg);
		json_decref(ev);
		json_decref(rc);
		json_decref(re);
	}
	assert_int_equal(redact_value_count(r), 0);
	redact_free(r);
}

static void
test_ids(void **state)
{
	char a[BUNDLE_ID_CHARS + 1], b[BUNDLE_ID_CHARS + 1];
	struct err e = ERR_INIT;

	(void)state;
	assert_int_equal(bundle_id_new(a, &e), 0);
	assert_int_equal(bundle_id_new(b, &e), 0);
	assert_int_equal(strlen(a), BUNDLE_ID_CHARS);
	assert_string_not_equal(a, b);
	assert_true(bundle_id_valid(a));
	assert_false(bundle_id_valid("../../etc/passwd"));
	assert_false(bundle_id_valid("ABCDEFGHIJKLMNOPQRSTUVWXYZ"));
	assert_false(bundle_id_valid(""));
	assert_false(bundle_id_valid(NULL));
	a[3] = '1';
	assert_false(bundle_id_valid(a));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ids),
		cmocka_unit_test(test_no_false_positives),
		cmocka_unit_test(test_full_bundle),
		cmocka_unit_test(test_changed_secret),
		cmocka_unit_test(test_no_baseline),
		cmocka_unit_test(test_size_cap),
		cmocka_unit_test(test_atomic_failure),
		cmocka_unit_test(test_hostile_labels_and_dir),
		cmocka_unit_test(test_threads),
	};

	return cmocka_run_group_tests(tests, setup_all, teardown_all);
}
