/*
 * ferry job create|list|show|log|start|stop|pause|resume|retry|rm: the
 * job queue of the current tenant.
 *
 * create only records the job (state "created"); start queues it for a
 * daemon (ferry serve); the other actions are transitions of the state
 * machine in scheduler/store_job.c, which refuses the ones that do not
 * apply and says what would.  Everything a command refuses leaves the store
 * as it was: validation happens before the store is opened for writing,
 * and each change is one transaction.
 */
#include "config.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/cli.h"
#include "cli/cli_job.h"
#include "cli/cli_store.h"
#include "common/buf.h"
#include "common/json.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "scheduler/store.h"

static void
job_usage(FILE *fp)
{
	fprintf(fp,
	    "usage: ferry job create NAME --source EP --target EP[,EP...]\n"
	    "             (--topic TOPIC | --topic-template '{db}.{table}')\n"
	    "             --tables DB.TABLE|DB.*[,...]\n"
	    "             [--initial schema,full|schema|full|none] "
	    "[--ddl ignore|forward]\n"
	    "             [--partition zero|table|pk] [--large-row fail|skip]\n"
	    "             [--max-memory SIZE] [--allow-no-key] [--json]\n"
	    "       ferry job list [--json]\n"
	    "       ferry job show JOB [--json]\n"
	    "       ferry job log JOB [--json]\n"
	    "       ferry job start|stop|pause|resume|retry|rm JOB\n"
	    "       ferry job add-tables JOB DB.TABLE|DB.*[,...]\n"
	    "       ferry job resnapshot JOB [DB.TABLE[,...]]\n"
	    "\n"
	    "JOB is a job's id, or its name when no other job of the tenant "
	    "has it.\n"
	    "create records a job; start queues it for the daemon (ferry "
	    "serve).\n"
	    "add-tables selects more tables: a running job restarts, copies "
	    "their schema and\nrows at a snapshot of their own (as its "
	    "--initial says), then follows them in the\nbinlog with the "
	    "others.\n"
	    "resnapshot copies tables again (all when none is named) from a "
	    "new snapshot, as\na new generation of INIT records, then follows "
	    "the binlog from there: for a job\nwhose binlog position was "
	    "purged, or on demand.  A failed job is queued again.\n");
}

/* Kafka's rule for topic names: [a-zA-Z0-9._-], at most 249. */
static int
topic_char(int c)
{
	return ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-');
}

int
cli_check_topic(const char *t, char **cause)
{
	const char	*p;

	if (*t == '\0' || strlen(t) > 249) {
		*cause = xstrdup("a topic name has 1 to 249 characters");
		return (-1);
	}
	if (strcmp(t, ".") == 0 || strcmp(t, "..") == 0) {
		*cause = xasprintf("'%s' is not a valid topic name", t);
		return (-1);
	}
	for (p = t; *p != '\0'; p++) {
		if (!topic_char((unsigned char)*p)) {
			*cause = xasprintf("topic '%s' has a character Kafka "
			    "does not allow (letters, digits, '.', '_' and '-' "
			    "only)", t);
			return (-1);
		}
	}
	return (0);
}

/*
 * A topic template: topic characters and the placeholders {db} and
 * {table}, at least one of them.
 */
int
cli_check_topic_template(const char *t, char **cause)
{
	const char	*p, *end;
	int		 placeholders = 0;

	if (*t == '\0' || strlen(t) > 249) {
		*cause = xstrdup("a topic template has 1 to 249 characters");
		return (-1);
	}
	for (p = t; *p != '\0'; p++) {
		if (*p == '{') {
			if ((end = strchr(p, '}')) == NULL) {
				*cause = xasprintf("topic template '%s' has a "
				    "'{' without its '}'", t);
				return (-1);
			}
			if ((end - p == 3 && strncmp(p, "{db}", 4) == 0) ||
			    (end - p == 6 && strncmp(p, "{table}", 7) == 0)) {
				placeholders++;
				p = end;
				continue;
			}
			*cause = xasprintf("topic template '%s' has an unknown "
			    "placeholder '%.*s' (known: {db} and {table})", t,
			    (int)(end - p + 1), p);
			return (-1);
		}
		if (!topic_char((unsigned char)*p)) {
			*cause = xasprintf("topic template '%s' has a character "
			    "Kafka does not allow in a topic name (letters, "
			    "digits, '.', '_', '-' and the placeholders {db} and "
			    "{table})", t);
			return (-1);
		}
	}
	if (placeholders == 0) {
		*cause = xasprintf("topic template '%s' has no placeholder; "
		    "for one topic use --topic", t);
		return (-1);
	}
	return (0);
}

