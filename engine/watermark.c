/*
 * The watermark and the checkpoints (DESIGN.md §7).
 *
 * The binlog is cut into units: the events up to a transaction boundary.
 * A unit's records are counted out as they are queued and in as Kafka
 * acknowledges them; the watermark is the end of the last unit whose
 * records are all in, and only the watermark is saved as the checkpoint
 * (every checkpoint_ms, and when the job stops).  A checkpoint is a binlog
 * position at a transaction boundary *and* the next record id there:
 * replaying the binlog from it makes the same records with the same ids.
 *
 * The full sync's records are counted by chunk instead (two slots, by the
 * chunk number's parity), heartbeats not at all: a HEARTBEAT is not in the
 * binlog, so its id is reserved in a checkpoint before it is sent, 64 at a
 * time (watermark_heartbeat_id()).
 *
 * Invariants: only the last unit may be open; the checkpoint never passes
 * a record Kafka has not acknowledged.  Everything here runs on the job's
 * thread, delivery reports included (the sink hands them over there).
 */
#include "config.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "common/xmalloc.h"
#include "engine/gtid.h"
#include "engine/jobctx.h"
#include "engine/watermark.h"

/* Ids a HEARTBEAT reservation sets aside: one checkpoint write for this
 * many heartbeats of an idle job, not one each. */
#define WATERMARK_HEARTBEAT_IDS	64

struct wm_unit {
	uint32_t	 ts;		/* the source's time of its first change */
	int64_t		 outstanding;
	int		 closed;
	char		*file;
	uint64_t	 pos;
	int64_t		 next_id;
	struct gtid_one	 gtid;		/* its transaction's */
	int		 has_gtid;
};

/* A transaction read beyond the checkpoint in an earlier attempt, whose
 * records (ids from first_id up to next_id) may be in Kafka. */
struct wm_past {
	int64_t		 first_id;
	int64_t		 next_id;
	struct gtid_one	 gtid;
};

struct watermark {
	struct jobctx	*ctx;
	struct wm_unit	*units;		/* units[0] is head_seq + 1 */
	size_t		 nunits;
	size_t		 cap;
	uint64_t	 head_seq;
	int64_t		 snap_out[2];	/* by chunk parity */
	uint64_t	 snap_chunk;	/* the chunk being read */
	char		*delivery_error;
	int		 delivery_permanent;

	char		*ck_file;	/* the watermark */
	uint64_t	 ck_pos;
	uint32_t	 ck_server;	/* whose binlog ck_file is; 0: unknown
					   (a checkpoint of an earlier ferry:
					   the endpoint's server) */
	uint32_t	 server;	/* the server this attempt reads */
	int		 foreign;	/* ck_file is not server's: no
					   checkpoint until a unit of server
					   passes */
	/* Its GTID state: moved by each unit's GTID as the watermark
	 * passes it, written as text only when a checkpoint is saved. */
	struct gtid_state ck_gs;
	int		 gs_known;
	char		*ck_gtid;	/* the text; NULL: unknown */
	int		 gtid_stale;	/* ck_gs moved since the text */
	int64_t		 ck_next_id;
	struct wm_past	*past;		/* by first_id */
	size_t		 npast;
	int		 ck_dirty;
	uint64_t	 ck_saved_us;

	int64_t		 hb_next, hb_end;	/* heartbeat ids left */
};

struct watermark *
watermark_new(struct jobctx *ctx)
{
	struct watermark	*wm = xcalloc(1, sizeof *wm);

	wm->ctx = ctx;
	return (wm);
}

void
watermark_free(struct watermark *wm)
{
	if (wm == NULL)
		return;
	watermark_clear_units(wm);
	free(wm->units);
	free(wm->ck_file);
	free(wm->ck_gtid);
	gtid_state_release(&wm->ck_gs);
	free(wm->past);
	free(wm->delivery_error);
	free(wm);
}

/*
 * Keep what the units beyond the watermark read: which transactions may
 * have records in Kafka that no checkpoint covers (watermark_written()).  A
 * transaction read again with the same first id replaces what was kept
 * from there on: on one server, the same ids are the same transactions.
 */
