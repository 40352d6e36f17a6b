/*
 * test_clusters.c - registering clusters against the real server and a
 * simulated API server (kubesim, in this process): by bearer token, by
 * client certificate, by kubeconfig; a refused exec kubeconfig; the wrong CA
 * (the pull fails with a TLS sentence recorded on the cluster's health);
 * only admins may register; refused URL schemes; bad bodies; PATCH and
 * DELETE; and no credential in any answer.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "clusterkit.h"
#include "testkit.h"
#include "util/banned.h"

static struct tk_server srv;
static struct ck_sim sim;
static char *viewer, *editor, *admin;

static int
setup(void **state)
{
	(void)state;
	if (ck_sim_start(&sim) < 0)
		return -1;
	if (tk_start(&srv, "collect_interval_s: 0\ncollect_timeout_ms: 5000\n") < 0)
		return -1;
	viewer = tk_token(&srv, "viewer-bot", "viewer");
	editor = tk_token(&srv, "editor-bot", "editor");
	admin = tk_token(&srv, "admin-bot", "admin");
	return viewer != NULL && editor != NULL && admin != NULL ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	free(viewer);
	free(editor);
	free(admin);
	tk_cleanup(&srv);
	ck_sim_stop(&sim);
	free(ck_seen);
	return 0;
}

/* Pulls `name` and expects 200 with at least one snapshot and no errors. */
static void
expect_pull_ok(const char *name)
{
	struct tk_resp r;
	json_t *snaps;

	assert_int_equal(ck_collect(&srv, editor, name, &r), 0);
	if (r.status != 200)
		fail_msg("collect %s: %ld %s", name, r.status, r.body);
	snaps = json_object_get(r.json, "snapshots");
	assert_true(json_array_size(snaps) >= 1);
	assert_int_equal(json_array_size(json_object_get(r.json, "errors")), 0);
	tk_resp_free(&r);
}

static void
test_register_by_token(void **state)
{
	json_t *body, *auth, *h;
	struct tk_resp r;
	char loc[128];

	(void)state;
	body = ck_cluster_body("by-token", kubesim_url(sim.k), sim.ca_pem, CK_CANARY_TOKEN);
	assert_int_equal(ck_req(&srv, "POST", "/api/v1/clusters", admin, body, &r), 0);
	json_decref(body);
	if (r.status != 201)
		fail_msg("register: %ld %s", r.status, r.body);
	assert_non_null(tk_header(&r, "Location", loc, sizeof(loc)));
	assert_string_equal(loc, "/api/v1/clusters/by-token");
	assert_string_equal(json_string_value(json_object_get(r.json, "name")), "by-token");
	assert_string_equal(json_string_value(json_object_get(r.json, "server")), kubesim_url(sim.k));
	/* The answer says which kind of auth, and nothing else about it. */
	auth = json_object_get(r.json, "auth");
	assert_int_equal(json_object_size(auth), 1);
	assert_string_equal(json_string_value(json_object_get(auth, "kind")), "token");
	assert_null(strstr(r.body, CK_CANARY_TOKEN));
	assert_true(json_is_null(json_object_get(json_object_get(r.json, "health"), "last_pull_at")));
	tk_resp_free(&r);

	/* The same name again is a conflict. */
	assert_int_equal(ck_register(&srv, admin, "by-token", kubesim_url(sim.k), sim.ca_pem,
	    CK_CANARY_TOKEN), 409);

	expect_pull_ok("by-token");
	h = ck_health(&srv, viewer, "by-token");
	assert_non_null(h);
	assert_true(json_is_string(json_object_get(h, "last_pull_at")));
	assert_true(json_is_string(json_object_get(h, "last_success_at")));
	assert_true(json_is_null(json_object_get(h, "last_error")));
	assert_true(json_is_integer(json_object_get(h, "last_duration_ms")));
	assert_non_null(json_string_value(json_object_get(h, "server_version")));
	assert_int_equal(strncmp(json_string_value(json_object_get(h, "server_version")), "v1.", 3), 0);
	json_decref(h);
}

