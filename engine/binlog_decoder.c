/*
 * The binlog decoder: raw events in, decoded events out.
 *
 * Whoever reads the binlog (binlog_file.c from disk, binlog_client.c from a
 * server) feeds one raw event at a time with binlog_decoder_feed(), then
 * calls binlog_decoder_next() until it returns 0: once for an ordinary
 * event, once more per inner event of a TRANSACTION_PAYLOAD.  Events borrow
 * their bytes from the fed buffer (or from the decoder's payload and
 * inflate buffers): valid until the next feed.
 *
 * The decoder keeps what the stream established: the format description in
 * force (post-header lengths, server flavour, checksum algorithm) and the
 * tables mapped so far.  A TABLE_MAP identical to the cached one for its id
 * is recognized by its bytes and not parsed again, which matters when every
 * small transaction repeats it.
 *
 * Checks on every event: the size in the header matches what was fed, the
 * CRC32 matches when the stream carries checksums (for the format
 * description itself, computed with the "in use" flag cleared, as the server
 * writes it before setting the flag), and unknown types are an error unless
 * the event says it may be ignored.
 */
#include "config.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "common/buf.h"
#include "common/bytes.h"
#include "common/log.h"
#include "common/xmalloc.h"
#include "engine/binlog.h"
#include "engine/binlog_int.h"
#include "schema/table.h"

struct binlog_decoder *
binlog_decoder_new(void)
{
	struct binlog_decoder	*dec;

	dec = xcalloc(1, sizeof *dec);
	dec->checksum_forced = -1;
	buf_init(&dec->payload);
	buf_init(&dec->inflated);
	return (dec);
}

static void
binlog_tables_clear(struct binlog_decoder *dec)
{
	uint32_t	 i;

	for (i = 0; i < BINLOG_TABLE_CACHE; i++) {
		struct binlog_table_entry *e = &dec->tables[i];

		if (e->def == NULL)
			continue;
		table_def_free(e->def);
		free(e->raw);
		memset(e, 0, sizeof *e);
	}
	dec->ntables = 0;
}

void
binlog_decoder_free(struct binlog_decoder *dec)
{
	if (dec == NULL)
		return;
	binlog_tables_clear(dec);
	buf_release(&dec->payload);
	buf_release(&dec->inflated);
	free(dec->before);
	free(dec->after);
	free(dec);
}

/* Forget the stream: format description, tables.  For a new connection. */
void
binlog_decoder_reset(struct binlog_decoder *dec)
{
	binlog_tables_clear(dec);
	dec->have_fde = 0;
	dec->state = BINLOG_DEC_DONE;
	dec->ev = NULL;
}

/*
 * Whether events carry a CRC32 regardless of what the next format
 * description says (a replication connection negotiates it before the first
 * event, the artificial ROTATE, arrives).  -1 goes back to the FDE's word.
 */
void
binlog_decoder_set_checksum(struct binlog_decoder *dec, int on)
{
	dec->checksum_forced = on;
	if (on >= 0)
		dec->checksum = on;
}

/* Whether an event of this type holds rows (of the table its id maps). */
int
binlog_is_rows(uint8_t type)
{
	switch (type) {
	case BINLOG_WRITE_ROWS_V1:
	case BINLOG_UPDATE_ROWS_V1:
	case BINLOG_DELETE_ROWS_V1:
	case BINLOG_WRITE_ROWS:
	case BINLOG_UPDATE_ROWS:
	case BINLOG_DELETE_ROWS:
	case BINLOG_PARTIAL_UPDATE_ROWS:
	case BINLOG_MARIA_WRITE_ROWS_COMPRESSED_V1:
	case BINLOG_MARIA_UPDATE_ROWS_COMPRESSED_V1:
	case BINLOG_MARIA_DELETE_ROWS_COMPRESSED_V1:
	case BINLOG_MARIA_WRITE_ROWS_COMPRESSED:
	case BINLOG_MARIA_UPDATE_ROWS_COMPRESSED:
	case BINLOG_MARIA_DELETE_ROWS_COMPRESSED:
		return (1);
	default:
		return (0);
	}
}

