/*
 * The change builder.
 *
 * Transactions appear in the binlog in several shapes, and the builder
 * reduces them to BEGIN, rows, COMMIT:
 *
 *	MySQL		[GTID | ANONYMOUS_GTID] QUERY "BEGIN" ... XID
 *			(non-transactional tables: ... QUERY "COMMIT")
 *	MariaDB		GTID (not standalone) ... XID | QUERY "COMMIT"
 *	DDL		[GTID (standalone)] QUERY "CREATE ..." - no BEGIN
 *
 * BEGIN is announced lazily, with the first row the filter keeps, and
 * COMMIT only after a BEGIN was announced, so that transactions on other
 * tables leave no trace.  Statement-based DML (a QUERY that changes rows)
 * cannot become row changes; it is reported once per statement to the
 * callback as nothing and counted (ferry requires binlog_format=ROW: the
 * precheck says so before a job starts).
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/buf.h"
#include "common/log.h"
#include "common/xmalloc.h"
#include "engine/binlog.h"
#include "engine/change.h"

struct change_builder {
	change_cb		 cb;
	change_filter_cb	 filter;
	void			*arg;
	char			*file;
	char			 server_version[51];
	struct buf		 gtid;

	int			 in_txn;	/* between BEGIN and its end */
	int			 announced;	/* BEGIN given to the callback */
	uint64_t		 txn_pos;
	uint32_t		 txn_ts;
	uint32_t		 thread_id;
	int			 pending_gtid;	/* a GTID waits for its BEGIN */
	uint64_t		 gtid_pos;
	uint64_t		 skipped_statements;
};

struct change_builder *
change_builder_new(change_cb cb, change_filter_cb filter, void *arg)
{
	struct change_builder	*cb_;

	cb_ = xcalloc(1, sizeof *cb_);
	cb_->cb = cb;
	cb_->filter = filter;
	cb_->arg = arg;
	cb_->file = xstrdup("");
	buf_init(&cb_->gtid);
	buf_str(&cb_->gtid);
	return (cb_);
}

void
change_builder_free(struct change_builder *b)
{
	if (b == NULL)
		return;
	free(b->file);
	buf_release(&b->gtid);
	free(b);
}

/* The binlog file the next events come from (files and ROTATE). */
void
change_builder_set_file(struct change_builder *b, const char *file)
{
	free(b->file);
	b->file = xstrdup(file);
}

/*
 * Whether the events fed so far end on a transaction boundary: a replica
 * may resume right after the last one without losing or splitting a
 * transaction.
 */
int
change_builder_at_boundary(const struct change_builder *b)
{
	return (!b->in_txn && !b->pending_gtid);
}

/* "mysql-bin.000078" -> 78; 0 when the name has no numeric suffix. */
uint64_t
change_file_number(const char *file)
{
	const char	*dot = strrchr(file, '.');
	uint64_t	 n = 0;

	if (dot == NULL)
		return (0);
	for (dot++; *dot >= '0' && *dot <= '9'; dot++)
		n = n * 10 + (uint64_t)(*dot - '0');
	return (n);
}

static void
change_init(struct change_builder *b, struct change *c,
    const struct binlog_event *ev, enum change_kind kind)
{
	memset(c, 0, sizeof *c);
	c->kind = kind;
	c->timestamp = ev->h.timestamp;
	c->server_id = ev->h.server_id;
	c->thread_id = b->thread_id;
	c->pos = ev->offset;
	c->txn_pos = b->in_txn ? b->txn_pos : ev->offset;
	c->file = b->file;
	c->gtid = buf_str(&b->gtid);
	c->server_version = b->server_version;
}

static void
change_txn_start(struct change_builder *b, const struct binlog_event *ev)
{
	b->in_txn = 1;
	b->announced = 0;
	b->txn_pos = b->pending_gtid ? b->gtid_pos : ev->offset;
	b->txn_ts = ev->h.timestamp;
	b->pending_gtid = 0;
}

static int
change_txn_end(struct change_builder *b, const struct binlog_event *ev,
    enum change_kind kind, uint64_t xid, char **cause)
{
	struct change	 c;
	int		 rc = 0;

	if (b->in_txn && b->announced) {
		change_init(b, &c, ev, kind);
		c.xid = xid;
		rc = b->cb(b->arg, &c, cause);
	}
	b->in_txn = b->announced = 0;
	b->thread_id = 0;
	b->gtid_pos = 0;
	buf_reset(&b->gtid);
	return (rc);
}

/* The first word of a statement, past comments and spaces. */
static size_t
change_first_word(const uint8_t *sql, size_t len, char *word, size_t wsize)
{
	size_t	 i = 0, n = 0;

	for (;;) {
		while (i < len && isspace(sql[i]))
			i++;
		if (i + 1 < len && sql[i] == '/' && sql[i + 1] == '*') {
			/* MySQL's executable comments start a statement too */
			if (i + 2 < len && sql[i + 2] == '!') {
				i += 3;
				while (i < len && isdigit(sql[i]))
					i++;
				continue;
			}
			i += 2;
			while (i + 1 < len && !(sql[i] == '*' && sql[i + 1] ==
			    '/'))
				i++;
			i += 2;
			continue;
		}
		if (i + 1 < len && sql[i] == '-' && sql[i + 1] == '-') {
			while (i < len && sql[i] != '\n')
				i++;
			continue;
		}
		if (i < len && sql[i] == '#') {
			while (i < len && sql[i] != '\n')
				i++;
			continue;
		}
		break;
	}
	while (i < len && n + 1 < wsize && (isalpha(sql[i]) || sql[i] == '_'))
		word[n++] = (char)toupper(sql[i++]);
	word[n] = '\0';
	return (n);
}

