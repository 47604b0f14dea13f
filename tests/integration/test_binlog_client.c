/*
 * The replication client against the sandbox MariaDB: a blocked reader
 * stopped from another thread, waiting for the source with a timeout
 * (nothing to read; events already read ahead), a server_id already in
 * use, a wrong password, a position that is not there.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "common/xmalloc.h"
#include "engine/binlog_client.h"
#include "tests/lib/testutil.h"

static void
opts(struct binlog_client_opts *o, uint32_t server_id)
{
	binlog_client_opts_init(o);
	mysql_conn_opts_release(&o->conn);
	testutil_mysql_opts(&o->conn);
	o->server_id = server_id;
}

static void *
stopper(void *arg)
{
	usleep(300 * 1000);
	binlog_client_stop(arg);
	return (NULL);
}

START_TEST(test_stop_blocked_reader)
{
	struct binlog_client_opts	 o;
	struct binlog_client		*c;
	enum binlog_client_error	 kind;
	const uint8_t			*ev;
	size_t				 len;
	uint64_t			 off, t0;
	pthread_t			 t;
	char				*cause = NULL, *v = NULL;
	MYSQL				*m;
	int				 rc, n = 0;

	opts(&o, 0x7e000000u | (uint32_t)getpid());
	m = mysql_conn_open(&o.conn, &cause);
	ck_assert_msg(m != NULL, "%s", cause);
	ck_assert_int_eq(mysql_conn_query_string(m, "SELECT @@gtid_binlog_pos",
	    &v, &cause), 0);
	mysql_close(m);
	o.gtid = v;		/* start at the end: nothing to read */
	c = binlog_client_open(&o, &kind, &cause);
	ck_assert_msg(c != NULL, "%s", cause);
	/*
	 * The server sends a few events (rotate, format description, GTID
	 * list, checkpoint) and then nothing (or what other tests write): the
	 * reader blocks until the other thread stops it, 300 ms in.
	 */
	t0 = util_mono_us();
	pthread_create(&t, NULL, stopper, c);
	while ((rc = binlog_client_next(c, &ev, &len, &off, &kind,
	    &cause)) == 1)
		n++;
	pthread_join(t, NULL);
	ck_assert_int_eq(rc, -1);
	ck_assert_int_eq(kind, BINLOG_CLIENT_STOPPED);
	/* n is the preamble, plus whatever tests running beside this one
	 * write to the shared server: not a number to assert on. */
	ck_assert_int_ge(n, 1);
	ck_assert_msg(util_mono_us() - t0 < 1500000, "stop took %llu us",
	    (unsigned long long)(util_mono_us() - t0));
	free(cause);
	binlog_client_close(c);
	binlog_client_opts_release(&o);
}
END_TEST

/*
 * binlog_client_wait(): 0 once the source has nothing more, 1 when an
 * event can be read; and 1 for the events of a transaction that arrived
 * together (read ahead into the connection's buffer, the socket empty).
 */
