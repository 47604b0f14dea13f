/*
 * A running job.
 *
 * Each job has its own thread and its own connection to the store, the
 * source and the targets; nothing of one job waits for another's.  An
 * attempt goes:
 *
 *	no checkpoint yet	precheck -> schema sync -> full sync, from one
 *				consistent snapshot; its position becomes the
 *				first checkpoint
 *	then			the binlog from the checkpoint, forever
 *
 * Ids and exactly-once.  Records get increasing ids from the record
 * maker, which starts from the checkpoint's next id: replaying the binlog
 * from a checkpoint makes the same records with the same ids, and the
 * sink skips those that the tail of their partition shows are already
 * there.  The initial phase is not replayed that way (a new snapshot may
 * see other rows): when it is interrupted it starts again with ids above
 * anything in the topics, so it may repeat rows but never hides one.
 *
 * Watermark.  The binlog is cut into units: the events up to a
 * transaction boundary.  A unit's records are counted out as they are
 * queued and in as Kafka acknowledges them; the watermark is the end of
 * the last unit whose records are all in, and only the watermark is saved
 * as the checkpoint (every checkpoint_ms, and when the job stops).
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
#include <time.h>

#include "common/buf.h"
#include "common/json.h"
#include "common/log.h"
#include "common/url.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "engine/binlog.h"
#include "engine/binlog_client.h"
#include "engine/change.h"
#include "engine/kafka_client.h"
#include "engine/mysql_conn.h"
#include "engine/record.h"
#include "engine/sink.h"
#include "engine/snapshot.h"
#include "engine/sync.h"
#include "scheduler/secret.h"
#include "scheduler/store.h"
#include "schema/dts_avro.h"
#include "schema/ddl.h"
#include "schema/keyenc.h"

/*
 * Delivery units: a binlog transaction's is its sequence number (from 1);
 * the initial records of a full-sync chunk are counted in one of two
 * slots (the chunk number's parity: a chunk is read while the one before
 * it is still being acknowledged); heartbeats are not counted.
 */
#define SYNC_SNAPSHOT_UNIT(k)	((UINT64_C(1) << 46) | ((k) & 1))
#define SYNC_HEARTBEAT_UNIT	SINK_UNIT_MAX
/* Ids a HEARTBEAT reservation sets aside: one checkpoint write for this
 * many heartbeats of an idle job, not one each (sync_heartbeat()). */
#define SYNC_HEARTBEAT_IDS	64

/* What a record is part of (sync_emit()). */
enum sync_part {
	SYNC_BINLOG = 0,
	SYNC_SNAPSHOT,
	SYNC_HEARTBEAT,
};
/*
 * A job's default in-flight budget: with librdkafka's buffers, the binlog
 * client's and the job's share of the process, a job stays within the
 * 64 MiB PERFORMANCE.md allows it, whatever the transaction (bench/bigtxn.sh:
 * a 964 MiB transaction peaks at 46 MiB for the whole daemon with 32 MiB,
 * at 89 MiB with 64 MiB).  Streaming needs far less in flight.
 */
#define SYNC_DEFAULT_BUDGET	(32 * 1024 * 1024)
#define SYNC_REPORT_POLL_MS	50

struct sync_unit {
	int64_t		 outstanding;
	int		 closed;
	char		*file;
	uint64_t	 pos;
	int64_t		 next_id;
};

/*
 * A table's shape (column types and their metadata) as the job's schema
 * history has it at the point the binlog was read to, and whether a DDL
 * naming the table was read since (then a new shape is its next version;
 * without one, a new shape stops the job).
 */
struct sync_shape {
	char		*db;
	char		*table;
	uint64_t	 hash;		/* of the shape; 0: none known */
	uint32_t	 ncols;
	int64_t		 version;
	int		 changing;
	char		*ddl;		/* the DDL read since, and where */
	char		*ddl_file;
	uint64_t	 ddl_pos;
};

/* Rows of a table that generation gen wrote to a partition of a target. */
struct sync_seg {
	int		 gen;
	size_t		 target;
	int32_t		 part;
	uint8_t		*hi;		/* up to this sortable key */
	size_t		 hilen;
};

/*
 * What the initial sync did to one table, for the binlog phase's window
 * (from the first snapshot's position to the last one's): the generation
 * that finished it and how far interrupted ones got.
 */
struct sync_tstate {
	struct snap_table	*t;
	int			 done_gen;
	int			 keyable;
	int			 adding;	/* added, not copied yet */
	struct sync_seg		*segs;		/* by generation */
	size_t			 nsegs;
};

struct sync_job {
	int64_t			 id;
	char			*store_path;
	struct sync_options	 opts;
	pthread_t		 thread;
	pthread_mutex_t		 mtx;
	pthread_cond_t		 cv;
	int			 stop;		/* under mtx */
	struct binlog_client	*bc;		/* under mtx, for stopping */
	struct sync_stats	 stats;		/* under mtx, but for: */
	/* Counters only the job's thread writes, read without the mutex
	 * (sync_job_stats): a record costs no lock. */
	_Atomic uint64_t	 n_records, n_acked, n_skipped, n_bytes;
	_Atomic uint64_t	 n_events, n_inflight;
	_Atomic int64_t		 n_lag_seconds;
	atomic_int		 finished;

	/* The thread's own. */
	struct store		*store;
	struct job		 job;
	struct mysql_conn_opts	 src;
	struct sink		*sink;
	struct record_maker	*maker;
	struct dts_encoder	*enc;
	struct buf		 out;
	struct buf		 key;
	struct snap_table	*tables;
	size_t			 ntables;
	int			 job_topic;	/* sink index, or -1 */
	int			 txn_topic;
	uint32_t		 txn_hash;
	int64_t			 budget;

	struct sync_unit	*units;		/* units[0] is head_seq */
	size_t			 nunits;
	size_t			 cap;
	uint64_t		 head_seq;
	int64_t			 snap_out[2];	/* by chunk parity */
	uint64_t		 snap_chunk;	/* the chunk being read */
	char			*delivery_error;
	int			 delivery_permanent;

	char			*cur_file;
	char			*ck_file;	/* the watermark */
	uint64_t		 ck_pos;
	int64_t			 ck_next_id;
	int			 ck_dirty;
	uint64_t		 ck_saved_us;
	uint64_t		 stats_saved_us;
	uint64_t		 stats_records;
	struct job_stats	 js;		/* what ferry status shows */
	struct job_stats	 js_saved;	/* what the store has */
	uint64_t		 stats_written_us;
	uint32_t		 last_ts;	/* of the last event read */
	uint64_t		 last_record_us;	/* the last record sent */
	uint64_t		 hb_records;	/* n_records then */
	int64_t			 hb_next, hb_end; /* heartbeat ids left */
	uint64_t		 lag_checked_us;
	uint32_t		 emit_mask;	/* targets of the next record */
	struct snapshot_gen	*gens;		/* the initial sync's snapshots */
	size_t			 ngens;
	struct sync_tstate	*ts;		/* per table of sj->tables */
	uint64_t		 window_fno;	/* the last snapshot's position: */
	uint64_t		 window_pos;	/* the window's end */
	int			 window;	/* in the window now */
	int			 until;		/* the binlog phase ends at */
	uint64_t		 until_fno;	/* this position (a copy of */
	uint64_t		 until_pos;	/* added tables follows) */
	struct change		 pending_begin;	/* a BEGIN not sent yet */
	int			 have_pending;
	MYSQL			*ctl;		/* reads definitions (binlog) */
	struct snap_table	*extra;		/* definitions read since */
	size_t			 nextra;
	const struct sink_meta	*emit_meta;	/* its INIT headers */
	int			 permanent;	/* the attempt's error is */
	struct sync_shape	*shapes;	/* by table, as read */
	size_t			 nshapes;
	size_t			 shape_last;	/* the last one looked up */
	int			 ddl_unknown;	/* one was read: all may change */
	char			*server_version;
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
}

/* Add to a counter only this thread writes: a plain load and store. */
static inline void
sync_count(_Atomic uint64_t *c, uint64_t n)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) +
	    n, memory_order_relaxed);
}

static inline void
sync_set(_Atomic uint64_t *c, uint64_t v)
{
	atomic_store_explicit(c, v, memory_order_relaxed);
}

static inline void
sync_set_lag(struct sync_job *sj, int64_t v)
{
	atomic_store_explicit(&sj->n_lag_seconds, v, memory_order_relaxed);
}

static int
sync_stopping(struct sync_job *sj)
{
	int	 stop;

	pthread_mutex_lock(&sj->mtx);
	stop = sj->stop;
	pthread_mutex_unlock(&sj->mtx);
	return (stop);
}

static int
sync_cancel(void *arg)
{
	return (sync_stopping(arg));
}

static void
sync_set_phase(struct sync_job *sj, const char *phase)
{
	pthread_mutex_lock(&sj->mtx);
	util_strlcpy(sj->stats.phase, phase, sizeof sj->stats.phase);
	pthread_mutex_unlock(&sj->mtx);
}

/* Sleep up to ms, or until asked to stop; 1 when asked. */
static int
sync_sleep(struct sync_job *sj, int64_t ms)
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
	pthread_mutex_lock(&sj->mtx);
	while (!sj->stop) {
		if (pthread_cond_timedwait(&sj->cv, &sj->mtx, &ts) ==
		    ETIMEDOUT)
			break;
	}
	stop = sj->stop;
	pthread_mutex_unlock(&sj->mtx);
	return (stop);
}

/* ---- units and the watermark ------------------------------------------ */

static struct sync_unit *
unit_open(struct sync_job *sj)
{
	struct sync_unit	*u;

	if (sj->nunits > 0 && !sj->units[sj->nunits - 1].closed)
		return (&sj->units[sj->nunits - 1]);
	if (sj->nunits == sj->cap) {
		sj->cap = sj->cap == 0 ? 64 : sj->cap * 2;
		sj->units = xreallocarray(sj->units, sj->cap,
		    sizeof *sj->units);
	}
	u = &sj->units[sj->nunits++];
	memset(u, 0, sizeof *u);
	return (u);
}

static uint64_t
unit_seq(struct sync_job *sj, const struct sync_unit *u)
{
	return (sj->head_seq + (uint64_t)(u - sj->units) + 1);
}

/* The open unit ends at file:pos, next record next_id. */
static void
unit_close(struct sync_job *sj, const char *file, uint64_t pos,
    int64_t next_id)
{
	struct sync_unit	*u = unit_open(sj);

	u->closed = 1;
	u->file = xstrdup(file);
	u->pos = pos;
	u->next_id = next_id;
}

/* Move the watermark over every finished unit at the head. */
static void
units_advance(struct sync_job *sj)
{
	size_t	 n = 0;

	while (n < sj->nunits && sj->units[n].closed &&
	    sj->units[n].outstanding <= 0) {
		free(sj->ck_file);
		sj->ck_file = sj->units[n].file;
		sj->ck_pos = sj->units[n].pos;
		sj->ck_next_id = sj->units[n].next_id;
		sj->ck_dirty = 1;
		n++;
	}
	if (n > 0) {
		memmove(sj->units, sj->units + n, (sj->nunits - n) *
		    sizeof *sj->units);
		sj->nunits -= n;
		sj->head_seq += n;
	}
}

static void
units_clear(struct sync_job *sj)
{
	size_t	 i;

	for (i = 0; i < sj->nunits; i++)
		free(sj->units[i].file);
	sj->nunits = 0;
	sj->head_seq = 0;
}

/* Delivery report (on this thread, from sink_poll()). */
static void
sync_delivered(void *arg, uint64_t seq, int err, const char *reason)
{
	struct sync_job	*sj = arg;

	if (err != 0) {
		if (sj->delivery_error == NULL) {
			sj->delivery_error = xasprintf("Kafka did not take a "
			    "record: %s", reason != NULL ? reason : "error");
			sj->delivery_permanent =
			    err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE ||
			    err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED;
		}
		return;
	}
	sync_count(&sj->n_acked, 1);
	sync_set(&sj->n_inflight, sink_inflight_bytes(sj->sink));
	if (seq == SYNC_HEARTBEAT_UNIT)
		return;
	if ((seq & SYNC_SNAPSHOT_UNIT(0)) != 0) {
		sj->snap_out[seq & 1]--;
		return;
	}
	if (seq > sj->head_seq && seq - sj->head_seq <= sj->nunits)
		sj->units[seq - sj->head_seq - 1].outstanding--;
}

/* The first delivery error, as the attempt's error. */
static int
sync_delivery_ok(struct sync_job *sj, char **cause)
{
	if (sj->delivery_error == NULL)
		return (0);
	*cause = xstrdup(sj->delivery_error);
	if (sj->delivery_permanent)
		sj->permanent = 1;
	return (-1);
}

/* ---- the store --------------------------------------------------------- */

