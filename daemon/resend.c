/*
 * resend.c - the client's resend policy (see resend.h for the rules).
 *
 * Requests from the oldest not yet acked (base) to the newest sent live in
 * a ring indexed by request number; their timers are a heap tracked by
 * ring slot, so a reschedule or an ACK moves or removes the one entry and
 * nothing in here allocates after sc_resend_room.
 */
#include <stdlib.h>
#include <string.h>

#include "seqcast/resend.h"

#define RING_FIRST 1024

void
sc_resend_defaults(struct sc_resend_conf *c)
{
	c->rto_initial_us = 200000;
	c->rto_min_us = 20000;
	c->backoff_max_us = 1000000;
	c->probe_min_us = 2000;
	c->fast_gap = 64;
	c->again_max = 4096;
	c->silent_resends = 2;
	c->span_max = 1u << 21;
}

int
sc_resend_init(struct sc_resend *r, const struct sc_resend_conf *c)
{
	memset(r, 0, sizeof(*r));
	r->conf = *c;
	if (r->conf.span_max < RING_FIRST)
		r->conf.span_max = RING_FIRST;
	if (r->conf.again_max == 0)
		r->conf.again_max = 1;
	r->ring = calloc(RING_FIRST, sizeof(*r->ring));
	r->again = calloc(r->conf.again_max, sizeof(*r->again));
	if (r->ring == NULL || r->again == NULL ||
	    sc_heap_init_tracked(&r->timers, RING_FIRST) == -1) {
		sc_resend_free(r);
		return -1;
	}
	r->mask = RING_FIRST - 1;
	r->base = r->next = r->fast_cursor = 1;
	return 0;
}

void
sc_resend_free(struct sc_resend *r)
{
	free(r->ring);
	free(r->again);
	sc_heap_free(&r->timers);
	r->ring = NULL;
	r->again = NULL;
}

/* The state of req, or NULL if it is not between base and the newest. */
static struct sc_resend_req *
slot(const struct sc_resend *r, uint64_t req)
{
	if (req < r->base || req >= r->next)
		return NULL;
	return &r->ring[req & r->mask];
}

static void
set_timer(struct sc_resend *r, struct sc_resend_req *s, int64_t due)
{
	s->due = due;
	sc_heap_set(&r->timers, (uint32_t)(s->req & r->mask), due);
}

int64_t
sc_resend_first_timeout(const struct sc_resend *r)
{
	const struct sc_resend_conf *c = &r->conf;
	int64_t rto = sc_rtt_rto(&r->rtt);

	if (rto == 0)
		return c->rto_initial_us;
	if (rto < 3 * r->rtt.srtt)
		rto = 3 * r->rtt.srtt;
	if (rto < c->rto_min_us)
		rto = c->rto_min_us;
	return rto < c->rto_initial_us ? rto : c->rto_initial_us;
}

static int64_t
backoff(const struct sc_resend *r, int64_t delay)
{
	int64_t cap = r->conf.backoff_max_us > r->conf.rto_initial_us ?
	    r->conf.backoff_max_us : r->conf.rto_initial_us;

	return delay >= cap / 2 ? cap : delay * 2;
}

/* Twice the ring, its requests and their timers moved over. */
static int
ring_grow(struct sc_resend *r)
{
	uint64_t size = 2 * (r->mask + 1);
	struct sc_resend_req *ring;
	struct sc_heap timers;

	if (size > r->conf.span_max || size > UINT32_MAX / 2)
		return -1;
	ring = calloc(size, sizeof(*ring));
	if (ring == NULL || sc_heap_init_tracked(&timers,
	    (uint32_t)size) == -1) {
		free(ring);
		return -1;
	}
	for (uint64_t q = r->base; q < r->next; q++) {
		ring[q & (size - 1)] = r->ring[q & r->mask];
		if (ring[q & (size - 1)].out)
			sc_heap_set(&timers, (uint32_t)(q & (size - 1)),
			    ring[q & (size - 1)].due);
	}
	free(r->ring);
	sc_heap_free(&r->timers);
	r->ring = ring;
	r->timers = timers;
	r->mask = size - 1;
	return 0;
}

int
sc_resend_room(struct sc_resend *r)
{
	return r->next - r->base <= r->mask || ring_grow(r) == 0;
}

