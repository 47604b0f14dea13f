/*
 * Avro binary encoding, the few primitives a hand-written encoder needs:
 * zig-zag varints for int and long, length-prefixed bytes and strings,
 * doubles little-endian.  Unions are a long (the branch index) and the
 * branch; arrays and maps one block of n items and a 0.
 */
#ifndef FERRY_SCHEMA_AVRO_H
#define FERRY_SCHEMA_AVRO_H

#include <stdint.h>
#include <string.h>

#include "common/buf.h"

static inline void
avro_long(struct buf *b, int64_t v)
{
	uint64_t	 z = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);

	buf_reserve(b, 10);
	while (z >= 0x80) {
		b->data[b->len++] = (uint8_t)(z | 0x80);
		z >>= 7;
	}
	b->data[b->len++] = (uint8_t)z;
	b->data[b->len] = '\0';
}

static inline void
avro_int(struct buf *b, int32_t v)
{
	avro_long(b, v);
}

static inline void
avro_bytes(struct buf *b, const void *p, size_t len)
{
	avro_long(b, (int64_t)len);
	buf_add(b, p, len);
}

static inline void
avro_string(struct buf *b, const char *s)
{
	avro_bytes(b, s, strlen(s));
}

static inline void
avro_double(struct buf *b, double d)
{
	uint64_t	 u;
	int		 i;

	memcpy(&u, &d, 8);
	buf_reserve(b, 8);
	for (i = 0; i < 8; i++)
		b->data[b->len++] = (uint8_t)(u >> (8 * i));
	b->data[b->len] = '\0';
}

#endif
