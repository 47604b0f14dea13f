/*
 * The Kafka side of a job.
 *
 * Every target is written through the process's producer for its cluster
 * (engine/producer.c, shared with the other jobs writing there):
 * idempotent (the broker keeps each partition in the order ferry sent it,
 * without duplicates from retries), acks=all, small linger for batching.
 * The sink counts its own messages: their delivery reports reach it from
 * the thread serving the producers, are queued here, and the job's thread
 * takes them in sink_poll().  Each message carries two headers,
 * ferry.job and ferry.id (the record's id, increasing per job; INIT
 * records add ferry.init, see sink_tail_set), so that a
 * restarted job can read the tail of each partition it writes and skip the
 * records already there: the records of a job are regenerated with the
 * same ids from its checkpoint, and the idempotent producer keeps a
 * partition in id order, so every id at or below the last one found is
 * already in that partition.
 *
 * Brokers older than 0.11 (the brokers say so, or a --kafka-version hint
 * of 0.10.x) have neither headers nor idempotence: there ferry writes with
 * one request in flight (order kept), the records carry the job's id and
 * the INIT part as the tags ferry.job and ferry.init (engine/emit.c), and
 * the resume reads the record's id and those tags instead of headers.
 * What remains: a produce request whose answer is lost and that librdkafka
 * sends again within one session can put a record twice, adjacent, with
 * the same id (no idempotence to drop it).
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#include "common/log.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "engine/producer.h"
#include "engine/sink.h"
#include "schema/dts_reader.h"

/*
 * Record sizes.  The producer may send messages up to PRODUCER_MESSAGE_MAX;
 * a topic takes what its max.message.bytes says (Kafka's default when the
 * broker does not tell), less SINK_FRAMING for the record batch's and the
 * record's framing, the key and the ferry.* headers.
 */
/*
 * How long a stopping sink waits for its messages' reports before it has
 * its producer drop everything undelivered (a cluster that is down).
 */
#define SINK_STOP_WAIT_MS	2000
/*
 * What a queued message costs beside its value and key, for the job's
 * memory budget: librdkafka's message (about 200 bytes), ferry's headers
 * (up to five, each a separate allocation with its name and value) and
 * the allocator's overhead.  Without it a budget of narrow records would
 * let librdkafka hold twice the budget.
 */
#define SINK_MSG_OVERHEAD	512
#define SINK_DEFAULT_LIMIT	1048588
#define SINK_FRAMING		4096
#define SINK_LEADER_WAIT_MS	5000	/* a topic just made: its leaders */

/* What the last message of this job in a partition says. */
struct sink_tail {
	int64_t			 id;		/* 0: the job wrote nothing */
	char			*tbl;		/* INIT records: db.table */
	int			 gen;		/* and their generation */
	uint8_t			*key;		/* and sortable key */
	size_t			 keylen;
};

struct sink_topic {
	char			*name;
	int32_t			 nparts;
	size_t			 max_message;	/* a record's value, at most */
	rd_kafka_topic_t	*rkt;
	struct sink_tail	*tail;		/* per partition */
};

struct sink_target {
	char			*name;
	struct kafka_client_opts opts;
	struct producer		*p;
	rd_kafka_t		*rk;		/* p's */
	int			 legacy;	/* before 0.11: no headers */
	struct sink_topic	*topics;
	size_t			 ntopics;
};

struct sink {
	int64_t			 job;
	char			 job_text[64];	/* the job's identity */
	size_t			 job_len;
	struct sink_target	*targets;
	size_t			 ntargets;
	char			**names;	/* topic names, by index */
	size_t			 nnames;
	sink_delivered_cb	 cb;
	void			*arg;
	struct producer_client	 client;
	int			 registered;
	atomic_size_t		 inflight;	/* bytes not yet reported */
	atomic_int_fast64_t	 outstanding;	/* messages not reported */

	pthread_mutex_t		 mtx;		/* reports from the server */
	pthread_cond_t		 cv;
	struct sink_report	*reports;	/* under mtx */
	size_t			 nreports;
	size_t			 capreports;
	struct sink_report	*taken;		/* the job thread's */
	size_t			 captaken;
	int			 permanent;	/* a failure retrying cannot help */
};

struct sink_report {
	uint64_t		 unit;
	int			 err;
};

static void	sink_wait(struct sink *, int);

/* A delivery report (on the thread serving the producers). */
static void
sink_report(void *arg, uint64_t unit, size_t len, int err)
{
	struct sink	*s = arg;

	atomic_fetch_sub(&s->inflight, len + SINK_MSG_OVERHEAD);
	pthread_mutex_lock(&s->mtx);
	if (s->nreports == s->capreports) {
		s->capreports = s->capreports == 0 ? 1024 :
		    s->capreports * 2;
		s->reports = xreallocarray(s->reports, s->capreports,
		    sizeof *s->reports);
	}
	s->reports[s->nreports].unit = unit;
	s->reports[s->nreports].err = err;
	s->nreports++;
	/* Counted last: a sink that sees nothing outstanding may go. */
	atomic_fetch_sub(&s->outstanding, 1);
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mtx);
}

