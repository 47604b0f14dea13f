/*
 * Jobs as the CLI shows them (ferry job list/show, ferry status) and the
 * checks of job options.
 */
#ifndef FERRY_CLI_CLI_JOB_H
#define FERRY_CLI_CLI_JOB_H

#include <stddef.h>

#include "scheduler/store.h"

struct buf;

int	cli_check_topic(const char *, char **);
int	cli_check_topic_template(const char *, char **);
int	cli_parse_tables(const char *, struct job_object **, size_t *,
	    char **);

int	cli_job_json(struct store *, const struct job *, struct buf *,
	    char **);
int	cli_job_print(struct store *, const struct job *, char **);
int	cli_job_print_list(struct store *, const struct job *, size_t, int,
	    char **);
int	cli_job_print_status(struct store *, const struct job *, size_t, int,
	    int, char **);
void	cli_job_action_done(const struct job *, const char *);

#endif
