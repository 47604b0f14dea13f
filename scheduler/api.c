/*
 * The daemon's API (docs/API.md): JSON over HTTP(S), on its own listener
 * (--api), for the operator and for tenants, each with a token
 * (Authorization: Bearer; scheduler/token.c).
 *
 * Every request runs the ferry command it stands for, as a child process
 * of the daemon: GET /v1/jobs is "ferry job list --json", POST
 * /v1/jobs/7/start is "ferry job start 7", and POST /v1/cli runs the
 * command the remote CLI was given.  So the API validates, refuses and
 * answers exactly as the CLI does (one implementation), and a command
 * that takes long or crashes holds neither the daemon's loop nor its
 * memory.  The child gets --db, the caller in FERRY_CALLER (a tenant's
 * command acts as that tenant and only on what a tenant may: cli/
 * cli_caller.c), a request's secret in FERRY_API_SECRET, the network
 * policy for tenants' endpoints in FERRY_NET_POLICY (a command that
 * connects for a tenant obeys it: engine/netpolicy.c), and nothing
 * else of the daemon's environment; its descriptors are closed but its
 * output pipes.
 *
 * Bounds: at most API_RUNS commands at once, API_RUNS_TENANT of one
 * tenant (429 beyond: Retry-After), each for API_RUN_SECONDS (504) and
 * API_OUTPUT bytes of output; the listener's own (scheduler/httpd.c).
 * Children are spawned with posix_spawn() (vfork-like: a daemon with many
 * GiB does not copy its page tables for each request).
 *
 * A failed command's "ferry: ..." sentence becomes {"error": "..."}, with
 * a status from its exit code and words: 2 (usage) 400; "no job" and the
 * like 404; a name taken or an endpoint in use 409; what the caller may
 * not do 403; a limit reached 403; anything else 400.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "common/buf.h"
#include "common/json.h"
#include "common/jsonr.h"
#include "common/log.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "engine/netpolicy.h"
#include "scheduler/api.h"
#include "scheduler/httpd.h"
#include "scheduler/store.h"
#include "scheduler/token.h"

#define API_RUNS		16
#define API_RUNS_TENANT		4
#define API_RUN_SECONDS		60
#define API_OUTPUT		(4 * 1024 * 1024)
#define API_ARGS		64

/* How a command's success is answered. */
enum api_shape {
	API_JSON,		/* its --json output */
	API_CREATED,		/* the same, 201 */
	API_MESSAGE,		/* {"message": its line} */
	API_REPORT,		/* its --json output, also when it exits 1
				   with one (a precheck that fails) */
	API_CLI,		/* {"exit", "stdout", "stderr"}: the remote CLI */
};

struct api_run {
	struct api		*api;
	struct httpd_req	*req;
	char			*tenant;	/* the caller's; NULL: operator */
	enum api_shape		 shape;
	pid_t			 pid;
	int			 fd[2];		/* stdout, stderr */
	struct event		*ev[2];
	struct buf		 out[2];
	struct event		*timer;
	int			 open;		/* pipes not at EOF */
	int			 killed;	/* why: 0, 504, 500 */
	struct api_run		*next;
};

struct api {
	struct event_base	*base;
	struct httpd		*httpd;
	SSL_CTX			*tls;
	struct store		*store;
	char			*store_path;
	char			*exe;
	char			*control;	/* the daemon's control socket */
	api_jobs_cb		 jobs_json;
	void			*jobs_arg;
	struct api_run		*runs;
	size_t			 nruns;
};

/* The caller, from its token. */
struct api_caller {
	int64_t			 token;
	char			*tenant;	/* NULL: the operator */
};

/* An argument vector being built. */
struct api_argv {
	char			*v[API_ARGS + 1];
	size_t			 n;
	int			 full;
};

static void
api_arg(struct api_argv *a, const char *s)
{
	if (a->n == API_ARGS) {
		a->full = 1;
		return;
	}
	a->v[a->n++] = xstrdup(s);
	a->v[a->n] = NULL;
}

static void
api_argv_release(struct api_argv *a)
{
	size_t	 i;

	for (i = 0; i < a->n; i++)
		free(a->v[i]);
	memset(a, 0, sizeof *a);
}

