/*
 * ferry binlog dump: show what binlog files (or a live server) hold, event
 * by event, as JSON or text (docs/CLI.md).
 *
 * A malformed event stops the dump: everything before it is printed, then
 * "ferry: FILE: offset N: what is wrong" on stderr, exit 1.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/binlog_print.h"
#include "cli/cli.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "engine/binlog.h"
#include "engine/binlog_client.h"
#include "engine/change.h"
#include "engine/record.h"
#include "schema/dts_avro.h"
#include "engine/binlog_file.h"
#include "engine/mysql_conn.h"

static void
binlog_usage(FILE *fp)
{
	fprintf(fp,
	    "usage: ferry binlog convert --out DIR FILE...\n"
	    "       ferry binlog dump [--format json|text] FILE...\n"
	    "       ferry binlog dump --source mysql://USER@HOST:PORT\n"
	    "             [--password-file F | --password-env VAR]\n"
	    "             [--from FILE:POS | --from-gtid SET] [--count N | "
	    "--stop-never]\n"
	    "             [--server-id N] [--format json|text]\n"
	    "\n"
	    "convert: write the DTS Avro records a job would write for these "
	    "binlog files,\n"
	    "one bare Avro datum per file, DIR/00000001.avro, ... in stream "
	    "order.\n"
	    "\n"
	    "dump: decode binlog files, or the binlog of a live server read as "
	    "a replica,\n"
	    "and print one event per line.\n"
	    "\n"
	    "  --format json|text  JSON objects (the default) or text\n"
	    "  --source URL        read from this server (mysql://USER@HOST:PORT"
	    "[?tls=1])\n"
	    "  --password-file F   the password, from a file (never on the "
	    "command line)\n"
	    "  --password-env VAR  the password, from an environment variable\n"
	    "  --from FILE:POS     start at this binlog file and position "
	    "(default: the\n"
	    "                      first binlog the server has)\n"
	    "  --from-gtid SET     start after this GTID set (MySQL) or "
	    "position (MariaDB)\n"
	    "  --count N           stop after N events\n"
	    "  --stop-never        wait for new events instead of stopping at "
	    "the end\n"
	    "  --server-id N       the replica server id to use (default: "
	    "random)\n"
	    "  --heartbeat SEC     ask the server for a heartbeat every SEC "
	    "seconds when idle\n"
	    "                      (default 10 with --stop-never)\n");
}

/* Dump one file; returns CLI_OK or CLI_FAIL (the error already said). */
static int
binlog_dump_file(const char *path, struct binlog_printer *bp)
{
	struct binlog_file	*f;
	struct binlog_decoder	*dec;
	struct binlog_event	 ev;
	const uint8_t		*raw;
	size_t			 len;
	uint64_t		 off = 0;
	char			*cause = NULL, *copy;
	int			 rc, status = CLI_OK;

	if ((f = binlog_file_open(path, &cause)) == NULL) {
		cli_error("%s: %s", path, cause);
		free(cause);
		return (CLI_FAIL);
	}
	copy = xstrdup(path);
	bp->file = basename(copy);
	dec = binlog_decoder_new();
	for (;;) {
		rc = binlog_file_next(f, &raw, &len, &off, &cause);
		if (rc == 0)
			break;
		if (rc < 0) {
			fflush(stdout);
			cli_error("%s: %s", path, cause);
			status = CLI_FAIL;
			break;
		}
		if (binlog_decoder_feed(dec, raw, len, off, &cause) != 0)
			goto bad;
		while ((rc = binlog_decoder_next(dec, &ev, &cause)) == 1) {
			if (binlog_print_event(bp, dec, &ev, stdout,
			    &cause) != 0)
				goto bad;
		}
		if (rc < 0)
			goto bad;
		continue;
bad:
		fflush(stdout);
		cli_error("%s: offset %" PRIu64 ": %s", path, off, cause);
		status = CLI_FAIL;
		break;
	}
	free(cause);
	binlog_decoder_free(dec);
	binlog_file_close(f);
	free(copy);
	bp->file = NULL;
	return (status);
}

/* Dump a live server's binlog. */
static int
binlog_dump_source(struct binlog_client_opts *o, uint64_t count,
    struct binlog_printer *bp)
{
	struct binlog_client	*c;
	struct binlog_decoder	*dec;
	struct binlog_event	 ev;
	enum binlog_client_error kind;
	const uint8_t		*raw;
	size_t			 len;
	uint64_t		 off, n = 0;
	char			*cause = NULL;
	int			 rc, status = CLI_OK;

