/*
 * bundle.c - the evidence bundle: redacted inputs, the files, the archive.
 *
 * Everything that enters the archive is first redacted by one `struct redact`
 * (so tokens agree across files); the files are then built from the redacted
 * values only. The archive is written to a temporary file in the target folder
 * (O_EXCL, never followed through a link), synced, renamed into place without
 * replacing anything, and the folder synced.
 */
#include "bundle/bundle.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "diff/diff.h"
#include "doc/doc.h"
#include "render/render.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/limits.h"
#include "util/banned.h"

#define BUNDLE_SCHEMA "skewd.bundle/v1"

static const char *const file_names[BUNDLE_NFILES] = BUNDLE_FILES;

enum { F_SUMMARY, F_BUNDLE, F_DIFF, F_PATCH, F_BASELINE, F_CURRENT, F_METRICS, F_REDACTION,
	F_MANIFEST };

static const char b32[] = "abcdefghijklmnopqrstuvwxyz234567";

int
bundle_id_new(char out[BUNDLE_ID_CHARS + 1], struct err *e)
{
	unsigned char raw[BUNDLE_ID_BYTES];
	unsigned bits = 0, acc = 0;
	size_t i, o = 0;

	if (RAND_bytes(raw, sizeof(raw)) != 1)
		return err_set(e, ERR_INTERNAL, "no randomness for a bundle id");
	for (i = 0; i < sizeof(raw); i++) {
		acc = (acc << 8) | raw[i];
		bits += 8;
		while (bits >= 5) {
			out[o++] = b32[(acc >> (bits - 5)) & 31];
			bits -= 5;
		}
	}
	if (bits > 0)
		out[o++] = b32[(acc << (5 - bits)) & 31];
	out[o] = '\0';
	return 0;
}

int
bundle_id_valid(const char *id)
{
	size_t i;

	if (id == NULL || strlen(id) != BUNDLE_ID_CHARS)
		return 0;
	for (i = 0; i < BUNDLE_ID_CHARS; i++)
		if (strchr(b32, id[i]) == NULL || id[i] == '\0')
			return 0;
	return 1;
}

static void
rfc3339(time_t t, char out[32])
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, 32, "%lld", (long long)t);
}

/* Markdown: a code span that holds any value on one line (for tables too). */
static int
md_code(struct buf *b, const char *s, struct err *e)
{
	size_t run = 0, max = 0, i, n = strlen(s), cut;
	char fence[16];

	for (i = 0; i < n; i++) {
		run = s[i] == '`' ? run + 1 : 0;
		if (run > max)
			max = run;
	}
	if (max + 1 >= sizeof(fence))
		max = sizeof(fence) - 2;
	memset(fence, '`', max + 1);
	fence[max + 1] = '\0';
	if (buf_addstr(b, fence, e) != 0 || (n > 0 && s[0] == '`' && buf_addch(b, ' ', e) != 0))
		return -1;
	cut = n;
	if (cut > RENDER_MAX_VALUE_CHARS) {
		/* Cut on a UTF-8 character boundary. */
		cut = RENDER_MAX_VALUE_CHARS;
		while (cut > 0 && ((unsigned char)s[cut] & 0xC0) == 0x80)
			cut--;
	}
	for (i = 0; i < cut; i++) {
		char c = s[i];

		if (c == '|') {
			if (buf_addstr(b, "\\|", e) != 0)
				return -1;
		} else if (c == '\n' || c == '\r' || c == '\t') {
			if (buf_addch(b, ' ', e) != 0)
				return -1;
		} else if ((unsigned char)c < 0x20 || c == 0x7f) {
			if (buf_addch(b, '?', e) != 0)
				return -1;
		} else if (buf_addch(b, c, e) != 0) {
			return -1;
		}
	}
	if (cut < n && buf_addstr(b, "\xe2\x80\xa6", e) != 0)
		return -1;
	if ((cut > 0 && s[cut - 1] == '`' && buf_addch(b, ' ', e) != 0) || buf_addstr(b, fence, e) != 0)
		return -1;
	return 0;
}

static const char *
str_or(const json_t *v, const char *dflt)
{
	return json_is_string(v) ? json_string_value(v) : dflt;
}

/* The workload object of a snapshot document (kind + name of its target). */
static const json_t *
workload_object(const json_t *snap)
{
	const json_t *target = json_object_get(snap, "target"), *o;
	const char *kind = str_or(json_object_get(target, "kind"), "");
	const char *name = str_or(json_object_get(target, "name"), "");
	size_t i;

	json_array_foreach(json_object_get(snap, "objects"), i, o) {
		const json_t *md = json_object_get(o, "metadata");

		if (strcmp(str_or(json_object_get(o, "kind"), ""), kind) == 0 &&
		    strcmp(str_or(json_object_get(md, "name"), ""), name) == 0)
			return o;
	}
	return NULL;
}

