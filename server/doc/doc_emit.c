/*
 * doc_emit.c - block YAML and canonical JSON out of jansson values, and SHA-256.
 *
 * The YAML is laid out as kubectl writes it (two-space indentation, list items
 * at their key's indentation, keys sorted bytewise) so that two documents diff
 * line by line. A string is written plain only when doc_resolve_plain() would
 * read it back as the same string and nothing in it means something to YAML;
 * else single-quoted when it is printable, as a literal block (|) when it has
 * several lines, or double-quoted with escapes. Loading the output gives a value
 * equal to the input (integral reals come back as integers, as on any load).
 */
#include "doc/doc.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>

#include "doc/doc_int.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/limits.h"
#include "util/banned.h"

/* libyaml reads an implicit key of at most 1024 characters, escapes included;
 * a key of more bytes than this is written as an explicit "? " key. */
#define EMIT_MAX_SIMPLE_KEY 128

struct emit {
	struct buf *out;
	struct err *e;
	/* Sorted keys of the objects being written, as a stack shared by all levels. */
	const char **keys;
	size_t nkeys, keys_cap;
};

enum style { STYLE_PLAIN, STYLE_SINGLE, STYLE_DOUBLE, STYLE_LITERAL };

/* Decodes one UTF-8 sequence (already valid: jansson checks) at s[k]. */
static unsigned
utf8_next(const unsigned char *s, size_t n, size_t *k)
{
	unsigned c = s[*k];
	size_t len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
	size_t j;

	if (*k + len > n)
		len = n - *k;
	if (len > 1) {
		c &= len == 2 ? 0x1F : len == 3 ? 0x0F : 0x07;
		for (j = 1; j < len; j++)
			c = (c << 6) | (s[*k + j] & 0x3F);
	}
	*k += len;
	return c;
}

/* May the code point appear as is in a plain or single-quoted scalar? */
static int
is_printable(unsigned c)
{
	if (c < 0x80)
		return c >= 0x20 && c != 0x7F;
	if (c < 0xA0)
		return 0;
	return c != 0x2028 && c != 0x2029 && c != 0xFEFF && c != 0xFFFE && c != 0xFFFF;
}

static int
looks_like_date_or_base60(const char *s, size_t n)
{
	size_t k = 0;

	if (n >= 5 && s[0] >= '0' && s[0] <= '9') {
		while (k < n && s[k] >= '0' && s[k] <= '9')
			k++;
		if (k == 4 && s[4] == '-')
			return 1;
	}
	k = (n > 0 && (s[0] == '-' || s[0] == '+')) ? 1 : 0;
	return k < n && s[k] >= '0' && s[k] <= '9' && memchr(s, ':', n) != NULL;
}

static enum style
choose_style(const char *s, size_t n, int is_key)
{
	const unsigned char *u = (const unsigned char *)s;
	struct scalar r;
	int printable = 1, has_newline = 0, plain = 1;
	size_t k = 0;

	if (n == 0)
		return STYLE_SINGLE;
	while (k < n) {
		unsigned c = utf8_next(u, n, &k);

		if (c == '\n')
			has_newline = 1;
		else if (!is_printable(c))
			printable = 0;
	}
	if (has_newline) {
		/* A literal block keeps every byte; it needs a first line that does not
		 * start with a blank, and nothing that would need an escape. */
		if (!is_key && printable && s[0] != ' ' && s[0] != '\t' && s[0] != '\n')
			return STYLE_LITERAL;
		return STYLE_DOUBLE;
	}
	if (!printable)
		return STYLE_DOUBLE;
	if (strchr("-?:,[]{}#&*!|>'\"%@`", s[0]) != NULL) {
		if (!((s[0] == '-' || s[0] == '?' || s[0] == ':') && n > 1 && s[1] != ' '))
			plain = 0;
	}
	if (n >= 3 && (memcmp(s, "---", 3) == 0 || memcmp(s, "...", 3) == 0))
		plain = 0;
	if (s[0] == ' ' || s[n - 1] == ' ' || s[n - 1] == ':')
		plain = 0;
	for (k = 0; plain && k + 1 < n; k++) {
		if ((s[k] == ':' && s[k + 1] == ' ') || (s[k] == ' ' && s[k + 1] == '#'))
			plain = 0;
	}
	if (plain) {
		doc_resolve_plain(s, n, &r);
		if (r.kind != SCALAR_STR || looks_like_date_or_base60(s, n))
			plain = 0;
	}
	return plain ? STYLE_PLAIN : STYLE_SINGLE;
}

