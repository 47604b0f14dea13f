/*
 * The floor every stage of a running job stands on (engine/jobctx.h): the
 * stop flag and the sleep that it ends, the figures /metrics and ferry
 * status show, the job log.  Calls no stage.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "engine/binlog_client.h"
#include "engine/job_spec.h"
#include "engine/jobctx.h"
#include "engine/netpolicy.h"

void
jobctx_init(struct jobctx *ctx, int64_t id, const struct sync_options *o)
{
	memset(ctx, 0, sizeof *ctx);
	ctx->id = id;
	ctx->opts = *o;
	ctx->stats.job = id;
	jobctx_set_lag(ctx, -1);
	ctx->stats.lag_bytes = -1;
	util_strlcpy(ctx->stats.phase, "starting", sizeof ctx->stats.phase);
	pthread_mutex_init(&ctx->mtx, NULL);
	pthread_cond_init(&ctx->cv, NULL);
}

void
jobctx_release(struct jobctx *ctx)
{
	free(ctx->server_version);
	ctx->server_version = NULL;
	free(ctx->ck_server);
	ctx->ck_server = NULL;
	pthread_mutex_destroy(&ctx->mtx);
	pthread_cond_destroy(&ctx->cv);
}

/* Whether the job is asked to stop (any thread). */
int
jobctx_stopping(struct jobctx *ctx)
{
	int	 stop;

	pthread_mutex_lock(&ctx->mtx);
	stop = ctx->stop;
	pthread_mutex_unlock(&ctx->mtx);
	return (stop);
}

/* Sleep up to ms, or until asked to stop; 1 when asked. */
int
jobctx_sleep(struct jobctx *ctx, int64_t ms)
{
	struct timespec	 ts;
	int		 stop;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += (time_t)(ms / 1000);
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&ctx->mtx);
	while (!ctx->stop) {
		if (pthread_cond_timedwait(&ctx->cv, &ctx->mtx, &ts) ==
		    ETIMEDOUT)
			break;
	}
	stop = ctx->stop;
	pthread_mutex_unlock(&ctx->mtx);
	return (stop);
}

/* Any thread: ask the job to stop, ending a blocked binlog read. */
void
jobctx_stop(struct jobctx *ctx)
{
	pthread_mutex_lock(&ctx->mtx);
	ctx->stop = 1;
	if (ctx->bc != NULL)
		binlog_client_stop(ctx->bc);
	pthread_cond_broadcast(&ctx->cv);
	pthread_mutex_unlock(&ctx->mtx);
}

/*
 * The binlog client a stop must end (NULL: none any more).  Returns
 * whether the job is already asked to stop.
 */
int
jobctx_attach(struct jobctx *ctx, struct binlog_client *bc)
{
	int	 stop;

	pthread_mutex_lock(&ctx->mtx);
	ctx->bc = bc;
	stop = ctx->stop;
	pthread_mutex_unlock(&ctx->mtx);
	return (stop);
}

void
jobctx_set_phase(struct jobctx *ctx, const char *phase)
{
	pthread_mutex_lock(&ctx->mtx);
	util_strlcpy(ctx->stats.phase, phase, sizeof ctx->stats.phase);
	pthread_mutex_unlock(&ctx->mtx);
}

void
jobctx_set_lag_bytes(struct jobctx *ctx, int64_t lag)
{
	pthread_mutex_lock(&ctx->mtx);
	ctx->stats.lag_bytes = lag;
	pthread_mutex_unlock(&ctx->mtx);
}

/* A checkpoint was saved at ms (since the epoch). */
void
jobctx_checkpointed(struct jobctx *ctx, int64_t ms)
{
	pthread_mutex_lock(&ctx->mtx);
	ctx->stats.checkpoint_at = ms;
	pthread_mutex_unlock(&ctx->mtx);
}

void
jobctx_restarted(struct jobctx *ctx)
{
	pthread_mutex_lock(&ctx->mtx);
	ctx->stats.restarts++;
	pthread_mutex_unlock(&ctx->mtx);
}

/* An entry of kind in the job log; a store that cannot take it is not
 * the job's failure. */
void
jobctx_log(struct jobctx *ctx, const char *kind, const char *msg)
{
	char	*why = NULL;

	if (JOBSTORE(ctx, log, kind, msg, &why) != 0)
		free(why);
}

/*
 * A MySQL failure: permanent when it is about credentials.  A refused login
 * (1045: the user or its password) names the source endpoint and the
 * command that changes its password in place.
 */
