/*
 * test_kubesim.c - the simulated Kubernetes API server, over real TLS with
 * libcurl: discovery, lists with selectors, get, tables, authentication,
 * RBAC from deploy/kubernetes/clusterrole-collector.yaml, pod logs, the
 * pod proxy, state switches and every fault.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "kubesim/kubesim.h"
#include "util/err.h"
#include "util/banned.h"

#define TOKEN "collector-token-8c2f"
#define ADMIN_TOKEN "admin-token-41aa"
#define POD "vllm-llama-7c9d8b6f5d-4xkqp"
#define MAX_BODY (64 * 1024 * 1024)

struct fx {
	char dir[256];
	struct kubesim *k;
};

struct reply {
	long status;
	CURLcode rc;
	char *body;
	size_t len;
	char retry_after[32];
	char ctype[128];
	json_t *json;
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

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
	struct reply *r = arg;
	char *grown;

	if (r->len + n > MAX_BODY)
		return 0;
	grown = realloc(r->body, r->len + n + 1);
	if (grown == NULL)
		return 0;
	r->body = grown;
	memcpy(r->body + r->len, p, n);
	r->len += n;
	r->body[r->len] = '\0';
	(void)size;
	return n;
}

static size_t
on_header(char *p, size_t size, size_t n, void *arg)
{
	struct reply *r = arg;

	if (n > 13 && strncasecmp(p, "Retry-After: ", 13) == 0)
		snprintf(r->retry_after, sizeof(r->retry_after), "%.*s", (int)strcspn(p + 13, "\r\n"), p + 13);
	if (n > 14 && strncasecmp(p, "Content-Type: ", 14) == 0)
		snprintf(r->ctype, sizeof(r->ctype), "%.*s", (int)strcspn(p + 14, "\r\n"), p + 14);
	(void)size;
	return n;
}

struct req {
	const char *method;
	const char *token; /* NULL: none */
	const char *accept;
	const char *body;
	const char *cert_user; /* client certificate of this user */
	const char *ca;        /* NULL: the kubesim CA */
	long timeout_ms;
};

static void
reply_free(struct reply *r)
{
	free(r->body);
	json_decref(r->json);
	memset(r, 0, sizeof(*r));
}

static void
do_request(const char *path, const struct req *q, struct reply *r)
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	char url[2048], auth[256], cert[512], key[512];
	json_error_t jerr;

	memset(r, 0, sizeof(*r));
	assert_non_null(c);
	snprintf(url, sizeof(url), "%s%s", kubesim_url(F->k), path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CAINFO, q->ca != NULL ? q->ca : kubesim_ca_path(F->k));
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, q->timeout_ms > 0 ? q->timeout_ms : 20000L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	if (q->method != NULL)
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, q->method);
	if (q->body != NULL)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, q->body);
	if (q->token != NULL) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", q->token);
		h = curl_slist_append(h, auth);
	}
	if (q->accept != NULL) {
		snprintf(auth, sizeof(auth), "Accept: %s", q->accept);
		h = curl_slist_append(h, auth);
	}
	if (q->body != NULL)
		h = curl_slist_append(h, "Content-Type: application/json");
	if (h != NULL)
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	if (q->cert_user != NULL) {
		snprintf(cert, sizeof(cert), "%s/client-%s.crt", F->dir, q->cert_user);
		snprintf(key, sizeof(key), "%s/client-%s.key", F->dir, q->cert_user);
		curl_easy_setopt(c, CURLOPT_SSLCERT, cert);
		curl_easy_setopt(c, CURLOPT_SSLKEY, key);
	}
	r->rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	if (r->body != NULL && (r->body[0] == '{' || r->body[0] == '['))
		r->json = json_loadb(r->body, r->len, 0, &jerr);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
}

/* GET with the collector token; asserts the transfer worked. */
static void
get(const char *path, struct reply *r)
{
	struct req q = { .token = TOKEN };

	do_request(path, &q, r);
	assert_int_equal(r->rc, CURLE_OK);
}

static const char *
jstr(const json_t *v, const char *path)
{
	char key[128];
	const char *p = path;

	while (*p != '\0' && v != NULL) {
		size_t n = strcspn(p, ".");

		snprintf(key, sizeof(key), "%.*s", (int)n, p);
		if (json_is_array(v))
			v = json_array_get(v, strtoul(key, NULL, 10));
		else
			v = json_object_get(v, key);
		p += n;
		if (*p == '.')
			p++;
	}
	return json_string_value(v);
}

