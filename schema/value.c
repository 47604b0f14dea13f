/*
 * Decoding column values from row images, and the text forms of DECIMAL and
 * temporal values.
 *
 * value_decode() is on the hot path (every column of every row): it reads
 * exactly the bytes the column's type and metadata say, checks that they
 * are there first, allocates nothing, and leaves variable-length data in
 * place.  Formats, from the server sources' documentation of the row image:
 *
 *	integers	little-endian, 1/2/3/4/8 bytes
 *	FLOAT, DOUBLE	IEEE 754 little-endian
 *	DECIMAL		MySQL's binary decimal (value_decimal_text())
 *	DATE		3 bytes: day | month << 5 | year << 9
 *	TIME (old)	3 bytes, signed HHMMSS
 *	DATETIME (old)	8 bytes, YYYYMMDDhhmmss
 *	TIMESTAMP (old)	4 bytes, seconds
 *	TIME2		3 bytes big-endian, offset 0x800000, + fraction
 *	DATETIME2	5 bytes big-endian, offset 0x8000000000, + fraction
 *	TIMESTAMP2	4 bytes big-endian seconds + fraction
 *	fraction	(fsp + 1) / 2 bytes big-endian
 *	CHAR		1 or 2 length bytes (2 when the column may exceed 255
 *			bytes), then the bytes
 *	VARCHAR		the same, 2 bytes when the maximum exceeds 255
 *	BLOB family	1-4 length bytes (metadata), then the bytes
 *	ENUM, SET	1-2 / 1-8 bytes, little-endian
 *	BIT		(bits + 7) / 8 bytes, big-endian
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common/buf.h"
#include "common/bytes.h"
#include "common/xmalloc.h"
#include "schema/coltype.h"
#include "schema/table.h"
#include "schema/value.h"

static const uint8_t decimal_dig2bytes[10] = { 0, 1, 1, 2, 2, 3, 3, 4, 4, 4 };
static const uint32_t decimal_pow10[10] = {
	1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000,
	1000000000
};

/* Append v as exactly width digits (width 0: as many as it needs). */
static void
value_digits(struct buf *out, uint32_t v, int width)
{
	char	 tmp[10];
	int	 n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0 && n < 10);
	while (n < width)
		tmp[n++] = '0';
	buf_reserve(out, (size_t)n);
	while (n > 0)
		out->data[out->len++] = (unsigned char)tmp[--n];
	out->data[out->len] = '\0';
}

/* Bytes of a binary DECIMAL(precision, scale). */
size_t
value_decimal_size(unsigned int precision, unsigned int scale)
{
	unsigned int	 intg = precision - scale;

	return ((intg / 9) * 4 + decimal_dig2bytes[intg % 9] +
	    (scale / 9) * 4 + decimal_dig2bytes[scale % 9]);
}

/*
 * Append the text of the binary DECIMAL(precision, scale) at p (len bytes)
 * to out: optional '-', the integer part without leading zeros (at least
 * "0"), and exactly scale fraction digits.  Returns -1 with *cause when the
 * bytes are not a valid decimal (a group out of range).
 */
