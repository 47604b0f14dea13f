/*
 * Internals shared by the binlog decoder's files; not for other modules.
 */
#ifndef FERRY_ENGINE_BINLOG_INT_H
#define FERRY_ENGINE_BINLOG_INT_H

#include "engine/binlog.h"

/* A cached table definition, keyed by table id. */
struct binlog_table_entry {
	uint64_t		 table_id;
	uint8_t			*raw;		/* the TABLE_MAP body it came from */
	size_t			 raw_len;
	struct table_def	*def;
};

#define BINLOG_TABLE_CACHE	1024	/* entries, a power of two */

struct binlog_decoder {
	struct binlog_fde	 fde;
	int			 have_fde;
	int			 checksum;	/* events end with a CRC32 */
	int			 checksum_forced; /* -1: from the FDE */
	int			 verified;	/* events checked before: the
						   size only */

	/* the raw event being decoded */
	const uint8_t		*ev;
	size_t			 ev_len;
	uint64_t		 ev_offset;
	int			 state;		/* BINLOG_DEC_* */

	/* a transaction payload's inner events */
	struct buf		 payload;
	size_t			 pl_pos;
	uint64_t		 pl_offset;

	/* inflated MariaDB compressed query text or rows */
	struct buf		 inflated;

	struct binlog_table_entry tables[BINLOG_TABLE_CACHE];
	uint32_t		 ntables;

	/* row images, one value per column */
	struct value		*before;
	struct value		*after;
	uint32_t		 nvalues;
};

#define BINLOG_DEC_FRESH	0	/* fed, not yet returned */
#define BINLOG_DEC_DONE		1	/* returned */
#define BINLOG_DEC_PAYLOAD	2	/* returning a payload's events */

int	 binlog_fde_parse(const uint8_t *, size_t, struct binlog_fde *,
	    char **);
size_t	 binlog_post_len(const struct binlog_fde *, unsigned int, size_t);
int	 binlog_event_parse(const struct binlog_fde *, struct binlog_event *,
	    char **);
int	 binlog_table_map_parse(const struct binlog_fde *, const uint8_t *,
	    size_t, uint64_t *, struct table_def **, char **);
int	 binlog_rows_parse(const struct binlog_fde *, struct binlog_event *,
	    char **);

#endif
