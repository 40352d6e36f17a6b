/*
 * collect.c - the collector: credentials, pulls into the store, cluster
 * health, and the scheduler.
 *
 * Pulls of one cluster are serialised (a set of busy cluster names under the
 * collector's mutex); pulls of different clusters run at once. The scheduler
 * thread wakes every interval_s (a condition variable, so collect_free()
 * stops it at once), and hands the registered clusters to COLLECT_WORKERS
 * worker threads: a hung cluster holds one worker until its requests time
 * out and never delays the others.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "collect/collect.h"
#include "collect/collect_int.h"
#include "collect/collect_pull.h"
#include "engine/engine.h"
#include "kube/kube.h"
#include "prom/prom.h"
#include "seal/seal.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/limits.h"
#include "util/log.h"
#include "util/banned.h"

#define IN_CLUSTER_TOKEN "/var/run/secrets/kubernetes.io/serviceaccount/token"

struct collect {
	struct store *st;
	const struct seal *seal;
	struct collect_options o;
	pthread_mutex_t mu;
	pthread_cond_t cv;          /* stop, and a busy cluster freed */
	int stopping;
	int active;                 /* pulls running */
	json_t *busy;               /* cluster names being pulled */
	pthread_t sched;
	int sched_started;
	/* One scheduler round. */
	char (*round)[STORE_MAX_NAME + 1];
	size_t round_n, round_next;
	struct collect_window *window;  /* the previous scrape of each pod */
	char *dcgm_selector;
};

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
collect_new(struct store *st, const struct seal *seal, const struct collect_options *o,
    struct collect **out, struct err *e)
{
	struct collect *c;
	pthread_condattr_t ca;

	*out = NULL;
	if (st == NULL || seal == NULL || o == NULL)
		return err_set(e, ERR_INVALID, "the collector needs a store, a seal and options");
	if (o->interval_s < 0 || o->history_days < 0 || o->request_timeout_ms < 0 ||
	    o->auto_promote_after_s < 0)
		return err_set(e, ERR_INVALID, "collector interval, history, timeout and auto-promotion "
		    "must not be negative");
	/* Snapshots parse engine command lines: the knowledge must be loaded. */
	if (engine_init(e) < 0)
		return -1;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return err_set(e, ERR_NOMEM, "out of memory creating the collector");
	c->st = st;
	c->seal = seal;
	c->o = *o;
	c->dcgm_selector = strdup(o->dcgm_selector != NULL ? o->dcgm_selector :
	    COLLECT_DEFAULT_DCGM_SELECTOR);
	c->o.dcgm_selector = c->dcgm_selector;
	if (c->dcgm_selector == NULL || collect_window_new(&c->window, e) != 0) {
		free(c->dcgm_selector);
		free(c);
		return err_set(e, ERR_NOMEM, "out of memory creating the collector");
	}
	if (c->o.request_timeout_ms == 0)
		c->o.request_timeout_ms = COLLECT_DEFAULT_TIMEOUT_MS;
	c->busy = json_object();
	pthread_mutex_init(&c->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&c->cv, &ca);
	pthread_condattr_destroy(&ca);
	if (c->busy == NULL) {
		collect_free(c);
		return err_set(e, ERR_NOMEM, "out of memory creating the collector");
	}
	*out = c;
	return 0;
}

/* ---- credentials ------------------------------------------------------- */

