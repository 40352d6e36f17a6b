/*
 * server.c - CivetWeb glue: the hardened options, the one request handler
 * that dispatches over the route table, request bodies with a cap, the
 * response (sent once, here), the access log and request ids.
 */
#include "http/http.h"
#include "http/http_int.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <civetweb.h>
#include <jansson.h>

#include "api/api.h"
#include "config/config.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/limits.h"
#include "util/log.h"
#include "util/banned.h"

/* Headers on every answer: the dashboard is same-origin only, never framed,
 * and nothing is sniffed into another type. */
#define SECURITY_HEADERS \
	"X-Content-Type-Options: nosniff\r\n" \
	"X-Frame-Options: DENY\r\n" \
	"Referrer-Policy: no-referrer\r\n" \
	"Content-Security-Policy: default-src 'self'; base-uri 'none'; object-src 'none'; " \
	"frame-ancestors 'none'; form-action 'self'"

struct http_server {
	struct mg_context *ctx;
	const struct config *cfg;
	struct store *store;
	struct api_services svc;
	char web_dir[PATH_MAX];     /* canonical; "" serves the embedded dashboard */
	char url[192];
	size_t max_body;
};

/* One request on its way through the handler. */
struct exchange {
	struct mg_connection *conn;
	struct http_server *h;
	const struct mg_request_info *ri;
	const char *method;
	char request_id[HTTP_MAX_REQUEST_ID + 1];
	struct timespec t0;
	size_t slot;                /* route slot for metrics and the log */
	int status;
	size_t bytes;               /* body bytes sent */
	int body_unread;            /* the request may carry a body we did not read */
	int framing_bad;            /* the body's length cannot be trusted: never read it */
	int body_late;              /* the body did not arrive within the request timeout */
	int sent;
};

static void
request_id_take(struct exchange *x)
{
	static const char hex[] = "0123456789abcdef";
	const char *given = mg_get_header(x->conn, "X-Request-Id");
	unsigned char rnd[16];
	size_t i;

	if (given != NULL && http_request_id_sane(given)) {
		snprintf(x->request_id, sizeof(x->request_id), "%s", given);
		return;
	}
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
		/* Uniqueness is all we need here, not secrecy. */
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		memcpy(rnd, &ts, sizeof(rnd) < sizeof(ts) ? sizeof(rnd) : sizeof(ts));
	}
	for (i = 0; i < sizeof(rnd); i++) {
		x->request_id[2 * i] = hex[rnd[i] >> 4];
		x->request_id[2 * i + 1] = hex[rnd[i] & 0xf];
	}
	x->request_id[2 * sizeof(rnd)] = '\0';
}

static double
elapsed(const struct exchange *x)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - x->t0.tv_sec) + (double)(now.tv_nsec - x->t0.tv_nsec) / 1e9;
}

/* A method as the client sent it when it is a plain token, else "-". */
static const char *
method_label(const char *m)
{
	size_t i;

	if (m == NULL || m[0] == '\0')
		return "-";
	for (i = 0; m[i] != '\0'; i++) {
		if (i >= 16 || m[i] < 'A' || m[i] > 'Z')
			return "-";
	}
	return m;
}

/* The access log: one JSON line per request, the route pattern rather than
 * the raw path (which may carry ids), never a header or a body. */
static void
access_log(const struct exchange *x, double secs)
{
	char ts[64], day[32];
	struct timespec now;
	struct tm tm;
	json_t *v;
	char *s;

	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(ts, sizeof(ts), "%s.%03ldZ", day, now.tv_nsec / 1000000);
	v = json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:f, s:s, s:I, s:s}",
	    "ts", ts, "level", "info", "type", "access",
	    "method", method_label(x->method),
	    "route", http_route_label(x->slot),
	    "status", x->status,
	    "duration_ms", secs * 1000.0,
	    "request_id", x->request_id,
	    "bytes", (json_int_t)x->bytes,
	    "remote", x->ri != NULL ? x->ri->remote_addr : "-");
	s = v != NULL ? json_dumps(v, JSON_COMPACT | JSON_REAL_PRECISION(6)) : NULL;
	if (s != NULL)
		log_line(s);
	free(s);
	json_decref(v);
}

/* Adds our own Date header: CivetWeb 1.15 formats it with gmtime(), whose
 * shared buffer races between worker threads (seen with TSan). It skips
 * its own when the response already has one. */