static void
api_error(struct httpd_req *req, int code, const char *msg)
{
	struct buf	 b = BUF_INITIALIZER;

	buf_adds(&b, "{\"error\":");
	json_add_cstring(&b, msg);
	buf_adds(&b, "}\n");
	httpd_reply(req, code, "application/json", code == 401 ?
	    "WWW-Authenticate: Bearer realm=\"ferry\"\r\n" : code == 429 ?
	    "Retry-After: 1\r\n" : NULL, b.data, b.len);
	buf_release(&b);
}

/* ---- running a command ---------------------------------------------- */

static void
api_run_free(struct api_run *r)
{
	struct api_run	**pp;
	int		 i;

	for (pp = &r->api->runs; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == r) {
			*pp = r->next;
			break;
		}
	}
	r->api->nruns--;
	for (i = 0; i < 2; i++) {
		if (r->ev[i] != NULL)
			event_free(r->ev[i]);
		if (r->fd[i] >= 0)
			close(r->fd[i]);
		buf_release(&r->out[i]);
	}
	if (r->timer != NULL)
		event_free(r->timer);
	free(r->tenant);
	free(r);
}

/* The "ferry: ..." sentence of a failed command, without the prefix. */
static char *
api_sentence(const struct buf *err)
{
	const char	*s = (const char *)err->data, *end = s + err->len;
	const char	*p, *line = NULL;

	/* The last line that is the CLI's error. */
	for (p = s; p < end; p = memchr(p, '\n', (size_t)(end - p)) != NULL ?
	    (const char *)memchr(p, '\n', (size_t)(end - p)) + 1 : end) {
		if ((size_t)(end - p) > 7 && memcmp(p, "ferry: ", 7) == 0)
			line = p + 7;
	}
	if (line == NULL)
		return (xstrdup(err->len > 0 ? "the command failed (see the "
		    "daemon's log)" : "the command failed"));
	p = memchr(line, '\n', (size_t)(end - line));
	return (xstrndup(line, p != NULL ? (size_t)(p - line) :
	    (size_t)(end - line)));
}

/* The status of a failed command, from its exit code and sentence. */
static int
api_status(int code, const char *msg)
{
	static const struct {
		const char	*words;
		int		 status;
	} table[] = {
		{ "no job", 404 }, { "no endpoint", 404 }, { "no tenant", 404 },
		{ "no token", 404 }, { "already exists", 409 },
		{ "is used by", 409 }, { "jobs use", 409 },
		{ "a tenant may run", 403 }, { "is the operator's", 403 },
		{ "through the API", 403 }, { "daemon's host", 403 },
		{ "is the operator's", 403 },
		{ "reached its limit", 403 }, { "over tenant", 403 },
		{ "read-only", 503 }, { "disk is full", 507 },
	};
	size_t	 i;

	if (code == 2)
		return (400);
	for (i = 0; i < nitems(table); i++) {
		if (strstr(msg, table[i].words) != NULL)
			return (table[i].status);
	}
	return (400);
}

static void
api_run_done(struct api_run *r, int wstatus)
{
	struct buf	 b = BUF_INITIALIZER;
	char		*msg;
	int		 code = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1;

	if (r->killed != 0) {
		api_error(r->req, r->killed, r->killed == 504 ? "the command "
		    "took too long" : "the command's output is too large");
		goto out;
	}
	if (r->shape == API_CLI) {
		buf_printf(&b, "{\"exit\":%d,\"stdout\":", code < 0 ? 1 : code);
		json_add_string(&b, r->out[0].data, r->out[0].len);
		buf_adds(&b, ",\"stderr\":");
		json_add_string(&b, r->out[1].data, r->out[1].len);
		buf_adds(&b, "}\n");
		httpd_reply(r->req, 200, "application/json", NULL, b.data,
		    b.len);
		goto out;
	}
	if (code != 0 && !(r->shape == API_REPORT && code == 1 &&
	    r->out[0].len > 0)) {
		msg = api_sentence(&r->out[1]);
		api_error(r->req, code < 0 ? 500 : api_status(code, msg), msg);
		free(msg);
		goto out;
	}
	if (r->shape == API_MESSAGE) {
		size_t	 n = r->out[0].len;

		while (n > 0 && r->out[0].data[n - 1] == '\n')
			n--;
		buf_adds(&b, "{\"message\":");
		json_add_string(&b, r->out[0].data, n);
		buf_adds(&b, "}\n");
		httpd_reply(r->req, 200, "application/json", NULL, b.data,
		    b.len);
	} else
		httpd_reply(r->req, r->shape == API_CREATED ? 201 : 200,
		    "application/json", NULL, r->out[0].data, r->out[0].len);
out:
	r->req = NULL;
	buf_release(&b);
	api_run_free(r);
}