static void
assert_status(const struct reply *r, long code, const char *reason)
{
	assert_int_equal(r->status, code);
	assert_non_null(r->json);
	assert_string_equal(jstr(r->json, "kind"), "Status");
	assert_string_equal(jstr(r->json, "apiVersion"), "v1");
	assert_string_equal(jstr(r->json, "status"), "Failure");
	assert_string_equal(jstr(r->json, "reason"), reason);
	assert_int_equal(json_integer_value(json_object_get(r->json, "code")), code);
	assert_non_null(jstr(r->json, "message"));
}

static size_t
nitems(const struct reply *r)
{
	return json_array_size(json_object_get(r->json, "items"));
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
	snprintf(f->dir, sizeof(f->dir), "/tmp/skewd-test-kubesim-XXXXXX");
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
	o.threads = 6; /* few workers: abandoned hung requests must not use them up */
	if (kubesim_start(&o, &f->k, &e) < 0)
		fail_msg("kubesim_start: %s", e.msg);
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
	free(f);
	F = NULL;
	return 0;
}

static void
test_discovery(void **state)
{
	struct reply r;
	json_t *res;
	size_t i;
	int saw_log = 0, saw_proxy = 0;

	(void)state;
	assert_int_equal(strncmp(kubesim_url(F->k), "https://127.0.0.1:", 18), 0);
	get("/version", &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(jstr(r.json, "major"), "1");
	assert_non_null(jstr(r.json, "gitVersion"));
	reply_free(&r);

	get("/api", &r);
	assert_string_equal(jstr(r.json, "kind"), "APIVersions");
	assert_string_equal(jstr(r.json, "versions.0"), "v1");
	reply_free(&r);

	get("/apis", &r);
	assert_string_equal(jstr(r.json, "kind"), "APIGroupList");
	assert_non_null(strstr(r.body, "\"apps/v1\""));
	assert_non_null(strstr(r.body, "\"leaderworkerset.x-k8s.io/v1\""));
	assert_non_null(strstr(r.body, "\"gateway.networking.k8s.io/v1\""));
	reply_free(&r);

	get("/api/v1", &r);
	assert_string_equal(jstr(r.json, "kind"), "APIResourceList");
	assert_string_equal(jstr(r.json, "groupVersion"), "v1");
	res = json_object_get(r.json, "resources");
	for (i = 0; i < json_array_size(res); i++) {
		const char *name = jstr(json_array_get(res, i), "name");

		saw_log |= strcmp(name, "pods/log") == 0;
		saw_proxy |= strcmp(name, "pods/proxy") == 0;
	}
	assert_true(saw_log && saw_proxy);
	reply_free(&r);

	get("/apis/apps/v1", &r);
	assert_string_equal(jstr(r.json, "groupVersion"), "apps/v1");
	assert_non_null(strstr(r.body, "\"deployments\""));
	reply_free(&r);

	get("/apis/no.such.group/v1", &r);
	assert_status(&r, 404, "NotFound");
	reply_free(&r);
}

static void
test_list_selectors(void **state)
{
	static const struct {
		const char *path;
		size_t n;
	} cases[] = {
		{ "/api/v1/namespaces/llm/pods", 3 },
		{ "/api/v1/pods", 7 },  /* 3 workload pods and 4 DCGM exporter pods (gpu-operator) */
		{ "/api/v1/namespaces/other/pods", 0 },
		{ "/api/v1/namespaces/llm/pods?labelSelector=app%3Dvllm-llama", 2 },
		{ "/api/v1/namespaces/llm/pods?labelSelector=app%3D%3Dvllm-llama", 2 },
		{ "/api/v1/namespaces/llm/pods?labelSelector=app%21%3Dvllm-llama", 1 },
		{ "/api/v1/namespaces/llm/pods?labelSelector=app%20in%20(tgi-gemma,nothing)", 1 },
		{ "/api/v1/namespaces/llm/pods?labelSelector=app%20notin%20(tgi-gemma)", 2 },
		{ "/api/v1/namespaces/llm/pods?labelSelector=app%3Dvllm-llama,pod-template-hash%3D7c9d8b6f5d", 2 },
		{ "/api/v1/namespaces/llm/pods?labelSelector=app%3Dvllm-llama,pod-template-hash%3Dnope", 0 },
		{ "/api/v1/nodes?labelSelector=nvidia.com/gpu.product", 4 },
		{ "/api/v1/nodes?labelSelector=nvidia.com/gpu.product%3DNVIDIA-L4", 2 },
		{ "/api/v1/nodes?labelSelector=%21nvidia.com/gpu.product", 0 },
		{ "/api/v1/nodes?labelSelector=%21no.such/label", 4 },
		{ "/api/v1/nodes?fieldSelector=metadata.name%3Dgke-llm-l4-pool-c45f", 1 },
		{ "/api/v1/namespaces/llm/pods?fieldSelector=spec.nodeName%3Dgke-llm-l4-pool-3b7a", 1 },
		{ "/api/v1/namespaces/llm/events?fieldSelector=involvedObject.name%3D" POD, 3 },
		{ "/api/v1/namespaces/llm/events?fieldSelector=involvedObject.kind%3DDeployment", 1 },
		{ "/api/v1/namespaces/llm/events?fieldSelector=involvedObject.name%21%3D" POD, 5 },
		{ "/apis/apps/v1/namespaces/llm/deployments", 2 },
		{ "/apis/apps/v1/namespaces/llm/replicasets?labelSelector=app%3Dvllm-llama", 2 },
		{ "/apis/autoscaling/v2/namespaces/llm/horizontalpodautoscalers", 1 },
		{ "/apis/networking.k8s.io/v1/namespaces/llm/ingresses", 1 },
		{ "/apis/policy/v1/namespaces/llm/poddisruptionbudgets", 1 },
		{ "/apis/gateway.networking.k8s.io/v1/namespaces/llm/httproutes", 0 },
		{ "/apis/events.k8s.io/v1/namespaces/llm/events?fieldSelector=regarding.name%3D" POD, 3 },
		{ "/api/v1/namespaces/llm/secrets", 1 },
	};
	struct reply r;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		get(cases[i].path, &r);
		if (r.status != 200 || nitems(&r) != cases[i].n)
			fail_msg("%s: status %ld, %zu items, want %zu: %.300s", cases[i].path, r.status, nitems(&r),
			    cases[i].n, r.body);
		reply_free(&r);
	}

	/* List shape: XList, resourceVersion, items without kind (built-in types). */
	get("/api/v1/namespaces/llm/pods", &r);
	assert_string_equal(jstr(r.json, "kind"), "PodList");
	assert_string_equal(jstr(r.json, "apiVersion"), "v1");
	assert_non_null(jstr(r.json, "metadata.resourceVersion"));
	assert_null(jstr(r.json, "items.0.kind"));
	assert_non_null(jstr(r.json, "items.0.metadata.uid"));
	assert_non_null(jstr(r.json, "items.0.status.containerStatuses.0.imageID"));
	reply_free(&r);

	/* Paging: limit, continue, remainingItemCount. */
	{
		char path[512];
		const char *tok;

		get("/api/v1/namespaces/llm/pods?limit=2", &r);
		assert_int_equal(nitems(&r), 2);
		assert_int_equal(json_integer_value(json_object_get(json_object_get(r.json, "metadata"),
		    "remainingItemCount")), 1);
		tok = jstr(r.json, "metadata.continue");
		assert_non_null(tok);
		snprintf(path, sizeof(path), "/api/v1/namespaces/llm/pods?limit=2&continue=%s", tok);
		reply_free(&r);
		get(path, &r);
		assert_int_equal(r.status, 200);
		assert_int_equal(nitems(&r), 1);
		assert_null(jstr(r.json, "metadata.continue"));
		assert_string_equal(jstr(r.json, "items.0.metadata.name"), "tgi-gemma-84c6d9f7b5-zk5wd");
		reply_free(&r);
		/* A token from before a state load is too old: 410. */
		get("/_kubesim/state?name=lastgood", &r);
		reply_free(&r);
		get(path, &r);
		assert_status(&r, 410, "Expired");
		reply_free(&r);
		get("/api/v1/namespaces/llm/pods?limit=2&continue=bm9wZQ", &r);
		assert_status(&r, 400, "BadRequest");
		reply_free(&r);
	}

	/* The same Event through events.k8s.io/v1. */
	get("/apis/events.k8s.io/v1/namespaces/llm/events?fieldSelector=regarding.kind%3DDeployment", &r);
	assert_int_equal(nitems(&r), 1);
	assert_string_equal(jstr(r.json, "items.0.reason"), "ScalingReplicaSet");
	assert_non_null(strstr(jstr(r.json, "items.0.note"), "Scaled up replica set"));
	assert_string_equal(jstr(r.json, "items.0.reportingController"), "deployment-controller");
	reply_free(&r);

	get("/api/v1/namespaces/llm/pods?labelSelector=app%20in%20(a", &r);
	assert_status(&r, 400, "BadRequest");
	reply_free(&r);
	get("/api/v1/namespaces/llm/pods?fieldSelector=spec.no.such%3Dx", &r);
	assert_status(&r, 400, "BadRequest");
	assert_non_null(strstr(jstr(r.json, "message"), "field label not supported"));
	reply_free(&r);
}

