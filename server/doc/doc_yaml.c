/*
 * doc_yaml.c - YAML streams to jansson values, straight from libyaml's events.
 *
 * No node tree is built: each event adds to the value on top of an explicit
 * stack (so nesting costs no C stack), scalars are resolved as they arrive,
 * and a mapping key's text is taken over from the event instead of copied.
 *
 * Anchors are remembered per document with the number of nodes under them.
 * An alias is a deep copy of its anchor's value (callers may change values in
 * place, so no two places share one), counted against DOC_MAX_ALIAS_EXPANSION
 * (uses), DOC_MAX_ALIAS_NODES (copied nodes) and DOC_MAX_NODES, before any copy
 * is made: a billion-laughs input fails at the first alias that would pass a
 * limit. An alias to a node that is still open (&a [*a]) is refused.
 *
 * Merge keys (<<) take a mapping, an alias to one, or a list of them; the merged
 * keys are added when the mapping ends, so keys written in the mapping win over
 * merged ones wherever the << stands, and earlier merged mappings win over later
 * ones (the YAML merge-key rule).
 */
#include "doc/doc_int.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "util/err.h"
#include "util/limits.h"
#include "util/banned.h"

#define TAG_PREFIX "tag:yaml.org,2002:"

struct frame {
	json_t *v;              /* object or array being built */
	json_t *merges;         /* values of << keys, applied at the end; or NULL */
	char *key;              /* pending key (owned, free()) */
	int have_key;
	int key_is_merge;
	yaml_mark_t key_mark;
	char *anchor;           /* this node's anchor (owned) or NULL */
	size_t nodes_at_start;
};

struct anchor {
	char *name;
	json_t *v;
	size_t nodes;
};

struct loader {
	const char *name;
	const char *data;
	size_t len;
	struct err *e;
	json_t *out;

	struct frame *stack;
	size_t depth, stack_cap;

	struct anchor *anchors;
	size_t nanchors, anchors_cap;
	json_t *anchor_index;   /* name -> index into anchors */

	json_t *root;
	size_t nodes;           /* in the whole stream */
	size_t alias_uses;      /* in this document */
	size_t alias_nodes;     /* in this document */
	size_t documents;
};

