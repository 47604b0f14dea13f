/*
 * The DTS Avro reader behind "ferry decode".
 *
 * Hand-written like the encoder, for the one schema (Record.avsc): every
 * field read in order, every length and union index checked, so that any
 * byte string either reads as a record or is refused with the byte offset
 * where it stopped making sense.  The output is JSON with the record's
 * field names; values are made readable:
 *
 *	Integer		a JSON number (the text, exact)
 *	Decimal		a string, "12.50"
 *	Float		a number
 *	Timestamp	"2024-02-29 13:05:09.123456" (UTC); 0 is
 *			"0000-00-00 00:00:00", MySQL's zero TIMESTAMP
 *	DateTime	"2024-02-29", "-838:59:59.000000", "2024-02-29 13:05:09",
 *			or the year alone, from the parts present
 *	Character	text decoded from its charset; {"hex":...} for binary
 *	BinaryObject	TEXT as text when it is UTF-8, else {"type","hex"}
 *	TextObject	the text (JSON documents as JSON text, in a string)
 *	BinaryGeometry	{"type":...,"wkb":hex}
 *	EmptyObject	{"absent":true} (NONE) or null (NULL)
 *
 * Images become objects keyed by field name, in field order.  Bytes after
 * the record are an error: a bare datum has none.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/buf.h"
#include "common/util.h"
#include "common/json.h"
#include "common/xmalloc.h"
#include "schema/charset.h"
#include "schema/dts_avro.h"
#include "schema/dts_reader.h"

struct rd {
	const uint8_t	*p, *end, *base;
	char		*err;
};

static const char *rd_ops[] = { "INSERT", "UPDATE", "DELETE", "DDL", "BEGIN",
	"COMMIT", "ROLLBACK", "ABORT", "HEARTBEAT", "CHECKPOINT", "COMMAND",
	"FILL", "FINISH", "CONTROL", "RDB", "NOOP", "INIT" };
static const char *rd_sources[] = { "MySQL", "Oracle", "SQLServer",
	"PostgreSQL", "MongoDB", "Redis", "DB2", "PPAS", "DRDS", "HBASE", "HDFS",
	"FILE", "OTHER" };

static int
rd_fail(struct rd *r, const char *what)
{
	if (r->err == NULL)
		r->err = xasprintf("%s at byte %zu", what,
		    (size_t)(r->p - r->base));
	return (-1);
}

static int
rd_long(struct rd *r, int64_t *v)
{
	uint64_t	 u = 0;
	int		 shift = 0;

	for (;;) {
		if (r->p >= r->end)
			return (rd_fail(r, "truncated number"));
		u |= (uint64_t)(*r->p & 0x7f) << shift;
		if ((*r->p++ & 0x80) == 0)
			break;
		shift += 7;
		if (shift > 63)
			return (rd_fail(r, "overlong number"));
	}
	*v = (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
	return (0);
}

static int
rd_int(struct rd *r, int32_t *v)
{
	int64_t	 l;

	if (rd_long(r, &l) != 0)
		return (-1);
	if (l < INT32_MIN || l > INT32_MAX)
		return (rd_fail(r, "int out of range"));
	*v = (int32_t)l;
	return (0);
}

static int
rd_bytes(struct rd *r, const uint8_t **p, size_t *len)
{
	int64_t	 n;

	if (rd_long(r, &n) != 0)
		return (-1);
	if (n < 0 || (uint64_t)n > (uint64_t)(r->end - r->p))
		return (rd_fail(r, "bad length"));
	*p = r->p;
	*len = (size_t)n;
	r->p += n;
	return (0);
}

static int
rd_double(struct rd *r, double *d)
{
	uint64_t	 u = 0;
	int		 i;

	if (r->end - r->p < 8)
		return (rd_fail(r, "truncated double"));
	for (i = 0; i < 8; i++)
		u |= (uint64_t)r->p[i] << (8 * i);
	memcpy(d, &u, 8);
	r->p += 8;
	return (0);
}

static int
rd_union(struct rd *r, int64_t max, int64_t *idx)
{
	if (rd_long(r, idx) != 0)
		return (-1);
	if (*idx < 0 || *idx > max)
		return (rd_fail(r, "bad union index"));
	return (0);
}

/* An Avro string as a JSON string (UTF-8 repaired, never trusted). */
static int
rd_string_json(struct rd *r, struct buf *out, struct buf *tmp)
{
	const uint8_t	*p;
	size_t		 len;

	if (rd_bytes(r, &p, &len) != 0)
		return (-1);
	buf_reset(tmp);
	charset_to_utf8("utf8mb4", p, len, tmp);
	json_add_string(out, tmp->data, tmp->len);
	return (0);
}

