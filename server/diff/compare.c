/*
 * compare.c - walks two normalised sides and emits changes.
 *
 * Objects are matched by identity through the sides' hash indexes; keyed lists
 * through a hash of the other side's keys, so the walk is linear in the input.
 * Containers are compared through engine.h: flags and env twins become
 * settings, and a raw args/command change that the settings explain is folded
 * into them. Pods are compared per owner workload, nodes per fingerprint.
 */
#include "diff/diff_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "util/err.h"
#include "util/banned.h"

#define RULE_FOLDED "folded-into-setting"
#define RULE_FOLDED_IMAGE "digest-explained-by-image-change"

struct cmp {
	struct diff_result *res;
	const char *object;
	const char *objkind;
	struct diff_path path;
	struct err *e;
};

static int cmp_value(struct cmp *c, const char *field, const json_t *a, const json_t *b);

void
diff_result_suppress(struct diff_result *res, const char *rule, long long n)
{
	json_t *v = json_object_get(res->suppressed, rule);

	json_object_set_new(res->suppressed, rule,
	    json_integer((v != NULL ? json_integer_value(v) : 0) + n));
}

struct diff_change *
diff_result_add(struct diff_result *res, const char *object, const char *objkind, const char *path,
    const char *setting, enum diff_kind kind, const json_t *before, const json_t *after,
    const char *detect, struct err *e)
{
	struct diff_change *ch;

	if (res->n >= DIFF_MAX_CHANGES) {
		err_set(e, ERR_TOO_LARGE, "more than %d changes between the two sides",
		    DIFF_MAX_CHANGES);
		return NULL;
	}
	if (res->n == res->cap) {
		size_t nc = res->cap ? 2 * res->cap : 64;
		struct diff_change *nv = realloc(res->changes, nc * sizeof(*nv));

		if (nv == NULL)
			goto nomem;
		res->changes = nv;
		res->cap = nc;
	}
	ch = &res->changes[res->n];
	memset(ch, 0, sizeof(*ch));
	ch->object = strdup(object);
	ch->objkind = strdup(objkind);
	ch->path = strdup(path);
	ch->setting = setting != NULL ? strdup(setting) : NULL;
	ch->kind = kind;
	ch->before = before != NULL ? json_deep_copy(before) : NULL;
	ch->after = after != NULL ? json_deep_copy(after) : NULL;
	ch->detect = detect;
	ch->category = CAT_OTHER;
	ch->severity = SEV_LOW;
	if (ch->object == NULL || ch->objkind == NULL || ch->path == NULL ||
	    (setting != NULL && ch->setting == NULL) || (before != NULL && ch->before == NULL) ||
	    (after != NULL && ch->after == NULL)) {
		diff_change_release(ch);
		goto nomem;
	}
	res->n++;
	return ch;
nomem:
	err_set(e, ERR_NOMEM, "out of memory recording a change");
	return NULL;
}

static struct diff_change *
emit(struct cmp *c, enum diff_kind kind, const json_t *a, const json_t *b, const char *detect)
{
	return diff_result_add(c->res, c->object, c->objkind, c->path.s[0] ? c->path.s : "/", NULL,
	    kind, a, b, detect, c->e);
}

static int
push(struct cmp *c, const char *seg, size_t *old)
{
	*old = diff_path_push(&c->path, seg);
	if (*old == (size_t)-1)
		return err_set(c->e, ERR_TOO_LARGE, "a path in '%s' is longer than %d bytes",
		    c->object, DIFF_MAX_PATH_BYTES);
	return 0;
}

static int
cmp_child(struct cmp *c, const char *seg, const char *field, const json_t *a, const json_t *b)
{
	size_t old;
	int ret;

	if (push(c, seg, &old) != 0)
		return -1;
	ret = cmp_value(c, field, a, b);
	diff_path_pop(&c->path, old);
	return ret;
}

static const char *const meta_skip[] = { "namespace", NULL };

