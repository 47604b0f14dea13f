/*
 * A tenant's rows per second, shared by its jobs (engine/throttle.c).
 */
#ifndef FERRY_ENGINE_THROTTLE_H
#define FERRY_ENGINE_THROTTLE_H

#include <stdint.h>

struct throttle;

struct throttle *throttle_get(int64_t, int64_t);
void	 throttle_put(struct throttle *);
int64_t	 throttle_block(const struct throttle *);
uint64_t throttle_take(struct throttle *, int64_t);

#endif
