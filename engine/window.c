/*
 * The initial sync's generations and the binlog window (DESIGN.md §7, "An
 * interrupted initial sync").
 *
 * Every attempt at the full sync is a generation with its own consistent
 * snapshot and binlog position.  A restarted attempt reads, for each
 * partition of each target, the last INIT record there: "generation g
 * wrote table T up to key k in this partition" becomes a segment (saved in
 * the store).  The new generation skips, per target, every row a segment
 * already covers.  The binlog phase then starts at the oldest snapshot any
 * copied row came from, and until it passes the newest one (the window) it
 * sends a change of a row only to the targets whose copy of that row
 * predates the change: the first generation whose segment covers the
 * row's key, else the one that finished the table.
 *
 * Keys are compared as the byte strings schema/keyenc.c makes (memcmp
 * order is the server's order); tables whose key does not sort bytewise
 * have no segments.  Runs on the job's thread.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/xmalloc.h"
#include "engine/job_spec.h"
#include "engine/sink.h"
#include "engine/window.h"
#include "schema/keyenc.h"

/* Rows of a table that generation gen wrote to a partition of a target. */
struct window_seg {
	int		 gen;
	size_t		 target;
	int32_t		 part;
	uint8_t		*hi;		/* up to this sortable key */
	size_t		 hilen;
};

struct window_segs {
	struct window_seg	*v;	/* by generation */
	size_t			 n;
};

struct window {
	struct jobctx		*ctx;
	struct router		*rt;
	struct sink		*sink;		/* borrowed: the attempt's */
	struct snap_table	*tables;	/* borrowed: the job's */
	size_t			 ntables;
	struct snapshot_gen	*gens;		/* the initial sync's */
	size_t			 ngens;
	struct window_table	*ts;		/* per table */
	struct window_segs	*segs;		/* per table */
	uint64_t		 end_fno;	/* the last snapshot's */
	uint64_t		 end_pos;	/* position: the end */
	int			 active;	/* in the window now */
};

struct window *
window_new(struct jobctx *ctx, struct router *rt)
{
	struct window	*w = xcalloc(1, sizeof *w);

	w->ctx = ctx;
	w->rt = rt;
	return (w);
}

void
window_free(struct window *w)
{
	if (w == NULL)
		return;
	window_clear(w);
	free(w);
}

/* The job's tables and the attempt's sink (both borrowed; the tables
 * until the next bind or clear). */
void
window_bind(struct window *w, struct snap_table *tables, size_t n,
    struct sink *sink)
{
	w->tables = tables;
	w->ntables = n;
	w->sink = sink;
}

void
window_clear(struct window *w)
{
	size_t	 i, k;

	for (i = 0; w->segs != NULL && i < w->ntables; i++) {
		for (k = 0; k < w->segs[i].n; k++)
			free(w->segs[i].v[k].hi);
		free(w->segs[i].v);
	}
	free(w->segs);
	w->segs = NULL;
	free(w->ts);
	w->ts = NULL;
	snapshot_gens_free(w->gens, w->ngens);
	w->gens = NULL;
	w->ngens = 0;
	w->active = 0;
}

/* a:b (file number, position) compared with c:d. */
int
window_poscmp(uint64_t a, uint64_t b, uint64_t c, uint64_t d)
{
	if (a != c)
		return (a < c ? -1 : 1);
	return (b < d ? -1 : b > d);
}

static int
window_gen_cmp(const struct snapshot_gen *a, const struct snapshot_gen *b)
{
	return (window_poscmp(change_file_number(a->file), a->pos,
	    change_file_number(b->file), b->pos));
}

static const struct snapshot_gen *
window_gen(const struct window *w, int gen)
{
	size_t	 i;

	for (i = 0; i < w->ngens; i++) {
		if (w->gens[i].gen == gen)
			return (&w->gens[i]);
	}
	return (NULL);
}

static int
window_keycmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	int	 c = memcmp(a, b, alen < blen ? alen : blen);

	if (c != 0)
		return (c);
	return (alen < blen ? -1 : alen > blen);
}

