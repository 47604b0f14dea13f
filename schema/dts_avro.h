/*
 * DTS Avro records: Alibaba Cloud DTS's "Record" (docs/dts-avro-format.md),
 * written as one bare Avro datum per Kafka message.
 */
#ifndef FERRY_SCHEMA_DTS_AVRO_H
#define FERRY_SCHEMA_DTS_AVRO_H

#include <stddef.h>
#include <stdint.h>

struct buf;
struct column;
struct table_def;
struct value;

/* Operation, by ordinal (the enum's order in Record.avsc). */
enum dts_op {
	DTS_OP_INSERT = 0,
	DTS_OP_UPDATE = 1,
	DTS_OP_DELETE = 2,
	DTS_OP_DDL = 3,
	DTS_OP_BEGIN = 4,
	DTS_OP_COMMIT = 5,
	DTS_OP_ROLLBACK = 6,
	DTS_OP_ABORT = 7,
	DTS_OP_HEARTBEAT = 8,
	DTS_OP_CHECKPOINT = 9,
	DTS_OP_COMMAND = 10,
	DTS_OP_FILL = 11,
	DTS_OP_FINISH = 12,
	DTS_OP_CONTROL = 13,
	DTS_OP_RDB = 14,
	DTS_OP_NOOP = 15,
	DTS_OP_INIT = 16,
};

#define DTS_SOURCE_MYSQL	0

/* The value union's branches, by index. */
enum dts_branch {
	DTS_NULL = 0,
	DTS_INTEGER = 1,
	DTS_CHARACTER = 2,
	DTS_DECIMAL = 3,
	DTS_FLOAT = 4,
	DTS_TIMESTAMP = 5,
	DTS_DATETIME = 6,
	DTS_TIMESTAMP_TZ = 7,
	DTS_BINARY_GEOMETRY = 8,
	DTS_TEXT_GEOMETRY = 9,
	DTS_BINARY_OBJECT = 10,
	DTS_TEXT_OBJECT = 11,
	DTS_EMPTY_OBJECT = 12,
};

/* Records of this size or less are filler to DTS consumers. */
#define DTS_MIN_RECORD	49

struct dts_tag {
	const char	*key;
	const char	*value;
};

struct dts_record {
	int64_t			 id;
	int64_t			 source_timestamp;	/* seconds */
	const char		*source_position;	/* "offset@fileno" */
	const char		*safe_source_position;
	const char		*source_txid;
	int			 source_type;
	const char		*source_version;
	enum dts_op		 op;
	const char		*db;		/* objectName; NULL: null */
	const char		*table;		/* NULL: objectName is db */
	const struct dts_tag	*tags;
	size_t			 ntags;
	/* INSERT, UPDATE, DELETE, INIT */
	const struct table_def	*def;
	const struct value	*before;	/* def->ncols values, or NULL */
	const struct value	*after;
	/* DDL */
	const char		*ddl;
	size_t			 ddl_len;
	int64_t			 born_timestamp;	/* seconds */
};

struct dts_encoder;

struct dts_encoder *dts_encoder_new(void);
void	 dts_encoder_free(struct dts_encoder *);
int	 dts_encode(struct dts_encoder *, const struct dts_record *,
	    struct buf *, char **);
int	 dts_type_number(const struct column *);
void	 dts_object_name(const char *, const char *, struct buf *);
int	 dts_decimal_precision(const char *, int *, int *);

#endif
