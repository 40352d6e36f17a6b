/*
 * test_bundles.c - evidence bundles through the real server, from the
 * simulated cluster (kubesim, in this process): pull "lastgood", switch the
 * fixture to "current", pull again, and bundle the two snapshots. The archive
 * downloaded through the API and through the public short link /b/{id} is the
 * same file (size and SHA-256 as announced); libarchive reads it: only
 * regular files with safe names under one folder, exactly the bundle's file
 * set, MANIFEST.sha256 verifies every file, and the fixture's canary Secret
 * value and the registered bearer token appear in no file in any form (raw,
 * base64 at three alignments, URL-encoded, JSON-escaped). Roles: a viewer
 * cannot create, an editor cannot delete. Deleting removes the file and
 * breaks the link.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>
#include <openssl/evp.h>

#include "clusterkit.h"
#include "testkit.h"
#include "util/banned.h"

#define VLLM "/api/v1/targets/good/llm/deployment/vllm-llama"

static struct tk_server srv;
static struct ck_sim good;
static char *viewer, *editor, *admin;
static long long snap_good, snap_current;

static int
setup(void **state)
{
	(void)state;
	if (ck_sim_start(&good) < 0)
		return -1;
	if (tk_start(&srv, "collect_interval_s: 0\ncollect_timeout_ms: 5000\nbundle_retention_days: 30\n") < 0)
		return -1;
	viewer = tk_token(&srv, "viewer-bot", "viewer");
	editor = tk_token(&srv, "editor-bot", "editor");
	admin = tk_token(&srv, "admin-bot", "admin");
	if (viewer == NULL || editor == NULL || admin == NULL)
		return -1;
	if (ck_register(&srv, admin, "good", kubesim_url(good.k), good.ca_pem, CK_CANARY_TOKEN) != 201)
		return -1;
	return 0;
}

static int
teardown(void **state)
{
	int ret = 0;

	(void)state;
	/* A sanitizer report or an unclean exit of the server fails the group. */
	if (tk_stop(&srv) != 0) {
		fprintf(stderr, "skewd did not stop cleanly; see %s\n", srv.stderr_path);
		ret = -1;
	}
	free(viewer);
	free(editor);
	free(admin);
	tk_cleanup(&srv);
	ck_sim_stop(&good);
	free(ck_seen);
	return ret;
}

static long long
collect_vllm(void)
{
	struct tk_resp r;
	long long id;

	if (ck_req(&srv, "POST", VLLM "/collect", editor, NULL, &r) < 0 || r.status != 200)
		fail_msg("collect: %ld %s", r.status, r.body);
	id = json_integer_value(json_object_get(json_array_get(json_object_get(r.json, "snapshots"), 0), "id"));
	tk_resp_free(&r);
	assert_true(id > 0);
	return id;
}

