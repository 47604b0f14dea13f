/*
 * Binlog event headers and bodies (all but TABLE_MAP and rows events, which
 * need the decoder's table cache: binlog_decoder.c, binlog_rows.c).
 *
 * Layouts are those of the v4 binlog format as MySQL's and MariaDB's
 * sources document them.  Post-header lengths come from the format
 * description event in force, never from constants, because they changed
 * between versions (a 4-byte table id in early 5.1, the MariaDB GTID
 * event's size).  Every field is read through a cursor that refuses to go
 * past the body: a short or inconsistent event is an error naming the
 * field.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/bytes.h"
#include "common/xmalloc.h"
#include "engine/binlog.h"
#include "engine/binlog_int.h"

const char *
binlog_type_name(unsigned int t)
{
	switch (t) {
	case BINLOG_START_V3:			return ("start_v3");
	case BINLOG_QUERY:			return ("query");
	case BINLOG_STOP:			return ("stop");
	case BINLOG_ROTATE:			return ("rotate");
	case BINLOG_INTVAR:			return ("intvar");
	case BINLOG_LOAD:			return ("load");
	case BINLOG_SLAVE:			return ("slave");
	case BINLOG_CREATE_FILE:		return ("create_file");
	case BINLOG_APPEND_BLOCK:		return ("append_block");
	case BINLOG_EXEC_LOAD:			return ("exec_load");
	case BINLOG_DELETE_FILE:		return ("delete_file");
	case BINLOG_NEW_LOAD:			return ("new_load");
	case BINLOG_RAND:			return ("rand");
	case BINLOG_USER_VAR:			return ("user_var");
	case BINLOG_FORMAT_DESCRIPTION:		return ("format_description");
	case BINLOG_XID:			return ("xid");
	case BINLOG_BEGIN_LOAD_QUERY:		return ("begin_load_query");
	case BINLOG_EXECUTE_LOAD_QUERY:		return ("execute_load_query");
	case BINLOG_TABLE_MAP:			return ("table_map");
	case BINLOG_PRE_GA_WRITE_ROWS:		return ("pre_ga_write_rows");
	case BINLOG_PRE_GA_UPDATE_ROWS:		return ("pre_ga_update_rows");
	case BINLOG_PRE_GA_DELETE_ROWS:		return ("pre_ga_delete_rows");
	case BINLOG_WRITE_ROWS_V1:
	case BINLOG_WRITE_ROWS:
	case BINLOG_MARIA_WRITE_ROWS_COMPRESSED_V1:
	case BINLOG_MARIA_WRITE_ROWS_COMPRESSED:	return ("write_rows");
	case BINLOG_UPDATE_ROWS_V1:
	case BINLOG_UPDATE_ROWS:
	case BINLOG_MARIA_UPDATE_ROWS_COMPRESSED_V1:
	case BINLOG_MARIA_UPDATE_ROWS_COMPRESSED:	return ("update_rows");
	case BINLOG_DELETE_ROWS_V1:
	case BINLOG_DELETE_ROWS:
	case BINLOG_MARIA_DELETE_ROWS_COMPRESSED_V1:
	case BINLOG_MARIA_DELETE_ROWS_COMPRESSED:	return ("delete_rows");
	case BINLOG_INCIDENT:			return ("incident");
	case BINLOG_HEARTBEAT:			return ("heartbeat");
	case BINLOG_IGNORABLE:			return ("ignorable");
	case BINLOG_ROWS_QUERY:			return ("rows_query");
	case BINLOG_GTID:			return ("gtid");
	case BINLOG_ANONYMOUS_GTID:		return ("anonymous_gtid");
	case BINLOG_PREVIOUS_GTIDS:		return ("previous_gtids");
	case BINLOG_TRANSACTION_CONTEXT:	return ("transaction_context");
	case BINLOG_VIEW_CHANGE:		return ("view_change");
	case BINLOG_XA_PREPARE:			return ("xa_prepare");
	case BINLOG_PARTIAL_UPDATE_ROWS:	return ("partial_update_rows");
	case BINLOG_TRANSACTION_PAYLOAD:	return ("transaction_payload");
	case BINLOG_HEARTBEAT_V2:		return ("heartbeat");
	case BINLOG_GTID_TAGGED:		return ("gtid");
	case BINLOG_MARIA_ANNOTATE_ROWS:	return ("annotate_rows");
	case BINLOG_MARIA_BINLOG_CHECKPOINT:	return ("binlog_checkpoint");
	case BINLOG_MARIA_GTID:			return ("gtid");
	case BINLOG_MARIA_GTID_LIST:		return ("gtid_list");
	case BINLOG_MARIA_START_ENCRYPTION:	return ("start_encryption");
	case BINLOG_MARIA_QUERY_COMPRESSED:	return ("query");
	}
	return (NULL);
}

/* Parse the 19-byte common header; -1 if p is too short. */
int
binlog_header_parse(const uint8_t *p, size_t len, struct binlog_header *h)
{
	if (len < BINLOG_HEADER_LEN)
		return (-1);
	h->timestamp = le32(p);
	h->type = p[4];
	h->server_id = le32(p + 5);
	h->size = le32(p + 9);
	h->log_pos = le32(p + 13);
	h->flags = le16(p + 17);
	return (0);
}

