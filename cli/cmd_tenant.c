/*
 * ferry tenant add|set|list|show: tenants and their quotas.
 *
 * Quotas: the number of jobs (enforced when a job is created), the memory
 * budget of each job (a job's default, and its ceiling) and the rows per
 * second of all the tenant's jobs (the daemon holds them to it:
 * engine/throttle.c).  The tenant "default" always exists.
 */
#include "config.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_store.h"
#include "common/buf.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "scheduler/store.h"

static void
tenant_usage(FILE *fp)
{
	fprintf(fp,
	    "usage: ferry tenant add NAME [--max-jobs N] [--max-memory SIZE] "
	    "[--max-rows-per-sec N]\n"
	    "       ferry tenant set NAME [--max-jobs N|none] "
	    "[--max-memory SIZE|none]\n"
	    "                             [--max-rows-per-sec N|none]\n"
	    "       ferry tenant list|show NAME [--json]\n"
	    "       ferry tenant rm NAME  (with its tokens and key; it has no "
	    "job or endpoint)\n"
	    "       ferry tenant defaults [--max-jobs N|none] "
	    "[--max-memory SIZE|none]\n"
	    "                             [--max-rows-per-sec N|none] [--json]"
	    "  (new tenants')\n"
	    "       ferry tenant token add|list|rm NAME|--operator ... "
	    "(API tokens)\n"
	    "\n"
	    "Tenants own endpoints and jobs; a tenant sees only its own "
	    "(--tenant).\n");
}

static void
tenant_json(struct buf *b, const struct tenant *t)
{
	buf_addc(b, '{');
	cli_json_int(b, "id", t->id, 1);
	cli_json_str(b, "name", t->name, 0);
	cli_json_int(b, "max_jobs", t->max_jobs, 0);
	cli_json_int(b, "max_memory", t->max_memory, 0);
	cli_json_int(b, "max_rows_per_sec", t->max_rows_per_sec, 0);
	buf_addc(b, '}');
}

static const char *
tenant_limit(int64_t v, char *buf, size_t len)
{
	if (v < 0)
		return ("unlimited");
	snprintf(buf, len, "%" PRId64, v);
	return (buf);
}

/*
 * ferry tenant defaults [quota options] [--json]: the quotas a new tenant
 * gets (tenant add with no option for one): shown, or set (t's given
 * ones, -2 for the others).
 */
static int
tenant_defaults(struct store *s, const struct tenant *t, int json)
{
	struct tenant	 def;
	struct buf	 b = BUF_INITIALIZER;
	char		*cause = NULL, l1[32], l2[32], l3[32];

	if (store_tenant_defaults(s, &def, &cause) != 0)
		goto fail;
	if (t->max_jobs != -2 || t->max_memory != -2 ||
	    t->max_rows_per_sec != -2) {
		if (t->max_jobs != -2)
			def.max_jobs = t->max_jobs;
		if (t->max_memory != -2)
			def.max_memory = t->max_memory;
		if (t->max_rows_per_sec != -2)
			def.max_rows_per_sec = t->max_rows_per_sec;
		if (store_tenant_defaults_set(s, &def, &cause) != 0)
			goto fail;
		printf("new tenants get: max jobs %s, max memory %s, max "
		    "rows/s %s\n", tenant_limit(def.max_jobs, l1, sizeof l1),
		    tenant_limit(def.max_memory, l2, sizeof l2),
		    tenant_limit(def.max_rows_per_sec, l3, sizeof l3));
		return (CLI_OK);
	}
	if (json) {
		def.name = (char *)"(defaults)";
		tenant_json(&b, &def);
		cli_print_json(&b);
		buf_release(&b);
		return (CLI_OK);
	}
	printf("max jobs:         %s\n", tenant_limit(def.max_jobs, l1,
	    sizeof l1));
	printf("max memory:       %s\n", tenant_limit(def.max_memory, l2,
	    sizeof l2));
	printf("max rows/s:       %s\n", tenant_limit(def.max_rows_per_sec,
	    l3, sizeof l3));
	return (CLI_OK);
fail:
	cli_error("%s", cause);
	free(cause);
	return (CLI_FAIL);
}

