/*
 * The precheck's Kafka side, for each target of the job: reachable and
 * authenticated, the broker's version, each topic the job writes (exists,
 * a leader for every partition, its max.message.bytes against the largest
 * record the tables can make, write permission where the broker tells),
 * and no two targets writing the same topic of the same cluster.
 *
 * Topics are listed, never asked for by name: a broker with
 * auto.create.topics.enable would make a missing topic on the spot.
 */
#include "config.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#include "common/buf.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "engine/kafka_client.h"
#include "engine/netpolicy.h"
#include "engine/precheck.h"
#include "engine/route.h"

#define PK_TIMEOUT_MS		10000
#define PK_LEADER_WAIT_MS	5000	/* a topic being made gets leaders */
#define PK_DEFAULT_LIMIT	1048588	/* Kafka's max.message.bytes */

/* A topic of the job and the largest record its tables can make. */
struct pk_topic {
	char		*name;
	uint64_t	 record_max;
	const char	*widest;	/* db.table of that record */
	char		*widest_buf;
};

/* The largest record a table's change can make: an UPDATE carries both
 * images, each column with its name, type and charset around it. */
static uint64_t
pk_record_max(const struct precheck_table *t)
{
	if (t->row_max > UINT64_MAX / 4)
		return (UINT64_MAX / 2);
	return (2 * t->row_max + 64 * (uint64_t)t->ncols + 512);
}

static void
pk_topic_add(struct pk_topic **tp, size_t *n, const char *name,
    const struct precheck_table *t)
{
	struct pk_topic	*p = NULL;
	uint64_t	 r;
	size_t		 i;

	for (i = 0; i < *n; i++) {
		if (strcmp((*tp)[i].name, name) == 0)
			p = &(*tp)[i];
	}
	if (p == NULL) {
		*tp = xreallocarray(*tp, *n + 1, sizeof **tp);
		p = &(*tp)[(*n)++];
		memset(p, 0, sizeof *p);
		p->name = xstrdup(name);
	}
	if (t != NULL && (r = pk_record_max(t)) > p->record_max) {
		p->record_max = r;
		free(p->widest_buf);
		p->widest_buf = xasprintf("%s.%s", t->db, t->name);
		p->widest = p->widest_buf;
	}
}

/* The job's topics: its one topic, or the template's for each table. */
static struct pk_topic *
pk_topics(const struct job_spec *spec, const struct precheck_table *t,
    size_t nt, size_t *n)
{
	struct pk_topic	*tp = NULL;
	struct buf	 b = BUF_INITIALIZER;
	size_t		 i;

	*n = 0;
	if (spec->topic != NULL)
		pk_topic_add(&tp, n, spec->topic, NULL);
	for (i = 0; i < nt; i++) {
		if (spec->topic_template != NULL) {
			route_topic_name(spec->topic_template, t[i].db,
			    t[i].name, &b);
			buf_addc(&b, '\0');
			pk_topic_add(&tp, n, (const char *)b.data, &t[i]);
		} else if (spec->topic != NULL)
			pk_topic_add(&tp, n, spec->topic, &t[i]);
	}
	buf_release(&b);
	return (tp);
}

static void
pk_topics_free(struct pk_topic *tp, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		free(tp[i].name);
		free(tp[i].widest_buf);
	}
	free(tp);
}

/* Which Kafka the broker is, from the newest Produce version it speaks
 * (Kafka's protocol: v2 0.10, v3 0.11, v5 1.0, v6 2.0, v7 2.1). */
static void
pk_version(struct precheck *pc, const char *item,
    const struct sink_target_opts *t, rd_kafka_t *rk)
{
	int		 v = kafka_client_produce_version(rk);
	const char	*kafka;

	if (v < 0) {
		precheck_add(pc, PRECHECK_PASS, item, NULL, "not asked (the "
		    "endpoint says Kafka %s): the broker's API versions are "
		    "taken as that release's", t->kafka.version != NULL ?
		    t->kafka.version : "?");
		return;
	}
	kafka = v <= 2 ? "0.10" : v <= 4 ? "0.11" : v == 5 ? "1.x" :
	    v == 6 ? "2.0" : "2.1 or later";
	if (v < KAFKA_PRODUCE_HEADERS)
		precheck_add(pc, PRECHECK_WARN, item, "upgrade the brokers to "
		    "Kafka 0.11 or later for the idempotent producer", "Kafka "
		    "%s (Produce v%d): no record headers and no idempotent "
		    "producer; ferry sends one request at a time and resumes "
		    "by the records' own ids and tags, but a request whose "
		    "answer is lost and that is sent again can write a record "
		    "twice, adjacent, with the same id", kafka, v);
	else
		precheck_add(pc, PRECHECK_PASS, item, NULL, "Kafka %s (Produce "
		    "requests up to v%d)", kafka, v);
}

