/*
 * Rows events: WRITE, UPDATE and DELETE in versions 0 (pre-GA, refused), 1
 * (MySQL 5.1-5.5, MariaDB) and 2 (MySQL 5.6+: extra data after the
 * post-header), MySQL 8's PARTIAL_UPDATE_ROWS, and MariaDB's compressed v1
 * and v2 forms (the rows part zlib-compressed; the decoder inflates it).
 *
 *	post-header	table id (6 bytes; 4 in early 5.1), flags (2),
 *			v2: extra data length (2, counting itself) + items
 *	body		column count (lenenc), columns-present bitmap,
 *			UPDATE: columns-present bitmap of the after image,
 *			rows
 *	row image	NULL bitmap over the present columns, then the
 *			values of the present non-NULL columns
 *
 * A PARTIAL_UPDATE_ROWS after image starts with its value options (lenenc)
 * and, when they say PARTIAL_JSON, a bitmap with one bit per JSON column of
 * the table: a set bit means that column's value is a diff
 * (VALUE_JSON_DIFF), not a document.
 *
 * Extra data items (v2) are checked, not trusted: tag 0 (NDB info) carries
 * its own length, at least 2; tag 1 (MySQL 8 partition info) is 2 bytes, 4
 * for updates; any other tag is an error, as in MariaDB, whose own reader
 * was fooled by it (MDEV test invalid_row_v2_tag).
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
#include "schema/value.h"

static int
rows_extra_data(const uint8_t *p, size_t len, int update, char **cause)
{
	size_t	 i = 0, n;

	while (i < len) {
		switch (p[i++]) {
		case 0:		/* NDB: length (including these 2), format */
			if (len - i < 2) {
				*cause = xstrdup("rows event: truncated NDB "
				    "extra data");
				return (-1);
			}
			n = p[i];
			if (n < 2 || n > len - i) {
				*cause = xasprintf("rows event: NDB extra data "
				    "of %zu bytes in %zu", n, len - i);
				return (-1);
			}
			i += n;
			break;
		case 1:		/* partition ids */
			n = update ? 4 : 2;
			if (len - i < n) {
				*cause = xstrdup("rows event: truncated "
				    "partition extra data");
				return (-1);
			}
			i += n;
			break;
		default:
			*cause = xasprintf("rows event: unknown extra data tag "
			    "%u", p[i - 1]);
			return (-1);
		}
	}
	return (0);
}

/*
 * Parse the rows event header into ev->rows (all but the table, which the
 * decoder looks up by ev->rows.table_id).
 */
int
binlog_rows_parse(const struct binlog_fde *fde, struct binlog_event *ev,
    char **cause)
{
	struct binlog_rows	*r = &ev->rows;
	struct cursor		 c;
	const uint8_t		*extra;
	size_t			 post, idlen, nbytes;
	uint64_t		 ncols;
	uint16_t		 xlen;
	uint8_t			 t = ev->h.type;

	memset(r, 0, sizeof *r);
	switch (t) {
	case BINLOG_WRITE_ROWS_V1:
	case BINLOG_MARIA_WRITE_ROWS_COMPRESSED_V1:
	case BINLOG_WRITE_ROWS:
	case BINLOG_MARIA_WRITE_ROWS_COMPRESSED:
		r->kind = BINLOG_ROWS_INSERT;
		break;
	case BINLOG_UPDATE_ROWS_V1:
	case BINLOG_MARIA_UPDATE_ROWS_COMPRESSED_V1:
	case BINLOG_UPDATE_ROWS:
	case BINLOG_MARIA_UPDATE_ROWS_COMPRESSED:
	case BINLOG_PARTIAL_UPDATE_ROWS:
		r->kind = BINLOG_ROWS_UPDATE;
		break;
	default:
		r->kind = BINLOG_ROWS_DELETE;
		break;
	}
	r->version = (t == BINLOG_WRITE_ROWS || t == BINLOG_UPDATE_ROWS ||
	    t == BINLOG_DELETE_ROWS || t == BINLOG_PARTIAL_UPDATE_ROWS ||
	    t == BINLOG_MARIA_WRITE_ROWS_COMPRESSED ||
	    t == BINLOG_MARIA_UPDATE_ROWS_COMPRESSED ||
	    t == BINLOG_MARIA_DELETE_ROWS_COMPRESSED) ? 2 : 1;
	r->partial = t == BINLOG_PARTIAL_UPDATE_ROWS;
	r->compressed = t >= BINLOG_MARIA_WRITE_ROWS_COMPRESSED_V1 &&
	    t <= BINLOG_MARIA_DELETE_ROWS_COMPRESSED;

	post = binlog_post_len(fde, t, r->version == 2 ? 10 : 8);
	idlen = (post == 6 || (r->version == 2 && post == 8)) ? 4 : 6;
	cursor_init(&c, ev->body, ev->body_len);
	if (post < idlen + 2 || cursor_left(&c) < post) {
		*cause = xasprintf("%s event is truncated",
		    binlog_type_name(t));
		return (-1);
	}
	r->table_id = leN(c.p, idlen);
	r->flags = le16(c.p + idlen);
	c.p += post;
	if (r->version == 2) {
		/* The extra-data length sits at the end of the post-header. */
		xlen = le16(c.p - 2);
		if (xlen < 2) {
			*cause = xasprintf("rows event: extra data length %u",
			    xlen);
			return (-1);
		}
		if (cursor_bytes(&c, (size_t)xlen - 2, &extra) != 0) {
			*cause = xasprintf("rows event: %u bytes of extra data, "
			    "%zu left", xlen - 2, cursor_left(&c));
			return (-1);
		}
		if (rows_extra_data(extra, (size_t)xlen - 2,
		    r->kind == BINLOG_ROWS_UPDATE, cause) != 0)
			return (-1);
	}
	if (cursor_lenenc(&c, &ncols) != 0 || ncols == 0 || ncols > 4096) {
		*cause = xstrdup("rows event: bad column count");
		return (-1);
	}
	r->ncols = (uint32_t)ncols;
	nbytes = (r->ncols + 7) / 8;
	if (cursor_bytes(&c, nbytes, &r->present) != 0 ||
	    (r->kind == BINLOG_ROWS_UPDATE &&
	    cursor_bytes(&c, nbytes, &r->present_after) != 0)) {
		*cause = xstrdup("rows event: truncated column bitmaps");
		return (-1);
	}
	if (r->kind != BINLOG_ROWS_UPDATE)
		r->present_after = r->present;
	r->data = c.p;
	r->data_len = cursor_left(&c);
	r->data_offset = (size_t)(c.p - ev->raw);
	return (0);
}

