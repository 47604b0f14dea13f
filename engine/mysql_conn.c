/*
 * Opening connections to the source (and, later, target) databases.
 *
 * Connector/C does the handshake, TLS and every authentication plugin it
 * knows; this file turns ferry's endpoint description into its options and
 * its failures into sentences a user can act on ("access denied for user
 * 'repl': check the password file"), always with the server's own error
 * code and text.  The password never reaches a log or an error message.
 */
#include "config.h"

#include <sys/socket.h>

#include <errmsg.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <mysqld_error.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/url.h"
#include "common/xmalloc.h"
#include "engine/mysql_conn.h"
#include "engine/netpolicy.h"

#define MYSQL_CONN_DEFAULT_PORT		3306
#define MYSQL_CONN_CONNECT_TIMEOUT	10

void
mysql_conn_opts_init(struct mysql_conn_opts *o)
{
	memset(o, 0, sizeof *o);
	o->port = MYSQL_CONN_DEFAULT_PORT;
	o->connect_timeout = MYSQL_CONN_CONNECT_TIMEOUT;
}

void
mysql_conn_opts_release(struct mysql_conn_opts *o)
{
	size_t	 i;

	free(o->host);
	for (i = 0; i < o->nhosts; i++)
		free(o->hosts[i].host);
	free(o->hosts);
	free(o->socket);
	free(o->user);
	xfree_secret(o->password);
	free(o->database);
	free(o->tls_ca);
	mysql_conn_opts_init(o);
}

/*
 * Fill o from "mysql://USER@HOST[:PORT][,HOST[:PORT]...][/DB][?tls=1&
 * tls-ca=F&socket=PATH]" (scheme "mariadb" too): several hosts are the
 * servers of one replication topology, the first the one to read first
 * (engine/source.c moves a job between them by GTID).  The password
 * comes separately.
 */
int
mysql_conn_opts_from_url(struct mysql_conn_opts *o, const char *s,
    char **cause)
{
	struct url	*u;
	const char	*v;
	char		*why;
	size_t		 i;

	if ((u = url_parse(s, &why)) == NULL) {
		*cause = xasprintf("invalid MySQL URL: %s", why);
		free(why);
		return (-1);
	}
	if (strcmp(u->scheme, "mysql") != 0 &&
	    strcmp(u->scheme, "mariadb") != 0) {
		*cause = xasprintf("invalid MySQL URL '%s': the scheme must be "
		    "mysql://", s);
		goto fail;
	}
	if (u->user == NULL) {
		*cause = xasprintf("invalid MySQL URL '%s': no user (expected "
		    "mysql://USER@HOST:PORT)", s);
		goto fail;
	}
	for (i = 0; i < u->nparams; i++) {
		if (strcmp(u->params[i].key, "tls") != 0 &&
		    strcmp(u->params[i].key, "tls-ca") != 0 &&
		    strcmp(u->params[i].key, "socket") != 0 &&
		    strcmp(u->params[i].key, "connect-timeout") != 0) {
			*cause = xasprintf("invalid MySQL URL '%s': unknown "
			    "parameter '%s' (known: tls, tls-ca, socket, "
			    "connect-timeout)", s, u->params[i].key);
			goto fail;
		}
	}
	if (u->nhosts > 1 && url_param(u, "socket") != NULL) {
		*cause = xasprintf("invalid MySQL URL '%s': a socket names one "
		    "server, not several", s);
		goto fail;
	}
	mysql_conn_opts_release(o);
	o->host = xstrdup(u->host);
	if (u->port != 0)
		o->port = u->port;
	if (u->nhosts > 1) {
		o->hosts = xcalloc(u->nhosts, sizeof *o->hosts);
		for (i = 0; i < u->nhosts; i++) {
			o->hosts[i].host = xstrdup(u->hosts[i].host);
			o->hosts[i].port = u->hosts[i].port != 0 ?
			    u->hosts[i].port : MYSQL_CONN_DEFAULT_PORT;
		}
		o->nhosts = u->nhosts;
	}
	o->user = xstrdup(u->user);
	if (u->path != NULL)
		o->database = xstrdup(u->path);
	if ((v = url_param(u, "tls")) != NULL) {
		if (strcmp(v, "1") == 0 || strcmp(v, "true") == 0 ||
		    strcmp(v, "") == 0)
			o->tls = 1;
		else if (strcmp(v, "0") != 0 && strcmp(v, "false") != 0) {
			*cause = xasprintf("invalid MySQL URL '%s': tls must "
			    "be 1 or 0", s);
			goto fail;
		}
	}
	if ((v = url_param(u, "tls-ca")) != NULL) {
		o->tls_ca = xstrdup(v);
		o->tls = 1;
	}
	if ((v = url_param(u, "socket")) != NULL)
		o->socket = xstrdup(v);
	if ((v = url_param(u, "connect-timeout")) != NULL) {
		char	*end;
		long	 t = strtol(v, &end, 10);

		if (*v == '\0' || *end != '\0' || t < 1 || t > 3600) {
			*cause = xasprintf("invalid MySQL URL '%s': "
			    "connect-timeout must be 1 to 3600 seconds", s);
			goto fail;
		}
		o->connect_timeout = (unsigned int)t;
	}
	url_free(u);
	return (0);
fail:
	url_free(u);
	return (-1);
}

