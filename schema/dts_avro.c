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
};

struct dts_encoder *
dts_encoder_new(void)
{
	struct dts_encoder	*enc;

	enc = xcalloc(1, sizeof *enc);
	buf_init(&enc->text);
	buf_init(&enc->name);
	return (enc);
}

void
dts_encoder_free(struct dts_encoder *enc)
{
	if (enc == NULL)
		return;
	buf_release(&enc->text);
	buf_release(&enc->name);
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
dts_u64(struct buf *b, uint64_t v, int neg)
{
	char	 tmp[24], *p = tmp + sizeof tmp;
	size_t	 n;

	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	if (neg)
		*--p = '-';
	n = (size_t)(tmp + sizeof tmp - p);
	avro_long(b, (int64_t)n);
	buf_add(b, p, n);
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
dts_opt_int(struct buf *b, int present, int64_t v)
{
	if (!present)
		avro_long(b, 0);
	else {
		avro_long(b, 1);
		avro_long(b, v);
	}
}

/* DateTime: the parts the type has, others null; negative TIME all negative. */
static void
dts_datetime(struct buf *b, const struct value *v, const struct column *col)
{
	const struct value_time	*t = &v->t;
	int			 sign = t->neg ? -1 : 1;
	int			 date = v->kind != VALUE_TIME;
	int			 time = v->kind != VALUE_DATE;

	avro_long(b, DTS_DATETIME);
	dts_opt_int(b, date, t->year);
	dts_opt_int(b, date, t->month);
	dts_opt_int(b, date, t->day);
	dts_opt_int(b, time, sign * (int64_t)t->hour);
	dts_opt_int(b, time, sign * (int64_t)t->minute);
	dts_opt_int(b, time, sign * (int64_t)t->second);
	dts_opt_int(b, time, sign * (int64_t)t->usec);
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

/* The charset name for a character column's Character branch. */
static const char *
dts_charset(const struct column *col, const struct value *v)
{
	const char	*cs;

	if (col->collation != 0 && (cs = charset_name(col->collation)) != NULL)
		return (cs);
	/* No metadata: what the bytes look like (docs/dts-avro.md). */
	return (charset_is_utf8(v->bytes.p, v->bytes.len) ? "utf8mb4" :
	    "binary");
}

static int
dts_value(struct dts_encoder *enc, struct buf *b, const struct column *col,
    const struct value *v, const struct value *before, char **cause)
{
	int		 precision, scale;
	size_t		 pad, start;
	uint32_t	 i;

	switch (v->kind) {
	case VALUE_ABSENT:
		avro_long(b, DTS_EMPTY_OBJECT);
		avro_long(b, 1);		/* NONE */
		return (0);
	case VALUE_NULL:
		avro_long(b, DTS_NULL);
		return (0);
	case VALUE_INT:
		if (col->type == COLTYPE_YEAR) {
			avro_long(b, DTS_DATETIME);
			dts_opt_int(b, 1, v->i);
			for (i = 0; i < 6; i++)
				avro_long(b, 0);
			return (0);
		}
		avro_long(b, DTS_INTEGER);
		avro_long(b, dts_int_precision(col));
		dts_u64(b, v->i < 0 ? (uint64_t)0 - (uint64_t)v->i :
		    (uint64_t)v->i, v->i < 0);
		return (0);
	case VALUE_UINT:
	case VALUE_BIT:
		avro_long(b, DTS_INTEGER);
		avro_long(b, dts_int_precision(col));
		dts_u64(b, v->u, 0);
		return (0);
	case VALUE_FLOAT:
	case VALUE_DOUBLE:
		avro_long(b, DTS_FLOAT);
		avro_double(b, v->kind == VALUE_FLOAT ? (double)v->f : v->d);
		avro_long(b, 0);
		avro_long(b, 0);
		return (0);
	case VALUE_DECIMAL:
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
		avro_long(b, DTS_DECIMAL);
		avro_bytes(b, enc->text.data, enc->text.len);
		avro_long(b, precision);
		avro_long(b, scale);
		return (0);
	case VALUE_TIMESTAMP:
		avro_long(b, DTS_TIMESTAMP);
		avro_long(b, v->ts.sec);
		avro_long(b, v->ts.usec);
		return (0);
	case VALUE_DATE:
	case VALUE_TIME:
	case VALUE_DATETIME:
		dts_datetime(b, v, col);
		return (0);
	case VALUE_STRING:
		if (coltype_is_blob(col->type)) {
			/* TEXT too: readers key the branch on the type code
			 * (docs/dts-avro.md). */
			avro_long(b, DTS_BINARY_OBJECT);
			avro_string(b, col->collation == CHARSET_BINARY ||
			    (col->collation == 0 && !charset_is_utf8(
			    v->bytes.p, v->bytes.len)) ? "BLOB" : "TEXT");
			avro_bytes(b, v->bytes.p, v->bytes.len);
			return (0);
		}
		avro_long(b, DTS_CHARACTER);
		avro_string(b, dts_charset(col, v));
		pad = value_binary_pad(v, col);
		avro_long(b, (int64_t)(v->bytes.len + pad));
		buf_add(b, v->bytes.p, v->bytes.len);
		if (pad > 0) {
			buf_reserve(b, pad);
			memset(b->data + b->len, 0, pad);
			b->len += pad;
			b->data[b->len] = '\0';
		}
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
		avro_long(b, DTS_TEXT_OBJECT);
		avro_string(b, v->kind == VALUE_ENUM ? "ENUM" : "SET");
		avro_bytes(b, enc->text.data != NULL ? enc->text.data :
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
		avro_long(b, DTS_TEXT_OBJECT);
		avro_string(b, "JSON");
		avro_bytes(b, enc->text.data, enc->text.len);
		return (0);
	case VALUE_GEOMETRY:
		/* MySQL stores a 4-byte SRID before the WKB. */
		start = v->bytes.len >= 4 ? 4 : v->bytes.len;
		avro_long(b, DTS_BINARY_GEOMETRY);
		avro_string(b, dts_geometry_name(v->bytes.p + start,
		    v->bytes.len - start));
		avro_bytes(b, v->bytes.p + start, v->bytes.len - start);
		return (0);
	case VALUE_VECTOR:
		avro_long(b, DTS_BINARY_OBJECT);
		avro_string(b, "BINARY");
		avro_bytes(b, v->bytes.p, v->bytes.len);
		return (0);
	}
	*cause = xasprintf("%s: value kind %d", __func__, v->kind);
	return (-1);
}

static int
dts_image(struct dts_encoder *enc, struct buf *b, const struct table_def *t,
    const struct value *values, const struct value *before, char **cause)
{
	uint32_t	 i;
	char		*why;

	if (values == NULL) {
		avro_long(b, 0);		/* null */
		return (0);
	}
	avro_long(b, 2);			/* the array branch */
	avro_long(b, t->ncols);
	for (i = 0; i < t->ncols; i++) {
		if (dts_value(enc, b, &t->cols[i], &values[i], before != NULL ?
		    &before[i] : NULL, &why) != 0) {
			*cause = xasprintf("%s.%s column %s: %s", t->db, t->name,
			    t->cols[i].name != NULL ? t->cols[i].name : "?",
			    why);
			free(why);
			return (-1);
		}
	}
	avro_long(b, 0);
	return (0);
}

static void
dts_fields(struct buf *b, const struct table_def *t)
{
	char		 name[16];
	uint32_t	 i;

	avro_long(b, 2);			/* the array branch */
	avro_long(b, t->ncols);
	for (i = 0; i < t->ncols; i++) {
		if (t->cols[i].name != NULL)
			avro_string(b, t->cols[i].name);
		else {
			snprintf(name, sizeof name, "@%" PRIu32, i + 1);
			avro_string(b, name);
		}
		avro_long(b, dts_type_number(&t->cols[i]));
	}
	avro_long(b, 0);
}

static int
dts_encode_once(struct dts_encoder *enc, const struct dts_record *r,
    const char *pad, struct buf *b, char **cause)
{
	size_t	 i;
	int	 rows = r->op == DTS_OP_INSERT || r->op == DTS_OP_UPDATE ||
		    r->op == DTS_OP_DELETE || r->op == DTS_OP_INIT;

	avro_int(b, 0);					/* version */
	avro_long(b, r->id);
	avro_long(b, r->source_timestamp);
	avro_string(b, r->source_position != NULL ? r->source_position : "");
	avro_string(b, r->safe_source_position != NULL ?
	    r->safe_source_position : "");
	avro_string(b, r->source_txid != NULL ? r->source_txid : "0");
	avro_long(b, r->source_type);			/* source */
	avro_string(b, r->source_version != NULL ? r->source_version : "");
	avro_long(b, r->op);
	if (r->db == NULL)
		avro_long(b, 0);			/* objectName: null */
	else {
		dts_object_name(r->db, r->table, &enc->name);
		avro_long(b, 1);
		avro_bytes(b, enc->name.data, enc->name.len);
	}
	avro_long(b, 0);				/* processTimestamps */
	if (r->ntags > 0 || pad != NULL) {		/* tags */
		avro_long(b, (int64_t)(r->ntags + (pad != NULL)));
		for (i = 0; i < r->ntags; i++) {
			avro_string(b, r->tags[i].key);
			avro_string(b, r->tags[i].value);
		}
		if (pad != NULL) {
			avro_string(b, "padding");
			avro_string(b, pad);
		}
	}
	avro_long(b, 0);
	if (rows) {
		if (r->def == NULL) {
			*cause = xstrdup("a row record without a table");
			return (-1);
		}
		dts_fields(b, r->def);
		if (dts_image(enc, b, r->def, r->op == DTS_OP_UPDATE ||
		    r->op == DTS_OP_DELETE ? r->before : NULL, NULL,
		    cause) != 0)
			return (-1);
		if (dts_image(enc, b, r->def, r->op == DTS_OP_DELETE ? NULL :
		    r->after, r->op == DTS_OP_UPDATE ? r->before : NULL,
		    cause) != 0)
			return (-1);
	} else {
		avro_long(b, 0);			/* fields */
		avro_long(b, 0);			/* beforeImages */
		if (r->op == DTS_OP_DDL) {
			avro_long(b, 1);		/* the string branch */
			avro_bytes(b, r->ddl != NULL ? r->ddl : "",
			    r->ddl_len);
		} else
			avro_long(b, 0);
	}
	avro_long(b, r->born_timestamp);
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
	size_t			 start = out->len, len;

	if (dts_encode_once(enc, r, NULL, out, cause) != 0) {
		buf_truncate(out, start);
		return (-1);
	}
	len = out->len - start;
	if (len < DTS_MIN_RECORD) {
		buf_truncate(out, start);
		if (dts_encode_once(enc, r, spaces + sizeof spaces - 1 -
		    (DTS_MIN_RECORD - len), out, cause) != 0) {
			buf_truncate(out, start);
			return (-1);
		}
	}
	return (0);
}
