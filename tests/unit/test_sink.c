/*
 * engine/sink.c and engine/producer.c against librdkafka's mock cluster
 * (fault injection; the real broker is the integration tests'): jobs on
 * one cluster share one producer and each gets exactly its own delivery
 * reports, with its units intact, whether a serving thread (the daemon's
 * loop) or the jobs themselves serve them; transient produce errors are
 * retried without a report lost or doubled; a job that stops while its
 * cluster is down does not wait forever, the shared producer drops what
 * it holds (the other job is told) and the next job gets a new producer.
 * Every Kafka handle is configured not to push client metrics (librdkafka
 * waits up to a second for the last push when a handle is destroyed).
 */
#include "config.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "common/util.h"
#include "common/xmalloc.h"
#include "engine/kafka_client.h"
#include "engine/producer.h"
#include "engine/sink.h"
#include "tests/lib/testutil.h"

#define NMSG	2000
#define APIKEY_PRODUCE	0	/* the Kafka protocol's Produce request */

struct mock {
	rd_kafka_t		*rk;
	rd_kafka_mock_cluster_t	*mc;
	char			*bootstraps;
};

/* What one job was told. */
struct reports {
	uint64_t	 base;		/* its units: base + 0 .. NMSG - 1 */
	int		 seen[NMSG];
	int		 errors;
	int		 foreign;	/* a unit that is not its own */
	int		 total;
};

static void
mock_start(struct mock *m, int brokers)
{
	rd_kafka_conf_t	*conf = rd_kafka_conf_new();
	char		 errstr[256];

	rd_kafka_conf_set(conf, "log_level", "0", errstr, sizeof errstr);
	m->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
	ck_assert_msg(m->rk != NULL, "%s", errstr);
	m->mc = rd_kafka_mock_cluster_new(m->rk, brokers);
	ck_assert_ptr_nonnull(m->mc);
	ck_assert_int_eq(rd_kafka_mock_topic_create(m->mc, "t", 2, 1), 0);
	m->bootstraps = xstrdup(rd_kafka_mock_cluster_bootstraps(m->mc));
}

static void
mock_stop(struct mock *m)
{
	rd_kafka_mock_cluster_destroy(m->mc);
	rd_kafka_destroy(m->rk);
	free(m->bootstraps);
}

static void
delivered(void *arg, uint64_t unit, int err, const char *reason)
{
	struct reports	*r = arg;

	(void)reason;
	r->total++;
	if (err != 0) {
		r->errors++;
		return;
	}
	if (unit < r->base || unit - r->base >= NMSG) {
		r->foreign++;
		return;
	}
	r->seen[unit - r->base]++;
}

static struct sink *
sink_ok(const struct mock *m, int64_t job, struct reports *r, int *topic)
{
	struct sink_target_opts	 t;
	struct sink		*s;
	char			*cause = NULL;

	memset(&t, 0, sizeof t);
	t.name = "k";
	kafka_client_opts_init(&t.kafka);
	t.kafka.brokers = m->bootstraps;
	s = sink_new(job, &t, 1, delivered, NULL, r, &cause);
	ck_assert_msg(s != NULL, "sink_new: %s", cause);
	*topic = sink_topic(s, "t", &cause);
	ck_assert_msg(*topic >= 0, "sink_topic: %s", cause);
	return (s);
}

/* NMSG messages of units base.., ids 1.., keyed over both partitions. */
static void
produce_all(struct sink *s, int topic, uint64_t base)
{
	char	 value[300], *cause = NULL;
	size_t	 sent;
	int	 i;

	memset(value, 'v', sizeof value);
	for (i = 0; i < NMSG; i++) {
		ck_assert_msg(sink_produce(s, topic, (uint32_t)i, 1, UINT32_MAX,
		    NULL, "k", 1, value, sizeof value, i + 1, 0, base +
		    (uint64_t)i, &sent, &cause) == 0, "sink_produce: %s", cause);
		ck_assert_uint_eq(sent, 1);
		if (i % 256 == 0)
			sink_poll(s, 0);
	}
}

static void
expect_all(struct sink *s, struct reports *r)
{
	int	 i;

	ck_assert_int_eq(sink_flush(s, 30000), 0);
	ck_assert_int_eq(r->errors, 0);
	ck_assert_int_eq(r->foreign, 0);
	ck_assert_int_eq(r->total, NMSG);
	for (i = 0; i < NMSG; i++)
		ck_assert_msg(r->seen[i] == 1, "unit %d reported %d times",
		    i, r->seen[i]);
	ck_assert_uint_eq(sink_inflight_bytes(s), 0);
}

