/*
 * rules.c - classification rules: server/diff/rules.yaml (compiled in) and a
 * user's ignore / severity-override file in the same format (docs/diff.md).
 *
 * The first built-in rule that matches a change gives its category, severity
 * and summary template; for an engine setting the engine knowledge
 * (engine_knob_find) comes first. Then the first matching user rule may drop
 * the change (counted as "ignore:<rule>") or override category and severity.
 */
#include "diff/diff_int.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "doc/doc.h"
#include "engine/engine.h"
#include "util/buf.h"
#include "util/embed.h"
#include "util/err.h"
#include "util/banned.h"

EMBED_DECLARE(diff_rules_yaml);

static const char *const cat_names[CAT__COUNT] = { "model", "runtime", "hardware", "serving",
	"orchestration", "other" };
static const char *const sev_names[SEV__COUNT] = { "critical", "high", "medium", "low", "info" };

const char *
diff_cat_name(enum diff_cat c)
{
	return c < CAT__COUNT ? cat_names[c] : "other";
}

const char *
diff_sev_name(enum diff_sev s)
{
	return s < SEV__COUNT ? sev_names[s] : "info";
}

int
diff_cat_parse(const char *s, enum diff_cat *out)
{
	int i;

	for (i = 0; i < CAT__COUNT; i++)
		if (strcmp(s, cat_names[i]) == 0) {
			*out = (enum diff_cat)i;
			return 0;
		}
	return -1;
}

int
diff_sev_parse(const char *s, enum diff_sev *out)
{
	int i;

	for (i = 0; i < SEV__COUNT; i++)
		if (strcmp(s, sev_names[i]) == 0) {
			*out = (enum diff_sev)i;
			return 0;
		}
	return -1;
}

/* fnmatch() plus one level of {a,b,c} alternatives. */
static int
glob_match(const char *pat, const char *str)
{
	const char *open = strchr(pat, '{'), *close, *alt;
	char tmp[DIFF_MAX_PATH_BYTES];

	if (open == NULL || (close = strchr(open, '}')) == NULL)
		return fnmatch(pat, str, 0) == 0;
	alt = open + 1;
	while (alt <= close) {
		const char *end = alt;

		while (end < close && *end != ',')
			end++;
		snprintf(tmp, sizeof(tmp), "%.*s%.*s%s", (int)(open - pat), pat, (int)(end - alt), alt,
		    close + 1);
		if (glob_match(tmp, str))
			return 1;
		alt = end + 1;
	}
	return 0;
}

/* Matches path segments: '**' any number of segments, otherwise an fnmatch glob. */
static int
seg_match(const char *pat, const char *path)
{
	const char *pe, *se;
	char ps[DIFF_MAX_PATH_BYTES], ss[DIFF_MAX_PATH_BYTES];

	if (*pat == '\0')
		return *path == '\0';
	pe = strchr(pat, '/');
	if (pe == NULL)
		pe = pat + strlen(pat);
	if (pe - pat == 2 && pat[0] == '*' && pat[1] == '*') {
		const char *rest = *pe == '/' ? pe + 1 : pe;

		for (;;) {
			if (seg_match(rest, path))
				return 1;
			if (*path == '\0')
				return 0;
			se = strchr(path, '/');
			path = se != NULL ? se + 1 : path + strlen(path);
			if (se == NULL && *rest == '\0')
				return 1;
			if (se == NULL)
				return seg_match(rest, path);
		}
	}
	if (*path == '\0')
		return 0;
	se = strchr(path, '/');
	if (se == NULL)
		se = path + strlen(path);
	snprintf(ps, sizeof(ps), "%.*s", (int)(pe - pat), pat);
	snprintf(ss, sizeof(ss), "%.*s", (int)(se - path), path);
	if (!glob_match(ps, ss))
		return 0;
	return seg_match(*pe == '/' ? pe + 1 : pe, *se == '/' ? se + 1 : se);
}

int
diff_path_match(const char *pattern, const char *path)
{
	if (*pattern == '/')
		pattern++;
	if (*path == '/')
		path++;
	return seg_match(pattern, path);
}

static void
rule_release(struct diff_rule *r)
{
	free(r->name);
	free(r->match_kind);
	free(r->match_path);
	free(r->match_setting);
	free(r->match_detect);
	free(r->match_change);
	free(r->match_object);
	free(r->summary);
}

