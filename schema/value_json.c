/*
 * Values as JSON, the way "ferry binlog dump" prints them (docs/CLI.md):
 * numbers exact, DECIMAL and temporal values as text, character data
 * converted to UTF-8, binary data as {"hex": ...}, JSON documents embedded
 * as JSON, ENUM and SET as their labels when the table's metadata has them.
 *
 * Without charset metadata (binlog_row_metadata=MINIMAL, MySQL < 8.0.1,
 * MariaDB < 10.5) CHAR and BINARY, TEXT and BLOB look the same; such a value
 * is shown as text when it is valid UTF-8 and as hex otherwise.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/buf.h"
#include "common/json.h"
#include "common/xmalloc.h"
#include "schema/charset.h"
#include "schema/coltype.h"
#include "schema/mysql_json.h"
#include "schema/table.h"
#include "schema/value.h"

static void
value_json_string(const struct value *v, const struct column *col,
    struct buf *out)
{
	struct buf	 tmp = BUF_INITIALIZER;
	const char	*cs;

	size_t		 pad;

	if ((pad = value_binary_pad(v, col)) > 0) {
		buf_add(&tmp, v->bytes.p, v->bytes.len);
		buf_reserve(&tmp, pad);
		memset(tmp.data + tmp.len, 0, pad);
		tmp.len += pad;
		tmp.data[tmp.len] = '\0';
		json_add_hex(out, tmp.data, tmp.len);
		buf_release(&tmp);
		return;
	}
	if (col->collation == CHARSET_BINARY ||
	    (col->collation == 0 &&
	    !charset_is_utf8(v->bytes.p, v->bytes.len))) {
		json_add_hex(out, v->bytes.p, v->bytes.len);
		return;
	}
	cs = col->collation != 0 ? charset_name(col->collation) : "utf8mb4";
	charset_to_utf8(cs, v->bytes.p, v->bytes.len, &tmp);
	json_add_string(out, tmp.data, tmp.len);
	buf_release(&tmp);
}

static void
value_json_set(const struct value *v, const struct column *col,
    struct buf *out)
{
	struct buf	 tmp = BUF_INITIALIZER;
	uint32_t	 i;

	for (i = 0; i < col->nlabels && i < 64; i++) {
		if ((v->u >> i) & 1) {
			if (tmp.len > 0)
				buf_addc(&tmp, ',');
			buf_adds(&tmp, col->labels[i]);
		}
	}
	json_add_string(out, tmp.data != NULL ? tmp.data :
	    (const uint8_t *)"", tmp.len);
	buf_release(&tmp);
}

/*
 * Append v, a value of column col, as JSON.  VALUE_ABSENT must be skipped
 * by the caller.  Returns -1 with *cause only for values whose bytes are
 * corrupt (DECIMAL, JSON).
 */
int
value_render_json(const struct value *v, const struct column *col,
    struct buf *out, char **cause)
{
	struct buf	 tmp = BUF_INITIALIZER;
	struct tm	 tm;
	time_t		 t;
	int		 rc = 0;

	switch (v->kind) {
	case VALUE_ABSENT:
	case VALUE_NULL:
		buf_adds(out, "null");
		break;
	case VALUE_INT:
		buf_printf(out, "%" PRId64, v->i);
		break;
	case VALUE_UINT:
	case VALUE_BIT:
		buf_printf(out, "%" PRIu64, v->u);
		break;
	case VALUE_FLOAT:
		json_add_float(out, v->f);
		break;
	case VALUE_DOUBLE:
		json_add_double(out, v->d);
		break;
	case VALUE_DECIMAL:
		if ((rc = value_decimal_text(v->bytes.p, v->bytes.len,
		    col->precision, col->scale, &tmp, cause)) == 0)
			json_add_string(out, tmp.data, tmp.len);
		break;
	case VALUE_DECIMAL_TEXT:
		json_add_string(out, v->bytes.p, v->bytes.len);
		break;
	case VALUE_DATE:
	case VALUE_TIME:
	case VALUE_DATETIME:
		value_time_text(v, col->fsp, &tmp);
		json_add_string(out, tmp.data, tmp.len);
		break;
	case VALUE_TIMESTAMP:
		if (v->ts.sec == 0 && v->ts.usec == 0)
			buf_adds(&tmp, "0000-00-00 00:00:00");
		else {
			t = (time_t)v->ts.sec;
			gmtime_r(&t, &tm);
			buf_printf(&tmp, "%04d-%02d-%02d %02d:%02d:%02d",
			    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
			    tm.tm_hour, tm.tm_min, tm.tm_sec);
		}
		if (col->fsp > 0) {
			char	 frac[8];

			snprintf(frac, sizeof frac, ".%06" PRIu32, v->ts.usec);
			frac[col->fsp + 1] = '\0';
			buf_adds(&tmp, frac);
		}
		json_add_string(out, tmp.data, tmp.len);
		break;
	case VALUE_STRING:
		value_json_string(v, col, out);
		break;
	case VALUE_ENUM:
		if (v->u == 0 && col->nlabels > 0)
			buf_adds(out, "\"\"");
		else if (v->u >= 1 && v->u <= col->nlabels)
			json_add_cstring(out, col->labels[v->u - 1]);
		else
			buf_printf(out, "%" PRIu64, v->u);
		break;
	case VALUE_SET:
		if (col->nlabels > 0 && (col->nlabels >= 64 ||
		    (v->u >> col->nlabels) == 0))
			value_json_set(v, col, out);
		else
			buf_printf(out, "%" PRIu64, v->u);
		break;
	case VALUE_JSON:
		rc = mysql_json_to_text(v->bytes.p, v->bytes.len, out, cause);
		break;
	case VALUE_JSON_TEXT:
		buf_add(out, v->bytes.p, v->bytes.len);
		break;
	case VALUE_JSON_DIFF:
		buf_adds(out, "{\"partial_json\":");
		if ((rc = mysql_json_diff_to_text(v->bytes.p, v->bytes.len,
		    out, cause)) == 0)
			buf_addc(out, '}');
		break;
	case VALUE_GEOMETRY:
	case VALUE_VECTOR:
		json_add_hex(out, v->bytes.p, v->bytes.len);
		break;
	default:
		*cause = xasprintf("%s: unknown value kind %d", __func__,
		    v->kind);
		rc = -1;
		break;
	}
	buf_release(&tmp);
	return (rc);
}
