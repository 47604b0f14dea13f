/*
 * Reads of the initial synchronization.
 *
 * Definitions come from information_schema and are turned into the same
 * table_def a TABLE_MAP with full metadata gives (type byte and metadata,
 * charset, signedness, names, ENUM/SET labels, key), so that an INIT record
 * and a later INSERT of the same row encode the same way.  Rows are read
 * with the text protocol, character_set_results = binary (strings arrive
 * in the column's own charset, as the binlog has them) and time_zone UTC
 * (TIMESTAMPs as UTC), and each value is converted to what the binlog
 * decoder would have produced:
 *
 *	integers, YEAR	parsed			FLOAT	(col + 0e0): the exact
 *	DECIMAL		text -> binary		double of the float
 *	DATE, TIME, DATETIME, TIMESTAMP parsed	ENUM, SET, BIT	(col + 0)
 *	strings, BLOBs, GEOMETRY	raw	JSON (MySQL)	text
 *
 * Chunks are read in key order: WHERE (key) > (last key) ORDER BY key
 * LIMIT n, the last key rebuilt as SQL literals that compare in the
 * column's collation (CONVERT(X'..' USING cs) COLLATE c for text).
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/buf.h"
#include "common/log.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "engine/mysql_conn.h"
#include "engine/snapshot.h"
#include "schema/charset.h"
#include "schema/coltype.h"

/* How a column is selected and converted. */
enum snap_how {
	HOW_INT = 1,
	HOW_UINT,
	HOW_FLOAT,
	HOW_DOUBLE,
	HOW_DECIMAL,
	HOW_DATE,
	HOW_TIME,
	HOW_DATETIME,
	HOW_TIMESTAMP,
	HOW_STRING,
	HOW_ENUM,
	HOW_SET,
	HOW_BIT,
	HOW_JSON_TEXT,
	HOW_GEOMETRY,
};

/* `name` with backticks doubled: a new string. */
char *
snapshot_quote_name(const char *name)
{
	struct buf	 b = BUF_INITIALIZER;
	const char	*p;

	buf_addc(&b, '`');
	for (p = name; *p != '\0'; p++) {
		if (*p == '`')
			buf_addc(&b, '`');
		buf_addc(&b, *p);
	}
	buf_addc(&b, '`');
	return (buf_detach(&b, NULL));
}

/* 'text' as an SQL string literal of the connection. */
static void
snap_literal(MYSQL *m, struct buf *b, const char *s)
{
	size_t	 len = strlen(s);

	buf_reserve(b, len * 2 + 3);
	b->data[b->len++] = '\'';
	b->len += mysql_real_escape_string(m, (char *)b->data + b->len, s,
	    (unsigned long)len);
	b->data[b->len++] = '\'';
	b->data[b->len] = '\0';
}

static MYSQL_RES *
snap_query(MYSQL *m, const char *sql, char **cause)
{
	MYSQL_RES	*res;

	if (mysql_real_query(m, sql, (unsigned long)strlen(sql)) != 0 ||
	    (res = mysql_store_result(m)) == NULL) {
		*cause = mysql_conn_error(m, "reading the source");
		return (NULL);
	}
	return (res);
}

static int
snap_exec(MYSQL *m, const char *sql, char **cause)
{
	MYSQL_RES	*res;

	if (mysql_real_query(m, sql, (unsigned long)strlen(sql)) != 0) {
		char	*what = xasprintf("'%s' failed", sql);

		*cause = mysql_conn_error(m, what);
		free(what);
		return (-1);
	}
	if ((res = mysql_store_result(m)) != NULL)
		mysql_free_result(res);
	return (0);
}

void
snapshot_tables_free(struct snap_table *t, size_t n)
{
	size_t	 i, k;

	for (i = 0; i < n; i++) {
		free(t[i].db);
		free(t[i].name);
		if (t[i].coll != NULL) {
			for (k = 0; t[i].def != NULL && k < t[i].def->ncols;
			    k++)
				free(t[i].coll[k]);
			free(t[i].coll);
		}
		table_def_free(t[i].def);
		free(t[i].create_sql);
		free(t[i].key);
		free(t[i].how);
		buf_release(&t[i].select);
		buf_release(&t[i].order);
		buf_release(&t[i].keytuple);
		free(t[i].scratch);
		free(t[i].values);
	}
	free(t);
}

/* The labels of "enum('a','b''c')" or "set(...)". */
static int
snap_labels(const char *type, struct column *col, char **cause)
{
	const char	*p = strchr(type, '(');
	struct buf	 b = BUF_INITIALIZER;

	if (p == NULL)
		goto bad;
	p++;
	while (*p == '\'') {
		buf_reset(&b);
		for (p++;; p++) {
			if (*p == '\0')
				goto bad;
			if (*p == '\'') {
				if (p[1] != '\'')
					break;
				p++;
			} else if (*p == '\\' && p[1] != '\0')
				p++;
			buf_addc(&b, *p);
		}
		p++;
		col->labels = xreallocarray(col->labels, col->nlabels + 1,
		    sizeof *col->labels);
		col->labels[col->nlabels++] = xstrdup(buf_str(&b));
		if (*p == ',')
			p++;
	}
	buf_release(&b);
	if (*p != ')')
		goto bad;
	return (0);
bad:
	buf_release(&b);
	*cause = xasprintf("cannot read the labels of %s", type);
	return (-1);
}

