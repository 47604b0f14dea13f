/*
 * The precheck's source side: the server (reachable, its version and
 * flavour, the settings a binlog reader depends on, its server_id and
 * ferry's, GTIDs, binlog retention), the account's privileges (from SHOW
 * GRANTS, roles and wildcards included, and tried where trying is
 * harmless) and each table the job names (exists, a base table, a key,
 * how large a row can be).
 */
#include "config.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/buf.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "engine/grants.h"
#include "engine/mysql_conn.h"
#include "engine/netpolicy.h"
#include "engine/precheck.h"

/* Above any column's size: LONGBLOB, LONGTEXT, JSON, geometry. */
#define PRECHECK_HUGE	4294967295ULL

struct src {
	MYSQL			*m;
	struct job_spec		*spec;
	const struct precheck_opts *o;
	struct precheck		*pc;
	int			 mariadb;
	unsigned int		 major, minor;
	char			*account;	/* 'user'@'host' */
	struct grants		 g;
	char			*grants_error;	/* SHOW GRANTS failed: why */
};

/* @@global.name in *v (NULL: SQL NULL): 0, or -1 when the server does not
 * have it (or did not answer). */
static int
src_var(struct src *s, const char *name, char **v)
{
	char	*sql, *why = NULL;
	int	 rc;

	*v = NULL;
	sql = xasprintf("SELECT @@global.%s", name);
	rc = mysql_conn_query_string(s->m, sql, v, &why);
	free(sql);
	free(why);
	return (rc);
}

static int
src_on(const char *v)
{
	return (v != NULL && (strcmp(v, "1") == 0 || strcasecmp(v, "ON") == 0));
}

/* A string escaped for a quoted SQL literal. */
static char *
src_escape(struct src *s, const char *v)
{
	size_t	 len = strlen(v);
	char	*e = xmalloc(2 * len + 1);

	mysql_real_escape_string(s->m, e, v, (unsigned long)len);
	return (e);
}

/* A name quoted with backticks. */
static char *
src_ident(const char *v)
{
	struct buf	 b = BUF_INITIALIZER;
	char		*s;

	buf_addc(&b, '`');
	for (; *v != '\0'; v++) {
		if (*v == '`')
			buf_addc(&b, '`');
		buf_addc(&b, (unsigned char)*v);
	}
	buf_addc(&b, '`');
	s = xstrndup((const char *)b.data, b.len);
	buf_release(&b);
	return (s);
}

/* Reachable and authenticated: each server of the endpoint in turn. */
static int
src_connect(struct src *s)
{
	struct mysql_conn_opts	*opts = &s->spec->source;
	struct buf		 why = BUF_INITIALIZER;
	size_t			 i, n = opts->nhosts > 0 ? opts->nhosts : 1;
	char			*cause = NULL, *who;
	int			 transient = 1;

	for (i = 0; i < n; i++) {
		if (opts->nhosts > 0)
			mysql_conn_opts_pick(opts, i);
		if ((s->m = mysql_conn_open(opts, &cause)) != NULL)
			break;
		if (strstr(cause, "Access denied") != NULL ||
		    strstr(cause, "denied to user") != NULL ||
		    strstr(cause, NETPOLICY_WORDS) != NULL)
			transient = 0;
		buf_printf(&why, "%s%s", why.len > 0 ? "; " : "", cause);
		free(cause);
		cause = NULL;
	}
	if (s->m == NULL) {
		precheck_add(s->pc, PRECHECK_FAIL, "source.connect",
		    transient ? "start the server, or correct the endpoint's "
		    "address: ferry endpoint set NAME --mysql URL" :
		    "correct the user or the password: ferry endpoint set "
		    "NAME --password-file FILE (or --password-env VAR, "
		    "--prompt)", "%.*s", (int)why.len,
		    (const char *)why.data);
		s->pc->items[s->pc->n - 1].transient = transient;
		buf_release(&why);
		return (-1);
	}
	buf_release(&why);
	who = mysql_conn_describe(opts);
	precheck_add(s->pc, PRECHECK_PASS, "source.connect", NULL,
	    "logged in to %s%s", who, n > 1 ? " (the first server of the "
	    "endpoint that answered)" : "");
	free(who);
	return (0);
}

