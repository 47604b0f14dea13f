/*
 * ferry endpoint add|list|show|rm: the MySQL sources and Kafka targets of
 * the current tenant.
 *
 * A password never comes from argv: --password-file, --password-env or a
 * prompt on a terminal.  It is stored encrypted under the store's key
 * (scheduler/secret.c), or, with --password-ref env:NAME|file:/path, only
 * where to find it.  Listings show "encrypted" or the reference, never the
 * secret.
 */
#include "config.h"

#include <ctype.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/cli_store.h"
#include "common/buf.h"
#include "common/json.h"
#include "common/url.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "engine/kafka_client.h"
#include "engine/mysql_conn.h"
#include "scheduler/secret.h"
#include "scheduler/store.h"

static void
endpoint_usage(FILE *fp)
{
	fprintf(fp,
	    "usage: ferry endpoint add NAME --mysql mysql://USER@HOST:PORT\n"
	    "             [--password-file F | --password-env VAR | "
	    "--password-ref REF]\n"
	    "             [--tls] [--tls-ca FILE]\n"
	    "       ferry endpoint add NAME --kafka HOST:PORT[,HOST:PORT...]\n"
	    "             [--sasl plain|scram-sha-256|scram-sha-512 --username U\n"
	    "              --password-file F | --password-env VAR | "
	    "--password-ref REF]\n"
	    "             [--tls] [--tls-ca FILE] [--kafka-version X.Y.Z]\n"
	    "       ferry endpoint list [--json]\n"
	    "       ferry endpoint show NAME [--json]\n"
	    "       ferry endpoint rm NAME\n"
	    "\n"
	    "Passwords are stored encrypted (the key is the store's file + "
	    ".key), or as a\n"
	    "reference with --password-ref env:NAME or file:/path.  Without "
	    "a password\n"
	    "option, ferry asks on a terminal.\n");
}

static void
endpoint_json(struct buf *b, const struct endpoint *e)
{
	buf_addc(b, '{');
	cli_json_int(b, "id", e->id, 1);
	cli_json_str(b, "name", e->name, 0);
	cli_json_str(b, "kind", e->kind == ENDPOINT_KAFKA ? "kafka" : "mysql",
	    0);
	cli_json_str(b, "address", e->address, 0);
	cli_json_str(b, "username", e->username, 0);
	cli_json_str(b, "password", secret_describe(e->secret), 0);
	buf_adds(b, e->tls ? ",\"tls\":true" : ",\"tls\":false");
	cli_json_str(b, "tls_ca", e->tls_ca, 0);
	cli_json_str(b, "sasl", e->sasl, 0);
	cli_json_str(b, "kafka_version", e->kafka_version, 0);
	buf_addc(b, '}');
}