static char	*sink_send_error(struct sink *, struct sink_target *,
		    const char *, rd_kafka_resp_err_t);

static int
sink_legacy(const char *version)
{
	return (version != NULL && strncmp(version, "0.", 2) == 0 &&
	    strncmp(version, "0.11", 4) != 0);
}

/*
 * Producers for the n targets, connected (a metadata round trip each, so
 * that a wrong password or an unreachable cluster is reported here, unless
 * cancel(arg) says to give up first).
 */
struct sink *
sink_new(int64_t job, const struct sink_target_opts *targets, size_t n,
    sink_delivered_cb cb, int (*cancel)(void *), void *arg, char **cause)
{
	struct sink		*s;
	struct sink_target	*t;
	size_t			 i;
	int			 rc;

	s = xcalloc(1, sizeof *s);
	s->job = job;
	s->job_len = util_fmt_i64(s->job_text, job);
	s->cb = cb;
	s->arg = arg;
	pthread_mutex_init(&s->mtx, NULL);
	pthread_cond_init(&s->cv, NULL);
	s->client.report = sink_report;
	s->client.arg = s;
	if (producer_register(&s->client, cause) != 0)
		goto fail;
	s->registered = 1;
	s->targets = xcalloc(n, sizeof *s->targets);
	for (i = 0; i < n; i++) {
		t = &s->targets[s->ntargets++];
		t->name = xstrdup(targets[i].name);
		kafka_client_opts_init(&t->opts);
		t->opts.brokers = xstrdup(targets[i].kafka.brokers);
		t->opts.sasl = targets[i].kafka.sasl;
		if (targets[i].kafka.user != NULL)
			t->opts.user = xstrdup(targets[i].kafka.user);
		if (targets[i].kafka.password != NULL)
			t->opts.password = xstrdup(targets[i].kafka.password);
		t->opts.tls = targets[i].kafka.tls;
		t->opts.confined = targets[i].kafka.confined;
		if (targets[i].kafka.tls_ca != NULL)
			t->opts.tls_ca = xstrdup(targets[i].kafka.tls_ca);
		if (targets[i].kafka.version != NULL)
			t->opts.version = xstrdup(targets[i].kafka.version);
		if (targets[i].kafka.compression != NULL)
			t->opts.compression =
			    xstrdup(targets[i].kafka.compression);
		if (targets[i].kafka.props != NULL)
			t->opts.props = xstrdup(targets[i].kafka.props);
		/* The endpoint's --kafka-version overrides; else the
		 * brokers say whether they take headers (0.11 and later). */
		if (t->opts.version != NULL)
			t->legacy = sink_legacy(t->opts.version);
		else if ((rc = kafka_client_headers(&t->opts, 10000, cancel,
		    arg, cause)) < 0)
			goto fail;
		else if ((t->legacy = !rc))
			log_info("job %" PRId64 ": target %s is a Kafka before "
			    "0.11: records go without headers and without "
			    "the idempotent producer", job, t->name);
		if ((t->p = producer_get(&t->opts, t->legacy, cause)) == NULL)
			goto fail;
		t->rk = producer_handle(t->p);
		if (kafka_client_check_until(t->rk, 10000, cancel, arg,
		    cause) != 0)
			goto fail;
	}
	return (s);
fail:
	sink_free(s);
	return (NULL);
}

/*
 * Before a sink goes, every message it sent is reported: they must not
 * land after the job's next start read the tails.  Its cluster gets
 * SINK_STOP_WAIT_MS to deliver them; then its producer drops whatever it
 * has not delivered (what was not delivered is sent again: the checkpoint
 * did not pass it), and the reports of that come at once.
 */
static void
sink_settle(struct sink *s)
{
	uint64_t	 deadline = util_mono_us() + SINK_STOP_WAIT_MS * 1000;
	size_t		 i;
	int		 retired = 0;

	while (atomic_load(&s->outstanding) > 0) {
		if (!retired && util_mono_us() >= deadline) {
			for (i = 0; i < s->ntargets; i++) {
				if (s->targets[i].p != NULL)
					producer_retire(s->targets[i].p,
					    "a job stops with messages the "
					    "cluster did not take");
			}
			retired = 1;
		}
		sink_wait(s, 50);
		pthread_mutex_lock(&s->mtx);
		s->nreports = 0;	/* nobody takes them any more */
		pthread_mutex_unlock(&s->mtx);
	}
	/* The last reporter is out of sink_report() once it unlocked. */
	pthread_mutex_lock(&s->mtx);
	pthread_mutex_unlock(&s->mtx);
}

