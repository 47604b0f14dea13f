/*
 * Tables added to a job that follows the binlog (ferry job add-tables).
 */
#ifndef FERRY_ENGINE_ADD_TABLES_H
#define FERRY_ENGINE_ADD_TABLES_H

#include <stddef.h>
#include <stdint.h>

#include "engine/emit.h"
#include "engine/follow.h"
#include "engine/initial.h"
#include "engine/jobctx.h"
#include "engine/watermark.h"
#include "engine/window.h"

struct add_tables;

struct add_tables *add_tables_new(struct jobctx *, struct watermark *,
	    struct emitter *, struct window *, struct initial *,
	    struct follower *);
void	 add_tables_free(struct add_tables *);
int	 add_tables_run(struct add_tables *, struct snap_table *, size_t,
	    int64_t, char **);

#endif
