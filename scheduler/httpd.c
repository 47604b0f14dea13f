/*
 * A small HTTP/1.1 server for the daemon's listeners (health and metrics,
 * the API), on the daemon's event loop.
 *
 * The loop also serves Kafka's delivery reports and the jobs' restarts,
 * so a client must never be able to hold it or the process's descriptors:
 *
 *	connections	at most max_conns at once, max_per_addr from one
 *			address; one over is accepted and closed at once (no
 *			descriptor kept, no backlog filled); the listener
 *			pauses for a second when accept() says EMFILE
 *	a request	its head within max_header bytes (431), a body only
 *			with Content-Length and within max_body (413; no
 *			chunked bodies: 411), all within read_timeout
 *			seconds of the connection (408, or closed)
 *	a reply		one per connection (Connection: close), written
 *			within write_timeout seconds
 *
 * A request is handed to the callback whole; the reply may come later
 * (the API runs a command for it): the connection waits, reading nothing,
 * until httpd_reply().  TLS (an SSL_CTX) goes through libevent's OpenSSL
 * bufferevents.  Listen addresses are HOST:PORT or [IPv6]:PORT.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/time.h>
#include <sys/resource.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <openssl/ssl.h>

#include "common/buf.h"
#include "common/log.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "scheduler/httpd.h"

struct httpd_conn {
	struct httpd		*h;
	struct bufferevent	*bev;
	struct event		*deadline;	/* the request's, from accept */
	char			 peer[INET6_ADDRSTRLEN];
	struct httpd_req	*req;		/* while the reply is awaited */
	int			 replying;	/* close once written */
	struct httpd_conn	*next;
};

struct httpd {
	struct event_base	*base;
	struct evconnlistener	*lis;
	struct event		*resume;	/* after EMFILE */
	struct httpd_opts	 o;
	httpd_cb		 cb;
	void			*arg;
	struct httpd_conn	*conns;
	size_t			 nconns;
	char			*where;
};

