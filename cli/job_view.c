/*
 * How the CLI shows jobs: the JSON object of `job show --json` (also the
 * items of `job list --json` and `status --json`), the text of `job show`,
 * the tables of `job list` and `status`.
 *
 * Endpoints are read once per listing, not once per job, so that a
 * thousand jobs list in a few milliseconds (bench/store.sh).
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/cli_job.h"
#include "cli/cli_store.h"
#include "common/buf.h"
#include "common/json.h"
#include "common/xmalloc.h"
#include "scheduler/store.h"

struct job_view {
	struct store		*s;
	struct endpoint		*eps;
	size_t			 neps;
	struct job_progress	*prog;	/* listings: every job's, by id */
	size_t			 nprog;
	struct job_progress	 one;	/* otherwise: the last job's */
};

static void	view_free(struct job_view *);

/* bulk: read every job's checkpoint and statistics at once. */
static int
view_init(struct job_view *v, struct store *s, int64_t tenant, int bulk,
    char **cause)
{
	memset(v, 0, sizeof *v);
	v->s = s;
	if (store_endpoint_list(s, tenant, &v->eps, &v->neps, cause) != 0 ||
	    (bulk && store_progress_list(s, tenant, &v->prog, &v->nprog,
	    cause) != 0)) {
		view_free(v);
		return (-1);
	}
	return (0);
}

static void
view_free(struct job_view *v)
{
	size_t	 i;

	for (i = 0; i < v->neps; i++)
		endpoint_release(&v->eps[i]);
	free(v->eps);
	job_progress_list_free(v->prog, v->nprog);
	checkpoint_release(&v->one.cp);
	memset(v, 0, sizeof *v);
}

/* The job's checkpoint and statistics. */
static const struct job_progress *
view_progress(struct job_view *v, const struct job *j, char **cause)
{
	size_t	 lo = 0, hi = v->nprog, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (v->prog[mid].job_id == j->id)
			return (&v->prog[mid]);
		if (v->prog[mid].job_id < j->id)
			lo = mid + 1;
		else
			hi = mid;
	}
	checkpoint_release(&v->one.cp);
	v->one.job_id = j->id;
	if (store_checkpoint_get(v->s, j->id, &v->one.cp, cause) != 0 ||
	    store_stats_get(v->s, j->id, &v->one.stats, cause) != 0)
		return (NULL);
	return (&v->one);
}

static const struct endpoint *
view_endpoint(const struct job_view *v, int64_t id)
{
	size_t	 i;

	for (i = 0; i < v->neps; i++) {
		if (v->eps[i].id == id)
			return (&v->eps[i]);
	}
	return (NULL);
}

static const char *
view_endpoint_name(const struct job_view *v, int64_t id)
{
	const struct endpoint	*e = view_endpoint(v, id);

	return (e != NULL ? e->name : "?");
}

/* "db.table" with backticks where a name needs them to read back. */
static void
object_text(struct buf *b, const struct job_object *o)
{
	const char	*names[2] = { o->db, o->table };
	const char	*p;
	int		 i;

	for (i = 0; i < 2; i++) {
		if (i == 1)
			buf_addc(b, '.');
		if (i == 1 && strcmp(names[i], "*") == 0) {
			buf_addc(b, '*');
			continue;
		}
		if (strcspn(names[i], ".,` \t") == strlen(names[i]) &&
		    strcmp(names[i], "*") != 0) {
			buf_adds(b, names[i]);
			continue;
		}
		buf_addc(b, '`');
		for (p = names[i]; *p != '\0'; p++) {
			if (*p == '`')
				buf_addc(b, '`');
			buf_addc(b, *p);
		}
		buf_addc(b, '`');
	}
}

/* Percent of the full sync done, or -1 when unknown. */
static int
full_percent(const struct job_stats *st)
{
	int64_t	 pct;

	if (st->rows_estimated <= 0) {
		if (st->tables_total > 0)
			return ((int)(st->tables_done * 100 /
			    st->tables_total));
		return (-1);
	}
	pct = st->rows_copied * 100 / st->rows_estimated;
	if (pct > 99 && st->tables_done < st->tables_total)
		pct = 99;	/* estimates are estimates */
	return ((int)(pct > 100 ? 100 : pct));
}

