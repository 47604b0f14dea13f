/*
 * The job store's door for the engine (engine/jobstore.h): what a job's
 * thread reads and writes of the store, over a connection of its own (one
 * per job thread: SQLite connections are not shared between threads), for
 * its own job only.  Loading a job resolves everything the engine would
 * otherwise need the store for: the endpoints, their secrets (opened here,
 * scheduler/secret.c), and the options, parsed into the engine's enums.
 */
#include "config.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"
#include "engine/job_spec.h"
#include "engine/jobstore.h"
#include "engine/kafka_client.h"
#include "scheduler/secret.h"
#include "scheduler/store.h"

struct store_door {
	struct jobstore	 base;		/* first: the engine's view */
	struct store	*store;
	int64_t		 job;
	int64_t		 revision;	/* the job's, as last loaded */
	uint32_t	 server_id;	/* the server the attempt reads */
	char		*server;	/* its address; NULL: not known yet */
};

#define DOOR(js)	((struct store_door *)(js))

static void
door_close(struct jobstore *js)
{
	store_close(DOOR(js)->store);
	free(DOOR(js)->server);
	free(js);
}

/* The endpoint's secret, opened: 0, or -1 with *cause.  A tenant's
 * endpoint never reads the daemon's files or environment. */
static int
endpoint_secret(struct store *st, const struct endpoint *e, char **plain,
    char **cause)
{
	if (e->secret == NULL)
		return (0);
	if (e->tenant_owned && strncmp(e->secret, "enc:", 4) != 0) {
		*cause = xasprintf("endpoint %s is a tenant's: its password "
		    "cannot be a reference to the daemon's files or "
		    "environment", e->name);
		return (-1);
	}
	return (secret_open_for(st, e->tenant_id, e->secret, plain, cause));
}

/* A tenant's endpoint cannot name a file on the daemon's host. */
static int
endpoint_no_ca(const struct endpoint *e, char **cause)
{
	if (e->tls_ca == NULL || !e->tenant_owned)
		return (0);
	*cause = xasprintf("endpoint %s is a tenant's: it cannot name a CA "
	    "file on the daemon's host", e->name);
	return (-1);
}

/*
 * What a client needs to reach Kafka endpoint e (o made by
 * kafka_client_opts_init()): its secret opened, a tenant's confined.
 * 0, or -1 with *cause (the endpoint cannot be used as it is).
 */
int
store_endpoint_kafka_opts(struct store *st, const struct endpoint *e,
    struct kafka_client_opts *o, char **cause)
{
	o->brokers = xstrdup(e->address);
	o->confined = e->tenant_owned;
	if (e->sasl != NULL && kafka_client_parse_sasl(e->sasl,
	    &o->sasl) != 0) {
		*cause = xasprintf("endpoint %s: unknown SASL mechanism %s",
		    e->name, e->sasl);
		return (-1);
	}
	if (e->username != NULL)
		o->user = xstrdup(e->username);
	o->tls = e->tls;
	if (endpoint_no_ca(e, cause) != 0)
		return (-1);
	if (e->tls_ca != NULL)
		o->tls_ca = xstrdup(e->tls_ca);
	if (e->kafka_version != NULL)
		o->version = xstrdup(e->kafka_version);
	if (e->compression != NULL)
		o->compression = xstrdup(e->compression);
	if (e->producer_props != NULL)
		o->props = xstrdup(e->producer_props);
	return (endpoint_secret(st, e, &o->password, cause));
}

/* The same for MySQL endpoint e (o made by mysql_conn_opts_init()). */
int
store_endpoint_mysql_opts(struct store *st, const struct endpoint *e,
    struct mysql_conn_opts *o, char **cause)
{
	if (mysql_conn_opts_from_url(o, e->address, cause) != 0)
		return (-1);
	o->tls = e->tls;
	o->confined = e->tenant_owned;
	if (endpoint_no_ca(e, cause) != 0)
		return (-1);
	if (e->tls_ca != NULL) {
		free(o->tls_ca);
		o->tls_ca = xstrdup(e->tls_ca);
	}
	return (endpoint_secret(st, e, &o->password, cause));
}

