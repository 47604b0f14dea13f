/*
 * bench_produce: the broker ceiling for bench/serve.sh.  Produces N
 * pre-made messages of S bytes to partition 0 of a topic with the settings
 * ferry's sink uses (idempotent, acks=all, linger.ms=5), waits for every
 * delivery report, and prints messages per second and CPU seconds.
 *
 *	bench_produce -b BROKERS -t TOPIC [-n N] [-s SIZE] [-H HEADERS] [-k]
 *	    [-L LINGER_MS] [-B BATCH_BYTES]
 *
 * -H adds that many headers to each message and -k a key, shaped like
 * ferry's records; -L and -B change linger.ms and batch.size, to see what
 * they do to the client's and the broker's CPU.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#include "common/util.h"
#include "common/xmalloc.h"
#include "engine/kafka_client.h"

static uint64_t	 delivered, failed;

static void
dr(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	(void)rk;
	(void)opaque;
	if (m->err != 0)
		failed++;
	else
		delivered++;
}

static double
cpu_seconds(void)
{
	struct rusage	 ru;

	getrusage(RUSAGE_SELF, &ru);
	return ((double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6);
}

int
main(int argc, char **argv)
{
	struct kafka_client_opts	 o;
	rd_kafka_conf_t			*conf;
	rd_kafka_topic_t		*rkt;
	rd_kafka_t			*rk;
	const char			*topic = NULL, *linger = "5";
	const char			*batch = NULL;
	char				*cause = NULL, *payload;
	rd_kafka_headers_t		*hdrs;
	rd_kafka_resp_err_t		 err;
	uint64_t			 n = 1000000, size = 300, i, t0;
	double				 c0, secs;
	char				 key[24], name[24];
	int				 ch, h, nhdrs = 0, keyed = 0;

	kafka_client_opts_init(&o);
	while ((ch = getopt(argc, argv, "b:t:n:s:H:kL:B:")) != -1) {
		switch (ch) {
		case 'b': o.brokers = xstrdup(optarg); break;
		case 't': topic = optarg; break;
		case 'n': n = strtoull(optarg, NULL, 10); break;
		case 's': size = strtoull(optarg, NULL, 10); break;
		case 'H': nhdrs = atoi(optarg); break;
		case 'k': keyed = 1; break;
		case 'L': linger = optarg; break;
		case 'B': batch = optarg; break;
		default:
			fprintf(stderr, "usage: bench_produce -b BROKERS -t TOPIC "
			    "[-n N] [-s SIZE] [-H HEADERS] [-k] [-L LINGER_MS] "
			    "[-B BATCH_BYTES]\n");
			return (2);
		}
	}
	if (o.brokers == NULL || topic == NULL || size == 0) {
		fprintf(stderr, "bench_produce: -b and -t are needed\n");
		return (2);
	}
	if ((conf = kafka_client_conf(&o, &cause)) == NULL ||
	    kafka_client_set(conf, "enable.idempotence", "true", &cause) != 0 ||
	    kafka_client_set(conf, "acks", "all", &cause) != 0 ||
	    kafka_client_set(conf, "linger.ms", linger, &cause) != 0 ||
	    (batch != NULL && kafka_client_set(conf, "batch.size", batch,
	    &cause) != 0)) {
		fprintf(stderr, "bench_produce: %s\n", cause);
		return (1);
	}
	rd_kafka_conf_set_dr_msg_cb(conf, dr);
	if ((rk = kafka_client_new(RD_KAFKA_PRODUCER, conf, &o, NULL,
	    &cause)) == NULL || kafka_client_check(rk, 15000, &cause) != 0) {
		fprintf(stderr, "bench_produce: %s\n", cause);
		return (1);
	}
	rkt = rd_kafka_topic_new(rk, topic, NULL);
	payload = xmalloc(size);
	for (i = 0; i < size; i++)
		payload[i] = (char)('a' + i % 26);
	t0 = util_mono_us();
	c0 = cpu_seconds();
	for (i = 0; i < n; i++) {
		snprintf(key, sizeof key, "%08" PRIu64, i);
		for (;;) {
			hdrs = NULL;
			if (nhdrs > 0) {
				hdrs = rd_kafka_headers_new((size_t)nhdrs);
				for (h = 0; h < nhdrs; h++) {
					snprintf(name, sizeof name, "ferry.h%d",
					    h);
					rd_kafka_header_add(hdrs, name, -1, key,
					    -1);
				}
			}
			err = rd_kafka_producev(rk, RD_KAFKA_V_RKT(rkt),
			    RD_KAFKA_V_PARTITION(0),
			    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
			    RD_KAFKA_V_VALUE(payload, size),
			    RD_KAFKA_V_KEY(keyed ? key : NULL,
			    keyed ? strlen(key) : 0),
			    RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_END);
			if (err == 0)
				break;
			if (hdrs != NULL)
				rd_kafka_headers_destroy(hdrs);
			if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
				fprintf(stderr, "bench_produce: %s\n",
				    rd_kafka_err2str(err));
				return (1);
			}
			rd_kafka_poll(rk, 10);
		}
		if (i % 1024 == 0)
			rd_kafka_poll(rk, 0);
	}
	rd_kafka_flush(rk, 600000);
	secs = (double)(util_mono_us() - t0) / 1e6;
	printf("produced %" PRIu64 " messages of %" PRIu64 " bytes in %.2f s: "
	    "%.0f msg/s, %.2f CPU s, %" PRIu64 " failed\n", delivered, size,
	    secs, (double)delivered / secs, cpu_seconds() - c0, failed);
	rd_kafka_topic_destroy(rkt);
	kafka_client_destroy(rk);
	free(payload);
	kafka_client_opts_release(&o);
	return (failed > 0 || delivered != n);
}