/* The pipes are shut: reap the child (once it has exited). */
static void
api_run_reap(evutil_socket_t fd, short what, void *arg)
{
	struct api_run	*r = arg;
	struct timeval	 tv = { 0, 10000 };
	int		 st = 0;
	pid_t		 p;

	(void)fd;
	(void)what;
	p = waitpid(r->pid, &st, WNOHANG);
	if (p == 0) {
		event_del(r->timer);
		evtimer_assign(r->timer, r->api->base, api_run_reap, r);
		evtimer_add(r->timer, &tv);
		return;
	}
	api_run_done(r, p == r->pid ? st : 0x100);
}

static void
api_run_kill(struct api_run *r, int why)
{
	if (r->killed == 0) {
		r->killed = why;
		kill(r->pid, SIGKILL);
	}
}

static void
api_run_read(evutil_socket_t fd, short what, void *arg)
{
	struct api_run	*r = arg;
	char		 tmp[16384];
	ssize_t		 n;
	int		 i = fd == r->fd[0] ? 0 : 1;

	(void)what;
	n = read(fd, tmp, sizeof tmp);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0) {
		if (r->out[i].len + (size_t)n > API_OUTPUT)
			api_run_kill(r, 500);
		else
			buf_add(&r->out[i], tmp, (size_t)n);
		return;
	}
	event_free(r->ev[i]);
	r->ev[i] = NULL;
	close(r->fd[i]);
	r->fd[i] = -1;
	if (--r->open == 0)
		api_run_reap(-1, 0, r);
}

static void
api_run_timeout(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	api_run_kill(arg, 504);
}

/*
 * Run ferry argv for req as caller (the vector is the command's; --db and
 * the caller are added).  The reply comes when it ends.
 */
static void
api_run(struct api *api, struct httpd_req *req, const struct api_caller *c,
    struct api_argv *cmd, const char *secret, enum api_shape shape)
{
	struct api_run	*r;
	struct timeval	 tv = { API_RUN_SECONDS, 0 };
	char		*argv[API_ARGS + 8], *envp[5], *caller, *sec = NULL;
	char		*ctl, *policy, *net;
	int		 out[2], err[2], i, ntenant = 0;
	size_t		 k, n = 0;
	pid_t		 pid;
	posix_spawn_file_actions_t fa;

	if (cmd->full) {
		api_error(req, 400, "too many arguments");
		return;
	}
	for (r = api->runs; r != NULL; r = r->next) {
		if (c->tenant != NULL && r->tenant != NULL &&
		    strcmp(r->tenant, c->tenant) == 0)
			ntenant++;
	}
	if (api->nruns >= API_RUNS || ntenant >= API_RUNS_TENANT) {
		api_error(req, 429, "too many requests at once; try again");
		return;
	}
	if (pipe2(out, O_CLOEXEC) != 0) {
		api_error(req, 503, "out of descriptors; try again");
		return;
	}
	if (pipe2(err, O_CLOEXEC) != 0) {
		close(out[0]);
		close(out[1]);
		api_error(req, 503, "out of descriptors; try again");
		return;
	}
	argv[n++] = api->exe;
	argv[n++] = (char *)"--db";
	argv[n++] = api->store_path;
	for (k = 0; k < cmd->n; k++)
		argv[n++] = cmd->v[k];
	argv[n] = NULL;
	caller = c->tenant != NULL ? xasprintf("FERRY_CALLER=tenant:%s:%"
	    PRId64, c->tenant, c->token) : xasprintf("FERRY_CALLER=operator:%"
	    PRId64, c->token);
	ctl = xasprintf("FERRY_CONTROL=%s", api->control != NULL ?
	    api->control : "none");
	i = 0;
	envp[i++] = caller;
	envp[i++] = ctl;
	policy = netpolicy_export();
	envp[i++] = net = xasprintf("FERRY_NET_POLICY=%s", policy);
	free(policy);
	if (secret != NULL)
		envp[i++] = sec = xasprintf("FERRY_API_SECRET=%s", secret);
	envp[i] = NULL;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	posix_spawn_file_actions_adddup2(&fa, err[1], 2);
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	if (posix_spawn(&pid, api->exe, &fa, NULL, argv, envp) != 0)
		pid = -1;
	posix_spawn_file_actions_destroy(&fa);
	close(out[1]);
	close(err[1]);
	free(caller);
	free(ctl);
	free(net);
	xfree_secret(sec);
	if (pid < 0) {
		close(out[0]);
		close(err[0]);
		api_error(req, 503, "cannot run the command; try again");
		return;
	}
	r = xcalloc(1, sizeof *r);
	r->api = api;
	r->req = req;
	r->tenant = c->tenant != NULL ? xstrdup(c->tenant) : NULL;
	r->shape = shape;
	r->pid = pid;
	r->fd[0] = out[0];
	r->fd[1] = err[0];
	r->open = 2;
	for (i = 0; i < 2; i++) {
		buf_init(&r->out[i]);
		fcntl(r->fd[i], F_SETFL, fcntl(r->fd[i], F_GETFL) | O_NONBLOCK);
		r->ev[i] = event_new(api->base, r->fd[i], EV_READ | EV_PERSIST,
		    api_run_read, r);
		event_add(r->ev[i], NULL);
	}
	r->timer = evtimer_new(api->base, api_run_timeout, r);
	evtimer_add(r->timer, &tv);
	r->next = api->runs;
	api->runs = r;
	api->nruns++;
}