static void
json_time(struct buf *b, const char *key, int64_t ms)
{
	buf_addc(b, ',');
	json_add_key(b, key);
	if (ms > 0)
		buf_printf(b, "%" PRId64, ms);
	else
		buf_adds(b, "null");
}

static int
view_json(struct job_view *v, const struct job *j, struct buf *b,
    char **cause)
{
	const struct job_progress	*jp;
	const struct checkpoint		*cp;
	const struct job_stats		*st;
	struct buf			 o = BUF_INITIALIZER;
	size_t				 i;
	int				 pct;

	if ((jp = view_progress(v, j, cause)) == NULL)
		return (-1);
	cp = &jp->cp;
	st = &jp->stats;
	buf_addc(b, '{');
	cli_json_int(b, "id", j->id, 1);
	cli_json_str(b, "name", j->name, 0);
	cli_json_str(b, "state", job_state_name(j->state), 0);
	cli_json_str(b, "error", j->error, 0);

	buf_adds(b, ",\"phase_progress\":");
	if (st->updated_at == 0)
		buf_adds(b, "null");
	else {
		buf_addc(b, '{');
		cli_json_int(b, "tables_done", st->tables_done, 1);
		cli_json_int(b, "tables_total", st->tables_total, 0);
		cli_json_int(b, "rows_copied", st->rows_copied, 0);
		cli_json_int(b, "rows_estimated", st->rows_estimated, 0);
		buf_adds(b, ",\"percent\":");
		if ((pct = full_percent(st)) < 0)
			buf_adds(b, "null");
		else
			buf_printf(b, "%d", pct);
		buf_addc(b, '}');
	}

	buf_adds(b, ",\"checkpoint\":{");
	cli_json_str(b, "file", cp->file, 1);
	buf_adds(b, ",\"pos\":");
	if (cp->file != NULL)
		buf_printf(b, "%" PRIu64, cp->pos);
	else
		buf_adds(b, "null");
	cli_json_str(b, "gtid", cp->gtid, 0);
	json_time(b, "updated_at", cp->updated_at);
	buf_adds(b, ",\"server_id\":");
	if (cp->server_id != 0)
		buf_printf(b, "%" PRIu32, cp->server_id);
	else
		buf_adds(b, "null");
	cli_json_str(b, "server", cp->server, 0);
	buf_addc(b, '}');
	cli_json_str(b, "reading", st->server[0] != '\0' ? st->server : NULL,
	    0);
	cli_json_str(b, "binlog_reader", st->server[0] == '\0' ? NULL :
	    st->reader_jobs > 0 ? "shared" : "own", 0);
	cli_json_int(b, "reader_jobs", st->reader_jobs, 0);
	cli_json_int(b, "throttled_ms", st->throttled_ms, 0);

	buf_adds(b, ",\"lag_seconds\":");
	if (st->lag_seconds < 0)
		buf_adds(b, "null");
	else
		buf_printf(b, "%" PRId64, st->lag_seconds);
	buf_adds(b, ",\"lag_bytes\":");
	if (st->lag_bytes < 0)
		buf_adds(b, "null");
	else
		buf_printf(b, "%" PRId64, st->lag_bytes);
	buf_adds(b, ",\"rows_per_sec\":");
	json_add_double(b, st->rows_per_sec);
	buf_adds(b, st->ck_oldest ? ",\"checkpoint_in_oldest_binlog\":true" :
	    ",\"checkpoint_in_oldest_binlog\":false");

	cli_json_str(b, "source", view_endpoint_name(v, j->source_id), 0);
	buf_adds(b, ",\"targets\":[");
	for (i = 0; i < j->ntargets; i++) {
		if (i > 0)
			buf_addc(b, ',');
		json_add_cstring(b, view_endpoint_name(v, j->target_ids[i]));
	}
	buf_addc(b, ']');
	cli_json_str(b, "topic", j->topic, 0);
	cli_json_str(b, "topic_template", j->topic_template, 0);
	buf_adds(b, ",\"tables\":[");
	for (i = 0; i < j->nobjects; i++) {
		if (i > 0)
			buf_addc(b, ',');
		buf_reset(&o);
		object_text(&o, &j->objects[i]);
		json_add_cstring(b, buf_str(&o));
	}
	buf_addc(b, ']');
	buf_adds(b, ",\"initial\":[");
	if (j->initial_schema)
		buf_adds(b, "\"schema\"");
	if (j->initial_full)
		buf_adds(b, j->initial_schema ? ",\"full\"" : "\"full\"");
	buf_addc(b, ']');
	cli_json_str(b, "ddl", j->ddl, 0);
	cli_json_str(b, "partition", j->partition, 0);
	cli_json_str(b, "large_row", j->large_row, 0);
	buf_printf(b, ",\"allow_no_key\":%s", j->allow_no_key ? "true" :
	    "false");
	buf_adds(b, ",\"max_memory\":");
	if (j->max_memory < 0)
		buf_adds(b, "null");
	else
		buf_printf(b, "%" PRId64, j->max_memory);
	cli_json_int(b, "server_id", j->server_id, 0);
	if (j->identity != NULL)
		cli_json_str(b, "identity", j->identity, 0);
	else {
		char	id[24];

		snprintf(id, sizeof id, "%lld", (long long)j->id);
		cli_json_str(b, "identity", id, 0);
	}
	cli_json_int(b, "attempts", j->attempts, 0);
	json_time(b, "next_attempt_at", j->next_attempt_at);
	json_time(b, "created_at", j->created_at);
	json_time(b, "updated_at", j->updated_at);
	json_time(b, "started_at", j->started_at);
	buf_addc(b, '}');
	buf_release(&o);
	return (0);
}

