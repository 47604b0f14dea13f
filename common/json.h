/*
 * Writing JSON: strings escaped for any JSON reader, numbers exact.
 */
#ifndef FERRY_COMMON_JSON_H
#define FERRY_COMMON_JSON_H

#include <stddef.h>
#include <stdint.h>

struct buf;

void	 json_add_string(struct buf *, const void *, size_t);
void	 json_add_cstring(struct buf *, const char *);
void	 json_add_key(struct buf *, const char *);
void	 json_add_hex(struct buf *, const uint8_t *, size_t);
void	 json_add_hexstr(struct buf *, const uint8_t *, size_t);
void	 json_add_double(struct buf *, double);
void	 json_add_float(struct buf *, float);

#endif
