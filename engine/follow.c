/*
 * The binlog follower (DESIGN.md §4, §7): a replication connection from
 * the watermark (engine/binlog_client.c), its events decoded
 * (engine/binlog_decoder.c) and built into changes of the job's tables
 * (engine/change.c), each checked against its table's shape
 * (engine/shapes.c), filtered by the initial sync's window
 * (engine/window.c) and sent (engine/emit.c); the binlog is cut into the
 * watermark's units at transaction boundaries.
 *
 * Between events it takes the delivery reports, saves the checkpoint,
 * sends a HEARTBEAT when the job is idle and measures the lag; while a
 * finished transaction waits for its reports it waits for the source only
 * 50 ms at a time, so the checkpoint follows the acknowledgements.
 *
 * A run ends when stopped, on an error (permanent or not: the job's life
 * decides what follows, engine/sync.c), or, given an end position (tables
 * being added, engine/add_tables.c), at the first transaction boundary at
 * or past it.  Runs on the job's thread.
 */
#include "config.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "engine/binlog.h"
#include "engine/binlog_client.h"
#include "engine/change.h"
#include "engine/follow.h"
#include "engine/gtid.h"
#include "engine/job_spec.h"
#include "engine/reader.h"
#include "schema/ddl.h"

#define FOLLOW_REPORT_POLL_MS	50
/* How long a query on the second connection (definitions, SHOW BINARY
 * LOGS) may wait for the source. */
#define FOLLOW_CTL_TIMEOUT_S	60
/* How often the lag in bytes is measured (SHOW BINARY LOGS). */
#define FOLLOW_LAG_BYTES_US	10000000
/* How often a job on its own connection looks for the shared reader. */
#define FOLLOW_SHARE_TRY_US	1000000
/* After the shared reader went on without it, or could not start. */
#define FOLLOW_SHARE_PAUSE_US	20000000
/* How long a wait on the shared reader lasts between looks at the stop. */
#define FOLLOW_SUB_WAIT_MS	200

struct follower {
	struct jobctx		*ctx;
	struct watermark	*wm;
	struct router		*rt;
	struct emitter		*em;
	struct window		*w;
	struct shapes		*sh;
	struct mysql_lazy	 ctl;		/* definitions, lag */
	struct snap_table	*tables;	/* borrowed: the job's */
	size_t			 ntables;
	struct binlog_client	*bc;		/* its own connection, or */
	struct reader_sub	*sub;		/* the shared reader */
	uint64_t		 share_tried_us;
	char			*alone;		/* reading alone, counted
						   (reader_alone()) */

	char			*cur_file;
	char			*read_file;	/* the end of the last event */
	uint64_t		 read_pos;	/* read that has a position */
	uint32_t		 last_ts;	/* of the last event read */
	uint64_t		 lag_checked_us;
	uint64_t		 last_record_us;	/* the last record sent */
	uint64_t		 hb_records;	/* n_records then */
	struct gtid_one		 txn_gtid;	/* the open transaction's */
	int			 have_txn_gtid;
	struct change		 pending_begin;	/* a BEGIN not sent yet */
	int			 have_pending;
	int			 until;		/* the run ends at */
	uint64_t		 until_fno;	/* this position */
	uint64_t		 until_pos;
};

struct follower *
follower_new(struct jobctx *ctx, struct watermark *wm, struct router *rt,
    struct emitter *em, struct window *w)
{
	struct follower	*f = xcalloc(1, sizeof *f);

	f->ctx = ctx;
	f->wm = wm;
	f->rt = rt;
	f->em = em;
	f->w = w;
	f->sh = shapes_new(ctx, wm, &f->ctl);
	return (f);
}

void
follower_free(struct follower *f)
{
	if (f == NULL)
		return;
	mysql_lazy_close(&f->ctl);
	shapes_free(f->sh);
	free(f->cur_file);
	free(f->read_file);
	free(f);
}

/* The job's tables (borrowed until the next bind). */
void
follower_bind(struct follower *f, struct snap_table *tables, size_t n)
{
	f->tables = tables;
	f->ntables = n;
}

static int
follow_selected(void *arg, const char *db, const char *table)
{
	struct follower	*f = arg;

	return (job_spec_selected(f->ctx->spec, db, table));
}

