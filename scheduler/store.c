/*
 * The job store: opening, migrations, transactions, tenants.
 *
 * One SQLite file, in WAL mode so that the daemon's writes never block the
 * CLI's reads, with a busy timeout so that concurrent writers wait instead
 * of failing, and every write transaction begun IMMEDIATE so that two
 * writers cannot both read and then collide on upgrade.  Foreign keys are
 * on; the schema is numbered (PRAGMA user_version) and migrated forward on
 * open.  The file is created 0600: it holds hostnames, user names and
 * encrypted secrets.
 *
 * Durability, per table:
 *	tenants, endpoints, jobs, job_targets, job_objects, job_events
 *		synchronous=FULL: a definition the user was told exists
 *		survives a power loss.
 *	checkpoints, snapshot_progress, snapshot_gens, snapshot_segments,
 *	schema_history, job_stats, leases
 *		written with synchronous=NORMAL (store_checkpoint_save() and
 *		friends switch it for their transaction): in WAL mode a commit
 *		then survives a crash of ferry, and a power loss may lose the
 *		last ones.  A lost checkpoint only means the job resumes from
 *		an older position and its exactly-once resume skips what is
 *		already in Kafka; the schema history moves in the same
 *		transaction as the checkpoint, so the two never disagree.
 *
 * Every function runs on the thread that owns the store (the daemon's main
 * thread, or the CLI); SQLite's connection is not shared across threads.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "scheduler/store.h"
#include "scheduler/store_int.h"

/*
 * Migrations, in order; migration i brings user_version from i to i + 1.
 * Never edit one that has shipped: add the next.
 */
