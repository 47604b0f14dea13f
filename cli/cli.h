/*
 * The ferry command: what every command file shares.
 */
#ifndef FERRY_CLI_CLI_H
#define FERRY_CLI_CLI_H

#include <stdio.h>

/* Exit codes of every command (docs/CLI.md). */
#define CLI_OK		0
#define CLI_FAIL	1
#define CLI_USAGE	2

struct cli_ctx {
	const char	*progname;
	char		*db_path;	/* --db, $FERRY_DB, or the default */
	char		*tenant;	/* --tenant, $FERRY_TENANT, or "default" */
	int		 log_level_set;	/* --log-level was given */
};

struct cli_cmd {
	const char	*name;
	const char	*usage;		/* arguments, after the name */
	const char	*summary;	/* one line for "ferry --help" */
	int		(*exec)(struct cli_ctx *, int, char **);
};

int	cmd_binlog(struct cli_ctx *, int, char **);
int	cmd_decode(struct cli_ctx *, int, char **);
int	cmd_endpoint(struct cli_ctx *, int, char **);
int	cmd_job(struct cli_ctx *, int, char **);
int	cmd_precheck(struct cli_ctx *, int, char **);
int	cmd_serve(struct cli_ctx *, int, char **);
int	cmd_status(struct cli_ctx *, int, char **);
int	cmd_tenant(struct cli_ctx *, int, char **);
int	cmd_tenant_token(struct cli_ctx *, int, char **);
int	endpoint_topics(struct cli_ctx *, int, char **);

int	cli_read_secret(const char *, const char *, const char *, int,
	    char **);
int	cli_remote(const char *, const char *, const char *, int, char **);
void	cli_error(const char *, ...) __attribute__((format(printf, 1, 2)));
int	cli_option_error(const char *, char **, int);
int	cli_usage_error(const char *, ...)
	    __attribute__((format(printf, 1, 2)));

#endif
