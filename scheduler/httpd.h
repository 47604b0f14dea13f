/*
 * A small HTTP/1.1 server with limits, for the daemon's listeners
 * (scheduler/httpd.c).
 */
#ifndef FERRY_SCHEDULER_HTTPD_H
#define FERRY_SCHEDULER_HTTPD_H

#include <stddef.h>

#include <event2/event.h>
#include <openssl/ssl.h>

struct httpd;
struct httpd_conn;

struct httpd_opts {
	size_t		 max_conns;	/* at once */
	size_t		 max_per_addr;	/* at once from one address */
	size_t		 max_header;	/* bytes of a request's head */
	size_t		 max_body;	/* bytes of a request's body */
	int		 read_timeout;	/* seconds for a whole request */
	int		 write_timeout;	/* seconds for the reply */
	SSL_CTX		*tls;		/* NULL: plain HTTP (borrowed) */
};

struct httpd_req {
	struct httpd_conn	*conn;	/* NULL once the client is gone */
	char			 method[8];
	char			*path;
	char			*query;	/* after '?', or NULL */
	struct {
		char	*name;
		char	*value;
	}			*hdrs;
	size_t			 nhdrs;
	char			*body;	/* NUL-terminated, bodylen bytes */
	size_t			 bodylen;
	char			 peer[46];
};

typedef void (*httpd_cb)(struct httpd_req *, void *);

void	 httpd_opts_init(struct httpd_opts *);
int	 httpd_split(const char *, char **, unsigned int *, char **);
struct httpd *httpd_new(struct event_base *, const char *,
	    const struct httpd_opts *, httpd_cb, void *, char **);
void	 httpd_free(struct httpd *);
size_t	 httpd_connections(const struct httpd *);
const char *httpd_header(const struct httpd_req *, const char *);
void	 httpd_reply(struct httpd_req *, int, const char *, const char *,
	    const void *, size_t);
SSL_CTX	*httpd_tls_new(const char *, const char *, char **);

#endif
