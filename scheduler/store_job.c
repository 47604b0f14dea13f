/*
 * Jobs and their state machine.
 *
 *	created --start--> queued --(daemon)--> prechecking --> schema_sync
 *	    --> full_sync --> incremental
 *
 *	stop:    queued, running, paused, failed  --> stopped
 *	pause:   queued, running                  --> paused
 *	resume:  paused                           --> queued
 *	retry:   failed                           --> queued
 *	start:   created, stopped                 --> queued
 *	rm:      created, stopped, failed         --> (gone)
 *
 * "running" is prechecking, schema_sync, full_sync and incremental, which
 * only the daemon sets (store_job_set_state()).  A refused transition says
 * which state the job is in and what would work.  Every transition is
 * recorded in the job's event log with who asked for it.
 */
#include "config.h"

#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/log.h"
#include "common/xmalloc.h"
#include "scheduler/store.h"
#include "scheduler/store_int.h"

static const char *job_state_names[JOB_NSTATES] = {
	"created", "queued", "prechecking", "schema_sync", "full_sync",
	"incremental", "paused", "stopped", "failed"
};

const char *
job_state_name(enum job_state s)
{
	return ((unsigned)s < JOB_NSTATES ? job_state_names[s] : "unknown");
}

int
job_state_parse(const char *s, enum job_state *out)
{
	int	 i;

	for (i = 0; i < JOB_NSTATES; i++) {
		if (strcmp(s, job_state_names[i]) == 0) {
			*out = (enum job_state)i;
			return (0);
		}
	}
	return (-1);
}

/* Whether a daemon is (or should be) working on a job in this state. */
int
job_state_running(enum job_state s)
{
	return (s == JOB_PRECHECKING || s == JOB_SCHEMA_SYNC ||
	    s == JOB_FULL_SYNC || s == JOB_INCREMENTAL);
}

void
job_release(struct job *j)
{
	size_t	 i;

	free(j->name);
	free(j->identity);
	free(j->target_ids);
	free(j->topic);
	free(j->topic_template);
	free(j->partition);
	free(j->ddl);
	free(j->large_row);
	free(j->error);
	for (i = 0; i < j->nobjects; i++) {
		free(j->objects[i].db);
		free(j->objects[i].table);
	}
	free(j->objects);
	memset(j, 0, sizeof *j);
}

void
job_list_free(struct job *jobs, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		job_release(&jobs[i]);
	free(jobs);
}

#define JOB_COLS "id, tenant_id, name, source_id, topic, topic_template, " \
	"partition_policy, initial_schema, initial_full, ddl, large_row, " \
	"max_memory, server_id, state, error, attempts, next_attempt_at, " \
	"created_at, updated_at, started_at, revision, resnapshot_gen, " \
	"precheck_due, allow_no_key, identity"

static void
job_row(sqlite3_stmt *st, struct job *j)
{
	const char	*state = (const char *)sqlite3_column_text(st, 13);

	memset(j, 0, sizeof *j);
	j->id = sqlite3_column_int64(st, 0);
	j->tenant_id = sqlite3_column_int64(st, 1);
	j->name = store_col_text(st, 2);
	j->source_id = sqlite3_column_int64(st, 3);
	j->topic = store_col_text(st, 4);
	j->topic_template = store_col_text(st, 5);
	j->partition = store_col_text(st, 6);
	j->initial_schema = sqlite3_column_int(st, 7);
	j->initial_full = sqlite3_column_int(st, 8);
	j->ddl = store_col_text(st, 9);
	j->large_row = store_col_text(st, 10);
	j->max_memory = sqlite3_column_int64(st, 11);
	j->server_id = (uint32_t)sqlite3_column_int64(st, 12);
	if (state == NULL || job_state_parse(state, &j->state) != 0)
		j->state = JOB_FAILED;
	j->error = store_col_text(st, 14);
	j->attempts = sqlite3_column_int64(st, 15);
	j->next_attempt_at = sqlite3_column_int64(st, 16);
	j->created_at = sqlite3_column_int64(st, 17);
	j->updated_at = sqlite3_column_int64(st, 18);
	j->started_at = sqlite3_column_int64(st, 19);
	j->revision = sqlite3_column_int64(st, 20);
	j->resnapshot_gen = sqlite3_column_int(st, 21);
	j->precheck_due = sqlite3_column_int(st, 22);
	j->allow_no_key = sqlite3_column_int(st, 23);
	j->identity = store_col_text(st, 24);
}

