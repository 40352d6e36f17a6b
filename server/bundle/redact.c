/*
 * redact.c - masking secrets in JSON values and text with stable tokens.
 *
 * The rules are data (redact.yaml, compiled in; docs/bundles.md). The token
 * map is keyed by the SHA-256 of each value and lives only in memory, so a
 * value is never copied anywhere but into the comparison.
 */
#include "bundle/bundle.h"

#include <ctype.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "doc/doc.h"
#include "engine/engine.h"
#include "util/buf.h"
#include "util/embed.h"
#include "util/err.h"
#include "util/limits.h"
#include "util/banned.h"

EMBED_DECLARE(redact_rules_yaml);

#define TOKEN_PREFIX "[REDACTED:"

struct text_rule {
	char *name;
	regex_t re;
	int compiled;
	regex_t prefix;  /* the pattern up to the value, for name rules; see apply_rule() */
	int has_prefix;
	int mask;       /* group masked */
	int name_group; /* group that must be a secret name; 0 = none */
	json_t *keep;   /* values never masked (lower case compared); borrowed from rules */
};

struct known {
	char *p;
	size_t n;
};

struct redact {
	json_t *rules;          /* the loaded redact.yaml */
	const json_t *words, *sequences, *key_exc, *first_exc, *not_secret, *always;
	struct text_rule *text;
	size_t ntext;
	json_t *tokens;         /* sha256 hex of a value -> token number */
	json_t *known;          /* sha256 hex of each learnt value -> true (no duplicates in kv) */
	struct known *kv;       /* the learnt values, matched literally in text */
	size_t nkv, kv_cap;
	int learning;           /* walking to learn: nothing is changed or recorded */
	json_t *records;
	size_t dropped;
	const char *ptr_key;    /* "data" while walking a Secret's data (base64 values) */
	char *ptr;              /* the JSON pointer being walked */
	size_t ptr_len;
};

static int
list_has(const json_t *list, const char *s)
{
	size_t i;
	json_t *v;

	json_array_foreach(list, i, v)
		if (json_is_string(v) && strcmp(json_string_value(v), s) == 0)
			return 1;
	return 0;
}

static int
check_list(const json_t *names, const char *key, const json_t **out, struct err *e)
{
	const json_t *v = json_object_get(names, key);
	size_t i;
	json_t *x;

	if (!json_is_array(v) || json_array_size(v) > REDACT_MAX_LIST)
		return err_set(e, ERR_INTERNAL, "redaction rules: names.%s must be a list of at most %d strings",
		    key, REDACT_MAX_LIST);
	json_array_foreach(v, i, x)
		if (!json_is_string(x))
			return err_set(e, ERR_INTERNAL, "redaction rules: names.%s[%zu] is not a string", key, i);
	*out = v;
	return 0;
}

static int
load_text_rule(struct text_rule *t, const json_t *o, size_t i, struct err *e)
{
	const char *name = json_string_value(json_object_get(o, "name"));
	const char *pat = json_string_value(json_object_get(o, "pattern"));
	const json_t *mask = json_object_get(o, "mask"), *ng = json_object_get(o, "name_group");
	const json_t *keep = json_object_get(o, "keep");
	const char *prefix = json_string_value(json_object_get(o, "prefix"));
	int rc;

	if (name == NULL || pat == NULL || !json_is_integer(mask))
		return err_set(e, ERR_INTERNAL, "redaction rules: text rule %zu needs name, pattern and mask", i);
	t->name = strdup(name);
	if (t->name == NULL)
		return err_set(e, ERR_NOMEM, "out of memory loading redaction rules");
	t->mask = (int)json_integer_value(mask);
	if (ng != NULL && !json_is_integer(ng))
		return err_set(e, ERR_INTERNAL, "redaction rules: rule '%s': name_group must be a number", name);
	t->name_group = ng != NULL ? (int)json_integer_value(ng) : 0;
	if (t->mask < 0 || t->mask >= REDACT_MAX_GROUPS || t->name_group < 0 ||
	    t->name_group >= REDACT_MAX_GROUPS)
		return err_set(e, ERR_INTERNAL, "redaction rules: rule '%s' names a group past %d",
		    name, REDACT_MAX_GROUPS - 1);
	if (keep != NULL && !json_is_array(keep))
		return err_set(e, ERR_INTERNAL, "redaction rules: rule '%s': keep must be a list", name);
	t->keep = (json_t *)keep;
	rc = regcomp(&t->re, pat, REG_EXTENDED | REG_ICASE);
	if (rc != 0) {
		char msg[128];

		regerror(rc, &t->re, msg, sizeof(msg));
		return err_set(e, ERR_INTERNAL, "redaction rules: rule '%s': %s", name, msg);
	}
	t->compiled = 1;
	if (t->re.re_nsub < (size_t)t->mask || t->re.re_nsub < (size_t)t->name_group)
		return err_set(e, ERR_INTERNAL, "redaction rules: rule '%s' masks a group it does not have",
		    name);
	if (prefix != NULL) {
		if (t->name_group == 0)
			return err_set(e, ERR_INTERNAL, "redaction rules: rule '%s': a prefix needs a name_group",
			    name);
		rc = regcomp(&t->prefix, prefix, REG_EXTENDED | REG_ICASE);
		if (rc != 0) {
			char msg[128];

			regerror(rc, &t->prefix, msg, sizeof(msg));
			return err_set(e, ERR_INTERNAL, "redaction rules: rule '%s': prefix: %s", name, msg);
		}
		t->has_prefix = 1;
		if (t->prefix.re_nsub < (size_t)t->name_group)
			return err_set(e, ERR_INTERNAL, "redaction rules: rule '%s': the prefix lacks the name group",
			    name);
	}
	return 0;
}

