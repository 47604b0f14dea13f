/*
 * Routing: which topic of the job's targets a record goes to, which
 * partition (by the job's policy) and with what key.
 */
#ifndef FERRY_ENGINE_ROUTE_H
#define FERRY_ENGINE_ROUTE_H

#include <stddef.h>
#include <stdint.h>

#include "engine/change.h"
#include "engine/jobctx.h"
#include "schema/table.h"
#include "schema/value.h"

struct router;
struct sink;

/* Where a record goes; key borrowed until the next router call. */
struct route {
	int		 topic;		/* sink index; -1: none */
	uint32_t	 hash;		/* partition hash, when hashed */
	int		 hashed;
	const void	*key;
	size_t		 keylen;
};

struct buf;

void	 route_topic_name(const char *, const char *, const char *,
	    struct buf *);
struct router *router_new(struct jobctx *);
void	 router_free(struct router *);
void	 router_bind(struct router *, struct sink *);
int	 router_open(struct router *, const char *const *,
	    const char *const *, size_t, char **);
int	 router_job_topic(const struct router *);
int	 router_table_topic(struct router *, const char *, const char *,
	    char **);
int	 router_route(struct router *, const struct change *, struct route *,
	    char **);
int	 router_image_hash(const struct router *, const struct table_def *,
	    const struct value *, uint32_t *);

#endif