/*
 * Whether DDL c goes to Kafka (--ddl forward), and under which database.
 * A statement that names tables goes when one of them is selected, under
 * that table's database, whatever the session's default database is
 * (ALTER TABLE shop.orders run with none, or from another one); one that
 * names no table (CREATE DATABASE ...) or that ferry cannot read goes when
 * the default database holds selected tables.  NULL: it does not go;
 * otherwise the database (free it).
 */
static char *
follow_ddl_db(struct follower *f, const struct change *c)
{
	const struct job_spec	*spec = f->ctx->spec;
	struct ddl_stmt		 st;
	char			*db = NULL;
	size_t			 i;

	if (ddl_parse((const char *)c->sql, c->sql_len, c->db, &st) == 0 ||
	    st.kind == DDL_UNKNOWN) {
		ddl_stmt_free(&st);
		return (job_spec_db_selected(spec, c->db) ? xstrdup(c->db) :
		    NULL);
	}
	for (i = 0; i < st.ntables && db == NULL; i++) {
		if (st.tables[i].db != NULL && job_spec_selected(spec,
		    st.tables[i].db, st.tables[i].table))
			db = xstrdup(st.tables[i].db);
	}
	ddl_stmt_free(&st);
	return (db);
}

/*
 * Change callback.  In the window after an initial sync (from its oldest
 * snapshot to its newest), a row change goes only to the targets whose
 * copy of the row predates it, and a transaction none of whose rows goes
 * anywhere sends no BEGIN and COMMIT either.
 */
static int
follow_change(void *arg, const struct change *c, char **cause)
{
	struct follower	*f = arg;
	uint32_t	 mask = EMIT_ALL;
	int		 window;

	if ((c->kind == CHANGE_ROW || c->kind == CHANGE_BEGIN) &&
	    shapes_fill(f->sh, c, cause) != 0)
		return (-1);
	if (c->kind == CHANGE_ROW && (shapes_check(f->sh, c, cause) != 0 ||
	    shapes_keys(f->sh, c, cause) != 0))
		return (-1);
	if (c->kind == CHANGE_DDL && shapes_ddl(f->sh, c, cause) != 0)
		return (-1);
	window = window_close_at(f->w, c->file, c->pos);
	switch (c->kind) {
	case CHANGE_DDL: {
		struct change	 d;
		char		*db;
		int		 rc;

		if (f->ctx->spec->ddl != JOB_DDL_FORWARD ||
		    (db = follow_ddl_db(f, c)) == NULL)
			return (0);
		d = *c;
		d.db = db;
		rc = emitter_send(f->em, &d, EMIT_BINLOG, EMIT_ALL, NULL,
		    cause);
		free(db);
		return (rc);
	}
	case CHANGE_BEGIN:
		if (window) {
			f->pending_begin = *c;
			f->have_pending = 1;
			return (0);
		}
		break;
	case CHANGE_ROW:
		if (window && (mask = window_mask(f->w, c)) == 0)
			return (0);
		if (f->have_pending) {
			f->have_pending = 0;
			if (emitter_send(f->em, &f->pending_begin, EMIT_BINLOG,
			    EMIT_ALL, NULL, cause) != 0)
				return (-1);
		}
		return (emitter_send(f->em, c, EMIT_BINLOG, mask, NULL, cause));
	case CHANGE_COMMIT:
	case CHANGE_ROLLBACK:
		if (f->have_pending) {
			f->have_pending = 0;	/* nothing of it was sent */
			return (0);
		}
		break;
	default:
		break;
	}
	return (emitter_send(f->em, c, EMIT_BINLOG, EMIT_ALL, NULL, cause));
}

/*
 * A HEARTBEAT record when nothing was sent for heartbeat_record_ms and
 * everything sent is acknowledged.  Its id is reserved in the checkpoint
 * before it is sent (engine/watermark.c): a replay from that checkpoint
 * starts after it, so the ids of the records that follow never move (a
 * heartbeat lost in a crash leaves a gap, as DTS ids have).
 */