/* The events fed were checked already (their CRC32, by the shared
 * reader): feed checks their size only. */
void
binlog_decoder_set_verified(struct binlog_decoder *dec, int on)
{
	dec->verified = on;
}

const struct binlog_fde *
binlog_decoder_fde(const struct binlog_decoder *dec)
{
	return (dec->have_fde ? &dec->fde : NULL);
}

/*
 * Use a format description that is not in the stream (a file whose first
 * event is not one; tests).  fde is a whole FDE event.
 */
int
binlog_decoder_set_fde(struct binlog_decoder *dec, const uint8_t *ev,
    size_t len, char **cause)
{
	if (len < BINLOG_HEADER_LEN)
		return (-1);
	if (binlog_fde_parse(ev + BINLOG_HEADER_LEN, len - BINLOG_HEADER_LEN,
	    &dec->fde, cause) != 0)
		return (-1);
	dec->have_fde = 1;
	if (dec->checksum_forced < 0)
		dec->checksum = dec->fde.checksum_alg == 1;
	return (0);
}

static uint32_t
binlog_crc(const uint8_t *p, size_t len, int clear_in_use)
{
	uLong	 crc;
	uint8_t	 hdr[BINLOG_HEADER_LEN];

	crc = crc32(0L, Z_NULL, 0);
	if (clear_in_use) {
		memcpy(hdr, p, BINLOG_HEADER_LEN);
		hdr[17] &= (uint8_t)~BINLOG_F_IN_USE;
		crc = crc32(crc, hdr, BINLOG_HEADER_LEN);
		crc = crc32(crc, p + BINLOG_HEADER_LEN,
		    (uInt)(len - BINLOG_HEADER_LEN));
	} else
		crc = crc32(crc, p, (uInt)len);
	return ((uint32_t)crc);
}

/*
 * Take the raw event p (len bytes, found at offset in its file or stream).
 * Checks the header's size and the checksum.  Returns 0 or -1 with *cause.
 */
int
binlog_decoder_feed(struct binlog_decoder *dec, const uint8_t *p, size_t len,
    uint64_t offset, char **cause)
{
	dec->state = BINLOG_DEC_DONE;
	dec->ev = NULL;
	if (binlog_event_verify(p, len, dec->verified ? -1 : dec->checksum,
	    cause) != 0)
		return (-1);
	dec->ev = p;
	dec->ev_len = len;
	dec->ev_offset = offset;
	dec->state = BINLOG_DEC_FRESH;
	return (0);
}

/*
 * Whether the len bytes at p are one whole event: its header's size, and
 * with crc 1 its CRC32 (a format description says itself whether it has
 * one); crc -1 checks the size only (the shared reader checked the rest).
 * 0, or -1 with *cause.
 */
int
binlog_event_verify(const uint8_t *p, size_t len, int crc, char **cause)
{
	struct binlog_header	 h;
	struct binlog_fde	 fde;
	uint32_t		 want, got;

	if (binlog_header_parse(p, len, &h) != 0) {
		*cause = xasprintf("event of %zu bytes is shorter than a "
		    "header", len);
		return (-1);
	}
	if (h.size != len) {
		*cause = xasprintf("event header says %" PRIu32 " bytes, %zu "
		    "were read", h.size, len);
		return (-1);
	}
	if (h.type == BINLOG_FORMAT_DESCRIPTION && crc >= 0) {
		/* It says itself whether it has a checksum. */
		if (binlog_fde_parse(p + BINLOG_HEADER_LEN,
		    len - BINLOG_HEADER_LEN, &fde, cause) != 0)
			return (-1);
		crc = fde.checksum_alg == 1;
	}
	if (crc > 0) {
		if (len < BINLOG_HEADER_LEN + BINLOG_CHECKSUM_LEN) {
			*cause = xstrdup("event too short for its checksum");
			return (-1);
		}
		want = le32(p + len - BINLOG_CHECKSUM_LEN);
		got = binlog_crc(p, len - BINLOG_CHECKSUM_LEN,
		    h.type == BINLOG_FORMAT_DESCRIPTION);
		if (want != got) {
			*cause = xasprintf("checksum mismatch: the event says "
			    "0x%08" PRIx32 ", its bytes give 0x%08" PRIx32,
			    want, got);
			return (-1);
		}
	}
	return (0);
}