/* Targets and selected objects of j. */
static int
job_details(struct store *s, struct job *j, char **cause)
{
	sqlite3_stmt	*st;
	int		 rc;

	if ((st = store_prepare(s, "SELECT endpoint_id FROM job_targets "
	    "WHERE job_id = ? ORDER BY rowid", cause)) == NULL)
		return (-1);
	sqlite3_bind_int64(st, 1, j->id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		j->target_ids = xreallocarray(j->target_ids, j->ntargets + 1,
		    sizeof *j->target_ids);
		j->target_ids[j->ntargets++] = sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return (store_error(s, "reading job targets", cause));
	if ((st = store_prepare(s, "SELECT db, tbl, pending FROM job_objects "
	    "WHERE job_id = ? ORDER BY rowid", cause)) == NULL)
		return (-1);
	sqlite3_bind_int64(st, 1, j->id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		j->objects = xreallocarray(j->objects, j->nobjects + 1,
		    sizeof *j->objects);
		j->objects[j->nobjects].db = store_col_text(st, 0);
		j->objects[j->nobjects].table = store_col_text(st, 1);
		j->objects[j->nobjects].pending = sqlite3_column_int(st, 2);
		j->nobjects++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return (store_error(s, "reading job objects", cause));
	return (0);
}

static struct job *
job_by_id(struct job *jobs, size_t n, int64_t id)
{
	size_t	 lo = 0, hi = n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (jobs[mid].id == id)
			return (&jobs[mid]);
		if (jobs[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (NULL);
}

/*
 * Targets and objects of a list of jobs sorted by id, chosen by where (a
 * condition on jobs, with ?1 bound to arg): two queries for the whole list
 * instead of two per job.
 */
static int
job_details_list(struct store *s, struct job *jobs, size_t n,
    const char *where, int64_t arg, char **cause)
{
	sqlite3_stmt	*st;
	struct job	*j;
	char		*sql;
	int		 rc;

	if (n == 0)
		return (0);
	sql = xasprintf("SELECT job_id, endpoint_id FROM job_targets WHERE "
	    "job_id IN (SELECT id FROM jobs WHERE %s) ORDER BY rowid", where);
	st = store_prepare(s, sql, cause);
	free(sql);
	if (st == NULL)
		return (-1);
	if (arg != 0)
		sqlite3_bind_int64(st, 1, arg);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((j = job_by_id(jobs, n, sqlite3_column_int64(st, 0))) ==
		    NULL)
			continue;
		j->target_ids = xreallocarray(j->target_ids, j->ntargets + 1,
		    sizeof *j->target_ids);
		j->target_ids[j->ntargets++] = sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return (store_error(s, "reading job targets", cause));
	sql = xasprintf("SELECT job_id, db, tbl, pending FROM job_objects WHERE "
	    "job_id IN (SELECT id FROM jobs WHERE %s) ORDER BY rowid", where);
	st = store_prepare(s, sql, cause);
	free(sql);
	if (st == NULL)
		return (-1);
	if (arg != 0)
		sqlite3_bind_int64(st, 1, arg);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((j = job_by_id(jobs, n, sqlite3_column_int64(st, 0))) ==
		    NULL)
			continue;
		j->objects = xreallocarray(j->objects, j->nobjects + 1,
		    sizeof *j->objects);
		j->objects[j->nobjects].db = store_col_text(st, 1);
		j->objects[j->nobjects].table = store_col_text(st, 2);
		j->objects[j->nobjects].pending = sqlite3_column_int(st, 3);
		j->nobjects++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return (store_error(s, "reading job objects", cause));
	return (0);
}

/* An entry in the job's log, inside the caller's transaction. */
int
store_log_insert(struct store *s, int64_t job, const char *who,
    const char *kind, const char *msg, char **cause)
{
	sqlite3_stmt	*st;
	int		 rc;

	if ((st = store_prepare(s, "INSERT INTO job_events (job_id, at, who, "
	    "kind, message) VALUES (?, ?, ?, ?, ?)", cause)) == NULL)
		return (-1);
	sqlite3_bind_int64(st, 1, job);
	sqlite3_bind_int64(st, 2, store_now());
	store_bind_text(st, 3, who);
	store_bind_text(st, 4, kind);
	store_bind_text(st, 5, msg);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return (store_error(s, "writing the job log", cause));
	return (0);
}

/* Record an event in the job's log, in its own transaction. */
int
store_log_add(struct store *s, int64_t job, const char *who,
    const char *kind, const char *msg, char **cause)
{
	if (store_begin(s, cause) != 0)
		return (-1);
	if (store_log_insert(s, job, who, kind, msg, cause) != 0) {
		store_rollback(s);
		return (-1);
	}
	return (store_commit(s, cause));
}

void
job_event_list_free(struct job_event *ev, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		free(ev[i].who);
		free(ev[i].kind);
		free(ev[i].message);
	}
	free(ev);
}

int
store_log_list(struct store *s, int64_t job, struct job_event **out,
    size_t *n, char **cause)
{
	sqlite3_stmt	*st;
	int		 rc;

	*out = NULL;
	*n = 0;
	if ((st = store_prepare(s, "SELECT id, at, who, kind, message FROM "
	    "job_events WHERE job_id = ? ORDER BY id", cause)) == NULL)
		return (-1);
	sqlite3_bind_int64(st, 1, job);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct job_event	*e;

		*out = xreallocarray(*out, *n + 1, sizeof **out);
		e = &(*out)[(*n)++];
		e->id = sqlite3_column_int64(st, 0);
		e->at = sqlite3_column_int64(st, 1);
		e->who = store_col_text(st, 2);
		e->kind = store_col_text(st, 3);
		e->message = store_col_text(st, 4);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return (store_error(s, "reading the job log", cause));
	return (0);
}

/* The one number sql (with ?1 = arg) gives; -1 with *cause. */
int64_t
store_count(struct store *s, const char *sql, int64_t arg, char **cause)
{
	sqlite3_stmt	*st;
	int64_t		 n = -1;

	if ((st = store_prepare(s, sql, cause)) == NULL)
		return (-1);
	sqlite3_bind_int64(st, 1, arg);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	else
		store_error(s, "counting", cause);
	sqlite3_finalize(st);
	return (n);
}

/*
 * Create j (id, server_id, state and timestamps are set) for its tenant,
 * within the tenant's quotas.  who goes to the job's log.
 */
/* Select object o for job id (unless it is); 1 if added, 0, -1. */
static int
job_object_insert(struct store *s, int64_t id, const struct job_object *o,
    int pending, char **cause)
{
	sqlite3_stmt	*st;
	int		 rc;

	if ((st = store_prepare(s, "INSERT OR IGNORE INTO job_objects "
	    "(job_id, db, tbl, pending) VALUES (?, ?, ?, ?)", cause)) == NULL)
		return (-1);
	sqlite3_bind_int64(st, 1, id);
	store_bind_text(st, 2, o->db);
	store_bind_text(st, 3, o->table);
	sqlite3_bind_int(st, 4, pending);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return (store_error(s, "adding a job object", cause));
	return (sqlite3_changes(s->db) > 0);
}

int
store_job_create(struct store *s, struct job *j, const char *who,
    char **cause)
{
	sqlite3_stmt	*st = NULL;
	int64_t		 n, max_jobs = -1, max_mem = -1;
	char		*tname = NULL, *msg;
	size_t		 i;
	int		 rc;

	if (store_begin(s, cause) != 0)
		return (-1);
	if ((st = store_prepare(s, "SELECT name, max_jobs, max_memory FROM "
	    "tenants WHERE id = ?", cause)) == NULL)
		goto fail;
	sqlite3_bind_int64(st, 1, j->tenant_id);
	if (sqlite3_step(st) != SQLITE_ROW) {
		*cause = xstrdup("no such tenant");
		goto fail;
	}
	tname = store_col_text(st, 0);
	max_jobs = sqlite3_column_int64(st, 1);
	max_mem = sqlite3_column_int64(st, 2);
	sqlite3_finalize(st);
	st = NULL;
	if (max_jobs >= 0) {
		n = store_count(s, "SELECT count(*) FROM jobs WHERE tenant_id "
		    "= ?", j->tenant_id, cause);
		if (n < 0)
			goto fail;
		if (n >= max_jobs) {
			*cause = xasprintf("tenant '%s' has reached its limit "
			    "of %" PRId64 " jobs (raise it with: ferry tenant "
			    "set %s --max-jobs N, or remove a job)", tname,
			    max_jobs, tname);
			goto fail;
		}
	}
	if (max_mem >= 0) {
		if (j->max_memory < 0)
			j->max_memory = max_mem;
		else if (j->max_memory > max_mem) {
			*cause = xasprintf("a memory budget of %" PRId64 " bytes "
			    "is over tenant '%s''s limit of %" PRId64, 
			    j->max_memory, tname, max_mem);
			goto fail;
		}
	}
	/*
	 * Ids are never reused (SQLite's rowid would give a removed job's id
	 * to the next job made when it was the highest): a removed job's
	 * thread may still be draining, and its checkpoint, statistics and
	 * log must not land on its successor.  The highest id ever given is
	 * kept in meta; a removed job's rows are gone (ON DELETE CASCADE)
	 * and what its thread writes after is refused (foreign keys).
	 */
	if ((st = store_prepare(s, "INSERT INTO jobs (id, tenant_id, name, "
	    "source_id, topic, topic_template, partition_policy, "
	    "initial_schema, initial_full, ddl, large_row, max_memory, "
	    "server_id, state, created_at, updated_at, allow_no_key, "
	    "identity) VALUES (1 + max(coalesce((SELECT CAST(value AS "
	    "INTEGER) FROM meta WHERE key = 'last_job_id'), 0), "
	    "coalesce((SELECT max(id) FROM jobs), 0)), "
	    "?,?,?,?,?,?,?,?,?,?,?,0,'created',?,?,?,?)",
	    cause)) == NULL)
		goto fail;
	j->created_at = j->updated_at = store_now();
	sqlite3_bind_int64(st, 1, j->tenant_id);
	store_bind_text(st, 2, j->name);
	sqlite3_bind_int64(st, 3, j->source_id);
	store_bind_text(st, 4, j->topic);
	store_bind_text(st, 5, j->topic_template);
	store_bind_text(st, 6, j->partition);
	sqlite3_bind_int(st, 7, j->initial_schema);
	sqlite3_bind_int(st, 8, j->initial_full);
	store_bind_text(st, 9, j->ddl);
	store_bind_text(st, 10, j->large_row);
	sqlite3_bind_int64(st, 11, j->max_memory);
	sqlite3_bind_int64(st, 12, j->created_at);
	sqlite3_bind_int64(st, 13, j->updated_at);
	sqlite3_bind_int(st, 14, j->allow_no_key);
	free(j->identity);
	j->identity = store_job_identity_new();
	store_bind_text(st, 15, j->identity);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	st = NULL;
	if (rc != SQLITE_DONE) {
		store_error(s, "creating a job", cause);
		goto fail;
	}
	j->id = sqlite3_last_insert_rowid(s->db);
	if (store_job_named(s, j, cause) != 0)
		goto fail;
	j->state = JOB_CREATED;
	for (i = 0; i < j->ntargets; i++) {
		if ((st = store_prepare(s, "INSERT OR IGNORE INTO job_targets "
		    "VALUES (?, ?)", cause)) == NULL)
			goto fail;
		sqlite3_bind_int64(st, 1, j->id);
		sqlite3_bind_int64(st, 2, j->target_ids[i]);
		rc = sqlite3_step(st);
		sqlite3_finalize(st);
		st = NULL;
		if (rc != SQLITE_DONE) {
			store_error(s, "adding a job target", cause);
			goto fail;
		}
	}
	for (i = 0; i < j->nobjects; i++) {
		if (job_object_insert(s, j->id, &j->objects[i], 0, cause) < 0)
			goto fail;
	}
	msg = xasprintf("created job %" PRId64 " '%s'", j->id, j->name);
	rc = store_log_insert(s, j->id, who, "create", msg, cause);
	free(msg);
	if (rc != 0)
		goto fail;
	free(tname);
	return (store_commit(s, cause));
fail:
	if (st != NULL)
		sqlite3_finalize(st);
	free(tname);
	store_rollback(s);
	return (-1);
}

int
store_job_get(struct store *s, int64_t id, struct job *j, char **cause)
{
	sqlite3_stmt	*st;
	int		 rc;

	if ((st = store_prepare(s, "SELECT " JOB_COLS " FROM jobs WHERE id = ?",
	    cause)) == NULL)
		return (-1);
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE)
			return (store_error(s, "reading a job", cause));
		*cause = xasprintf("no job %" PRId64, id);
		return (-1);
	}
	job_row(st, j);
	sqlite3_finalize(st);
	if (job_details(s, j, cause) != 0) {
		job_release(j);
		return (-1);
	}
	return (0);
}

/*
 * The tenant's job named by ref: its id, or its name when no other job of
 * the tenant has that name.
 */
int
store_job_find(struct store *s, int64_t tenant, const char *ref,
    struct job *j, char **cause)
{
	sqlite3_stmt	*st;
	int64_t		 id = -1, n = 0;
	char		*end, *ids = NULL;
	long long	 v;
	int		 rc;

	v = strtoll(ref, &end, 10);
	if (*ref != '\0' && *end == '\0' && v > 0) {
		if ((st = store_prepare(s, "SELECT id FROM jobs WHERE id = ? "
		    "AND tenant_id = ?", cause)) == NULL)
			return (-1);
		sqlite3_bind_int64(st, 1, v);
		sqlite3_bind_int64(st, 2, tenant);
		if (sqlite3_step(st) == SQLITE_ROW)
			id = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
		if (id > 0)
			return (store_job_get(s, id, j, cause));
	}
	if ((st = store_prepare(s, "SELECT count(*), min(id), "
	    "group_concat(id, ', ') FROM jobs WHERE name = ? AND tenant_id = ?",
	    cause)) == NULL)
		return (-1);
	store_bind_text(st, 1, ref);
	sqlite3_bind_int64(st, 2, tenant);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		n = sqlite3_column_int64(st, 0);
		id = sqlite3_column_int64(st, 1);
		ids = store_col_text(st, 2);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW) {
		free(ids);
		return (store_error(s, "finding a job", cause));
	}
	if (n == 0) {
		*cause = xasprintf("no job '%s' (see ferry job list)", ref);
		free(ids);
		return (-1);
	}
	if (n > 1) {
		*cause = xasprintf("%" PRId64 " jobs are named '%s' (ids %s): "
		    "give the id", n, ref, ids);
		free(ids);
		return (-1);
	}
	free(ids);
	return (store_job_get(s, id, j, cause));
}