static int
door_load_targets(struct store_door *d, const struct job *j,
    struct job_spec *s, char **cause)
{
	struct endpoint	 e;
	size_t		 i;
	int		 rc;

	s->targets = xcalloc(j->ntargets + 1, sizeof *s->targets);
	for (i = 0; i < j->ntargets; i++) {
		struct sink_target_opts	*t = &s->targets[s->ntargets++];

		kafka_client_opts_init(&t->kafka);
		if (store_endpoint_get_id(d->store, j->target_ids[i], &e,
		    cause) != 0)
			return (-1);
		t->name = xstrdup(e.name);
		rc = store_endpoint_kafka_opts(d->store, &e, &t->kafka, cause);
		endpoint_release(&e);
		if (rc != 0)
			return (1);
	}
	return (0);
}

/* The job's options, parsed once: a word the engine does not know (a
 * store written by a newer ferry) fails the job. */
static int
door_load_options(const struct job *j, struct job_spec *s, int *permanent,
    char **cause)
{
	if (job_partition_parse(j->partition, &s->partition) != 0)
		*cause = xasprintf("unknown partition policy '%s'",
		    j->partition);
	else if (job_ddl_parse(j->ddl, &s->ddl) != 0)
		*cause = xasprintf("unknown DDL policy '%s'", j->ddl);
	else if (job_large_row_parse(j->large_row, &s->large_row) != 0)
		*cause = xasprintf("unknown large-row policy '%s'",
		    j->large_row);
	else
		return (0);
	*permanent = 1;
	return (-1);
}

/* The tenant's rows per second (<= 0: not limited). */
static int
door_tenant_rate(struct store_door *d, int64_t tenant, int64_t *rate,
    char **cause)
{
	struct tenant	*list = NULL;
	size_t		 n = 0, i;

	*rate = -1;
	if (store_tenant_list(d->store, &list, &n, cause) != 0)
		return (-1);
	for (i = 0; i < n; i++) {
		if (list[i].id == tenant)
			*rate = list[i].max_rows_per_sec;
		tenant_release(&list[i]);
	}
	free(list);
	return (0);
}

static int
door_load(struct jobstore *js, struct job_spec *s, int *permanent,
    char **cause)
{
	struct store_door	*d = DOOR(js);
	struct job		 j;
	struct endpoint		 e;
	int			 rc = -1;

	*permanent = 0;
	job_spec_release(s);
	memset(&j, 0, sizeof j);
	if (store_job_get(d->store, d->job, &j, cause) != 0)
		return (-1);
	s->id = j.id;
	s->identity = j.identity != NULL ? xstrdup(j.identity) : NULL;
	d->revision = j.revision;
	s->topic = j.topic != NULL ? xstrdup(j.topic) : NULL;
	s->topic_template = j.topic_template != NULL ?
	    xstrdup(j.topic_template) : NULL;
	s->initial_schema = j.initial_schema;
	s->initial_full = j.initial_full;
	s->max_memory = j.max_memory;
	s->tenant_id = j.tenant_id;
	if (door_tenant_rate(d, j.tenant_id, &s->max_rows_per_sec,
	    cause) != 0)
		goto out;
	s->server_id = j.server_id;
	s->resnapshot_gen = j.resnapshot_gen;
	s->precheck_due = j.precheck_due;
	s->allow_no_key = j.allow_no_key;
	s->objects = j.objects;		/* taken over */
	s->nobjects = j.nobjects;
	j.objects = NULL;
	j.nobjects = 0;
	if (door_load_options(&j, s, permanent, cause) != 0)
		goto out;
	if (store_endpoint_get_id(d->store, j.source_id, &e, cause) != 0)
		goto out;
	s->source_name = xstrdup(e.name);
	rc = store_endpoint_mysql_opts(d->store, &e, &s->source, cause);
	endpoint_release(&e);
	if (rc != 0) {
		*permanent = 1;
		rc = -1;
		goto out;
	}
	if ((rc = door_load_targets(d, &j, s, cause)) > 0) {
		*permanent = 1;
		rc = -1;
	}
out:
	job_release(&j);
	return (rc);
}

