/*
 * seqcast.c - command-line client of the seqcast daemon.
 *
 *   seqcast add   --server HOST:PORT VALUE... | --file F | --count N
 *   seqcast log   --server HOST:PORT [--from ID]
 *   seqcast stats --server HOST:PORT
 *   seqcast wait  --server HOST:PORT --applied N [--timeout S]
 *
 * One connected UDP socket to the server (so an ICMP port-unreachable comes
 * back as ECONNREFUSED), plain poll() and recv(), no event library.
 *
 * add pipelines: up to --window requests are outstanding at once, packed
 * as many to an ADD datagram as fit SC_DATAGRAM_MAX. Request numbers are
 * 1..N (entry k of the input is request k), so a request's state lives in
 * a ring indexed by its number, from the oldest unprinted request to the
 * newest sent. Acks arriving out of order wait there until the entries
 * before them are acknowledged, so everything is printed in input order;
 * the ring starts at 4 windows and doubles while the oldest request lags
 * (up to RING_MAX), so one slow request does not stall the rest. Resends are
 * due times in a binary heap (stale heap entries are skipped when popped),
 * so a run is O(N log W) however large N is.
 *
 * For benchmarks, add --latency times every request from its first send
 * to its ACK into a log-linear histogram (64 buckets per power of two, so
 * under 1.6% error, O(1) per request whatever N), and --stats-line prints
 * what was sent, acknowledged and how fast.
 *
 * Exit status: 0 success, 1 failure, 2 usage error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "seqcast/auth.h"
#include "seqcast/net.h"
#include "seqcast/wire.h"

enum { RC_OK = 0, RC_FAIL = 1, RC_USAGE = 2, RC_HELP = 3 };

/* What a socket operation came to. */
enum { IO_OK = 0, IO_NONE, IO_REFUSED, IO_ERR };

#define RETRY_CAP_MS   1000
#define WAIT_POLL_MS   50
#define RCVBUF_BYTES   (4 << 20)
#define WINDOW_MAX     65536
#define RING_MAX       (1u << 21)  /* requests between printed and newest */
#define RATE_BURST_S   0.02   /* token bucket holds 20 ms worth of entries */
#define RTO_MIN_MS     20     /* adaptive first resend: lower bound */
#define FAST_GAP       64     /* acks this many requests later: resend */
#define FAST_AGAIN     4096   /* early resends watched for a second loss */
#define LAT_SUB        64     /* latency histogram: buckets per octave */
#define LAT_LINEAR     128    /* below this many us: one bucket per us */
#define LAT_BUCKETS    (LAT_LINEAR + 57 * LAT_SUB)   /* up to 2^64 us */

enum cmd { CMD_NONE = -1, CMD_ADD, CMD_LOG, CMD_STATS, CMD_WAIT };

struct opts {
	enum cmd cmd;
	const char *server;       /* HOST:PORT as given, for messages */
	struct sockaddr_in addr;
	double timeout_s;         /* as given, for messages */
	int64_t timeout_ms;
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
	/* wait */
	int has_applied;
	uint64_t applied;
	uint32_t poll_ms;
};

/* ------------------------------------------------------------------ */
/* usage */

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
"                       or a name\n"
"  --timeout S          give up after S seconds without an answer (default\n"
"                       10, fractions allowed); for wait: how long to wait\n"
"  --retry-ms N         resend an unanswered request after at most N ms\n"
"                       (default 200); add adapts the first resend to the\n"
"                       measured round trip (srtt + 4 rttvar, at least 3 srtt and 20 ms);\n"
"                       the delay doubles per resend up to 1000 ms\n"
"  --cluster N          cluster id put in requests (default 0: the server's)\n"
"  --key-file F         the cluster's shared key: sign requests, check replies\n"
"  -h, --help           print this help and exit\n"
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
"                       cpu=S\" (cpu: user + system seconds used)\n"
"\n"
"Options for log:\n"
"  --from ID            first entry to print (default 1)\n"
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

static void usage(FILE *f)
{
	for (size_t i = 0; i < sizeof usage_text / sizeof usage_text[0]; i++)
		fputs(usage_text[i], f);
}

/* Print "seqcast: <msg>", then the usage, to stderr. */
static int usage_error(const char *msg, const char *arg)
{
	fprintf(stderr, "seqcast: %s%s%s%s\n", msg, arg ? " '" : "",
	    arg ? arg : "", arg ? "'" : "");
	usage(stderr);
	return RC_USAGE;
}

static int oom(void)
{
	fputs("seqcast: out of memory\n", stderr);
	return RC_FAIL;
}

/* ------------------------------------------------------------------ */
/* small helpers */

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int clamp_wait(int64_t ms)
{
	if (ms < 0)
		return 0;
	return ms > INT_MAX ? INT_MAX : (int)ms;
}

static uint32_t next_delay(const struct opts *o, uint32_t delay)
{
	uint32_t cap = o->retry_ms > RETRY_CAP_MS ? o->retry_ms : RETRY_CAP_MS;
	return delay >= cap / 2 ? cap : delay * 2;
}

static int random_u64(uint64_t *v)
{
	do {
		if (getrandom(v, sizeof *v, 0) != (ssize_t)sizeof *v) {
			fprintf(stderr, "seqcast: getrandom: %s\n",
			    strerror(errno));
			return RC_FAIL;
		}
	} while (*v == 0);
	return RC_OK;
}

static void put_escaped(FILE *f, const uint8_t *v, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned c = v[i];
		if (c == '\\')
			fputs("\\\\", f);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c == '\t')
			fputs("\\t", f);
		else if (c == '\r')
			fputs("\\r", f);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\x%02x", c);
		else
			putc_unlocked((int)c, f);
	}
}

static void print_entry(uint64_t id, const uint8_t *v, size_t len)
{
	printf("%" PRIu64 "\t", id);
	put_escaped(stdout, v, len);
	putc_unlocked('\n', stdout);
}

/* ------------------------------------------------------------------ */
/* argument parsing */

enum opt_id {
	O_SERVER = 256, O_TIMEOUT, O_RETRY, O_CLUSTER, O_FILE, O_COUNT,
	O_RATE, O_PREFIX, O_WINDOW, O_VALUE_MAX, O_FROM, O_APPLIED,
	O_VALUE_SIZE, O_LATENCY, O_LATENCY_FILE, O_STATS_LINE, O_POLL_MS,
	O_KEY_FILE,
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
	{ "applied",   required_argument, NULL, O_APPLIED },
	{ "value-size", required_argument, NULL, O_VALUE_SIZE },
	{ "latency",   no_argument,       NULL, O_LATENCY },
	{ "latency-file", required_argument, NULL, O_LATENCY_FILE },
	{ "stats-line", no_argument,      NULL, O_STATS_LINE },
	{ "poll-ms",   required_argument, NULL, O_POLL_MS },
	{ "quiet",     no_argument,       NULL, O_QUIET },
	{ "help",      no_argument,       NULL, O_HELP },
	{ NULL, 0, NULL, 0 }
};

#define CMD_BIT(c) (1u << (c))
#define ALL_CMDS   (CMD_BIT(CMD_ADD) | CMD_BIT(CMD_LOG) | \
                    CMD_BIT(CMD_STATS) | CMD_BIT(CMD_WAIT))

/* Commands an option applies to. */
static unsigned opt_cmds(int id)
{
	switch (id) {
	case O_FILE: case O_COUNT: case O_RATE: case O_PREFIX:
	case O_WINDOW: case O_VALUE_MAX: case O_QUIET: case O_VALUE_SIZE:
	case O_LATENCY: case O_LATENCY_FILE: case O_STATS_LINE:
		return CMD_BIT(CMD_ADD);
	case O_FROM:
		return CMD_BIT(CMD_LOG);
	case O_APPLIED: case O_POLL_MS:
		return CMD_BIT(CMD_WAIT);
	default:
		return ALL_CMDS;
	}
}