static uint32_t
rows_popcount(const uint8_t *bits, uint32_t n)
{
	uint32_t	 i, k = 0;

	for (i = 0; i < n; i++)
		k += (bits[i / 8] >> (i % 8)) & 1;
	return (k);
}

/* Decode one image at c into values[0..table ncols). */
static int
rows_image(struct binlog_rows *r, struct cursor *c, const uint8_t *present,
    int after, struct value *values, char **cause)
{
	const struct table_def	*t = r->table;
	const uint8_t		*nulls, *partial_bits = NULL;
	uint64_t		 options;
	uint32_t		 i, k = 0, json = 0, npresent;
	char			*why;

	if (after && r->partial) {
		if (cursor_lenenc(c, &options) != 0)
			goto short_;
		if ((options & 1) &&
		    cursor_bytes(c, (t->njson + 7) / 8, &partial_bits) != 0)
			goto short_;
	}
	npresent = rows_popcount(present, r->ncols);
	if (cursor_bytes(c, (npresent + 7) / 8, &nulls) != 0)
		goto short_;
	for (i = 0; i < t->ncols; i++) {
		const struct column	*col = &t->cols[i];
		int			 diff = 0;

		if (col->type == COLTYPE_JSON) {
			if (partial_bits != NULL)
				diff = (partial_bits[json / 8] >> (json % 8)) & 1;
			json++;
		}
		if (i >= r->ncols || ((present[i / 8] >> (i % 8)) & 1) == 0) {
			values[i].kind = VALUE_ABSENT;
			continue;
		}
		if ((nulls[k / 8] >> (k % 8)) & 1) {
			values[i].kind = VALUE_NULL;
			k++;
			continue;
		}
		k++;
		if (value_decode(col, c, &values[i], &why) != 0) {
			*cause = xasprintf("row %u, column %s%u (%s): %s",
			    r->nrows + 1, col->name != NULL ? "" : "@",
			    i + 1, col->name != NULL ? col->name :
			    coltype_name(col->type), why);
			free(why);
			return (-1);
		}
		if (diff)
			values[i].kind = VALUE_JSON_DIFF;
	}
	return (0);
short_:
	*cause = xasprintf("row %u: image truncated", r->nrows + 1);
	return (-1);
}

/*
 * The next row of r into row (arrays owned by dec, valid until the next
 * call).  Returns 1, 0 at the end, or -1 with *cause; after an error the
 * event has no more rows.
 */
int
binlog_rows_next(struct binlog_decoder *dec, struct binlog_rows *r,
    struct binlog_row *row, char **cause)
{
	struct cursor	 c;
	char		*why;

	if (r->table == NULL || r->pos >= r->data_len)
		return (0);
	cursor_init(&c, r->data, r->data_len);
	c.p += r->pos;
	row->before = row->after = NULL;
	if (r->kind != BINLOG_ROWS_INSERT) {
		if (rows_image(r, &c, r->present, 0, dec->before, &why) != 0)
			goto fail;
		row->before = dec->before;
	}
	if (r->kind != BINLOG_ROWS_DELETE) {
		if (rows_image(r, &c, r->present_after, 1, dec->after,
		    &why) != 0)
			goto fail;
		row->after = dec->after;
	}
	if (cursor_offset(&c) == r->pos) {
		/* No column in either image: a row of no bytes, which would
		 * repeat forever.  No server writes one. */
		why = xstrdup("empty row image");
		goto fail;
	}
	r->pos = cursor_offset(&c);
	r->nrows++;
	return (1);
fail:
	*cause = xasprintf("%s on %s.%s: %s (at byte %zu of the event)",
	    r->kind == BINLOG_ROWS_INSERT ? "write_rows" :
	    r->kind == BINLOG_ROWS_UPDATE ? "update_rows" : "delete_rows",
	    r->table->db, r->table->name, why,
	    r->data_offset + cursor_offset(&c));
	free(why);
	r->pos = r->data_len;
	return (-1);
}
