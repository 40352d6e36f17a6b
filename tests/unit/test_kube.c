/*
 * test_kube.c - the Kubernetes API client against an in-process kubesim
 * (real TLS, tokens, client certificates, RBAC, faults) and against tiny
 * socket servers in this file for what kubesim does not do: redirects, a
 * gzip bomb, JSON nested 3000 deep. Also kubeconfig parsing and the server
 * URL check.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "kube/kube.h"
#include "kubesim/kubesim.h"
#include "util/err.h"
#include "util/banned.h"

#define TOKEN "collector-token-8c2f"
#define ADMIN_TOKEN "admin-token-41aa"
#define POD "vllm-llama-7c9d8b6f5d-4xkqp"

struct fx {
	char dir[256];
	struct kubesim *k;
	char *ca_pem;
};

static struct fx *F;

static int
rm_rf(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *de;
	char sub[1024];

	if (d == NULL)
		return unlink(path);
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
		rm_rf(sub);
	}
	closedir(d);
	return rmdir(path);
}

/* Reads a whole file; fails the test when it cannot. */
static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *p;
	long n;

	if (f == NULL)
		fail_msg("cannot open %s: %s", path, strerror(errno));
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	p = malloc((size_t)n + 1);
	assert_non_null(p);
	assert_int_equal(fread(p, 1, (size_t)n, f), (size_t)n);
	p[n] = '\0';
	fclose(f);
	if (len != NULL)
		*len = (size_t)n;
	return p;
}

static char *
fixture(const char *name, size_t *len)
{
	char path[1024];

	snprintf(path, sizeof(path), "%s/kube/%s", getenv("SKEWD_FIXTURES"), name);
	return slurp(path, len);
}

static char *
tls_file(const char *name)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", F->dir, name);
	return slurp(path, NULL);
}

static double
elapsed_ms(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) * 1000 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

/* The high-water mark of this process's memory, in KiB. */
static long
max_rss_kib(void)
{
	struct rusage ru;

	assert_int_equal(getrusage(RUSAGE_SELF, &ru), 0);
	return ru.ru_maxrss;
}

/* No error message may carry a credential. */
static void
assert_no_secret(const struct err *e)
{
	assert_null(strstr(e->msg, TOKEN));
	assert_null(strstr(e->msg, ADMIN_TOKEN));
	assert_null(strstr(e->msg, "PRIVATE KEY"));
}

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	const char *fixtures = getenv("SKEWD_FIXTURES"), *src = getenv("SKEWD_SOURCE_DIR");
	char cluster[512], role[512];
	struct kubesim_user users[] = {
		{ "collector", TOKEN, KUBESIM_ROLE_COLLECTOR, 0 },
		{ "admin", ADMIN_TOKEN, KUBESIM_ROLE_ADMIN, 0 },
		{ "certuser", NULL, KUBESIM_ROLE_COLLECTOR, 1 },
	};
	struct kubesim_options o;
	struct err e = ERR_INIT;

	assert_non_null(f);
	assert_non_null(fixtures);
	assert_non_null(src);
	snprintf(f->dir, sizeof(f->dir), "/tmp/skewd-test-kube-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(cluster, sizeof(cluster), "%s/cluster", fixtures);
	snprintf(role, sizeof(role), "%s/deploy/kubernetes/clusterrole-collector.yaml", src);
	memset(&o, 0, sizeof(o));
	o.fixtures_dir = cluster;
	o.state = "lastgood";
	o.role_file = role;
	o.tls_dir = f->dir;
	o.users = users;
	o.nusers = sizeof(users) / sizeof(users[0]);
	o.threads = 16;
	if (kubesim_start(&o, &f->k, &e) < 0)
		fail_msg("kubesim_start: %s", e.msg);
	f->ca_pem = slurp(kubesim_ca_path(f->k), NULL);
	F = f;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	kubesim_stop(f->k);
	rm_rf(f->dir);
	free(f->ca_pem);
	free(f);
	F = NULL;
	return 0;
}

/* Per-test reset: no faults left over from an earlier test. */
static int
clean(void **state)
{
	(void)state;
	kubesim_clear_faults(F->k);
	return 0;
}

/* A client for kubesim with the collector token and the right CA, or with the given changes. */
static struct kube_client *
client(const char *token, const char *ca, long timeout_ms, size_t max)
{
	struct kube_creds c;
	struct kube_options o;
	struct kube_client *k = NULL;
	struct err e = ERR_INIT;

	memset(&c, 0, sizeof(c));
	memset(&o, 0, sizeof(o));
	c.server = (char *)kubesim_url(F->k);
	c.ca_pem = (char *)ca;
	c.token = (char *)token;
	o.request_timeout_ms = timeout_ms;
	o.max_response_bytes = max;
	if (kube_client_new(&c, &o, &k, &e) < 0)
		fail_msg("kube_client_new: %s", e.msg);
	return k;
}

/* GET path as JSON and expect failure with `code`; returns the message in e. */
static void
get_fails(struct kube_client *k, const char *path, enum err_code code, struct err *e)
{
	json_t *v = (json_t *)1;

	err_clear(e);
	assert_int_equal(kube_get_json(k, path, &v, e), -1);
	assert_null(v);
	if (e->code != code)
		fail_msg("GET %s: expected %s, got %s: %s", path, err_code_name(code), err_code_name(e->code), e->msg);
	assert_no_secret(e);
	assert_true(strlen(e->msg) > 10);
	print_message("GET %s: %s: %s\n", path, err_code_name(e->code), e->msg);
}