static void
watermark_keep_past(struct watermark *wm)
{
	int64_t	 first = wm->ck_next_id;
	size_t	 i, k;

	for (i = 0; i < wm->nunits && wm->units[i].next_id > 0; i++) {
		const struct wm_unit	*u = &wm->units[i];

		if (u->has_gtid && u->next_id > first) {
			for (k = wm->npast; k > 0 &&
			    wm->past[k - 1].first_id >= first; k--)
				;
			wm->past = xreallocarray(wm->past, k + 1,
			    sizeof *wm->past);
			wm->past[k].first_id = first;
			wm->past[k].next_id = u->next_id;
			wm->past[k].gtid = u->gtid;
			wm->npast = k + 1;
		}
		first = u->next_id;
	}
}

/* A new attempt: nothing in flight, no delivery error. */
void
watermark_reset(struct watermark *wm)
{
	free(wm->delivery_error);
	wm->delivery_error = NULL;
	wm->snap_out[0] = wm->snap_out[1] = 0;
	watermark_keep_past(wm);
	watermark_clear_units(wm);
}

void
watermark_clear_units(struct watermark *wm)
{
	size_t	 i;

	for (i = 0; i < wm->nunits; i++)
		free(wm->units[i].file);
	wm->nunits = 0;
	wm->head_seq = 0;
}

/* The GTID position at the watermark is gtid (text; NULL: unknown). */
static void
watermark_take_gtid(struct watermark *wm, char *gtid)
{
	char	*cause = NULL;

	free(wm->ck_gtid);
	wm->ck_gtid = gtid;
	wm->gtid_stale = 0;
	wm->gs_known = gtid != NULL && gtid_state_parse(&wm->ck_gs, gtid,
	    GTID_NONE, &cause) == 0;
	free(cause);
	if (!wm->gs_known) {
		free(wm->ck_gtid);
		wm->ck_gtid = NULL;
	}
}

/* The checkpoint as the store has it: takes ownership of cp's file and
 * gtid (the source's GTID state there, or NULL). */
void
watermark_set(struct watermark *wm, struct checkpoint *cp)
{
	size_t	 i, k;

	free(wm->ck_file);
	wm->ck_file = cp->file;
	wm->ck_pos = cp->pos;
	wm->ck_next_id = cp->next_record_id;
	wm->ck_server = cp->server_id;
	watermark_take_gtid(wm, cp->gtid);
	cp->file = cp->gtid = NULL;
	/* What the checkpoint covers is no longer past it. */
	for (i = k = 0; i < wm->npast; i++) {
		if (wm->past[i].next_id > wm->ck_next_id)
			wm->past[k++] = wm->past[i];
	}
	wm->npast = k;
}

/* The GTID state at the watermark; NULL: unknown. */
const char *
watermark_gtid(struct watermark *wm)
{
	if (wm->gs_known && wm->gtid_stale) {
		free(wm->ck_gtid);
		wm->ck_gtid = gtid_state_text(&wm->ck_gs);
		wm->gtid_stale = 0;
	}
	return (wm->gs_known ? wm->ck_gtid : NULL);
}

/* The GTID state at the watermark is gtid (when it was not known). */
void
watermark_set_gtid(struct watermark *wm, const char *gtid)
{
	watermark_take_gtid(wm, gtid != NULL ? xstrdup(gtid) : NULL);
}

/*
 * This attempt reads server (its server_id).  When the checkpoint's
 * position is another server's, it stands only by its GTID state: no
 * checkpoint is saved until the first transaction of this server passes
 * the watermark and gives it a position here.
 */
void
watermark_set_server(struct watermark *wm, uint32_t server)
{
	wm->server = server;
	wm->foreign = wm->ck_file != NULL && wm->ck_server != 0 &&
	    server != 0 && wm->ck_server != server;
}

/* The server whose binlog the watermark's position is in (0: unknown),
 * and whether that is not the server read now. */
uint32_t
watermark_server(const struct watermark *wm)
{
	return (wm->ck_server);
}

int
watermark_foreign(const struct watermark *wm)
{
	return (wm->foreign);
}

