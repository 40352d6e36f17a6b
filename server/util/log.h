/*
 * log.h - levelled logging to stderr, one line per message.
 *
 * Messages have no trailing newline and never contain secret values or
 * request bodies. The level is checked before the arguments are formatted.
 * With log_set_json(1) each line is a JSON object {"ts","level","msg"};
 * the access log writes its own JSON lines through log_line().
 * Thread-safe: one write(2) per line.
 */
#ifndef SKEWD_UTIL_LOG_H
#define SKEWD_UTIL_LOG_H

enum log_level { LOG_ERROR = 0, LOG_WARN, LOG_INFO, LOG_DEBUG };

extern enum log_level log_level_current;

void log_set_level(enum log_level level);
/* Parses "error|warn|info|debug"; returns 0, or -1 for an unknown name. */
int log_level_parse(const char *name, enum log_level *out);
void log_set_json(int on);

void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Writes one already formatted line (a newline is added). */
void log_line(const char *line);

#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...) do { if (log_level_current >= LOG_WARN) log_msg(LOG_WARN, __VA_ARGS__); } while (0)
#define log_info(...) do { if (log_level_current >= LOG_INFO) log_msg(LOG_INFO, __VA_ARGS__); } while (0)
#define log_debug(...) do { if (log_level_current >= LOG_DEBUG) log_msg(LOG_DEBUG, __VA_ARGS__); } while (0)

#endif
