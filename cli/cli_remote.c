/*
 * The CLI as a remote client: ferry --server URL --token-file FILE
 * COMMAND ... (or $FERRY_SERVER, $FERRY_TOKEN_FILE) sends the command to
 * the daemon's API (POST /v1/cli, docs/API.md), which runs it as the
 * token's caller, and prints what it printed and exits as it did: the
 * same output, the same exit codes, for a tenant as for the operator.
 *
 * A password the command names (--password-file, --password-env, or the
 * terminal for endpoint set --prompt) is read here and travels in the
 * request's body, never as a path on the daemon's host.  https:// URLs
 * are verified against the system's CAs, or --server-ca FILE
 * ($FERRY_SERVER_CA), and the server's name.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/time.h>

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "cli/cli.h"
#include "common/buf.h"
#include "common/json.h"
#include "common/jsonr.h"
#include "common/log.h"
#include "common/util.h"
#include "common/xmalloc.h"

#define REMOTE_TIMEOUT_S	90
#define REMOTE_MAX_REPLY	(32 * 1024 * 1024)

struct remote_conn {
	int	 fd;
	SSL_CTX	*ctx;
	SSL	*ssl;
};

static int
remote_connect(const char *host, const char *port, char **cause)
{
	struct addrinfo	 hints, *res, *ai;
	struct timeval	 tv = { REMOTE_TIMEOUT_S, 0 };
	int		 fd = -1, err;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((err = getaddrinfo(host, port, &hints, &res)) != 0) {
		*cause = xasprintf("cannot resolve %s: %s", host,
		    gai_strerror(err));
		return (-1);
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if ((fd = socket(ai->ai_family, ai->ai_socktype,
		    ai->ai_protocol)) < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		err = errno;
		close(fd);
		fd = -1;
		errno = err;
	}
	freeaddrinfo(res);
	if (fd < 0)
		*cause = xasprintf("cannot connect to %s:%s: %s", host, port,
		    strerror(errno));
	return (fd);
}

static int
remote_tls(struct remote_conn *c, const char *host, const char *ca,
    char **cause)
{
	if ((c->ctx = SSL_CTX_new(TLS_client_method())) == NULL)
		goto fail;
	SSL_CTX_set_min_proto_version(c->ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
	if ((ca != NULL ? SSL_CTX_load_verify_locations(c->ctx, ca, NULL) :
	    SSL_CTX_set_default_verify_paths(c->ctx)) != 1) {
		*cause = xasprintf("cannot load the CA certificates%s%s", ca !=
		    NULL ? " of " : "", ca != NULL ? ca : "");
		return (-1);
	}
	if ((c->ssl = SSL_new(c->ctx)) == NULL ||
	    SSL_set_fd(c->ssl, c->fd) != 1 ||
	    SSL_set_tlsext_host_name(c->ssl, host) != 1 ||
	    SSL_set1_host(c->ssl, host) != 1)
		goto fail;
	if (SSL_connect(c->ssl) != 1) {
		long		 v = SSL_get_verify_result(c->ssl);
		const char	*why = ERR_reason_error_string(ERR_get_error());

		*cause = xasprintf("TLS with %s failed: %s", host,
		    v != X509_V_OK ? X509_verify_cert_error_string(v) :
		    why != NULL ? why : "handshake");
		return (-1);
	}
	return (0);
fail:
	*cause = xstrdup("cannot set up TLS");
	return (-1);
}

static int
remote_write(struct remote_conn *c, const void *p, size_t len)
{
	const char	*s = p;
	ssize_t		 n;

	while (len > 0) {
		n = c->ssl != NULL ? SSL_write(c->ssl, s, (int)len) :
		    write(c->fd, s, len);
		if (n <= 0)
			return (-1);
		s += n;
		len -= (size_t)n;
	}
	return (0);
}

static int
remote_read_all(struct remote_conn *c, struct buf *b)
{
	char	 tmp[16384];
	ssize_t	 n;

	for (;;) {
		n = c->ssl != NULL ? SSL_read(c->ssl, tmp, sizeof tmp) :
		    read(c->fd, tmp, sizeof tmp);
		if (n == 0 || (n < 0 && c->ssl != NULL &&
		    SSL_get_error(c->ssl, (int)n) == SSL_ERROR_ZERO_RETURN))
			return (0);
		if (n < 0)
			return (-1);
		if (b->len + (size_t)n > REMOTE_MAX_REPLY)
			return (-1);
		buf_add(b, tmp, (size_t)n);
	}
}

/*
 * The command's argv with its password options read here: the secret in
 * *secret, the options replaced by --password-env FERRY_API_SECRET.
 * Returns the new argv (NULL-terminated, its strings borrowed), or NULL
 * having said why.
 */
