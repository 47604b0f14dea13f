/*
 * common/url.c and the endpoint URLs built on it: what is accepted, what is
 * refused, and that the refusal says why.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "common/url.h"
#include "common/xmalloc.h"
#include "engine/mysql_conn.h"
#include "tests/lib/testutil.h"

static void
ck_url_fails(const char *s, const char *why)
{
	struct url	*u;
	char		*cause = NULL;

	u = url_parse(s, &cause);
	ck_assert_msg(u == NULL, "%s was accepted", s);
	ck_assert_msg(strstr(cause, why) != NULL, "%s: cause '%s' lacks '%s'",
	    s, cause, why);
	free(cause);
}

START_TEST(test_full)
{
	struct url	*u;
	char		*cause = NULL;

	u = url_parse("MySQL://repl%40x@db-1.example.com:3307/shop?tls=1&"
	    "tls-ca=/etc/ca.pem&flag", &cause);
	ck_assert_ptr_nonnull(u);
	ck_assert_str_eq(u->scheme, "mysql");
	ck_assert_str_eq(u->user, "repl@x");
	ck_assert_str_eq(u->host, "db-1.example.com");
	ck_assert_uint_eq(u->port, 3307);
	ck_assert_str_eq(u->path, "shop");
	ck_assert_uint_eq(u->nparams, 3);
	ck_assert_str_eq(url_param(u, "tls"), "1");
	ck_assert_str_eq(url_param(u, "tls-ca"), "/etc/ca.pem");
	ck_assert_str_eq(url_param(u, "flag"), "");
	ck_assert_ptr_null(url_param(u, "nope"));
	url_free(u);
}
END_TEST

START_TEST(test_minimal_and_ipv6)
{
	struct url	*u;
	char		*cause = NULL;

	u = url_parse("mysql://h", &cause);
	ck_assert_ptr_nonnull(u);
	ck_assert_ptr_null(u->user);
	ck_assert_str_eq(u->host, "h");
	ck_assert_uint_eq(u->port, 0);
	ck_assert_ptr_null(u->path);
	url_free(u);

	u = url_parse("mysql://u@[::1]:3306/", &cause);
	ck_assert_ptr_nonnull(u);
	ck_assert_str_eq(u->host, "::1");
	ck_assert_uint_eq(u->port, 3306);
	ck_assert_ptr_null(u->path);
	url_free(u);
}
END_TEST

START_TEST(test_refused)
{
	ck_url_fails("mysql://root:hunter2@h:3306", "contains a password");
	ck_url_fails("db.example.com:3306", "not a URL");
	ck_url_fails("://h", "not a URL");
	ck_url_fails("my sql://h", "invalid URL scheme");
	ck_url_fails("mysql://@h", "empty user");
	ck_url_fails("mysql://u@", "missing host");
	ck_url_fails("mysql://u@h:0", "out of range");
	ck_url_fails("mysql://u@h:65536", "out of range");
	ck_url_fails("mysql://u@h:33o6", "invalid port");
	ck_url_fails("mysql://u@h:", "invalid port");
	ck_url_fails("mysql://u@h h", "invalid host");
	ck_url_fails("mysql://u@[::1", "invalid host");
	ck_url_fails("mysql://u@h?a=%zz", "malformed %-escape");
	ck_url_fails("mysql://u@h?=1", "empty parameter name");
	ck_url_fails("mysql://u%00x@h", "malformed %-escape");
}
END_TEST

START_TEST(test_hostport_list)
{
	char	*cause = NULL;

	ck_assert_int_eq(url_check_hostport_list("127.0.0.1:9092", &cause), 0);
	ck_assert_int_eq(url_check_hostport_list("a:1,b:2,[::1]:3", &cause),
	    0);
	ck_assert_int_eq(url_check_hostport_list("a:1,b", &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "'b' has no port"));
	free(cause);
	ck_assert_int_eq(url_check_hostport_list("", &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "empty broker list"));
	free(cause);
	ck_assert_int_eq(url_check_hostport_list("a:1,,b:2", &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "missing host"));
	free(cause);
	/* Credentials in a broker address are refused, never echoed. */
	ck_assert_int_eq(url_check_hostport_list("b:1,alice:hunter2@b2:9092",
	    &cause), -1);
	ck_assert_ptr_null(strstr(cause, "hunter2"));
	ck_assert_ptr_nonnull(strstr(cause, "no user or password"));
	free(cause);
}
END_TEST