static const char *opt_name(int id)
{
	for (const struct option *p = long_opts; p->name; p++)
		if (p->val == id)
			return p->name;
	return "?";
}

static const char *const cmd_names[] = { "add", "log", "stats", "wait" };

static enum cmd parse_cmd(const char *s)
{
	for (int i = 0; i < 4; i++)
		if (strcmp(s, cmd_names[i]) == 0)
			return (enum cmd)i;
	return CMD_NONE;
}

static int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static int parse_num(const char *s, double min, double max, double *out)
{
	char *end;
	if (!((*s >= '0' && *s <= '9') || *s == '.'))
		return -1;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || *end || !isfinite(v) || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static int bad_int(int id, const char *arg, uint64_t min, uint64_t max)
{
	fprintf(stderr, "seqcast: bad --%s '%s': expected an integer from %"
	    PRIu64 " to %" PRIu64 "\n", opt_name(id), arg, min, max);
	return RC_USAGE;
}

/* Parse an integer option argument into *out (of width `size`). */
static int opt_int(int id, const char *arg, uint64_t min, uint64_t max,
    void *out, size_t size)
{
	uint64_t v;
	if (parse_u64(arg, min, max, &v) < 0)
		return bad_int(id, arg, min, max);
	if (size == sizeof(uint32_t))
		*(uint32_t *)out = (uint32_t)v;
	else
		*(uint64_t *)out = v;
	return RC_OK;
}

static int opt_timeout(struct opts *o, const char *arg)
{
	if (parse_num(arg, 0.001, 1e7, &o->timeout_s) < 0) {
		fprintf(stderr, "seqcast: bad --timeout '%s': expected seconds "
		    "from 0.001 to 10000000\n", arg);
		return RC_USAGE;
	}
	o->timeout_ms = (int64_t)(o->timeout_s * 1000.0 + 0.5);
	return RC_OK;
}

static int opt_rate(struct opts *o, const char *arg)
{
	if (parse_num(arg, 0, 1e9, &o->rate) < 0) {
		fprintf(stderr, "seqcast: bad --rate '%s': expected entries "
		    "per second from 0 to 1000000000\n", arg);
		return RC_USAGE;
	}
	return RC_OK;
}

/* The benchmark options of add, and wait's --poll-ms. */
static int set_bench_opt(struct opts *o, int id, const char *arg)
{
	switch (id) {
	case O_VALUE_SIZE:
		return opt_int(id, arg, 1, SC_VALUE_MAX, &o->value_size, 4);
	case O_LATENCY: o->latency = 1; return RC_OK;
	case O_LATENCY_FILE:
		o->latency = 1;
		o->latency_file = arg;
		return RC_OK;
	case O_STATS_LINE: o->stats_line = 1; return RC_OK;
	case O_POLL_MS:
		return opt_int(id, arg, 1, 60000, &o->poll_ms, 4);
	default:        return RC_USAGE;
	}
}

static int set_opt(struct opts *o, int id, const char *arg)
{
	switch (id) {
	case O_SERVER:  o->server = arg; return RC_OK;
	case O_TIMEOUT: return opt_timeout(o, arg);
	case O_RETRY:
		return opt_int(id, arg, 1, 600000, &o->retry_ms, 4);
	case O_CLUSTER:
		return opt_int(id, arg, 0, UINT32_MAX, &o->cluster, 4);
	case O_FILE:    o->file = arg; return RC_OK;
	case O_KEY_FILE: o->key_file = arg; return RC_OK;
	case O_COUNT:
		o->has_count = 1;
		return opt_int(id, arg, 0, UINT64_MAX / 2, &o->count, 8);
	case O_RATE:    return opt_rate(o, arg);
	case O_PREFIX:  o->prefix = arg; return RC_OK;
	case O_WINDOW:
		return opt_int(id, arg, 1, WINDOW_MAX, &o->window, 4);
	case O_VALUE_MAX:
		return opt_int(id, arg, 0, UINT32_MAX, &o->value_max, 4);
	case O_FROM:
		return opt_int(id, arg, 1, UINT64_MAX / 2, &o->from, 8);
	case O_APPLIED:
		o->has_applied = 1;
		return opt_int(id, arg, 0, UINT64_MAX / 2, &o->applied, 8);
	case O_QUIET:   o->quiet = 1; return RC_OK;
	default:        return set_bench_opt(o, id, arg);
	}
}

static void opts_defaults(struct opts *o)
{
	memset(o, 0, sizeof *o);
	o->cmd = CMD_NONE;
	o->timeout_s = 10;
	o->timeout_ms = 10000;
	o->retry_ms = 200;
	o->window = 256;
	o->value_max = SC_VALUE_MAX;
	o->from = 1;
	o->poll_ms = WAIT_POLL_MS;
	snprintf(o->prefix_buf, sizeof o->prefix_buf, "load-%ld",
	    (long)getpid());
}

/* getopt_long over argv; records which options were seen in *seen. */
static int parse_flags(int argc, char **argv, const char *optstring,
    struct opts *o, uint64_t *seen)
{
	int id, rc;
	opterr = 0;
	while ((id = getopt_long(argc, argv, optstring, long_opts, NULL)) != -1) {
		if (id == O_HELP)
			return RC_HELP;
		if (id == '?')
			return usage_error("unknown option", argv[optind - 1]);
		if (id == ':')
			return usage_error("option needs a value:",
			    argv[optind - 1]);
		*seen |= 1ull << (id & 63);
		if ((rc = set_opt(o, id, optarg)) != RC_OK)
			return rc;
	}
	return RC_OK;
}

/* Every option seen must apply to the command. */
static int check_seen(const struct opts *o, uint64_t seen)
{
	for (const struct option *p = long_opts; p->name; p++) {
		if (!(seen & (1ull << (p->val & 63))))
			continue;
		if (!(opt_cmds(p->val) & CMD_BIT(o->cmd))) {
			fprintf(stderr, "seqcast: --%s does not apply to "
			    "'%s'\n", p->name, cmd_names[o->cmd]);
			usage(stderr);
			return RC_USAGE;
		}
	}
	return RC_OK;
}

static int check_add_args(struct opts *o)
{
	int sources = (o->nvalues > 0) + (o->file != NULL) + o->has_count;
	if (sources == 0)
		return usage_error("add needs VALUE..., --file F or --count N",
		    NULL);
	if (sources > 1)
		return usage_error("add takes values from one of VALUE..., "
		    "--file or --count", NULL);
	if (!o->has_count && (o->rate > 0 || o->prefix || o->value_size))
		return usage_error("--rate, --prefix and --value-size need "
		    "--count", NULL);
	if (!o->prefix)
		o->prefix = o->prefix_buf;
	if (o->value_max > SC_VALUE_MAX)
		o->value_max = SC_VALUE_MAX;
	return RC_OK;
}

static int check_args(struct opts *o, uint64_t seen)
{
	int rc = check_seen(o, seen);
	if (rc != RC_OK)
		return rc;
	if (!o->server)
		return usage_error("--server HOST:PORT is required", NULL);
	if (o->cmd == CMD_ADD)
		return check_add_args(o);
	if (o->nvalues > 0)
		return usage_error("unexpected argument", o->values[0]);
	if (o->cmd == CMD_WAIT && !o->has_applied)
		return usage_error("wait needs --applied N", NULL);
	return RC_OK;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	uint64_t seen = 0;
	opts_defaults(o);
	if (argc < 2)
		return usage_error("missing command", NULL);
	/* Options before the command ("+": stop at the first word), then
	 * the command's words and options in any order. */
	int rc = parse_flags(argc, argv, "+:hq", o, &seen);
	if (rc != RC_OK)
		return rc;
	if (optind >= argc)
		return usage_error("missing command", NULL);
	o->cmd = parse_cmd(argv[optind]);
	if (o->cmd == CMD_NONE)
		return usage_error("unknown command", argv[optind]);
	int first = optind + 1;
	optind = 0;   /* restart getopt on the rest, permuting */
	char **rest = argv + first - 1;
	rc = parse_flags(argc - first + 1, rest, ":hq", o, &seen);
	if (rc != RC_OK)
		return rc;
	o->values = rest + optind;
	o->nvalues = argc - first + 1 - optind;
	return check_args(o, seen);
}

/* ------------------------------------------------------------------ */
/* server address */

static int bad_server(const char *s)
{
	fprintf(stderr, "seqcast: bad server address '%s': expected "
	    "HOST:PORT\n", s);
	return RC_USAGE;
}

static int resolve(const char *host, struct sockaddr_in *sa)
{
	struct addrinfo hints = { .ai_family = AF_INET,
	    .ai_socktype = SOCK_DGRAM };
	struct addrinfo *res;
	int err = getaddrinfo(host, NULL, &hints, &res);
	if (err != 0) {
		fprintf(stderr, "seqcast: cannot resolve '%s': %s\n", host,
		    gai_strerror(err));
		return RC_FAIL;
	}
	memcpy(&sa->sin_addr,
	    &((struct sockaddr_in *)(void *)res->ai_addr)->sin_addr,
	    sizeof sa->sin_addr);
	freeaddrinfo(res);
	return RC_OK;
}

static int parse_server(const char *s, struct sockaddr_in *sa)
{
	char host[256];
	uint64_t port;
	const char *colon = strrchr(s, ':');
	if (!colon || colon == s || (size_t)(colon - s) >= sizeof host ||
	    parse_u64(colon + 1, 1, 65535, &port) < 0)
		return bad_server(s);
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	memset(sa, 0, sizeof *sa);
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)port);
	return resolve(host, sa);
}