/* The count of one block; negative counts carry a byte size too. */
static int
rd_block(struct rd *r, int64_t *n)
{
	int64_t	 size;

	if (rd_long(r, n) != 0)
		return (-1);
	if (*n < 0) {
		*n = -*n;
		if (rd_long(r, &size) != 0)
			return (-1);
	}
	if (*n > r->end - r->p)
		return (rd_fail(r, "block count beyond the data"));
	return (0);
}

static int
rd_opt_int(struct rd *r, int *present, int32_t *v)
{
	int64_t	 idx;

	if (rd_union(r, 1, &idx) != 0)
		return (-1);
	*present = idx == 1;
	*v = 0;
	return (idx == 1 ? rd_int(r, v) : 0);
}

static int
rd_datetime(struct rd *r, struct buf *out)
{
	int		 have[7];
	int32_t		 v[7];
	char		 s[96], frac[16];
	int		 i, neg = 0;

	for (i = 0; i < 7; i++) {
		if (rd_opt_int(r, &have[i], &v[i]) != 0)
			return (-1);
		if (v[i] < 0) {
			neg = 1;
			v[i] = -v[i];
		}
	}
	frac[0] = '\0';
	if (have[6] && v[6] != 0)
		snprintf(frac, sizeof frac, ".%06d", (int)v[6]);
	if (have[0] && !have[1] && !have[3]) {		/* YEAR */
		buf_printf(out, "%d", (int)v[0]);
		return (0);
	}
	if (have[0] && have[3])
		snprintf(s, sizeof s, "%04d-%02d-%02d %02d:%02d:%02d%s",
		    (int)v[0], (int)v[1], (int)v[2], (int)v[3], (int)v[4],
		    (int)v[5], frac);
	else if (have[0])
		snprintf(s, sizeof s, "%04d-%02d-%02d", (int)v[0], (int)v[1],
		    (int)v[2]);
	else
		snprintf(s, sizeof s, "%s%02d:%02d:%02d%s", neg ? "-" : "",
		    (int)v[3], (int)v[4], (int)v[5], frac);
	json_add_cstring(out, s);
	return (0);
}