int
redact_new(struct redact **out, struct err *e)
{
	struct redact *r = NULL;
	struct doc_set *d = NULL;
	const json_t *names, *text;
	size_t i;
	int ret = -1;

	*out = NULL;
	r = calloc(1, sizeof(*r));
	if (r == NULL) {
		err_set(e, ERR_NOMEM, "out of memory creating a redactor");
		goto out;
	}
	if (doc_load_mem("redact.yaml", redact_rules_yaml, redact_rules_yaml_len, DOC_YAML, &d, e) != 0)
		goto out;
	if (doc_set_count(d) != 1) {
		err_set(e, ERR_INTERNAL, "redaction rules: expected one document");
		goto out;
	}
	r->rules = json_incref(doc_set_get(d, 0));
	names = json_object_get(r->rules, "names");
	text = json_object_get(r->rules, "text");
	if (!json_is_object(names) || !json_is_array(text) || json_array_size(text) > REDACT_MAX_RULES) {
		err_set(e, ERR_INTERNAL, "redaction rules: need names and at most %d text rules",
		    REDACT_MAX_RULES);
		goto out;
	}
	if (check_list(names, "words", &r->words, e) != 0 ||
	    check_list(names, "sequences", &r->sequences, e) != 0 ||
	    check_list(names, "key_suffix_exceptions", &r->key_exc, e) != 0 ||
	    check_list(names, "first_word_exceptions", &r->first_exc, e) != 0 ||
	    check_list(names, "not_secret", &r->not_secret, e) != 0 ||
	    check_list(names, "always", &r->always, e) != 0)
		goto out;
	r->text = calloc(json_array_size(text) + 1, sizeof(*r->text));
	r->tokens = json_object();
	r->known = json_object();
	r->records = json_array();
	r->ptr_key = "";
	r->ptr = malloc(REDACT_MAX_POINTER_BYTES + 1);
	if (r->text == NULL || r->tokens == NULL || r->known == NULL || r->records == NULL || r->ptr == NULL) {
		err_set(e, ERR_NOMEM, "out of memory creating a redactor");
		goto out;
	}
	for (i = 0; i < json_array_size(text); i++) {
		r->ntext++;
		if (load_text_rule(&r->text[i], json_array_get(text, i), i, e) != 0)
			goto out;
	}
	*out = r;
	r = NULL;
	ret = 0;
out:
	doc_set_free(d);
	redact_free(r);
	return ret;
}

void
redact_free(struct redact *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->ntext; i++) {
		free(r->text[i].name);
		if (r->text[i].compiled)
			regfree(&r->text[i].re);
		if (r->text[i].has_prefix)
			regfree(&r->text[i].prefix);
	}
	free(r->text);
	json_decref(r->tokens);
	json_decref(r->known);
	for (i = 0; i < r->nkv; i++) {
		explicit_bzero(r->kv[i].p, r->kv[i].n);
		free(r->kv[i].p);
	}
	free(r->kv);
	json_decref(r->records);
	json_decref(r->rules);
	free(r->ptr);
	free(r);
}

/* "hfToken", "HF-TOKEN", "kubectl.kubernetes.io/x" -> "hf_token", ..., words joined by '_'. */
static void
normalise_name(const char *name, size_t len, char *out, size_t room)
{
	size_t i, o = 0;

	for (i = 0; i < len && o + 2 < room; i++) {
		unsigned char c = (unsigned char)name[i];
		unsigned char prev = i > 0 ? (unsigned char)name[i - 1] : 0;
		unsigned char next = i + 1 < len ? (unsigned char)name[i + 1] : 0;

		if (isalnum(c)) {
			if (isupper(c) && i > 0 && (islower(prev) || isdigit(prev) ||
			    (isupper(prev) && islower(next))) && o > 0 && out[o - 1] != '_')
				out[o++] = '_';
			out[o++] = (char)tolower(c);
		} else if (o > 0 && out[o - 1] != '_') {
			out[o++] = '_';
		}
	}
	while (o > 0 && out[o - 1] == '_')
		o--;
	out[o] = '\0';
}