static void
sha256_hex(const void *p, size_t n, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0, i;

	assert_int_equal(EVP_Digest(p, n, md, &len, EVP_sha256(), NULL), 1);
	for (i = 0; i < len; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

struct file {
	char name[256];
	char *data;
	size_t len;
};

/* Reads every entry of a .tar.gz in memory; checks types and names as it goes. */
static size_t
read_archive(const char *data, size_t len, const char *id, struct file *files, size_t max)
{
	struct archive *a = archive_read_new();
	struct archive_entry *ent;
	char prefix[128];
	size_t n = 0;
	int rc;

	snprintf(prefix, sizeof(prefix), "skewd-bundle-%s/", id);
	assert_non_null(a);
	archive_read_support_filter_gzip(a);
	archive_read_support_format_tar(a);
	assert_int_equal(archive_read_open_memory(a, data, len), ARCHIVE_OK);
	while ((rc = archive_read_next_header(a, &ent)) == ARCHIVE_OK) {
		const char *name = archive_entry_pathname(ent), *base;
		la_int64_t size = archive_entry_size(ent);
		size_t i;

		if (archive_entry_filetype(ent) != AE_IFREG)
			fail_msg("archive entry '%s' is not a regular file", name);
		if (archive_entry_symlink(ent) != NULL || archive_entry_hardlink(ent) != NULL)
			fail_msg("archive entry '%s' is a link", name);
		if (strncmp(name, prefix, strlen(prefix)) != 0)
			fail_msg("archive entry '%s' is not under %s", name, prefix);
		base = name + strlen(prefix);
		if (base[0] == '\0' || base[0] == '.' || strlen(base) > 64)
			fail_msg("archive entry '%s' has an unsafe name", name);
		for (i = 0; base[i] != '\0'; i++) {
			char c = base[i];

			if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			    c == '.' || c == '_' || c == '-'))
				fail_msg("archive entry '%s' has an unsafe name", name);
		}
		assert_true((archive_entry_perm(ent) & 0022) == 0);
		assert_true(n < max);
		assert_true(size >= 0);
		snprintf(files[n].name, sizeof(files[n].name), "%s", base);
		files[n].data = malloc((size_t)size + 1);
		assert_non_null(files[n].data);
		assert_int_equal(archive_read_data(a, files[n].data, (size_t)size), size);
		files[n].data[size] = '\0';
		files[n].len = (size_t)size;
		n++;
	}
	assert_int_equal(rc, ARCHIVE_EOF);
	archive_read_free(a);
	return n;
}

static const struct file *
find(const struct file *files, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (strcmp(files[i].name, name) == 0)
			return &files[i];
	}
	return NULL;
}

/* find() for a file that must be there: the test stops when it is not. */
static const struct file *
must_find(const struct file *files, size_t n, const char *name)
{
	const struct file *f = find(files, n, name);

	if (f == NULL) {
		fprintf(stderr, "the bundle lacks %s\n", name);
		abort();
	}
	return f;
}

static void
check_no_canary(const char *what, const char *data, size_t len)
{
	const char *form;

	if ((form = ck_leak(data, len, CK_CANARY_SECRET)) != NULL)
		fail_msg("%s holds the canary Secret value (%s)", what, form);
	if ((form = ck_leak(data, len, CK_CANARY_TOKEN)) != NULL)
		fail_msg("%s holds the canary bearer token (%s)", what, form);
}

/* Checks a downloaded bundle completely. */
static void
check_bundle(const char *data, size_t len, const char *id, long long size, const char *sha, int two_sides)
{
	static const char *const want[] = { "SUMMARY.md", "bundle.json", "diff.json", "diff.patch",
		"baseline.yaml", "current.yaml", "metrics.json", "redaction.json", "MANIFEST.sha256" };
	struct file files[32];
	const struct file *manifest;
	char hex[65], line[512];
	size_t n, i, lines = 0;
	const char *p;

	assert_int_equal((long long)len, size);
	sha256_hex(data, len, hex);
	assert_string_equal(hex, sha);
	check_no_canary("the archive bytes", data, len);
	n = read_archive(data, len, id, files, 32);
	assert_int_equal(n, sizeof(want) / sizeof(want[0]));
	for (i = 0; i < n; i++) {
		if (find(files, n, want[i]) == NULL)
			fail_msg("the bundle lacks %s", want[i]);
		check_no_canary(files[i].name, files[i].data, files[i].len);
	}
	/* MANIFEST.sha256: "<hex>  <name>" for every other file, each verifying. */
	manifest = must_find(files, n, "MANIFEST.sha256");
	for (p = manifest->data; *p != '\0';) {
		const char *nl = strchr(p, '\n');
		size_t ll = nl != NULL ? (size_t)(nl - p) : strlen(p);
		const struct file *f;

		assert_true(ll < sizeof(line));
		memcpy(line, p, ll);
		line[ll] = '\0';
		p += ll + (nl != NULL);
		if (ll == 0)
			continue;
		assert_true(ll > 66);
		assert_memory_equal(line + 64, "  ", 2);
		f = must_find(files, n, line + 66);
		sha256_hex(f->data, f->len, hex);
		if (strncmp(hex, line, 64) != 0)
			fail_msg("MANIFEST.sha256 does not verify %s", f->name);
		lines++;
	}
	assert_int_equal(lines, n - 1);
	/* The summary is there to paste, and names the workload. */
	assert_non_null(strstr(must_find(files, n, "SUMMARY.md")->data, "vllm-llama"));
	if (two_sides) {
		/* The rollout changed vllm-llama: the diff has changes and the verdict is there. */
		json_t *d = json_loads(must_find(files, n, "diff.json")->data, 0, NULL);
		json_t *m = json_loads(must_find(files, n, "metrics.json")->data, 0, NULL);

		assert_non_null(d);
		assert_non_null(m);
		assert_string_equal(json_string_value(json_object_get(d, "schema")), "skewd.diff/v1");
		assert_true(json_integer_value(json_object_get(json_object_get(d, "summary"), "changes")) > 0);
		assert_true(json_is_object(json_object_get(m, "verdict")));
		json_decref(d);
		json_decref(m);
	}
	for (i = 0; i < n; i++)
		free(files[i].data);
}