int
value_decimal_text(const uint8_t *p, size_t len, unsigned int precision,
    unsigned int scale, struct buf *out, char **cause)
{
	uint8_t		 b[40];
	unsigned int	 intg = precision - scale, n, k;
	unsigned int	 parts[2][2] = {
		{ intg % 9, intg / 9 }, { scale / 9, scale % 9 }
	};
	size_t		 size = value_decimal_size(precision, scale), pos = 0;
	size_t		 start = out->len, digits_start;
	uint32_t	 v;
	uint8_t		 mask;
	int		 neg, nonzero = 0;

	if (size != len || size > sizeof b) {
		*cause = xasprintf("DECIMAL(%u,%u) needs %zu bytes, not %zu",
		    precision, scale, size, len);
		return (-1);
	}
	memcpy(b, p, len);
	neg = (b[0] & 0x80) == 0;
	mask = neg ? 0xff : 0;
	b[0] ^= 0x80;
	for (n = 0; n < len; n++)
		b[n] ^= mask;
	if (neg)
		buf_addc(out, '-');
	digits_start = out->len;

	/* Integer part: a partial leading group, then groups of 9. */
	if (parts[0][0] != 0) {
		k = decimal_dig2bytes[parts[0][0]];
		v = (uint32_t)beN(b + pos, k);
		pos += k;
		if (v >= decimal_pow10[parts[0][0]])
			goto bad;
		if (v != 0) {
			value_digits(out, v, 0);
			nonzero = 1;
		}
	}
	for (n = 0; n < parts[0][1]; n++) {
		v = (uint32_t)beN(b + pos, 4);
		pos += 4;
		if (v >= 1000000000)
			goto bad;
		if (nonzero)
			value_digits(out, v, 9);
		else if (v != 0) {
			value_digits(out, v, 0);
			nonzero = 1;
		}
	}
	if (!nonzero)
		buf_addc(out, '0');

	/* Fraction: groups of 9, then a partial trailing group. */
	if (scale > 0)
		buf_addc(out, '.');
	for (n = 0; n < parts[1][0]; n++) {
		v = (uint32_t)beN(b + pos, 4);
		pos += 4;
		if (v >= 1000000000)
			goto bad;
		value_digits(out, v, 9);
	}
	if (parts[1][1] != 0) {
		k = decimal_dig2bytes[parts[1][1]];
		v = (uint32_t)beN(b + pos, k);
		if (v >= decimal_pow10[parts[1][1]])
			goto bad;
		value_digits(out, v, (int)parts[1][1]);
	}

	/* No "-0.00": a negative zero is written as zero. */
	if (neg && strspn((char *)out->data + digits_start, "0.") ==
	    out->len - digits_start) {
		memmove(out->data + start, out->data + digits_start,
		    out->len - digits_start);
		buf_truncate(out, out->len - 1);
	}
	return (0);
bad:
	buf_truncate(out, start);
	*cause = xasprintf("corrupt DECIMAL(%u,%u) value", precision, scale);
	return (-1);
}

/* Store the len decimal digits at s (len <= 9) big-endian in k bytes. */
static void
value_put_group(uint8_t *p, size_t k, const char *s, size_t len)
{
	uint32_t	 v = 0;
	size_t		 i;

	for (i = 0; i < len; i++)
		v = v * 10 + (uint32_t)(s[i] - '0');
	for (i = k; i > 0; i--) {
		p[i - 1] = (uint8_t)v;
		v >>= 8;
	}
}

/*
 * The binary DECIMAL(precision, scale) of the text at s (len bytes):
 * optional sign, digits, optional '.' and digits, as a server prints a
 * DECIMAL column.  out receives value_decimal_size() bytes.  Returns -1
 * with *cause when the text is not a number or does not fit.
 */
int
value_decimal_from_text(const char *s, size_t len, unsigned int precision,
    unsigned int scale, uint8_t *out, char **cause)
{
	char		 digits[100];
	unsigned int	 intg = precision - scale, lead, n;
	size_t		 i = 0, ni, nf, pos = 0, size, k;
	const char	*ip, *fp = NULL;
	int		 neg = 0;

	if (precision < 1 || precision > 65 || scale > 30 || scale > precision)
		goto bad;
	if (i < len && (s[i] == '-' || s[i] == '+'))
		neg = s[i++] == '-';
	ip = s + i;
	while (i < len && s[i] >= '0' && s[i] <= '9')
		i++;
	ni = (size_t)(s + i - ip);
	nf = 0;
	if (i < len && s[i] == '.') {
		fp = s + ++i;
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++;
		nf = (size_t)(s + i - fp);
	}
	if (i != len || ni + nf == 0)
		goto bad;
	while (ni > 0 && *ip == '0') {
		ip++;
		ni--;
	}
	if (ni > intg || nf > scale) {
		*cause = xasprintf("'%.*s' does not fit DECIMAL(%u,%u)",
		    (int)len, s, precision, scale);
		return (-1);
	}
	/* All digits, the integer part left-padded, the fraction right. */
	memset(digits, '0', intg + scale);
	memcpy(digits + intg - ni, ip, ni);
	if (nf > 0)
		memcpy(digits + intg, fp, nf);

	size = value_decimal_size(precision, scale);
	lead = intg % 9;
	n = 0;
	if (lead != 0) {
		k = decimal_dig2bytes[lead];
		value_put_group(out + pos, k, digits, lead);
		pos += k;
		n = lead;
	}
	for (; n < intg; n += 9, pos += 4)
		value_put_group(out + pos, 4, digits + n, 9);
	for (n = 0; n + 9 <= scale; n += 9, pos += 4)
		value_put_group(out + pos, 4, digits + intg + n, 9);
	if (scale % 9 != 0) {
		k = decimal_dig2bytes[scale % 9];
		value_put_group(out + pos, k, digits + intg + n, scale % 9);
		pos += k;
	}
	/* A negative zero is zero. */
	if (neg && strspn(digits, "0") >= intg + scale)
		neg = 0;
	if (neg) {
		for (i = 0; i < size; i++)
			out[i] = (uint8_t)~out[i];
	}
	out[0] ^= 0x80;
	return (0);
bad:
	*cause = xasprintf("'%.*s' is not a DECIMAL(%u,%u) value", (int)len,
	    s, precision, scale);
	return (-1);
}

