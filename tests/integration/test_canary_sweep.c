/*
 * test_canary_sweep.c - T1: secrets never reach the database, a log, an
 * answer, a bundle or a webhook message.
 *
 * One scenario at the most verbose log level (debug): a copy of the fixture
 * cluster is given canary values where real clusters keep secrets (a Secret's
 * data, literal env values under secret and under plain names, a database URL
 * with a password, an Authorization header in an env value, a flag value, a
 * ConfigMap, an Ingress annotation, log lines with a bearer token and URL
 * credentials). Clusters are
 * registered with canary credentials (bearer token, kubeconfig token, client
 * key, Prometheus token and a Prometheus URL with a password), a webhook with
 * a canary in its URL path and query and a canary signing secret, pointing at
 * a receiver in this process. Then: pulls, a baseline, an imported baseline
 * holding canaries, the rollout, the webhook delivery, a bundle (downloaded
 * twice), every read route, the deletion of a cluster, a WAL checkpoint.
 *
 * Every canary is then searched in every form a leak would take (raw, its
 * random core alone, JSON-escaped, URL-encoded in both hex cases, base64 and
 * base64url at the three alignments) in: every file under the data dir (the
 * database, its -wal and -shm, bundles; .tar.gz files also decompressed and
 * extracted), the server's stdout and stderr, every answer's headers and
 * body, the bundle as downloaded / as a tar stream / extracted, and every
 * request the receiver got. The same after a clean stop. Zero hits.
 *
 * test_detector_finds_every_form checks, first, that the search itself finds
 * each form when it is there, so an empty result means something.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>
#include <arpa/inet.h>
#include <ftw.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clusterkit.h"
#include "testkit.h"
#include "util/banned.h"

#define VLLM "/api/v1/targets/good/llm/deployment/vllm-llama"

/* The canaries. Each has a random core (the hex run) that appears nowhere
 * else; some carry characters that JSON or URL encoding would change. */
#define C_TOKEN        "skewd.cnry-tok_8e41d0f7c2a9/Q+z="
#define C_KC_TOKEN     "cnry-kubeconfig-tok-3b9f61ad70e5"
#define C_PROM_TOKEN   "cnry-prom-tok-c07e5a91d2b4"
#define C_PROM_URLPW   "cnry-prom-urlpw-5d2e8b13f6a0"
#define C_HOOK_PATH    "cnry-hook-path-61f0a9c3e7d2"
#define C_HOOK_QUERY   "cnry-hook-q-a4b8e2f6019c"
#define C_HOOK_SECRET  "cnry-hook-sig\"k\\9d3c7b5e0a14"
#define C_HOOK_URLPW   "cnry-hook-urlpw-7c3e9a1f5b82"
#define C_SECRET2      "cnry-secret/+=\"2f9a7c41e8b0"
#define C_ENV_KEY      "cnry-env-key-7a2c9e4b1d05"
#define C_ENV_URLPW    "cnry-env-urlpw-0e6d3f8a2b71"
#define C_ENV_BEARER   "cnry-env-bearer-95c1b7e3f2a4"
#define C_ARG_KEY      "cnry-arg-apikey-1f8e2d6c9b30"
#define C_CM_TOKEN     "cnry-cm-tok-b2e7a9d40c16"
#define C_CM_URLPW     "cnry-cm-urlpw-4d9b2f7e1a83"
#define C_LOG_BEARER   "cnry-log-bearer-e8f1c6a2d935"
#define C_LOG_URLPW    "cnry-log-urlpw-3a7d0b9e4c62"
#define C_ANN_URLPW    "cnry-ann-urlpw-8c5f1e3a9d06"
#define C_IMPORT_KEY   "cnry-import-key-6b0f4e8a2d17"
#define C_IMPORT_URLPW "cnry-import-urlpw-9e2a5c1f7b48"

#define MAX_CANARIES 32
#define MAX_FORMS    16
#define MAX_REQS     64

struct canary {
	const char *what;
	char value[256];
	char core[64];
};

static struct canary canaries[MAX_CANARIES];
static size_t ncanaries;

static struct tk_server srv;
static struct ck_sim sim;
static char fixdir[256];
static char *viewer, *editor, *admin;

/* Every bundle downloaded, kept for the sweep. */
static struct {
	char *data[8];
	size_t len[8];
	size_t n;
} bundles;

/* ---- forms of a value --------------------------------------------------- */

static void
form_add(char forms[][512], const char *names[], size_t *n, const char *name, const char *s)
{
	size_t i;

	if (*n >= MAX_FORMS || s[0] == '\0')
		return;
	for (i = 0; i < *n; i++) {
		if (strcmp(forms[i], s) == 0)
			return;
	}
	snprintf(forms[*n], 512, "%s", s);
	names[*n] = name;
	(*n)++;
}