static int
rd_value(struct rd *r, struct buf *out, struct buf *tmp)
{
	const uint8_t	*p, *q;
	size_t		 len, qlen;
	int64_t		 idx, l;
	int32_t		 i32, prec, scale;
	double		 d;
	char		 cs[64], s[64];
	struct tm	 tm;
	time_t		 t;

	if (rd_union(r, DTS_EMPTY_OBJECT, &idx) != 0)
		return (-1);
	switch (idx) {
	case DTS_NULL:
		buf_adds(out, "null");
		return (0);
	case DTS_INTEGER:
		if (rd_int(r, &prec) != 0 || rd_bytes(r, &p, &len) != 0)
			return (-1);
		for (i32 = 0; (size_t)i32 < len; i32++) {
			if ((p[i32] < '0' || p[i32] > '9') &&
			    !(i32 == 0 && p[0] == '-' && len > 1))
				break;
		}
		if (len == 0 || len > 40 || (size_t)i32 != len)
			return (rd_fail(r, "Integer value is not a number"));
		buf_add(out, p, len);
		return (0);
	case DTS_CHARACTER:
		if (rd_bytes(r, &q, &qlen) != 0 || rd_bytes(r, &p, &len) != 0)
			return (-1);
		snprintf(cs, sizeof cs, "%.*s", (int)qlen, (const char *)q);
		if (strcmp(cs, "binary") == 0) {
			json_add_hex(out, p, len);
			return (0);
		}
		buf_reset(tmp);
		charset_to_utf8(cs, p, len, tmp);
		json_add_string(out, tmp->data, tmp->len);
		return (0);
	case DTS_DECIMAL:
		if (rd_bytes(r, &p, &len) != 0 || rd_int(r, &prec) != 0 ||
		    rd_int(r, &scale) != 0)
			return (-1);
		buf_reset(tmp);
		charset_to_utf8("ascii", p, len, tmp);
		json_add_string(out, tmp->data, tmp->len);
		return (0);
	case DTS_FLOAT:
		if (rd_double(r, &d) != 0 || rd_int(r, &prec) != 0 ||
		    rd_int(r, &scale) != 0)
			return (-1);
		json_add_double(out, d);
		return (0);
	case DTS_TIMESTAMP:
		if (rd_long(r, &l) != 0 || rd_int(r, &i32) != 0)
			return (-1);
		t = (time_t)l;
		if (l == 0 && i32 == 0)
			/* MySQL's zero TIMESTAMP: its range starts one second
			 * after the epoch (docs/dts-avro.md). */
			util_strlcpy(s, "0000-00-00 00:00:00", sizeof s);
		else if (gmtime_r(&t, &tm) == NULL)
			return (rd_fail(r, "Timestamp out of range"));
		else
			snprintf(s, sizeof s, "%04d-%02d-%02d %02d:%02d:%02d",
			    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
			    tm.tm_hour, tm.tm_min, tm.tm_sec);
		if (i32 != 0)
			snprintf(s + strlen(s), sizeof s - strlen(s), ".%06d",
			    (int)i32);
		json_add_cstring(out, s);
		return (0);
	case DTS_DATETIME:
		return (rd_datetime(r, out));
	case DTS_TIMESTAMP_TZ:
		buf_adds(out, "{\"datetime\":");
		if (rd_datetime(r, out) != 0)
			return (-1);
		buf_adds(out, ",\"timezone\":");
		if (rd_string_json(r, out, tmp) != 0)
			return (-1);
		buf_addc(out, '}');
		return (0);
	case DTS_BINARY_GEOMETRY:
	case DTS_BINARY_OBJECT:
		if (rd_bytes(r, &q, &qlen) != 0 || rd_bytes(r, &p, &len) != 0)
			return (-1);
		if (idx == DTS_BINARY_OBJECT && qlen == 4 &&
		    strncasecmp((const char *)q, "TEXT", 4) == 0 &&
		    charset_is_utf8(p, len)) {
			json_add_string(out, p, len);
			return (0);
		}
		buf_adds(out, "{\"type\":");
		buf_reset(tmp);
		charset_to_utf8("utf8mb4", q, qlen, tmp);
		json_add_string(out, tmp->data, tmp->len);
		buf_adds(out, idx == DTS_BINARY_GEOMETRY ? ",\"wkb\":" :
		    ",\"hex\":");
		json_add_hexstr(out, p, len);
		buf_addc(out, '}');
		return (0);
	case DTS_TEXT_GEOMETRY:
	case DTS_TEXT_OBJECT:
		if (rd_bytes(r, &q, &qlen) != 0)
			return (-1);
		return (rd_string_json(r, out, tmp));
	case DTS_EMPTY_OBJECT:
		if (rd_long(r, &l) != 0 || (l != 0 && l != 1))
			return (rd_fail(r, "bad EmptyObject"));
		buf_adds(out, l == 1 ? "{\"absent\":true}" : "null");
		return (0);
	}
	return (rd_fail(r, "bad value branch"));
}

/* fields: null, a string, or an array of Field; names kept for images. */
static int
rd_fields(struct rd *r, struct buf *out, struct buf *tmp, struct buf *names,
    int64_t *nfields)
{
	int64_t		 idx, n, i, type;
	const uint8_t	*p;
	size_t		 len;
	int		 first = 1;

	*nfields = -1;
	buf_reset(names);
	if (rd_union(r, 2, &idx) != 0)
		return (-1);
	if (idx == 0) {
		buf_adds(out, "null");
		return (0);
	}
	if (idx == 1)
		return (rd_string_json(r, out, tmp));
	*nfields = 0;
	buf_addc(out, '[');
	for (;;) {
		if (rd_block(r, &n) != 0)
			return (-1);
		if (n == 0)
			break;
		for (i = 0; i < n; i++) {
			if (rd_bytes(r, &p, &len) != 0 ||
			    rd_long(r, &type) != 0)
				return (-1);
			if (!first)
				buf_addc(out, ',');
			first = 0;
			buf_adds(out, "{\"name\":");
			buf_reset(tmp);
			charset_to_utf8("utf8mb4", p, len, tmp);
			json_add_string(out, tmp->data, tmp->len);
			buf_printf(out, ",\"dataTypeNumber\":%" PRId64 "}", type);
			/* names, each NUL-ended, for the images' keys */
			buf_add(names, tmp->data, tmp->len);
			buf_addc(names, '\0');
			(*nfields)++;
		}
	}
	buf_addc(out, ']');
	return (0);
}