static int
sync_checkpoint(struct sync_job *sj, int force, char **cause)
{
	struct checkpoint	 cp;
	uint64_t		 now = util_mono_us();

	units_advance(sj);
	if (!sj->ck_dirty || sj->ck_file == NULL)
		return (0);
	if (!force && now - sj->ck_saved_us <
	    (uint64_t)sj->opts.checkpoint_ms * 1000)
		return (0);
	memset(&cp, 0, sizeof cp);
	cp.file = sj->ck_file;
	cp.pos = sj->ck_pos;
	cp.next_record_id = sj->ck_next_id;
	if (store_checkpoint_save(sj->store, sj->id, &cp, NULL, 0, cause) != 0)
		return (-1);
	sj->ck_dirty = 0;
	sj->ck_saved_us = now;
	pthread_mutex_lock(&sj->mtx);
	sj->stats.checkpoint_at = (int64_t)(util_wall_us() / 1000);
	pthread_mutex_unlock(&sj->mtx);
	return (0);
}

/*
 * Save the job's statistics for ferry status (at most once a second unless
 * forced): the full sync's counts as they stand, lag, rows per second.
 */
static void
sync_save_stats(struct sync_job *sj, int force)
{
	uint64_t	 now = util_mono_us(), records;
	char		*cause = NULL;

	if (!force && now - sj->stats_saved_us < 1000000)
		return;
	pthread_mutex_lock(&sj->mtx);
	sj->js.lag_bytes = sj->stats.lag_bytes;
	pthread_mutex_unlock(&sj->mtx);
	sj->js.lag_seconds = atomic_load_explicit(&sj->n_lag_seconds,
	    memory_order_relaxed);
	records = atomic_load_explicit(&sj->n_records, memory_order_relaxed) +
	    atomic_load_explicit(&sj->n_skipped, memory_order_relaxed);
	if (sj->stats_saved_us != 0 && now > sj->stats_saved_us)
		sj->js.rows_per_sec = (double)(records - sj->stats_records) *
		    1e6 / (double)(now - sj->stats_saved_us);
	sj->stats_records = records;
	sj->stats_saved_us = now;
	/* An idle job writes nothing: the store keeps the last figures
	 * (refreshed at least every minute, so "updated" stays recent). */
	if (!force && memcmp(&sj->js, &sj->js_saved, sizeof sj->js) == 0 &&
	    now - sj->stats_written_us < 60000000)
		return;
	if (store_stats_save(sj->store, sj->id, &sj->js, &cause) != 0) {
		log_warnx("job %" PRId64 ": %s", sj->id, cause);
		free(cause);
		return;
	}
	sj->js_saved = sj->js;
	sj->stats_written_us = now;
}

/* ---- records ----------------------------------------------------------- */

static uint32_t
sync_fnv(uint32_t h, const void *p, size_t len)
{
	const uint8_t	*b = p;

	while (len-- > 0)
		h = (h ^ *b++) * 16777619u;
	return (h);
}

/* The hash of a row's key values (the pk partition policy). */
static uint32_t
sync_key_hash(const struct table_def *t, const struct value *v)
{
	uint32_t	 h = 2166136261u, i;
	const struct value *x;

	for (i = 0; i < t->npk; i++) {
		x = &v[t->pk[i]];
		h = sync_fnv(h, &x->kind, 1);
		switch (x->kind) {
		case VALUE_INT:
			h = sync_fnv(h, &x->i, sizeof x->i);
			break;
		case VALUE_UINT:
		case VALUE_ENUM:
		case VALUE_SET:
		case VALUE_BIT:
			h = sync_fnv(h, &x->u, sizeof x->u);
			break;
		case VALUE_DATE:
		case VALUE_TIME:
		case VALUE_DATETIME:
			h = sync_fnv(h, &x->t.year, sizeof x->t.year);
			h = sync_fnv(h, &x->t.month, 1);
			h = sync_fnv(h, &x->t.day, 1);
			h = sync_fnv(h, &x->t.hour, sizeof x->t.hour);
			h = sync_fnv(h, &x->t.minute, 1);
			h = sync_fnv(h, &x->t.second, 1);
			h = sync_fnv(h, &x->t.usec, sizeof x->t.usec);
			break;
		case VALUE_TIMESTAMP:
			h = sync_fnv(h, &x->ts.sec, sizeof x->ts.sec);
			h = sync_fnv(h, &x->ts.usec, sizeof x->ts.usec);
			break;
		case VALUE_FLOAT:
			h = sync_fnv(h, &x->f, sizeof x->f);
			break;
		case VALUE_DOUBLE:
			h = sync_fnv(h, &x->d, sizeof x->d);
			break;
		case VALUE_ABSENT:
		case VALUE_NULL:
			break;
		default:
			h = sync_fnv(h, x->bytes.p, x->bytes.len);
			break;
		}
	}
	return (h);
}

/* Kafka's topic characters; anything else in a db or table name is '_'. */
static void
sync_topic_name(const struct job *j, const char *db, const char *table,
    struct buf *b)
{
	const char	*p, *v;

	buf_reset(b);
	for (p = j->topic_template; *p != '\0'; p++) {
		if (strncmp(p, "{db}", 4) == 0 || strncmp(p, "{table}", 7) == 0) {
			v = p[1] == 'd' ? db : table;
			for (; *v != '\0'; v++) {
				buf_addc(b, (*v >= 'a' && *v <= 'z') ||
				    (*v >= 'A' && *v <= 'Z') || (*v >= '0' &&
				    *v <= '9') || *v == '.' || *v == '_' ||
				    *v == '-' ? (unsigned char)*v : '_');
			}
			p += p[1] == 'd' ? 3 : 6;
			continue;
		}
		buf_addc(b, (unsigned char)*p);
	}
}

/* The sink topic index for a table's records. */
static int
sync_table_topic(struct sync_job *sj, const char *db, const char *table,
    char **cause)
{
	struct buf	 name = BUF_INITIALIZER;
	int		 idx;

	if (sj->job.topic_template == NULL || table == NULL)
		return (sj->job_topic);
	sync_topic_name(&sj->job, db, table, &name);
	idx = sink_topic(sj->sink, buf_str(&name), cause);
	buf_release(&name);
	if (idx < 0)
		sj->permanent = 1;
	return (idx);
}

/*
 * Where c goes: its topic (sink index; -1 with *cause NULL when it has
 * none) and partition hash.  Keeps the transaction's route for its COMMIT.
 */
static int
sync_route(struct sync_job *sj, const struct change *c, int *topic,
    uint32_t *hash, int *hash_it, char **cause)
{
	const struct table_def	*t = c->table;

	*hash = 0;
	*hash_it = 0;
	buf_reset(&sj->key);
	switch (c->kind) {
	case CHANGE_ROW:
	case CHANGE_INIT:
		if ((*topic = sync_table_topic(sj, t->db, t->name, cause)) < 0)
			return (-1);
		if (strcmp(sj->job.partition, "table") == 0) {
			buf_printf(&sj->key, "%s.%s", t->db, t->name);
			*hash = sync_fnv(2166136261u, sj->key.data,
			    sj->key.len);
			*hash_it = 1;
		} else if (strcmp(sj->job.partition, "pk") == 0 &&
		    t->npk > 0) {
			*hash = sync_key_hash(t, c->after != NULL ? c->after :
			    c->before);
			*hash_it = 1;
			buf_printf(&sj->key, "%08" PRIx32, *hash);
		}
		break;
	case CHANGE_BEGIN:
		*topic = t != NULL ? sync_table_topic(sj, t->db, t->name,
		    cause) : sj->job_topic;
		if (*topic < 0 && t != NULL)
			return (-1);
		sj->txn_topic = *topic;
		if (t != NULL && strcmp(sj->job.partition, "table") == 0) {
			buf_printf(&sj->key, "%s.%s", t->db, t->name);
			sj->txn_hash = sync_fnv(2166136261u, sj->key.data,
			    sj->key.len);
			buf_reset(&sj->key);
		} else
			sj->txn_hash = 0;
		*hash = sj->txn_hash;
		*hash_it = *hash != 0;
		break;
	case CHANGE_COMMIT:
	case CHANGE_ROLLBACK:
		*topic = sj->txn_topic;
		*hash = sj->txn_hash;
		*hash_it = *hash != 0;
		break;
	default:
		/* DDL, heartbeats: the job's topic, or for a template the
		 * table's when a schema sync names it. */
		*topic = c->table != NULL ? sync_table_topic(sj, c->table->db,
		    c->table->name, cause) : sj->job_topic;
		if (*topic < 0 && *cause != NULL)
			return (-1);
		break;
	}
	return (0);
}

/*
 * Encode c as the next record and send it to the targets in sj->emit_mask
 * (with sj->emit_meta as INIT headers), counted in the open binlog unit,
 * the snapshot's count, or (a heartbeat) nowhere.
 */
static int
sync_emit(struct sync_job *sj, const struct change *c, enum sync_part part,
    char **cause)
{
	int			 snapshot = part == SYNC_SNAPSHOT;
	const struct table_def	*t = c->table;
	struct sync_unit	*u = NULL;
	int64_t			 id = record_maker_next_id(sj->maker);
	uint32_t		 hash = 0;
	size_t			 sent, limit;
	int			 topic, hash_it = 0;
	uint64_t		 seq;

	if (sync_route(sj, c, &topic, &hash, &hash_it, cause) != 0)
		return (-1);
	if (topic < 0)
		return (0);	/* no topic for records without a table */
	buf_reset(&sj->out);
	if (record_make(sj->maker, c, sj->enc, &sj->out, cause) != 0) {
		sj->permanent = 1;
		return (-1);
	}
	limit = sink_max_message(sj->sink, topic);
	if (sj->out.len > limit) {
		if (strcmp(sj->job.large_row, "skip") == 0) {
			char	*msg = xasprintf("skipped a record of %zu bytes "
			    "(%s.%s at %s:%" PRIu64 "): over the %zu-byte "
			    "message limit", sj->out.len, t != NULL ? t->db :
			    "", t != NULL ? t->name : "", c->file, c->pos,
			    limit);
			char	*why = NULL;

			if (store_log_add(sj->store, sj->id, "daemon", "skip",
			    msg, &why) != 0)
				free(why);
			log_warnx("job %" PRId64 ": %s", sj->id, msg);
			free(msg);
			return (0);
		}
		*cause = xasprintf("a record of %zu bytes (%s.%s at %s:%" PRIu64
		    ") is over the %zu-byte message limit of the target; with "
		    "--large-row skip the job would skip it", sj->out.len,
		    t != NULL ? t->db : "", t != NULL ? t->name : "", c->file,
		    c->pos, limit);
		sj->permanent = 1;
		return (-1);
	}
	/* Back-pressure: wait while the job's in-flight bytes are over. */
	while ((int64_t)sink_inflight_bytes(sj->sink) >= sj->budget) {
		sink_poll(sj->sink, 50);
		if (sj->delivery_error != NULL || sync_stopping(sj))
			break;
		if (!snapshot && sync_checkpoint(sj, 0, cause) != 0)
			return (-1);
	}
	if (part == SYNC_SNAPSHOT)
		seq = SYNC_SNAPSHOT_UNIT(sj->snap_chunk);
	else if (part == SYNC_HEARTBEAT)
		seq = SYNC_HEARTBEAT_UNIT;
	else {
		u = unit_open(sj);
		seq = unit_seq(sj, u);
	}
	if (sink_produce(sj->sink, topic, hash, hash_it, sj->emit_mask,
	    sj->emit_meta, sj->key.data, sj->key.len, sj->out.data, sj->out.len,
	    id, record_maker_time_ms(sj->maker), seq, &sent, cause) != 0)
		return (-1);
	if (part == SYNC_SNAPSHOT)
		sj->snap_out[sj->snap_chunk & 1] += (int64_t)sent;
	else if (part == SYNC_BINLOG)
		u->outstanding += (int64_t)sent;
	if (part == SYNC_HEARTBEAT) {
		/* Not data: rows/s stays 0 on an idle job.  (Data records
		 * start the idle time in sync_heartbeat(), without a clock
		 * read each.) */
		sj->last_record_us = util_mono_us();
	} else {
		sj->hb_next = sj->hb_end;	/* ids stay increasing */
		if (sent > 0) {
			sync_count(&sj->n_records, 1);
			sync_count(&sj->n_bytes, sj->out.len);
		} else
			sync_count(&sj->n_skipped, 1);
	}
	sync_set(&sj->n_inflight, sink_inflight_bytes(sj->sink));
	return (0);
}

/* ---- selection --------------------------------------------------------- */

static int
sync_selected(void *arg, const char *db, const char *table)
{
	struct sync_job	*sj = arg;
	size_t		 i;

	for (i = 0; i < sj->job.nobjects; i++) {
		if (strcmp(sj->job.objects[i].db, db) == 0 &&
		    (strcmp(sj->job.objects[i].table, "*") == 0 ||
		    strcmp(sj->job.objects[i].table, table) == 0))
			return (1);
	}
	return (0);
}

static int
sync_db_selected(struct sync_job *sj, const char *db)
{
	size_t	 i;

	for (i = 0; db != NULL && i < sj->job.nobjects; i++) {
		if (strcmp(sj->job.objects[i].db, db) == 0)
			return (1);
	}
	return (0);
}

/* ---- the attempt ------------------------------------------------------- */