/* Version and flavour: MySQL 5.1 to 9.x, MariaDB 5.5 to 11.x. */
static void
src_version(struct src *s)
{
	static const struct {
		const char	*name;
		unsigned int	 min_major, min_minor;	/* the oldest */
		unsigned int	 next_major;		/* not yet tested */
		const char	*tested;
	} flavours[] = {
		{ "MySQL", 5, 1, 10, "5.1 to 9.x" },
		{ "MariaDB", 5, 5, 12, "5.5 to 11.x" },
	};
	const char		*info = mysql_get_server_info(s->m), *p;
	enum precheck_result	 r = PRECHECK_PASS;
	char			*end, *fix = NULL, *note = NULL;

	if (info == NULL)
		info = "";
	p = info;
	s->mariadb = strstr(info, "MariaDB") != NULL;
	if (s->mariadb && strncmp(p, "5.5.5-", 6) == 0)
		p += 6;		/* the replication-protocol prefix */
	s->major = (unsigned int)strtoul(p, &end, 10);
	s->minor = *end == '.' ? (unsigned int)strtoul(end + 1, NULL, 10) : 0;
	if (strstr(info, "TiDB") != NULL) {
		r = PRECHECK_FAIL;
		note = xstrdup(": TiDB writes no MySQL binary log");
		fix = xstrdup("read TiDB's changes with TiCDC; ferry reads MySQL "
		    "and MariaDB");
	} else if (s->major < flavours[s->mariadb].min_major ||
	    (s->major == flavours[s->mariadb].min_major &&
	    s->minor < flavours[s->mariadb].min_minor)) {
		r = PRECHECK_FAIL;
		note = xasprintf(": older than %s %u.%u",
		    flavours[s->mariadb].name, flavours[s->mariadb].min_major,
		    flavours[s->mariadb].min_minor);
		fix = xasprintf("upgrade to %s %u.%u or later",
		    flavours[s->mariadb].name, flavours[s->mariadb].min_major,
		    flavours[s->mariadb].min_minor);
	} else if (s->major >= flavours[s->mariadb].next_major) {
		r = PRECHECK_WARN;
		note = xasprintf(": newer than the %s versions ferry was tested "
		    "with (%s)", flavours[s->mariadb].name,
		    flavours[s->mariadb].tested);
		fix = xstrdup("none needed if the job runs; report what fails");
	}
	precheck_add(s->pc, r, "source.version", fix, "%s %s%s",
	    flavours[s->mariadb].name, info, note != NULL ? note : "");
	free(note);
	free(fix);
}

/* One setting that must have a value. */
static void
src_setting(struct src *s, const char *var, const char *want,
    const char *fix)
{
	char	*v, *name;
	int	 ok;

	name = xasprintf("source.%s", var);
	if (src_var(s, var, &v) != 0) {
		/* binlog_row_image is MySQL 5.6 / MariaDB 10.1.6: before,
		 * images are always full. */
		if (strcmp(var, "binlog_row_image") == 0)
			precheck_add(s->pc, PRECHECK_PASS, name, NULL, "not a "
			    "setting of this server: row images are full");
		else
			precheck_add(s->pc, PRECHECK_FAIL, name, fix, "the "
			    "server does not report @@global.%s", var);
		free(name);
		return;
	}
	ok = strcmp(want, "ON") == 0 ? src_on(v) : v != NULL &&
	    strcasecmp(v, want) == 0;
	if (ok)
		precheck_add(s->pc, PRECHECK_PASS, name, NULL, "%s = %s", var,
		    v);
	else
		precheck_add(s->pc, PRECHECK_FAIL, name, fix, "%s = %s, not %s",
		    var, v != NULL ? v : "NULL", want);
	free(v);
	free(name);
}

static void
src_settings(struct src *s)
{
	char	*v = NULL;

	src_setting(s, "log_bin", "ON", "start the server with the binary "
	    "log on: log_bin = binlog in the [mysqld] section of its "
	    "configuration, then restart it");
	src_setting(s, "binlog_format", "ROW", "SET GLOBAL binlog_format = "
	    "'ROW'; and binlog_format = ROW in the [mysqld] section of the "
	    "server's configuration");
	src_setting(s, "binlog_row_image", "FULL", "SET GLOBAL "
	    "binlog_row_image = 'FULL'; and binlog_row_image = FULL in the "
	    "[mysqld] section of the server's configuration");
	if (src_var(s, "binlog_row_metadata", &v) != 0)
		precheck_add(s->pc, PRECHECK_WARN, "source.binlog_row_metadata",
		    "none on this server (binlog_row_metadata is MySQL 8.0.1 "
		    "and MariaDB 10.5); keep a job running through DDL of its "
		    "tables", "not a setting of this server: the binlog names "
		    "no columns, so ferry takes names, charsets and ENUM/SET "
		    "labels from the tables' current definitions (a row "
		    "written before a DDL that ferry reads after it stops the "
		    "job)");
	else if (v == NULL || strcasecmp(v, "FULL") != 0)
		precheck_add(s->pc, PRECHECK_WARN, "source.binlog_row_metadata",
		    "SET GLOBAL binlog_row_metadata = 'FULL'; and "
		    "binlog_row_metadata = FULL in the server's configuration",
		    "binlog_row_metadata = %s: the binlog names no columns, so "
		    "ferry takes names, charsets and ENUM/SET labels from the "
		    "tables' current definitions (a row written before a DDL "
		    "that ferry reads after it stops the job)", v != NULL ? v :
		    "NULL");
	else
		precheck_add(s->pc, PRECHECK_PASS, "source.binlog_row_metadata",
		    NULL, "binlog_row_metadata = FULL");
	free(v);
}

