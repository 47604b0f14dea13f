/*
 * The shared binlog reader (DESIGN.md §4): the jobs of a daemon that read
 * the same server (its server_id at the same address, through the same
 * account, for the same tenant) share one replication connection, once
 * two jobs read it (reader_alone(): one job alone reads on its own).  The
 * reader is a thread of its own that reads the stream, checks each
 * event's CRC32 once, and hands each event, undecoded, to every attached
 * job that carries it: its own decoder keeps the table maps, so a job is
 * given only the rows events and maps of its tables (reader_filter_cb),
 * and every other event.  Each job decodes its rows itself and keeps its
 * own schema history, routing, targets, watermark and checkpoint, so
 * what it writes is what it would write on a connection of its own.
 *
 * Each subscriber has a queue bounded in bytes (READER_QUEUE_BYTES); the
 * events are shared (counted references), so N jobs hold one copy.  When
 * a queue is full the reader waits for it, which is back-pressure to the
 * source as with a connection of its own: jobs that all run slowly run
 * together.  When one job has taken nothing, nor gone on in what it took,
 * for READER_STALL_MS while another waits with an empty queue (its
 * targets are down or stuck), the reader detaches it: it ends its attempt and reads on its own connection
 * from its checkpoint, so a stuck cluster never stalls the other jobs.
 *
 * A job attaches at a transaction boundary it has reached: the reader
 * keeps the last READER_HISTORY_BYTES of events, so a job that starts
 * from a checkpoint the reader has passed lately, or that catches up on
 * its own connection, joins at its exact position; the first event it is
 * given is the stream's last format description, as a connection's
 * first.  A job whose position is not there reads on its own connection
 * (engine/follow.c) and tries again at later boundaries.  A reader with
 * no job for READER_LINGER_MS ends.
 *
 * The reader's connection has a server_id of its own (reader_server_id(),
 * from the first job's), never a job's, so a job reading on its own
 * connection and the reader never take each other's registration.
 *
 * Locks: the registry's, then a reader's; never the other way round.
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

#include "common/log.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "engine/binlog.h"
#include "engine/reader.h"

#define READER_HISTORY_BYTES	((size_t)16 * 1024 * 1024)
#define READER_QUEUE_BYTES	((size_t)8 * 1024 * 1024)
#define READER_STALL_MS		5000
#define READER_LINGER_MS	10000
#define READER_WAIT_MS		100
#define READER_PROGRESS		64

struct rentry {
	_Atomic int	 refs;
	uint64_t	 seq;
	uint64_t	 off;		/* as binlog_client_next() gives */
	size_t		 len;
	size_t		 cost;		/* bytes held */
	uint8_t		 type;
	const char	*file;		/* as binlog_client_file() then */
	const char	*infile;	/* the file the event is in */
	uint8_t		 data[];
};

struct rqueue {
	struct rentry	**v;
	size_t		 n, cap;
};

struct reader;

struct reader_sub {
	struct reader_sub *next;
	struct reader	*r;
	reader_filter_cb selected;	/* its tables; NULL: all */
	void		*arg;
	/* Under the reader's lock. */
	struct rqueue	 q;		/* given, not taken yet */
	size_t		 qbytes;
	uint64_t	 pushed;	/* the newest entry's seq given */
	uint64_t	 took_us;	/* when it last took its queue */
	_Atomic uint64_t progress_us;	/* when it last went on in its
					   batch (every READER_PROGRESS
					   events) */
	int		 waiting;	/* for an entry, on cv */
	int		 detached;
	pthread_cond_t	 cv;		/* an entry, or the end, for it */
	/* The subscriber's own. */
	struct rqueue	 batch;		/* taken */
	size_t		 bi;
	struct rentry	*cur;		/* returned last */
	uint8_t		*fde;		/* to give first, or NULL */
	size_t		 fde_len;
	char		*fde_file;
	int		 fde_given;
};

struct reader {
	struct reader	*next;		/* the registry's */
	char		*key;
	char		*password;
	char		*who;
	struct binlog_client *bc;
	int		 checksum;
	int		 mariadb;
	struct binlog_decoder *dec;	/* the table maps, for the filters */

