/*
 * view.c - checks a skewd.diff/v1 document and orders its changes for the
 * renderers; shared value formatting.
 */
#include "render/render.h"
#include "render/render_int.h"

#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/err.h"
#include "util/limits.h"
#include "util/banned.h"

const char *const render_categories[RENDER_NCAT] = {
	"model", "runtime", "hardware", "serving", "orchestration", "other"
};

const char *const render_severities[RENDER_NSEV] = {
	"critical", "high", "medium", "low", "info"
};

static const char *const format_names[] = {
	[RENDER_TEXT] = "text",
	[RENDER_JSON] = "json",
	[RENDER_MARKDOWN] = "markdown",
	[RENDER_PATCH] = "patch",
};

int
render_format_parse(const char *name, enum render_format *out, struct err *e)
{
	size_t i;

	for (i = 0; i < sizeof(format_names) / sizeof(format_names[0]); i++) {
		if (strcmp(name, format_names[i]) == 0) {
			*out = (enum render_format)i;
			return 0;
		}
	}
	return err_set(e, ERR_INVALID,
	    "unknown format '%.64s' (expected text, json, markdown or patch)", name);
}

const char *
render_format_name(enum render_format f)
{
	if ((size_t)f >= sizeof(format_names) / sizeof(format_names[0]))
		return "unknown";
	return format_names[f];
}

static int
lookup(const char *const *names, int n, const char *s)
{
	int i;

	for (i = 0; i < n; i++) {
		if (strcmp(names[i], s) == 0)
			return i;
	}
	return -1;
}

/* A required string member of change `i`; NULL with e set when missing. */
static const char *
member_string(const json_t *c, const char *key, size_t i, struct err *e)
{
	const json_t *v = json_object_get(c, key);

	if (!json_is_string(v)) {
		err_set(e, ERR_INVALID, "change %zu of the diff has no string '%s'", i, key);
		return NULL;
	}
	return json_string_value(v);
}

static int
check_change(const json_t *c, size_t i, struct render_change *out, struct err *e)
{
	const char *kind, *cat, *sev;
	const json_t *v;

	memset(out, 0, sizeof(*out));
	out->index = i;
	if (!json_is_object(c))
		return err_set(e, ERR_INVALID, "change %zu of the diff is not an object", i);
	if ((out->object = member_string(c, "object", i, e)) == NULL ||
	    (kind = member_string(c, "kind", i, e)) == NULL ||
	    (cat = member_string(c, "category", i, e)) == NULL ||
	    (sev = member_string(c, "severity", i, e)) == NULL)
		return -1;
	v = json_object_get(c, "path");
	out->path = json_is_string(v) ? json_string_value(v) : "";
	v = json_object_get(c, "setting");
	out->setting = json_is_string(v) && json_string_length(v) > 0 ? json_string_value(v) : NULL;
	v = json_object_get(c, "summary");
	out->summary = json_is_string(v) ? json_string_value(v) : "";

	if (strcmp(kind, "added") == 0)
		out->kind = RKIND_ADDED;
	else if (strcmp(kind, "removed") == 0)
		out->kind = RKIND_REMOVED;
	else if (strcmp(kind, "modified") == 0)
		out->kind = RKIND_MODIFIED;
	else
		return err_set(e, ERR_INVALID, "change %zu of the diff has unknown kind '%.32s'", i, kind);
	if ((out->category = lookup(render_categories, RENDER_NCAT, cat)) < 0)
		return err_set(e, ERR_INVALID, "change %zu of the diff has unknown category '%.32s'",
		    i, cat);
	if ((out->severity = lookup(render_severities, RENDER_NSEV, sev)) < 0)
		return err_set(e, ERR_INVALID, "change %zu of the diff has unknown severity '%.32s'",
		    i, sev);
	/* An absent before/after is the added/removed side; a JSON null is a value. */
	out->before = out->kind == RKIND_ADDED ? NULL : json_object_get(c, "before");
	out->after = out->kind == RKIND_REMOVED ? NULL : json_object_get(c, "after");
	if (out->kind != RKIND_ADDED && out->before == NULL)
		return err_set(e, ERR_INVALID, "change %zu of the diff (%s) has no 'before'", i, kind);
	if (out->kind != RKIND_REMOVED && out->after == NULL)
		return err_set(e, ERR_INVALID, "change %zu of the diff (%s) has no 'after'", i, kind);
	return 0;
}

