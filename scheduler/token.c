/*
 * API tokens: what a caller of the daemon's API presents (Authorization:
 * Bearer ...).  A token is 32 random bytes, written "ferry_" + 43
 * characters of URL-safe base64; the store keeps only its SHA-256, so a
 * copy of the store gives no token.  The value is shown once, when made.
 *
 * A token is a tenant's (it acts as that tenant, within the tenant
 * boundary: its own endpoints and jobs, no tenant management) or the
 * operator's (it acts as whoever can open the store).
 */
#include "config.h"

#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "common/xmalloc.h"
#include "scheduler/token.h"

#define TOKEN_RAW	32

static const char token_b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* A new token: its value (show it once) and its hash; -1 without random
 * bytes. */
int
token_make(char **value, char **hash, char **cause)
{
	uint8_t		 raw[TOKEN_RAW];
	char		 out[TOKEN_PREFIX_LEN + 44];
	size_t		 i, k = TOKEN_PREFIX_LEN;
	uint32_t	 acc = 0;
	int		 bits = 0;

	if (RAND_bytes(raw, sizeof raw) != 1) {
		*cause = xstrdup("no random bytes for a token");
		return (-1);
	}
	memcpy(out, TOKEN_PREFIX, TOKEN_PREFIX_LEN);
	for (i = 0; i < sizeof raw; i++) {
		acc = (acc << 8) | raw[i];
		bits += 8;
		while (bits >= 6) {
			bits -= 6;
			out[k++] = token_b64[(acc >> bits) & 63];
		}
	}
	if (bits > 0)
		out[k++] = token_b64[(acc << (6 - bits)) & 63];
	out[k] = '\0';
	*value = xstrdup(out);
	*hash = token_hash(out);
	xzero(raw, sizeof raw);
	xzero(out, sizeof out);
	return (0);
}

/* The hash the store keeps of a token: SHA-256 in hex, a new string. */
char *
token_hash(const char *value)
{
	static const char	 hex[] = "0123456789abcdef";
	uint8_t			 md[EVP_MAX_MD_SIZE];
	unsigned int		 n = 0, i;
	char			*out;

	if (EVP_Digest(value, strlen(value), md, &n, EVP_sha256(), NULL) != 1)
		n = 0;
	out = xmalloc(n * 2 + 1);
	for (i = 0; i < n; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[2 * n] = '\0';
	return (out);
}

/* Whether s looks like a token (before any lookup: a malformed header is
 * refused without touching the store). */
int
token_wellformed(const char *s)
{
	size_t	 i, n = strlen(s);

	if (n != TOKEN_PREFIX_LEN + 43 ||
	    strncmp(s, TOKEN_PREFIX, TOKEN_PREFIX_LEN) != 0)
		return (0);
	for (i = TOKEN_PREFIX_LEN; i < n; i++) {
		if (strchr(token_b64, s[i]) == NULL)
			return (0);
	}
	return (1);
}
