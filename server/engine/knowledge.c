/*
 * knowledge.c - the per-engine table of settings, from knowledge.yaml.
 *
 * The YAML is compiled into the binary (engine_knowledge_yaml) and parsed once
 * by engine_init(). Each engine gets an array of knobs plus three jansson
 * objects used as hash maps: canonical name, flag spelling and env twin, each
 * mapping to the knob's index. docs/engine.md describes the file.
 */
#include "engine/engine_int.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "doc/doc.h"
#include "util/embed.h"
#include "util/err.h"
#include "util/banned.h"

EMBED_DECLARE(engine_knowledge_yaml);

#define KNOWLEDGE_SCHEMA "skewd.engine-knowledge/v1"

struct table {
	struct knob *knobs;
	size_t n;
	json_t *by_name;   /* canonical -> index */
	json_t *by_flag;   /* "max_model_len" / "-tp" -> index */
	json_t *by_env;    /* "MAX_TOTAL_TOKENS" -> index */
};

static struct table tables[ENGINE__COUNT];
static json_t *knowledge_root;  /* keeps every borrowed string alive */
static int loaded;
/* engine_init() may be called from several threads (collector, diff rules): one loads. */
static pthread_mutex_t init_mu = PTHREAD_MUTEX_INITIALIZER;

static const char *const categories[] = {
	"model", "runtime", "hardware", "serving", "orchestration", "other", NULL
};
static const char *const severities[] = {
	"critical", "high", "medium", "low", "info", NULL
};

static const struct {
	const char *name;
	enum knob_type type;
} types[] = {
	{ "int", KNOB_INT }, { "hint", KNOB_HINT }, { "float", KNOB_FLOAT },
	{ "bool", KNOB_BOOL }, { "string", KNOB_STRING }, { "json", KNOB_JSON },
	{ "list", KNOB_LIST }, { NULL, KNOB_ANY }
};

static int
in_list(const char *s, const char *const *list)
{
	for (; *list != NULL; list++)
		if (strcmp(s, *list) == 0)
			return 1;
	return 0;
}

/* "--max-model-len" -> "max_model_len"; "-tp" stays "-tp". Writes into out. */
static int
flag_key(const char *spelling, char *out, size_t outsz)
{
	size_t i = 0;
	const char *p = spelling;

	if (p[0] != '-')
		return -1;
	if (p[1] == '-') {
		for (p += 2; *p != '\0' && i + 1 < outsz; p++)
			out[i++] = *p == '-' ? '_' : *p;
	} else {
		for (; *p != '\0' && i + 1 < outsz; p++)
			out[i++] = *p;
	}
	if (*p != '\0' || i == 0)
		return -1;
	out[i] = '\0';
	return 0;
}

static int
index_add(json_t *map, const char *key, size_t idx, const char *engine, struct err *e)
{
	json_t *old = json_object_get(map, key);

	if (old != NULL && (size_t)json_integer_value(old) != idx)
		return err_set(e, ERR_INVALID,
		    "engine knowledge: '%s' names two settings of engine '%s'", key, engine);
	if (json_object_set_new(map, key, json_integer((json_int_t)idx)) < 0)
		return err_set(e, ERR_NOMEM, "out of memory loading engine knowledge");
	return 0;
}