/* The endpoint's codec against what the brokers take: zstd came with
 * Produce v7 (Kafka 2.1); the others every version ferry supports. */
static void
pk_compression(struct precheck *pc, const struct sink_target_opts *t, int v)
{
	const char	*codec = t->kafka.compression != NULL ?
			    t->kafka.compression : "none";
	char		*item, *fix;

	item = xasprintf("target.compression %s", t->name);
	if (strcmp(codec, "zstd") == 0 && v >= 0 && v < KAFKA_PRODUCE_ZSTD) {
		fix = xasprintf("ferry endpoint set %s --compression lz4 (or "
		    "gzip, snappy)", t->name);
		precheck_add(pc, PRECHECK_FAIL, item, fix, "zstd, which these "
		    "brokers do not take (Produce v%d: Kafka 2.1 and later "
		    "do)", v);
		free(fix);
	} else
		precheck_add(pc, PRECHECK_PASS, item, NULL, "%s", codec);
	free(item);
}

/* The topic's metadata in md, or NULL. */
static const struct rd_kafka_metadata_topic *
pk_find(const struct rd_kafka_metadata *md, const char *name)
{
	int	i;

	for (i = 0; md != NULL && i < md->topic_cnt; i++) {
		if (strcmp(md->topics[i].topic, name) == 0)
			return (&md->topics[i]);
	}
	return (NULL);
}

/*
 * Every topic of the cluster, waiting a little (PK_LEADER_WAIT_MS) while
 * one of the job's topics is missing or lacks a leader, as one just made
 * may: NULL with *cause.
 */
static const struct rd_kafka_metadata *
pk_metadata(rd_kafka_t *rk, const struct pk_topic *tp, size_t n,
    char **cause)
{
	const struct rd_kafka_metadata		*md = NULL;
	const struct rd_kafka_metadata_topic	*t;
	rd_kafka_resp_err_t			 err;
	uint64_t				 end;
	size_t					 i;
	int					 waiting;

	end = util_mono_us() + PK_LEADER_WAIT_MS * 1000ULL;
	for (;;) {
		err = rd_kafka_metadata(rk, 1, NULL, &md, PK_TIMEOUT_MS);
		if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
			*cause = xasprintf("the cluster did not list its "
			    "topics: %s", rd_kafka_err2str(err));
			return (NULL);
		}
		/* A topic just made may not be listed yet (a ZooKeeper-mode
		 * broker learns of it from its controller), or listed
		 * without leaders. */
		for (i = 0, waiting = 0; i < n; i++) {
			t = pk_find(md, tp[i].name);
			if (t == NULL || t->err != 0 ||
			    kafka_client_leaderless(t) > 0)
				waiting = 1;
		}
		if (!waiting || util_mono_us() >= end)
			return (md);
		rd_kafka_metadata_destroy(md);
		usleep(250 * 1000);
	}
}