static int
cmp_object(struct cmp *c, const json_t *a, const json_t *b, const char *const *skip)
{
	const char *k;
	json_t *v;

	/* The namespace is part of the identity, already matched (missing == "default"). */
	if (skip == NULL && strcmp(c->path.s, "/metadata") == 0)
		skip = meta_skip;
	json_object_foreach((json_t *)a, k, v) {
		const char *const *sk;
		int skipped = 0;

		for (sk = skip; sk != NULL && *sk != NULL; sk++)
			if (strcmp(*sk, k) == 0)
				skipped = 1;
		if (!skipped && cmp_child(c, k, k, v, json_object_get(b, k)) != 0)
			return -1;
	}
	json_object_foreach((json_t *)b, k, v) {
		const char *const *sk;
		int skipped = 0;

		for (sk = skip; sk != NULL && *sk != NULL; sk++)
			if (strcmp(*sk, k) == 0)
				skipped = 1;
		if (!skipped && json_object_get(a, k) == NULL &&
		    cmp_child(c, k, k, NULL, v) != 0)
			return -1;
	}
	return 0;
}

/* ---- lists ---- */

static int
all_objects(const json_t *a)
{
	size_t i;

	for (i = 0; i < json_array_size(a); i++)
		if (!json_is_object(json_array_get(a, i)))
			return 0;
	return 1;
}

/* Keys of every item by a named string field, or NULL if one lacks it or repeats it. */
static json_t *
keys_by_field(const json_t *arr, const char *f)
{
	json_t *map = json_object();
	size_t i;

	for (i = 0; map != NULL && i < json_array_size(arr); i++) {
		const json_t *v = json_object_get(json_array_get(arr, i), f);

		if (!json_is_string(v) || json_object_get(map, json_string_value(v)) != NULL ||
		    json_object_set_new(map, json_string_value(v), json_integer((json_int_t)i)) != 0) {
			json_decref(map);
			return NULL;
		}
	}
	return map;
}

static json_t *
keys_known(const json_t *arr, const char *field)
{
	json_t *map = json_object();
	size_t i;

	for (i = 0; map != NULL && i < json_array_size(arr); i++) {
		char *k = diff_list_key(field, json_array_get(arr, i));

		if (k == NULL || json_object_get(map, k) != NULL ||
		    json_object_set_new(map, k, json_integer((json_int_t)i)) != 0) {
			free(k);
			json_decref(map);
			return NULL;
		}
		free(k);
	}
	return map;
}

/* dyff's identification rule (peers.md 5.3): name, key, id when every entry of both lists
 * has it uniquely; otherwise a string field unique in all entries when the lists hold more
 * than three entries. Returns the field or NULL. */
static const char *
guess_identifier(const json_t *a, const json_t *b, json_t **ka, json_t **kb)
{
	static const char *const named[] = { "name", "key", "id", NULL };
	static char guessed[128];
	const char *const *f;
	const json_t *first;
	void *it;

	for (f = named; *f != NULL; f++) {
		*ka = keys_by_field(a, *f);
		*kb = *ka != NULL ? keys_by_field(b, *f) : NULL;
		if (*ka != NULL && *kb != NULL)
			return *f;
		json_decref(*ka);
		json_decref(*kb);
	}
	*ka = *kb = NULL;
	if (json_array_size(a) < DIFF_GUESS_MIN_ITEMS || json_array_size(b) < DIFF_GUESS_MIN_ITEMS)
		return NULL;
	first = json_array_get(a, 0);
	{
		/* Scan candidate fields in sorted order so the choice is stable. */
		const char **names = calloc(json_object_size(first) + 1, sizeof(*names));
		size_t n = 0, i;

		if (names == NULL)
			return NULL;
		for (it = json_object_iter((json_t *)first); it != NULL;
		    it = json_object_iter_next((json_t *)first, it))
			if (json_is_string(json_object_iter_value(it)))
				names[n++] = json_object_iter_key(it);
		for (i = 1; i < n; i++) {
			size_t j = i;

			while (j > 0 && strcmp(names[j - 1], names[j]) > 0) {
				const char *t = names[j];

				names[j] = names[j - 1];
				names[j - 1] = t;
				j--;
			}
		}
		for (i = 0; i < n; i++) {
			*ka = keys_by_field(a, names[i]);
			*kb = *ka != NULL ? keys_by_field(b, names[i]) : NULL;
			if (*ka != NULL && *kb != NULL) {
				snprintf(guessed, sizeof(guessed), "%s", names[i]);
				free(names);
				return guessed;
			}
			json_decref(*ka);
			json_decref(*kb);
		}
		free(names);
	}
	*ka = *kb = NULL;
	return NULL;
}

