/*
 * tlsfront.c - kubesim's TLS listener, in front of CivetWeb's plain one.
 *
 * Why not CivetWeb's own TLS: Debian's CivetWeb 1.15 loads libssl with
 * dlopen() and looks up SSL_get_peer_certificate, which OpenSSL 3 no longer
 * exports (it became a macro for SSL_get1_peer_certificate). The pointer
 * stays NULL and every TLS connection crashes the worker that calls it. So
 * kubesim terminates TLS itself with OpenSSL and relays the bytes to
 * CivetWeb on a loopback port; the verified client certificate's CN is
 * recorded against the relay's local port, which the request handler sees
 * as the remote port (ks_front_user()).
 *
 * One thread per connection; every thread polls the stop flag.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "kubesim/kubesim_int.h"
#include "util/err.h"
#include "util/log.h"
#include "util/banned.h"

struct ks_front_conn {
	struct ks_front *front;
	int tls_fd;
	int plain_fd;
	int local_port; /* of plain_fd: what CivetWeb reports as remote_port */
	char user[KUBESIM_MAX_CN + 1];
	struct ks_front_conn *next;
};

struct ks_front {
	SSL_CTX *ctx;
	int listen_fd;
	int backend_port;
	int port;
	pthread_t accept_thread;
	int accept_started;
	atomic_int *stopping;
	pthread_mutex_t lock; /* guards conns and nthreads */
	pthread_cond_t idle;
	struct ks_front_conn *conns;
	int nthreads;
};

static int
verify_any(int ok, X509_STORE_CTX *ctx)
{
	/* The result is read after the handshake: an unverified certificate
	 * names no user (401), as the API server does, instead of failing TLS. */
	(void)ok;
	(void)ctx;
	return 1;
}

static int
connect_backend(int port, int *local_port)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;

	if (fd < 0)
		return -1;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((unsigned short)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) < 0) {
		close(fd);
		return -1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	*local_port = ntohs(a.sin_port);
	return fd;
}

static int
write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Relays until either side closes or kubesim stops. */
static void
relay(struct ks_front *f, SSL *ssl, struct ks_front_conn *c)
{
	char buf[16384];

	for (;;) {
		struct pollfd p[2];
		int n;

		if (*f->stopping)
			return;
		if (SSL_pending(ssl) == 0) {
			p[0].fd = c->tls_fd;
			p[0].events = POLLIN;
			p[1].fd = c->plain_fd;
			p[1].events = POLLIN;
			p[0].revents = p[1].revents = 0;
			n = poll(p, 2, KUBESIM_HANG_POLL_MS * 5);
			if (n < 0 && errno != EINTR)
				return;
			if (n <= 0)
				continue;
		} else {
			p[0].revents = POLLIN;
			p[1].revents = 0;
		}
		if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			n = SSL_read(ssl, buf, sizeof(buf));
			if (n <= 0) {
				int why = SSL_get_error(ssl, n);

				if (why != SSL_ERROR_WANT_READ && why != SSL_ERROR_WANT_WRITE)
					return;
			} else if (write_all(c->plain_fd, buf, (size_t)n) < 0) {
				return;
			}
		}
		if (p[1].revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t r = read(c->plain_fd, buf, sizeof(buf));

			if (r <= 0)
				return;
			if (SSL_write(ssl, buf, (int)r) <= 0)
				return;
		}
	}
}