/* The source's server_id, and ferry's not in use by another replica. */
static void
src_server_ids(struct src *s)
{
	MYSQL_RES	*res;
	MYSQL_ROW	 row;
	char		*v = NULL, *fix, *clash = NULL;
	unsigned long	 registered = 0, dumps = 0;

	if (src_var(s, "server_id", &v) != 0 || v == NULL)
		precheck_add(s->pc, PRECHECK_FAIL, "source.server_id",
		    "server_id = N (unique among the servers) in the [mysqld] "
		    "section of the server's configuration", "the server does "
		    "not report its server_id");
	else if (strcmp(v, "0") == 0)
		precheck_add(s->pc, PRECHECK_FAIL, "source.server_id",
		    "SET GLOBAL server_id = N; (N unique among the servers) "
		    "and server_id = N in the server's configuration",
		    "server_id = 0: the server refuses replicas");
	else
		precheck_add(s->pc, PRECHECK_PASS, "source.server_id", NULL,
		    "server_id = %s", v);
	free(v);

	/* Replicas that registered (ferry does, as a replica does). */
	if ((mysql_query(s->m, "SHOW SLAVE HOSTS") == 0 ||
	    mysql_query(s->m, "SHOW REPLICAS") == 0) &&
	    (res = mysql_store_result(s->m)) != NULL) {
		while ((row = mysql_fetch_row(res)) != NULL) {
			registered++;
			if (row[0] != NULL && strtoul(row[0], NULL, 10) ==
			    s->spec->server_id && clash == NULL)
				clash = xasprintf("%s:%s", row[1] != NULL &&
				    *row[1] != '\0' ? row[1] : "?",
				    mysql_num_fields(res) > 2 && row[2] !=
				    NULL ? row[2] : "?");
		}
		mysql_free_result(res);
	}
	/* Binlog readers connected (all of them with PROCESS, else the
	 * account's own). */
	if (mysql_query(s->m, "SELECT COUNT(*) FROM "
	    "information_schema.PROCESSLIST WHERE COMMAND LIKE "
	    "'Binlog Dump%'") == 0 && (res = mysql_store_result(s->m)) !=
	    NULL) {
		if ((row = mysql_fetch_row(res)) != NULL && row[0] != NULL)
			dumps = strtoul(row[0], NULL, 10);
		mysql_free_result(res);
	}
	fix = xasprintf("stop the other reader or give it a server_id other "
	    "than %" PRIu32 " (ferry's for this job); the two would "
	    "disconnect each other", s->spec->server_id);
	if (clash != NULL)
		precheck_add(s->pc, s->o->running ? PRECHECK_WARN :
		    PRECHECK_FAIL, "source.replica_server_id", fix,
		    "a replica registered from %s uses server_id %" PRIu32
		    ", the job's%s", clash, s->spec->server_id, s->o->running ?
		    " (the job is running: it may be the job itself)" : "");
	else if (dumps > registered)
		precheck_add(s->pc, PRECHECK_WARN, "source.replica_server_id",
		    fix, "%lu binlog reader%s connected without registering a "
		    "server_id (mysqlbinlog, mariadb-binlog, CDC tools); should "
		    "one use server_id %" PRIu32 ", the job's, each disconnects "
		    "the other", dumps - registered, dumps - registered == 1 ?
		    " is" : "s are", s->spec->server_id);
	else
		precheck_add(s->pc, PRECHECK_PASS, "source.replica_server_id",
		    NULL, "server_id %" PRIu32 " (the job's) is not in use by "
		    "a connected replica (%lu registered)", s->spec->server_id,
		    registered);
	free(fix);
	free(clash);
}

/* GTIDs: reported; a warning when an endpoint of several servers has
 * none (the job cannot follow its source to another server). */