static int
is_container_list(const char *field)
{
	return field != NULL && (strcmp(field, "containers") == 0 ||
	    strcmp(field, "initContainers") == 0 || strcmp(field, "ephemeralContainers") == 0);
}

static int cmp_container(struct cmp *c, const json_t *a, const json_t *b);

static int
cmp_item(struct cmp *c, const char *seg, const char *field, const json_t *a, const json_t *b)
{
	size_t old;
	int ret;

	if (a != NULL && b != NULL && is_container_list(field)) {
		if (push(c, seg, &old) != 0)
			return -1;
		ret = cmp_container(c, a, b);
		diff_path_pop(&c->path, old);
		return ret;
	}
	return cmp_child(c, seg, NULL, a, b);
}

static int
cmp_keyed(struct cmp *c, const char *field, const json_t *a, const json_t *b, json_t *ka,
    json_t *kb)
{
	const char *k;
	json_t *v;

	json_object_foreach(ka, k, v) {
		json_t *w = json_object_get(kb, k);

		if (cmp_item(c, k, field, json_array_get(a, (size_t)json_integer_value(v)),
		    w != NULL ? json_array_get(b, (size_t)json_integer_value(w)) : NULL) != 0)
			return -1;
	}
	json_object_foreach(kb, k, v) {
		if (json_object_get(ka, k) == NULL &&
		    cmp_item(c, k, field, NULL, json_array_get(b, (size_t)json_integer_value(v))) != 0)
			return -1;
	}
	return 0;
}

static int
cmp_array(struct cmp *c, const char *field, const json_t *a, const json_t *b)
{
	json_t *ka = NULL, *kb = NULL;
	int ret = 0;

	if (json_equal(a, b))
		return 0;
	if (field != NULL && strcmp(field, "metrics") == 0) {
		/* A set (HPA metrics, envFrom): already in canonical order; one change. */
		return emit(c, DIFF_MODIFIED, a, b, "field") != NULL ? 0 : -1;
	}
	if (all_objects(a) && all_objects(b)) {
		if (field == NULL || (ka = keys_known(a, field)) == NULL ||
		    (kb = keys_known(b, field)) == NULL) {
			json_decref(ka);
			json_decref(kb);
			ka = kb = NULL;
			guess_identifier(a, b, &ka, &kb);
		}
		if (ka != NULL && kb != NULL) {
			const char *first = json_object_iter_key(json_object_iter(ka));

			if (json_array_size(a) == 1 && json_array_size(b) == 1 &&
			    json_object_get(kb, first) == NULL) {
				/* One item each, renamed: compare them directly, under the new name. */
				ret = cmp_item(c, json_object_iter_key(json_object_iter(kb)), field,
				    json_array_get(a, 0), json_array_get(b, 0));
			} else {
				ret = cmp_keyed(c, field, a, b, ka, kb);
			}
			goto out;
		}
		if (json_array_size(a) == 1 && json_array_size(b) == 1) {
			ret = cmp_item(c, "0", field, json_array_get(a, 0), json_array_get(b, 0));
			goto out;
		}
	}
	ret = emit(c, DIFF_MODIFIED, a, b, "field") != NULL ? 0 : -1;
out:
	json_decref(ka);
	json_decref(kb);
	return ret;
}

static int
cmp_value(struct cmp *c, const char *field, const json_t *a, const json_t *b)
{
	if (a == NULL && b == NULL)
		return 0;
	if (a == NULL)
		return emit(c, DIFF_ADDED, NULL, b, "field") != NULL ? 0 : -1;
	if (b == NULL)
		return emit(c, DIFF_REMOVED, a, NULL, "field") != NULL ? 0 : -1;
	if (json_is_object(a) && json_is_object(b))
		return cmp_object(c, a, b, NULL);
	if (json_is_array(a) && json_is_array(b))
		return cmp_array(c, field, a, b);
	if (diff_value_equal(a, b))
		return 0;
	return emit(c, DIFF_MODIFIED, a, b, "field") != NULL ? 0 : -1;
}

/* ---- containers ---- */

static int
eq(const json_t *a, const json_t *b)
{
	return a == NULL || b == NULL ? a == b : json_equal(a, b);
}

