/*
 * cli.c - seqcast's command line: options, the help, usage errors.
 *
 * Options may come before the command and among its words, in any order;
 * each applies to some commands only, and one that does not is an error.
 * Every usage error is one line naming the argument at fault, and a hint.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "seqcast/num.h"
#include "seqcast/wire.h"

#include "cli.h"
#include "client.h"

#define WAIT_POLL_MS 50

static const char *const usage_text[] = {
"usage: seqcast COMMAND --server HOST:PORT [OPTION...] [VALUE...]\n"
"\n"
"Commands:\n"
"  add VALUE...         append each VALUE as one entry\n"
"  add --file F         append each line of F (- = standard input) as one\n"
"                       entry; the line end (\\n or \\r\\n) is removed and\n"
"                       empty lines are skipped\n"
"  add --count N        append N generated entries PREFIX-1 .. PREFIX-N\n"
"  log                  print the log, one \"ID<TAB>VALUE\" line per entry\n"
"  stats                print the server's statistics (one JSON object)\n"
"  wait --applied N     wait until the server has applied N entries\n"
"\n",
"Options for every command:\n"
"  --server HOST:PORT   server to ask (required); HOST is an IPv4 address\n"
"                       or a name. add takes several (--server A --server B,\n"
"                       or A,B) and moves to the next when one refuses,\n"
"                       answers \"unavailable\" or stays silent\n"
"  --timeout S          give up after S seconds without progress (default\n"
"                       10, fractions allowed); add retries through a\n"
"                       server's restart until then; for wait: how long\n"
"  --retry-ms N         resend an unanswered request after at most N ms\n"
"                       (default 200); add adapts the first resend to the\n"
"                       measured round trip (srtt + 4 rttvar, at least 3\n"
"                       srtt and 20 ms); the delay doubles per resend up to\n"
"                       1000 ms\n"
"  --cluster N          cluster id put in requests (default 0: the server's)\n"
"  --key-file F         the cluster's shared key: sign requests, check replies\n"
"  -h, --help           print this help and exit\n"
"  --version            print the version and exit\n"
"\n",
"Options for add:\n"
"  --file F             read the values from F, one per line (- = stdin)\n"
"  --count N            generate N values\n"
"  --rate R             with --count: R entries per second (default 0: as\n"
"                       fast as the window allows)\n"
"  --prefix P           with --count: value prefix (default load-PID)\n"
"  --window W           requests in flight at most (default 256)\n"
"  --value-max N        refuse values longer than N bytes (default and\n"
"                       most: 1024)\n"
"  --value-size N       with --count: pad each value PREFIX-K with '.'\n"
"                       to exactly N bytes\n"
"  -q, --quiet          print nothing\n"
"  --latency            time each request from its first send to its ACK;\n"
"                       at the end print to stderr \"latency_us: n=N\n"
"                       p50=.. p99=.. p999=.. max=..\" (within 1.6%)\n"
"  --latency-file F     also write the histogram to F, one \"US COUNT\"\n"
"                       line per bucket (files of several clients merge)\n"
"  --stats-line         at the end print to stderr \"sent=N acked=N\n"
"                       resent=N datagrams=N bytes=N seconds=S rate=R/s\n"
"                       cpu=S fast=N probes=N switches=N\"\n"
"\n",
"Options for log:\n"
"  --from ID            first entry to print (default 1)\n"
"  --to ID              last entry to print (default: the last applied)\n"
"  --json               one JSON object per line: {\"id\":N,\"value\":\"...\"}\n"
"  --follow             then print each new entry as the server applies it,\n"
"                       until interrupted (Ctrl-C: exit 0); rides through a\n"
"                       restart of the server (within --timeout)\n"
"\n"
"Options for stats:\n"
"  --prometheus         Prometheus text format (node_exporter's textfile\n"
"                       collector) instead of JSON\n"
"\n"
"Options for wait:\n"
"  --applied N          entries the server must have applied (required)\n"
"  --poll-ms N          ask the server every N ms (default 50)\n"
"\n",
"add prints \"ID<TAB>VALUE\" for every entry, in input order, once the\n"
"server has acknowledged it. Values are printed escaped: backslash as \\\\,\n"
"newline \\n, tab \\t, carriage return \\r, other bytes below 0x20 and 0x7f\n"
"as \\xHH. Use -- before values that begin with '-'.\n"
"\n"
"Exit status: 0 success, 1 failure, 2 usage error.\n",
};

void
cli_usage(FILE *f)
{
	for (size_t i = 0; i < sizeof(usage_text) / sizeof(usage_text[0]); i++)
		fputs(usage_text[i], f);
}

int
cli_usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("seqcast: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\ntry 'seqcast --help'\n", stderr);
	return RC_USAGE;
}

enum opt_id {
	O_SERVER = 256, O_TIMEOUT, O_RETRY, O_CLUSTER, O_FILE, O_COUNT,
	O_RATE, O_PREFIX, O_WINDOW, O_VALUE_MAX, O_FROM, O_APPLIED,
	O_VALUE_SIZE, O_LATENCY, O_LATENCY_FILE, O_STATS_LINE, O_POLL_MS,
	O_KEY_FILE, O_TO, O_JSON, O_PROMETHEUS, O_VERSION, O_FOLLOW,
	O_QUIET = 'q', O_HELP = 'h'
};

static const struct option long_opts[] = {
	{ "server",    required_argument, NULL, O_SERVER },
	{ "timeout",   required_argument, NULL, O_TIMEOUT },
	{ "retry-ms",  required_argument, NULL, O_RETRY },
	{ "cluster",   required_argument, NULL, O_CLUSTER },
	{ "key-file",  required_argument, NULL, O_KEY_FILE },
	{ "file",      required_argument, NULL, O_FILE },
	{ "count",     required_argument, NULL, O_COUNT },
	{ "rate",      required_argument, NULL, O_RATE },
	{ "prefix",    required_argument, NULL, O_PREFIX },
	{ "window",    required_argument, NULL, O_WINDOW },
	{ "value-max", required_argument, NULL, O_VALUE_MAX },
	{ "from",      required_argument, NULL, O_FROM },
	{ "to",        required_argument, NULL, O_TO },
	{ "json",      no_argument,       NULL, O_JSON },
	{ "follow",    no_argument,       NULL, O_FOLLOW },
	{ "prometheus", no_argument,      NULL, O_PROMETHEUS },
	{ "applied",   required_argument, NULL, O_APPLIED },
	{ "value-size", required_argument, NULL, O_VALUE_SIZE },
	{ "latency",   no_argument,       NULL, O_LATENCY },
	{ "latency-file", required_argument, NULL, O_LATENCY_FILE },
	{ "stats-line", no_argument,      NULL, O_STATS_LINE },
	{ "poll-ms",   required_argument, NULL, O_POLL_MS },
	{ "quiet",     no_argument,       NULL, O_QUIET },
	{ "help",      no_argument,       NULL, O_HELP },
	{ "version",   no_argument,       NULL, O_VERSION },
	{ NULL, 0, NULL, 0 }
};

#define CMD_BIT(c) (1u << (c))
#define ALL_CMDS   (CMD_BIT(CMD_ADD) | CMD_BIT(CMD_LOG) | \
                    CMD_BIT(CMD_STATS) | CMD_BIT(CMD_WAIT))

/* Commands an option applies to. */
static unsigned
opt_cmds(int id)
{
	switch (id) {
	case O_FILE: case O_COUNT: case O_RATE: case O_PREFIX:
	case O_WINDOW: case O_VALUE_MAX: case O_QUIET: case O_VALUE_SIZE:
	case O_LATENCY: case O_LATENCY_FILE: case O_STATS_LINE:
		return CMD_BIT(CMD_ADD);
	case O_FROM: case O_TO: case O_JSON: case O_FOLLOW:
		return CMD_BIT(CMD_LOG);
	case O_PROMETHEUS:
		return CMD_BIT(CMD_STATS);
	case O_APPLIED: case O_POLL_MS:
		return CMD_BIT(CMD_WAIT);
	default:
		return ALL_CMDS;
	}
}

