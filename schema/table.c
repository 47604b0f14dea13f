/*
 * Table definitions.
 *
 * table_column_init() turns a TABLE_MAP column type and its metadata bytes
 * into a column whose fields need no more decoding per row: "length" is the
 * maximum byte length of CHAR/BINARY (1- or 2-byte length prefix decided
 * from it), the maximum byte length of VARCHAR, the byte count of a BLOB's
 * length prefix (1-4), the bit count of BIT, and the storage size of ENUM
 * (1-2) and SET (1-8).  Bad metadata is an error here, once per table, not a
 * surprise per row.
 */
#include "config.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"
#include "schema/coltype.h"
#include "schema/table.h"

/*
 * A new definition of ncols columns.  Its serial is unique for the life of
 * the process, so that whatever caches by definition (an encoder's "fields"
 * bytes) is never fooled by an address reused for another table.
 */
struct table_def *
table_def_new(uint32_t ncols)
{
	static atomic_uint_fast64_t	 serials;
	struct table_def		*t;

	t = xcalloc(1, sizeof *t);
	t->serial = atomic_fetch_add(&serials, 1) + 1;
	t->ncols = ncols;
	t->cols = xcalloc(ncols, sizeof *t->cols);
	return (t);
}

void
table_def_free(struct table_def *t)
{
	uint32_t	 i, j;

	if (t == NULL)
		return;
	for (i = 0; i < t->ncols; i++) {
		free(t->cols[i].name);
		for (j = 0; j < t->cols[i].nlabels; j++)
			free(t->cols[i].labels[j]);
		free(t->cols[i].labels);
	}
	free(t->cols);
	free(t->pk);
	table_def_set_uks(t, NULL, 0);
	free(t->db);
	free(t->name);
	free(t);
}

/* Replace t's unique keys with a copy of the n keys k. */
void
table_def_set_uks(struct table_def *t, const struct table_key *k, uint32_t n)
{
	uint32_t	i;

	for (i = 0; i < t->nuk; i++) {
		free(t->uks[i].name);
		free(t->uks[i].cols);
	}
	free(t->uks);
	t->uks = NULL;
	t->nuk = 0;
	if (n == 0)
		return;
	t->uks = xcalloc(n, sizeof *t->uks);
	for (i = 0; i < n; i++) {
		t->uks[i].name = xstrdup(k[i].name);
		t->uks[i].cols = xcalloc(k[i].ncols, sizeof *k[i].cols);
		memcpy(t->uks[i].cols, k[i].cols, k[i].ncols *
		    sizeof *k[i].cols);
		t->uks[i].ncols = k[i].ncols;
	}
	t->nuk = n;
}

/*
 * Set up col from a TABLE_MAP type byte and its metadata (meta points at
 * coltype_meta_len(type) bytes).  Returns 0, or -1 with *cause when the
 * metadata is impossible for the type.
 */
int
table_column_init(struct column *col, uint8_t type, const uint8_t *meta,
    char **cause)
{
	unsigned int	 real, len;

	col->binlog_type = type;
	col->type = type;
	col->meta = 0;
	switch (type) {
	case COLTYPE_FLOAT:
	case COLTYPE_DOUBLE:
		col->meta = meta[0];
		break;
	case COLTYPE_BLOB:
	case COLTYPE_TINY_BLOB:
	case COLTYPE_MEDIUM_BLOB:
	case COLTYPE_LONG_BLOB:
	case COLTYPE_GEOMETRY:
	case COLTYPE_JSON:
	case COLTYPE_VECTOR:
		col->meta = meta[0];
		col->length = meta[0];
		if (col->length < 1 || col->length > 4) {
			*cause = xasprintf("%s column with a %u-byte length "
			    "prefix", coltype_name(type), col->length);
			return (-1);
		}
		break;
	case COLTYPE_TIMESTAMP2:
	case COLTYPE_DATETIME2:
	case COLTYPE_TIME2:
		col->meta = meta[0];
		col->fsp = meta[0];
		if (col->fsp > 6) {
			*cause = xasprintf("%s column with %u fractional "
			    "digits", coltype_name(type), col->fsp);
			return (-1);
		}
		break;
	case COLTYPE_VARCHAR:
	case COLTYPE_VAR_STRING:
		col->meta = (uint16_t)(meta[0] | (meta[1] << 8));
		col->length = col->meta;
		break;
	case COLTYPE_NEWDECIMAL:
		col->meta = (uint16_t)(meta[0] << 8 | meta[1]);
		col->precision = meta[0];
		col->scale = meta[1];
		if (col->precision < 1 || col->precision > 65 ||
		    col->scale > 30 || col->scale > col->precision) {
			*cause = xasprintf("DECIMAL(%u,%u) is impossible",
			    col->precision, col->scale);
			return (-1);
		}
		break;
	case COLTYPE_BIT:
		/* meta[0]: bits beyond whole bytes, meta[1]: whole bytes */
		col->meta = (uint16_t)(meta[1] << 8 | meta[0]);
		col->length = meta[1] * 8u + meta[0];
		if (meta[0] > 7 || col->length < 1 || col->length > 64) {
			*cause = xasprintf("BIT column of %u bytes and %u bits",
			    meta[1], meta[0]);
			return (-1);
		}
		break;
	case COLTYPE_STRING:
	case COLTYPE_ENUM:
	case COLTYPE_SET:
		/*
		 * Byte 0 is the real type, byte 1 the low byte of the length;
		 * CHAR columns longer than 255 bytes keep two more length bits
		 * in bits 4-5 of byte 0, inverted.
		 */
		col->meta = (uint16_t)(meta[0] << 8 | meta[1]);
		real = meta[0];
		len = meta[1];
		if ((real & 0x30) != 0x30) {
			len |= ((real & 0x30) ^ 0x30) << 4;
			real |= 0x30;
		}
		switch (real) {
		case COLTYPE_ENUM:
			col->type = COLTYPE_ENUM;
			if (len != 1 && len != 2) {
				*cause = xasprintf("ENUM column of %u bytes",
				    len);
				return (-1);
			}
			break;
		case COLTYPE_SET:
			col->type = COLTYPE_SET;
			if (len < 1 || len > 8) {
				*cause = xasprintf("SET column of %u bytes",
				    len);
				return (-1);
			}
			break;
		case COLTYPE_STRING:
		case COLTYPE_VAR_STRING:
			col->type = COLTYPE_STRING;
			break;
		default:
			*cause = xasprintf("CHAR column with real type %u",
			    real);
			return (-1);
		}
		col->length = len;
		break;
	case COLTYPE_DECIMAL:
	case COLTYPE_TINY:
	case COLTYPE_SHORT:
	case COLTYPE_LONG:
	case COLTYPE_NULL:
	case COLTYPE_TIMESTAMP:
	case COLTYPE_LONGLONG:
	case COLTYPE_INT24:
	case COLTYPE_DATE:
	case COLTYPE_TIME:
	case COLTYPE_DATETIME:
	case COLTYPE_YEAR:
	case COLTYPE_NEWDATE:
		break;
	default:
		*cause = xasprintf("unknown column type %u", type);
		return (-1);
	}
	return (0);
}
