/*
 * The DTS Avro encoder.
 *
 * Hand-written for the one schema it serves (Record.avsc): fields in the
 * schema's order, union branches and enum ordinals as the schema numbers
 * them, one block per array and map.  It writes into the caller's buffer
 * and keeps its scratch buffers across records, so that once warm it
 * allocates nothing per record.  The mapping of MySQL column types to value
 * branches, and the choices where the format's documentation is silent, are
 * in docs/dts-avro.md; in short:
 *
 *	integers, BIT		Integer (precision = storage bytes, decimal text)
 *	DECIMAL			Decimal (text; precision and scale of the text,
 *				as Java's BigDecimal counts them)
 *	FLOAT, DOUBLE		Float (precision and scale 0: no reader uses them)
 *	TIMESTAMP		Timestamp (seconds, microseconds)
 *	DATE, TIME, DATETIME,	DateTime with only the parts the type has;
 *	YEAR			"millis" holds microseconds
 *	CHAR, VARCHAR		Character (MySQL charset name, raw bytes)
 *	BINARY, VARBINARY	Character with charset "binary"
 *	TEXT, BLOB		BinaryObject "TEXT", "BLOB" (raw bytes)
 *	ENUM, SET, JSON		TextObject "ENUM", "SET", "JSON"
 *	GEOMETRY		BinaryGeometry (WKB, the SRID prefix removed)
 *	VECTOR			BinaryObject "BINARY" (float32 little-endian)
 *	absent from the image	EmptyObject NONE
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/bytes.h"
#include "common/xmalloc.h"
#include "schema/avro.h"
#include "schema/charset.h"
#include "schema/coltype.h"
#include "schema/dts_avro.h"
#include "schema/mysql_json.h"
#include "schema/table.h"
#include "schema/value.h"

struct dts_encoder {
	struct buf	 text;		/* decimal, JSON, label text */
	struct buf	 name;		/* objectName */
	char		*name_db;	/* what name was made from */
	char		*name_table;
	struct buf	 fields;	/* the "fields" bytes of ... */
	uint64_t	 fields_serial;	/* ... this table_def */
};

struct dts_encoder *
dts_encoder_new(void)
{
	struct dts_encoder	*enc;

	enc = xcalloc(1, sizeof *enc);
	buf_init(&enc->text);
	buf_init(&enc->name);
	buf_init(&enc->fields);
	return (enc);
}

void
dts_encoder_free(struct dts_encoder *enc)
{
	if (enc == NULL)
		return;
	buf_release(&enc->text);
	buf_release(&enc->name);
	buf_release(&enc->fields);
	free(enc->name_db);
	free(enc->name_table);
	free(enc);
}

/*
 * MySQL's enum_field_types code as DTS reports it in Field.dataTypeNumber:
 * the protocol's codes, not the binlog's (VARCHAR is 253, TIMESTAMP2 is 7,
 * BLOBs by size, ENUM and SET by their real type).
 */
int
dts_type_number(const struct column *col)
{
	switch (col->type) {
	case COLTYPE_VARCHAR:
		return (COLTYPE_VAR_STRING);
	case COLTYPE_TIMESTAMP2:
		return (COLTYPE_TIMESTAMP);
	case COLTYPE_DATETIME2:
		return (COLTYPE_DATETIME);
	case COLTYPE_TIME2:
		return (COLTYPE_TIME);
	case COLTYPE_NEWDATE:
		return (COLTYPE_DATE);
	case COLTYPE_BLOB:
	case COLTYPE_TINY_BLOB:
	case COLTYPE_MEDIUM_BLOB:
	case COLTYPE_LONG_BLOB:
		switch (col->length) {
		case 1:	return (COLTYPE_TINY_BLOB);
		case 3:	return (COLTYPE_MEDIUM_BLOB);
		case 4:	return (COLTYPE_LONG_BLOB);
		}
		return (COLTYPE_BLOB);
	}
	return (col->type);
}

/*
 * "db.table" with a dot inside either name written as the six characters
 * \u002E, which is how DTS readers tell it from the separator.
 */
