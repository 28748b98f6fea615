/*
 * log.c - stderr logging with a level.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>

#include "seqcast/log.h"

static const char *log_prog = "seqcastd";
static int log_id = -1;
static int log_level = SC_LOG_INFO;

void
sc_log_init(const char *prog, int id, int level)
{
	log_prog = prog;
	log_id = id;
	log_level = level;
}

void
sc_log(int level, const char *fmt, ...)
{
	static const char *names[] = { "error", "warning", "info", "debug" };
	va_list ap;

	if (level > log_level)
		return;
	if (log_id >= 0)
		fprintf(stderr, "%s[%d]: %s: ", log_prog, log_id, names[level]);
	else
		fprintf(stderr, "%s: %s: ", log_prog, names[level]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int
sc_ratelimit_allow(struct sc_ratelimit *r, int64_t now,
    unsigned long long *held)
{
	if (now < r->next) {
		r->suppressed++;
		r->total++;
		return 0;
	}
	r->next = now + (r->period > 0 ? r->period : 1000000);
	*held = r->suppressed;
	r->suppressed = 0;
	return 1;
}
