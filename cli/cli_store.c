/*
 * Shared by the commands that use the job store: opening it for the
 * current tenant, who is acting (for the job log), parsing sizes and
 * names, small JSON output helpers.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/cli_store.h"
#include "common/buf.h"
#include "common/json.h"
#include "common/log.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "scheduler/daemon.h"

/* Open the store and look up the current tenant; NULL after saying why. */
struct store *
cli_store_open(struct cli_ctx *ctx, struct tenant *t)
{
	struct store	*s;
	char		*cause = NULL;

	if ((s = store_open(ctx->db_path, &cause)) == NULL) {
		cli_error("%s", cause);
		free(cause);
		return (NULL);
	}
	if (t != NULL && store_tenant_get(s, ctx->tenant, t, &cause) != 0) {
		cli_error("%s", cause);
		free(cause);
		store_close(s);
		return (NULL);
	}
	return (s);
}

/*
 * Tell a daemon serving this store that a job changed, so it acts now
 * rather than at its next poll: "wake" on its control socket ($FERRY_CONTROL,
 * else STORE.sock).  Best effort: no daemon, or a slow one, is not an
 * error (the daemon reads the store anyway).
 */
void
cli_wake_daemon(const struct cli_ctx *ctx)
{
	struct sockaddr_un	 sun;
	struct timeval		 tv = { 2, 0 };
	const char		*env = getenv("FERRY_CONTROL");
	char			*path, reply[64];
	int			 fd;

	if (env != NULL && strcmp(env, "none") == 0)
		return;
	path = env != NULL && *env != '\0' ? xstrdup(env) :
	    daemon_control_path(ctx->db_path);
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sun.sun_path ||
	    (fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0) {
		free(path);
		return;
	}
	util_strlcpy(sun.sun_path, path, sizeof sun.sun_path);
	free(path);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	/* The reply says the daemon has read the store. */
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) == 0 &&
	    write(fd, "wake\n", 5) == 5 && read(fd, reply, sizeof reply) < 0)
		log_debug("no reply on the control socket");
	close(fd);
}

/* "512", "64K", "512M", "2G", "1T" (powers of 1024) -> bytes. */
int
cli_parse_size(const char *s, int64_t *out, char **cause)
{
	char		*end;
	unsigned long long v;
	uint64_t	 mult = 1;

	if (*s < '0' || *s > '9') {
		*cause = xasprintf("'%s' is not a size", s);
		return (-1);
	}
	v = strtoull(s, &end, 10);
	switch (*end) {
	case 'k': case 'K': mult = 1024; end++; break;
	case 'm': case 'M': mult = 1024 * 1024; end++; break;
	case 'g': case 'G': mult = 1024 * 1024 * 1024; end++; break;
	case 't': case 'T': mult = (uint64_t)1 << 40; end++; break;
	}
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end != '\0' || v > INT64_MAX / mult) {
		*cause = xasprintf("'%s' is not a size (a number of bytes, "
		    "or with K, M, G or T)", s);
		return (-1);
	}
	*out = (int64_t)(v * mult);
	return (0);
}

/*
 * Names of tenants, endpoints and jobs: letters, digits, '_', '-', '.',
 * at most 64, not only digits (job names and ids share a syntax).  Says
 * why on stderr and returns -1 when invalid.
 */
int
cli_valid_name(const char *what, const char *name)
{
	const char	*p;
	int		 digits = 1;

	if (*name == '\0' || strlen(name) > 64) {
		cli_error("%s name must have 1 to 64 characters", what);
		return (-1);
	}
	for (p = name; *p != '\0'; p++) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '_' || *p == '-' ||
		    *p == '.')) {
			cli_error("%s name '%s' has a character other than "
			    "letters, digits, '_', '-' and '.'", what, name);
			return (-1);
		}
		if (*p < '0' || *p > '9')
			digits = 0;
	}
	if (digits) {
		cli_error("%s name '%s' is only digits, which reads as an id",
		    what, name);
		return (-1);
	}
	return (0);
}

/* ,"key":"value" (or null); first: no comma */
void
cli_json_str(struct buf *b, const char *key, const char *v, int first)
{
	if (!first)
		buf_addc(b, ',');
	json_add_key(b, key);
	if (v == NULL)
		buf_adds(b, "null");
	else
		json_add_cstring(b, v);
}

void
cli_json_int(struct buf *b, const char *key, int64_t v, int first)
{
	if (!first)
		buf_addc(b, ',');
	json_add_key(b, key);
	buf_printf(b, "%" PRId64, v);
}

void
cli_print_json(struct buf *b)
{
	buf_addc(b, '\n');
	fwrite(b->data, 1, b->len, stdout);
}

/* A store timestamp (ms) as UTC text, "-" for none. */
void
cli_time(int64_t ms, char *out, size_t len)
{
	struct tm	 tm;
	time_t		 t = (time_t)(ms / 1000);

	if (ms <= 0) {
		snprintf(out, len, "-");
		return;
	}
	gmtime_r(&t, &tm);
	strftime(out, len, "%Y-%m-%d %H:%M:%SZ", &tm);
}