void
dts_object_name(const char *db, const char *table, struct buf *out)
{
	const char	*parts[2] = { db, table };
	const char	*p;
	int		 i;

	buf_reset(out);
	for (i = 0; i < 2 && parts[i] != NULL; i++) {
		if (i > 0)
			buf_addc(out, '.');
		for (p = parts[i]; *p != '\0'; p++) {
			if (*p == '.')
				buf_adds(out, "\\u002E");
			else
				buf_addc(out, (unsigned char)*p);
		}
	}
}

/*
 * The precision and scale of a decimal text as Java's BigDecimal has them:
 * scale is the number of fraction digits, precision the number of digits
 * of the unscaled value without leading zeros (1 for zero).  "348.00" is
 * 5/2, "0.10000" is 5/5, "0.00" is 1/2.
 */
int
dts_decimal_precision(const char *s, int *precision, int *scale)
{
	const char	*p = s, *dot;
	int		 digits = 0, seen = 0;

	if (*p == '-' || *p == '+')
		p++;
	dot = strchr(p, '.');
	*scale = dot != NULL ? (int)strlen(dot + 1) : 0;
	for (; *p != '\0'; p++) {
		if (*p == '.')
			continue;
		if (*p < '0' || *p > '9')
			return (-1);
		if (*p != '0' || seen) {
			seen = 1;
			digits++;
		}
	}
	*precision = digits > 0 ? digits : 1;
	return (0);
}

/* Decimal text of an integer, written straight into the buffer. */
static void
dts_u64(struct avro_w *w, uint64_t v, int neg)
{
	static const char	 pairs[] =
	    "00010203040506070809101112131415161718192021222324252627282930"
	    "31323334353637383940414243444546474849505152535455565758596061"
	    "6263646566676869707172737475767778798081828384858687888990919293"
	    "949596979899";
	char			 tmp[24], *p = tmp + sizeof tmp;
	size_t			 n;

	while (v >= 100) {
		p -= 2;
		memcpy(p, pairs + (v % 100) * 2, 2);
		v /= 100;
	}
	if (v >= 10) {
		p -= 2;
		memcpy(p, pairs + v * 2, 2);
	} else
		*--p = (char)('0' + v);
	if (neg)
		*--p = '-';
	n = (size_t)(tmp + sizeof tmp - p);
	aw_bytes(w, p, n);
}

/*
 * A Decimal from its unscaled value m and scale: the same text
 * value_decimal_text() makes ("-12.50", "0.05", "0"), its precision the
 * digits of |m| (1 for zero), as BigDecimal counts them.
 */
static void
dts_decimal_small(struct avro_w *w, int64_t m, unsigned int scale)
{
	char		 tmp[48], *p = tmp + sizeof tmp;
	uint64_t	 u = m < 0 ? (uint64_t)0 - (uint64_t)m : (uint64_t)m;
	unsigned int	 n = 0, digits;
	size_t		 len;

	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
		n++;
	} while (u != 0);
	digits = n;
	/* leading zeros up to "0.0...": the integer part is at least "0" */
	while (n < scale + 1) {
		*--p = '0';
		n++;
	}
	if (scale > 0) {
		/* shift the fraction right by one for the point */
		p--;
		memmove(p, p + 1, n - scale);
		p[n - scale] = '.';
	}
	if (m < 0)
		*--p = '-';
	len = (size_t)(tmp + sizeof tmp - p);
	aw_long(w, DTS_DECIMAL);
	aw_bytes(w, p, len);
	aw_long(w, m == 0 ? 1 : (int64_t)digits);
	aw_long(w, scale);
}

/* Storage bytes, DTS's "precision" of an Integer. */
static int
dts_int_precision(const struct column *col)
{
	switch (col->type) {
	case COLTYPE_TINY:	return (1);
	case COLTYPE_SHORT:	return (2);
	case COLTYPE_INT24:	return (3);
	case COLTYPE_LONG:	return (4);
	case COLTYPE_LONGLONG:	return (8);
	case COLTYPE_BIT:	return ((int)(col->length + 7) / 8);
	}
	return (8);
}

