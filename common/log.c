/*
 * Logging.
 *
 * One process-wide destination (stderr until log_open() names a file), one
 * level, one list of secrets, all under one mutex: reader threads and the
 * event loop log concurrently, and a line is formatted, redacted and written
 * whole while the mutex is held, so lines never interleave.
 *
 * Line format (UTC, milliseconds):
 *	2026-11-25T20:15:39.123Z ferry[1234] WARN: message
 *
 * Redaction is deliberately greedy: a false positive costs a "***" in a log
 * line, a false negative costs a customer's password.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/log.h"
#include "common/xmalloc.h"

#define LOG_MASK	"***"
#define LOG_MAX_SECRETS	256

static pthread_mutex_t	 log_mtx = PTHREAD_MUTEX_INITIALIZER;
static enum log_level	 log_level = LOG_LEVEL_INFO;
static char		*log_name;		/* program name in each line */
static char		*log_path;		/* NULL: stderr */
static FILE		*log_fp;		/* NULL: stderr */
static char		*log_secrets[LOG_MAX_SECRETS];
static size_t		 log_nsecrets;
static __thread int	 log_busy;		/* this thread is in log_vlog() */

static const char *log_level_names[] = { "ERROR", "WARN", "INFO", "DEBUG" };

static FILE *
log_fopen(const char *path, char **cause)
{
	FILE	*fp;
	int	 fd;

	/* Logs may quote SQL and hostnames: not for other users' eyes. */
	fd = open(path, O_WRONLY|O_CREAT|O_APPEND|O_CLOEXEC, 0600);
	if (fd == -1) {
		if (cause != NULL)
			*cause = xasprintf("cannot open log file %s: %s", path,
			    strerror(errno));
		return (NULL);
	}
	if ((fp = fdopen(fd, "a")) == NULL) {
		if (cause != NULL)
			*cause = xasprintf("cannot open log file %s: %s", path,
			    strerror(errno));
		close(fd);
		return (NULL);
	}
	setvbuf(fp, NULL, _IOLBF, 0);
	return (fp);
}

/*
 * Log as name at level to path (NULL: stderr).  Returns 0, or -1 with
 * *cause set (free it) when the file cannot be opened; the destination is
 * then unchanged.
 */
int
log_open(const char *name, enum log_level level, const char *path,
    char **cause)
{
	FILE	*fp = NULL;

	if (path != NULL && (fp = log_fopen(path, cause)) == NULL)
		return (-1);
	pthread_mutex_lock(&log_mtx);
	if (log_fp != NULL)
		fclose(log_fp);
	free(log_name);
	free(log_path);
	log_name = xstrdup(name);
	log_path = path != NULL ? xstrdup(path) : NULL;
	log_fp = fp;
	log_level = level;
	pthread_mutex_unlock(&log_mtx);
	return (0);
}

/*
 * Reopen the log file under the same name (after a rotation; SIGHUP).
 * Nothing is lost if that fails: the old file stays open.
 */
int
log_reopen(char **cause)
{
	FILE	*fp;
	char	*path;
	int	 rc = 0;

	pthread_mutex_lock(&log_mtx);
	path = log_path != NULL ? xstrdup(log_path) : NULL;
	pthread_mutex_unlock(&log_mtx);
	if (path == NULL)
		return (0);
	if ((fp = log_fopen(path, cause)) == NULL)
		rc = -1;
	else {
		pthread_mutex_lock(&log_mtx);
		if (log_fp != NULL)
			fclose(log_fp);
		log_fp = fp;
		pthread_mutex_unlock(&log_mtx);
	}
	free(path);
	return (rc);
}

void
log_close(void)
{
	pthread_mutex_lock(&log_mtx);
	if (log_fp != NULL)
		fclose(log_fp);
	log_fp = NULL;
	free(log_path);
	log_path = NULL;
	free(log_name);
	log_name = NULL;
	pthread_mutex_unlock(&log_mtx);
	log_clear_secrets();
}

void
log_set_level(enum log_level level)
{
	pthread_mutex_lock(&log_mtx);
	log_level = level;
	pthread_mutex_unlock(&log_mtx);
}

enum log_level
log_get_level(void)
{
	enum log_level	 level;

	pthread_mutex_lock(&log_mtx);
	level = log_level;
	pthread_mutex_unlock(&log_mtx);
	return (level);
}

