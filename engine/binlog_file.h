/*
 * Reading binlog files from disk, one raw event at a time.
 */
#ifndef FERRY_ENGINE_BINLOG_FILE_H
#define FERRY_ENGINE_BINLOG_FILE_H

#include <stddef.h>
#include <stdint.h>

struct binlog_file;

struct binlog_file *binlog_file_open(const char *, char **);
int	 binlog_file_next(struct binlog_file *, const uint8_t **, size_t *,
	    uint64_t *, char **);
uint64_t binlog_file_offset(const struct binlog_file *);
const char *binlog_file_name(const struct binlog_file *);
void	 binlog_file_close(struct binlog_file *);

#endif
