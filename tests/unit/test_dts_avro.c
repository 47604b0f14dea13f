/*
 * The DTS Avro encoder, read back by avro-c (the Avro reference
 * implementation in C) with the published schema: every field of the
 * record, the branch index of every value, every value, for every column
 * type and every operation.  Expected values are written here by hand from
 * the format's documentation (docs/dts-avro.md), not computed by the
 * encoder.
 */
#include "config.h"

#include <avro.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "schema/coltype.h"
#include "schema/dts_avro.h"
#include "schema/table.h"
#include "schema/value.h"
#include "tests/lib/testutil.h"

static avro_schema_t		 schema;
static avro_value_iface_t	*iface;

static void
load_schema(void)
{
	struct buf	 b = BUF_INITIALIZER;
	char		*path, *cause = NULL;

	path = xasprintf("%s/reference/dts-avro/derived/Record.standalone.avsc",
	    testutil_shared_dir());
	if (util_read_file(path, 1 << 20, &b, &cause) != 0) {
		fprintf(stderr, "%s\n", cause);
		exit(TESTUTIL_ERROR);
	}
	if (avro_schema_from_json_length((const char *)b.data, b.len,
	    &schema) != 0) {
		fprintf(stderr, "schema: %s\n", avro_strerror());
		exit(TESTUTIL_ERROR);
	}
	iface = avro_generic_class_from_schema(schema);
	free(path);
	buf_release(&b);
}

/* Read one datum; the whole buffer must be consumed. */
static void
read_record(const struct buf *b, avro_value_t *rec)
{
	avro_reader_t	 r;
	int64_t		 born;
	avro_value_t	 f;

	ck_assert_int_eq(avro_generic_value_new(iface, rec), 0);
	r = avro_reader_memory((const char *)b->data, (int64_t)b->len);
	ck_assert_msg(avro_value_read(r, rec) == 0, "avro-c: %s",
	    avro_strerror());
	/* the last field is a long: read it back, then nothing may remain */
	ck_assert_int_eq(avro_value_get_by_name(rec, "bornTimestamp", &f, NULL),
	    0);
	ck_assert_int_eq(avro_value_get_long(&f, &born), 0);
	{
		char	 c;

		ck_assert_msg(avro_read(r, &c, 1) != 0,
		    "bytes after the record");
	}
	avro_reader_free(r);
}

static avro_value_t
field(avro_value_t *rec, const char *name)
{
	avro_value_t	 v;

	ck_assert_msg(avro_value_get_by_name(rec, name, &v, NULL) == 0,
	    "no field %s", name);
	return (v);
}

static int64_t
get_long(avro_value_t *rec, const char *name)
{
	avro_value_t	 v = field(rec, name);
	int64_t		 l;
	int32_t		 i;

	if (avro_value_get_type(&v) == AVRO_INT32) {
		ck_assert_int_eq(avro_value_get_int(&v, &i), 0);
		return (i);
	}
	ck_assert_int_eq(avro_value_get_long(&v, &l), 0);
	return (l);
}

static const char *
get_string(avro_value_t *v)
{
	const char	*s;
	size_t		 n;

	ck_assert_int_eq(avro_value_get_string(v, &s, &n), 0);
	return (s);
}

static void
ck_str(avro_value_t *rec, const char *name, const char *want)
{
	avro_value_t	 v = field(rec, name);

	ck_assert_str_eq(get_string(&v), want);
}

/* A union: its branch index, and the branch. */
static avro_value_t
branch(avro_value_t *u, int want)
{
	avro_value_t	 b;
	int		 disc;

	ck_assert_int_eq(avro_value_get_discriminant(u, &disc), 0);
	ck_assert_int_eq(disc, want);
	ck_assert_int_eq(avro_value_get_current_branch(u, &b), 0);
	return (b);
}

static avro_value_t
item(avro_value_t *arr, size_t i)
{
	avro_value_t	 v;
	size_t		 n;

	ck_assert_int_eq(avro_value_get_size(arr, &n), 0);
	ck_assert_uint_lt(i, n);
	ck_assert_int_eq(avro_value_get_by_index(arr, i, &v, NULL), 0);
	return (v);
}

