/*
 * kube.c - the Kubernetes API client: libcurl easy handles on one multi
 * handle per client, so the connections of a batch (and of the next one)
 * are reused.
 *
 * Every transfer gets the same hardening: https only (http only when the
 * client allows it), no redirects, no proxy from the environment, a connect
 * timeout, a whole-request timeout and a low-speed limit, gzip accepted with
 * the byte cap counted on the decoded bytes in the write callback, the
 * bearer token in a header (never in a URL), TLS material from memory.
 */
#include "kube/kube.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "util/buf.h"
#include "util/err.h"
#include "util/limits.h"
#include "util/log.h"
#include "util/banned.h"

struct kube_client {
	char *server;          /* without a trailing slash */
	char *ca_pem;
	int insecure;
	char *token;
	char *token_file;
	char *cert_pem;
	char *key_pem;
	long connect_ms;
	long request_ms;
	size_t max_bytes;
	int max_parallel;
	int allow_http;
	unsigned long connects;
	CURLM *multi;          /* kept between batches: its connection cache */
};

struct kube_req {
	struct kube_batch *batch;
	char *path;
	int want_json;
	size_t max;
	CURL *h;
	struct buf body;
	int over;              /* the write callback stopped at the cap */
	size_t header_bytes;
	int over_headers;      /* the header callback stopped at KUBE_MAX_HEADER_BYTES */
	long status;           /* seen by the write callback */
	char ctype[128];
	char retry_after[32];
	char location[512];
	char errbuf[CURL_ERROR_SIZE];
	int failed;
	struct err err;
	json_t *json;
	char *text;
	size_t len;
};