static enum job_state
door_state(enum job_phase p)
{
	switch (p) {
	case JOB_PHASE_PRECHECKING:
		return (JOB_PRECHECKING);
	case JOB_PHASE_SCHEMA_SYNC:
		return (JOB_SCHEMA_SYNC);
	case JOB_PHASE_FULL_SYNC:
		return (JOB_FULL_SYNC);
	case JOB_PHASE_INCREMENTAL:
		break;
	}
	return (JOB_INCREMENTAL);
}

static int
door_advance(struct jobstore *js, enum job_phase p, char **cause)
{
	return (store_job_advance(DOOR(js)->store, DOOR(js)->job,
	    door_state(p), NULL, cause));
}

static int
door_prechecked(struct jobstore *js, char **cause)
{
	return (store_job_prechecked(DOOR(js)->store, DOOR(js)->job, cause));
}

static int
door_fail(struct jobstore *js, const char *error, char **cause)
{
	return (store_job_advance(DOOR(js)->store, DOOR(js)->job, JOB_FAILED,
	    error, cause) < 0 ? -1 : 0);
}

static int
door_retry_at(struct jobstore *js, int64_t at, const char *error,
    char **cause)
{
	return (store_job_schedule_retry(DOOR(js)->store, DOOR(js)->job, at,
	    error, cause));
}

static int
door_log(struct jobstore *js, const char *kind, const char *msg,
    char **cause)
{
	return (store_log_add(DOOR(js)->store, DOOR(js)->job, "daemon", kind,
	    msg, cause));
}

static int
door_reading(struct jobstore *js, uint32_t server_id, const char *addr,
    const struct checkpoint *moved, char **cause)
{
	struct store_door	*d = DOOR(js);

	if (store_positions_claim(d->store, d->job, server_id, addr, moved,
	    cause) != 0)
		return (-1);
	d->server_id = server_id;
	free(d->server);
	d->server = xstrdup(addr);
	return (0);
}

static int
door_checkpoint_get(struct jobstore *js, struct checkpoint *cp, char **cause)
{
	return (store_checkpoint_get(DOOR(js)->store, DOOR(js)->job, cp,
	    cause));
}

/* The schema changes a checkpoint passes, as of the server read now. */
static struct schema_change *
door_changes(struct store_door *d, const struct schema_change *ch, size_t n)
{
	struct schema_change	*v;
	size_t			 i;

	v = xcalloc(n + 1, sizeof *v);
	for (i = 0; i < n; i++) {
		v[i] = ch[i];
		v[i].server_id = d->server_id;
	}
	return (v);
}

/* A checkpoint of the server read now carries its address. */
static int
door_checkpoint_save(struct jobstore *js, const struct checkpoint *cp,
    const struct schema_change *ch, size_t n, char **cause)
{
	struct store_door	*d = DOOR(js);
	struct schema_change	*v = door_changes(d, ch, n);
	struct checkpoint	 c = *cp;
	int			 rc;

	c.server = cp->server_id != 0 && cp->server_id == d->server_id ?
	    d->server : NULL;
	rc = store_checkpoint_save(d->store, d->job, &c, v, n, cause);
	free(v);
	return (rc);
}

static int
door_schema_at(struct jobstore *js, const char *db, const char *table,
    const char *file, uint64_t pos, char **def, int64_t *version,
    char **ddl_file, uint64_t *ddl_pos, char **cause)
{
	return (store_schema_at(DOOR(js)->store, DOOR(js)->job, db, table,
	    file, pos, DOOR(js)->server_id, def, version, ddl_file, ddl_pos,
	    cause));
}

static int
door_schema_fill(struct jobstore *js, const char *db, const char *table,
    const char *file, uint64_t pos, const char *def, char **cause)
{
	return (store_schema_fill(DOOR(js)->store, DOOR(js)->job, db, table,
	    file, pos, def, cause));
}

static int
door_schema_add(struct jobstore *js, const struct schema_change *ch,
    char **cause)
{
	struct schema_change	 c = *ch;

	c.server_id = DOOR(js)->server_id;
	return (store_schema_add(DOOR(js)->store, DOOR(js)->job, &c, cause));
}