/* "error", "warn", "info" or "debug", any case.  Returns 0 or -1. */
int
log_parse_level(const char *s, enum log_level *level)
{
	size_t	 i;

	for (i = 0; i < sizeof log_level_names / sizeof log_level_names[0];
	    i++) {
		if (strcasecmp(s, log_level_names[i]) == 0) {
			*level = (enum log_level)i;
			return (0);
		}
	}
	if (strcasecmp(s, "warning") == 0) {
		*level = LOG_LEVEL_WARN;
		return (0);
	}
	return (-1);
}

/*
 * From now on, mask s wherever it appears in a log line or in text passed
 * to log_redact().  The string is copied.  Empty strings are ignored; past
 * LOG_MAX_SECRETS registrations the oldest is kept and the new one is still
 * masked by the pattern rules only, which is why callers register only
 * passwords, not every token.
 */
void
log_add_secret(const char *s)
{
	size_t	 i;

	if (s == NULL || *s == '\0')
		return;
	pthread_mutex_lock(&log_mtx);
	for (i = 0; i < log_nsecrets; i++) {
		if (strcmp(log_secrets[i], s) == 0)
			goto out;
	}
	if (log_nsecrets < LOG_MAX_SECRETS)
		log_secrets[log_nsecrets++] = xstrdup(s);
out:
	pthread_mutex_unlock(&log_mtx);
}

void
log_clear_secrets(void)
{
	size_t	 i;

	pthread_mutex_lock(&log_mtx);
	for (i = 0; i < log_nsecrets; i++)
		xfree_secret(log_secrets[i]);
	log_nsecrets = 0;
	pthread_mutex_unlock(&log_mtx);
}

/* A character that ends an unquoted password value. */
static int
log_value_end(int c)
{
	return (c == '\0' || isspace(c) || c == ',' || c == ';' || c == '&' ||
	    c == '"' || c == '\'' || c == ')' || c == '}');
}

/*
 * If the text at s + i starts a "key=value" or "key: value" whose key ends in
 * "password", "passwd", "secret" or "pwd" (any case, any prefix such as
 * "sasl."), return the offset of the value, else 0.
 */
static size_t
log_match_key(const char *s, size_t i)
{
	static const char	*keys[] = { "password", "passwd", "secret",
	    "pwd" };
	size_t			 k, n, j;

	for (k = 0; k < sizeof keys / sizeof keys[0]; k++) {
		n = strlen(keys[k]);
		if (strncasecmp(s + i, keys[k], n) != 0)
			continue;
		j = i + n;
		if (s[j] == '"' || s[j] == '\'')
			j++;
		while (s[j] == ' ')
			j++;
		if (s[j] != '=' && s[j] != ':')
			continue;
		j++;
		while (s[j] == ' ')
			j++;
		if (s[j] == '"' || s[j] == '\'')
			j++;
		return (j);
	}
	return (0);
}

/*
 * Mask secrets in b, in place: registered secrets, the password of URL
 * userinfo ("scheme://user:password@"), key=value and key: value pairs whose
 * key names a password, and SQL "IDENTIFIED BY '...'".
 */
void
log_redact(struct buf *b)
{
	struct buf	 out = BUF_INITIALIZER;
	const char	*s, *at, *colon;
	size_t		 i, j, k, n;
	int		 hit;

	if (b->len == 0)
		return;
	s = buf_str(b);

	/* Pass 1: pattern rules. */
	for (i = 0; s[i] != '\0';) {
		/* scheme://user:password@host */
		if (s[i] == ':' && s[i + 1] == '/' && s[i + 2] == '/') {
			j = i + 3;
			n = strcspn(s + j, "/@ \t\n");
			at = s[j + n] == '@' ? s + j + n : NULL;
			colon = at != NULL ? memchr(s + j, ':', n) : NULL;
			if (colon != NULL) {
				buf_add(&out, s + i, (size_t)(colon - s) + 1 - i);
				buf_adds(&out, LOG_MASK);
				i = (size_t)(at - s);
				continue;
			}
		}
		/*
		 * MySQL's "(using password: YES)" says whether a password
		 * was sent, which is worth keeping and is not a secret.
		 */
		if ((j = log_match_key(s, i)) != 0 &&
		    !(i >= 6 && strncasecmp(s + i - 6, "using ", 6) == 0)) {
			k = j;
			while (!log_value_end((unsigned char)s[k]))
				k++;
			if (k > j) {
				buf_add(&out, s + i, j - i);
				buf_adds(&out, LOG_MASK);
				i = k;
				continue;
			}
		}
		if (strncasecmp(s + i, "identified by ", 14) == 0 &&
		    (s[i + 14] == '\'' || s[i + 14] == '"')) {
			j = i + 15;
			k = j;
			while (s[k] != '\0' && s[k] != s[i + 14])
				k++;
			buf_add(&out, s + i, j - i);
			buf_adds(&out, LOG_MASK);
			i = k;
			continue;
		}
		buf_addc(&out, (unsigned char)s[i]);
		i++;
	}

	/* Pass 2: registered secrets, wherever they appear. */
	pthread_mutex_lock(&log_mtx);
	for (k = 0; k < log_nsecrets; k++) {
		n = strlen(log_secrets[k]);
		hit = 0;
		buf_reset(b);
		s = buf_str(&out);
		for (i = 0; s[i] != '\0';) {
			if (strncmp(s + i, log_secrets[k], n) == 0) {
				buf_adds(b, LOG_MASK);
				i += n;
				hit = 1;
			} else
				buf_addc(b, (unsigned char)s[i++]);
		}
		if (hit) {
			buf_reset(&out);
			buf_add(&out, b->data, b->len);
		}
	}
	pthread_mutex_unlock(&log_mtx);

	buf_reset(b);
	buf_add(b, out.data, out.len);
	buf_release(&out);
}