static void
src_gtid(struct src *s)
{
	char	*v = NULL;
	int	 several = s->spec->source.nhosts > 1;

	if (s->mariadb) {
		if (src_var(s, "gtid_binlog_pos", &v) == 0)
			precheck_add(s->pc, PRECHECK_PASS, "source.gtid_mode",
			    NULL, "MariaDB GTIDs (gtid_binlog_pos = %s)",
			    v != NULL && *v != '\0' ? v : "empty");
		else
			precheck_add(s->pc, several ? PRECHECK_WARN :
			    PRECHECK_PASS, "source.gtid_mode", "upgrade to "
			    "MariaDB 10.0 or later for GTIDs", "no GTIDs "
			    "(before MariaDB 10.0): the job follows file and "
			    "position, and cannot move to another server");
	} else if (src_var(s, "gtid_mode", &v) == 0 && v != NULL &&
	    strcasecmp(v, "ON") == 0)
		precheck_add(s->pc, PRECHECK_PASS, "source.gtid_mode", NULL,
		    "gtid_mode = ON");
	else
		precheck_add(s->pc, several ? PRECHECK_WARN : PRECHECK_PASS,
		    "source.gtid_mode", "SET GLOBAL enforce_gtid_consistency "
		    "= ON; then gtid_mode OFF_PERMISSIVE, ON_PERMISSIVE, ON "
		    "in turn (SET GLOBAL gtid_mode = ...), and in the "
		    "configuration", "gtid_mode = %s: the job follows file "
		    "and position, and cannot move to another server of the "
		    "endpoint after a failover", v != NULL ? v : "not "
		    "supported");
	free(v);
}

/* Binlog retention: below a day, a job stopped overnight finds its
 * position purged. */
static void
src_retention(struct src *s)
{
	char		*v = NULL;
	uint64_t	 secs = 0;
	double		 days = 0;

	if (src_var(s, "binlog_expire_logs_seconds", &v) == 0 && v != NULL)
		secs = strtoull(v, NULL, 10);
	free(v);
	v = NULL;
	if (secs == 0 && src_var(s, "expire_logs_days", &v) == 0 &&
	    v != NULL && util_parse_double(v, strlen(v), &days) == 0 &&
	    days > 0)
		secs = (uint64_t)(days * 86400);
	free(v);
	if (secs == 0)
		precheck_add(s->pc, PRECHECK_PASS, "source.binlog_retention",
		    NULL, "binary logs are kept until purged by hand "
		    "(binlog_expire_logs_seconds and expire_logs_days are 0)");
	else if (secs < 86400)
		precheck_add(s->pc, PRECHECK_WARN, "source.binlog_retention",
		    "SET GLOBAL binlog_expire_logs_seconds = 604800; (or "
		    "expire_logs_days = 7 before MySQL 8.0 and MariaDB 10.6), "
		    "and in the server's configuration", "binary logs are "
		    "purged after %" PRIu64 " s: a job stopped longer finds "
		    "its position gone and copies its tables again", secs);
	else
		precheck_add(s->pc, PRECHECK_PASS, "source.binlog_retention",
		    NULL, "binary logs are kept %" PRIu64 " s (%.1f days)",
		    secs, (double)secs / 86400);
}

/* The value of column a (or b) of a row, or NULL. */
static const char *
src_column(MYSQL_RES *res, MYSQL_ROW row, const char *a, const char *b)
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
 * A source that is itself a replica (A -> B -> ferry) has in its binlog
 * what it replicates only with log_slave_updates (log_replica_updates on
 * MySQL 8.0.26 and later).  Reported only for a replica.
 */
static void
src_replica(struct src *s)
{
	MYSQL_RES	*res = NULL;
	MYSQL_ROW	 row;
	const char	*host, *port;
	char		*of, *v = NULL;

	if ((mysql_query(s->m, "SHOW SLAVE STATUS") != 0 &&
	    mysql_query(s->m, "SHOW REPLICA STATUS") != 0) ||
	    (res = mysql_store_result(s->m)) == NULL)
		return;		/* not allowed to look, or not one */
	if ((row = mysql_fetch_row(res)) == NULL) {
		mysql_free_result(res);
		return;
	}
	host = src_column(res, row, "Master_Host", "Source_Host");
	port = src_column(res, row, "Master_Port", "Source_Port");
	if (host == NULL || *host == '\0') {
		/* A row with no source (Dolt shows one unconfigured). */
		mysql_free_result(res);
		return;
	}
	of = xasprintf("%s:%s", host, port != NULL ? port : "?");
	mysql_free_result(res);
	if (src_var(s, "log_replica_updates", &v) != 0)
		(void)src_var(s, "log_slave_updates", &v);
	if (!src_on(v))
		precheck_add(s->pc, PRECHECK_FAIL, "source.log_slave_updates",
		    "start the replica with log_slave_updates = ON "
		    "(log_replica_updates on MySQL 8.0.26 and later), or read "
		    "the primary", "the source is a replica of %s and "
		    "log_slave_updates is %s: what it replicates is not in its "
		    "binlog, so the job would miss every change made on the "
		    "primary", of, v != NULL ? "OFF" : "unknown");
	else
		precheck_add(s->pc, PRECHECK_PASS, "source.log_slave_updates",
		    NULL, "the source is a replica of %s with log_slave_updates "
		    "ON: the primary's changes reach the job through it", of);
	free(v);
	free(of);
}

