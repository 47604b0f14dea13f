/*
 * bench_encode: DTS Avro encoding throughput, ferry's hand-written encoder
 * beside avro-c's generic value API writing the same records.
 *
 *	bench_encode [-n RECORDS]
 *
 * Two records: the narrow one of bench/workload.sql (8 columns) and a wide
 * one (32 columns of every type).  For each: records per second of CPU for
 * ferry and for avro-c, and the allocations ferry makes per record once
 * warm (counted by wrapping malloc).  The two encodings are compared byte
 * for byte first, so the comparison is of equal work.
 */
#include "config.h"

#include <avro.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "schema/coltype.h"
#include "schema/dts_avro.h"
#include "schema/table.h"
#include "schema/value.h"

/* Count allocations: every malloc-family call goes through these. */
extern void	*__libc_malloc(size_t);
extern void	*__libc_calloc(size_t, size_t);
extern void	*__libc_realloc(void *, size_t);
static uint64_t	 nalloc;

void	*malloc(size_t);
void	*calloc(size_t, size_t);
void	*realloc(void *, size_t);

void *
malloc(size_t n)
{
	nalloc++;
	return (__libc_malloc(n));
}

void *
calloc(size_t a, size_t b)
{
	nalloc++;
	return (__libc_calloc(a, b));
}

void *
realloc(void *p, size_t n)
{
	nalloc++;
	return (__libc_realloc(p, n));
}

static double
cpu_now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

struct spec {
	const char	*name;
	uint8_t		 type;
	uint8_t		 meta[2];
	uint32_t	 collation;
};

/* DECIMAL(10,2) 1234.56 */
static const uint8_t dec10_2[] = { 0x80, 0x00, 0x04, 0xd2, 0x38 };

static struct table_def *
make_table(const struct spec *s, uint32_t n)
{
	struct table_def	*t = table_def_new(n);
	char			*cause = NULL;
	uint32_t		 i;

	t->db = xstrdup("ferry_bench");
	t->name = xstrdup(n > 8 ? "wide" : "narrow");
	for (i = 0; i < n; i++) {
		if (table_column_init(&t->cols[i], s[i].type, s[i].meta,
		    &cause) != 0) {
			fprintf(stderr, "%s\n", cause);
			exit(1);
		}
		t->cols[i].name = xstrdup(s[i].name);
		t->cols[i].collation = s[i].collation;
	}
	t->pk = xcalloc(1, sizeof *t->pk);
	t->npk = 1;
	return (t);
}

static void
set_value(struct value *v, const struct column *c, int i)
{
	static const char	*str = "name-123456 some text";

	memset(v, 0, sizeof *v);
	switch (c->type) {
	case COLTYPE_TINY: case COLTYPE_SHORT: case COLTYPE_INT24:
	case COLTYPE_LONG: case COLTYPE_LONGLONG:
		v->kind = VALUE_INT;
		v->i = 1000003LL * (i + 1);
		break;
	case COLTYPE_NEWDECIMAL:
		v->kind = VALUE_DECIMAL;
		v->bytes.p = dec10_2;
		v->bytes.len = sizeof dec10_2;
		break;
	case COLTYPE_FLOAT:
		v->kind = VALUE_FLOAT;
		v->f = 1.5f;
		break;
	case COLTYPE_DOUBLE:
		v->kind = VALUE_DOUBLE;
		v->d = 12345.678;
		break;
	case COLTYPE_DATETIME2:
		v->kind = VALUE_DATETIME;
		v->t.year = 2024; v->t.month = 2; v->t.day = 29;
		v->t.hour = 13; v->t.minute = 5; v->t.second = 9;
		break;
	case COLTYPE_DATE:
		v->kind = VALUE_DATE;
		v->t.year = 2024; v->t.month = 2; v->t.day = 29;
		break;
	case COLTYPE_TIME2:
		v->kind = VALUE_TIME;
		v->t.hour = 12; v->t.minute = 34; v->t.second = 56;
		break;
	case COLTYPE_TIMESTAMP2:
		v->kind = VALUE_TIMESTAMP;
		v->ts.sec = 1700000000;
		v->ts.usec = 123456;
		break;
	case COLTYPE_YEAR:
		v->kind = VALUE_INT;
		v->i = 2024;
		break;
	case COLTYPE_ENUM:
		v->kind = VALUE_ENUM;
		v->u = 1;
		break;
	case COLTYPE_SET:
		v->kind = VALUE_SET;
		v->u = 3;
		break;
	case COLTYPE_BIT:
		v->kind = VALUE_BIT;
		v->u = 5;
		break;
	default:
		v->kind = VALUE_STRING;
		v->bytes.p = (const uint8_t *)str;
		v->bytes.len = 11 + (size_t)(i % 10);
		break;
	}
}

