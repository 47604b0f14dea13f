/*
 * ferry: main() and the command table.
 *
 *	ferry [--db PATH] [--tenant NAME] [--log-level L] COMMAND [ARGS]
 *	ferry --server URL --token-file FILE [--server-ca FILE] COMMAND ...
 *
 * Global options come before the command; each command parses its own.  The
 * contract (names, options, exit codes, JSON shapes) is docs/CLI.md: extend
 * it, never break it.  Errors are one sentence on stderr, "ferry: ...", with
 * secrets masked; exit 1 for a failure, 2 for bad usage.
 */
#include "config.h"

#include <getopt.h>
#include <mysql.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include <event2/event.h>
#include <librdkafka/rdkafka.h>
#include <openssl/crypto.h>

#include "cli/cli.h"
#include "cli/cli_store.h"
#include "common/buf.h"
#include "common/log.h"
#include "common/util.h"
#include "common/xmalloc.h"

#ifdef HAVE_JEMALLOC
/*
 * jemalloc's options, read at its start (MALLOC_CONF in the environment
 * comes after them and wins).  Its per-thread caches are kept small: a
 * daemon runs a thread a job, and with the default caches 200 idle jobs
 * held 140 MiB instead of 82 (bench/idle.sh), for no gain in throughput
 * (bench/serve.sh): the job's thread allocates, librdkafka's threads free.
 */
extern const char	*malloc_conf;
const char		*malloc_conf = "tcache_max:4096,"
    "tcache_nslots_small_max:16,tcache_nslots_large:4";
#endif

static int	cmd_help(struct cli_ctx *, int, char **);
static int	cmd_version(struct cli_ctx *, int, char **);

static const struct cli_cmd cli_cmds[] = {
	{ "binlog", "dump|convert", "decode binlog files, or convert them to "
	    "DTS Avro records", cmd_binlog },
	{ "decode", "[options]", "print DTS Avro records from Kafka or files "
	    "as JSON", cmd_decode },
	{ "endpoint", "add|set|list|show|topics|rm", "define the MySQL "
	    "sources and Kafka targets of jobs", cmd_endpoint },
	{ "help", "[COMMAND]", "show help for ferry or one command", cmd_help },
	{ "job", "create|list|show|log|start|stop|pause|resume|retry|rm",
	    "define and control synchronization jobs", cmd_job },
	{ "precheck", "JOB [--json]", "check what a job needs of its source "
	    "and targets, every item", cmd_precheck },
	{ "serve", "[--http HOST:PORT] [--log FILE]", "run the queued jobs "
	    "(the daemon)", cmd_serve },
	{ "status", "[--watch]", "show every job's state and progress",
	    cmd_status },
	{ "tenant", "add|set|list|show", "manage tenants and their quotas",
	    cmd_tenant },
	{ "version", "", "show ferry's version and its libraries'",
	    cmd_version },
};

/* "ferry: message" on stderr, with secrets masked. */
void
cli_error(const char *fmt, ...)
{
	struct buf	 b = BUF_INITIALIZER;
	va_list		 ap;

	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	log_redact(&b);
	fprintf(stderr, "ferry: %s\n", buf_str(&b));
	buf_release(&b);
}

/* Report bad usage the same way and return the usage exit code. */
int
cli_usage_error(const char *fmt, ...)
{
	struct buf	 b = BUF_INITIALIZER;
	va_list		 ap;

	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	cli_error("%s (see ferry --help)", buf_str(&b));
	buf_release(&b);
	return (CLI_USAGE);
}

/*
 * A bad option, after getopt_long() returned ch ('?' or ':', the option
 * string starting with ':'): one sentence, and the usage exit code.  Only
 * the option's name is shown, never a value glued to it with '='.
 */
int
cli_option_error(const char *cmd, char **argv, int ch)
{
	const char	*arg = argv[optind - 1];
	size_t		 len = strcspn(arg, "=");

	if (ch == ':')
		return (cli_usage_error("option '%.*s' of %s needs a value",
		    (int)len, arg, cmd));
	if (optopt != 0 && strncmp(arg, "--", 2) != 0)
		return (cli_usage_error("unknown option '-%c' for %s", optopt,
		    cmd));
	return (cli_usage_error("unknown option '%.*s' for %s", (int)len, arg,
	    cmd));
}

