/*
 * rng.h - the one seeded random stream of the tree (fault injection, NACK
 * jitter, the simulator): xorshift64* seeded through splitmix64. Same
 * seed, same numbers, so a run replays.
 */
#ifndef SEQCAST_RNG_H
#define SEQCAST_RNG_H

#include <stdint.h>

/* A state from a seed mixed with a stream number (0 is a seed too). */
uint64_t sc_rng_seed(uint64_t seed, uint64_t stream);
/* The next 64 random bits; the state is never left 0. */
uint64_t sc_rng_next(uint64_t *state);
/* Uniform in [0, 1) and in [0, n) (exactly uniform; 0 when n is 0). */
double sc_rng_uniform(uint64_t *state);
uint64_t sc_rng_below(uint64_t *state, uint64_t n);

#endif
