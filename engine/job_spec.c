/*
 * A job as its thread runs it (engine/job_spec.h): its lifecycle, the
 * parsers of its options (once, when the scheduler's door loads it) and
 * its selection of tables.  The records that cross the store's door are
 * freed here too, since the engine defines them (engine/jobstore.h).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "engine/job_spec.h"
#include "engine/jobstore.h"

void
job_spec_init(struct job_spec *s)
{
	memset(s, 0, sizeof *s);
	mysql_conn_opts_init(&s->source);
}

void
job_spec_release(struct job_spec *s)
{
	size_t	 i;

	free(s->identity);
	free(s->source_name);
	mysql_conn_opts_release(&s->source);
	for (i = 0; i < s->ntargets; i++) {
		free((char *)s->targets[i].name);
		kafka_client_opts_release(&s->targets[i].kafka);
	}
	free(s->targets);
	free(s->topic);
	free(s->topic_template);
	for (i = 0; i < s->nobjects; i++) {
		free(s->objects[i].db);
		free(s->objects[i].table);
	}
	free(s->objects);
	job_spec_init(s);
}

/* Each parser: 0 with the value, -1 for a word it does not know. */
int
job_partition_parse(const char *s, enum job_partition *p)
{
	if (s == NULL || strcmp(s, "zero") == 0)
		*p = JOB_PARTITION_ZERO;
	else if (strcmp(s, "table") == 0)
		*p = JOB_PARTITION_TABLE;
	else if (strcmp(s, "pk") == 0)
		*p = JOB_PARTITION_PK;
	else
		return (-1);
	return (0);
}

int
job_ddl_parse(const char *s, enum job_ddl *d)
{
	if (s == NULL || strcmp(s, "ignore") == 0)
		*d = JOB_DDL_IGNORE;
	else if (strcmp(s, "forward") == 0)
		*d = JOB_DDL_FORWARD;
	else
		return (-1);
	return (0);
}

int
job_large_row_parse(const char *s, enum job_large_row *l)
{
	if (s == NULL || strcmp(s, "fail") == 0)
		*l = JOB_LARGE_ROW_FAIL;
	else if (strcmp(s, "skip") == 0)
		*l = JOB_LARGE_ROW_SKIP;
	else
		return (-1);
	return (0);
}

/* Whether the job carries db.table. */
int
job_spec_selected(const struct job_spec *s, const char *db,
    const char *table)
{
	size_t	 i;

	for (i = 0; i < s->nobjects; i++) {
		if (strcmp(s->objects[i].db, db) == 0 &&
		    (strcmp(s->objects[i].table, "*") == 0 ||
		    strcmp(s->objects[i].table, table) == 0))
			return (1);
	}
	return (0);
}

/* Whether the job carries any table of db. */
int
job_spec_db_selected(const struct job_spec *s, const char *db)
{
	size_t	 i;

	for (i = 0; db != NULL && i < s->nobjects; i++) {
		if (strcmp(s->objects[i].db, db) == 0)
			return (1);
	}
	return (0);
}

/* Whether db.table is selected by an object added and not copied yet. */
int
job_spec_pending(const struct job_spec *s, const char *db, const char *table)
{
	size_t	 i;

	for (i = 0; i < s->nobjects; i++) {
		const struct job_object	*o = &s->objects[i];

		if (o->pending && strcmp(o->db, db) == 0 &&
		    (strcmp(o->table, "*") == 0 ||
		    strcmp(o->table, table) == 0))
			return (1);
	}
	return (0);
}

void
checkpoint_release(struct checkpoint *c)
{
	free(c->file);
	free(c->gtid);
	free(c->server);
	memset(c, 0, sizeof *c);
}

void
snapshot_list_free(struct snapshot_progress *p, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		free(p[i].db);
		free(p[i].table);
		free(p[i].last_key);
	}
	free(p);
}

void
snapshot_gen_release(struct snapshot_gen *g)
{
	free(g->file);
	free(g->gtid);
	memset(g, 0, sizeof *g);
}

void
snapshot_gens_free(struct snapshot_gen *g, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		snapshot_gen_release(&g[i]);
	free(g);
}

void
snapshot_segments_free(struct snapshot_segment *g, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		free(g[i].db);
		free(g[i].table);
		free(g[i].target);
		free(g[i].hi);
	}
	free(g);
}