static const char *
opt_name(int id)
{
	for (const struct option *p = long_opts; p->name; p++)
		if (p->val == id)
			return p->name;
	return "?";
}

static const char *const cmd_names[] = { "add", "log", "stats", "wait" };

static enum cmd
parse_cmd(const char *s)
{
	for (int i = 0; i < 4; i++)
		if (strcmp(s, cmd_names[i]) == 0)
			return (enum cmd)i;
	return CMD_NONE;
}

/* Seconds or a rate: a plain decimal number (fractions allowed). */
static int
parse_num(const char *s, double min, double max, double *out)
{
	char *end;
	double v;

	if (!((*s >= '0' && *s <= '9') || *s == '.'))
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || !isfinite(v) || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* An integer option argument into *out (of width `size`). */
static int
opt_int(int id, const char *arg, uint64_t min, uint64_t max, void *out,
    size_t size)
{
	uint64_t v;

	if (sc_parse_u64(arg, min, max, &v) != SC_NUM_OK)
		return cli_usage_error("bad --%s '%s': expected an integer "
		    "from %" PRIu64 " to %" PRIu64, opt_name(id), arg, min,
		    max);
	if (size == sizeof(uint32_t))
		*(uint32_t *)out = (uint32_t)v;
	else
		*(uint64_t *)out = v;
	return RC_OK;
}

static int
opt_timeout(struct opts *o, const char *arg)
{
	if (parse_num(arg, 0.001, 1e7, &o->timeout_s) < 0)
		return cli_usage_error("bad --timeout '%s': expected seconds "
		    "from 0.001 to 10000000", arg);
	o->timeout_us = (int64_t)(o->timeout_s * 1e6 + 0.5);
	return RC_OK;
}

static int
opt_rate(struct opts *o, const char *arg)
{
	if (parse_num(arg, 0, 1e9, &o->rate) < 0)
		return cli_usage_error("bad --rate '%s': expected entries per "
		    "second from 0 to 1000000000", arg);
	return RC_OK;
}

/* --server A, or a comma list A,B,C: each kept as its own string. */
static int
opt_server(struct opts *o, const char *arg)
{
	const char *p = arg;

	for (;;) {
		size_t len = strcspn(p, ",");

		if (len == 0)
			return cli_usage_error("bad --server '%s': expected "
			    "HOST:PORT[,HOST:PORT...]", arg);
		if (o->nservers == SC_CHOICE_MAX)
			return cli_usage_error("--server: at most %d servers",
			    SC_CHOICE_MAX);
		if ((o->server[o->nservers] = strndup(p, len)) == NULL)
			return oom();
		o->nservers++;
		if (p[len] == '\0')
			return RC_OK;
		p += len + 1;
	}
}

/* The benchmark options of add, and the flags of log, stats and wait. */
static int
set_other_opt(struct opts *o, int id, const char *arg)
{
	switch (id) {
	case O_VALUE_SIZE:
		return opt_int(id, arg, 1, SC_VALUE_MAX, &o->value_size, 4);
	case O_LATENCY:    o->latency = 1; return RC_OK;
	case O_LATENCY_FILE:
		o->latency = 1;
		o->latency_file = arg;
		return RC_OK;
	case O_STATS_LINE: o->stats_line = 1; return RC_OK;
	case O_POLL_MS:
		return opt_int(id, arg, 1, 60000, &o->poll_ms, 4);
	case O_TO:
		return opt_int(id, arg, 1, UINT64_MAX / 2, &o->to, 8);
	case O_JSON:       o->json = 1; return RC_OK;
	case O_FOLLOW:     o->follow = 1; return RC_OK;
	case O_PROMETHEUS: o->prometheus = 1; return RC_OK;
	default:           return RC_USAGE;
	}
}

static int
set_opt(struct opts *o, int id, const char *arg)
{
	switch (id) {
	case O_SERVER:   return opt_server(o, arg);
	case O_TIMEOUT:  return opt_timeout(o, arg);
	case O_RETRY:
		return opt_int(id, arg, 1, 600000, &o->retry_ms, 4);
	case O_CLUSTER:
		return opt_int(id, arg, 0, UINT32_MAX, &o->cluster, 4);
	case O_FILE:     o->file = arg; return RC_OK;
	case O_KEY_FILE: o->key_file = arg; return RC_OK;
	case O_COUNT:
		o->has_count = 1;
		return opt_int(id, arg, 0, UINT64_MAX / 2, &o->count, 8);
	case O_RATE:     return opt_rate(o, arg);
	case O_PREFIX:   o->prefix = arg; return RC_OK;
	case O_WINDOW:
		return opt_int(id, arg, 1, CLI_WINDOW_MAX, &o->window, 4);
	case O_VALUE_MAX:
		return opt_int(id, arg, 0, UINT32_MAX, &o->value_max, 4);
	case O_FROM:
		return opt_int(id, arg, 1, UINT64_MAX / 2, &o->from, 8);
	case O_APPLIED:
		o->has_applied = 1;
		return opt_int(id, arg, 0, UINT64_MAX / 2, &o->applied, 8);
	case O_QUIET:    o->quiet = 1; return RC_OK;
	default:         return set_other_opt(o, id, arg);
	}
}

static void
opts_defaults(struct opts *o)
{
	memset(o, 0, sizeof(*o));
	o->cmd = CMD_NONE;
	o->timeout_s = 10;
	o->timeout_us = 10000000;
	o->retry_ms = 200;
	o->window = 256;
	o->value_max = SC_VALUE_MAX;
	o->from = 1;
	o->to = UINT64_MAX;
	o->poll_ms = WAIT_POLL_MS;
	snprintf(o->prefix_buf, sizeof(o->prefix_buf), "load-%ld",
	    (long)getpid());
}

void
cli_free(struct opts *o)
{
	for (uint32_t i = 0; i < o->nservers; i++)
		free(o->server[i]);
	o->nservers = 0;
}

/* getopt's '?': name the argument at fault. A long option has been
 * stepped over (argv[optind - 1]); an unknown letter of a short one
 * ("-dash") leaves optind on its word unless it was the word's last. */
static int
unknown_option(int argc, char **argv)
{
	const char *arg = argv[optind - 1];

	if (optopt != 0) {
		const char *prev = argv[optind - 1];
		size_t n = strlen(prev);

		if (!(prev[0] == '-' && n > 1 && prev[n - 1] == optopt) &&
		    optind < argc)
			arg = argv[optind];
	}
	if (arg[0] == '-' && arg[1] != '-' && arg[1] != '\0')
		return cli_usage_error("unknown option '%s' (put -- before "
		    "values that begin with '-')", arg);
	return cli_usage_error("unknown option '%s'", arg);
}

/* getopt_long over argv; records which options were seen in *seen. */
static int
parse_flags(int argc, char **argv, const char *optstring, struct opts *o,
    uint64_t *seen)
{
	int id, rc;

	opterr = 0;
	while ((id = getopt_long(argc, argv, optstring, long_opts,
	    NULL)) != -1) {
		if (id == O_HELP)
			return RC_HELP;
		if (id == O_VERSION)
			return RC_VERSION;
		if (id == '?')
			return unknown_option(argc, argv);
		if (id == ':')
			return cli_usage_error("option '%s' needs a value",
			    argv[optind - 1]);
		*seen |= 1ull << (id & 63);
		if ((rc = set_opt(o, id, optarg)) != RC_OK)
			return rc;
	}
	return RC_OK;
}

/* Every option seen must apply to the command. */
static int
check_seen(const struct opts *o, uint64_t seen)
{
	for (const struct option *p = long_opts; p->name; p++) {
		if (!(seen & (1ull << (p->val & 63))))
			continue;
		if (!(opt_cmds(p->val) & CMD_BIT(o->cmd)))
			return cli_usage_error("--%s does not apply to '%s'",
			    p->name, cmd_names[o->cmd]);
	}
	return RC_OK;
}

static int
check_add_args(struct opts *o)
{
	int sources = (o->nvalues > 0) + (o->file != NULL) + o->has_count;

	if (sources == 0)
		return cli_usage_error("add needs VALUE..., --file F or "
		    "--count N");
	if (sources > 1)
		return cli_usage_error("add takes values from one of "
		    "VALUE..., --file or --count");
	if (!o->has_count && (o->rate > 0 || o->prefix || o->value_size))
		return cli_usage_error("--rate, --prefix and --value-size "
		    "need --count");
	if (!o->prefix)
		o->prefix = o->prefix_buf;
	if (o->value_max > SC_VALUE_MAX)
		o->value_max = SC_VALUE_MAX;
	return RC_OK;
}

static int
check_args(struct opts *o, uint64_t seen)
{
	int rc = check_seen(o, seen);

	if (rc != RC_OK)
		return rc;
	if (o->nservers == 0)
		return cli_usage_error("--server HOST:PORT is required");
	if (o->nservers > 1 && o->cmd != CMD_ADD)
		return cli_usage_error("'%s' asks one server (%u given); "
		    "only add takes several", cmd_names[o->cmd], o->nservers);
	if (o->cmd == CMD_ADD)
		return check_add_args(o);
	if (o->nvalues > 0)
		return cli_usage_error("unexpected argument '%s'",
		    o->values[0]);
	if (o->cmd == CMD_LOG && o->to < o->from)
		return cli_usage_error("--to %" PRIu64 " is before --from %"
		    PRIu64, o->to, o->from);
	if (o->cmd == CMD_WAIT && !o->has_applied)
		return cli_usage_error("wait needs --applied N");
	return RC_OK;
}

int
cli_parse(int argc, char **argv, struct opts *o)
{
	uint64_t seen = 0;
	int rc, first;
	char **rest;

	opts_defaults(o);
	if (argc < 2)
		return cli_usage_error("missing command (add, log, stats or "
		    "wait)");
	/* Options before the command ("+": stop at the first word), then
	 * the command's words and options in any order. */
	if ((rc = parse_flags(argc, argv, "+:hq", o, &seen)) != RC_OK)
		return rc;
	if (optind >= argc)
		return cli_usage_error("missing command (add, log, stats or "
		    "wait)");
	o->cmd = parse_cmd(argv[optind]);
	if (o->cmd == CMD_NONE)
		return cli_usage_error("unknown command '%s' (add, log, stats "
		    "or wait)", argv[optind]);
	first = optind + 1;
	optind = 0;   /* restart getopt on the rest, permuting */
	rest = argv + first - 1;
	rc = parse_flags(argc - first + 1, rest, ":hq", o, &seen);
	if (rc != RC_OK)
		return rc;
	o->values = rest + optind;
	o->nvalues = argc - first + 1 - optind;
	return check_args(o, seen);
}