static void
usage(FILE *fp)
{
	size_t	 i;

	fprintf(fp,
	    "usage: ferry [--db PATH] [--tenant NAME] [--log-level LEVEL] "
	    "COMMAND [ARGS]\n"
	    "       ferry --server URL --token-file FILE COMMAND [ARGS]\n"
	    "       ferry --version | --help\n"
	    "\n"
	    "ferry synchronizes MySQL and MariaDB databases into Kafka as DTS "
	    "Avro records.\n"
	    "\n"
	    "Global options:\n"
	    "  --db PATH          the job store (default $FERRY_DB, else\n"
	    "                     $XDG_DATA_HOME/ferry/ferry.db)\n"
	    "  --tenant NAME      act as this tenant (default $FERRY_TENANT, "
	    "else \"default\")\n"
	    "  --log-level LEVEL  error, warn, info or debug (default warn)\n"
	    "  --server URL       run the command on the daemon at URL "
	    "(https://HOST:PORT)\n"
	    "                     through its API, as --token-file's caller "
	    "($FERRY_SERVER)\n"
	    "  --token-file FILE  the API token ($FERRY_TOKEN_FILE)\n"
	    "  --server-ca FILE   CA certificates for the server "
	    "($FERRY_SERVER_CA; default:\n"
	    "                     the system's)\n"
	    "  --version          show the version and exit\n"
	    "  --help             show this help and exit\n"
	    "\n"
	    "Commands:\n");
	for (i = 0; i < nitems(cli_cmds); i++) {
		fprintf(fp, "  %-10s %-12s %s\n", cli_cmds[i].name,
		    cli_cmds[i].usage, cli_cmds[i].summary);
	}
	fprintf(fp, "\nSee ferry(1) for the whole manual.\n");
}

static const struct cli_cmd *
cli_find(const char *name)
{
	size_t	 i;

	for (i = 0; i < nitems(cli_cmds); i++) {
		if (strcmp(cli_cmds[i].name, name) == 0)
			return (&cli_cmds[i]);
	}
	return (NULL);
}

static int
cmd_help(struct cli_ctx *ctx, int argc, char **argv)
{
	const struct cli_cmd	*cmd;

	if (argc > 2)
		return (cli_usage_error("help takes at most one command"));
	if (argc == 1) {
		usage(stdout);
		return (CLI_OK);
	}
	if ((cmd = cli_find(argv[1])) == NULL)
		return (cli_usage_error("unknown command '%s'", argv[1]));
	printf("usage: ferry %s %s\n\n%s\n", cmd->name, cmd->usage,
	    cmd->summary);
	return (CLI_OK);
}

static int
cmd_version(struct cli_ctx *ctx, int argc, char **argv)
{
	if (argc > 1 && (strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0)) {
		printf("usage: ferry version\n\nShow ferry's version and the "
		    "versions of the libraries it runs on.\n");
		return (CLI_OK);
	}
	if (argc > 1)
		return (cli_usage_error("version takes no arguments"));
	printf("ferry %s\n", PACKAGE_VERSION);
	printf("  libmariadb %s\n", mysql_get_client_info());
	printf("  librdkafka %s\n", rd_kafka_version_str());
	printf("  avro-c     %s\n", AVRO_C_VERSION);
	printf("  libevent   %s\n", event_get_version());
	printf("  sqlite     %s\n", sqlite3_libversion());
	printf("  zlib       %s\n", zlibVersion());
	printf("  zstd       %s\n", ZSTD_versionString());
	printf("  openssl    %s\n", OpenSSL_version(OPENSSL_VERSION));
	printf("  malloc     %s\n", FERRY_MALLOC);
	return (CLI_OK);
}