static const char *
base_name(const char *s)
{
	const char *sl = strrchr(s, '/');

	return sl != NULL ? sl + 1 : s;
}

/* Splits a shell string into words for the residual: quotes and backslashes as sh does,
 * and ';', '&', '|' as words of their own so a launcher before the engine stays visible. */
static int
shell_words(const char *s, json_t *out)
{
	char *w = malloc(strlen(s) + 1);
	size_t n = 0;
	int inword = 0;
	char q = 0;

	if (w == NULL)
		return -1;
	for (; *s != '\0'; s++) {
		if (q != 0) {
			if (*s == q)
				q = 0;
			else if (q == '"' && *s == '\\' && s[1] != '\0')
				w[n++] = *++s;
			else
				w[n++] = *s;
			continue;
		}
		if (*s == '\'' || *s == '"') {
			q = *s;
			inword = 1;
			continue;
		}
		if (*s == '\\' && s[1] != '\0') {
			w[n++] = *++s;
			inword = 1;
			continue;
		}
		if (*s == ' ' || *s == '\t' || *s == '\n' || *s == ';' || *s == '&' || *s == '|') {
			if (inword) {
				w[n] = '\0';
				json_array_append_new(out, json_string(w));
				n = 0;
				inword = 0;
			}
			if (*s == ';' || *s == '&' || *s == '|') {
				char op[2] = { *s, '\0' };

				json_array_append_new(out, json_string(op));
			}
			continue;
		}
		w[n++] = *s;
		inword = 1;
	}
	if (inword) {
		w[n] = '\0';
		json_array_append_new(out, json_string(w));
	}
	free(w);
	return 0;
}

/* command + args with `sh -c STRING` split like a shell, flags and their values dropped:
 * what the parsed settings do not explain. */
static json_t *
residual(const json_t *ct, struct err *e)
{
	json_t *words = json_array(), *out = json_array();
	const char *fields[] = { "command", "args" };
	size_t f, i;

	if (words == NULL || out == NULL)
		goto nomem;
	for (f = 0; f < 2; f++) {
		const json_t *arr = json_object_get(ct, fields[f]);

		for (i = 0; i < json_array_size(arr); i++) {
			const json_t *w = json_array_get(arr, i);
			size_t nw = json_array_size(words);

			if (!json_is_string(w))
				continue;
			if (nw >= 2 && strcmp(json_string_value(json_array_get(words, nw - 1)), "-c") == 0 &&
			    (strcmp(base_name(json_string_value(json_array_get(words, nw - 2))), "sh") == 0 ||
			    strcmp(base_name(json_string_value(json_array_get(words, nw - 2))), "bash") == 0)) {
				json_array_remove(words, nw - 1);
				json_array_remove(words, nw - 2);
				if (shell_words(json_string_value(w), words) != 0)
					goto nomem;
				continue;
			}
			json_array_append(words, (json_t *)w);
		}
	}
	for (i = 0; i < json_array_size(words); i++) {
		const char *w = json_string_value(json_array_get(words, i));

		if (w[0] == '-' && w[1] != '\0') {
			const char *nx = i + 1 < json_array_size(words) ?
			    json_string_value(json_array_get(words, i + 1)) : NULL;

			if (strchr(w, '=') == NULL && nx != NULL && nx[0] != '-' &&
			    strcmp(w, "-m") != 0 && strcmp(nx, ";") != 0 && strcmp(nx, "&") != 0 &&
			    strcmp(nx, "|") != 0)
				i++;
			continue;
		}
		json_array_append_new(out, json_string(w));
	}
	json_decref(words);
	return out;
nomem:
	json_decref(words);
	json_decref(out);
	err_set(e, ERR_NOMEM, "out of memory comparing a container");
	return NULL;
}