void
sink_free(struct sink *s)
{
	struct sink_target	*t;
	size_t			 i, k;

	if (s == NULL)
		return;
	for (i = 0; i < s->ntargets; i++) {
		t = &s->targets[i];
		for (k = 0; k < t->ntopics; k++) {
			if (t->topics[k].rkt != NULL)
				rd_kafka_topic_destroy(t->topics[k].rkt);
			for (int32_t p = 0; t->topics[k].tail != NULL &&
			    p < t->topics[k].nparts; p++) {
				free(t->topics[k].tail[p].tbl);
				free(t->topics[k].tail[p].key);
			}
			free(t->topics[k].tail);
			free(t->topics[k].name);
		}
		free(t->topics);
	}
	sink_settle(s);
	for (i = 0; i < s->ntargets; i++) {
		t = &s->targets[i];
		producer_put(t->p);
		kafka_client_opts_release(&t->opts);
		free(t->name);
	}
	if (s->registered)
		producer_unregister(&s->client);
	free(s->targets);
	for (i = 0; i < s->nnames; i++)
		free(s->names[i]);
	free(s->names);
	free(s->reports);
	free(s->taken);
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mtx);
	free(s);
}

/*
 * The largest record value a topic takes: its max.message.bytes
 * (DescribeConfigs, Kafka 0.11 and later) less room for the batch and
 * record framing, the key and ferry's headers, and at most what the
 * producer is set to send.  When the broker does not say (older brokers,
 * no DescribeConfigs permission), Kafka's default.
 */
static size_t
sink_topic_limit(struct sink_target *t, const char *name)
{
	size_t		 limit = SINK_DEFAULT_LIMIT;
	uint64_t	 bytes;
	char		*v = NULL, *why = NULL;

	if (t->legacy)
		return (limit - SINK_FRAMING);
	if (kafka_client_topic_config(t->rk, name, "max.message.bytes", &v,
	    &why) == 0) {
		bytes = strtoull(v, NULL, 10);
		if (bytes > SINK_FRAMING)
			limit = (size_t)bytes;
	} else
		log_info("target %s: the broker does not describe topic %s "
		    "(%s): records up to %zu bytes", t->name, name, why,
		    (size_t)SINK_DEFAULT_LIMIT - SINK_FRAMING);
	free(v);
	free(why);
	if (limit > PRODUCER_MESSAGE_MAX)
		limit = PRODUCER_MESSAGE_MAX;
	return (limit - SINK_FRAMING);
}

/*
 * The metadata of topic tp on target t, once every partition has a
 * leader: a topic just made has none for a moment (LEADER_NOT_AVAILABLE),
 * or is not known yet to a ZooKeeper-mode broker, which is waited for up
 * to SINK_LEADER_WAIT_MS; then a topic still without leaders is a
 * transient failure, and one the cluster does not know fails the job
 * ("does not exist").  NULL with *cause.
 */
static const struct rd_kafka_metadata *
sink_topic_metadata(struct sink_target *t, struct sink_topic *tp,
    char **cause)
{
	const struct rd_kafka_metadata		*md;
	const struct rd_kafka_metadata_topic	*mt;
	rd_kafka_resp_err_t			 err;
	uint64_t				 end;
	int					 nl;

	end = util_mono_us() + SINK_LEADER_WAIT_MS * 1000ULL;
	for (;;) {
		err = rd_kafka_metadata(t->rk, 0, tp->rkt, &md, 10000);
		if (err != 0) {
			*cause = xasprintf("target %s: cannot read the metadata "
			    "of topic %s: %s", t->name, tp->name,
			    rd_kafka_err2str(err));
			return (NULL);
		}
		mt = md->topic_cnt == 1 ? &md->topics[0] : NULL;
		if (mt == NULL || mt->err ==
		    RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
		    (mt->err == 0 && mt->partition_cnt < 1)) {
			/* Perhaps just made: a ZooKeeper-mode broker learns
			 * of a new topic from its controller. */
			if (util_mono_us() < end) {
				rd_kafka_metadata_destroy(md);
				usleep(200 * 1000);
				continue;
			}
			*cause = xasprintf("topic %s does not exist on target "
			    "%s (ferry does not create topics: create it, "
			    "then retry the job)", tp->name, t->name);
			break;
		}
		if (mt->err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED) {
			*cause = xasprintf("target %s: not authorized to see "
			    "topic %s (its ACLs must allow this user Describe "
			    "and Write)", t->name, tp->name);
			break;
		}
		nl = mt->err != 0 ? mt->partition_cnt : kafka_client_leaderless(mt);
		if (mt->err == 0 && nl == 0)
			return (md);
		if (util_mono_us() >= end) {
			*cause = xasprintf("topic %s on target %s: %d of %d "
			    "partitions without a leader after %d s (%s); "
			    "retried", tp->name, t->name, nl,
			    mt->partition_cnt, SINK_LEADER_WAIT_MS / 1000,
			    rd_kafka_err2str(mt->err != 0 ? mt->err :
			    RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE));
			break;
		}
		rd_kafka_metadata_destroy(md);
		usleep(200 * 1000);
	}
	rd_kafka_metadata_destroy(md);
	return (NULL);
}

