/*
 * TABLE_MAP events: a table's id for the rows events that follow, its name,
 * its column types with their metadata, which columns are nullable, and
 * with binlog_row_metadata=FULL (MySQL 8.0.1+, MariaDB 10.5+) the optional
 * metadata: names, signedness, charsets, ENUM/SET labels, the primary key,
 * geometry types, visibility, vector dimensions.
 *
 * Several optional fields enumerate only one class of columns (numeric
 * columns for SIGNEDNESS, character columns for the charset fields, ENUM or
 * SET columns for the label fields), in table order; the class is decided
 * from the real type (schema/coltype.c says which, per server).  A field
 * that lists more entries than its class has columns, or fewer, is corrupt.
 */
#include "config.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"
#include "common/xmalloc.h"
#include "engine/binlog.h"
#include "engine/binlog_int.h"
#include "schema/coltype.h"
#include "schema/table.h"

enum tm_meta {
	TM_SIGNEDNESS = 1,
	TM_DEFAULT_CHARSET,
	TM_COLUMN_CHARSET,
	TM_COLUMN_NAME,
	TM_SET_STR_VALUE,
	TM_ENUM_STR_VALUE,
	TM_GEOMETRY_TYPE,
	TM_SIMPLE_PRIMARY_KEY,
	TM_PRIMARY_KEY_WITH_PREFIX,
	TM_ENUM_AND_SET_DEFAULT_CHARSET,
	TM_ENUM_AND_SET_COLUMN_CHARSET,
	TM_COLUMN_VISIBILITY,
	TM_VECTOR_DIMENSIONALITY,
};

/* Which columns a class-restricted field enumerates. */
enum tm_class {
	TM_CLASS_NUMERIC,
	TM_CLASS_CHARACTER,
	TM_CLASS_ENUM_SET,
	TM_CLASS_ENUM,
	TM_CLASS_SET,
	TM_CLASS_GEOMETRY,
	TM_CLASS_VECTOR,
};

static int
tm_in_class(const struct column *col, enum tm_class cls, int mariadb)
{
	switch (cls) {
	case TM_CLASS_NUMERIC:
		return (coltype_is_numeric(col->type));
	case TM_CLASS_CHARACTER:
		return (coltype_is_character(col->type, mariadb));
	case TM_CLASS_ENUM_SET:
		return (col->type == COLTYPE_ENUM || col->type == COLTYPE_SET);
	case TM_CLASS_ENUM:
		return (col->type == COLTYPE_ENUM);
	case TM_CLASS_SET:
		return (col->type == COLTYPE_SET);
	case TM_CLASS_GEOMETRY:
		return (col->type == COLTYPE_GEOMETRY);
	case TM_CLASS_VECTOR:
		return (col->type == COLTYPE_VECTOR);
	}
	return (0);
}

/* The index of the n-th column of class cls, or -1. */
static int64_t
tm_nth(const struct table_def *t, enum tm_class cls, uint64_t n, int mariadb)
{
	uint32_t	 i;

	for (i = 0; i < t->ncols; i++) {
		if (tm_in_class(&t->cols[i], cls, mariadb) && n-- == 0)
			return (i);
	}
	return (-1);
}

static uint32_t
tm_count(const struct table_def *t, enum tm_class cls, int mariadb)
{
	uint32_t	 i, n = 0;

	for (i = 0; i < t->ncols; i++)
		n += tm_in_class(&t->cols[i], cls, mariadb);
	return (n);
}

/* DEFAULT_CHARSET and ENUM_AND_SET_DEFAULT_CHARSET. */
static int
tm_default_charset(struct table_def *t, struct cursor *c, enum tm_class cls,
    int mariadb)
{
	uint64_t	 dflt, idx, coll;
	uint32_t	 i;
	int64_t		 col;

	if (cursor_lenenc(c, &dflt) != 0)
		return (-1);
	for (i = 0; i < t->ncols; i++) {
		if (tm_in_class(&t->cols[i], cls, mariadb))
			t->cols[i].collation = (uint32_t)dflt;
	}
	while (cursor_left(c) > 0) {
		if (cursor_lenenc(c, &idx) != 0 || cursor_lenenc(c, &coll) != 0)
			return (-1);
		if ((col = tm_nth(t, cls, idx, mariadb)) < 0)
			return (-1);
		t->cols[col].collation = (uint32_t)coll;
	}
	return (0);
}

