/*
 * Growable byte buffers (see buf.h for the invariants).
 *
 * Capacity counts the trailing NUL: cap > len whenever data != NULL, which is
 * why buf_reserve() grows when the free room is <= n rather than < n.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/buf.h"
#include "common/log.h"
#include "common/xmalloc.h"

#define BUF_MIN_CAP	64

void
buf_init(struct buf *b)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

/* Free the memory; the buffer is empty and usable again afterwards. */
void
buf_release(struct buf *b)
{
	free(b->data);
	buf_init(b);
}

/*
 * Grow so that n more bytes and the NUL fit.  Called through buf_reserve()
 * only when they do not.  A request that cannot be represented is a bug in
 * the caller (no input can legitimately need SIZE_MAX bytes).
 */
void
buf_grow(struct buf *b, size_t n)
{
	size_t	 want, cap;

	if (n > SIZE_MAX - b->len - 1)
		fatalx("%s: size overflow (%zu + %zu)", __func__, b->len, n);
	want = b->len + n + 1;
	cap = b->cap < BUF_MIN_CAP ? BUF_MIN_CAP : b->cap;
	while (cap < want)
		cap = cap > SIZE_MAX / 2 ? want : cap * 2;
	b->data = xrealloc(b->data, cap);
	b->cap = cap;
	b->data[b->len] = '\0';
}

void
buf_adds(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

void
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	buf_vprintf(b, fmt, ap);
	va_end(ap);
}

void
buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list	 ap2;
	int	 n;

	/* Try in the room there is; most calls fit and format only once. */
	buf_reserve(b, 64);
	va_copy(ap2, ap);
	n = vsnprintf((char *)b->data + b->len, b->cap - b->len, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		fatalx("%s: vsnprintf failed", __func__);
	if ((size_t)n >= b->cap - b->len) {
		buf_reserve(b, (size_t)n);
		va_copy(ap2, ap);
		n = vsnprintf((char *)b->data + b->len, b->cap - b->len, fmt,
		    ap2);
		va_end(ap2);
		if (n < 0 || (size_t)n >= b->cap - b->len)
			fatalx("%s: vsnprintf failed", __func__);
	}
	b->len += (size_t)n;
}

/* Shorten to len bytes; a len beyond the end is a bug. */
void
buf_truncate(struct buf *b, size_t len)
{
	if (len > b->len)
		fatalx("%s: %zu beyond length %zu", __func__, len, b->len);
	b->len = len;
	if (b->data != NULL)
		b->data[len] = '\0';
}

/*
 * Returns the contents as a new NUL-terminated allocation (free with
 * free()) and its length in *lenp when lenp is not NULL; the buffer is left
 * empty.  An empty buffer yields an empty string, never NULL.
 */
void *
buf_detach(struct buf *b, size_t *lenp)
{
	void	*p;

	if (b->data == NULL)
		buf_reserve(b, 0);
	p = b->data;
	if (lenp != NULL)
		*lenp = b->len;
	buf_init(b);
	return (p);
}

/* The contents as a C string, borrowed until the next change to b. */
const char *
buf_str(struct buf *b)
{
	if (b->data == NULL)
		buf_reserve(b, 0);
	return ((const char *)b->data);
}
