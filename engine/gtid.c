/*
 * GTIDs: the text forms users and servers write, the binary form MySQL's
 * COM_BINLOG_DUMP_GTID carries, and the state a job keeps of its source as
 * it reads.
 *
 * MySQL names a transaction uuid[:tag]:gno and a server's history by the
 * set of every GTID it executed ("uuid:1-5:7[:tag:1-3],uuid2:..."): a set
 * of [start, end) intervals per (uuid, tag).  MariaDB names one
 * domain-server-seq, and a position by the last GTID of each replication
 * domain ("0-1-100,1-2-5"): within a domain, sequence numbers only grow.
 * struct gtid_state holds either; a job moves it by each transaction's
 * GTID as the watermark passes it and checks, before it reads another
 * server, that the server's own state contains it.
 *
 * gtid_set_encode() writes the binary form of a PREVIOUS_GTIDS body: a
 * count of (uuid, tag) entries, then per entry the uuid, in the tagged
 * format of MySQL 8.4+ the tag, a count of intervals and the pairs.  The
 * tagged format is used only when a tag appears, so that servers before
 * 8.4 understand the request.
 */
#include "config.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/bytes.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "engine/binlog.h"
#include "engine/gtid.h"

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

void
gtid_set_init(struct gtid_set *set)
{
	memset(set, 0, sizeof *set);
}

void
gtid_set_release(struct gtid_set *set)
{
	size_t	 i;

	for (i = 0; i < set->n; i++)
		free(set->e[i].iv);
	free(set->e);
	gtid_set_init(set);
}

static int
gtid_set_cmp(const uint8_t uuid[16], const char *tag,
    const struct gtid_set_entry *e)
{
	int	 c;

	if ((c = memcmp(uuid, e->uuid, 16)) != 0)
		return (c);
	return (strcmp(tag, e->tag));
}

/* The entry of (uuid, tag), made (empty, in order) when absent. */
static struct gtid_set_entry *
gtid_set_entry(struct gtid_set *set, const uint8_t uuid[16], const char *tag)
{
	struct gtid_set_entry	*e;
	size_t			 i;
	int			 c = 1;

	for (i = 0; i < set->n; i++) {
		if ((c = gtid_set_cmp(uuid, tag, &set->e[i])) <= 0)
			break;
	}
	if (i < set->n && c == 0)
		return (&set->e[i]);
	set->e = xreallocarray(set->e, set->n + 1, sizeof *set->e);
	memmove(&set->e[i + 1], &set->e[i], (set->n - i) * sizeof *set->e);
	set->n++;
	e = &set->e[i];
	memset(e, 0, sizeof *e);
	memcpy(e->uuid, uuid, 16);
	(void)util_strlcpy(e->tag, tag, sizeof e->tag);
	return (e);
}

/* Add the GTIDs [a, b) to an entry, keeping its intervals sorted, apart
 * and not touching (merged). */
static void
gtid_set_entry_add(struct gtid_set_entry *e, uint64_t a, uint64_t b)
{
	size_t	 i, j;

	/* The common case: the next GNO of the last interval. */
	if (e->niv > 0 && e->iv[e->niv - 1][1] == a) {
		e->iv[e->niv - 1][1] = b;
		return;
	}
	for (i = 0; i < e->niv && e->iv[i][1] < a; i++)
		;
	/* e->iv[i] is the first interval that ends at or after a. */
	if (i == e->niv || e->iv[i][0] > b) {
		e->iv = xreallocarray(e->iv, e->niv + 1, sizeof *e->iv);
		memmove(&e->iv[i + 1], &e->iv[i], (e->niv - i) *
		    sizeof *e->iv);
		e->iv[i][0] = a;
		e->iv[i][1] = b;
		e->niv++;
		return;
	}
	if (a < e->iv[i][0])
		e->iv[i][0] = a;
	if (b > e->iv[i][1])
		e->iv[i][1] = b;
	/* Swallow the intervals the grown one reaches. */
	for (j = i + 1; j < e->niv && e->iv[j][0] <= e->iv[i][1]; j++) {
		if (e->iv[j][1] > e->iv[i][1])
			e->iv[i][1] = e->iv[j][1];
	}
	memmove(&e->iv[i + 1], &e->iv[j], (e->niv - j) * sizeof *e->iv);
	e->niv -= j - i - 1;
}

/* uuid[:tag]:gno is in the set now (tag "" or NULL: none). */
void
gtid_set_add(struct gtid_set *set, const uint8_t uuid[16], const char *tag,
    uint64_t gno)
{
	gtid_set_entry_add(gtid_set_entry(set, uuid, tag != NULL ? tag : ""),
	    gno, gno + 1);
}

/*
 * Parse MySQL's text form into set (emptied first): "" is the empty set;
 * whitespace (MySQL writes a newline after each comma) is ignored.
 * Returns 0, or -1 with *cause.
 */
