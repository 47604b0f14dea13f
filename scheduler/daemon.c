/*
 * The daemon: one libevent loop on the main thread, one thread per
 * running job (engine/sync.c).
 *
 * Every poll_ms the loop reads the store: a queued or running job that no
 * daemon holds is leased and started; a running job the user paused,
 * stopped or removed is asked to stop (it drains and checkpoints); leases
 * of running jobs are renewed.  A lease outlives a crashed daemon by
 * lease_ms, which is also what keeps a new daemon from reading a
 * partition's tail before the dead one's last requests have landed.
 *
 * The HTTP endpoint (--http) serves /healthz, /jobs (JSON) and /metrics
 * (Prometheus text).  The control socket (a Unix socket, STORE.sock unless
 * --control says otherwise) answers one-line commands: the CLI says "wake"
 * after it changed a job, so the change takes effect now rather than at
 * the next poll.  SIGTERM and SIGINT stop every job, wait for them to
 * drain, release the leases and return; SIGHUP reopens the log file.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "common/buf.h"
#include "common/json.h"
#include "common/log.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "engine/netpolicy.h"
#include "engine/producer.h"
#include "engine/reader.h"
#include "engine/sync.h"
#include "scheduler/api.h"
#include "scheduler/daemon.h"
#include "scheduler/httpd.h"
#include "scheduler/store.h"

struct daemon_job {
	int64_t			 id;
	int64_t			 budget;	/* its memory budget, bytes */
	struct sync_job		*sj;
	int			 stopping;
	int64_t			 revision;	/* of the job it runs */
	uint64_t		 restart_after;	/* ms since the epoch */
};

struct daemon {
	const struct daemon_options *o;
	struct event_base	*base;
	struct store		*store;
	char			 owner[128];
	struct daemon_job	*jobs;
	size_t			 njobs;
	int			 shutdown;
	struct httpd		*http;
	struct api		*api;
	struct evconnlistener	*control;
	struct event		*reap;		/* while jobs are stopping */
	char			*control_path;	/* to remove at exit */
	uint64_t		 started_us;
	uint64_t		 ticks;
	uint64_t		 renewed_us;	/* leases last renewed */
	int			 check_leases;	/* one was lost: see which */
	int64_t			 max_memory;	/* the sum of the budgets */
	int64_t			*waiting;	/* jobs told they wait for
						   memory */
	size_t			 nwaiting;
};

/* The control socket of the store at store_path: beside it. */
char *
daemon_control_path(const char *store_path)
{
	return (xasprintf("%s.sock", store_path));
}

void
daemon_options_init(struct daemon_options *o)
{
	memset(o, 0, sizeof *o);
	o->poll_ms = 500;
	o->lease_ms = 10000;
	sync_options_init(&o->sync);
}

static struct daemon_job *
daemon_find(struct daemon *d, int64_t id)
{
	size_t	 i;

	for (i = 0; i < d->njobs; i++) {
		if (d->jobs[i].id == id)
			return (&d->jobs[i]);
	}
	return (NULL);
}

static void
daemon_forget(struct daemon *d, size_t i)
{
	char	*cause = NULL;

	sync_job_free(d->jobs[i].sj);
	if (store_lease_release(d->store, d->jobs[i].id, d->owner,
	    &cause) != 0) {
		log_warnx("%s", cause);
		free(cause);
	}
	log_info("job %" PRId64 " stopped", d->jobs[i].id);
	d->jobs[i] = d->jobs[--d->njobs];
}

static void	daemon_sync(struct daemon *);

/*
 * Every 100 ms while a job is stopping: forget the ones that finished (a
 * pause or stop shows at once, not at the next poll) and read the store
 * again if any did (a restart starts the job again now).
 */
