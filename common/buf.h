/*
 * A growable byte buffer.
 *
 * The bytes are data[0..len); data[len] is always a NUL (when data is not
 * NULL), so a buffer holding text can be used as a C string without copying.
 * Growth doubles the capacity, so n appends cost O(n) amortized, and memory
 * is kept across buf_reset() so that a buffer reused per record or per event
 * stops allocating once it has seen the largest one.  A buffer has no cap of
 * its own: whoever fills it from outside input bounds what it accepts.
 */
#ifndef FERRY_COMMON_BUF_H
#define FERRY_COMMON_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct buf {
	unsigned char	*data;
	size_t		 len;
	size_t		 cap;
};

#define BUF_INITIALIZER { NULL, 0, 0 }

void	 buf_init(struct buf *);
void	 buf_release(struct buf *);
void	 buf_grow(struct buf *, size_t);
void	 buf_adds(struct buf *, const char *);
void	 buf_printf(struct buf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	 buf_vprintf(struct buf *, const char *, va_list)
	    __attribute__((format(printf, 2, 0)));
void	 buf_truncate(struct buf *, size_t);
void	*buf_detach(struct buf *, size_t *);
const char *buf_str(struct buf *);

/* Make room for at least n more bytes without changing len. */
static inline void
buf_reserve(struct buf *b, size_t n)
{
	if (b->cap - b->len <= n)
		buf_grow(b, n);
}

/* Forget the contents, keep the memory. */
static inline void
buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

static inline void
buf_add(struct buf *b, const void *p, size_t n)
{
	buf_reserve(b, n);
	if (n != 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

static inline void
buf_addc(struct buf *b, unsigned char c)
{
	buf_reserve(b, 1);
	b->data[b->len++] = c;
	b->data[b->len] = '\0';
}

#endif