static void
test_get_token(void **state)
{
	struct kube_client *k = client(TOKEN, F->ca_pem, 0, 0);
	struct err e = ERR_INIT;
	json_t *v = NULL;
	char *s = NULL, ctype[128];
	size_t len = 0;

	(void)state;
	/* A proxy in the environment is not used (it would not answer). */
	setenv("https_proxy", "http://127.0.0.1:1", 1);
	setenv("HTTPS_PROXY", "http://127.0.0.1:1", 1);
	setenv("ALL_PROXY", "http://127.0.0.1:1", 1);
	assert_int_equal(kube_get_json(k, "/api/v1/namespaces/llm/pods", &v, &e), 0);
	unsetenv("https_proxy");
	unsetenv("HTTPS_PROXY");
	unsetenv("ALL_PROXY");
	assert_string_equal(json_string_value(json_object_get(v, "kind")), "PodList");
	assert_int_equal(json_array_size(json_object_get(v, "items")), 3);
	json_decref(v);

	assert_int_equal(kube_get_json(k, "/api/v1/namespaces/llm/pods?labelSelector=app%3Dvllm-llama", &v, &e), 0);
	assert_int_equal(json_array_size(json_object_get(v, "items")), 2);
	json_decref(v);

	assert_int_equal(kube_server_version(k, &s, &e), 0);
	assert_true(s[0] == 'v' && strchr(s, '.') != NULL);
	free(s);

	assert_int_equal(kube_get_text(k, "/api/v1/namespaces/llm/pods/" POD "/log?container=inference-server",
	    0, &s, &len, ctype, sizeof(ctype), &e), 0);
	assert_true(len > 0);
	assert_int_equal(strlen(s), len);
	assert_non_null(strstr(s, "max_model_len"));
	assert_int_equal(strncmp(ctype, "text/plain", 10), 0);
	free(s);

	assert_int_equal(kube_get_text(k, "/api/v1/namespaces/llm/pods/" POD ":8000/proxy/metrics", 0, &s, &len,
	    NULL, 0, &e), 0);
	assert_non_null(strstr(s, "vllm:"));
	free(s);

	/* Four requests, one connection. */
	assert_int_equal(kube_client_connects(k), 1);
	kube_client_free(k);
}

static void
test_tls(void **state)
{
	char *other = fixture("other-ca.crt", NULL);
	struct kube_client *k;
	struct kube_creds c;
	struct kube_options o;
	struct err e = ERR_INIT;
	json_t *v = NULL;

	(void)state;
	/* Another CA: the server's certificate does not verify. */
	k = client(TOKEN, other, 0, 0);
	get_fails(k, "/api/v1/nodes", ERR_UPSTREAM, &e);
	assert_non_null(strstr(e.msg, "TLS verification failed"));
	assert_non_null(strstr(e.msg, kubesim_url(F->k)));
	kube_client_free(k);

	/* The system store does not know kubesim's CA either. */
	k = client(TOKEN, NULL, 0, 0);
	get_fails(k, "/api/v1/nodes", ERR_UPSTREAM, &e);
	assert_non_null(strstr(e.msg, "TLS verification failed"));
	kube_client_free(k);

	/* Only when asked: no verification at all. */
	memset(&c, 0, sizeof(c));
	memset(&o, 0, sizeof(o));
	c.server = (char *)kubesim_url(F->k);
	c.token = TOKEN;
	c.insecure_skip_tls_verify = 1;
	assert_int_equal(kube_client_new(&c, &o, &k, &e), 0);
	assert_int_equal(kube_get_json(k, "/api/v1/nodes", &v, &e), 0);
	assert_int_equal(json_array_size(json_object_get(v, "items")), 4);
	json_decref(v);
	kube_client_free(k);

	/* A CA that is not PEM at all is refused up front. */
	c.insecure_skip_tls_verify = 0;
	c.ca_pem = "not a certificate";
	assert_int_equal(kube_client_new(&c, &o, &k, &e), -1);
	assert_int_equal(e.code, ERR_INVALID);
	assert_null(k);
	free(other);
}

static void
test_client_cert(void **state)
{
	struct kube_creds c;
	struct kube_client *k = NULL;
	struct err e = ERR_INIT;
	json_t *v = NULL;

	(void)state;
	memset(&c, 0, sizeof(c));
	c.server = (char *)kubesim_url(F->k);
	c.ca_pem = F->ca_pem;
	c.client_cert_pem = tls_file("client-certuser.crt");
	c.client_key_pem = tls_file("client-certuser.key");
	assert_int_equal(kube_client_new(&c, NULL, &k, &e), 0);
	assert_int_equal(kube_get_json(k, "/apis/apps/v1/namespaces/llm/deployments", &v, &e), 0);
	assert_int_equal(json_array_size(json_object_get(v, "items")), 2);
	json_decref(v);
	/* The certificate user is the collector role: RBAC applies. */
	get_fails(k, "/apis/rbac.authorization.k8s.io/v1/clusterroles", ERR_FORBIDDEN, &e);
	assert_non_null(strstr(e.msg, "User \"certuser\""));
	kube_client_free(k);

	/* A certificate without its key. */
	free(c.client_key_pem);
	c.client_key_pem = NULL;
	assert_int_equal(kube_client_new(&c, NULL, &k, &e), -1);
	assert_int_equal(e.code, ERR_INVALID);
	free(c.client_cert_pem);
}