	pthread_mutex_t	 mtx;
	pthread_cond_t	 cv_space;	/* room in a queue */
	int		 refs;		/* the thread, each subscriber */
	int		 registered;
	int		 stop;
	int		 dead;
	enum binlog_client_error kind;
	char		*cause;
	struct reader_sub *subs;
	int		 nsubs;
	uint64_t	 idle_since_us;
	int		 space_waiting;
	uint64_t	 seq;
	struct rentry	**hist;		/* ring of the newest entries */
	size_t		 hist_cap, hist_head, hist_n, hist_bytes;
	uint8_t		*fde;		/* the last format description */
	size_t		 fde_len;
	char		*tail_file;	/* where the next event starts */
	uint64_t	 tail_end;
};

/* The servers jobs read alone, on connections of their own: how many. */
struct reader_alone {
	struct reader_alone *next;
	char		*key;
	int		 n;
};

static pthread_mutex_t	 readers_mtx = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	 readers_cv = PTHREAD_COND_INITIALIZER;
static struct reader	*readers;
static int		 readers_live;	/* threads */
static struct reader_alone *alones;

static void
rentry_unref(struct rentry *e)
{
	if (e != NULL && atomic_fetch_sub(&e->refs, 1) == 1)
		free(e);
}

static void
rqueue_push(struct rqueue *q, struct rentry *e)
{
	if (q->n == q->cap) {
		q->cap = q->cap != 0 ? q->cap * 2 : 256;
		q->v = xreallocarray(q->v, q->cap, sizeof *q->v);
	}
	atomic_fetch_add(&e->refs, 1);
	q->v[q->n++] = e;
}

static void
rqueue_clear(struct rqueue *q, size_t from)
{
	size_t	 i;

	for (i = from; i < q->n; i++)
		rentry_unref(q->v[i]);
	q->n = 0;
}

static void
rqueue_free(struct rqueue *q)
{
	rqueue_clear(q, 0);
	free(q->v);
	q->v = NULL;
	q->cap = 0;
}

static char *
reader_key(const struct reader_want *w)
{
	const struct mysql_conn_opts	*c = w->conn;

	return (xasprintf("%" PRId64 "|%s|%u|%s|%s|%d|%s|%d|%" PRIu32 "|%u",
	    w->tenant_id, c->host != NULL ? c->host : "", c->port,
	    c->socket != NULL ? c->socket : "", c->user != NULL ? c->user : "",
	    c->tls, c->tls_ca != NULL ? c->tls_ca : "", c->confined,
	    w->source_id, w->heartbeat_ms));
}

/*
 * A job reads w's server on a connection of its own (delta 1), or no
 * longer does (-1; key as the first call returned, which it frees).
 * Returns the key (for the second call), with *others the number of
 * other jobs that read that server alone.
 */
char *
reader_alone(const struct reader_want *w, char *key, int delta, int *others)
{
	struct reader_alone	**pp, *a;

	if (key == NULL)
		key = reader_key(w);
	pthread_mutex_lock(&readers_mtx);
	for (pp = &alones; (a = *pp) != NULL; pp = &a->next)
		if (strcmp(a->key, key) == 0)
			break;
	if (a == NULL && delta > 0) {
		a = xcalloc(1, sizeof *a);
		a->key = xstrdup(key);
		a->next = alones;
		alones = a;
		pp = &alones;
	}
	if (a != NULL) {
		a->n += delta;
		*others = a->n - (delta > 0 ? 1 : 0);
		if (a->n <= 0) {
			*pp = a->next;
			free(a->key);
			free(a);
		}
	} else
		*others = 0;
	pthread_mutex_unlock(&readers_mtx);
	if (delta < 0) {
		free(key);
		return (NULL);
	}
	return (key);
}

/* How many jobs read w's server alone. */
int
reader_alone_count(const struct reader_want *w)
{
	struct reader_alone	*a;
	char			*key = reader_key(w);
	int			 n = 0;

	pthread_mutex_lock(&readers_mtx);
	for (a = alones; a != NULL; a = a->next)
		if (strcmp(a->key, key) == 0)
			n = a->n;
	pthread_mutex_unlock(&readers_mtx);
	free(key);
	return (n);
}

