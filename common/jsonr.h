/*
 * Reading JSON (common/jsonr.c): a strict parser for request bodies.
 */
#ifndef FERRY_COMMON_JSONR_H
#define FERRY_COMMON_JSONR_H

#include <stddef.h>

enum jsonr_type {
	JSONR_NULL,
	JSONR_BOOL,
	JSONR_NUMBER,
	JSONR_STRING,
	JSONR_ARRAY,
	JSONR_OBJECT,
};

struct jsonr {
	enum jsonr_type	 type;
	int		 boolean;
	double		 num;
	char		*str;		/* a string's value, a number's text */
	struct jsonr	**items;	/* an array's or object's members */
	char		**keys;		/* an object's keys */
	size_t		 n;
};

struct jsonr	*jsonr_parse(const char *, size_t, char **);
void		 jsonr_free(struct jsonr *);
const struct jsonr *jsonr_get(const struct jsonr *, const char *);

#endif