/* max.message.bytes against the largest record of the topic's tables. */
static void
pk_message_size(struct precheck *pc, const char *target, rd_kafka_t *rk,
    const struct sink_target_opts *t, const struct pk_topic *tp)
{
	char		*item, *v = NULL, *why = NULL, *fix;
	uint64_t	 limit = PK_DEFAULT_LIMIT;
	int		 told;

	item = xasprintf("target.max_message_bytes %s/%s", target, tp->name);
	told = t->kafka.version != NULL && strncmp(t->kafka.version, "0.10",
	    4) == 0 ? 0 : kafka_client_topic_config(rk, tp->name,
	    "max.message.bytes", &v, &why) == 0;
	if (told)
		limit = strtoull(v, NULL, 10);
	if (tp->widest == NULL)
		precheck_add(pc, PRECHECK_PASS, item, NULL, "max.message.bytes "
		    "= %" PRIu64 "%s; no table of the job writes to it",
		    limit, told ? "" : " (Kafka's default: the broker does not "
		    "describe topics)");
	else if (tp->record_max > limit) {
		fix = xasprintf("kafka-configs.sh --bootstrap-server %s "
		    "--alter --entity-type topics --entity-name %s "
		    "--add-config max.message.bytes=%" PRIu64 " (or create "
		    "the job with --large-row skip to leave such records "
		    "out)", t->kafka.brokers, tp->name,
		    tp->record_max > (uint64_t)64 * 1024 * 1024 ?
		    (uint64_t)64 * 1024 * 1024 : tp->record_max);
		precheck_add(pc, PRECHECK_WARN, item, fix, "max.message.bytes "
		    "= %" PRIu64 "%s, and a change of %s can make a record of "
		    "up to %" PRIu64 " bytes: a larger one fails the job",
		    limit, told ? "" : " (Kafka's default: the broker does not "
		    "describe topics)", tp->widest, tp->record_max);
		free(fix);
	} else
		precheck_add(pc, PRECHECK_PASS, item, NULL, "max.message.bytes "
		    "= %" PRIu64 " takes the largest record the tables can "
		    "make (%" PRIu64 " bytes)", limit, tp->record_max);
	free(v);
	free(why);
	free(item);
}

/* Write permission, where the broker lists the caller's operations
 * (Kafka 2.3 and later, with an authorizer). */
static void
pk_write(struct precheck *pc, const char *target, rd_kafka_t *rk,
    const char *topic, const char *user)
{
	char	*item = xasprintf("target.write %s/%s", target, topic);
#if RD_KAFKA_VERSION >= 0x020300ff
	const rd_kafka_DescribeTopics_result_t	*res;
	const rd_kafka_TopicDescription_t	**td;
	const rd_kafka_AclOperation_t		*ops;
	rd_kafka_TopicCollection_t		*tc;
	rd_kafka_AdminOptions_t			*ao;
	rd_kafka_queue_t			*q;
	rd_kafka_event_t			*ev;
	rd_kafka_error_t			*e;
	const char				*names[1];
	char					 errstr[256], *fix;
	size_t					 n = 0, nops = 0, i;
	int					 told = 0, may = 0;

	names[0] = topic;
	q = rd_kafka_queue_new(rk);
	ao = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_DESCRIBETOPICS);
	rd_kafka_AdminOptions_set_request_timeout(ao, PK_TIMEOUT_MS, errstr,
	    sizeof errstr);
	if ((e = rd_kafka_AdminOptions_set_include_authorized_operations(ao,
	    1)) != NULL)
		rd_kafka_error_destroy(e);
	tc = rd_kafka_TopicCollection_of_topic_names(names, 1);
	rd_kafka_DescribeTopics(rk, tc, ao, q);
	ev = rd_kafka_queue_poll(q, PK_TIMEOUT_MS + 5000);
	if (ev != NULL && rd_kafka_event_error(ev) == 0 &&
	    (res = rd_kafka_event_DescribeTopics_result(ev)) != NULL &&
	    (td = rd_kafka_DescribeTopics_result_topics(res, &n)) != NULL &&
	    n == 1 && rd_kafka_error_code(rd_kafka_TopicDescription_error(
	    td[0])) == 0 && (ops = rd_kafka_TopicDescription_authorized_operations(
	    td[0], &nops)) != NULL && nops > 0) {
		told = 1;
		for (i = 0; i < nops; i++)
			may |= ops[i] == RD_KAFKA_ACL_OPERATION_WRITE ||
			    ops[i] == RD_KAFKA_ACL_OPERATION_ALL;
	}
	if (ev != NULL)
		rd_kafka_event_destroy(ev);
	rd_kafka_TopicCollection_destroy(tc);
	rd_kafka_AdminOptions_destroy(ao);
	rd_kafka_queue_destroy(q);
	if (told && !may) {
		fix = xasprintf("kafka-acls.sh --bootstrap-server BROKER "
		    "--add --allow-principal User:%s --operation Write "
		    "--topic %s", user != NULL ? user : "ANONYMOUS", topic);
		precheck_add(pc, PRECHECK_FAIL, item, fix, "the broker says "
		    "%s may not write to %s", user != NULL ? user :
		    "this client", topic);
		free(fix);
	} else if (told)
		precheck_add(pc, PRECHECK_PASS, item, NULL, "the broker says "
		    "%s may write to it", user != NULL ? user : "this client");
	else