static unsigned long
snap_ul(const char *s)
{
	return (s != NULL ? strtoul(s, NULL, 10) : 0);
}

/*
 * One column from its information_schema.COLUMNS row: name, DATA_TYPE,
 * COLUMN_TYPE, IS_NULLABLE, NUMERIC_PRECISION, NUMERIC_SCALE,
 * DATETIME_PRECISION, CHARACTER_OCTET_LENGTH, collation id.
 */
static int
snap_column(MYSQL_ROW r, struct column *col, uint8_t *how, int mariadb,
    char **cause)
{
	const char	*dt = r[1], *ct = r[2];
	uint8_t		 meta[2] = { 0, 0 }, type;
	unsigned long	 len = snap_ul(r[7]);
	int		 unsig = strstr(ct, "unsigned") != NULL;

	if (strcmp(dt, "tinyint") == 0 || strcmp(dt, "smallint") == 0 ||
	    strcmp(dt, "mediumint") == 0 || strcmp(dt, "int") == 0 ||
	    strcmp(dt, "integer") == 0 || strcmp(dt, "bigint") == 0) {
		type = dt[0] == 't' ? COLTYPE_TINY : dt[0] == 's' ?
		    COLTYPE_SHORT : dt[0] == 'm' ? COLTYPE_INT24 :
		    dt[0] == 'b' ? COLTYPE_LONGLONG : COLTYPE_LONG;
		*how = unsig ? HOW_UINT : HOW_INT;
	} else if (strcmp(dt, "float") == 0) {
		type = COLTYPE_FLOAT;
		meta[0] = 4;
		*how = HOW_FLOAT;
	} else if (strcmp(dt, "double") == 0 || strcmp(dt, "real") == 0) {
		type = COLTYPE_DOUBLE;
		meta[0] = 8;
		*how = HOW_DOUBLE;
	} else if (strcmp(dt, "decimal") == 0 || strcmp(dt, "numeric") == 0) {
		type = COLTYPE_NEWDECIMAL;
		meta[0] = (uint8_t)snap_ul(r[4]);
		meta[1] = (uint8_t)snap_ul(r[5]);
		*how = HOW_DECIMAL;
	} else if (strcmp(dt, "date") == 0) {
		type = COLTYPE_DATE;
		*how = HOW_DATE;
	} else if (strcmp(dt, "datetime") == 0 || strcmp(dt, "timestamp") == 0 ||
	    strcmp(dt, "time") == 0) {
		type = dt[1] == 'a' ? COLTYPE_DATETIME2 : dt[1] == 'i' &&
		    dt[4] == 's' ? COLTYPE_TIMESTAMP2 : COLTYPE_TIME2;
		meta[0] = (uint8_t)snap_ul(r[6]);
		*how = type == COLTYPE_DATETIME2 ? HOW_DATETIME :
		    type == COLTYPE_TIMESTAMP2 ? HOW_TIMESTAMP : HOW_TIME;
	} else if (strcmp(dt, "year") == 0) {
		type = COLTYPE_YEAR;
		*how = HOW_INT;
	} else if (strcmp(dt, "char") == 0 || strcmp(dt, "binary") == 0) {
		type = COLTYPE_STRING;
		meta[0] = (uint8_t)((COLTYPE_STRING & ~0x30) |
		    ((((len >> 8) & 3) << 4) ^ 0x30));
		meta[1] = (uint8_t)(len & 0xff);
		*how = HOW_STRING;
	} else if (strcmp(dt, "varchar") == 0 || strcmp(dt, "varbinary") == 0) {
		type = COLTYPE_VARCHAR;
		meta[0] = (uint8_t)(len & 0xff);
		meta[1] = (uint8_t)(len >> 8);
		*how = HOW_STRING;
	} else if (strstr(dt, "text") != NULL || strstr(dt, "blob") != NULL ||
	    (mariadb && strcmp(dt, "json") == 0)) {
		type = COLTYPE_BLOB;
		meta[0] = dt[0] == 't' && dt[1] == 'i' ? 1 : dt[0] == 'm' ? 3 :
		    dt[0] == 'l' || dt[0] == 'j' ? 4 : 2;
		*how = HOW_STRING;
	} else if (strcmp(dt, "enum") == 0 || strcmp(dt, "set") == 0) {
		type = COLTYPE_STRING;
		meta[0] = dt[0] == 'e' ? COLTYPE_ENUM : COLTYPE_SET;
		*how = dt[0] == 'e' ? HOW_ENUM : HOW_SET;
		if (snap_labels(ct, col, cause) != 0)
			return (-1);
		if (dt[0] == 'e')
			meta[1] = col->nlabels > 255 ? 2 : 1;
		else
			meta[1] = (uint8_t)((col->nlabels + 7) / 8 > 4 ? 8 :
			    (col->nlabels + 7) / 8 == 0 ? 1 :
			    (col->nlabels + 7) / 8);
	} else if (strcmp(dt, "bit") == 0) {
		unsigned long	 bits = snap_ul(r[4]);

		type = COLTYPE_BIT;
		meta[0] = (uint8_t)(bits % 8);
		meta[1] = (uint8_t)(bits / 8);
		*how = HOW_BIT;
	} else if (strcmp(dt, "json") == 0) {
		type = COLTYPE_JSON;
		meta[0] = 4;
		*how = HOW_JSON_TEXT;
	} else if (strcmp(dt, "geometry") == 0 || strcmp(dt, "point") == 0 ||
	    strcmp(dt, "linestring") == 0 || strcmp(dt, "polygon") == 0 ||
	    strcmp(dt, "multipoint") == 0 ||
	    strcmp(dt, "multilinestring") == 0 ||
	    strcmp(dt, "multipolygon") == 0 ||
	    strcmp(dt, "geometrycollection") == 0 ||
	    strcmp(dt, "geomcollection") == 0) {
		type = COLTYPE_GEOMETRY;
		meta[0] = 4;
		*how = HOW_GEOMETRY;
	} else {
		*cause = xasprintf("column '%s' has type %s, which the full "
		    "sync cannot read yet", r[0], ct);
		return (-1);
	}
	if (table_column_init(col, type, meta, cause) != 0)
		return (-1);
	col->name = xstrdup(r[0]);
	if (unsig)
		col->flags |= COLUMN_UNSIGNED;
	if (strcmp(r[3], "YES") == 0)
		col->flags |= COLUMN_NULLABLE;
	if (r[8] != NULL)
		col->collation = (uint32_t)snap_ul(r[8]);
	else if (*how == HOW_STRING && (strstr(dt, "bin") != NULL ||
	    strstr(dt, "blob") != NULL))
		col->collation = CHARSET_BINARY;
	return (0);
}