static int
setting_change(struct cmp *c, const struct engine_parse *pa, const struct engine_parse *pb,
    const struct engine_setting *sa, const struct engine_setting *sb)
{
	const struct engine_setting *s = sb != NULL ? sb : sa;
	const struct engine_parse *side = sb != NULL ? pb : pa;
	enum engine_kind ek = engine_parse_kind(side);
	const struct engine_knob *knob;
	struct diff_change *ch;
	size_t old;
	const char *ver;

	if (sa != NULL && sb != NULL && diff_value_equal(sa->value, sb->value))
		return 0;
	/* Words a generic parse could not name are the residual's to report. */
	if (strcmp(s->name, "positional") == 0)
		return 0;
	if (push(c, s->source == ENGINE_SRC_ENV ? "env" : "args", &old) != 0)
		return -1;
	{
		size_t old2;

		if (push(c, s->source == ENGINE_SRC_ENV && s->raw != NULL ? s->raw : s->name,
		    &old2) != 0) {
			diff_path_pop(&c->path, old);
			return -1;
		}
	}
	ch = diff_result_add(c->res, c->object, c->objkind, c->path.s, s->name,
	    sa == NULL ? DIFF_ADDED : sb == NULL ? DIFF_REMOVED : DIFF_MODIFIED,
	    sa != NULL ? sa->value : NULL, sb != NULL ? sb->value : NULL, "setting", c->e);
	diff_path_pop(&c->path, old);
	if (ch == NULL)
		return -1;
	ch->engine = (int)ek;
	ver = engine_parse_version(sa == NULL ? pa : sb == NULL ? pb : pb);
	if (ver != NULL && (ch->engine_version = strdup(ver)) == NULL)
		return err_set(c->e, ERR_NOMEM, "out of memory recording a change");
	knob = engine_knob_find(ek, s->name);
	if ((sa == NULL || sb == NULL) && knob != NULL && knob->default_value != NULL) {
		ch->default_text = diff_value_text(knob->default_value, DIFF_SUMMARY_VALUE_CHARS);
		if (ch->default_text == NULL)
			return err_set(c->e, ERR_NOMEM, "out of memory recording a change");
	}
	return 0;
}

/* Env names that a setting explains (TGI's MAX_TOTAL_TOKENS, ...). */
static void
env_twins(const struct engine_parse *p, json_t *names)
{
	size_t i;

	for (i = 0; i < engine_parse_count(p); i++) {
		const struct engine_setting *s = engine_parse_at(p, i);

		if (s->source == ENGINE_SRC_ENV && s->raw != NULL)
			json_object_set_new(names, s->raw, json_true());
	}
}

static json_t *
env_without(const json_t *env, const json_t *names)
{
	json_t *out = json_array();
	size_t i;

	for (i = 0; out != NULL && i < json_array_size(env); i++) {
		const json_t *it = json_array_get(env, i), *n = json_object_get(it, "name");

		if (json_is_string(n) && json_object_get(names, json_string_value(n)) != NULL)
			continue;
		json_array_append(out, (json_t *)it);
	}
	return out;
}

