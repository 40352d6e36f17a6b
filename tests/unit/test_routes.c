/*
 * test_routes.c - the route table (server/http/routes.c) and openapi.yaml
 * describe the same routes: every method + path of one is in the other.
 * openapi.yaml is read with the doc module, the way skewd reads YAML.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <cmocka.h>

#include "doc/doc.h"
#include "http/http.h"
#include "util/err.h"
#include "util/banned.h"

static const char *const methods[] = { "get", "put", "post", "delete", "patch", "head", "options", "trace" };

static json_t *
load_paths(struct doc_set **set)
{
	const char *src = getenv("SKEWD_SOURCE_DIR");
	char path[4096];
	struct err e = ERR_INIT;
	json_t *paths;

	snprintf(path, sizeof(path), "%s/openapi.yaml", src != NULL ? src : ".");
	if (doc_load_file(path, DOC_YAML, set, &e) < 0)
		fail_msg("cannot read %s: %s", path, e.msg);
	assert_int_equal(doc_set_count(*set), 1);
	assert_string_equal(json_string_value(json_object_get(doc_set_get(*set, 0), "openapi")), "3.1.0");
	paths = json_object_get(doc_set_get(*set, 0), "paths");
	assert_true(json_is_object(paths));
	return paths;
}

static int
in_table(const char *method, const char *pattern)
{
	const char *m, *p;
	size_t i;

	for (i = 0; i < http_route_count(); i++) {
		assert_int_equal(http_route_get(i, &m, &p), 0);
		if (strcasecmp(m, method) == 0 && strcmp(p, pattern) == 0)
			return 1;
	}
	return 0;
}

static void
test_every_spec_route_is_in_the_table(void **state)
{
	struct doc_set *set = NULL;
	const char *path, *key;
	json_t *paths, *ops, *op;
	size_t i;
	int missing = 0, n = 0;

	(void)state;
	/* json_object_foreach evaluates its object argument on every step. */
	paths = load_paths(&set);
	json_object_foreach(paths, path, ops) {
		json_object_foreach(ops, key, op) {
			for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
				if (strcmp(key, methods[i]) != 0)
					continue;
				n++;
				if (!in_table(key, path)) {
					fprintf(stderr, "openapi.yaml has %s %s, the route table does not\n", key, path);
					missing++;
				}
			}
		}
	}
	assert_true(n > 0);
	assert_int_equal(missing, 0);
	doc_set_free(set);
}

static void
test_every_table_route_is_in_the_spec(void **state)
{
	struct doc_set *set = NULL;
	json_t *paths;
	const char *m, *p;
	char lower[16];
	size_t i, k;
	int missing = 0;

	(void)state;
	paths = load_paths(&set);
	assert_true(http_route_count() > 0);
	for (i = 0; i < http_route_count(); i++) {
		assert_int_equal(http_route_get(i, &m, &p), 0);
		for (k = 0; m[k] != '\0' && k + 1 < sizeof(lower); k++)
			lower[k] = (char)(m[k] - 'A' + 'a');
		lower[k] = '\0';
		if (json_object_get(json_object_get(paths, p), lower) == NULL) {
			fprintf(stderr, "the route table has %s %s, openapi.yaml does not\n", m, p);
			missing++;
		}
	}
	assert_int_equal(missing, 0);
	assert_int_equal(http_route_get(http_route_count(), &m, &p), -1);
	doc_set_free(set);
}

/*
 * Follows a local "$ref" ("#/components/parameters/X", JSON-pointer escapes
 * ~0 and ~1) from the document's root; an object without "$ref" is itself.
 * Returns NULL for a reference that leads nowhere (or in a loop of more than
 * 8 steps).
 */