static void
test_get_and_table(void **state)
{
	struct reply r;
	struct req q = { .token = TOKEN,
		.accept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json" };

	(void)state;
	get("/apis/apps/v1/namespaces/llm/deployments/vllm-llama", &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(jstr(r.json, "kind"), "Deployment");
	assert_string_equal(jstr(r.json, "spec.template.spec.containers.0.args.6"), "--max-model-len=32768");
	reply_free(&r);

	get("/api/v1/nodes/gke-llm-l4-pool-c45f", &r);
	assert_string_equal(jstr(json_object_get(r.json, "metadata"), "name"), "gke-llm-l4-pool-c45f");
	assert_string_equal(json_string_value(json_object_get(json_object_get(json_object_get(r.json, "metadata"),
	    "labels"), "nvidia.com/gpu.product")), "NVIDIA-L4");
	reply_free(&r);

	get("/api/v1/namespaces/llm/pods/no-such-pod", &r);
	assert_status(&r, 404, "NotFound");
	assert_string_equal(jstr(r.json, "message"), "pods \"no-such-pod\" not found");
	assert_string_equal(jstr(r.json, "details.kind"), "pods");
	reply_free(&r);

	get("/apis/apps/v1/namespaces/llm/deployments/nope", &r);
	assert_status(&r, 404, "NotFound");
	assert_string_equal(jstr(r.json, "message"), "deployments.apps \"nope\" not found");
	reply_free(&r);

	do_request("/api/v1/namespaces/llm/pods", &q, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(jstr(r.json, "kind"), "Table");
	assert_string_equal(jstr(r.json, "columnDefinitions.0.name"), "Name");
	assert_int_equal(json_array_size(json_object_get(r.json, "rows")), 3);
	assert_string_equal(jstr(r.json, "rows.0.cells.2"), "Running");
	assert_string_equal(jstr(r.json, "rows.0.object.kind"), "PartialObjectMetadata");
	reply_free(&r);
}

static void
test_auth(void **state)
{
	struct reply r;
	struct req none = { 0 };
	struct req bad = { .token = "not-a-token" };
	struct req cert = { .cert_user = "certuser" };
	struct req wrong_ca = { .token = TOKEN, .ca = "/etc/ssl/certs/ca-certificates.crt" };

	(void)state;
	do_request("/api/v1/namespaces/llm/pods", &none, &r);
	assert_int_equal(r.rc, CURLE_OK);
	assert_status(&r, 401, "Unauthorized");
	reply_free(&r);
	do_request("/api/v1/namespaces/llm/pods", &bad, &r);
	assert_status(&r, 401, "Unauthorized");
	reply_free(&r);
	/* A bad token is refused even on a public path. */
	do_request("/version", &bad, &r);
	assert_status(&r, 401, "Unauthorized");
	reply_free(&r);
	do_request("/version", &none, &r);
	assert_int_equal(r.status, 200);
	reply_free(&r);

	do_request("/api/v1/namespaces/llm/pods", &cert, &r);
	assert_int_equal(r.rc, CURLE_OK);
	assert_int_equal(r.status, 200);
	assert_int_equal(nitems(&r), 3);
	reply_free(&r);
	/* The certificate user has the collector role too. */
	do_request("/apis/rbac.authorization.k8s.io/v1/clusterroles", &cert, &r);
	assert_status(&r, 403, "Forbidden");
	assert_non_null(strstr(jstr(r.json, "message"), "User \"certuser\""));
	reply_free(&r);

	do_request("/version", &wrong_ca, &r);
	assert_int_equal(r.rc, CURLE_PEER_FAILED_VERIFICATION);
	reply_free(&r);
}

/* A client certificate with a known CN but from another CA names nobody: 401. */
static void
test_foreign_client_cert(void **state)
{
	struct kubesim_user users[] = { { "certuser", NULL, KUBESIM_ROLE_ADMIN, 1 } };
	struct kubesim_options o;
	struct kubesim *other = NULL;
	struct err e = ERR_INIT;
	char dir[256], cluster[512], role[512], cert[512], key[512], url[600];
	struct reply r;
	CURL *c;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/skewd-test-kubesim-other-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(cluster, sizeof(cluster), "%s/cluster", getenv("SKEWD_FIXTURES"));
	snprintf(role, sizeof(role), "%s/deploy/kubernetes/clusterrole-collector.yaml", getenv("SKEWD_SOURCE_DIR"));
	memset(&o, 0, sizeof(o));
	o.fixtures_dir = cluster;
	o.state = "current";
	o.role_file = role;
	o.tls_dir = dir;
	o.users = users;
	o.nusers = 1;
	if (kubesim_start(&o, &other, &e) < 0)
		fail_msg("kubesim_start: %s", e.msg);
	snprintf(cert, sizeof(cert), "%s/client-certuser.crt", dir);
	snprintf(key, sizeof(key), "%s/client-certuser.key", dir);
	snprintf(url, sizeof(url), "%s/api/v1/namespaces/llm/pods", kubesim_url(F->k));
	memset(&r, 0, sizeof(r));
	c = curl_easy_init();
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CAINFO, kubesim_ca_path(F->k));
	curl_easy_setopt(c, CURLOPT_SSLCERT, cert);
	curl_easy_setopt(c, CURLOPT_SSLKEY, key);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 20000L);
	assert_int_equal(curl_easy_perform(c), CURLE_OK);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
	curl_easy_cleanup(c);
	assert_int_equal(r.status, 401);
	assert_non_null(strstr(r.body, "\"reason\":\"Unauthorized\""));
	reply_free(&r);
	kubesim_stop(other);
	rm_rf(dir);
}

static void
test_rbac(void **state)
{
	struct reply r;
	struct req del = { .method = "DELETE", .token = TOKEN };
	struct req post = { .method = "POST", .token = TOKEN, .body = "{}" };
	struct req admin = { .token = ADMIN_TOKEN };
	struct req review = { .method = "POST", .token = TOKEN, .body =
		"{\"apiVersion\":\"authorization.k8s.io/v1\",\"kind\":\"SelfSubjectAccessReview\","
		"\"spec\":{\"resourceAttributes\":{\"namespace\":\"llm\",\"verb\":\"get\",\"resource\":\"pods\","
		"\"subresource\":\"log\"}}}" };
	struct req review_del = { .method = "POST", .token = TOKEN, .body =
		"{\"apiVersion\":\"authorization.k8s.io/v1\",\"kind\":\"SelfSubjectAccessReview\","
		"\"spec\":{\"resourceAttributes\":{\"namespace\":\"llm\",\"verb\":\"delete\",\"resource\":\"pods\"}}}" };

	(void)state;
	get("/apis/rbac.authorization.k8s.io/v1/clusterroles", &r);
	assert_status(&r, 403, "Forbidden");
	assert_string_equal(jstr(r.json, "message"),
	    "clusterroles.rbac.authorization.k8s.io is forbidden: User \"collector\" cannot list resource "
	    "\"clusterroles\" in API group \"rbac.authorization.k8s.io\" at the cluster scope");
	reply_free(&r);

	do_request("/api/v1/namespaces/llm/pods/" POD, &del, &r);
	assert_status(&r, 403, "Forbidden");
	assert_string_equal(jstr(r.json, "message"),
	    "pods \"" POD "\" is forbidden: User \"collector\" cannot delete resource \"pods\" in API group \"\" "
	    "in the namespace \"llm\"");
	reply_free(&r);

	do_request("/apis/apps/v1/namespaces/llm/deployments", &post, &r);
	assert_status(&r, 403, "Forbidden");
	reply_free(&r);

	/* pods/proxy is get-only. */
	do_request("/api/v1/namespaces/llm/pods/" POD ":8000/proxy/metrics", &post, &r);
	assert_status(&r, 403, "Forbidden");
	assert_non_null(strstr(jstr(r.json, "message"), "\"pods/proxy\""));
	reply_free(&r);

	/* Everything the collector needs is allowed. */
	get("/apis/leaderworkerset.x-k8s.io/v1/leaderworkersets", &r);
	assert_int_equal(r.status, 200);
	reply_free(&r);
	get("/apis/networking.istio.io/v1beta1/virtualservices", &r);
	assert_int_equal(r.status, 200);
	reply_free(&r);
	get("/apis/events.k8s.io/v1/namespaces/llm/events", &r);
	assert_int_equal(r.status, 200);
	reply_free(&r);

	do_request("/apis/rbac.authorization.k8s.io/v1/clusterroles", &admin, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(jstr(r.json, "kind"), "ClusterRoleList");
	reply_free(&r);

	do_request("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", &review, &r);
	assert_int_equal(r.status, 201);
	assert_true(json_is_true(json_object_get(json_object_get(r.json, "status"), "allowed")));
	reply_free(&r);
	do_request("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", &review_del, &r);
	assert_int_equal(r.status, 201);
	assert_true(json_is_false(json_object_get(json_object_get(r.json, "status"), "allowed")));
	reply_free(&r);
}

static size_t
count_lines(const char *s)
{
	size_t n = 0;

	for (; s != NULL && *s != '\0'; s++)
		n += *s == '\n';
	return n;
}

static void
test_logs(void **state)
{
	struct reply r;

	(void)state;
	get("/api/v1/namespaces/llm/pods/" POD "/log", &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.ctype, "text/plain");
	assert_int_equal(count_lines(r.body), 14);
	assert_non_null(strstr(r.body, "(revision 0e9e39f249a16976918f6564b8830bc894c89659)"));
	reply_free(&r);

	get("/api/v1/namespaces/llm/pods/" POD "/log?container=inference-server&tailLines=2", &r);
	assert_int_equal(count_lines(r.body), 2);
	assert_non_null(strstr(r.body, "/v1/chat/completions"));
	reply_free(&r);

	/* Line i of n is dated n-1-i seconds ago: the last 3 lines are within 2 s. */
	get("/api/v1/namespaces/llm/pods/" POD "/log?sinceSeconds=2", &r);
	assert_int_equal(count_lines(r.body), 3);
	reply_free(&r);

	get("/api/v1/namespaces/llm/pods/" POD "/log?limitBytes=10", &r);
	assert_int_equal(r.len, 10);
	assert_memory_equal(r.body, "INFO 11-20", 10);
	reply_free(&r);

	get("/api/v1/namespaces/llm/pods/" POD "/log?tailLines=1&timestamps=true", &r);
	assert_int_equal(count_lines(r.body), 1);
	assert_int_equal(r.body[4], '-');
	assert_int_equal(r.body[10], 'T');
	assert_non_null(strstr(r.body, "Z INFO:"));
	reply_free(&r);

	get("/api/v1/namespaces/llm/pods/" POD "/log?container=sidecar", &r);
	assert_status(&r, 400, "BadRequest");
	reply_free(&r);
	get("/api/v1/namespaces/llm/pods/" POD "/log?previous=true", &r);
	assert_status(&r, 400, "BadRequest");
	reply_free(&r);
	get("/api/v1/namespaces/llm/pods/nope/log", &r);
	assert_status(&r, 404, "NotFound");
	reply_free(&r);
}

static void
test_proxy(void **state)
{
	struct reply r;

	(void)state;
	get("/api/v1/namespaces/llm/pods/" POD ":8000/proxy/metrics", &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.ctype, "text/plain"));
	assert_non_null(strstr(r.body, "# TYPE vllm:"));
	reply_free(&r);

	get("/api/v1/namespaces/llm/pods/http:" POD ":8000/proxy/v1/models", &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.ctype, "application/json");
	assert_string_equal(jstr(r.json, "data.0.id"), "meta-llama/Llama-3.1-8B-Instruct");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(json_object_get(r.json, "data"), 0),
	    "max_model_len")), 32768);
	reply_free(&r);

	get("/api/v1/namespaces/llm/pods/" POD ":8000/proxy/no/such", &r);
	assert_int_equal(r.status, 404);
	reply_free(&r);
	get("/api/v1/namespaces/llm/pods/tgi-gemma-84c6d9f7b5-zk5wd:8000/proxy/metrics", &r);
	assert_status(&r, 503, "ServiceUnavailable");
	reply_free(&r);
	get("/api/v1/namespaces/llm/pods/" POD ":8000/proxy/../../../../etc/passwd", &r);
	assert_true(r.status == 400 || r.status == 404);
	assert_null(strstr(r.body != NULL ? r.body : "", "root:"));
	reply_free(&r);
}

