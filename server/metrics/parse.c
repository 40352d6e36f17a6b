/*
 * parse.c - the Prometheus text format 0.0.4 and OpenMetrics 1.0 text parser.
 *
 * One pass over the lines. Each line is checked against the per-field limits
 * while it is read, so a huge label value fails at the label limit; the
 * per-scrape limits (bytes, series, families) are checked as things are
 * added. Work and memory are linear in the input.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "metrics/metrics_int.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/limits.h"
#include "util/banned.h"

/* A label read from a line; name and value point into the scratch space. */
struct plabel {
	const char *name;
	size_t name_len;
	const char *value;
	size_t value_len;
};

struct parser {
	struct metrics_set *set;
	enum metrics_format format;
	const char *line;            /* current line, without its end of line */
	size_t len;
	size_t pos;
	size_t lineno;
	struct metrics_family *current;
	char *scratch;               /* unescaped label names and values of one line */
	size_t scratch_len;
	struct plabel labels[METRICS_MAX_LABELS];
	size_t nlabels;
	struct err *e;
};

/* Sets a "LINE:COLUMN: reason" error at byte `pos` of the current line; returns -1. */
__attribute__((format(printf, 4, 5)))
static int
perr(struct parser *p, enum err_code code, size_t pos, const char *fmt, ...)
{
	char msg[ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return err_set(p->e, code, "%zu:%zu: %s", p->lineno, pos + 1, msg);
}

/* A raw token made safe to quote in a message: at most 64 bytes, printable ASCII, others '?'. */
static const char *
token_quote(char *dst, size_t size, const char *s, size_t n)
{
	size_t i;

	if (n > 64)
		n = 64;
	if (n >= size)
		n = size - 1;
	for (i = 0; i < n; i++)
		dst[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	dst[n] = '\0';
	return dst;
}

static int
is_name_start(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
}

static int
is_name_char(int c)
{
	return is_name_start(c) || (c >= '0' && c <= '9');
}

static int
is_blank(int c)
{
	return c == ' ' || c == '\t';
}

static void
skip_blanks(struct parser *p)
{
	while (p->pos < p->len && is_blank(p->line[p->pos]))
		p->pos++;
}

/* Length of the valid UTF-8 prefix of p[0..n). */
static size_t
utf8_valid_prefix(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned c = s[i];
		size_t k, need;
		unsigned cp;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			need = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			need = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			need = 3;
			cp = c & 0x07;
		} else {
			return i;
		}
		if (i + need >= n)
			return i;
		for (k = 1; k <= need; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return i;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if ((need == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
		    (need == 3 && (cp < 0x10000 || cp > 0x10ffff)))
			return i;
		i += need + 1;
	}
	return i;
}

int
metrics_parse_float(const char *s, size_t n, double *out)
{
	char tmp[128];
	char *end = NULL;
	size_t i, digits = 0;
	const char *v = s;
	size_t vn = n;

	if (n == 0 || n >= sizeof(tmp))
		return -1;
	if (*v == '+' || *v == '-') {
		v++;
		vn--;
	}
	if ((vn == 3 && strncasecmp(v, "inf", 3) == 0) ||
	    (vn == 8 && strncasecmp(v, "infinity", 8) == 0)) {
		*out = s[0] == '-' ? -INFINITY : INFINITY;
		return 0;
	}
	if (vn == 3 && strncasecmp(v, "nan", 3) == 0 && v == s) {
		*out = NAN;
		return 0;
	}
	/* Only decimal notation: strtod alone would also take hex floats and "nan(...)". */
	for (i = 0; i < n; i++) {
		char c = s[i];
		if (c >= '0' && c <= '9')
			digits++;
		else if (c != '.' && c != 'e' && c != 'E' && c != '+' && c != '-')
			return -1;
	}
	if (digits == 0)
		return -1;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	errno = 0;
	*out = strtod(tmp, &end);
	if (end != tmp + n)
		return -1;
	/* Overflow to +-Inf is kept as Go's ParseFloat would not: refuse it. */
	if (errno == ERANGE && isinf(*out))
		return -1;
	return 0;
}

/* Reads a metric name at the cursor; 0 with *len > 0, or -1 with the error set. */
static int
read_name(struct parser *p, int metric, size_t *start, size_t *len)
{
	size_t s = p->pos;

	if (p->pos >= p->len || !(metric ? is_name_start(p->line[p->pos]) :
	    (is_name_start(p->line[p->pos]) && p->line[p->pos] != ':')))
		return perr(p, ERR_INVALID, p->pos, "expected a %s name",
			metric ? "metric" : "label");
	while (p->pos < p->len && (metric ? is_name_char(p->line[p->pos]) :
	    (is_name_char(p->line[p->pos]) && p->line[p->pos] != ':')))
		p->pos++;
	if (p->pos - s > METRICS_MAX_NAME_BYTES)
		return perr(p, ERR_TOO_LARGE, s, "%s name longer than %d bytes",
			metric ? "metric" : "label", METRICS_MAX_NAME_BYTES);
	*start = s;
	*len = p->pos - s;
	return 0;
}

/* Appends to the scratch space; the caller checked nothing, so this checks the line limit. */
static int
scratch_put(struct parser *p, const char *s, size_t n, size_t pos)
{
	if (p->scratch_len + n + 1 > METRICS_MAX_LINE_BYTES + 1)
		return perr(p, ERR_TOO_LARGE, pos, "line longer than %d bytes",
			METRICS_MAX_LINE_BYTES);
	memcpy(p->scratch + p->scratch_len, s, n);
	p->scratch_len += n;
	return 0;
}

/*
 * Reads a label set at the cursor (which is on '{') into p->labels; `keep` false reads an
 * exemplar's labels only for syntax. Escapes: \\, \" and \n; anything else is an error.
 */
static int
read_labels(struct parser *p, int keep)
{
	size_t start = p->pos, ns, nl, i;

	p->pos++; /* '{' */
	if (keep)
		p->nlabels = 0;
	for (;;) {
		struct plabel *l;
		size_t vstart, vbad;

		skip_blanks(p);
		if (p->pos >= p->len)
			return perr(p, ERR_INVALID, p->pos, "unterminated label set opened at column %zu",
				start + 1);
		if (p->line[p->pos] == '}') {
			p->pos++;
			return 0;
		}
		if (read_name(p, 0, &ns, &nl) < 0)
			return -1;
		if (keep) {
			if (p->nlabels >= METRICS_MAX_LABELS)
				return perr(p, ERR_TOO_LARGE, ns, "more than %d labels",
					METRICS_MAX_LABELS);
			for (i = 0; i < p->nlabels; i++)
				if (p->labels[i].name_len == nl &&
				    memcmp(p->labels[i].name, p->line + ns, nl) == 0)
					return perr(p, ERR_INVALID, ns, "duplicate label name '%.*s'",
						(int)nl, p->line + ns);
			l = &p->labels[p->nlabels];
			l->name = p->scratch + p->scratch_len;
			l->name_len = nl;
			if (scratch_put(p, p->line + ns, nl, ns) < 0 || scratch_put(p, "", 1, ns) < 0)
				return -1;
		}
		skip_blanks(p);
		if (p->pos >= p->len)
			return perr(p, ERR_INVALID, p->pos, "unterminated label set opened at column %zu",
				start + 1);
		if (p->line[p->pos] != '=')
			return perr(p, ERR_INVALID, p->pos, "expected '=' after label name '%.*s'",
				(int)nl, p->line + ns);
		p->pos++;
		skip_blanks(p);
		if (p->pos >= p->len || p->line[p->pos] != '"')
			return perr(p, ERR_INVALID, p->pos, "expected '\"' to open the value of label '%.*s'",
				(int)nl, p->line + ns);
		p->pos++;
		vstart = p->scratch_len;
		for (;;) {
			size_t run = p->pos;
			char c;

			while (p->pos < p->len && p->line[p->pos] != '"' && p->line[p->pos] != '\\')
				p->pos++;
			if (p->pos - run > METRICS_MAX_LABEL_VALUE_BYTES ||
			    p->scratch_len - vstart + (p->pos - run) > METRICS_MAX_LABEL_VALUE_BYTES)
				return perr(p, ERR_TOO_LARGE, run, "value of label '%.*s' longer than %d bytes",
					(int)nl, p->line + ns, METRICS_MAX_LABEL_VALUE_BYTES);
			if (keep && scratch_put(p, p->line + run, p->pos - run, run) < 0)
				return -1;
			if (p->pos >= p->len)
				return perr(p, ERR_INVALID, p->pos, "unterminated value of label '%.*s'",
					(int)nl, p->line + ns);
			if (p->line[p->pos] == '"') {
				p->pos++;
				break;
			}
			/* A backslash. */
			if (p->pos + 1 >= p->len)
				return perr(p, ERR_INVALID, p->pos, "unterminated value of label '%.*s'",
					(int)nl, p->line + ns);
			c = p->line[p->pos + 1];
			if (c == 'n')
				c = '\n';
			else if (c != '\\' && c != '"')
				return perr(p, ERR_INVALID, p->pos, "invalid escape '\\%c' in value of label '%.*s'",
					c >= 0x20 && c < 0x7f ? c : '?', (int)nl, p->line + ns);
			if (keep && scratch_put(p, &c, 1, p->pos) < 0)
				return -1;
			p->pos += 2;
		}
		if (keep) {
			l = &p->labels[p->nlabels];
			l->value = p->scratch + vstart;
			l->value_len = p->scratch_len - vstart;
			if (l->value_len > METRICS_MAX_LABEL_VALUE_BYTES)
				return perr(p, ERR_TOO_LARGE, ns, "value of label '%.*s' longer than %d bytes",
					(int)nl, p->line + ns, METRICS_MAX_LABEL_VALUE_BYTES);
			vbad = utf8_valid_prefix((const unsigned char *)l->value, l->value_len);
			if (vbad != l->value_len)
				return perr(p, ERR_INVALID, ns, "value of label '%.*s' is not valid UTF-8 (byte %zu)",
					(int)nl, p->line + ns, vbad + 1);
			if (scratch_put(p, "", 1, p->pos) < 0)
				return -1;
			p->nlabels++;
		}
		skip_blanks(p);
		if (p->pos >= p->len)
			return perr(p, ERR_INVALID, p->pos, "unterminated label set opened at column %zu",
				start + 1);
		if (p->line[p->pos] == ',') {
			p->pos++;
			continue;
		}
		if (p->line[p->pos] != '}')
			return perr(p, ERR_INVALID, p->pos, "expected ',' or '}' after a label value");
	}
}

/* Reads a blank-separated token at the cursor. */
static void
read_token(struct parser *p, size_t *start, size_t *len)
{
	*start = p->pos;
	while (p->pos < p->len && !is_blank(p->line[p->pos]))
		p->pos++;
	*len = p->pos - *start;
}

static int
read_timestamp(struct parser *p, int64_t *ms)
{
	size_t ts, tl, i;
	double v;
	char q[72];

	read_token(p, &ts, &tl);
	if (p->format == METRICS_FORMAT_OPENMETRICS) {
		/* Seconds, a float. */
		if (metrics_parse_float(p->line + ts, tl, &v) < 0 || !isfinite(v) ||
		    fabs(v) > 9.2e15)
			return perr(p, ERR_INVALID, ts, "invalid timestamp '%s'",
				token_quote(q, sizeof(q), p->line + ts, tl));
		*ms = (int64_t)llround(v * 1000.0);
		return 0;
	}
	/* Milliseconds, an integer. */
	i = (tl > 0 && p->line[ts] == '-') ? 1 : 0;
	if (tl == i || tl - i > 18)
		goto bad;
	*ms = 0;
	for (; i < tl; i++) {
		char c = p->line[ts + i];
		if (c < '0' || c > '9')
			goto bad;
		*ms = *ms * 10 + (c - '0');
	}
	if (p->line[ts] == '-')
		*ms = -*ms;
	return 0;
bad:
	return perr(p, ERR_INVALID, ts, "invalid timestamp '%s'",
		token_quote(q, sizeof(q), p->line + ts, tl));
}

static int
plabel_cmp(const void *a, const void *b)
{
	const struct plabel *x = a, *y = b;

	return strcmp(x->name, y->name);
}

static const char *const suffixes[] = {
	"_total", "_created", "_bucket", "_count", "_sum", "_gcount", "_gsum", "_info"
};

/* True when a sample called family name + `suffix` belongs to a family of type `t`. */
static int
suffix_fits(enum metrics_type t, const char *suffix)
{
	switch (t) {
	case METRICS_COUNTER:
		return !*suffix || !strcmp(suffix, "_total") || !strcmp(suffix, "_created");
	case METRICS_HISTOGRAM:
		return !strcmp(suffix, "_bucket") || !strcmp(suffix, "_count") ||
			!strcmp(suffix, "_sum") || !strcmp(suffix, "_created");
	case METRICS_GAUGEHISTOGRAM:
		return !strcmp(suffix, "_bucket") || !strcmp(suffix, "_gcount") ||
			!strcmp(suffix, "_gsum");
	case METRICS_SUMMARY:
		return !*suffix || !strcmp(suffix, "_count") || !strcmp(suffix, "_sum") ||
			!strcmp(suffix, "_created");
	case METRICS_INFO:
		return !strcmp(suffix, "_info");
	case METRICS_GAUGE:
	case METRICS_STATESET:
	case METRICS_UNTYPED:
		return !*suffix;
	}
	return 0;
}

/* The suffix of `name` (len bytes) over family `f`, or NULL when f is not a prefix. */
static const char *
suffix_over(const struct metrics_family *f, const char *name, size_t len)
{
	size_t fl = strlen(f->name);

	if (fl > len || memcmp(f->name, name, fl) != 0)
		return NULL;
	return name + fl;
}

/* Finds or creates the family a sample named `name` belongs to; *suffix is set too. */
static int
sample_family(struct parser *p, const char *name, size_t len, struct metrics_family **out,
	const char **suffix, size_t pos)
{
	struct metrics_family *f;
	const char *sfx;
	size_t i;

	/* The family of the lines just before, the usual case. `name` is NUL-terminated. */
	f = p->current;
	if (f != NULL && (sfx = suffix_over(f, name, len)) != NULL && suffix_fits(f->type, sfx)) {
		*out = f;
		*suffix = sfx;
		return 0;
	}
	f = mset_family_lookup(p->set, name, len);
	if (f != NULL && suffix_fits(f->type, "")) {
		*out = f;
		*suffix = name + len;
		return 0;
	}
	for (i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		size_t sl = strlen(suffixes[i]);
		struct metrics_family *g;

		if (len <= sl || memcmp(name + len - sl, suffixes[i], sl) != 0)
			continue;
		g = mset_family_lookup(p->set, name, len - sl);
		if (g != NULL && suffix_fits(g->type, suffixes[i])) {
			*out = g;
			*suffix = name + len - sl;
			return 0;
		}
	}
	if (f != NULL)
		return perr(p, ERR_INVALID, pos, "sample '%.*s' does not fit %s family '%s'",
			(int)len, name, metrics_type_name(f->type), f->name);
	if (mset_family_add(p->set, name, len, &f, p->e) < 0)
		return perr(p, p->e->code, pos, "%s", p->e->msg);
	*out = f;
	*suffix = name + len;
	return 0;
}

static int
parse_sample(struct parser *p)
{
	struct metrics_family *f = NULL;
	struct msample *s = NULL, *dup;
	struct metrics_label *labels;
	const char *suffix = "";
	size_t ns, nl, vs, vl, i, size;
	char *w;
	double value;
	int64_t ts = 0;
	int has_ts = 0, ret = -1;
	char name[METRICS_MAX_NAME_BYTES + 1];

	p->scratch_len = 0;
	p->nlabels = 0;
	if (read_name(p, 1, &ns, &nl) < 0)
		goto out;
	memcpy(name, p->line + ns, nl);
	name[nl] = '\0';
	if (p->pos < p->len && p->line[p->pos] == '{') {
		if (read_labels(p, 1) < 0)
			goto out;
	} else if (p->pos < p->len && !is_blank(p->line[p->pos])) {
		perr(p, ERR_INVALID, p->pos, "unexpected '%c' after the metric name",
			p->line[p->pos] >= 0x20 && p->line[p->pos] < 0x7f ? p->line[p->pos] : '?');
		goto out;
	}
	skip_blanks(p);
	if (p->pos >= p->len) {
		perr(p, ERR_INVALID, p->pos, "missing value of '%.*s'", (int)nl, p->line + ns);
		goto out;
	}
	read_token(p, &vs, &vl);
	if (metrics_parse_float(p->line + vs, vl, &value) < 0) {
		char q[72];
		perr(p, ERR_INVALID, vs, "invalid value '%s'", token_quote(q, sizeof(q), p->line + vs, vl));
		goto out;
	}
	skip_blanks(p);
	if (p->pos < p->len && p->line[p->pos] != '#') {
		if (read_timestamp(p, &ts) < 0)
			goto out;
		has_ts = 1;
		skip_blanks(p);
	}
	if (p->pos < p->len && p->line[p->pos] == '#' &&
	    p->format == METRICS_FORMAT_OPENMETRICS) {
		/* An exemplar: "# {labels} value [timestamp]"; checked, then dropped. */
		double ev;
		int64_t ets;

		p->pos++;
		skip_blanks(p);
		if (p->pos >= p->len || p->line[p->pos] != '{') {
			perr(p, ERR_INVALID, p->pos, "expected '{' to open an exemplar");
			goto out;
		}
		if (read_labels(p, 0) < 0)
			goto out;
		skip_blanks(p);
		read_token(p, &vs, &vl);
		if (metrics_parse_float(p->line + vs, vl, &ev) < 0) {
			perr(p, ERR_INVALID, vs, "invalid exemplar value");
			goto out;
		}
		skip_blanks(p);
		if (p->pos < p->len && read_timestamp(p, &ets) < 0)
			goto out;
		skip_blanks(p);
	}
	if (p->pos < p->len) {
		perr(p, ERR_INVALID, p->pos, "unexpected text after the value");
		goto out;
	}

	if (sample_family(p, name, nl, &f, &suffix, ns) < 0)
		goto out;
	if (f == NULL) {
		perr(p, ERR_INTERNAL, 0, "no family for a sample");
		goto out;
	}
	/* Buckets need an le, summary quantiles a quantile, both numbers. */
	{
		const char *need = NULL;
		if ((f->type == METRICS_HISTOGRAM || f->type == METRICS_GAUGEHISTOGRAM) &&
		    strcmp(suffix, "_bucket") == 0)
			need = "le";
		else if (f->type == METRICS_SUMMARY && *suffix == '\0')
			need = "quantile";
		if (need != NULL) {
			double q;
			for (i = 0; i < p->nlabels; i++)
				if (strcmp(p->labels[i].name, need) == 0)
					break;
			if (i == p->nlabels) {
				perr(p, ERR_INVALID, ns, "%s sample '%.*s' has no '%s' label",
					metrics_type_name(f->type), (int)nl, p->line + ns, need);
				goto out;
			}
			if (metrics_parse_float(p->labels[i].value, p->labels[i].value_len, &q) < 0 ||
			    isnan(q)) {
				perr(p, ERR_INVALID, ns, "label '%s' of '%.*s' is not a number", need,
					(int)nl, p->line + ns);
				goto out;
			}
		}
	}

	qsort(p->labels, p->nlabels, sizeof(p->labels[0]), plabel_cmp);
	size = sizeof(*s) + p->nlabels * sizeof(struct metrics_label) + nl + 1;
	for (i = 0; i < p->nlabels; i++)
		size += p->labels[i].name_len + 1 + p->labels[i].value_len + 1;
	s = malloc(size);
	if (s == NULL) {
		err_set(p->e, ERR_NOMEM, "out of memory reading samples");
		goto out;
	}
	labels = (struct metrics_label *)(s + 1);
	w = (char *)(labels + p->nlabels);
	memcpy(w, p->line + ns, nl);
	w[nl] = '\0';
	s->pub.name = w;
	w += nl + 1;
	for (i = 0; i < p->nlabels; i++) {
		memcpy(w, p->labels[i].name, p->labels[i].name_len + 1);
		labels[i].name = w;
		w += p->labels[i].name_len + 1;
		memcpy(w, p->labels[i].value, p->labels[i].value_len);
		w[p->labels[i].value_len] = '\0';
		labels[i].value = w;
		w += p->labels[i].value_len + 1;
	}
	s->pub.labels = labels;
	s->pub.nlabels = p->nlabels;
	s->pub.value = value;
	s->pub.has_timestamp = has_ts;
	s->pub.timestamp_ms = ts;
	s->family = NULL;
	s->hash = msample_hash(&s->pub);
	dup = mset_series_lookup(p->set, s);
	if (dup != NULL) {
		perr(p, ERR_INVALID, ns, "duplicate series '%.*s' (same labels as an earlier line)",
			(int)nl, p->line + ns);
		goto out;
	}
	if (mset_sample_add(p->set, f, s, p->e) < 0) {
		perr(p, p->e->code, ns, "%s", p->e->msg);
		goto out;
	}
	s = NULL;
	p->current = f;
	ret = 0;
out:
	free(s);
	return ret;
}

static int
type_from_word(struct parser *p, const char *w, size_t n, enum metrics_type *t)
{
	static const struct {
		const char *word;
		enum metrics_type type;
		int om;          /* 1: OpenMetrics only, 0: both, -1: Prometheus only */
	} words[] = {
		{ "counter", METRICS_COUNTER, 0 },
		{ "gauge", METRICS_GAUGE, 0 },
		{ "histogram", METRICS_HISTOGRAM, 0 },
		{ "summary", METRICS_SUMMARY, 0 },
		{ "untyped", METRICS_UNTYPED, -1 },
		{ "unknown", METRICS_UNTYPED, 1 },
		{ "gaugehistogram", METRICS_GAUGEHISTOGRAM, 1 },
		{ "info", METRICS_INFO, 1 },
		{ "stateset", METRICS_STATESET, 1 },
	};
	int om = p->format == METRICS_FORMAT_OPENMETRICS;
	size_t i;

	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		if (strlen(words[i].word) != n || memcmp(words[i].word, w, n) != 0)
			continue;
		if ((words[i].om == 1 && !om) || (words[i].om == -1 && om))
			break;
		*t = words[i].type;
		return 0;
	}
	return -1;
}

/* Unescapes HELP text: \\ and \n (and \" in OpenMetrics). */
static int
read_help(struct parser *p, char **out)
{
	size_t i, start = p->pos, bad;
	char *h = malloc(p->len - p->pos + 1), *w;

	*out = NULL;
	if (h == NULL)
		return err_set(p->e, ERR_NOMEM, "out of memory reading HELP");
	w = h;
	for (i = p->pos; i < p->len; i++) {
		char c = p->line[i];
		if (c == '\\') {
			char n = i + 1 < p->len ? p->line[i + 1] : '\0';
			if (n == 'n')
				c = '\n';
			else if (n == '\\' || (n == '"' && p->format == METRICS_FORMAT_OPENMETRICS))
				c = n;
			else if (p->format == METRICS_FORMAT_OPENMETRICS || n == '\0') {
				free(h);
				return perr(p, ERR_INVALID, i, "invalid escape in HELP text");
			}
			else {
				/* Prometheus text keeps other backslashes as they are. */
				*w++ = c;
				continue;
			}
			i++;
		}
		*w++ = c;
	}
	*w = '\0';
	bad = utf8_valid_prefix((unsigned char *)h, (size_t)(w - h));
	if (bad != (size_t)(w - h)) {
		free(h);
		return perr(p, ERR_INVALID, start, "HELP text is not valid UTF-8");
	}
	*out = h;
	return 0;
}

/* A line starting with '#'. Returns 1 for "# EOF", 0 for other lines, -1 on error. */
static int
parse_comment(struct parser *p)
{
	struct metrics_family *f;
	size_t ks, kl, ns, nl, ws, wl;
	enum metrics_type t;
	char *text = NULL;
	char q[72];

	p->pos = 1;
	if (p->pos >= p->len || !is_blank(p->line[p->pos]))
		return 0;           /* "#x" is a comment */
	skip_blanks(p);
	ks = p->pos;
	while (p->pos < p->len && !is_blank(p->line[p->pos]))
		p->pos++;
	kl = p->pos - ks;
	if (kl == 3 && memcmp(p->line + ks, "EOF", 3) == 0) {
		skip_blanks(p);
		if (p->pos == p->len)
			return p->format == METRICS_FORMAT_OPENMETRICS ? 1 : 0;
		return 0;
	}
	if (!((kl == 4 && memcmp(p->line + ks, "HELP", 4) == 0) ||
	      (kl == 4 && memcmp(p->line + ks, "TYPE", 4) == 0) ||
	      (kl == 4 && memcmp(p->line + ks, "UNIT", 4) == 0 &&
	       p->format == METRICS_FORMAT_OPENMETRICS)))
		return 0;           /* any other comment */
	if (p->len > METRICS_MAX_LINE_BYTES)
		return perr(p, ERR_TOO_LARGE, METRICS_MAX_LINE_BYTES, "line longer than %d bytes",
			METRICS_MAX_LINE_BYTES);
	skip_blanks(p);
	if (read_name(p, 1, &ns, &nl) < 0)
		return -1;
	if (p->pos < p->len && !is_blank(p->line[p->pos]))
		return perr(p, ERR_INVALID, p->pos, "unexpected character in metric name");
	f = mset_family_lookup(p->set, p->line + ns, nl);
	if (f == NULL && mset_family_add(p->set, p->line + ns, nl, &f, p->e) < 0)
		return perr(p, p->e->code, ns, "%s", p->e->msg);
	if (p->pos < p->len)
		p->pos++;   /* the one blank after the name */
	if (p->line[ks] == 'H') {
		if (f->has_help)
			return perr(p, ERR_INVALID, ks, "second HELP line for '%s'", f->name);
		if (read_help(p, &text) < 0)
			return -1;
		f->help = text;
		f->has_help = 1;
	} else if (p->line[ks] == 'T') {
		skip_blanks(p);
		read_token(p, &ws, &wl);
		if (wl == 0)
			return perr(p, ERR_INVALID, ws, "TYPE line for '%s' has no type", f->name);
		if (type_from_word(p, p->line + ws, wl, &t) < 0)
			return perr(p, ERR_INVALID, ws, "unknown metric type '%s'",
				token_quote(q, sizeof(q), p->line + ws, wl));
		skip_blanks(p);
		if (p->pos < p->len)
			return perr(p, ERR_INVALID, p->pos, "unexpected text after the type");
		if (f->has_type)
			return perr(p, ERR_INVALID, ks, "second TYPE line for '%s'", f->name);
		if (f->nsamples > 0)
			return perr(p, ERR_INVALID, ks, "TYPE line for '%s' after its samples", f->name);
		f->type = t;
		f->has_type = 1;
	} else {
		if (f->has_unit)
			return perr(p, ERR_INVALID, ks, "second UNIT line for '%s'", f->name);
		skip_blanks(p);
		for (ws = p->pos; ws < p->len; ws++)
			if (!is_name_char(p->line[ws]))
				return perr(p, ERR_INVALID, ws, "unit of '%s' is not a name", f->name);
		f->unit = buf_memdup0(p->line + p->pos, p->len - p->pos);
		if (f->unit == NULL)
			return err_set(p->e, ERR_NOMEM, "out of memory reading UNIT");
		f->has_unit = 1;
	}
	p->current = f;
	return 0;
}

/* True when the text's last non-empty line is "# EOF". */
static int
ends_with_eof(const char *text, size_t len)
{
	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r' ||
	    text[len - 1] == ' ' || text[len - 1] == '\t'))
		len--;
	return len >= 5 && memcmp(text + len - 5, "# EOF", 5) == 0 &&
		(len == 5 || text[len - 6] == '\n');
}

