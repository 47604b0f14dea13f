/*
 * A job's watermark: which of the records it sent Kafka has, and so which
 * binlog position may be saved as its checkpoint (DESIGN.md §7).
 */
#ifndef FERRY_ENGINE_WATERMARK_H
#define FERRY_ENGINE_WATERMARK_H

#include <stddef.h>
#include <stdint.h>

#include "engine/gtid.h"
#include "engine/jobctx.h"

/*
 * Delivery units: a binlog transaction's is its sequence number (from 1);
 * the initial records of a full-sync chunk are counted in one of two
 * slots (the chunk number's parity: a chunk is read while the one before
 * it is still being acknowledged); heartbeats are not counted (the
 * sink's largest unit, SINK_UNIT_MAX).
 */
#define WATERMARK_SNAPSHOT_UNIT(k)	((UINT64_C(1) << 46) | ((k) & 1))
#define WATERMARK_HEARTBEAT_UNIT	((UINT64_C(1) << 48) - 1)

struct watermark;


struct watermark *watermark_new(struct jobctx *);
void	 watermark_free(struct watermark *);
void	 watermark_reset(struct watermark *);
void	 watermark_clear_units(struct watermark *);
void	 watermark_set(struct watermark *, struct checkpoint *);
const char *watermark_gtid(struct watermark *);
void	 watermark_set_gtid(struct watermark *, const char *);
void	 watermark_set_server(struct watermark *, uint32_t);
uint32_t watermark_server(const struct watermark *);
int	 watermark_foreign(const struct watermark *);
int	 watermark_written(struct watermark *, int64_t, struct gtid_state *);
const char *watermark_file(const struct watermark *);
uint64_t watermark_pos(const struct watermark *);
int64_t	 watermark_next_id(const struct watermark *);

uint64_t watermark_unit(struct watermark *, uint32_t);
uint64_t watermark_chunk_unit(const struct watermark *);
uint64_t watermark_next_chunk(struct watermark *);
void	 watermark_sent(struct watermark *, uint64_t, size_t);
void	 watermark_close(struct watermark *, const char *, uint64_t, int64_t,
	    const struct gtid_one *);
void	 watermark_leave(struct watermark *, int64_t, const struct gtid_one *);
void	 watermark_delivered(struct watermark *, uint64_t, const char *, int);
int	 watermark_failed(const struct watermark *);
int	 watermark_delivery_ok(struct watermark *, char **);
int64_t	 watermark_snapshot_outstanding(const struct watermark *, int,
	    uint64_t);

void	 watermark_advance(struct watermark *);
int	 watermark_head_closed(const struct watermark *);
int	 watermark_settled(const struct watermark *);
uint32_t watermark_oldest(const struct watermark *);
int	 watermark_dirty(const struct watermark *);
int	 watermark_checkpoint(struct watermark *, int, char **);
int	 watermark_save(struct watermark *, const char *, uint64_t,
	    const char *, int64_t, const struct schema_change *, size_t,
	    char **);

int	 watermark_heartbeat_id(struct watermark *, int64_t, int64_t *,
	    int64_t *, char **);
void	 watermark_heartbeat_forfeit(struct watermark *);
void	 watermark_heartbeat_reset(struct watermark *);

#endif
