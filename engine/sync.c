/*
 * A running job's life: its thread, its attempts, its back-off, its stop.
 *
 * Each job has its own thread and its own door to the store
 * (engine/jobstore.h, opened on the thread); nothing of one job waits for
 * another's.  An attempt goes:
 *
 *	load		the job's spec from the store (endpoints, secrets,
 *			options parsed), its checkpoint and statistics
 *	source		the server to read, of those the endpoint names
 *			(engine/source.c: another than the checkpoint's by
 *			GTID only), its version, the tables the selection
 *			names
 *	no checkpoint	precheck (engine/precheck.c)
 *	targets		the sink, every topic, what the topics hold
 *			(engine/emit.c, engine/route.c: the exactly-once scan)
 *	checkpoint	tables added since: their copy (engine/add_tables.c)
 *	no checkpoint	schema sync and full sync from one consistent
 *			snapshot (engine/initial.c); its position becomes the
 *			first checkpoint
 *	then		the binlog from the checkpoint, forever
 *			(engine/follow.c), drained and checkpointed on stop
 *
 * The data path runs through stages that each own their state, and call
 * one way only:
 *
 *	follow -> shapes -> route -> record (emit) -> sink -> watermark
 *
 * with the initial sync and add-tables beside the follower, and the floor
 * they share (engine/jobctx.c) beneath them all.  This file holds the
 * stages and calls into them; none calls back.
 *
 * Failures: a transient one (connection lost, broker down) ends the
 * attempt; the job waits (exponential back-off with jitter, visible in
 * ferry job show) and resumes from its checkpoint.  A permanent one
 * (authentication, purged binlog, missing table or topic, a record too
 * large under --large-row fail) fails the job with the reason.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/log.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "engine/add_tables.h"
#include "engine/emit.h"
#include "engine/follow.h"
#include "engine/initial.h"
#include "engine/job_spec.h"
#include "engine/jobctx.h"
#include "engine/precheck.h"
#include "engine/route.h"
#include "engine/snapshot.h"
#include "engine/source.h"
#include "engine/sync.h"
#include "engine/watermark.h"
#include "engine/window.h"

struct sync_job {
	struct jobctx		 ctx;
	pthread_t		 thread;
	atomic_int		 finished;
	jobstore_open_cb	 open;
	void			*open_arg;

	/* The thread's own. */
	struct job_spec		 spec;
	struct snap_table	*tables;	/* the job's, this attempt */
	size_t			 ntables;
	struct watermark	*wm;
	struct router		*rt;
	struct emitter		*em;
	struct window		*w;
	struct initial		*in;
	struct follower		*f;
	struct add_tables	*at;
	int			 attempts;	/* this thread's, so far */
};

void
sync_options_init(struct sync_options *o)
{
	o->retry_min_ms = 1000;
	o->retry_max_ms = 60000;
	o->checkpoint_ms = 1000;
	o->heartbeat_ms = 5000;
	o->heartbeat_record_ms = 10000;
	o->chunk_rows = 10000;
	o->shared_reader = 1;
}

static void
sync_stages_new(struct sync_job *sj)
{
	struct jobctx	*ctx = &sj->ctx;

	sj->wm = watermark_new(ctx);
	sj->rt = router_new(ctx);
	sj->em = emitter_new(ctx, sj->wm, sj->rt);
	sj->w = window_new(ctx, sj->rt);
	sj->in = initial_new(ctx, sj->wm, sj->rt, sj->em, sj->w);
	sj->f = follower_new(ctx, sj->wm, sj->rt, sj->em, sj->w);
	sj->at = add_tables_new(ctx, sj->wm, sj->em, sj->w, sj->in, sj->f);
}

static void
sync_stages_free(struct sync_job *sj)
{
	add_tables_free(sj->at);
	follower_free(sj->f);
	initial_free(sj->in);
	window_free(sj->w);
	emitter_free(sj->em);
	router_free(sj->rt);
	watermark_free(sj->wm);
	sj->at = NULL;
	sj->f = NULL;
	sj->in = NULL;
	sj->w = NULL;
	sj->em = NULL;
	sj->rt = NULL;
	sj->wm = NULL;
}

/* The job's tables are gone (a new attempt reads them again). */
static void
sync_tables_free(struct sync_job *sj)
{
	window_clear(sj->w);
	window_bind(sj->w, NULL, 0, NULL);
	initial_bind(sj->in, NULL, 0);
	follower_bind(sj->f, NULL, 0);
	snapshot_tables_free(sj->tables, sj->ntables);
	sj->tables = NULL;
	sj->ntables = 0;
}

