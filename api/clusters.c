/*
 * clusters.c - registered Kubernetes clusters: GET, POST /api/v1/clusters,
 * POST /api/v1/clusters/import, GET, PATCH, DELETE /api/v1/clusters/{cluster}
 * and POST /api/v1/clusters/{cluster}/collect.
 *
 * Credentials are write-only. They are sealed (seal.h) the moment they are
 * read from the request, bound to their use by the AAD
 * "cluster:<name>:auth" or "cluster:<name>:prometheus", and no answer, log
 * line or error message ever repeats them: a cluster is shown with
 * `auth: {"kind": "token"}` and nothing more. Only admins may register or
 * change a cluster (the route table says so): skewd will fetch whatever the
 * URL points at, with whatever credential it was given.
 */
#include "api/api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collect/collect.h"
#include "config/config.h"
#include "kube/kube.h"
#include "seal/seal.h"
#include "store/store.h"
#include "util/err.h"
#include "util/limits.h"
#include "util/banned.h"

/* Frees a string that may hold a secret, wiping it first. NULL-safe. */
static void
free_secret(char *s)
{
	if (s != NULL) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

int
api_dns_label_check(const char *s, const char *what, struct err *e)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > STORE_MAX_NAME)
		return err_set(e, ERR_INVALID, "%s must be 1 to %d characters", what, STORE_MAX_NAME);
	for (i = 0; i < n; i++) {
		char ch = s[i];
		int ok = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-';

		if (!ok || ((i == 0 || i == n - 1) && ch == '-'))
			return err_set(e, ERR_INVALID,
			    "%s '%.63s' is not a DNS-1123 label (lower case letters, digits and '-', "
			    "starting and ending with a letter or digit)", what, s);
	}
	return 0;
}

/* A printable string without control bytes, at most max bytes. */
static int
check_text(const char *s, size_t max, const char *what, struct err *e)
{
	size_t i, n = strlen(s);

	if (n > max)
		return err_set(e, ERR_TOO_LARGE, "%s is longer than %zu bytes", what, max);
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch < 0x20 && ch != '\n' && ch != '\r' && ch != '\t')
			return err_set(e, ERR_INVALID, "%s contains a control character", what);
	}
	return 0;
}

static int
check_pem(const char *s, const char *marker, const char *what, struct err *e)
{
	if (check_text(s, KUBE_MAX_PEM_BYTES, what, e) < 0)
		return -1;
	if (strstr(s, "-----BEGIN ") == NULL || strstr(s, marker) == NULL)
		return err_set(e, ERR_INVALID, "%s is not PEM text (no '-----BEGIN ...%s' line)", what,
		    marker);
	return 0;
}

/* A bearer token: visible ASCII only, so it cannot smuggle a header. */
static int
check_token(const char *s, const char *what, struct err *e)
{
	size_t i, n = strlen(s);

	if (n == 0)
		return err_set(e, ERR_INVALID, "%s must not be empty", what);
	if (n > KUBE_MAX_TOKEN_BYTES)
		return err_set(e, ERR_TOO_LARGE, "%s is longer than %d bytes", what, KUBE_MAX_TOKEN_BYTES);
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch <= 0x20 || ch >= 0x7f)
			return err_set(e, ERR_INVALID,
			    "%s may hold only visible ASCII characters (no spaces or line breaks)", what);
	}
	return 0;
}

static int
set_str(char **dst, const char *src, struct err *e)
{
	char *copy = NULL;

	if (src != NULL && (copy = strdup(src)) == NULL)
		return err_set(e, ERR_NOMEM, "out of memory reading the cluster");
	free(*dst);
	*dst = copy;
	return 0;
}

/* The string member `key` of obj: 0 and *out (borrowed; NULL when absent or
 * null), or -1 when it is something other than a string. */
