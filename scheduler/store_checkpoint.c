/*
 * Checkpoints, schema history, snapshot progress, statistics, leases: what
 * the daemon writes while a job runs.
 *
 * store_checkpoint_save() writes the checkpoint and the schema changes it
 * passes in one transaction: after a crash the history never describes a
 * table as of a position the checkpoint has not reached, nor the other way
 * round.  These tables are written with synchronous=NORMAL (see store.c).
 */
#include "config.h"

#include <inttypes.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "common/xmalloc.h"
#include "scheduler/store.h"
#include "scheduler/store_int.h"

/* The job's checkpoint; a job that has none gets an empty one (0). */
int
store_checkpoint_get(struct store *s, int64_t job, struct checkpoint *c,
    char **cause)
{
	sqlite3_stmt	*st;
	int		 rc;

	memset(c, 0, sizeof *c);
	c->next_record_id = 1;
	if ((st = store_prepare(s, "SELECT binlog_file, binlog_pos, gtid, "
	    "next_record_id, updated_at, coalesce(server_id, 0), server FROM "
	    "checkpoints WHERE job_id = ?", cause)) == NULL)
		return (-1);
	sqlite3_bind_int64(st, 1, job);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		c->file = store_col_text(st, 0);
		c->pos = (uint64_t)sqlite3_column_int64(st, 1);
		c->gtid = store_col_text(st, 2);
		c->next_record_id = sqlite3_column_int64(st, 3);
		c->updated_at = sqlite3_column_int64(st, 4);
		c->server_id = (uint32_t)sqlite3_column_int64(st, 5);
		c->server = store_col_text(st, 6);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return (store_error(s, "reading a checkpoint", cause));
	return (0);
}

static int
store_normal_begin(struct store *s, char **cause)
{
	if (store_exec(s, "PRAGMA synchronous = NORMAL", cause) != 0)
		return (-1);
	if (store_begin(s, cause) != 0) {
		store_exec(s, "PRAGMA synchronous = FULL", cause);
		return (-1);
	}
	return (0);
}

static int
store_normal_end(struct store *s, int ok, char **cause)
{
	char	*why = NULL;
	int	 rc = 0;

	if (ok)
		rc = store_commit(s, cause);
	else
		store_rollback(s);
	if (store_exec(s, "PRAGMA synchronous = FULL", &why) != 0)
		free(why);
	return (ok ? rc : -1);
}

static int
schema_add(struct store *s, int64_t job, const struct schema_change *ch,
    char **cause)
{
	sqlite3_stmt	*st;
	int		 rc;

	if ((st = store_prepare(s, "INSERT INTO schema_history (job_id, db, "
	    "tbl, version, definition, ddl, binlog_file, binlog_pos, "
	    "created_at, server_id) VALUES (?1, ?2, ?3, 1 + coalesce((SELECT "
	    "max(version) FROM schema_history WHERE job_id = ?1 AND db = ?2 AND "
	    "tbl = ?3), 0), ?4, ?5, ?6, ?7, ?8, nullif(?9, 0))",
	    cause)) == NULL)
		return (-1);
	sqlite3_bind_int64(st, 1, job);
	store_bind_text(st, 2, ch->db);
	store_bind_text(st, 3, ch->table);
	store_bind_text(st, 4, ch->definition);
	store_bind_text(st, 5, ch->ddl);
	store_bind_text(st, 6, ch->file);
	sqlite3_bind_int64(st, 7, (int64_t)ch->pos);
	sqlite3_bind_int64(st, 8, store_now());
	sqlite3_bind_int64(st, 9, ch->server_id);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return (store_error(s, "writing the schema history", cause));
	return (0);
}

/*
 * Save the job's checkpoint and, in the same transaction, the n schema
 * changes it passes (of server server_id; 0: unknown).  c->server is the
 * address of the server when the caller knows it (NULL: the row keeps
 * the one it has).  All or nothing.
 */
