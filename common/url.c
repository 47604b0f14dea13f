/*
 * URL parsing for endpoint addresses.
 *
 * Only the shapes ferry documents are accepted, and everything else is
 * refused with a sentence that says what is wrong: a URL that carries a
 * password ("user:secret@") is refused outright, because argv is visible to
 * every user of the machine (ps, /proc) and ferry takes secrets only from a
 * file, the environment or a prompt.
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "common/url.h"
#include "common/util.h"
#include "common/xmalloc.h"

static int
url_parse_port(const char *s, size_t len, unsigned int *port, char **cause)
{
	unsigned int	 v = 0;
	size_t		 i;

	if (len == 0 || len > 5) {
		*cause = xasprintf("invalid port '%.*s'", (int)len, s);
		return (-1);
	}
	for (i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i])) {
			*cause = xasprintf("invalid port '%.*s'", (int)len, s);
			return (-1);
		}
		v = v * 10 + (unsigned int)(s[i] - '0');
	}
	if (v == 0 || v > 65535) {
		*cause = xasprintf("port %u is out of range (1 to 65535)", v);
		return (-1);
	}
	*port = v;
	return (0);
}

static int
url_valid_host(const char *s, size_t len)
{
	size_t	 i;

	if (len == 0 || len > 253)
		return (0);
	for (i = 0; i < len; i++) {
		if (!isalnum((unsigned char)s[i]) && s[i] != '.' &&
		    s[i] != '-' && s[i] != '_' && s[i] != ':')
			return (0);
	}
	return (1);
}

/*
 * Split "host:port", "[v6]:port", "host" or "[v6]" at s (len bytes).
 * port is left 0 when absent.
 */
static int
url_parse_hostport(const char *s, size_t len, char **host, unsigned int *port,
    char **cause)
{
	const char	*colon, *end;

	*port = 0;
	if (len > 0 && s[0] == '[') {
		end = memchr(s, ']', len);
		if (end == NULL || !url_valid_host(s + 1, (size_t)(end - s) - 1)) {
			*cause = xasprintf("invalid host '%.*s'", (int)len, s);
			return (-1);
		}
		if ((size_t)(end - s) + 1 < len) {
			if (end[1] != ':') {
				*cause = xasprintf("invalid host '%.*s'",
				    (int)len, s);
				return (-1);
			}
			if (url_parse_port(end + 2, len - (size_t)(end - s) - 2,
			    port, cause) != 0)
				return (-1);
		}
		*host = xstrndup(s + 1, (size_t)(end - s) - 1);
		return (0);
	}
	colon = memchr(s, ':', len);
	if (colon != NULL) {
		if (url_parse_port(colon + 1, len - (size_t)(colon - s) - 1,
		    port, cause) != 0)
			return (-1);
		len = (size_t)(colon - s);
	}
	if (!url_valid_host(s, len)) {
		*cause = len == 0 ? xstrdup("missing host") :
		    xasprintf("invalid host '%.*s'", (int)len, s);
		return (-1);
	}
	*host = xstrndup(s, len);
	return (0);
}

/* Undo %XX escapes in place; returns -1 on a malformed escape or %00. */
static int
url_unescape(char *s)
{
	char	*r, *w;
	int	 hi, lo;

	for (r = w = s; *r != '\0'; r++) {
		if (*r != '%') {
			*w++ = *r;
			continue;
		}
		if (!isxdigit((unsigned char)r[1]) ||
		    !isxdigit((unsigned char)r[2]))
			return (-1);
		hi = isdigit((unsigned char)r[1]) ? r[1] - '0' :
		    (tolower((unsigned char)r[1]) - 'a' + 10);
		lo = isdigit((unsigned char)r[2]) ? r[2] - '0' :
		    (tolower((unsigned char)r[2]) - 'a' + 10);
		if (hi == 0 && lo == 0)
			return (-1);
		*w++ = (char)(hi * 16 + lo);
		r += 2;
	}
	*w = '\0';
	return (0);
}

static int
url_parse_query(struct url *u, const char *q, char **cause)
{
	const char	*p, *amp, *eq;
	size_t		 len;

	for (p = q; *p != '\0'; p = amp + (*amp != '\0')) {
		amp = p + strcspn(p, "&");
		len = (size_t)(amp - p);
		if (len == 0)
			continue;
		eq = memchr(p, '=', len);
		u->params = xreallocarray(u->params, u->nparams + 1,
		    sizeof *u->params);
		if (eq == NULL) {
			u->params[u->nparams].key = xstrndup(p, len);
			u->params[u->nparams].value = xstrdup("");
		} else {
			u->params[u->nparams].key = xstrndup(p,
			    (size_t)(eq - p));
			u->params[u->nparams].value = xstrndup(eq + 1,
			    len - (size_t)(eq - p) - 1);
		}
		u->nparams++;
		if (url_unescape(u->params[u->nparams - 1].key) != 0 ||
		    url_unescape(u->params[u->nparams - 1].value) != 0) {
			*cause = xasprintf("malformed %%-escape in '%.*s'",
			    (int)len, p);
			return (-1);
		}
		if (*u->params[u->nparams - 1].key == '\0') {
			*cause = xasprintf("empty parameter name in '%.*s'",
			    (int)len, p);
			return (-1);
		}
	}
	return (0);
}

/* "h1[:p1],h2[:p2],...": every host, in order; host and port are the
 * first's.  A host named twice is refused (a typo, or a list edited by
 * hand). */