/*
 * The unscaled value of a binary DECIMAL(precision, scale) of at most 18
 * digits, as an integer: 12.50 in DECIMAL(10,2) is 1250.  Returns -1 for
 * wider decimals (use value_decimal_text()) and for corrupt bytes.
 */
int
value_decimal_int64(const uint8_t *p, size_t len, unsigned int precision,
    unsigned int scale, int64_t *out)
{
	uint8_t		 b[16];
	unsigned int	 intg = precision - scale, k, n;
	unsigned int	 lead = intg % 9, ngroups = intg / 9;
	unsigned int	 fgroups = scale / 9, trail = scale % 9;
	size_t		 pos = 0;
	uint64_t	 m = 0;
	uint32_t	 v;
	uint8_t		 mask;
	int		 neg;

	if (precision > 18 || len != value_decimal_size(precision, scale) ||
	    len > sizeof b)
		return (-1);
	memcpy(b, p, len);
	neg = (b[0] & 0x80) == 0;
	mask = neg ? 0xff : 0;
	b[0] ^= 0x80;
	for (n = 0; n < len; n++)
		b[n] ^= mask;
	if (lead != 0) {
		k = decimal_dig2bytes[lead];
		v = (uint32_t)beN(b + pos, k);
		pos += k;
		if (v >= decimal_pow10[lead])
			return (-1);
		m = v;
	}
	for (n = 0; n < ngroups + fgroups; n++) {
		v = (uint32_t)beN(b + pos, 4);
		pos += 4;
		if (v >= 1000000000)
			return (-1);
		m = m * 1000000000 + v;
	}
	if (trail != 0) {
		k = decimal_dig2bytes[trail];
		v = (uint32_t)beN(b + pos, k);
		if (v >= decimal_pow10[trail])
			return (-1);
		m = m * decimal_pow10[trail] + v;
	}
	*out = neg ? -(int64_t)m : (int64_t)m;
	return (0);
}

static int
value_short(const struct column *col, size_t need, size_t have, char **cause)
{
	*cause = xasprintf("%s value needs %zu bytes, %zu left in the row",
	    coltype_name(col->type), need, have);
	return (-1);
}

/* Read a fraction of fsp digits as microseconds. */
static uint32_t
value_frac(const uint8_t *p, unsigned int fsp)
{
	switch ((fsp + 1) / 2) {
	case 1:
		return ((uint32_t)p[0] * 10000);
	case 2:
		return ((uint32_t)beN(p, 2) * 100);
	case 3:
		return ((uint32_t)beN(p, 3));
	}
	return (0);
}

/*
 * TIME2: a 3-byte big-endian integer part offset by 0x800000 and a fraction
 * of (fsp + 1) / 2 bytes; for negative values with a fraction the integer
 * part is one too low and the fraction is stored as its complement.  This
 * follows the packed form MySQL documents (hours << 12 | minutes << 6 |
 * seconds, shifted 24 bits, plus microseconds).
 */
