/*
 * The replication client.
 *
 * Connector/C opens and authenticates the connection (password, TLS, any
 * auth plugin it has); then, as a replica does:
 *
 *	1. SET @master_binlog_checksum = @@global.binlog_checksum, so the
 *	   server keeps event checksums (and we verify them);
 *	   MariaDB: SET @mariadb_slave_capability = 4, to get GTID and
 *	   annotate events as they are, not rewritten for an old replica;
 *	   SET @master_heartbeat_period, so an idle server still speaks and
 *	   a dead connection is noticed;
 *	2. COM_REGISTER_SLAVE with our server_id (refused beforehand if the
 *	   server already lists a replica with it, or is it);
 *	3. COM_BINLOG_DUMP from a file and position, or, by GTID, on MariaDB
 *	   the same command after SET @slave_connect_state, on MySQL
 *	   COM_BINLOG_DUMP_GTID with the encoded set.
 *
 * Then each packet is one event after a 0x00 byte; 0xfe ends a
 * non-blocking dump; 0xff is an error, whose code says whether the
 * position was purged (1236) or something else went wrong.  The events are
 * left undecoded: the caller feeds them to a binlog_decoder.
 *
 * binlog_client_stop() may be called from another thread: it shuts the
 * socket down, which ends a blocked read at once.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <mysqld_error.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "common/buf.h"
#include "common/bytes.h"
#include "common/log.h"
#include "common/xmalloc.h"
#include "engine/binlog.h"
#include "engine/binlog_client.h"
#include "engine/gtid.h"
#include "engine/mysql_conn.h"
#include "engine/netpolicy.h"

#include <ma_pvio.h>	/* the read-ahead cache, for binlog_client_wait() */

#define COM_BINLOG_DUMP_CMD		0x12
#define COM_REGISTER_SLAVE_CMD		0x15
#define COM_BINLOG_DUMP_GTID_CMD	0x1e
#define BINLOG_DUMP_NON_BLOCK		0x01
#define BINLOG_THROUGH_GTID		0x04
#define ER_SOURCE_FATAL_READING_BINLOG	1236
/* Dolt (a MySQL-compatible server) sends a heartbeat every 30 s, whatever
 * @master_heartbeat_period asks for. */
#define BINLOG_DOLT_HEARTBEAT_MS	30000
/* Codes that say the connection was ended, not refused (MariaDB's names;
 * MySQL has no ER_CONNECTION_KILLED and sends 1317 for a KILL). */
#define FERRY_ER_QUERY_INTERRUPTED	1317
#define FERRY_ER_CONNECTION_KILLED	1927
/*
 * What mysql_net_read_packet() returns for an error: Connector/C's
 * packet_error is the 32-bit (unsigned int)-1, returned as an unsigned
 * long, so it is not (unsigned long)-1 on LP64.
 */
#ifdef packet_error
#define BINLOG_PACKET_ERROR	((unsigned long)packet_error)
#else
#define BINLOG_PACKET_ERROR	((unsigned long)(unsigned int)-1)
#endif

struct binlog_client {
	MYSQL		*m;
	int		 mariadb;
	int		 checksum;
	char		*file;		/* current binlog file */
	atomic_int	 stopped;
	int		 nonblocking;
	char		*who;
};

void
binlog_client_opts_init(struct binlog_client_opts *o)
{
	memset(o, 0, sizeof *o);
	mysql_conn_opts_init(&o->conn);
	o->pos = 4;
}

void
binlog_client_opts_release(struct binlog_client_opts *o)
{
	mysql_conn_opts_release(&o->conn);
	free(o->file);
	free(o->gtid);
	memset(o, 0, sizeof *o);
}

/* Classify a server or client error by its code and text. */
static enum binlog_client_error
binlog_client_classify_code(unsigned int code, const char *msg)
{
	switch (code) {
	case ER_SOURCE_FATAL_READING_BINLOG:
		if (strcasestr(msg, "purged") != NULL ||
		    strcasestr(msg, "could not find") != NULL ||
		    strcasestr(msg, "not in the master's binlog") != NULL ||
		    strcasestr(msg, "not in the binlog") != NULL ||
		    strcasestr(msg, "first log file name") != NULL)
			return (BINLOG_CLIENT_PURGED);
		return (BINLOG_CLIENT_FATAL);
	case ER_ACCESS_DENIED_ERROR:
	case ER_DBACCESS_DENIED_ERROR:
	case ER_SPECIFIC_ACCESS_DENIED_ERROR:
		return (BINLOG_CLIENT_AUTH);
	}
	if (code >= 2000 && code < 3000)	/* client side: network */
		return (BINLOG_CLIENT_TRANSIENT);
	/* The server shutting down, a KILL of the dump thread, a network
	 * error the server saw: the stream ended, the next one may not. */
	if (code == ER_SERVER_SHUTDOWN || code == ER_CON_COUNT_ERROR ||
	    code == ER_NET_READ_ERROR || code == ER_NET_READ_INTERRUPTED ||
	    code == FERRY_ER_QUERY_INTERRUPTED ||
	    code == FERRY_ER_CONNECTION_KILLED)
		return (BINLOG_CLIENT_TRANSIENT);
	return (BINLOG_CLIENT_FATAL);
}