/* The live reader for w, or NULL; under the registry's lock. */
static struct reader *
reader_find(const struct reader_want *w)
{
	struct reader	*r;
	char		*key = reader_key(w);
	const char	*pw = w->conn->password;

	for (r = readers; r != NULL; r = r->next) {
		if (strcmp(r->key, key) == 0 && ((pw == NULL &&
		    r->password == NULL) || (pw != NULL && r->password !=
		    NULL && strcmp(pw, r->password) == 0)))
			break;
	}
	free(key);
	return (r);
}

static void
reader_free(struct reader *r)
{
	size_t	 i;

	for (i = 0; i < r->hist_n; i++)
		rentry_unref(r->hist[(r->hist_head + i) % r->hist_cap]);
	free(r->hist);
	free(r->key);
	xfree_secret(r->password);
	free(r->who);
	free(r->cause);
	free(r->fde);
	free(r->tail_file);
	binlog_decoder_free(r->dec);
	pthread_mutex_destroy(&r->mtx);
	pthread_cond_destroy(&r->cv_space);
	free(r);
}

/* Drop one reference (under r's lock, which it releases). */
static void
reader_unref_unlock(struct reader *r)
{
	int	 last = --r->refs == 0;

	pthread_mutex_unlock(&r->mtx);
	if (last)
		reader_free(r);
}

static struct reader_sub *
reader_sub_new(struct reader *r, reader_filter_cb selected, void *arg)
{
	struct reader_sub	*s = xcalloc(1, sizeof *s);

	s->r = r;
	s->selected = selected;
	s->arg = arg;
	pthread_cond_init(&s->cv, NULL);
	s->took_us = util_mono_us();
	s->next = r->subs;
	r->subs = s;
	r->nsubs++;
	r->refs++;
	return (s);
}

/*
 * Attach to the reader of w's server at file:pos, a transaction boundary
 * the job has reached: the subscription, or NULL (*exists says whether
 * there is a reader, whose stream does not hold that position).
 */
struct reader_sub *
reader_attach(const struct reader_want *w, const char *file, uint64_t pos,
    reader_filter_cb selected, void *arg, int *exists)
{
	struct reader		*r;
	struct reader_sub	*s = NULL;
	struct rentry		*e;
	size_t			 i, at = 0;
	int			 found = 0;

	*exists = 0;
	if (file == NULL || pos == 0)
		return (NULL);
	pthread_mutex_lock(&readers_mtx);
	if ((r = reader_find(w)) == NULL) {
		pthread_mutex_unlock(&readers_mtx);
		return (NULL);
	}
	*exists = 1;
	pthread_mutex_lock(&r->mtx);
	pthread_mutex_unlock(&readers_mtx);
	if (r->dead || r->stop || r->fde == NULL)
		goto out;
	if (r->tail_file != NULL && r->tail_end == pos &&
	    strcmp(r->tail_file, file) == 0) {
		found = 1;
		at = r->hist_n;		/* from the next event */
	}
	for (i = r->hist_n; !found && i-- > 0; ) {
		e = r->hist[(r->hist_head + i) % r->hist_cap];
		if (e->off == pos && strcmp(e->infile, file) == 0 &&
		    e->type != BINLOG_ROTATE) {
			found = 1;
			at = i;
		}
	}
	if (!found)
		goto out;
	s = reader_sub_new(r, selected, arg);
	s->fde = xmalloc(r->fde_len);
	memcpy(s->fde, r->fde, r->fde_len);
	s->fde_len = r->fde_len;
	s->fde_file = xstrdup(file);
	for (i = at; i < r->hist_n; i++) {
		e = r->hist[(r->hist_head + i) % r->hist_cap];
		rqueue_push(&s->q, e);
		s->qbytes += e->cost;
	}
	s->pushed = r->seq;
out:
	pthread_mutex_unlock(&r->mtx);
	return (s);
}

