/*
 * The shapes of the job's tables in the binlog phase (DESIGN.md §5).
 *
 * A row image's columns are checked against the table's shape in the
 * job's schema history (a hash of column types and metadata, so the check
 * costs a few nanoseconds a row): the same, or a new version after a DDL
 * naming the table (recorded at the DDL's position, its definition filled
 * in from the next row image), or the first one seen of a table the
 * history does not have.  A new shape with no DDL read since stops the
 * job: the table was altered where the binlog does not show it.
 *
 * Where the binlog names no columns (binlog_row_metadata=MINIMAL, MySQL
 * 5.x, MariaDB before 10.5), the names, charsets, labels, signedness and
 * key come from the table's definition on the source, provided its shape
 * is the image's (read again after a DDL, on the binlog phase's second
 * connection).
 *
 * The history is read as of the watermark: replaying the binlog after a
 * crash finds the versions it wrote.  Runs on the job's thread.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/json.h"
#include "common/xmalloc.h"
#include "engine/job_spec.h"
#include "engine/shapes.h"
#include "schema/ddl.h"

/*
 * A table's shape (column types and their metadata) as the job's schema
 * history has it at the point the binlog was read to, and whether a DDL
 * naming the table was read since (then a new shape is its next version;
 * without one, a new shape stops the job).
 */
struct shape {
	char		*db;
	char		*table;
	uint64_t	 hash;		/* of the shape; 0: none known */
	uint32_t	 ncols;
	int64_t		 version;
	int		 changing;
	char		*ddl;		/* the DDL read since, and where */
	char		*ddl_file;
	uint64_t	 ddl_pos;
	int64_t		 keys_gen;	/* its unique keys were read at this
					   generation (-1: a DDL named it) */
};

struct shapes {
	struct jobctx		*ctx;
	struct watermark	*wm;
	struct mysql_lazy	*ctl;		/* reads definitions */
	struct snap_table	*tables;	/* borrowed: the job's */
	size_t			 ntables;
	struct snap_table	*extra;		/* definitions read since */
	size_t			 nextra;
	struct shape		*v;		/* by table, as read */
	size_t			 n;
	size_t			 last;		/* the last one looked up */
	int			 ddl_unknown;	/* one was read: all may
						   change */
	int64_t			 keys_gen;	/* DDL read that may change
						   any table's keys */
};

struct shapes *
shapes_new(struct jobctx *ctx, struct watermark *wm, struct mysql_lazy *ctl)
{
	struct shapes	*sh = xcalloc(1, sizeof *sh);

	sh->ctx = ctx;
	sh->wm = wm;
	sh->ctl = ctl;
	return (sh);
}

static void
shapes_clear(struct shapes *sh)
{
	size_t	 i;

	for (i = 0; i < sh->n; i++) {
		free(sh->v[i].db);
		free(sh->v[i].table);
		free(sh->v[i].ddl);
		free(sh->v[i].ddl_file);
	}
	free(sh->v);
	sh->v = NULL;
	sh->n = 0;
}

void
shapes_free(struct shapes *sh)
{
	if (sh == NULL)
		return;
	shapes_clear(sh);
	shapes_forget(sh);
	free(sh);
}

/* Reading starts at the watermark, over the job's tables (borrowed):
 * shapes as of there, read again. */
void
shapes_reset(struct shapes *sh, struct snap_table *tables, size_t n)
{
	shapes_clear(sh);
	sh->tables = tables;
	sh->ntables = n;
	sh->ddl_unknown = 0;
	sh->keys_gen = 0;
}

/* The definitions read from the source since are dropped. */
void
shapes_forget(struct shapes *sh)
{
	snapshot_tables_free(sh->extra, sh->nextra);
	sh->extra = NULL;
	sh->nextra = 0;
}