static int
get_str(const json_t *obj, const char *key, const char *where, const char **out, struct err *e)
{
	json_t *v = json_object_get(obj, key);

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return err_set(e, ERR_INVALID, "%s\"%s\" must be a string", where, key);
	*out = json_string_value(v);
	return 0;
}

static int
only_keys(const json_t *obj, const char *const *allowed, const char *what, struct err *e)
{
	const char *key;
	json_t *v;
	size_t i;

	json_object_foreach((json_t *)obj, key, v) {
		for (i = 0; allowed[i] != NULL; i++) {
			if (strcmp(key, allowed[i]) == 0)
				break;
		}
		if (allowed[i] == NULL)
			return err_set(e, ERR_INVALID, "unknown field '%.64s' in %s", key, what);
	}
	return 0;
}

/*
 * Reads and checks an "auth" object, seals it under "cluster:<name>:auth" and
 * stores the blob and its kind in c. The sealed JSON is one of {"token"},
 * {"token_file"}, {"client_cert_pem", "client_key_pem"} (see collect.h).
 */
static int
read_auth(const json_t *auth, const struct seal *seal, struct store_cluster *c, struct err *e)
{
	static const char *const allowed[] = { "token", "token_file", "client_cert_pem",
		"client_key_pem", NULL };
	const char *token, *token_file, *cert, *key, *kind;
	json_t *plain_v = NULL;
	char *plain = NULL, aad[SEAL_MAX_AAD_BYTES];
	unsigned char *blob = NULL;
	size_t bloblen = 0;
	int methods, ret = -1;

	if (!json_is_object(auth))
		return err_set(e, ERR_INVALID,
		    "\"auth\" must be an object with one of \"token\", \"token_file\", or "
		    "\"client_cert_pem\" and \"client_key_pem\"");
	if (only_keys(auth, allowed, "\"auth\"", e) < 0 ||
	    get_str(auth, "token", "auth: ", &token, e) < 0 ||
	    get_str(auth, "token_file", "auth: ", &token_file, e) < 0 ||
	    get_str(auth, "client_cert_pem", "auth: ", &cert, e) < 0 ||
	    get_str(auth, "client_key_pem", "auth: ", &key, e) < 0)
		return -1;
	methods = (token != NULL) + (token_file != NULL) + (cert != NULL || key != NULL);
	if (methods != 1)
		return err_set(e, ERR_INVALID,
		    "\"auth\" must hold exactly one method: \"token\", \"token_file\", or "
		    "\"client_cert_pem\" with \"client_key_pem\"");
	if (token != NULL) {
		if (check_token(token, "auth.token", e) < 0)
			return -1;
		kind = "token";
		plain_v = json_pack("{s:s}", "token", token);
	} else if (token_file != NULL) {
		if (check_text(token_file, API_MAX_TOKEN_FILE_PATH, "auth.token_file", e) < 0)
			return -1;
		if (token_file[0] != '/')
			return err_set(e, ERR_INVALID, "auth.token_file must be an absolute path");
		kind = "token_file";
		plain_v = json_pack("{s:s}", "token_file", token_file);
	} else {
		if (cert == NULL || key == NULL)
			return err_set(e, ERR_INVALID,
			    "a client certificate needs both \"client_cert_pem\" and \"client_key_pem\"");
		if (check_pem(cert, "CERTIFICATE-----", "auth.client_cert_pem", e) < 0 ||
		    check_pem(key, "PRIVATE KEY-----", "auth.client_key_pem", e) < 0)
			return -1;
		kind = "client_cert";
		plain_v = json_pack("{s:s, s:s}", "client_cert_pem", cert, "client_key_pem", key);
	}
	if (plain_v == NULL) {
		err_set(e, ERR_NOMEM, "out of memory reading the credentials");
		goto out;
	}
	if (seal == NULL) {
		err_set(e, ERR_UNAVAILABLE, "credentials cannot be stored: the seal key is not open");
		goto out;
	}
	plain = json_dumps(plain_v, JSON_COMPACT);
	if (plain == NULL) {
		err_set(e, ERR_NOMEM, "out of memory reading the credentials");
		goto out;
	}
	snprintf(aad, sizeof(aad), "cluster:%s:auth", c->name);
	if (seal_lock(seal, aad, plain, strlen(plain), &blob, &bloblen, e) < 0)
		goto out;
	if (set_str(&c->auth_kind, kind, e) < 0)
		goto out;
	if (c->sealed_auth != NULL) {
		explicit_bzero(c->sealed_auth, c->sealed_auth_len);
		free(c->sealed_auth);
	}
	c->sealed_auth = blob;
	c->sealed_auth_len = bloblen;
	blob = NULL;
	ret = 0;
out:
	free_secret(plain);
	if (plain_v != NULL) {
		/* jansson keeps its own copies of the strings; wipe them too. */
		const char *k;
		json_t *v;

		json_object_foreach(plain_v, k, v) {
			if (json_is_string(v))
				explicit_bzero((char *)json_string_value(v), json_string_length(v));
		}
		json_decref(plain_v);
	}
	free(blob);
	return ret;
}