static void
ck_bytes(avro_value_t *rec, const char *name, const void *want, size_t len)
{
	avro_value_t	 v = field(rec, name);
	const void	*p;
	size_t		 n;

	ck_assert_int_eq(avro_value_get_bytes(&v, &p, &n), 0);
	ck_assert_uint_eq(n, len);
	ck_assert_mem_eq(p, want, len);
}

static void
ck_opt(avro_value_t *dt, const char *name, int present, int want)
{
	avro_value_t	 u = field(dt, name), b;
	int32_t		 v;

	b = branch(&u, present ? 1 : 0);
	if (present) {
		ck_assert_int_eq(avro_value_get_int(&b, &v), 0);
		ck_assert_int_eq(v, want);
	}
}

/* The row: one column of each type, and its values. */
enum { C_TINY, C_UTINY, C_SHORT, C_INT24, C_INT, C_UBIG, C_BIG, C_DEC,
    C_FLOAT, C_DOUBLE, C_BIT, C_YEAR, C_DATE, C_TIME, C_DATETIME, C_TS,
    C_CHAR, C_VARCHAR, C_BINARY, C_TEXT, C_BLOB, C_ENUM, C_SET, C_JSON,
    C_GEOM, C_NULL, C_ABSENT, NCOLS };

static struct table_def *
make_table(void)
{
	static const struct {
		const char	*name;
		uint8_t		 type;
		uint8_t		 meta[2];
		uint32_t	 collation;
		uint8_t		 flags;
	} cols[NCOLS] = {
		{ "tiny", COLTYPE_TINY, { 0 }, 0, 0 },
		{ "utiny", COLTYPE_TINY, { 0 }, 0, COLUMN_UNSIGNED },
		{ "short", COLTYPE_SHORT, { 0 }, 0, 0 },
		{ "int24", COLTYPE_INT24, { 0 }, 0, 0 },
		{ "int", COLTYPE_LONG, { 0 }, 0, 0 },
		{ "ubig", COLTYPE_LONGLONG, { 0 }, 0, COLUMN_UNSIGNED },
		{ "big", COLTYPE_LONGLONG, { 0 }, 0, 0 },
		{ "dec", COLTYPE_NEWDECIMAL, { 10, 2 }, 0, 0 },
		{ "flt", COLTYPE_FLOAT, { 4 }, 0, 0 },
		{ "dbl", COLTYPE_DOUBLE, { 8 }, 0, 0 },
		{ "bit", COLTYPE_BIT, { 2, 1 }, 0, 0 },
		{ "yr", COLTYPE_YEAR, { 0 }, 0, 0 },
		{ "dt", COLTYPE_DATE, { 0 }, 0, 0 },
		{ "tm", COLTYPE_TIME2, { 3 }, 0, 0 },
		{ "dtm", COLTYPE_DATETIME2, { 6 }, 0, 0 },
		{ "ts", COLTYPE_TIMESTAMP2, { 6 }, 0, 0 },
		{ "chr", COLTYPE_STRING, { COLTYPE_STRING, 40 }, 8, 0 },
		{ "vc", COLTYPE_VARCHAR, { 200, 0 }, 45, 0 },
		{ "bin", COLTYPE_STRING, { COLTYPE_STRING, 4 }, 63, 0 },
		{ "txt", COLTYPE_BLOB, { 2 }, 45, 0 },
		{ "blb", COLTYPE_BLOB, { 4 }, 63, 0 },
		{ "en", COLTYPE_STRING, { COLTYPE_ENUM, 1 }, 45, 0 },
		{ "st", COLTYPE_STRING, { COLTYPE_SET, 1 }, 45, 0 },
		{ "js", COLTYPE_JSON, { 4 }, 63, 0 },
		{ "geo", COLTYPE_GEOMETRY, { 4 }, 63, 0 },
		{ "nul", COLTYPE_LONG, { 0 }, 0, COLUMN_NULLABLE },
		{ "abs", COLTYPE_LONG, { 0 }, 0, 0 },
	};
	struct table_def	*t = table_def_new(NCOLS);
	char			*cause = NULL;
	int			 i;

	t->db = xstrdup("shop.eu");	/* a dot inside: escaped */
	t->name = xstrdup("orders");
	for (i = 0; i < NCOLS; i++) {
		ck_assert_msg(table_column_init(&t->cols[i], cols[i].type,
		    cols[i].meta, &cause) == 0, "%s", cause);
		t->cols[i].name = xstrdup(cols[i].name);
		t->cols[i].collation = cols[i].collation;
		t->cols[i].flags |= cols[i].flags;
	}
	t->cols[C_ENUM].nlabels = 2;
	t->cols[C_ENUM].labels = xcalloc(2, sizeof (char *));
	t->cols[C_ENUM].labels[0] = xstrdup("small");
	t->cols[C_ENUM].labels[1] = xstrdup("large");
	t->cols[C_SET].nlabels = 3;
	t->cols[C_SET].labels = xcalloc(3, sizeof (char *));
	t->cols[C_SET].labels[0] = xstrdup("a");
	t->cols[C_SET].labels[1] = xstrdup("b");
	t->cols[C_SET].labels[2] = xstrdup("c");
	t->pk = xcalloc(1, sizeof *t->pk);
	t->pk[0] = C_INT;
	t->npk = 1;
	return (t);
}

