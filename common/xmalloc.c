/*
 * The xmalloc family.  Each function either returns what was asked for or
 * ends the process with "out of memory" and the size requested; there is no
 * error path for callers to get wrong.  Zero-size requests return a unique
 * pointer (never NULL) so that callers need no special case.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/xmalloc.h"

void *
xmalloc(size_t size)
{
	void	*p;

	if (size == 0)
		size = 1;
	if ((p = malloc(size)) == NULL)
		fatalx("out of memory (allocating %zu bytes)", size);
	return (p);
}

void *
xcalloc(size_t nmemb, size_t size)
{
	void	*p;

	if (nmemb == 0 || size == 0)
		nmemb = size = 1;
	if ((p = calloc(nmemb, size)) == NULL)
		fatalx("out of memory (allocating %zu x %zu bytes)", nmemb, size);
	return (p);
}

void *
xrealloc(void *ptr, size_t size)
{
	return (xreallocarray(ptr, 1, size));
}

void *
xreallocarray(void *ptr, size_t nmemb, size_t size)
{
	void	*p;
	size_t	 total;

	if (nmemb == 0 || size == 0)
		nmemb = size = 1;
	if (size > SIZE_MAX / nmemb)
		fatalx("size overflow (allocating %zu x %zu bytes)", nmemb, size);
	total = nmemb * size;
	if ((p = realloc(ptr, total)) == NULL)
		fatalx("out of memory (allocating %zu bytes)", total);
	return (p);
}

char *
xstrdup(const char *s)
{
	return (xmemdup(s, strlen(s) + 1));
}

char *
xstrndup(const char *s, size_t maxlen)
{
	size_t	 len;
	char	*p;

	len = strnlen(s, maxlen);
	p = xmalloc(len + 1);
	memcpy(p, s, len);
	p[len] = '\0';
	return (p);
}

void *
xmemdup(const void *src, size_t len)
{
	void	*p;

	p = xmalloc(len);
	if (len != 0)
		memcpy(p, src, len);
	return (p);
}

char *
xasprintf(const char *fmt, ...)
{
	va_list	 ap;
	char	*s;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	return (s);
}

char *
xvasprintf(const char *fmt, va_list ap)
{
	char	*s;

	if (vasprintf(&s, fmt, ap) == -1)
		fatalx("out of memory (formatting a string)");
	return (s);
}

void
xzero(void *p, size_t len)
{
#ifdef HAVE_EXPLICIT_BZERO
	explicit_bzero(p, len);
#else
	volatile unsigned char	*v = p;

	while (len-- > 0)
		*v++ = 0;
#endif
}

void
xfree_secret(char *s)
{
	if (s == NULL)
		return;
	xzero(s, strlen(s));
	free(s);
}