void
jobctx_mysql_failed(struct jobctx *ctx, char **cause)
{
	if (strstr(*cause, NETPOLICY_WORDS) != NULL) {
		ctx->permanent = 1;	/* the operator's policy: retrying
					   cannot help */
		return;
	}
	if (strstr(*cause, "Access denied") == NULL &&
	    strstr(*cause, "denied to user") == NULL)
		return;
	ctx->permanent = 1;
	if (strstr(*cause, "error 1045") != NULL)
		jobctx_login_refused(ctx, cause);
}

/* The source refused ferry's login: say which endpoint, and what to run. */
void
jobctx_login_refused(struct jobctx *ctx, char **cause)
{
	const char	*ep = ctx->spec->source_name != NULL ?
			    ctx->spec->source_name : "?";
	char		*why = *cause;

	*cause = xasprintf("source endpoint '%s' refused the login: %s; if its "
	    "password changed, run: ferry endpoint set %s --password-file "
	    "FILE (or --password-env VAR, --prompt), then ferry job retry %"
	    PRId64, ep, why, ep, ctx->id);
	free(why);
}

/*
 * Save the job's statistics for ferry status (at most once a second unless
 * forced): the full sync's counts as they stand, lag, rows per second.
 */
void
jobctx_save_stats(struct jobctx *ctx, int force)
{
	uint64_t	 now = util_mono_us(), records;
	char		*cause = NULL;

	if (!force && now - ctx->stats_saved_us < 1000000)
		return;
	pthread_mutex_lock(&ctx->mtx);
	ctx->js.lag_bytes = ctx->stats.lag_bytes;
	pthread_mutex_unlock(&ctx->mtx);
	memcpy(ctx->js.server, ctx->server, sizeof ctx->js.server);
	ctx->js.reader_jobs = atomic_load_explicit(&ctx->reader_jobs,
	    memory_order_relaxed);
	ctx->js.throttled_ms = ctx->throttled_base_ms + (int64_t)
	    (atomic_load_explicit(&ctx->n_throttled_us, memory_order_relaxed) /
	    1000);
	ctx->js.lag_seconds = atomic_load_explicit(&ctx->n_lag_seconds,
	    memory_order_relaxed);
	records = atomic_load_explicit(&ctx->n_records, memory_order_relaxed) +
	    atomic_load_explicit(&ctx->n_skipped, memory_order_relaxed);
	if (ctx->stats_saved_us != 0 && now > ctx->stats_saved_us)
		ctx->js.rows_per_sec = (double)(records - ctx->stats_records) *
		    1e6 / (double)(now - ctx->stats_saved_us);
	ctx->stats_records = records;
	ctx->stats_saved_us = now;
	/* An idle job writes nothing: the store keeps the last figures
	 * (refreshed at least every minute, so "updated" stays recent). */
	if (!force && memcmp(&ctx->js, &ctx->js_saved, sizeof ctx->js) == 0 &&
	    now - ctx->stats_written_us < 60000000)
		return;
	if (JOBSTORE(ctx, stats_save, &ctx->js, &cause) != 0) {
		log_warnx("job %" PRId64 ": %s", ctx->id, cause);
		free(cause);
		return;
	}
	ctx->js_saved = ctx->js;
	ctx->stats_written_us = now;
}

/* Any thread: what /metrics and /jobs show. */
void
jobctx_stats(struct jobctx *ctx, struct sync_stats *st)
{
	pthread_mutex_lock(&ctx->mtx);
	*st = ctx->stats;
	pthread_mutex_unlock(&ctx->mtx);
	st->records = atomic_load_explicit(&ctx->n_records,
	    memory_order_relaxed);
	st->acked = atomic_load_explicit(&ctx->n_acked, memory_order_relaxed);
	st->skipped = atomic_load_explicit(&ctx->n_skipped,
	    memory_order_relaxed);
	st->bytes = atomic_load_explicit(&ctx->n_bytes, memory_order_relaxed);
	st->events = atomic_load_explicit(&ctx->n_events,
	    memory_order_relaxed);
	st->inflight_bytes = atomic_load_explicit(&ctx->n_inflight,
	    memory_order_relaxed);
	st->throttled_us = atomic_load_explicit(&ctx->n_throttled_us,
	    memory_order_relaxed);
	st->lag_seconds = atomic_load_explicit(&ctx->n_lag_seconds,
	    memory_order_relaxed);
}