static int
follow_heartbeat(struct follower *f, char **cause)
{
	struct jobctx	*ctx = f->ctx;
	struct change	 c;
	uint64_t	 now = util_mono_us();

	/* Records sent since the last look: as good as sent now (this is
	 * called after each transaction), and no clock read per record. */
	if (atomic_load_explicit(&ctx->n_records, memory_order_relaxed) !=
	    f->hb_records) {
		f->hb_records = atomic_load_explicit(&ctx->n_records,
		    memory_order_relaxed);
		f->last_record_us = now;
	}
	if (ctx->opts.heartbeat_record_ms <= 0 ||
	    watermark_file(f->wm) == NULL || watermark_foreign(f->wm) ||
	    router_job_topic(f->rt) < 0 ||	/* a topic template only */
	    now - f->last_record_us <
	    (uint64_t)ctx->opts.heartbeat_record_ms * 1000)
		return (0);
	watermark_advance(f->wm);
	if (!watermark_settled(f->wm) || watermark_dirty(f->wm))
		return (0);
	memset(&c, 0, sizeof c);
	c.kind = CHANGE_HEARTBEAT;
	c.timestamp = (uint32_t)(util_wall_us() / 1000000);
	c.file = watermark_file(f->wm);
	c.pos = c.txn_pos = watermark_pos(f->wm);
	c.gtid = "";
	c.server_version = ctx->server_version;
	if (emitter_heartbeat(f->em, &c, cause) != 0)
		return (-1);
	/* Not data: rows/s stays 0 on an idle job. */
	f->last_record_us = util_mono_us();
	return (0);
}

/*
 * How many bytes of binlog the source has after the last event read (SHOW
 * BINARY LOGS: the rest of its file and every later one), every few
 * seconds.  A heartbeat says the source has sent everything: 0.  The
 * position is that of the last event with one (the artificial events a
 * dump starts with and heartbeats have none), so neither a reconnect nor
 * a rotation counts a file already read.
 */
static void
follow_lag_bytes(struct follower *f, int heartbeat)
{
	const char	*file = f->read_file;
	uint64_t	 pos = f->read_pos;
	MYSQL_RES	*res;
	MYSQL_ROW	 row;
	MYSQL		*m;
	uint64_t	 now = util_mono_us();
	int64_t		 lag = 0;
	int		 seen = 0, oldest, nfiles;
	char		*cause = NULL;

	if (heartbeat)
		jobctx_set_lag_bytes(f->ctx, 0);
	if (now - f->lag_checked_us < FOLLOW_LAG_BYTES_US)
		return;
	f->lag_checked_us = now;
	if ((m = mysql_lazy_get(&f->ctl, &cause)) == NULL) {
		free(cause);
		return;
	}
	if (mysql_query(m, "SHOW BINARY LOGS") != 0 ||
	    (res = mysql_store_result(m)) == NULL) {
		mysql_lazy_close(&f->ctl);	/* no privilege, or gone */
		return;
	}
	/* The first file listed is the oldest the source has: the next
	 * purge takes it, and a checkpoint there would be gone. */
	oldest = 0;
	for (nfiles = 0; (row = mysql_fetch_row(res)) != NULL; nfiles++) {
		int64_t	 size = row[1] != NULL ? strtoll(row[1], NULL, 10) : 0;

		if (nfiles == 0 && watermark_file(f->wm) != NULL &&
		    !watermark_foreign(f->wm) &&
		    strcmp(row[0], watermark_file(f->wm)) == 0)
			oldest = 1;

		if (file != NULL && strcmp(row[0], file) == 0) {
			seen = 1;
			lag += size > (int64_t)pos ? size - (int64_t)pos : 0;
		} else if (seen)
			lag += size;
	}
	mysql_free_result(res);
	if (!heartbeat)
		jobctx_set_lag_bytes(f->ctx, seen ? lag : -1);
	f->ctx->js.ck_oldest = oldest && nfiles > 1;
}

/*
 * Before reading the source: while a finished transaction waits for its
 * delivery reports (or its checkpoint for checkpoint_ms), wait for the
 * source only FOLLOW_REPORT_POLL_MS at a time and take the reports in
 * between, so the checkpoint follows the acknowledgements at once rather
 * than at the source's next heartbeat.
 */
static int
follow_await_source(struct follower *f, char **cause)
{
	for (;;) {
		watermark_advance(f->wm);
		if (!watermark_dirty(f->wm) && !watermark_head_closed(f->wm))
			return (0);	/* nothing finished is waiting */
		if (f->sub != NULL ? reader_sub_wait(f->sub,
		    FOLLOW_REPORT_POLL_MS) : binlog_client_wait(f->bc,
		    FOLLOW_REPORT_POLL_MS))
			return (0);
		emitter_poll(f->em, 0);
		(void)emitter_lag(f->em);
		if (watermark_delivery_ok(f->wm, cause) != 0 ||
		    watermark_checkpoint(f->wm, 0, cause) != 0)
			return (-1);
		jobctx_save_stats(f->ctx, 0);
		if (jobctx_stopping(f->ctx)) {
			*cause = xstrdup("stopped");
			return (-1);
		}
	}
}