void
diff_rules_free(struct diff_rules *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->n; i++)
		rule_release(&r->rules[i]);
	free(r->rules);
	free(r);
}

static int
opt_str(const json_t *o, const char *k, char **out, const char *file, size_t idx, struct err *e)
{
	const json_t *v = json_object_get(o, k);

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return err_set(e, ERR_INVALID, "%s: rule %zu: '%s' must be a string", file, idx, k);
	*out = strdup(json_string_value(v));
	if (*out == NULL)
		return err_set(e, ERR_NOMEM, "out of memory reading '%s'", file);
	return 0;
}

static int
parse_rule(const json_t *o, struct diff_rule *r, const char *file, size_t idx, int user,
    struct err *e)
{
	static const char *const known[] = { "name", "match", "category", "severity", "summary",
		"ignore", NULL };
	static const char *const mknown[] = { "kind", "path", "setting", "detect", "change",
		"object", NULL };
	const json_t *m = json_object_get(o, "match"), *v;
	const char *k;
	char *tmp = NULL;
	size_t i;

	memset(r, 0, sizeof(*r));
	r->user = user;
	if (!json_is_object(o))
		return err_set(e, ERR_INVALID, "%s: rule %zu is not a mapping", file, idx);
	json_object_foreach((json_t *)o, k, v) {
		for (i = 0; known[i] != NULL && strcmp(known[i], k) != 0; i++)
			;
		if (known[i] == NULL)
			return err_set(e, ERR_INVALID, "%s: rule %zu: unknown field '%s'", file, idx, k);
	}
	if (m != NULL && !json_is_object(m))
		return err_set(e, ERR_INVALID, "%s: rule %zu: 'match' must be a mapping", file, idx);
	json_object_foreach((json_t *)m, k, v) {
		for (i = 0; mknown[i] != NULL && strcmp(mknown[i], k) != 0; i++)
			;
		if (mknown[i] == NULL)
			return err_set(e, ERR_INVALID, "%s: rule %zu: unknown match field '%s'", file,
			    idx, k);
	}
	if (opt_str(o, "name", &r->name, file, idx, e) != 0 ||
	    opt_str(m, "kind", &r->match_kind, file, idx, e) != 0 ||
	    opt_str(m, "path", &r->match_path, file, idx, e) != 0 ||
	    opt_str(m, "setting", &r->match_setting, file, idx, e) != 0 ||
	    opt_str(m, "detect", &r->match_detect, file, idx, e) != 0 ||
	    opt_str(m, "change", &r->match_change, file, idx, e) != 0 ||
	    opt_str(m, "object", &r->match_object, file, idx, e) != 0 ||
	    opt_str(o, "summary", &r->summary, file, idx, e) != 0)
		return -1;
	if (r->name == NULL) {
		if (asprintf(&r->name, "%s#%zu", user ? "user" : "builtin", idx) < 0) {
			r->name = NULL;
			return err_set(e, ERR_NOMEM, "out of memory reading '%s'", file);
		}
	}
	if (r->match_change != NULL && strcmp(r->match_change, "added") != 0 &&
	    strcmp(r->match_change, "removed") != 0 && strcmp(r->match_change, "modified") != 0)
		return err_set(e, ERR_INVALID, "%s: rule %zu ('%s'): change must be added, removed "
		    "or modified, not '%s'", file, idx, r->name, r->match_change);
	if (opt_str(o, "category", &tmp, file, idx, e) != 0)
		return -1;
	if (tmp != NULL) {
		if (diff_cat_parse(tmp, &r->category) != 0) {
			err_set(e, ERR_INVALID, "%s: rule %zu ('%s'): unknown category '%s' (one of "
			    "model, runtime, hardware, serving, orchestration, other)", file, idx,
			    r->name, tmp);
			free(tmp);
			return -1;
		}
		r->has_category = 1;
		free(tmp);
	}
	if (opt_str(o, "severity", &tmp, file, idx, e) != 0)
		return -1;
	if (tmp != NULL) {
		if (diff_sev_parse(tmp, &r->severity) != 0) {
			err_set(e, ERR_INVALID, "%s: rule %zu ('%s'): unknown severity '%s' (one of "
			    "critical, high, medium, low, info)", file, idx, r->name, tmp);
			free(tmp);
			return -1;
		}
		r->has_severity = 1;
		free(tmp);
	}
	v = json_object_get(o, "ignore");
	if (v != NULL && !json_is_boolean(v))
		return err_set(e, ERR_INVALID, "%s: rule %zu ('%s'): 'ignore' must be true or false",
		    file, idx, r->name);
	r->ignore = json_is_true(v);
	if (!user && (!r->has_category || !r->has_severity) && !r->ignore)
		return err_set(e, ERR_INVALID, "%s: rule %zu ('%s'): a built-in rule needs a category "
		    "and a severity", file, idx, r->name);
	if (user && !r->ignore && !r->has_category && !r->has_severity && r->summary == NULL)
		return err_set(e, ERR_INVALID, "%s: rule %zu ('%s'): a rule must ignore or set a "
		    "category, severity or summary", file, idx, r->name);
	return 0;
}