/* ---- routes ------------------------------------------------------------- */

/* A JSON member that must be a string (or absent): its value, or NULL;
 * *bad when it is something else. */
static const char *
api_str(const struct jsonr *body, const char *key, int *bad)
{
	const struct jsonr	*v = jsonr_get(body, key);

	if (v == NULL || v->type == JSONR_NULL)
		return (NULL);
	if (v->type != JSONR_STRING) {
		*bad = 1;
		return (NULL);
	}
	return (v->str);
}

/* A member that is a string or a list of strings: "a,b" joined, a new
 * string or NULL. */
static char *
api_list(const struct jsonr *body, const char *key, int *bad)
{
	const struct jsonr	*v = jsonr_get(body, key);
	struct buf		 b = BUF_INITIALIZER;
	size_t			 i;

	if (v == NULL || v->type == JSONR_NULL)
		return (NULL);
	if (v->type == JSONR_STRING)
		return (xstrdup(v->str));
	if (v->type != JSONR_ARRAY || v->n == 0) {
		*bad = 1;
		return (NULL);
	}
	for (i = 0; i < v->n; i++) {
		if (v->items[i]->type != JSONR_STRING) {
			*bad = 1;
			buf_release(&b);
			return (NULL);
		}
		if (i > 0)
			buf_addc(&b, ',');
		buf_adds(&b, v->items[i]->str);
	}
	buf_str(&b);
	return (buf_detach(&b, NULL));
}

/* --opt VALUE for a string member, when present. */
static void
api_opt(struct api_argv *a, const struct jsonr *body, const char *key,
    const char *opt, int *bad)
{
	const char	*v = api_str(body, key, bad);

	if (v != NULL) {
		api_arg(a, opt);
		api_arg(a, v);
	}
}

/* The options of an endpoint's body (add, or set). */
static void
api_endpoint_opts(struct api_argv *a, const struct jsonr *body, int set,
    const char **secret, int *bad)
{
	const struct jsonr	*tls = jsonr_get(body, "tls");

	api_opt(a, body, "mysql", "--mysql", bad);
	api_opt(a, body, "kafka", "--kafka", bad);
	api_opt(a, body, "username", "--username", bad);
	api_opt(a, body, "sasl", "--sasl", bad);
	api_opt(a, body, "kafka_version", "--kafka-version", bad);
	api_opt(a, body, "compression", "--compression", bad);
	api_opt(a, body, "tls_ca", "--tls-ca", bad);
	api_opt(a, body, "password_ref", "--password-ref", bad);
	if (tls != NULL && tls->type == JSONR_BOOL && tls->boolean)
		api_arg(a, "--tls");
	else if (tls != NULL && tls->type == JSONR_BOOL && set)
		api_arg(a, "--no-tls");
	else if (tls != NULL && tls->type != JSONR_NULL &&
	    tls->type != JSONR_BOOL)
		*bad = 1;
	if ((*secret = api_str(body, "password", bad)) != NULL) {
		api_arg(a, "--password-env");
		api_arg(a, "FERRY_API_SECRET");
	}
}