static void
test_register_by_client_cert(void **state)
{
	json_t *body;
	struct tk_resp r;

	(void)state;
	body = json_pack("{s:s, s:s, s:s, s:{s:s, s:s}}",
	    "name", "by-cert", "server", kubesim_url(sim.k), "ca_pem", sim.ca_pem,
	    "auth", "client_cert_pem", sim.cert_pem, "client_key_pem", sim.key_pem);
	assert_int_equal(ck_req(&srv, "POST", "/api/v1/clusters", admin, body, &r), 0);
	json_decref(body);
	if (r.status != 201)
		fail_msg("register: %ld %s", r.status, r.body);
	assert_string_equal(json_string_value(json_object_get(json_object_get(r.json, "auth"), "kind")),
	    "client_cert");
	assert_null(strstr(r.body, "PRIVATE KEY"));
	{
		/* Not even the (public) client certificate is shown back. */
		char line[65];
		const char *second = strchr(sim.cert_pem, '\n');

		assert_non_null(second);
		snprintf(line, sizeof(line), "%.40s", second + 1);
		assert_null(strstr(r.body, line));
	}
	tk_resp_free(&r);
	expect_pull_ok("by-cert");

	/* Only the certificate, no key: refused. */
	body = json_pack("{s:s, s:s, s:s, s:{s:s}}",
	    "name", "half-cert", "server", kubesim_url(sim.k), "ca_pem", sim.ca_pem,
	    "auth", "client_cert_pem", sim.cert_pem);
	assert_int_equal(ck_req(&srv, "POST", "/api/v1/clusters", admin, body, &r), 0);
	json_decref(body);
	assert_int_equal(r.status, 400);
	tk_resp_free(&r);
}

/* The kubeconfig `kubectl config view --raw` would write for kubesim. */
static char *
kubeconfig(const char *user_yaml)
{
	char *ca64 = malloc(strlen(sim.ca_pem) * 2 + 8), *out = NULL;
	size_t cap;

	if (ca64 == NULL || ck_b64((const unsigned char *)sim.ca_pem, strlen(sim.ca_pem), ca64,
	    strlen(sim.ca_pem) * 2 + 8) < 0) {
		free(ca64);
		return NULL;
	}
	cap = strlen(ca64) + strlen(user_yaml) + 1024;
	out = malloc(cap);
	if (out != NULL)
		snprintf(out, cap,
		    "apiVersion: v1\n"
		    "kind: Config\n"
		    "clusters:\n"
		    "- name: sim-cluster\n"
		    "  cluster:\n"
		    "    server: %s\n"
		    "    certificate-authority-data: %s\n"
		    "contexts:\n"
		    "- name: sim\n"
		    "  context:\n"
		    "    cluster: sim-cluster\n"
		    "    user: sim-user\n"
		    "current-context: sim\n"
		    "users:\n"
		    "- name: sim-user\n"
		    "  user:\n"
		    "%s",
		    kubesim_url(sim.k), ca64, user_yaml);
	free(ca64);
	return out;
}

