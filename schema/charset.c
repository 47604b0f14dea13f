/*
 * Character sets.
 *
 * charset_by_id() searches the generated table (charset_table.c).  The UCA
 * 14.0 collations of MariaDB 11 (ids 2048-3327) follow one rule, a block of
 * 256 ids per character set, so ids beyond the table in that range are
 * resolved by the rule.
 *
 * Conversion: UTF-8 (utf8mb3, utf8mb4) and ASCII are validated and copied;
 * latin1, which in MySQL is Windows-1252 with the five undefined bytes kept
 * as C1 controls, goes through a table; everything else through iconv(3).
 * Bytes that do not convert become U+FFFD, so the output is always valid
 * UTF-8 and a reader can tell that something was replaced.
 */
#include "config.h"

#include <errno.h>
#include <iconv.h>
#include <pthread.h>
#include <string.h>
#include <strings.h>

#include "common/buf.h"
#include "common/util.h"
#include "schema/charset.h"

static const char	 charset_replacement[] = "\xef\xbf\xbd";	/* U+FFFD */

/* ids below this are looked up in a direct table, built once */
#define CHARSET_DIRECT	4096
static const struct charset_collation	*charset_direct[CHARSET_DIRECT];
static pthread_once_t			 charset_once = PTHREAD_ONCE_INIT;

static const struct charset_collation *charset_search(unsigned int);

static void
charset_build(void)
{
	unsigned int	 i;

	for (i = 0; i < CHARSET_DIRECT; i++)
		charset_direct[i] = charset_search(i);
}

/* The collation id, or NULL when unknown. */
const struct charset_collation *
charset_by_id(unsigned int id)
{
	if (id < CHARSET_DIRECT) {
		pthread_once(&charset_once, charset_build);
		return (charset_direct[id]);
	}
	return (charset_search(id));
}