/* ------------------------------------------------------------------ */
/* the connection */

/* With --key-file every datagram carries a MAC trailer (auth.h), so a
 * request holds that much less. */
static struct sc_auth client_auth;
static size_t dgram_limit = SC_DATAGRAM_MAX;

static int64_t wall_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int load_key(const struct opts *o)
{
	char err[600];
	if (o->key_file == NULL)
		return RC_OK;
	if (sc_auth_load(&client_auth, o->key_file, err, sizeof err) < 0) {
		fprintf(stderr, "seqcast: %s\n", err);
		return RC_USAGE;
	}
	dgram_limit = SC_DATAGRAM_MAX - SC_AUTH_TRAILER;
	return RC_OK;
}

struct conn {
	int fd;
	const struct opts *o;
	struct sc_decoder *dec;
	uint8_t rbuf[SC_RECV_MAX];
	uint8_t sbuf[SC_DATAGRAM_MAX];
	uint8_t sealed[SC_DATAGRAM_MAX];
};

static int report_refused(const struct opts *o)
{
	fprintf(stderr, "seqcast: server %s unreachable: connection refused\n",
	    o->server);
	return RC_FAIL;
}

static void conn_free(struct conn *c)
{
	if (!c)
		return;
	if (c->fd >= 0)
		close(c->fd);
	sc_decoder_free(c->dec);
	free(c);
}

static int conn_open(const struct opts *o, struct conn **out)
{
	struct conn *c = calloc(1, sizeof *c);
	if (!c)
		return oom();
	c->o = o;
	c->dec = sc_decoder_new();
	c->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (!c->dec || c->fd < 0 || connect(c->fd,
	    (const struct sockaddr *)&o->addr, sizeof o->addr) < 0) {
		fprintf(stderr, "seqcast: cannot open a socket to %s: %s\n",
		    o->server, c->dec ? strerror(errno) : "out of memory");
		conn_free(c);
		return RC_FAIL;
	}
	(void)sc_net_bufsize(c->fd, SO_RCVBUF, RCVBUF_BYTES);
	*out = c;
	return RC_OK;
}

static int io_error(const struct conn *c, const char *what, int err)
{
	if (err == ECONNREFUSED)
		return IO_REFUSED;
	if (err == EAGAIN || err == EWOULDBLOCK || err == EINTR ||
	    err == ENOBUFS || err == ENOMEM)
		return IO_NONE;
	fprintf(stderr, "seqcast: %s %s: %s\n", what, c->o->server,
	    strerror(err));
	return IO_ERR;
}

/* Send one datagram. IO_OK, IO_NONE (dropped locally: the resend timer
 * covers it), IO_REFUSED or IO_ERR (reported). */
static int conn_send(struct conn *c, const void *buf, size_t len)
{
	if (client_auth.on) {
		long l;
		memcpy(c->sealed, buf, len);
		l = sc_auth_seal(&client_auth, c->sealed, len,
		    sizeof c->sealed, wall_us());
		if (l < 0)
			return IO_ERR;
		buf = c->sealed;
		len = (size_t)l;
	}
	ssize_t n = send(c->fd, buf, len, 0);
	if (n == (ssize_t)len)
		return IO_OK;
	return n < 0 ? io_error(c, "send to", errno) : IO_NONE;
}

static int conn_send_msg(struct conn *c, const struct sc_msg *m)
{
	long len = sc_encode(m, c->sbuf, dgram_limit);
	if (len < 0) {
		fprintf(stderr, "seqcast: cannot encode a %s request\n",
		    sc_type_name(m->h.type));
		return IO_ERR;
	}
	return conn_send(c, c->sbuf, (size_t)len);
}

/* Wait up to ms for something to read (or an error to collect). */
static void conn_wait(struct conn *c, int64_t ms)
{
	struct pollfd p = { .fd = c->fd, .events = POLLIN };
	(void)poll(&p, 1, clamp_wait(ms));
}

static int decode_reply(struct conn *c, size_t len, int type,
    struct sc_msg *m)
{
	struct sc_header h;
	size_t inner;
	/* With a key, a reply must carry a valid MAC and a fresh counter
	 * from its server (a forged or replayed ACK is dropped). */
	if (sc_auth_open(&client_auth, c->rbuf, len, wall_us(), &inner) !=
	    SC_AUTH_OK)
		return -1;
	len = inner;
	if (sc_decode_header(c->rbuf, len, &h) != SC_REJ_NONE ||
	    h.type != type)
		return -1;
	return sc_decode(c->dec, c->rbuf, len, h.cluster, m) == SC_REJ_NONE
	    ? 0 : -1;
}

/* Next datagram of this type: IO_OK, IO_NONE (nothing waiting),
 * IO_REFUSED or IO_ERR. Other datagrams are dropped. */