static int
emit_indent(struct emit *m, int indent)
{
	static const char spaces[] = "                                ";

	while (indent > 0) {
		int n = indent < (int)sizeof(spaces) - 1 ? indent : (int)sizeof(spaces) - 1;

		if (buf_add(m->out, spaces, (size_t)n, m->e) < 0)
			return -1;
		indent -= n;
	}
	return 0;
}

static int
emit_double(struct emit *m, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t k = 0, start;

	if (buf_addch(m->out, '"', m->e) < 0)
		return -1;
	while (k < n) {
		unsigned c;

		start = k;
		c = utf8_next(u, n, &k);
		if (c == '"' || c == '\\') {
			if (buf_addch(m->out, '\\', m->e) < 0 || buf_addch(m->out, (char)c, m->e) < 0)
				return -1;
		} else if (c == '\n') {
			if (buf_add(m->out, "\\n", 2, m->e) < 0)
				return -1;
		} else if (c == '\t') {
			if (buf_add(m->out, "\\t", 2, m->e) < 0)
				return -1;
		} else if (c == '\r') {
			if (buf_add(m->out, "\\r", 2, m->e) < 0)
				return -1;
		} else if (!is_printable(c)) {
			if (c <= 0xFF ? buf_addf(m->out, m->e, "\\x%02X", c) < 0 :
			    buf_addf(m->out, m->e, "\\u%04X", c) < 0)
				return -1;
		} else if (buf_add(m->out, s + start, k - start, m->e) < 0) {
			return -1;
		}
	}
	return buf_addch(m->out, '"', m->e);
}

static int
emit_single(struct emit *m, const char *s, size_t n)
{
	const char *q;

	if (buf_addch(m->out, '\'', m->e) < 0)
		return -1;
	while ((q = memchr(s, '\'', n)) != NULL) {
		if (buf_add(m->out, s, (size_t)(q - s) + 1, m->e) < 0 ||
		    buf_addch(m->out, '\'', m->e) < 0)
			return -1;
		n -= (size_t)(q - s) + 1;
		s = q + 1;
	}
	if (buf_add(m->out, s, n, m->e) < 0)
		return -1;
	return buf_addch(m->out, '\'', m->e);
}

/* A literal block: the indicator line, then every line at `indent`. */
static int
emit_literal(struct emit *m, const char *s, size_t n, int indent)
{
	size_t trailing = 0, k, line;

	while (trailing < n && s[n - 1 - trailing] == '\n')
		trailing++;
	if (buf_addstr(m->out, trailing == 0 ? "|-\n" : trailing == 1 ? "|\n" : "|+\n", m->e) < 0)
		return -1;
	/* Write the content up to the last character that is not a newline, line by line. */
	for (k = 0; k < n - trailing; k = line + 1) {
		const char *nl = memchr(s + k, '\n', n - trailing - k);

		line = nl != NULL ? (size_t)(nl - s) : n - trailing;
		if (line > k && emit_indent(m, indent) < 0)
			return -1;
		if (buf_add(m->out, s + k, line - k, m->e) < 0 || buf_addch(m->out, '\n', m->e) < 0)
			return -1;
	}
	for (k = 1; k < trailing; k++)
		if (buf_addch(m->out, '\n', m->e) < 0)
			return -1;
	return 0;
}