START_TEST(test_wait)
{
	struct binlog_client_opts	 o;
	struct binlog_client		*c;
	enum binlog_client_error	 kind;
	const uint8_t			*ev;
	size_t				 len;
	uint64_t			 off;
	char				*cause = NULL, *v = NULL;
	MYSQL				*m;
	int				 i, type, ahead = 0, events = 0;

	opts(&o, 0x7d000000u | (uint32_t)getpid());
	m = mysql_conn_open(&o.conn, &cause);
	ck_assert_msg(m != NULL, "%s", cause);
	ck_assert_int_eq(mysql_query(m, "CREATE DATABASE IF NOT EXISTS "
	    "ferry_test"), 0);
	ck_assert_int_eq(mysql_query(m, "CREATE TABLE IF NOT EXISTS "
	    "ferry_test.client_wait (id INT AUTO_INCREMENT PRIMARY KEY, "
	    "v VARCHAR(20))"), 0);
	ck_assert_int_eq(mysql_conn_query_string(m, "SELECT @@gtid_binlog_pos",
	    &v, &cause), 0);
	o.gtid = v;
	c = binlog_client_open(&o, &kind, &cause);
	ck_assert_msg(c != NULL, "%s", cause);

	/* The preamble, and what other tests write: until 300 ms of quiet. */
	for (i = 0; i < 100000 && binlog_client_wait(c, 300) == 1; i++)
		ck_assert_int_eq(binlog_client_next(c, &ev, &len, &off, &kind,
		    &cause), 1);
	ck_assert_msg(i < 100000, "the source never went quiet");

	/* One transaction: GTID, TABLE_MAP, WRITE_ROWS, XID, sent at once. */
	ck_assert_int_eq(mysql_query(m, "INSERT INTO ferry_test.client_wait "
	    "(v) VALUES ('wait')"), 0);
	ck_assert_int_eq(binlog_client_wait(c, 10000), 1);
	for (;;) {
		ck_assert_int_eq(binlog_client_next(c, &ev, &len, &off, &kind,
		    &cause), 1);
		events++;
		type = len > 4 ? ev[4] : -1;
		if (type == 16)		/* XID: the transaction is read */
			break;
		/* The rest of it is there already, in the buffer or the
		 * socket: the wait says so without waiting. */
		if (binlog_client_wait(c, 0) == 1)
			ahead++;
	}
	ck_assert_int_ge(events, 3);
	ck_assert_int_eq(ahead, events - 1);
	binlog_client_close(c);
	mysql_close(m);
	binlog_client_opts_release(&o);
}
END_TEST

START_TEST(test_server_id_in_use)
{
	struct binlog_client_opts	 o;
	struct binlog_client		*a, *b;
	enum binlog_client_error	 kind;
	char				*cause = NULL;
	uint32_t			 id = 0x7d000000u | (uint32_t)getpid();

	opts(&o, id);
	a = binlog_client_open(&o, &kind, &cause);
	ck_assert_msg(a != NULL, "%s", cause);
	b = binlog_client_open(&o, &kind, &cause);
	ck_assert_ptr_null(b);
	ck_assert_msg(strstr(cause, "is already used by a replica") != NULL,
	    "%s", cause);
	ck_assert_int_eq(kind, BINLOG_CLIENT_ID_IN_USE);
	free(cause);
	binlog_client_close(a);
	binlog_client_opts_release(&o);
}
END_TEST

START_TEST(test_wrong_password)
{
	struct binlog_client_opts	 o;
	enum binlog_client_error	 kind;
	char				*cause = NULL;

	opts(&o, 0x7c000000u | (uint32_t)getpid());
	xfree_secret(o.conn.password);
	o.conn.password = xstrdup("wrong");
	ck_assert_ptr_null(binlog_client_open(&o, &kind, &cause));
	ck_assert_int_eq(kind, BINLOG_CLIENT_AUTH);
	ck_assert_ptr_nonnull(strstr(cause, "error 1045"));
	free(cause);
	binlog_client_opts_release(&o);
}
END_TEST

START_TEST(test_position_gone)
{
	struct binlog_client_opts	 o;
	struct binlog_client		*c;
	enum binlog_client_error	 kind;
	const uint8_t			*ev;
	size_t				 len;
	uint64_t			 off;
	char				*cause = NULL;

	opts(&o, 0x7b000000u | (uint32_t)getpid());
	o.file = xstrdup("binlog.999999");
	o.pos = 4;
	c = binlog_client_open(&o, &kind, &cause);
	ck_assert_msg(c != NULL, "%s", cause);
	ck_assert_int_eq(binlog_client_next(c, &ev, &len, &off, &kind,
	    &cause), -1);
	ck_assert_int_eq(kind, BINLOG_CLIENT_PURGED);
	ck_assert_msg(strstr(cause, "no longer on") != NULL &&
	    strstr(cause, "1236") != NULL, "%s", cause);
	free(cause);
	binlog_client_close(c);
	binlog_client_opts_release(&o);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("binlog_client");
	TCase	*tc = tcase_create("binlog_client");

	testutil_require_env("FERRY_TEST_MYSQL");
	mysql_library_init(0, NULL, NULL);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_stop_blocked_reader);
	tcase_add_test(tc, test_wait);
	tcase_add_test(tc, test_server_id_in_use);
	tcase_add_test(tc, test_wrong_password);
	tcase_add_test(tc, test_position_gone);
	suite_add_tcase(s, tc);
	return (testutil_run(s));
}
