/*
 * Changes as DTS Avro records: what each field of the Record holds for
 * each kind of change (docs/dts-avro.md).
 */
#ifndef FERRY_ENGINE_RECORD_H
#define FERRY_ENGINE_RECORD_H

#include <stdint.h>

#include "engine/change.h"
#include "schema/dts_avro.h"

struct record_maker;

struct record_maker *record_maker_new(int64_t);
void	 record_maker_free(struct record_maker *);
int	 record_make(struct record_maker *, const struct change *,
	    struct dts_encoder *, struct buf *, char **);
int64_t	 record_maker_next_id(const struct record_maker *);
int64_t	 record_maker_time_ms(const struct record_maker *);
void	 record_maker_set_next_id(struct record_maker *, int64_t);
void	 record_maker_set_source(struct record_maker *, const char *,
	    const char *);
void	 record_maker_set_ferry(struct record_maker *, const char *,
	    const char *);
const char *record_maker_meta_version(struct record_maker *,
	    const struct table_def *);

#endif
