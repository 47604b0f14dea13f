/*
 * ferry serve: the daemon (scheduler/daemon.c).
 *
 *	ferry serve [--http HOST:PORT] [--api HOST:PORT [--api-cert FILE
 *	    --api-key FILE]] [--control PATH] [--log FILE]
 *	    [--poll-ms N]
 *	    [--lease-ms N] [--checkpoint-ms N] [--retry-min-ms N]
 *	    [--retry-max-ms N] [--chunk-rows N] [--heartbeat-ms N]
 *	    [--binlog-heartbeat-ms N] [--shared-reader on|off]
 *
 * Runs in the foreground until SIGTERM or SIGINT (a service manager
 * supervises it); logs at info level unless --log-level says otherwise.
 */
#include "config.h"

#include <sys/prctl.h>

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_store.h"
#include "common/buf.h"
#include "common/log.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "engine/netpolicy.h"
#include "scheduler/daemon.h"

static void
serve_usage(FILE *fp)
{
	fprintf(fp,
	    "usage: ferry serve [--config FILE] [--http HOST:PORT] [--log FILE] "
	    "[options]\n"
	    "\n"
	    "Run the store's queued jobs until SIGTERM or SIGINT.\n"
	    "  --config FILE        settings, a line each: name = value (the "
	    "options'\n"
	    "                       names; the command line's win)\n"
	    "  --http HOST:PORT     serve /healthz, /jobs and /metrics (no "
	    "authentication:\n"
	    "                       keep it on loopback)\n"
	    "  --api HOST:PORT      serve the API (docs/API.md) to the "
	    "operator's and\n"
	    "                       tenants' tokens ([::]:PORT for IPv6)\n"
	    "  --api-cert FILE      its TLS certificate chain (PEM), with "
	    "--api-key FILE\n"
	    "  --max-memory SIZE    the sum of the running jobs' memory "
	    "budgets at most\n"
	    "                       (default: 3/4 of the machine's); a job "
	    "that does not\n"
	    "                       fit waits, queued\n"
	    "  --tenant-allow CIDR  tenants' endpoints may reach these "
	    "addresses (repeat;\n"
	    "                       by default all but loopback, link-local, "
	    "multicast and\n"
	    "                       this host's own)\n"
	    "  --tenant-deny CIDR   ... and never these (repeat; wins over "
	    "--tenant-allow)\n"
	    "  --control PATH       the control socket the CLI wakes the "
	    "daemon on\n"
	    "                       (default: STORE.sock beside the store; "
	    "none: no socket)\n"
	    "  --log FILE           log there (SIGHUP reopens it), not to "
	    "stderr\n"
	    "  --poll-ms N          read the store every N ms (default 500)\n"
	    "  --lease-ms N         a job's lease lasts N ms (default 10000)\n"
	    "  --checkpoint-ms N    save checkpoints every N ms (default "
	    "1000)\n"
	    "  --retry-min-ms N     first back-off after a failure (default "
	    "1000)\n"
	    "  --retry-max-ms N     longest back-off (default 60000)\n"
	    "  --chunk-rows N       rows per full-sync read (default 10000)\n"
	    "  --heartbeat-ms N     a HEARTBEAT record after N ms without "
	    "records\n"
	    "                       (default 10000; 0: none)\n"
	    "  --binlog-heartbeat-ms N  ask the source for a heartbeat every "
	    "N ms when\n"
	    "                       idle (default 5000): how fresh an idle "
	    "job's lag and\n"
	    "                       checkpoint are; 3N ms of silence is a dead "
	    "server\n"
	    "  --shared-reader on|off  jobs that read one server share one "
	    "binlog\n"
	    "                       connection (default on)\n");
}

