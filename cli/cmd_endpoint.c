/*
 * ferry endpoint add|set|list|show|topics|rm: the MySQL sources and Kafka
 * targets of the current tenant.
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
	    "usage: ferry endpoint add NAME --mysql "
	    "mysql://USER@HOST:PORT[,HOST:PORT...]\n"
	    "             [--password-file F | --password-env VAR | "
	    "--password-ref REF]\n"
	    "             [--tls] [--tls-ca FILE]\n"
	    "       ferry endpoint add NAME --kafka HOST:PORT[,HOST:PORT...]\n"
	    "             [--sasl plain|scram-sha-256|scram-sha-512 --username U\n"
	    "              --password-file F | --password-env VAR | "
	    "--password-ref REF]\n"
	    "             [--tls] [--tls-ca FILE] [--kafka-version X.Y.Z|auto]\n"
	    "             [--compression none|gzip|snappy|lz4|zstd]\n"
	    "             [--producer-prop KEY=VALUE ...]\n"
	    "       ferry endpoint set NAME [--password-file F | --password-env VAR |\n"
	    "             --password-ref REF | --prompt] [--tls | --no-tls] "
	    "[--tls-ca FILE]\n"
	    "             [--mysql URL | --kafka BROKERS] [--username U] "
	    "[--sasl MECH]\n"
	    "             [--kafka-version X.Y.Z|auto] [--compression CODEC]\n"
	    "             [--producer-prop KEY=VALUE ... | --producer-prop none]\n"
	    "       ferry endpoint list [--json]\n"
	    "       ferry endpoint show NAME [--json]\n"
	    "       ferry endpoint topics NAME [--json] [--all]\n"
	    "       ferry endpoint rm NAME\n"
	    "\n"
	    "Passwords are stored encrypted (the key is the store's file + "
	    ".key), or as a\n"
	    "reference with --password-ref env:NAME or file:/path.  Without "
	    "a password\n"
	    "option, ferry asks on a terminal.  set changes an endpoint in "
	    "place (a rotated\n"
	    "password, a new address): its jobs and their checkpoints stay, "
	    "and each job\n"
	    "uses the change from its next attempt (ferry job retry, or its "
	    "next reconnect).\n"
	    "A MySQL endpoint may name a primary and its replicas: a job "
	    "moves between them\n"
	    "by GTID when the server it reads is gone.  topics lists a "
	    "Kafka endpoint's\n"
	    "topics and their partitions (internal ones, __*, with --all).\n");
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
	if (e->kind == ENDPOINT_KAFKA) {
		cli_json_str(b, "compression", e->compression != NULL ?
		    e->compression : "none", 0);
		cli_json_str(b, "producer_props", e->producer_props, 0);
	}
	cli_json_str(b, "owner", e->tenant_owned ? "tenant" : "operator", 0);
	if (e->updated_at != 0) {
		cli_json_int(b, "updated_at", e->updated_at, 0);
		cli_json_str(b, "updated_by", e->updated_by, 0);
	} else
		buf_adds(b, ",\"updated_at\":null,\"updated_by\":null");
	buf_addc(b, '}');
}

/* What endpoint add and set are told. */
struct endpoint_args {
	const char	*mysql;
	const char	*kafka;
	const char	*pwfile;
	const char	*pwenv;
	const char	*pwref;
	int		 prompt;	/* set: ask on the terminal */
	const char	*username;
	int		 tls;		/* 1 --tls, 0 --no-tls, -1 neither */
	int		 no_tls;	/* --no-tls given */
	const char	*tls_ca;
	enum kafka_sasl	 sasl;
	int		 sasl_given;
	const char	*kafka_version;
	const char	*compression;
	char		 props[2048];	/* "k=v\n..." */
	size_t		 props_len;
	int		 props_given;
	const char	*name;
};

/* The variable the daemon's API passes a request's secret in. */
#define ENDPOINT_API_SECRET	"FERRY_API_SECRET"

/* endpoint_args(): the options are read, the command goes on. */
#define ENDPOINT_GO_ON	(-1)

/*
 * The options of endpoint add (set: 1 for endpoint set, which also takes
 * --prompt and --no-tls).  Returns ENDPOINT_GO_ON, or the command's status
 * when it ends here (a usage error, --help).
 */