static int
cmp_container(struct cmp *c, const json_t *a, const json_t *b)
{
	static const char *const skip[] = { "command", "args", "env", NULL };
	struct engine_parse *pa = NULL, *pb = NULL;
	json_t *ra = NULL, *rb = NULL, *twins = NULL, *ea = NULL, *eb = NULL;
	size_t i = 0, j = 0, na, nb, old;
	int ret = -1, raw_differs;

	if (json_equal(a, b))
		return 0;
	if (engine_parse(a, &pa, c->e) != 0 || engine_parse(b, &pb, c->e) != 0)
		goto out;
	if (engine_parse_kind(pa) != engine_parse_kind(pb)) {
		json_t *ka = json_string(engine_kind_name(engine_parse_kind(pa)));
		json_t *kb = json_string(engine_kind_name(engine_parse_kind(pb)));
		struct diff_change *ch = NULL;

		if (push(c, "engine", &old) == 0) {
			ch = emit(c, DIFF_MODIFIED, ka, kb, "engine");
			diff_path_pop(&c->path, old);
		}
		json_decref(ka);
		json_decref(kb);
		if (ch == NULL)
			goto out;
	}
	/* Settings, merged by name (both lists are sorted). */
	na = engine_parse_count(pa);
	nb = engine_parse_count(pb);
	while (i < na || j < nb) {
		const struct engine_setting *sa = i < na ? engine_parse_at(pa, i) : NULL;
		const struct engine_setting *sb = j < nb ? engine_parse_at(pb, j) : NULL;
		int d = sa == NULL ? 1 : sb == NULL ? -1 : strcmp(sa->name, sb->name);

		if (setting_change(c, pa, pb, d <= 0 ? sa : NULL, d >= 0 ? sb : NULL) != 0)
			goto out;
		if (d <= 0)
			i++;
		if (d >= 0)
			j++;
	}
	/* Env, without the variables a setting stands for. */
	twins = json_object();
	if (twins == NULL)
		goto nomem;
	env_twins(pa, twins);
	env_twins(pb, twins);
	ea = env_without(json_object_get(a, "env"), twins);
	eb = env_without(json_object_get(b, "env"), twins);
	if (ea == NULL || eb == NULL)
		goto nomem;
	if (json_array_size(ea) == 0 && json_object_get(a, "env") == NULL) {
		json_decref(ea);
		ea = NULL;
	}
	if (json_array_size(eb) == 0 && json_object_get(b, "env") == NULL) {
		json_decref(eb);
		eb = NULL;
	}
	if (cmp_child(c, "env", "env", ea, eb) != 0)
		goto out;
	/* Raw command/args: reported only for what the settings do not explain. */
	raw_differs = !eq(json_object_get(a, "command"), json_object_get(b, "command")) ||
	    !eq(json_object_get(a, "args"), json_object_get(b, "args"));
	if (raw_differs) {
		if ((ra = residual(a, c->e)) == NULL || (rb = residual(b, c->e)) == NULL)
			goto out;
		if (json_equal(ra, rb)) {
			diff_result_suppress(c->res, RULE_FOLDED, 1);
		} else {
			const char *f = !eq(json_object_get(a, "command"),
			    json_object_get(b, "command")) ? "command" : "args";
			struct diff_change *ch;

			if (push(c, f, &old) != 0)
				goto out;
			ch = emit(c, json_object_get(a, f) == NULL ? DIFF_ADDED :
			    json_object_get(b, f) == NULL ? DIFF_REMOVED : DIFF_MODIFIED,
			    json_object_get(a, f), json_object_get(b, f), "command");
			diff_path_pop(&c->path, old);
			if (ch == NULL)
				goto out;
			if (strcmp(f, "command") == 0 &&
			    !eq(json_object_get(a, "args"), json_object_get(b, "args"))) {
				if (push(c, "args", &old) != 0)
					goto out;
				ch = emit(c, DIFF_MODIFIED, json_object_get(a, "args"),
				    json_object_get(b, "args"), "command");
				diff_path_pop(&c->path, old);
				if (ch == NULL)
					goto out;
			}
		}
	}
	if (cmp_object(c, a, b, skip) != 0)
		goto out;
	ret = 0;
	goto out;
nomem:
	err_set(c->e, ERR_NOMEM, "out of memory comparing a container");
out:
	engine_parse_free(pa);
	engine_parse_free(pb);
	json_decref(ra);
	json_decref(rb);
	json_decref(twins);
	json_decref(ea);
	json_decref(eb);
	return ret;
}

/* ---- images ---- */

/* "repo:tag@sha256:x" -> repo:tag and digest; a floating tag is none or "latest". */
static void
image_split(const char *img, char *ref, size_t cap, const char **digest)
{
	const char *at = strchr(img, '@');

	snprintf(ref, cap, "%.*s", at != NULL ? (int)(at - img) : (int)strlen(img), img);
	*digest = at != NULL ? at + 1 : NULL;
}

int diff_image_floating(const char *img);

int
diff_image_floating(const char *img)
{
	char ref[1024];
	const char *dg, *slash, *colon;

	image_split(img, ref, sizeof(ref), &dg);
	if (dg != NULL)
		return 0; /* pinned by digest */
	slash = strrchr(ref, '/');
	colon = strrchr(ref, ':');
	if (colon == NULL || (slash != NULL && colon < slash))
		return 1;
	return strcmp(colon + 1, "latest") == 0;
}

/* Image fields of containers: same tag other digest, floating tags. Runs over every
 * emitted change whose path ends in /image. */
