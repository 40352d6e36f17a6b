/*
 * config.c - the YAML config file and SKEWD_* environment overrides.
 *
 * Every key is one row of `keys[]` below: its name, type, where it lives in
 * struct config, its environment variable, its default and its range. Adding
 * a key is one row here, one field in config.h and one line in
 * docs/configuration.md (test_config checks the doc names every key).
 *
 * The file is read with libyaml's event API so each error can name its line.
 * The file is one flat mapping of scalars; anything else is an error.
 */
#include "config/config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <yaml.h>

#include "util/buf.h"
#include "util/err.h"
#include "util/limits.h"
#include "util/log.h"
#include "util/banned.h"

enum key_type {
	KEY_STRING,      /* must not be empty */
	KEY_OPT_STRING,  /* may be null: `~`, `null` or nothing */
	KEY_INT,         /* int field, in [min, max] */
	KEY_SIZE,        /* size_t field, in [min, max] */
	KEY_BOOL,        /* int field, true or false */
};

/* An extra check of a string value; returns a reason, or NULL when fine. */
typedef const char *(*key_check_fn)(const char *value);

struct key {
	const char *name;
	enum key_type type;
	size_t offset;
	const char *env;
	const char *def_str;     /* default of string keys (NULL: none) */
	long long def_num;       /* default of number and bool keys */
	long long min, max;
	key_check_fn check;
};

static const char *check_log_level(const char *value);
static const char *check_url(const char *value);
static const char *check_listen(const char *value);

#define OFF(field) offsetof(struct config, field)