static enum binlog_client_error
binlog_client_classify(MYSQL *m)
{
	return (binlog_client_classify_code(mysql_errno(m), mysql_error(m)));
}

static int
binlog_client_query(struct binlog_client *c, const char *sql,
    enum binlog_client_error *kind, char **cause)
{
	char	*what;

	if (mysql_query(c->m, sql) != 0) {
		what = xasprintf("replication setup on %s: %s", c->who, sql);
		*cause = mysql_conn_error(c->m, what);
		*kind = binlog_client_classify(c->m);
		free(what);
		return (-1);
	}
	mysql_free_result(mysql_store_result(c->m));
	return (0);
}

/*
 * Refuse a server_id the server already uses for a replica (1), or its own
 * (-1): two replicas with one id make the server drop the older
 * connection, and each would see the other's disconnects.
 */
static int
binlog_client_check_server_id(struct binlog_client *c, uint32_t id,
    char **cause)
{
	MYSQL_RES	*res;
	MYSQL_ROW	 row;
	char		*v = NULL, *why = NULL;
	int		 rc = 0;

	if (mysql_conn_query_string(c->m, "SELECT @@server_id", &v, &why) ==
	    0 && v != NULL && strtoul(v, NULL, 10) == id) {
		*cause = xasprintf("server_id %" PRIu32 " is the source's own; "
		    "choose another replica server id", id);
		free(v);
		return (-1);
	}
	free(v);
	free(why);
	if (mysql_query(c->m, "SHOW SLAVE HOSTS") != 0 &&
	    mysql_query(c->m, "SHOW REPLICAS") != 0)
		return (0);	/* not allowed to look: the server will tell */
	if ((res = mysql_store_result(c->m)) == NULL)
		return (0);
	while ((row = mysql_fetch_row(res)) != NULL) {
		if (row[0] != NULL && strtoul(row[0], NULL, 10) == id) {
			*cause = xasprintf("server_id %" PRIu32 " is already "
			    "used by a replica of %s (host %s); choose "
			    "another", id, c->who, row[1] != NULL ? row[1] :
			    "?");
			rc = 1;
			break;
		}
	}
	mysql_free_result(res);
	return (rc);
}

static int
binlog_client_command(struct binlog_client *c, int cmd, const struct buf *b,
    int skip_check, enum binlog_client_error *kind, char **cause)
{
	char	*what;

	if (c->m->methods->db_command(c->m, (enum enum_server_command)cmd,
	    (const char *)b->data, b->len, (my_bool)skip_check, NULL) != 0) {
		what = xasprintf("replication request to %s", c->who);
		*cause = mysql_conn_error(c->m, what);
		*kind = binlog_client_classify(c->m);
		free(what);
		return (-1);
	}
	return (0);
}

static int
binlog_client_register(struct binlog_client *c,
    const struct binlog_client_opts *o, enum binlog_client_error *kind,
    char **cause)
{
	struct buf	 b = BUF_INITIALIZER;
	uint8_t		 tmp[8];
	int		 rc;

	put_le32(tmp, o->server_id);
	buf_add(&b, tmp, 4);
	buf_addc(&b, 5);
	buf_adds(&b, "ferry");		/* report_host */
	buf_addc(&b, 0);		/* user */
	buf_addc(&b, 0);		/* password */
	put_le16(tmp, 0);		/* port */
	buf_add(&b, tmp, 2);
	put_le32(tmp, 0);		/* replication rank */
	buf_add(&b, tmp, 4);
	buf_add(&b, tmp, 4);		/* master id: the server fills it */
	rc = binlog_client_command(c, COM_REGISTER_SLAVE_CMD, &b, 0, kind,
	    cause);
	buf_release(&b);
	return (rc);
}

static int
binlog_client_dump(struct binlog_client *c, const struct binlog_client_opts *o,
    enum binlog_client_error *kind, char **cause)
{
	struct buf	 b = BUF_INITIALIZER, set = BUF_INITIALIZER;
	uint8_t		 tmp[8];
	uint16_t	 flags = o->nonblocking ? BINLOG_DUMP_NON_BLOCK : 0;
	const char	*file = o->file != NULL ? o->file : "";
	int		 rc = -1;

