/*
 * Where a tenant's endpoints may lead the daemon (DESIGN.md §10).
 *
 * An endpoint a tenant made through the API is confined: every address
 * the daemon would connect to for it, MySQL servers as resolved and as
 * connected, Kafka bootstrap servers and every broker the cluster
 * advertises, must be one the policy allows, so that neither the
 * endpoint's name, nor a DNS answer, nor a broker's advertised listener
 * can steer the daemon to the provider's own systems.  An address is
 *
 *	refused	when a --tenant-deny prefix holds it;
 *	allowed	when a --tenant-allow prefix holds it;
 *	refused	when it is loopback, unspecified, link-local (cloud
 *		metadata services live there), multicast or broadcast, or
 *		one of the host's own addresses (an IPv4 address inside an
 *		IPv6 one, mapped, NAT64 or 6to4, counts as itself);
 *	allowed	otherwise.
 *
 * The policy is the daemon's, set once before any job runs
 * (netpolicy_set()); the operator's own endpoints are not confined.
 */
#include "config.h"

#include <sys/socket.h>

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"
#include "engine/netpolicy.h"

struct net_prefix {
	int		 family;	/* AF_INET or AF_INET6 */
	uint8_t		 addr[16];
	unsigned int	 bits;
};

struct netpolicy {
	struct net_prefix	*allow;
	size_t			 nallow;
	struct net_prefix	*deny;
	size_t			 ndeny;
	struct net_prefix	*own;	/* the host's addresses, as /32, /128 */
	size_t			 nown;
};

static struct netpolicy	 netpolicy_global;

/* Parse "A.B.C.D[/N]" or "IPv6[/N]": 0, or -1. */
static int
net_prefix_parse(const char *s, struct net_prefix *p)
{
	const char	*slash = strchr(s, '/');
	char		*addr, *end;
	unsigned long	 bits;

	memset(p, 0, sizeof *p);
	addr = slash != NULL ? xstrndup(s, (size_t)(slash - s)) : xstrdup(s);
	if (inet_pton(AF_INET, addr, p->addr) == 1) {
		p->family = AF_INET;
		p->bits = 32;
	} else if (inet_pton(AF_INET6, addr, p->addr) == 1) {
		p->family = AF_INET6;
		p->bits = 128;
	} else {
		free(addr);
		return (-1);
	}
	free(addr);
	if (slash != NULL) {
		bits = strtoul(slash + 1, &end, 10);
		if (slash[1] == '\0' || *end != '\0' || bits > p->bits)
			return (-1);
		p->bits = (unsigned int)bits;
	}
	return (0);
}

static int
net_prefix_has(const struct net_prefix *p, int family, const uint8_t *a)
{
	unsigned int	 full = p->bits / 8, rest = p->bits % 8;

	if (p->family != family)
		return (0);
	if (memcmp(p->addr, a, full) != 0)
		return (0);
	if (rest == 0)
		return (1);
	return (((p->addr[full] ^ a[full]) & (0xff << (8 - rest))) == 0);
}

static int
net_list_has(const struct net_prefix *v, size_t n, int family,
    const uint8_t *a)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		if (net_prefix_has(&v[i], family, a))
			return (1);
	}
	return (0);
}

/*
 * Add a prefix to the allow (allow 1) or deny list of the daemon's
 * policy.  Returns 0, or -1 with *cause.  Before any job runs.
 */
int
netpolicy_add(int allow, const char *prefix, char **cause)
{
	struct netpolicy	*np = &netpolicy_global;
	struct net_prefix	 p, **v;
	size_t			*n;

	if (net_prefix_parse(prefix, &p) != 0) {
		*cause = xasprintf("'%s' is not an address or a prefix "
		    "(10.0.0.0/8, fd00::/8)", prefix);
		return (-1);
	}
	v = allow ? &np->allow : &np->deny;
	n = allow ? &np->nallow : &np->ndeny;
	*v = xreallocarray(*v, *n + 1, sizeof **v);
	(*v)[(*n)++] = p;
	return (0);
}

/* The prefix as text: "A.B.C.D/N" or "IPv6/N". */
static void
net_prefix_text(const struct net_prefix *p, char *out, size_t len)
{
	char	 host[INET6_ADDRSTRLEN] = "?";

	inet_ntop(p->family, p->addr, host, sizeof host);
	snprintf(out, len, "%s/%u", host, p->bits);
}

/*
 * The allow and deny lists as one line ("allow=P deny=P ..."), for the
 * commands the daemon runs for the API's callers (FERRY_NET_POLICY), so
 * that what they connect to for a tenant obeys the daemon's policy.
 * Free the result.
 */
char *
netpolicy_export(void)
{
	const struct netpolicy	*np = &netpolicy_global;
	char			 text[INET6_ADDRSTRLEN + 8], *out, *next;
	size_t			 i;

	out = xstrdup("");
	for (i = 0; i < np->nallow + np->ndeny; i++) {
		net_prefix_text(i < np->nallow ? &np->allow[i] :
		    &np->deny[i - np->nallow], text, sizeof text);
		next = xasprintf("%s%s%s=%s", out, *out != '\0' ? " " : "",
		    i < np->nallow ? "allow" : "deny", text);
		free(out);
		out = next;
	}
	return (out);
}