static const struct key keys[] = {
	{ "listen", KEY_STRING, OFF(listen), "SKEWD_LISTEN", "127.0.0.1:8080", 0, 0, 0, check_listen },
	{ "http_threads", KEY_INT, OFF(http_threads), "SKEWD_HTTP_THREADS", NULL,
	  HTTP_DEFAULT_THREADS, 1, HTTP_MAX_THREADS, NULL },
	{ "max_body_bytes", KEY_SIZE, OFF(max_body_bytes), "SKEWD_MAX_BODY_BYTES", NULL,
	  HTTP_MAX_BODY_BYTES, 1024, CONFIG_MAX_BODY_BYTES, NULL },
	{ "request_timeout_ms", KEY_INT, OFF(request_timeout_ms), "SKEWD_REQUEST_TIMEOUT_MS", NULL,
	  HTTP_REQUEST_TIMEOUT_MS, CONFIG_MIN_TIMEOUT_MS, CONFIG_MAX_TIMEOUT_MS, NULL },
	{ "web_dir", KEY_OPT_STRING, OFF(web_dir), "SKEWD_WEB_DIR", NULL, 0, 0, 0, NULL },
	{ "public_url", KEY_OPT_STRING, OFF(public_url), "SKEWD_PUBLIC_URL", NULL, 0, 0, 0, check_url },
	{ "data_dir", KEY_STRING, OFF(data_dir), "SKEWD_DATA_DIR", "./data", 0, 0, 0, NULL },
	{ "migrations_dir", KEY_OPT_STRING, OFF(migrations_dir), "SKEWD_MIGRATIONS_DIR", NULL, 0, 0, 0, NULL },
	{ "anonymous_read", KEY_BOOL, OFF(anonymous_read), "SKEWD_ANONYMOUS_READ", NULL, 0, 0, 1, NULL },
	{ "log_level", KEY_STRING, OFF(log_level), "SKEWD_LOG_LEVEL", "info", 0, 0, 0, check_log_level },
	{ "log_json", KEY_BOOL, OFF(log_json), "SKEWD_LOG_JSON", NULL, 0, 0, 1, NULL },
	{ "collect_interval_s", KEY_INT, OFF(collect_interval_s), "SKEWD_COLLECT_INTERVAL_S", NULL,
	  CONFIG_DEFAULT_COLLECT_INTERVAL_S, 0, CONFIG_MAX_COLLECT_INTERVAL_S, NULL },
	{ "allow_http_clusters", KEY_BOOL, OFF(allow_http_clusters), "SKEWD_ALLOW_HTTP_CLUSTERS", NULL,
	  0, 0, 1, NULL },
	{ "seal_key_file", KEY_OPT_STRING, OFF(seal_key_file), "SKEWD_SEAL_KEY_FILE", NULL, 0, 0, 0, NULL },
	{ "in_cluster", KEY_BOOL, OFF(in_cluster), "SKEWD_IN_CLUSTER", NULL, 0, 0, 1, NULL },
	{ "collect_timeout_ms", KEY_INT, OFF(collect_timeout_ms), "SKEWD_COLLECT_TIMEOUT_MS", NULL,
	  KUBE_REQUEST_TIMEOUT_MS, CONFIG_MIN_TIMEOUT_MS, CONFIG_MAX_TIMEOUT_MS, NULL },
	{ "history_days", KEY_INT, OFF(history_days), "SKEWD_HISTORY_DAYS", NULL,
	  CONFIG_DEFAULT_HISTORY_DAYS, 0, CONFIG_MAX_HISTORY_DAYS, NULL },
	{ "bundle_retention_days", KEY_INT, OFF(bundle_retention_days), "SKEWD_BUNDLE_RETENTION_DAYS", NULL,
	  BUNDLE_DEFAULT_RETENTION_DAYS, 0, CONFIG_MAX_HISTORY_DAYS, NULL },
	{ "allow_http_webhooks", KEY_BOOL, OFF(allow_http_webhooks), "SKEWD_ALLOW_HTTP_WEBHOOKS", NULL,
	  0, 0, 1, NULL },
	{ "dcgm_selector", KEY_OPT_STRING, OFF(dcgm_selector), "SKEWD_DCGM_SELECTOR", NULL, 0, 0, 0, NULL },
	{ "diff_rules_file", KEY_OPT_STRING, OFF(diff_rules_file), "SKEWD_DIFF_RULES_FILE", NULL, 0, 0, 0, NULL },
	{ "verdict_rules_file", KEY_OPT_STRING, OFF(verdict_rules_file), "SKEWD_VERDICT_RULES_FILE", NULL,
	  0, 0, 0, NULL },
	{ "auto_promote_after_s", KEY_INT, OFF(auto_promote_after_s), "SKEWD_AUTO_PROMOTE_AFTER_S", NULL,
	  0, 0, CONFIG_MAX_AUTO_PROMOTE_S, NULL },
};

#define NKEYS (sizeof(keys) / sizeof(keys[0]))

static const char *
check_log_level(const char *value)
{
	enum log_level l;

	return log_level_parse(value, &l) < 0 ? "must be one of error, warn, info, debug" : NULL;
}

static const char *
check_url(const char *value)
{
	if (strncmp(value, "http://", 7) != 0 && strncmp(value, "https://", 8) != 0)
		return "must be an http:// or https:// URL";
	return NULL;
}

static const char *
check_listen(const char *value)
{
	size_t i;

	for (i = 0; value[i] != '\0'; i++) {
		if (value[i] == ' ' || value[i] == '\t' || value[i] == '\n')
			return "must not contain white space (use host:port, or several joined by ',')";
	}
	return NULL;
}

const char *
config_key_name(size_t i)
{
	return i < NKEYS ? keys[i].name : NULL;
}

const char *
config_key_env(size_t i)
{
	return i < NKEYS ? keys[i].env : NULL;
}

static char **
str_field(struct config *c, const struct key *k)
{
	return (char **)(void *)((char *)c + k->offset);
}

static int *
int_field(struct config *c, const struct key *k)
{
	return (int *)(void *)((char *)c + k->offset);
}

static size_t *
size_field(struct config *c, const struct key *k)
{
	return (size_t *)(void *)((char *)c + k->offset);
}

static int
is_null_word(const char *v)
{
	return v[0] == '\0' || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 ||
	    strcmp(v, "Null") == 0 || strcmp(v, "NULL") == 0;
}

