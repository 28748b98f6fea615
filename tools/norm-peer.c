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

static int run_send(const struct opts *o)
{
	NormInstanceHandle inst = NormCreateInstance(false);
	NormSessionHandle s = open_session(inst, o, 1);
	double rate = o->rate_mbps * 1e6;
	NormSetGrttEstimate(s, 0.001);
	NormSetBackoffFactor(s, 0);      /* 3 receivers: no NACK suppression wait */
	NormSetTxSocketBuffer(s, 4u << 20);
	if (o->cc) {
		NormSetCongestionControl(s, true, true);
		NormSetTxRateBounds(s, 1e6, rate);
	} else {
		NormSetTxRate(s, rate);
	}
	bool acked = !o->timer_flow && !o->objects;
	if (acked)
		NormSetFlowControl(s, 0.0);
	for (int r = 0; r < o->receivers; r++)
		NormAddAckingNode(s, (NormNodeId)(2 + r));
	UINT32 buf = o->buffer_mib << 20;
	srand((unsigned)getpid());
	if (!NormStartSender(s, (NormSessionId)rand(), buf, (UINT16)o->segment,
	    (UINT16)o->block, (UINT16)o->parity, 0)) {
		fprintf(stderr, "norm-peer: cannot start the sender\n");
		return 1;
	}
	NormObjectHandle st = NORM_OBJECT_INVALID, last = NORM_OBJECT_INVALID;
	char *objs = NULL;
	/* ACK-based flow control in segments, as NRL's normStreamer does it */
	unsigned seg_max = 0, seg_thresh = 0, seg_count = 0, rem = 0;
	bool wm_pending = false;
	if (o->objects) {
		NormSetTxCacheBounds(s, (NormSize)buf, 256, 256);
		if (!(objs = malloc(o->count * MSG_SIZE)))
			return 1;
	} else {
		st = NormStreamOpen(s, buf, NULL, 0);
		if (st == NORM_OBJECT_INVALID) {
			fprintf(stderr, "norm-peer: cannot open the stream\n");
			return 1;
		}
		NormStreamSetAutoFlush(st, NORM_FLUSH_NONE);
		seg_max = NormGetStreamBufferSegmentCount(buf, (UINT16)o->segment,
		    (UINT16)o->block) - (unsigned)o->block;
		seg_thresh = seg_max / 8;
	}
	double deadline = now_s() + o->timeout, t0 = now_s(), tw = 0, tdone = 0;
	uint64_t seq = 0;
	unsigned off = 0;          /* bytes of message seq already written */
	unsigned char m[MSG_SIZE];
	bool ready = true, closed = false, done = false, ok = false;
	unsigned blocked = 0, wm_fail = 0;
	make_msg(m, 0);
	while (!done && !stop_flag && now_s() < deadline) {
		if (ready && !closed) {
			NormSuspendInstance(inst);
			for (int k = 0; k < 1024 && ready && seq < o->count; k++) {
				if (o->objects) {
					/* NORM keeps the pointer until the
					 * object is purged: one array for all */
					char *d = objs + seq * MSG_SIZE;
					memcpy(d, m, MSG_SIZE);
					NormObjectHandle h = NormDataEnqueue(s, d,
					    MSG_SIZE, NULL, 0);
					if (h == NORM_OBJECT_INVALID) {
						ready = false;
						break;
					}
					last = h;
				} else {
					unsigned want = MSG_SIZE - off;
					if (acked) {
						if (seg_count >= seg_max) {
							ready = false;
							break;
						}
						unsigned avail = (unsigned)o->segment *
						    (seg_max - seg_count) - rem;
						if (avail < want)
							want = avail;
					}
					unsigned n = NormStreamWrite(st,
					    (const char *)m + off, want);
					if (acked) {
						unsigned tot = n + rem;
						seg_count += tot / (unsigned)o->segment;
						rem = tot % (unsigned)o->segment;
						if (!wm_pending && seg_count >= seg_thresh) {
							NormSetWatermark(s, st, false);
							wm_pending = true;
						}
					}
					off += n;
					if (off < MSG_SIZE) {
						ready = false;
						blocked++;
						break;
					}
					NormStreamMarkEom(st);
					off = 0;
				}
				if (++seq < o->count)
					make_msg(m, seq);
			}
			if (seq == o->count && !closed) {
				tw = now_s();
				if (st != NORM_OBJECT_INVALID) {
					NormStreamFlush(st, true, NORM_FLUSH_ACTIVE);
					NormStreamClose(st, true);
					NormSetWatermark(s, st, true);
				} else {
					/* the last object: every receiver acks it */
					NormSetWatermark(s, last, true);
				}
				closed = true;
				wm_pending = false;
			}
			NormResumeInstance(inst);
		}
		NormEvent ev;
		if (!next_event(inst, &ev))
			continue;
		switch (ev.type) {
		case NORM_TX_QUEUE_VACANCY:
		case NORM_TX_QUEUE_EMPTY:
			if (!acked || seg_count < seg_max)
				ready = true;
			break;
		case NORM_TX_WATERMARK_COMPLETED:
			if (NormGetAckingStatus(s, NORM_NODE_ANY) != NORM_ACK_SUCCESS) {
				wm_fail++;
				NormResetWatermark(s);
				break;
			}
			if (closed) {
				tdone = now_s();
				ok = done = true;
			} else if (wm_pending) {
				wm_pending = false;
				seg_count -= seg_thresh;
				ready = true;
			}
			break;
		default:
			break;
		}
	}
	char cpu[64];
	cpu_fields(cpu, sizeof(cpu));
	printf("send: sent=%" PRIu64 " all_acked=%d start=%.6f written=%.6f"
	    " acked=%.6f write_s=%.3f blocked=%u watermark_retries=%u %s\n",
	    seq, ok ? 1 : 0, t0, tw, tdone, tw > 0 ? tw - t0 : 0.0, blocked,
	    wm_fail, cpu);
	fflush(stdout);
	NormStopSender(s);
	NormDestroySession(s);
	NormDestroyInstance(inst);
	free(objs);
	return ok ? 0 : 1;
}