/* The source no longer has the binlog from the watermark: say what to
 * run. */
static void
follow_purged(struct follower *f, char **cause)
{
	char	*why = *cause;

	if (!f->ctx->spec->initial_full)
		*cause = xasprintf("the binlog the job needs (%s:%" PRIu64
		    ") was purged from the source (%s); the job copies no "
		    "rows (--initial none or schema), so it cannot copy its "
		    "tables again: create a job with --initial full",
		    watermark_file(f->wm), watermark_pos(f->wm), why);
	else
		*cause = xasprintf("the binlog the job needs (%s:%" PRIu64
		    ") was purged from the source (%s); run: ferry job "
		    "resnapshot %" PRId64 " (copies its tables again from a "
		    "new snapshot, then follows the binlog from there)",
		    watermark_file(f->wm), watermark_pos(f->wm), why,
		    f->ctx->id);
	free(why);
}

/*
 * The GTID state at the watermark: from the checkpoint (MySQL's comes
 * from the snapshot's SHOW MASTER STATUS), else on MariaDB as the source
 * computes it for the file and position (BINLOG_GTID_POS, on the second
 * connection); from there each unit closes with its transaction's GTID
 * and the watermark moves the state as it passes it, so every checkpoint
 * carries the position in both forms.  Unknown (MySQL without GTIDs, a
 * checkpoint of an earlier ferry on MySQL, a source that cannot say)
 * leaves checkpoints without one.
 */
static void
follow_gtid_start(struct follower *f)
{
	char	*sql, *cause = NULL, *pos = NULL, *esc;
	MYSQL	*m;
	size_t	 len;

	f->have_txn_gtid = 0;
	if (!(f->sub != NULL ? reader_sub_mariadb(f->sub) :
	    binlog_client_mariadb(f->bc)) || watermark_file(f->wm) == NULL ||
	    watermark_gtid(f->wm) != NULL || watermark_foreign(f->wm))
		return;
	if ((m = mysql_lazy_get(&f->ctl, &cause)) == NULL)
		goto out;
	len = strlen(watermark_file(f->wm));
	esc = xmalloc(len * 2 + 1);
	mysql_real_escape_string(m, esc, watermark_file(f->wm),
	    (unsigned long)len);
	sql = xasprintf("SELECT BINLOG_GTID_POS('%s', %" PRIu64 ")", esc,
	    watermark_pos(f->wm));
	free(esc);
	if (mysql_conn_query_string(m, sql, &pos, &cause) == 0 && pos != NULL)
		watermark_set_gtid(f->wm, pos);
	free(sql);
out:
	free(cause);
	free(pos);
}

/*
 * Whether to ask for the binlog by GTID rather than by file and position:
 * on another server than the checkpoint's (its position means nothing
 * there), and on MySQL whenever the checkpoint has a GTID set (what a
 * MySQL replica does; MySQL-compatible servers such as Dolt serve
 * nothing else).  MariaDB on its own server goes by position: exact, and
 * the server need not search its binlogs for the GTID.  Returns the
 * state to start after, or NULL.
 */
static const char *
follow_by_gtid(struct follower *f)
{
	const char	*g = watermark_gtid(f->wm);

	if (g == NULL || *g == '\0')
		return (NULL);
	if (watermark_foreign(f->wm) || strchr(g, ':') != NULL)
		return (g);
	return (NULL);
}

/* The replication stream the job asks for: from the watermark. */
static void
follow_stream_opts(struct follower *f, struct binlog_client_opts *o)
{
	const struct sync_options	*opts = &f->ctx->opts;

	binlog_client_opts_init(o);
	o->conn = f->ctx->spec->source;	/* borrowed: never released */
	o->server_id = f->ctx->spec->server_id;
	o->file = (char *)watermark_file(f->wm);
	o->pos = watermark_pos(f->wm);
	o->gtid = (char *)follow_by_gtid(f);
	o->heartbeat_ms = (unsigned int)opts->heartbeat_ms;
	/* HEARTBEAT records are sent when the thread wakes: often enough. */
	if (opts->heartbeat_record_ms > 0 &&
	    (unsigned int)opts->heartbeat_record_ms < o->heartbeat_ms)
		o->heartbeat_ms = (unsigned int)opts->heartbeat_record_ms;
	o->nonblocking = 0;
}