/* The first "containers" list under v (a pod template, wherever the kind keeps it). */
static const json_t *
find_containers(const json_t *v, int depth)
{
	const char *k;
	const json_t *x, *found;

	if (depth > 8 || !json_is_object(v))
		return NULL;
	x = json_object_get(v, "containers");
	if (json_is_array(x))
		return x;
	json_object_foreach((json_t *)v, k, x)
		if ((found = find_containers(x, depth + 1)) != NULL)
			return found;
	return NULL;
}

/* Image digests of one container from the evidence's pods (distinct, in order). */
static json_t *
container_digests(const json_t *evidence, const char *container)
{
	json_t *out = json_array(), *pod, *c;
	size_t i, j, k;

	if (out == NULL)
		return NULL;
	json_array_foreach(json_object_get(evidence, "pods"), i, pod) {
		json_array_foreach(json_object_get(pod, "containers"), j, c) {
			const char *id = str_or(json_object_get(c, "imageID"), NULL), *at;
			json_t *have;
			int dup = 0;

			if (id == NULL || strcmp(str_or(json_object_get(c, "container"), ""), container) != 0)
				continue;
			at = strchr(id, '@');
			at = at != NULL ? at + 1 : id;
			json_array_foreach(out, k, have)
				if (strcmp(json_string_value(have), at) == 0)
					dup = 1;
			if (!dup)
				json_array_append_new(out, json_string(at));
		}
	}
	return out;
}

static json_t *
containers_json(const json_t *snap, const json_t *evidence)
{
	const json_t *cs = find_containers(json_object_get(workload_object(snap), "spec"), 0), *c;
	json_t *out = json_array();
	size_t i;

	if (out == NULL)
		return NULL;
	json_array_foreach(cs, i, c) {
		const char *name = str_or(json_object_get(c, "name"), "");
		json_t *env = json_array(), *x, *o;
		size_t j;

		json_array_foreach(json_object_get(c, "env"), j, x) {
			const json_t *from = json_object_get(x, "valueFrom");
			json_t *item = json_pack("{ss}", "name", str_or(json_object_get(x, "name"), ""));

			if (item == NULL)
				continue;
			if (json_object_get(x, "value") != NULL)
				json_object_set(item, "value", json_object_get(x, "value"));
			if (from != NULL)
				json_object_set(item, "valueFrom", (json_t *)from);
			json_array_append_new(env, item);
		}
		o = json_pack("{ss sO* so* sO* sO* so sO*}", "name", name,
		    "image", json_object_get(c, "image"),
		    "digests", container_digests(evidence, name),
		    "command", json_object_get(c, "command"),
		    "args", json_object_get(c, "args"),
		    "env", env,
		    "envFrom", json_object_get(c, "envFrom"));
		if (o != NULL)
			json_array_append_new(out, o);
	}
	return out;
}

static json_t *
pods_json(const json_t *evidence)
{
	json_t *out = json_array(), *p;
	size_t i;

	json_array_foreach(json_object_get(evidence, "pods"), i, p) {
		json_t *o = json_pack("{sO* sO* sO* sO*}", "name", json_object_get(p, "name"),
		    "node", json_object_get(p, "node"), "phase", json_object_get(p, "phase"),
		    "restarts", json_object_get(p, "restarts"));

		if (o != NULL)
			json_array_append_new(out, o);
	}
	return out;
}

/* The evidence's pod whose synthetic name ("as") is `as`, for real pod and node names. */
static const json_t *
evidence_pod(const json_t *evidence, const json_t *as)
{
	const json_t *p;
	size_t i;

	if (!json_is_string(as))
		return NULL;
	json_array_foreach(json_object_get(evidence, "pods"), i, p)
		if (json_equal(json_object_get(p, "as"), as))
			return p;
	return NULL;
}

static json_t *
gpus_json(const json_t *snap, const json_t *evidence)
{
	json_t *out = json_array(), *p;
	size_t i;

	json_array_foreach(json_object_get(json_object_get(json_object_get(snap, "facts"), "hardware"),
	    "pods"), i, p) {
		const json_t *ep = evidence_pod(evidence, json_object_get(p, "pod"));
		json_t *o = json_pack("{sO* sO* sO* sO* sO* sO* sO*}",
		    "pod", ep != NULL ? json_object_get(ep, "name") : json_object_get(p, "pod"),
		    "node", ep != NULL ? json_object_get(ep, "node") : json_object_get(p, "node"),
		    "product", json_object_get(p, "gpu_product"),
		    "count", json_object_get(p, "gpu_count"), "memory_mib", json_object_get(p, "gpu_memory_mib"),
		    "driver", json_object_get(p, "driver"), "cuda", json_object_get(p, "cuda"));

		if (o != NULL)
			json_array_append_new(out, o);
	}
	return out;
}

/* Key figures of one metrics_extract() result: {name: value}. */
static const char *const key_figures[] = { "generation_tokens_per_s", "prompt_tokens_per_s",
	"request_rate", "e2e_latency_p99", "ttft_p99", "itl_p99" };
#define NKEY_FIGURES (sizeof(key_figures) / sizeof(key_figures[0]))

