/*
 * The binlog decoder's pieces, with expected values from outside ferry:
 * the corpus files (server-written bytes), MySQL's documented DECIMAL
 * encodings, and hand-checked character set conversions.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "engine/binlog.h"
#include "engine/binlog_file.h"
#include "engine/gtid.h"
#include "schema/charset.h"
#include "schema/value.h"
#include "tests/lib/testutil.h"

static struct buf
slurp_corpus(const char *name)
{
	struct buf	 b = BUF_INITIALIZER;
	char		*path, *cause = NULL;

	path = xasprintf("%s/reference/binlog-corpus/%s", testutil_shared_dir(),
	    name);
	if (util_read_file(path, 1 << 24, &b, &cause) != 0)
		ck_abort_msg("%s", cause);
	free(path);
	return (b);
}

/* Each of the three malformed WRITE_ROWS v2 events is refused alone. */
START_TEST(test_invalid_row_v2_tags)
{
	struct buf		 f = slurp_corpus("invalid_row_v2_tag.001");
	struct binlog_decoder	*dec = binlog_decoder_new();
	struct binlog_event	 ev;
	static const size_t	 offs[] = { 256, 287, 320, 353 };
	char			*cause = NULL;
	size_t			 i;

	ck_assert_uint_eq(f.len, 353);
	ck_assert_int_eq(binlog_decoder_feed(dec, f.data + 4, 252, 4, &cause),
	    0);
	ck_assert_int_eq(binlog_decoder_next(dec, &ev, &cause), 1);
	ck_assert_int_eq(ev.h.type, BINLOG_FORMAT_DESCRIPTION);
	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(binlog_decoder_feed(dec, f.data + offs[i],
		    offs[i + 1] - offs[i], offs[i], &cause), 0);
		ck_assert_int_eq(binlog_decoder_next(dec, &ev, &cause), -1);
		ck_assert_msg(strstr(cause, "extra data") != NULL,
		    "event at %zu: %s", offs[i], cause);
		free(cause);
		cause = NULL;
	}
	binlog_decoder_free(dec);
	buf_release(&f);
}
END_TEST

/* A flipped byte is caught by the CRC32, at the event that holds it. */
START_TEST(test_checksum_mismatch)
{
	struct buf		 f = slurp_corpus("mariadb-bin.000001");
	struct binlog_decoder	*dec = binlog_decoder_new();
	struct binlog_event	 ev;
	uint64_t		 off = 4;
	char			*cause = NULL;
	int			 rc, failed_at = -1;
	uint32_t		 size;

	f.data[476 + 40] ^= 0x01;	/* inside the first TABLE_MAP */
	while (off < f.len) {
		size = (uint32_t)f.data[off + 9] | (uint32_t)f.data[off + 10] << 8;
		rc = binlog_decoder_feed(dec, f.data + off, size, off, &cause);
		if (rc != 0) {
			failed_at = (int)off;
			break;
		}
		while (binlog_decoder_next(dec, &ev, &cause) == 1)
			;
		off += size;
	}
	ck_assert_int_eq(failed_at, 476);
	ck_assert_msg(strstr(cause, "checksum mismatch") != NULL, "%s", cause);
	free(cause);
	binlog_decoder_free(dec);
	buf_release(&f);
}
END_TEST

/* MySQL documents DECIMAL(14,4) 1234567890.1234 as 81 0D FB 38 D2 04 D2. */
START_TEST(test_decimal_documented)
{
	static const uint8_t	 pos[] = { 0x81, 0x0d, 0xfb, 0x38, 0xd2, 0x04,
	    0xd2 };
	static const uint8_t	 neg[] = { 0x7e, 0xf2, 0x04, 0xc7, 0x2d, 0xfb,
	    0x2d };
	struct buf		 b = BUF_INITIALIZER;
	char			*cause = NULL;

	ck_assert_uint_eq(value_decimal_size(14, 4), 7);
	ck_assert_int_eq(value_decimal_text(pos, 7, 14, 4, &b, &cause), 0);
	ck_assert_str_eq(buf_str(&b), "1234567890.1234");
	buf_reset(&b);
	ck_assert_int_eq(value_decimal_text(neg, 7, 14, 4, &b, &cause), 0);
	ck_assert_str_eq(buf_str(&b), "-1234567890.1234");
	buf_release(&b);
}
END_TEST