/*
 * The index of topic name, looked up on every target the first time: a
 * topic missing on a target is an error (ferry does not create topics).
 */
int
sink_topic(struct sink *s, const char *name, char **cause)
{
	const struct rd_kafka_metadata	*md;
	struct sink_target		*t;
	struct sink_topic		*tp;
	size_t				 i;

	for (i = 0; i < s->nnames; i++) {
		if (strcmp(s->names[i], name) == 0)
			return ((int)i);
	}
	for (i = 0; i < s->ntargets; i++) {
		t = &s->targets[i];
		t->topics = xreallocarray(t->topics, t->ntopics + 1,
		    sizeof *t->topics);
		tp = &t->topics[t->ntopics];
		memset(tp, 0, sizeof *tp);
		tp->name = xstrdup(name);
		t->ntopics++;
		tp->rkt = rd_kafka_topic_new(t->rk, name, NULL);
		if ((md = sink_topic_metadata(t, tp, cause)) == NULL)
			return (-1);
		tp->nparts = md->topics[0].partition_cnt;
		tp->tail = xcalloc((size_t)tp->nparts, sizeof *tp->tail);
		rd_kafka_metadata_destroy(md);
		tp->max_message = sink_topic_limit(t, name);
	}
	s->names = xreallocarray(s->names, s->nnames + 1, sizeof *s->names);
	s->names[s->nnames] = xstrdup(name);
	return ((int)s->nnames++);
}

/* The value of header name (borrowed), or NULL. */
static const char *
sink_header_raw(rd_kafka_message_t *m, const char *name, size_t *len)
{
	rd_kafka_headers_t	*hdrs;
	const void		*v;

	if (rd_kafka_message_headers(m, &hdrs) != 0 ||
	    rd_kafka_header_get_last(hdrs, name, &v, len) != 0 || v == NULL)
		return (NULL);
	return (v);
}

static int
sink_unhex(const char *h, size_t len, uint8_t **out, size_t *outlen)
{
	size_t	 i;
	int	 hi, lo;

	if (len % 2 != 0)
		return (-1);
	*out = xmalloc(len / 2 + 1);
	for (i = 0; i < len / 2; i++) {
		hi = h[2 * i] <= '9' ? h[2 * i] - '0' : (h[2 * i] | 0x20) -
		    'a' + 10;
		lo = h[2 * i + 1] <= '9' ? h[2 * i + 1] - '0' :
		    (h[2 * i + 1] | 0x20) - 'a' + 10;
		if (hi < 0 || hi > 15 || lo < 0 || lo > 15) {
			free(*out);
			*out = NULL;
			return (-1);
		}
		(*out)[i] = (uint8_t)(hi << 4 | lo);
	}
	*outlen = len / 2;
	return (0);
}

/*
 * An INIT record's "<gen>/<key in hex>/<db.table>" (the table last: it is
 * the only part that can hold a '/'), in small when it fits (else
 * allocated: free it when it is not small); its length in *len.
 */
char *
sink_meta_text(const struct sink_meta *meta, char *small, size_t smallsz,
    size_t *len)
{
	static const char	 digits[] = "0123456789abcdef";
	size_t			 n = 24 + meta->keylen * 2 + meta->tbllen + 1, k;
	char			*init, *p;

	init = n <= smallsz ? small : xmalloc(n);
	p = init + util_fmt_i64(init, meta->gen);
	*p++ = '/';
	for (k = 0; k < meta->keylen; k++) {
		*p++ = digits[meta->key[k] >> 4];
		*p++ = digits[meta->key[k] & 15];
	}
	*p++ = '/';
	memcpy(p, meta->tbl, meta->tbllen);
	p[meta->tbllen] = '\0';
	*len = (size_t)(p - init) + meta->tbllen;
	return (init);
}

/* A tail's INIT part from "<gen>/<key in hex>/<db.table>". */
static void
sink_tail_init_text(struct sink_tail *t, const char *v, size_t len)
{
	const char	*key, *tbl, *end = v + len;
	char		 tmp[12];

	if ((key = memchr(v, '/', len)) == NULL ||
	    (size_t)(key - v) >= sizeof tmp ||
	    (tbl = memchr(key + 1, '/', (size_t)(end - key - 1))) == NULL)
		return;
	memcpy(tmp, v, (size_t)(key - v));
	tmp[key - v] = '\0';
	key++;
	if (sink_unhex(key, (size_t)(tbl - key), &t->key, &t->keylen) != 0)
		return;
	tbl++;
	t->tbl = xstrndup(tbl, (size_t)(end - tbl));
	t->gen = atoi(tmp);
}

