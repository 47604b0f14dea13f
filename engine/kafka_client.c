/*
 * Kafka client handles.
 *
 * Every librdkafka handle ferry makes is configured here from an endpoint
 * description, so that security settings, the broker version hint and error
 * reporting are the same for the producer, "ferry decode" and the
 * prechecks.  librdkafka reports connection and authentication failures
 * asynchronously, through the error callback, and otherwise just retries
 * forever; kafka_client_check() turns the first fatal-looking report into a
 * sentence for the user ("authentication failed for user 'u' with
 * SCRAM-SHA-256: ...") instead of a timeout.
 */
#include "config.h"

#include <sys/socket.h>

#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/log.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "engine/kafka_client.h"
#include "engine/netpolicy.h"

/*
 * State of one handle, reached from librdkafka's callbacks (which run on
 * librdkafka's threads, hence the mutex).
 */
struct kafka_client_state {
	pthread_mutex_t		 mtx;
	rd_kafka_resp_err_t	 err;		/* first error worth reporting */
	char			*reason;
	char			*who;		/* "user@brokers (mechanism)" */
	enum kafka_sasl		 sasl;
	char			*user;
	void			*arg;		/* the caller's, see kafka_client_arg() */
	char			*refused;	/* a broker address the network
						   policy refused, and why */
	int			 confined;
	int			 produce_max;	/* the broker's newest Produce
						   version (with debug
						   "protocol"); -1: unknown */
};

static const char *kafka_sasl_names[] = {
	"none", "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"
};

void
kafka_client_opts_init(struct kafka_client_opts *o)
{
	memset(o, 0, sizeof *o);
}

void
kafka_client_opts_release(struct kafka_client_opts *o)
{
	free(o->compression);
	free(o->props);
	free(o->brokers);
	free(o->user);
	xfree_secret(o->password);
	free(o->tls_ca);
	free(o->version);
	kafka_client_opts_init(o);
}

/* "plain", "scram-sha-256", "scram-sha-512" (any case), "none". */
int
kafka_client_parse_sasl(const char *s, enum kafka_sasl *sasl)
{
	size_t	 i;

	for (i = 0; i < sizeof kafka_sasl_names / sizeof kafka_sasl_names[0];
	    i++) {
		if (strcasecmp(s, kafka_sasl_names[i]) == 0) {
			*sasl = (enum kafka_sasl)i;
			return (0);
		}
	}
	return (-1);
}

const char *
kafka_client_sasl_name(enum kafka_sasl sasl)
{
	return (kafka_sasl_names[sasl]);
}

/* "brokers" or "user@brokers with MECHANISM", for messages; a new string. */
char *
kafka_client_describe(const struct kafka_client_opts *o)
{
	if (o->sasl == KAFKA_SASL_NONE)
		return (xasprintf("%s%s", o->brokers, o->tls ? " (TLS)" : ""));
	return (xasprintf("%s as user '%s' with %s%s", o->brokers,
	    o->user != NULL ? o->user : "", kafka_sasl_names[o->sasl],
	    o->tls ? " over TLS" : ""));
}

/* Set one property; on failure *cause names it (never its value). */
int
kafka_client_set(rd_kafka_conf_t *conf, const char *name, const char *value,
    char **cause)
{
	char	 errstr[512];

	if (rd_kafka_conf_set(conf, name, value, errstr, sizeof errstr) !=
	    RD_KAFKA_CONF_OK) {
		*cause = xasprintf("Kafka setting %s: %s", name, errstr);
		return (-1);
	}
	return (0);
}

static void
kafka_client_state_free(struct kafka_client_state *st)
{
	if (st == NULL)
		return;
	pthread_mutex_destroy(&st->mtx);
	free(st->reason);
	free(st->who);
	free(st->user);
	free(st->refused);
	free(st);
}

/*
 * Runs on a librdkafka thread, for a confined endpoint's handle: every
 * connection, to a bootstrap server or to a broker the cluster
 * advertised, goes to an address the network policy allows, or nowhere.
 */
