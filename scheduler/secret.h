/*
 * Stored secrets: encrypted with a key kept beside the job store, or a
 * reference to where the secret lives.
 */
#ifndef FERRY_SCHEDULER_SECRET_H
#define FERRY_SCHEDULER_SECRET_H

#include <stdint.h>

struct store;

int	 secret_seal(const char *, const char *, char **, char **);
int	 secret_seal_for(struct store *, int64_t, const char *, char **,
	    char **);
int	 secret_open_for(struct store *, int64_t, const char *, char **,
	    char **);
int	 secret_reference(const char *, char **, char **);
int	 secret_open(const char *, const char *, char **, char **);
const char *secret_describe(const char *);

#endif