static void
daemon_reap(evutil_socket_t fd, short what, void *arg)
{
	struct daemon	*d = arg;
	struct timeval	 tv = { 0, 100000 };
	size_t		 i, gone = 0, left = 0;

	(void)fd;
	(void)what;
	for (i = 0; i < d->njobs; i++) {
		if (!d->jobs[i].stopping || d->jobs[i].sj == NULL)
			continue;
		if (sync_job_finished(d->jobs[i].sj)) {
			daemon_forget(d, i);
			i--;
			gone++;
		} else
			left++;
	}
	if (gone > 0)
		daemon_sync(d);
	if (left > 0)
		event_add(d->reap, &tv);
	if (d->shutdown && d->njobs == 0)
		event_base_loopexit(d->base, NULL);
}

/* Ask a running job to stop (it drains and checkpoints). */
static void
daemon_stop_job(struct daemon *d, struct daemon_job *dj)
{
	struct timeval	 tv = { 0, 100000 };

	sync_job_stop(dj->sj);
	dj->stopping = 1;
	if (d->reap != NULL && !event_pending(d->reap, EV_TIMEOUT, NULL))
		event_add(d->reap, &tv);
}

/*
 * Whether job j fits in the daemon's memory ceiling beside the jobs
 * running here (their budgets summed); one that does not waits, queued,
 * and its log says so once.
 */
static int
daemon_fits(struct daemon *d, const struct job *j, int64_t *budget)
{
	int64_t	 used = 0;
	size_t	 i;
	char	*msg, *cause = NULL;

	*budget = j->max_memory > 0 ? j->max_memory : JOBCTX_DEFAULT_BUDGET;
	for (i = 0; i < d->njobs; i++) {
		if (d->jobs[i].sj != NULL)
			used += d->jobs[i].budget;
	}
	if (used + *budget <= d->max_memory) {
		for (i = 0; i < d->nwaiting; i++) {
			if (d->waiting[i] == j->id)
				d->waiting[i] = d->waiting[--d->nwaiting];
		}
		return (1);
	}
	for (i = 0; i < d->nwaiting; i++) {
		if (d->waiting[i] == j->id)
			return (0);
	}
	d->waiting = xreallocarray(d->waiting, d->nwaiting + 1,
	    sizeof *d->waiting);
	d->waiting[d->nwaiting++] = j->id;
	msg = xasprintf("waiting: its memory budget (%" PRId64 " MiB) does "
	    "not fit beside the jobs this daemon runs (%" PRId64 " of %" PRId64
	    " MiB, ferry serve --max-memory)", *budget >> 20, used >> 20,
	    d->max_memory >> 20);
	log_warnx("job %" PRId64 ": %s", j->id, msg);
	if (store_log_add(d->store, j->id, "daemon", "wait", msg, &cause) != 0) {
		log_warnx("%s", cause);
		free(cause);
	}
	free(msg);
	return (0);
}

