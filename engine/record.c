/*
 * Record making: one change, one DTS record.
 *
 *	id			a counter, increasing per job (or per convert run)
 *	sourceTimestamp		the event's timestamp, seconds
 *	sourcePosition		"offset@N", N the binlog file's number
 *	safeSourcePosition	the same for the start of the transaction
 *	sourceTxid		"0", as DTS writes for MySQL
 *	source			MySQL and the server version from the binlog
 *	objectName		"db.table" for rows, "db" for DDL; for BEGIN and
 *				COMMIT the database of the transaction's first
 *				row (the DTS SDK's reader fails on a null one)
 *	tags			pk_uk_info and metaVersion for rows; server_id,
 *				thread_id, readerThroughoutTime always; GTID on
 *				BEGIN, COMMIT and DDL; ferry.source and
 *				ferry.source_id when the job's source is known
 *	bornTimestamp		= sourceTimestamp (seconds, as observed)
 *
 * metaVersion starts at 1 per table and goes up whenever the table's
 * definition (names, types, metadata) changes, so that a reader caching
 * "fields" by version sees every ALTER.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "common/buf.h"
#include "common/json.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "engine/change.h"
#include "engine/record.h"
#include "schema/dts_avro.h"
#include "schema/table.h"

struct record_meta {
	char		*name;		/* db.table */
	uint64_t	 fingerprint;
	uint64_t	 version;
	char		 text[24];
};

struct record_maker {
	int64_t			 next_id;
	struct record_meta	*metas;
	size_t			 nmetas;
	struct buf		 pk;
	char			*txn_db;	/* for BEGIN and COMMIT */
	char			 pos[48], safe[48], sid[16], tid[16], ts[24];
	/* The last definition's tags: rows of one table come in runs. */
	uint64_t		 last_serial;
	size_t			 last_meta;
	uint32_t		 last_sid, last_tid;
	int64_t			 last_ms;
	/* For targets without headers: the job and an INIT record's
	 * generation, key and table, as tags (borrowed, the next record's). */
	const char		*ferry_job;
	const char		*ferry_init;
	/* The source endpoint and the server read (borrowed). */
	const char		*source_name;
	const char		*source_id;
};

/* v in decimal at p; returns the end. */
static char *
record_u64(char *p, uint64_t v)
{
	char	 tmp[20];
	int	 n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	while (n > 0)
		*p++ = tmp[--n];
	*p = '\0';
	return (p);
}

/* "offset@fileno" */
static void
record_position(char *out, uint64_t pos, uint64_t fileno)
{
	char	*p = record_u64(out, pos);

	*p++ = '@';
	record_u64(p, fileno);
}

struct record_maker *
record_maker_new(int64_t first_id)
{
	struct record_maker	*m;

	m = xcalloc(1, sizeof *m);
	m->next_id = first_id;
	buf_init(&m->pk);
	return (m);
}

/*
 * The next record carries the job's id (and, for an INIT record, its
 * generation, key and table, as "<gen>/<key in hex>/<db.table>") as the
 * tags ferry.job and ferry.init: what a resume reads on a broker whose
 * records have no headers (engine/sink.c).  Borrowed until record_make().
 */
void
record_maker_set_ferry(struct record_maker *m, const char *job,
    const char *init)
{
	m->ferry_job = job;
	m->ferry_init = init;
}

/*
 * Each record names its source, for the topics several sources write
 * (many-to-one): the tags ferry.source, the source endpoint's name, and
 * ferry.source_id, the server read (its server_uuid, or its server_id
 * on MariaDB).  Borrowed until changed; NULL or "" leaves one out.
 */
void
record_maker_set_source(struct record_maker *m, const char *name,
    const char *id)
{
	m->source_name = name != NULL && *name != '\0' ? name : NULL;
	m->source_id = id != NULL && *id != '\0' ? id : NULL;
}

void
record_maker_free(struct record_maker *m)
{
	size_t	 i;

	if (m == NULL)
		return;
	for (i = 0; i < m->nmetas; i++)
		free(m->metas[i].name);
	free(m->metas);
	buf_release(&m->pk);
	free(m->txn_db);
	free(m);
}

int64_t
record_maker_next_id(const struct record_maker *m)
{
	return (m->next_id);
}

static uint64_t
record_fnv(uint64_t h, const void *p, size_t len)
{
	const uint8_t	*b = p;

	while (len-- > 0)
		h = (h ^ *b++) * 0x100000001b3ULL;
	return (h);
}