int
store_job_list(struct store *s, int64_t tenant, struct job **out, size_t *n,
    char **cause)
{
	sqlite3_stmt	*st;
	int		 rc;

	*out = NULL;
	*n = 0;
	if ((st = store_prepare(s, "SELECT " JOB_COLS " FROM jobs WHERE "
	    "tenant_id = ? ORDER BY id", cause)) == NULL)
		return (-1);
	sqlite3_bind_int64(st, 1, tenant);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*out = xreallocarray(*out, *n + 1, sizeof **out);
		job_row(st, &(*out)[(*n)++]);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		job_list_free(*out, *n);
		*out = NULL;
		*n = 0;
		return (store_error(s, "listing jobs", cause));
	}
	if (job_details_list(s, *out, *n, "tenant_id = ?1", tenant,
	    cause) != 0) {
		job_list_free(*out, *n);
		*out = NULL;
		*n = 0;
		return (-1);
	}
	return (0);
}

static const char *job_action_names[] = {
	"start", "stop", "pause", "resume", "retry"
};

/* The state an action leads to from s, or -1 with a sentence in *cause. */
static int
job_transition(enum job_state s, enum job_action a, int64_t id,
    enum job_state *to, char **cause)
{
	const char	*hint = NULL;

	switch (a) {
	case JOB_START:
		if (s == JOB_CREATED || s == JOB_STOPPED) {
			*to = JOB_QUEUED;
			return (0);
		}
		if (s == JOB_PAUSED)
			hint = "it is paused: resume it";
		else if (s == JOB_FAILED)
			hint = "it failed: retry it (ferry job retry)";
		else
			hint = "it is already started";
		break;
	case JOB_STOP:
		if (s == JOB_QUEUED || job_state_running(s) ||
		    s == JOB_PAUSED || s == JOB_FAILED) {
			*to = JOB_STOPPED;
			return (0);
		}
		hint = "it is not started";
		break;
	case JOB_PAUSE:
		if (s == JOB_QUEUED || job_state_running(s)) {
			*to = JOB_PAUSED;
			return (0);
		}
		hint = s == JOB_PAUSED ? "it is already paused" :
		    "only a started job can be paused";
		break;
	case JOB_RESUME:
		if (s == JOB_PAUSED) {
			*to = JOB_QUEUED;
			return (0);
		}
		hint = s == JOB_STOPPED || s == JOB_CREATED ? "it is not paused: "
		    "start it" : s == JOB_FAILED ? "it failed: retry it" :
		    "it is not paused";
		break;
	case JOB_RETRY:
		if (s == JOB_FAILED) {
			*to = JOB_QUEUED;
			return (0);
		}
		hint = "only a failed job can be retried";
		break;
	}
	*cause = xasprintf("cannot %s job %" PRId64 ": it is %s; %s",
	    job_action_names[a], id, job_state_name(s), hint);
	return (-1);
}