/* "10.11.6-MariaDB-log" -> {10, 11, 6}; missing parts are 0. */
static void
binlog_parse_version(const char *s, unsigned int v[3])
{
	int	 i;

	v[0] = v[1] = v[2] = 0;
	for (i = 0; i < 3; i++) {
		while (*s >= '0' && *s <= '9')
			v[i] = v[i] * 10 + (unsigned int)(*s++ - '0');
		if (*s != '.')
			break;
		s++;
	}
}

static int
binlog_version_ge(const unsigned int v[3], unsigned int a, unsigned int b,
    unsigned int c)
{
	if (v[0] != a)
		return (v[0] > a);
	if (v[1] != b)
		return (v[1] > b);
	return (v[2] >= c);
}

/*
 * Parse a FORMAT_DESCRIPTION body (everything after the header, checksum
 * included if any: whether there is one is what this decides).  Servers
 * from MySQL 5.6.1 and MariaDB 5.3 end the body with the checksum algorithm
 * byte and 4 bytes of CRC; older ones do not.
 */
int
binlog_fde_parse(const uint8_t *body, size_t len, struct binlog_fde *fde,
    char **cause)
{
	size_t	 n;

	memset(fde, 0, sizeof *fde);
	if (len < 2 + 50 + 4 + 1) {
		*cause = xasprintf("format description event of %zu bytes is "
		    "too short", len);
		return (-1);
	}
	fde->binlog_version = le16(body);
	memcpy(fde->server_version, body + 2, 50);
	fde->server_version[50] = '\0';
	fde->created = le32(body + 52);
	fde->header_len = body[56];
	if (fde->binlog_version != 4) {
		*cause = xasprintf("binlog format version %u is not supported "
		    "(only v4, MySQL 5.0 and later)", fde->binlog_version);
		return (-1);
	}
	if (fde->header_len < BINLOG_HEADER_LEN) {
		*cause = xasprintf("format description gives a header length "
		    "of %u", fde->header_len);
		return (-1);
	}
	fde->mariadb = strstr(fde->server_version, "MariaDB") != NULL;
	binlog_parse_version(fde->server_version, fde->version);
	n = len - 57;
	fde->checksum_alg = 255;
	if (fde->mariadb ? binlog_version_ge(fde->version, 5, 3, 0) :
	    binlog_version_ge(fde->version, 5, 6, 1)) {
		if (n < 5) {
			*cause = xstrdup("format description event lacks its "
			    "checksum algorithm");
			return (-1);
		}
		n -= 5;
		fde->checksum_alg = body[len - 5];
		if (fde->checksum_alg != 0 && fde->checksum_alg != 1) {
			*cause = xasprintf("unknown checksum algorithm %u",
			    fde->checksum_alg);
			return (-1);
		}
	}
	if (n > sizeof fde->post_len)
		n = sizeof fde->post_len;
	fde->nposts = (uint8_t)(n > 255 ? 255 : n);
	memcpy(fde->post_len, body + 57, n);
	return (0);
}

