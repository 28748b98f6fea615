/*
 * client.h - what every room of the client (seqcast) shares: exit codes,
 * the monotonic clock, the out-of-memory report.
 *
 *   main.c    the program: parse, load the key, run the command
 *   cli.c     the command line: options, usage, usage errors
 *   conn.c    the socket to a server, the key, the servers' cookies,
 *             sending and receiving
 *   input.c   add's values: arguments, a file's lines, generated ones
 *   adder.c   add's pipeline: batches, ACKs, printing in input order;
 *             what to resend is resend.h's, which server is choice.h's
 *   lathist.c add --latency: the latency histogram
 *   query.c   stats, wait: a request, its reply
 *   logfetch.c log (and --follow): pages in flight, long polls
 *   print.c   an entry as text or JSON
 *   json.c    a small JSON reader (the server's stats)
 *   prom.c    stats as Prometheus text exposition
 */
#ifndef SEQCAST_CLIENT_H
#define SEQCAST_CLIENT_H

#include <stdint.h>
#include <stdio.h>
#include <time.h>

/* Exit status: 0 success, 1 failure, 2 usage error. RC_HELP and
 * RC_VERSION only travel from the parser to main. */
enum { RC_OK = 0, RC_FAIL = 1, RC_USAGE = 2, RC_HELP = 3, RC_VERSION = 4 };

static inline int64_t
clock_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static inline int
oom(void)
{
	fputs("seqcast: out of memory\n", stderr);
	return RC_FAIL;
}

#endif