/* The options of a job's body (create). */
static void
api_job_opts(struct api_argv *a, const struct jsonr *body, int *bad)
{
	const struct jsonr	*mm = jsonr_get(body, "max_memory");
	const struct jsonr	*nk = jsonr_get(body, "allow_no_key");
	char			*s;

	api_opt(a, body, "source", "--source", bad);
	if ((s = api_list(body, "targets", bad)) != NULL ||
	    (s = api_list(body, "target", bad)) != NULL) {
		api_arg(a, "--target");
		api_arg(a, s);
		free(s);
	}
	if ((s = api_list(body, "tables", bad)) != NULL) {
		api_arg(a, "--tables");
		api_arg(a, s);
		free(s);
	}
	api_opt(a, body, "topic", "--topic", bad);
	api_opt(a, body, "topic_template", "--topic-template", bad);
	api_opt(a, body, "initial", "--initial", bad);
	api_opt(a, body, "ddl", "--ddl", bad);
	api_opt(a, body, "partition", "--partition", bad);
	api_opt(a, body, "large_row", "--large-row", bad);
	if (mm != NULL && (mm->type == JSONR_STRING || mm->type ==
	    JSONR_NUMBER)) {
		api_arg(a, "--max-memory");
		api_arg(a, mm->str);
	} else if (mm != NULL && mm->type != JSONR_NULL)
		*bad = 1;
	if (nk != NULL && nk->type == JSONR_BOOL && nk->boolean)
		api_arg(a, "--allow-no-key");
	else if (nk != NULL && nk->type != JSONR_BOOL && nk->type !=
	    JSONR_NULL)
		*bad = 1;
}

/* A name or id in the path or the body: never an option to the command. */
static int
api_word_ok(const char *s)
{
	return (*s != '\0' && *s != '-');
}

/* The path's segments after /v1/: at most 4. */
static size_t
api_segments(const char *path, char seg[4][128])
{
	const char	*p = path, *slash;
	size_t		 n = 0, len;

	while (*p != '\0' && n < 4) {
		slash = strchr(p, '/');
		len = slash != NULL ? (size_t)(slash - p) : strlen(p);
		if (len == 0 || len >= sizeof seg[0])
			return (5);
		memcpy(seg[n], p, len);
		seg[n][len] = '\0';
		n++;
		p += len;
		if (*p == '/')
			p++;
	}
	return (*p != '\0' ? 5 : n);
}

/* What a route takes from the request body. */
enum api_body {
	BODY_NONE,
	BODY_ENDPOINT_ADD,	/* endpoint options, then "name" */
	BODY_ENDPOINT_SET,	/* endpoint options */
	BODY_JOB_CREATE,	/* job options, then "name" */
	BODY_TABLES,		/* "tables", required */
	BODY_TABLES_OPT,	/* "tables", if given */
};

/*
 * The REST routes: method and path ("*" is a name or id, passed to the
 * command after its words and the body's options), the command's words,
 * the body it reads and the reply's shape.  docs/API.md lists them.
 */