struct kube_batch {
	struct kube_client *k;
	struct kube_req *reqs;
	size_t n;
	size_t cap;
	int ran;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_FAILED_INIT;

static void
curl_init_once(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static int
curl_ready(struct err *e)
{
	pthread_once(&curl_once, curl_init_once);
	if (curl_init_rc != CURLE_OK)
		return err_set(e, ERR_INTERNAL, "cannot initialise libcurl: %s", curl_easy_strerror(curl_init_rc));
	return 0;
}

/* Frees a string after overwriting it: for tokens and keys. */
static void
free_secret(char *s)
{
	if (s == NULL)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

void
kube_creds_release(struct kube_creds *c)
{
	if (c == NULL)
		return;
	free(c->server);
	free(c->ca_pem);
	free_secret(c->token);
	free(c->token_file);
	free(c->client_cert_pem);
	free_secret(c->client_key_pem);
	memset(c, 0, sizeof(*c));
}

/* Copies text into out with anything but printable ASCII replaced by '?', at most max chars. */
static void
printable(const char *s, size_t len, size_t max, char *out, size_t outsz)
{
	size_t i, o = 0;

	for (i = 0; i < len && o + 1 < outsz; i++) {
		unsigned char c = (unsigned char)s[i];

		if (o >= max) {
			if (o + 4 < outsz) {
				memcpy(out + o, "...", 3);
				o += 3;
			}
			break;
		}
		out[o++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	out[o] = '\0';
}

int
kube_server_check(const char *url, int allow_http, struct err *e)
{
	CURLU *u = NULL;
	char *host = NULL, *part = NULL;
	char shown[96];
	const char *p;
	size_t n;
	int ret = -1;

	if (url == NULL || *url == '\0')
		return err_set(e, ERR_INVALID, "the server URL is empty");
	n = strlen(url);
	if (n > KUBE_MAX_URL_BYTES)
		return err_set(e, ERR_INVALID, "the server URL is longer than %d bytes", KUBE_MAX_URL_BYTES);
	/* Checked first and never quoted: the user info may hold a password. */
	if (strchr(url, '@') != NULL)
		return err_set(e, ERR_INVALID, "the server URL must not contain user info (user:password@); "
		    "give credentials as a token, a token file or a client certificate");
	printable(url, n, 60, shown, sizeof(shown));
	for (p = url; *p != '\0'; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
			return err_set(e, ERR_INVALID, "the server URL '%s' contains a space or a control character",
			    shown);
	p = strstr(url, "://");
	if (p == NULL) {
		if (strncasecmp(url, "file:", 5) == 0)
			return err_set(e, ERR_INVALID, "the server URL '%s' must use https, not file", shown);
		return err_set(e, ERR_INVALID, "the server URL '%s' has no scheme; write https://HOST[:PORT]", shown);
	}
	n = (size_t)(p - url);
	if (!((n == 5 && strncasecmp(url, "https", 5) == 0) ||
	    (allow_http && n == 4 && strncasecmp(url, "http", 4) == 0))) {
		printable(url, n, 16, shown, sizeof(shown));
		return err_set(e, ERR_INVALID, "the server URL must use %s, not '%s'",
		    allow_http ? "https or http" : "https", shown);
	}
	if (p[3] == '\0' || p[3] == '/' || p[3] == ':' || p[3] == '?' || p[3] == '#')
		return err_set(e, ERR_INVALID, "the server URL '%s' has no host", shown);
	u = curl_url();
	if (u == NULL)
		return err_set(e, ERR_NOMEM, "out of memory checking a server URL");
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK) {
		ret = err_set(e, ERR_INVALID, "the server URL '%s' is not a valid URL", shown);
		goto out;
	}
	if (curl_url_get(u, CURLUPART_USER, &part, 0) == CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PASSWORD, &part, 0) == CURLUE_OK ||
	    curl_url_get(u, CURLUPART_OPTIONS, &part, 0) == CURLUE_OK) {
		ret = err_set(e, ERR_INVALID, "the server URL must not contain user info (user:password@); "
		    "give credentials as a token, a token file or a client certificate");
		goto out;
	}
	if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || host[0] == '\0') {
		ret = err_set(e, ERR_INVALID, "the server URL '%s' has no host", shown);
		goto out;
	}
	if (curl_url_get(u, CURLUPART_QUERY, &part, 0) == CURLUE_OK || strchr(url, '?') != NULL) {
		ret = err_set(e, ERR_INVALID, "the server URL '%s' must not have a query", shown);
		goto out;
	}
	if (curl_url_get(u, CURLUPART_FRAGMENT, &part, 0) == CURLUE_OK || strchr(url, '#') != NULL) {
		ret = err_set(e, ERR_INVALID, "the server URL '%s' must not have a fragment", shown);
		goto out;
	}
	ret = 0;
out:
	curl_free(part);
	curl_free(host);
	curl_url_cleanup(u);
	return ret;
}

static int
dup_str(const char *s, size_t max, const char *what, char **out, struct err *e)
{
	*out = NULL;
	if (s == NULL)
		return 0;
	if (strlen(s) > max)
		return err_set(e, ERR_TOO_LARGE, "the %s is longer than %zu bytes", what, max);
	*out = strdup(s);
	if (*out == NULL)
		return err_set(e, ERR_NOMEM, "out of memory copying the %s", what);
	return 0;
}

/* A bearer token goes into a header: printable ASCII without spaces only. */
static int
token_check(const char *t, const char *what, struct err *e)
{
	const char *p;

	if (*t == '\0')
		return err_set(e, ERR_INVALID, "the %s is empty", what);
	for (p = t; *p != '\0'; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
			return err_set(e, ERR_INVALID, "the %s contains a space or a control character", what);
	return 0;
}

static int
pem_check(const char *pem, const char *what, const char *marker, struct err *e)
{
	if (strstr(pem, "-----BEGIN ") == NULL || (marker != NULL && strstr(pem, marker) == NULL))
		return err_set(e, ERR_INVALID, "the %s is not PEM (no '-----BEGIN %s' line)", what,
		    marker != NULL ? marker + 11 : "...");
	return 0;
}

int
kube_client_new(const struct kube_creds *creds, const struct kube_options *opt,
    struct kube_client **out, struct err *e)
{
	struct kube_client *k = NULL;
	struct kube_options none;
	size_t n;
	int ret = -1;

	*out = NULL;
	if (opt == NULL) {
		memset(&none, 0, sizeof(none));
		opt = &none;
	}
	if (curl_ready(e) < 0)
		return -1;
	if (kube_server_check(creds->server, opt->allow_http, e) < 0)
		return -1;
	if (creds->token != NULL && token_check(creds->token, "bearer token", e) < 0)
		return -1;
	if ((creds->client_cert_pem == NULL) != (creds->client_key_pem == NULL))
		return err_set(e, ERR_INVALID, "a client certificate needs its key, and a key its certificate");
	if (creds->ca_pem != NULL && pem_check(creds->ca_pem, "CA bundle", "-----BEGIN CERTIFICATE-----", e) < 0)
		return -1;
	if (creds->client_cert_pem != NULL &&
	    pem_check(creds->client_cert_pem, "client certificate", "-----BEGIN CERTIFICATE-----", e) < 0)
		return -1;
	if (creds->client_key_pem != NULL && pem_check(creds->client_key_pem, "client key", NULL, e) < 0)
		return -1;
	if (opt->max_parallel < 0 || opt->max_parallel > KUBE_MAX_PARALLEL_LIMIT)
		return err_set(e, ERR_INVALID, "max_parallel must be between 1 and %d", KUBE_MAX_PARALLEL_LIMIT);
	if (opt->connect_timeout_ms < 0 || opt->request_timeout_ms < 0)
		return err_set(e, ERR_INVALID, "a timeout must not be negative");

	k = calloc(1, sizeof(*k));
	if (k == NULL)
		return err_set(e, ERR_NOMEM, "out of memory creating a Kubernetes client");
	if (dup_str(creds->server, KUBE_MAX_URL_BYTES, "server URL", &k->server, e) < 0 ||
	    dup_str(creds->ca_pem, KUBE_MAX_PEM_BYTES, "CA bundle", &k->ca_pem, e) < 0 ||
	    dup_str(creds->token, KUBE_MAX_TOKEN_BYTES, "bearer token", &k->token, e) < 0 ||
	    dup_str(creds->token_file, KUBE_MAX_PATH_BYTES, "token file path", &k->token_file, e) < 0 ||
	    dup_str(creds->client_cert_pem, KUBE_MAX_PEM_BYTES, "client certificate", &k->cert_pem, e) < 0 ||
	    dup_str(creds->client_key_pem, KUBE_MAX_PEM_BYTES, "client key", &k->key_pem, e) < 0)
		goto out;
	n = strlen(k->server);
	while (n > 0 && k->server[n - 1] == '/')
		k->server[--n] = '\0';
	k->insecure = creds->insecure_skip_tls_verify != 0;
	k->connect_ms = opt->connect_timeout_ms > 0 ? opt->connect_timeout_ms : KUBE_CONNECT_TIMEOUT_MS;
	k->request_ms = opt->request_timeout_ms > 0 ? opt->request_timeout_ms : KUBE_REQUEST_TIMEOUT_MS;
	k->max_bytes = opt->max_response_bytes > 0 ? opt->max_response_bytes : KUBE_MAX_RESPONSE_BYTES;
	k->max_parallel = opt->max_parallel > 0 ? opt->max_parallel : KUBE_MAX_PARALLEL;
	k->allow_http = opt->allow_http != 0;
	k->multi = curl_multi_init();
	if (k->multi == NULL) {
		ret = err_set(e, ERR_NOMEM, "out of memory creating a libcurl multi handle");
		goto out;
	}
	curl_multi_setopt(k->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)k->max_parallel);
	*out = k;
	k = NULL;
	ret = 0;
out:
	kube_client_free(k);
	return ret;
}

void
kube_client_free(struct kube_client *k)
{
	if (k == NULL)
		return;
	if (k->multi != NULL)
		curl_multi_cleanup(k->multi);
	free(k->server);
	free(k->ca_pem);
	free_secret(k->token);
	free(k->token_file);
	free(k->cert_pem);
	free_secret(k->key_pem);
	free(k);
}

unsigned long
kube_client_connects(const struct kube_client *k)
{
	return k->connects;
}

/* Reads the token file (it may have rotated since the last batch). Caller frees with free_secret(). */
static int
read_token_file(const char *path, char **out, struct err *e)
{
	char *t = NULL;
	size_t len = 0;
	ssize_t r;
	int fd, ret = -1;
	struct stat st;

	*out = NULL;
	/* O_NONBLOCK: a FIFO in place of the file must not hang the pull. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return err_set(e, ERR_IO, "cannot read the token file '%s': %s", path, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		ret = err_set(e, ERR_IO, "the token file '%s' is not a regular file", path);
		goto out;
	}
	t = malloc(KUBE_MAX_TOKEN_BYTES + 1);
	if (t == NULL) {
		ret = err_set(e, ERR_NOMEM, "out of memory reading the token file '%s'", path);
		goto out;
	}
	for (;;) {
		r = read(fd, t + len, KUBE_MAX_TOKEN_BYTES + 1 - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			ret = err_set(e, ERR_IO, "cannot read the token file '%s': %s", path, strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		len += (size_t)r;
		if (len > KUBE_MAX_TOKEN_BYTES) {
			ret = err_set(e, ERR_TOO_LARGE, "the token file '%s' is larger than %d bytes", path,
			    KUBE_MAX_TOKEN_BYTES);
			goto out;
		}
	}
	while (len > 0 && isspace((unsigned char)t[len - 1]))
		len--;
	t[len] = '\0';
	if (token_check(t, "token in the token file", e) < 0) {
		err_prefix(e, "'%s'", path);
		goto out;
	}
	*out = t;
	t = NULL;
	ret = 0;
out:
	if (t != NULL) {
		explicit_bzero(t, KUBE_MAX_TOKEN_BYTES + 1);
		free(t);
	}
	close(fd);
	return ret;
}

/* Nesting of JSON text, strings skipped; stops counting past limit. */
static int
json_too_deep(const char *s, size_t len, int limit)
{
	int depth = 0, in_str = 0;
	size_t i;

	for (i = 0; i < len; i++) {
		char c = s[i];

		if (in_str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_str = 0;
			continue;
		}
		if (c == '"') {
			in_str = 1;
		} else if (c == '[' || c == '{') {
			if (++depth > limit)
				return 1;
		} else if ((c == ']' || c == '}') && depth > 0) {
			depth--;
		}
	}
	return 0;
}

/*
 * The API server's own words from a Status body, bounded and printable, into out
 * as ": message", or "" when the body is no Status.
 */
static void
status_message(const struct kube_req *r, char *out, size_t outsz)
{
	json_t *v = NULL, *m;
	const char *s = buf_str(&r->body);
	size_t len = buf_len(&r->body);
	char text[KUBE_MAX_STATUS_CHARS + 8];

	out[0] = '\0';
	if (len == 0 || s[0] != '{' || json_too_deep(s, len, KUBE_MAX_JSON_DEPTH))
		return;
	v = json_loadb(s, len, 0, NULL);
	m = json_object_get(v, "message");
	if (json_is_string(m) && json_string_length(m) > 0) {
		printable(json_string_value(m), json_string_length(m), KUBE_MAX_STATUS_CHARS, text, sizeof(text));
		snprintf(out, outsz, ": %s", text);
	}
	json_decref(v);
}

static size_t
on_write(char *p, size_t size, size_t n, void *arg)
{
	struct kube_req *r = arg;
	size_t max = r->max;

	(void)size; /* always 1 */
	if (r->status == 0)
		curl_easy_getinfo(r->h, CURLINFO_RESPONSE_CODE, &r->status);
	if (r->status < 200 || r->status > 299)
		max = KUBE_MAX_ERROR_BODY_BYTES;
	if (n > max - buf_len(&r->body)) {
		r->over = 1;
		return 0;
	}
	if (buf_add(&r->body, p, n, NULL) < 0) {
		r->over = 1;
		return 0;
	}
	return n;
}

/* Copies the value of header `name` (with its colon) into out when line is that header. */
static void
header_value(const char *line, size_t n, const char *name, char *out, size_t outsz)
{
	size_t nl = strlen(name), end;

	if (n <= nl || strncasecmp(line, name, nl) != 0)
		return;
	line += nl;
	n -= nl;
	while (n > 0 && (*line == ' ' || *line == '\t')) {
		line++;
		n--;
	}
	end = n;
	while (end > 0 && (line[end - 1] == '\r' || line[end - 1] == '\n' || line[end - 1] == ' '))
		end--;
	printable(line, end, outsz - 1, out, outsz);
}

static size_t
on_header(char *p, size_t size, size_t n, void *arg)
{
	struct kube_req *r = arg;

	(void)size;
	if (n > KUBE_MAX_HEADER_BYTES - r->header_bytes) {
		r->over_headers = 1;
		return 0;
	}
	r->header_bytes += n;
	header_value(p, n, "Content-Type:", r->ctype, sizeof(r->ctype));
	header_value(p, n, "Retry-After:", r->retry_after, sizeof(r->retry_after));
	header_value(p, n, "Location:", r->location, sizeof(r->location));
	return n;
}

/* The host a redirect points at, for the error: "host:port", or the server's own for a relative one. */
static void
redirect_host(const struct kube_req *r, char *out, size_t outsz)
{
	CURLU *u = curl_url();
	char *host = NULL, *port = NULL;

	snprintf(out, outsz, "(no Location)");
	if (u == NULL || r->location[0] == '\0')
		goto out;
	curl_url_set(u, CURLUPART_URL, r->batch->k->server, 0);
	if (curl_url_set(u, CURLUPART_URL, r->location, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
		snprintf(out, outsz, "(an unreadable Location)");
		goto out;
	}
	if (curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK)
		snprintf(out, outsz, "%.200s:%.8s", host, port);
	else
		snprintf(out, outsz, "%.200s", host);
out:
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
}

/*
 * What a request path asks, in Kubernetes words for an error: "list pods in
 * namespace 'llm'", "get deployments.apps 'x' in namespace 'llm'", "get
 * pods/log of 'p' in namespace 'llm'", "list nodes"; or "GET PATH" for
 * anything else (discovery, /version).
 */
static void
describe_request(const char *path, char *out, size_t outsz)
{
	char p[256], *seg[8], *q, *save = NULL;
	const char *group = "", *ns = NULL, *res, *name, *sub;
	size_t n = 0, i;

	printable(path, strcspn(path, "?"), sizeof(p) - 8, p, sizeof(p));
	snprintf(out, outsz, "GET %.*s", (int)(outsz > 5 ? outsz - 5 : 0), p);
	for (q = strtok_r(p, "/", &save); q != NULL && n < 8; q = strtok_r(NULL, "/", &save))
		seg[n++] = q;
	if (n >= 3 && strcmp(seg[0], "api") == 0) {
		i = 2;
	} else if (n >= 4 && strcmp(seg[0], "apis") == 0) {
		group = seg[1];
		i = 3;
	} else {
		return;
	}
	if (n >= i + 3 && strcmp(seg[i], "namespaces") == 0) {
		ns = seg[i + 1];
		i += 2;
	}
	res = seg[i];
	name = n > i + 1 ? seg[i + 1] : NULL;
	sub = n > i + 2 ? seg[i + 2] : NULL;
	if (n > i + 3)
		return;
	snprintf(out, outsz, "%s %s%s%s%s%s%s%s%s%s%s%s", name != NULL ? "get" : "list", res, *group ? "." : "",
	    group, sub != NULL ? "/" : "", sub != NULL ? sub : "", name != NULL ? (sub != NULL ? " of '" : " '") : "",
	    name != NULL ? name : "", name != NULL ? "'" : "", ns != NULL ? " in namespace '" : "",
	    ns != NULL ? ns : "", ns != NULL ? "'" : "");
}

/* Turns a finished transfer into a result or an error sentence. */
static void
req_finish(struct kube_req *r, CURLcode rc)
{
	struct kube_client *k = r->batch->k;
	struct err *e = &r->err;
	char msg[KUBE_MAX_STATUS_CHARS + 16], where[128], cerr[160];
	curl_off_t got = 0;
	json_error_t jerr;
	long status = 0, nconn = 0;

	r->failed = 1;
	if (curl_easy_getinfo(r->h, CURLINFO_NUM_CONNECTS, &nconn) == CURLE_OK && nconn > 0)
		k->connects += (unsigned long)nconn;
	curl_easy_getinfo(r->h, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(r->h, CURLINFO_SIZE_DOWNLOAD_T, &got);
	printable(r->errbuf, strlen(r->errbuf), 150, cerr, sizeof(cerr));
	if (cerr[0] == '\0')
		snprintf(cerr, sizeof(cerr), "%s", curl_easy_strerror(rc));
	printable(r->path, strlen(r->path), 100, where, sizeof(where));

	if (rc == CURLE_WRITE_ERROR && r->over_headers) {
		err_set(e, ERR_UPSTREAM, "the answer to GET %s from %s has more than %d bytes of headers", where,
		    k->server, KUBE_MAX_HEADER_BYTES);
		return;
	}
	if (status >= 200 && status <= 299 && rc == CURLE_WRITE_ERROR && r->over) {
		err_set(e, ERR_TOO_LARGE, "the answer to GET %s from %s is larger than %zu bytes", where, k->server,
		    r->max);
		return;
	}
	if (status >= 300 && (rc == CURLE_OK || (rc == CURLE_WRITE_ERROR && r->over) ||
	    rc == CURLE_FILESIZE_EXCEEDED || rc == CURLE_PARTIAL_FILE || rc == CURLE_RECV_ERROR)) {
		status_message(r, msg, sizeof(msg));
		if (status >= 300 && status <= 399) {
			char host[256];

			redirect_host(r, host, sizeof(host));
			err_set(e, ERR_UPSTREAM, "the API server %s redirected GET %s to %s (%ld); skewd does not "
			    "follow redirects", k->server, where, host, status);
		} else if (status == 401) {
			err_set(e, ERR_UNAUTHORIZED, "the API server %s rejected the credentials (401)%s", k->server, msg);
		} else if (status == 403) {
			char what[200];

			describe_request(r->path, what, sizeof(what));
			err_set(e, ERR_FORBIDDEN, "not allowed to %s (403)%s", what, msg);
		} else if (status == 404) {
			err_set(e, ERR_NOT_FOUND, "%s not found on %s (404)%s", where, k->server, msg);
		} else if (status == 410) {
			err_set(e, ERR_CONFLICT, "%s is gone (410)%s", where, msg);
		} else if (status == 429) {
			char after[64];

			if (r->retry_after[0] == '\0')
				snprintf(after, sizeof(after), "later");
			else if (strspn(r->retry_after, "0123456789") == strlen(r->retry_after))
				snprintf(after, sizeof(after), "%s s", r->retry_after);
			else
				snprintf(after, sizeof(after), "%s", r->retry_after);
			err_set(e, ERR_UNAVAILABLE, "the API server %s is throttling requests (429), retry after %s%s",
			    k->server, after, msg);
		} else if (status == 400) {
			err_set(e, ERR_INVALID, "the API server %s refused GET %s as a bad request (400)%s", k->server,
			    where, msg);
		} else {
			err_set(e, ERR_UPSTREAM, "the API server %s failed GET %s (%ld)%s", k->server, where, status,
			    msg);
		}
		return;
	}
	switch (rc) {
	case CURLE_OK:
		break;
	case CURLE_OPERATION_TIMEDOUT:
		if (got > 0)
			err_set(e, ERR_TIMEOUT, "the answer to GET %s from %s did not complete within %.1f s "
			    "(%ld bytes came)", where, k->server, (double)k->request_ms / 1000, (long)got);
		else
			err_set(e, ERR_TIMEOUT, "no answer from %s within %.1f s (GET %s): %s", k->server,
			    (double)k->request_ms / 1000, where, cerr);
		return;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
		err_set(e, ERR_UPSTREAM, "TLS verification failed: %s (%s)", cerr, k->server);
		return;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_SSL_ENGINE_INITFAILED:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_SHUTDOWN_FAILED:
	case CURLE_USE_SSL_FAILED:
		err_set(e, ERR_UPSTREAM, "the TLS handshake with %s failed: %s", k->server, cerr);
		return;
	case CURLE_COULDNT_RESOLVE_HOST:
		err_set(e, ERR_UPSTREAM, "cannot resolve the host of %s: %s", k->server, cerr);
		return;
	case CURLE_COULDNT_CONNECT:
		err_set(e, ERR_UPSTREAM, "cannot connect to %s: %s", k->server, cerr);
		return;
	case CURLE_PARTIAL_FILE:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		err_set(e, ERR_UPSTREAM, "the answer to GET %s from %s was cut short after %ld bytes: %s", where,
		    k->server, (long)got, cerr);
		return;
	case CURLE_BAD_CONTENT_ENCODING:
		err_set(e, ERR_UPSTREAM, "the answer to GET %s from %s has a broken content encoding: %s", where,
		    k->server, cerr);
		return;
	case CURLE_FILESIZE_EXCEEDED:
		err_set(e, ERR_TOO_LARGE, "the answer to GET %s from %s is larger than %zu bytes", where, k->server,
		    r->max);
		return;
	case CURLE_UNSUPPORTED_PROTOCOL:
		err_set(e, ERR_INVALID, "the URL of %s uses a protocol skewd does not speak", k->server);
		return;
	case CURLE_OUT_OF_MEMORY:
		err_set(e, ERR_NOMEM, "out of memory during GET %s", where);
		return;
	case CURLE_WRITE_ERROR:
		if (r->over) {
			err_set(e, ERR_TOO_LARGE, "the answer to GET %s from %s is larger than %zu bytes", where,
			    k->server, r->max);
			return;
		}
		/* FALLTHROUGH */
	default:
		err_set(e, ERR_UPSTREAM, "GET %s from %s failed: %s", where, k->server, cerr);
		return;
	}
	if (status < 200 || status > 299) {
		err_set(e, ERR_UPSTREAM, "the API server %s answered GET %s with status %ld", k->server, where, status);
		return;
	}
	if (r->want_json) {
		if (json_too_deep(buf_str(&r->body), buf_len(&r->body), KUBE_MAX_JSON_DEPTH)) {
			err_set(e, ERR_UPSTREAM, "the answer to GET %s from %s nests deeper than %d levels", where,
			    k->server, KUBE_MAX_JSON_DEPTH);
			return;
		}
		r->json = json_loadb(buf_str(&r->body), buf_len(&r->body), 0, &jerr);
		if (r->json == NULL) {
			char text[120];

			printable(jerr.text, strlen(jerr.text), 100, text, sizeof(text));
			err_set(e, ERR_UPSTREAM, "the answer to GET %s from %s is not valid JSON: %s (line %d)", where,
			    k->server, text, jerr.line);
			return;
		}
		buf_release(&r->body);
	} else {
		r->text = buf_take(&r->body, &r->len);
		if (r->text == NULL) {
			err_set(e, ERR_NOMEM, "out of memory keeping the answer to GET %s", where);
			return;
		}
	}
	r->failed = 0;
	err_clear(e);
}

int
kube_batch_new(struct kube_client *k, struct kube_batch **out, struct err *e)
{
	struct kube_batch *b;

	*out = NULL;
	b = calloc(1, sizeof(*b));
	if (b == NULL)
		return err_set(e, ERR_NOMEM, "out of memory creating a request batch");
	b->k = k;
	*out = b;
	return 0;
}

static int
path_check(const char *path, struct err *e)
{
	const char *p;
	char shown[64];

	if (path == NULL || path[0] != '/')
		return err_set(e, ERR_INVALID, "a request path must start with '/'");
	if (strlen(path) > KUBE_MAX_PATH_BYTES)
		return err_set(e, ERR_INVALID, "a request path is longer than %d bytes", KUBE_MAX_PATH_BYTES);
	printable(path, strlen(path), 48, shown, sizeof(shown));
	for (p = path; *p != '\0'; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f || *p == '#')
			return err_set(e, ERR_INVALID, "the request path '%s' has a character that must be "
			    "percent-encoded", shown);
	return 0;
}

int
kube_batch_add(struct kube_batch *b, const char *path, int want_json, size_t max, struct err *e)
{
	struct kube_req *r;

	if (b->ran)
		return err_set(e, ERR_INTERNAL, "a request was added to a batch that already ran");
	if (path_check(path, e) < 0)
		return -1;
	if (b->n >= KUBE_MAX_BATCH)
		return err_set(e, ERR_TOO_LARGE, "a batch holds at most %d requests", KUBE_MAX_BATCH);
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 16;
		struct kube_req *grown = realloc(b->reqs, cap * sizeof(*grown));

		if (grown == NULL)
			return err_set(e, ERR_NOMEM, "out of memory growing a request batch");
		b->reqs = grown;
		b->cap = cap;
	}
	r = &b->reqs[b->n];
	memset(r, 0, sizeof(*r));
	r->path = strdup(path);
	if (r->path == NULL)
		return err_set(e, ERR_NOMEM, "out of memory adding a request");
	r->batch = b;
	r->want_json = want_json != 0;
	r->max = (max > 0 && max < b->k->max_bytes) ? max : b->k->max_bytes;
	buf_init(&r->body, r->max);
	return (int)b->n++;
}

/* Sets up the easy handle of one request. */
static int
req_start(struct kube_req *r, struct curl_slist *headers, struct err *e)
{
	struct kube_client *k = r->batch->k;
	struct buf url = BUF_INIT(KUBE_MAX_URL_BYTES + KUBE_MAX_PATH_BYTES);
	struct curl_blob blob;
	CURL *h;
	int ret = -1;

	if (buf_addf(&url, e, "%s%s", k->server, r->path) < 0)
		return -1;
	h = curl_easy_init();
	if (h == NULL) {
		ret = err_set(e, ERR_NOMEM, "out of memory creating a libcurl handle");
		goto out;
	}
	r->h = h;
	curl_easy_setopt(h, CURLOPT_URL, buf_str(&url));
	curl_easy_setopt(h, CURLOPT_PRIVATE, r);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, k->allow_http ? "http,https" : "https");
	curl_easy_setopt(h, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_PROXY, "");
	curl_easy_setopt(h, CURLOPT_NETRC, (long)CURL_NETRC_IGNORED);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, k->connect_ms);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, k->request_ms);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, (long)KUBE_LOW_SPEED_BYTES);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, (long)KUBE_LOW_SPEED_TIME_S);
	curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(h, CURLOPT_USERAGENT, "skewd/" SKEWD_VERSION);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, r->errbuf);
	curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)r->max);
	if (k->ca_pem != NULL) {
		blob.data = k->ca_pem;
		blob.len = strlen(k->ca_pem);
		blob.flags = CURL_BLOB_COPY;
		curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &blob);
	}
	if (k->insecure) {
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (k->cert_pem != NULL) {
		blob.data = k->cert_pem;
		blob.len = strlen(k->cert_pem);
		blob.flags = CURL_BLOB_COPY;
		curl_easy_setopt(h, CURLOPT_SSLCERT_BLOB, &blob);
		curl_easy_setopt(h, CURLOPT_SSLCERTTYPE, "PEM");
		blob.data = k->key_pem;
		blob.len = strlen(k->key_pem);
		curl_easy_setopt(h, CURLOPT_SSLKEY_BLOB, &blob);
		curl_easy_setopt(h, CURLOPT_SSLKEYTYPE, "PEM");
	}
	if (curl_multi_add_handle(k->multi, h) != CURLM_OK) {
		ret = err_set(e, ERR_INTERNAL, "cannot add a transfer to the libcurl multi handle");
		goto out;
	}
	ret = 0;
out:
	buf_release(&url);
	return ret;
}