/* DECIMAL(10,2) -12.50, per MySQL's binary format: sign-flipped groups. */
static const uint8_t dec_bytes[] = { 0x7f, 0xff, 0xff, 0xf3, 0xcd };
/* MySQL binary JSON {"k": [1, true]} */
static const uint8_t json_bytes[] = {
	0x00,				/* small object */
	0x01, 0x00, 0x16, 0x00,		/* 1 member, 22 bytes */
	0x0b, 0x00, 0x01, 0x00,		/* key at 11, length 1 */
	0x02, 0x0c, 0x00,		/* small array at 12 */
	'k',
	0x02, 0x00, 0x0a, 0x00,		/* 2 elements, 10 bytes */
	0x05, 0x01, 0x00,		/* int16 1, inlined */
	0x04, 0x01, 0x00		/* literal true, inlined */
};
/* SRID 0 + WKB POINT(1 2) */
static const uint8_t geo_bytes[] = { 0, 0, 0, 0, 1, 1, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 0, 0, 0, 0, 0, 0, 0, 0x40 };

static void
make_values(struct value *v)
{
	memset(v, 0, NCOLS * sizeof *v);
	v[C_TINY].kind = VALUE_INT;	v[C_TINY].i = -128;
	v[C_UTINY].kind = VALUE_UINT;	v[C_UTINY].u = 255;
	v[C_SHORT].kind = VALUE_INT;	v[C_SHORT].i = 12345;
	v[C_INT24].kind = VALUE_INT;	v[C_INT24].i = -8388608;
	v[C_INT].kind = VALUE_INT;	v[C_INT].i = 7;
	v[C_UBIG].kind = VALUE_UINT;	v[C_UBIG].u = UINT64_MAX;
	v[C_BIG].kind = VALUE_INT;	v[C_BIG].i = INT64_MIN;
	v[C_DEC].kind = VALUE_DECIMAL;
	v[C_DEC].bytes.p = dec_bytes;	v[C_DEC].bytes.len = sizeof dec_bytes;
	v[C_FLOAT].kind = VALUE_FLOAT;	v[C_FLOAT].f = 1.5f;
	v[C_DOUBLE].kind = VALUE_DOUBLE; v[C_DOUBLE].d = -2.25e100;
	v[C_BIT].kind = VALUE_BIT;	v[C_BIT].u = 0x3ff;
	v[C_YEAR].kind = VALUE_INT;	v[C_YEAR].i = 2024;
	v[C_DATE].kind = VALUE_DATE;
	v[C_DATE].t.year = 2024; v[C_DATE].t.month = 2; v[C_DATE].t.day = 29;
	v[C_TIME].kind = VALUE_TIME;	v[C_TIME].t.neg = 1;
	v[C_TIME].t.hour = 838; v[C_TIME].t.minute = 59;
	v[C_TIME].t.second = 58; v[C_TIME].t.usec = 500000;
	v[C_DATETIME].kind = VALUE_DATETIME;
	v[C_DATETIME].t.year = 1999; v[C_DATETIME].t.month = 12;
	v[C_DATETIME].t.day = 31; v[C_DATETIME].t.hour = 23;
	v[C_DATETIME].t.minute = 59; v[C_DATETIME].t.second = 59;
	v[C_DATETIME].t.usec = 123456;
	v[C_TS].kind = VALUE_TIMESTAMP;	v[C_TS].ts.sec = 1700000000;
	v[C_TS].ts.usec = 42;
	v[C_CHAR].kind = VALUE_STRING;
	v[C_CHAR].bytes.p = (const uint8_t *)"h\xe9llo";	/* latin1 */
	v[C_CHAR].bytes.len = 5;
	v[C_VARCHAR].kind = VALUE_STRING;
	v[C_VARCHAR].bytes.p = (const uint8_t *)"\xf0\x9f\x98\x80";
	v[C_VARCHAR].bytes.len = 4;
	v[C_BINARY].kind = VALUE_STRING;
	v[C_BINARY].bytes.p = (const uint8_t *)"ab";
	v[C_BINARY].bytes.len = 2;	/* BINARY(4): padded to 4 */
	v[C_TEXT].kind = VALUE_STRING;
	v[C_TEXT].bytes.p = (const uint8_t *)"text";
	v[C_TEXT].bytes.len = 4;
	v[C_BLOB].kind = VALUE_STRING;
	v[C_BLOB].bytes.p = (const uint8_t *)"\x00\xff";
	v[C_BLOB].bytes.len = 2;
	v[C_ENUM].kind = VALUE_ENUM;	v[C_ENUM].u = 2;
	v[C_SET].kind = VALUE_SET;	v[C_SET].u = 5;
	v[C_JSON].kind = VALUE_JSON;
	v[C_JSON].bytes.p = json_bytes;	v[C_JSON].bytes.len = sizeof json_bytes;
	v[C_GEOM].kind = VALUE_GEOMETRY;
	v[C_GEOM].bytes.p = geo_bytes;	v[C_GEOM].bytes.len = sizeof geo_bytes;
	v[C_NULL].kind = VALUE_NULL;
	v[C_ABSENT].kind = VALUE_ABSENT;
}