static void
value_time2(const uint8_t *p, unsigned int fsp, struct value *v)
{
	int64_t		 intpart, frac, packed;
	uint64_t	 hms;

	switch ((fsp + 1) / 2) {
	case 0:
		intpart = (int64_t)beN(p, 3) - 0x800000;
		packed = intpart * (1 << 24);
		break;
	case 1:
		intpart = (int64_t)beN(p, 3) - 0x800000;
		frac = p[3];
		if (intpart < 0 && frac != 0) {
			intpart++;
			frac -= 0x100;
		}
		packed = intpart * (1 << 24) + frac * 10000;
		break;
	case 2:
		intpart = (int64_t)beN(p, 3) - 0x800000;
		frac = (int64_t)beN(p + 3, 2);
		if (intpart < 0 && frac != 0) {
			intpart++;
			frac -= 0x10000;
		}
		packed = intpart * (1 << 24) + frac * 100;
		break;
	default:
		packed = (int64_t)beN(p, 6) - 0x800000000000LL;
		break;
	}
	memset(&v->t, 0, sizeof v->t);
	if (packed < 0) {
		v->t.neg = 1;
		packed = -packed;
	}
	v->t.usec = (uint32_t)(packed % (1 << 24));
	hms = (uint64_t)packed >> 24;
	v->t.hour = (uint32_t)((hms >> 12) % (1 << 10));
	v->t.minute = (uint8_t)((hms >> 6) % (1 << 6));
	v->t.second = (uint8_t)(hms % (1 << 6));
}

/* Length of a CHAR/VARCHAR/BLOB value with an n-byte length prefix. */
static int
value_var(const struct column *col, struct cursor *c, unsigned int n,
    struct value *v, char **cause)
{
	size_t	 len;

	if (cursor_left(c) < n)
		return (value_short(col, n, cursor_left(c), cause));
	len = (size_t)leN(c->p, n);
	c->p += n;
	if (cursor_left(c) < len)
		return (value_short(col, len, cursor_left(c), cause));
	v->bytes.p = c->p;
	v->bytes.len = len;
	c->p += len;
	return (0);
}

/*
 * Decode one non-NULL value of column col at c, advancing c.  Returns 0,
 * or -1 with *cause when the bytes run out or make no sense.
 */