static int
url_parse_hosts(struct url *u, const char *s, size_t len, char **cause)
{
	const char	*p = s, *end = s + len, *comma;
	struct url_host	*h;
	size_t		 i;

	for (;;) {
		comma = memchr(p, ',', (size_t)(end - p));
		if (comma == NULL)
			comma = end;
		u->hosts = xreallocarray(u->hosts, u->nhosts + 1,
		    sizeof *u->hosts);
		h = &u->hosts[u->nhosts];
		if (url_parse_hostport(p, (size_t)(comma - p), &h->host,
		    &h->port, cause) != 0)
			return (-1);
		for (i = 0; i < u->nhosts; i++) {
			if (strcmp(u->hosts[i].host, h->host) == 0 &&
			    u->hosts[i].port == h->port) {
				*cause = xasprintf("host '%.*s' is named twice",
				    (int)(comma - p), p);
				free(h->host);
				return (-1);
			}
		}
		u->nhosts++;
		if (comma == end)
			break;
		p = comma + 1;
	}
	u->host = xstrdup(u->hosts[0].host);
	u->port = u->hosts[0].port;
	return (0);
}

/*
 * Parse "scheme://[user@]host[:port][,host[:port]...][/path][?k=v&...]".
 * Returns a new url (free with url_free()) or NULL with *cause set.
 */
struct url *
url_parse(const char *s, char **cause)
{
	struct url	*u;
	const char	*p, *sep, *auth, *end;
	char		*c;
	size_t		 len;

	u = xcalloc(1, sizeof *u);
	if ((sep = strstr(s, "://")) == NULL || sep == s) {
		*cause = xasprintf("'%s' is not a URL (expected "
		    "scheme://user@host:port)", s);
		goto fail;
	}
	u->scheme = xstrndup(s, (size_t)(sep - s));
	for (c = u->scheme; *c != '\0'; c++) {
		if (!isalnum((unsigned char)*c) && *c != '+' && *c != '-') {
			*cause = xasprintf("invalid URL scheme '%s'", u->scheme);
			goto fail;
		}
		*c = (char)tolower((unsigned char)*c);
	}
	p = sep + 3;
	end = p + strcspn(p, "/?");
	auth = memchr(p, '@', (size_t)(end - p));
	if (auth != NULL) {
		if (memchr(p, ':', (size_t)(auth - p)) != NULL) {
			*cause = xstrdup("the URL contains a password; ferry "
			    "never takes secrets on the command line: give "
			    "the user alone (user@host) and the password with "
			    "--password-file or --password-env");
			goto fail;
		}
		if (auth == p) {
			*cause = xasprintf("empty user name in '%s'", s);
			goto fail;
		}
		u->user = xstrndup(p, (size_t)(auth - p));
		if (url_unescape(u->user) != 0) {
			*cause = xasprintf("malformed %%-escape in user of '%s'",
			    s);
			goto fail;
		}
		p = auth + 1;
	}
	if (memchr(p, ',', (size_t)(end - p)) != NULL) {
		if (url_parse_hosts(u, p, (size_t)(end - p), cause) != 0)
			goto fail;
	} else if (url_parse_hostport(p, (size_t)(end - p), &u->host,
	    &u->port, cause) != 0)
		goto fail;
	p = end;
	if (*p == '/') {
		p++;
		len = strcspn(p, "?");
		if (len > 0) {
			u->path = xstrndup(p, len);
			if (url_unescape(u->path) != 0) {
				*cause = xasprintf("malformed %%-escape in "
				    "path of '%s'", s);
				goto fail;
			}
		}
		p += len;
	}
	if (*p == '?' && url_parse_query(u, p + 1, cause) != 0)
		goto fail;
	return (u);
fail:
	url_free(u);
	return (NULL);
}

void
url_free(struct url *u)
{
	size_t	 i;

	if (u == NULL)
		return;
	free(u->scheme);
	free(u->user);
	free(u->host);
	for (i = 0; i < u->nhosts; i++)
		free(u->hosts[i].host);
	free(u->hosts);
	free(u->path);
	for (i = 0; i < u->nparams; i++) {
		free(u->params[i].key);
		free(u->params[i].value);
	}
	free(u->params);
	free(u);
}

/* The value of the last parameter named key, or NULL; borrowed from u. */
const char *
url_param(const struct url *u, const char *key)
{
	size_t	 i;

	for (i = u->nparams; i > 0; i--) {
		if (strcmp(u->params[i - 1].key, key) == 0)
			return (u->params[i - 1].value);
	}
	return (NULL);
}

/*
 * Check a Kafka bootstrap list, "host:port[,host:port...]": every element
 * needs a host and a port.
 */
int
url_check_hostport_list(const char *s, char **cause)
{
	const char	*p, *comma;
	char		*host, *why;
	unsigned int	 port;
	size_t		 len;

	if (*s == '\0') {
		*cause = xstrdup("empty broker list (expected host:port)");
		return (-1);
	}
	for (p = s;; p = comma + 1) {
		comma = strchr(p, ',');
		len = comma != NULL ? (size_t)(comma - p) : strlen(p);
		if (memchr(p, '@', len) != NULL) {
			/* user:password@host: never echoed back. */
			*cause = xstrdup("a broker address holds no user or "
			    "password (give --username and a password option; "
			    "the address is host:port)");
			return (-1);
		}
		if (url_parse_hostport(p, len, &host, &port, &why) != 0) {
			*cause = xasprintf("broker '%.*s': %s", (int)len, p,
			    why);
			free(why);
			return (-1);
		}
		free(host);
		if (port == 0) {
			*cause = xasprintf("broker '%.*s' has no port "
			    "(expected host:port)", (int)len, p);
			return (-1);
		}
		if (comma == NULL)
			break;
	}
	return (0);
}
