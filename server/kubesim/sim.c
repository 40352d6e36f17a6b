/*
 * sim.c - kubesim's life cycle, its CivetWeb glue, authentication, faults
 * and the admin endpoint.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <civetweb.h>

#include "kubesim/kubesim_int.h"
#include "util/err.h"
#include "util/log.h"
#include "util/banned.h"

#define ADMIN_PREFIX "/_kubesim/"
#define HUGE_CHUNK (64 * 1024)

static const char *const fault_names[KUBESIM_FAULT__COUNT] = {
	"none", "401", "403", "404", "410", "429", "500", "hang", "slow", "truncated", "huge",
};

int
kubesim_fault_parse(const char *name, enum kubesim_fault_kind *out)
{
	size_t i;

	for (i = 0; i < KUBESIM_FAULT__COUNT; i++) {
		if (strcmp(fault_names[i], name) == 0) {
			*out = (enum kubesim_fault_kind)i;
			return 0;
		}
	}
	return -1;
}

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int
ks_query_get(const char *query, const char *name, char *dst, size_t dstlen)
{
	if (query == NULL)
		return -1;
	return mg_get_var(query, strlen(query), name, dst, dstlen) >= 0 ? 0 : -1;
}

static void
resp_init(struct ks_resp *r)
{
	r->status = 200;
	r->ctype = "application/json";
	r->headers[0] = '\0';
	buf_init(&r->body, KUBESIM_MAX_RESPONSE_BYTES);
}

/* Adds a Date header of our own: CivetWeb 1.15 formats its own with gmtime(),
 * whose shared buffer races between worker threads (TSan found it here as in
 * server/http/server.c); it skips its own when the response has one. */
static void
add_date(struct mg_connection *conn)
{
	char date[64];
	time_t now = time(NULL);
	struct tm tm;

	if (gmtime_r(&now, &tm) != NULL && strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm) > 0)
		mg_response_header_add(conn, "Date", date, -1);
}

/* Writes r, applying a slow or truncated fault. */
static void
send_resp(struct kubesim *k, struct mg_connection *conn, struct ks_resp *r, const struct ks_fault *f)
{
	const char *body = buf_str(&r->body);
	size_t len = buf_len(&r->body), sent, n;
	char clen[32];

	if (f != NULL && f->kind == KUBESIM_FAULT_TRUNCATED)
		mg_disable_connection_keep_alive(conn);
	if (mg_response_header_start(conn, r->status) != 0)
		return;
	mg_response_header_add(conn, "Content-Type", r->ctype, -1);
	mg_response_header_add(conn, "Cache-Control", "no-cache, private", -1);
	mg_response_header_add(conn, "X-Kubernetes-Pf-Flowschema-Uid", "kubesim", -1);
	snprintf(clen, sizeof(clen), "%zu",
	    f != NULL && f->kind == KUBESIM_FAULT_TRUNCATED ? len * 2 + 1024 : len);
	mg_response_header_add(conn, "Content-Length", clen, -1);
	add_date(conn);
	if (r->headers[0] != '\0')
		mg_response_header_add_lines(conn, r->headers);
	mg_response_header_send(conn);
	if (f != NULL && f->kind == KUBESIM_FAULT_SLOW) {
		long ms = f->param > 0 ? f->param : 10;

		for (sent = 0; sent < len && !k->stopping; sent++) {
			if (sent > 0)
				sleep_ms(ms);
			if (mg_write(conn, body + sent, 1) <= 0)
				return;
		}
		return;
	}
	if (f != NULL && f->kind == KUBESIM_FAULT_TRUNCATED)
		len /= 2;
	for (sent = 0; sent < len; sent += n) {
		n = len - sent < 65536 ? len - sent : 65536;
		if (mg_write(conn, body + sent, n) <= 0)
			return;
	}
}

