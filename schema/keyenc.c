/*
 * Row keys as byte strings that sort, with memcmp, the way the server sorts
 * the key: what lets the full sync and the binlog phase agree on which rows
 * of a table a snapshot already covered (engine/sync.c).
 *
 * Each column: 0x00 for NULL (sorts first, as in MySQL), else 0x01 and
 *	signed integers, YEAR	8 bytes big-endian, sign bit flipped
 *	unsigned, ENUM, SET, BIT  8 bytes big-endian
 *	DECIMAL			MySQL's binary form, which sorts as is
 *	FLOAT, DOUBLE		the IEEE bits, all flipped when negative, the
 *				sign flipped otherwise
 *	DATE, DATETIME		year, month, day, hour, minute, second, usec
 *	TIME			signed microseconds, as a signed integer
 *	TIMESTAMP		seconds, then microseconds
 *	strings			the bytes, 0x00 escaped as 0x00 0xff, ended by
 *				0x00 0x00; trailing spaces dropped under PAD
 *				SPACE collations, trailing 0x00 of BINARY(n)
 *
 * Strings sort by bytes only in binary collations (binary, *_bin of
 * single-byte charsets and of UTF-8, whose byte order is code point
 * order); any other collation, and JSON or geometry, cannot be encoded:
 * keyenc_supported() says so and the caller falls back.
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "common/buf.h"
#include "schema/charset.h"
#include "schema/coltype.h"
#include "schema/keyenc.h"
#include "schema/table.h"
#include "schema/value.h"

/* Whether a string collation orders by bytes; *pad: PAD SPACE. */
static int
keyenc_bytewise(uint32_t collation, int *pad)
{
	const struct charset_collation	*c;
	size_t				 n;

	*pad = 0;
	if (collation == CHARSET_BINARY)
		return (1);
	if ((c = charset_by_id(collation)) == NULL || c->collation == NULL)
		return (0);
	n = strlen(c->collation);
	if (n < 4 || strcmp(c->collation + n - 4, "_bin") != 0)
		return (0);
	if (strcmp(c->charset, "utf8mb4") != 0 &&
	    strcmp(c->charset, "utf8mb3") != 0 &&
	    strcmp(c->charset, "utf8") != 0 && c->maxlen != 1)
		return (0);
	/* The 0900 and uca1400 collations are NO PAD; the older are PAD SPACE. */
	*pad = strstr(c->collation, "0900") == NULL &&
	    strstr(c->collation, "uca1400") == NULL;
	return (1);
}

static int
keyenc_column_ok(const struct column *col)
{
	int	 pad;

	switch (col->type) {
	case COLTYPE_TINY:
	case COLTYPE_SHORT:
	case COLTYPE_INT24:
	case COLTYPE_LONG:
	case COLTYPE_LONGLONG:
	case COLTYPE_YEAR:
	case COLTYPE_NEWDECIMAL:
	case COLTYPE_FLOAT:
	case COLTYPE_DOUBLE:
	case COLTYPE_DATE:
	case COLTYPE_NEWDATE:
	case COLTYPE_DATETIME:
	case COLTYPE_DATETIME2:
	case COLTYPE_TIME:
	case COLTYPE_TIME2:
	case COLTYPE_TIMESTAMP:
	case COLTYPE_TIMESTAMP2:
	case COLTYPE_ENUM:
	case COLTYPE_SET:
	case COLTYPE_BIT:
		return (1);
	case COLTYPE_STRING:
	case COLTYPE_VARCHAR:
	case COLTYPE_VAR_STRING:
		return (col->collation != 0 &&
		    keyenc_bytewise(col->collation, &pad));
	default:
		return (0);
	}
}

/* Whether every key column can be encoded. */
int
keyenc_supported(const struct table_def *t, const uint32_t *key,
    uint32_t nkey)
{
	uint32_t	 i;

	if (nkey == 0)
		return (0);
	for (i = 0; i < nkey; i++) {
		if (key[i] >= t->ncols || !keyenc_column_ok(&t->cols[key[i]]))
			return (0);
	}
	return (1);
}

