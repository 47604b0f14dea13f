/*
 * GTID set text.
 *
 * gtid_mysql_encode() turns MySQL's text form into the binary encoding that
 * COM_BINLOG_DUMP_GTID carries (the same as a PREVIOUS_GTIDS body): a count
 * of (uuid, tag) entries, then per entry the uuid, in the tagged format of
 * MySQL 8.4+ the tag, a count of intervals and the [start, end) pairs.  The
 * tagged format is used only when a tag appears, so that servers before 8.4
 * understand the request.
 */
#include "config.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/bytes.h"
#include "common/xmalloc.h"
#include "engine/gtid.h"

struct gtid_entry {
	uint8_t		 uuid[16];
	char		 tag[33];
	uint64_t	(*iv)[2];
	size_t		 niv;
};

static int
gtid_parse_uuid(const char *s, size_t len, uint8_t out[16])
{
	size_t	 i, n = 0;
	int	 hi = -1, v;

	for (i = 0; i < len; i++) {
		if (s[i] == '-')
			continue;
		if (!isxdigit((unsigned char)s[i]) || n == 16)
			return (-1);
		v = isdigit((unsigned char)s[i]) ? s[i] - '0' :
		    tolower((unsigned char)s[i]) - 'a' + 10;
		if (hi < 0)
			hi = v;
		else {
			out[n++] = (uint8_t)(hi << 4 | v);
			hi = -1;
		}
	}
	return (n == 16 && hi < 0 ? 0 : -1);
}

static void
gtid_put_varlen(struct buf *b, uint64_t v)
{
	uint8_t	 tmp[9];
	int	 k;

	/* The shortest form: k extra bytes hold 7 + 7k bits. */
	for (k = 0; k < 8; k++) {
		if (k < 7 ? v < (1ULL << (7 * (k + 1))) : v < (1ULL << 56))
			break;
	}
	if (k == 8) {
		tmp[0] = 0xff;
		put_le64(tmp + 1, v);
		buf_add(b, tmp, 9);
		return;
	}
	{
		uint64_t	 x = (v << (k + 1)) | ((1ULL << k) - 1);
		int		 i;

		for (i = 0; i <= k; i++)
			tmp[i] = (uint8_t)(x >> (8 * i));
		buf_add(b, tmp, (size_t)k + 1);
	}
}

/*
 * Encode the MySQL GTID set s into out.  Returns 0 or -1 with *cause.
 */
