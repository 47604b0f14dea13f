/*
 * ferry binlog dump: show what binlog files (or a live server) hold, event
 * by event, as JSON or text (docs/CLI.md).
 *
 * A malformed event stops the dump: everything before it is printed, then
 * "ferry: FILE: offset N: what is wrong" on stderr, exit 1.
 */
#include "config.h"

#include <getopt.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/binlog_print.h"
#include "cli/cli.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "engine/binlog.h"
#include "engine/binlog_file.h"

static void
binlog_usage(FILE *fp)
{
	fprintf(fp,
	    "usage: ferry binlog dump [--format json|text] FILE...\n"
	    "\n"
	    "Decode binlog files and print one event per line.\n"
	    "\n"
	    "  --format json|text  JSON objects (the default) or text\n");
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

static int
binlog_dump(int argc, char **argv)
{
	static const struct option	 opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct binlog_printer		 bp;
	enum binlog_print_format	 fmt = BINLOG_PRINT_JSON;
	int				 ch, i, status = CLI_OK;

	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
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
			return (CLI_OK);
		default:
			binlog_usage(stderr);
			return (CLI_USAGE);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0)
		return (cli_usage_error("binlog dump needs a FILE"));
	binlog_printer_init(&bp, fmt);
	for (i = 0; i < argc && status == CLI_OK; i++)
		status = binlog_dump_file(argv[i], &bp);
	binlog_printer_release(&bp);
	if (fflush(stdout) != 0 && status == CLI_OK) {
		cli_error("cannot write the output");
		status = CLI_FAIL;
	}
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
	return (cli_usage_error("unknown binlog command '%s' (dump)",
	    argv[1]));
}
