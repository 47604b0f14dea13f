/*
 * Column type codes.
 *
 * coltype_is_numeric() and coltype_is_character() decide which columns the
 * optional TABLE_MAP metadata fields (SIGNEDNESS, DEFAULT_CHARSET,
 * COLUMN_CHARSET) enumerate: those fields list only the columns of their
 * class, in table order, and reading them against the wrong class shifts
 * every later column.  Both take the *real* type (ENUM and SET resolved from
 * a STRING column's metadata): ENUM and SET are neither numeric nor
 * character columns there, they have fields of their own.
 */
#include "config.h"

#include <stddef.h>

#include "schema/coltype.h"

const char *
coltype_name(unsigned int t)
{
	switch (t) {
	case COLTYPE_DECIMAL:		return ("decimal(old)");
	case COLTYPE_TINY:		return ("tinyint");
	case COLTYPE_SHORT:		return ("smallint");
	case COLTYPE_LONG:		return ("int");
	case COLTYPE_FLOAT:		return ("float");
	case COLTYPE_DOUBLE:		return ("double");
	case COLTYPE_NULL:		return ("null");
	case COLTYPE_TIMESTAMP:		return ("timestamp(old)");
	case COLTYPE_LONGLONG:		return ("bigint");
	case COLTYPE_INT24:		return ("mediumint");
	case COLTYPE_DATE:		return ("date");
	case COLTYPE_TIME:		return ("time(old)");
	case COLTYPE_DATETIME:		return ("datetime(old)");
	case COLTYPE_YEAR:		return ("year");
	case COLTYPE_NEWDATE:		return ("newdate");
	case COLTYPE_VARCHAR:		return ("varchar");
	case COLTYPE_BIT:		return ("bit");
	case COLTYPE_TIMESTAMP2:	return ("timestamp");
	case COLTYPE_DATETIME2:		return ("datetime");
	case COLTYPE_TIME2:		return ("time");
	case COLTYPE_TYPED_ARRAY:	return ("typed_array");
	case COLTYPE_VECTOR:		return ("vector");
	case COLTYPE_BOOL:		return ("bool");
	case COLTYPE_JSON:		return ("json");
	case COLTYPE_NEWDECIMAL:	return ("decimal");
	case COLTYPE_ENUM:		return ("enum");
	case COLTYPE_SET:		return ("set");
	case COLTYPE_TINY_BLOB:		return ("tinyblob");
	case COLTYPE_MEDIUM_BLOB:	return ("mediumblob");
	case COLTYPE_LONG_BLOB:		return ("longblob");
	case COLTYPE_BLOB:		return ("blob");
	case COLTYPE_VAR_STRING:	return ("var_string");
	case COLTYPE_STRING:		return ("char");
	case COLTYPE_GEOMETRY:		return ("geometry");
	}
	return (NULL);
}

/*
 * Bytes of TABLE_MAP metadata for a column of type t, or -1 for a type no
 * TABLE_MAP can carry.
 */
int
coltype_meta_len(unsigned int t)
{
	switch (t) {
	case COLTYPE_FLOAT:
	case COLTYPE_DOUBLE:
	case COLTYPE_BLOB:
	case COLTYPE_TINY_BLOB:
	case COLTYPE_MEDIUM_BLOB:
	case COLTYPE_LONG_BLOB:
	case COLTYPE_GEOMETRY:
	case COLTYPE_JSON:
	case COLTYPE_VECTOR:
	case COLTYPE_TIMESTAMP2:
	case COLTYPE_DATETIME2:
	case COLTYPE_TIME2:
		return (1);
	case COLTYPE_VARCHAR:
	case COLTYPE_VAR_STRING:
	case COLTYPE_STRING:
	case COLTYPE_NEWDECIMAL:
	case COLTYPE_BIT:
	case COLTYPE_ENUM:
	case COLTYPE_SET:
		return (2);
	case COLTYPE_DECIMAL:
	case COLTYPE_TINY:
	case COLTYPE_SHORT:
	case COLTYPE_LONG:
	case COLTYPE_NULL:
	case COLTYPE_TIMESTAMP:
	case COLTYPE_LONGLONG:
	case COLTYPE_INT24:
	case COLTYPE_DATE:
	case COLTYPE_TIME:
	case COLTYPE_DATETIME:
	case COLTYPE_YEAR:
	case COLTYPE_NEWDATE:
		return (0);
	}
	return (-1);
}

int
coltype_is_numeric(unsigned int t)
{
	switch (t) {
	case COLTYPE_TINY:
	case COLTYPE_SHORT:
	case COLTYPE_INT24:
	case COLTYPE_LONG:
	case COLTYPE_LONGLONG:
	case COLTYPE_NEWDECIMAL:
	case COLTYPE_FLOAT:
	case COLTYPE_DOUBLE:
		return (1);
	}
	return (0);
}

/*
 * The two servers differ: MariaDB counts GEOMETRY among the character
 * columns (its geometry field derives from the blob field), MySQL 9 counts
 * VECTOR.
 */
int
coltype_is_character(unsigned int t, int mariadb)
{
	switch (t) {
	case COLTYPE_STRING:
	case COLTYPE_VAR_STRING:
	case COLTYPE_VARCHAR:
	case COLTYPE_BLOB:
	case COLTYPE_TINY_BLOB:
	case COLTYPE_MEDIUM_BLOB:
	case COLTYPE_LONG_BLOB:
		return (1);
	case COLTYPE_GEOMETRY:
		return (mariadb);
	case COLTYPE_VECTOR:
		return (!mariadb);
	}
	return (0);
}

int
coltype_is_blob(unsigned int t)
{
	return (t == COLTYPE_BLOB || t == COLTYPE_TINY_BLOB ||
	    t == COLTYPE_MEDIUM_BLOB || t == COLTYPE_LONG_BLOB);
}