static void
url_encode(const char *s, int lower, char *out, size_t outsz)
{
	const char *hex = lower ? "0123456789abcdef" : "0123456789ABCDEF";
	size_t o = 0;

	for (; *s != '\0' && o + 4 < outsz; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~') {
			out[o++] = (char)c;
		} else {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = '\0';
}

static void
json_escape(const char *s, int slash, char *out, size_t outsz)
{
	size_t o = 0;

	for (; *s != '\0' && o + 8 < outsz; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\' || (slash && c == '/')) {
			out[o++] = '\\';
			out[o++] = (char)c;
		} else if (c < 0x20) {
			o += (size_t)snprintf(out + o, outsz - o, "\\u%04x", c);
		} else {
			out[o++] = (char)c;
		}
	}
	out[o] = '\0';
}

/* The part of base64(pad bytes + value + more) that depends on the value
 * alone, for each of the three alignments; url: the URL-safe alphabet. */
static void
b64_inner(const char *value, size_t shift, int url, char *out, size_t outsz)
{
	unsigned char padded[300];
	char enc[512];
	size_t n = strlen(value), groups, start, end, i;

	out[0] = '\0';
	if (shift + n > sizeof(padded))
		return;
	memset(padded, 0, shift);
	memcpy(padded + shift, value, n);
	if (ck_b64(padded, shift + n, enc, sizeof(enc)) < 0)
		return;
	groups = strlen(enc) / 4;
	start = shift > 0 ? 4 : 0;
	end = (groups - 1) * 4;
	if (end <= start + 8 || end - start >= outsz)
		return;
	memcpy(out, enc + start, end - start);
	out[end - start] = '\0';
	for (i = 0; url && out[i] != '\0'; i++) {
		if (out[i] == '+')
			out[i] = '-';
		else if (out[i] == '/')
			out[i] = '_';
	}
}

static size_t
forms_of(const struct canary *c, char forms[][512], const char *names[])
{
	static const char *const b64names[2][3] = {
		{ "base64", "base64 (shifted 1)", "base64 (shifted 2)" },
		{ "base64url", "base64url (shifted 1)", "base64url (shifted 2)" },
	};
	char tmp[512];
	size_t n = 0, shift;
	int url;

	form_add(forms, names, &n, "raw", c->value);
	form_add(forms, names, &n, "its random core", c->core);
	json_escape(c->value, 0, tmp, sizeof(tmp));
	form_add(forms, names, &n, "JSON-escaped", tmp);
	json_escape(c->value, 1, tmp, sizeof(tmp));
	form_add(forms, names, &n, "JSON-escaped with \\/", tmp);
	url_encode(c->value, 0, tmp, sizeof(tmp));
	form_add(forms, names, &n, "URL-encoded", tmp);
	url_encode(c->value, 1, tmp, sizeof(tmp));
	form_add(forms, names, &n, "URL-encoded (lower-case hex)", tmp);
	for (url = 0; url < 2; url++) {
		for (shift = 0; shift < 3; shift++) {
			b64_inner(c->value, shift, url, tmp, sizeof(tmp));
			form_add(forms, names, &n, b64names[url][shift], tmp);
		}
	}
	return n;
}

/* Found counts across the sweep, reported at the end. */
static size_t hits, searched_bytes, searched_places;
static int sweep_quiet;

/* Searches one place for every form of every canary; reports each hit. */
static void
sweep(const char *where, const char *data, size_t len)
{
	char forms[MAX_FORMS][512];
	const char *names[MAX_FORMS];
	size_t i, j, n;

	searched_places++;
	searched_bytes += len;
	if (data == NULL || len == 0)
		return;
	for (i = 0; i < ncanaries; i++) {
		n = forms_of(&canaries[i], forms, names);
		for (j = 0; j < n; j++) {
			const char *at = memmem(data, len, forms[j], strlen(forms[j]));

			if (at != NULL) {
				size_t off = (size_t)(at - data), from = off > 60 ? off - 60 : 0;

				if (!sweep_quiet)
					fprintf(stderr, "LEAK: %s holds %s (%s) at byte %zu: ...%.*s...\n", where,
				    canaries[i].what, names[j], off, (int)(off - from + strlen(forms[j]) + 40 <
				    len - from ? off - from + strlen(forms[j]) + 40 : len - from), data + from);
				hits++;
				break;
			}
		}
	}
}

static void
canary_add(const char *what, const char *value)
{
	struct canary *c;
	const char *p, *best = NULL;
	size_t bestlen = 0;

	assert_true(ncanaries < MAX_CANARIES);
	c = &canaries[ncanaries++];
	c->what = what;
	snprintf(c->value, sizeof(c->value), "%s", value);
	/* The core: the longest run of hex digits (12 in the defined ones), or
	 * the whole value when it has none that long (a key's PEM line). */
	for (p = value; *p != '\0';) {
		size_t n = strspn(p, "0123456789abcdef");

		if (n > bestlen) {
			best = p;
			bestlen = n;
		}
		p += n > 0 ? n : 1;
	}
	if (bestlen >= 12)
		snprintf(c->core, sizeof(c->core), "%.*s", (int)bestlen, best);
	else
		snprintf(c->core, sizeof(c->core), "%.63s", value);
}

/* ---- the receiver: every request to it is kept -------------------------- */

