/*
 * From binlog events to changes: transaction boundaries, row changes with
 * their images, DDL statements, each with the position a consumer can
 * resume from.  What the DTS records are made of.
 */
#ifndef FERRY_ENGINE_CHANGE_H
#define FERRY_ENGINE_CHANGE_H

#include <stdint.h>

#include "engine/binlog.h"

enum change_kind {
	CHANGE_BEGIN = 1,
	CHANGE_ROW,
	CHANGE_COMMIT,
	CHANGE_ROLLBACK,
	CHANGE_DDL,
	CHANGE_INIT,		/* a row of the initial full sync (after) */
	CHANGE_HEARTBEAT,	/* nothing happened until timestamp */
};

struct change {
	enum change_kind	 kind;
	enum binlog_rows_kind	 row_kind;	/* CHANGE_ROW */
	const struct table_def	*table;		/* CHANGE_ROW; BEGIN: the first */
	const struct value	*before;
	const struct value	*after;
	const char		*db;		/* CHANGE_DDL: the default db */
	const uint8_t		*sql;		/* CHANGE_DDL */
	size_t			 sql_len;
	uint32_t		 timestamp;	/* the event's, seconds */
	uint32_t		 server_id;
	uint32_t		 thread_id;	/* of the transaction, 0 unknown */
	uint64_t		 pos;		/* the event's offset */
	uint64_t		 txn_pos;	/* where its transaction starts */
	const char		*file;		/* binlog file name */
	const char		*gtid;		/* "" when none */
	const char		*server_version;
	uint64_t		 xid;		/* CHANGE_COMMIT, 0 if none */
};

/* Return 0 to go on, -1 to stop (with *cause set). */
typedef int (*change_cb)(void *, const struct change *, char **);
/* Whether rows of db.table are wanted. */
typedef int (*change_filter_cb)(void *, const char *, const char *);

struct change_builder;

struct change_builder *change_builder_new(change_cb, change_filter_cb, void *);
void	 change_builder_free(struct change_builder *);
void	 change_builder_set_file(struct change_builder *, const char *);
int	 change_builder_feed(struct change_builder *, struct binlog_decoder *,
	    struct binlog_event *, char **);
int	 change_builder_at_boundary(const struct change_builder *);
uint64_t change_file_number(const char *);

#endif