static json_t *
key_metrics_side(const json_t *m)
{
	json_t *out = json_object(), *g;
	const json_t *figs = json_object_get(m, "figures");
	double util = 0, mem = 0;
	size_t i, nu = 0, nm = 0;

	if (out == NULL || m == NULL)
		return out;
	for (i = 0; i < NKEY_FIGURES; i++) {
		const json_t *v = json_object_get(json_object_get(figs, key_figures[i]), "value");

		if (json_is_number(v))
			json_object_set(out, key_figures[i], (json_t *)v);
	}
	json_array_foreach(json_object_get(m, "gpus"), i, g) {
		const json_t *u = json_object_get(g, "utilization_percent");
		const json_t *f = json_object_get(g, "fb_used_mib");

		if (json_is_number(u)) {
			util += json_number_value(u);
			nu++;
		}
		if (json_is_number(f)) {
			mem += json_number_value(f);
			nm++;
		}
	}
	if (nu > 0)
		json_object_set_new(out, "gpu_utilization_percent_mean", json_real(util / (double)nu));
	if (nm > 0)
		json_object_set_new(out, "gpu_memory_used_mib_mean", json_real(mem / (double)nm));
	return out;
}

static json_t *
key_metrics(const json_t *metrics)
{
	const json_t *b, *c;

	if (metrics == NULL)
		return json_object();
	b = json_object_get(metrics, "baseline");
	c = json_object_get(metrics, "current");
	if (b == NULL && c == NULL)
		c = metrics;
	return json_pack("{so so}", "baseline", key_metrics_side(b), "current", key_metrics_side(c));
}

/* Evidence cut for the size cap: level 1 drops log lines, 2 events too, 3 all of it. */
static json_t *
evidence_cut(const json_t *ev, const char *side, int level, json_t *truncated)
{
	json_t *copy, *l;
	size_t i, n = 0;

	if (ev == NULL)
		return json_null();
	if (level >= 3) {
		json_array_append_new(truncated, json_pack("{ss ss}", "what", "evidence", "side", side));
		return json_null();
	}
	copy = json_deep_copy(ev);
	if (copy == NULL)
		return NULL;
	if (level >= 1) {
		json_array_foreach(json_object_get(copy, "logs"), i, l) {
			n += json_array_size(json_object_get(l, "lines"));
			json_object_set_new(l, "lines", json_array());
		}
		json_array_append_new(truncated, json_pack("{ss ss sI}", "what", "log lines", "side", side,
		    "dropped", (json_int_t)n));
	}
	if (level >= 2) {
		n = json_array_size(json_object_get(copy, "events"));
		json_object_set_new(copy, "events", json_array());
		json_array_append_new(truncated, json_pack("{ss ss sI}", "what", "events", "side", side,
		    "dropped", (json_int_t)n));
	}
	return copy;
}

struct redacted {
	json_t *baseline, *current, *bev, *cev, *diff, *metrics, *verdict;
};

static json_t *
bundle_doc(const struct bundle_input *in, const struct redacted *rd, const char *id,
    const char *created, int level)
{
	const json_t *target = json_object_get(rd->current, "target");
	const json_t *summary = json_object_get(rd->diff, "summary");
	json_t *truncated = json_array(), *doc;
	char marked[32] = "";

	if (in->baseline_marked_at != 0)
		rfc3339(in->baseline_marked_at, marked);
	doc = json_pack("{ss ss ss sO* s{ss* ss* ss* sb} s{ss*} s{so so} so so so* sO* s{sO* sO* sO*} "
	    "s{so so} so}",
	    "schema", BUNDLE_SCHEMA, "id", id, "created", created,
	    "target", target,
	    "baseline", "label", in->baseline_label, "marked_at", marked[0] != '\0' ? marked : NULL,
	    "note", in->baseline_note, "present", rd->baseline != NULL,
	    "current", "label", in->current_label,
	    "pods", "baseline", pods_json(rd->bev), "current", pods_json(rd->cev),
	    "containers", containers_json(rd->current, rd->cev),
	    "gpus", gpus_json(rd->current, rd->cev),
	    "metrics", key_metrics(rd->metrics),
	    "verdict", rd->verdict,
	    "diff", "changes", json_object_get(summary, "changes"),
	    "by_category", json_object_get(summary, "by_category"),
	    "by_severity", json_object_get(summary, "by_severity"),
	    "evidence", "baseline", evidence_cut(rd->bev, "baseline", level, truncated),
	    "current", evidence_cut(rd->cev, "current", level, truncated),
	    "truncated", truncated);
	return doc;
}

static int
summary_value(struct buf *b, const json_t *v, struct err *e)
{
	char num[64];

	if (json_is_string(v))
		return md_code(b, json_string_value(v), e);
	if (json_is_integer(v)) {
		snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(v));
		return buf_addstr(b, num, e);
	}
	if (json_is_real(v)) {
		snprintf(num, sizeof(num), "%.6g", json_real_value(v));
		return buf_addstr(b, num, e);
	}
	return buf_addstr(b, "—", e);
}