/* A PodList of about param MiB, written as it is made, never held in memory. */
static void
send_huge(struct kubesim *k, struct mg_connection *conn, int mib)
{
	static const char head[] = "{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":\"1\"},\"items\":[";
	static const char tail[] = "]}";
	char item[256];
	char clen[32];
	char *chunk;
	size_t item_len, count, i;
	unsigned long long total;

	if (mib <= 0)
		mib = 1;
	if (mib > KUBESIM_HUGE_MAX_MIB)
		mib = KUBESIM_HUGE_MAX_MIB;
	/* Every item has the same length: a 10-digit, zero-padded index. */
	item_len = (size_t)snprintf(item, sizeof(item),
	    "{\"metadata\":{\"name\":\"huge-%010zu\",\"namespace\":\"llm\",\"labels\":{\"app\":\"huge\"}},"
	    "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"busybox\"}]}}", (size_t)0);
	count = ((size_t)mib * 1024 * 1024) / (item_len + 1) + 1;
	total = sizeof(head) - 1 + (unsigned long long)count * item_len + (count - 1) + sizeof(tail) - 1;
	if (mg_response_header_start(conn, 200) != 0)
		return;
	mg_response_header_add(conn, "Content-Type", "application/json", -1);
	snprintf(clen, sizeof(clen), "%llu", total);
	mg_response_header_add(conn, "Content-Length", clen, -1);
	add_date(conn);
	mg_response_header_send(conn);
	if (mg_write(conn, head, sizeof(head) - 1) <= 0)
		return;
	chunk = malloc(HUGE_CHUNK);
	if (chunk == NULL)
		return;
	for (i = 0; i < count && !k->stopping; i++) {
		size_t used = 0;

		for (; i < count && used + item_len + 1 < HUGE_CHUNK; i++) {
			if (i > 0)
				chunk[used++] = ',';
			snprintf(chunk + used, HUGE_CHUNK - used,
			    "{\"metadata\":{\"name\":\"huge-%010zu\",\"namespace\":\"llm\",\"labels\":{\"app\":\"huge\"}},"
			    "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"busybox\"}]}}", i);
			used += item_len;
		}
		i--;
		if (mg_write(conn, chunk, used) <= 0)
			break;
	}
	free(chunk);
	if (i >= count)
		mg_write(conn, tail, sizeof(tail) - 1);
}

/* The fault whose prefix is the longest match of path; copied out. */
static int
find_fault(struct kubesim *k, const char *path, struct ks_fault *out)
{
	size_t i, best = 0;
	int found = 0;

	pthread_mutex_lock(&k->fault_lock);
	k->requests++;
	for (i = 0; i < k->nfaults; i++) {
		size_t n = strlen(k->faults[i].prefix);

		if (strncmp(path, k->faults[i].prefix, n) == 0 && (!found || n >= best)) {
			*out = k->faults[i];
			best = n;
			found = 1;
		}
	}
	pthread_mutex_unlock(&k->fault_lock);
	return found;
}

/* Status objects for the faults that answer with an error. */
static int
fault_status(const struct ks_fault *f, struct ks_resp *r)
{
	switch (f->kind) {
	case KUBESIM_FAULT_401:
		return ks_status(r, 401, "Unauthorized", "Unauthorized", NULL, NULL, NULL);
	case KUBESIM_FAULT_403:
		return ks_status(r, 403, "Forbidden", "forbidden: the request is not allowed (kubesim fault)", NULL,
		    NULL, NULL);
	case KUBESIM_FAULT_404:
		return ks_status(r, 404, "NotFound", "the server could not find the requested resource", NULL, NULL,
		    NULL);
	case KUBESIM_FAULT_410:
		return ks_status(r, 410, "Expired", "too old resource version: 1 (1000)", NULL, NULL, NULL);
	case KUBESIM_FAULT_429:
		snprintf(r->headers, sizeof(r->headers), "Retry-After: %d\r\n", f->param > 0 ? f->param : 1);
		return ks_status(r, 429, "TooManyRequests", "Too many requests, please try again later.", NULL, NULL,
		    NULL);
	case KUBESIM_FAULT_500:
		return ks_status(r, 500, "InternalError",
		    "an error on the server (\"etcdserver: request timed out\") has prevented the request from succeeding",
		    NULL, NULL, NULL);
	default:
		return 1;
	}
}