static void
test_register_by_kubeconfig(void **state)
{
	char *kc = kubeconfig("    token: " CK_CANARY_TOKEN "\n");
	json_t *body;
	struct tk_resp r;

	(void)state;
	assert_non_null(kc);
	body = json_pack("{s:s, s:s, s:s}", "name", "by-kubeconfig", "kubeconfig", kc, "context", "sim");
	assert_int_equal(ck_req(&srv, "POST", "/api/v1/clusters/import", admin, body, &r), 0);
	json_decref(body);
	if (r.status != 201)
		fail_msg("import: %ld %s", r.status, r.body);
	assert_string_equal(json_string_value(json_object_get(r.json, "name")), "by-kubeconfig");
	assert_string_equal(json_string_value(json_object_get(r.json, "server")), kubesim_url(sim.k));
	assert_string_equal(json_string_value(json_object_get(json_object_get(r.json, "auth"), "kind")),
	    "token");
	assert_null(strstr(r.body, CK_CANARY_TOKEN));
	tk_resp_free(&r);
	expect_pull_ok("by-kubeconfig");

	/* Without a name, the kubeconfig's cluster name is used. */
	body = json_pack("{s:s}", "kubeconfig", kc);
	assert_int_equal(ck_req(&srv, "POST", "/api/v1/clusters/import", admin, body, &r), 0);
	json_decref(body);
	assert_int_equal(r.status, 201);
	assert_string_equal(json_string_value(json_object_get(r.json, "name")), "sim-cluster");
	tk_resp_free(&r);

	/* A context that is not there. */
	body = json_pack("{s:s, s:s, s:s}", "name", "nope", "kubeconfig", kc, "context", "other");
	assert_int_equal(ck_req(&srv, "POST", "/api/v1/clusters/import", admin, body, &r), 0);
	json_decref(body);
	assert_int_equal(r.status, 400);
	tk_resp_free(&r);
	free(kc);
}

static void
test_exec_kubeconfig_refused(void **state)
{
	char *kc = kubeconfig("    exec:\n"
	    "      apiVersion: client.authentication.k8s.io/v1beta1\n"
	    "      command: /bin/sh\n"
	    "      args: [\"-c\", \"touch /tmp/skewd-exec-ran\"]\n");
	json_t *body;
	struct tk_resp r;
	const char *msg;

	(void)state;
	assert_non_null(kc);
	remove("/tmp/skewd-exec-ran");
	body = json_pack("{s:s, s:s}", "name", "by-exec", "kubeconfig", kc);
	assert_int_equal(ck_req(&srv, "POST", "/api/v1/clusters/import", admin, body, &r), 0);
	json_decref(body);
	assert_int_equal(r.status, 400);
	assert_string_equal(tk_error_code(&r), "invalid_argument");
	msg = json_string_value(json_object_get(json_object_get(r.json, "error"), "message"));
	assert_non_null(msg);
	/* It says why (it would run a program) and does not run it. */
	assert_non_null(strstr(msg, "exec"));
	assert_non_null(strstr(msg, "runs a program"));
	tk_resp_free(&r);
	assert_int_not_equal(access("/tmp/skewd-exec-ran", F_OK), 0);
	free(kc);

	/* The corpus-derived EKS exec kubeconfig and a GCP auth-provider one. */
	{
		static const char *const files[] = { "exec-eks.yaml", "auth-provider-gcp.yaml" };
		const char *fx = getenv("SKEWD_FIXTURES");
		char path[512];
		size_t i;

		for (i = 0; i < 2; i++) {
			snprintf(path, sizeof(path), "%s/kube/%s", fx, files[i]);
			kc = tk_read_file(path, NULL);
			assert_non_null(kc);
			body = json_pack("{s:s, s:s}", "name", "refused", "kubeconfig", kc);
			assert_int_equal(ck_req(&srv, "POST", "/api/v1/clusters/import", admin, body, &r), 0);
			json_decref(body);
			assert_int_equal(r.status, 400);
			tk_resp_free(&r);
			free(kc);
		}
	}
	/* Nothing was registered. */
	assert_int_equal(ck_req(&srv, "GET", "/api/v1/clusters/by-exec", viewer, NULL, &r), 0);
	assert_int_equal(r.status, 404);
	tk_resp_free(&r);
}

