/*
 * resend.h - when a client sends a request again: the resend policy of
 * `seqcast add`, pure (no sockets, no clock reads: time in microseconds
 * is passed in, decisions come out), so that a unit test or a simulated
 * client drives it exactly as the real client does.
 *
 * Requests are numbered 1, 2, 3 ... in the order they are first sent. A
 * request is outstanding from its first send to its first ACK. The caller
 * reports what happens (sent, acked, busy, the whole input sent, a new
 * server) and asks which requests to send again now (sc_resend_due) and
 * when to ask next (sc_resend_next_deadline). The rules, each from TCP:
 *
 *   Timer (RFC 6298). A request gets no ACK within its timeout: send it
 *     again and double its timeout, up to backoff_max. A request's first
 *     timeout is srtt + 4 rttvar of the ACKs measured so far, but at
 *     least 3 srtt (under a closed-loop load the round trip swings with
 *     the queues, and a resend too early only doubles the work) and at
 *     least rto_min, at most rto_initial; rto_initial until there is a
 *     measurement.
 *   Karn's rule. Only a request sent exactly once gives a round-trip
 *     sample (the ACK of one sent twice may answer either copy).
 *   Fast resend (fast retransmit). A server acknowledges about in the
 *     order requests were sent, so once a request sent more than
 *     fast_gap after r is acked and r is not, r (or its ACK) was lost:
 *     send it again at once. Each request is looked at once this way.
 *   Early retransmit (RFC 5827). Once the whole input is sent
 *     (sc_resend_input_done), fewer than fast_gap requests follow the
 *     last ones: r then counts as lost once a request more than half-way
 *     from r to the last one is acked, so even the last but one is resent
 *     early (by the last one's ACK).
 *   Again if lost too. An early resend is watched: once a request sent
 *     more than fast_gap after the resend is acked and r still is not, it
 *     was lost as well, and r is sent once more (and watched again).
 *   Tail probe (TLP). Once the whole input is sent, no later ACK can show
 *     that one of the last requests was lost. When no ACK has come for
 *     two smoothed round trips (at least probe_min), every request still
 *     outstanding is sent once more; again after two more, and so on.
 *   Silence (for the choice of server, choice.h). Once every outstanding
 *     request has been resent silent_resends times with no ACK at all in
 *     between, sc_resend_silent says so.
 *   Restart. After the caller moved to another server
 *     (sc_resend_restart), every outstanding request is due at once,
 *     with its timeout back to the first one.
 *
 * A repeated request costs the server a lookup and gets the id it
 * already has, so a wrong guess costs a datagram, never an entry.
 */
#ifndef SEQCAST_RESEND_H
#define SEQCAST_RESEND_H

#include <stdint.h>

#include "seqcast/heap.h"
#include "seqcast/rtt.h"

struct sc_resend_conf {
	int64_t rto_initial_us;  /* first timeout before any sample, and its
	                            cap after (seqcast --retry-ms: 200 ms) */
	int64_t rto_min_us;      /* floor of a measured first timeout: 20 ms */
	int64_t backoff_max_us;  /* doubling stops here (at least
	                            rto_initial_us): 1 s */
	int64_t probe_min_us;    /* tail probe at least this after an ACK */
	uint32_t fast_gap;       /* acks this many requests later: lost (64) */
	uint32_t again_max;      /* early resends watched at once (4096) */
	uint32_t silent_resends; /* resends of each with no ACK: silent (2);
	                            0: never silent */
	uint64_t span_max;       /* most requests from the oldest outstanding
	                            to the newest (memory bound), >= 1024 */
};

/* The defaults above. */
void sc_resend_defaults(struct sc_resend_conf *c);

struct sc_resend_stats {
	uint64_t resent;         /* every resend, whatever its reason */
	uint64_t timeouts;       /* by a request's timer */
	uint64_t fast;           /* fast/early resends, again-if-lost too */
	uint64_t probes;         /* tail probes (each resends all still out) */
	uint64_t restarts;       /* sc_resend_restart calls */
};