static void
add_date(struct mg_connection *conn)
{
	char date[64];
	time_t now = time(NULL);
	struct tm tm;

	if (gmtime_r(&now, &tm) != NULL && strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm) > 0)
		mg_response_header_add(conn, "Date", date, -1);
}

/* Adds a header unless its value could break the header block. */
static void
add_header(struct mg_connection *conn, const char *name, const char *value)
{
	const char *p;

	for (p = value; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 && *p != '\t')
			return;
	}
	mg_response_header_add(conn, name, value, -1);
}

/*
 * Sends the one response of this exchange: status, standard headers, the
 * extra header lines in `extra` ("Name: value\r\n..." or NULL), and the
 * body (not for HEAD). Records status and size for the log.
 */
static void
send_response(struct exchange *x, int status, const char *ctype, const char *body, size_t len,
    const char *extra, const char *cache)
{
	char clen[32];

	if (x->sent)
		return;
	x->sent = 1;
	x->status = status;
	if (x->body_unread)
		mg_disable_connection_keep_alive(x->conn);
	if (mg_response_header_start(x->conn, status) != 0)
		return;
	if (status != 204 && status != 304) {
		add_header(x->conn, "Content-Type", ctype != NULL ? ctype : "application/json");
		snprintf(clen, sizeof(clen), "%zu", len);
		add_header(x->conn, "Content-Length", clen);
	}
	add_header(x->conn, "Cache-Control", cache != NULL ? cache : "no-store");
	add_header(x->conn, "X-Request-Id", x->request_id);
	add_date(x->conn);
	mg_response_header_add_lines(x->conn, SECURITY_HEADERS "\r\n");
	if (extra != NULL && extra[0] != '\0')
		mg_response_header_add_lines(x->conn, extra);
	mg_response_header_send(x->conn);
	if (status == 204 || status == 304 || len == 0 || body == NULL)
		return;
	if (x->method != NULL && strcmp(x->method, "HEAD") == 0)
		return;
	if (mg_write(x->conn, body, len) > 0)
		x->bytes = len;
}

static void
send_error(struct exchange *x, int status, const char *code, const char *message, const char *extra)
{
	size_t len = 0;
	char *body = http_error_body(code, message, &len);

	if (body == NULL) {
		send_response(x, status, "application/json", "", 0, extra, NULL);
		return;
	}
	send_response(x, status, "application/json", body, len, extra, NULL);
	free(body);
}

/* Maps e through the one table. Internal failures are logged with the
 * request id, and the client gets a message that points there. */
static void
send_err(struct exchange *x, const struct err *e, const char *extra)
{
	int status = http_status_of(e->code);
	char msg[ERR_MSG_MAX + 128];

	if (status == 500) {
		log_error("request %s: %s", x->request_id, e->msg[0] != '\0' ? e->msg : "unknown failure");
		snprintf(msg, sizeof(msg), "internal error; the server log has the details (request id %s)",
		    x->request_id);
		send_error(x, status, err_code_name(e->code), msg, extra);
		return;
	}
	send_error(x, status, err_code_name(e->code), e->msg[0] != '\0' ? e->msg : "request failed", extra);
}

/* Content-Length must be plain digits; CivetWeb accepts "10abc" as 10.
 * Both Content-Length and Transfer-Encoding is a smuggling attempt. */
static int
check_framing(struct exchange *x, struct err *e)
{
	const char *cl = mg_get_header(x->conn, "Content-Length");
	const char *te = mg_get_header(x->conn, "Transfer-Encoding");
	size_t i;
	int ncl = 0, nte = 0;

	/* Two lengths (or encodings) are read differently by different parsers:
	 * a proxy in front might take the other one and see a second request. */
	for (i = 0; i < (size_t)x->ri->num_headers && i < 64; i++) {
		ncl += strcasecmp(x->ri->http_headers[i].name, "Content-Length") == 0;
		nte += strcasecmp(x->ri->http_headers[i].name, "Transfer-Encoding") == 0;
	}
	if (ncl > 1 || nte > 1)
		return err_set(e, ERR_INVALID, "a request may have one Content-Length or one Transfer-Encoding header");
	if (cl != NULL) {
		if (te != NULL)
			return err_set(e, ERR_INVALID, "a request may not have both Content-Length and Transfer-Encoding");
		for (i = 0; cl[i] != '\0'; i++) {
			if (cl[i] < '0' || cl[i] > '9' || i >= 18)
				return err_set(e, ERR_INVALID, "Content-Length is not a number");
		}
		if (i == 0)
			return err_set(e, ERR_INVALID, "Content-Length is empty");
	}
	x->body_unread = (te != NULL) || x->ri->content_length > 0;
	return 0;
}