/*
 * The GTID state of everything that may be in Kafka: the watermark's,
 * with every transaction read beyond it, in this attempt or an earlier
 * one, that has a record at or below max_id (the highest id the topics
 * hold).  Returns 0, or -1 when the watermark's state is unknown.
 */
int
watermark_written(struct watermark *wm, int64_t max_id,
    struct gtid_state *out)
{
	char	*cause = NULL;
	size_t	 i;

	if (watermark_gtid(wm) == NULL ||
	    gtid_state_parse(out, wm->ck_gtid, wm->ck_gs.flavour,
	    &cause) != 0) {
		free(cause);
		return (-1);
	}
	watermark_keep_past(wm);
	for (i = 0; i < wm->npast; i++) {
		if (wm->past[i].first_id <= max_id &&
		    wm->past[i].next_id > wm->past[i].first_id &&
		    wm->past[i].next_id > wm->ck_next_id)
			gtid_state_add(out, &wm->past[i].gtid);
	}
	return (0);
}

/* The watermark's position (NULL: none yet) and next record id. */
const char *
watermark_file(const struct watermark *wm)
{
	return (wm->ck_file);
}

uint64_t
watermark_pos(const struct watermark *wm)
{
	return (wm->ck_pos);
}

int64_t
watermark_next_id(const struct watermark *wm)
{
	return (wm->ck_next_id);
}

static struct wm_unit *
watermark_open_unit(struct watermark *wm)
{
	struct wm_unit	*u;

	if (wm->nunits > 0 && !wm->units[wm->nunits - 1].closed)
		return (&wm->units[wm->nunits - 1]);
	if (wm->nunits == wm->cap) {
		wm->cap = wm->cap == 0 ? 64 : wm->cap * 2;
		wm->units = xreallocarray(wm->units, wm->cap,
		    sizeof *wm->units);
	}
	u = &wm->units[wm->nunits++];
	memset(u, 0, sizeof *u);
	return (u);
}

/* The open binlog unit's number (opened if none is, for a change the
 * source made at ts, seconds since the epoch; 0: unknown). */
uint64_t
watermark_unit(struct watermark *wm, uint32_t ts)
{
	struct wm_unit	*u = watermark_open_unit(wm);

	if (u->ts == 0)
		u->ts = ts;
	return (wm->head_seq + (uint64_t)(u - wm->units) + 1);
}

/* The unit of the full-sync chunk being read, and the next chunk's. */
uint64_t
watermark_chunk_unit(const struct watermark *wm)
{
	return (WATERMARK_SNAPSHOT_UNIT(wm->snap_chunk));
}

uint64_t
watermark_next_chunk(struct watermark *wm)
{
	return (++wm->snap_chunk);
}

/* n messages of unit seq were handed to Kafka. */
void
watermark_sent(struct watermark *wm, uint64_t seq, size_t n)
{
	if (seq == WATERMARK_HEARTBEAT_UNIT)
		return;
	if ((seq & WATERMARK_SNAPSHOT_UNIT(0)) != 0)
		wm->snap_out[seq & 1] += (int64_t)n;
	else if (seq > wm->head_seq && seq - wm->head_seq <= wm->nunits)
		wm->units[seq - wm->head_seq - 1].outstanding += (int64_t)n;
}

/* The open unit ends at file:pos, next record next_id; its transaction's
 * GTID is gtid (NULL: none). */
void
watermark_close(struct watermark *wm, const char *file, uint64_t pos,
    int64_t next_id, const struct gtid_one *gtid)
{
	struct wm_unit	*u = watermark_open_unit(wm);

	u->closed = 1;
	u->file = xstrdup(file);
	u->pos = pos;
	u->next_id = next_id;
	u->has_gtid = gtid != NULL;
	if (gtid != NULL)
		u->gtid = *gtid;
}

/*
 * The run ends inside a transaction some of whose records were sent (up
 * to next_id): its GTID is kept with the open unit, for
 * watermark_written() (a failover must find it on the next server, or
 * the records that server makes under those ids would be skipped).
 */