START_TEST(test_decimal_corrupt)
{
	/* DECIMAL(9,0): one 4-byte group; 0xffffffff ^ sign > 999999999 */
	static const uint8_t	 bad[] = { 0xbf, 0xff, 0xff, 0xff };
	struct buf		 b = BUF_INITIALIZER;
	char			*cause = NULL;

	ck_assert_int_eq(value_decimal_text(bad, 4, 9, 0, &b, &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "corrupt DECIMAL"));
	ck_assert_uint_eq(b.len, 0);
	free(cause);
	ck_assert_int_eq(value_decimal_text(bad, 3, 9, 0, &b, &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "needs 4 bytes"));
	free(cause);
	buf_release(&b);
}
END_TEST

/*
 * A GTID set encoded for COM_BINLOG_DUMP_GTID is byte for byte the body of
 * the PREVIOUS_GTIDS event a MySQL server wrote for the same set.
 */
static void
ck_gtid_encoding(const char *file, size_t ev_off, const char *set)
{
	struct buf	 f = slurp_corpus(file), enc = BUF_INITIALIZER;
	char		*cause = NULL;
	uint32_t	 size;
	size_t		 body;

	size = (uint32_t)f.data[ev_off + 9] | (uint32_t)f.data[ev_off + 10] << 8;
	body = size - 19 - 4;	/* header, checksum */
	ck_assert_msg(gtid_mysql_encode(set, &enc, &cause) == 0, "%s", cause);
	ck_assert_uint_eq(enc.len, body);
	ck_assert_mem_eq(enc.data, f.data + ev_off + 19, body);
	buf_release(&enc);
	buf_release(&f);
}

START_TEST(test_gtid_encode)
{
	ck_gtid_encoding("binlog_transaction_previous_GTID_no_tag.000001", 126,
	    "b9b88c66-0755-11f1-9899-4a9da94c4d71:1-2");
	ck_gtid_encoding("binlog_transaction_with_GTID_TAG.000001", 127,
	    "55778904-0299-11f1-b1b8-4ef0c4956feb:1-13:mytag:1-2");
}
END_TEST

START_TEST(test_gtid_errors)
{
	struct buf	 b = BUF_INITIALIZER;
	char		*cause = NULL;

	ck_assert_int_eq(gtid_mysql_encode("nonsense", &b, &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "UUID"));
	free(cause);
	ck_assert_int_eq(gtid_mysql_encode(
	    "b9b88c66-0755-11f1-9899-4a9da94c4d71:5-2", &b, &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "bad GNO range"));
	free(cause);
	ck_assert_int_eq(gtid_mariadb_check("0-1-100,1-2-3", &cause), 0);
	ck_assert_int_eq(gtid_mariadb_check("0-1", &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "domain-server-sequence"));
	free(cause);
	buf_release(&b);
}
END_TEST

/* A MariaDB GTID position as a binlog moves it: one GTID per domain, the
 * newest, listed by domain whatever the order they came in. */
START_TEST(test_gtid_pos)
{
	struct gtid_pos	 gp;
	char		*cause = NULL, *t;

	gtid_pos_init(&gp);
	ck_assert_int_eq(gtid_pos_parse(&gp, "", &cause), 0);
	t = gtid_pos_text(&gp);
	ck_assert_str_eq(t, "");
	free(t);
	ck_assert_int_eq(gtid_pos_parse(&gp, "2-7-40, 0-1-100", &cause), 0);
	gtid_pos_update(&gp, 0, 3, 101);	/* the domain's next GTID */
	gtid_pos_update(&gp, 1, 9, 5);		/* a new domain, in between */
	gtid_pos_update(&gp, 4294967295u, 1, 18446744073709551615ull);
	t = gtid_pos_text(&gp);
	ck_assert_str_eq(t, "0-3-101,1-9-5,2-7-40,"
	    "4294967295-1-18446744073709551615");
	free(t);
	ck_assert_int_eq(gtid_pos_parse(&gp, "0-1", &cause), -1);
	free(cause);
	ck_assert_int_eq(gtid_pos_parse(&gp, "4294967296-1-1", &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "32 bits"));
	free(cause);
	gtid_pos_release(&gp);
}
END_TEST