static int fail_at(struct loader *l, enum err_code code, yaml_mark_t m, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int
fail_at(struct loader *l, enum err_code code, yaml_mark_t m, const char *fmt, ...)
{
	char what[ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return err_set(l->e, code, "%s:%zu:%zu: %s", l->name, m.line + 1, m.column + 1, what);
}

/* Names a scalar in an error message without flooding it. */
static void
quote_short(const char *s, size_t n, char out[48])
{
	size_t k, m = 0;

	for (k = 0; k < n && m < 40; k++)
		out[m++] = (s[k] >= 0x20 && s[k] < 0x7f) ? s[k] : '?';
	if (k < n) {
		out[m++] = '.';
		out[m++] = '.';
		out[m++] = '.';
	}
	out[m] = '\0';
}

static void
frame_release(struct frame *f)
{
	json_decref(f->v);
	json_decref(f->merges);
	free(f->key);
	free(f->anchor);
	memset(f, 0, sizeof(*f));
}

static void
anchors_clear(struct loader *l)
{
	size_t k;

	for (k = 0; k < l->nanchors; k++) {
		free(l->anchors[k].name);
		json_decref(l->anchors[k].v);
	}
	l->nanchors = 0;
	json_object_clear(l->anchor_index);
	l->alias_uses = 0;
	l->alias_nodes = 0;
}

/* Takes `name` (owned) and a reference to v. */
static int
anchor_add(struct loader *l, char *name, json_t *v, size_t nodes, yaml_mark_t m)
{
	json_t *idx;

	if (l->nanchors == l->anchors_cap) {
		size_t cap = l->anchors_cap ? l->anchors_cap * 2 : 16;
		struct anchor *p = realloc(l->anchors, cap * sizeof(*p));

		if (p == NULL) {
			free(name);
			return fail_at(l, ERR_NOMEM, m, "out of memory recording an anchor");
		}
		l->anchors = p;
		l->anchors_cap = cap;
	}
	idx = json_integer((json_int_t)l->nanchors);
	if (idx == NULL || json_object_set_new(l->anchor_index, name, idx) < 0) {
		free(name);
		return fail_at(l, ERR_NOMEM, m, "out of memory recording an anchor");
	}
	l->anchors[l->nanchors].name = name;
	l->anchors[l->nanchors].v = json_incref(v);
	l->anchors[l->nanchors].nodes = nodes;
	l->nanchors++;
	return 0;
}

static int
count_node(struct loader *l, yaml_mark_t m)
{
	if (++l->nodes > DOC_MAX_NODES)
		return fail_at(l, ERR_TOO_LARGE, m, "more than %d nodes", DOC_MAX_NODES);
	return 0;
}

/* The string a resolved scalar becomes as a mapping key (sigs.k8s.io/yaml). */
static char *
key_from_json(struct loader *l, const json_t *v, yaml_mark_t m)
{
	char tmp[64];

	switch (json_typeof(v)) {
	case JSON_STRING:
		return strdup(json_string_value(v));
	case JSON_INTEGER:
		snprintf(tmp, sizeof(tmp), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return strdup(tmp);
	case JSON_REAL:
		doc_format_float_key(json_real_value(v), tmp);
		return strdup(tmp);
	case JSON_TRUE:
		return strdup("true");
	case JSON_FALSE:
		return strdup("false");
	case JSON_NULL:
		fail_at(l, ERR_INVALID, m, "a mapping key is null; quote it to use it as a string");
		return NULL;
	default:
		fail_at(l, ERR_INVALID, m, "a mapping key is a mapping or a list; keys must be scalars");
		return NULL;
	}
}

/* Adds a finished value (a reference the caller gives away) to the node on top. */
static int
deliver(struct loader *l, json_t *v, yaml_mark_t m)
{
	struct frame *f;
	size_t before;
	int rc = 0;

	if (l->depth == 0) {
		json_decref(l->root);
		l->root = v;
		return 0;
	}
	f = &l->stack[l->depth - 1];
	if (json_is_array(f->v))
		return json_array_append_new(f->v, v) < 0 ?
		    fail_at(l, ERR_NOMEM, m, "out of memory adding to a list") : 0;
	if (f->key_is_merge) {
		size_t k;

		f->have_key = 0;
		f->key_is_merge = 0;
		if (json_is_array(v)) {
			for (k = 0; k < json_array_size(v); k++)
				if (!json_is_object(json_array_get(v, k)))
					break;
			if (k < json_array_size(v)) {
				json_decref(v);
				return fail_at(l, ERR_INVALID, f->key_mark,
				    "a merge key (<<) takes a mapping or a list of mappings");
			}
		} else if (!json_is_object(v)) {
			json_decref(v);
			return fail_at(l, ERR_INVALID, f->key_mark,
			    "a merge key (<<) takes a mapping or a list of mappings");
		}
		if (f->merges == NULL && (f->merges = json_array()) == NULL) {
			json_decref(v);
			return fail_at(l, ERR_NOMEM, m, "out of memory merging a mapping");
		}
		if (json_array_append_new(f->merges, v) < 0)
			return fail_at(l, ERR_NOMEM, m, "out of memory merging a mapping");
		return 0;
	}
	before = json_object_size(f->v);
	if (json_object_set_new_nocheck(f->v, f->key, v) < 0) {
		rc = fail_at(l, ERR_NOMEM, m, "out of memory adding to a mapping");
	} else if (json_object_size(f->v) == before) {
		char q[48];

		quote_short(f->key, strlen(f->key), q);
		rc = fail_at(l, ERR_INVALID, f->key_mark, "duplicate mapping key '%s'", q);
	}
	free(f->key);
	f->key = NULL;
	f->have_key = 0;
	return rc;
}

/* Applies the << merges of a finished mapping: a key already there stays. */
static int
apply_merges(struct loader *l, struct frame *f, yaml_mark_t m)
{
	size_t k, j;

	for (k = 0; k < json_array_size(f->merges); k++) {
		json_t *src = json_array_get(f->merges, k);
		size_t n = json_is_array(src) ? json_array_size(src) : 1;

		for (j = 0; j < n; j++) {
			json_t *obj = json_is_array(src) ? json_array_get(src, j) : src;
			const char *key;
			json_t *val;

			json_object_foreach(obj, key, val) {
				if (json_object_get(f->v, key) != NULL)
					continue;
				if (json_object_set_nocheck(f->v, key, val) < 0)
					return fail_at(l, ERR_NOMEM, m, "out of memory merging a mapping");
			}
		}
	}
	return 0;
}

/* Takes v and anchor (owned), also when it fails. */
static int
push(struct loader *l, json_t *v, yaml_char_t *anchor, yaml_mark_t m)
{
	struct frame *f;

	if (v == NULL) {
		free(anchor);
		return fail_at(l, ERR_NOMEM, m, "out of memory");
	}
	if (l->depth >= DOC_MAX_DEPTH) {
		json_decref(v);
		free(anchor);
		return fail_at(l, ERR_TOO_LARGE, m, "nesting deeper than %d levels", DOC_MAX_DEPTH);
	}
	if (l->depth == l->stack_cap) {
		size_t cap = l->stack_cap ? l->stack_cap * 2 : 32;
		struct frame *p = realloc(l->stack, cap * sizeof(*p));

		if (p == NULL) {
			json_decref(v);
			free(anchor);
			return fail_at(l, ERR_NOMEM, m, "out of memory");
		}
		l->stack = p;
		l->stack_cap = cap;
	}
	f = &l->stack[l->depth++];
	memset(f, 0, sizeof(*f));
	f->v = v;
	f->anchor = (char *)anchor;
	f->nodes_at_start = l->nodes;
	return count_node(l, m);
}

static int
pop(struct loader *l, yaml_mark_t m)
{
	struct frame *f = &l->stack[l->depth - 1];
	json_t *v;
	char *anchor;
	size_t nodes;

	if (f->merges != NULL && apply_merges(l, f, m) < 0)
		return -1;
	v = f->v;
	anchor = f->anchor;
	nodes = l->nodes - f->nodes_at_start;
	f->v = NULL;
	f->anchor = NULL;
	frame_release(f);
	l->depth--;
	if (anchor != NULL && anchor_add(l, anchor, v, nodes, m) < 0) {
		json_decref(v);
		return -1;
	}
	return deliver(l, v, m);
}

static int
is_tag(const yaml_char_t *tag, const char *name)
{
	size_t n = sizeof(TAG_PREFIX) - 1;

	return strncmp((const char *)tag, TAG_PREFIX, n) == 0 &&
	    strcmp((const char *)tag + n, name) == 0;
}

/* Resolves a scalar event into `out`; the tag rules are go-yaml v2's. */
static int
resolve_event(struct loader *l, const yaml_event_t *ev, struct scalar *out)
{
	const yaml_char_t *tag = ev->data.scalar.tag;
	const char *s = (const char *)ev->data.scalar.value;
	size_t n = ev->data.scalar.length;
	const char *want = NULL;
	char q[48];

	memset(out, 0, sizeof(*out));
	if (tag == NULL) {
		if (ev->data.scalar.plain_implicit)
			doc_resolve_plain(s, n, out);
		return 0;
	}
	if (is_tag(tag, "int"))
		want = "int";
	else if (is_tag(tag, "float"))
		want = "float";
	else if (is_tag(tag, "bool"))
		want = "bool";
	else if (is_tag(tag, "null"))
		want = "null";
	if (is_tag(tag, "merge") && n == 2 && memcmp(s, "<<", 2) == 0) {
		out->kind = SCALAR_MERGE;
		return 0;
	}
	if (want == NULL)
		return 0; /* !!str, !!binary, !!timestamp, local tags: the text */
	doc_resolve_plain(s, n, out);
	if (out->kind == SCALAR_INT && strcmp(want, "int") == 0)
		return 0;
	if (out->kind == SCALAR_INT && strcmp(want, "float") == 0) {
		out->kind = SCALAR_FLOAT;
		out->f = (double)out->i;
		return 0;
	}
	if ((out->kind == SCALAR_FLOAT && strcmp(want, "float") == 0) ||
	    (out->kind == SCALAR_BOOL && strcmp(want, "bool") == 0) ||
	    (out->kind == SCALAR_NULL && strcmp(want, "null") == 0))
		return 0;
	quote_short(s, n, q);
	return fail_at(l, ERR_INVALID, ev->start_mark, "'%s' is not a valid !!%s", q, want);
}

static json_t *
scalar_to_json(struct loader *l, const yaml_event_t *ev, const struct scalar *r)
{
	char q[48];
	json_t *v;

	switch (r->kind) {
	case SCALAR_NULL:
		return json_null();
	case SCALAR_BOOL:
		return json_boolean(r->b);
	case SCALAR_INT:
		v = json_integer(r->i);
		break;
	case SCALAR_FLOAT:
		v = doc_number_from_double(r->f);
		if (v == NULL && !isfinite(r->f)) {
			quote_short((const char *)ev->data.scalar.value, ev->data.scalar.length, q);
			fail_at(l, ERR_INVALID, ev->start_mark, "'%s' is not a finite number, which JSON "
			    "(and so Kubernetes) cannot hold; quote it to keep it as a string", q);
			return NULL;
		}
		break;
	default:
		v = json_stringn_nocheck((const char *)ev->data.scalar.value, ev->data.scalar.length);
		break;
	}
	if (v == NULL)
		fail_at(l, ERR_NOMEM, ev->start_mark, "out of memory");
	return v;
}

static int
on_scalar(struct loader *l, yaml_event_t *ev)
{
	struct frame *f = l->depth ? &l->stack[l->depth - 1] : NULL;
	struct scalar r;
	json_t *v = NULL;
	char *anchor = (char *)ev->data.scalar.anchor;

	if (count_node(l, ev->start_mark) < 0)
		return -1;
	if (ev->data.scalar.length > DOC_MAX_SCALAR_BYTES)
		return fail_at(l, ERR_TOO_LARGE, ev->start_mark,
		    "a scalar of %zu bytes is larger than the limit of %d bytes",
		    ev->data.scalar.length, DOC_MAX_SCALAR_BYTES);
	if (memchr(ev->data.scalar.value, '\0', ev->data.scalar.length) != NULL)
		return fail_at(l, ERR_INVALID, ev->start_mark, "a scalar contains a NUL character");
	if (resolve_event(l, ev, &r) < 0)
		return -1;

	if (f != NULL && json_is_object(f->v) && !f->have_key) {
		/* A mapping key. Plain text that stays a string is taken over as is. */
		char *key;

		f->key_mark = ev->start_mark;
		f->have_key = 1;
		if (r.kind == SCALAR_MERGE) {
			f->key_is_merge = 1;
			return 0;
		}
		if (r.kind == SCALAR_STR) {
			key = (char *)ev->data.scalar.value;
			ev->data.scalar.value = NULL;
		} else {
			char tmp[64];

			if (r.kind == SCALAR_NULL)
				return fail_at(l, ERR_INVALID, ev->start_mark,
				    "a mapping key is null; quote it to use it as a string");
			if (r.kind == SCALAR_BOOL)
				snprintf(tmp, sizeof(tmp), "%s", r.b ? "true" : "false");
			else if (r.kind == SCALAR_INT)
				snprintf(tmp, sizeof(tmp), "%lld", r.i);
			else
				doc_format_float_key(r.f, tmp);
			key = strdup(tmp);
		}
		if (key == NULL)
			return fail_at(l, ERR_NOMEM, ev->start_mark, "out of memory");
		f->key = key;
		if (anchor != NULL) {
			json_t *kv = json_string_nocheck(key);

			ev->data.scalar.anchor = NULL;
			if (kv == NULL) {
				free(anchor);
				return fail_at(l, ERR_NOMEM, ev->start_mark, "out of memory");
			}
			if (anchor_add(l, anchor, kv, 1, ev->start_mark) < 0) {
				json_decref(kv);
				return -1;
			}
			json_decref(kv);
		}
		return 0;
	}
	if (r.kind == SCALAR_MERGE)
		r.kind = SCALAR_STR; /* "<<" as a value is just text */
	v = scalar_to_json(l, ev, &r);
	if (v == NULL)
		return -1;
	if (anchor != NULL) {
		ev->data.scalar.anchor = NULL;
		if (anchor_add(l, anchor, v, 1, ev->start_mark) < 0) {
			json_decref(v);
			return -1;
		}
	}
	return deliver(l, v, ev->start_mark);
}

static int
on_alias(struct loader *l, const yaml_event_t *ev)
{
	const char *name = (const char *)ev->data.alias.anchor;
	struct frame *f = l->depth ? &l->stack[l->depth - 1] : NULL;
	json_t *idx = json_object_get(l->anchor_index, name);
	struct anchor *a;
	json_t *v;
	char q[48];
	size_t k;

	quote_short(name, strlen(name), q);
	if (idx == NULL) {
		for (k = 0; k < l->depth; k++) {
			if (l->stack[k].anchor != NULL && strcmp(l->stack[k].anchor, name) == 0) {
				return fail_at(l, ERR_INVALID, ev->start_mark, "alias '*%s' refers to "
				    "a node that contains it (a recursive alias)", q);
			}
		}
		return fail_at(l, ERR_INVALID, ev->start_mark, "unknown anchor '%s'", q);
	}
	a = &l->anchors[json_integer_value(idx)];
	if (++l->alias_uses > DOC_MAX_ALIAS_EXPANSION)
		return fail_at(l, ERR_TOO_LARGE, ev->start_mark,
		    "more than %d aliases in one document", DOC_MAX_ALIAS_EXPANSION);
	l->alias_nodes += a->nodes;
	if (l->alias_nodes > DOC_MAX_ALIAS_NODES)
		return fail_at(l, ERR_TOO_LARGE, ev->start_mark,
		    "aliases expand to more than %d nodes in one document", DOC_MAX_ALIAS_NODES);
	if (a->nodes > DOC_MAX_NODES - l->nodes)
		return fail_at(l, ERR_TOO_LARGE, ev->start_mark, "more than %d nodes", DOC_MAX_NODES);
	l->nodes += a->nodes;

	if (f != NULL && json_is_object(f->v) && !f->have_key) {
		char *key = key_from_json(l, a->v, ev->start_mark);

		if (key == NULL)
			return l->e != NULL && l->e->code != ERR_OK ? -1 :
			    fail_at(l, ERR_NOMEM, ev->start_mark, "out of memory");
		f->key = key;
		f->have_key = 1;
		f->key_mark = ev->start_mark;
		return 0;
	}
	v = json_deep_copy(a->v);
	if (v == NULL)
		return fail_at(l, ERR_NOMEM, ev->start_mark, "out of memory expanding an alias");
	return deliver(l, v, ev->start_mark);
}

static int
on_collection_start(struct loader *l, yaml_event_t *ev, json_t *v, yaml_char_t **anchor)
{
	struct frame *f = l->depth ? &l->stack[l->depth - 1] : NULL;
	yaml_char_t *a = *anchor;

	if (f != NULL && json_is_object(f->v) && !f->have_key) {
		json_decref(v);
		return fail_at(l, ERR_INVALID, ev->start_mark,
		    "a mapping key is a mapping or a list; keys must be scalars");
	}
	*anchor = NULL; /* the frame owns it now */
	return push(l, v, a, ev->start_mark);
}

/* Line and column (1-based) of a byte offset, for reader errors. */
static void
offset_position(const char *data, size_t len, size_t off, size_t *line, size_t *col)
{
	size_t k;

	*line = 1;
	*col = 1;
	if (off > len)
		off = len;
	for (k = 0; k < off; k++) {
		if (data[k] == '\n') {
			(*line)++;
			*col = 1;
		} else if (((unsigned char)data[k] & 0xC0) != 0x80) {
			(*col)++;
		}
	}
}

static int
parser_error(struct loader *l, const yaml_parser_t *p)
{
	size_t line, col;

	switch (p->error) {
	case YAML_MEMORY_ERROR:
		return err_set(l->e, ERR_NOMEM, "%s: out of memory parsing YAML", l->name);
	case YAML_READER_ERROR:
		offset_position(l->data, l->len, p->problem_offset, &line, &col);
		if (p->problem_value != -1)
			return err_set(l->e, ERR_INVALID, "%s:%zu:%zu: %s (byte 0x%02X)", l->name,
			    line, col, p->problem, (unsigned)p->problem_value);
		return err_set(l->e, ERR_INVALID, "%s:%zu:%zu: %s", l->name, line, col, p->problem);
	default:
		if (p->context != NULL)
			return err_set(l->e, ERR_INVALID, "%s:%zu:%zu: %s (%s at line %zu, column %zu)",
			    l->name, p->problem_mark.line + 1, p->problem_mark.column + 1,
			    p->problem ? p->problem : "invalid YAML", p->context,
			    p->context_mark.line + 1, p->context_mark.column + 1);
		return err_set(l->e, ERR_INVALID, "%s:%zu:%zu: %s", l->name,
		    p->problem_mark.line + 1, p->problem_mark.column + 1,
		    p->problem ? p->problem : "invalid YAML");
	}
}

static int
on_event(struct loader *l, yaml_event_t *ev, int *done)
{
	switch (ev->type) {
	case YAML_STREAM_END_EVENT:
		*done = 1;
		return 0;
	case YAML_DOCUMENT_START_EVENT:
		if (++l->documents > DOC_MAX_DOCUMENTS)
			return fail_at(l, ERR_TOO_LARGE, ev->start_mark,
			    "more than %d documents", DOC_MAX_DOCUMENTS);
		json_decref(l->root);
		l->root = NULL;
		return 0;
	case YAML_DOCUMENT_END_EVENT:
		if (l->root != NULL && !json_is_null(l->root)) {
			if (json_array_append_new(l->out, l->root) < 0) {
				l->root = NULL;
				return fail_at(l, ERR_NOMEM, ev->start_mark, "out of memory");
			}
		} else {
			json_decref(l->root);
		}
		l->root = NULL;
		anchors_clear(l);
		return 0;
	case YAML_SCALAR_EVENT:
		return on_scalar(l, ev);
	case YAML_ALIAS_EVENT:
		return on_alias(l, ev);
	case YAML_SEQUENCE_START_EVENT:
		return on_collection_start(l, ev, json_array(), &ev->data.sequence_start.anchor);
	case YAML_MAPPING_START_EVENT:
		return on_collection_start(l, ev, json_object(), &ev->data.mapping_start.anchor);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		if (l->depth == 0)
			return fail_at(l, ERR_INTERNAL, ev->start_mark, "unbalanced YAML events");
		return pop(l, ev->start_mark);
	default:
		return 0;
	}
}

int
doc_yaml_load(const char *name, const char *data, size_t len, json_t *out, struct err *e)
{
	struct loader l;
	yaml_parser_t parser;
	yaml_event_t ev;
	int ret = -1, done = 0, have_parser = 0;

	memset(&l, 0, sizeof(l));
	l.name = name;
	l.data = data;
	l.len = len;
	l.e = e;
	l.out = out;
	l.anchor_index = json_object();
	if (l.anchor_index == NULL) {
		err_set(e, ERR_NOMEM, "%s: out of memory", name);
		goto out;
	}
	if (!yaml_parser_initialize(&parser)) {
		err_set(e, ERR_NOMEM, "%s: out of memory starting the YAML parser", name);
		goto out;
	}
	have_parser = 1;
	yaml_parser_set_input_string(&parser, (const unsigned char *)data, len);
	while (!done) {
		int rc;

		if (!yaml_parser_parse(&parser, &ev)) {
			parser_error(&l, &parser);
			goto out;
		}
		rc = on_event(&l, &ev, &done);
		yaml_event_delete(&ev);
		if (rc < 0)
			goto out;
	}
	ret = 0;
out:
	while (l.depth > 0)
		frame_release(&l.stack[--l.depth]);
	free(l.stack);
	if (l.anchor_index != NULL)
		anchors_clear(&l);
	free(l.anchors);
	json_decref(l.anchor_index);
	json_decref(l.root);
	if (have_parser)
		yaml_parser_delete(&parser);
	return ret;
}