/* The expression a column is selected as. */
static void
snap_select_expr(struct buf *b, const char *qname, uint8_t how)
{
	switch (how) {
	case HOW_FLOAT:
		buf_printf(b, "(%s + 0e0)", qname);
		break;
	case HOW_ENUM:
	case HOW_SET:
	case HOW_BIT:
		buf_printf(b, "(%s + 0)", qname);
		break;
	default:
		buf_adds(b, qname);
		break;
	}
}

/*
 * The columns of the table's unique keys, PRIMARY first, then by key name,
 * each key's in its order: (INDEX_NAME, COLUMN_NAME, NULLABLE) rows.
 */
static MYSQL_RES *
snap_unique_rows(MYSQL *m, const struct snap_table *t, char **cause)
{
	struct buf	 sql = BUF_INITIALIZER;
	MYSQL_RES	*res;

	buf_adds(&sql, "SELECT s.INDEX_NAME, s.COLUMN_NAME, s.NULLABLE FROM "
	    "information_schema.STATISTICS s WHERE s.NON_UNIQUE = 0 AND "
	    "s.TABLE_SCHEMA = ");
	snap_literal(m, &sql, t->db);
	buf_adds(&sql, " AND s.TABLE_NAME = ");
	snap_literal(m, &sql, t->name);
	buf_adds(&sql, " ORDER BY s.INDEX_NAME <> 'PRIMARY', s.INDEX_NAME, "
	    "s.SEQ_IN_INDEX");
	res = snap_query(m, buf_str(&sql), cause);
	buf_release(&sql);
	return (res);
}

/*
 * The table's unique keys other than PRIMARY (pk_uk_info lists them with
 * it), by name, each with its columns in the key's order.  A key on an
 * expression (MySQL 8's functional indexes) names no column: left out.
 */
static int
snap_unique_keys(MYSQL *m, struct snap_table *t, char **cause)
{
	struct table_key *k = NULL;
	MYSQL_RES	*res;
	MYSQL_ROW	 r;
	uint32_t	 n = 0, i, c;
	int		 bad = 0;

	if ((res = snap_unique_rows(m, t, cause)) == NULL)
		return (-1);
	while ((r = mysql_fetch_row(res)) != NULL) {
		if (r[0] == NULL || strcmp(r[0], "PRIMARY") == 0)
			continue;
		if (n == 0 || strcmp(k[n - 1].name, r[0]) != 0) {
			if (bad) {	/* the previous one: not columns */
				n--;
				free(k[n].name);
				free(k[n].cols);
			}
			bad = 0;
			k = xreallocarray(k, n + 1, sizeof *k);
			memset(&k[n], 0, sizeof k[n]);
			k[n++].name = xstrdup(r[0]);
		}
		for (c = 0; r[1] != NULL && c < t->def->ncols; c++) {
			if (strcmp(t->def->cols[c].name, r[1]) == 0)
				break;
		}
		if (r[1] == NULL || c == t->def->ncols) {
			bad = 1;
			continue;
		}
		k[n - 1].cols = xreallocarray(k[n - 1].cols,
		    k[n - 1].ncols + 1, sizeof *k[n - 1].cols);
		k[n - 1].cols[k[n - 1].ncols++] = c;
	}
	mysql_free_result(res);
	if (bad) {
		n--;
		free(k[n].name);
		free(k[n].cols);
	}
	table_def_set_uks(t->def, k, n);
	t->def->known |= TABLE_KNOWN_UNIQUE;
	for (i = 0; i < n; i++) {
		free(k[i].name);
		free(k[i].cols);
	}
	free(k);
	return (0);
}

