/*
 * Tables added to a job that follows the binlog (ferry job add-tables,
 * DESIGN.md §7): a snapshot S of their own; the binlog from the checkpoint
 * up to S for the tables the job had (the added ones' rows there are in
 * the copy: engine/follow.c, with the window of engine/window.c); the
 * checkpoint at S; their DDL and INIT records (engine/initial.c); the
 * checkpoint at S again, past those records' ids, with their schema
 * history.  The binlog then goes on from S for every table.
 *
 * Ids: from the checkpoint at S on, the job writes nothing but the copy's
 * records until it is done.  The DDL records' ids are reserved in the
 * checkpoint before they are sent; when a copy was interrupted (an added
 * table has progress but is not done, the checkpoint is at the newest
 * snapshot) the checkpoint moves above the ids its partitions hold, so a
 * replay of the binlog from there never takes an id already written.
 * Rows an interrupted generation copied are not copied again, and their
 * changes after its snapshot are not dropped (the window's segments).
 * Runs on the job's thread.
 */
#include "config.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "engine/add_tables.h"
#include "engine/job_spec.h"
#include "engine/shapes.h"

struct add_tables {
	struct jobctx		*ctx;
	struct watermark	*wm;
	struct emitter		*em;
	struct window		*w;
	struct initial		*in;
	struct follower		*f;
	/* The run's. */
	struct snap_table	*tables;	/* borrowed: the job's */
	size_t			 ntables;
	int			*adding;	/* per table: being added */
	int			*fresh;		/* ... and not begun */
	size_t			 nadd, nfresh;
	int			 begun;		/* one was interrupted */
};

struct add_tables *
add_tables_new(struct jobctx *ctx, struct watermark *wm, struct emitter *em,
    struct window *w, struct initial *in, struct follower *f)
{
	struct add_tables	*at = xcalloc(1, sizeof *at);

	at->ctx = ctx;
	at->wm = wm;
	at->em = em;
	at->w = w;
	at->in = in;
	at->f = f;
	return (at);
}

void
add_tables_free(struct add_tables *at)
{
	free(at);
}

/* Which of the job's tables are added and not copied yet, by prog. */
static void
add_tables_pick(struct add_tables *at, const struct snapshot_progress *prog,
    size_t nprog)
{
	const struct snapshot_progress	*p;
	size_t				 i, k;

	at->fresh = xcalloc(at->ntables + 1, sizeof *at->fresh);
	at->adding = xcalloc(at->ntables + 1, sizeof *at->adding);
	at->nadd = at->nfresh = 0;
	at->begun = 0;
	for (i = 0; i < at->ntables; i++) {
		if (!job_spec_pending(at->ctx->spec, at->tables[i].db,
		    at->tables[i].name))
			continue;
		p = NULL;
		for (k = 0; k < nprog; k++) {
			if (strcmp(prog[k].db, at->tables[i].db) == 0 &&
			    strcmp(prog[k].table, at->tables[i].name) == 0)
				p = &prog[k];
		}
		if (p != NULL && p->done)
			continue;
		at->adding[i] = 1;
		at->nadd++;
		if (p == NULL) {
			at->fresh[i] = 1;
			at->nfresh++;
		} else
			at->begun = 1;
	}
}

/* An interrupted copy: the checkpoint (at the newest snapshot) moves above
 * the highest id the partitions hold (max_id). */
static int
add_tables_past(struct add_tables *at, int64_t max_id, char **cause)
{
	struct snapshot_gen		*gens = NULL;
	const struct snapshot_gen	*newest = NULL;
	size_t				 ngens = 0, i;
	int				 rc = 0;

	if (!at->begun)
		return (0);
	if (JOBSTORE(at->ctx, gens, &gens, &ngens, cause) != 0)
		return (-1);
	for (i = 0; i < ngens; i++) {
		if (newest == NULL || gens[i].gen > newest->gen)
			newest = &gens[i];
	}
	if (newest != NULL && strcmp(newest->file,
	    watermark_file(at->wm)) == 0 && newest->pos ==
	    watermark_pos(at->wm) && max_id >= watermark_next_id(at->wm))
		rc = watermark_save(at->wm, watermark_file(at->wm),
		    watermark_pos(at->wm), NULL, max_id + 1, NULL, 0, cause);
	snapshot_gens_free(gens, ngens);
	return (rc);
}