/* Keep e among the newest; under r's lock. */
static void
reader_remember(struct reader *r, struct rentry *e)
{
	struct rentry	**v;
	size_t		 i;

	if (r->hist_n == r->hist_cap) {
		v = xreallocarray(NULL, r->hist_cap != 0 ? r->hist_cap * 2 :
		    1024, sizeof *v);
		for (i = 0; i < r->hist_n; i++)
			v[i] = r->hist[(r->hist_head + i) % r->hist_cap];
		free(r->hist);
		r->hist = v;
		r->hist_head = 0;
		r->hist_cap = r->hist_cap != 0 ? r->hist_cap * 2 : 1024;
	}
	atomic_fetch_add(&e->refs, 1);
	r->hist[(r->hist_head + r->hist_n++) % r->hist_cap] = e;
	r->hist_bytes += e->cost;
	while (r->hist_bytes > READER_HISTORY_BYTES && r->hist_n > 1) {
		struct rentry	*old = r->hist[r->hist_head];

		r->hist_head = (r->hist_head + 1) % r->hist_cap;
		r->hist_n--;
		r->hist_bytes -= old->cost;
		rentry_unref(old);
	}
	if (e->type == BINLOG_FORMAT_DESCRIPTION) {
		free(r->fde);
		r->fde = xmalloc(e->len);
		memcpy(r->fde, e->data, e->len);
		r->fde_len = e->len;
	}
	if (e->off != 0 && e->type != BINLOG_ROTATE &&
	    e->type != BINLOG_HEARTBEAT && e->type != BINLOG_HEARTBEAT_V2) {
		if (r->tail_file == NULL || strcmp(r->tail_file,
		    e->infile) != 0) {
			free(r->tail_file);
			r->tail_file = xstrdup(e->infile);
		}
		r->tail_end = e->off + e->len;
	}
}

/* Whether another subscriber than s waits with nothing to take. */
static int
reader_others_wait(const struct reader *r, const struct reader_sub *s)
{
	const struct reader_sub	*t;

	for (t = r->subs; t != NULL; t = t->next)
		if (t != s && !t->detached && t->waiting && t->q.n == 0)
			return (1);
	return (0);
}

/* Give e (rows of table def, or NULL) to every subscriber that carries
 * it, waiting for room; under r's lock. */
static void
reader_give(struct reader *r, struct rentry *e, const struct table_def *def)
{
	struct reader_sub	*s;
	struct timespec		 ts;
	uint64_t		 now;

again:
	for (s = r->subs; s != NULL && !r->stop; s = s->next) {
		if (s->detached || s->pushed >= e->seq)
			continue;
		if (def != NULL && s->selected != NULL &&
		    !s->selected(s->arg, def->db, def->name)) {
			s->pushed = e->seq;	/* not its table's */
			continue;
		}
		if (s->qbytes >= READER_QUEUE_BYTES) {
			now = util_mono_us();
			/* Stalled, not slow: nothing taken, and nothing of
			 * its batch done, for READER_STALL_MS. */
			if (now - s->took_us > (uint64_t)READER_STALL_MS *
			    1000 && now - atomic_load(&s->progress_us) >
			    (uint64_t)READER_STALL_MS * 1000 &&
			    reader_others_wait(r, s)) {
				s->detached = 1;
				rqueue_clear(&s->q, 0);
				s->qbytes = 0;
				log_info("binlog reader of %s: a job made no "
				    "progress for %d s while others waited: it "
				    "reads on its own connection", r->who,
				    READER_STALL_MS / 1000);
				pthread_cond_signal(&s->cv);
				continue;
			}
			util_deadline(&ts, READER_WAIT_MS);
			r->space_waiting = 1;
			(void)pthread_cond_timedwait(&r->cv_space, &r->mtx,
			    &ts);
			r->space_waiting = 0;
			goto again;
		}
		rqueue_push(&s->q, e);
		s->qbytes += e->cost;
		s->pushed = e->seq;
		if (s->waiting)
			pthread_cond_signal(&s->cv);	/* only its own */
	}
}

/* The thread ends: out of the registry, subscribers told; under the
 * registry's lock and r's. */