/*
 * Keep what the last message of this job in a partition says: its id and,
 * for an INIT record, its generation, sortable key and table.  These come
 * in one header, ferry.init ("<gen>/<key in hex>/<db.table>"); earlier
 * builds wrote three (ferry.gen, ferry.key, ferry.tbl), which a partition
 * written before an upgrade may still end with.  One header instead of
 * three is cheaper to send: librdkafka spends about 0.7 us on each.  On a
 * broker without headers, init is the record's ferry.init tag (or NULL).
 */
static void
sink_tail_set(struct sink_tail *t, rd_kafka_message_t *m, int64_t id,
    const char *init, size_t initlen)
{
	const char	*v, *key, *tbl;
	size_t		 len, keylen = 0;
	char		 tmp[12];

	free(t->tbl);
	free(t->key);
	memset(t, 0, sizeof *t);
	t->id = id;
	if (init != NULL) {
		sink_tail_init_text(t, init, initlen);
		return;
	}
	if ((v = sink_header_raw(m, "ferry.init", &len)) != NULL) {
		sink_tail_init_text(t, v, len);
		return;
	}
	if ((tbl = sink_header_raw(m, "ferry.tbl", &len)) == NULL ||
	    (v = sink_header_raw(m, "ferry.gen", &keylen)) == NULL ||
	    keylen >= sizeof tmp)
		return;
	memcpy(tmp, v, keylen);
	tmp[keylen] = '\0';
	if ((key = sink_header_raw(m, "ferry.key", &keylen)) == NULL)
		return;
	if (sink_unhex(key, keylen, &t->key, &t->keylen) != 0)
		return;
	t->tbl = xstrndup(tbl, len);
	t->gen = atoi(tmp);
}

/* The ferry.job and ferry.init tags of a record, as the scan wants them. */
struct sink_tags {
	const char	*job;
	size_t		 joblen;
	const char	*init;
	size_t		 initlen;
};

static int
sink_tag(void *arg, const uint8_t *k, size_t klen, const uint8_t *v,
    size_t vlen)
{
	struct sink_tags	*tg = arg;

	if (klen == 9 && memcmp(k, "ferry.job", 9) == 0) {
		tg->job = (const char *)v;
		tg->joblen = vlen;
	} else if (klen == 10 && memcmp(k, "ferry.init", 10) == 0) {
		tg->init = (const char *)v;
		tg->initlen = vlen;
	}
	return (0);
}

/* The value of header name as a number, or -1. */
static int64_t
sink_header(rd_kafka_message_t *m, const char *name)
{
	rd_kafka_headers_t	*hdrs;
	const void		*v;
	size_t			 len;
	char			 tmp[24];

	if (rd_kafka_message_headers(m, &hdrs) != 0 ||
	    rd_kafka_header_get_last(hdrs, name, &v, &len) != 0 ||
	    v == NULL || len == 0 || len >= sizeof tmp)
		return (-1);
	memcpy(tmp, v, len);
	tmp[len] = '\0';
	return (strtoll(tmp, NULL, 10));
}

/*
 * Whether message m is this job's, and its id: from the headers, or on a
 * broker without them from the record itself (its id and ferry.job tag;
 * the tags come before the images, so a partial read is enough).
 */
static int
sink_message_id(const struct sink *s, const struct sink_target *t,
    rd_kafka_message_t *m, int64_t *id, struct sink_tags *tags)
{
	const char	*v;
	size_t		 len;

	memset(tags, 0, sizeof *tags);
	if (!t->legacy) {
		if ((v = sink_header_raw(m, "ferry.job", &len)) == NULL ||
		    len != s->job_len || memcmp(v, s->job_text, len) != 0)
			return (0);
		*id = sink_header(m, "ferry.id");
		return (1);
	}
	if (m->payload == NULL || dts_read_head(m->payload, m->len, id,
	    sink_tag, tags) != 0)
		return (0);
	return (tags->job != NULL && tags->joblen == s->job_len &&
	    memcmp(tags->job, s->job_text, s->job_len) == 0);
}

/*
 * The last id of this job in partition part of topic, reading backwards
 * from the end in growing windows; 0 when the job has nothing there.
 */