static int
name_is_secret(const struct redact *r, const char *name, size_t len)
{
	char norm[REDACT_MAX_NAME_BYTES + 1], spaced[REDACT_MAX_NAME_BYTES + 3];
	char *words[REDACT_MAX_NAME_BYTES / 2 + 1];
	char tmp[REDACT_MAX_NAME_BYTES + 1];
	size_t n = 0, i, k;
	char *p;

	normalise_name(name, len, norm, sizeof(norm));
	if (norm[0] == '\0')
		return 0;
	if (list_has(r->always, norm))
		return 1;
	if (list_has(r->not_secret, norm))
		return 0;
	snprintf(tmp, sizeof(tmp), "%s", norm);
	for (p = tmp; *p != '\0' && n < sizeof(words) / sizeof(words[0]);) {
		words[n++] = p;
		p += strcspn(p, "_");
		if (*p == '_')
			*p++ = '\0';
	}
	/* norm is not empty, so there is at least one word. */
	if (n == 0 || list_has(r->first_exc, words[0]))
		return 0;
	for (i = 0; i < n; i++)
		if (list_has(r->words, words[i]))
			return 1;
	/* " w1 w2 w3 " contains " api key "? */
	spaced[0] = ' ';
	k = 1;
	for (i = 0; norm[i] != '\0' && k + 2 < sizeof(spaced); i++)
		spaced[k++] = norm[i] == '_' ? ' ' : norm[i];
	spaced[k++] = ' ';
	spaced[k] = '\0';
	for (i = 0; i < json_array_size(r->sequences); i++) {
		char seq[REDACT_MAX_NAME_BYTES + 3];

		snprintf(seq, sizeof(seq), " %s ", json_string_value(json_array_get(r->sequences, i)));
		if (strstr(spaced, seq) != NULL)
			return 1;
	}
	if (n >= 2 && strcmp(words[n - 1], "key") == 0 && !list_has(r->key_exc, words[n - 2]))
		return 1;
	return 0;
}

int
redact_name_is_secret(const struct redact *r, const char *name)
{
	return name_is_secret(r, name, strlen(name));
}

size_t
redact_value_count(const struct redact *r)
{
	return json_object_size(r->tokens);
}

json_t *
redact_report(const struct redact *r)
{
	return json_pack("{sI sO sI}", "tokens", (json_int_t)json_object_size(r->tokens),
	    "records", r->records, "records_dropped", (json_int_t)r->dropped);
}

/* Values that are tokens already, hashes, or empty stay as they are. */
static int
value_kept(const char *v, size_t n)
{
	return n == 0 || engine_is_install_hmac(v, n) ||
	    (n >= strlen(TOKEN_PREFIX) && memcmp(v, TOKEN_PREFIX, strlen(TOKEN_PREFIX)) == 0);
}

static int known_add(struct redact *r, const char *v, size_t n, struct err *e);

/* The token of a value ("[REDACTED:N]") into tok, and a record. The value is
 * learnt too, so later text that repeats it is masked the same way. */
static int
tokenise(struct redact *r, const char *v, size_t n, const char *file, const char *pointer,
    size_t line, const char *rule, char tok[32], struct err *e)
{
	char hex[65];
	json_t *num, *rec;
	json_int_t id;

	if (known_add(r, v, n, e) != 0)
		return -1;
	doc_sha256_hex(v, n, hex);
	num = json_object_get(r->tokens, hex);
	if (num != NULL) {
		id = json_integer_value(num);
	} else {
		if (json_object_size(r->tokens) >= REDACT_MAX_VALUES)
			return err_set(e, ERR_TOO_LARGE, "more than %d distinct secret values in one bundle",
			    REDACT_MAX_VALUES);
		id = (json_int_t)json_object_size(r->tokens) + 1;
		if (json_object_set_new(r->tokens, hex, json_integer(id)) != 0)
			return err_set(e, ERR_NOMEM, "out of memory redacting");
	}
	snprintf(tok, 32, "[REDACTED:%lld]", (long long)id);
	if (json_array_size(r->records) >= REDACT_MAX_RECORDS) {
		r->dropped++;
		return 0;
	}
	if (pointer != NULL)
		rec = json_pack("{ss ss ss ss}", "file", file, "pointer", pointer, "rule", rule, "token", tok);
	else
		rec = json_pack("{ss sI ss ss}", "file", file, "line", (json_int_t)line, "rule", rule,
		    "token", tok);
	if (rec == NULL || json_array_append_new(r->records, rec) != 0)
		return err_set(e, ERR_NOMEM, "out of memory redacting");
	return 0;
}

/* "[REDACTED:N]" exactly. */
static int
is_token(const char *v, size_t n)
{
	size_t p = strlen(TOKEN_PREFIX), d = 0;

	if (n <= p + 1 || memcmp(v, TOKEN_PREFIX, p) != 0 || v[n - 1] != ']')
		return 0;
	for (d = p; d < n - 1; d++)
		if (v[d] < '0' || v[d] > '9')
			return 0;
	return 1;
}

/* A value on the rule's keep list, alone or followed by a token ("Bearer
 * [REDACTED:3]" after the bearer rule ran). Case-insensitive. */
static int
keep_listed(const json_t *keep, const char *v, size_t n)
{
	size_t i;
	json_t *k;

	json_array_foreach(keep, i, k) {
		const char *s = json_string_value(k);
		size_t sl = s != NULL ? strlen(s) : 0, j;

		if (s == NULL || sl > n || strncasecmp(s, v, sl) != 0)
			continue;
		if (sl == n)
			return 1;
		for (j = sl; j < n && (v[j] == ' ' || v[j] == '\t'); j++)
			;
		if (j > sl && is_token(v + j, n - j))
			return 1;
	}
	return 0;
}