/* Connect to the i-th server the endpoint names (of o->nhosts). */
void
mysql_conn_opts_pick(struct mysql_conn_opts *o, size_t i)
{
	if (i >= o->nhosts)
		return;
	free(o->host);
	o->host = xstrdup(o->hosts[i].host);
	o->port = o->hosts[i].port;
}

/* The server connected to, as the endpoint names it: "host:port" (IPv6
 * in brackets) or the socket's path; a new string. */
char *
mysql_conn_address(const struct mysql_conn_opts *o)
{
	if (o->socket != NULL)
		return (xstrdup(o->socket));
	if (o->host != NULL && strchr(o->host, ':') != NULL)
		return (xasprintf("[%s]:%u", o->host, o->port));
	return (xasprintf("%s:%u", o->host != NULL ? o->host : "?", o->port));
}

/* "user@host:port" or "user@socket", for messages; a new string. */
char *
mysql_conn_describe(const struct mysql_conn_opts *o)
{
	if (o->socket != NULL)
		return (xasprintf("%s@%s", o->user != NULL ? o->user : "?",
		    o->socket));
	return (xasprintf("%s@%s:%u", o->user != NULL ? o->user : "?",
	    o->host != NULL ? o->host : "?", o->port));
}

/*
 * The last error on m as one sentence: what was being done (what), the
 * server's code and SQLSTATE and text, and for the common mistakes what to
 * check.  Returns a new string.
 */
char *
mysql_conn_error(MYSQL *m, const char *what)
{
	unsigned int	 code = mysql_errno(m);
	const char	*hint = "";

	switch (code) {
	case ER_ACCESS_DENIED_ERROR:
	case ER_DBACCESS_DENIED_ERROR:
		hint = " (check the user name and the password)";
		break;
	case CR_CONN_HOST_ERROR:
	case CR_CONNECTION_ERROR:
		hint = " (is the server running, and is the address right?)";
		break;
	case CR_UNKNOWN_HOST:
		hint = " (check the host name)";
		break;
	case CR_SSL_CONNECTION_ERROR:
		hint = " (the server may not offer TLS, or its certificate "
		    "was not verified)";
		break;
	}
	return (xasprintf("%s: error %u (%s): %s%s", what, code,
	    mysql_sqlstate(m), mysql_error(m), hint));
}

/* Authentication plugins that never send the password in the clear
 * (mysql_clear_password and dialog do: only over TLS). */
