/*
 * The source's servers: which one of those an endpoint names an attempt
 * reads, and whether a job may move to it by GTID (engine/source.c).
 */
#ifndef FERRY_ENGINE_SOURCE_H
#define FERRY_ENGINE_SOURCE_H

#include <mysql.h>
#include <stdint.h>

#include "engine/jobctx.h"
#include "engine/mysql_conn.h"
#include "engine/watermark.h"

MYSQL	*source_open(struct jobctx *, struct mysql_conn_opts *,
	    struct watermark *, uint32_t, char **);
int	 source_check_written(struct jobctx *, struct watermark *,
	    const struct mysql_conn_opts *, int64_t, char **);
int	 source_gtid_state(MYSQL *, int, char **, char **);

#endif