static void
ck_integer(avro_value_t *img, int col, int precision, const char *text)
{
	avro_value_t	 u = item(img, (size_t)col), b = branch(&u, DTS_INTEGER);

	ck_assert_int_eq(get_long(&b, "precision"), precision);
	ck_str(&b, "value", text);
}

static void
ck_image(avro_value_t *img)
{
	avro_value_t	 u, b;
	size_t		 n;
	double		 d;

	ck_assert_int_eq(avro_value_get_size(img, &n), 0);
	ck_assert_uint_eq(n, NCOLS);
	ck_integer(img, C_TINY, 1, "-128");
	ck_integer(img, C_UTINY, 1, "255");
	ck_integer(img, C_SHORT, 2, "12345");
	ck_integer(img, C_INT24, 3, "-8388608");
	ck_integer(img, C_INT, 4, "7");
	ck_integer(img, C_UBIG, 8, "18446744073709551615");
	ck_integer(img, C_BIG, 8, "-9223372036854775808");
	ck_integer(img, C_BIT, 2, "1023");

	u = item(img, C_DEC);
	b = branch(&u, DTS_DECIMAL);
	ck_str(&b, "value", "-12.50");
	ck_assert_int_eq(get_long(&b, "precision"), 4);	/* 1250 */
	ck_assert_int_eq(get_long(&b, "scale"), 2);

	u = item(img, C_FLOAT);
	b = branch(&u, DTS_FLOAT);
	u = field(&b, "value");
	ck_assert_int_eq(avro_value_get_double(&u, &d), 0);
	ck_assert(d == 1.5);
	u = item(img, C_DOUBLE);
	b = branch(&u, DTS_FLOAT);
	u = field(&b, "value");
	ck_assert_int_eq(avro_value_get_double(&u, &d), 0);
	ck_assert(d == -2.25e100);

	u = item(img, C_YEAR);
	b = branch(&u, DTS_DATETIME);
	ck_opt(&b, "year", 1, 2024);
	ck_opt(&b, "month", 0, 0);
	ck_opt(&b, "hour", 0, 0);
	ck_opt(&b, "millis", 0, 0);

	u = item(img, C_DATE);
	b = branch(&u, DTS_DATETIME);
	ck_opt(&b, "year", 1, 2024);
	ck_opt(&b, "month", 1, 2);
	ck_opt(&b, "day", 1, 29);
	ck_opt(&b, "hour", 0, 0);
	ck_opt(&b, "minute", 0, 0);
	ck_opt(&b, "second", 0, 0);
	ck_opt(&b, "millis", 0, 0);

	u = item(img, C_TIME);		/* negative: every part negative */
	b = branch(&u, DTS_DATETIME);
	ck_opt(&b, "year", 0, 0);
	ck_opt(&b, "day", 0, 0);
	ck_opt(&b, "hour", 1, -838);
	ck_opt(&b, "minute", 1, -59);
	ck_opt(&b, "second", 1, -58);
	ck_opt(&b, "millis", 1, -500000);	/* microseconds */

	u = item(img, C_DATETIME);
	b = branch(&u, DTS_DATETIME);
	ck_opt(&b, "year", 1, 1999);
	ck_opt(&b, "month", 1, 12);
	ck_opt(&b, "day", 1, 31);
	ck_opt(&b, "hour", 1, 23);
	ck_opt(&b, "minute", 1, 59);
	ck_opt(&b, "second", 1, 59);
	ck_opt(&b, "millis", 1, 123456);

	u = item(img, C_TS);
	b = branch(&u, DTS_TIMESTAMP);
	ck_assert_int_eq(get_long(&b, "timestamp"), 1700000000);
	ck_assert_int_eq(get_long(&b, "millis"), 42);

	u = item(img, C_CHAR);
	b = branch(&u, DTS_CHARACTER);
	ck_str(&b, "charset", "latin1");
	ck_bytes(&b, "value", "h\xe9llo", 5);		/* raw, not UTF-8 */
	u = item(img, C_VARCHAR);
	b = branch(&u, DTS_CHARACTER);
	ck_str(&b, "charset", "utf8mb4");
	ck_bytes(&b, "value", "\xf0\x9f\x98\x80", 4);
	u = item(img, C_BINARY);
	b = branch(&u, DTS_CHARACTER);
	ck_str(&b, "charset", "binary");
	ck_bytes(&b, "value", "ab\0\0", 4);

	u = item(img, C_TEXT);
	b = branch(&u, DTS_BINARY_OBJECT);
	ck_str(&b, "type", "TEXT");
	ck_bytes(&b, "value", "text", 4);
	u = item(img, C_BLOB);
	b = branch(&u, DTS_BINARY_OBJECT);
	ck_str(&b, "type", "BLOB");
	ck_bytes(&b, "value", "\x00\xff", 2);

	u = item(img, C_ENUM);
	b = branch(&u, DTS_TEXT_OBJECT);
	ck_str(&b, "type", "ENUM");
	ck_str(&b, "value", "large");
	u = item(img, C_SET);
	b = branch(&u, DTS_TEXT_OBJECT);
	ck_str(&b, "type", "SET");
	ck_str(&b, "value", "a,c");
	u = item(img, C_JSON);
	b = branch(&u, DTS_TEXT_OBJECT);
	ck_str(&b, "type", "JSON");
	ck_str(&b, "value", "{\"k\": [1, true]}");

	u = item(img, C_GEOM);
	b = branch(&u, DTS_BINARY_GEOMETRY);
	ck_str(&b, "type", "POINT");
	ck_bytes(&b, "value", geo_bytes + 4, sizeof geo_bytes - 4);

	u = item(img, C_NULL);
	branch(&u, DTS_NULL);
	u = item(img, C_ABSENT);
	b = branch(&u, DTS_EMPTY_OBJECT);
	{
		int	 e;

		ck_assert_int_eq(avro_value_get_enum(&b, &e), 0);
		ck_assert_int_eq(e, 1);			/* NONE */
	}
}