/* Definition, key and statements of one table. */
static int
snap_table_load(MYSQL *m, struct snap_table *t, int mariadb, char **cause)
{
	MYSQL_RES	*res;
	MYSQL_ROW	 r;
	struct buf	 sql = BUF_INITIALIZER;
	char		*qdb = snapshot_quote_name(t->db);
	char		*qt = snapshot_quote_name(t->name), *qc;
	uint32_t	 i, ncols;
	int		 rc = -1;

	buf_adds(&sql, "SELECT c.COLUMN_NAME, c.DATA_TYPE, c.COLUMN_TYPE, "
	    "c.IS_NULLABLE, c.NUMERIC_PRECISION, c.NUMERIC_SCALE, "
	    "c.DATETIME_PRECISION, c.CHARACTER_OCTET_LENGTH, co.ID, "
	    "c.COLLATION_NAME, c.CHARACTER_SET_NAME "
	    "FROM information_schema.COLUMNS c LEFT JOIN "
	    "information_schema.COLLATIONS co ON co.COLLATION_NAME = "
	    "c.COLLATION_NAME WHERE c.TABLE_SCHEMA = ");
	snap_literal(m, &sql, t->db);
	buf_adds(&sql, " AND c.TABLE_NAME = ");
	snap_literal(m, &sql, t->name);
	buf_adds(&sql, " ORDER BY c.ORDINAL_POSITION");
	if ((res = snap_query(m, buf_str(&sql), cause)) == NULL)
		goto out;
	ncols = (uint32_t)mysql_num_rows(res);
	if (ncols == 0) {
		mysql_free_result(res);
		*cause = xasprintf("table %s.%s has no columns (or cannot be "
		    "read by this user)", t->db, t->name);
		goto out;
	}
	t->def = table_def_new(ncols);
	t->def->db = xstrdup(t->db);
	t->def->name = xstrdup(t->name);
	t->how = xcalloc(ncols, 1);
	t->coll = xcalloc(ncols, sizeof *t->coll);
	for (i = 0; (r = mysql_fetch_row(res)) != NULL; i++) {
		if (r[9] != NULL && r[10] != NULL)
			t->coll[i] = xasprintf("USING %s) COLLATE %s", r[10],
			    r[9]);
		if (snap_column(r, &t->def->cols[i], &t->how[i], mariadb,
		    cause) != 0) {
			char	*why = *cause;

			*cause = xasprintf("%s.%s: %s", t->db, t->name, why);
			free(why);
			mysql_free_result(res);
			goto out;
		}
	}
	mysql_free_result(res);
	t->def->known = TABLE_KNOWN_SIGNEDNESS | TABLE_KNOWN_CHARSETS |
	    TABLE_KNOWN_NAMES | TABLE_KNOWN_LABELS | TABLE_KNOWN_KEY;

	/* The key: PRIMARY, else the first unique key without NULLs. */
	if ((res = snap_unique_rows(m, t, cause)) == NULL)
		goto out;
	{
		char	*chosen = NULL;
		int	 bad = 0;

		while ((r = mysql_fetch_row(res)) != NULL) {
			if (chosen != NULL && strcmp(chosen, r[0]) != 0) {
				if (!bad)
					break;
				/* That key had a nullable column: next. */
				free(chosen);
				chosen = NULL;
				t->nkey = 0;
				bad = 0;
			}
			if (chosen == NULL)
				chosen = xstrdup(r[0]);
			if (r[2] != NULL && strcmp(r[2], "YES") == 0)
				bad = 1;
			for (i = 0; i < t->def->ncols; i++) {
				if (strcmp(t->def->cols[i].name, r[1]) == 0)
					break;
			}
			if (i == t->def->ncols) {
				bad = 1;	/* a prefix or expression key */
				continue;
			}
			t->key = xreallocarray(t->key, t->nkey + 1,
			    sizeof *t->key);
			t->key[t->nkey++] = i;
		}
		if (bad)
			t->nkey = 0;
		if (chosen != NULL && strcmp(chosen, "PRIMARY") == 0 &&
		    t->nkey > 0) {
			t->def->pk = xcalloc(t->nkey, sizeof *t->def->pk);
			memcpy(t->def->pk, t->key, t->nkey * sizeof *t->key);
			t->def->npk = t->nkey;
			for (i = 0; i < t->nkey; i++)
				t->def->cols[t->key[i]].flags |= COLUMN_PRIMARY;
		}
		free(chosen);
	}
	mysql_free_result(res);
	if (snap_unique_keys(m, t, cause) != 0)
		goto out;

	/* The estimate, for progress only. */
	buf_reset(&sql);
	buf_adds(&sql, "SELECT TABLE_ROWS FROM information_schema.TABLES WHERE "
	    "TABLE_SCHEMA = ");
	snap_literal(m, &sql, t->db);
	buf_adds(&sql, " AND TABLE_NAME = ");
	snap_literal(m, &sql, t->name);
	if ((res = snap_query(m, buf_str(&sql), cause)) == NULL)
		goto out;
	if ((r = mysql_fetch_row(res)) != NULL && r[0] != NULL)
		t->rows_estimated = (int64_t)snap_ul(r[0]);
	mysql_free_result(res);

	/* SHOW CREATE TABLE, for the schema sync's DDL record. */
	buf_reset(&sql);
	buf_printf(&sql, "SHOW CREATE TABLE %s.%s", qdb, qt);
	if ((res = snap_query(m, buf_str(&sql), cause)) == NULL)
		goto out;
	if ((r = mysql_fetch_row(res)) == NULL || mysql_num_fields(res) < 2 ||
	    r[1] == NULL) {
		mysql_free_result(res);
		*cause = xasprintf("SHOW CREATE TABLE %s.%s returned nothing",
		    t->db, t->name);
		goto out;
	}
	t->create_sql = xstrdup(r[1]);
	mysql_free_result(res);

	/* SELECT list, then the key as compared and ordered. */
	buf_adds(&t->select, "SELECT ");
	for (i = 0; i < t->def->ncols; i++) {
		if (i > 0)
			buf_adds(&t->select, ", ");
		qc = snapshot_quote_name(t->def->cols[i].name);
		snap_select_expr(&t->select, qc, t->how[i]);
		free(qc);
	}
	for (i = 0; i < t->nkey; i++) {
		const struct column	*c = &t->def->cols[t->key[i]];

		qc = snapshot_quote_name(c->name);
		buf_adds(&t->select, ", ");
		if (t->how[t->key[i]] == HOW_STRING)
			buf_printf(&t->select, "HEX(%s)", qc);
		else
			snap_select_expr(&t->select, qc, t->how[t->key[i]]);
		buf_adds(&t->keytuple, i == 0 ? "(" : ", ");
		snap_select_expr(&t->keytuple, qc, t->how[t->key[i]]);
		free(qc);
	}
	if (t->nkey > 0)
		buf_addc(&t->keytuple, ')');
	buf_printf(&t->select, " FROM %s.%s", qdb, qt);
	if (t->nkey > 0)
		buf_printf(&t->order, " ORDER BY %s",
		    buf_str(&t->keytuple) + 1);
	if (t->nkey > 0)
		buf_truncate(&t->order, t->order.len - 1);
	t->scratch = xmalloc((size_t)t->def->ncols * 32 + 1);
	t->values = xcalloc(t->def->ncols, sizeof *t->values);
	rc = 0;
out:
	buf_release(&sql);
	free(qdb);
	free(qt);
	return (rc);
}

