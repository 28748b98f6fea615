/*
 * seqcast-noise - send hostile datagrams at a seqcast server or group, for
 * robustness tests: random bytes, valid datagrams of every type truncated
 * at a random length, and valid datagrams with random bytes flipped.
 *
 *   seqcast-noise --to ADDR:PORT [--count N] [--seconds S] [--seed X]
 *                 [--cluster N] [--kind random|truncated|mutated|all]
 *   seqcast-noise --to GROUP:PORT --replay K [--interface A.B.C.D]
 *   seqcast-noise --version
 *
 * --replay records the next K (1..64) datagrams sent to the group (a real
 * server's DATA, heartbeats: valid, and signed when the cluster has a key)
 * and sends each of them again, verbatim: a replay attack.
 *
 * Integers are decimal, checked by sc_parse_u64: --count 1..10^9, --seed
 * any 64-bit value, --cluster any 32-bit one; --seconds is above 0 and at
 * most a day. A bad value is named on stderr, with exit status 2.
 *
 * Bounded by count and time, and it stops by itself. It refuses any
 * destination outside 127.0.0.0/8 and 239.255.0.0/16 unless given
 * --any-destination (for addresses inside network namespaces a test made
 * itself); multicast goes out with TTL 1.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "seqcast/config.h"
#include "seqcast/net.h"
#include "seqcast/num.h"
#include "seqcast/wire.h"

#ifndef SC_VERSION_STRING
#define SC_VERSION_STRING "unknown" /* the Makefile passes the real one */
#endif

#define COUNT_MAX    1000000000ULL
#define SECONDS_MAX  86400.0
#define REPLAY_MAX   64

static uint64_t rng = 88172645463325252ULL;

static uint64_t
next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* A valid datagram of a random type, with random fields. */
static size_t
valid(uint8_t *buf, size_t cap, uint32_t cluster)
{
	struct sc_item items[8];
	uint8_t vals[8][64];
	struct sc_msg m;
	long len;
	int t = 1 + (int)(next() % (SC_TYPE_COUNT - 1));

	memset(&m, 0, sizeof(m));
	memset(items, 0, sizeof(items));
	m.h.magic = SC_MAGIC;
	m.h.version = SC_VERSION;
	m.h.type = (uint8_t)t;
	m.h.cluster = cluster;
	m.h.sender = (uint32_t)(next() % 4);
	m.a = next() % 100000;
	m.b = next() % 100;
	m.count = (uint32_t)(next() % 8);
	m.items = items;
	m.text = "{\"noise\":1}";
	for (uint32_t i = 0; i < m.count; i++) {
		items[i].id = next() % 100000;
		items[i].client = next();
		items[i].req = next() % 1000;
		items[i].first = next() % 100000;
		items[i].last = items[i].first + next() % 1000;
		items[i].len = (uint32_t)(next() % sizeof(vals[i]));
		for (uint32_t k = 0; k < items[i].len; k++)
			vals[i][k] = (uint8_t)next();
		items[i].value = vals[i];
	}
	len = sc_encode(&m, buf, cap);
	return len > 0 ? (size_t)len : 0;
}

static size_t
make(const char *kind, uint8_t *buf, size_t cap, uint32_t cluster)
{
	size_t len;
	int k = strcmp(kind, "random") == 0 ? 0 :
	    strcmp(kind, "truncated") == 0 ? 1 :
	    strcmp(kind, "mutated") == 0 ? 2 : (int)(next() % 3);

	if (k == 0) {
		len = next() % 1500;
		for (size_t i = 0; i < len; i++)
			buf[i] = (uint8_t)next();
		return len;
	}
	len = valid(buf, cap, cluster);
	if (len == 0)
		return 0;
	if (k == 1)
		return next() % len;
	for (int f = 1 + (int)(next() % 4); f > 0; f--)
		buf[next() % len] ^= (uint8_t)(1 + next() % 255);
	return len;
}

/* Record k datagrams from the group, then send them again. */
static int
replay(const struct sockaddr_in *group, struct in_addr ifaddr, long k,
    double seconds)
{
	static uint8_t bufs[REPLAY_MAX][SC_RECV_MAX];
	ssize_t lens[REPLAY_MAX];
	struct timeval tv = { (time_t)seconds, 0 };
	int fd = sc_net_group_socket(group, ifaddr, 0);
	long got = 0;

	if (k > REPLAY_MAX)
		k = REPLAY_MAX;
	if (fd == -1 || sc_net_mcast_sender(fd, ifaddr, 1) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == -1) {
		perror("seqcast-noise: group");
		return 1;
	}
	while (got < k && (lens[got] = recv(fd, bufs[got], SC_RECV_MAX, 0)) > 0)
		got++;
	for (long i = 0; i < got; i++)
		(void)sendto(fd, bufs[i], (size_t)lens[i], 0,
		    (const struct sockaddr *)group, sizeof(*group));
	printf("%ld\n", got);
	return got == k ? 0 : 1;
}

static int
allowed(struct in_addr a)
{
	uint32_t h = ntohl(a.s_addr);

	return (h >> 24) == 127 || (h >> 16) == ((239u << 8) | 255u);
}

struct noise_opts {
	struct sockaddr_in to;          /* valid when have_to */
	int have_to;
	int any;                        /* --any-destination */
	const char *kind;
	long count;
	double seconds;
	uint32_t cluster;
	long replays;                   /* --replay K (1..64); 0: send noise */
	struct in_addr ifaddr;          /* --interface */
};