static struct {
	int fd, port;
	pthread_t thread;
	pthread_mutex_t mu;
	size_t n;
	char *reqs[MAX_REQS];
	size_t lens[MAX_REQS];
} rcv;

static void *
receiver_main(void *arg)
{
	(void)arg;
	for (;;) {
		int c = accept(rcv.fd, NULL, NULL);
		char *buf, *end = NULL;
		size_t len = 0, cap = 1 << 20, clen = 0;
		const char *cl;
		ssize_t got;
		static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

		if (c < 0)
			return NULL;
		buf = calloc(1, cap + 1);
		if (buf == NULL) {
			close(c);
			continue;
		}
		while (len < cap && (got = read(c, buf + len, cap - len)) > 0) {
			len += (size_t)got;
			buf[len] = '\0';
			if (end == NULL && (end = strstr(buf, "\r\n\r\n")) != NULL) {
				cl = strcasestr(buf, "Content-Length:");
				clen = cl != NULL ? (size_t)strtoul(cl + 15, NULL, 10) : 0;
			}
			if (end != NULL && len >= (size_t)(end - buf) + 4 + clen)
				break;
		}
		pthread_mutex_lock(&rcv.mu);
		if (rcv.n < MAX_REQS) {
			rcv.reqs[rcv.n] = buf;
			rcv.lens[rcv.n] = len;
			rcv.n++;
			buf = NULL;
		}
		pthread_mutex_unlock(&rcv.mu);
		free(buf);
		if (write(c, ok, sizeof(ok) - 1) < 0)
			len = 0;
		close(c);
	}
}

static int
receiver_start(void)
{
	struct sockaddr_in a;
	socklen_t al = sizeof(a);
	int one = 1;

	pthread_mutex_init(&rcv.mu, NULL);
	rcv.fd = socket(AF_INET, SOCK_STREAM, 0);
	if (rcv.fd < 0)
		return -1;
	setsockopt(rcv.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(rcv.fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(rcv.fd, 16) != 0 ||
	    getsockname(rcv.fd, (struct sockaddr *)&a, &al) != 0)
		return -1;
	rcv.port = ntohs(a.sin_port);
	return pthread_create(&rcv.thread, NULL, receiver_main, NULL) == 0 ? 0 : -1;
}

static size_t
received(void)
{
	size_t n;

	pthread_mutex_lock(&rcv.mu);
	n = rcv.n;
	pthread_mutex_unlock(&rcv.mu);
	return n;
}

/* ---- the fixture copy with canaries ------------------------------------- */

static char *
read_all(const char *path)
{
	char *s = tk_read_file(path, NULL);

	if (s == NULL)
		fprintf(stderr, "cannot read %s\n", path);
	return s;
}

static int
write_all(const char *path, const char *s)
{
	FILE *f = fopen(path, "w");

	if (f == NULL)
		return -1;
	fputs(s, f);
	return fclose(f);
}

/* After every line equal to `anchor` (without its newline), inserts `add`
 * with the anchor's indentation before each of its lines. */
static int
insert_after(const char *path, const char *anchor, const char *add)
{
	char *src = read_all(path), *out = NULL;
	size_t cap, o = 0, alen = strlen(anchor), count = 0;
	const char *p, *nl;
	int ret = -1;

	if (src == NULL)
		return -1;
	cap = strlen(src) * 2 + 65536;
	out = malloc(cap);
	if (out == NULL)
		goto out;
	for (p = src; *p != '\0'; p = nl != NULL ? nl + 1 : p + strlen(p)) {
		size_t ll, ind;
		const char *q;

		nl = strchr(p, '\n');
		ll = nl != NULL ? (size_t)(nl - p) + 1 : strlen(p);
		if (o + ll + 4096 > cap)
			goto out;
		memcpy(out + o, p, ll);
		o += ll;
		ind = strspn(p, " ");
		if (ll - (nl != NULL) - ind != alen || strncmp(p + ind, anchor, alen) != 0)
			continue;
		count++;
		for (q = add; *q != '\0';) {
			size_t ql = strcspn(q, "\n");

			if (o + ind + ql + 2 > cap)
				goto out;
			memset(out + o, ' ', ind);
			o += ind;
			memcpy(out + o, q, ql);
			o += ql;
			out[o++] = '\n';
			q += ql + (q[ql] == '\n');
		}
	}
	out[o] = '\0';
	if (count == 0) {
		fprintf(stderr, "%s: no line '%s'\n", path, anchor);
		goto out;
	}
	ret = write_all(path, out);
out:
	free(src);
	free(out);
	return ret;
}

/* Copies tests/fixtures/cluster and plants the fixture canaries in both states. */
static int
make_fixture(void)
{
	static const char *const states[] = { "lastgood", "current" };
	const char *fixtures = getenv("SKEWD_FIXTURES");
	char cmd[1024], path[512], b64[256], add[1024];
	size_t i;

	snprintf(fixdir, sizeof(fixdir), "/tmp/skewd-canary-fix-XXXXXX");
	if (fixtures == NULL || mkdtemp(fixdir) == NULL)
		return -1;
	snprintf(cmd, sizeof(cmd), "cp -R '%s/cluster/.' '%s/'", fixtures, fixdir);
	if (system(cmd) != 0)
		return -1;
	if (ck_b64((const unsigned char *)C_SECRET2, strlen(C_SECRET2), b64, sizeof(b64)) < 0)
		return -1;
	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/%s/10-vllm-llama.yaml", fixdir, states[i]);
		if (insert_after(path, "- name: LD_LIBRARY_PATH",
		    "  value: /usr/local/nvidia/lib64\n"
		    "- name: OPENAI_API_KEY\n"
		    "  value: " C_ENV_KEY "\n"
		    "- name: DATABASE_URL\n"
		    "  value: postgresql://app:" C_ENV_URLPW "@db.llm.svc:5432/app\n"
		    "- name: UPSTREAM_AUTH_HEADER\n"
		    "  value: 'Authorization: Bearer " C_ENV_BEARER "'\n"
		    "- name: LD_LIBRARY_PATH") < 0)
			return -1;
		if (insert_after(path, "- --max-num-seqs=4", "- --api-key=" C_ARG_KEY) < 0)
			return -1;
		snprintf(path, sizeof(path), "%s/%s/11-vllm-llama-routing.yaml", fixdir, states[i]);
		if (insert_after(path, "VLLM_USE_V1: '1'",
		    "HF_TOKEN: " C_CM_TOKEN "\n"
		    "OPENAI_BASE_URL: https://svc:" C_CM_URLPW "@api.example.com/v1") < 0)
			return -1;
		/* An Ingress annotation with an auth URL holding a password. */
		if (insert_after(path, "nginx.ingress.kubernetes.io/proxy-body-size: 8m",
		    "nginx.ingress.kubernetes.io/auth-url: https://gate:" C_ANN_URLPW "@auth.example/check") < 0)
			return -1;
	}
	snprintf(add, sizeof(add), "db_password: %s", b64);
	/* The second Secret key, in both states, after the first one. */
	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/%s/11-vllm-llama-routing.yaml", fixdir, states[i]);
		if (insert_after(path, "hf_api_token: c2tld2QtY2FuYXJ5LXNlY3JldC03ZjNhOWM=", add) < 0)
			return -1;
	}
	/* Log lines the collector keeps (they mention the model) holding a bearer
	 * token and URL credentials, in every vLLM pod of both states. */
	snprintf(cmd, sizeof(cmd),
	    "for f in '%s'/*/logs/vllm-llama-*/inference-server.log; do "
	    "printf '%%s\\n' "
	    "'INFO 11-20 09:02:10 [hub.py:88] model download: GET https://hub:" C_LOG_URLPW
	    "@mirror.example/meta-llama 200' "
	    "'DEBUG 11-20 09:02:11 [hub.py:90] model request headers: {\"Authorization\": \"Bearer "
	    C_LOG_BEARER "\"}' >> \"$f\"; done", fixdir);
	return system(cmd) == 0 ? 0 : -1;
}