static int
kafka_client_connect_cb(int fd, const struct sockaddr *sa, int salen,
    const char *id, void *opaque)
{
	struct kafka_client_state	*st = opaque;
	const char			*why;
	char				 addr[64], *what;

	if ((why = netpolicy_refusal(sa)) != NULL) {
		netpolicy_addr_text(sa, addr, sizeof addr);
		log_warnx("kafka %s: broker %s at %s refused: %s", st->who, id,
		    addr, why);
		what = xasprintf("broker %s", id);
		pthread_mutex_lock(&st->mtx);
		if (st->refused == NULL)
			st->refused = netpolicy_cause(what, sa, why);
		pthread_mutex_unlock(&st->mtx);
		free(what);
		return (EACCES);
	}
	if (connect(fd, sa, (socklen_t)salen) == -1 && errno != EINPROGRESS)
		return (errno);
	return (0);
}

/*
 * Runs on a librdkafka thread.  Keeps the first error that says the
 * endpoint is unusable: authentication, all brokers down, SSL, a fatal
 * error.  Transient ones are logged at debug level only; librdkafka retries
 * them.
 */
static void
kafka_client_error_cb(rd_kafka_t *rk, int err, const char *reason,
    void *opaque)
{
	struct kafka_client_state	*st = opaque;

	log_debug("kafka %s: %s: %s", rd_kafka_name(rk),
	    rd_kafka_err2name((rd_kafka_resp_err_t)err), reason);
	switch (err) {
	case RD_KAFKA_RESP_ERR__AUTHENTICATION:
	case RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED:
	case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
	case RD_KAFKA_RESP_ERR__SSL:
	case RD_KAFKA_RESP_ERR__FATAL:
	case RD_KAFKA_RESP_ERR__RESOLVE:
		break;
	default:
		return;
	}
	pthread_mutex_lock(&st->mtx);
	/* Authentication outranks "all brokers down", which follows it. */
	if (st->err == 0 || (st->err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN &&
	    err != RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN)) {
		st->err = (rd_kafka_resp_err_t)err;
		free(st->reason);
		st->reason = xstrdup(reason);
	}
	pthread_mutex_unlock(&st->mtx);
}

/* Runs on a librdkafka thread: librdkafka's own log lines, into ours. */
static void
kafka_client_log_cb(const rd_kafka_t *rk, int level, const char *fac,
    const char *buf)
{
	/*
	 * librdkafka logs every failed connection attempt at level 3; the
	 * failure that matters reaches the user through the error callback
	 * as one sentence, so these are detail.
	 */
	struct kafka_client_state	*st = rd_kafka_opaque(rk);
	const char			*p;

	/* "... ApiKey Produce (0) Versions 0..9": what the broker speaks. */
	if (st != NULL && strcmp(fac, "APIVERSION") == 0 &&
	    (p = strstr(buf, "ApiKey Produce (0) Versions ")) != NULL &&
	    (p = strstr(p, "..")) != NULL) {
		pthread_mutex_lock(&st->mtx);
		st->produce_max = atoi(p + 2);
		pthread_mutex_unlock(&st->mtx);
	}
	if (level <= 3)
		log_info("kafka %s: %s: %s", rd_kafka_name(rk), fac, buf);
	else
		log_debug("kafka %s: %s: %s", rd_kafka_name(rk), fac, buf);
}

/*
 * A new librdkafka configuration for the endpoint o, or NULL with *cause.
 * The caller adds role-specific settings and passes it to
 * kafka_client_new(), which takes ownership.
 */
