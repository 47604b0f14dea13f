/*
 * Row values as decoded from a binlog row image.
 *
 * A value borrows its bytes (strings, BLOBs, JSON, DECIMAL) from the event
 * it was decoded from: valid until the decoder moves to the next event.
 * Rendering (text, JSON) is separate and costs nothing unless asked for.
 */
#ifndef FERRY_SCHEMA_VALUE_H
#define FERRY_SCHEMA_VALUE_H

#include <stddef.h>
#include <stdint.h>

struct buf;
struct column;
struct cursor;

enum value_kind {
	VALUE_ABSENT = 0,	/* not in the row image (partial images) */
	VALUE_NULL,
	VALUE_INT,		/* i: signed integers, YEAR */
	VALUE_UINT,		/* u: unsigned integers */
	VALUE_FLOAT,		/* f */
	VALUE_DOUBLE,		/* d */
	VALUE_DECIMAL,		/* bytes: MySQL's binary DECIMAL */
	VALUE_DECIMAL_TEXT,	/* bytes: pre-5.0 DECIMAL, as text */
	VALUE_DATE,		/* t */
	VALUE_TIME,		/* t, with neg and hours up to 838 */
	VALUE_DATETIME,		/* t */
	VALUE_TIMESTAMP,	/* ts (UTC) */
	VALUE_STRING,		/* bytes, in the column's collation */
	VALUE_ENUM,		/* u: 1-based index, 0 for '' */
	VALUE_SET,		/* u: bitmask */
	VALUE_BIT,		/* u */
	VALUE_JSON,		/* bytes: MySQL binary JSON */
	VALUE_JSON_DIFF,	/* bytes: MySQL partial JSON update */
	VALUE_GEOMETRY,		/* bytes: 4-byte SRID, then WKB */
	VALUE_VECTOR,		/* bytes: float32 little-endian */
	VALUE_JSON_TEXT,	/* bytes: JSON as text (a MySQL JSON column
				   read with SELECT) */
};

struct value_time {
	int32_t		 year;
	uint8_t		 month;
	uint8_t		 day;
	uint8_t		 minute;
	uint8_t		 second;
	uint32_t	 hour;		/* TIME: up to 838 */
	uint32_t	 usec;
	uint8_t		 neg;		/* TIME only */
};

struct value {
	uint8_t		 kind;		/* enum value_kind */
	union {
		int64_t			 i;
		uint64_t		 u;
		float			 f;
		double			 d;
		struct {
			const uint8_t	*p;
			size_t		 len;
		}			 bytes;
		struct value_time	 t;
		struct {
			int64_t		 sec;
			uint32_t	 usec;
		}			 ts;
	};
};

int	 value_decode(const struct column *, struct cursor *, struct value *,
	    char **);
int	 value_decimal_text(const uint8_t *, size_t, unsigned int,
	    unsigned int, struct buf *, char **);
size_t	 value_decimal_size(unsigned int, unsigned int);
int	 value_decimal_from_text(const char *, size_t, unsigned int,
	    unsigned int, uint8_t *, char **);
int	 value_decimal_int64(const uint8_t *, size_t, unsigned int,
	    unsigned int, int64_t *);
void	 value_time_text(const struct value *, unsigned int, struct buf *);
int	 value_render_json(const struct value *, const struct column *,
	    struct buf *, char **);
int	 value_equal(const struct value *, const struct value *);
size_t	 value_binary_pad(const struct value *, const struct column *);

#endif
