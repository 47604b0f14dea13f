/*
 * The sandbox Kafka, through ferry's client configuration: 1,000 messages
 * produced (idempotent, acks=all) to a new topic and read back in order,
 * over PLAINTEXT and over SASL with SCRAM-SHA-256 and SCRAM-SHA-512; a wrong
 * SCRAM password and an address with no broker give clear errors.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "engine/kafka_client.h"
#include "tests/lib/testutil.h"

#define NMSG	1000

struct delivery {
	int	 ok;
	int	 failed;
	int	 next;		/* the index the next report must carry */
	int	 out_of_order;
	char	 first_error[256];
};

/* Runs on the thread that calls rd_kafka_poll()/flush(): this one. */
static void
dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	struct delivery	*d = kafka_client_arg(rk);
	int		 idx = (int)(long)m->_private;

	if (m->err != 0) {
		if (d->failed++ == 0)
			snprintf(d->first_error, sizeof d->first_error, "%s",
			    rd_kafka_err2str(m->err));
		return;
	}
	if (idx != d->next)
		d->out_of_order++;
	d->next = idx + 1;
	d->ok++;
}

static void
produce_and_read_back(const char *listener)
{
	struct kafka_client_opts	 o;
	struct delivery			 d;
	rd_kafka_conf_t			*conf;
	rd_kafka_t			*p, *c;
	rd_kafka_topic_partition_list_t	*parts;
	rd_kafka_message_t		*m;
	char				*topic, *cause = NULL, key[32], val[64];
	uint64_t			 deadline;
	int				 i, got = 0;

	testutil_kafka_opts(&o, listener);
	topic = testutil_unique_name("ferry-test-foundation");
	if (testutil_create_topic(&o, topic, 1, &cause) != 0)
		ck_abort_msg("%s: %s", listener, cause);

	memset(&d, 0, sizeof d);
	conf = kafka_client_conf(&o, &cause);
	ck_assert_msg(conf != NULL, "%s", cause);
	ck_assert_int_eq(kafka_client_set(conf, "enable.idempotence", "true",
	    &cause), 0);
	ck_assert_int_eq(kafka_client_set(conf, "acks", "all", &cause), 0);
	ck_assert_int_eq(kafka_client_set(conf, "linger.ms", "5", &cause), 0);
	rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
	p = kafka_client_new(RD_KAFKA_PRODUCER, conf, &o, &d, &cause);
	ck_assert_msg(p != NULL, "%s", cause);
	ck_assert_msg(kafka_client_check(p, 10000, &cause) == 0, "%s: %s",
	    listener, cause);
	for (i = 0; i < NMSG; i++) {
		snprintf(key, sizeof key, "k%d", i);
		snprintf(val, sizeof val, "message %d over %s", i, listener);
		ck_assert_int_eq(rd_kafka_producev(p,
		    RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(0),
		    RD_KAFKA_V_KEY(key, strlen(key)),
		    RD_KAFKA_V_VALUE(val, strlen(val)),
		    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
		    RD_KAFKA_V_OPAQUE((void *)(long)i), RD_KAFKA_V_END), 0);
		rd_kafka_poll(p, 0);
	}
	ck_assert_int_eq(rd_kafka_flush(p, 30000), 0);
	ck_assert_msg(d.failed == 0, "%d deliveries failed: %s", d.failed,
	    d.first_error);
	ck_assert_int_eq(d.ok, NMSG);
	ck_assert_int_eq(d.out_of_order, 0);
	kafka_client_destroy(p);

	conf = kafka_client_conf(&o, &cause);
	ck_assert_msg(conf != NULL, "%s", cause);
	ck_assert_int_eq(kafka_client_set(conf, "group.id", topic, &cause), 0);
	ck_assert_int_eq(kafka_client_set(conf, "enable.auto.commit", "false",
	    &cause), 0);
	c = kafka_client_new(RD_KAFKA_CONSUMER, conf, &o, NULL, &cause);
	ck_assert_msg(c != NULL, "%s", cause);
	parts = rd_kafka_topic_partition_list_new(1);
	rd_kafka_topic_partition_list_add(parts, topic, 0)->offset =
	    RD_KAFKA_OFFSET_BEGINNING;
	ck_assert_int_eq(rd_kafka_assign(c, parts), 0);
	rd_kafka_topic_partition_list_destroy(parts);
	deadline = util_mono_us() + 60 * 1000000;
	while (got < NMSG && util_mono_us() < deadline) {
		if ((m = rd_kafka_consumer_poll(c, 100)) == NULL)
			continue;
		if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
			rd_kafka_message_destroy(m);
			continue;
		}
		ck_assert_msg(m->err == 0, "consume: %s",
		    rd_kafka_message_errstr(m));
		snprintf(key, sizeof key, "k%d", got);
		snprintf(val, sizeof val, "message %d over %s", got, listener);
		ck_assert_int_eq(m->offset, got);
		ck_assert_uint_eq(m->key_len, strlen(key));
		ck_assert_mem_eq(m->key, key, m->key_len);
		ck_assert_uint_eq(m->len, strlen(val));
		ck_assert_mem_eq(m->payload, val, m->len);
		rd_kafka_message_destroy(m);
		got++;
	}
	ck_assert_int_eq(got, NMSG);
	rd_kafka_consumer_close(c);
	kafka_client_destroy(c);
	free(topic);
	kafka_client_opts_release(&o);
}

