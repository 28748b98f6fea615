/*
 * cli.h - seqcast's command line: what the user asked for.
 */
#ifndef SEQCAST_CLI_H
#define SEQCAST_CLI_H

#include <stdint.h>
#include <stdio.h>

#include "seqcast/choice.h"

enum cmd { CMD_NONE = -1, CMD_ADD, CMD_LOG, CMD_STATS, CMD_WAIT };

#define CLI_WINDOW_MAX 65536

struct opts {
	enum cmd cmd;
	char *server[SC_CHOICE_MAX]; /* HOST:PORT as given (own copies) */
	uint32_t nservers;
	double timeout_s;         /* as given, for messages */
	int64_t timeout_us;
	uint32_t retry_ms;
	uint32_t cluster;
	const char *key_file;     /* --key-file: sign and check datagrams */
	/* add */
	const char *file;
	int has_count;
	uint64_t count;
	double rate;
	const char *prefix;
	char prefix_buf[32];
	uint32_t window;
	uint32_t value_max;
	uint32_t value_size;      /* --value-size: generated values padded */
	int quiet;
	int latency;              /* --latency: time requests to their ACK */
	const char *latency_file; /* --latency-file: the histogram, merged */
	int stats_line;           /* --stats-line: counts and rate at the end */
	char **values;
	int nvalues;
	/* log */
	uint64_t from;
	uint64_t to;              /* last id to print (UINT64_MAX: all) */
	int json;                 /* --json: one JSON object per entry */
	int follow;               /* --follow: then each new entry, until
	                             interrupted */
	/* stats */
	int prometheus;           /* --prometheus: text exposition format */
	/* wait */
	int has_applied;
	uint64_t applied;
	uint32_t poll_ms;
};

/* Parse argv into *o: RC_OK, RC_HELP, RC_VERSION, or RC_USAGE (the error
 * is reported: one line and a hint). cli_free(o) in every case. */
int cli_parse(int argc, char **argv, struct opts *o);
void cli_free(struct opts *o);
/* The full help. */
void cli_usage(FILE *f);
/* Report a usage error: "seqcast: <message>" and a hint; RC_USAGE. */
int cli_usage_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

#endif