/* One name of a table list: `quoted` (`` for a backtick) or bare. */
static int
table_name(const char **pp, const char *what, char **out, int *star,
    char **cause)
{
	const char	*p = *pp;
	struct buf	 b = BUF_INITIALIZER;
	int		 quoted = 0;

	*star = 0;
	if (*p == '`') {
		quoted = 1;
		for (p++;; p++) {
			if (*p == '\0') {
				*cause = xasprintf("a %s name opened with ` is "
				    "not closed", what);
				goto fail;
			}
			if (*p == '`') {
				if (p[1] != '`')
					break;
				p++;
			}
			buf_addc(&b, *p);
		}
		p++;
	} else {
		while (*p != '\0' && *p != '.' && *p != ',' && *p != ' ' &&
		    *p != '\t' && *p != '`')
			buf_addc(&b, *p++);
	}
	if (b.len == 0) {
		*cause = xasprintf("an empty %s name", what);
		goto fail;
	}
	if (b.len > 64) {
		*cause = xasprintf("%s name '%s' is longer than MySQL allows "
		    "(64)", what, buf_str(&b));
		goto fail;
	}
	if (b.len == 1 && b.data[0] == '*')
		*star = quoted ? -1 : 1;
	*out = xstrdup(buf_str(&b));
	buf_release(&b);
	*pp = p;
	return (0);
fail:
	buf_release(&b);
	return (-1);
}

/*
 * Add "db.table" and "db.*" items of a comma-separated list to objs.
 * Names may be quoted with backticks, for dots and commas in them.
 */
int
cli_parse_tables(const char *spec, struct job_object **objs, size_t *n,
    char **cause)
{
	const char	*p = spec;
	char		*db, *table;
	int		 star;

	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0' || *p == ',') {
			*cause = xasprintf("--tables '%s' has an empty item; "
			    "each item is DB.TABLE or DB.*", spec);
			return (-1);
		}
		if (table_name(&p, "database", &db, &star, cause) != 0)
			return (-1);
		if (star != 0) {
			*cause = xasprintf("--tables '%s': give the database "
			    "by name (DB.TABLE or DB.*)", spec);
			free(db);
			return (-1);
		}
		if (*p != '.') {
			*cause = xasprintf("--tables '%s': '%s' has no table; "
			    "write %s.TABLE, or %s.* for all its tables", spec,
			    db, db, db);
			free(db);
			return (-1);
		}
		p++;
		if (table_name(&p, "table", &table, &star, cause) != 0) {
			free(db);
			return (-1);
		}
		if (star < 0) {
			*cause = xasprintf("--tables '%s': a table named '*' "
			    "cannot be selected (unquoted, * means every "
			    "table)", spec);
			free(db);
			free(table);
			return (-1);
		}
		*objs = xreallocarray(*objs, *n + 1, sizeof **objs);
		(*objs)[*n].db = db;
		(*objs)[*n].table = table;
		(*n)++;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			return (0);
		if (*p != ',') {
			*cause = xasprintf("--tables '%s': unexpected '%c' "
			    "after %s.%s", spec, *p, db, table);
			return (-1);
		}
		p++;
	}
}

static int
one_of(const char *opt, const char *v, const char *const *allowed)
{
	struct buf	 b = BUF_INITIALIZER;
	size_t		 i;

	for (i = 0; allowed[i] != NULL; i++) {
		if (strcmp(v, allowed[i]) == 0)
			return (0);
	}
	for (i = 0; allowed[i] != NULL; i++) {
		if (i > 0)
			buf_adds(&b, allowed[i + 1] == NULL ? " or " : ", ");
		buf_adds(&b, allowed[i]);
	}
	cli_usage_error("%s must be %s, not '%s'", opt, buf_str(&b), v);
	buf_release(&b);
	return (-1);
}

