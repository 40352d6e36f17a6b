/*
 * doc_resolve.c - YAML 1.1 scalar resolution, as go-yaml v2 (and so
 * sigs.k8s.io/yaml, and so kubectl) does it.
 *
 * The rules follow go-yaml v2's resolve.go: the first byte picks a hint; a
 * table of exact words gives booleans (y/yes/on/true and n/no/off/false in
 * three casings), null (~, null, empty) and the infinities; text starting with
 * a digit or sign is an integer when Go's strconv.ParseInt(s, 0, 64) (after
 * removing underscores) accepts it, that is decimal, 0x, 0o, 0b or a leading-0
 * octal, else a float when it matches the YAML float pattern; text starting
 * with '.' is a float when Go's ParseFloat accepts it. Anything else is a string.
 * Timestamps stay strings (go-yaml v2 gives interface{} targets the string).
 */
#include "doc/doc_int.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/banned.h"

/* Longest numeric text we copy to the stack; longer text goes to the heap. */
#define RESOLVE_STACK_BYTES 128

struct word {
	const char *s;
	enum scalar_kind kind;
	int b;
	double f;
};

static const struct word words[] = {
	{ "y", SCALAR_BOOL, 1, 0 }, { "Y", SCALAR_BOOL, 1, 0 },
	{ "yes", SCALAR_BOOL, 1, 0 }, { "Yes", SCALAR_BOOL, 1, 0 }, { "YES", SCALAR_BOOL, 1, 0 },
	{ "true", SCALAR_BOOL, 1, 0 }, { "True", SCALAR_BOOL, 1, 0 }, { "TRUE", SCALAR_BOOL, 1, 0 },
	{ "on", SCALAR_BOOL, 1, 0 }, { "On", SCALAR_BOOL, 1, 0 }, { "ON", SCALAR_BOOL, 1, 0 },
	{ "n", SCALAR_BOOL, 0, 0 }, { "N", SCALAR_BOOL, 0, 0 },
	{ "no", SCALAR_BOOL, 0, 0 }, { "No", SCALAR_BOOL, 0, 0 }, { "NO", SCALAR_BOOL, 0, 0 },
	{ "false", SCALAR_BOOL, 0, 0 }, { "False", SCALAR_BOOL, 0, 0 }, { "FALSE", SCALAR_BOOL, 0, 0 },
	{ "off", SCALAR_BOOL, 0, 0 }, { "Off", SCALAR_BOOL, 0, 0 }, { "OFF", SCALAR_BOOL, 0, 0 },
	{ "~", SCALAR_NULL, 0, 0 },
	{ "null", SCALAR_NULL, 0, 0 }, { "Null", SCALAR_NULL, 0, 0 }, { "NULL", SCALAR_NULL, 0, 0 },
	{ ".nan", SCALAR_FLOAT, 0, NAN }, { ".NaN", SCALAR_FLOAT, 0, NAN }, { ".NAN", SCALAR_FLOAT, 0, NAN },
	{ ".inf", SCALAR_FLOAT, 0, INFINITY }, { ".Inf", SCALAR_FLOAT, 0, INFINITY },
	{ ".INF", SCALAR_FLOAT, 0, INFINITY },
	{ "+.inf", SCALAR_FLOAT, 0, INFINITY }, { "+.Inf", SCALAR_FLOAT, 0, INFINITY },
	{ "+.INF", SCALAR_FLOAT, 0, INFINITY },
	{ "-.inf", SCALAR_FLOAT, 0, -INFINITY }, { "-.Inf", SCALAR_FLOAT, 0, -INFINITY },
	{ "-.INF", SCALAR_FLOAT, 0, -INFINITY },
	{ "<<", SCALAR_MERGE, 0, 0 },
};

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Go's strconv.ParseUint(s, 0, 64) without underscores (the caller removed them). */
static int
parse_uint_base0(const char *s, size_t n, uint64_t *out)
{
	unsigned base = 10;
	uint64_t v = 0;
	size_t k;

	if (n == 0)
		return -1;
	if (s[0] == '0') {
		if (n >= 3 && (s[1] == 'b' || s[1] == 'B')) {
			base = 2;
			s += 2;
			n -= 2;
		} else if (n >= 3 && (s[1] == 'o' || s[1] == 'O')) {
			base = 8;
			s += 2;
			n -= 2;
		} else if (n >= 3 && (s[1] == 'x' || s[1] == 'X')) {
			base = 16;
			s += 2;
			n -= 2;
		} else {
			base = 8;
			s += 1;
			n -= 1;
		}
	}
	for (k = 0; k < n; k++) {
		unsigned d;
		char c = s[k];

		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'z')
			d = (unsigned)(c - 'a') + 10;
		else if (c >= 'A' && c <= 'Z')
			d = (unsigned)(c - 'A') + 10;
		else
			return -1;
		if (d >= base)
			return -1;
		if (v > (UINT64_MAX - d) / base)
			return -1;
		v = v * base + d;
	}
	*out = v;
	return 0;
}

/* Go's strconv.ParseInt(s, 0, 64). */
static int
parse_int_base0(const char *s, size_t n, long long *out)
{
	int neg = 0;
	uint64_t u;

	if (n == 0)
		return -1;
	if (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-';
		s++;
		n--;
	}
	if (parse_uint_base0(s, n, &u) < 0)
		return -1;
	if (!neg && u > (uint64_t)INT64_MAX)
		return -1;
	if (neg && u > (uint64_t)INT64_MAX + 1)
		return -1;
	if (neg)
		*out = u == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(long long)u;
	else
		*out = (long long)u;
	return 0;
}

/* Does s match ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$ (go-yaml's
 * yamlStyleFloat)? */