/* The spec, the checkpoint and the statistics, from the store. */
static int
sync_load(struct sync_job *sj, char **cause)
{
	struct jobctx	*ctx = &sj->ctx;
	struct checkpoint cp;
	int		 permanent = 0;

	if (JOBSTORE(ctx, load, &sj->spec, &permanent, cause) != 0) {
		ctx->permanent = permanent;
		return (-1);
	}
	if (JOBSTORE(ctx, checkpoint_get, &cp, cause) != 0)
		return (-1);
	if (JOBSTORE(ctx, stats_get, &ctx->js, cause) != 0) {
		checkpoint_release(&cp);
		return (-1);
	}
	if (!ctx->throttled_base_set) {	/* the thread's counter adds to it */
		ctx->throttled_base_ms = ctx->js.throttled_ms;
		ctx->throttled_base_set = 1;
	}
	free(ctx->ck_server);
	ctx->ck_server = cp.server;
	cp.server = NULL;
	watermark_set(sj->wm, &cp);
	if (watermark_file(sj->wm) == NULL) {
		if (JOBSTORE(ctx, advance, JOB_PHASE_PRECHECKING, cause) != 0) {
			if (*cause == NULL)
				*cause = xstrdup("stopped");
			return (-1);
		}
		jobctx_set_phase(ctx, "prechecking");
	}
	return (0);
}

/* A table named before the first checkpoint that is gone after it. */
static void
sync_gone(struct sync_job *sj, const struct buf *gone)
{
	char	*msg;

	if (gone->len == 0)
		return;
	msg = xasprintf("not on the source any more (renamed or dropped), no "
	    "longer carried: %.*s", (int)gone->len, (const char *)gone->data);
	log_info("job %" PRId64 ": %s", sj->ctx.id, msg);
	jobctx_log(&sj->ctx, "warn", msg);
	free(msg);
}

/* Before the first checkpoint: the server an interrupted copy's
 * snapshots are of (0: none, or not known). */
static int
sync_pinned(struct sync_job *sj, uint32_t *pinned, char **cause)
{
	struct snapshot_gen	*gens = NULL;
	size_t			 n = 0;

	*pinned = 0;
	if (JOBSTORE(&sj->ctx, gens, &gens, &n, cause) != 0)
		return (-1);
	if (n > 0)
		*pinned = gens[n - 1].server_id;
	snapshot_gens_free(gens, n);
	return (0);
}

/*
 * The source: its version, the precheck (before the first checkpoint),
 * the tables.  Before the first checkpoint every table named must exist;
 * after it, one renamed or dropped since is no longer carried (the binlog
 * says what happened to it; add-tables brings a new name in).
 */
static int
sync_source(struct sync_job *sj, char **cause)
{
	struct jobctx	*ctx = &sj->ctx;
	struct buf	 gone = BUF_INITIALIZER;
	int		 first = watermark_file(sj->wm) == NULL, rc = -1;
	uint32_t	 pinned = 0;
	MYSQL		*m;

	if (first && sync_pinned(sj, &pinned, cause) != 0)
		return (-1);
	if ((m = source_open(ctx, &sj->spec.source, sj->wm, pinned,
	    cause)) == NULL)
		return (-1);
	free(ctx->server_version);
	ctx->server_version = xstrdup(mysql_get_server_info(m));
	sync_tables_free(sj);
	if (snapshot_tables(m, sj->spec.objects, sj->spec.nobjects,
	    first ? NULL : &gone, &sj->tables, &sj->ntables, cause) != 0) {
		if (strstr(*cause, "does not exist") != NULL ||
		    strstr(*cause, "names no table") != NULL ||
		    strstr(*cause, "cannot read") != NULL)
			ctx->permanent = 1;
		goto out;
	}
	sync_gone(sj, &gone);
	rc = 0;
out:
	buf_release(&gone);
	mysql_close(m);
	return (rc);
}

/* The targets: the sink, the job's topics, what they hold (max_id). */
static int
sync_targets(struct sync_job *sj, int64_t *max_id, char **cause)
{
	const char	**db, **name;
	struct sink	*sink;
	size_t		 i;
	int		 rc;

	if ((sink = emitter_open_sink(sj->em, cause)) == NULL)
		return (-1);
	window_bind(sj->w, sj->tables, sj->ntables, sink);
	initial_bind(sj->in, sj->tables, sj->ntables);
	follower_bind(sj->f, sj->tables, sj->ntables);
	db = xcalloc(sj->ntables + 1, sizeof *db);
	name = xcalloc(sj->ntables + 1, sizeof *name);
	for (i = 0; i < sj->ntables; i++) {
		db[i] = sj->tables[i].db;
		name[i] = sj->tables[i].name;
	}
	rc = router_open(sj->rt, db, name, sj->ntables, cause);
	free(db);
	free(name);
	if (rc != 0)
		return (-1);
	return (sink_scan(sink, max_id, cause));
}

