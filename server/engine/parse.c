/*
 * parse.c - from a pod-spec container to engine settings.
 *
 * Steps: Kubernetes $(VAR) expansion of command/args with the container's
 * literal env values (what the kubelet does), unwrapping of `sh -c` strings
 * (shell.c), detection of the engine from the entry point or the image, then
 * flags and env twins into canonical, typed settings with the knowledge table.
 * Precedence: a command-line flag beats an env twin; among flags the last
 * occurrence wins. Secret values never become setting values.
 */
#include "engine/engine_int.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/buf.h"
#include "util/err.h"
#include "util/limits.h"
#include "util/banned.h"

#define SHELL_MAX_NESTING 4
#define RAW_POSITIONAL "<positional>"

struct engine_parse {
	enum engine_kind kind;
	char *version;
	json_t *values;   /* name -> value */
	json_t *raws;     /* name -> raw spelling */
	json_t *prio;     /* name -> source */
	struct engine_setting *settings;
	size_t n;
};

/* Everything the parse of one container holds while it runs. */
struct pctx {
	struct engine_parse *p;
	json_t *env;          /* literal env values: name -> string */
	char **argv;          /* expanded command + args; owned */
	size_t argc;
	struct shell_script scripts[SHELL_MAX_NESTING];
	size_t n_scripts;
};

static const char *const kind_names[ENGINE__COUNT] = {
	"unknown", "vllm", "tgi", "sglang", "triton", "nim"
};

const char *
engine_kind_name(enum engine_kind k)
{
	if (k < 0 || k >= ENGINE__COUNT)
		return "unknown";
	return kind_names[k];
}

enum engine_kind
engine_kind_from_name(const char *name)
{
	int k;

	for (k = 1; name != NULL && k < ENGINE__COUNT; k++)
		if (strcmp(name, kind_names[k]) == 0)
			return (enum engine_kind)k;
	return ENGINE_UNKNOWN;
}

/* Names of env vars and flags whose values are credentials: a `_`/`-`/`.`
 * separated part is token, password, secret, ... or the last part is key
 * (API_KEY, NGC_API_KEY). MAX_TOTAL_TOKENS and --tokenizer are not secrets. */
int
engine_name_is_secret(const char *name)
{
	static const char *const parts[] = {
		"token", "password", "passwd", "pwd", "secret", "credential", "credentials",
		"apikey", "passphrase", NULL
	};
	const char *p = name, *end;
	char seg[64];
	size_t len, i;

	while (*p != '\0') {
		end = p + strcspn(p, "_-.");
		len = (size_t)(end - p);
		if (len > 0 && len < sizeof(seg)) {
			for (i = 0; i < len; i++)
				seg[i] = (char)tolower((unsigned char)p[i]);
			seg[len] = '\0';
			for (i = 0; parts[i] != NULL; i++)
				if (strcmp(seg, parts[i]) == 0)
					return 1;
			if (*end == '\0' && strcmp(seg, "key") == 0)
				return 1;
		}
		p = *end != '\0' ? end + 1 : end;
	}
	return 0;
}

static int
ci_at(const char *s, size_t n, size_t i, const char *word)
{
	size_t w = strlen(word);

	return i + w <= n && strncasecmp(s + i, word, w) == 0;
}

static int
token_char(unsigned char c)
{
	return isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/' || c == '=';
}

int
engine_value_has_credential(const char *s, size_t n)
{
	size_t i, j, k;

	for (i = 0; i < n; i++) {
		/* scheme://user[:password]@host: '@' before the end of the authority. */
		if (i + 3 <= n && s[i] == ':' && s[i + 1] == '/' && s[i + 2] == '/') {
			for (j = i + 3; j < n && strchr("/?#\"'<> \t\r\n", s[j]) == NULL; j++)
				if (s[j] == '@' && j > i + 3)
					return 1;
		}
		if (ci_at(s, n, i, "authorization"))
			return 1;
		/* "Bearer <token>" with a token of 8 characters or more. */
		if (ci_at(s, n, i, "bearer") && (i == 0 || !isalnum((unsigned char)s[i - 1]))) {
			j = i + 6;
			while (j < n && (s[j] == ' ' || s[j] == '\t'))
				j++;
			for (k = j; k < n && token_char((unsigned char)s[k]); k++)
				;
			if (j > i + 6 && k - j >= 8)
				return 1;
		}
		/* NAME=value or NAME: value with a secret-looking NAME. */
		if ((s[i] == '=' || s[i] == ':') && i > 0) {
			char name[64];
			size_t end = i;

			/* "name": value (JSON, Python reprs) as well as name=value. */
			if (s[end - 1] == '"' || s[end - 1] == '\'')
				end--;
			for (j = end; j > 0 && (isalnum((unsigned char)s[j - 1]) || s[j - 1] == '_' ||
			    s[j - 1] == '-' || s[j - 1] == '.'); j--)
				;
			if (end - j == 0 || end - j >= sizeof(name))
				continue;
			memcpy(name, s + j, end - j);
			name[end - j] = '\0';
			k = i + 1;
			while (k < n && (s[k] == ' ' || s[k] == '"' || s[k] == '\''))
				k++;
			/* A reference ($VAR, $(cmd)) names a value, it is none. */
			if (k < n && s[k] != ',' && s[k] != '}' && s[k] != ')' && s[k] != '$' &&
			    !(s[k] == '/' && s[i] == ':') &&
			    engine_name_is_secret(name))
				return 1;
		}
	}
	return 0;
}

/* ---- values ------------------------------------------------------------ */

static int
is_int_text(const char *s)
{
	if (*s == '-' || *s == '+')
		s++;
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (!isdigit((unsigned char)*s))
			return 0;
	return 1;
}

