/*
 * norm-peer - NRL's NORM (RFC 5740, libnorm) as the anchor for seqcast's
 * throughput: one sender multicasts N 64-byte messages, each receiver
 * checks that every one arrived intact, in order and exactly once.
 *
 *   norm-peer send --group A --port P --count N [--receivers R] [options]
 *   norm-peer recv --group A --port P --count N --id K [--loss PCT]
 *
 * Messages travel as one NORM stream (NormStreamWrite, NormStreamMarkEom
 * after each): NORM packs ~21 of them into each 1400-byte segment, where a
 * NORM_OBJECT_DATA per message costs a packet, and object bookkeeping,
 * per message (--objects selects that mode, for comparison). The sender
 * gets ACK-based flow control from its receivers (node ids 2..R+1) by
 * default: a watermark every 1/8 of the stream buffer, so a slow or lossy
 * receiver is never overrun; --timer-flow uses NORM's timer-based flow
 * control instead. The last watermark tells the sender that every
 * receiver holds everything.
 *
 * Network safety: the group must be in 239.255.0.0/16; TTL 1; interface
 * "lo", always (nothing leaves the machine, or the namespace it runs in);
 * every run ends by --timeout (default 60 s).
 *
 * Integer options are decimal (sc_parse_u64: no sign, no fraction, no
 * exponent); --loss, --rate and --timeout are numbers strtod reads whole.
 *
 * Output: the sender one line "send: ...", a receiver "ready" once it
 * listens and one line "recv: ..." when it ends; key=value fields.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

/* Debian's normApi.h (1.5.9) declares two functions with C++ syntax (a
 * reference parameter, a default argument). They are not used here: the
 * macros turn those two declarations into harmless ones. */
#define NormGetRxBindAddress(...) norm_peer_unused_decl1
#define NormStreamGetVacancy(...) norm_peer_unused_decl2
#include <normApi.h>
#undef NormGetRxBindAddress
#undef NormStreamGetVacancy

#include "seqcast/num.h"

#define MSG_SIZE 64

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint32_t fnv1a(const unsigned char *p, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

/* message seq: 8-byte big-endian seq, 52 pattern bytes, 4-byte FNV-1a */
static void make_msg(unsigned char *m, uint64_t seq)
{
	for (int i = 0; i < 8; i++)
		m[i] = (unsigned char)(seq >> (56 - 8 * i));
	for (int i = 8; i < MSG_SIZE - 4; i++)
		m[i] = (unsigned char)(seq * 31 + (uint64_t)i * 7);
	uint32_t h = htonl(fnv1a(m, MSG_SIZE - 4));
	memcpy(m + MSG_SIZE - 4, &h, 4);
}

static bool check_msg(const unsigned char *m, uint64_t seq)
{
	unsigned char want[MSG_SIZE];
	make_msg(want, seq);
	return memcmp(m, want, MSG_SIZE) == 0;
}

static void cpu_fields(char *buf, size_t len)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	snprintf(buf, len, "user=%.3f sys=%.3f",
	    ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6,
	    ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6);
}

struct opts {
	const char *group;
	int port, receivers, id, segment, block, parity;
	uint64_t count;
	double rate_mbps, loss, timeout;
	bool cc, objects, timer_flow;
	unsigned buffer_mib;
};

static void usage(FILE *f)
{
	fprintf(f,
"usage: norm-peer send --group 239.255.X.Y --port P --count N [options]\n"
"       norm-peer recv --group 239.255.X.Y --port P --count N --id K [--loss PCT]\n"
"  (a receiver takes a stream or data objects, whichever comes)\n"
"options: --timeout S (60)  --receivers R (3; node ids 2..R+1)\n"
"  --rate MBPS (fixed transmit rate, Mbit/s; default 400)  --cc (congestion\n"
"  control instead, rate bounds 1..--rate)  --segment B (1400)  --block K (64)\n"
"  --parity P (0: repairs are retransmissions)  --buffer MIB (16)\n"
"  --timer-flow (timer- instead of ACK-based flow control)  --objects (one\n"
"  NORM_OBJECT_DATA per message instead of one stream)\n");
}

