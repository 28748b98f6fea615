/*
 * log.h - logging to stderr: "seqcastd[ID]: LEVEL: message".
 */
#ifndef SEQCAST_LOG_H
#define SEQCAST_LOG_H

#include <stdint.h>

enum sc_log_level { SC_LOG_ERROR = 0, SC_LOG_WARN, SC_LOG_INFO, SC_LOG_DEBUG };

void sc_log_init(const char *prog, int id, int level);
void sc_log(int level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A limiter for lines an outsider can cause (one per bad datagram): at
 * most one line per period; the lines held back are counted and said
 * with the next one that passes. */
struct sc_ratelimit {
	int64_t period;           /* microseconds */
	int64_t next;             /* when the next line may pass */
	unsigned long long suppressed; /* held back since the last one */
	unsigned long long total; /* held back in all */
};

/* May a line pass at now? *held: how many were held back before it. */
int sc_ratelimit_allow(struct sc_ratelimit *r, int64_t now,
    unsigned long long *held);

#define sc_warn(...)  sc_log(SC_LOG_WARN, __VA_ARGS__)
#define sc_info(...)  sc_log(SC_LOG_INFO, __VA_ARGS__)
#define sc_debug(...) sc_log(SC_LOG_DEBUG, __VA_ARGS__)

#endif