static void
test_wrong_ca(void **state)
{
	struct ck_sim other;
	struct tk_resp r;
	json_t *h;
	const char *err;

	(void)state;
	/* Another kubesim's CA did not sign this kubesim's certificate. */
	assert_int_equal(ck_sim_start(&other), 0);
	assert_int_equal(ck_register(&srv, admin, "wrong-ca", kubesim_url(sim.k), other.ca_pem,
	    CK_CANARY_TOKEN), 201);
	ck_sim_stop(&other);
	assert_int_equal(ck_collect(&srv, editor, "wrong-ca", &r), 0);
	assert_int_equal(r.status, 502);
	assert_non_null(strstr(r.body, "TLS"));
	tk_resp_free(&r);
	h = ck_health(&srv, viewer, "wrong-ca");
	assert_non_null(h);
	err = json_string_value(json_object_get(h, "last_error"));
	assert_non_null(err);
	assert_non_null(strstr(err, "TLS verification failed"));
	assert_true(json_is_null(json_object_get(h, "last_success_at")));
	assert_true(json_is_string(json_object_get(h, "last_pull_at")));
	json_decref(h);

	/* Replacing the CA with PATCH fixes it, and a success clears the error. */
	h = json_pack("{s:s}", "ca_pem", sim.ca_pem);
	assert_int_equal(ck_req(&srv, "PATCH", "/api/v1/clusters/wrong-ca", admin, h, &r), 0);
	json_decref(h);
	assert_int_equal(r.status, 200);
	tk_resp_free(&r);
	expect_pull_ok("wrong-ca");
	h = ck_health(&srv, viewer, "wrong-ca");
	assert_true(json_is_null(json_object_get(h, "last_error")));
	json_decref(h);
}

static void
test_only_admins_register(void **state)
{
	const char *who[] = { NULL, viewer, editor };
	long want[] = { 401, 403, 403 };
	json_t *body = ck_cluster_body("not-admin", kubesim_url(sim.k), sim.ca_pem, CK_CANARY_TOKEN);
	json_t *patch = json_pack("{s:s}", "label_selector", "app=x");
	struct tk_resp r;
	size_t i;

	(void)state;
	for (i = 0; i < 3; i++) {
		assert_int_equal(ck_req(&srv, "POST", "/api/v1/clusters", who[i], body, &r), 0);
		assert_int_equal(r.status, want[i]);
		tk_resp_free(&r);
		assert_int_equal(ck_req(&srv, "POST", "/api/v1/clusters/import", who[i], body, &r), 0);
		assert_int_equal(r.status, want[i]);
		tk_resp_free(&r);
		assert_int_equal(ck_req(&srv, "PATCH", "/api/v1/clusters/by-token", who[i], patch, &r), 0);
		assert_int_equal(r.status, want[i]);
		tk_resp_free(&r);
		assert_int_equal(ck_req(&srv, "DELETE", "/api/v1/clusters/by-token", who[i], NULL, &r), 0);
		assert_int_equal(r.status, want[i]);
		tk_resp_free(&r);
	}
	/* A viewer may read; only an editor may pull. */
	assert_int_equal(ck_req(&srv, "GET", "/api/v1/clusters", viewer, NULL, &r), 0);
	assert_int_equal(r.status, 200);
	tk_resp_free(&r);
	assert_int_equal(ck_collect(&srv, viewer, "by-token", &r), 0);
	assert_int_equal(r.status, 403);
	tk_resp_free(&r);
	assert_int_equal(ck_req(&srv, "GET", "/api/v1/clusters/not-admin", viewer, NULL, &r), 0);
	assert_int_equal(r.status, 404);
	tk_resp_free(&r);
	json_decref(body);
	json_decref(patch);
}