static int
is_float_text(const char *s)
{
	int digits = 0;

	for (; *s != '\0'; s++) {
		if (isdigit((unsigned char)*s))
			digits = 1;
		else if (strchr("+-.eE", *s) == NULL)
			return 0;
	}
	return digits;
}

static json_t *
parse_int(const char *s)
{
	long long v;
	char *end;

	if (!is_int_text(s))
		return NULL;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return NULL;
	return json_integer((json_int_t)v);
}

static json_t *
parse_float(const char *s)
{
	double v;
	char *end;

	if (!is_float_text(s))
		return NULL;
	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || *end != '\0' || end == s)
		return NULL;
	return json_real(v);
}

/* vLLM's human_readable_int: 1k = 1000, 1K = 1024, 25.6k = 25600; decimals
 * only with decimal (lower-case) suffixes. */
static json_t *
parse_human_int(const char *s)
{
	static const char lower[] = "kmgt", upper[] = "KMGT";
	size_t n = strlen(s);
	char num[64];
	const char *pos;
	double mult = 1, v;
	char *end;
	int i, power, binary = 0;

	if (n < 2 || n >= sizeof(num))
		return NULL;
	if ((pos = strchr(lower, s[n - 1])) != NULL) {
		power = (int)(pos - lower) + 1;
		for (i = 0; i < power; i++)
			mult *= 1000;
	} else if ((pos = strchr(upper, s[n - 1])) != NULL) {
		power = (int)(pos - upper) + 1;
		binary = 1;
		for (i = 0; i < power; i++)
			mult *= 1024;
	} else {
		return NULL;
	}
	memcpy(num, s, n - 1);
	num[n - 1] = '\0';
	if (binary && !is_int_text(num))
		return NULL;
	if (!is_float_text(num) || strchr(num, 'e') || strchr(num, 'E') || num[0] == '-')
		return NULL;
	v = strtod(num, &end);
	if (*end != '\0' || v * mult > 9.0e15)
		return NULL;
	return json_integer((json_int_t)(v * mult + 0.5));
}

static json_t *
parse_bool(const char *s)
{
	if (strcasecmp(s, "true") == 0 || strcasecmp(s, "yes") == 0 || strcmp(s, "1") == 0 ||
	    strcasecmp(s, "on") == 0)
		return json_true();
	if (strcasecmp(s, "false") == 0 || strcasecmp(s, "no") == 0 || strcmp(s, "0") == 0 ||
	    strcasecmp(s, "off") == 0)
		return json_false();
	return NULL;
}

static json_t *
infer(const char *s)
{
	json_t *v;

	if ((v = parse_int(s)) != NULL)
		return v;
	if ((v = parse_float(s)) != NULL)
		return v;
	return json_string(s);
}

/* A typed value for `s`; never NULL unless out of memory. */
static json_t *
typed(enum engine_kind k, enum knob_type t, const char *s)
{
	json_t *v = NULL;

	switch (t) {
	case KNOB_INT:
		v = parse_int(s);
		break;
	case KNOB_HINT:
		v = parse_int(s);
		if (v == NULL && k == ENGINE_VLLM)
			v = parse_human_int(s);
		break;
	case KNOB_FLOAT:
		v = parse_float(s);
		break;
	case KNOB_BOOL:
		v = parse_bool(s);
		break;
	case KNOB_JSON:
		v = json_loads(s, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, NULL);
		break;
	case KNOB_ANY:
		return infer(s);
	case KNOB_STRING:
	case KNOB_LIST:
		break;
	}
	return v != NULL ? v : json_string(s);
}

/* ---- settings ---------------------------------------------------------- */

static int
source_rank(enum engine_source s)
{
	return s == ENGINE_SRC_ENV ? 1 : s == ENGINE_SRC_CONFIG ? 0 : 2;
}

/* Stores name = v (steals v). A flag beats an env twin; otherwise later wins. */
static int
put(struct engine_parse *p, const char *name, json_t *v, enum engine_source src,
    const char *raw, struct err *e)
{
	json_t *old = json_object_get(p->prio, name);

	if (v == NULL)
		return err_set(e, ERR_NOMEM, "out of memory parsing engine settings");
	if (old != NULL && source_rank((enum engine_source)json_integer_value(old)) >
	    source_rank(src)) {
		json_decref(v);
		return 0;
	}
	if (json_object_set_new(p->values, name, v) < 0 ||
	    json_object_set_new(p->raws, name, json_string(raw)) < 0 ||
	    json_object_set_new(p->prio, name, json_integer(src)) < 0)
		return err_set(e, ERR_NOMEM, "out of memory parsing engine settings");
	return 0;
}

static int
knob_secret(const struct knob *kb, const char *name)
{
	return (kb != NULL && kb->secret) || engine_name_is_secret(name);
}