static void
window_seg_add(struct window_segs *s, int gen, size_t target, int32_t part,
    const uint8_t *hi, size_t hilen)
{
	struct window_seg	*g;
	size_t			 i;

	for (i = 0; i < s->n; i++) {
		g = &s->v[i];
		if (g->gen == gen && g->target == target && g->part == part) {
			free(g->hi);
			break;
		}
	}
	if (i == s->n) {
		s->v = xreallocarray(s->v, s->n + 1, sizeof *s->v);
		i = s->n++;
		/* keep them by generation */
		while (i > 0 && s->v[i - 1].gen > gen) {
			s->v[i] = s->v[i - 1];
			i--;
		}
	}
	g = &s->v[i];
	g->gen = gen;
	g->target = target;
	g->part = part;
	g->hi = xmalloc(hilen + 1);
	memcpy(g->hi, hi, hilen);
	g->hilen = hilen;
}

/* The segments of the store that belong to table i (by target name). */
static void
window_load_segs(struct window *w, size_t i, const struct snapshot_segment *sg,
    size_t nsg)
{
	const struct window_table	*ts = &w->ts[i];
	size_t				 k, tg;

	for (k = 0; ts->keyable && k < nsg; k++) {
		if (strcmp(sg[k].db, ts->t->db) != 0 ||
		    strcmp(sg[k].table, ts->t->name) != 0)
			continue;
		for (tg = 0; tg < sink_ntargets(w->sink); tg++) {
			if (strcmp(sink_target_name(w->sink, tg),
			    sg[k].target) == 0)
				window_seg_add(&w->segs[i], sg[k].gen, tg,
				    sg[k].part, sg[k].hi, sg[k].hilen);
		}
	}
}

/* The newest snapshot of server (0: of any) as a file number and
 * position; 0, 0: none. */
static void
window_end_of(const struct window *w, uint32_t server, uint64_t *fno,
    uint64_t *pos)
{
	uint64_t	 f;
	size_t		 i;

	*fno = *pos = 0;
	for (i = 0; i < w->ngens; i++) {
		if (server != 0 && w->gens[i].server_id != 0 &&
		    w->gens[i].server_id != server)
			continue;
		f = change_file_number(w->gens[i].file);
		if (window_poscmp(f, w->gens[i].pos, *fno, *pos) > 0) {
			*fno = f;
			*pos = w->gens[i].pos;
		}
	}
}

/*
 * Read the generations, the tables' progress and segments from the store.
 * Needs the tables and the sink (target names) bound.  The window ends at
 * the newest snapshot of server, the one the job reads (0: any): a job
 * moves to another server only once past the window of the one it left
 * (window_past()), so snapshots of other servers are behind it.
 */
int
window_load(struct window *w, uint32_t server, char **cause)
{
	struct snapshot_progress	*sp = NULL;
	struct snapshot_segment		*sg = NULL;
	size_t				 nsp = 0, nsg = 0, i, k;
	int				 rc = -1;

	window_clear(w);
	if (JOBSTORE(w->ctx, gens, &w->gens, &w->ngens, cause) != 0 ||
	    JOBSTORE(w->ctx, progress_list, &sp, &nsp, cause) != 0 ||
	    JOBSTORE(w->ctx, segments, &sg, &nsg, cause) != 0)
		goto out;
	w->ts = xcalloc(w->ntables + 1, sizeof *w->ts);
	w->segs = xcalloc(w->ntables + 1, sizeof *w->segs);
	for (i = 0; i < w->ntables; i++) {
		struct window_table	*ts = &w->ts[i];

		ts->t = &w->tables[i];
		ts->keyable = keyenc_supported(ts->t->def, ts->t->key,
		    ts->t->nkey);
		for (k = 0; k < nsp; k++) {
			if (strcmp(sp[k].db, ts->t->db) == 0 &&
			    strcmp(sp[k].table, ts->t->name) == 0 && sp[k].done)
				ts->done_gen = sp[k].done_gen;
		}
		ts->adding = ts->done_gen == 0 && job_spec_pending(
		    w->ctx->spec, ts->t->db, ts->t->name);
		window_load_segs(w, i, sg, nsg);
	}
	window_end_of(w, server, &w->end_fno, &w->end_pos);
	rc = 0;
out:
	snapshot_list_free(sp, nsp);
	snapshot_segments_free(sg, nsg);
	return (rc);
}

/*
 * Segments left by an interrupted generation: for every table not finished,
 * the last INIT record of it in each partition (read from the tails) says
 * up to which key that generation wrote there.
 */