static const struct api_route {
	const char	*method;
	const char	*path[3];
	const char	*words[3];
	enum api_body	 body;
	enum api_shape	 shape;
} api_routes[] = {
	{ "GET", { "status" }, { "status", "--json" }, BODY_NONE, API_JSON },
	{ "GET", { "endpoints" }, { "endpoint", "list", "--json" },
	    BODY_NONE, API_JSON },
	{ "POST", { "endpoints" }, { "endpoint", "add" },
	    BODY_ENDPOINT_ADD, API_MESSAGE },
	{ "GET", { "endpoints", "*" }, { "endpoint", "show", "--json" },
	    BODY_NONE, API_JSON },
	{ "PATCH", { "endpoints", "*" }, { "endpoint", "set" },
	    BODY_ENDPOINT_SET, API_MESSAGE },
	{ "DELETE", { "endpoints", "*" }, { "endpoint", "rm" },
	    BODY_NONE, API_MESSAGE },
	{ "GET", { "endpoints", "*", "topics" },
	    { "endpoint", "topics", "--json" }, BODY_NONE, API_JSON },
	{ "GET", { "jobs" }, { "job", "list", "--json" }, BODY_NONE, API_JSON },
	{ "POST", { "jobs" }, { "job", "create", "--json" },
	    BODY_JOB_CREATE, API_CREATED },
	{ "GET", { "jobs", "*" }, { "job", "show", "--json" },
	    BODY_NONE, API_JSON },
	{ "DELETE", { "jobs", "*" }, { "job", "rm" }, BODY_NONE, API_MESSAGE },
	{ "GET", { "jobs", "*", "log" }, { "job", "log", "--json" },
	    BODY_NONE, API_JSON },
	{ "POST", { "jobs", "*", "tables" }, { "job", "add-tables" },
	    BODY_TABLES, API_MESSAGE },
	{ "POST", { "jobs", "*", "start" }, { "job", "start" },
	    BODY_TABLES_OPT, API_MESSAGE },
	{ "POST", { "jobs", "*", "stop" }, { "job", "stop" },
	    BODY_TABLES_OPT, API_MESSAGE },
	{ "POST", { "jobs", "*", "pause" }, { "job", "pause" },
	    BODY_TABLES_OPT, API_MESSAGE },
	{ "POST", { "jobs", "*", "resume" }, { "job", "resume" },
	    BODY_TABLES_OPT, API_MESSAGE },
	{ "POST", { "jobs", "*", "retry" }, { "job", "retry" },
	    BODY_TABLES_OPT, API_MESSAGE },
	{ "POST", { "jobs", "*", "resnapshot" }, { "job", "resnapshot" },
	    BODY_TABLES_OPT, API_MESSAGE },
	{ "GET", { "jobs", "*", "precheck" }, { "precheck", "--json" },
	    BODY_NONE, API_REPORT },
};

/* Does route r serve method m on the n segments seg? */
static int
api_route_matches(const struct api_route *r, const char *m,
    char seg[][128], size_t n)
{
	size_t	i;

	if (strcmp(r->method, m) != 0)
		return (0);
	for (i = 0; i < nitems(r->path) && r->path[i] != NULL; i++) {
		if (i >= n || (strcmp(r->path[i], "*") != 0 &&
		    strcmp(r->path[i], seg[i]) != 0))
			return (0);
	}
	return (i == n);
}

/* POST /v1/cli: the command's words as they are.  0, or a reply sent. */
static int
api_route_cli(struct httpd_req *req, const struct jsonr *body,
    struct api_argv *a, const char **secret, int *bad)
{
	const struct jsonr	*v = jsonr_get(body, "argv");
	size_t			 i;

	if (v == NULL || v->type != JSONR_ARRAY || v->n == 0) {
		api_error(req, 400, "the body needs \"argv\": the command's "
		    "words");
		return (1);
	}
	for (i = 0; i < v->n; i++) {
		if (v->items[i]->type != JSONR_STRING) {
			api_error(req, 400, "\"argv\" holds strings");
			return (1);
		}
		api_arg(a, v->items[i]->str);
	}
	if (a->v[0][0] == '-') {
		api_error(req, 400, "\"argv\" starts with the command (global "
		    "options are the daemon's to set)");
		return (1);
	}
	*secret = api_str(body, "secret", bad);
	return (0);
}

/*
 * Route req for caller: the command to run, or a reply already sent
 * (returns 1).
 */
static int
api_route(struct api *api, struct httpd_req *req, const struct api_caller *c,
    const struct jsonr *body, struct api_argv *a, const char **secret,
    enum api_shape *shape)
{
	const struct api_route	*r = NULL;
	const char		*m = req->method;
	char			 seg[4][128], *s;
	size_t			 n, i;
	int			 bad = 0;