/* A definition as the schema history keeps it: JSON of the columns. */
char *
shapes_definition(const struct table_def *t)
{
	struct buf	 b = BUF_INITIALIZER;
	uint32_t	 i;

	buf_adds(&b, "{\"shape\":\"");
	for (i = 0; i < t->ncols; i++)
		buf_printf(&b, "%s%u:%u", i > 0 ? "," : "", t->cols[i].type,
		    t->cols[i].meta);
	buf_adds(&b, "\",\"columns\":[");
	for (i = 0; i < t->ncols; i++) {
		if (i > 0)
			buf_addc(&b, ',');
		buf_adds(&b, "{\"name\":");
		json_add_cstring(&b, t->cols[i].name != NULL ?
		    t->cols[i].name : "");
		buf_printf(&b, ",\"type\":%u,\"meta\":%u,"
		    "\"collation\":%u,\"flags\":%u}", t->cols[i].type,
		    t->cols[i].meta, t->cols[i].collation, t->cols[i].flags);
	}
	buf_adds(&b, "],\"key\":[");
	for (i = 0; i < t->npk; i++)
		buf_printf(&b, "%s%u", i > 0 ? "," : "", t->pk[i]);
	buf_adds(&b, "]}");
	return (buf_detach(&b, NULL));
}

/* ---- definitions the binlog does not carry ------------------------------ */

/* Whether a row image's columns are those of a definition. */
static int
shapes_same(const struct table_def *a, const struct table_def *b)
{
	uint32_t	 i;

	if (a->ncols != b->ncols)
		return (0);
	for (i = 0; i < a->ncols; i++) {
		if (a->cols[i].type != b->cols[i].type ||
		    a->cols[i].meta != b->cols[i].meta)
			return (0);
	}
	return (1);
}

static struct snap_table *
shapes_find_table(struct snap_table *t, size_t n, const char *db,
    const char *name)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		if (strcmp(t[i].db, db) == 0 && strcmp(t[i].name, name) == 0)
			return (&t[i]);
	}
	return (NULL);
}

/* The table's definition as the source has it now. */
static struct snap_table *
shapes_reload(struct shapes *sh, const char *db, const char *name,
    char **cause)
{
	struct job_object	 o;
	struct snap_table	*t = NULL, *old;
	size_t			 n = 0;
	MYSQL			*m;

	if ((m = mysql_lazy_get(sh->ctl, cause)) == NULL)
		return (NULL);
	o.db = (char *)db;
	o.table = (char *)name;
	if (snapshot_tables(m, &o, 1, NULL, &t, &n, cause) != 0)
		return (NULL);
	if ((old = shapes_find_table(sh->extra, sh->nextra, db,
	    name)) != NULL) {
		/* Replace it: free the old one's contents in place. */
		struct snap_table	 tmp = *old;

		*old = t[0];
		free(t);
		t = xmalloc(sizeof *t);
		*t = tmp;
		snapshot_tables_free(t, 1);
		return (old);
	}
	sh->extra = xreallocarray(sh->extra, sh->nextra + 1,
	    sizeof *sh->extra);
	sh->extra[sh->nextra] = t[0];
	free(t);
	return (&sh->extra[sh->nextra++]);
}

/* Copy what def lacks of the reference definition r (same shape). */
static void
shapes_complete(struct table_def *def, const struct table_def *r)
{
	uint32_t	 i, k;

	for (i = 0; i < def->ncols; i++) {
		struct column		*d = &def->cols[i];
		const struct column	*x = &r->cols[i];

		if (d->name == NULL && x->name != NULL)
			d->name = xstrdup(x->name);
		if (d->collation == 0)
			d->collation = x->collation;
		if ((def->known & TABLE_KNOWN_SIGNEDNESS) == 0)
			d->flags = (uint8_t)((d->flags & ~COLUMN_UNSIGNED) |
			    (x->flags & COLUMN_UNSIGNED));
		if (d->nlabels == 0 && x->nlabels > 0) {
			d->labels = xcalloc(x->nlabels, sizeof *d->labels);
			for (k = 0; k < x->nlabels; k++)
				d->labels[k] = xstrdup(x->labels[k]);
			d->nlabels = x->nlabels;
		}
	}
	if (def->npk == 0 && r->npk > 0) {
		def->pk = xcalloc(r->npk, sizeof *def->pk);
		memcpy(def->pk, r->pk, r->npk * sizeof *r->pk);
		def->npk = r->npk;
		for (i = 0; i < r->npk; i++)
			def->cols[r->pk[i]].flags |= COLUMN_PRIMARY;
	}
	def->known |= TABLE_KNOWN_NAMES | TABLE_KNOWN_CHARSETS |
	    TABLE_KNOWN_LABELS | TABLE_KNOWN_KEY | TABLE_KNOWN_SIGNEDNESS;
}