static const struct charset_collation *
charset_search(unsigned int id)
{
	static const struct {
		unsigned int	 base;
		const char	*charset;
		unsigned int	 maxlen;
	} uca1400[] = {
		{ 2048, "utf8mb3", 3 }, { 2304, "utf8mb4", 4 },
		{ 2560, "ucs2", 2 }, { 2816, "utf16", 4 }, { 3072, "utf32", 4 },
	};
	static struct charset_collation	 rule[nitems(uca1400)];
	unsigned int			 lo = 0, hi = charset_ncollations, mid;
	size_t				 i;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (charset_collations[mid].id == id)
			return (&charset_collations[mid]);
		if (charset_collations[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (i = 0; i < nitems(uca1400); i++) {
		if (id >= uca1400[i].base && id < uca1400[i].base + 256) {
			rule[i].id = uca1400[i].base;
			rule[i].collation = "";
			rule[i].charset = uca1400[i].charset;
			rule[i].maxlen = uca1400[i].maxlen;
			return (&rule[i]);
		}
	}
	return (NULL);
}

/* The character set's name, or NULL for an unknown id. */
const char *
charset_name(unsigned int id)
{
	const struct charset_collation	*c = charset_by_id(id);

	return (c != NULL ? c->charset : NULL);
}

/* Bytes per character at most; 4 (the worst case) for an unknown id. */
unsigned int
charset_maxlen(unsigned int id)
{
	const struct charset_collation	*c = charset_by_id(id);

	return (c != NULL ? c->maxlen : 4);
}

/* The length of the valid UTF-8 sequence at p (n bytes left), or 0. */
static size_t
utf8_seq(const uint8_t *p, size_t n)
{
	uint32_t	 cp;
	size_t		 len, i;

	if (p[0] < 0x80)
		return (1);
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2, cp = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		len = 3, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4, cp = p[0] & 0x07;
	else
		return (0);
	if (n < len)
		return (0);
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return (0);
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	/* Overlong forms, surrogates, beyond U+10FFFF. */
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return (0);
	return (len);
}

/* Whether p holds valid UTF-8. */
int
charset_is_utf8(const uint8_t *p, size_t len)
{
	size_t	 i = 0, n;

	while (i < len) {
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		if ((n = utf8_seq(p + i, len - i)) == 0)
			return (0);
		i += n;
	}
	return (1);
}

static int
charset_utf8_copy(const uint8_t *p, size_t len, struct buf *out)
{
	size_t	 i = 0, start, n;
	int	 replaced = 0;

	while (i < len) {
		start = i;
		while (i < len && p[i] < 0x80)
			i++;
		while (i < len && p[i] >= 0x80 &&
		    (n = utf8_seq(p + i, len - i)) != 0)
			i += n;
		buf_add(out, p + start, i - start);
		if (i < len && p[i] >= 0x80 && utf8_seq(p + i, len - i) == 0) {
			buf_adds(out, charset_replacement);
			replaced = 1;
			i++;
		}
	}
	return (replaced);
}

/* MySQL's latin1: cp1252, with 0x81 0x8d 0x8f 0x90 0x9d as C1 controls. */
static const uint16_t latin1_high[32] = {
	0x20ac, 0x0081, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021,
	0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008d, 0x017d, 0x008f,
	0x0090, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014,
	0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0x009d, 0x017e, 0x0178,
};

static void
utf8_put(struct buf *out, uint32_t cp)
{
	if (cp < 0x80)
		buf_addc(out, (unsigned char)cp);
	else if (cp < 0x800) {
		buf_addc(out, (unsigned char)(0xc0 | (cp >> 6)));
		buf_addc(out, (unsigned char)(0x80 | (cp & 0x3f)));
	} else {
		buf_addc(out, (unsigned char)(0xe0 | (cp >> 12)));
		buf_addc(out, (unsigned char)(0x80 | ((cp >> 6) & 0x3f)));
		buf_addc(out, (unsigned char)(0x80 | (cp & 0x3f)));
	}
}

static void
charset_latin1(const uint8_t *p, size_t len, struct buf *out)
{
	size_t	 i;

	for (i = 0; i < len; i++) {
		if (p[i] < 0x80)
			buf_addc(out, p[i]);
		else if (p[i] < 0xa0)
			utf8_put(out, latin1_high[p[i] - 0x80]);
		else
			utf8_put(out, p[i]);
	}
}

/* The iconv(3) name of a MySQL character set, or NULL. */
static const char *
charset_iconv_name(const char *cs)
{
	static const struct {
		const char	*mysql;
		const char	*iconv;
	} map[] = {
		{ "ucs2", "UCS-2BE" }, { "utf16", "UTF-16BE" },
		{ "utf16le", "UTF-16LE" }, { "utf32", "UTF-32BE" },
		{ "big5", "BIG5" }, { "gbk", "GBK" }, { "gb2312", "GB2312" },
		{ "gb18030", "GB18030" }, { "sjis", "SJIS" },
		{ "cp932", "CP932" }, { "ujis", "EUC-JP" },
		{ "eucjpms", "EUC-JP-MS" }, { "euckr", "EUC-KR" },
		{ "latin2", "ISO-8859-2" }, { "latin5", "ISO-8859-9" },
		{ "latin7", "ISO-8859-13" }, { "greek", "ISO-8859-7" },
		{ "hebrew", "ISO-8859-8" }, { "cp1250", "CP1250" },
		{ "cp1251", "CP1251" }, { "cp1256", "CP1256" },
		{ "cp1257", "CP1257" }, { "koi8r", "KOI8-R" },
		{ "koi8u", "KOI8-U" }, { "cp850", "CP850" },
		{ "cp852", "CP852" }, { "cp866", "CP866" },
		{ "macce", "MAC-CENTRALEUROPE" }, { "macroman", "MACINTOSH" },
		{ "tis620", "TIS-620" }, { "armscii8", "ARMSCII-8" },
		{ "geostd8", "GEORGIAN-PS" }, { "hp8", "HP-ROMAN8" },
		{ "dec8", "DEC-MCS" },
	};
	size_t	 i;

	for (i = 0; i < nitems(map); i++) {
		if (strcmp(map[i].mysql, cs) == 0)
			return (map[i].iconv);
	}
	return (NULL);
}

static int
charset_iconv(const char *name, const uint8_t *p, size_t len,
    struct buf *out)
{
	iconv_t	 cd;
	char	*in, *o;
	size_t	 inleft, outleft, room;
	int	 replaced = 0;

	if ((cd = iconv_open("UTF-8", name)) == (iconv_t)-1)
		return (charset_utf8_copy(p, len, out) | 1);
	buf_reserve(out, 0);	/* data exists even when nothing converts */
	in = (char *)(uintptr_t)p;
	inleft = len;
	while (inleft > 0) {
		room = inleft * 4 + 16;
		buf_reserve(out, room);
		o = (char *)out->data + out->len;
		outleft = room;
		if (iconv(cd, &in, &inleft, &o, &outleft) == (size_t)-1) {
			out->len = (size_t)((uint8_t *)o - out->data);
			if (errno == E2BIG)
				continue;
			/* EILSEQ or EINVAL: one byte that does not convert. */
			buf_adds(out, charset_replacement);
			replaced = 1;
			in++;
			inleft--;
			iconv(cd, NULL, NULL, NULL, NULL);
			continue;
		}
		out->len = (size_t)((uint8_t *)o - out->data);
	}
	out->data[out->len] = '\0';
	iconv_close(cd);
	return (replaced);
}

/*
 * Append the bytes p (len) of character set cs (MySQL's name) to out as
 * UTF-8.  Returns 0, or 1 when some bytes did not convert and were replaced
 * by U+FFFD (or the character set is unknown to iconv).
 */
int
charset_to_utf8(const char *cs, const uint8_t *p, size_t len,
    struct buf *out)
{
	const char	*name;

	if (cs == NULL)
		return (charset_utf8_copy(p, len, out) | 1);
	if (strncmp(cs, "utf8", 4) == 0 && (cs[4] == '\0' ||
	    strcmp(cs + 4, "mb3") == 0 || strcmp(cs + 4, "mb4") == 0))
		return (charset_utf8_copy(p, len, out));
	if (strcmp(cs, "ascii") == 0 || strcmp(cs, "binary") == 0)
		return (charset_utf8_copy(p, len, out));
	if (strcmp(cs, "latin1") == 0) {
		charset_latin1(p, len, out);
		return (0);
	}
	if ((name = charset_iconv_name(cs)) == NULL)
		return (charset_utf8_copy(p, len, out) | 1);
	return (charset_iconv(name, p, len, out));
}