static void
test_status_errors(void **state)
{
	struct kube_client *k;
	struct err e = ERR_INIT;

	(void)state;
	k = client("no-such-token", F->ca_pem, 0, 0);
	get_fails(k, "/api/v1/nodes", ERR_UNAUTHORIZED, &e);
	assert_non_null(strstr(e.msg, "rejected the credentials (401)"));
	assert_null(strstr(e.msg, "no-such-token"));
	kube_client_free(k);

	k = client(TOKEN, F->ca_pem, 0, 0);
	get_fails(k, "/apis/rbac.authorization.k8s.io/v1/clusterroles", ERR_FORBIDDEN, &e);
	assert_int_equal(strncmp(e.msg, "not allowed to list clusterroles.rbac.authorization.k8s.io (403): ", 66), 0);
	assert_non_null(strstr(e.msg, "User \"collector\" cannot list resource \"clusterroles\""));

	get_fails(k, "/api/v1/namespaces/llm/pods/no-such-pod", ERR_NOT_FOUND, &e);
	assert_non_null(strstr(e.msg, "(404)"));
	assert_non_null(strstr(e.msg, "\"no-such-pod\" not found"));

	assert_int_equal(kubesim_set_fault(F->k, "/api/v1/namespaces/llm/configmaps", KUBESIM_FAULT_410, 0, &e), 0);
	get_fails(k, "/api/v1/namespaces/llm/configmaps", ERR_CONFLICT, &e);
	assert_non_null(strstr(e.msg, "(410)"));

	assert_int_equal(kubesim_set_fault(F->k, "/api/v1/namespaces/llm/configmaps", KUBESIM_FAULT_429, 7, &e), 0);
	get_fails(k, "/api/v1/namespaces/llm/configmaps", ERR_UNAVAILABLE, &e);
	assert_non_null(strstr(e.msg, "(429)"));
	assert_non_null(strstr(e.msg, "retry after 7 s"));

	assert_int_equal(kubesim_set_fault(F->k, "/api/v1/namespaces/llm/configmaps", KUBESIM_FAULT_500, 0, &e), 0);
	get_fails(k, "/api/v1/namespaces/llm/configmaps", ERR_UPSTREAM, &e);
	assert_non_null(strstr(e.msg, "(500)"));

	assert_int_equal(kubesim_set_fault(F->k, "/api/v1/namespaces/llm/configmaps", KUBESIM_FAULT_403, 0, &e), 0);
	get_fails(k, "/api/v1/namespaces/llm/configmaps?labelSelector=a%3Db", ERR_FORBIDDEN, &e);
	assert_int_equal(strncmp(e.msg, "not allowed to list configmaps in namespace 'llm' (403): ", 57), 0);
	assert_int_equal(kubesim_set_fault(F->k, "/api/v1/namespaces/llm/pods/", KUBESIM_FAULT_403, 0, &e), 0);
	get_fails(k, "/api/v1/namespaces/llm/pods/" POD "/log?container=x", ERR_FORBIDDEN, &e);
	assert_int_equal(strncmp(e.msg, "not allowed to get pods/log of '" POD "' in namespace 'llm' (403)", 75), 0);
	assert_int_equal(kubesim_set_fault(F->k, "/apis/apps/v1/namespaces/llm/deployments/", KUBESIM_FAULT_403, 0, &e), 0);
	get_fails(k, "/apis/apps/v1/namespaces/llm/deployments/vllm-llama", ERR_FORBIDDEN, &e);
	assert_int_equal(strncmp(e.msg, "not allowed to get deployments.apps 'vllm-llama' in namespace 'llm' (403)", 73), 0);
	assert_int_equal(kubesim_set_fault(F->k, "/api/v1/nodes", KUBESIM_FAULT_403, 0, &e), 0);
	get_fails(k, "/api/v1/nodes", ERR_FORBIDDEN, &e);
	assert_int_equal(strncmp(e.msg, "not allowed to list nodes (403)", 31), 0);
	get_fails(k, "/api/v1/nodes/gke-a/proxy/x/y", ERR_FORBIDDEN, &e);
	assert_int_equal(strncmp(e.msg, "not allowed to GET /api/v1/nodes/gke-a/proxy/x/y (403)", 54), 0);
	kubesim_clear_faults(F->k);

	/* Other paths are fine meanwhile. */
	{
		json_t *v = NULL;

		assert_int_equal(kube_get_json(k, "/api/v1/namespaces/llm/services", &v, &e), 0);
		json_decref(v);
	}
	kube_client_free(k);
}

