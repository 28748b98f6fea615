/*
 * bucket.c - the token bucket.
 */
#include <math.h>

#include "seqcast/bucket.h"

void
sc_bucket_init(struct sc_bucket *b, double rate, double burst, double tokens,
    int64_t now)
{
	b->rate = rate;
	b->burst = burst;
	b->tokens = tokens < burst ? tokens : burst;
	b->last = now;
}

/* The tokens there are at now, without taking any. */
static double
bucket_level(const struct sc_bucket *b, int64_t now)
{
	double t = b->tokens;

	if (now > b->last)
		t += (double)(now - b->last) * b->rate / 1e6;
	return t < b->burst ? t : b->burst;
}

void
sc_bucket_refill(struct sc_bucket *b, int64_t now)
{
	if (b->rate <= 0)
		return;
	b->tokens = bucket_level(b, now);
	if (now > b->last)
		b->last = now;
}

int
sc_bucket_take(struct sc_bucket *b, int64_t now)
{
	if (b->rate <= 0)
		return 1;
	sc_bucket_refill(b, now);
	if (b->tokens < 1)
		return 0;
	b->tokens -= 1;
	return 1;
}

int64_t
sc_bucket_wait(const struct sc_bucket *b, int64_t now)
{
	double t;

	if (b->rate <= 0 || (t = bucket_level(b, now)) >= 1)
		return 0;
	return (int64_t)ceil((1 - t) * 1e6 / b->rate);
}