/* name.path.to.key v (vLLM's dotted JSON form) merged into the object `name`. */
static int
put_dotted(struct engine_parse *p, const char *name, const char *path, const char *sval,
    const char *raw, struct err *e)
{
	json_t *root, *cur, *v;
	char *copy = NULL, *seg, *dot;
	int ret = -1;

	root = json_object_get(p->values, name);
	if (!json_is_object(root) || json_integer_value(json_object_get(p->prio, name)) ==
	    ENGINE_SRC_ENV)
		root = json_object();
	else
		root = json_deep_copy(root);
	copy = strdup(path);
	if (root == NULL || copy == NULL) {
		err_set(e, ERR_NOMEM, "out of memory parsing engine settings");
		goto out;
	}
	v = sval != NULL ? json_loads(sval, JSON_DECODE_ANY, NULL) : json_true();
	if (v == NULL)
		v = json_string(sval);
	cur = root;
	for (seg = copy; (dot = strchr(seg, '.')) != NULL; seg = dot + 1) {
		json_t *next;

		*dot = '\0';
		next = json_object_get(cur, seg);
		if (!json_is_object(next)) {
			next = json_object();
			if (json_object_set_new(cur, seg, next) < 0)
				break;
		}
		cur = next;
	}
	if (seg[0] != '\0' && seg[strlen(seg) - 1] == '+') {
		json_t *arr;

		seg[strlen(seg) - 1] = '\0';
		arr = json_object_get(cur, seg);
		if (!json_is_array(arr)) {
			arr = json_array();
			json_object_set_new(cur, seg, arr);
		}
		json_array_append_new(arr, v);
	} else {
		json_object_set_new(cur, seg, v);
	}
	ret = put(p, name, root, ENGINE_SRC_ARG, raw, e);
	root = NULL;
out:
	json_decref(root);
	free(copy);
	return ret;
}

/* ---- flags ------------------------------------------------------------- */

static int
flag_like(const char *s)
{
	return s[0] == '-' && s[1] != '\0' && !is_float_text(s);
}

/* "--max-model-len" body "max-model-len" -> "max_model_len" in out. */
static void
normalise(const char *body, size_t len, char *out, size_t outsz)
{
	size_t i;

	if (len >= outsz)
		len = outsz - 1;
	for (i = 0; i < len; i++)
		out[i] = body[i] == '-' ? '_' : body[i];
	out[i] = '\0';
}

struct flagrun {
	struct pctx *c;
	char **w;
	size_t n;
	size_t i;           /* index of the next unread word */
	int positional_model;
	json_t *positional; /* unclaimed positional words */
};

/* The value of a flag that had no `=value`: consumes words as the type says. */
static int
take_value(struct flagrun *fr, const struct knob *kb, const char *name, const char *raw,
    struct err *e)
{
	struct engine_parse *p = fr->c->p;
	enum engine_kind k = p->kind;
	enum knob_type t = kb != NULL ? kb->type : KNOB_ANY;
	const char *next = fr->i < fr->n ? fr->w[fr->i] : NULL;
	json_t *v;

	if (t == KNOB_BOOL) {
		if (next != NULL && (v = parse_bool(next)) != NULL && !is_int_text(next)) {
			fr->i++;
			return put(p, name, v, ENGINE_SRC_ARG, raw, e);
		}
		return put(p, name, json_true(), ENGINE_SRC_ARG, raw, e);
	}
	if (t == KNOB_LIST) {
		json_t *arr = json_array();

		if (arr == NULL)
			return err_set(e, ERR_NOMEM, "out of memory parsing engine settings");
		while (fr->i < fr->n && !flag_like(fr->w[fr->i])) {
			json_t *item = knob_secret(kb, name) ?
			    engine_redact_value(fr->w[fr->i], strlen(fr->w[fr->i])) :
			    json_string(fr->w[fr->i]);
			json_array_append_new(arr, item);
			fr->i++;
		}
		return put(p, name, arr, ENGINE_SRC_ARG, raw, e);
	}
	if (next == NULL || flag_like(next)) {
		/* A known setting that needs a value but has none: the engine would
		 * refuse to start; an unknown bare flag is a switch. */
		return put(p, name, kb != NULL ? json_null() : json_true(), ENGINE_SRC_ARG, raw, e);
	}
	fr->i++;
	if (knob_secret(kb, name))
		return put(p, name, engine_redact_value(next, strlen(next)), ENGINE_SRC_ARG, raw, e);
	return put(p, name, typed(k, t, next), ENGINE_SRC_ARG, raw, e);
}

static int
put_with_value(struct flagrun *fr, const struct knob *kb, const char *name, const char *raw,
    const char *sval, struct err *e)
{
	struct engine_parse *p = fr->c->p;
	json_t *v;

	if (knob_secret(kb, name))
		return put(p, name, engine_redact_value(sval, strlen(sval)), ENGINE_SRC_ARG, raw, e);
	if (kb != NULL && kb->type == KNOB_LIST) {
		v = json_array();
		if (v != NULL)
			json_array_append_new(v, json_string(sval));
		return put(p, name, v, ENGINE_SRC_ARG, raw, e);
	}
	return put(p, name, typed(p->kind, kb != NULL ? kb->type : KNOB_ANY, sval),
	    ENGINE_SRC_ARG, raw, e);
}

static int
long_flag(struct flagrun *fr, const char *a, struct err *e)
{
	struct engine_parse *p = fr->c->p;
	const char *body = a + 2, *eq = strchr(body, '='), *dot;
	const struct knob *kb;
	size_t klen = eq != NULL ? (size_t)(eq - body) : strlen(body);
	char key[128], raw[160];
	const char *name;

	dot = memchr(body, '.', klen);
	normalise(body, dot != NULL ? (size_t)(dot - body) : klen, key, sizeof(key));
	snprintf(raw, sizeof(raw), "--%.*s", (int)(dot != NULL ? (size_t)(dot - body) : klen),
	    body);
	kb = knowledge_by_flag(p->kind, key);
	if (kb == NULL && dot == NULL && strncmp(key, "no_", 3) == 0) {
		const struct knob *neg = knowledge_by_flag(p->kind, key + 3);

		if (neg != NULL && neg->type == KNOB_BOOL)
			return put(p, neg->pub.name, json_false(), ENGINE_SRC_ARG, raw, e);
	}
	if (kb == NULL && (p->kind == ENGINE_VLLM || p->kind == ENGINE_SGLANG) && strlen(key) >= 3)
		kb = knowledge_by_prefix(p->kind, key);
	name = kb != NULL ? kb->pub.name : key;
	if (dot != NULL) {
		char path[256], red[ENGINE_REDACTED_MAX + 2];
		const char *sval = NULL;

		snprintf(path, sizeof(path), "%.*s", (int)(klen - (size_t)(dot - body) - 1), dot + 1);
		if (eq != NULL)
			sval = eq + 1;
		else if (fr->i < fr->n && !flag_like(fr->w[fr->i]))
			sval = fr->w[fr->i++];
		if ((knob_secret(kb, name) || engine_name_is_secret(path)) && sval != NULL) {
			engine_redact_text(sval, strlen(sval), red + 1, sizeof(red) - 2);
			red[0] = '"';
			red[strlen(red) + 1] = '\0';
			red[strlen(red)] = '"';
			sval = red;
		}
		return put_dotted(p, name, path, sval, raw, e);
	}
	if (eq != NULL)
		return put_with_value(fr, kb, name, raw, eq + 1, e);
	return take_value(fr, kb, name, raw, e);
}

