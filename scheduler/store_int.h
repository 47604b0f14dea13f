/*
 * Internals of the job store's files.
 */
#ifndef FERRY_SCHEDULER_STORE_INT_H
#define FERRY_SCHEDULER_STORE_INT_H

#include <sqlite3.h>
#include <stdint.h>

struct store {
	sqlite3		*db;
	char		*path;
	int		(*fail_hook)(const char *);
};

int64_t		 store_now(void);
int		 store_error(struct store *, const char *, char **);
char		*store_errmsg(struct store *, const char *, const char *);
int		 store_exec(struct store *, const char *, char **);
char		*store_job_identity_new(void);
int		 store_job_named(struct store *, struct job *, char **);
sqlite3_stmt	*store_prepare(struct store *, const char *, char **);
int		 store_begin(struct store *, char **);
int		 store_commit(struct store *, char **);
void		 store_rollback(struct store *);
int		 store_fail_point(struct store *, const char *, char **);
void		 store_bind_text(sqlite3_stmt *, int, const char *);
char		*store_col_text(sqlite3_stmt *, int);
int64_t		 store_count(struct store *, const char *, int64_t, char **);
int		 store_log_insert(struct store *, int64_t, const char *,
		    const char *, const char *, char **);

#endif
