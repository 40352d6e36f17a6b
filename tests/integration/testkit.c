/*
 * testkit.c - start the real skewd binary and talk HTTP to it (see testkit.h).
 */
#include "testkit.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <curl/curl.h>

#include "util/banned.h"

#define TK_START_TIMEOUT_MS 15000
#define TK_STOP_TIMEOUT_MS  10000
#define TK_MAX_OUTPUT       (16 * 1024 * 1024)

static const char *
skewd_bin(void)
{
	const char *b = getenv("SKEWD_BIN");

	return b != NULL && b[0] != '\0' ? b : "skewd";
}

static void
sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

char *
tk_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *p = NULL, *grown;
	size_t n = 0, cap = 0, r;

	if (f == NULL)
		return NULL;
	for (;;) {
		if (cap - n < 4096) {
			cap = cap ? cap * 2 : 8192;
			grown = realloc(p, cap + 1);
			if (grown == NULL) {
				free(p);
				fclose(f);
				return NULL;
			}
			p = grown;
		}
		r = fread(p + n, 1, cap - n, f);
		n += r;
		if (r == 0 || n > TK_MAX_OUTPUT)
			break;
	}
	fclose(f);
	p[n] = '\0';
	if (len != NULL)
		*len = n;
	return p;
}

int
tk_prepare(struct tk_server *s, const char *extra_yaml)
{
	char tmpl[] = "/tmp/skewd-it-XXXXXX";
	FILE *f;

	memset(s, 0, sizeof(*s));
	s->pid = -1;
	if (mkdtemp(tmpl) == NULL) {
		fprintf(stderr, "testkit: mkdtemp: %s\n", strerror(errno));
		return -1;
	}
	snprintf(s->dir, sizeof(s->dir), "%s", tmpl);
	snprintf(s->config, sizeof(s->config), "%s/config.yaml", s->dir);
	snprintf(s->stderr_path, sizeof(s->stderr_path), "%s/stderr.log", s->dir);
	f = fopen(s->config, "w");
	if (f == NULL) {
		fprintf(stderr, "testkit: %s: %s\n", s->config, strerror(errno));
		return -1;
	}
	fprintf(f, "listen: \"127.0.0.1:0\"\ndata_dir: \"%s/data\"\nhttp_threads: 4\n%s",
	    s->dir, extra_yaml != NULL ? extra_yaml : "");
	fclose(f);
	return 0;
}

int
tk_launch(struct tk_server *s)
{
	char out_path[320], *out = NULL, *line;
	struct tk_resp r;
	int waited, status;
	pid_t pid;

	snprintf(out_path, sizeof(out_path), "%s/stdout.log", s->dir);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int o = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int e = open(s->stderr_path, O_WRONLY | O_CREAT | O_APPEND, 0600);

		if (o < 0 || e < 0)
			_exit(127);
		dup2(o, STDOUT_FILENO);
		dup2(e, STDERR_FILENO);
		execl(skewd_bin(), skewd_bin(), "serve", "--config", s->config, (char *)NULL);
		_exit(127);
	}
	s->pid = pid;
	for (waited = 0; waited < TK_START_TIMEOUT_MS; waited += 20) {
		if (waitpid(pid, &status, WNOHANG) == pid) {
			s->pid = -1;
			out = tk_read_file(s->stderr_path, NULL);
			fprintf(stderr, "testkit: skewd serve exited before listening:\n%s\n", out ? out : "");
			free(out);
			return -1;
		}
		free(out);
		out = tk_read_file(out_path, NULL);
		if (out != NULL && (line = strstr(out, "listening on ")) != NULL && strchr(line, '\n') != NULL) {
			line += strlen("listening on ");
			snprintf(s->url, sizeof(s->url), "%.*s", (int)strcspn(line, "\n"), line);
			break;
		}
		sleep_ms(20);
	}
	free(out);
	if (s->url[0] == '\0') {
		fprintf(stderr, "testkit: skewd serve did not report a listening address\n");
		return -1;
	}
	for (; waited < TK_START_TIMEOUT_MS; waited += 20) {
		if (tk_request(s, "GET", "/healthz", NULL, NULL, NULL, 0, 0, &r) == 0 && r.status == 200) {
			tk_resp_free(&r);
			return 0;
		}
		tk_resp_free(&r);
		sleep_ms(20);
	}
	fprintf(stderr, "testkit: /healthz never answered 200\n");
	return -1;
}

