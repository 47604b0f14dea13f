/*
 * The record stage (DESIGN.md §6): route a change (engine/route.c), make
 * it the job's next record (engine/record.c: ids come from the record
 * maker, which starts from the checkpoint's next id), hold it to the
 * topic's size limit and the job's large-row policy, wait while the
 * job's in-flight bytes are over its budget (back-pressure), hand it to
 * the targets (engine/sink.c) and count it in the watermark
 * (engine/watermark.c), which the delivery reports count back.
 *
 * The emitter owns the attempt's sink: it opens it with itself as the
 * receiver of the delivery reports, which it hands to the watermark, so
 * reports flow sink -> emitter -> watermark and nothing calls back up.
 * Everything runs on the job's thread.
 */
#include "config.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "common/buf.h"
#include "common/log.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "engine/emit.h"
#include "engine/netpolicy.h"
#include "engine/throttle.h"
#include "engine/record.h"
#include "schema/dts_avro.h"

/*
 * A job's default in-flight budget: with librdkafka's buffers, the binlog
 * client's and the job's share of the process, a job stays within the
 * 64 MiB PERFORMANCE.md allows it, whatever the transaction (bench/bigtxn.sh:
 * a 964 MiB transaction peaks at 46 MiB for the whole daemon with 32 MiB,
 * at 89 MiB with 64 MiB).  Streaming needs far less in flight.
 */

_Static_assert(WATERMARK_HEARTBEAT_UNIT == SINK_UNIT_MAX,
    "heartbeats are counted in the sink's last unit");

struct emitter {
	struct jobctx		*ctx;
	struct watermark	*wm;
	struct router		*rt;
	struct sink		*sink;		/* this attempt's */
	struct record_maker	*maker;
	struct dts_encoder	*enc;
	struct buf		 out;
	int64_t			 budget;
	struct throttle		*throttle;	/* the tenant's rows/s, or NULL */
	int64_t			 rows;		/* drawn from it, not yet sent */
	int			 tagged;	/* a target without headers: the
						   resume reads tags */
	char			 job_text[64];
};

struct emitter *
emitter_new(struct jobctx *ctx, struct watermark *wm, struct router *rt)
{
	struct emitter	*em = xcalloc(1, sizeof *em);

	em->ctx = ctx;
	em->wm = wm;
	em->rt = rt;
	em->enc = dts_encoder_new();
	em->maker = record_maker_new(1);
	buf_init(&em->out);
	return (em);
}

void
emitter_free(struct emitter *em)
{
	if (em == NULL)
		return;
	emitter_close_sink(em);
	record_maker_free(em->maker);
	dts_encoder_free(em->enc);
	buf_release(&em->out);
	free(em);
}

/* Delivery report (on the job's thread, from sink_poll()). */
static void
emitter_delivered(void *arg, uint64_t seq, int err, const char *reason)
{
	struct emitter	*em = arg;

	if (err != 0) {
		watermark_delivered(em->wm, seq, reason != NULL ? reason :
		    "error", err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE ||
		    err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);
		return;
	}
	watermark_delivered(em->wm, seq, NULL, 0);
	jobctx_set(&em->ctx->n_inflight, sink_inflight_bytes(em->sink));
}

static int
emitter_cancel(void *arg)
{
	struct emitter	*em = arg;

	return (jobctx_stopping(em->ctx));
}

/*
 * The attempt's targets: connections, and what they hold of this job.
 * Returns the sink (borrowed, until emitter_close_sink()) or NULL.
 */
struct sink *
emitter_open_sink(struct emitter *em, char **cause)
{
	const struct job_spec	*spec = em->ctx->spec;

	emitter_close_sink(em);
	em->budget = spec->max_memory > 0 ? spec->max_memory :
	    JOBCTX_DEFAULT_BUDGET;
	throttle_put(em->throttle);
	em->throttle = throttle_get(spec->tenant_id, spec->max_rows_per_sec);
	em->rows = 0;
	em->sink = sink_new(em->ctx->id, spec->targets, spec->ntargets,
	    emitter_delivered, emitter_cancel, em, cause);
	if (em->sink == NULL && (strstr(*cause, "authentication failed") !=
	    NULL || strstr(*cause, NETPOLICY_WORDS) != NULL))
		em->ctx->permanent = 1;
	router_bind(em->rt, em->sink);
	if (em->sink != NULL)
		sink_set_identity(em->sink, spec->identity);
	em->tagged = em->sink != NULL && !sink_headers(em->sink);
	if (em->sink != NULL)
		util_strlcpy(em->job_text, sink_identity(em->sink),
		    sizeof em->job_text);
	return (em->sink);
}