/* A string, ending the line. `indent` is where a literal block's lines go. */
static int
emit_string(struct emit *m, const char *s, size_t n, int indent, int is_key)
{
	switch (choose_style(s, n, is_key)) {
	case STYLE_PLAIN:
		return buf_add(m->out, s, n, m->e);
	case STYLE_SINGLE:
		return emit_single(m, s, n);
	case STYLE_LITERAL:
		return emit_literal(m, s, n, indent);
	default:
		return emit_double(m, s, n);
	}
}

static int
emit_real(struct emit *m, double f)
{
	char tmp[40];
	int prec;

	if (!isfinite(f))
		return err_set(m->e, ERR_INVALID, "cannot write a number that is not finite");
	for (prec = 15; prec <= 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*g", prec, f);
		if (strtod(tmp, NULL) == f)
			break;
	}
	if (strpbrk(tmp, ".eE") == NULL && strlen(tmp) + 2 < sizeof(tmp))
		memcpy(tmp + strlen(tmp), ".0", 3);
	return buf_addstr(m->out, tmp, m->e);
}

/* A scalar or an empty collection, without the newline. */
static int
emit_inline(struct emit *m, const json_t *v, int indent)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return buf_add(m->out, "{}", 2, m->e);
	case JSON_ARRAY:
		return buf_add(m->out, "[]", 2, m->e);
	case JSON_STRING:
		return emit_string(m, json_string_value(v), json_string_length(v), indent, 0);
	case JSON_INTEGER:
		return buf_addf(m->out, m->e, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	case JSON_REAL:
		return emit_real(m, json_real_value(v));
	case JSON_TRUE:
		return buf_add(m->out, "true", 4, m->e);
	case JSON_FALSE:
		return buf_add(m->out, "false", 5, m->e);
	default:
		return buf_add(m->out, "null", 4, m->e);
	}
}

static int
is_block(const json_t *v)
{
	return (json_is_object(v) && json_object_size(v) > 0) ||
	    (json_is_array(v) && json_array_size(v) > 0);
}

/* Ends a line after an inline value, unless a literal block has ended it. */
static int
end_line(struct emit *m)
{
	size_t n = buf_len(m->out);

	if (n > 0 && buf_str(m->out)[n - 1] == '\n')
		return 0;
	return buf_addch(m->out, '\n', m->e);
}

static int emit_block(struct emit *m, const json_t *v, int indent, int inline_first, int depth);