int
gtid_mysql_encode(const char *s, struct buf *out, char **cause)
{
	struct gtid_entry	*e = NULL, *cur = NULL;
	size_t			 ne = 0, i, j;
	const char		*p = s, *end, *part;
	char			*copy = NULL, *save = NULL, *tok;
	uint8_t			 tmp[16];
	int			 tagged = 0, rc = -1;

	while (*p == ' ')
		p++;
	copy = xstrdup(p);
	for (tok = strtok_r(copy, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		while (isspace((unsigned char)*tok))
			tok++;
		end = tok + strcspn(tok, ":");
		if (gtid_parse_uuid(tok, (size_t)(end - tok), tmp) != 0) {
			*cause = xasprintf("'%s' does not start with a UUID",
			    tok);
			goto out;
		}
		e = xreallocarray(e, ne + 1, sizeof *e);
		cur = &e[ne++];
		memset(cur, 0, sizeof *cur);
		memcpy(cur->uuid, tmp, 16);
		if (*end != ':') {
			*cause = xasprintf("'%s' has no GNO ranges", tok);
			goto out;
		}
		for (part = end + 1; *part != '\0';) {
			size_t	 n = strcspn(part, ":");
			char	*dash;
			uint64_t a, b;

			if (n == 0) {
				*cause = xasprintf("empty range in '%s'", tok);
				goto out;
			}
			if (isalpha((unsigned char)part[0]) || part[0] == '_') {
				/* a tag starts a new entry for the same uuid */
				if (n > 32) {
					*cause = xasprintf("GTID tag longer "
					    "than 32 characters in '%s'", tok);
					goto out;
				}
				if (cur->niv > 0 || cur->tag[0] != '\0') {
					e = xreallocarray(e, ne + 1, sizeof *e);
					cur = &e[ne++];
					memset(cur, 0, sizeof *cur);
					memcpy(cur->uuid, tmp, 16);
				}
				for (j = 0; j < n; j++)
					cur->tag[j] = (char)tolower(
					    (unsigned char)part[j]);
				cur->tag[n] = '\0';
				tagged = 1;
			} else {
				a = strtoull(part, &dash, 10);
				if (*dash == '-')
					b = strtoull(dash + 1, &dash, 10);
				else
					b = a;
				if (dash != part + n || a == 0 || b < a ||
				    b == UINT64_MAX) {
					*cause = xasprintf("bad GNO range "
					    "'%.*s'", (int)n, part);
					goto out;
				}
				cur->iv = xreallocarray(cur->iv, cur->niv + 1,
				    sizeof *cur->iv);
				cur->iv[cur->niv][0] = a;
				cur->iv[cur->niv][1] = b + 1;
				cur->niv++;
			}
			part += n;
			if (*part == ':')
				part++;
		}
	}
	if (ne == 0) {
		*cause = xstrdup("empty GTID set");
		goto out;
	}
	if (tagged) {
		tmp[0] = 1;
		put_le32(tmp + 1, (uint32_t)ne);
		tmp[5] = tmp[6] = 0;
		tmp[7] = 1;
	} else
		put_le64(tmp, ne);
	buf_add(out, tmp, 8);
	for (i = 0; i < ne; i++) {
		buf_add(out, e[i].uuid, 16);
		if (tagged) {
			gtid_put_varlen(out, strlen(e[i].tag));
			buf_adds(out, e[i].tag);
		}
		put_le64(tmp, e[i].niv);
		buf_add(out, tmp, 8);
		for (j = 0; j < e[i].niv; j++) {
			put_le64(tmp, e[i].iv[j][0]);
			put_le64(tmp + 8, e[i].iv[j][1]);
			buf_add(out, tmp, 16);
		}
	}
	rc = 0;
out:
	for (i = 0; i < ne; i++)
		free(e[i].iv);
	free(e);
	free(copy);
	return (rc);
}

/* Check a MariaDB GTID position: "D-S-N" items separated by commas. */
int
gtid_mariadb_check(const char *s, char **cause)
{
	const char	*p = s;
	int		 parts;

	if (*p == '\0')
		return (0);	/* empty: from the start of the binlogs */
	for (;;) {
		for (parts = 0; parts < 3; parts++) {
			if (!isdigit((unsigned char)*p))
				goto bad;
			while (isdigit((unsigned char)*p))
				p++;
			if (parts < 2 && *p++ != '-')
				goto bad;
		}
		if (*p == '\0')
			return (0);
		if (*p++ != ',')
			goto bad;
		while (*p == ' ')
			p++;
	}
bad:
	*cause = xasprintf("'%s' is not a MariaDB GTID position (expected "
	    "domain-server-sequence, e.g. 0-1-100)", s);
	return (-1);
}

/*
 * A MariaDB GTID position kept as a binlog is read: the last GTID of each
 * replication domain, which is what @slave_connect_state takes and what
 * BINLOG_GTID_POS() answers for a file and position.
 */
void
gtid_pos_init(struct gtid_pos *gp)
{
	memset(gp, 0, sizeof *gp);
}

void
gtid_pos_release(struct gtid_pos *gp)
{
	free(gp->v);
	gtid_pos_init(gp);
}

/* The last GTID of domain d is now d-server-seq. */
void
gtid_pos_update(struct gtid_pos *gp, uint32_t domain, uint32_t server,
    uint64_t seq)
{
	size_t	 i;

	for (i = 0; i < gp->n && gp->v[i].domain < domain; i++)
		;
	if (i == gp->n || gp->v[i].domain != domain) {
		gp->v = xreallocarray(gp->v, gp->n + 1, sizeof *gp->v);
		memmove(&gp->v[i + 1], &gp->v[i], (gp->n - i) * sizeof *gp->v);
		gp->n++;
		gp->v[i].domain = domain;
	}
	gp->v[i].server = server;
	gp->v[i].seq = seq;
}

/* Parse "d-s-n[,d-s-n...]" (empty: no GTID yet) into gp: 0, or -1. */
int
gtid_pos_parse(struct gtid_pos *gp, const char *s, char **cause)
{
	unsigned long long	 d, sv, n;
	const char		*p = s;
	char			*end;

	gtid_pos_release(gp);
	if (gtid_mariadb_check(s, cause) != 0)
		return (-1);
	while (*p != '\0') {
		d = strtoull(p, &end, 10);
		sv = strtoull(end + 1, &end, 10);
		n = strtoull(end + 1, &end, 10);
		if (d > UINT32_MAX || sv > UINT32_MAX) {
			*cause = xasprintf("'%s': a domain or server id over "
			    "32 bits", s);
			gtid_pos_release(gp);
			return (-1);
		}
		gtid_pos_update(gp, (uint32_t)d, (uint32_t)sv, n);
		for (p = end; *p == ',' || *p == ' '; p++)
			;
	}
	return (0);
}

/* The position as text, by domain ("" when empty): a new string. */
char *
gtid_pos_text(const struct gtid_pos *gp)
{
	struct buf	 b = BUF_INITIALIZER;
	size_t		 i;

	for (i = 0; i < gp->n; i++)
		buf_printf(&b, "%s%" PRIu32 "-%" PRIu32 "-%" PRIu64,
		    i > 0 ? "," : "", gp->v[i].domain, gp->v[i].server,
		    gp->v[i].seq);
	buf_str(&b);		/* terminated, also when empty */
	return (buf_detach(&b, NULL));
}
