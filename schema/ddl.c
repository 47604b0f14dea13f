/*
 * Which tables a DDL statement shapes.
 *
 * Not a SQL parser: a tokenizer that skips comments and string literals,
 * unquotes `identifiers` and reads, after the keywords that begin a
 * table-shaping statement (CREATE [OR REPLACE] [TEMPORARY] TABLE,
 * ALTER [ONLINE] [IGNORE] TABLE, DROP [TEMPORARY] TABLE[S], RENAME TABLE[S],
 * TRUNCATE [TABLE]), the table names they act on, with
 * IF [NOT] EXISTS, lists (DROP TABLE a, b; RENAME TABLE a TO b, c TO d) and
 * ALTER TABLE a ... RENAME [TO|AS] b.  MySQL's versioned comments
 * (slash-star-bang) are read as code.  A statement of another kind names no
 * table; one of these kinds whose names cannot be read says so
 * (DDL_UNKNOWN), and the caller assumes the worst.
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/xmalloc.h"
#include "schema/ddl.h"

struct ddl_lexer {
	const char	*p;
	const char	*end;
};

/* Skip blanks and comments (a versioned comment's body is code). */
static void
ddl_skip(struct ddl_lexer *lx)
{
	for (;;) {
		while (lx->p < lx->end && isspace((unsigned char)*lx->p))
			lx->p++;
		if (lx->end - lx->p >= 3 && lx->p[0] == '/' && lx->p[1] == '*' &&
		    lx->p[2] == '!') {
			lx->p += 3;
			while (lx->p < lx->end && isdigit((unsigned char)*lx->p))
				lx->p++;
			continue;
		}
		if (lx->end - lx->p >= 2 && lx->p[0] == '*' && lx->p[1] == '/') {
			lx->p += 2;	/* the end of a versioned comment */
			continue;
		}
		if (lx->end - lx->p >= 2 && lx->p[0] == '/' && lx->p[1] == '*') {
			const char *q = lx->p + 2;

			while (q + 1 < lx->end && !(q[0] == '*' && q[1] == '/'))
				q++;
			lx->p = q + 1 < lx->end ? q + 2 : lx->end;
			continue;
		}
		if (lx->p < lx->end && (*lx->p == '#' || (lx->end - lx->p >= 3 &&
		    lx->p[0] == '-' && lx->p[1] == '-' &&
		    isspace((unsigned char)lx->p[2])))) {
			while (lx->p < lx->end && *lx->p != '\n')
				lx->p++;
			continue;
		}
		return;
	}
}

/*
 * The next token into *tok (a new string): an identifier or keyword
 * (unquoted from backticks; *quoted set), a quoted string (returned with
 * its quote as first character), or one punctuation character.  0 at the
 * end.
 */
static int
ddl_next(struct ddl_lexer *lx, char **tok, int *quoted)
{
	const char	*s;
	char		*out;
	size_t		 n = 0;

	*quoted = 0;
	ddl_skip(lx);
	if (lx->p >= lx->end)
		return (0);
	s = lx->p;
	if (*s == '`') {
		out = xmalloc((size_t)(lx->end - s) + 1);
		for (lx->p++; lx->p < lx->end; lx->p++) {
			if (*lx->p == '`') {
				if (lx->p + 1 < lx->end && lx->p[1] == '`') {
					out[n++] = '`';
					lx->p++;
					continue;
				}
				lx->p++;
				break;
			}
			out[n++] = *lx->p;
		}
		out[n] = '\0';
		*tok = out;
		*quoted = 1;
		return (1);
	}
	if (*s == '\'' || *s == '"') {
		char	 q = *s;

		for (lx->p++; lx->p < lx->end && *lx->p != q; lx->p++) {
			if (*lx->p == '\\' && lx->p + 1 < lx->end)
				lx->p++;
		}
		if (lx->p < lx->end)
			lx->p++;
		*tok = xstrndup(s, 1);
		return (1);
	}
	if (isalnum((unsigned char)*s) || *s == '_' || *s == '$' ||
	    (unsigned char)*s >= 0x80) {
		while (lx->p < lx->end && (isalnum((unsigned char)*lx->p) ||
		    *lx->p == '_' || *lx->p == '$' ||
		    (unsigned char)*lx->p >= 0x80))
			lx->p++;
		*tok = xstrndup(s, (size_t)(lx->p - s));
		return (1);
	}
	lx->p++;
	*tok = xstrndup(s, 1);
	return (1);
}