void
emitter_close_sink(struct emitter *em)
{
	throttle_put(em->throttle);
	em->throttle = NULL;
	sink_free(em->sink);
	em->sink = NULL;
	router_bind(em->rt, NULL);
}

/* Ids start again at next_id (a checkpoint's, or above the topics'). */
void
emitter_restart(struct emitter *em, int64_t next_id)
{
	record_maker_free(em->maker);
	em->maker = record_maker_new(next_id);
}

int64_t
emitter_next_id(const struct emitter *em)
{
	return (record_maker_next_id(em->maker));
}

/* A record over the topic's limit: skipped under --large-row skip (0),
 * else the job's failure (-1). */
static int
emitter_too_large(struct emitter *em, const struct change *c, size_t limit,
    char **cause)
{
	const struct table_def	*t = c->table;
	char			*msg;

	if (em->ctx->spec->large_row == JOB_LARGE_ROW_SKIP) {
		msg = xasprintf("skipped a record of %zu bytes (%s.%s at %s:%"
		    PRIu64 "): over the %zu-byte message limit", em->out.len,
		    t != NULL ? t->db : "", t != NULL ? t->name : "", c->file,
		    c->pos, limit);
		jobctx_log(em->ctx, "skip", msg);
		log_warnx("job %" PRId64 ": %s", em->ctx->id, msg);
		free(msg);
		return (0);
	}
	*cause = xasprintf("a record of %zu bytes (%s.%s at %s:%" PRIu64
	    ") is over the %zu-byte message limit of the target; with "
	    "--large-row skip the job would skip it", em->out.len,
	    t != NULL ? t->db : "", t != NULL ? t->name : "", c->file,
	    c->pos, limit);
	em->ctx->permanent = 1;
	return (-1);
}

/*
 * While records wait for Kafka: the lag counts from the oldest change sent
 * and not acknowledged, so a stalled cluster shows a growing lag.
 * Returns whether one waits.
 */
int
emitter_lag(struct emitter *em)
{
	uint32_t	 oldest = watermark_oldest(em->wm);

	if (oldest == 0)
		return (0);
	jobctx_set_lag(em->ctx, (int64_t)(util_wall_us() / 1000000) - oldest);
	return (1);
}

/*
 * The tenant's rows per second: a row (a record of a table's row, copied
 * or changed) is sent once the tenant's bucket has it; waiting, Kafka's
 * reports are served and the checkpoint saved as in any back-pressure.
 * -1 with *cause when the checkpoint fails.
 */
static int
emitter_throttle(struct emitter *em, enum emit_part part, char **cause)
{
	struct jobctx	*ctx = em->ctx;
	uint64_t	 wait, start, now;

	if (em->rows-- > 0)
		return (0);
	em->rows = throttle_block(em->throttle);
	wait = throttle_take(em->throttle, em->rows);
	em->rows--;
	if (wait == 0)
		return (0);
	start = now = util_mono_us();
	while (now - start < wait && !jobctx_stopping(ctx) &&
	    !watermark_failed(em->wm)) {
		sink_poll(em->sink, (int)((wait - (now - start)) / 1000 > 50 ?
		    50 : (wait - (now - start)) / 1000 + 1));
		if (part != EMIT_SNAPSHOT) {
			emitter_lag(em);
			if (watermark_checkpoint(em->wm, 0, cause) != 0)
				return (-1);
		}
		now = util_mono_us();
	}
	jobctx_count(&ctx->n_throttled_us, now - start);
	return (0);
}

/*
 * Encode c as the next record and send it to the targets in mask (with
 * meta as INIT headers, or NULL), counted in part's unit.
 */
