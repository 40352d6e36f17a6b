/*
 * doc_json.c - JSON texts and JSON streams to jansson values.
 *
 * A first pass over the bytes checks the limits jansson does not know (depth,
 * nodes, string size) so that a hostile input is refused before anything is
 * allocated for it, with its line and column. Then jansson parses one value at
 * a time (JSON_DISABLE_EOF_CHECK gives the end of each), refusing duplicate
 * keys. Reals with an integral value become integers, as in YAML.
 */
#include "doc/doc_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "util/buf.h"
#include "util/err.h"
#include "util/limits.h"
#include "util/banned.h"

struct scan {
	size_t line, col;   /* 1-based, of the byte being looked at */
	int saw_real;
};

static int
is_token_char(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    c == '-' || c == '+' || c == '.';
}

static int
prescan(const char *name, const char *data, size_t len, struct scan *sc, struct err *e)
{
	size_t k, depth = 0, nodes = 0, str_start = 0;
	int in_str = 0, esc = 0, in_tok = 0;

	sc->line = 1;
	sc->col = 1;
	sc->saw_real = 0;
	for (k = 0; k < len; k++) {
		unsigned char c = (unsigned char)data[k];

		if (in_str) {
			if (esc)
				esc = 0;
			else if (c == '\\')
				esc = 1;
			else if (c == '"') {
				in_str = 0;
				if (k - str_start - 1 > DOC_MAX_SCALAR_BYTES)
					return err_set(e, ERR_TOO_LARGE, "%s:%zu:%zu: a string of %zu bytes "
					    "is larger than the limit of %d bytes", name, sc->line, sc->col,
					    k - str_start - 1, DOC_MAX_SCALAR_BYTES);
			}
		} else if (c == '"') {
			in_str = 1;
			in_tok = 0;
			str_start = k;
			nodes++;
		} else if (c == '{' || c == '[') {
			in_tok = 0;
			nodes++;
			if (++depth > DOC_MAX_DEPTH)
				return err_set(e, ERR_TOO_LARGE, "%s:%zu:%zu: nesting deeper than %d levels",
				    name, sc->line, sc->col, DOC_MAX_DEPTH);
		} else if (c == '}' || c == ']') {
			in_tok = 0;
			if (depth > 0)
				depth--;
		} else if (is_token_char(c)) {
			if (!in_tok)
				nodes++;
			in_tok = 1;
			if (c == '.' || c == 'e' || c == 'E')
				sc->saw_real = 1;
		} else {
			in_tok = 0;
		}
		if (nodes > DOC_MAX_NODES)
			return err_set(e, ERR_TOO_LARGE, "%s:%zu:%zu: more than %d nodes",
			    name, sc->line, sc->col, DOC_MAX_NODES);
		if (c == '\n') {
			sc->line++;
			sc->col = 1;
		} else if ((c & 0xC0) != 0x80) {
			sc->col++;
		}
	}
	return 0;
}

/* Turns integral reals into integers, in place. Depth is bounded by the prescan. */
static int
normalise_numbers(json_t *v)
{
	const char *key;
	json_t *item, *n;
	void *tmp;
	size_t i;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		json_object_foreach_safe(v, tmp, key, item) {
			if (json_is_real(item)) {
				n = doc_number_from_double(json_real_value(item));
				if (n == NULL || json_object_set_new_nocheck(v, key, n) < 0)
					return -1;
			} else if (normalise_numbers(item) < 0) {
				return -1;
			}
		}
		return 0;
	case JSON_ARRAY:
		json_array_foreach(v, i, item) {
			if (json_is_real(item)) {
				n = doc_number_from_double(json_real_value(item));
				if (n == NULL || json_array_set_new(v, i, n) < 0)
					return -1;
			} else if (normalise_numbers(item) < 0) {
				return -1;
			}
		}
		return 0;
	default:
		return 0;
	}
}

/* Moves a line and column (1-based) from byte `*at` forward to byte `off`. */
static void
advance_position(const char *data, size_t *at, size_t off, size_t *line, size_t *col)
{
	size_t k;

	for (k = *at; k < off; k++) {
		if (data[k] == '\n') {
			(*line)++;
			*col = 1;
		} else if (((unsigned char)data[k] & 0xC0) != 0x80) {
			(*col)++;
		}
	}
	*at = off;
}

static int
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Is the token an integer that int64 cannot hold? */
static int
is_big_int(const char *s, size_t n)
{
	static const char max[] = "9223372036854775807";
	size_t k = 0;

	if (n > 0 && s[0] == '-')
		k = 1;
	if (n - k < sizeof(max) - 1)
		return 0;
	for (size_t j = k; j < n; j++)
		if (s[j] < '0' || s[j] > '9')
			return 0;
	if (n - k > sizeof(max) - 1)
		return 1;
	return memcmp(s + k, max, n - k) > 0;
}

/* Copies the text with ".0" after every integer beyond int64, so jansson reads
 * those as reals (Go reads them as float64) and every other integer exactly. */
