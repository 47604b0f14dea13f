/*
 * The record stage: a change routed, encoded as the job's next DTS Avro
 * record, sent to the targets, and counted in the watermark.
 */
#ifndef FERRY_ENGINE_EMIT_H
#define FERRY_ENGINE_EMIT_H

#include <stddef.h>
#include <stdint.h>

#include "engine/change.h"
#include "engine/jobctx.h"
#include "engine/job_spec.h"
#include "engine/route.h"
#include "engine/sink.h"
#include "engine/watermark.h"

/* What a record is part of: the unit it is counted in. */
enum emit_part {
	EMIT_BINLOG = 0,	/* the open binlog unit */
	EMIT_SNAPSHOT,		/* the full-sync chunk being read */
	EMIT_HEARTBEAT,		/* nowhere */
};

/* Every target (the mask of emitter_send()). */
#define EMIT_ALL	UINT32_MAX

struct emitter;

struct emitter *emitter_new(struct jobctx *, struct watermark *,
	    struct router *);
void	 emitter_free(struct emitter *);
struct sink *emitter_open_sink(struct emitter *, char **);
void	 emitter_close_sink(struct emitter *);
void	 emitter_restart(struct emitter *, int64_t);
int64_t	 emitter_next_id(const struct emitter *);
int	 emitter_send(struct emitter *, const struct change *, enum emit_part,
	    uint32_t, const struct sink_meta *, char **);
int	 emitter_heartbeat(struct emitter *, const struct change *, char **);
void	 emitter_poll(struct emitter *, int);
int	 emitter_lag(struct emitter *);
int	 emitter_snapshot_wait(struct emitter *, int, uint64_t, char **);
int	 emitter_settle(struct emitter *, char **);
void	 emitter_drain(struct emitter *);

#endif