/* Bearer token or client certificate; NULL when neither names a user. */
static const struct ks_user *
authenticate(struct kubesim *k, struct mg_connection *conn, const struct mg_request_info *ri)
{
	const char *auth = mg_get_header(conn, "Authorization");
	char cn[KUBESIM_MAX_CN + 1];
	size_t i;

	if (auth != NULL && strncasecmp(auth, "Bearer ", 7) == 0) {
		const char *tok = auth + 7;

		while (*tok == ' ')
			tok++;
		for (i = 0; i < k->nusers; i++)
			if (k->users[i].token != NULL && strcmp(k->users[i].token, tok) == 0)
				return &k->users[i];
		return NULL; /* a bad token is refused even with a good certificate */
	}
	if (ks_front_user(k->front, ri->remote_port, cn, sizeof(cn))) {
		for (i = 0; i < k->nusers; i++)
			if (strcmp(k->users[i].name, cn) == 0)
				return &k->users[i];
	}
	return NULL;
}

struct state_job {
	struct kubesim *k;
	const char *name;
	struct err *e;
	int ret;
};

static void *
state_job_main(void *arg)
{
	struct state_job *j = arg;

	j->ret = kubesim_set_state(j->k, j->name, j->e);
	return NULL;
}

/* CivetWeb's workers have small stacks (Debian builds it with a fixed stack
 * size), too small for loading YAML: the state loads on a thread of its own. */
static int
set_state_on_thread(struct kubesim *k, const char *name, struct err *e)
{
	struct state_job j = { k, name, e, -1 };
	pthread_t t;

	if (pthread_create(&t, NULL, state_job_main, &j) != 0)
		return err_set(e, ERR_INTERNAL, "cannot start a thread to load state '%s'", name);
	pthread_join(t, NULL);
	return j.ret;
}

static int
is_public(const char *path)
{
	return strcmp(path, "/version") == 0 || strcmp(path, "/healthz") == 0 || strcmp(path, "/livez") == 0 ||
	    strcmp(path, "/readyz") == 0;
}

static int
admin_serve(struct kubesim *k, const struct mg_request_info *ri, struct ks_resp *r)
{
	const char *what = ri->local_uri + strlen(ADMIN_PREFIX);
	char name[NAME_MAX + 1], kind[32], prefix[256], param[32];
	enum kubesim_fault_kind fk;
	struct err e = ERR_INIT;

	if (strcmp(what, "state") == 0) {
		if (ks_query_get(ri->query_string, "name", name, sizeof(name)) < 0)
			return ks_status(r, 400, "BadRequest", "name is required", NULL, NULL, NULL);
		if (set_state_on_thread(k, name, &e) < 0)
			return ks_status(r, e.code == ERR_NOT_FOUND ? 404 : 400, "BadRequest", e.msg, NULL, NULL, NULL);
		return buf_addf(&r->body, NULL, "{\"state\":\"%s\"}\n", name);
	}
	if (strcmp(what, "fault") == 0) {
		if (ks_query_get(ri->query_string, "kind", kind, sizeof(kind)) < 0)
			return ks_status(r, 400, "BadRequest", "kind is required", NULL, NULL, NULL);
		if (strcmp(kind, "clear") == 0) {
			kubesim_clear_faults(k);
			return buf_addstr(&r->body, "{\"faults\":0}\n", NULL);
		}
		if (kubesim_fault_parse(kind, &fk) < 0)
			return ks_status(r, 400, "BadRequest", "unknown fault kind", NULL, NULL, NULL);
		if (ks_query_get(ri->query_string, "prefix", prefix, sizeof(prefix)) < 0)
			prefix[0] = '\0';
		if (ks_query_get(ri->query_string, "param", param, sizeof(param)) < 0)
			param[0] = '\0';
		if (kubesim_set_fault(k, prefix, fk, (int)strtol(param, NULL, 10), &e) < 0)
			return ks_status(r, 400, "BadRequest", e.msg, NULL, NULL, NULL);
		return buf_addf(&r->body, NULL, "{\"fault\":\"%s\"}\n", kind);
	}
	return ks_status(r, 404, "NotFound", "unknown kubesim admin endpoint", NULL, NULL, NULL);
}

/* Reads a request body up to KUBESIM_MAX_BODY_BYTES; -1 when larger. */
static int
read_body(struct mg_connection *conn, struct buf *b)
{
	char chunk[8192];
	int n;

	while ((n = mg_read(conn, chunk, sizeof(chunk))) > 0) {
		if (buf_add(b, chunk, (size_t)n, NULL) < 0)
			return -1;
	}
	return 0;
}