int
window_tail_segments(struct window *w, char **cause)
{
	struct snapshot_segment	 g;
	struct window_table	*ts;
	const uint8_t		*key;
	const char		*tbl;
	char			*name;
	size_t			 i, tg, klen;
	int32_t			 part, nparts;
	int			 topic, gen;

	for (i = 0; i < w->ntables; i++) {
		ts = &w->ts[i];
		if (ts->done_gen != 0 || !ts->keyable)
			continue;
		if ((topic = router_table_topic(w->rt, ts->t->db, ts->t->name,
		    cause)) < 0)
			return (-1);
		name = xasprintf("%s.%s", ts->t->db, ts->t->name);
		for (tg = 0; tg < sink_ntargets(w->sink); tg++) {
			nparts = sink_partitions(w->sink, topic, tg);
			for (part = 0; part < nparts; part++) {
				/* A table copied again (ferry job resnapshot)
				 * has nothing of older generations. */
				if (!sink_tail_init(w->sink, topic, tg, part,
				    &tbl, &gen, &key, &klen) ||
				    strcmp(tbl, name) != 0 || gen <= 0 ||
				    (ts->adding && gen <
				    w->ctx->spec->resnapshot_gen))
					continue;
				memset(&g, 0, sizeof g);
				g.db = ts->t->db;
				g.table = ts->t->name;
				g.gen = gen;
				g.target = (char *)sink_target_name(w->sink,
				    tg);
				g.part = part;
				g.hi = (uint8_t *)key;
				g.hilen = klen;
				if (JOBSTORE(w->ctx, segment_add, &g,
				    cause) != 0) {
					free(name);
					return (-1);
				}
				window_seg_add(&w->segs[i], gen, tg, part, key,
				    klen);
			}
		}
		free(name);
	}
	return (0);
}

/* What the initial sync did to table i (of the bound tables). */
struct window_table *
window_table(struct window *w, size_t i)
{
	return (&w->ts[i]);
}

/* Table i is copied, by generation gen. */
void
window_done(struct window *w, size_t i, int gen)
{
	w->ts[i].done_gen = gen;
}

/* How many segments of interrupted generations table i has. */
size_t
window_segments(const struct window *w, size_t i)
{
	return (w->segs[i].n);
}

/*
 * The targets that still need row key of table i, routed as r: those no
 * segment of an interrupted generation covers (in the row's partition of
 * that target).  0: every target has it.
 */
uint32_t
window_uncopied(const struct window *w, size_t i, const uint8_t *key,
    size_t klen, const struct route *r)
{
	const struct window_segs	*s = &w->segs[i];
	uint32_t			 mask = UINT32_MAX;
	size_t				 tg, k;
	int32_t				 part;

	for (tg = 0; s->n > 0 && tg < sink_ntargets(w->sink) && tg < 32;
	    tg++) {
		part = sink_partition(w->sink, r->topic, tg, r->hash,
		    r->hashed);
		for (k = 0; k < s->n; k++) {
			if (s->v[k].target == tg && s->v[k].part == part &&
			    window_keycmp(key, klen, s->v[k].hi,
			    s->v[k].hilen) <= 0) {
				mask &= ~(1u << tg);
				break;
			}
		}
	}
	return (mask);
}

/* The oldest snapshot a copied row came from (NULL: none). */
const struct snapshot_gen *
window_first(const struct window *w)
{
	const struct snapshot_gen	*g, *h, *first = NULL;
	size_t				 i, k;

	for (i = 0; i < w->ntables; i++) {
		g = window_gen(w, w->ts[i].done_gen);
		for (k = 0; k < w->segs[i].n; k++) {
			h = window_gen(w, w->segs[i].v[k].gen);
			if (h != NULL && (first == NULL ||
			    window_gen_cmp(h, first) < 0))
				first = h;
		}
		if (g != NULL && (first == NULL || window_gen_cmp(g, first) < 0))
			first = g;
	}
	return (first);
}

/* The binlog is read from file:pos: whether that is in the window (file
 * NULL: not, whatever the snapshots). */
int
window_open(struct window *w, const char *file, uint64_t pos)
{
	w->active = w->ngens > 0 && file != NULL &&
	    w->end_fno + w->end_pos > 0 && window_poscmp(change_file_number(file), pos, w->end_fno,
	    w->end_pos) < 0;
	return (w->active);
}

