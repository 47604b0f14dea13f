/*
 * The initial synchronization (DESIGN.md §7, §8).
 *
 * An attempt opens a consistent snapshot (a new generation, recorded with
 * its binlog position), sends a DDL record per table (the schema sync,
 * once for the job), then every row as an INIT record (the full sync),
 * each table from where an interrupted generation left it and skipping,
 * per target, the rows that generation already wrote (engine/window.c).
 * Tables are copied in key order in chunks; a chunk's progress is saved
 * once Kafka has acknowledged all of it, which it is given while the next
 * chunk is read.  The first checkpoint is the position of the oldest
 * snapshot any row was copied from, with the schema history seeded there.
 *
 * The initial phase is not replayed the way the binlog is (a new snapshot
 * may see other rows): its ids start above anything in the topics, so an
 * interrupted copy may repeat rows whose keys do not sort bytewise, never
 * hide one.  Runs on the job's thread.
 */
#include "config.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "engine/initial.h"
#include "engine/job_spec.h"
#include "engine/shapes.h"
#include "schema/keyenc.h"

struct initial {
	struct jobctx		*ctx;
	struct watermark	*wm;
	struct router		*rt;
	struct emitter		*em;
	struct window		*w;
	struct snap_table	*tables;	/* borrowed: the job's */
	size_t			 ntables;
	/* The row callback's: the copy in progress. */
	struct initial_copy	*copy;
};

struct initial *
initial_new(struct jobctx *ctx, struct watermark *wm, struct router *rt,
    struct emitter *em, struct window *w)
{
	struct initial	*in = xcalloc(1, sizeof *in);

	in->ctx = ctx;
	in->wm = wm;
	in->rt = rt;
	in->em = em;
	in->w = w;
	return (in);
}

void
initial_free(struct initial *in)
{
	free(in);
}

/* The job's tables (borrowed until the next bind). */
void
initial_bind(struct initial *in, struct snap_table *tables, size_t n)
{
	in->tables = tables;
	in->ntables = n;
}

/* A copy at the snapshot file:pos of generation gen. */
void
initial_copy_init(struct initial_copy *cp, const char *file, uint64_t pos,
    int gen)
{
	memset(cp, 0, sizeof *cp);
	cp->file = file;
	cp->pos = pos;
	cp->gen = gen;
	cp->now = (uint32_t)(util_wall_us() / 1000000);
	buf_init(&cp->k);
}

void
initial_copy_release(struct initial_copy *cp)
{
	buf_release(&cp->k);
	free(cp->tbl);
	cp->tbl = NULL;
}

/*
 * Row callback of the full sync: the row as an INIT record, with its
 * generation, table and key as headers, to the targets that do not have
 * it from an interrupted generation.
 */
static int
initial_row(void *arg, struct snap_table *t, const struct value *v,
    char **cause)
{
	struct initial		*in = arg;
	struct initial_copy	*cp = in->copy;
	struct window_table	*wt = window_table(in->w, cp->table);
	struct sink_meta	 meta, *mp = NULL;
	struct change		 c;
	struct route		 r;
	uint32_t		 mask = EMIT_ALL;

	if (jobctx_stopping(in->ctx)) {
		*cause = xstrdup("stopped");
		return (-1);
	}
	memset(&c, 0, sizeof c);
	c.kind = CHANGE_INIT;
	c.table = t->def;
	c.after = v;
	c.timestamp = cp->now;
	c.file = cp->file;
	c.pos = cp->pos;
	c.txn_pos = cp->pos;
	c.gtid = "";
	c.server_version = in->ctx->server_version;
	cp->rows++;
	if (wt->keyable) {
		buf_reset(&cp->k);
		if (keyenc(t->def, t->key, t->nkey, v, &cp->k) != 0) {
			*cause = xasprintf("%s: a key value cannot be encoded",
			    cp->tbl);
			return (-1);
		}
		/* A target that already has the row from an interrupted
		 * generation (its segment reaches the key) is skipped. */
		if (window_segments(in->w, cp->table) > 0) {
			if (router_route(in->rt, &c, &r, cause) != 0)
				return (-1);
			mask = window_uncopied(in->w, cp->table, cp->k.data,
			    cp->k.len, &r);
			if (mask == 0) {
				jobctx_count(&in->ctx->n_skipped, 1);
				return (0);
			}
		}
		meta.tbl = cp->tbl;
		meta.tbllen = cp->tbllen;
		meta.gen = cp->gen;
		meta.key = cp->k.data;
		meta.keylen = cp->k.len;
		mp = &meta;
	}
	if (emitter_send(in->em, &c, EMIT_SNAPSHOT, mask, mp, cause) != 0)
		return (-1);
	if (cp->rows % 1024 == 0)
		emitter_poll(in->em, 0);
	return (watermark_delivery_ok(in->wm, cause));
}

