/*
 * The precheck's report: items in the order they were checked, each with
 * its result, what was found and what to do.  The checks themselves are
 * in engine/precheck_source.c (the MySQL side: settings, privileges,
 * tables) and engine/precheck_kafka.c (the targets).
 */
#include "config.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/json.h"
#include "common/xmalloc.h"
#include "engine/precheck.h"

void
precheck_init(struct precheck *pc)
{
	memset(pc, 0, sizeof *pc);
}

void
precheck_release(struct precheck *pc)
{
	size_t	i;

	for (i = 0; i < pc->n; i++) {
		free(pc->items[i].name);
		free(pc->items[i].found);
		free(pc->items[i].fix);
	}
	free(pc->items);
	precheck_init(pc);
}

/* Add an item: its result, name, fix (NULL, and always "" on a pass) and
 * what was found. */
void
precheck_add(struct precheck *pc, enum precheck_result r, const char *name,
    const char *fix, const char *fmt, ...)
{
	struct precheck_item	*it;
	va_list			 ap;

	pc->items = xreallocarray(pc->items, pc->n + 1, sizeof *pc->items);
	it = &pc->items[pc->n++];
	memset(it, 0, sizeof *it);
	it->name = xstrdup(name);
	it->result = r;
	va_start(ap, fmt);
	it->found = xvasprintf(fmt, ap);
	va_end(ap);
	it->fix = xstrdup(r == PRECHECK_PASS || fix == NULL ? "" : fix);
}

/* Everything: the source, then the targets (with the tables found). */
void
precheck_run(struct job_spec *spec, const struct precheck_opts *o,
    struct precheck *pc)
{
	struct precheck_table	*t = NULL;
	size_t			 n = 0;

	precheck_source(spec, o, pc, &t, &n);
	precheck_targets(spec, t, n, pc);
	precheck_tables_free(t, n);
}

size_t
precheck_count(const struct precheck *pc, enum precheck_result r)
{
	size_t	i, n = 0;

	for (i = 0; i < pc->n; i++)
		n += pc->items[i].result == r;
	return (n);
}

/* 1 when every failing item may pass by itself (a server that is down):
 * the daemon retries then, instead of failing the job. */
int
precheck_transient(const struct precheck *pc)
{
	size_t	i;

	for (i = 0; i < pc->n; i++) {
		if (pc->items[i].result == PRECHECK_FAIL &&
		    !pc->items[i].transient)
			return (0);
	}
	return (1);
}

const char *
precheck_result_name(enum precheck_result r)
{
	switch (r) {
	case PRECHECK_PASS:
		return ("pass");
	case PRECHECK_WARN:
		return ("warn");
	case PRECHECK_FAIL:
		break;
	}
	return ("fail");
}

/* The failing items as one sentence each ("name: found; fix: ..."),
 * joined by " | ", for a job's error. */
char *
precheck_failures(const struct precheck *pc)
{
	struct buf	 b = BUF_INITIALIZER;
	size_t		 i, n = precheck_count(pc, PRECHECK_FAIL);
	char		*s;

	buf_printf(&b, "precheck failed (%zu item%s): ", n, n == 1 ? "" :
	    "s");
	for (i = 0, n = 0; i < pc->n; i++) {
		if (pc->items[i].result != PRECHECK_FAIL)
			continue;
		buf_printf(&b, "%s%s: %s", n++ > 0 ? " | " : "",
		    pc->items[i].name, pc->items[i].found);
		if (*pc->items[i].fix != '\0')
			buf_printf(&b, "; fix: %s", pc->items[i].fix);
	}
	s = xstrndup((const char *)b.data, b.len);
	buf_release(&b);
	return (s);
}

/* {"job": ID, "ok": BOOL, "items": [{"name", "result", "found", "fix"}]} */
void
precheck_json(const struct precheck *pc, int64_t job, struct buf *b)
{
	size_t	i;

	buf_printf(b, "{\"job\":%lld,\"ok\":%s,\"items\":[", (long long)job,
	    precheck_count(pc, PRECHECK_FAIL) == 0 ? "true" : "false");
	for (i = 0; i < pc->n; i++) {
		buf_adds(b, i > 0 ? ",{" : "{");
		json_add_key(b, "name");
		json_add_cstring(b, pc->items[i].name);
		buf_addc(b, ',');
		json_add_key(b, "result");
		json_add_cstring(b, precheck_result_name(pc->items[i].result));
		buf_addc(b, ',');
		json_add_key(b, "found");
		json_add_cstring(b, pc->items[i].found);
		buf_addc(b, ',');
		json_add_key(b, "fix");
		json_add_cstring(b, pc->items[i].fix);
		buf_addc(b, '}');
	}
	buf_adds(b, "]}");
}