static const struct option serve_opts[] = {
	{ "config", required_argument, NULL, 'F' },
	{ "http", required_argument, NULL, 'H' },
	{ "api", required_argument, NULL, 'A' },
	{ "api-cert", required_argument, NULL, 'T' },
	{ "api-key", required_argument, NULL, 'K' },
	{ "tenant-allow", required_argument, NULL, 'a' },
	{ "tenant-deny", required_argument, NULL, 'd' },
	{ "max-memory", required_argument, NULL, 'M' },
	{ "log", required_argument, NULL, 'L' },
	{ "control", required_argument, NULL, 'C' },
	{ "poll-ms", required_argument, NULL, 'p' },
	{ "lease-ms", required_argument, NULL, 'l' },
	{ "checkpoint-ms", required_argument, NULL, 'c' },
	{ "retry-min-ms", required_argument, NULL, 'r' },
	{ "retry-max-ms", required_argument, NULL, 'R' },
	{ "chunk-rows", required_argument, NULL, 'k' },
	{ "heartbeat-ms", required_argument, NULL, 'b' },
	{ "binlog-heartbeat-ms", required_argument, NULL, 'B' },
	{ "shared-reader", required_argument, NULL, 'S' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

/*
 * The settings of --config FILE, as the options they are: "name = value"
 * (or "name" for one that takes none) a line, '#' comments, names the long
 * options of serve without their dashes.  Given before the command line's
 * own options, which win.  Returns the new argv (*argcp set), or NULL
 * having said why.
 */
static char **
serve_config(const char *path, int *argcp, char **argv, int *nmade)
{
	struct buf	 b = BUF_INITIALIZER;
	char		**v, *cause = NULL, *line, *save = NULL, *eq, *name, *val;
	const struct option *o;
	int		 n = 1, cap = 16, lineno = 0, i;

	if (util_read_file(path, 1024 * 1024, &b, &cause) != 0) {
		cli_error("--config: %s", cause);
		free(cause);
		return (NULL);
	}
	buf_str(&b);
	v = xcalloc((size_t)cap, sizeof *v);
	v[0] = argv[0];
	for (line = strtok_r((char *)b.data, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		lineno++;
		line += strspn(line, " \t");
		if (*line == '#' || *line == '\0')
			continue;
		eq = strchr(line, '=');
		name = line;
		val = NULL;
		if (eq != NULL) {
			*eq = '\0';
			val = eq + 1 + strspn(eq + 1, " \t");
			for (i = (int)strlen(val); i > 0 && (val[i - 1] == ' ' ||
			    val[i - 1] == '\t' || val[i - 1] == '\r'); i--)
				val[i - 1] = '\0';
		}
		for (i = (int)strlen(name); i > 0 && (name[i - 1] == ' ' ||
		    name[i - 1] == '\t' || name[i - 1] == '\r'); i--)
			name[i - 1] = '\0';
		for (o = serve_opts; o->name != NULL; o++) {
			if (strcmp(o->name, name) == 0)
				break;
		}
		if (o->name == NULL || strcmp(name, "config") == 0 ||
		    strcmp(name, "help") == 0) {
			cli_error("%s:%d: unknown setting '%s'", path, lineno,
			    name);
			goto fail;
		}
		if ((o->has_arg == required_argument) != (val != NULL &&
		    *val != '\0')) {
			cli_error("%s:%d: '%s' %s", path, lineno, name,
			    o->has_arg == required_argument ? "needs a value "
			    "(name = value)" : "takes no value");
			goto fail;
		}
		if (n + 3 >= cap) {
			cap *= 2;
			v = xreallocarray(v, (size_t)cap, sizeof *v);
		}
		v[n++] = xasprintf("--%s", name);
		if (val != NULL)
			v[n++] = xstrdup(val);
	}
	*nmade = n - 1;
	v = xreallocarray(v, (size_t)(n + *argcp + 1), sizeof *v);
	for (i = 1; i < *argcp; i++)
		v[n++] = argv[i];
	v[n] = NULL;
	*argcp = n;
	buf_release(&b);
	return (v);
fail:
	buf_release(&b);
	for (i = 1; i < n; i++)
		free(v[i]);
	free(v);
	return (NULL);
}

static int
serve_main(struct cli_ctx *ctx, int argc, char **argv)
{
	struct daemon_options		 o;
	const char			*logfile = NULL, *name = NULL;
	char				*cause = NULL;
	uint64_t			 v;
	int				 ch, rc, *target = NULL;

	daemon_options_init(&o);
	o.store_path = ctx->db_path;
	optind = 0;
	while ((ch = getopt_long(argc, argv, ":h", serve_opts, NULL)) != -1) {
		switch (ch) {
		case 'F':
			continue;	/* read above */
		case 'H':
			o.http = optarg;
			continue;
		case 'A':
			o.api = optarg;
			continue;
		case 'T':
			o.api_cert = optarg;
			continue;
		case 'K':
			o.api_key = optarg;
			continue;
		case 'M':
			if (cli_parse_size(optarg, &o.max_memory, &cause) !=
			    0 || o.max_memory < 1024 * 1024) {
				rc = cli_usage_error("--max-memory: %s",
				    cause != NULL ? cause : "at least 1M");
				free(cause);
				return (rc);
			}
			continue;
		case 'a':
		case 'd':
			if (netpolicy_add(ch == 'a', optarg, &cause) != 0) {
				rc = cli_usage_error("--tenant-%s: %s",
				    ch == 'a' ? "allow" : "deny", cause);
				free(cause);
				return (rc);
			}
			continue;
		case 'L':
			logfile = optarg;
			continue;
		case 'C':
			if (*optarg == '\0')
				return (cli_usage_error("--control needs a "
				    "socket path (or 'none')"));
			o.control = optarg;
			continue;
		case 'k':
			if (util_parse_u64(optarg, 1, 10000000, &v,
			    &cause) != 0) {
				cli_usage_error("--chunk-rows: %s", cause);
				free(cause);
				return (CLI_USAGE);
			}
			o.sync.chunk_rows = v;
			continue;
		case 'b':
			if (util_parse_u64(optarg, 0, 3600000, &v,
			    &cause) != 0) {
				cli_usage_error("--heartbeat-ms: %s", cause);
				free(cause);
				return (CLI_USAGE);
			}
			o.sync.heartbeat_record_ms = (int)v;
			continue;
		case 'B':
			if (util_parse_u64(optarg, 100, 60000, &v,
			    &cause) != 0) {
				cli_usage_error("--binlog-heartbeat-ms: %s",
				    cause);
				free(cause);
				return (CLI_USAGE);
			}
			o.sync.heartbeat_ms = (int)v;
			continue;
		case 'S':
			if (strcmp(optarg, "on") == 0)
				o.sync.shared_reader = 1;
			else if (strcmp(optarg, "off") == 0)
				o.sync.shared_reader = 0;
			else
				return (cli_usage_error("--shared-reader takes "
				    "on or off, not '%s'", optarg));
			continue;
		case 'p': target = &o.poll_ms; name = "--poll-ms"; break;
		case 'l': target = &o.lease_ms; name = "--lease-ms"; break;
		case 'c':
			target = &o.sync.checkpoint_ms;
			name = "--checkpoint-ms";
			break;
		case 'r':
			target = &o.sync.retry_min_ms;
			name = "--retry-min-ms";
			break;
		case 'R':
			target = &o.sync.retry_max_ms;
			name = "--retry-max-ms";
			break;
		case 'h':
			serve_usage(stdout);
			return (CLI_OK);
		default:
			return (cli_option_error("serve", argv, ch));
		}
		if (util_parse_u64(optarg, 10, 3600000, &v, &cause) != 0) {
			cli_usage_error("%s: %s", name, cause);
			free(cause);
			return (CLI_USAGE);
		}
		*target = (int)v;
	}
	if (optind < argc)
		return (cli_usage_error("serve takes no argument ('%s')",
		    argv[optind]));
	if (o.sync.retry_max_ms < o.sync.retry_min_ms)
		o.sync.retry_max_ms = o.sync.retry_min_ms;
	if (log_open("ferry", ctx->log_level_set ? log_get_level() :
	    LOG_LEVEL_INFO, logfile, &cause) != 0) {
		cli_error("%s", cause);
		free(cause);
		return (CLI_FAIL);
	}
	/*
	 * The daemon holds every endpoint's password in memory: no core
	 * dump of it, and no ptrace by another process of the same user.
	 */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
		log_warnx("cannot make the daemon undumpable: %s",
		    strerror(errno));
	if (daemon_run(&o, &cause) != 0) {
		log_error("%s", cause);
		cli_error("%s", cause);
		free(cause);
		return (CLI_FAIL);
	}
	return (CLI_OK);
}

int
cmd_serve(struct cli_ctx *ctx, int argc, char **argv)
{
	const char	*config = NULL;
	char		**v;
	int		 i, made = 0, rc;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
			config = argv[i + 1];
		else if (strncmp(argv[i], "--config=", 9) == 0)
			config = argv[i] + 9;
	}
	if (config == NULL)
		return (serve_main(ctx, argc, argv));
	if ((v = serve_config(config, &argc, argv, &made)) == NULL)
		return (CLI_USAGE);
	rc = serve_main(ctx, argc, v);
	for (i = 1; i <= made; i++)
		free(v[i]);
	free(v);
	return (rc);
}