/*
 * Give a row image's definition the names, charsets, ENUM/SET labels,
 * signedness and key the binlog did not carry (binlog_row_metadata=MINIMAL,
 * MySQL 5.x, MariaDB before 10.5), from the table's definition on the
 * source, provided the columns are the same; read again after a DDL.  When
 * they still differ, the image is older than any definition ferry can
 * read: the job stops saying so.
 */
int
shapes_fill(struct shapes *sh, const struct change *c, char **cause)
{
	struct table_def	*def = (struct table_def *)c->table;
	struct snap_table	*ref;
	char			*msg;

	if (def == NULL || (def->known & TABLE_KNOWN_NAMES) != 0)
		return (0);
	ref = shapes_find_table(sh->extra, sh->nextra, def->db, def->name);
	if (ref == NULL)
		ref = shapes_find_table(sh->tables, sh->ntables, def->db,
		    def->name);
	if (ref == NULL || !shapes_same(def, ref->def)) {
		if ((ref = shapes_reload(sh, def->db, def->name,
		    cause)) == NULL)
			return (-1);
		if (!shapes_same(def, ref->def)) {
			*cause = xasprintf("the row image of %s.%s at %s:%"
			    PRIu64 " has %" PRIu32 " columns of other types "
			    "than the %" PRIu32 " the table has now, and the "
			    "binlog does not name them (binlog_row_metadata is "
			    "not FULL): set binlog_row_metadata=FULL on the "
			    "source (MySQL 8.0, MariaDB 10.5 and later), then "
			    "re-create the job", def->db, def->name, c->file,
			    c->pos, def->ncols, ref->def->ncols);
			sh->ctx->permanent = 1;
			return (-1);
		}
		msg = xasprintf("read the definition of %s.%s again at %s:%"
		    PRIu64 " (%" PRIu32 " columns)", def->db, def->name,
		    c->file, c->pos, def->ncols);
		jobctx_log(sh->ctx, "schema", msg);
		free(msg);
	}
	shapes_complete(def, ref->def);
	return (0);
}

/* ---- the schema history ------------------------------------------------- */

static uint64_t
shapes_mix(uint64_t h, uint32_t v)
{
	return ((h ^ v) * 0x100000001b3ULL);
}

/* The hash of a table_def's shape (never 0). */
static uint64_t
shapes_hash(const struct table_def *t)
{
	uint64_t	 h = 0xcbf29ce484222325ULL;
	uint32_t	 i;

	for (i = 0; i < t->ncols; i++)
		h = shapes_mix(shapes_mix(h, t->cols[i].type),
		    t->cols[i].meta);
	return (h != 0 ? h : 1);
}

/* The same hash of a definition's "shape" text; 0 if it has none. */
static uint64_t
shapes_parse(const char *definition, uint32_t *ncols)
{
	const char	*p;
	uint64_t	 h = 0xcbf29ce484222325ULL;
	unsigned int	 type, meta;
	int		 n;

	*ncols = 0;
	if (definition == NULL ||
	    (p = strstr(definition, "\"shape\":\"")) == NULL)
		return (0);
	p += 9;
	while (*p != '"' && sscanf(p, "%u:%u%n", &type, &meta, &n) == 2) {
		h = shapes_mix(shapes_mix(h, type), meta);
		(*ncols)++;
		p += n;
		if (*p == ',')
			p++;
	}
	return (h != 0 ? h : 1);
}

/*
 * The shape of db.table: known since the binlog was read to here, or
 * from the history as of the watermark.
 */