/* The table's definition, reduced to what a reader of "fields" sees. */
static uint64_t
record_fingerprint(const struct table_def *t)
{
	uint64_t	 h = 0xcbf29ce484222325ULL;
	uint32_t	 i;

	for (i = 0; i < t->ncols; i++) {
		const struct column	*c = &t->cols[i];

		h = record_fnv(h, &c->type, sizeof c->type);
		h = record_fnv(h, &c->meta, sizeof c->meta);
		h = record_fnv(h, &c->flags, sizeof c->flags);
		h = record_fnv(h, &c->collation, sizeof c->collation);
		if (c->name != NULL)
			h = record_fnv(h, c->name, strlen(c->name) + 1);
		else
			h = record_fnv(h, "", 1);
	}
	return (h);
}

/* The id the next record gets (a heartbeat's, out of its own block). */
void
record_maker_set_next_id(struct record_maker *m, int64_t id)
{
	m->next_id = id;
}

/* When the last record was made (its readerThroughoutTime), in ms. */
int64_t
record_maker_time_ms(const struct record_maker *m)
{
	return (m->last_ms);
}

/* metaVersion of table t, as text (borrowed until the next call). */
const char *
record_maker_meta_version(struct record_maker *m, const struct table_def *t)
{
	uint64_t	 fp;
	size_t		 i, dl, tl;

	if (t->serial != 0 && t->serial == m->last_serial &&
	    m->last_meta < m->nmetas)
		return (m->metas[m->last_meta].text);
	fp = record_fingerprint(t);
	dl = strlen(t->db);
	tl = strlen(t->name);

	for (i = 0; i < m->nmetas; i++) {
		const char	*n = m->metas[i].name;

		if (strncmp(n, t->db, dl) == 0 && n[dl] == '.' &&
		    strcmp(n + dl + 1, t->name) == 0)
			break;
	}
	if (i == m->nmetas) {
		m->metas = xreallocarray(m->metas, m->nmetas + 1,
		    sizeof *m->metas);
		m->metas[i].name = xmalloc(dl + tl + 2);
		memcpy(m->metas[i].name, t->db, dl);
		m->metas[i].name[dl] = '.';
		memcpy(m->metas[i].name + dl + 1, t->name, tl + 1);
		m->metas[i].fingerprint = fp;
		m->metas[i].version = 1;
		m->nmetas++;
	} else if (m->metas[i].fingerprint != fp) {
		m->metas[i].fingerprint = fp;
		m->metas[i].version++;
	}
	snprintf(m->metas[i].text, sizeof m->metas[i].text, "%" PRIu64,
	    m->metas[i].version);
	m->last_meta = i;
	return (m->metas[i].text);
}

/* A key's column names as a JSON array (@N where a name is unknown). */
static void
record_key_columns(struct buf *b, const struct table_def *t,
    const uint32_t *cols, uint32_t n)
{
	char		 tmp[16];
	const char	*name;
	uint32_t	 i;

	buf_addc(b, '[');
	for (i = 0; i < n; i++) {
		if (i > 0)
			buf_addc(b, ',');
		if ((name = t->cols[cols[i]].name) == NULL) {
			snprintf(tmp, sizeof tmp, "@%" PRIu32, cols[i] + 1);
			name = tmp;
		}
		json_add_cstring(b, name);
	}
	buf_addc(b, ']');
}

/*
 * {"PRIMARY":["a","b"],"uk_name":["c"]}: the primary key, then each unique
 * key (as DTS lists them); {} when no key is known.
 */
static const char *
record_pk_info(struct record_maker *m, const struct table_def *t)
{
	uint32_t	 i;

	if (t->serial != 0 && t->serial == m->last_serial)
		return (buf_str(&m->pk));
	buf_reset(&m->pk);
	buf_addc(&m->pk, '{');
	if (t->npk > 0) {
		json_add_key(&m->pk, "PRIMARY");
		record_key_columns(&m->pk, t, t->pk, t->npk);
	}
	for (i = 0; i < t->nuk; i++) {
		if (t->npk > 0 || i > 0)
			buf_addc(&m->pk, ',');
		json_add_key(&m->pk, t->uks[i].name);
		record_key_columns(&m->pk, t, t->uks[i].cols,
		    t->uks[i].ncols);
	}
	buf_addc(&m->pk, '}');
	return (buf_str(&m->pk));
}