int
sc_resend_sent(struct sc_resend *r, uint64_t req, int64_t now)
{
	struct sc_resend_req *s;

	if (req != r->next || !sc_resend_room(r))
		return -1;
	s = &r->ring[req & r->mask];
	r->next++;
	*s = (struct sc_resend_req){ .req = req, .first = now, .last = now,
	    .delay = sc_resend_first_timeout(r), .epoch = r->epoch,
	    .out = 1 };
	set_timer(r, s, now + s->delay);
	if (r->outstanding++ == 0)
		r->last_heard = now;    /* probes count from here */
	if (r->conf.silent_resends > 0)
		r->fresh++;
	return 0;
}

void
sc_resend_input_done(struct sc_resend *r)
{
	r->input_done = 1;
}

/* An answer: silence starts over (every outstanding one is fresh). */
static void
heard(struct sc_resend *r, int64_t now)
{
	r->last_heard = now;
	r->epoch++;
	r->fresh = r->conf.silent_resends > 0 ? r->outstanding : 0;
}

int
sc_resend_acked(struct sc_resend *r, uint64_t req, int64_t now,
    int64_t *first_sent)
{
	struct sc_resend_req *s = slot(r, req);

	if (req < r->next && req > r->top_acked)
		r->top_acked = req;
	if (s == NULL || !s->out) {
		heard(r, now);
		return 0;
	}
	s->out = 0;
	r->outstanding--;
	sc_heap_remove(&r->timers, (uint32_t)(req & r->mask));
	if (!s->resent)
		sc_rtt_sample(&r->rtt, now - s->first);
	if (first_sent != NULL)
		*first_sent = s->first;
	while (r->base < r->next && !r->ring[r->base & r->mask].out)
		r->ring[r->base++ & r->mask].req = 0;
	heard(r, now);
	return 1;
}

void
sc_resend_busy(struct sc_resend *r, uint64_t req, int64_t now)
{
	struct sc_resend_req *s = slot(r, req);

	if (s != NULL && s->out)
		set_timer(r, s, now + s->delay);
	heard(r, now);
}

void
sc_resend_restart(struct sc_resend *r, int64_t now)
{
	r->st.restarts++;
	r->sweep = r->base;
	r->sweep_end = r->next;
	r->sweep_restart = 1;
	r->sweep_at = now;
	r->last_probe = now;
	r->epoch++;
	r->fresh = r->conf.silent_resends > 0 ? r->outstanding : 0;
}

/* Record a resend of s at now into out[*n]. `counted`: it counts
 * towards silence (a restart's first send to a new server does not). */
static void
emit(struct sc_resend *r, struct sc_resend_req *s, int64_t now,
    int counted, uint64_t *out, uint32_t *n)
{
	s->resent = 1;
	s->last = now;
	r->st.resent++;
	out[(*n)++] = s->req;
	if (!counted || r->conf.silent_resends == 0)
		return;
	if (s->epoch != r->epoch) {
		s->epoch = r->epoch;
		s->tries = 0;
	}
	if (++s->tries == r->conf.silent_resends && r->fresh > 0)
		r->fresh--;
}

/* A probe's or a restart's sweep over everything outstanding. */
static void
due_sweep(struct sc_resend *r, int64_t now, uint64_t *out, uint32_t *n,
    uint32_t max)
{
	if (r->sweep < r->base)
		r->sweep = r->base;
	for (; r->sweep < r->sweep_end && *n < max; r->sweep++) {
		struct sc_resend_req *s = slot(r, r->sweep);

		if (s == NULL || !s->out)
			continue;
		if (r->sweep_restart) {
			s->delay = sc_resend_first_timeout(r);
			set_timer(r, s, now + s->delay);
			emit(r, s, now, 0, out, n);
		} else if (s->last != now) {
			emit(r, s, now, 1, out, n);
		}
	}
}

/* Resend s early (fast, early retransmit, again) and watch it. */
static void
fast_one(struct sc_resend *r, struct sc_resend_req *s, int64_t now,
    uint64_t *out, uint32_t *n)
{
	r->st.fast++;
	if (r->again_len < r->conf.again_max) {
		uint32_t i = (r->again_head + r->again_len++) %
		    r->conf.again_max;

		r->again[i].req = s->req;
		r->again[i].mark = r->next;
	}
	set_timer(r, s, now + s->delay);
	emit(r, s, now, 1, out, n);
}

/* How many requests sent after q must be acked for q to count as lost:
 * fast_gap, or once the input is all sent, more than half of those sent
 * after q. q + fast_gap(q) never decreases as q grows, so a cursor can
 * scan the requests once. */