/* Read the store and bring the running jobs in line with it. */
static void
daemon_sync(struct daemon *d)
{
	struct job		*jobs = NULL;
	struct daemon_job	*dj;
	char			*cause = NULL;
	size_t			 n = 0, i, k;
	int64_t			 budget = 0;
	int			 rc;

	if (!d->shutdown && store_jobs_runnable(d->store, &jobs, &n,
	    &cause) != 0) {
		log_warnx("%s", cause);
		free(cause);
		return;
	}
	/* Jobs that finished, or that are no longer to run. */
	for (i = 0; i < d->njobs; i++) {
		dj = &d->jobs[i];
		for (k = 0; k < n; k++) {
			if (jobs[k].id == dj->id)
				break;
		}
		if (k == n && !dj->stopping && dj->sj != NULL) {
			log_info("job %" PRId64 ": stopping", dj->id);
			daemon_stop_job(d, dj);
		} else if (k < n && !dj->stopping && dj->sj != NULL &&
		    jobs[k].revision != dj->revision) {
			/* Its tables changed: stop it (drained, checkpointed)
			 * and start it again below. */
			log_info("job %" PRId64 ": its definition changed; "
			    "restarting", dj->id);
			daemon_stop_job(d, dj);
		}
		if (dj->sj != NULL && sync_job_finished(dj->sj) &&
		    (dj->stopping || k == n)) {
			daemon_forget(d, i);
			i--;
		} else if (dj->sj != NULL && sync_job_finished(dj->sj)) {
			/* Ended by itself with the job still runnable (its
			 * store could not be opened): try again later. */
			sync_job_free(dj->sj);
			dj->sj = NULL;
			dj->restart_after = util_wall_us() / 1000 + 5000;
		}
	}
	log_debug("%zu runnable jobs, %zu here", n, d->njobs);
	/*
	 * Leases of the jobs running here: renewed together, a third of a
	 * lease's life apart (one write for every job, not one each).
	 */
	if (!d->shutdown && util_mono_us() - d->renewed_us >=
	    (uint64_t)d->o->lease_ms * 1000 / 3) {
		int64_t	*ids = xcalloc(d->njobs + 1, sizeof *ids);
		size_t	 nids = 0, lost = 0;

		for (i = 0; i < d->njobs; i++) {
			if (d->jobs[i].sj != NULL && !d->jobs[i].stopping)
				ids[nids++] = d->jobs[i].id;
		}
		if (store_leases_renew(d->store, d->owner, ids, nids,
		    d->o->lease_ms, &lost, &cause) != 0) {
			log_warnx("%s", cause);
			free(cause);
			cause = NULL;
		} else if (lost > 0)
			d->check_leases = 1;
		free(ids);
		d->renewed_us = util_mono_us();
	}
	/* Jobs to start. */
	for (k = 0; k < n && !d->shutdown; k++) {
		dj = daemon_find(d, jobs[k].id);
		if (dj != NULL && dj->sj != NULL && !d->check_leases)
			continue;	/* running here */
		if (dj != NULL && dj->sj == NULL &&
		    util_wall_us() / 1000 < dj->restart_after)
			continue;
		if ((dj == NULL || dj->sj == NULL) &&
		    !daemon_fits(d, &jobs[k], &budget))
			continue;
		rc = store_lease_acquire(d->store, jobs[k].id, d->owner,
		    d->o->lease_ms, &cause);
		if (rc < 0) {
			log_warnx("%s", cause);
			free(cause);
			cause = NULL;
			continue;
		}
		if (rc == 1) {
			log_debug("job %" PRId64 ": leased by another daemon",
			    jobs[k].id);
			if (dj != NULL && dj->sj != NULL && !dj->stopping) {
				log_warnx("job %" PRId64 ": another daemon holds "
				    "its lease; stopping here", jobs[k].id);
				daemon_stop_job(d, dj);
			}
			continue;
		}
		if (dj != NULL && dj->sj != NULL)
			continue;	/* running: the lease is renewed */
		if (dj == NULL) {
			d->jobs = xreallocarray(d->jobs, d->njobs + 1,
			    sizeof *d->jobs);
			dj = &d->jobs[d->njobs++];
			memset(dj, 0, sizeof *dj);
			dj->id = jobs[k].id;
		}
		log_info("job %" PRId64 " '%s': starting", jobs[k].id,
		    jobs[k].name);
		dj->revision = jobs[k].revision;
		dj->budget = budget;
		if ((dj->sj = sync_job_start(store_door_open,
		    (void *)d->o->store_path, jobs[k].id,
		    &d->o->sync, &cause)) == NULL) {
			log_warnx("%s", cause);
			free(cause);
			cause = NULL;
			dj->restart_after = util_wall_us() / 1000 + 5000;
		}
	}
	d->check_leases = 0;
	job_list_free(jobs, n);
}

static void
daemon_tick(evutil_socket_t fd, short what, void *arg)
{
	struct daemon	*d = arg;

	(void)fd;
	(void)what;
	d->ticks++;
	daemon_sync(d);
	if (d->shutdown && d->njobs == 0)
		event_base_loopexit(d->base, NULL);
}

