/*
 * The precheck (DESIGN.md §8), run before a job's first checkpoint: the
 * source's settings a binlog reader depends on (log_bin, ROW format, FULL
 * row images; a warning when the binlog names no columns) fail the job
 * with what to change; tables without a key are named in the job log.
 * Tables and topics are checked where they are opened (engine/snapshot.c,
 * engine/route.c).  Runs on the job's thread.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/util.h"
#include "common/xmalloc.h"
#include "engine/mysql_conn.h"
#include "engine/precheck.h"

/* Without FULL row metadata, column names come from the source's current
 * definitions (engine/shapes.c): say so. */
static void
precheck_row_metadata(struct jobctx *ctx, MYSQL *m)
{
	char	*v = NULL, *msg, *cause = NULL;

	if (mysql_conn_query_string(m, "SELECT @@global.binlog_row_metadata",
	    &v, &cause) != 0 || v == NULL || strcasecmp(v, "FULL") != 0) {
		msg = xasprintf("precheck: the source's binlog does not name "
		    "columns (binlog_row_metadata is %s): ferry takes names, "
		    "charsets and ENUM/SET labels from the tables' definitions, "
		    "and a row written before a DDL that ferry reads after it "
		    "stops the job; binlog_row_metadata=FULL (MySQL 8.0, "
		    "MariaDB 10.5 and later) avoids that", v != NULL ? v :
		    "not supported by this server");
		jobctx_log(ctx, "warn", msg);
		free(msg);
	}
	free(cause);
	free(v);
}

/* The source's settings a binlog reader depends on. */
int
precheck_source(struct jobctx *ctx, MYSQL *m, char **cause)
{
	static const struct {
		const char	*var;
		const char	*want;
		const char	*why;
	} checks[] = {
		{ "@@global.log_bin", "1", "the binary log is off on the source "
		    "(start the server with log_bin)" },
		{ "@@global.binlog_format", "ROW", "binlog_format must be ROW "
		    "(SET GLOBAL binlog_format = 'ROW', and in the server's "
		    "configuration)" },
		{ "@@global.binlog_row_image", "FULL", "binlog_row_image must "
		    "be FULL (SET GLOBAL binlog_row_image = 'FULL', and in the "
		    "server's configuration)" },
	};
	char	*v = NULL, *sql;
	size_t	 i;

	precheck_row_metadata(ctx, m);
	for (i = 0; i < nitems(checks); i++) {
		sql = xasprintf("SELECT %s", checks[i].var);
		if (mysql_conn_query_string(m, sql, &v, cause) != 0) {
			free(sql);
			return (-1);
		}
		free(sql);
		if (v == NULL || strcasecmp(v, checks[i].want) != 0) {
			*cause = xasprintf("precheck: %s; it is %s",
			    checks[i].why, v != NULL ? v : "unset");
			free(v);
			ctx->permanent = 1;
			return (-1);
		}
		free(v);
	}
	return (0);
}

/* Tables without a primary or unique key, named in the job log. */
void
precheck_keys(struct jobctx *ctx, const struct snap_table *t, size_t n)
{
	char	*msg;
	size_t	 i;

	for (i = 0; i < n; i++) {
		if (t[i].nkey != 0)
			continue;
		msg = xasprintf("precheck: table %s.%s has no primary or unique "
		    "key: it is copied in one read, and its updates cannot be "
		    "told apart by key", t[i].db, t[i].name);
		jobctx_log(ctx, "warn", msg);
		free(msg);
	}
}