static int
short_flag(struct flagrun *fr, const char *a, struct err *e)
{
	struct engine_parse *p = fr->c->p;
	const char *eq = strchr(a, '=');
	const struct knob *kb;
	size_t klen = eq != NULL ? (size_t)(eq - a) : strlen(a);
	char key[128];
	const char *attached = NULL;

	snprintf(key, sizeof(key), "%.*s", (int)klen, a);
	kb = knowledge_by_flag(p->kind, key);
	if (kb == NULL && eq == NULL && strlen(a) > 2) {
		/* -O3: a one-letter alias with its value attached. */
		char one[3] = { '-', a[1], '\0' };

		kb = knowledge_by_flag(p->kind, one);
		if (kb != NULL && kb->type != KNOB_BOOL) {
			attached = a + 2;
			key[2] = '\0';
		} else {
			kb = NULL;
		}
	}
	if (kb == NULL) {
		char name[128];

		normalise(a + 1, klen - 1, name, sizeof(name));
		if (eq != NULL)
			return put_with_value(fr, NULL, name, key, eq + 1, e);
		return take_value(fr, NULL, name, key, e);
	}
	if (attached != NULL)
		return put_with_value(fr, kb, kb->pub.name, key, attached, e);
	if (eq != NULL)
		return put_with_value(fr, kb, kb->pub.name, key, eq + 1, e);
	return take_value(fr, kb, kb->pub.name, key, e);
}

static int
parse_flags(struct pctx *c, char **w, size_t n, int positional_model, struct err *e)
{
	struct flagrun fr;
	int ret = -1, only_positional = 0;

	fr.c = c;
	fr.w = w;
	fr.n = n;
	fr.i = 0;
	fr.positional_model = positional_model;
	fr.positional = json_array();
	if (fr.positional == NULL)
		return err_set(e, ERR_NOMEM, "out of memory parsing engine settings");
	while (fr.i < fr.n) {
		const char *a = fr.w[fr.i++];

		if (!only_positional && strcmp(a, "--") == 0) {
			only_positional = 1;
		} else if (!only_positional && a[0] == '-' && a[1] == '-' && a[2] != '\0') {
			if (long_flag(&fr, a, e) < 0)
				goto out;
		} else if (!only_positional && flag_like(a)) {
			if (short_flag(&fr, a, e) < 0)
				goto out;
		} else if (fr.positional_model) {
			fr.positional_model = 0;
			if (put(c->p, "model", json_string(a), ENGINE_SRC_POSITIONAL, RAW_POSITIONAL,
			    e) < 0)
				goto out;
		} else {
			json_array_append_new(fr.positional, json_string(a));
		}
	}
	if (json_array_size(fr.positional) > 0) {
		if (put(c->p, "positional", fr.positional, ENGINE_SRC_POSITIONAL, RAW_POSITIONAL,
		    e) < 0) {
			fr.positional = NULL;
			goto out;
		}
		fr.positional = NULL;
	}
	ret = 0;
out:
	json_decref(fr.positional);
	return ret;
}

/* ---- env --------------------------------------------------------------- */

static void
lower_into(const char *s, char *out, size_t outsz)
{
	size_t i;

	for (i = 0; s[i] != '\0' && i + 1 < outsz; i++)
		out[i] = (char)tolower((unsigned char)s[i]);
	out[i] = '\0';
}

/* One env var as a setting, when the engine reads it. */
static int
env_setting(struct engine_parse *p, const char *name, const char *val, struct err *e)
{
	const struct knob *kb = knowledge_by_env(p->kind, name);
	char low[128];
	const char *sname = NULL;

	lower_into(name, low, sizeof(low));
	if (kb == NULL && p->kind == ENGINE_TGI)
		kb = knowledge_by_name(p->kind, low);
	if (kb == NULL && p->kind == ENGINE_NIM && strncmp(name, "NIM_", 4) == 0) {
		kb = knowledge_by_name(p->kind, low + 4);
		sname = low + 4;
	}
	if (kb != NULL)
		sname = kb->pub.name;
	else if (p->kind == ENGINE_VLLM && strncmp(name, "VLLM_", 5) == 0)
		sname = low;
	else if (p->kind == ENGINE_SGLANG && strncmp(name, "SGLANG_", 7) == 0)
		sname = low;
	if (sname == NULL)
		return 0;
	if (knob_secret(kb, name))
		return put(p, sname, engine_redact_value(val, strlen(val)), ENGINE_SRC_ENV, name, e);
	if (kb != NULL && kb->type == KNOB_LIST) {
		json_t *arr = json_array();

		if (arr != NULL)
			json_array_append_new(arr, json_string(val));
		return put(p, sname, arr, ENGINE_SRC_ENV, name, e);
	}
	return put(p, sname, typed(p->kind, kb != NULL ? kb->type : KNOB_ANY, val),
	    ENGINE_SRC_ENV, name, e);
}