static int
sync_load(struct sync_job *sj, struct sink_target_opts **targets,
    size_t *ntargets, char **cause)
{
	struct endpoint	 e;
	char		*plain = NULL;
	size_t		 i;

	job_release(&sj->job);
	if (store_job_get(sj->store, sj->id, &sj->job, cause) != 0)
		return (-1);
	if (store_endpoint_get_id(sj->store, sj->job.source_id, &e,
	    cause) != 0)
		return (-1);
	mysql_conn_opts_release(&sj->src);
	mysql_conn_opts_init(&sj->src);
	if (mysql_conn_opts_from_url(&sj->src, e.address, cause) != 0) {
		endpoint_release(&e);
		sj->permanent = 1;
		return (-1);
	}
	sj->src.tls = e.tls;
	if (e.tls_ca != NULL)
		sj->src.tls_ca = xstrdup(e.tls_ca);
	if (e.secret != NULL) {
		if (secret_open(sj->store_path, e.secret, &plain, cause) != 0) {
			endpoint_release(&e);
			sj->permanent = 1;
			return (-1);
		}
		sj->src.password = plain;
	}
	endpoint_release(&e);
	*targets = xcalloc(sj->job.ntargets, sizeof **targets);
	*ntargets = 0;
	for (i = 0; i < sj->job.ntargets; i++) {
		struct sink_target_opts	*t = &(*targets)[(*ntargets)++];

		kafka_client_opts_init(&t->kafka);
		if (store_endpoint_get_id(sj->store, sj->job.target_ids[i], &e,
		    cause) != 0)
			return (-1);
		t->name = xstrdup(e.name);
		t->kafka.brokers = xstrdup(e.address);
		if (e.sasl != NULL &&
		    kafka_client_parse_sasl(e.sasl, &t->kafka.sasl) != 0) {
			*cause = xasprintf("endpoint %s: unknown SASL mechanism "
			    "%s", e.name, e.sasl);
			endpoint_release(&e);
			sj->permanent = 1;
			return (-1);
		}
		if (e.username != NULL)
			t->kafka.user = xstrdup(e.username);
		t->kafka.tls = e.tls;
		if (e.tls_ca != NULL)
			t->kafka.tls_ca = xstrdup(e.tls_ca);
		if (e.kafka_version != NULL)
			t->kafka.version = xstrdup(e.kafka_version);
		if (e.secret != NULL) {
			if (secret_open(sj->store_path, e.secret,
			    &t->kafka.password, cause) != 0) {
				endpoint_release(&e);
				sj->permanent = 1;
				return (-1);
			}
		}
		endpoint_release(&e);
	}
	return (0);
}

static void
sync_targets_free(struct sink_target_opts *t, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		free((char *)t[i].name);
		kafka_client_opts_release(&t[i].kafka);
	}
	free(t);
}

/* A MySQL failure: permanent when it is about credentials. */
static void
sync_mysql_failed(struct sync_job *sj, const char *cause)
{
	if (strstr(cause, "Access denied") != NULL ||
	    strstr(cause, "denied to user") != NULL)
		sj->permanent = 1;
}

/* The source's settings a binlog reader depends on. */
static int
sync_precheck_source(struct sync_job *sj, MYSQL *m, char **cause)
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

	/* Without FULL row metadata, column names come from the source's
	 * current definitions (sync_fill_def()): say so. */
	if (mysql_conn_query_string(m, "SELECT @@global.binlog_row_metadata",
	    &v, cause) != 0 || v == NULL || strcasecmp(v, "FULL") != 0) {
		char	*msg, *why = NULL;

		msg = xasprintf("precheck: the source's binlog does not name "
		    "columns (binlog_row_metadata is %s): ferry takes names, "
		    "charsets and ENUM/SET labels from the tables' definitions, "
		    "and a row written before a DDL that ferry reads after it "
		    "stops the job; binlog_row_metadata=FULL (MySQL 8.0, "
		    "MariaDB 10.5 and later) avoids that", v != NULL ? v :
		    "not supported by this server");
		if (store_log_add(sj->store, sj->id, "daemon", "warn", msg,
		    &why) != 0)
			free(why);
		free(msg);
		free(*cause);
		*cause = NULL;
	}
	free(v);
	v = NULL;
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
			sj->permanent = 1;
			return (-1);
		}
		free(v);
	}
	return (0);
}

/* ---- generations of the initial sync ----------------------------------- */

static void
sync_window_free(struct sync_job *sj)
{
	size_t	 i, k;

	for (i = 0; sj->ts != NULL && i < sj->ntables; i++) {
		for (k = 0; k < sj->ts[i].nsegs; k++)
			free(sj->ts[i].segs[k].hi);
		free(sj->ts[i].segs);
	}
	free(sj->ts);
	sj->ts = NULL;
	snapshot_gens_free(sj->gens, sj->ngens);
	sj->gens = NULL;
	sj->ngens = 0;
	sj->window = 0;
}

/* a:b (file number, position) compared with c:d. */
static int
sync_poscmp(uint64_t a, uint64_t b, uint64_t c, uint64_t d)
{
	if (a != c)
		return (a < c ? -1 : 1);
	return (b < d ? -1 : b > d);
}

static const struct snapshot_gen *
sync_gen(const struct sync_job *sj, int gen)
{
	size_t	 i;

	for (i = 0; i < sj->ngens; i++) {
		if (sj->gens[i].gen == gen)
			return (&sj->gens[i]);
	}
	return (NULL);
}

static int
sync_keycmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	int	 c = memcmp(a, b, alen < blen ? alen : blen);

	if (c != 0)
		return (c);
	return (alen < blen ? -1 : alen > blen);
}

static void
sync_seg_add(struct sync_tstate *ts, int gen, size_t target, int32_t part,
    const uint8_t *hi, size_t hilen)
{
	struct sync_seg	*g;
	size_t		 i;

	for (i = 0; i < ts->nsegs; i++) {
		g = &ts->segs[i];
		if (g->gen == gen && g->target == target && g->part == part) {
			free(g->hi);
			break;
		}
	}
	if (i == ts->nsegs) {
		ts->segs = xreallocarray(ts->segs, ts->nsegs + 1,
		    sizeof *ts->segs);
		i = ts->nsegs++;
		/* keep them by generation */
		while (i > 0 && ts->segs[i - 1].gen > gen) {
			ts->segs[i] = ts->segs[i - 1];
			i--;
		}
	}
	g = &ts->segs[i];
	g->gen = gen;
	g->target = target;
	g->part = part;
	g->hi = xmalloc(hilen + 1);
	memcpy(g->hi, hi, hilen);
	g->hilen = hilen;
}

/* Whether table t is selected by an object added and not copied yet. */
static int
sync_table_pending(const struct sync_job *sj, const struct snap_table *t)
{
	size_t	 i;

	for (i = 0; i < sj->job.nobjects; i++) {
		const struct job_object	*o = &sj->job.objects[i];

		if (o->pending && strcmp(o->db, t->db) == 0 &&
		    (strcmp(o->table, "*") == 0 ||
		    strcmp(o->table, t->name) == 0))
			return (1);
	}
	return (0);
}

/*
 * Read the generations, the tables' progress and segments from the store
 * into sj->ts.  Needs sj->tables and sj->sink (target names).
 */
static int
sync_window_load(struct sync_job *sj, char **cause)
{
	struct snapshot_progress	*sp = NULL;
	struct snapshot_segment		*sg = NULL;
	size_t				 nsp = 0, nsg = 0, i, k, tg;
	uint64_t			 fno;
	int				 rc = -1;

	sync_window_free(sj);
	if (store_snapshot_gens(sj->store, sj->id, &sj->gens, &sj->ngens,
	    cause) != 0 ||
	    store_snapshot_list(sj->store, sj->id, &sp, &nsp, cause) != 0 ||
	    store_snapshot_segments(sj->store, sj->id, &sg, &nsg, cause) != 0)
		goto out;
	sj->ts = xcalloc(sj->ntables + 1, sizeof *sj->ts);
	for (i = 0; i < sj->ntables; i++) {
		struct sync_tstate	*ts = &sj->ts[i];

		ts->t = &sj->tables[i];
		ts->keyable = keyenc_supported(ts->t->def, ts->t->key,
		    ts->t->nkey);
		for (k = 0; k < nsp; k++) {
			if (strcmp(sp[k].db, ts->t->db) == 0 &&
			    strcmp(sp[k].table, ts->t->name) == 0 && sp[k].done)
				ts->done_gen = sp[k].done_gen;
		}
		ts->adding = ts->done_gen == 0 && sync_table_pending(sj,
		    ts->t);
		for (k = 0; ts->keyable && k < nsg; k++) {
			if (strcmp(sg[k].db, ts->t->db) != 0 ||
			    strcmp(sg[k].table, ts->t->name) != 0)
				continue;
			for (tg = 0; tg < sink_ntargets(sj->sink); tg++) {
				if (strcmp(sink_target_name(sj->sink, tg),
				    sg[k].target) == 0)
					sync_seg_add(ts, sg[k].gen, tg,
					    sg[k].part, sg[k].hi, sg[k].hilen);
			}
		}
	}
	sj->window_fno = sj->window_pos = 0;
	for (i = 0; i < sj->ngens; i++) {
		fno = change_file_number(sj->gens[i].file);
		if (sync_poscmp(fno, sj->gens[i].pos, sj->window_fno,
		    sj->window_pos) > 0) {
			sj->window_fno = fno;
			sj->window_pos = sj->gens[i].pos;
		}
	}
	rc = 0;
out:
	snapshot_list_free(sp, nsp);
	snapshot_segments_free(sg, nsg);
	return (rc);
}

static struct sync_tstate *
sync_tstate(struct sync_job *sj, const char *db, const char *table)
{
	size_t	 i;

	for (i = 0; sj->ts != NULL && i < sj->ntables; i++) {
		if (strcmp(sj->ts[i].t->db, db) == 0 &&
		    strcmp(sj->ts[i].t->name, table) == 0)
			return (&sj->ts[i]);
	}
	return (NULL);
}

/*
 * Whether a change at fno:pos to the row with key k (in partition part of
 * target tg) comes after the snapshot that copied that row: the first
 * generation whose segment covers k, else the one that finished the table.
 */
static int
sync_after_copy(struct sync_job *sj, const struct sync_tstate *ts, size_t tg,
    int32_t part, const uint8_t *k, size_t klen, uint64_t fno, uint64_t pos)
{
	const struct snapshot_gen	*g;
	int				 gen = ts->done_gen;
	size_t				 i;

	for (i = 0; k != NULL && i < ts->nsegs; i++) {
		if (ts->segs[i].target == tg && ts->segs[i].part == part &&
		    sync_keycmp(k, klen, ts->segs[i].hi, ts->segs[i].hilen) <=
		    0) {
			gen = ts->segs[i].gen;
			break;
		}
	}
	if (gen == 0)	/* not copied: every change counts, unless the
			 * table is being added (its copy will have it) */
		return (!ts->adding);
	if ((g = sync_gen(sj, gen)) == NULL)
		return (1);
	return (sync_poscmp(fno, pos, change_file_number(g->file),
	    g->pos) >= 0);
}

/*
 * In the window, the targets a row change goes to: those whose copy of
 * the row was taken before the change.  0: none (the change is dropped).
 */
static uint32_t
sync_window_mask(struct sync_job *sj, const struct change *c)
{
	const struct sync_tstate	*ts;
	const struct value		*img[2];
	struct buf			 k = BUF_INITIALIZER;
	uint64_t			 fno = change_file_number(c->file);
	uint32_t			 mask = 0, hash;
	size_t				 tg, n = 0, i;
	int32_t				 part;
	int				 topic, hash_it, have;
	char				*cause = NULL;

	if ((ts = sync_tstate(sj, c->table->db, c->table->name)) == NULL)
		return (UINT32_MAX);
	if (c->before != NULL)
		img[n++] = c->before;
	if (c->after != NULL)
		img[n++] = c->after;
	if (sync_route(sj, c, &topic, &hash, &hash_it, &cause) != 0 ||
	    topic < 0) {
		free(cause);
		return (UINT32_MAX);	/* sync_emit() will say why */
	}
	for (i = 0; i < n; i++) {
		buf_reset(&k);
		have = ts->keyable && keyenc(c->table, ts->t->key, ts->t->nkey,
		    img[i], &k) == 0;
		if (strcmp(sj->job.partition, "pk") == 0 && c->table->npk > 0)
			hash = sync_key_hash(c->table, img[i]);
		for (tg = 0; tg < sink_ntargets(sj->sink) && tg < 32; tg++) {
			part = sink_partition(sj->sink, topic, tg, hash,
			    hash_it);
			if (sync_after_copy(sj, ts, tg, part, have ? k.data :
			    NULL, k.len, fno, c->pos))
				mask |= 1u << tg;
		}
	}
	buf_release(&k);
	return (mask);
}

/* Row callback of the full sync. */
struct sync_snap {
	struct sync_job		*sj;
	struct sync_tstate	*ts;
	const char		*file;
	uint64_t		 pos;
	int			 gen;
	uint32_t		 now;
	uint64_t		 rows;
	struct buf		 k;
	char			*tbl;		/* db.table */
	size_t			 tbllen;
	int			 ck_per_table;	/* checkpoint before each done */
};