static int conn_recv(struct conn *c, int type, struct sc_msg *m)
{
	for (;;) {
		ssize_t n = recv(c->fd, c->rbuf, sizeof c->rbuf, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return io_error(c, "receive from", errno);
		if (decode_reply(c, (size_t)n, type, m) == 0)
			return IO_OK;
	}
}

static void msg_init(struct sc_msg *m, const struct opts *o, int type)
{
	memset(m, 0, sizeof *m);
	m->h.magic = SC_MAGIC;
	m->h.version = SC_VERSION;
	m->h.type = (uint8_t)type;
	m->h.cluster = o->cluster;
	m->h.sender = SC_SENDER_CLIENT;
}

/* ------------------------------------------------------------------ */
/* add: the values */

struct input {
	size_t n;
	int generated;          /* --count: PREFIX-<k>, made on demand */
	const char *prefix;
	uint32_t size;          /* --value-size: padded to it, or 0 */
	char *arena;            /* listed values back to back */
	size_t used, cap;
	struct span { size_t off; uint32_t len; } *v;
	size_t vcap;
};

#define VBUF_MAX (SC_VALUE_MAX + 32)

static void input_free(struct input *in)
{
	free(in->arena);
	free(in->v);
}

/* Array p of *cap elements, grown (doubling) to hold need; NULL if out
 * of memory (p is then still valid). */
static void *grow(void *p, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return p;
	size_t ncap = *cap ? *cap : 64;
	while (ncap < need)
		ncap *= 2;
	void *np = realloc(p, ncap * elem);
	if (np)
		*cap = ncap;
	return np;
}

static int input_add(struct input *in, const char *v, size_t len)
{
	char *arena = grow(in->arena, &in->cap, in->used + len + 1, 1);
	if (arena)
		in->arena = arena;
	struct span *spans = grow(in->v, &in->vcap, in->n + 1,
	    sizeof *in->v);
	if (spans)
		in->v = spans;
	if (!arena || !spans || len > UINT32_MAX)
		return oom();
	if (len)
		memcpy(in->arena + in->used, v, len);
	in->v[in->n++] = (struct span){ in->used, (uint32_t)len };
	in->used += len;
	return RC_OK;
}

/* Value of entry i (0-based); buf (VBUF_MAX bytes) holds made ones. */
static const uint8_t *input_value(const struct input *in, size_t i,
    char *buf, uint32_t *len)
{
	if (in->generated) {
		int n = snprintf(buf, VBUF_MAX, "%s-%zu", in->prefix, i + 1);
		*len = n < 0 ? 0 : (n >= VBUF_MAX ? VBUF_MAX - 1 : (uint32_t)n);
		if (in->size > *len && in->size < VBUF_MAX) {
			memset(buf + *len, '.', in->size - *len);
			*len = in->size;
		}
		return (const uint8_t *)buf;
	}
	*len = in->v[i].len;
	return (const uint8_t *)in->arena + in->v[i].off;
}

static size_t strip_eol(const char *line, size_t n)
{
	if (n > 0 && line[n - 1] == '\n') {
		n--;
		if (n > 0 && line[n - 1] == '\r')
			n--;
	}
	return n;
}

static int read_lines(FILE *f, const char *name, struct input *in)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int rc = RC_OK;
	while (rc == RC_OK && (n = getline(&line, &cap, f)) >= 0) {
		size_t len = strip_eol(line, (size_t)n);
		if (len > 0)
			rc = input_add(in, line, len);
	}
	if (rc == RC_OK && ferror(f)) {
		fprintf(stderr, "seqcast: cannot read %s: %s\n", name,
		    strerror(errno));
		rc = RC_FAIL;
	}
	free(line);
	return rc;
}

static int input_file(const char *path, struct input *in)
{
	if (strcmp(path, "-") == 0)
		return read_lines(stdin, "standard input", in);
	FILE *f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "seqcast: cannot open %s: %s\n", path,
		    strerror(errno));
		return RC_FAIL;
	}
	int rc = read_lines(f, path, in);
	fclose(f);
	return rc;
}

static int too_long(uint64_t k, uint64_t len, uint32_t limit)
{
	fprintf(stderr, "seqcast: value %" PRIu64 " is %" PRIu64 " bytes; "
	    "the limit is %" PRIu32 " bytes\n", k, len, limit);
	return RC_FAIL;
}

/* --value-size: every value is that long, if PREFIX-N fits in it. */
static int check_sized(const struct input *in, uint32_t limit)
{
	uint64_t len = strlen(in->prefix) + 1, n = in->n;
	for (; n > 0; n /= 10)
		len++;
	if (len > in->size) {
		fprintf(stderr, "seqcast: value %zu (%" PRIu64 " bytes) does not "
		    "fit --value-size %" PRIu32 "\n", in->n, len, in->size);
		return RC_USAGE;
	}
	return in->size > limit ? too_long(1, in->size, limit) : RC_OK;
}

/* Generated values grow with k: find the first one over the limit. */
static int check_generated(const struct input *in, uint32_t limit)
{
	uint64_t fixed = strlen(in->prefix) + 1, first = 1, digits = 1;
	if (in->n == 0)
		return RC_OK;
	if (in->size)
		return check_sized(in, limit);
	if (fixed + 1 > limit)
		return too_long(1, fixed + 1, limit);
	while (digits < 19 && fixed + digits + 1 <= limit)
		digits++, first *= 10;
	if (fixed + digits + 1 <= limit || first * 10 > in->n)
		return RC_OK;
	return too_long(first * 10, fixed + digits + 1, limit);
}

static int check_values(const struct input *in, uint32_t limit)
{
	if (in->generated)
		return check_generated(in, limit);
	for (size_t i = 0; i < in->n; i++)
		if (in->v[i].len > limit)
			return too_long(i + 1, in->v[i].len, limit);
	return RC_OK;
}

static int input_load(const struct opts *o, struct input *in)
{
	int rc = RC_OK;
	memset(in, 0, sizeof *in);
	if (o->has_count) {
		in->generated = 1;
		in->prefix = o->prefix;
		in->size = o->value_size;
		in->n = (size_t)o->count;
	} else if (o->file) {
		rc = input_file(o->file, in);
	} else {
		for (int i = 0; rc == RC_OK && i < o->nvalues; i++)
			rc = input_add(in, o->values[i], strlen(o->values[i]));
	}
	return rc == RC_OK ? check_values(in, o->value_max) : rc;
}

/* ------------------------------------------------------------------ */
/* add: resend times, a binary min-heap */

struct due {
	int64_t at;
	uint64_t req;
};

struct heap {
	struct due *v;
	size_t n, cap;
};

static void heap_swap(struct heap *h, size_t i, size_t j)
{
	struct due t = h->v[i];
	h->v[i] = h->v[j];
	h->v[j] = t;
}