/*
 * The precheck (engine/precheck.c), before the first checkpoint and at the
 * first start after a retry from a failure: warnings go to the job log; a
 * failing item ends the attempt with every failing item in the error,
 * for good unless each may pass by itself (a server down: retried).
 */
static int
sync_precheck(struct sync_job *sj, char **cause)
{
	struct jobctx		*ctx = &sj->ctx;
	struct precheck_opts	 o;
	struct precheck		 pc;
	const struct precheck_item *it;
	char			*msg;
	size_t			 i;
	int			 rc = -1;

	memset(&o, 0, sizeof o);
	o.allow_no_key = sj->spec.allow_no_key;
	/* After an attempt of this thread, the server may not yet have
	 * noticed that its binlog connection is gone. */
	o.running = sj->attempts > 1;
	precheck_init(&pc);
	precheck_run(&sj->spec, &o, &pc);
	for (i = 0; i < pc.n; i++) {
		it = &pc.items[i];
		/* Warnings, and what a replica source means for the job. */
		if (it->result != PRECHECK_WARN && !(it->result ==
		    PRECHECK_PASS && strcmp(it->name,
		    "source.log_slave_updates") == 0))
			continue;
		msg = xasprintf("precheck: %s: %s%s%s", it->name, it->found,
		    *it->fix != '\0' ? "; fix: " : "", it->fix);
		jobctx_log(ctx, it->result == PRECHECK_WARN ? "warn" : "info",
		    msg);
		free(msg);
	}
	if (precheck_count(&pc, PRECHECK_FAIL) > 0) {
		*cause = precheck_failures(&pc);
		ctx->permanent = !precheck_transient(&pc);
		goto out;
	}
	msg = xasprintf("precheck passed: %zu items, %zu warnings", pc.n,
	    precheck_count(&pc, PRECHECK_WARN));
	jobctx_log(ctx, "info", msg);
	free(msg);
	if (sj->spec.precheck_due && JOBSTORE(ctx, prechecked, cause) != 0)
		goto out;
	rc = 0;
out:
	precheck_release(&pc);
	return (rc);
}

/* One attempt: returns -1 with *cause (and the permanent flag) when it
 * ends. */
static int
sync_attempt(struct sync_job *sj, char **cause)
{
	struct jobctx	*ctx = &sj->ctx;
	int64_t		 max_id = 0;
	int		 rc = -1;

	ctx->permanent = 0;
	sj->attempts++;
	watermark_reset(sj->wm);
	if (sync_load(sj, cause) != 0 || ((watermark_file(sj->wm) == NULL ||
	    sj->spec.precheck_due) && sync_precheck(sj, cause) != 0) ||
	    sync_source(sj, cause) != 0 ||
	    sync_targets(sj, &max_id, cause) != 0 ||
	    source_check_written(ctx, sj->wm, &sj->spec.source, max_id,
	    cause) != 0)
		goto out;
	if (watermark_file(sj->wm) != NULL && add_tables_run(sj->at,
	    sj->tables, sj->ntables, max_id, cause) != 0)
		goto out;
	if (watermark_file(sj->wm) == NULL) {
		/* Above anything already written: nothing is hidden. */
		emitter_restart(sj->em, max_id + 1);
		if (initial_run(sj->in, cause) != 0)
			goto out;
	}
	if (JOBSTORE(ctx, advance, JOB_PHASE_INCREMENTAL, cause) != 0) {
		if (*cause == NULL)
			*cause = xstrdup("stopped");
		goto out;
	}
	jobctx_set_phase(ctx, "incremental");
	log_info("job %" PRId64 ": following the binlog from %s:%" PRIu64
	    " (next record %" PRId64 ")", ctx->id, watermark_file(sj->wm),
	    watermark_pos(sj->wm), watermark_next_id(sj->wm));
	rc = follower_run(sj->f, NULL, 0, cause);
	emitter_drain(sj->em);
out:
	emitter_close_sink(sj->em);
	window_bind(sj->w, sj->tables, sj->ntables, NULL);
	return (rc);
}

/* A failed attempt: the job fails (1), or waits and tries again (0);
 * 1 too when asked to stop meanwhile. */
