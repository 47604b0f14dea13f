/*
 * What the tenant boundary reads and decides: request bodies
 * (common/jsonr.c), the network policy for tenants' endpoints
 * (engine/netpolicy.c), tokens (scheduler/token.c).  Expected values are
 * RFC 8259's grammar, the address ranges of RFC 6890, and SHA-256 test
 * vectors.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "common/jsonr.h"
#include "common/xmalloc.h"
#include "engine/netpolicy.h"
#include "scheduler/token.h"
#include "tests/lib/testutil.h"

static struct jsonr *
parse_ok(const char *s)
{
	char		*cause = NULL;
	struct jsonr	*v = jsonr_parse(s, strlen(s), &cause);

	ck_assert_msg(v != NULL, "%s: %s", s, cause);
	return (v);
}

static void
parse_bad(const char *s, size_t len, const char *why)
{
	char	*cause = NULL;

	ck_assert_msg(jsonr_parse(s, len, &cause) == NULL, "%s parsed", s);
	ck_assert_msg(strstr(cause, why) != NULL, "%s: %s", s, cause);
	free(cause);
}

START_TEST(test_jsonr)
{
	struct jsonr		*v;
	const struct jsonr	*m;
	char			 deep[64];

	v = parse_ok(" {\"name\": \"a\\u00e9\\ud83d\\ude00\\n\", \"n\": -1.5e2, "
	    "\"ok\": true, \"no\": null, \"l\": [\"x\", {}], \"name\": \"b\"} ");
	ck_assert_int_eq(v->type, JSONR_OBJECT);
	m = jsonr_get(v, "name");		/* the last of that name */
	ck_assert_str_eq(m->str, "b");
	ck_assert(jsonr_get(v, "n")->num == -150.0);
	ck_assert_str_eq(jsonr_get(v, "n")->str, "-1.5e2");
	ck_assert(jsonr_get(v, "ok")->boolean);
	ck_assert_int_eq(jsonr_get(v, "no")->type, JSONR_NULL);
	ck_assert_uint_eq(jsonr_get(v, "l")->n, 2);
	ck_assert_ptr_null(jsonr_get(v, "missing"));
	jsonr_free(v);
	v = parse_ok("[\"\\u00e9\\ud83d\\ude00\"]");
	ck_assert_str_eq(v->items[0]->str, "\xc3\xa9\xf0\x9f\x98\x80");
	jsonr_free(v);

	parse_bad("{\"a\":1,}", 8, "a key is missing");
	parse_bad("[1 2]", 5, "',' or a closing bracket");
	parse_bad("\"a\\u0000b\"", 10, "NUL");
	parse_bad("\"\\ud83d\"", 8, "lone surrogate");
	parse_bad("\"a\nb\"", 5, "control character");
	parse_bad("01", 2, "text after the value");
	parse_bad("1.", 2, "not a JSON value");
	parse_bad("{} x", 4, "text after the value");
	parse_bad("\"abc", 4, "unterminated");
	parse_bad("tru", 3, "not a JSON value");
	parse_bad("", 0, "a value is missing");
	parse_bad("{\"a\"\0:1}", 8, "':' is missing");
	memset(deep, '[', 40);
	deep[40] = '\0';
	parse_bad(deep, 40, "nested too deep");
}
END_TEST

static const char *
refusal(const char *addr)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*s6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof ss);
	if (inet_pton(AF_INET, addr, &s4->sin_addr) == 1)
		s4->sin_family = AF_INET;
	else if (inet_pton(AF_INET6, addr, &s6->sin6_addr) == 1)
		s6->sin6_family = AF_INET6;
	else
		ck_abort_msg("bad address %s", addr);
	return (netpolicy_refusal((struct sockaddr *)&ss));
}

/*
 * The defaults (RFC 6890's loopback, unspecified, link-local, multicast
 * ranges; IPv4-mapped IPv6 as its IPv4 address), then an operator's
 * --tenant-deny and --tenant-allow: a deny wins, an allow opens a
 * default-refused range.
 */