/* Whether the job may read on the shared reader now: not a run to an end
 * position (tables being added), not paused after a detach. */
static int
follow_share_ok(const struct follower *f)
{
	return (f->ctx->opts.shared_reader && !f->until &&
	    f->ctx->server_id != 0 && util_mono_us() >=
	    f->ctx->share_after_us);
}

static void
follow_want(const struct follower *f, const struct binlog_client_opts *o,
    struct reader_want *w)
{
	w->tenant_id = f->ctx->spec->tenant_id;
	w->conn = &f->ctx->spec->source;
	w->source_id = f->ctx->server_id;
	w->heartbeat_ms = o->heartbeat_ms;
}

/* Now on the shared reader: say so (job show, the job's log). */
static void
follow_shared(struct follower *f, const char *how)
{
	char	*msg, *who = mysql_conn_describe(&f->ctx->spec->source);
	int	 n = reader_sub_peers(f->sub);

	atomic_store(&f->ctx->reader_jobs, n);
	msg = xasprintf("reads the binlog of %s on the shared reader (%s; %d "
	    "job%s there)", who, how, n, n == 1 ? "" : "s");
	log_info("job %" PRId64 ": %s", f->ctx->id, msg);
	jobctx_log(f->ctx, "reader", msg);
	free(msg);
	free(who);
}

/*
 * The stream from the watermark: the shared reader of the server when it
 * holds the watermark's position (or there is none yet and another job
 * reads the server alone: this job starts it), else a connection of the
 * job's own.  -1 with *cause (and the
 * job's permanent flag when retrying cannot help).
 */
static int
follow_open(struct follower *f, char **cause)
{
	struct binlog_client_opts	 o, ro;
	struct reader_want		 w;
	enum binlog_client_error	 kind = BINLOG_CLIENT_OK;
	int				 exists = 0;

	f->bc = NULL;
	f->sub = NULL;
	follow_stream_opts(f, &o);
	if (follow_share_ok(f)) {
		follow_want(f, &o, &w);
		if (o.gtid == NULL && o.file != NULL &&
		    (f->sub = reader_attach(&w, o.file, o.pos,
		    follow_selected, f, &exists)) != NULL) {
			follow_shared(f, "attached at its checkpoint");
			return (0);
		}
		/* A server only this job reads: its own connection (one
		 * reader thread more would only cost); the second job to
		 * read it starts the shared reader. */
		if (!exists && reader_alone_count(&w) > 0) {
			ro = o;
			ro.server_id = reader_server_id(o.server_id);
			if ((f->sub = reader_start(&w, &ro, follow_selected,
			    f, &kind, cause)) != NULL) {
				follow_shared(f, "started it");
				return (0);
			}
			/* Its server_id still registered: read alone. */
			if (kind != BINLOG_CLIENT_OK &&
			    kind != BINLOG_CLIENT_ID_IN_USE)
				goto failed;
			free(*cause);
			*cause = NULL;
		}
	}
	atomic_store(&f->ctx->reader_jobs, 0);
	if ((f->bc = binlog_client_open(&o, &kind, cause)) != NULL) {
		if (follow_share_ok(f)) {
			int	 others;

			follow_want(f, &o, &w);
			f->alone = reader_alone(&w, NULL, 1, &others);
		}
		return (0);
	}
failed:
	if (kind == BINLOG_CLIENT_PURGED)
		follow_purged(f, cause);
	if (kind == BINLOG_CLIENT_AUTH && strstr(*cause, "error 1045") != NULL)
		jobctx_login_refused(f->ctx, cause);
	if (kind == BINLOG_CLIENT_PURGED || kind == BINLOG_CLIENT_AUTH ||
	    kind == BINLOG_CLIENT_FATAL)
		f->ctx->permanent = 1;
	return (-1);
}

/* No longer reading alone. */
static void
follow_alone_end(struct follower *f)
{
	int	 others;

	if (f->alone != NULL)
		f->alone = reader_alone(NULL, f->alone, -1, &others);
}

/*
 * On its own connection at a transaction boundary, file:pos: move to the
 * shared reader when it has that position, or start one there when the
 * server has none and another job reads it alone too (at most once a
 * second).
 */
