/*
 * rng.c - xorshift64* seeded through splitmix64.
 */
#include "seqcast/rng.h"

static uint64_t
splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

uint64_t
sc_rng_seed(uint64_t seed, uint64_t stream)
{
	uint64_t s = seed, id = stream, r;

	s = splitmix64(&s) ^ splitmix64(&id);
	r = splitmix64(&s);
	return r ? r : 0x853c49e6748fea9bull;
}

uint64_t
sc_rng_next(uint64_t *state)
{
	uint64_t x = *state;

	if (x == 0)
		x = 0x853c49e6748fea9bull;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545f4914f6cdd1dull;
}

double
sc_rng_uniform(uint64_t *state)
{
	return (double)(sc_rng_next(state) >> 11) * 0x1.0p-53;
}

/* Lemire's multiply-shift with rejection: exactly uniform. */
uint64_t
sc_rng_below(uint64_t *state, uint64_t n)
{
	unsigned __int128 m;
	uint64_t lo;

	if (n == 0)
		return 0;
	m = (unsigned __int128)sc_rng_next(state) * n;
	lo = (uint64_t)m;
	if (lo < n) {
		uint64_t t = -n % n;

		while (lo < t) {
			m = (unsigned __int128)sc_rng_next(state) * n;
			lo = (uint64_t)m;
		}
	}
	return (uint64_t)(m >> 64);
}