/* The post-header length of type t, or dflt when the FDE does not say. */
size_t
binlog_post_len(const struct binlog_fde *fde, unsigned int t, size_t dflt)
{
	if (t >= 1 && t <= fde->nposts)
		return (fde->post_len[t - 1]);
	return (dflt);
}

static int
binlog_short(const char *what, char **cause)
{
	*cause = xasprintf("%s event is truncated", what);
	return (-1);
}

/* Query status variables; stops at an unknown code, as the servers do. */
static int
binlog_query_status(struct binlog_query *q, const uint8_t *p, size_t len)
{
	struct cursor	 c;
	uint8_t		 code, n;
	uint16_t	 v16;

	cursor_init(&c, p, len);
	while (cursor_left(&c) > 0) {
		if (cursor_u8(&c, &code) != 0)
			return (-1);
		switch (code) {
		case 0:		/* Q_FLAGS2_CODE */
			if (cursor_u32(&c, &q->flags2) != 0)
				return (-1);
			q->have_flags2 = 1;
			break;
		case 1:		/* Q_SQL_MODE_CODE */
			if (cursor_u64(&c, &q->sql_mode) != 0)
				return (-1);
			q->have_sql_mode = 1;
			break;
		case 2:		/* Q_CATALOG_CODE: length, text, NUL */
			if (cursor_u8(&c, &n) != 0 || cursor_skip(&c,
			    (size_t)n + 1) != 0)
				return (-1);
			break;
		case 3:		/* Q_AUTO_INCREMENT */
			if (cursor_skip(&c, 4) != 0)
				return (-1);
			break;
		case 4:		/* Q_CHARSET_CODE */
			if (cursor_u16(&c, &q->charset_client) != 0 ||
			    cursor_u16(&c, &q->collation_connection) != 0 ||
			    cursor_u16(&c, &q->collation_server) != 0)
				return (-1);
			q->have_charset = 1;
			break;
		case 5:		/* Q_TIME_ZONE_CODE */
		case 6:		/* Q_CATALOG_NZ_CODE */
			if (cursor_u8(&c, &n) != 0 || cursor_skip(&c, n) != 0)
				return (-1);
			break;
		case 7:		/* Q_LC_TIME_NAMES_CODE */
		case 8:		/* Q_CHARSET_DATABASE_CODE */
		case 18:	/* Q_DEFAULT_COLLATION_FOR_UTF8MB4 */
			if (cursor_u16(&c, &v16) != 0)
				return (-1);
			break;
		case 9:		/* Q_TABLE_MAP_FOR_UPDATE_CODE */
		case 14:	/* Q_COMMIT_TS */
		case 17:	/* Q_DDL_LOGGED_WITH_XID */
		case 129:	/* MariaDB Q_XID */
			if (cursor_skip(&c, 8) != 0)
				return (-1);
			break;
		case 10:	/* Q_MASTER_DATA_WRITTEN_CODE */
			if (cursor_skip(&c, 4) != 0)
				return (-1);
			break;
		case 11:	/* Q_INVOKER: user, host */
			if (cursor_u8(&c, &n) != 0 || cursor_skip(&c, n) != 0 ||
			    cursor_u8(&c, &n) != 0 || cursor_skip(&c, n) != 0)
				return (-1);
			break;
		case 12: {	/* Q_UPDATED_DB_NAMES */
			uint8_t	 count, i;

			if (cursor_u8(&c, &count) != 0)
				return (-1);
			if (count == 254)	/* too many to list */
				break;
			for (i = 0; i < count; i++) {
				const uint8_t	*z = memchr(c.p, '\0',
				    cursor_left(&c));

				if (z == NULL)
					return (-1);
				c.p = z + 1;
			}
			break;
		}
		case 13:	/* Q_MICROSECONDS */
		case 128:	/* MariaDB Q_HRNOW */
			if (cursor_skip(&c, 3) != 0)
				return (-1);
			break;
		case 16:	/* Q_EXPLICIT_DEFAULTS_FOR_TIMESTAMP */
		case 19:	/* Q_SQL_REQUIRE_PRIMARY_KEY */
		case 20:	/* Q_DEFAULT_TABLE_ENCRYPTION */
		case 130:	/* MariaDB Q_GTID_FLAGS3 */
			if (cursor_skip(&c, 1) != 0)
				return (-1);
			break;
		default:
			/* Unknown: its length is unknown too; the rest is
			 * skipped, as the servers' own readers do. */
			return (0);
		}
	}
	return (0);
}