struct rx {
	uint64_t next, got, bad_at;
	const char *why;
	double first, last;
	unsigned char part[MSG_SIZE];
	unsigned have;
	unsigned char *seen;     /* objects mode: one byte per seq */
	uint64_t out_of_order;
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

static int run_recv(const struct opts *o)
{
	NormInstanceHandle inst = NormCreateInstance(false);
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
		return 1;
	}
	struct rx r = { .bad_at = 0 };
	NormObjectHandle st = NORM_OBJECT_INVALID;
	double deadline = now_s() + o->timeout, linger = 0;
	bool sync = false, printed = false;
	printf("ready\n");
	fflush(stdout);
	while (!stop_flag && now_s() < deadline) {
		/* all in: stay up to answer the sender's last ACK request */
		if (printed && now_s() > linger)
			break;
		NormEvent ev;
		if (!next_event(inst, &ev))
			continue;
		if (ev.type == NORM_RX_OBJECT_NEW &&
		    NormObjectGetType(ev.object) == NORM_OBJECT_STREAM)
			st = ev.object;
		if (ev.type == NORM_RX_OBJECT_UPDATED && ev.object == st) {
			char buf[65536];
			for (;;) {
				if (!sync && !(sync = NormStreamSeekMsgStart(st)))
					break;
				unsigned n = sizeof(buf);
				if (!NormStreamRead(st, buf, &n)) {
					if (!r.why) {
						r.why = "stream broken";
						r.bad_at = r.next;
					}
					sync = false;
					r.have = 0;
					continue;
				}
				if (n == 0)
					break;
				for (unsigned i = 0; i < n;) {
					unsigned c = MSG_SIZE - r.have;
					if (c > n - i)
						c = n - i;
					memcpy(r.part + r.have, buf + i, c);
					r.have += c;
					i += c;
					if (r.have == MSG_SIZE) {
						rx_msg(&r, r.part, o->count, false);
						r.have = 0;
					}
				}
			}
		}
		/* a sender with --objects: one message per data object */
		if (ev.type == NORM_RX_OBJECT_COMPLETED &&
		    NormObjectGetType(ev.object) == NORM_OBJECT_DATA) {
			if (!r.seen && !(r.seen = calloc(o->count, 1)))
				return 1;
			if (NormObjectGetSize(ev.object) == MSG_SIZE)
				rx_msg(&r, (const unsigned char *)
				    NormDataAccessData(ev.object), o->count, true);
			else if (!r.why) {
				r.why = "object size";
				r.bad_at = r.got;
			}
		}
		if (!printed && (r.got == o->count || r.why)) {
			printed = true;
			linger = now_s() + 2.0;
		}
	}
	double el = r.got > 1 ? r.last - r.first : 0;
	char cpu[64];
	cpu_fields(cpu, sizeof(cpu));
	char bad[32] = "-";
	if (r.why || r.got < o->count)
		snprintf(bad, sizeof(bad), "%" PRIu64, r.why ? r.bad_at : r.next);
	printf("recv: id=%d received=%" PRIu64 " of=%" PRIu64 " ok=%d"
	    " first_bad=%s why=\"%s\" elapsed=%.6f rate=%.0f first=%.6f"
	    " last=%.6f out_of_order=%" PRIu64 " loss=%g %s\n",
	    o->id, r.got, o->count, !r.why && r.got == o->count, bad,
	    r.why ? r.why : (r.got < o->count ? "incomplete" : ""), el,
	    el > 0 ? (double)(r.got - 1) / el : 0.0, r.first, r.last,
	    r.out_of_order, o->loss, cpu);
	fflush(stdout);
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

int main(int argc, char **argv)
{
	struct opts o = { .receivers = 3, .segment = 1400,
	    .block = 64, .rate_mbps = 400, .timeout = 60, .buffer_mib = 16 };
	if (argc < 2 || (strcmp(argv[1], "send") && strcmp(argv[1], "recv"))) {
		usage(argc > 1 && !strcmp(argv[1], "--help") ? stdout : stderr);
		return argc > 1 && !strcmp(argv[1], "--help") ? 0 : 2;
	}
	bool send = !strcmp(argv[1], "send");
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		bool flag = true;
		if (!strcmp(a, "--cc"))
			o.cc = true;
		else if (!strcmp(a, "--objects"))
			o.objects = true;
		else if (!strcmp(a, "--timer-flow"))
			o.timer_flow = true;
		else
			flag = false;
		if (flag)
			continue;
		if (!v) {
			usage(stderr);
			return 2;
		}
		i++;
		char *end;
		errno = 0;
		double d = strtod(v, &end);
		bool num = errno == 0 && *end == '\0' && end != v && d >= 0;
		if (!strcmp(a, "--group"))
			o.group = v;
		else if (!num) {
			fprintf(stderr, "norm-peer: bad option or value: %s %s\n",
			    a, v);
			return 2;
		} else if (!strcmp(a, "--port") && d >= 1 && d <= 65535)
			o.port = (int)d;
		else if (!strcmp(a, "--count") && d >= 1 && d <= 1e9)
			o.count = (uint64_t)d;
		else if (!strcmp(a, "--id") && d >= 2 && d <= 1000)
			o.id = (int)d;
		else if (!strcmp(a, "--receivers") && d >= 1 && d <= 64)
			o.receivers = (int)d;
		else if (!strcmp(a, "--loss") && d <= 100)
			o.loss = d;
		else if (!strcmp(a, "--rate") && d > 0 && d <= 100000)
			o.rate_mbps = d;
		else if (!strcmp(a, "--timeout") && d > 0 && d <= 3600)
			o.timeout = d;
		else if (!strcmp(a, "--segment") && d >= 64 && d <= 1440)
			o.segment = (int)d;
		else if (!strcmp(a, "--block") && d >= 1 && d <= 255)
			o.block = (int)d;
		else if (!strcmp(a, "--parity") && d <= 128)
			o.parity = (int)d;
		else if (!strcmp(a, "--buffer") && d >= 1 && d <= 1024)
			o.buffer_mib = (unsigned)d;
		else {
			fprintf(stderr, "norm-peer: bad option or value: %s %s\n",
			    a, v);
			return 2;
		}
	}
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