/*
 * The tables a selection names, in the order given (patterns expanded in
 * name order), each loaded.  A named table that does not exist, or a
 * selection that names nothing, is an error; unless gone is given: then
 * the names of the missing tables are added to it ("db.t, ...") and the
 * selection may come out empty (a job whose tables were renamed or
 * dropped since it started).
 */
int
snapshot_tables(MYSQL *m, const struct job_object *objs, size_t nobjs,
    struct buf *gone, struct snap_table **out, size_t *n, char **cause)
{
	MYSQL_RES	*res;
	MYSQL_ROW	 r;
	struct buf	 sql = BUF_INITIALIZER;
	const char	*info = mysql_get_server_info(m);
	int		 mariadb = info != NULL && strstr(info, "MariaDB") != NULL;
	size_t		 i, k, before;

	*out = NULL;
	*n = 0;
	for (i = 0; i < nobjs; i++) {
		buf_reset(&sql);
		buf_adds(&sql, "SELECT TABLE_NAME FROM information_schema.TABLES "
		    "WHERE TABLE_TYPE = 'BASE TABLE' AND TABLE_SCHEMA = ");
		snap_literal(m, &sql, objs[i].db);
		if (strcmp(objs[i].table, "*") != 0) {
			buf_adds(&sql, " AND TABLE_NAME = ");
			snap_literal(m, &sql, objs[i].table);
		}
		buf_adds(&sql, " ORDER BY TABLE_NAME");
		if ((res = snap_query(m, buf_str(&sql), cause)) == NULL)
			goto fail;
		before = *n;
		while ((r = mysql_fetch_row(res)) != NULL) {
			for (k = 0; k < *n; k++) {
				if (strcmp((*out)[k].db, objs[i].db) == 0 &&
				    strcmp((*out)[k].name, r[0]) == 0)
					break;
			}
			if (k < *n)
				continue;
			*out = xreallocarray(*out, *n + 1, sizeof **out);
			memset(&(*out)[*n], 0, sizeof **out);
			(*out)[*n].db = xstrdup(objs[i].db);
			(*out)[*n].name = xstrdup(r[0]);
			(*n)++;
		}
		mysql_free_result(res);
		if (*n == before && strcmp(objs[i].table, "*") != 0 &&
		    gone != NULL) {
			buf_printf(gone, "%s%s.%s", gone->len > 0 ? ", " : "",
			    objs[i].db, objs[i].table);
			continue;
		}
		if (*n == before && strcmp(objs[i].table, "*") != 0) {
			*cause = xasprintf("table %s.%s does not exist on the "
			    "source (or is a view)", objs[i].db,
			    objs[i].table);
			goto fail;
		}
	}
	if (*n == 0 && gone == NULL) {
		*cause = xstrdup("the job's table list names no table that "
		    "exists on the source");
		goto fail;
	}
	for (i = 0; i < *n; i++) {
		if (snap_table_load(m, &(*out)[i], mariadb, cause) != 0)
			goto fail;
	}
	buf_release(&sql);
	return (0);
fail:
	buf_release(&sql);
	snapshot_tables_free(*out, *n);
	*out = NULL;
	*n = 0;
	return (-1);
}

/*
 * The GTID state at the snapshot's file:pos, MariaDB's: BINLOG_GTID_POS()
 * (NULL when the server cannot say).
 */