/* The schema sync's DDL record of table i: its SHOW CREATE TABLE text. */
int
initial_schema(struct initial *in, size_t i, const struct initial_copy *cp,
    char **cause)
{
	const struct snap_table	*t = &in->tables[i];
	struct change		 c;

	memset(&c, 0, sizeof c);
	c.kind = CHANGE_DDL;
	c.db = t->db;
	c.table = t->def;
	c.sql = (const uint8_t *)t->create_sql;
	c.sql_len = strlen(t->create_sql);
	c.timestamp = cp->now;
	c.file = cp->file;
	c.pos = c.txn_pos = cp->pos;
	c.gtid = "";
	c.server_version = in->ctx->server_version;
	return (emitter_send(in->em, &c, EMIT_SNAPSHOT, EMIT_ALL, NULL, cause));
}

/* Table i's saved progress, into sp (its keys borrowed from prog). */
static char *
initial_progress(struct initial *in, size_t i,
    const struct snapshot_progress *prog, size_t nprog,
    struct snapshot_progress *sp)
{
	const struct snap_table	*t = &in->tables[i];
	char			*after = NULL;
	size_t			 k;

	memset(sp, 0, sizeof *sp);
	sp->db = t->db;
	sp->table = t->name;
	sp->rows_estimated = t->rows_estimated;
	for (k = 0; k < nprog; k++) {
		if (strcmp(prog[k].db, t->db) != 0 ||
		    strcmp(prog[k].table, t->name) != 0)
			continue;
		sp->done = prog[k].done;
		sp->done_gen = prog[k].done_gen;
		if (window_table(in->w, i)->keyable) {
			sp->rows_copied = prog[k].rows_copied;
			if (prog[k].last_key != NULL) {
				free(after);
				after = xstrdup(prog[k].last_key);
			}
		}
	}
	return (after);
}

/* Table i is copied: its progress done, by the copy's generation. */
static int
initial_table_done(struct initial *in, size_t i, struct snapshot_progress *sp,
    const struct initial_copy *cp, char **cause)
{
	/* Adding tables to a running job: the checkpoint (at this snapshot)
	 * moves past the ids of what is copied before the table is done. */
	if (cp->ck_per_table && watermark_save(in->wm, watermark_file(in->wm),
	    watermark_pos(in->wm), NULL, emitter_next_id(in->em), NULL, 0,
	    cause) != 0)
		return (-1);
	sp->last_key = NULL;
	sp->done = 1;
	sp->done_gen = cp->gen;
	if (JOBSTORE(in->ctx, progress_save, sp, cause) != 0)
		return (-1);
	window_done(in->w, i, cp->gen);
	in->ctx->js.tables_done++;
	jobctx_save_stats(in->ctx, 1);
	return (0);
}

/*
 * Copy table i of the job (unless done) at cp's snapshot on m, from where
 * its progress in prog says an earlier generation stopped, in chunks: a
 * chunk's progress is saved once Kafka acknowledged all of it, which it is
 * given while the next chunk is read (a chunk waits for the one before).
 */
int
initial_copy_table(struct initial *in, MYSQL *m, size_t i,
    const struct snapshot_progress *prog, size_t nprog,
    struct initial_copy *cp, char **cause)
{
	struct snap_table		*t = &in->tables[i];
	struct job_stats		*js = &in->ctx->js;
	struct snapshot_progress	 sp;
	char				*after, *next, *acked = NULL;
	uint64_t			 n, nacked = 0, chunk;
	int				 rc = -1, have_prev = 0;