static const char *store_migrations[] = {
	/* 1: the first schema */
	"CREATE TABLE tenants ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  max_jobs INTEGER NOT NULL DEFAULT -1,"
	"  max_memory INTEGER NOT NULL DEFAULT -1,"
	"  max_rows_per_sec INTEGER NOT NULL DEFAULT -1,"
	"  created_at INTEGER NOT NULL);"
	"CREATE TABLE endpoints ("
	"  id INTEGER PRIMARY KEY,"
	"  tenant_id INTEGER NOT NULL REFERENCES tenants(id),"
	"  name TEXT NOT NULL,"
	"  kind TEXT NOT NULL CHECK (kind IN ('mysql', 'kafka')),"
	"  address TEXT NOT NULL,"
	"  username TEXT,"
	"  secret TEXT,"
	"  tls INTEGER NOT NULL DEFAULT 0,"
	"  tls_ca TEXT,"
	"  sasl TEXT,"
	"  kafka_version TEXT,"
	"  created_at INTEGER NOT NULL,"
	"  UNIQUE (tenant_id, name));"
	"CREATE TABLE jobs ("
	"  id INTEGER PRIMARY KEY,"
	"  tenant_id INTEGER NOT NULL REFERENCES tenants(id),"
	"  name TEXT NOT NULL,"
	"  source_id INTEGER NOT NULL REFERENCES endpoints(id),"
	"  topic TEXT,"
	"  topic_template TEXT,"
	"  partition_policy TEXT NOT NULL,"
	"  initial_schema INTEGER NOT NULL,"
	"  initial_full INTEGER NOT NULL,"
	"  ddl TEXT NOT NULL,"
	"  large_row TEXT NOT NULL,"
	"  max_memory INTEGER NOT NULL DEFAULT -1,"
	"  server_id INTEGER NOT NULL,"
	"  state TEXT NOT NULL,"
	"  error TEXT,"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  next_attempt_at INTEGER,"
	"  created_at INTEGER NOT NULL,"
	"  updated_at INTEGER NOT NULL,"
	"  started_at INTEGER,"
	"  CHECK (topic IS NOT NULL OR topic_template IS NOT NULL));"
	"CREATE INDEX jobs_tenant ON jobs (tenant_id);"
	"CREATE INDEX jobs_state ON jobs (state);"
	"CREATE TABLE job_targets ("
	"  job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,"
	"  endpoint_id INTEGER NOT NULL REFERENCES endpoints(id),"
	"  PRIMARY KEY (job_id, endpoint_id));"
	"CREATE INDEX job_targets_endpoint ON job_targets (endpoint_id);"
	"CREATE TABLE job_objects ("
	"  job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,"
	"  db TEXT NOT NULL,"
	"  tbl TEXT NOT NULL,"
	"  PRIMARY KEY (job_id, db, tbl));"
	"CREATE TABLE checkpoints ("
	"  job_id INTEGER PRIMARY KEY REFERENCES jobs(id) ON DELETE CASCADE,"
	"  binlog_file TEXT,"
	"  binlog_pos INTEGER NOT NULL DEFAULT 0,"
	"  gtid TEXT,"
	"  next_record_id INTEGER NOT NULL DEFAULT 1,"
	"  updated_at INTEGER NOT NULL);"
	"CREATE TABLE snapshot_progress ("
	"  job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,"
	"  db TEXT NOT NULL,"
	"  tbl TEXT NOT NULL,"
	"  last_key TEXT,"
	"  rows_copied INTEGER NOT NULL DEFAULT 0,"
	"  rows_estimated INTEGER NOT NULL DEFAULT 0,"
	"  done INTEGER NOT NULL DEFAULT 0,"
	"  PRIMARY KEY (job_id, db, tbl));"
	"CREATE TABLE schema_history ("
	"  id INTEGER PRIMARY KEY,"
	"  job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,"
	"  db TEXT NOT NULL,"
	"  tbl TEXT NOT NULL,"
	"  version INTEGER NOT NULL,"
	"  definition TEXT NOT NULL,"
	"  ddl TEXT,"
	"  binlog_file TEXT,"
	"  binlog_pos INTEGER,"
	"  created_at INTEGER NOT NULL,"
	"  UNIQUE (job_id, db, tbl, version));"
	"CREATE TABLE job_stats ("
	"  job_id INTEGER PRIMARY KEY REFERENCES jobs(id) ON DELETE CASCADE,"
	"  lag_seconds INTEGER NOT NULL DEFAULT -1,"
	"  lag_bytes INTEGER NOT NULL DEFAULT 0,"
	"  rows_per_sec REAL NOT NULL DEFAULT 0,"
	"  tables_done INTEGER NOT NULL DEFAULT 0,"
	"  tables_total INTEGER NOT NULL DEFAULT 0,"
	"  rows_copied INTEGER NOT NULL DEFAULT 0,"
	"  rows_estimated INTEGER NOT NULL DEFAULT 0,"
	"  updated_at INTEGER NOT NULL);"
	"CREATE TABLE job_events ("
	"  id INTEGER PRIMARY KEY,"
	"  job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,"
	"  at INTEGER NOT NULL,"
	"  who TEXT NOT NULL,"
	"  kind TEXT NOT NULL,"
	"  message TEXT NOT NULL);"
	"CREATE INDEX job_events_job ON job_events (job_id, id);"
	"CREATE TABLE leases ("
	"  job_id INTEGER PRIMARY KEY REFERENCES jobs(id) ON DELETE CASCADE,"
	"  owner TEXT NOT NULL,"
	"  expires_at INTEGER NOT NULL);"
	"CREATE TABLE meta ("
	"  key TEXT PRIMARY KEY,"
	"  value TEXT NOT NULL);"
	"INSERT INTO meta VALUES ('instance', abs(random()) % 1000000);"
	"INSERT INTO tenants (name, created_at) VALUES ('default',"
	"  CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));",

	/*
	 * 2: generations of an interrupted initial sync.  Each attempt at
	 * the full sync reads from its own snapshot (a generation, with its
	 * binlog position); a table finished in generation g has done_gen g;
	 * the rows a generation wrote to a partition of a target before it
	 * was interrupted are those up to the sortable key hi (schema/keyenc.c).
	 */
	"ALTER TABLE snapshot_progress ADD COLUMN done_gen INTEGER;"
	"CREATE TABLE snapshot_gens ("
	"  job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,"
	"  gen INTEGER NOT NULL,"
	"  binlog_file TEXT NOT NULL,"
	"  binlog_pos INTEGER NOT NULL,"
	"  created_at INTEGER NOT NULL,"
	"  PRIMARY KEY (job_id, gen));"
	"CREATE TABLE snapshot_segments ("
	"  job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,"
	"  db TEXT NOT NULL,"
	"  tbl TEXT NOT NULL,"
	"  gen INTEGER NOT NULL,"
	"  target TEXT NOT NULL,"
	"  part INTEGER NOT NULL,"
	"  hi BLOB NOT NULL,"
	"  PRIMARY KEY (job_id, db, tbl, gen, target, part));",

	/*
	 * 3: a job's revision, bumped when its definition changes while it
	 * may run (ferry job add-tables): the daemon restarts a running job
	 * whose revision moved.  An object added to a running job is pending
	 * until the engine has copied its tables.
	 */
	"ALTER TABLE jobs ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE job_objects ADD COLUMN pending INTEGER NOT NULL "
	"  DEFAULT 0;",

	/*
	 * 4: when an endpoint was last changed in place (ferry endpoint set:
	 * a rotated password, a new address) and by whom; NULL: never.
	 */
	"ALTER TABLE endpoints ADD COLUMN updated_at INTEGER;"
	"ALTER TABLE endpoints ADD COLUMN updated_by TEXT;",

	/*
	 * 5: the generation a re-snapshot (ferry job resnapshot) starts at:
	 * INIT records of older generations in the topics' tails do not
	 * count as copied for the tables it copies again; 0: none asked.
	 */
	"ALTER TABLE jobs ADD COLUMN resnapshot_gen INTEGER NOT NULL "
	"  DEFAULT 0;",

	/*
	 * 6: whether the job's checkpoint is in the oldest binlog file its
	 * source still has, with newer ones after it (the next to be
	 * purged): ferry status warns.
	 */
	"ALTER TABLE job_stats ADD COLUMN ck_oldest INTEGER NOT NULL "
	"  DEFAULT 0;",

	/*
	 * 7: which server a binlog position is of (an endpoint may name
	 * several: a job moves between them by GTID).  server_id is the
	 * server's @@server_id, server its address as the endpoint names
	 * it; NULL: written by an earlier ferry, the position of the server
	 * the job reads next (it claims them).  A snapshot's GTID state
	 * (MySQL has no BINLOG_GTID_POS to ask later).  The server a job
	 * reads now, for job show.
	 */
	"ALTER TABLE checkpoints ADD COLUMN server_id INTEGER;"
	"ALTER TABLE checkpoints ADD COLUMN server TEXT;"
	"ALTER TABLE snapshot_gens ADD COLUMN server_id INTEGER;"
	"ALTER TABLE snapshot_gens ADD COLUMN gtid TEXT;"
	"ALTER TABLE schema_history ADD COLUMN server_id INTEGER;"
	"ALTER TABLE job_stats ADD COLUMN server TEXT;",

	/*
	 * 8: API tokens (the SHA-256 of each; tenant_id NULL: an operator
	 * token), and who made an endpoint: the operator (the CLI on the
	 * store, an operator token) or a tenant through the API, whose
	 * endpoints the daemon's network policy confines; how long a job
	 * waited for its tenant's rows per second; each tenant's key for its
	 * secrets, wrapped by the store's (scheduler/secret.c).
	 */
	"CREATE TABLE tokens ("
	"  id INTEGER PRIMARY KEY,"
	"  tenant_id INTEGER REFERENCES tenants(id) ON DELETE CASCADE,"
	"  name TEXT,"
	"  hash TEXT NOT NULL UNIQUE,"
	"  created_at INTEGER NOT NULL,"
	"  created_by TEXT NOT NULL,"
	"  revoked_at INTEGER,"
	"  last_used_at INTEGER);"
	"CREATE INDEX tokens_tenant ON tokens (tenant_id);"
	"ALTER TABLE endpoints ADD COLUMN owner TEXT NOT NULL DEFAULT "
	"  'operator';"
	"ALTER TABLE job_stats ADD COLUMN throttled_ms INTEGER NOT NULL "
	"  DEFAULT 0;"
	"ALTER TABLE tenants ADD COLUMN secret_key TEXT;",
	/* 9: the precheck at a start after a retry; keyless tables allowed */
	"ALTER TABLE jobs ADD COLUMN precheck_due INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE jobs ADD COLUMN allow_no_key INTEGER NOT NULL "
	"  DEFAULT 0;",
	/* 10: a Kafka endpoint's compression codec */
	"ALTER TABLE endpoints ADD COLUMN compression TEXT;",
	/* 11: a Kafka endpoint's other producer settings, "k=v\n..." */
	"ALTER TABLE endpoints ADD COLUMN producer_props TEXT;",
	/* 12: a job's identity in its records, never reused (jobs from
	 * before keep their id) */
	"ALTER TABLE jobs ADD COLUMN identity TEXT;",
	/* 13: whether a job reads on the shared binlog reader (how many
	 * jobs do), or on its own connection (0) */
	"ALTER TABLE job_stats ADD COLUMN reader_jobs INTEGER NOT NULL "
	"  DEFAULT 0;",
};

