/*
 * The precheck (DESIGN.md §8), run before a job's first checkpoint: the
 * source's settings a binlog reader depends on (log_bin, ROW format, FULL
 * row images; a warning when the binlog names no columns; a replica source
 * must log what it replicates) fail the job with what to change; tables
 * without a key are named in the job log.
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

/* The value of the named column of a row of res, or NULL. */
static const char *
precheck_column(MYSQL_RES *res, MYSQL_ROW row, const char *a, const char *b)
{
	MYSQL_FIELD	*f = mysql_fetch_fields(res);
	unsigned int	 i, n = mysql_num_fields(res);

	for (i = 0; i < n; i++) {
		if (strcasecmp(f[i].name, a) == 0 || strcasecmp(f[i].name,
		    b) == 0)
			return (row[i]);
	}
	return (NULL);
}

/*
 * A source that is itself a replica (the cascade topology A -> B -> ferry)
 * has in its binlog what it replicates only with log_slave_updates (MySQL
 * 8.0.26 and later: log_replica_updates): without it ferry would miss
 * every change made on the primary.  -1 (permanent) then; a replica that
 * logs them is named in the job log.
 */
static int
precheck_replica(struct jobctx *ctx, MYSQL *m, char **cause)
{
	MYSQL_RES	*res = NULL;
	MYSQL_ROW	 row;
	const char	*host, *port;
	char		*of, *v = NULL, *why = NULL, *msg;
	int		 rc = 0;

	if ((mysql_query(m, "SHOW SLAVE STATUS") != 0 &&
	    mysql_query(m, "SHOW REPLICA STATUS") != 0) ||
	    (res = mysql_store_result(m)) == NULL)
		return (0);	/* not allowed to look, or not one */
	if ((row = mysql_fetch_row(res)) == NULL) {
		mysql_free_result(res);
		return (0);
	}
	host = precheck_column(res, row, "Master_Host", "Source_Host");
	port = precheck_column(res, row, "Master_Port", "Source_Port");
	if (host == NULL || *host == '\0') {
		/* A row with no source (Dolt shows one unconfigured). */
		mysql_free_result(res);
		return (0);
	}
	of = xasprintf("%s:%s", host, port != NULL ? port : "?");
	mysql_free_result(res);
	if (mysql_conn_query_string(m, "SELECT @@global.log_replica_updates",
	    &v, &why) != 0) {
		free(why);
		why = NULL;
		if (mysql_conn_query_string(m, "SELECT "
		    "@@global.log_slave_updates", &v, &why) != 0) {
			free(why);
			v = NULL;
		}
	}
	if (v == NULL || (strcmp(v, "1") != 0 && strcasecmp(v, "ON") != 0)) {
		*cause = xasprintf("precheck: the source is a replica (of %s) "
		    "and log_slave_updates is %s: what it replicates is not in "
		    "its binlog, so ferry would miss every change made on the "
		    "primary; start it with log_slave_updates=ON "
		    "(log_replica_updates on MySQL 8.0.26 and later), or read "
		    "the primary", of, v != NULL ? "off" : "unknown");
		ctx->permanent = 1;
		rc = -1;
	} else {
		msg = xasprintf("precheck: the source is a replica of %s, with "
		    "log_slave_updates on: the primary's changes reach ferry "
		    "through it (records carry the originating server_id)", of);
		jobctx_log(ctx, "info", msg);
		free(msg);
	}
	free(v);
	free(of);
	return (rc);
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
	return (precheck_replica(ctx, m, cause));
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