static void
dts_opt_int(struct avro_w *w, int present, int64_t v)
{
	if (!present)
		aw_long(w, 0);
	else {
		aw_long(w, 1);
		aw_long(w, v);
	}
}

/* DateTime: the parts the type has, others null; negative TIME all negative. */
static void
dts_datetime(struct avro_w *w, const struct value *v)
{
	const struct value_time	*t = &v->t;
	int			 sign = t->neg ? -1 : 1;
	int			 date = v->kind != VALUE_TIME;
	int			 time = v->kind != VALUE_DATE;

	aw_long(w, DTS_DATETIME);
	dts_opt_int(w, date, t->year);
	dts_opt_int(w, date, t->month);
	dts_opt_int(w, date, t->day);
	dts_opt_int(w, time, sign * (int64_t)t->hour);
	dts_opt_int(w, time, sign * (int64_t)t->minute);
	dts_opt_int(w, time, sign * (int64_t)t->second);
	dts_opt_int(w, time, sign * (int64_t)t->usec);
}

static const char *
dts_geometry_name(const uint8_t *wkb, size_t len)
{
	static const char	*names[] = { "GEOMETRY", "POINT", "LINESTRING",
	    "POLYGON", "MULTIPOINT", "MULTILINESTRING", "MULTIPOLYGON",
	    "GEOMETRYCOLLECTION" };
	uint32_t		 t;

	if (len < 5)
		return ("GEOMETRY");
	t = wkb[0] == 1 ? le32(wkb + 1) : (uint32_t)beN(wkb + 1, 4);
	return (t < 8 ? names[t] : "GEOMETRY");
}

/*
 * The charset name for a character column's Character branch: MySQL's
 * name, but "utf8" for the 3-byte UTF-8 that MariaDB and MySQL 8.0.30+
 * call utf8mb3 (as the servers DTS's readers were written for call it:
 * DTS's demo consumer knows no "utf8mb3", and neither does Java).
 */
static const char *
dts_charset(const struct column *col, const struct value *v)
{
	const char	*cs;

	if (col->collation != 0 && (cs = charset_name(col->collation)) !=
	    NULL)
		return (strcmp(cs, "utf8mb3") == 0 ? "utf8" : cs);
	/* No metadata: what the bytes look like (docs/dts-avro.md). */
	return (charset_is_utf8(v->bytes.p, v->bytes.len) ? "utf8mb4" :
	    "binary");
}