static void
usage(void)
{
	fprintf(stderr, "usage: seqcast-noise --to ADDR:PORT [--count N] "
	    "[--seconds S] [--seed X] [--cluster N] "
	    "[--kind random|truncated|mutated|all] [--any-destination]\n"
	    "       seqcast-noise --to GROUP:PORT --replay K (1..64) "
	    "[--interface A.B.C.D] [--seconds S]\n"
	    "       seqcast-noise --version\n");
}

/* An integer option's value, or -1 with the option named on stderr. */
static int
opt_u64(const char *name, const char *arg, uint64_t lo, uint64_t hi,
    uint64_t *out)
{
	if (sc_parse_u64(arg, lo, hi, out) == SC_NUM_OK)
		return 0;
	fprintf(stderr, "seqcast-noise: bad --%s '%s': expected an integer "
	    "from %" PRIu64 " to %" PRIu64 "\n", name, arg, lo, hi);
	return -1;
}

static int
opt_seconds(const char *arg, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (errno || end == arg || *end || !isfinite(v) || !(v > 0) ||
	    v > SECONDS_MAX) {
		fprintf(stderr, "seqcast-noise: bad --seconds '%s': expected "
		    "a number above 0, at most %.0f\n", arg, SECONDS_MAX);
		return -1;
	}
	*out = v;
	return 0;
}

/* One option into *o (--seed sets the generator); -1: usage. */
static int
set_opt(struct noise_opts *o, int ch, const char *arg)
{
	uint64_t v;

	switch (ch) {
	case 't':
		o->have_to = sc_parse_addr(arg, &o->to) == 0;
		return 0;
	case 'n':
		if (opt_u64("count", arg, 1, COUNT_MAX, &v) == -1)
			return -1;
		o->count = (long)v;
		return 0;
	case 's':
		return opt_seconds(arg, &o->seconds);
	case 'r':
		if (opt_u64("seed", arg, 0, UINT64_MAX, &v) == -1)
			return -1;
		rng = v | 1;
		return 0;
	case 'c':
		if (opt_u64("cluster", arg, 0, UINT32_MAX, &v) == -1)
			return -1;
		o->cluster = (uint32_t)v;
		return 0;
	case 'k': o->kind = arg; return 0;
	case 'A': o->any = 1; return 0;
	case 'R':
		if (opt_u64("replay", arg, 1, REPLAY_MAX, &v) == -1)
			return -1;
		o->replays = (long)v;
		return 0;
	case 'I':
		return inet_pton(AF_INET, arg, &o->ifaddr) == 1 ? 0 : -1;
	default:
		return -1;
	}
}

/* The command line into *o; -1: usage. */
static int
parse_args(int argc, char **argv, struct noise_opts *o)
{
	static const struct option lo[] = {
		{ "to", required_argument, NULL, 't' },
		{ "count", required_argument, NULL, 'n' },
		{ "seconds", required_argument, NULL, 's' },
		{ "seed", required_argument, NULL, 'r' },
		{ "cluster", required_argument, NULL, 'c' },
		{ "kind", required_argument, NULL, 'k' },
		{ "any-destination", no_argument, NULL, 'A' },
		{ "replay", required_argument, NULL, 'R' },
		{ "interface", required_argument, NULL, 'I' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	int ch;

	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (ch == 'V') {
			printf("seqcast-noise %s\n", SC_VERSION_STRING);
			exit(0);
		}
		if (set_opt(o, ch, optarg) == -1)
			return -1;
	}
	return o->have_to ? 0 : -1;
}

/* Up to --count hostile datagrams for at most --seconds; prints the count. */
static int
send_noise(const struct noise_opts *o)
{
	uint8_t buf[SC_RECV_MAX];
	struct timespec t0, t;
	long sent;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	if (fd == -1 || sc_net_mcast_sender(fd, o->ifaddr, 1) == -1) {
		perror("seqcast-noise: socket");
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (sent = 0; sent < o->count; sent++) {
		size_t len = make(o->kind, buf, sizeof(buf), o->cluster);

		(void)sendto(fd, buf, len, 0, (const struct sockaddr *)&o->to,
		    sizeof(o->to));
		if (sent % 256 == 0) {
			clock_gettime(CLOCK_MONOTONIC, &t);
			if ((double)(t.tv_sec - t0.tv_sec) +
			    (double)(t.tv_nsec - t0.tv_nsec) / 1e9 > o->seconds)
				break;
			usleep(200);    /* do not starve the receivers */
		}
	}
	printf("%ld\n", sent);
	return 0;
}

int
main(int argc, char **argv)
{
	struct noise_opts o = {
		.kind = "all", .count = 10000, .seconds = 10, .cluster = 1,
		.ifaddr = { htonl(INADDR_LOOPBACK) },
	};

	if (parse_args(argc, argv, &o) == -1) {
		usage();
		return 2;
	}
	if (!o.any && !allowed(o.to.sin_addr)) {
		fprintf(stderr, "seqcast-noise: refusing a destination outside "
		    "127.0.0.0/8 and 239.255.0.0/16\n");
		return 2;
	}
	if (o.replays > 0)
		return replay(&o.to, o.ifaddr, o.replays, o.seconds);
	return send_noise(&o);
}
