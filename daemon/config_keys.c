/*
 * config_keys.c - every key of the cluster file: its kind, its range,
 * where its value goes and its default, one line each; one small function
 * per kind of value (numbers, sizes, probabilities, addresses, paths,
 * words, message types); and the defaults, set through those functions.
 */
#include "config_priv.h"
#include "seqcast/logfile.h"
#include "seqcast/num.h"
#include "seqcast/wire.h"

#include <arpa/inet.h>
#include <assert.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Upper bound for every millisecond setting: one hour (keeps ms * 1000 in
 * 32 bits for whoever converts to microseconds). */
#define MS_MAX 3600000u

/* Quote at most 64 characters of a value for a message. */
#define QV "'%.64s%s'"
#define QA(s) (s), (strlen(s) > 64 ? "..." : "")

_Static_assert(SC_NACK_DELAY_AUTO == UINT32_MAX, "K_AUTO stores UINT32_MAX");
_Static_assert(sizeof(int) == sizeof(uint32_t), "int fields take a u32");

__attribute__((format(printf, 2, 3)))
static int bad(const struct conf_set *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->what, s->wl, fmt, ap);
	va_end(ap);
	return -1;
}

static int number_error(const struct conf_set *s, enum sc_num_result r,
    const char *v, const struct conf_key *k)
{
	if (r == SC_NUM_BAD)
		return bad(s, "not a number: " QV, QA(v));
	return bad(s, "out of range: " QV " (%s%llu..%llu)", QA(v),
	    k->flags & K_ZERO ? "0 or " : "", (unsigned long long)k->lo,
	    (unsigned long long)k->hi);
}

/* ------------------------------------------------------------------ */
/* kinds */

/* A 32-bit number (uint32_t or int field) in lo..hi; K_ZERO, K_AUTO. */
static int kind_u32(const struct conf_key *k, const struct conf_set *s,
    const char *v)
{
	int zero = (k->flags & K_ZERO) != 0;
	enum sc_num_result r;
	uint64_t x;
	uint32_t u;

	assert(k->hi <= UINT32_MAX);
	if ((k->flags & K_AUTO) && strcmp(v, "auto") == 0) {
		x = UINT32_MAX;
	} else {
		r = sc_parse_u64(v, zero ? 0 : k->lo, k->hi, &x);
		if (r == SC_NUM_OK && zero && x != 0 && x < k->lo)
			r = SC_NUM_RANGE;
		if (r != SC_NUM_OK)
			return number_error(s, r, v, k);
	}
	u = (uint32_t)x;
	memcpy(s->field, &u, sizeof u);
	return 0;
}

static int kind_u64(const struct conf_key *k, const struct conf_set *s,
    const char *v)
{
	enum sc_num_result r = sc_parse_u64(v, k->lo, k->hi, s->field);

	return r == SC_NUM_OK ? 0 : number_error(s, r, v, k);
}

static unsigned size_shift(char c)
{
	switch (c) {
	case 'k': case 'K': return 10;
	case 'm': case 'M': return 20;
	case 'g': case 'G': return 30;
	}
	return 0;
}

/* Bytes: a number with an optional K, M or G suffix (powers of 1024). */
static int kind_size(const struct conf_key *k, const struct conf_set *s,
    const char *v)
{
	char digits[24];
	size_t n = strlen(v);
	unsigned shift = n ? size_shift(v[n - 1]) : 0;
	enum sc_num_result r;
	uint64_t x = 0;

	n -= shift ? 1 : 0;
	if (n >= sizeof digits) {
		r = strspn(v, "0123456789") == n ? SC_NUM_RANGE : SC_NUM_BAD;
	} else {
		memcpy(digits, v, n);
		digits[n] = '\0';
		r = sc_parse_u64(digits, 0, UINT64_MAX >> shift, &x);
	}
	x <<= shift;
	if (r == SC_NUM_OK && (x < k->lo || x > k->hi))
		r = SC_NUM_RANGE;
	if (r == SC_NUM_BAD)
		return bad(s, "not a size: " QV " (bytes, optional K, M or G "
		    "suffix)", QA(v));
	if (r != SC_NUM_OK)
		return number_error(s, r, v, k);
	memcpy(s->field, &x, sizeof x);
	return 0;
}