/* ---- setup ---------------------------------------------------------------- */

static int
sim_start(void)
{
	const char *src = getenv("SKEWD_SOURCE_DIR");
	char role[512], path[512];
	struct kubesim_user users[] = {
		{ "collector", C_TOKEN, KUBESIM_ROLE_COLLECTOR, 0 },
		{ "kc-user", C_KC_TOKEN, KUBESIM_ROLE_COLLECTOR, 0 },
		{ CK_CERT_USER, NULL, KUBESIM_ROLE_COLLECTOR, 1 },
	};
	struct kubesim_options o;
	struct err e = ERR_INIT;

	memset(&sim, 0, sizeof(sim));
	snprintf(sim.dir, sizeof(sim.dir), "/tmp/skewd-canary-sim-XXXXXX");
	if (src == NULL || mkdtemp(sim.dir) == NULL)
		return -1;
	snprintf(role, sizeof(role), "%s/deploy/kubernetes/clusterrole-collector.yaml", src);
	memset(&o, 0, sizeof(o));
	o.fixtures_dir = fixdir;
	o.state = "lastgood";
	o.role_file = role;
	o.tls_dir = sim.dir;
	o.users = users;
	o.nusers = sizeof(users) / sizeof(users[0]);
	o.threads = 16;
	if (kubesim_start(&o, &sim.k, &e) < 0) {
		fprintf(stderr, "kubesim_start: %s\n", e.msg);
		return -1;
	}
	sim.ca_pem = tk_read_file(kubesim_ca_path(sim.k), NULL);
	snprintf(path, sizeof(path), "%s/client-%s.crt", sim.dir, CK_CERT_USER);
	sim.cert_pem = tk_read_file(path, NULL);
	snprintf(path, sizeof(path), "%s/client-%s.key", sim.dir, CK_CERT_USER);
	sim.key_pem = tk_read_file(path, NULL);
	return sim.ca_pem != NULL && sim.cert_pem != NULL && sim.key_pem != NULL ? 0 : -1;
}

