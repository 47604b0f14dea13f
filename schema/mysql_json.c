/*
 * MySQL binary JSON to JSON text, and partial JSON updates.
 *
 * The binary format (MySQL's json_binary.h documents it):
 *
 *	doc	::= type value
 *	type	0x00 small object, 0x01 large object, 0x02 small array,
 *		0x03 large array, 0x04 literal (0 null, 1 true, 2 false),
 *		0x05 int16, 0x06 uint16, 0x07 int32, 0x08 uint32,
 *		0x09 int64, 0x0a uint64, 0x0b double, 0x0c string,
 *		0x0f opaque (a MySQL type byte, then a string)
 *	object	::= count size key-entry* value-entry* keys values
 *	array	::= count size value-entry* values
 *
 * count and size, and the offsets in entries, are 2 bytes in the small forms
 * and 4 in the large ones, little-endian, relative to the start of the
 * container (just after its type byte).  A key entry is an offset and a
 * 2-byte length; a value entry is a type byte and either an offset or, for
 * literals and 16-bit integers (and 32-bit ones in large containers), the
 * value itself.  Strings carry a length of 1-5 bytes, 7 bits each, low
 * bits first.
 *
 * Text is written as MySQL writes it ({"a": 1, "b": [true, null]}), so that
 * what ferry prints equals what SELECT returns.  Every offset and length is
 * checked against its container before use, and nesting is limited, so a
 * corrupt document is an error, never an out-of-bounds read or a stack
 * overflow.
 *
 * A partial update (binlog_row_value_options=PARTIAL_JSON) replaces a
 * column's after image with a list of operations:
 *
 *	diffs	::= length:4 diff*	(the length is the column's own
 *				 length prefix, consumed by value_decode())
 *	diff	::= op:1 path-length:lenenc path [value-length:lenenc value]
 *	op	0 REPLACE, 1 INSERT, 2 REMOVE (REMOVE has no value)
 *
 * mysql_json_apply_diff() applies them to the before image the way the
 * server does, on a small tree; mysql_json_diff_to_text() reports them as
 * they are when there is no before image to apply them to.
 */
#include "config.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/bytes.h"
#include "common/xmalloc.h"
#include "schema/coltype.h"
#include "schema/mysql_json.h"
#include "schema/value.h"

#define JSONB_SMALL_OBJECT	0x00
#define JSONB_LARGE_OBJECT	0x01
#define JSONB_SMALL_ARRAY	0x02
#define JSONB_LARGE_ARRAY	0x03
#define JSONB_LITERAL		0x04
#define JSONB_INT16		0x05
#define JSONB_UINT16		0x06
#define JSONB_INT32		0x07
#define JSONB_UINT32		0x08
#define JSONB_INT64		0x09
#define JSONB_UINT64		0x0a
#define JSONB_DOUBLE		0x0b
#define JSONB_STRING		0x0c
#define JSONB_OPAQUE		0x0f

#define JSONB_MAX_DEPTH		150

static int	jsonb_value(uint8_t, const uint8_t *, size_t, int, struct buf *,
		    char **);

/* A JSON string literal as MySQL writes it. */
void
mysql_json_string(const uint8_t *p, size_t len, struct buf *out)
{
	static const char	 hex[] = "0123456789abcdef";
	size_t			 i, start;

	buf_addc(out, '"');
	for (i = start = 0; i < len; i++) {
		const char	*esc = NULL;
		uint8_t		 c = p[i];

		switch (c) {
		case '"':	esc = "\\\""; break;
		case '\\':	esc = "\\\\"; break;
		case '\b':	esc = "\\b"; break;
		case '\f':	esc = "\\f"; break;
		case '\n':	esc = "\\n"; break;
		case '\r':	esc = "\\r"; break;
		case '\t':	esc = "\\t"; break;
		default:
			if (c >= 0x20)
				continue;
			break;
		}
		buf_add(out, p + start, i - start);
		if (esc != NULL)
			buf_adds(out, esc);
		else {
			buf_adds(out, "\\u00");
			buf_addc(out, (unsigned char)hex[c >> 4]);
			buf_addc(out, (unsigned char)hex[c & 15]);
		}
		start = i + 1;
	}
	buf_add(out, p + start, len - start);
	buf_addc(out, '"');
}