static NormSessionHandle open_session(NormInstanceHandle inst,
    const struct opts *o, NormNodeId id)
{
	NormSessionHandle s = NormCreateSession(inst, o->group,
	    (UINT16)o->port, id);
	if (s == NORM_SESSION_INVALID) {
		fprintf(stderr, "norm-peer: cannot create the session\n");
		exit(1);
	}
	NormSetRxPortReuse(s, true, NULL, NULL, 0);
	if (!NormSetMulticastInterface(s, "lo") || !NormSetTTL(s, 1) ||
	    !NormSetMulticastLoopback(s, true)) {
		fprintf(stderr, "norm-peer: interface/TTL/loopback refused\n");
		exit(1);
	}
	NormSetDefaultSyncPolicy(s, NORM_SYNC_STREAM);
	return s;
}

/* wait up to 100 ms for NORM's next event; false when none came */
static bool next_event(NormInstanceHandle inst, NormEvent *ev)
{
	struct pollfd p = { .fd = NormGetDescriptor(inst), .events = POLLIN };
	if (poll(&p, 1, 100) <= 0)
		return false;
	return NormGetNextEvent(inst, ev, false) && ev->type != NORM_EVENT_INVALID;
}

/* The sender's state across its loop. */
struct tx {
	NormInstanceHandle inst;
	NormSessionHandle s;
	NormObjectHandle st;       /* the stream (not with --objects) */
	NormObjectHandle last;     /* --objects: the last object enqueued */
	char *objs;                /* --objects: every message, one array */
	bool acked;                /* ACK-based flow control */
	/* ACK-based flow control in segments, as NRL's normStreamer does it */
	unsigned seg_max, seg_thresh, seg_count, rem;
	bool wm_pending;
	uint64_t seq;              /* the message being written */
	unsigned off;              /* bytes of message seq already written */
	unsigned char m[MSG_SIZE];
	bool ready, closed, done, ok;
	unsigned blocked, wm_fail;
	double t0, tw, tdone;      /* start, all written, all acked */
};

/* rate or congestion control, flow control, the receivers that ack */
static void tx_configure(const struct tx *t, const struct opts *o)
{
	double rate = o->rate_mbps * 1e6;
	NormSetGrttEstimate(t->s, 0.001);
	NormSetBackoffFactor(t->s, 0);   /* 3 receivers: no NACK suppression wait */
	NormSetTxSocketBuffer(t->s, 4u << 20);
	if (o->cc) {
		NormSetCongestionControl(t->s, true, true);
		NormSetTxRateBounds(t->s, 1e6, rate);
	} else {
		NormSetTxRate(t->s, rate);
	}
	if (t->acked)
		NormSetFlowControl(t->s, 0.0);
	for (int r = 0; r < o->receivers; r++)
		NormAddAckingNode(t->s, (NormNodeId)(2 + r));
}

/* start the sender and open the stream (or the objects' array); 0 or 1 */
static int tx_start(struct tx *t, const struct opts *o)
{
	UINT32 buf = o->buffer_mib << 20;
	srand((unsigned)getpid());
	if (!NormStartSender(t->s, (NormSessionId)rand(), buf,
	    (UINT16)o->segment, (UINT16)o->block, (UINT16)o->parity, 0)) {
		fprintf(stderr, "norm-peer: cannot start the sender\n");
		return 1;
	}
	if (o->objects) {
		NormSetTxCacheBounds(t->s, (NormSize)buf, 256, 256);
		if (!(t->objs = malloc(o->count * MSG_SIZE)))
			return 1;
		return 0;
	}
	t->st = NormStreamOpen(t->s, buf, NULL, 0);
	if (t->st == NORM_OBJECT_INVALID) {
		fprintf(stderr, "norm-peer: cannot open the stream\n");
		return 1;
	}
	NormStreamSetAutoFlush(t->st, NORM_FLUSH_NONE);
	t->seg_max = NormGetStreamBufferSegmentCount(buf, (UINT16)o->segment,
	    (UINT16)o->block) - (unsigned)o->block;
	t->seg_thresh = t->seg_max / 8;
	return 0;
}