static int heap_push(struct heap *h, int64_t at, uint64_t req)
{
	struct due *v = grow(h->v, &h->cap, h->n + 1, sizeof *h->v);
	if (!v)
		return oom();
	h->v = v;
	size_t i = h->n++;
	h->v[i] = (struct due){ at, req };
	while (i > 0 && h->v[(i - 1) / 2].at > h->v[i].at) {
		heap_swap(h, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
	return RC_OK;
}

static struct due heap_pop(struct heap *h)
{
	struct due top = h->v[0];
	h->v[0] = h->v[--h->n];
	for (size_t i = 0;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < h->n && h->v[l].at < h->v[m].at)
			m = l;
		if (r < h->n && h->v[r].at < h->v[m].at)
			m = r;
		if (m == i)
			break;
		heap_swap(h, i, m);
		i = m;
	}
	return top;
}

/* ------------------------------------------------------------------ */
/* add: latency histogram (log-linear: exact below LAT_LINEAR us, then
 * LAT_SUB buckets per power of two) */

struct lat_hist {
	uint64_t n, max;
	uint64_t count[LAT_BUCKETS];
};

static size_t lat_bucket(uint64_t us)
{
	if (us < LAT_LINEAR)
		return (size_t)us;
	int e = 63 - __builtin_clzll(us);       /* 7 .. 63 */
	return LAT_LINEAR + (size_t)(e - 7) * LAT_SUB +
	    (size_t)((us >> (e - 6)) & (LAT_SUB - 1));
}

/* Largest value bucket b holds. */
static uint64_t lat_top(size_t b)
{
	if (b < LAT_LINEAR)
		return b;
	size_t e = (b - LAT_LINEAR) / LAT_SUB + 7, sub = (b - LAT_LINEAR) %
	    LAT_SUB;
	return (1ull << e) + ((uint64_t)(sub + 1) << (e - 6)) - 1;
}

static void lat_add(struct lat_hist *h, int64_t us)
{
	uint64_t v = us < 0 ? 0 : (uint64_t)us;
	h->count[lat_bucket(v)]++;
	h->n++;
	if (v > h->max)
		h->max = v;
}

/* The value at quantile q (0..1): its bucket's top, at most the max. */
static uint64_t lat_quantile(const struct lat_hist *h, double q)
{
	uint64_t rank = (uint64_t)ceil(q * (double)h->n), seen = 0;
	if (rank == 0)
		rank = 1;
	for (size_t b = 0; b < LAT_BUCKETS; b++) {
		seen += h->count[b];
		if (seen >= rank)
			return lat_top(b) < h->max ? lat_top(b) : h->max;
	}
	return h->max;
}

static void lat_print(const struct lat_hist *h)
{
	fprintf(stderr, "latency_us: n=%" PRIu64 " p50=%" PRIu64 " p99=%"
	    PRIu64 " p999=%" PRIu64 " max=%" PRIu64 "\n", h->n,
	    lat_quantile(h, 0.50), lat_quantile(h, 0.99),
	    lat_quantile(h, 0.999), h->max);
}

/* "US COUNT" per non-empty bucket (its top, at most the max). */
static int lat_write(const struct lat_hist *h, const char *path)
{
	FILE *f = fopen(path, "w");
	if (!f) {
		fprintf(stderr, "seqcast: cannot write %s: %s\n", path,
		    strerror(errno));
		return RC_FAIL;
	}
	for (size_t b = 0; b < LAT_BUCKETS; b++)
		if (h->count[b])
			fprintf(f, "%" PRIu64 " %" PRIu64 "\n", lat_top(b) <
			    h->max ? lat_top(b) : h->max, h->count[b]);
	if (fclose(f) != 0) {
		fprintf(stderr, "seqcast: cannot write %s\n", path);
		return RC_FAIL;
	}
	return RC_OK;
}

/* ------------------------------------------------------------------ */
/* add: the pipeline */

enum { S_FREE = 0, S_OUT, S_ACKED };

struct slot {
	uint64_t req;       /* request number held, 0 = free */
	uint64_t id;        /* entry id once acknowledged */
	int64_t due;        /* next resend (ms); matches one heap entry */
	int64_t sent_us;    /* --latency: first send, 0 = not yet */
	uint32_t delay;     /* current resend delay (ms) */
	uint8_t state;
	uint8_t resent;     /* sent more than once: no RTT sample (Karn) */
};

/* One ADD datagram being filled. Value bytes are copied into arena. */
struct batch {
	struct sc_item items[SC_ITEMS_MAX];
	uint32_t count;
	size_t size;
	size_t used;
	uint8_t arena[SC_DATAGRAM_MAX];
};

struct adder {
	const struct opts *o;
	struct conn *c;
	const struct input *in;
	uint64_t client;
	struct slot *ring;
	uint64_t mask;          /* ring size - 1 */
	struct heap heap;
	uint64_t next_req;      /* next new request number */
	uint64_t next_print;    /* lowest request not yet printed */
	uint64_t outstanding;   /* sent, not acknowledged */
	uint64_t acked;
	uint64_t dups;          /* acks for done or unknown requests */
	uint64_t too_large;     /* a request the server refused, or 0 */
	int64_t last_answer;    /* last ACK datagram, or start of waiting */
	double tokens;          /* --rate token bucket */
	int64_t refilled;
	struct batch batch;
	char vbuf[VBUF_MAX];
	/* --stats-line and --latency */
	uint64_t datagrams, bytes, resent;
	int64_t start_us, end_us;       /* first send, last ACK */
	int64_t recv_us;                /* arrival of the ACK being read */
	struct lat_hist *lat;
	/* Round-trip estimate (Jacobson/Karels, as TCP's RTO), from
	 * requests acked without a resend (Karn): a lost ADD or ACK then
	 * costs about one round trip under load, not a fixed 200 ms. */
	int64_t srtt_us, rttvar_us;
	uint64_t fast_cursor;   /* requests below it were checked for loss */
	uint64_t fast_resent;   /* resent early, before their timer */
	int64_t last_probe;     /* last tail probe (ms) */
	uint64_t probes;        /* tail probes sent */
	/* Requests resent early, with next_req at that moment: checked
	 * again once FAST_GAP requests sent after the resend are acked. */
	struct { uint64_t req, mark; } again[FAST_AGAIN];
	uint32_t again_head, again_len;
};

static struct slot *slot_of(struct adder *a, uint64_t req)
{
	return &a->ring[req & a->mask];
}

/* Double the ring: the oldest unprinted request is stuck and the ones
 * after it are acknowledged faster than it. 0, or -1 if it cannot. */
static int ring_grow(struct adder *a)
{
	uint64_t size = 2 * (a->mask + 1);
	struct slot *ring = size <= RING_MAX ? calloc(size, sizeof *ring) : NULL;
	if (!ring)
		return -1;
	for (uint64_t req = a->next_print; req < a->next_req; req++)
		ring[req & (size - 1)] = *slot_of(a, req);
	free(a->ring);
	a->ring = ring;
	a->mask = size - 1;
	return 0;
}

static int adder_init(struct adder *a, const struct opts *o, struct conn *c,
    const struct input *in)
{
	uint64_t size = 1024;
	while (size < 4ull * o->window)
		size *= 2;
	memset(a, 0, sizeof *a);
	a->o = o;
	a->c = c;
	a->in = in;
	a->mask = size - 1;
	a->next_req = a->next_print = 1;
	a->refilled = now_ms();
	a->tokens = 1;
	a->ring = calloc(size, sizeof *a->ring);
	a->lat = o->latency ? calloc(1, sizeof *a->lat) : NULL;
	if (!a->ring || (o->latency && !a->lat))
		return oom();
	a->start_us = a->end_us = now_us();
	return random_u64(&a->client);
}

static void adder_free(struct adder *a)
{
	free(a->ring);
	free(a->heap.v);
	free(a->lat);
}

/* --latency: requests in this batch sent for the first time start now
 * (just before the send: the send itself may see the whole round trip
 * happen while this process waits for the CPU). */
/* First resend delay (ms): the adaptive RTO, never above --retry-ms. */
static uint32_t first_delay(const struct adder *a)
{
	int64_t rto;
	if (a->srtt_us == 0)
		return a->o->retry_ms;
	/* srtt + 4 rttvar, but never below 3 srtt: under a closed-loop load
	 * the round trip swings with the queues, and a resend that comes
	 * too early only doubles the work. */
	rto = (a->srtt_us + 4 * a->rttvar_us + 999) / 1000;
	if (rto < 3 * a->srtt_us / 1000)
		rto = 3 * a->srtt_us / 1000;
	if (rto < RTO_MIN_MS)
		rto = RTO_MIN_MS;
	return rto < a->o->retry_ms ? (uint32_t)rto : a->o->retry_ms;
}

static void rtt_sample(struct adder *a, int64_t us)
{
	int64_t err;
	if (us <= 0)
		return;
	if (a->srtt_us == 0) {
		a->srtt_us = us;
		a->rttvar_us = us / 2;
		return;
	}
	err = us - a->srtt_us;
	a->srtt_us += err / 8;
	a->rttvar_us += ((err < 0 ? -err : err) - a->rttvar_us) / 4;
}

static void stamp_first_sends(struct adder *a, const struct batch *b)
{
	int64_t now = now_us();
	for (uint32_t i = 0; i < b->count; i++) {
		struct slot *s = slot_of(a, b->items[i].req);
		if (s->req == b->items[i].req && s->sent_us == 0)
			s->sent_us = now;
	}
}

static void batch_reset(struct batch *b)
{
	b->count = 0;
	b->used = 0;
	b->size = sc_encoded_size(SC_ADD, b->items, 0);
}

static int batch_flush(struct adder *a)
{
	struct batch *b = &a->batch;
	struct sc_msg m;
	if (b->count == 0)
		return RC_OK;
	msg_init(&m, a->o, SC_ADD);
	m.count = b->count;
	m.items = b->items;
	stamp_first_sends(a, b);
	int rc = conn_send_msg(a->c, &m);
	a->datagrams++;
	a->bytes += b->size;
	batch_reset(b);
	if (rc == IO_REFUSED)
		return report_refused(a->o);
	return rc == IO_ERR ? RC_FAIL : RC_OK;
}

static int batch_fits(const struct batch *b, const struct sc_item *it)
{
	return b->count < SC_ITEMS_MAX &&
	    b->used + it->len <= sizeof b->arena &&
	    b->size + sc_item_size(SC_ADD, it) <= dgram_limit;
}

/* Put request req in the datagram being filled, sending it when full. */
static int batch_add(struct adder *a, uint64_t req)
{
	struct batch *b = &a->batch;
	struct sc_item it = { .client = a->client, .req = req };
	it.value = input_value(a->in, (size_t)(req - 1), a->vbuf, &it.len);
	if (!batch_fits(b, &it)) {
		int rc = batch_flush(a);
		if (rc != RC_OK)
			return rc;
	}
	if (it.len)
		memcpy(b->arena + b->used, it.value, it.len);
	it.value = b->arena + b->used;
	b->used += it.len;
	b->size += sc_item_size(SC_ADD, &it);
	b->items[b->count++] = it;
	return RC_OK;
}

/* Schedule the next resend of s at now + its delay. */
static int schedule(struct adder *a, struct slot *s, int64_t now)
{
	s->due = now + s->delay;
	return heap_push(&a->heap, s->due, s->req);
}

static void refill(struct adder *a, int64_t now)
{
	double burst = a->o->rate * RATE_BURST_S;
	if (a->o->rate <= 0)
		return;
	a->tokens += (double)(now - a->refilled) * a->o->rate / 1000.0;
	if (a->tokens > (burst > 1 ? burst : 1))
		a->tokens = burst > 1 ? burst : 1;
	a->refilled = now;
}

/* May a new request go out now (window, ring and rate permitting)? */
static int room_for_new(struct adder *a)
{
	if (a->next_req > a->in->n || a->outstanding >= a->o->window ||
	    (a->o->rate > 0 && a->tokens < 1))
		return 0;
	return a->next_req - a->next_print <= a->mask || ring_grow(a) == 0;
}

static int send_new(struct adder *a, int64_t now)
{
	uint64_t req = a->next_req++;
	struct slot *s = slot_of(a, req);
	*s = (struct slot){ .req = req, .state = S_OUT,
	    .delay = first_delay(a) };
	if (a->outstanding++ == 0)
		a->last_answer = now;   /* the timeout runs from here */
	a->tokens -= 1;
	int rc = schedule(a, s, now);
	return rc == RC_OK ? batch_add(a, req) : rc;
}

/* Send s again now (no RTT sample from it any more: Karn). */
static int resend(struct adder *a, struct slot *s)
{
	s->resent = 1;
	a->resent++;
	return batch_add(a, s->req);
}

static int send_retry(struct adder *a, struct due d, int64_t now)
{
	struct slot *s = slot_of(a, d.req);
	if (s->req != d.req || s->state != S_OUT || s->due != d.at)
		return RC_OK;   /* acknowledged or rescheduled since */
	s->delay = next_delay(a->o, s->delay);
	int rc = schedule(a, s, now);
	return rc == RC_OK ? resend(a, s) : rc;
}

/* Tail probe (as TCP's tail loss probe): once the whole input is sent,
 * no later request can show that one of the last was lost (or that its
 * early resend was), and only its timer is left, which under load has
 * grown to several round trips. So when no ACK has come for two smoothed
 * round trips (at least 2 ms), every request still out is sent once
 * more; a repeat costs the server a lookup and gets the same id. */
static int64_t probe_at(const struct adder *a)
{
	int64_t pto = 2 * a->srtt_us / 1000, last;
	if (a->next_req <= a->in->n || a->outstanding == 0 || a->srtt_us == 0)
		return INT64_MAX;
	if (pto < 2)
		pto = 2;
	last = a->last_answer > a->last_probe ? a->last_answer : a->last_probe;
	return last + pto;
}

static int tail_probe(struct adder *a, int64_t now)
{
	if (now < probe_at(a))
		return RC_OK;
	a->last_probe = now;
	a->probes++;
	for (uint64_t q = a->next_print; q < a->next_req; q++) {
		struct slot *s = slot_of(a, q);
		if (s->req != q || s->state != S_OUT)
			continue;
		int rc = resend(a, s);
		if (rc != RC_OK)
			return rc;
	}
	return RC_OK;
}

/* Send due resends and as many new requests as allowed. */
static int add_send(struct adder *a, int64_t now)
{
	int rc = RC_OK;
	while (rc == RC_OK && a->heap.n && a->heap.v[0].at <= now)
		rc = send_retry(a, heap_pop(&a->heap), now);
	if (rc == RC_OK)
		rc = tail_probe(a, now);
	refill(a, now);
	while (rc == RC_OK && room_for_new(a))
		rc = send_new(a, now);
	return rc == RC_OK ? batch_flush(a) : rc;
}

static int refused_value(struct adder *a)
{
	uint32_t len;
	(void)input_value(a->in, (size_t)(a->too_large - 1), a->vbuf, &len);
	fprintf(stderr, "seqcast: %s refused value %" PRIu64 " (%" PRIu32
	    " bytes): too large\n", a->o->server, a->too_large, len);
	return RC_FAIL;
}

/* The server's answer to request s->req. */
static int on_status(struct adder *a, struct slot *s, int32_t status,
    uint64_t id, int64_t now)
{
	switch (status) {
	case SC_OK:
		s->state = S_ACKED;
		s->id = id;
		a->outstanding--;
		a->acked++;
		if (a->lat && s->sent_us)
			lat_add(a->lat, a->recv_us - s->sent_us);
		if (s->sent_us && !s->resent)
			rtt_sample(a, a->recv_us - s->sent_us);
		return RC_OK;
	case SC_ERR_BUSY:       /* resend after the delay (which doubles) */
	case SC_ERR_UNAVAILABLE: /* no coordinator there now: likewise */
		return schedule(a, s, now);
	case SC_ERR_TOO_LARGE:  /* reported once the batch is printed */
		if (!a->too_large)
			a->too_large = s->req;
		return RC_OK;
	default:
		fprintf(stderr, "seqcast: %s answered value %" PRIu64 " with "
		    "unknown status %" PRId32 "\n", a->o->server, s->req,
		    status);
		return RC_FAIL;
	}
}

static int on_ack_item(struct adder *a, const struct sc_item *it,
    int64_t now)
{
	struct slot *s = slot_of(a, it->req);
	if (it->client != a->client || it->req < a->next_print ||
	    it->req >= a->next_req || s->req != it->req ||
	    s->state != S_OUT) {
		a->dups++;      /* another client's, done, or never sent */
		return RC_OK;
	}
	return on_status(a, s, it->status, it->id, now);
}

/* Read every ACK waiting on the socket. */
/* Fast resend (as TCP's fast retransmit): a server acknowledges in id
 * order, and ids follow the order requests reach the coordinator, so when
 * a request sent FAST_GAP requests after r is acknowledged and r is not, r
 * (or its ACK) was most likely lost: resend it now rather than wait for
 * its timer. Each request is looked at once; a wrong guess costs only a
 * repeated request, which the coordinator answers with the same id. */
static int fast_one(struct adder *a, struct slot *s, int64_t now)
{
	a->fast_resent++;
	if (a->again_len < FAST_AGAIN) {
		uint32_t i = (a->again_head + a->again_len++) % FAST_AGAIN;
		a->again[i].req = s->req;
		a->again[i].mark = a->next_req;
	}
	int rc = schedule(a, s, now);
	return rc == RC_OK ? resend(a, s) : rc;
}

/* Early resends whose resend was lost too: look again once requests
 * sent after the resend are acked. Marks only grow: check the head. */
static int fast_again(struct adder *a, uint64_t acked, int64_t now)
{
	while (a->again_len > 0) {
		uint32_t i = a->again_head;
		uint64_t q = a->again[i].req;
		struct slot *s = slot_of(a, q);
		if (a->again[i].mark + FAST_GAP >= acked)
			return RC_OK;
		a->again_head = (i + 1) % FAST_AGAIN;
		a->again_len--;
		if (s->req == q && s->state == S_OUT) {
			int rc = fast_one(a, s, now);
			if (rc != RC_OK)
				return rc;
		}
	}
	return RC_OK;
}

/* q counts as lost once a request sent more than fast_gap(q) after it is
 * acked: FAST_GAP, or fewer once the whole input is sent, where fewer
 * follow q (as TCP's early retransmit lowers the duplicate-ack threshold
 * when little is in flight): once more than half of those sent after q
 * are, so even the last but one can be resent early. q + fast_gap(q)
 * never decreases as q grows, so the cursor scan below stays valid. */
static uint64_t fast_gap(const struct adder *a, uint64_t q)
{
	uint64_t half;
	if (a->next_req <= a->in->n || q >= a->next_req)
		return FAST_GAP;
	half = (a->next_req - 1 - q) / 2;
	return half < FAST_GAP ? half : FAST_GAP;
}

static int fast_resend(struct adder *a, uint64_t acked, int64_t now)
{
	uint64_t q;
	if (a->fast_cursor < a->next_print)
		a->fast_cursor = a->next_print;
	for (q = a->fast_cursor; q + fast_gap(a, q) < acked; q++) {
		struct slot *s = slot_of(a, q);
		if (s->req != q || s->state != S_OUT || s->resent)
			continue;
		int rc = fast_one(a, s, now);
		if (rc != RC_OK)
			return rc;
	}
	if (q > a->fast_cursor)
		a->fast_cursor = q;
	return fast_again(a, acked, now);
}

static int add_receive(struct adder *a)
{
	struct sc_msg m;
	int io, rc = RC_OK;
	while (rc == RC_OK && (io = conn_recv(a->c, SC_ACK, &m)) == IO_OK) {
		int64_t now = now_ms();
		a->last_answer = now;
		a->recv_us = a->end_us = now_us();
		uint64_t top = 0;
		for (uint32_t i = 0; rc == RC_OK && i < m.count; i++) {
			rc = on_ack_item(a, &m.items[i], now);
			if (m.items[i].client == a->client &&
			    m.items[i].req > top && m.items[i].req < a->next_req)
				top = m.items[i].req;
		}
		if (rc == RC_OK && top > 0)
			rc = fast_resend(a, top, now);
	}
	if (rc != RC_OK)
		return rc;
	if (rc == RC_OK && a->batch.count > 0 && (rc = batch_flush(a)) != RC_OK)
		return rc;
	if (io == IO_REFUSED)
		return report_refused(a->o);
	return io == IO_ERR ? RC_FAIL : RC_OK;
}

/* Print the acknowledged entries that follow the printed ones. */
static void add_print(struct adder *a)
{
	uint64_t start = a->next_print;
	for (;;) {
		struct slot *s = slot_of(a, a->next_print);
		if (s->req != a->next_print || s->state != S_ACKED)
			break;
		if (!a->o->quiet) {
			uint32_t len;
			const uint8_t *v = input_value(a->in,
			    (size_t)(s->req - 1), a->vbuf, &len);
			print_entry(s->id, v, len);
		}
		s->req = 0;
		s->state = S_FREE;
		a->next_print++;
	}
	if (a->next_print != start && !a->o->quiet)
		fflush(stdout);
}

/* How long to sleep: until the next resend, rate token or timeout. */
static int64_t add_sleep(const struct adder *a, int64_t now)
{
	int64_t wake = now + 1000;
	if (a->heap.n && a->heap.v[0].at < wake)
		wake = a->heap.v[0].at;
	if (a->outstanding && a->last_answer + a->o->timeout_ms < wake)
		wake = a->last_answer + a->o->timeout_ms;
	int64_t probe = probe_at(a);
	if (probe < wake)
		wake = probe;
	if (a->o->rate > 0 && a->next_req <= a->in->n && a->tokens < 1 &&
	    a->outstanding < a->o->window) {
		int64_t t = now + 1 +
		    (int64_t)((1 - a->tokens) * 1000.0 / a->o->rate);
		if (t < wake)
			wake = t;
	}
	return wake - now;
}

static int add_timed_out(const struct adder *a)
{
	fprintf(stderr, "seqcast: no answer from %s for %g s (%" PRIu64
	    " of %zu entries acknowledged)\n", a->o->server, a->o->timeout_s,
	    a->acked, a->in->n);
	return RC_FAIL;
}

static int add_loop(struct adder *a)
{
	batch_reset(&a->batch);
	while (a->next_print <= a->in->n) {
		int64_t now = now_ms();
		int rc = add_send(a, now);
		if (rc != RC_OK)
			return rc;
		if (a->outstanding &&
		    now - a->last_answer >= a->o->timeout_ms)
			return add_timed_out(a);
		conn_wait(a->c, add_sleep(a, now));
		rc = add_receive(a);
		add_print(a);
		if (rc != RC_OK)
			return rc;
		if (a->too_large)
			return refused_value(a);
	}
	return RC_OK;
}

/* CPU seconds (user + system) this process used so far. */
static double cpu_seconds(void)
{
	struct rusage ru;
	if (getrusage(RUSAGE_SELF, &ru) != 0)
		return 0;
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	    (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* --stats-line and --latency output at the end of add; rc passes on. */
static int add_report(const struct adder *a, int rc)
{
	const struct opts *o = a->o;
	double secs = (double)(a->end_us - a->start_us) / 1e6;
	if (o->stats_line)
		fprintf(stderr, "sent=%" PRIu64 " acked=%" PRIu64 " resent=%"
		    PRIu64 " datagrams=%" PRIu64 " bytes=%" PRIu64 " seconds=%.3f"
		    " rate=%.0f/s cpu=%.3f fast=%" PRIu64 " probes=%" PRIu64
		    "\n", a->next_req - 1,
		    a->acked, a->resent, a->datagrams, a->bytes, secs,
		    secs > 0 ? (double)a->acked / secs : 0.0, cpu_seconds(),
		    a->fast_resent, a->probes);
	if (!a->lat)
		return rc;
	lat_print(a->lat);
	if (o->latency_file && lat_write(a->lat, o->latency_file) != RC_OK)
		return rc == RC_OK ? RC_FAIL : rc;
	return rc;
}

static int run_add(const struct opts *o)
{
	struct input in;
	struct adder *a = NULL;
	struct conn *c = NULL;
	int rc = input_load(o, &in);
	if (rc == RC_OK && in.n > 0 && (rc = conn_open(o, &c)) == RC_OK) {
		a = malloc(sizeof *a);
		rc = a ? adder_init(a, o, c, &in) : oom();
		if (rc == RC_OK)
			rc = add_loop(a);
		if (a && a->o) /* initialised: report what happened */
			rc = add_report(a, rc);
	}
	if (a)
		adder_free(a);
	free(a);
	conn_free(c);
	input_free(&in);
	return rc;
}

/* ------------------------------------------------------------------ */
/* one request, one reply (log, stats) */

struct exchange {
	const struct sc_msg *req;
	int type;                                   /* reply type */
	int (*accept)(const struct sc_msg *, const void *ctx);
	const void *ctx;
};

static int no_answer(const struct opts *o)
{
	fprintf(stderr, "seqcast: no answer from %s for %g s\n", o->server,
	    o->timeout_s);
	return RC_FAIL;
}

/* Read replies until one is accepted: IO_OK, IO_NONE, IO_REFUSED... */
static int recv_accepted(struct conn *c, const struct exchange *x,
    struct sc_msg *out)
{
	int io;
	while ((io = conn_recv(c, x->type, out)) == IO_OK)
		if (!x->accept || x->accept(out, x->ctx))
			return IO_OK;
	return io;
}

/* Send x->req until a reply is accepted, resending with backoff. */
static int exchange(struct conn *c, const struct exchange *x,
    struct sc_msg *out)
{
	const struct opts *o = c->o;
	int64_t start = now_ms(), next = start;
	uint32_t delay = o->retry_ms;
	for (;;) {
		int64_t now = now_ms(), end = start + o->timeout_ms;
		int io = IO_NONE;
		if (now >= end)
			return no_answer(o);
		if (now >= next) {
			io = conn_send_msg(c, x->req);
			next = now + delay;
			delay = next_delay(o, delay);
		}
		if (io != IO_REFUSED && io != IO_ERR) {
			conn_wait(c, (next < end ? next : end) - now);
			io = recv_accepted(c, x, out);
		}
		if (io == IO_OK)
			return RC_OK;
		if (io == IO_REFUSED)
			return report_refused(o);
		if (io == IO_ERR)
			return RC_FAIL;
	}
}

/* ------------------------------------------------------------------ */
/* log */

/* A reply to "from": empty, or starting at or after it (a gap is an
 * error found later); replies to earlier requests start before it. */
static int log_accept(const struct sc_msg *m, const void *ctx)
{
	uint64_t from = *(const uint64_t *)ctx;
	return m->count == 0 || m->items[0].id >= from;
}

static int log_fetch(struct conn *c, uint64_t from, struct sc_msg *out)
{
	struct sc_msg req;
	msg_init(&req, c->o, SC_LOG_REQ);
	req.b = from;
	req.c = 0;
	struct exchange x = { &req, SC_LOG_REPLY, log_accept, &from };
	return exchange(c, &x, out);
}

static int log_print(const struct opts *o, const struct sc_msg *m,
    uint64_t from)
{
	for (uint32_t i = 0; i < m->count; i++) {
		const struct sc_item *it = &m->items[i];
		if (it->id != from + i) {
			fflush(stdout);
			fprintf(stderr, "seqcast: log from %s skips from id %"
			    PRIu64 " to %" PRIu64 "\n", o->server, from + i,
			    it->id);
			return RC_FAIL;
		}
		print_entry(it->id, it->value, it->len);
	}
	fflush(stdout);
	return RC_OK;
}

static int log_loop(struct conn *c)
{
	uint64_t from = c->o->from, applied = 0;
	for (int first = 1;; first = 0) {
		struct sc_msg m;
		int rc = log_fetch(c, from, &m);
		if (rc != RC_OK)
			return rc;
		if (first)
			applied = m.a;
		if (m.count == 0)
			return RC_OK;
		if ((rc = log_print(c->o, &m, from)) != RC_OK)
			return rc;
		from = m.items[m.count - 1].id + 1;
		if (from - 1 >= applied)
			return RC_OK;
	}
}

/* ------------------------------------------------------------------ */
/* stats and wait */

static int stats_request(const struct opts *o, struct sc_msg *req)
{
	msg_init(req, o, SC_STATS_REQ);
	req->c = 0;
	return random_u64(&req->b);
}

/* A page of the stats at the offset asked for. */
static int stats_accept(const struct sc_msg *m, const void *ctx)
{
	return m->text != NULL && m->b == *(const uint64_t *)ctx &&
	    m->a <= SC_TEXT_MAX && m->b + strlen(m->text) <= m->a;
}

/* The stats come in pages of one datagram: ask for each in turn. */
static int stats_loop(struct conn *c)
{
	static char text[SC_TEXT_MAX + 1];
	struct sc_msg req, reply;
	uint64_t off = 0, total = 1;
	int rc = stats_request(c->o, &req);
	struct exchange x = { &req, SC_STATS_REPLY, stats_accept, &off };

	while (rc == RC_OK && off < total) {
		size_t n;

		req.c = off;
		rc = exchange(c, &x, &reply);
		if (rc != RC_OK)
			break;
		n = strlen(reply.text);
		total = reply.a;
		if (n == 0 && off < total) {
			fprintf(stderr, "seqcast: %s sent an empty stats page\n",
			    c->o->server);
			return RC_FAIL;
		}
		memcpy(text + off, reply.text, n);
		off += n;
	}
	if (rc == RC_OK) {
		text[off] = '\0';
		fputs(text, stdout);
		putchar('\n');
	}
	return rc;
}

/* The integer after "applied": in the stats JSON; -1 if there is none. */
static int json_applied(const char *text, uint64_t *out)
{
	const char *p = strstr(text, "\"applied\":");
	char *end;
	if (!p)
		return -1;
	p += strlen("\"applied\":");
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	if (*p < '0' || *p > '9')
		return -1;
	errno = 0;
	*out = strtoull(p, &end, 10);
	return errno ? -1 : 0;
}

struct waiter {
	struct conn *c;
	uint64_t applied;       /* latest reported */
	int answered;           /* any reply yet */
	int refused;            /* last send/receive was refused */
};

static int wait_receive(struct waiter *w)
{
	struct sc_msg m;
	int io;
	while ((io = conn_recv(w->c, SC_STATS_REPLY, &m)) == IO_OK) {
		if (!m.text || json_applied(m.text, &w->applied) < 0) {
			fprintf(stderr, "seqcast: stats from %s have no "
			    "\"applied\" count\n", w->c->o->server);
			return RC_FAIL;
		}
		w->answered = 1;
		w->refused = 0;
	}
	if (io == IO_REFUSED)
		w->refused = 1;
	return io == IO_ERR ? RC_FAIL : RC_OK;
}

static int wait_timed_out(const struct waiter *w)
{
	const struct opts *o = w->c->o;
	if (w->answered)
		fprintf(stderr, "seqcast: %s applied %" PRIu64 " of %" PRIu64
		    " entries after %g s\n", o->server, w->applied, o->applied,
		    o->timeout_s);
	else if (w->refused)
		report_refused(o);
	else
		no_answer(o);
	return RC_FAIL;
}

static int wait_loop(struct conn *c)
{
	const struct opts *o = c->o;
	struct waiter w = { .c = c };
	struct sc_msg req;
	int64_t start = now_ms(), next = start, end = start + o->timeout_ms;
	int rc = stats_request(o, &req);
	while (rc == RC_OK) {
		int64_t now = now_ms();
		if (now >= next) {
			int io = conn_send_msg(c, &req);
			if (io == IO_ERR)
				return RC_FAIL;
			w.refused |= io == IO_REFUSED;
			next = now + o->poll_ms;
		}
		if (now >= end)
			return wait_timed_out(&w);
		conn_wait(c, (next < end ? next : end) - now);
		rc = wait_receive(&w);
		if (rc == RC_OK && w.answered && w.applied >= o->applied)
			return RC_OK;
	}
	return rc;
}

/* ------------------------------------------------------------------ */

static int run_with_conn(const struct opts *o, int (*fn)(struct conn *))
{
	struct conn *c;
	int rc = conn_open(o, &c);
	if (rc != RC_OK)
		return rc;
	rc = fn(c);
	conn_free(c);
	return rc;
}

static int run(struct opts *o)
{
	int rc = parse_server(o->server, &o->addr);
	if (rc != RC_OK)
		return rc;
	sc_tpl_hooks_install();
	switch (o->cmd) {
	case CMD_ADD:   return run_add(o);
	case CMD_LOG:   return run_with_conn(o, log_loop);
	case CMD_STATS: return run_with_conn(o, stats_loop);
	case CMD_WAIT:  return run_with_conn(o, wait_loop);
	default:        return RC_USAGE;
	}
}

static int finish_stdout(int rc)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "seqcast: cannot write standard output: %s\n",
		    strerror(errno));
		return RC_FAIL;
	}
	return rc;
}

int main(int argc, char **argv)
{
	struct opts o;
	int rc = parse_args(argc, argv, &o);
	if (rc == RC_HELP) {
		usage(stdout);
		return finish_stdout(RC_OK);
	}
	if (rc != RC_OK)
		return rc;
	if ((rc = load_key(&o)) != RC_OK)
		return rc;
	return finish_stdout(run(&o));
}