/*
 * The path for a line logged while this thread is already inside log_vlog():
 * only allocation failure gets here (xmalloc -> fatalx while a line was being
 * built), with a message from ferry's own code that holds no secret.  It
 * allocates nothing and takes the mutex only if it is free, because this
 * thread may hold it.
 */
static void __attribute__((format(printf, 4, 0)))
log_vlog_raw(const char *stamp, long nsec, enum log_level level,
    const char *fmt, va_list ap)
{
	char	 msg[1024];
	FILE	*fp;
	int	 locked;

	vsnprintf(msg, sizeof msg, fmt, ap);
	locked = pthread_mutex_trylock(&log_mtx) == 0;
	fp = log_fp != NULL ? log_fp : stderr;
	fprintf(fp, "%s.%03ldZ %s[%ld] %s: %s\n", stamp, nsec / 1000000,
	    log_name != NULL ? log_name : "ferry", (long)getpid(),
	    log_level_names[level], msg);
	fflush(fp);
	if (locked)
		pthread_mutex_unlock(&log_mtx);
}

void
log_vlog(enum log_level level, const char *fmt, va_list ap)
{
	struct buf	 line = BUF_INITIALIZER;
	struct timespec	 ts;
	struct tm	 tm;
	char		 stamp[32];
	FILE		*fp;
	int		 saved_errno = errno;

	if (level > log_get_level())
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);

	if (log_busy) {
		log_vlog_raw(stamp, ts.tv_nsec, level, fmt, ap);
		return;
	}
	log_busy = 1;
	buf_vprintf(&line, fmt, ap);
	log_redact(&line);

	pthread_mutex_lock(&log_mtx);
	fp = log_fp != NULL ? log_fp : stderr;
	fprintf(fp, "%s.%03ldZ %s[%ld] %s: %s\n", stamp, ts.tv_nsec / 1000000,
	    log_name != NULL ? log_name : "ferry", (long)getpid(),
	    log_level_names[level], buf_str(&line));
	fflush(fp);
	pthread_mutex_unlock(&log_mtx);

	buf_release(&line);
	log_busy = 0;
	errno = saved_errno;
}

void
log_debug(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vlog(LOG_LEVEL_DEBUG, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vlog(LOG_LEVEL_INFO, fmt, ap);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vlog(LOG_LEVEL_WARN, fmt, ap);
	va_end(ap);
}

void
log_error(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vlog(LOG_LEVEL_ERROR, fmt, ap);
	va_end(ap);
}

/* Like log_warnx(), with ": strerror(errno)" appended. */
void
log_warn(const char *fmt, ...)
{
	va_list	 ap;
	char	*msg;
	int	 saved_errno = errno;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	log_warnx("%s: %s", msg, strerror(saved_errno));
	free(msg);
}

__attribute__((noreturn)) void
fatal(const char *fmt, ...)
{
	va_list	 ap;
	char	 msg[1024];
	int	 saved_errno = errno;

	/* No allocation: we may be here because memory ran out. */
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	log_error("fatal: %s: %s", msg, strerror(saved_errno));
	exit(1);
}

__attribute__((noreturn)) void
fatalx(const char *fmt, ...)
{
	va_list	 ap;
	char	 msg[1024];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	log_error("fatal: %s", msg);
	exit(1);
}