/* COLUMN_CHARSET, ENUM_AND_SET_COLUMN_CHARSET: one collation per column. */
static int
tm_column_charset(struct table_def *t, struct cursor *c, enum tm_class cls,
    int mariadb)
{
	uint64_t	 coll;
	uint32_t	 i;

	for (i = 0; i < t->ncols; i++) {
		if (!tm_in_class(&t->cols[i], cls, mariadb))
			continue;
		if (cursor_lenenc(c, &coll) != 0)
			return (-1);
		t->cols[i].collation = (uint32_t)coll;
	}
	return (cursor_left(c) == 0 ? 0 : -1);
}

/* SET_STR_VALUE, ENUM_STR_VALUE: per column a count and the labels. */
static int
tm_labels(struct table_def *t, struct cursor *c, enum tm_class cls)
{
	const uint8_t	*p;
	size_t		 len;
	uint64_t	 n, k;
	uint32_t	 i;

	for (i = 0; i < t->ncols; i++) {
		struct column	*col = &t->cols[i];

		if (!tm_in_class(col, cls, 0))
			continue;
		if (cursor_lenenc(c, &n) != 0 || n > cursor_left(c) ||
		    n > 65535)
			return (-1);
		col->labels = xcalloc((size_t)n, sizeof *col->labels);
		col->nlabels = (uint32_t)n;
		for (k = 0; k < n; k++) {
			if (cursor_lenenc_bytes(c, &p, &len) != 0)
				return (-1);
			col->labels[k] = xstrndup((const char *)p, len);
			if (strlen(col->labels[k]) != len)
				return (-1);
		}
	}
	return (cursor_left(c) == 0 ? 0 : -1);
}

/* A bitmap over a class of columns, most significant bit first. */
static int
tm_class_bits(struct table_def *t, struct cursor *c, enum tm_class cls,
    uint8_t flag, int set_when, int mariadb)
{
	uint32_t	 i, k = 0, n = tm_count(t, cls, mariadb);
	const uint8_t	*bits;

	if (cursor_bytes(c, (n + 7) / 8, &bits) != 0)
		return (-1);
	for (i = 0; i < t->ncols; i++) {
		if (!tm_in_class(&t->cols[i], cls, mariadb))
			continue;
		if (((bits[k / 8] >> (7 - k % 8)) & 1) == set_when)
			t->cols[i].flags |= flag;
		k++;
	}
	return (0);
}

