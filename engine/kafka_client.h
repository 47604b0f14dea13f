/*
 * Kafka client configuration shared by the producer, the consumer of
 * "ferry decode" and the prechecks.
 */
#ifndef FERRY_ENGINE_KAFKA_CLIENT_H
#define FERRY_ENGINE_KAFKA_CLIENT_H

#include <librdkafka/rdkafka.h>

enum kafka_sasl {
	KAFKA_SASL_NONE = 0,
	KAFKA_SASL_PLAIN,
	KAFKA_SASL_SCRAM_SHA_256,
	KAFKA_SASL_SCRAM_SHA_512,
};

struct kafka_client_opts {
	char		*brokers;	/* host:port[,host:port...] */
	enum kafka_sasl	 sasl;
	char		*user;
	char		*password;
	int		 tls;
	char		*tls_ca;
	char		*version;	/* broker version hint, e.g. "0.10.1" */
	char		*compression;	/* the producer's codec; NULL: none */
	char		*props;		/* other producer settings,
					   "key=value\n...", or NULL */
	int		 confined;	/* a tenant's: every broker address
					   must pass the network policy */
};

void	 kafka_client_opts_init(struct kafka_client_opts *);
void	 kafka_client_opts_release(struct kafka_client_opts *);
int	 kafka_client_parse_sasl(const char *, enum kafka_sasl *);
int	 kafka_client_compression_ok(const char *);
int	 kafka_client_prop_ok(const char *, char **);
int	 kafka_client_set_props(rd_kafka_conf_t *, const char *, char **);
const char *kafka_client_sasl_name(enum kafka_sasl);
char	*kafka_client_describe(const struct kafka_client_opts *);
rd_kafka_conf_t *kafka_client_conf(const struct kafka_client_opts *,
	    char **);
int	 kafka_client_set(rd_kafka_conf_t *, const char *, const char *,
	    char **);
rd_kafka_t *kafka_client_new(rd_kafka_type_t, rd_kafka_conf_t *,
	    const struct kafka_client_opts *, void *, char **);
void	*kafka_client_arg(const rd_kafka_t *);
int	 kafka_client_check(rd_kafka_t *, int, char **);
int	 kafka_client_check_until(rd_kafka_t *, int, int (*)(void *), void *,
	    char **);
void	 kafka_client_destroy(rd_kafka_t *);
/* The Produce request versions that mark what a broker takes: record
 * headers and the idempotent producer (Kafka 0.11), zstd (Kafka 2.1). */
#define KAFKA_PRODUCE_HEADERS	3
#define KAFKA_PRODUCE_ZSTD	7

int	 kafka_client_produce_version(rd_kafka_t *);
int	 kafka_client_leaderless(const struct rd_kafka_metadata_topic *);
int	 kafka_client_headers(const struct kafka_client_opts *, int,
	    int (*)(void *), void *, char **);
int	 kafka_client_topic_config(rd_kafka_t *, const char *, const char *,
	    char **, char **);

#endif