static void
keyenc_be(struct buf *b, uint64_t v, int n)
{
	while (n-- > 0)
		buf_addc(b, (unsigned char)(v >> (n * 8)));
}

/*
 * Append the sortable key of row (the table's values) to out.  Returns -1
 * when a value cannot be encoded (a column keyenc_supported() refuses, a
 * value absent from a partial image).
 */
int
keyenc(const struct table_def *t, const uint32_t *key, uint32_t nkey,
    const struct value *row, struct buf *out)
{
	const struct column	*col;
	const struct value	*v;
	const uint8_t		*p;
	uint64_t		 bits;
	size_t			 len, i;
	uint32_t		 k;
	int			 pad;

	for (k = 0; k < nkey; k++) {
		col = &t->cols[key[k]];
		v = &row[key[k]];
		if (v->kind == VALUE_NULL) {
			buf_addc(out, 0x00);
			continue;
		}
		buf_addc(out, 0x01);
		switch (v->kind) {
		case VALUE_INT:
			keyenc_be(out, (uint64_t)v->i ^ 0x8000000000000000ULL,
			    8);
			break;
		case VALUE_UINT:
		case VALUE_ENUM:
		case VALUE_SET:
		case VALUE_BIT:
			keyenc_be(out, v->u, 8);
			break;
		case VALUE_DECIMAL:
			buf_add(out, v->bytes.p, v->bytes.len);
			break;
		case VALUE_FLOAT:
		case VALUE_DOUBLE:
			if (v->kind == VALUE_FLOAT) {
				double	 d = (double)v->f;

				memcpy(&bits, &d, sizeof bits);
			} else
				memcpy(&bits, &v->d, sizeof bits);
			if (bits == 0x8000000000000000ULL)
				bits = 0;	/* -0 == 0 */
			bits = (bits & 0x8000000000000000ULL) ? ~bits :
			    bits ^ 0x8000000000000000ULL;
			keyenc_be(out, bits, 8);
			break;
		case VALUE_DATE:
		case VALUE_DATETIME:
			keyenc_be(out, (uint64_t)(uint32_t)v->t.year, 4);
			buf_addc(out, v->t.month);
			buf_addc(out, v->t.day);
			keyenc_be(out, v->t.hour, 4);
			buf_addc(out, v->t.minute);
			buf_addc(out, v->t.second);
			keyenc_be(out, v->t.usec, 4);
			break;
		case VALUE_TIME:
			bits = (((uint64_t)v->t.hour * 60 + v->t.minute) * 60 +
			    v->t.second) * 1000000 + v->t.usec;
			if (v->t.neg)
				bits = (uint64_t)0 - bits;
			keyenc_be(out, bits ^ 0x8000000000000000ULL, 8);
			break;
		case VALUE_TIMESTAMP:
			keyenc_be(out, (uint64_t)v->ts.sec ^
			    0x8000000000000000ULL, 8);
			keyenc_be(out, v->ts.usec, 4);
			break;
		case VALUE_STRING:
			if (!keyenc_bytewise(col->collation, &pad))
				return (-1);
			p = v->bytes.p;
			len = v->bytes.len;
			if (col->collation == CHARSET_BINARY &&
			    col->type == COLTYPE_STRING) {
				while (len > 0 && p[len - 1] == 0x00)
					len--;
			} else if (pad) {
				while (len > 0 && p[len - 1] == ' ')
					len--;
			}
			for (i = 0; i < len; i++) {
				buf_addc(out, p[i]);
				if (p[i] == 0x00)
					buf_addc(out, 0xff);
			}
			buf_addc(out, 0x00);
			buf_addc(out, 0x00);
			break;
		default:
			return (-1);
		}
	}
	return (0);
}