/*
 * The socket of this exchange's connection, or -1. CivetWeb does not hand it
 * out, so it is the process's socket whose local port is the server's and
 * whose peer is the client's address and port.
 */
static int
conn_socket(const struct mg_request_info *ri)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int found = -1;

	if (d == NULL)
		return -1;
	while (found < 0 && (de = readdir(d)) != NULL) {
		struct sockaddr_storage peer, self;
		socklen_t pl = sizeof(peer), sl = sizeof(self);
		char host[INET6_ADDRSTRLEN];
		int fd, pport, sport;

		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		fd = (int)strtol(de->d_name, NULL, 10);
		if (fd == dirfd(d) || getpeername(fd, (struct sockaddr *)&peer, &pl) != 0 ||
		    getsockname(fd, (struct sockaddr *)&self, &sl) != 0 || peer.ss_family != self.ss_family)
			continue;
		if (peer.ss_family == AF_INET) {
			const struct sockaddr_in *p = (const struct sockaddr_in *)&peer;

			inet_ntop(AF_INET, &p->sin_addr, host, sizeof(host));
			pport = ntohs(p->sin_port);
			sport = ntohs(((const struct sockaddr_in *)&self)->sin_port);
		} else if (peer.ss_family == AF_INET6) {
			const struct sockaddr_in6 *p = (const struct sockaddr_in6 *)&peer;

			inet_ntop(AF_INET6, &p->sin6_addr, host, sizeof(host));
			pport = ntohs(p->sin6_port);
			sport = ntohs(((const struct sockaddr_in6 *)&self)->sin6_port);
		} else {
			continue;
		}
		if (pport == ri->remote_port && sport == ri->server_port && strcmp(host, ri->remote_addr) == 0)
			found = fd;
	}
	closedir(d);
	return found;
}

/* The body deadline passed: the read side is shut, so a blocked mg_read()
 * returns (CivetWeb's own timeout restarts with every byte that arrives). */
static void
body_deadline_fire(union sigval v)
{
	shutdown(v.sival_int, SHUT_RD);
}

/* Reads the whole body into out, at most max bytes: Content-Length is
 * checked before reading, and chunked bodies are counted while reading. The
 * whole body must arrive within request_timeout_ms of the request's start. */
static int
read_body(struct exchange *x, size_t max, struct buf *out, struct err *e)
{
	const struct config *cfg = x->h->cfg;
	double limit_s = (cfg->request_timeout_ms > 0 ? cfg->request_timeout_ms : HTTP_REQUEST_TIMEOUT_MS) / 1000.0;
	char chunk[8192];
	struct sigevent sev;
	struct itimerspec when;
	timer_t timer;
	int r, fd, armed = 0, ret = -1;
	double left;

	if (x->ri->content_length > 0 && (unsigned long long)x->ri->content_length > max)
		return err_set(e, ERR_TOO_LARGE, "the request body (%lld bytes) exceeds the limit of %zu bytes",
		    x->ri->content_length, max);
	/* CivetWeb's request_timeout_ms bounds each wait for data, not the body:
	 * a client sending a byte a second would hold a worker for ever. */
	left = limit_s - elapsed(x);
	if (x->body_unread && (fd = conn_socket(x->ri)) >= 0) {
		memset(&sev, 0, sizeof(sev));
		sev.sigev_notify = SIGEV_THREAD;
		sev.sigev_notify_function = body_deadline_fire;
		sev.sigev_value.sival_int = fd;
		memset(&when, 0, sizeof(when));
		if (left < 0.001)
			left = 0.001;
		when.it_value.tv_sec = (time_t)left;
		when.it_value.tv_nsec = (long)((left - (double)(time_t)left) * 1e9);
		if (timer_create(CLOCK_MONOTONIC, &sev, &timer) == 0) {
			armed = 1;
			timer_settime(timer, 0, &when, NULL);
		}
	}
	for (;;) {
		r = mg_read(x->conn, chunk, sizeof(chunk));
		if (r < 0 || elapsed(x) > limit_s) {
			if (elapsed(x) > limit_s) {
				x->body_late = 1;
				err_set(e, ERR_INVALID, "the request body did not arrive within %.1f s", limit_s);
			} else {
				err_set(e, ERR_INVALID, "reading the request body failed");
			}
			goto out;
		}
		if (r == 0)
			break;
		if (buf_len(out) + (size_t)r > max) {
			err_set(e, ERR_TOO_LARGE, "the request body exceeds the limit of %zu bytes", max);
			goto out;
		}
		if (buf_add(out, chunk, (size_t)r, e) < 0)
			goto out;
	}
	if (x->ri->content_length > 0 && buf_len(out) < (size_t)x->ri->content_length) {
		err_set(e, ERR_INVALID, "the request body ended after %zu of %lld bytes", buf_len(out),
		    x->ri->content_length);
		goto out;
	}
	x->body_unread = 0;
	ret = 0;
out:
	if (armed)
		timer_delete(timer);
	return ret;
}