START_TEST(test_plaintext)
{
	produce_and_read_back("plaintext");
}
END_TEST

START_TEST(test_scram_sha_256)
{
	produce_and_read_back("scram-sha-256");
}
END_TEST

START_TEST(test_scram_sha_512)
{
	produce_and_read_back("scram-sha-512");
}
END_TEST

START_TEST(test_wrong_scram_password)
{
	struct kafka_client_opts	 o;
	rd_kafka_conf_t			*conf;
	rd_kafka_t			*rk;
	char				*cause = NULL;

	testutil_kafka_opts(&o, "scram-sha-256");
	xfree_secret(o.password);
	o.password = xstrdup("not-the-password-at-all");
	log_add_secret(o.password);
	conf = kafka_client_conf(&o, &cause);
	ck_assert_msg(conf != NULL, "%s", cause);
	rk = kafka_client_new(RD_KAFKA_PRODUCER, conf, &o, NULL, &cause);
	ck_assert_msg(rk != NULL, "%s", cause);
	ck_assert_int_eq(kafka_client_check(rk, 10000, &cause), -1);
	ck_assert_msg(strstr(cause, "authentication failed for user 'ferry' "
	    "with SCRAM-SHA-256") != NULL, "%s", cause);
	ck_assert_msg(strstr(cause, "invalid credentials") != NULL, "%s",
	    cause);
	ck_assert_ptr_null(strstr(cause, "not-the-password"));
	free(cause);
	kafka_client_destroy(rk);
	kafka_client_opts_release(&o);
}
END_TEST

START_TEST(test_no_broker)
{
	struct kafka_client_opts	 o;
	rd_kafka_conf_t			*conf;
	rd_kafka_t			*rk;
	char				*cause = NULL;

	kafka_client_opts_init(&o);
	o.brokers = xstrdup("127.0.0.1:1");
	conf = kafka_client_conf(&o, &cause);
	ck_assert_msg(conf != NULL, "%s", cause);
	rk = kafka_client_new(RD_KAFKA_PRODUCER, conf, &o, NULL, &cause);
	ck_assert_msg(rk != NULL, "%s", cause);
	ck_assert_int_eq(kafka_client_check(rk, 3000, &cause), -1);
	ck_assert_msg(strstr(cause, "Kafka 127.0.0.1:1: no broker reachable")
	    != NULL, "%s", cause);
	free(cause);
	kafka_client_destroy(rk);
	kafka_client_opts_release(&o);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("kafka");
	TCase	*tc = tcase_create("kafka");

	testutil_require_env("FERRY_TEST_KAFKA");
	testutil_require_env("FERRY_TEST_KAFKA_SCRAM");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_plaintext);
	tcase_add_test(tc, test_scram_sha_256);
	tcase_add_test(tc, test_scram_sha_512);
	tcase_add_test(tc, test_wrong_scram_password);
	tcase_add_test(tc, test_no_broker);
	suite_add_tcase(s, tc);
	return (testutil_run(s));
}
