/*
 * MySQL's binary JSON (the storage and binlog format of JSON columns) and
 * its partial-update diffs.
 */
#ifndef FERRY_SCHEMA_MYSQL_JSON_H
#define FERRY_SCHEMA_MYSQL_JSON_H

#include <stddef.h>
#include <stdint.h>

struct buf;

int	 mysql_json_to_text(const uint8_t *, size_t, struct buf *, char **);
int	 mysql_json_diff_to_text(const uint8_t *, size_t, struct buf *,
	    char **);
int	 mysql_json_apply_diff(const uint8_t *, size_t, const uint8_t *,
	    size_t, struct buf *, char **);
void	 mysql_json_string(const uint8_t *, size_t, struct buf *);
void	 mysql_json_double(double, struct buf *);

#endif