static int
setup(void **state)
{
	const char *line;

	(void)state;
	canary_add("the cluster bearer token", C_TOKEN);
	canary_add("the kubeconfig token", C_KC_TOKEN);
	canary_add("the Prometheus token", C_PROM_TOKEN);
	canary_add("the Prometheus URL password", C_PROM_URLPW);
	canary_add("the webhook URL path token", C_HOOK_PATH);
	canary_add("the webhook URL query token", C_HOOK_QUERY);
	canary_add("the webhook signing secret", C_HOOK_SECRET);
	canary_add("the webhook URL password", C_HOOK_URLPW);
	canary_add("the fixture Secret value", CK_CANARY_SECRET);
	canary_add("the fixture's second Secret value", C_SECRET2);
	canary_add("the env value OPENAI_API_KEY", C_ENV_KEY);
	canary_add("the password in env DATABASE_URL", C_ENV_URLPW);
	canary_add("the bearer token in env UPSTREAM_AUTH_HEADER", C_ENV_BEARER);
	canary_add("the --api-key flag value", C_ARG_KEY);
	canary_add("the ConfigMap value HF_TOKEN", C_CM_TOKEN);
	canary_add("the password in ConfigMap OPENAI_BASE_URL", C_CM_URLPW);
	canary_add("the bearer token in a log line", C_LOG_BEARER);
	canary_add("the URL password in a log line", C_LOG_URLPW);
	canary_add("the password in an Ingress annotation's URL", C_ANN_URLPW);
	canary_add("the env key in an imported baseline", C_IMPORT_KEY);
	canary_add("the URL password in an imported baseline", C_IMPORT_URLPW);
	if (receiver_start() < 0 || make_fixture() < 0 || sim_start() < 0)
		return -1;
	/* The client key: its second PEM line (64 characters of the key). */
	line = strchr(sim.key_pem, '\n');
	if (line == NULL || strlen(line + 1) < 64)
		return -1;
	{
		char kl[65];

		snprintf(kl, sizeof(kl), "%.64s", line + 1);
		canary_add("a line of the client key", kl);
	}
	if (tk_start(&srv, "log_level: debug\ncollect_interval_s: 0\ncollect_timeout_ms: 5000\n"
	    "allow_http_webhooks: true\n") < 0)
		return -1;
	viewer = tk_token(&srv, "viewer-bot", "viewer");
	editor = tk_token(&srv, "editor-bot", "editor");
	admin = tk_token(&srv, "admin-bot", "admin");
	return viewer != NULL && editor != NULL && admin != NULL ? 0 : -1;
}

static int
teardown(void **state)
{
	char cmd[300];
	size_t i;

	(void)state;
	free(viewer);
	free(editor);
	free(admin);
	tk_cleanup(&srv);
	ck_sim_stop(&sim);
	if (fixdir[0] != '\0') {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fixdir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", fixdir);
	}
	for (i = 0; i < bundles.n; i++)
		free(bundles.data[i]);
	free(ck_seen);
	return 0;
}

/* ---- the detector finds what it looks for ------------------------------- */

static void
test_detector_finds_every_form(void **state)
{
	char forms[MAX_FORMS][512], hay[2048], enc[2048];
	const char *names[MAX_FORMS];
	size_t i, j, n, before, shift;

	(void)state;
	sweep_quiet = 1;
	for (i = 0; i < ncanaries; i++) {
		n = forms_of(&canaries[i], forms, names);
		/* Raw and 3 base64 alignments at least; the core, JSON, URL and
		 * base64url forms coincide with these for plain values. */
		if (n < 4)
			fail_msg("%s has only %zu forms", canaries[i].what, n);
		for (j = 0; j < n; j++) {
			snprintf(hay, sizeof(hay), "{\"x\":\"..%s..\"}", forms[j]);
			before = hits;
			sweep("the detector's own test", hay, strlen(hay));
			if (hits != before + 1)
				fail_msg("the sweep missed %s of %s", names[j], canaries[i].what);
			hits = before;
		}
		/* base64 of the value inside a longer text, at every alignment. */
		for (shift = 0; shift < 3; shift++) {
			unsigned char in[400];
			size_t len = strlen(canaries[i].value);

			memcpy(in, "xyz", shift);
			memcpy(in + shift, canaries[i].value, len);
			memcpy(in + shift + len, "tail!", 5);
			assert_int_equal(ck_b64(in, shift + len + 5, enc, sizeof(enc)), 0);
			before = hits;
			sweep("the detector's own test", enc, strlen(enc));
			if (hits != before + 1)
				fail_msg("the sweep missed base64 at shift %zu of %s", shift, canaries[i].what);
			hits = before;
		}
	}
	searched_places = searched_bytes = 0;
	sweep_quiet = 0;
}

/* ---- the scenario --------------------------------------------------------- */

static json_t *
req_ok(const char *method, const char *path, const char *token, json_t *body, long want)
{
	struct tk_resp r;
	json_t *j;

	assert_int_equal(ck_req(&srv, method, path, token, body, &r), 0);
	json_decref(body);
	if (want != 0 && r.status != want)
		fail_msg("%s %s: %ld (wanted %ld): %s", method, path, r.status, want, r.body);
	j = json_incref(r.json);
	tk_resp_free(&r);
	return j;
}