/*
 * QUERY, EXECUTE_LOAD_QUERY and MariaDB's QUERY_COMPRESSED.  The SQL text
 * of a compressed query is left compressed here; the decoder inflates it.
 */
static int
binlog_parse_query(const struct binlog_fde *fde, struct binlog_event *ev,
    char **cause)
{
	struct binlog_query	*q = &ev->query;
	struct cursor		 c;
	size_t			 post = binlog_post_len(fde, ev->h.type,
				    ev->h.type == BINLOG_EXECUTE_LOAD_QUERY ?
				    26 : 13);
	uint8_t			 db_len;
	uint16_t		 status_len = 0;
	const uint8_t		*status;

	memset(q, 0, sizeof *q);
	cursor_init(&c, ev->body, ev->body_len);
	if (post < 11 || cursor_left(&c) < post)
		return (binlog_short("query", cause));
	q->thread_id = le32(c.p);
	q->exec_time = le32(c.p + 4);
	db_len = c.p[8];
	q->error_code = le16(c.p + 9);
	if (post >= 13)
		status_len = le16(c.p + 11);
	if (ev->h.type == BINLOG_EXECUTE_LOAD_QUERY && post >= 17)
		q->file_id = le32(c.p + 13);
	c.p += post;
	if (cursor_bytes(&c, status_len, &status) != 0) {
		*cause = xasprintf("query event: %u bytes of status "
		    "variables, %zu left", status_len, cursor_left(&c));
		return (-1);
	}
	if (binlog_query_status(q, status, status_len) != 0) {
		*cause = xstrdup("query event: corrupt status variables");
		return (-1);
	}
	if (cursor_left(&c) < (size_t)db_len + 1) {
		*cause = xasprintf("query event: database name of %u bytes, "
		    "%zu left", db_len, cursor_left(&c));
		return (-1);
	}
	q->db = (const char *)c.p;
	q->db_len = db_len;
	c.p += db_len + 1;		/* the NUL */
	q->sql = c.p;
	q->sql_len = cursor_left(&c);
	q->compressed = ev->h.type == BINLOG_MARIA_QUERY_COMPRESSED;
	return (0);
}

/* MySQL 8.0.x "serialization" integers: the first byte's trailing ones say
 * how many bytes follow. */
static int
binlog_varlen(struct cursor *c, uint64_t *v)
{
	uint8_t		 b;
	int		 k = 0;
	uint64_t	 x = 0;

	if (cursor_u8(c, &b) != 0)
		return (-1);
	while (k < 8 && (b >> k) & 1)
		k++;
	if (cursor_left(c) < (size_t)k)
		return (-1);
	if (k == 8) {
		*v = le64(c->p);
		c->p += 8;
		return (0);
	}
	x = b;
	for (int i = 0; i < k; i++)
		x |= (uint64_t)c->p[i] << (8 * (i + 1));
	c->p += k;
	*v = x >> (k + 1);
	return (0);
}

static int64_t
binlog_zigzag(uint64_t v)
{
	return ((int64_t)(v >> 1) ^ -(int64_t)(v & 1));
}

/*
 * GTID_TAGGED (MySQL 8.4+): a serialized message: format version, size,
 * last non-ignorable field id, then (field id, value) pairs.  Fields: 0
 * flags, 1 uuid (16 varlen bytes), 2 gno (signed), 3 tag (string), 4
 * last_committed, 5 sequence_number (signed), 6 immediate commit
 * timestamp, 7 original commit timestamp, 8 transaction length, 9-11
 * server versions and ticket.
 */