	after = initial_progress(in, i, prog, nprog, &sp);
	js->rows_copied += sp.rows_copied;
	if (sp.done) {
		js->tables_done++;
		free(after);
		return (0);
	}
	cp->table = i;
	free(cp->tbl);
	cp->tbl = xasprintf("%s.%s", t->db, t->name);
	cp->tbllen = strlen(cp->tbl);	/* once a table, not a row */
	in->copy = cp;
	while (in->ctx->spec->initial_full) {
		chunk = watermark_next_chunk(in->wm);
		if (snapshot_chunk(m, t, after, in->ctx->opts.chunk_rows,
		    initial_row, in, &next, &n, cause) != 0) {
			if (jobctx_stopping(in->ctx)) {
				free(*cause);
				*cause = xstrdup("stopped");
			} else if (!in->ctx->permanent)
				jobctx_mysql_failed(in->ctx, cause);
			goto out;
		}
		/* Progress moves only over what Kafka has: the chunk before
		 * this one, once it is all acknowledged. */
		if (have_prev) {
			if (emitter_snapshot_wait(in->em, 0, chunk - 1,
			    cause) != 0) {
				free(next);
				goto out;
			}
			sp.rows_copied += (int64_t)nacked;
			sp.last_key = acked;
			js->rows_copied += (int64_t)nacked;
			if (JOBSTORE(in->ctx, progress_save, &sp, cause) != 0) {
				free(next);
				goto out;
			}
			jobctx_save_stats(in->ctx, 0);
		}
		if (after != acked)
			free(after);
		free(acked);
		acked = after = next;
		nacked = n;
		have_prev = 1;
		if (next == NULL)
			break;
	}
	if (emitter_snapshot_wait(in->em, 1, 0, cause) != 0)
		goto out;
	sp.rows_copied += (int64_t)nacked;
	js->rows_copied += (int64_t)nacked;
	rc = initial_table_done(in, i, &sp, cp, cause);
out:
	in->copy = NULL;
	free(acked);
	if (after != acked)
		free(after);
	return (rc);
}

/* The schema history at the snapshot, with the first checkpoint: the
 * position of the oldest snapshot a copied row came from. */
static int
initial_first_checkpoint(struct initial *in, const struct snapshot_gen *at,
    char **cause)
{
	const struct snapshot_gen	*first = window_first(in->w);
	const char			*file = at->file;
	uint64_t			 pos = at->pos;
	struct schema_change		*changes;
	size_t				 i;
	int				 rc;

	changes = xcalloc(in->ntables + 1, sizeof *changes);
	for (i = 0; i < in->ntables; i++) {
		changes[i].db = in->tables[i].db;
		changes[i].table = in->tables[i].name;
		changes[i].definition = shapes_definition(in->tables[i].def);
		changes[i].ddl = in->tables[i].create_sql;
		changes[i].file = file;
		changes[i].pos = pos;
	}
	if (first == NULL)
		first = at;
	rc = watermark_save(in->wm, first->file, first->pos, first->gtid,
	    emitter_next_id(in->em), changes, in->ntables, cause);
	for (i = 0; i < in->ntables; i++)
		free((char *)changes[i].definition);
	free(changes);
	return (rc);
}

/* Move the job to phase p: 1 (with *cause "stopped") when the user
 * moved it meanwhile. */
static int
initial_advance(struct initial *in, enum job_phase p, const char *name,
    char **cause)
{
	if (JOBSTORE(in->ctx, advance, p, cause) != 0) {
		if (*cause == NULL)
			*cause = xstrdup("stopped");
		return (-1);
	}
	jobctx_set_phase(in->ctx, name);
	return (0);
}

/* The statistics of a new copy of every table. */
static void
initial_stats(struct initial *in)
{
	struct job_stats	*js = &in->ctx->js;
	size_t			 i;

	memset(js, 0, sizeof *js);
	js->lag_seconds = -1;
	js->tables_total = (int64_t)in->ntables;
	for (i = 0; i < in->ntables; i++)
		js->rows_estimated += in->tables[i].rows_estimated;
}