/* Whether file:pos of server is past every snapshot of that server (the
 * job may read on elsewhere by GTID: no row of the copy waits for a
 * change there).  Needs window_load(). */
int
window_past(const struct window *w, uint32_t server, const char *file,
    uint64_t pos)
{
	uint64_t	 fno, p;

	window_end_of(w, server, &fno, &p);
	return (fno + p == 0 || window_poscmp(change_file_number(file), pos,
	    fno, p) >= 0);
}

/* A change at file:pos was read: the window ends at its end.  Returns
 * whether it is still open. */
int
window_close_at(struct window *w, const char *file, uint64_t pos)
{
	if (w->active && file != NULL && window_poscmp(change_file_number(
	    file), pos, w->end_fno, w->end_pos) >= 0)
		w->active = 0;
	return (w->active);
}

int
window_active(const struct window *w)
{
	return (w->active);
}

void
window_end(struct window *w)
{
	w->active = 0;
}

/*
 * Whether a change at fno:pos to the row with key k (in partition part of
 * target tg) comes after the snapshot that copied that row: the first
 * generation whose segment covers k, else the one that finished the table.
 */
static int
window_after_copy(const struct window *w, size_t i, size_t tg, int32_t part,
    const uint8_t *k, size_t klen, uint64_t fno, uint64_t pos)
{
	const struct window_table	*ts = &w->ts[i];
	const struct window_segs	*s = &w->segs[i];
	const struct snapshot_gen	*g;
	int				 gen = ts->done_gen;
	size_t				 n;

	for (n = 0; k != NULL && n < s->n; n++) {
		if (s->v[n].target == tg && s->v[n].part == part &&
		    window_keycmp(k, klen, s->v[n].hi, s->v[n].hilen) <= 0) {
			gen = s->v[n].gen;
			break;
		}
	}
	if (gen == 0)	/* not copied: every change counts, unless the
			 * table is being added (its copy will have it) */
		return (!ts->adding);
	if ((g = window_gen(w, gen)) == NULL)
		return (1);
	return (window_poscmp(fno, pos, change_file_number(g->file),
	    g->pos) >= 0);
}

static size_t
window_find(const struct window *w, const char *db, const char *table)
{
	size_t	 i;

	for (i = 0; w->ts != NULL && i < w->ntables; i++) {
		if (strcmp(w->ts[i].t->db, db) == 0 &&
		    strcmp(w->ts[i].t->name, table) == 0)
			return (i);
	}
	return (SIZE_MAX);
}

/*
 * In the window, the targets a row change goes to: those whose copy of
 * the row was taken before the change.  0: none (the change is dropped).
 */
uint32_t
window_mask(struct window *w, const struct change *c)
{
	const struct value	*img[2];
	struct buf		 k = BUF_INITIALIZER;
	struct route		 r;
	uint64_t		 fno = change_file_number(c->file);
	uint32_t		 mask = 0, hash;
	size_t			 tg, n = 0, i, t;
	int32_t			 part;
	int			 have;
	char			*cause = NULL;

	if ((t = window_find(w, c->table->db, c->table->name)) == SIZE_MAX)
		return (UINT32_MAX);
	if (c->before != NULL)
		img[n++] = c->before;
	if (c->after != NULL)
		img[n++] = c->after;
	if (router_route(w->rt, c, &r, &cause) != 0 || r.topic < 0) {
		free(cause);
		return (UINT32_MAX);	/* emitter_send() will say why */
	}
	hash = r.hash;
	for (i = 0; i < n; i++) {
		buf_reset(&k);
		have = w->ts[t].keyable && keyenc(c->table, w->ts[t].t->key,
		    w->ts[t].t->nkey, img[i], &k) == 0;
		(void)router_image_hash(w->rt, c->table, img[i], &hash);
		for (tg = 0; tg < sink_ntargets(w->sink) && tg < 32; tg++) {
			part = sink_partition(w->sink, r.topic, tg, hash,
			    r.hashed);
			if (window_after_copy(w, t, tg, part, have ? k.data :
			    NULL, k.len, fno, c->pos))
				mask |= 1u << tg;
		}
	}
	buf_release(&k);
	return (mask);
}