/*
 * A MySQL GTID state as a job keeps it, folded from a server's binlog:
 * its PREVIOUS_GTIDS, then each transaction's GTID.  The text of the
 * state at the end of the file.
 */
static char *
fold_gtids(const char *file)
{
	struct buf		 f = slurp_corpus(file), t = BUF_INITIALIZER;
	struct binlog_decoder	*dec = binlog_decoder_new();
	struct binlog_event	 ev;
	struct gtid_state	 st;
	struct gtid_one		 g;
	uint64_t		 off = 4;
	uint32_t		 size;
	char			*cause = NULL, *text;

	gtid_state_init(&st);
	while (off + 19 <= f.len) {
		size = (uint32_t)f.data[off + 9] | (uint32_t)f.data[off + 10] <<
		    8 | (uint32_t)f.data[off + 11] << 16;
		ck_assert_msg(binlog_decoder_feed(dec, f.data + off, size, off,
		    &cause) == 0, "%s", cause);
		while (binlog_decoder_next(dec, &ev, &cause) == 1) {
			if (ev.h.type == BINLOG_PREVIOUS_GTIDS) {
				buf_reset(&t);
				ck_assert_int_eq(binlog_gtid_set_text(&ev, &t,
				    &cause), 0);
				ck_assert_msg(gtid_state_parse(&st, buf_str(&t),
				    GTID_MYSQL, &cause) == 0, "%s", cause);
			} else if (ev.h.type == BINLOG_GTID ||
			    ev.h.type == BINLOG_GTID_TAGGED) {
				memset(&g, 0, sizeof g);
				g.flavour = GTID_MYSQL;
				memcpy(g.uuid, ev.gtid.uuid, 16);
				memcpy(g.tag, ev.gtid.tag, sizeof g.tag);
				g.seq = (uint64_t)ev.gtid.gno;
				gtid_state_add(&st, &g);
			}
		}
		off += size;
	}
	text = gtid_state_text(&st);
	gtid_state_release(&st);
	binlog_decoder_free(dec);
	buf_release(&t);
	buf_release(&f);
	return (text);
}

/*
 * MySQL GTID states through real binlogs (no live MySQL here): MANIFEST
 * F13, a 9.6 file whose PREVIOUS_GTIDS is uuid:1-13 and mytag:1-2, then
 * the tagged GTID uuid:mytag:3; F16, Percona 5.7's row transaction
 * 87cee3a4-...:14918.
 */
START_TEST(test_gtid_state_corpus)
{
	struct gtid_set	 have, want;
	char		*t, *cause = NULL;

	t = fold_gtids("binlog_transaction_with_GTID_TAG.000001");
	ck_assert_str_eq(t, "55778904-0299-11f1-b1b8-4ef0c4956feb:1-13:"
	    "mytag:1-3");
	free(t);
	t = fold_gtids("binlog_transaction_previous_GTID_no_tag.000001");
	ck_assert_str_eq(t, "b9b88c66-0755-11f1-9899-4a9da94c4d71:1-2");
	free(t);
	t = fold_gtids("bin-log.000001");
	gtid_set_init(&have);
	gtid_set_init(&want);
	ck_assert_int_eq(gtid_set_parse(&have, t, &cause), 0);
	ck_assert_int_eq(gtid_set_parse(&want,
	    "87cee3a4-6b31-11e7-bdfd-0d98d6698870:14918", &cause), 0);
	ck_assert_msg(gtid_set_contains(&have, &want), "%s", t);
	gtid_set_release(&have);
	gtid_set_release(&want);
	free(t);
}
END_TEST

