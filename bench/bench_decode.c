/*
 * bench_decode: decode-only throughput of the binlog decoder on a file.
 *
 *	bench_decode [-n RUNS] FILE
 *
 * Maps the file, then RUNS times: decodes every event and every row, every
 * column value (value_decode(), no rendering), and reports rows, events,
 * the median wall and CPU time and rows per second of CPU.  What a job's
 * reader thread spends before encoding.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine/binlog.h"
#include "engine/binlog_file.h"

static double
now(clockid_t clk)
{
	struct timespec	 ts;

	clock_gettime(clk, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

static int
cmp(const void *a, const void *b)
{
	double	 x = *(const double *)a, y = *(const double *)b;

	return ((x > y) - (x < y));
}

int
main(int argc, char **argv)
{
	struct binlog_file	*f;
	struct binlog_decoder	*dec;
	struct binlog_event	 ev;
	struct binlog_row	 row;
	const uint8_t		*raw;
	size_t			 len;
	uint64_t		 off, rows = 0, events = 0, bytes = 0;
	double			 wall[64], cpu[64], w0, c0;
	char			*cause = NULL;
	int			 ch, runs = 5, r, rc;

	while ((ch = getopt(argc, argv, "n:")) != -1) {
		if (ch == 'n')
			runs = atoi(optarg);
		else {
			fprintf(stderr, "usage: bench_decode [-n RUNS] FILE\n");
			return (2);
		}
	}
	if (optind != argc - 1 || runs < 1 || runs > 64) {
		fprintf(stderr, "usage: bench_decode [-n RUNS] FILE\n");
		return (2);
	}
	for (r = 0; r < runs; r++) {
		if ((f = binlog_file_open(argv[optind], &cause)) == NULL) {
			fprintf(stderr, "bench_decode: %s\n", cause);
			return (1);
		}
		dec = binlog_decoder_new();
		rows = events = 0;
		w0 = now(CLOCK_MONOTONIC);
		c0 = now(CLOCK_PROCESS_CPUTIME_ID);
		while ((rc = binlog_file_next(f, &raw, &len, &off, &cause)) == 1) {
			bytes = off + len;
			if (binlog_decoder_feed(dec, raw, len, off, &cause) != 0)
				goto fail;
			while ((rc = binlog_decoder_next(dec, &ev, &cause)) == 1) {
				events++;
				switch (ev.h.type) {
				case BINLOG_WRITE_ROWS_V1:
				case BINLOG_UPDATE_ROWS_V1:
				case BINLOG_DELETE_ROWS_V1:
				case BINLOG_WRITE_ROWS:
				case BINLOG_UPDATE_ROWS:
				case BINLOG_DELETE_ROWS:
					while ((rc = binlog_rows_next(dec,
					    &ev.rows, &row, &cause)) == 1)
						rows++;
					if (rc < 0)
						goto fail;
					break;
				}
			}
			if (rc < 0)
				goto fail;
		}
		if (rc < 0)
			goto fail;
		wall[r] = now(CLOCK_MONOTONIC) - w0;
		cpu[r] = now(CLOCK_PROCESS_CPUTIME_ID) - c0;
		binlog_decoder_free(dec);
		binlog_file_close(f);
	}
	qsort(wall, (size_t)runs, sizeof wall[0], cmp);
	qsort(cpu, (size_t)runs, sizeof cpu[0], cmp);
	printf("file %s: %" PRIu64 " bytes, %" PRIu64 " events, %" PRIu64
	    " rows\n", argv[optind], bytes, events, rows);
	printf("runs %d: wall median %.3f s (min %.3f, max %.3f), cpu median "
	    "%.3f s\n", runs, wall[runs / 2], wall[0], wall[runs - 1],
	    cpu[runs / 2]);
	printf("rows/s per core: %.0f; cpu s per million rows: %.3f; "
	    "MB/s: %.0f\n", (double)rows / cpu[runs / 2],
	    cpu[runs / 2] / ((double)rows / 1e6),
	    (double)bytes / 1e6 / cpu[runs / 2]);
	return (0);
fail:
	fprintf(stderr, "bench_decode: offset %" PRIu64 ": %s\n", off, cause);
	return (1);
}