START_TEST(test_netpolicy)
{
	char	*cause = NULL, *line;

	ck_assert_ptr_nonnull(strstr(refusal("127.0.0.1"), "loopback"));
	ck_assert_ptr_nonnull(strstr(refusal("127.255.1.2"), "loopback"));
	ck_assert_ptr_nonnull(strstr(refusal("::1"), "loopback"));
	ck_assert_ptr_nonnull(strstr(refusal("::ffff:127.0.0.1"), "loopback"));
	ck_assert_ptr_nonnull(strstr(refusal("0.0.0.0"), "unspecified"));
	ck_assert_ptr_nonnull(strstr(refusal("::"), "unspecified"));
	ck_assert_ptr_nonnull(strstr(refusal("169.254.169.254"), "link-local"));
	ck_assert_ptr_nonnull(strstr(refusal("fe80::1"), "link-local"));
	ck_assert_ptr_nonnull(strstr(refusal("224.0.0.1"), "multicast"));
	ck_assert_ptr_nonnull(strstr(refusal("ff02::1"), "multicast"));
	/* An IPv4 address inside IPv6: NAT64 and 6to4 count as it. */
	ck_assert_ptr_nonnull(strstr(refusal("64:ff9b::127.0.0.1"), "loopback"));
	ck_assert_ptr_nonnull(strstr(refusal("64:ff9b::a9fe:a9fe"),
	    "link-local"));
	ck_assert_ptr_nonnull(strstr(refusal("2002:7f00:1::"), "loopback"));
	ck_assert_ptr_null(refusal("64:ff9b::cb00:7109"));
	ck_assert_ptr_null(refusal("10.1.2.3"));
	ck_assert_ptr_null(refusal("203.0.113.9"));
	ck_assert_ptr_null(refusal("2001:db8::1"));

	ck_assert_int_eq(netpolicy_add(0, "10.0.0.0/8", &cause), 0);
	ck_assert_int_eq(netpolicy_add(0, "2001:db8::/33", &cause), 0);
	ck_assert_int_eq(netpolicy_add(1, "127.0.0.2/32", &cause), 0);
	ck_assert_int_eq(netpolicy_add(1, "10.9.0.0/16", &cause), 0);
	ck_assert_ptr_nonnull(strstr(refusal("10.1.2.3"), "--tenant-deny"));
	ck_assert_ptr_nonnull(strstr(refusal("10.9.1.1"), "--tenant-deny"));
	ck_assert_ptr_nonnull(strstr(refusal("::ffff:10.0.0.1"),
	    "--tenant-deny"));
	ck_assert_ptr_nonnull(strstr(refusal("2001:db8:7fff::1"),
	    "--tenant-deny"));
	ck_assert_ptr_null(refusal("2001:db8:8000::1"));	/* past /33 */
	ck_assert_ptr_null(refusal("127.0.0.2"));
	ck_assert_ptr_nonnull(strstr(refusal("127.0.0.3"), "loopback"));

	ck_assert_int_eq(netpolicy_add(1, "10.0.0.0/40", &cause), -1);
	free(cause);
	ck_assert_int_eq(netpolicy_add(1, "example.com", &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "not an address"));
	free(cause);

	/* The lists as the daemon hands them to its API's commands. */
	line = netpolicy_export();
	ck_assert_str_eq(line, "allow=127.0.0.2/32 allow=10.9.0.0/16 "
	    "deny=10.0.0.0/8 deny=2001:db8::/33");
	/* Imported again, each prefix is there twice: the answers stay. */
	ck_assert_int_eq(netpolicy_import(line, &cause), 0);
	free(line);
	ck_assert_ptr_null(refusal("127.0.0.2"));
	ck_assert_ptr_nonnull(strstr(refusal("10.1.2.3"), "--tenant-deny"));
	ck_assert_int_eq(netpolicy_import("allow=10.0.0.0/8 permit=1.2.3.4",
	    &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "'permit=1.2.3.4'"));
	free(cause);
	ck_assert_int_eq(netpolicy_import("deny=nope", &cause), -1);
	free(cause);
}
END_TEST

/* Tokens: well-formed ones only, the hash is SHA-256 (FIPS 180-2's "abc"
 * vector), and two tokens differ. */
START_TEST(test_tokens)
{
	char	*v1, *h1, *v2, *h2, *cause = NULL;

	h1 = token_hash("abc");
	ck_assert_str_eq(h1, "ba7816bf8f01cfea414140de5dae2223"
	    "b00361a396177a9cb410ff61f20015ad");
	free(h1);
	ck_assert_int_eq(token_make(&v1, &h1, &cause), 0);
	ck_assert_int_eq(token_make(&v2, &h2, &cause), 0);
	ck_assert(token_wellformed(v1) && token_wellformed(v2));
	ck_assert_str_ne(v1, v2);
	ck_assert_str_ne(h1, h2);
	ck_assert_uint_eq(strlen(h1), 64);
	ck_assert(!token_wellformed("ferry_short"));
	ck_assert(!token_wellformed("bearer_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
	v1[10] = '!';
	ck_assert(!token_wellformed(v1));
	free(v1);
	free(v2);
	free(h1);
	free(h2);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("boundary");
	TCase	*tc = tcase_create("boundary");

	tcase_add_test(tc, test_jsonr);
	tcase_add_test(tc, test_netpolicy);
	tcase_add_test(tc, test_tokens);
	suite_add_tcase(s, tc);
	return (testutil_run(s));
}