/* MariaDB's compressed data: a header byte (0x80 | length bytes), the
 * uncompressed length big-endian, then a zlib stream. */
static int
binlog_maria_inflate(struct binlog_decoder *dec, const uint8_t *p, size_t len,
    char **cause)
{
	size_t		 lenlen;
	uint64_t	 n;
	uLongf		 out;
	int		 rc;

	if (len < 1 || (p[0] & 0x80) == 0 || (p[0] & 0x70) != 0) {
		*cause = xstrdup("compressed event: unknown compression "
		    "header");
		return (-1);
	}
	lenlen = p[0] & 0x07;
	if (lenlen < 1 || lenlen > 4 || len < 1 + lenlen) {
		*cause = xstrdup("compressed event: bad length header");
		return (-1);
	}
	n = beN(p + 1, lenlen);
	if (n > BINLOG_MAX_EVENT) {
		*cause = xasprintf("compressed event: %" PRIu64 " bytes "
		    "uncompressed is too large", n);
		return (-1);
	}
	buf_reset(&dec->inflated);
	buf_reserve(&dec->inflated, (size_t)n + 1);
	out = (uLongf)n;
	rc = uncompress(dec->inflated.data, &out, p + 1 + lenlen,
	    (uLong)(len - 1 - lenlen));
	if (rc != Z_OK || out != n) {
		*cause = xasprintf("compressed event: zlib error %d "
		    "(%lu of %" PRIu64 " bytes)", rc, (unsigned long)out, n);
		return (-1);
	}
	dec->inflated.len = (size_t)n;
	dec->inflated.data[n] = '\0';
	return (0);
}

static int
binlog_payload_inflate(struct binlog_decoder *dec, struct binlog_event *ev,
    char **cause)
{
	ZSTD_DStream	*zs;
	ZSTD_inBuffer	 in;
	ZSTD_outBuffer	 out;
	size_t		 rc;
	uint64_t	 want = ev->payload.uncompressed;

	buf_reset(&dec->payload);
	if (ev->payload.compression == 255) {	/* NONE */
		buf_add(&dec->payload, ev->payload.payload,
		    (size_t)ev->payload.size);
		return (0);
	}
	if (ev->payload.compression != 0) {
		*cause = xasprintf("transaction_payload: unknown compression "
		    "type %u", ev->payload.compression);
		return (-1);
	}
	if (want == 0 || want > BINLOG_MAX_EVENT) {
		*cause = xasprintf("transaction_payload: uncompressed size %"
		    PRIu64 " is out of range", want);
		return (-1);
	}
	buf_reserve(&dec->payload, (size_t)want + 1);
	if ((zs = ZSTD_createDStream()) == NULL)
		fatalx("%s: ZSTD_createDStream failed", __func__);
	ZSTD_initDStream(zs);
	in.src = ev->payload.payload;
	in.size = (size_t)ev->payload.size;
	in.pos = 0;
	out.dst = dec->payload.data;
	out.size = (size_t)want;
	out.pos = 0;
	while (in.pos < in.size) {
		rc = ZSTD_decompressStream(zs, &out, &in);
		if (ZSTD_isError(rc)) {
			*cause = xasprintf("transaction_payload: zstd: %s",
			    ZSTD_getErrorName(rc));
			ZSTD_freeDStream(zs);
			return (-1);
		}
		if (out.pos == out.size && in.pos < in.size) {
			*cause = xasprintf("transaction_payload: inflates to "
			    "more than the %" PRIu64 " bytes announced", want);
			ZSTD_freeDStream(zs);
			return (-1);
		}
	}
	ZSTD_freeDStream(zs);
	if (out.pos != want) {
		*cause = xasprintf("transaction_payload: inflates to %zu "
		    "bytes, %" PRIu64 " were announced", out.pos, want);
		return (-1);
	}
	dec->payload.len = out.pos;
	dec->payload.data[out.pos] = '\0';
	return (0);
}