rd_kafka_conf_t *
kafka_client_conf(const struct kafka_client_opts *o, char **cause)
{
	rd_kafka_conf_t	*conf;
	const char	*proto;
	char		 err[256];

	conf = rd_kafka_conf_new();
	if (kafka_client_set(conf, "bootstrap.servers", o->brokers, cause) != 0)
		goto fail;
	if (o->sasl != KAFKA_SASL_NONE)
		proto = o->tls ? "sasl_ssl" : "sasl_plaintext";
	else
		proto = o->tls ? "ssl" : "plaintext";
	if (kafka_client_set(conf, "security.protocol", proto, cause) != 0)
		goto fail;
	if (o->sasl != KAFKA_SASL_NONE) {
		if (kafka_client_set(conf, "sasl.mechanisms",
		    kafka_sasl_names[o->sasl], cause) != 0 ||
		    kafka_client_set(conf, "sasl.username",
		    o->user != NULL ? o->user : "", cause) != 0 ||
		    kafka_client_set(conf, "sasl.password",
		    o->password != NULL ? o->password : "", cause) != 0)
			goto fail;
	}
	if (o->tls_ca != NULL &&
	    kafka_client_set(conf, "ssl.ca.location", o->tls_ca, cause) != 0)
		goto fail;
	/*
	 * Brokers before 0.10 cannot say which API versions they speak;
	 * the hint tells librdkafka.  From 0.10 on it asks.
	 */
	if (o->version != NULL && strncmp(o->version, "0.", 2) == 0 &&
	    strncmp(o->version, "0.10", 4) != 0 &&
	    strncmp(o->version, "0.11", 4) != 0) {
		if (kafka_client_set(conf, "api.version.request", "false",
		    cause) != 0 ||
		    kafka_client_set(conf, "broker.version.fallback",
		    o->version, cause) != 0)
			goto fail;
	}
	/*
	 * No client metrics pushed to the broker (KIP-714, librdkafka 2.5
	 * on): ferry exports its own, and librdkafka waits up to a second
	 * for the last push whenever a handle is destroyed, which every job
	 * start (the tail reader), job stop and CLI command would pay.  An
	 * older librdkafka lacks the property; nothing to turn off then.
	 */
	(void)rd_kafka_conf_set(conf, "enable.metrics.push", "false", err,
	    sizeof err);
	rd_kafka_conf_set_log_cb(conf, kafka_client_log_cb);
	return (conf);
fail:
	rd_kafka_conf_destroy(conf);
	return (NULL);
}

/*
 * Create a handle of the given type from conf (taken over, even on
 * failure).  Returns the handle (destroy with kafka_client_destroy()) or
 * NULL with *cause.  The handle's opaque belongs to this file: callbacks
 * find the caller's arg with kafka_client_arg().
 */
rd_kafka_t *
kafka_client_new(rd_kafka_type_t type, rd_kafka_conf_t *conf,
    const struct kafka_client_opts *o, void *arg, char **cause)
{
	struct kafka_client_state	*st;
	rd_kafka_t			*rk;
	char				 errstr[512];

	st = xcalloc(1, sizeof *st);
	pthread_mutex_init(&st->mtx, NULL);
	st->who = kafka_client_describe(o);
	st->sasl = o->sasl;
	st->user = o->user != NULL ? xstrdup(o->user) : NULL;
	st->arg = arg;
	rd_kafka_conf_set_opaque(conf, st);
	rd_kafka_conf_set_error_cb(conf, kafka_client_error_cb);
	st->confined = o->confined;
	st->produce_max = -1;
	if (o->confined)
		rd_kafka_conf_set_connect_cb(conf, kafka_client_connect_cb);
	if ((rk = rd_kafka_new(type, conf, errstr, sizeof errstr)) == NULL) {
		*cause = xasprintf("Kafka %s: %s", st->who, errstr);
		rd_kafka_conf_destroy(conf);
		kafka_client_state_free(st);
		return (NULL);
	}
	return (rk);
}

static struct kafka_client_state *
kafka_client_state(const rd_kafka_t *rk)
{
	return (rd_kafka_opaque(rk));
}

/* The arg given to kafka_client_new(); any thread. */
void *
kafka_client_arg(const rd_kafka_t *rk)
{
	return (kafka_client_state(rk)->arg);
}

/*
 * A confined endpoint's cluster: every broker it advertises must resolve
 * only to addresses the network policy allows (librdkafka would connect
 * to them as it needs them; this says so at once, naming the broker).
 * 0, or -1 with *cause.
 */
