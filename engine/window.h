/*
 * The initial sync's generations and what each copied, and the window of
 * the binlog they leave: from the oldest snapshot a copied row came from
 * to the newest, where a change of a row goes only to the targets whose
 * copy of that row predates it (DESIGN.md §7).
 */
#ifndef FERRY_ENGINE_WINDOW_H
#define FERRY_ENGINE_WINDOW_H

#include <stddef.h>
#include <stdint.h>

#include "engine/change.h"
#include "engine/jobctx.h"
#include "engine/route.h"
#include "engine/snapshot.h"

struct window;
struct sink;

/* What the initial sync did to one table of the job. */
struct window_table {
	struct snap_table	*t;
	int			 done_gen;	/* the generation that
						   finished it; 0: none */
	int			 keyable;	/* its key sorts bytewise */
	int			 adding;	/* added, not copied yet */
};

struct window *window_new(struct jobctx *, struct router *);
void	 window_free(struct window *);
void	 window_bind(struct window *, struct snap_table *, size_t,
	    struct sink *);
void	 window_clear(struct window *);
int	 window_load(struct window *, uint32_t, char **);
int	 window_tail_segments(struct window *, char **);
struct window_table *window_table(struct window *, size_t);
void	 window_done(struct window *, size_t, int);
size_t	 window_segments(const struct window *, size_t);
uint32_t window_uncopied(const struct window *, size_t, const uint8_t *,
	    size_t, const struct route *);
const struct snapshot_gen *window_first(const struct window *);
int	 window_open(struct window *, const char *, uint64_t);
int	 window_past(const struct window *, uint32_t, const char *, uint64_t);
int	 window_close_at(struct window *, const char *, uint64_t);
int	 window_active(const struct window *);
void	 window_end(struct window *);
uint32_t window_mask(struct window *, const struct change *);
int	 window_poscmp(uint64_t, uint64_t, uint64_t, uint64_t);

#endif
