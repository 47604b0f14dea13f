/*
 * The initial synchronization: a consistent snapshot (a generation), the
 * schema sync's DDL records, the full sync's INIT records table by table
 * in key order and in chunks, and the first checkpoint.
 */
#ifndef FERRY_ENGINE_INITIAL_H
#define FERRY_ENGINE_INITIAL_H

#include <mysql.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "engine/emit.h"
#include "engine/jobctx.h"
#include "engine/route.h"
#include "engine/snapshot.h"
#include "engine/watermark.h"
#include "engine/window.h"

struct initial;

/* One generation's copy: its snapshot and the table being copied. */
struct initial_copy {
	const char	*file;		/* the snapshot's position */
	uint64_t	 pos;
	int		 gen;
	uint32_t	 now;		/* the records' timestamp */
	uint64_t	 rows;
	size_t		 table;		/* index of the table being copied */
	struct buf	 k;
	char		*tbl;		/* db.table */
	size_t		 tbllen;
	int		 ck_per_table;	/* checkpoint before each done */
};

struct initial *initial_new(struct jobctx *, struct watermark *,
	    struct router *, struct emitter *, struct window *);
void	 initial_free(struct initial *);
void	 initial_bind(struct initial *, struct snap_table *, size_t);
void	 initial_copy_init(struct initial_copy *, const char *, uint64_t, int);
void	 initial_copy_release(struct initial_copy *);
int	 initial_schema(struct initial *, size_t, const struct initial_copy *,
	    char **);
int	 initial_copy_table(struct initial *, MYSQL *, size_t,
	    const struct snapshot_progress *, size_t, struct initial_copy *,
	    char **);
int	 initial_run(struct initial *, char **);

#endif