/*
 * A double in the shortest form that reads back to the same value, as
 * MySQL's JSON output has it: "1.5", "3.0", "1e20", "1.2e-7".
 */
void
mysql_json_double(double d, struct buf *out)
{
	char	 s[40], *e, *w;
	int	 prec;

	if (!isfinite(d)) {
		buf_adds(out, isnan(d) ? "NaN" : d < 0 ? "-Infinity" :
		    "Infinity");
		return;
	}
	for (prec = 1; prec <= 17; prec++) {
		snprintf(s, sizeof s, "%.*g", prec, d);
		if (strtod(s, NULL) == d)
			break;
	}
	if ((e = strchr(s, 'e')) != NULL) {
		/* "1e+20" -> "1e20", "1e-07" -> "1e-7" */
		w = e + 1;
		if (*w == '+')
			memmove(w, w + 1, strlen(w));
		else if (*w == '-')
			w++;
		while (w[0] == '0' && w[1] != '\0')
			memmove(w, w + 1, strlen(w));
	} else if (strchr(s, '.') == NULL)
		strcat(s, ".0");
	buf_adds(out, s);
}

/* The variable-length string length: 7 bits a byte, at most 5 bytes. */
static int
jsonb_varlen(const uint8_t *p, size_t len, size_t *n, size_t *used)
{
	uint64_t	 v = 0;
	size_t		 i;

	for (i = 0; i < len && i < 5; i++) {
		v |= (uint64_t)(p[i] & 0x7f) << (7 * i);
		if ((p[i] & 0x80) == 0) {
			if (v > UINT32_MAX)
				return (-1);
			*n = (size_t)v;
			*used = i + 1;
			return (0);
		}
	}
	return (-1);
}

/* Base64, for opaque values MySQL prints as "base64:typeN:...". */
static void
jsonb_base64(const uint8_t *p, size_t len, struct buf *out)
{
	static const char	 tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t			 i;
	uint32_t		 v;

	for (i = 0; i + 2 < len; i += 3) {
		v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		buf_addc(out, (unsigned char)tab[v >> 18]);
		buf_addc(out, (unsigned char)tab[(v >> 12) & 63]);
		buf_addc(out, (unsigned char)tab[(v >> 6) & 63]);
		buf_addc(out, (unsigned char)tab[v & 63]);
	}
	if (len - i == 1) {
		v = (uint32_t)p[i] << 16;
		buf_addc(out, (unsigned char)tab[v >> 18]);
		buf_addc(out, (unsigned char)tab[(v >> 12) & 63]);
		buf_adds(out, "==");
	} else if (len - i == 2) {
		v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
		buf_addc(out, (unsigned char)tab[v >> 18]);
		buf_addc(out, (unsigned char)tab[(v >> 12) & 63]);
		buf_addc(out, (unsigned char)tab[(v >> 6) & 63]);
		buf_addc(out, '=');
	}
}

/*
 * Opaque values: DECIMAL as a number, temporal values as quoted text with
 * six fraction digits (MySQL's JSON rendering), anything else as MySQL
 * shows it, "base64:typeN:...".
 */
