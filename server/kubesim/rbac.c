/*
 * rbac.c - the collector ClusterRoles, read from their YAML file and enforced
 * the way the RBAC authorizer does (apiGroups x resources x verbs, "*"
 * wildcards, resourceNames).
 */
#include <string.h>

#include "kubesim/kubesim_int.h"
#include "doc/doc.h"
#include "util/err.h"
#include "util/banned.h"

int
ks_role_load(const char *path, struct ks_role *out, struct err *e)
{
	struct doc_set *d = NULL;
	json_t *role, *rules, *all = NULL;
	size_t i;
	int found = 0, ret = -1;

	out->rules = NULL;
	if (doc_load_file(path, DOC_YAML, &d, e) < 0)
		return err_prefix(e, "loading the collector role");
	/* Every ClusterRole in the file is granted, as if each were bound (the
	 * file holds skewd-collector and the optional skewd-collector-secrets). */
	all = json_array();
	if (all == NULL) {
		err_set(e, ERR_NOMEM, "out of memory loading the collector role");
		goto out;
	}
	for (i = 0; i < doc_set_count(d); i++) {
		const char *kind;

		role = doc_set_get(d, i);
		kind = json_string_value(json_object_get(role, "kind"));
		if (kind == NULL || strcmp(kind, "ClusterRole") != 0)
			continue;
		rules = json_object_get(role, "rules");
		if (!json_is_array(rules)) {
			err_set(e, ERR_INVALID, "ClusterRole in '%s' has no rules list", path);
			goto out;
		}
		if (json_array_extend(all, rules) < 0) {
			err_set(e, ERR_NOMEM, "out of memory loading the collector role");
			goto out;
		}
		found = 1;
	}
	if (!found) {
		err_set(e, ERR_INVALID, "'%s' holds no ClusterRole", path);
		goto out;
	}
	out->rules = all;
	all = NULL;
	ret = 0;
out:
	json_decref(all);
	doc_set_free(d);
	return ret;
}

void
ks_role_release(struct ks_role *r)
{
	json_decref(r->rules);
	r->rules = NULL;
}

static int
list_has(const json_t *list, const char *s)
{
	size_t i;
	json_t *v;

	json_array_foreach(list, i, v) {
		const char *x = json_string_value(v);

		if (x != NULL && (strcmp(x, "*") == 0 || strcmp(x, s) == 0))
			return 1;
	}
	return 0;
}

int
ks_role_allows(const struct ks_role *r, const char *verb, const char *group, const char *resource,
    const char *name)
{
	size_t i;
	json_t *rule;

	if (r->rules == NULL)
		return 0;
	json_array_foreach(r->rules, i, rule) {
		json_t *names = json_object_get(rule, "resourceNames");

		if (!list_has(json_object_get(rule, "apiGroups"), group) ||
		    !list_has(json_object_get(rule, "resources"), resource) ||
		    !list_has(json_object_get(rule, "verbs"), verb))
			continue;
		if (json_array_size(names) > 0 && (name == NULL || !list_has(names, name)))
			continue;
		return 1;
	}
	return 0;
}