	if (o->gtid != NULL && !c->mariadb) {
		if (gtid_mysql_encode(o->gtid, &set, cause) != 0) {
			*kind = BINLOG_CLIENT_FATAL;
			goto out;
		}
		put_le16(tmp, (uint16_t)(flags | BINLOG_THROUGH_GTID));
		buf_add(&b, tmp, 2);
		put_le32(tmp, o->server_id);
		buf_add(&b, tmp, 4);
		put_le32(tmp, 0);		/* no file name */
		buf_add(&b, tmp, 4);
		put_le64(tmp, 4);
		buf_add(&b, tmp, 8);
		put_le32(tmp, (uint32_t)set.len);
		buf_add(&b, tmp, 4);
		buf_add(&b, set.data, set.len);
		rc = binlog_client_command(c, COM_BINLOG_DUMP_GTID_CMD, &b, 1,
		    kind, cause);
		goto out;
	}
	if (o->gtid != NULL)
		file = "";		/* MariaDB: the connect state decides */
	if (o->pos > UINT32_MAX) {
		*cause = xasprintf("position %" PRIu64 " does not fit "
		    "COM_BINLOG_DUMP", o->pos);
		*kind = BINLOG_CLIENT_FATAL;
		goto out;
	}
	put_le32(tmp, o->gtid != NULL ? 4 : (uint32_t)o->pos);
	buf_add(&b, tmp, 4);
	put_le16(tmp, flags);
	buf_add(&b, tmp, 2);
	put_le32(tmp, o->server_id);
	buf_add(&b, tmp, 4);
	buf_adds(&b, file);
	rc = binlog_client_command(c, COM_BINLOG_DUMP_CMD, &b, 1, kind, cause);
out:
	buf_release(&b);
	buf_release(&set);
	return (rc);
}

/*
 * A read that waits through three heartbeats of heartbeat_ms is a dead
 * server: the read timeout of the connection, in seconds.
 */
static unsigned int
binlog_client_timeout_s(unsigned int heartbeat_ms)
{
	return (heartbeat_ms != 0 ? (heartbeat_ms * 3 + 999) / 1000 + 1 : 0);
}

/*
 * The server sends heartbeats every heartbeat_ms whatever the replica
 * asked: wait through three of those on the connection already open.
 */
static void
binlog_client_read_timeout(struct binlog_client *c, unsigned int heartbeat_ms)
{
	MARIADB_PVIO	*pvio = c->m->net.pvio;

	if (pvio != NULL && pvio->methods != NULL &&
	    pvio->methods->set_timeout != NULL)
		pvio->methods->set_timeout(pvio, PVIO_READ_TIMEOUT,
		    (int)binlog_client_timeout_s(heartbeat_ms));
}

/*
 * Connect and start the dump.  Returns a client (close with
 * binlog_client_close()) or NULL with *kind and *cause.
 */
struct binlog_client *
binlog_client_open(const struct binlog_client_opts *o,
    enum binlog_client_error *kind, char **cause)
{
	struct binlog_client	*c;
	struct mysql_conn_opts	 conn = o->conn;
	char			*v = NULL, *sql;
	int			 rc;