void
watermark_leave(struct watermark *wm, int64_t next_id,
    const struct gtid_one *gtid)
{
	struct wm_unit	*u;

	if (wm->nunits == 0 || wm->units[wm->nunits - 1].closed)
		return;
	u = &wm->units[wm->nunits - 1];
	u->next_id = next_id;
	u->gtid = *gtid;
	u->has_gtid = 1;
}

/*
 * A delivery report of unit seq: error NULL when Kafka has the message,
 * else why not, and whether retrying cannot help (permanent).
 */
void
watermark_delivered(struct watermark *wm, uint64_t seq, const char *error,
    int permanent)
{
	if (error != NULL) {
		if (wm->delivery_error == NULL) {
			wm->delivery_error = xasprintf("Kafka did not take a "
			    "record: %s", error);
			wm->delivery_permanent = permanent;
		}
		return;
	}
	jobctx_count(&wm->ctx->n_acked, 1);
	if (seq == WATERMARK_HEARTBEAT_UNIT)
		return;
	if ((seq & WATERMARK_SNAPSHOT_UNIT(0)) != 0) {
		wm->snap_out[seq & 1]--;
		return;
	}
	if (seq > wm->head_seq && seq - wm->head_seq <= wm->nunits)
		wm->units[seq - wm->head_seq - 1].outstanding--;
}

/* Whether a delivery failed this attempt. */
int
watermark_failed(const struct watermark *wm)
{
	return (wm->delivery_error != NULL);
}

/* The first delivery error, as the attempt's error. */
int
watermark_delivery_ok(struct watermark *wm, char **cause)
{
	if (wm->delivery_error == NULL)
		return (0);
	*cause = xstrdup(wm->delivery_error);
	if (wm->delivery_permanent)
		wm->ctx->permanent = 1;
	return (-1);
}

/* Initial records not yet acknowledged: of chunk k, or of all. */
int64_t
watermark_snapshot_outstanding(const struct watermark *wm, int all,
    uint64_t k)
{
	return (all ? wm->snap_out[0] + wm->snap_out[1] : wm->snap_out[k & 1]);
}

/* Move the watermark over every finished unit at the head. */
void
watermark_advance(struct watermark *wm)
{
	size_t	 n = 0;

	while (n < wm->nunits && wm->units[n].closed &&
	    wm->units[n].outstanding <= 0) {
		free(wm->ck_file);
		wm->ck_file = wm->units[n].file;
		wm->ck_pos = wm->units[n].pos;
		wm->ck_next_id = wm->units[n].next_id;
		wm->ck_server = wm->server;
		wm->foreign = 0;
		if (wm->gs_known && wm->units[n].has_gtid) {
			gtid_state_add(&wm->ck_gs, &wm->units[n].gtid);
			wm->gtid_stale = 1;
		}
		wm->ck_dirty = 1;
		n++;
	}
	if (n > 0) {
		memmove(wm->units, wm->units + n, (wm->nunits - n) *
		    sizeof *wm->units);
		wm->nunits -= n;
		wm->head_seq += n;
	}
}

/* Whether a finished transaction waits for its acknowledgements (only the
 * last unit can be open, so otherwise at most an open one is left). */
int
watermark_head_closed(const struct watermark *wm)
{
	return (wm->nunits > 0 && wm->units[0].closed);
}

/*
 * The source's time (seconds since the epoch) of the oldest change sent
 * and not yet acknowledged, or of the oldest finished transaction not yet
 * in the watermark; 0: none (or its time is unknown).
 */
uint32_t
watermark_oldest(const struct watermark *wm)
{
	if (wm->nunits == 0 || (!wm->units[0].closed &&
	    wm->units[0].outstanding <= 0))
		return (0);
	return (wm->units[0].ts);
}

/* Whether every binlog record sent is acknowledged and in the watermark. */
int
watermark_settled(const struct watermark *wm)
{
	return (wm->nunits == 0 || (wm->nunits == 1 && !wm->units[0].closed &&
	    wm->units[0].outstanding <= 0));
}

/* Whether the watermark moved since it was last saved. */
int
watermark_dirty(const struct watermark *wm)
{
	return (wm->ck_dirty);
}

/* Save the watermark as the checkpoint: when it moved, every
 * checkpoint_ms (or at once when forced). */