static int
cmp_keys(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int
emit_object(struct emit *m, const json_t *v, int indent, int inline_first, int depth)
{
	size_t base = m->nkeys, n = json_object_size(v), k;
	const char *key;
	json_t *item;
	int ret = -1;

	if (m->nkeys + n > m->keys_cap) {
		size_t cap = m->keys_cap ? m->keys_cap : 64;
		const char **p;

		while (cap < m->nkeys + n)
			cap *= 2;
		p = realloc(m->keys, cap * sizeof(*p));
		if (p == NULL)
			return err_set(m->e, ERR_NOMEM, "out of memory writing YAML");
		m->keys = p;
		m->keys_cap = cap;
	}
	json_object_foreach((json_t *)v, key, item)
		m->keys[m->nkeys++] = key;
	qsort(m->keys + base, n, sizeof(*m->keys), cmp_keys);
	for (k = 0; k < n; k++) {
		size_t klen;

		key = m->keys[base + k];
		item = json_object_get(v, key);
		klen = strlen(key);
		if ((k > 0 || !inline_first) && emit_indent(m, indent) < 0)
			goto out;
		if (klen > EMIT_MAX_SIMPLE_KEY) {
			/* An explicit key: "? key" then ": value". */
			if (buf_add(m->out, "? ", 2, m->e) < 0 || emit_double(m, key, klen) < 0 ||
			    buf_addch(m->out, '\n', m->e) < 0 || emit_indent(m, indent) < 0 ||
			    buf_addch(m->out, ':', m->e) < 0)
				goto out;
		} else if (emit_string(m, key, klen, indent + 2, 1) < 0 ||
		    buf_addch(m->out, ':', m->e) < 0) {
			goto out;
		}
		if (is_block(item)) {
			if (buf_addch(m->out, '\n', m->e) < 0)
				goto out;
			/* Lists sit at their key's indentation, as kubectl writes them. */
			if (emit_block(m, item, json_is_array(item) && klen <= EMIT_MAX_SIMPLE_KEY ?
			    indent : indent + 2, 0, depth + 1) < 0)
				goto out;
		} else if (buf_addch(m->out, ' ', m->e) < 0 || emit_inline(m, item, indent + 2) < 0 ||
		    end_line(m) < 0) {
			goto out;
		}
	}
	ret = 0;
out:
	m->nkeys = base;
	return ret;
}

static int
emit_array(struct emit *m, const json_t *v, int indent, int inline_first, int depth)
{
	size_t k;

	for (k = 0; k < json_array_size(v); k++) {
		const json_t *item = json_array_get(v, k);

		if ((k > 0 || !inline_first) && emit_indent(m, indent) < 0)
			return -1;
		if (buf_add(m->out, "- ", 2, m->e) < 0)
			return -1;
		if (is_block(item)) {
			if (emit_block(m, item, indent + 2, 1, depth + 1) < 0)
				return -1;
		} else if (emit_inline(m, item, indent + 2) < 0 || end_line(m) < 0) {
			return -1;
		}
	}
	return 0;
}

/* A non-empty object or array whose first line starts at the cursor when
 * `inline_first` (after "- "), else on a fresh line at `indent`. */
static int
emit_block(struct emit *m, const json_t *v, int indent, int inline_first, int depth)
{
	if (depth > DOC_MAX_DEPTH)
		return err_set(m->e, ERR_TOO_LARGE, "cannot write YAML nested deeper than %d levels",
		    DOC_MAX_DEPTH);
	if (json_is_object(v))
		return emit_object(m, v, indent, inline_first, depth);
	return emit_array(m, v, indent, inline_first, depth);
}

int
doc_emit_yaml(const json_t *v, struct buf *out, struct err *e)
{
	struct emit m = { out, e, NULL, 0, 0 };
	int ret;

	if (v == NULL)
		return err_set(e, ERR_INVALID, "no value to write as YAML");
	if (is_block(v))
		ret = emit_block(&m, v, 0, 0, 1);
	else
		ret = emit_inline(&m, v, 2) < 0 ? -1 : end_line(&m);
	free(m.keys);
	return ret;
}

struct dump_ctx {
	struct buf *out;
	struct err *e;
	int failed;
};

static int
dump_cb(const char *p, size_t n, void *data)
{
	struct dump_ctx *c = data;

	if (buf_add(c->out, p, n, c->e) < 0) {
		c->failed = 1;
		return -1;
	}
	return 0;
}

int
doc_canonical_json(const json_t *v, struct buf *out, struct err *e)
{
	struct dump_ctx c = { out, e, 0 };

	if (v == NULL)
		return err_set(e, ERR_INVALID, "no value to write as JSON");
	if (json_dump_callback(v, dump_cb, &c, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY |
	    JSON_REAL_PRECISION(17)) < 0) {
		if (!c.failed)
			err_set(e, ERR_INVALID, "cannot write the value as JSON (too deep, or a loop)");
		return -1;
	}
	return 0;
}

void
doc_sha256_hex(const void *p, size_t n, char out[65])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0, k;

	if (EVP_Digest(p, n, md, &len, EVP_sha256(), NULL) != 1 || len != 32) {
		/* Cannot happen with a working libcrypto; never hand out a false hash. */
		abort();
	}
	for (k = 0; k < len; k++) {
		out[2 * k] = hex[md[k] >> 4];
		out[2 * k + 1] = hex[md[k] & 0xF];
	}
	out[64] = '\0';
}