static int
cmp_change(const void *pa, const void *pb)
{
	const struct render_change *a = pa, *b = pb;

	if (a->rank != b->rank)
		return a->rank < b->rank ? -1 : 1;
	if (a->severity != b->severity)
		return a->severity < b->severity ? -1 : 1;
	if (a->index != b->index)
		return a->index < b->index ? -1 : 1;
	return 0;
}

/* Categories by their most severe change, then by the fixed order. */
static void
order_categories(struct render_view *v)
{
	int best[RENDER_NCAT];
	int i, j, k, t;

	for (i = 0; i < RENDER_NCAT; i++) {
		best[i] = RENDER_NSEV;
		for (k = 0; k < RENDER_NSEV; k++) {
			if (v->by_cat_sev[i][k] > 0) {
				best[i] = k;
				break;
			}
		}
		v->cat_order[i] = i;
	}
	/* Insertion sort: stable, six elements. */
	for (i = 1; i < RENDER_NCAT; i++) {
		t = v->cat_order[i];
		for (j = i; j > 0 && best[v->cat_order[j - 1]] > best[t]; j--)
			v->cat_order[j] = v->cat_order[j - 1];
		v->cat_order[j] = t;
	}
}

int
render_view_build(const json_t *diff, struct render_view *v, struct err *e)
{
	int rank[RENDER_NCAT];
	const json_t *schema, *changes, *summary, *supp, *count;
	size_t i;
	int ret = -1;

	memset(v, 0, sizeof(*v));
	if (!json_is_object(diff))
		return err_set(e, ERR_INVALID, "the diff document is not a JSON object");
	schema = json_object_get(diff, "schema");
	if (!json_is_string(schema))
		return err_set(e, ERR_INVALID, "the diff document has no 'schema'");
	if (strcmp(json_string_value(schema), RENDER_SCHEMA) != 0)
		return err_set(e, ERR_UNSUPPORTED, "cannot render schema '%.64s' (expected %s)",
		    json_string_value(schema), RENDER_SCHEMA);
	changes = json_object_get(diff, "changes");
	if (!json_is_array(changes))
		return err_set(e, ERR_INVALID, "the diff document has no 'changes' array");

	v->n = json_array_size(changes);
	if (v->n > 0) {
		v->changes = calloc(v->n, sizeof(*v->changes));
		if (v->changes == NULL) {
			err_set(e, ERR_NOMEM, "out of memory for %zu changes", v->n);
			goto out;
		}
	}
	for (i = 0; i < v->n; i++) {
		struct render_change *c = &v->changes[i];

		if (check_change(json_array_get(changes, i), i, c, e) < 0)
			goto out;
		v->by_cat_sev[c->category][c->severity]++;
		v->by_cat[c->category]++;
		v->by_sev[c->severity]++;
	}

	summary = json_object_get(diff, "summary");
	supp = json_object_get(summary, "suppressed");
	count = json_object_get(supp, "count");
	if (json_is_integer(count) && json_integer_value(count) > 0)
		v->suppressed = json_integer_value(count);
	v->by_rule = json_is_object(json_object_get(supp, "by_rule")) ?
	    json_object_get(supp, "by_rule") : NULL;

	order_categories(v);
	for (i = 0; i < RENDER_NCAT; i++)
		rank[v->cat_order[i]] = (int)i;
	for (i = 0; i < v->n; i++)
		v->changes[i].rank = rank[v->changes[i].category];
	if (v->n > 1)
		qsort(v->changes, v->n, sizeof(*v->changes), cmp_change);
	ret = 0;
out:
	if (ret < 0)
		render_view_release(v);
	return ret;
}