/* Apply a user's action to job id (state machine above). */
int
store_job_action(struct store *s, int64_t id, enum job_action a,
    const char *who, char **cause)
{
	struct job	 j;
	enum job_state	 to;
	sqlite3_stmt	*st;
	char		*msg;
	int		 rc;

	if (store_begin(s, cause) != 0)
		return (-1);
	if (store_job_get(s, id, &j, cause) != 0)
		goto fail;
	if (job_transition(j.state, a, id, &to, cause) != 0) {
		job_release(&j);
		goto fail;
	}
	if ((st = store_prepare(s, "UPDATE jobs SET state = ?, updated_at = ?, "
	    "error = CASE WHEN ? THEN NULL ELSE error END, "
	    "attempts = CASE WHEN ? THEN 0 ELSE attempts END, "
	    "precheck_due = CASE WHEN ? THEN 1 ELSE precheck_due END, "
	    "next_attempt_at = NULL WHERE id = ?", cause)) == NULL) {
		job_release(&j);
		goto fail;
	}
	store_bind_text(st, 1, job_state_name(to));
	sqlite3_bind_int64(st, 2, store_now());
	sqlite3_bind_int(st, 3, a == JOB_RETRY || a == JOB_START);
	sqlite3_bind_int(st, 4, a == JOB_RETRY || a == JOB_START);
	/* A failure fixed by hand: the precheck says whether it is. */
	sqlite3_bind_int(st, 5, a == JOB_RETRY);
	sqlite3_bind_int64(st, 6, id);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		job_release(&j);
		store_error(s, "updating a job", cause);
		goto fail;
	}
	msg = xasprintf("%s: %s -> %s", job_action_names[a],
	    job_state_name(j.state), job_state_name(to));
	rc = store_log_insert(s, id, who, job_action_names[a], msg, cause);
	free(msg);
	job_release(&j);
	if (rc != 0)
		goto fail;
	return (store_commit(s, cause));
