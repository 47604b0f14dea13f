/*
 * "ferry binlog dump" output.
 *
 * JSON (docs/CLI.md): one object per event, one per line, in stream order,
 * with "file", "pos", "next_pos", "server_id", "timestamp", "type" and the
 * fields of the type.  Row events carry "rows", a list of {"before": ...},
 * {"after": ...} or both, columns keyed by name or "@N", values as
 * value_render_json() writes them; a column absent from a partial image is
 * left out.  Events from inside a compressed transaction payload follow the
 * payload event, with "in_payload": true.
 *
 * Text: one line per event ("#pos type details"), then one line per row
 * image, for people.
 */
#include "config.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/binlog_print.h"
#include "common/buf.h"
#include "common/bytes.h"
#include "common/json.h"
#include "common/xmalloc.h"
#include "engine/binlog.h"
#include "schema/charset.h"
#include "schema/coltype.h"
#include "schema/mysql_json.h"
#include "schema/table.h"
#include "schema/value.h"

void
binlog_printer_init(struct binlog_printer *bp, enum binlog_print_format fmt)
{
	memset(bp, 0, sizeof *bp);
	bp->format = fmt;
	buf_init(&bp->out);
	buf_init(&bp->tmp);
}

void
binlog_printer_release(struct binlog_printer *bp)
{
	buf_release(&bp->out);
	buf_release(&bp->tmp);
}

static void
bp_key(struct binlog_printer *bp, const char *key)
{
	if (bp->format == BINLOG_PRINT_JSON) {
		buf_addc(&bp->out, ',');
		json_add_key(&bp->out, key);
	} else
		buf_printf(&bp->out, " %s=", key);
}

static void
bp_str(struct binlog_printer *bp, const char *key, const void *s, size_t len)
{
	bp_key(bp, key);
	json_add_string(&bp->out, s, len);
}

static void
bp_cstr(struct binlog_printer *bp, const char *key, const char *s)
{
	bp_str(bp, key, s, strlen(s));
}

static void
bp_u64(struct binlog_printer *bp, const char *key, uint64_t v)
{
	bp_key(bp, key);
	buf_printf(&bp->out, "%" PRIu64, v);
}

static void
bp_i64(struct binlog_printer *bp, const char *key, int64_t v)
{
	bp_key(bp, key);
	buf_printf(&bp->out, "%" PRId64, v);
}

/* SQL text as a JSON string: UTF-8 as it is, anything else replaced. */
static void
bp_sql(struct binlog_printer *bp, const char *key, const uint8_t *p,
    size_t len)
{
	buf_reset(&bp->tmp);
	charset_to_utf8("utf8mb4", p, len, &bp->tmp);
	bp_str(bp, key, bp->tmp.data, bp->tmp.len);
}

/* One column value; JSON diffs are applied to the before image if any. */
static int
bp_value(struct binlog_printer *bp, const struct column *col,
    const struct value *v, const struct value *before, char **cause)
{
	if (v->kind == VALUE_JSON_DIFF && before != NULL &&
	    before->kind == VALUE_JSON)
		return (mysql_json_apply_diff(before->bytes.p,
		    before->bytes.len, v->bytes.p, v->bytes.len, &bp->out,
		    cause));
	return (value_render_json(v, col, &bp->out, cause));
}

static int
bp_image(struct binlog_printer *bp, const struct table_def *t,
    const struct value *values, const struct value *before, char **cause)
{
	uint32_t	 i;
	int		 first = 1;
	char		 name[16];

	buf_addc(&bp->out, '{');
	for (i = 0; i < t->ncols; i++) {
		const struct column	*col = &t->cols[i];

		if (values[i].kind == VALUE_ABSENT)
			continue;
		if (!first)
			buf_addc(&bp->out, ',');
		first = 0;
		if (col->name != NULL)
			json_add_key(&bp->out, col->name);
		else {
			snprintf(name, sizeof name, "@%u", i + 1);
			json_add_key(&bp->out, name);
		}
		if (bp_value(bp, col, &values[i], before != NULL ?
		    &before[i] : NULL, cause) != 0) {
			char	*why = *cause;

			*cause = xasprintf("%s.%s column %s: %s", t->db,
			    t->name, col->name != NULL ? col->name : name, why);
			free(why);
			return (-1);
		}
	}
	buf_addc(&bp->out, '}');
	return (0);
}

static int
bp_rows(struct binlog_printer *bp, struct binlog_decoder *dec,
    struct binlog_event *ev, FILE *fp, char **cause)
{
	struct binlog_rows	*r = &ev->rows;
	struct binlog_row	 row;
	int			 rc, n = 0;