static int
rewrite_big_ints(const char *data, size_t len, struct buf *out, struct err *e)
{
	size_t k = 0, from = 0;
	int in_str = 0, esc = 0;

	while (k < len) {
		char c = data[k];

		if (in_str) {
			if (esc)
				esc = 0;
			else if (c == '\\')
				esc = 1;
			else if (c == '"')
				in_str = 0;
			k++;
		} else if (c == '"') {
			in_str = 1;
			k++;
		} else if (is_token_char((unsigned char)c)) {
			size_t start = k;

			while (k < len && is_token_char((unsigned char)data[k]))
				k++;
			if (is_big_int(data + start, k - start)) {
				if (buf_add(out, data + from, k - from, e) < 0 ||
				    buf_add(out, ".0", 2, e) < 0)
					return -1;
				from = k;
			}
		} else {
			k++;
		}
	}
	return buf_add(out, data + from, len - from, e);
}

/* jansson's error text quotes the offending input ("invalid token near '\x01'");
 * an error message is a printable ASCII sentence, so other bytes become \xNN. */
static void
printable_text(const char *in, char *out, size_t outsz)
{
	size_t i, o = 0;

	for (i = 0; in[i] != '\0' && o + 5 < outsz; i++) {
		unsigned char c = (unsigned char)in[i];

		if (c >= 0x20 && c < 0x7f) {
			out[o++] = (char)c;
		} else {
			snprintf(out + o, outsz - o, "\\x%02x", c);
			o += 4;
		}
	}
	out[o] = '\0';
}

static int
load_values(const char *name, const char *data, size_t len, const struct scan *sc, json_t *out,
    int *overflow, struct err *e)
{
	size_t off = 0, at = 0, base_line = 1, base_col = 1;
	json_error_t jerr;
	json_t *v, *top;

	for (;;) {
		while (off < len && is_space(data[off]))
			off++;
		if (off == len)
			break;
		advance_position(data, &at, off, &base_line, &base_col);
		v = json_loadb(data + off, len - off,
		    JSON_REJECT_DUPLICATES | JSON_DISABLE_EOF_CHECK | JSON_DECODE_ANY, &jerr);
		if (v == NULL && overflow != NULL && json_error_code(&jerr) == json_error_numeric_overflow) {
			*overflow = 1;
			return -1;
		}
		if (v == NULL) {
			size_t line = base_line + (jerr.line > 0 ? (size_t)jerr.line - 1 : 0);
			size_t col = jerr.line <= 1 ? base_col - 1 + (size_t)(jerr.column > 0 ? jerr.column : 1) :
			    (size_t)(jerr.column > 0 ? jerr.column : 1);
			char text[4 * JSON_ERROR_TEXT_LENGTH];

			printable_text(jerr.text, text, sizeof(text));
			return err_set(e, json_error_code(&jerr) == json_error_out_of_memory ? ERR_NOMEM :
			    ERR_INVALID, "%s:%zu:%zu: %s", name, line, col, text);
		}
		if (jerr.position <= 0) {
			json_decref(v);
			return err_set(e, ERR_INTERNAL, "%s: the JSON parser made no progress", name);
		}
		off += (size_t)jerr.position;
		if (sc->saw_real) {
			if (json_is_real(v)) {
				top = doc_number_from_double(json_real_value(v));
				json_decref(v);
				v = top;
				if (v == NULL)
					return err_set(e, ERR_NOMEM, "%s: out of memory", name);
			} else if (normalise_numbers(v) < 0) {
				json_decref(v);
				return err_set(e, ERR_NOMEM, "%s: out of memory", name);
			}
		}
		if (json_is_null(v)) {
			json_decref(v);
			continue;
		}
		if (json_array_append_new(out, v) < 0)
			return err_set(e, ERR_NOMEM, "%s: out of memory", name);
		if (json_array_size(out) > DOC_MAX_DOCUMENTS)
			return err_set(e, ERR_TOO_LARGE, "%s:%zu:%zu: more than %d documents", name,
			    base_line, base_col, DOC_MAX_DOCUMENTS);
	}
	return 0;
}

int
doc_json_load(const char *name, const char *data, size_t len, json_t *out, struct err *e)
{
	struct buf fixed = BUF_INIT(2 * (size_t)DOC_MAX_BYTES);
	struct scan sc;
	int overflow = 0, ret = -1;

	if (prescan(name, data, len, &sc, e) < 0)
		return -1;
	if (load_values(name, data, len, &sc, out, &overflow, e) == 0)
		return 0;
	if (!overflow)
		return -1;
	/* Integers beyond int64 (a tokenizer's 1e30 sentinel written out in
	 * digits): read them as reals, like Go does, and start again. */
	json_array_clear(out);
	if (rewrite_big_ints(data, len, &fixed, e) < 0)
		goto out;
	sc.saw_real = 1;
	ret = load_values(name, buf_str(&fixed), buf_len(&fixed), &sc, out, NULL, e);
out:
	buf_release(&fixed);
	return ret;
}