int
store_checkpoint_save(struct store *s, int64_t job, const struct checkpoint *c,
    const struct schema_change *changes, size_t n, char **cause)
{
	sqlite3_stmt	*st;
	size_t		 i;
	int		 rc;

	if (store_normal_begin(s, cause) != 0)
		return (-1);
	if ((st = store_prepare(s, "INSERT INTO checkpoints (job_id, "
	    "binlog_file, binlog_pos, gtid, next_record_id, updated_at, "
	    "server_id, server) VALUES (?, ?, ?, ?, ?, ?, nullif(?, 0), ?) "
	    "ON CONFLICT (job_id) DO UPDATE SET "
	    "binlog_file = excluded.binlog_file, binlog_pos = "
	    "excluded.binlog_pos, gtid = excluded.gtid, next_record_id = "
	    "excluded.next_record_id, updated_at = excluded.updated_at, "
	    "server = CASE WHEN excluded.server IS NOT NULL THEN "
	    "excluded.server WHEN excluded.server_id IS server_id THEN server "
	    "END, server_id = excluded.server_id", cause)) == NULL)
		return (store_normal_end(s, 0, cause));
	sqlite3_bind_int64(st, 1, job);
	store_bind_text(st, 2, c->file);
	sqlite3_bind_int64(st, 3, (int64_t)c->pos);
	store_bind_text(st, 4, c->gtid);
	sqlite3_bind_int64(st, 5, c->next_record_id);
	sqlite3_bind_int64(st, 6, store_now());
	sqlite3_bind_int64(st, 7, c->server_id);
	store_bind_text(st, 8, c->server);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		store_error(s, "writing a checkpoint", cause);
		return (store_normal_end(s, 0, cause));
	}
	if (store_fail_point(s, "checkpoint-before-schema", cause) != 0)
		return (store_normal_end(s, 0, cause));
	for (i = 0; i < n; i++) {
		if (schema_add(s, job, &changes[i], cause) != 0)
			return (store_normal_end(s, 0, cause));
	}
	return (store_normal_end(s, 1, cause));
}

/*
 * The latest definition of db.table in the job's history: *definition (a
 * new string) and *version; both NULL/0 when there is none.
 */
int
store_schema_get(struct store *s, int64_t job, const char *db,
    const char *table, char **definition, int64_t *version, char **cause)
{
	char		*file;
	uint64_t	 pos;
	int		 rc;

	rc = store_schema_at(s, job, db, table, NULL, 0, 0, definition, version,
	    &file, &pos, cause);
	free(file);
	return (rc);
}

/*
 * The definition of db.table in effect at file:pos of server server_id
 * (the latest version made at or before it; file NULL: the latest of
 * all), its version and where it was made.  Binlog file names of one
 * server compare as text (their numbers are zero-padded); the versions a
 * job recorded on another server are older (a job moves only from a
 * checkpoint, and what it recorded past that goes when it moves:
 * store_positions_claim()).
 */