static char *
kubeconfig(void)
{
	json_t *kc;
	char *s;

	kc = json_pack("{s:s, s:s, s:[{s:s, s:{s:s, s:s}}], s:[{s:s, s:{s:s}}], s:[{s:s, s:{s:s, s:s}}]}",
	    "apiVersion", "v1", "current-context", "kc",
	    "clusters", "name", "kc", "cluster", "server", kubesim_url(sim.k),
	    "certificate-authority-data", "",
	    "users", "name", "kc-user", "user", "token", C_KC_TOKEN,
	    "contexts", "name", "kc", "context", "cluster", "kc", "user", "kc-user");
	assert_non_null(kc);
	{
		char b64[16384];

		assert_int_equal(ck_b64((const unsigned char *)sim.ca_pem, strlen(sim.ca_pem), b64, sizeof(b64)), 0);
		json_object_set_new(json_object_get(json_array_get(json_object_get(kc, "clusters"), 0), "cluster"),
		    "certificate-authority-data", json_string(b64));
	}
	s = json_dumps(kc, JSON_INDENT(2));
	json_decref(kc);
	return s;
}

static void
download(const char *path)
{
	struct tk_resp r;

	assert_int_equal(tk_request(&srv, "GET", path, viewer, NULL, NULL, 0, 0, &r), 0);
	if (r.status != 200)
		fail_msg("GET %s: %ld", path, r.status);
	assert_true(bundles.n < 8);
	ck_remember(r.headers, strlen(r.headers));
	bundles.data[bundles.n] = r.body;
	bundles.len[bundles.n] = r.len;
	bundles.n++;
	r.body = NULL;
	tk_resp_free(&r);
}