static struct binlog_table_entry *
binlog_table_slot(struct binlog_decoder *dec, uint64_t id)
{
	uint32_t	 h = (uint32_t)(id * 0x9e3779b97f4a7c15ULL >> 32);
	uint32_t	 i, k;

	for (i = 0; i < BINLOG_TABLE_CACHE; i++) {
		k = (h + i) & (BINLOG_TABLE_CACHE - 1);
		if (dec->tables[k].def == NULL ||
		    dec->tables[k].table_id == id)
			return (&dec->tables[k]);
	}
	return (NULL);
}

static int
binlog_table_map(struct binlog_decoder *dec, struct binlog_event *ev,
    char **cause)
{
	struct binlog_table_entry	*e;
	struct table_def		*t;
	uint64_t			 id;
	uint32_t			 i, ncols;

	if (binlog_table_map_parse(&dec->fde, ev->body, ev->body_len, &id, &t,
	    cause) != 0)
		return (-1);
	e = binlog_table_slot(dec, id);
	if (e != NULL && e->def != NULL && e->raw_len == ev->body_len &&
	    memcmp(e->raw, ev->body, ev->body_len) == 0) {
		/* Same map as before: keep the cached definition, whose
		 * address rows events and callers may hold. */
		table_def_free(t);
		ev->table_map = e->def;
		return (0);
	}
	if (e == NULL || (e->def == NULL &&
	    dec->ntables >= BINLOG_TABLE_CACHE * 3 / 4)) {
		/* Full: forget all; every transaction maps its tables
		 * again anyway. */
		binlog_tables_clear(dec);
		e = binlog_table_slot(dec, id);
	}
	if (e->def == NULL)
		dec->ntables++;
	else {
		table_def_free(e->def);
		free(e->raw);
	}
	e->table_id = id;
	e->def = t;
	e->raw = xmemdup(ev->body, ev->body_len);
	e->raw_len = ev->body_len;
	ev->table_map = t;

	ncols = t->ncols;
	if (ncols > dec->nvalues) {
		dec->before = xreallocarray(dec->before, ncols,
		    sizeof *dec->before);
		dec->after = xreallocarray(dec->after, ncols,
		    sizeof *dec->after);
		for (i = dec->nvalues; i < ncols; i++)
			dec->before[i].kind = dec->after[i].kind = VALUE_ABSENT;
		dec->nvalues = ncols;
	}
	return (0);
}

static int
binlog_rows(struct binlog_decoder *dec, struct binlog_event *ev, char **cause)
{
	struct binlog_rows		*r = &ev->rows;
	struct binlog_table_entry	*e;
	size_t				 off;

	if (binlog_rows_parse(&dec->fde, ev, cause) != 0)
		return (-1);
	e = binlog_table_slot(dec, r->table_id);
	if (e == NULL || e->def == NULL) {
		/* MySQL ends a statement with a dummy event for table id
		 * 0x00ffffff (or all ones); it has no rows. */
		if ((r->table_id == 0xffffffULL ||
		    r->table_id == 0xffffffffffffULL) && r->data_len == 0)
			return (0);
		*cause = xasprintf("%s: no table map for table id %" PRIu64,
		    binlog_type_name(ev->h.type), r->table_id);
		return (-1);
	}
	r->table = e->def;
	if (r->ncols > r->table->ncols) {
		*cause = xasprintf("%s: %" PRIu32 " columns in the rows event, "
		    "%" PRIu32 " in the table map of %s.%s",
		    binlog_type_name(ev->h.type), r->ncols, r->table->ncols,
		    r->table->db, r->table->name);
		return (-1);
	}
	if (r->compressed) {
		off = r->data_offset;
		if (binlog_maria_inflate(dec, r->data, r->data_len, cause) != 0)
			return (-1);
		r->data = dec->inflated.data;
		r->data_len = dec->inflated.len;
		r->data_offset = off;
	}
	return (0);
}