/* --objects: message seq as one data object; false when NORM is full */
static bool tx_put_object(struct tx *t)
{
	/* NORM keeps the pointer until the object is purged: one array
	 * for all */
	char *d = t->objs + t->seq * MSG_SIZE;
	memcpy(d, t->m, MSG_SIZE);
	NormObjectHandle h = NormDataEnqueue(t->s, d, MSG_SIZE, NULL, 0);
	if (h == NORM_OBJECT_INVALID) {
		t->ready = false;
		return false;
	}
	t->last = h;
	return true;
}

/* the rest of message seq into the stream; false until all of it went */
static bool tx_put_stream(struct tx *t, const struct opts *o)
{
	unsigned want = MSG_SIZE - t->off;
	if (t->acked) {
		if (t->seg_count >= t->seg_max) {
			t->ready = false;
			return false;
		}
		unsigned avail = (unsigned)o->segment *
		    (t->seg_max - t->seg_count) - t->rem;
		if (avail < want)
			want = avail;
	}
	unsigned n = NormStreamWrite(t->st, (const char *)t->m + t->off, want);
	if (t->acked) {
		unsigned tot = n + t->rem;
		t->seg_count += tot / (unsigned)o->segment;
		t->rem = tot % (unsigned)o->segment;
		if (!t->wm_pending && t->seg_count >= t->seg_thresh) {
			NormSetWatermark(t->s, t->st, false);
			t->wm_pending = true;
		}
	}
	t->off += n;
	if (t->off < MSG_SIZE) {
		t->ready = false;
		t->blocked++;
		return false;
	}
	NormStreamMarkEom(t->st);
	t->off = 0;
	return true;
}

/* all written: the last watermark asks every receiver to ack it all */
static void tx_close(struct tx *t)
{
	t->tw = now_s();
	if (t->st != NORM_OBJECT_INVALID) {
		NormStreamFlush(t->st, true, NORM_FLUSH_ACTIVE);
		NormStreamClose(t->st, true);
		NormSetWatermark(t->s, t->st, true);
	} else {
		/* the last object: every receiver acks it */
		NormSetWatermark(t->s, t->last, true);
	}
	t->closed = true;
	t->wm_pending = false;
}

/* up to 1024 messages, as many as NORM takes; closes after the last */
static void tx_write(struct tx *t, const struct opts *o)
{
	NormSuspendInstance(t->inst);
	for (int k = 0; k < 1024 && t->ready && t->seq < o->count; k++) {
		if (!(o->objects ? tx_put_object(t) : tx_put_stream(t, o)))
			break;
		if (++t->seq < o->count)
			make_msg(t->m, t->seq);
	}
	if (t->seq == o->count && !t->closed)
		tx_close(t);
	NormResumeInstance(t->inst);
}

static void tx_event(struct tx *t, const NormEvent *ev)
{
	switch (ev->type) {
	case NORM_TX_QUEUE_VACANCY:
	case NORM_TX_QUEUE_EMPTY:
		if (!t->acked || t->seg_count < t->seg_max)
			t->ready = true;
		break;
	case NORM_TX_WATERMARK_COMPLETED:
		if (NormGetAckingStatus(t->s, NORM_NODE_ANY) != NORM_ACK_SUCCESS) {
			t->wm_fail++;
			NormResetWatermark(t->s);
			break;
		}
		if (t->closed) {
			t->tdone = now_s();
			t->ok = t->done = true;
		} else if (t->wm_pending) {
			t->wm_pending = false;
			t->seg_count -= t->seg_thresh;
			t->ready = true;
		}
		break;
	default:
		break;
	}
}

static void tx_report(const struct tx *t)
{
	char cpu[64];
	cpu_fields(cpu, sizeof(cpu));
	printf("send: sent=%" PRIu64 " all_acked=%d start=%.6f written=%.6f"
	    " acked=%.6f write_s=%.3f blocked=%u watermark_retries=%u %s\n",
	    t->seq, t->ok ? 1 : 0, t->t0, t->tw, t->tdone,
	    t->tw > 0 ? t->tw - t->t0 : 0.0, t->blocked, t->wm_fail, cpu);
	fflush(stdout);
}