/*
 * Sets key k from text v. `where` names the place for messages ("FILE:LINE"
 * or "environment variable SKEWD_X"); `quoted` is 1 when the YAML scalar was
 * quoted (a quoted "8" is a string, not a number).
 */
static int
set_value(struct config *c, const struct key *k, const char *v, int quoted, const char *where,
    struct err *e)
{
	const char *reason;
	long long num;
	char *end, *copy;

	switch (k->type) {
	case KEY_STRING:
	case KEY_OPT_STRING:
		if (!quoted && is_null_word(v)) {
			if (k->type == KEY_STRING)
				return err_set(e, ERR_INVALID, "%s: '%s' must not be empty", where, k->name);
			free(*str_field(c, k));
			*str_field(c, k) = NULL;
			return 0;
		}
		if (v[0] == '\0')
			return err_set(e, ERR_INVALID, "%s: '%s' must not be empty", where, k->name);
		if (k->check != NULL && (reason = k->check(v)) != NULL)
			return err_set(e, ERR_INVALID, "%s: '%s' %s", where, k->name, reason);
		copy = strdup(v);
		if (copy == NULL)
			return err_set(e, ERR_NOMEM, "%s: out of memory", where);
		free(*str_field(c, k));
		*str_field(c, k) = copy;
		return 0;
	case KEY_INT:
	case KEY_SIZE:
		if (quoted || v[0] == '\0' || !((v[0] >= '0' && v[0] <= '9') || v[0] == '-'))
			return err_set(e, ERR_INVALID, "%s: '%s' must be a number", where, k->name);
		errno = 0;
		num = strtoll(v, &end, 10);
		if (*end != '\0')
			return err_set(e, ERR_INVALID, "%s: '%s' must be a number", where, k->name);
		if (errno == ERANGE || num < k->min || num > k->max)
			return err_set(e, ERR_INVALID, "%s: '%s' must be between %lld and %lld", where,
			    k->name, k->min, k->max);
		if (k->type == KEY_INT)
			*int_field(c, k) = (int)num;
		else
			*size_field(c, k) = (size_t)num;
		return 0;
	case KEY_BOOL:
		if (!quoted && (strcmp(v, "true") == 0 || strcmp(v, "True") == 0 ||
		    strcmp(v, "TRUE") == 0)) {
			*int_field(c, k) = 1;
			return 0;
		}
		if (!quoted && (strcmp(v, "false") == 0 || strcmp(v, "False") == 0 ||
		    strcmp(v, "FALSE") == 0)) {
			*int_field(c, k) = 0;
			return 0;
		}
		return err_set(e, ERR_INVALID, "%s: '%s' must be true or false", where, k->name);
	}
	return err_set(e, ERR_INTERNAL, "%s: '%s' has no type", where, k->name);
}

static int
set_defaults(struct config *c, struct err *e)
{
	size_t i;

	for (i = 0; i < NKEYS; i++) {
		const struct key *k = &keys[i];
		switch (k->type) {
		case KEY_STRING:
		case KEY_OPT_STRING:
			if (k->def_str != NULL && (*str_field(c, k) = strdup(k->def_str)) == NULL)
				return err_set(e, ERR_NOMEM, "out of memory loading the config");
			break;
		case KEY_INT:
		case KEY_BOOL:
			*int_field(c, k) = (int)k->def_num;
			break;
		case KEY_SIZE:
			*size_field(c, k) = (size_t)k->def_num;
			break;
		}
	}
	return 0;
}

static const struct key *
find_key(const char *name)
{
	size_t i;

	for (i = 0; i < NKEYS; i++) {
		if (strcmp(keys[i].name, name) == 0)
			return &keys[i];
	}
	return NULL;
}