int
cli_job_json(struct store *s, const struct job *j, struct buf *b,
    char **cause)
{
	struct job_view	 v;
	int		 rc;

	if (view_init(&v, s, j->tenant_id, 0, cause) != 0)
		return (-1);
	rc = view_json(&v, j, b, cause);
	view_free(&v);
	return (rc);
}

/* "[########............]  42%" */
static void
progress_bar(struct buf *b, int pct, int width)
{
	int	 i, full = pct * width / 100;

	buf_addc(b, '[');
	for (i = 0; i < width; i++)
		buf_addc(b, i < full ? '#' : '.');
	buf_printf(b, "] %3d%%", pct);
}

static void
size_text(char *out, size_t len, int64_t v)
{
	if (v < 0)
		snprintf(out, len, "unlimited");
	else if (v >= 1024 * 1024 * 1024 && v % (1024 * 1024 * 1024) == 0)
		snprintf(out, len, "%" PRId64 "G", v / (1024 * 1024 * 1024));
	else if (v >= 1024 * 1024 && v % (1024 * 1024) == 0)
		snprintf(out, len, "%" PRId64 "M", v / (1024 * 1024));
	else if (v >= 1024 && v % 1024 == 0)
		snprintf(out, len, "%" PRId64 "K", v / 1024);
	else
		snprintf(out, len, "%" PRId64, v);
}

/* The short progress of a job: "3/5 tables, 42%", "lag 2 s", "-". */
static void
progress_text(struct buf *b, const struct job *j, const struct job_stats *st,
    int tty)
{
	int	 pct;

	if (st->updated_at == 0) {
		buf_addc(b, '-');
		return;
	}
	if (j->state == JOB_FULL_SYNC || (st->tables_total > 0 &&
	    st->tables_done < st->tables_total)) {
		pct = full_percent(st);
		if (tty && pct >= 0) {
			progress_bar(b, pct, 20);
			buf_printf(b, " %" PRId64 "/%" PRId64 " tables",
			    st->tables_done, st->tables_total);
		} else {
			buf_printf(b, "%" PRId64 "/%" PRId64 " tables, %"
			    PRId64 "/%" PRId64 " rows", st->tables_done,
			    st->tables_total, st->rows_copied,
			    st->rows_estimated);
			if (pct >= 0)
				buf_printf(b, " (%d%%)", pct);
		}
		return;
	}
	if (st->lag_seconds >= 0)
		buf_printf(b, "lag %" PRId64 " s, %" PRId64 " bytes, %.0f "
		    "rows/s", st->lag_seconds, st->lag_bytes,
		    st->rows_per_sec);
	else
		buf_addc(b, '-');
	if (st->ck_oldest)
		buf_adds(b, "; WARNING: checkpoint in the source's oldest "
		    "binlog");
}

