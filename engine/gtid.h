/*
 * GTIDs: MySQL sets "uuid:1-5:7[:tag:1-3],uuid2:..." and MariaDB positions
 * "domain-server-seq[,...]", as text, in MySQL's binary form, and as the
 * state a job keeps of its source (engine/gtid.c).
 */
#ifndef FERRY_ENGINE_GTID_H
#define FERRY_ENGINE_GTID_H

#include <stddef.h>
#include <stdint.h>

struct buf;

enum {
	GTID_NONE = 0,
	GTID_MARIADB,
	GTID_MYSQL,
};

/* A MariaDB GTID position: the last GTID of each domain, by domain. */
struct gtid_pos {
	struct {
		uint32_t	 domain;
		uint32_t	 server;
		uint64_t	 seq;
	}		*v;
	size_t		 n;
};

/* A MySQL GTID set: [start, end) intervals per (uuid, tag), sorted,
 * merged. */
struct gtid_set_entry {
	uint8_t		 uuid[16];
	char		 tag[33];	/* "" when untagged */
	uint64_t	(*iv)[2];
	size_t		 niv;
};

struct gtid_set {
	struct gtid_set_entry	*e;	/* by uuid, then tag */
	size_t			 n;
};

/* A source's GTID state: one of the two. */
struct gtid_state {
	int		 flavour;	/* GTID_NONE: nothing yet */
	struct gtid_pos	 pos;
	struct gtid_set	 set;
};

/* One transaction's GTID: MariaDB domain-server-seq, or MySQL
 * uuid[:tag]:gno (gno in seq). */
struct gtid_one {
	int		 flavour;
	uint32_t	 domain;
	uint32_t	 server;
	uint64_t	 seq;
	uint8_t		 uuid[16];
	char		 tag[33];
};

int	 gtid_mysql_encode(const char *, struct buf *, char **);
int	 gtid_mariadb_check(const char *, char **);

void	 gtid_set_init(struct gtid_set *);
void	 gtid_set_release(struct gtid_set *);
int	 gtid_set_parse(struct gtid_set *, const char *, char **);
void	 gtid_set_add(struct gtid_set *, const uint8_t [16], const char *,
	    uint64_t);
int	 gtid_set_contains(const struct gtid_set *, const struct gtid_set *);
char	*gtid_set_text(const struct gtid_set *);
void	 gtid_set_encode(const struct gtid_set *, struct buf *);

void	 gtid_pos_init(struct gtid_pos *);
void	 gtid_pos_release(struct gtid_pos *);
void	 gtid_pos_update(struct gtid_pos *, uint32_t, uint32_t, uint64_t);
int	 gtid_pos_parse(struct gtid_pos *, const char *, char **);
int	 gtid_pos_contains(const struct gtid_pos *, const struct gtid_pos *);
char	*gtid_pos_text(const struct gtid_pos *);

void	 gtid_state_init(struct gtid_state *);
void	 gtid_state_release(struct gtid_state *);
int	 gtid_state_parse(struct gtid_state *, const char *, int, char **);
void	 gtid_state_add(struct gtid_state *, const struct gtid_one *);
int	 gtid_state_contains(const struct gtid_state *,
	    const struct gtid_state *);
char	*gtid_state_text(const struct gtid_state *);
char	*gtid_one_text(const struct gtid_one *);

#endif