static int
endpoint_args(int argc, char **argv, int set, struct endpoint_args *a)
{
	static const struct option	 opts[] = {
		{ "mysql", required_argument, NULL, 'm' },
		{ "kafka", required_argument, NULL, 'k' },
		{ "password-file", required_argument, NULL, 'P' },
		{ "password-env", required_argument, NULL, 'E' },
		{ "password-ref", required_argument, NULL, 'R' },
		{ "prompt", no_argument, NULL, 'p' },
		{ "sasl", required_argument, NULL, 's' },
		{ "username", required_argument, NULL, 'u' },
		{ "tls", no_argument, NULL, 'S' },
		{ "no-tls", no_argument, NULL, 'N' },
		{ "tls-ca", required_argument, NULL, 'C' },
		{ "kafka-version", required_argument, NULL, 'v' },
		{ "compression", required_argument, NULL, 'z' },
		{ "producer-prop", required_argument, NULL, 'O' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char	*cmd = set ? "endpoint set" : "endpoint add", *p;
	int		 ch;

	memset(a, 0, sizeof *a);
	a->tls = -1;
	optind = 0;
	while ((ch = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (ch) {
		case 'm': a->mysql = optarg; break;
		case 'k': a->kafka = optarg; break;
		case 'P': a->pwfile = optarg; break;
		case 'E': a->pwenv = optarg; break;
		case 'R': a->pwref = optarg; break;
		case 'u': a->username = optarg; break;
		case 'S': a->tls = 1; break;
		case 'C':
			a->tls_ca = optarg;
			a->tls = 1;
			break;
		case 'p':
		case 'N':
			if (!set)
				return (cli_usage_error("%s is for endpoint "
				    "set", ch == 'p' ? "--prompt" :
				    "--no-tls"));
			if (ch == 'p')
				a->prompt = 1;
			else
				a->no_tls = 1;
			break;
		case 's':
			if (kafka_client_parse_sasl(optarg, &a->sasl) != 0 ||
			    a->sasl == KAFKA_SASL_NONE)
				return (cli_usage_error("--sasl must be plain, "
				    "scram-sha-256 or scram-sha-512, not '%s'",
				    optarg));
			a->sasl_given = 1;
			break;
		case 'O': {
			char	*why = NULL;

			a->props_given = 1;
			if (strcmp(optarg, "none") == 0)
				break;
			if (!kafka_client_prop_ok(optarg, &why)) {
				cli_usage_error("--producer-prop: %s", why);
				free(why);
				return (CLI_USAGE);
			}
			if (a->props_len + strlen(optarg) + 2 >
			    sizeof a->props)
				return (cli_usage_error("--producer-prop: too "
				    "many settings"));
			a->props_len += (size_t)snprintf(a->props +
			    a->props_len, sizeof a->props - a->props_len,
			    "%s%s", a->props_len > 0 ? "\n" : "", optarg);
			break;
		}
		case 'z':
			if (!kafka_client_compression_ok(optarg))
				return (cli_usage_error("--compression takes "
				    "none, gzip, snappy, lz4 or zstd, not '%s'",
				    optarg));
			a->compression = optarg;
			break;
		case 'v':
			/* auto: no hint, the brokers say (the default). */
			if (strcmp(optarg, "auto") == 0) {
				a->kafka_version = "";
				break;
			}
			for (p = optarg; *p != '\0'; p++) {
				if ((*p < '0' || *p > '9') && *p != '.')
					break;
			}
			if (*optarg < '0' || *optarg > '9' || *p != '\0')
				return (cli_usage_error("--kafka-version takes "
				    "a version like 2.8.1, or auto, not '%s'",
				    optarg));
			a->kafka_version = optarg;
			break;
		case 'h':
			endpoint_usage(stdout);
			return (CLI_OK);
		default:
			cli_option_error(cmd, argv, ch);
			return (CLI_USAGE);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 1)
		return (cli_usage_error("%s needs one NAME", cmd));
	if (cli_valid_name("endpoint", argv[0]) != 0)
		return (CLI_USAGE);
	a->name = argv[0];
	if ((a->pwfile != NULL) + (a->pwenv != NULL) + (a->pwref != NULL) +
	    a->prompt > 1)
		return (cli_usage_error("give one of --password-file, "
		    "--password-env%s", set ? ", --password-ref and --prompt" :
		    " and --password-ref"));
	if (a->no_tls && a->tls != -1)
		return (cli_usage_error("--no-tls and --tls%s contradict",
		    a->tls_ca != NULL ? "-ca" : ""));
	if (a->no_tls)
		a->tls = 0;
	if (a->mysql != NULL && a->kafka != NULL)
		return (cli_usage_error("give --mysql or --kafka, not both"));
	if (a->mysql != NULL && (a->sasl_given || a->username != NULL ||
	    a->compression != NULL || a->props_given ||
	    a->kafka_version != NULL))
		return (cli_usage_error("--sasl, --username, "
		    "--kafka-version, --compression and --producer-prop are "
		    "for Kafka "
		    "endpoints (the MySQL user "
		    "is in the URL)"));
	if (cli_caller_tenant() && (a->pwfile != NULL || a->pwref != NULL ||
	    a->prompt || (a->pwenv != NULL && strcmp(a->pwenv,
	    ENDPOINT_API_SECRET) != 0))) {
		cli_error("through the API a password comes in the request "
		    "(its secret), not from a file, a variable or a reference "
		    "on the daemon's host");
		return (CLI_FAIL);
	}
	if (cli_caller_tenant() && a->tls_ca != NULL) {
		cli_error("--tls-ca names a file on the daemon's host, which "
		    "is the operator's to give");
		return (CLI_FAIL);
	}
	return (ENDPOINT_GO_ON);
}

/* An address as the endpoint stores it: 0, or the status to return. */
static int
endpoint_check_address(const struct endpoint_args *a)
{
	struct mysql_conn_opts	 mo;
	char			*cause = NULL;
	int			 rc = 0;

	mysql_conn_opts_init(&mo);
	if (a->mysql != NULL && mysql_conn_opts_from_url(&mo, a->mysql,
	    &cause) != 0)
		rc = cli_usage_error("--mysql: %s", cause);
	else if (a->mysql != NULL && mo.tls_ca != NULL && cli_caller_tenant()) {
		cli_error("--mysql: tls-ca names a file on the daemon's host, "
		    "which is the operator's to give");
		rc = CLI_FAIL;
	} else if (a->mysql != NULL && mo.socket != NULL && cli_caller_tenant()) {
		/* A socket reaches the daemon's own host, and there a login
		 * by the daemon's OS identity (unix_socket). */
		cli_error("--mysql: a Unix socket is the daemon's host's; a "
		    "tenant's endpoints are reached over the network");
		rc = CLI_FAIL;
	}
	else if (a->kafka != NULL && url_check_hostport_list(a->kafka,
	    &cause) != 0)
		rc = cli_usage_error("--kafka: %s", cause);
	free(cause);
	mysql_conn_opts_release(&mo);
	return (rc);
}

/* The SASL mechanism as the option spells it: scram-sha-256. */
static char *
endpoint_sasl_name(enum kafka_sasl sasl)
{
	char	*m, *name = xstrdup(kafka_client_sasl_name(sasl));

	for (m = name; *m != '\0'; m++)
		*m = (char)tolower((unsigned char)*m);
	return (name);
}

/*
 * The endpoint's new secret from the password options, sealed for the
 * tenant (stored form in *secret, NULL: none given or an empty
 * password).  ask: prompt on a terminal when no option names one.
 * Returns 0, or -1 (said).
 */
static int
endpoint_secret(struct store *s, int64_t tenant, const struct endpoint_args *a,
    const char *name, int ask, char **secret)
{
	char	*cause = NULL, *plain = NULL, *prompt;
	int	 rc = -1;

	*secret = NULL;
	if (a->pwref != NULL) {
		if (secret_reference(a->pwref, secret, &cause) != 0) {
			cli_error("--password-ref: %s", cause);
			free(cause);
			return (-1);
		}
		return (0);
	}
	prompt = xasprintf("Password for %s: ", name);
	if (cli_read_secret(a->pwfile, a->pwenv, prompt, ask, &plain) != 0)
		goto out;
	if (plain != NULL && *plain != '\0' && secret_seal_for(s, tenant,
	    plain, secret, &cause) != 0) {
		cli_error("%s", cause);
		goto out;
	}
	rc = 0;
out:
	free(prompt);
	free(cause);
	xfree_secret(plain);
	return (rc);
}

static int
endpoint_add(struct cli_ctx *ctx, int argc, char **argv)
{
	struct endpoint_args		 a;
	struct endpoint			 e;
	struct tenant			 t;
	struct store			*s = NULL;
	char				*cause = NULL;
	int				 status;

	memset(&e, 0, sizeof e);
	if ((status = endpoint_args(argc, argv, 0, &a)) != ENDPOINT_GO_ON)
		return (status);
	if ((a.mysql == NULL) == (a.kafka == NULL))
		return (cli_usage_error("endpoint add needs --mysql URL or "
		    "--kafka BROKERS"));
	if ((status = endpoint_check_address(&a)) != 0)
		return (status);
	if (a.kafka != NULL) {
		if (a.sasl_given != (a.username != NULL))
			return (cli_usage_error("--sasl and --username go "
			    "together"));
		if (!a.sasl_given && (a.pwfile != NULL || a.pwenv != NULL ||
		    a.pwref != NULL))
			return (cli_usage_error("a password goes with --sasl"));
	}
	e.kind = a.mysql != NULL ? ENDPOINT_MYSQL : ENDPOINT_KAFKA;
	e.address = xstrdup(a.mysql != NULL ? a.mysql : a.kafka);
	e.username = a.username != NULL ? xstrdup(a.username) : NULL;
	e.tls = a.tls == 1;
	e.tls_ca = a.tls_ca != NULL ? xstrdup(a.tls_ca) : NULL;
	e.kafka_version = a.kafka_version != NULL && *a.kafka_version != '\0' ?
	    xstrdup(a.kafka_version) : NULL;
	e.compression = a.compression != NULL && strcmp(a.compression,
	    "none") != 0 ? xstrdup(a.compression) : NULL;
	e.producer_props = a.props_len > 0 ? xstrdup(a.props) : NULL;
	if (a.sasl_given)
		e.sasl = endpoint_sasl_name(a.sasl);
	status = CLI_FAIL;
	if ((s = cli_store_open(ctx, &t)) == NULL)
		goto out;
	e.tenant_id = t.id;
	e.name = xstrdup(a.name);
	if ((e.kind == ENDPOINT_MYSQL || a.sasl_given || a.pwref != NULL) &&
	    endpoint_secret(s, t.id, &a, e.name, 1, &e.secret) != 0) {
		status = a.pwref != NULL ? CLI_USAGE : CLI_FAIL;
		goto out_t;
	}
	e.tenant_owned = cli_caller_tenant();
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
	free(cause);
	endpoint_release(&e);
	store_close(s);
	return (status);
}

/* What endpoint set changes, into c and *what: 0, or the status. */
static int
endpoint_changes(struct store *s, const struct endpoint *old,
    const struct endpoint_args *a, struct endpoint *c, unsigned int *what)
{
	int	 kafka = old->kind == ENDPOINT_KAFKA, status;

	*what = 0;
	if (!kafka && a->kafka != NULL)
		return (cli_usage_error("endpoint %s is a MySQL endpoint: "
		    "--kafka does not apply (give --mysql URL)", old->name));
	if (kafka && (a->mysql != NULL))
		return (cli_usage_error("endpoint %s is a Kafka endpoint: "
		    "--mysql does not apply (give --kafka BROKERS)", old->name));
	if (!kafka && (a->sasl_given || a->username != NULL ||
	    a->kafka_version != NULL || a->compression != NULL ||
	    a->props_given))
		return (cli_usage_error("--sasl, --username, "
		    "--kafka-version, --compression and --producer-prop are "
		    "for Kafka "
		    "endpoints (the MySQL user "
		    "is in the URL)"));
	if ((status = endpoint_check_address(a)) != 0)
		return (status);
	if (kafka && (a->pwfile != NULL || a->pwenv != NULL || a->pwref !=
	    NULL || a->prompt) && old->sasl == NULL && !a->sasl_given)
		return (cli_usage_error("a password goes with --sasl: "
		    "endpoint %s has none", old->name));
	if (a->mysql != NULL || a->kafka != NULL) {
		c->address = xstrdup(a->mysql != NULL ? a->mysql : a->kafka);
		*what |= ENDPOINT_SET_ADDRESS;
	}
	if (a->username != NULL) {
		c->username = xstrdup(a->username);
		*what |= ENDPOINT_SET_USERNAME;
	}
	if (a->sasl_given) {
		if (old->username == NULL && a->username == NULL)
			return (cli_usage_error("--sasl needs a user: endpoint "
			    "%s has none (give --username)", old->name));
		c->sasl = endpoint_sasl_name(a->sasl);
		*what |= ENDPOINT_SET_SASL;
	}
	if (a->tls != -1) {
		c->tls = a->tls;
		*what |= ENDPOINT_SET_TLS;
	}
	if (a->tls_ca != NULL || a->tls == 0) {
		c->tls_ca = a->tls_ca != NULL ? xstrdup(a->tls_ca) : NULL;
		*what |= ENDPOINT_SET_TLS_CA;
	}
	if (a->kafka_version != NULL) {
		c->kafka_version = *a->kafka_version != '\0' ?
		    xstrdup(a->kafka_version) : NULL;
		*what |= ENDPOINT_SET_VERSION;
	}
	if (a->compression != NULL) {
		c->compression = strcmp(a->compression, "none") != 0 ?
		    xstrdup(a->compression) : NULL;
		*what |= ENDPOINT_SET_COMPRESSION;
	}
	if (a->props_given) {
		c->producer_props = a->props_len > 0 ? xstrdup(a->props) :
		    NULL;
		*what |= ENDPOINT_SET_PROPS;
	}
	if (a->pwfile != NULL || a->pwenv != NULL || a->pwref != NULL ||
	    a->prompt) {
		if (endpoint_secret(s, old->tenant_id, a, old->name,
		    a->prompt, &c->secret) != 0)
			return (a->pwref != NULL ? CLI_USAGE : CLI_FAIL);
		if (c->secret == NULL && a->prompt) {
			cli_error("no password read (--prompt needs a "
			    "terminal)");
			return (CLI_FAIL);
		}
		*what |= ENDPOINT_SET_SECRET;
	}
	if (*what == 0)
		return (cli_usage_error("endpoint set %s: nothing to change "
		    "(give a password option, --tls, --mysql, --kafka, ...)",
		    old->name));
	return (0);
}

/*
 * ferry endpoint set NAME ...: change an endpoint in place.  Its jobs, their
 * checkpoints and identity stay; each job reads the endpoint again at its
 * next attempt.
 */
static int
endpoint_set(struct cli_ctx *ctx, int argc, char **argv)
{
	struct endpoint_args	 a;
	struct endpoint		 old, c;
	struct tenant		 t;
	struct store		*s;
	unsigned int		 what;
	size_t			 njobs;
	char			*cause = NULL;
	int			 status;

	if ((status = endpoint_args(argc, argv, 1, &a)) != ENDPOINT_GO_ON)
		return (status);
	memset(&old, 0, sizeof old);
	memset(&c, 0, sizeof c);
	if ((s = cli_store_open(ctx, &t)) == NULL)
		return (CLI_FAIL);
	status = CLI_FAIL;
	if (store_endpoint_get(s, t.id, a.name, &old, &cause) != 0) {
		cli_error("%s", cause);
		goto out;
	}
	if (cli_caller_tenant() && !old.tenant_owned) {
		/* The operator's endpoint: not confined, perhaps with a
		 * reference to the daemon's files for a password. */
		cli_error("endpoint %s is the operator's: a tenant changes "
		    "only the endpoints it made", a.name);
		goto out;
	}
	if ((status = endpoint_changes(s, &old, &a, &c, &what)) != 0)
		goto out;
	status = CLI_FAIL;
	if (store_endpoint_set(s, t.id, a.name, &c, what, cli_who(), &njobs,
	    &cause) != 0) {
		cli_error("%s", cause);
		goto out;
	}
	printf("endpoint %s changed; %zu job%s using it take%s the change at "
	    "the next attempt (a failed one: ferry job retry JOB)\n", a.name,
	    njobs, njobs == 1 ? "" : "s", njobs == 1 ? "s" : "");
	if ((what & ENDPOINT_SET_ADDRESS) && old.kind == ENDPOINT_MYSQL &&
	    njobs > 0)
		printf("note: if %s is another server (not the same one under "
		    "a new address), a job goes on there by GTID when that "
		    "server holds its checkpoint's GTID state (a replica of the "
		    "old one); otherwise it waits, saying why, and ferry job "
		    "resnapshot JOB copies its tables again there\n", a.mysql);
	status = CLI_OK;
out:
	tenant_release(&t);
	free(cause);
	endpoint_release(&old);
	endpoint_release(&c);
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
	if (strcmp(sub, "set") == 0)
		return (endpoint_set(ctx, argc - 1, argv + 1));
	if (strcmp(sub, "topics") == 0)
		return (endpoint_topics(ctx, argc - 1, argv + 1));
	if (strcmp(sub, "--help") == 0 || strcmp(sub, "help") == 0) {
		endpoint_usage(stdout);
		return (CLI_OK);
	}
	if (strcmp(sub, "list") != 0 && strcmp(sub, "show") != 0 &&
	    strcmp(sub, "rm") != 0)
		return (cli_usage_error("unknown endpoint command '%s' (add, "
		    "set, list, show, topics, rm)", sub));
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
			if (e.updated_at != 0) {
				cli_time(e.updated_at, when, sizeof when);
				printf("changed:       %s by %s\n", when,
				    e.updated_by != NULL ? e.updated_by : "?");
			}
		}
		endpoint_release(&e);
		status = CLI_OK;
	} else {
		if (cli_caller_tenant()) {
			struct endpoint	 mine;

			if (store_endpoint_get(s, t.id, argv[0], &mine,
			    &cause) != 0) {
				cli_error("%s", cause);
				goto out;
			}
			if (!mine.tenant_owned) {
				cli_error("endpoint %s is the operator's: a "
				    "tenant removes only the endpoints it "
				    "made", argv[0]);
				endpoint_release(&mine);
				goto out;
			}
			endpoint_release(&mine);
		}
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