static int
dts_value(struct dts_encoder *enc, struct avro_w *w, const struct column *col,
    const struct value *v, const struct value *before, char **cause)
{
	int		 precision, scale;
	size_t		 pad, start;
	uint32_t	 i;
	int64_t		 m;

	switch (v->kind) {
	case VALUE_ABSENT:
		aw_long(w, DTS_EMPTY_OBJECT);
		aw_long(w, 1);		/* NONE */
		return (0);
	case VALUE_NULL:
		aw_long(w, DTS_NULL);
		return (0);
	case VALUE_INT:
		if (col->type == COLTYPE_YEAR) {
			aw_long(w, DTS_DATETIME);
			dts_opt_int(w, 1, v->i);
			for (i = 0; i < 6; i++)
				aw_long(w, 0);
			return (0);
		}
		aw_long(w, DTS_INTEGER);
		aw_long(w, dts_int_precision(col));
		dts_u64(w, v->i < 0 ? (uint64_t)0 - (uint64_t)v->i :
		    (uint64_t)v->i, v->i < 0);
		return (0);
	case VALUE_UINT:
	case VALUE_BIT:
		aw_long(w, DTS_INTEGER);
		aw_long(w, dts_int_precision(col));
		dts_u64(w, v->u, 0);
		return (0);
	case VALUE_FLOAT:
	case VALUE_DOUBLE:
		aw_long(w, DTS_FLOAT);
		aw_double(w, v->kind == VALUE_FLOAT ? (double)v->f : v->d);
		aw_long(w, 0);
		aw_long(w, 0);
		return (0);
	case VALUE_DECIMAL:
		if (value_decimal_int64(v->bytes.p, v->bytes.len,
		    col->precision, col->scale, &m) == 0) {
			dts_decimal_small(w, m, col->scale);
			return (0);
		}
		__attribute__((fallthrough));
	case VALUE_DECIMAL_TEXT:
		buf_reset(&enc->text);
		if (v->kind == VALUE_DECIMAL) {
			if (value_decimal_text(v->bytes.p, v->bytes.len,
			    col->precision, col->scale, &enc->text, cause) != 0)
				return (-1);
		} else
			buf_add(&enc->text, v->bytes.p, v->bytes.len);
		if (dts_decimal_precision(buf_str(&enc->text), &precision,
		    &scale) != 0) {
			*cause = xasprintf("DECIMAL value '%s' is not a number",
			    buf_str(&enc->text));
			return (-1);
		}
		aw_long(w, DTS_DECIMAL);
		aw_bytes(w, enc->text.data, enc->text.len);
		aw_long(w, precision);
		aw_long(w, scale);
		return (0);
	case VALUE_TIMESTAMP:
		aw_long(w, DTS_TIMESTAMP);
		aw_long(w, v->ts.sec);
		aw_long(w, v->ts.usec);
		return (0);
	case VALUE_DATE:
	case VALUE_TIME:
	case VALUE_DATETIME:
		dts_datetime(w, v);
		return (0);
	case VALUE_STRING:
		if (coltype_is_blob(col->type)) {
			/* TEXT too: readers key the branch on the type code
			 * (docs/dts-avro.md). */
			aw_long(w, DTS_BINARY_OBJECT);
			aw_string(w, col->collation == CHARSET_BINARY ||
			    (col->collation == 0 && !charset_is_utf8(
			    v->bytes.p, v->bytes.len)) ? "BLOB" : "TEXT");
			aw_bytes(w, v->bytes.p, v->bytes.len);
			return (0);
		}
		aw_long(w, DTS_CHARACTER);
		aw_string(w, dts_charset(col, v));
		pad = value_binary_pad(v, col);
		aw_need(w, v->bytes.len + pad + 10);
		w->p = avro_put_long(w->p, (int64_t)(v->bytes.len + pad));
		memcpy(w->p, v->bytes.p, v->bytes.len);
		if (pad > 0)
			memset(w->p + v->bytes.len, 0, pad);
		w->p += v->bytes.len + pad;
		return (0);
	case VALUE_ENUM:
	case VALUE_SET:
		buf_reset(&enc->text);
		if (v->kind == VALUE_ENUM) {
			if (v->u >= 1 && v->u <= col->nlabels)
				buf_adds(&enc->text, col->labels[v->u - 1]);
			else if (v->u != 0 || col->nlabels == 0)
				buf_printf(&enc->text, "%" PRIu64, v->u);
		} else if (col->nlabels > 0) {
			for (i = 0; i < col->nlabels && i < 64; i++) {
				if (((v->u >> i) & 1) == 0)
					continue;
				if (enc->text.len > 0)
					buf_addc(&enc->text, ',');
				buf_adds(&enc->text, col->labels[i]);
			}
		} else
			buf_printf(&enc->text, "%" PRIu64, v->u);
		aw_long(w, DTS_TEXT_OBJECT);
		aw_string(w, v->kind == VALUE_ENUM ? "ENUM" : "SET");
		aw_bytes(w, enc->text.data != NULL ? enc->text.data :
		    (const uint8_t *)"", enc->text.len);
		return (0);
	case VALUE_JSON:
	case VALUE_JSON_DIFF:
		buf_reset(&enc->text);
		if (v->kind == VALUE_JSON) {
			if (mysql_json_to_text(v->bytes.p, v->bytes.len,
			    &enc->text, cause) != 0)
				return (-1);
		} else {
			if (before == NULL || before->kind != VALUE_JSON) {
				*cause = xstrdup("a partial JSON update without "
				    "the document it changes cannot become a "
				    "DTS record (set binlog_row_value_options='' "
				    "on the source)");
				return (-1);
			}
			if (mysql_json_apply_diff(before->bytes.p,
			    before->bytes.len, v->bytes.p, v->bytes.len,
			    &enc->text, cause) != 0)
				return (-1);
		}
		aw_long(w, DTS_TEXT_OBJECT);
		aw_string(w, "JSON");
		aw_bytes(w, enc->text.data, enc->text.len);
		return (0);
	case VALUE_JSON_TEXT:
		aw_long(w, DTS_TEXT_OBJECT);
		aw_string(w, "JSON");
		aw_bytes(w, v->bytes.p, v->bytes.len);
		return (0);
	case VALUE_GEOMETRY:
		/* MySQL stores a 4-byte SRID before the WKB. */
		start = v->bytes.len >= 4 ? 4 : v->bytes.len;
		aw_long(w, DTS_BINARY_GEOMETRY);
		aw_string(w, dts_geometry_name(v->bytes.p + start,
		    v->bytes.len - start));
		aw_bytes(w, v->bytes.p + start, v->bytes.len - start);
		return (0);
	case VALUE_VECTOR:
		aw_long(w, DTS_BINARY_OBJECT);
		aw_string(w, "BINARY");
		aw_bytes(w, v->bytes.p, v->bytes.len);
		return (0);
	}
	*cause = xasprintf("%s: value kind %d", __func__, v->kind);
	return (-1);
}