/* Probability: "0", "0.25", "1", "1.0" or a percentage "25%", "2.5%".
 * The digits are read as one integer and divided once by a power of ten,
 * so "0.3" is exactly the double 0.3 (up to 15 decimals are used). */
static int read_prob(const char *v, double *out)
{
	static const double pow10[] = {
		1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
		1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17,
	};
	const char *p = v;
	uint64_t mant = 0;
	int digits = 0, frac = 0, pct;

	for (; isdigit((unsigned char)*p); p++, digits++) {
		if (digits >= 3)
			return -1; /* > 100 even as a percentage */
		mant = mant * 10 + (uint64_t)(*p - '0');
	}
	if (digits == 0 || (*p == '.' && !isdigit((unsigned char)p[1])))
		return -1;
	if (*p == '.')
		for (p++; isdigit((unsigned char)*p); p++)
			if (frac < 15) {
				mant = mant * 10 + (uint64_t)(*p - '0');
				frac++;
			}
	pct = *p == '%';
	if (*(p + pct) != '\0')
		return -1;
	*out = (double)mant / pow10[frac + (pct ? 2 : 0)];
	return *out > 1 ? -1 : 0;
}

/* A fault probability; one direction's four must add up to at most 1. */
static int kind_prob(const struct conf_key *k, const struct conf_set *s,
    const char *v)
{
	const struct sc_fault_rates *r = &s->fault->dir[k->dir];
	double p, sum;

	if (read_prob(v, &p) < 0)
		return bad(s, "bad probability: " QV " (expected 0..1, e.g. "
		    "0.1, or a percentage, e.g. 10%%)", QA(v));
	memcpy(s->field, &p, sizeof p);
	sum = r->drop + r->dup + r->reorder + r->delay;
	if (sum > 1 + 1e-9)
		return bad(s, "fault_%s_* probabilities add up to more than 1 "
		    "(%g)", k->dir == SC_IN ? "in" : "out", sum);
	return 0;
}

/* The message type called s[0..n), 0 if none. */
static int type_named(const char *s, size_t n)
{
	for (int t = 1; t < SC_TYPE_COUNT; t++)
		if (strlen(sc_type_name(t)) == n &&
		    strncasecmp(s, sc_type_name(t), n) == 0)
			return t;
	return 0;
}

static int unknown_type(const struct conf_set *s, const char *name, size_t n)
{
	char list[256] = "";
	size_t used = 0;

	for (int t = 1; t < SC_TYPE_COUNT && used < sizeof list; t++)
		used += (size_t)snprintf(list + used, sizeof list - used,
		    "%s,", sc_type_name(t));
	return bad(s, "unknown message type '%.*s' (one of %sall)",
	    (int)(n > 32 ? 32 : n), name, list);
}

/* "add,data, nack" or "all" -> bit (1 << type) each; all -> 0. */
static int kind_types(const struct conf_key *k, const struct conf_set *s,
    const char *v)
{
	uint32_t mask = 0;
	int all = 0;

	(void)k;
	for (const char *p = v;; p++) {
		size_t lead = strspn(p, " \t"), n = strcspn(p + lead, ",");
		const char *item = p + lead;
		int t;

		while (n > 0 && (item[n - 1] == ' ' || item[n - 1] == '\t'))
			n--;
		if (n == 0)
			return bad(s, "empty item in type list " QV " (expected "
			    "names like data,retx,nack or all)", QA(v));
		if (n == 3 && strncasecmp(item, "all", 3) == 0)
			all = 1;
		else if ((t = type_named(item, n)) != 0)
			mask |= 1u << t;
		else
			return unknown_type(s, item, n);
		p = strchr(item, ',');
		if (p == NULL)
			break;
	}
	mask = all ? 0 : mask;
	memcpy(s->field, &mask, sizeof mask);
	return 0;
}