	if (r->table == NULL) {
		if (bp->format == BINLOG_PRINT_JSON)
			buf_adds(&bp->out, ",\"rows\":[]");
		return (0);
	}
	bp_cstr(bp, "db", r->table->db);
	bp_cstr(bp, "table", r->table->name);
	bp_u64(bp, "table_id", r->table_id);
	if (r->compressed) {
		bp_key(bp, "compressed");
		buf_adds(&bp->out, "true");
	}
	if (bp->format == BINLOG_PRINT_JSON)
		buf_adds(&bp->out, ",\"rows\":[");
	while ((rc = binlog_rows_next(dec, r, &row, cause)) == 1) {
		if (bp->format == BINLOG_PRINT_JSON) {
			if (n > 0)
				buf_addc(&bp->out, ',');
			buf_addc(&bp->out, '{');
		} else
			buf_adds(&bp->out, "\n   ");
		if (row.before != NULL) {
			if (bp->format == BINLOG_PRINT_JSON)
				json_add_key(&bp->out, "before");
			else
				buf_adds(&bp->out, " before=");
			if (bp_image(bp, r->table, row.before, NULL,
			    cause) != 0)
				return (-1);
		}
		if (row.after != NULL) {
			if (bp->format == BINLOG_PRINT_JSON) {
				if (row.before != NULL)
					buf_addc(&bp->out, ',');
				json_add_key(&bp->out, "after");
			} else
				buf_adds(&bp->out, " after=");
			if (bp_image(bp, r->table, row.after, row.before,
			    cause) != 0)
				return (-1);
		}
		if (bp->format == BINLOG_PRINT_JSON)
			buf_addc(&bp->out, '}');
		n++;
		/* Large events: do not hold every row in memory. */
		if (bp->out.len > (1 << 20)) {
			fwrite(bp->out.data, 1, bp->out.len, fp);
			buf_reset(&bp->out);
		}
	}
	if (rc < 0)
		return (-1);
	if (bp->format == BINLOG_PRINT_JSON)
		buf_addc(&bp->out, ']');
	return (0);
}

static void
bp_table_map(struct binlog_printer *bp, const struct table_def *t,
    uint64_t id)
{
	uint32_t	 i;
	const char	*cs;

	bp_cstr(bp, "db", t->db);
	bp_cstr(bp, "table", t->name);
	bp_u64(bp, "table_id", id);
	if (bp->format != BINLOG_PRINT_JSON) {
		bp_u64(bp, "columns", t->ncols);
		return;
	}
	buf_adds(&bp->out, ",\"columns\":[");
	for (i = 0; i < t->ncols; i++) {
		const struct column	*col = &t->cols[i];

		if (i > 0)
			buf_addc(&bp->out, ',');
		buf_addc(&bp->out, '{');
		json_add_key(&bp->out, "name");
		if (col->name != NULL)
			json_add_cstring(&bp->out, col->name);
		else
			buf_adds(&bp->out, "null");
		buf_adds(&bp->out, ",\"type\":");
		json_add_cstring(&bp->out, coltype_name(col->type));
		if (col->flags & COLUMN_UNSIGNED)
			buf_adds(&bp->out, ",\"unsigned\":true");
		if (col->flags & COLUMN_NULLABLE)
			buf_adds(&bp->out, ",\"nullable\":true");
		if (col->flags & COLUMN_PRIMARY)
			buf_adds(&bp->out, ",\"primary_key\":true");
		if (col->flags & COLUMN_INVISIBLE)
			buf_adds(&bp->out, ",\"visible\":false");
		if (col->collation != 0 &&
		    (cs = charset_name(col->collation)) != NULL) {
			buf_adds(&bp->out, ",\"charset\":");
			json_add_cstring(&bp->out, cs);
		}
		if (col->nlabels > 0) {
			uint32_t	 k;

			buf_adds(&bp->out, ",\"labels\":[");
			for (k = 0; k < col->nlabels; k++) {
				if (k > 0)
					buf_addc(&bp->out, ',');
				json_add_cstring(&bp->out, col->labels[k]);
			}
			buf_addc(&bp->out, ']');
		}
		if (col->vector_dim != 0)
			buf_printf(&bp->out, ",\"dimensions\":%" PRIu32,
			    col->vector_dim);
		buf_addc(&bp->out, '}');
	}
	buf_addc(&bp->out, ']');
}

