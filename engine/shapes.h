/*
 * The shapes of the job's tables in the binlog phase: definitions the
 * binlog does not carry, and the schema history, checked at every row
 * image and advanced by DDL (DESIGN.md §5).
 */
#ifndef FERRY_ENGINE_SHAPES_H
#define FERRY_ENGINE_SHAPES_H

#include <stddef.h>

#include "engine/change.h"
#include "engine/jobctx.h"
#include "engine/mysql_conn.h"
#include "engine/snapshot.h"
#include "engine/watermark.h"
#include "schema/table.h"

struct shapes;

struct shapes *shapes_new(struct jobctx *, struct watermark *,
	    struct mysql_lazy *);
void	 shapes_free(struct shapes *);
void	 shapes_reset(struct shapes *, struct snap_table *, size_t);
void	 shapes_forget(struct shapes *);
int	 shapes_fill(struct shapes *, const struct change *, char **);
int	 shapes_check(struct shapes *, const struct change *, char **);
int	 shapes_keys(struct shapes *, const struct change *, char **);
int	 shapes_ddl(struct shapes *, const struct change *, char **);
char	*shapes_definition(const struct table_def *);

#endif