int
store_schema_at(struct store *s, int64_t job, const char *db,
    const char *table, const char *file, uint64_t pos, uint32_t server_id,
    char **definition, int64_t *version, char **at_file, uint64_t *at_pos,
    char **cause)
{
	sqlite3_stmt	*st;
	int		 rc;

	*definition = NULL;
	*version = 0;
	*at_file = NULL;
	*at_pos = 0;
	if ((st = store_prepare(s, "SELECT definition, version, binlog_file, "
	    "binlog_pos FROM "
	    "schema_history WHERE job_id = ?1 AND db = ?2 AND tbl = ?3 AND "
	    "(?4 IS NULL OR binlog_file IS NULL OR binlog_file < ?4 OR "
	    "(binlog_file = ?4 AND binlog_pos <= ?5) OR (?6 <> 0 AND "
	    "coalesce(server_id, ?6) <> ?6)) ORDER BY version DESC LIMIT 1",
	    cause)) == NULL)
		return (-1);
	sqlite3_bind_int64(st, 1, job);
	store_bind_text(st, 2, db);
	store_bind_text(st, 3, table);
	store_bind_text(st, 4, file);
	sqlite3_bind_int64(st, 5, (int64_t)pos);
	sqlite3_bind_int64(st, 6, server_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*definition = store_col_text(st, 0);
		*version = sqlite3_column_int64(st, 1);
		*at_file = store_col_text(st, 2);
		*at_pos = (uint64_t)sqlite3_column_int64(st, 3);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return (store_error(s, "reading the schema history", cause));
	return (0);
}

/*
 * Give the version of db.table made at file:pos (by a DDL, its definition
 * not known then) the definition the next row image showed.
 */
int
store_schema_fill(struct store *s, int64_t job, const char *db,
    const char *table, const char *file, uint64_t pos,
    const char *definition, char **cause)
{
	sqlite3_stmt	*st;
	int		 rc;

	if (store_normal_begin(s, cause) != 0)
		return (-1);
	if ((st = store_prepare(s, "UPDATE schema_history SET definition = ? "
	    "WHERE job_id = ? AND db = ? AND tbl = ? AND binlog_file = ? AND "
	    "binlog_pos = ?", cause)) == NULL)
		return (store_normal_end(s, 0, cause));
	store_bind_text(st, 1, definition);
	sqlite3_bind_int64(st, 2, job);
	store_bind_text(st, 3, db);
	store_bind_text(st, 4, table);
	store_bind_text(st, 5, file);
	sqlite3_bind_int64(st, 6, (int64_t)pos);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		store_error(s, "writing the schema history", cause);
		return (store_normal_end(s, 0, cause));
	}
	return (store_normal_end(s, 1, cause));
}

/*
 * A new version of a table's definition, made by the DDL at its position
 * in the binlog; once only (a replay of the binlog finds it there): 1 when
 * added, 0 when that position already has one.
 */
int
store_schema_add(struct store *s, int64_t job, const struct schema_change *ch,
    char **cause)
{
	sqlite3_stmt	*st;
	int		 rc;

	if (store_normal_begin(s, cause) != 0)
		return (-1);
	if ((st = store_prepare(s, "SELECT 1 FROM schema_history WHERE "
	    "job_id = ? AND db = ? AND tbl = ? AND binlog_file = ? AND "
	    "binlog_pos = ?", cause)) == NULL)
		return (store_normal_end(s, 0, cause));
	sqlite3_bind_int64(st, 1, job);
	store_bind_text(st, 2, ch->db);
	store_bind_text(st, 3, ch->table);
	store_bind_text(st, 4, ch->file);
	sqlite3_bind_int64(st, 5, (int64_t)ch->pos);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return (store_normal_end(s, 1, cause) == 0 ? 0 : -1);
	if (rc != SQLITE_DONE) {
		store_error(s, "reading the schema history", cause);
		return (store_normal_end(s, 0, cause));
	}
	if (schema_add(s, job, ch, cause) != 0)
		return (store_normal_end(s, 0, cause));
	return (store_normal_end(s, 1, cause) == 0 ? 1 : -1);
}