static void *
conn_main(void *arg)
{
	struct ks_front_conn *c = arg, **pp;
	struct ks_front *f = c->front;
	struct timeval tv = { 10, 0 };
	SSL *ssl = SSL_new(f->ctx);
	X509 *peer;

	setsockopt(c->tls_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (ssl == NULL || SSL_set_fd(ssl, c->tls_fd) != 1 || SSL_accept(ssl) != 1)
		goto out;
	tv.tv_sec = 0;
	setsockopt(c->tls_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	peer = SSL_get1_peer_certificate(ssl);
	if (peer != NULL) {
		if (SSL_get_verify_result(ssl) == X509_V_OK) {
			X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, c->user,
			    (int)sizeof(c->user));
		}
		X509_free(peer);
	}
	c->plain_fd = connect_backend(f->backend_port, &c->local_port);
	if (c->plain_fd < 0)
		goto out;
	pthread_mutex_lock(&f->lock);
	c->next = f->conns;
	f->conns = c;
	pthread_mutex_unlock(&f->lock);
	relay(f, ssl, c);
	pthread_mutex_lock(&f->lock);
	for (pp = &f->conns; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	pthread_mutex_unlock(&f->lock);
	SSL_shutdown(ssl);
out:
	SSL_free(ssl);
	ERR_clear_error();
	close(c->tls_fd);
	if (c->plain_fd >= 0)
		close(c->plain_fd);
	free(c);
	pthread_mutex_lock(&f->lock);
	f->nthreads--;
	pthread_cond_broadcast(&f->idle);
	pthread_mutex_unlock(&f->lock);
	return NULL;
}

static void *
accept_main(void *arg)
{
	struct ks_front *f = arg;

	while (!*f->stopping) {
		struct pollfd p = { f->listen_fd, POLLIN, 0 };
		struct ks_front_conn *c;
		pthread_attr_t attr;
		pthread_t t;
		int fd, one = 1;

		if (poll(&p, 1, KUBESIM_HANG_POLL_MS * 5) <= 0)
			continue;
		fd = accept4(f->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c = calloc(1, sizeof(*c));
		if (c == NULL) {
			close(fd);
			continue;
		}
		c->front = f;
		c->tls_fd = fd;
		c->plain_fd = -1;
		pthread_mutex_lock(&f->lock);
		f->nthreads++;
		pthread_mutex_unlock(&f->lock);
		pthread_attr_init(&attr);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		if (pthread_create(&t, &attr, conn_main, c) != 0) {
			close(fd);
			free(c);
			pthread_mutex_lock(&f->lock);
			f->nthreads--;
			pthread_mutex_unlock(&f->lock);
		}
		pthread_attr_destroy(&attr);
	}
	return NULL;
}

int
ks_front_start(const char *host, int port, int backend_port, const char *cert_pem, const char *ca_path,
    atomic_int *stopping, struct ks_front **out, struct err *e)
{
	struct ks_front *f = NULL;
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	int one = 1;

	*out = NULL;
	f = calloc(1, sizeof(*f));
	if (f == NULL)
		return err_set(e, ERR_NOMEM, "out of memory starting the kubesim TLS listener");
	f->listen_fd = -1;
	f->backend_port = backend_port;
	f->stopping = stopping;
	pthread_mutex_init(&f->lock, NULL);
	pthread_cond_init(&f->idle, NULL);
	f->ctx = SSL_CTX_new(TLS_server_method());
	if (f->ctx == NULL || SSL_CTX_set_min_proto_version(f->ctx, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_use_certificate_chain_file(f->ctx, cert_pem) != 1 ||
	    SSL_CTX_use_PrivateKey_file(f->ctx, cert_pem, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_load_verify_locations(f->ctx, ca_path, NULL) != 1) {
		err_set(e, ERR_INTERNAL, "cannot set up TLS for kubesim with '%s'", cert_pem);
		goto fail;
	}
	SSL_CTX_set_verify(f->ctx, SSL_VERIFY_PEER, verify_any);
	/* A server that asks for client certificates must name a session-id
	 * context, or a client resuming a session (curl does, across parallel
	 * connections) fails with "session id context uninitialized", sent as an
	 * internal_error alert. */
	SSL_CTX_set_session_id_context(f->ctx, (const unsigned char *)"kubesim", 7);
	SSL_CTX_set_client_CA_list(f->ctx, SSL_load_client_CA_file(ca_path));
	f->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (f->listen_fd < 0) {
		err_set(e, ERR_IO, "cannot open a socket for kubesim");
		goto fail;
	}
	setsockopt(f->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((unsigned short)port);
	if (inet_pton(AF_INET, host, &a.sin_addr) != 1) {
		err_set(e, ERR_INVALID, "kubesim listens on IPv4 addresses only, not '%s'", host);
		goto fail;
	}
	if (bind(f->listen_fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(f->listen_fd, 128) < 0 ||
	    getsockname(f->listen_fd, (struct sockaddr *)&a, &len) < 0) {
		err_set(e, ERR_IO, "kubesim cannot listen on %s:%d: %s", host, port, strerror(errno));
		goto fail;
	}
	f->port = ntohs(a.sin_port);
	if (pthread_create(&f->accept_thread, NULL, accept_main, f) != 0) {
		err_set(e, ERR_INTERNAL, "cannot start the kubesim TLS listener thread");
		goto fail;
	}
	f->accept_started = 1;
	*out = f;
	return 0;
fail:
	ks_front_stop(f);
	return -1;
}

int
ks_front_port(const struct ks_front *f)
{
	return f->port;
}

int
ks_front_user(struct ks_front *f, int remote_port, char *user, size_t n)
{
	struct ks_front_conn *c;
	int found = 0;

	if (f == NULL)
		return 0;
	pthread_mutex_lock(&f->lock);
	for (c = f->conns; c != NULL; c = c->next) {
		if (c->local_port == remote_port) {
			if (c->user[0] != '\0') {
				snprintf(user, n, "%s", c->user);
				found = 1;
			}
			break;
		}
	}
	pthread_mutex_unlock(&f->lock);
	return found;
}

int
ks_front_alive(struct ks_front *f, int remote_port)
{
	struct ks_front_conn *c;
	int found = 0;

	pthread_mutex_lock(&f->lock);
	for (c = f->conns; c != NULL && !found; c = c->next)
		found = c->local_port == remote_port;
	pthread_mutex_unlock(&f->lock);
	return found;
}

void
ks_front_shutdown(struct ks_front *f)
{
	struct ks_front_conn *c;

	if (f == NULL)
		return;
	pthread_mutex_lock(&f->lock);
	for (c = f->conns; c != NULL; c = c->next) {
		shutdown(c->tls_fd, SHUT_RDWR);
		shutdown(c->plain_fd, SHUT_RDWR);
	}
	pthread_mutex_unlock(&f->lock);
}

void
ks_front_stop(struct ks_front *f)
{
	if (f == NULL)
		return;
	/* *stopping is already set: the threads leave their poll loops. */
	if (f->accept_started)
		pthread_join(f->accept_thread, NULL);
	ks_front_shutdown(f);
	pthread_mutex_lock(&f->lock);
	while (f->nthreads > 0)
		pthread_cond_wait(&f->idle, &f->lock);
	pthread_mutex_unlock(&f->lock);
	if (f->listen_fd >= 0)
		close(f->listen_fd);
	SSL_CTX_free(f->ctx);
	pthread_mutex_destroy(&f->lock);
	pthread_cond_destroy(&f->idle);
	free(f);
}