	(void)api;
	(void)c;
	*shape = API_JSON;
	n = strncmp(req->path, "/v1/", 4) == 0 ? api_segments(req->path + 4,
	    seg) : 5;
	if ((n >= 2 && n <= 4 && !api_word_ok(seg[1])) || ((s = (char *)
	    api_str(body, "name", &bad)) != NULL && !api_word_ok(s))) {
		api_error(req, 400, "a name or id does not start with '-'");
		return (1);
	}
	if (n == 1 && strcmp(seg[0], "cli") == 0 && strcmp(m, "POST") == 0) {
		if (api_route_cli(req, body, a, secret, &bad) != 0)
			return (1);
		*shape = API_CLI;
		goto done;
	}
	for (i = 0; i < nitems(api_routes) && r == NULL; i++) {
		if (api_route_matches(&api_routes[i], m, seg, n))
			r = &api_routes[i];
	}
	if (r == NULL) {
		api_error(req, 404, "no such resource or method (see "
		    "docs/API.md)");
		return (1);
	}
	for (i = 0; i < nitems(r->words) && r->words[i] != NULL; i++)
		api_arg(a, r->words[i]);
	if (r->body == BODY_ENDPOINT_ADD || r->body == BODY_ENDPOINT_SET)
		api_endpoint_opts(a, body, r->body == BODY_ENDPOINT_SET,
		    secret, &bad);
	else if (r->body == BODY_JOB_CREATE)
		api_job_opts(a, body, &bad);
	if (r->body == BODY_ENDPOINT_ADD || r->body == BODY_JOB_CREATE) {
		if ((s = (char *)api_str(body, "name", &bad)) == NULL) {
			api_error(req, 400, "the body needs \"name\"");
			return (1);
		}
		api_arg(a, s);
	} else if (n >= 2)
		api_arg(a, seg[1]);
	if (r->body == BODY_TABLES || r->body == BODY_TABLES_OPT) {
		if ((s = api_list(body, "tables", &bad)) != NULL) {
			api_arg(a, s);
			free(s);
		} else if (r->body == BODY_TABLES) {
			api_error(req, 400, "the body needs \"tables\"");
			return (1);
		}
	}
	*shape = r->shape;
done:
	if (bad) {
		api_error(req, 400, "a member of the body has the wrong type "
		    "(see docs/API.md)");
		return (1);
	}
	return (0);
}

/* GET /v1/metrics: the statistics of the caller's running jobs. */
static void
api_metrics(struct api *api, struct httpd_req *req,
    const struct api_caller *c)
{
	struct job	*jobs = NULL;
	struct buf	 b = BUF_INITIALIZER;
	struct tenant	 t;
	int64_t		*ids;
	char		*cause = NULL;
	size_t		 n = 0, i;
	int		 rc;

	memset(&t, 0, sizeof t);
	if (c->tenant == NULL) {	/* the operator: every job */
		api->jobs_json(api->jobs_arg, NULL, 0, &b);
		httpd_reply(req, 200, "application/json", NULL, b.data, b.len);
		buf_release(&b);
		return;
	}
	rc = store_tenant_get(api->store, c->tenant, &t, &cause);
	if (rc == 0)
		rc = store_job_list(api->store, t.id, &jobs, &n, &cause);
	if (rc != 0) {
		api_error(req, 503, cause);
		free(cause);
		tenant_release(&t);
		return;
	}
	ids = xcalloc(n + 1, sizeof *ids);
	for (i = 0; i < n; i++)
		ids[i] = jobs[i].id;
	api->jobs_json(api->jobs_arg, ids, n, &b);
	httpd_reply(req, 200, "application/json", NULL, b.data, b.len);
	free(ids);
	job_list_free(jobs, n);
	tenant_release(&t);
	buf_release(&b);
}

/* The caller a request's token names: 0, or a reply sent (-1). */
static int
api_auth(struct api *api, struct httpd_req *req, struct api_caller *c)
{
	const char		*h = httpd_header(req, "Authorization");
	struct token_info	 t;
	char			*hash, *cause = NULL;
	int			 rc;

	memset(c, 0, sizeof *c);
	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0) {
		api_error(req, 401, "a token is needed (Authorization: Bearer "
		    "TOKEN)");
		return (-1);
	}
	h += 7;
	while (*h == ' ')
		h++;
	if (!token_wellformed(h)) {
		api_error(req, 401, "the token is not valid");
		return (-1);
	}
	hash = token_hash(h);
	rc = store_token_find(api->store, hash, &t, &cause);
	free(hash);
	if (rc < 0) {
		log_warnx("api: %s", cause);
		free(cause);
		api_error(req, 503, "the store cannot be read");
		return (-1);
	}
	if (rc == 1) {
		log_info("api: %s: a token that is not valid (or revoked)",
		    req->peer);
		api_error(req, 401, "the token is not valid");
		return (-1);
	}
	c->token = t.id;
	c->tenant = t.tenant != NULL ? xstrdup(t.tenant) : NULL;
	token_info_release(&t);
	return (0);
}

