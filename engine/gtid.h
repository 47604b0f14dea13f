/*
 * GTID sets as users write them: MySQL "uuid:1-5:7[:tag:1-3],uuid2:..." and
 * MariaDB "domain-server-seq[,...]".
 */
#ifndef FERRY_ENGINE_GTID_H
#define FERRY_ENGINE_GTID_H

#include <stddef.h>
#include <stdint.h>

struct buf;

/* A MariaDB GTID position: the last GTID of each domain, by domain. */
struct gtid_pos {
	struct {
		uint32_t	 domain;
		uint32_t	 server;
		uint64_t	 seq;
	}		*v;
	size_t		 n;
};

int	 gtid_mysql_encode(const char *, struct buf *, char **);
int	 gtid_mariadb_check(const char *, char **);
void	 gtid_pos_init(struct gtid_pos *);
void	 gtid_pos_release(struct gtid_pos *);
void	 gtid_pos_update(struct gtid_pos *, uint32_t, uint32_t, uint64_t);
int	 gtid_pos_parse(struct gtid_pos *, const char *, char **);
char	*gtid_pos_text(const struct gtid_pos *);

#endif