static int
env_settings(struct pctx *c, struct err *e)
{
	const char *name;
	json_t *v;

	json_object_foreach(c->env, name, v) {
		if (env_setting(c->p, name, json_string_value(v), e) < 0)
			return -1;
	}
	return 0;
}

/* ---- detection --------------------------------------------------------- */

static const char *
base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s != NULL ? s + 1 : path;
}

static int
is_shell(const char *prog)
{
	static const char *const shells[] = { "sh", "bash", "dash", "ash", "zsh", "ksh", NULL };
	int i;

	for (i = 0; shells[i] != NULL; i++)
		if (strcmp(prog, shells[i]) == 0)
			return 1;
	return 0;
}

/* For `sh [-opts] -c SCRIPT ...`: the index of SCRIPT, or 0. */
static size_t
shell_script_index(char **w, size_t n)
{
	size_t i;
	int has_c = 0;

	if (n < 2 || !is_shell(base_name(w[0])))
		return 0;
	for (i = 1; i < n && w[i][0] == '-'; i++) {
		if (w[i][1] != '-' && strchr(w[i], 'c') != NULL)
			has_c = 1;
	}
	return has_c && i < n ? i : 0;
}

struct detected {
	enum engine_kind kind;
	size_t start;          /* first flag word */
	int positional_model;  /* the first positional word is the model */
};

static int
is_python(const char *prog)
{
	return strncmp(prog, "python", 6) == 0 &&
	    (prog[6] == '\0' || isdigit((unsigned char)prog[6]));
}

/* Finds the engine a command runs; words[0] is the program. */
static int
detect_cmd(char **w, size_t n, struct detected *d)
{
	const char *prog;
	size_t i;

	memset(d, 0, sizeof(*d));
	if (n == 0)
		return 0;
	prog = base_name(w[0]);
	if (strcmp(prog, "vllm") == 0) {
		d->kind = ENGINE_VLLM;
		d->start = 1;
		if (n > 1 && strcmp(w[1], "serve") == 0) {
			d->start = 2;
			d->positional_model = 1;
		}
		return 1;
	}
	if (strcmp(prog, "text-generation-launcher") == 0) {
		d->kind = ENGINE_TGI;
		d->start = 1;
		return 1;
	}
	if (strcmp(prog, "tritonserver") == 0 || strcmp(prog, "launch_triton_server.py") == 0) {
		d->kind = ENGINE_TRITON;
		d->start = 1;
		return 1;
	}
	if (strcmp(prog, "trtllm-serve") == 0) {
		d->kind = ENGINE_TRITON;
		d->start = 1;
		d->positional_model = 1;
		return 1;
	}
	if (!is_python(prog))
		return 0;
	for (i = 1; i < n; i++) {
		const char *a = w[i];

		if (strcmp(a, "-m") == 0 && i + 1 < n) {
			const char *mod = w[i + 1];

			d->start = i + 2;
			if (strcmp(mod, "vllm.entrypoints.openai.api_server") == 0 ||
			    strcmp(mod, "vllm.entrypoints.api_server") == 0) {
				d->kind = ENGINE_VLLM;
				return 1;
			}
			if (strcmp(mod, "vllm.entrypoints.cli.main") == 0) {
				d->kind = ENGINE_VLLM;
				if (d->start < n && strcmp(w[d->start], "serve") == 0) {
					d->start++;
					d->positional_model = 1;
				}
				return 1;
			}
			if (strcmp(mod, "sglang.launch_server") == 0) {
				d->kind = ENGINE_SGLANG;
				return 1;
			}
			return 0;
		}
		if (strcmp(a, "-X") == 0 || strcmp(a, "-W") == 0) {
			i++;
			continue;
		}
		if (a[0] == '-')
			continue;
		if (strcmp(base_name(a), "launch_triton_server.py") == 0) {
			d->kind = ENGINE_TRITON;
			d->start = i + 1;
			return 1;
		}
		return 0;
	}
	return 0;
}

/* The engine an image ships, by its repository name. */
static enum engine_kind
image_kind(const char *image)
{
	char repo[512];
	const char *slash, *colon, *last;
	size_t len;

	if (image == NULL)
		return ENGINE_UNKNOWN;
	len = strcspn(image, "@");
	if (len >= sizeof(repo))
		len = sizeof(repo) - 1;
	lower_into(image, repo, len + 1);
	slash = strrchr(repo, '/');
	colon = strrchr(repo, ':');
	if (colon != NULL && (slash == NULL || colon > slash))
		repo[colon - repo] = '\0';
	last = base_name(repo);
	if (strstr(last, "router") != NULL)
		return ENGINE_UNKNOWN;
	if (strncmp(repo, "nvcr.io/nim/", 12) == 0)
		return ENGINE_NIM;
	if (strstr(last, "vllm") != NULL)
		return ENGINE_VLLM;
	if (strstr(last, "text-generation-inference") != NULL)
		return ENGINE_TGI;
	if (strstr(last, "sglang") != NULL)
		return ENGINE_SGLANG;
	if (strstr(last, "tritonserver") != NULL || strstr(last, "tensorrt-llm") != NULL ||
	    strstr(last, "tensorrtllm") != NULL)
		return ENGINE_TRITON;
	return ENGINE_UNKNOWN;
}

