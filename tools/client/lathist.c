/*
 * lathist.c - the latency histogram of add --latency.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "client.h"
#include "lathist.h"

static size_t
lat_bucket(uint64_t us)
{
	int e;

	if (us < LAT_LINEAR)
		return (size_t)us;
	e = 63 - __builtin_clzll(us);           /* 7 .. 63 */
	return LAT_LINEAR + (size_t)(e - 7) * LAT_SUB +
	    (size_t)((us >> (e - 6)) & (LAT_SUB - 1));
}

/* Largest value bucket b holds, at most the max seen. */
static uint64_t
lat_top(const struct lat_hist *h, size_t b)
{
	size_t e, sub;
	uint64_t top;

	if (b < LAT_LINEAR) {
		top = b;
	} else {
		e = (b - LAT_LINEAR) / LAT_SUB + 7;
		sub = (b - LAT_LINEAR) % LAT_SUB;
		top = (1ull << e) + ((uint64_t)(sub + 1) << (e - 6)) - 1;
	}
	return top < h->max ? top : h->max;
}

void
lat_add(struct lat_hist *h, int64_t us)
{
	uint64_t v = us < 0 ? 0 : (uint64_t)us;

	h->count[lat_bucket(v)]++;
	h->n++;
	if (v > h->max)
		h->max = v;
}

uint64_t
lat_quantile(const struct lat_hist *h, double q)
{
	uint64_t rank = (uint64_t)ceil(q * (double)h->n), seen = 0;

	if (rank == 0)
		rank = 1;
	for (size_t b = 0; b < LAT_BUCKETS; b++) {
		seen += h->count[b];
		if (seen >= rank)
			return lat_top(h, b);
	}
	return h->max;
}

void
lat_print(const struct lat_hist *h)
{
	fprintf(stderr, "latency_us: n=%" PRIu64 " p50=%" PRIu64 " p99=%"
	    PRIu64 " p999=%" PRIu64 " max=%" PRIu64 "\n", h->n,
	    lat_quantile(h, 0.50), lat_quantile(h, 0.99),
	    lat_quantile(h, 0.999), h->max);
}

int
lat_write(const struct lat_hist *h, const char *path)
{
	FILE *f = fopen(path, "w");

	if (f == NULL) {
		fprintf(stderr, "seqcast: cannot write %s: %s\n", path,
		    strerror(errno));
		return RC_FAIL;
	}
	for (size_t b = 0; b < LAT_BUCKETS; b++)
		if (h->count[b])
			fprintf(f, "%" PRIu64 " %" PRIu64 "\n", lat_top(h, b),
			    h->count[b]);
	if (fclose(f) != 0) {
		fprintf(stderr, "seqcast: cannot write %s\n", path);
		return RC_FAIL;
	}
	return RC_OK;
}
