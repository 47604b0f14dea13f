/*
 * What the commands that use the job store share.
 */
#ifndef FERRY_CLI_CLI_STORE_H
#define FERRY_CLI_CLI_STORE_H

#include <stdint.h>

#include "cli/cli.h"
#include "scheduler/store.h"

struct buf;

/* The largest memory budget a job or a tenant is given: 1 TiB (a bigger
 * one is a typo, and no daemon has it). */
#define CLI_MAX_MEMORY	((int64_t)1 << 40)

enum {
	CLI_CALLER_LOCAL,
	CLI_CALLER_OPERATOR,
	CLI_CALLER_TENANT,
};

struct store	*cli_store_open(struct cli_ctx *, struct tenant *);
const char	*cli_who(void);
int		 cli_caller_init(struct cli_ctx *, char **);
int		 cli_caller_tenant(void);
int		 cli_net_policy(void);
int		 cli_caller_allows(int, char **);
void		 cli_wake_daemon(const struct cli_ctx *);
int		 cli_parse_size(const char *, int64_t *, char **);
int		 cli_valid_name(const char *, const char *);
void		 cli_json_str(struct buf *, const char *, const char *, int);
void		 cli_json_int(struct buf *, const char *, int64_t, int);
void		 cli_print_json(struct buf *);
void		 cli_time(int64_t, char *, size_t);

#endif