static void
api_request(struct httpd_req *req, void *arg)
{
	struct api		*api = arg;
	struct api_caller	 c;
	struct api_argv		 a;
	struct jsonr		*body = NULL;
	const char		*secret = NULL;
	enum api_shape		 shape;
	char			*cause = NULL;

	memset(&a, 0, sizeof a);
	if (api_auth(api, req, &c) != 0)
		return;
	if (strcmp(req->method, "GET") == 0 && strcmp(req->path,
	    "/v1/metrics") == 0) {
		api_metrics(api, req, &c);
		goto out;
	}
	if (req->bodylen > 0 && (body = jsonr_parse(req->body, req->bodylen,
	    &cause)) == NULL) {
		api_error(req, 400, cause);
		goto out;
	}
	if (body != NULL && body->type != JSONR_OBJECT) {
		api_error(req, 400, "the body is a JSON object");
		goto out;
	}
	if (api_route(api, req, &c, body, &a, &secret, &shape) != 0)
		goto out;
	log_debug("api: %s %s by %s%s (token %" PRId64 ")", req->method,
	    req->path, c.tenant != NULL ? "tenant " : "the operator",
	    c.tenant != NULL ? c.tenant : "", c.token);
	api_run(api, req, &c, &a, secret, shape);
out:
	free(cause);
	jsonr_free(body);
	api_argv_release(&a);
	free(c.tenant);
}

/*
 * The API on hostport, with TLS when cert and key are given (else plain
 * HTTP: for loopback or a proxy that ends TLS).  jobs_json writes the
 * statistics of the given running jobs.  NULL with *cause.
 */
struct api *
api_new(struct event_base *base, const struct api_options *o,
    api_jobs_cb jobs_json, void *arg, char **cause)
{
	struct api		*api = xcalloc(1, sizeof *api);
	struct httpd_opts	 ho;
	char			 exe[4096];
	ssize_t			 n;

	api->base = base;
	api->jobs_json = jobs_json;
	api->jobs_arg = arg;
	api->store_path = xstrdup(o->store_path);
	api->control = o->control != NULL ? xstrdup(o->control) : NULL;
	if ((n = readlink("/proc/self/exe", exe, sizeof exe - 1)) <= 0) {
		*cause = xasprintf("cannot find ferry's own executable: %s",
		    strerror(errno));
		goto fail;
	}
	exe[n] = '\0';
	api->exe = xstrdup(exe);
	if ((api->store = store_open(o->store_path, cause)) == NULL)
		goto fail;
	/* The token lookups run on the daemon's loop: a store busy with a
	 * command's write is a 503, not a loop held for seconds. */
	store_set_busy_timeout(api->store, 500);
	if ((o->cert != NULL) != (o->key != NULL)) {
		*cause = xstrdup("--api-cert and --api-key go together");
		goto fail;
	}
	if (o->cert != NULL && (api->tls = httpd_tls_new(o->cert, o->key,
	    cause)) == NULL)
		goto fail;
	httpd_opts_init(&ho);
	ho.tls = api->tls;
	if ((api->httpd = httpd_new(base, o->listen, &ho, api_request, api,
	    cause)) == NULL)
		goto fail;
	if (api->tls == NULL)
		log_warnx("--api %s: plain HTTP (no --api-cert/--api-key): "
		    "tokens and secrets cross the network in the clear; "
		    "listen on loopback or behind a proxy that ends TLS",
		    o->listen);
	return (api);
fail:
	api_free(api);
	return (NULL);
}

void
api_free(struct api *api)
{
	if (api == NULL)
		return;
	while (api->runs != NULL) {
		kill(api->runs->pid, SIGKILL);
		(void)waitpid(api->runs->pid, NULL, 0);
		if (api->runs->req != NULL)
			api_error(api->runs->req, 503, "the daemon stops");
		api->runs->req = NULL;
		api_run_free(api->runs);
	}
	httpd_free(api->httpd);
	if (api->tls != NULL)
		SSL_CTX_free(api->tls);
	if (api->store != NULL)
		store_close(api->store);
	free(api->store_path);
	free(api->control);
	free(api->exe);
	free(api);
}