static int
load_set(struct diff_rules *r, const char *file, const void *data, size_t len, int user,
    struct err *e)
{
	struct doc_set *d = NULL;
	const json_t *root, *list;
	size_t i;
	int ret = -1;

	if (doc_load_mem(file, data, len, DOC_YAML, &d, e) != 0)
		goto out;
	if (doc_set_count(d) != 1) {
		err_set(e, ERR_INVALID, "%s: expected one document with a 'rules' list", file);
		goto out;
	}
	root = doc_set_get(d, 0);
	list = json_object_get(root, "rules");
	if (!json_is_object(root) || !json_is_array(list)) {
		err_set(e, ERR_INVALID, "%s: expected a mapping with a 'rules' list", file);
		goto out;
	}
	if (r->n + json_array_size(list) > DIFF_MAX_RULES) {
		err_set(e, ERR_TOO_LARGE, "%s: more than %d rules", file, DIFF_MAX_RULES);
		goto out;
	}
	if (r->n + json_array_size(list) > r->cap) {
		size_t nc = r->n + json_array_size(list);
		struct diff_rule *nr = realloc(r->rules, nc * sizeof(*nr));

		if (nr == NULL) {
			err_set(e, ERR_NOMEM, "out of memory reading '%s'", file);
			goto out;
		}
		r->rules = nr;
		r->cap = nc;
	}
	for (i = 0; i < json_array_size(list); i++) {
		if (parse_rule(json_array_get(list, i), &r->rules[r->n], file, i + 1, user, e) != 0) {
			rule_release(&r->rules[r->n]);
			goto out;
		}
		r->n++;
	}
	ret = 0;
out:
	doc_set_free(d);
	return ret;
}