static int
jsonb_opaque(const uint8_t *p, size_t len, struct buf *out, char **cause)
{
	struct value	 v;
	size_t		 n, used;
	uint8_t		 type;
	int64_t		 packed;
	uint64_t	 ymdhms, ymd, ym, hms;

	if (len < 1 || jsonb_varlen(p + 1, len - 1, &n, &used) != 0 ||
	    n > len - 1 - used) {
		*cause = xstrdup("corrupt JSON opaque value");
		return (-1);
	}
	type = p[0];
	p += 1 + used;
	switch (type) {
	case COLTYPE_NEWDECIMAL:
		if (n < 2 || p[0] < 1 || p[0] > 65 || p[1] > p[0]) {
			*cause = xstrdup("corrupt JSON decimal value");
			return (-1);
		}
		return (value_decimal_text(p + 2, n - 2, p[0], p[1], out,
		    cause));
	case COLTYPE_DATE:
	case COLTYPE_DATETIME:
	case COLTYPE_TIMESTAMP:
	case COLTYPE_TIME:
		if (n < 8) {
			*cause = xstrdup("corrupt JSON temporal value");
			return (-1);
		}
		packed = (int64_t)le64(p);
		memset(&v, 0, sizeof v);
		if (packed < 0) {
			v.t.neg = 1;
			packed = -packed;
		}
		v.t.usec = (uint32_t)(packed % (1 << 24));
		ymdhms = (uint64_t)packed >> 24;
		if (type == COLTYPE_TIME) {
			v.kind = VALUE_TIME;
			v.t.hour = (uint32_t)((ymdhms >> 12) % (1 << 10));
		} else {
			v.kind = type == COLTYPE_DATE ? VALUE_DATE :
			    VALUE_DATETIME;
			ymd = ymdhms >> 17;
			ym = ymd >> 5;
			v.t.day = (uint8_t)(ymd % (1 << 5));
			v.t.month = (uint8_t)(ym % 13);
			v.t.year = (int32_t)(ym / 13);
			v.t.hour = (uint32_t)((ymdhms % (1 << 17)) >> 12);
		}
		hms = ymdhms % (1 << 17);
		v.t.minute = (uint8_t)((hms >> 6) % (1 << 6));
		v.t.second = (uint8_t)(hms % (1 << 6));
		buf_addc(out, '"');
		value_time_text(&v, 6, out);
		buf_addc(out, '"');
		return (0);
	}
	buf_printf(out, "\"base64:type%u:", type);
	jsonb_base64(p, n, out);
	buf_addc(out, '"');
	return (0);
}

/* A container (object or array) of len bytes at p. */
static int
jsonb_container(uint8_t type, const uint8_t *p, size_t len, int depth,
    struct buf *out, char **cause)
{
	int		 large = type == JSONB_LARGE_OBJECT ||
			    type == JSONB_LARGE_ARRAY;
	int		 object = type == JSONB_SMALL_OBJECT ||
			    type == JSONB_LARGE_OBJECT;
	size_t		 w = large ? 4 : 2, count, size, entry, off, klen;
	size_t		 hdr, i, voff, ventry;
	uint8_t		 vtype;

	if (depth > JSONB_MAX_DEPTH) {
		*cause = xasprintf("JSON document nested deeper than %d",
		    JSONB_MAX_DEPTH);
		return (-1);
	}
	if (len < 2 * w)
		goto corrupt;
	count = large ? le32(p) : le16(p);
	size = large ? le32(p + w) : le16(p + w);
	if (size > len)
		goto corrupt;
	ventry = 1 + w;
	hdr = 2 * w + count * ((object ? w + 2 : 0) + ventry);
	if (count > size || hdr > size)
		goto corrupt;
	buf_addc(out, object ? '{' : '[');
	for (i = 0; i < count; i++) {
		if (i > 0)
			buf_adds(out, ", ");
		if (object) {
			entry = 2 * w + i * (w + 2);
			off = large ? le32(p + entry) : le16(p + entry);
			klen = le16(p + entry + w);
			if (off > size || klen > size - off)
				goto corrupt;
			mysql_json_string(p + off, klen, out);
			buf_adds(out, ": ");
			entry = 2 * w + count * (w + 2) + i * ventry;
		} else
			entry = 2 * w + i * ventry;
		vtype = p[entry];
		switch (vtype) {
		case JSONB_LITERAL:
		case JSONB_INT16:
		case JSONB_UINT16:
			/* Inlined in the entry. */
			if (jsonb_value(vtype, p + entry + 1, w, depth + 1,
			    out, cause) != 0)
				return (-1);
			continue;
		case JSONB_INT32:
		case JSONB_UINT32:
			if (large) {
				if (jsonb_value(vtype, p + entry + 1, w,
				    depth + 1, out, cause) != 0)
					return (-1);
				continue;
			}
			break;
		}
		voff = large ? le32(p + entry + 1) : le16(p + entry + 1);
		if (voff < hdr || voff >= size)
			goto corrupt;
		if (jsonb_value(vtype, p + voff, size - voff, depth + 1, out,
		    cause) != 0)
			return (-1);
	}
	buf_addc(out, object ? '}' : ']');
	return (0);
corrupt:
	*cause = xasprintf("corrupt JSON %s", object ? "object" : "array");
	return (-1);
}