/* The next match of rule t at or after pos into m; 0, or 1 when there is none.
 * A name rule with a prefix (the pattern up to the value) looks for candidates
 * with the prefix first and matches the whole pattern only where the name is
 * secret: the value part may run to the end of a text without spaces, and
 * matching it for every non-secret name ("x:x:x:...") was quadratic. */
static int
next_match(struct redact *r, const struct text_rule *t, const char *text, size_t len, size_t pos,
    regmatch_t *m)
{
	regmatch_t pm[REDACT_MAX_GROUPS];

	if (!t->has_prefix) {
		m[0].rm_so = (regoff_t)pos;
		m[0].rm_eo = (regoff_t)len;
		return regexec(&t->re, text, REDACT_MAX_GROUPS, m, REG_STARTEND) != 0;
	}
	while (pos < len) {
		const regmatch_t *g;
		size_t resume;

		pm[0].rm_so = (regoff_t)pos;
		pm[0].rm_eo = (regoff_t)len;
		if (regexec(&t->prefix, text, REDACT_MAX_GROUPS, pm, REG_STARTEND) != 0)
			return 1;
		g = &pm[t->name_group];
		if (g->rm_so >= 0 && name_is_secret(r, text + g->rm_so, (size_t)(g->rm_eo - g->rm_so))) {
			m[0].rm_so = pm[0].rm_so;
			m[0].rm_eo = (regoff_t)len;
			if (regexec(&t->re, text, REDACT_MAX_GROUPS, m, REG_STARTEND) == 0 &&
			    m[0].rm_so == pm[0].rm_so)
				return 0;
		}
		resume = g->rm_so >= 0 ? (size_t)g->rm_eo : (size_t)pm[0].rm_so + 1;
		pos = resume > pos ? resume : pos + 1;
	}
	return 1;
}

/* One text rule over text (NUL-terminated at len), appending to out. `pointer`
 * non-NULL: records name it; else the line of each match. */
static int
apply_rule(struct redact *r, const struct text_rule *t, const char *text, size_t len,
    const char *file, const char *pointer, struct buf *out, struct err *e)
{
	regmatch_t m[REDACT_MAX_GROUPS];
	size_t pos = 0, line = 1, line_pos = 0;

	while (pos < len) {
		size_t vs, ve, i;
		char tok[32];

		if (next_match(r, t, text, len, pos, m) != 0)
			break;
		if (m[0].rm_eo <= m[0].rm_so) {
			if (buf_add(out, text + pos, 1, e) != 0)
				return -1;
			pos++;
			continue;
		}
		if (t->name_group > 0) {
			const regmatch_t *g = &m[t->name_group];

			if (g->rm_so < 0 || !name_is_secret(r, text + g->rm_so, (size_t)(g->rm_eo - g->rm_so))) {
				size_t resume = g->rm_so >= 0 ? (size_t)g->rm_eo : (size_t)m[0].rm_so + 1;

				if (resume <= pos)
					resume = pos + 1;
				if (buf_add(out, text + pos, resume - pos, e) != 0)
					return -1;
				pos = resume;
				continue;
			}
		}
		if (m[t->mask].rm_so < 0) {
			if (buf_add(out, text + pos, (size_t)m[0].rm_eo - pos, e) != 0)
				return -1;
			pos = (size_t)m[0].rm_eo;
			continue;
		}
		vs = (size_t)m[t->mask].rm_so;
		ve = (size_t)m[t->mask].rm_eo;
		if (ve - vs >= 2 && (text[vs] == '"' || text[vs] == '\'') && text[ve - 1] == text[vs]) {
			vs++;
			ve--;
		}
		if (value_kept(text + vs, ve - vs) || keep_listed(t->keep, text + vs, ve - vs)) {
			if (buf_add(out, text + pos, (size_t)m[0].rm_eo - pos, e) != 0)
				return -1;
			pos = (size_t)m[0].rm_eo;
			continue;
		}
		for (i = line_pos; i < vs; i++)
			if (text[i] == '\n')
				line++;
		line_pos = vs;
		if (tokenise(r, text + vs, ve - vs, file, pointer, line, t->name, tok, e) != 0 ||
		    buf_add(out, text + pos, vs - pos, e) != 0 || buf_addstr(out, tok, e) != 0)
			return -1;
		for (i = vs; i < ve; i++)
			if (text[i] == '\n' && buf_addch(out, '\n', e) != 0)
				return -1;
		pos = ve;
	}
	if (pos < len && buf_add(out, text + pos, len - pos, e) != 0)
		return -1;
	return 0;
}

/* Secret values learnt from the documents, wherever they appear in text (a
 * Secret's value in a log line). Longest first, so a value that contains another
 * is masked whole. */
static int
apply_known(struct redact *r, const char *text, size_t len, const char *file, const char *pointer,
    struct buf *out, struct err *e)
{
	size_t pos = 0, line = 1, line_pos = 0, i;

