/*
 * config.c - the cluster file, parsed with Debian's libinih (r55).
 *
 * Debian builds inih without INI_HANDLER_LINENO, with multi-line values
 * (a line starting with white space continues the previous key), with ';'
 * (after white space) as the only inline comment, and it does not tell the
 * handler where a section starts. So we feed inih through our own reader
 * (ini_parse_stream), one line per call, which
 *   - counts lines: inih also counts one line per reader call, so the
 *     handler knows the line of every key and inih's own error return (a
 *     line without '=' or ':') is the same line number;
 *   - strips leading white space, so there are no continuation lines: an
 *     indented "key = value" is an ordinary key;
 *   - handles blank lines, comments (';' or '#' first on the line) and
 *     section headers itself and hands inih an empty line for them, so
 *     that empty sections, duplicate sections and unknown sections are
 *     seen, with their line, and section names are not truncated;
 *   - refuses key lines longer than inih's line buffer (inih would split
 *     them into several "lines"), and stops at the first error.
 * inih splits "key = value" (or "key: value"), trims both and removes a
 * " ; comment" from the value. '#' after a value is NOT a comment.
 *
 * The file:
 *   [cluster]   id, group (required), interface, ttl, coordinator, timings,
 *               limits, data_dir, fault_*
 *   [server N]  listen (required), interface, data_dir, fault_*
 * A [server N] with any fault_* key has its own fault settings, starting
 * from "no faults", not merged with the cluster's. A server without its own
 * interface/data_dir gets the cluster's copied in (has_interface stays 0).
 *
 * Error messages (one line, first error only):
 *   FILE: cannot open: <strerror>
 *   FILE:LINE: syntax error
 *   FILE:LINE: unknown section [NAME]
 *   FILE:LINE: duplicate section [server N] (first at line M)
 *   FILE:LINE: key 'KEY': unknown key
 *   FILE:LINE: key 'KEY': <what is wrong with the value>
 *   FILE: [cluster]: missing key 'KEY'
 */
#include "seqcast/config.h"
#include "seqcast/logfile.h"
#include "seqcast/wire.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Upper bound for every millisecond setting: one hour (keeps ms * 1000 in
 * 32 bits for whoever converts to microseconds). */
#define MS_MAX 3600000u
/* Largest file sc_config_load reads. */
#define FILE_MAX (1u << 20)

/* ------------------------------------------------------------------ */
/* keys */

enum { IN_CLUSTER = 1, IN_SERVER = 2 };

enum kind {
	T_U32,          /* uint32 field of sc_config, [min, max] */
	T_SIZE,         /* uint64 with optional K/M/G suffix, [min, max] */
	T_GROUP,        /* multicast A.B.C.D:PORT */
	T_IFACE,        /* A.B.C.D */
	T_DIR,          /* data_dir */
	T_FSYNC,        /* fsync policy: each, interval, never */
	T_KEYFILE,      /* key_file */
	T_LISTEN,       /* unicast A.B.C.D:PORT */
	T_PROB,         /* fault rate: dir, rate */
	T_FDELAY,       /* fault delay_ms */
	T_FTYPES,       /* fault types list */
	T_FSEED,        /* fault seed */
	T_FABOVE,       /* fault drop_data_above */
};

struct key {
	const char *name;
	unsigned where;
	enum kind kind;
	size_t off;        /* T_U32/T_SIZE: into sc_config;
	                      T_PROB: into sc_fault_rates */
	uint64_t min, max;
	int dir;           /* T_PROB */
};

#define CU32(n, f, lo, hi) \
	{ n, IN_CLUSTER, T_U32, offsetof(struct sc_config, f), lo, hi, 0 }
#define PROB(n, d, f) \
	{ n, IN_CLUSTER | IN_SERVER, T_PROB, \
	  offsetof(struct sc_fault_rates, f), 0, 0, d }
#define BOTH (IN_CLUSTER | IN_SERVER)