static int run_send(const struct opts *o)
{
	struct tx t = { .st = NORM_OBJECT_INVALID, .last = NORM_OBJECT_INVALID,
	    .ready = true };
	t.inst = NormCreateInstance(false);
	t.s = open_session(t.inst, o, 1);
	t.acked = !o->timer_flow && !o->objects;
	tx_configure(&t, o);
	if (tx_start(&t, o))
		return 1;
	double deadline = now_s() + o->timeout;
	t.t0 = now_s();
	make_msg(t.m, 0);
	while (!t.done && !stop_flag && now_s() < deadline) {
		if (t.ready && !t.closed)
			tx_write(&t, o);
		NormEvent ev;
		if (next_event(t.inst, &ev))
			tx_event(&t, &ev);
	}
	tx_report(&t);
	NormStopSender(t.s);
	NormDestroySession(t.s);
	NormDestroyInstance(t.inst);
	free(t.objs);
	return t.ok ? 0 : 1;
}

struct rx {
	uint64_t next, got, bad_at;
	const char *why;
	double first, last;
	unsigned char part[MSG_SIZE];
	unsigned have;
	unsigned char *seen;     /* objects mode: one byte per seq */
	uint64_t out_of_order;
	NormObjectHandle st;     /* the sender's stream, once it came */
	bool sync;               /* the stream is read from a message start */
};

static void rx_msg(struct rx *r, const unsigned char *m, uint64_t count,
    bool objects)
{
	double t = now_s();
	if (r->got == 0)
		r->first = t;
	r->last = t;
	if (r->why)
		return;
	uint64_t seq = 0;
	for (int i = 0; i < 8; i++)
		seq = seq << 8 | m[i];
	if (objects) {
		if (seq >= count || r->seen[seq]) {
			r->why = seq >= count ? "seq out of range" : "duplicate";
			r->bad_at = r->got;
			return;
		}
		if (seq != r->next)
			r->out_of_order++;
		r->seen[seq] = 1;
		while (r->next < count && r->seen[r->next])
			r->next++;
	} else if (seq != r->next) {
		r->why = "out of sequence";
		r->bad_at = r->next;
		return;
	} else {
		r->next++;
	}
	if (!check_msg(m, seq)) {
		r->why = "corrupt";
		r->bad_at = seq;
		return;
	}
	r->got++;
}

/* the session as a receiver; NORM_SESSION_INVALID if it cannot start */
static NormSessionHandle rx_open(NormInstanceHandle inst, const struct opts *o)
{
	NormSessionHandle s = open_session(inst, o, (NormNodeId)o->id);
	NormSetRxLoss(s, o->loss);
	NormSetRxSocketBuffer(s, 4u << 20);
	NormSetDefaultUnicastNack(s, false);
	/* the sender's buffers made now, not when its first packet comes */
	if (!NormPreallocateRemoteSender(s, o->buffer_mib << 20,
	    (UINT16)o->segment, (UINT16)o->block, (UINT16)o->parity,
	    o->buffer_mib << 20))
		fprintf(stderr, "norm-peer: cannot preallocate (goes on)\n");
	if (!NormStartReceiver(s, o->buffer_mib << 20)) {
		fprintf(stderr, "norm-peer: cannot start the receiver\n");
		return NORM_SESSION_INVALID;
	}
	return s;
}

/* stream bytes cut back into messages (they may span reads) */
static void rx_bytes(struct rx *r, const char *buf, unsigned n,
    uint64_t count)
{
	for (unsigned i = 0; i < n;) {
		unsigned c = MSG_SIZE - r->have;
		if (c > n - i)
			c = n - i;
		memcpy(r->part + r->have, buf + i, c);
		r->have += c;
		i += c;
		if (r->have == MSG_SIZE) {
			rx_msg(r, r->part, count, false);
			r->have = 0;
		}
	}
}

