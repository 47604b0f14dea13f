/*
 * ferry serve: the daemon that runs the store's queued jobs.
 */
#ifndef FERRY_SCHEDULER_DAEMON_H
#define FERRY_SCHEDULER_DAEMON_H

#include <stdint.h>

#include "engine/sync.h"

struct daemon_options {
	const char		*store_path;
	const char		*http;		/* host:port, or NULL */
	const char		*api;		/* the API's host:port, or NULL */
	const char		*api_cert;	/* its TLS certificate and key */
	const char		*api_key;
	const char		*control;	/* socket path; NULL: beside
						 * the store; "none": none */
	int64_t			 max_memory;	/* the sum of the running jobs'
						   budgets at most; 0: 3/4 of
						   the machine's memory */
	int			 poll_ms;	/* how often the store is read */
	int			 lease_ms;	/* how long a lease lasts */
	struct sync_options	 sync;
};

void	daemon_options_init(struct daemon_options *);
int	daemon_run(const struct daemon_options *, char **);
char	*daemon_control_path(const char *);

#endif