int
emitter_send(struct emitter *em, const struct change *c, enum emit_part part,
    uint32_t mask, const struct sink_meta *meta, char **cause)
{
	struct jobctx	*ctx = em->ctx;
	struct route	 r;
	int64_t		 id = record_maker_next_id(em->maker);
	size_t		 sent, limit, initlen;
	uint64_t	 seq;
	char		 small[256], *init;
	int		 rc;

	if (router_route(em->rt, c, &r, cause) != 0)
		return (-1);
	if (r.topic < 0)
		return (0);	/* no topic for records without a table */
	buf_reset(&em->out);
	init = NULL;
	if (em->tagged && meta != NULL)
		init = sink_meta_text(meta, small, sizeof small, &initlen);
	record_maker_set_ferry(em->maker, em->tagged ? em->job_text : NULL,
	    init);
	record_maker_set_source(em->maker, ctx->spec->source_name,
	    ctx->source_tag);
	rc = record_make(em->maker, c, em->enc, &em->out, cause);
	if (init != small)
		free(init);
	if (rc != 0) {
		ctx->permanent = 1;
		return (-1);
	}
	limit = sink_max_message(em->sink, r.topic);
	if (em->out.len > limit)
		return (emitter_too_large(em, c, limit, cause));
	if (em->throttle != NULL && (c->kind == CHANGE_ROW || c->kind ==
	    CHANGE_INIT) && emitter_throttle(em, part, cause) != 0)
		return (-1);
	/* Back-pressure: wait while the job's in-flight bytes are over. */
	while ((int64_t)sink_inflight_bytes(em->sink) >= em->budget) {
		sink_poll(em->sink, 50);
		if (watermark_failed(em->wm) || jobctx_stopping(ctx))
			break;
		if (part != EMIT_SNAPSHOT)
			emitter_lag(em);
		if (part != EMIT_SNAPSHOT &&
		    watermark_checkpoint(em->wm, 0, cause) != 0)
			return (-1);
	}
	if (part == EMIT_SNAPSHOT)
		seq = watermark_chunk_unit(em->wm);
	else if (part == EMIT_HEARTBEAT)
		seq = WATERMARK_HEARTBEAT_UNIT;
	else
		seq = watermark_unit(em->wm, c->timestamp);
	if (sink_produce(em->sink, r.topic, r.hash, r.hashed, mask, meta,
	    r.key, r.keylen, em->out.data, em->out.len, id,
	    record_maker_time_ms(em->maker), seq, &sent, cause) != 0) {
		if (sink_permanent(em->sink))
			ctx->permanent = 1;
		return (-1);
	}
	watermark_sent(em->wm, seq, sent);
	if (part != EMIT_HEARTBEAT) {
		watermark_heartbeat_forfeit(em->wm);	/* ids increase */
		if (sent > 0) {
			jobctx_count(&ctx->n_records, 1);
			jobctx_count(&ctx->n_bytes, em->out.len);
		} else
			jobctx_count(&ctx->n_skipped, 1);
	}
	jobctx_set(&ctx->n_inflight, sink_inflight_bytes(em->sink));
	return (0);
}

/* A HEARTBEAT record, with the id the watermark reserved for it. */
int
emitter_heartbeat(struct emitter *em, const struct change *c, char **cause)
{
	int64_t	 next = record_maker_next_id(em->maker), id, after;
	int	 rc;

	if (watermark_heartbeat_id(em->wm, next, &id, &after, cause) != 0)
		return (-1);
	record_maker_set_next_id(em->maker, id);
	rc = emitter_send(em, c, EMIT_HEARTBEAT, EMIT_ALL, NULL, cause);
	record_maker_set_next_id(em->maker, after);
	return (rc);
}

/* Take the delivery reports that came, waiting up to ms for one. */
void
emitter_poll(struct emitter *em, int ms)
{
	sink_poll(em->sink, ms);
}

/*
 * Wait until every initial record of chunk k (all: every chunk) is
 * acknowledged.
 */
int
emitter_snapshot_wait(struct emitter *em, int all, uint64_t k, char **cause)
{
	while (watermark_snapshot_outstanding(em->wm, all, k) > 0 &&
	    !watermark_failed(em->wm)) {
		if (jobctx_stopping(em->ctx)) {
			*cause = xstrdup("stopped");
			return (-1);
		}
		sink_poll(em->sink, 50);
	}
	return (watermark_delivery_ok(em->wm, cause));
}

/* Wait until every binlog record sent is acknowledged. */
int
emitter_settle(struct emitter *em, char **cause)
{
	for (;;) {
		watermark_advance(em->wm);
		if (watermark_settled(em->wm))
			return (watermark_delivery_ok(em->wm, cause));
		if (watermark_delivery_ok(em->wm, cause) != 0)
			return (-1);
		if (jobctx_stopping(em->ctx)) {
			*cause = xstrdup("stopped");
			return (-1);
		}
		sink_poll(em->sink, 50);
	}
}

/*
 * Drain what is in flight (up to a few seconds) and save the watermark:
 * a stop loses nothing and repeats as little as possible.
 */
void
emitter_drain(struct emitter *em)
{
	uint64_t	 deadline = util_mono_us() + 10 * 1000000ULL;
	char		*cause = NULL;

	if (em->sink == NULL)
		return;
	while (util_mono_us() < deadline && !watermark_failed(em->wm)) {
		watermark_advance(em->wm);
		if (watermark_settled(em->wm))
			break;
		sink_poll(em->sink, 100);
	}
	if (watermark_checkpoint(em->wm, 1, &cause) != 0) {
		log_warnx("job %" PRId64 ": %s", em->ctx->id, cause);
		free(cause);
	}
}