static void
test_state_switch(void **state)
{
	struct reply r;
	struct err e = ERR_INIT;
	long long rv_before, rv_after;

	(void)state;
	get("/apis/apps/v1/namespaces/llm/deployments", &r);
	rv_before = strtoll(jstr(r.json, "metadata.resourceVersion"), NULL, 10);
	reply_free(&r);

	assert_int_equal(kubesim_set_state(F->k, "current", &e), 0);
	get("/apis/apps/v1/namespaces/llm/deployments/vllm-llama", &r);
	assert_string_equal(jstr(r.json, "spec.template.spec.containers.0.args.6"), "--max-model-len=8192");
	assert_string_equal(jstr(r.json, "spec.template.spec.containers.0.args.8"), "--dtype=float16");
	reply_free(&r);
	get("/apis/apps/v1/namespaces/llm/deployments", &r);
	rv_after = strtoll(jstr(r.json, "metadata.resourceVersion"), NULL, 10);
	assert_true(rv_after > rv_before);
	reply_free(&r);
	get("/api/v1/namespaces/llm/pods?fieldSelector=spec.nodeName%3Dgke-llm-l4-pool-c45f", &r);
	assert_int_equal(nitems(&r), 1);
	reply_free(&r);

	/* Through the admin endpoint, as shell tests do. */
	get("/_kubesim/state?name=lastgood", &r);
	assert_int_equal(r.status, 200);
	reply_free(&r);
	get("/apis/apps/v1/namespaces/llm/deployments/vllm-llama", &r);
	assert_string_equal(jstr(r.json, "spec.template.spec.containers.0.args.6"), "--max-model-len=32768");
	reply_free(&r);

	/* Watch: the current objects as ADDED events; an old resourceVersion is 410 Gone. */
	get("/api/v1/namespaces/llm/pods?watch=true&labelSelector=app%3Dtgi-gemma", &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "{\"type\":\"ADDED\",\"object\":{"));
	assert_int_equal(count_lines(r.body), 1);
	reply_free(&r);
	{
		char path[256];

		snprintf(path, sizeof(path), "/api/v1/namespaces/llm/pods?watch=true&resourceVersion=%lld", rv_before);
		get(path, &r);
		assert_status(&r, 410, "Expired");
		assert_non_null(strstr(jstr(r.json, "message"), "too old resource version"));
		reply_free(&r);
	}

	/* A bad state keeps the old one. */
	assert_int_equal(kubesim_set_state(F->k, "no-such-state", &e), -1);
	assert_int_equal(kubesim_set_state(F->k, "../lastgood", &e), -1);
	get("/api/v1/namespaces/llm/pods", &r);
	assert_int_equal(nitems(&r), 3);
	reply_free(&r);
}

