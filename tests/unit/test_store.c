/*
 * scheduler/: the job store and secrets.
 *
 * Opening (new file 0600, an empty file, a newer schema, a file that is not
 * a database), tenants and quotas, endpoints, the job state machine against
 * a table written here from the documented transitions, checkpoint and
 * schema history in one transaction (a failure injected between the two
 * writes leaves neither), leases, cascade on removal, concurrent writers in
 * separate processes, and secrets at rest.  The test reads the file with
 * its own SQLite connection to see what is really there.
 */
#include "config.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "scheduler/secret.h"
#include "scheduler/store.h"
#include "tests/lib/testutil.h"

/* The schema version this ferry writes (scheduler/store.c). */
#define STORE_VERSION	13

static char	 tmpdir[] = "/tmp/ferry-test-store-XXXXXX";
static int	 tmpn;

/* A fresh store path for each test. */
static char *
new_path(void)
{
	/* check runs each test in its own process: the pid keeps them apart. */
	return (xasprintf("%s/s%ld-%d.db", tmpdir, (long)getpid(), tmpn++));
}

static struct store *
open_ok(const char *path)
{
	struct store	*s;
	char		*cause = NULL;

	s = store_open(path, &cause);
	ck_assert_msg(s != NULL, "store_open: %s", cause);
	return (s);
}

/* An integer from the file, through a separate connection. */
static long long
peek(const char *path, const char *sql)
{
	sqlite3		*db;
	sqlite3_stmt	*st;
	long long	 v = -1;

	ck_assert_int_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY,
	    NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL),
	    SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return (v);
}

static int64_t
default_tenant(struct store *s)
{
	struct tenant	 t;
	char		*cause = NULL;
	int64_t		 id;

	ck_assert_int_eq(store_tenant_get(s, "default", &t, &cause), 0);
	id = t.id;
	tenant_release(&t);
	return (id);
}

static int64_t
add_endpoint(struct store *s, int64_t tenant, const char *name,
    enum endpoint_kind kind)
{
	struct endpoint	 e;
	char		*cause = NULL;
	int64_t		 id;

	memset(&e, 0, sizeof e);
	e.tenant_id = tenant;
	e.name = xstrdup(name);
	e.kind = kind;
	e.address = xstrdup(kind == ENDPOINT_MYSQL ?
	    "mysql://root@127.0.0.1:3306" : "127.0.0.1:9092");
	ck_assert_msg(store_endpoint_add(s, &e, &cause) == 0, "%s", cause);
	id = e.id;
	ck_assert_int_gt(id, 0);
	endpoint_release(&e);
	return (id);
}

static int64_t
add_job(struct store *s, int64_t tenant, const char *name, int64_t src,
    int64_t dst, char **cause)
{
	struct job		 j;
	struct job_object	 o = { (char *)"shop", (char *)"orders" };
	int64_t			 id;

	memset(&j, 0, sizeof j);
	j.tenant_id = tenant;
	j.name = (char *)name;
	j.source_id = src;
	j.target_ids = &dst;
	j.ntargets = 1;
	j.topic = (char *)"orders";
	j.partition = (char *)"zero";
	j.ddl = (char *)"ignore";
	j.large_row = (char *)"fail";
	j.initial_schema = j.initial_full = 1;
	j.max_memory = STORE_UNLIMITED;
	j.objects = &o;
	j.nobjects = 1;
	if (store_job_create(s, &j, "test", cause) != 0) {
		free(j.identity);
		return (-1);
	}
	free(j.identity);	/* the only field the store made */
	id = j.id;
	return (id);
}

/* A store with the default tenant, a source, a target and one job. */
struct fixture {
	char		*path;
	struct store	*s;
	int64_t		 tenant, src, dst, job;
};

static void
fixture_open(struct fixture *f)
{
	char	*cause = NULL;

	f->path = new_path();
	f->s = open_ok(f->path);
	f->tenant = default_tenant(f->s);
	f->src = add_endpoint(f->s, f->tenant, "src", ENDPOINT_MYSQL);
	f->dst = add_endpoint(f->s, f->tenant, "dst", ENDPOINT_KAFKA);
	f->job = add_job(f->s, f->tenant, "j", f->src, f->dst, &cause);
	ck_assert_msg(f->job > 0, "%s", cause);
}

static void
fixture_close(struct fixture *f)
{
	store_close(f->s);
	free(f->path);
}

START_TEST(test_open_new)
{
	struct store	*s;
	struct stat	 sb;
	char		*path = new_path();

	s = open_ok(path);
	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert_int_eq(sb.st_mode & 0777, 0600);
	ck_assert_str_eq(store_path(s), path);
	store_close(s);
	ck_assert_int_eq(peek(path, "PRAGMA user_version"), STORE_VERSION);
	ck_assert_int_eq(peek(path, "SELECT count(*) FROM tenants WHERE "
	    "name = 'default'"), 1);
	/* In WAL mode, and reopening changes nothing. */
	ck_assert_int_eq(peek(path, "SELECT journal_mode = 'wal' FROM "
	    "pragma_journal_mode"), 1);
	s = open_ok(path);
	store_close(s);
	ck_assert_int_eq(peek(path, "SELECT count(*) FROM tenants"), 1);
	free(path);
}
END_TEST

START_TEST(test_open_empty_file)
{
	struct store	*s;
	char		*path = new_path();
	int		 fd;

	fd = open(path, O_CREAT | O_WRONLY, 0600);
	ck_assert_int_ge(fd, 0);
	close(fd);
	s = open_ok(path);
	store_close(s);
	ck_assert_int_eq(peek(path, "PRAGMA user_version"), STORE_VERSION);
	ck_assert_int_eq(peek(path, "SELECT count(*) FROM sqlite_master "
	    "WHERE name IN ('jobs', 'checkpoints', 'schema_history', "
	    "'leases', 'job_events')"), 5);
	free(path);
}
END_TEST

/*
 * A store of schema 1 (as the first ferry left it, with a job and its
 * checkpoint) opens under this one: migrated forward, nothing lost.
 */