static void
test_hang_and_slow(void **state)
{
	struct kube_client *k = client(TOKEN, F->ca_pem, 1500, 0);
	struct err e = ERR_INIT;
	struct timespec t0;
	double ms;

	(void)state;
	assert_int_equal(kubesim_set_fault(F->k, "/api/v1/nodes", KUBESIM_FAULT_HANG, 0, &e), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	get_fails(k, "/api/v1/nodes", ERR_TIMEOUT, &e);
	ms = elapsed_ms(&t0);
	assert_true(ms >= 1400 && ms < 1500 + 1000);
	assert_non_null(strstr(e.msg, "no answer from"));
	assert_non_null(strstr(e.msg, "1.5 s"));

	/* One byte every 200 ms: far too slow, ends at the deadline. */
	assert_int_equal(kubesim_set_fault(F->k, "/api/v1/nodes", KUBESIM_FAULT_SLOW, 200, &e), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	get_fails(k, "/api/v1/nodes", ERR_TIMEOUT, &e);
	ms = elapsed_ms(&t0);
	assert_true(ms < 1500 + 1000);
	assert_non_null(strstr(e.msg, "did not complete"));

	/* One byte a second. */
	assert_int_equal(kubesim_set_fault(F->k, "/api/v1/nodes", KUBESIM_FAULT_SLOW, 1000, &e), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	get_fails(k, "/api/v1/nodes", ERR_TIMEOUT, &e);
	assert_true(elapsed_ms(&t0) < 1500 + 1000);
	kube_client_free(k);
}

static void
test_truncated_and_huge(void **state)
{
	struct kube_client *k = client(TOKEN, F->ca_pem, 20000, 1024 * 1024);
	struct err e = ERR_INIT;
	struct timespec t0;
	char *s = NULL;
	size_t len;
	long rss;

	(void)state;
	assert_int_equal(kubesim_set_fault(F->k, "/api/v1/nodes", KUBESIM_FAULT_TRUNCATED, 0, &e), 0);
	get_fails(k, "/api/v1/nodes", ERR_UPSTREAM, &e);
	assert_non_null(strstr(e.msg, "cut short"));

	/* 20 MiB against a 1 MiB cap: stops at the cap, quickly. */
	assert_int_equal(kubesim_set_fault(F->k, "/api/v1/pods", KUBESIM_FAULT_HUGE, 20, &e), 0);
	rss = max_rss_kib();
	clock_gettime(CLOCK_MONOTONIC, &t0);
	get_fails(k, "/api/v1/pods", ERR_TOO_LARGE, &e);
	assert_true(elapsed_ms(&t0) < 5000);
	assert_non_null(strstr(e.msg, "1048576 bytes"));
	/* Memory stayed near the cap, nowhere near 20 MiB. */
	assert_true(max_rss_kib() - rss < 8 * 1024);

	/* A smaller per-request cap for text. */
	kubesim_clear_faults(F->k);
	assert_int_equal(kube_get_text(k, "/api/v1/namespaces/llm/pods", 100, &s, &len, NULL, 0, &e), -1);
	assert_int_equal(e.code, ERR_TOO_LARGE);
	assert_null(s);
	kube_client_free(k);
}

static void
test_batch(void **state)
{
	struct kube_client *k = client(TOKEN, F->ca_pem, 1500, 0);
	struct kube_batch *b = NULL;
	struct err e = ERR_INIT, ie = ERR_INIT;
	struct timespec t0;
	json_t *v;
	const char *text;
	size_t len, i;
	int idx, hung = -1, texti = -1;

	(void)state;
	assert_int_equal(kubesim_set_fault(F->k, "/api/v1/nodes", KUBESIM_FAULT_HANG, 0, &e), 0);
	assert_int_equal(kube_batch_new(k, &b, &e), 0);
	for (i = 0; i < 50; i++) {
		const char *path = i == 17 ? "/api/v1/nodes" : i == 30 ? "/version" : i % 2 ?
		    "/apis/apps/v1/namespaces/llm/deployments" : "/api/v1/namespaces/llm/pods";

		idx = kube_batch_add(b, path, i != 30, 0, &e);
		assert_int_equal(idx, (int)i);
		if (i == 17)
			hung = idx;
		if (i == 30)
			texti = idx;
	}
	assert_int_equal(kube_batch_add(b, "no-slash", 1, 0, &e), -1);
	assert_int_equal(e.code, ERR_INVALID);
	assert_int_equal(kube_batch_add(b, "/api/v1/pods?x=a b", 1, 0, &e), -1);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(kube_batch_run(b, &e), 0);
	assert_true(elapsed_ms(&t0) < 1500 + 1500);
	for (i = 0; i < 50; i++) {
		int rc = kube_batch_result(b, i, &v, &text, &len, &ie);

		if ((int)i == hung) {
			assert_int_equal(rc, -1);
			assert_int_equal(ie.code, ERR_TIMEOUT);
			assert_null(v);
		} else if ((int)i == texti) {
			assert_int_equal(rc, 0);
			assert_null(v);
			assert_non_null(strstr(text, "gitVersion"));
			assert_int_equal(strlen(text), len);
		} else {
			if (rc != 0)
				fail_msg("request %zu: %s", i, ie.msg);
			assert_true(json_array_size(json_object_get(v, "items")) >= 2);
		}
	}
	assert_int_equal(kube_batch_result(b, 50, &v, &text, &len, &ie), -1);
	kube_batch_free(b);
	/* Connections were reused: at most one per parallel slot. */
	assert_true(kube_client_connects(k) <= 8);
	kube_client_free(k);
}

static void
test_token_file(void **state)
{
	char path[512];
	struct kube_creds c;
	struct kube_client *k = NULL;
	struct kube_batch *b = NULL;
	struct err e = ERR_INIT, ie = ERR_INIT;
	json_t *v;
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/token", F->dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(TOKEN "\n", f);
	fclose(f);
	memset(&c, 0, sizeof(c));
	c.server = (char *)kubesim_url(F->k);
	c.ca_pem = F->ca_pem;
	c.token_file = path;
	assert_int_equal(kube_client_new(&c, NULL, &k, &e), 0);

	/* The collector may not list clusterroles. */
	assert_int_equal(kube_batch_new(k, &b, &e), 0);
	assert_int_equal(kube_batch_add(b, "/apis/rbac.authorization.k8s.io/v1/clusterroles", 1, 0, &e), 0);
	assert_int_equal(kube_batch_run(b, &e), 0);
	assert_int_equal(kube_batch_result(b, 0, &v, NULL, NULL, &ie), -1);
	assert_int_equal(ie.code, ERR_FORBIDDEN);
	kube_batch_free(b);

	/* The token rotates (here: to the admin's); the next batch uses it. */
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(ADMIN_TOKEN, f);
	fclose(f);
	assert_int_equal(kube_batch_new(k, &b, &e), 0);
	assert_int_equal(kube_batch_add(b, "/apis/rbac.authorization.k8s.io/v1/clusterroles", 1, 0, &e), 0);
	assert_int_equal(kube_batch_run(b, &e), 0);
	assert_int_equal(kube_batch_result(b, 0, &v, NULL, NULL, &ie), 0);
	assert_string_equal(json_string_value(json_object_get(v, "kind")), "ClusterRoleList");
	kube_batch_free(b);

	/* A FIFO in place of the token file is refused at once, not waited on. */
	unlink(path);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(kube_batch_new(k, &b, &e), 0);
	assert_int_equal(kube_batch_add(b, "/api/v1/nodes", 1, 0, &e), 0);
	assert_int_equal(kube_batch_run(b, &e), -1);
	assert_int_equal(e.code, ERR_IO);
	assert_non_null(strstr(e.msg, "not a regular file"));
	kube_batch_free(b);

	/* A missing token file fails the whole batch, and each request says why. */
	unlink(path);
	assert_int_equal(kube_batch_new(k, &b, &e), 0);
	assert_int_equal(kube_batch_add(b, "/api/v1/nodes", 1, 0, &e), 0);
	assert_int_equal(kube_batch_run(b, &e), -1);
	assert_int_equal(e.code, ERR_IO);
	assert_non_null(strstr(e.msg, path));
	assert_int_equal(kube_batch_result(b, 0, &v, NULL, NULL, &ie), -1);
	assert_int_equal(ie.code, ERR_IO);
	kube_batch_free(b);
	kube_client_free(k);
}

/*
 * A tiny HTTP server on 127.0.0.1: answers every connection with one canned
 * answer and records whether a request carried an Authorization header.
 */
struct tiny {
	int fd;
	int port;
	pthread_t thread;
	const char *head;      /* status line + headers, without the blank line */
	const char *body;
	size_t body_len;
	int stop;
	int conns;
	int saw_auth;
	pthread_mutex_t mu;
};

static void *
tiny_main(void *arg)
{
	struct tiny *t = arg;
	char req[16384], head[512];

	for (;;) {
		struct pollfd p = { t->fd, POLLIN, 0 };
		size_t got = 0;
		int c, stop;

		pthread_mutex_lock(&t->mu);
		stop = t->stop;
		pthread_mutex_unlock(&t->mu);
		if (stop)
			break;
		if (poll(&p, 1, 50) <= 0)
			continue;
		c = accept(t->fd, NULL, NULL);
		if (c < 0)
			continue;
		while (got + 1 < sizeof(req)) {
			struct pollfd q = { c, POLLIN, 0 };
			ssize_t r;

			if (poll(&q, 1, 2000) <= 0)
				break;
			r = recv(c, req + got, sizeof(req) - 1 - got, 0);
			if (r <= 0)
				break;
			got += (size_t)r;
			req[got] = '\0';
			if (strstr(req, "\r\n\r\n") != NULL)
				break;
		}
		req[got] = '\0';
		pthread_mutex_lock(&t->mu);
		t->conns++;
		if (strcasestr(req, "\nAuthorization:") != NULL || strstr(req, TOKEN) != NULL)
			t->saw_auth = 1;
		pthread_mutex_unlock(&t->mu);
		snprintf(head, sizeof(head), "\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n", t->body_len);
		if (send(c, t->head, strlen(t->head), MSG_NOSIGNAL) > 0 && send(c, head, strlen(head), MSG_NOSIGNAL) > 0 &&
		    t->body_len > 0)
			send(c, t->body, t->body_len, MSG_NOSIGNAL);
		close(c);
	}
	return NULL;
}

static void
tiny_start(struct tiny *t, const char *head, const char *body, size_t body_len)
{
	struct sockaddr_in a;
	socklen_t al = sizeof(a);

	memset(t, 0, sizeof(*t));
	t->head = head;
	t->body = body;
	t->body_len = body_len;
	pthread_mutex_init(&t->mu, NULL);
	t->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(t->fd >= 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(t->fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(t->fd, 16), 0);
	assert_int_equal(getsockname(t->fd, (struct sockaddr *)&a, &al), 0);
	t->port = ntohs(a.sin_port);
	assert_int_equal(pthread_create(&t->thread, NULL, tiny_main, t), 0);
}

static void
tiny_stop(struct tiny *t)
{
	pthread_mutex_lock(&t->mu);
	t->stop = 1;
	pthread_mutex_unlock(&t->mu);
	pthread_join(t->thread, NULL);
	close(t->fd);
	pthread_mutex_destroy(&t->mu);
}

static struct kube_client *
tiny_client(const struct tiny *t, size_t max)
{
	struct kube_creds c;
	struct kube_options o;
	struct kube_client *k = NULL;
	struct err e = ERR_INIT;
	char url[64];

	snprintf(url, sizeof(url), "http://127.0.0.1:%d", t->port);
	memset(&c, 0, sizeof(c));
	memset(&o, 0, sizeof(o));
	c.server = url;
	c.token = TOKEN;
	o.allow_http = 1;
	o.request_timeout_ms = 5000;
	o.max_response_bytes = max;
	if (kube_client_new(&c, &o, &k, &e) < 0)
		fail_msg("kube_client_new: %s", e.msg);
	return k;
}

static void
test_redirect(void **state)
{
	static const char *codes[] = { "HTTP/1.1 302 Found", "HTTP/1.1 301 Moved Permanently",
		"HTTP/1.1 307 Temporary Redirect", "HTTP/1.1 308 Permanent Redirect" };
	static struct tiny target, redir; /* static: a failed assertion leaves the threads running */
	char head[256], want[64];
	struct kube_client *k;
	struct err e = ERR_INIT;
	size_t i;

	(void)state;
	tiny_start(&target, "HTTP/1.1 200 OK\r\nContent-Type: application/json", "{}", 2);
	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		snprintf(head, sizeof(head), "%s\r\nLocation: http://127.0.0.1:%d/steal?x=1", codes[i], target.port);
		tiny_start(&redir, head, "", 0);
		k = tiny_client(&redir, 0);
		get_fails(k, "/api/v1/nodes", ERR_UPSTREAM, &e);
		snprintf(want, sizeof(want), "127.0.0.1:%d", target.port);
		assert_non_null(strstr(e.msg, want));
		assert_non_null(strstr(e.msg, "does not follow redirects"));
		kube_client_free(k);
		tiny_stop(&redir);
		/* The redirecting server got the token (so the test can tell); the other host never did. */
		assert_int_equal(redir.saw_auth, 1);
	}
	tiny_stop(&target);
	assert_int_equal(target.conns, 0);
	assert_int_equal(target.saw_auth, 0);
}

static void
test_hostile_bodies(void **state)
{
	static struct tiny t; /* static: a failed assertion leaves the thread running */
	struct kube_client *k;
	struct err e = ERR_INIT;
	struct timespec t0;
	char *gz, *deep;
	size_t gzlen, i;
	json_t *v = NULL;
	long rss;

	(void)state;
	/* A gzip bomb: 20 KiB on the wire, 20 MiB decoded; the 1 MiB cap counts decoded bytes. */
	gz = fixture("zeros-20mib.gz", &gzlen);
	assert_true(gzlen < 64 * 1024);
	tiny_start(&t, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip", gz, gzlen);
	k = tiny_client(&t, 1024 * 1024);
	rss = max_rss_kib();
	clock_gettime(CLOCK_MONOTONIC, &t0);
	get_fails(k, "/api/v1/pods", ERR_TOO_LARGE, &e);
	assert_true(elapsed_ms(&t0) < 3000);
	assert_true(max_rss_kib() - rss < 8 * 1024);
	kube_client_free(k);
	tiny_stop(&t);
	free(gz);

	/* 3000 levels of nesting: refused before jansson recurses. */
	deep = malloc(6001);
	assert_non_null(deep);
	for (i = 0; i < 3000; i++) {
		deep[i] = '[';
		deep[3000 + i] = ']';
	}
	deep[6000] = '\0';
	tiny_start(&t, "HTTP/1.1 200 OK\r\nContent-Type: application/json", deep, 6000);
	k = tiny_client(&t, 0);
	get_fails(k, "/api/v1/pods", ERR_UPSTREAM, &e);
	assert_non_null(strstr(e.msg, "deeper than"));
	kube_client_free(k);
	tiny_stop(&t);

	/* Brackets inside strings do not count. */
	memset(deep, '[', 3000);
	memcpy(deep, "{\"a\":\"", 6);
	memcpy(deep + 2997, "\"}\n", 3);
	tiny_start(&t, "HTTP/1.1 200 OK\r\nContent-Type: application/json", deep, 3000);
	k = tiny_client(&t, 0);
	assert_int_equal(kube_get_json(k, "/x", &v, &e), 0);
	assert_int_equal(json_string_length(json_object_get(v, "a")), 2991);
	json_decref(v);
	kube_client_free(k);
	tiny_stop(&t);
	free(deep);

	/* 429 with Retry-After as an HTTP date. */
	tiny_start(&t, "HTTP/1.1 429 Too Many Requests\r\nRetry-After: Wed, 21 Oct 2026 07:28:00 GMT", "", 0);
	k = tiny_client(&t, 0);
	get_fails(k, "/api/v1/pods", ERR_UNAVAILABLE, &e);
	assert_non_null(strstr(e.msg, "retry after Wed, 21 Oct 2026 07:28:00 GMT"));
	kube_client_free(k);
	tiny_stop(&t);

	/* Endless headers: stopped at a bound, not kept until the timeout. */
	{
		size_t cap = 400 * 1024, n;
		char *head = malloc(cap);

		assert_non_null(head);
		n = (size_t)snprintf(head, cap, "HTTP/1.1 200 OK");
		while (n + 64 < cap)
			n += (size_t)snprintf(head + n, cap - n, "\r\nX-Pad: %050d", 0);
		tiny_start(&t, head, "{}", 2);
		k = tiny_client(&t, 0);
		get_fails(k, "/api/v1/pods", ERR_UPSTREAM, &e);
		assert_non_null(strstr(e.msg, "bytes of headers"));
		kube_client_free(k);
		tiny_stop(&t);
		free(head);
	}

	/* Not JSON. */
	tiny_start(&t, "HTTP/1.1 200 OK\r\nContent-Type: application/json", "<html>oops</html>", 17);
	k = tiny_client(&t, 0);
	get_fails(k, "/api/v1/pods", ERR_UPSTREAM, &e);
	assert_non_null(strstr(e.msg, "not valid JSON"));
	kube_client_free(k);
	tiny_stop(&t);

	/* A Status body with control characters and a huge message: bounded and printable. */
	{
		static char body[4096];
		size_t n;

		n = (size_t)snprintf(body, sizeof(body), "{\"kind\":\"Status\",\"code\":503,\"message\":\"bad\\u001b[31m");
		memset(body + n, 'x', 2000);
		n += 2000;
		n += (size_t)snprintf(body + n, sizeof(body) - n, "\"}");
		tiny_start(&t, "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json", body, n);
		k = tiny_client(&t, 0);
		get_fails(k, "/api/v1/pods", ERR_UPSTREAM, &e);
		assert_non_null(strstr(e.msg, "(503): bad?[31m"));
		assert_null(strchr(e.msg, '\x1b'));
		kube_client_free(k);
		tiny_stop(&t);
	}

	/* Without allow_http, an http:// server is refused before any request. */
	{
		struct kube_creds c;
		struct kube_client *none = NULL;

		memset(&c, 0, sizeof(c));
		c.server = "http://127.0.0.1:1";
		c.token = TOKEN;
		assert_int_equal(kube_client_new(&c, NULL, &none, &e), -1);
		assert_int_equal(e.code, ERR_INVALID);
		assert_null(none);
	}

	/* Nothing listens: a connection error naming the server. */
	{
		struct kube_creds c;
		struct kube_options o;

		memset(&c, 0, sizeof(c));
		memset(&o, 0, sizeof(o));
		c.server = "http://127.0.0.1:1";
		o.allow_http = 1;
		assert_int_equal(kube_client_new(&c, &o, &k, &e), 0);
		get_fails(k, "/version", ERR_UPSTREAM, &e);
		assert_non_null(strstr(e.msg, "cannot connect to http://127.0.0.1:1"));
		kube_client_free(k);
	}
}

static void
test_server_check(void **state)
{
	static const struct {
		const char *url;
		int allow_http;
		int ok;
		const char *msg;
	} cases[] = {
		{ "https://10.0.0.1:6443", 0, 1, NULL },
		{ "https://kube.example.com", 0, 1, NULL },
		{ "https://kube.example.com/", 0, 1, NULL },
		{ "https://rancher.example.com/k8s/clusters/c-m-abc", 0, 1, NULL },
		{ "https://[::1]:6443", 0, 1, NULL },
		{ "HTTPS://kube.example.com", 0, 1, NULL },
		{ "http://10.0.0.1:8080", 1, 1, NULL },
		{ "http://10.0.0.1:8080", 0, 0, "must use https" },
		{ "file:///etc/passwd", 0, 0, "must use https" },
		{ "file:///etc/passwd", 1, 0, "must use https" },
		{ "gopher://10.0.0.1:70/", 1, 0, "not 'gopher'" },
		{ "ftp://10.0.0.1", 0, 0, "not 'ftp'" },
		{ "https://admin:s3cret@10.0.0.1:6443", 0, 0, "user info" },
		{ "https://token@10.0.0.1", 0, 0, "user info" },
		{ "https://admin:s3cret @10.0.0.1", 0, 0, "user info" },
		{ "ftp://admin:s3cret@10.0.0.1", 0, 0, "user info" },
		{ "https://", 0, 0, NULL },
		{ "https:///api", 0, 0, NULL },
		{ "https://:6443", 0, 0, NULL },
		{ "10.0.0.1:6443", 0, 0, "no scheme" },
		{ "https://10.0.0.1:6443?x=1", 0, 0, "query" },
		{ "https://10.0.0.1:6443#frag", 0, 0, "fragment" },
		{ "https://10.0.0.1 :6443", 0, 0, "space" },
		{ "https://10.0.0.1\n:6443", 0, 0, "control" },
		{ "", 0, 0, "empty" },
	};
	struct err e = ERR_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = kube_server_check(cases[i].url, cases[i].allow_http, &e);

		if (cases[i].ok && rc != 0)
			fail_msg("'%s' refused: %s", cases[i].url, e.msg);
		if (!cases[i].ok && rc != -1)
			fail_msg("'%s' accepted", cases[i].url);
		if (!cases[i].ok) {
			assert_int_equal(e.code, ERR_INVALID);
			assert_null(strstr(e.msg, "s3cret"));
			if (cases[i].msg != NULL && strstr(e.msg, cases[i].msg) == NULL)
				fail_msg("'%s': '%s' lacks '%s'", cases[i].url, e.msg, cases[i].msg);
		}
	}
	assert_int_equal(kube_server_check(NULL, 0, &e), -1);
}

/* Replaces @KEY@ placeholders of a kubeconfig template. Caller frees. */
static char *
fill(const char *tmpl, const char *const *kv)
{
	size_t cap = strlen(tmpl) + 1, i;
	char *out, *o;
	const char *p;

	for (i = 0; kv[i] != NULL; i += 2)
		cap += strlen(kv[i + 1]) * 2;
	out = malloc(cap);
	assert_non_null(out);
	o = out;
	for (p = tmpl; *p != '\0';) {
		int done = 0;

		for (i = 0; kv[i] != NULL && !done; i += 2) {
			size_t n = strlen(kv[i]);

			if (strncmp(p, kv[i], n) == 0) {
				size_t m = strlen(kv[i + 1]);

				memcpy(o, kv[i + 1], m);
				o += m;
				p += n;
				done = 1;
			}
		}
		if (!done)
			*o++ = *p++;
	}
	*o = '\0';
	return out;
}

static char *
b64(const char *s)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t n = strlen(s), i, o = 0;
	char *out = malloc(n / 3 * 4 + 8);
	const unsigned char *u = (const unsigned char *)s;

	assert_non_null(out);
	for (i = 0; i + 2 < n; i += 3) {
		out[o++] = tab[u[i] >> 2];
		out[o++] = tab[((u[i] & 3) << 4) | (u[i + 1] >> 4)];
		out[o++] = tab[((u[i + 1] & 15) << 2) | (u[i + 2] >> 6)];
		out[o++] = tab[u[i + 2] & 63];
	}
	if (n - i == 1) {
		out[o++] = tab[u[i] >> 2];
		out[o++] = tab[(u[i] & 3) << 4];
		out[o++] = '=';
		out[o++] = '=';
	} else if (n - i == 2) {
		out[o++] = tab[u[i] >> 2];
		out[o++] = tab[((u[i] & 3) << 4) | (u[i + 1] >> 4)];
		out[o++] = tab[(u[i + 1] & 15) << 2];
		out[o++] = '=';
	}
	out[o] = '\0';
	return out;
}

/* Loads a kubeconfig fixture with kubesim's URL, CA, token and certificate filled in. */
static char *
kubeconfig(const char *name)
{
	char *tmpl = fixture(name, NULL), *cert = tls_file("client-certuser.crt"), *key = tls_file("client-certuser.key");
	char *ca64 = b64(F->ca_pem), *cert64 = b64(cert), *key64 = b64(key), *out;
	const char *kv[] = { "@SERVER@", kubesim_url(F->k), "@CA_DATA@", ca64, "@TOKEN@", TOKEN,
		"@CERT_DATA@", cert64, "@KEY_DATA@", key64, NULL };

	out = fill(tmpl, kv);
	free(tmpl);
	free(cert);
	free(key);
	free(ca64);
	free(cert64);
	free(key64);
	return out;
}

static void
test_kubeconfig_use(void **state)
{
	struct kube_creds c;
	struct kube_client *k = NULL;
	struct err e = ERR_INIT;
	char *y, *hint = NULL;
	json_t *v = NULL;

	(void)state;
	/* Token, current-context. */
	y = kubeconfig("token.yaml");
	assert_int_equal(kube_creds_from_kubeconfig(y, strlen(y), NULL, &c, &hint, &e), 0);
	assert_string_equal(hint, "gke_acme-ml_us-central1_llm-prod");
	assert_string_equal(c.server, kubesim_url(F->k));
	assert_string_equal(c.token, TOKEN);
	assert_string_equal(c.ca_pem, F->ca_pem);
	assert_int_equal(c.insecure_skip_tls_verify, 0);
	assert_null(c.client_cert_pem);
	assert_int_equal(kube_client_new(&c, NULL, &k, &e), 0);
	assert_int_equal(kube_get_json(k, "/api/v1/namespaces/llm/pods", &v, &e), 0);
	json_decref(v);
	kube_client_free(k);
	kube_creds_release(&c);
	free(hint);

	/* Another context by name. */
	assert_int_equal(kube_creds_from_kubeconfig(y, strlen(y), "staging", &c, &hint, &e), 0);
	assert_string_equal(c.server, "https://10.99.0.1:6443");
	assert_int_equal(c.insecure_skip_tls_verify, 1);
	assert_null(c.ca_pem);
	assert_string_equal(hint, "staging");
	kube_creds_release(&c);
	free(hint);

	/* A context that is not there. */
	assert_int_equal(kube_creds_from_kubeconfig(y, strlen(y), "prod-eu", &c, NULL, &e), -1);
	assert_int_equal(e.code, ERR_NOT_FOUND);
	assert_non_null(strstr(e.msg, "no context 'prod-eu'"));
	assert_null(c.server);
	free(y);

	/* Client certificate. */
	y = kubeconfig("client-cert.yaml");
	assert_int_equal(kube_creds_from_kubeconfig(y, strlen(y), NULL, &c, NULL, &e), 0);
	assert_null(c.token);
	assert_non_null(strstr(c.client_cert_pem, "-----BEGIN CERTIFICATE-----"));
	assert_non_null(strstr(c.client_key_pem, "PRIVATE KEY-----"));
	assert_int_equal(kube_client_new(&c, NULL, &k, &e), 0);
	assert_int_equal(kube_get_json(k, "/apis/apps/v1/namespaces/llm/deployments", &v, &e), 0);
	assert_int_equal(json_array_size(json_object_get(v, "items")), 2);
	json_decref(v);
	kube_client_free(k);
	kube_creds_release(&c);
	free(y);
}

static void
test_kubeconfig_refused(void **state)
{
	static const struct {
		const char *file;
		const char *context;
		enum err_code code;
		const char *msg;
	} cases[] = {
		{ "exec-eks.yaml", NULL, ERR_UNSUPPORTED, "runs a program (exec: aws) to get a token; skewd never "
		    "runs programs" },
		{ "auth-provider-gcp.yaml", NULL, ERR_UNSUPPORTED, "auth-provider: gcp" },
		{ "file-refs.yaml", NULL, ERR_UNSUPPORTED, "refers to a CA file (certificate-authority)" },
		{ "file-refs.yaml", "inline-cluster-file-user", ERR_UNSUPPORTED, "refers to a client certificate file" },
		{ "file-refs.yaml", "inline-token-file", ERR_UNSUPPORTED, "refers to a token file ('tokenFile')" },
		{ "basic-auth.yaml", NULL, ERR_UNSUPPORTED, "user name and password" },
		{ "malformed.yaml", NULL, ERR_INVALID, "kubeconfig:7:" },
	};
	struct kube_creds c;
	struct err e = ERR_INIT;
	char *hint = (char *)1, *y;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		y = kubeconfig(cases[i].file);
		assert_int_equal(kube_creds_from_kubeconfig(y, strlen(y), cases[i].context, &c, &hint, &e), -1);
		if (e.code != cases[i].code || strstr(e.msg, cases[i].msg) == NULL)
			fail_msg("%s: got %s '%s', want %s '%s'", cases[i].file, err_code_name(e.code), e.msg,
			    err_code_name(cases[i].code), cases[i].msg);
		assert_null(hint);
		assert_null(c.server);
		assert_null(strstr(e.msg, "hunter2"));
		assert_null(strstr(e.msg, "get-token"));
		free(y);
	}
	/* The advice names what to do instead. */
	y = kubeconfig("exec-eks.yaml");
	assert_int_equal(kube_creds_from_kubeconfig(y, strlen(y), NULL, &c, NULL, &e), -1);
	assert_non_null(strstr(e.msg, "deploy/kubernetes/remote-access"));
	free(y);

	/* Not a kubeconfig, no current-context, bad base64, too large. */
	y = "apiVersion: v1\nkind: Pod\n";
	assert_int_equal(kube_creds_from_kubeconfig(y, strlen(y), NULL, &c, NULL, &e), -1);
	assert_non_null(strstr(e.msg, "not Config"));
	y = "apiVersion: v1\nkind: Config\nclusters: []\n";
	assert_int_equal(kube_creds_from_kubeconfig(y, strlen(y), NULL, &c, NULL, &e), -1);
	assert_non_null(strstr(e.msg, "no current-context"));
	y = "kind: Config\ncurrent-context: a\ncontexts: [{name: a, context: {cluster: c, user: u}}]\n"
	    "clusters: [{name: c, cluster: {server: 'https://h', certificate-authority-data: '!!notbase64'}}]\n"
	    "users: [{name: u, user: {token: t}}]\n";
	assert_int_equal(kube_creds_from_kubeconfig(y, strlen(y), NULL, &c, NULL, &e), -1);
	assert_non_null(strstr(e.msg, "not valid base64"));
	y = "kind: Config\ncurrent-context: a\ncontexts: [{name: a, context: {cluster: c, user: u}}]\n"
	    "clusters: [{name: c, cluster: {server: 'gopher://h'}}]\nusers: [{name: u, user: {token: t}}]\n";
	assert_int_equal(kube_creds_from_kubeconfig(y, strlen(y), NULL, &c, NULL, &e), -1);
	assert_non_null(strstr(e.msg, "gopher"));
	y = "kind: Config\ncurrent-context: a\ncontexts: [{name: a, context: {cluster: c, user: u}}]\n"
	    "clusters: [{name: c, cluster: {server: 'https://h'}}]\nusers: [{name: u, user: {}}]\n";
	assert_int_equal(kube_creds_from_kubeconfig(y, strlen(y), NULL, &c, NULL, &e), -1);
	assert_non_null(strstr(e.msg, "no token and no client certificate"));
	y = "kind: Config\ncurrent-context: a\ncontexts: [{name: a, context: {cluster: c, user: nobody}}]\n"
	    "clusters: [{name: c, cluster: {server: 'https://h'}}]\nusers: [{name: u, user: {token: t}}]\n";
	assert_int_equal(kube_creds_from_kubeconfig(y, strlen(y), NULL, &c, NULL, &e), -1);
	assert_int_equal(e.code, ERR_NOT_FOUND);
	assert_non_null(strstr(e.msg, "no user 'nobody'"));
	y = "kind: Config\ncurrent-context: a\ncontexts: [{name: a, context: {cluster: gone, user: u}}]\n"
	    "clusters: [{name: c, cluster: {server: 'https://h'}}]\nusers: [{name: u, user: {token: t}}]\n";
	assert_int_equal(kube_creds_from_kubeconfig(y, strlen(y), NULL, &c, NULL, &e), -1);
	assert_non_null(strstr(e.msg, "no cluster 'gone'"));

	/* kubectl config view -o json: the same thing as JSON. */
	{
		hint = NULL;
		y = "{\"kind\":\"Config\",\"apiVersion\":\"v1\",\"current-context\":\"a\",\"contexts\":[{\"name\":\"a\","
		    "\"context\":{\"cluster\":\"c\",\"user\":\"u\"}}],\"clusters\":[{\"name\":\"c\",\"cluster\":"
		    "{\"server\":\"https://k.example.com:6443\"}}],\"users\":[{\"name\":\"u\",\"user\":{\"token\":\"tok\"}}]}";
		assert_int_equal(kube_creds_from_kubeconfig(y, strlen(y), NULL, &c, &hint, &e), 0);
		assert_string_equal(c.server, "https://k.example.com:6443");
		assert_string_equal(c.token, "tok");
		assert_string_equal(hint, "c");
		kube_creds_release(&c);
		assert_null(c.token);
		free(hint);
	}
	{
		size_t big = 2 * 1024 * 1024;
		char *huge = malloc(big);

		assert_non_null(huge);
		memset(huge, '#', big);
		assert_int_equal(kube_creds_from_kubeconfig(huge, big, NULL, &c, NULL, &e), -1);
		assert_int_equal(e.code, ERR_TOO_LARGE);
		free(huge);
	}
}

/* Clients on several threads at once (one client per thread): libcurl is set up once. */
static void *
thread_pull(void *arg)
{
	struct kube_client *k = arg;
	struct kube_batch *b = NULL;
	struct err e = ERR_INIT;
	long ok = 0;
	size_t i;

	if (kube_batch_new(k, &b, &e) < 0)
		return (void *)-1L;
	for (i = 0; i < 10; i++)
		if (kube_batch_add(b, i % 2 ? "/api/v1/nodes" : "/apis/apps/v1/namespaces/llm/deployments", 1, 0, &e) < 0)
			goto out;
	if (kube_batch_run(b, &e) < 0)
		goto out;
	for (i = 0; i < 10; i++) {
		json_t *v = NULL;

		if (kube_batch_result(b, i, &v, NULL, NULL, &e) == 0 && json_array_size(json_object_get(v, "items")) >= 2)
			ok++;
	}
out:
	kube_batch_free(b);
	return (void *)ok;
}

static void
test_threads(void **state)
{
	pthread_t t[4];
	struct kube_client *k[4];
	void *ok;
	size_t i;

	(void)state;
	for (i = 0; i < 4; i++) {
		k[i] = client(TOKEN, F->ca_pem, 0, 0);
		assert_int_equal(pthread_create(&t[i], NULL, thread_pull, k[i]), 0);
	}
	for (i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(t[i], &ok), 0);
		assert_int_equal((long)ok, 10);
		kube_client_free(k[i]);
	}
}

