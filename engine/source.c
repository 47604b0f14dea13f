/*
 * The source's servers: which one an attempt reads (DESIGN.md §9).
 *
 * An endpoint names one server, or several of one replication topology
 * (mysql://u@h1:3306,h2:3306: a primary and its replicas).  An attempt
 * tries first the server whose binlog the checkpoint is in, else the one
 * the job read last, else the first named; when that one cannot be
 * reached, the others in order.  A server qualifies:
 *
 *	no checkpoint		any (before the first one, the server of an
 *				interrupted copy's snapshots only: its rows
 *				and their binlog positions go together)
 *	the checkpoint's	always: the job resumes where it was (one
 *				an earlier ferry saved names no server: the
 *				endpoint's first)
 *	another			by GTID only: the checkpoint has the source's
 *				GTID state, the server has GTIDs of the same
 *				flavour and its binlog holds that state
 *
 * Reading another server is a move: the follower starts there by GTID
 * (engine/follow.c), the checkpoint's file and position stay the old
 * server's until the first transaction read there passes the watermark
 * (engine/watermark.c), and the schema versions the old server's binlog
 * made past the checkpoint go (the new one's makes them again).  Once the
 * sink has read what the topics hold, source_check_written() makes sure
 * the new server has every transaction whose records may be there: a
 * transaction the old primary committed, the job wrote and no replica
 * received would otherwise be followed by other changes under the same
 * record ids, which the exactly-once resume would skip.
 *
 * Servers are told apart by @@server_id, which a replication topology
 * needs unique; their addresses are what job show names.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/log.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "engine/gtid.h"
#include "engine/source.h"

/* What an attempt learns of a server it reached. */
struct source_server {
	MYSQL		*m;
	uint32_t	 server_id;
	char		 uuid[40];	/* MySQL's server_uuid, or "" */
	int		 mariadb;
	char		*addr;		/* as the endpoint names it */
};

static void
source_server_release(struct source_server *sv)
{
	if (sv->m != NULL)
		mysql_close(sv->m);
	free(sv->addr);
	memset(sv, 0, sizeof *sv);
}

/*
 * The GTID state of the server's binlog, as text: MariaDB's
 * @@gtid_binlog_pos, MySQL's executed set (the fifth column of SHOW
 * MASTER STATUS, SHOW BINARY LOG STATUS from 8.4; @@gtid_executed is not
 * kept by every MySQL-compatible server).  0, or -1 with *cause.
 */
int
source_gtid_state(MYSQL *m, int mariadb, char **state, char **cause)
{
	MYSQL_RES	*res;
	MYSQL_ROW	 r;

	*state = NULL;
	if (mariadb) {
		if (mysql_conn_query_string(m, "SELECT @@global.gtid_binlog_pos",
		    state, cause) != 0)
			return (-1);
		if (*state == NULL)
			*state = xstrdup("");
		return (0);
	}
	if (mysql_query(m, "SHOW MASTER STATUS") != 0 &&
	    mysql_query(m, "SHOW BINARY LOG STATUS") != 0) {
		*cause = mysql_conn_error(m, "reading the server's GTID set");
		return (-1);
	}
	if ((res = mysql_store_result(m)) == NULL) {
		*cause = mysql_conn_error(m, "reading the server's GTID set");
		return (-1);
	}
	if ((r = mysql_fetch_row(res)) != NULL && mysql_num_fields(res) >= 5 &&
	    r[4] != NULL)
		*state = xstrdup(r[4]);
	mysql_free_result(res);
	if (*state == NULL) {
		*cause = xstrdup("the server shows no binlog status (is the "
		    "binlog on?)");
		return (-1);
	}
	return (0);
}

/* Connect to server i and learn who it is: 0, or -1 with *cause. */
static int
source_reach(struct mysql_conn_opts *opts, size_t i, struct source_server *sv,
    char **cause)
{
	char	*v = NULL, *why = NULL;

	memset(sv, 0, sizeof *sv);
	mysql_conn_opts_pick(opts, i);
	sv->addr = mysql_conn_address(opts);
	if ((sv->m = mysql_conn_open(opts, cause)) == NULL)
		return (-1);
	if (mysql_conn_query_string(sv->m, "SELECT @@server_id", &v,
	    cause) != 0)
		return (-1);
	sv->server_id = v != NULL ? (uint32_t)strtoul(v, NULL, 10) : 0;
	free(v);
	v = (char *)mysql_get_server_info(sv->m);
	sv->mariadb = v != NULL && strstr(v, "MariaDB") != NULL;
	/* MySQL names itself by server_uuid; MariaDB has none (error
	 * 1193), nor need a MySQL-compatible server. */
	v = NULL;
	if (!sv->mariadb && mysql_conn_query_string(sv->m,
	    "SELECT @@server_uuid", &v, &why) == 0 && v != NULL)
		util_strlcpy(sv->uuid, v, sizeof sv->uuid);
	free(why);
	free(v);
	return (0);
}

