/*
 * A replication client: ferry registers with a MySQL or MariaDB server as
 * a replica and receives its binlog as raw events.
 */
#ifndef FERRY_ENGINE_BINLOG_CLIENT_H
#define FERRY_ENGINE_BINLOG_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "engine/mysql_conn.h"

enum binlog_client_error {
	BINLOG_CLIENT_OK = 0,
	BINLOG_CLIENT_TRANSIENT,	/* network, server restart: retry */
	BINLOG_CLIENT_PURGED,		/* the position is no longer there */
	BINLOG_CLIENT_AUTH,		/* credentials or privileges */
	BINLOG_CLIENT_FATAL,		/* anything else the server refused */
	BINLOG_CLIENT_STOPPED,		/* binlog_client_stop() was called */
	BINLOG_CLIENT_ID_IN_USE,	/* a replica has our server_id: another
					   client, or our own previous connection
					   that the server has not dropped yet */
};

struct binlog_client_opts {
	struct mysql_conn_opts	 conn;
	uint32_t		 server_id;	/* ours, as a replica */
	char			*file;		/* start: file and position, */
	uint64_t		 pos;
	char			*gtid;		/* or a GTID set/position */
	unsigned int		 heartbeat_ms;	/* 0: none */
	int			 nonblocking;	/* end at the end of the binlog */
};

struct binlog_client;

void	 binlog_client_opts_init(struct binlog_client_opts *);
void	 binlog_client_opts_release(struct binlog_client_opts *);
struct binlog_client *binlog_client_open(const struct binlog_client_opts *,
	    enum binlog_client_error *, char **);
int	 binlog_client_next(struct binlog_client *, const uint8_t **, size_t *,
	    uint64_t *, enum binlog_client_error *, char **);
int	 binlog_client_wait(struct binlog_client *, int);
int	 binlog_client_checksum(const struct binlog_client *);
int	 binlog_client_mariadb(const struct binlog_client *);
const char *binlog_client_file(const struct binlog_client *);
void	 binlog_client_stop(struct binlog_client *);
void	 binlog_client_close(struct binlog_client *);

#endif