static int
ddl_is(const char *tok, int quoted, const char *kw)
{
	return (tok != NULL && !quoted && strcasecmp(tok, kw) == 0);
}

/* Read "[db.]name" at the lexer into a ddl_table (db defaulted). */
static int
ddl_name(struct ddl_lexer *lx, const char *defdb, struct ddl_table *t)
{
	char	*a = NULL, *b = NULL, *dot = NULL;
	int	 qa, qb, qd;
	struct ddl_lexer save;

	if (!ddl_next(lx, &a, &qa))
		return (-1);
	if (!qa && !(isalnum((unsigned char)a[0]) || a[0] == '_' ||
	    a[0] == '$' || (unsigned char)a[0] >= 0x80)) {
		free(a);
		return (-1);
	}
	save = *lx;
	if (ddl_next(lx, &dot, &qd) && !qd && strcmp(dot, ".") == 0 &&
	    ddl_next(lx, &b, &qb)) {
		t->db = a;
		t->table = b;
		free(dot);
		return (0);
	}
	free(dot);
	free(b);
	*lx = save;
	if (defdb == NULL || *defdb == '\0') {
		free(a);
		return (-1);
	}
	t->db = xstrdup(defdb);
	t->table = a;
	return (0);
}

static void
ddl_add(struct ddl_stmt *st, struct ddl_table *t)
{
	st->tables = xreallocarray(st->tables, st->ntables + 1,
	    sizeof *st->tables);
	st->tables[st->ntables++] = *t;
	memset(t, 0, sizeof *t);
}

/* Skip "IF [NOT] EXISTS" when it comes next. */
static void
ddl_if_exists(struct ddl_lexer *lx)
{
	struct ddl_lexer	 save = *lx;
	char			*tok = NULL;
	int			 q;

	if (ddl_next(lx, &tok, &q) && ddl_is(tok, q, "IF")) {
		free(tok);
		tok = NULL;
		if (ddl_next(lx, &tok, &q) && ddl_is(tok, q, "NOT")) {
			free(tok);
			tok = NULL;
			ddl_next(lx, &tok, &q);
		}
		free(tok);	/* EXISTS */
		return;
	}
	free(tok);
	*lx = save;
}

/* A list of names separated by commas (DROP TABLE a, b). */
static int
ddl_name_list(struct ddl_lexer *lx, const char *defdb, struct ddl_stmt *st)
{
	struct ddl_table	 t = { NULL, NULL };
	struct ddl_lexer	 save;
	char			*tok = NULL;
	int			 q;

	for (;;) {
		if (ddl_name(lx, defdb, &t) != 0)
			return (-1);
		ddl_add(st, &t);
		save = *lx;
		if (!ddl_next(lx, &tok, &q) || q || strcmp(tok, ",") != 0) {
			free(tok);
			*lx = save;
			return (0);
		}
		free(tok);
		tok = NULL;
	}
}

void
ddl_stmt_free(struct ddl_stmt *st)
{
	size_t	 i;

	for (i = 0; i < st->ntables; i++) {
		free(st->tables[i].db);
		free(st->tables[i].table);
	}
	free(st->tables);
	memset(st, 0, sizeof *st);
}