	while (pos < len) {
		const char *best = NULL;
		size_t best_len = 0;
		char tok[32];

		for (i = 0; i < r->nkv; i++) {
			const char *hit = memmem(text + pos, len - pos, r->kv[i].p, r->kv[i].n);

			if (hit != NULL && (best == NULL || hit < best || (hit == best && r->kv[i].n > best_len))) {
				best = hit;
				best_len = r->kv[i].n;
			}
		}
		if (best == NULL)
			break;
		for (i = line_pos; i < (size_t)(best - text); i++)
			if (text[i] == '\n')
				line++;
		line_pos = (size_t)(best - text);
		if (tokenise(r, best, best_len, file, pointer, line, "known-value", tok, e) != 0 ||
		    buf_add(out, text + pos, (size_t)(best - text) - pos, e) != 0 ||
		    buf_addstr(out, tok, e) != 0)
			return -1;
		pos = (size_t)(best - text) + best_len;
	}
	if (pos < len && buf_add(out, text + pos, len - pos, e) != 0)
		return -1;
	return 0;
}

static int
known_add(struct redact *r, const char *v, size_t n, struct err *e)
{
	char hex[65];

	if (n < REDACT_MIN_KNOWN_BYTES || value_kept(v, n))
		return 0;
	doc_sha256_hex(v, n, hex);
	if (json_object_get(r->known, hex) != NULL)
		return 0;
	if (r->nkv >= REDACT_MAX_VALUES)
		return err_set(e, ERR_TOO_LARGE, "more than %d distinct secret values in one bundle",
		    REDACT_MAX_VALUES);
	if (r->nkv == r->kv_cap) {
		size_t cap = r->kv_cap == 0 ? 16 : r->kv_cap * 2;
		struct known *kv = realloc(r->kv, cap * sizeof(*kv));

		if (kv == NULL)
			return err_set(e, ERR_NOMEM, "out of memory redacting");
		r->kv = kv;
		r->kv_cap = cap;
	}
	r->kv[r->nkv].p = malloc(n);
	if (r->kv[r->nkv].p == NULL || json_object_set_new(r->known, hex, json_true()) != 0) {
		free(r->kv[r->nkv].p);
		return err_set(e, ERR_NOMEM, "out of memory redacting");
	}
	memcpy(r->kv[r->nkv].p, v, n);
	r->kv[r->nkv].n = n;
	r->nkv++;
	return 0;
}

/* A Secret's data value is base64: its decoded form is a secret too. */
static int
known_add_base64(struct redact *r, const char *v, size_t n, struct err *e)
{
	unsigned char *dec;
	int len, rc;

	if (n == 0 || n % 4 != 0 || n > REDACT_MAX_NAME_BYTES * 64)
		return 0;
	dec = malloc(n);
	if (dec == NULL)
		return err_set(e, ERR_NOMEM, "out of memory redacting");
	len = EVP_DecodeBlock(dec, (const unsigned char *)v, (int)n);
	if (len > 0 && v[n - 1] == '=')
		len--;
	if (len > 0 && v[n - 2] == '=')
		len--;
	rc = len > 0 ? known_add(r, (const char *)dec, (size_t)len, e) : 0;
	free(dec);
	return rc;
}

/* All text rules in order over text; the result is left in *res (a buffer the
 * caller releases). */
static int
redact_all(struct redact *r, const char *text, size_t len, const char *file, const char *pointer,
    struct buf *res, struct err *e)
{
	struct buf a = BUF_INIT(REDACT_MAX_TEXT_BYTES), b = BUF_INIT(REDACT_MAX_TEXT_BYTES);
	size_t i;
	int ret = -1;

	if (len > 0 && buf_add(&a, text, len, e) != 0)
		goto out;
	if (r->nkv > 0) {
		struct buf t;

		if (apply_known(r, buf_str(&a), buf_len(&a), file, pointer, &b, e) != 0)
			goto out;
		t = a;
		a = b;
		b = t;
	}
	for (i = 0; i < r->ntext; i++) {
		struct buf t;

		buf_reset(&b);
		if (apply_rule(r, &r->text[i], buf_str(&a), buf_len(&a), file, pointer, &b, e) != 0)
			goto out;
		t = a;
		a = b;
		b = t;
	}
	*res = a;
	buf_init(&a, REDACT_MAX_TEXT_BYTES);
	ret = 0;
out:
	buf_release(&a);
	buf_release(&b);
	return ret;
}

int
redact_text(struct redact *r, const char *text, size_t len, const char *file, struct buf *out,
    struct err *e)
{
	struct buf res = BUF_INIT(REDACT_MAX_TEXT_BYTES);
	int ret = -1;

	if (redact_all(r, text, len, file, NULL, &res, e) != 0)
		goto out;
	if (buf_len(&res) > 0 && buf_add(out, buf_str(&res), buf_len(&res), e) != 0)
		goto out;
	ret = 0;
out:
	buf_release(&res);
	return ret;
}