static void
follow_try_share(struct follower *f, struct binlog_decoder *dec,
    const char *file, uint64_t pos)
{
	struct binlog_client_opts	 o;
	struct reader_want		 w;
	struct reader_sub		*sub;
	enum binlog_client_error	 kind;
	uint64_t			 now = util_mono_us();
	int				 exists;
	char				*cause = NULL;

	if (!follow_share_ok(f) || now - f->share_tried_us <
	    FOLLOW_SHARE_TRY_US)
		return;
	f->share_tried_us = now;
	follow_stream_opts(f, &o);
	follow_want(f, &o, &w);
	if ((sub = reader_attach(&w, file, pos, follow_selected, f,
	    &exists)) == NULL) {
		if (exists || reader_alone_count(&w) < 2)
			return;
		o.file = (char *)file;
		o.pos = pos;
		o.gtid = NULL;
		o.server_id = reader_server_id(o.server_id);
		if ((sub = reader_start(&w, &o, follow_selected, f, &kind,
		    &cause)) == NULL) {
			if (kind != BINLOG_CLIENT_OK) {
				log_info("job %" PRId64 ": no shared binlog "
				    "reader: %s", f->ctx->id, cause);
				f->ctx->share_after_us = now +
				    FOLLOW_SHARE_PAUSE_US;
			}
			free(cause);
			return;
		}
	}
	(void)jobctx_attach(f->ctx, NULL);
	binlog_client_close(f->bc);
	f->bc = NULL;
	f->sub = sub;
	binlog_decoder_set_verified(dec, 1);
	follow_alone_end(f);
	follow_shared(f, exists ? "caught up with it" : "started it");
}

/*
 * The next event of the stream, and the binlog file it is in (as a
 * replication connection names it): 1, or -1 with *kind and *cause.
 */
static int
follow_next(struct follower *f, const uint8_t **raw, size_t *len,
    uint64_t *off, const char **file, enum binlog_client_error *kind,
    char **cause)
{
	int	 rc;

	if (f->bc != NULL) {
		rc = binlog_client_next(f->bc, raw, len, off, kind, cause);
		*file = binlog_client_file(f->bc);
		return (rc);
	}
	for (;;) {
		rc = reader_sub_next(f->sub, FOLLOW_SUB_WAIT_MS, raw, len, off,
		    file, kind, cause);
		if (rc < 0 && reader_sub_detached(f->sub)) {
			f->ctx->quick_retry = 1;
			f->ctx->share_after_us = util_mono_us() +
			    FOLLOW_SHARE_PAUSE_US;
		}
		if (rc != 0)
			return (rc);
		if (jobctx_stopping(f->ctx)) {
			*kind = BINLOG_CLIENT_STOPPED;
			*cause = xstrdup("stopped");
			return (-1);
		}
	}
}

/* Whichever stream the job reads, closed. */
static void
follow_close(struct follower *f)
{
	follow_alone_end(f);
	(void)jobctx_attach(f->ctx, NULL);
	binlog_client_close(f->bc);
	f->bc = NULL;
	reader_leave(f->sub);
	f->sub = NULL;
	atomic_store(&f->ctx->reader_jobs, 0);
}

/* After the events of one packet: lag, reports, checkpoint, heartbeat,
 * statistics.  -1 with *cause ends the run. */
static int
follow_between(struct follower *f, struct change_builder *cb, int heartbeat,
    char **cause)
{
	/*
	 * Lag: how old the oldest change Kafka has not acknowledged is; with
	 * none, how old the last event read is, and a heartbeat says the
	 * source has nothing newer: 0.
	 */
	watermark_advance(f->wm);
	if (!heartbeat)
		jobctx_count(&f->ctx->n_events, 1);
	if (!emitter_lag(f->em)) {
		if (heartbeat) {
			if (!watermark_head_closed(f->wm))
				jobctx_set_lag(f->ctx, 0);
		} else if (f->last_ts != 0)
			jobctx_set_lag(f->ctx, (int64_t)(util_wall_us() /
			    1000000) - f->last_ts);
	}
	emitter_poll(f->em, 0);
	if (watermark_delivery_ok(f->wm, cause) != 0 ||
	    watermark_checkpoint(f->wm, 0, cause) != 0)
		return (-1);
	if (change_builder_at_boundary(cb) && follow_heartbeat(f, cause) != 0)
		return (-1);
	follow_lag_bytes(f, heartbeat);
	if (f->sub != NULL && util_mono_us() - f->share_tried_us >
	    FOLLOW_SHARE_TRY_US) {
		f->share_tried_us = util_mono_us();
		atomic_store(&f->ctx->reader_jobs, reader_sub_peers(f->sub));
	}
	jobctx_save_stats(f->ctx, 0);
	if (jobctx_stopping(f->ctx)) {
		*cause = xstrdup("stopped");
		return (-1);
	}
	return (0);
}