/* The daemon's loop, as far as Kafka goes. */
static atomic_int	 serving;

static void *
server(void *arg)
{
	(void)arg;
	while (atomic_load(&serving))
		producer_serve_wait(100);
	return (NULL);
}

struct job {
	const struct mock	*m;
	int64_t			 id;
	struct reports		*r;
};

static void *
job_main(void *arg)
{
	struct job	*j = arg;
	struct sink	*s;
	int		 topic;

	s = sink_ok(j->m, j->id, j->r, &topic);
	produce_all(s, topic, j->r->base);
	expect_all(s, j->r);
	sink_free(s);
	return (NULL);
}

/* Two jobs at once on one cluster, reports served by the "loop". */
static void
two_jobs(int attached, int faults)
{
	struct mock	 m;
	struct reports	*r1 = xcalloc(1, sizeof *r1);
	struct reports	*r2 = xcalloc(1, sizeof *r2);
	struct job	 j1, j2;
	pthread_t	 t1, t2, srv;

	mock_start(&m, faults ? 3 : 1);
	if (faults) {
		/* Leader moves and timeouts: the idempotent producer
		 * retries, and every report still comes exactly once. */
		rd_kafka_mock_push_request_errors(m.mc, APIKEY_PRODUCE, 6,
		    RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
		    RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
		    RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
		    RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
		    RD_KAFKA_RESP_ERR__TRANSPORT,
		    RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND);
	}
	if (attached) {
		producer_attach();
		atomic_store(&serving, 1);
		ck_assert_int_eq(pthread_create(&srv, NULL, server, NULL), 0);
	}
	r1->base = 1;
	r2->base = SINK_UNIT_MAX - NMSG + 1;	/* the top of the range */
	j1 = (struct job){ &m, 1, r1 };
	j2 = (struct job){ &m, 2, r2 };
	ck_assert_int_eq(pthread_create(&t1, NULL, job_main, &j1), 0);
	ck_assert_int_eq(pthread_create(&t2, NULL, job_main, &j2), 0);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	if (attached) {
		atomic_store(&serving, 0);
		pthread_join(srv, NULL);
	}
	free(r1);
	free(r2);
	mock_stop(&m);
}

START_TEST(test_shared_one_producer)
{
	struct kafka_client_opts	 a, b;
	struct producer			*p1, *p2, *p3;
	struct mock			 m;
	char				*cause = NULL, user[] = "someone else";
	char				 password[] = "x";

	mock_start(&m, 1);
	kafka_client_opts_init(&a);
	a.brokers = m.bootstraps;
	b = a;
	b.user = user;
	b.sasl = KAFKA_SASL_PLAIN;
	b.password = password;
	p1 = producer_get(&a, 0, &cause);
	p2 = producer_get(&a, 0, &cause);
	p3 = producer_get(&b, 0, &cause);
	ck_assert_ptr_nonnull(p1);
	ck_assert_ptr_nonnull(p3);
	ck_assert_ptr_eq(p1, p2);		/* one per cluster */
	ck_assert_ptr_ne(p1, p3);		/* other credentials: another */
	ck_assert_ptr_eq(producer_handle(p1), producer_handle(p2));
	producer_put(p1);
	producer_put(p2);
	producer_put(p3);
	mock_stop(&m);
}
END_TEST

START_TEST(test_reports_self_served)
{
	two_jobs(0, 0);
}
END_TEST

START_TEST(test_reports_loop_served)
{
	two_jobs(1, 0);
}
END_TEST

START_TEST(test_reports_through_faults)
{
	two_jobs(1, 1);
}
END_TEST

START_TEST(test_stop_while_cluster_down)
{
	struct kafka_client_opts	 o;
	struct producer			*before, *after;
	struct reports			*r1 = xcalloc(1, sizeof *r1);
	struct reports			*r2 = xcalloc(1, sizeof *r2);
	struct sink			*s1, *s2;
	struct mock			 m;
	uint64_t			 t0, ms;
	char				*cause = NULL;
	int				 topic1, topic2;

	mock_start(&m, 1);
	kafka_client_opts_init(&o);
	o.brokers = m.bootstraps;
	before = producer_get(&o, 0, &cause);
	ck_assert_ptr_nonnull(before);
	r1->base = 1;
	r2->base = 1;
	s1 = sink_ok(&m, 1, r1, &topic1);
	s2 = sink_ok(&m, 2, r2, &topic2);
	rd_kafka_mock_broker_set_down(m.mc, 1);
	produce_all(s1, topic1, 1);
	produce_all(s2, topic2, 1);
	ck_assert_int_eq(sink_flush(s1, 500), -1);	/* nothing goes */

	/* Job 1 stops: it waits a while, then its producer drops all. */
	t0 = util_mono_us();
	sink_free(s1);
	ms = (util_mono_us() - t0) / 1000;
	ck_assert_msg(ms >= 1500 && ms < 10000, "stop took %llu ms",
	    (unsigned long long)ms);

	/* Job 2 is told that its messages were not delivered... */
	ck_assert_int_eq(sink_flush(s2, 10000), 0);
	ck_assert_int_eq(r2->errors, NMSG);
	ck_assert_uint_eq(sink_inflight_bytes(s2), 0);
	sink_free(s2);

	/* ...and the next job gets a new producer. */
	after = producer_get(&o, 0, &cause);
	ck_assert_ptr_nonnull(after);
	ck_assert_ptr_ne(after, before);
	producer_put(after);
	producer_put(before);
	free(r1);
	free(r2);
	mock_stop(&m);
}
END_TEST