static int
sink_scan_partition(struct sink *s, struct sink_target *t, rd_kafka_t *c,
    rd_kafka_topic_t *rkt, int32_t part, struct sink_tail *tail,
    char **cause)
{
	const char		*topic = rd_kafka_topic_name(rkt);
	int64_t			 last_id = 0, *last = &last_id;
	rd_kafka_message_t	*m;
	rd_kafka_resp_err_t	 err;
	int64_t			 lo, hi, start, end, window = 256, id;
	struct sink_tags	 tags;
	uint64_t		 deadline;
	int			 done;

	tail->id = 0;
	err = rd_kafka_query_watermark_offsets(c, topic, part, &lo, &hi, 15000);
	if (err != 0) {
		*cause = xasprintf("target %s: cannot read the offsets of %s "
		    "partition %" PRId32 ": %s", t->name, topic, part,
		    rd_kafka_err2str(err));
		return (-1);
	}
	for (end = hi; end > lo; end = start, window *= 4) {
		start = end - window > lo ? end - window : lo;
		if (rd_kafka_consume_start(rkt, part, start) != 0) {
			*cause = xasprintf("target %s: cannot read %s "
			    "partition %" PRId32 ": %s", t->name, topic, part,
			    rd_kafka_err2str(rd_kafka_last_error()));
			return (-1);
		}
		deadline = util_mono_us() + 60 * 1000000ULL;
		for (done = 0; !done;) {
			if (util_mono_us() > deadline) {
				*cause = xasprintf("target %s: reading the end "
				    "of %s partition %" PRId32 " timed out",
				    t->name, topic, part);
				rd_kafka_consume_stop(rkt, part);
				return (-1);
			}
			if ((m = rd_kafka_consume(rkt, part, 200)) == NULL)
				continue;
			if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF)
				done = 1;
			else if (m->err != 0) {
				*cause = xasprintf("target %s: reading %s "
				    "partition %" PRId32 ": %s", t->name, topic,
				    part, rd_kafka_message_errstr(m));
				rd_kafka_message_destroy(m);
				rd_kafka_consume_stop(rkt, part);
				return (-1);
			} else {
				if (m->offset < end && sink_message_id(s, t,
				    m, &id, &tags) && id > *last) {
					*last = id;
					sink_tail_set(tail, m, id, tags.init,
					    tags.initlen);
				}
				done = m->offset >= end - 1;
			}
			rd_kafka_message_destroy(m);
		}
		rd_kafka_consume_stop(rkt, part);
		if (*last > 0)
			return (0);
	}
	return (0);
}

/*
 * Read what every partition of every topic already holds from this job;
 * *max_id is the highest id found anywhere (0: none).  The reader is a
 * plain partition consumer, not a group member: a group would only add a
 * coordinator to find (on a cluster that never had a consumer, finding one
 * creates __consumer_offsets).
 */
int
sink_scan(struct sink *s, int64_t *max_id, char **cause)
{
	struct sink_target	*t;
	rd_kafka_conf_t		*conf;
	rd_kafka_topic_t	*rkt;
	rd_kafka_t		*c;
	size_t			 i, k;
	int32_t			 p;
	int			 rc = 0;

	*max_id = 0;
	for (i = 0; i < s->ntargets && rc == 0; i++) {
		t = &s->targets[i];
		if ((conf = kafka_client_conf(&t->opts, cause)) == NULL)
			return (-1);
		if (kafka_client_set(conf, "enable.partition.eof", "true",
		    cause) != 0 ||
		    kafka_client_set(conf, "isolation.level",
		    "read_uncommitted", cause) != 0) {
			rd_kafka_conf_destroy(conf);
			return (-1);
		}
		if ((c = kafka_client_new(RD_KAFKA_CONSUMER, conf, &t->opts,
		    NULL, cause)) == NULL)
			return (-1);
		for (k = 0; k < t->ntopics && rc == 0; k++) {
			if ((rkt = rd_kafka_topic_new(c, t->topics[k].name,
			    NULL)) == NULL) {
				*cause = xasprintf("target %s: cannot read %s: "
				    "%s", t->name, t->topics[k].name,
				    rd_kafka_err2str(rd_kafka_last_error()));
				rc = -1;
				break;
			}
			for (p = 0; p < t->topics[k].nparts; p++) {
				struct sink_tail *tl = &t->topics[k].tail[p];

				if ((rc = sink_scan_partition(s, t, c, rkt, p,
				    tl, cause)) != 0)
					break;
				if (tl->id > *max_id)
					*max_id = tl->id;
				if (tl->id > 0)
					log_debug("job %" PRId64 ": %s %s/%" PRId32
					    " holds up to id %" PRId64 "%s%s",
					    s->job, t->name, t->topics[k].name, p,
					    tl->id, tl->tbl != NULL ? ", of " : "",
					    tl->tbl != NULL ? tl->tbl : "");
			}
			rd_kafka_topic_destroy(rkt);
		}
		kafka_client_destroy(c);
	}
	return (rc);
}

/* The partition a record with hash goes to on target i. */
int32_t
sink_partition(const struct sink *s, int topic, size_t i, uint32_t hash,
    int hash_it)
{
	const struct sink_topic	*tp = &s->targets[i].topics[topic];

	return (hash_it ? (int32_t)(hash % (uint32_t)tp->nparts) : 0);
}

int32_t
sink_partitions(const struct sink *s, int topic, size_t i)
{
	return (s->targets[i].topics[topic].nparts);
}

size_t
sink_ntargets(const struct sink *s)
{
	return (s->ntargets);
}

const char *
sink_target_name(const struct sink *s, size_t i)
{
	return (s->targets[i].name);
}

/*
 * The last INIT record of this job in a partition, when it is one: its
 * table, generation and sortable key (borrowed).  0 when the last record
 * is not an INIT record or there is none.
 */
