/*
 * The binary log: event types, decoded events, and the decoder that turns a
 * stream of raw events (from a file or a replication connection) into them.
 */
#ifndef FERRY_ENGINE_BINLOG_H
#define FERRY_ENGINE_BINLOG_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "schema/table.h"
#include "schema/value.h"

#define BINLOG_MAGIC		"\xfe" "bin"
#define BINLOG_MAGIC_LEN	4
#define BINLOG_HEADER_LEN	19
#define BINLOG_CHECKSUM_LEN	4
/* The largest event ferry accepts (MySQL's max_allowed_packet is 1 GiB). */
#define BINLOG_MAX_EVENT	(1024u * 1024 * 1024)

enum binlog_type {
	BINLOG_UNKNOWN = 0,
	BINLOG_START_V3 = 1,
	BINLOG_QUERY = 2,
	BINLOG_STOP = 3,
	BINLOG_ROTATE = 4,
	BINLOG_INTVAR = 5,
	BINLOG_LOAD = 6,
	BINLOG_SLAVE = 7,
	BINLOG_CREATE_FILE = 8,
	BINLOG_APPEND_BLOCK = 9,
	BINLOG_EXEC_LOAD = 10,
	BINLOG_DELETE_FILE = 11,
	BINLOG_NEW_LOAD = 12,
	BINLOG_RAND = 13,
	BINLOG_USER_VAR = 14,
	BINLOG_FORMAT_DESCRIPTION = 15,
	BINLOG_XID = 16,
	BINLOG_BEGIN_LOAD_QUERY = 17,
	BINLOG_EXECUTE_LOAD_QUERY = 18,
	BINLOG_TABLE_MAP = 19,
	BINLOG_PRE_GA_WRITE_ROWS = 20,
	BINLOG_PRE_GA_UPDATE_ROWS = 21,
	BINLOG_PRE_GA_DELETE_ROWS = 22,
	BINLOG_WRITE_ROWS_V1 = 23,
	BINLOG_UPDATE_ROWS_V1 = 24,
	BINLOG_DELETE_ROWS_V1 = 25,
	BINLOG_INCIDENT = 26,
	BINLOG_HEARTBEAT = 27,
	BINLOG_IGNORABLE = 28,
	BINLOG_ROWS_QUERY = 29,
	BINLOG_WRITE_ROWS = 30,
	BINLOG_UPDATE_ROWS = 31,
	BINLOG_DELETE_ROWS = 32,
	BINLOG_GTID = 33,
	BINLOG_ANONYMOUS_GTID = 34,
	BINLOG_PREVIOUS_GTIDS = 35,
	BINLOG_TRANSACTION_CONTEXT = 36,
	BINLOG_VIEW_CHANGE = 37,
	BINLOG_XA_PREPARE = 38,
	BINLOG_PARTIAL_UPDATE_ROWS = 39,
	BINLOG_TRANSACTION_PAYLOAD = 40,
	BINLOG_HEARTBEAT_V2 = 41,
	BINLOG_GTID_TAGGED = 42,
	BINLOG_MARIA_ANNOTATE_ROWS = 160,
	BINLOG_MARIA_BINLOG_CHECKPOINT = 161,
	BINLOG_MARIA_GTID = 162,
	BINLOG_MARIA_GTID_LIST = 163,
	BINLOG_MARIA_START_ENCRYPTION = 164,
	BINLOG_MARIA_QUERY_COMPRESSED = 165,
	BINLOG_MARIA_WRITE_ROWS_COMPRESSED_V1 = 166,
	BINLOG_MARIA_UPDATE_ROWS_COMPRESSED_V1 = 167,
	BINLOG_MARIA_DELETE_ROWS_COMPRESSED_V1 = 168,
	BINLOG_MARIA_WRITE_ROWS_COMPRESSED = 169,
	BINLOG_MARIA_UPDATE_ROWS_COMPRESSED = 170,
	BINLOG_MARIA_DELETE_ROWS_COMPRESSED = 171,
};

/* Event header flags. */
#define BINLOG_F_IN_USE		0x0001	/* FDE: the file was not closed */
#define BINLOG_F_ARTIFICIAL	0x0020	/* made up by the server's sender */
#define BINLOG_F_IGNORABLE	0x0080	/* unknown to a reader: skip it */

/* Rows event flags. */
#define BINLOG_ROWS_STMT_END	0x0001

enum binlog_rows_kind {
	BINLOG_ROWS_INSERT = 1,
	BINLOG_ROWS_UPDATE,
	BINLOG_ROWS_DELETE,
};

struct binlog_header {
	uint32_t	 timestamp;
	uint8_t		 type;
	uint32_t	 server_id;
	uint32_t	 size;		/* header + body + checksum */
	uint32_t	 log_pos;	/* position of the next event */
	uint16_t	 flags;
};

struct binlog_fde {
	uint16_t	 binlog_version;
	char		 server_version[51];
	uint32_t	 created;
	uint8_t		 header_len;
	uint8_t		 nposts;
	uint8_t		 post_len[256];	/* post-header length by type - 1 */
	uint8_t		 checksum_alg;	/* 0 off, 1 CRC32, 255 undefined */
	int		 mariadb;
	unsigned int	 version[3];
};

struct binlog_query {
	uint32_t	 thread_id;
	uint32_t	 exec_time;
	uint16_t	 error_code;
	const char	*db;		/* not NUL-terminated: db_len */
	size_t		 db_len;
	const uint8_t	*sql;
	size_t		 sql_len;
	/* status variables, where present (have_* says which) */
	int		 have_flags2, have_sql_mode, have_charset;
	uint32_t	 flags2;
	uint64_t	 sql_mode;
	uint16_t	 charset_client, collation_connection,
			 collation_server;
	int		 compressed;
	/* EXECUTE_LOAD_QUERY */
	uint32_t	 file_id;
};