static const struct dts_tag tags[] = {
	{ "pk_uk_info", "{\"PRIMARY\":[\"id\"]}" },
	{ "metaVersion", "1" },
	{ "server_id", "1" },
	{ "readerThroughoutTime", "1700000000123" },
};

static void
fill_record(struct dts_record *r, const struct table_def *t,
    const struct value *vals)
{
	memset(r, 0, sizeof *r);
	r->id = 1;
	r->source_timestamp = r->born_timestamp = 1700000000;
	r->source_position = "123456@78";
	r->safe_source_position = "123000@78";
	r->source_txid = "0";
	r->source_version = "10.11.6-MariaDB-log";
	r->op = DTS_OP_INSERT;
	r->db = t->db;
	r->table = t->name;
	r->tags = tags;
	r->ntags = 4;
	r->def = t;
	r->after = vals;
}

/* The same record through avro-c's generic values. */
static int
avroc_record(avro_value_t *rec, const struct dts_record *r,
    const struct table_def *t, struct dts_encoder *enc)
{
	avro_value_t	 f, b, arr, el, u, br;
	struct buf	 tmp = BUF_INITIALIZER;
	char		*cause = NULL, name[64];
	uint32_t	 i;
	size_t		 k;
	int		 prec, scale;

	avro_value_reset(rec);
	avro_value_get_by_name(rec, "version", &f, NULL);
	avro_value_set_int(&f, 0);
	avro_value_get_by_name(rec, "id", &f, NULL);
	avro_value_set_long(&f, r->id);
	avro_value_get_by_name(rec, "sourceTimestamp", &f, NULL);
	avro_value_set_long(&f, r->source_timestamp);
	avro_value_get_by_name(rec, "sourcePosition", &f, NULL);
	avro_value_set_string(&f, r->source_position);
	avro_value_get_by_name(rec, "safeSourcePosition", &f, NULL);
	avro_value_set_string(&f, r->safe_source_position);
	avro_value_get_by_name(rec, "sourceTxid", &f, NULL);
	avro_value_set_string(&f, r->source_txid);
	avro_value_get_by_name(rec, "source", &f, NULL);
	avro_value_get_by_name(&f, "sourceType", &b, NULL);
	avro_value_set_enum(&b, 0);
	avro_value_get_by_name(&f, "version", &b, NULL);
	avro_value_set_string(&b, r->source_version);
	avro_value_get_by_name(rec, "operation", &f, NULL);
	avro_value_set_enum(&f, r->op);
	avro_value_get_by_name(rec, "objectName", &f, NULL);
	avro_value_set_branch(&f, 1, &b);
	snprintf(name, sizeof name, "%s.%s", t->db, t->name);
	avro_value_set_string(&b, name);
	avro_value_get_by_name(rec, "processTimestamps", &f, NULL);
	avro_value_set_branch(&f, 0, &b);
	avro_value_set_null(&b);
	avro_value_get_by_name(rec, "tags", &f, NULL);
	for (k = 0; k < r->ntags; k++) {
		avro_value_add(&f, r->tags[k].key, &b, NULL, NULL);
		avro_value_set_string(&b, r->tags[k].value);
	}
	avro_value_get_by_name(rec, "fields", &f, NULL);
	avro_value_set_branch(&f, 2, &arr);
	for (i = 0; i < t->ncols; i++) {
		avro_value_append(&arr, &el, NULL);
		avro_value_get_by_name(&el, "name", &b, NULL);
		avro_value_set_string(&b, t->cols[i].name);
		avro_value_get_by_name(&el, "dataTypeNumber", &b, NULL);
		avro_value_set_int(&b, dts_type_number(&t->cols[i]));
	}
	avro_value_get_by_name(rec, "beforeImages", &f, NULL);
	avro_value_set_branch(&f, 0, &b);
	avro_value_set_null(&b);
	avro_value_get_by_name(rec, "afterImages", &f, NULL);
	avro_value_set_branch(&f, 2, &arr);
	for (i = 0; i < t->ncols; i++) {
		const struct column	*c = &t->cols[i];
		const struct value	*v = &r->after[i];

		avro_value_append(&arr, &u, NULL);
		buf_reset(&tmp);
		switch (v->kind) {
		case VALUE_INT:
			if (c->type == COLTYPE_YEAR) {
				static const char *rest[] = { "month", "day",
				    "hour", "minute", "second", "millis" };
				int	 q;

				avro_value_set_branch(&u, DTS_DATETIME, &br);
				avro_value_get_by_name(&br, "year", &b, NULL);
				avro_value_set_branch(&b, 1, &el);
				avro_value_set_int(&el, (int32_t)v->i);
				for (q = 0; q < 6; q++) {
					avro_value_get_by_name(&br, rest[q], &b,
					    NULL);
					avro_value_set_branch(&b, 0, &el);
					avro_value_set_null(&el);
				}
				break;
			}
			avro_value_set_branch(&u, DTS_INTEGER, &br);
			avro_value_get_by_name(&br, "precision", &b, NULL);
			avro_value_set_int(&b, c->type == COLTYPE_LONGLONG ? 8 :
			    c->type == COLTYPE_LONG ? 4 : c->type ==
			    COLTYPE_INT24 ? 3 : c->type == COLTYPE_SHORT ? 2 :
			    1);
			buf_printf(&tmp, "%" PRId64, v->i);
			avro_value_get_by_name(&br, "value", &b, NULL);
			avro_value_set_string(&b, buf_str(&tmp));
			break;
		case VALUE_BIT:
		case VALUE_UINT:
			avro_value_set_branch(&u, DTS_INTEGER, &br);
			avro_value_get_by_name(&br, "precision", &b, NULL);
			avro_value_set_int(&b, (int)(c->length + 7) / 8);
			buf_printf(&tmp, "%" PRIu64, v->u);
			avro_value_get_by_name(&br, "value", &b, NULL);
			avro_value_set_string(&b, buf_str(&tmp));
			break;
		case VALUE_DECIMAL:
			value_decimal_text(v->bytes.p, v->bytes.len,
			    c->precision, c->scale, &tmp, &cause);
			dts_decimal_precision(buf_str(&tmp), &prec, &scale);
			avro_value_set_branch(&u, DTS_DECIMAL, &br);
			avro_value_get_by_name(&br, "value", &b, NULL);
			avro_value_set_string(&b, buf_str(&tmp));
			avro_value_get_by_name(&br, "precision", &b, NULL);
			avro_value_set_int(&b, prec);
			avro_value_get_by_name(&br, "scale", &b, NULL);
			avro_value_set_int(&b, scale);
			break;
		case VALUE_FLOAT:
		case VALUE_DOUBLE:
			avro_value_set_branch(&u, DTS_FLOAT, &br);
			avro_value_get_by_name(&br, "value", &b, NULL);
			avro_value_set_double(&b, v->kind == VALUE_FLOAT ?
			    (double)v->f : v->d);
			avro_value_get_by_name(&br, "precision", &b, NULL);
			avro_value_set_int(&b, 0);
			avro_value_get_by_name(&br, "scale", &b, NULL);
			avro_value_set_int(&b, 0);
			break;
		case VALUE_TIMESTAMP:
			avro_value_set_branch(&u, DTS_TIMESTAMP, &br);
			avro_value_get_by_name(&br, "timestamp", &b, NULL);
			avro_value_set_long(&b, v->ts.sec);
			avro_value_get_by_name(&br, "millis", &b, NULL);
			avro_value_set_int(&b, (int32_t)v->ts.usec);
			break;
		case VALUE_DATE:
		case VALUE_TIME:
		case VALUE_DATETIME: {
			static const char *parts[] = { "year", "month", "day",
			    "hour", "minute", "second", "millis" };
			int32_t	 pv[7] = { v->t.year, v->t.month, v->t.day,
			    (int32_t)v->t.hour, v->t.minute, v->t.second,
			    (int32_t)v->t.usec };
			int	 p;

			avro_value_set_branch(&u, DTS_DATETIME, &br);
			for (p = 0; p < 7; p++) {
				int	 have = (p < 3 && v->kind != VALUE_TIME) ||
				    (p >= 3 && v->kind != VALUE_DATE);

				avro_value_get_by_name(&br, parts[p], &b, NULL);
				avro_value_set_branch(&b, have ? 1 : 0, &el);
				if (have)
					avro_value_set_int(&el, pv[p]);
				else
					avro_value_set_null(&el);
			}
			break;
		}
		case VALUE_ENUM:
		case VALUE_SET:
			avro_value_set_branch(&u, DTS_TEXT_OBJECT, &br);
			avro_value_get_by_name(&br, "type", &b, NULL);
			avro_value_set_string(&b, v->kind == VALUE_ENUM ?
			    "ENUM" : "SET");
			buf_printf(&tmp, "%" PRIu64, v->u);
			avro_value_get_by_name(&br, "value", &b, NULL);
			avro_value_set_string(&b, buf_str(&tmp));
			break;
		default:
			if (coltype_is_blob(c->type)) {
				avro_value_set_branch(&u, DTS_BINARY_OBJECT,
				    &br);
				avro_value_get_by_name(&br, "type", &b, NULL);
				avro_value_set_string(&b, "TEXT");
			} else {
				avro_value_set_branch(&u, DTS_CHARACTER, &br);
				avro_value_get_by_name(&br, "charset", &b,
				    NULL);
				avro_value_set_string(&b, "utf8mb4");
			}
			avro_value_get_by_name(&br, "value", &b, NULL);
			avro_value_set_bytes(&b, (void *)(uintptr_t)v->bytes.p,
			    v->bytes.len);
			break;
		}
	}
	avro_value_get_by_name(rec, "bornTimestamp", &f, NULL);
	avro_value_set_long(&f, r->born_timestamp);
	buf_release(&tmp);
	(void)enc;
	return (0);
}

