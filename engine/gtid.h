/*
 * GTID sets as users write them: MySQL "uuid:1-5:7[:tag:1-3],uuid2:..." and
 * MariaDB "domain-server-seq[,...]".
 */
#ifndef FERRY_ENGINE_GTID_H
#define FERRY_ENGINE_GTID_H

#include <stddef.h>
#include <stdint.h>

struct buf;

int	 gtid_mysql_encode(const char *, struct buf *, char **);
int	 gtid_mariadb_check(const char *, char **);

#endif