START_TEST(test_migrate_from_1)
{
	struct fixture		 f;
	struct checkpoint	 cp;
	struct snapshot_gen	*g, sg;
	sqlite3			*db;
	char			*cause = NULL;
	size_t			 n;
	int			 gen;

	fixture_open(&f);
	memset(&cp, 0, sizeof cp);
	cp.file = (char *)"b.000003";
	cp.pos = 77;
	cp.next_record_id = 5;
	ck_assert_int_eq(store_checkpoint_save(f.s, f.job, &cp, NULL, 0,
	    &cause), 0);
	store_close(f.s);
	/* Undo migrations 13 to 2 by hand: what a schema-1 file looks
	 * like. */
	ck_assert_int_eq(sqlite3_open(f.path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, "ALTER TABLE job_stats DROP COLUMN "
	    "reader_jobs; ALTER TABLE jobs DROP COLUMN "
	    "identity; ALTER TABLE endpoints DROP COLUMN "
	    "producer_props; ALTER TABLE endpoints DROP COLUMN "
	    "compression; ALTER TABLE jobs DROP COLUMN "
	    "precheck_due; ALTER TABLE jobs DROP COLUMN allow_no_key; "
	    "DROP TABLE tokens; "
	    "ALTER TABLE endpoints DROP COLUMN owner; "
	    "ALTER TABLE job_stats DROP COLUMN throttled_ms; "
	    "ALTER TABLE tenants DROP COLUMN secret_key; "
	    "ALTER TABLE checkpoints DROP COLUMN "
	    "server_id; ALTER TABLE checkpoints DROP COLUMN server; "
	    "ALTER TABLE snapshot_gens DROP COLUMN server_id; "
	    "ALTER TABLE snapshot_gens DROP COLUMN gtid; "
	    "ALTER TABLE schema_history DROP COLUMN server_id; "
	    "ALTER TABLE job_stats DROP COLUMN server; "
	    "ALTER TABLE job_stats DROP COLUMN "
	    "ck_oldest; ALTER TABLE jobs DROP COLUMN "
	    "resnapshot_gen; ALTER TABLE endpoints DROP COLUMN updated_by; "
	    "ALTER TABLE endpoints DROP COLUMN updated_at; "
	    "ALTER TABLE jobs DROP COLUMN "
	    "revision; ALTER TABLE job_objects DROP COLUMN pending; "
	    "DROP TABLE snapshot_gens; "
	    "DROP TABLE snapshot_segments; ALTER TABLE snapshot_progress DROP "
	    "COLUMN done_gen; PRAGMA user_version = 1", NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(db);
	f.s = open_ok(f.path);
	ck_assert_int_eq(peek(f.path, "PRAGMA user_version"), STORE_VERSION);
	ck_assert_int_eq(store_checkpoint_get(f.s, f.job, &cp, &cause), 0);
	ck_assert_uint_eq(cp.pos, 77);
	checkpoint_release(&cp);
	memset(&sg, 0, sizeof sg);
	sg.file = (char *)"b.000004";
	sg.pos = 4;
	ck_assert_int_eq(store_snapshot_gen_add(f.s, f.job, &sg, &gen,
	    &cause), 0);
	ck_assert_int_eq(gen, 1);
	sg.pos = 900;
	sg.gtid = (char *)"0-1-7";
	sg.server_id = 3306;
	ck_assert_int_eq(store_snapshot_gen_add(f.s, f.job, &sg, &gen,
	    &cause), 0);
	ck_assert_int_eq(gen, 2);
	ck_assert_int_eq(store_snapshot_gens(f.s, f.job, &g, &n, &cause), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(g[1].pos, 900);
	ck_assert_str_eq(g[1].gtid, "0-1-7");
	ck_assert_uint_eq(g[1].server_id, 3306);
	ck_assert_ptr_null(g[0].gtid);
	ck_assert_uint_eq(g[0].server_id, 0);
	snapshot_gens_free(g, n);
	{
		struct snapshot_segment	 seg, *segs;
		uint8_t			 hi[3] = { 0x01, 0x00, 0xff };

		memset(&seg, 0, sizeof seg);
		seg.db = (char *)"shop";
		seg.table = (char *)"orders";
		seg.gen = 2;
		seg.target = (char *)"dst";
		seg.part = 3;
		seg.hi = hi;
		seg.hilen = sizeof hi;
		ck_assert_int_eq(store_snapshot_segment_add(f.s, f.job, &seg,
		    &cause), 0);
		ck_assert_int_eq(store_snapshot_segments(f.s, f.job, &segs, &n,
		    &cause), 0);
		ck_assert_uint_eq(n, 1);
		ck_assert_int_eq(segs[0].part, 3);
		ck_assert_uint_eq(segs[0].hilen, 3);
		ck_assert_mem_eq(segs[0].hi, hi, 3);
		snapshot_segments_free(segs, n);
	}
	fixture_close(&f);
}
END_TEST

START_TEST(test_open_newer_schema)
{
	struct store	*s;
	sqlite3		*db;
	char		*path = new_path(), *cause = NULL;

	s = open_ok(path);
	store_close(s);
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, "PRAGMA user_version = 99", NULL,
	    NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	s = store_open(path, &cause);
	ck_assert_ptr_null(s);
	ck_assert_ptr_nonnull(strstr(cause, "schema version 99"));
	ck_assert_ptr_nonnull(strstr(cause, "newer ferry"));
	free(cause);
	ck_assert_int_eq(peek(path, "PRAGMA user_version"), 99);
	free(path);
}
END_TEST

START_TEST(test_open_not_a_database)
{
	struct store	*s;
	struct buf	 before = BUF_INITIALIZER, after = BUF_INITIALIZER;
	char		*path = new_path(), *cause = NULL;
	FILE		*fp;
	int		 i;

	fp = fopen(path, "w");
	for (i = 0; i < 200; i++)
		fprintf(fp, "this is not a database, line %d\n", i);
	fclose(fp);
	ck_assert_int_eq(util_read_file(path, 1 << 20, &before, &cause), 0);
	s = store_open(path, &cause);
	ck_assert_ptr_null(s);
	ck_assert_msg(strstr(cause, path) != NULL, "%s", cause);
	ck_assert_msg(strstr(cause, "not a database") != NULL, "%s", cause);
	free(cause);
	cause = NULL;
	ck_assert_int_eq(util_read_file(path, 1 << 20, &after, &cause), 0);
	ck_assert_uint_eq(before.len, after.len);
	ck_assert_mem_eq(before.data, after.data, before.len);
	buf_release(&before);
	buf_release(&after);
	free(path);
}
END_TEST

START_TEST(test_tenants)
{
	struct store	*s;
	struct tenant	 t, *list;
	char		*path = new_path(), *cause = NULL;
	size_t		 n;

	s = open_ok(path);
	memset(&t, 0, sizeof t);
	t.name = (char *)"acme";
	t.max_jobs = 2;
	t.max_memory = STORE_UNLIMITED;
	t.max_rows_per_sec = 5000;
	ck_assert_int_eq(store_tenant_add(s, &t, &cause), 0);
	ck_assert_int_ne(store_tenant_add(s, &t, &cause), 0);
	ck_assert_msg(strstr(cause, "acme") != NULL, "%s", cause);
	free(cause);
	cause = NULL;
	ck_assert_int_eq(store_tenant_get(s, "acme", &t, &cause), 0);
	ck_assert_int_eq(t.max_jobs, 2);
	ck_assert_int_eq(t.max_rows_per_sec, 5000);
	t.max_jobs = 7;
	ck_assert_int_eq(store_tenant_set(s, &t, &cause), 0);
	tenant_release(&t);
	ck_assert_int_eq(store_tenant_get(s, "acme", &t, &cause), 0);
	ck_assert_int_eq(t.max_jobs, 7);
	tenant_release(&t);
	ck_assert_int_ne(store_tenant_get(s, "nobody", &t, &cause), 0);
	free(cause);
	cause = NULL;
	ck_assert_int_eq(store_tenant_list(s, &list, &n, &cause), 0);
	ck_assert_uint_eq(n, 2);
	tenant_release(&list[0]);
	tenant_release(&list[1]);
	free(list);
	store_close(s);
	free(path);
}
END_TEST

START_TEST(test_endpoints)
{
	struct fixture	 f;
	struct endpoint	 e, *list;
	struct tenant	 t;
	char		*cause = NULL;
	size_t		 n;

	fixture_open(&f);
	/* Duplicate name in one tenant: refused, nothing added. */
	memset(&e, 0, sizeof e);
	e.tenant_id = f.tenant;
	e.name = xstrdup("src");
	e.kind = ENDPOINT_KAFKA;
	e.address = xstrdup("h:1");
	ck_assert_int_ne(store_endpoint_add(f.s, &e, &cause), 0);
	ck_assert_msg(strstr(cause, "already exists") != NULL, "%s", cause);
	free(cause);
	cause = NULL;
	ck_assert_int_eq(peek(f.path, "SELECT count(*) FROM endpoints"), 2);
	/* The same name in another tenant is another endpoint. */
	memset(&t, 0, sizeof t);
	t.name = (char *)"other";
	t.max_jobs = t.max_memory = t.max_rows_per_sec = STORE_UNLIMITED;
	ck_assert_int_eq(store_tenant_add(f.s, &t, &cause), 0);
	ck_assert_int_eq(store_tenant_get(f.s, "other", &t, &cause), 0);
	e.tenant_id = t.id;
	ck_assert_msg(store_endpoint_add(f.s, &e, &cause) == 0, "%s", cause);
	endpoint_release(&e);
	ck_assert_int_eq(store_endpoint_list(f.s, t.id, &list, &n, &cause), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(list[0].kind, ENDPOINT_KAFKA);
	endpoint_release(&list[0]);
	free(list);
	ck_assert_int_eq(store_endpoint_list(f.s, f.tenant, &list, &n,
	    &cause), 0);
	ck_assert_uint_eq(n, 2);
	endpoint_release(&list[0]);
	endpoint_release(&list[1]);
	free(list);
	/* In use by a job: refused, naming the job. */
	ck_assert_int_ne(store_endpoint_rm(f.s, f.tenant, "dst", &cause), 0);
	ck_assert_msg(strstr(cause, "used by job") != NULL, "%s", cause);
	free(cause);
	cause = NULL;
	ck_assert_int_eq(store_job_rm(f.s, f.job, "test", &cause), 0);
	ck_assert_int_eq(store_endpoint_rm(f.s, f.tenant, "dst", &cause), 0);
	ck_assert_int_ne(store_endpoint_get(f.s, f.tenant, "dst", &e, &cause),
	    0);
	free(cause);
	tenant_release(&t);
	fixture_close(&f);
}
END_TEST

/*
 * The state machine, written out from the documented transitions: for
 * every state and action, the state after it, or -1 for a refusal.
 */
static const int expected_transition[JOB_NSTATES][5] = {
	/*		  start		stop		pause		resume		retry */
	[JOB_CREATED]	= { JOB_QUEUED,	-1,		-1,		-1,		-1 },
	[JOB_QUEUED]	= { -1,		JOB_STOPPED,	JOB_PAUSED,	-1,		-1 },
	[JOB_PRECHECKING] = { -1,	JOB_STOPPED,	JOB_PAUSED,	-1,		-1 },
	[JOB_SCHEMA_SYNC] = { -1,	JOB_STOPPED,	JOB_PAUSED,	-1,		-1 },
	[JOB_FULL_SYNC]	= { -1,		JOB_STOPPED,	JOB_PAUSED,	-1,		-1 },
	[JOB_INCREMENTAL] = { -1,	JOB_STOPPED,	JOB_PAUSED,	-1,		-1 },
	[JOB_PAUSED]	= { -1,		JOB_STOPPED,	-1,		JOB_QUEUED,	-1 },
	[JOB_STOPPED]	= { JOB_QUEUED,	-1,		-1,		-1,		-1 },
	[JOB_FAILED]	= { -1,		JOB_STOPPED,	-1,		-1,		JOB_QUEUED },
};

START_TEST(test_transitions)
{
	struct fixture		 f;
	struct job		 j;
	struct job_event	*ev;
	enum job_state		 from;
	char			*cause = NULL;
	size_t			 n, nev_before;
	int			 a;

	fixture_open(&f);
	for (from = 0; from < JOB_NSTATES; from++) {
		for (a = 0; a < 5; a++) {
			ck_assert_int_eq(store_job_set_state(f.s, f.job, from,
			    from == JOB_FAILED ? "boom" : NULL, "test",
			    &cause), 0);
			ck_assert_int_eq(store_log_list(f.s, f.job, &ev,
			    &nev_before, &cause), 0);
			job_event_list_free(ev, nev_before);
			if (store_job_action(f.s, f.job, (enum job_action)a,
			    "alice", &cause) == 0) {
				ck_assert_msg(expected_transition[from][a] >= 0,
				    "%s + action %d was allowed",
				    job_state_name(from), a);
				ck_assert_int_eq(store_job_get(f.s, f.job, &j,
				    &cause), 0);
				ck_assert_msg((int)j.state ==
				    expected_transition[from][a],
				    "%s + action %d -> %s", job_state_name(from),
				    a, job_state_name(j.state));
				/* start and retry clear the error. */
				if (a == JOB_RETRY)
					ck_assert_ptr_null(j.error);
				job_release(&j);
				ck_assert_int_eq(store_log_list(f.s, f.job,
				    &ev, &n, &cause), 0);
				ck_assert_uint_eq(n, nev_before + 1);
				ck_assert_str_eq(ev[n - 1].who, "alice");
				job_event_list_free(ev, n);
			} else {
				ck_assert_msg(expected_transition[from][a] < 0,
				    "%s + action %d refused: %s",
				    job_state_name(from), a, cause);
				/* One sentence naming the state. */
				ck_assert_ptr_nonnull(strstr(cause,
				    job_state_name(from)));
				ck_assert_ptr_null(strchr(cause, '\n'));
				free(cause);
				cause = NULL;
				ck_assert_int_eq(store_job_get(f.s, f.job, &j,
				    &cause), 0);
				ck_assert_int_eq(j.state, from);
				job_release(&j);
				ck_assert_int_eq(store_log_list(f.s, f.job,
				    &ev, &n, &cause), 0);
				ck_assert_uint_eq(n, nev_before);
				job_event_list_free(ev, n);
			}
		}
	}
	/* rm: only created, stopped and failed jobs. */
	ck_assert_int_eq(store_job_set_state(f.s, f.job, JOB_INCREMENTAL, NULL,
	    "test", &cause), 0);
	ck_assert_int_ne(store_job_rm(f.s, f.job, "test", &cause), 0);
	ck_assert_ptr_nonnull(strstr(cause, "stop it first"));
	free(cause);
	cause = NULL;
	ck_assert_int_eq(store_job_set_state(f.s, f.job, JOB_FAILED, "x",
	    "test", &cause), 0);
	ck_assert_int_eq(store_job_rm(f.s, f.job, "test", &cause), 0);
	ck_assert_int_ne(store_job_get(f.s, f.job, &j, &cause), 0);
	free(cause);
	fixture_close(&f);
}
END_TEST

START_TEST(test_quota_and_find)
{
	struct fixture	 f;
	struct tenant	 t;
	struct job	 j;
	char		*cause = NULL;
	int64_t		 id2, id3;

	fixture_open(&f);
	ck_assert_int_eq(store_tenant_get(f.s, "default", &t, &cause), 0);
	t.max_jobs = 2;
	t.max_memory = 64 << 20;
	ck_assert_int_eq(store_tenant_set(f.s, &t, &cause), 0);
	tenant_release(&t);
	id2 = add_job(f.s, f.tenant, "j", f.src, f.dst, &cause);
	ck_assert_int_gt(id2, 0);
	/* Third job: over the quota, nothing written. */
	id3 = add_job(f.s, f.tenant, "k", f.src, f.dst, &cause);
	ck_assert_int_lt(id3, 0);
	ck_assert_msg(strstr(cause, "limit of 2 jobs") != NULL, "%s", cause);
	free(cause);
	cause = NULL;
	ck_assert_int_eq(peek(f.path, "SELECT count(*) FROM jobs"), 2);
	ck_assert_int_eq(peek(f.path, "SELECT count(*) FROM job_objects"), 2);
	/* The job inherited the tenant's memory budget. */
	ck_assert_int_eq(store_job_get(f.s, id2, &j, &cause), 0);
	ck_assert_int_eq(j.max_memory, 64 << 20);
	ck_assert_uint_ge(j.server_id, 0x40000000u);
	job_release(&j);
	/* Two jobs named "j": the name is ambiguous, ids work. */
	ck_assert_int_ne(store_job_find(f.s, f.tenant, "j", &j, &cause), 0);
	ck_assert_msg(strstr(cause, "give the id") != NULL, "%s", cause);
	free(cause);
	cause = NULL;
	ck_assert_int_eq(store_job_find(f.s, f.tenant, "2", &j, &cause), 0);
	ck_assert_int_eq(j.id, id2);
	ck_assert_uint_eq(j.nobjects, 1);
	ck_assert_str_eq(j.objects[0].table, "orders");
	ck_assert_uint_eq(j.ntargets, 1);
	ck_assert_int_eq(j.target_ids[0], f.dst);
	job_release(&j);
	/* Another tenant does not see them, by id or by name. */
	memset(&t, 0, sizeof t);
	t.name = (char *)"other";
	t.max_jobs = t.max_memory = t.max_rows_per_sec = STORE_UNLIMITED;
	ck_assert_int_eq(store_tenant_add(f.s, &t, &cause), 0);
	ck_assert_int_eq(store_tenant_get(f.s, "other", &t, &cause), 0);
	ck_assert_int_ne(store_job_find(f.s, t.id, "2", &j, &cause), 0);
	free(cause);
	cause = NULL;
	ck_assert_int_ne(store_job_find(f.s, t.id, "j", &j, &cause), 0);
	free(cause);
	tenant_release(&t);
	/* The two jobs of one store have distinct replica ids. */
	ck_assert_int_eq(peek(f.path, "SELECT count(DISTINCT server_id) FROM "
	    "jobs"), 2);
	fixture_close(&f);
}
END_TEST

/* The listings (bulk queries) agree with the per-job reads. */
START_TEST(test_lists_agree)
{
	struct fixture		 f;
	struct job		*list, one;
	struct job_progress	*prog;
	struct checkpoint	 cp, got;
	struct job_stats	 js, gst;
	char			*cause = NULL;
	size_t			 n, np, i, k;
	int64_t			 id;

	fixture_open(&f);
	for (i = 0; i < 5; i++) {
		id = add_job(f.s, f.tenant, "more", f.src, f.dst, &cause);
		ck_assert_int_gt(id, 0);
		if (i % 2 == 0) {
			memset(&cp, 0, sizeof cp);
			cp.file = (char *)"b.000007";
			cp.pos = 100 + i;
			cp.gtid = (char *)"0-1-5";
			cp.next_record_id = 9;
			ck_assert_int_eq(store_checkpoint_save(f.s, id, &cp,
			    NULL, 0, &cause), 0);
			memset(&js, 0, sizeof js);
			js.lag_seconds = (int64_t)i;
			js.rows_copied = 10 * (int64_t)i;
			ck_assert_int_eq(store_stats_save(f.s, id, &js, &cause),
			    0);
		}
	}
	ck_assert_int_eq(store_job_list(f.s, f.tenant, &list, &n, &cause), 0);
	ck_assert_int_eq(store_progress_list(f.s, f.tenant, &prog, &np,
	    &cause), 0);
	ck_assert_uint_eq(n, 6);
	ck_assert_uint_eq(np, 6);
	for (i = 0; i < n; i++) {
		ck_assert_int_eq(store_job_get(f.s, list[i].id, &one, &cause),
		    0);
		ck_assert_uint_eq(list[i].ntargets, one.ntargets);
		for (k = 0; k < one.ntargets; k++)
			ck_assert_int_eq(list[i].target_ids[k],
			    one.target_ids[k]);
		ck_assert_uint_eq(list[i].nobjects, one.nobjects);
		for (k = 0; k < one.nobjects; k++) {
			ck_assert_str_eq(list[i].objects[k].db,
			    one.objects[k].db);
			ck_assert_str_eq(list[i].objects[k].table,
			    one.objects[k].table);
		}
		job_release(&one);
		ck_assert_int_eq(prog[i].job_id, list[i].id);
		ck_assert_int_eq(store_checkpoint_get(f.s, list[i].id, &got,
		    &cause), 0);
		ck_assert_int_eq(store_stats_get(f.s, list[i].id, &gst,
		    &cause), 0);
		ck_assert_int_eq(got.file == NULL, prog[i].cp.file == NULL);
		if (got.file != NULL) {
			ck_assert_str_eq(got.file, prog[i].cp.file);
			ck_assert_str_eq(got.gtid, prog[i].cp.gtid);
		}
		ck_assert_uint_eq(got.pos, prog[i].cp.pos);
		ck_assert_int_eq(got.next_record_id, prog[i].cp.next_record_id);
		ck_assert_int_eq(gst.lag_seconds, prog[i].stats.lag_seconds);
		ck_assert_int_eq(gst.rows_copied, prog[i].stats.rows_copied);
		ck_assert_int_eq(gst.updated_at, prog[i].stats.updated_at);
		checkpoint_release(&got);
	}
	job_progress_list_free(prog, np);
	job_list_free(list, n);
	fixture_close(&f);
}
END_TEST

static int
fail_before_schema(const char *point)
{
	return (strcmp(point, "checkpoint-before-schema") == 0);
}

START_TEST(test_checkpoint_atomic)
{
	struct fixture		 f;
	struct checkpoint	 cp, got;
	struct schema_change	 ch;
	char			*cause = NULL, *def;
	int64_t			 version;

	fixture_open(&f);
	ck_assert_int_eq(store_checkpoint_get(f.s, f.job, &got, &cause), 0);
	ck_assert_ptr_null(got.file);
	ck_assert_int_eq(got.next_record_id, 1);
	checkpoint_release(&got);

	memset(&cp, 0, sizeof cp);
	cp.file = (char *)"mysql-bin.000001";
	cp.pos = 4;
	cp.gtid = (char *)"0-1-10";
	cp.next_record_id = 100;
	memset(&ch, 0, sizeof ch);
	ch.db = "shop";
	ch.table = "orders";
	ch.definition = "{\"columns\":[\"id\"]}";
	ch.file = "mysql-bin.000001";
	ch.pos = 4;
	ck_assert_int_eq(store_checkpoint_save(f.s, f.job, &cp, &ch, 1,
	    &cause), 0);

	/* The second save fails between the checkpoint and the schema. */
	cp.pos = 5000;
	cp.gtid = (char *)"0-1-20";
	cp.next_record_id = 200;
	ch.definition = "{\"columns\":[\"id\",\"note\"]}";
	ch.ddl = "ALTER TABLE orders ADD note TEXT";
	ch.pos = 4900;
	store_set_fail_hook(f.s, fail_before_schema);
	ck_assert_int_ne(store_checkpoint_save(f.s, f.job, &cp, &ch, 1,
	    &cause), 0);
	ck_assert_ptr_nonnull(strstr(cause, "checkpoint-before-schema"));
	free(cause);
	cause = NULL;
	store_set_fail_hook(f.s, NULL);
	/* Neither write happened. */
	ck_assert_int_eq(store_checkpoint_get(f.s, f.job, &got, &cause), 0);
	ck_assert_str_eq(got.file, "mysql-bin.000001");
	ck_assert_uint_eq(got.pos, 4);
	ck_assert_str_eq(got.gtid, "0-1-10");
	ck_assert_int_eq(got.next_record_id, 100);
	checkpoint_release(&got);
	ck_assert_int_eq(store_schema_get(f.s, f.job, "shop", "orders", &def,
	    &version, &cause), 0);
	ck_assert_str_eq(def, "{\"columns\":[\"id\"]}");
	ck_assert_int_eq(version, 1);
	free(def);
	ck_assert_int_eq(peek(f.path, "SELECT count(*) FROM schema_history"),
	    1);
	/* Also seen by another connection: nothing half-written. */
	ck_assert_int_eq(peek(f.path, "SELECT binlog_pos FROM checkpoints"), 4);

	/* Without the failure both land, as version 2. */
	ck_assert_int_eq(store_checkpoint_save(f.s, f.job, &cp, &ch, 1,
	    &cause), 0);
	ck_assert_int_eq(store_checkpoint_get(f.s, f.job, &got, &cause), 0);
	ck_assert_uint_eq(got.pos, 5000);
	ck_assert_int_eq(got.next_record_id, 200);
	checkpoint_release(&got);
	ck_assert_int_eq(store_schema_get(f.s, f.job, "shop", "orders", &def,
	    &version, &cause), 0);
	ck_assert_str_eq(def, "{\"columns\":[\"id\",\"note\"]}");
	ck_assert_int_eq(version, 2);
	free(def);
	/* A table never seen has no definition. */
	ck_assert_int_eq(store_schema_get(f.s, f.job, "shop", "none", &def,
	    &version, &cause), 0);
	ck_assert_ptr_null(def);
	ck_assert_int_eq(version, 0);
	fixture_close(&f);
}
END_TEST

/*
 * The schema history of the binlog phase: versions by position, read as of
 * a checkpoint; a DDL's version written once per position (a replay finds
 * it) and filled in later with the definition the next row showed.
 */
START_TEST(test_schema_history)
{
	struct fixture		 f;
	struct schema_change	 ch;
	char			*def, *file, *cause = NULL;
	int64_t			 version;
	uint64_t		 pos;

	fixture_open(&f);
	memset(&ch, 0, sizeof ch);
	ch.db = "shop";
	ch.table = "t";
	ch.definition = "{\"shape\":\"3:0\"}";
	ch.ddl = "CREATE TABLE t (id INT)";
	ch.file = "b.000001";
	ch.pos = 100;
	ck_assert_int_eq(store_schema_add(f.s, f.job, &ch, &cause), 1);
	ch.definition = "{\"pending\":true}";
	ch.ddl = "ALTER TABLE t ADD c INT";
	ch.file = "b.000002";
	ch.pos = 50;
	ck_assert_int_eq(store_schema_add(f.s, f.job, &ch, &cause), 1);
	/* A replay of the same DDL: nothing new. */
	ck_assert_int_eq(store_schema_add(f.s, f.job, &ch, &cause), 0);
	/* Before the ALTER, version 1; at and after it, version 2. */
	ck_assert_int_eq(store_schema_at(f.s, f.job, "shop", "t", "b.000001",
	    999, 0, &def, &version, &file, &pos, &cause), 0);
	ck_assert_int_eq(version, 1);
	ck_assert_str_eq(def, "{\"shape\":\"3:0\"}");
	ck_assert_str_eq(file, "b.000001");
	ck_assert_uint_eq(pos, 100);
	free(def);
	free(file);
	ck_assert_int_eq(store_schema_at(f.s, f.job, "shop", "t", "b.000002",
	    50, 0, &def, &version, &file, &pos, &cause), 0);
	ck_assert_int_eq(version, 2);
	ck_assert_str_eq(def, "{\"pending\":true}");
	free(def);
	free(file);
	ck_assert_int_eq(store_schema_fill(f.s, f.job, "shop", "t", "b.000002",
	    50, "{\"shape\":\"3:0,3:0\"}", &cause), 0);
	ck_assert_int_eq(store_schema_at(f.s, f.job, "shop", "t", "b.000010",
	    4, 0, &def, &version, &file, &pos, &cause), 0);
	ck_assert_int_eq(version, 2);
	ck_assert_str_eq(def, "{\"shape\":\"3:0,3:0\"}");
	free(def);
	free(file);
	/* Before any version, and another table: none. */
	ck_assert_int_eq(store_schema_at(f.s, f.job, "shop", "t", "b.000001",
	    99, 0, &def, &version, &file, &pos, &cause), 0);
	ck_assert_ptr_null(def);
	ck_assert_int_eq(version, 0);
	ck_assert_int_eq(store_schema_at(f.s, f.job, "shop", "u", "b.000009",
	    9, 0, &def, &version, &file, &pos, &cause), 0);
	ck_assert_ptr_null(def);
	fixture_close(&f);
}
END_TEST

/*
 * Positions of several servers (a job that moved between them by GTID):
 * the positions an earlier ferry wrote without a server are claimed by
 * the first server read; versions of another server are older than any
 * position of this one; a move drops the versions the old server recorded
 * past the checkpoint (the new server's binlog makes them again), and a
 * checkpoint names its server.
 */
START_TEST(test_schema_servers)
{
	struct fixture		 f;
	struct schema_change	 ch;
	struct checkpoint	 cp, moved;
	char			*def, *file, *cause = NULL;
	int64_t			 version;
	uint64_t		 pos;

	fixture_open(&f);
	memset(&ch, 0, sizeof ch);
	ch.db = "shop";
	ch.table = "t";
	ch.definition = "{\"shape\":\"3:0\"}";
	ch.file = "a.000009";
	ch.pos = 100;
	ck_assert_int_eq(store_schema_add(f.s, f.job, &ch, &cause), 1);
	memset(&cp, 0, sizeof cp);
	cp.file = (char *)"a.000009";
	cp.pos = 500;
	cp.next_record_id = 10;
	ck_assert_int_eq(store_checkpoint_save(f.s, f.job, &cp, NULL, 0,
	    &cause), 0);
	/* An earlier ferry's: claimed by server 11 at a:3306. */
	ck_assert_int_eq(store_positions_claim(f.s, f.job, 11, "a:3306", NULL,
	    &cause), 0);
	ck_assert_int_eq(store_checkpoint_get(f.s, f.job, &cp, &cause), 0);
	ck_assert_uint_eq(cp.server_id, 11);
	ck_assert_str_eq(cp.server, "a:3306");
	checkpoint_release(&cp);
	/* Server 11 read on past the checkpoint: a DDL at a.000009:900. */
	ch.definition = "{\"pending\":true}";
	ch.pos = 900;
	ch.server_id = 11;
	ck_assert_int_eq(store_schema_add(f.s, f.job, &ch, &cause), 1);
	/* Its positions compare on 11; on 12, every version of 11 is older
	 * (b.000001 sorts before a.000009 as text: no matter). */
	ck_assert_int_eq(store_schema_at(f.s, f.job, "shop", "t", "a.000009",
	    500, 11, &def, &version, &file, &pos, &cause), 0);
	ck_assert_int_eq(version, 1);
	free(def);
	free(file);
	ck_assert_int_eq(store_schema_at(f.s, f.job, "shop", "t", "b.000001",
	    4, 12, &def, &version, &file, &pos, &cause), 0);
	ck_assert_int_eq(version, 2);
	free(def);
	free(file);
	/* The move to 12 from the checkpoint at a.000009:500 of 11: the DDL
	 * 11 recorded past it goes. */
	memset(&moved, 0, sizeof moved);
	moved.file = (char *)"a.000009";
	moved.pos = 500;
	moved.server_id = 11;
	ck_assert_int_eq(store_positions_claim(f.s, f.job, 12, "b:3306",
	    &moved, &cause), 0);
	ck_assert_int_eq(store_schema_at(f.s, f.job, "shop", "t", "b.000001",
	    4, 12, &def, &version, &file, &pos, &cause), 0);
	ck_assert_int_eq(version, 1);
	ck_assert_str_eq(file, "a.000009");
	free(def);
	free(file);
	/* The checkpoint stays 11's (and its address) until one of 12 is
	 * saved, which names 12 when its address is given. */
	ck_assert_int_eq(store_checkpoint_get(f.s, f.job, &cp, &cause), 0);
	ck_assert_uint_eq(cp.server_id, 11);
	ck_assert_str_eq(cp.server, "a:3306");
	checkpoint_release(&cp);
	cp.file = (char *)"b.000001";
	cp.pos = 300;
	cp.next_record_id = 12;
	cp.server_id = 12;
	cp.server = (char *)"b:3306";
	ck_assert_int_eq(store_checkpoint_save(f.s, f.job, &cp, NULL, 0,
	    &cause), 0);
	cp.server = NULL;	/* a later one without it keeps it */
	cp.pos = 400;
	ck_assert_int_eq(store_checkpoint_save(f.s, f.job, &cp, NULL, 0,
	    &cause), 0);
	ck_assert_int_eq(store_checkpoint_get(f.s, f.job, &cp, &cause), 0);
	ck_assert_uint_eq(cp.server_id, 12);
	ck_assert_str_eq(cp.server, "b:3306");
	ck_assert_uint_eq(cp.pos, 400);
	checkpoint_release(&cp);
	fixture_close(&f);
}
END_TEST

START_TEST(test_snapshot_stats_cascade)
{
	struct fixture			 f;
	struct snapshot_progress	 p, *list;
	struct job_stats		 js, got;
	struct checkpoint		 cp;
	char				*cause = NULL;
	size_t				 n;

	fixture_open(&f);
	memset(&p, 0, sizeof p);
	p.db = (char *)"shop";
	p.table = (char *)"orders";
	p.last_key = (char *)"[1000]";
	p.rows_copied = 1000;
	p.rows_estimated = 5000;
	ck_assert_int_eq(store_snapshot_save(f.s, f.job, &p, &cause), 0);
	p.last_key = (char *)"[2000]";
	p.rows_copied = 2000;
	ck_assert_int_eq(store_snapshot_save(f.s, f.job, &p, &cause), 0);
	ck_assert_int_eq(store_snapshot_list(f.s, f.job, &list, &n, &cause),
	    0);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(list[0].last_key, "[2000]");
	ck_assert_int_eq(list[0].rows_copied, 2000);
	ck_assert_int_eq(list[0].done, 0);
	snapshot_list_free(list, n);

	memset(&js, 0, sizeof js);
	js.lag_seconds = 3;
	js.lag_bytes = 4096;
	js.rows_per_sec = 1234.5;
	js.tables_done = 1;
	js.tables_total = 4;
	ck_assert_int_eq(store_stats_save(f.s, f.job, &js, &cause), 0);
	ck_assert_int_eq(store_stats_get(f.s, f.job, &got, &cause), 0);
	ck_assert_int_eq(got.lag_seconds, 3);
	ck_assert_int_eq(got.lag_bytes, 4096);
	ck_assert_double_eq(got.rows_per_sec, 1234.5);
	ck_assert_int_eq(got.tables_total, 4);
	ck_assert_int_gt(got.updated_at, 0);

	memset(&cp, 0, sizeof cp);
	cp.file = (char *)"b.000001";
	cp.pos = 4;
	cp.next_record_id = 1;
	ck_assert_int_eq(store_checkpoint_save(f.s, f.job, &cp, NULL, 0,
	    &cause), 0);
	ck_assert_int_eq(store_lease_acquire(f.s, f.job, "d1", 10000, &cause),
	    0);
	/* A lease is not a reason to keep a stopped job's rows. */
	ck_assert_int_eq(store_lease_release(f.s, f.job, "d1", &cause), 0);
	ck_assert_int_eq(store_job_rm(f.s, f.job, "test", &cause), 0);
	ck_assert_int_eq(peek(f.path, "SELECT (SELECT count(*) FROM "
	    "checkpoints) + (SELECT count(*) FROM snapshot_progress) + "
	    "(SELECT count(*) FROM job_stats) + (SELECT count(*) FROM "
	    "job_events) + (SELECT count(*) FROM job_objects) + (SELECT "
	    "count(*) FROM job_targets) + (SELECT count(*) FROM leases)"), 0);
	/*
	 * The next job made does not get the removed one's id (the highest):
	 * what the removed job's thread still writes while it drains is
	 * refused, not taken for the new job's.
	 */
	{
		int64_t	 again = add_job(f.s, f.tenant, "j", f.src, f.dst,
			    &cause);

		ck_assert_int_gt(again, f.job);
		ck_assert_int_ne(store_checkpoint_save(f.s, f.job, &cp, NULL,
		    0, &cause), 0);
		free(cause);
		cause = NULL;
		ck_assert_int_ne(store_stats_save(f.s, f.job, &js, &cause), 0);
		free(cause);
		cause = NULL;
		ck_assert_int_eq(peek(f.path, "SELECT count(*) FROM "
		    "checkpoints"), 0);
	}
	fixture_close(&f);
}
END_TEST

START_TEST(test_leases)
{
	struct fixture	 f;
	char		*cause = NULL;

	fixture_open(&f);
	ck_assert_int_eq(store_lease_acquire(f.s, f.job, "a", 60000, &cause),
	    0);
	ck_assert_int_eq(store_lease_acquire(f.s, f.job, "b", 60000, &cause),
	    1);
	ck_assert_int_eq(store_lease_acquire(f.s, f.job, "a", 60000, &cause),
	    0);
	/* b cannot release a's lease. */
	ck_assert_int_eq(store_lease_release(f.s, f.job, "b", &cause), 0);
	ck_assert_int_eq(store_lease_acquire(f.s, f.job, "b", 60000, &cause),
	    1);
	ck_assert_int_eq(store_lease_release(f.s, f.job, "a", &cause), 0);
	ck_assert_int_eq(store_lease_acquire(f.s, f.job, "b", 1, &cause), 0);
	/* An expired lease is anyone's. */
	usleep(20 * 1000);
	ck_assert_int_eq(store_lease_acquire(f.s, f.job, "a", 60000, &cause),
	    0);
	fixture_close(&f);
}
END_TEST

/*
 * Two processes write at once, each through its own connection: every
 * write lands (the busy timeout makes writers wait, never fail), and the
 * checkpoint + schema pairs stay paired.
 */
START_TEST(test_concurrent_writers)
{
	struct fixture	 f;
	pid_t		 pid[2];
	int		 i, k, st;
	const int	 rounds = 150;

	fixture_open(&f);
	store_close(f.s);
	for (i = 0; i < 2; i++) {
		pid[i] = fork();
		ck_assert_int_ge(pid[i], 0);
		if (pid[i] == 0) {
			struct store		*s;
			struct checkpoint	 cp;
			struct schema_change	 ch;
			char			*cause = NULL, who[16];
			char			 table[16];

			if ((s = store_open(f.path, &cause)) == NULL)
				_exit(2);
			snprintf(who, sizeof who, "writer%d", i);
			snprintf(table, sizeof table, "t%d", i);
			for (k = 0; k < rounds; k++) {
				if (store_log_add(s, f.job, who, "note", "x",
				    &cause) != 0)
					_exit(3);
				memset(&cp, 0, sizeof cp);
				cp.file = who;
				cp.pos = (uint64_t)k;
				cp.next_record_id = k;
				memset(&ch, 0, sizeof ch);
				ch.db = "db";
				ch.table = table;
				ch.definition = "{}";
				ch.file = who;
				ch.pos = (uint64_t)k;
				if (store_checkpoint_save(s, f.job, &cp, &ch, 1,
				    &cause) != 0)
					_exit(4);
			}
			store_close(s);
			_exit(0);
		}
	}
	for (i = 0; i < 2; i++) {
		ck_assert_int_eq(waitpid(pid[i], &st, 0), pid[i]);
		ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		    "writer %d exited with status %d", i, WEXITSTATUS(st));
	}
	ck_assert_int_eq(peek(f.path, "SELECT count(*) FROM job_events WHERE "
	    "kind = 'note'"), 2 * rounds);
	ck_assert_int_eq(peek(f.path, "SELECT count(*) FROM schema_history"),
	    2 * rounds);
	ck_assert_int_eq(peek(f.path, "SELECT max(version) FROM schema_history "
	    "WHERE tbl = 't0'"), rounds);
	ck_assert_int_eq(peek(f.path, "SELECT max(version) FROM schema_history "
	    "WHERE tbl = 't1'"), rounds);
	/* The last checkpoint is one writer's last. */
	ck_assert_int_eq(peek(f.path, "SELECT binlog_pos FROM checkpoints"),
	    rounds - 1);
	f.s = open_ok(f.path);
	fixture_close(&f);
}
END_TEST

/*
 * Secrets sealed per tenant: under the tenant's own key (made at its first
 * secret, wrapped by the store's), bound to the tenant (another tenant's
 * endpoint cannot open a copied ciphertext); a v1 secret still opens;
 * removing the tenant removes its key (refused while it has endpoints).
 */
START_TEST(test_tenant_keys)
{
	struct fixture	 f;
	struct tenant	 t;
	char		*stored = NULL, *plain = NULL, *cause = NULL, *w1, *w2;
	char		*v1 = NULL;

	fixture_open(&f);
	memset(&t, 0, sizeof t);
	t.name = (char *)"acme";
	t.max_jobs = t.max_memory = t.max_rows_per_sec = -1;
	ck_assert_int_eq(store_tenant_add(f.s, &t, &cause), 0);
	ck_assert_int_eq(store_tenant_get(f.s, "acme", &t, &cause), 0);
	ck_assert_int_eq(secret_seal_for(f.s, t.id, "s3cr3t", &stored,
	    &cause), 0);
	ck_assert_msg(strncmp(stored, "enc:v2:", 7) == 0, "%s", stored);
	ck_assert_ptr_null(strstr(stored, "s3cr3t"));
	ck_assert_str_eq(secret_describe(stored), "encrypted");
	ck_assert_int_eq(store_tenant_key_get(f.s, t.id, &w1, &cause), 0);
	ck_assert_msg(w1 != NULL && strncmp(w1, "wk:v1:", 6) == 0, "%s", w1);
	ck_assert_int_eq(secret_open_for(f.s, t.id, stored, &plain, &cause),
	    0);
	ck_assert_str_eq(plain, "s3cr3t");
	xfree_secret(plain);
	/* The same key the next time (not made again). */
	free(stored);
	ck_assert_int_eq(secret_seal_for(f.s, t.id, "again", &stored,
	    &cause), 0);
	ck_assert_int_eq(store_tenant_key_get(f.s, t.id, &w2, &cause), 0);
	ck_assert_str_eq(w1, w2);
	free(w2);
	/* Another tenant cannot open it, even with the id rewritten. */
	ck_assert_int_ne(secret_open_for(f.s, f.tenant, stored, &plain,
	    &cause), 0);
	ck_assert_ptr_nonnull(strstr(cause, "another tenant's"));
	free(cause);
	cause = NULL;
	{
		char	*moved = xasprintf("enc:v2:%lld:%s",
		    (long long)f.tenant, strchr(stored + 7, ':') + 1);

		ck_assert_int_ne(secret_open_for(f.s, f.tenant, moved, &plain,
		    &cause), 0);
		free(cause);
		cause = NULL;
		free(moved);
	}
	/* v1 (the store's key) still opens for any tenant. */
	ck_assert_int_eq(secret_seal(f.path, "old", &v1, &cause), 0);
	ck_assert_int_eq(secret_open_for(f.s, t.id, v1, &plain, &cause), 0);
	ck_assert_str_eq(plain, "old");
	xfree_secret(plain);
	free(v1);
	/* Removing the tenant: refused while it has an endpoint; then its
	 * key is gone. */
	add_endpoint(f.s, t.id, "e", ENDPOINT_MYSQL);
	ck_assert_int_ne(store_tenant_rm(f.s, "acme", &cause), 0);
	ck_assert_ptr_nonnull(strstr(cause, "remove them first"));
	free(cause);
	cause = NULL;
	ck_assert_int_eq(store_endpoint_rm(f.s, t.id, "e", &cause), 0);
	ck_assert_int_eq(store_tenant_rm(f.s, "acme", &cause), 0);
	ck_assert_int_ne(secret_open_for(f.s, t.id, stored, &plain, &cause),
	    0);
	free(cause);
	cause = NULL;
	ck_assert_int_ne(store_tenant_rm(f.s, "default", &cause), 0);
	free(cause);
	free(w1);
	free(stored);
	tenant_release(&t);
	fixture_close(&f);
}
END_TEST

START_TEST(test_secrets)
{
	struct buf	 raw = BUF_INITIALIZER;
	struct stat	 sb;
	char		*path = new_path(), *key, *stored = NULL, *plain = NULL;
	char		*cause = NULL, *stored2 = NULL, *file;
	FILE		*fp;
	size_t		 i;

	ck_assert_int_eq(secret_seal(path, "pa55-w0rd!", &stored, &cause), 0);
	ck_assert_str_eq(secret_describe(stored), "encrypted");
	ck_assert_ptr_null(strstr(stored, "pa55"));
	key = xasprintf("%s.key", path);
	ck_assert_int_eq(stat(key, &sb), 0);
	ck_assert_int_eq(sb.st_mode & 0777, 0600);
	ck_assert_int_eq(sb.st_size, 32);
	ck_assert_int_eq(secret_open(path, stored, &plain, &cause), 0);
	ck_assert_str_eq(plain, "pa55-w0rd!");
	xfree_secret(plain);
	/* Sealing twice gives two ciphertexts (fresh nonces). */
	ck_assert_int_eq(secret_seal(path, "pa55-w0rd!", &stored2, &cause), 0);
	ck_assert_str_ne(stored, stored2);
	free(stored2);
	/*
	 * Any change to the ciphertext is detected.  The change flips the
	 * top bit of a base64 digit: flipping a low one of the last digit
	 * may touch only the padding bits, which decode to the same bytes.
	 */
	for (i = 7; i < strlen(stored); i += 5) {
		static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "abcdefghijklmnopqrstuvwxyz0123456789+/";
		char	*bad = xstrdup(stored);
		const char *d = strchr(b64, bad[i]);

		bad[i] = d != NULL && *d != '\0' ? b64[(d - b64) ^ 32] : 'A';
		ck_assert_msg(secret_open(path, bad, &plain, &cause) != 0,
		    "tampered at %zu accepted", i);
		free(cause);
		cause = NULL;
		free(bad);
	}
	/* Another key (another store) cannot open it. */
	{
		char	*other = new_path(), *o2 = NULL;

		ck_assert_int_eq(secret_seal(other, "x", &o2, &cause), 0);
		ck_assert_int_ne(secret_open(other, stored, &plain, &cause), 0);
		free(cause);
		cause = NULL;
		free(o2);
		free(other);
	}
	/* The key file is read, not the password, from the store's side. */
	ck_assert_int_eq(util_read_file(key, 1024, &raw, &cause), 0);
	ck_assert_ptr_null(memmem(raw.data, raw.len, "pa55", 4));
	buf_release(&raw);

	/* References. */
	setenv("FERRY_TEST_SECRET_X", "from-env", 1);
	ck_assert_int_eq(secret_reference("env:FERRY_TEST_SECRET_X", &stored2,
	    &cause), 0);
	ck_assert_int_eq(secret_open(path, stored2, &plain, &cause), 0);
	ck_assert_str_eq(plain, "from-env");
	xfree_secret(plain);
	free(stored2);
	file = xasprintf("%s/secret.txt", tmpdir);
	fp = fopen(file, "w");
	fprintf(fp, "from-file\n");
	fclose(fp);
	{
		char	*ref = xasprintf("file:%s", file);

		ck_assert_int_eq(secret_reference(ref, &stored2, &cause), 0);
		free(ref);
	}
	ck_assert_int_eq(secret_open(path, stored2, &plain, &cause), 0);
	ck_assert_str_eq(plain, "from-file");
	xfree_secret(plain);
	free(stored2);
	ck_assert_int_ne(secret_reference("ldap:x", &stored2, &cause), 0);
	free(cause);
	cause = NULL;
	ck_assert_int_ne(secret_reference("file:relative/path", &stored2,
	    &cause), 0);
	free(cause);
	free(file);
	free(key);
	free(stored);
	free(path);
}
END_TEST

static Suite *
store_suite(void)
{
	Suite	*s = suite_create("store");
	TCase	*tc = tcase_create("store");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_open_new);
	tcase_add_test(tc, test_open_empty_file);
	tcase_add_test(tc, test_migrate_from_1);
	tcase_add_test(tc, test_open_newer_schema);
	tcase_add_test(tc, test_open_not_a_database);
	tcase_add_test(tc, test_tenants);
	tcase_add_test(tc, test_endpoints);
	tcase_add_test(tc, test_transitions);
	tcase_add_test(tc, test_quota_and_find);
	tcase_add_test(tc, test_lists_agree);
	tcase_add_test(tc, test_checkpoint_atomic);
	tcase_add_test(tc, test_schema_history);
	tcase_add_test(tc, test_schema_servers);
	tcase_add_test(tc, test_snapshot_stats_cascade);
	tcase_add_test(tc, test_leases);
	tcase_add_test(tc, test_concurrent_writers);
	tcase_add_test(tc, test_secrets);
	tcase_add_test(tc, test_tenant_keys);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	char	 cmd[64];
	int	 rc;

	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return (TESTUTIL_ERROR);
	}
	rc = testutil_run(store_suite());
	snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
	return (rc);
}
