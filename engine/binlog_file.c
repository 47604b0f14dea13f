/*
 * Binlog files.
 *
 * A file is the 4-byte magic "\xfebin" and then events, each starting with
 * its 19-byte header whose size field gives the event's length.  The file
 * is mapped (or, if it cannot be, read whole) and walked event by event; an
 * event whose header claims more bytes than remain, or fewer than a header,
 * is an error at its offset, never a read past the end.  Relay logs and
 * files still being written (the "in use" flag) read the same way.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/bytes.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "engine/binlog.h"
#include "engine/binlog_file.h"

struct binlog_file {
	char		*path;
	const uint8_t	*data;
	size_t		 len;
	size_t		 pos;
	int		 mapped;
	struct buf	 copy;		/* when mmap is not possible */
};

/*
 * Open path and check its magic.  Returns a new binlog_file (close with
 * binlog_file_close()) or NULL with *cause.
 */
struct binlog_file *
binlog_file_open(const char *path, char **cause)
{
	struct binlog_file	*f;
	struct stat		 sb;
	void			*p;
	int			 fd;

	f = xcalloc(1, sizeof *f);
	f->path = xstrdup(path);
	if ((fd = open(path, O_RDONLY|O_CLOEXEC)) == -1) {
		*cause = xasprintf("cannot open: %s", strerror(errno));
		goto fail;
	}
	if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size > 0) {
		p = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd,
		    0);
		if (p != MAP_FAILED) {
			f->data = p;
			f->len = (size_t)sb.st_size;
			f->mapped = 1;
			madvise(p, f->len, MADV_SEQUENTIAL);
		}
	}
	close(fd);
	if (!f->mapped) {
		if (util_read_file(path, SIZE_MAX / 2, &f->copy, cause) != 0)
			goto fail;
		f->data = f->copy.data != NULL ? f->copy.data :
		    (const uint8_t *)"";
		f->len = f->copy.len;
	}
	if (f->len < BINLOG_MAGIC_LEN ||
	    memcmp(f->data, BINLOG_MAGIC, BINLOG_MAGIC_LEN) != 0) {
		*cause = xstrdup("offset 0: not a binlog file (no \\xfebin "
		    "magic)");
		goto fail;
	}
	f->pos = BINLOG_MAGIC_LEN;
	return (f);
fail:
	binlog_file_close(f);
	return (NULL);
}

/*
 * The next raw event: *ev (borrowed, valid until the file is closed), *len
 * and its *offset.  Returns 1, 0 at the end of the file, -1 with *cause
 * ("offset N: ...").
 */
int
binlog_file_next(struct binlog_file *f, const uint8_t **ev, size_t *len,
    uint64_t *offset, char **cause)
{
	size_t		 left = f->len - f->pos;
	uint32_t	 size;

	if (left == 0)
		return (0);
	if (left < BINLOG_HEADER_LEN) {
		*cause = xasprintf("offset %zu: truncated event header (%zu "
		    "bytes left, a header has %d)", f->pos, left,
		    BINLOG_HEADER_LEN);
		return (-1);
	}
	size = le32(f->data + f->pos + 9);
	if (size < BINLOG_HEADER_LEN) {
		*cause = xasprintf("offset %zu: event size %" PRIu32 " is "
		    "smaller than its header", f->pos, size);
		return (-1);
	}
	if (size > left) {
		*cause = xasprintf("offset %zu: truncated event (its header "
		    "says %" PRIu32 " bytes, %zu are left in the file)",
		    f->pos, size, left);
		return (-1);
	}
	*ev = f->data + f->pos;
	*len = size;
	*offset = f->pos;
	f->pos += size;
	return (1);
}

uint64_t
binlog_file_offset(const struct binlog_file *f)
{
	return (f->pos);
}

const char *
binlog_file_name(const struct binlog_file *f)
{
	return (f->path);
}

void
binlog_file_close(struct binlog_file *f)
{
	if (f == NULL)
		return;
	if (f->mapped)
		munmap((void *)(uintptr_t)f->data, f->len);
	buf_release(&f->copy);
	free(f->path);
	free(f);
}