/* Whether file:pos is at or past the run's end position. */
static int
follow_past_until(const struct follower *f, const char *file, uint64_t pos)
{
	return (f->until && window_poscmp(change_file_number(file), pos,
	    f->until_fno, f->until_pos) >= 0);
}

/*
 * Decode one packet's events into changes; 1 when it held a transaction
 * boundary (*heartbeat when a source heartbeat), 0, or -1 with *cause.
 */
static int
follow_decode(struct follower *f, struct binlog_decoder *dec,
    struct change_builder *cb, int *heartbeat, char **cause)
{
	struct binlog_event	 ev;
	int			 rc, boundary = 0;

	*heartbeat = 0;
	while ((rc = binlog_decoder_next(dec, &ev, cause)) == 1) {
		if (!ev.in_payload && ev.h.timestamp != 0)
			f->last_ts = ev.h.timestamp;
		if (ev.h.type == BINLOG_MARIA_GTID) {
			f->txn_gtid.flavour = GTID_MARIADB;
			f->txn_gtid.domain = ev.gtid.domain_id;
			f->txn_gtid.server = ev.h.server_id;
			f->txn_gtid.seq = ev.gtid.seq_no;
			f->have_txn_gtid = 1;
		} else if (!ev.in_payload && (ev.h.type == BINLOG_GTID ||
		    ev.h.type == BINLOG_GTID_TAGGED) && ev.gtid.gno > 0) {
			f->txn_gtid.flavour = GTID_MYSQL;
			memcpy(f->txn_gtid.uuid, ev.gtid.uuid, 16);
			memcpy(f->txn_gtid.tag, ev.gtid.tag,
			    sizeof f->txn_gtid.tag);
			f->txn_gtid.seq = (uint64_t)ev.gtid.gno;
			f->have_txn_gtid = 1;
		}
		if (change_builder_feed(cb, dec, &ev, cause) != 0)
			return (-1);
		if (!ev.in_payload && (ev.h.type == BINLOG_QUERY ||
		    ev.h.type == BINLOG_XID ||
		    ev.h.type == BINLOG_XA_PREPARE ||
		    ev.h.type == BINLOG_TRANSACTION_PAYLOAD ||
		    ev.h.type == BINLOG_MARIA_QUERY_COMPRESSED))
			boundary = 1;
		if (ev.h.type == BINLOG_HEARTBEAT ||
		    ev.h.type == BINLOG_HEARTBEAT_V2)
			*heartbeat = 1;
	}
	return (rc < 0 ? -1 : boundary);
}

/* The reading loop: 0 at the end position, -1 with *cause otherwise. */
static int
follow_loop(struct follower *f, struct binlog_decoder *dec,
    struct change_builder *cb, char **cause)
{
	enum binlog_client_error	 kind;
	const uint8_t			*raw;
	const char			*file;
	size_t				 len;
	uint64_t			 off;
	int				 rc, boundary, heartbeat;
	char				*why;