#define STORE_SCHEMA	((int)nitems(store_migrations))

/* How long a statement waits for another connection's lock (15 s when
 * opened). */
void
store_set_busy_timeout(struct store *s, int ms)
{
	sqlite3_busy_timeout(s->db, ms);
}

int64_t
store_now(void)
{
	return ((int64_t)(util_wall_us() / 1000));
}

int
store_error(struct store *s, const char *what, char **cause)
{
	*cause = store_errmsg(s, what, sqlite3_errmsg(s->db));
	return (-1);
}

/*
 * The last error on the store as one sentence: what was being done and
 * SQLite's reason (msg), or, for the failures a person fixes outside
 * ferry, what they are: a store that cannot be written, a full disk.
 * Nothing of a failed write is kept (its transaction is rolled back).
 */
char *
store_errmsg(struct store *s, const char *what, const char *msg)
{
	int	 code = sqlite3_errcode(s->db);

	if (code == SQLITE_READONLY)
		return (xasprintf("job store %s is read-only (the file, or its "
		    "directory, cannot be written by this user): %s needs "
		    "write access", s->path, what));
	if (code == SQLITE_FULL || (code == SQLITE_IOERR &&
	    sqlite3_system_errno(s->db) == ENOSPC))
		return (xasprintf("job store %s: the disk is full (%s): "
		    "nothing was written; free space there and try again",
		    s->path, what));
	return (xasprintf("job store %s: %s: %s", s->path, what, msg));
}

