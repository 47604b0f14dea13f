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

/* The varint of v at p, which has room for 10 bytes; returns the end. */
static inline uint8_t *
avro_put_long(uint8_t *p, int64_t v)
{
	uint64_t	 z = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);

	while (z >= 0x80) {
		*p++ = (uint8_t)(z | 0x80);
		z >>= 7;
	}
	*p++ = (uint8_t)z;
	return (p);
}

/*
 * These append to b without the trailing NUL that buf functions keep:
 * an encoder calls avro_end() when the datum is complete.
 */
static inline void
avro_long(struct buf *b, int64_t v)
{
	buf_reserve(b, 10);
	b->len = (size_t)(avro_put_long(b->data + b->len, v) - b->data);
}

static inline void
avro_int(struct buf *b, int32_t v)
{
	avro_long(b, v);
}

static inline void
avro_bytes(struct buf *b, const void *p, size_t len)
{
	uint8_t	*w;

	buf_reserve(b, len + 10);
	w = avro_put_long(b->data + b->len, (int64_t)len);
	if (len != 0)
		memcpy(w, p, len);
	b->len = (size_t)(w + len - b->data);
}

static inline void
avro_end(struct buf *b)
{
	buf_reserve(b, 0);
	b->data[b->len] = '\0';
}

/*
 * A writer for hot paths: a cursor into the buffer's spare room, checked
 * against a local end, so that writing a value costs a compare and stores
 * rather than a trip through the buffer's fields.  aw_begin() takes the
 * buffer, aw_finish() gives it back with its length and NUL set; between
 * the two, write to the buffer only through the writer.
 */
struct avro_w {
	uint8_t		*p;
	uint8_t		*end;		/* one before the NUL's byte */
	struct buf	*b;
};

static inline void
aw_begin(struct avro_w *w, struct buf *b, size_t hint)
{
	buf_reserve(b, hint);
	w->b = b;
	w->p = b->data + b->len;
	w->end = b->data + b->cap - 1;
}

static inline void
aw_finish(struct avro_w *w)
{
	w->b->len = (size_t)(w->p - w->b->data);
	w->b->data[w->b->len] = '\0';
}

static inline void
aw_grow(struct avro_w *w, size_t n)
{
	aw_finish(w);
	aw_begin(w, w->b, n + 4096);
}

static inline void
aw_need(struct avro_w *w, size_t n)
{
	if ((size_t)(w->end - w->p) < n)
		aw_grow(w, n);
}

static inline void
aw_long(struct avro_w *w, int64_t v)
{
	aw_need(w, 10);
	w->p = avro_put_long(w->p, v);
}

static inline void
aw_bytes(struct avro_w *w, const void *p, size_t len)
{
	aw_need(w, len + 10);
	w->p = avro_put_long(w->p, (int64_t)len);
	memcpy(w->p, p, len);
	w->p += len;
}

static inline void
aw_string(struct avro_w *w, const char *s)
{
	aw_bytes(w, s, strlen(s));
}

static inline void
aw_double(struct avro_w *w, double d)
{
	uint64_t	 u;
	int		 i;

	memcpy(&u, &d, 8);
	aw_need(w, 8);
	for (i = 0; i < 8; i++)
		*w->p++ = (uint8_t)(u >> (8 * i));
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
		b->data[b->len + (size_t)i] = (uint8_t)(u >> (8 * i));
	b->len += 8;
}

#endif