static int
kafka_client_advertised(struct kafka_client_state *st,
    const struct rd_kafka_metadata *md, char **cause)
{
	struct addrinfo	 hints, *res, *ai;
	const char	*why;
	char		 port[8], *what;
	int		 i, rc = 0;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	for (i = 0; i < md->broker_cnt && rc == 0; i++) {
		snprintf(port, sizeof port, "%d", md->brokers[i].port);
		if (getaddrinfo(md->brokers[i].host, port, &hints, &res) != 0)
			continue;	/* unreachable: librdkafka says so */
		for (ai = res; ai != NULL; ai = ai->ai_next) {
			if ((why = netpolicy_refusal(ai->ai_addr)) == NULL)
				continue;
			what = xasprintf("Kafka %s: broker %" PRId32 " as the "
			    "cluster advertises it (%s:%d)", st->who,
			    md->brokers[i].id, md->brokers[i].host,
			    md->brokers[i].port);
			*cause = netpolicy_cause(what, ai->ai_addr, why);
			free(what);
			rc = -1;
			break;
		}
		freeaddrinfo(res);
	}
	return (rc);
}

/*
 * Wait up to timeout_ms for the cluster to answer a metadata request.
 * Returns 0, or -1 with *cause: the first error the callbacks recorded
 * (authentication, unreachable brokers) in plain words, else a timeout.
 */
int
kafka_client_check(rd_kafka_t *rk, int timeout_ms, char **cause)
{
	return (kafka_client_check_until(rk, timeout_ms, NULL, NULL, cause));
}

/*
 * The same, giving up early (with *cause "stopped") as soon as
 * cancel(arg) returns nonzero; it is asked every half second.
 */
int
kafka_client_check_until(rd_kafka_t *rk, int timeout_ms, int (*cancel)(void *),
    void *arg, char **cause)
{
	struct kafka_client_state	*st = kafka_client_state(rk);
	const struct rd_kafka_metadata	*md;
	rd_kafka_resp_err_t		 err;
	uint64_t			 deadline;
	int				 step, failed;

	/*
	 * The error callback runs only from rd_kafka_poll(), so ask for
	 * metadata in short steps and serve callbacks in between: a wrong
	 * password is then reported at once, not after the whole timeout.
	 */
	deadline = util_mono_us() + (uint64_t)timeout_ms * 1000;
	for (;;) {
		step = timeout_ms < 500 ? timeout_ms : 500;
		err = rd_kafka_metadata(rk, 0, NULL, &md, step);
		if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
			failed = st->confined ? kafka_client_advertised(st, md,
			    cause) : 0;
			rd_kafka_metadata_destroy(md);
			return (failed);
		}
		rd_kafka_poll(rk, 0);
		pthread_mutex_lock(&st->mtx);
		failed = (st->err != 0 &&
		    st->err != RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) ||
		    st->refused != NULL;
		pthread_mutex_unlock(&st->mtx);
		if (failed || util_mono_us() >= deadline)
			break;
		if (cancel != NULL && cancel(arg)) {
			*cause = xstrdup("stopped");
			return (-1);
		}
	}
	pthread_mutex_lock(&st->mtx);
	if (st->refused != NULL) {
		*cause = xasprintf("Kafka %s: %s", st->who, st->refused);
		pthread_mutex_unlock(&st->mtx);
		return (-1);
	}
	switch (st->err) {
	case RD_KAFKA_RESP_ERR__AUTHENTICATION:
	case RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED:
		*cause = xasprintf("Kafka %s: authentication failed for user "
		    "'%s' with %s (check the user, the password file and the "
		    "mechanism): %s", st->who, st->user != NULL ? st->user : "",
		    kafka_sasl_names[st->sasl], st->reason);
		break;
	case RD_KAFKA_RESP_ERR__SSL:
		*cause = xasprintf("Kafka %s: TLS failed: %s", st->who,
		    st->reason);
		break;
	case RD_KAFKA_RESP_ERR__RESOLVE:
	case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
		*cause = xasprintf("Kafka %s: no broker reachable (is the "
		    "cluster running, and is the address right?): %s",
		    st->who, st->reason);
		break;
	default:
		*cause = xasprintf("Kafka %s: no answer to a metadata request "
		    "within %d ms: %s", st->who, timeout_ms,
		    rd_kafka_err2str(err));
		break;
	}
	pthread_mutex_unlock(&st->mtx);
	return (-1);
}

/*
 * Destroy a handle made by kafka_client_new() and its state.  Producers
 * should be flushed first; this does not wait for deliveries.
 */