/* The DDL records of the fresh tables and every added table's copy, at
 * the snapshot cp. */
static int
add_tables_copy(struct add_tables *at, MYSQL *m, struct initial_copy *cp,
    char **cause)
{
	struct snapshot_progress	*prog = NULL, sp;
	struct job_stats		*js = &at->ctx->js;
	size_t				 nprog = 0, i;
	int				 rc = -1;

	memset(js, 0, sizeof *js);
	js->lag_seconds = -1;
	js->tables_total = (int64_t)at->nadd;
	for (i = 0; i < at->ntables; i++) {
		if (at->adding[i])
			js->rows_estimated += at->tables[i].rows_estimated;
		if (at->fresh[i] && at->ctx->spec->initial_schema &&
		    initial_schema(at->in, i, cp, cause) != 0)
			return (-1);
	}
	if (emitter_snapshot_wait(at->em, 1, 0, cause) != 0)
		return (-1);
	for (i = 0; i < at->ntables; i++) {
		if (!at->fresh[i])
			continue;
		memset(&sp, 0, sizeof sp);
		sp.db = at->tables[i].db;
		sp.table = at->tables[i].name;
		sp.rows_estimated = at->tables[i].rows_estimated;
		if (JOBSTORE(at->ctx, progress_save, &sp, cause) != 0)
			return (-1);
	}
	if (JOBSTORE(at->ctx, progress_list, &prog, &nprog, cause) != 0)
		return (-1);
	for (i = 0; i < at->ntables; i++) {
		if (at->adding[i] && initial_copy_table(at->in, m, i, prog,
		    nprog, cp, cause) != 0)
			goto out;
	}
	rc = emitter_snapshot_wait(at->em, 1, 0, cause);
out:
	snapshot_list_free(prog, nprog);
	return (rc);
}

/* Their schema history at the snapshot, with the checkpoint there. */
static int
add_tables_finish(struct add_tables *at, const char *file, uint64_t pos,
    char **cause)
{
	struct schema_change	*changes;
	size_t			 i, nch = 0;
	char			*msg;
	int			 rc;

	changes = xcalloc(at->nadd + 1, sizeof *changes);
	for (i = 0; i < at->ntables; i++) {
		if (!at->adding[i])
			continue;
		changes[nch].db = at->tables[i].db;
		changes[nch].table = at->tables[i].name;
		changes[nch].definition = shapes_definition(at->tables[i].def);
		changes[nch].ddl = at->tables[i].create_sql;
		changes[nch].file = file;
		changes[nch].pos = pos;
		nch++;
	}
	rc = watermark_save(at->wm, file, pos, NULL, emitter_next_id(at->em),
	    changes, nch, cause) != 0 ||
	    JOBSTORE(at->ctx, objects_copied, at->ctx->spec->objects,
	    at->ctx->spec->nobjects, cause) != 0 ? -1 : 0;
	for (i = 0; i < nch; i++)
		free((char *)changes[i].definition);
	free(changes);
	if (rc != 0)
		return (-1);
	msg = xasprintf("added %zu table%s (%" PRId64 " rows copied)",
	    at->nadd, at->nadd == 1 ? "" : "s", at->ctx->js.rows_copied);
	jobctx_log(at->ctx, "add-tables", msg);
	free(msg);
	at->ctx->js.tables_done = at->ctx->js.tables_total;
	jobctx_save_stats(at->ctx, 1);
	return (0);
}

/*
 * Up to the snapshot file:pos: the binlog from the checkpoint for the
 * tables not being copied.  When every table is (ferry job resnapshot of
 * them all), nothing of that binlog is needed, which may be purged: the
 * ids go on above the checkpoint's and anything the partitions hold.
 */
static int
add_tables_catch_up(struct add_tables *at, const char *file, uint64_t pos,
    int64_t max_id, char **cause)
{
	int64_t	 next = watermark_next_id(at->wm);
	int	 rc;

	if (at->nadd == at->ntables) {
		emitter_restart(at->em, next > max_id ? next : max_id + 1);
		return (0);
	}
	jobctx_set_phase(at->ctx, "catching_up");
	rc = follower_run(at->f, file, pos, cause);
	window_end(at->w);
	if (rc != 0)
		return (-1);
	return (emitter_settle(at->em, cause));
}