/*
 * Encode change c as the next record, appended to out.  Returns 0, or -1
 * with *cause when a value cannot be represented.
 */
int
record_make(struct record_maker *m, const struct change *c,
    struct dts_encoder *enc, struct buf *out, char **cause)
{
	struct dts_record	 r;
	struct dts_tag		 tags[12];
	uint64_t		 fileno = change_file_number(c->file);
	struct timeval		 tv;
	size_t			 n = 0;

	memset(&r, 0, sizeof r);
	r.id = m->next_id;
	r.source_timestamp = c->timestamp;
	r.born_timestamp = c->timestamp;
	record_position(m->pos, c->pos, fileno);
	record_position(m->safe, c->txn_pos, fileno);
	r.source_position = m->pos;
	r.safe_source_position = m->safe;
	r.source_txid = "0";
	r.source_type = DTS_SOURCE_MYSQL;
	r.source_version = c->server_version;
	switch (c->kind) {
	case CHANGE_BEGIN:
		r.op = DTS_OP_BEGIN;
		free(m->txn_db);
		m->txn_db = c->table != NULL ? xstrdup(c->table->db) : NULL;
		r.db = m->txn_db;
		break;
	case CHANGE_COMMIT:
		r.op = DTS_OP_COMMIT;
		r.db = m->txn_db;
		break;
	case CHANGE_ROLLBACK:
		r.op = DTS_OP_ROLLBACK;
		r.db = m->txn_db;
		break;
	case CHANGE_DDL:
		r.op = DTS_OP_DDL;
		r.db = c->db != NULL && c->db[0] != '\0' ? c->db : NULL;
		r.ddl = (const char *)c->sql;
		r.ddl_len = c->sql_len;
		break;
	case CHANGE_HEARTBEAT:
		r.op = DTS_OP_HEARTBEAT;
		break;
	case CHANGE_ROW:
	case CHANGE_INIT:
		r.op = c->kind == CHANGE_INIT ? DTS_OP_INIT :
		    c->row_kind == BINLOG_ROWS_INSERT ? DTS_OP_INSERT :
		    c->row_kind == BINLOG_ROWS_UPDATE ? DTS_OP_UPDATE :
		    DTS_OP_DELETE;
		r.db = c->table->db;
		r.table = c->table->name;
		r.def = c->table;
		r.before = c->before;
		r.after = c->after;
		tags[n].key = "pk_uk_info";
		tags[n++].value = record_pk_info(m, c->table);
		tags[n].key = "metaVersion";
		tags[n++].value = record_maker_meta_version(m, c->table);
		m->last_serial = c->table->serial;
		break;
	}
	if (c->server_id != m->last_sid || m->sid[0] == '\0') {
		record_u64(m->sid, c->server_id);
		m->last_sid = c->server_id;
	}
	tags[n].key = "server_id";
	tags[n++].value = m->sid;
	if (c->thread_id != 0) {
		if (c->thread_id != m->last_tid) {
			record_u64(m->tid, c->thread_id);
			m->last_tid = c->thread_id;
		}
		tags[n].key = "thread_id";
		tags[n++].value = m->tid;
	}
	if (c->kind != CHANGE_ROW && c->kind != CHANGE_INIT &&
	    c->gtid != NULL && c->gtid[0] != '\0') {
		tags[n].key = "GTID";
		tags[n++].value = c->gtid;
	}
	gettimeofday(&tv, NULL);
	if ((int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000 != m->last_ms) {
		m->last_ms = (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
		record_u64(m->ts, (uint64_t)m->last_ms);
	}
	tags[n].key = "readerThroughoutTime";
	tags[n++].value = m->ts;
	if (m->source_name != NULL) {
		tags[n].key = "ferry.source";
		tags[n++].value = m->source_name;
	}
	if (m->source_id != NULL) {
		tags[n].key = "ferry.source_id";
		tags[n++].value = m->source_id;
	}
	if (m->ferry_job != NULL) {
		tags[n].key = "ferry.job";
		tags[n++].value = m->ferry_job;
		if (m->ferry_init != NULL) {
			tags[n].key = "ferry.init";
			tags[n++].value = m->ferry_init;
		}
	}
	r.tags = tags;
	r.ntags = n;
	if (dts_encode(enc, &r, out, cause) != 0)
		return (-1);
	m->next_id++;
	return (0);
}