int
tk_start(struct tk_server *s, const char *extra_yaml)
{
	if (tk_prepare(s, extra_yaml) < 0)
		return -1;
	return tk_launch(s);
}

/* A sanitizer build of the server reports to its stderr; TSan and UBSan
 * reports do not necessarily stop it, so look for them. */
static int
sanitizer_report(const char *path)
{
	static const char *const marks[] = {
		"ThreadSanitizer:", "AddressSanitizer:", "LeakSanitizer:", "runtime error:",
	};
	char *log = tk_read_file(path, NULL);
	size_t i;
	int found = 0;

	for (i = 0; log != NULL && i < sizeof(marks) / sizeof(marks[0]); i++) {
		const char *p = strstr(log, marks[i]);

		if (p != NULL) {
			fprintf(stderr, "testkit: the server reported a sanitizer finding:\n%.4000s\n", p);
			found = 1;
			break;
		}
	}
	free(log);
	return found;
}

int
tk_stop(struct tk_server *s)
{
	int status = 0, waited;

	if (s->pid <= 0)
		return -1;
	kill(s->pid, SIGTERM);
	for (waited = 0; waited < TK_STOP_TIMEOUT_MS; waited += 20) {
		if (waitpid(s->pid, &status, WNOHANG) == s->pid)
			break;
		sleep_ms(20);
	}
	if (waited >= TK_STOP_TIMEOUT_MS) {
		fprintf(stderr, "testkit: skewd serve did not stop on SIGTERM; killing it\n");
		kill(s->pid, SIGKILL);
		waitpid(s->pid, &status, 0);
	}
	s->pid = -1;
	s->exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	if (sanitizer_report(s->stderr_path))
		return -1;
	return s->exit_status == 0 ? 0 : -1;
}