static json_t *
deref(json_t *root, json_t *obj)
{
	int steps;

	for (steps = 0; obj != NULL && steps < 8; steps++) {
		const char *ref = json_string_value(json_object_get(obj, "$ref"));
		char key[256];
		json_t *at = root;
		size_t k;

		if (ref == NULL)
			return obj;
		if (strncmp(ref, "#/", 2) != 0)
			return NULL;
		ref += 2;
		while (at != NULL && *ref != '\0') {
			for (k = 0; *ref != '\0' && *ref != '/' && k + 1 < sizeof(key); ref++) {
				if (ref[0] == '~' && ref[1] == '1') {
					key[k++] = '/';
					ref++;
				} else if (ref[0] == '~' && ref[1] == '0') {
					key[k++] = '~';
					ref++;
				} else {
					key[k++] = *ref;
				}
			}
			key[k] = '\0';
			at = json_object_get(at, key);
			if (*ref == '/')
				ref++;
		}
		obj = at;
	}
	return steps < 8 ? obj : NULL;
}

/* Does `list` (a "parameters" array, items maybe "$ref"s) declare the
 * required path parameter `name`? Fails the test on a dangling "$ref". */
static int
declares(json_t *root, json_t *list, const char *name)
{
	json_t *raw, *prm;
	const char *in, *pn;
	size_t i;

	json_array_foreach(list, i, raw) {
		prm = deref(root, raw);
		if (prm == NULL)
			fail_msg("the parameter reference %s leads nowhere",
			    json_string_value(json_object_get(raw, "$ref")));
		in = json_string_value(json_object_get(prm, "in"));
		pn = json_string_value(json_object_get(prm, "name"));
		if (in != NULL && pn != NULL && strcmp(in, "path") == 0 && strcmp(pn, name) == 0 &&
		    json_is_true(json_object_get(prm, "required")))
			return 1;
	}
	return 0;
}

/* Is `name` one of the "{...}" segments of `path`? */
static int
in_template(const char *path, const char *name)
{
	char want[80];

	snprintf(want, sizeof(want), "{%s}", name);
	return strstr(path, want) != NULL;
}

/* Every path parameter `list` declares is a "{...}" of `path`. */
static void
no_stray_path_parameters(json_t *root, json_t *list, const char *path, const char *where)
{
	json_t *raw, *prm;
	size_t i;

	json_array_foreach(list, i, raw) {
		const char *in, *pn;

		prm = deref(root, raw);
		if (prm == NULL)
			fail_msg("%s %s: the parameter reference %s leads nowhere", where, path,
			    json_string_value(json_object_get(raw, "$ref")));
		in = json_string_value(json_object_get(prm, "in"));
		pn = json_string_value(json_object_get(prm, "name"));
		if (in == NULL || pn == NULL)
			fail_msg("%s %s: a parameter without \"in\" or \"name\"", where, path);
		if (strcmp(in, "path") == 0 && !in_template(path, pn))
			fail_msg("%s %s declares the path parameter '%s', which the path does not have",
			    where, path, pn);
	}
}

static void
test_path_parameters_are_declared(void **state)
{
	struct doc_set *set = NULL;
	const char *path, *key;
	json_t *root, *paths, *ops, *op;
	size_t i;
	int nops;

	(void)state;
	/* Every {param} of a path is a declared, required path parameter of
	 * each of its operations: in the operation's "parameters" or in the
	 * path's (which every operation of the path inherits), written inline
	 * or as a "$ref" to components/parameters. */
	paths = load_paths(&set);
	root = doc_set_get(set, 0);
	json_object_foreach(paths, path, ops) {
		const char *b = path;
		json_t *shared = json_object_get(ops, "parameters");

		no_stray_path_parameters(root, shared, path, "the path");
		json_object_foreach(ops, key, op) {
			for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
				if (strcmp(key, methods[i]) == 0)
					no_stray_path_parameters(root, json_object_get(op, "parameters"), path, key);
		}
		while ((b = strchr(b, '{')) != NULL) {
			const char *end = strchr(b, '}');
			char name[64];

			assert_non_null(end);
			snprintf(name, sizeof(name), "%.*s", (int)(end - b - 1), b + 1);
			nops = 0;
			json_object_foreach(ops, key, op) {
				for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
					if (strcmp(key, methods[i]) != 0)
						continue;
					nops++;
					if (!declares(root, json_object_get(op, "parameters"), name) &&
					    !declares(root, shared, name))
						fail_msg("%s %s does not declare the path parameter '%s'", key, path, name);
				}
			}
			assert_true(nops > 0);
			b = end;
		}
	}
	doc_set_free(set);
}