void
httpd_opts_init(struct httpd_opts *o)
{
	struct rlimit	 rl;

	memset(o, 0, sizeof *o);
	o->max_conns = 256;
	o->max_per_addr = 32;
	o->max_header = 16 * 1024;
	o->max_body = 1024 * 1024;
	o->read_timeout = 10;
	o->write_timeout = 30;
	/* Descriptors stay for the jobs, the store and librdkafka: a quarter
	 * of the process's at most. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur / 4 < o->max_conns)
		o->max_conns = rl.rlim_cur / 4 > 8 ? rl.rlim_cur / 4 : 8;
}

/*
 * Split "host:port" or "[v6]:port": 0 with *host (a new string) and
 * *port, or -1 with *cause.
 */
int
httpd_split(const char *hostport, char **host, unsigned int *port,
    char **cause)
{
	const char	*colon, *end;
	uint64_t	 v;
	char		*why = NULL;

	if (hostport[0] == '[') {
		end = strchr(hostport, ']');
		if (end == NULL || end[1] != ':') {
			*cause = xasprintf("'%s' is not [IPv6]:PORT", hostport);
			return (-1);
		}
		colon = end + 1;
		*host = xstrndup(hostport + 1, (size_t)(end - hostport - 1));
	} else {
		colon = strrchr(hostport, ':');
		if (colon == NULL || colon == hostport ||
		    memchr(hostport, ':', (size_t)(colon - hostport)) != NULL) {
			*cause = xasprintf("'%s' is not HOST:PORT (an IPv6 "
			    "address goes in brackets: [::1]:PORT)", hostport);
			return (-1);
		}
		*host = xstrndup(hostport, (size_t)(colon - hostport));
	}
	if (util_parse_u64(colon + 1, 1, 65535, &v, &why) != 0) {
		*cause = xasprintf("'%s': the port %s", hostport, why);
		free(why);
		free(*host);
		*host = NULL;
		return (-1);
	}
	*port = (unsigned int)v;
	return (0);
}

static const char *
httpd_reason(int code)
{
	switch (code) {
	case 200: return ("OK");
	case 201: return ("Created");
	case 400: return ("Bad Request");
	case 401: return ("Unauthorized");
	case 403: return ("Forbidden");
	case 404: return ("Not Found");
	case 405: return ("Method Not Allowed");
	case 408: return ("Request Timeout");
	case 409: return ("Conflict");
	case 411: return ("Length Required");
	case 413: return ("Content Too Large");
	case 429: return ("Too Many Requests");
	case 431: return ("Request Header Fields Too Large");
	case 500: return ("Internal Server Error");
	case 501: return ("Not Implemented");
	case 503: return ("Service Unavailable");
	case 504: return ("Gateway Timeout");
	}
	return ("Unknown");
}

static void
httpd_req_free(struct httpd_req *r)
{
	size_t	 i;

	if (r == NULL)
		return;
	for (i = 0; i < r->nhdrs; i++) {
		free(r->hdrs[i].name);
		free(r->hdrs[i].value);
	}
	free(r->hdrs);
	free(r->path);
	free(r->query);
	if (r->body != NULL)
		xzero(r->body, r->bodylen);	/* it may hold a password */
	free(r->body);
	free(r);
}

static void
httpd_conn_free(struct httpd_conn *c)
{
	struct httpd		*h = c->h;
	struct httpd_conn	**pp;

	for (pp = &h->conns; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	h->nconns--;
	if (c->req != NULL)
		c->req->conn = NULL;	/* the reply finds it gone */
	if (c->deadline != NULL)
		event_free(c->deadline);
	bufferevent_free(c->bev);
	free(c);
}

/* Write the reply head and body; the connection closes once it is out. */
static void
httpd_send(struct httpd_conn *c, int code, const char *type,
    const char *extra, const void *body, size_t len)
{
	struct evbuffer	*out = bufferevent_get_output(c->bev);
	struct timeval	 wtv;

	evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n"
	    "Content-Length: %zu\r\nConnection: close\r\n"
	    "Cache-Control: no-store\r\n%s\r\n", code, httpd_reason(code),
	    type, len, extra != NULL ? extra : "");
	evbuffer_add(out, body, len);
	c->replying = 1;
	if (c->deadline != NULL)
		event_del(c->deadline);
	/* A client that does not read its reply is let go after
	 * write_timeout seconds without progress. */
	wtv.tv_sec = c->h->o.write_timeout;
	wtv.tv_usec = 0;
	bufferevent_set_timeouts(c->bev, NULL, &wtv);
	bufferevent_disable(c->bev, EV_READ);
	bufferevent_enable(c->bev, EV_WRITE);
}

/* An error reply before any request reached the callback. */
static void
httpd_refuse(struct httpd_conn *c, int code, const char *why)
{
	char	*body = xasprintf("{\"error\":\"%s\"}\n", why);

	httpd_send(c, code, "application/json", NULL, body, strlen(body));
	free(body);
}

/*
 * Reply to r (then freed): code, content type, extra header lines (each
 * ending in \r\n, or NULL) and body.  A client gone meanwhile gets
 * nothing.
 */
void
httpd_reply(struct httpd_req *r, int code, const char *type,
    const char *extra, const void *body, size_t len)
{
	struct httpd_conn	*c = r->conn;

	if (c != NULL) {
		c->req = NULL;
		httpd_send(c, code, type, extra, body, len);
	}
	httpd_req_free(r);
}

/* The value of header name (case-insensitive), or NULL. */
const char *
httpd_header(const struct httpd_req *r, const char *name)
{
	size_t	 i;

	for (i = 0; i < r->nhdrs; i++) {
		if (strcasecmp(r->hdrs[i].name, name) == 0)
			return (r->hdrs[i].value);
	}
	return (NULL);
}

/*
 * Parse the request head (len bytes, ending in CRLF CRLF): method, target,
 * headers.  0, or an HTTP status to refuse it with.
 */
static int
httpd_parse(struct httpd_req *r, char *head, size_t len)
{
	char	*line, *save = NULL, *sp1, *sp2, *colon, *v, *e, *q;
	int	 first = 1;

	head[len] = '\0';
	for (line = strtok_r(head, "\r\n", &save); line != NULL;
	    line = strtok_r(NULL, "\r\n", &save)) {
		if (first) {
			first = 0;
			if ((sp1 = strchr(line, ' ')) == NULL ||
			    (sp2 = strchr(sp1 + 1, ' ')) == NULL ||
			    (size_t)(sp1 - line) >= sizeof r->method ||
			    strncmp(sp2 + 1, "HTTP/1.", 7) != 0 ||
			    sp1[1] != '/')
				return (400);
			memcpy(r->method, line, (size_t)(sp1 - line));
			r->method[sp1 - line] = '\0';
			*sp2 = '\0';
			if ((q = strchr(sp1 + 1, '?')) != NULL) {
				*q = '\0';
				r->query = xstrdup(q + 1);
			}
			r->path = xstrdup(sp1 + 1);
			continue;
		}
		if ((colon = strchr(line, ':')) == NULL || colon == line)
			return (400);
		*colon = '\0';
		for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
			;
		for (e = v + strlen(v); e > v && (e[-1] == ' ' ||
		    e[-1] == '\t'); e--)
			;
		*e = '\0';
		if (r->nhdrs == 64)
			return (431);
		r->hdrs = xreallocarray(r->hdrs, r->nhdrs + 1,
		    sizeof *r->hdrs);
		r->hdrs[r->nhdrs].name = xstrdup(line);
		r->hdrs[r->nhdrs].value = xstrdup(v);
		r->nhdrs++;
	}
	return (first ? 400 : 0);
}

static void
httpd_read(struct bufferevent *bev, void *arg)
{
	struct httpd_conn	*c = arg;
	struct httpd		*h = c->h;
	struct evbuffer		*in = bufferevent_get_input(bev);
	struct evbuffer_ptr	 end;
	struct httpd_req	*r;
	const char		*cl;
	char			*head;
	uint64_t		 n = 0;
	size_t			 hlen;
	int			 code;

	if (c->replying || c->req != NULL)
		return;
	end = evbuffer_search(in, "\r\n\r\n", 4, NULL);
	if (end.pos < 0) {
		if (evbuffer_get_length(in) > h->o.max_header)
			httpd_refuse(c, 431, "the request head is too large");
		return;
	}
	hlen = (size_t)end.pos + 4;
	if (hlen > h->o.max_header) {
		httpd_refuse(c, 431, "the request head is too large");
		return;
	}
	r = xcalloc(1, sizeof *r);
	head = xmalloc(hlen + 1);
	evbuffer_copyout(in, head, hlen);
	code = httpd_parse(r, head, hlen);
	free(head);
	if (code == 0 && httpd_header(r, "Transfer-Encoding") != NULL)
		code = 411;
	if (code == 0 && (cl = httpd_header(r, "Content-Length")) != NULL) {
		char	*why = NULL;

		if (util_parse_u64(cl, 0, UINT64_MAX, &n, &why) != 0) {
			free(why);
			code = 400;
		} else if (n > h->o.max_body)
			code = 413;
	}
	if (code != 0) {
		httpd_req_free(r);
		httpd_refuse(c, code, code == 413 ? "the body is too large" :
		    code == 411 ? "send the body with a Content-Length" :
		    code == 431 ? "too many header fields" :
		    "malformed request");
		return;
	}
	if (evbuffer_get_length(in) < hlen + n) {
		httpd_req_free(r);	/* the body is not all here yet */
		return;
	}
	evbuffer_drain(in, hlen);
	r->bodylen = (size_t)n;
	r->body = xmalloc(r->bodylen + 1);
	evbuffer_remove(in, r->body, r->bodylen);
	r->body[r->bodylen] = '\0';
	util_strlcpy(r->peer, c->peer, sizeof r->peer);
	r->conn = c;
	c->req = r;
	event_del(c->deadline);
	bufferevent_disable(bev, EV_READ);
	bufferevent_set_timeouts(bev, NULL, NULL);
	h->cb(r, h->arg);
}

static void
httpd_write(struct bufferevent *bev, void *arg)
{
	struct httpd_conn	*c = arg;

	if (c->replying && evbuffer_get_length(bufferevent_get_output(bev)) ==
	    0)
		httpd_conn_free(c);
}

/* The request is not all here read_timeout seconds after the connection
 * came, however slowly it trickles: 408 if something came, else closed. */
static void
httpd_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct httpd_conn	*c = arg;
	struct timeval		 tv;

	(void)fd;
	(void)what;
	if (c->replying || c->req != NULL)
		return;
	if (evbuffer_get_length(bufferevent_get_input(c->bev)) == 0) {
		httpd_conn_free(c);
		return;
	}
	tv.tv_sec = c->h->o.write_timeout;
	tv.tv_usec = 0;
	bufferevent_set_timeouts(c->bev, NULL, &tv);
	httpd_refuse(c, 408, "the request took too long");
}