/*
 * Whether the server sv may serve the job from its checkpoint: NULL, or
 * the reason it may not (a new string).
 */
static char *
source_refusal(struct watermark *wm, uint32_t pinned, size_t ix,
    const struct source_server *sv, int *moved)
{
	struct gtid_state	 want, have;
	const char		*ck = watermark_gtid(wm);
	char			*state = NULL, *why = NULL;
	int			 flavour = sv->mariadb ? GTID_MARIADB : GTID_MYSQL;

	*moved = 0;
	if (watermark_file(wm) == NULL) {
		if (pinned != 0 && sv->server_id != pinned)
			return (xasprintf("the interrupted initial copy was "
			    "read from server_id %" PRIu32 ", so it goes on "
			    "there", pinned));
		return (NULL);
	}
	if (watermark_server(wm) == sv->server_id)
		return (NULL);
	/* A checkpoint of an earlier ferry names no server: that ferry
	 * read an endpoint's one server, the first it names now. */
	if (watermark_server(wm) == 0)
		return (ix == 0 ? NULL : xstrdup("the checkpoint was saved by "
		    "an earlier ferry on the endpoint's first server"));
	*moved = 1;
	if (ck == NULL || *ck == '\0')
		return (xasprintf("the checkpoint (%s:%" PRIu64 " of server_id "
		    "%" PRIu32 ") has no GTID state, so the job cannot go on "
		    "from another server", watermark_file(wm), watermark_pos(wm),
		    watermark_server(wm)));
	gtid_state_init(&want);
	gtid_state_init(&have);
	if (gtid_state_parse(&want, ck, GTID_NONE, &why) != 0)
		goto out;
	if (want.flavour != flavour) {
		why = xasprintf("its GTIDs are %s's and the checkpoint's %s's",
		    sv->mariadb ? "MariaDB" : "MySQL", sv->mariadb ? "MySQL" :
		    "MariaDB");
		goto out;
	}
	if (source_gtid_state(sv->m, sv->mariadb, &state, &why) != 0 ||
	    gtid_state_parse(&have, state, flavour, &why) != 0)
		goto out;
	if (!gtid_state_contains(&have, &want))
		why = xasprintf("its binlog (GTID %s) does not hold the "
		    "checkpoint's GTID %s yet", *state != '\0' ? state :
		    "none", ck);
out:
	free(state);
	gtid_state_release(&want);
	gtid_state_release(&have);
	return (why);
}

/* The order servers are tried in: the checkpoint's, else the last read,
 * else the first; then the others as named. */
static size_t *
source_order(struct jobctx *ctx, const struct mysql_conn_opts *opts,
    size_t *n)
{
	size_t	*v, first = ctx->server_ix, i, k = 0;
	char	*addr;

	*n = opts->nhosts > 1 ? opts->nhosts : 1;
	v = xcalloc(*n, sizeof *v);
	for (i = 0; i < opts->nhosts && ctx->ck_server != NULL; i++) {
		struct mysql_conn_opts	 one = *opts;

		one.host = opts->hosts[i].host;
		one.port = opts->hosts[i].port;
		addr = mysql_conn_address(&one);
		if (strcmp(addr, ctx->ck_server) == 0)
			first = i;
		free(addr);
	}
	if (first >= *n)
		first = 0;
	v[k++] = first;
	for (i = 0; i < *n; i++) {
		if (i != first)
			v[k++] = i;
	}
	return (v);
}

/*
 * Connect to the server this attempt reads, of those the endpoint names
 * (opts: the job's, whose host and port are set to it).  pinned: before
 * the first checkpoint, the server of an interrupted copy (0: none).
 * Returns the connection (the attempt's to close), with ctx->server_id,
 * the watermark's server and the store told; NULL with *cause (the
 * first server's failure, with why each other one did not qualify).
 */
MYSQL *
source_open(struct jobctx *ctx, struct mysql_conn_opts *opts,
    struct watermark *wm, uint32_t pinned, char **cause)
{
	struct source_server	 sv;
	struct checkpoint	 from;
	struct buf		 others = BUF_INITIALIZER;
	size_t			*order, n, k;
	char			*why = NULL, *first = NULL, *msg;
	int			 moved = 0;
	MYSQL			*m = NULL;