static int
change_query(struct change_builder *b, struct binlog_event *ev, char **cause)
{
	const struct binlog_query	*q = &ev->query;
	struct change			 c;
	char				 word[16], db[256];
	int				 had_gtid;

	change_first_word(q->sql, q->sql_len, word, sizeof word);
	if (strcmp(word, "BEGIN") == 0 || (strcmp(word, "XA") == 0 &&
	    q->sql_len >= 8 && strncasecmp((const char *)q->sql + 3, "START",
	    5) == 0)) {
		if (!b->in_txn)
			change_txn_start(b, ev);
		b->thread_id = q->thread_id;
		return (0);
	}
	if (strcmp(word, "COMMIT") == 0)
		return (change_txn_end(b, ev, CHANGE_COMMIT, 0, cause));
	if (strcmp(word, "ROLLBACK") == 0)
		return (change_txn_end(b, ev, CHANGE_ROLLBACK, 0, cause));
	if (strcmp(word, "XA") == 0)
		return (0);	/* XA END / PREPARE: the commit follows */
	if (strcmp(word, "INSERT") == 0 || strcmp(word, "UPDATE") == 0 ||
	    strcmp(word, "DELETE") == 0 || strcmp(word, "REPLACE") == 0 ||
	    strcmp(word, "LOAD") == 0 || strcmp(word, "SAVEPOINT") == 0 ||
	    strcmp(word, "SET") == 0) {
		if (strcmp(word, "SAVEPOINT") != 0 && strcmp(word, "SET") != 0)
			b->skipped_statements++;
		return (0);
	}
	/* DDL (and other statements): it commits what came before. */
	had_gtid = b->pending_gtid || (b->in_txn && !b->announced &&
	    b->gtid_pos != 0);
	if (b->in_txn && b->announced) {
		change_init(b, &c, ev, CHANGE_COMMIT);
		if (b->cb(b->arg, &c, cause) != 0)
			return (-1);
	}
	b->in_txn = b->announced = 0;
	change_init(b, &c, ev, CHANGE_DDL);
	c.thread_id = q->thread_id;
	if (had_gtid)
		c.txn_pos = b->gtid_pos;
	snprintf(db, sizeof db, "%.*s", (int)q->db_len, q->db);
	c.db = db;
	c.sql = q->sql;
	c.sql_len = q->sql_len;
	if (b->cb(b->arg, &c, cause) != 0)
		return (-1);
	b->pending_gtid = 0;
	b->gtid_pos = 0;
	b->thread_id = 0;
	buf_reset(&b->gtid);
	return (0);
}

static int
change_rows(struct change_builder *b, struct binlog_decoder *dec,
    struct binlog_event *ev, char **cause)
{
	struct binlog_rows	*r = &ev->rows;
	struct binlog_row	 row;
	struct change		 c;
	int			 rc;

	if (r->table == NULL)
		return (0);
	if (b->filter != NULL && !b->filter(b->arg, r->table->db,
	    r->table->name))
		return (0);
	if (!b->in_txn)		/* autocommit on a non-transactional engine */
		change_txn_start(b, ev);
	if (!b->announced) {
		change_init(b, &c, ev, CHANGE_BEGIN);
		c.timestamp = b->txn_ts;
		c.pos = b->txn_pos;
		c.table = r->table;	/* the first table it changes */
		if (b->cb(b->arg, &c, cause) != 0)
			return (-1);
		b->announced = 1;
	}
	while ((rc = binlog_rows_next(dec, r, &row, cause)) == 1) {
		change_init(b, &c, ev, CHANGE_ROW);
		c.row_kind = r->kind;
		c.table = r->table;
		c.before = row.before;
		c.after = row.after;
		if (b->cb(b->arg, &c, cause) != 0)
			return (-1);
	}
	return (rc);
}

/*
 * Turn one decoded event into changes, calling the callback for each.
 * Returns 0, or -1 with *cause (from the decoder or the callback).
 */
int
change_builder_feed(struct change_builder *b, struct binlog_decoder *dec,
    struct binlog_event *ev, char **cause)
{
	switch (ev->h.type) {
	case BINLOG_FORMAT_DESCRIPTION:
		memcpy(b->server_version, ev->fde.server_version,
		    sizeof b->server_version);
		return (0);
	case BINLOG_ROTATE:
		if (ev->rotate.name_len > 0 && ev->rotate.name_len < 512) {
			char	 name[512];

			memcpy(name, ev->rotate.name, ev->rotate.name_len);
			name[ev->rotate.name_len] = '\0';
			/* The last event of a file, or the first a server
			 * sends: what follows is in the named file. */
			change_builder_set_file(b, name);
		}
		return (0);
	case BINLOG_GTID:
	case BINLOG_GTID_TAGGED:
	case BINLOG_ANONYMOUS_GTID:
	case BINLOG_MARIA_GTID:
		buf_reset(&b->gtid);
		binlog_gtid_text(ev, &b->gtid);
		buf_str(&b->gtid);
		b->pending_gtid = 1;
		b->gtid_pos = ev->offset;
		if (ev->h.type == BINLOG_MARIA_GTID &&
		    !(ev->gtid.flags2 & MARIA_GTID_STANDALONE))
			change_txn_start(b, ev);
		return (0);
	case BINLOG_QUERY:
	case BINLOG_MARIA_QUERY_COMPRESSED:
		return (change_query(b, ev, cause));
	case BINLOG_XID:
		return (change_txn_end(b, ev, CHANGE_COMMIT, ev->xid, cause));
	default:
		if (binlog_is_rows(ev->h.type))
			return (change_rows(b, dec, ev, cause));
	}
	return (0);
}