static int
read_prometheus(const json_t *p, const struct seal *seal, struct store_cluster *c, struct err *e)
{
	static const char *const allowed[] = { "url", "token", NULL };
	const char *url, *token;
	char aad[SEAL_MAX_AAD_BYTES];
	unsigned char *blob = NULL;
	size_t bloblen = 0;

	if (json_is_null(p)) {
		free(c->prometheus_url);
		c->prometheus_url = NULL;
		free(c->sealed_prometheus_token);
		c->sealed_prometheus_token = NULL;
		c->sealed_prometheus_token_len = 0;
		return 0;
	}
	if (!json_is_object(p))
		return err_set(e, ERR_INVALID, "\"prometheus\" must be an object with \"url\" and an optional \"token\"");
	if (only_keys(p, allowed, "\"prometheus\"", e) < 0 ||
	    get_str(p, "url", "prometheus: ", &url, e) < 0 ||
	    get_str(p, "token", "prometheus: ", &token, e) < 0)
		return -1;
	if (url == NULL)
		return err_set(e, ERR_INVALID, "\"prometheus\" needs a \"url\"");
	/* Checked first and never quoted: the URL is stored and shown as given,
	 * so a password in it would be too. */
	if (strchr(url, '@') != NULL)
		return err_set(e, ERR_INVALID, "prometheus.url must not contain user info (user:password@); "
		    "give the credential as prometheus.token");
	if (check_text(url, KUBE_MAX_URL_BYTES, "prometheus.url", e) < 0)
		return -1;
	if (strncmp(url, "https://", 8) != 0 && strncmp(url, "http://", 7) != 0)
		return err_set(e, ERR_INVALID, "prometheus.url must be an http:// or https:// URL");
	if (token != NULL) {
		if (check_token(token, "prometheus.token", e) < 0)
			return -1;
		if (seal == NULL)
			return err_set(e, ERR_UNAVAILABLE,
			    "credentials cannot be stored: the seal key is not open");
		snprintf(aad, sizeof(aad), "cluster:%s:prometheus", c->name);
		if (seal_lock(seal, aad, token, strlen(token), &blob, &bloblen, e) < 0)
			return -1;
	}
	if (set_str(&c->prometheus_url, url, e) < 0) {
		free(blob);
		return -1;
	}
	if (c->sealed_prometheus_token != NULL) {
		explicit_bzero(c->sealed_prometheus_token, c->sealed_prometheus_token_len);
		free(c->sealed_prometheus_token);
	}
	c->sealed_prometheus_token = blob;
	c->sealed_prometheus_token_len = bloblen;
	return 0;
}

