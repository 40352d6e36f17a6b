/*
 * metrics.c - Prometheus counters of the HTTP server, process-wide:
 *
 *   skewd_http_requests_total{route,method,status}     counter
 *   skewd_http_request_duration_seconds{route}          histogram
 *   skewd_build_info{version}                           gauge, always 1
 *
 * `route` is the route pattern (or "static" / "unmatched"), never a raw path,
 * and `method` is one of a fixed list, so the number of series is bounded
 * (HTTP_METRICS_MAX_SERIES; requests past it are counted under
 * route="overflow"). One mutex guards everything: an increment is a few
 * instructions, far cheaper than the request it counts.
 */
#include "http/http_int.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/err.h"
#include "util/limits.h"
#include "util/banned.h"

static const char *const methods[] = {
	"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "OTHER",
};
#define NMETHODS (sizeof(methods) / sizeof(methods[0]))

static const double buckets[] = {
	0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
};
#define NBUCKETS (sizeof(buckets) / sizeof(buckets[0]))

struct series {
	size_t slot;        /* route slot; SIZE_MAX = overflow */
	unsigned method;
	int status;
	uint64_t count;
};

struct histogram {
	uint64_t le[NBUCKETS];  /* non-cumulative; summed when rendered */
	uint64_t count;
	double sum;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct series series[HTTP_METRICS_MAX_SERIES];
static size_t nseries;
static uint64_t overflow;
static struct histogram hist[HTTP_METRICS_MAX_ROUTES];

static unsigned
method_index(const char *m)
{
	unsigned i;

	for (i = 0; i < NMETHODS - 1; i++) {
		if (strcmp(m, methods[i]) == 0)
			return i;
	}
	return NMETHODS - 1;
}

void
http_metrics_record(size_t slot, const char *method, int status, double seconds)
{
	unsigned m = method_index(method);
	size_t i, b;

	if (slot >= HTTP_ROUTE_SLOTS || slot >= HTTP_METRICS_MAX_ROUTES)
		slot = HTTP_ROUTE_UNMATCHED;
	pthread_mutex_lock(&lock);
	for (i = 0; i < nseries; i++) {
		if (series[i].slot == slot && series[i].method == m && series[i].status == status)
			break;
	}
	if (i == nseries && nseries < HTTP_METRICS_MAX_SERIES) {
		series[i].slot = slot;
		series[i].method = m;
		series[i].status = status;
		series[i].count = 0;
		nseries++;
	}
	if (i < nseries)
		series[i].count++;
	else
		overflow++;
	for (b = 0; b < NBUCKETS; b++) {
		if (seconds <= buckets[b]) {
			hist[slot].le[b]++;
			break;
		}
	}
	hist[slot].count++;
	hist[slot].sum += seconds;
	pthread_mutex_unlock(&lock);
}

/* Appends the exposition of a snapshot to out. */
static int
render(const struct series *snap, size_t n, const struct histogram *h, size_t slots, uint64_t ov,
    struct buf *out, struct err *e)
{
	size_t i, b;
	uint64_t cum;

	if (buf_addf(out, e, "# HELP skewd_build_info Build information; the value is always 1.\n"
	    "# TYPE skewd_build_info gauge\n"
	    "skewd_build_info{version=\"%s\"} 1\n", SKEWD_VERSION) < 0)
		return -1;
	if (buf_addstr(out, "# HELP skewd_http_requests_total HTTP requests answered, by route pattern, method and status.\n"
	    "# TYPE skewd_http_requests_total counter\n", e) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (buf_addf(out, e, "skewd_http_requests_total{route=\"%s\",method=\"%s\",status=\"%d\"} %llu\n",
		    http_route_label(snap[i].slot), methods[snap[i].method], snap[i].status,
		    (unsigned long long)snap[i].count) < 0)
			return -1;
	}
	if (ov > 0 && buf_addf(out, e, "skewd_http_requests_total{route=\"overflow\",method=\"OTHER\",status=\"0\"} %llu\n",
	    (unsigned long long)ov) < 0)
		return -1;
	if (buf_addstr(out, "# HELP skewd_http_request_duration_seconds Time from request to response, by route pattern.\n"
	    "# TYPE skewd_http_request_duration_seconds histogram\n", e) < 0)
		return -1;
	for (i = 0; i < slots; i++) {
		const char *label = http_route_label(i);

		if (h[i].count == 0)
			continue;
		cum = 0;
		for (b = 0; b < NBUCKETS; b++) {
			cum += h[i].le[b];
			if (buf_addf(out, e, "skewd_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %llu\n",
			    label, buckets[b], (unsigned long long)cum) < 0)
				return -1;
		}
		if (buf_addf(out, e, "skewd_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %llu\n"
		    "skewd_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n"
		    "skewd_http_request_duration_seconds_count{route=\"%s\"} %llu\n",
		    label, (unsigned long long)h[i].count, label, h[i].sum,
		    label, (unsigned long long)h[i].count) < 0)
			return -1;
	}
	return 0;
}

int
http_metrics_render(struct buf *out, struct err *e)
{
	/* The snapshot is on the heap: CivetWeb workers have 100 KiB stacks. */
	struct series *snap = NULL;
	struct histogram *h = NULL;
	size_t n, slots = HTTP_ROUTE_SLOTS;
	uint64_t ov;
	int ret = -1;

	if (slots > HTTP_METRICS_MAX_ROUTES)
		slots = HTTP_METRICS_MAX_ROUTES;
	snap = malloc(HTTP_METRICS_MAX_SERIES * sizeof(*snap));
	h = malloc(HTTP_METRICS_MAX_ROUTES * sizeof(*h));
	if (snap == NULL || h == NULL) {
		err_set(e, ERR_NOMEM, "out of memory rendering metrics");
		goto out;
	}
	pthread_mutex_lock(&lock);
	n = nseries;
	memcpy(snap, series, n * sizeof(snap[0]));
	memcpy(h, hist, slots * sizeof(h[0]));
	ov = overflow;
	pthread_mutex_unlock(&lock);
	ret = render(snap, n, h, slots, ov, out, e);
out:
	free(snap);
	free(h);
	return ret;
}

int
http_metrics_get(struct api_req *rq, struct api_resp *rs, struct err *e)
{
	(void)rq;
	buf_reset(&rs->text);
	if (http_metrics_render(&rs->text, e) < 0)
		return -1;
	rs->status = 200;
	rs->content_type = "text/plain; version=0.0.4; charset=utf-8";
	return 0;
}