/* The account's grants: SHOW GRANTS, and on MySQL its active roles'. */
static void
src_grants(struct src *s)
{
	MYSQL_RES	*res;
	MYSQL_ROW	 row;
	char		*v = NULL, *why = NULL, *at, *sql;

	if (mysql_conn_query_string(s->m, "SELECT CURRENT_USER()", &v,
	    &why) == 0 && v != NULL && (at = strrchr(v, '@')) != NULL) {
		*at = '\0';
		s->account = xasprintf("'%s'@'%s'", v, at + 1);
	} else
		s->account = xstrdup("USER");
	free(v);
	free(why);
	v = NULL;
	why = NULL;
	sql = xstrdup("SHOW GRANTS");
	if (!s->mariadb && mysql_conn_query_string(s->m, "SELECT "
	    "CURRENT_ROLE()", &v, &why) == 0 && v != NULL && *v != '\0' &&
	    strcasecmp(v, "NONE") != 0) {
		free(sql);
		sql = xasprintf("SHOW GRANTS FOR CURRENT_USER() USING %s", v);
	}
	free(v);
	free(why);
	if (mysql_query(s->m, sql) != 0 ||
	    (res = mysql_store_result(s->m)) == NULL) {
		s->grants_error = xasprintf("%s failed: %s", sql,
		    mysql_error(s->m));
		free(sql);
		return;
	}
	free(sql);
	while ((row = mysql_fetch_row(res)) != NULL) {
		if (row[0] != NULL)
			grants_add_line(&s->g, row[0]);
	}
	mysql_free_result(res);
}

/* A global privilege: fail (or warn) with the GRANT that gives it. */
static void
src_privilege(struct src *s, const char *item, unsigned int bits,
    const char *priv, enum precheck_result missing, const char *probe,
    const char *needed)
{
	char	*fix;
	int	 have;

	have = s->grants_error == NULL && (grants_allow(&s->g, bits, NULL,
	    NULL) || ((bits & GRANT_REPL_CLIENT) && (!s->mariadb ||
	    s->major < 10 || (s->major == 10 && s->minor < 5)) &&
	    grants_allow(&s->g, GRANT_SUPER, NULL, NULL)));
	if (!have && probe != NULL && mysql_query(s->m, probe) == 0) {
		mysql_free_result(mysql_store_result(s->m));
		have = 1;
	}
	if (have) {
		precheck_add(s->pc, PRECHECK_PASS, item, NULL, "%s has %s",
		    s->account, priv);
		return;
	}
	fix = xasprintf("GRANT %s ON *.* TO %s;", priv, s->account);
	if (s->grants_error != NULL)
		precheck_add(s->pc, PRECHECK_WARN, item, fix, "cannot tell "
		    "whether %s has %s (%s); it is needed %s", s->account,
		    priv, s->grants_error, needed);
	else
		precheck_add(s->pc, missing, item, fix, "%s lacks %s, needed "
		    "%s", s->account, priv, needed);
	free(fix);
}