/* Parse the event in ev (header, raw, body set). */
static int
binlog_parse(struct binlog_decoder *dec, struct binlog_event *ev,
    char **cause)
{
	const char	*name;

	if (binlog_is_rows(ev->h.type))
		return (binlog_rows(dec, ev, cause));
	switch (ev->h.type) {
	case BINLOG_FORMAT_DESCRIPTION:
		/* The FDE parser wants its algorithm byte and checksum. */
		if (binlog_fde_parse(ev->body, (size_t)(ev->raw + ev->h.size -
		    ev->body), &ev->fde, cause) != 0)
			return (-1);
		/* A new FDE starts a new file (or relay log segment). */
		dec->fde = ev->fde;
		dec->have_fde = 1;
		if (dec->checksum_forced < 0)
			dec->checksum = ev->fde.checksum_alg == 1;
		binlog_tables_clear(dec);
		return (0);
	case BINLOG_TABLE_MAP:
		return (binlog_table_map(dec, ev, cause));
	case BINLOG_MARIA_START_ENCRYPTION:
		*cause = xstrdup("the binlog is encrypted "
		    "(encrypt_binlog=ON); ferry cannot read encrypted binlogs "
		    "from files, read them from the server instead");
		return (-1);
	case BINLOG_PRE_GA_WRITE_ROWS:
	case BINLOG_PRE_GA_UPDATE_ROWS:
	case BINLOG_PRE_GA_DELETE_ROWS:
		*cause = xasprintf("%s events (MySQL 5.1 before GA) are not "
		    "supported", binlog_type_name(ev->h.type));
		return (-1);
	}
	name = binlog_type_name(ev->h.type);
	if (name == NULL || ev->h.type == BINLOG_START_V3 ||
	    ev->h.type == BINLOG_LOAD || ev->h.type == BINLOG_SLAVE ||
	    ev->h.type == BINLOG_CREATE_FILE || ev->h.type == BINLOG_EXEC_LOAD ||
	    ev->h.type == BINLOG_NEW_LOAD) {
		if (ev->h.flags & BINLOG_F_IGNORABLE) {
			ev->h.type = BINLOG_IGNORABLE;
			return (0);
		}
		if (name == NULL)
			*cause = xasprintf("unknown event type %u (not marked "
			    "ignorable)", ev->h.type);
		else
			*cause = xasprintf("%s events (MySQL 4.x) are not "
			    "supported", name);
		return (-1);
	}
	if (binlog_event_parse(&dec->fde, ev, cause) != 0)
		return (-1);
	if (ev->h.type == BINLOG_MARIA_QUERY_COMPRESSED) {
		if (binlog_maria_inflate(dec, ev->query.sql, ev->query.sql_len,
		    cause) != 0)
			return (-1);
		ev->query.sql = dec->inflated.data;
		ev->query.sql_len = dec->inflated.len;
	}
	return (0);
}

