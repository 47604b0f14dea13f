/*
 * Shared producers (see producer.h).  Why shared: a librdkafka producer
 * is three threads that wake every second and buffers of its own; a
 * daemon with hundreds of jobs on one cluster should pay for that once.
 * What sharing must not break is each job's own accounting: a message
 * carries its sender's slot, and the sender's report callback counts it.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/log.h"
#include "common/xmalloc.h"
#include "engine/producer.h"

_Static_assert(sizeof(void *) >= 8, "a message's opaque holds 64 bits");

/*
 * Queue limits: no job may fill a shared queue for the others; each job's
 * in-flight bytes are bounded by its own budget instead.
 */
#define PRODUCER_QUEUE_MESSAGES	"2147483647"
#define PRODUCER_QUEUE_KBYTES	"2147483647"

#define PRODUCER_PAGE		256
#define PRODUCER_PAGES		256	/* slots: 65,536 senders at once */

struct producer {
	struct producer	*next;
	char		*key;		/* the options, every one of them */
	rd_kafka_t	*rk;
	int		 refs;
	int		 retired;	/* no new senders; gone at refs 0 */
};

typedef _Atomic(struct producer_client *) producer_slot;

static pthread_mutex_t		 producer_mtx = PTHREAD_MUTEX_INITIALIZER;
static struct producer		*producers;	/* under producer_mtx */
static _Atomic(producer_slot *)	 slot_pages[PRODUCER_PAGES];
static uint32_t			 slot_high;	/* under producer_mtx */
static uint32_t			*slot_free;
static size_t			 slot_nfree, slot_capfree;
static pthread_once_t		 pipe_once = PTHREAD_ONCE_INIT;
static int			 pipe_fds[2] = { -1, -1 };
static atomic_int		 attached;

static void
producer_pipe_init(void)
{
	int	 i;

	if (pipe(pipe_fds) != 0)
		fatal("producer: pipe");
	for (i = 0; i < 2; i++) {
		if (fcntl(pipe_fds[i], F_SETFL, O_NONBLOCK) != 0 ||
		    fcntl(pipe_fds[i], F_SETFD, FD_CLOEXEC) != 0)
			fatal("producer: fcntl");
	}
}

/* Readable when some producer has reports (or errors) to serve. */
int
producer_fd(void)
{
	pthread_once(&pipe_once, producer_pipe_init);
	return (pipe_fds[0]);
}

/*
 * Someone (the daemon's loop) serves producer_fd() from now on; until
 * then a sender waiting for its reports serves them itself.
 */
void
producer_attach(void)
{
	atomic_store(&attached, 1);
}

int
producer_attached(void)
{
	return (atomic_load(&attached));
}

/* A delivery report, to the client whose slot the message carries. */
static void
producer_dr(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	uint64_t		 v = (uint64_t)(uintptr_t)m->_private;
	uint32_t		 slot = (uint32_t)(v >> 48);
	producer_slot		*page;
	struct producer_client	*c = NULL;

	(void)rk;
	(void)opaque;
	page = atomic_load(&slot_pages[slot / PRODUCER_PAGE]);
	if (page != NULL)
		c = atomic_load(&page[slot % PRODUCER_PAGE]);
	if (c == NULL) {
		/* Cannot happen: a client leaves after its last report. */
		log_warnx("a delivery report for slot %" PRIu32 ", which no "
		    "job holds", slot);
		return;
	}
	c->report(c->arg, v & PRODUCER_UNIT_MAX, m->len + m->key_len, m->err);
}

/* Serve every producer's queued reports and errors; does not wait. */
void
producer_serve(void)
{
	struct producer	*p;
	char		 drain[64];

	pthread_once(&pipe_once, producer_pipe_init);
	while (read(pipe_fds[0], drain, sizeof drain) > 0)
		;
	pthread_mutex_lock(&producer_mtx);
	for (p = producers; p != NULL; p = p->next)
		rd_kafka_poll(p->rk, 0);
	pthread_mutex_unlock(&producer_mtx);
}

/* Wait up to timeout_ms for something to serve, then serve it. */
void
producer_serve_wait(int timeout_ms)
{
	struct pollfd	 pfd;

	memset(&pfd, 0, sizeof pfd);
	pfd.fd = producer_fd();
	pfd.events = POLLIN;
	if (poll(&pfd, 1, timeout_ms) < 0 && errno != EINTR)
		log_warn("poll");
	producer_serve();
}

