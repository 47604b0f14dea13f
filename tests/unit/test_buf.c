/*
 * common/buf.c: growth, the NUL invariant, reuse, detach, printf of every
 * size, and overflow as a fatal bug rather than a wrap-around; and
 * util_fmt_i64 (the hot paths' number printing) against snprintf, and
 * util_parse_double (the snapshot's DOUBLE parsing) against strtod.
 */
#include "config.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/util.h"
#include "tests/lib/testutil.h"

START_TEST(test_empty)
{
	struct buf	 b = BUF_INITIALIZER;

	ck_assert_uint_eq(b.len, 0);
	ck_assert_str_eq(buf_str(&b), "");
	ck_assert_ptr_nonnull(b.data);
	buf_release(&b);
	ck_assert_ptr_null(b.data);
	buf_release(&b);	/* twice is harmless */
}
END_TEST

START_TEST(test_growth)
{
	struct buf	 b;
	size_t		 i, reallocs = 0, cap = 0;

	buf_init(&b);
	/* 1 MiB one byte at a time: contents exact, growth geometric. */
	for (i = 0; i < 1 << 20; i++) {
		buf_addc(&b, (unsigned char)(i * 7));
		if (b.cap != cap) {
			reallocs++;
			cap = b.cap;
		}
		ck_assert(b.cap > b.len);
	}
	ck_assert_uint_eq(b.len, 1 << 20);
	for (i = 0; i < b.len; i++)
		ck_assert_uint_eq(b.data[i], (unsigned char)(i * 7));
	ck_assert_uint_eq(b.data[b.len], 0);
	ck_assert_uint_le(reallocs, 20);
	buf_release(&b);
}
END_TEST

START_TEST(test_large_add)
{
	struct buf	 b = BUF_INITIALIZER;
	unsigned char	*big;
	size_t		 n = 16u << 20;

	/* One 16 MiB append (a LONGBLOB-sized value) in a single growth. */
	big = malloc(n);
	ck_assert_ptr_nonnull(big);
	memset(big, 0xab, n);
	buf_adds(&b, "head");
	buf_add(&b, big, n);
	ck_assert_uint_eq(b.len, n + 4);
	ck_assert_mem_eq(b.data, "head", 4);
	ck_assert_uint_eq(b.data[4], 0xab);
	ck_assert_uint_eq(b.data[n + 3], 0xab);
	ck_assert_uint_eq(b.data[n + 4], 0);
	free(big);
	buf_release(&b);
}
END_TEST

START_TEST(test_reset_keeps_memory)
{
	struct buf	 b = BUF_INITIALIZER;
	unsigned char	*data;
	size_t		 cap;

	buf_printf(&b, "%0*d", 1000, 7);
	data = b.data;
	cap = b.cap;
	buf_reset(&b);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_str_eq(buf_str(&b), "");
	buf_printf(&b, "%0*d", 900, 8);
	ck_assert_ptr_eq(b.data, data);
	ck_assert_uint_eq(b.cap, cap);
	buf_release(&b);
}
END_TEST

START_TEST(test_printf)
{
	struct buf	 b = BUF_INITIALIZER;
	char		 expect[5000];

	buf_printf(&b, "%s=%d", "x", 42);
	ck_assert_str_eq(buf_str(&b), "x=42");
	/* Longer than the first try's room: formatted again after growth. */
	memset(expect, 'z', 4999);
	expect[4999] = '\0';
	buf_printf(&b, "/%s", expect);
	ck_assert_uint_eq(b.len, 5 + 4999);
	ck_assert_mem_eq(b.data, "x=42/", 5);
	ck_assert_str_eq((char *)b.data + 5, expect);
	buf_release(&b);
}
END_TEST

START_TEST(test_truncate_detach)
{
	struct buf	 b = BUF_INITIALIZER;
	char		*s;
	size_t		 len;

	buf_adds(&b, "hello, world");
	buf_truncate(&b, 5);
	ck_assert_str_eq(buf_str(&b), "hello");
	s = buf_detach(&b, &len);
	ck_assert_uint_eq(len, 5);
	ck_assert_str_eq(s, "hello");
	ck_assert_ptr_null(b.data);
	ck_assert_uint_eq(b.len, 0);
	free(s);
	s = buf_detach(&b, &len);	/* empty: "", not NULL */
	ck_assert_str_eq(s, "");
	ck_assert_uint_eq(len, 0);
	free(s);
}
END_TEST

START_TEST(test_binary)
{
	struct buf	 b = BUF_INITIALIZER;
	const unsigned char bytes[] = { 0, 1, 0, 255, 0 };

	buf_add(&b, bytes, sizeof bytes);
	buf_add(&b, NULL, 0);
	ck_assert_uint_eq(b.len, sizeof bytes);
	ck_assert_mem_eq(b.data, bytes, sizeof bytes);
	buf_release(&b);
}
END_TEST