fail:
	store_rollback(s);
	return (-1);
}

/* Remove a job that is not running (created, stopped or failed). */
int
store_job_rm(struct store *s, int64_t id, const char *who, char **cause)
{
	struct job	 j;
	sqlite3_stmt	*st;
	int		 rc;

	if (store_begin(s, cause) != 0)
		return (-1);
	if (store_job_get(s, id, &j, cause) != 0)
		goto fail;
	if (j.state != JOB_CREATED && j.state != JOB_STOPPED &&
	    j.state != JOB_FAILED) {
		*cause = xasprintf("cannot remove job %" PRId64 ": it is %s; "
		    "stop it first (ferry job stop %" PRId64 ")", id,
		    job_state_name(j.state), id);
		job_release(&j);
		goto fail;
	}
	job_release(&j);
	if ((st = store_prepare(s, "DELETE FROM jobs WHERE id = ?",
	    cause)) == NULL)
		goto fail;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		store_error(s, "removing a job", cause);
		goto fail;
	}
	return (store_commit(s, cause));
fail:
	store_rollback(s);
	return (-1);
}

/*
 * Add tables to a job's selection.  Those already selected are left alone;
 * when any is new the job's revision moves, which makes a daemon running
 * the job restart it: the new tables get their schema and full sync at a
 * snapshot of their own, then join the binlog (engine/add_tables.c).  *added
 * says how many were new.
 */
int
store_job_add_tables(struct store *s, int64_t id,
    const struct job_object *o, size_t n, const char *who, size_t *added,
    char **cause)
{
	struct job	 j;
	sqlite3_stmt	*st;
	struct buf	 b = BUF_INITIALIZER;
	size_t		 i;
	int		 rc;

	*added = 0;
	if (store_begin(s, cause) != 0)
		return (-1);
	if (store_job_get(s, id, &j, cause) != 0)
		goto fail;
	job_release(&j);
	for (i = 0; i < n; i++) {
		if ((rc = job_object_insert(s, id, &o[i], 1, cause)) < 0)
			goto fail;
		if (rc > 0) {
			buf_printf(&b, "%s%s.%s", *added > 0 ? ", " : "",
			    o[i].db, o[i].table);
			(*added)++;
		}
	}
	if (*added == 0) {
		buf_release(&b);
		return (store_commit(s, cause));
	}
	if ((st = store_prepare(s, "UPDATE jobs SET revision = revision + 1, "
	    "updated_at = ? WHERE id = ?", cause)) == NULL)
		goto fail;
	sqlite3_bind_int64(st, 1, store_now());
	sqlite3_bind_int64(st, 2, id);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		store_error(s, "updating a job", cause);
		goto fail;
	}
	buf_addc(&b, '\0');
	if (store_log_insert(s, id, who, "add-tables", (const char *)b.data,
	    cause) != 0)
		goto fail;
	buf_release(&b);
	return (store_commit(s, cause));