	if ((c = binlog_client_open(o, &kind, &cause)) == NULL) {
		cli_error("%s", cause);
		free(cause);
		return (CLI_FAIL);
	}
	dec = binlog_decoder_new();
	binlog_decoder_set_checksum(dec, binlog_client_checksum(c));
	while (count == 0 || n < count) {
		rc = binlog_client_next(c, &raw, &len, &off, &kind, &cause);
		if (rc == 0)
			break;
		if (rc < 0) {
			fflush(stdout);
			cli_error("%s", cause);
			status = CLI_FAIL;
			break;
		}
		bp->file = binlog_client_file(c);
		if (binlog_decoder_feed(dec, raw, len, off, &cause) != 0)
			goto bad;
		while ((rc = binlog_decoder_next(dec, &ev, &cause)) == 1) {
			if (binlog_print_event(bp, dec, &ev, stdout,
			    &cause) != 0)
				goto bad;
			n++;
		}
		if (rc < 0)
			goto bad;
		if (fflush(stdout) != 0) {
			cli_error("cannot write the output");
			status = CLI_FAIL;
			break;
		}
		continue;
bad:
		fflush(stdout);
		cli_error("%s: offset %" PRIu64 ": %s", binlog_client_file(c),
		    off, cause);
		status = CLI_FAIL;
		break;
	}
	free(cause);
	bp->file = NULL;
	binlog_decoder_free(dec);
	binlog_client_close(c);
	return (status);
}

/* "FILE:POS" */
static int
binlog_parse_from(const char *s, struct binlog_client_opts *o)
{
	const char	*colon = strrchr(s, ':');
	char		*cause = NULL;

	if (colon == NULL || colon == s) {
		cli_usage_error("--from takes FILE:POS, not '%s'", s);
		return (-1);
	}
	if (util_parse_u64(colon + 1, 4, UINT32_MAX, &o->pos, &cause) != 0) {
		cli_usage_error("--from %s: the position %s", s, cause);
		free(cause);
		return (-1);
	}
	o->file = xstrndup(s, (size_t)(colon - s));
	return (0);
}