static int
binlog_parse_gtid_tagged(struct binlog_event *ev, char **cause)
{
	struct binlog_gtid	*g = &ev->gtid;
	struct cursor		 c;
	uint64_t		 version, size, last_field, id, v, len;
	int			 i;

	cursor_init(&c, ev->body, ev->body_len);
	if (binlog_varlen(&c, &version) != 0 || binlog_varlen(&c, &size) != 0 ||
	    binlog_varlen(&c, &last_field) != 0)
		goto bad;
	if (size > ev->body_len)
		goto bad;
	c.end = c.base + size;
	while (cursor_left(&c) > 0) {
		if (binlog_varlen(&c, &id) != 0)
			goto bad;
		switch (id) {
		case 1:
			for (i = 0; i < 16; i++) {
				if (binlog_varlen(&c, &v) != 0 || v > 255)
					goto bad;
				g->uuid[i] = (uint8_t)v;
			}
			break;
		case 3:
			if (binlog_varlen(&c, &len) != 0 || len > 32 ||
			    cursor_left(&c) < len)
				goto bad;
			memcpy(g->tag, c.p, (size_t)len);
			g->tag[len] = '\0';
			c.p += len;
			break;
		default:
			if (id > 11)
				goto bad;
			if (binlog_varlen(&c, &v) != 0)
				goto bad;
			switch (id) {
			case 0: g->flags = (uint8_t)v; break;
			case 2: g->gno = binlog_zigzag(v); break;
			case 4: g->last_committed = binlog_zigzag(v);
				g->have_lt = 1; break;
			case 5: g->sequence_number = binlog_zigzag(v); break;
			case 6: g->commit_ts = v; break;
			case 8: g->transaction_length = v; break;
			}
			break;
		}
	}
	return (0);
bad:
	*cause = xstrdup("tagged GTID event is corrupt");
	return (-1);
}

/* MySQL GTID and ANONYMOUS_GTID: flags, sid, gno, then optional parts. */
static int
binlog_parse_gtid(struct binlog_event *ev, char **cause)
{
	struct binlog_gtid	*g = &ev->gtid;
	struct cursor		 c;
	uint8_t			 lt_type;
	uint64_t		 gno;

	cursor_init(&c, ev->body, ev->body_len);
	if (cursor_u8(&c, &g->flags) != 0 || cursor_left(&c) < 16 + 8)
		return (binlog_short("gtid", cause));
	memcpy(g->uuid, c.p, 16);
	c.p += 16;
	cursor_u64(&c, &gno);
	g->gno = (int64_t)gno;
	/* 5.7+: logical timestamps */
	if (cursor_u8(&c, &lt_type) == 0 && lt_type == 2 &&
	    cursor_left(&c) >= 16) {
		g->last_committed = (int64_t)le64(c.p);
		g->sequence_number = (int64_t)le64(c.p + 8);
		g->have_lt = 1;
		c.p += 16;
		/* 8.0: immediate (and maybe original) commit timestamp */
		if (cursor_left(&c) >= 7) {
			uint64_t ts = le48(c.p) | (uint64_t)c.p[6] << 48;

			g->commit_ts = ts & ~(1ULL << 55);
			c.p += 7;
			if ((ts >> 55) & 1)
				cursor_skip(&c, 7);
			if (cursor_lenenc(&c, &g->transaction_length) != 0)
				g->transaction_length = 0;
		}
	}
	return (0);
}

/* MariaDB GTID: seq_no, domain_id, flags2, and what the flags announce. */
static int
binlog_parse_maria_gtid(struct binlog_event *ev, char **cause)
{
	struct binlog_gtid	*g = &ev->gtid;
	struct cursor		 c;

	cursor_init(&c, ev->body, ev->body_len);
	if (cursor_u64(&c, &g->seq_no) != 0 ||
	    cursor_u32(&c, &g->domain_id) != 0 ||
	    cursor_u8(&c, &g->flags2) != 0)
		return (binlog_short("gtid", cause));
	g->mariadb = 1;
	if ((g->flags2 & MARIA_GTID_GROUP_COMMIT) &&
	    cursor_u64(&c, &g->commit_id) != 0)
		return (binlog_short("gtid", cause));
	return (0);
}

/*
 * Parse the body of ev (everything but FDE, TABLE_MAP and rows events,
 * which the decoder handles).  Unknown types are the caller's business.
 */