static char **
remote_argv(int argc, char **argv, char **secret)
{
	char		**v = xcalloc((size_t)argc + 3, sizeof *v);
	const char	*file = NULL, *env = NULL;
	int		 i, n = 0, prompt = 0;

	*secret = NULL;
	for (i = 0; i < argc; i++) {
		if ((strcmp(argv[i], "--password-file") == 0 ||
		    strcmp(argv[i], "--password-env") == 0) && i + 1 < argc) {
			if (argv[i][11] == 'f')
				file = argv[++i];
			else
				env = argv[++i];
			continue;
		}
		if (strncmp(argv[i], "--password-file=", 16) == 0) {
			file = argv[i] + 16;
			continue;
		}
		if (strncmp(argv[i], "--password-env=", 15) == 0) {
			env = argv[i] + 15;
			continue;
		}
		if (strcmp(argv[i], "--prompt") == 0) {
			prompt = 1;
			continue;
		}
		v[n++] = argv[i];
	}
	if ((file != NULL || env != NULL || prompt) &&
	    cli_read_secret(file, env, "password: ", 1, secret) != 0) {
		free(v);
		return (NULL);
	}
	if (*secret != NULL) {
		v[n++] = (char *)"--password-env";
		v[n++] = (char *)"FERRY_API_SECRET";
	}
	v[n] = NULL;
	return (v);
}

/* Print the command's output as it ran on the server; its exit code. */
static int
remote_result(int status, const char *body, size_t len)
{
	struct jsonr		*v;
	const struct jsonr	*x, *o, *e, *m;
	char			*cause = NULL;
	int			 rc = CLI_FAIL;

	if ((v = jsonr_parse(body, len, &cause)) == NULL) {
		cli_error("the server's reply (HTTP %d) is not JSON: %s",
		    status, cause);
		free(cause);
		return (CLI_FAIL);
	}
	if (status != 200) {
		m = jsonr_get(v, "error");
		cli_error("the server refused the command (HTTP %d): %s",
		    status, m != NULL && m->type == JSONR_STRING ? m->str :
		    "no reason given");
		jsonr_free(v);
		return (status == 400 ? CLI_USAGE : CLI_FAIL);
	}
	x = jsonr_get(v, "exit");
	o = jsonr_get(v, "stdout");
	e = jsonr_get(v, "stderr");
	if (x == NULL || x->type != JSONR_NUMBER || o == NULL || o->type !=
	    JSONR_STRING || e == NULL || e->type != JSONR_STRING) {
		cli_error("the server's reply lacks exit, stdout or stderr");
		jsonr_free(v);
		return (CLI_FAIL);
	}
	fputs(o->str, stdout);
	fputs(e->str, stderr);
	rc = x->num >= 0 && x->num <= 255 ? (int)x->num : CLI_FAIL;
	jsonr_free(v);
	return (rc);
}

/*
 * Run argc/argv (the command and its arguments) on the daemon at server
 * (http[s]://HOST:PORT) with the token in token_file.  Returns the
 * command's exit code.
 */