	for (;;) {
		if (follow_await_source(f, cause) != 0)
			return (-1);
		rc = follow_next(f, &raw, &len, &off, &file, &kind, cause);
		if (rc <= 0) {
			if (rc == 0 || kind == BINLOG_CLIENT_STOPPED ||
			    jobctx_stopping(f->ctx)) {
				free(*cause);
				*cause = xstrdup("stopped");
			} else if (kind == BINLOG_CLIENT_PURGED ||
			    kind == BINLOG_CLIENT_AUTH ||
			    kind == BINLOG_CLIENT_FATAL) {
				if (kind == BINLOG_CLIENT_PURGED)
					follow_purged(f, cause);
				f->ctx->permanent = 1;
			}
			return (-1);
		}
		if (f->cur_file == NULL || strcmp(f->cur_file, file) != 0) {
			free(f->cur_file);
			f->cur_file = xstrdup(file);
			change_builder_set_file(cb, file);
		}
		if (binlog_decoder_feed(dec, raw, len, off, cause) != 0 ||
		    (boundary = follow_decode(f, dec, cb, &heartbeat,
		    cause)) < 0) {
			why = *cause;
			*cause = xasprintf("%s: offset %" PRIu64 ": %s", file,
			    off, why);
			free(why);
			f->ctx->permanent = 1;
			return (-1);
		}
		if (off != 0 && !heartbeat) {
			if (f->read_file == NULL || strcmp(f->read_file,
			    file) != 0) {
				free(f->read_file);
				f->read_file = xstrdup(file);
			}
			f->read_pos = off + len;
		}
		if (boundary && change_builder_at_boundary(cb)) {
			watermark_close(f->wm, file, off + len,
			    emitter_next_id(f->em), f->have_txn_gtid ?
			    &f->txn_gtid : NULL);
			f->have_txn_gtid = 0;
			if (f->bc != NULL && !heartbeat)
				follow_try_share(f, dec, file, off + len);
		}
		if (change_builder_at_boundary(cb) &&
		    follow_past_until(f, file, off + len))
			return (0);
		if (follow_between(f, cb, heartbeat, cause) != 0)
			return (-1);
	}
}

/*
 * Follow the binlog from the watermark, until stopped or failed (-1 with
 * *cause), or, with until_file, up to the first transaction boundary at
 * or past until_file:until_pos (0).
 */
int
follower_run(struct follower *f, const char *until_file, uint64_t until_pos,
    char **cause)
{
	struct binlog_decoder	*dec = NULL;
	struct change_builder	*cb = NULL;
	int			 status = -1;

	f->until = until_file != NULL;
	f->until_fno = until_file != NULL ? change_file_number(until_file) : 0;
	f->until_pos = until_pos;
	f->ctl.opts = &f->ctx->spec->source;
	f->ctl.read_timeout = FOLLOW_CTL_TIMEOUT_S;
	if (follow_open(f, cause) != 0)
		return (-1);
	if (jobctx_attach(f->ctx, f->bc)) {
		*cause = xstrdup("stopped");
		goto out;
	}
	follow_gtid_start(f);
	dec = binlog_decoder_new();
	binlog_decoder_set_checksum(dec, f->sub != NULL ?
	    reader_sub_checksum(f->sub) : binlog_client_checksum(f->bc));
	binlog_decoder_set_verified(dec, f->sub != NULL);
	cb = change_builder_new(follow_change, follow_selected, f);
	emitter_restart(f->em, watermark_next_id(f->wm));
	watermark_heartbeat_reset(f->wm);
	watermark_clear_units(f->wm);
	shapes_reset(f->sh, f->tables, f->ntables);	/* as of the
							 * checkpoint */
	f->last_record_us = util_mono_us();
	f->have_pending = 0;
	if (window_load(f->w, f->ctx->server_id, cause) != 0)
		goto out;
	if (watermark_foreign(f->wm) && !window_past(f->w,
	    watermark_server(f->wm), watermark_file(f->wm),
	    watermark_pos(f->wm))) {
		*cause = xasprintf("the job cannot go on from another server "
		    "yet: its checkpoint (%s:%" PRIu64 " of server_id %" PRIu32
		    ") is inside the window of its initial copy, whose rows "
		    "are matched with that server's binlog positions; it waits "
		    "for that server", watermark_file(f->wm),
		    watermark_pos(f->wm), watermark_server(f->wm));
		goto out;
	}
	/* On another server the window is behind (window_past() above). */
	(void)window_open(f->w, watermark_foreign(f->wm) ? NULL :
	    watermark_file(f->wm), watermark_pos(f->wm));
	if (!watermark_foreign(f->wm) && follow_past_until(f,
	    watermark_file(f->wm), watermark_pos(f->wm)))
		status = 0;
	else
		status = follow_loop(f, dec, cb, cause);
out:
	if (cb != NULL && !change_builder_at_boundary(cb) && f->have_txn_gtid)
		watermark_leave(f->wm, emitter_next_id(f->em), &f->txn_gtid);
	mysql_lazy_close(&f->ctl);
	shapes_forget(f->sh);
	follow_close(f);
	change_builder_free(cb);
	binlog_decoder_free(dec);
	f->until = 0;
	return (status);
}