static const struct key keys[] = {
	CU32("id", cluster_id, 0, UINT32_MAX),
	{ "group", IN_CLUSTER, T_GROUP, 0, 0, 0, 0 },
	{ "interface", BOTH, T_IFACE, 0, 0, 0, 0 },
	CU32("ttl", ttl, 1, 255),   /* int field, handled specially */
	CU32("coordinator", coordinator, 0, SC_SERVERS_MAX - 1),
	CU32("heartbeat_ms", heartbeat_ms, 1, MS_MAX),
	CU32("failover_ms", failover_ms, 10, 60000),
	CU32("mtu", mtu, 0, 65535),
	CU32("nack_delay_ms", nack_delay_ms, 0, MS_MAX),
	CU32("nack_backoff_max_ms", nack_backoff_max_ms, 1, MS_MAX),
	CU32("report_ms", report_ms, 1, MS_MAX),
	CU32("forward_retry_ms", forward_retry_ms, 1, MS_MAX),
	CU32("retx_window_ms", retx_window_ms, 0, MS_MAX),
	{ "store_bytes", IN_CLUSTER, T_SIZE, offsetof(struct sc_config,
	    store_bytes), 1, UINT64_MAX, 0 },
	CU32("dedup_max", dedup_max, 1, 1u << 30),
	CU32("pending_max", pending_max, 1, 1u << 30),
	CU32("holdback_max", holdback_max, 1, 1u << 30),
	CU32("value_max", value_max, 1, SC_VALUE_MAX),
	{ "data_dir", BOTH, T_DIR, 0, 0, 0, 0 },
	{ "fsync", IN_CLUSTER, T_FSYNC, 0, 0, 0, 0 },
	{ "key_file", IN_CLUSTER, T_KEYFILE, 0, 0, 0, 0 },
	CU32("add_rate", add_rate, 0, UINT32_MAX),
	CU32("fsync_interval_ms", fsync_interval_ms, 1, MS_MAX),
	CU32("catchup_rate", catchup_rate, 0, UINT32_MAX),
	{ "listen", IN_SERVER, T_LISTEN, 0, 0, 0, 0 },
	PROB("fault_in_drop", SC_IN, drop),
	PROB("fault_in_dup", SC_IN, dup),
	PROB("fault_in_reorder", SC_IN, reorder),
	PROB("fault_in_delay", SC_IN, delay),
	PROB("fault_out_drop", SC_OUT, drop),
	PROB("fault_out_dup", SC_OUT, dup),
	PROB("fault_out_reorder", SC_OUT, reorder),
	PROB("fault_out_delay", SC_OUT, delay),
	{ "fault_delay_ms", BOTH, T_FDELAY, 0, 0, MS_MAX, 0 },
	{ "fault_types", BOTH, T_FTYPES, 0, 0, 0, 0 },
	{ "fault_seed", BOTH, T_FSEED, 0, 0, UINT64_MAX, 0 },
	{ "fault_drop_data_above", BOTH, T_FABOVE, 0, 0, UINT64_MAX, 0 },
};
#define NKEYS (sizeof keys / sizeof keys[0])
_Static_assert(sizeof keys / sizeof keys[0] <= 64, "seen masks are 64 bits");

static int is_fault_kind(enum kind k)
{
	return k == T_PROB || k == T_FDELAY || k == T_FTYPES ||
	    k == T_FSEED || k == T_FABOVE;
}

static const struct key *find_key(const char *name)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

/* ------------------------------------------------------------------ */
/* values */

/* Quote at most 64 characters of a value for a message. */
#define QV "'%.64s%s'"
#define QA(s) (s), (strlen(s) > 64 ? "..." : "")

/* Strict unsigned decimal: digits only, no sign, no space, no overflow.
 * 0 ok, -1 not a number, -2 out of range (negative or too large). */
static int parse_u64(const char *s, uint64_t *out)
{
	const char *p = s;
	int neg = 0, over = 0;
	uint64_t v = 0;

	if (*p == '-') {
		neg = 1;
		p++;
	}
	if (!isdigit((unsigned char)*p))
		return -1;
	for (; isdigit((unsigned char)*p); p++) {
		unsigned d = (unsigned)(*p - '0');
		if (v > (UINT64_MAX - d) / 10)
			over = 1;
		else
			v = v * 10 + d;
	}
	if (*p != '\0')
		return -1;
	if (neg || over)
		return -2;
	*out = v;
	return 0;
}

static int number_error(int r, const char *v, uint64_t lo, uint64_t hi,
    char *what, size_t wl)
{
	if (r == -1)
		snprintf(what, wl, "not a number: " QV, QA(v));
	else
		snprintf(what, wl, "out of range: " QV " (%llu..%llu)", QA(v),
		    (unsigned long long)lo, (unsigned long long)hi);
	return -1;
}

static int parse_ranged(const char *v, uint64_t lo, uint64_t hi,
    uint64_t *out, char *what, size_t wl)
{
	uint64_t x;
	int r = parse_u64(v, &x);

	if (r == 0 && (x < lo || x > hi))
		r = -2;
	if (r < 0)
		return number_error(r, v, lo, hi, what, wl);
	*out = x;
	return 0;
}