static int
sync_snap_row(void *arg, struct snap_table *t, const struct value *v,
    char **cause)
{
	struct sync_snap	*ss = arg;
	struct sync_job		*sj = ss->sj;
	struct sync_tstate	*ts = ss->ts;
	struct sink_meta	 meta;
	struct change		 c;
	uint32_t		 mask = UINT32_MAX, hash;
	size_t			 tg, i;
	int32_t			 part;
	int			 topic, hash_it, rc;

	if (sync_stopping(sj)) {
		*cause = xstrdup("stopped");
		return (-1);
	}
	memset(&c, 0, sizeof c);
	c.kind = CHANGE_INIT;
	c.table = t->def;
	c.after = v;
	c.timestamp = ss->now;
	c.file = ss->file;
	c.pos = ss->pos;
	c.txn_pos = ss->pos;
	c.gtid = "";
	c.server_version = sj->server_version;
	ss->rows++;
	sj->emit_meta = NULL;
	if (ts->keyable) {
		buf_reset(&ss->k);
		if (keyenc(t->def, t->key, t->nkey, v, &ss->k) != 0) {
			*cause = xasprintf("%s: a key value cannot be encoded",
			    ss->tbl);
			return (-1);
		}
		/* A target that already has the row from an interrupted
		 * generation (its segment reaches the key) is skipped. */
		if (ts->nsegs > 0) {
			if (sync_route(sj, &c, &topic, &hash, &hash_it,
			    cause) != 0)
				return (-1);
			for (tg = 0; tg < sink_ntargets(sj->sink) && tg < 32;
			    tg++) {
				part = sink_partition(sj->sink, topic, tg, hash,
				    hash_it);
				for (i = 0; i < ts->nsegs; i++) {
					if (ts->segs[i].target == tg &&
					    ts->segs[i].part == part &&
					    sync_keycmp(ss->k.data, ss->k.len,
					    ts->segs[i].hi, ts->segs[i].hilen) <=
					    0) {
						mask &= ~(1u << tg);
						break;
					}
				}
			}
			if (mask == 0) {
				sync_count(&sj->n_skipped, 1);
				return (0);
			}
		}
		meta.tbl = ss->tbl;
		meta.tbllen = ss->tbllen;
		meta.gen = ss->gen;
		meta.key = ss->k.data;
		meta.keylen = ss->k.len;
		sj->emit_meta = &meta;
	}
	sj->emit_mask = mask;
	rc = sync_emit(sj, &c, SYNC_SNAPSHOT, cause);
	sj->emit_mask = UINT32_MAX;
	sj->emit_meta = NULL;
	if (rc != 0)
		return (-1);
	if (ss->rows % 1024 == 0)
		sink_poll(sj->sink, 0);
	return (sync_delivery_ok(sj, cause));
}

/*
 * Wait until every initial record of chunk k (all: every chunk) is
 * acknowledged.
 */
static int
sync_snap_wait(struct sync_job *sj, int all, uint64_t k, char **cause)
{
	while ((all ? sj->snap_out[0] + sj->snap_out[1] : sj->snap_out[k & 1])
	    > 0 && sj->delivery_error == NULL) {
		if (sync_stopping(sj)) {
			*cause = xstrdup("stopped");
			return (-1);
		}
		sink_poll(sj->sink, 50);
	}
	return (sync_delivery_ok(sj, cause));
}

static int
sync_snap_flush(struct sync_job *sj, char **cause)
{
	return (sync_snap_wait(sj, 1, 0, cause));
}

/* A definition as the schema history keeps it: JSON of the columns. */
static char *
sync_definition(const struct table_def *t)
{
	struct buf	 b = BUF_INITIALIZER;
	uint32_t	 i;

	buf_adds(&b, "{\"shape\":\"");
	for (i = 0; i < t->ncols; i++)
		buf_printf(&b, "%s%u:%u", i > 0 ? "," : "", t->cols[i].type,
		    t->cols[i].meta);
	buf_adds(&b, "\",\"columns\":[");
	for (i = 0; i < t->ncols; i++) {
		if (i > 0)
			buf_addc(&b, ',');
		buf_adds(&b, "{\"name\":");
		json_add_cstring(&b, t->cols[i].name != NULL ?
		    t->cols[i].name : "");
		buf_printf(&b, ",\"type\":%u,\"meta\":%u,"
		    "\"collation\":%u,\"flags\":%u}", t->cols[i].type,
		    t->cols[i].meta, t->cols[i].collation, t->cols[i].flags);
	}
	buf_adds(&b, "],\"key\":[");
	for (i = 0; i < t->npk; i++)
		buf_printf(&b, "%s%u", i > 0 ? "," : "", t->pk[i]);
	buf_adds(&b, "]}");
	return (buf_detach(&b, NULL));
}

/*
 * Segments left by an interrupted generation: for every table not finished,
 * the last INIT record of it in each partition (read from the tails) says
 * up to which key that generation wrote there.
 */
static int
sync_tail_segments(struct sync_job *sj, char **cause)
{
	struct snapshot_segment	 g;
	struct sync_tstate	*ts;
	const uint8_t		*key;
	const char		*tbl;
	char			*name;
	size_t			 i, tg, klen;
	int32_t			 part, nparts;
	int			 topic, gen;

	for (i = 0; i < sj->ntables; i++) {
		ts = &sj->ts[i];
		if (ts->done_gen != 0 || !ts->keyable)
			continue;
		if ((topic = sync_table_topic(sj, ts->t->db, ts->t->name,
		    cause)) < 0)
			return (-1);
		name = xasprintf("%s.%s", ts->t->db, ts->t->name);
		for (tg = 0; tg < sink_ntargets(sj->sink); tg++) {
			nparts = sink_partitions(sj->sink, topic, tg);
			for (part = 0; part < nparts; part++) {
				if (!sink_tail_init(sj->sink, topic, tg, part,
				    &tbl, &gen, &key, &klen) ||
				    strcmp(tbl, name) != 0 || gen <= 0)
					continue;
				memset(&g, 0, sizeof g);
				g.db = ts->t->db;
				g.table = ts->t->name;
				g.gen = gen;
				g.target = (char *)sink_target_name(sj->sink,
				    tg);
				g.part = part;
				g.hi = (uint8_t *)key;
				g.hilen = klen;
				if (store_snapshot_segment_add(sj->store,
				    sj->id, &g, cause) != 0) {
					free(name);
					return (-1);
				}
				sync_seg_add(ts, gen, tg, part, key, klen);
			}
		}
		free(name);
	}
	return (0);
}

/* The schema sync's DDL record of table t: its SHOW CREATE TABLE text. */
static int
sync_emit_create(struct sync_job *sj, const struct snap_table *t,
    const struct sync_snap *ss, char **cause)
{
	struct change	 c;

	memset(&c, 0, sizeof c);
	c.kind = CHANGE_DDL;
	c.db = t->db;
	c.table = t->def;
	c.sql = (const uint8_t *)t->create_sql;
	c.sql_len = strlen(t->create_sql);
	c.timestamp = ss->now;
	c.file = ss->file;
	c.pos = c.txn_pos = ss->pos;
	c.gtid = "";
	c.server_version = sj->server_version;
	return (sync_emit(sj, &c, SYNC_SNAPSHOT, cause));
}

/* Save the checkpoint file:pos with next_id (and schema changes). */
static int
sync_save_ck(struct sync_job *sj, const char *file, uint64_t pos,
    int64_t next_id, const struct schema_change *changes, size_t nchanges,
    char **cause)
{
	struct checkpoint	 cp;
	char			*f = xstrdup(file);

	memset(&cp, 0, sizeof cp);
	cp.file = f;
	cp.pos = pos;
	cp.next_record_id = next_id;
	if (store_checkpoint_save(sj->store, sj->id, &cp, changes, nchanges,
	    cause) != 0) {
		free(f);
		return (-1);
	}
	free(sj->ck_file);
	sj->ck_file = f;
	sj->ck_pos = pos;
	sj->ck_next_id = next_id;
	return (0);
}

/*
 * Copy table i of the job (unless done) at ss's snapshot on m, from where
 * its progress in prog says an earlier generation stopped, in chunks: a
 * chunk's progress is saved once Kafka acknowledged all of it, which it is
 * given while the next chunk is read (a chunk waits for the one before).
 */
