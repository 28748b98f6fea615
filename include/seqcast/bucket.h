/*
 * bucket.h - a token bucket: `rate` tokens a second flow in, at most
 * `burst` are saved up, and each thing allowed takes one. The tree's one
 * rate limiter (the client's --rate; a server's add_rate and catch-up
 * rate).
 *
 * Time is passed in (monotonic microseconds); pure. A rate of 0 (or
 * less) means no limit: every take succeeds.
 */
#ifndef SEQCAST_BUCKET_H
#define SEQCAST_BUCKET_H

#include <stdint.h>

struct sc_bucket {
	double rate;      /* tokens per second; <= 0: no limit */
	double burst;     /* most tokens saved up (at least 1 is sensible) */
	double tokens;    /* tokens as of `last` */
	int64_t last;     /* when tokens were last brought up to date (us) */
};

/* A bucket holding `tokens` tokens at time now. */
void sc_bucket_init(struct sc_bucket *b, double rate, double burst,
    double tokens, int64_t now);
/* Bring the tokens up to date (a time before `last` adds nothing). */
void sc_bucket_refill(struct sc_bucket *b, int64_t now);
/* Refill, then take one token if there is one: 1 taken, 0 not. */
int sc_bucket_take(struct sc_bucket *b, int64_t now);
/* Microseconds from now until a token is there (0: there is one now, or
 * no limit). Changes nothing. */
int64_t sc_bucket_wait(const struct sc_bucket *b, int64_t now);

#endif
