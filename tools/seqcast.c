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
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

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

enum cmd { CMD_NONE = -1, CMD_ADD, CMD_LOG, CMD_STATS, CMD_WAIT };

struct opts {
	enum cmd cmd;
	const char *server;       /* HOST:PORT as given, for messages */
	struct sockaddr_in addr;
	double timeout_s;         /* as given, for messages */
	int64_t timeout_ms;
	uint32_t retry_ms;
	uint32_t cluster;
	/* add */
	const char *file;
	int has_count;
	uint64_t count;
	double rate;
	const char *prefix;
	char prefix_buf[32];
	uint32_t window;
	uint32_t value_max;
	int quiet;
	char **values;
	int nvalues;
	/* log */
	uint64_t from;
	/* wait */
	int has_applied;
	uint64_t applied;
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
"  --retry-ms N         resend an unanswered request after N ms, the delay\n"
"                       doubling per resend up to 1000 ms (default 200)\n"
"  --cluster N          cluster id put in requests (default 0: the server's)\n"
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
"  -q, --quiet          print nothing\n"
"\n"
"Options for log:\n"
"  --from ID            first entry to print (default 1)\n"
"\n"
"Options for wait:\n"
"  --applied N          entries the server must have applied (required)\n"
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
	O_QUIET = 'q', O_HELP = 'h'
};

static const struct option long_opts[] = {
	{ "server",    required_argument, NULL, O_SERVER },
	{ "timeout",   required_argument, NULL, O_TIMEOUT },
	{ "retry-ms",  required_argument, NULL, O_RETRY },
	{ "cluster",   required_argument, NULL, O_CLUSTER },
	{ "file",      required_argument, NULL, O_FILE },
	{ "count",     required_argument, NULL, O_COUNT },
	{ "rate",      required_argument, NULL, O_RATE },
	{ "prefix",    required_argument, NULL, O_PREFIX },
	{ "window",    required_argument, NULL, O_WINDOW },
	{ "value-max", required_argument, NULL, O_VALUE_MAX },
	{ "from",      required_argument, NULL, O_FROM },
	{ "applied",   required_argument, NULL, O_APPLIED },
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
	case O_WINDOW: case O_VALUE_MAX: case O_QUIET:
		return CMD_BIT(CMD_ADD);
	case O_FROM:
		return CMD_BIT(CMD_LOG);
	case O_APPLIED:
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
	default:        return RC_USAGE;
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
	if (!o->has_count && (o->rate > 0 || o->prefix))
		return usage_error("--rate and --prefix need --count", NULL);
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

struct conn {
	int fd;
	const struct opts *o;
	struct sc_decoder *dec;
	uint8_t rbuf[SC_RECV_MAX];
	uint8_t sbuf[SC_DATAGRAM_MAX];
};

static int report_refused(const struct opts *o)
{
	fprintf(stderr, "seqcast: server %s unreachable: connection refused\n",
	    o->server);
	return RC_FAIL;
}

static void set_rcvbuf(int fd)
{
	int size = RCVBUF_BYTES;
	/* FORCE ignores rmem_max but needs CAP_NET_ADMIN: best effort. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
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
	set_rcvbuf(c->fd);
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
	ssize_t n = send(c->fd, buf, len, 0);
	if (n == (ssize_t)len)
		return IO_OK;
	return n < 0 ? io_error(c, "send to", errno) : IO_NONE;
}

static int conn_send_msg(struct conn *c, const struct sc_msg *m)
{
	long len = sc_encode(m, c->sbuf, sizeof c->sbuf);
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

/* Generated values grow with k: find the first one over the limit. */
static int check_generated(const struct input *in, uint32_t limit)
{
	uint64_t fixed = strlen(in->prefix) + 1, first = 1, digits = 1;
	if (in->n == 0)
		return RC_OK;
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
/* add: the pipeline */

enum { S_FREE = 0, S_OUT, S_ACKED };

struct slot {
	uint64_t req;       /* request number held, 0 = free */
	uint64_t id;        /* entry id once acknowledged */
	int64_t due;        /* next resend (ms); matches one heap entry */
	uint32_t delay;     /* current resend delay (ms) */
	uint8_t state;
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
	if (!a->ring)
		return oom();
	return random_u64(&a->client);
}

static void adder_free(struct adder *a)
{
	free(a->ring);
	free(a->heap.v);
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
	int rc = conn_send_msg(a->c, &m);
	batch_reset(b);
	if (rc == IO_REFUSED)
		return report_refused(a->o);
	return rc == IO_ERR ? RC_FAIL : RC_OK;
}

static int batch_fits(const struct batch *b, const struct sc_item *it)
{
	return b->count < SC_ITEMS_MAX &&
	    b->used + it->len <= sizeof b->arena &&
	    b->size + sc_item_size(SC_ADD, it) <= SC_DATAGRAM_MAX;
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
	    .delay = a->o->retry_ms };
	if (a->outstanding++ == 0)
		a->last_answer = now;   /* the timeout runs from here */
	a->tokens -= 1;
	int rc = schedule(a, s, now);
	return rc == RC_OK ? batch_add(a, req) : rc;
}

static int send_retry(struct adder *a, struct due d, int64_t now)
{
	struct slot *s = slot_of(a, d.req);
	if (s->req != d.req || s->state != S_OUT || s->due != d.at)
		return RC_OK;   /* acknowledged or rescheduled since */
	s->delay = next_delay(a->o, s->delay);
	int rc = schedule(a, s, now);
	return rc == RC_OK ? batch_add(a, d.req) : rc;
}

/* Send due resends and as many new requests as allowed. */
static int add_send(struct adder *a, int64_t now)
{
	int rc = RC_OK;
	while (rc == RC_OK && a->heap.n && a->heap.v[0].at <= now)
		rc = send_retry(a, heap_pop(&a->heap), now);
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
		return RC_OK;
	case SC_ERR_BUSY:       /* resend after the delay (which doubles) */
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
static int add_receive(struct adder *a)
{
	struct sc_msg m;
	int io, rc = RC_OK;
	while (rc == RC_OK && (io = conn_recv(a->c, SC_ACK, &m)) == IO_OK) {
		int64_t now = now_ms();
		a->last_answer = now;
		for (uint32_t i = 0; rc == RC_OK && i < m.count; i++)
			rc = on_ack_item(a, &m.items[i], now);
	}
	if (rc != RC_OK)
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
	req.a = from;
	req.b = 0;
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
	req->b = 0;
	return random_u64(&req->a);
}

static int stats_accept(const struct sc_msg *m, const void *ctx)
{
	(void)ctx;
	return m->text != NULL;
}

static int stats_loop(struct conn *c)
{
	struct sc_msg req, reply;
	int rc = stats_request(c->o, &req);
	struct exchange x = { &req, SC_STATS_REPLY, stats_accept, NULL };
	if (rc == RC_OK)
		rc = exchange(c, &x, &reply);
	if (rc == RC_OK) {
		fputs(reply.text, stdout);
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
			next = now + WAIT_POLL_MS;
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
	return finish_stdout(run(&o));
}
