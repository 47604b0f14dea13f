/*
 * API tokens: made, hashed, recognised (scheduler/token.c).
 */
#ifndef FERRY_SCHEDULER_TOKEN_H
#define FERRY_SCHEDULER_TOKEN_H

#define TOKEN_PREFIX		"ferry_"
#define TOKEN_PREFIX_LEN	6

int	 token_make(char **, char **, char **);
char	*token_hash(const char *);
int	 token_wellformed(const char *);

#endif