static void
src_privileges(struct src *s)
{
	src_grants(s);
	src_privilege(s, "privilege.replication_slave", GRANT_REPL_SLAVE,
	    "REPLICATION SLAVE", PRECHECK_FAIL, NULL, "to read the binary "
	    "log");
	src_privilege(s, "privilege.replication_client", GRANT_REPL_CLIENT,
	    s->mariadb && (s->major > 10 || (s->major == 10 &&
	    s->minor >= 5)) ? "BINLOG MONITOR" : "REPLICATION CLIENT",
	    PRECHECK_FAIL, "SHOW BINARY LOGS", "for SHOW BINARY LOGS and the "
	    "snapshot's binlog position");
	src_privilege(s, "privilege.show_view", GRANT_SHOW_VIEW, "SHOW VIEW",
	    PRECHECK_WARN, NULL, "by DTS's precheck (ferry copies no views: "
	    "the job runs without it)");
	if (s->mariadb)
		precheck_add(s->pc, PRECHECK_PASS, "privilege.reload", NULL,
		    "not needed: MariaDB gives the snapshot's binlog position "
		    "without a lock");
	else
		src_privilege(s, "privilege.reload", GRANT_RELOAD, "RELOAD",
		    PRECHECK_FAIL, NULL, "for FLUSH TABLES WITH READ LOCK, "
		    "held while the snapshot's binlog position is read");
}

/* A query's rows, or NULL (the error in *why). */
static MYSQL_RES *
src_rows(struct src *s, const char *sql, char **why)
{
	MYSQL_RES	*res;

	if (mysql_query(s->m, sql) != 0 ||
	    (res = mysql_store_result(s->m)) == NULL) {
		*why = xstrdup(mysql_error(s->m));
		return (NULL);
	}
	return (res);
}

/* The largest value a column can hold, in bytes. */
static uint64_t
src_column_max(const char *type, const char *octets, const char *prec)
{
	uint64_t	p = prec != NULL ? strtoull(prec, NULL, 10) : 0;

	if (octets != NULL)
		return (strtoull(octets, NULL, 10));
	if (strcasecmp(type, "json") == 0 || strstr(type, "geometry") ||
	    strstr(type, "point") || strstr(type, "polygon") ||
	    strstr(type, "linestring") || strstr(type, "collection"))
		return (PRECHECK_HUGE);
	if (strcasecmp(type, "decimal") == 0)
		return (p + 2);
	if (strcasecmp(type, "bit") == 0)
		return ((p + 7) / 8);
	return (32);	/* numbers, dates and times, as text at most */
}

/* The key of db.t: a primary key, or a unique key on NOT NULL columns. */
static void
src_key(struct src *s, const char *db, const char *t, const char *edb,
    const char *et)
{
	struct buf	 cols = BUF_INITIALIZER;
	MYSQL_RES	*res;
	MYSQL_ROW	 row;
	char		*sql, *why = NULL, *name, *uk = NULL, *cur = NULL;
	char		*qdb, *qt, *fix;
	int		 pk = 0, ok = 1;

	name = xasprintf("table.key %s.%s", db, t);
	sql = xasprintf("SELECT INDEX_NAME, NON_UNIQUE, COLUMN_NAME, NULLABLE "
	    "FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = '%s' AND "
	    "TABLE_NAME = '%s' ORDER BY INDEX_NAME = 'PRIMARY' DESC, "
	    "INDEX_NAME, SEQ_IN_INDEX", edb, et);
	if ((res = src_rows(s, sql, &why)) == NULL) {
		precheck_add(s->pc, PRECHECK_WARN, name, "GRANT SELECT ON "
		    "the table (information_schema shows what the account may "
		    "see)", "cannot read its indexes: %s", why);
		goto out;
	}
	/* The first qualifying index: PRIMARY sorts first. */
	while ((row = mysql_fetch_row(res)) != NULL) {
		if (row[0] == NULL || row[1] == NULL)
			continue;
		if (cur == NULL || strcmp(cur, row[0]) != 0) {
			if (cur != NULL && ok && (pk || uk != NULL))
				break;	/* the previous one qualifies */
			free(cur);
			cur = xstrdup(row[0]);
			buf_reset(&cols);
			ok = strcmp(row[1], "0") == 0;
			pk = ok && strcmp(row[0], "PRIMARY") == 0;
			free(uk);
			uk = ok && !pk ? xstrdup(row[0]) : NULL;
		}
		if (row[3] != NULL && strcmp(row[3], "YES") == 0)
			ok = 0;	/* a NULL in a unique key repeats */
		buf_printf(&cols, "%s%s", cols.len > 0 ? ", " : "",
		    row[2] != NULL ? row[2] : "?");
	}
	mysql_free_result(res);
	if (cur != NULL && ok && (pk || uk != NULL))
		precheck_add(s->pc, PRECHECK_PASS, name, NULL, "%s (%.*s)",
		    pk ? "primary key" : "unique key on NOT NULL columns",
		    (int)cols.len, (const char *)cols.data);
	else {
		qdb = src_ident(db);
		qt = src_ident(t);
		fix = xasprintf("ALTER TABLE %s.%s ADD PRIMARY KEY (...); or "
		    "let the job carry it without one: ferry job create ... "
		    "--allow-no-key", qdb, qt);
		precheck_add(s->pc, s->o->allow_no_key ? PRECHECK_WARN :
		    PRECHECK_FAIL, name, fix, "no primary key and no unique key "
		    "on NOT NULL columns: the copy is read in one pass and a "
		    "consumer cannot tell rows apart by key (DTS: records may "
		    "repeat)%s", s->o->allow_no_key ? "; the job allows it "
		    "(--allow-no-key)" : "");
		free(fix);
		free(qdb);
		free(qt);
	}
out:
	free(uk);
	free(cur);
	buf_release(&cols);
	free(why);
	free(sql);
	free(name);
}

