/*
 * engine_int.h - shared between the files of the engine module only.
 *
 * shell.c splits shell strings into commands, knowledge.c owns the table
 * loaded from knowledge.yaml, parse.c turns a container into settings.
 */
#ifndef SKEWD_ENGINE_ENGINE_INT_H
#define SKEWD_ENGINE_ENGINE_INT_H

#include <stddef.h>
#include <jansson.h>

#include "engine/engine.h"

struct err;

/* One simple command of a shell string: leading NAME=value assignments
 * (n_assign of them) followed by the words of the command. `exec` is dropped. */
struct shell_cmd {
	char **words;     /* NULL-terminated; owned */
	size_t n_words;   /* including the assignments */
	size_t n_assign;  /* words[0..n_assign) are NAME=value */
};

struct shell_script {
	struct shell_cmd *cmds;
	size_t n_cmds;
};

/* Splits `s` into simple commands (separated by ; && || | & newlines and
 * parentheses). Returns 0, or -1 with e set (unterminated quote, over a limit). */
int shell_split(const char *s, struct shell_script *out, struct err *e);
void shell_script_release(struct shell_script *sc);

/* Value type of a setting, from the knowledge table. */
enum knob_type {
	KNOB_ANY = 0,   /* not known: inferred conservatively */
	KNOB_INT,
	KNOB_HINT,      /* int that accepts vLLM's human-readable 1k / 1K / 25.6k */
	KNOB_FLOAT,
	KNOB_BOOL,
	KNOB_STRING,
	KNOB_JSON,
	KNOB_LIST
};

struct knob {
	struct engine_knob pub;
	enum knob_type type;
	int secret;           /* value is a credential: never copied into a setting */
};

/* Lookups for one engine; NULL when unknown. `flag` is a normalised long name
 * ("max_model_len") or a short alias with its dash ("-tp"). */
const struct knob *knowledge_by_name(enum engine_kind k, const char *name);
const struct knob *knowledge_by_flag(enum engine_kind k, const char *flag);
const struct knob *knowledge_by_env(enum engine_kind k, const char *env);
/* The single knob whose canonical name or long alias starts with `prefix`
 * (argparse abbreviations), or NULL when none or several. */
const struct knob *knowledge_by_prefix(enum engine_kind k, const char *prefix);
int knowledge_loaded(void);

#endif