int
store_snapshot_save(struct store *s, int64_t job,
    const struct snapshot_progress *p, char **cause)
{
	sqlite3_stmt	*st;
	int		 rc;

	if (store_normal_begin(s, cause) != 0)
		return (-1);
	if ((st = store_prepare(s, "INSERT INTO snapshot_progress (job_id, db, "
	    "tbl, last_key, rows_copied, rows_estimated, done, done_gen) VALUES "
	    "(?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (job_id, db, tbl) DO UPDATE "
	    "SET last_key = excluded.last_key, rows_copied = "
	    "excluded.rows_copied, rows_estimated = excluded.rows_estimated, "
	    "done = excluded.done, done_gen = excluded.done_gen",
	    cause)) == NULL)
		return (store_normal_end(s, 0, cause));
	sqlite3_bind_int64(st, 1, job);
	store_bind_text(st, 2, p->db);
	store_bind_text(st, 3, p->table);
	store_bind_text(st, 4, p->last_key);
	sqlite3_bind_int64(st, 5, p->rows_copied);
	sqlite3_bind_int64(st, 6, p->rows_estimated);
	sqlite3_bind_int(st, 7, p->done);
	if (p->done)
		sqlite3_bind_int(st, 8, p->done_gen);
	else
		sqlite3_bind_null(st, 8);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		store_error(s, "writing snapshot progress", cause);
		return (store_normal_end(s, 0, cause));
	}
	return (store_normal_end(s, 1, cause));
}

int
store_snapshot_list(struct store *s, int64_t job,
    struct snapshot_progress **out, size_t *n, char **cause)
{
	sqlite3_stmt	*st;
	int		 rc;

	*out = NULL;
	*n = 0;
	if ((st = store_prepare(s, "SELECT db, tbl, last_key, rows_copied, "
	    "rows_estimated, done, coalesce(done_gen, 0) FROM snapshot_progress "
	    "WHERE job_id = ? ORDER BY db, tbl", cause)) == NULL)
		return (-1);
	sqlite3_bind_int64(st, 1, job);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct snapshot_progress	*p;

		*out = xreallocarray(*out, *n + 1, sizeof **out);
		p = &(*out)[(*n)++];
		p->db = store_col_text(st, 0);
		p->table = store_col_text(st, 1);
		p->last_key = store_col_text(st, 2);
		p->rows_copied = sqlite3_column_int64(st, 3);
		p->rows_estimated = sqlite3_column_int64(st, 4);
		p->done = sqlite3_column_int(st, 5);
		p->done_gen = sqlite3_column_int(st, 6);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return (store_error(s, "reading snapshot progress", cause));
	return (0);
}

/* A new generation of the initial sync at g's snapshot (g->gen is not
 * read); *gen is its number. */
int
store_snapshot_gen_add(struct store *s, int64_t job,
    const struct snapshot_gen *g, int *gen, char **cause)
{
	sqlite3_stmt	*st;
	int		 rc;

	if (store_normal_begin(s, cause) != 0)
		return (-1);
	if ((st = store_prepare(s, "INSERT INTO snapshot_gens (job_id, gen, "
	    "binlog_file, binlog_pos, created_at, server_id, gtid) VALUES (?1, "
	    "1 + coalesce((SELECT max(gen) FROM snapshot_gens WHERE job_id = "
	    "?1), 0), ?2, ?3, ?4, nullif(?5, 0), ?6) RETURNING gen",
	    cause)) == NULL)
		return (store_normal_end(s, 0, cause));
	sqlite3_bind_int64(st, 1, job);
	store_bind_text(st, 2, g->file);
	sqlite3_bind_int64(st, 3, (int64_t)g->pos);
	sqlite3_bind_int64(st, 4, store_now());
	sqlite3_bind_int64(st, 5, g->server_id);
	store_bind_text(st, 6, g->gtid);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*gen = sqlite3_column_int(st, 0);
		rc = sqlite3_step(st);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		store_error(s, "recording a snapshot", cause);
		return (store_normal_end(s, 0, cause));
	}
	return (store_normal_end(s, 1, cause));
}