static char *
snap_mariadb_gtid(MYSQL *m, const char *file, uint64_t pos)
{
	struct buf	 b = BUF_INITIALIZER;
	MYSQL_RES	*res;
	MYSQL_ROW	 r;
	char		*gtid = NULL;

	buf_adds(&b, "SELECT BINLOG_GTID_POS(");
	snap_literal(m, &b, file);
	buf_printf(&b, ", %" PRIu64 ")", pos);
	if (mysql_real_query(m, (const char *)b.data, (unsigned long)b.len) ==
	    0 && (res = mysql_store_result(m)) != NULL) {
		if ((r = mysql_fetch_row(res)) != NULL && r[0] != NULL)
			gtid = xstrdup(r[0]);
		mysql_free_result(res);
	}
	buf_release(&b);
	return (gtid);
}

/*
 * Open a consistent snapshot on m and return the binlog position it
 * matches in at (file, pos, gtid; at->gtid NULL when the source has no
 * GTIDs or cannot say).  MariaDB gives the position of the snapshot
 * itself, no lock, and its GTID state for it; MySQL needs FLUSH TABLES
 * WITH READ LOCK for as long as it takes to read the position, and gives
 * the executed GTID set with it (Executed_Gtid_Set, empty when GTIDs are
 * off).  character_set_results takes 'binary' quoted: MySQL-compatible
 * servers that are not MySQL (Dolt) refuse the bare word.
 */
int
snapshot_begin(MYSQL *m, struct snapshot_gen *at, char **cause)
{
	MYSQL_RES	*res;
	MYSQL_ROW	 r;
	const char	*info = mysql_get_server_info(m);
	int		 mariadb = info != NULL && strstr(info, "MariaDB") != NULL;
	char		*f = NULL, *gtid = NULL;
	uint64_t	 p = 0;

	memset(at, 0, sizeof *at);
	if (snap_exec(m, "SET SESSION character_set_results = 'binary', "
	    "time_zone = '+00:00', sql_mode = ''", cause) != 0 ||
	    snap_exec(m, "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE "
	    "READ", cause) != 0)
		return (-1);
	if (mariadb) {
		if (snap_exec(m, "START TRANSACTION WITH CONSISTENT SNAPSHOT",
		    cause) != 0)
			return (-1);
		if ((res = snap_query(m, "SHOW STATUS LIKE 'binlog_snapshot_%'",
		    cause)) == NULL)
			return (-1);
		while ((r = mysql_fetch_row(res)) != NULL) {
			if (strcmp(r[0], "Binlog_snapshot_file") == 0 &&
			    r[1] != NULL) {
				free(f);
				f = xstrdup(r[1]);
			} else if (strcmp(r[0], "Binlog_snapshot_position") ==
			    0 && r[1] != NULL)
				p = strtoull(r[1], NULL, 10);
		}
		mysql_free_result(res);
		if (f != NULL && *f != '\0')
			gtid = snap_mariadb_gtid(m, f, p);
	} else {
		if (snap_exec(m, "FLUSH TABLES WITH READ LOCK", cause) != 0)
			return (-1);
		if (snap_exec(m, "START TRANSACTION WITH CONSISTENT SNAPSHOT",
		    cause) != 0) {
			snap_exec(m, "UNLOCK TABLES", cause);
			return (-1);
		}
		res = snap_query(m, "SHOW MASTER STATUS", cause);
		if (res == NULL) {
			free(*cause);
			res = snap_query(m, "SHOW BINARY LOG STATUS", cause);
		}
		if (res != NULL) {
			if ((r = mysql_fetch_row(res)) != NULL &&
			    r[0] != NULL && r[1] != NULL) {
				f = xstrdup(r[0]);
				p = strtoull(r[1], NULL, 10);
				if (mysql_num_fields(res) >= 5 && r[4] != NULL)
					gtid = xstrdup(r[4]);
			}
			mysql_free_result(res);
		}
		if (snap_exec(m, "UNLOCK TABLES", cause) != 0) {
			free(f);
			free(gtid);
			return (-1);
		}
	}
	if (f == NULL || *f == '\0' || p < 4) {
		free(f);
		free(gtid);
		*cause = xstrdup("the source did not give the binlog position "
		    "of the snapshot (is the binlog on?)");
		return (-1);
	}
	at->file = f;
	at->pos = p;
	at->gtid = gtid;
	return (0);
}

static int
snap_digits(const char **pp, const char *end, int n, uint32_t *out)
{
	uint32_t	 v = 0;
	int		 i;

	for (i = 0; i < n; i++) {
		if (*pp >= end || **pp < '0' || **pp > '9')
			return (-1);
		v = v * 10 + (uint32_t)(*(*pp)++ - '0');
	}
	*out = v;
	return (0);
}

/* ".ffffff" (any number of digits, or none) as microseconds. */
static uint32_t
snap_usec(const char *p, const char *end)
{
	uint32_t	 v = 0;
	int		 n = 0;

	if (p < end && *p == '.') {
		for (p++; p < end && n < 6 && *p >= '0' && *p <= '9'; p++, n++)
			v = v * 10 + (uint32_t)(*p - '0');
	}
	for (; n < 6; n++)
		v *= 10;
	return (v);
}