/* One of k->names, stored as its index (an int field). */
static int kind_enum(const struct conf_key *k, const struct conf_set *s,
    const char *v)
{
	char list[128] = "";
	size_t used = 0;
	int i;

	for (i = 0; k->names[i] != NULL; i++) {
		if (strcmp(v, k->names[i]) == 0) {
			memcpy(s->field, &i, sizeof i);
			return 0;
		}
	}
	for (int j = 0; j < i && used < sizeof list; j++)
		used += (size_t)snprintf(list + used, sizeof list - used,
		    "%s%s", j == 0 ? "" : j + 1 < i ? ", " : " or ",
		    k->names[j]);
	return bad(s, "bad value: " QV " (expected %s)", QA(v), list);
}

/* A path, into a char array of k->hi bytes. */
static int kind_path(const struct conf_key *k, const struct conf_set *s,
    const char *v)
{
	size_t n = strlen(v);

	if (n >= k->hi)
		return bad(s, "too long (at most %zu characters)",
		    (size_t)k->hi - 1);
	memcpy(s->field, v, n + 1);
	return 0;
}

static int is_multicast(struct in_addr a)
{
	return (ntohl(a.s_addr) & 0xf0000000u) == 0xe0000000u;
}

/* The multicast group, A.B.C.D:PORT in 224.0.0.0/4. */
static int kind_group(const struct conf_key *k, const struct conf_set *s,
    const char *v)
{
	struct sockaddr_in sa;

	(void)k;
	if (sc_parse_addr(v, &sa) < 0)
		return bad(s, "bad address: " QV " (expected A.B.C.D:PORT)",
		    QA(v));
	if (!is_multicast(sa.sin_addr))
		return bad(s, "not a multicast address: " QV " (expected "
		    "224.0.0.0/4)", QA(v));
	memcpy(s->field, &sa, sizeof sa);
	return 0;
}

/* A unicast interface address, A.B.C.D. */
static int kind_iface(const struct conf_key *k, const struct conf_set *s,
    const char *v)
{
	struct in_addr a;

	(void)k;
	if (inet_pton(AF_INET, v, &a) != 1)
		return bad(s, "bad address: " QV " (expected A.B.C.D)", QA(v));
	if (is_multicast(a))
		return bad(s, "not a unicast address: " QV, QA(v));
	memcpy(s->field, &a, sizeof a);
	if (s->server >= 0)
		s->c->servers[s->server].has_interface = 1;
	return 0;
}

/* A server's unicast A.B.C.D:PORT, used by no other server. */
static int kind_listen(const struct conf_key *k, const struct conf_set *s,
    const char *v)
{
	struct sockaddr_in sa;

	(void)k;
	if (sc_parse_addr(v, &sa) < 0)
		return bad(s, "bad address: " QV " (expected A.B.C.D:PORT)",
		    QA(v));
	if (is_multicast(sa.sin_addr))
		return bad(s, "not a unicast address: " QV, QA(v));
	for (int i = 0; i < SC_SERVERS_MAX; i++) {
		const struct sockaddr_in *o = &s->c->servers[i].listen;

		if (i != s->server && s->c->servers[i].present &&
		    o->sin_family == AF_INET &&
		    o->sin_addr.s_addr == sa.sin_addr.s_addr &&
		    o->sin_port == sa.sin_port)
			return bad(s, "address " QV " already used by "
			    "[server %d]", QA(v), i);
	}
	memcpy(s->field, &sa, sizeof sa);
	return 0;
}

