/*
 * ferry decode: print DTS Avro records as JSON, from a Kafka topic or from
 * files of one bare datum each (docs/CLI.md).
 *
 * From Kafka the consumer is assigned partitions directly (no consumer
 * group, nothing committed): every partition of the topic, or the one
 * --partition names, from the end (default), the beginning, or an offset.
 * A message that is not a record is reported with its partition and offset
 * and the rest goes on; the exit status is then 1.  Messages of 48 bytes or
 * less are DTS's filler and skipped.
 */
#include "config.h"

#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "common/buf.h"
#include "common/log.h"
#include "common/url.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "engine/kafka_client.h"
#include "schema/dts_reader.h"

static volatile sig_atomic_t	 decode_stop;

static void
decode_usage(FILE *fp)
{
	fprintf(fp,
	    "usage: ferry decode --brokers HOST:PORT --topic T [--partition P]\n"
	    "             [--from-beginning | --offset N] [--count N] "
	    "[--timeout-ms N]\n"
	    "             [--sasl MECH --username U --password-file F] "
	    "[--tls] [--tls-ca F]\n"
	    "       ferry decode --file F...\n"
	    "\n"
	    "Print DTS Avro records as JSON, one per line.\n"
	    "\n"
	    "  --brokers LIST      the Kafka bootstrap servers\n"
	    "  --topic T           the topic to read\n"
	    "  --partition P       only this partition (default: all)\n"
	    "  --from-beginning    start at the oldest message (default: "
	    "the end)\n"
	    "  --offset N          start at offset N\n"
	    "  --count N           stop after N records\n"
	    "  --timeout-ms N      stop when nothing arrives for N ms\n"
	    "  --sasl MECH         plain, scram-sha-256 or scram-sha-512\n"
	    "  --username U        the SASL user\n"
	    "  --password-file F   its password, from a file\n"
	    "  --password-env VAR  its password, from the environment\n"
	    "  --tls, --tls-ca F   TLS, verified with the system CAs or F\n"
	    "  --file F...         read files holding one datum each\n");
}

static void
decode_on_signal(int sig)
{
	decode_stop = 1;
}

static int
decode_one(const uint8_t *p, size_t len, const char *where,
    struct buf *out, int kafka, int32_t part, int64_t off)
{
	char	*cause = NULL;

	buf_reset(out);
	if (dts_read_json(p, len, out, &cause) != 0) {
		cli_error("%s: not a DTS record: %s", where, cause);
		free(cause);
		return (-1);
	}
	if (kafka) {
		/* where it came from, for whoever reads the output */
		buf_truncate(out, out->len - 1);
		buf_printf(out, ",\"kafka\":{\"partition\":%" PRId32
		    ",\"offset\":%" PRId64 "}}", part, off);
	}
	buf_addc(out, '\n');
	fwrite(out->data, 1, out->len, stdout);
	return (0);
}

static int
decode_files(int argc, char **argv)
{
	struct buf	 in = BUF_INITIALIZER, out = BUF_INITIALIZER;
	char		*cause = NULL;
	int		 i, status = CLI_OK;

	for (i = 0; i < argc; i++) {
		buf_reset(&in);
		if (util_read_file(argv[i], 1u << 30, &in, &cause) != 0) {
			cli_error("%s", cause);
			free(cause);
			cause = NULL;
			status = CLI_FAIL;
			continue;
		}
		if (decode_one(in.data != NULL ? in.data : (const uint8_t *)"",
		    in.len, argv[i], &out, 0, 0, 0) != 0)
			status = CLI_FAIL;
	}
	buf_release(&in);
	buf_release(&out);
	return (status);
}

/*
 * Read topic from start (an offset or RD_KAFKA_OFFSET_*) on one partition
 * or all of them.  A plain partition consumer feeding one queue, no group:
 * nothing is committed, and a user who may read the topic needs no right
 * on any group (nor does a cluster that never had a consumer get its
 * __consumer_offsets made by a coordinator search).
 */