/* "repo:v0.8.5" -> "0.8.5"; latest, digests and non-versions -> NULL. */
static char *
image_version(const char *image)
{
	char ref[512];
	const char *slash, *colon, *tag;
	size_t len, i;
	int dots = 0;

	if (image == NULL)
		return NULL;
	/* repo:tag@sha256:... -> repo:tag */
	len = strcspn(image, "@");
	if (len >= sizeof(ref))
		return NULL;
	memcpy(ref, image, len);
	ref[len] = '\0';
	slash = strrchr(ref, '/');
	colon = strrchr(ref, ':');
	if (colon == NULL || (slash != NULL && colon < slash))
		return NULL;
	tag = colon + 1;
	if (tag[0] == 'v' || tag[0] == 'V')
		tag++;
	len = strcspn(tag, "-_+");
	if (len == 0 || !isdigit((unsigned char)tag[0]))
		return NULL;
	for (i = 0; i < len; i++) {
		if (tag[i] == '.')
			dots++;
		else if (!isalnum((unsigned char)tag[i]))
			return NULL;
	}
	if (dots == 0)
		return NULL;
	return buf_memdup0(tag, len);
}

/* ---- Kubernetes $(VAR) expansion --------------------------------------- */

/* What the kubelet does to command/args: $(NAME) becomes the value of env NAME
 * when it has a literal value, $$ becomes $, anything else stays. Secret-named
 * variables are not expanded, so no credential reaches a setting this way. */
static char *
kube_expand(const char *s, json_t *env, struct err *e)
{
	struct buf b = BUF_INIT(ENGINE_MAX_ARG_BYTES);
	size_t i = 0, n = strlen(s);

	while (i < n) {
		if (s[i] == '$' && i + 1 < n && s[i + 1] == '$') {
			if (buf_addch(&b, '$', e) < 0)
				return NULL;
			i += 2;
			continue;
		}
		if (s[i] == '$' && i + 1 < n && s[i + 1] == '(') {
			const char *close = strchr(s + i + 2, ')');

			if (close != NULL) {
				char name[256];
				size_t nl = (size_t)(close - (s + i + 2));
				json_t *v;

				if (nl > 0 && nl < sizeof(name)) {
					memcpy(name, s + i + 2, nl);
					name[nl] = '\0';
					v = json_object_get(env, name);
					if (v != NULL && !engine_name_is_secret(name) &&
					    strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-.") == nl) {
						if (buf_addstr(&b, json_string_value(v), e) < 0)
							return NULL;
						i += nl + 3;
						continue;
					}
				}
			}
		}
		if (buf_addch(&b, s[i], e) < 0)
			return NULL;
		i++;
	}
	return buf_take(&b, NULL);
}

/* ---- the container ----------------------------------------------------- */

static int
load_env(struct pctx *c, const json_t *container, struct err *e)
{
	json_t *env = json_object_get(container, "env"), *item;
	size_t i;

	if (env != NULL && !json_is_array(env))
		return err_set(e, ERR_INVALID, "container env is not a list");
	if (json_array_size(env) > ENGINE_MAX_ARGS)
		return err_set(e, ERR_TOO_LARGE, "container has more than %d env entries",
		    ENGINE_MAX_ARGS);
	json_array_foreach(env, i, item) {
		json_t *name = json_object_get(item, "name"), *val = json_object_get(item, "value");

		if (!json_is_string(name))
			continue;
		if (json_is_string(val) && strlen(json_string_value(val)) > ENGINE_MAX_ARG_BYTES)
			return err_set(e, ERR_TOO_LARGE, "env '%s' is longer than %d bytes",
			    json_string_value(name), ENGINE_MAX_ARG_BYTES);
		/* valueFrom (Secret, ConfigMap, field refs) has no literal value here. */
		if (json_is_string(val)) {
			if (json_object_set(c->env, json_string_value(name), val) < 0)
				return err_set(e, ERR_NOMEM, "out of memory reading container env");
		} else if (json_is_number(val) || json_is_boolean(val)) {
			char *txt = json_dumps(val, JSON_ENCODE_ANY);

			if (txt == NULL || json_object_set_new(c->env, json_string_value(name),
			    json_string(txt)) < 0) {
				free(txt);
				return err_set(e, ERR_NOMEM, "out of memory reading container env");
			}
			free(txt);
		}
	}
	return 0;
}

static int
add_words(struct pctx *c, const json_t *list, const char *what, struct err *e)
{
	json_t *v;
	size_t i;

	if (list == NULL)
		return 0;
	if (!json_is_array(list))
		return err_set(e, ERR_INVALID, "container %s is not a list", what);
	json_array_foreach(list, i, v) {
		char *w;

		if (c->argc >= ENGINE_MAX_ARGS)
			return err_set(e, ERR_TOO_LARGE, "container command and args have more than %d words",
			    ENGINE_MAX_ARGS);
		if (json_is_string(v)) {
			if (strlen(json_string_value(v)) > ENGINE_MAX_ARG_BYTES)
				return err_set(e, ERR_TOO_LARGE, "container %s item %zu is longer than %d bytes",
				    what, i, ENGINE_MAX_ARG_BYTES);
			w = kube_expand(json_string_value(v), c->env, e);
		} else if (json_is_number(v) || json_is_boolean(v)) {
			w = json_dumps(v, JSON_ENCODE_ANY);
		} else {
			return err_set(e, ERR_INVALID, "container %s item %zu is not a string", what, i);
		}
		if (w == NULL)
			return err_set(e, ERR_NOMEM, "out of memory reading container %s", what);
		c->argv[c->argc++] = w;
	}
	return 0;
}