/* Size: decimal with an optional K, M or G suffix (powers of 1024). */
static int parse_size(const char *v, uint64_t lo, uint64_t hi,
    uint64_t *out, char *what, size_t wl)
{
	char buf[32];
	size_t n = strlen(v);
	unsigned shift = 0;
	uint64_t x;
	int r;

	if (n == 0 || n >= sizeof buf) {
		if (n >= sizeof buf && strspn(v, "0123456789") == n)
			goto range;
		snprintf(what, wl, "not a size: " QV
		    " (bytes, optional K, M or G suffix)", QA(v));
		return -1;
	}
	memcpy(buf, v, n + 1);
	switch (buf[n - 1]) {
	case 'k': case 'K': shift = 10; break;
	case 'm': case 'M': shift = 20; break;
	case 'g': case 'G': shift = 30; break;
	}
	if (shift)
		buf[n - 1] = '\0';
	r = parse_u64(buf, &x);
	if (r == -1) {
		snprintf(what, wl, "not a size: " QV
		    " (bytes, optional K, M or G suffix)", QA(v));
		return -1;
	}
	if (r == -2 || x > (UINT64_MAX >> shift))
		goto range;
	x <<= shift;
	if (x < lo || x > hi)
		goto range;
	*out = x;
	return 0;
range:
	snprintf(what, wl, "out of range: " QV " (%llu..%llu)", QA(v),
	    (unsigned long long)lo, (unsigned long long)hi);
	return -1;
}

/* Probability: "0", "0.25", "1", "1.0" or a percentage "25%", "2.5%".
 * The digits are read as one integer and divided once by a power of ten,
 * so "0.3" is exactly the double 0.3 (up to 15 decimals are used). */
static int parse_prob(const char *v, double *out, char *what, size_t wl)
{
	static const double pow10[] = {
		1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
		1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17,
	};
	const char *p = v;
	uint64_t mant = 0;
	int digits = 0, frac = 0, pct;
	double x;

	for (; isdigit((unsigned char)*p); p++, digits++) {
		if (digits >= 3)
			goto bad; /* > 100 even as a percentage */
		mant = mant * 10 + (uint64_t)(*p - '0');
	}
	if (digits == 0)
		goto bad;
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			goto bad;
		for (; isdigit((unsigned char)*p); p++) {
			if (frac < 15) {
				mant = mant * 10 + (uint64_t)(*p - '0');
				frac++;
			}
		}
	}
	pct = *p == '%';
	if (pct)
		p++;
	if (*p != '\0')
		goto bad;
	x = (double)mant / pow10[frac + (pct ? 2 : 0)];
	if (x > 1)
		goto bad;
	*out = x;
	return 0;
bad:
	snprintf(what, wl, "bad probability: " QV
	    " (expected 0..1, e.g. 0.1, or a percentage, e.g. 10%%)", QA(v));
	return -1;
}

/* "add,data, nack" or "all" -> bit mask (all -> 0, meaning every type). */
static int parse_types(const char *v, uint32_t *out, char *what, size_t wl)
{
	uint32_t mask = 0;
	int all = 0;
	const char *p = v;

	for (;;) {
		const char *s, *e;
		size_t n;
		int found = 0;

		while (*p == ' ' || *p == '\t')
			p++;
		s = p;
		while (*p && *p != ',')
			p++;
		e = p;
		while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		n = (size_t)(e - s);
		if (n == 0) {
			snprintf(what, wl, "empty item in type list " QV
			    " (expected names like data,retx,nack or all)",
			    QA(v));
			return -1;
		}
		if (n == 3 && strncasecmp(s, "all", 3) == 0) {
			all = 1;
			found = 1;
		}
		for (int t = 1; !found && t < SC_TYPE_COUNT; t++) {
			if (strlen(sc_type_name(t)) == n &&
			    strncasecmp(s, sc_type_name(t), n) == 0) {
				mask |= 1u << t;
				found = 1;
			}
		}
		if (!found) {
			snprintf(what, wl, "unknown message type '%.*s' "
			    "(one of add,fwd,data,retx,ack,stamped,heartbeat,"
			    "nack,report,gone,log_req,log_reply,stats_req,"
			    "stats_reply,all)", (int)(n > 32 ? 32 : n), s);
			return -1;
		}
		if (*p == '\0')
			break;
		p++; /* ',' */
	}
	*out = all ? 0 : mask;
	return 0;
}

/* Strict decimal dotted quad, no leading zeros (inet_aton would read
 * "010" as octal). Parses s[0..n). */
static int parse_ipv4(const char *s, size_t n, struct in_addr *a)
{
	uint32_t v = 0;
	size_t i = 0;

	for (int part = 0; part < 4; part++) {
		unsigned x = 0;
		size_t start = i;

		if (part > 0) {
			if (i >= n || s[i] != '.')
				return -1;
			start = ++i;
		}
		while (i < n && isdigit((unsigned char)s[i]) && i - start < 4)
			x = x * 10 + (unsigned)(s[i++] - '0');
		if (i == start || i - start > 3 || x > 255)
			return -1;
		if (i - start > 1 && s[start] == '0')
			return -1;
		v = (v << 8) | x;
	}
	if (i != n)
		return -1;
	a->s_addr = htonl(v);
	return 0;
}

