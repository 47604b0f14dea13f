/*
 * Small utilities everything needs: bounded string copy, number parsing with
 * a reason on failure, whole-file and secret-file reading, clocks.
 */
#ifndef FERRY_COMMON_UTIL_H
#define FERRY_COMMON_UTIL_H

#include <stddef.h>
#include <stdint.h>

struct buf;
struct timespec;

#define nitems(a)	(sizeof (a) / sizeof (a)[0])

size_t	 util_strlcpy(char *, const char *, size_t);
int	 util_parse_u64(const char *, uint64_t, uint64_t, uint64_t *,
	    char **);
int	 util_read_file(const char *, size_t, struct buf *, char **);
int	 util_read_secret_file(const char *, char **, char **);
int	 util_read_secret_env(const char *, char **, char **);
size_t	 util_fmt_i64(char *, int64_t);
int	 util_parse_double(const char *, size_t, double *);
uint64_t util_mono_us(void);
uint64_t util_wall_us(void);
void	 util_deadline(struct timespec *, int);

#endif
