/*
 * API tokens in the store (scheduler/token.c makes them): only each
 * token's hash is kept, with whose it is (a tenant, or the operator when
 * tenant_id is NULL), a label, who made it and when, when it was revoked
 * and last used.
 */
#include "config.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"
#include "scheduler/store.h"
#include "scheduler/store_int.h"

void
token_info_release(struct token_info *t)
{
	free(t->tenant);
	free(t->name);
	free(t->created_by);
	memset(t, 0, sizeof *t);
}

void
token_list_free(struct token_info *t, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		token_info_release(&t[i]);
	free(t);
}

/* A new token of tenant (NULL: the operator's) with hash, named name (or
 * NULL), made by who: its id in *id. */
int
store_token_add(struct store *s, const char *tenant, const char *name,
    const char *hash, const char *who, int64_t *id, char **cause)
{
	sqlite3_stmt	*st;
	struct tenant	 t;
	int		 rc;

	memset(&t, 0, sizeof t);
	if (tenant != NULL && store_tenant_get(s, tenant, &t, cause) != 0)
		return (-1);
	if ((st = store_prepare(s, "INSERT INTO tokens (tenant_id, name, hash, "
	    "created_at, created_by) VALUES (?, ?, ?, ?, ?) RETURNING id",
	    cause)) == NULL) {
		tenant_release(&t);
		return (-1);
	}
	if (tenant != NULL)
		sqlite3_bind_int64(st, 1, t.id);
	else
		sqlite3_bind_null(st, 1);
	store_bind_text(st, 2, name);
	store_bind_text(st, 3, hash);
	sqlite3_bind_int64(st, 4, store_now());
	store_bind_text(st, 5, who);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*id = sqlite3_column_int64(st, 0);
		rc = sqlite3_step(st);
	}
	sqlite3_finalize(st);
	tenant_release(&t);
	if (rc != SQLITE_DONE)
		return (store_error(s, "adding a token", cause));
	return (0);
}

#define TOKEN_COLS \
	"k.id, t.name, k.name, k.created_at, k.created_by, " \
	"coalesce(k.revoked_at, 0), coalesce(k.last_used_at, 0), k.tenant_id"

static void
token_row(sqlite3_stmt *st, struct token_info *t)
{
	memset(t, 0, sizeof *t);
	t->id = sqlite3_column_int64(st, 0);
	t->tenant = store_col_text(st, 1);
	t->name = store_col_text(st, 2);
	t->created_at = sqlite3_column_int64(st, 3);
	t->created_by = store_col_text(st, 4);
	t->revoked_at = sqlite3_column_int64(st, 5);
	t->last_used_at = sqlite3_column_int64(st, 6);
}

/* The tokens of tenant (NULL: the operator's), oldest first. */
int
store_token_list(struct store *s, const char *tenant, struct token_info **out,
    size_t *n, char **cause)
{
	sqlite3_stmt	*st;
	int		 rc;

	*out = NULL;
	*n = 0;
	if ((st = store_prepare(s, "SELECT " TOKEN_COLS " FROM tokens k LEFT "
	    "JOIN tenants t ON t.id = k.tenant_id WHERE (?1 IS NULL AND "
	    "k.tenant_id IS NULL) OR t.name = ?1 ORDER BY k.id",
	    cause)) == NULL)
		return (-1);
	store_bind_text(st, 1, tenant);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*out = xreallocarray(*out, *n + 1, sizeof **out);
		token_row(st, &(*out)[(*n)++]);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		token_list_free(*out, *n);
		*out = NULL;
		*n = 0;
		return (store_error(s, "listing tokens", cause));
	}
	return (0);
}

/* Revoke token id of tenant (NULL: the operator's). */
int
store_token_revoke(struct store *s, const char *tenant, int64_t id,
    char **cause)
{
	sqlite3_stmt	*st;
	int		 rc;

	if ((st = store_prepare(s, "UPDATE tokens SET revoked_at = ?2 WHERE "
	    "id = ?1 AND revoked_at IS NULL AND ((?3 IS NULL AND tenant_id IS "
	    "NULL) OR tenant_id = (SELECT id FROM tenants WHERE name = ?3))",
	    cause)) == NULL)
		return (-1);
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, store_now());
	store_bind_text(st, 3, tenant);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return (store_error(s, "revoking a token", cause));
	if (sqlite3_changes(s->db) == 0) {
		*cause = xasprintf("no token %lld %s (or it is revoked already)",
		    (long long)id, tenant != NULL ? "of this tenant" :
		    "of the operator");
		return (-1);
	}
	return (0);
}

/*
 * The token whose hash is hash, not revoked: 0 with *t (tenant NULL: the
 * operator's), 1 when there is none, -1.  Its last use is recorded (at
 * most once a minute: a read-mostly API writes rarely).
 */
int
store_token_find(struct store *s, const char *hash, struct token_info *t,
    char **cause)
{
	sqlite3_stmt	*st;
	char		*why = NULL;
	int		 rc;

	if ((st = store_prepare(s, "SELECT " TOKEN_COLS " FROM tokens k LEFT "
	    "JOIN tenants t ON t.id = k.tenant_id WHERE k.hash = ? AND "
	    "k.revoked_at IS NULL", cause)) == NULL)
		return (-1);
	store_bind_text(st, 1, hash);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		token_row(st, t);
		/* A tenant's token whose tenant is gone is no token (not
		 * the operator's). */
		if (sqlite3_column_type(st, 7) != SQLITE_NULL &&
		    t->tenant == NULL) {
			token_info_release(t);
			rc = SQLITE_DONE;
		}
	}
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE)
		return (1);
	if (rc != SQLITE_ROW)
		return (store_error(s, "reading tokens", cause));
	if (store_now() - t->last_used_at > 60000 && (st = store_prepare(s,
	    "UPDATE tokens SET last_used_at = ? WHERE id = ?", &why)) !=
	    NULL) {
		sqlite3_bind_int64(st, 1, store_now());
		sqlite3_bind_int64(st, 2, t->id);
		(void)sqlite3_step(st);	/* a read-only store: not recorded */
		sqlite3_finalize(st);
	}
	free(why);
	return (0);
}