int
producer_register(struct producer_client *c, char **cause)
{
	producer_slot	*page;
	uint32_t	 slot;

	pthread_mutex_lock(&producer_mtx);
	if (slot_nfree > 0)
		slot = slot_free[--slot_nfree];
	else if (slot_high < PRODUCER_PAGE * PRODUCER_PAGES)
		slot = slot_high++;
	else {
		pthread_mutex_unlock(&producer_mtx);
		*cause = xasprintf("more than %d jobs send to Kafka at once",
		    PRODUCER_PAGE * PRODUCER_PAGES);
		return (-1);
	}
	if ((page = atomic_load(&slot_pages[slot / PRODUCER_PAGE])) == NULL) {
		page = xcalloc(PRODUCER_PAGE, sizeof *page);
		atomic_store(&slot_pages[slot / PRODUCER_PAGE], page);
	}
	c->slot = slot;
	atomic_store(&page[slot % PRODUCER_PAGE], c);
	pthread_mutex_unlock(&producer_mtx);
	return (0);
}

/* After the client's last report: its slot is free for another. */
void
producer_unregister(struct producer_client *c)
{
	producer_slot	*page;

	pthread_mutex_lock(&producer_mtx);
	page = atomic_load(&slot_pages[c->slot / PRODUCER_PAGE]);
	atomic_store(&page[c->slot % PRODUCER_PAGE], NULL);
	if (slot_nfree == slot_capfree) {
		slot_capfree = slot_capfree == 0 ? 64 : slot_capfree * 2;
		slot_free = xreallocarray(slot_free, slot_capfree,
		    sizeof *slot_free);
	}
	slot_free[slot_nfree++] = c->slot;
	pthread_mutex_unlock(&producer_mtx);
}

/* The opaque of a message of c's unit (at most PRODUCER_UNIT_MAX). */
void *
producer_opaque(const struct producer_client *c, uint64_t unit)
{
	return ((void *)(uintptr_t)((uint64_t)c->slot << 48 |
	    (unit & PRODUCER_UNIT_MAX)));
}

static char *
producer_key(const struct kafka_client_opts *o, int legacy)
{
	struct buf	 b = BUF_INITIALIZER;

	buf_printf(&b, "%s%c%d%c%s%c%s%c%d%c%s%c%s%c%d%c%d", o->brokers, 0x1f,
	    (int)o->sasl, 0x1f, o->user != NULL ? o->user : "", 0x1f,
	    o->password != NULL ? o->password : "", 0x1f, o->tls, 0x1f,
	    o->tls_ca != NULL ? o->tls_ca : "", 0x1f,
	    o->version != NULL ? o->version : "", 0x1f, legacy, 0x1f,
	    o->confined);
	buf_printf(&b, "%c%s%c%s", 0x1f, o->compression != NULL ?
	    o->compression : "", 0x1f, o->props != NULL ? o->props : "");
	return (buf_detach(&b, NULL));
}

/* A live producer of key, with a reference; under producer_mtx. */
static struct producer *
producer_find(const char *key)
{
	struct producer	*p;
	char		 errstr[256];

	for (p = producers; p != NULL; p = p->next) {
		if (p->retired || strcmp(p->key, key) != 0)
			continue;
		if (rd_kafka_fatal_error(p->rk, errstr, sizeof errstr) != 0) {
			/* An idempotent producer that lost its guarantee
			 * takes nothing more: a new one starts over. */
			log_warnx("Kafka producer: %s; starting a new one",
			    errstr);
			p->retired = 1;
			continue;
		}
		p->refs++;
		return (p);
	}
	return (NULL);
}

/*
 * The producer for a cluster (legacy: a broker before 0.11, without
 * idempotence), made on first use; release with producer_put().
 */