static int
read_namespaces(const json_t *v, struct store_cluster *c, struct err *e)
{
	json_t *ns;
	size_t i;
	char *text;

	if (!json_is_array(v))
		return err_set(e, ERR_INVALID, "\"namespaces\" must be a list of namespace names ([] = all)");
	if (json_array_size(v) > API_MAX_CLUSTER_NAMESPACES)
		return err_set(e, ERR_TOO_LARGE, "\"namespaces\" lists more than %d namespaces",
		    API_MAX_CLUSTER_NAMESPACES);
	json_array_foreach(v, i, ns) {
		if (!json_is_string(ns))
			return err_set(e, ERR_INVALID, "\"namespaces\" must hold only strings");
		if (api_dns_label_check(json_string_value(ns), "namespace", e) < 0)
			return -1;
	}
	text = json_dumps(v, JSON_COMPACT);
	if (text == NULL)
		return err_set(e, ERR_NOMEM, "out of memory reading the namespaces");
	free(c->namespaces_json);
	c->namespaces_json = text;
	return 0;
}

/*
 * Applies the fields of body to c. For a new cluster (`create` 1) name,
 * server and auth are required; for a PATCH every field is optional and the
 * name may only repeat the current one.
 */
static int
apply_body(const json_t *body, int create, const struct config *cfg, const struct seal *seal,
    struct store_cluster *c, struct err *e)
{
	static const char *const allowed[] = { "name", "server", "ca_pem", "insecure_skip_tls_verify",
		"auth", "namespaces", "label_selector", "prometheus", NULL };
	const char *name, *server, *ca_pem, *selector;
	json_t *v;
	int allow_http = cfg != NULL ? cfg->allow_http_clusters : 0;

	if (!json_is_object(body))
		return err_set(e, ERR_INVALID, "the request body must be a JSON object describing the cluster");
	if (only_keys(body, allowed, "the cluster", e) < 0 ||
	    get_str(body, "name", "", &name, e) < 0 ||
	    get_str(body, "server", "", &server, e) < 0 ||
	    get_str(body, "ca_pem", "", &ca_pem, e) < 0 ||
	    get_str(body, "label_selector", "", &selector, e) < 0)
		return -1;

	if (create) {
		if (name == NULL)
			return err_set(e, ERR_INVALID, "\"name\" is required");
		if (api_dns_label_check(name, "cluster name", e) < 0)
			return -1;
		snprintf(c->name, sizeof(c->name), "%s", name);
		if (server == NULL)
			return err_set(e, ERR_INVALID, "\"server\" is required (the API server URL)");
		if (json_object_get(body, "auth") == NULL)
			return err_set(e, ERR_INVALID,
			    "\"auth\" is required: {\"token\"}, {\"token_file\"} or "
			    "{\"client_cert_pem\", \"client_key_pem\"}");
	} else if (name != NULL && strcmp(name, c->name) != 0) {
		return err_set(e, ERR_INVALID, "a cluster cannot be renamed; delete it and register it again");
	}