static int
decode_kafka(struct kafka_client_opts *o, const char *topic, int32_t partition,
    int64_t start, uint64_t count, int64_t timeout_ms)
{
	const struct rd_kafka_metadata	*md = NULL;
	rd_kafka_queue_t		*q = NULL;
	rd_kafka_conf_t			*conf;
	rd_kafka_topic_t		*rkt = NULL;
	rd_kafka_t			*rk = NULL;
	rd_kafka_message_t		*m;
	struct buf			 out = BUF_INITIALIZER;
	char				*cause = NULL, where[64];
	uint64_t			 n = 0, last = util_mono_us();
	int32_t				*started = NULL;
	int				 i, nstarted = 0, status = CLI_OK;

	if ((conf = kafka_client_conf(o, &cause)) == NULL)
		goto done;
	if (kafka_client_set(conf, "enable.partition.eof", "false",
	    &cause) != 0) {
		rd_kafka_conf_destroy(conf);
		goto done;
	}
	if ((rk = kafka_client_new(RD_KAFKA_CONSUMER, conf, o, NULL,
	    &cause)) == NULL)
		goto done;
	if (kafka_client_check(rk, 10000, &cause) != 0)
		goto done;
	if ((rkt = rd_kafka_topic_new(rk, topic, NULL)) == NULL) {
		cause = xasprintf("topic %s: %s", topic,
		    rd_kafka_err2str(rd_kafka_last_error()));
		goto done;
	}
	if (rd_kafka_metadata(rk, 0, rkt, &md, 10000) != 0 ||
	    md->topic_cnt != 1) {
		cause = xasprintf("no metadata for topic %s", topic);
		goto done;
	}
	if (md->topics[0].err != 0) {
		cause = xasprintf("topic %s: %s", topic,
		    rd_kafka_err2str(md->topics[0].err));
		goto done;
	}
	q = rd_kafka_queue_new(rk);
	started = xcalloc((size_t)md->topics[0].partition_cnt + 1,
	    sizeof *started);
	for (i = 0; i < md->topics[0].partition_cnt; i++) {
		int32_t	 id = md->topics[0].partitions[i].id;

		if (partition >= 0 && id != partition)
			continue;
		if (rd_kafka_consume_start_queue(rkt, id, start, q) != 0) {
			cause = xasprintf("cannot read %s partition %" PRId32
			    ": %s", topic, id,
			    rd_kafka_err2str(rd_kafka_last_error()));
			goto done;
		}
		started[nstarted++] = id;
	}
	if (nstarted == 0) {
		cause = xasprintf("topic %s has no partition %" PRId32, topic,
		    partition);
		goto done;
	}
	signal(SIGINT, decode_on_signal);
	signal(SIGTERM, decode_on_signal);
	while (!decode_stop && (count == 0 || n < count)) {
		if (timeout_ms >= 0 && util_mono_us() - last >
		    (uint64_t)timeout_ms * 1000)
			break;
		if ((m = rd_kafka_consume_queue(q, 100)) == NULL)
			continue;
		if (m->err != 0) {
			cli_error("topic %s: %s", topic,
			    rd_kafka_message_errstr(m));
			if (m->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
			    m->err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED)
				status = CLI_FAIL, decode_stop = 1;
			rd_kafka_message_destroy(m);
			continue;
		}
		last = util_mono_us();
		if (m->len > 48) {
			snprintf(where, sizeof where, "partition %" PRId32
			    " offset %" PRId64, m->partition, m->offset);
			if (decode_one(m->payload, m->len, where, &out, 1,
			    m->partition, m->offset) != 0)
				status = CLI_FAIL;
			n++;
			fflush(stdout);
		}
		rd_kafka_message_destroy(m);
	}
done:
	for (i = 0; i < nstarted; i++)
		rd_kafka_consume_stop(rkt, started[i]);
	free(started);
	if (q != NULL)
		rd_kafka_queue_destroy(q);
	if (md != NULL)
		rd_kafka_metadata_destroy(md);
	if (rkt != NULL)
		rd_kafka_topic_destroy(rkt);
	kafka_client_destroy(rk);
	if (cause != NULL) {
		cli_error("%s", cause);
		free(cause);
		status = CLI_FAIL;
	}
	buf_release(&out);
	return (status);
}