static void
bp_user_var(struct binlog_printer *bp, const struct binlog_event *ev)
{
	char		*why = NULL;
	uint64_t	 u;
	double		 d;

	bp_str(bp, "name", ev->user_var.name, ev->user_var.name_len);
	bp_key(bp, "value");
	if (ev->user_var.is_null) {
		buf_adds(&bp->out, "null");
		return;
	}
	switch (ev->user_var.type) {
	case 1:		/* REAL_RESULT */
		if (ev->user_var.value_len != 8)
			break;
		u = le64(ev->user_var.value);
		memcpy(&d, &u, sizeof d);
		json_add_double(&bp->out, d);
		return;
	case 2:		/* INT_RESULT */
		if (ev->user_var.value_len != 8)
			break;
		if (ev->user_var.flags & 1)
			buf_printf(&bp->out, "%" PRIu64,
			    le64(ev->user_var.value));
		else
			buf_printf(&bp->out, "%" PRId64,
			    (int64_t)le64(ev->user_var.value));
		return;
	case 4:		/* DECIMAL_RESULT: precision, scale, binary */
		if (ev->user_var.value_len < 2)
			break;
		buf_reset(&bp->tmp);
		if (value_decimal_text(ev->user_var.value + 2,
		    ev->user_var.value_len - 2, ev->user_var.value[0],
		    ev->user_var.value[1], &bp->tmp, &why) == 0) {
			json_add_string(&bp->out, bp->tmp.data, bp->tmp.len);
			return;
		}
		free(why);
		break;
	case 0:		/* STRING_RESULT */
		buf_reset(&bp->tmp);
		charset_to_utf8(charset_name(ev->user_var.charset),
		    ev->user_var.value, ev->user_var.value_len, &bp->tmp);
		json_add_string(&bp->out, bp->tmp.data, bp->tmp.len);
		return;
	}
	json_add_hex(&bp->out, ev->user_var.value, ev->user_var.value_len);
}

/* The type-specific fields of ev. */
static int
bp_body(struct binlog_printer *bp, struct binlog_decoder *dec,
    struct binlog_event *ev, FILE *fp, char **cause)
{
	if (binlog_is_rows(ev->h.type))
		return (bp_rows(bp, dec, ev, fp, cause));
	switch (ev->h.type) {
	case BINLOG_FORMAT_DESCRIPTION:
		bp_cstr(bp, "server_version", ev->fde.server_version);
		bp_u64(bp, "binlog_version", ev->fde.binlog_version);
		bp_cstr(bp, "checksum", ev->fde.checksum_alg == 1 ? "crc32" :
		    ev->fde.checksum_alg == 0 ? "none" : "unknown");
		break;
	case BINLOG_ROTATE:
		bp_str(bp, "next_file", ev->rotate.name, ev->rotate.name_len);
		bp_u64(bp, "next_file_pos", ev->rotate.pos);
		break;
	case BINLOG_QUERY:
	case BINLOG_EXECUTE_LOAD_QUERY:
	case BINLOG_MARIA_QUERY_COMPRESSED:
		bp_str(bp, "db", ev->query.db, ev->query.db_len);
		bp_u64(bp, "thread_id", ev->query.thread_id);
		bp_u64(bp, "exec_time", ev->query.exec_time);
		bp_u64(bp, "error_code", ev->query.error_code);
		if (ev->h.type == BINLOG_EXECUTE_LOAD_QUERY)
			bp_u64(bp, "file_id", ev->query.file_id);
		if (ev->query.compressed) {
			bp_key(bp, "compressed");
			buf_adds(&bp->out, "true");
		}
		bp_sql(bp, "sql", ev->query.sql, ev->query.sql_len);
		break;
	case BINLOG_XID:
		bp_u64(bp, "xid", ev->xid);
		break;
	case BINLOG_GTID:
	case BINLOG_GTID_TAGGED:
	case BINLOG_MARIA_GTID:
		buf_reset(&bp->tmp);
		binlog_gtid_text(ev, &bp->tmp);
		bp_str(bp, "gtid", bp->tmp.data, bp->tmp.len);
		__attribute__((fallthrough));
	case BINLOG_ANONYMOUS_GTID:
		if (ev->gtid.mariadb) {
			if (ev->gtid.flags2 & MARIA_GTID_STANDALONE)
				bp_cstr(bp, "flags", "standalone");
			else if (ev->gtid.flags2 & MARIA_GTID_DDL)
				bp_cstr(bp, "flags", "ddl");
			if (ev->gtid.flags2 & MARIA_GTID_GROUP_COMMIT)
				bp_u64(bp, "commit_id", ev->gtid.commit_id);
		} else if (ev->gtid.have_lt) {
			bp_i64(bp, "last_committed", ev->gtid.last_committed);
			bp_i64(bp, "sequence_number",
			    ev->gtid.sequence_number);
		}
		break;
	case BINLOG_PREVIOUS_GTIDS:
	case BINLOG_MARIA_GTID_LIST:
		buf_reset(&bp->tmp);
		if (binlog_gtid_set_text(ev, &bp->tmp, cause) != 0)
			return (-1);
		bp_str(bp, "gtids", bp->tmp.data, bp->tmp.len);
		break;
	case BINLOG_TABLE_MAP:
		bp_table_map(bp, ev->table_map, ev->table_map->table_id);
		break;
	case BINLOG_ROWS_QUERY:
	case BINLOG_MARIA_ANNOTATE_ROWS:
		bp_sql(bp, "sql", ev->text.text, ev->text.len);
		break;
	case BINLOG_INTVAR:
		bp_cstr(bp, "var", ev->intvar.type == 1 ? "last_insert_id" :
		    ev->intvar.type == 2 ? "insert_id" : "invalid");
		bp_u64(bp, "value", ev->intvar.value);
		break;
	case BINLOG_RAND:
		bp_u64(bp, "seed1", ev->rand.seed1);
		bp_u64(bp, "seed2", ev->rand.seed2);
		break;
	case BINLOG_USER_VAR:
		bp_user_var(bp, ev);
		break;
	case BINLOG_MARIA_BINLOG_CHECKPOINT:
		bp_str(bp, "binlog_file", ev->checkpoint.name,
		    ev->checkpoint.len);
		break;
	case BINLOG_INCIDENT:
		bp_u64(bp, "incident", ev->incident.type);
		bp_sql(bp, "message", ev->incident.msg != NULL ?
		    ev->incident.msg : (const uint8_t *)"", ev->incident.len);
		break;
	case BINLOG_BEGIN_LOAD_QUERY:
	case BINLOG_APPEND_BLOCK:
	case BINLOG_DELETE_FILE:
		bp_u64(bp, "file_id", ev->block.file_id);
		if (ev->h.type != BINLOG_DELETE_FILE)
			bp_u64(bp, "block_len", ev->block.len);
		break;
	case BINLOG_XA_PREPARE:
		bp_key(bp, "one_phase");
		buf_adds(&bp->out, ev->xa.one_phase ? "true" : "false");
		bp_i64(bp, "format_id", ev->xa.format_id);
		bp_str(bp, "gtrid", ev->xa.gtrid, ev->xa.gtrid_len);
		bp_str(bp, "bqual", ev->xa.bqual, ev->xa.bqual_len);
		break;
	case BINLOG_TRANSACTION_PAYLOAD:
		bp_cstr(bp, "compression", ev->payload.compression == 0 ?
		    "zstd" : ev->payload.compression == 255 ? "none" :
		    "unknown");
		bp_u64(bp, "payload_size", ev->payload.size);
		bp_u64(bp, "uncompressed_size", ev->payload.uncompressed);
		break;
	}
	return (0);
}