	if (server != NULL) {
		if (strlen(server) > KUBE_MAX_URL_BYTES)
			return err_set(e, ERR_TOO_LARGE, "\"server\" is longer than %d bytes", KUBE_MAX_URL_BYTES);
		if (kube_server_check(server, allow_http, e) < 0)
			return -1;
		if (set_str(&c->server, server, e) < 0)
			return -1;
	}
	v = json_object_get(body, "ca_pem");
	if (v != NULL) {
		if (ca_pem != NULL && check_pem(ca_pem, "CERTIFICATE-----", "\"ca_pem\"", e) < 0)
			return -1;
		if (set_str(&c->ca_pem, ca_pem, e) < 0)
			return -1;
	}
	v = json_object_get(body, "insecure_skip_tls_verify");
	if (v != NULL) {
		if (!json_is_boolean(v))
			return err_set(e, ERR_INVALID, "\"insecure_skip_tls_verify\" must be true or false");
		c->insecure_skip_tls_verify = json_is_true(v);
	}
	if (c->insecure_skip_tls_verify && c->ca_pem != NULL)
		return err_set(e, ERR_INVALID,
		    "give either \"ca_pem\" or \"insecure_skip_tls_verify\": true, not both");
	v = json_object_get(body, "namespaces");
	if (v != NULL && !json_is_null(v) && read_namespaces(v, c, e) < 0)
		return -1;
	if (c->namespaces_json == NULL && set_str(&c->namespaces_json, "[]", e) < 0)
		return -1;
	if (selector != NULL) {
		if (check_text(selector, API_MAX_LABEL_SELECTOR, "\"label_selector\"", e) < 0)
			return -1;
		if (strchr(selector, '\n') != NULL || strchr(selector, '\r') != NULL)
			return err_set(e, ERR_INVALID, "\"label_selector\" must be one line");
	}
	if (selector != NULL || c->label_selector == NULL) {
		if (set_str(&c->label_selector, selector != NULL ? selector : "", e) < 0)
			return -1;
	}
	v = json_object_get(body, "auth");
	if (v != NULL && read_auth(v, seal, c, e) < 0)
		return -1;
	v = json_object_get(body, "prometheus");
	if (v != NULL && read_prometheus(v, seal, c, e) < 0)
		return -1;
	return 0;
}

/* The public view of a cluster: never a credential, never a sealed blob. */
static json_t *
cluster_json(const struct store_cluster *c)
{
	char created[32], updated[32], pull[32], success[32];
	json_t *ns = NULL, *out;

	api_time_rfc3339(c->created_at, created);
	api_time_rfc3339(c->updated_at, updated);
	api_time_rfc3339(c->last_pull_at, pull);
	api_time_rfc3339(c->last_success_at, success);
	if (c->namespaces_json != NULL)
		ns = json_loads(c->namespaces_json, 0, NULL);
	if (!json_is_array(ns)) {
		json_decref(ns);
		ns = json_array();
	}
	out = json_pack("{s:s, s:s?, s:o, s:b, s:o, s:s, s:{s:s?}, s:o, s:s, s:s, s:{s:o, s:o, s:s?, s:o, s:s?}}",
	    "name", c->name,
	    "server", c->server,
	    "ca_pem", c->ca_pem != NULL ? json_string(c->ca_pem) : json_null(),
	    "insecure_skip_tls_verify", c->insecure_skip_tls_verify,
	    "namespaces", ns,
	    "label_selector", c->label_selector != NULL ? c->label_selector : "",
	    "auth", "kind", c->auth_kind,
	    "prometheus", c->prometheus_url != NULL ?
		json_pack("{s:s, s:b}", "url", c->prometheus_url, "token",
		    c->sealed_prometheus_token != NULL) : json_null(),
	    "created_at", created,
	    "updated_at", updated,
	    "health",
		"last_pull_at", c->last_pull_at > 0 ? json_string(pull) : json_null(),
		"last_success_at", c->last_success_at > 0 ? json_string(success) : json_null(),
		"last_error", c->last_error,
		"last_duration_ms", c->last_pull_at > 0 ? json_integer(c->last_duration_ms) : json_null(),
		"server_version", c->server_version);
	return out;
}

int
api_cluster_register(struct store *st, const struct seal *seal, const struct config *cfg,
    const json_t *body, json_t **out, struct err *e)
{
	struct store_cluster c, got;
	int ret = -1;

	memset(&c, 0, sizeof(c));
	memset(&got, 0, sizeof(got));
	*out = NULL;
	if (apply_body(body, 1, cfg, seal, &c, e) < 0)
		goto out;
	if (store_cluster_create(st, &c, e) < 0)
		goto out;
	if (store_cluster_get(st, c.name, &got, e) < 0)
		goto out;
	*out = cluster_json(&got);
	if (*out == NULL) {
		err_set(e, ERR_NOMEM, "out of memory building the cluster answer");
		goto out;
	}
	ret = 0;
out:
	store_cluster_release(&c);
	store_cluster_release(&got);
	return ret;
}