static void
reader_end_locked(struct reader *r, enum binlog_client_error kind,
    char *cause)
{
	struct reader		**pp;
	struct reader_sub	*s;

	if (r->registered) {
		for (pp = &readers; *pp != NULL; pp = &(*pp)->next)
			if (*pp == r) {
				*pp = r->next;
				break;
			}
		r->registered = 0;
	}
	r->dead = 1;
	r->kind = kind;
	free(r->cause);
	r->cause = cause;
	for (s = r->subs; s != NULL; s = s->next)
		pthread_cond_signal(&s->cv);
}

static void
reader_end(struct reader *r, enum binlog_client_error kind, char *cause)
{
	pthread_mutex_lock(&readers_mtx);
	pthread_mutex_lock(&r->mtx);
	reader_end_locked(r, kind, cause);
	pthread_mutex_unlock(&r->mtx);
	pthread_mutex_unlock(&readers_mtx);
}

/* Whether the reader ends: asked to, or no job for READER_LINGER_MS;
 * under r's lock. */
static int
reader_quits(const struct reader *r)
{
	return (r->stop || (r->nsubs == 0 && util_mono_us() -
	    r->idle_since_us > (uint64_t)READER_LINGER_MS * 1000));
}

/*
 * The table whose rows (or map) the event is, from the reader's own
 * decoder, which sees every event (row images stay undecoded); NULL for
 * any other event, and for one it cannot read (the jobs' decoders say
 * why).
 */
static const struct table_def *
reader_table(struct reader *r, const uint8_t *raw, size_t len, uint64_t off)
{
	struct binlog_event	 ev;
	const struct table_def	*def = NULL;
	char			*cause = NULL;
	int			 rc, n = 0;

	memset(&ev, 0, sizeof ev);
	if (binlog_decoder_feed(r->dec, raw, len, off, &cause) != 0) {
		free(cause);
		return (NULL);
	}
	while ((rc = binlog_decoder_next(r->dec, &ev, &cause)) == 1) {
		n++;
		if (ev.h.type == BINLOG_TABLE_MAP && !ev.in_payload)
			def = ev.table_map;
		else if (binlog_is_rows(ev.h.type) && !ev.in_payload)
			def = ev.rows.table;
	}
	if (rc < 0)
		free(cause);
	/* A payload's events (MySQL's compressed transactions): all given. */
	return (rc < 0 || n != 1 ? NULL : def);
}

