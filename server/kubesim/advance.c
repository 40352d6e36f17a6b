/*
 * advance.c - counters that advance between scrapes of the pod proxy.
 *
 * A state folder holds one /metrics text per pod; a live engine's counters
 * grow between two scrapes. With kubesim_options.advance_metrics, the n-th
 * answer for one pod-proxy metrics path has the value of every counter
 * sample and of every histogram and summary _bucket, _sum and _count sample
 * multiplied by n (the first answer is the file as it is). Multiplying a
 * whole histogram keeps its buckets cumulative, so the window between two
 * scrapes holds exactly the file's observations, and its quantiles are the
 * file's. Gauges, quantile samples, comments and timestamps are kept.
 * KUBESIM_ADVANCE_PER_SECOND uses 1 + the seconds since kubesim started
 * instead of n (`skewd demo`): the window between two scrapes then holds the
 * file's observations once per second, so rates do not depend on how often
 * the collector polls.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kubesim/kubesim_int.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/banned.h"

/* 1 when a "# TYPE" line names a family whose samples advance. */
static int
type_advances(const char *line, size_t len, char *family, size_t famsz)
{
	const char *p = line + 7, *end = line + len, *sp;
	size_t n;

	sp = memchr(p, ' ', (size_t)(end - p));
	if (sp == NULL)
		return 0;
	n = (size_t)(sp - p);
	if (n + 1 > famsz)
		return 0;
	memcpy(family, p, n);
	family[n] = '\0';
	sp++;
	return (end - sp >= 7 && strncmp(sp, "counter", 7) == 0) ||
	    (end - sp >= 9 && strncmp(sp, "histogram", 9) == 0) ||
	    (end - sp >= 7 && strncmp(sp, "summary", 7) == 0);
}

/* The end of the sample name and label set of a sample line (the space before the value),
 * or NULL. Label values may hold spaces, braces and escaped quotes. */
static const char *
value_start(const char *line, const char *end)
{
	const char *p = line;
	int in_labels = 0, in_quote = 0;

	for (; p < end; p++) {
		if (in_quote) {
			if (*p == '\\')
				p++;
			else if (*p == '"')
				in_quote = 0;
		} else if (in_labels) {
			if (*p == '"')
				in_quote = 1;
			else if (*p == '}')
				in_labels = 0;
		} else if (*p == '{') {
			in_labels = 1;
		} else if (*p == ' ') {
			return p;
		}
	}
	return NULL;
}

static int
sample_advances(const char *name, size_t n, const char *family, int quantile_label)
{
	size_t fl = strlen(family);

	if (family[0] == '\0' || n < fl || strncmp(name, family, fl) != 0)
		return 0;
	if (n == fl)
		return !quantile_label;  /* a summary's quantile samples are not counts */
	name += fl;
	n -= fl;
	return (n == 7 && strncmp(name, "_bucket", 7) == 0) || (n == 4 && strncmp(name, "_sum", 4) == 0) ||
	    (n == 6 && strncmp(name, "_count", 6) == 0) || (n == 6 && strncmp(name, "_total", 6) == 0);
}

int
ks_metrics_advance(struct buf *body, double n, struct err *e)
{
	struct buf out;
	const char *s = buf_str(body), *end = s + buf_len(body);
	char family[512] = "";
	int advancing = 0, ret = -1;

	if (!(n > 1))
		return 0;
	buf_init(&out, KUBESIM_MAX_FILE_BYTES * 2);
	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		const char *le = nl != NULL ? nl : end, *vs, *ve, *ne;
		size_t len = (size_t)(le - s);

		if (len > 7 && strncmp(s, "# TYPE ", 7) == 0) {
			advancing = type_advances(s, len, family, sizeof(family));
		} else if (len > 0 && s[0] != '#' && advancing && (vs = value_start(s, le)) != NULL) {
			char num[64], *stop;
			double v;
			size_t vl;

			ne = memchr(s, '{', (size_t)(vs - s));
			if (ne == NULL)
				ne = vs;
			for (ve = vs + 1; ve < le && *ve != ' '; ve++)
				;
			vl = (size_t)(ve - vs - 1);
			if (sample_advances(s, (size_t)(ne - s), family,
			    memmem(ne, (size_t)(vs - ne), "quantile=\"", 10) != NULL) && vl > 0 &&
			    vl < sizeof(num)) {
				memcpy(num, vs + 1, vl);
				num[vl] = '\0';
				v = strtod(num, &stop);
				if (*stop == '\0' && isfinite(v)) {
					if (buf_add(&out, s, (size_t)(vs + 1 - s), e) != 0 ||
					    buf_addf(&out, e, "%.17g", v * n) != 0 ||
					    buf_add(&out, ve, (size_t)(le - ve), e) != 0 ||
					    (nl != NULL && buf_addch(&out, '\n', e) != 0))
						goto out;
					s = nl != NULL ? nl + 1 : end;
					continue;
				}
			}
		}
		if (buf_add(&out, s, len, e) != 0 || (nl != NULL && buf_addch(&out, '\n', e) != 0))
			goto out;
		s = nl != NULL ? nl + 1 : end;
	}
	buf_release(body);
	*body = out;
	buf_init(&out, 0);
	ret = 0;
out:
	buf_release(&out);
	return ret;
}