static uint64_t
fast_gap(const struct sc_resend *r, uint64_t q)
{
	uint64_t half;

	if (!r->input_done || q >= r->next)
		return r->conf.fast_gap;
	half = (r->next - 1 - q) / 2;
	return half < r->conf.fast_gap ? half : r->conf.fast_gap;
}

static void
due_fast(struct sc_resend *r, int64_t now, uint64_t *out, uint32_t *n,
    uint32_t max)
{
	uint64_t q;

	if (r->fast_cursor < r->base)
		r->fast_cursor = r->base;
	for (q = r->fast_cursor; q + fast_gap(r, q) < r->top_acked &&
	    *n < max; q++) {
		struct sc_resend_req *s = slot(r, q);

		if (s != NULL && s->out && !s->resent)
			fast_one(r, s, now, out, n);
	}
	r->fast_cursor = q;
}

/* Early resends whose resend was lost too: looked at again once
 * fast_gap requests sent after the resend are acked. Marks only grow,
 * so the head decides. */
static void
due_again(struct sc_resend *r, int64_t now, uint64_t *out, uint32_t *n,
    uint32_t max)
{
	while (r->again_len > 0 && *n < max) {
		const struct sc_resend_again *a = &r->again[r->again_head];
		struct sc_resend_req *s = slot(r, a->req);

		if (a->mark + r->conf.fast_gap >= r->top_acked)
			return;
		r->again_head = (r->again_head + 1) % r->conf.again_max;
		r->again_len--;
		if (s != NULL && s->out)
			fast_one(r, s, now, out, n);
	}
}

static void
due_timers(struct sc_resend *r, int64_t now, uint64_t *out, uint32_t *n,
    uint32_t max)
{
	const struct sc_heap_item *t;

	while (*n < max && (t = sc_heap_top(&r->timers)) != NULL &&
	    t->key <= now) {
		struct sc_resend_req *s = &r->ring[t->value];

		r->st.timeouts++;
		s->delay = backoff(r, s->delay);
		set_timer(r, s, now + s->delay);
		emit(r, s, now, 1, out, n);
	}
}

/* When a tail probe is due (INT64_MAX: none can be). */
static int64_t
probe_at(const struct sc_resend *r)
{
	int64_t pto = 2 * r->rtt.srtt, last;

	if (!r->input_done || r->outstanding == 0 || r->rtt.srtt == 0)
		return INT64_MAX;
	if (pto < r->conf.probe_min_us)
		pto = r->conf.probe_min_us;
	last = r->last_heard > r->last_probe ? r->last_heard : r->last_probe;
	return last + pto;
}

uint32_t
sc_resend_due(struct sc_resend *r, int64_t now, uint64_t *out, uint32_t max)
{
	uint32_t n = 0;

	due_sweep(r, now, out, &n, max);
	due_fast(r, now, out, &n, max);
	due_again(r, now, out, &n, max);
	due_timers(r, now, out, &n, max);
	if (n < max && r->sweep >= r->sweep_end && now >= probe_at(r)) {
		r->st.probes++;
		r->last_probe = now;
		r->sweep = r->base;
		r->sweep_end = r->next;
		r->sweep_restart = 0;
		r->sweep_at = now;
		due_sweep(r, now, out, &n, max);
	}
	return n;
}

static int
fast_pending(const struct sc_resend *r)
{
	uint64_t q = r->fast_cursor > r->base ? r->fast_cursor : r->base;

	if (q < r->next && q + fast_gap(r, q) < r->top_acked)
		return 1;
	return r->again_len > 0 && r->again[r->again_head].mark +
	    r->conf.fast_gap < r->top_acked;
}

int64_t
sc_resend_next_deadline(const struct sc_resend *r)
{
	const struct sc_heap_item *t = sc_heap_top(&r->timers);
	int64_t at = probe_at(r);

	if (r->sweep < r->sweep_end && r->sweep_at < at)
		at = r->sweep_at;
	if (fast_pending(r) && r->last_heard < at)
		at = r->last_heard;
	if (t != NULL && t->key < at)
		at = t->key;
	return at;
}

int
sc_resend_silent(const struct sc_resend *r)
{
	return r->outstanding > 0 && r->conf.silent_resends > 0 &&
	    r->fresh == 0;
}

uint64_t
sc_resend_outstanding(const struct sc_resend *r)
{
	return r->outstanding;
}