/* Adds NAME=value words (from `A=b cmd` or `env A=b cmd`) to the env. */
static int
add_assignments(struct pctx *c, char **w, size_t n, struct err *e)
{
	size_t i;

	for (i = 0; i < n; i++) {
		const char *eq = strchr(w[i], '=');
		char name[256];

		if (eq == NULL || (size_t)(eq - w[i]) >= sizeof(name))
			continue;
		memcpy(name, w[i], (size_t)(eq - w[i]));
		name[eq - w[i]] = '\0';
		if (json_object_set_new(c->env, name, json_string(eq + 1)) < 0)
			return err_set(e, ERR_NOMEM, "out of memory reading shell assignments");
	}
	return 0;
}

/* Words in front of a command that do not change which program runs: shell
 * keywords and grouping, exec, nohup, time, and `env [-i] [A=b ...]`. Returns
 * the index of the program; with c set, env's A=b words become env. */
static size_t
wrapper_len(struct pctx *c, char **w, size_t n, struct err *e)
{
	static const char *const skip[] = {
		"exec", "nohup", "time", "{", "!", "then", "do", "else", "elif", NULL
	};
	size_t i = 0, k;

	while (i < n) {
		const char *prog = base_name(w[i]);
		int hit = 0;

		for (k = 0; skip[k] != NULL; k++)
			if (strcmp(w[i], skip[k]) == 0)
				hit = 1;
		if (hit) {
			i++;
		} else if (strcmp(prog, "env") == 0) {
			size_t j = i + 1;

			while (j < n && (w[j][0] == '-' || strchr(w[j], '=') != NULL))
				j++;
			if (c != NULL && add_assignments(c, w + i + 1, j - i - 1, e) < 0)
				return SIZE_MAX;
			i = j;
		} else {
			break;
		}
	}
	return i;
}

/* Picks the command of a script that runs the engine: the first detected
 * one, else the first nested `sh -c`, else the last command. */
static struct shell_cmd *
pick_cmd(struct shell_script *sc)
{
	struct detected d;
	size_t i;

	for (i = 0; i < sc->n_cmds; i++) {
		struct shell_cmd *cmd = &sc->cmds[i];
		char **w = cmd->words + cmd->n_assign;
		size_t n = cmd->n_words - cmd->n_assign, j = wrapper_len(NULL, w, n, NULL);

		if (detect_cmd(w + j, n - j, &d))
			return cmd;
	}
	for (i = 0; i < sc->n_cmds; i++) {
		struct shell_cmd *cmd = &sc->cmds[i];
		char **w = cmd->words + cmd->n_assign;
		size_t n = cmd->n_words - cmd->n_assign, j = wrapper_len(NULL, w, n, NULL);

		if (shell_script_index(w + j, n - j))
			return cmd;
	}
	return sc->n_cmds > 0 ? &sc->cmds[sc->n_cmds - 1] : NULL;
}

int
engine_split_shell(const char *s, char ***argv, size_t *argc, struct err *e)
{
	struct shell_script sc;
	struct shell_cmd *cmd;
	char **out = NULL;
	size_t i, n = 0;
	int ret = -1;

	*argv = NULL;
	if (argc != NULL)
		*argc = 0;
	if (shell_split(s, &sc, e) < 0)
		return -1;
	cmd = pick_cmd(&sc);
	if (cmd != NULL)
		n = cmd->n_words - cmd->n_assign;
	out = calloc(n + 1, sizeof(*out));
	if (out == NULL) {
		err_set(e, ERR_NOMEM, "out of memory splitting a shell command");
		goto out;
	}
	for (i = 0; i < n; i++) {
		out[i] = strdup(cmd->words[cmd->n_assign + i]);
		if (out[i] == NULL) {
			err_set(e, ERR_NOMEM, "out of memory splitting a shell command");
			goto out;
		}
	}
	*argv = out;
	out = NULL;
	if (argc != NULL)
		*argc = n;
	ret = 0;
out:
	engine_argv_free(out);
	shell_script_release(&sc);
	return ret;
}

void
engine_argv_free(char **argv)
{
	size_t i;

	if (argv == NULL)
		return;
	for (i = 0; argv[i] != NULL; i++)
		free(argv[i]);
	free(argv);
}

static int
cmp_settings(const void *a, const void *b)
{
	const struct engine_setting *x = a, *y = b;

	return strcmp(x->name, y->name);
}

static int
finish(struct engine_parse *p, struct err *e)
{
	const char *name;
	json_t *v;
	size_t i = 0;

	p->n = json_object_size(p->values);
	p->settings = calloc(p->n ? p->n : 1, sizeof(*p->settings));
	if (p->settings == NULL)
		return err_set(e, ERR_NOMEM, "out of memory parsing engine settings");
	json_object_foreach(p->values, name, v) {
		struct engine_setting *s = &p->settings[i++];

		s->name = name;
		s->value = v;
		s->raw = json_string_value(json_object_get(p->raws, name));
		s->source = (enum engine_source)json_integer_value(json_object_get(p->prio, name));
	}
	qsort(p->settings, p->n, sizeof(*p->settings), cmp_settings);
	return 0;
}