int
sink_tail_init(const struct sink *s, int topic, size_t i, int32_t part,
    const char **tbl, int *gen, const uint8_t **key, size_t *keylen)
{
	const struct sink_tail	*t = &s->targets[i].topics[topic].tail[part];

	if (t->tbl == NULL)
		return (0);
	*tbl = t->tbl;
	*gen = t->gen;
	*key = t->key;
	*keylen = t->keylen;
	return (1);
}

/*
 * Send a record to topic index topic on the targets in mask (bit i: target
 * i), to partition hash % partitions (partition 0 when hash_it is 0),
 * unless the partition already holds id.  INIT records carry meta (their
 * table, generation and key) in headers.  ts_ms is the message's
 * timestamp (0: librdkafka's clock, a gettimeofday of its own for each
 * message).  *sent is how many messages were
 * queued: the number of delivery reports unit will get.  Blocks (serving
 * delivery reports) while librdkafka's queue is full.
 */
int
sink_produce(struct sink *s, int topic, uint32_t hash, int hash_it,
    uint32_t mask, const struct sink_meta *meta, const void *key,
    size_t keylen, const void *value, size_t len, int64_t id, int64_t ts_ms,
    uint64_t unit, size_t *sent, char **cause)
{
	struct sink_target	*t;
	struct sink_topic	*tp;
	rd_kafka_headers_t	*hdrs;
	rd_kafka_resp_err_t	 err;
	char			 idtext[24], small[256];
	char			*init = NULL;
	size_t			 idlen, initlen = 0, i;
	int32_t			 part;

	*sent = 0;
	idlen = util_fmt_i64(idtext, id);
	if (meta != NULL)
		init = sink_meta_text(meta, small, sizeof small, &initlen);
	for (i = 0; i < s->ntargets; i++) {
		if (i < 32 && (mask & (1u << i)) == 0)
			continue;
		t = &s->targets[i];
		tp = &t->topics[topic];
		part = hash_it ? (int32_t)(hash % (uint32_t)tp->nparts) : 0;
		if (id <= tp->tail[part].id)
			continue;	/* already there */
		for (;;) {
			if (t->legacy)
				err = rd_kafka_producev(t->rk,
				    RD_KAFKA_V_RKT(tp->rkt),
				    RD_KAFKA_V_PARTITION(part),
				    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
				    RD_KAFKA_V_VALUE((void *)value, len),
				    RD_KAFKA_V_KEY(key, keylen),
				    RD_KAFKA_V_TIMESTAMP(ts_ms),
				    RD_KAFKA_V_OPAQUE(producer_opaque(
				    &s->client, unit)),
				    RD_KAFKA_V_END);
			else {
				hdrs = rd_kafka_headers_new(meta != NULL ? 3 :
				    2);
				rd_kafka_header_add(hdrs, "ferry.job", 9,
				    s->job_text, (ssize_t)s->job_len);
				rd_kafka_header_add(hdrs, "ferry.id", 8,
				    idtext, (ssize_t)idlen);
				if (meta != NULL)
					rd_kafka_header_add(hdrs, "ferry.init",
					    10, init, (ssize_t)initlen);
				err = rd_kafka_producev(t->rk,
				    RD_KAFKA_V_RKT(tp->rkt),
				    RD_KAFKA_V_PARTITION(part),
				    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
				    RD_KAFKA_V_VALUE((void *)value, len),
				    RD_KAFKA_V_KEY(key, keylen),
				    RD_KAFKA_V_HEADERS(hdrs),
				    RD_KAFKA_V_TIMESTAMP(ts_ms),
				    RD_KAFKA_V_OPAQUE(producer_opaque(
				    &s->client, unit)),
				    RD_KAFKA_V_END);
				if (err != 0)
					rd_kafka_headers_destroy(hdrs);
			}
			if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL)
				break;
			sink_wait(s, 100);
		}
		if (err != 0) {
			*cause = sink_send_error(s, t, tp->name, err);
			if (init != small)
				free(init);
			return (-1);
		}
		atomic_fetch_add(&s->inflight, len + keylen +
		    SINK_MSG_OVERHEAD);
		atomic_fetch_add(&s->outstanding, 1);
		(*sent)++;
	}
	if (init != small)
		free(init);
	return (0);
}

/*
 * Wait up to timeout_ms for a report of this sink's, serving the producers
 * here unless the daemon's loop does.
 */
static void
sink_wait(struct sink *s, int timeout_ms)
{
	struct timespec	 ts;

	if (!producer_attached()) {
		pthread_mutex_lock(&s->mtx);
		if (s->nreports > 0)
			timeout_ms = 0;
		pthread_mutex_unlock(&s->mtx);
		producer_serve_wait(timeout_ms);
		return;
	}
	if (timeout_ms <= 0)
		return;
	util_deadline(&ts, timeout_ms);
	pthread_mutex_lock(&s->mtx);
	while (s->nreports == 0) {
		if (pthread_cond_timedwait(&s->cv, &s->mtx, &ts) == ETIMEDOUT)
			break;
	}
	pthread_mutex_unlock(&s->mtx);
}

