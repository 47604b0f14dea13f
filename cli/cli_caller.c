/*
 * Who runs a command: the local user (whoever can open the store: the
 * operator), or a caller of the daemon's API, for whom the daemon runs
 * the command with FERRY_CALLER set (scheduler/api.c):
 *
 *	tenant:NAME:TOKEN	a tenant's token: the command acts as tenant
 *				NAME whatever --tenant says, and only on what
 *				a tenant may: its endpoints, jobs and status
 *				(no tenant management, no daemon, no reading
 *				of servers or files on the daemon's host)
 *	operator:TOKEN		an operator token: as the local operator
 *
 * The job log and the endpoints' history name the caller: "alice (cli)",
 * "tenant acme, token 3 (api)", "operator, token 1 (api)".
 */
#include "config.h"

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/cli_store.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "engine/netpolicy.h"

static int	 cli_caller_kind = CLI_CALLER_LOCAL;
static char	 cli_caller_who[160];

/*
 * Read FERRY_CALLER: a tenant's caller acts as that tenant.  0, or -1 with
 * *cause (a malformed value: nothing runs).
 */
int
cli_caller_init(struct cli_ctx *ctx, char **cause)
{
	const char	*v = getenv("FERRY_CALLER"), *p, *q;
	char		*name;

	if (v == NULL || *v == '\0')
		return (0);
	if (strncmp(v, "operator:", 9) == 0 && v[9] != '\0') {
		cli_caller_kind = CLI_CALLER_OPERATOR;
		snprintf(cli_caller_who, sizeof cli_caller_who, "operator, "
		    "token %s (api)", v + 9);
		return (0);
	}
	if (strncmp(v, "tenant:", 7) != 0 || (p = strchr(v + 7, ':')) ==
	    NULL || p == v + 7 || p[1] == '\0') {
		*cause = xstrdup("FERRY_CALLER is malformed");
		return (-1);
	}
	for (q = p + 1; *q != '\0'; q++) {
		if (*q < '0' || *q > '9') {
			*cause = xstrdup("FERRY_CALLER is malformed");
			return (-1);
		}
	}
	name = xstrndup(v + 7, (size_t)(p - v - 7));
	cli_caller_kind = CLI_CALLER_TENANT;
	snprintf(cli_caller_who, sizeof cli_caller_who, "tenant %s, token %s "
	    "(api)", name, p + 1);
	free(ctx->tenant);
	ctx->tenant = name;
	return (0);
}

/* Whether a tenant runs this command (through the API). */
int
cli_caller_tenant(void)
{
	return (cli_caller_kind == CLI_CALLER_TENANT);
}

/*
 * Whether the caller may run command argv[0] (a tenant: endpoint, job,
 * status, version, help).  0, or -1 after saying why.
 */
int
cli_caller_allows(int argc, char **argv)
{
	static const char	*tenant_cmds[] = {
		"endpoint", "job", "precheck", "status", "version", "help",
	};
	size_t			 i;
	int			 k;

	if (cli_caller_kind != CLI_CALLER_TENANT)
		return (0);
	for (i = 0; i < nitems(tenant_cmds); i++) {
		if (strcmp(argv[0], tenant_cmds[i]) == 0)
			break;
	}
	if (i == nitems(tenant_cmds)) {
		cli_error("a tenant may run endpoint, job, precheck and "
		    "status; '%s' is the operator's", argv[0]);
		return (-1);
	}
	for (k = 1; k < argc; k++) {
		/* getopt takes --w, --wat ... for --watch. */
		if (strcmp(argv[0], "status") == 0 && (strncmp(argv[k],
		    "--w", 3) == 0 || strcmp(argv[k], "-w") == 0)) {
			cli_error("status --watch needs a terminal; ask for "
			    "status again instead");
			return (-1);
		}
	}
	return (0);
}

/* "alice (cli)", or the API's caller: who did it, for the job log. */
const char *
cli_who(void)
{
	struct passwd	*pw;
	const char	*u = getenv("SUDO_USER");

	if (cli_caller_who[0] != '\0')
		return (cli_caller_who);
	if (u == NULL || *u == '\0') {
		pw = getpwuid(getuid());
		u = pw != NULL ? pw->pw_name : "unknown";
	}
	snprintf(cli_caller_who, sizeof cli_caller_who, "%s (cli)", u);
	return (cli_caller_who);
}

/*
 * Before a command connects for an endpoint: the network policy a
 * tenant's endpoint obeys, the daemon's (FERRY_NET_POLICY, given to the
 * commands it runs for the API) over the defaults.  0, or -1 after
 * saying why.
 */
int
cli_net_policy(void)
{
	static int	 done;
	const char	*v = getenv("FERRY_NET_POLICY");
	char		*cause = NULL;

	if (done)
		return (0);
	done = 1;
	netpolicy_init();
	if (v != NULL && netpolicy_import(v, &cause) != 0) {
		cli_error("FERRY_NET_POLICY: %s", cause);
		free(cause);
		return (-1);
	}
	return (0);
}
