/*
 * Connections to MySQL and MariaDB servers through Connector/C.
 */
#ifndef FERRY_ENGINE_MYSQL_CONN_H
#define FERRY_ENGINE_MYSQL_CONN_H

#include <mysql.h>

struct mysql_conn_opts {
	char		*host;
	unsigned int	 port;		/* 3306 when the URL has none */
	char		*socket;	/* Unix socket; NULL for TCP */
	char		*user;
	char		*password;	/* NULL: no password */
	char		*database;	/* NULL: none */
	int		 tls;		/* 1: require TLS and verify the server */
	char		*tls_ca;	/* CA file for verification, or NULL */
	unsigned int	 connect_timeout;	/* seconds */
	unsigned int	 read_timeout;		/* seconds; 0: none */
	unsigned long	 max_packet;		/* bytes; 0: the default */
};

void	 mysql_conn_opts_init(struct mysql_conn_opts *);
void	 mysql_conn_opts_release(struct mysql_conn_opts *);
int	 mysql_conn_opts_from_url(struct mysql_conn_opts *, const char *,
	    char **);
char	*mysql_conn_describe(const struct mysql_conn_opts *);
MYSQL	*mysql_conn_open(const struct mysql_conn_opts *, char **);
char	*mysql_conn_error(MYSQL *, const char *);
int	 mysql_conn_query_string(MYSQL *, const char *, char **, char **);

/*
 * A connection opened when first needed and kept until closed (the binlog
 * phase's second connection: definitions, SHOW BINARY LOGS).  opts is
 * borrowed.
 */
struct mysql_lazy {
	const struct mysql_conn_opts	*opts;
	MYSQL				*m;
};

MYSQL	*mysql_lazy_get(struct mysql_lazy *, char **);
void	 mysql_lazy_close(struct mysql_lazy *);

#endif