int
binlog_event_parse(const struct binlog_fde *fde, struct binlog_event *ev,
    char **cause)
{
	struct cursor	 c;
	size_t		 post;
	uint32_t	 v32;

	cursor_init(&c, ev->body, ev->body_len);
	switch (ev->h.type) {
	case BINLOG_QUERY:
	case BINLOG_EXECUTE_LOAD_QUERY:
	case BINLOG_MARIA_QUERY_COMPRESSED:
		return (binlog_parse_query(fde, ev, cause));
	case BINLOG_ROTATE:
		post = binlog_post_len(fde, ev->h.type, 8);
		if (post < 8 || cursor_left(&c) < post)
			return (binlog_short("rotate", cause));
		ev->rotate.pos = le64(c.p);
		c.p += post;
		ev->rotate.name = (const char *)c.p;
		ev->rotate.name_len = cursor_left(&c);
		return (0);
	case BINLOG_XID:
		if (cursor_u64(&c, &ev->xid) != 0)
			return (binlog_short("xid", cause));
		return (0);
	case BINLOG_INTVAR:
		if (cursor_u8(&c, &ev->intvar.type) != 0 ||
		    cursor_u64(&c, &ev->intvar.value) != 0)
			return (binlog_short("intvar", cause));
		return (0);
	case BINLOG_RAND:
		if (cursor_u64(&c, &ev->rand.seed1) != 0 ||
		    cursor_u64(&c, &ev->rand.seed2) != 0)
			return (binlog_short("rand", cause));
		return (0);
	case BINLOG_USER_VAR: {
		const uint8_t	*p;
		uint8_t		 isnull;

		memset(&ev->user_var, 0, sizeof ev->user_var);
		if (cursor_u32(&c, &v32) != 0 || cursor_bytes(&c, v32, &p) != 0 ||
		    cursor_u8(&c, &isnull) != 0)
			return (binlog_short("user_var", cause));
		ev->user_var.name = (const char *)p;
		ev->user_var.name_len = v32;
		ev->user_var.is_null = isnull != 0;
		if (isnull)
			return (0);
		if (cursor_u8(&c, &ev->user_var.type) != 0 ||
		    cursor_u32(&c, &ev->user_var.charset) != 0 ||
		    cursor_u32(&c, &v32) != 0 ||
		    cursor_bytes(&c, v32, &ev->user_var.value) != 0)
			return (binlog_short("user_var", cause));
		ev->user_var.value_len = v32;
		(void)cursor_u8(&c, &ev->user_var.flags);
		return (0);
	}
	case BINLOG_ROWS_QUERY:
		/* One length byte (which overflows past 255: ignored). */
		if (cursor_skip(&c, 1) != 0)
			return (binlog_short("rows_query", cause));
		ev->text.text = c.p;
		ev->text.len = cursor_left(&c);
		return (0);
	case BINLOG_MARIA_ANNOTATE_ROWS:
		ev->text.text = c.p;
		ev->text.len = cursor_left(&c);
		return (0);
	case BINLOG_GTID:
	case BINLOG_ANONYMOUS_GTID:
		memset(&ev->gtid, 0, sizeof ev->gtid);
		return (binlog_parse_gtid(ev, cause));
	case BINLOG_GTID_TAGGED:
		memset(&ev->gtid, 0, sizeof ev->gtid);
		return (binlog_parse_gtid_tagged(ev, cause));
	case BINLOG_MARIA_GTID:
		memset(&ev->gtid, 0, sizeof ev->gtid);
		return (binlog_parse_maria_gtid(ev, cause));
	case BINLOG_PREVIOUS_GTIDS:
	case BINLOG_MARIA_GTID_LIST:
		ev->gtid_set.data = c.p;
		ev->gtid_set.len = cursor_left(&c);
		/* Parsed (and checked) by formatting it once. */
		{
			struct buf	 tmp = BUF_INITIALIZER;
			int		 rc;

			rc = binlog_gtid_set_text(ev, &tmp, cause);
			buf_release(&tmp);
			return (rc);
		}
	case BINLOG_MARIA_BINLOG_CHECKPOINT:
		if (cursor_u32(&c, &v32) != 0 || cursor_left(&c) < v32)
			return (binlog_short("binlog_checkpoint", cause));
		ev->checkpoint.name = (const char *)c.p;
		ev->checkpoint.len = v32;
		return (0);
	case BINLOG_INCIDENT: {
		uint16_t	 t;
		uint8_t		 n;

		if (cursor_u16(&c, &t) != 0)
			return (binlog_short("incident", cause));
		ev->incident.type = t;
		ev->incident.msg = NULL;
		ev->incident.len = 0;
		if (cursor_u8(&c, &n) == 0) {
			if (cursor_left(&c) < n)
				return (binlog_short("incident", cause));
			ev->incident.msg = c.p;
			ev->incident.len = n;
		}
		return (0);
	}
	case BINLOG_BEGIN_LOAD_QUERY:
	case BINLOG_APPEND_BLOCK:
		post = binlog_post_len(fde, ev->h.type, 4);
		if (post < 4 || cursor_left(&c) < post)
			return (binlog_short(binlog_type_name(ev->h.type),
			    cause));
		ev->block.file_id = le32(c.p);
		c.p += post;
		ev->block.data = c.p;
		ev->block.len = cursor_left(&c);
		return (0);
	case BINLOG_DELETE_FILE:
		if (cursor_u32(&c, &ev->block.file_id) != 0)
			return (binlog_short("delete_file", cause));
		ev->block.data = NULL;
		ev->block.len = 0;
		return (0);
	case BINLOG_XA_PREPARE: {
		uint8_t		 one;
		uint32_t	 fmt, g, b;

		if (cursor_u8(&c, &one) != 0 || cursor_u32(&c, &fmt) != 0 ||
		    cursor_u32(&c, &g) != 0 || cursor_u32(&c, &b) != 0 ||
		    g > 64 || b > 64 || cursor_left(&c) < (size_t)g + b)
			return (binlog_short("xa_prepare", cause));
		ev->xa.one_phase = one;
		ev->xa.format_id = (int32_t)fmt;
		ev->xa.gtrid = c.p;
		ev->xa.gtrid_len = g;
		ev->xa.bqual = c.p + g;
		ev->xa.bqual_len = b;
		return (0);
	}
	case BINLOG_TRANSACTION_PAYLOAD: {
		uint64_t	 type, len, v;
		struct cursor	 f;

		memset(&ev->payload, 0, sizeof ev->payload);
		for (;;) {
			if (cursor_lenenc(&c, &type) != 0)
				return (binlog_short("transaction_payload",
				    cause));
			if (type == 0)		/* end of the header fields */
				break;
			if (cursor_lenenc(&c, &len) != 0 ||
			    len > cursor_left(&c))
				return (binlog_short("transaction_payload",
				    cause));
			cursor_init(&f, c.p, (size_t)len);
			c.p += len;
			if (cursor_lenenc(&f, &v) != 0) {
				*cause = xstrdup("transaction_payload: "
				    "corrupt header field");
				return (-1);
			}
			switch (type) {
			case 1: ev->payload.size = v; break;
			case 2: ev->payload.compression = (uint8_t)v; break;
			case 3: ev->payload.uncompressed = v; break;
			}
		}
		if (ev->payload.size != cursor_left(&c)) {
			*cause = xasprintf("transaction_payload: %" PRIu64
			    " bytes of payload announced, %zu present",
			    ev->payload.size, cursor_left(&c));
			return (-1);
		}
		ev->payload.payload = c.p;
		return (0);
	}
	case BINLOG_STOP:
	case BINLOG_HEARTBEAT:
	case BINLOG_HEARTBEAT_V2:
	case BINLOG_TRANSACTION_CONTEXT:
	case BINLOG_VIEW_CHANGE:
	case BINLOG_IGNORABLE:
		return (0);
	}
	*cause = xasprintf("%s event (type %u) is not supported",
	    binlog_type_name(ev->h.type) != NULL ?
	    binlog_type_name(ev->h.type) : "unknown", ev->h.type);
	return (-1);
}