static int
summary_list(struct buf *b, const json_t *list, const char *sep, struct err *e)
{
	const json_t *x;
	size_t i;

	if (json_array_size(list) == 0)
		return buf_addstr(b, "—", e);
	json_array_foreach(list, i, x) {
		if ((i > 0 && buf_addstr(b, sep, e) != 0) || summary_value(b, x, e) != 0)
			return -1;
	}
	return 0;
}

static int
summary_md(const struct bundle_input *in, const struct redacted *rd, const json_t *doc,
    const json_t *diff, struct buf *b, struct err *e)
{
	static const char *const metric_labels[][2] = {
		{ "generation_tokens_per_s", "generation tokens/s" },
		{ "prompt_tokens_per_s", "prompt tokens/s" },
		{ "request_rate", "requests/s" },
		{ "e2e_latency_p99", "end-to-end latency p99 (s)" },
		{ "ttft_p99", "time to first token p99 (s)" },
		{ "itl_p99", "inter-token latency p99 (s)" },
		{ "gpu_utilization_percent_mean", "GPU utilisation (%, mean)" },
		{ "gpu_memory_used_mib_mean", "GPU memory used (MiB, mean)" },
	};
	const json_t *target = json_object_get(doc, "target"), *x, *c;
	const json_t *base = json_object_get(doc, "baseline");
	const json_t *km = json_object_get(doc, "metrics"), *verdict = json_object_get(doc, "verdict");
	struct render_opts ro = RENDER_OPTS_INIT;
	size_t i, j;
	int any;

	if (buf_addf(b, e, "# skewd evidence bundle `%s`\n\nCreated %s by skewd %s. Secret values are "
	    "replaced by `[REDACTED:N]` tokens (one token per value in this bundle, so the same secret on "
	    "both sides shows the same token); `redaction.json` says where and by which rule.\n\n"
	    "## Workload\n\n| | |\n| --- | --- |\n",
	    json_string_value(json_object_get(doc, "id")), json_string_value(json_object_get(doc, "created")),
	    SKEWD_VERSION) != 0)
		return -1;
	if (buf_addstr(b, "| cluster | ", e) != 0 || summary_value(b, json_object_get(target, "cluster"), e) != 0 ||
	    buf_addstr(b, " |\n| namespace | ", e) != 0 ||
	    summary_value(b, json_object_get(target, "namespace"), e) != 0 ||
	    buf_addstr(b, " |\n| workload | ", e) != 0 ||
	    summary_value(b, json_object_get(target, "kind"), e) != 0 || buf_addch(b, ' ', e) != 0 ||
	    summary_value(b, json_object_get(target, "name"), e) != 0 ||
	    buf_addstr(b, " |\n| current snapshot | ", e) != 0 ||
	    summary_value(b, json_object_get(json_object_get(doc, "current"), "label"), e) != 0 ||
	    buf_addstr(b, " |\n| last good | ", e) != 0)
		return -1;
	if (rd->baseline == NULL) {
		if (buf_addstr(b, "none marked", e) != 0)
			return -1;
	} else if (summary_value(b, json_object_get(base, "label"), e) != 0 ||
	    buf_addstr(b, ", marked ", e) != 0 ||
	    summary_value(b, json_object_get(base, "marked_at"), e) != 0 ||
	    (json_is_string(json_object_get(base, "note")) &&
	    (buf_addstr(b, ": ", e) != 0 || summary_value(b, json_object_get(base, "note"), e) != 0))) {
		return -1;
	}
	if (buf_addstr(b, " |\n\n### Pods (current)\n\n", e) != 0)
		return -1;
	any = 0;
	json_array_foreach(json_object_get(json_object_get(doc, "pods"), "current"), i, x) {
		if (i >= BUNDLE_MAX_PODS_LISTED) {
			if (buf_addf(b, e, "- … and %zu more (bundle.json lists all)\n",
			    json_array_size(json_object_get(json_object_get(doc, "pods"), "current")) - i) != 0)
				return -1;
			break;
		}
		any = 1;
		if (buf_addstr(b, "- ", e) != 0 || summary_value(b, json_object_get(x, "name"), e) != 0 ||
		    buf_addstr(b, " on ", e) != 0 || summary_value(b, json_object_get(x, "node"), e) != 0 ||
		    buf_addstr(b, ", ", e) != 0 || summary_value(b, json_object_get(x, "phase"), e) != 0 ||
		    buf_addstr(b, ", restarts ", e) != 0 ||
		    summary_value(b, json_object_get(x, "restarts"), e) != 0 || buf_addch(b, '\n', e) != 0)
			return -1;
	}
	if (!any && buf_addstr(b, "No pod evidence.\n", e) != 0)
		return -1;
	if (buf_addstr(b, "\n## Containers\n", e) != 0)
		return -1;
	json_array_foreach(json_object_get(doc, "containers"), i, c) {
		if (buf_addstr(b, "\n### ", e) != 0 || summary_value(b, json_object_get(c, "name"), e) != 0 ||
		    buf_addstr(b, "\n\n- image: ", e) != 0 || summary_value(b, json_object_get(c, "image"), e) != 0 ||
		    buf_addstr(b, "\n- digests: ", e) != 0 || summary_list(b, json_object_get(c, "digests"), ", ", e) != 0 ||
		    buf_addstr(b, "\n- command: ", e) != 0 || summary_list(b, json_object_get(c, "command"), " ", e) != 0 ||
		    buf_addstr(b, "\n- args: ", e) != 0 || summary_list(b, json_object_get(c, "args"), " ", e) != 0 ||
		    buf_addstr(b, "\n\n| env | value |\n| --- | --- |\n", e) != 0)
			return -1;
		json_array_foreach(json_object_get(c, "env"), j, x) {
			const json_t *from = json_object_get(x, "valueFrom");
			char *fs = NULL;
			int rc;

			if (j >= BUNDLE_MAX_ENV_LISTED)
				break;
			if (buf_addstr(b, "| ", e) != 0 || summary_value(b, json_object_get(x, "name"), e) != 0 ||
			    buf_addstr(b, " | ", e) != 0)
				return -1;
			if (from != NULL) {
				fs = json_dumps(from, JSON_COMPACT | JSON_SORT_KEYS);
				rc = buf_addstr(b, "from ", e) != 0 || md_code(b, fs != NULL ? fs : "?", e) != 0;
				free(fs);
			} else {
				rc = summary_value(b, json_object_get(x, "value"), e);
			}
			if (rc != 0 || buf_addstr(b, " |\n", e) != 0)
				return -1;
		}
	}
	if (buf_addstr(b, "\n## GPUs\n\n| pod | node | GPU | count | memory (MiB) | driver | CUDA |\n"
	    "| --- | --- | --- | --- | --- | --- | --- |\n", e) != 0)
		return -1;
	json_array_foreach(json_object_get(doc, "gpus"), i, x) {
		static const char *const cols[] = { "pod", "node", "product", "count", "memory_mib", "driver",
			"cuda" };

		for (j = 0; j < 7; j++)
			if (buf_addstr(b, "| ", e) != 0 || summary_value(b, json_object_get(x, cols[j]), e) != 0 ||
			    buf_addch(b, ' ', e) != 0)
				return -1;
		if (buf_addstr(b, "|\n", e) != 0)
			return -1;
	}
	if (buf_addstr(b, "\n## Key metrics\n\n", e) != 0)
		return -1;
	any = 0;
	for (i = 0; i < sizeof(metric_labels) / sizeof(metric_labels[0]); i++) {
		const json_t *bv = json_object_get(json_object_get(km, "baseline"), metric_labels[i][0]);
		const json_t *cv = json_object_get(json_object_get(km, "current"), metric_labels[i][0]);

		if (bv == NULL && cv == NULL)
			continue;
		if (!any && buf_addstr(b, "| figure | last good | current |\n| --- | --- | --- |\n", e) != 0)
			return -1;
		any = 1;
		if (buf_addf(b, e, "| %s | ", metric_labels[i][1]) != 0 || summary_value(b, bv, e) != 0 ||
		    buf_addstr(b, " | ", e) != 0 || summary_value(b, cv, e) != 0 || buf_addstr(b, " |\n", e) != 0)
			return -1;
	}
	if (!any && buf_addstr(b, "No metrics were given.\n", e) != 0)
		return -1;
	if (verdict != NULL && !json_is_null(verdict)) {
		if (buf_addstr(b, "\n## Verdict\n\n", e) != 0 ||
		    summary_value(b, json_object_get(verdict, "verdict"), e) != 0 || buf_addstr(b, "\n\n", e) != 0)
			return -1;
		json_array_foreach(json_object_get(verdict, "reasons"), i, x)
			if (buf_addstr(b, "- ", e) != 0 || md_code(b, str_or(x, ""), e) != 0 ||
			    buf_addch(b, '\n', e) != 0)
				return -1;
	}
	if (buf_addstr(b, "\n## Diff vs last good\n\n", e) != 0)
		return -1;
	if (rd->baseline == NULL) {
		if (buf_addstr(b, "No last good snapshot is marked for this workload, so there is nothing to "
		    "compare with.\n", e) != 0)
			return -1;
	} else {
		ro.label_before = in->baseline_label != NULL ? in->baseline_label : "last good";
		ro.label_after = in->current_label != NULL ? in->current_label : "current";
		if (render_markdown(diff, &ro, b, e) != 0)
			return err_prefix(e, "rendering the diff");
	}
	json_array_foreach(json_object_get(doc, "truncated"), i, x) {
		if (i == 0 && buf_addstr(b, "\n## Cut to fit the size cap\n\n", e) != 0)
			return -1;
		if (buf_addstr(b, "- ", e) != 0 || summary_value(b, json_object_get(x, "what"), e) != 0 ||
		    buf_addstr(b, " of ", e) != 0 || summary_value(b, json_object_get(x, "side"), e) != 0 ||
		    buf_addch(b, '\n', e) != 0)
			return -1;
	}
	return 0;
}