int sc_parse_addr(const char *s, struct sockaddr_in *sa)
{
	const char *colon;
	struct in_addr a;
	uint64_t port;

	if (s == NULL || sa == NULL)
		return -1;
	colon = strchr(s, ':');
	if (colon == NULL || parse_ipv4(s, (size_t)(colon - s), &a) < 0)
		return -1;
	if (colon[1] == '0' || strlen(colon + 1) > 5 ||
	    parse_u64(colon + 1, &port) < 0 || port < 1 || port > 65535)
		return -1;
	memset(sa, 0, sizeof *sa);
	sa->sin_family = AF_INET;
	sa->sin_addr = a;
	sa->sin_port = htons((uint16_t)port);
	return 0;
}

static int is_multicast(struct in_addr a)
{
	return (ntohl(a.s_addr) & 0xf0000000u) == 0xe0000000u;
}

static int same_addr(const struct sockaddr_in *x, const struct sockaddr_in *y)
{
	return x->sin_addr.s_addr == y->sin_addr.s_addr &&
	    x->sin_port == y->sin_port;
}

/* A path value, into a fixed-size field. */
static int set_path(char *dst, size_t size, const char *v, char *what,
    size_t wl)
{
	size_t n = strlen(v);

	if (n >= size) {
		snprintf(what, wl, "too long (at most %zu characters)",
		    size - 1);
		return -1;
	}
	memcpy(dst, v, n + 1);
	return 0;
}

/* ------------------------------------------------------------------ */
/* applying one key */

/*
 * Apply key k = v to the cluster (server < 0) or to server `server`.
 * A server's first fault key starts its fault settings from zero
 * (fault_base == NULL, the file) or from a copy of *fault_base (--set).
 * On error writes what is wrong into what and returns -1.
 */
