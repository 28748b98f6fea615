/*
 * testutil.h - small helpers the unit tests share.
 */
#ifndef SEQCAST_TESTUTIL_H
#define SEQCAST_TESTUTIL_H

#include <stdint.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <netinet/in.h>

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

/* An IPv4 socket address (host order in). */
static inline struct sockaddr_in
sa(uint32_t host, uint16_t port)
{
	struct sockaddr_in a;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(host);
	a.sin_port = htons(port);
	return a;
}

/* The monotonic clock in milliseconds. */
static inline int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#endif