int
gtid_set_parse(struct gtid_set *set, const char *s, char **cause)
{
	struct gtid_set_entry	*cur;
	const char		*p, *end, *part;
	char			*copy, *save = NULL, *tok, *w;
	char			 tag[33];
	uint8_t			 uuid[16];
	int			 rc = -1;

	gtid_set_release(set);
	/* Without the whitespace. */
	copy = xmalloc(strlen(s) + 1);
	for (p = s, w = copy; *p != '\0'; p++) {
		if (!isspace((unsigned char)*p))
			*w++ = *p;
	}
	*w = '\0';
	for (tok = strtok_r(copy, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		end = tok + strcspn(tok, ":");
		if (gtid_parse_uuid(tok, (size_t)(end - tok), uuid) != 0) {
			*cause = xasprintf("'%s' does not start with a UUID",
			    tok);
			goto out;
		}
		if (*end != ':') {
			*cause = xasprintf("'%s' has no GNO ranges", tok);
			goto out;
		}
		tag[0] = '\0';
		cur = NULL;
		for (part = end + 1; *part != '\0';) {
			size_t	 n = strcspn(part, ":"), j;
			char	*dash;
			uint64_t a, b;

			if (n == 0) {
				*cause = xasprintf("empty range in '%s'", tok);
				goto out;
			}
			if (isalpha((unsigned char)part[0]) || part[0] == '_') {
				if (n > 32) {
					*cause = xasprintf("GTID tag longer "
					    "than 32 characters in '%s'", tok);
					goto out;
				}
				for (j = 0; j < n; j++) {
					if (!isalnum((unsigned char)part[j]) &&
					    part[j] != '_') {
						*cause = xasprintf("bad GTID "
						    "tag '%.*s'", (int)n, part);
						goto out;
					}
					tag[j] = (char)tolower(
					    (unsigned char)part[j]);
				}
				tag[n] = '\0';
				/* A tag with no range names no GTID. */
				cur = gtid_set_entry(set, uuid, tag);
			} else {
				a = strtoull(part, &dash, 10);
				if (*dash == '-')
					b = strtoull(dash + 1, &dash, 10);
				else
					b = a;
				if (!isdigit((unsigned char)part[0]) ||
				    dash != part + n || a == 0 || b < a ||
				    b == UINT64_MAX) {
					*cause = xasprintf("bad GNO range "
					    "'%.*s'", (int)n, part);
					goto out;
				}
				if (cur == NULL)
					cur = gtid_set_entry(set, uuid, tag);
				gtid_set_entry_add(cur, a, b + 1);
			}
			part += n;
			if (*part == ':')
				part++;
		}
	}
	rc = 0;
out:
	if (rc != 0)
		gtid_set_release(set);
	free(copy);
	return (rc);
}

/* Whether every GTID of want is in have. */
int
gtid_set_contains(const struct gtid_set *have, const struct gtid_set *want)
{
	const struct gtid_set_entry	*w, *h;
	size_t				 i, j, k;

	for (i = 0; i < want->n; i++) {
		w = &want->e[i];
		if (w->niv == 0)
			continue;
		for (j = 0; j < have->n; j++) {
			if (gtid_set_cmp(w->uuid, w->tag, &have->e[j]) == 0)
				break;
		}
		if (j == have->n)
			return (0);
		h = &have->e[j];
		/* Each wanted interval inside one held interval (both are
		 * merged, so one suffices). */
		for (k = 0; k < w->niv; k++) {
			size_t	 m;

			for (m = 0; m < h->niv; m++) {
				if (h->iv[m][0] <= w->iv[k][0] &&
				    w->iv[k][1] <= h->iv[m][1])
					break;
			}
			if (m == h->niv)
				return (0);
		}
	}
	return (1);
}

/* The set as MySQL writes it, without the newlines: a new string ("" when
 * empty). */
char *
gtid_set_text(const struct gtid_set *set)
{
	struct buf	 b = BUF_INITIALIZER;
	size_t		 i, j;

	for (i = 0; i < set->n; i++) {
		const struct gtid_set_entry	*e = &set->e[i];

		if (e->niv == 0)
			continue;
		if (i == 0 || memcmp(set->e[i - 1].uuid, e->uuid, 16) != 0) {
			if (b.len > 0)
				buf_addc(&b, ',');
			binlog_uuid_text(e->uuid, &b);
		}
		if (e->tag[0] != '\0')
			buf_printf(&b, ":%s", e->tag);
		for (j = 0; j < e->niv; j++) {
			if (e->iv[j][1] - e->iv[j][0] == 1)
				buf_printf(&b, ":%" PRIu64, e->iv[j][0]);
			else
				buf_printf(&b, ":%" PRIu64 "-%" PRIu64,
				    e->iv[j][0], e->iv[j][1] - 1);
		}
	}
	buf_str(&b);
	return (buf_detach(&b, NULL));
}

/* Append the binary form of set to out (see the top of the file). */
void
gtid_set_encode(const struct gtid_set *set, struct buf *out)
{
	uint8_t	 tmp[16];
	size_t	 i, j, n = 0;
	int	 tagged = 0;

	for (i = 0; i < set->n; i++) {
		if (set->e[i].niv == 0)
			continue;
		n++;
		if (set->e[i].tag[0] != '\0')
			tagged = 1;
	}
	if (tagged) {
		tmp[0] = 1;
		put_le32(tmp + 1, (uint32_t)n);
		tmp[5] = tmp[6] = 0;
		tmp[7] = 1;
	} else
		put_le64(tmp, n);
	buf_add(out, tmp, 8);
	for (i = 0; i < set->n; i++) {
		const struct gtid_set_entry	*e = &set->e[i];

		if (e->niv == 0)
			continue;
		buf_add(out, e->uuid, 16);
		if (tagged) {
			gtid_put_varlen(out, strlen(e->tag));
			buf_adds(out, e->tag);
		}
		put_le64(tmp, e->niv);
		buf_add(out, tmp, 8);
		for (j = 0; j < e->niv; j++) {
			put_le64(tmp, e->iv[j][0]);
			put_le64(tmp + 8, e->iv[j][1]);
			buf_add(out, tmp, 16);
		}
	}
}

/*
 * Encode the MySQL GTID set s (text) into out.  Returns 0 or -1 with
 * *cause.
 */
int
gtid_mysql_encode(const char *s, struct buf *out, char **cause)
{
	struct gtid_set	 set;

	gtid_set_init(&set);
	if (gtid_set_parse(&set, s, cause) != 0)
		return (-1);
	gtid_set_encode(&set, out);
	gtid_set_release(&set);
	return (0);
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

/* Whether have is at or past want in every domain want names. */
int
gtid_pos_contains(const struct gtid_pos *have, const struct gtid_pos *want)
{
	size_t	 i, j;

	for (i = 0; i < want->n; i++) {
		for (j = 0; j < have->n; j++) {
			if (have->v[j].domain == want->v[i].domain)
				break;
		}
		if (j == have->n || have->v[j].seq < want->v[i].seq)
			return (0);
	}
	return (1);
}

/*
 * A source's GTID state: MariaDB's position or MySQL's executed set,
 * told apart by the text (a MySQL set names UUIDs, with ':').
 */
void
gtid_state_init(struct gtid_state *st)
{
	memset(st, 0, sizeof *st);
	gtid_pos_init(&st->pos);
	gtid_set_init(&st->set);
}

void
gtid_state_release(struct gtid_state *st)
{
	gtid_pos_release(&st->pos);
	gtid_set_release(&st->set);
	gtid_state_init(st);
}

/*
 * Parse s as flavour (GTID_MARIADB or GTID_MYSQL; GTID_NONE: tell from the
 * text, an empty one being MariaDB's empty position).  Returns 0, or -1
 * with *cause.
 */
int
gtid_state_parse(struct gtid_state *st, const char *s, int flavour,
    char **cause)
{
	gtid_state_release(st);
	if (flavour == GTID_NONE)
		flavour = strchr(s, ':') != NULL ? GTID_MYSQL : GTID_MARIADB;
	st->flavour = flavour;
	if (flavour == GTID_MYSQL ? gtid_set_parse(&st->set, s, cause) :
	    gtid_pos_parse(&st->pos, s, cause)) {
		gtid_state_release(st);
		return (-1);
	}
	return (0);
}

/* The transaction g is in the state now (an empty state takes its
 * flavour; one of another flavour is ignored). */
void
gtid_state_add(struct gtid_state *st, const struct gtid_one *g)
{
	if (st->flavour != g->flavour && st->pos.n == 0 && st->set.n == 0)
		st->flavour = g->flavour;	/* nothing yet: "" is both */
	if (g->flavour != st->flavour)
		return;
	if (g->flavour == GTID_MARIADB)
		gtid_pos_update(&st->pos, g->domain, g->server, g->seq);
	else
		gtid_set_add(&st->set, g->uuid, g->tag, g->seq);
}

/* Whether have contains want (of the same flavour; a state with nothing
 * is in every other). */
int
gtid_state_contains(const struct gtid_state *have,
    const struct gtid_state *want)
{
	if (want->flavour == GTID_NONE || (want->flavour == GTID_MARIADB ?
	    want->pos.n == 0 : want->set.n == 0))
		return (1);
	if (have->flavour != want->flavour)
		return (0);
	return (want->flavour == GTID_MARIADB ? gtid_pos_contains(&have->pos,
	    &want->pos) : gtid_set_contains(&have->set, &want->set));
}

/* The state as text: a new string ("" when it holds nothing). */
char *
gtid_state_text(const struct gtid_state *st)
{
	return (st->flavour == GTID_MYSQL ? gtid_set_text(&st->set) :
	    gtid_pos_text(&st->pos));
}

/* One GTID as text (MariaDB d-s-n, MySQL uuid[:tag]:gno): a new string. */
char *
gtid_one_text(const struct gtid_one *g)
{
	struct gtid_set	 set;
	char		*s;

	if (g->flavour == GTID_MARIADB)
		return (xasprintf("%" PRIu32 "-%" PRIu32 "-%" PRIu64,
		    g->domain, g->server, g->seq));
	gtid_set_init(&set);
	gtid_set_add(&set, g->uuid, g->tag, g->seq);
	s = gtid_set_text(&set);
	gtid_set_release(&set);
	return (s);
}