int
metrics_parse(const char *text, size_t len, enum metrics_format format,
	struct metrics_set **out, struct err *e)
{
	struct parser p;
	struct err le = ERR_INIT;
	size_t off = 0;
	int ret = -1, seen_eof = 0;

	*out = NULL;
	memset(&p, 0, sizeof(p));
	p.e = &le;
	if (len > METRICS_MAX_BYTES)
		return err_set(e, ERR_TOO_LARGE, "metrics text of %zu bytes is over the limit of %d",
			len, METRICS_MAX_BYTES);
	if (format == METRICS_FORMAT_AUTO)
		format = ends_with_eof(text, len) ? METRICS_FORMAT_OPENMETRICS :
			METRICS_FORMAT_PROMETHEUS;
	p.format = format;
	p.set = mset_new(format);
	p.scratch = malloc(METRICS_MAX_LINE_BYTES + 1);
	if (p.set == NULL || p.scratch == NULL) {
		err_set(&le, ERR_NOMEM, "out of memory parsing metrics");
		goto out;
	}
	while (off < len) {
		const char *nl = memchr(text + off, '\n', len - off);
		size_t end = nl ? (size_t)(nl - text) : len;
		int r;

		p.lineno++;
		p.line = text + off;
		p.len = end - off;
		p.pos = 0;
		off = nl ? end + 1 : len;
		if (p.len > 0 && p.line[p.len - 1] == '\r')
			p.len--;
		if (seen_eof) {
			if (p.len == 0 && off >= len)
				break;
			perr(&p, ERR_INVALID, 0, "data after '# EOF'");
			goto out;
		}
		if (memchr(p.line, '\0', p.len) != NULL) {
			perr(&p, ERR_INVALID, (size_t)((const char *)memchr(p.line, '\0', p.len) - p.line),
				"NUL byte in metrics text");
			goto out;
		}
		if (p.len == 0)
			continue;   /* OpenMetrics has no empty lines, but tolerating them costs nothing */
		if (p.line[0] == '#') {
			r = parse_comment(&p);
			if (r < 0)
				goto out;
			if (r == 1)
				seen_eof = 1;
			continue;
		}
		/* Prometheus text allows leading blanks; a blank-only line is empty. */
		skip_blanks(&p);
		if (p.pos == p.len)
			continue;
		if (parse_sample(&p) < 0)
			goto out;
		if (p.len > METRICS_MAX_LINE_BYTES) {
			perr(&p, ERR_TOO_LARGE, METRICS_MAX_LINE_BYTES, "line longer than %d bytes",
				METRICS_MAX_LINE_BYTES);
			goto out;
		}
	}
	if (format == METRICS_FORMAT_OPENMETRICS && !seen_eof) {
		err_set(&le, ERR_INVALID, "%zu:1: OpenMetrics text ends without '# EOF' (truncated?)",
			p.lineno + 1);
		goto out;
	}
	*out = p.set;
	p.set = NULL;
	ret = 0;
out:
	if (ret < 0 && e != NULL)
		*e = le;
	metrics_set_free(p.set);
	free(p.scratch);
	return ret;
}