/* SELECT on db.t: granted, or the server lets it be read. */
static int
src_can_select(struct src *s, const char *db, const char *t)
{
	char	*qdb, *qt, *sql;
	int	 ok;

	if (s->grants_error == NULL && grants_allow(&s->g, GRANT_SELECT, db,
	    t))
		return (1);
	qdb = src_ident(db);
	qt = src_ident(t);
	sql = xasprintf("SELECT * FROM %s.%s LIMIT 0", qdb, qt);
	ok = mysql_query(s->m, sql) == 0;
	if (ok)
		mysql_free_result(mysql_store_result(s->m));
	free(sql);
	free(qdb);
	free(qt);
	return (ok);
}

/* The largest row of db.t, into the table list. */
static void
src_row_size(struct src *s, const char *edb, const char *et,
    struct precheck_table *pt)
{
	MYSQL_RES	*res;
	MYSQL_ROW	 row;
	char		*sql, *why = NULL;
	uint64_t	 c;

	sql = xasprintf("SELECT DATA_TYPE, CHARACTER_OCTET_LENGTH, "
	    "NUMERIC_PRECISION FROM information_schema.COLUMNS WHERE "
	    "TABLE_SCHEMA = '%s' AND TABLE_NAME = '%s'", edb, et);
	if ((res = src_rows(s, sql, &why)) != NULL) {
		while ((row = mysql_fetch_row(res)) != NULL) {
			c = src_column_max(row[0] != NULL ? row[0] : "",
			    row[1], row[2]);
			pt->row_max = pt->row_max + c < pt->row_max ?
			    UINT64_MAX : pt->row_max + c;
			pt->ncols++;
		}
		mysql_free_result(res);
	}
	free(why);
	free(sql);
}

/* One table of the job: key, row size; added to the list. */
static void
src_table(struct src *s, const char *db, const char *t,
    struct precheck_table **out, size_t *n, struct buf *noselect)
{
	struct precheck_table	*pt;
	char			*edb = src_escape(s, db), *et = src_escape(s, t);

	*out = xreallocarray(*out, *n + 1, sizeof **out);
	pt = &(*out)[(*n)++];
	memset(pt, 0, sizeof *pt);
	pt->db = xstrdup(db);
	pt->name = xstrdup(t);
	src_key(s, db, t, edb, et);
	src_row_size(s, edb, et, pt);
	if (!src_can_select(s, db, t))
		buf_printf(noselect, "%s%s.%s", noselect->len > 0 ? ", " : "",
		    db, t);
	free(edb);
	free(et);
}

/* Every table of db (an object "db.*"). */
static void
src_database(struct src *s, const char *db, struct precheck_table **out,
    size_t *n, struct buf *noselect)
{
	MYSQL_RES	*res;
	MYSQL_ROW	 row;
	char		*edb = src_escape(s, db), *sql, *why = NULL, *name;
	char		**names = NULL;
	size_t		 k, nt = 0, views = 0;

	name = xasprintf("table.exists %s.*", db);
	sql = xasprintf("SELECT TABLE_NAME, TABLE_TYPE FROM "
	    "information_schema.TABLES WHERE TABLE_SCHEMA = '%s' ORDER BY "
	    "TABLE_NAME", edb);
	if ((res = src_rows(s, sql, &why)) == NULL) {
		precheck_add(s->pc, PRECHECK_FAIL, name, NULL, "cannot list "
		    "the tables of %s: %s", db, why);
		goto out;
	}
	while ((row = mysql_fetch_row(res)) != NULL) {
		if (row[0] == NULL)
			continue;
		if (row[1] == NULL || strcmp(row[1], "BASE TABLE") != 0) {
			views++;
			continue;
		}
		names = xreallocarray(names, nt + 1, sizeof *names);
		names[nt++] = xstrdup(row[0]);
	}
	mysql_free_result(res);
	if (nt == 0)
		precheck_add(s->pc, PRECHECK_FAIL, name, "CREATE DATABASE and "
		    "its tables on the source, GRANT SELECT ON it to the "
		    "account, or name another database", "database %s has no "
		    "base table the account can see%s", db, views > 0 ?
		    " (only views)" : "");
	else
		precheck_add(s->pc, PRECHECK_PASS, name, NULL, "%zu base "
		    "table%s%s", nt, nt == 1 ? "" : "s", views > 0 ?
		    " (views are not carried)" : "");
	for (k = 0; k < nt; k++) {
		src_table(s, db, names[k], out, n, noselect);
		free(names[k]);
	}
	free(names);
out:
	free(why);
	free(sql);
	free(name);
	free(edb);
}