static void
test_scenario(void **state)
{
	struct err e = ERR_INIT;
	json_t *j, *body;
	char url[512], path[512], id[64], *kc;
	long long good_snap, cur_snap;
	size_t i;

	(void)state;
	/* Clusters: a bearer token, a kubeconfig, a client certificate. */
	body = ck_cluster_body("good", kubesim_url(sim.k), sim.ca_pem, C_TOKEN);
	json_decref(req_ok("POST", "/api/v1/clusters", admin, body, 201));
	kc = kubeconfig();
	json_decref(req_ok("POST", "/api/v1/clusters/import", admin,
	    json_pack("{s:s, s:s}", "name", "kc", "kubeconfig", kc), 201));
	free(kc);
	body = json_pack("{s:s, s:s, s:s, s:{s:s, s:s}, s:[s]}", "name", "certs", "server", kubesim_url(sim.k),
	    "ca_pem", sim.ca_pem, "auth", "client_cert_pem", sim.cert_pem, "client_key_pem", sim.key_pem,
	    "namespaces", "llm");
	json_decref(req_ok("POST", "/api/v1/clusters", admin, body, 201));
	/* Prometheus: a token, and a URL with a password (refused or sealed). */
	json_decref(req_ok("PATCH", "/api/v1/clusters/good", admin,
	    json_pack("{s:{s:s, s:s}}", "prometheus", "url", "https://127.0.0.1:1/prom", "token", C_PROM_TOKEN),
	    200));
	json_decref(req_ok("PATCH", "/api/v1/clusters/certs", admin,
	    json_pack("{s:{s:s}}", "prometheus", "url", "https://prom:" C_PROM_URLPW "@127.0.0.1:1/prom"), 400));

	/* The webhook: canaries in the URL path and query, a signing secret;
	 * and one with a password in the URL (refused or sealed). */
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/hooks/" C_HOOK_PATH "?token=" C_HOOK_QUERY, rcv.port);
	json_decref(req_ok("POST", "/api/v1/webhooks", admin,
	    json_pack("{s:s, s:s, s:s, s:s}", "name", "ops", "url", url, "min_severity", "low",
	    "secret", C_HOOK_SECRET), 201));
	snprintf(url, sizeof(url), "http://hook:" C_HOOK_URLPW "@127.0.0.1:%d/basic", rcv.port);
	json_decref(req_ok("POST", "/api/v1/webhooks", admin,
	    json_pack("{s:s, s:s, s:s}", "name", "basic", "url", url, "min_severity", "low"), 0));

	/* Pulls of every cluster, the baseline, the rollout. */
	json_decref(req_ok("POST", "/api/v1/clusters/good/collect", editor, NULL, 200));
	json_decref(req_ok("POST", "/api/v1/clusters/kc/collect", editor, NULL, 200));
	json_decref(req_ok("POST", "/api/v1/clusters/certs/collect", editor, NULL, 200));
	j = req_ok("PUT", VLLM "/baseline", editor, json_pack("{s:s, s:s}", "snapshot", "latest", "note",
	    "known good"), 0);
	good_snap = json_integer_value(json_object_get(j, "snapshot_id"));
	json_decref(j);
	assert_true(good_snap > 0);

	/* An imported baseline (on the certs cluster) carrying canaries. */
	{
		char yaml[8192];
		char p2[512];

		snprintf(yaml, sizeof(yaml),
		    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: vllm-llama\n  namespace: llm\n"
		    "spec:\n  replicas: 2\n  selector:\n    matchLabels:\n      app: vllm-llama\n"
		    "  template:\n    metadata:\n      labels:\n        app: vllm-llama\n"
		    "    spec:\n      containers:\n      - name: inference-server\n"
		    "        image: docker.io/vllm/vllm-openai:v0.10.0\n"
		    "        args: [\"--model=meta-llama/Llama-3.1-8B-Instruct\", \"--max-model-len=32768\"]\n"
		    "        env:\n        - name: HF_TOKEN\n          value: %s\n"
		    "        - name: MODEL_SOURCE\n          value: https://hub:%s@mirror.example/m\n",
		    C_IMPORT_KEY, C_IMPORT_URLPW);
		snprintf(p2, sizeof(p2), "/api/v1/targets/certs/llm/deployment/vllm-llama/baseline/import");
		json_decref(req_ok("POST", p2, editor, json_pack("{s:s, s:s}", "document", yaml, "note",
		    "from git"), 201));
		json_decref(req_ok("GET", "/api/v1/targets/certs/llm/deployment/vllm-llama/diff", viewer, NULL, 0));
		json_decref(req_ok("GET", "/api/v1/targets/certs/llm/deployment/vllm-llama/baselines", viewer,
		    NULL, 200));
	}

	assert_int_equal(kubesim_set_state(sim.k, "current", &e), 0);
	j = req_ok("POST", VLLM "/collect", editor, NULL, 200);
	cur_snap = json_integer_value(json_object_get(json_array_get(json_object_get(j, "snapshots"), 0), "id"));
	json_decref(j);
	assert_true(cur_snap > 0 && cur_snap != good_snap);
	json_decref(req_ok("POST", "/api/v1/clusters/kc/collect", editor, NULL, 200));

	/* The webhook delivery (drift of vllm-llama against its baseline). */
	for (i = 0; i < 200 && received() == 0; i++)
		usleep(50 * 1000);
	if (received() == 0)
		fail_msg("no webhook delivery arrived");

	/* The bundle, downloaded through both routes. */
	j = req_ok("POST", VLLM "/bundles", editor, json_pack("{s:I, s:I}", "from", (json_int_t)good_snap,
	    "to", (json_int_t)cur_snap), 201);
	snprintf(id, sizeof(id), "%s", json_string_value(json_object_get(j, "id")));
	json_decref(j);
	snprintf(path, sizeof(path), "/api/v1/bundles/%s/download", id);
	download(path);
	snprintf(path, sizeof(path), "/b/%s", id);
	download(path);

	/* Every read route a person would look at, in every rendering. */
	{
		static const char *const reads[] = {
			"/api/v1/clusters", "/api/v1/clusters/good", "/api/v1/clusters/kc", "/api/v1/clusters/certs",
			"/api/v1/targets", VLLM, VLLM "/snapshots", VLLM "/baselines", VLLM "/diff",
			VLLM "/diff?format=markdown", VLLM "/diff?format=text", VLLM "/diff?format=patch",
			VLLM "/report", VLLM "/report?format=markdown", VLLM "/metrics", "/api/v1/bundles",
			"/api/v1/webhooks", "/api/v1/webhooks/ops", "/metrics", "/api/v1/whoami", "/api/v1/tokens",
		};
		char sp[128];
		long long sid;

		for (i = 0; i < sizeof(reads) / sizeof(reads[0]); i++)
			json_decref(req_ok("GET", reads[i], admin, NULL, 0));
		for (sid = 1; sid <= cur_snap + 2; sid++) {
			snprintf(sp, sizeof(sp), "/api/v1/snapshots/%lld", sid);
			json_decref(req_ok("GET", sp, viewer, NULL, 0));
		}
		snprintf(sp, sizeof(sp), "/api/v1/bundles/%s", id);
		json_decref(req_ok("GET", sp, viewer, NULL, 200));
	}

	/* A cluster is deleted: its credential and what was pulled go. */
	json_decref(req_ok("DELETE", "/api/v1/clusters/kc", admin, NULL, 204));
}

/* ---- the sweep ------------------------------------------------------------ */