int
cli_job_print(struct store *s, const struct job *j, char **cause)
{
	struct job_view			 v;
	struct checkpoint		 cp;
	struct job_stats		 st;
	struct snapshot_progress	*sp = NULL;
	struct buf			 b = BUF_INITIALIZER;
	const struct endpoint		*e;
	char				 when[32], size[32];
	size_t				 i, nsp = 0;
	int				 tty = isatty(STDOUT_FILENO), rc = -1;

	if (view_init(&v, s, j->tenant_id, 0, cause) != 0)
		return (-1);
	memset(&cp, 0, sizeof cp);
	if (store_checkpoint_get(s, j->id, &cp, cause) != 0 ||
	    store_stats_get(s, j->id, &st, cause) != 0 ||
	    store_snapshot_list(s, j->id, &sp, &nsp, cause) != 0)
		goto out;
	printf("job %" PRId64 " '%s'\n", j->id, j->name);
	printf("  state       %s\n", job_state_name(j->state));
	if (j->error != NULL)
		printf("  error       %s\n", j->error);
	if (j->attempts > 0) {
		cli_time(j->next_attempt_at, when, sizeof when);
		printf("  attempts    %" PRId64 ", next at %s\n", j->attempts,
		    when);
	}
	e = view_endpoint(&v, j->source_id);
	printf("  source      %s (%s)\n", e != NULL ? e->name : "?",
	    e != NULL ? e->address : "?");
	for (i = 0; i < j->ntargets; i++) {
		e = view_endpoint(&v, j->target_ids[i]);
		printf("  %s %s (%s)\n", i == 0 ? "target     " :
		    "           ", e != NULL ? e->name : "?",
		    e != NULL ? e->address : "?");
	}
	if (j->topic != NULL)
		printf("  topic       %s\n", j->topic);
	if (j->topic_template != NULL)
		printf("  topics      %s\n", j->topic_template);
	buf_reset(&b);
	for (i = 0; i < j->nobjects; i++) {
		if (i > 0)
			buf_adds(&b, ", ");
		object_text(&b, &j->objects[i]);
	}
	printf("  tables      %s\n", buf_str(&b));
	printf("  initial     %s\n", j->initial_schema && j->initial_full ?
	    "schema, full" : j->initial_schema ? "schema" : j->initial_full ?
	    "full" : "none");
	printf("  ddl         %s\n", j->ddl);
	printf("  partition   %s\n", j->partition);
	printf("  large rows  %s\n", j->large_row);
	if (j->allow_no_key)
		printf("  keys        tables without a key allowed\n");
	size_text(size, sizeof size, j->max_memory);
	printf("  memory      %s\n", size);
	printf("  server_id   %" PRIu32 "\n", j->server_id);
	if (st.server[0] != '\0' && st.reader_jobs > 0)
		printf("  reading     %s, on the shared binlog reader (%d "
		    "job%s)\n", st.server, st.reader_jobs,
		    st.reader_jobs == 1 ? "" : "s");
	else if (st.server[0] != '\0')
		printf("  reading     %s, on its own connection\n", st.server);
	if (st.throttled_ms > 0)
		printf("  throttled   %" PRId64 ".%03d s waiting for the "
		    "tenant's rows/s quota\n", st.throttled_ms / 1000,
		    (int)(st.throttled_ms % 1000));
	if (cp.file != NULL || cp.gtid != NULL) {
		printf("  checkpoint  %s:%" PRIu64 "%s%s%s%s\n", cp.file != NULL ?
		    cp.file : "-", cp.pos, cp.server != NULL ? " of " : "",
		    cp.server != NULL ? cp.server : "", cp.gtid != NULL ?
		    "  gtid " : "", cp.gtid != NULL ? cp.gtid : "");
	} else
		printf("  checkpoint  none yet\n");
	if (st.ck_oldest)
		printf("  warning     the checkpoint is in the oldest binlog the "
		    "source still has (%s):\n              once it is purged the "
		    "job needs ferry job resnapshot;\n              keep binlogs "
		    "longer (binlog_expire_logs_seconds, expire_logs_days)\n",
		    cp.file != NULL ? cp.file : "-");
	buf_reset(&b);
	progress_text(&b, j, &st, tty);
	printf("  progress    %s\n", buf_str(&b));
	for (i = 0; i < nsp; i++) {
		printf("    %s.%s: %s, %" PRId64 "/%" PRId64 " rows\n",
		    sp[i].db, sp[i].table, sp[i].done ? "copied" : "copying",
		    sp[i].rows_copied, sp[i].rows_estimated);
	}
	cli_time(j->created_at, when, sizeof when);
	printf("  created     %s\n", when);
	cli_time(j->started_at, when, sizeof when);
	printf("  started     %s\n", when);
	cli_time(j->updated_at, when, sizeof when);
	printf("  updated     %s\n", when);
	rc = 0;
out:
	snapshot_list_free(sp, nsp);
	checkpoint_release(&cp);
	buf_release(&b);
	view_free(&v);
	return (rc);
}