/* Each object the job names: it exists, is a base table, has a key. */
static void
src_tables(struct src *s, struct precheck_table **out, size_t *n)
{
	struct buf	 noselect = BUF_INITIALIZER;
	const struct job_object *o;
	MYSQL_RES	*res;
	MYSQL_ROW	 row;
	char		*edb, *et, *sql, *why, *name, *fix;
	size_t		 i;

	for (i = 0; i < s->spec->nobjects; i++) {
		o = &s->spec->objects[i];
		if (strcmp(o->table, "*") == 0) {
			src_database(s, o->db, out, n, &noselect);
			continue;
		}
		why = NULL;
		edb = src_escape(s, o->db);
		et = src_escape(s, o->table);
		name = xasprintf("table.exists %s.%s", o->db, o->table);
		sql = xasprintf("SELECT TABLE_TYPE FROM "
		    "information_schema.TABLES WHERE TABLE_SCHEMA = '%s' AND "
		    "TABLE_NAME = '%s'", edb, et);
		if ((res = src_rows(s, sql, &why)) == NULL)
			precheck_add(s->pc, PRECHECK_FAIL, name, NULL,
			    "cannot look it up: %s", why);
		else if ((row = mysql_fetch_row(res)) == NULL ||
		    row[0] == NULL) {
			fix = xasprintf("create %s.%s on the source (or GRANT "
			    "SELECT ON it to %s), or leave it out of the job",
			    o->db, o->table, s->account);
			precheck_add(s->pc, PRECHECK_FAIL, name, fix, "%s.%s "
			    "does not exist, or %s may not see it", o->db,
			    o->table, s->account);
			free(fix);
		} else if (strcmp(row[0], "BASE TABLE") != 0)
			precheck_add(s->pc, PRECHECK_FAIL, name, "name the "
			    "tables it reads instead: the binary log has rows "
			    "of tables, none of views", "%s.%s is a %s, not a "
			    "base table", o->db, o->table, row[0]);
		else {
			precheck_add(s->pc, PRECHECK_PASS, name, NULL,
			    "base table");
			src_table(s, o->db, o->table, out, n, &noselect);
		}
		if (res != NULL)
			mysql_free_result(res);
		free(why);
		free(sql);
		free(name);
		free(edb);
		free(et);
	}
	if (noselect.len > 0) {
		fix = xasprintf("GRANT SELECT ON `db`.`table` TO %s; for each "
		    "(or GRANT SELECT ON `db`.* for a whole database)",
		    s->account);
		precheck_add(s->pc, PRECHECK_FAIL, "privilege.select", fix,
		    "%s may not read %.*s", s->account, (int)noselect.len,
		    (const char *)noselect.data);
		free(fix);
	} else
		precheck_add(s->pc, PRECHECK_PASS, "privilege.select", NULL,
		    "%s may read every table of the job", s->account);
	buf_release(&noselect);
}

void
precheck_tables_free(struct precheck_table *t, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		free(t[i].db);
		free(t[i].name);
	}
	free(t);
}

/* The source's items, and the tables found (for the targets' checks). */
void
precheck_source(struct job_spec *spec, const struct precheck_opts *o,
    struct precheck *pc, struct precheck_table **t, size_t *n)
{
	struct src	s;

	*t = NULL;
	*n = 0;
	memset(&s, 0, sizeof s);
	s.spec = spec;
	s.o = o;
	s.pc = pc;
	grants_init(&s.g);
	if (src_connect(&s) != 0)
		return;
	src_version(&s);
	src_settings(&s);
	src_server_ids(&s);
	src_gtid(&s);
	src_retention(&s);
	src_replica(&s);
	src_privileges(&s);
	src_tables(&s, t, n);
	mysql_close(s.m);
	grants_release(&s.g);
	free(s.grants_error);
	free(s.account);
}