static void
test_refused_bodies(void **state)
{
	static const struct {
		const char *what;
		const char *json;
		const char *needle;
	} cases[] = {
		{ "file scheme", "{\"name\":\"x\",\"server\":\"file:///etc/passwd\",\"auth\":{\"token\":\"t\"}}",
		  "https" },
		{ "gopher scheme", "{\"name\":\"x\",\"server\":\"gopher://127.0.0.1:70/\",\"auth\":{\"token\":\"t\"}}",
		  "https" },
		{ "http without allow_http_clusters",
		  "{\"name\":\"x\",\"server\":\"http://127.0.0.1:6443\",\"auth\":{\"token\":\"t\"}}", "https" },
		{ "user info", "{\"name\":\"x\",\"server\":\"https://u:p@127.0.0.1\",\"auth\":{\"token\":\"t\"}}",
		  "user info" },
		{ "bad name", "{\"name\":\"Prod_US\",\"server\":\"https://127.0.0.1\",\"auth\":{\"token\":\"t\"}}",
		  "DNS-1123" },
		{ "no auth", "{\"name\":\"x\",\"server\":\"https://127.0.0.1\"}", "auth" },
		{ "two auth methods",
		  "{\"name\":\"x\",\"server\":\"https://127.0.0.1\",\"auth\":{\"token\":\"t\",\"token_file\":\"/t\"}}",
		  "exactly one" },
		{ "unknown field", "{\"name\":\"x\",\"server\":\"https://127.0.0.1\",\"auth\":{\"token\":\"t\"},"
		  "\"password\":\"p\"}", "unknown field" },
		{ "relative token file",
		  "{\"name\":\"x\",\"server\":\"https://127.0.0.1\",\"auth\":{\"token_file\":\"token\"}}", "absolute" },
		{ "token with a newline",
		  "{\"name\":\"x\",\"server\":\"https://127.0.0.1\",\"auth\":{\"token\":\"a\\nb\"}}", "visible" },
		{ "bad namespace", "{\"name\":\"x\",\"server\":\"https://127.0.0.1\",\"auth\":{\"token\":\"t\"},"
		  "\"namespaces\":[\"LLM\"]}", "namespace" },
		{ "ca and insecure", "{\"name\":\"x\",\"server\":\"https://127.0.0.1\",\"auth\":{\"token\":\"t\"},"
		  "\"ca_pem\":\"-----BEGIN CERTIFICATE-----\\nx\\n-----END CERTIFICATE-----\\n\","
		  "\"insecure_skip_tls_verify\":true}", "not both" },
		{ "ca not pem", "{\"name\":\"x\",\"server\":\"https://127.0.0.1\",\"auth\":{\"token\":\"t\"},"
		  "\"ca_pem\":\"hello\"}", "PEM" },
	};
	static const char *const json_ct[] = { "Content-Type: application/json", NULL };
	struct tk_resp r;
	const char *msg;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(tk_request(&srv, "POST", "/api/v1/clusters", admin, json_ct, cases[i].json,
		    strlen(cases[i].json), 0, &r), 0);
		if (r.status != 400)
			fail_msg("%s: %ld %s", cases[i].what, r.status, r.body);
		msg = json_string_value(json_object_get(json_object_get(r.json, "error"), "message"));
		if (msg == NULL || strstr(msg, cases[i].needle) == NULL)
			fail_msg("%s: message lacks '%s': %s", cases[i].what, cases[i].needle, r.body);
		ck_remember(r.body, r.len);
		tk_resp_free(&r);
	}
	/* A rename through PATCH is refused too. */
	assert_int_equal(tk_request(&srv, "PATCH", "/api/v1/clusters/by-token", admin, json_ct,
	    "{\"name\":\"other\"}", 16, 0, &r), 0);
	assert_int_equal(r.status, 400);
	tk_resp_free(&r);
}