static void
bench(const char *label, const struct spec *s, uint32_t ncols, long n,
    avro_value_iface_t *iface)
{
	struct table_def	*t = make_table(s, ncols);
	struct value		*vals = xcalloc(ncols, sizeof *vals);
	struct dts_encoder	*enc = dts_encoder_new();
	struct dts_record	 r;
	struct buf		 out = BUF_INITIALIZER;
	avro_value_t		 rec;
	avro_writer_t		 w;
	char			*cause = NULL, wbuf[1 << 16];
	uint64_t		 a0;
	double			 c0, ferry_s, avroc_s;
	long			 i;
	uint32_t		 k;

	for (k = 0; k < ncols; k++)
		set_value(&vals[k], &t->cols[k], (int)k);
	/* For avro-c's sake, ENUM and SET as numbers: no labels here. */
	fill_record(&r, t, vals);

	/* the same bytes from both */
	avro_generic_value_new(iface, &rec);
	avroc_record(&rec, &r, t, enc);
	w = avro_writer_memory(wbuf, sizeof wbuf);
	if (avro_value_write(w, &rec) != 0) {
		fprintf(stderr, "avro-c: %s\n", avro_strerror());
		exit(1);
	}
	if (dts_encode(enc, &r, &out, &cause) != 0) {
		fprintf(stderr, "%s\n", cause);
		exit(1);
	}
	if ((size_t)avro_writer_tell(w) != out.len ||
	    memcmp(wbuf, out.data, out.len) != 0) {
		fprintf(stderr, "%s: ferry and avro-c disagree (%zu vs %lld "
		    "bytes)\n", label, out.len, (long long)avro_writer_tell(w));
		exit(1);
	}

	c0 = cpu_now();
	a0 = nalloc;
	for (i = 0; i < n; i++) {
		buf_reset(&out);
		r.id = i;
		dts_encode(enc, &r, &out, &cause);
	}
	ferry_s = cpu_now() - c0;
	printf("%-7s ferry:  %zu bytes, %.0f records/s per core, %.3f us "
	    "each, %.2f allocations per record\n", label, out.len,
	    (double)n / ferry_s, ferry_s / (double)n * 1e6,
	    (double)(nalloc - a0) / (double)n);

	c0 = cpu_now();
	for (i = 0; i < n / 10; i++) {
		r.id = i;
		avroc_record(&rec, &r, t, enc);
		avro_writer_reset(w);
		avro_value_write(w, &rec);
	}
	avroc_s = cpu_now() - c0;
	printf("%-7s avro-c: %.0f records/s per core, %.3f us each "
	    "(ferry is %.1fx faster)\n", label, (double)(n / 10) / avroc_s,
	    avroc_s / (double)(n / 10) * 1e6,
	    (avroc_s / (double)(n / 10)) / (ferry_s / (double)n));
	avro_value_decref(&rec);
	avro_writer_free(w);
	buf_release(&out);
	dts_encoder_free(enc);
	free(vals);
	table_def_free(t);
}