START_TEST(test_mysql_opts)
{
	struct mysql_conn_opts	 o;
	char			*cause = NULL, *d;

	mysql_conn_opts_init(&o);
	ck_assert_int_eq(mysql_conn_opts_from_url(&o,
	    "mysql://repl@10.0.0.5/shop?tls=1&connect-timeout=3", &cause), 0);
	ck_assert_str_eq(o.host, "10.0.0.5");
	ck_assert_uint_eq(o.port, 3306);
	ck_assert_str_eq(o.user, "repl");
	ck_assert_str_eq(o.database, "shop");
	ck_assert_int_eq(o.tls, 1);
	ck_assert_uint_eq(o.connect_timeout, 3);
	ck_assert_ptr_null(o.password);
	d = mysql_conn_describe(&o);
	ck_assert_str_eq(d, "repl@10.0.0.5:3306");
	free(d);
	mysql_conn_opts_release(&o);

	ck_assert_int_eq(mysql_conn_opts_from_url(&o,
	    "mysql://repl@h:1/?colour=red", &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "unknown parameter 'colour'"));
	free(cause);
	ck_assert_int_eq(mysql_conn_opts_from_url(&o, "kafka://u@h:1",
	    &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "must be mysql://"));
	free(cause);
	ck_assert_int_eq(mysql_conn_opts_from_url(&o, "mysql://h:1",
	    &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "no user"));
	free(cause);
	ck_assert_int_eq(mysql_conn_opts_from_url(&o, "mysql://u@h?tls=maybe",
	    &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "tls must be 1 or 0"));
	free(cause);
	mysql_conn_opts_release(&o);
}
END_TEST

/*
 * An endpoint of several servers (a primary and its replicas): each in
 * order, the default port where none is given, IPv6 in brackets; the
 * first is the one connected to until another is picked.
 */
START_TEST(test_mysql_hosts)
{
	struct mysql_conn_opts	 o;
	char			*cause = NULL, *a;

	mysql_conn_opts_init(&o);
	ck_assert_int_eq(mysql_conn_opts_from_url(&o,
	    "mysql://repl@db1:3307,[fd00::2],db3/shop", &cause), 0);
	ck_assert_uint_eq(o.nhosts, 3);
	ck_assert_str_eq(o.host, "db1");
	ck_assert_uint_eq(o.port, 3307);
	ck_assert_str_eq(o.hosts[1].host, "fd00::2");
	ck_assert_uint_eq(o.hosts[1].port, 3306);
	ck_assert_str_eq(o.hosts[2].host, "db3");
	ck_assert_str_eq(o.database, "shop");
	mysql_conn_opts_pick(&o, 1);
	a = mysql_conn_address(&o);
	ck_assert_str_eq(a, "[fd00::2]:3306");
	free(a);
	mysql_conn_opts_pick(&o, 2);
	a = mysql_conn_address(&o);
	ck_assert_str_eq(a, "db3:3306");
	free(a);
	mysql_conn_opts_release(&o);

	ck_assert_int_eq(mysql_conn_opts_from_url(&o, "mysql://u@a:1,,b:2",
	    &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "missing host"));
	free(cause);
	ck_assert_int_eq(mysql_conn_opts_from_url(&o, "mysql://u@a:1,a:1",
	    &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "named twice"));
	free(cause);
	ck_assert_int_eq(mysql_conn_opts_from_url(&o,
	    "mysql://u@a,b?socket=/run/mysqld.sock", &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "socket names one server"));
	free(cause);
	ck_assert_int_eq(mysql_conn_opts_from_url(&o, "mysql://u@a:1,b:x",
	    &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "invalid port"));
	free(cause);
	mysql_conn_opts_release(&o);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("url");
	TCase	*tc = tcase_create("url");

	tcase_add_test(tc, test_full);
	tcase_add_test(tc, test_minimal_and_ipv6);
	tcase_add_test(tc, test_refused);
	tcase_add_test(tc, test_hostport_list);
	tcase_add_test(tc, test_mysql_opts);
	tcase_add_test(tc, test_mysql_hosts);
	suite_add_tcase(s, tc);
	return (testutil_run(s));
}