static void *
reader_main(void *arg)
{
	struct reader			*r = arg;
	struct binlog_client		*bc;
	enum binlog_client_error	 kind;
	struct rentry			*e;
	const uint8_t			*raw;
	const char			*file, *prev;
	const struct table_def		*def;
	size_t				 len, flen, plen;
	uint64_t			 off;
	char				*cause, *infile_dup = NULL;
	int				 rc;

	for (;;) {
		cause = NULL;
		free(infile_dup);
		prev = binlog_client_file(r->bc);
		infile_dup = xstrdup(prev != NULL ? prev : "");
		rc = binlog_client_next(r->bc, &raw, &len, &off, &kind,
		    &cause);
		if (rc <= 0) {
			if (rc == 0) {
				kind = BINLOG_CLIENT_TRANSIENT;
				cause = xasprintf("reading the binlog of %s: "
				    "the stream ended", r->who);
			}
			reader_end(r, kind, cause);
			break;
		}
		file = binlog_client_file(r->bc);
		if (file == NULL)
			file = "";
		/* Checked once here: the jobs' decoders check sizes only. */
		if (binlog_event_verify(raw, len, r->checksum, &cause) != 0) {
			char	*why = cause;

			cause = xasprintf("reading the binlog of %s: %s: offset "
			    "%" PRIu64 ": %s", r->who, file, off, why);
			free(why);
			reader_end(r, BINLOG_CLIENT_FATAL, cause);
			break;
		}
		def = reader_table(r, raw, len, off);
		flen = strlen(file) + 1;
		plen = strlen(infile_dup) + 1;
		e = xmalloc(sizeof *e + len + flen + plen);
		atomic_init(&e->refs, 1);
		e->off = off;
		e->len = len;
		e->cost = sizeof *e + len + flen + plen + 16;
		e->type = len > 4 ? raw[4] : 0;
		memcpy(e->data, raw, len);
		memcpy(e->data + len, file, flen);
		e->file = (const char *)e->data + len;
		/* A ROTATE at a file's end is in the file before; any other
		 * event in the file named last. */
		if (off != 0 && e->type == BINLOG_ROTATE) {
			memcpy(e->data + len + flen, infile_dup, plen);
			e->infile = (const char *)e->data + len + flen;
		} else
			e->infile = e->file;

		pthread_mutex_lock(&r->mtx);
		if (reader_quits(r)) {
			/* Again under the registry's lock: no job attaches
			 * to a reader that ends. */
			pthread_mutex_unlock(&r->mtx);
			pthread_mutex_lock(&readers_mtx);
			pthread_mutex_lock(&r->mtx);
			if (reader_quits(r)) {
				reader_end_locked(r, BINLOG_CLIENT_STOPPED,
				    xasprintf("the binlog reader of %s "
				    "stopped", r->who));
				pthread_mutex_unlock(&r->mtx);
				pthread_mutex_unlock(&readers_mtx);
				rentry_unref(e);
				break;
			}
			pthread_mutex_unlock(&readers_mtx);
		}
		e->seq = ++r->seq;
		reader_remember(r, e);
		reader_give(r, e, def);
		pthread_mutex_unlock(&r->mtx);
		rentry_unref(e);
	}
	free(infile_dup);
	pthread_mutex_lock(&r->mtx);
	bc = r->bc;
	r->bc = NULL;
	pthread_mutex_unlock(&r->mtx);
	binlog_client_close(bc);
	pthread_mutex_lock(&r->mtx);
	reader_unref_unlock(r);
	pthread_mutex_lock(&readers_mtx);
	readers_live--;
	pthread_cond_broadcast(&readers_cv);
	pthread_mutex_unlock(&readers_mtx);
	return (NULL);
}

/* A reader that did not start: its connection, its first subscriber. */
static void
reader_unmade(struct reader *r, struct reader_sub *s)
{
	pthread_cond_destroy(&s->cv);
	free(s);
	binlog_client_close(r->bc);
	r->bc = NULL;
	reader_free(r);
}

/*
 * Start a reader for w's server with the replication connection o asks
 * for (its server_id the reader's), opened here; the first job is
 * attached from the stream's start.  NULL with *kind and *cause when the
 * connection failed; NULL with *kind BINLOG_CLIENT_OK when a reader for
 * the server is there already.
 */
struct reader_sub *
reader_start(const struct reader_want *w, const struct binlog_client_opts *o,
    reader_filter_cb selected, void *arg, enum binlog_client_error *kind,
    char **cause)
{
	struct binlog_client	*bc;
	struct reader		*r;
	struct reader_sub	*s;
	pthread_attr_t		 attr;
	pthread_t		 t;
	int			 err;

	*kind = BINLOG_CLIENT_OK;
	pthread_mutex_lock(&readers_mtx);
	r = reader_find(w);
	pthread_mutex_unlock(&readers_mtx);
	if (r != NULL)
		return (NULL);
	if ((bc = binlog_client_open(o, kind, cause)) == NULL)
		return (NULL);
	r = xcalloc(1, sizeof *r);
	r->key = reader_key(w);
	r->password = w->conn->password != NULL ?
	    xstrdup(w->conn->password) : NULL;
	r->who = mysql_conn_describe(w->conn);
	r->bc = bc;
	r->checksum = binlog_client_checksum(bc);
	r->mariadb = binlog_client_mariadb(bc);
	r->dec = binlog_decoder_new();
	binlog_decoder_set_checksum(r->dec, r->checksum);
	binlog_decoder_set_verified(r->dec, 1);
	r->refs = 1;			/* the thread's */
	/* A job's start is a transaction boundary: one at the same place
	 * attaches before the first event. */
	if (o->gtid == NULL && o->file != NULL) {
		r->tail_file = xstrdup(o->file);
		r->tail_end = o->pos;
	}
	pthread_mutex_init(&r->mtx, NULL);
	pthread_cond_init(&r->cv_space, NULL);
	s = reader_sub_new(r, selected, arg);

	pthread_mutex_lock(&readers_mtx);
	if (reader_find(w) != NULL) {
		/* Another job started one meanwhile. */
		pthread_mutex_unlock(&readers_mtx);
		reader_unmade(r, s);
		return (NULL);
	}
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if ((err = pthread_create(&t, &attr, reader_main, r)) != 0) {
		pthread_mutex_unlock(&readers_mtx);
		pthread_attr_destroy(&attr);
		*kind = BINLOG_CLIENT_TRANSIENT;
		*cause = xasprintf("starting the binlog reader of %s: %s",
		    r->who, strerror(err));
		reader_unmade(r, s);
		return (NULL);
	}
	pthread_attr_destroy(&attr);
	r->registered = 1;
	r->next = readers;
	readers = r;
	readers_live++;
	pthread_mutex_unlock(&readers_mtx);
	log_info("binlog reader of %s: started (server_id %" PRIu32 ")",
	    r->who, o->server_id);
	return (s);
}