static int
rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void
tk_cleanup(struct tk_server *s)
{
	if (s->pid > 0)
		tk_stop(s);
	if (s->dir[0] != '\0' && getenv("SKEWD_KEEP_TMP") == NULL)
		nftw(s->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	s->dir[0] = '\0';
}

int
tk_run(const char *const argv[], char **out, char **err)
{
	char tmpl[] = "/tmp/skewd-run-XXXXXX", opath[64], epath[64];
	const char *args[64];
	int status, n;
	pid_t pid;

	if (mkdtemp(tmpl) == NULL)
		return -1;
	snprintf(opath, sizeof(opath), "%s/out", tmpl);
	snprintf(epath, sizeof(epath), "%s/err", tmpl);
	args[0] = skewd_bin();
	for (n = 0; argv[n] != NULL && n < 62; n++)
		args[n + 1] = argv[n];
	args[n + 1] = NULL;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int o = open(opath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int e = open(epath, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		if (o < 0 || e < 0)
			_exit(127);
		dup2(o, STDOUT_FILENO);
		dup2(e, STDERR_FILENO);
		execv(args[0], (char *const *)args);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	if (out != NULL)
		*out = tk_read_file(opath, NULL);
	if (err != NULL)
		*err = tk_read_file(epath, NULL);
	unlink(opath);
	unlink(epath);
	rmdir(tmpl);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

char *
tk_token(const struct tk_server *s, const char *name, const char *role)
{
	const char *argv[] = { "token", "create", "--name", name, "--role", role,
		"--config", s->config, NULL };
	char *out = NULL, *err = NULL;
	int rc = tk_run(argv, &out, &err);

	if (rc != 0 || out == NULL) {
		fprintf(stderr, "testkit: token create exited %d: %s\n", rc, err ? err : "");
		free(out);
		free(err);
		return NULL;
	}
	free(err);
	out[strcspn(out, "\r\n")] = '\0';
	return out;
}

/* Growable capture of a response part. */
struct sink {
	char *p;
	size_t n;
};

static size_t
sink_write(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct sink *s = ud;
	size_t n = size * nmemb;
	char *grown;

	if (s->n + n > TK_MAX_OUTPUT)
		return 0;
	grown = realloc(s->p, s->n + n + 1);
	if (grown == NULL)
		return 0;
	s->p = grown;
	memcpy(s->p + s->n, ptr, n);
	s->n += n;
	s->p[s->n] = '\0';
	return n;
}

struct source {
	const char *p;
	size_t left;
};

static size_t
source_read(char *buf, size_t size, size_t nmemb, void *ud)
{
	struct source *s = ud;
	size_t n = size * nmemb;

	if (n > s->left)
		n = s->left;
	/* Small pieces, so a chunked body really arrives in many chunks. */
	if (n > 65536)
		n = 65536;
	memcpy(buf, s->p, n);
	s->p += n;
	s->left -= n;
	return n;
}

int
tk_request(const struct tk_server *s, const char *method, const char *path,
    const char *token, const char *const headers[], const char *body, size_t len,
    unsigned flags, struct tk_resp *r)
{
	struct sink bs = { NULL, 0 }, hs = { NULL, 0 };
	struct source src = { body, len };
	struct curl_slist *hl = NULL;
	char url[4096], auth[1024];
	CURL *c;
	CURLcode rc;
	size_t i;
	int ret = -1;

	memset(r, 0, sizeof(*r));
	c = curl_easy_init();
	if (c == NULL)
		return -1;
	snprintf(url, sizeof(url), "%s%s", s->url, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	if (strcmp(method, "HEAD") == 0)
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 30000L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &bs);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, sink_write);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &hs);
	if (flags & TK_RAW_PATH)
		curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
	/* No "Expect: 100-continue" pause before bodies. */
	hl = curl_slist_append(hl, "Expect:");
	if (token != NULL) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
		hl = curl_slist_append(hl, auth);
	}
	for (i = 0; headers != NULL && headers[i] != NULL; i++)
		hl = curl_slist_append(hl, headers[i]);
	if (body != NULL) {
		curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(c, CURLOPT_READFUNCTION, source_read);
		curl_easy_setopt(c, CURLOPT_READDATA, &src);
		if (flags & TK_CHUNKED)
			hl = curl_slist_append(hl, "Transfer-Encoding: chunked");
		else
			curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
	rc = curl_easy_perform(c);
	/* The server may answer early (413) and close while we still send. */
	if (rc != CURLE_OK && !(rc == CURLE_SEND_ERROR && hs.n > 0)) {
		fprintf(stderr, "testkit: %s %s: %s\n", method, path, curl_easy_strerror(rc));
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	r->body = bs.p != NULL ? bs.p : strdup("");
	r->len = bs.n;
	r->headers = hs.p != NULL ? hs.p : strdup("");
	bs.p = hs.p = NULL;
	if (r->len > 0)
		r->json = json_loadb(r->body, r->len, 0, NULL);
	ret = 0;
out:
	free(bs.p);
	free(hs.p);
	curl_slist_free_all(hl);
	curl_easy_cleanup(c);
	return ret;
}

const char *
tk_header(const struct tk_resp *r, const char *name, char *out, size_t outsz)
{
	const char *p = r->headers;
	size_t nlen = strlen(name);

	while (p != NULL && *p != '\0') {
		if (strncasecmp(p, name, nlen) == 0 && p[nlen] == ':') {
			const char *v = p + nlen + 1;

			while (*v == ' ')
				v++;
			snprintf(out, outsz, "%.*s", (int)strcspn(v, "\r\n"), v);
			return out;
		}
		p = strchr(p, '\n');
		if (p != NULL)
			p++;
	}
	return NULL;
}

void
tk_resp_free(struct tk_resp *r)
{
	free(r->body);
	free(r->headers);
	json_decref(r->json);
	memset(r, 0, sizeof(*r));
}

const char *
tk_error_code(const struct tk_resp *r)
{
	json_t *err = json_object_get(r->json, "error");

	return json_string_value(json_object_get(err, "code"));
}

char *
tk_raw(const struct tk_server *s, const char *req, size_t len, int timeout_ms)
{
	struct sockaddr_in sa;
	struct pollfd pfd;
	struct sink out = { NULL, 0 };
	const char *port = strrchr(s->url, ':');
	char buf[8192];
	ssize_t n;
	int fd;

	if (port == NULL)
		return NULL;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)strtoul(port + 1, NULL, 10));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return NULL;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || send(fd, req, len, MSG_NOSIGNAL) != (ssize_t)len) {
		close(fd);
		return NULL;
	}
	pfd.fd = fd;
	pfd.events = POLLIN;
	while (poll(&pfd, 1, timeout_ms) > 0) {
		n = recv(fd, buf, sizeof(buf), 0);
		if (n <= 0)
			break;
		if (sink_write(buf, 1, (size_t)n, &out) != (size_t)n)
			break;
	}
	close(fd);
	return out.p != NULL ? out.p : strdup("");
}
