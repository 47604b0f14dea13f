/*
 * The precheck (DESIGN.md §8): everything a job needs of its source and
 * targets, each item checked and reported (never stopping at the first
 * failure), for "ferry precheck JOB" and for the daemon before a job's
 * first start and after a retry from a failure.
 */
#ifndef FERRY_ENGINE_PRECHECK_H
#define FERRY_ENGINE_PRECHECK_H

#include <stddef.h>
#include <stdint.h>

#include "engine/job_spec.h"

struct buf;

enum precheck_result {
	PRECHECK_PASS = 0,
	PRECHECK_WARN,
	PRECHECK_FAIL,
};

struct precheck_item {
	char			*name;	/* "source.binlog_format", ... */
	enum precheck_result	 result;
	char			*found;	/* what was seen */
	char			*fix;	/* the SQL or setting; "" on pass */
	int			 transient;	/* a failure that may pass
						   by itself (a server down) */
};

struct precheck {
	struct precheck_item	*items;
	size_t			 n;
};

struct precheck_opts {
	int		 allow_no_key;	/* a table without a key: warn */
	int		 running;	/* the job may hold its server_id */
};

/* A table the job carries, as the precheck found it on the source. */
struct precheck_table {
	char		*db;
	char		*name;
	uint64_t	 row_max;	/* the largest row it can hold, bytes */
	size_t		 ncols;
};

void	 precheck_init(struct precheck *);
void	 precheck_release(struct precheck *);
void	 precheck_add(struct precheck *, enum precheck_result, const char *,
	    const char *, const char *, ...)
	    __attribute__((format(printf, 5, 6)));
void	 precheck_run(struct job_spec *, const struct precheck_opts *,
	    struct precheck *);
size_t	 precheck_count(const struct precheck *, enum precheck_result);
int	 precheck_transient(const struct precheck *);
const char *precheck_result_name(enum precheck_result);
char	*precheck_failures(const struct precheck *);
void	 precheck_json(const struct precheck *, int64_t, struct buf *);

/* engine/precheck_source.c */
void	 precheck_source(struct job_spec *, const struct precheck_opts *,
	    struct precheck *, struct precheck_table **, size_t *);
void	 precheck_tables_free(struct precheck_table *, size_t);

/* engine/precheck_kafka.c */
void	 precheck_targets(const struct job_spec *, const struct precheck_table *,
	    size_t, struct precheck *);

#endif