/*
 * After an early answer (401, 413, ...) the client may still be sending its
 * body. Closing a socket with unread data makes the kernel send a reset,
 * which can destroy the answer before the client reads it; so read and
 * discard what is left, within HTTP_DRAIN_MAX_BYTES and HTTP_DRAIN_MAX_MS.
 * A declared length beyond that is not waited for: the connection closes.
 */
static void
drain_body(struct exchange *x)
{
	long long declared = x->ri->content_length;
	char chunk[8192];
	size_t total = 0;
	int r;

	if (!x->body_unread || x->framing_bad)
		return;
	if (declared > 0 && (unsigned long long)declared > HTTP_DRAIN_MAX_BYTES + x->h->max_body)
		return;
	while (total < HTTP_DRAIN_MAX_BYTES && elapsed(x) * 1000.0 < HTTP_DRAIN_MAX_MS) {
		r = mg_read(x->conn, chunk, sizeof(chunk));
		if (r <= 0)
			break;
		total += (size_t)r;
	}
}

/* A JSON body: the media type must be JSON (or absent), the body not empty,
 * and the text well formed. Errors name the problem and where it is. */
static int
parse_json_body(struct exchange *x, const struct buf *body, json_t **out, struct err *e)
{
	const char *ct = mg_get_header(x->conn, "Content-Type");
	json_error_t jerr;
	size_t n;

	if (ct != NULL) {
		n = strcspn(ct, ";");
		while (n > 0 && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
			n--;
		if (!(n == 16 && strncasecmp(ct, "application/json", 16) == 0))
			return err_set(e, ERR_UNSUPPORTED, "unsupported content type '%.*s'; send application/json",
			    (int)(n > 64 ? 64 : n), ct);
	}
	if (buf_len(body) == 0)
		return err_set(e, ERR_INVALID, "the request body is empty; this route takes a JSON object");
	if (!http_json_depth_ok(buf_str(body), buf_len(body), HTTP_MAX_JSON_DEPTH))
		return err_set(e, ERR_INVALID, "the JSON body is nested deeper than %d levels", HTTP_MAX_JSON_DEPTH);
	*out = json_loadb(buf_str(body), buf_len(body), JSON_REJECT_DUPLICATES, &jerr);
	if (*out == NULL)
		return err_set(e, ERR_INVALID, "malformed JSON body: %s (line %d, column %d)",
		    jerr.text, jerr.line, jerr.column);
	return 0;
}

static void
serve_static(struct exchange *x, const char *path)
{
	char rel[PATH_MAX], etag[48], extra[96];
	struct buf body = BUF_INIT(HTTP_MAX_STATIC_BYTES);
	struct err e = ERR_INIT;
	const char *ctype = NULL, *inm;
	const unsigned char *data = NULL;
	size_t len = 0;

	x->slot = HTTP_ROUTE_STATIC;
	if (http_static_path(path, rel, sizeof(rel)) < 0)
		goto notfound;
	if (x->h->web_dir[0] == '\0') {
		/* The dashboard compiled into the binary: revalidated by its ETag. */
		if (http_static_embedded(rel, &data, &len, &ctype, etag, sizeof(etag)) < 0)
			goto notfound;
		snprintf(extra, sizeof(extra), "ETag: %s\r\n", etag);
		inm = mg_get_header(x->conn, "If-None-Match");
		if (inm != NULL && strcmp(inm, etag) == 0)
			send_response(x, 304, NULL, NULL, 0, extra, "no-cache");
		else
			send_response(x, 200, ctype, (const char *)data, len, extra, "no-cache");
		goto out;
	}
	if (http_static_read(x->h->web_dir, rel, &body, &ctype, &e) < 0) {
		if (e.code != ERR_OK && e.code != ERR_NOT_FOUND) {
			send_err(x, &e, NULL);
			goto out;
		}
		goto notfound;
	}
	send_response(x, 200, ctype, buf_str(&body), buf_len(&body), NULL, "no-cache");
	goto out;
notfound:
	x->slot = HTTP_ROUTE_UNMATCHED;
	send_error(x, 404, "not_found", "no such page", NULL);
out:
	buf_release(&body);
}

/* Streams the open file of a file body (api_resp_file) in chunks from the
 * heap (worker stacks are small), and closes it. The length is the file's
 * size when the headers go out. */
static void
send_file(struct exchange *x, int status, struct api_resp *rs, char *extra, size_t extrasz)
{
	struct stat st;
	char *chunk = NULL;
	size_t len, used = strlen(extra);
	ssize_t r;

	if (fstat(rs->file_fd, &st) != 0 || !S_ISREG(st.st_mode) || (chunk = malloc(65536)) == NULL) {
		struct err e = ERR_INIT;

		err_set(&e, ERR_IO, "the file to send cannot be read");
		send_err(x, &e, NULL);
		goto out;
	}
	if (rs->filename[0] != '\0' && strpbrk(rs->filename, "\"\\\r\n;") == NULL)
		snprintf(extra + used, extrasz - used, "Content-Disposition: attachment; filename=\"%s\"\r\n",
		    rs->filename);
	len = (size_t)st.st_size;
	send_response(x, status, rs->content_type != NULL ? rs->content_type : "application/octet-stream",
	    NULL, len, extra, NULL);
	if (len == 0 || (x->method != NULL && strcmp(x->method, "HEAD") == 0))
		goto out;
	while (x->bytes < len && (r = read(rs->file_fd, chunk, 65536)) > 0) {
		if ((size_t)r > len - x->bytes)
			r = (ssize_t)(len - x->bytes);
		if (mg_write(x->conn, chunk, (size_t)r) <= 0)
			break;
		x->bytes += (size_t)r;
	}
out:
	free(chunk);
	close(rs->file_fd);
	rs->file_set = 0;
}

/* The API answer of a handler. */
static void
send_api(struct exchange *x, struct api_resp *rs)
{
	int status = rs->status != 0 ? rs->status : 200;
	char extra[512] = "";
	char *s;

	if (rs->location[0] != '\0' && strpbrk(rs->location, "\r\n") == NULL)
		snprintf(extra, sizeof(extra), "Location: %s\r\n", rs->location);
	if (rs->file_set) {
		send_file(x, status, rs, extra, sizeof(extra));
		return;
	}
	if (rs->json != NULL) {
		s = json_dumps(rs->json, JSON_COMPACT);
		if (s == NULL) {
			struct err e = ERR_INIT;

			err_set(&e, ERR_NOMEM, "the response could not be encoded as JSON");
			send_err(x, &e, NULL);
			return;
		}
		send_response(x, status, "application/json", s, strlen(s), extra, NULL);
		free(s);
		return;
	}
	send_response(x, status, rs->content_type != NULL ? rs->content_type : "application/json",
	    buf_str(&rs->text), buf_len(&rs->text), extra, NULL);
}

/* The two steps of a request that run on the big-stack runner thread. */
struct auth_call {
	struct http_server *h;
	struct exchange *x;
	const struct route *route;
	struct api_principal *who;
	int *invalid_token;
	struct err *e;
	int rc;
};

static void
auth_call_run(void *p)
{
	struct auth_call *c = p;

	c->rc = http_auth(c->h->store, c->h->cfg->anonymous_read, c->x->method,
	    mg_get_header(c->x->conn, "Authorization"), c->route->min_role, c->who,
	    c->invalid_token, c->e);
}

struct handler_call {
	const struct route *route;
	struct api_req *rq;
	struct api_resp *rs;
	struct err *e;
	int rc;
};

static void
handler_call_run(void *p)
{
	struct handler_call *c = p;

	c->rc = c->route->fn(c->rq, c->rs, c->e);
}

static int
on_request(struct mg_connection *conn, void *cbdata)
{
	struct http_server *h = cbdata;
	struct exchange x;
	struct api_principal who;
	struct api_req rq;
	struct api_resp rs;
	struct buf body = BUF_INIT(1);
	struct err e = ERR_INIT;
	const struct route *route;
	enum route_result found;
	char allow[128], extra[256], msg[512];
	char *scratch = NULL, *path = NULL;
	const char *raw;
	size_t idx = 0, plen;
	int dec;
	int invalid_token = 0;
	struct auth_call ac;
	struct handler_call hc;

	memset(&x, 0, sizeof(x));
	memset(&rq, 0, sizeof(rq));
	memset(&rs, 0, sizeof(rs));
	buf_init(&rs.text, HTTP_MAX_RESPONSE_BYTES);
	clock_gettime(CLOCK_MONOTONIC, &x.t0);
	x.conn = conn;
	x.h = h;
	x.ri = mg_get_request_info(conn);
	x.method = x.ri->request_method;
	x.slot = HTTP_ROUTE_UNMATCHED;
	request_id_take(&x);
	raw = x.ri->local_uri_raw;

	if (check_framing(&x, &e) < 0) {
		x.body_unread = 1;
		x.framing_bad = 1;
		send_err(&x, &e, NULL);
		goto out;
	}
	if (raw == NULL || raw[0] != '/') {
		send_error(&x, 404, "not_found", "no such resource", NULL);
		goto out;
	}
	plen = strlen(raw);
	path = malloc(plen + 1);
	scratch = malloc(2 * plen + HTTP_ROUTE_SCRATCH_EXTRA);
	if (path == NULL || scratch == NULL) {
		err_set(&e, ERR_NOMEM, "out of memory routing a request");
		send_err(&x, &e, NULL);
		goto out;
	}
	dec = http_path_decode(raw, path, plen + 1);
	if (dec == -1) {
		send_error(&x, 400, "invalid_argument", "the request path has a malformed percent-encoding", NULL);
		goto out;
	}
	if (dec == -2) {
		send_error(&x, 404, "not_found", "no such resource", NULL);
		goto out;
	}
	found = http_routes_find(x.method, path, &idx, &rq, scratch, 2 * plen + HTTP_ROUTE_SCRATCH_EXTRA,
	    allow, sizeof(allow));
	if (found == ROUTE_NONE) {
		if (strncmp(path, "/api/", 5) == 0 || strcmp(path, "/api") == 0) {
			snprintf(msg, sizeof(msg), "no route %s %.200s; see openapi.yaml", x.method, path);
			send_error(&x, 404, "not_found", msg, NULL);
		} else if (strcmp(x.method, "GET") == 0 || strcmp(x.method, "HEAD") == 0) {
			serve_static(&x, path);
		} else {
			snprintf(msg, sizeof(msg), "%s is not allowed here; the dashboard is read-only", x.method);
			send_error(&x, 405, "method_not_allowed", msg, "Allow: GET, HEAD\r\n");
		}
		goto out;
	}
	if (found == ROUTE_BAD_METHOD) {
		snprintf(msg, sizeof(msg), "%s is not allowed on %.200s; allowed: %s", x.method, path, allow);
		snprintf(extra, sizeof(extra), "Allow: %s\r\n", allow);
		send_error(&x, 405, "method_not_allowed", msg, extra);
		goto out;
	}
	route = &http_routes[idx];
	x.slot = idx;

	ac = (struct auth_call){ h, &x, route, &who, &invalid_token, &e, -1 };
	if (http_runner_call(auth_call_run, &ac) < 0) {
		err_set(&e, ERR_UNAVAILABLE, "the server cannot start a request thread; try again");
		send_err(&x, &e, NULL);
		goto out;
	}
	if (ac.rc < 0) {
		if (e.code == ERR_UNAUTHORIZED)
			send_err(&x, &e, invalid_token ?
			    "WWW-Authenticate: Bearer realm=\"skewd\", error=\"invalid_token\"\r\n" :
			    "WWW-Authenticate: Bearer realm=\"skewd\"\r\n");
		else
			send_err(&x, &e, NULL);
		goto out;
	}

	if (route->flags & (ROUTE_JSON_BODY | ROUTE_JSON_BODY_OPTIONAL)) {
		buf_init(&body, h->max_body);
		if (read_body(&x, h->max_body, &body, &e) < 0 ||
		    (((route->flags & ROUTE_JSON_BODY) || buf_len(&body) > 0) &&
		    parse_json_body(&x, &body, &rq.body, &e) < 0)) {
			if (x.body_late) {
				/* Not drained: the rest would come just as slowly. */
				x.framing_bad = 1;
				send_error(&x, 408, "request_timeout", e.msg, NULL);
			} else {
				send_err(&x, &e, NULL);
			}
			goto out;
		}
	}

	rq.method = x.method;
	rq.path = path;
	rq.route = route->pattern;
	rq.query = x.ri->query_string;
	rq.request_id = x.request_id;
	rq.who = route->min_role != ROLE_NONE ? &who : NULL;
	rq.store = h->store;
	rq.cfg = h->cfg;
	rq.seal = h->svc.seal;
	rq.collect = h->svc.collect;
	hc = (struct handler_call){ route, &rq, &rs, &e, -1 };
	if (http_runner_call(handler_call_run, &hc) < 0) {
		err_set(&e, ERR_UNAVAILABLE, "the server cannot start a request thread; try again");
		send_err(&x, &e, NULL);
		goto out;
	}
	if (hc.rc < 0) {
		if (e.code == ERR_OK)
			err_set(&e, ERR_INTERNAL, "handler for %s %s failed without saying why",
			    route->method, route->pattern);
		send_err(&x, &e, NULL);
		goto out;
	}
	send_api(&x, &rs);
out:
	if (!x.sent) {
		err_set(&e, ERR_INTERNAL, "no response was produced");
		send_err(&x, &e, NULL);
	}
	{
		double secs = elapsed(&x);

		http_metrics_record(x.slot, x.method != NULL ? x.method : "OTHER", x.status, secs);
		access_log(&x, secs);
	}
	drain_body(&x);
	json_decref(rq.body);
	json_decref(rs.json);
	if (rs.file_set)
		close(rs.file_fd);
	buf_release(&rs.text);
	buf_release(&body);
	free(scratch);
	free(path);
	return x.status;
}

/* Errors CivetWeb produces itself (a malformed request line, headers over
 * max_request_size, ...) get the same JSON shape and the access log too. */
static int
on_http_error(struct mg_connection *conn, int status, const char *errmsg)
{
	struct exchange x;
	char msg[256];

	memset(&x, 0, sizeof(x));
	clock_gettime(CLOCK_MONOTONIC, &x.t0);
	x.conn = conn;
	x.ri = mg_get_request_info(conn);
	x.method = x.ri != NULL && x.ri->request_method != NULL ? x.ri->request_method : "-";
	x.slot = HTTP_ROUTE_UNMATCHED;
	x.body_unread = 1;
	request_id_take(&x);
	snprintf(msg, sizeof(msg), "%s", errmsg != NULL && errmsg[0] != '\0' ? errmsg : "request refused");
	/* CivetWeb capitalises its messages; ours are lower case. */
	if (msg[0] >= 'A' && msg[0] <= 'Z')
		msg[0] = (char)(msg[0] - 'A' + 'a');
	if (mg_response_header_start(conn, status) != 0)
		return 1;
	x.sent = 0;
	{
		size_t len = 0;
		char *body = http_error_body(http_status_code_name(status), msg, &len);
		char clen[32];

		x.status = status;
		mg_disable_connection_keep_alive(conn);
		add_header(conn, "Content-Type", "application/json");
		snprintf(clen, sizeof(clen), "%zu", body != NULL ? len : 0);
		add_header(conn, "Content-Length", clen);
		add_header(conn, "Cache-Control", "no-store");
		add_header(conn, "X-Request-Id", x.request_id);
		add_date(conn);
		mg_response_header_add_lines(conn, SECURITY_HEADERS "\r\n");
		mg_response_header_send(conn);
		if (body != NULL && mg_write(conn, body, len) > 0)
			x.bytes = len;
		free(body);
	}
	http_metrics_record(x.slot, x.method, status, elapsed(&x));
	access_log(&x, elapsed(&x));
	return 0;
}

static int
on_log_message(const struct mg_connection *conn, const char *message)
{
	(void)conn;
	log_warn("http: %s", message);
	return 1;
}

static pthread_once_t lib_once = PTHREAD_ONCE_INIT;

static void
lib_init(void)
{
	mg_init_library(0);
}

/* The dashboard folder when `web_dir` is configured (development, or a
 * customised copy); otherwise "" and the files compiled into the binary. */
static int
find_web_dir(const struct config *cfg, char *out, size_t outsz, struct err *e)
{
	char real[PATH_MAX];
	struct stat st;

	out[0] = '\0';
	if (cfg->web_dir == NULL)
		return 0;
	if (realpath(cfg->web_dir, real) == NULL || stat(real, &st) < 0 || !S_ISDIR(st.st_mode))
		return err_set(e, ERR_IO, "web_dir '%s' is not a readable folder", cfg->web_dir);
	snprintf(out, outsz, "%s", real);
	return 0;
}

int
http_start(const struct api_services *svc, struct http_server **out, struct err *e)
{
	const struct config *cfg = svc->cfg;
	struct http_server *h = NULL;
	struct mg_callbacks cb;
	struct mg_init_data init;
	struct mg_error_data merr;
	struct mg_server_port ports[4];
	char threads[16], timeout[16], keepalive[16], headers[16], ebuf[256] = "";
	char host[128];
	const char *colon;
	unsigned ecode = 0;
	int n, nthreads;

	*out = NULL;
	pthread_once(&lib_once, lib_init);
	h = calloc(1, sizeof(*h));
	if (h == NULL)
		return err_set(e, ERR_NOMEM, "out of memory starting the HTTP server");
	h->svc = *svc;
	h->cfg = cfg;
	h->store = svc->store;
	h->max_body = cfg->max_body_bytes > 0 ? cfg->max_body_bytes : HTTP_MAX_BODY_BYTES;
	if (find_web_dir(cfg, h->web_dir, sizeof(h->web_dir), e) < 0)
		goto fail;

	nthreads = cfg->http_threads > 0 ? cfg->http_threads : HTTP_DEFAULT_THREADS;
	if (nthreads > HTTP_MAX_THREADS)
		nthreads = HTTP_MAX_THREADS;
	snprintf(threads, sizeof(threads), "%d", nthreads);
	snprintf(timeout, sizeof(timeout), "%d",
	    cfg->request_timeout_ms > 0 ? cfg->request_timeout_ms : HTTP_REQUEST_TIMEOUT_MS);
	snprintf(keepalive, sizeof(keepalive), "%d", HTTP_KEEPALIVE_TIMEOUT_MS);
	snprintf(headers, sizeof(headers), "%d", HTTP_MAX_HEADER_BYTES);
	{
		/* The hardened option table (docs/api.md, research §1.2). There is
		 * no document_root: files are served by static.c, so CivetWeb's
		 * listing, CGI, SSI and PUT/DELETE of files cannot run; the patterns
		 * are set anyway so that adding a document_root stays safe. */
		const char *opts[] = {
			"listening_ports", cfg->listen,
			"num_threads", threads,
			"request_timeout_ms", timeout,
			"enable_keep_alive", "yes",
			"keep_alive_timeout_ms", keepalive,
			"max_request_size", headers,
			"tcp_nodelay", "1",
			"enable_directory_listing", "no",
			"cgi_pattern", "**.skewd-never-cgi$",
			"ssi_pattern", "**.skewd-never-ssi$",
			"index_files", "index.html",
			"access_control_allow_origin", "",
			"decode_url", "no",
			"additional_header", SECURITY_HEADERS,
			NULL,
		};

		memset(&cb, 0, sizeof(cb));
		cb.http_error = on_http_error;
		cb.log_message = on_log_message;
		init.callbacks = &cb;
		init.user_data = h;
		init.configuration_options = opts;
		merr.code = &ecode;
		merr.text = ebuf;
		merr.text_buffer_size = sizeof(ebuf);
		h->ctx = mg_start2(&init, &merr);
	}
	if (h->ctx == NULL) {
		err_set(e, ERR_IO, "cannot listen on '%s': %s", cfg->listen,
		    ebuf[0] != '\0' ? ebuf : "the HTTP server did not start");
		goto fail;
	}
	mg_set_request_handler(h->ctx, "/", on_request, h);

	n = mg_get_server_ports(h->ctx, (int)(sizeof(ports) / sizeof(ports[0])), ports);
	if (n < 1) {
		err_set(e, ERR_IO, "the HTTP server reports no listening port for '%s'", cfg->listen);
		goto fail;
	}
	/* The host part of "HOST:PORT"; all interfaces are reached via loopback. */
	colon = strrchr(cfg->listen, ':');
	if (colon != NULL && colon != cfg->listen)
		snprintf(host, sizeof(host), "%.*s", (int)(colon - cfg->listen), cfg->listen);
	else
		snprintf(host, sizeof(host), "127.0.0.1");
	if (strcmp(host, "0.0.0.0") == 0)
		snprintf(host, sizeof(host), "127.0.0.1");
	else if (strcmp(host, "[::]") == 0)
		snprintf(host, sizeof(host), "[::1]");
	snprintf(h->url, sizeof(h->url), "%s://%s:%d", ports[0].is_ssl ? "https" : "http", host, ports[0].port);
	*out = h;
	return 0;
fail:
	http_stop(h);
	return -1;
}

void
http_stop(struct http_server *h)
{
	if (h == NULL)
		return;
	if (h->ctx != NULL)
		mg_stop(h->ctx);
	free(h);
}

const char *
http_url(const struct http_server *h)
{
	return h->url;
}
