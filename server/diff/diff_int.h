/*
 * diff_int.h - what the files of the diff module share; not a public header.
 *
 * side.c builds and normalises a side, compare.c walks two sides and emits
 * changes, rules.c loads and applies the classification rules, result.c
 * orders the changes and writes the skewd.diff/v1 document.
 */
#ifndef SKEWD_DIFF_DIFF_INT_H
#define SKEWD_DIFF_DIFF_INT_H

#include <stddef.h>
#include <jansson.h>

#include "diff/diff.h"
#include "util/limits.h"

struct err;

enum diff_kind { DIFF_ADDED = 0, DIFF_REMOVED, DIFF_MODIFIED };

/* Order is the output order: most severe first. */
enum diff_sev { SEV_CRITICAL = 0, SEV_HIGH, SEV_MEDIUM, SEV_LOW, SEV_INFO, SEV__COUNT };

/* Order is the output order of categories. */
enum diff_cat { CAT_MODEL = 0, CAT_RUNTIME, CAT_HARDWARE, CAT_SERVING, CAT_ORCHESTRATION, CAT_OTHER,
	CAT__COUNT };

/* One normalised object of a side. */
struct diff_obj {
	char *key;      /* matching identity: group/Kind/namespace-or-default/name, or document/N */
	char *display;  /* identity as written: group/Kind/[namespace/]name */
	char *kind;     /* Kind, "Document" for a non-Kubernetes document */
	json_t *doc;    /* normalised object; owned */
};

/* Pods of one owner workload, compared as a group. */
struct diff_group {
	char *key;      /* owner identity key */
	char *display;  /* owner identity as written */
	size_t pods;
	json_t *digests;  /* container -> {digest: pod count} */
	json_t *images;   /* container -> {image as requested: pod count} */
	json_t *gpus;     /* GPU fingerprint text -> pod count (pods on known nodes only) */
	json_t *argv;     /* canonical command+args of all containers -> pod count */
	long long restarts;
};

struct diff_side {
	char *label;
	struct diff_obj *objs;
	size_t nobjs, capobjs;
	json_t *index;       /* key -> integer position in objs */
	json_t *suppressed;  /* rule name -> integer */
	json_t *pods;        /* array of raw pods kept until groups are built */
	struct diff_group *groups;
	size_t ngroups, capgroups;
	json_t *group_index; /* key -> integer position in groups */
	json_t *nodes;       /* node name -> fingerprint text */
	json_t *fleet;       /* fingerprint text -> node count */
	json_t *fleet_facts; /* fingerprint text -> fingerprint object */
	size_t ndocs;        /* non-Kubernetes documents seen */
};

/* One change before and after classification. */
struct diff_change {
	char *object;        /* display identity */
	char *objkind;       /* Kind of the object ("Document" for generic documents) */
	char *path;
	char *setting;       /* canonical engine setting name or NULL */
	enum diff_kind kind;
	json_t *before;      /* owned; NULL when absent */
	json_t *after;       /* owned; NULL when absent */
	const char *detect;  /* static: what found it ("field", "setting", "image_same_tag", ...) */
	int engine;          /* enum engine_kind of the container, for knowledge look-up */
	char *engine_version;   /* of the side that has the setting, or NULL */
	char *default_text;     /* documented default as text, or NULL */
	/* Filled by classification. */
	enum diff_cat category;
	enum diff_sev severity;
	char *summary;
	char *rule;          /* name of the rule that classified it */
};

struct diff_result {
	struct diff_change *changes;
	size_t n, cap;
	json_t *suppressed;  /* rule name -> integer */
	char *before_label;
	char *after_label;
};

/* A rule from rules.yaml or a user file. */
struct diff_rule {
	char *name;
	/* Match fields; NULL matches anything. */
	char *match_kind;     /* object Kind (glob) */
	char *match_path;     /* path pattern: '*' one segment, '**' any number of segments */
	char *match_setting;  /* engine setting name (glob) */
	char *match_detect;   /* detection id */
	char *match_change;   /* added | removed | modified */
	char *match_object;   /* display identity (glob) */
	/* Actions. */
	int ignore;
	int has_category;
	enum diff_cat category;
	int has_severity;
	enum diff_sev severity;
	char *summary;        /* template or NULL */
	int user;             /* from the user's file */
};

struct diff_rules {
	struct diff_rule *rules;
	size_t n, cap;
	size_t nuser;         /* user rules come first in `rules` */
};

/* Paths: a JSON-pointer-like string built on a stack. */
struct diff_path {
	char s[DIFF_MAX_PATH_BYTES];
	size_t len;
};

/* Appends "/" and `seg` escaped (~ -> ~0, / -> ~1). Returns the previous length, or
 * (size_t)-1 when the path would pass DIFF_MAX_PATH_BYTES. */
size_t diff_path_push(struct diff_path *p, const char *seg);
void diff_path_pop(struct diff_path *p, size_t oldlen);

/* side.c */
void diff_side_count(struct diff_side *s, const char *rule, long long n);
/* The key of a list item for a known list field, or NULL (malloc'd string). */
char *diff_list_key(const char *field, const json_t *item);
/* 0 when the field-knowledge table is in the sorted order bsearch() needs, else -1
 * (for the unit test). */
int diff_field_table_check(void);
/* Is the value Secret-like so that it must never be shown? */
int diff_is_secret_name(const char *name);
/* Replaces a secret value through engine_redact_value() (engine.h). New reference. */
json_t *diff_redact_value(const char *value, size_t len);
/* Numeric equality that treats 8 and 8.0 as the same. */
int diff_value_equal(const json_t *a, const json_t *b);

/* compare.c */
int diff_compare_sides(const struct diff_side *a, const struct diff_side *b, struct diff_result *res,
    struct err *e);
struct diff_change *diff_result_add(struct diff_result *res, const char *object, const char *objkind, const char *path,
    const char *setting, enum diff_kind kind, const json_t *before, const json_t *after,
    const char *detect, struct err *e);
void diff_result_suppress(struct diff_result *res, const char *rule, long long n);

/* rules.c */
/* Classifies every change; drops the ones a rule ignores (counted under "ignore:<rule>"). */
int diff_classify(const struct diff_rules *r, struct diff_result *res, struct err *e);
const char *diff_cat_name(enum diff_cat c);
const char *diff_sev_name(enum diff_sev s);
int diff_cat_parse(const char *s, enum diff_cat *out);
int diff_sev_parse(const char *s, enum diff_sev *out);
/* Path pattern match ('*' one segment with globs inside, '**' any number). */
int diff_path_match(const char *pattern, const char *path);

/* result.c */
void diff_change_release(struct diff_change *c);
void diff_result_sort(struct diff_result *res);
/* Short text of a value for a summary: strings bare, others compact JSON, cut at `max`. */
char *diff_value_text(const json_t *v, size_t max);

#endif
