/*
 * A job's Kafka side: the shared producer of each target cluster, the
 * topics it writes with their partition counts, and what each partition
 * already holds from this job (the exactly-once resume of DESIGN.md §7).
 */
#ifndef FERRY_ENGINE_SINK_H
#define FERRY_ENGINE_SINK_H

#include <stddef.h>
#include <stdint.h>

#include "engine/kafka_client.h"

struct sink;

/*
 * A message's fate: unit is what sink_produce() was given (at most
 * SINK_UNIT_MAX), err 0 when the cluster acknowledged it.
 */
#define SINK_UNIT_MAX	((UINT64_C(1) << 48) - 1)
typedef void (*sink_delivered_cb)(void *, uint64_t, int, const char *);

/* The headers of an INIT record, for the exactly-once resume of a full sync. */
struct sink_meta {
	const char	*tbl;		/* db.table */
	size_t		 tbllen;
	int		 gen;
	const uint8_t	*key;		/* sortable key (schema/keyenc.c) */
	size_t		 keylen;
};

struct sink_target_opts {
	const char			*name;
	struct kafka_client_opts	 kafka;
};

struct sink *sink_new(int64_t, const struct sink_target_opts *, size_t,
	    sink_delivered_cb, int (*)(void *), void *, char **);
void	 sink_free(struct sink *);
int	 sink_topic(struct sink *, const char *, char **);
int	 sink_scan(struct sink *, int64_t *, char **);
int	 sink_produce(struct sink *, int, uint32_t, int, uint32_t,
	    const struct sink_meta *, const void *, size_t, const void *, size_t,
	    int64_t, int64_t, uint64_t, size_t *, char **);
int32_t	 sink_partition(const struct sink *, int, size_t, uint32_t, int);
int32_t	 sink_partitions(const struct sink *, int, size_t);
size_t	 sink_ntargets(const struct sink *);
const char *sink_target_name(const struct sink *, size_t);
int	 sink_tail_init(const struct sink *, int, size_t, int32_t,
	    const char **, int *, const uint8_t **, size_t *);
void	 sink_poll(struct sink *, int);
int	 sink_flush(struct sink *, int);
size_t	 sink_inflight_bytes(const struct sink *);
size_t	 sink_max_message(const struct sink *, int);
int	 sink_headers(const struct sink *);
void	 sink_set_identity(struct sink *, const char *);
const char *sink_identity(const struct sink *);
int	 sink_permanent(const struct sink *);
char	*sink_meta_text(const struct sink_meta *, char *, size_t, size_t *);

#endif