/* deref() of {"$ref": ref}; the result is borrowed from root. */
static json_t *
deref_ref(json_t *root, const char *ref)
{
	json_t *r = json_pack("{s:s}", "$ref", ref), *out;

	assert_non_null(r);
	out = deref(root, r);
	json_decref(r);
	return out;
}

/* The checks above on a document written here: a path-level "$ref", an
 * operation-level inline parameter, and the failures they must catch. */
static void
test_parameter_lookup(void **state)
{
	json_t *root, *ops, *op;

	(void)state;
	root = json_loads("{\"components\": {\"parameters\": {"
	    "\"C\": {\"name\": \"cluster\", \"in\": \"path\", \"required\": true},"
	    "\"a~b/c\": {\"name\": \"id\", \"in\": \"path\", \"required\": true},"
	    "\"Q\": {\"name\": \"cluster\", \"in\": \"query\"},"
	    "\"Loop\": {\"$ref\": \"#/components/parameters/Loop\"}}},"
	    "\"p\": {\"parameters\": [{\"$ref\": \"#/components/parameters/C\"}],"
	    "  \"get\": {\"parameters\": [{\"$ref\": \"#/components/parameters/a~0b~1c\"},"
	    "                         {\"name\": \"x\", \"in\": \"path\", \"required\": false}]}}}",
	    0, NULL);
	assert_non_null(root);
	ops = json_object_get(root, "p");
	op = json_object_get(ops, "get");
	assert_true(declares(root, json_object_get(ops, "parameters"), "cluster"));
	assert_false(declares(root, json_object_get(op, "parameters"), "cluster"));
	assert_true(declares(root, json_object_get(op, "parameters"), "id"));
	assert_false(declares(root, json_object_get(op, "parameters"), "x"));
	assert_null(deref_ref(root, "#/components/parameters/Loop"));
	assert_null(deref_ref(root, "#/components/parameters/None"));
	assert_null(deref_ref(root, "other.yaml#/x"));
	assert_string_equal(json_string_value(json_object_get(deref_ref(root,
	    "#/components/parameters/Q"), "in")), "query");
	assert_true(in_template("/api/{cluster}/x", "cluster"));
	assert_false(in_template("/api/{cluster}/x", "clus"));
	json_decref(root);
}

static void
test_roles_match(void **state)
{
	struct doc_set *set = NULL;
	json_t *paths, *op, *sec;
	const char *m, *p, *role;
	char lower[16];
	size_t i, k;
	int bad = 0;

	(void)state;
	/* x-skewd-role is the route's least role, and "none" is exactly the
	 * operations with an empty security list. */
	paths = load_paths(&set);
	for (i = 0; i < http_route_count(); i++) {
		assert_int_equal(http_route_get(i, &m, &p), 0);
		for (k = 0; m[k] != '\0' && k + 1 < sizeof(lower); k++)
			lower[k] = (char)(m[k] - 'A' + 'a');
		lower[k] = '\0';
		op = json_object_get(json_object_get(paths, p), lower);
		assert_non_null(op);
		role = json_string_value(json_object_get(op, "x-skewd-role"));
		if (role == NULL || strcmp(role, http_route_role(i)) != 0) {
			fprintf(stderr, "%s %s: the route table says role %s, openapi.yaml says %s\n",
			    m, p, http_route_role(i), role != NULL ? role : "nothing");
			bad++;
		}
		sec = json_object_get(op, "security");
		if ((strcmp(http_route_role(i), "none") == 0) != (json_is_array(sec) && json_array_size(sec) == 0)) {
			fprintf(stderr, "%s %s: role %s but security is %s\n", m, p, http_route_role(i),
			    sec == NULL ? "the global bearer" : "an explicit list");
			bad++;
		}
	}
	assert_int_equal(bad, 0);
	doc_set_free(set);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_spec_route_is_in_the_table),
		cmocka_unit_test(test_every_table_route_is_in_the_spec),
		cmocka_unit_test(test_path_parameters_are_declared),
		cmocka_unit_test(test_parameter_lookup),
		cmocka_unit_test(test_roles_match),
	};

	return cmocka_run_group_tests_name("routes", tests, NULL, NULL);
}
