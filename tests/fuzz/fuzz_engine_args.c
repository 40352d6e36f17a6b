/*
 * fuzz_engine_args.c - libFuzzer target for the serving-engine command-line
 * parser (engine_parse), the shell splitter and the secret-value redaction.
 *
 * Input: the first byte picks the image (one per engine kind, or the first
 * line of the input as the image); the rest is split into lines:
 *   "env NAME=VALUE"   an env entry,
 *   "cmd WORD"         a `command` element,
 *   "sh SCRIPT"        command ["sh", "-c", SCRIPT],
 *   anything else      an `args` element.
 * The container is parsed; every setting is read back, its knowledge looked up
 * and the result turned into JSON. Property: a canary planted as the value of
 * the env var HF_TOKEN (a secret name) never appears in the result, also when
 * an argument refers to it as $(HF_TOKEN). The whole input is also given to
 * engine_split_shell(), and each line to engine_redact_value(). Built by hand,
 * not by CMake's default build (tests/lint/fuzz_smoke.sh does the same):
 *
 *   cmake -DIN=server/engine/knowledge.yaml -DOUT=knowledge.c -DNAME=engine_knowledge_yaml \
 *       -P server/util/embed.cmake
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Iserver \
 *       tests/fuzz/fuzz_engine_args.c knowledge.c server/engine/[a-z]*.c server/doc/[a-z]*.c \
 *       server/util/buf.c server/util/err.c -lyaml -ljansson -lcrypto -lm -o fuzz_engine_args
 *   ./fuzz_engine_args -max_total_time=60 -max_len=65536 CORPUS_DIR tests/fuzz/seeds/fuzz_engine_args
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "util/err.h"
#include "util/banned.h"

#define CANARY "CANARYc4n4ry-hf-token-9f2b7e"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const images[] = {
	"vllm/vllm-openai:v0.8.5",
	"ghcr.io/huggingface/text-generation-inference:3.0.1",
	"lmsysorg/sglang:v0.4.6.post1-cu124",
	"nvcr.io/nvidia/tritonserver:24.08-trtllm-python-py3",
	"nvcr.io/nim/meta/llama-3.1-8b-instruct:1.3.3",
	"busybox:1.36",
};

static void
check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_engine_args: %s\n", what);
		abort();
	}
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct err e = ERR_INIT;

	(void)argc;
	(void)argv;
	if (engine_init(&e) < 0) {
		fprintf(stderr, "engine_init: %s\n", e.msg);
		abort();
	}
	return 0;
}

static void
add_line(json_t *c, const char *line)
{
	json_t *v;

	if (strncmp(line, "env ", 4) == 0) {
		const char *eq = strchr(line + 4, '=');
		json_t *env = json_object();
		char *name = eq != NULL ? strndup(line + 4, (size_t)(eq - line - 4)) : strdup(line + 4);

		if (env == NULL || name == NULL) {
			json_decref(env);
			free(name);
			return;
		}
		json_object_set_new(env, "name", json_string(name));
		if (eq != NULL)
			json_object_set_new(env, "value", json_string(eq + 1));
		json_array_append_new(json_object_get(c, "env"), env);
		free(name);
		return;
	}
	if (strncmp(line, "cmd ", 4) == 0) {
		json_array_append_new(json_object_get(c, "command"), json_string(line + 4));
		return;
	}
	if (strncmp(line, "sh ", 3) == 0) {
		v = json_object_get(c, "command");
		json_array_append_new(v, json_string("sh"));
		json_array_append_new(v, json_string("-c"));
		json_array_append_new(v, json_string(line + 3));
		return;
	}
	json_array_append_new(json_object_get(c, "args"), json_string(line));
}

static void
walk(const struct engine_parse *p)
{
	size_t i, n = engine_parse_count(p);
	enum engine_kind k = engine_parse_kind(p);
	const char *ver = engine_parse_version(p);
	json_t *j;

	check(k >= ENGINE_UNKNOWN && k < ENGINE__COUNT, "kind in range");
	check(engine_kind_from_name(engine_kind_name(k)) == k, "kind name round trip");
	if (ver != NULL)
		(void)strlen(ver);
	for (i = 0; i < n; i++) {
		const struct engine_setting *s = engine_parse_at(p, i);
		const struct engine_knob *kb = engine_knob_find(k, s->name);

		check(s->name != NULL && s->value != NULL && s->raw != NULL, "setting complete");
		if (i > 0)
			check(strcmp(engine_parse_at(p, i - 1)->name, s->name) < 0, "settings sorted, unique");
		check(engine_parse_get(p, s->name) == s, "setting lookup by name");
		if (kb != NULL)
			(void)strlen(kb->why);
	}
	j = engine_parse_to_json(p);
	check(j != NULL, "to_json");
	json_decref(j);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct err e = ERR_INIT;
	struct engine_parse *p = NULL;
	char *text, *line, *save = NULL, *dump;
	json_t *c, *v, *env;
	char **argv = NULL;
	size_t argc = 0, first_len;
	int with_canary;

	if (size < 1)
		return 0;
	text = malloc(size);
	if (text == NULL)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	with_canary = memmem(data, size, "CANARY", 6) == NULL;

	/* The shell splitter on the whole text. */
	if (engine_split_shell(text, &argv, &argc, &e) == 0) {
		size_t i;

		for (i = 0; i < argc; i++)
			check(argv[i] != NULL, "argv element");
		check(argv[argc] == NULL, "argv NULL-terminated");
		engine_argv_free(argv);
	}

	c = json_pack("{s:s, s:s, s:[], s:[], s:[]}", "name", "server",
	    "image", images[data[0] % (sizeof(images) / sizeof(images[0]))], "command", "args", "env");
	if (c == NULL) {
		free(text);
		return 0;
	}
	first_len = strcspn(text, "\n");
	if (data[0] >= 0x80 && first_len > 0) {
		char *img = strndup(text, first_len);

		if (img != NULL)
			json_object_set_new(c, "image", json_string(img));
		free(img);
	}
	if (with_canary) {
		env = json_pack("{s:s, s:s}", "name", "HF_TOKEN", "value", CANARY);
		json_array_append_new(json_object_get(c, "env"), env);
	}
	for (line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		size_t len = strlen(line);

		add_line(c, line);
		v = engine_redact_value(line, len);
		check(v != NULL && json_is_string(v), "redacted value is a string");
		if (len > 24 && strncmp(line, "hmac-sha256:", 12) != 0)
			check(strstr(json_string_value(v), line) == NULL, "redacted value hides the value");
		json_decref(v);
	}
	if (with_canary) {
		/* Last, so that a later HF_TOKEN entry of the input does not replace it. */
		env = json_pack("{s:s, s:s}", "name", "HF_TOKEN", "value", CANARY);
		json_array_append_new(json_object_get(c, "env"), env);
	}

	if (engine_parse(c, &p, &e) == 0) {
		json_t *j;

		walk(p);
		j = engine_parse_to_json(p);
		dump = json_dumps(j, JSON_COMPACT);
		if (with_canary && dump != NULL && strstr(dump, CANARY) != NULL) {
			fprintf(stderr, "fuzz_engine_args: the HF_TOKEN value reached the result: %s\n", dump);
			abort();
		}
		free(dump);
		json_decref(j);
		engine_parse_free(p);
	} else {
		check(e.msg[0] != '\0', "an error has a message");
	}
	json_decref(c);
	free(text);
	return 0;
}