/* A value of the given type whose data starts at p (len bytes left). */
static int
jsonb_value(uint8_t type, const uint8_t *p, size_t len, int depth,
    struct buf *out, char **cause)
{
	size_t	 n, used;
	uint64_t u;
	double	 d;

	switch (type) {
	case JSONB_SMALL_OBJECT:
	case JSONB_LARGE_OBJECT:
	case JSONB_SMALL_ARRAY:
	case JSONB_LARGE_ARRAY:
		return (jsonb_container(type, p, len, depth, out, cause));
	case JSONB_LITERAL:
		if (len < 1)
			break;
		switch (p[0]) {
		case 0:	buf_adds(out, "null"); return (0);
		case 1:	buf_adds(out, "true"); return (0);
		case 2:	buf_adds(out, "false"); return (0);
		}
		break;
	case JSONB_INT16:
		if (len < 2)
			break;
		buf_printf(out, "%d", (int)(int16_t)le16(p));
		return (0);
	case JSONB_UINT16:
		if (len < 2)
			break;
		buf_printf(out, "%u", (unsigned int)le16(p));
		return (0);
	case JSONB_INT32:
		if (len < 4)
			break;
		buf_printf(out, "%" PRId32, (int32_t)le32(p));
		return (0);
	case JSONB_UINT32:
		if (len < 4)
			break;
		buf_printf(out, "%" PRIu32, le32(p));
		return (0);
	case JSONB_INT64:
		if (len < 8)
			break;
		buf_printf(out, "%" PRId64, (int64_t)le64(p));
		return (0);
	case JSONB_UINT64:
		if (len < 8)
			break;
		buf_printf(out, "%" PRIu64, le64(p));
		return (0);
	case JSONB_DOUBLE:
		if (len < 8)
			break;
		u = le64(p);
		memcpy(&d, &u, sizeof d);
		mysql_json_double(d, out);
		return (0);
	case JSONB_STRING:
		if (jsonb_varlen(p, len, &n, &used) != 0 || n > len - used)
			break;
		mysql_json_string(p + used, n, out);
		return (0);
	case JSONB_OPAQUE:
		return (jsonb_opaque(p, len, out, cause));
	default:
		*cause = xasprintf("unknown JSON value type 0x%02x", type);
		return (-1);
	}
	*cause = xasprintf("truncated JSON value of type 0x%02x", type);
	return (-1);
}

/*
 * Append the JSON text of the binary document p (len bytes) to out.  An
 * empty document is JSON null (what the server stores for it).
 */
int
mysql_json_to_text(const uint8_t *p, size_t len, struct buf *out,
    char **cause)
{
	size_t	 start = out->len;

	if (len == 0) {
		buf_adds(out, "null");
		return (0);
	}
	if (jsonb_value(p[0], p + 1, len - 1, 0, out, cause) != 0) {
		buf_truncate(out, start);
		return (-1);
	}
	return (0);
}

