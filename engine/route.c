/*
 * Routing (DESIGN.md §1, §7): the topic of a record (the job's one topic,
 * or a template such as "{db}.{table}" named per table), its partition
 * hash and its key, by the job's policy:
 *
 *	zero	everything to partition 0, no key
 *	table	a hash of "db.table", which is the key
 *	pk	a hash of the row's key values, whose hex is the key (tables
 *		without a key, DDL and heartbeats: partition 0)
 *
 * A transaction's BEGIN and COMMIT go where its first row went.  Routing
 * is deterministic, so a record always lands in the same partition and a
 * resume can skip it by id (the sink's scan).  Runs on the job's thread.
 */
#include "config.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/xmalloc.h"
#include "engine/job_spec.h"
#include "engine/route.h"
#include "engine/sink.h"

#define ROUTE_FNV_BASIS	2166136261u

struct router {
	struct jobctx	*ctx;
	struct sink	*sink;		/* this attempt's */
	int		 job_topic;	/* sink index, or -1 */
	int		 txn_topic;	/* the open transaction's */
	uint32_t	 txn_hash;
	struct buf	 key;
	struct buf	 name;
};

struct router *
router_new(struct jobctx *ctx)
{
	struct router	*rt = xcalloc(1, sizeof *rt);

	rt->ctx = ctx;
	rt->job_topic = -1;
	buf_init(&rt->key);
	buf_init(&rt->name);
	return (rt);
}

void
router_free(struct router *rt)
{
	if (rt == NULL)
		return;
	buf_release(&rt->key);
	buf_release(&rt->name);
	free(rt);
}

/* A new attempt's sink (borrowed until the next bind): no topic yet. */
void
router_bind(struct router *rt, struct sink *sink)
{
	rt->sink = sink;
	rt->job_topic = -1;
}

static uint32_t
route_fnv(uint32_t h, const void *p, size_t len)
{
	const uint8_t	*b = p;

	while (len-- > 0)
		h = (h ^ *b++) * 16777619u;
	return (h);
}

/* The hash of a row's key values (the pk partition policy). */
static uint32_t
route_key_hash(const struct table_def *t, const struct value *v)
{
	uint32_t	 h = ROUTE_FNV_BASIS, i;
	const struct value *x;

	for (i = 0; i < t->npk; i++) {
		x = &v[t->pk[i]];
		h = route_fnv(h, &x->kind, 1);
		switch (x->kind) {
		case VALUE_INT:
			h = route_fnv(h, &x->i, sizeof x->i);
			break;
		case VALUE_UINT:
		case VALUE_ENUM:
		case VALUE_SET:
		case VALUE_BIT:
			h = route_fnv(h, &x->u, sizeof x->u);
			break;
		case VALUE_DATE:
		case VALUE_TIME:
		case VALUE_DATETIME:
			h = route_fnv(h, &x->t.year, sizeof x->t.year);
			h = route_fnv(h, &x->t.month, 1);
			h = route_fnv(h, &x->t.day, 1);
			h = route_fnv(h, &x->t.hour, sizeof x->t.hour);
			h = route_fnv(h, &x->t.minute, 1);
			h = route_fnv(h, &x->t.second, 1);
			h = route_fnv(h, &x->t.usec, sizeof x->t.usec);
			break;
		case VALUE_TIMESTAMP:
			h = route_fnv(h, &x->ts.sec, sizeof x->ts.sec);
			h = route_fnv(h, &x->ts.usec, sizeof x->ts.usec);
			break;
		case VALUE_FLOAT:
			h = route_fnv(h, &x->f, sizeof x->f);
			break;
		case VALUE_DOUBLE:
			h = route_fnv(h, &x->d, sizeof x->d);
			break;
		case VALUE_ABSENT:
		case VALUE_NULL:
			break;
		default:
			h = route_fnv(h, x->bytes.p, x->bytes.len);
			break;
		}
	}
	return (h);
}

/*
 * The partition hash of one row image of table t under the pk policy:
 * 1 with *hash, or 0 when the policy is another or the table has no key.
 */
int
router_image_hash(const struct router *rt, const struct table_def *t,
    const struct value *v, uint32_t *hash)
{
	if (rt->ctx->spec->partition != JOB_PARTITION_PK || t->npk == 0)
		return (0);
	*hash = route_key_hash(t, v);
	return (1);
}

/* A table's topic from a template ("{db}.{table}"): Kafka's topic
 * characters; anything else in a db or table name is '_'. */
void
route_topic_name(const char *tmpl, const char *db, const char *table,
    struct buf *b)
{
	const char	*p, *v;

