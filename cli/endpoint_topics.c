/*
 * ferry endpoint topics NAME [--json] [--all]: the topics of a Kafka
 * endpoint's cluster with their partition counts, for choosing a job's
 * topic (DTS's "Get Topic List").  Internal topics (named "__...", such
 * as __consumer_offsets) are left out unless --all.
 *
 * The cluster is asked as a job would ask it: the endpoint's address,
 * credentials and TLS, and, for a tenant's endpoint, the daemon's network
 * policy on the bootstrap servers and every broker the cluster
 * advertises.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_store.h"
#include "common/buf.h"
#include "common/json.h"
#include "common/xmalloc.h"
#include "engine/kafka_client.h"
#include "scheduler/store.h"

#define TOPICS_TIMEOUT_MS	10000

struct topic_row {
	const char	*name;
	int		 partitions;
	const char	*error;		/* NULL, or why the broker has none */
};

static int
topic_row_cmp(const void *a, const void *b)
{
	return (strcmp(((const struct topic_row *)a)->name,
	    ((const struct topic_row *)b)->name));
}

static void
topics_print(const struct topic_row *rows, size_t n, int json)
{
	struct buf	 b = BUF_INITIALIZER;
	size_t		 i;

	if (!json) {
		printf("%-50s %10s\n", "TOPIC", "PARTITIONS");
		for (i = 0; i < n; i++)
			printf("%-50s %10d%s%s\n", rows[i].name,
			    rows[i].partitions, rows[i].error != NULL ?
			    "  " : "", rows[i].error != NULL ?
			    rows[i].error : "");
		return;
	}
	buf_addc(&b, '[');
	for (i = 0; i < n; i++) {
		buf_adds(&b, i > 0 ? ",{" : "{");
		json_add_key(&b, "topic");
		json_add_cstring(&b, rows[i].name);
		buf_printf(&b, ",\"partitions\":%d", rows[i].partitions);
		if (rows[i].error != NULL) {
			buf_addc(&b, ',');
			json_add_key(&b, "error");
			json_add_cstring(&b, rows[i].error);
		}
		buf_addc(&b, '}');
	}
	buf_addc(&b, ']');
	cli_print_json(&b);
	buf_release(&b);
}

/* Ask the cluster for its topics: 0, or -1 after saying why. */
static int
topics_list(struct kafka_client_opts *o, int all, int json)
{
	const struct rd_kafka_metadata	*md = NULL;
	struct topic_row		*rows;
	rd_kafka_conf_t			*conf;
	rd_kafka_t			*rk;
	rd_kafka_resp_err_t		 err;
	char				*cause = NULL;
	size_t				 n = 0;
	int				 i;

	if ((conf = kafka_client_conf(o, &cause)) == NULL ||
	    (rk = kafka_client_new(RD_KAFKA_PRODUCER, conf, o, NULL,
	    &cause)) == NULL) {
		cli_error("%s", cause);
		free(cause);
		return (-1);
	}
	if (kafka_client_check(rk, TOPICS_TIMEOUT_MS, &cause) != 0) {
		cli_error("%s", cause);
		free(cause);
		kafka_client_destroy(rk);
		return (-1);
	}
	err = rd_kafka_metadata(rk, 1, NULL, &md, TOPICS_TIMEOUT_MS);
	if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
		cli_error("Kafka %s: the cluster did not list its topics: %s",
		    o->brokers, rd_kafka_err2str(err));
		kafka_client_destroy(rk);
		return (-1);
	}
	rows = xcalloc((size_t)md->topic_cnt + 1, sizeof *rows);
	for (i = 0; i < md->topic_cnt; i++) {
		const struct rd_kafka_metadata_topic	*t = &md->topics[i];

		if (!all && strncmp(t->topic, "__", 2) == 0)
			continue;
		rows[n].name = t->topic;
		rows[n].partitions = t->partition_cnt;
		/* A topic still being made has no leader yet: listed, with
		 * what the broker said. */
		if (t->err != RD_KAFKA_RESP_ERR_NO_ERROR)
			rows[n].error = rd_kafka_err2str(t->err);
		n++;
	}
	qsort(rows, n, sizeof *rows, topic_row_cmp);
	topics_print(rows, n, json);
	free(rows);
	rd_kafka_metadata_destroy(md);
	kafka_client_destroy(rk);
	return (0);
}

int
endpoint_topics(struct cli_ctx *ctx, int argc, char **argv)
{
	struct kafka_client_opts	 o;
	struct store			*s;
	struct tenant			 t;
	struct endpoint			 e;
	const char			*name = NULL;
	char				*cause = NULL;
	int				 json = 0, all = 0, k, status = CLI_FAIL;

	for (k = 1; k < argc; k++) {
		if (strcmp(argv[k], "--json") == 0)
			json = 1;
		else if (strcmp(argv[k], "--all") == 0)
			all = 1;
		else if (argv[k][0] == '-')
			return (cli_usage_error("unknown option '%s' for "
			    "endpoint topics", argv[k]));
		else if (name == NULL)
			name = argv[k];
		else
			return (cli_usage_error("endpoint topics needs one "
			    "NAME"));
	}
	if (name == NULL)
		return (cli_usage_error("endpoint topics needs one NAME"));
	if (cli_net_policy() != 0)
		return (CLI_FAIL);
	if ((s = cli_store_open(ctx, &t)) == NULL)
		return (CLI_FAIL);
	memset(&e, 0, sizeof e);
	kafka_client_opts_init(&o);
	if (store_endpoint_get(s, t.id, name, &e, &cause) != 0) {
		cli_error("%s", cause);
		goto out;
	}
	if (e.kind != ENDPOINT_KAFKA) {
		cli_error("endpoint %s is a MySQL source: topics are a Kafka "
		    "endpoint's", name);
		goto out;
	}
	if (store_endpoint_kafka_opts(s, &e, &o, &cause) != 0) {
		cli_error("%s", cause);
		goto out;
	}
	/* The store is not needed while the cluster answers. */
	store_close(s);
	s = NULL;
	if (topics_list(&o, all, json) == 0)
		status = CLI_OK;
out:
	kafka_client_opts_release(&o);
	endpoint_release(&e);
	tenant_release(&t);
	free(cause);
	store_close(s);
	return (status);
}