#else
	(void)rk;
	(void)user;
#endif
		precheck_add(pc, PRECHECK_PASS, item, NULL, "the broker does "
		    "not list permissions (no authorizer, or before Kafka "
		    "2.3): the first write will tell");
	free(item);
}

/* One topic on one target: exists, leaders, partitions, sizes, rights. */
static void
pk_topic(struct precheck *pc, const char *target, rd_kafka_t *rk,
    const struct sink_target_opts *t, const struct rd_kafka_metadata *md,
    const struct pk_topic *tp)
{
	const struct rd_kafka_metadata_topic	*mt = pk_find(md, tp->name);
	char					*item, *fix;
	int					 nl;

	item = xasprintf("target.topic %s/%s", target, tp->name);
	if (mt == NULL || mt->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
		fix = xasprintf("kafka-topics.sh --bootstrap-server %s "
		    "--create --topic %s --partitions N (ferry does not "
		    "create topics; ferry endpoint topics %s lists those "
		    "there are)", t->kafka.brokers, tp->name, target);
		precheck_add(pc, PRECHECK_FAIL, item, fix, "topic %s does not "
		    "exist on %s", tp->name, t->kafka.brokers);
		free(fix);
		free(item);
		return;
	}
	if (mt->err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED) {
		fix = xasprintf("kafka-acls.sh --bootstrap-server %s --add "
		    "--allow-principal User:%s --operation Describe "
		    "--operation Write --topic %s", t->kafka.brokers,
		    t->kafka.user != NULL ? t->kafka.user : "ANONYMOUS",
		    tp->name);
		precheck_add(pc, PRECHECK_FAIL, item, fix, "not authorized to "
		    "see topic %s", tp->name);
		free(fix);
		free(item);
		return;
	}
	nl = mt->err != 0 ? mt->partition_cnt : kafka_client_leaderless(mt);
	if (mt->partition_cnt == 0 || nl > 0)
		precheck_add(pc, PRECHECK_FAIL, item, "wait for the cluster "
		    "to elect leaders (kafka-topics.sh --describe shows them), "
		    "or bring the brokers that hold the partitions back",
		    "%d partition%s, %d without a leader after %d s%s%s",
		    mt->partition_cnt, mt->partition_cnt == 1 ? "" : "s", nl,
		    PK_LEADER_WAIT_MS / 1000, mt->err != 0 ? ": " : "",
		    mt->err != 0 ? rd_kafka_err2str(mt->err) : "");
	else
		precheck_add(pc, PRECHECK_PASS, item, NULL, "%d partition%s, "
		    "%s a leader", mt->partition_cnt, mt->partition_cnt == 1 ?
		    "" : "s", mt->partition_cnt == 1 ? "with" : "each with");
	free(item);
	if (mt->partition_cnt > 0 && nl == 0) {
		pk_message_size(pc, target, rk, t, tp);
		pk_write(pc, target, rk, tp->name, t->kafka.user);
	}
}

