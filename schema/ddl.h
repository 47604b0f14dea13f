/*
 * Which tables a DDL statement shapes (schema/ddl.c).
 */
#ifndef FERRY_SCHEMA_DDL_H
#define FERRY_SCHEMA_DDL_H

#include <stddef.h>

enum ddl_kind {
	DDL_OTHER = 0,		/* names no table it shapes */
	DDL_CREATE,
	DDL_ALTER,
	DDL_DROP,
	DDL_RENAME,
	DDL_TRUNCATE,
	DDL_UNKNOWN,		/* shapes tables ferry could not name */
};

struct ddl_table {
	char	*db;
	char	*table;
};

struct ddl_stmt {
	enum ddl_kind		 kind;
	struct ddl_table	*tables;	/* RENAME: old, new, old, new */
	size_t			 ntables;
};

/* 1 when the statement shapes tables (st->tables, or DDL_UNKNOWN), else 0. */
int	ddl_parse(const char *, size_t, const char *, struct ddl_stmt *);
void	ddl_stmt_free(struct ddl_stmt *);

#endif
