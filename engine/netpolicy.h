/*
 * Where a tenant's endpoints may lead the daemon (engine/netpolicy.c).
 */
#ifndef FERRY_ENGINE_NETPOLICY_H
#define FERRY_ENGINE_NETPOLICY_H

#include <stddef.h>

struct sockaddr;

/* Words every refusal's sentence holds: a job's failure that has them is
 * permanent (the policy does not change by retrying). */
#define NETPOLICY_WORDS	"network policy for tenants' endpoints refuses"

void	 netpolicy_init(void);
int	 netpolicy_add(int, const char *, char **);
char	*netpolicy_export(void);
int	 netpolicy_import(const char *, char **);
const char *netpolicy_refusal(const struct sockaddr *);
void	 netpolicy_addr_text(const struct sockaddr *, char *, size_t);
char	*netpolicy_cause(const char *, const struct sockaddr *, const char *);

#endif