static int
sync_copy_table(struct sync_job *sj, MYSQL *m, size_t i,
    const struct snapshot_progress *prog, size_t nprog, struct sync_snap *ss,
    char **cause)
{
	struct snap_table		*t = &sj->tables[i];
	struct job_stats		*js = &sj->js;
	struct snapshot_progress	 sp;
	char				*after = NULL, *next, *acked = NULL;
	uint64_t			 n, nacked = 0;
	size_t				 k;
	int				 rc = -1, have_prev = 0;

	memset(&sp, 0, sizeof sp);
	sp.db = t->db;
	sp.table = t->name;
	sp.rows_estimated = t->rows_estimated;
	for (k = 0; k < nprog; k++) {
		if (strcmp(prog[k].db, t->db) != 0 ||
		    strcmp(prog[k].table, t->name) != 0)
			continue;
		sp.done = prog[k].done;
		sp.done_gen = prog[k].done_gen;
		if (sj->ts[i].keyable) {
			sp.rows_copied = prog[k].rows_copied;
			if (prog[k].last_key != NULL)
				after = xstrdup(prog[k].last_key);
		}
	}
	js->rows_copied += sp.rows_copied;
	if (sp.done) {
		js->tables_done++;
		free(after);
		return (0);
	}
	ss->ts = &sj->ts[i];
	free(ss->tbl);
	ss->tbl = xasprintf("%s.%s", t->db, t->name);
	ss->tbllen = strlen(ss->tbl);	/* once a table, not a row */
	while (sj->job.initial_full) {
		sj->snap_chunk++;
		if (snapshot_chunk(m, t, after, sj->opts.chunk_rows,
		    sync_snap_row, ss, &next, &n, cause) != 0) {
			if (sync_stopping(sj)) {
				free(*cause);
				*cause = xstrdup("stopped");
			} else if (!sj->permanent)
				sync_mysql_failed(sj, *cause);
			goto out;
		}
		/* Progress moves only over what Kafka has: the chunk before
		 * this one, once it is all acknowledged. */
		if (have_prev) {
			if (sync_snap_wait(sj, 0, sj->snap_chunk - 1,
			    cause) != 0) {
				free(next);
				goto out;
			}
			sp.rows_copied += (int64_t)nacked;
			sp.last_key = acked;
			js->rows_copied += (int64_t)nacked;
			if (store_snapshot_save(sj->store, sj->id, &sp,
			    cause) != 0) {
				free(next);
				goto out;
			}
			sync_save_stats(sj, 0);
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
	if (sync_snap_flush(sj, cause) != 0)
		goto out;
	sp.rows_copied += (int64_t)nacked;
	js->rows_copied += (int64_t)nacked;
	/* Adding tables to a running job: the checkpoint (at this snapshot)
	 * moves past the ids of what is copied before the table is done. */
	if (ss->ck_per_table && sync_save_ck(sj, sj->ck_file, sj->ck_pos,
	    record_maker_next_id(sj->maker), NULL, 0, cause) != 0)
		goto out;
	sp.last_key = NULL;
	sp.done = 1;
	sp.done_gen = ss->gen;
	if (store_snapshot_save(sj->store, sj->id, &sp, cause) != 0)
		goto out;
	sj->ts[i].done_gen = ss->gen;
	js->tables_done++;
	sync_save_stats(sj, 1);
	rc = 0;
out:
	free(acked);
	if (after != acked)
		free(after);
	return (rc);
}

/*
 * The initial phase: a consistent snapshot (a new generation), a DDL
 * record per table (schema sync, once), every row as an INIT record (full
 * sync) from where an interrupted generation left each table, then the
 * first checkpoint: the position of the oldest snapshot any row was copied
 * from, with the schema history seeded there.
 */
static int
sync_initial(struct sync_job *sj, char **cause)
{
	struct sync_snap		 ss = { .sj = NULL };
	struct snapshot_progress	 sp, *prog = NULL;
	struct job_stats		*js = &sj->js;
	struct schema_change		*changes = NULL;
	struct checkpoint		 cp;
	const struct snapshot_gen	*g, *first = NULL;
	MYSQL				*m;
	char				*file = NULL;
	uint64_t			 pos;
	size_t				 i, k, nprog = 0;
	int				 rc = -1, gen;

	buf_init(&ss.k);
	if ((m = mysql_conn_open(&sj->src, cause)) == NULL) {
		sync_mysql_failed(sj, *cause);
		buf_release(&ss.k);
		return (-1);
	}
	if (snapshot_begin(m, &file, &pos, cause) != 0)
		goto out;
	if (store_snapshot_gen_add(sj->store, sj->id, file, pos, &gen,
	    cause) != 0 || sync_window_load(sj, cause) != 0 ||
	    sync_tail_segments(sj, cause) != 0 ||
	    store_snapshot_list(sj->store, sj->id, &prog, &nprog, cause) != 0)
		goto out;
	log_info("job %" PRId64 ": snapshot %d at %s:%" PRIu64, sj->id, gen,
	    file, pos);
	ss.sj = sj;
	ss.file = file;
	ss.pos = pos;
	ss.gen = gen;
	ss.now = (uint32_t)(util_wall_us() / 1000000);
	memset(js, 0, sizeof *js);
	js->lag_seconds = -1;
	js->tables_total = (int64_t)sj->ntables;
	for (i = 0; i < sj->ntables; i++)
		js->rows_estimated += sj->tables[i].rows_estimated;

	/* Schema sync, unless an earlier generation did it (progress rows
	 * are written once its DDL records are all acknowledged). */
	if (sj->job.initial_schema && nprog == 0) {
		if (store_job_advance(sj->store, sj->id, JOB_SCHEMA_SYNC, NULL,
		    cause) != 0)
			goto out_stop;
		sync_set_phase(sj, "schema_sync");
		for (i = 0; i < sj->ntables; i++) {
			if (sync_emit_create(sj, &sj->tables[i], &ss,
			    cause) != 0)
				goto out;
		}
		if (sync_snap_flush(sj, cause) != 0)
			goto out;
	}
	for (i = 0; i < sj->ntables && nprog == 0; i++) {
		memset(&sp, 0, sizeof sp);
		sp.db = sj->tables[i].db;
		sp.table = sj->tables[i].name;
		sp.rows_estimated = sj->tables[i].rows_estimated;
		if (store_snapshot_save(sj->store, sj->id, &sp, cause) != 0)
			goto out;
	}
	if (sj->job.initial_full) {
		if (store_job_advance(sj->store, sj->id, JOB_FULL_SYNC, NULL,
		    cause) != 0)
			goto out_stop;
		sync_set_phase(sj, "full_sync");
	}
	for (i = 0; i < sj->ntables; i++) {
		if (sync_copy_table(sj, m, i, prog, nprog, &ss, cause) != 0) {
			if (sync_stopping(sj))
				goto out_stop;
			goto out;
		}
	}
	if (sync_snap_flush(sj, cause) != 0)
		goto out;

	/* The binlog starts at the oldest snapshot a copied row came from. */
	for (i = 0; i < sj->ntables; i++) {
		g = sync_gen(sj, sj->ts[i].done_gen);
		for (k = 0; k < sj->ts[i].nsegs; k++) {
			const struct snapshot_gen *h =
			    sync_gen(sj, sj->ts[i].segs[k].gen);

			if (h != NULL && (first == NULL || sync_poscmp(
			    change_file_number(h->file), h->pos,
			    change_file_number(first->file), first->pos) < 0))
				first = h;
		}
		if (g != NULL && (first == NULL || sync_poscmp(
		    change_file_number(g->file), g->pos,
		    change_file_number(first->file), first->pos) < 0))
			first = g;
	}
	changes = xcalloc(sj->ntables + 1, sizeof *changes);
	for (i = 0; i < sj->ntables; i++) {
		changes[i].db = sj->tables[i].db;
		changes[i].table = sj->tables[i].name;
		changes[i].definition = sync_definition(sj->tables[i].def);
		changes[i].ddl = sj->tables[i].create_sql;
		changes[i].file = file;
		changes[i].pos = pos;
	}
	memset(&cp, 0, sizeof cp);
	cp.file = first != NULL ? first->file : file;
	cp.pos = first != NULL ? first->pos : pos;
	cp.next_record_id = record_maker_next_id(sj->maker);
	if (store_checkpoint_save(sj->store, sj->id, &cp, changes, sj->ntables,
	    cause) != 0)
		goto out;
	free(sj->ck_file);
	sj->ck_file = xstrdup(cp.file);
	sj->ck_pos = cp.pos;
	sj->ck_next_id = cp.next_record_id;
	js->tables_done = js->tables_total;
	if (js->rows_estimated < js->rows_copied)
		js->rows_estimated = js->rows_copied;
	sync_save_stats(sj, 1);
	rc = 0;
	goto out;
out_stop:
	if (*cause == NULL)
		*cause = xstrdup("stopped");
out:
	if (changes != NULL) {
		for (i = 0; i < sj->ntables; i++)
			free((char *)changes[i].definition);
		free(changes);
	}
	snapshot_list_free(prog, nprog);
	buf_release(&ss.k);
	free(ss.tbl);
	mysql_close(m);
	free(file);
	return (rc);
}

/*
 * A HEARTBEAT record when nothing was sent for heartbeat_record_ms and
 * everything sent is acknowledged.  Its id is reserved in the checkpoint
 * before it is sent: a replay from that checkpoint starts after it, so the
 * ids of the records that follow never move (a heartbeat lost in a crash
 * leaves a gap, as DTS ids have).  One write reserves SYNC_HEARTBEAT_IDS
 * ids: the heartbeats take them in turn, and every other record goes after
 * the block (the record maker moves there at once, so every checkpoint
 * from then on says so too).  The first other record gives up what is left
 * of the block, so that ids stay increasing in the topic.
 */
static int
sync_heartbeat(struct sync_job *sj, char **cause)
{
	struct checkpoint	 cp;
	struct change		 c;
	uint64_t		 now = util_mono_us();
	int64_t			 next;
	int			 rc;

	/* Records sent since the last look: as good as sent now (this is
	 * called after each transaction), and no clock read per record. */
	if (atomic_load_explicit(&sj->n_records, memory_order_relaxed) !=
	    sj->hb_records) {
		sj->hb_records = atomic_load_explicit(&sj->n_records,
		    memory_order_relaxed);
		sj->last_record_us = now;
	}
	if (sj->opts.heartbeat_record_ms <= 0 || sj->ck_file == NULL ||
	    sj->job_topic < 0 ||	/* a topic template only: none */
	    now - sj->last_record_us <
	    (uint64_t)sj->opts.heartbeat_record_ms * 1000)
		return (0);
	units_advance(sj);
	if (sj->nunits > 1 || (sj->nunits == 1 && (sj->units[0].closed ||
	    sj->units[0].outstanding > 0)) || sj->ck_dirty)
		return (0);
	if (sj->hb_next >= sj->hb_end) {
		memset(&cp, 0, sizeof cp);
		cp.file = sj->ck_file;
		cp.pos = sj->ck_pos;
		cp.next_record_id = record_maker_next_id(sj->maker) +
		    SYNC_HEARTBEAT_IDS;
		if (store_checkpoint_save(sj->store, sj->id, &cp, NULL, 0,
		    cause) != 0)
			return (-1);
		sj->ck_next_id = cp.next_record_id;
		sj->hb_next = record_maker_next_id(sj->maker);
		sj->hb_end = cp.next_record_id;
		record_maker_set_next_id(sj->maker, sj->hb_end);
	}
	memset(&c, 0, sizeof c);
	c.kind = CHANGE_HEARTBEAT;
	c.timestamp = (uint32_t)(util_wall_us() / 1000000);
	c.file = sj->ck_file;
	c.pos = c.txn_pos = sj->ck_pos;
	c.gtid = "";
	c.server_version = sj->server_version;
	next = record_maker_next_id(sj->maker);
	record_maker_set_next_id(sj->maker, sj->hb_next++);
	rc = sync_emit(sj, &c, SYNC_HEARTBEAT, cause);
	record_maker_set_next_id(sj->maker, next);
	return (rc);
}

/*
 * How many bytes of binlog the source has after file:pos (SHOW BINARY
 * LOGS: the rest of this file and every later one), every few seconds.
 */
static void
sync_lag_bytes(struct sync_job *sj, const char *file, uint64_t pos)
{
	MYSQL_RES	*res;
	MYSQL_ROW	 row;
	uint64_t	 now = util_mono_us();
	int64_t		 lag = 0;
	int		 seen = 0;
	char		*cause = NULL;

	if (now - sj->lag_checked_us < 10000000)
		return;
	sj->lag_checked_us = now;
	if (sj->ctl == NULL && (sj->ctl = mysql_conn_open(&sj->src,
	    &cause)) == NULL) {
		free(cause);
		return;
	}
	if (mysql_query(sj->ctl, "SHOW BINARY LOGS") != 0 ||
	    (res = mysql_store_result(sj->ctl)) == NULL) {
		mysql_close(sj->ctl);	/* no privilege, or gone: try later */
		sj->ctl = NULL;
		return;
	}
	while ((row = mysql_fetch_row(res)) != NULL) {
		int64_t	 size = row[1] != NULL ? strtoll(row[1], NULL, 10) : 0;

		if (strcmp(row[0], file) == 0) {
			seen = 1;
			lag += size > (int64_t)pos ? size - (int64_t)pos : 0;
		} else if (seen)
			lag += size;
	}
	mysql_free_result(res);
	pthread_mutex_lock(&sj->mtx);
	sj->stats.lag_bytes = seen ? lag : -1;
	pthread_mutex_unlock(&sj->mtx);
}

/* ---- definitions the binlog does not carry ------------------------------ */

/* Whether a row image's columns are those of a definition. */
static int
sync_same_shape(const struct table_def *a, const struct table_def *b)
{
	uint32_t	 i;

	if (a->ncols != b->ncols)
		return (0);
	for (i = 0; i < a->ncols; i++) {
		if (a->cols[i].type != b->cols[i].type ||
		    a->cols[i].meta != b->cols[i].meta)
			return (0);
	}
	return (1);
}

static struct snap_table *
sync_find_table(struct snap_table *t, size_t n, const char *db,
    const char *name)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		if (strcmp(t[i].db, db) == 0 && strcmp(t[i].name, name) == 0)
			return (&t[i]);
	}
	return (NULL);
}

/* The table's definition as the source has it now. */
static struct snap_table *
sync_reload_table(struct sync_job *sj, const char *db, const char *name,
    char **cause)
{
	struct job_object	 o;
	struct snap_table	*t = NULL, *old;
	size_t			 n = 0;

	if (sj->ctl == NULL && (sj->ctl = mysql_conn_open(&sj->src,
	    cause)) == NULL)
		return (NULL);
	o.db = (char *)db;
	o.table = (char *)name;
	if (snapshot_tables(sj->ctl, &o, 1, NULL, &t, &n, cause) != 0)
		return (NULL);
	if ((old = sync_find_table(sj->extra, sj->nextra, db, name)) != NULL) {
		/* Replace it: free the old one's contents in place. */
		struct snap_table	 tmp = *old;

		*old = t[0];
		free(t);
		t = xmalloc(sizeof *t);
		*t = tmp;
		snapshot_tables_free(t, 1);
		return (old);
	}
	sj->extra = xreallocarray(sj->extra, sj->nextra + 1,
	    sizeof *sj->extra);
	sj->extra[sj->nextra] = t[0];
	free(t);
	return (&sj->extra[sj->nextra++]);
}

/*
 * Give a row image's definition the names, charsets, ENUM/SET labels,
 * signedness and key the binlog did not carry (binlog_row_metadata=MINIMAL,
 * MySQL 5.x, MariaDB before 10.5), from the table's definition on the
 * source, provided the columns are the same; read again after a DDL.  When
 * they still differ, the image is older than any definition ferry can
 * read: the job stops saying so.
 */
static int
sync_fill_def(struct sync_job *sj, const struct change *c, char **cause)
{
	struct table_def	*def = (struct table_def *)c->table;
	struct snap_table	*ref;
	const struct table_def	*r;
	char			*msg, *why = NULL;
	uint32_t		 i, k;

	if (def == NULL || (def->known & TABLE_KNOWN_NAMES) != 0)
		return (0);
	ref = sync_find_table(sj->extra, sj->nextra, def->db, def->name);
	if (ref == NULL)
		ref = sync_find_table(sj->tables, sj->ntables, def->db,
		    def->name);
	if (ref == NULL || !sync_same_shape(def, ref->def)) {
		if ((ref = sync_reload_table(sj, def->db, def->name,
		    cause)) == NULL)
			return (-1);
		if (!sync_same_shape(def, ref->def)) {
			*cause = xasprintf("the row image of %s.%s at %s:%"
			    PRIu64 " has %" PRIu32 " columns of other types "
			    "than the %" PRIu32 " the table has now, and the "
			    "binlog does not name them (binlog_row_metadata is "
			    "not FULL): set binlog_row_metadata=FULL on the "
			    "source (MySQL 8.0, MariaDB 10.5 and later), then "
			    "re-create the job", def->db, def->name, c->file,
			    c->pos, def->ncols, ref->def->ncols);
			sj->permanent = 1;
			return (-1);
		}
		msg = xasprintf("read the definition of %s.%s again at %s:%"
		    PRIu64 " (%" PRIu32 " columns)", def->db, def->name,
		    c->file, c->pos, def->ncols);
		if (store_log_add(sj->store, sj->id, "daemon", "schema", msg,
		    &why) != 0)
			free(why);
		free(msg);
	}
	r = ref->def;
	for (i = 0; i < def->ncols; i++) {
		struct column		*d = &def->cols[i];
		const struct column	*x = &r->cols[i];

		if (d->name == NULL && x->name != NULL)
			d->name = xstrdup(x->name);
		if (d->collation == 0)
			d->collation = x->collation;
		if ((def->known & TABLE_KNOWN_SIGNEDNESS) == 0)
			d->flags = (uint8_t)((d->flags & ~COLUMN_UNSIGNED) |
			    (x->flags & COLUMN_UNSIGNED));
		if (d->nlabels == 0 && x->nlabels > 0) {
			d->labels = xcalloc(x->nlabels, sizeof *d->labels);
			for (k = 0; k < x->nlabels; k++)
				d->labels[k] = xstrdup(x->labels[k]);
			d->nlabels = x->nlabels;
		}
	}
	if (def->npk == 0 && r->npk > 0) {
		def->pk = xcalloc(r->npk, sizeof *def->pk);
		memcpy(def->pk, r->pk, r->npk * sizeof *r->pk);
		def->npk = r->npk;
		for (i = 0; i < r->npk; i++)
			def->cols[r->pk[i]].flags |= COLUMN_PRIMARY;
	}
	def->known |= TABLE_KNOWN_NAMES | TABLE_KNOWN_CHARSETS |
	    TABLE_KNOWN_LABELS | TABLE_KNOWN_KEY | TABLE_KNOWN_SIGNEDNESS;
	return (0);
}