static void
test_patch_and_delete(void **state)
{
	json_t *patch, *ns;
	struct tk_resp r;

	(void)state;
	assert_int_equal(ck_register(&srv, admin, "to-change", kubesim_url(sim.k), sim.ca_pem,
	    CK_CANARY_TOKEN), 201);
	/* PATCH replaces the auth (with a cert), the selector and namespaces. */
	patch = json_pack("{s:{s:s, s:s}, s:s, s:[s, s], s:{s:s, s:s}}",
	    "auth", "client_cert_pem", sim.cert_pem, "client_key_pem", sim.key_pem,
	    "label_selector", "app=vllm-llama",
	    "namespaces", "llm", "other",
	    "prometheus", "url", "https://prometheus.example:9090", "token", CK_CANARY_TOKEN);
	assert_int_equal(ck_req(&srv, "PATCH", "/api/v1/clusters/to-change", admin, patch, &r), 0);
	json_decref(patch);
	if (r.status != 200)
		fail_msg("patch: %ld %s", r.status, r.body);
	assert_string_equal(json_string_value(json_object_get(json_object_get(r.json, "auth"), "kind")),
	    "client_cert");
	assert_string_equal(json_string_value(json_object_get(r.json, "label_selector")), "app=vllm-llama");
	ns = json_object_get(r.json, "namespaces");
	assert_int_equal(json_array_size(ns), 2);
	assert_true(json_is_true(json_object_get(json_object_get(r.json, "prometheus"), "token")));
	assert_null(strstr(r.body, CK_CANARY_TOKEN));
	tk_resp_free(&r);
	expect_pull_ok("to-change");

	/* Removing the Prometheus server. */
	patch = json_pack("{s:n}", "prometheus");
	assert_int_equal(ck_req(&srv, "PATCH", "/api/v1/clusters/to-change", admin, patch, &r), 0);
	json_decref(patch);
	assert_int_equal(r.status, 200);
	assert_true(json_is_null(json_object_get(r.json, "prometheus")));
	tk_resp_free(&r);

	assert_int_equal(ck_req(&srv, "DELETE", "/api/v1/clusters/to-change", admin, NULL, &r), 0);
	assert_int_equal(r.status, 204);
	tk_resp_free(&r);
	assert_int_equal(ck_req(&srv, "GET", "/api/v1/clusters/to-change", viewer, NULL, &r), 0);
	assert_int_equal(r.status, 404);
	tk_resp_free(&r);
	assert_int_equal(ck_req(&srv, "GET", "/api/v1/targets?cluster=to-change", viewer, NULL, &r), 0);
	assert_int_equal(r.status, 404);
	tk_resp_free(&r);
	assert_int_equal(ck_req(&srv, "DELETE", "/api/v1/clusters/to-change", admin, NULL, &r), 0);
	assert_int_equal(r.status, 404);
	tk_resp_free(&r);
	assert_int_equal(ck_collect(&srv, editor, "to-change", &r), 0);
	assert_int_equal(r.status, 404);
	tk_resp_free(&r);
}

/* The list shows every cluster, and no answer so far held a credential. */
static void
test_list_and_no_credentials(void **state)
{
	struct tk_resp r;
	char *log;
	size_t len = 0;

	(void)state;
	assert_int_equal(ck_req(&srv, "GET", "/api/v1/clusters", viewer, NULL, &r), 0);
	assert_int_equal(r.status, 200);
	assert_true(json_array_size(json_object_get(r.json, "clusters")) >= 4);
	tk_resp_free(&r);
	assert_null(ck_leak(ck_seen, ck_seen_len, CK_CANARY_TOKEN));
	assert_null(memmem(ck_seen, ck_seen_len, "PRIVATE KEY", 11));
	log = tk_read_file(srv.stderr_path, &len);
	assert_non_null(log);
	assert_null(ck_leak(log, len, CK_CANARY_TOKEN));
	assert_null(memmem(log, len, "PRIVATE KEY", 11));
	free(log);
}

static void
test_clean_stop(void **state)
{
	(void)state;
	assert_int_equal(tk_stop(&srv), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_register_by_token),
		cmocka_unit_test(test_register_by_client_cert),
		cmocka_unit_test(test_register_by_kubeconfig),
		cmocka_unit_test(test_exec_kubeconfig_refused),
		cmocka_unit_test(test_wrong_ca),
		cmocka_unit_test(test_only_admins_register),
		cmocka_unit_test(test_refused_bodies),
		cmocka_unit_test(test_patch_and_delete),
		cmocka_unit_test(test_list_and_no_credentials),
		cmocka_unit_test(test_clean_stop),
	};

	return cmocka_run_group_tests_name("clusters", tests, setup, teardown);
}