	order = source_order(ctx, opts, &n);
	for (k = 0; k < n; k++) {
		if (source_reach(opts, order[k], &sv, &why) == 0 &&
		    (why = source_refusal(wm, pinned, order[k], &sv,
		    &moved)) == NULL)
			break;
		if (k == 0) {
			first = why;
			if (sv.m == NULL)
				jobctx_mysql_failed(ctx, &first);
		} else {
			buf_printf(&others, "; %s: %s", sv.addr, why);
			free(why);
		}
		why = NULL;
		source_server_release(&sv);
	}
	if (k == n) {
		/* A login refused by the first server is the endpoint's
		 * problem, unless another server took it. */
		*cause = xasprintf("%s%.*s", first, (int)others.len,
		    (const char *)others.data);
		goto out;
	}
	ctx->permanent = 0;	/* whatever the first said, this one took */
	memset(&from, 0, sizeof from);
	from.file = (char *)watermark_file(wm);
	from.pos = watermark_pos(wm);
	from.server_id = watermark_server(wm);
	if (JOBSTORE(ctx, reading, sv.server_id, sv.addr, moved ? &from : NULL,
	    cause) != 0)
		goto out;
	if (moved) {
		msg = xasprintf("moving to server %s (server_id %" PRIu32 ") "
		    "by GTID %s: the checkpoint's server_id %" PRIu32 " (%s) "
		    "%s", sv.addr, sv.server_id, watermark_gtid(wm),
		    watermark_server(wm), ctx->ck_server != NULL ?
		    ctx->ck_server : "?", first != NULL ? first :
		    "did not qualify");
		log_info("job %" PRId64 ": %s", ctx->id, msg);
		jobctx_log(ctx, "source", msg);
		free(msg);
	}
	ctx->server_id = sv.server_id;
	ctx->server_ix = order[k];
	watermark_set_server(wm, sv.server_id);
	memset(ctx->server, 0, sizeof ctx->server);
	snprintf(ctx->server, sizeof ctx->server, "%s (server_id %" PRIu32 ")",
	    sv.addr, sv.server_id);
	if (sv.uuid[0] != '\0')
		util_strlcpy(ctx->source_tag, sv.uuid, sizeof ctx->source_tag);
	else
		snprintf(ctx->source_tag, sizeof ctx->source_tag, "%" PRIu32,
		    sv.server_id);
	m = sv.m;
	sv.m = NULL;
out:
	if (k < n)
		source_server_release(&sv);
	free(first);
	free(order);
	buf_release(&others);
	return (m);
}

/*
 * After the sink read what the topics hold (max_id, the highest record
 * id of the job there): a job that moved needs on its new server (opts)
 * every transaction whose records may be in Kafka.  What an earlier
 * attempt of this daemon read is known; after a restart only the
 * checkpoint is (source_open() checked it).  0, or -1 with *cause (a
 * transient failure: the server may yet receive them, or the old one come
 * back).
 */
int
source_check_written(struct jobctx *ctx, struct watermark *wm,
    const struct mysql_conn_opts *opts, int64_t max_id, char **cause)
{
	struct gtid_state	 want, have;
	char			*state = NULL, *wtext = NULL, *why = NULL;
	const char		*info;
	int			 mariadb, rc = -1;
	MYSQL			*m = NULL;

	if (!watermark_foreign(wm))
		return (0);
	gtid_state_init(&want);
	gtid_state_init(&have);
	if (watermark_written(wm, max_id, &want) != 0) {
		rc = 0;			/* checked with the checkpoint alone */
		goto out;
	}
	if ((m = mysql_conn_open(opts, cause)) == NULL)
		goto out;
	info = mysql_get_server_info(m);
	mariadb = info != NULL && strstr(info, "MariaDB") != NULL;
	if (source_gtid_state(m, mariadb, &state, &why) != 0 ||
	    gtid_state_parse(&have, state, want.flavour, &why) != 0) {
		*cause = xasprintf("reading the GTID state of the server the "
		    "job moves to: %s", why);
		goto out;
	}
	if (gtid_state_contains(&have, &want)) {
		rc = 0;
		goto out;
	}
	wtext = gtid_state_text(&want);
	*cause = xasprintf("the server the job would move to (server_id %"
	    PRIu32 ") lacks transactions whose records the job already wrote "
	    "to Kafka (up to GTID %s; it has %s): they were lost in the "
	    "failover, or have not reached it yet; the job waits for them, or "
	    "for server_id %" PRIu32 " to come back (ferry job resnapshot %"
	    PRId64 " copies the tables again from the server it can reach)",
	    ctx->server_id, wtext, *state != '\0' ? state : "none",
	    watermark_server(wm), ctx->id);
out:
	if (m != NULL)
		mysql_close(m);
	free(why);
	free(wtext);
	free(state);
	gtid_state_release(&want);
	gtid_state_release(&have);
	return (rc);
}