/* read all the stream holds; after a break, on from the next message */
static void rx_stream(struct rx *r, uint64_t count)
{
	char buf[65536];
	for (;;) {
		if (!r->sync && !(r->sync = NormStreamSeekMsgStart(r->st)))
			break;
		unsigned n = sizeof(buf);
		if (!NormStreamRead(r->st, buf, &n)) {
			if (!r->why) {
				r->why = "stream broken";
				r->bad_at = r->next;
			}
			r->sync = false;
			r->have = 0;
			continue;
		}
		if (n == 0)
			break;
		rx_bytes(r, buf, n, count);
	}
}

/* a sender with --objects: one message per data object; -1: no memory */
static int rx_object(struct rx *r, NormObjectHandle obj, uint64_t count)
{
	if (!r->seen && !(r->seen = calloc(count, 1)))
		return -1;
	if (NormObjectGetSize(obj) == MSG_SIZE)
		rx_msg(r, (const unsigned char *)NormDataAccessData(obj), count,
		    true);
	else if (!r->why) {
		r->why = "object size";
		r->bad_at = r->got;
	}
	return 0;
}

static int rx_event(struct rx *r, const NormEvent *ev, uint64_t count)
{
	if (ev->type == NORM_RX_OBJECT_NEW &&
	    NormObjectGetType(ev->object) == NORM_OBJECT_STREAM)
		r->st = ev->object;
	if (ev->type == NORM_RX_OBJECT_UPDATED && ev->object == r->st)
		rx_stream(r, count);
	if (ev->type == NORM_RX_OBJECT_COMPLETED &&
	    NormObjectGetType(ev->object) == NORM_OBJECT_DATA)
		return rx_object(r, ev->object, count);
	return 0;
}

static void rx_report(const struct rx *r, const struct opts *o)
{
	double el = r->got > 1 ? r->last - r->first : 0;
	char cpu[64];
	cpu_fields(cpu, sizeof(cpu));
	char bad[32] = "-";
	if (r->why || r->got < o->count)
		snprintf(bad, sizeof(bad), "%" PRIu64, r->why ? r->bad_at : r->next);
	printf("recv: id=%d received=%" PRIu64 " of=%" PRIu64 " ok=%d"
	    " first_bad=%s why=\"%s\" elapsed=%.6f rate=%.0f first=%.6f"
	    " last=%.6f out_of_order=%" PRIu64 " loss=%g %s\n",
	    o->id, r->got, o->count, !r->why && r->got == o->count, bad,
	    r->why ? r->why : (r->got < o->count ? "incomplete" : ""), el,
	    el > 0 ? (double)(r->got - 1) / el : 0.0, r->first, r->last,
	    r->out_of_order, o->loss, cpu);
	fflush(stdout);
}

static int run_recv(const struct opts *o)
{
	NormInstanceHandle inst = NormCreateInstance(false);
	NormSessionHandle s = rx_open(inst, o);
	if (s == NORM_SESSION_INVALID)
		return 1;
	struct rx r = { .st = NORM_OBJECT_INVALID };
	double deadline = now_s() + o->timeout, linger = 0;
	bool printed = false;
	printf("ready\n");
	fflush(stdout);
	while (!stop_flag && now_s() < deadline) {
		/* all in: stay up to answer the sender's last ACK request */
		if (printed && now_s() > linger)
			break;
		NormEvent ev;
		if (!next_event(inst, &ev))
			continue;
		if (rx_event(&r, &ev, o->count) == -1)
			return 1;
		if (!printed && (r.got == o->count || r.why)) {
			printed = true;
			linger = now_s() + 2.0;
		}
	}
	rx_report(&r, o);
	NormStopReceiver(s);
	NormDestroySession(s);
	NormDestroyInstance(inst);
	free(r.seen);
	return !r.why && r.got == o->count ? 0 : 1;
}

static bool group_ok(const char *g)
{
	struct in_addr a;
	if (inet_pton(AF_INET, g, &a) != 1)
		return false;
	uint32_t h = ntohl(a.s_addr);
	return (h >> 16) == ((239u << 8) | 255u);
}

/* --cc, --objects, --timer-flow; false if A is none of them */
static bool set_flag(struct opts *o, const char *a)
{
	if (!strcmp(a, "--cc"))
		o->cc = true;
	else if (!strcmp(a, "--objects"))
		o->objects = true;
	else if (!strcmp(a, "--timer-flow"))
		o->timer_flow = true;
	else
		return false;
	return true;
}