static void
test_bundle_end_to_end(void **state)
{
	struct tk_resp r, dl, pub;
	struct err e = ERR_INIT;
	json_t *body;
	char id[80], path[256], sha[65], location[256], cd[256], ct[64], file[600];
	long long size;
	struct stat st;

	(void)state;
	snap_good = collect_vllm();
	assert_int_equal(kubesim_set_state(good.k, "current", &e), 0);
	snap_current = collect_vllm();
	assert_true(snap_current != snap_good);

	/* A viewer may not make one. */
	body = json_pack("{s:I, s:I}", "from", (json_int_t)snap_good, "to", (json_int_t)snap_current);
	assert_int_equal(ck_req(&srv, "POST", VLLM "/bundles", viewer, body, &r), 0);
	assert_int_equal(r.status, 403);
	tk_resp_free(&r);

	assert_int_equal(ck_req(&srv, "POST", VLLM "/bundles", editor, body, &r), 0);
	json_decref(body);
	if (r.status != 201)
		fail_msg("POST bundles: %ld %s", r.status, r.body);
	snprintf(id, sizeof(id), "%s", json_string_value(json_object_get(r.json, "id")));
	assert_int_equal(strlen(id), 26);
	snprintf(path, sizeof(path), "/b/%s", id);
	assert_string_equal(json_string_value(json_object_get(r.json, "url")), path);
	snprintf(path, sizeof(path), "/api/v1/bundles/%s/download", id);
	assert_string_equal(json_string_value(json_object_get(r.json, "download")), path);
	assert_int_equal(json_integer_value(json_object_get(r.json, "from")), snap_good);
	assert_int_equal(json_integer_value(json_object_get(r.json, "to")), snap_current);
	assert_string_equal(json_string_value(json_object_get(r.json, "target")), "good/llm/deployment/vllm-llama");
	assert_string_equal(json_string_value(json_object_get(r.json, "created_by")), "editor-bot");
	assert_non_null(json_string_value(json_object_get(r.json, "created_at")));
	size = json_integer_value(json_object_get(r.json, "size"));
	assert_true(size > 0);
	snprintf(sha, sizeof(sha), "%s", json_string_value(json_object_get(r.json, "sha256")));
	assert_int_equal(strlen(sha), 64);
	assert_non_null(tk_header(&r, "Location", location, sizeof(location)));
	snprintf(path, sizeof(path), "/api/v1/bundles/%s", id);
	assert_string_equal(location, path);
	tk_resp_free(&r);

	/* The file is where the row says, and nothing half-written is beside it. */
	snprintf(file, sizeof(file), "%s/data/bundles/skewd-bundle-%s.tar.gz", srv.dir, id);
	assert_int_equal(stat(file, &st), 0);
	assert_int_equal((long long)st.st_size, size);

	/* Through the API, with a token. */
	snprintf(path, sizeof(path), "/api/v1/bundles/%s/download", id);
	assert_int_equal(tk_request(&srv, "GET", path, NULL, NULL, NULL, 0, 0, &dl), 0);
	assert_int_equal(dl.status, 401);
	tk_resp_free(&dl);
	assert_int_equal(tk_request(&srv, "GET", path, viewer, NULL, NULL, 0, 0, &dl), 0);
	assert_int_equal(dl.status, 200);
	assert_string_equal(tk_header(&dl, "Content-Type", ct, sizeof(ct)), "application/gzip");
	assert_non_null(tk_header(&dl, "Content-Disposition", cd, sizeof(cd)));
	snprintf(location, sizeof(location), "attachment; filename=\"skewd-bundle-%s.tar.gz\"", id);
	assert_string_equal(cd, location);
	check_bundle(dl.body, dl.len, id, size, sha, 1);

	/* The short link: no token, the same bytes. */
	snprintf(path, sizeof(path), "/b/%s", id);
	assert_int_equal(tk_request(&srv, "GET", path, NULL, NULL, NULL, 0, 0, &pub), 0);
	assert_int_equal(pub.status, 200);
	assert_int_equal(pub.len, dl.len);
	assert_memory_equal(pub.body, dl.body, dl.len);
	tk_resp_free(&pub);
	tk_resp_free(&dl);
	/* HEAD answers the size without a body. */
	assert_int_equal(tk_request(&srv, "HEAD", path, NULL, NULL, NULL, 0, 0, &pub), 0);
	assert_int_equal(pub.status, 200);
	assert_int_equal(pub.len, 0);
	tk_resp_free(&pub);
	/* Unknown and malformed ids are one 404. */
	assert_int_equal(tk_request(&srv, "GET", "/b/aaaaaaaaaaaaaaaaaaaaaaaaaa", NULL, NULL, NULL, 0, 0, &pub), 0);
	assert_int_equal(pub.status, 404);
	tk_resp_free(&pub);
	assert_int_equal(tk_request(&srv, "GET", "/b/..%2e", NULL, NULL, NULL, 0, TK_RAW_PATH, &pub), 0);
	assert_int_equal(pub.status, 404);
	tk_resp_free(&pub);
	assert_int_equal(tk_request(&srv, "GET", "/b/x'%20or%201=1", NULL, NULL, NULL, 0, TK_RAW_PATH, &pub), 0);
	assert_int_equal(pub.status, 404);
	tk_resp_free(&pub);

	/* Metadata and the list. */
	snprintf(path, sizeof(path), "/api/v1/bundles/%s", id);
	assert_int_equal(ck_req(&srv, "GET", path, viewer, NULL, &r), 0);
	assert_int_equal(r.status, 200);
	assert_string_equal(json_string_value(json_object_get(r.json, "sha256")), sha);
	assert_int_equal(json_array_size(json_object_get(r.json, "files")), 9);
	tk_resp_free(&r);
	assert_int_equal(ck_req(&srv, "GET", "/api/v1/bundles", viewer, NULL, &r), 0);
	assert_int_equal(r.status, 200);
	assert_int_equal(json_array_size(json_object_get(r.json, "bundles")), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(r.json, "bundles"), 0),
	    "id")), id);
	tk_resp_free(&r);

	/* An editor may not delete; an admin may, and the link breaks with the file. */
	assert_int_equal(ck_req(&srv, "DELETE", path, editor, NULL, &r), 0);
	assert_int_equal(r.status, 403);
	tk_resp_free(&r);
	assert_int_equal(ck_req(&srv, "DELETE", path, admin, NULL, &r), 0);
	assert_int_equal(r.status, 204);
	tk_resp_free(&r);
	assert_int_equal(stat(file, &st), -1);
	snprintf(path, sizeof(path), "/b/%s", id);
	assert_int_equal(tk_request(&srv, "GET", path, NULL, NULL, NULL, 0, 0, &pub), 0);
	assert_int_equal(pub.status, 404);
	tk_resp_free(&pub);
}