/* The schema sync (its DDL records) and the tables' first progress rows,
 * unless an earlier generation did them (nprog != 0). */
static int
initial_schema_sync(struct initial *in, size_t nprog,
    const struct initial_copy *cp, char **cause)
{
	struct snapshot_progress	 sp;
	size_t				 i;

	if (nprog != 0)
		return (0);
	/* The progress rows are written once the DDL records are all
	 * acknowledged. */
	if (in->ctx->spec->initial_schema) {
		if (initial_advance(in, JOB_PHASE_SCHEMA_SYNC, "schema_sync",
		    cause) != 0)
			return (-1);
		for (i = 0; i < in->ntables; i++) {
			if (initial_schema(in, i, cp, cause) != 0)
				return (-1);
		}
		if (emitter_snapshot_wait(in->em, 1, 0, cause) != 0)
			return (-1);
	}
	for (i = 0; i < in->ntables; i++) {
		memset(&sp, 0, sizeof sp);
		sp.db = in->tables[i].db;
		sp.table = in->tables[i].name;
		sp.rows_estimated = in->tables[i].rows_estimated;
		if (JOBSTORE(in->ctx, progress_save, &sp, cause) != 0)
			return (-1);
	}
	return (0);
}

/*
 * The initial phase: a consistent snapshot (a new generation), a DDL
 * record per table (schema sync, once), every row as an INIT record (full
 * sync) from where an interrupted generation left each table, then the
 * first checkpoint.
 */
int
initial_run(struct initial *in, char **cause)
{
	struct initial_copy		 cp;
	struct snapshot_progress	*prog = NULL;
	struct job_stats		*js = &in->ctx->js;
	struct snapshot_gen		 at;
	MYSQL				*m;
	size_t				 i, nprog = 0;
	int				 rc = -1, gen;

	memset(&at, 0, sizeof at);
	if ((m = mysql_conn_open(&in->ctx->spec->source, cause)) == NULL) {
		jobctx_mysql_failed(in->ctx, cause);
		return (-1);
	}
	initial_copy_init(&cp, NULL, 0, 0);
	if (snapshot_begin(m, &at, cause) != 0)
		goto out;
	if (JOBSTORE(in->ctx, gen_add, &at, &gen, cause) != 0 ||
	    window_load(in->w, 0, cause) != 0 ||
	    window_tail_segments(in->w, cause) != 0 ||
	    JOBSTORE(in->ctx, progress_list, &prog, &nprog, cause) != 0)
		goto out;
	log_info("job %" PRId64 ": snapshot %d at %s:%" PRIu64 "%s%s",
	    in->ctx->id, gen, at.file, at.pos, at.gtid != NULL &&
	    *at.gtid != '\0' ? ", GTID " : "", at.gtid != NULL ? at.gtid : "");
	initial_copy_init(&cp, at.file, at.pos, gen);
	initial_stats(in);
	if (initial_schema_sync(in, nprog, &cp, cause) != 0)
		goto out;
	if (in->ctx->spec->initial_full && initial_advance(in,
	    JOB_PHASE_FULL_SYNC, "full_sync", cause) != 0)
		goto out;
	for (i = 0; i < in->ntables; i++) {
		if (initial_copy_table(in, m, i, prog, nprog, &cp,
		    cause) != 0) {
			if (jobctx_stopping(in->ctx) && *cause == NULL)
				*cause = xstrdup("stopped");
			goto out;
		}
	}
	if (emitter_snapshot_wait(in->em, 1, 0, cause) != 0 ||
	    initial_first_checkpoint(in, &at, cause) != 0)
		goto out;
	js->tables_done = js->tables_total;
	if (js->rows_estimated < js->rows_copied)
		js->rows_estimated = js->rows_copied;
	jobctx_save_stats(in->ctx, 1);
	rc = 0;
out:
	snapshot_list_free(prog, nprog);
	initial_copy_release(&cp);
	mysql_close(m);
	snapshot_gen_release(&at);
	return (rc);
}
