/*
 * select.c - label selectors (=, ==, !=, in, notin, exists, !key) and field
 * selectors (=, ==, !=), parsed and matched the way the API server does.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "kubesim/kubesim_int.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/banned.h"

static const char *
skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

static int
is_key_char(char c)
{
	return isalnum((unsigned char)c) || c == '-' || c == '_' || c == '.' || c == '/';
}

static int
is_value_char(char c)
{
	return isalnum((unsigned char)c) || c == '-' || c == '_' || c == '.';
}

static char *
dup_range(const char *p, size_t n)
{
	return buf_memdup0(p, n);
}

static int
add_value(struct ks_sel_req *r, const char *p, size_t n, const char *sel, struct err *e)
{
	if (r->nvals >= KUBESIM_MAX_SELECTOR_VALS)
		return err_set(e, ERR_INVALID, "selector '%s' has more than %d values in one set", sel,
		    KUBESIM_MAX_SELECTOR_VALS);
	r->vals[r->nvals] = dup_range(p, n);
	if (r->vals[r->nvals] == NULL)
		return err_set(e, ERR_NOMEM, "out of memory parsing a selector");
	r->nvals++;
	return 0;
}

/* Parses "(a,b,c)" at p; returns the position after ')' or NULL. */
static const char *
parse_set(const char *p, struct ks_sel_req *r, const char *sel, struct err *e)
{
	p = skip_ws(p);
	if (*p != '(') {
		err_set(e, ERR_INVALID, "unable to parse requirement: found '%s', expected: '('", p);
		return NULL;
	}
	p++;
	for (;;) {
		const char *start;

		p = skip_ws(p);
		start = p;
		while (is_value_char(*p))
			p++;
		if (add_value(r, start, (size_t)(p - start), sel, e) < 0)
			return NULL;
		p = skip_ws(p);
		if (*p == ',') {
			p++;
			continue;
		}
		if (*p == ')')
			return p + 1;
		err_set(e, ERR_INVALID, "unable to parse requirement: found '%s', expected: ',' or ')'", p);
		return NULL;
	}
}

int
ks_label_selector_parse(const char *s, struct ks_selector *out, struct err *e)
{
	const char *p = s;

	memset(out, 0, sizeof(*out));
	p = skip_ws(p);
	if (*p == '\0')
		return 0;
	for (;;) {
		struct ks_sel_req *r;
		const char *start;
		int negated = 0;

		if (out->n >= KUBESIM_MAX_SELECTOR_REQS) {
			err_set(e, ERR_INVALID, "selector has more than %d requirements", KUBESIM_MAX_SELECTOR_REQS);
			goto fail;
		}
		r = &out->reqs[out->n++];
		p = skip_ws(p);
		if (*p == '!') {
			negated = 1;
			p = skip_ws(p + 1);
		}
		start = p;
		while (is_key_char(*p))
			p++;
		if (p == start) {
			err_set(e, ERR_INVALID, "unable to parse requirement: found '%s', expected: identifier", start);
			goto fail;
		}
		r->key = dup_range(start, (size_t)(p - start));
		if (r->key == NULL) {
			err_set(e, ERR_NOMEM, "out of memory parsing a selector");
			goto fail;
		}
		p = skip_ws(p);
		if (negated) {
			r->op = KS_SEL_NOTEXISTS;
		} else if (*p == ',' || *p == '\0') {
			r->op = KS_SEL_EXISTS;
		} else if (p[0] == '!' && p[1] == '=') {
			r->op = KS_SEL_NE;
			p += 2;
		} else if (p[0] == '=' && p[1] == '=') {
			r->op = KS_SEL_EQ;
			p += 2;
		} else if (p[0] == '=') {
			r->op = KS_SEL_EQ;
			p += 1;
		} else if (strncmp(p, "notin", 5) == 0 && !is_key_char(p[5])) {
			r->op = KS_SEL_NOTIN;
			p = parse_set(p + 5, r, s, e);
			if (p == NULL)
				goto fail;
		} else if (strncmp(p, "in", 2) == 0 && !is_key_char(p[2])) {
			r->op = KS_SEL_IN;
			p = parse_set(p + 2, r, s, e);
			if (p == NULL)
				goto fail;
		} else {
			err_set(e, ERR_INVALID, "unable to parse requirement: found '%s', expected: in, notin, =, ==, !=",
			    p);
			goto fail;
		}
		if (r->op == KS_SEL_EQ || r->op == KS_SEL_NE) {
			p = skip_ws(p);
			start = p;
			while (is_value_char(*p))
				p++;
			if (add_value(r, start, (size_t)(p - start), s, e) < 0)
				goto fail;
		}
		p = skip_ws(p);
		if (*p == '\0')
			return 0;
		if (*p != ',') {
			err_set(e, ERR_INVALID, "unable to parse requirement: found '%s', expected: ','", p);
			goto fail;
		}
		p++;
	}
fail:
	ks_selector_release(out);
	return -1;
}