static int
rd_image(struct rd *r, struct buf *out, struct buf *tmp,
    const struct buf *names, int64_t nfields)
{
	const char	*name = names->data != NULL ? (const char *)names->data :
			    "";
	int64_t		 idx, n, i, k = 0;
	int		 keyed = nfields >= 0;

	if (rd_union(r, 2, &idx) != 0)
		return (-1);
	if (idx == 0) {
		buf_adds(out, "null");
		return (0);
	}
	if (idx == 1)
		return (rd_string_json(r, out, tmp));
	buf_addc(out, keyed ? '{' : '[');
	for (;;) {
		if (rd_block(r, &n) != 0)
			return (-1);
		if (n == 0)
			break;
		for (i = 0; i < n; i++, k++) {
			if (k > 0)
				buf_addc(out, ',');
			if (keyed) {
				if (k >= nfields)
					return (rd_fail(r, "more values than "
					    "fields"));
				json_add_key(out, name);
				name += strlen(name) + 1;
			}
			if (rd_value(r, out, tmp) != 0)
				return (-1);
		}
	}
	if (keyed && k != nfields)
		return (rd_fail(r, "fewer values than fields"));
	buf_addc(out, keyed ? '}' : ']');
	return (0);
}

/*
 * Append the JSON form of the DTS record in p (len bytes) to out.  Returns
 * 0, or -1 with *cause naming the byte where it stopped; out is unchanged
 * then.
 */
int
dts_read_json(const uint8_t *p, size_t len, struct buf *out, char **cause)
{
	struct rd	 r = { p, p + len, p, NULL };
	struct buf	 tmp = BUF_INITIALIZER, names = BUF_INITIALIZER;
	size_t		 start = out->len;
	int64_t		 l, idx, n, i, nfields;
	int32_t		 v;
	const uint8_t	*s;
	size_t		 slen;
	int		 first;

#define TRY(x) do { if ((x) != 0) goto fail; } while (0)
	TRY(rd_int(&r, &v));
	buf_printf(out, "{\"version\":%" PRId32, v);
	TRY(rd_long(&r, &l));
	buf_printf(out, ",\"id\":%" PRId64, l);
	TRY(rd_long(&r, &l));
	buf_printf(out, ",\"sourceTimestamp\":%" PRId64, l);
	buf_adds(out, ",\"sourcePosition\":");
	TRY(rd_string_json(&r, out, &tmp));
	buf_adds(out, ",\"safeSourcePosition\":");
	TRY(rd_string_json(&r, out, &tmp));
	buf_adds(out, ",\"sourceTxid\":");
	TRY(rd_string_json(&r, out, &tmp));
	TRY(rd_union(&r, 12, &idx));	/* the SourceType enum */
	buf_printf(out, ",\"source\":{\"sourceType\":\"%s\",\"version\":",
	    rd_sources[idx]);
	TRY(rd_string_json(&r, out, &tmp));
	TRY(rd_union(&r, 16, &idx));	/* the Operation enum */
	buf_printf(out, "},\"operation\":\"%s\",\"objectName\":", rd_ops[idx]);
	TRY(rd_union(&r, 1, &idx));
	if (idx == 0)
		buf_adds(out, "null");
	else
		TRY(rd_string_json(&r, out, &tmp));
	buf_adds(out, ",\"processTimestamps\":");
	TRY(rd_union(&r, 1, &idx));
	if (idx == 0)
		buf_adds(out, "null");
	else {
		buf_addc(out, '[');
		first = 1;
		for (;;) {
			TRY(rd_block(&r, &n));
			if (n == 0)
				break;
			for (i = 0; i < n; i++) {
				TRY(rd_long(&r, &l));
				buf_printf(out, "%s%" PRId64, first ? "" : ",",
				    l);
				first = 0;
			}
		}
		buf_addc(out, ']');
	}
	buf_adds(out, ",\"tags\":{");
	first = 1;
	for (;;) {
		TRY(rd_block(&r, &n));
		if (n == 0)
			break;
		for (i = 0; i < n; i++) {
			if (!first)
				buf_addc(out, ',');
			first = 0;
			TRY(rd_bytes(&r, &s, &slen));
			buf_reset(&tmp);
			charset_to_utf8("utf8mb4", s, slen, &tmp);
			json_add_string(out, tmp.data, tmp.len);
			buf_addc(out, ':');
			TRY(rd_string_json(&r, out, &tmp));
		}
	}
	buf_adds(out, "},\"fields\":");
	TRY(rd_fields(&r, out, &tmp, &names, &nfields));
	buf_adds(out, ",\"beforeImages\":");
	TRY(rd_image(&r, out, &tmp, &names, nfields));
	buf_adds(out, ",\"afterImages\":");
	TRY(rd_image(&r, out, &tmp, &names, nfields));
	/* bornTimestamp: absent in records of the older schema */
	if (r.p < r.end) {
		TRY(rd_long(&r, &l));
		buf_printf(out, ",\"bornTimestamp\":%" PRId64, l);
	}
	if (r.p != r.end) {
		rd_fail(&r, "bytes after the record");
		goto fail;
	}
	buf_addc(out, '}');
	buf_release(&tmp);
	buf_release(&names);
	return (0);
fail:
#undef TRY
	*cause = r.err != NULL ? r.err : xstrdup("not a DTS record");
	buf_truncate(out, start);
	buf_release(&tmp);
	buf_release(&names);
	return (-1);
}