/* Parse the quota options into t; returns CLI_OK or CLI_USAGE. */
static int
tenant_opts(int argc, char **argv, struct tenant *t, int *json)
{
	static const struct option	 opts[] = {
		{ "max-jobs", required_argument, NULL, 'j' },
		{ "max-memory", required_argument, NULL, 'm' },
		{ "max-rows-per-sec", required_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'J' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	char				*cause = NULL;
	uint64_t			 v;
	int				 ch;

	while ((ch = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (ch) {
		case 'j':
		case 'r':
			if (strcmp(optarg, "none") == 0)
				v = (uint64_t)-1;
			else if (util_parse_u64(optarg, 0, INT64_MAX, &v,
			    &cause) != 0) {
				cli_usage_error("--%s: %s", ch == 'j' ?
				    "max-jobs" : "max-rows-per-sec", cause);
				free(cause);
				return (CLI_USAGE);
			}
			if (ch == 'j')
				t->max_jobs = (int64_t)v;
			else
				t->max_rows_per_sec = (int64_t)v;
			break;
		case 'm':
			if (strcmp(optarg, "none") == 0)
				t->max_memory = -1;
			else if (cli_parse_size(optarg, &t->max_memory,
			    &cause) != 0) {
				cli_usage_error("--max-memory: %s", cause);
				free(cause);
				return (CLI_USAGE);
			} else if (t->max_memory < 1024 * 1024 ||
			    t->max_memory > CLI_MAX_MEMORY)
				return (cli_usage_error("--max-memory: a job's "
				    "budget is 1M to 1T"));
			break;
		case 'J':
			*json = 1;
			break;
		case 'h':
			tenant_usage(stdout);
			return (-1);
		default:
			return (cli_option_error("tenant", argv, ch));
		}
	}
	return (CLI_OK);
}

int
cmd_tenant(struct cli_ctx *ctx, int argc, char **argv)
{
	struct store	*s;
	struct tenant	 t, cur, *list;
	struct buf	 b = BUF_INITIALIZER;
	const char	*sub;
	char		*cause = NULL, l1[32], l2[32], l3[32];
	size_t		 n, i;
	int		 rc, json = 0, status = CLI_FAIL;

	if (argc < 2) {
		tenant_usage(stderr);
		return (CLI_USAGE);
	}
	sub = argv[1];
	if (strcmp(sub, "--help") == 0 || strcmp(sub, "help") == 0) {
		tenant_usage(stdout);
		return (CLI_OK);
	}
	if (strcmp(sub, "token") == 0)
		return (cmd_tenant_token(ctx, argc - 1, argv + 1));
	memset(&t, 0, sizeof t);
	t.max_jobs = t.max_memory = t.max_rows_per_sec = -2;	/* unset */
	optind = 0;
	if ((rc = tenant_opts(argc - 1, argv + 1, &t, &json)) != CLI_OK)
		return (rc == -1 ? CLI_OK : rc);
	argc -= optind + 1;
	argv += optind + 1;
	if (strcmp(sub, "defaults") == 0) {
		if (argc != 0)
			return (cli_usage_error("tenant defaults takes no NAME"));
		if ((s = cli_store_open(ctx, NULL)) == NULL)
			return (CLI_FAIL);
		status = tenant_defaults(s, &t, json);
		goto out;
	}
	if (strcmp(sub, "list") == 0) {
		if (argc != 0)
			return (cli_usage_error("tenant list takes no NAME"));
		if ((s = cli_store_open(ctx, NULL)) == NULL)
			return (CLI_FAIL);
		if (store_tenant_list(s, &list, &n, &cause) != 0) {
			cli_error("%s", cause);
			goto out;
		}
		if (json) {
			buf_addc(&b, '[');
			for (i = 0; i < n; i++) {
				if (i > 0)
					buf_addc(&b, ',');
				tenant_json(&b, &list[i]);
			}
			buf_addc(&b, ']');
			cli_print_json(&b);
		} else {
			printf("%-20s %-10s %-14s %s\n", "NAME", "MAX-JOBS",
			    "MAX-MEMORY", "MAX-ROWS/S");
			for (i = 0; i < n; i++)
				printf("%-20s %-10s %-14s %s\n", list[i].name,
				    tenant_limit(list[i].max_jobs, l1,
				    sizeof l1), tenant_limit(list[i].max_memory,
				    l2, sizeof l2),
				    tenant_limit(list[i].max_rows_per_sec, l3,
				    sizeof l3));
		}
		for (i = 0; i < n; i++)
			tenant_release(&list[i]);
		free(list);
		status = CLI_OK;
		goto out;
	}
	if (strcmp(sub, "rm") == 0) {
		if (argc != 1)
			return (cli_usage_error("tenant rm needs one NAME"));
		if ((s = cli_store_open(ctx, NULL)) == NULL)
			return (CLI_FAIL);
		if (store_tenant_rm(s, argv[0], &cause) != 0) {
			cli_error("%s", cause);
			goto out;
		}
		printf("tenant %s removed, with its tokens and its key\n",
		    argv[0]);
		status = CLI_OK;
		goto out;
	}
	if (strcmp(sub, "add") != 0 && strcmp(sub, "set") != 0 &&
	    strcmp(sub, "show") != 0)
		return (cli_usage_error("unknown tenant command '%s' (add, set, "
		    "list, show, rm, defaults, token)", sub));
	if (argc != 1)
		return (cli_usage_error("tenant %s needs one NAME", sub));
	if (cli_valid_name("tenant", argv[0]) != 0)
		return (CLI_USAGE);
	if ((s = cli_store_open(ctx, NULL)) == NULL)
		return (CLI_FAIL);
	t.name = argv[0];
	if (strcmp(sub, "add") == 0) {
		struct tenant	 def;

		if (store_tenant_defaults(s, &def, &cause) != 0) {
			cli_error("%s", cause);
			goto out;
		}
		if (t.max_jobs == -2)
			t.max_jobs = def.max_jobs;
		if (t.max_memory == -2)
			t.max_memory = def.max_memory;
		if (t.max_rows_per_sec == -2)
			t.max_rows_per_sec = def.max_rows_per_sec;
		if (store_tenant_add(s, &t, &cause) != 0) {
			cli_error("%s", cause);
			goto out;
		}
		printf("tenant %s added\n", t.name);
		status = CLI_OK;
		goto out;
	}
	if (store_tenant_get(s, t.name, &cur, &cause) != 0) {
		cli_error("%s", cause);
		goto out;
	}
	if (strcmp(sub, "set") == 0) {
		if (t.max_jobs != -2)
			cur.max_jobs = t.max_jobs;
		if (t.max_memory != -2)
			cur.max_memory = t.max_memory;
		if (t.max_rows_per_sec != -2)
			cur.max_rows_per_sec = t.max_rows_per_sec;
		if (store_tenant_set(s, &cur, &cause) != 0) {
			cli_error("%s", cause);
			tenant_release(&cur);
			goto out;
		}
		printf("tenant %s updated\n", cur.name);
	} else if (json) {
		tenant_json(&b, &cur);
		cli_print_json(&b);
	} else {
		printf("name:             %s\n", cur.name);
		printf("max jobs:         %s\n", tenant_limit(cur.max_jobs, l1,
		    sizeof l1));
		printf("max memory:       %s\n", tenant_limit(cur.max_memory,
		    l2, sizeof l2));
		printf("max rows/s:       %s\n",
		    tenant_limit(cur.max_rows_per_sec, l3, sizeof l3));
	}
	tenant_release(&cur);
	status = CLI_OK;
out:
	free(cause);
	buf_release(&b);
	store_close(s);
	return (status);
}