/* The job's generations, oldest first. */
int
store_snapshot_gens(struct store *s, int64_t job, struct snapshot_gen **out,
    size_t *n, char **cause)
{
	sqlite3_stmt	*st;
	int		 rc;

	*out = NULL;
	*n = 0;
	if ((st = store_prepare(s, "SELECT gen, binlog_file, binlog_pos, "
	    "gtid, coalesce(server_id, 0) FROM snapshot_gens WHERE job_id = ? "
	    "ORDER BY gen", cause)) == NULL)
		return (-1);
	sqlite3_bind_int64(st, 1, job);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*out = xreallocarray(*out, *n + 1, sizeof **out);
		(*out)[*n].gen = sqlite3_column_int(st, 0);
		(*out)[*n].file = store_col_text(st, 1);
		(*out)[*n].pos = (uint64_t)sqlite3_column_int64(st, 2);
		(*out)[*n].gtid = store_col_text(st, 3);
		(*out)[*n].server_id = (uint32_t)sqlite3_column_int64(st, 4);
		(*n)++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return (store_error(s, "reading snapshots", cause));
	return (0);
}

int
store_snapshot_segment_add(struct store *s, int64_t job,
    const struct snapshot_segment *g, char **cause)
{
	sqlite3_stmt	*st;
	int		 rc;

	if (store_normal_begin(s, cause) != 0)
		return (-1);
	if ((st = store_prepare(s, "INSERT OR REPLACE INTO snapshot_segments "
	    "VALUES (?, ?, ?, ?, ?, ?, ?)", cause)) == NULL)
		return (store_normal_end(s, 0, cause));
	sqlite3_bind_int64(st, 1, job);
	store_bind_text(st, 2, g->db);
	store_bind_text(st, 3, g->table);
	sqlite3_bind_int(st, 4, g->gen);
	store_bind_text(st, 5, g->target);
	sqlite3_bind_int(st, 6, g->part);
	sqlite3_bind_blob(st, 7, g->hi, (int)g->hilen, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		store_error(s, "recording a snapshot segment", cause);
		return (store_normal_end(s, 0, cause));
	}
	return (store_normal_end(s, 1, cause));
}

/* The job's segments, by table, then generation. */
int
store_snapshot_segments(struct store *s, int64_t job,
    struct snapshot_segment **out, size_t *n, char **cause)
{
	sqlite3_stmt		*st;
	struct snapshot_segment	*g;
	int			 rc;

	*out = NULL;
	*n = 0;
	if ((st = store_prepare(s, "SELECT db, tbl, gen, target, part, hi FROM "
	    "snapshot_segments WHERE job_id = ? ORDER BY db, tbl, gen",
	    cause)) == NULL)
		return (-1);
	sqlite3_bind_int64(st, 1, job);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*out = xreallocarray(*out, *n + 1, sizeof **out);
		g = &(*out)[(*n)++];
		g->db = store_col_text(st, 0);
		g->table = store_col_text(st, 1);
		g->gen = sqlite3_column_int(st, 2);
		g->target = store_col_text(st, 3);
		g->part = sqlite3_column_int(st, 4);
		g->hilen = (size_t)sqlite3_column_bytes(st, 5);
		g->hi = xmalloc(g->hilen + 1);
		if (g->hilen > 0)
			memcpy(g->hi, sqlite3_column_blob(st, 5), g->hilen);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return (store_error(s, "reading snapshot segments", cause));
	return (0);
}

int
store_stats_save(struct store *s, int64_t job, const struct job_stats *js,
    char **cause)
{
	sqlite3_stmt	*st;
	int		 rc;

	if (store_normal_begin(s, cause) != 0)
		return (-1);
	if ((st = store_prepare(s, "INSERT OR REPLACE INTO job_stats (job_id, "
	    "lag_seconds, lag_bytes, rows_per_sec, tables_done, tables_total, "
	    "rows_copied, rows_estimated, updated_at, ck_oldest, server, "
	    "throttled_ms, reader_jobs) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
	    "nullif(?, ''), ?, ?)", cause)) == NULL)
		return (store_normal_end(s, 0, cause));
	sqlite3_bind_int64(st, 1, job);
	sqlite3_bind_int64(st, 2, js->lag_seconds);
	sqlite3_bind_int64(st, 3, js->lag_bytes);
	sqlite3_bind_double(st, 4, js->rows_per_sec);
	sqlite3_bind_int64(st, 5, js->tables_done);
	sqlite3_bind_int64(st, 6, js->tables_total);
	sqlite3_bind_int64(st, 7, js->rows_copied);
	sqlite3_bind_int64(st, 8, js->rows_estimated);
	sqlite3_bind_int64(st, 9, store_now());
	sqlite3_bind_int(st, 10, js->ck_oldest);
	store_bind_text(st, 11, js->server);
	sqlite3_bind_int64(st, 12, js->throttled_ms);
	sqlite3_bind_int(st, 13, js->reader_jobs);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		store_error(s, "writing job statistics", cause);
		return (store_normal_end(s, 0, cause));
	}
	return (store_normal_end(s, 1, cause));
}

