#include "util/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/banned.h"

enum log_level log_level_current = LOG_INFO;
static int log_json;

void
log_set_level(enum log_level level)
{
	log_level_current = level;
}

int
log_level_parse(const char *name, enum log_level *out)
{
	static const char *const names[] = { "error", "warn", "info", "debug" };
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(name, names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

void
log_set_json(int on)
{
	log_json = on;
}

static void
write_all(const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(STDERR_FILENO, p, n);
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

void
log_line(const char *line)
{
	char out[8192];
	size_t n = strlen(line);

	if (n > sizeof(out) - 2)
		n = sizeof(out) - 2;
	memcpy(out, line, n);
	out[n++] = '\n';
	write_all(out, n);
}

/* Appends s to out as JSON string content, escaping what JSON requires. */
static size_t
json_escape(char *out, size_t cap, const char *s)
{
	size_t o = 0;

	for (; *s != '\0' && o + 7 < cap; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			out[o++] = '\\';
			out[o++] = (char)c;
		} else if (c < 0x20) {
			o += (size_t)snprintf(out + o, cap - o, "\\u%04x", c);
		} else {
			out[o++] = (char)c;
		}
	}
	out[o] = '\0';
	return o;
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
	static const char *const names[] = { "error", "warn", "info", "debug" };
	char msg[4096], esc[6144], line[8192], ts[32];
	struct timespec now;
	struct tm tm;
	va_list ap;

	if (level > log_level_current)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	if (log_json) {
		json_escape(esc, sizeof(esc), msg);
		snprintf(line, sizeof(line), "{\"ts\":\"%s.%03ldZ\",\"level\":\"%s\",\"msg\":\"%s\"}",
		    ts, now.tv_nsec / 1000000, names[level], esc);
	} else {
		snprintf(line, sizeof(line), "%s.%03ldZ %-5s %s", ts, now.tv_nsec / 1000000,
		    names[level], msg);
	}
	log_line(line);
}
