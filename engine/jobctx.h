/*
 * What every stage of a running job shares, and nothing more: who the job
 * is (its id, its door to the store, its spec and the daemon's options),
 * whether it is asked to stop, the counters and phase that /metrics and
 * ferry status show, and whether the attempt's error is permanent.  The
 * stages (engine/follow.c ... engine/watermark.c) each own their state;
 * this is the floor they stand on, below all of them, calling none.
 */
#ifndef FERRY_ENGINE_JOBCTX_H
#define FERRY_ENGINE_JOBCTX_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/jobstore.h"

struct binlog_client;
struct job_spec;

/* A job's in-flight budget when neither it nor its tenant names one: the
 * records handed to Kafka and not yet acknowledged (docs/CLI.md). */
#define JOBCTX_DEFAULT_BUDGET	((int64_t)32 * 1024 * 1024)

/* What /metrics and /jobs show of a running job. */
struct sync_stats {
	int64_t		 job;
	char		 phase[16];
	uint64_t	 records;	/* sent (not skipped as already there) */
	uint64_t	 acked;
	uint64_t	 skipped;	/* found already in Kafka on resume */
	uint64_t	 bytes;
	uint64_t	 events;	/* binlog events read */
	uint64_t	 inflight_bytes;
	int64_t		 lag_seconds;	/* -1: unknown */
	int64_t		 lag_bytes;	/* binlog bytes not read yet; -1 */
	uint64_t	 restarts;	/* transient failures survived */
	uint64_t	 throttled_us;	/* waited for the tenant's rows/s */
	int64_t		 checkpoint_at;	/* ms since the epoch */
};

struct sync_options {
	int		 retry_min_ms;	/* first back-off */
	int		 retry_max_ms;
	int		 checkpoint_ms;	/* how often the watermark is saved */
	int		 heartbeat_ms;	/* asked of the source */
	int		 heartbeat_record_ms;	/* HEARTBEAT records when idle;
					   0: none */
	uint64_t	 chunk_rows;	/* full sync */
	int		 shared_reader;	/* jobs on one server share one
					   binlog connection (engine/reader.c) */
};

struct jobctx {
	/* Set at the start; the stages read them. */
	int64_t			 id;
	struct sync_options	 opts;
	struct jobstore		*store;		/* the job thread's door */
	const struct job_spec	*spec;		/* reloaded each attempt */
	char			*server_version;/* the source's, this attempt */
	uint32_t		 server_id;	/* the server read, this attempt
						   (engine/source.c) */
	size_t			 server_ix;	/* which of the endpoint's */
	char			*ck_server;	/* the address of the
						   checkpoint's server, or
						   NULL */
	char			 server[JOB_SERVER_LEN];	/* the server read, for the
						   statistics ("" unknown) */
	char			 source_tag[40];	/* the server read, in
						   records: server_uuid, or
						   server_id ("" unknown) */
	/* Set by a stage that fails for good: the attempt's error is
	 * permanent (the job fails instead of retrying). */
	int			 permanent;
	/* The attempt ended for a reason that needs no back-off (the
	 * shared reader went on without the job). */
	int			 quick_retry;
	uint64_t		 share_after_us;	/* no shared reader before
						   (mono clock) */
	_Atomic int		 reader_jobs;	/* on the shared reader: how
						   many; 0: its own */

	/* ferry status's figures: the job's thread only. */
	struct job_stats	 js;
	struct job_stats	 js_saved;	/* what the store has */
	uint64_t		 stats_saved_us;
	uint64_t		 stats_records;
	uint64_t		 stats_written_us;

	/* Counters only the job's thread writes, read without the mutex
	 * (jobctx_stats): a record costs no lock. */
	_Atomic uint64_t	 n_records, n_acked, n_skipped, n_bytes;
	_Atomic uint64_t	 n_events, n_inflight;
	_Atomic uint64_t	 n_throttled_us;	/* waited for the tenant's
						   rows/s */
	int64_t			 throttled_base_ms;	/* the store's, when
						   the thread began */
	int			 throttled_base_set;
	_Atomic int64_t		 n_lag_seconds;

	pthread_mutex_t		 mtx;
	pthread_cond_t		 cv;
	int			 stop;		/* under mtx */
	struct binlog_client	*bc;		/* under mtx, for stopping */
	struct sync_stats	 stats;		/* under mtx */
};

void	 jobctx_init(struct jobctx *, int64_t, const struct sync_options *);
void	 jobctx_release(struct jobctx *);
int	 jobctx_stopping(struct jobctx *);
int	 jobctx_sleep(struct jobctx *, int64_t);
void	 jobctx_stop(struct jobctx *);
int	 jobctx_attach(struct jobctx *, struct binlog_client *);
void	 jobctx_set_phase(struct jobctx *, const char *);
void	 jobctx_set_lag_bytes(struct jobctx *, int64_t);
void	 jobctx_checkpointed(struct jobctx *, int64_t);
void	 jobctx_restarted(struct jobctx *);
void	 jobctx_log(struct jobctx *, const char *, const char *);
void	 jobctx_mysql_failed(struct jobctx *, char **);
void	 jobctx_login_refused(struct jobctx *, char **);
void	 jobctx_save_stats(struct jobctx *, int);
void	 jobctx_stats(struct jobctx *, struct sync_stats *);

/* Add to a counter only the job's thread writes: a plain load and store. */
static inline void
jobctx_count(_Atomic uint64_t *c, uint64_t n)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) +
	    n, memory_order_relaxed);
}

static inline void
jobctx_set(_Atomic uint64_t *c, uint64_t v)
{
	atomic_store_explicit(c, v, memory_order_relaxed);
}

static inline void
jobctx_set_lag(struct jobctx *ctx, int64_t v)
{
	atomic_store_explicit(&ctx->n_lag_seconds, v, memory_order_relaxed);
}

/* The door's calls, for brevity at the stages. */
#define JOBSTORE(ctx, op, ...) \
	((ctx)->store->ops->op((ctx)->store, __VA_ARGS__))

#endif