static void
ck_common(avro_value_t *rec, int64_t id, int op)
{
	avro_value_t	 v, s;
	int		 e;

	ck_assert_int_eq(get_long(rec, "version"), 0);
	ck_assert_int_eq(get_long(rec, "id"), id);
	ck_assert_int_eq(get_long(rec, "sourceTimestamp"), 1700000001);
	ck_str(rec, "sourcePosition", "4567@78");
	ck_str(rec, "safeSourcePosition", "4000@78");
	ck_str(rec, "sourceTxid", "0");
	v = field(rec, "source");
	s = field(&v, "sourceType");
	ck_assert_int_eq(avro_value_get_enum(&s, &e), 0);
	ck_assert_int_eq(e, 0);				/* MySQL */
	ck_str(&v, "version", "10.11.6-MariaDB-log");
	v = field(rec, "operation");
	ck_assert_int_eq(avro_value_get_enum(&v, &e), 0);
	ck_assert_int_eq(e, op);
	v = field(rec, "processTimestamps");
	branch(&v, 0);
	ck_assert_int_eq(get_long(rec, "bornTimestamp"), 1700000001);
}

static struct dts_record
base_record(int64_t id, enum dts_op op)
{
	static const struct dts_tag	 tags[] = {
		{ "pk_uk_info", "{\"PRIMARY\":[\"int\"]}" },
		{ "metaVersion", "3" },
	};
	struct dts_record		 r;

	memset(&r, 0, sizeof r);
	r.id = id;
	r.source_timestamp = 1700000001;
	r.born_timestamp = 1700000001;
	r.source_position = "4567@78";
	r.safe_source_position = "4000@78";
	r.source_txid = "0";
	r.source_version = "10.11.6-MariaDB-log";
	r.op = op;
	r.tags = tags;
	r.ntags = 2;
	return (r);
}