/*
 * The tree that diffs are applied to.  Leaves keep their rendered text;
 * containers keep members (objects: key text as JSON strings, sorted as
 * MySQL sorts them: by length, then bytes).
 */
struct jnode {
	int		 kind;		/* 0 leaf, 1 object, 2 array */
	char		*text;		/* leaf */
	size_t		 n;
	char		**keys;		/* object: raw key bytes, NUL-ended */
	size_t		*klens;
	struct jnode	**kids;
};

static void
jnode_free(struct jnode *j)
{
	size_t	 i;

	if (j == NULL)
		return;
	for (i = 0; i < j->n; i++) {
		if (j->keys != NULL)
			free(j->keys[i]);
		jnode_free(j->kids[i]);
	}
	free(j->keys);
	free(j->klens);
	free(j->kids);
	free(j->text);
	free(j);
}

static void
jnode_insert(struct jnode *j, size_t at, const char *key, size_t klen,
    struct jnode *kid)
{
	j->kids = xreallocarray(j->kids, j->n + 1, sizeof *j->kids);
	memmove(j->kids + at + 1, j->kids + at, (j->n - at) * sizeof *j->kids);
	j->kids[at] = kid;
	if (j->kind == 1) {
		j->keys = xreallocarray(j->keys, j->n + 1, sizeof *j->keys);
		j->klens = xreallocarray(j->klens, j->n + 1, sizeof *j->klens);
		memmove(j->keys + at + 1, j->keys + at,
		    (j->n - at) * sizeof *j->keys);
		memmove(j->klens + at + 1, j->klens + at,
		    (j->n - at) * sizeof *j->klens);
		j->keys[at] = xmalloc(klen + 1);
		memcpy(j->keys[at], key, klen);
		j->keys[at][klen] = '\0';
		j->klens[at] = klen;
	}
	j->n++;
}

static void
jnode_remove(struct jnode *j, size_t at)
{
	jnode_free(j->kids[at]);
	memmove(j->kids + at, j->kids + at + 1, (j->n - at - 1) *
	    sizeof *j->kids);
	if (j->kind == 1) {
		free(j->keys[at]);
		memmove(j->keys + at, j->keys + at + 1, (j->n - at - 1) *
		    sizeof *j->keys);
		memmove(j->klens + at, j->klens + at + 1, (j->n - at - 1) *
		    sizeof *j->klens);
	}
	j->n--;
}

static struct jnode *jnode_build(uint8_t, const uint8_t *, size_t, int,
		    char **);