/* The JSON pointer: push a segment (escaped), pop back to a saved length. */
static size_t
ptr_push(struct redact *r, const char *seg)
{
	size_t saved = r->ptr_len;
	const char *p;

	if (r->ptr_len + 1 > REDACT_MAX_POINTER_BYTES)
		return saved;
	r->ptr[r->ptr_len++] = '/';
	for (p = seg; *p != '\0'; p++) {
		const char *esc = *p == '~' ? "~0" : *p == '/' ? "~1" : NULL;
		size_t n = esc != NULL ? 2 : 1;

		if (r->ptr_len + n > REDACT_MAX_POINTER_BYTES)
			break;
		if (esc != NULL)
			memcpy(r->ptr + r->ptr_len, esc, 2);
		else
			r->ptr[r->ptr_len] = *p;
		r->ptr_len += n;
	}
	r->ptr[r->ptr_len] = '\0';
	return saved;
}

static size_t
ptr_push_index(struct redact *r, size_t i)
{
	char num[32];

	snprintf(num, sizeof(num), "%zu", i);
	return ptr_push(r, num);
}

static void
ptr_pop(struct redact *r, size_t saved)
{
	r->ptr_len = saved;
	r->ptr[saved] = '\0';
}

/* Replaces a whole scalar (string or number) by its token. *slot is set to the
 * new value (a new reference) or left NULL when the scalar is kept. */
static int
mask_scalar(struct redact *r, const json_t *v, const char *file, const char *rule, json_t **slot,
    struct err *e)
{
	char tok[32], num[64];
	const char *s;
	size_t n;

	*slot = NULL;
	if (json_is_string(v)) {
		s = json_string_value(v);
		n = json_string_length(v);
	} else if (json_is_integer(v)) {
		snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(v));
		s = num;
		n = strlen(num);
	} else if (json_is_real(v)) {
		snprintf(num, sizeof(num), "%.17g", json_real_value(v));
		s = num;
		n = strlen(num);
	} else {
		return 0;
	}
	if (value_kept(s, n))
		return 0;
	if (r->learning) {
		if (known_add(r, s, n, e) != 0)
			return -1;
		if (strcmp(rule, "secret-data") == 0 && strcmp(r->ptr_key, "data") == 0)
			return known_add_base64(r, s, n, e);
		return 0;
	}
	if (tokenise(r, s, n, file, r->ptr, 0, rule, tok, e) != 0)
		return -1;
	*slot = json_string(tok);
	if (*slot == NULL)
		return err_set(e, ERR_NOMEM, "out of memory redacting");
	return 0;
}

static int walk(struct redact *r, json_t *v, const char *file, int depth, struct err *e);

/* Masks every scalar in v (a Secret's data, a secret diff value); returns the new
 * value in *slot when v itself is a scalar that was masked. */
static int
mask_all(struct redact *r, json_t *v, const char *file, const char *rule, int depth, json_t **slot,
    struct err *e)
{
	const char *k;
	json_t *x;
	size_t i, saved;

	*slot = NULL;
	if (depth > DOC_MAX_DEPTH)
		return err_set(e, ERR_TOO_LARGE, "document nested deeper than %d levels", DOC_MAX_DEPTH);
	if (json_is_object(v)) {
		json_object_foreach(v, k, x) {
			json_t *nv = NULL;

			saved = ptr_push(r, k);
			if (mask_all(r, x, file, rule, depth + 1, &nv, e) != 0)
				return -1;
			ptr_pop(r, saved);
			if (nv != NULL && json_object_set_new(v, k, nv) != 0)
				return err_set(e, ERR_NOMEM, "out of memory redacting");
		}
		return 0;
	}
	if (json_is_array(v)) {
		json_array_foreach(v, i, x) {
			json_t *nv = NULL;

			saved = ptr_push_index(r, i);
			if (mask_all(r, x, file, rule, depth + 1, &nv, e) != 0)
				return -1;
			ptr_pop(r, saved);
			if (nv != NULL && json_array_set_new(v, i, nv) != 0)
				return err_set(e, ERR_NOMEM, "out of memory redacting");
		}
		return 0;
	}
	return mask_scalar(r, v, file, rule, slot, e);
}

/* A string through the text rules; *slot is the new string when it changed. */
static int
text_string(struct redact *r, const json_t *v, const char *file, json_t **slot, struct err *e)
{
	struct buf res = BUF_INIT(REDACT_MAX_TEXT_BYTES);
	int ret = -1;

	*slot = NULL;
	if (r->learning)
		return 0;
	if (redact_all(r, json_string_value(v), json_string_length(v), file, r->ptr, &res, e) != 0)
		goto out;
	if (buf_len(&res) != json_string_length(v) ||
	    memcmp(buf_str(&res), json_string_value(v), buf_len(&res)) != 0) {
		*slot = json_stringn(buf_str(&res), buf_len(&res));
		if (*slot == NULL) {
			err_set(e, ERR_INTERNAL, "a redacted string is no longer valid UTF-8");
			goto out;
		}
	}
	ret = 0;
out:
	buf_release(&res);
	return ret;
}