int
api_clusters_create(struct api_req *rq, struct api_resp *rs, struct err *e)
{
	const char *name;
	json_t *out = NULL;

	if (api_cluster_register(rq->store, rq->seal, rq->cfg, rq->body, &out, e) < 0)
		return -1;
	name = json_string_value(json_object_get(out, "name"));
	snprintf(rs->location, sizeof(rs->location), "/api/v1/clusters/%s", name != NULL ? name : "");
	return api_resp_json(rs, 201, out, e);
}

int
api_clusters_import(struct api_req *rq, struct api_resp *rs, struct err *e)
{
	static const char *const allowed[] = { "name", "kubeconfig", "context", "namespaces",
		"label_selector", "prometheus", NULL };
	struct kube_creds creds;
	const char *name, *yaml, *context;
	char *hint = NULL;
	json_t *body = NULL, *auth = NULL, *out = NULL, *v;
	int ret = -1;

	memset(&creds, 0, sizeof(creds));
	if (!json_is_object(rq->body)) {
		err_set(e, ERR_INVALID,
		    "the request body must be a JSON object with \"name\", \"kubeconfig\" and \"context\"");
		goto out;
	}
	if (only_keys(rq->body, allowed, "the import", e) < 0 ||
	    get_str(rq->body, "name", "", &name, e) < 0 ||
	    get_str(rq->body, "kubeconfig", "", &yaml, e) < 0 ||
	    get_str(rq->body, "context", "", &context, e) < 0)
		goto out;
	if (yaml == NULL) {
		err_set(e, ERR_INVALID, "\"kubeconfig\" is required (the kubeconfig YAML as text)");
		goto out;
	}
	if (strlen(yaml) > KUBE_MAX_KUBECONFIG_BYTES) {
		err_set(e, ERR_TOO_LARGE, "the kubeconfig is longer than %d bytes", KUBE_MAX_KUBECONFIG_BYTES);
		goto out;
	}
	if (kube_creds_from_kubeconfig(yaml, strlen(yaml), context, &creds, &hint, e) < 0) {
		/* A refused user (exec, auth-provider, files) or a missing context is
		 * a problem with the upload: 400 with kube's sentence. */
		if (e != NULL && (e->code == ERR_UNSUPPORTED || e->code == ERR_NOT_FOUND))
			e->code = ERR_INVALID;
		goto out;
	}
	if (name == NULL)
		name = hint;
	if (name == NULL) {
		err_set(e, ERR_INVALID, "\"name\" is required: the kubeconfig does not name its cluster");
		goto out;
	}
	if (creds.token != NULL)
		auth = json_pack("{s:s}", "token", creds.token);
	else if (creds.client_cert_pem != NULL && creds.client_key_pem != NULL)
		auth = json_pack("{s:s, s:s}", "client_cert_pem", creds.client_cert_pem,
		    "client_key_pem", creds.client_key_pem);
	else if (creds.token_file != NULL)
		auth = json_pack("{s:s}", "token_file", creds.token_file);
	else {
		err_set(e, ERR_INVALID,
		    "the kubeconfig user has no credentials skewd can use; give a token or "
		    "client-certificate-data and client-key-data");
		goto out;
	}
	body = json_pack("{s:s, s:s?, s:o?, s:b, s:o}",
	    "name", name,
	    "server", creds.server,
	    "ca_pem", creds.ca_pem != NULL ? json_string(creds.ca_pem) : NULL,
	    "insecure_skip_tls_verify", creds.insecure_skip_tls_verify,
	    "auth", auth);
	auth = NULL;
	if (body == NULL) {
		err_set(e, ERR_NOMEM, "out of memory reading the kubeconfig");
		goto out;
	}
	if ((v = json_object_get(rq->body, "namespaces")) != NULL)
		json_object_set(body, "namespaces", v);
	if ((v = json_object_get(rq->body, "label_selector")) != NULL)
		json_object_set(body, "label_selector", v);
	if ((v = json_object_get(rq->body, "prometheus")) != NULL)
		json_object_set(body, "prometheus", v);
	if (api_cluster_register(rq->store, rq->seal, rq->cfg, body, &out, e) < 0)
		goto out;
	snprintf(rs->location, sizeof(rs->location), "/api/v1/clusters/%s", name);
	ret = api_resp_json(rs, 201, out, e);
	out = NULL;
out:
	json_decref(out);
	json_decref(auth);
	json_decref(body);
	free(hint);
	kube_creds_release(&creds);
	return ret;
}