START_TEST(test_row_operations)
{
	static const int	 ops[] = { DTS_OP_INSERT, DTS_OP_UPDATE,
	    DTS_OP_DELETE, DTS_OP_INIT };
	struct dts_encoder	*enc = dts_encoder_new();
	struct table_def	*t = make_table();
	struct value		 vals[NCOLS];
	struct dts_record	 r;
	struct buf		 b = BUF_INITIALIZER;
	avro_value_t		 rec, v, img, arr, f;
	char			*cause = NULL;
	size_t			 i, n;
	int32_t			 tn;

	make_values(vals);
	for (i = 0; i < 4; i++) {
		r = base_record((int64_t)i + 10, ops[i]);
		r.db = t->db;
		r.table = t->name;
		r.def = t;
		r.before = vals;
		r.after = vals;
		buf_reset(&b);
		ck_assert_msg(dts_encode(enc, &r, &b, &cause) == 0, "%s",
		    cause);
		ck_assert_uint_gt(b.len, 48);
		read_record(&b, &rec);
		ck_common(&rec, (int64_t)i + 10, ops[i]);
		v = field(&rec, "objectName");
		v = branch(&v, 1);
		ck_assert_str_eq(get_string(&v), "shop\\u002Eeu.orders");
		v = field(&rec, "tags");
		ck_assert_int_eq(avro_value_get_size(&v, &n), 0);
		ck_assert_uint_eq(n, 2);
		ck_assert_int_eq(avro_value_get_by_name(&v, "metaVersion", &f,
		    NULL), 0);
		ck_assert_str_eq(get_string(&f), "3");
		v = field(&rec, "fields");
		arr = branch(&v, 2);
		ck_assert_int_eq(avro_value_get_size(&arr, &n), 0);
		ck_assert_uint_eq(n, NCOLS);
		f = item(&arr, C_VARCHAR);
		ck_str(&f, "name", "vc");
		ck_assert_int_eq(avro_value_get_by_name(&f, "dataTypeNumber",
		    &v, NULL), 0);
		ck_assert_int_eq(avro_value_get_int(&v, &tn), 0);
		ck_assert_int_eq(tn, 253);	/* VARCHAR as the protocol says */
		f = item(&arr, C_TS);
		ck_assert_int_eq(avro_value_get_by_name(&f, "dataTypeNumber",
		    &v, NULL), 0);
		ck_assert_int_eq(avro_value_get_int(&v, &tn), 0);
		ck_assert_int_eq(tn, 7);	/* TIMESTAMP2 reported as 7 */
		f = item(&arr, C_ENUM);
		ck_assert_int_eq(avro_value_get_by_name(&f, "dataTypeNumber",
		    &v, NULL), 0);
		ck_assert_int_eq(avro_value_get_int(&v, &tn), 0);
		ck_assert_int_eq(tn, 247);

		v = field(&rec, "beforeImages");
		if (ops[i] == DTS_OP_UPDATE || ops[i] == DTS_OP_DELETE) {
			img = branch(&v, 2);
			ck_image(&img);
		} else
			branch(&v, 0);
		v = field(&rec, "afterImages");
		if (ops[i] != DTS_OP_DELETE) {
			img = branch(&v, 2);
			ck_image(&img);
		} else
			branch(&v, 0);
		avro_value_decref(&rec);
	}
	buf_release(&b);
	table_def_free(t);
	dts_encoder_free(enc);
}
END_TEST

