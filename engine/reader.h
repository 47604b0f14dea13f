/*
 * The shared binlog reader: one replication connection per source server
 * for every job of the daemon that reads it, each job a subscriber with
 * a queue of its own (DESIGN.md §4).
 */
#ifndef FERRY_ENGINE_READER_H
#define FERRY_ENGINE_READER_H

#include <stddef.h>
#include <stdint.h>

#include "engine/binlog_client.h"
#include "engine/mysql_conn.h"

/* What makes two jobs' streams one: the same tenant, the same server (its
 * server_id at the same address) through the same account and TLS, and
 * the same heartbeat period. */
struct reader_want {
	int64_t				 tenant_id;
	const struct mysql_conn_opts	*conn;	/* the server picked */
	uint32_t			 source_id;	/* its server_id */
	unsigned int			 heartbeat_ms;
};

struct reader_sub;

/* Whether a job carries db.table: the events of other tables' rows are not
 * given to it.  Called on the reader's thread. */
typedef int (*reader_filter_cb)(void *, const char *, const char *);

struct reader_sub *reader_attach(const struct reader_want *, const char *,
	    uint64_t, reader_filter_cb, void *, int *);
struct reader_sub *reader_start(const struct reader_want *,
	    const struct binlog_client_opts *, reader_filter_cb, void *,
	    enum binlog_client_error *, char **);
int	 reader_sub_next(struct reader_sub *, int, const uint8_t **, size_t *,
	    uint64_t *, const char **, enum binlog_client_error *, char **);
int	 reader_sub_wait(struct reader_sub *, int);
int	 reader_sub_checksum(const struct reader_sub *);
int	 reader_sub_mariadb(const struct reader_sub *);
int	 reader_sub_detached(const struct reader_sub *);
int	 reader_sub_peers(struct reader_sub *);
void	 reader_leave(struct reader_sub *);
char	*reader_alone(const struct reader_want *, char *, int, int *);
int	 reader_alone_count(const struct reader_want *);
uint32_t reader_server_id(uint32_t);
void	 reader_shutdown(void);

#endif