fail:
	buf_release(&b);
	*added = 0;
	store_rollback(s);
	return (-1);
}

/* Run sql (binding the job id as ?1, and db, table as ?2, ?3 when given). */
static int
job_exec(struct store *s, const char *sql, int64_t id, const char *db,
    const char *table, char **cause)
{
	sqlite3_stmt	*st;
	int		 rc;

	if ((st = store_prepare(s, sql, cause)) == NULL)
		return (-1);
	sqlite3_bind_int64(st, 1, id);
	if (db != NULL) {
		store_bind_text(st, 2, db);
		store_bind_text(st, 3, table);
	}
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return (store_error(s, "updating a job", cause));
	return (sqlite3_changes(s->db));
}

/*
 * A table copied again starts from its first row.  The progress of a copy
 * that was not done stays, reset: that it exists says a copy was
 * interrupted, whose INIT records (ids above the checkpoint's next id) are
 * in the topics, so the new copy's ids must go above them
 * (engine/add_tables.c, add_tables_past()).  A finished table's goes.
 */
#define RESNAPSHOT_PROGRESS_RESET "UPDATE snapshot_progress SET last_key = " \
	"NULL, rows_copied = 0, done_gen = NULL WHERE job_id = ?1 AND done = 0"
#define RESNAPSHOT_PROGRESS_DROP "DELETE FROM snapshot_progress WHERE " \
	"job_id = ?1 AND done = 1"

/* Table o of job j copied again: pending, its progress and segments gone. */
static int
job_resnapshot_table(struct store *s, const struct job *j,
    const struct job_object *o, char **cause)
{
	size_t	 i;
	int	 rc;

	for (i = 0; i < j->nobjects; i++) {
		if (strcmp(j->objects[i].db, o->db) == 0 &&
		    (strcmp(j->objects[i].table, "*") == 0 ||
		    strcmp(j->objects[i].table, o->table) == 0))
			break;
	}
	if (strcmp(o->table, "*") == 0 || i == j->nobjects) {
		*cause = xasprintf("job %" PRId64 " '%s' does not select the "
		    "table %s.%s (name tables it carries, or none for all)",
		    j->id, j->name, o->db, o->table);
		return (-1);
	}
	if ((rc = job_exec(s, "UPDATE job_objects SET pending = 1 WHERE "
	    "job_id = ?1 AND db = ?2 AND tbl = ?3", j->id, o->db, o->table,
	    cause)) < 0)
		return (-1);
	if (rc == 0 && job_object_insert(s, j->id, o, 1, cause) < 0)
		return (-1);
	if (job_exec(s, RESNAPSHOT_PROGRESS_RESET " AND db = ?2 AND tbl = ?3",
	    j->id, o->db, o->table, cause) < 0 ||
	    job_exec(s, RESNAPSHOT_PROGRESS_DROP " AND db = ?2 AND tbl = ?3",
	    j->id, o->db, o->table, cause) < 0 ||
	    job_exec(s, "DELETE FROM snapshot_segments WHERE job_id = ?1 AND "
	    "db = ?2 AND tbl = ?3", j->id, o->db, o->table, cause) < 0)
		return (-1);
	return (0);
}

/*
 * Copy tables of a job again from a new snapshot (all of them when n is
 * 0): they become pending, as added tables are, their progress and
 * segments are dropped, and INIT records of earlier generations no longer
 * count as copied (resnapshot_gen).  The job's revision moves (a running
 * job restarts); a failed one is queued again.  Refused before the job's
 * first checkpoint (its initial sync is not done: retry continues it).
 * *ntables: how many objects were named or marked.
 */