int
ddl_parse(const char *sql, size_t len, const char *defdb, struct ddl_stmt *st)
{
	struct ddl_lexer	 lx = { sql, sql + len }, before;
	struct ddl_table	 t = { NULL, NULL };
	char			*tok = NULL, *verb = NULL;
	int			 q, rc = -1;

	memset(st, 0, sizeof *st);
	st->kind = DDL_OTHER;
	if (!ddl_next(&lx, &verb, &q) || q)
		goto out;
	/* CREATE [OR REPLACE] [TEMPORARY] TABLE, ALTER [ONLINE] [IGNORE]
	 * TABLE, DROP [TEMPORARY] TABLE[S], RENAME TABLE[S], TRUNCATE [TABLE] */
	for (;;) {
		free(tok);
		tok = NULL;
		before = lx;
		if (!ddl_next(&lx, &tok, &q))
			goto out;
		if (ddl_is(tok, q, "OR") || ddl_is(tok, q, "REPLACE") ||
		    ddl_is(tok, q, "TEMPORARY") || ddl_is(tok, q, "ONLINE") ||
		    ddl_is(tok, q, "IGNORE"))
			continue;
		break;
	}
	if (ddl_is(verb, 0, "TRUNCATE")) {
		st->kind = DDL_TRUNCATE;
		if (!ddl_is(tok, q, "TABLE"))
			lx = before;	/* TRUNCATE name */
		rc = ddl_name(&lx, defdb, &t);
		if (rc == 0)
			ddl_add(st, &t);
		goto out;
	}
	if (!ddl_is(tok, q, "TABLE") && !ddl_is(tok, q, "TABLES"))
		goto out;	/* not about tables */
	if (ddl_is(verb, 0, "CREATE")) {
		st->kind = DDL_CREATE;
		ddl_if_exists(&lx);
		if ((rc = ddl_name(&lx, defdb, &t)) == 0)
			ddl_add(st, &t);
	} else if (ddl_is(verb, 0, "DROP")) {
		st->kind = DDL_DROP;
		ddl_if_exists(&lx);
		rc = ddl_name_list(&lx, defdb, st);
	} else if (ddl_is(verb, 0, "RENAME")) {
		st->kind = DDL_RENAME;
		for (;;) {
			if ((rc = ddl_name(&lx, defdb, &t)) != 0)
				break;
			ddl_add(st, &t);
			free(tok);
			tok = NULL;
			if (!ddl_next(&lx, &tok, &q) || !ddl_is(tok, q, "TO") ||
			    (rc = ddl_name(&lx, defdb, &t)) != 0) {
				rc = -1;
				break;
			}
			ddl_add(st, &t);
			free(tok);
			tok = NULL;
			if (!ddl_next(&lx, &tok, &q) || q ||
			    strcmp(tok, ",") != 0)
				break;
		}
	} else if (ddl_is(verb, 0, "ALTER")) {
		st->kind = DDL_ALTER;
		if ((rc = ddl_name(&lx, defdb, &t)) != 0)
			goto out;
		ddl_add(st, &t);
		/* ... RENAME [TO|AS] name: the new name is shaped too. */
		for (;;) {
			free(tok);
			tok = NULL;
			if (!ddl_next(&lx, &tok, &q))
				break;
			if (!ddl_is(tok, q, "RENAME"))
				continue;
			free(tok);
			tok = NULL;
			before = lx;
			if (!ddl_next(&lx, &tok, &q))
				break;
			if (ddl_is(tok, q, "COLUMN") || ddl_is(tok, q, "INDEX") ||
			    ddl_is(tok, q, "KEY") ||
			    ddl_is(tok, q, "CONSTRAINT"))
				continue;
			if (!ddl_is(tok, q, "TO") && !ddl_is(tok, q, "AS"))
				lx = before;
			if (ddl_name(&lx, defdb, &t) == 0)
				ddl_add(st, &t);
			break;
		}
	}
out:
	if (st->kind != DDL_OTHER && rc != 0)
		st->kind = DDL_UNKNOWN;
	free(tok);
	free(verb);
	return (st->kind == DDL_OTHER ? 0 : 1);
}