#define MYSQL_CONN_SAFE_AUTH \
	"mysql_native_password,caching_sha2_password,client_ed25519," \
	"sha256_password,mysql_old_password"

/*
 * A confined endpoint (a tenant's): every address its host resolves to
 * must be one the network policy allows (a name with one allowed and one
 * forbidden answer is refused: the next lookup may give the other).
 * numeric is the first of them (len bytes), which a connection without
 * TLS connects to: no second lookup to rebind.  0, or -1 with *cause.
 */
static int
mysql_conn_allowed(const struct mysql_conn_opts *o, char *numeric, size_t len,
    char **cause)
{
	struct addrinfo	 hints, *res, *ai;
	const char	*why;
	char		 port[8], *who;
	int		 err, rc = 0;

	who = mysql_conn_describe(o);
	if (o->socket != NULL) {
		*cause = xasprintf("cannot connect to MySQL %s: a tenant's "
		    "endpoint does not reach the daemon's host through a Unix "
		    "socket", who);
		free(who);
		return (-1);
	}
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(port, sizeof port, "%u", o->port);
	if ((err = getaddrinfo(o->host, port, &hints, &res)) != 0) {
		*cause = xasprintf("cannot connect to MySQL %s: cannot resolve "
		    "%s: %s", who, o->host, gai_strerror(err));
		free(who);
		return (-1);
	}
	if (res != NULL && getnameinfo(res->ai_addr, res->ai_addrlen, numeric,
	    (socklen_t)len, NULL, 0, NI_NUMERICHOST) != 0)
		numeric[0] = '\0';
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if ((why = netpolicy_refusal(ai->ai_addr)) != NULL) {
			char	*what = xasprintf("cannot connect to MySQL %s",
			    who);

			*cause = netpolicy_cause(what, ai->ai_addr, why);
			free(what);
			rc = -1;
			break;
		}
	}
	freeaddrinfo(res);
	free(who);
	return (rc);
}

/* After connecting: the peer is still an allowed address (a DNS answer
 * that changed since the check is caught here, before any query). */
static int
mysql_conn_peer_allowed(MYSQL *m, const struct mysql_conn_opts *o,
    char **cause)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof ss;
	const char		*why;
	char			*who, *what;

	if (getpeername((int)mysql_get_socket(m), (struct sockaddr *)&ss,
	    &len) != 0) {
		*cause = xasprintf("cannot tell whom the MySQL connection "
		    "reached: %s", strerror(errno));
		return (-1);
	}
	if ((why = netpolicy_refusal((struct sockaddr *)&ss)) == NULL)
		return (0);
	who = mysql_conn_describe(o);
	what = xasprintf("MySQL %s", who);
	*cause = netpolicy_cause(what, (struct sockaddr *)&ss, why);
	free(what);
	free(who);
	return (-1);
}

/*
 * Connect.  Returns a new connection (close with mysql_close()) or NULL with
 * *cause set.  Thread-safe once mysql_library_init() has run (main() does
 * that before any thread starts).  Without TLS, only authentication
 * plugins that keep the password from the wire are used: a server (or a
 * fake one) that asks for the cleartext plugin is refused.
 */