/* ---- schema history of the binlog phase ------------------------------ */

static uint64_t
sync_shape_mix(uint64_t h, uint32_t v)
{
	return ((h ^ v) * 0x100000001b3ULL);
}

/* The hash of a table_def's shape (never 0). */
static uint64_t
sync_shape_hash(const struct table_def *t)
{
	uint64_t	 h = 0xcbf29ce484222325ULL;
	uint32_t	 i;

	for (i = 0; i < t->ncols; i++)
		h = sync_shape_mix(sync_shape_mix(h, t->cols[i].type),
		    t->cols[i].meta);
	return (h != 0 ? h : 1);
}

/* The same hash of a definition's "shape" text; 0 if it has none. */
static uint64_t
sync_shape_parse(const char *definition, uint32_t *ncols)
{
	const char	*p;
	uint64_t	 h = 0xcbf29ce484222325ULL;
	unsigned int	 type, meta;
	int		 n;

	*ncols = 0;
	if (definition == NULL ||
	    (p = strstr(definition, "\"shape\":\"")) == NULL)
		return (0);
	p += 9;
	while (*p != '"' && sscanf(p, "%u:%u%n", &type, &meta, &n) == 2) {
		h = sync_shape_mix(sync_shape_mix(h, type), meta);
		(*ncols)++;
		p += n;
		if (*p == ',')
			p++;
	}
	return (h != 0 ? h : 1);
}

static void
sync_shapes_free(struct sync_job *sj)
{
	size_t	 i;

	for (i = 0; i < sj->nshapes; i++) {
		free(sj->shapes[i].db);
		free(sj->shapes[i].table);
		free(sj->shapes[i].ddl);
		free(sj->shapes[i].ddl_file);
	}
	free(sj->shapes);
	sj->shapes = NULL;
	sj->nshapes = 0;
}

/*
 * The shape of db.table: known since the binlog was read to here, or
 * from the history as of the checkpoint the reading started at.
 */
static struct sync_shape *
sync_shape(struct sync_job *sj, const char *db, const char *table,
    char **cause)
{
	struct sync_shape	*e;
	char			*def = NULL;
	size_t			 i;

	if (sj->shape_last < sj->nshapes &&
	    strcmp(sj->shapes[sj->shape_last].table, table) == 0 &&
	    strcmp(sj->shapes[sj->shape_last].db, db) == 0)
		return (&sj->shapes[sj->shape_last]);
	for (i = 0; i < sj->nshapes; i++) {
		if (strcmp(sj->shapes[i].db, db) == 0 &&
		    strcmp(sj->shapes[i].table, table) == 0) {
			sj->shape_last = i;
			return (&sj->shapes[i]);
		}
	}
	sj->shapes = xreallocarray(sj->shapes, sj->nshapes + 1,
	    sizeof *sj->shapes);
	e = &sj->shapes[sj->nshapes];
	memset(e, 0, sizeof *e);
	if (store_schema_at(sj->store, sj->id, db, table, sj->ck_file,
	    sj->ck_pos, &def, &e->version, &e->ddl_file, &e->ddl_pos,
	    cause) != 0)
		return (NULL);
	e->db = xstrdup(db);
	e->table = xstrdup(table);
	e->hash = sync_shape_parse(def, &e->ncols);
	if (def != NULL && strstr(def, "\"pending\"") != NULL)
		e->changing = 1;	/* made by a DDL: shape not seen yet */
	else {
		free(e->ddl_file);
		e->ddl_file = NULL;
		if (def != NULL && e->hash == 0)
			e->version = -1;	/* an older ferry's */
		e->changing = sj->ddl_unknown;
	}
	free(def);
	sj->shape_last = sj->nshapes++;
	return (e);
}

/* A DDL read from the binlog: the tables it shapes may change. */
static int
sync_shape_ddl(struct sync_job *sj, const struct change *c, char **cause)
{
	struct ddl_stmt		 st;
	struct sync_shape	*e;
	struct schema_change	 ch;
	size_t			 i;
	int			 rc;

	if (ddl_parse((const char *)c->sql, c->sql_len, c->db, &st) == 0)
		return (0);
	for (i = 0; i < st.ntables || (st.kind == DDL_UNKNOWN && i == 0);
	    i++) {
		if (st.kind == DDL_UNKNOWN) {
			/* Names it could not read: every table may change. */
			char	*msg = xasprintf("a DDL at %s:%" PRIu64 " shapes "
			    "tables ferry cannot name; any table of the job "
			    "may change shape after it: %.200s", c->file,
			    c->pos, (const char *)c->sql);
			char	*why = NULL;

			if (store_log_add(sj->store, sj->id, "daemon", "schema",
			    msg, &why) != 0)
				free(why);
			free(msg);
			for (size_t k = 0; k < sj->nshapes; k++) {
				sj->shapes[k].changing = 1;
				free(sj->shapes[k].ddl_file);
				sj->shapes[k].ddl_file = NULL;
			}
			sj->ddl_unknown = 1;
			break;
		}
		if (!sync_selected(sj, st.tables[i].db, st.tables[i].table))
			continue;
		if ((e = sync_shape(sj, st.tables[i].db, st.tables[i].table,
		    cause)) == NULL) {
			ddl_stmt_free(&st);
			return (-1);
		}
		e->changing = 1;
		free(e->ddl);
		free(e->ddl_file);
		e->ddl = xstrndup((const char *)c->sql, c->sql_len);
		e->ddl_file = xstrdup(c->file);
		e->ddl_pos = c->pos;
		/* Its version, made here; the definition comes with the next
		 * row image (a checkpoint may pass the DDL before one). */
		memset(&ch, 0, sizeof ch);
		ch.db = e->db;
		ch.table = e->table;
		ch.definition = "{\"pending\":true}";
		ch.ddl = e->ddl;
		ch.file = e->ddl_file;
		ch.pos = e->ddl_pos;
		if ((rc = store_schema_add(sj->store, sj->id, &ch,
		    cause)) < 0) {
			ddl_stmt_free(&st);
			return (-1);
		}
		e->version += rc;
	}
	ddl_stmt_free(&st);
	return (0);
}

/*
 * A row image against the table's shape in the history: the same, or a
 * new version after a DDL naming the table (recorded at the DDL's
 * position), or the first one seen of a table the history does not have.
 * A new shape with no DDL read since stops the job: the table was altered
 * where the binlog does not show it.
 */
static int
sync_shape_check(struct sync_job *sj, const struct change *c, char **cause)
{
	const struct table_def	*t = c->table;
	struct sync_shape	*e;
	struct schema_change	 ch;
	uint64_t		 h;
	char			*def;
	int			 rc;

	if (t == NULL || (e = sync_shape(sj, t->db, t->name, cause)) == NULL)
		return (t == NULL ? 0 : -1);
	h = sync_shape_hash(t);
	if (h == e->hash && !e->changing)
		return (0);
	if (e->hash != 0 && !e->changing) {
		*cause = xasprintf("table %s.%s changed shape at %s:%" PRIu64
		    " with no DDL in the binlog: its rows there have %" PRIu32
		    " columns of other types than the %" PRIu32 " of version %"
		    PRId64 " of its definition in the job's schema history "
		    "(altered with sql_log_bin=0, or by a statement ferry "
		    "does not recognise); check the table, then re-create "
		    "the job to take a new snapshot", t->db, t->name, c->file,
		    c->pos, t->ncols, e->ncols, e->version);
		sj->permanent = 1;
		return (-1);
	}
	def = sync_definition(t);
	if (e->changing && e->ddl_file != NULL)	/* the version its DDL made */
		rc = store_schema_fill(sj->store, sj->id, t->db, t->name,
		    e->ddl_file, e->ddl_pos, def, cause);
	else if (e->changing || e->version == 0) {
		/* First seen, or after a DDL ferry could not read. */
		memset(&ch, 0, sizeof ch);
		ch.db = t->db;
		ch.table = t->name;
		ch.definition = def;
		ch.file = c->file;
		ch.pos = c->pos;
		rc = store_schema_add(sj->store, sj->id, &ch, cause);
		e->version += rc > 0;
	} else
		rc = 0;			/* an older ferry's history */
	free(def);
	if (rc < 0)
		return (-1);
	e->hash = h;
	e->ncols = t->ncols;
	e->changing = 0;
	return (0);
}

/*
 * Change callback of the binlog phase.  In the window after an initial
 * sync (from its oldest snapshot to its newest), a row change goes only to
 * the targets whose copy of the row predates it, and a transaction none of
 * whose rows goes anywhere sends no BEGIN and COMMIT either.
 */
static int
sync_on_change(void *arg, const struct change *c, char **cause)
{
	struct sync_job	*sj = arg;
	uint32_t	 mask = UINT32_MAX;
	int		 rc;

	if ((c->kind == CHANGE_ROW || c->kind == CHANGE_BEGIN) &&
	    sync_fill_def(sj, c, cause) != 0)
		return (-1);
	if (c->kind == CHANGE_ROW && sync_shape_check(sj, c, cause) != 0)
		return (-1);
	if (c->kind == CHANGE_DDL && sync_shape_ddl(sj, c, cause) != 0)
		return (-1);
	if (sj->window && c->file != NULL && sync_poscmp(
	    change_file_number(c->file), c->pos, sj->window_fno,
	    sj->window_pos) >= 0)
		sj->window = 0;
	switch (c->kind) {
	case CHANGE_DDL:
		if (strcmp(sj->job.ddl, "forward") != 0 ||
		    !sync_db_selected(sj, c->db))
			return (0);
		break;
	case CHANGE_BEGIN:
		if (sj->window) {
			sj->pending_begin = *c;
			sj->have_pending = 1;
			return (0);
		}
		break;
	case CHANGE_ROW:
		if (sj->window && (mask = sync_window_mask(sj, c)) == 0)
			return (0);
		if (sj->have_pending) {
			sj->have_pending = 0;
			if (sync_emit(sj, &sj->pending_begin, SYNC_BINLOG,
			    cause) != 0)
				return (-1);
		}
		sj->emit_mask = mask;
		rc = sync_emit(sj, c, SYNC_BINLOG, cause);
		sj->emit_mask = UINT32_MAX;
		return (rc);
	case CHANGE_COMMIT:
	case CHANGE_ROLLBACK:
		if (sj->have_pending) {
			sj->have_pending = 0;	/* nothing of it was sent */
			return (0);
		}
		break;
	default:
		break;
	}
	return (sync_emit(sj, c, SYNC_BINLOG, cause));
}

/* The binlog from the checkpoint, until stopped or failed. */
/*
 * Before reading the source: while a finished transaction waits for its
 * delivery reports (or its checkpoint for checkpoint_ms), wait for the
 * source only SYNC_REPORT_POLL_MS at a time and take the reports in
 * between, so the checkpoint follows the acknowledgements at once rather
 * than at the source's next heartbeat.
 */
static int
sync_await_source(struct sync_job *sj, struct binlog_client *bc,
    char **cause)
{
	for (;;) {
		units_advance(sj);
		if (!sj->ck_dirty && (sj->nunits == 0 ||
		    !sj->units[0].closed))
			return (0);	/* nothing finished is waiting */
		if (binlog_client_wait(bc, SYNC_REPORT_POLL_MS) != 0)
			return (0);
		sink_poll(sj->sink, 0);
		if (sync_delivery_ok(sj, cause) != 0 ||
		    sync_checkpoint(sj, 0, cause) != 0)
			return (-1);
		sync_save_stats(sj, 0);
		if (sync_stopping(sj)) {
			*cause = xstrdup("stopped");
			return (-1);
		}
	}
}

