/*
 * Reading binary data that came from outside: a bounds-checked cursor and
 * unaligned integer loads.
 *
 * Every read from a struct cursor checks the remaining length first and
 * fails (returns -1, moves nothing) when the bytes are not there; the caller
 * turns that into an error naming the offset (cursor_offset()).  Nothing in
 * this file allocates.  The loads (le16() ...) do not check: use them only
 * on bytes already known to be there.
 */
#ifndef FERRY_COMMON_BYTES_H
#define FERRY_COMMON_BYTES_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct cursor {
	const uint8_t	*p;	/* next byte */
	const uint8_t	*end;	/* one past the last byte */
	const uint8_t	*base;	/* start, for offsets in messages */
};

static inline uint16_t
le16(const uint8_t *p)
{
	return ((uint16_t)(p[0] | (p[1] << 8)));
}

static inline uint32_t
le24(const uint8_t *p)
{
	return ((uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16));
}

static inline uint32_t
le32(const uint8_t *p)
{
	return ((uint32_t)p[0] | ((uint32_t)p[1] << 8) |
	    ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24));
}

static inline uint64_t
le48(const uint8_t *p)
{
	return ((uint64_t)le32(p) | ((uint64_t)le16(p + 4) << 32));
}

static inline uint64_t
le64(const uint8_t *p)
{
	return ((uint64_t)le32(p) | ((uint64_t)le32(p + 4) << 32));
}

/* Big-endian loads of n bytes (1..8), for DECIMAL and temporal types. */
static inline uint64_t
beN(const uint8_t *p, size_t n)
{
	uint64_t	 v = 0;
	size_t		 i;

	for (i = 0; i < n; i++)
		v = (v << 8) | p[i];
	return (v);
}

/* Little-endian load of n bytes (1..8). */
static inline uint64_t
leN(const uint8_t *p, size_t n)
{
	uint64_t	 v = 0;

	while (n-- > 0)
		v = (v << 8) | p[n];
	return (v);
}

static inline void
put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void
put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static inline void
put_le64(uint8_t *p, uint64_t v)
{
	put_le32(p, (uint32_t)v);
	put_le32(p + 4, (uint32_t)(v >> 32));
}

static inline void
cursor_init(struct cursor *c, const void *p, size_t len)
{
	c->base = c->p = p;
	c->end = c->p + len;
}

static inline size_t
cursor_left(const struct cursor *c)
{
	return ((size_t)(c->end - c->p));
}

static inline size_t
cursor_offset(const struct cursor *c)
{
	return ((size_t)(c->p - c->base));
}

static inline int
cursor_skip(struct cursor *c, size_t n)
{
	if (cursor_left(c) < n)
		return (-1);
	c->p += n;
	return (0);
}

/* Borrow n bytes: *out points into the cursor's buffer. */
static inline int
cursor_bytes(struct cursor *c, size_t n, const uint8_t **out)
{
	if (cursor_left(c) < n)
		return (-1);
	*out = c->p;
	c->p += n;
	return (0);
}

static inline int
cursor_u8(struct cursor *c, uint8_t *v)
{
	if (cursor_left(c) < 1)
		return (-1);
	*v = *c->p++;
	return (0);
}

static inline int
cursor_u16(struct cursor *c, uint16_t *v)
{
	if (cursor_left(c) < 2)
		return (-1);
	*v = le16(c->p);
	c->p += 2;
	return (0);
}

static inline int
cursor_u24(struct cursor *c, uint32_t *v)
{
	if (cursor_left(c) < 3)
		return (-1);
	*v = le24(c->p);
	c->p += 3;
	return (0);
}

static inline int
cursor_u32(struct cursor *c, uint32_t *v)
{
	if (cursor_left(c) < 4)
		return (-1);
	*v = le32(c->p);
	c->p += 4;
	return (0);
}

static inline int
cursor_u48(struct cursor *c, uint64_t *v)
{
	if (cursor_left(c) < 6)
		return (-1);
	*v = le48(c->p);
	c->p += 6;
	return (0);
}

static inline int
cursor_u64(struct cursor *c, uint64_t *v)
{
	if (cursor_left(c) < 8)
		return (-1);
	*v = le64(c->p);
	c->p += 8;
	return (0);
}

/*
 * MySQL's length-encoded integer: < 0xfb in one byte, 0xfc + 2 bytes,
 * 0xfd + 3, 0xfe + 8.  0xfb (NULL in result sets) and 0xff are refused.
 */
static inline int
cursor_lenenc(struct cursor *c, uint64_t *v)
{
	uint8_t		 b;
	uint16_t	 v16;
	uint32_t	 v24;

	if (cursor_u8(c, &b) != 0)
		return (-1);
	if (b < 0xfb) {
		*v = b;
		return (0);
	}
	switch (b) {
	case 0xfc:
		if (cursor_u16(c, &v16) != 0)
			break;
		*v = v16;
		return (0);
	case 0xfd:
		if (cursor_u24(c, &v24) != 0)
			break;
		*v = v24;
		return (0);
	case 0xfe:
		if (cursor_u64(c, v) != 0)
			break;
		return (0);
	}
	c->p--;
	return (-1);
}

/* A length-encoded string, borrowed. */
static inline int
cursor_lenenc_bytes(struct cursor *c, const uint8_t **out, size_t *len)
{
	const uint8_t	*save = c->p;
	uint64_t	 n;

	if (cursor_lenenc(c, &n) != 0)
		return (-1);
	if (n > cursor_left(c)) {
		c->p = save;
		return (-1);
	}
	*len = (size_t)n;
	*out = c->p;
	c->p += n;
	return (0);
}

#endif
