/*
 * file.h - reading a whole file, bounded.
 */
#ifndef SKEWD_UTIL_FILE_H
#define SKEWD_UTIL_FILE_H

#include <stddef.h>

struct err;

/* Reads `path` (a regular file of at most `max` bytes) into *out, NUL-terminated
 * (caller frees); *len (may be NULL) excludes the NUL. Returns 0, or -1 with e set:
 * ERR_NOT_FOUND, ERR_IO, ERR_INVALID (not a regular file), ERR_TOO_LARGE. */
int file_read_all(const char *path, size_t max, char **out, size_t *len, struct err *e);

#endif