	buf_reset(b);
	for (p = tmpl; *p != '\0'; p++) {
		if (strncmp(p, "{db}", 4) == 0 || strncmp(p, "{table}", 7) == 0) {
			v = p[1] == 'd' ? db : table;
			for (; *v != '\0'; v++) {
				buf_addc(b, (*v >= 'a' && *v <= 'z') ||
				    (*v >= 'A' && *v <= 'Z') || (*v >= '0' &&
				    *v <= '9') || *v == '.' || *v == '_' ||
				    *v == '-' ? (unsigned char)*v : '_');
			}
			p += p[1] == 'd' ? 3 : 6;
			continue;
		}
		buf_addc(b, (unsigned char)*p);
	}
}

/* The sink's index of the job's one topic; -1: it has a template only. */
int
router_job_topic(const struct router *rt)
{
	return (rt->job_topic);
}

/* The sink topic index for a table's records; -1 with *cause. */
int
router_table_topic(struct router *rt, const char *db, const char *table,
    char **cause)
{
	const struct job_spec	*spec = rt->ctx->spec;
	int			 idx;

	if (spec->topic_template == NULL || table == NULL)
		return (rt->job_topic);
	route_topic_name(spec->topic_template, db, table, &rt->name);
	idx = sink_topic(rt->sink, buf_str(&rt->name), cause);
	if (idx < 0)
		rt->ctx->permanent = 1;
	return (idx);
}

/*
 * Open the job's topic and every table's (of n tables, by db and name) on
 * the sink: a topic that does not exist fails the job.
 */
int
router_open(struct router *rt, const char *const *db,
    const char *const *table, size_t n, char **cause)
{
	const struct job_spec	*spec = rt->ctx->spec;
	size_t			 i;

	rt->job_topic = -1;
	if (spec->topic != NULL &&
	    (rt->job_topic = sink_topic(rt->sink, spec->topic, cause)) < 0) {
		rt->ctx->permanent = strstr(*cause, "does not exist") != NULL;
		return (-1);
	}
	for (i = 0; i < n; i++) {
		if (router_table_topic(rt, db[i], table[i], cause) < 0) {
			rt->ctx->permanent = strstr(*cause, "does not exist") !=
			    NULL;
			return (-1);
		}
	}
	return (0);
}

/* The hash of "db.table", which becomes the key when keep is set. */
static uint32_t
route_table_hash(struct router *rt, const struct table_def *t, int keep)
{
	uint32_t	 h;

	buf_printf(&rt->key, "%s.%s", t->db, t->name);
	h = route_fnv(ROUTE_FNV_BASIS, rt->key.data, rt->key.len);
	if (!keep)
		buf_reset(&rt->key);
	return (h);
}

/*
 * Where c goes: its topic (-1 with *cause NULL when it has none), partition
 * hash and key.  Keeps the transaction's route for its COMMIT.
 */
int
router_route(struct router *rt, const struct change *c, struct route *r,
    char **cause)
{
	enum job_partition	 policy = rt->ctx->spec->partition;
	const struct table_def	*t = c->table;

	r->hash = 0;
	r->hashed = 0;
	buf_reset(&rt->key);
	switch (c->kind) {
	case CHANGE_ROW:
	case CHANGE_INIT:
		if ((r->topic = router_table_topic(rt, t->db, t->name,
		    cause)) < 0)
			return (-1);
		if (policy == JOB_PARTITION_TABLE) {
			r->hash = route_table_hash(rt, t, 1);
			r->hashed = 1;
		} else if (policy == JOB_PARTITION_PK && t->npk > 0) {
			r->hash = route_key_hash(t, c->after != NULL ?
			    c->after : c->before);
			r->hashed = 1;
			buf_printf(&rt->key, "%08" PRIx32, r->hash);
		}
		break;
	case CHANGE_BEGIN:
		r->topic = t != NULL ? router_table_topic(rt, t->db, t->name,
		    cause) : rt->job_topic;
		if (r->topic < 0 && t != NULL)
			return (-1);
		rt->txn_topic = r->topic;
		rt->txn_hash = t != NULL && policy == JOB_PARTITION_TABLE ?
		    route_table_hash(rt, t, 0) : 0;
		r->hash = rt->txn_hash;
		r->hashed = r->hash != 0;
		break;
	case CHANGE_COMMIT:
	case CHANGE_ROLLBACK:
		r->topic = rt->txn_topic;
		r->hash = rt->txn_hash;
		r->hashed = r->hash != 0;
		break;
	default:
		/* DDL, heartbeats: the job's topic, or for a template the
		 * table's when a schema sync names it. */
		r->topic = c->table != NULL ? router_table_topic(rt,
		    c->table->db, c->table->name, cause) : rt->job_topic;
		if (r->topic < 0 && *cause != NULL)
			return (-1);
		break;
	}
	r->key = rt->key.data;
	r->keylen = rt->key.len;
	return (0);
}