/* A server UUID as MySQL writes it, lower case with dashes. */
void
binlog_uuid_text(const uint8_t *u, struct buf *out)
{
	buf_printf(out, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x%02x%02x%02x%02x", u[0], u[1], u[2], u[3], u[4], u[5],
	    u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
}

/*
 * The GTID of a gtid event as text: "uuid:gno", "uuid:tag:gno" or
 * MariaDB's "domain-server-seq".  Returns -1 for anonymous GTIDs.
 */
int
binlog_gtid_text(const struct binlog_event *ev, struct buf *out)
{
	const struct binlog_gtid	*g = &ev->gtid;

	switch (ev->h.type) {
	case BINLOG_MARIA_GTID:
		buf_printf(out, "%" PRIu32 "-%" PRIu32 "-%" PRIu64,
		    g->domain_id, ev->h.server_id, g->seq_no);
		return (0);
	case BINLOG_GTID:
	case BINLOG_GTID_TAGGED:
		binlog_uuid_text(g->uuid, out);
		if (g->tag[0] != '\0')
			buf_printf(out, ":%s", g->tag);
		buf_printf(out, ":%" PRId64, g->gno);
		return (0);
	}
	return (-1);
}

/*
 * The GTID set of a PREVIOUS_GTIDS (MySQL: "uuid:1-13:tag:1-2,uuid2:...")
 * or GTID_LIST event (MariaDB: "0-1-100,1-2-5").  Checks the encoding as it
 * goes; -1 with *cause when it is corrupt.
 *
 * MySQL's encoding: an 8-byte count of UUIDs (in the tagged format of 8.4+,
 * a format byte 1, the count in 6 bytes, and 1 again), then per UUID the
 * 16 bytes, in the tagged format a tag (varlen length + text), an 8-byte
 * count of intervals and the intervals as [start, end) pairs of 8 bytes.
 */
int
binlog_gtid_set_text(const struct binlog_event *ev, struct buf *out,
    char **cause)
{
	struct cursor	 c;
	uint64_t	 nsids, nint, start = 0, end = 0, i, j, tlen;
	uint32_t	 n, domain = 0, server = 0;
	uint64_t	 seq = 0;
	const uint8_t	*uuid, *prev = NULL;
	int		 tagged = 0;

	cursor_init(&c, ev->gtid_set.data, ev->gtid_set.len);
	if (ev->h.type == BINLOG_MARIA_GTID_LIST) {
		if (cursor_u32(&c, &n) != 0)
			goto bad;
		n &= 0x0fffffff;	/* the top 4 bits are flags */
		if ((uint64_t)n * 16 > cursor_left(&c))
			goto bad;
		for (i = 0; i < n; i++) {
			cursor_u32(&c, &domain);
			cursor_u32(&c, &server);
			cursor_u64(&c, &seq);
			buf_printf(out, "%s%" PRIu32 "-%" PRIu32 "-%" PRIu64,
			    i > 0 ? "," : "", domain, server, seq);
		}
		return (0);
	}
	if (cursor_left(&c) < 8)
		goto bad;
	if (c.p[0] == 1 && c.p[7] == 1) {
		tagged = 1;
		nsids = le48(c.p + 1);
	} else
		nsids = le64(c.p);
	c.p += 8;
	if (nsids > cursor_left(&c) / 16)
		goto bad;
	for (i = 0; i < nsids; i++) {
		if (cursor_bytes(&c, 16, &uuid) != 0)
			goto bad;
		if (prev == NULL || memcmp(prev, uuid, 16) != 0) {
			if (i > 0)
				buf_addc(out, ',');
			binlog_uuid_text(uuid, out);
		}
		prev = uuid;
		if (tagged) {
			if (binlog_varlen(&c, &tlen) != 0 || tlen > 32 ||
			    cursor_left(&c) < tlen)
				goto bad;
			if (tlen > 0)
				buf_printf(out, ":%.*s", (int)tlen,
				    (const char *)c.p);
			c.p += tlen;
		}
		if (cursor_u64(&c, &nint) != 0 || nint > cursor_left(&c) / 16)
			goto bad;
		for (j = 0; j < nint; j++) {
			cursor_u64(&c, &start);
			cursor_u64(&c, &end);
			if (start == 0 || end <= start)
				goto bad;
			if (end - 1 == start)
				buf_printf(out, ":%" PRIu64, start);
			else
				buf_printf(out, ":%" PRIu64 "-%" PRIu64, start,
				    end - 1);
		}
	}
	return (0);
bad:
	*cause = xasprintf("%s event: corrupt GTID set at byte %zu",
	    binlog_type_name(ev->h.type), cursor_offset(&c));
	return (-1);
}