int
store_job_resnapshot(struct store *s, int64_t id, const struct job_object *o,
    size_t n, const char *who, size_t *ntables, char **cause)
{
	struct job	 j;
	sqlite3_stmt	*st;
	char		*msg;
	size_t		 i;
	int		 gen = 0, rc, have_ck = 0;

	*ntables = 0;
	if (store_begin(s, cause) != 0)
		return (-1);
	if (store_job_get(s, id, &j, cause) != 0)
		goto fail;
	if ((st = store_prepare(s, "SELECT (SELECT count(*) FROM checkpoints "
	    "WHERE job_id = ?1 AND binlog_file IS NOT NULL), (SELECT "
	    "coalesce(max(gen), 0) + 1 FROM snapshot_gens WHERE job_id = ?1)",
	    cause)) == NULL)
		goto fail_j;
	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) == SQLITE_ROW) {
		have_ck = sqlite3_column_int(st, 0) > 0;
		gen = sqlite3_column_int(st, 1);
	}
	sqlite3_finalize(st);
	if (!have_ck) {
		*cause = xasprintf("job %" PRId64 " '%s' has not finished its "
		    "initial sync (no checkpoint yet): ferry job start or "
		    "retry continues it", id, j.name);
		goto fail_j;
	}
	if (!j.initial_full) {
		/* Its tables would be "copied" without rows, and their changes
		 * up to the new snapshot dropped as the copy's. */
		*cause = xasprintf("job %" PRId64 " '%s' copies no rows (created "
		    "with --initial %s): a resnapshot has nothing to copy them "
		    "with; create a job with --initial full", id, j.name,
		    j.initial_schema ? "schema" : "none");
		goto fail_j;
	}
	if (n == 0) {
		if (job_exec(s, "UPDATE job_objects SET pending = 1 WHERE "
		    "job_id = ?1", id, NULL, NULL, cause) < 0 ||
		    job_exec(s, RESNAPSHOT_PROGRESS_RESET, id, NULL, NULL,
		    cause) < 0 ||
		    job_exec(s, RESNAPSHOT_PROGRESS_DROP, id, NULL, NULL,
		    cause) < 0 ||
		    job_exec(s, "DELETE FROM snapshot_segments WHERE job_id = ?1",
		    id, NULL, NULL, cause) < 0)
			goto fail_j;
		*ntables = j.nobjects;
	}
	for (i = 0; i < n; i++) {
		if (job_resnapshot_table(s, &j, &o[i], cause) != 0)
			goto fail_j;
		(*ntables)++;
	}
	if ((st = store_prepare(s, "UPDATE jobs SET revision = revision + 1, "
	    "resnapshot_gen = ?1, updated_at = ?2, error = CASE WHEN state = "
	    "'failed' THEN NULL ELSE error END, attempts = CASE WHEN state = "
	    "'failed' THEN 0 ELSE attempts END, next_attempt_at = CASE WHEN "
	    "state = 'failed' THEN NULL ELSE next_attempt_at END, state = "
	    "CASE WHEN state = 'failed' THEN 'queued' ELSE state END WHERE "
	    "id = ?3", cause)) == NULL)
		goto fail_j;
	sqlite3_bind_int(st, 1, gen);
	sqlite3_bind_int64(st, 2, store_now());
	sqlite3_bind_int64(st, 3, id);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		store_error(s, "updating a job", cause);
		goto fail_j;
	}
	msg = xasprintf("%s copied again from a new snapshot (generation %d "
	    "on)%s", n == 0 ? "every table" : "the tables named", gen,
	    j.state == JOB_FAILED ? "; failed -> queued" : "");
	rc = store_log_insert(s, id, who, "resnapshot", msg, cause);
	free(msg);
	if (rc != 0)
		goto fail_j;
	job_release(&j);
	return (store_commit(s, cause));
fail_j:
	job_release(&j);
fail:
	*ntables = 0;
	store_rollback(s);
	return (-1);
}

/* The job's revision (bumped when its definition changes while it runs). */
int
store_job_revision(struct store *s, int64_t id, int64_t *revision,
    char **cause)
{
	sqlite3_stmt	*st;
	int		 rc;

	if ((st = store_prepare(s, "SELECT revision FROM jobs WHERE id = ?",
	    cause)) == NULL)
		return (-1);
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*revision = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE) {
		*cause = xasprintf("no job %" PRId64, id);
		return (-1);
	}
	if (rc != SQLITE_ROW)
		return (store_error(s, "reading a job", cause));
	return (0);
}

/* The engine copied the tables of these added objects: no longer pending. */
int
store_job_objects_copied(struct store *s, int64_t id,
    const struct job_object *o, size_t n, char **cause)
{
	sqlite3_stmt	*st;
	size_t		 i;
	int		 rc;

	if (store_begin(s, cause) != 0)
		return (-1);
	for (i = 0; i < n; i++) {
		if (!o[i].pending)
			continue;
		if ((st = store_prepare(s, "UPDATE job_objects SET pending = 0 "
		    "WHERE job_id = ? AND db = ? AND tbl = ?", cause)) == NULL)
			goto fail;
		sqlite3_bind_int64(st, 1, id);
		store_bind_text(st, 2, o[i].db);
		store_bind_text(st, 3, o[i].table);
		rc = sqlite3_step(st);
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE) {
			store_error(s, "updating a job object", cause);
			goto fail;
		}
	}
	return (store_commit(s, cause));
fail:
	store_rollback(s);
	return (-1);
}

/*
 * Set a job's state and error (NULL clears it), logged as who.  guarded:
 * only while the job is queued or running (the daemon's moves, which a
 * user's pause, stop or removal in the meantime must win over); reaching
 * incremental also clears the retry count.  Returns 0, 1 when guarded and
 * the job is no longer queued or running, -1 on error.
 */
