/*
 * result.c - running a diff and the skewd.diff/v1 document.
 */
#include "diff/diff_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"
#include "util/banned.h"

void
diff_change_release(struct diff_change *c)
{
	free(c->object);
	free(c->objkind);
	free(c->path);
	free(c->setting);
	json_decref(c->before);
	json_decref(c->after);
	free(c->engine_version);
	free(c->default_text);
	free(c->summary);
	free(c->rule);
	memset(c, 0, sizeof(*c));
}

char *
diff_value_text(const json_t *v, size_t max)
{
	char *s, *out;
	size_t n;

	if (v == NULL)
		return strdup("absent");
	if (json_is_string(v))
		s = strdup(json_string_value(v));
	else
		s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY |
		    JSON_REAL_PRECISION(12));
	if (s == NULL)
		return NULL;
	/* One line: newlines of a multi-line value become spaces. */
	for (n = 0; s[n] != '\0'; n++)
		if (s[n] == '\n' || s[n] == '\r' || s[n] == '\t')
			s[n] = ' ';
	if (n <= max)
		return s;
	/* Cut on a UTF-8 boundary. */
	while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
		max--;
	out = malloc(max + 4);
	if (out != NULL) {
		memcpy(out, s, max);
		memcpy(out + max, "\xe2\x80\xa6", 4); /* … */
	}
	free(s);
	return out;
}

static int
change_cmp(const void *pa, const void *pb)
{
	const struct diff_change *a = pa, *b = pb;
	int d;

	if (a->severity != b->severity)
		return (int)a->severity - (int)b->severity;
	if (a->category != b->category)
		return (int)a->category - (int)b->category;
	if ((d = strcmp(a->object, b->object)) != 0)
		return d;
	if ((d = strcmp(a->path, b->path)) != 0)
		return d;
	return strcmp(a->setting ? a->setting : "", b->setting ? b->setting : "");
}

void
diff_result_sort(struct diff_result *res)
{
	if (res->n > 1)
		qsort(res->changes, res->n, sizeof(res->changes[0]), change_cmp);
}

static void
add_counts(json_t *dst, const json_t *src)
{
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)src, k, v) {
		json_t *have = json_object_get(dst, k);

		json_object_set_new(dst, k, json_integer((have ? json_integer_value(have) : 0) +
		    json_integer_value(v)));
	}
}

static int
is_redacted(const json_t *v)
{
	return json_is_string(v) && strncmp(json_string_value(v), "<redacted:", 10) == 0;
}

/* Detections that need the whole change: secrets, unpinned model revisions. */
static void
refine(struct diff_result *res)
{
	size_t i;

	for (i = 0; i < res->n; i++) {
		struct diff_change *ch = &res->changes[i];

		if (is_redacted(ch->before) || is_redacted(ch->after) ||
		    (strcmp(ch->objkind, "Secret") == 0 && strncmp(ch->path, "/data/", 6) == 0))
			ch->detect = "secret_value";
		else if (ch->setting != NULL && ch->kind == DIFF_REMOVED &&
		    (strcmp(ch->setting, "revision") == 0 || strcmp(ch->setting, "model_revision") == 0))
			ch->detect = "model_unpinned";
	}
}

int
diff_run(const struct diff_rules *r, const struct diff_side *before, const struct diff_side *after,
    struct diff_result **out, struct err *e)
{
	struct diff_result *res = calloc(1, sizeof(*res));

	*out = NULL;
	if (res == NULL)
		return err_set(e, ERR_NOMEM, "out of memory running a diff");
	res->suppressed = json_object();
	res->before_label = strdup(before->label);
	res->after_label = strdup(after->label);
	if (res->suppressed == NULL || res->before_label == NULL || res->after_label == NULL) {
		diff_result_free(res);
		return err_set(e, ERR_NOMEM, "out of memory running a diff");
	}
	add_counts(res->suppressed, before->suppressed);
	add_counts(res->suppressed, after->suppressed);
	if (diff_compare_sides(before, after, res, e) != 0)
		goto fail;
	refine(res);
	if (diff_classify(r, res, e) != 0)
		goto fail;
	diff_result_sort(res);
	*out = res;
	return 0;
fail:
	diff_result_free(res);
	return -1;
}

void
diff_result_free(struct diff_result *res)
{
	size_t i;

	if (res == NULL)
		return;
	for (i = 0; i < res->n; i++)
		diff_change_release(&res->changes[i]);
	free(res->changes);
	json_decref(res->suppressed);
	free(res->before_label);
	free(res->after_label);
	free(res);
}

size_t
diff_result_count(const struct diff_result *res)
{
	return res->n;
}

static const char *
kind_text(enum diff_kind k)
{
	return k == DIFF_ADDED ? "added" : k == DIFF_REMOVED ? "removed" : "modified";
}

json_t *
diff_result_to_json(const struct diff_result *res)
{
	json_t *root = NULL, *bycat, *bysev, *byrule, *changes;
	long long total = 0;
	const char *k;
	json_t *v;
	size_t i;
	int c;

	bycat = json_object();
	bysev = json_object();
	byrule = json_object();
	changes = json_array();
	if (bycat == NULL || bysev == NULL || byrule == NULL || changes == NULL)
		goto fail;
	for (c = 0; c < CAT__COUNT; c++)
		json_object_set_new(bycat, diff_cat_name((enum diff_cat)c), json_integer(0));
	for (c = 0; c < SEV__COUNT; c++)
		json_object_set_new(bysev, diff_sev_name((enum diff_sev)c), json_integer(0));
	json_object_foreach(res->suppressed, k, v) {
		json_object_set_new(byrule, k, json_integer(json_integer_value(v)));
		total += json_integer_value(v);
	}
	for (i = 0; i < res->n; i++) {
		const struct diff_change *ch = &res->changes[i];
		const char *cn = diff_cat_name(ch->category), *sn = diff_sev_name(ch->severity);
		json_t *one;

		json_object_set_new(bycat, cn,
		    json_integer(json_integer_value(json_object_get(bycat, cn)) + 1));
		json_object_set_new(bysev, sn,
		    json_integer(json_integer_value(json_object_get(bysev, sn)) + 1));
		one = json_pack("{s:s,s:s,s:o,s:s,s:O,s:O,s:s,s:s,s:s}",
		    "object", ch->object,
		    "path", ch->path,
		    "setting", ch->setting != NULL ? json_string(ch->setting) : json_null(),
		    "kind", kind_text(ch->kind),
		    "before", ch->before != NULL ? ch->before : json_null(),
		    "after", ch->after != NULL ? ch->after : json_null(),
		    "category", cn,
		    "severity", sn,
		    "summary", ch->summary != NULL ? ch->summary : "");
		if (one == NULL || json_array_append_new(changes, one) != 0)
			goto fail;
	}
	root = json_pack("{s:s,s:{s:I,s:o,s:o,s:{s:I,s:o}},s:o}",
	    "schema", "skewd.diff/v1",
	    "summary",
	    "changes", (json_int_t)res->n,
	    "by_category", bycat,
	    "by_severity", bysev,
	    "suppressed", "count", (json_int_t)total, "by_rule", byrule,
	    "changes", changes);
	return root;
fail:
	json_decref(bycat);
	json_decref(bysev);
	json_decref(byrule);
	json_decref(changes);
	return NULL;
}