/* MySQL and MariaDB GTIDs, one shape. */
struct binlog_gtid {
	int		 mariadb;
	/* MySQL */
	uint8_t		 flags;
	uint8_t		 uuid[16];
	char		 tag[33];
	int64_t		 gno;
	int64_t		 last_committed, sequence_number;
	int		 have_lt;
	uint64_t	 commit_ts;	/* microseconds; 0 unknown */
	uint64_t	 transaction_length;
	/* MariaDB */
	uint32_t	 domain_id;
	uint64_t	 seq_no;
	uint8_t		 flags2;
	uint64_t	 commit_id;
};

#define MARIA_GTID_STANDALONE	0x01
#define MARIA_GTID_GROUP_COMMIT	0x02
#define MARIA_GTID_TRANSACTIONAL 0x04
#define MARIA_GTID_DDL		0x20
#define MARIA_GTID_PREPARED_XA	0x40
#define MARIA_GTID_COMPLETED_XA	0x80

struct binlog_rows {
	enum binlog_rows_kind kind;
	uint64_t	 table_id;
	uint16_t	 flags;
	int		 version;	/* 0, 1 or 2 */
	int		 partial;	/* PARTIAL_UPDATE_ROWS */
	int		 compressed;	/* MariaDB zlib */
	const struct table_def *table;	/* NULL for the dummy end event */
	uint32_t	 ncols;
	const uint8_t	*present;	/* column bitmaps, (ncols + 7) / 8 */
	const uint8_t	*present_after;
	const uint8_t	*data;		/* the rows */
	size_t		 data_len;
	size_t		 data_offset;	/* of data in the event, for messages */
	/* iteration */
	size_t		 pos;
	uint32_t	 nrows;
};

struct binlog_event {
	struct binlog_header h;
	uint64_t	 offset;	/* in the file; of the payload for inner events */
	int		 in_payload;
	const uint8_t	*raw;		/* the whole event as received */
	const uint8_t	*body;		/* after the header, before the checksum */
	size_t		 body_len;
	union {
		struct binlog_fde	 fde;
		struct {
			uint64_t	 pos;
			const char	*name;
			size_t		 name_len;
		}			 rotate;
		struct binlog_query	 query;
		uint64_t		 xid;
		struct binlog_gtid	 gtid;
		struct {
			uint8_t		 type;
			uint64_t	 value;
		}			 intvar;
		struct {
			uint64_t	 seed1, seed2;
		}			 rand;
		struct {
			const char	*name;
			size_t		 name_len;
			int		 is_null;
			uint8_t		 type;
			uint32_t	 charset;
			const uint8_t	*value;
			size_t		 value_len;
			uint8_t		 flags;
		}			 user_var;
		struct {
			const uint8_t	*text;
			size_t		 len;
		}			 text;		/* rows_query, annotate_rows */
		struct {
			uint32_t	 file_id;
			const uint8_t	*data;
			size_t		 len;
		}			 block;		/* load data blocks */
		struct {
			uint16_t	 type;
			const uint8_t	*msg;
			size_t		 len;
		}			 incident;
		struct {
			const uint8_t	*data;	/* the GTID set, encoded */
			size_t		 len;
		}			 gtid_set;	/* previous_gtids, gtid_list */
		struct {
			uint8_t		 compression;
			uint64_t	 size, uncompressed;
			const uint8_t	*payload;
		}			 payload;
		struct {
			const char	*name;
			size_t		 len;
		}			 checkpoint;
		struct {
			int		 one_phase;
			int32_t		 format_id;
			const uint8_t	*gtrid, *bqual;
			uint32_t	 gtrid_len, bqual_len;
		}			 xa;
		const struct table_def	*table_map;
		struct binlog_rows	 rows;
	};
};

/*
 * One row of a rows event: before (UPDATE, DELETE) and after (INSERT,
 * UPDATE) images, one value per table column, VALUE_ABSENT for the columns
 * the image leaves out.  The arrays belong to the decoder.
 */
struct binlog_row {
	struct value	*before;
	struct value	*after;
};

struct binlog_decoder;

struct binlog_decoder *binlog_decoder_new(void);
void	 binlog_decoder_free(struct binlog_decoder *);
void	 binlog_decoder_reset(struct binlog_decoder *);
int	 binlog_decoder_feed(struct binlog_decoder *, const uint8_t *, size_t,
	    uint64_t, char **);
int	 binlog_decoder_next(struct binlog_decoder *, struct binlog_event *,
	    char **);
int	 binlog_decoder_set_fde(struct binlog_decoder *, const uint8_t *,
	    size_t, char **);
const struct binlog_fde *binlog_decoder_fde(const struct binlog_decoder *);
void	 binlog_decoder_set_checksum(struct binlog_decoder *, int);
void	 binlog_decoder_set_verified(struct binlog_decoder *, int);
int	 binlog_event_verify(const uint8_t *, size_t, int, char **);
int	 binlog_is_rows(uint8_t);
int	 binlog_rows_next(struct binlog_decoder *, struct binlog_rows *,
	    struct binlog_row *, char **);

const char *binlog_type_name(unsigned int);
int	 binlog_header_parse(const uint8_t *, size_t, struct binlog_header *);
void	 binlog_uuid_text(const uint8_t *, struct buf *);
int	 binlog_gtid_text(const struct binlog_event *, struct buf *);
int	 binlog_gtid_set_text(const struct binlog_event *, struct buf *,
	    char **);

#endif