/* A diff change whose path or setting names a secret. */
static int
secret_change(const struct redact *r, const json_t *o)
{
	const char *path = json_string_value(json_object_get(o, "path"));
	const char *setting = json_string_value(json_object_get(o, "setting"));
	const char *p;

	if (path == NULL || (json_object_get(o, "before") == NULL && json_object_get(o, "after") == NULL))
		return 0;
	if (setting != NULL && redact_name_is_secret(r, setting))
		return 1;
	for (p = path; *p != '\0';) {
		size_t n;

		p += strspn(p, "/");
		n = strcspn(p, "/");
		if (n > 0 && name_is_secret(r, p, n))
			return 1;
		p += n;
	}
	return 0;
}

static int
walk_change(struct redact *r, json_t *o, const char *file, int depth, struct err *e)
{
	static const char *const sides[] = { "before", "after" };
	const char *setting = json_string_value(json_object_get(o, "setting"));
	const char *path = json_string_value(json_object_get(o, "path"));
	const char *name = setting;
	char toks[2][32] = { "(none)", "(none)" };
	char summary[DIFF_MAX_SUMMARY_BYTES];
	size_t i, saved;

	if (name == NULL) {
		name = strrchr(path, '/');
		name = name != NULL ? name + 1 : path;
	}
	for (i = 0; i < 2; i++) {
		json_t *v = json_object_get(o, sides[i]), *nv = NULL;

		if (v == NULL || json_is_null(v))
			continue;
		saved = ptr_push(r, sides[i]);
		if (mask_all(r, v, file, "diff-secret-path", depth + 1, &nv, e) != 0)
			return -1;
		ptr_pop(r, saved);
		if (nv != NULL) {
			snprintf(toks[i], sizeof(toks[i]), "%s", json_string_value(nv));
			if (json_object_set_new(o, sides[i], nv) != 0)
				return err_set(e, ERR_NOMEM, "out of memory redacting");
		} else {
			snprintf(toks[i], sizeof(toks[i]), "(redacted)");
		}
	}
	/* The summary quotes the values (cut to a prefix): it is written anew. */
	if (json_object_get(o, "summary") != NULL) {
		snprintf(summary, sizeof(summary), "%.200s: %s \xe2\x86\x92 %s (secret value redacted)",
		    name, toks[0], toks[1]);
		if (json_object_set_new(o, "summary", json_string(summary)) != 0)
			return err_set(e, ERR_NOMEM, "out of memory redacting");
	}
	return 0;
}

/* A short text of a (redacted) diff value for a summary line. */
static void
summary_value(const json_t *v, char *out, size_t room)
{
	char *s = NULL;
	const char *t;
	size_t n;

	if (v == NULL || json_is_null(v)) {
		snprintf(out, room, "(none)");
		return;
	}
	if (json_is_string(v))
		t = json_string_value(v);
	else
		t = s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	if (t == NULL)
		t = "?";
	n = strlen(t);
	if (n > DIFF_SUMMARY_VALUE_CHARS) {
		n = DIFF_SUMMARY_VALUE_CHARS;
		while (n > 0 && ((unsigned char)t[n] & 0xC0) == 0x80)
			n--;
		snprintf(out, room, "%.*s\xe2\x80\xa6", (int)n, t);
	} else {
		snprintf(out, room, "%s", t);
	}
	free(s);
}

/* A diff change whose before or after lost something to redaction: its summary
 * quotes the old values (cut, so a rule may no longer see a secret in it) and is
 * written anew from the redacted values. */
static int
rewrite_summary(json_t *o, const json_t *before, const json_t *after, struct err *e)
{
	const char *setting = json_string_value(json_object_get(o, "setting"));
	const char *path = json_string_value(json_object_get(o, "path"));
	const char *name = setting;
	char b[DIFF_SUMMARY_VALUE_CHARS * 2], a[DIFF_SUMMARY_VALUE_CHARS * 2];
	char summary[DIFF_MAX_SUMMARY_BYTES];

	if (json_equal(before, json_object_get(o, "before")) && json_equal(after, json_object_get(o, "after")))
		return 0;
	if (name == NULL) {
		name = strrchr(path, '/');
		name = name != NULL ? name + 1 : path;
	}
	summary_value(json_object_get(o, "before"), b, sizeof(b));
	summary_value(json_object_get(o, "after"), a, sizeof(a));
	snprintf(summary, sizeof(summary), "%.120s: %s \xe2\x86\x92 %s (secret value redacted)", name, b, a);
	if (json_object_set_new(o, "summary", json_string(summary)) != 0)
		return err_set(e, ERR_NOMEM, "out of memory redacting");
	return 0;
}