/* The options that take an integer: decimal, checked by sc_parse_u64. */
static const struct int_opt {
	const char *name;
	uint64_t lo, hi;
} int_opts[] = {
	{ "--port", 1, 65535 },
	{ "--count", 1, 1000000000 },
	{ "--id", 2, 1000 },
	{ "--receivers", 1, 64 },
	{ "--segment", 64, 1440 },
	{ "--block", 1, 255 },
	{ "--parity", 0, 128 },
	{ "--buffer", 1, 1024 },
};

static bool set_int(struct opts *o, const struct int_opt *io, const char *v)
{
	uint64_t n;
	if (sc_parse_u64(v, io->lo, io->hi, &n) != SC_NUM_OK) {
		fprintf(stderr, "norm-peer: bad %s '%s': expected an integer"
		    " from %" PRIu64 " to %" PRIu64 "\n", io->name, v, io->lo,
		    io->hi);
		return false;
	}
	const char *a = io->name;
	if (!strcmp(a, "--port"))
		o->port = (int)n;
	else if (!strcmp(a, "--count"))
		o->count = n;
	else if (!strcmp(a, "--id"))
		o->id = (int)n;
	else if (!strcmp(a, "--receivers"))
		o->receivers = (int)n;
	else if (!strcmp(a, "--segment"))
		o->segment = (int)n;
	else if (!strcmp(a, "--block"))
		o->block = (int)n;
	else if (!strcmp(a, "--parity"))
		o->parity = (int)n;
	else
		o->buffer_mib = (unsigned)n;
	return true;
}

/* --loss, --rate, --timeout: a whole strtod number, nothing after it */
static bool set_double(struct opts *o, const char *a, const char *v)
{
	char *end;
	errno = 0;
	double d = strtod(v, &end);
	bool num = errno == 0 && *end == '\0' && end != v && d >= 0;
	if (num && !strcmp(a, "--loss") && d <= 100)
		o->loss = d;
	else if (num && !strcmp(a, "--rate") && d > 0 && d <= 100000)
		o->rate_mbps = d;
	else if (num && !strcmp(a, "--timeout") && d > 0 && d <= 3600)
		o->timeout = d;
	else {
		fprintf(stderr, "norm-peer: bad option or value: %s %s\n", a, v);
		return false;
	}
	return true;
}

/* option A with its value V; false (said on stderr) if either is bad */
static bool set_value(struct opts *o, const char *a, const char *v)
{
	if (!strcmp(a, "--group")) {
		o->group = v;
		return true;
	}
	for (size_t i = 0; i < sizeof(int_opts) / sizeof(int_opts[0]); i++)
		if (!strcmp(a, int_opts[i].name))
			return set_int(o, &int_opts[i], v);
	return set_double(o, a, v);
}

/* the options after "send" or "recv"; 0, or the exit status (2) */
static int parse_args(int argc, char **argv, struct opts *o)
{
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (set_flag(o, a))
			continue;
		if (!v) {
			usage(stderr);
			return 2;
		}
		i++;
		if (!set_value(o, a, v))
			return 2;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o = { .receivers = 3, .segment = 1400,
	    .block = 64, .rate_mbps = 400, .timeout = 60, .buffer_mib = 16 };
	if (argc < 2 || (strcmp(argv[1], "send") && strcmp(argv[1], "recv"))) {
		bool help = argc > 1 && !strcmp(argv[1], "--help");
		usage(help ? stdout : stderr);
		return help ? 0 : 2;
	}
	bool send = !strcmp(argv[1], "send");
	int rc = parse_args(argc, argv, &o);
	if (rc)
		return rc;
	if (!o.group || !group_ok(o.group) || !o.port || !o.count ||
	    (!send && !o.id) || o.block + o.parity > 255) {
		fprintf(stderr, "norm-peer: need --group in 239.255.0.0/16,"
		    " --port, --count%s\n", send ? "" : ", --id (2..)");
		return 2;
	}
	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	return send ? run_send(&o) : run_recv(&o);
}