int
main(int argc, char **argv)
{
	static const struct spec narrow[] = {
		{ "id", COLTYPE_LONG, { 0 }, 0 },
		{ "b", COLTYPE_LONGLONG, { 0 }, 0 },
		{ "s1", COLTYPE_VARCHAR, { 128, 0 }, 45 },
		{ "s2", COLTYPE_VARCHAR, { 128, 0 }, 45 },
		{ "dt", COLTYPE_DATETIME2, { 0 }, 0 },
		{ "d", COLTYPE_NEWDECIMAL, { 10, 2 }, 0 },
		{ "f", COLTYPE_DOUBLE, { 8 }, 0 },
		{ "t", COLTYPE_TINY, { 0 }, 0 },
	};
	static const struct spec wide[] = {
		{ "id", COLTYPE_LONG, { 0 }, 0 },
		{ "c01", COLTYPE_TINY, { 0 }, 0 },
		{ "c02", COLTYPE_SHORT, { 0 }, 0 },
		{ "c03", COLTYPE_INT24, { 0 }, 0 },
		{ "c04", COLTYPE_LONG, { 0 }, 0 },
		{ "c05", COLTYPE_LONGLONG, { 0 }, 0 },
		{ "c06", COLTYPE_NEWDECIMAL, { 10, 2 }, 0 },
		{ "c07", COLTYPE_NEWDECIMAL, { 10, 2 }, 0 },
		{ "c08", COLTYPE_FLOAT, { 4 }, 0 },
		{ "c09", COLTYPE_DOUBLE, { 8 }, 0 },
		{ "c10", COLTYPE_BIT, { 4, 1 }, 0 },
		{ "c11", COLTYPE_YEAR, { 0 }, 0 },
		{ "c12", COLTYPE_DATE, { 0 }, 0 },
		{ "c13", COLTYPE_TIME2, { 3 }, 0 },
		{ "c14", COLTYPE_DATETIME2, { 6 }, 0 },
		{ "c15", COLTYPE_TIMESTAMP2, { 6 }, 0 },
		{ "c16", COLTYPE_STRING, { COLTYPE_STRING, 80 }, 45 },
		{ "c17", COLTYPE_VARCHAR, { 144, 1 }, 45 },
		{ "c18", COLTYPE_VARCHAR, { 255, 0 }, 45 },
		{ "c19", COLTYPE_BLOB, { 2 }, 45 },
		{ "c20", COLTYPE_BLOB, { 2 }, 45 },
		{ "c21", COLTYPE_STRING, { COLTYPE_STRING, 16 }, 45 },
		{ "c22", COLTYPE_VARCHAR, { 64, 0 }, 45 },
		{ "c23", COLTYPE_STRING, { COLTYPE_ENUM, 1 }, 45 },
		{ "c24", COLTYPE_STRING, { COLTYPE_SET, 1 }, 45 },
		{ "c25", COLTYPE_BLOB, { 1 }, 45 },
		{ "c26", COLTYPE_BLOB, { 3 }, 45 },
		{ "c27", COLTYPE_BLOB, { 4 }, 45 },
		{ "c28", COLTYPE_DATETIME2, { 0 }, 0 },
		{ "c29", COLTYPE_TIME2, { 0 }, 0 },
		{ "c30", COLTYPE_NEWDECIMAL, { 10, 2 }, 0 },
		{ "c31", COLTYPE_VARCHAR, { 240, 0 }, 45 },
	};
	struct buf		 b = BUF_INITIALIZER;
	avro_schema_t		 schema;
	avro_value_iface_t	*iface;
	char			*cause = NULL;
	const char		*shared = getenv("FERRY_SHARED");
	char			 path[4096];
	long			 n = 2000000;
	int			 ch;

	while ((ch = getopt(argc, argv, "n:")) != -1) {
		if (ch == 'n')
			n = atol(optarg);
	}
	snprintf(path, sizeof path, "%s/reference/dts-avro/derived/"
	    "Record.standalone.avsc", shared != NULL ? shared : "../shared");
	if (util_read_file(path, 1 << 20, &b, &cause) != 0) {
		fprintf(stderr, "bench_encode: %s (set FERRY_SHARED)\n", cause);
		return (1);
	}
	if (avro_schema_from_json_length((const char *)b.data, b.len,
	    &schema) != 0) {
		fprintf(stderr, "%s\n", avro_strerror());
		return (1);
	}
	iface = avro_generic_class_from_schema(schema);
	bench("narrow", narrow, 8, n, iface);
	bench("wide", wide, 32, n / 4, iface);
	return (0);
}
