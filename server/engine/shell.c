/*
 * shell.c - POSIX sh word splitting without expansion.
 *
 * A container's `sh -c "..."` string is cut into simple commands the way sh
 * would cut it: quotes and backslashes follow the POSIX rules, `#` at the
 * start of a word starts a comment, and ; && || | & newlines and parentheses
 * separate commands. Nothing is expanded: $VAR, ${VAR}, $(cmd) and `cmd`
 * stay in the word as written. Redirections (> file, 2>&1) are dropped.
 */
#include "engine/engine_int.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/err.h"
#include "util/limits.h"
#include "util/banned.h"

struct lexer {
	const char *s;
	size_t i;
	size_t n;
	struct buf word;
	int in_word;            /* a word has started (even an empty quoted one) */
	size_t first_quote;     /* offset in word of the first quoted char, or SIZE_MAX */
	struct shell_script *sc;
	struct shell_cmd cur;
	size_t cur_cap;
	size_t total_words;
	int skip_next_word;     /* the next word is a redirection target */
};

static void
cmd_release(struct shell_cmd *c)
{
	size_t i;

	if (c->words != NULL) {
		for (i = 0; i < c->n_words; i++)
			free(c->words[i]);
		free(c->words);
	}
	c->words = NULL;
	c->n_words = 0;
	c->n_assign = 0;
}

void
shell_script_release(struct shell_script *sc)
{
	size_t i;

	if (sc == NULL)
		return;
	for (i = 0; i < sc->n_cmds; i++)
		cmd_release(&sc->cmds[i]);
	free(sc->cmds);
	sc->cmds = NULL;
	sc->n_cmds = 0;
}

