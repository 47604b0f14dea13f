/*
 * Endpoints: the MySQL sources and Kafka targets a tenant defines once and
 * jobs refer to by name.  A secret is stored in the form the caller gives
 * (scheduler/secret.c makes it): encrypted, or a reference to an
 * environment variable or a file; never in the clear.
 */
#include "config.h"

#include <inttypes.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/xmalloc.h"
#include "scheduler/store.h"
#include "scheduler/store_int.h"

#define ENDPOINT_COLS "id, tenant_id, name, kind, address, username, " \
	"secret, tls, tls_ca, sasl, kafka_version, created_at, updated_at, " \
	"updated_by, owner, compression, producer_props"

void
endpoint_release(struct endpoint *e)
{
	free(e->name);
	free(e->address);
	free(e->username);
	free(e->secret);
	free(e->tls_ca);
	free(e->sasl);
	free(e->kafka_version);
	free(e->compression);
	free(e->producer_props);
	free(e->updated_by);
	memset(e, 0, sizeof *e);
}

static void
endpoint_row(sqlite3_stmt *st, struct endpoint *e)
{
	const char	*kind = (const char *)sqlite3_column_text(st, 3);

	memset(e, 0, sizeof *e);
	e->id = sqlite3_column_int64(st, 0);
	e->tenant_id = sqlite3_column_int64(st, 1);
	e->name = store_col_text(st, 2);
	e->kind = kind != NULL && strcmp(kind, "kafka") == 0 ? ENDPOINT_KAFKA :
	    ENDPOINT_MYSQL;
	e->address = store_col_text(st, 4);
	e->username = store_col_text(st, 5);
	e->secret = store_col_text(st, 6);
	e->tls = sqlite3_column_int(st, 7);
	e->tls_ca = store_col_text(st, 8);
	e->sasl = store_col_text(st, 9);
	e->kafka_version = store_col_text(st, 10);
	e->created_at = sqlite3_column_int64(st, 11);
	e->updated_at = sqlite3_column_int64(st, 12);
	e->updated_by = store_col_text(st, 13);
	e->tenant_owned = sqlite3_column_text(st, 14) != NULL &&
	    strcmp((const char *)sqlite3_column_text(st, 14), "tenant") == 0;
	e->compression = store_col_text(st, 15);
	e->producer_props = store_col_text(st, 16);
}