static void
test_bundle_defaults_and_errors(void **state)
{
	struct tk_resp r, dl;
	json_t *body;
	char path[256];

	(void)state;
	/* No body and no baseline: the latest pull alone. */
	assert_int_equal(ck_req(&srv, "POST", VLLM "/bundles", editor, NULL, &r), 0);
	if (r.status != 201)
		fail_msg("POST bundles without a body: %ld %s", r.status, r.body);
	assert_true(json_is_null(json_object_get(r.json, "from")));
	assert_int_equal(json_integer_value(json_object_get(r.json, "to")), snap_current);
	tk_resp_free(&r);

	/* No body: the baseline and the latest pull. */
	body = json_pack("{s:I, s:s}", "snapshot", (json_int_t)snap_good, "note", "before the rollout");
	assert_int_equal(ck_req(&srv, "PUT", VLLM "/baseline", editor, body, &r), 0);
	json_decref(body);
	if (r.status != 200 && r.status != 201)
		fail_msg("PUT baseline: %ld %s", r.status, r.body);
	tk_resp_free(&r);
	assert_int_equal(ck_req(&srv, "POST", VLLM "/bundles", editor, NULL, &r), 0);
	if (r.status != 201)
		fail_msg("POST bundles without a body: %ld %s", r.status, r.body);
	assert_int_equal(json_integer_value(json_object_get(r.json, "from")), snap_good);
	assert_int_equal(json_integer_value(json_object_get(r.json, "to")), snap_current);
	snprintf(path, sizeof(path), "%s", json_string_value(json_object_get(r.json, "url")));
	assert_int_equal(tk_request(&srv, "GET", path, NULL, NULL, NULL, 0, 0, &dl), 0);
	assert_int_equal(dl.status, 200);
	check_bundle(dl.body, dl.len, json_string_value(json_object_get(r.json, "id")),
	    json_integer_value(json_object_get(r.json, "size")), json_string_value(json_object_get(r.json, "sha256")),
	    0);
	tk_resp_free(&dl);
	tk_resp_free(&r);

	/* A snapshot of another target, an unknown one, a bad member, a bad type. */
	body = json_pack("{s:I}", "to", (json_int_t)999999);
	assert_int_equal(ck_req(&srv, "POST", VLLM "/bundles", editor, body, &r), 0);
	assert_int_equal(r.status, 404);
	tk_resp_free(&r);
	json_decref(body);
	body = json_pack("{s:s}", "to", "latest");
	assert_int_equal(ck_req(&srv, "POST", VLLM "/bundles", editor, body, &r), 0);
	assert_int_equal(r.status, 400);
	tk_resp_free(&r);
	json_decref(body);
	body = json_pack("{s:I}", "form", (json_int_t)1);
	assert_int_equal(ck_req(&srv, "POST", VLLM "/bundles", editor, body, &r), 0);
	assert_int_equal(r.status, 400);
	tk_resp_free(&r);
	json_decref(body);
	assert_int_equal(ck_req(&srv, "POST", "/api/v1/targets/good/llm/deployment/nope/bundles", editor, NULL, &r), 0);
	assert_int_equal(r.status, 404);
	tk_resp_free(&r);
	assert_int_equal(ck_req(&srv, "GET", "/api/v1/bundles/nope", viewer, NULL, &r), 0);
	assert_int_equal(r.status, 404);
	tk_resp_free(&r);
	assert_int_equal(ck_req(&srv, "GET", "/api/v1/bundles?limit=0", viewer, NULL, &r), 0);
	assert_int_equal(r.status, 400);
	tk_resp_free(&r);
}

/* No API answer and no log line held a canary. */
static void
test_canaries(void **state)
{
	char path[400], *log;

	(void)state;
	check_no_canary("an API answer", ck_seen, ck_seen_len);
	snprintf(path, sizeof(path), "%s", srv.stderr_path);
	log = tk_read_file(path, NULL);
	assert_non_null(log);
	check_no_canary("the server log", log, strlen(log));
	free(log);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bundle_end_to_end),
		cmocka_unit_test(test_bundle_defaults_and_errors),
		cmocka_unit_test(test_canaries),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