static int
refine_images(struct diff_result *res, size_t from)
{
	size_t i;

	for (i = from; i < res->n; i++) {
		struct diff_change *ch = &res->changes[i];
		size_t pl = strlen(ch->path);
		char ra[1024], rb[1024];
		const char *da, *db;

		if (strcmp(ch->detect, "field") != 0 || pl < 6 || strcmp(ch->path + pl - 6, "/image") != 0 ||
		    !json_is_string(ch->after))
			continue;
		if (json_is_string(ch->before)) {
			image_split(json_string_value(ch->before), ra, sizeof(ra), &da);
			image_split(json_string_value(ch->after), rb, sizeof(rb), &db);
			if (strcmp(ra, rb) == 0 && da != NULL && db != NULL) {
				ch->detect = "image_same_tag";
				continue;
			}
		}
		if (diff_image_floating(json_string_value(ch->after)))
			ch->detect = "floating_tag";
	}
	return 0;
}

/* ---- groups and nodes ---- */

static json_t *
sorted_keys(const json_t *counts)
{
	json_t *arr = json_array();
	const char *k;
	json_t *v;
	size_t i, n;

	json_object_foreach((json_t *)counts, k, v)
		json_array_append_new(arr, json_string(k));
	n = json_array_size(arr);
	for (i = 1; i < n; i++) {
		size_t j = i;

		while (j > 0 && strcmp(json_string_value(json_array_get(arr, j - 1)),
		    json_string_value(json_array_get(arr, j))) > 0) {
			json_t *t = json_incref(json_array_get(arr, j));

			json_array_set(arr, j, json_array_get(arr, j - 1));
			json_array_set_new(arr, j - 1, t);
			j--;
		}
	}
	return arr;
}

static int
group_emit(struct diff_result *res, const struct diff_group *g, const char *path,
    const json_t *before, const json_t *after, const char *detect, struct err *e)
{
	return diff_result_add(res, g->display, "PodGroup", path, NULL,
	    before == NULL ? DIFF_ADDED : after == NULL ? DIFF_REMOVED : DIFF_MODIFIED,
	    before, after, detect, e) != NULL ? 0 : -1;
}

static int
keyset_equal(const json_t *a, const json_t *b)
{
	const char *k;
	json_t *v;

	if (json_object_size(a) != json_object_size(b))
		return 0;
	json_object_foreach((json_t *)a, k, v)
		if (json_object_get(b, k) == NULL)
			return 0;
	return 1;
}

static int
cmp_group(struct diff_result *res, const struct diff_group *ga, const struct diff_group *gb,
    struct err *e)
{
	const char *cname;
	json_t *db, *sa = NULL, *sb = NULL;
	char path[DIFF_MAX_PATH_BYTES];
	int ret = -1;

	/* Image digests per container. */
	json_object_foreach(gb->digests, cname, db) {
		const json_t *da = ga != NULL ? json_object_get(ga->digests, cname) : NULL;
		const json_t *ia = ga != NULL ? json_object_get(ga->images, cname) : NULL;
		const json_t *ib = json_object_get(gb->images, cname);
		const char *detect;

		if (da != NULL && keyset_equal(da, db))
			continue;
		if (da == NULL && json_object_size(db) < 2)
			continue;
		snprintf(path, sizeof(path), "/pods/containers/%s/imageID", cname);
		if (json_object_size(db) > 1)
			detect = "replica_digest_mixed";
		else if (ia != NULL && ib != NULL && keyset_equal(ia, ib))
			detect = "image_same_tag";
		else {
			diff_result_suppress(res, RULE_FOLDED_IMAGE, 1);
			continue;
		}
		sa = da != NULL ? sorted_keys(da) : NULL;
		sb = sorted_keys(db);
		if (group_emit(res, gb, path, sa, sb, detect, e) != 0)
			goto out;
		json_decref(sa);
		json_decref(sb);
		sa = sb = NULL;
	}
	/* GPU fingerprints of the nodes the pods run on. */
	if (json_object_size(gb->gpus) > 0 &&
	    (ga == NULL ? json_object_size(gb->gpus) > 1 :
	    (json_object_size(ga->gpus) > 0 && !keyset_equal(ga->gpus, gb->gpus)))) {
		sa = ga != NULL ? sorted_keys(ga->gpus) : NULL;
		sb = sorted_keys(gb->gpus);
		if (group_emit(res, gb, "/pods/nodes/gpu", sa, sb,
		    json_object_size(gb->gpus) > 1 ? "replica_gpu_mixed" : "pod_gpu", e) != 0)
			goto out;
		json_decref(sa);
		json_decref(sb);
		sa = sb = NULL;
	}
	/* Replicas started with different command lines: a rollout in progress or stuck. */
	if (json_object_size(gb->argv) > 1 &&
	    (ga == NULL || json_object_size(ga->argv) < 2)) {
		json_t *n = json_integer((json_int_t)json_object_size(gb->argv));
		json_t *one = json_integer(1);

		ret = group_emit(res, gb, "/pods/args", one, n, "replica_args_mixed", e);
		json_decref(n);
		json_decref(one);
		if (ret != 0)
			goto out;
		ret = -1;
	}
	/* Restarts: evidence of a crash loop or OOM since the baseline. */
	if (ga != NULL && gb->restarts > ga->restarts) {
		json_t *x = json_integer(ga->restarts), *y = json_integer(gb->restarts);

		ret = group_emit(res, gb, "/pods/restarts", x, y, "restarts", e);
		json_decref(x);
		json_decref(y);
		if (ret != 0)
			goto out;
	}
	ret = 0;
out:
	json_decref(sa);
	json_decref(sb);
	return ret;
}

