/*
 * What an account may do, from the lines SHOW GRANTS prints (MySQL and
 * MariaDB): the privileges ferry needs, at the levels they were granted
 * (global, a database or a database pattern, a table).  The precheck reads
 * them (engine/precheck.c).
 */
#ifndef FERRY_ENGINE_GRANTS_H
#define FERRY_ENGINE_GRANTS_H

#include <stddef.h>

/* The privileges ferry looks for. */
#define GRANT_SELECT		0x01u
#define GRANT_RELOAD		0x02u
#define GRANT_LOCK_TABLES	0x04u
#define GRANT_REPL_SLAVE	0x08u
#define GRANT_REPL_CLIENT	0x10u	/* or BINLOG MONITOR (MariaDB 10.5) */
#define GRANT_SHOW_VIEW		0x20u
#define GRANT_SUPER		0x40u
#define GRANT_ALL		0x7fu

struct grant {
	unsigned int	 privs;
	char		*db;		/* NULL: every database (*.*) */
	char		*table;		/* NULL: every table of db */
};

struct grants {
	struct grant	*list;
	size_t		 n;
	char		**roles;	/* granted roles (GRANT r TO ...) */
	size_t		 nroles;
};

void	 grants_init(struct grants *);
void	 grants_release(struct grants *);
int	 grants_add_line(struct grants *, const char *);
int	 grants_allow(const struct grants *, unsigned int, const char *,
	    const char *);

#endif