/* Removes and frees the easy handle of a request (the connection stays in the multi's cache). */
static void
req_stop(struct kube_req *r)
{
	if (r->h == NULL)
		return;
	curl_multi_remove_handle(r->batch->k->multi, r->h);
	curl_easy_cleanup(r->h);
	r->h = NULL;
}

/* The headers of every request of a batch: Accept, and the bearer token. Caller frees with headers_free(). */
static int
headers_make(struct kube_client *k, struct curl_slist **out, struct err *e)
{
	struct curl_slist *h = NULL, *t;
	struct buf auth = BUF_INIT(KUBE_MAX_TOKEN_BYTES + 64);
	char *token = NULL;
	int ret = -1;

	*out = NULL;
	h = curl_slist_append(NULL, "Accept: application/json, */*");
	if (h == NULL)
		goto nomem;
	if (k->token_file != NULL) {
		if (read_token_file(k->token_file, &token, e) < 0)
			goto out;
	} else if (k->token != NULL) {
		token = strdup(k->token);
		if (token == NULL)
			goto nomem;
	}
	if (token != NULL) {
		if (buf_addf(&auth, e, "Authorization: Bearer %s", token) < 0)
			goto out;
		t = curl_slist_append(h, buf_str(&auth));
		if (t == NULL)
			goto nomem;
		h = t;
	}
	*out = h;
	h = NULL;
	ret = 0;
	goto out;
nomem:
	ret = err_set(e, ERR_NOMEM, "out of memory building request headers");
out:
	if (auth.ptr != NULL)
		explicit_bzero(auth.ptr, auth.len);
	buf_release(&auth);
	free_secret(token);
	curl_slist_free_all(h);
	return ret;
}