/*
 * Print ev (and, for rows events, its rows, which this consumes) to fp.
 * Returns -1 with *cause for values that do not decode; nothing of the
 * event is printed then.
 */
int
binlog_print_event(struct binlog_printer *bp, struct binlog_decoder *dec,
    struct binlog_event *ev, FILE *fp, char **cause)
{
	const char	*type = binlog_type_name(ev->h.type);
	uint64_t	 next;
	struct tm	 tm;
	time_t		 t;
	char		 stamp[32];

	if (ev->h.type == BINLOG_TRANSACTION_PAYLOAD)
		bp->payload_end = ev->offset + ev->h.size;
	next = ev->in_payload ? bp->payload_end : ev->offset + ev->h.size;
	buf_reset(&bp->out);
	if (bp->format == BINLOG_PRINT_JSON) {
		buf_adds(&bp->out, "{\"file\":");
		json_add_cstring(&bp->out, bp->file != NULL ? bp->file : "");
		buf_printf(&bp->out, ",\"pos\":%" PRIu64 ",\"next_pos\":%"
		    PRIu64 ",\"server_id\":%" PRIu32 ",\"timestamp\":%" PRIu32
		    ",\"type\":", ev->offset, next, ev->h.server_id,
		    ev->h.timestamp);
		json_add_cstring(&bp->out, type != NULL ? type : "unknown");
		if (ev->in_payload)
			buf_adds(&bp->out, ",\"in_payload\":true");
	} else {
		t = (time_t)ev->h.timestamp;
		gmtime_r(&t, &tm);
		strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
		buf_printf(&bp->out, "#%" PRIu64 "%s %s server %" PRIu32
		    " %s", ev->offset, ev->in_payload ? "+" : "", stamp,
		    ev->h.server_id, type != NULL ? type : "unknown");
	}
	if (bp_body(bp, dec, ev, fp, cause) != 0)
		return (-1);
	buf_adds(&bp->out, bp->format == BINLOG_PRINT_JSON ? "}\n" : "\n");
	fwrite(bp->out.data, 1, bp->out.len, fp);
	return (0);
}
