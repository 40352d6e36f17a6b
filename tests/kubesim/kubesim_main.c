/*
 * kubesim_main.c - the simulated Kubernetes API server as a program, for
 * shell tests (tests/lint/kubesim_kubectl.sh). Test-only: not installed.
 *
 *   kubesim --state DIR --tls-dir DIR [--port N] [--role FILE] [--token T]
 *           [--admin-token T] [--client-cert USER] [--http] [--advance-metrics]
 *           [--fault KIND[:PARAM][@PREFIX]]...
 *
 * --state names a state folder (e.g. tests/fixtures/cluster/lastgood); its
 * parent holds the other states, which /_kubesim/state?name=NAME switches
 * to. --token is the collector user's bearer token (user "collector", the
 * collector ClusterRole); --admin-token a user "admin" allowed everything;
 * --client-cert writes TLS_DIR/client-USER.{crt,key} for the collector role.
 * When ready it prints one line "kubesim URL CA_PATH" and runs until
 * SIGINT or SIGTERM.
 */
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kubesim/kubesim.h"
#include "util/err.h"
#include "util/banned.h"

static volatile sig_atomic_t done;

static void
on_signal(int sig)
{
	(void)sig;
	done = 1;
}

static int
usage(void)
{
	fprintf(stderr, "usage: kubesim --state DIR --tls-dir DIR [--port N] [--role FILE] [--token T]\n"
	    "               [--admin-token T] [--client-cert USER] [--http] [--advance-metrics] [--fault KIND[:PARAM][@PREFIX]]...\n");
	return 2;
}

int
main(int argc, char **argv)
{
	struct kubesim_options o;
	struct kubesim_user users[8];
	struct kubesim *k = NULL;
	struct err e = ERR_INIT;
	char state_copy[PATH_MAX], state_copy2[PATH_MAX], listen[64];
	const char *state = NULL, *faults[16];
	size_t nfaults = 0, nusers = 0, i;
	sigset_t block, old;
	struct sigaction sa;
	int port = 0;
	int ai;

	memset(&o, 0, sizeof(o));
	o.role_file = "deploy/kubernetes/clusterrole-collector.yaml";
	for (ai = 1; ai < argc; ai++) {
		const char *a = argv[ai], *v = ai + 1 < argc ? argv[ai + 1] : NULL;

		if (strcmp(a, "--http") == 0) {
			o.plain_http = 1;
			continue;
		}
		if (strcmp(a, "--advance-metrics") == 0) {
			o.advance_metrics = 1;
			continue;
		}
		if (v == NULL)
			return usage();
		ai++;
		if (strcmp(a, "--state") == 0) {
			state = v;
		} else if (strcmp(a, "--tls-dir") == 0) {
			o.tls_dir = v;
		} else if (strcmp(a, "--port") == 0) {
			port = (int)strtol(v, NULL, 10);
		} else if (strcmp(a, "--role") == 0) {
			o.role_file = v;
		} else if (strcmp(a, "--token") == 0 || strcmp(a, "--admin-token") == 0 ||
		    strcmp(a, "--client-cert") == 0) {
			if (nusers >= sizeof(users) / sizeof(users[0]))
				return usage();
			memset(&users[nusers], 0, sizeof(users[nusers]));
			if (strcmp(a, "--client-cert") == 0) {
				users[nusers].name = v;
				users[nusers].client_cert = 1;
			} else {
				users[nusers].name = strcmp(a, "--token") == 0 ? "collector" : "admin";
				users[nusers].token = v;
				users[nusers].role = strcmp(a, "--token") == 0 ? KUBESIM_ROLE_COLLECTOR : KUBESIM_ROLE_ADMIN;
			}
			nusers++;
		} else if (strcmp(a, "--fault") == 0) {
			if (nfaults >= sizeof(faults) / sizeof(faults[0]))
				return usage();
			faults[nfaults++] = v;
		} else {
			return usage();
		}
	}
	if (state == NULL || o.tls_dir == NULL)
		return usage();
	snprintf(state_copy, sizeof(state_copy), "%s", state);
	snprintf(state_copy2, sizeof(state_copy2), "%s", state);
	o.fixtures_dir = dirname(state_copy);
	o.state = basename(state_copy2);
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
	o.listen = listen;
	o.users = users;
	o.nusers = nusers;
	if (kubesim_start(&o, &k, &e) < 0) {
		fprintf(stderr, "kubesim: %s\n", e.msg);
		return 1;
	}
	for (i = 0; i < nfaults; i++) {
		char spec[512], *at, *colon;
		enum kubesim_fault_kind kind;
		int param = 0;

		snprintf(spec, sizeof(spec), "%s", faults[i]);
		at = strchr(spec, '@');
		if (at != NULL)
			*at++ = '\0';
		colon = strchr(spec, ':');
		if (colon != NULL) {
			*colon++ = '\0';
			param = (int)strtol(colon, NULL, 10);
		}
		if (kubesim_fault_parse(spec, &kind) < 0 ||
		    kubesim_set_fault(k, at != NULL ? at : "", kind, param, &e) < 0) {
			fprintf(stderr, "kubesim: bad fault '%s'%s%s\n", faults[i], e.msg[0] != '\0' ? ": " : "", e.msg);
			kubesim_stop(k);
			return 2;
		}
	}
	/* Signals are blocked except inside sigsuspend(), so none is lost
	 * between the check of `done` and the wait. */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &old);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	printf("kubesim %s %s\n", kubesim_url(k), kubesim_ca_path(k));
	fflush(stdout);
	while (!done)
		sigsuspend(&old);
	kubesim_stop(k);
	return 0;
}