static void
headers_free(struct curl_slist *h)
{
	struct curl_slist *p;

	for (p = h; p != NULL; p = p->next)
		explicit_bzero(p->data, strlen(p->data));
	curl_slist_free_all(h);
}

int
kube_batch_run(struct kube_batch *b, struct err *e)
{
	struct kube_client *k = b->k;
	struct curl_slist *headers = NULL;
	size_t next = 0, running = 0, i;
	int still, queued, ret = -1;
	CURLMsg *m;
	CURLMcode mc;

	if (b->ran)
		return err_set(e, ERR_INTERNAL, "a request batch ran twice");
	b->ran = 1;
	if (headers_make(k, &headers, e) < 0)
		goto out;
	while (next < b->n || running > 0) {
		while (running < (size_t)k->max_parallel && next < b->n) {
			struct kube_req *r = &b->reqs[next++];

			if (req_start(r, headers, &r->err) < 0) {
				r->failed = 1;
				req_stop(r);
				continue;
			}
			running++;
		}
		mc = curl_multi_perform(k->multi, &still);
		if (mc != CURLM_OK) {
			ret = err_set(e, ERR_INTERNAL, "libcurl failed: %s", curl_multi_strerror(mc));
			goto out;
		}
		while ((m = curl_multi_info_read(k->multi, &queued)) != NULL) {
			struct kube_req *r;
			char *priv = NULL;

			if (m->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &priv);
			r = (struct kube_req *)priv;
			req_finish(r, m->data.result);
			if (log_level_current >= LOG_DEBUG) {
				curl_off_t us = 0, got = 0;
				long st = 0;
				char where[128];

				curl_easy_getinfo(r->h, CURLINFO_TOTAL_TIME_T, &us);
				curl_easy_getinfo(r->h, CURLINFO_SIZE_DOWNLOAD_T, &got);
				curl_easy_getinfo(r->h, CURLINFO_RESPONSE_CODE, &st);
				printable(r->path, strlen(r->path), 100, where, sizeof(where));
				log_debug("kube: GET %s%s -> %ld, %lld bytes in %.1f ms%s%s", k->server, where, st,
				    (long long)got, (double)us / 1000.0, r->failed ? ": " : "",
				    r->failed ? r->err.msg : "");
			}
			req_stop(r);
			running--;
		}
		if (running == 0)
			continue;
		mc = curl_multi_poll(k->multi, NULL, 0, KUBE_POLL_MS, NULL);
		if (mc != CURLM_OK) {
			ret = err_set(e, ERR_INTERNAL, "libcurl failed: %s", curl_multi_strerror(mc));
			goto out;
		}
	}
	ret = 0;
out:
	if (ret < 0) {
		for (i = 0; i < b->n; i++) {
			struct kube_req *r = &b->reqs[i];

			if (r->h != NULL || (!r->failed && r->json == NULL && r->text == NULL)) {
				req_stop(r);
				r->failed = 1;
				r->err = *e;
			}
		}
	}
	headers_free(headers);
	return ret;
}