/* Add e (its id is set).  A name the tenant already uses is refused. */
int
store_endpoint_add(struct store *s, struct endpoint *e, char **cause)
{
	sqlite3_stmt	*st;
	int		 rc;

	if ((st = store_prepare(s, "INSERT INTO endpoints (tenant_id, name, "
	    "kind, address, username, secret, tls, tls_ca, sasl, "
	    "kafka_version, created_at, owner, compression, producer_props) "
	    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", cause)) == NULL)
		return (-1);
	e->created_at = store_now();
	sqlite3_bind_int64(st, 1, e->tenant_id);
	store_bind_text(st, 2, e->name);
	store_bind_text(st, 3, e->kind == ENDPOINT_KAFKA ? "kafka" : "mysql");
	store_bind_text(st, 4, e->address);
	store_bind_text(st, 5, e->username);
	store_bind_text(st, 6, e->secret);
	sqlite3_bind_int(st, 7, e->tls);
	store_bind_text(st, 8, e->tls_ca);
	store_bind_text(st, 9, e->sasl);
	store_bind_text(st, 10, e->kafka_version);
	sqlite3_bind_int64(st, 11, e->created_at);
	store_bind_text(st, 12, e->tenant_owned ? "tenant" : "operator");
	store_bind_text(st, 13, e->compression);
	store_bind_text(st, 14, e->producer_props);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_CONSTRAINT) {
		*cause = xasprintf("an endpoint named '%s' already exists",
		    e->name);
		return (-1);
	}
	if (rc != SQLITE_DONE)
		return (store_error(s, "adding an endpoint", cause));
	e->id = sqlite3_last_insert_rowid(s->db);
	return (0);
}

static int
endpoint_one(struct store *s, sqlite3_stmt *st, struct endpoint *e,
    const char *missing, char **cause)
{
	int	 rc = sqlite3_step(st);

	if (rc == SQLITE_ROW) {
		endpoint_row(st, e);
		sqlite3_finalize(st);
		return (0);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return (store_error(s, "reading endpoints", cause));
	*cause = xstrdup(missing);
	return (-1);
}

int
store_endpoint_get(struct store *s, int64_t tenant, const char *name,
    struct endpoint *e, char **cause)
{
	sqlite3_stmt	*st;
	char		*missing;
	int		 rc;

	if ((st = store_prepare(s, "SELECT " ENDPOINT_COLS " FROM endpoints "
	    "WHERE tenant_id = ? AND name = ?", cause)) == NULL)
		return (-1);
	sqlite3_bind_int64(st, 1, tenant);
	store_bind_text(st, 2, name);
	missing = xasprintf("no endpoint named '%s' (see ferry endpoint list)",
	    name);
	rc = endpoint_one(s, st, e, missing, cause);
	free(missing);
	return (rc);
}

int
store_endpoint_get_id(struct store *s, int64_t id, struct endpoint *e,
    char **cause)
{
	sqlite3_stmt	*st;

	if ((st = store_prepare(s, "SELECT " ENDPOINT_COLS " FROM endpoints "
	    "WHERE id = ?", cause)) == NULL)
		return (-1);
	sqlite3_bind_int64(st, 1, id);
	return (endpoint_one(s, st, e, "no such endpoint", cause));
}

int
store_endpoint_list(struct store *s, int64_t tenant, struct endpoint **out,
    size_t *n, char **cause)
{
	sqlite3_stmt	*st;
	int		 rc;

	*out = NULL;
	*n = 0;
	if ((st = store_prepare(s, "SELECT " ENDPOINT_COLS " FROM endpoints "
	    "WHERE tenant_id = ? ORDER BY name", cause)) == NULL)
		return (-1);
	sqlite3_bind_int64(st, 1, tenant);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*out = xreallocarray(*out, *n + 1, sizeof **out);
		endpoint_row(st, &(*out)[(*n)++]);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return (store_error(s, "listing endpoints", cause));
	return (0);
}

/* Remove the endpoint; refused while a job uses it. */
int
store_endpoint_rm(struct store *s, int64_t tenant, const char *name,
    char **cause)
{
	struct endpoint	 e;
	sqlite3_stmt	*st;
	int		 rc;
	char		*jobs = NULL;

	if (store_begin(s, cause) != 0)
		return (-1);
	if (store_endpoint_get(s, tenant, name, &e, cause) != 0)
		goto fail;
	if ((st = store_prepare(s, "SELECT group_concat(id, ', ') FROM jobs "
	    "WHERE source_id = ?1 OR id IN (SELECT job_id FROM job_targets "
	    "WHERE endpoint_id = ?1)", cause)) == NULL)
		goto fail_e;
	sqlite3_bind_int64(st, 1, e.id);
	if (sqlite3_step(st) == SQLITE_ROW)
		jobs = store_col_text(st, 0);
	sqlite3_finalize(st);
	if (jobs != NULL) {
		*cause = xasprintf("endpoint '%s' is used by job %s; remove "
		    "the job%s first", name, jobs, strchr(jobs, ',') != NULL ?
		    "s" : "");
		free(jobs);
		goto fail_e;
	}
	if ((st = store_prepare(s, "DELETE FROM endpoints WHERE id = ?",
	    cause)) == NULL)
		goto fail_e;
	sqlite3_bind_int64(st, 1, e.id);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		store_error(s, "removing an endpoint", cause);
		goto fail_e;
	}
	endpoint_release(&e);
	return (store_commit(s, cause));
fail_e:
	endpoint_release(&e);
fail:
	store_rollback(s);
	return (-1);
}

/* The names of what set changes, for the job log: "password, tls". */
static char *
endpoint_set_names(unsigned int what)
{
	static const struct {
		unsigned int	 bit;
		const char	*name;
	} names[] = {
		{ ENDPOINT_SET_ADDRESS, "address" },
		{ ENDPOINT_SET_USERNAME, "username" },
		{ ENDPOINT_SET_SECRET, "password" },
		{ ENDPOINT_SET_TLS, "tls" },
		{ ENDPOINT_SET_TLS_CA, "tls CA" },
		{ ENDPOINT_SET_SASL, "sasl" },
		{ ENDPOINT_SET_VERSION, "kafka version" },
		{ ENDPOINT_SET_COMPRESSION, "compression" },
		{ ENDPOINT_SET_PROPS, "producer settings" },
	};
	struct buf	 b = BUF_INITIALIZER;
	size_t		 i;

	for (i = 0; i < sizeof names / sizeof names[0]; i++) {
		if ((what & names[i].bit) != 0)
			buf_printf(&b, "%s%s", b.len > 0 ? ", " : "",
			    names[i].name);
	}
	return (buf_detach(&b, NULL));
}

static void
endpoint_take(char **field, const char *v)
{
	free(*field);
	*field = v != NULL ? xstrdup(v) : NULL;
}

/*
 * Change endpoint name of the tenant in place: the fields of c that what
 * names (ENDPOINT_SET_*), recorded as changed now by who, with an entry in
 * the log of every job that uses it (their count in *njobs).  The jobs and
 * their checkpoints stay; a running job reads the endpoint again at its
 * next attempt.
 */
int
store_endpoint_set(struct store *s, int64_t tenant, const char *name,
    const struct endpoint *c, unsigned int what, const char *who,
    size_t *njobs, char **cause)
{
	struct endpoint	 e;
	sqlite3_stmt	*st;
	char		*msg = NULL, *fields;
	int64_t		 job;
	int		 rc;

	*njobs = 0;
	if (store_begin(s, cause) != 0)
		return (-1);
	if (store_endpoint_get(s, tenant, name, &e, cause) != 0)
		goto fail;
	if (what & ENDPOINT_SET_ADDRESS)
		endpoint_take(&e.address, c->address);
	if (what & ENDPOINT_SET_USERNAME)
		endpoint_take(&e.username, c->username);
	if (what & ENDPOINT_SET_SECRET)
		endpoint_take(&e.secret, c->secret);
	if (what & ENDPOINT_SET_TLS)
		e.tls = c->tls;
	if (what & ENDPOINT_SET_TLS_CA)
		endpoint_take(&e.tls_ca, c->tls_ca);
	if (what & ENDPOINT_SET_SASL)
		endpoint_take(&e.sasl, c->sasl);
	if (what & ENDPOINT_SET_VERSION)
		endpoint_take(&e.kafka_version, c->kafka_version);
	if (what & ENDPOINT_SET_COMPRESSION)
		endpoint_take(&e.compression, c->compression);
	if (what & ENDPOINT_SET_PROPS)
		endpoint_take(&e.producer_props, c->producer_props);
	if ((st = store_prepare(s, "UPDATE endpoints SET address = ?, "
	    "username = ?, secret = ?, tls = ?, tls_ca = ?, sasl = ?, "
	    "kafka_version = ?, updated_at = ?, updated_by = ?, "
	    "compression = ?, producer_props = ? WHERE id = ?",
	    cause)) == NULL)
		goto fail_e;
	store_bind_text(st, 1, e.address);
	store_bind_text(st, 2, e.username);
	store_bind_text(st, 3, e.secret);
	sqlite3_bind_int(st, 4, e.tls);
	store_bind_text(st, 5, e.tls_ca);
	store_bind_text(st, 6, e.sasl);
	store_bind_text(st, 7, e.kafka_version);
	sqlite3_bind_int64(st, 8, store_now());
	store_bind_text(st, 9, who);
	store_bind_text(st, 10, e.compression);
	store_bind_text(st, 11, e.producer_props);
	sqlite3_bind_int64(st, 12, e.id);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		store_error(s, "changing an endpoint", cause);
		goto fail_e;
	}
	fields = endpoint_set_names(what);
	msg = xasprintf("endpoint '%s' changed (%s): the job uses it from its "
	    "next attempt", name, fields);
	free(fields);
	if ((st = store_prepare(s, "SELECT id FROM jobs WHERE source_id = ?1 "
	    "OR id IN (SELECT job_id FROM job_targets WHERE endpoint_id = ?1) "
	    "ORDER BY id", cause)) == NULL)
		goto fail_e;
	sqlite3_bind_int64(st, 1, e.id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		job = sqlite3_column_int64(st, 0);
		if (store_log_insert(s, job, who, "endpoint", msg,
		    cause) != 0) {
			sqlite3_finalize(st);
			goto fail_e;
		}
		(*njobs)++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		store_error(s, "listing an endpoint's jobs", cause);
		goto fail_e;
	}
	free(msg);
	endpoint_release(&e);
	return (store_commit(s, cause));
fail_e:
	free(msg);
	endpoint_release(&e);
fail:
	store_rollback(s);
	return (-1);
}