/* The snapshot S and the binlog up to it, then the copy at S. */
static int
add_tables_at_snapshot(struct add_tables *at, int64_t max_id, char **cause)
{
	struct initial_copy	 cp;
	struct snapshot_gen	 s;
	MYSQL			*m;
	char			*file, *msg;
	uint64_t		 pos;
	int			 gen, rc = -1;

	memset(&s, 0, sizeof s);
	if ((m = mysql_conn_open(&at->ctx->spec->source, cause)) == NULL) {
		jobctx_mysql_failed(at->ctx, cause);
		return (-1);
	}
	initial_copy_init(&cp, NULL, 0, 0);
	if (snapshot_begin(m, &s, cause) != 0)
		goto out;
	file = s.file;
	pos = s.pos;
	if (JOBSTORE(at->ctx, gen_add, &s, &gen, cause) != 0 ||
	    window_load(at->w, at->ctx->server_id, cause) != 0 ||
	    window_tail_segments(at->w, cause) != 0)
		goto out;
	if (at->nadd == at->ntables)
		msg = xasprintf("copying all %zu table%s: snapshot %d at %s:%"
		    PRIu64 "; the binlog from there on", at->nadd,
		    at->nadd == 1 ? "" : "s", gen, file, pos);
	else
		msg = xasprintf("adding %zu table%s: snapshot %d at %s:%" PRIu64
		    "; the binlog from %s:%" PRIu64 " to there first",
		    at->nadd, at->nadd == 1 ? "" : "s", gen, file, pos,
		    watermark_file(at->wm), watermark_pos(at->wm));
	log_info("job %" PRId64 ": %s", at->ctx->id, msg);
	jobctx_log(at->ctx, "add-tables", msg);
	free(msg);
	if (add_tables_catch_up(at, file, pos, max_id, cause) != 0)
		goto out;

	/* The checkpoint at the snapshot, the DDL records' ids reserved. */
	if (watermark_save(at->wm, file, pos, s.gtid, emitter_next_id(at->em) +
	    (at->ctx->spec->initial_schema ? (int64_t)at->nfresh : 0), NULL, 0,
	    cause) != 0)
		goto out;
	jobctx_set_phase(at->ctx, "full_sync");
	initial_copy_init(&cp, file, pos, gen);
	cp.ck_per_table = 1;
	if (add_tables_copy(at, m, &cp, cause) != 0 ||
	    add_tables_finish(at, file, pos, cause) != 0)
		goto out;
	rc = 0;
out:
	initial_copy_release(&cp);
	mysql_close(m);
	snapshot_gen_release(&s);
	return (rc);
}

/*
 * Copy the tables added to the job (of its n tables, borrowed), if any;
 * max_id is the highest id the job's partitions hold.
 */
int
add_tables_run(struct add_tables *at, struct snap_table *tables, size_t n,
    int64_t max_id, char **cause)
{
	struct snapshot_progress	*prog = NULL;
	size_t				 nprog = 0;
	int				 rc = -1;

	at->tables = tables;
	at->ntables = n;
	if (JOBSTORE(at->ctx, progress_list, &prog, &nprog, cause) != 0)
		goto out;
	add_tables_pick(at, prog, nprog);
	if (at->nadd == 0) {
		/* Added objects whose tables are copied (or that name none
		 * yet: a table created later in DB.* comes with its binlog). */
		rc = JOBSTORE(at->ctx, objects_copied, at->ctx->spec->objects,
		    at->ctx->spec->nobjects, cause);
		goto out;
	}
	if (add_tables_past(at, max_id, cause) != 0)
		goto out;
	rc = add_tables_at_snapshot(at, max_id, cause);
out:
	if (rc != 0 && *cause == NULL)
		*cause = xstrdup("stopped");
	snapshot_list_free(prog, nprog);
	free(at->fresh);
	free(at->adding);
	at->fresh = at->adding = NULL;
	return (rc);
}