struct producer *
producer_get(const struct kafka_client_opts *o, int legacy, char **cause)
{
	struct producer	*p, *q;
	rd_kafka_conf_t	*conf;
	rd_kafka_queue_t *mq;
	rd_kafka_t	*rk;
	char		*key = producer_key(o, legacy), max[24];

	pthread_mutex_lock(&producer_mtx);
	p = producer_find(key);
	pthread_mutex_unlock(&producer_mtx);
	if (p != NULL) {
		free(key);
		return (p);
	}
	if ((conf = kafka_client_conf(o, cause)) == NULL) {
		free(key);
		return (NULL);
	}
	snprintf(max, sizeof max, "%d", PRODUCER_MESSAGE_MAX);
	if (kafka_client_set(conf, "enable.idempotence",
	    legacy ? "false" : "true", cause) != 0 ||
	    kafka_client_set(conf, "acks", "all", cause) != 0 ||
	    kafka_client_set(conf, "linger.ms", "5", cause) != 0 ||
	    kafka_client_set(conf, "message.timeout.ms", "0", cause) != 0 ||
	    kafka_client_set(conf, "message.max.bytes", max, cause) != 0 ||
	    kafka_client_set(conf, "queue.buffering.max.messages",
	    PRODUCER_QUEUE_MESSAGES, cause) != 0 ||
	    kafka_client_set(conf, "queue.buffering.max.kbytes",
	    PRODUCER_QUEUE_KBYTES, cause) != 0 ||
	    kafka_client_set(conf, "compression.codec",
	    o->compression != NULL ? o->compression : "none", cause) != 0 ||
	    kafka_client_set_props(conf, o->props, cause) != 0 ||
	    (legacy && kafka_client_set(conf,
	    "max.in.flight.requests.per.connection", "1", cause) != 0)) {
		rd_kafka_conf_destroy(conf);
		free(key);
		return (NULL);
	}
	rd_kafka_conf_set_dr_msg_cb(conf, producer_dr);
	if ((rk = kafka_client_new(RD_KAFKA_PRODUCER, conf, o, NULL,
	    cause)) == NULL) {
		free(key);
		return (NULL);
	}
	pthread_once(&pipe_once, producer_pipe_init);
	mq = rd_kafka_queue_get_main(rk);
	rd_kafka_queue_io_event_enable(mq, pipe_fds[1], "k", 1);
	rd_kafka_queue_destroy(mq);

	pthread_mutex_lock(&producer_mtx);
	if ((q = producer_find(key)) != NULL) {
		/* Another job made one meanwhile: one per cluster. */
		pthread_mutex_unlock(&producer_mtx);
		kafka_client_destroy(rk);
		free(key);
		return (q);
	}
	p = xcalloc(1, sizeof *p);
	p->key = key;
	p->rk = rk;
	p->refs = 1;
	p->next = producers;
	producers = p;
	pthread_mutex_unlock(&producer_mtx);
	return (p);
}

rd_kafka_t *
producer_handle(const struct producer *p)
{
	return (p->rk);
}

/*
 * Drop everything p has not delivered (every sender gets an error report
 * for its messages) and let no new sender use it.  For a sender that must
 * stop while its messages cannot be delivered: they must not land after
 * the job's next start read the topic's tail.
 */
void
producer_retire(struct producer *p, const char *why)
{
	pthread_mutex_lock(&producer_mtx);
	if (!p->retired)
		log_warnx("Kafka producer: %s; its undelivered messages are "
		    "dropped (their jobs send them again)", why);
	p->retired = 1;
	pthread_mutex_unlock(&producer_mtx);
	rd_kafka_purge(p->rk, RD_KAFKA_PURGE_F_QUEUE |
	    RD_KAFKA_PURGE_F_INFLIGHT);
}

void
producer_put(struct producer *p)
{
	struct producer	**pp;
	int		  last;

	if (p == NULL)
		return;
	pthread_mutex_lock(&producer_mtx);
	last = --p->refs == 0;
	if (last) {
		for (pp = &producers; *pp != NULL; pp = &(*pp)->next) {
			if (*pp == p) {
				*pp = p->next;
				break;
			}
		}
	}
	pthread_mutex_unlock(&producer_mtx);
	if (!last)
		return;
	/* Nothing of its senders is left in it; serve what remains. */
	rd_kafka_purge(p->rk, RD_KAFKA_PURGE_F_QUEUE |
	    RD_KAFKA_PURGE_F_INFLIGHT);
	rd_kafka_poll(p->rk, 0);
	kafka_client_destroy(p->rk);
	free(p->key);
	free(p);
}