/* Build a tree from a binary value (type byte given separately). */
static struct jnode *
jnode_build(uint8_t type, const uint8_t *p, size_t len, int depth,
    char **cause)
{
	struct jnode	*j;
	struct buf	 b = BUF_INITIALIZER;
	int		 large, object;
	size_t		 w, count, size, i, entry, off, klen, voff, hdr;
	uint8_t		 vtype;

	j = xcalloc(1, sizeof *j);
	if (type > JSONB_LARGE_ARRAY) {
		if (jsonb_value(type, p, len, depth, &b, cause) != 0) {
			buf_release(&b);
			free(j);
			return (NULL);
		}
		j->text = buf_detach(&b, NULL);
		return (j);
	}
	if (depth > JSONB_MAX_DEPTH) {
		*cause = xasprintf("JSON document nested deeper than %d",
		    JSONB_MAX_DEPTH);
		free(j);
		return (NULL);
	}
	large = type == JSONB_LARGE_OBJECT || type == JSONB_LARGE_ARRAY;
	object = type == JSONB_SMALL_OBJECT || type == JSONB_LARGE_OBJECT;
	j->kind = object ? 1 : 2;
	w = large ? 4 : 2;
	if (len < 2 * w)
		goto corrupt;
	count = large ? le32(p) : le16(p);
	size = large ? le32(p + w) : le16(p + w);
	hdr = 2 * w + count * ((object ? w + 2 : 0) + 1 + w);
	if (size > len || count > size || hdr > size)
		goto corrupt;
	for (i = 0; i < count; i++) {
		struct jnode	*kid;
		const uint8_t	*kp = NULL;

		klen = 0;
		if (object) {
			entry = 2 * w + i * (w + 2);
			off = large ? le32(p + entry) : le16(p + entry);
			klen = le16(p + entry + w);
			if (off > size || klen > size - off)
				goto corrupt;
			kp = p + off;
			entry = 2 * w + count * (w + 2) + i * (1 + w);
		} else
			entry = 2 * w + i * (1 + w);
		vtype = p[entry];
		if (vtype == JSONB_LITERAL || vtype == JSONB_INT16 ||
		    vtype == JSONB_UINT16 || (large && (vtype == JSONB_INT32 ||
		    vtype == JSONB_UINT32)))
			kid = jnode_build(vtype, p + entry + 1, w, depth + 1,
			    cause);
		else {
			voff = large ? le32(p + entry + 1) :
			    le16(p + entry + 1);
			if (voff < hdr || voff >= size)
				goto corrupt;
			kid = jnode_build(vtype, p + voff, size - voff,
			    depth + 1, cause);
		}
		if (kid == NULL) {
			jnode_free(j);
			return (NULL);
		}
		jnode_insert(j, j->n, kp != NULL ? (const char *)kp : "", klen,
		    kid);
	}
	return (j);
corrupt:
	*cause = xasprintf("corrupt JSON %s", object ? "object" : "array");
	jnode_free(j);
	return (NULL);
}

static void
jnode_render(const struct jnode *j, struct buf *out)
{
	size_t	 i;

	if (j->kind == 0) {
		buf_adds(out, j->text);
		return;
	}
	buf_addc(out, j->kind == 1 ? '{' : '[');
	for (i = 0; i < j->n; i++) {
		if (i > 0)
			buf_adds(out, ", ");
		if (j->kind == 1) {
			mysql_json_string((const uint8_t *)j->keys[i],
			    j->klens[i], out);
			buf_adds(out, ": ");
		}
		jnode_render(j->kids[i], out);
	}
	buf_addc(out, j->kind == 1 ? '}' : ']');
}

/* One leg of a path: a member name or an array index. */
struct jleg {
	int		 member;
	struct buf	 name;
	uint64_t	 index;
};

/*
 * Parse a path as the server writes it in diffs: "$", then legs ".name",
 * ."quoted name" or "[N]".  Returns the number of legs, or -1.
 */
static int
jpath_parse(const uint8_t *p, size_t len, struct jleg *legs, int max)
{
	size_t	 i = 1;
	int	 n = 0;

	if (len < 1 || p[0] != '$')
		return (-1);
	while (i < len) {
		if (n == max)
			return (-1);
		buf_init(&legs[n].name);
		if (p[i] == '[') {
			uint64_t v = 0;

			i++;
			if (i >= len || p[i] < '0' || p[i] > '9')
				return (-1);
			while (i < len && p[i] >= '0' && p[i] <= '9') {
				if (v > UINT32_MAX)
					return (-1);
				v = v * 10 + (uint64_t)(p[i++] - '0');
			}
			if (i >= len || p[i] != ']')
				return (-1);
			i++;
			legs[n].member = 0;
			legs[n].index = v;
		} else if (p[i] == '.') {
			i++;
			legs[n].member = 1;
			if (i < len && p[i] == '"') {
				i++;
				while (i < len && p[i] != '"') {
					if (p[i] == '\\' && i + 1 < len) {
						i++;
						switch (p[i]) {
						case 'n': buf_addc(&legs[n].name, '\n'); break;
						case 't': buf_addc(&legs[n].name, '\t'); break;
						case 'r': buf_addc(&legs[n].name, '\r'); break;
						case 'b': buf_addc(&legs[n].name, '\b'); break;
						case 'f': buf_addc(&legs[n].name, '\f'); break;
						default: buf_addc(&legs[n].name, p[i]); break;
						}
						i++;
						continue;
					}
					buf_addc(&legs[n].name, p[i++]);
				}
				if (i >= len)
					return (-1);
				i++;
			} else {
				while (i < len && p[i] != '.' && p[i] != '[')
					buf_addc(&legs[n].name, p[i++]);
				if (legs[n].name.len == 0)
					return (-1);
			}
			buf_str(&legs[n].name);
		} else
			return (-1);
		n++;
	}
	return (n);
}