static int
sync_failed(struct sync_job *sj, const char *cause, int64_t attempts)
{
	struct jobctx	*ctx = &sj->ctx;
	char		*why = NULL;
	int64_t		 delay;

	if (ctx->quick_retry) {
		/* Not a failure: on again at once, on its own connection. */
		ctx->quick_retry = 0;
		log_info("job %" PRId64 ": %s", ctx->id, cause);
		jobctx_log(ctx, "reader", cause);
		return (jobctx_sleep(ctx, 100));
	}
	if (ctx->permanent) {
		log_warnx("job %" PRId64 " failed: %s", ctx->id, cause);
		if (JOBSTORE(ctx, fail, cause, &why) != 0) {
			log_warnx("job %" PRId64 ": %s", ctx->id, why);
			free(why);
		}
		return (1);
	}
	delay = (int64_t)ctx->opts.retry_min_ms << (attempts < 16 ?
	    attempts - 1 : 15);
	if (delay > ctx->opts.retry_max_ms)
		delay = ctx->opts.retry_max_ms;
	delay = delay / 2 + (int64_t)(util_mono_us() % (uint64_t)(
	    delay / 2 + 1));
	log_warnx("job %" PRId64 ": %s; retrying in %" PRId64 " ms", ctx->id,
	    cause, delay);
	if (JOBSTORE(ctx, retry_at, (int64_t)(util_wall_us() / 1000) + delay,
	    cause, &why) != 0) {
		log_warnx("job %" PRId64 ": %s", ctx->id, why);
		free(why);
	}
	jobctx_restarted(ctx);
	return (jobctx_sleep(ctx, delay));
}

static void *
sync_main(void *arg)
{
	struct sync_job	*sj = arg;
	struct jobctx	*ctx = &sj->ctx;
	char		*cause = NULL;
	int64_t		 attempts = 0;
	int		 rc;

	if ((ctx->store = sj->open(sj->open_arg, ctx->id, &cause)) == NULL) {
		log_warnx("job %" PRId64 ": %s", ctx->id, cause);
		free(cause);
		atomic_store(&sj->finished, 1);
		return (NULL);
	}
	sync_stages_new(sj);
	for (;;) {
		free(cause);
		cause = NULL;
		rc = sync_attempt(sj, &cause);
		if (jobctx_stopping(ctx))
			break;
		if (rc == 0)
			continue;
		if (cause == NULL)
			cause = xstrdup("unknown failure");
		if (strcmp(cause, "stopped") == 0)
			break;	/* the user moved the job meanwhile */
		if (sync_failed(sj, cause, ctx->quick_retry ? attempts :
		    ++attempts))
			break;
	}
	free(cause);
	sync_tables_free(sj);
	sync_stages_free(sj);
	ctx->store->ops->close(ctx->store);
	ctx->store = NULL;
	atomic_store(&sj->finished, 1);
	return (NULL);
}

/*
 * Start running job id on a thread of its own, whose door to the store
 * open(arg) makes there.  Returns the job (stop with sync_job_stop(), then
 * free with sync_job_free()), or NULL with *cause.
 */
struct sync_job *
sync_job_start(jobstore_open_cb open, void *arg, int64_t id,
    const struct sync_options *o, char **cause)
{
	struct sync_job	*sj;
	int		 err;

	sj = xcalloc(1, sizeof *sj);
	jobctx_init(&sj->ctx, id, o);
	sj->open = open;
	sj->open_arg = arg;
	job_spec_init(&sj->spec);
	sj->ctx.spec = &sj->spec;
	if ((err = pthread_create(&sj->thread, NULL, sync_main, sj)) != 0) {
		*cause = xasprintf("cannot start a thread for job %" PRId64
		    ": %s", id, strerror(err));
		sync_job_free(sj);
		return (NULL);
	}
	return (sj);
}

/* Ask the job to stop (any thread); it drains and checkpoints first. */
void
sync_job_stop(struct sync_job *sj)
{
	jobctx_stop(&sj->ctx);
}

int
sync_job_finished(struct sync_job *sj)
{
	return (atomic_load(&sj->finished));
}

int64_t
sync_job_id(const struct sync_job *sj)
{
	return (sj->ctx.id);
}

/* Any thread: what /metrics and /jobs show. */
void
sync_job_stats(struct sync_job *sj, struct sync_stats *st)
{
	jobctx_stats(&sj->ctx, st);
}

/* Wait for the thread (stop it first) and free everything. */
void
sync_job_free(struct sync_job *sj)
{
	if (sj == NULL)
		return;
	if (sj->thread != 0)
		pthread_join(sj->thread, NULL);
	job_spec_release(&sj->spec);
	jobctx_release(&sj->ctx);
	free(sj);
}