static int
json_file(const json_t *v, struct buf *b, struct err *e)
{
	char *s = json_dumps(v, JSON_INDENT(2) | JSON_ENCODE_ANY);
	int rc;

	if (s == NULL)
		return err_set(e, ERR_NOMEM, "out of memory writing JSON");
	rc = buf_addstr(b, s, e) != 0 || buf_addch(b, '\n', e) != 0 ? -1 : 0;
	free(s);
	return rc;
}

/* The normalised side of a redacted snapshot (an empty list when there is none). */
static int
normalised(const json_t *snap, const char *label, json_t **out, struct err *e)
{
	struct diff_side *s = NULL;
	json_t *doc = (json_t *)snap;

	*out = NULL;
	if (snap == NULL) {
		*out = json_array();
		return *out != NULL ? 0 : err_set(e, ERR_NOMEM, "out of memory");
	}
	if (diff_side_from_values(&doc, 1, label, &s, e) != 0)
		return err_prefix(e, "reading the %s snapshot", label);
	*out = diff_side_normalised(s);
	diff_side_free(s);
	return *out != NULL ? 0 : err_set(e, ERR_NOMEM, "out of memory");
}

/* The diff of the redacted sides, when the caller gave none. */
static int
run_diff(const json_t *b, const json_t *c, json_t **out, struct err *e)
{
	struct diff_rules *rules = NULL;
	struct diff_side *sb = NULL, *sc = NULL;
	struct diff_result *res = NULL;
	json_t *empty = NULL, *bd = (json_t *)b, *cd = (json_t *)c;
	int ret = -1;

	*out = NULL;
	if (diff_rules_load(NULL, &rules, e) != 0 ||
	    (b != NULL ? diff_side_from_values(&bd, 1, "baseline", &sb, e) :
	    diff_side_from_values(&empty, 0, "baseline", &sb, e)) != 0 ||
	    diff_side_from_values(&cd, 1, "current", &sc, e) != 0 ||
	    diff_run(rules, sb, sc, &res, e) != 0)
		goto out;
	*out = diff_result_to_json(res);
	if (*out == NULL) {
		err_set(e, ERR_NOMEM, "out of memory");
		goto out;
	}
	ret = 0;
out:
	diff_result_free(res);
	diff_side_free(sc);
	diff_side_free(sb);
	diff_rules_free(rules);
	return ret;
}

