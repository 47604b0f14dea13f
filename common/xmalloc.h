/*
 * Allocation that never fails.  ferry is an application: running out of
 * memory is fatal, reported once, and no caller checks for NULL.
 */
#ifndef FERRY_COMMON_XMALLOC_H
#define FERRY_COMMON_XMALLOC_H

#include <stdarg.h>
#include <stddef.h>

void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xrealloc(void *, size_t);
void	*xreallocarray(void *, size_t, size_t);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);
void	*xmemdup(const void *, size_t);
char	*xasprintf(const char *, ...) __attribute__((format(printf, 1, 2)));
char	*xvasprintf(const char *, va_list) __attribute__((format(printf, 1, 0)));

/* Zero len bytes in a way the compiler cannot drop (secrets). */
void	 xzero(void *, size_t);
/* Zero a string's bytes, then free it; NULL is a no-op. */
void	 xfree_secret(char *);

#endif