static void
daemon_signal(evutil_socket_t sig, short what, void *arg)
{
	struct daemon	*d = arg;
	char		*cause = NULL;
	size_t		 i;

	(void)what;
	if (sig == SIGHUP) {
		if (log_reopen(&cause) != 0) {
			log_warnx("%s", cause);
			free(cause);
		}
		return;
	}
	if (d->shutdown)
		return;
	log_info("signal %d: stopping %zu jobs", (int)sig, d->njobs);
	d->shutdown = 1;
	for (i = 0; i < d->njobs; i++) {
		if (d->jobs[i].sj != NULL && !d->jobs[i].stopping)
			daemon_stop_job(d, &d->jobs[i]);
	}
}

/* ---- HTTP ---------------------------------------------------------------- */

static void
daemon_reply(struct httpd_req *req, int code, const char *type,
    struct buf *b)
{
	httpd_reply(req, code, type, NULL, b->data, b->len);
}

static void
daemon_metric(struct buf *b, const char *name, const char *help,
    const char *type)
{
	buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A per-job gauge of an int64_t field at off, for the jobs that know it. */
static void
daemon_gauge(struct buf *b, const char *name, const char *help,
    const struct sync_stats *st, size_t n, size_t off)
{
	int64_t	 v;
	size_t	 i;

	daemon_metric(b, name, help, "gauge");
	for (i = 0; i < n; i++) {
		memcpy(&v, (const char *)&st[i] + off, sizeof v);
		if (v >= 0)
			buf_printf(b, "%s{job=\"%" PRId64 "\"} %" PRId64 "\n",
			    name, st[i].job, v);
	}
}

/* The running jobs as the JSON array /jobs and the control socket give
 * (of those among ids, n of them; ids NULL: all). */
static void
daemon_jobs_json(const struct sync_stats *st, size_t n, const int64_t *ids,
    size_t nids, struct buf *b)
{
	size_t		 i, k, out = 0;

	buf_addc(b, '[');
	for (i = 0; i < n; i++) {
		for (k = 0; ids != NULL && k < nids; k++) {
			if (ids[k] == st[i].job)
				break;
		}
		if (ids != NULL && k == nids)
			continue;
		buf_printf(b, "%s{\"id\":%" PRId64 ",\"phase\":",
		    out++ > 0 ? "," : "", st[i].job);
		json_add_cstring(b, st[i].phase);
		buf_printf(b, ",\"records\":%" PRIu64 ",\"acked\":%"
		    PRIu64 ",\"skipped\":%" PRIu64 ",\"bytes\":%" PRIu64
		    ",\"events\":%" PRIu64 ",\"inflight_bytes\":%"
		    PRIu64 ",\"restarts\":%" PRIu64 ",\"throttled_ms\":%"
		    PRIu64, st[i].records, st[i].acked, st[i].skipped,
		    st[i].bytes, st[i].events, st[i].inflight_bytes,
		    st[i].restarts, st[i].throttled_us / 1000);
		if (st[i].lag_seconds >= 0)
			buf_printf(b, ",\"lag_seconds\":%" PRId64,
			    st[i].lag_seconds);
		else
			buf_adds(b, ",\"lag_seconds\":null");
		if (st[i].lag_bytes >= 0)
			buf_printf(b, ",\"lag_bytes\":%" PRId64,
			    st[i].lag_bytes);
		else
			buf_adds(b, ",\"lag_bytes\":null");
		buf_printf(b, ",\"checkpoint_at\":%" PRId64 "}",
		    st[i].checkpoint_at);
	}
	buf_adds(b, "]\n");
}

/* Statistics of the jobs running here (free it). */
static struct sync_stats *
daemon_stats(struct daemon *d, size_t *n)
{
	struct sync_stats	*st = xcalloc(d->njobs + 1, sizeof *st);
	size_t			 i;

	*n = 0;
	for (i = 0; i < d->njobs; i++) {
		if (d->jobs[i].sj != NULL)
			sync_job_stats(d->jobs[i].sj, &st[(*n)++]);
	}
	return (st);
}

/* The API's view of the running jobs among ids (api_jobs_cb). */
static void
daemon_api_jobs(void *arg, const int64_t *ids, size_t nids, struct buf *b)
{
	struct daemon		*d = arg;
	struct sync_stats	*st;
	size_t			 n;

	st = daemon_stats(d, &n);
	daemon_jobs_json(st, n, ids, nids, b);
	free(st);
}

/*
 * /healthz: 200 while the daemon runs and no job has failed; 503 naming the
 * failed jobs (of every tenant) otherwise, and when the store cannot be
 * read.  /healthz?live (jobs 0): 200 while the daemon runs, whatever its
 * jobs (a liveness probe).
 */
static void
daemon_healthz(struct daemon *d, struct httpd_req *req, size_t running,
    int jobs, struct buf *b)
{
	struct job	*failed = NULL;
	size_t		 nfailed = 0, i;
	char		*cause = NULL;
	int		 code = 200;

	if (jobs && store_jobs_failed(d->store, &failed, &nfailed,
	    &cause) != 0) {
		buf_adds(b, "{\"status\":\"store unreadable\",\"error\":");
		json_add_cstring(b, cause);
		buf_adds(b, "}\n");
		free(cause);
		daemon_reply(req, 503, "application/json", b);
		return;
	}
	if (nfailed > 0)
		code = 503;
	buf_printf(b, "{\"status\":\"%s\",\"jobs\":%zu,\"uptime_seconds\":%"
	    PRIu64, code == 200 ? "ok" : "failed jobs", running,
	    (util_mono_us() - d->started_us) / 1000000);
	if (jobs) {
		buf_adds(b, ",\"failed\":[");
		for (i = 0; i < nfailed; i++) {
			buf_printf(b, "%s{\"id\":%" PRId64 ",\"name\":",
			    i > 0 ? "," : "", failed[i].id);
			json_add_cstring(b, failed[i].name);
			buf_printf(b, ",\"tenant_id\":%" PRId64 ",\"error\":",
			    failed[i].tenant_id);
			json_add_cstring(b, failed[i].error != NULL ?
			    failed[i].error : "");
			buf_addc(b, '}');
		}
		buf_addc(b, ']');
	}
	buf_adds(b, "}\n");
	job_list_free(failed, nfailed);
	daemon_reply(req, code, "application/json", b);
}

static void
daemon_http(struct httpd_req *req, void *arg)
{
	struct daemon		*d = arg;
	struct sync_stats	*st;
	struct buf		 b = BUF_INITIALIZER;
	const char		*path = req->path;
	int			 live = req->query != NULL &&
				    strcmp(req->query, "live") == 0;
	size_t			 i, n = 0;
	static const struct {
		const char	*name;
		const char	*help;
		const char	*type;
		size_t		 off;
	} m[] = {
		{ "ferry_job_records_total", "records sent to Kafka",
		    "counter", offsetof(struct sync_stats, records) },
		{ "ferry_job_acked_total", "records Kafka acknowledged",
		    "counter", offsetof(struct sync_stats, acked) },
		{ "ferry_job_skipped_total", "records found already in Kafka "
		    "on resume", "counter", offsetof(struct sync_stats, skipped) },
		{ "ferry_job_bytes_total", "bytes of records sent", "counter",
		    offsetof(struct sync_stats, bytes) },
		{ "ferry_job_events_total", "binlog events read", "counter",
		    offsetof(struct sync_stats, events) },
		{ "ferry_job_inflight_bytes", "bytes sent and not yet "
		    "acknowledged", "gauge",
		    offsetof(struct sync_stats, inflight_bytes) },
		{ "ferry_job_restarts_total", "transient failures retried",
		    "counter", offsetof(struct sync_stats, restarts) },
		{ "ferry_job_throttled_microseconds_total", "time the job "
		    "waited for its tenant's rows per second", "counter",
		    offsetof(struct sync_stats, throttled_us) },
	};

	if (strcmp(req->method, "GET") != 0) {
		buf_adds(&b, "{\"error\":\"only GET here\"}\n");
		daemon_reply(req, 405, "application/json", &b);
		buf_release(&b);
		return;
	}
	st = daemon_stats(d, &n);
	if (strcmp(path, "/healthz") == 0)
		daemon_healthz(d, req, n, !live, &b);
	else if (strcmp(path, "/jobs") == 0) {
		daemon_jobs_json(st, n, NULL, 0, &b);
		daemon_reply(req, 200, "application/json", &b);
	} else if (strcmp(path, "/metrics") == 0) {
		daemon_metric(&b, "ferry_jobs_running", "jobs this daemon runs",
		    "gauge");
		buf_printf(&b, "ferry_jobs_running %zu\n", n);
		for (size_t k = 0; k < nitems(m); k++) {
			daemon_metric(&b, m[k].name, m[k].help, m[k].type);
			for (i = 0; i < n; i++)
				buf_printf(&b, "%s{job=\"%" PRId64 "\"} %" PRIu64
				    "\n", m[k].name, st[i].job,
				    *(uint64_t *)((char *)&st[i] + m[k].off));
		}
		daemon_gauge(&b, "ferry_job_lag_seconds", "seconds between "
		    "the source's last change and now, as read", st, n,
		    offsetof(struct sync_stats, lag_seconds));
		daemon_gauge(&b, "ferry_job_lag_bytes", "binlog bytes the "
		    "source has that the job has not read", st, n,
		    offsetof(struct sync_stats, lag_bytes));
		daemon_metric(&b, "ferry_job_phase", "the job's phase (1 for "
		    "the current one)", "gauge");
		for (i = 0; i < n; i++)
			buf_printf(&b, "ferry_job_phase{job=\"%" PRId64 "\","
			    "phase=\"%s\"} 1\n", st[i].job, st[i].phase);
		daemon_reply(req, 200, "text/plain; version=0.0.4", &b);
	} else {
		buf_adds(&b, "not found: try /healthz, /jobs or /metrics\n");
		daemon_reply(req, 404, "text/plain", &b);
	}
	buf_release(&b);
	free(st);
}

/*
 * The health and metrics listener: no authentication (it names every
 * tenant's jobs), so a listener on another than a loopback address is
 * said so in the log.
 */
static int
daemon_http_open(struct daemon *d, const char *hostport, char **cause)
{
	struct httpd_opts	 o;
	char			*host;
	unsigned int		 port;

	if (httpd_split(hostport, &host, &port, cause) != 0) {
		char	*why = *cause;

		*cause = xasprintf("--http: %s", why);
		free(why);
		return (-1);
	}
	if (strcmp(host, "127.0.0.1") != 0 && strcmp(host, "::1") != 0 &&
	    strcmp(host, "localhost") != 0)
		log_warnx("--http %s: /healthz, /jobs and /metrics have no "
		    "authentication and show every tenant's jobs; anyone who "
		    "reaches %s reads them", hostport, *host != '\0' ? host :
		    "this host");
	free(host);
	httpd_opts_init(&o);
	o.max_body = 0;
	if ((d->http = httpd_new(d->base, hostport, &o, daemon_http, d,
	    cause)) == NULL)
		return (-1);
	return (0);
}

/* ---- control socket ------------------------------------------------------ */

#define DAEMON_CONTROL_LINE	4096

static void
daemon_control_read(struct bufferevent *bev, void *arg)
{
	struct daemon		*d = arg;
	struct evbuffer		*in = bufferevent_get_input(bev);
	struct evbuffer		*out = bufferevent_get_output(bev);
	struct sync_stats	*st;
	struct buf		 b = BUF_INITIALIZER;
	char			*line;
	size_t			 len, n;

	while ((line = evbuffer_readln(in, &len, EVBUFFER_EOL_CRLF)) != NULL) {
		buf_reset(&b);
		if (strcmp(line, "ping") == 0)
			buf_printf(&b, "ok ferry %s pid %ld\n", PACKAGE_VERSION,
			    (long)getpid());
		else if (strcmp(line, "wake") == 0) {
			if (!d->shutdown)
				daemon_sync(d);
			buf_adds(&b, "ok\n");
		} else if (strcmp(line, "jobs") == 0) {
			st = daemon_stats(d, &n);
			daemon_jobs_json(st, n, NULL, 0, &b);
			free(st);
		} else
			buf_adds(&b, "error: unknown command (ping, wake, "
			    "jobs)\n");
		evbuffer_add(out, b.data, b.len);
		free(line);
	}
	buf_release(&b);
	if (evbuffer_get_length(in) > DAEMON_CONTROL_LINE)
		bufferevent_free(bev);	/* not a client of ours */
}

static void
daemon_control_event(struct bufferevent *bev, short what, void *arg)
{
	(void)arg;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		bufferevent_free(bev);
}

static void
daemon_control_accept(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct daemon		*d = arg;
	struct bufferevent	*bev;

	(void)l;
	(void)sa;
	(void)salen;
	bev = bufferevent_socket_new(d->base, fd, BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(bev, daemon_control_read, NULL,
	    daemon_control_event, d);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
}

/*
 * Listen on the control socket path (mode 0600).  A socket file nobody
 * answers on is a dead daemon's: it is replaced.  One another daemon
 * answers on is left alone: -1, or 0 without a socket when the path is
 * the default (several daemons may serve one store; the CLI then wakes
 * the first).
 */
static int
daemon_control_open(struct daemon *d, const char *path, int is_default,
    char **cause)
{
	struct sockaddr_un	 sun;
	mode_t			 mask;
	int			 fd;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sun.sun_path) {
		if (is_default) {
			log_warnx("no control socket: its path %s is longer "
			    "than a Unix socket allows (give a shorter one "
			    "with --control)", path);
			return (0);
		}
		*cause = xasprintf("--control %s: longer than a Unix socket "
		    "path may be (%zu bytes)", path, sizeof sun.sun_path - 1);
		return (-1);
	}
	util_strlcpy(sun.sun_path, path, sizeof sun.sun_path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0) {
		*cause = xasprintf("control socket: %s", strerror(errno));
		return (-1);
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) == 0) {
		close(fd);
		if (is_default) {
			log_warnx("no control socket: another daemon answers "
			    "on %s", path);
			return (0);
		}
		*cause = xasprintf("another ferry serve answers on the "
		    "control socket %s", path);
		return (-1);
	}
	if (errno == ECONNREFUSED) {
		struct stat	 sb;

		if (lstat(path, &sb) == 0 && S_ISSOCK(sb.st_mode))
			unlink(path);	/* a dead daemon's */
	}
	mask = umask(0077);
	if (bind(fd, (struct sockaddr *)&sun, sizeof sun) != 0) {
		umask(mask);
		*cause = xasprintf("cannot create the control socket %s: %s",
		    path, strerror(errno));
		close(fd);
		return (-1);
	}
	umask(mask);
	evutil_make_socket_nonblocking(fd);
	evutil_make_socket_closeonexec(fd);
	if ((d->control = evconnlistener_new(d->base, daemon_control_accept,
	    d, LEV_OPT_CLOSE_ON_FREE, 16, fd)) == NULL) {
		*cause = xasprintf("cannot listen on %s: %s", path,
		    strerror(errno));
		close(fd);
		unlink(path);
		return (-1);
	}
	d->control_path = xstrdup(path);
	return (0);
}