/*
 * MySQL GTID sets as MySQL writes and compares them: intervals merged
 * whatever order GTIDs arrive in, tags apart from the untagged GNOs of
 * the same UUID and case-insensitive, the newlines of @@gtid_executed
 * ignored; containment per (uuid, tag).
 */
START_TEST(test_gtid_set_ops)
{
	static const uint8_t	 u[16] = { 0x3e, 0x11, 0xfa, 0x47, 0x71, 0xca,
	    0x11, 0xe1, 0x9e, 0x33, 0xc8, 0x0a, 0xa9, 0x42, 0x95, 0x62 };
	struct gtid_set		 a, b;
	struct buf		 enc = BUF_INITIALIZER;
	char			*t, *cause = NULL;

	gtid_set_init(&a);
	gtid_set_init(&b);
	ck_assert_int_eq(gtid_set_parse(&a,
	    "3E11FA47-71CA-11E1-9E33-C80AA9429562:1-3:5,\n"
	    "3e11fa47-71ca-11e1-9e33-c80aa9429562:TAG1:7", &cause), 0);
	gtid_set_add(&a, u, NULL, 4);		/* closes 1-3 and 5 */
	gtid_set_add(&a, u, NULL, 9);
	gtid_set_add(&a, u, NULL, 8);		/* before 9, apart from 5 */
	gtid_set_add(&a, u, "tag1", 6);
	t = gtid_set_text(&a);
	ck_assert_str_eq(t, "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5:8-9:"
	    "tag1:6-7");
	free(t);
	/* Text, parse and encoding agree with each other. */
	ck_assert_int_eq(gtid_set_parse(&b, "3e11fa47-71ca-11e1-9e33-"
	    "c80aa9429562:8-9:1-5:tag1:6-7", &cause), 0);
	ck_assert(gtid_set_contains(&a, &b) && gtid_set_contains(&b, &a));
	ck_assert_int_eq(gtid_mysql_encode("3e11fa47-71ca-11e1-9e33-"
	    "c80aa9429562:1-5:8-9:tag1:6-7", &enc, &cause), 0);
	ck_assert_uint_eq(enc.data[0], 1);	/* tagged format */
	/* Containment: a GNO between intervals, another tag, another UUID. */
	ck_assert_int_eq(gtid_set_parse(&b, "3e11fa47-71ca-11e1-9e33-"
	    "c80aa9429562:2-5", &cause), 0);
	ck_assert(gtid_set_contains(&a, &b));
	ck_assert_int_eq(gtid_set_parse(&b, "3e11fa47-71ca-11e1-9e33-"
	    "c80aa9429562:5-8", &cause), 0);
	ck_assert(!gtid_set_contains(&a, &b));
	ck_assert_int_eq(gtid_set_parse(&b, "3e11fa47-71ca-11e1-9e33-"
	    "c80aa9429562:other:6", &cause), 0);
	ck_assert(!gtid_set_contains(&a, &b));
	ck_assert_int_eq(gtid_set_parse(&b, "4e11fa47-71ca-11e1-9e33-"
	    "c80aa9429562:1", &cause), 0);
	ck_assert(!gtid_set_contains(&a, &b));
	/* The empty set is in every set; "" parses to it. */
	ck_assert_int_eq(gtid_set_parse(&b, " ", &cause), 0);
	ck_assert(gtid_set_contains(&a, &b));
	t = gtid_set_text(&b);
	ck_assert_str_eq(t, "");
	free(t);
	/* Refused: a bad tag, a range of 0. */
	ck_assert_int_eq(gtid_set_parse(&b, "3e11fa47-71ca-11e1-9e33-"
	    "c80aa9429562:ta-g:1", &cause), -1);
	free(cause);
	ck_assert_int_eq(gtid_set_parse(&b, "3e11fa47-71ca-11e1-9e33-"
	    "c80aa9429562:0-3", &cause), -1);
	free(cause);
	gtid_set_release(&a);
	gtid_set_release(&b);
	buf_release(&enc);
}
END_TEST

/*
 * A job's GTID state: the flavour told by the text, moved by GTIDs, and
 * containment as a failover asks it (MariaDB: per domain, a server at or
 * past each domain's sequence number).
 */