static void
httpd_event(struct bufferevent *bev, short what, void *arg)
{
	struct httpd_conn	*c = arg;

	(void)bev;
	if (what & BEV_EVENT_CONNECTED)
		return;		/* the TLS handshake is done */
	if ((what & BEV_EVENT_TIMEOUT) && (what & BEV_EVENT_READING) &&
	    !c->replying && c->req == NULL) {
		httpd_deadline(-1, 0, c);
		return;
	}
	httpd_conn_free(c);
}

static void
httpd_accept(struct evconnlistener *lis, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct httpd		*h = arg;
	struct httpd_conn	*c, *o;
	struct timeval		 rtv, wtv;
	char			 peer[INET6_ADDRSTRLEN] = "?";
	size_t			 same = 0;

	(void)lis;
	(void)salen;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)sa)->sin_addr, peer,
		    sizeof peer);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)sa)->sin6_addr,
		    peer, sizeof peer);
	for (o = h->conns; o != NULL; o = o->next) {
		if (strcmp(o->peer, peer) == 0)
			same++;
	}
	if (h->nconns >= h->o.max_conns || same >= h->o.max_per_addr) {
		log_debug("%s: refused a connection from %s (%zu open, %zu from "
		    "it)", h->where, peer, h->nconns, same);
		evutil_closesocket(fd);
		return;
	}
	c = xcalloc(1, sizeof *c);
	c->h = h;
	util_strlcpy(c->peer, peer, sizeof c->peer);
	if (h->o.tls != NULL) {
		SSL	*ssl = SSL_new(h->o.tls);

		c->bev = ssl == NULL ? NULL : bufferevent_openssl_socket_new(
		    h->base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
		    BEV_OPT_CLOSE_ON_FREE);
	} else
		c->bev = bufferevent_socket_new(h->base, fd,
		    BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL) {
		evutil_closesocket(fd);
		free(c);
		return;
	}
	c->next = h->conns;
	h->conns = c;
	h->nconns++;
	rtv.tv_sec = h->o.read_timeout;
	rtv.tv_usec = 0;
	wtv.tv_sec = h->o.write_timeout;
	wtv.tv_usec = 0;
	bufferevent_setcb(c->bev, httpd_read, httpd_write, httpd_event, c);
	bufferevent_set_timeouts(c->bev, &rtv, &wtv);
	c->deadline = evtimer_new(h->base, httpd_deadline, c);
	evtimer_add(c->deadline, &rtv);
	/* Nothing is read past the head and the largest body. */
	bufferevent_setwatermark(c->bev, EV_READ, 0, h->o.max_header +
	    h->o.max_body + 1);
	bufferevent_enable(c->bev, EV_READ);
}