/* Two targets of the job on one cluster and topic: every record twice. */
static void
pk_distinct(struct precheck *pc, const struct job_spec *spec, char **ids,
    const struct pk_topic *tp, size_t ntp)
{
	struct buf	 b = BUF_INITIALIZER;
	const char	*cid = NULL;
	char		*cl;
	size_t		 i, k;
	int		 same;

	if (spec->ntargets < 2)
		return;
	for (i = 0; i < spec->ntargets; i++) {
		for (k = i + 1; k < spec->ntargets; k++) {
			same = ids[i] != NULL && ids[k] != NULL ?
			    strcmp(ids[i], ids[k]) == 0 :
			    strcmp(spec->targets[i].kafka.brokers,
			    spec->targets[k].kafka.brokers) == 0;
			if (!same)
				continue;
			buf_printf(&b, "%s%s and %s", b.len > 0 ? "; " : "",
			    spec->targets[i].name, spec->targets[k].name);
			if (cid == NULL)
				cid = ids[i];
		}
	}
	if (b.len == 0) {
		precheck_add(pc, PRECHECK_PASS, "targets.distinct", NULL,
		    "the job's %zu targets are different clusters",
		    spec->ntargets);
		return;
	}
	cl = cid != NULL ? xasprintf(" (cluster id %s)", cid) : xstrdup("");
	precheck_add(pc, PRECHECK_FAIL, "targets.distinct", "give the job one "
	    "target per cluster: ferry job create ... --target EP once, or "
	    "targets of different clusters", "targets %.*s are the same Kafka "
	    "cluster%s: each record would be written to %s twice", (int)b.len,
	    (const char *)b.data, cl, ntp == 1 ? tp[0].name : "its topic");
	free(cl);
	buf_release(&b);
}

void
precheck_targets(const struct job_spec *spec, const struct precheck_table *t,
    size_t nt, struct precheck *pc)
{
	const struct rd_kafka_metadata	*md;
	const struct sink_target_opts	*tg;
	struct pk_topic			*tp;
	rd_kafka_conf_t			*conf;
	rd_kafka_t			*rk;
	char				*item, *cause, **ids;
	size_t				 ntp, i, k;
	int				 transient;

	tp = pk_topics(spec, t, nt, &ntp);
	ids = xcalloc(spec->ntargets + 1, sizeof *ids);
	for (i = 0; i < spec->ntargets; i++) {
		tg = &spec->targets[i];
		cause = NULL;
		item = xasprintf("target.connect %s", tg->name);
		rk = NULL;
		if ((conf = kafka_client_conf(&tg->kafka, &cause)) == NULL ||
		    kafka_client_set(conf, "debug", "protocol,feature", &cause) != 0 ||
		    (rk = kafka_client_new(RD_KAFKA_PRODUCER, conf, &tg->kafka,
		    NULL, &cause)) == NULL ||
		    kafka_client_check(rk, PK_TIMEOUT_MS, &cause) != 0) {
			transient = strstr(cause, "uthenticat") == NULL &&
			    strstr(cause, NETPOLICY_WORDS) == NULL;
			precheck_add(pc, PRECHECK_FAIL, item, transient ?
			    "start the brokers, or correct the endpoint's "
			    "address: ferry endpoint set NAME --kafka BROKERS" :
			    "correct the user, the password or the mechanism: "
			    "ferry endpoint set NAME --password-file FILE "
			    "(--sasl MECH)", "%s", cause);
			pc->items[pc->n - 1].transient = transient;
			free(cause);
			free(item);
			if (rk != NULL)
				kafka_client_destroy(rk);
			continue;
		}
		ids[i] = rd_kafka_clusterid(rk, PK_TIMEOUT_MS);
		precheck_add(pc, PRECHECK_PASS, item, NULL, "%s answered%s%s%s",
		    tg->kafka.brokers, ids[i] != NULL ? " (cluster id " : "",
		    ids[i] != NULL ? ids[i] : "", ids[i] != NULL ? ")" : "");
		free(item);
		item = xasprintf("target.version %s", tg->name);
		pk_version(pc, item, tg, rk);
		free(item);
		pk_compression(pc, tg, kafka_client_produce_version(rk));
		cause = NULL;
		if ((md = pk_metadata(rk, tp, ntp, &cause)) == NULL) {
			item = xasprintf("target.topic %s", tg->name);
			precheck_add(pc, PRECHECK_FAIL, item, "check the "
			    "brokers' logs", "%s", cause);
			pc->items[pc->n - 1].transient = 1;
			free(item);
			free(cause);
		} else {
			for (k = 0; k < ntp; k++)
				pk_topic(pc, tg->name, rk, tg, md, &tp[k]);
			rd_kafka_metadata_destroy(md);
		}
		kafka_client_destroy(rk);
	}
	pk_distinct(pc, spec, ids, tp, ntp);
	for (i = 0; i < spec->ntargets; i++)
		if (ids[i] != NULL)
			rd_kafka_mem_free(NULL, ids[i]);
	free(ids);
	pk_topics_free(tp, ntp);
}