/* One request between the oldest outstanding and the newest (private). */
struct sc_resend_req {
	uint64_t req;            /* its number, 0: slot unused */
	int64_t first;           /* first send (us) */
	int64_t last;            /* latest send */
	int64_t due;             /* timer */
	int64_t delay;           /* current timeout */
	uint64_t epoch;          /* silence: epoch of `tries` */
	uint32_t tries;          /* resends counted in that epoch */
	uint8_t out;             /* outstanding (else acked) */
	uint8_t resent;          /* sent more than once (Karn) */
};

struct sc_resend_again { uint64_t req, mark; };

/* The policy's state. Read `st` freely; the rest is private. */
struct sc_resend {
	struct sc_resend_conf conf;
	struct sc_resend_stats st;
	struct sc_resend_req *ring;   /* slot of req: req & mask */
	uint64_t mask;
	uint64_t base;           /* oldest not acked (== next: none) */
	uint64_t next;           /* next new request number */
	uint64_t outstanding;
	struct sc_heap timers;   /* ring slot -> due (tracked) */
	struct sc_rtt rtt;
	int input_done;
	int64_t last_heard;      /* last ACK, or a first send after idle */
	int64_t last_probe;
	uint64_t top_acked;      /* highest request number acked */
	uint64_t fast_cursor;    /* below it: looked at for fast resend */
	struct sc_resend_again *again;   /* a ring of again_max */
	uint32_t again_head, again_len;
	uint64_t sweep, sweep_end;       /* [sweep, sweep_end): still to send
	                                    by a probe or restart */
	int sweep_restart;       /* the sweep is a restart's */
	int64_t sweep_at;        /* when it started */
	uint64_t epoch;          /* silence: bumped by every ACK, restart */
	uint64_t fresh;          /* outstanding, resent < silent_resends
	                            times this epoch */
};

/* 0, or -1 if out of memory. */
int sc_resend_init(struct sc_resend *r, const struct sc_resend_conf *c);
void sc_resend_free(struct sc_resend *r);

/* 1 if the next request may be sent now as far as memory goes (grows the
 * table when it must), 0 if it spans span_max already or memory is out:
 * wait for the oldest outstanding to be acked. */
int sc_resend_room(struct sc_resend *r);
/* Request req, the next number (1 first), was sent for the first time at
 * now. 0, or -1 if req is not the next number or there is no room. */
int sc_resend_sent(struct sc_resend *r, uint64_t req, int64_t now);
/* The whole input is sent: early retransmit and tail probes apply. */
void sc_resend_input_done(struct sc_resend *r);

/* An ACK for req arrived at now. 1 if req was outstanding (now it is
 * not; *first_sent, if not NULL, gets its first send time), 0 if not (a
 * repeat, or never sent). Any ACK counts as an answer (tail probe,
 * silence). */
int sc_resend_acked(struct sc_resend *r, uint64_t req, int64_t now,
    int64_t *first_sent);
/* The server answered req but did not take it (busy, unavailable): still
 * outstanding, sent again after its current timeout. An answer all the
 * same (tail probe, silence). */
void sc_resend_busy(struct sc_resend *r, uint64_t req, int64_t now);
/* The caller now talks to another server: every outstanding request is
 * due at once, its timeout back to the first; silence starts over. */
void sc_resend_restart(struct sc_resend *r, int64_t now);

/* Requests to send again at now, at most max, into out (oldest reason
 * first: a probe's or restart's sweep, fast resends, again-if-lost,
 * timers, a new tail probe). Each is recorded as resent at now (Karn,
 * timers rescheduled). Returns how many; when it returns max, call again
 * with the same now for the rest. */
uint32_t sc_resend_due(struct sc_resend *r, int64_t now, uint64_t *out,
    uint32_t max);
/* When sc_resend_due next has something (INT64_MAX: nothing pending). A
 * time at or before now means: call it now. */
int64_t sc_resend_next_deadline(const struct sc_resend *r);

/* 1 if requests are outstanding and each has been resent silent_resends
 * times since the last ACK (or restart) with no ACK since: the server is
 * silent. */
int sc_resend_silent(const struct sc_resend *r);
/* Requests outstanding. */
uint64_t sc_resend_outstanding(const struct sc_resend *r);
/* The first timeout a request sent now would get (us). */
int64_t sc_resend_first_timeout(const struct sc_resend *r);

#endif