static const char *
str_field(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

static int
load_knob(struct table *t, size_t idx, const char *engine, const char *name, json_t *spec,
    struct err *e)
{
	struct knob *kb = &t->knobs[idx];
	const char *type;
	json_t *list, *v;
	size_t i;
	char key[128];
	int ti;

	if (!json_is_object(spec))
		return err_set(e, ERR_INVALID, "engine knowledge: setting '%s' of '%s' is not a map",
		    name, engine);
	kb->pub.name = name;
	kb->pub.category = str_field(spec, "category");
	kb->pub.severity = str_field(spec, "severity");
	kb->pub.why = str_field(spec, "why");
	kb->pub.default_note = str_field(spec, "default_note");
	kb->pub.default_value = json_object_get(spec, "default");
	if (kb->pub.default_value != NULL && json_is_null(kb->pub.default_value))
		kb->pub.default_value = NULL;
	kb->secret = json_is_true(json_object_get(spec, "secret"));
	if (kb->pub.category == NULL || !in_list(kb->pub.category, categories))
		return err_set(e, ERR_INVALID,
		    "engine knowledge: setting '%s' of '%s' has no valid category", name, engine);
	if (kb->pub.severity == NULL || !in_list(kb->pub.severity, severities))
		return err_set(e, ERR_INVALID,
		    "engine knowledge: setting '%s' of '%s' has no valid severity", name, engine);
	if (kb->pub.why == NULL || kb->pub.why[0] == '\0')
		return err_set(e, ERR_INVALID,
		    "engine knowledge: setting '%s' of '%s' has no 'why'", name, engine);
	type = str_field(spec, "type");
	kb->type = KNOB_ANY;
	for (ti = 0; type != NULL && types[ti].name != NULL; ti++)
		if (strcmp(types[ti].name, type) == 0)
			kb->type = types[ti].type;
	if (kb->type == KNOB_ANY)
		return err_set(e, ERR_INVALID,
		    "engine knowledge: setting '%s' of '%s' has no valid type", name, engine);
	if (index_add(t->by_name, name, idx, engine, e) < 0 ||
	    index_add(t->by_flag, name, idx, engine, e) < 0)
		return -1;
	list = json_object_get(spec, "flags");
	json_array_foreach(list, i, v) {
		if (!json_is_string(v) || flag_key(json_string_value(v), key, sizeof(key)) < 0)
			return err_set(e, ERR_INVALID,
			    "engine knowledge: setting '%s' of '%s' has a bad flag spelling",
			    name, engine);
		if (index_add(t->by_flag, key, idx, engine, e) < 0)
			return -1;
	}
	list = json_object_get(spec, "env");
	json_array_foreach(list, i, v) {
		if (!json_is_string(v))
			return err_set(e, ERR_INVALID,
			    "engine knowledge: setting '%s' of '%s' has a bad env name", name, engine);
		if (index_add(t->by_env, json_string_value(v), idx, engine, e) < 0)
			return -1;
	}
	return 0;
}

static void
tables_release(void)
{
	int k;

	for (k = 0; k < ENGINE__COUNT; k++) {
		free(tables[k].knobs);
		json_decref(tables[k].by_name);
		json_decref(tables[k].by_flag);
		json_decref(tables[k].by_env);
		memset(&tables[k], 0, sizeof(tables[k]));
	}
	json_decref(knowledge_root);
	knowledge_root = NULL;
}

static int
engine_init_locked(struct err *e)
{
	struct doc_set *d = NULL;
	json_t *root, *engines, *eng, *settings, *spec;
	const char *ename, *sname, *schema;
	size_t idx;
	int ret = -1;

	if (loaded)
		return 0;
	if (doc_load_mem("knowledge.yaml", engine_knowledge_yaml, engine_knowledge_yaml_len,
	    DOC_YAML, &d, e) < 0) {
		err_prefix(e, "loading engine knowledge");
		goto out;
	}
	if (doc_set_count(d) != 1) {
		err_set(e, ERR_INVALID, "engine knowledge: expected one YAML document");
		goto out;
	}
	root = doc_set_get(d, 0);
	schema = str_field(root, "schema");
	if (schema == NULL || strcmp(schema, KNOWLEDGE_SCHEMA) != 0) {
		err_set(e, ERR_INVALID, "engine knowledge: schema is not '%s'", KNOWLEDGE_SCHEMA);
		goto out;
	}
	knowledge_root = json_incref(root);
	engines = json_object_get(root, "engines");
	if (!json_is_object(engines)) {
		err_set(e, ERR_INVALID, "engine knowledge: no 'engines' map");
		goto out;
	}
	json_object_foreach(engines, ename, eng) {
		enum engine_kind k = engine_kind_from_name(ename);
		struct table *t = &tables[k];

		if (k == ENGINE_UNKNOWN) {
			err_set(e, ERR_INVALID, "engine knowledge: unknown engine '%s'", ename);
			goto out;
		}
		settings = json_object_get(eng, "settings");
		if (!json_is_object(settings)) {
			err_set(e, ERR_INVALID, "engine knowledge: engine '%s' has no 'settings' map",
			    ename);
			goto out;
		}
		t->n = json_object_size(settings);
		t->knobs = calloc(t->n ? t->n : 1, sizeof(*t->knobs));
		t->by_name = json_object();
		t->by_flag = json_object();
		t->by_env = json_object();
		if (t->knobs == NULL || t->by_name == NULL || t->by_flag == NULL ||
		    t->by_env == NULL) {
			err_set(e, ERR_NOMEM, "out of memory loading engine knowledge");
			goto out;
		}
		idx = 0;
		json_object_foreach(settings, sname, spec) {
			if (load_knob(t, idx, ename, sname, spec, e) < 0)
				goto out;
			idx++;
		}
	}
	loaded = 1;
	ret = 0;
out:
	if (ret < 0)
		tables_release();
	doc_set_free(d);
	return ret;
}

int
knowledge_loaded(void)
{
	return loaded;
}

static const struct knob *
lookup(enum engine_kind k, json_t *(*pick)(struct table *), const char *key)
{
	json_t *v;
	struct table *t;

	if (!loaded || k <= ENGINE_UNKNOWN || k >= ENGINE__COUNT || key == NULL)
		return NULL;
	t = &tables[k];
	v = json_object_get(pick(t), key);
	if (v == NULL)
		return NULL;
	return &t->knobs[json_integer_value(v)];
}

static json_t *
pick_name(struct table *t)
{
	return t->by_name;
}

static json_t *
pick_flag(struct table *t)
{
	return t->by_flag;
}

static json_t *
pick_env(struct table *t)
{
	return t->by_env;
}

const struct knob *
knowledge_by_name(enum engine_kind k, const char *name)
{
	return lookup(k, pick_name, name);
}

const struct knob *
knowledge_by_flag(enum engine_kind k, const char *flag)
{
	return lookup(k, pick_flag, flag);
}

const struct knob *
knowledge_by_env(enum engine_kind k, const char *env)
{
	return lookup(k, pick_env, env);
}

const struct knob *
knowledge_by_prefix(enum engine_kind k, const char *prefix)
{
	const struct knob *found = NULL;
	const char *key;
	json_t *v;
	size_t plen = strlen(prefix);

	if (!loaded || k <= ENGINE_UNKNOWN || k >= ENGINE__COUNT || plen == 0)
		return NULL;
	json_object_foreach(tables[k].by_flag, key, v) {
		const struct knob *kb;

		if (key[0] == '-' || strncmp(key, prefix, plen) != 0)
			continue;
		kb = &tables[k].knobs[json_integer_value(v)];
		if (found != NULL && found != kb)
			return NULL;
		found = kb;
	}
	return found;
}

const struct engine_knob *
engine_knob_find(enum engine_kind k, const char *name)
{
	const struct knob *kb = knowledge_by_name(k, name);

	return kb != NULL ? &kb->pub : NULL;
}

int
engine_init(struct err *e)
{
	int ret;

	pthread_mutex_lock(&init_mu);
	ret = engine_init_locked(e);
	pthread_mutex_unlock(&init_mu);
	return ret;
}