void
render_view_release(struct render_view *v)
{
	if (v == NULL)
		return;
	free(v->changes);
	v->changes = NULL;
	v->n = 0;
}

const char *
render_change_what(const struct render_change *c)
{
	if (c->setting != NULL)
		return c->setting;
	return c->path[0] != '\0' ? c->path : "(object)";
}

char *
render_value_string(const json_t *v, size_t max, int *cut)
{
	char *s;
	size_t n;

	*cut = 0;
	if (json_is_string(v)) {
		n = json_string_length(v);
		s = malloc(n + 1);
		if (s == NULL)
			return NULL;
		memcpy(s, json_string_value(v), n);
		s[n] = '\0';
	} else {
		s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS);
		if (s == NULL)
			return NULL;
		n = strlen(s);
	}
	if (n > max) {
		n = max;
		/* Back up over UTF-8 continuation bytes so a character is not split. */
		while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--;
		s[n] = '\0';
		*cut = 1;
	}
	return s;
}

struct rule_count {
	const char *name;
	long long n;
};

static int
cmp_rule(const void *pa, const void *pb)
{
	const struct rule_count *a = pa, *b = pb;

	if (a->n != b->n)
		return a->n > b->n ? -1 : 1;
	return strcmp(a->name, b->name);
}

int
render_by_rule(const json_t *by_rule, struct buf *out,
    int (*esc)(struct buf *, const char *, struct err *), struct err *e)
{
	struct rule_count *rules = NULL;
	const char *key;
	json_t *val;
	size_t n = 0, i;
	int ret = -1;

	if (by_rule == NULL || json_object_size(by_rule) == 0)
		return 0;
	rules = calloc(json_object_size(by_rule), sizeof(*rules));
	if (rules == NULL) {
		buf_release(out);
		return err_set(e, ERR_NOMEM, "out of memory listing suppression rules");
	}
	json_object_foreach((json_t *)by_rule, key, val) {
		if (!json_is_integer(val) || json_integer_value(val) <= 0)
			continue;
		rules[n].name = key;
		rules[n].n = json_integer_value(val);
		n++;
	}
	qsort(rules, n, sizeof(*rules), cmp_rule);
	for (i = 0; i < n; i++) {
		if ((i > 0 && buf_addstr(out, ", ", e) < 0) ||
		    esc(out, rules[i].name, e) < 0 ||
		    buf_addf(out, e, " %lld", rules[i].n) < 0)
			goto out;
	}
	ret = 0;
out:
	free(rules);
	return ret;
}

int
render_json(const json_t *diff, struct buf *out, struct err *e)
{
	struct render_view v;
	char *s = NULL;
	int ret = -1;

	/* Check it like the other renderers, so every format refuses the same documents. */
	if (render_view_build(diff, &v, e) < 0)
		return -1;
	render_view_release(&v);
	s = json_dumps(diff, JSON_INDENT(2));
	if (s == NULL) {
		buf_release(out);
		err_set(e, ERR_NOMEM, "out of memory writing the diff as JSON");
		goto out;
	}
	if (buf_addstr(out, s, e) < 0 || buf_addch(out, '\n', e) < 0)
		goto out;
	ret = 0;
out:
	free(s);
	return ret;
}

int
render_diff(enum render_format f, const json_t *diff, const struct render_opts *opts,
    struct buf *out, struct err *e)
{
	switch (f) {
	case RENDER_TEXT:
		return render_text(diff, opts, out, e);
	case RENDER_JSON:
		return render_json(diff, out, e);
	case RENDER_MARKDOWN:
		return render_markdown(diff, opts, out, e);
	case RENDER_PATCH:
		break;
	}
	return err_set(e, ERR_INVALID, "the %s format needs both sides, not a diff document",
	    render_format_name(f));
}
