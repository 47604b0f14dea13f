/*
 * One running job: a thread that takes it from its checkpoint (or from
 * nothing: precheck, schema sync, full sync) through the binlog to Kafka,
 * retrying transient failures and stopping when asked.
 */
#ifndef FERRY_ENGINE_SYNC_H
#define FERRY_ENGINE_SYNC_H

#include <stdint.h>

struct sync_job;

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
};

void	 sync_options_init(struct sync_options *);
struct sync_job *sync_job_start(const char *, int64_t,
	    const struct sync_options *, char **);
void	 sync_job_stop(struct sync_job *);
int	 sync_job_finished(struct sync_job *);
void	 sync_job_free(struct sync_job *);
int64_t	 sync_job_id(const struct sync_job *);
void	 sync_job_stats(struct sync_job *, struct sync_stats *);

#endif
