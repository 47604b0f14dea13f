/*
 * ferry status [--watch [--interval SECONDS]] [--json]: every job of the
 * current tenant, its state, checkpoint and progress.
 *
 * On a terminal --watch redraws the screen; otherwise it prints one block
 * (or, with --json, one JSON array per line) per interval, for scripts and
 * logs.  It ends on SIGINT or SIGTERM with status 0.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/cli_job.h"
#include "cli/cli_store.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "scheduler/store.h"

static volatile sig_atomic_t status_stop;

static void
status_signal(int sig)
{
	(void)sig;
	status_stop = 1;
}

static void
status_usage(FILE *fp)
{
	fprintf(fp,
	    "usage: ferry status [--watch [--interval SECONDS]] [--json]\n"
	    "\n"
	    "Show every job of the tenant: state, checkpoint, full-sync "
	    "progress, lag.\n"
	    "--watch repeats every interval (default 2 s) until interrupted.\n");
}

int
cmd_status(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option	 opts[] = {
		{ "watch", no_argument, NULL, 'w' },
		{ "interval", required_argument, NULL, 'i' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct sigaction		 sa;
	struct timespec			 ts;
	struct store			*s;
	struct tenant			 t;
	struct job			*jobs;
	uint64_t			 interval = 2;
	size_t				 n;
	char				*cause = NULL;
	int				 ch, watch = 0, json = 0, tty;
	int				 status = CLI_FAIL;

	optind = 0;
	while ((ch = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (ch) {
		case 'w':
			watch = 1;
			break;
		case 'i':
			if (util_parse_u64(optarg, 1, 3600, &interval,
			    &cause) != 0) {
				cli_usage_error("--interval: %s", cause);
				free(cause);
				return (CLI_USAGE);
			}
			break;
		case 'j':
			json = 1;
			break;
		case 'h':
			status_usage(stdout);
			return (CLI_OK);
		default:
			return (cli_option_error("status", argv, ch));
		}
	}
	if (optind < argc)
		return (cli_usage_error("status takes no argument ('%s')",
		    argv[optind]));
	if ((s = cli_store_open(ctx, &t)) == NULL)
		return (CLI_FAIL);
	tty = isatty(STDOUT_FILENO);
	if (watch) {
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = status_signal;
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
	}
	for (;;) {
		if (store_job_list(s, t.id, &jobs, &n, &cause) != 0) {
			cli_error("%s", cause);
			goto out;
		}
		if (watch && tty && !json)
			printf("\033[H\033[2J");
		if (n == 0 && !json)
			printf("no jobs for tenant %s (create one with: ferry "
			    "job create)\n", t.name);
		else if (cli_job_print_status(s, jobs, n, json, tty,
		    &cause) != 0) {
			cli_error("%s", cause);
			job_list_free(jobs, n);
			goto out;
		}
		job_list_free(jobs, n);
		if (!watch)
			break;
		if (!tty && !json)
			printf("\n");
		fflush(stdout);
		ts.tv_sec = (time_t)interval;
		ts.tv_nsec = 0;
		while (!status_stop && nanosleep(&ts, &ts) == -1 &&
		    errno == EINTR)
			;
		if (status_stop)
			break;
	}
	status = CLI_OK;
out:
	free(cause);
	tenant_release(&t);
	store_close(s);
	return (status);
}
