/*
 * lathist.h - add --latency: a log-linear latency histogram (exact below
 * LAT_LINEAR us, then LAT_SUB buckets per power of two: under 1.6% error,
 * O(1) per request whatever N).
 */
#ifndef SEQCAST_LATHIST_H
#define SEQCAST_LATHIST_H

#include <stdint.h>

#define LAT_SUB     64     /* buckets per octave */
#define LAT_LINEAR  128    /* below this many us: one bucket per us */
#define LAT_BUCKETS (LAT_LINEAR + 57 * LAT_SUB)   /* up to 2^64 us */

struct lat_hist {
	uint64_t n, max;
	uint64_t count[LAT_BUCKETS];
};

void lat_add(struct lat_hist *h, int64_t us);
/* The value at quantile q (0..1): its bucket's top, at most the max. */
uint64_t lat_quantile(const struct lat_hist *h, double q);
/* "latency_us: n=N p50=.. p99=.. p999=.. max=.." to stderr. */
void lat_print(const struct lat_hist *h);
/* "US COUNT" per non-empty bucket into path: RC_OK or RC_FAIL. */
int lat_write(const struct lat_hist *h, const char *path);

#endif