	*kind = BINLOG_CLIENT_FATAL;
	if (o->server_id == 0) {
		*cause = xstrdup("a replica needs a non-zero server_id");
		return (NULL);
	}
	conn.read_timeout = binlog_client_timeout_s(o->heartbeat_ms);
	conn.max_packet = BINLOG_MAX_EVENT;
	c = xcalloc(1, sizeof *c);
	c->who = mysql_conn_describe(&o->conn);
	if ((c->m = mysql_conn_open(&conn, cause)) == NULL) {
		*kind = BINLOG_CLIENT_TRANSIENT;
		if (strstr(*cause, "error 1045") != NULL ||
		    strstr(*cause, "error 1044") != NULL)
			*kind = BINLOG_CLIENT_AUTH;
		else if (strstr(*cause, NETPOLICY_WORDS) != NULL)
			*kind = BINLOG_CLIENT_FATAL;
		goto fail;
	}
	if (mysql_conn_query_string(c->m, "SELECT VERSION()", &v, cause) != 0)
		goto fail_kind;
	c->mariadb = v != NULL && strstr(v, "MariaDB") != NULL;
	free(v);
	v = NULL;
	if (!c->mariadb && o->heartbeat_ms != 0 && o->heartbeat_ms <
	    BINLOG_DOLT_HEARTBEAT_MS && mysql_conn_query_string(c->m,
	    "SELECT @@version_comment", &v, cause) == 0 && v != NULL &&
	    strcmp(v, "Dolt") == 0)
		binlog_client_read_timeout(c, BINLOG_DOLT_HEARTBEAT_MS);
	free(v);
	v = NULL;
	if (mysql_conn_query_string(c->m, "SELECT @@global.binlog_checksum",
	    &v, cause) != 0)
		goto fail_kind;
	c->checksum = v != NULL && strcasecmp(v, "NONE") != 0;
	free(v);
	v = NULL;
	if (binlog_client_query(c, "SET @master_binlog_checksum = "
	    "@@global.binlog_checksum", kind, cause) != 0)
		goto fail;
	if (c->mariadb && binlog_client_query(c, "SET @mariadb_slave_capability "
	    "= 4", kind, cause) != 0)
		goto fail;
	if (o->heartbeat_ms != 0) {
		sql = xasprintf("SET @master_heartbeat_period = %" PRIu64,
		    (uint64_t)o->heartbeat_ms * 1000000);
		if (binlog_client_query(c, sql, kind, cause) != 0) {
			free(sql);
			goto fail;
		}
		free(sql);
	}
	if (o->gtid != NULL && c->mariadb) {
		MYSQL_STMT	*st;
		MYSQL_BIND	 bind;
		unsigned long	 len = strlen(o->gtid);

		if (gtid_mariadb_check(o->gtid, cause) != 0)
			goto fail;
		/* Bound, not spliced into the SQL text. */
		st = mysql_stmt_init(c->m);
		memset(&bind, 0, sizeof bind);
		bind.buffer_type = MYSQL_TYPE_STRING;
		bind.buffer = o->gtid;
		bind.buffer_length = len;
		bind.length = &len;
		if (st == NULL || mysql_stmt_prepare(st,
		    "SET @slave_connect_state = ?", 28) != 0 ||
		    mysql_stmt_bind_param(st, &bind) != 0 ||
		    mysql_stmt_execute(st) != 0) {
			*cause = mysql_conn_error(c->m, "setting the GTID "
			    "start position");
			if (st != NULL)
				mysql_stmt_close(st);
			goto fail_kind;
		}
		mysql_stmt_close(st);
		if (binlog_client_query(c, "SET @slave_gtid_strict_mode = 1",
		    kind, cause) != 0 ||
		    binlog_client_query(c, "SET @slave_gtid_ignore_duplicates "
		    "= 0", kind, cause) != 0)
			goto fail;
	}
	if ((rc = binlog_client_check_server_id(c, o->server_id,
	    cause)) != 0) {
		*kind = rc == 1 ? BINLOG_CLIENT_ID_IN_USE : BINLOG_CLIENT_FATAL;
		goto fail;
	}
	if (binlog_client_register(c, o, kind, cause) != 0 ||
	    binlog_client_dump(c, o, kind, cause) != 0)
		goto fail;
	c->file = xstrdup(o->file != NULL ? o->file : "");
	c->nonblocking = o->nonblocking;
	*kind = BINLOG_CLIENT_OK;
	return (c);
fail_kind:
	*kind = c->m != NULL ? binlog_client_classify(c->m) :
	    BINLOG_CLIENT_TRANSIENT;
fail:
	free(v);
	binlog_client_close(c);
	return (NULL);
}

static void
binlog_client_purged(const struct binlog_client *c, unsigned int code,
    const char *msg, char **cause)
{
	*cause = xasprintf("the binlog position ferry needs is no longer on %s "
	    "(purged, or never there): error %u: %s", c->who, code, msg);
}

/*
 * The next event: *ev (borrowed until the next call), *len and its
 * position in the server's current file.  Returns 1, 0 at the end of a
 * non-blocking dump, -1 with *kind and *cause.
 */