static int
job_move(struct store *s, int64_t id, enum job_state state, const char *error,
    const char *who, int guarded, char **cause)
{
	sqlite3_stmt	*st;
	char		*msg, *sql;
	int		 rc;

	if (store_begin(s, cause) != 0)
		return (-1);
	/*
	 * A guarded move without an error keeps the last one until the job
	 * is healthy again (incremental): a job retrying after a failure
	 * still says why.
	 */
	sql = xasprintf("UPDATE jobs SET state = ?1, error = CASE WHEN ?2 IS "
	    "NULL AND ?7 THEN error ELSE ?2 END, updated_at = "
	    "?3, started_at = CASE WHEN ?4 THEN coalesce(started_at, ?3) ELSE "
	    "started_at END, attempts = CASE WHEN ?5 THEN 0 ELSE attempts END, "
	    "next_attempt_at = CASE WHEN ?5 THEN NULL ELSE next_attempt_at END "
	    "WHERE id = ?6%s", guarded ? " AND state IN ('queued', "
	    "'prechecking', 'schema_sync', 'full_sync', 'incremental')" : "");
	st = store_prepare(s, sql, cause);
	free(sql);
	if (st == NULL)
		goto fail;
	store_bind_text(st, 1, job_state_name(state));
	store_bind_text(st, 2, error);
	sqlite3_bind_int64(st, 3, store_now());
	sqlite3_bind_int(st, 4, job_state_running(state));
	sqlite3_bind_int(st, 5, guarded && state == JOB_INCREMENTAL);
	sqlite3_bind_int64(st, 6, id);
	sqlite3_bind_int(st, 7, guarded && state != JOB_INCREMENTAL);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		store_error(s, "updating a job", cause);
		goto fail;
	}
	if (guarded && sqlite3_changes(s->db) == 0) {
		store_rollback(s);
		return (1);
	}
	msg = error != NULL ? xasprintf("%s: %s", job_state_name(state),
	    error) : xstrdup(job_state_name(state));
	rc = store_log_insert(s, id, who, error != NULL ? "error" : "state",
	    msg, cause);
	free(msg);
	if (rc != 0)
		goto fail;
	return (store_commit(s, cause));
fail:
	store_rollback(s);
	return (-1);
}

/* Any state, whatever the job's (tests, repairs). */
int
store_job_set_state(struct store *s, int64_t id, enum job_state state,
    const char *error, const char *who, char **cause)
{
	return (job_move(s, id, state, error, who, 0, cause) == 0 ? 0 : -1);
}

/* The daemon's move of a job it runs (see job_move()). */
int
store_job_advance(struct store *s, int64_t id, enum job_state state,
    const char *error, char **cause)
{
	return (job_move(s, id, state, error, "daemon", 1, cause));
}

/* A transient failure: the error, one more attempt, when to try again. */
int
store_job_schedule_retry(struct store *s, int64_t id, int64_t at,
    const char *error, char **cause)
{
	sqlite3_stmt	*st;
	int		 rc;

	if (store_begin(s, cause) != 0)
		return (-1);
	if ((st = store_prepare(s, "UPDATE jobs SET error = ?, attempts = "
	    "attempts + 1, next_attempt_at = ?, updated_at = ? WHERE id = ?",
	    cause)) == NULL)
		goto fail;
	store_bind_text(st, 1, error);
	sqlite3_bind_int64(st, 2, at);
	sqlite3_bind_int64(st, 3, store_now());
	sqlite3_bind_int64(st, 4, id);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		store_error(s, "updating a job", cause);
		goto fail;
	}
	if (store_log_insert(s, id, "daemon", "retry", error, cause) != 0)
		goto fail;
	return (store_commit(s, cause));
fail:
	store_rollback(s);
	return (-1);
}

static int	jobs_where(struct store *, const char *, struct job **, size_t *,
	    char **);

/*
 * Jobs a daemon should be running: queued or running, of every tenant.
 * Their rows only (no targets or tables: a job's thread reads its own
 * definition), since the daemon asks twice a second.
 */
int
store_jobs_runnable(struct store *s, struct job **out, size_t *n,
    char **cause)
{
	return (jobs_where(s, "state IN ('queued', 'prechecking', "
	    "'schema_sync', 'full_sync', 'incremental')", out, n, cause));
}

/* Jobs that failed, of every tenant (the daemon's /healthz). */
int
store_jobs_failed(struct store *s, struct job **out, size_t *n, char **cause)
{
	return (jobs_where(s, "state = 'failed'", out, n, cause));
}

/* Jobs' rows (no targets or tables) where the condition holds, by id. */
static int
jobs_where(struct store *s, const char *cond, struct job **out, size_t *n,
    char **cause)
{
	sqlite3_stmt	*st;
	char		*sql;
	int		 rc;

	*out = NULL;
	*n = 0;
	sql = xasprintf("SELECT " JOB_COLS " FROM jobs WHERE %s ORDER BY id",
	    cond);
	st = store_prepare(s, sql, cause);
	free(sql);
	if (st == NULL)
		return (-1);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*out = xreallocarray(*out, *n + 1, sizeof **out);
		job_row(st, &(*out)[(*n)++]);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		job_list_free(*out, *n);
		*out = NULL;
		*n = 0;
		return (store_error(s, "listing jobs", cause));
	}
	return (0);
}

/* The precheck passed: the next start after a failure runs it again. */
int
store_job_prechecked(struct store *s, int64_t id, char **cause)
{
	char	*sql;
	int	 rc;

	sql = xasprintf("UPDATE jobs SET precheck_due = 0 WHERE id = %" PRId64,
	    id);
	rc = store_exec(s, sql, cause);
	free(sql);
	return (rc);
}