/* A size that cannot be represented is a bug: the process ends, exit 1. */
START_TEST(test_overflow_is_fatal)
{
	struct buf	 b = BUF_INITIALIZER;

	buf_adds(&b, "x");
	buf_reserve(&b, SIZE_MAX - 1);
	ck_abort_msg("buf_reserve(SIZE_MAX - 1) returned");
}
END_TEST

START_TEST(test_truncate_beyond_is_fatal)
{
	struct buf	 b = BUF_INITIALIZER;

	buf_adds(&b, "abc");
	buf_truncate(&b, 4);
	ck_abort_msg("buf_truncate beyond the end returned");
}
END_TEST

START_TEST(test_fmt_i64)
{
	static const int64_t	 edge[] = { 0, 1, -1, 9, 10, -10, 99, 100,
	    INT32_MAX, INT32_MIN, INT64_MAX, INT64_MIN, INT64_MIN + 1 };
	char			 got[24], want[24];
	uint64_t		 x = 0x9e3779b97f4a7c15ULL;
	size_t			 i, len;
	int64_t			 v;

	for (i = 0; i < sizeof edge / sizeof edge[0] + 100000; i++) {
		if (i < sizeof edge / sizeof edge[0])
			v = edge[i];
		else {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			/* every magnitude: shift a random word down */
			v = (int64_t)(x >> (x % 64));
		}
		memset(got, 'x', sizeof got);
		len = util_fmt_i64(got, v);
		snprintf(want, sizeof want, "%" PRId64, v);
		ck_assert_str_eq(got, want);
		ck_assert_uint_eq(len, strlen(want));
	}
}
END_TEST

/* util_parse_double(s) is strtod(s), to the bit, and fails where strtod
 * does not take all of s. */
static void
ck_double(const char *s)
{
	char	*end;
	double	 want, got = 42;
	int	 rc, ok;

	want = strtod(s, &end);
	ok = *s != '\0' && *end == '\0';
	rc = util_parse_double(s, strlen(s), &got);
	ck_assert_msg(rc == (ok ? 0 : -1), "'%s': returned %d", s, rc);
	if (ok)
		ck_assert_msg(memcmp(&got, &want, sizeof got) == 0,
		    "'%s': %.17g, strtod %.17g", s, got, want);
}

static uint64_t
next(uint64_t *x)
{
	*x = *x * 6364136223846793005ULL + 1442695040888963407ULL;
	return (*x >> 33);
}

START_TEST(test_parse_double)
{
	static const char *const edges[] = {
		"0", "-0", "0.0", "-0.000", "00012", "1", "-1", "0.1",
		"0.142857142", "123.456", "1e22", "1e23", "-1e-22", "1e-23",
		"123456789012345", "1234567890123456", "9007199254740993",
		"12345678901234567890123", "0.1234567890123456789012",
		"1.7976931348623157e308", "1.7976931348623159e308", "-2.2e-300",
		"4.9e-324", "2.4703282292062328e-324", "1e-400", "1e400",
		"0.000001", "100", "1E5", "1e+5", "1e-0", ".5", "5.", "+3",
		"1e", "1e+", "e5", "abc", "", "-", ".", "1.2.3", "12x", " 1",
		"inf", "-inf", "nan", "0x10", "1e99999999999999999999",
		"3.4028235e38", "1.17549435e-38", "0.30000000000000004",
	};
	char		 s[64];
	uint64_t	 x = 0x9e3779b97f4a7c15ULL;
	size_t		 i, n, k, point;
	int		 r;

	for (i = 0; i < sizeof edges / sizeof edges[0]; i++)
		ck_double(edges[i]);
	/* Random decimals: 1 to 20 digits, a point anywhere or none, an
	 * exponent or none: both the exact path and strtod's. */
	for (r = 0; r < 1000000; r++) {
		n = 0;
		if (next(&x) & 1)
			s[n++] = '-';
		k = 1 + next(&x) % 20;
		point = next(&x) % (k + 1);	/* k: none */
		for (i = 0; i < k; i++) {
			if (i == point)
				s[n++] = '.';
			s[n++] = (char)('0' + next(&x) % 10);
		}
		if (next(&x) % 3 == 0)
			n += (size_t)snprintf(s + n, sizeof s - n, "e%d",
			    (int)(next(&x) % 61) - 30);
		s[n] = '\0';
		ck_double(s);
	}
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("buf");
	TCase	*tc = tcase_create("buf");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_empty);
	tcase_add_test(tc, test_growth);
	tcase_add_test(tc, test_large_add);
	tcase_add_test(tc, test_reset_keeps_memory);
	tcase_add_test(tc, test_printf);
	tcase_add_test(tc, test_truncate_detach);
	tcase_add_test(tc, test_binary);
	tcase_add_test(tc, test_fmt_i64);
	tcase_add_test(tc, test_parse_double);
	tcase_add_exit_test(tc, test_overflow_is_fatal, 1);
	tcase_add_exit_test(tc, test_truncate_beyond_is_fatal, 1);
	suite_add_tcase(s, tc);
	return (testutil_run(s));
}