int
cli_job_print_list(struct store *s, const struct job *jobs, size_t n,
    int json, char **cause)
{
	struct job_view	 v;
	struct buf	 b = BUF_INITIALIZER, o = BUF_INITIALIZER;
	size_t		 i, k;
	int		 rc = -1;

	if (view_init(&v, s, n > 0 ? jobs[0].tenant_id : 0, json,
	    cause) != 0)
		return (-1);
	if (json) {
		buf_addc(&b, '[');
		for (i = 0; i < n; i++) {
			if (i > 0)
				buf_addc(&b, ',');
			if (view_json(&v, &jobs[i], &b, cause) != 0)
				goto out;
		}
		buf_addc(&b, ']');
		cli_print_json(&b);
		rc = 0;
		goto out;
	}
	printf("%-6s %-20s %-12s %-16s %-16s %s\n", "ID", "NAME", "STATE",
	    "SOURCE", "TARGETS", "TOPIC");
	for (i = 0; i < n; i++) {
		buf_reset(&o);
		for (k = 0; k < jobs[i].ntargets; k++) {
			if (k > 0)
				buf_addc(&o, ',');
			buf_adds(&o, view_endpoint_name(&v,
			    jobs[i].target_ids[k]));
		}
		printf("%-6" PRId64 " %-20s %-12s %-16s %-16s %s\n",
		    jobs[i].id, jobs[i].name, job_state_name(jobs[i].state),
		    view_endpoint_name(&v, jobs[i].source_id), buf_str(&o),
		    jobs[i].topic != NULL ? jobs[i].topic :
		    jobs[i].topic_template);
	}
	rc = 0;
out:
	buf_release(&b);
	buf_release(&o);
	view_free(&v);
	return (rc);
}

/* ferry status: one line per job, or the JSON array of jobs. */
int
cli_job_print_status(struct store *s, const struct job *jobs, size_t n,
    int json, int tty, char **cause)
{
	struct job_view			 v;
	const struct job_progress	*jp;
	struct buf			 b = BUF_INITIALIZER;
	size_t				 i;
	int				 rc = -1;

	if (json)
		return (cli_job_print_list(s, jobs, n, 1, cause));
	if (view_init(&v, s, n > 0 ? jobs[0].tenant_id : 0, 1, cause) != 0)
		return (-1);
	printf("%-6s %-20s %-12s %-24s %s\n", "ID", "NAME", "STATE",
	    "CHECKPOINT", "PROGRESS");
	for (i = 0; i < n; i++) {
		if ((jp = view_progress(&v, &jobs[i], cause)) == NULL)
			goto out;
		buf_reset(&b);
		if (jp->cp.file != NULL)
			buf_printf(&b, "%s:%" PRIu64, jp->cp.file, jp->cp.pos);
		else
			buf_addc(&b, '-');
		printf("%-6" PRId64 " %-20s %-12s %-24s ", jobs[i].id,
		    jobs[i].name, job_state_name(jobs[i].state), buf_str(&b));
		buf_reset(&b);
		progress_text(&b, &jobs[i], &jp->stats, tty);
		printf("%s\n", buf_str(&b));
		if (jobs[i].error != NULL)
			printf("%-6s error: %s\n", "", jobs[i].error);
	}
	rc = 0;
out:
	buf_release(&b);
	view_free(&v);
	return (rc);
}

/* What a user's action did: "job 3 'orders': created -> queued ...". */
void
cli_job_action_done(const struct job *j, const char *action)
{
	printf("job %" PRId64 " '%s' is %s", j->id, j->name,
	    job_state_name(j->state));
	if (strcmp(action, "start") == 0 || strcmp(action, "resume") == 0 ||
	    strcmp(action, "retry") == 0)
		printf("; a daemon (ferry serve) on this store runs it");
	printf("\n");
}