static int
sync_incremental(struct sync_job *sj, char **cause)
{
	struct binlog_client_opts	 o;
	struct binlog_client		*bc;
	struct binlog_decoder		*dec = NULL;
	struct change_builder		*cb = NULL;
	struct binlog_event		 ev;
	enum binlog_client_error	 kind;
	const uint8_t			*raw;
	size_t				 len;
	uint64_t			 off;
	const char			*file;
	int				 rc, status = -1, boundary, heartbeat;

	binlog_client_opts_init(&o);
	o.conn = sj->src;	/* borrowed: not released below */
	o.server_id = sj->job.server_id;
	o.file = sj->ck_file;
	o.pos = sj->ck_pos;
	o.heartbeat_ms = (unsigned int)sj->opts.heartbeat_ms;
	/* HEARTBEAT records are sent when the thread wakes: often enough. */
	if (sj->opts.heartbeat_record_ms > 0 &&
	    (unsigned int)sj->opts.heartbeat_record_ms < o.heartbeat_ms)
		o.heartbeat_ms = (unsigned int)sj->opts.heartbeat_record_ms;
	o.nonblocking = 0;
	bc = binlog_client_open(&o, &kind, cause);
	if (bc == NULL) {
		if (kind == BINLOG_CLIENT_PURGED) {
			char	*why = *cause;

			*cause = xasprintf("the binlog the job needs (%s:%" PRIu64
			    ") was purged from the source: remove and "
			    "re-create the job to take a new snapshot (%s)",
			    sj->ck_file, sj->ck_pos, why);
			free(why);
		}
		if (kind == BINLOG_CLIENT_PURGED || kind == BINLOG_CLIENT_AUTH ||
		    kind == BINLOG_CLIENT_FATAL)
			sj->permanent = 1;
		return (-1);
	}
	pthread_mutex_lock(&sj->mtx);
	sj->bc = bc;
	rc = sj->stop;
	pthread_mutex_unlock(&sj->mtx);
	if (rc) {
		*cause = xstrdup("stopped");
		goto out;
	}
	dec = binlog_decoder_new();
	binlog_decoder_set_checksum(dec, binlog_client_checksum(bc));
	cb = change_builder_new(sync_on_change, sync_selected, sj);
	record_maker_free(sj->maker);
	sj->maker = record_maker_new(sj->ck_next_id);
	sj->hb_next = sj->hb_end = 0;
	units_clear(sj);
	sync_shapes_free(sj);	/* as of the checkpoint, read again */
	sj->ddl_unknown = 0;
	sj->last_record_us = util_mono_us();
	sj->have_pending = 0;
	if (sync_window_load(sj, cause) != 0)
		goto out;
	sj->window = sj->ngens > 0 && sync_poscmp(change_file_number(
	    sj->ck_file), sj->ck_pos, sj->window_fno, sj->window_pos) < 0;
	if (sj->until && sync_poscmp(change_file_number(sj->ck_file),
	    sj->ck_pos, sj->until_fno, sj->until_pos) >= 0) {
		status = 0;
		goto out;
	}
	for (;;) {
		if (sync_await_source(sj, bc, cause) != 0)
			break;
		rc = binlog_client_next(bc, &raw, &len, &off, &kind, cause);
		if (rc <= 0) {
			if (rc == 0 || kind == BINLOG_CLIENT_STOPPED ||
			    sync_stopping(sj)) {
				free(*cause);
				*cause = xstrdup("stopped");
			} else if (kind == BINLOG_CLIENT_PURGED ||
			    kind == BINLOG_CLIENT_AUTH ||
			    kind == BINLOG_CLIENT_FATAL)
				sj->permanent = 1;
			break;
		}
		file = binlog_client_file(bc);
		if (sj->cur_file == NULL || strcmp(sj->cur_file, file) != 0) {
			free(sj->cur_file);
			sj->cur_file = xstrdup(file);
			change_builder_set_file(cb, file);
		}
		if (binlog_decoder_feed(dec, raw, len, off, cause) != 0)
			goto bad;
		boundary = heartbeat = 0;
		while ((rc = binlog_decoder_next(dec, &ev, cause)) == 1) {
			if (!ev.in_payload && ev.h.timestamp != 0)
				sj->last_ts = ev.h.timestamp;
			if (change_builder_feed(cb, dec, &ev, cause) != 0)
				goto bad;
			if (!ev.in_payload && (ev.h.type == BINLOG_QUERY ||
			    ev.h.type == BINLOG_XID ||
			    ev.h.type == BINLOG_XA_PREPARE ||
			    ev.h.type == BINLOG_TRANSACTION_PAYLOAD ||
			    ev.h.type == BINLOG_MARIA_QUERY_COMPRESSED))
				boundary = 1;
			if (ev.h.type == BINLOG_HEARTBEAT ||
			    ev.h.type == BINLOG_HEARTBEAT_V2)
				heartbeat = 1;
		}
		if (rc < 0)
			goto bad;
		if (boundary && change_builder_at_boundary(cb))
			unit_close(sj, file, off + len,
			    record_maker_next_id(sj->maker));
		if (sj->until && change_builder_at_boundary(cb) &&
		    sync_poscmp(change_file_number(file), off + len,
		    sj->until_fno, sj->until_pos) >= 0) {
			status = 0;
			goto out;
		}
		/*
		 * Lag: how old the last event read is; a heartbeat says the
		 * source has nothing newer, so with nothing in flight it is 0.
		 */
		units_advance(sj);
		if (heartbeat) {
			if (sj->nunits == 0 || (sj->nunits == 1 &&
			    !sj->units[0].closed))
				sync_set_lag(sj, 0);
		} else {
			sync_count(&sj->n_events, 1);
			if (sj->last_ts != 0)
				sync_set_lag(sj, (int64_t)(util_wall_us() /
				    1000000) - sj->last_ts);
		}
		sink_poll(sj->sink, 0);
		if (sync_delivery_ok(sj, cause) != 0)
			break;
		if (sync_checkpoint(sj, 0, cause) != 0)
			break;
		if (change_builder_at_boundary(cb) &&
		    sync_heartbeat(sj, cause) != 0)
			break;
		sync_lag_bytes(sj, file, off + len);
		sync_save_stats(sj, 0);
		if (sync_stopping(sj)) {
			*cause = xstrdup("stopped");
			break;
		}
		continue;
bad:
		{
			char	*why = *cause;

			*cause = xasprintf("%s: offset %" PRIu64 ": %s", file,
			    off, why);
			free(why);
			sj->permanent = 1;
			break;
		}
	}
	status = -1;
out:
	if (sj->ctl != NULL) {
		mysql_close(sj->ctl);
		sj->ctl = NULL;
	}
	snapshot_tables_free(sj->extra, sj->nextra);
	sj->extra = NULL;
	sj->nextra = 0;
	pthread_mutex_lock(&sj->mtx);
	sj->bc = NULL;
	pthread_mutex_unlock(&sj->mtx);
	change_builder_free(cb);
	binlog_decoder_free(dec);
	binlog_client_close(bc);
	return (status);
}

/*
 * Drain what is in flight (up to a few seconds) and save the watermark:
 * a stop loses nothing and repeats as little as possible.
 */
static void
sync_drain(struct sync_job *sj)
{
	uint64_t	 deadline = util_mono_us() + 10 * 1000000ULL;
	char		*cause = NULL;

	if (sj->sink == NULL)
		return;
	while (util_mono_us() < deadline && sj->delivery_error == NULL) {
		units_advance(sj);
		if (sj->nunits == 0 || (sj->nunits == 1 &&
		    !sj->units[0].closed && sj->units[0].outstanding <= 0))
			break;
		sink_poll(sj->sink, 100);
	}
	if (sync_checkpoint(sj, 1, &cause) != 0) {
		log_warnx("job %" PRId64 ": %s", sj->id, cause);
		free(cause);
	}
}

/* Wait until every binlog record sent is acknowledged. */
static int
sync_settle(struct sync_job *sj, char **cause)
{
	for (;;) {
		units_advance(sj);
		if (sj->nunits == 0 || (sj->nunits == 1 &&
		    !sj->units[0].closed && sj->units[0].outstanding <= 0))
			return (sync_delivery_ok(sj, cause));
		if (sync_delivery_ok(sj, cause) != 0)
			return (-1);
		if (sync_stopping(sj)) {
			*cause = xstrdup("stopped");
			return (-1);
		}
		sink_poll(sj->sink, 50);
	}
}

/*
 * Tables added to a job that follows the binlog (ferry job add-tables):
 * a snapshot S of their own; the binlog from the checkpoint up to S for
 * the tables the job had (the added ones' rows there are in the copy);
 * the checkpoint at S; their DDL and INIT records; the checkpoint at S
 * again, past those records' ids, with their schema history.  The binlog
 * then goes on from S for every table.
 *
 * Ids: from the checkpoint at S on, the job writes nothing but the copy's
 * records until it is done.  The DDL records' ids are reserved in the
 * checkpoint before they are sent; when a copy was interrupted (an added
 * table has progress but is not done, the checkpoint is at the newest
 * snapshot) the checkpoint moves above the ids its partitions hold, so a
 * replay of the binlog from there never takes an id already written.
 * Rows an interrupted generation copied are not copied again, and their
 * changes after its snapshot are not dropped (the segments of the window).
 */
static int
sync_add_tables(struct sync_job *sj, int64_t max_id, char **cause)
{
	struct sync_snap		 ss = { .sj = NULL };
	struct snapshot_progress	*prog = NULL, sp;
	struct snapshot_gen		*gens = NULL;
	const struct snapshot_gen	*newest = NULL;
	struct schema_change		*changes = NULL;
	struct job_stats		*js = &sj->js;
	MYSQL				*m = NULL;
	char				*file = NULL, *msg, *why = NULL;
	uint64_t			 pos;
	size_t				 nprog = 0, ngens = 0, i, k, nadd = 0;
	size_t				 nfresh = 0, nch = 0;
	int				*fresh = NULL, *adding = NULL;
	int				 begun = 0, gen, rc = -1;

	buf_init(&ss.k);
	if (store_snapshot_list(sj->store, sj->id, &prog, &nprog, cause) != 0)
		goto out;
	fresh = xcalloc(sj->ntables + 1, sizeof *fresh);
	adding = xcalloc(sj->ntables + 1, sizeof *adding);
	for (i = 0; i < sj->ntables; i++) {
		const struct snapshot_progress	*p = NULL;

		if (!sync_table_pending(sj, &sj->tables[i]))
			continue;
		for (k = 0; k < nprog; k++) {
			if (strcmp(prog[k].db, sj->tables[i].db) == 0 &&
			    strcmp(prog[k].table, sj->tables[i].name) == 0)
				p = &prog[k];
		}
		if (p != NULL && p->done)
			continue;
		adding[i] = 1;
		nadd++;
		if (p == NULL) {
			fresh[i] = 1;
			nfresh++;
		} else
			begun = 1;
	}
	if (nadd == 0) {
		/* Added objects whose tables are copied (or that name none
		 * yet: a table created later in DB.* comes with its binlog). */
		rc = store_job_objects_copied(sj->store, sj->id,
		    sj->job.objects, sj->job.nobjects, cause);
		goto out;
	}
	if (store_snapshot_gens(sj->store, sj->id, &gens, &ngens, cause) != 0)
		goto out;
	for (i = 0; i < ngens; i++) {
		if (newest == NULL || gens[i].gen > newest->gen)
			newest = &gens[i];
	}
	if (begun && newest != NULL && strcmp(newest->file, sj->ck_file) == 0 &&
	    newest->pos == sj->ck_pos && max_id >= sj->ck_next_id &&
	    sync_save_ck(sj, sj->ck_file, sj->ck_pos, max_id + 1, NULL, 0,
	    cause) != 0)
		goto out;

	if ((m = mysql_conn_open(&sj->src, cause)) == NULL) {
		sync_mysql_failed(sj, *cause);
		goto out;
	}
	if (snapshot_begin(m, &file, &pos, cause) != 0 ||
	    store_snapshot_gen_add(sj->store, sj->id, file, pos, &gen,
	    cause) != 0 || sync_window_load(sj, cause) != 0 ||
	    sync_tail_segments(sj, cause) != 0)
		goto out;
	msg = xasprintf("adding %zu table%s: snapshot %d at %s:%" PRIu64
	    "; the binlog from %s:%" PRIu64 " to there first", nadd,
	    nadd == 1 ? "" : "s", gen, file, pos, sj->ck_file, sj->ck_pos);
	log_info("job %" PRId64 ": %s", sj->id, msg);
	if (store_log_add(sj->store, sj->id, "daemon", "add-tables", msg,
	    &why) != 0)
		free(why);
	free(msg);

	/* The binlog up to the snapshot. */
	sync_set_phase(sj, "catching_up");
	sj->until = 1;
	sj->until_fno = change_file_number(file);
	sj->until_pos = pos;
	rc = sync_incremental(sj, cause);
	sj->until = 0;
	sj->window = 0;
	if (rc != 0 || (rc = sync_settle(sj, cause)) != 0)
		goto out;
	rc = -1;

	/* The checkpoint at the snapshot, the DDL records' ids reserved. */
	if (sync_save_ck(sj, file, pos, record_maker_next_id(sj->maker) +
	    (sj->job.initial_schema ? (int64_t)nfresh : 0), NULL, 0,
	    cause) != 0)
		goto out;
	sync_set_phase(sj, "full_sync");
	ss.sj = sj;
	ss.file = file;
	ss.pos = pos;
	ss.gen = gen;
	ss.now = (uint32_t)(util_wall_us() / 1000000);
	ss.ck_per_table = 1;
	memset(js, 0, sizeof *js);
	js->lag_seconds = -1;
	js->tables_total = (int64_t)nadd;
	for (i = 0; i < sj->ntables; i++) {
		if (adding[i])
			js->rows_estimated += sj->tables[i].rows_estimated;
		if (fresh[i] && sj->job.initial_schema &&
		    sync_emit_create(sj, &sj->tables[i], &ss, cause) != 0)
			goto out;
	}
	if (sync_snap_flush(sj, cause) != 0)
		goto out;
	for (i = 0; i < sj->ntables; i++) {
		if (!fresh[i])
			continue;
		memset(&sp, 0, sizeof sp);
		sp.db = sj->tables[i].db;
		sp.table = sj->tables[i].name;
		sp.rows_estimated = sj->tables[i].rows_estimated;
		if (store_snapshot_save(sj->store, sj->id, &sp, cause) != 0)
			goto out;
	}
	snapshot_list_free(prog, nprog);
	prog = NULL;
	nprog = 0;
	if (store_snapshot_list(sj->store, sj->id, &prog, &nprog, cause) != 0)
		goto out;
	for (i = 0; i < sj->ntables; i++) {
		if (adding[i] && sync_copy_table(sj, m, i, prog, nprog, &ss,
		    cause) != 0)
			goto out;
	}
	if (sync_snap_flush(sj, cause) != 0)
		goto out;

	/* Their schema history at the snapshot, with the checkpoint. */
	changes = xcalloc(nadd + 1, sizeof *changes);
	for (i = 0; i < sj->ntables; i++) {
		if (!adding[i])
			continue;
		changes[nch].db = sj->tables[i].db;
		changes[nch].table = sj->tables[i].name;
		changes[nch].definition = sync_definition(sj->tables[i].def);
		changes[nch].ddl = sj->tables[i].create_sql;
		changes[nch].file = file;
		changes[nch].pos = pos;
		nch++;
	}
	if (sync_save_ck(sj, file, pos, record_maker_next_id(sj->maker),
	    changes, nch, cause) != 0 ||
	    store_job_objects_copied(sj->store, sj->id, sj->job.objects,
	    sj->job.nobjects, cause) != 0)
		goto out;
	msg = xasprintf("added %zu table%s (%" PRId64 " rows copied)", nadd,
	    nadd == 1 ? "" : "s", js->rows_copied);
	if (store_log_add(sj->store, sj->id, "daemon", "add-tables", msg,
	    &why) != 0)
		free(why);
	free(msg);
	js->tables_done = js->tables_total;
	sync_save_stats(sj, 1);
	rc = 0;
out:
	if (rc != 0 && *cause == NULL)
		*cause = xstrdup("stopped");
	if (changes != NULL) {
		for (i = 0; i < nch; i++)
			free((char *)changes[i].definition);
		free(changes);
	}
	if (m != NULL)
		mysql_close(m);
	snapshot_list_free(prog, nprog);
	snapshot_gens_free(gens, ngens);
	buf_release(&ss.k);
	free(ss.tbl);
	free(fresh);
	free(adding);
	free(file);
	return (rc);
}