/*
 * The head of a record, up to and including its tags: its id, and each
 * tag given to cb (key, value, as the record has them; borrowed), which
 * returns 0 to go on.  What a resume needs of a record on a broker without
 * headers (engine/sink.c).  0, or -1 when the bytes are not a record's
 * head.
 */
int
dts_read_head(const uint8_t *p, size_t len, int64_t *id,
    int (*cb)(void *, const uint8_t *, size_t, const uint8_t *, size_t),
    void *arg)
{
	struct rd	 r = { p, p + len, p, NULL };
	const uint8_t	*k, *v;
	size_t		 klen, vlen;
	int64_t		 l, idx, n, i;
	int32_t		 version;
	int		 k2;
	int		 rc = -1;

	if (rd_int(&r, &version) != 0 || rd_long(&r, id) != 0 ||
	    rd_long(&r, &l) != 0)
		goto out;
	for (k2 = 0; k2 < 3; k2++) {	/* positions, txid */
		if (rd_bytes(&r, &v, &vlen) != 0)
			goto out;
	}
	if (rd_union(&r, 12, &idx) != 0 || rd_bytes(&r, &v, &vlen) != 0 ||
	    rd_union(&r, 16, &idx) != 0 || rd_union(&r, 1, &idx) != 0 ||
	    (idx == 1 && rd_bytes(&r, &v, &vlen) != 0) ||
	    rd_union(&r, 1, &idx) != 0)
		goto out;
	if (idx == 1) {			/* processTimestamps */
		for (;;) {
			if (rd_block(&r, &n) != 0)
				goto out;
			if (n == 0)
				break;
			for (i = 0; i < n; i++) {
				if (rd_long(&r, &l) != 0)
					goto out;
			}
		}
	}
	for (;;) {
		if (rd_block(&r, &n) != 0)
			goto out;
		if (n == 0)
			break;
		for (i = 0; i < n; i++) {
			if (rd_bytes(&r, &k, &klen) != 0 ||
			    rd_bytes(&r, &v, &vlen) != 0)
				goto out;
			if (cb(arg, k, klen, v, vlen) != 0) {
				rc = 0;
				goto out;
			}
		}
	}
	rc = 0;
out:
	free(r.err);
	return (rc);
}