/*
 * The tail of a partition read back on resume: the last INIT record's
 * generation, key and table, from ferry.init ("<gen>/<hex key>/<table>",
 * the table free to hold '/'), and from the three headers earlier builds
 * wrote (a partition written before an upgrade).
 */
START_TEST(test_tail_init_headers)
{
	static const uint8_t	 key[] = { 0x00, 0x2f, 0x80, 0xff };
	struct sink_meta	 meta;
	struct reports		*r = xcalloc(1, sizeof *r);
	struct sink		*s;
	struct mock		 m;
	rd_kafka_headers_t	*h;
	rd_kafka_t		*old;
	rd_kafka_conf_t		*conf;
	const uint8_t		*k;
	const char		*tbl;
	char			 errstr[256], v[] = "v", *cause = NULL;
	size_t			 sent, klen;
	int64_t			 max_id;
	int			 topic, gen;

	mock_start(&m, 1);
	r->base = 1;

	/* Partition 0, as an earlier build wrote it: id 7 of job 5. */
	conf = rd_kafka_conf_new();
	rd_kafka_conf_set(conf, "bootstrap.servers", m.bootstraps, errstr,
	    sizeof errstr);
	old = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
	ck_assert_msg(old != NULL, "%s", errstr);
	h = rd_kafka_headers_new(5);
	rd_kafka_header_add(h, "ferry.job", -1, "5", -1);
	rd_kafka_header_add(h, "ferry.id", -1, "7", -1);
	rd_kafka_header_add(h, "ferry.tbl", -1, "db.old", -1);
	rd_kafka_header_add(h, "ferry.gen", -1, "3", -1);
	rd_kafka_header_add(h, "ferry.key", -1, "0a0B", -1);
	ck_assert_int_eq(rd_kafka_producev(old, RD_KAFKA_V_TOPIC("t"),
	    RD_KAFKA_V_PARTITION(0), RD_KAFKA_V_VALUE(v, 1),
	    RD_KAFKA_V_HEADERS(h), RD_KAFKA_V_END), 0);
	ck_assert_int_eq(rd_kafka_flush(old, 10000), 0);
	rd_kafka_destroy(old);

	/* Partition 1, as this build writes it: id 9, then another job's
	 * record, which the scan steps over. */
	s = sink_ok(&m, 5, r, &topic);
	meta.tbl = "db.a/b";
	meta.tbllen = strlen(meta.tbl);
	meta.gen = 12;
	meta.key = key;
	meta.keylen = sizeof key;
	ck_assert_msg(sink_produce(s, topic, 1, 1, UINT32_MAX, &meta, "k", 1,
	    "v", 1, 9, 0, 1, &sent, &cause) == 0, "sink_produce: %s", cause);
	ck_assert_int_eq(sink_flush(s, 10000), 0);
	sink_free(s);
	s = sink_ok(&m, 6, r, &topic);
	ck_assert_int_eq(sink_produce(s, topic, 1, 1, UINT32_MAX, NULL, "k", 1,
	    "v", 1, 100, 0, 2, &sent, &cause), 0);
	ck_assert_int_eq(sink_flush(s, 10000), 0);
	sink_free(s);

	/* Job 5 restarts. */
	s = sink_ok(&m, 5, r, &topic);
	ck_assert_msg(sink_scan(s, &max_id, &cause) == 0, "sink_scan: %s",
	    cause);
	ck_assert_int_eq(max_id, 9);
	ck_assert_int_eq(sink_tail_init(s, topic, 0, 0, &tbl, &gen, &k, &klen),
	    1);
	ck_assert_str_eq(tbl, "db.old");
	ck_assert_int_eq(gen, 3);
	ck_assert_uint_eq(klen, 2);
	ck_assert_int_eq(k[0], 0x0a);
	ck_assert_int_eq(k[1], 0x0b);
	ck_assert_int_eq(sink_tail_init(s, topic, 0, 1, &tbl, &gen, &k, &klen),
	    1);
	ck_assert_str_eq(tbl, "db.a/b");
	ck_assert_int_eq(gen, 12);
	ck_assert_uint_eq(klen, sizeof key);
	ck_assert_mem_eq(k, key, sizeof key);
	sink_free(s);
	free(r);
	mock_stop(&m);
}
END_TEST