START_TEST(test_gtid_state)
{
	struct gtid_state	 ck, srv;
	struct gtid_one		 g;
	char			*t, *cause = NULL;

	gtid_state_init(&ck);
	gtid_state_init(&srv);
	ck_assert_int_eq(gtid_state_parse(&ck, "0-1-100,1-5-7", GTID_NONE,
	    &cause), 0);
	ck_assert_int_eq(ck.flavour, GTID_MARIADB);
	ck_assert_int_eq(gtid_state_parse(&srv, "1-5-7,0-2-100", GTID_NONE,
	    &cause), 0);
	ck_assert(gtid_state_contains(&srv, &ck));
	ck_assert_int_eq(gtid_state_parse(&srv, "0-1-99,1-5-9", GTID_NONE,
	    &cause), 0);
	ck_assert(!gtid_state_contains(&srv, &ck));	/* domain 0 behind */
	ck_assert_int_eq(gtid_state_parse(&srv, "0-1-100", GTID_NONE,
	    &cause), 0);
	ck_assert(!gtid_state_contains(&srv, &ck));	/* no domain 1 */
	memset(&g, 0, sizeof g);
	g.flavour = GTID_MARIADB;
	g.domain = 1;
	g.server = 5;
	g.seq = 8;
	gtid_state_add(&srv, &g);
	ck_assert(gtid_state_contains(&srv, &ck));
	t = gtid_state_text(&srv);
	ck_assert_str_eq(t, "0-1-100,1-5-8");
	free(t);
	/* An empty state takes the flavour of its first GTID; a MySQL
	 * state is not in a MariaDB one. */
	ck_assert_int_eq(gtid_state_parse(&ck, "", GTID_NONE, &cause), 0);
	memset(&g, 0, sizeof g);
	g.flavour = GTID_MYSQL;
	g.uuid[0] = 0xab;
	g.seq = 3;
	gtid_state_add(&ck, &g);
	t = gtid_state_text(&ck);
	ck_assert_str_eq(t, "ab000000-0000-0000-0000-000000000000:3");
	free(t);
	ck_assert_int_eq(ck.flavour, GTID_MYSQL);
	ck_assert(!gtid_state_contains(&srv, &ck));
	t = gtid_one_text(&g);
	ck_assert_str_eq(t, "ab000000-0000-0000-0000-000000000000:3");
	free(t);
	gtid_state_release(&ck);
	gtid_state_release(&srv);
}
END_TEST

static void
ck_utf8(const char *cs, const char *in, size_t len, const char *want,
    int replaced)
{
	struct buf	 b = BUF_INITIALIZER;

	ck_assert_int_eq(charset_to_utf8(cs, (const uint8_t *)in, len, &b),
	    replaced);
	ck_assert_str_eq(buf_str(&b), want);
	buf_release(&b);
}