static struct shape *
shapes_get(struct shapes *sh, const char *db, const char *table,
    char **cause)
{
	struct shape	*e;
	char		*def = NULL;
	size_t		 i;

	if (sh->last < sh->n && strcmp(sh->v[sh->last].table, table) == 0 &&
	    strcmp(sh->v[sh->last].db, db) == 0)
		return (&sh->v[sh->last]);
	for (i = 0; i < sh->n; i++) {
		if (strcmp(sh->v[i].db, db) == 0 &&
		    strcmp(sh->v[i].table, table) == 0) {
			sh->last = i;
			return (&sh->v[i]);
		}
	}
	sh->v = xreallocarray(sh->v, sh->n + 1, sizeof *sh->v);
	e = &sh->v[sh->n];
	memset(e, 0, sizeof *e);
	if (JOBSTORE(sh->ctx, schema_at, db, table, watermark_file(sh->wm),
	    watermark_pos(sh->wm), &def, &e->version, &e->ddl_file,
	    &e->ddl_pos, cause) != 0)
		return (NULL);
	e->db = xstrdup(db);
	e->table = xstrdup(table);
	e->hash = shapes_parse(def, &e->ncols);
	if (def != NULL && strstr(def, "\"pending\"") != NULL)
		e->changing = 1;	/* made by a DDL: shape not seen yet */
	else {
		free(e->ddl_file);
		e->ddl_file = NULL;
		if (def != NULL && e->hash == 0)
			e->version = -1;	/* an older ferry's */
		e->changing = sh->ddl_unknown;
	}
	free(def);
	sh->last = sh->n++;
	return (e);
}

/* A DDL shaping tables ferry cannot name: every table may change. */
static void
shapes_unknown(struct shapes *sh, const struct change *c)
{
	char	*msg;
	size_t	 k;

	msg = xasprintf("a DDL at %s:%" PRIu64 " shapes tables ferry cannot "
	    "name; any table of the job may change shape after it: %.200s",
	    c->file, c->pos, (const char *)c->sql);
	jobctx_log(sh->ctx, "schema", msg);
	free(msg);
	for (k = 0; k < sh->n; k++) {
		sh->v[k].changing = 1;
		free(sh->v[k].ddl_file);
		sh->v[k].ddl_file = NULL;
	}
	sh->ddl_unknown = 1;
}

/* A DDL read from the binlog: the tables it shapes may change. */
int
shapes_ddl(struct shapes *sh, const struct change *c, char **cause)
{
	struct ddl_stmt		 st;
	struct shape		*e;
	struct schema_change	 ch;
	size_t			 i;
	int			 rc;

	if (ddl_parse((const char *)c->sql, c->sql_len, c->db, &st) == 0) {
		/* CREATE INDEX, DROP INDEX, ...: any table's keys may change
		 * (read again when next needed). */
		sh->keys_gen++;
		return (0);
	}
	if (st.kind == DDL_UNKNOWN)
		sh->keys_gen++;
	for (i = 0; i < st.ntables || (st.kind == DDL_UNKNOWN && i == 0);
	    i++) {
		if (st.kind == DDL_UNKNOWN) {
			shapes_unknown(sh, c);
			break;
		}
		if (!job_spec_selected(sh->ctx->spec, st.tables[i].db,
		    st.tables[i].table))
			continue;
		if ((e = shapes_get(sh, st.tables[i].db, st.tables[i].table,
		    cause)) == NULL) {
			ddl_stmt_free(&st);
			return (-1);
		}
		e->changing = 1;
		e->keys_gen = -1;
		free(e->ddl);
		free(e->ddl_file);
		e->ddl = xstrndup((const char *)c->sql, c->sql_len);
		e->ddl_file = xstrdup(c->file);
		e->ddl_pos = c->pos;
		/* Its version, made here; the definition comes with the next
		 * row image (a checkpoint may pass the DDL before one). */
		memset(&ch, 0, sizeof ch);
		ch.db = e->db;
		ch.table = e->table;
		ch.definition = "{\"pending\":true}";
		ch.ddl = e->ddl;
		ch.file = e->ddl_file;
		ch.pos = e->ddl_pos;
		if ((rc = JOBSTORE(sh->ctx, schema_add, &ch, cause)) < 0) {
			ddl_stmt_free(&st);
			return (-1);
		}
		e->version += rc;
	}
	ddl_stmt_free(&st);
	return (0);
}