static int
dts_image(struct dts_encoder *enc, struct avro_w *w, const struct table_def *t,
    const struct value *values, const struct value *before, char **cause)
{
	uint32_t	 i;
	char		*why;

	if (values == NULL) {
		aw_long(w, 0);		/* null */
		return (0);
	}
	aw_long(w, 2);			/* the array branch */
	aw_long(w, t->ncols);
	for (i = 0; i < t->ncols; i++) {
		if (dts_value(enc, w, &t->cols[i], &values[i], before != NULL ?
		    &before[i] : NULL, &why) != 0) {
			*cause = xasprintf("%s.%s column %s: %s", t->db, t->name,
			    t->cols[i].name != NULL ? t->cols[i].name : "?",
			    why);
			free(why);
			return (-1);
		}
	}
	aw_long(w, 0);
	return (0);
}

static void
dts_fields(struct avro_w *w, const struct table_def *t)
{
	char		 name[16];
	uint32_t	 i;

	aw_long(w, 2);			/* the array branch */
	aw_long(w, t->ncols);
	for (i = 0; i < t->ncols; i++) {
		if (t->cols[i].name != NULL)
			aw_string(w, t->cols[i].name);
		else {
			snprintf(name, sizeof name, "@%" PRIu32, i + 1);
			aw_string(w, name);
		}
		aw_long(w, dts_type_number(&t->cols[i]));
	}
	aw_long(w, 0);
}