/* Add the lists of a line netpolicy_export() wrote: 0, or -1 with *cause. */
int
netpolicy_import(const char *line, char **cause)
{
	char	*copy = xstrdup(line), *word, *save = NULL;
	int	 rc = 0;

	for (word = strtok_r(copy, " ", &save); word != NULL && rc == 0;
	    word = strtok_r(NULL, " ", &save)) {
		if (strncmp(word, "allow=", 6) == 0)
			rc = netpolicy_add(1, word + 6, cause);
		else if (strncmp(word, "deny=", 5) == 0)
			rc = netpolicy_add(0, word + 5, cause);
		else {
			*cause = xasprintf("'%s' is neither allow=PREFIX nor "
			    "deny=PREFIX", word);
			rc = -1;
		}
	}
	free(copy);
	return (rc);
}

/* Read the host's own addresses (once, before any job runs). */
void
netpolicy_init(void)
{
	struct netpolicy	*np = &netpolicy_global;
	struct ifaddrs		*ifa, *i;
	struct net_prefix	*p;

	if (getifaddrs(&ifa) != 0)
		return;
	for (i = ifa; i != NULL; i = i->ifa_next) {
		if (i->ifa_addr == NULL || (i->ifa_addr->sa_family != AF_INET &&
		    i->ifa_addr->sa_family != AF_INET6))
			continue;
		np->own = xreallocarray(np->own, np->nown + 1,
		    sizeof *np->own);
		p = &np->own[np->nown++];
		memset(p, 0, sizeof *p);
		p->family = i->ifa_addr->sa_family;
		if (p->family == AF_INET) {
			memcpy(p->addr, &((struct sockaddr_in *)
			    i->ifa_addr)->sin_addr, 4);
			p->bits = 32;
		} else {
			memcpy(p->addr, &((struct sockaddr_in6 *)
			    i->ifa_addr)->sin6_addr, 16);
			p->bits = 128;
		}
	}
	freeifaddrs(ifa);
}

/* Why the address is refused by default, or NULL. */
static const char *
net_default_refusal(int family, const uint8_t *a)
{
	static const uint8_t	 v6zero[16];

	if (family == AF_INET) {
		if (a[0] == 127)
			return ("loopback");
		if (a[0] == 0)
			return ("unspecified");
		if (a[0] == 169 && a[1] == 254)
			return ("link-local (metadata services)");
		if (a[0] >= 224)
			return ("multicast or reserved");
		return (NULL);
	}
	if (memcmp(a, v6zero, 15) == 0 && (a[15] == 1 || a[15] == 0))
		return (a[15] == 1 ? "loopback" : "unspecified");
	if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80)
		return ("link-local (metadata services)");
	if (a[0] == 0xff)
		return ("multicast");
	return (NULL);
}

/*
 * Whether the policy lets a confined endpoint reach sa: NULL, or why not
 * (a static string).  Any thread.
 */
const char *
netpolicy_refusal(const struct sockaddr *sa)
{
	const struct netpolicy	*np = &netpolicy_global;
	const uint8_t		*a;
	const char		*why;
	int			 family = sa->sa_family;

	if (family == AF_INET)
		a = (const uint8_t *)&((const struct sockaddr_in *)sa)->sin_addr;
	else if (family == AF_INET6) {
		a = (const uint8_t *)&((const struct sockaddr_in6 *)sa)->
		    sin6_addr;
		/* ::ffff:a.b.c.d is a.b.c.d, and so, through a translator
		 * or a relay, are NAT64's 64:ff9b::a.b.c.d and 6to4's
		 * 2002:AABB:CCDD::. */
		if (IN6_IS_ADDR_V4MAPPED((const struct in6_addr *)a) ||
		    (a[0] == 0x00 && a[1] == 0x64 && a[2] == 0xff &&
		    a[3] == 0x9b && memcmp(a + 4, "\0\0\0\0\0\0\0\0", 8) ==
		    0)) {
			family = AF_INET;
			a += 12;
		} else if (a[0] == 0x20 && a[1] == 0x02) {
			family = AF_INET;
			a += 2;
		}
	} else
		return ("not an IP address");
	if (net_list_has(np->deny, np->ndeny, family, a))
		return ("denied by --tenant-deny");
	if (net_list_has(np->allow, np->nallow, family, a))
		return (NULL);
	if ((why = net_default_refusal(family, a)) != NULL)
		return (why);
	if (net_list_has(np->own, np->nown, family, a))
		return ("one of this host's own addresses");
	return (NULL);
}

/* The address of sa as text, into out. */
void
netpolicy_addr_text(const struct sockaddr *sa, char *out, size_t len)
{
	char	 host[INET6_ADDRSTRLEN] = "?";
	int	 port = 0;

	if (sa->sa_family == AF_INET) {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr,
		    host, sizeof host);
		port = ntohs(((const struct sockaddr_in *)sa)->sin_port);
		snprintf(out, len, "%s:%d", host, port);
	} else if (sa->sa_family == AF_INET6) {
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->
		    sin6_addr, host, sizeof host);
		port = ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
		snprintf(out, len, "[%s]:%d", host, port);
	} else
		snprintf(out, len, "?");
}

/* The sentence for a refusal: a new string. */
char *
netpolicy_cause(const char *what, const struct sockaddr *sa, const char *why)
{
	char	 addr[INET6_ADDRSTRLEN + 8];

	netpolicy_addr_text(sa, addr, sizeof addr);
	return (xasprintf("%s: the daemon's network policy for tenants' "
	    "endpoints refuses %s (%s); the operator may allow it with ferry "
	    "serve --tenant-allow", what, addr, why));
}