/* The job's statistics; zeros and an unknown lag when there are none. */
int
store_stats_get(struct store *s, int64_t job, struct job_stats *js,
    char **cause)
{
	sqlite3_stmt	*st;
	int		 rc;

	memset(js, 0, sizeof *js);
	js->lag_seconds = -1;
	if ((st = store_prepare(s, "SELECT lag_seconds, lag_bytes, "
	    "rows_per_sec, tables_done, tables_total, rows_copied, "
	    "rows_estimated, updated_at, ck_oldest, coalesce(server, ''), "
	    "throttled_ms, reader_jobs FROM job_stats WHERE job_id = ?",
	    cause)) == NULL)
		return (-1);
	sqlite3_bind_int64(st, 1, job);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		js->lag_seconds = sqlite3_column_int64(st, 0);
		js->lag_bytes = sqlite3_column_int64(st, 1);
		js->rows_per_sec = sqlite3_column_double(st, 2);
		js->tables_done = sqlite3_column_int64(st, 3);
		js->tables_total = sqlite3_column_int64(st, 4);
		js->rows_copied = sqlite3_column_int64(st, 5);
		js->rows_estimated = sqlite3_column_int64(st, 6);
		js->updated_at = sqlite3_column_int64(st, 7);
		js->ck_oldest = sqlite3_column_int(st, 8);
		util_strlcpy(js->server, (const char *)sqlite3_column_text(st,
		    9), sizeof js->server);
		js->throttled_ms = sqlite3_column_int64(st, 10);
		js->reader_jobs = sqlite3_column_int(st, 11);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return (store_error(s, "reading job statistics", cause));
	return (0);
}

void
job_progress_list_free(struct job_progress *p, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		checkpoint_release(&p[i].cp);
	free(p);
}

/*
 * Checkpoint and statistics of every job of the tenant, sorted by job id,
 * in one query (what store_checkpoint_get() and store_stats_get() give one
 * job at a time).
 */
