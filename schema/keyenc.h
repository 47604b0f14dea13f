/*
 * Row keys as memcmp-sortable byte strings (schema/keyenc.c).
 */
#ifndef FERRY_SCHEMA_KEYENC_H
#define FERRY_SCHEMA_KEYENC_H

#include <stdint.h>

struct buf;
struct table_def;
struct value;

int	 keyenc_supported(const struct table_def *, const uint32_t *, uint32_t);
int	 keyenc(const struct table_def *, const uint32_t *, uint32_t,
	    const struct value *, struct buf *);

#endif