/* "schema,full", "full", "none", ... */
static int
parse_initial(const char *v, struct job *j)
{
	const char	*p = v, *e;
	size_t		 len;

	j->initial_schema = j->initial_full = 0;
	if (strcmp(v, "none") == 0)
		return (0);
	for (;;) {
		e = strchr(p, ',');
		len = e != NULL ? (size_t)(e - p) : strlen(p);
		if (len == 6 && strncmp(p, "schema", 6) == 0)
			j->initial_schema = 1;
		else if (len == 4 && strncmp(p, "full", 4) == 0)
			j->initial_full = 1;
		else {
			cli_usage_error("--initial takes schema, full, both "
			    "(schema,full) or none, not '%s'", v);
			return (-1);
		}
		if (e == NULL)
			return (0);
		p = e + 1;
	}
}

static char	 job_shared_broker[256];

/*
 * Whether Kafka endpoint e is the same cluster as a target already given:
 * the same endpoint, or a broker address in both lists (a broker is one
 * cluster's).  The other's name, or NULL; the broker in
 * job_shared_broker.  (The precheck compares the clusters' ids.)
 */
static const char *
job_same_cluster(char **addr, char **names, const int64_t *ids, size_t n,
    const struct endpoint *e)
{
	const char	*p, *q, *a, *b;
	size_t		 i, la, lb;

	for (i = 0; i < n; i++) {
		if (ids[i] == e->id) {
			util_strlcpy(job_shared_broker, e->address,
			    sizeof job_shared_broker);
			return (names[i]);
		}
		for (p = e->address; *p != '\0'; p = *q != '\0' ? q + 1 : q) {
			q = p + strcspn(p, ",");
			la = (size_t)(q - p);
			for (a = addr[i]; *a != '\0'; a = *b != '\0' ? b + 1 :
			    b) {
				b = a + strcspn(a, ",");
				lb = (size_t)(b - a);
				if (la == lb && la > 0 && strncasecmp(p, a,
				    la) == 0) {
					snprintf(job_shared_broker,
					    sizeof job_shared_broker, "%.*s",
					    (int)la, p);
					return (names[i]);
				}
			}
		}
	}
	return (NULL);
}