static int
endpoint_add(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option	 opts[] = {
		{ "mysql", required_argument, NULL, 'm' },
		{ "kafka", required_argument, NULL, 'k' },
		{ "password-file", required_argument, NULL, 'P' },
		{ "password-env", required_argument, NULL, 'E' },
		{ "password-ref", required_argument, NULL, 'R' },
		{ "sasl", required_argument, NULL, 's' },
		{ "username", required_argument, NULL, 'u' },
		{ "tls", no_argument, NULL, 'S' },
		{ "tls-ca", required_argument, NULL, 'C' },
		{ "kafka-version", required_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct endpoint			 e;
	struct tenant			 t;
	struct store			*s = NULL;
	struct mysql_conn_opts		 mo;
	enum kafka_sasl			 sasl = KAFKA_SASL_NONE;
	const char			*mysql = NULL, *kafka = NULL;
	const char			*pwfile = NULL, *pwenv = NULL;
	const char			*pwref = NULL, *p;
	char				*cause = NULL, *plain = NULL, *prompt;
	int				 ch, status = CLI_USAGE;

	memset(&e, 0, sizeof e);
	mysql_conn_opts_init(&mo);
	optind = 0;
	while ((ch = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (ch) {
		case 'm': mysql = optarg; break;
		case 'k': kafka = optarg; break;
		case 'P': pwfile = optarg; break;
		case 'E': pwenv = optarg; break;
		case 'R': pwref = optarg; break;
		case 'u':
			free(e.username);
			e.username = xstrdup(optarg);
			break;
		case 'S': e.tls = 1; break;
		case 'C':
			free(e.tls_ca);
			e.tls_ca = xstrdup(optarg);
			e.tls = 1;
			break;
		case 's':
			if (kafka_client_parse_sasl(optarg, &sasl) != 0 ||
			    sasl == KAFKA_SASL_NONE) {
				cli_usage_error("--sasl must be plain, "
				    "scram-sha-256 or scram-sha-512, not '%s'",
				    optarg);
				goto out;
			}
			break;
		case 'v':
			for (p = optarg; *p != '\0'; p++) {
				if ((*p < '0' || *p > '9') && *p != '.')
					break;
			}
			if (*optarg < '0' || *optarg > '9' || *p != '\0') {
				cli_usage_error("--kafka-version takes a "
				    "version like 2.8.1, not '%s'", optarg);
				goto out;
			}
			free(e.kafka_version);
			e.kafka_version = xstrdup(optarg);
			break;
		case 'h':
			endpoint_usage(stdout);
			status = CLI_OK;
			goto out;
		default:
			cli_option_error("endpoint add", argv, ch);
			goto out;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 1) {
		cli_usage_error("endpoint add needs one NAME");
		goto out;
	}
	if (cli_valid_name("endpoint", argv[0]) != 0)
		goto out;
	if ((mysql == NULL) == (kafka == NULL)) {
		cli_usage_error("endpoint add needs --mysql URL or --kafka "
		    "BROKERS");
		goto out;
	}
	if ((pwfile != NULL) + (pwenv != NULL) + (pwref != NULL) > 1) {
		cli_usage_error("give one of --password-file, --password-env "
		    "and --password-ref");
		goto out;
	}
	if (mysql != NULL) {
		if (sasl != KAFKA_SASL_NONE || e.username != NULL ||
		    e.kafka_version != NULL) {
			cli_usage_error("--sasl, --username and "
			    "--kafka-version are for Kafka endpoints (the MySQL "
			    "user is in the URL)");
			goto out;
		}
		if (mysql_conn_opts_from_url(&mo, mysql, &cause) != 0) {
			cli_usage_error("--mysql: %s", cause);
			goto out;
		}
		e.kind = ENDPOINT_MYSQL;
		e.address = xstrdup(mysql);
	} else {
		if (url_check_hostport_list(kafka, &cause) != 0) {
			cli_usage_error("--kafka: %s", cause);
			goto out;
		}
		if ((sasl != KAFKA_SASL_NONE) != (e.username != NULL)) {
			cli_usage_error("--sasl and --username go together");
			goto out;
		}
		if (sasl == KAFKA_SASL_NONE && (pwfile != NULL ||
		    pwenv != NULL || pwref != NULL)) {
			cli_usage_error("a password goes with --sasl");
			goto out;
		}
		e.kind = ENDPOINT_KAFKA;
		e.address = xstrdup(kafka);
		if (sasl != KAFKA_SASL_NONE)
		{
			char	*m;

			/* Stored as the option spells it: scram-sha-256. */
			e.sasl = xstrdup(kafka_client_sasl_name(sasl));
			for (m = e.sasl; *m != '\0'; m++)
				*m = (char)tolower((unsigned char)*m);
		}
	}
	status = CLI_FAIL;
	if ((s = cli_store_open(ctx, &t)) == NULL)
		goto out;
	e.tenant_id = t.id;
	e.name = xstrdup(argv[0]);
	if (pwref != NULL) {
		if (secret_reference(pwref, &e.secret, &cause) != 0) {
			cli_error("--password-ref: %s", cause);
			status = CLI_USAGE;
			goto out_t;
		}
	} else if (e.kind == ENDPOINT_MYSQL || sasl != KAFKA_SASL_NONE) {
		prompt = xasprintf("Password for %s: ", e.name);
		if (cli_read_secret(pwfile, pwenv, prompt, 1, &plain) != 0) {
			free(prompt);
			goto out_t;
		}
		free(prompt);
		if (plain != NULL && *plain != '\0' &&
		    secret_seal(store_path(s), plain, &e.secret,
		    &cause) != 0) {
			cli_error("%s", cause);
			goto out_t;
		}
	}
	if (store_endpoint_add(s, &e, &cause) != 0) {
		cli_error("%s", cause);
		goto out_t;
	}
	printf("endpoint %s added (%s %s, password %s)\n", e.name,
	    e.kind == ENDPOINT_KAFKA ? "kafka" : "mysql", e.address,
	    secret_describe(e.secret));
	status = CLI_OK;
out_t:
	tenant_release(&t);
out:
	xfree_secret(plain);
	free(cause);
	endpoint_release(&e);
	mysql_conn_opts_release(&mo);
	store_close(s);
	return (status);
}

int
cmd_endpoint(struct cli_ctx *ctx, int argc, char **argv)
{
	struct store	*s;
	struct tenant	 t;
	struct endpoint	 e, *list;
	struct buf	 b = BUF_INITIALIZER;
	const char	*sub;
	char		*cause = NULL, when[32];
	size_t		 n, i;
	int		 json = 0, status = CLI_FAIL, k;

	if (argc < 2) {
		endpoint_usage(stderr);
		return (CLI_USAGE);
	}
	sub = argv[1];
	if (strcmp(sub, "add") == 0)
		return (endpoint_add(ctx, argc - 1, argv + 1));
	if (strcmp(sub, "--help") == 0 || strcmp(sub, "help") == 0) {
		endpoint_usage(stdout);
		return (CLI_OK);
	}
	if (strcmp(sub, "list") != 0 && strcmp(sub, "show") != 0 &&
	    strcmp(sub, "rm") != 0)
		return (cli_usage_error("unknown endpoint command '%s' (add, "
		    "list, show, rm)", sub));
	/* The remaining forms take only NAME and --json. */
	argc -= 2;
	argv += 2;
	for (k = 0; k < argc; k++) {
		if (strcmp(argv[k], "--json") == 0 && strcmp(sub, "rm") != 0) {
			json = 1;
			memmove(&argv[k], &argv[k + 1], (size_t)(argc - k - 1) *
			    sizeof *argv);
			argc--;
			k--;
		} else if (argv[k][0] == '-')
			return (cli_usage_error("unknown option '%s' for "
			    "endpoint %s", argv[k], sub));
	}
	if (strcmp(sub, "list") == 0 ? argc != 0 : argc != 1)
		return (cli_usage_error("endpoint %s %s", sub,
		    strcmp(sub, "list") == 0 ? "takes no NAME" :
		    "needs one NAME"));
	if ((s = cli_store_open(ctx, &t)) == NULL)
		return (CLI_FAIL);
	if (strcmp(sub, "list") == 0) {
		if (store_endpoint_list(s, t.id, &list, &n, &cause) != 0) {
			cli_error("%s", cause);
			goto out;
		}
		if (json) {
			buf_addc(&b, '[');
			for (i = 0; i < n; i++) {
				if (i > 0)
					buf_addc(&b, ',');
				endpoint_json(&b, &list[i]);
			}
			buf_addc(&b, ']');
			cli_print_json(&b);
		} else {
			printf("%-20s %-6s %-40s %s\n", "NAME", "KIND",
			    "ADDRESS", "PASSWORD");
			for (i = 0; i < n; i++)
				printf("%-20s %-6s %-40s %s\n", list[i].name,
				    list[i].kind == ENDPOINT_KAFKA ? "kafka" :
				    "mysql", list[i].address,
				    secret_describe(list[i].secret));
		}
		for (i = 0; i < n; i++)
			endpoint_release(&list[i]);
		free(list);
		status = CLI_OK;
	} else if (strcmp(sub, "show") == 0) {
		if (store_endpoint_get(s, t.id, argv[0], &e, &cause) != 0) {
			cli_error("%s", cause);
			goto out;
		}
		if (json) {
			endpoint_json(&b, &e);
			cli_print_json(&b);
		} else {
			cli_time(e.created_at, when, sizeof when);
			printf("name:          %s\n", e.name);
			printf("kind:          %s\n", e.kind == ENDPOINT_KAFKA ?
			    "kafka" : "mysql");
			printf("address:       %s\n", e.address);
			if (e.username != NULL)
				printf("username:      %s\n", e.username);
			if (e.sasl != NULL)
				printf("sasl:          %s\n", e.sasl);
			printf("password:      %s\n",
			    secret_describe(e.secret));
			printf("tls:           %s%s%s\n", e.tls ? "yes" : "no",
			    e.tls_ca != NULL ? ", CA " : "",
			    e.tls_ca != NULL ? e.tls_ca : "");
			if (e.kafka_version != NULL)
				printf("kafka version: %s\n", e.kafka_version);
			printf("created:       %s\n", when);
		}
		endpoint_release(&e);
		status = CLI_OK;
	} else {
		if (store_endpoint_rm(s, t.id, argv[0], &cause) != 0) {
			cli_error("%s", cause);
			goto out;
		}
		printf("endpoint %s removed\n", argv[0]);
		status = CLI_OK;
	}
out:
	tenant_release(&t);
	free(cause);
	buf_release(&b);
	store_close(s);
	return (status);
}