/* Position of key in object j, or where it would go (*found = 0). */
static size_t
jnode_find(const struct jnode *j, const struct buf *key, int *found)
{
	size_t	 i;
	int	 c;

	for (i = 0; i < j->n; i++) {
		if (j->klens[i] != key->len) {
			if (j->klens[i] > key->len)
				break;
			continue;
		}
		c = memcmp(j->keys[i], key->data, key->len);
		if (c == 0) {
			*found = 1;
			return (i);
		}
		if (c > 0)
			break;
	}
	*found = 0;
	return (i);
}

static int
jdiff_apply_one(struct jnode *root, int op, struct jleg *legs, int nlegs,
    struct jnode *val)
{
	struct jnode	*parent = root;
	struct jleg	*last;
	size_t		 at;
	int		 i, found;

	if (nlegs == 0)
		return (-1);
	for (i = 0; i < nlegs - 1; i++) {
		if (legs[i].member && parent->kind == 1) {
			at = jnode_find(parent, &legs[i].name, &found);
			if (!found)
				return (-1);
		} else if (!legs[i].member && parent->kind == 2) {
			if (legs[i].index >= parent->n)
				return (-1);
			at = (size_t)legs[i].index;
		} else
			return (-1);
		parent = parent->kids[at];
	}
	last = &legs[nlegs - 1];
	if (last->member && parent->kind == 1) {
		at = jnode_find(parent, &last->name, &found);
		switch (op) {
		case 0:		/* REPLACE */
			if (!found)
				return (-1);
			jnode_free(parent->kids[at]);
			parent->kids[at] = val;
			return (0);
		case 1:		/* INSERT */
			if (found)
				return (-1);
			jnode_insert(parent, at, (const char *)last->name.data,
			    last->name.len, val);
			return (0);
		default:	/* REMOVE */
			if (!found)
				return (-1);
			jnode_remove(parent, at);
			return (0);
		}
	}
	if (!last->member && parent->kind == 2) {
		switch (op) {
		case 0:
			if (last->index >= parent->n)
				return (-1);
			jnode_free(parent->kids[last->index]);
			parent->kids[last->index] = val;
			return (0);
		case 1:
			at = last->index > parent->n ? parent->n :
			    (size_t)last->index;
			jnode_insert(parent, at, NULL, 0, val);
			return (0);
		default:
			if (last->index >= parent->n)
				return (-1);
			jnode_remove(parent, (size_t)last->index);
			return (0);
		}
	}
	return (-1);
}

#define JDIFF_MAX_LEGS	128

/*
 * Walk the diffs at p (len bytes, after the 4-byte length).  For
 * each, calls back with the operation, the path and the value (NULL for
 * REMOVE).
 */
typedef int (*jdiff_cb)(void *, int, const uint8_t *, size_t,
    const uint8_t *, size_t, char **);

