/*
 * A tenant's rows per second (its max-rows-per-sec quota), shared by all
 * of its jobs this daemon runs: a token bucket refilled at the rate, one
 * second of it at most in store.  A job draws rows from it in blocks (a
 * twentieth of a second's worth, at most 1000), so a record costs no lock;
 * a draw the bucket cannot cover returns how long the job is to wait, and
 * the job waits in its record path (engine/emit.c) as it does for Kafka:
 * back-pressure, counted as throttled time.
 *
 * Buckets live in a registry by tenant, made by the first job of a tenant
 * and freed with its last; a job started after a quota change brings the
 * new rate.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>

#include "common/util.h"
#include "common/xmalloc.h"
#include "engine/throttle.h"

struct throttle {
	int64_t			 tenant;
	int64_t			 rate;		/* rows per second */
	double			 tokens;	/* may go below 0: owed */
	uint64_t		 at_us;		/* last refill */
	int			 refs;
	struct throttle		*next;
};

static pthread_mutex_t	 throttle_mtx = PTHREAD_MUTEX_INITIALIZER;
static struct throttle	*throttle_list;

/*
 * The bucket of tenant at rate rows/s (a reference: give it back with
 * throttle_put()); NULL when the rate is not limited (<= 0).
 */
struct throttle *
throttle_get(int64_t tenant, int64_t rate)
{
	struct throttle	*t;

	if (rate <= 0)
		return (NULL);
	pthread_mutex_lock(&throttle_mtx);
	for (t = throttle_list; t != NULL; t = t->next) {
		if (t->tenant == tenant)
			break;
	}
	if (t == NULL) {
		t = xcalloc(1, sizeof *t);
		t->tenant = tenant;
		t->tokens = (double)rate;
		t->at_us = util_mono_us();
		t->next = throttle_list;
		throttle_list = t;
	}
	t->rate = rate;
	t->refs++;
	pthread_mutex_unlock(&throttle_mtx);
	return (t);
}

void
throttle_put(struct throttle *t)
{
	struct throttle	**pp;

	if (t == NULL)
		return;
	pthread_mutex_lock(&throttle_mtx);
	if (--t->refs == 0) {
		for (pp = &throttle_list; *pp != NULL; pp = &(*pp)->next) {
			if (*pp == t) {
				*pp = t->next;
				break;
			}
		}
		free(t);
	}
	pthread_mutex_unlock(&throttle_mtx);
}

/* How many rows a job draws at once. */
int64_t
throttle_block(const struct throttle *t)
{
	int64_t	 b = t->rate / 20;

	return (b < 1 ? 1 : b > 1000 ? 1000 : b);
}

/*
 * Draw n rows: the microseconds to wait before sending them (0: at once).
 * Any thread.
 */
uint64_t
throttle_take(struct throttle *t, int64_t n)
{
	uint64_t	 now, wait = 0;

	pthread_mutex_lock(&throttle_mtx);
	now = util_mono_us();
	t->tokens += (double)(now - t->at_us) * (double)t->rate / 1e6;
	if (t->tokens > (double)t->rate)
		t->tokens = (double)t->rate;	/* a second of burst */
	t->at_us = now;
	t->tokens -= (double)n;
	if (t->tokens < 0)
		wait = (uint64_t)(-t->tokens * 1e6 / (double)t->rate);
	pthread_mutex_unlock(&throttle_mtx);
	return (wait);
}
