/*
 * The engine's door to the job store.
 *
 * A running job reads its definition and writes its checkpoints, snapshot
 * progress, schema history, job log and statistics, and nothing else of
 * the store, through these calls.  The engine declares them; the scheduler
 * implements them (scheduler/store_door.c, over its SQLite store) and hands
 * sync_job_start() the function that opens one door per job thread.  So
 * the engine never includes scheduler/, and the dependency runs one way:
 * cli -> scheduler -> engine -> schema -> common.
 *
 * The records that cross the door (checkpoint, schema change, snapshot
 * progress, generation, segment, statistics) are defined here, where the
 * engine that makes them lives; scheduler/store.h includes this header.
 */
#ifndef FERRY_ENGINE_JOBSTORE_H
#define FERRY_ENGINE_JOBSTORE_H

#include <stddef.h>
#include <stdint.h>

/* A table, or every table of a database, that a job carries. */
struct job_object {
	char		*db;
	char		*table;		/* "*": every table of db */
	int		 pending;	/* added; its tables not yet copied */
};

struct checkpoint {
	char		*file;		/* binlog file, NULL: none yet */
	uint64_t	 pos;
	char		*gtid;		/* GTID set or position, NULL: none */
	int64_t		 next_record_id;
	int64_t		 updated_at;
	uint32_t	 server_id;	/* whose binlog file is; 0: unknown */
	char		*server;	/* its address (read only), or NULL */
};

/* A table's definition as of a binlog position. */
struct schema_change {
	const char	*db;
	const char	*table;
	const char	*definition;	/* JSON */
	const char	*ddl;		/* what made it, or NULL */
	const char	*file;
	uint64_t	 pos;
	uint32_t	 server_id;	/* whose binlog file is (the door
					   sets it); 0: unknown */
};

struct snapshot_progress {
	char		*db;
	char		*table;
	char		*last_key;	/* where the next read starts, or NULL */
	int64_t		 rows_copied;
	int64_t		 rows_estimated;
	int		 done;
	int		 done_gen;	/* the generation that finished it */
};

/* An attempt at the initial sync: its snapshot's binlog position, of
 * server server_id (0: unknown), and the GTID state there (NULL:
 * unknown). */
struct snapshot_gen {
	int		 gen;
	char		*file;
	uint64_t	 pos;
	char		*gtid;
	uint32_t	 server_id;
};

/* Rows of db.table up to key hi that generation gen wrote to a partition. */
struct snapshot_segment {
	char		*db;
	char		*table;
	int		 gen;
	char		*target;	/* endpoint name */
	int32_t		 part;
	uint8_t		*hi;
	size_t		 hilen;
};

/* "host:port (server_id N)", with room for an IPv6 address. */
#define JOB_SERVER_LEN	160

struct job_stats {
	int64_t		 lag_seconds;	/* -1: unknown */
	int64_t		 lag_bytes;
	double		 rows_per_sec;
	int64_t		 tables_done;
	int64_t		 tables_total;
	int64_t		 rows_copied;
	int64_t		 rows_estimated;
	int64_t		 updated_at;
	int		 ck_oldest;	/* the checkpoint is in the source's
					   oldest binlog, newer ones exist */
	int64_t		 throttled_ms;	/* waited for the tenant's rows/s */
	int		 reader_jobs;	/* on the shared binlog reader: how
					   many jobs read there; 0: its own
					   connection */
	char		 server[JOB_SERVER_LEN];	/* the server read: "host:port
					   (server_id N)"; "" unknown */
};

/* The phases a job's thread moves it through (the store's states). */
enum job_phase {
	JOB_PHASE_PRECHECKING,
	JOB_PHASE_SCHEMA_SYNC,
	JOB_PHASE_FULL_SYNC,
	JOB_PHASE_INCREMENTAL,
};

void	 checkpoint_release(struct checkpoint *);
void	 snapshot_list_free(struct snapshot_progress *, size_t);
void	 snapshot_gen_release(struct snapshot_gen *);
void	 snapshot_gens_free(struct snapshot_gen *, size_t);
void	 snapshot_segments_free(struct snapshot_segment *, size_t);

