/*
 * Secrets at rest.
 *
 * A password given to "ferry endpoint add" is stored in one of these
 * forms:
 *
 *	enc:v2:T:BASE64	AES-256-GCM of the password under tenant T's key,
 *			with "ferry-secret-v2:T" as additional data (a
 *			ciphertext copied to another tenant's endpoint does
 *			not open)
 *	enc:v1:BASE64	the same under the store's key, "ferry-secret-v1":
 *			what earlier ferry versions wrote, still read
 *	env:NAME	read from the daemon's environment when needed
 *	file:PATH	read from that file when needed (the operator's
 *			endpoints only)
 *
 * BASE64 holds a 12-byte random nonce, the ciphertext and the 16-byte tag.
 * The store's key is 32 random bytes in STORE.key, beside the store file
 * and never in it, created 0600 on first use: a copy of the database alone
 * reveals nothing.  Each tenant's key is 32 random bytes made at its first
 * secret, kept in its row wrapped by the store's key ("wk:v1:BASE64",
 * additional data "ferry-tenant-key-v1:T"); removing the tenant removes
 * its key, and with it any way to open what was sealed for it.
 * secret_open*() return the password and register it with the logger, so
 * that it cannot reach a log line or an error message.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "common/buf.h"
#include "common/log.h"
#include "common/util.h"
#include "common/xmalloc.h"
#include "scheduler/secret.h"
#include "scheduler/store.h"

#define SECRET_PREFIX	"enc:v1:"
#define SECRET_KEYLEN	32
#define SECRET_NONCE	12
#define SECRET_TAG	16
#define SECRET_AAD	"ferry-secret-v1"

/* The store's key: read, or made on first use. */
static int
secret_key(const char *store_path, uint8_t key[SECRET_KEYLEN], char **cause)
{
	char		*path = xasprintf("%s.key", store_path);
	struct stat	 sb;
	ssize_t		 n;
	int		 fd, rc = -1;

	fd = open(path, O_RDONLY|O_CLOEXEC);
	if (fd == -1 && errno == ENOENT) {
		if (RAND_bytes(key, SECRET_KEYLEN) != 1) {
			*cause = xstrdup("no random bytes for a secret key");
			goto out;
		}
		fd = open(path, O_WRONLY|O_CREAT|O_EXCL|O_CLOEXEC, 0600);
		if (fd == -1 && errno == EEXIST)	/* another process won */
			fd = open(path, O_RDONLY|O_CLOEXEC);
		else if (fd != -1) {
			if (write(fd, key, SECRET_KEYLEN) != SECRET_KEYLEN ||
			    fsync(fd) != 0) {
				*cause = xasprintf("cannot write %s: %s", path,
				    strerror(errno));
				close(fd);
				unlink(path);
				goto out;
			}
			close(fd);
			rc = 0;
			goto out;
		}
	}
	if (fd == -1) {
		*cause = xasprintf("cannot open the secret key %s: %s", path,
		    strerror(errno));
		goto out;
	}
	if (fstat(fd, &sb) == 0 && (sb.st_mode & 077) != 0)
		log_warnx("secret key %s is readable by others (mode %o); "
		    "chmod 600 it", path, (unsigned)(sb.st_mode & 0777));
	n = read(fd, key, SECRET_KEYLEN);
	close(fd);
	if (n != SECRET_KEYLEN) {
		*cause = xasprintf("secret key %s is not %d bytes", path,
		    SECRET_KEYLEN);
		goto out;
	}
	rc = 0;
out:
	free(path);
	return (rc);
}

/*
 * AES-256-GCM of len bytes of plain under key with aad: a new string,
 * BASE64 of the nonce, the ciphertext and the tag; NULL with *cause.
 */
static char *
secret_gcm_seal(const uint8_t key[SECRET_KEYLEN], const uint8_t *plain,
    size_t len, const char *aad, char **cause)
{
	EVP_CIPHER_CTX	*ctx = NULL;
	uint8_t		*raw, *b64;
	size_t		 rawlen = SECRET_NONCE + len + SECRET_TAG;
	char		*out = NULL;
	int		 n;

	raw = xmalloc(rawlen);
	b64 = xmalloc(4 * ((rawlen + 2) / 3) + 1);
	if (RAND_bytes(raw, SECRET_NONCE) != 1 ||
	    (ctx = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, raw) != 1 ||
	    EVP_EncryptUpdate(ctx, NULL, &n, (const uint8_t *)aad,
	    (int)strlen(aad)) != 1 ||
	    EVP_EncryptUpdate(ctx, raw + SECRET_NONCE, &n, plain,
	    (int)len) != 1 ||
	    EVP_EncryptFinal_ex(ctx, raw + SECRET_NONCE + n, &n) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, SECRET_TAG,
	    raw + SECRET_NONCE + len) != 1)
		*cause = xstrdup("cannot encrypt the secret");
	else {
		EVP_EncodeBlock(b64, raw, (int)rawlen);
		out = xstrdup((char *)b64);
	}
	EVP_CIPHER_CTX_free(ctx);
	xzero(raw, rawlen);
	free(raw);
	free(b64);
	return (out);
}

