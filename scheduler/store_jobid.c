/*
 * What names a job, never twice: its store id (the highest ever given is
 * kept in meta, so a removed job's id is not given again) and its
 * identity (128 random bits in hex, unique across stores), from which its
 * replica server_id at the source comes.
 */
#include "config.h"

#include <inttypes.h>
#include <openssl/rand.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdlib.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "scheduler/store.h"
#include "scheduler/store_int.h"

/* A new job's identity: no other job, of this store or another, removed
 * or not, has it. */
char *
store_job_identity_new(void)
{
	static const char	 digits[] = "0123456789abcdef";
	unsigned char		 raw[16];
	char			 hex[33];
	size_t			 i;

	if (RAND_bytes(raw, sizeof raw) != 1)
		fatalx("%s: no random bytes", __func__);
	for (i = 0; i < sizeof raw; i++) {
		hex[2 * i] = digits[raw[i] >> 4];
		hex[2 * i + 1] = digits[raw[i] & 15];
	}
	hex[32] = '\0';
	return (xstrdup(hex));
}

/*
 * The replica server_id at the source: high (real replicas use low ids),
 * and taken from the job's identity (FNV-1a), so that jobs of two stores
 * on one source (whose ids both start at 1), or a job made again whose
 * predecessor's binlog connection the server has not dropped yet, do not
 * collide.
 */
static uint32_t
store_job_server_id(const char *identity)
{
	uint64_t	 h = 0xcbf29ce484222325ULL;
	const char	*p;

	for (p = identity; *p != '\0'; p++) {
		h ^= (unsigned char)*p;
		h *= 0x100000001b3ULL;
	}
	return ((uint32_t)(0x40000000u + h % 0x3fffffffu));
}

/*
 * Job j was just inserted (its id given by the INSERT as one above the
 * highest ever given): keep that id as the highest, and set its server_id.
 * Inside the creating transaction; 0, or -1 with *cause.
 */
int
store_job_named(struct store *s, struct job *j, char **cause)
{
	char	*sql;
	int	 rc;

	sql = xasprintf("INSERT INTO meta VALUES ('last_job_id', '%" PRId64
	    "') ON CONFLICT (key) DO UPDATE SET value = excluded.value",
	    j->id);
	rc = store_exec(s, sql, cause);
	free(sql);
	if (rc != 0)
		return (-1);
	j->server_id = store_job_server_id(j->identity);
	sql = xasprintf("UPDATE jobs SET server_id = %" PRIu32 " WHERE id = %"
	    PRId64, j->server_id, j->id);
	rc = store_exec(s, sql, cause);
	free(sql);
	return (rc);
}
