/*
 * banned.h - functions skewd does not call (after git's banned.h).
 * Every .c file of skewd includes it after all its other headers (tests/lint checks); a
 * call to a banned function is then a compile error.
 */
#ifndef SKEWD_UTIL_BANNED_H
#define SKEWD_UTIL_BANNED_H

#define BANNED(func) sorry_##func##_is_banned_in_skewd

#undef strcpy
#define strcpy(x, y) BANNED(strcpy)
#undef strcat
#define strcat(x, y) BANNED(strcat)
#undef strncpy
#define strncpy(x, y, n) BANNED(strncpy)
#undef sprintf
#define sprintf(...) BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) BANNED(vsprintf)
#undef strtok
#define strtok(x, y) BANNED(strtok)
#undef atoi
#define atoi(x) BANNED(atoi)
#undef atol
#define atol(x) BANNED(atol)
#undef gmtime
#define gmtime(x) BANNED(gmtime)
#undef localtime
#define localtime(x) BANNED(localtime)
#undef gets
#define gets(x) BANNED(gets)

#endif
