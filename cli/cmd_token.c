/*
 * ferry tenant token add|list|rm: the API tokens of a tenant, or of the
 * operator (--operator).  Operator-only, like all tenant management.
 *
 *	ferry tenant token add NAME|--operator [--label TEXT] [--json]
 *	ferry tenant token list NAME|--operator [--json]
 *	ferry tenant token rm NAME|--operator ID
 *
 * add prints the token once (the store keeps only its hash): give it to
 * the tenant, who presents it to the daemon's API (Authorization: Bearer)
 * or to the CLI as a remote client (--server URL --token-file FILE).
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
#include "common/log.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "scheduler/store.h"
#include "scheduler/token.h"

static void
token_usage(FILE *fp)
{
	fprintf(fp,
	    "usage: ferry tenant token add NAME|--operator [--label TEXT] "
	    "[--json]\n"
	    "       ferry tenant token list NAME|--operator [--json]\n"
	    "       ferry tenant token rm NAME|--operator ID\n"
	    "\n"
	    "API tokens: a tenant's acts as that tenant on the daemon's API "
	    "(its own\n"
	    "endpoints and jobs); the operator's acts as the operator.  add "
	    "prints the\n"
	    "token once: the store keeps only its hash.\n");
}

static void
token_json(struct buf *b, const struct token_info *k)
{
	buf_addc(b, '{');
	cli_json_int(b, "id", k->id, 1);
	cli_json_str(b, "tenant", k->tenant, 0);
	cli_json_str(b, "label", k->name, 0);
	cli_json_int(b, "created_at", k->created_at, 0);
	cli_json_str(b, "created_by", k->created_by, 0);
	buf_adds(b, ",\"revoked_at\":");
	if (k->revoked_at != 0)
		buf_printf(b, "%" PRId64, k->revoked_at);
	else
		buf_adds(b, "null");
	buf_adds(b, ",\"last_used_at\":");
	if (k->last_used_at != 0)
		buf_printf(b, "%" PRId64, k->last_used_at);
	else
		buf_adds(b, "null");
	buf_addc(b, '}');
}

static int
token_list(struct store *s, const char *tenant, int json)
{
	struct token_info	*k = NULL;
	struct buf		 b = BUF_INITIALIZER;
	char			*cause = NULL, t1[32], t2[32];
	size_t			 n = 0, i;

	if (store_token_list(s, tenant, &k, &n, &cause) != 0) {
		cli_error("%s", cause);
		free(cause);
		return (CLI_FAIL);
	}
	if (json) {
		buf_addc(&b, '[');
		for (i = 0; i < n; i++) {
			if (i > 0)
				buf_addc(&b, ',');
			token_json(&b, &k[i]);
		}
		buf_addc(&b, ']');
		cli_print_json(&b);
	} else {
		printf("%-6s %-20s %-21s %-21s %s\n", "ID", "LABEL", "CREATED",
		    "LAST USED", "STATE");
		for (i = 0; i < n; i++) {
			cli_time(k[i].created_at, t1, sizeof t1);
			cli_time(k[i].last_used_at, t2, sizeof t2);
			printf("%-6" PRId64 " %-20s %-21s %-21s %s\n", k[i].id,
			    k[i].name != NULL ? k[i].name : "-", t1, t2,
			    k[i].revoked_at != 0 ? "revoked" : "valid");
		}
	}
	buf_release(&b);
	token_list_free(k, n);
	return (CLI_OK);
}

/* ferry tenant token ...: argv[0] is "token". */
int
cmd_tenant_token(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option	 opts[] = {
		{ "operator", no_argument, NULL, 'o' },
		{ "label", required_argument, NULL, 'l' },
		{ "json", no_argument, NULL, 'J' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct store	*s;
	const char	*sub, *tenant = NULL, *label = NULL;
	char		*cause = NULL, *value = NULL, *hash = NULL;
	uint64_t	 id;
	int64_t		 newid;
	int		 ch, op = 0, json = 0, status = CLI_FAIL;
	struct buf	 b = BUF_INITIALIZER;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		token_usage(argc < 2 ? stderr : stdout);
		return (argc < 2 ? CLI_USAGE : CLI_OK);
	}
	sub = argv[1];
	optind = 0;
	while ((ch = getopt_long(argc - 1, argv + 1, ":h", opts, NULL)) != -1) {
		switch (ch) {
		case 'o': op = 1; break;
		case 'l': label = optarg; break;
		case 'J': json = 1; break;
		case 'h': token_usage(stdout); return (CLI_OK);
		default: return (cli_option_error("tenant token", argv + 1, ch));
		}
	}
	argc -= optind + 1;
	argv += optind + 1;
	if (strcmp(sub, "add") != 0 && strcmp(sub, "list") != 0 &&
	    strcmp(sub, "rm") != 0)
		return (cli_usage_error("unknown tenant token command '%s' "
		    "(add, list, rm)", sub));
	if (!op) {
		if (argc < 1)
			return (cli_usage_error("tenant token %s needs a tenant "
			    "NAME or --operator", sub));
		tenant = argv[0];
		argc--;
		argv++;
		if (cli_valid_name("tenant", tenant) != 0)
			return (CLI_USAGE);
	}
	if (argc != (strcmp(sub, "rm") == 0 ? 1 : 0))
		return (cli_usage_error(strcmp(sub, "rm") == 0 ? "tenant token "
		    "rm needs the token's ID (see tenant token list)" :
		    "too many arguments to tenant token %s", sub));
	if (label != NULL && strcmp(sub, "add") != 0)
		return (cli_usage_error("--label is for tenant token add"));
	if ((s = cli_store_open(ctx, NULL)) == NULL)
		return (CLI_FAIL);
	if (strcmp(sub, "list") == 0) {
		status = token_list(s, tenant, json);
		goto out;
	}
	if (strcmp(sub, "rm") == 0) {
		if (util_parse_u64(argv[0], 1, INT64_MAX, &id, &cause) != 0 ||
		    store_token_revoke(s, tenant, (int64_t)id, &cause) != 0) {
			cli_error("%s", cause);
			goto out;
		}
		printf("token %" PRIu64 " revoked\n", id);
		status = CLI_OK;
		goto out;
	}
	if (token_make(&value, &hash, &cause) != 0 ||
	    store_token_add(s, tenant, label, hash, cli_who(), &newid,
	    &cause) != 0) {
		cli_error("%s", cause);
		goto out;
	}
	if (json) {
		buf_addc(&b, '{');
		cli_json_int(&b, "id", newid, 1);
		cli_json_str(&b, "tenant", tenant, 0);
		cli_json_str(&b, "token", value, 0);
		buf_addc(&b, '}');
		cli_print_json(&b);
	} else {
		printf("%s\n", value);
		fprintf(stderr, "token %" PRId64 " of %s%s; shown once, the "
		    "store keeps only its hash\n", newid, tenant != NULL ?
		    "tenant " : "the operator", tenant != NULL ? tenant : "");
	}
	status = CLI_OK;
out:
	free(cause);
	xfree_secret(value);
	free(hash);
	buf_release(&b);
	store_close(s);
	return (status);
}