static int
is_yaml_float(const char *s, size_t n)
{
	size_t k = 0, d;

	if (k < n && (s[k] == '+' || s[k] == '-'))
		k++;
	if (k < n && s[k] == '.') {
		k++;
		for (d = k; k < n && is_digit(s[k]); k++)
			;
		if (k == d)
			return 0;
	} else {
		for (d = k; k < n && is_digit(s[k]); k++)
			;
		if (k == d)
			return 0;
		if (k < n && s[k] == '.')
			for (k++; k < n && is_digit(s[k]); k++)
				;
	}
	if (k < n && (s[k] == 'e' || s[k] == 'E')) {
		k++;
		if (k < n && (s[k] == '+' || s[k] == '-'))
			k++;
		for (d = k; k < n && is_digit(s[k]); k++)
			;
		if (k == d)
			return 0;
	}
	return k == n;
}

/* Go's ParseFloat on a string starting with '.': digits, then an optional exponent. */
static int
is_dot_float(const char *s, size_t n)
{
	size_t k = 1, d;

	for (d = k; k < n && is_digit(s[k]); k++)
		;
	if (k == d)
		return 0;
	if (k < n && (s[k] == 'e' || s[k] == 'E')) {
		k++;
		if (k < n && (s[k] == '+' || s[k] == '-'))
			k++;
		for (d = k; k < n && is_digit(s[k]); k++)
			;
		if (k == d)
			return 0;
	}
	return k == n;
}

/* strtod on a validated decimal float; 0 when it is in range (Go's ParseFloat
 * refuses an overflow, and go-yaml then keeps the string). */
static int
to_double(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno == ERANGE && isinf(v))
		return -1;
	*out = v;
	return 0;
}

static void
resolve_number(const char *s, size_t n, struct scalar *out)
{
	char small[RESOLVE_STACK_BYTES];
	char *p = small, *heap = NULL;
	size_t k, m = 0;
	long long iv;
	uint64_t uv;
	double fv;

	if (n + 1 > sizeof(small)) {
		heap = malloc(n + 1);
		if (heap == NULL)
			return; /* stays a string */
		p = heap;
	}
	for (k = 0; k < n; k++)
		if (s[k] != '_')
			p[m++] = s[k];
	p[m] = '\0';
	if (parse_int_base0(p, m, &iv) == 0) {
		out->kind = SCALAR_INT;
		out->i = iv;
	} else if (p[0] != '+' && p[0] != '-' && parse_uint_base0(p, m, &uv) == 0) {
		/* Beyond int64: JSON holds it only as a float here. */
		out->kind = SCALAR_FLOAT;
		out->f = (double)uv;
	} else if (is_yaml_float(p, m) && to_double(p, &fv) == 0) {
		out->kind = SCALAR_FLOAT;
		out->f = fv;
	}
	free(heap);
}

void
doc_resolve_plain(const char *s, size_t n, struct scalar *out)
{
	char c;
	size_t k;

	out->kind = SCALAR_STR;
	out->b = 0;
	out->i = 0;
	out->f = 0;
	if (n == 0) {
		out->kind = SCALAR_NULL;
		return;
	}
	c = s[0];
	if (!(c == '+' || c == '-' || is_digit(c) || c == '.' || c == '~' || c == '<' ||
	    strchr("yYnNtTfFoO", c) != NULL))
		return;
	if (n <= 5) {
		for (k = 0; k < sizeof(words) / sizeof(words[0]); k++) {
			if (words[k].s[0] == c && strlen(words[k].s) == n && memcmp(words[k].s, s, n) == 0) {
				out->kind = words[k].kind;
				out->b = words[k].b;
				out->f = words[k].f;
				return;
			}
		}
	}
	if (c == '.') {
		char small[RESOLVE_STACK_BYTES];
		char *heap = NULL, *p = small;
		double fv;

		if (!is_dot_float(s, n))
			return;
		if (n + 1 > sizeof(small)) {
			heap = malloc(n + 1);
			if (heap == NULL)
				return;
			p = heap;
		}
		memcpy(p, s, n);
		p[n] = '\0';
		if (to_double(p, &fv) == 0) {
			out->kind = SCALAR_FLOAT;
			out->f = fv;
		}
		free(heap);
		return;
	}
	if (c == '+' || c == '-' || is_digit(c))
		resolve_number(s, n, out);
}

void
doc_format_float_key(double f, char out[64])
{
	float g;
	int prec, exp10;
	char tmp[64];

	if (isnan(f)) {
		snprintf(out, 64, ".nan");
		return;
	}
	if (isinf(f) || fabs(f) > FLT_MAX) {
		/* Go's float32(f) is then an infinity too. */
		snprintf(out, 64, f > 0 ? ".inf" : "-.inf");
		return;
	}
	g = (float)f;
	if (g == 0) {
		snprintf(out, 64, signbit(g) ? "-0" : "0");
		return;
	}
	/* Shortest digits that read back as the same float32. */
	for (prec = 1; prec < 9; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, (double)g);
		if (strtof(tmp, NULL) == g)
			break;
	}
	snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, (double)g);
	exp10 = (int)strtol(strchr(tmp, 'e') + 1, NULL, 10);
	if (exp10 < -4 || exp10 >= 6) {
		/* Go writes the shortest mantissa and a two-digit exponent, as C does. */
		snprintf(out, 64, "%s", tmp);
		return;
	}
	snprintf(out, 64, "%.*f", prec - 1 - exp10 > 0 ? prec - 1 - exp10 : 0, (double)g);
}

json_t *
doc_number_from_double(double f)
{
	if (!isfinite(f))
		return NULL;
	if (f == floor(f) && f >= -9223372036854775808.0 && f < 9223372036854775808.0)
		return json_integer((json_int_t)f);
	return json_real(f);
}