int
store_exec(struct store *s, const char *sql, char **cause)
{
	char	*msg = NULL;

	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		*cause = store_errmsg(s, "writing", msg != NULL ? msg :
		    sqlite3_errmsg(s->db));
		sqlite3_free(msg);
		return (-1);
	}
	return (0);
}

sqlite3_stmt *
store_prepare(struct store *s, const char *sql, char **cause)
{
	sqlite3_stmt	*st;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
		store_error(s, "preparing a statement", cause);
		return (NULL);
	}
	return (st);
}

/* BEGIN IMMEDIATE: take the write lock now, waiting up to the timeout. */
int
store_begin(struct store *s, char **cause)
{
	return (store_exec(s, "BEGIN IMMEDIATE", cause));
}

int
store_commit(struct store *s, char **cause)
{
	if (store_exec(s, "COMMIT", cause) != 0) {
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		return (-1);
	}
	return (0);
}

void
store_rollback(struct store *s)
{
	sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

/* A test's way in: fail at the named point (returns nonzero to fail). */
void
store_set_fail_hook(struct store *s, int (*hook)(const char *))
{
	s->fail_hook = hook;
}

int
store_fail_point(struct store *s, const char *point, char **cause)
{
	if (s->fail_hook != NULL && s->fail_hook(point) != 0) {
		*cause = xasprintf("job store: injected failure at %s", point);
		return (-1);
	}
	return (0);
}

void
store_bind_text(sqlite3_stmt *st, int i, const char *v)
{
	if (v == NULL)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
}

char *
store_col_text(sqlite3_stmt *st, int i)
{
	const unsigned char	*v = sqlite3_column_text(st, i);

	return (v != NULL ? xstrdup((const char *)v) : NULL);
}

/* Make the directory of path (one level), private, if it is missing. */
static int
store_mkdir(const char *path, char **cause)
{
	char	*dir = xstrdup(path), *slash;
	int	 rc = 0;

	if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
			/* one more level: ~/.local/share/ferry */
			char	*up = xstrdup(dir), *s2 = strrchr(up, '/');

			if (s2 != NULL && s2 != up) {
				*s2 = '\0';
				(void)mkdir(up, 0700);
			}
			free(up);
			if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
				*cause = xasprintf("cannot create %s: %s", dir,
				    strerror(errno));
				rc = -1;
			}
		}
	}
	free(dir);
	return (rc);
}

/* The store's schema version (PRAGMA user_version), or -1. */
static int
store_version(struct store *s, char **cause)
{
	sqlite3_stmt	*st;
	int		 version;

	if ((st = store_prepare(s, "PRAGMA user_version", cause)) == NULL)
		return (-1);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		return (store_error(s, "reading the schema version", cause));
	}
	version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return (version);
}