int
kube_batch_result(const struct kube_batch *b, size_t i, json_t **json, const char **text, size_t *len,
    struct err *item_err)
{
	const struct kube_req *r;

	if (json != NULL)
		*json = NULL;
	if (text != NULL)
		*text = NULL;
	if (len != NULL)
		*len = 0;
	if (i >= b->n)
		return err_set(item_err, ERR_INTERNAL, "no request %zu in a batch of %zu", i, b->n);
	if (!b->ran)
		return err_set(item_err, ERR_INTERNAL, "the batch has not run");
	r = &b->reqs[i];
	if (r->failed) {
		if (item_err != NULL)
			*item_err = r->err;
		return -1;
	}
	if (json != NULL)
		*json = r->json;
	if (text != NULL)
		*text = r->text;
	if (len != NULL)
		*len = r->len;
	return 0;
}

void
kube_batch_free(struct kube_batch *b)
{
	size_t i;

	if (b == NULL)
		return;
	for (i = 0; i < b->n; i++) {
		struct kube_req *r = &b->reqs[i];

		req_stop(r);
		free(r->path);
		buf_release(&r->body);
		json_decref(r->json);
		free(r->text);
	}
	free(b->reqs);
	free(b);
}

/* One GET through a batch of one: the connection cache of the client is still used. */
static int
get_one(struct kube_client *k, const char *path, int want_json, size_t max, struct kube_batch **out,
    struct err *e)
{
	struct kube_batch *b = NULL;