static int
tm_optional(struct table_def *t, const uint8_t *p, size_t len, int mariadb,
    char **cause)
{
	struct cursor	 c, f;
	const uint8_t	*v;
	size_t		 vlen;
	uint64_t	 idx, x;
	uint32_t	 i, n;
	uint8_t		 type;
	int		 rc;

	cursor_init(&c, p, len);
	while (cursor_left(&c) > 0) {
		if (cursor_u8(&c, &type) != 0 ||
		    cursor_lenenc_bytes(&c, &v, &vlen) != 0) {
			*cause = xasprintf("table map: truncated optional "
			    "metadata at byte %zu", cursor_offset(&c));
			return (-1);
		}
		cursor_init(&f, v, vlen);
		rc = 0;
		switch (type) {
		case TM_SIGNEDNESS:
			rc = tm_class_bits(t, &f, TM_CLASS_NUMERIC,
			    COLUMN_UNSIGNED, 1, mariadb);
			t->known |= TABLE_KNOWN_SIGNEDNESS;
			break;
		case TM_DEFAULT_CHARSET:
			rc = tm_default_charset(t, &f, TM_CLASS_CHARACTER,
			    mariadb);
			t->known |= TABLE_KNOWN_CHARSETS;
			break;
		case TM_COLUMN_CHARSET:
			rc = tm_column_charset(t, &f, TM_CLASS_CHARACTER,
			    mariadb);
			t->known |= TABLE_KNOWN_CHARSETS;
			break;
		case TM_ENUM_AND_SET_DEFAULT_CHARSET:
			rc = tm_default_charset(t, &f, TM_CLASS_ENUM_SET,
			    mariadb);
			break;
		case TM_ENUM_AND_SET_COLUMN_CHARSET:
			rc = tm_column_charset(t, &f, TM_CLASS_ENUM_SET,
			    mariadb);
			break;
		case TM_COLUMN_NAME:
			for (i = 0; i < t->ncols && rc == 0; i++) {
				if (cursor_lenenc_bytes(&f, &p, &len) != 0) {
					rc = -1;
					break;
				}
				free(t->cols[i].name);
				t->cols[i].name = xstrndup((const char *)p,
				    len);
				if (strlen(t->cols[i].name) != len)
					rc = -1;
			}
			if (cursor_left(&f) != 0)
				rc = -1;
			t->known |= TABLE_KNOWN_NAMES;
			break;
		case TM_SET_STR_VALUE:
			rc = tm_labels(t, &f, TM_CLASS_SET);
			t->known |= TABLE_KNOWN_LABELS;
			break;
		case TM_ENUM_STR_VALUE:
			rc = tm_labels(t, &f, TM_CLASS_ENUM);
			t->known |= TABLE_KNOWN_LABELS;
			break;
		case TM_GEOMETRY_TYPE:
			for (i = 0; i < t->ncols && rc == 0; i++) {
				if (t->cols[i].type != COLTYPE_GEOMETRY)
					continue;
				if (cursor_lenenc(&f, &x) != 0) {
					rc = -1;
					break;
				}
				t->cols[i].geometry_type = (uint32_t)x;
			}
			break;
		case TM_SIMPLE_PRIMARY_KEY:
		case TM_PRIMARY_KEY_WITH_PREFIX:
			free(t->pk);
			t->pk = NULL;
			t->npk = 0;
			while (cursor_left(&f) > 0) {
				if (cursor_lenenc(&f, &idx) != 0 ||
				    idx >= t->ncols ||
				    (type == TM_PRIMARY_KEY_WITH_PREFIX &&
				    cursor_lenenc(&f, &x) != 0)) {
					rc = -1;
					break;
				}
				t->pk = xreallocarray(t->pk, t->npk + 1,
				    sizeof *t->pk);
				t->pk[t->npk++] = (uint32_t)idx;
				t->cols[idx].flags |= COLUMN_PRIMARY;
			}
			t->known |= TABLE_KNOWN_KEY;
			break;
		case TM_COLUMN_VISIBILITY:
			n = t->ncols;
			if (cursor_left(&f) < (n + 7) / 8) {
				rc = -1;
				break;
			}
			for (i = 0; i < n; i++) {
				if (((f.p[i / 8] >> (7 - i % 8)) & 1) == 0)
					t->cols[i].flags |= COLUMN_INVISIBLE;
			}
			break;
		case TM_VECTOR_DIMENSIONALITY:
			for (i = 0; i < t->ncols && rc == 0; i++) {
				if (t->cols[i].type != COLTYPE_VECTOR)
					continue;
				if (cursor_lenenc(&f, &x) != 0) {
					rc = -1;
					break;
				}
				t->cols[i].vector_dim = (uint32_t)x;
			}
			break;
		default:
			/* A field of a newer server: its length says how to
			 * skip it. */
			break;
		}
		if (rc != 0) {
			*cause = xasprintf("table map: corrupt optional "
			    "metadata field %u", type);
			return (-1);
		}
	}
	return (0);
}