static int
on_request(struct mg_connection *conn, void *cbdata)
{
	struct kubesim *k = cbdata;
	const struct mg_request_info *ri = mg_get_request_info(conn);
	const struct ks_user *u;
	struct ks_resp r;
	struct ks_fault f;
	struct ks_request q;
	struct buf body = BUF_INIT(KUBESIM_MAX_BODY_BYTES);
	int have_fault;

	resp_init(&r);
	if (strncmp(ri->local_uri, ADMIN_PREFIX, strlen(ADMIN_PREFIX)) == 0) {
		admin_serve(k, ri, &r);
		send_resp(k, conn, &r, NULL);
		goto out;
	}
	have_fault = find_fault(k, ri->local_uri, &f);
	if (have_fault && f.kind == KUBESIM_FAULT_HANG) {
		/* Until stop, or until the client gives up (seen through the TLS
		 * relay), so that abandoned requests do not use up the workers. */
		while (!k->stopping && (k->front == NULL || ks_front_alive(k->front, ri->remote_port)))
			sleep_ms(KUBESIM_HANG_POLL_MS);
		mg_disable_connection_keep_alive(conn);
		goto out;
	}
	if (have_fault && f.kind == KUBESIM_FAULT_HUGE) {
		send_huge(k, conn, f.param);
		goto out;
	}
	if (have_fault && fault_status(&f, &r) <= 0) {
		send_resp(k, conn, &r, NULL);
		goto out;
	}
	u = authenticate(k, conn, ri);
	if (u == NULL && mg_get_header(conn, "Authorization") == NULL && is_public(ri->local_uri)) {
		/* system:public-info-viewer: anonymous requests may read these. */
		static const struct ks_user anonymous = { (char *)"system:anonymous", NULL, KUBESIM_ROLE_COLLECTOR };

		u = &anonymous;
	}
	if (u == NULL) {
		ks_status(&r, 401, "Unauthorized", "Unauthorized", NULL, NULL, NULL);
		send_resp(k, conn, &r, have_fault ? &f : NULL);
		goto out;
	}
	if (read_body(conn, &body) < 0) {
		ks_status(&r, 413, "RequestEntityTooLarge", "the request body is too large", NULL, NULL, NULL);
		send_resp(k, conn, &r, NULL);
		goto out;
	}
	memset(&q, 0, sizeof(q));
	q.method = ri->request_method;
	q.path = ri->local_uri;
	q.query = ri->query_string;
	q.accept = mg_get_header(conn, "Accept");
	q.user = u->name;
	q.role = u->role;
	q.body = buf_str(&body);
	q.body_len = buf_len(&body);
	pthread_rwlock_rdlock(&k->lock);
	if (ks_api_serve(k, &q, &r) < 0) {
		buf_release(&r.body);
		ks_status(&r, 500, "InternalError", "kubesim ran out of memory", NULL, NULL, NULL);
	}
	pthread_rwlock_unlock(&k->lock);
	send_resp(k, conn, &r, have_fault ? &f : NULL);
out:
	buf_release(&body);
	buf_release(&r.body);
	return 1;
}

static int
on_log_message(const struct mg_connection *conn, const char *message)
{
	(void)conn;
	log_debug("kubesim: %s", message);
	return 1;
}

static pthread_once_t lib_once = PTHREAD_ONCE_INIT;

static void
lib_init(void)
{
	mg_init_library(0);
}