static void
test_error_faults(void **state)
{
	static const struct {
		enum kubesim_fault_kind kind;
		long code;
		const char *reason;
	} cases[] = {
		{ KUBESIM_FAULT_401, 401, "Unauthorized" },
		{ KUBESIM_FAULT_403, 403, "Forbidden" },
		{ KUBESIM_FAULT_404, 404, "NotFound" },
		{ KUBESIM_FAULT_410, 410, "Expired" },
		{ KUBESIM_FAULT_429, 429, "TooManyRequests" },
		{ KUBESIM_FAULT_500, 500, "InternalError" },
	};
	struct reply r;
	struct err e = ERR_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(kubesim_set_fault(F->k, "/api/v1/namespaces/llm/configmaps", cases[i].kind, 7, &e), 0);
		get("/api/v1/namespaces/llm/configmaps", &r);
		assert_status(&r, cases[i].code, cases[i].reason);
		if (cases[i].kind == KUBESIM_FAULT_429)
			assert_string_equal(r.retry_after, "7");
		reply_free(&r);
		/* Other paths are untouched. */
		get("/api/v1/namespaces/llm/pods", &r);
		assert_int_equal(r.status, 200);
		reply_free(&r);
	}
	assert_int_equal(kubesim_set_fault(F->k, "/api/v1/namespaces/llm/configmaps", KUBESIM_FAULT_NONE, 0, &e), 0);
	get("/api/v1/namespaces/llm/configmaps", &r);
	assert_int_equal(r.status, 200);
	reply_free(&r);

	/* A global fault, set and cleared through the admin endpoint. */
	get("/_kubesim/fault?kind=500", &r);
	assert_int_equal(r.status, 200);
	reply_free(&r);
	get("/api/v1/nodes", &r);
	assert_status(&r, 500, "InternalError");
	reply_free(&r);
	get("/_kubesim/fault?kind=clear", &r);
	reply_free(&r);
	get("/api/v1/nodes", &r);
	assert_int_equal(r.status, 200);
	reply_free(&r);
}