int
diff_rules_load(const char *user_file, struct diff_rules **out, struct err *e)
{
	struct diff_rules *r = calloc(1, sizeof(*r));
	char *data = NULL;
	FILE *f = NULL;
	size_t len = 0;
	int ret = -1;

	*out = NULL;
	if (r == NULL)
		return err_set(e, ERR_NOMEM, "out of memory loading diff rules");
	if (engine_init(e) != 0)
		goto out;
	if (user_file != NULL) {
		long sz;

		f = fopen(user_file, "rb");
		if (f == NULL) {
			err_set(e, ERR_NOT_FOUND, "cannot open rules file '%s'", user_file);
			goto out;
		}
		if (fseek(f, 0, SEEK_END) != 0 || (sz = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
			err_set(e, ERR_IO, "cannot read rules file '%s'", user_file);
			goto out;
		}
		if (sz > DIFF_MAX_RULES_BYTES) {
			err_set(e, ERR_TOO_LARGE, "rules file '%s' is larger than %d bytes", user_file,
			    DIFF_MAX_RULES_BYTES);
			goto out;
		}
		data = malloc((size_t)sz + 1);
		if (data == NULL) {
			err_set(e, ERR_NOMEM, "out of memory reading '%s'", user_file);
			goto out;
		}
		len = fread(data, 1, (size_t)sz, f);
		if (len != (size_t)sz) {
			err_set(e, ERR_IO, "cannot read rules file '%s'", user_file);
			goto out;
		}
		data[len] = '\0';
		/* User rules first: they are consulted before the built-in ones. */
		if (load_set(r, user_file, data, len, 1, e) != 0)
			goto out;
		r->nuser = r->n;
	}
	if (load_set(r, "rules.yaml", diff_rules_yaml, diff_rules_yaml_len, 0, e) != 0)
		goto out;
	*out = r;
	r = NULL;
	ret = 0;
out:
	if (f != NULL)
		fclose(f);
	free(data);
	diff_rules_free(r);
	return ret;
}

/* ---- classification ---- */

static const char *
kind_name(enum diff_kind k)
{
	return k == DIFF_ADDED ? "added" : k == DIFF_REMOVED ? "removed" : "modified";
}

static int
rule_matches(const struct diff_rule *r, const struct diff_change *ch)
{
	if (r->match_detect != NULL && strcmp(r->match_detect, ch->detect) != 0)
		return 0;
	if (r->match_change != NULL && strcmp(r->match_change, kind_name(ch->kind)) != 0)
		return 0;
	if (r->match_kind != NULL && !glob_match(r->match_kind, ch->objkind))
		return 0;
	if (r->match_setting != NULL &&
	    (ch->setting == NULL || !glob_match(r->match_setting, ch->setting)))
		return 0;
	if (r->match_object != NULL && !glob_match(r->match_object, ch->object))
		return 0;
	if (r->match_path != NULL && !diff_path_match(r->match_path, ch->path))
		return 0;
	return 1;
}

/* The last segment of a path, unescaped. */
static void
last_segment(const char *path, char *out, size_t cap)
{
	const char *sl = strrchr(path, '/');
	size_t o = 0;

	for (sl = sl != NULL ? sl + 1 : path; *sl != '\0' && o + 1 < cap; sl++) {
		if (sl[0] == '~' && sl[1] == '1') {
			out[o++] = '/';
			sl++;
		} else if (sl[0] == '~' && sl[1] == '0') {
			out[o++] = '~';
			sl++;
		} else {
			out[o++] = *sl;
		}
	}
	out[o] = '\0';
}

static int
expand(const char *tmpl, const struct diff_change *ch, const char *why, struct buf *b,
    struct err *e)
{
	const char *p;
	char seg[256];

	for (p = tmpl; *p != '\0'; p++) {
		const char *end;
		char name[32];
		char *val = NULL;
		const char *lit = NULL;

		if (*p != '{' || (end = strchr(p, '}')) == NULL || end - p > 30) {
			if (buf_addch(b, *p, e) != 0)
				return -1;
			continue;
		}
		snprintf(name, sizeof(name), "%.*s", (int)(end - p - 1), p + 1);
		if (strcmp(name, "before") == 0)
			lit = ch->before == NULL ? "absent" : NULL, val = lit ? NULL :
			    diff_value_text(ch->before, DIFF_SUMMARY_VALUE_CHARS);
		else if (strcmp(name, "after") == 0)
			lit = ch->after == NULL ? "absent" : NULL, val = lit ? NULL :
			    diff_value_text(ch->after, DIFF_SUMMARY_VALUE_CHARS);
		else if (strcmp(name, "object") == 0)
			lit = ch->object;
		else if (strcmp(name, "path") == 0)
			lit = ch->path;
		else if (strcmp(name, "setting") == 0)
			lit = ch->setting != NULL ? ch->setting : "";
		else if (strcmp(name, "why") == 0)
			lit = why != NULL ? why : "";
		else if (strcmp(name, "field") == 0) {
			last_segment(ch->path, seg, sizeof(seg));
			lit = seg;
		} else if (strcmp(name, "default") == 0)
			lit = ch->default_text != NULL ? ch->default_text : "unknown";
		else if (strcmp(name, "change") == 0)
			lit = kind_name(ch->kind);
		else {
			if (buf_addch(b, *p, e) != 0)
				return -1;
			continue;
		}
		if (buf_addstr(b, lit != NULL ? lit : (val != NULL ? val : ""), e) != 0) {
			free(val);
			return -1;
		}
		free(val);
		p = end;
	}
	return 0;
}

/* "max_num_seqs: absent → 512; default for vllm 0.8.5 is 256: why" */
static int
setting_summary(const struct diff_change *ch, const char *why, struct buf *b, struct err *e)
{
	char *bt = ch->before ? diff_value_text(ch->before, DIFF_SUMMARY_VALUE_CHARS) : NULL;
	char *at = ch->after ? diff_value_text(ch->after, DIFF_SUMMARY_VALUE_CHARS) : NULL;
	int ret;

	ret = buf_addf(b, e, "%s: %s \u2192 %s", ch->setting, bt ? bt : "absent", at ? at : "absent");
	if (ret == 0 && ch->default_text != NULL)
		ret = buf_addf(b, e, "; default for %s%s%s is %s",
		    engine_kind_name((enum engine_kind)ch->engine),
		    ch->engine_version ? " " : "", ch->engine_version ? ch->engine_version : "",
		    ch->default_text);
	if (ret == 0 && why != NULL && *why != '\0')
		ret = buf_addf(b, e, ": %s", why);
	free(bt);
	free(at);
	return ret;
}

static int
classify_one(const struct diff_rules *r, struct diff_change *ch, int *drop, char **drop_rule,
    struct err *e)
{
	const struct diff_rule *base = NULL, *user = NULL;
	const struct engine_knob *knob = NULL;
	struct buf b = BUF_INIT(DIFF_MAX_SUMMARY_BYTES * 4);
	const char *why = NULL;
	size_t i;

	*drop = 0;
	for (i = 0; i < r->nuser; i++)
		if (rule_matches(&r->rules[i], ch)) {
			user = &r->rules[i];
			break;
		}
	if (user != NULL && user->ignore) {
		*drop = 1;
		*drop_rule = user->name;
		return 0;
	}
	if (ch->setting != NULL && strcmp(ch->detect, "setting") == 0)
		knob = engine_knob_find((enum engine_kind)ch->engine, ch->setting);
	for (i = r->nuser; i < r->n; i++)
		if (rule_matches(&r->rules[i], ch)) {
			base = &r->rules[i];
			break;
		}
	if (base != NULL && base->ignore) {
		*drop = 1;
		*drop_rule = base->name;
		return 0;
	}
	ch->category = CAT_OTHER;
	ch->severity = SEV_LOW;
	if (knob != NULL) {
		if (diff_cat_parse(knob->category, &ch->category) != 0)
			ch->category = CAT_RUNTIME;
		if (diff_sev_parse(knob->severity, &ch->severity) != 0)
			ch->severity = SEV_MEDIUM;
		why = knob->why;
		ch->rule = strdup("engine-knowledge");
	} else if (base != NULL) {
		ch->category = base->category;
		ch->severity = base->severity;
		ch->rule = strdup(base->name);
	} else {
		ch->rule = strdup("default");
	}
	if (user != NULL) {
		if (user->has_category)
			ch->category = user->category;
		if (user->has_severity)
			ch->severity = user->severity;
	}
	if (user != NULL && user->summary != NULL) {
		if (expand(user->summary, ch, why, &b, e) != 0)
			goto fail;
	} else if (knob == NULL && base != NULL && base->summary != NULL) {
		if (expand(base->summary, ch, why, &b, e) != 0)
			goto fail;
	} else if (ch->setting != NULL) {
		if (setting_summary(ch, why, &b, e) != 0)
			goto fail;
	} else {
		if (expand("{field} {before} \u2192 {after}", ch, why, &b, e) != 0)
			goto fail;
	}
	ch->summary = buf_take(&b, NULL);
	if (ch->summary == NULL || ch->rule == NULL)
		return err_set(e, ERR_NOMEM, "out of memory classifying a change");
	return 0;
fail:
	buf_release(&b);
	return -1;
}

int
diff_classify(const struct diff_rules *r, struct diff_result *res, struct err *e)
{
	size_t i, o = 0;

	for (i = 0; i < res->n; i++) {
		int drop = 0;
		char *drop_rule = NULL;
		char name[300];

		if (classify_one(r, &res->changes[i], &drop, &drop_rule, e) != 0)
			return -1;
		if (drop) {
			snprintf(name, sizeof(name), "ignore:%s", drop_rule);
			diff_result_suppress(res, name, 1);
			diff_change_release(&res->changes[i]);
			continue;
		}
		if (o != i)
			res->changes[o] = res->changes[i];
		o++;
	}
	res->n = o;
	return 0;
}