static int
dts_encode_once(struct dts_encoder *enc, const struct dts_record *r,
    const char *pad, struct avro_w *w, char **cause)
{
	size_t	 i;
	int	 rows = r->op == DTS_OP_INSERT || r->op == DTS_OP_UPDATE ||
		    r->op == DTS_OP_DELETE || r->op == DTS_OP_INIT;

	aw_long(w, 0);					/* version */
	aw_long(w, r->id);
	aw_long(w, r->source_timestamp);
	aw_string(w, r->source_position != NULL ? r->source_position : "");
	aw_string(w, r->safe_source_position != NULL ?
	    r->safe_source_position : "");
	aw_string(w, r->source_txid != NULL ? r->source_txid : "0");
	aw_long(w, r->source_type);			/* source */
	aw_string(w, r->source_version != NULL ? r->source_version : "");
	aw_long(w, r->op);
	if (r->db == NULL) {
		/* A record of no database (a HEARTBEAT): "", not null, which
		 * DTS's fast SDK reader cannot take (docs/dts-avro.md). */
		aw_long(w, 1);
		aw_bytes(w, "", 0);
	} else {
		/* Consecutive records mostly share their table. */
		if (enc->name_db == NULL || strcmp(enc->name_db, r->db) != 0 ||
		    (enc->name_table == NULL) != (r->table == NULL) ||
		    (r->table != NULL && strcmp(enc->name_table,
		    r->table) != 0)) {
			dts_object_name(r->db, r->table, &enc->name);
			free(enc->name_db);
			free(enc->name_table);
			enc->name_db = xstrdup(r->db);
			enc->name_table = r->table != NULL ?
			    xstrdup(r->table) : NULL;
		}
		aw_long(w, 1);
		aw_bytes(w, enc->name.data, enc->name.len);
	}
	aw_long(w, 0);				/* processTimestamps */
	if (r->ntags > 0 || pad != NULL) {		/* tags */
		aw_long(w, (int64_t)(r->ntags + (pad != NULL)));
		for (i = 0; i < r->ntags; i++) {
			aw_string(w, r->tags[i].key);
			aw_string(w, r->tags[i].value);
		}
		if (pad != NULL) {
			aw_string(w, "padding");
			aw_string(w, pad);
		}
	}
	aw_long(w, 0);
	if (rows) {
		if (r->def == NULL) {
			*cause = xstrdup("a row record without a table");
			return (-1);
		}
		/* The same bytes for every record of a definition. */
		if (enc->fields_serial != r->def->serial || r->def->serial ==
		    0) {
			struct avro_w	 fw;

			buf_reset(&enc->fields);
			aw_begin(&fw, &enc->fields, 256);
			dts_fields(&fw, r->def);
			aw_finish(&fw);
			enc->fields_serial = r->def->serial;
		}
		aw_need(w, enc->fields.len);
		memcpy(w->p, enc->fields.data, enc->fields.len);
		w->p += enc->fields.len;
		if (dts_image(enc, w, r->def, r->op == DTS_OP_UPDATE ||
		    r->op == DTS_OP_DELETE ? r->before : NULL, NULL,
		    cause) != 0)
			return (-1);
		if (dts_image(enc, w, r->def, r->op == DTS_OP_DELETE ? NULL :
		    r->after, r->op == DTS_OP_UPDATE ? r->before : NULL,
		    cause) != 0)
			return (-1);
	} else {
		aw_long(w, 0);			/* fields */
		aw_long(w, 0);			/* beforeImages */
		if (r->op == DTS_OP_DDL) {
			aw_long(w, 1);		/* the string branch */
			aw_bytes(w, r->ddl != NULL ? r->ddl : "",
			    r->ddl_len);
		} else
			aw_long(w, 0);
	}
	aw_long(w, r->born_timestamp);
	return (0);
}

/*
 * Append the record r to out as one Avro datum.  Returns 0, or -1 with
 * *cause (a value that cannot be represented), out unchanged then.  A record
 * that would be DTS_MIN_RECORD - 1 bytes or shorter gets a "padding" tag:
 * DTS consumers skip such short messages as filler.
 */
int
dts_encode(struct dts_encoder *enc, const struct dts_record *r,
    struct buf *out, char **cause)
{
	static const char	 spaces[] = "                                "
	    "                    ";
	struct avro_w		 w;
	size_t			 start = out->len, len;

	aw_begin(&w, out, 1024);
	if (dts_encode_once(enc, r, NULL, &w, cause) != 0) {
		aw_finish(&w);
		buf_truncate(out, start);
		return (-1);
	}
	aw_finish(&w);
	len = out->len - start;
	if (len < DTS_MIN_RECORD) {
		buf_truncate(out, start);
		aw_begin(&w, out, 1024);
		if (dts_encode_once(enc, r, spaces + sizeof spaces - 1 -
		    (DTS_MIN_RECORD - len), &w, cause) != 0) {
			aw_finish(&w);
			buf_truncate(out, start);
			return (-1);
		}
		aw_finish(&w);
	}
	return (0);
}
