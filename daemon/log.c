/*
 * log.c - stderr logging with a level.
 */
#include <stdarg.h>
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