/*
 * Bring the schema to STORE_SCHEMA.  A store already there is not
 * written (nor locked), so a read-only one serves every command that only
 * reads; one that needs a migration says so.
 */
static int
store_migrate(struct store *s, char **cause)
{
	sqlite3_stmt	*st;
	int		 version, i;
	char		*sql;

	if ((version = store_version(s, cause)) < 0)
		return (-1);
	if (version == STORE_SCHEMA)
		return (0);
	if (version > STORE_SCHEMA) {
		*cause = xasprintf("job store %s has schema version %d; this "
		    "ferry knows up to %d: use a newer ferry", s->path, version,
		    STORE_SCHEMA);
		return (-1);
	}
	if (sqlite3_db_readonly(s->db, "main") == 1) {
		*cause = xasprintf("job store %s is read-only and at schema "
		    "version %d, not %d: open it once with write access (any "
		    "ferry command) to migrate it", s->path, version,
		    STORE_SCHEMA);
		return (-1);
	}
	if (store_begin(s, cause) != 0)
		return (-1);
	if ((st = store_prepare(s, "PRAGMA user_version", cause)) == NULL)
		goto fail;
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		store_error(s, "reading the schema version", cause);
		goto fail;
	}
	version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (version > STORE_SCHEMA) {
		*cause = xasprintf("job store %s has schema version %d; this "
		    "ferry knows up to %d: use a newer ferry", s->path, version,
		    STORE_SCHEMA);
		goto fail;
	}
	for (i = version; i < STORE_SCHEMA; i++) {
		if (store_exec(s, store_migrations[i], cause) != 0)
			goto fail;
		sql = xasprintf("PRAGMA user_version = %d", i + 1);
		if (store_exec(s, sql, cause) != 0) {
			free(sql);
			goto fail;
		}
		free(sql);
		log_info("job store %s: migrated to schema %d", s->path, i + 1);
	}
	return (store_commit(s, cause));
fail:
	store_rollback(s);
	return (-1);
}

/*
 * Open (creating when missing) the store at path.  Returns a store (close
 * with store_close()) or NULL with *cause.
 */
struct store *
store_open(const char *path, char **cause)
{
	struct store	*s;
	struct stat	 sb;
	int		 fd;

	if (store_mkdir(path, cause) != 0)
		return (NULL);
	/*
	 * Create it 0600 ourselves (SQLite would use the umask), but only
	 * when it does not exist: closing a descriptor of a file drops every
	 * POSIX lock this process holds on it, including those of another
	 * thread's SQLite connection, which would then miss other processes'
	 * commits.  SQLite gives the -wal and -shm files the same mode.
	 */
	if (stat(path, &sb) != 0) {
		fd = open(path, O_RDWR|O_CREAT|O_EXCL|O_CLOEXEC, 0600);
		if (fd == -1 && errno != EEXIST) {
			*cause = xasprintf("cannot create the job store %s: %s",
			    path, strerror(errno));
			return (NULL);
		}
		if (fd != -1)
			close(fd);
	}
	s = xcalloc(1, sizeof *s);
	s->path = xstrdup(path);
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE,
	    NULL) != SQLITE_OK) {
		store_error(s, "opening", cause);
		goto fail;
	}
	sqlite3_busy_timeout(s->db, 15000);
	/* A read-only store (the file is not writable) serves reads: WAL
	 * mode is the file's, set when it was created. */
	if ((sqlite3_db_readonly(s->db, "main") != 1 &&
	    store_exec(s, "PRAGMA journal_mode = WAL", cause) != 0) ||
	    store_exec(s, "PRAGMA synchronous = FULL", cause) != 0 ||
	    store_exec(s, "PRAGMA foreign_keys = ON", cause) != 0)
		goto fail;
	if (store_migrate(s, cause) != 0)
		goto fail;
	return (s);
fail:
	store_close(s);
	return (NULL);
}

void
store_close(struct store *s)
{
	if (s == NULL)
		return;
	if (s->db != NULL)
		sqlite3_close_v2(s->db);
	free(s->path);
	free(s);
}

const char *
store_path(const struct store *s)
{
	return (s->path);
}

void
tenant_release(struct tenant *t)
{
	free(t->name);
	memset(t, 0, sizeof *t);
}