static int
run(struct pctx *c, const json_t *container, struct err *e)
{
	struct engine_parse *p = c->p;
	const json_t *cmdlist = json_object_get(container, "command");
	const json_t *args = json_object_get(container, "args");
	const json_t *img = json_object_get(container, "image");
	const char *image = json_is_string(img) ? json_string_value(img) : NULL;
	enum engine_kind ik = image_kind(image);
	struct detected d;
	char **w;
	size_t n, skip, idx;
	int found = 0;

	if (load_env(c, container, e) < 0)
		return -1;
	c->argv = calloc(json_array_size(cmdlist) + json_array_size(args) + 1, sizeof(char *));
	if (c->argv == NULL)
		return err_set(e, ERR_NOMEM, "out of memory reading container command");
	if (add_words(c, cmdlist, "command", e) < 0 || add_words(c, args, "args", e) < 0)
		return -1;
	w = c->argv;
	n = c->argc;
	for (;;) {
		struct shell_cmd *cmd;

		skip = wrapper_len(c, w, n, e);
		if (skip == SIZE_MAX)
			return -1;
		w += skip;
		n -= skip;
		idx = shell_script_index(w, n);
		if (idx == 0 || c->n_scripts >= SHELL_MAX_NESTING)
			break;
		if (shell_split(w[idx], &c->scripts[c->n_scripts], e) < 0)
			return err_prefix(e, "parsing the %s -c string", base_name(w[0]));
		cmd = pick_cmd(&c->scripts[c->n_scripts++]);
		if (cmd == NULL) {
			n = 0;
			break;
		}
		if (add_assignments(c, cmd->words, cmd->n_assign, e) < 0)
			return -1;
		w = cmd->words + cmd->n_assign;
		n = cmd->n_words - cmd->n_assign;
	}
	found = detect_cmd(w, n, &d);
	if (!found && json_array_size(cmdlist) == 0 && ik != ENGINE_UNKNOWN) {
		/* Only args: they go to the image's own entry point. */
		memset(&d, 0, sizeof(d));
		d.kind = ik;
		if (ik == ENGINE_VLLM) {
			d.positional_model = 1;
			if (n > 0 && strcmp(w[0], "serve") == 0)
				d.start = 1;
		}
	} else if (!found) {
		memset(&d, 0, sizeof(d));
		d.kind = ik;
		d.start = n > 0 ? 1 : 0;
	}
	p->kind = d.kind;
	if (ik != ENGINE_UNKNOWN && ik == p->kind)
		p->version = image_version(image);
	if (!knowledge_loaded() && p->kind != ENGINE_UNKNOWN)
		return err_set(e, ERR_INTERNAL, "engine knowledge is not loaded (engine_init)");
	if (env_settings(c, e) < 0)
		return -1;
	if (d.start <= n && parse_flags(c, w + d.start, n - d.start, d.positional_model, e) < 0)
		return -1;
	return finish(p, e);
}

int
engine_parse(const json_t *container, struct engine_parse **out, struct err *e)
{
	struct pctx c;
	size_t i;
	int ret = -1;

	*out = NULL;
	memset(&c, 0, sizeof(c));
	if (!json_is_object(container))
		return err_set(e, ERR_INVALID, "container is not an object");
	c.p = calloc(1, sizeof(*c.p));
	c.env = json_object();
	if (c.p == NULL || c.env == NULL) {
		err_set(e, ERR_NOMEM, "out of memory parsing a container");
		goto out;
	}
	c.p->values = json_object();
	c.p->raws = json_object();
	c.p->prio = json_object();
	if (c.p->values == NULL || c.p->raws == NULL || c.p->prio == NULL) {
		err_set(e, ERR_NOMEM, "out of memory parsing a container");
		goto out;
	}
	if (run(&c, container, e) < 0)
		goto out;
	*out = c.p;
	c.p = NULL;
	ret = 0;
out:
	engine_parse_free(c.p);
	for (i = 0; i < c.n_scripts; i++)
		shell_script_release(&c.scripts[i]);
	for (i = 0; i < c.argc; i++)
		free(c.argv[i]);
	free(c.argv);
	json_decref(c.env);
	return ret;
}

void
engine_parse_free(struct engine_parse *p)
{
	if (p == NULL)
		return;
	free(p->settings);
	json_decref(p->values);
	json_decref(p->raws);
	json_decref(p->prio);
	free(p->version);
	free(p);
}

enum engine_kind
engine_parse_kind(const struct engine_parse *p)
{
	return p->kind;
}

const char *
engine_parse_version(const struct engine_parse *p)
{
	return p->version;
}

size_t
engine_parse_count(const struct engine_parse *p)
{
	return p->n;
}

const struct engine_setting *
engine_parse_at(const struct engine_parse *p, size_t i)
{
	return i < p->n ? &p->settings[i] : NULL;
}

const struct engine_setting *
engine_parse_get(const struct engine_parse *p, const char *name)
{
	struct engine_setting key;

	if (p->n == 0)
		return NULL;
	memset(&key, 0, sizeof(key));
	key.name = name;
	return bsearch(&key, p->settings, p->n, sizeof(*p->settings), cmp_settings);
}

json_t *
engine_parse_to_json(const struct engine_parse *p)
{
	json_t *o = json_object(), *settings = json_object(), *raw = json_object();
	size_t i;

	if (o == NULL || settings == NULL || raw == NULL)
		goto fail;
	for (i = 0; i < p->n; i++) {
		if (json_object_set(settings, p->settings[i].name, p->settings[i].value) < 0 ||
		    json_object_set_new(raw, p->settings[i].name,
		    json_string(p->settings[i].raw)) < 0)
			goto fail;
	}
	if (json_object_set_new(o, "engine", json_string(engine_kind_name(p->kind))) < 0 ||
	    json_object_set_new(o, "version", p->version != NULL ? json_string(p->version) :
	    json_null()) < 0 ||
	    json_object_set_new(o, "settings", settings) < 0) {
		settings = NULL;
		goto fail;
	}
	settings = NULL;
	if (json_object_set_new(o, "raw", raw) < 0) {
		raw = NULL;
		goto fail;
	}
	return o;
fail:
	json_decref(settings);
	json_decref(raw);
	json_decref(o);
	return NULL;
}