int sc_parse_addr(const char *s, struct sockaddr_in *sa)
{
	char ip[INET_ADDRSTRLEN];
	const char *colon;
	struct in_addr a;
	uint64_t port;

	if (s == NULL || sa == NULL || (colon = strchr(s, ':')) == NULL ||
	    (size_t)(colon - s) >= sizeof ip)
		return -1;
	memcpy(ip, s, (size_t)(colon - s));
	ip[colon - s] = '\0';
	/* inet_pton takes only A.B.C.D in decimal, without leading zeros
	 * (inet_aton would read "010" as octal 8). */
	if (inet_pton(AF_INET, ip, &a) != 1 || colon[1] == '0' ||
	    sc_parse_u64(colon + 1, 1, 65535, &port) != SC_NUM_OK)
		return -1;
	memset(sa, 0, sizeof *sa);
	sa->sin_family = AF_INET;
	sa->sin_addr = a;
	sa->sin_port = htons((uint16_t)port);
	return 0;
}

/* ------------------------------------------------------------------ */
/* the table */

/* A field's offset, checked at compile time to have type T. */
#define CF(f, T) _Generic(((struct sc_config *)0)->f, \
	T: offsetof(struct sc_config, f))
#define SF(f, T) _Generic(((struct sc_server_conf *)0)->f, \
	T: offsetof(struct sc_server_conf, f))
#define CSIZE(f) sizeof(((struct sc_config *)0)->f)

#define NUM(n, kind, f, T, lo, hi, fl, def) \
	{ n, kind, IN_CLUSTER, fl, CF(f, T), 0, lo, hi, 0, NULL, def }
#define U32(n, f, lo, hi, def) NUM(n, kind_u32, f, uint32_t, lo, hi, 0, def)
#define MS(n, f, lo, def) U32(n, f, lo, MS_MAX, def)
#define FAULT(n, kind, f, T, hi, d) \
	{ n, kind, IN_BOTH, K_FAULT, CF(fault.f, T), SF(fault.f, T), 0, hi, \
	  d, NULL, NULL }
#define PROB(n, d, f) FAULT(n, kind_prob, dir[d].f, double, 0, d)
#define STR(x) XSTR(x)
#define XSTR(x) #x

static const char *const fsync_names[] = { "each", "interval", "never",
    NULL };
_Static_assert(SC_FSYNC_EACH == 0 && SC_FSYNC_INTERVAL == 1 &&
    SC_FSYNC_NEVER == 2, "fsync_names follows enum sc_fsync");
_Static_assert(sizeof(((struct sc_server_conf *)0)->data_dir) ==
    CSIZE(data_dir), "one size for both data_dir fields");

