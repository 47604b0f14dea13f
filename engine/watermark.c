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
	struct watermark_gtid gtid;	/* its transaction's (MariaDB) */
	int		 has_gtid;
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
	/* Its GTID position (MariaDB): moved by each unit's GTID as the
	 * watermark passes it, written as text only when a checkpoint is
	 * saved. */
	struct gtid_pos	 ck_gp;
	int		 gp_known;
	char		*ck_gtid;	/* the text; NULL: unknown */
	int		 gtid_stale;	/* ck_gp moved since the text */
	int64_t		 ck_next_id;
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
	gtid_pos_release(&wm->ck_gp);
	free(wm->delivery_error);
	free(wm);
}

/* A new attempt: nothing in flight, no delivery error. */
void
watermark_reset(struct watermark *wm)
{
	free(wm->delivery_error);
	wm->delivery_error = NULL;
	wm->snap_out[0] = wm->snap_out[1] = 0;
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
	wm->gp_known = gtid != NULL && gtid_pos_parse(&wm->ck_gp, gtid,
	    &cause) == 0;
	free(cause);
	if (!wm->gp_known) {
		free(wm->ck_gtid);
		wm->ck_gtid = NULL;
	}
}

/* The checkpoint as the store has it (takes ownership of file and gtid,
 * the source's GTID position there or NULL). */
void
watermark_set(struct watermark *wm, char *file, uint64_t pos, int64_t next_id,
    char *gtid)
{
	free(wm->ck_file);
	wm->ck_file = file;
	wm->ck_pos = pos;
	wm->ck_next_id = next_id;
	watermark_take_gtid(wm, gtid);
}

/* The GTID position at the watermark; NULL: unknown. */
const char *
watermark_gtid(struct watermark *wm)
{
	if (wm->gp_known && wm->gtid_stale) {
		free(wm->ck_gtid);
		wm->ck_gtid = gtid_pos_text(&wm->ck_gp);
		wm->gtid_stale = 0;
	}
	return (wm->gp_known ? wm->ck_gtid : NULL);
}

/* The GTID position at the watermark is gtid (when it was not known). */
void
watermark_set_gtid(struct watermark *wm, const char *gtid)
{
	watermark_take_gtid(wm, gtid != NULL ? xstrdup(gtid) : NULL);
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
    int64_t next_id, const struct watermark_gtid *gtid)
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
		if (wm->gp_known && wm->units[n].has_gtid) {
			gtid_pos_update(&wm->ck_gp, wm->units[n].gtid.domain,
			    wm->units[n].gtid.server, wm->units[n].gtid.seq);
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
	if (!wm->ck_dirty || wm->ck_file == NULL)
		return (0);
	if (!force && now - wm->ck_saved_us <
	    (uint64_t)wm->ctx->opts.checkpoint_ms * 1000)
		return (0);
	memset(&cp, 0, sizeof cp);
	cp.file = wm->ck_file;
	cp.pos = wm->ck_pos;
	cp.gtid = (char *)watermark_gtid(wm);
	cp.next_record_id = wm->ck_next_id;
	if (JOBSTORE(wm->ctx, checkpoint_save, &cp, NULL, 0, cause) != 0)
		return (-1);
	wm->ck_dirty = 0;
	wm->ck_saved_us = now;
	jobctx_checkpointed(wm->ctx, (int64_t)(util_wall_us() / 1000));
	return (0);
}

/* Save the checkpoint file:pos with next_id (and schema changes), and
 * make it the watermark.  At the watermark's own position its GTID
 * position stays; elsewhere it is unknown until the follower asks. */
int
watermark_save(struct watermark *wm, const char *file, uint64_t pos,
    int64_t next_id, const struct schema_change *changes, size_t nchanges,
    char **cause)
{
	struct checkpoint	 cp;
	char			*f = xstrdup(file), *g = NULL;

	if (wm->ck_file != NULL && watermark_gtid(wm) != NULL &&
	    strcmp(wm->ck_file, file) == 0 && wm->ck_pos == pos)
		g = xstrdup(watermark_gtid(wm));
	memset(&cp, 0, sizeof cp);
	cp.file = f;
	cp.pos = pos;
	cp.gtid = g;
	cp.next_record_id = next_id;
	if (JOBSTORE(wm->ctx, checkpoint_save, &cp, changes, nchanges,
	    cause) != 0) {
		free(f);
		free(g);
		return (-1);
	}
	watermark_set(wm, f, pos, next_id, g);
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