static void
test_escape(void **state)
{
	char out[64];

	(void)state;
	assert_int_equal(kube_escape("app=vllm-llama,tier in (a b)", out, sizeof(out)), 0);
	assert_string_equal(out, "app%3Dvllm-llama%2Ctier%20in%20%28a%20b%29");
	assert_int_equal(kube_escape("a/b~c_d.e", out, sizeof(out)), 0);
	assert_string_equal(out, "a%2Fb~c_d.e");
	assert_int_equal(kube_escape("\xc3\xa9", out, sizeof(out)), 0);
	assert_string_equal(out, "%C3%A9");
	assert_int_equal(kube_escape("abcd", out, 4), -1);
	assert_int_equal(kube_escape("abc", out, 4), 0);
	assert_int_equal(kube_escape("ab=", out, 5), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_get_token, clean),
		cmocka_unit_test_setup(test_tls, clean),
		cmocka_unit_test_setup(test_client_cert, clean),
		cmocka_unit_test_setup(test_status_errors, clean),
		cmocka_unit_test_setup(test_hang_and_slow, clean),
		cmocka_unit_test_setup(test_truncated_and_huge, clean),
		cmocka_unit_test_setup(test_batch, clean),
		cmocka_unit_test_setup(test_token_file, clean),
		cmocka_unit_test(test_redirect),
		cmocka_unit_test(test_hostile_bodies),
		cmocka_unit_test(test_server_check),
		cmocka_unit_test_setup(test_kubeconfig_use, clean),
		cmocka_unit_test(test_kubeconfig_refused),
		cmocka_unit_test_setup(test_threads, clean),
		cmocka_unit_test(test_escape),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