static void
tenant_row(sqlite3_stmt *st, struct tenant *t)
{
	t->id = sqlite3_column_int64(st, 0);
	t->name = store_col_text(st, 1);
	t->max_jobs = sqlite3_column_int64(st, 2);
	t->max_memory = sqlite3_column_int64(st, 3);
	t->max_rows_per_sec = sqlite3_column_int64(st, 4);
	t->created_at = sqlite3_column_int64(st, 5);
}

#define TENANT_COLS "id, name, max_jobs, max_memory, max_rows_per_sec, " \
	"created_at"

/* The tenant called name; "no tenant" is an error that says how to add it. */
int
store_tenant_get(struct store *s, const char *name, struct tenant *t,
    char **cause)
{
	sqlite3_stmt	*st;
	int		 rc;

	if ((st = store_prepare(s, "SELECT " TENANT_COLS " FROM tenants "
	    "WHERE name = ?", cause)) == NULL)
		return (-1);
	store_bind_text(st, 1, name);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		tenant_row(st, t);
		sqlite3_finalize(st);
		return (0);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return (store_error(s, "reading tenants", cause));
	*cause = xasprintf("no tenant '%s' (add it with: ferry tenant add %s)",
	    name, name);
	return (-1);
}

int
store_tenant_add(struct store *s, const struct tenant *t, char **cause)
{
	sqlite3_stmt	*st;
	int		 rc;

	if ((st = store_prepare(s, "INSERT INTO tenants (name, max_jobs, "
	    "max_memory, max_rows_per_sec, created_at) VALUES (?, ?, ?, ?, ?)",
	    cause)) == NULL)
		return (-1);
	store_bind_text(st, 1, t->name);
	sqlite3_bind_int64(st, 2, t->max_jobs);
	sqlite3_bind_int64(st, 3, t->max_memory);
	sqlite3_bind_int64(st, 4, t->max_rows_per_sec);
	sqlite3_bind_int64(st, 5, store_now());
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_CONSTRAINT) {
		*cause = xasprintf("tenant '%s' already exists", t->name);
		return (-1);
	}
	if (rc != SQLITE_DONE)
		return (store_error(s, "adding a tenant", cause));
	return (0);
}

/*
 * The quotas a new tenant gets (the operator's, in meta): name unset, -1
 * (unlimited) where none is set.
 */
int
store_tenant_defaults(struct store *s, struct tenant *t, char **cause)
{
	static const char	*keys[] = {
		"default_max_jobs", "default_max_memory",
		"default_max_rows_per_sec",
	};
	int64_t			*v[3];
	sqlite3_stmt		*st;
	size_t			 i;
	int			 rc;

	memset(t, 0, sizeof *t);
	v[0] = &t->max_jobs;
	v[1] = &t->max_memory;
	v[2] = &t->max_rows_per_sec;
	for (i = 0; i < nitems(keys); i++) {
		*v[i] = STORE_UNLIMITED;
		if ((st = store_prepare(s, "SELECT value FROM meta WHERE key = ?",
		    cause)) == NULL)
			return (-1);
		store_bind_text(st, 1, keys[i]);
		if ((rc = sqlite3_step(st)) == SQLITE_ROW)
			*v[i] = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE)
			return (store_error(s, "reading tenant defaults",
			    cause));
	}
	return (0);
}

/* Set the quotas new tenants get. */
int
store_tenant_defaults_set(struct store *s, const struct tenant *t,
    char **cause)
{
	const char	*keys[] = {
		"default_max_jobs", "default_max_memory",
		"default_max_rows_per_sec",
	};
	int64_t		 v[3];
	sqlite3_stmt	*st;
	size_t		 i;
	int		 rc;

	v[0] = t->max_jobs;
	v[1] = t->max_memory;
	v[2] = t->max_rows_per_sec;
	if (store_begin(s, cause) != 0)
		return (-1);
	for (i = 0; i < nitems(keys); i++) {
		if ((st = store_prepare(s, "INSERT OR REPLACE INTO meta VALUES "
		    "(?, ?)", cause)) == NULL) {
			store_rollback(s);
			return (-1);
		}
		store_bind_text(st, 1, keys[i]);
		sqlite3_bind_int64(st, 2, v[i]);
		rc = sqlite3_step(st);
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE) {
			store_error(s, "writing tenant defaults", cause);
			store_rollback(s);
			return (-1);
		}
	}
	return (store_commit(s, cause));
}