static void
httpd_resume(evutil_socket_t fd, short what, void *arg)
{
	struct httpd	*h = arg;

	(void)fd;
	(void)what;
	evconnlistener_enable(h->lis);
}

/* accept() failed: out of descriptors pauses the listener for a second
 * (the jobs and the store keep what they have); the rest is logged. */
static void
httpd_accept_error(struct evconnlistener *lis, void *arg)
{
	struct httpd	*h = arg;
	struct timeval	 tv = { 1, 0 };
	int		 err = EVUTIL_SOCKET_ERROR();

	if (err == EMFILE || err == ENFILE || err == ENOBUFS ||
	    err == ENOMEM) {
		log_warnx("%s: %s; not accepting connections for a second",
		    h->where, strerror(err));
		evconnlistener_disable(lis);
		event_add(h->resume, &tv);
		return;
	}
	log_debug("%s: accept: %s", h->where, strerror(err));
}

/*
 * Listen on hostport (HOST:PORT, [IPv6]:PORT); each request goes to
 * cb(req, arg).  Returns the listener (free with httpd_free()), or NULL
 * with *cause.
 */
struct httpd *
httpd_new(struct event_base *base, const char *hostport,
    const struct httpd_opts *o, httpd_cb cb, void *arg, char **cause)
{
	struct httpd		*h;
	struct addrinfo		 hints, *res = NULL;
	char			*host, portstr[8];
	unsigned int		 port;
	int			 err;

	if (httpd_split(hostport, &host, &port, cause) != 0)
		return (NULL);
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	snprintf(portstr, sizeof portstr, "%u", port);
	if ((err = getaddrinfo(*host != '\0' ? host : NULL, portstr, &hints,
	    &res)) != 0) {
		*cause = xasprintf("cannot listen on %s: %s", hostport,
		    gai_strerror(err));
		free(host);
		return (NULL);
	}
	free(host);
	h = xcalloc(1, sizeof *h);
	h->base = base;
	h->o = *o;
	h->cb = cb;
	h->arg = arg;
	h->where = xstrdup(hostport);
	h->lis = evconnlistener_new_bind(base, httpd_accept, h,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC,
	    128, res->ai_addr, (int)res->ai_addrlen);
	freeaddrinfo(res);
	if (h->lis == NULL) {
		*cause = xasprintf("cannot listen on %s: %s", hostport,
		    strerror(errno));
		free(h->where);
		free(h);
		return (NULL);
	}
	evconnlistener_set_error_cb(h->lis, httpd_accept_error);
	h->resume = evtimer_new(base, httpd_resume, h);
	return (h);
}

void
httpd_free(struct httpd *h)
{
	if (h == NULL)
		return;
	while (h->conns != NULL)
		httpd_conn_free(h->conns);
	evconnlistener_free(h->lis);
	event_free(h->resume);
	free(h->where);
	free(h);
}

/* How many connections are open (for the tests' view through /metrics). */
size_t
httpd_connections(const struct httpd *h)
{
	return (h->nconns);
}

/*
 * A server TLS context from a certificate chain and key (PEM): NULL with
 * *cause.
 */
SSL_CTX *
httpd_tls_new(const char *cert, const char *key, char **cause)
{
	SSL_CTX	*ctx;

	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL) {
		*cause = xstrdup("cannot make a TLS context");
		return (NULL);
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
		*cause = xasprintf("cannot read the TLS certificate %s", cert);
		SSL_CTX_free(ctx);
		return (NULL);
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		*cause = xasprintf("cannot use the TLS key %s (unreadable, or "
		    "not the certificate's)", key);
		SSL_CTX_free(ctx);
		return (NULL);
	}
	return (ctx);
}
