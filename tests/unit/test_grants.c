/*
 * engine/grants.c: SHOW GRANTS lines as MariaDB 10.11 printed them on the
 * sandbox (a user with a default role that holds another role), and as
 * MySQL 5.7 and 8.0 print them (their manuals' forms: quoted accounts,
 * dynamic privileges without spaces, roles as accounts), read into what
 * the account may do.  The expectations are the servers' rules: a
 * database-level name is a LIKE pattern, a table-level one is not,
 * column privileges do not give the table, ALL at a database is not a
 * global privilege.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "engine/grants.h"
#include "tests/lib/testutil.h"

START_TEST(test_mariadb_roles)
{
	static const char *const lines[] = {
		"GRANT `r1` TO `u1`@`%`",
		"GRANT BINLOG MONITOR, SLAVE MONITOR ON *.* TO `u1`@`%` "
		    "IDENTIFIED BY PASSWORD "
		    "'*D821809F681A40A6E379B50D0463EFAE20BDD122'",
		"GRANT SHOW VIEW ON `pc`.`t` TO `u1`@`%`",
		"GRANT `r2` TO `r1`",
		"GRANT USAGE ON *.* TO `r1`",
		"GRANT SELECT ON `p_`.* TO `r1`",
		"GRANT REPLICATION SLAVE ON *.* TO `r2`",
		"SET DEFAULT ROLE `r1` FOR `u1`@`%`",
	};
	struct grants	g;
	size_t		i;

	grants_init(&g);
	for (i = 0; i < sizeof lines / sizeof lines[0]; i++)
		grants_add_line(&g, lines[i]);
	ck_assert_uint_eq(g.nroles, 2);
	ck_assert_str_eq(g.roles[0], "r1");
	ck_assert_str_eq(g.roles[1], "r2");
	ck_assert(grants_allow(&g, GRANT_REPL_SLAVE, NULL, NULL));
	ck_assert(grants_allow(&g, GRANT_REPL_CLIENT, NULL, NULL));
	ck_assert(!grants_allow(&g, GRANT_RELOAD, NULL, NULL));
	/* `p_` is a pattern: pc, px; not p, not pcc. */
	ck_assert(grants_allow(&g, GRANT_SELECT, "pc", "t"));
	ck_assert(grants_allow(&g, GRANT_SELECT, "px", "any"));
	ck_assert(grants_allow(&g, GRANT_SELECT, "pc", NULL));
	ck_assert(!grants_allow(&g, GRANT_SELECT, "p", "t"));
	ck_assert(!grants_allow(&g, GRANT_SELECT, "pcc", "t"));
	ck_assert(grants_allow(&g, GRANT_SHOW_VIEW, "pc", "t"));
	ck_assert(!grants_allow(&g, GRANT_SHOW_VIEW, "pc", "u"));
	ck_assert(!grants_allow(&g, GRANT_SHOW_VIEW, "pc", NULL));
	ck_assert(!grants_allow(&g, GRANT_SELECT | GRANT_SHOW_VIEW, "px",
	    "t"));
	grants_release(&g);
}
END_TEST

START_TEST(test_mysql_forms)
{
	static const char *const lines[] = {
		"GRANT USAGE ON *.* TO 'ferry'@'%'",
		"GRANT RELOAD, REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO "
		    "'ferry'@'%'",
		"GRANT BACKUP_ADMIN,REPLICATION_APPLIER ON *.* TO `ferry`@`%`",
		"GRANT ALL PRIVILEGES ON `shop`.* TO 'ferry'@'%'",
		"GRANT SELECT (`id`, `v`), INSERT ON `crm`.`people` TO "
		    "'ferry'@'%'",
		"GRANT SELECT ON `odd``name`.`t``1` TO 'ferry'@'%'",
		"GRANT SELECT ON `esc\\_db`.* TO 'ferry'@'%'",
		"GRANT EXECUTE ON PROCEDURE `shop`.`p` TO 'ferry'@'%'",
		"GRANT PROXY ON ''@'' TO 'ferry'@'%' WITH GRANT OPTION",
		"GRANT `reader`@`%`,`writer`@`%` TO `ferry`@`%`",
		"REVOKE SELECT ON `mysql`.* FROM `ferry`@`%`",
	};
	struct grants	g;
	size_t		i;

	grants_init(&g);
	for (i = 0; i < sizeof lines / sizeof lines[0]; i++)
		grants_add_line(&g, lines[i]);
	ck_assert(grants_allow(&g, GRANT_RELOAD | GRANT_REPL_SLAVE |
	    GRANT_REPL_CLIENT, NULL, NULL));
	ck_assert(!grants_allow(&g, GRANT_SHOW_VIEW, NULL, NULL));
	/* ALL on a database: its tables, not the server. */
	ck_assert(grants_allow(&g, GRANT_SELECT | GRANT_SHOW_VIEW |
	    GRANT_LOCK_TABLES, "shop", "orders"));
	ck_assert(!grants_allow(&g, GRANT_SELECT, "shop2", "orders"));
	/* Column privileges do not read the whole table. */
	ck_assert(!grants_allow(&g, GRANT_SELECT, "crm", "people"));
	ck_assert(grants_allow(&g, GRANT_SELECT, "odd`name", "t`1"));
	/* An escaped '_' is itself. */
	ck_assert(grants_allow(&g, GRANT_SELECT, "esc_db", "t"));
	ck_assert(!grants_allow(&g, GRANT_SELECT, "escxdb", "t"));
	ck_assert_uint_eq(g.nroles, 2);
	ck_assert_str_eq(g.roles[0], "reader");
	ck_assert_str_eq(g.roles[1], "writer");
	grants_release(&g);
}
END_TEST

START_TEST(test_nothing)
{
	struct grants	g;

	grants_init(&g);
	ck_assert_int_eq(grants_add_line(&g, "GRANT USAGE ON *.* TO `u`@`%`"),
	    0);
	ck_assert_int_eq(grants_add_line(&g, "SET DEFAULT ROLE NONE FOR u"),
	    0);
	ck_assert_int_eq(grants_add_line(&g, "GRANT SELECT ON"), 0);
	ck_assert_int_eq(grants_add_line(&g, ""), 0);
	ck_assert(!grants_allow(&g, GRANT_SELECT, "a", "b"));
	ck_assert(!grants_allow(&g, GRANT_REPL_SLAVE, NULL, NULL));
	/* SUPER is reported apart; the caller decides what it stands for. */
	ck_assert_int_eq(grants_add_line(&g, "GRANT SUPER ON *.* TO 'u'@'%'"),
	    1);
	ck_assert(grants_allow(&g, GRANT_SUPER, NULL, NULL));
	ck_assert(!grants_allow(&g, GRANT_REPL_CLIENT, NULL, NULL));
	grants_release(&g);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("grants");
	TCase	*tc = tcase_create("grants");

	tcase_add_test(tc, test_mariadb_roles);
	tcase_add_test(tc, test_mysql_forms);
	tcase_add_test(tc, test_nothing);
	suite_add_tcase(s, tc);
	return (testutil_run(s));
}
