/*
 * Small utilities.  Each reports failure the ferry way: -1 and a sentence in
 * *cause (allocated; the caller frees it) that can go to the user as is.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/log.h"
#include "common/util.h"
#include "common/xmalloc.h"

/* The largest secret a password file may hold. */
#define UTIL_SECRET_MAX	4096

/* Copy src into dst of size dsize, always NUL-terminated; returns strlen(src). */
size_t
util_strlcpy(char *dst, const char *src, size_t dsize)
{
	size_t	 len = strlen(src);

	if (dsize != 0) {
		size_t n = len < dsize - 1 ? len : dsize - 1;

		memcpy(dst, src, n);
		dst[n] = '\0';
	}
	return (len);
}

/*
 * Parse s as a decimal integer in [min, max].  Only digits are accepted: no
 * sign, no space, no base prefix, no suffix.
 */
int
util_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out,
    char **cause)
{
	uint64_t	 v = 0;
	const char	*p;

	if (*s == '\0') {
		*cause = xstrdup("empty number");
		return (-1);
	}
	for (p = s; *p != '\0'; p++) {
		if (*p < '0' || *p > '9') {
			*cause = xasprintf("'%s' is not a number", s);
			return (-1);
		}
		if (v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10) {
			*cause = xasprintf("%s is too large (at most %" PRIu64
			    ")", s, max);
			return (-1);
		}
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (v < min || v > max) {
		*cause = xasprintf("%s is out of range (%" PRIu64 " to %"
		    PRIu64 ")", s, min, max);
		return (-1);
	}
	*out = v;
	return (0);
}

/*
 * Append the whole file at path to b.  A file larger than max bytes is
 * refused rather than truncated.
 */
int
util_read_file(const char *path, size_t max, struct buf *b, char **cause)
{
	unsigned char	 tmp[65536];
	size_t		 start = b->len;
	ssize_t		 n;
	int		 fd;

	if ((fd = open(path, O_RDONLY|O_CLOEXEC)) == -1) {
		*cause = xasprintf("cannot open %s: %s", path, strerror(errno));
		return (-1);
	}
	for (;;) {
		n = read(fd, tmp, sizeof tmp);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			*cause = xasprintf("cannot read %s: %s", path,
			    strerror(errno));
			goto fail;
		}
		if (n == 0)
			break;
		if (b->len - start + (size_t)n > max) {
			*cause = xasprintf("%s is larger than %zu bytes", path,
			    max);
			goto fail;
		}
		buf_add(b, tmp, (size_t)n);
	}
	close(fd);
	return (0);
fail:
	xzero(tmp, sizeof tmp);
	buf_truncate(b, start);
	close(fd);
	return (-1);
}

/* Strip one trailing "\n" or "\r\n": editors add it, passwords never end so. */
static void
util_chomp(char *s)
{
	size_t	 len = strlen(s);

	if (len > 0 && s[len - 1] == '\n')
		s[--len] = '\0';
	if (len > 0 && s[len - 1] == '\r')
		s[--len] = '\0';
}

/*
 * Read a password from a file: the whole content, less one trailing newline.
 * An empty file is an empty password.  Returns a new string in *secret (free
 * with xfree_secret()), registered with the logger so that it can never be
 * printed.
 */
int
util_read_secret_file(const char *path, char **secret, char **cause)
{
	struct buf	 b = BUF_INITIALIZER;
	char		*s;

	if (util_read_file(path, UTIL_SECRET_MAX, &b, cause) != 0) {
		buf_release(&b);
		return (-1);
	}
	if (memchr(b.data != NULL ? b.data : (unsigned char *)"", '\0',
	    b.len) != NULL) {
		*cause = xasprintf("password file %s holds a NUL byte", path);
		xzero(b.data, b.len);
		buf_release(&b);
		return (-1);
	}
	s = buf_detach(&b, NULL);
	util_chomp(s);
	log_add_secret(s);
	*secret = s;
	return (0);
}