/* Take this sink's delivery reports, waiting up to timeout_ms for one. */
void
sink_poll(struct sink *s, int timeout_ms)
{
	struct sink_report	*r;
	size_t			 n, i, cap;

	sink_wait(s, timeout_ms);
	pthread_mutex_lock(&s->mtx);
	r = s->reports;
	n = s->nreports;
	cap = s->capreports;
	s->reports = s->taken;
	s->capreports = s->captaken;
	s->nreports = 0;
	pthread_mutex_unlock(&s->mtx);
	s->taken = r;
	s->captaken = cap;
	for (i = 0; i < n; i++)
		s->cb(s->arg, r[i].unit, r[i].err, r[i].err != 0 ?
		    rd_kafka_err2str(r[i].err) : NULL);
}

/* Wait up to timeout_ms for everything sent; -1 if some is still out. */
int
sink_flush(struct sink *s, int timeout_ms)
{
	uint64_t	 deadline = util_mono_us() + (uint64_t)timeout_ms * 1000;

	int		 done;

	for (;;) {
		/* Nothing outstanding: every report is queued, taken here. */
		done = atomic_load(&s->outstanding) == 0;
		sink_poll(s, done ? 0 : 50);
		if (done)
			return (0);
		if (util_mono_us() >= deadline)
			return (-1);
	}
}

size_t
sink_inflight_bytes(const struct sink *s)
{
	return (atomic_load(&s->inflight));
}

/*
 * Why a message could not be sent to topic of target t.  A fatal error of
 * the producer says librdkafka's own reason; the ones retrying cannot
 * help (the brokers refuse the idempotent producer, or an ACL it needs)
 * set s->permanent, with what to do.
 */
static char *
sink_send_error(struct sink *s, struct sink_target *t, const char *topic,
    rd_kafka_resp_err_t err)
{
	rd_kafka_resp_err_t	 ferr;
	char			 reason[512];

	if (err != RD_KAFKA_RESP_ERR__FATAL)
		return (xasprintf("target %s: cannot send to %s: %s", t->name,
		    topic, rd_kafka_err2str(err)));
	ferr = rd_kafka_fatal_error(t->rk, reason, sizeof reason);
	switch (ferr) {
	case RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE:
	case RD_KAFKA_RESP_ERR_UNSUPPORTED_VERSION:
	case RD_KAFKA_RESP_ERR_UNSUPPORTED_FOR_MESSAGE_FORMAT:
		s->permanent = 1;
		return (xasprintf("target %s: the brokers refuse the idempotent "
		    "producer (%s): they are older than Kafka 0.11 while the "
		    "endpoint's --kafka-version says otherwise; run: ferry "
		    "endpoint set %s --kafka-version auto, then ferry job "
		    "retry", t->name, reason, t->name));
	case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
		s->permanent = 1;
		return (xasprintf("target %s: not authorized for idempotent "
		    "writes (%s): brokers before Kafka 2.8 ask for the "
		    "IdempotentWrite ACL on the cluster: kafka-acls.sh --add "
		    "--allow-principal User:%s --operation IdempotentWrite "
		    "--cluster, then ferry job retry", t->name, reason,
		    t->opts.user != NULL ? t->opts.user : "ANONYMOUS"));
	default:
		return (xasprintf("target %s: the producer failed for good (%s, "
		    "%s): a new one takes over at the next attempt", t->name,
		    rd_kafka_err2name(ferr), reason));
	}
}

/* 1 when a failure of the sink cannot pass by itself (see above). */
int
sink_permanent(const struct sink *s)
{
	return (s->permanent);
}

/*
 * The job's identity in its records (the ferry.job header or tag), by
 * which a resume knows its own: the job's id unless identity is given
 * (a job's store-unique identity, which a job removed and made again
 * never shares; jobs from before it keep their id).  Before sink_scan().
 */
void
sink_set_identity(struct sink *s, const char *identity)
{
	if (identity == NULL || strlen(identity) >= sizeof s->job_text)
		return;
	s->job_len = util_strlcpy(s->job_text, identity, sizeof s->job_text);
}

/* The identity (see above). */
const char *
sink_identity(const struct sink *s)
{
	return (s->job_text);
}

/* 1 when every target takes record headers (Kafka 0.11 and later). */
int
sink_headers(const struct sink *s)
{
	size_t	i;

	for (i = 0; i < s->ntargets; i++) {
		if (s->targets[i].legacy)
			return (0);
	}
	return (1);
}

size_t
sink_max_message(const struct sink *s, int topic)
{
	size_t	 m = SIZE_MAX, i;

	for (i = 0; i < s->ntargets; i++) {
		if (s->targets[i].topics[topic].max_message < m)
			m = s->targets[i].topics[topic].max_message;
	}
	return (m);
}
