/*
 * Secrets at rest.
 *
 * A password given to "ferry endpoint add" is stored in one of two forms:
 *
 *	enc:v1:BASE64	AES-256-GCM of the password under the store's key,
 *			BASE64 of a 12-byte random nonce, the ciphertext and
 *			the 16-byte tag, with "ferry-secret-v1" as additional
 *			data.
 *	env:NAME	read from the daemon's environment when needed
 *	file:PATH	read from that file when needed
 *
 * The key is 32 random bytes in STORE.key, beside the store file and never
 * in it, created 0600 on first use: a copy of the database alone reveals
 * nothing.  secret_open() returns the password and registers it with the
 * logger, so that it cannot reach a log line or an error message.
 */
#include "config.h"

#include <errno.h>
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

/* Encrypt plain for the store at store_path: *stored = "enc:v1:...". */
int
secret_seal(const char *store_path, const char *plain, char **stored,
    char **cause)
{
	uint8_t		 key[SECRET_KEYLEN], *raw, *b64;
	EVP_CIPHER_CTX	*ctx;
	size_t		 len = strlen(plain), rawlen;
	int		 n, rc = -1;

	if (secret_key(store_path, key, cause) != 0)
		return (-1);
	rawlen = SECRET_NONCE + len + SECRET_TAG;
	raw = xmalloc(rawlen);
	b64 = xmalloc(4 * ((rawlen + 2) / 3) + 1);
	if (RAND_bytes(raw, SECRET_NONCE) != 1 ||
	    (ctx = EVP_CIPHER_CTX_new()) == NULL) {
		*cause = xstrdup("cannot encrypt the secret");
		goto out;
	}
	if (EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, raw) != 1 ||
	    EVP_EncryptUpdate(ctx, NULL, &n, (const uint8_t *)SECRET_AAD,
	    (int)strlen(SECRET_AAD)) != 1 ||
	    EVP_EncryptUpdate(ctx, raw + SECRET_NONCE, &n,
	    (const uint8_t *)plain, (int)len) != 1 ||
	    EVP_EncryptFinal_ex(ctx, raw + SECRET_NONCE + n, &n) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, SECRET_TAG,
	    raw + SECRET_NONCE + len) != 1) {
		*cause = xstrdup("cannot encrypt the secret");
		EVP_CIPHER_CTX_free(ctx);
		goto out;
	}
	EVP_CIPHER_CTX_free(ctx);
	EVP_EncodeBlock(b64, raw, (int)rawlen);
	*stored = xasprintf(SECRET_PREFIX "%s", b64);
	rc = 0;
out:
	xzero(key, sizeof key);
	xzero(raw, rawlen);
	free(raw);
	free(b64);
	return (rc);
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
	if (strncmp(stored, SECRET_PREFIX, strlen(SECRET_PREFIX)) == 0)
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
	uint8_t		 key[SECRET_KEYLEN], *raw = NULL;
	EVP_CIPHER_CTX	*ctx;
	const char	*b64;
	size_t		 len = 0, b64len;
	char		*out = NULL;
	int		 n, rawlen, rc = -1;

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
	b64 = stored + strlen(SECRET_PREFIX);
	b64len = strlen(b64);
	raw = xmalloc(b64len + 1);
	rawlen = EVP_DecodeBlock(raw, (const uint8_t *)b64, (int)b64len);
	/* EVP_DecodeBlock counts the padding's zero bytes */
	if (rawlen >= 0 && b64len > 0 && b64[b64len - 1] == '=')
		rawlen--;
	if (rawlen >= 0 && b64len > 1 && b64[b64len - 2] == '=')
		rawlen--;
	if (rawlen < SECRET_NONCE + SECRET_TAG) {
		*cause = xstrdup("stored secret is corrupt");
		goto out;
	}
	len = (size_t)rawlen - SECRET_NONCE - SECRET_TAG;
	out = xmalloc(len + 1);
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL) {
		*cause = xstrdup("cannot decrypt the secret");
		goto out;
	}
	if (EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, raw) != 1 ||
	    EVP_DecryptUpdate(ctx, NULL, &n, (const uint8_t *)SECRET_AAD,
	    (int)strlen(SECRET_AAD)) != 1 ||
	    EVP_DecryptUpdate(ctx, (uint8_t *)out, &n, raw + SECRET_NONCE,
	    (int)len) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, SECRET_TAG,
	    raw + SECRET_NONCE + len) != 1 ||
	    EVP_DecryptFinal_ex(ctx, (uint8_t *)out + n, &n) != 1) {
		*cause = xasprintf("cannot decrypt a stored secret: the key "
		    "%s.key is not the one it was sealed with", store_path);
		EVP_CIPHER_CTX_free(ctx);
		goto out;
	}
	EVP_CIPHER_CTX_free(ctx);
	out[len] = '\0';
	log_add_secret(out);
	*plain = out;
	out = NULL;
	rc = 0;
out:
	xzero(key, sizeof key);
	if (raw != NULL) {
		xzero(raw, b64len + 1);
		free(raw);
	}
	if (out != NULL) {
		xzero(out, len + 1);
		free(out);
	}
	return (rc);
}