int
watermark_checkpoint(struct watermark *wm, int force, char **cause)
{
	struct checkpoint	 cp;
	uint64_t		 now = util_mono_us();

	watermark_advance(wm);
	if (!wm->ck_dirty || wm->ck_file == NULL || wm->foreign)
		return (0);
	if (!force && now - wm->ck_saved_us <
	    (uint64_t)wm->ctx->opts.checkpoint_ms * 1000)
		return (0);
	memset(&cp, 0, sizeof cp);
	cp.file = wm->ck_file;
	cp.pos = wm->ck_pos;
	cp.gtid = (char *)watermark_gtid(wm);
	cp.next_record_id = wm->ck_next_id;
	cp.server_id = wm->ck_server;
	if (JOBSTORE(wm->ctx, checkpoint_save, &cp, NULL, 0, cause) != 0)
		return (-1);
	wm->ck_dirty = 0;
	wm->ck_saved_us = now;
	jobctx_checkpointed(wm->ctx, (int64_t)(util_wall_us() / 1000));
	return (0);
}

/*
 * Save the checkpoint file:pos of the server read now, with next_id (and
 * schema changes), and make it the watermark.  gtid is the source's GTID
 * state there; NULL: at the watermark's own position its state stays,
 * elsewhere it is unknown until the follower asks.
 */
int
watermark_save(struct watermark *wm, const char *file, uint64_t pos,
    const char *gtid, int64_t next_id, const struct schema_change *changes,
    size_t nchanges, char **cause)
{
	struct checkpoint	 cp;

	memset(&cp, 0, sizeof cp);
	if (gtid != NULL)
		cp.gtid = xstrdup(gtid);
	else if (wm->ck_file != NULL && !wm->foreign &&
	    watermark_gtid(wm) != NULL && strcmp(wm->ck_file, file) == 0 &&
	    wm->ck_pos == pos)
		cp.gtid = xstrdup(watermark_gtid(wm));
	cp.file = xstrdup(file);
	cp.pos = pos;
	cp.next_record_id = next_id;
	cp.server_id = wm->server;
	if (JOBSTORE(wm->ctx, checkpoint_save, &cp, changes, nchanges,
	    cause) != 0) {
		checkpoint_release(&cp);
		return (-1);
	}
	watermark_set(wm, &cp);
	wm->foreign = 0;
	return (0);
}

/*
 * The id of the next HEARTBEAT, the record maker's next id being next:
 * from the block reserved in the checkpoint, or a new block of
 * WATERMARK_HEARTBEAT_IDS when it is spent (one checkpoint write), after
 * which every other record goes: *maker_next is where the maker moves
 * (next when it stays).  A replay from that checkpoint starts after the
 * block, so the ids of the records that follow never move.
 */
int
watermark_heartbeat_id(struct watermark *wm, int64_t next, int64_t *id,
    int64_t *maker_next, char **cause)
{
	struct checkpoint	 cp;

	*maker_next = next;
	if (wm->hb_next >= wm->hb_end) {
		memset(&cp, 0, sizeof cp);
		cp.file = wm->ck_file;
		cp.pos = wm->ck_pos;
		cp.gtid = (char *)watermark_gtid(wm);
		cp.next_record_id = next + WATERMARK_HEARTBEAT_IDS;
		cp.server_id = wm->ck_server;
		if (JOBSTORE(wm->ctx, checkpoint_save, &cp, NULL, 0,
		    cause) != 0)
			return (-1);
		wm->ck_next_id = cp.next_record_id;
		wm->hb_next = next;
		wm->hb_end = cp.next_record_id;
		*maker_next = wm->hb_end;
	}
	*id = wm->hb_next++;
	return (0);
}

/* Another record was sent: what is left of the block is given up, so
 * that ids stay increasing in the topic. */
void
watermark_heartbeat_forfeit(struct watermark *wm)
{
	wm->hb_next = wm->hb_end;
}

/* Reading starts again from the checkpoint: no block. */
void
watermark_heartbeat_reset(struct watermark *wm)
{
	wm->hb_next = wm->hb_end = 0;
}