static int
cmp_fleet(const struct diff_side *a, const struct diff_side *b, struct diff_result *res,
    struct err *e)
{
	const char *fp;
	json_t *v;
	char path[DIFF_MAX_PATH_BYTES];
	struct diff_path p;

	json_object_foreach(a->fleet, fp, v) {
		json_t *w = json_object_get(b->fleet, fp);

		if (w != NULL && json_integer_value(w) == json_integer_value(v))
			continue;
		p.len = 0;
		p.s[0] = '\0';
		diff_path_push(&p, "nodes");
		diff_path_push(&p, fp);
		snprintf(path, sizeof(path), "%s", p.s);
		if (diff_result_add(res, "core/Node", "Node", path, NULL,
		    w == NULL ? DIFF_REMOVED : DIFF_MODIFIED, v, w, "node_fingerprint", e) == NULL)
			return -1;
	}
	json_object_foreach(b->fleet, fp, v) {
		if (json_object_get(a->fleet, fp) != NULL)
			continue;
		p.len = 0;
		p.s[0] = '\0';
		diff_path_push(&p, "nodes");
		diff_path_push(&p, fp);
		if (diff_result_add(res, "core/Node", "Node", p.s, NULL, DIFF_ADDED, NULL, v,
		    "node_fingerprint", e) == NULL)
			return -1;
	}
	return 0;
}

int
diff_compare_sides(const struct diff_side *a, const struct diff_side *b, struct diff_result *res,
    struct err *e)
{
	size_t i;
	struct cmp c;

	memset(&c, 0, sizeof(c));
	c.res = res;
	c.e = e;
	for (i = 0; i < a->nobjs; i++) {
		const struct diff_obj *oa = &a->objs[i];
		json_t *at = json_object_get(b->index, oa->key);
		const struct diff_obj *ob = at != NULL ? &b->objs[json_integer_value(at)] : NULL;

		if (ob != NULL && json_equal(oa->doc, ob->doc))
			continue;
		c.object = ob != NULL ? ob->display : oa->display;
		c.objkind = oa->kind;
		c.path.len = 0;
		c.path.s[0] = '\0';
		if (ob == NULL) {
			if (emit(&c, DIFF_REMOVED, oa->doc, NULL, "object") == NULL)
				return -1;
			continue;
		}
		if (cmp_value(&c, NULL, oa->doc, ob->doc) != 0)
			return -1;
	}
	for (i = 0; i < b->nobjs; i++) {
		const struct diff_obj *ob = &b->objs[i];

		if (json_object_get(a->index, ob->key) != NULL)
			continue;
		c.object = ob->display;
		c.objkind = ob->kind;
		c.path.len = 0;
		c.path.s[0] = '\0';
		if (emit(&c, DIFF_ADDED, NULL, ob->doc, "object") == NULL)
			return -1;
	}
	if (refine_images(res, 0) != 0)
		return -1;
	for (i = 0; i < b->ngroups; i++) {
		json_t *at = json_object_get(a->group_index, b->groups[i].key);

		if (cmp_group(res, at != NULL ? &a->groups[json_integer_value(at)] : NULL,
		    &b->groups[i], e) != 0)
			return -1;
	}
	return cmp_fleet(a, b, res, e);
}
