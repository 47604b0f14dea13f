/*
 * The process's Kafka producers: one idempotent producer per target
 * cluster (the same brokers, credentials and version hint), shared by
 * every sink writing to it.  A producer's delivery reports are served by
 * whoever calls producer_serve() (the daemon's event loop, woken through
 * producer_fd(), which every producer's main queue signals with
 * rd_kafka_queue_io_event_enable) and handed to the client that sent each
 * message: its slot travels in the message's opaque beside the client's
 * 48-bit unit.
 */
#ifndef FERRY_ENGINE_PRODUCER_H
#define FERRY_ENGINE_PRODUCER_H

#include <stddef.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>

#include "engine/kafka_client.h"

#define PRODUCER_UNIT_MAX	((UINT64_C(1) << 48) - 1)
/* librdkafka's ceiling for a message; a record's is its topic's. */
#define PRODUCER_MESSAGE_MAX	(64 * 1024 * 1024)

struct producer;

/*
 * A sender's registration: report(arg, unit, len, err) is called for each
 * of its messages (len: its value's and key's bytes), on the serving
 * thread.
 */
struct producer_client {
	void		(*report)(void *, uint64_t, size_t, int);
	void		*arg;
	uint32_t	 slot;
};

struct producer *producer_get(const struct kafka_client_opts *, int,
	    char **);
void	 producer_put(struct producer *);
rd_kafka_t *producer_handle(const struct producer *);
void	 producer_retire(struct producer *, const char *);
int	 producer_register(struct producer_client *, char **);
void	 producer_unregister(struct producer_client *);
void	*producer_opaque(const struct producer_client *, uint64_t);
int	 producer_fd(void);
void	 producer_attach(void);
int	 producer_attached(void);
void	 producer_serve(void);
void	 producer_serve_wait(int);

#endif