struct sink {
	int fd;
	EVP_MD_CTX *md;
	size_t bytes;
};

static la_ssize_t
sink_write(struct archive *a, void *data, const void *buf, size_t n)
{
	struct sink *s = data;
	size_t done = 0;

	while (done < n) {
		ssize_t w = write(s->fd, (const char *)buf + done, n - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			archive_set_error(a, w < 0 ? errno : EIO, "write failed");
			return -1;
		}
		done += (size_t)w;
	}
	if (EVP_DigestUpdate(s->md, buf, n) != 1) {
		archive_set_error(a, EIO, "sha-256 failed");
		return -1;
	}
	s->bytes += n;
	return (la_ssize_t)n;
}

static int
write_archive(int fd, const char *id, time_t created, struct buf files[BUNDLE_NFILES],
    char sha[65], size_t *bytes, struct err *e)
{
	struct archive *a = NULL;
	struct archive_entry *ent = NULL;
	struct sink s = { fd, NULL, 0 };
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0, i;
	char path[64];
	int ret = -1;

	s.md = EVP_MD_CTX_new();
	a = archive_write_new();
	if (s.md == NULL || a == NULL || EVP_DigestInit_ex(s.md, EVP_sha256(), NULL) != 1) {
		err_set(e, ERR_NOMEM, "out of memory writing a bundle");
		goto out;
	}
	if (archive_write_add_filter_gzip(a) != ARCHIVE_OK ||
	    archive_write_set_filter_option(a, "gzip", "timestamp", NULL) != ARCHIVE_OK ||
	    archive_write_set_format_ustar(a) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK ||
	    archive_write_open2(a, &s, NULL, sink_write, NULL, NULL) != ARCHIVE_OK) {
		err_set(e, ERR_IO, "starting the bundle archive: %s", archive_error_string(a));
		goto out;
	}
	for (i = 0; i < BUNDLE_NFILES; i++) {
		size_t n = buf_len(&files[i]);

		ent = archive_entry_new();
		if (ent == NULL) {
			err_set(e, ERR_NOMEM, "out of memory writing a bundle");
			goto out;
		}
		snprintf(path, sizeof(path), "skewd-bundle-%s/%s", id, file_names[i]);
		archive_entry_set_pathname(ent, path);
		archive_entry_set_filetype(ent, AE_IFREG);
		archive_entry_set_perm(ent, 0644);
		archive_entry_set_size(ent, (la_int64_t)n);
		archive_entry_set_mtime(ent, created, 0);
		archive_entry_set_uid(ent, 0);
		archive_entry_set_gid(ent, 0);
		if (archive_write_header(a, ent) != ARCHIVE_OK ||
		    (n > 0 && archive_write_data(a, buf_str(&files[i]), n) != (la_ssize_t)n)) {
			err_set(e, ERR_IO, "writing '%s' into the bundle: %s", file_names[i],
			    archive_error_string(a));
			goto out;
		}
		archive_entry_free(ent);
		ent = NULL;
	}
	if (archive_write_close(a) != ARCHIVE_OK) {
		err_set(e, ERR_IO, "finishing the bundle archive: %s", archive_error_string(a));
		goto out;
	}
	if (EVP_DigestFinal_ex(s.md, md, &mdlen) != 1) {
		err_set(e, ERR_INTERNAL, "sha-256 of the bundle failed");
		goto out;
	}
	for (i = 0; i < mdlen && i < 32; i++)
		snprintf(sha + 2 * i, 3, "%02x", md[i]);
	*bytes = s.bytes;
	ret = 0;
out:
	archive_entry_free(ent);
	if (a != NULL)
		archive_write_free(a);
	EVP_MD_CTX_free(s.md);
	return ret;
}

