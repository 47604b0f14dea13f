/*
 * SHOW GRANTS, read.  A line is one of
 *
 *	GRANT priv[, priv...] ON object TO account [...]
 *	GRANT role[, role...] TO account [...]		(roles)
 *	SET DEFAULT ROLE ... / REVOKE ... (MySQL's partial revokes)
 *
 * where object is *.*, db.*, db.table, or PROCEDURE / FUNCTION / PACKAGE
 * db.name, and names are bare or quoted with backticks (a backtick inside
 * doubled).  A database name in a database-level grant is a LIKE pattern
 * ('_' and '%', '\' escapes); in a table-level grant it is a name.
 * Column-level privileges ("SELECT (a, b)") do not give a whole table.
 * Lines of other kinds, and privileges ferry does not look for, are
 * skipped: the precheck also tries what it can (engine/precheck.c).
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/util.h"
#include "common/xmalloc.h"
#include "engine/grants.h"

void
grants_init(struct grants *g)
{
	memset(g, 0, sizeof *g);
}

void
grants_release(struct grants *g)
{
	size_t	i;

	for (i = 0; i < g->n; i++) {
		free(g->list[i].db);
		free(g->list[i].table);
	}
	free(g->list);
	for (i = 0; i < g->nroles; i++)
		free(g->roles[i]);
	free(g->roles);
	grants_init(g);
}

/* The end of a name starting at p: past its closing quote, or at the
 * first character that cannot be in a bare name. */
static const char *
grants_name_end(const char *p)
{
	char	q = *p;

	if (q == '`' || q == '\'' || q == '"') {
		for (p++; *p != '\0'; p++) {
			if (*p == q && p[1] == q)
				p++;
			else if (*p == q)
				return (p + 1);
		}
		return (p);
	}
	while (*p != '\0' && (isalnum((unsigned char)*p) || *p == '_' ||
	    *p == '$' || *p == '*' || *p == '%' || *p == '\\' ||
	    (unsigned char)*p >= 0x80))
		p++;
	return (p);
}

/* The name in [p, e), unquoted. */
static char *
grants_name(const char *p, const char *e)
{
	char	*s, *o, q = *p;

	if (q != '`' && q != '\'' && q != '"')
		return (xstrndup(p, (size_t)(e - p)));
	o = s = xmalloc((size_t)(e - p) + 1);
	for (p++; p < e; p++) {
		if (*p == q && p + 1 < e && p[1] == q)
			*o++ = *p++;
		else if (*p == q)
			break;
		else
			*o++ = *p;
	}
	*o = '\0';
	return (s);
}

/*
 * The position of the keyword kw (" ON ", " TO ") in s outside quotes and
 * parentheses, or NULL.
 */
static const char *
grants_keyword(const char *s, const char *kw)
{
	size_t		 len = strlen(kw);
	int		 depth = 0;
	const char	*p = s;

	while (*p != '\0') {
		if (*p == '`' || *p == '\'' || *p == '"') {
			p = grants_name_end(p);
			continue;
		}
		if (*p == '(')
			depth++;
		else if (*p == ')' && depth > 0)
			depth--;
		else if (depth == 0 && strncasecmp(p, kw, len) == 0)
			return (p);
		p++;
	}
	return (NULL);
}

/* One privilege's bits ("SELECT", "LOCK TABLES", ...); 0: not ferry's. */
static unsigned int
grants_priv(const char *p, size_t len)
{
	static const struct {
		const char	*name;
		unsigned int	 bits;
	} privs[] = {
		{ "ALL", GRANT_ALL },
		{ "ALL PRIVILEGES", GRANT_ALL },
		{ "SELECT", GRANT_SELECT },
		{ "RELOAD", GRANT_RELOAD },
		{ "LOCK TABLES", GRANT_LOCK_TABLES },
		{ "REPLICATION SLAVE", GRANT_REPL_SLAVE },
		{ "REPLICATION REPLICA", GRANT_REPL_SLAVE },
		{ "REPLICATION CLIENT", GRANT_REPL_CLIENT },
		{ "BINLOG MONITOR", GRANT_REPL_CLIENT },
		{ "SHOW VIEW", GRANT_SHOW_VIEW },
		{ "SUPER", GRANT_SUPER },
	};
	size_t	i;

	while (len > 0 && isspace((unsigned char)*p)) {
		p++;
		len--;
	}
	while (len > 0 && isspace((unsigned char)p[len - 1]))
		len--;
	for (i = 0; i < nitems(privs); i++) {
		if (strlen(privs[i].name) == len &&
		    strncasecmp(privs[i].name, p, len) == 0)
			return (privs[i].bits);
	}
	return (0);
}

