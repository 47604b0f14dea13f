/*
 * A table's definition as ferry knows it: what a TABLE_MAP event carries
 * (types and metadata, and with binlog_row_metadata=FULL the names,
 * signedness, charsets, ENUM/SET labels and key), later also what the schema
 * history adds.
 */
#ifndef FERRY_SCHEMA_TABLE_H
#define FERRY_SCHEMA_TABLE_H

#include <stddef.h>
#include <stdint.h>

#define COLUMN_UNSIGNED		0x01
#define COLUMN_NULLABLE		0x02
#define COLUMN_PRIMARY		0x04
#define COLUMN_INVISIBLE	0x08

struct column {
	uint8_t		 type;		/* real type: ENUM, SET, STRING resolved */
	uint8_t		 binlog_type;	/* the type byte of the TABLE_MAP */
	uint16_t	 meta;		/* raw metadata, as a 16-bit value */
	uint8_t		 flags;		/* COLUMN_* */
	uint8_t		 precision;	/* DECIMAL */
	uint8_t		 scale;		/* DECIMAL */
	uint8_t		 fsp;		/* TIME2, DATETIME2, TIMESTAMP2 */
	uint32_t	 length;	/* see table_column_init() */
	uint32_t	 collation;	/* 0: unknown */
	uint32_t	 geometry_type;
	uint32_t	 vector_dim;
	char		*name;		/* NULL: unknown (shown as @N) */
	char		**labels;	/* ENUM and SET labels, or NULL */
	uint32_t	 nlabels;
};

/* What the definition's metadata said (table_def.known). */
#define TABLE_KNOWN_SIGNEDNESS	0x01
#define TABLE_KNOWN_CHARSETS	0x02
#define TABLE_KNOWN_NAMES	0x04
#define TABLE_KNOWN_LABELS	0x08
#define TABLE_KNOWN_KEY		0x10
#define TABLE_KNOWN_UNIQUE	0x20	/* uks: the source's definition said
					   (the binlog does not carry them) */

/* A unique key other than the primary key: its name and columns, in the
 * key's order. */
struct table_key {
	char		*name;
	uint32_t	*cols;
	uint32_t	 ncols;
};

struct table_def {
	uint64_t	 serial;	/* unique per definition made */
	uint64_t	 table_id;
	char		*db;
	char		*name;
	uint32_t	 ncols;
	struct column	*cols;
	uint32_t	*pk;		/* column indexes of the primary key */
	uint32_t	 npk;
	struct table_key *uks;		/* unique keys, the source's order */
	uint32_t	 nuk;
	uint16_t	 map_flags;	/* the TABLE_MAP's flags */
	uint16_t	 known;		/* TABLE_KNOWN_* */
	uint32_t	 njson;		/* JSON columns (partial updates) */
};

struct table_def *table_def_new(uint32_t);
void	 table_def_free(struct table_def *);
void	 table_def_set_uks(struct table_def *, const struct table_key *,
	    uint32_t);
int	 table_column_init(struct column *, uint8_t, const uint8_t *, char **);

#endif