/*
 * Whether the job is still as the attempt loaded it: a definition moved
 * meanwhile (add-tables, resnapshot: the daemon restarts the job) must not
 * be undone by the old attempt's progress or copied flags.  -1 with *cause
 * when it moved (the attempt ends; the next one reads the new definition).
 */
static int
door_current(struct store_door *d, char **cause)
{
	int64_t	 revision;

	if (store_job_revision(d->store, d->job, &revision, cause) != 0)
		return (-1);
	if (revision != d->revision) {
		*cause = xstrdup("the job's definition changed (add-tables or "
		    "resnapshot): starting again with it");
		return (-1);
	}
	return (0);
}

static int
door_progress_save(struct jobstore *js, const struct snapshot_progress *sp,
    char **cause)
{
	if (door_current(DOOR(js), cause) != 0)
		return (-1);
	return (store_snapshot_save(DOOR(js)->store, DOOR(js)->job, sp,
	    cause));
}

static int
door_progress_list(struct jobstore *js, struct snapshot_progress **sp,
    size_t *n, char **cause)
{
	return (store_snapshot_list(DOOR(js)->store, DOOR(js)->job, sp, n,
	    cause));
}

static int
door_gen_add(struct jobstore *js, const struct snapshot_gen *g, int *gen,
    char **cause)
{
	struct snapshot_gen	 c = *g;

	c.server_id = DOOR(js)->server_id;
	return (store_snapshot_gen_add(DOOR(js)->store, DOOR(js)->job, &c,
	    gen, cause));
}

static int
door_gens(struct jobstore *js, struct snapshot_gen **g, size_t *n,
    char **cause)
{
	return (store_snapshot_gens(DOOR(js)->store, DOOR(js)->job, g, n,
	    cause));
}

static int
door_segment_add(struct jobstore *js, const struct snapshot_segment *g,
    char **cause)
{
	return (store_snapshot_segment_add(DOOR(js)->store, DOOR(js)->job, g,
	    cause));
}

static int
door_segments(struct jobstore *js, struct snapshot_segment **g, size_t *n,
    char **cause)
{
	return (store_snapshot_segments(DOOR(js)->store, DOOR(js)->job, g, n,
	    cause));
}

static int
door_objects_copied(struct jobstore *js, const struct job_object *o,
    size_t n, char **cause)
{
	if (door_current(DOOR(js), cause) != 0)
		return (-1);
	return (store_job_objects_copied(DOOR(js)->store, DOOR(js)->job, o, n,
	    cause));
}

static int
door_stats_save(struct jobstore *js, const struct job_stats *st,
    char **cause)
{
	return (store_stats_save(DOOR(js)->store, DOOR(js)->job, st, cause));
}

static int
door_stats_get(struct jobstore *js, struct job_stats *st, char **cause)
{
	return (store_stats_get(DOOR(js)->store, DOOR(js)->job, st, cause));
}

static const struct jobstore_ops door_ops = {
	.close = door_close,
	.load = door_load,
	.advance = door_advance,
	.prechecked = door_prechecked,
	.fail = door_fail,
	.retry_at = door_retry_at,
	.log = door_log,
	.reading = door_reading,
	.checkpoint_get = door_checkpoint_get,
	.checkpoint_save = door_checkpoint_save,
	.schema_at = door_schema_at,
	.schema_fill = door_schema_fill,
	.schema_add = door_schema_add,
	.progress_save = door_progress_save,
	.progress_list = door_progress_list,
	.gen_add = door_gen_add,
	.gens = door_gens,
	.segment_add = door_segment_add,
	.segments = door_segments,
	.objects_copied = door_objects_copied,
	.stats_save = door_stats_save,
	.stats_get = door_stats_get,
};

/*
 * The jobstore_open_cb of the daemon (engine/jobstore.h): arg is the
 * store's path.  Opens a connection of the calling thread's own.
 */
struct jobstore *
store_door_open(void *arg, int64_t job, char **cause)
{
	struct store_door	*d;
	struct store		*s;

	if ((s = store_open(arg, cause)) == NULL)
		return (NULL);
	d = xcalloc(1, sizeof *d);
	d->base.ops = &door_ops;
	d->store = s;
	d->job = job;
	return (&d->base);
}