/* A row image's new shape: written to the history (rc < 0: failed). */
static int
shapes_record(struct shapes *sh, struct shape *e, const struct change *c,
    char **cause)
{
	const struct table_def	*t = c->table;
	struct schema_change	 ch;
	char			*def = shapes_definition(t);
	int			 rc;

	if (e->changing && e->ddl_file != NULL)	/* the version its DDL made */
		rc = JOBSTORE(sh->ctx, schema_fill, t->db, t->name,
		    e->ddl_file, e->ddl_pos, def, cause);
	else if (e->changing || e->version == 0) {
		/* First seen, or after a DDL ferry could not read. */
		memset(&ch, 0, sizeof ch);
		ch.db = t->db;
		ch.table = t->name;
		ch.definition = def;
		ch.file = c->file;
		ch.pos = c->pos;
		rc = JOBSTORE(sh->ctx, schema_add, &ch, cause);
		e->version += rc > 0;
	} else
		rc = 0;			/* an older ferry's history */
	free(def);
	return (rc);
}

/*
 * A row image against the table's shape in the history: the same, or a
 * new version after a DDL naming the table (recorded at the DDL's
 * position), or the first one seen of a table the history does not have.
 * A new shape with no DDL read since stops the job: the table was altered
 * where the binlog does not show it.
 */
int
shapes_check(struct shapes *sh, const struct change *c, char **cause)
{
	const struct table_def	*t = c->table;
	struct shape		*e;
	uint64_t		 h;

	if (t == NULL || (e = shapes_get(sh, t->db, t->name, cause)) == NULL)
		return (t == NULL ? 0 : -1);
	h = shapes_hash(t);
	if (h == e->hash && !e->changing)
		return (0);
	if (e->hash != 0 && !e->changing) {
		*cause = xasprintf("table %s.%s changed shape at %s:%" PRIu64
		    " with no DDL in the binlog: its rows there have %" PRIu32
		    " columns of other types than the %" PRIu32 " of version %"
		    PRId64 " of its definition in the job's schema history "
		    "(altered with sql_log_bin=0, or by a statement ferry "
		    "does not recognise); check the table, then re-create "
		    "the job to take a new snapshot", t->db, t->name, c->file,
		    c->pos, t->ncols, e->ncols, e->version);
		sh->ctx->permanent = 1;
		return (-1);
	}
	if (shapes_record(sh, e, c, cause) < 0)
		return (-1);
	e->hash = h;
	e->ncols = t->ncols;
	e->changing = 0;
	return (0);
}

/*
 * Give a row image's definition the table's unique keys (pk_uk_info): the
 * binlog carries only the primary key, so they come from the table's
 * definition on the source, read again after a DDL that may change them,
 * and only when its columns are the image's.  Once per definition.
 */
int
shapes_keys(struct shapes *sh, const struct change *c, char **cause)
{
	struct table_def	*def = (struct table_def *)c->table;
	struct snap_table	*ref = NULL;
	struct shape		*e;

	if (def == NULL || (def->known & TABLE_KNOWN_UNIQUE) != 0)
		return (0);
	if ((e = shapes_get(sh, def->db, def->name, cause)) == NULL)
		return (-1);
	if (e->keys_gen == sh->keys_gen) {
		ref = shapes_find_table(sh->extra, sh->nextra, def->db,
		    def->name);
		if (ref == NULL)
			ref = shapes_find_table(sh->tables, sh->ntables,
			    def->db, def->name);
	}
	if (ref == NULL || !shapes_same(def, ref->def)) {
		if ((ref = shapes_reload(sh, def->db, def->name,
		    cause)) == NULL)
			return (-1);
		e->keys_gen = sh->keys_gen;
	}
	if (shapes_same(def, ref->def))
		table_def_set_uks(def, ref->def->uks, ref->def->nuk);
	def->known |= TABLE_KNOWN_UNIQUE;
	return (0);
}
