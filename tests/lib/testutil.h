/*
 * Helpers shared by ferry's test programs.
 */
#ifndef FERRY_TESTS_TESTUTIL_H
#define FERRY_TESTS_TESTUTIL_H

#include <check.h>

#include "engine/kafka_client.h"
#include "engine/mysql_conn.h"

/* automake's test driver: 77 = skipped, 99 = hard error. */
#define TESTUTIL_SKIP	77
#define TESTUTIL_ERROR	99

const char *testutil_require_env(const char *);
const char *testutil_shared_dir(void);
void	 testutil_mysql_opts(struct mysql_conn_opts *);
void	 testutil_kafka_opts(struct kafka_client_opts *, const char *);
char	*testutil_unique_name(const char *);
int	 testutil_create_topic(const struct kafka_client_opts *, const char *,
	    int, char **);
int	 testutil_run(Suite *);

#endif