static int
walk(struct redact *r, json_t *v, const char *file, int depth, struct err *e)
{
	const char *k;
	json_t *x;
	size_t i, saved;

	if (depth > DOC_MAX_DEPTH)
		return err_set(e, ERR_TOO_LARGE, "document nested deeper than %d levels", DOC_MAX_DEPTH);
	if (json_is_object(v)) {
		const char *kind = json_string_value(json_object_get(v, "kind"));
		const char *env = json_string_value(json_object_get(v, "name"));
		int secret_kind = kind != NULL && strcmp(kind, "Secret") == 0;
		int env_secret = env != NULL && json_object_get(v, "value") != NULL &&
		    redact_name_is_secret(r, env);

		json_t *old_before = NULL, *old_after = NULL;
		int change = !r->learning && json_is_string(json_object_get(v, "path")) &&
		    json_is_string(json_object_get(v, "summary")) &&
		    (json_object_get(v, "before") != NULL || json_object_get(v, "after") != NULL);

		if (change && secret_change(r, v)) {
			if (walk_change(r, v, file, depth, e) != 0)
				return -1;
			change = 0;
		}
		if (change) {
			old_before = json_deep_copy(json_object_get(v, "before"));
			old_after = json_deep_copy(json_object_get(v, "after"));
		}
		json_object_foreach(v, k, x) {
			json_t *nv = NULL;
			int rc = 0;

			saved = ptr_push(r, k);
			if (secret_kind && (strcmp(k, "data") == 0 || strcmp(k, "stringData") == 0)) {
				r->ptr_key = strcmp(k, "data") == 0 ? "data" : "stringData";
				rc = mask_all(r, x, file, "secret-data", depth + 1, &nv, e);
				r->ptr_key = "";
			}
			else if (env_secret && strcmp(k, "value") == 0)
				rc = mask_all(r, x, file, "env-name", depth + 1, &nv, e);
			else if ((json_is_string(x) || json_is_number(x)) && redact_name_is_secret(r, k))
				rc = mask_scalar(r, x, file, "secret-name", &nv, e);
			else if (json_is_string(x))
				rc = text_string(r, x, file, &nv, e);
			else
				rc = walk(r, x, file, depth + 1, e);
			ptr_pop(r, saved);
			if (rc != 0 || (nv != NULL && json_object_set_new(v, k, nv) != 0)) {
				json_decref(old_before);
				json_decref(old_after);
				return rc != 0 ? -1 : err_set(e, ERR_NOMEM, "out of memory redacting");
			}
		}
		if (change && rewrite_summary(v, old_before, old_after, e) != 0) {
			json_decref(old_before);
			json_decref(old_after);
			return -1;
		}
		json_decref(old_before);
		json_decref(old_after);
		return 0;
	}
	if (json_is_array(v)) {
		int mask_next = 0;

		json_array_foreach(v, i, x) {
			json_t *nv = NULL;
			int rc = 0, flag = 0;

			saved = ptr_push_index(r, i);
			if (json_is_string(x)) {
				const char *s = json_string_value(x);

				if (mask_next && s[0] != '-') {
					rc = mask_scalar(r, x, file, "secret-flag", &nv, e);
				} else {
					flag = s[0] == '-' && strchr(s, '=') == NULL &&
					    redact_name_is_secret(r, s + strspn(s, "-"));
					rc = text_string(r, x, file, &nv, e);
				}
			} else {
				rc = walk(r, x, file, depth + 1, e);
			}
			mask_next = flag;
			ptr_pop(r, saved);
			if (rc != 0)
				return -1;
			if (nv != NULL && json_array_set_new(v, i, nv) != 0)
				return err_set(e, ERR_NOMEM, "out of memory redacting");
		}
		return 0;
	}
	return 0;
}

int
redact_json(struct redact *r, const json_t *in, const char *file, json_t **out, struct err *e)
{
	json_t *copy = NULL, *nv = NULL;
	const char *hash;
	char name[256];
	int ret = -1;

	*out = NULL;
	hash = strchr(file, '#');
	snprintf(name, sizeof(name), "%.*s", hash != NULL ? (int)(hash - file) : (int)strlen(file), file);
	copy = json_deep_copy(in);
	if (copy == NULL) {
		err_set(e, ERR_NOMEM, "out of memory copying '%s' for redaction", name);
		goto out;
	}
	/* "FILE#/pointer": records of this value are under that pointer of FILE. */
	r->ptr_len = 0;
	if (hash != NULL)
		r->ptr_len = (size_t)snprintf(r->ptr, REDACT_MAX_POINTER_BYTES + 1, "%s", hash + 1);
	if (r->ptr_len > REDACT_MAX_POINTER_BYTES)
		r->ptr_len = REDACT_MAX_POINTER_BYTES;
	r->ptr[r->ptr_len] = '\0';
	file = name;
	if (json_is_string(copy)) {
		if (text_string(r, copy, file, &nv, e) != 0)
			goto out;
		if (nv != NULL) {
			json_decref(copy);
			copy = nv;
		}
	} else if (walk(r, copy, file, 0, e) != 0) {
		goto out;
	}
	*out = copy;
	copy = NULL;
	ret = 0;
out:
	if (ret != 0)
		err_prefix(e, "redacting '%s'", file);
	json_decref(copy);
	return ret;
}

int
redact_learn(struct redact *r, const json_t *in, struct err *e)
{
	json_t *copy = NULL;
	int ret;

	/* The walk may replace nothing while learning, but it takes a mutable value. */
	copy = json_deep_copy(in);
	if (copy == NULL)
		return err_set(e, ERR_NOMEM, "out of memory learning secret values");
	r->learning = 1;
	r->ptr_len = 0;
	r->ptr[0] = '\0';
	ret = walk(r, copy, "", 0, e);
	r->learning = 0;
	json_decref(copy);
	return ret;
}