/*
 * Open what secret_gcm_seal() made: *out (len bytes and a NUL; free with
 * xzero and free), or -1 with *cause.
 */
static int
secret_gcm_open(const uint8_t key[SECRET_KEYLEN], const char *b64,
    const char *aad, uint8_t **out, size_t *len, char **cause)
{
	EVP_CIPHER_CTX	*ctx = NULL;
	uint8_t		*raw, *plain = NULL;
	size_t		 b64len = strlen(b64);
	int		 n, rawlen, rc = -1;

	raw = xmalloc(b64len + 1);
	rawlen = EVP_DecodeBlock(raw, (const uint8_t *)b64, (int)b64len);
	if (rawlen >= 0 && b64len > 0 && b64[b64len - 1] == '=')
		rawlen--;
	if (rawlen >= 0 && b64len > 1 && b64[b64len - 2] == '=')
		rawlen--;
	if (rawlen < SECRET_NONCE + SECRET_TAG) {
		*cause = xstrdup("stored secret is corrupt");
		goto out;
	}
	*len = (size_t)rawlen - SECRET_NONCE - SECRET_TAG;
	plain = xmalloc(*len + 1);
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, raw) != 1 ||
	    EVP_DecryptUpdate(ctx, NULL, &n, (const uint8_t *)aad,
	    (int)strlen(aad)) != 1 ||
	    EVP_DecryptUpdate(ctx, plain, &n, raw + SECRET_NONCE,
	    (int)*len) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, SECRET_TAG,
	    raw + SECRET_NONCE + *len) != 1 ||
	    EVP_DecryptFinal_ex(ctx, plain + n, &n) != 1) {
		*cause = xstrdup("cannot decrypt a stored secret (another "
		    "key, another tenant's, or altered)");
		goto out;
	}
	plain[*len] = '\0';
	*out = plain;
	plain = NULL;
	rc = 0;
out:
	EVP_CIPHER_CTX_free(ctx);
	xzero(raw, b64len + 1);
	free(raw);
	if (plain != NULL) {
		xzero(plain, *len + 1);
		free(plain);
	}
	return (rc);
}

/* Encrypt plain for the store at store_path: *stored = "enc:v1:...". */
int
secret_seal(const char *store_path, const char *plain, char **stored,
    char **cause)
{
	uint8_t	 key[SECRET_KEYLEN];
	char	*b64;

	if (secret_key(store_path, key, cause) != 0)
		return (-1);
	b64 = secret_gcm_seal(key, (const uint8_t *)plain, strlen(plain),
	    SECRET_AAD, cause);
	xzero(key, sizeof key);
	if (b64 == NULL)
		return (-1);
	*stored = xasprintf(SECRET_PREFIX "%s", b64);
	free(b64);
	return (0);
}

/* Check a reference, "env:NAME" or "file:/absolute/path". */
int
secret_reference(const char *ref, char **stored, char **cause)
{
	const char	*p;

	if (strncmp(ref, "env:", 4) == 0) {
		for (p = ref + 4; *p != '\0'; p++) {
			if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' &&
			    *p <= 'z') || (*p >= '0' && *p <= '9') ||
			    *p == '_'))
				break;
		}
		if (ref[4] == '\0' || *p != '\0') {
			*cause = xasprintf("'%s' is not an environment "
			    "variable reference (env:NAME)", ref);
			return (-1);
		}
	} else if (strncmp(ref, "file:", 5) == 0) {
		if (ref[5] != '/') {
			*cause = xasprintf("'%s': a file reference needs an "
			    "absolute path (file:/path)", ref);
			return (-1);
		}
	} else {
		*cause = xasprintf("'%s' is not a secret reference (env:NAME "
		    "or file:/path)", ref);
		return (-1);
	}
	*stored = xstrdup(ref);
	return (0);
}

/* What a stored secret is, for people: never the secret. */
const char *
secret_describe(const char *stored)
{
	if (stored == NULL)
		return ("none");
	if (strncmp(stored, "enc:", 4) == 0)
		return ("encrypted");
	return (stored);	/* a reference names where, not what */
}

/*
 * The plain secret of a stored one (a new string: free with
 * xfree_secret()), registered with the logger.
 */