int
store_progress_list(struct store *s, int64_t tenant, struct job_progress **out,
    size_t *n, char **cause)
{
	sqlite3_stmt		*st;
	struct job_progress	*p;
	int			 rc;

	*out = NULL;
	*n = 0;
	if ((st = store_prepare(s, "SELECT j.id, c.binlog_file, "
	    "coalesce(c.binlog_pos, 0), c.gtid, coalesce(c.next_record_id, 1), "
	    "coalesce(c.updated_at, 0), coalesce(t.lag_seconds, -1), "
	    "coalesce(t.lag_bytes, 0), coalesce(t.rows_per_sec, 0), "
	    "coalesce(t.tables_done, 0), coalesce(t.tables_total, 0), "
	    "coalesce(t.rows_copied, 0), coalesce(t.rows_estimated, 0), "
	    "coalesce(t.updated_at, 0), coalesce(t.ck_oldest, 0), "
	    "coalesce(t.server, ''), coalesce(c.server_id, 0), c.server, "
	    "coalesce(t.throttled_ms, 0), coalesce(t.reader_jobs, 0) "
	    "FROM jobs j "
	    "LEFT JOIN checkpoints c ON c.job_id = j.id "
	    "LEFT JOIN job_stats t ON t.job_id = j.id "
	    "WHERE j.tenant_id = ? ORDER BY j.id", cause)) == NULL)
		return (-1);
	sqlite3_bind_int64(st, 1, tenant);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*out = xreallocarray(*out, *n + 1, sizeof **out);
		p = &(*out)[(*n)++];
		memset(p, 0, sizeof *p);
		p->job_id = sqlite3_column_int64(st, 0);
		p->cp.file = store_col_text(st, 1);
		p->cp.pos = (uint64_t)sqlite3_column_int64(st, 2);
		p->cp.gtid = store_col_text(st, 3);
		p->cp.next_record_id = sqlite3_column_int64(st, 4);
		p->cp.updated_at = sqlite3_column_int64(st, 5);
		p->stats.lag_seconds = sqlite3_column_int64(st, 6);
		p->stats.lag_bytes = sqlite3_column_int64(st, 7);
		p->stats.rows_per_sec = sqlite3_column_double(st, 8);
		p->stats.tables_done = sqlite3_column_int64(st, 9);
		p->stats.tables_total = sqlite3_column_int64(st, 10);
		p->stats.rows_copied = sqlite3_column_int64(st, 11);
		p->stats.rows_estimated = sqlite3_column_int64(st, 12);
		p->stats.updated_at = sqlite3_column_int64(st, 13);
		p->stats.ck_oldest = sqlite3_column_int(st, 14);
		util_strlcpy(p->stats.server, (const char *)
		    sqlite3_column_text(st, 15), sizeof p->stats.server);
		p->cp.server_id = (uint32_t)sqlite3_column_int64(st, 16);
		p->cp.server = store_col_text(st, 17);
		p->stats.throttled_ms = sqlite3_column_int64(st, 18);
		p->stats.reader_jobs = sqlite3_column_int(st, 19);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		job_progress_list_free(*out, *n);
		*out = NULL;
		*n = 0;
		return (store_error(s, "listing job progress", cause));
	}
	return (0);
}

/*
 * Take or renew the lease on job for owner until now + ttl_ms.  Returns 0,
 * 1 when another owner holds an unexpired lease, -1 on error.
 */
int
store_lease_acquire(struct store *s, int64_t job, const char *owner,
    int64_t ttl_ms, char **cause)
{
	sqlite3_stmt	*st;
	int64_t		 now = store_now();
	int		 rc;

	if (store_normal_begin(s, cause) != 0)
		return (-1);
	if ((st = store_prepare(s, "INSERT INTO leases VALUES (?1, ?2, ?3) "
	    "ON CONFLICT (job_id) DO UPDATE SET owner = ?2, expires_at = ?3 "
	    "WHERE leases.owner = ?2 OR leases.expires_at < ?4", cause)) == NULL)
		return (store_normal_end(s, 0, cause));
	sqlite3_bind_int64(st, 1, job);
	store_bind_text(st, 2, owner);
	sqlite3_bind_int64(st, 3, now + ttl_ms);
	sqlite3_bind_int64(st, 4, now);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		store_error(s, "taking a lease", cause);
		return (store_normal_end(s, 0, cause));
	}
	rc = sqlite3_changes(s->db) == 0 ? 1 : 0;
	if (store_normal_end(s, 1, cause) != 0)
		return (-1);
	return (rc);
}

/*
 * Renew, in one transaction, owner's leases on the n jobs until now +
 * ttl_ms.  Leases another owner took meanwhile are left alone: *lost (may be
 * NULL) counts the jobs whose lease is no longer owner's.
 */
