/*
 * Printing decoded binlog events for "ferry binlog dump".
 */
#ifndef FERRY_CLI_BINLOG_PRINT_H
#define FERRY_CLI_BINLOG_PRINT_H

#include <stdio.h>

#include "common/buf.h"
#include "engine/binlog.h"

enum binlog_print_format {
	BINLOG_PRINT_JSON,
	BINLOG_PRINT_TEXT,
};

struct binlog_printer {
	enum binlog_print_format format;
	const char	*file;		/* the binlog file name to show */
	uint64_t	 payload_end;	/* next_pos of a payload's events */
	struct buf	 out;
	struct buf	 tmp;
};

void	 binlog_printer_init(struct binlog_printer *, enum binlog_print_format);
void	 binlog_printer_release(struct binlog_printer *);
int	 binlog_print_event(struct binlog_printer *, struct binlog_decoder *,
	    struct binlog_event *, FILE *, char **);

#endif
