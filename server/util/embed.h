/*
 * embed.h - data files compiled into the binary by skewd_embed() in CMake.
 * Each is NUL-terminated; NAME_len does not count the NUL.
 */
#ifndef SKEWD_UTIL_EMBED_H
#define SKEWD_UTIL_EMBED_H

#include <stddef.h>

#define EMBED_DECLARE(name) \
	extern const unsigned char name[]; \
	extern const size_t name##_len

#endif