/* Reads the whole file, capped at CONFIG_MAX_BYTES. */
static int
read_file(const char *path, struct buf *b, struct err *e)
{
	char chunk[8192];
	ssize_t r;
	int fd, ret = -1;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set(e, ERR_IO, "%s:0: cannot read the config file: %s", path, strerror(errno));
	for (;;) {
		r = read(fd, chunk, sizeof(chunk));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			ret = err_set(e, ERR_IO, "%s:0: cannot read the config file: %s", path,
			    strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		if (buf_len(b) + (size_t)r > CONFIG_MAX_BYTES) {
			ret = err_set(e, ERR_INVALID, "%s:0: the config file is larger than %d bytes", path,
			    CONFIG_MAX_BYTES);
			goto out;
		}
		if (buf_add(b, chunk, (size_t)r, e) < 0) {
			ret = err_prefix(e, "%s:0", path);
			goto out;
		}
	}
	ret = 0;
out:
	close(fd);
	return ret;
}

static int
yaml_fail(yaml_parser_t *p, const char *path, struct err *e)
{
	size_t line = p->problem_mark.line + 1;

	if (p->error == YAML_MEMORY_ERROR)
		return err_set(e, ERR_NOMEM, "%s: out of memory reading the config file", path);
	if (p->context != NULL)
		return err_set(e, ERR_INVALID, "%s:%zu: malformed YAML: %s %s", path, line,
		    p->problem != NULL ? p->problem : "syntax error", p->context);
	return err_set(e, ERR_INVALID, "%s:%zu: malformed YAML: %s", path, line,
	    p->problem != NULL ? p->problem : "syntax error");
}

static const char *
event_kind(const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_MAPPING_START_EVENT:
		return "a mapping";
	case YAML_SEQUENCE_START_EVENT:
		return "a list";
	case YAML_ALIAS_EVENT:
		return "an alias";
	default:
		return "not a plain value";
	}
}

/* Parses the file's text into c. */
static int
parse_file(struct config *c, const char *path, const char *text, size_t len, struct err *e)
{
	yaml_parser_t parser;
	yaml_event_t ev;
	int have_ev = 0, ret = -1, state = 0, seen[NKEYS];
	const struct key *k = NULL;
	char where[600];
	size_t line;

	/* state: 0 stream start, 1 document start, 2 top node, 3 key, 4 value,
	 * 5 document end, 6 stream end, 7 done. */
	memset(seen, 0, sizeof(seen));
	if (!yaml_parser_initialize(&parser))
		return err_set(e, ERR_NOMEM, "%s: out of memory reading the config file", path);
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	while (state != 7) {
		if (!yaml_parser_parse(&parser, &ev)) {
			ret = yaml_fail(&parser, path, e);
			goto out;
		}
		have_ev = 1;
		line = ev.start_mark.line + 1;
		switch (state) {
		case 0:
			state = 1;
			break;
		case 1:
			if (ev.type == YAML_STREAM_END_EVENT) {
				state = 7;
				break;
			}
			state = 2;
			break;
		case 2:
			if (ev.type == YAML_MAPPING_START_EVENT) {
				state = 3;
			} else if (ev.type == YAML_SCALAR_EVENT && ev.data.scalar.length == 0 &&
			    ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
				state = 5;
			} else {
				ret = err_set(e, ERR_INVALID,
				    "%s:%zu: the config file must be a mapping of keys to values", path, line);
				goto out;
			}
			break;
		case 3:
			if (ev.type == YAML_MAPPING_END_EVENT) {
				state = 5;
				break;
			}
			if (ev.type != YAML_SCALAR_EVENT) {
				ret = err_set(e, ERR_INVALID, "%s:%zu: a key must be a plain name, not %s",
				    path, line, event_kind(&ev));
				goto out;
			}
			k = find_key((const char *)ev.data.scalar.value);
			if (k == NULL) {
				ret = err_set(e, ERR_INVALID, "%s:%zu: unknown key '%.64s'", path, line,
				    (const char *)ev.data.scalar.value);
				goto out;
			}
			if (seen[k - keys]) {
				ret = err_set(e, ERR_INVALID, "%s:%zu: '%s' is set twice", path, line, k->name);
				goto out;
			}
			seen[k - keys] = 1;
			state = 4;
			break;
		case 4:
			if (ev.type != YAML_SCALAR_EVENT) {
				ret = err_set(e, ERR_INVALID, "%s:%zu: '%s' must be a single value, not %s",
				    path, line, k->name, event_kind(&ev));
				goto out;
			}
			if (strlen((const char *)ev.data.scalar.value) != ev.data.scalar.length) {
				ret = err_set(e, ERR_INVALID, "%s:%zu: '%s' contains a NUL character", path,
				    line, k->name);
				goto out;
			}
			snprintf(where, sizeof(where), "%s:%zu", path, line);
			if (set_value(c, k, (const char *)ev.data.scalar.value,
			    ev.data.scalar.style != YAML_PLAIN_SCALAR_STYLE, where, e) < 0)
				goto out;
			state = 3;
			break;
		case 5:
			state = 6;
			break;
		case 6:
			if (ev.type != YAML_STREAM_END_EVENT) {
				ret = err_set(e, ERR_INVALID,
				    "%s:%zu: the config file must hold one YAML document", path, line);
				goto out;
			}
			state = 7;
			break;
		}
		yaml_event_delete(&ev);
		have_ev = 0;
	}
	ret = 0;
out:
	if (have_ev)
		yaml_event_delete(&ev);
	yaml_parser_delete(&parser);
	return ret;
}