/* Take the next entry into the batch; under nothing.  1, 0 on timeout,
 * -1 with *kind and *cause. */
static int
reader_sub_take(struct reader_sub *s, int timeout_ms,
    enum binlog_client_error *kind, char **cause)
{
	struct reader	*r = s->r;
	struct rqueue	 t;
	struct timespec	 ts;
	int		 rc = 1, timed = 0;

	util_deadline(&ts, timeout_ms);
	pthread_mutex_lock(&r->mtx);
	while (s->q.n == 0) {
		if (s->detached) {
			*kind = BINLOG_CLIENT_TRANSIENT;
			*cause = xasprintf("the shared binlog reader of %s went "
			    "on without the job: it made no progress for %d s "
			    "while other jobs waited (its targets are stuck or "
			    "down); it reads on its own connection from its "
			    "checkpoint", r->who, READER_STALL_MS / 1000);
			rc = -1;
			break;
		}
		if (r->dead) {
			/* Not the job's stop: its attempt ends and the
			 * next reads on its own or on a new reader. */
			*kind = r->kind == BINLOG_CLIENT_STOPPED ?
			    BINLOG_CLIENT_TRANSIENT : r->kind;
			*cause = xstrdup(r->cause != NULL ? r->cause :
			    "the binlog reader stopped");
			rc = -1;
			break;
		}
		if (timed) {
			rc = 0;
			break;
		}
		s->waiting = 1;
		if (pthread_cond_timedwait(&s->cv, &r->mtx, &ts) ==
		    ETIMEDOUT)
			timed = 1;
		s->waiting = 0;
	}
	if (rc == 1) {
		t = s->batch;
		s->batch = s->q;
		s->q = t;
		s->q.n = 0;
		s->bi = 0;
		s->qbytes = 0;
		s->took_us = util_mono_us();
		if (r->space_waiting)
			pthread_cond_signal(&r->cv_space);
	}
	pthread_mutex_unlock(&r->mtx);
	return (rc);
}

/*
 * The next event, as binlog_client_next() gives it, with the file
 * binlog_client_file() would say: 1; 0 when none came in timeout_ms; -1
 * with *kind and *cause (the reader failed, or went on without this job:
 * reader_sub_detached()).  The event stays valid until the next call.
 */
int
reader_sub_next(struct reader_sub *s, int timeout_ms, const uint8_t **ev,
    size_t *len, uint64_t *off, const char **file,
    enum binlog_client_error *kind, char **cause)
{
	struct rentry	*e;
	int		 rc;

	rentry_unref(s->cur);
	s->cur = NULL;
	if (s->fde != NULL && !s->fde_given) {
		/* The format description a connection starts with. */
		*ev = s->fde;
		*len = s->fde_len;
		*off = 0;
		*file = s->fde_file;
		s->fde_given = 1;
		return (1);
	}
	if (s->bi == s->batch.n) {
		s->batch.n = 0;
		s->bi = 0;
		if ((rc = reader_sub_take(s, timeout_ms, kind, cause)) != 1)
			return (rc);
	}
	e = s->batch.v[s->bi++];
	s->cur = e;		/* the batch's reference, now ours */
	if (s->bi % READER_PROGRESS == 0)
		atomic_store(&s->progress_us, util_mono_us());
	*ev = e->data;
	*len = e->len;
	*off = e->off;
	*file = e->file;
	return (1);
}

