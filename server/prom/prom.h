/*
 * prom.h - the serving figures of a target from the Prometheus server that
 * scrapes its pods, instead of from two scrapes of the pods themselves.
 *
 * The questions are instant queries of the Prometheus HTTP API
 * (GET /api/v1/query) over a window (PROM_WINDOW, "5m"): counters as
 * `rate(x[5m])`, quantiles as `histogram_quantile(q, sum by (le, pod)
 * (rate(x_bucket[5m])))`, gauges as they are, each grouped `by (pod)` and
 * scoped to the target by `namespace="<ns>", pod=~"<pod>|<pod>"` (the labels
 * Prometheus' Kubernetes service discovery or a PodMonitor puts on every
 * series). docs/metrics.md lists every query. For each figure the candidate
 * metric names are tried in order (vLLM V1, vLLM V0, SGLang) and the first
 * that Prometheus has wins.
 *
 * The HTTP client is kube.h's: a kube_client made from the cluster's
 * prometheus.url and its optional bearer token, so Prometheus gets the same
 * rules as API servers: https unless allowed, no redirects, a time limit per
 * request and a byte cap per answer.
 *
 * Thread-safety: as kube.h (a client belongs to one thread at a time).
 */
#ifndef SKEWD_PROM_PROM_H
#define SKEWD_PROM_PROM_H

#include <stddef.h>
#include <jansson.h>

struct err;
struct kube_client;

#define PROM_WINDOW "5m"
#define PROM_WINDOW_SECONDS 300

/* One instant query; *result (new reference) is the answer's data.result array
 * (a vector: [{"metric": {...}, "value": [time, "v"]}]). ERR_UPSTREAM when
 * Prometheus answers with an error status, quoting its error. */
int prom_query(struct kube_client *k, const char *promql, json_t **result, struct err *e);

/* The figures of the pods `pods` (an array of names) in namespace `ns`:
 * *out (new reference) is an object pod name -> skewd.metrics/v1 figures object
 * ({"request_rate": {"value": 2.5, "unit": "req/s", "metrics": [...],
 * "source": "prometheus", "query": "..."}, ...}); a figure Prometheus has no
 * series for is {"absent": "not in Prometheus", ...}, one whose value is NaN
 * {"absent": "no observations in the window"}. Every figure key of
 * docs/metrics.md is present for every pod. Returns -1 with e set only when
 * Prometheus cannot be asked at all (the first query failed). */
int prom_figures(struct kube_client *k, const char *ns, const json_t *pods, json_t **out,
    struct err *e);

#endif