/* The bits of "priv, priv (cols), ..." in [p, e). */
static unsigned int
grants_privs(const char *p, const char *e)
{
	unsigned int	 bits = 0;
	const char	*start = p;
	int		 depth = 0, cols = 0;

	for (;; p++) {
		if (p == e || (*p == ',' && depth == 0)) {
			if (!cols)
				bits |= grants_priv(start, (size_t)(p - start));
			if (p == e)
				break;
			start = p + 1;
			cols = 0;
		} else if (*p == '(') {
			depth++;
			cols = 1;	/* column-level: not the table */
		} else if (*p == ')' && depth > 0)
			depth--;
	}
	return (bits);
}

static void
grants_role(struct grants *g, const char *p, const char *e)
{
	const char	*q;

	while (p < e) {
		while (p < e && (isspace((unsigned char)*p) || *p == ','))
			p++;
		if (p >= e)
			break;
		q = grants_name_end(p);
		if (q == p || q > e)
			break;
		g->roles = xreallocarray(g->roles, g->nroles + 1,
		    sizeof *g->roles);
		g->roles[g->nroles++] = grants_name(p, q);
		/* MySQL names a role as an account: `r`@`%`. */
		if (*q == '@')
			q = grants_name_end(q + 1);
		p = q;
	}
}

/*
 * Read one line of SHOW GRANTS into g: 1 when it granted something ferry
 * reads (privileges or roles), 0 when it is of no interest.
 */
int
grants_add_line(struct grants *g, const char *line)
{
	const char	*p, *on, *to, *e;
	struct grant	 gr;

	if (strncasecmp(line, "GRANT ", 6) != 0)
		return (0);
	p = line + 6;
	if ((to = grants_keyword(p, " TO ")) == NULL)
		return (0);
	if ((on = grants_keyword(p, " ON ")) == NULL || on > to) {
		grants_role(g, p, to);
		return (1);
	}
	memset(&gr, 0, sizeof gr);
	if ((gr.privs = grants_privs(p, on)) == 0)
		return (0);
	p = on + 4;
	while (isspace((unsigned char)*p))
		p++;
	if (strncasecmp(p, "PROCEDURE ", 10) == 0 ||
	    strncasecmp(p, "FUNCTION ", 9) == 0 ||
	    strncasecmp(p, "PACKAGE ", 8) == 0)
		return (0);
	e = grants_name_end(p);
	if (e == p || *e != '.')
		return (0);		/* PROXY ON ''@'', ... */
	if (!(e - p == 1 && *p == '*'))
		gr.db = grants_name(p, e);
	p = e + 1;
	e = grants_name_end(p);
	if (e == p) {
		free(gr.db);
		return (0);
	}
	if (!(e - p == 1 && *p == '*'))
		gr.table = grants_name(p, e);
	if (gr.db == NULL && gr.table != NULL) {	/* "*.t": not SQL */
		free(gr.table);
		return (0);
	}
	g->list = xreallocarray(g->list, g->n + 1, sizeof *g->list);
	g->list[g->n++] = gr;
	return (1);
}

/* LIKE with '_', '%' and '\' escapes (a database-level grant's name). */
static int
grants_like(const char *pat, const char *s)
{
	for (; *pat != '\0'; pat++, s++) {
		if (*pat == '%') {
			while (pat[1] == '%')
				pat++;
			if (pat[1] == '\0')
				return (1);
			for (; *s != '\0'; s++) {
				if (grants_like(pat + 1, s))
					return (1);
			}
			return (0);
		}
		if (*s == '\0')
			return (0);
		if (*pat == '\\' && pat[1] != '\0') {
			pat++;
			if (*pat != *s)
				return (0);
		} else if (*pat != '_' && *pat != *s)
			return (0);
	}
	return (*s == '\0');
}

/* Does grant gr apply to db.table (table NULL: the whole database; db
 * NULL: the server)? */
static int
grants_cover(const struct grant *gr, const char *db, const char *table)
{
	if (gr->db == NULL)
		return (1);
	if (db == NULL)
		return (0);
	if (gr->table == NULL)
		return (grants_like(gr->db, db));
	return (table != NULL && strcmp(gr->db, db) == 0 &&
	    strcmp(gr->table, table) == 0);
}

/*
 * 1 when every privilege in privs is granted on db.table (db NULL: the
 * global privileges; table NULL: on every table of db), 0 when not.
 */
int
grants_allow(const struct grants *g, unsigned int privs, const char *db,
    const char *table)
{
	unsigned int	have = 0;
	size_t		i;

	for (i = 0; i < g->n; i++) {
		if (grants_cover(&g->list[i], db, table))
			have |= g->list[i].privs;
	}
	return ((have & privs) == privs);
}