static long
elapsed_ms(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1000L + (t1.tv_nsec - t0->tv_nsec) / 1000000L;
}

static void
test_transport_faults(void **state)
{
	struct reply r;
	struct err e = ERR_INIT;
	struct req quick = { .token = TOKEN, .timeout_ms = 400 };
	struct timespec t0;
	json_t *items;

	(void)state;
	/* hang: accepted, never answered. */
	assert_int_equal(kubesim_set_fault(F->k, "/api/v1/nodes", KUBESIM_FAULT_HANG, 0, &e), 0);
	do_request("/api/v1/nodes", &quick, &r);
	assert_int_equal(r.rc, CURLE_OPERATION_TIMEDOUT);
	assert_int_equal(r.len, 0);
	reply_free(&r);

	/* slow: the real answer, 1 byte per 30 ms. */
	assert_int_equal(kubesim_set_fault(F->k, "/api/v1/nodes", KUBESIM_FAULT_SLOW, 30, &e), 0);
	do_request("/api/v1/nodes", &quick, &r);
	assert_int_equal(r.rc, CURLE_OPERATION_TIMEDOUT);
	assert_true(r.len > 0 && r.len < 40);
	reply_free(&r);
	assert_int_equal(kubesim_set_fault(F->k, "/healthz", KUBESIM_FAULT_SLOW, 100, &e), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	get("/healthz", &r);
	assert_true(elapsed_ms(&t0) >= 90);
	assert_string_equal(r.body, "ok");
	reply_free(&r);

	/* truncated: Content-Length promises more than is sent. */
	assert_int_equal(kubesim_set_fault(F->k, "/api/v1/nodes", KUBESIM_FAULT_TRUNCATED, 0, &e), 0);
	do_request("/api/v1/nodes", &quick, &r);
	assert_int_equal(r.rc, CURLE_PARTIAL_FILE);
	assert_true(r.len > 0);
	assert_null(r.json);
	reply_free(&r);

	/* huge: N MiB of valid JSON. */
	assert_int_equal(kubesim_set_fault(F->k, "/api/v1/pods", KUBESIM_FAULT_HUGE, 3, &e), 0);
	get("/api/v1/pods", &r);
	assert_int_equal(r.status, 200);
	assert_true(r.len >= 3u * 1024 * 1024);
	assert_non_null(r.json);
	items = json_object_get(r.json, "items");
	assert_true(json_array_size(items) > 10000);
	assert_string_equal(jstr(r.json, "kind"), "PodList");
	reply_free(&r);

	kubesim_clear_faults(F->k);
	get("/api/v1/nodes", &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(nitems(&r), 4);
	reply_free(&r);

	/* Abandoned hung requests give their worker back: more of them than workers. */
	assert_int_equal(kubesim_set_fault(F->k, "/api/v1/nodes", KUBESIM_FAULT_HANG, 0, &e), 0);
	{
		struct req brief = { .token = TOKEN, .timeout_ms = 150 };
		int i;

		for (i = 0; i < 12; i++) {
			do_request("/api/v1/nodes", &brief, &r);
			assert_int_equal(r.rc, CURLE_OPERATION_TIMEDOUT);
			reply_free(&r);
		}
	}
	kubesim_clear_faults(F->k);
	get("/api/v1/nodes", &r);
	assert_int_equal(r.status, 200);
	reply_free(&r);

	/* A hung request does not keep kubesim_stop() waiting: teardown stops with one open. */
	assert_int_equal(kubesim_set_fault(F->k, "", KUBESIM_FAULT_HANG, 0, &e), 0);
	do_request("/api/v1/nodes", &quick, &r);
	assert_int_equal(r.rc, CURLE_OPERATION_TIMEDOUT);
	reply_free(&r);
	assert_true(kubesim_requests(F->k) > 0);
}

static void
test_fault_parse(void **state)
{
	enum kubesim_fault_kind k;
	struct err e = ERR_INIT;
	char prefix[400];

	(void)state;
	assert_int_equal(kubesim_fault_parse("429", &k), 0);
	assert_int_equal(k, KUBESIM_FAULT_429);
	assert_int_equal(kubesim_fault_parse("truncated", &k), 0);
	assert_int_equal(k, KUBESIM_FAULT_TRUNCATED);
	assert_int_equal(kubesim_fault_parse("explode", &k), -1);
	memset(prefix, 'a', sizeof(prefix) - 1);
	prefix[sizeof(prefix) - 1] = '\0';
	assert_int_equal(kubesim_set_fault(F->k, prefix, KUBESIM_FAULT_500, 0, &e), -1);
}

static void
test_start_errors(void **state)
{
	struct kubesim_options o;
	struct kubesim *k = NULL;
	struct err e = ERR_INIT;
	char cluster[512];

	(void)state;
	snprintf(cluster, sizeof(cluster), "%s/cluster", getenv("SKEWD_FIXTURES"));
	memset(&o, 0, sizeof(o));
	o.fixtures_dir = cluster;
	o.state = "lastgood";
	o.role_file = "/no/such/role.yaml";
	o.tls_dir = F->dir;
	assert_int_equal(kubesim_start(&o, &k, &e), -1);
	assert_null(k);
	assert_non_null(strstr(e.msg, "role"));
	o.role_file = cluster; /* a folder, not a ClusterRole */
	assert_int_equal(kubesim_start(&o, &k, &e), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_discovery),
		cmocka_unit_test(test_list_selectors),
		cmocka_unit_test(test_get_and_table),
		cmocka_unit_test(test_auth),
		cmocka_unit_test(test_foreign_client_cert),
		cmocka_unit_test(test_rbac),
		cmocka_unit_test(test_logs),
		cmocka_unit_test(test_proxy),
		cmocka_unit_test(test_state_switch),
		cmocka_unit_test(test_error_faults),
		cmocka_unit_test(test_fault_parse),
		cmocka_unit_test(test_start_errors),
		cmocka_unit_test(test_transport_faults),
	};

	curl_global_init(CURL_GLOBAL_DEFAULT);
	return cmocka_run_group_tests(tests, setup, teardown);
}