int
kubesim_start(const struct kubesim_options *o, struct kubesim **out, struct err *e)
{
	struct kubesim *k = NULL;
	struct mg_callbacks cb;
	struct mg_init_data init;
	struct mg_error_data merr;
	struct mg_server_port ports[4];
	char listen[160], threads[16], ebuf[256] = "";
	unsigned ecode = 0;
	size_t i;
	int n;

	*out = NULL;
	pthread_once(&lib_once, lib_init);
	if (o->fixtures_dir == NULL || o->state == NULL || o->role_file == NULL || o->tls_dir == NULL)
		return err_set(e, ERR_INVALID, "kubesim needs a fixtures folder, a state, a role file and a TLS folder");
	if (o->nusers > KUBESIM_MAX_USERS)
		return err_set(e, ERR_INVALID, "kubesim takes at most %d users", KUBESIM_MAX_USERS);
	k = calloc(1, sizeof(*k));
	if (k == NULL)
		return err_set(e, ERR_NOMEM, "out of memory starting kubesim");
	pthread_rwlock_init(&k->lock, NULL);
	pthread_mutex_init(&k->fault_lock, NULL);
	k->rv_next = 1000;
	k->advance_metrics = o->advance_metrics;
	clock_gettime(CLOCK_MONOTONIC, &k->started);
	k->served = json_object();
	if (k->served == NULL) {
		pthread_rwlock_destroy(&k->lock);
		pthread_mutex_destroy(&k->fault_lock);
		free(k);
		return err_set(e, ERR_NOMEM, "out of memory starting kubesim");
	}
	snprintf(k->fixtures_dir, sizeof(k->fixtures_dir), "%s", o->fixtures_dir);
	for (i = 0; i < o->nusers; i++) {
		const struct kubesim_user *u = &o->users[i];

		if (u->name == NULL || strpbrk(u->name, "/\\ ") != NULL || u->name[0] == '.') {
			err_set(e, ERR_INVALID, "kubesim user %zu has no usable name", i);
			goto fail;
		}
		k->users[i].name = strdup(u->name);
		k->users[i].token = u->token != NULL ? strdup(u->token) : NULL;
		k->users[i].role = u->role;
		k->nusers++;
		if (k->users[i].name == NULL || (u->token != NULL && k->users[i].token == NULL)) {
			err_set(e, ERR_NOMEM, "out of memory starting kubesim");
			goto fail;
		}
	}
	if (ks_role_load(o->role_file, &k->role, e) < 0)
		goto fail;
	if (kubesim_set_state(k, o->state, e) < 0)
		goto fail;
	if (ks_tls_generate(o->tls_dir, k->ca_path, sizeof(k->ca_path), k->server_pem, sizeof(k->server_pem),
	    e) < 0)
		goto fail;
	for (i = 0; i < o->nusers; i++) {
		if (o->users[i].client_cert && ks_tls_client_cert(o->tls_dir, o->users[i].name, e) < 0)
			goto fail;
	}
	/* With TLS, CivetWeb listens on a loopback port behind tlsfront.c. */
	snprintf(listen, sizeof(listen), "%s", o->plain_http && o->listen != NULL ? o->listen : "127.0.0.1:0");
	snprintf(threads, sizeof(threads), "%d", o->threads > 0 ? o->threads : KUBESIM_DEFAULT_THREADS);
	{
		const char *opts[] = {
			"listening_ports", listen,
			"num_threads", threads,
			"enable_keep_alive", "yes",
			"keep_alive_timeout_ms", "5000",
			"request_timeout_ms", "60000",
			"decode_url", "yes",
			NULL,
		};
		memset(&cb, 0, sizeof(cb));
		cb.log_message = on_log_message;
		memset(&init, 0, sizeof(init));
		init.callbacks = &cb;
		init.user_data = k;
		init.configuration_options = opts;
		merr.code = &ecode;
		merr.text = ebuf;
		merr.text_buffer_size = sizeof(ebuf);
		k->ctx = mg_start2(&init, &merr);
	}
	if (k->ctx == NULL) {
		err_set(e, ERR_IO, "kubesim cannot listen on '%s': %s", listen,
		    ebuf[0] != '\0' ? ebuf : "the HTTP server did not start");
		goto fail;
	}
	mg_set_request_handler(k->ctx, "/", on_request, k);
	n = mg_get_server_ports(k->ctx, (int)(sizeof(ports) / sizeof(ports[0])), ports);
	if (n < 1) {
		err_set(e, ERR_IO, "kubesim reports no listening port for '%s'", listen);
		goto fail;
	}
	if (o->plain_http) {
		snprintf(k->url, sizeof(k->url), "http://127.0.0.1:%d", ports[0].port);
	} else {
		char host[64];
		const char *want = o->listen != NULL ? o->listen : "127.0.0.1:0";
		const char *colon = strrchr(want, ':');
		int port = colon != NULL ? (int)strtol(colon + 1, NULL, 10) : 0;

		snprintf(host, sizeof(host), "%.*s", colon != NULL ? (int)(colon - want) : (int)strlen(want), want);
		if (ks_front_start(host, port, ports[0].port, k->server_pem, k->ca_path, &k->stopping, &k->front, e) < 0)
			goto fail;
		snprintf(k->url, sizeof(k->url), "https://%s:%d", host, ks_front_port(k->front));
	}
	*out = k;
	return 0;
fail:
	kubesim_stop(k);
	return -1;
}

