/*
 * parse_floor.c - the floor of `skewd diff`: load both inputs with the same
 * document loader (doc_load_file()) and nothing else. tests/bench/bench_diff.sh
 * times it beside `skewd diff`.
 *
 * usage: parse_floor A B    prints the number of documents of each side
 */
#include <stdio.h>

#include "doc/doc.h"
#include "util/err.h"
#include "util/banned.h"

int
main(int argc, char **argv)
{
	struct doc_set *d[2] = { NULL, NULL };
	struct err e = ERR_INIT;
	int i, ret = 2;

	if (argc != 3) {
		fputs("usage: parse_floor A B\n", stderr);
		return 2;
	}
	for (i = 0; i < 2; i++) {
		if (doc_load_file(argv[i + 1], DOC_AUTO, &d[i], &e) < 0) {
			fprintf(stderr, "parse_floor: %s\n", e.msg);
			goto out;
		}
	}
	printf("%zu %zu\n", doc_set_count(d[0]), doc_set_count(d[1]));
	ret = 0;
out:
	doc_set_free(d[1]);
	doc_set_free(d[0]);
	return ret;
}