int
cli_remote(const char *server, const char *token_file, const char *ca,
    int argc, char **argv)
{
	struct remote_conn	 c = { -1, NULL, NULL };
	struct buf		 req = BUF_INITIALIZER, body = BUF_INITIALIZER;
	struct buf		 reply = BUF_INITIALIZER;
	const char		*hp, *sep, *end;
	char			*token = NULL, *secret = NULL, *cause = NULL;
	char			*host = NULL, *port = NULL, **v = NULL;
	int			 tls, i, rc = CLI_FAIL, status;

	if (token_file == NULL) {
		cli_error("--server needs --token-file FILE (or "
		    "FERRY_TOKEN_FILE)");
		return (CLI_USAGE);
	}
	if (strncmp(server, "https://", 8) == 0)
		tls = 1;
	else if (strncmp(server, "http://", 7) == 0)
		tls = 0;
	else {
		cli_error("--server takes https://HOST:PORT (or http:// for "
		    "loopback), not '%s'", server);
		return (CLI_USAGE);
	}
	hp = server + (tls ? 8 : 7);
	end = hp + strcspn(hp, "/");
	if (*hp == '[') {
		sep = memchr(hp, ']', (size_t)(end - hp));
		if (sep == NULL) {
			cli_error("--server: a bad IPv6 address in '%s'",
			    server);
			return (CLI_USAGE);
		}
		host = xstrndup(hp + 1, (size_t)(sep - hp - 1));
		sep++;
	} else {
		sep = memchr(hp, ':', (size_t)(end - hp));
		host = xstrndup(hp, (size_t)((sep != NULL ? sep : end) - hp));
	}
	port = sep != NULL && *sep == ':' ? xstrndup(sep + 1,
	    (size_t)(end - sep - 1)) : xstrdup(tls ? "443" : "80");
	if (!tls && strcmp(host, "localhost") != 0 && strncmp(host, "127.",
	    4) != 0 && strcmp(host, "::1") != 0) {
		/* The token would cross the network in the clear. */
		cli_error("--server http:// is for loopback; give https:// for "
		    "%s", host);
		rc = CLI_USAGE;
		goto out;
	}
	if (util_read_secret_file(token_file, &token, &cause) != 0) {
		cli_error("token file: %s", cause);
		goto out;
	}
	if ((v = remote_argv(argc, argv, &secret)) == NULL)
		goto out;
	buf_adds(&body, "{\"argv\":[");
	for (i = 0; v[i] != NULL; i++) {
		if (i > 0)
			buf_addc(&body, ',');
		json_add_cstring(&body, v[i]);
	}
	buf_addc(&body, ']');
	if (secret != NULL) {
		buf_adds(&body, ",\"secret\":");
		json_add_cstring(&body, secret);
	}
	buf_addc(&body, '}');
	buf_printf(&req, "POST /v1/cli HTTP/1.1\r\nHost: %s\r\n"
	    "Authorization: Bearer %s\r\nContent-Type: application/json\r\n"
	    "Content-Length: %zu\r\nConnection: close\r\n\r\n", host, token,
	    body.len);
	buf_add(&req, body.data, body.len);
	if ((c.fd = remote_connect(host, port, &cause)) < 0 ||
	    (tls && remote_tls(&c, host, ca, &cause) != 0)) {
		cli_error("%s", cause);
		goto out;
	}
	if (remote_write(&c, req.data, req.len) != 0 ||
	    remote_read_all(&c, &reply) != 0) {
		cli_error("the connection to %s broke", server);
		goto out;
	}
	buf_str(&reply);
	if (sscanf((const char *)reply.data, "HTTP/1.%*d %d", &status) != 1 ||
	    (hp = strstr((const char *)reply.data, "\r\n\r\n")) == NULL) {
		cli_error("%s did not answer in HTTP", server);
		goto out;
	}
	hp += 4;
	rc = remote_result(status, hp, reply.len - (size_t)(hp -
	    (const char *)reply.data));
out:
	if (c.ssl != NULL) {
		SSL_shutdown(c.ssl);
		SSL_free(c.ssl);
	}
	if (c.ctx != NULL)
		SSL_CTX_free(c.ctx);
	if (c.fd >= 0)
		close(c.fd);
	if (req.data != NULL)
		xzero(req.data, req.len);
	if (body.data != NULL)
		xzero(body.data, body.len);
	buf_release(&req);
	buf_release(&body);
	buf_release(&reply);
	xfree_secret(token);
	xfree_secret(secret);
	free(cause);
	free(host);
	free(port);
	free(v);
	return (rc);
}