void
kafka_client_destroy(rd_kafka_t *rk)
{
	struct kafka_client_state	*st;

	if (rk == NULL)
		return;
	st = kafka_client_state(rk);
	rd_kafka_destroy(rk);
	kafka_client_state_free(st);
}

/*
 * The newest Produce request version the broker said it speaks, when the
 * handle was made with debug "protocol" and has connected; -1: unknown.
 */
int
kafka_client_produce_version(rd_kafka_t *rk)
{
	struct kafka_client_state	*st = kafka_client_state(rk);
	int				 v;

	pthread_mutex_lock(&st->mtx);
	v = st->produce_max;
	pthread_mutex_unlock(&st->mtx);
	return (v);
}

/*
 * A topic's configuration entry (DescribeConfigs, Kafka 0.11 and later)
 * in *value: 0, or -1 with *cause (an older broker, no permission, no
 * such entry).
 */
int
kafka_client_topic_config(rd_kafka_t *rk, const char *topic, const char *name,
    char **value, char **cause)
{
	const rd_kafka_DescribeConfigs_result_t	*res;
	const rd_kafka_ConfigResource_t		**rs;
	const rd_kafka_ConfigEntry_t		**ce;
	rd_kafka_ConfigResource_t		*cr;
	rd_kafka_AdminOptions_t			*ao;
	rd_kafka_queue_t			*q;
	rd_kafka_event_t			*ev;
	const char				*v;
	char					 errstr[256];
	size_t					 n, nc, i;

	*value = NULL;
	q = rd_kafka_queue_new(rk);
	ao = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS);
	rd_kafka_AdminOptions_set_request_timeout(ao, 10000, errstr,
	    sizeof errstr);
	cr = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic);
	rd_kafka_DescribeConfigs(rk, &cr, 1, ao, q);
	ev = rd_kafka_queue_poll(q, 15000);
	if (ev == NULL)
		*cause = xstrdup("timed out");
	else if (rd_kafka_event_error(ev) != 0)
		*cause = xstrdup(rd_kafka_event_error_string(ev));
	else if ((res = rd_kafka_event_DescribeConfigs_result(ev)) == NULL ||
	    (rs = rd_kafka_DescribeConfigs_result_resources(res, &n)) ==
	    NULL || n != 1)
		*cause = xstrdup("no answer for the topic");
	else if (rd_kafka_ConfigResource_error(rs[0]) != 0)
		*cause = xstrdup(rd_kafka_ConfigResource_error_string(rs[0]));
	else {
		ce = rd_kafka_ConfigResource_configs(rs[0], &nc);
		for (i = 0; ce != NULL && i < nc; i++) {
			if (strcmp(rd_kafka_ConfigEntry_name(ce[i]), name) ==
			    0 && (v = rd_kafka_ConfigEntry_value(ce[i])) !=
			    NULL) {
				*value = xstrdup(v);
				break;
			}
		}
		if (*value == NULL)
			*cause = xasprintf("the topic has no %s", name);
	}
	if (ev != NULL)
		rd_kafka_event_destroy(ev);
	rd_kafka_ConfigResource_destroy(cr);
	rd_kafka_AdminOptions_destroy(ao);
	rd_kafka_queue_destroy(q);
	return (*value != NULL ? 0 : -1);
}

/* The partitions of a topic's metadata without a leader (a topic just
 * made has none for a moment). */
int
kafka_client_leaderless(const struct rd_kafka_metadata_topic *mt)
{
	int	i, n = 0;

	for (i = 0; i < mt->partition_cnt; i++)
		n += mt->partitions[i].err != RD_KAFKA_RESP_ERR_NO_ERROR ||
		    mt->partitions[i].leader < 0;
	return (n);
}

/*
 * Whether the cluster of o takes Produce requests of version 3 or later
 * (Kafka 0.11: record headers and the idempotent producer): 1 yes, 0 no,
 * -1 with *cause when it cannot be reached (or cancel(arg) said to stop).
 * Asked with a short-lived client that logs the brokers' API versions; a
 * broker that does not say counts as yes, as librdkafka itself assumes.
 */
