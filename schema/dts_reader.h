/*
 * Reading DTS Avro records: one datum in, one readable JSON object out.
 */
#ifndef FERRY_SCHEMA_DTS_READER_H
#define FERRY_SCHEMA_DTS_READER_H

#include <stddef.h>
#include <stdint.h>

struct buf;

int	 dts_read_json(const uint8_t *, size_t, struct buf *, char **);
int	 dts_read_head(const uint8_t *, size_t, int64_t *,
	    int (*)(void *, const uint8_t *, size_t, const uint8_t *, size_t),
	    void *);

#endif