static char *
dup_or_null(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

static int
creds_from_cluster(const struct collect *c, const struct store_cluster *cl, struct kube_creds *kc,
    struct err *e)
{
	char aad[STORE_MAX_NAME + 16], *plain = NULL;
	size_t plen = 0;
	json_t *auth = NULL;
	json_error_t jerr;
	int ret = -1;

	memset(kc, 0, sizeof(*kc));
	kc->server = dup_or_null(cl->server);
	kc->ca_pem = dup_or_null(cl->ca_pem);
	kc->insecure_skip_tls_verify = cl->insecure_skip_tls_verify;
	if (kc->server == NULL) {
		err_set(e, ERR_NOMEM, "out of memory reading cluster '%s'", cl->name);
		goto out;
	}
	if (cl->auth_kind != NULL && strcmp(cl->auth_kind, "in_cluster") == 0 &&
	    cl->sealed_auth == NULL) {
		kc->token_file = strdup(IN_CLUSTER_TOKEN);
		ret = kc->token_file != NULL ? 0 : err_set(e, ERR_NOMEM, "out of memory");
		goto out;
	}
	if (cl->sealed_auth == NULL) {
		err_set(e, ERR_INVALID, "cluster '%s' has no credentials", cl->name);
		goto out;
	}
	snprintf(aad, sizeof(aad), "cluster:%s:auth", cl->name);
	if (seal_unlock(c->seal, aad, cl->sealed_auth, cl->sealed_auth_len, &plain, &plen, e) != 0) {
		err_prefix(e, "opening the credentials of cluster '%s'", cl->name);
		goto out;
	}
	auth = json_loadb(plain, plen, 0, &jerr);
	if (!json_is_object(auth)) {
		/* jerr.text may quote the plaintext: never pass it on. */
		err_set(e, ERR_INVALID, "the stored credentials of cluster '%s' are not a JSON object",
		    cl->name);
		goto out;
	}
	if (collect_str(auth, "token") != NULL) {
		kc->token = strdup(collect_str(auth, "token"));
	} else if (collect_str(auth, "token_file") != NULL) {
		kc->token_file = strdup(collect_str(auth, "token_file"));
	} else if (collect_str(auth, "client_cert_pem") != NULL &&
	    collect_str(auth, "client_key_pem") != NULL) {
		kc->client_cert_pem = strdup(collect_str(auth, "client_cert_pem"));
		kc->client_key_pem = strdup(collect_str(auth, "client_key_pem"));
	} else {
		err_set(e, ERR_INVALID, "the stored credentials of cluster '%s' have no token, "
		    "token_file or client certificate", cl->name);
		goto out;
	}
	ret = 0;
out:
	if (auth != NULL) {
		/* Wipe the strings jansson holds before freeing them. */
		const char *k;
		json_t *v;

		json_object_foreach(auth, k, v)
			if (json_is_string(v))
				explicit_bzero((char *)json_string_value(v), json_string_length(v));
		json_decref(auth);
	}
	if (plain != NULL) {
		explicit_bzero(plain, plen);
		free(plain);
	}
	if (ret != 0)
		kube_creds_release(kc);
	return ret;
}

/* A client for the cluster's Prometheus server (NULL when it has none): kube.h's
 * rules (https unless allow_http, no redirects, timeouts, a byte cap), the
 * system CAs, and the sealed bearer token (AAD cluster:<name>:prometheus). */
static int
prom_client(const struct collect *c, const struct store_cluster *cl, struct kube_client **out,
    struct err *e)
{
	struct kube_creds kc;
	struct kube_options ko;
	char aad[STORE_MAX_NAME + 32], *plain = NULL;
	size_t plen = 0;
	int ret = -1;

	*out = NULL;
	if (cl->prometheus_url == NULL || cl->prometheus_url[0] == '\0')
		return 0;
	memset(&kc, 0, sizeof(kc));
	kc.server = strdup(cl->prometheus_url);
	if (kc.server == NULL) {
		err_set(e, ERR_NOMEM, "out of memory");
		goto out;
	}
	if (cl->sealed_prometheus_token != NULL) {
		snprintf(aad, sizeof(aad), "cluster:%s:prometheus", cl->name);
		if (seal_unlock(c->seal, aad, cl->sealed_prometheus_token,
		    cl->sealed_prometheus_token_len, &plain, &plen, e) != 0) {
			err_prefix(e, "opening the Prometheus token of cluster '%s'", cl->name);
			goto out;
		}
		kc.token = buf_memdup0(plain, plen);
		if (kc.token == NULL) {
			err_set(e, ERR_NOMEM, "out of memory");
			goto out;
		}
	}
	memset(&ko, 0, sizeof(ko));
	ko.request_timeout_ms = c->o.request_timeout_ms;
	ko.allow_http = c->o.allow_http;
	ko.max_response_bytes = PROM_MAX_RESPONSE_BYTES;
	ko.max_parallel = 1;
	if (kube_client_new(&kc, &ko, out, e) != 0) {
		err_prefix(e, "the Prometheus server of cluster '%s'", cl->name);
		goto out;
	}
	ret = 0;
out:
	if (plain != NULL) {
		explicit_bzero(plain, plen);
		free(plain);
	}
	kube_creds_release(&kc);
	return ret;
}

/* Adds to the evidence one "prometheus" scrape per pod of the target: the figures
 * Prometheus has over PROM_WINDOW. A failure is recorded in the evidence, not raised. */
static void
prom_evidence(struct kube_client *pk, const char *url, json_t *evidence, const char *ns)
{
	json_t *pods = json_array(), *figs = NULL, *p, *scrapes = json_object_get(evidence, "scrapes");
	struct err e = ERR_INIT;
	const char *pod;
	size_t i;

	json_array_foreach(json_object_get(evidence, "pods"), i, p)
		if (collect_str(p, "name") != NULL)
			json_array_append_new(pods, json_string(collect_str(p, "name")));
	if (!json_is_array(scrapes)) {
		json_decref(pods);
		return;
	}
	if (prom_figures(pk, ns, pods, &figs, &e) != 0) {
		json_array_append_new(scrapes, json_pack("{s:s,s:s,s:I,s:s}", "source", "prometheus",
		    "url", url, "at", (json_int_t)time(NULL), "error", e.msg));
	} else {
		json_object_foreach(figs, pod, p)
			json_array_append_new(scrapes, json_pack("{s:s,s:s,s:s,s:I,s:i,s:O}", "source",
			    "prometheus", "url", url, "pod", pod, "at", (json_int_t)time(NULL),
			    "window_seconds", PROM_WINDOW_SECONDS, "figures", p));
	}
	json_decref(figs);
	json_decref(pods);
}

/* ---- one cluster ------------------------------------------------------- */

static void
cluster_lock(struct collect *c, const char *name)
{
	pthread_mutex_lock(&c->mu);
	while (json_object_get(c->busy, name) != NULL)
		pthread_cond_wait(&c->cv, &c->mu);
	json_object_set_new(c->busy, name, json_true());
	c->active++;
	pthread_mutex_unlock(&c->mu);
}

static void
cluster_unlock(struct collect *c, const char *name)
{
	pthread_mutex_lock(&c->mu);
	json_object_del(c->busy, name);
	c->active--;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
}

static void
target_address(char *out, size_t outsz, const char *cluster, const char *ns, const char *lower,
    const char *name)
{
	snprintf(out, outsz, "%s/%s/%s/%s", cluster, ns, lower, name);
}

/* Pulls, builds and stores one workload. Appends to snaps or errs; returns the
 * error code (ERR_OK on success). */
static enum err_code
pull_one(struct collect *c, struct kube_client *k, struct kube_client *pk, const char *prom_url,
    const struct collect_apis *apis, const char *cluster, const json_t *workload, int64_t seen_at,
    json_t *snaps, json_t *errs)
{
	const char *ns = collect_str(json_object_get(workload, "metadata"), "namespace");
	const char *name = collect_str(json_object_get(workload, "metadata"), "name");
	const struct collect_kind *kd = collect_kind_find(collect_str(workload, "kind"));
	json_t *raw = NULL, *config = NULL, *evidence = NULL;
	char addr[STORE_MAX_NAME + STORE_MAX_NAMESPACE + STORE_MAX_OBJECT_NAME + 64];
	char hash[65], *cj = NULL, *ej = NULL;
	struct err e = ERR_INIT;
	int64_t tid = 0, sid = 0;
	int changed = 0;
	struct collect_pull_ctx pctx = { pk != NULL ? NULL : c->window, pk != NULL ?
		"this cluster's rates and quantiles come from Prometheus (source \"prometheus\")" : NULL,
		c->dcgm_selector };

	if (ns == NULL || name == NULL || kd == NULL)
		return ERR_OK;
	target_address(addr, sizeof(addr), cluster, ns, kd->lower, name);
	if (store_target_upsert(c->st, cluster, ns, kd->lower, name, seen_at, &tid, &e) != 0 ||
	    collect_pull_target(k, apis, cluster, workload, &pctx, &raw, &e) != 0 ||
	    collect_build(raw, c->seal, &config, &evidence, &e) != 0 ||
	    collect_hash(config, hash, &e) != 0)
		goto fail;
	if (pk != NULL)
		prom_evidence(pk, prom_url, evidence, ns);
	cj = json_dumps(config, JSON_COMPACT | JSON_SORT_KEYS);
	ej = json_dumps(evidence, JSON_COMPACT | JSON_SORT_KEYS);
	if (cj == NULL || ej == NULL) {
		err_set(&e, ERR_NOMEM, "out of memory writing the snapshot");
		goto fail;
	}
	if (store_snapshot_record(c->st, tid, hash, cj, strlen(cj), ej, strlen(ej), seen_at, &sid,
	    &changed, &e) != 0)
		goto fail;
	if (changed && c->o.on_change != NULL)
		c->o.on_change(c->o.on_change_arg, tid, sid);
	collect_promote_maybe(c->st, c->o.auto_promote_after_s, c->o.promote_verdict,
	    c->o.promote_verdict_arg, tid, sid, seen_at);
	json_array_append_new(snaps, json_pack("{s:I,s:s,s:b}", "id", (json_int_t)sid, "target",
	    addr, "changed", changed));
	goto out;
fail:
	log_warn("collect: %s: %s", addr, e.msg);
	json_array_append_new(errs, json_pack("{s:s,s:s}", "target", addr, "message", e.msg));
out:
	free(cj);
	free(ej);
	json_decref(raw);
	json_decref(config);
	json_decref(evidence);
	return e.code;
}

/* Connects to a cluster: credentials, client, /version, /apis. */
static int
cluster_connect(struct collect *c, const char *cluster, struct store_cluster *cl,
    struct kube_client **k, struct collect_apis *apis, char **version, struct err *e)
{
	struct kube_creds kc;
	struct kube_options ko;
	int ret = -1;

	memset(&kc, 0, sizeof(kc));
	*k = NULL;
	*version = NULL;
	if (store_cluster_get(c->st, cluster, cl, e) != 0)
		return -1;
	if (creds_from_cluster(c, cl, &kc, e) != 0)
		goto out;
	memset(&ko, 0, sizeof(ko));
	ko.request_timeout_ms = c->o.request_timeout_ms;
	ko.allow_http = c->o.allow_http;
	if (ko.request_timeout_ms > 0 && ko.request_timeout_ms < 10000)
		ko.connect_timeout_ms = ko.request_timeout_ms;
	if (kube_client_new(&kc, &ko, k, e) != 0 ||
	    kube_server_version(*k, version, e) != 0 ||
	    collect_discover_apis(*k, apis, e) != 0)
		goto out;
	ret = 0;
out:
	kube_creds_release(&kc);
	if (ret != 0) {
		kube_client_free(*k);
		*k = NULL;
		free(*version);
		*version = NULL;
	}
	return ret;
}

static void
record_health(struct collect *c, const char *cluster, int64_t pull_at, int ok, const char *msg,
    int64_t t0, const char *version)
{
	struct err he = ERR_INIT;

	if (store_cluster_health(c->st, cluster, pull_at, ok, msg, now_ms() - t0, version, &he) != 0)
		log_warn("collect: recording the health of cluster '%s': %s", cluster, he.msg);
}

/* Pulls the cluster: every target (`one` NULL) or one named workload. */
static int
pull_cluster(struct collect *c, const char *cluster, const char *ns, const char *kind,
    const char *name, json_t **out, struct err *e)
{
	struct store_cluster cl;
	struct kube_client *k = NULL, *pk = NULL;
	struct collect_apis apis;
	json_t *targets = NULL, *snaps = json_array(), *errs = json_array(), *nss = NULL, *w;
	char *version = NULL;
	int64_t t0 = now_ms(), pull_at = (int64_t)time(NULL);
	struct err de = ERR_INIT;
	int ret = -1, disc = 0, timed_out = 0;
	size_t i;

	memset(&cl, 0, sizeof(cl));
	*out = NULL;
	if (snaps == NULL || errs == NULL) {
		json_decref(snaps);
		json_decref(errs);
		return err_set(e, ERR_NOMEM, "out of memory pulling cluster '%s'", cluster);
	}
	cluster_lock(c, cluster);
	if (cluster_connect(c, cluster, &cl, &k, &apis, &version, e) != 0) {
		if (e == NULL || e->code != ERR_NOT_FOUND || cl.name[0] != '\0')
			record_health(c, cluster, pull_at, 0, e ? e->msg : "cluster unreachable", t0,
			    NULL);
		goto out;
	}
	if (prom_client(c, &cl, &pk, &de) != 0) {
		/* Figures then come from the pods' own scrapes; the pull goes on. */
		log_warn("collect: %s", de.msg);
		pk = NULL;
		de = (struct err)ERR_INIT;
	}
	if (name != NULL) {
		if (collect_get_workload(k, ns, kind, name, &w, e) != 0) {
			if (e != NULL && (e->code == ERR_NOT_FOUND || e->code == ERR_INVALID)) {
				/* The cluster answered: it is healthy, the target is not there. */
				record_health(c, cluster, pull_at, 1, NULL, t0, version);
			} else {
				record_health(c, cluster, pull_at, 0, e ? e->msg : "pull failed", t0,
				    version);
			}
			goto out;
		}
		targets = json_array();
		json_array_append_new(targets, w);
	} else {
		json_error_t jerr;

		nss = json_loads(cl.namespaces_json ? cl.namespaces_json : "[]", 0, &jerr);
		if (!json_is_array(nss)) {
			json_decref(nss);
			nss = json_array();
		}
		disc = collect_discover(k, &apis, nss, cl.label_selector, &targets, &de);
		if (disc < 0) {
			if (e != NULL)
				*e = de;
			record_health(c, cluster, pull_at, 0, de.msg, t0, version);
			goto out;
		}
	}
	json_array_foreach(targets, i, w) {
		pthread_mutex_lock(&c->mu);
		if (c->stopping) {
			pthread_mutex_unlock(&c->mu);
			break;
		}
		pthread_mutex_unlock(&c->mu);
		if (timed_out) {
			/* A cluster that stopped answering is not asked again in this pull: its
			 * other targets would each wait for the timeout too. */
			const char *tn = collect_str(json_object_get(w, "metadata"), "name");
			const char *tns = collect_str(json_object_get(w, "metadata"), "namespace");
			const struct collect_kind *kd = collect_kind_find(collect_str(w, "kind"));
			char addr[STORE_MAX_NAME + STORE_MAX_NAMESPACE + STORE_MAX_OBJECT_NAME + 64];

			if (tn == NULL || tns == NULL || kd == NULL)
				continue;
			target_address(addr, sizeof(addr), cluster, tns, kd->lower, tn);
			json_array_append_new(errs, json_pack("{s:s,s:s}", "target", addr, "message",
			    "not pulled: an earlier request to the cluster timed out"));
			continue;
		}
		if (pull_one(c, k, pk, cl.prometheus_url, &apis, cluster, w, pull_at, snaps, errs) ==
		    ERR_TIMEOUT)
			timed_out = 1;
	}
	if (name == NULL && disc == 0) {
		struct err me = ERR_INIT;

		if (store_target_mark_gone(c->st, cluster, pull_at, &me) != 0)
			log_warn("collect: marking gone targets of '%s': %s", cluster, me.msg);
	}
	if (disc == 1) {
		record_health(c, cluster, pull_at, 0, de.msg, t0, version);
	} else if (timed_out || (json_array_size(errs) > 0 && json_array_size(snaps) == 0)) {
		/* Nothing could be pulled: the first target's error is the cluster's. */
		record_health(c, cluster, pull_at, 0, collect_str(json_array_get(errs, 0), "message"),
		    t0, version);
	} else {
		record_health(c, cluster, pull_at, 1, NULL, t0, version);
	}
	*out = json_pack("{s:O,s:O}", "snapshots", snaps, "errors", errs);
	ret = *out != NULL ? 0 : err_set(e, ERR_NOMEM, "out of memory");
out:
	cluster_unlock(c, cluster);
	kube_client_free(k);
	kube_client_free(pk);
	store_cluster_release(&cl);
	free(version);
	json_decref(targets);
	json_decref(nss);
	json_decref(snaps);
	json_decref(errs);
	return ret;
}

int
collect_cluster(struct collect *c, const char *cluster, json_t **out, struct err *e)
{
	return pull_cluster(c, cluster, NULL, NULL, NULL, out, e);
}

int
collect_target(struct collect *c, const char *cluster, const char *ns, const char *kind,
    const char *name, json_t **out, struct err *e)
{
	*out = NULL;
	if (ns == NULL || kind == NULL || name == NULL)
		return err_set(e, ERR_INVALID, "a target needs a namespace, a kind and a name");
	if (collect_kind_find(kind) == NULL)
		return err_set(e, ERR_INVALID, "unknown workload kind '%s' (deployment, statefulset "
		    "or leaderworkerset)", kind);
	return pull_cluster(c, cluster, ns, kind, name, out, e);
}

/* ---- scheduler --------------------------------------------------------- */

static void *
worker_main(void *arg)
{
	struct collect *c = arg;

	for (;;) {
		char name[STORE_MAX_NAME + 1];
		json_t *out = NULL;
		struct err e = ERR_INIT;

		pthread_mutex_lock(&c->mu);
		if (c->stopping || c->round_next >= c->round_n) {
			pthread_mutex_unlock(&c->mu);
			break;
		}
		memcpy(name, c->round[c->round_next++], sizeof(name));
		pthread_mutex_unlock(&c->mu);
		if (pull_cluster(c, name, NULL, NULL, NULL, &out, &e) != 0)
			log_warn("collect: cluster '%s': %s", name, e.msg);
		json_decref(out);
	}
	return NULL;
}

static void
run_round(struct collect *c)
{
	struct store_cluster *cls = NULL;
	size_t n = 0, i, nw;
	pthread_t w[COLLECT_WORKERS];
	int started[COLLECT_WORKERS];
	struct err e = ERR_INIT;

	if (store_cluster_list(c->st, &cls, &n, &e) != 0) {
		log_warn("collect: listing clusters: %s", e.msg);
		return;
	}
	if (n > COLLECT_MAX_CLUSTERS)
		n = COLLECT_MAX_CLUSTERS;
	pthread_mutex_lock(&c->mu);
	c->round = calloc(n + 1, sizeof(*c->round));
	c->round_n = c->round != NULL ? n : 0;
	c->round_next = 0;
	for (i = 0; c->round != NULL && i < n; i++)
		memcpy(c->round[i], cls[i].name, sizeof(c->round[i]));
	pthread_mutex_unlock(&c->mu);
	for (i = 0; i < n; i++)
		store_cluster_release(&cls[i]);
	free(cls);
	nw = n < COLLECT_WORKERS ? n : COLLECT_WORKERS;
	for (i = 0; i < nw; i++)
		started[i] = pthread_create(&w[i], NULL, worker_main, c) == 0;
	for (i = 0; i < nw; i++)
		if (started[i])
			pthread_join(w[i], NULL);
	pthread_mutex_lock(&c->mu);
	free(c->round);
	c->round = NULL;
	c->round_n = c->round_next = 0;
	pthread_mutex_unlock(&c->mu);
	if (c->o.history_days > 0) {
		int64_t removed = 0;

		if (store_prune(c->st, (int64_t)time(NULL) - (int64_t)c->o.history_days * 86400,
		    &removed, &e) != 0)
			log_warn("collect: pruning history: %s", e.msg);
		else if (removed > 0)
			log_info("collect: pruned %lld rows older than %d days", (long long)removed,
			    c->o.history_days);
	}
}

static void *
sched_main(void *arg)
{
	struct collect *c = arg;

	for (;;) {
		struct timespec until;

		pthread_mutex_lock(&c->mu);
		if (c->stopping) {
			pthread_mutex_unlock(&c->mu);
			break;
		}
		pthread_mutex_unlock(&c->mu);
		run_round(c);
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += c->o.interval_s;
		pthread_mutex_lock(&c->mu);
		while (!c->stopping &&
		    pthread_cond_timedwait(&c->cv, &c->mu, &until) != ETIMEDOUT)
			;
		pthread_mutex_unlock(&c->mu);
	}
	return NULL;
}

int
collect_start(struct collect *c, struct err *e)
{
	if (c->o.interval_s == 0 || c->sched_started)
		return 0;
	if (pthread_create(&c->sched, NULL, sched_main, c) != 0)
		return err_set(e, ERR_INTERNAL, "cannot start the collector's scheduler thread");
	c->sched_started = 1;
	return 0;
}

void
collect_free(struct collect *c)
{
	if (c == NULL)
		return;
	pthread_mutex_lock(&c->mu);
	c->stopping = 1;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
	if (c->sched_started)
		pthread_join(c->sched, NULL);
	pthread_mutex_lock(&c->mu);
	while (c->active > 0)
		pthread_cond_wait(&c->cv, &c->mu);
	pthread_mutex_unlock(&c->mu);
	json_decref(c->busy);
	collect_window_free(c->window);
	free(c->dcgm_selector);
	pthread_cond_destroy(&c->cv);
	pthread_mutex_destroy(&c->mu);
	free(c);
}