static int
apply_env(struct config *c, struct err *e)
{
	char where[128];
	const char *v;
	size_t i;

	for (i = 0; i < NKEYS; i++) {
		const struct key *k = &keys[i];
		v = getenv(k->env);
		if (v == NULL)
			continue;
		snprintf(where, sizeof(where), "environment variable %s", k->env);
		/* In the environment, 1 and 0 are common spellings of a switch. */
		if (k->type == KEY_BOOL && (strcmp(v, "1") == 0 || strcmp(v, "0") == 0)) {
			*int_field(c, k) = v[0] == '1';
			continue;
		}
		if (set_value(c, k, v, 0, where, e) < 0)
			return -1;
	}
	return 0;
}

int
config_load(const char *path, struct config *c, struct err *e)
{
	struct buf b = BUF_INIT(CONFIG_MAX_BYTES + 1);
	int ret = -1;

	memset(c, 0, sizeof(*c));
	if (set_defaults(c, e) < 0)
		goto out;
	if (path != NULL) {
		if ((c->path = strdup(path)) == NULL) {
			ret = err_set(e, ERR_NOMEM, "out of memory loading the config");
			goto out;
		}
		if (read_file(path, &b, e) < 0)
			goto out;
		if (parse_file(c, path, buf_str(&b), buf_len(&b), e) < 0)
			goto out;
	}
	if (apply_env(c, e) < 0)
		goto out;
	ret = 0;
out:
	buf_release(&b);
	if (ret < 0)
		config_release(c);
	return ret;
}

void
config_release(struct config *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < NKEYS; i++) {
		if (keys[i].type == KEY_STRING || keys[i].type == KEY_OPT_STRING) {
			free(*str_field(c, &keys[i]));
			*str_field(c, &keys[i]) = NULL;
		}
	}
	free(c->path);
	c->path = NULL;
}

/* data_dir joined with `file` (which starts with '/'); NULL when out of memory. */
static char *
data_file(const struct config *c, const char *file)
{
	const char *dir = c->data_dir != NULL ? c->data_dir : "./data";
	size_t len = strlen(dir), flen = strlen(file);
	char *out;

	while (len > 1 && dir[len - 1] == '/')
		len--;
	out = malloc(len + flen + 1);
	if (out == NULL)
		return NULL;
	memcpy(out, dir, len);
	memcpy(out + len, file, flen + 1);
	return out;
}

char *
config_db_path(const struct config *c)
{
	return data_file(c, "/skewd.db");
}

char *
config_seal_key_path(const struct config *c)
{
	if (c->seal_key_file != NULL)
		return strdup(c->seal_key_file);
	return data_file(c, "/seal.key");
}
