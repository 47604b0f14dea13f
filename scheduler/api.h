/*
 * The daemon's API: JSON over HTTP(S) with tokens (scheduler/api.c,
 * docs/API.md).
 */
#ifndef FERRY_SCHEDULER_API_H
#define FERRY_SCHEDULER_API_H

#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

struct api;
struct buf;

struct api_options {
	const char	*listen;	/* HOST:PORT, [IPv6]:PORT */
	const char	*cert;		/* PEM chain, with key: HTTPS */
	const char	*key;
	const char	*store_path;
	const char	*control;	/* the daemon's control socket */
};

/* Write the statistics of the running jobs among ids (NULL: all) as a
 * JSON array. */
typedef void (*api_jobs_cb)(void *, const int64_t *, size_t, struct buf *);

struct api	*api_new(struct event_base *, const struct api_options *,
		    api_jobs_cb, void *, char **);
void		 api_free(struct api *);

#endif
