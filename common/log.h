/*
 * Logging: levelled, timestamped lines to stderr or to a file, never a
 * secret.
 *
 * Every line goes through log_redact() before it is written: passwords
 * registered with log_add_secret() and password-shaped text (URL userinfo,
 * "password=...", "IDENTIFIED BY '...'") are replaced with "***".  The
 * functions are safe to call from any thread.
 */
#ifndef FERRY_COMMON_LOG_H
#define FERRY_COMMON_LOG_H

#include <stdarg.h>

struct buf;

enum log_level {
	LOG_LEVEL_ERROR = 0,
	LOG_LEVEL_WARN,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
};

int	 log_open(const char *, enum log_level, const char *, char **);
int	 log_reopen(char **);
void	 log_close(void);
void	 log_set_level(enum log_level);
enum log_level log_get_level(void);
int	 log_parse_level(const char *, enum log_level *);

void	 log_add_secret(const char *);
void	 log_clear_secrets(void);
void	 log_redact(struct buf *);

void	 log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_error(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_vlog(enum log_level, const char *, va_list)
	    __attribute__((format(printf, 2, 0)));
__attribute__((noreturn)) void fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2)));
__attribute__((noreturn)) void fatalx(const char *, ...)
	    __attribute__((format(printf, 1, 2)));

#endif
