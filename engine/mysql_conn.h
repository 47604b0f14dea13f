/*
 * Connections to MySQL and MariaDB servers through Connector/C.
 */
#ifndef FERRY_ENGINE_MYSQL_CONN_H
#define FERRY_ENGINE_MYSQL_CONN_H

#include <mysql.h>

/* One server of an endpoint that names several. */
struct mysql_host {
	char		*host;
	unsigned int	 port;
};

struct mysql_conn_opts {
	char		*host;		/* the server to connect to */
	unsigned int	 port;		/* 3306 when the URL has none */
	struct mysql_host *hosts;	/* every server the endpoint names, in
					   order (host, port: one of them);
					   NULL when it names one */
	size_t		 nhosts;
	char		*socket;	/* Unix socket; NULL for TCP */
	char		*user;
	char		*password;	/* NULL: no password */
	char		*database;	/* NULL: none */
	int		 tls;		/* 1: require TLS and verify the server */
	char		*tls_ca;	/* CA file for verification, or NULL */
	int		 confined;	/* a tenant's: the network policy
					   (engine/netpolicy.c) applies */
	unsigned int	 connect_timeout;	/* seconds */
	unsigned int	 read_timeout;		/* seconds; 0: none */
	unsigned long	 max_packet;		/* bytes; 0: the default */
};

void	 mysql_conn_opts_init(struct mysql_conn_opts *);
void	 mysql_conn_opts_release(struct mysql_conn_opts *);
int	 mysql_conn_opts_from_url(struct mysql_conn_opts *, const char *,
	    char **);
void	 mysql_conn_opts_pick(struct mysql_conn_opts *, size_t);
char	*mysql_conn_describe(const struct mysql_conn_opts *);
char	*mysql_conn_address(const struct mysql_conn_opts *);
MYSQL	*mysql_conn_open(const struct mysql_conn_opts *, char **);
char	*mysql_conn_error(MYSQL *, const char *);
int	 mysql_conn_query_string(MYSQL *, const char *, char **, char **);

/*
 * A connection opened when first needed and kept until closed (the binlog
 * phase's second connection: definitions, SHOW BINARY LOGS).  opts is
 * borrowed; read_timeout bounds how long a query may wait for the
 * server (a server that stops answering must not hold the job for
 * ever).
 */
struct mysql_lazy {
	const struct mysql_conn_opts	*opts;
	unsigned int			 read_timeout;	/* seconds; 0: opts' */
	MYSQL				*m;
};

MYSQL	*mysql_lazy_get(struct mysql_lazy *, char **);
void	 mysql_lazy_close(struct mysql_lazy *);

#endif
