/*
 * libFuzzer target: schema/ddl.c on any bytes, as a QUERY event of the
 * binlog may hold (no terminating NUL; the parser must stay in bounds),
 * with and without a default database.  Every name it returns must be a
 * string it could have read from the input.
 *
 *	./configure CC=clang --enable-fuzzing && make tests/fuzz/fuzz_ddl
 *	tests/fuzz/fuzz_ddl -max_total_time=120
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "schema/ddl.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ddl_stmt	 st;
	char		*copy = malloc(size > 0 ? size : 1);
	size_t		 i;
	int		 pass;

	/* An exact-size copy: ASan catches a read one byte past it. */
	if (size > 0)
		memcpy(copy, data, size);
	for (pass = 0; pass < 2; pass++) {
		ddl_parse(copy, size, pass == 0 ? "d" : NULL, &st);
		for (i = 0; i < st.ntables; i++) {
			if (st.tables[i].db == NULL || st.tables[i].table ==
			    NULL || strlen(st.tables[i].table) > size)
				abort();
		}
		ddl_stmt_free(&st);
	}
	free(copy);
	return (0);
}