static void *
leader_elected(void *arg)
{
	struct mock	*m = arg;

	usleep(1000 * 1000);
	rd_kafka_mock_partition_set_leader(m->mc, "fresh", 1, 1);
	return (NULL);
}

/*
 * A topic just made has no leader for a moment (a partition's leader is
 * -1, LEADER_NOT_AVAILABLE, in its metadata): the sink waits for one instead of calling the topic
 * missing, which failed a job started right after its topic was created
 * for good.  One that keeps no leader is a transient failure that says
 * so, never "does not exist".
 */
START_TEST(test_topic_leader_not_yet)
{
	struct sink_target_opts	 t;
	struct reports		 r;
	struct mock		 m;
	struct sink		*s;
	pthread_t		 th;
	char			*cause = NULL;

	mock_start(&m, 1);
	ck_assert_int_eq(rd_kafka_mock_topic_create(m.mc, "fresh", 2, 1), 0);
	ck_assert_int_eq(rd_kafka_mock_topic_create(m.mc, "stuck", 1, 1), 0);
	ck_assert_int_eq(rd_kafka_mock_partition_set_leader(m.mc, "fresh", 1,
	    -1), 0);
	ck_assert_int_eq(rd_kafka_mock_partition_set_leader(m.mc, "stuck", 0,
	    -1), 0);
	memset(&r, 0, sizeof r);
	memset(&t, 0, sizeof t);
	t.name = "k";
	kafka_client_opts_init(&t.kafka);
	t.kafka.brokers = m.bootstraps;
	s = sink_new(7, &t, 1, delivered, NULL, &r, &cause);
	ck_assert_msg(s != NULL, "sink_new: %s", cause);
	ck_assert_int_eq(pthread_create(&th, NULL, leader_elected, &m), 0);
	ck_assert_msg(sink_topic(s, "fresh", &cause) >= 0, "sink_topic: %s",
	    cause);
	ck_assert_int_eq(pthread_join(th, NULL), 0);
	ck_assert_int_eq(sink_partitions(s, 0, 0), 2);
	ck_assert_int_lt(sink_topic(s, "stuck", &cause), 0);
	ck_assert_msg(strstr(cause, "without a leader") != NULL &&
	    strstr(cause, "does not exist") == NULL, "cause: %s", cause);
	free(cause);
	sink_free(s);
	mock_stop(&m);
}
END_TEST

/*
 * kafka_client_conf() turns KIP-714's metrics push off: with it on, every
 * job start (its tail reader is destroyed) and every stop waited up to a
 * second.  A librdkafka before 2.5 has no such property and nothing to
 * turn off.
 */
START_TEST(test_no_metrics_push)
{
	struct kafka_client_opts o;
	rd_kafka_conf_t		*conf;
	char			*cause = NULL, v[16];
	size_t			 vlen = sizeof v;
	rd_kafka_conf_res_t	 res;

	kafka_client_opts_init(&o);
	o.brokers = xstrdup("127.0.0.1:9");
	conf = kafka_client_conf(&o, &cause);
	ck_assert_msg(conf != NULL, "%s", cause);
	res = rd_kafka_conf_get(conf, "enable.metrics.push", v, &vlen);
	if (rd_kafka_version() >= 0x020500ff)
		ck_assert_int_eq(res, RD_KAFKA_CONF_OK);
	if (res == RD_KAFKA_CONF_OK)
		ck_assert_str_eq(v, "false");
	rd_kafka_conf_destroy(conf);
	kafka_client_opts_release(&o);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("sink");
	TCase	*tc = tcase_create("sink");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_shared_one_producer);
	tcase_add_test(tc, test_reports_self_served);
	tcase_add_test(tc, test_reports_loop_served);
	tcase_add_test(tc, test_reports_through_faults);
	tcase_add_test(tc, test_stop_while_cluster_down);
	tcase_add_test(tc, test_tail_init_headers);
	tcase_add_test(tc, test_no_metrics_push);
	tcase_add_test(tc, test_topic_leader_not_yet);
	suite_add_tcase(s, tc);
	return (testutil_run(s));
}
