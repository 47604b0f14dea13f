/*
 * Test helpers: the sandbox's environment, unique names, topic creation.
 *
 * A test that needs a server or the shared reference data and does not find
 * it skips (exit 77) on a developer's machine, and fails (exit 99) when
 * FERRY_TEST_REQUIRE=1, which tools/test and therefore CI set: under CI a
 * missing server is a failure, never a silent skip.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/url.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "tests/lib/testutil.h"

static void
testutil_missing(const char *what)
{
	const char	*req = getenv("FERRY_TEST_REQUIRE");

	if (req != NULL && strcmp(req, "1") == 0) {
		fprintf(stderr, "ERROR: %s, and FERRY_TEST_REQUIRE=1 says it "
		    "must be there (tools/test starts the sandbox)\n", what);
		exit(TESTUTIL_ERROR);
	}
	fprintf(stderr, "SKIP: %s (start one: tools/sandbox start DIR && "
	    "eval \"$(tools/sandbox env DIR)\")\n", what);
	exit(TESTUTIL_SKIP);
}

/* The value of an environment variable the test cannot run without. */
const char *
testutil_require_env(const char *name)
{
	const char	*v = getenv(name);
	char		*what;

	if (v == NULL || *v == '\0') {
		what = xasprintf("%s is not set", name);
		testutil_missing(what);
	}
	return (v);
}

/*
 * The shared reference directory: $FERRY_SHARED, else ../shared beside the
 * source tree (Makefile sets FERRY_SHARED to that).
 */
const char *
testutil_shared_dir(void)
{
	const char	*v = getenv("FERRY_SHARED");
	struct stat	 sb;
	char		*what;

	if (v == NULL || stat(v, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
		what = xasprintf("the shared reference directory %s is absent",
		    v != NULL ? v : "(FERRY_SHARED unset)");
		testutil_missing(what);
	}
	return (v);
}

/* The sandbox MariaDB's root account, over TCP. */
void
testutil_mysql_opts(struct mysql_conn_opts *o)
{
	const char	*url = testutil_require_env("FERRY_TEST_MYSQL");
	const char	*pwfile = testutil_require_env(
	    "FERRY_TEST_MYSQL_PASSWORD_FILE");
	char		*cause;

	mysql_conn_opts_init(o);
	if (mysql_conn_opts_from_url(o, url, &cause) != 0)
		ck_abort_msg("FERRY_TEST_MYSQL: %s", cause);
	if (util_read_secret_file(pwfile, &o->password, &cause) != 0)
		ck_abort_msg("%s", cause);
}

/*
 * The sandbox Kafka: listener "plaintext", or "scram-sha-256" /
 * "scram-sha-512" on the SASL listener as the sandbox's user.
 */
void
testutil_kafka_opts(struct kafka_client_opts *o, const char *listener)
{
	char	*cause;

	kafka_client_opts_init(o);
	if (strcmp(listener, "plaintext") == 0) {
		o->brokers = xstrdup(testutil_require_env("FERRY_TEST_KAFKA"));
		return;
	}
	o->brokers = xstrdup(testutil_require_env("FERRY_TEST_KAFKA_SCRAM"));
	if (kafka_client_parse_sasl(listener, &o->sasl) != 0)
		ck_abort_msg("unknown listener %s", listener);
	o->user = xstrdup(testutil_require_env("FERRY_TEST_KAFKA_USER"));
	if (util_read_secret_file(testutil_require_env(
	    "FERRY_TEST_KAFKA_PASSWORD_FILE"), &o->password, &cause) != 0)
		ck_abort_msg("%s", cause);
}

/* A name no other run uses: prefix-pid-time-nanoseconds-counter. */
char *
testutil_unique_name(const char *prefix)
{
	static unsigned int	 counter;
	struct timespec		 ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (xasprintf("%s-%ld-%lld-%ld-%u", prefix, (long)getpid(),
	    (long long)ts.tv_sec, ts.tv_nsec, counter++));
}

/*
 * Create a topic with the admin API and wait for the result.  Returns 0 or
 * -1 with *cause.
 */
int
testutil_create_topic(const struct kafka_client_opts *o, const char *topic,
    int partitions, char **cause)
{
	rd_kafka_conf_t			*conf;
	rd_kafka_t			*rk;
	rd_kafka_NewTopic_t		*nt;
	rd_kafka_queue_t		*q;
	rd_kafka_event_t		*ev;
	const rd_kafka_CreateTopics_result_t *res;
	const rd_kafka_topic_result_t	**tr;
	size_t				 n;
	char				 errstr[512];
	int				 rc = -1;

	if ((conf = kafka_client_conf(o, cause)) == NULL)
		return (-1);
	if ((rk = kafka_client_new(RD_KAFKA_PRODUCER, conf, o, NULL,
	    cause)) == NULL)
		return (-1);
	nt = rd_kafka_NewTopic_new(topic, partitions, 1, errstr, sizeof errstr);
	if (nt == NULL) {
		*cause = xasprintf("topic %s: %s", topic, errstr);
		goto out;
	}
	q = rd_kafka_queue_new(rk);
	rd_kafka_CreateTopics(rk, &nt, 1, NULL, q);
	ev = rd_kafka_queue_poll(q, 30000);
	if (ev == NULL)
		*cause = xasprintf("topic %s: no answer in 30 s", topic);
	else if (rd_kafka_event_error(ev) != 0)
		*cause = xasprintf("topic %s: %s", topic,
		    rd_kafka_event_error_string(ev));
	else {
		res = rd_kafka_event_CreateTopics_result(ev);
		tr = rd_kafka_CreateTopics_result_topics(res, &n);
		if (n != 1 || rd_kafka_topic_result_error(tr[0]) != 0)
			*cause = xasprintf("topic %s: %s", topic, n == 1 ?
			    rd_kafka_topic_result_error_string(tr[0]) :
			    "no result");
		else
			rc = 0;
	}
	if (ev != NULL)
		rd_kafka_event_destroy(ev);
	rd_kafka_queue_destroy(q);
	rd_kafka_NewTopic_destroy(nt);
out:
	kafka_client_destroy(rk);
	return (rc);
}

/* Run a suite with check's defaults; the exit status for main(). */
int
testutil_run(Suite *s)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? 0 : 1);
}
