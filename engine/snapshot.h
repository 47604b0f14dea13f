/*
 * The initial synchronization's reads from the source: which tables a
 * job's selection names, their definitions (the same table_def a TABLE_MAP
 * gives, built from information_schema), a consistent snapshot with its
 * binlog position, and the rows, in key order and in chunks.
 */
#ifndef FERRY_ENGINE_SNAPSHOT_H
#define FERRY_ENGINE_SNAPSHOT_H

#include <mysql.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "engine/jobstore.h"	/* struct job_object */
#include "schema/table.h"
#include "schema/value.h"

struct snap_table {
	char		*db;
	char		*name;
	struct table_def *def;
	char		*create_sql;	/* SHOW CREATE TABLE */
	uint32_t	*key;		/* chunking key: the primary key, else a
					   NOT NULL unique key, else none */
	uint32_t	 nkey;
	int64_t		 rows_estimated;
	uint8_t		*how;		/* per column: how to read it */
	char		**coll;		/* per column: "USING cs) COLLATE c" */
	struct buf	 select;	/* "SELECT ... FROM `db`.`t`" */
	struct buf	 order;		/* " ORDER BY ..." */
	struct buf	 keytuple;	/* "(k1, k2)" as compared */
	uint8_t		*scratch;	/* binary DECIMALs of the current row */
	struct value	*values;
};

/* Called for each row; the values live until the callback returns. */
typedef int (*snapshot_row_cb)(void *, struct snap_table *,
    const struct value *, char **);

int	 snapshot_tables(MYSQL *, const struct job_object *, size_t,
	    struct buf *, struct snap_table **, size_t *, char **);
void	 snapshot_tables_free(struct snap_table *, size_t);
int	 snapshot_begin(MYSQL *, struct snapshot_gen *, char **);
int	 snapshot_chunk(MYSQL *, struct snap_table *, const char *, uint64_t,
	    snapshot_row_cb, void *, char **, uint64_t *, char **);
char	*snapshot_quote_name(const char *);

#endif