MYSQL *
mysql_conn_open(const struct mysql_conn_opts *o, char **cause)
{
	MYSQL		*m;
	char		*who, *what, numeric[NI_MAXHOST];
	unsigned int	 proto, no = 0;
	my_bool		 on = 1;

	numeric[0] = '\0';
	if (o->confined && mysql_conn_allowed(o, numeric, sizeof numeric,
	    cause) != 0)
		return (NULL);
	if ((m = mysql_init(NULL)) == NULL)
		fatalx("%s: mysql_init failed", __func__);
	/* ferry never loads a file into a server: a server (or a fake one)
	 * that asks for one with LOAD DATA LOCAL gets nothing. */
	mysql_options(m, MYSQL_OPT_LOCAL_INFILE, &no);
	if (!o->tls)
		mysql_optionsv(m, MARIADB_OPT_RESTRICTED_AUTH,
		    MYSQL_CONN_SAFE_AUTH);
	mysql_options(m, MYSQL_OPT_CONNECT_TIMEOUT, &o->connect_timeout);
	if (o->read_timeout != 0) {
		mysql_options(m, MYSQL_OPT_READ_TIMEOUT, &o->read_timeout);
		mysql_options(m, MYSQL_OPT_WRITE_TIMEOUT, &o->read_timeout);
	}
	if (o->max_packet != 0)
		mysql_optionsv(m, MYSQL_OPT_MAX_ALLOWED_PACKET, &o->max_packet);
	proto = o->socket != NULL ? MYSQL_PROTOCOL_SOCKET : MYSQL_PROTOCOL_TCP;
	mysql_options(m, MYSQL_OPT_PROTOCOL, &proto);
	/* Text is exchanged as utf8mb4; row values keep their own charsets. */
	mysql_options(m, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	if (o->tls) {
		mysql_optionsv(m, MYSQL_OPT_SSL_ENFORCE, &on);
		mysql_optionsv(m, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &on);
		if (o->tls_ca != NULL)
			mysql_optionsv(m, MYSQL_OPT_SSL_CA, o->tls_ca);
	}
	/* TLS verifies the name, so it connects by name (and the peer is
	 * checked below); without it, to the address checked above. */
	if (mysql_real_connect(m, o->socket != NULL ? "localhost" :
	    o->confined && !o->tls && numeric[0] != '\0' ? numeric : o->host,
	    o->user, o->password != NULL ? o->password : "", o->database,
	    o->socket != NULL ? 0 : o->port, o->socket, 0) == NULL) {
		who = mysql_conn_describe(o);
		what = xasprintf("cannot connect to MySQL %s", who);
		*cause = mysql_conn_error(m, what);
		free(what);
		free(who);
		mysql_close(m);
		return (NULL);
	}
	if (o->confined && mysql_conn_peer_allowed(m, o, cause) != 0) {
		mysql_close(m);
		return (NULL);
	}
	return (m);
}

/*
 * Run a query returning one row of one column and return its value as a
 * new string in *value (NULL for SQL NULL).  Returns 0, or -1 with *cause
 * set (also when the query returns no row).
 */
int
mysql_conn_query_string(MYSQL *m, const char *sql, char **value, char **cause)
{
	MYSQL_RES	*res;
	MYSQL_ROW	 row;
	char		*what;

	if (mysql_query(m, sql) != 0) {
		what = xasprintf("query '%s' failed", sql);
		*cause = mysql_conn_error(m, what);
		free(what);
		return (-1);
	}
	if ((res = mysql_store_result(m)) == NULL) {
		what = xasprintf("query '%s' returned no result", sql);
		*cause = mysql_errno(m) != 0 ? mysql_conn_error(m, what) :
		    xstrdup(what);
		free(what);
		return (-1);
	}
	if ((row = mysql_fetch_row(res)) == NULL) {
		*cause = xasprintf("query '%s' returned no row", sql);
		mysql_free_result(res);
		return (-1);
	}
	*value = row[0] != NULL ? xstrdup(row[0]) : NULL;
	mysql_free_result(res);
	return (0);
}

/* The connection, opened now if it is not yet: NULL with *cause. */
MYSQL *
mysql_lazy_get(struct mysql_lazy *l, char **cause)
{
	struct mysql_conn_opts	 o;

	if (l->m == NULL) {
		o = *l->opts;
		if (l->read_timeout != 0)
			o.read_timeout = l->read_timeout;
		l->m = mysql_conn_open(&o, cause);
	}
	return (l->m);
}

void
mysql_lazy_close(struct mysql_lazy *l)
{
	if (l->m != NULL)
		mysql_close(l->m);
	l->m = NULL;
}