static int apply(struct sc_config *c, int server, const struct key *k,
    const char *v, const struct sc_fault_conf *fault_base,
    char *what, size_t wl)
{
	struct sc_server_conf *s = server >= 0 ? &c->servers[server] : NULL;
	struct sc_fault_conf *f = s ? &s->fault : &c->fault;
	struct sc_fault_conf nf;
	struct sockaddr_in sa;
	struct in_addr a;
	uint64_t x;

	if (s && is_fault_kind(k->kind)) {
		/* Work on a copy: a bad value leaves has_fault alone. */
		if (s->has_fault)
			nf = s->fault;
		else if (fault_base)
			nf = *fault_base;
		else
			memset(&nf, 0, sizeof nf);
		f = &nf;
	}

	switch (k->kind) {
	case T_U32:
		if (k->off == offsetof(struct sc_config, nack_delay_ms) &&
		    strcmp(v, "auto") == 0) {
			c->nack_delay_ms = SC_NACK_DELAY_AUTO;
			return 0;
		}
		if (parse_ranged(v, k->min, k->max, &x, what, wl) < 0)
			return -1;
		if (k->off == offsetof(struct sc_config, ttl))
			c->ttl = (int)x;
		else
			*(uint32_t *)(void *)((char *)c + k->off) = (uint32_t)x;
		return 0;
	case T_SIZE:
		if (parse_size(v, k->min, k->max, &x, what, wl) < 0)
			return -1;
		*(uint64_t *)(void *)((char *)c + k->off) = x;
		return 0;
	case T_GROUP:
		if (sc_parse_addr(v, &sa) < 0) {
			snprintf(what, wl, "bad address: " QV
			    " (expected A.B.C.D:PORT)", QA(v));
			return -1;
		}
		if (!is_multicast(sa.sin_addr)) {
			snprintf(what, wl, "not a multicast address: " QV
			    " (expected 224.0.0.0/4)", QA(v));
			return -1;
		}
		c->group = sa;
		return 0;
	case T_IFACE:
		if (parse_ipv4(v, strlen(v), &a) < 0) {
			snprintf(what, wl, "bad address: " QV
			    " (expected A.B.C.D)", QA(v));
			return -1;
		}
		if (is_multicast(a)) {
			snprintf(what, wl, "not a unicast address: " QV, QA(v));
			return -1;
		}
		if (s) {
			s->interface = a;
			s->has_interface = 1;
		} else {
			c->interface = a;
		}
		return 0;
	case T_DIR:
		return set_path(s ? s->data_dir : c->data_dir,
		    sizeof c->data_dir, v, what, wl);
	case T_KEYFILE:
		return set_path(c->key_file, sizeof c->key_file, v, what, wl);
	case T_FSYNC:
		if (strcmp(v, "each") == 0)
			c->fsync = SC_FSYNC_EACH;
		else if (strcmp(v, "interval") == 0)
			c->fsync = SC_FSYNC_INTERVAL;
		else if (strcmp(v, "never") == 0)
			c->fsync = SC_FSYNC_NEVER;
		else {
			snprintf(what, wl, "bad policy: " QV
			    " (expected each, interval or never)", QA(v));
			return -1;
		}
		return 0;
	case T_LISTEN:
		if (sc_parse_addr(v, &sa) < 0) {
			snprintf(what, wl, "bad address: " QV
			    " (expected A.B.C.D:PORT)", QA(v));
			return -1;
		}
		if (is_multicast(sa.sin_addr)) {
			snprintf(what, wl, "not a unicast address: " QV, QA(v));
			return -1;
		}
		for (int i = 0; i < SC_SERVERS_MAX; i++) {
			const struct sc_server_conf *o = &c->servers[i];
			if (i != server && o->present &&
			    o->listen.sin_family == AF_INET &&
			    same_addr(&o->listen, &sa)) {
				snprintf(what, wl, "address " QV
				    " already used by [server %d]", QA(v), i);
				return -1;
			}
		}
		s->listen = sa;
		return 0;
	case T_PROB: {
		double p, sum;
		struct sc_fault_rates *r = &f->dir[k->dir];

		if (parse_prob(v, &p, what, wl) < 0)
			return -1;
		*(double *)(void *)((char *)r + k->off) = p;
		sum = r->drop + r->dup + r->reorder + r->delay;
		if (sum > 1 + 1e-9) {
			snprintf(what, wl, "fault_%s_* probabilities add up to "
			    "more than 1 (%g)", k->dir == SC_IN ? "in" : "out",
			    sum);
			return -1;
		}
		break;
	}
	case T_FDELAY:
		if (parse_ranged(v, k->min, k->max, &x, what, wl) < 0)
			return -1;
		f->delay_ms = (uint32_t)x;
		break;
	case T_FTYPES:
		if (parse_types(v, &f->types, what, wl) < 0)
			return -1;
		break;
	case T_FSEED:
		if (parse_ranged(v, k->min, k->max, &f->seed, what, wl) < 0)
			return -1;
		break;
	case T_FABOVE:
		if (parse_ranged(v, k->min, k->max, &f->drop_data_above,
		    what, wl) < 0)
			return -1;
		break;
	}
	/* fault keys */
	if (s) {
		s->fault = nf;
		s->has_fault = 1;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* parsing */

enum { SEC_NONE, SEC_CLUSTER, SEC_SERVER };

struct parse {
	struct sc_config *c;
	const char *name;
	const char *pos;             /* next unread character */
	int lineno;                  /* line last handed to inih */
	int sec;                     /* SEC_* */
	int sec_id;                  /* server id for SEC_SERVER */
	int cluster_line;            /* line of [cluster], 0 = not seen */
	int server_line[SC_SERVERS_MAX];
	uint64_t cluster_seen;       /* keys seen in [cluster] (bit = index) */
	uint64_t server_seen[SC_SERVERS_MAX];
	int key_line[NKEYS];         /* [cluster] key -> line */
	int server_dir[SC_SERVERS_MAX]; /* data_dir given */
	char *err;
	size_t errlen;
	int err_line;                /* line of our first error, or -1 */
	int failed;
};

static void vfail(struct parse *p, int line, const char *fmt, va_list ap)
{
	char msg[256];

	if (p->failed)
		return;
	p->failed = 1;
	p->err_line = line;
	vsnprintf(msg, sizeof msg, fmt, ap);
	if (p->err && p->errlen) {
		if (line > 0)
			snprintf(p->err, p->errlen, "%s:%d: %s", p->name, line,
			    msg);
		else
			snprintf(p->err, p->errlen, "%s: %s", p->name, msg);
	}
}

__attribute__((format(printf, 3, 4)))
static void fail(struct parse *p, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(p, line, fmt, ap);
	va_end(ap);
}

/* A section header line, s[0..n) trimmed, s[0] == '['. */
static void section(struct parse *p, const char *s, size_t n)
{
	const char *close = memchr(s, ']', n);
	const char *name, *e, *t;
	size_t nl;

	if (close == NULL) {
		fail(p, p->lineno, "syntax error: missing ']'");
		return;
	}
	for (t = close + 1; t < s + n; t++) {
		if (*t == ';' || *t == '#')
			break;
		if (!isspace((unsigned char)*t)) {
			fail(p, p->lineno, "syntax error: text after ']'");
			return;
		}
	}
	name = s + 1;
	e = close;
	while (name < e && isspace((unsigned char)*name))
		name++;
	while (e > name && isspace((unsigned char)e[-1]))
		e--;
	nl = (size_t)(e - name);

	if (nl == 7 && memcmp(name, "cluster", 7) == 0) {
		if (p->cluster_line) {
			fail(p, p->lineno, "duplicate section [cluster] "
			    "(first at line %d)", p->cluster_line);
			return;
		}
		p->cluster_line = p->lineno;
		p->sec = SEC_CLUSTER;
		return;
	}
	if (nl > 6 && memcmp(name, "server", 6) == 0 &&
	    (name[6] == ' ' || name[6] == '\t')) {
		const char *d = name + 6;
		char num[16];
		uint64_t id;
		size_t dl;

		while (d < e && (*d == ' ' || *d == '\t'))
			d++;
		dl = (size_t)(e - d);
		if (dl == 0 || dl >= sizeof num)
			goto badid;
		memcpy(num, d, dl);
		num[dl] = '\0';
		if (parse_u64(num, &id) < 0 || (dl > 1 && num[0] == '0'))
			goto badid;
		if (id >= SC_SERVERS_MAX)
			goto badid;
		if (p->server_line[id]) {
			fail(p, p->lineno, "duplicate section [server %d] "
			    "(first at line %d)", (int)id,
			    p->server_line[id]);
			return;
		}
		p->server_line[id] = p->lineno;
		p->c->servers[id].present = 1;
		p->sec = SEC_SERVER;
		p->sec_id = (int)id;
		return;
badid:
		fail(p, p->lineno, "section [%.*s]: bad server id "
		    "(expected 0..%d)", (int)(nl > 64 ? 64 : nl), name,
		    SC_SERVERS_MAX - 1);
		return;
	}
	fail(p, p->lineno, "unknown section [%.*s]", (int)(nl > 64 ? 64 : nl),
	    name);
}

/* inih reader: hands out one line per call (see the top of the file). */
static char *reader(char *buf, int num, void *stream)
{
	struct parse *p = stream;
	const char *line, *nl;
	size_t len;

	if (p->failed || *p->pos == '\0' || num < 3)
		return NULL;
	line = p->pos;
	nl = strchr(line, '\n');
	len = nl ? (size_t)(nl - line) : strlen(line);
	p->pos = line + len + (nl ? 1 : 0);
	p->lineno++;

	if (p->lineno == 1 && len >= 3 && memcmp(line, "\xef\xbb\xbf", 3) == 0) {
		line += 3; /* UTF-8 byte order mark */
		len -= 3;
	}
	while (len > 0 && isspace((unsigned char)line[0]))
		line++, len--;
	while (len > 0 && isspace((unsigned char)line[len - 1]))
		len--;
	buf[0] = '\0';
	if (len == 0 || line[0] == ';' || line[0] == '#')
		return buf;
	if (line[0] == '[') {
		section(p, line, len);
		return buf;
	}
	if (len + 2 > (size_t)num) {
		fail(p, p->lineno, "line too long (at most %d characters)",
		    num - 2);
		return buf;
	}
	memcpy(buf, line, len);
	buf[len] = '\n';
	buf[len + 1] = '\0';
	return buf;
}

static int handler(void *user, const char *section_name, const char *name,
    const char *value)
{
	struct parse *p = user;
	const struct key *k;
	uint64_t *seen, bit;
	char what[200];
	size_t idx;

	(void)section_name; /* ours, from the reader, is authoritative */
	if (p->failed)
		return 1; /* stopping; the reader ends the parse */
	if (*name == '\0') {
		fail(p, p->lineno, "syntax error: missing key name");
		return 0;
	}
	if (p->sec == SEC_NONE) {
		fail(p, p->lineno, "key '%.64s': outside any section "
		    "(expected [cluster] or [server N] first)", name);
		return 0;
	}
	k = find_key(name);
	if (k == NULL) {
		fail(p, p->lineno, "key '%.64s': unknown key", name);
		return 0;
	}
	if (p->sec == SEC_CLUSTER && !(k->where & IN_CLUSTER)) {
		fail(p, p->lineno, "key '%s': not allowed in [cluster] "
		    "(only in [server N])", name);
		return 0;
	}
	if (p->sec == SEC_SERVER && !(k->where & IN_SERVER)) {
		fail(p, p->lineno, "key '%s': not allowed in [server %d] "
		    "(only in [cluster])", name, p->sec_id);
		return 0;
	}
	idx = (size_t)(k - keys);
	bit = (uint64_t)1 << idx;
	seen = p->sec == SEC_CLUSTER ? &p->cluster_seen :
	    &p->server_seen[p->sec_id];
	if (*seen & bit) {
		fail(p, p->lineno, "key '%s': duplicate key", name);
		return 0;
	}
	*seen |= bit;
	if (apply(p->c, p->sec == SEC_SERVER ? p->sec_id : -1, k, value, NULL,
	    what, sizeof what) < 0) {
		fail(p, p->lineno, "key '%s': %s", name, what);
		return 0;
	}
	if (p->sec == SEC_CLUSTER)
		p->key_line[idx] = p->lineno;
	else if (k->kind == T_DIR)
		p->server_dir[p->sec_id] = 1;
	return 1;
}

/* Whole-file checks after the last line. */
static void finish(struct parse *p)
{
	struct sc_config *c = p->c;
	const struct key *k;
	uint32_t n = 0;

	if (!p->cluster_line) {
		fail(p, 0, "missing section [cluster]");
		return;
	}
	if (!(p->cluster_seen & 1)) { /* keys[0] is "id" */
		fail(p, 0, "[cluster]: missing key 'id'");
		return;
	}
	k = find_key("group");
	if (!(p->cluster_seen & ((uint64_t)1 << (k - keys)))) {
		fail(p, 0, "[cluster]: missing key 'group'");
		return;
	}
	for (uint32_t i = 0; i < SC_SERVERS_MAX; i++)
		if (c->servers[i].present)
			n = i + 1;
	if (n == 0) {
		fail(p, 0, "no [server N] section (at least [server 0] is "
		    "required)");
		return;
	}
	for (uint32_t i = 0; i < n; i++) {
		if (!c->servers[i].present) {
			fail(p, 0, "missing section [server %u] (server ids "
			    "must run 0..%u without holes)", i, n - 1);
			return;
		}
	}
	for (uint32_t i = 0; i < n; i++) {
		if (c->servers[i].listen.sin_family != AF_INET) {
			fail(p, 0, "[server %u]: missing key 'listen'", i);
			return;
		}
	}
	c->nservers = n;
	if (c->coordinator >= n) {
		k = find_key("coordinator");
		fail(p, p->key_line[k - keys], "key 'coordinator': no "
		    "[server %u] in this file", c->coordinator);
		return;
	}
	for (uint32_t i = 0; i < n; i++) {
		struct sc_server_conf *s = &c->servers[i];
		if (!s->has_interface)
			s->interface = c->interface;
		if (!p->server_dir[i])
			memcpy(s->data_dir, c->data_dir, sizeof s->data_dir);
	}
}

void sc_config_defaults(struct sc_config *c)
{
	memset(c, 0, sizeof *c);
	c->interface.s_addr = htonl(INADDR_LOOPBACK);
	c->ttl = 1;
	c->coordinator = 0;
	c->nservers = 0;
	c->heartbeat_ms = 50;
	c->failover_ms = 150;
	c->mtu = 0;
	c->nack_delay_ms = SC_NACK_DELAY_AUTO;
	c->nack_backoff_max_ms = 50;
	c->report_ms = 100;
	c->forward_retry_ms = 20;
	c->retx_window_ms = 1;
	c->store_bytes = 33554432;
	c->dedup_max = 262144;
	c->pending_max = 65536;
	c->holdback_max = 65536;
	c->value_max = SC_VALUE_MAX;
	c->fsync = SC_FSYNC_EACH;
	c->fsync_interval_ms = 100;
	c->catchup_rate = 50000;
	for (int i = 0; i < SC_SERVERS_MAX; i++)
		c->servers[i].interface = c->interface;
}

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

int sc_config_parse(struct sc_config *c, const char *text, const char *name,
    char *err, size_t errlen)
{
	struct parse *p;
	struct sc_config *tmp;
	int r, rc = -1;

	if (name == NULL)
		name = "(string)";
	if (err && errlen)
		err[0] = '\0';
	if (c == NULL || text == NULL) {
		set_err(err, errlen, "%s: no input", name);
		return -1;
	}
	p = calloc(1, sizeof *p);
	tmp = malloc(sizeof *tmp);
	if (p == NULL || tmp == NULL) {
		set_err(err, errlen, "%s: out of memory", name);
		goto out;
	}
	sc_config_defaults(tmp);
	p->c = tmp;
	p->name = name;
	p->pos = text;
	p->err = err;
	p->errlen = errlen;
	p->err_line = -1;

	r = ini_parse_stream(reader, p, handler, p);
	if (r > 0 && (!p->failed || p->err_line <= 0 || r < p->err_line)) {
		/* inih's own error (no '=' or ':'), before any of ours. */
		p->failed = 0;
		fail(p, r, "syntax error");
		goto out;
	}
	if (r < 0 && !p->failed) {
		fail(p, 0, "cannot parse (inih error %d)", r);
		goto out;
	}
	if (p->failed)
		goto out;
	finish(p);
	if (p->failed)
		goto out;
	*c = *tmp;
	rc = 0;
out:
	free(tmp);
	free(p);
	return rc;
}

int sc_config_load(struct sc_config *c, const char *path,
    char *err, size_t errlen)
{
	FILE *fp;
	char *buf = NULL, *nul;
	size_t len = 0, cap = 0;
	int rc;

	if (err && errlen)
		err[0] = '\0';
	if (path == NULL) {
		set_err(err, errlen, "(null): cannot open: %s",
		    strerror(EINVAL));
		return -1;
	}
	fp = fopen(path, "r");
	if (fp == NULL) {
		set_err(err, errlen, "%s: cannot open: %s", path,
		    strerror(errno));
		return -1;
	}
	for (;;) {
		size_t got;

		if (cap - len < 4096) {
			char *nb;
			cap = cap ? cap * 2 : 8192;
			nb = realloc(buf, cap + 1);
			if (nb == NULL) {
				set_err(err, errlen, "%s: out of memory", path);
				goto fail;
			}
			buf = nb;
		}
		got = fread(buf + len, 1, cap - len, fp);
		len += got;
		if (len > FILE_MAX) {
			set_err(err, errlen, "%s: too large (more than %u "
			    "bytes)", path, FILE_MAX);
			goto fail;
		}
		if (got == 0) {
			if (ferror(fp)) {
				set_err(err, errlen, "%s: cannot read: %s",
				    path, strerror(errno));
				goto fail;
			}
			break;
		}
	}
	fclose(fp);
	fp = NULL;
	if (buf == NULL) {
		buf = malloc(1);
		if (buf == NULL) {
			set_err(err, errlen, "%s: out of memory", path);
			return -1;
		}
	}
	buf[len] = '\0';
	nul = memchr(buf, '\0', len);
	if (nul) {
		int line = 1;
		for (const char *q = buf; q < nul; q++)
			line += *q == '\n';
		set_err(err, errlen, "%s:%d: NUL byte in file", path, line);
		free(buf);
		return -1;
	}
	rc = sc_config_parse(c, buf, path, err, errlen);
	free(buf);
	return rc;
fail:
	if (fp)
		fclose(fp);
	free(buf);
	return -1;
}

const struct sc_fault_conf *sc_config_fault(const struct sc_config *c,
    uint32_t id)
{
	if (id < SC_SERVERS_MAX && c->servers[id].has_fault)
		return &c->servers[id].fault;
	return &c->fault;
}

int sc_config_set(struct sc_config *c, uint32_t server, const char *kv,
    char *err, size_t errlen)
{
	char buf[512], what[200];
	char *key, *val, *eq, *e;
	const struct key *k;
	struct sc_config *tmp;
	int target;

	if (err && errlen)
		err[0] = '\0';
	if (c == NULL || kv == NULL) {
		set_err(err, errlen, "no setting given");
		return -1;
	}
	if (strlen(kv) >= sizeof buf) {
		set_err(err, errlen, "setting too long: '%.64s...'", kv);
		return -1;
	}
	strcpy(buf, kv);
	eq = strchr(buf, '=');
	if (eq == NULL) {
		set_err(err, errlen, "expected key=value: '%.64s'", kv);
		return -1;
	}
	*eq = '\0';
	key = buf;
	val = eq + 1;
	while (isspace((unsigned char)*key))
		key++;
	for (e = eq; e > key && isspace((unsigned char)e[-1]); e--)
		e[-1] = '\0';
	while (isspace((unsigned char)*val))
		val++;
	for (e = val + strlen(val); e > val && isspace((unsigned char)e[-1]);
	    e--)
		e[-1] = '\0';
	if (*key == '\0') {
		set_err(err, errlen, "expected key=value: '%.64s'", kv);
		return -1;
	}
	k = find_key(key);
	if (k == NULL) {
		set_err(err, errlen, "key '%.64s': unknown key", key);
		return -1;
	}
	/* Keys a [server N] may hold go to the server, the rest to the
	 * cluster. */
	target = (k->where & IN_SERVER) ? (int)server : -1;
	if (target >= 0 && (server >= SC_SERVERS_MAX ||
	    server >= c->nservers || !c->servers[server].present)) {
		set_err(err, errlen, "key '%s': no [server %u] in the "
		    "configuration", key, server);
		return -1;
	}
	tmp = malloc(sizeof *tmp);
	if (tmp == NULL) {
		set_err(err, errlen, "out of memory");
		return -1;
	}
	*tmp = *c;
	if (apply(tmp, target, k, val, &c->fault, what, sizeof what) < 0) {
		set_err(err, errlen, "key '%s': %s", key, what);
		free(tmp);
		return -1;
	}
	if (tmp->nservers > 0 && (tmp->coordinator >= tmp->nservers ||
	    !tmp->servers[tmp->coordinator].present)) {
		set_err(err, errlen, "key 'coordinator': no [server %u] in "
		    "the configuration", tmp->coordinator);
		free(tmp);
		return -1;
	}
	*c = *tmp;
	free(tmp);
	return 0;
}