/* Tenant t's wrapped key (*wrapped NULL: none yet). */
int
store_tenant_key_get(struct store *s, int64_t t, char **wrapped, char **cause)
{
	sqlite3_stmt	*st;
	int		 rc;

	*wrapped = NULL;
	if ((st = store_prepare(s, "SELECT secret_key FROM tenants WHERE "
	    "id = ?", cause)) == NULL)
		return (-1);
	sqlite3_bind_int64(st, 1, t);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		*wrapped = store_col_text(st, 0);
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE) {
		*cause = xasprintf("no tenant with id %lld", (long long)t);
		return (-1);
	}
	if (rc != SQLITE_ROW)
		return (store_error(s, "reading a tenant's key", cause));
	return (0);
}

/* Give tenant t its wrapped key, unless it has one: 0, 1 when it had
 * one already, -1. */
int
store_tenant_key_set(struct store *s, int64_t t, const char *wrapped,
    char **cause)
{
	sqlite3_stmt	*st;
	int		 rc;

	if ((st = store_prepare(s, "UPDATE tenants SET secret_key = ? WHERE "
	    "id = ? AND secret_key IS NULL", cause)) == NULL)
		return (-1);
	store_bind_text(st, 1, wrapped);
	sqlite3_bind_int64(st, 2, t);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return (store_error(s, "storing a tenant's key", cause));
	return (sqlite3_changes(s->db) == 0 ? 1 : 0);
}

/*
 * Remove tenant name, its tokens and its key with it (what was sealed for
 * it cannot be opened any more).  Refused for "default" and for a tenant
 * that still has endpoints or jobs.
 */
int
store_tenant_rm(struct store *s, const char *name, char **cause)
{
	struct tenant	 t;
	sqlite3_stmt	*st;
	int64_t		 n;
	int		 rc = -1;

	if (strcmp(name, "default") == 0) {
		*cause = xstrdup("the tenant 'default' stays");
		return (-1);
	}
	if (store_tenant_get(s, name, &t, cause) != 0)
		return (-1);
	if (store_begin(s, cause) != 0)
		goto out;
	n = store_count(s, "SELECT (SELECT count(*) FROM jobs WHERE tenant_id "
	    "= ?1) + (SELECT count(*) FROM endpoints WHERE tenant_id = ?1)",
	    t.id, cause);
	if (n < 0) {
		store_rollback(s);
		goto out;
	}
	if (n > 0) {
		*cause = xasprintf("tenant '%s' still has %lld jobs and "
		    "endpoints; remove them first", name, (long long)n);
		store_rollback(s);
		goto out;
	}
	if ((st = store_prepare(s, "DELETE FROM tenants WHERE id = ?",
	    cause)) == NULL) {
		store_rollback(s);
		goto out;
	}
	sqlite3_bind_int64(st, 1, t.id);
	n = sqlite3_step(st);
	sqlite3_finalize(st);
	if (n != SQLITE_DONE) {
		store_error(s, "removing a tenant", cause);
		store_rollback(s);
		goto out;
	}
	rc = store_commit(s, cause);
out:
	tenant_release(&t);
	return (rc);
}

/* Set the quotas of the tenant t->name. */
int
store_tenant_set(struct store *s, const struct tenant *t, char **cause)
{
	sqlite3_stmt	*st;
	int		 rc;

	if ((st = store_prepare(s, "UPDATE tenants SET max_jobs = ?, "
	    "max_memory = ?, max_rows_per_sec = ? WHERE name = ?",
	    cause)) == NULL)
		return (-1);
	sqlite3_bind_int64(st, 1, t->max_jobs);
	sqlite3_bind_int64(st, 2, t->max_memory);
	sqlite3_bind_int64(st, 3, t->max_rows_per_sec);
	store_bind_text(st, 4, t->name);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return (store_error(s, "updating a tenant", cause));
	if (sqlite3_changes(s->db) == 0) {
		*cause = xasprintf("no tenant '%s'", t->name);
		return (-1);
	}
	return (0);
}

int
store_tenant_list(struct store *s, struct tenant **out, size_t *n,
    char **cause)
{
	sqlite3_stmt	*st;
	int		 rc;

	*out = NULL;
	*n = 0;
	if ((st = store_prepare(s, "SELECT " TENANT_COLS " FROM tenants "
	    "ORDER BY name", cause)) == NULL)
		return (-1);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*out = xreallocarray(*out, *n + 1, sizeof **out);
		tenant_row(st, &(*out)[(*n)++]);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return (store_error(s, "listing tenants", cause));
	return (0);
}