START_TEST(test_charsets)
{
	/* MySQL's latin1 is cp1252: 0x80 is the euro sign, 0x81 stays C1. */
	ck_utf8("latin1", "\x80\x81\xe9", 3, "\xe2\x82\xac\xc2\x81\xc3\xa9", 0);
	ck_utf8("utf8mb4", "ok\xf0\x9f\x98\x80", 6, "ok\xf0\x9f\x98\x80", 0);
	/* invalid UTF-8 becomes U+FFFD, flagged */
	ck_utf8("utf8mb4", "a\xff" "b", 3, "a\xef\xbf\xbd" "b", 1);
	ck_utf8("utf8mb3", "\xed\xa0\x80", 3,
	    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd", 1);
	/* GBK 0xD6D0 is U+4E2D; UCS-2 big-endian */
	ck_utf8("gbk", "\xd6\xd0", 2, "\xe4\xb8\xad", 0);
	ck_utf8("ucs2", "\x00" "A" "\x4e\x2d", 4, "A\xe4\xb8\xad", 0);
	ck_utf8("ucs2", "", 0, "", 0);
	ck_assert_str_eq(charset_name(45), "utf8mb4");
	ck_assert_str_eq(charset_name(8), "latin1");
	ck_assert_str_eq(charset_name(63), "binary");
	ck_assert_str_eq(charset_name(255), "utf8mb4");	/* MySQL 8 */
	ck_assert_str_eq(charset_name(2304), "utf8mb4");	/* MariaDB 11 */
	ck_assert_ptr_null(charset_name(9999));
	ck_assert_uint_eq(charset_maxlen(33), 3);
}
END_TEST

static size_t
mk_event(uint8_t *out, uint8_t type, const uint8_t *body, size_t len)
{
	memset(out, 0, 19);
	out[4] = type;
	out[5] = 1;				/* server_id */
	out[9] = (uint8_t)(19 + len);		/* size (< 256 here) */
	memcpy(out + 19, body, len);
	return (19 + len);
}

/*
 * A rows event whose image names no column would consume no bytes per row;
 * it used to loop forever (found by fuzz_binlog).  It is an error now.
 */
START_TEST(test_empty_row_image)
{
	struct buf		 f = slurp_corpus("mysql-bin.checksum-none");
	struct binlog_decoder	*dec = binlog_decoder_new();
	struct binlog_event	 ev;
	struct binlog_row	 row;
	static const uint8_t	 map[] = {
		1, 0, 0, 0, 0, 0,  0, 0,		/* table id, flags */
		1, 'd', 0,  1, 't', 0,			/* db, table */
		1, 3,  0,  0				/* 1 INT, no meta, not null */
	};
	static const uint8_t	 rows[] = {
		1, 0, 0, 0, 0, 0,  0, 0,  2, 0,		/* id, flags, extra */
		1, 0x00,				/* 1 column, none present */
		0, 0, 0, 0				/* "rows" */
	};
	uint8_t			 ev1[64], ev2[64];
	uint32_t		 size;
	size_t			 n1, n2;
	char			*cause = NULL;

	size = (uint32_t)f.data[4 + 9] | (uint32_t)f.data[4 + 10] << 8;
	ck_assert_int_eq(binlog_decoder_feed(dec, f.data + 4, size, 4, &cause),
	    0);
	ck_assert_int_eq(binlog_decoder_next(dec, &ev, &cause), 1);
	n1 = mk_event(ev1, BINLOG_TABLE_MAP, map, sizeof map);
	ck_assert_int_eq(binlog_decoder_feed(dec, ev1, n1, 1000, &cause), 0);
	ck_assert_int_eq(binlog_decoder_next(dec, &ev, &cause), 1);
	n2 = mk_event(ev2, BINLOG_WRITE_ROWS, rows, sizeof rows);
	ck_assert_int_eq(binlog_decoder_feed(dec, ev2, n2, 1100, &cause), 0);
	ck_assert_int_eq(binlog_decoder_next(dec, &ev, &cause), 1);
	ck_assert_int_eq(binlog_rows_next(dec, &ev.rows, &row, &cause), -1);
	ck_assert_msg(strstr(cause, "empty row image") != NULL, "%s", cause);
	free(cause);
	binlog_decoder_free(dec);
	buf_release(&f);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("binlog");
	TCase	*tc = tcase_create("binlog");

	/* Skip (or fail under FERRY_TEST_REQUIRE) before forking. */
	testutil_shared_dir();
	tcase_add_test(tc, test_invalid_row_v2_tags);
	tcase_add_test(tc, test_checksum_mismatch);
	tcase_add_test(tc, test_decimal_documented);
	tcase_add_test(tc, test_decimal_corrupt);
	tcase_add_test(tc, test_gtid_encode);
	tcase_add_test(tc, test_gtid_errors);
	tcase_add_test(tc, test_gtid_pos);
	tcase_add_test(tc, test_gtid_state_corpus);
	tcase_add_test(tc, test_gtid_set_ops);
	tcase_add_test(tc, test_gtid_state);
	tcase_add_test(tc, test_charsets);
	tcase_add_test(tc, test_empty_row_image);
	suite_add_tcase(s, tc);
	return (testutil_run(s));
}