int
secret_open(const char *store_path, const char *stored, char **plain,
    char **cause)
{
	uint8_t	 key[SECRET_KEYLEN], *out = NULL;
	char	*why = NULL;
	size_t	 len = 0;
	int	 rc;

	if (strncmp(stored, "env:", 4) == 0)
		return (util_read_secret_env(stored + 4, plain, cause));
	if (strncmp(stored, "file:", 5) == 0)
		return (util_read_secret_file(stored + 5, plain, cause));
	if (strncmp(stored, SECRET_PREFIX, strlen(SECRET_PREFIX)) != 0) {
		*cause = xstrdup("unknown stored secret form");
		return (-1);
	}
	if (secret_key(store_path, key, cause) != 0)
		return (-1);
	rc = secret_gcm_open(key, stored + strlen(SECRET_PREFIX), SECRET_AAD,
	    &out, &len, &why);
	xzero(key, sizeof key);
	if (rc != 0) {
		*cause = strstr(why, "corrupt") != NULL ? why : xasprintf(
		    "cannot decrypt a stored secret: the key %s.key is not "
		    "the one it was sealed with", store_path);
		if (*cause != why)
			free(why);
		return (-1);
	}
	log_add_secret((char *)out);
	*plain = (char *)out;
	return (0);
}

#define SECRET_WRAPPED	"wk:v1:"
#define SECRET_V2	"enc:v2:"

/* Tenant t's key: unwrapped from its row, or made, wrapped and stored
 * there.  0, or -1 with *cause. */
static int
secret_tenant_key(struct store *s, int64_t t, uint8_t key[SECRET_KEYLEN],
    char **cause)
{
	uint8_t	 skey[SECRET_KEYLEN], *raw = NULL;
	char	 aad[64], *wrapped = NULL, *b64 = NULL, *stored;
	size_t	 len = 0;
	int	 rc = -1;

	snprintf(aad, sizeof aad, "ferry-tenant-key-v1:%" PRId64, t);
	if (secret_key(store_path(s), skey, cause) != 0)
		return (-1);
	if (store_tenant_key_get(s, t, &wrapped, cause) != 0)
		goto out;
	if (wrapped != NULL) {
		if (strncmp(wrapped, SECRET_WRAPPED, strlen(SECRET_WRAPPED)) !=
		    0 || secret_gcm_open(skey, wrapped +
		    strlen(SECRET_WRAPPED), aad, &raw, &len, cause) != 0)
			goto out;
		if (len != SECRET_KEYLEN) {
			*cause = xstrdup("a tenant's key is corrupt");
			goto out;
		}
		memcpy(key, raw, SECRET_KEYLEN);
		rc = 0;
		goto out;
	}
	if (RAND_bytes(key, SECRET_KEYLEN) != 1) {
		*cause = xstrdup("no random bytes for a tenant's key");
		goto out;
	}
	if ((b64 = secret_gcm_seal(skey, key, SECRET_KEYLEN, aad, cause)) ==
	    NULL)
		goto out;
	stored = xasprintf(SECRET_WRAPPED "%s", b64);
	/* Another process may have made one meanwhile: the first stays. */
	rc = store_tenant_key_set(s, t, stored, cause);
	free(stored);
	if (rc == 1) {
		rc = secret_tenant_key(s, t, key, cause);
		goto out;
	}
out:
	xzero(skey, sizeof skey);
	if (raw != NULL) {
		xzero(raw, len);
		free(raw);
	}
	free(wrapped);
	free(b64);
	return (rc);
}

/* Seal plain for tenant t: *stored is "enc:v2:T:...".  0, or -1. */
int
secret_seal_for(struct store *s, int64_t t, const char *plain, char **stored,
    char **cause)
{
	uint8_t	 key[SECRET_KEYLEN];
	char	 aad[64], *b64;

	if (secret_tenant_key(s, t, key, cause) != 0)
		return (-1);
	snprintf(aad, sizeof aad, "ferry-secret-v2:%" PRId64, t);
	b64 = secret_gcm_seal(key, (const uint8_t *)plain, strlen(plain), aad,
	    cause);
	xzero(key, sizeof key);
	if (b64 == NULL)
		return (-1);
	*stored = xasprintf(SECRET_V2 "%" PRId64 ":%s", t, b64);
	free(b64);
	return (0);
}

/*
 * The plain secret of an endpoint of tenant t (a new string: free with
 * xfree_secret()), registered with the logger: enc:v2 under t's key,
 * enc:v1, env: and file: as secret_open().
 */
int
secret_open_for(struct store *s, int64_t t, const char *stored, char **plain,
    char **cause)
{
	uint8_t		 key[SECRET_KEYLEN], *out = NULL;
	char		 aad[64], *end;
	const char	*p;
	long long	 owner;
	size_t		 len = 0;
	int		 rc;

	if (strncmp(stored, SECRET_V2, strlen(SECRET_V2)) != 0)
		return (secret_open(store_path(s), stored, plain, cause));
	p = stored + strlen(SECRET_V2);
	owner = strtoll(p, &end, 10);
	if (end == p || *end != ':' || owner != t) {
		*cause = xstrdup("a stored secret is another tenant's");
		return (-1);
	}
	if (secret_tenant_key(s, t, key, cause) != 0)
		return (-1);
	snprintf(aad, sizeof aad, "ferry-secret-v2:%" PRId64, t);
	rc = secret_gcm_open(key, end + 1, aad, &out, &len, cause);
	xzero(key, sizeof key);
	if (rc != 0)
		return (-1);
	log_add_secret((char *)out);
	*plain = (char *)out;
	return (0);
}
