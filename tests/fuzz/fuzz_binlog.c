/*
 * libFuzzer target: a binlog file in, every event decoded and printed as
 * "ferry binlog dump" would, rows and values included.
 *
 * Inputs are whole binlog files (the corpus files are the seeds).  The
 * harness recomputes each event's CRC32 when the format description asks
 * for one, so that mutations reach the body parsers instead of stopping at
 * the checksum; everything else is as the file says.
 *
 *	./configure CC=clang --enable-fuzzing && make tests/fuzz/fuzz_binlog
 *	tests/fuzz/fuzz_binlog -max_total_time=600 SEEDS/
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "cli/binlog_print.h"
#include "common/buf.h"
#include "common/bytes.h"
#include "common/log.h"
#include "engine/binlog.h"
#include "engine/binlog_int.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE		*devnull;
	struct binlog_decoder	*dec;
	struct binlog_printer	 bp;
	struct binlog_event	 ev;
	struct binlog_fde	 fde;
	struct buf		 copy = BUF_INITIALIZER;
	size_t			 off = 4;
	uint32_t		 len;
	char			*cause = NULL;
	int			 crc = 0, rc;
	uLong			 c;

	if (devnull == NULL) {
		devnull = fopen("/dev/null", "w");
		log_set_level(LOG_LEVEL_ERROR);
	}
	if (size < 4 || memcmp(data, BINLOG_MAGIC, 4) != 0)
		return (0);
	buf_add(&copy, data, size);
	dec = binlog_decoder_new();
	binlog_printer_init(&bp, BINLOG_PRINT_JSON);
	bp.file = "fuzz";
	while (copy.len - off >= BINLOG_HEADER_LEN) {
		uint8_t	*p = copy.data + off;

		len = le32(p + 9);
		if (len < BINLOG_HEADER_LEN || len > copy.len - off)
			break;
		if (p[4] == BINLOG_FORMAT_DESCRIPTION && binlog_fde_parse(
		    p + BINLOG_HEADER_LEN, len - BINLOG_HEADER_LEN, &fde,
		    &cause) == 0)
			crc = fde.checksum_alg == 1;
		free(cause);
		cause = NULL;
		if (crc && len >= BINLOG_HEADER_LEN + 4) {
			p[17] &= (uint8_t)~BINLOG_F_IN_USE;
			c = crc32(crc32(0L, Z_NULL, 0), p, len - 4);
			put_le32(p + len - 4, (uint32_t)c);
		}
		if (binlog_decoder_feed(dec, p, len, off, &cause) == 0) {
			while ((rc = binlog_decoder_next(dec, &ev,
			    &cause)) == 1) {
				if (binlog_print_event(&bp, dec, &ev, devnull,
				    &cause) != 0)
					break;
			}
		}
		free(cause);
		cause = NULL;
		off += len;
	}
	binlog_printer_release(&bp);
	binlog_decoder_free(dec);
	buf_release(&copy);
	return (0);
}