static int
jdiff_walk(const uint8_t *p, size_t len, jdiff_cb cb, void *arg,
    char **cause)
{
	struct cursor	 c;
	const uint8_t	*path, *val;
	size_t		 plen, vlen;
	uint8_t		 op;

	cursor_init(&c, p, len);
	while (cursor_left(&c) > 0) {
		if (cursor_u8(&c, &op) != 0 || op > 2 ||
		    cursor_lenenc_bytes(&c, &path, &plen) != 0)
			goto corrupt;
		val = NULL;
		vlen = 0;
		if (op != 2 && cursor_lenenc_bytes(&c, &val, &vlen) != 0)
			goto corrupt;
		if (op != 2 && vlen == 0)
			goto corrupt;
		if (cb(arg, op, path, plen, val, vlen, cause) != 0)
			return (-1);
	}
	return (0);
corrupt:
	*cause = xasprintf("corrupt partial JSON update at byte %zu",
	    cursor_offset(&c));
	return (-1);
}

static const char *jdiff_ops[] = { "replace", "insert", "remove" };

static int
jdiff_text_cb(void *arg, int op, const uint8_t *path, size_t plen,
    const uint8_t *val, size_t vlen, char **cause)
{
	struct buf	*out = arg;

	if (out->data[out->len - 1] != '[')
		buf_adds(out, ", ");
	buf_printf(out, "{\"op\": \"%s\", \"path\": ", jdiff_ops[op]);
	mysql_json_string(path, plen, out);
	if (val != NULL) {
		buf_adds(out, ", \"value\": ");
		if (mysql_json_to_text(val, vlen, out, cause) != 0)
			return (-1);
	}
	buf_addc(out, '}');
	return (0);
}

/*
 * Append the diffs as a JSON array of {"op", "path", "value"} objects, for
 * an after image whose before image is not known.
 */
int
mysql_json_diff_to_text(const uint8_t *p, size_t len, struct buf *out,
    char **cause)
{
	size_t	 start = out->len;

	buf_addc(out, '[');
	if (jdiff_walk(p, len, jdiff_text_cb, out, cause) != 0) {
		buf_truncate(out, start);
		return (-1);
	}
	buf_addc(out, ']');
	return (0);
}

struct jdiff_apply {
	struct jnode	*root;
};

static int
jdiff_apply_cb(void *arg, int op, const uint8_t *path, size_t plen,
    const uint8_t *val, size_t vlen, char **cause)
{
	struct jdiff_apply	*a = arg;
	struct jleg		 legs[JDIFF_MAX_LEGS];
	struct jnode		*v = NULL;
	int			 n, i, rc = -1;

	memset(legs, 0, sizeof legs);
	n = jpath_parse(path, plen, legs, JDIFF_MAX_LEGS);
	if (n <= 0) {
		*cause = xasprintf("partial JSON update with an invalid path "
		    "'%.*s'", (int)plen, (const char *)path);
		goto out;
	}
	if (val != NULL &&
	    (v = jnode_build(val[0], val + 1, vlen - 1, 0, cause)) == NULL)
		goto out;
	if (jdiff_apply_one(a->root, op, legs, n, v) != 0) {
		*cause = xasprintf("partial JSON update: cannot %s '%.*s' in "
		    "the before image", jdiff_ops[op], (int)plen,
		    (const char *)path);
		jnode_free(v);
		goto out;
	}
	rc = 0;
out:
	for (i = 0; i < JDIFF_MAX_LEGS; i++)
		buf_release(&legs[i].name);
	return (rc);
}

/*
 * Apply the diffs (diff, difflen) to the binary document (doc, doclen) and
 * append the resulting JSON text to out.
 */
int
mysql_json_apply_diff(const uint8_t *doc, size_t doclen, const uint8_t *diff,
    size_t difflen, struct buf *out, char **cause)
{
	struct jdiff_apply	 a;

	if (doclen == 0) {
		*cause = xstrdup("partial JSON update of an empty document");
		return (-1);
	}
	if ((a.root = jnode_build(doc[0], doc + 1, doclen - 1, 0, cause)) ==
	    NULL)
		return (-1);
	if (jdiff_walk(diff, difflen, jdiff_apply_cb, &a, cause) != 0) {
		jnode_free(a.root);
		return (-1);
	}
	jnode_render(a.root, out);
	jnode_free(a.root);
	return (0);
}