/*
 * Parse a TABLE_MAP body into a new table definition (free with
 * table_def_free()) and its table id.
 */
int
binlog_table_map_parse(const struct binlog_fde *fde, const uint8_t *body,
    size_t len, uint64_t *table_id, struct table_def **out, char **cause)
{
	struct table_def	*t = NULL;
	struct cursor		 c;
	const uint8_t		*types, *meta, *nulls, *p, *tname;
	size_t			 post, idlen, meta_len, mlen;
	uint64_t		 ncols, n;
	uint16_t		 flags;
	uint8_t			 dblen, tlen;
	uint32_t		 i;
	int			 k;

	post = binlog_post_len(fde, BINLOG_TABLE_MAP, 8);
	idlen = post == 6 ? 4 : 6;
	cursor_init(&c, body, len);
	if (post < idlen + 2 || cursor_left(&c) < post)
		goto short_;
	*table_id = leN(c.p, idlen);
	flags = le16(c.p + idlen);
	c.p += post;
	if (cursor_u8(&c, &dblen) != 0 || cursor_bytes(&c, (size_t)dblen + 1,
	    &p) != 0 || p[dblen] != '\0')
		goto short_;
	if (cursor_u8(&c, &tlen) != 0 || cursor_bytes(&c, (size_t)tlen + 1,
	    &tname) != 0 || tname[tlen] != '\0')
		goto short_;
	if (cursor_lenenc(&c, &ncols) != 0 || ncols == 0 || ncols > 4096 ||
	    cursor_bytes(&c, (size_t)ncols, &types) != 0) {
		*cause = xstrdup("table map: bad column count or types");
		return (-1);
	}
	t = table_def_new((uint32_t)ncols);
	t->table_id = *table_id;
	t->map_flags = flags;
	t->db = xstrndup((const char *)p, dblen);
	t->name = xstrndup((const char *)tname, tlen);
	if (cursor_lenenc(&c, &n) != 0 || cursor_bytes(&c, (size_t)n,
	    &meta) != 0)
		goto short_;
	meta_len = (size_t)n;
	for (i = 0, mlen = 0; i < t->ncols; i++) {
		if ((k = coltype_meta_len(types[i])) < 0) {
			*cause = xasprintf("table map %s.%s: column %u has "
			    "unknown type %u", t->db, t->name, i + 1,
			    types[i]);
			goto fail;
		}
		if (mlen + (size_t)k > meta_len) {
			*cause = xasprintf("table map %s.%s: metadata ends at "
			    "column %u", t->db, t->name, i + 1);
			goto fail;
		}
		if (table_column_init(&t->cols[i], types[i], meta + mlen,
		    cause) != 0) {
			char	*why = *cause;

			*cause = xasprintf("table map %s.%s: column %u: %s",
			    t->db, t->name, i + 1, why);
			free(why);
			goto fail;
		}
		if (t->cols[i].type == COLTYPE_JSON)
			t->njson++;
		mlen += (size_t)k;
	}
	if (mlen != meta_len) {
		*cause = xasprintf("table map %s.%s: %zu bytes of column "
		    "metadata, the types need %zu", t->db, t->name, meta_len,
		    mlen);
		goto fail;
	}
	if (cursor_bytes(&c, (t->ncols + 7) / 8, &nulls) != 0)
		goto short_;
	for (i = 0; i < t->ncols; i++) {
		if ((nulls[i / 8] >> (i % 8)) & 1)
			t->cols[i].flags |= COLUMN_NULLABLE;
	}
	if (tm_optional(t, c.p, cursor_left(&c), fde->mariadb, cause) != 0) {
		char	*why = *cause;

		*cause = xasprintf("%s (%s.%s)", why, t->db, t->name);
		free(why);
		goto fail;
	}
	*out = t;
	return (0);
short_:
	*cause = xstrdup("table map event is truncated");
fail:
	table_def_free(t);
	return (-1);
}