static int
job_create(struct cli_ctx *ctx, int argc, char **argv)
{
	char				**taddr = NULL, **tnames = NULL;
	const char			*other;
	static const struct option	 opts[] = {
		{ "source", required_argument, NULL, 's' },
		{ "target", required_argument, NULL, 't' },
		{ "topic", required_argument, NULL, 'T' },
		{ "topic-template", required_argument, NULL, 'p' },
		{ "tables", required_argument, NULL, 'b' },
		{ "initial", required_argument, NULL, 'i' },
		{ "ddl", required_argument, NULL, 'D' },
		{ "partition", required_argument, NULL, 'P' },
		{ "large-row", required_argument, NULL, 'L' },
		{ "max-memory", required_argument, NULL, 'M' },
		{ "allow-no-key", no_argument, NULL, 'K' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	static const char *const	 ddl_v[] = { "ignore", "forward", NULL };
	static const char *const	 part_v[] = { "zero", "table", "pk",
					    NULL };
	static const char *const	 large_v[] = { "fail", "skip", NULL };
	struct job			 j;
	struct tenant			 t;
	struct endpoint			 e;
	struct store			*s = NULL;
	struct buf			 targets = BUF_INITIALIZER;
	const char			*source = NULL, *p, *q;
	char				*cause = NULL, *name;
	int				 ch, json = 0, status = CLI_USAGE;
	int				 have_t = 0;

	memset(&j, 0, sizeof j);
	j.initial_schema = j.initial_full = 1;
	j.ddl = xstrdup("ignore");
	j.partition = xstrdup("zero");
	j.large_row = xstrdup("fail");
	j.max_memory = STORE_UNLIMITED;
	optind = 0;
	while ((ch = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (ch) {
		case 's':
			source = optarg;
			break;
		case 't':
			if (targets.len > 0)
				buf_addc(&targets, ',');
			buf_adds(&targets, optarg);
			break;
		case 'T':
			if (cli_check_topic(optarg, &cause) != 0) {
				cli_usage_error("--topic: %s", cause);
				goto out;
			}
			free(j.topic);
			j.topic = xstrdup(optarg);
			break;
		case 'p':
			if (cli_check_topic_template(optarg, &cause) != 0) {
				cli_usage_error("--topic-template: %s", cause);
				goto out;
			}
			free(j.topic_template);
			j.topic_template = xstrdup(optarg);
			break;
		case 'b':
			have_t = 1;
			if (cli_parse_tables(optarg, &j.objects, &j.nobjects,
			    &cause) != 0) {
				cli_usage_error("%s", cause);
				goto out;
			}
			break;
		case 'i':
			if (parse_initial(optarg, &j) != 0)
				goto out;
			break;
		case 'D':
			if (one_of("--ddl", optarg, ddl_v) != 0)
				goto out;
			free(j.ddl);
			j.ddl = xstrdup(optarg);
			break;
		case 'P':
			if (one_of("--partition", optarg, part_v) != 0)
				goto out;
			free(j.partition);
			j.partition = xstrdup(optarg);
			break;
		case 'L':
			if (one_of("--large-row", optarg, large_v) != 0)
				goto out;
			free(j.large_row);
			j.large_row = xstrdup(optarg);
			break;
		case 'M':
			if (cli_parse_size(optarg, &j.max_memory,
			    &cause) != 0) {
				cli_usage_error("--max-memory: %s", cause);
				goto out;
			}
			if (j.max_memory < 1024 * 1024 ||
			    j.max_memory > CLI_MAX_MEMORY) {
				cli_usage_error("--max-memory: a job's budget "
				    "is 1M to 1T");
				goto out;
			}
			break;
		case 'K':
			j.allow_no_key = 1;
			break;
		case 'j':
			json = 1;
			break;
		case 'h':
			job_usage(stdout);
			status = CLI_OK;
			goto out;
		default:
			cli_option_error("job create", argv, ch);
			goto out;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 1) {
		cli_usage_error(argc == 0 ? "job create needs a NAME" :
		    "job create takes one NAME, then options (extra '%s')",
		    argv[argc > 1 ? 1 : 0]);
		goto out;
	}
	if (cli_valid_name("job", argv[0]) != 0)
		goto out;
	if (source == NULL) {
		cli_usage_error("job create needs --source (a MySQL endpoint)");
		goto out;
	}
	if (targets.len == 0) {
		cli_usage_error("job create needs --target (a Kafka endpoint)");
		goto out;
	}
	if (j.topic == NULL && j.topic_template == NULL) {
		cli_usage_error("job create needs --topic, or "
		    "--topic-template '{db}.{table}'");
		goto out;
	}
	if (!have_t) {
		cli_usage_error("job create needs --tables (DB.TABLE or DB.*, "
		    "comma-separated)");
		goto out;
	}

	status = CLI_FAIL;
	if ((s = cli_store_open(ctx, &t)) == NULL)
		goto out;
	j.tenant_id = t.id;
	j.name = xstrdup(argv[0]);
	if (store_endpoint_get(s, t.id, source, &e, &cause) != 0) {
		cli_error("--source: %s", cause);
		goto out_t;
	}
	j.source_id = e.id;
	if (e.kind != ENDPOINT_MYSQL) {
		cli_error("--source: endpoint '%s' is a Kafka endpoint; a "
		    "source is a MySQL endpoint", source);
		endpoint_release(&e);
		goto out_t;
	}
	endpoint_release(&e);
	for (p = buf_str(&targets); *p != '\0'; p = *q != '\0' ? q + 1 : q) {
		q = p + strcspn(p, ",");
		name = xstrndup(p, (size_t)(q - p));
		if (store_endpoint_get(s, t.id, name, &e, &cause) != 0) {
			cli_error("--target: %s", cause);
			free(name);
			goto out_t;
		}
		if (e.kind != ENDPOINT_KAFKA) {
			cli_error("--target: endpoint '%s' is a MySQL "
			    "endpoint; targets are Kafka endpoints", name);
			free(name);
			endpoint_release(&e);
			goto out_t;
		}
		if ((other = job_same_cluster(taddr, tnames, j.target_ids,
		    j.ntargets, &e)) != NULL) {
			cli_error("--target: endpoints '%s' and '%s' name the "
			    "same Kafka cluster (broker %s): each record would "
			    "be written there twice; give the job one target per "
			    "cluster", other, name, job_shared_broker);
			free(name);
			endpoint_release(&e);
			goto out_t;
		}
		j.target_ids = xreallocarray(j.target_ids, j.ntargets + 1,
		    sizeof *j.target_ids);
		taddr = xreallocarray(taddr, j.ntargets + 1, sizeof *taddr);
		tnames = xreallocarray(tnames, j.ntargets + 1, sizeof *tnames);
		taddr[j.ntargets] = xstrdup(e.address);
		tnames[j.ntargets] = name;
		j.target_ids[j.ntargets++] = e.id;
		endpoint_release(&e);
	}
	if (store_job_create(s, &j, cli_who(), &cause) != 0) {
		cli_error("%s", cause);
		goto out_t;
	}
	if (json) {
		struct buf	 b = BUF_INITIALIZER;

		if (cli_job_json(s, &j, &b, &cause) != 0) {
			cli_error("%s", cause);
			buf_release(&b);
			goto out_t;
		}
		cli_print_json(&b);
		buf_release(&b);
	} else
		printf("job %" PRId64 " '%s' created; start it with: ferry job "
		    "start %" PRId64 "\n", j.id, j.name, j.id);
	status = CLI_OK;
out_t:
	tenant_release(&t);
out:
	for (size_t k = 0; taddr != NULL && k < j.ntargets; k++) {
		free(taddr[k]);
		free(tnames[k]);
	}
	free(taddr);
	free(tnames);
	free(cause);
	buf_release(&targets);
	job_release(&j);
	store_close(s);
	return (status);
}

static void
job_log_print(struct job_event *ev, size_t n, int json)
{
	struct buf	 b = BUF_INITIALIZER;
	char		 when[32];
	size_t		 i;

	if (json) {
		buf_addc(&b, '[');
		for (i = 0; i < n; i++) {
			if (i > 0)
				buf_addc(&b, ',');
			buf_addc(&b, '{');
			cli_json_int(&b, "id", ev[i].id, 1);
			cli_json_int(&b, "at", ev[i].at, 0);
			cli_json_str(&b, "who", ev[i].who, 0);
			cli_json_str(&b, "kind", ev[i].kind, 0);
			cli_json_str(&b, "message", ev[i].message, 0);
			buf_addc(&b, '}');
		}
		buf_addc(&b, ']');
		cli_print_json(&b);
		buf_release(&b);
		return;
	}
	for (i = 0; i < n; i++) {
		cli_time(ev[i].at, when, sizeof when);
		printf("%s  %-8s %-18s %s\n", when, ev[i].kind, ev[i].who,
		    ev[i].message);
	}
}

/*
 * The arguments of job add-tables and job resnapshot (sub): JOB, then
 * table items into *o, *n (at least one when need).  Returns
 * JOB_ARGS_GO_ON, or the status to return (--help, a usage error).
 */
#define JOB_ARGS_GO_ON	(-1)

static int
job_table_args(int argc, char **argv, const char *sub, int need,
    const char *what, struct job_object **o, size_t *n)
{
	char	*cause = NULL;
	int	 k, rc;

	for (k = 1; k < argc; k++) {
		if (strcmp(argv[k], "--help") == 0 ||
		    strcmp(argv[k], "-h") == 0) {
			job_usage(stdout);
			return (CLI_OK);
		}
		if (argv[k][0] == '-' && argv[k][1] != '\0')
			return (cli_usage_error("unknown option '%s' for job %s",
			    argv[k], sub));
	}
	if (argc < (need ? 3 : 2))
		return (cli_usage_error("job %s needs a JOB %s", sub, what));
	for (k = 2; k < argc; k++) {
		if (cli_parse_tables(argv[k], o, n, &cause) != 0) {
			rc = cli_usage_error("%s", cause);
			free(cause);
			return (rc);
		}
	}
	return (JOB_ARGS_GO_ON);
}

static void
job_objects_free(struct job_object *o, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		free(o[i].db);
		free(o[i].table);
	}
	free(o);
}

/* ferry job add-tables JOB DB.TABLE[,...] */
static int
job_add_tables(struct cli_ctx *ctx, int argc, char **argv)
{
	struct store		*s;
	struct tenant		 t;
	struct job		 j;
	struct job_object	*o = NULL;
	char			*cause = NULL;
	size_t			 n = 0, added;
	int			 status;

	if ((status = job_table_args(argc, argv, "add-tables", 1, "and the "
	    "tables to add (DB.TABLE or DB.*, comma-separated)", &o,
	    &n)) != JOB_ARGS_GO_ON)
		goto done;
	status = CLI_FAIL;
	if ((s = cli_store_open(ctx, &t)) == NULL)
		goto done;
	if (store_job_find(s, t.id, argv[1], &j, &cause) != 0)
		cli_error("%s", cause);
	else {
		if (store_job_add_tables(s, j.id, o, n, cli_who(), &added,
		    &cause) != 0)
			cli_error("%s", cause);
		else if (added == 0) {
			printf("job %" PRId64 " '%s' already selects these "
			    "tables\n", j.id, j.name);
			status = CLI_OK;
		} else {
			cli_wake_daemon(ctx);
			printf("job %" PRId64 " '%s': %zu table%s added", j.id,
			    j.name, added, added == 1 ? "" : "s");
			if (job_state_running(j.state))
				printf("; the daemon restarts it to copy them");
			printf("\n");
			status = CLI_OK;
		}
		job_release(&j);
	}
	tenant_release(&t);
	store_close(s);
done:
	job_objects_free(o, n);
	free(cause);
	return (status);
}

/* ferry job resnapshot JOB [DB.TABLE[,...]] */
static int
job_resnapshot(struct cli_ctx *ctx, int argc, char **argv)
{
	struct store		*s;
	struct tenant		 t;
	struct job		 j;
	struct job_object	*o = NULL;
	char			*cause = NULL;
	size_t			 n = 0, count;
	int			 status;

	if ((status = job_table_args(argc, argv, "resnapshot", 0, "(and the "
	    "tables to copy again, DB.TABLE comma-separated; none: all)", &o,
	    &n)) != JOB_ARGS_GO_ON)
		goto done;
	status = CLI_FAIL;
	if ((s = cli_store_open(ctx, &t)) == NULL)
		goto done;
	if (store_job_find(s, t.id, argv[1], &j, &cause) != 0)
		cli_error("%s", cause);
	else {
		if (store_job_resnapshot(s, j.id, o, n, cli_who(), &count,
		    &cause) != 0)
			cli_error("%s", cause);
		else {
			cli_wake_daemon(ctx);
			printf("job %" PRId64 " '%s': %s copied again from a "
			    "new snapshot when the daemon runs it%s\n", j.id,
			    j.name, n == 0 ? "every table" : "the tables named",
			    j.state == JOB_FAILED ? " (failed -> queued)" :
			    job_state_running(j.state) ? " (it restarts)" :
			    j.state == JOB_PAUSED || j.state == JOB_STOPPED ||
			    j.state == JOB_CREATED ? " (start or resume it)" :
			    "");
			status = CLI_OK;
		}
		job_release(&j);
	}
	tenant_release(&t);
	store_close(s);
done:
	job_objects_free(o, n);
	free(cause);
	return (status);
}

static const struct {
	const char	*name;
	enum job_action	 action;
} job_actions[] = {
	{ "start", JOB_START },
	{ "stop", JOB_STOP },
	{ "pause", JOB_PAUSE },
	{ "resume", JOB_RESUME },
	{ "retry", JOB_RETRY },
};

int
cmd_job(struct cli_ctx *ctx, int argc, char **argv)
{
	struct store	*s;
	struct tenant	 t;
	struct job	 j, *list;
	struct job_event *ev;
	struct buf	 b = BUF_INITIALIZER;
	const char	*sub;
	char		*cause = NULL;
	size_t		 n, a;
	int		 json = 0, status = CLI_FAIL, k, takes_json, is_list;

	if (argc < 2) {
		job_usage(stderr);
		return (CLI_USAGE);
	}
	sub = argv[1];
	if (strcmp(sub, "create") == 0)
		return (job_create(ctx, argc - 1, argv + 1));
	if (strcmp(sub, "add-tables") == 0)
		return (job_add_tables(ctx, argc - 1, argv + 1));
	if (strcmp(sub, "resnapshot") == 0)
		return (job_resnapshot(ctx, argc - 1, argv + 1));
	if (strcmp(sub, "--help") == 0 || strcmp(sub, "help") == 0) {
		job_usage(stdout);
		return (CLI_OK);
	}
	for (a = 0; a < nitems(job_actions); a++) {
		if (strcmp(sub, job_actions[a].name) == 0)
			break;
	}
	is_list = strcmp(sub, "list") == 0;
	takes_json = is_list || strcmp(sub, "show") == 0 ||
	    strcmp(sub, "log") == 0;
	if (!takes_json && a == nitems(job_actions) && strcmp(sub, "rm") != 0)
		return (cli_usage_error("unknown job command '%s' (create, "
		    "list, show, log, start, stop, pause, resume, retry, rm, "
		    "add-tables, resnapshot)", sub));
	argc -= 2;
	argv += 2;
	for (k = 0; k < argc; k++) {
		if (strcmp(argv[k], "--help") == 0 ||
		    strcmp(argv[k], "-h") == 0) {
			job_usage(stdout);
			return (CLI_OK);
		}
		if (strcmp(argv[k], "--json") == 0 && takes_json) {
			json = 1;
			memmove(&argv[k], &argv[k + 1], (size_t)(argc - k - 1) *
			    sizeof *argv);
			argc--;
			k--;
		} else if (argv[k][0] == '-' && argv[k][1] != '\0')
			return (cli_usage_error("unknown option '%s' for job "
			    "%s", argv[k], sub));
	}
	if (is_list ? argc != 0 : argc != 1)
		return (cli_usage_error("job %s %s", sub, is_list ?
		    "takes no argument" : "needs one JOB (an id or a name)"));
	if ((s = cli_store_open(ctx, &t)) == NULL)
		return (CLI_FAIL);
	if (is_list) {
		if (store_job_list(s, t.id, &list, &n, &cause) != 0) {
			cli_error("%s", cause);
			goto out;
		}
		if (cli_job_print_list(s, list, n, json, &cause) != 0) {
			cli_error("%s", cause);
			job_list_free(list, n);
			goto out;
		}
		job_list_free(list, n);
		status = CLI_OK;
		goto out;
	}
	if (store_job_find(s, t.id, argv[0], &j, &cause) != 0) {
		cli_error("%s", cause);
		goto out;
	}
	if (strcmp(sub, "show") == 0) {
		if (json ? cli_job_json(s, &j, &b, &cause) :
		    cli_job_print(s, &j, &cause))
			cli_error("%s", cause);
		else {
			if (json)
				cli_print_json(&b);
			status = CLI_OK;
		}
	} else if (strcmp(sub, "log") == 0) {
		if (store_log_list(s, j.id, &ev, &n, &cause) != 0)
			cli_error("%s", cause);
		else {
			job_log_print(ev, n, json);
			job_event_list_free(ev, n);
			status = CLI_OK;
		}
	} else if (strcmp(sub, "rm") == 0) {
		if (store_job_rm(s, j.id, cli_who(), &cause) != 0)
			cli_error("%s", cause);
		else {
			printf("job %" PRId64 " '%s' removed\n", j.id, j.name);
			status = CLI_OK;
		}
	} else {
		int64_t	 id = j.id;

		if (store_job_action(s, id, job_actions[a].action, cli_who(),
		    &cause) != 0)
			cli_error("%s", cause);
		else {
			job_release(&j);
			if (store_job_get(s, id, &j, &cause) != 0) {
				cli_error("%s", cause);
				goto out;
			}
			cli_wake_daemon(ctx);
			cli_job_action_done(&j, job_actions[a].name);
			status = CLI_OK;
		}
	}
	job_release(&j);
out:
	buf_release(&b);
	free(cause);
	tenant_release(&t);
	store_close(s);
	return (status);
}
