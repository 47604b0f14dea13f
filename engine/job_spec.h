/*
 * A job as its thread runs it: the store's definition with its endpoints
 * resolved (the source's connection options, each target's Kafka client
 * options, secrets opened) and its options parsed once into enums, so no
 * stage compares option strings on the data path.  Filled by the
 * scheduler's door (engine/jobstore.h, load) at every attempt.
 */
#ifndef FERRY_ENGINE_JOB_SPEC_H
#define FERRY_ENGINE_JOB_SPEC_H

#include <stddef.h>
#include <stdint.h>

#include "engine/jobstore.h"
#include "engine/mysql_conn.h"
#include "engine/sink.h"

/* Which partition a record goes to (--partition). */
enum job_partition {
	JOB_PARTITION_ZERO = 0,		/* all to partition 0 */
	JOB_PARTITION_TABLE,		/* hash of db.table */
	JOB_PARTITION_PK,		/* hash of the key values */
};

/* What the binlog's DDL becomes (--ddl). */
enum job_ddl {
	JOB_DDL_IGNORE = 0,
	JOB_DDL_FORWARD,		/* a DDL record */
};

/* A record over its topic's limit (--large-row). */
enum job_large_row {
	JOB_LARGE_ROW_FAIL = 0,
	JOB_LARGE_ROW_SKIP,		/* logged and left out */
};

struct job_spec {
	int64_t			 id;
	char			*identity;	/* in its records; NULL: the id */
	char			*source_name;	/* the source endpoint's */
	struct mysql_conn_opts	 source;
	struct sink_target_opts	*targets;
	size_t			 ntargets;
	char			*topic;		/* one topic, or */
	char			*topic_template;/* "{db}.{table}" */
	enum job_partition	 partition;
	enum job_ddl		 ddl;
	enum job_large_row	 large_row;
	int			 initial_schema;
	int			 initial_full;
	int64_t			 max_memory;	/* bytes; <= 0: the default */
	int64_t			 tenant_id;
	int64_t			 max_rows_per_sec; /* the tenant's, shared by
						   its jobs; <= 0: none */
	uint32_t		 server_id;	/* replica id at the source */
	int			 precheck_due;	/* retried after a failure */
	int			 allow_no_key;	/* keyless tables: a warning */
	int			 resnapshot_gen;/* INIT records of older
						   generations do not count
						   for pending tables */
	struct job_object	*objects;
	size_t			 nobjects;
};

void	 job_spec_init(struct job_spec *);
void	 job_spec_release(struct job_spec *);
int	 job_partition_parse(const char *, enum job_partition *);
int	 job_ddl_parse(const char *, enum job_ddl *);
int	 job_large_row_parse(const char *, enum job_large_row *);
int	 job_spec_selected(const struct job_spec *, const char *,
	    const char *);
int	 job_spec_db_selected(const struct job_spec *, const char *);
int	 job_spec_pending(const struct job_spec *, const char *,
	    const char *);

#endif