int
value_decode(const struct column *col, struct cursor *c, struct value *v,
    char **cause)
{
	const uint8_t	*p = c->p;
	size_t		 left = cursor_left(c), n;
	uint64_t	 u;
	uint32_t	 d;
	int		 uns = (col->flags & COLUMN_UNSIGNED) != 0;

#define NEED(k) do {							\
	if (left < (k))							\
		return (value_short(col, (k), left, cause));		\
} while (0)

	switch (col->type) {
	case COLTYPE_TINY:
		NEED(1);
		v->kind = uns ? VALUE_UINT : VALUE_INT;
		if (uns)
			v->u = p[0];
		else
			v->i = (int8_t)p[0];
		c->p += 1;
		return (0);
	case COLTYPE_SHORT:
		NEED(2);
		v->kind = uns ? VALUE_UINT : VALUE_INT;
		if (uns)
			v->u = le16(p);
		else
			v->i = (int16_t)le16(p);
		c->p += 2;
		return (0);
	case COLTYPE_INT24:
		NEED(3);
		v->kind = uns ? VALUE_UINT : VALUE_INT;
		u = le24(p);
		if (uns)
			v->u = u;
		else
			v->i = (int32_t)(u << 8) >> 8;
		c->p += 3;
		return (0);
	case COLTYPE_LONG:
		NEED(4);
		v->kind = uns ? VALUE_UINT : VALUE_INT;
		if (uns)
			v->u = le32(p);
		else
			v->i = (int32_t)le32(p);
		c->p += 4;
		return (0);
	case COLTYPE_LONGLONG:
		NEED(8);
		v->kind = uns ? VALUE_UINT : VALUE_INT;
		if (uns)
			v->u = le64(p);
		else
			v->i = (int64_t)le64(p);
		c->p += 8;
		return (0);
	case COLTYPE_FLOAT:
		NEED(4);
		v->kind = VALUE_FLOAT;
		d = le32(p);
		memcpy(&v->f, &d, 4);
		c->p += 4;
		return (0);
	case COLTYPE_DOUBLE:
		NEED(8);
		v->kind = VALUE_DOUBLE;
		u = le64(p);
		memcpy(&v->d, &u, 8);
		c->p += 8;
		return (0);
	case COLTYPE_NEWDECIMAL:
		n = value_decimal_size(col->precision, col->scale);
		NEED(n);
		v->kind = VALUE_DECIMAL;
		v->bytes.p = p;
		v->bytes.len = n;
		c->p += n;
		return (0);
	case COLTYPE_YEAR:
		NEED(1);
		v->kind = VALUE_INT;
		v->i = p[0] == 0 ? 0 : 1900 + p[0];
		c->p += 1;
		return (0);
	case COLTYPE_DATE:
	case COLTYPE_NEWDATE:
		NEED(3);
		v->kind = VALUE_DATE;
		u = le24(p);
		memset(&v->t, 0, sizeof v->t);
		v->t.day = (uint8_t)(u & 31);
		v->t.month = (uint8_t)((u >> 5) & 15);
		v->t.year = (int32_t)(u >> 9);
		c->p += 3;
		return (0);
	case COLTYPE_TIME: {
		int32_t	 t;

		NEED(3);
		v->kind = VALUE_TIME;
		t = (int32_t)(le24(p) << 8) >> 8;
		memset(&v->t, 0, sizeof v->t);
		if (t < 0) {
			v->t.neg = 1;
			t = -t;
		}
		v->t.hour = (uint32_t)(t / 10000);
		v->t.minute = (uint8_t)(t / 100 % 100);
		v->t.second = (uint8_t)(t % 100);
		c->p += 3;
		return (0);
	}
	case COLTYPE_DATETIME:
		NEED(8);
		v->kind = VALUE_DATETIME;
		u = le64(p);
		memset(&v->t, 0, sizeof v->t);
		v->t.second = (uint8_t)(u % 100);
		v->t.minute = (uint8_t)(u / 100 % 100);
		v->t.hour = (uint32_t)(u / 10000 % 100);
		v->t.day = (uint8_t)(u / 1000000 % 100);
		v->t.month = (uint8_t)(u / 100000000 % 100);
		v->t.year = (int32_t)(u / 10000000000ULL);
		c->p += 8;
		return (0);
	case COLTYPE_TIMESTAMP:
		NEED(4);
		v->kind = VALUE_TIMESTAMP;
		v->ts.sec = le32(p);
		v->ts.usec = 0;
		c->p += 4;
		return (0);
	case COLTYPE_TIMESTAMP2:
		n = 4 + (col->fsp + 1) / 2;
		NEED(n);
		v->kind = VALUE_TIMESTAMP;
		v->ts.sec = (int64_t)beN(p, 4);
		v->ts.usec = value_frac(p + 4, col->fsp);
		c->p += n;
		return (0);
	case COLTYPE_DATETIME2: {
		uint64_t	 ymd, ym, hms;
		int64_t		 intpart;

		n = 5 + (col->fsp + 1) / 2;
		NEED(n);
		v->kind = VALUE_DATETIME;
		intpart = (int64_t)beN(p, 5) - 0x8000000000LL;
		memset(&v->t, 0, sizeof v->t);
		if (intpart < 0) {
			*cause = xstrdup("negative DATETIME value");
			return (-1);
		}
		ymd = (uint64_t)intpart >> 17;
		ym = ymd >> 5;
		hms = (uint64_t)intpart % (1 << 17);
		v->t.year = (int32_t)(ym / 13);
		v->t.month = (uint8_t)(ym % 13);
		v->t.day = (uint8_t)(ymd % (1 << 5));
		v->t.hour = (uint32_t)(hms >> 12);
		v->t.minute = (uint8_t)((hms >> 6) % (1 << 6));
		v->t.second = (uint8_t)(hms % (1 << 6));
		v->t.usec = value_frac(p + 5, col->fsp);
		c->p += n;
		return (0);
	}
	case COLTYPE_TIME2:
		n = 3 + (col->fsp + 1) / 2;
		NEED(n);
		v->kind = VALUE_TIME;
		value_time2(p, col->fsp, v);
		c->p += n;
		return (0);
	case COLTYPE_STRING:
		v->kind = VALUE_STRING;
		return (value_var(col, c, col->length > 255 ? 2 : 1, v, cause));
	case COLTYPE_VARCHAR:
	case COLTYPE_VAR_STRING:
		v->kind = VALUE_STRING;
		return (value_var(col, c, col->length > 255 ? 2 : 1, v, cause));
	case COLTYPE_BLOB:
	case COLTYPE_TINY_BLOB:
	case COLTYPE_MEDIUM_BLOB:
	case COLTYPE_LONG_BLOB:
		v->kind = VALUE_STRING;
		return (value_var(col, c, col->length, v, cause));
	case COLTYPE_JSON:
		v->kind = VALUE_JSON;
		return (value_var(col, c, col->length, v, cause));
	case COLTYPE_GEOMETRY:
		v->kind = VALUE_GEOMETRY;
		return (value_var(col, c, col->length, v, cause));
	case COLTYPE_VECTOR:
		v->kind = VALUE_VECTOR;
		if (value_var(col, c, col->length, v, cause) != 0)
			return (-1);
		if (v->bytes.len % 4 != 0) {
			*cause = xasprintf("VECTOR value of %zu bytes is not "
			    "a list of 4-byte floats", v->bytes.len);
			return (-1);
		}
		return (0);
	case COLTYPE_ENUM:
		NEED(col->length);
		v->kind = VALUE_ENUM;
		v->u = leN(p, col->length);
		c->p += col->length;
		return (0);
	case COLTYPE_SET:
		NEED(col->length);
		v->kind = VALUE_SET;
		v->u = leN(p, col->length);
		c->p += col->length;
		return (0);
	case COLTYPE_BIT:
		n = (col->length + 7) / 8;
		NEED(n);
		v->kind = VALUE_BIT;
		v->u = beN(p, n);
		c->p += n;
		return (0);
	case COLTYPE_NULL:
		v->kind = VALUE_NULL;
		return (0);
	}