/* The Kafka producers have delivery reports (or errors) to serve. */
static void
daemon_kafka(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	producer_serve();
}

/* Run until SIGTERM or SIGINT; -1 with *cause if it cannot start. */
int
daemon_run(const struct daemon_options *o, char **cause)
{
	struct daemon	 d;
	struct event	*tick, *sig[3], *kafka;
	struct timeval	 tv;
	char		 host[64];
	int		 sigs[3] = { SIGTERM, SIGINT, SIGHUP }, i, rc = -1;

	memset(&d, 0, sizeof d);
	d.o = o;
	d.started_us = util_mono_us();
	if (gethostname(host, sizeof host) != 0)
		util_strlcpy(host, "localhost", sizeof host);
	host[sizeof host - 1] = '\0';
	snprintf(d.owner, sizeof d.owner, "%s:%ld", host, (long)getpid());
	signal(SIGPIPE, SIG_IGN);
	if ((d.store = store_open(o->store_path, cause)) == NULL)
		return (-1);
	netpolicy_init();
	d.max_memory = o->max_memory;
	if (d.max_memory <= 0) {
		long	 pages = sysconf(_SC_PHYS_PAGES);
		long	 size = sysconf(_SC_PAGESIZE);

		d.max_memory = pages > 0 && size > 0 ? (int64_t)pages * size /
		    4 * 3 : INT64_MAX;
	}
	d.base = event_base_new();
	if (o->http != NULL && daemon_http_open(&d, o->http, cause) != 0)
		goto out;
	if (o->control == NULL || strcmp(o->control, "none") != 0) {
		char	*path = o->control != NULL ? xstrdup(o->control) :
		    daemon_control_path(o->store_path);

		rc = daemon_control_open(&d, path, o->control == NULL, cause);
		free(path);
		if (rc != 0)
			goto out;
		rc = -1;
	}
	if (o->api != NULL) {
		struct api_options	 ao;

		memset(&ao, 0, sizeof ao);
		ao.listen = o->api;
		ao.cert = o->api_cert;
		ao.key = o->api_key;
		ao.store_path = o->store_path;
		if (o->control == NULL || strcmp(o->control, "none") != 0)
			ao.control = d.control_path;
		if ((d.api = api_new(d.base, &ao, daemon_api_jobs, &d,
		    cause)) == NULL)
			goto out;
	}
	for (i = 0; i < 3; i++) {
		sig[i] = evsignal_new(d.base, sigs[i], daemon_signal, &d);
		event_add(sig[i], NULL);
	}
	tick = event_new(d.base, -1, EV_PERSIST, daemon_tick, &d);
	/* Every job's delivery reports are served here (engine/producer.c). */
	kafka = event_new(d.base, producer_fd(), EV_READ | EV_PERSIST,
	    daemon_kafka, &d);
	event_add(kafka, NULL);
	producer_attach();
	d.reap = evtimer_new(d.base, daemon_reap, &d);
	tv.tv_sec = o->poll_ms / 1000;
	tv.tv_usec = (o->poll_ms % 1000) * 1000;
	event_add(tick, &tv);
	log_info("serving %s as %s%s%s%s%s", o->store_path, d.owner,
	    o->http != NULL ? ", HTTP on " : "", o->http != NULL ? o->http :
	    "", d.control_path != NULL ? ", control socket " : "",
	    d.control_path != NULL ? d.control_path : "");
	daemon_sync(&d);
	event_base_dispatch(d.base);
	/* Shut down: wait for every job to drain. */
	while (d.njobs > 0) {
		for (size_t k = 0; k < d.njobs; k++) {
			if (d.jobs[k].sj != NULL && !d.jobs[k].stopping) {
				sync_job_stop(d.jobs[k].sj);
				d.jobs[k].stopping = 1;
			}
			if (d.jobs[k].sj == NULL ||
			    sync_job_finished(d.jobs[k].sj)) {
				daemon_forget(&d, k);
				k--;
			}
		}
		if (d.njobs > 0)
			producer_serve_wait(50);
	}
	reader_shutdown();
	event_free(kafka);
	event_free(tick);
	event_free(d.reap);
	d.reap = NULL;
	for (i = 0; i < 3; i++)
		event_free(sig[i]);
	log_info("stopped");
	rc = 0;
out:
	free(d.jobs);
	free(d.waiting);
	if (d.control != NULL) {
		evconnlistener_free(d.control);
		unlink(d.control_path);
	}
	free(d.control_path);
	if (d.http != NULL)
		httpd_free(d.http);
	api_free(d.api);
	event_base_free(d.base);
	store_close(d.store);
	return (rc);
}