int
kafka_client_headers(const struct kafka_client_opts *o, int timeout_ms,
    int (*cancel)(void *), void *arg, char **cause)
{
	rd_kafka_conf_t	*conf;
	rd_kafka_t	*rk;
	int		 v;

	if ((conf = kafka_client_conf(o, cause)) == NULL)
		return (-1);
	if (kafka_client_set(conf, "debug", "feature", cause) != 0) {
		rd_kafka_conf_destroy(conf);
		return (-1);
	}
	if ((rk = kafka_client_new(RD_KAFKA_PRODUCER, conf, o, NULL,
	    cause)) == NULL)
		return (-1);
	if (kafka_client_check_until(rk, timeout_ms, cancel, arg,
	    cause) != 0) {
		kafka_client_destroy(rk);
		return (-1);
	}
	v = kafka_client_produce_version(rk);
	kafka_client_destroy(rk);
	return (v < 0 || v >= KAFKA_PRODUCE_HEADERS);
}

/* 1 when codec is one the producer can use (librdkafka's names). */
int
kafka_client_compression_ok(const char *codec)
{
	static const char	*codecs[] = { "none", "gzip", "snappy", "lz4",
				    "zstd" };
	size_t			 i;

	for (i = 0; i < sizeof codecs / sizeof codecs[0]; i++) {
		if (strcmp(codec, codecs[i]) == 0)
			return (1);
	}
	return (0);
}

/*
 * The producer settings an operator may give a Kafka endpoint
 * (--producer-prop KEY=VALUE): batching, timeouts, sockets, the client's
 * name.  Not what ferry owns: the brokers, security, idempotence, acks,
 * ordering, sizes and delivery timeouts its exactly-once resume and memory
 * budget depend on.
 */
static const char *kafka_client_props[] = {
	"batch.num.messages", "batch.size", "broker.address.family",
	"client.id", "client.rack", "compression.level",
	"connections.max.idle.ms", "linger.ms", "metadata.max.age.ms",
	"queue.buffering.max.ms", "reconnect.backoff.max.ms",
	"reconnect.backoff.ms", "request.timeout.ms", "retry.backoff.max.ms",
	"retry.backoff.ms", "socket.connection.setup.timeout.ms",
	"socket.keepalive.enable", "socket.nagle.disable",
	"socket.receive.buffer.bytes", "socket.send.buffer.bytes",
	"socket.timeout.ms", "sticky.partitioning.linger.ms",
	"topic.metadata.refresh.interval.ms",
};

/* 1 when "key=value" sets an allowed producer setting, else 0 with
 * *cause. */
int
kafka_client_prop_ok(const char *kv, char **cause)
{
	const char	*eq = strchr(kv, '=');
	size_t		 i, len;

	if (eq == NULL || eq == kv || strchr(kv, '\n') != NULL) {
		*cause = xasprintf("'%s' is not KEY=VALUE", kv);
		return (0);
	}
	len = (size_t)(eq - kv);
	for (i = 0; i < sizeof kafka_client_props /
	    sizeof kafka_client_props[0]; i++) {
		if (strlen(kafka_client_props[i]) == len &&
		    strncmp(kafka_client_props[i], kv, len) == 0)
			return (1);
	}
	*cause = xasprintf("'%.*s' is not a producer setting an endpoint may "
	    "change (ferry sets the brokers, security, idempotence, acks, "
	    "ordering, sizes and timeouts itself); these may be: "
	    "linger.ms, batch.size, batch.num.messages, client.id, "
	    "request.timeout.ms, socket.* and the others in docs/CLI.md",
	    (int)len, kv);
	return (0);
}

/* Apply "key=value\n..." (each allowed) to conf. */
int
kafka_client_set_props(rd_kafka_conf_t *conf, const char *props, char **cause)
{
	char	*copy, *line, *save = NULL, *eq;
	int	 rc = 0;

	if (props == NULL)
		return (0);
	copy = xstrdup(props);
	for (line = strtok_r(copy, "\n", &save); line != NULL && rc == 0;
	    line = strtok_r(NULL, "\n", &save)) {
		if (!kafka_client_prop_ok(line, cause) ||
		    (eq = strchr(line, '=')) == NULL) {
			rc = -1;
			break;
		}
		*eq = '\0';
		rc = kafka_client_set(conf, line, eq + 1, cause);
	}
	free(copy);
	return (rc);
}
