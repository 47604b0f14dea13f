/*
 * JSON output.  Strings must already be valid UTF-8 (charset_to_utf8()
 * makes them so); control characters, '"' and '\\' are escaped, everything
 * else is copied.  Doubles and floats are written in the shortest form that
 * reads back to the same value.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/json.h"

void
json_add_string(struct buf *b, const void *s, size_t len)
{
	static const char	 hex[] = "0123456789abcdef";
	const uint8_t		*p = s;
	size_t			 i, start;

	buf_reserve(b, len + 2);
	buf_addc(b, '"');
	for (i = start = 0; i < len; i++) {
		uint8_t	 c = p[i];

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		buf_add(b, p + start, i - start);
		switch (c) {
		case '"':	buf_adds(b, "\\\""); break;
		case '\\':	buf_adds(b, "\\\\"); break;
		case '\n':	buf_adds(b, "\\n"); break;
		case '\r':	buf_adds(b, "\\r"); break;
		case '\t':	buf_adds(b, "\\t"); break;
		case '\b':	buf_adds(b, "\\b"); break;
		case '\f':	buf_adds(b, "\\f"); break;
		default:
			buf_adds(b, "\\u00");
			buf_addc(b, (unsigned char)hex[c >> 4]);
			buf_addc(b, (unsigned char)hex[c & 15]);
			break;
		}
		start = i + 1;
	}
	buf_add(b, p + start, len - start);
	buf_addc(b, '"');
}

void
json_add_cstring(struct buf *b, const char *s)
{
	json_add_string(b, s, strlen(s));
}

/* "key": */
void
json_add_key(struct buf *b, const char *key)
{
	json_add_cstring(b, key);
	buf_addc(b, ':');
}

/* "0a1b..." */
void
json_add_hexstr(struct buf *b, const uint8_t *p, size_t len)
{
	static const char	 hex[] = "0123456789abcdef";
	size_t			 i;

	buf_reserve(b, len * 2 + 2);
	b->data[b->len++] = '"';
	for (i = 0; i < len; i++) {
		b->data[b->len++] = (unsigned char)hex[p[i] >> 4];
		b->data[b->len++] = (unsigned char)hex[p[i] & 15];
	}
	b->data[b->len++] = '"';
	b->data[b->len] = '\0';
}

/* {"hex":"0a1b..."} */
void
json_add_hex(struct buf *b, const uint8_t *p, size_t len)
{
	buf_adds(b, "{\"hex\":");
	json_add_hexstr(b, p, len);
	buf_addc(b, '}');
}

void
json_add_double(struct buf *b, double d)
{
	char	 s[40];
	int	 prec;

	if (!isfinite(d)) {
		buf_adds(b, "null");
		return;
	}
	for (prec = 1; prec < 17; prec++) {
		snprintf(s, sizeof s, "%.*g", prec, d);
		if (strtod(s, NULL) == d)
			break;
	}
	if (prec == 17)
		snprintf(s, sizeof s, "%.17g", d);
	buf_adds(b, s);
}

void
json_add_float(struct buf *b, float f)
{
	char	 s[40];
	int	 prec;

	if (!isfinite(f)) {
		buf_adds(b, "null");
		return;
	}
	for (prec = 1; prec < 9; prec++) {
		snprintf(s, sizeof s, "%.*g", prec, (double)f);
		if (strtof(s, NULL) == f)
			break;
	}
	if (prec == 9)
		snprintf(s, sizeof s, "%.9g", (double)f);
	buf_adds(b, s);
}