int
cmd_decode(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option	 opts[] = {
		{ "brokers", required_argument, NULL, 'b' },
		{ "topic", required_argument, NULL, 't' },
		{ "partition", required_argument, NULL, 'p' },
		{ "from-beginning", no_argument, NULL, 'B' },
		{ "offset", required_argument, NULL, 'o' },
		{ "count", required_argument, NULL, 'c' },
		{ "timeout-ms", required_argument, NULL, 'T' },
		{ "sasl", required_argument, NULL, 's' },
		{ "username", required_argument, NULL, 'u' },
		{ "password-file", required_argument, NULL, 'P' },
		{ "password-env", required_argument, NULL, 'E' },
		{ "tls", no_argument, NULL, 'S' },
		{ "tls-ca", required_argument, NULL, 'C' },
		{ "file", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct kafka_client_opts	 o;
	const char			*topic = NULL, *pwfile = NULL;
	const char			*pwenv = NULL;
	char				*cause = NULL, *prompt;
	uint64_t			 v, count = 0;
	int64_t				 start = RD_KAFKA_OFFSET_END;
	int64_t				 timeout_ms = -1;
	int32_t				 partition = -1;
	int				 ch, files = 0, status, starts = 0;

	kafka_client_opts_init(&o);
	while ((ch = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (ch) {
		case 'b':
			if (url_check_hostport_list(optarg, &cause) != 0) {
				status = cli_usage_error("--brokers: %s", cause);
				goto out;
			}
			free(o.brokers);
			o.brokers = xstrdup(optarg);
			break;
		case 't':
			topic = optarg;
			break;
		case 'p':
			if (util_parse_u64(optarg, 0, INT32_MAX, &v,
			    &cause) != 0) {
				status = cli_usage_error("--partition: %s",
				    cause);
				goto out;
			}
			partition = (int32_t)v;
			break;
		case 'B':
			start = RD_KAFKA_OFFSET_BEGINNING;
			starts++;
			break;
		case 'o':
			if (util_parse_u64(optarg, 0, INT64_MAX, &v,
			    &cause) != 0) {
				status = cli_usage_error("--offset: %s", cause);
				goto out;
			}
			start = (int64_t)v;
			starts++;
			break;
		case 'c':
			if (util_parse_u64(optarg, 1, UINT64_MAX, &count,
			    &cause) != 0) {
				status = cli_usage_error("--count: %s", cause);
				goto out;
			}
			break;
		case 'T':
			if (util_parse_u64(optarg, 0, INT32_MAX, &v,
			    &cause) != 0) {
				status = cli_usage_error("--timeout-ms: %s",
				    cause);
				goto out;
			}
			timeout_ms = (int64_t)v;
			break;
		case 's':
			if (kafka_client_parse_sasl(optarg, &o.sasl) != 0) {
				status = cli_usage_error("--sasl must be plain, "
				    "scram-sha-256 or scram-sha-512, not '%s'",
				    optarg);
				goto out;
			}
			break;
		case 'u':
			free(o.user);
			o.user = xstrdup(optarg);
			break;
		case 'P':
			pwfile = optarg;
			break;
		case 'E':
			pwenv = optarg;
			break;
		case 'S':
			o.tls = 1;
			break;
		case 'C':
			free(o.tls_ca);
			o.tls_ca = xstrdup(optarg);
			o.tls = 1;
			break;
		case 'f':
			files = 1;
			break;
		case 'h':
			decode_usage(stdout);
			status = CLI_OK;
			goto out;
		default:
			status = cli_option_error("decode", argv, ch);
			goto out;
		}
	}
	argc -= optind;
	argv += optind;
	if (files) {
		if (argc == 0) {
			status = cli_usage_error("decode --file needs FILEs");
			goto out;
		}
		if (o.brokers != NULL || topic != NULL) {
			status = cli_usage_error("give --file or --brokers, "
			    "not both");
			goto out;
		}
		status = decode_files(argc, argv);
		goto out;
	}
	if (argc != 0) {
		status = cli_usage_error("unexpected argument '%s' (files go "
		    "with --file)", argv[0]);
		goto out;
	}
	if (o.brokers == NULL || topic == NULL) {
		status = cli_usage_error("decode needs --brokers and --topic, "
		    "or --file");
		goto out;
	}
	if (starts > 1) {
		status = cli_usage_error("give --from-beginning or --offset, "
		    "not both");
		goto out;
	}
	if (o.sasl != KAFKA_SASL_NONE && o.user == NULL) {
		status = cli_usage_error("--sasl needs --username");
		goto out;
	}
	if (o.sasl == KAFKA_SASL_NONE && (o.user != NULL || pwfile != NULL ||
	    pwenv != NULL)) {
		status = cli_usage_error("--username and passwords go with "
		    "--sasl");
		goto out;
	}
	if (o.sasl != KAFKA_SASL_NONE) {
		prompt = xasprintf("Password for Kafka user %s: ", o.user);
		if (cli_read_secret(pwfile, pwenv, prompt, 1,
		    &o.password) != 0) {
			free(prompt);
			status = CLI_FAIL;
			goto out;
		}
		free(prompt);
	}
	status = decode_kafka(&o, topic, partition, start, count, timeout_ms);
out:
	free(cause);
	kafka_client_opts_release(&o);
	return (status);
}