/* The default store: $FERRY_DB, else $XDG_DATA_HOME/ferry/ferry.db. */
static char *
cli_default_db(void)
{
	const char	*v;

	if ((v = getenv("FERRY_DB")) != NULL && *v != '\0')
		return (xstrdup(v));
	if ((v = getenv("XDG_DATA_HOME")) != NULL && *v != '\0')
		return (xasprintf("%s/ferry/ferry.db", v));
	if ((v = getenv("HOME")) != NULL && *v != '\0')
		return (xasprintf("%s/.local/share/ferry/ferry.db", v));
	return (xstrdup("ferry.db"));
}

int
main(int argc, char **argv)
{
	static const struct option	 opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "tenant", required_argument, NULL, 't' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "server", required_argument, NULL, 'S' },
		{ "token-file", required_argument, NULL, 'T' },
		{ "server-ca", required_argument, NULL, 'C' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct cli_ctx			 ctx;
	const struct cli_cmd		*cmd;
	enum log_level			 level = LOG_LEVEL_WARN;
	const char			*v, *server, *token_file, *server_ca;
	char				*cause = NULL;
	int				 ch, rc;

	memset(&ctx, 0, sizeof ctx);
	ctx.progname = "ferry";
	server = getenv("FERRY_SERVER");
	token_file = getenv("FERRY_TOKEN_FILE");
	server_ca = getenv("FERRY_SERVER_CA");
	log_open("ferry", level, NULL, NULL);

	/* '+': stop at the first non-option, the command name. */
	while ((ch = getopt_long(argc, argv, "+:hV", opts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			free(ctx.db_path);
			ctx.db_path = xstrdup(optarg);
			break;
		case 't':
			free(ctx.tenant);
			ctx.tenant = xstrdup(optarg);
			break;
		case 'l':
			if (log_parse_level(optarg, &level) != 0) {
				rc = cli_usage_error("unknown log level '%s' "
				    "(error, warn, info or debug)", optarg);
				goto out;
			}
			log_set_level(level);
			ctx.log_level_set = 1;
			break;
		case 'S':
			server = optarg;
			break;
		case 'T':
			token_file = optarg;
			break;
		case 'C':
			server_ca = optarg;
			break;
		case 'V':
			rc = cmd_version(&ctx, 1, argv);
			goto out;
		case 'h':
			usage(stdout);
			rc = CLI_OK;
			goto out;
		default:
			rc = cli_option_error("ferry", argv, ch);
			goto out;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0) {
		usage(stderr);
		rc = CLI_USAGE;
		goto out;
	}
	if (server != NULL && *server != '\0') {
		/* A remote client: the daemon runs the command, as the
		 * token's caller, on its own store. */
		if (ctx.tenant != NULL || ctx.db_path != NULL) {
			rc = cli_usage_error("with --server the token says who "
			    "acts, on the daemon's store: no --tenant or --db");
			goto out;
		}
		rc = cli_remote(server, token_file, server_ca, argc, argv);
		goto out;
	}
	if (ctx.db_path == NULL)
		ctx.db_path = cli_default_db();
	if (ctx.tenant == NULL) {
		v = getenv("FERRY_TENANT");
		ctx.tenant = xstrdup(v != NULL && *v != '\0' ? v : "default");
	}
	if (cli_caller_init(&ctx, &cause) != 0) {
		cli_error("%s", cause);
		free(cause);
		rc = CLI_FAIL;
		goto out;
	}
	if ((cmd = cli_find(argv[0])) == NULL) {
		rc = cli_usage_error("unknown command '%s'", argv[0]);
		goto out;
	}
	if (cli_caller_allows(argc, argv) != 0) {
		rc = CLI_FAIL;
		goto out;
	}
	if (mysql_library_init(0, NULL, NULL) != 0)
		fatalx("cannot initialize the MySQL client library");
	optind = 0;	/* commands run getopt afresh */
	rc = cmd->exec(&ctx, argc, argv);
	mysql_library_end();
out:
	free(ctx.db_path);
	free(ctx.tenant);
	log_close();
	return (rc);
}
