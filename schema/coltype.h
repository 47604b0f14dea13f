/*
 * MySQL column type codes, as TABLE_MAP events and the protocol carry them
 * (enum_field_types), and what each needs from its metadata.
 */
#ifndef FERRY_SCHEMA_COLTYPE_H
#define FERRY_SCHEMA_COLTYPE_H

#include <stdint.h>

enum coltype {
	COLTYPE_DECIMAL = 0,		/* pre-5.0 DECIMAL, as text */
	COLTYPE_TINY = 1,
	COLTYPE_SHORT = 2,
	COLTYPE_LONG = 3,
	COLTYPE_FLOAT = 4,
	COLTYPE_DOUBLE = 5,
	COLTYPE_NULL = 6,
	COLTYPE_TIMESTAMP = 7,
	COLTYPE_LONGLONG = 8,
	COLTYPE_INT24 = 9,
	COLTYPE_DATE = 10,
	COLTYPE_TIME = 11,
	COLTYPE_DATETIME = 12,
	COLTYPE_YEAR = 13,
	COLTYPE_NEWDATE = 14,
	COLTYPE_VARCHAR = 15,
	COLTYPE_BIT = 16,
	COLTYPE_TIMESTAMP2 = 17,
	COLTYPE_DATETIME2 = 18,
	COLTYPE_TIME2 = 19,
	COLTYPE_TYPED_ARRAY = 20,
	COLTYPE_VECTOR = 242,
	COLTYPE_INVALID = 243,
	COLTYPE_BOOL = 244,
	COLTYPE_JSON = 245,
	COLTYPE_NEWDECIMAL = 246,
	COLTYPE_ENUM = 247,
	COLTYPE_SET = 248,
	COLTYPE_TINY_BLOB = 249,
	COLTYPE_MEDIUM_BLOB = 250,
	COLTYPE_LONG_BLOB = 251,
	COLTYPE_BLOB = 252,
	COLTYPE_VAR_STRING = 253,
	COLTYPE_STRING = 254,
	COLTYPE_GEOMETRY = 255,
};

const char	*coltype_name(unsigned int);
int		 coltype_meta_len(unsigned int);
int		 coltype_is_numeric(unsigned int);
int		 coltype_is_character(unsigned int, int);
int		 coltype_is_blob(unsigned int);

#endif
