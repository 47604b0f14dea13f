/*
 * The precheck of a job's first start: what the source and the tables
 * must be for the job to work.
 */
#ifndef FERRY_ENGINE_PRECHECK_H
#define FERRY_ENGINE_PRECHECK_H

#include <mysql.h>
#include <stddef.h>

#include "engine/jobctx.h"
#include "engine/snapshot.h"

int	 precheck_source(struct jobctx *, MYSQL *, char **);
void	 precheck_keys(struct jobctx *, const struct snap_table *, size_t);

#endif
