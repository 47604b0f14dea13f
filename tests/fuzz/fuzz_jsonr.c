/*
 * libFuzzer target: common/jsonr.c on any bytes, as a request body of the
 * daemon's API may hold (from a stranger).  What parses must be a tree
 * whose strings hold no NUL and whose objects have a key per member.
 *
 *	./configure CC=clang --enable-fuzzing && make tests/fuzz/fuzz_jsonr
 *	tests/fuzz/fuzz_jsonr -max_total_time=120
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/jsonr.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
walk(const struct jsonr *v)
{
	size_t	 i;

	if (v->type == JSONR_STRING && v->str == NULL)
		abort();
	for (i = 0; i < v->n; i++) {
		if (v->type == JSONR_OBJECT && (v->keys[i] == NULL ||
		    jsonr_get(v, v->keys[i]) == NULL))
			abort();
		walk(v->items[i]);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jsonr	*v;
	char		*copy = malloc(size > 0 ? size : 1), *cause = NULL;

	/* An exact-size copy: ASan catches a read one byte past it. */
	if (size > 0)
		memcpy(copy, data, size);
	if ((v = jsonr_parse(copy, size, &cause)) != NULL) {
		walk(v);
		jsonr_free(v);
	} else if (cause == NULL)
		abort();
	free(cause);
	free(copy);
	return (0);
}
