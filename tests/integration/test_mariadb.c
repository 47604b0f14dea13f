/*
 * The sandbox MariaDB, through ferry's connection code: it is reachable over
 * TCP and the Unix socket, it is configured as a replication source the way
 * ferry needs (ROW, FULL image, FULL metadata, CRC32, GTID), and a wrong
 * password gives the server's code and a hint, never the password.
 */
#include "config.h"

#include <mysqld_error.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "engine/mysql_conn.h"
#include "tests/lib/testutil.h"

static char *
query(MYSQL *m, const char *sql)
{
	char	*v = NULL, *cause = NULL;

	if (mysql_conn_query_string(m, sql, &v, &cause) != 0)
		ck_abort_msg("%s", cause);
	ck_assert_msg(v != NULL, "%s returned NULL", sql);
	return (v);
}

static void
ck_var(MYSQL *m, const char *var, const char *want)
{
	char	*sql, *v;

	sql = xasprintf("SELECT @@GLOBAL.%s", var);
	v = query(m, sql);
	ck_assert_msg(strcasecmp(v, want) == 0, "%s is %s, want %s", var, v,
	    want);
	free(v);
	free(sql);
}

START_TEST(test_binlog_settings)
{
	struct mysql_conn_opts	 o;
	MYSQL			*m;
	char			*cause = NULL, *v;

	testutil_mysql_opts(&o);
	m = mysql_conn_open(&o, &cause);
	ck_assert_msg(m != NULL, "%s", cause);
	v = query(m, "SELECT VERSION()");
	ck_assert_msg(strstr(v, "MariaDB") != NULL, "version %s", v);
	ck_assert_msg(strncmp(v, "10.11.", 6) == 0, "version %s", v);
	free(v);
	ck_var(m, "log_bin", "1");
	ck_var(m, "binlog_format", "ROW");
	ck_var(m, "binlog_row_image", "FULL");
	ck_var(m, "binlog_row_metadata", "FULL");
	ck_var(m, "binlog_checksum", "CRC32");
	ck_var(m, "gtid_strict_mode", "1");
	v = query(m, "SELECT @@GLOBAL.server_id");
	ck_assert_msg(strtoul(v, NULL, 10) > 1, "server_id %s should be "
	    "unique to this sandbox", v);
	free(v);
	/* A GTID position exists once anything was written. */
	ck_assert_int_eq(mysql_query(m, "CREATE DATABASE IF NOT EXISTS "
	    "ferry_test_foundation"), 0);
	v = query(m, "SELECT @@GLOBAL.gtid_binlog_pos");
	ck_assert_msg(strncmp(v, "0-", 2) == 0, "gtid_binlog_pos '%s'", v);
	free(v);
	mysql_close(m);
	mysql_conn_opts_release(&o);
}
END_TEST

START_TEST(test_socket)
{
	struct mysql_conn_opts	 o;
	MYSQL			*m;
	char			*cause = NULL, *v;

	testutil_mysql_opts(&o);
	o.socket = xstrdup(testutil_require_env("FERRY_TEST_MYSQL_SOCKET"));
	m = mysql_conn_open(&o, &cause);
	ck_assert_msg(m != NULL, "%s", cause);
	v = query(m, "SELECT CURRENT_USER()");
	ck_assert_str_eq(v, "root@localhost");
	free(v);
	mysql_close(m);
	mysql_conn_opts_release(&o);
}
END_TEST

START_TEST(test_wrong_password)
{
	struct mysql_conn_opts	 o;
	MYSQL			*m;
	char			*cause = NULL;

	testutil_mysql_opts(&o);
	xfree_secret(o.password);
	o.password = xstrdup("definitely-not-the-password");
	log_add_secret(o.password);
	m = mysql_conn_open(&o, &cause);
	ck_assert_ptr_null(m);
	ck_assert_msg(strstr(cause, "error 1045 (28000)") != NULL, "%s",
	    cause);
	ck_assert_msg(strstr(cause, "Access denied for user 'root'") != NULL,
	    "%s", cause);
	ck_assert_msg(strstr(cause, "check the user name and the "
	    "password)") != NULL, "%s", cause);
	ck_assert_ptr_null(strstr(cause, "definitely-not"));
	free(cause);
	mysql_conn_opts_release(&o);
}
END_TEST

START_TEST(test_nothing_listening)
{
	struct mysql_conn_opts	 o;
	MYSQL			*m;
	char			*cause = NULL;

	mysql_conn_opts_init(&o);
	ck_assert_int_eq(mysql_conn_opts_from_url(&o, "mysql://u@127.0.0.1:1",
	    &cause), 0);
	m = mysql_conn_open(&o, &cause);
	ck_assert_ptr_null(m);
	ck_assert_msg(strstr(cause, "cannot connect to MySQL u@127.0.0.1:1")
	    != NULL, "%s", cause);
	ck_assert_msg(strstr(cause, "error 2002") != NULL ||
	    strstr(cause, "error 2003") != NULL, "%s", cause);
	ck_assert_msg(strstr(cause, "is the server running") != NULL, "%s",
	    cause);
	free(cause);
	mysql_conn_opts_release(&o);
}
END_TEST

/* TLS with the sandbox's private CA: encrypted and verified. */
START_TEST(test_tls_verified)
{
	struct mysql_conn_opts	 o;
	MYSQL			*m;
	char			*cause = NULL, *v;

	testutil_mysql_opts(&o);
	o.tls = 1;
	o.tls_ca = xstrdup(testutil_require_env("FERRY_TEST_MYSQL_TLS_CA"));
	m = mysql_conn_open(&o, &cause);
	ck_assert_msg(m != NULL, "%s", cause);
	ck_assert_int_eq(mysql_query(m, "SHOW STATUS LIKE 'Ssl_version'"), 0);
	{
		MYSQL_RES	*res = mysql_store_result(m);
		MYSQL_ROW	 row = mysql_fetch_row(res);

		ck_assert_ptr_nonnull(row);
		ck_assert_msg(strncmp(row[1], "TLS", 3) == 0, "Ssl_version %s",
		    row[1]);
		mysql_free_result(res);
	}
	v = query(m, "SELECT 1");
	free(v);
	mysql_close(m);
	mysql_conn_opts_release(&o);
}
END_TEST

/* A server certificate no trusted CA signed is refused, with a hint. */
START_TEST(test_tls_unverified)
{
	struct mysql_conn_opts	 o;
	MYSQL			*m;
	char			*cause = NULL;

	testutil_mysql_opts(&o);
	o.tls = 1;
	o.tls_ca = xstrdup("/etc/ssl/certs/ca-certificates.crt");
	m = mysql_conn_open(&o, &cause);
	ck_assert_ptr_null(m);
	ck_assert_msg(strstr(cause, "TLS") != NULL ||
	    strstr(cause, "SSL") != NULL || strstr(cause, "certificate") !=
	    NULL, "%s", cause);
	free(cause);
	mysql_conn_opts_release(&o);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("mariadb");
	TCase	*tc = tcase_create("mariadb");

	/* Fail before forking if the sandbox is not there. */
	testutil_require_env("FERRY_TEST_MYSQL");
	mysql_library_init(0, NULL, NULL);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_binlog_settings);
	tcase_add_test(tc, test_socket);
	tcase_add_test(tc, test_wrong_password);
	tcase_add_test(tc, test_nothing_listening);
	tcase_add_test(tc, test_tls_verified);
	tcase_add_test(tc, test_tls_unverified);
	suite_add_tcase(s, tc);
	return (testutil_run(s));
}