/* Builds every file at a cut level; *total is the sum of their sizes. */
static int
build_files(const struct bundle_input *in, const struct redacted *rd, const json_t *report,
    const char *id, const char *created, int level, struct buf files[BUNDLE_NFILES],
    const struct buf *patch, size_t *total, json_t **doc_out, struct err *e)
{
	json_t *doc = NULL, *mj = NULL;
	char hex[65];
	int i, ret = -1;

	for (i = 0; i < BUNDLE_NFILES; i++)
		buf_release(&files[i]);
	doc = bundle_doc(in, rd, id, created, level);
	mj = json_pack("{sO* sO*}", "metrics", rd->metrics, "verdict", rd->verdict);
	if (doc == NULL || mj == NULL) {
		err_set(e, ERR_NOMEM, "out of memory building a bundle");
		goto out;
	}
	if (summary_md(in, rd, doc, rd->diff, &files[F_SUMMARY], e) != 0 ||
	    json_file(doc, &files[F_BUNDLE], e) != 0 ||
	    render_json(rd->diff, &files[F_DIFF], e) != 0 ||
	    (buf_len(patch) > 0 && buf_add(&files[F_PATCH], buf_str(patch), buf_len(patch), e) != 0) ||
	    json_file(mj, &files[F_METRICS], e) != 0 ||
	    json_file(report, &files[F_REDACTION], e) != 0)
		goto out;
	if (rd->baseline != NULL) {
		if (doc_emit_yaml(rd->baseline, &files[F_BASELINE], e) != 0)
			goto out;
	} else if (buf_addstr(&files[F_BASELINE], "# no last good snapshot is marked for this workload\n",
	    e) != 0) {
		goto out;
	}
	if (doc_emit_yaml(rd->current, &files[F_CURRENT], e) != 0)
		goto out;
	*total = 0;
	for (i = 0; i < F_MANIFEST; i++) {
		doc_sha256_hex(buf_str(&files[i]), buf_len(&files[i]), hex);
		if (buf_addf(&files[F_MANIFEST], e, "%s  %s\n", hex, file_names[i]) != 0)
			goto out;
		*total += buf_len(&files[i]);
	}
	*total += buf_len(&files[F_MANIFEST]);
	*doc_out = doc;
	doc = NULL;
	ret = 0;
out:
	json_decref(mj);
	json_decref(doc);
	return ret;
}

static int
redact_inputs(struct redact *r, const struct bundle_input *in, struct redacted *rd, struct err *e)
{
	const json_t *all[] = { in->baseline, in->current, in->baseline_evidence, in->current_evidence,
		in->diff, in->metrics, in->verdict };
	size_t i;

	/* First learn every secret value, so that one repeated in a log line or an
	 * event message before its Secret is walked is still masked. */
	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (all[i] != NULL && redact_learn(r, all[i], e) != 0)
			return -1;
	if ((in->baseline != NULL && redact_json(r, in->baseline, "baseline.yaml", &rd->baseline, e) != 0) ||
	    redact_json(r, in->current, "current.yaml", &rd->current, e) != 0 ||
	    (in->baseline_evidence != NULL &&
	    redact_json(r, in->baseline_evidence, "bundle.json#/evidence/baseline", &rd->bev, e) != 0) ||
	    (in->current_evidence != NULL &&
	    redact_json(r, in->current_evidence, "bundle.json#/evidence/current", &rd->cev, e) != 0) ||
	    (in->metrics != NULL && redact_json(r, in->metrics, "metrics.json#/metrics", &rd->metrics, e) != 0) ||
	    (in->verdict != NULL && redact_json(r, in->verdict, "metrics.json#/verdict", &rd->verdict, e) != 0))
		return -1;
	if (in->diff != NULL)
		return redact_json(r, in->diff, "diff.json", &rd->diff, e);
	/* The sides are redacted already; the diff of them holds tokens only. Redacting
	 * it again finds the secret-named paths whose values are tokens (kept as they are). */
	{
		json_t *d = NULL;
		int rc;

		if (run_diff(rd->baseline, rd->current, &d, e) != 0)
			return -1;
		rc = redact_json(r, d, "diff.json", &rd->diff, e);
		json_decref(d);
		return rc;
	}
}