int
api_clusters_list(struct api_req *rq, struct api_resp *rs, struct err *e)
{
	struct store_cluster *items = NULL;
	json_t *arr = NULL;
	size_t i, n = 0;
	int ret = -1;

	if (store_cluster_list(rq->store, &items, &n, e) < 0)
		goto out;
	if ((arr = json_array()) == NULL) {
		err_set(e, ERR_NOMEM, "out of memory listing clusters");
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (json_array_append_new(arr, cluster_json(&items[i])) < 0) {
			err_set(e, ERR_NOMEM, "out of memory listing clusters");
			goto out;
		}
	}
	ret = api_resp_json(rs, 200, json_pack("{s:o}", "clusters", arr), e);
	arr = NULL;
out:
	json_decref(arr);
	for (i = 0; i < n; i++)
		store_cluster_release(&items[i]);
	free(items);
	return ret;
}

int
api_clusters_get(struct api_req *rq, struct api_resp *rs, struct err *e)
{
	struct store_cluster c;
	const char *name = api_param(rq, "cluster");
	int ret;

	if (name == NULL)
		return err_set(e, ERR_INTERNAL, "route has no {cluster} parameter");
	memset(&c, 0, sizeof(c));
	if (store_cluster_get(rq->store, name, &c, e) < 0)
		return -1;
	ret = api_resp_json(rs, 200, cluster_json(&c), e);
	store_cluster_release(&c);
	return ret;
}

int
api_clusters_update(struct api_req *rq, struct api_resp *rs, struct err *e)
{
	struct store_cluster c;
	const char *name = api_param(rq, "cluster");
	int ret = -1;

	if (name == NULL)
		return err_set(e, ERR_INTERNAL, "route has no {cluster} parameter");
	memset(&c, 0, sizeof(c));
	if (store_cluster_get(rq->store, name, &c, e) < 0)
		goto out;
	if (apply_body(rq->body, 0, rq->cfg, rq->seal, &c, e) < 0)
		goto out;
	if (store_cluster_update(rq->store, &c, e) < 0)
		goto out;
	store_cluster_release(&c);
	memset(&c, 0, sizeof(c));
	if (store_cluster_get(rq->store, name, &c, e) < 0)
		goto out;
	ret = api_resp_json(rs, 200, cluster_json(&c), e);
out:
	store_cluster_release(&c);
	return ret;
}

int
api_clusters_delete(struct api_req *rq, struct api_resp *rs, struct err *e)
{
	const char *name = api_param(rq, "cluster");

	if (name == NULL)
		return err_set(e, ERR_INTERNAL, "route has no {cluster} parameter");
	if (store_cluster_delete(rq->store, name, e) < 0)
		return -1;
	rs->status = 204;
	return 0;
}

int
api_clusters_collect(struct api_req *rq, struct api_resp *rs, struct err *e)
{
	const char *name = api_param(rq, "cluster");
	json_t *out = NULL;

	if (name == NULL)
		return err_set(e, ERR_INTERNAL, "route has no {cluster} parameter");
	if (rq->collect == NULL)
		return err_set(e, ERR_UNAVAILABLE, "the collector is not running");
	if (collect_cluster(rq->collect, name, &out, e) < 0)
		return -1;
	return api_resp_json(rs, 200, out, e);
}
