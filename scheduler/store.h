/*
 * The job store: tenants, endpoints, jobs, their checkpoints and schema
 * history, in one SQLite file shared by the daemon and any number of CLI
 * processes.  The only SQL in ferry is behind this interface.
 */
#ifndef FERRY_SCHEDULER_STORE_H
#define FERRY_SCHEDULER_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "engine/jobstore.h"	/* the records a job reads and writes */

struct store;
struct kafka_client_opts;
struct mysql_conn_opts;

/* A limit that is not set. */
#define STORE_UNLIMITED	(-1)

struct tenant {
	int64_t		 id;
	char		*name;
	int64_t		 max_jobs;		/* STORE_UNLIMITED or >= 0 */
	int64_t		 max_memory;		/* bytes per job */
	int64_t		 max_rows_per_sec;	/* per job */
	int64_t		 created_at;
};

enum endpoint_kind {
	ENDPOINT_MYSQL = 1,
	ENDPOINT_KAFKA,
};

struct endpoint {
	int64_t		 id;
	int64_t		 tenant_id;
	char		*name;
	enum endpoint_kind kind;
	char		*address;	/* MySQL URL (no password), or brokers */
	char		*username;	/* Kafka SASL user */
	char		*secret;	/* stored form: enc:..., env:..., file:... */
	int		 tls;
	char		*tls_ca;
	char		*sasl;		/* Kafka: plain, scram-sha-256, ... */
	char		*kafka_version;
	char		*compression;	/* Kafka: gzip, ...; NULL: none */
	char		*producer_props;/* Kafka: "key=value\n...", or NULL */
	int64_t		 created_at;
	int64_t		 updated_at;	/* last ferry endpoint set; 0: never */
	char		*updated_by;
	int		 tenant_owned;	/* made by a tenant through the API:
					   the daemon's network policy
					   confines it */
};

/* What store_endpoint_set() changes of an endpoint. */
#define ENDPOINT_SET_ADDRESS	0x01
#define ENDPOINT_SET_USERNAME	0x02
#define ENDPOINT_SET_SECRET	0x04
#define ENDPOINT_SET_TLS	0x08
#define ENDPOINT_SET_TLS_CA	0x10
#define ENDPOINT_SET_SASL	0x20
#define ENDPOINT_SET_VERSION	0x40
#define ENDPOINT_SET_COMPRESSION 0x80
#define ENDPOINT_SET_PROPS	0x100

enum job_state {
	JOB_CREATED = 0,
	JOB_QUEUED,
	JOB_PRECHECKING,
	JOB_SCHEMA_SYNC,
	JOB_FULL_SYNC,
	JOB_INCREMENTAL,
	JOB_PAUSED,
	JOB_STOPPED,
	JOB_FAILED,
	JOB_NSTATES
};

enum job_action {
	JOB_START,
	JOB_STOP,
	JOB_PAUSE,
	JOB_RESUME,
	JOB_RETRY,
};

struct job {
	int64_t			 id;
	int64_t			 tenant_id;
	char			*name;
	int64_t			 source_id;
	int64_t			*target_ids;
	size_t			 ntargets;
	char			*topic;		/* one topic, or */
	char			*topic_template;/* "{db}.{table}" */
	char			*partition;	/* zero, table, pk */
	int			 initial_schema;
	int			 initial_full;
	char			*ddl;		/* ignore, forward */
	char			*large_row;	/* fail, skip */
	int64_t			 max_memory;	/* bytes; STORE_UNLIMITED */
	uint32_t		 server_id;	/* replica id at the source */
	enum job_state		 state;
	char			*error;
	int64_t			 attempts;
	int64_t			 next_attempt_at;
	int64_t			 created_at;
	int64_t			 updated_at;
	int64_t			 started_at;
	int64_t			 revision;	/* bumped by add-tables */
	int			 resnapshot_gen;/* of the last re-snapshot */
	int			 precheck_due;	/* retried after a failure: the
						   precheck runs at its start */
	int			 allow_no_key;	/* a table without a key is a
						   warning, not a failure */
	char			*identity;	/* in its records (128 random bits
						   in hex); NULL: its id */
	struct job_object	*objects;
	size_t			 nobjects;
};

/* A job's checkpoint and statistics, for listings. */
struct job_progress {
	int64_t			 job_id;
	struct checkpoint	 cp;
	struct job_stats	 stats;
};

/* An API token as the store has it (never its value). */
struct token_info {
	int64_t		 id;
	char		*tenant;	/* NULL: the operator's */
	char		*name;		/* a label, or NULL */
	int64_t		 created_at;
	char		*created_by;
	int64_t		 revoked_at;	/* 0: valid */
	int64_t		 last_used_at;	/* 0: never */
};

struct job_event {
	int64_t		 id;
	int64_t		 at;		/* ms since the epoch */
	char		*who;
	char		*kind;
	char		*message;
};

struct store	*store_open(const char *, char **);
void		 store_close(struct store *);
const char	*store_path(const struct store *);
void		 store_set_fail_hook(struct store *, int (*)(const char *));
void		 store_set_busy_timeout(struct store *, int);
struct jobstore	*store_door_open(void *, int64_t, char **);
int		 store_endpoint_kafka_opts(struct store *,
		    const struct endpoint *, struct kafka_client_opts *,
		    char **);
int		 store_endpoint_mysql_opts(struct store *,
		    const struct endpoint *, struct mysql_conn_opts *,
		    char **);