/* Set up ev from the event at p (len bytes, its checksum included or not). */
static int
binlog_setup(struct binlog_decoder *dec, struct binlog_event *ev,
    const uint8_t *p, size_t len, int crc, char **cause)
{
	memset(ev, 0, offsetof(struct binlog_event, fde));
	if (binlog_header_parse(p, len, &ev->h) != 0) {
		*cause = xstrdup("truncated event header");
		return (-1);
	}
	ev->raw = p;
	ev->body = p + BINLOG_HEADER_LEN;
	ev->body_len = len - BINLOG_HEADER_LEN - (crc ? BINLOG_CHECKSUM_LEN :
	    0);
	if (!dec->have_fde && ev->h.type != BINLOG_FORMAT_DESCRIPTION &&
	    ev->h.type != BINLOG_ROTATE) {
		*cause = xasprintf("%s event before any format description",
		    binlog_type_name(ev->h.type) != NULL ?
		    binlog_type_name(ev->h.type) : "unknown");
		return (-1);
	}
	return (0);
}

/*
 * The next decoded event from what was fed.  Returns 1 (ev filled), 0 when
 * the fed event is exhausted, -1 with *cause.  After an error inside a
 * payload, the rest of the payload is dropped.
 */
int
binlog_decoder_next(struct binlog_decoder *dec, struct binlog_event *ev,
    char **cause)
{
	struct binlog_header	 h;
	size_t			 left;
	int			 crc;

	switch (dec->state) {
	case BINLOG_DEC_FRESH:
		dec->state = BINLOG_DEC_DONE;
		crc = dec->checksum;
		if (dec->ev_len >= BINLOG_HEADER_LEN &&
		    dec->ev[4] == BINLOG_FORMAT_DESCRIPTION) {
			struct binlog_fde	 f;

			if (binlog_fde_parse(dec->ev + BINLOG_HEADER_LEN,
			    dec->ev_len - BINLOG_HEADER_LEN, &f, cause) != 0)
				return (-1);
			crc = f.checksum_alg == 1;
		}
		if (binlog_setup(dec, ev, dec->ev, dec->ev_len, crc,
		    cause) != 0)
			return (-1);
		ev->offset = dec->ev_offset;
		if (ev->h.type == BINLOG_ROTATE && !dec->have_fde) {
			/* The artificial ROTATE a server sends first. */
			struct binlog_fde	 none;

			memset(&none, 0, sizeof none);
			if (binlog_event_parse(&none, ev, cause) != 0)
				return (-1);
			return (1);
		}
		if (binlog_parse(dec, ev, cause) != 0)
			return (-1);
		if (ev->h.type == BINLOG_TRANSACTION_PAYLOAD) {
			if (binlog_payload_inflate(dec, ev, cause) != 0)
				return (-1);
			dec->pl_pos = 0;
			dec->pl_offset = dec->ev_offset;
			dec->state = BINLOG_DEC_PAYLOAD;
		}
		return (1);
	case BINLOG_DEC_PAYLOAD:
		left = dec->payload.len - dec->pl_pos;
		if (left == 0) {
			dec->state = BINLOG_DEC_DONE;
			return (0);
		}
		if (binlog_header_parse(dec->payload.data + dec->pl_pos, left,
		    &h) != 0 || h.size < BINLOG_HEADER_LEN || h.size > left) {
			*cause = xasprintf("transaction_payload: inner event "
			    "at byte %zu is truncated", dec->pl_pos);
			dec->state = BINLOG_DEC_DONE;
			return (-1);
		}
		if (h.type == BINLOG_TRANSACTION_PAYLOAD ||
		    h.type == BINLOG_FORMAT_DESCRIPTION) {
			*cause = xasprintf("transaction_payload: a %s event "
			    "inside a payload", binlog_type_name(h.type));
			dec->state = BINLOG_DEC_DONE;
			return (-1);
		}
		/* Inner events have no checksum. */
		if (binlog_setup(dec, ev, dec->payload.data + dec->pl_pos,
		    h.size, 0, cause) != 0) {
			dec->state = BINLOG_DEC_DONE;
			return (-1);
		}
		ev->offset = dec->pl_offset;
		ev->in_payload = 1;
		dec->pl_pos += h.size;
		if (binlog_parse(dec, ev, cause) != 0) {
			dec->state = BINLOG_DEC_DONE;
			return (-1);
		}
		return (1);
	}
	return (0);
}
