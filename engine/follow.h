/*
 * The binlog follower: the replication stream from the watermark, decoded
 * into changes and handed down the job's stages.
 */
#ifndef FERRY_ENGINE_FOLLOW_H
#define FERRY_ENGINE_FOLLOW_H

#include <stdint.h>

#include "engine/emit.h"
#include "engine/jobctx.h"
#include "engine/route.h"
#include "engine/shapes.h"
#include "engine/watermark.h"
#include "engine/window.h"

struct follower;

struct follower *follower_new(struct jobctx *, struct watermark *,
	    struct router *, struct emitter *, struct window *);
void	 follower_free(struct follower *);
void	 follower_bind(struct follower *, struct snap_table *, size_t);
int	 follower_run(struct follower *, const char *, uint64_t, char **);

#endif