/* The defaults are those of etc/seqcast.conf and the README's table. */
static const struct conf_key keys[] = {
	U32("id", cluster_id, 0, UINT32_MAX, NULL),
	{ "group", kind_group, IN_CLUSTER, 0,
	  CF(group, struct sockaddr_in), 0, 0, 0, 0, NULL, NULL },
	{ "interface", kind_iface, IN_BOTH, 0, CF(interface, struct in_addr),
	  SF(interface, struct in_addr), 0, 0, 0, NULL, "127.0.0.1" },
	NUM("ttl", kind_u32, ttl, int, 1, 255, 0, "1"),
	U32("coordinator", coordinator, 0, SC_SERVERS_MAX - 1, "0"),
	MS("heartbeat_ms", heartbeat_ms, 1, "50"),
	U32("failover_ms", failover_ms, 10, 60000, "150"),
	NUM("nack_delay_ms", kind_u32, nack_delay_ms, uint32_t, 0, MS_MAX,
	    K_AUTO, "auto"),
	MS("nack_backoff_max_ms", nack_backoff_max_ms, 1, "50"),
	MS("report_ms", report_ms, 1, "100"),
	MS("forward_retry_ms", forward_retry_ms, 1, "20"),
	MS("retx_window_ms", retx_window_ms, 0, "1"),
	NUM("store_bytes", kind_size, store_bytes, uint64_t, 1, UINT64_MAX, 0,
	    "32M"),
	U32("dedup_max", dedup_max, 1, 1u << 30, "262144"),
	U32("pending_max", pending_max, 1, 1u << 30, "65536"),
	U32("holdback_max", holdback_max, 1, 1u << 30, "65536"),
	U32("value_max", value_max, 1, SC_VALUE_MAX, STR(SC_VALUE_MAX)),
	NUM("mtu", kind_u32, mtu, uint32_t, 576, 65535, K_ZERO, "0"),
	{ "data_dir", kind_path, IN_BOTH, 0, CF(data_dir, char *),
	  SF(data_dir, char *), 0, CSIZE(data_dir), 0, NULL, "" },
	{ "fsync", kind_enum, IN_CLUSTER, 0, CF(fsync, int), 0, 0, 0, 0,
	  fsync_names, "each" },
	{ "key_file", kind_path, IN_CLUSTER, 0, CF(key_file, char *), 0, 0,
	  CSIZE(key_file), 0, NULL, "" },
	U32("add_rate", add_rate, 0, UINT32_MAX, "0"),
	MS("fsync_interval_ms", fsync_interval_ms, 1, "100"),
	U32("catchup_rate", catchup_rate, 0, UINT32_MAX, "50000"),
	{ "listen", kind_listen, IN_SERVER, 0, 0,
	  SF(listen, struct sockaddr_in), 0, 0, 0, NULL, NULL },
	PROB("fault_in_drop", SC_IN, drop),
	PROB("fault_in_dup", SC_IN, dup),
	PROB("fault_in_reorder", SC_IN, reorder),
	PROB("fault_in_delay", SC_IN, delay),
	PROB("fault_out_drop", SC_OUT, drop),
	PROB("fault_out_dup", SC_OUT, dup),
	PROB("fault_out_reorder", SC_OUT, reorder),
	PROB("fault_out_delay", SC_OUT, delay),
	FAULT("fault_delay_ms", kind_u32, delay_ms, uint32_t, MS_MAX, 0),
	FAULT("fault_types", kind_types, types, uint32_t, 0, 0),
	FAULT("fault_seed", kind_u64, seed, uint64_t, UINT64_MAX, 0),
	FAULT("fault_drop_data_above", kind_u64, drop_data_above, uint64_t,
	    UINT64_MAX, 0),
};
#define NKEYS (sizeof keys / sizeof keys[0])
_Static_assert(NKEYS <= CONF_KEYS_MAX, "the parser's seen-masks are 64 bits");

const struct conf_key *conf_key_find(const char *name)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

size_t conf_key_index(const struct conf_key *k)
{
	assert(k >= keys && k < keys + NKEYS);
	return (size_t)(k - keys);
}

int conf_key_apply(struct sc_config *c, int server, const struct conf_key *k,
    const char *v, const struct sc_fault_conf *fault_base,
    char *what, size_t wl)
{
	struct conf_set s = { c, server, NULL, &c->fault, what, wl };
	struct sc_server_conf *sv;

	assert(k->where & (server < 0 ? IN_CLUSTER : IN_SERVER));
	if (server < 0) {
		s.field = (char *)c + k->coff;
		return k->kind(k, &s, v);
	}
	sv = &c->servers[server];
	if ((k->flags & K_FAULT) && !sv->has_fault) {
		if (fault_base != NULL)
			sv->fault = *fault_base;
		else
			memset(&sv->fault, 0, sizeof sv->fault);
		sv->has_fault = 1;
	}
	s.field = (char *)sv + k->soff;
	s.fault = &sv->fault;
	return k->kind(k, &s, v);
}

/* Every key's default goes through its own kind, so a default is written
 * and checked as the file would write it. */
void sc_config_defaults(struct sc_config *c)
{
	char what[256];

	memset(c, 0, sizeof *c);
	for (size_t i = 0; i < NKEYS; i++) {
		int rc;

		if (keys[i].def == NULL)
			continue;
		rc = conf_key_apply(c, -1, &keys[i], keys[i].def, NULL, what,
		    sizeof what);
		assert(rc == 0);
		(void)rc;
	}
	for (int i = 0; i < SC_SERVERS_MAX; i++)
		c->servers[i].interface = c->interface;
}