/* One attempt: returns -1 with *cause (and sj->permanent) when it ends. */
static int
sync_attempt(struct sync_job *sj, char **cause)
{
	struct sink_target_opts	*targets = NULL;
	struct checkpoint	 cp;
	struct buf		 gone = BUF_INITIALIZER;
	MYSQL			*m = NULL;
	size_t			 ntargets = 0, i;
	int64_t			 max_id = 0;
	int			 rc = -1;

	sj->permanent = 0;
	free(sj->delivery_error);
	sj->delivery_error = NULL;
	sj->snap_out[0] = sj->snap_out[1] = 0;
	units_clear(sj);
	if (sync_load(sj, &targets, &ntargets, cause) != 0)
		goto out;
	if (store_checkpoint_get(sj->store, sj->id, &cp, cause) != 0 ||
	    store_stats_get(sj->store, sj->id, &sj->js, cause) != 0)
		goto out;
	free(sj->ck_file);
	sj->ck_file = cp.file;
	sj->ck_pos = cp.pos;
	sj->ck_next_id = cp.next_record_id;
	free(cp.gtid);
	if (sj->ck_file == NULL) {
		if (store_job_advance(sj->store, sj->id, JOB_PRECHECKING, NULL,
		    cause) != 0) {
			if (*cause == NULL)
				*cause = xstrdup("stopped");
			goto out;
		}
		sync_set_phase(sj, "prechecking");
	}
	sj->budget = sj->job.max_memory > 0 ? sj->job.max_memory :
	    SYNC_DEFAULT_BUDGET;

	/* Source: settings and tables. */
	if ((m = mysql_conn_open(&sj->src, cause)) == NULL) {
		sync_mysql_failed(sj, *cause);
		goto out;
	}
	free(sj->server_version);
	sj->server_version = xstrdup(mysql_get_server_info(m));
	if (sj->ck_file == NULL && sync_precheck_source(sj, m, cause) != 0)
		goto out;
	sync_window_free(sj);
	snapshot_tables_free(sj->tables, sj->ntables);
	sj->tables = NULL;
	sj->ntables = 0;
	/*
	 * Before the first checkpoint every table named must exist; after
	 * it, one renamed or dropped since is no longer carried (the binlog
	 * says what happened to it; add-tables brings a new name in).
	 */
	buf_reset(&gone);
	if (snapshot_tables(m, sj->job.objects, sj->job.nobjects,
	    sj->ck_file != NULL ? &gone : NULL, &sj->tables, &sj->ntables,
	    cause) != 0) {
		if (strstr(*cause, "does not exist") != NULL ||
		    strstr(*cause, "names no table") != NULL ||
		    strstr(*cause, "cannot read") != NULL)
			sj->permanent = 1;
		goto out;
	}
	if (gone.len > 0) {
		char	*msg, *why = NULL;

		msg = xasprintf("not on the source any more (renamed or "
		    "dropped), no longer carried: %.*s", (int)gone.len,
		    (const char *)gone.data);
		log_info("job %" PRId64 ": %s", sj->id, msg);
		if (store_log_add(sj->store, sj->id, "daemon", "warn", msg,
		    &why) != 0)
			free(why);
		free(msg);
	}
	mysql_close(m);
	m = NULL;

	/* Targets: connections, topics, what they hold. */
	if ((sj->sink = sink_new(sj->id, targets, ntargets, sync_delivered,
	    sync_cancel, sj, cause)) == NULL) {
		if (strstr(*cause, "authentication failed") != NULL)
			sj->permanent = 1;
		goto out;
	}
	sj->job_topic = -1;
	if (sj->job.topic != NULL &&
	    (sj->job_topic = sink_topic(sj->sink, sj->job.topic, cause)) < 0) {
		sj->permanent = strstr(*cause, "does not exist") != NULL;
		goto out;
	}
	for (i = 0; i < sj->ntables; i++) {
		if (sync_table_topic(sj, sj->tables[i].db, sj->tables[i].name,
		    cause) < 0) {
			sj->permanent = strstr(*cause, "does not exist") !=
			    NULL;
			goto out;
		}
		if (sj->ck_file == NULL && sj->tables[i].nkey == 0) {
			char	*msg = xasprintf("precheck: table %s.%s has no "
			    "primary or unique key: it is copied in one read, "
			    "and its updates cannot be told apart by key",
			    sj->tables[i].db, sj->tables[i].name);
			char	*why = NULL;

			if (store_log_add(sj->store, sj->id, "daemon", "warn",
			    msg, &why) != 0)
				free(why);
			free(msg);
		}
	}
	if (sink_scan(sj->sink, &max_id, cause) != 0)
		goto out;
	if (sj->ck_file != NULL && sync_add_tables(sj, max_id, cause) != 0)
		goto out;

	if (sj->ck_file == NULL) {
		/* Above anything already written: nothing is hidden. */
		record_maker_free(sj->maker);
		sj->maker = record_maker_new(max_id + 1);
		if (sync_initial(sj, cause) != 0)
			goto out;
	}
	if (store_job_advance(sj->store, sj->id, JOB_INCREMENTAL, NULL,
	    cause) != 0) {
		if (*cause == NULL)
			*cause = xstrdup("stopped");
		goto out;
	}
	sync_set_phase(sj, "incremental");
	log_info("job %" PRId64 ": following the binlog from %s:%" PRIu64
	    " (next record %" PRId64 ")", sj->id, sj->ck_file, sj->ck_pos,
	    sj->ck_next_id);
	rc = sync_incremental(sj, cause);
	sync_drain(sj);
out:
	if (m != NULL)
		mysql_close(m);
	sink_free(sj->sink);
	sj->sink = NULL;
	sync_targets_free(targets, ntargets);
	buf_release(&gone);
	return (rc);
}

static void *
sync_main(void *arg)
{
	struct sync_job	*sj = arg;
	char		*cause = NULL, *why = NULL;
	int64_t		 delay, attempts = 0;
	int		 rc;

	if ((sj->store = store_open(sj->store_path, &cause)) == NULL) {
		log_warnx("job %" PRId64 ": %s", sj->id, cause);
		free(cause);
		atomic_store(&sj->finished, 1);
		return (NULL);
	}
	sj->enc = dts_encoder_new();
	sj->maker = record_maker_new(1);
	for (;;) {
		free(cause);
		cause = NULL;
		rc = sync_attempt(sj, &cause);
		if (sync_stopping(sj))
			break;
		if (rc == 0)
			continue;
		if (cause == NULL)
			cause = xstrdup("unknown failure");
		if (strcmp(cause, "stopped") == 0)
			break;	/* the user moved the job meanwhile */
		if (sj->permanent) {
			log_warnx("job %" PRId64 " failed: %s", sj->id, cause);
			if (store_job_advance(sj->store, sj->id, JOB_FAILED,
			    cause, &why) < 0) {
				log_warnx("job %" PRId64 ": %s", sj->id, why);
				free(why);
				why = NULL;
			}
			break;
		}
		attempts++;
		delay = (int64_t)sj->opts.retry_min_ms << (attempts < 16 ?
		    attempts - 1 : 15);
		if (delay > sj->opts.retry_max_ms)
			delay = sj->opts.retry_max_ms;
		delay = delay / 2 + (int64_t)(util_mono_us() % (uint64_t)(
		    delay / 2 + 1));
		log_warnx("job %" PRId64 ": %s; retrying in %" PRId64 " ms",
		    sj->id, cause, delay);
		if (store_job_schedule_retry(sj->store, sj->id,
		    (int64_t)(util_wall_us() / 1000) + delay, cause,
		    &why) != 0) {
			log_warnx("job %" PRId64 ": %s", sj->id, why);
			free(why);
			why = NULL;
		}
		pthread_mutex_lock(&sj->mtx);
		sj->stats.restarts++;
		pthread_mutex_unlock(&sj->mtx);
		if (sync_sleep(sj, delay))
			break;
	}
	free(cause);
	sync_window_free(sj);
	sync_shapes_free(sj);
	snapshot_tables_free(sj->tables, sj->ntables);
	sj->tables = NULL;
	sj->ntables = 0;
	record_maker_free(sj->maker);
	sj->maker = NULL;
	dts_encoder_free(sj->enc);
	sj->enc = NULL;
	store_close(sj->store);
	sj->store = NULL;
	atomic_store(&sj->finished, 1);
	return (NULL);
}

/* Start running job id of the store at path on a thread of its own. */
struct sync_job *
sync_job_start(const char *path, int64_t id, const struct sync_options *o,
    char **cause)
{
	struct sync_job	*sj;
	int		 err;

	sj = xcalloc(1, sizeof *sj);
	sj->id = id;
	sj->store_path = xstrdup(path);
	sj->opts = *o;
	sj->job_topic = -1;
	sj->emit_mask = UINT32_MAX;
	sj->stats.job = id;
	sync_set_lag(sj, -1);
	sj->stats.lag_bytes = -1;
	util_strlcpy(sj->stats.phase, "starting", sizeof sj->stats.phase);
	mysql_conn_opts_init(&sj->src);
	buf_init(&sj->out);
	buf_init(&sj->key);
	pthread_mutex_init(&sj->mtx, NULL);
	pthread_cond_init(&sj->cv, NULL);
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
	pthread_mutex_lock(&sj->mtx);
	sj->stop = 1;
	if (sj->bc != NULL)
		binlog_client_stop(sj->bc);
	pthread_cond_broadcast(&sj->cv);
	pthread_mutex_unlock(&sj->mtx);
}

int
sync_job_finished(struct sync_job *sj)
{
	return (atomic_load(&sj->finished));
}

int64_t
sync_job_id(const struct sync_job *sj)
{
	return (sj->id);
}

void
sync_job_stats(struct sync_job *sj, struct sync_stats *st)
{
	pthread_mutex_lock(&sj->mtx);
	*st = sj->stats;
	pthread_mutex_unlock(&sj->mtx);
	st->records = atomic_load_explicit(&sj->n_records, memory_order_relaxed);
	st->acked = atomic_load_explicit(&sj->n_acked, memory_order_relaxed);
	st->skipped = atomic_load_explicit(&sj->n_skipped, memory_order_relaxed);
	st->bytes = atomic_load_explicit(&sj->n_bytes, memory_order_relaxed);
	st->events = atomic_load_explicit(&sj->n_events, memory_order_relaxed);
	st->inflight_bytes = atomic_load_explicit(&sj->n_inflight,
	    memory_order_relaxed);
	st->lag_seconds = atomic_load_explicit(&sj->n_lag_seconds,
	    memory_order_relaxed);
}

/* Wait for the thread (stop it first) and free everything. */
void
sync_job_free(struct sync_job *sj)
{
	if (sj == NULL)
		return;
	if (sj->thread != 0)
		pthread_join(sj->thread, NULL);
	units_clear(sj);
	free(sj->units);
	free(sj->ck_file);
	free(sj->cur_file);
	free(sj->delivery_error);
	free(sj->server_version);
	job_release(&sj->job);
	mysql_conn_opts_release(&sj->src);
	buf_release(&sj->out);
	buf_release(&sj->key);
	pthread_mutex_destroy(&sj->mtx);
	pthread_cond_destroy(&sj->cv);
	free(sj->store_path);
	free(sj);
}