int
binlog_client_next(struct binlog_client *c, const uint8_t **ev, size_t *len,
    uint64_t *offset, enum binlog_client_error *kind, char **cause)
{
	struct binlog_header	 h;
	unsigned long		 n;
	const uint8_t		*p;
	char			*what;

	n = mysql_net_read_packet(c->m);
	if (atomic_load(&c->stopped)) {
		*kind = BINLOG_CLIENT_STOPPED;
		*cause = xstrdup("stopped");
		return (-1);
	}
	if (n == BINLOG_PACKET_ERROR || n == (unsigned long)-1 || n == 0) {
		/* Connector/C reads an error packet itself: its code says
		 * whether the stream may be asked for again. */
		*kind = binlog_client_classify(c->m);
		if (*kind == BINLOG_CLIENT_PURGED) {
			binlog_client_purged(c, mysql_errno(c->m),
			    mysql_error(c->m), cause);
			return (-1);
		}
		what = xasprintf("reading the binlog of %s", c->who);
		*cause = mysql_conn_error(c->m, what);
		free(what);
		return (-1);
	}
	p = c->m->net.read_pos;
	if (p[0] == 0xfe && n < 8) {
		if (c->nonblocking)
			return (0);	/* the end of what there is */
		/* A blocking dump ends only when the server goes away. */
		*cause = xasprintf("reading the binlog of %s: the server ended "
		    "the stream (shutting down?)", c->who);
		*kind = BINLOG_CLIENT_TRANSIENT;
		return (-1);
	}
	if (p[0] == 0xff) {
		/* An error packet: code, '#' and SQLSTATE, message. */
		unsigned int	 code = n >= 3 ? le16(p + 1) : 0;
		size_t		 skip = n >= 9 && p[3] == '#' ? 9 : 3;
		char		*msg;

		msg = xstrndup(n > skip ? (const char *)p + skip : "",
		    n > skip ? n - skip : 0);
		*kind = binlog_client_classify_code(code, msg);
		if (*kind == BINLOG_CLIENT_PURGED)
			binlog_client_purged(c, code, msg, cause);
		else
			*cause = xasprintf("reading the binlog of %s: error "
			    "%u: %s", c->who, code, msg);
		free(msg);
		return (-1);
	}
	if (p[0] != 0x00) {
		*cause = xasprintf("reading the binlog of %s: unexpected "
		    "packet type 0x%02x", c->who, p[0]);
		*kind = BINLOG_CLIENT_FATAL;
		return (-1);
	}
	*ev = p + 1;
	*len = n - 1;
	if (binlog_header_parse(*ev, *len, &h) != 0) {
		*cause = xasprintf("reading the binlog of %s: a packet of %lu "
		    "bytes is not an event", c->who, n);
		*kind = BINLOG_CLIENT_FATAL;
		return (-1);
	}
	if (h.type == BINLOG_ROTATE && *len >= BINLOG_HEADER_LEN + 8 +
	    (c->checksum ? BINLOG_CHECKSUM_LEN : 0)) {
		/* header, 8-byte position, the name, the checksum */
		free(c->file);
		c->file = xstrndup((const char *)*ev + BINLOG_HEADER_LEN + 8,
		    *len - BINLOG_HEADER_LEN - 8 -
		    (c->checksum ? BINLOG_CHECKSUM_LEN : 0));
	}
	*offset = h.log_pos >= h.size ? h.log_pos - h.size : 0;
	if (h.flags & BINLOG_F_ARTIFICIAL || h.log_pos == 0)
		*offset = 0;
	return (1);
}

/* Whether the events carry checksums (tell the decoder). */
int
binlog_client_checksum(const struct binlog_client *c)
{
	return (c->checksum);
}

int
binlog_client_mariadb(const struct binlog_client *c)
{
	return (c->mariadb);
}

/* The server's current binlog file, as the last ROTATE named it. */
/*
 * Whether the next event can be read at once, waiting up to timeout_ms for
 * the source: 0 when nothing came (the caller may do other work and ask
 * again), 1 when something did, or when it cannot tell (TLS and
 * compression buffer inside the connection: then the read decides).
 */
int
binlog_client_wait(struct binlog_client *c, int timeout_ms)
{
	MARIADB_PVIO	*pvio = c->m->net.pvio;
	struct pollfd	 pfd;

	if (pvio == NULL || pvio->ctls != NULL || c->m->net.compress ||
	    (pvio->cache != NULL && pvio->cache_pos < pvio->cache +
	    pvio->cache_size))
		return (1);	/* read ahead already: the read is at once */
	memset(&pfd, 0, sizeof pfd);
	pfd.fd = (int)mysql_get_socket(c->m);
	pfd.events = POLLIN;
	return (poll(&pfd, 1, timeout_ms) != 0);
}

const char *
binlog_client_file(const struct binlog_client *c)
{
	return (c->file);
}

/*
 * Any thread: end a blocked binlog_client_next() promptly.  The client
 * must still be closed by its owner.
 */
void
binlog_client_stop(struct binlog_client *c)
{
	atomic_store(&c->stopped, 1);
	if (c->m != NULL)
		shutdown(mysql_get_socket(c->m), SHUT_RDWR);
}

void
binlog_client_close(struct binlog_client *c)
{
	if (c == NULL)
		return;
	if (c->m != NULL)
		mysql_close(c->m);
	free(c->file);
	free(c->who);
	free(c);
}
