/*
 * ferry precheck JOB [--json]: every item of the precheck (engine/
 * precheck.c) against the job's source and targets as they are now, the
 * same the daemon runs before the job's first start.  Exit 0 when no item
 * fails, 1 when one does.
 *
 * The servers are reached as the job reaches them: the endpoints'
 * addresses, credentials and TLS, and, for a tenant's job, the daemon's
 * network policy.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/cli_store.h"
#include "common/buf.h"
#include "common/xmalloc.h"
#include "engine/job_spec.h"
#include "engine/precheck.h"
#include "scheduler/store.h"

static const char precheck_usage[] =
    "usage: ferry precheck JOB [--json]\n"
    "\n"
    "Check what JOB needs of its source and targets, every item, and say\n"
    "what to change for each that fails: the source's version and binlog\n"
    "settings, server ids, GTIDs, binlog retention, the account's\n"
    "privileges, each table (exists, a base table, a key), each target\n"
    "(reachable, its version, each topic: leaders, max.message.bytes,\n"
    "write permission) and targets sharing a cluster.\n"
    "\n"
    "  --json    {\"job\": ID, \"ok\": BOOL, \"items\": [{\"name\", \"result\",\n"
    "            \"found\", \"fix\"}, ...]}\n"
    "\n"
    "Exit status: 0 when no item fails (warnings allowed), 1 when one does.\n";

static void
precheck_print(const struct precheck *pc, const struct job *j)
{
	const struct precheck_item	*it;
	size_t				 i;

	for (i = 0; i < pc->n; i++) {
		it = &pc->items[i];
		printf("%-4s  %-40s %s\n", it->result == PRECHECK_FAIL ?
		    "FAIL" : precheck_result_name(it->result), it->name,
		    it->found);
		if (*it->fix != '\0')
			printf("%-4s  %-40s fix: %s\n", "", "", it->fix);
	}
	printf("precheck of job %lld (%s): %zu failed, %zu warning%s, %zu "
	    "passed\n", (long long)j->id, j->name,
	    precheck_count(pc, PRECHECK_FAIL), precheck_count(pc,
	    PRECHECK_WARN), precheck_count(pc, PRECHECK_WARN) == 1 ? "" : "s",
	    precheck_count(pc, PRECHECK_PASS));
}

int
cmd_precheck(struct cli_ctx *ctx, int argc, char **argv)
{
	struct precheck_opts	 o;
	struct precheck		 pc;
	struct job_spec		 spec;
	struct jobstore		*js = NULL;
	struct store		*s;
	struct tenant		 t;
	struct job		 j;
	struct buf		 b = BUF_INITIALIZER;
	const char		*name = NULL;
	char			*cause = NULL;
	int			 json = 0, k, permanent = 0, status = CLI_FAIL;

	for (k = 1; k < argc; k++) {
		if (strcmp(argv[k], "--json") == 0)
			json = 1;
		else if (strcmp(argv[k], "--help") == 0 ||
		    strcmp(argv[k], "-h") == 0) {
			fputs(precheck_usage, stdout);
			return (CLI_OK);
		} else if (argv[k][0] == '-')
			return (cli_usage_error("unknown option '%s' for "
			    "precheck", argv[k]));
		else if (name == NULL)
			name = argv[k];
		else
			return (cli_usage_error("precheck needs one JOB"));
	}
	if (name == NULL)
		return (cli_usage_error("precheck needs one JOB"));
	if (cli_net_policy() != 0)
		return (CLI_FAIL);
	if ((s = cli_store_open(ctx, &t)) == NULL)
		return (CLI_FAIL);
	memset(&j, 0, sizeof j);
	memset(&o, 0, sizeof o);
	job_spec_init(&spec);
	precheck_init(&pc);
	if (store_job_find(s, t.id, name, &j, &cause) != 0) {
		cli_error("%s", cause);
		store_close(s);
		goto out;
	}
	o.running = job_state_running(j.state);
	/* The job as the daemon loads it: endpoints resolved, secrets
	 * opened. */
	store_close(s);
	if ((js = store_door_open(ctx->db_path, j.id, &cause)) == NULL ||
	    js->ops->load(js, &spec, &permanent, &cause) != 0) {
		cli_error("job %s: %s", name, cause);
		goto out;
	}
	js->ops->close(js);
	js = NULL;
	o.allow_no_key = spec.allow_no_key;
	precheck_run(&spec, &o, &pc);
	if (json) {
		precheck_json(&pc, j.id, &b);
		cli_print_json(&b);
	} else
		precheck_print(&pc, &j);
	status = precheck_count(&pc, PRECHECK_FAIL) > 0 ? CLI_FAIL : CLI_OK;
out:
	if (js != NULL)
		js->ops->close(js);
	buf_release(&b);
	precheck_release(&pc);
	job_spec_release(&spec);
	job_release(&j);
	tenant_release(&t);
	free(cause);
	return (status);
}