static int
binlog_dump(int argc, char **argv)
{
	static const struct option	 opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "source", required_argument, NULL, 's' },
		{ "password-file", required_argument, NULL, 'P' },
		{ "password-env", required_argument, NULL, 'E' },
		{ "from", required_argument, NULL, 'F' },
		{ "from-gtid", required_argument, NULL, 'G' },
		{ "count", required_argument, NULL, 'c' },
		{ "stop-never", no_argument, NULL, 'n' },
		{ "server-id", required_argument, NULL, 'i' },
		{ "heartbeat", required_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct binlog_printer		 bp;
	struct binlog_client_opts	 o;
	enum binlog_print_format	 fmt = BINLOG_PRINT_JSON;
	const char			*source = NULL, *pwfile = NULL;
	const char			*pwenv = NULL;
	char				*cause = NULL, *prompt;
	uint64_t			 count = 0, v;
	int				 ch, i, status = CLI_OK, stop_never = 0;
	int				 heartbeat = -1;

	binlog_client_opts_init(&o);
	while ((ch = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (ch) {
		case 's':
			source = optarg;
			break;
		case 'P':
			pwfile = optarg;
			break;
		case 'E':
			pwenv = optarg;
			break;
		case 'F':
			if (binlog_parse_from(optarg, &o) != 0) {
				status = CLI_USAGE;
				goto out;
			}
			break;
		case 'G':
			free(o.gtid);
			o.gtid = xstrdup(optarg);
			break;
		case 'c':
			if (util_parse_u64(optarg, 1, UINT64_MAX, &count,
			    &cause) != 0) {
				status = cli_usage_error("--count: %s", cause);
				goto out;
			}
			break;
		case 'n':
			stop_never = 1;
			break;
		case 'i':
			if (util_parse_u64(optarg, 1, UINT32_MAX, &v,
			    &cause) != 0) {
				status = cli_usage_error("--server-id: %s",
				    cause);
				goto out;
			}
			o.server_id = (uint32_t)v;
			break;
		case 'b':
			if (util_parse_u64(optarg, 1, 3600, &v, &cause) != 0) {
				status = cli_usage_error("--heartbeat: %s",
				    cause);
				goto out;
			}
			heartbeat = (int)v;
			break;
		case 'f':
			if (strcmp(optarg, "json") == 0)
				fmt = BINLOG_PRINT_JSON;
			else if (strcmp(optarg, "text") == 0)
				fmt = BINLOG_PRINT_TEXT;
			else
				return (cli_usage_error("--format must be json "
				    "or text, not '%s'", optarg));
			break;
		case 'h':
			binlog_usage(stdout);
			goto out;
		default:
			status = cli_option_error("binlog dump", argv, ch);
			goto out;
		}
	}
	argc -= optind;
	argv += optind;
	if (source == NULL) {
		if (argc == 0) {
			status = cli_usage_error("binlog dump needs a FILE or "
			    "--source");
			goto out;
		}
		if (pwfile != NULL || pwenv != NULL || o.file != NULL ||
		    o.gtid != NULL || count != 0 || stop_never ||
		    o.server_id != 0 || heartbeat != -1) {
			status = cli_usage_error("--password-*, --from, "
			    "--from-gtid, --count, --stop-never, --server-id "
			    "and --heartbeat go with --source");
			goto out;
		}
		binlog_printer_init(&bp, fmt);
		for (i = 0; i < argc && status == CLI_OK; i++)
			status = binlog_dump_file(argv[i], &bp);
	} else {
		if (argc != 0) {
			status = cli_usage_error("give --source or FILEs, not "
			    "both");
			goto out;
		}
		if (o.file != NULL && o.gtid != NULL) {
			status = cli_usage_error("give --from or --from-gtid, "
			    "not both");
			goto out;
		}
		if (count != 0 && stop_never) {
			status = cli_usage_error("give --count or "
			    "--stop-never, not both");
			goto out;
		}
		if (mysql_conn_opts_from_url(&o.conn, source, &cause) != 0) {
			status = cli_usage_error("--source: %s", cause);
			goto out;
		}
		prompt = xasprintf("Password for %s@%s: ", o.conn.user,
		    o.conn.host);
		if (cli_read_secret(pwfile, pwenv, prompt, 1,
		    &o.conn.password) != 0) {
			free(prompt);
			status = CLI_FAIL;
			goto out;
		}
		free(prompt);
		if (o.server_id == 0) {
			/* High and random: unlikely to meet a real replica. */
			o.server_id = 0x40000000u | ((uint32_t)getpid() << 8) |
			    (uint32_t)(util_wall_us() & 0xff);
		}
		o.nonblocking = !stop_never;
		o.heartbeat_ms = heartbeat > 0 ? (unsigned int)heartbeat * 1000 :
		    stop_never ? 10000 : 0;
		binlog_printer_init(&bp, fmt);
		status = binlog_dump_source(&o, count, &bp);
	}
	binlog_printer_release(&bp);
	if (fflush(stdout) != 0 && status == CLI_OK) {
		cli_error("cannot write the output");
		status = CLI_FAIL;
	}
out:
	free(cause);
	binlog_client_opts_release(&o);
	return (status);
}

struct convert {
	const char		*dir;
	struct record_maker	*maker;
	struct dts_encoder	*enc;
	struct buf		 out;
	uint64_t		 n;
};

/* Change callback: one record, one file. */
static int
convert_change(void *arg, const struct change *c, char **cause)
{
	struct convert	*cv = arg;
	char		 path[4096];
	ssize_t		 w;
	size_t		 done = 0;
	int		 fd;

	buf_reset(&cv->out);
	if (record_make(cv->maker, c, cv->enc, &cv->out, cause) != 0)
		return (-1);
	snprintf(path, sizeof path, "%s/%08" PRIu64 ".avro", cv->dir,
	    cv->n + 1);
	if ((fd = open(path, O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC, 0644)) == -1) {
		*cause = xasprintf("cannot create %s: %s", path,
		    strerror(errno));
		return (-1);
	}
	while (done < cv->out.len) {
		w = write(fd, cv->out.data + done, cv->out.len - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			*cause = xasprintf("cannot write %s: %s", path,
			    strerror(errno));
			close(fd);
			return (-1);
		}
		done += (size_t)w;
	}
	if (close(fd) != 0) {
		*cause = xasprintf("cannot write %s: %s", path,
		    strerror(errno));
		return (-1);
	}
	cv->n++;
	return (0);
}

static int
convert_file(const char *path, struct convert *cv,
    struct change_builder *cb)
{
	struct binlog_file	*f;
	struct binlog_decoder	*dec;
	struct binlog_event	 ev;
	const uint8_t		*raw;
	size_t			 len;
	uint64_t		 off = 0;
	char			*cause = NULL, *copy;
	int			 rc, status = CLI_OK;

	if ((f = binlog_file_open(path, &cause)) == NULL) {
		cli_error("%s: %s", path, cause);
		free(cause);
		return (CLI_FAIL);
	}
	copy = xstrdup(path);
	change_builder_set_file(cb, basename(copy));
	free(copy);
	dec = binlog_decoder_new();
	while ((rc = binlog_file_next(f, &raw, &len, &off, &cause)) == 1) {
		if (binlog_decoder_feed(dec, raw, len, off, &cause) != 0)
			break;
		while ((rc = binlog_decoder_next(dec, &ev, &cause)) == 1) {
			if (change_builder_feed(cb, dec, &ev, &cause) != 0) {
				rc = -1;
				break;
			}
		}
		if (rc < 0)
			break;
	}
	if (cause != NULL) {
		if (strncmp(cause, "offset ", 7) == 0)
			cli_error("%s: %s", path, cause);
		else
			cli_error("%s: offset %" PRIu64 ": %s", path, off,
			    cause);
		status = CLI_FAIL;
	}
	free(cause);
	binlog_decoder_free(dec);
	binlog_file_close(f);
	return (status);
}

static int
binlog_convert(int argc, char **argv)
{
	static const struct option	 opts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct convert			 cv;
	struct change_builder		*cb;
	struct dirent			*de;
	DIR				*d;
	int				 ch, i, status = CLI_OK;

	memset(&cv, 0, sizeof cv);
	while ((ch = getopt_long(argc, argv, ":ho:", opts, NULL)) != -1) {
		switch (ch) {
		case 'o':
			cv.dir = optarg;
			break;
		case 'h':
			binlog_usage(stdout);
			return (CLI_OK);
		default:
			return (cli_option_error("binlog convert", argv, ch));
		}
	}
	argc -= optind;
	argv += optind;
	if (cv.dir == NULL)
		return (cli_usage_error("binlog convert needs --out DIR"));
	if (argc == 0)
		return (cli_usage_error("binlog convert needs a FILE"));
	if (mkdir(cv.dir, 0755) != 0 && errno != EEXIST) {
		cli_error("cannot create %s: %s", cv.dir, strerror(errno));
		return (CLI_FAIL);
	}
	/* Never mix two runs' records. */
	if ((d = opendir(cv.dir)) == NULL) {
		cli_error("cannot open %s: %s", cv.dir, strerror(errno));
		return (CLI_FAIL);
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0) {
			closedir(d);
			cli_error("%s is not empty; give an empty or new "
			    "directory", cv.dir);
			return (CLI_FAIL);
		}
	}
	closedir(d);
	cv.maker = record_maker_new(1);
	cv.enc = dts_encoder_new();
	buf_init(&cv.out);
	cb = change_builder_new(convert_change, NULL, &cv);
	for (i = 0; i < argc && status == CLI_OK; i++)
		status = convert_file(argv[i], &cv, cb);
	printf("%" PRIu64 " records written to %s\n", cv.n, cv.dir);
	change_builder_free(cb);
	buf_release(&cv.out);
	dts_encoder_free(cv.enc);
	record_maker_free(cv.maker);
	return (status);
}

int
cmd_binlog(struct cli_ctx *ctx, int argc, char **argv)
{
	if (argc < 2) {
		binlog_usage(stderr);
		return (CLI_USAGE);
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		binlog_usage(stdout);
		return (CLI_OK);
	}
	if (strcmp(argv[1], "dump") == 0)
		return (binlog_dump(argc - 1, argv + 1));
	if (strcmp(argv[1], "convert") == 0)
		return (binlog_convert(argc - 1, argv + 1));
	return (cli_usage_error("unknown binlog command '%s' (dump, "
	    "convert)", argv[1]));
}
