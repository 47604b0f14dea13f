/*
 * Endpoint addresses: "scheme://user@host:port[,host:port...]/path?k=v&..."
 * and
 * Kafka bootstrap lists "host:port[,host:port...]".
 */
#ifndef FERRY_COMMON_URL_H
#define FERRY_COMMON_URL_H

#include <stddef.h>

struct url_param {
	char	*key;
	char	*value;
};

struct url_host {
	char			*host;		/* without [] for IPv6 */
	unsigned int		 port;		/* 0 when absent */
};

struct url {
	char			*scheme;
	char			*user;		/* NULL when absent */
	char			*host;		/* without [] for IPv6 */
	unsigned int		 port;		/* 0 when absent */
	struct url_host		*hosts;		/* "h1:p1,h2:p2": each, in
						   order (host, port: the
						   first); NULL for one */
	size_t			 nhosts;
	char			*path;		/* without the leading '/'; NULL when absent */
	struct url_param	*params;
	size_t			 nparams;
};

struct url	*url_parse(const char *, char **);
void		 url_free(struct url *);
const char	*url_param(const struct url *, const char *);
int		 url_check_hostport_list(const char *, char **);

#endif