struct job_spec;
struct jobstore;

/*
 * Each call returns 0, or -1 with *cause (allocated), unless it says
 * otherwise.  All run on the job's thread, on the door it opened.
 */
struct jobstore_ops {
	void	(*close)(struct jobstore *);
	/* The job as it runs: definition, endpoints (secrets opened),
	 * options parsed.  *permanent: retrying cannot help. */
	int	(*load)(struct jobstore *, struct job_spec *, int *, char **);
	/* Move the job to a phase: 0, 1 when the user moved it meanwhile
	 * (paused, stopped, removed: the attempt ends), -1. */
	int	(*advance)(struct jobstore *, enum job_phase, char **);
	/* The precheck passed. */
	int	(*prechecked)(struct jobstore *, char **);
	int	(*fail)(struct jobstore *, const char *, char **);
	/* A transient failure: retried at the time given (ms since the
	 * epoch), with the error. */
	int	(*retry_at)(struct jobstore *, int64_t, const char *, char **);
	/* An entry in the job log: its kind and message. */
	int	(*log)(struct jobstore *, const char *, const char *, char **);
	/*
	 * The attempt reads server server_id at addr.  Positions the store
	 * has of no server (an earlier ferry's) become this one's.  moved:
	 * the checkpoint cp is another server's and the job goes on here by
	 * GTID; the schema versions that server recorded past cp go (this
	 * server's binlog makes them again, at its own positions).  Schema
	 * versions and generations written from now on are this server's.
	 */
	int	(*reading)(struct jobstore *, uint32_t, const char *,
		    const struct checkpoint *, char **);
	int	(*checkpoint_get)(struct jobstore *, struct checkpoint *, char **);
	/* The checkpoint and the schema history it passes, in one
	 * transaction. */
	int	(*checkpoint_save)(struct jobstore *, const struct checkpoint *,
		    const struct schema_change *, size_t, char **);
	/* A table's definition as of file:pos (of the server read now;
	 * versions of other servers are older): definition, version, and
	 * the DDL's position that made it. */
	int	(*schema_at)(struct jobstore *, const char *, const char *,
		    const char *, uint64_t, char **, int64_t *, char **,
		    uint64_t *, char **);
	int	(*schema_fill)(struct jobstore *, const char *, const char *,
		    const char *, uint64_t, const char *, char **);
	/* 1 when a version was written, 0 when it was there, -1. */
	int	(*schema_add)(struct jobstore *, const struct schema_change *,
		    char **);
	int	(*progress_save)(struct jobstore *,
		    const struct snapshot_progress *, char **);
	int	(*progress_list)(struct jobstore *, struct snapshot_progress **,
		    size_t *, char **);
	/* A new generation at a snapshot (file, pos, gtid; the server read
	 * now): *gen is its number. */
	int	(*gen_add)(struct jobstore *, const struct snapshot_gen *, int *,
		    char **);
	int	(*gens)(struct jobstore *, struct snapshot_gen **, size_t *,
		    char **);
	int	(*segment_add)(struct jobstore *,
		    const struct snapshot_segment *, char **);
	int	(*segments)(struct jobstore *, struct snapshot_segment **,
		    size_t *, char **);
	/* The added objects are copied: no longer pending. */
	int	(*objects_copied)(struct jobstore *, const struct job_object *,
		    size_t, char **);
	int	(*stats_save)(struct jobstore *, const struct job_stats *,
		    char **);
	int	(*stats_get)(struct jobstore *, struct job_stats *, char **);
};

/* What the scheduler's door starts with (its own state follows). */
struct jobstore {
	const struct jobstore_ops *ops;
};

/*
 * Opens the door of job id on the calling thread (the job's): returns it,
 * or NULL with *cause.  arg is what was given to sync_job_start().
 */
typedef struct jobstore *(*jobstore_open_cb)(void *, int64_t, char **);

#endif