/* Read a password from the environment variable name; as above. */
int
util_read_secret_env(const char *name, char **secret, char **cause)
{
	const char	*v;

	if ((v = getenv(name)) == NULL) {
		*cause = xasprintf("environment variable %s is not set", name);
		return (-1);
	}
	if (strlen(v) > UTIL_SECRET_MAX) {
		*cause = xasprintf("environment variable %s is longer than %d "
		    "bytes", name, UTIL_SECRET_MAX);
		return (-1);
	}
	*secret = xstrdup(v);
	log_add_secret(*secret);
	return (0);
}

/* Microseconds on the monotonic clock (intervals, timeouts). */
uint64_t
util_mono_us(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000);
}

/* The CLOCK_REALTIME instant ms from now (pthread_cond_timedwait()). */
void
util_deadline(struct timespec *ts, int ms)
{
	uint64_t	 ns;

	clock_gettime(CLOCK_REALTIME, ts);
	ns = (uint64_t)ts->tv_nsec + (uint64_t)(ms > 0 ? ms : 0) * 1000000;
	ts->tv_sec += (time_t)(ns / 1000000000);
	ts->tv_nsec = (long)(ns % 1000000000);
}

/*
 * v in decimal at out (at least 21 bytes), NUL-terminated; returns its
 * length.  What the hot paths use instead of snprintf.
 */
size_t
util_fmt_i64(char *out, int64_t v)
{
	char		 tmp[20];
	uint64_t	 u = v < 0 ? -(uint64_t)v : (uint64_t)v;
	size_t		 n = 0, len = 0;

	do {
		tmp[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (v < 0)
		out[len++] = '-';
	while (n > 0)
		out[len++] = tmp[--n];
	out[len] = '\0';
	return (len);
}

/*
 * The decimal number s[0..len) ("-12.5", "3e-7": what a server prints for
 * a DOUBLE) as a double, rounded as strtod rounds it.  Short numbers take
 * the exact path: a significand of at most 15 digits and a power of ten
 * up to 22 are both exact doubles, so one IEEE multiplication or division
 * rounds their product correctly (Clinger, 1990).  Anything else, strtod.
 * -1 when s is not a number.
 */
int
util_parse_double(const char *s, size_t len, double *out)
{
	static const double	 p10[] = { 1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6,
	    1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17,
	    1e18, 1e19, 1e20, 1e21, 1e22 };
	char			 tmp[64], *end;
	const char		*p = s, *e = s + len;
	uint64_t		 m = 0;
	int64_t			 x = 0, ev = 0;
	int			 neg = 0, eneg = 0, digits = 0, any = 0;
	double			 d;

	if (p < e && (*p == '-' || *p == '+'))
		neg = *p++ == '-';
	for (; p < e && *p >= '0' && *p <= '9'; p++, any = 1) {
		if (m == 0 && *p == '0')
			continue;		/* leading zeros */
		if (++digits <= 19)
			m = m * 10 + (uint64_t)(*p - '0');
		else
			x++;
	}
	if (p < e && *p == '.') {
		for (p++; p < e && *p >= '0' && *p <= '9'; p++, any = 1) {
			if (m == 0 && *p == '0') {
				x--;
				continue;
			}
			if (++digits <= 19) {
				m = m * 10 + (uint64_t)(*p - '0');
				x--;
			}
		}
	}
	if (!any)
		goto slow;
	if (p < e && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < e && (*p == '-' || *p == '+'))
			eneg = *p++ == '-';
		if (p == e || *p < '0' || *p > '9')
			goto slow;
		for (; p < e && *p >= '0' && *p <= '9'; p++)
			if (ev < 100000)
				ev = ev * 10 + (*p - '0');
	}
	if (p != e)
		goto slow;
	x += eneg ? -ev : ev;
	if (m == 0) {
		*out = neg ? -0.0 : 0.0;
		return (0);
	}
#if FLT_EVAL_METHOD == 0	/* each operation rounded to double */
	if (digits <= 15 && x >= -22 && x <= 22) {
		d = (double)m;
		d = x >= 0 ? d * p10[x] : d / p10[-x];
		*out = neg ? -d : d;
		return (0);
	}
#endif
slow:
	if (len == 0 || len >= sizeof tmp)
		return (-1);
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	*out = strtod(tmp, &end);
	return (*end == '\0' ? 0 : -1);
}

/* Microseconds since the epoch (timestamps a person reads). */
uint64_t
util_wall_us(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000);
}