/* "YYYY-MM-DD[ HH:MM:SS[.f]]" */
static int
snap_datetime(const char *s, size_t len, struct value_time *t, int date_only)
{
	const char	*p = s, *end = s + len;
	uint32_t	 y, mo, d, h = 0, mi = 0, se = 0;

	memset(t, 0, sizeof *t);
	if (snap_digits(&p, end, 4, &y) != 0 || p >= end || *p++ != '-' ||
	    snap_digits(&p, end, 2, &mo) != 0 || p >= end || *p++ != '-' ||
	    snap_digits(&p, end, 2, &d) != 0)
		return (-1);
	if (!date_only) {
		if (p >= end || *p++ != ' ' ||
		    snap_digits(&p, end, 2, &h) != 0 || p >= end ||
		    *p++ != ':' || snap_digits(&p, end, 2, &mi) != 0 ||
		    p >= end || *p++ != ':' ||
		    snap_digits(&p, end, 2, &se) != 0)
			return (-1);
		t->usec = snap_usec(p, end);
	}
	t->year = (int32_t)y;
	t->month = (uint8_t)mo;
	t->day = (uint8_t)d;
	t->hour = h;
	t->minute = (uint8_t)mi;
	t->second = (uint8_t)se;
	return (0);
}

/* "[-]H+:MM:SS[.f]" */
static int
snap_time(const char *s, size_t len, struct value_time *t)
{
	const char	*p = s, *end = s + len;
	uint32_t	 h = 0, mi, se;

	memset(t, 0, sizeof *t);
	if (p < end && *p == '-') {
		t->neg = 1;
		p++;
	}
	if (p >= end || *p < '0' || *p > '9')
		return (-1);
	while (p < end && *p >= '0' && *p <= '9')
		h = h * 10 + (uint32_t)(*p++ - '0');
	if (p >= end || *p++ != ':' || snap_digits(&p, end, 2, &mi) != 0 ||
	    p >= end || *p++ != ':' || snap_digits(&p, end, 2, &se) != 0)
		return (-1);
	t->hour = h;
	t->minute = (uint8_t)mi;
	t->second = (uint8_t)se;
	t->usec = snap_usec(p, end);
	if (t->neg && h == 0 && mi == 0 && se == 0 && t->usec == 0)
		t->neg = 0;
	return (0);
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
static int64_t
snap_days(int64_t y, unsigned m, unsigned d)
{
	int64_t		 era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (era * 146097 + doe - 719468);
}

/*
 * The text protocol's decimal integer in s[0..len) (an optional '-', then
 * digits), as its magnitude and sign; -1 when it is not one or does not
 * fit 64 bits.  strtoll's locale and base handling cost more than the
 * rest of a narrow row's parsing.
 */
static int
snap_integer(const char *s, size_t len, uint64_t *mag, int *neg)
{
	uint64_t	 v = 0;
	size_t		 i = 0;
	unsigned	 d;

	*neg = len > 0 && s[0] == '-';
	i = (size_t)*neg;
	if (i == len || len - i > 20)
		return (-1);
	for (; i < len; i++) {
		d = (unsigned)(unsigned char)s[i] - '0';
		if (d > 9 || v > (UINT64_MAX - d) / 10)
			return (-1);
		v = v * 10 + d;
	}
	*mag = v;
	return (0);
}

/* One field of a row as the binlog decoder would give it. */
static int
snap_value(struct snap_table *t, uint32_t i, const char *s, size_t len,
    uint8_t **scratch, struct value *v, char **cause)
{
	const struct column	*c = &t->def->cols[i];
	struct value_time	 tm;
	size_t			 dsize;
	uint64_t		 mag;
	int			 neg;

	if (s == NULL) {
		v->kind = VALUE_NULL;
		return (0);
	}
	switch (t->how[i]) {
	case HOW_INT:
		if (snap_integer(s, len, &mag, &neg) != 0 ||
		    mag > (uint64_t)INT64_MAX + (uint64_t)neg)
			goto bad;
		v->kind = VALUE_INT;
		v->i = neg ? (int64_t)(0 - mag) : (int64_t)mag;
		return (0);
	case HOW_UINT:
	case HOW_ENUM:
	case HOW_SET:
	case HOW_BIT:
		if (snap_integer(s, len, &mag, &neg) != 0 || neg)
			goto bad;
		v->kind = t->how[i] == HOW_UINT ? VALUE_UINT :
		    t->how[i] == HOW_ENUM ? VALUE_ENUM :
		    t->how[i] == HOW_SET ? VALUE_SET : VALUE_BIT;
		v->u = mag;
		return (0);
	case HOW_FLOAT:
	case HOW_DOUBLE:
		if (util_parse_double(s, len, &v->d) != 0)
			goto bad;
		if (t->how[i] == HOW_FLOAT) {
			v->kind = VALUE_FLOAT;
			v->f = (float)v->d;
		} else
			v->kind = VALUE_DOUBLE;
		return (0);
	case HOW_DECIMAL:
		dsize = value_decimal_size(c->precision, c->scale);
		if (value_decimal_from_text(s, len, c->precision, c->scale,
		    *scratch, cause) != 0)
			return (-1);
		v->kind = VALUE_DECIMAL;
		v->bytes.p = *scratch;
		v->bytes.len = dsize;
		*scratch += dsize;
		return (0);
	case HOW_DATE:
		if (snap_datetime(s, len, &v->t, 1) != 0)
			goto bad;
		v->kind = VALUE_DATE;
		return (0);
	case HOW_DATETIME:
		if (snap_datetime(s, len, &v->t, 0) != 0)
			goto bad;
		v->kind = VALUE_DATETIME;
		return (0);
	case HOW_TIME:
		if (snap_time(s, len, &v->t) != 0)
			goto bad;
		v->kind = VALUE_TIME;
		return (0);
	case HOW_TIMESTAMP:
		if (snap_datetime(s, len, &tm, 0) != 0)
			goto bad;
		v->kind = VALUE_TIMESTAMP;
		if (tm.year == 0) {
			v->ts.sec = 0;
			v->ts.usec = tm.usec;
		} else {
			v->ts.sec = snap_days(tm.year, tm.month, tm.day) *
			    86400 + (int64_t)tm.hour * 3600 + tm.minute * 60 +
			    tm.second;
			v->ts.usec = tm.usec;
		}
		return (0);
	case HOW_STRING:
		v->kind = VALUE_STRING;
		break;
	case HOW_JSON_TEXT:
		v->kind = VALUE_JSON_TEXT;
		break;
	case HOW_GEOMETRY:
		v->kind = VALUE_GEOMETRY;
		break;
	default:
		goto bad;
	}
	v->bytes.p = (const uint8_t *)s;
	v->bytes.len = len;
	return (0);
bad:
	*cause = xasprintf("%s.%s: cannot read the value of column '%s' "
	    "('%.*s')", t->db, t->name, c->name, (int)(len > 64 ? 64 : len),
	    s);
	return (-1);
}

/* The key of row r as SQL literals: "(1, CONVERT(X'41' USING ...))". */
static char *
snap_key_literal(MYSQL *m, struct snap_table *t, MYSQL_ROW r,
    unsigned long *lens)
{
	struct buf		 b = BUF_INITIALIZER;
	const struct column	*c;
	const char		*cs;
	uint32_t		 i, f;

	buf_addc(&b, '(');
	for (i = 0; i < t->nkey; i++) {
		f = t->def->ncols + i;
		c = &t->def->cols[t->key[i]];
		if (i > 0)
			buf_adds(&b, ", ");
		if (r[f] == NULL) {
			buf_adds(&b, "NULL");
			continue;
		}
		switch (t->how[t->key[i]]) {
		case HOW_STRING:
			cs = t->coll[t->key[i]];
			if (cs != NULL && c->collation != CHARSET_BINARY)
				buf_printf(&b, "CONVERT(X'%.*s' %s",
				    (int)lens[f], r[f], cs);
			else
				buf_printf(&b, "X'%.*s'", (int)lens[f], r[f]);
			break;
		case HOW_DATE:
		case HOW_TIME:
		case HOW_DATETIME:
		case HOW_TIMESTAMP:
			buf_reserve(&b, lens[f] * 2 + 3);
			b.data[b.len++] = '\'';
			b.len += mysql_real_escape_string(m,
			    (char *)b.data + b.len, r[f], lens[f]);
			b.data[b.len++] = '\'';
			b.data[b.len] = '\0';
			break;
		default:
			buf_add(&b, r[f], lens[f]);
			break;
		}
	}
	buf_addc(&b, ')');
	return (buf_detach(&b, NULL));
}

/*
 * Read up to limit rows of t after the key after (NULL: from the start;
 * limit 0: all), calling cb for each.  *next is the key of the last row
 * read (NULL when none), *nrows how many were read.  A table without a key
 * is read whole in one call.
 */
int
snapshot_chunk(MYSQL *m, struct snap_table *t, const char *after,
    uint64_t limit, snapshot_row_cb cb, void *arg, char **next,
    uint64_t *nrows, char **cause)
{
	MYSQL_RES	*res;
	MYSQL_ROW	 r;
	unsigned long	*lens;
	struct buf	 sql = BUF_INITIALIZER;
	uint8_t		*scratch;
	uint32_t	 i;
	int		 rc = -1;

	*next = NULL;
	*nrows = 0;
	buf_adds(&sql, buf_str(&t->select));
	if (t->nkey > 0) {
		if (after != NULL)
			buf_printf(&sql, " WHERE %s > %s", buf_str(&t->keytuple),
			    after);
		buf_adds(&sql, buf_str(&t->order));
		if (limit > 0)
			buf_printf(&sql, " LIMIT %" PRIu64, limit);
	}
	if (mysql_real_query(m, buf_str(&sql), (unsigned long)sql.len) != 0 ||
	    (res = mysql_use_result(m)) == NULL) {
		*cause = mysql_conn_error(m, "reading rows from the source");
		goto out;
	}
	while ((r = mysql_fetch_row(res)) != NULL) {
		lens = mysql_fetch_lengths(res);
		scratch = t->scratch;
		for (i = 0; i < t->def->ncols; i++) {
			if (snap_value(t, i, r[i], lens[i], &scratch,
			    &t->values[i], cause) != 0)
				goto drain;
		}
		if (cb(arg, t, t->values, cause) != 0)
			goto drain;
		(*nrows)++;
		if (t->nkey > 0 && (limit == 0 || *nrows == limit)) {
			free(*next);
			*next = snap_key_literal(m, t, r, lens);
		}
	}
	if (mysql_errno(m) != 0) {
		*cause = mysql_conn_error(m, "reading rows from the source");
		mysql_free_result(res);
		goto out;
	}
	mysql_free_result(res);
	rc = 0;
	goto out;
drain:
	while (mysql_fetch_row(res) != NULL)
		;
	mysql_free_result(res);
out:
	if (rc != 0) {
		free(*next);
		*next = NULL;
	}
	buf_release(&sql);
	return (rc);
}
