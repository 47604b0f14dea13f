/*
 * One running job: a thread that takes it from its checkpoint (or from
 * nothing: precheck, schema sync, full sync) through the binlog to Kafka,
 * retrying transient failures and stopping when asked.
 */
#ifndef FERRY_ENGINE_SYNC_H
#define FERRY_ENGINE_SYNC_H

#include <stdint.h>

#include "engine/jobctx.h"	/* struct sync_options, struct sync_stats */
#include "engine/jobstore.h"

struct sync_job;

void	 sync_options_init(struct sync_options *);
struct sync_job *sync_job_start(jobstore_open_cb, void *, int64_t,
	    const struct sync_options *, char **);
void	 sync_job_stop(struct sync_job *);
int	 sync_job_finished(struct sync_job *);
void	 sync_job_free(struct sync_job *);
int64_t	 sync_job_id(const struct sync_job *);
void	 sync_job_stats(struct sync_job *, struct sync_stats *);

#endif