const char *
kubesim_url(const struct kubesim *k)
{
	return k->url;
}

const char *
kubesim_ca_path(const struct kubesim *k)
{
	return k->ca_path;
}

int
kubesim_set_state(struct kubesim *k, const char *name, struct err *e)
{
	struct ks_state *s = NULL, *old;
	char dir[PATH_MAX];
	unsigned long base;

	if (name[0] == '\0' || name[0] == '.' || strchr(name, '/') != NULL || strlen(name) > NAME_MAX)
		return err_set(e, ERR_INVALID, "state name '%s' is not a plain folder name", name);
	if (snprintf(dir, sizeof(dir), "%s/%s", k->fixtures_dir, name) >= (int)sizeof(dir))
		return err_set(e, ERR_INVALID, "state folder path for '%s' is too long", name);
	pthread_mutex_lock(&k->fault_lock);
	base = k->rv_next;
	k->rv_next += 2 * KUBESIM_MAX_OBJECTS;
	pthread_mutex_unlock(&k->fault_lock);
	if (ks_state_load(dir, name, base, &s, e) < 0)
		return err_prefix(e, "loading kubesim state '%s'", name);
	pthread_rwlock_wrlock(&k->lock);
	old = k->state;
	k->state = s;
	pthread_rwlock_unlock(&k->lock);
	ks_state_free(old);
	return 0;
}

int
kubesim_set_fault(struct kubesim *k, const char *prefix, enum kubesim_fault_kind kind, int param,
    struct err *e)
{
	size_t i;
	int ret = 0;

	if (strlen(prefix) >= sizeof(k->faults[0].prefix))
		return err_set(e, ERR_INVALID, "fault prefix '%.40s...' is too long", prefix);
	if ((unsigned)kind >= KUBESIM_FAULT__COUNT)
		return err_set(e, ERR_INVALID, "unknown fault kind %d", (int)kind);
	pthread_mutex_lock(&k->fault_lock);
	for (i = 0; i < k->nfaults; i++)
		if (strcmp(k->faults[i].prefix, prefix) == 0)
			break;
	if (kind == KUBESIM_FAULT_NONE) {
		if (i < k->nfaults) {
			k->faults[i] = k->faults[k->nfaults - 1];
			k->nfaults--;
		}
	} else if (i == k->nfaults && k->nfaults >= KUBESIM_MAX_FAULTS) {
		ret = err_set(e, ERR_TOO_LARGE, "kubesim takes at most %d faults at once", KUBESIM_MAX_FAULTS);
	} else {
		snprintf(k->faults[i].prefix, sizeof(k->faults[i].prefix), "%s", prefix);
		k->faults[i].kind = kind;
		k->faults[i].param = param;
		if (i == k->nfaults)
			k->nfaults++;
	}
	pthread_mutex_unlock(&k->fault_lock);
	return ret;
}

void
kubesim_clear_faults(struct kubesim *k)
{
	pthread_mutex_lock(&k->fault_lock);
	k->nfaults = 0;
	pthread_mutex_unlock(&k->fault_lock);
}

unsigned long
kubesim_requests(struct kubesim *k)
{
	unsigned long n;

	pthread_mutex_lock(&k->fault_lock);
	n = k->requests;
	pthread_mutex_unlock(&k->fault_lock);
	return n;
}

void
kubesim_stop(struct kubesim *k)
{
	size_t i;

	if (k == NULL)
		return;
	k->stopping = 1;
	ks_front_shutdown(k->front);
	if (k->ctx != NULL)
		mg_stop(k->ctx);
	ks_front_stop(k->front);
	for (i = 0; i < k->nusers; i++) {
		free(k->users[i].name);
		free(k->users[i].token);
	}
	ks_role_release(&k->role);
	ks_state_free(k->state);
	pthread_rwlock_destroy(&k->lock);
	pthread_mutex_destroy(&k->fault_lock);
	json_decref(k->served);
	free(k);
}
