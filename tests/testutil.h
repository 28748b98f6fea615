/*
 * testutil.h - small helpers the unit tests share.
 */
#ifndef SEQCAST_TESTUTIL_H
#define SEQCAST_TESTUTIL_H

#include <stdint.h>

/* splitmix64: a seeded, repeatable random stream for randomized tests. */
static inline uint64_t
rnd(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform-enough number in [0, n) (0 when n is 0). */
static inline uint64_t
below(uint64_t *s, uint64_t n)
{
	return n ? rnd(s) % n : 0;
}

#endif