START_TEST(test_other_operations)
{
	static const int	 ops[] = { DTS_OP_DDL, DTS_OP_BEGIN,
	    DTS_OP_COMMIT, DTS_OP_HEARTBEAT };
	struct dts_encoder	*enc = dts_encoder_new();
	struct dts_record	 r;
	struct buf		 b = BUF_INITIALIZER;
	avro_value_t		 rec, v, s;
	char			*cause = NULL;
	size_t			 i;

	for (i = 0; i < 4; i++) {
		r = base_record(100 + (int64_t)i, ops[i]);
		r.ntags = 0;
		if (ops[i] == DTS_OP_DDL) {
			r.db = "shop";
			r.ddl = "ALTER TABLE orders ADD note TEXT";
			r.ddl_len = strlen(r.ddl);
		}
		if (ops[i] == DTS_OP_BEGIN || ops[i] == DTS_OP_COMMIT)
			r.db = "shop";
		buf_reset(&b);
		ck_assert_msg(dts_encode(enc, &r, &b, &cause) == 0, "%s",
		    cause);
		/* short records are padded: DTS readers skip <= 48 bytes */
		ck_assert_uint_gt(b.len, 48);
		read_record(&b, &rec);
		ck_common(&rec, 100 + (int64_t)i, ops[i]);
		v = field(&rec, "fields");
		branch(&v, 0);
		v = field(&rec, "beforeImages");
		branch(&v, 0);
		v = field(&rec, "afterImages");
		if (ops[i] == DTS_OP_DDL) {
			s = branch(&v, 1);
			ck_assert_str_eq(get_string(&s),
			    "ALTER TABLE orders ADD note TEXT");
		} else
			branch(&v, 0);
		v = field(&rec, "objectName");
		s = branch(&v, 1);	/* never null: DTS's fast reader */
		ck_assert_str_eq(get_string(&s), ops[i] == DTS_OP_HEARTBEAT ?
		    "" : "shop");
		avro_value_decref(&rec);
	}
	buf_release(&b);
	dts_encoder_free(enc);
}
END_TEST