#undef NEED
	*cause = xasprintf("cannot decode a %s column (type %u) from a row "
	    "image", coltype_name(col->type) != NULL ?
	    coltype_name(col->type) : "unknown", col->type);
	return (-1);
}

/*
 * Append the text of a DATE, TIME or DATETIME value as MySQL prints it, with
 * fsp fraction digits: "2024-02-29", "-838:59:59.000000",
 * "2024-02-29 13:05:09.123".  Zero dates stay zero ("0000-00-00").
 */
void
value_time_text(const struct value *v, unsigned int fsp, struct buf *out)
{
	const struct value_time	*t = &v->t;
	char			 frac[8];

	frac[0] = '\0';
	if (fsp > 0 && fsp <= 6) {
		snprintf(frac, sizeof frac, ".%06" PRIu32, t->usec);
		frac[fsp + 1] = '\0';
	}
	switch (v->kind) {
	case VALUE_DATE:
		buf_printf(out, "%04d-%02u-%02u", (int)t->year, t->month,
		    t->day);
		break;
	case VALUE_TIME:
		buf_printf(out, "%s%02" PRIu32 ":%02u:%02u%s", t->neg ? "-" :
		    "", t->hour, t->minute, t->second, frac);
		break;
	case VALUE_DATETIME:
		buf_printf(out, "%04d-%02u-%02u %02" PRIu32 ":%02u:%02u%s",
		    (int)t->year, t->month, t->day, t->hour, t->minute,
		    t->second, frac);
		break;
	}
}

/* Whether two decoded values are the same (kind and content). */
int
value_equal(const struct value *a, const struct value *b)
{
	if (a->kind != b->kind)
		return (0);
	switch (a->kind) {
	case VALUE_ABSENT:
	case VALUE_NULL:
		return (1);
	case VALUE_INT:
		return (a->i == b->i);
	case VALUE_UINT:
	case VALUE_ENUM:
	case VALUE_SET:
	case VALUE_BIT:
		return (a->u == b->u);
	case VALUE_FLOAT:
		return (memcmp(&a->f, &b->f, sizeof a->f) == 0);
	case VALUE_DOUBLE:
		return (memcmp(&a->d, &b->d, sizeof a->d) == 0);
	case VALUE_DATE:
	case VALUE_TIME:
	case VALUE_DATETIME:
		return (memcmp(&a->t, &b->t, sizeof a->t) == 0);
	case VALUE_TIMESTAMP:
		return (a->ts.sec == b->ts.sec && a->ts.usec == b->ts.usec);
	default:
		return (a->bytes.len == b->bytes.len && (a->bytes.len == 0 ||
		    memcmp(a->bytes.p, b->bytes.p, a->bytes.len) == 0));
	}
}

/*
 * How many 0x00 bytes a BINARY(n) value lacks.  The server pads BINARY
 * values to their full length but writes them to the binlog without the
 * trailing zeros; SELECT returns them padded, and so must ferry.  (CHAR
 * values lose trailing spaces in both, so they need nothing.)
 */
size_t
value_binary_pad(const struct value *v, const struct column *col)
{
	if (v->kind != VALUE_STRING || col->type != COLTYPE_STRING ||
	    col->collation != 63 || v->bytes.len >= col->length)
		return (0);
	return (col->length - v->bytes.len);
}