/* Whether an event (or the end) is there within timeout_ms. */
int
reader_sub_wait(struct reader_sub *s, int timeout_ms)
{
	struct reader	*r = s->r;
	struct timespec	 ts;
	int		 ready;

	if ((s->fde != NULL && !s->fde_given) || s->bi < s->batch.n)
		return (1);
	util_deadline(&ts, timeout_ms);
	pthread_mutex_lock(&r->mtx);
	if (s->q.n == 0 && !s->detached && !r->dead) {
		s->waiting = 1;
		(void)pthread_cond_timedwait(&s->cv, &r->mtx, &ts);
		s->waiting = 0;
	}
	ready = s->q.n > 0 || s->detached || r->dead;
	pthread_mutex_unlock(&r->mtx);
	return (ready);
}

int
reader_sub_checksum(const struct reader_sub *s)
{
	return (s->r->checksum);
}

int
reader_sub_mariadb(const struct reader_sub *s)
{
	return (s->r->mariadb);
}

int
reader_sub_detached(const struct reader_sub *s)
{
	int	 d;

	pthread_mutex_lock(&s->r->mtx);
	d = s->detached;
	pthread_mutex_unlock(&s->r->mtx);
	return (d);
}

/* How many jobs read on this reader, this one included. */
int
reader_sub_peers(struct reader_sub *s)
{
	const struct reader_sub	*t;
	int			 n = 0;

	pthread_mutex_lock(&s->r->mtx);
	for (t = s->r->subs; t != NULL; t = t->next)
		if (!t->detached)
			n++;
	pthread_mutex_unlock(&s->r->mtx);
	return (n);
}

void
reader_leave(struct reader_sub *s)
{
	struct reader		*r;
	struct reader_sub	**pp;

	if (s == NULL)
		return;
	r = s->r;
	pthread_mutex_lock(&r->mtx);
	for (pp = &r->subs; *pp != NULL; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	if (--r->nsubs == 0)
		r->idle_since_us = util_mono_us();
	rqueue_free(&s->q);
	if (r->space_waiting)
		pthread_cond_signal(&r->cv_space);
	reader_unref_unlock(r);
	rentry_unref(s->cur);
	if (s->bi < s->batch.n)
		rqueue_clear(&s->batch, s->bi);
	free(s->batch.v);
	free(s->fde);
	free(s->fde_file);
	pthread_cond_destroy(&s->cv);
	free(s);
}

/*
 * The server_id a reader registers with, from its first job's: in the
 * jobs' range (high, where real replicas seldom are), never that job's.
 */
uint32_t
reader_server_id(uint32_t job_server_id)
{
	uint32_t	 h = 2166136261u, id;
	const char	*salt = "ferry binlog reader";
	size_t		 i;

	for (i = 0; i < 4; i++) {
		h ^= (job_server_id >> (8 * i)) & 0xff;
		h *= 16777619u;
	}
	for (i = 0; salt[i] != '\0'; i++) {
		h ^= (uint8_t)salt[i];
		h *= 16777619u;
	}
	id = 0x40000000u + h % 0x3fffffffu;
	return (id == job_server_id ? id + 1 : id);
}

/* Stop every reader and wait for their threads (the daemon's exit, after
 * its jobs'). */
void
reader_shutdown(void)
{
	struct reader	*r;

	pthread_mutex_lock(&readers_mtx);
	for (r = readers; r != NULL; r = r->next) {
		pthread_mutex_lock(&r->mtx);
		r->stop = 1;
		if (r->bc != NULL)
			binlog_client_stop(r->bc);
		pthread_cond_broadcast(&r->cv_space);
		pthread_mutex_unlock(&r->mtx);
	}
	while (readers_live > 0)
		pthread_cond_wait(&readers_cv, &readers_mtx);
	pthread_mutex_unlock(&readers_mtx);
}