/* A 16 MiB LONGBLOB encodes, and reads back byte for byte. */
START_TEST(test_large_value)
{
	struct dts_encoder	*enc = dts_encoder_new();
	struct table_def	*t = make_table();
	struct value		 vals[NCOLS];
	struct dts_record	 r;
	struct buf		 b = BUF_INITIALIZER;
	avro_value_t		 rec, v, img, u, bo, val;
	uint8_t			*big;
	const void		*p;
	char			*cause = NULL;
	size_t			 n, i, len = 16u << 20;

	big = xmalloc(len);
	for (i = 0; i < len; i++)
		big[i] = (uint8_t)(i * 31 + 7);
	make_values(vals);
	vals[C_BLOB].bytes.p = big;
	vals[C_BLOB].bytes.len = len;
	r = base_record(1, DTS_OP_INSERT);
	r.db = "d";
	r.table = "t";
	r.def = t;
	r.after = vals;
	ck_assert_msg(dts_encode(enc, &r, &b, &cause) == 0, "%s", cause);
	ck_assert_uint_gt(b.len, len);
	read_record(&b, &rec);
	v = field(&rec, "afterImages");
	img = branch(&v, 2);
	u = item(&img, C_BLOB);
	bo = branch(&u, DTS_BINARY_OBJECT);
	val = field(&bo, "value");
	ck_assert_int_eq(avro_value_get_bytes(&val, &p, &n), 0);
	ck_assert_uint_eq(n, len);
	ck_assert_mem_eq(p, big, len);
	avro_value_decref(&rec);
	free(big);
	buf_release(&b);
	table_def_free(t);
	dts_encoder_free(enc);
}
END_TEST

START_TEST(test_decimal_precision)
{
	int	 p, s;

	/* as java.math.BigDecimal counts them */
	ck_assert_int_eq(dts_decimal_precision("348.00", &p, &s), 0);
	ck_assert_int_eq(p, 5);
	ck_assert_int_eq(s, 2);
	ck_assert_int_eq(dts_decimal_precision("0.10000", &p, &s), 0);
	ck_assert_int_eq(p, 5);
	ck_assert_int_eq(s, 5);
	ck_assert_int_eq(dts_decimal_precision("0.00", &p, &s), 0);
	ck_assert_int_eq(p, 1);
	ck_assert_int_eq(s, 2);
	ck_assert_int_eq(dts_decimal_precision("-1050.00", &p, &s), 0);
	ck_assert_int_eq(p, 6);
	ck_assert_int_eq(s, 2);
	ck_assert_int_eq(dts_decimal_precision("12", &p, &s), 0);
	ck_assert_int_eq(p, 2);
	ck_assert_int_eq(s, 0);
	ck_assert_int_eq(dts_decimal_precision("1e5", &p, &s), -1);
}
END_TEST

START_TEST(test_partial_json_without_before)
{
	struct dts_encoder	*enc = dts_encoder_new();
	struct table_def	*t = make_table();
	struct value		 vals[NCOLS];
	struct dts_record	 r;
	struct buf		 b = BUF_INITIALIZER;
	char			*cause = NULL;

	make_values(vals);
	vals[C_JSON].kind = VALUE_JSON_DIFF;
	r = base_record(1, DTS_OP_INSERT);
	r.db = "d";
	r.table = "t";
	r.def = t;
	r.after = vals;
	ck_assert_int_eq(dts_encode(enc, &r, &b, &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "binlog_row_value_options"));
	ck_assert_uint_eq(b.len, 0);
	free(cause);
	buf_release(&b);
	table_def_free(t);
	dts_encoder_free(enc);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("dts_avro");
	TCase	*tc = tcase_create("dts_avro");

	load_schema();
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_row_operations);
	tcase_add_test(tc, test_other_operations);
	tcase_add_test(tc, test_large_value);
	tcase_add_test(tc, test_decimal_precision);
	tcase_add_test(tc, test_partial_json_without_before);
	suite_add_tcase(s, tc);
	return (testutil_run(s));
}