int
ks_field_selector_parse(const char *s, const struct ks_resource *res, struct ks_selector *out,
    struct err *e)
{
	const char *p = s;

	memset(out, 0, sizeof(*out));
	while (*p != '\0') {
		struct ks_sel_req *r;
		const char *end = strchr(p, ',');
		const char *op;
		size_t n = end != NULL ? (size_t)(end - p) : strlen(p);
		size_t klen, flen;
		const char *f;
		int known = 0;

		if (out->n >= KUBESIM_MAX_SELECTOR_REQS) {
			err_set(e, ERR_INVALID, "field selector has more than %d requirements", KUBESIM_MAX_SELECTOR_REQS);
			goto fail;
		}
		r = &out->reqs[out->n++];
		op = memchr(p, '=', n);
		if (op == NULL) {
			err_set(e, ERR_INVALID, "invalid selector: '%.*s'; can't understand '%.*s'", (int)strlen(s), s,
			    (int)n, p);
			goto fail;
		}
		if (op > p && op[-1] == '!') {
			r->op = KS_SEL_NE;
			klen = (size_t)(op - 1 - p);
		} else {
			r->op = KS_SEL_EQ;
			klen = (size_t)(op - p);
		}
		r->key = dup_range(p, klen);
		if (r->key == NULL) {
			err_set(e, ERR_NOMEM, "out of memory parsing a selector");
			goto fail;
		}
		if (op[1] == '=' && r->op == KS_SEL_EQ)
			op++;
		if (add_value(r, op + 1, n - (size_t)(op + 1 - p), s, e) < 0)
			goto fail;
		if (strcmp(r->key, "metadata.name") == 0 || strcmp(r->key, "metadata.namespace") == 0)
			known = 1;
		for (f = res->fields; !known && *f != '\0'; f += flen) {
			while (*f == ' ')
				f++;
			flen = strcspn(f, " ");
			if (flen == strlen(r->key) && strncmp(f, r->key, flen) == 0)
				known = 1;
		}
		if (!known) {
			err_set(e, ERR_INVALID, "field label not supported: %s", r->key);
			goto fail;
		}
		p += n;
		if (*p == ',')
			p++;
	}
	return 0;
fail:
	ks_selector_release(out);
	return -1;
}

int
ks_label_selector_match(const struct ks_selector *sel, const json_t *obj)
{
	const json_t *labels = json_object_get(json_object_get(obj, "metadata"), "labels");
	size_t i, j;

	for (i = 0; i < sel->n; i++) {
		const struct ks_sel_req *r = &sel->reqs[i];
		const char *v = json_string_value(json_object_get(labels, r->key));
		int in = 0;

		for (j = 0; v != NULL && j < r->nvals; j++)
			if (strcmp(v, r->vals[j]) == 0)
				in = 1;
		switch (r->op) {
		case KS_SEL_EXISTS:
			if (v == NULL)
				return 0;
			break;
		case KS_SEL_NOTEXISTS:
			if (v != NULL)
				return 0;
			break;
		case KS_SEL_EQ:
		case KS_SEL_IN:
			if (!in)
				return 0;
			break;
		case KS_SEL_NE:
		case KS_SEL_NOTIN:
			if (in)
				return 0;
			break;
		}
	}
	return 1;
}

/* The string at a dotted path, or "" (the API server compares missing fields as ""). */
static const char *
field_value(const json_t *obj, const char *path, char *num, size_t numsz)
{
	const json_t *v = obj;
	const char *p = path;

	while (*p != '\0' && v != NULL) {
		size_t n = strcspn(p, ".");
		char key[256];

		if (n >= sizeof(key))
			return "";
		memcpy(key, p, n);
		key[n] = '\0';
		v = json_object_get(v, key);
		p += n;
		if (*p == '.')
			p++;
	}
	if (json_is_string(v))
		return json_string_value(v);
	if (json_is_integer(v)) {
		snprintf(num, numsz, "%lld", (long long)json_integer_value(v));
		return num;
	}
	if (json_is_boolean(v))
		return json_is_true(v) ? "true" : "false";
	return "";
}

int
ks_field_selector_match(const struct ks_selector *sel, const json_t *obj)
{
	size_t i;
	char num[32];

	for (i = 0; i < sel->n; i++) {
		const struct ks_sel_req *r = &sel->reqs[i];
		int eq = strcmp(field_value(obj, r->key, num, sizeof(num)), r->vals[0]) == 0;

		if ((r->op == KS_SEL_EQ && !eq) || (r->op == KS_SEL_NE && eq))
			return 0;
	}
	return 1;
}

void
ks_selector_release(struct ks_selector *sel)
{
	size_t i, j;

	for (i = 0; i < sel->n; i++) {
		free(sel->reqs[i].key);
		for (j = 0; j < sel->reqs[i].nvals; j++)
			free(sel->reqs[i].vals[j]);
	}
	memset(sel, 0, sizeof(*sel));
}