static int
is_assignment(const char *w, size_t first_quote)
{
	size_t i;

	if (!(w[0] == '_' || (w[0] >= 'A' && w[0] <= 'Z') || (w[0] >= 'a' && w[0] <= 'z')))
		return 0;
	for (i = 1; w[i] != '\0' && w[i] != '='; i++) {
		char c = w[i];
		if (!(c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9')))
			return 0;
	}
	return w[i] == '=' && i < first_quote;
}

/* Ends the current word and appends it to the current command. */
static int
end_word(struct lexer *lx, struct err *e)
{
	char *w = NULL;
	char **nw;
	size_t len, fq = lx->first_quote;

	lx->first_quote = SIZE_MAX;
	if (!lx->in_word)
		return 0;
	lx->in_word = 0;
	if (lx->skip_next_word) {
		lx->skip_next_word = 0;
		buf_reset(&lx->word);
		return 0;
	}
	if (++lx->total_words > ENGINE_MAX_ARGS)
		return err_set(e, ERR_TOO_LARGE, "shell command has more than %d words",
		    ENGINE_MAX_ARGS);
	w = buf_take(&lx->word, &len);
	if (w == NULL) {
		w = strdup("");
		if (w == NULL)
			return err_set(e, ERR_NOMEM, "out of memory splitting a shell command");
	}
	buf_init(&lx->word, ENGINE_MAX_ARG_BYTES);
	/* `exec` before the command word only replaces the shell. */
	if (lx->cur.n_words == lx->cur.n_assign && strcmp(w, "exec") == 0 &&
	    fq == SIZE_MAX) {
		free(w);
		return 0;
	}
	if (lx->cur.n_words + 2 > lx->cur_cap) {
		size_t cap = lx->cur_cap ? lx->cur_cap * 2 : 16;
		nw = realloc(lx->cur.words, cap * sizeof(*nw));
		if (nw == NULL) {
			free(w);
			return err_set(e, ERR_NOMEM, "out of memory splitting a shell command");
		}
		lx->cur.words = nw;
		lx->cur_cap = cap;
	}
	if (lx->cur.n_words == lx->cur.n_assign && is_assignment(w, fq))
		lx->cur.n_assign++;
	lx->cur.words[lx->cur.n_words++] = w;
	lx->cur.words[lx->cur.n_words] = NULL;
	return 0;
}

/* Ends the current command; an empty one is dropped. */
static int
end_cmd(struct lexer *lx, struct err *e)
{
	struct shell_cmd *nc;

	if (end_word(lx, e) < 0)
		return -1;
	lx->skip_next_word = 0;
	if (lx->cur.n_words == 0) {
		cmd_release(&lx->cur);
		lx->cur_cap = 0;
		return 0;
	}
	nc = realloc(lx->sc->cmds, (lx->sc->n_cmds + 1) * sizeof(*nc));
	if (nc == NULL)
		return err_set(e, ERR_NOMEM, "out of memory splitting a shell command");
	lx->sc->cmds = nc;
	nc[lx->sc->n_cmds++] = lx->cur;
	memset(&lx->cur, 0, sizeof(lx->cur));
	lx->cur_cap = 0;
	return 0;
}

static int
add(struct lexer *lx, char c, struct err *e)
{
	lx->in_word = 1;
	return buf_addch(&lx->word, c, e);
}

static void
mark_quoted(struct lexer *lx)
{
	lx->in_word = 1;
	if (lx->first_quote == SIZE_MAX)
		lx->first_quote = buf_len(&lx->word);
}

/* Copies a $( ... ), ${ ... } or ` ... ` construct literally; lx->i is at its
 * first character ('$' or '`'). Nested parentheses and quotes are skipped. */
static int
copy_substitution(struct lexer *lx, struct err *e)
{
	const char *s = lx->s;
	size_t start = lx->i, i = lx->i;
	char open, close;
	int depth = 0;

	if (s[i] == '`') {
		for (i++; i < lx->n && s[i] != '`'; i++)
			if (s[i] == '\\' && i + 1 < lx->n)
				i++;
		if (i >= lx->n)
			return err_set(e, ERR_INVALID, "unterminated backquote in shell command");
		i++;
		goto copy;
	}
	open = s[i + 1];
	close = open == '(' ? ')' : '}';
	for (i++; i < lx->n; i++) {
		char c = s[i];
		if (c == '\\' && i + 1 < lx->n) {
			i++;
		} else if (c == '\'') {
			const char *q = memchr(s + i + 1, '\'', lx->n - i - 1);
			if (q == NULL)
				break;
			i = (size_t)(q - s);
		} else if (c == open) {
			depth++;
		} else if (c == close) {
			if (--depth == 0)
				break;
		}
	}
	if (i >= lx->n)
		return err_set(e, ERR_INVALID, "unterminated $%c in shell command", open);
	i++;
copy:
	lx->in_word = 1;
	if (buf_add(&lx->word, s + start, i - start, e) < 0)
		return -1;
	lx->i = i;
	return 0;
}

static int
lex_single(struct lexer *lx, struct err *e)
{
	const char *q = memchr(lx->s + lx->i + 1, '\'', lx->n - lx->i - 1);

	if (q == NULL)
		return err_set(e, ERR_INVALID, "unterminated single quote in shell command");
	mark_quoted(lx);
	if (buf_add(&lx->word, lx->s + lx->i + 1, (size_t)(q - lx->s) - lx->i - 1, e) < 0)
		return -1;
	lx->i = (size_t)(q - lx->s) + 1;
	return 0;
}

static int
lex_double(struct lexer *lx, struct err *e)
{
	const char *s = lx->s;

	mark_quoted(lx);
	lx->i++;
	while (lx->i < lx->n && s[lx->i] != '"') {
		char c = s[lx->i];
		if (c == '\\' && lx->i + 1 < lx->n) {
			char d = s[lx->i + 1];
			lx->i += 2;
			if (d == '\n')
				continue;
			if (d != '$' && d != '`' && d != '"' && d != '\\' && add(lx, '\\', e) < 0)
				return -1;
			if (add(lx, d, e) < 0)
				return -1;
		} else if ((c == '$' && lx->i + 1 < lx->n && (s[lx->i + 1] == '(' ||
		    s[lx->i + 1] == '{')) || c == '`') {
			if (copy_substitution(lx, e) < 0)
				return -1;
		} else {
			if (add(lx, c, e) < 0)
				return -1;
			lx->i++;
		}
	}
	if (lx->i >= lx->n)
		return err_set(e, ERR_INVALID, "unterminated double quote in shell command");
	lx->i++;
	return 0;
}

static int
all_digits(const struct buf *b)
{
	const char *p = buf_str(b);

	if (*p == '\0')
		return 0;
	for (; *p != '\0'; p++)
		if (*p < '0' || *p > '9')
			return 0;
	return 1;
}

/* A redirection operator at lx->i: drop an fd number before it, the operator
 * and (unless it is >&N / <&N) the word after it. */
static int
lex_redirect(struct lexer *lx, struct err *e)
{
	const char *s = lx->s;

	if (lx->in_word && lx->first_quote == SIZE_MAX && all_digits(&lx->word)) {
		buf_reset(&lx->word);
		lx->in_word = 0;
	} else if (end_word(lx, e) < 0) {
		return -1;
	}
	if (s[lx->i] == '&')
		lx->i++;
	lx->i++;
	if (lx->i < lx->n && (s[lx->i] == '>' || s[lx->i] == '<' || s[lx->i] == '|'))
		lx->i++;
	if (lx->i < lx->n && s[lx->i] == '&') {
		/* >&2, 2>&1, >&-: the target is an fd, not a word. */
		lx->i++;
		while (lx->i < lx->n && ((s[lx->i] >= '0' && s[lx->i] <= '9') || s[lx->i] == '-'))
			lx->i++;
		return 0;
	}
	lx->skip_next_word = 1;
	return 0;
}

int
shell_split(const char *s, struct shell_script *out, struct err *e)
{
	struct lexer lx;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	memset(&lx, 0, sizeof(lx));
	lx.s = s;
	lx.n = strlen(s);
	lx.sc = out;
	lx.first_quote = SIZE_MAX;
	buf_init(&lx.word, ENGINE_MAX_ARG_BYTES);
	if (lx.n > ENGINE_MAX_ARG_BYTES) {
		err_set(e, ERR_TOO_LARGE, "shell command is longer than %d bytes",
		    ENGINE_MAX_ARG_BYTES);
		goto out;
	}
	while (lx.i < lx.n) {
		char c = s[lx.i];

		if (c == ' ' || c == '\t' || c == '\r') {
			if (end_word(&lx, e) < 0)
				goto out;
			lx.first_quote = SIZE_MAX;
			lx.i++;
		} else if (c == '\n' || c == ';' || c == '|' || c == '(' || c == ')' ||
		    (c == '&' && (lx.i + 1 >= lx.n || s[lx.i + 1] != '>'))) {
			if (end_cmd(&lx, e) < 0)
				goto out;
			lx.first_quote = SIZE_MAX;
			lx.i++;
		} else if (c == '#' && !lx.in_word) {
			while (lx.i < lx.n && s[lx.i] != '\n')
				lx.i++;
		} else if (c == '<' || c == '>' || c == '&') {
			if (lex_redirect(&lx, e) < 0)
				goto out;
			lx.first_quote = SIZE_MAX;
		} else if (c == '\\') {
			if (lx.i + 1 < lx.n && s[lx.i + 1] == '\n') {
				lx.i += 2;
				continue;
			}
			mark_quoted(&lx);
			if (lx.i + 1 < lx.n) {
				if (add(&lx, s[lx.i + 1], e) < 0)
					goto out;
				lx.i += 2;
			} else {
				lx.i++;
			}
		} else if (c == '\'') {
			if (lex_single(&lx, e) < 0)
				goto out;
		} else if (c == '"') {
			if (lex_double(&lx, e) < 0)
				goto out;
		} else if ((c == '$' && lx.i + 1 < lx.n && (s[lx.i + 1] == '(' ||
		    s[lx.i + 1] == '{')) || c == '`') {
			if (copy_substitution(&lx, e) < 0)
				goto out;
		} else {
			if (add(&lx, c, e) < 0)
				goto out;
			lx.i++;
		}
	}
	if (end_cmd(&lx, e) < 0)
		goto out;
	ret = 0;
out:
	buf_release(&lx.word);
	cmd_release(&lx.cur);
	if (ret < 0)
		shell_script_release(out);
	return ret;
}