	*out = NULL;
	if (kube_batch_new(k, &b, e) < 0)
		return -1;
	if (kube_batch_add(b, path, want_json, max, e) < 0 || kube_batch_run(b, e) < 0 ||
	    kube_batch_result(b, 0, NULL, NULL, NULL, e) < 0) {
		kube_batch_free(b);
		return -1;
	}
	*out = b;
	return 0;
}

int
kube_get_json(struct kube_client *k, const char *path, json_t **out, struct err *e)
{
	struct kube_batch *b = NULL;

	*out = NULL;
	if (get_one(k, path, 1, 0, &b, e) < 0)
		return -1;
	*out = json_incref(b->reqs[0].json);
	kube_batch_free(b);
	return 0;
}

int
kube_get_text(struct kube_client *k, const char *path, size_t max, char **out, size_t *len,
    char *content_type, size_t ctsize, struct err *e)
{
	struct kube_batch *b = NULL;

	*out = NULL;
	if (len != NULL)
		*len = 0;
	if (content_type != NULL && ctsize > 0)
		content_type[0] = '\0';
	if (get_one(k, path, 0, max, &b, e) < 0)
		return -1;
	*out = b->reqs[0].text;
	if (len != NULL)
		*len = b->reqs[0].len;
	b->reqs[0].text = NULL;
	if (content_type != NULL && ctsize > 0)
		snprintf(content_type, ctsize, "%s", b->reqs[0].ctype);
	kube_batch_free(b);
	return 0;
}

int
kube_server_version(struct kube_client *k, char **out, struct err *e)
{
	json_t *v = NULL, *g;
	char shown[80];
	const char *s;
	int ret = -1;

	*out = NULL;
	if (kube_get_json(k, "/version", &v, e) < 0)
		return -1;
	g = json_object_get(v, "gitVersion");
	s = json_string_value(g);
	if (s == NULL || *s == '\0' || json_string_length(g) > 64) {
		ret = err_set(e, ERR_UPSTREAM, "the API server %s answered /version without a gitVersion", k->server);
		goto out;
	}
	printable(s, json_string_length(g), 64, shown, sizeof(shown));
	*out = strdup(shown);
	if (*out == NULL) {
		ret = err_set(e, ERR_NOMEM, "out of memory");
		goto out;
	}
	ret = 0;
out:
	json_decref(v);
	return ret;
}

int
kube_escape(const char *s, char *out, size_t outsz)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~') {
			if (o + 1 >= outsz)
				return -1;
			out[o++] = (char)c;
		} else {
			if (o + 3 >= outsz)
				return -1;
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	if (o >= outsz)
		return -1;
	out[o] = '\0';
	return 0;
}