/* The tar stream inside a .tar.gz, and each member, swept. */
static void
sweep_targz(const char *where, const void *data, size_t len)
{
	struct archive *a;
	struct archive_entry *ent;
	char name[600];
	char *buf;
	size_t cap = 64 << 20, n = 0;
	la_ssize_t r;

	/* The decompressed stream (the tar as it is, headers and all). */
	a = archive_read_new();
	assert_non_null(a);
	archive_read_support_filter_gzip(a);
	archive_read_support_format_raw(a);
	buf = malloc(cap);
	assert_non_null(buf);
	if (archive_read_open_memory(a, data, len) == ARCHIVE_OK && archive_read_next_header(a, &ent) == ARCHIVE_OK) {
		while (n < cap && (r = archive_read_data(a, buf + n, cap - n)) > 0)
			n += (size_t)r;
		snprintf(name, sizeof(name), "%s (gunzipped tar stream)", where);
		sweep(name, buf, n);
	} else {
		fail_msg("%s is not a gzip stream", where);
	}
	archive_read_free(a);
	/* Each member extracted. */
	a = archive_read_new();
	archive_read_support_filter_gzip(a);
	archive_read_support_format_tar(a);
	assert_int_equal(archive_read_open_memory(a, data, len), ARCHIVE_OK);
	while (archive_read_next_header(a, &ent) == ARCHIVE_OK) {
		n = 0;
		while (n < cap && (r = archive_read_data(a, buf + n, cap - n)) > 0)
			n += (size_t)r;
		snprintf(name, sizeof(name), "%s: %s", where, archive_entry_pathname(ent));
		sweep(name, buf, n);
		/* A nested archive would be swept the same way. */
		if (n > 2 && (unsigned char)buf[0] == 0x1f && (unsigned char)buf[1] == 0x8b)
			sweep_targz(name, buf, n);
	}
	archive_read_free(a);
	free(buf);
}

static int
sweep_one_file(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	char *data;
	size_t len = 0;

	(void)ftw;
	if (flag != FTW_F || !S_ISREG(sb->st_mode))
		return 0;
	data = tk_read_file(path, &len);
	if (data == NULL)
		return 0;
	sweep(path, data, len);
	if (len > 2 && (unsigned char)data[0] == 0x1f && (unsigned char)data[1] == 0x8b)
		sweep_targz(path, data, len);
	free(data);
	return 0;
}

/* Everything the server wrote or said, and everything it sent. */
static void
sweep_all(const char *when)
{
	char path[600];
	size_t i, len;
	char *data;

	fprintf(stderr, "sweeping %s\n", when);
	nftw(srv.dir, sweep_one_file, 16, FTW_PHYS);
	sweep("the API answers (headers and bodies)", ck_seen, ck_seen_len);
	for (i = 0; i < bundles.n; i++) {
		snprintf(path, sizeof(path), "downloaded bundle %zu (as sent)", i);
		sweep(path, bundles.data[i], bundles.len[i]);
		sweep_targz(path, bundles.data[i], bundles.len[i]);
	}
	pthread_mutex_lock(&rcv.mu);
	for (i = 0; i < rcv.n; i++) {
		/* The request line names the URL it was sent to, canaries and all:
		 * that is where the webhook's own URL has to go. The headers and the
		 * body are searched. */
		const char *eol = memchr(rcv.reqs[i], '\n', rcv.lens[i]);
		size_t skip = eol != NULL ? (size_t)(eol - rcv.reqs[i]) + 1 : 0;

		snprintf(path, sizeof(path), "webhook request %zu received (headers and body)", i);
		sweep(path, rcv.reqs[i] + skip, rcv.lens[i] - skip);
	}
	pthread_mutex_unlock(&rcv.mu);
	snprintf(path, sizeof(path), "%s/stderr.log", srv.dir);
	data = tk_read_file(path, &len);
	assert_non_null(data);
	/* The log really is at debug level: each request to a cluster is there. */
	if (strstr(data, " debug kube: GET ") == NULL)
		fail_msg("the server log has no debug lines");
	free(data);
}

static void
checkpoint(void)
{
	char path[600];
	sqlite3 *db = NULL;
	int logged = -1, done = -1;

	/* What a backup tool or `sqlite3 .backup` would do while skewd runs. */
	snprintf(path, sizeof(path), "%s/data/skewd.db", srv.dir);
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	/* Reading the schema first tells the connection the file is in WAL mode. */
	assert_int_equal(sqlite3_exec(db, "SELECT count(*) FROM sqlite_master", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_TRUNCATE, &logged, &done),
	    SQLITE_OK);
	fprintf(stderr, "checkpoint: %d WAL frames, %d moved into the database\n", logged, done);
	sqlite3_close(db);
}

static void
test_sweep(void **state)
{
	(void)state;
	assert_true(received() > 0);
	assert_true(bundles.n == 2);
	sweep_all("while running, before a checkpoint");
	checkpoint();
	sweep_all("while running, after a checkpoint");
	assert_int_equal(tk_stop(&srv), 0);
	sweep_all("after a clean stop");
	fprintf(stderr, "canary sweep: %zu canaries x up to %d forms, %zu places, %zu bytes searched, %zu hits\n",
	    ncanaries, MAX_FORMS, searched_places, searched_bytes, hits);
	printf("canary sweep: %zu canaries, %zu places, %zu bytes searched, %zu hits\n",
	    ncanaries, searched_places, searched_bytes, hits);
	if (hits != 0)
		fail_msg("%zu canary hits (listed above as LEAK lines)", hits);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_detector_finds_every_form),
		cmocka_unit_test(test_scenario),
		cmocka_unit_test(test_sweep),
	};

	return cmocka_run_group_tests_name("canary_sweep", tests, setup, teardown);
}