int
store_leases_renew(struct store *s, const char *owner, const int64_t *jobs,
    size_t n, int64_t ttl_ms, size_t *lost, char **cause)
{
	sqlite3_stmt	*st;
	size_t		 i, done = 0;
	int		 rc = SQLITE_DONE;

	if (n == 0) {
		if (lost != NULL)
			*lost = 0;
		return (0);
	}
	if (store_normal_begin(s, cause) != 0)
		return (-1);
	if ((st = store_prepare(s, "UPDATE leases SET expires_at = ? WHERE "
	    "job_id = ? AND owner = ?", cause)) == NULL)
		return (store_normal_end(s, 0, cause));
	for (i = 0; i < n; i++) {
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, store_now() + ttl_ms);
		sqlite3_bind_int64(st, 2, jobs[i]);
		store_bind_text(st, 3, owner);
		if ((rc = sqlite3_step(st)) != SQLITE_DONE)
			break;
		done += (size_t)sqlite3_changes(s->db);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		store_error(s, "renewing leases", cause);
		return (store_normal_end(s, 0, cause));
	}
	if (lost != NULL)
		*lost = n - done;
	return (store_normal_end(s, 1, cause));
}

int
store_lease_release(struct store *s, int64_t job, const char *owner,
    char **cause)
{
	sqlite3_stmt	*st;
	int		 rc;

	if ((st = store_prepare(s, "DELETE FROM leases WHERE job_id = ? AND "
	    "owner = ?", cause)) == NULL)
		return (-1);
	sqlite3_bind_int64(st, 1, job);
	store_bind_text(st, 2, owner);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return (store_error(s, "releasing a lease", cause));
	return (0);
}

/*
 * The job reads server server_id (at addr) now.  Its positions of no
 * server (written by an earlier ferry, which read one server only) are
 * that server's.  moved: the checkpoint is another server's and the job
 * goes on here by GTID: the schema versions that server recorded past
 * the checkpoint are dropped (this server's binlog records them again,
 * at its own positions).  One transaction.
 */
int
store_positions_claim(struct store *s, int64_t job, uint32_t server_id,
    const char *addr, const struct checkpoint *moved, char **cause)
{
	static const char	*claims[] = {
		"UPDATE checkpoints SET server_id = ?2, server = ?3 WHERE "
		"job_id = ?1 AND server_id IS NULL",
		"UPDATE snapshot_gens SET server_id = ?2 WHERE job_id = ?1 AND "
		"server_id IS NULL",
		"UPDATE schema_history SET server_id = ?2 WHERE job_id = ?1 AND "
		"server_id IS NULL",
	};
	sqlite3_stmt	*st;
	size_t		 i;
	int		 rc;

	if (store_normal_begin(s, cause) != 0)
		return (-1);
	for (i = 0; i < nitems(claims) && server_id != 0; i++) {
		if ((st = store_prepare(s, claims[i], cause)) == NULL)
			return (store_normal_end(s, 0, cause));
		sqlite3_bind_int64(st, 1, job);
		sqlite3_bind_int64(st, 2, server_id);
		store_bind_text(st, 3, addr);
		rc = sqlite3_step(st);
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE) {
			store_error(s, "recording the source's server", cause);
			return (store_normal_end(s, 0, cause));
		}
	}
	if (moved != NULL && moved->file != NULL && moved->server_id != 0) {
		if ((st = store_prepare(s, "DELETE FROM schema_history WHERE "
		    "job_id = ?1 AND server_id = ?2 AND binlog_file IS NOT NULL "
		    "AND (binlog_file > ?3 OR (binlog_file = ?3 AND "
		    "binlog_pos > ?4))", cause)) == NULL)
			return (store_normal_end(s, 0, cause));
		sqlite3_bind_int64(st, 1, job);
		sqlite3_bind_int64(st, 2, moved->server_id);
		store_bind_text(st, 3, moved->file);
		sqlite3_bind_int64(st, 4, (int64_t)moved->pos);
		rc = sqlite3_step(st);
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE) {
			store_error(s, "trimming the schema history", cause);
			return (store_normal_end(s, 0, cause));
		}
	}
	return (store_normal_end(s, 1, cause));
}