int
bundle_write(const struct bundle_input *in, const char *dir, json_t **meta, struct err *e)
{
	struct redact *r = NULL;
	struct redacted rd = { NULL, NULL, NULL, NULL, NULL, NULL, NULL };
	struct buf files[BUNDLE_NFILES];
	struct buf patch = BUF_INIT(RENDER_MAX_BYTES);
	json_t *nb = NULL, *nc = NULL, *report = NULL, *doc = NULL, *list = NULL;
	char id[BUNDLE_ID_CHARS + 1], created[32], tmp[96], final[96], sha[65] = "";
	size_t total = 0, bytes = 0, cap = in->max_bytes != 0 ? in->max_bytes : BUNDLE_MAX_BYTES;
	time_t now = in->created != 0 ? in->created : time(NULL);
	int dfd = -1, fd = -1, level, i, ret = -1;

	*meta = NULL;
	for (i = 0; i < BUNDLE_NFILES; i++)
		buf_init(&files[i], RENDER_MAX_BYTES);
	if (in->current == NULL) {
		err_set(e, ERR_INVALID, "a bundle needs the current snapshot");
		goto out;
	}
	if (bundle_id_new(id, e) != 0 || redact_new(&r, e) != 0 || redact_inputs(r, in, &rd, e) != 0)
		goto out;
	rfc3339(now, created);
	if (normalised(rd.baseline, "baseline", &nb, e) != 0 || normalised(rd.current, "current", &nc, e) != 0 ||
	    render_patch(nb, nc, "baseline.yaml", "current.yaml", &patch, e) != 0)
		goto out;
	report = redact_report(r);
	if (report == NULL) {
		err_set(e, ERR_NOMEM, "out of memory building a bundle");
		goto out;
	}
	for (level = 0; level <= 3; level++) {
		json_decref(doc);
		doc = NULL;
		if (build_files(in, &rd, report, id, created, level, files, &patch, &total, &doc, e) != 0)
			goto out;
		if (total <= cap)
			break;
	}
	if (total > cap) {
		err_set(e, ERR_TOO_LARGE, "bundle files are %zu bytes without evidence, over the cap of %zu",
		    total, cap);
		goto out;
	}
	snprintf(tmp, sizeof(tmp), ".skewd-bundle-%s.tar.gz.tmp", id);
	snprintf(final, sizeof(final), "skewd-bundle-%s.tar.gz", id);
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		err_set(e, ERR_IO, "opening bundle folder '%s': %s", dir, strerror(errno));
		goto out;
	}
	fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0) {
		err_set(e, ERR_IO, "creating a bundle in '%s': %s", dir, strerror(errno));
		goto out;
	}
	if (write_archive(fd, id, now, files, sha, &bytes, e) != 0)
		goto out;
	if (fsync(fd) != 0) {
		err_set(e, ERR_IO, "syncing bundle '%s': %s", tmp, strerror(errno));
		goto out;
	}
	i = close(fd);
	fd = -1;
	if (i != 0) {
		err_set(e, ERR_IO, "closing bundle '%s': %s", tmp, strerror(errno));
		goto out;
	}
	if (renameat2(dfd, tmp, dfd, final, RENAME_NOREPLACE) != 0) {
		err_set(e, ERR_IO, "renaming bundle into '%s': %s", final, strerror(errno));
		goto out;
	}
	if (fsync(dfd) != 0) {
		/* The file is complete under its name; only its durability is in doubt. */
		err_set(e, ERR_IO, "syncing bundle folder '%s': %s", dir, strerror(errno));
		unlinkat(dfd, final, 0);
		goto out;
	}
	list = json_array();
	for (i = 0; list != NULL && i < BUNDLE_NFILES; i++) {
		char hex[65];

		doc_sha256_hex(buf_str(&files[i]), buf_len(&files[i]), hex);
		json_array_append_new(list, json_pack("{ss sI ss}", "name", file_names[i],
		    "bytes", (json_int_t)buf_len(&files[i]), "sha256", hex));
	}
	*meta = json_pack("{ss ss sI ss ss so sO sI}", "id", id, "file", final, "bytes", (json_int_t)bytes,
	    "sha256", sha, "created", created, "files", list,
	    "truncated", json_object_get(doc, "truncated"),
	    "redactions", (json_int_t)redact_value_count(r));
	list = NULL;
	if (*meta == NULL) {
		err_set(e, ERR_NOMEM, "out of memory describing bundle '%s'", id);
		goto out;
	}
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	if (ret != 0 && dfd >= 0)
		unlinkat(dfd, tmp, 0);
	if (dfd >= 0)
		close(dfd);
	json_decref(list);
	json_decref(doc);
	json_decref(report);
	json_decref(nb);
	json_decref(nc);
	json_decref(rd.baseline);
	json_decref(rd.current);
	json_decref(rd.bev);
	json_decref(rd.cev);
	json_decref(rd.diff);
	json_decref(rd.metrics);
	json_decref(rd.verdict);
	buf_release(&patch);
	for (i = 0; i < BUNDLE_NFILES; i++)
		buf_release(&files[i]);
	redact_free(r);
	return ret;
}