int	 store_tenant_get(struct store *, const char *, struct tenant *, char **);
int	 store_tenant_add(struct store *, const struct tenant *, char **);
int	 store_tenant_set(struct store *, const struct tenant *, char **);
int	 store_tenant_list(struct store *, struct tenant **, size_t *, char **);
int	 store_tenant_defaults(struct store *, struct tenant *, char **);
int	 store_tenant_key_get(struct store *, int64_t, char **, char **);
int	 store_tenant_key_set(struct store *, int64_t, const char *, char **);
int	 store_tenant_rm(struct store *, const char *, char **);
int	 store_tenant_defaults_set(struct store *, const struct tenant *,
	    char **);
void	 tenant_release(struct tenant *);

int	 store_token_add(struct store *, const char *, const char *,
	    const char *, const char *, int64_t *, char **);
int	 store_token_list(struct store *, const char *, struct token_info **,
	    size_t *, char **);
int	 store_token_revoke(struct store *, const char *, int64_t, char **);
int	 store_token_find(struct store *, const char *, struct token_info *,
	    char **);
void	 token_info_release(struct token_info *);
void	 token_list_free(struct token_info *, size_t);

int	 store_endpoint_add(struct store *, struct endpoint *, char **);
int	 store_endpoint_get(struct store *, int64_t, const char *,
	    struct endpoint *, char **);
int	 store_endpoint_get_id(struct store *, int64_t, struct endpoint *,
	    char **);
int	 store_endpoint_list(struct store *, int64_t, struct endpoint **,
	    size_t *, char **);
int	 store_endpoint_rm(struct store *, int64_t, const char *, char **);
int	 store_endpoint_set(struct store *, int64_t, const char *,
	    const struct endpoint *, unsigned int, const char *, size_t *,
	    char **);
void	 endpoint_release(struct endpoint *);

int	 store_job_create(struct store *, struct job *, const char *, char **);
int	 store_job_find(struct store *, int64_t, const char *, struct job *,
	    char **);
int	 store_job_get(struct store *, int64_t, struct job *, char **);
int	 store_job_list(struct store *, int64_t, struct job **, size_t *,
	    char **);
int	 store_job_action(struct store *, int64_t, enum job_action,
	    const char *, char **);
int	 store_job_rm(struct store *, int64_t, const char *, char **);
int	 store_job_objects_copied(struct store *, int64_t,
	    const struct job_object *, size_t, char **);
int	 store_job_add_tables(struct store *, int64_t,
	    const struct job_object *, size_t, const char *, size_t *,
	    char **);
int	 store_job_revision(struct store *, int64_t, int64_t *, char **);
int	 store_job_resnapshot(struct store *, int64_t,
	    const struct job_object *, size_t, const char *, size_t *,
	    char **);
int	 store_job_set_state(struct store *, int64_t, enum job_state,
	    const char *, const char *, char **);
int	 store_job_prechecked(struct store *, int64_t, char **);
int	 store_job_advance(struct store *, int64_t, enum job_state,
	    const char *, char **);
int	 store_job_schedule_retry(struct store *, int64_t, int64_t,
	    const char *, char **);
int	 store_jobs_runnable(struct store *, struct job **, size_t *, char **);
int	 store_jobs_failed(struct store *, struct job **, size_t *, char **);
void	 job_release(struct job *);
void	 job_list_free(struct job *, size_t);

const char *job_state_name(enum job_state);
int	 job_state_parse(const char *, enum job_state *);
int	 job_state_running(enum job_state);

int	 store_log_add(struct store *, int64_t, const char *, const char *,
	    const char *, char **);
int	 store_log_list(struct store *, int64_t, struct job_event **, size_t *,
	    char **);
void	 job_event_list_free(struct job_event *, size_t);

int	 store_checkpoint_get(struct store *, int64_t, struct checkpoint *,
	    char **);
int	 store_checkpoint_save(struct store *, int64_t,
	    const struct checkpoint *, const struct schema_change *, size_t,
	    char **);
int	 store_schema_at(struct store *, int64_t, const char *, const char *,
	    const char *, uint64_t, uint32_t, char **, int64_t *, char **,
	    uint64_t *, char **);
int	 store_schema_fill(struct store *, int64_t, const char *,
	    const char *, const char *, uint64_t, const char *, char **);
int	 store_schema_add(struct store *, int64_t,
	    const struct schema_change *, char **);
int	 store_schema_get(struct store *, int64_t, const char *, const char *,
	    char **, int64_t *, char **);
int	 store_snapshot_save(struct store *, int64_t,
	    const struct snapshot_progress *, char **);
int	 store_snapshot_list(struct store *, int64_t,
	    struct snapshot_progress **, size_t *, char **);
int	 store_snapshot_gen_add(struct store *, int64_t,
	    const struct snapshot_gen *, int *, char **);
int	 store_positions_claim(struct store *, int64_t, uint32_t, const char *,
	    const struct checkpoint *, char **);
int	 store_snapshot_gens(struct store *, int64_t, struct snapshot_gen **,
	    size_t *, char **);
int	 store_snapshot_segment_add(struct store *, int64_t,
	    const struct snapshot_segment *, char **);
int	 store_snapshot_segments(struct store *, int64_t,
	    struct snapshot_segment **, size_t *, char **);
int	 store_stats_save(struct store *, int64_t, const struct job_stats *,
	    char **);
int	 store_stats_get(struct store *, int64_t, struct job_stats *, char **);
int	 store_progress_list(struct store *, int64_t, struct job_progress **,
	    size_t *, char **);
void	 job_progress_list_free(struct job_progress *, size_t);

int	 store_lease_acquire(struct store *, int64_t, const char *, int64_t,
	    char **);
int	 store_lease_release(struct store *, int64_t, const char *, char **);
int	 store_leases_renew(struct store *, const char *, const int64_t *,
	    size_t, int64_t, size_t *, char **);

#endif
