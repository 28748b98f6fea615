/*
 * test_resend.c - the client's resend policy, driven with time passed in:
 * timers and their backoff cap, the adaptive first timeout, Karn's rule,
 * fast resend, early retransmit, again-if-lost, the tail probe, busy,
 * restart, silence, the table growing past one stuck request, and a
 * simulated lossy path on which every request must end up acked.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "seqcast/resend.h"
#include "testutil.h"

#define MS 1000

static void
setup_conf(struct sc_resend_conf *c)
{
	sc_resend_defaults(c);
	c->rto_initial_us = 200 * MS;
	c->rto_min_us = 20 * MS;
	c->backoff_max_us = 1000 * MS;
	c->probe_min_us = 2 * MS;
	c->fast_gap = 64;
}

static void
init(struct sc_resend *r)
{
	struct sc_resend_conf c;

	setup_conf(&c);
	assert_int_equal(sc_resend_init(r, &c), 0);
}

/* Send requests first .. last at now. */
static void
send_range(struct sc_resend *r, uint64_t first, uint64_t last, int64_t now)
{
	for (uint64_t q = first; q <= last; q++)
		assert_int_equal(sc_resend_sent(r, q, now), 0);
}

static void
ack_range(struct sc_resend *r, uint64_t first, uint64_t last, int64_t now)
{
	for (uint64_t q = first; q <= last; q++)
		assert_int_equal(sc_resend_acked(r, q, now, NULL), 1);
}

/* Everything due at now, in one array (n returned). */
static uint32_t
due_all(struct sc_resend *r, int64_t now, uint64_t *out, uint32_t cap)
{
	uint32_t n = 0, got;

	do {
		got = sc_resend_due(r, now, out + n, cap - n < 7 ? cap - n : 7);
		n += got;
	} while (got == 7 && n < cap);
	return n;
}

/* Without a measurement the first timeout is rto_initial; each timeout
 * doubles it up to backoff_max, and it stays there. */
static void
test_timer_backoff_cap(void **state)
{
	struct sc_resend r;
	uint64_t out[8];
	int64_t now = 0, expect[] = { 200, 400, 800, 1000, 1000, 1000 };

	(void)state;
	init(&r);
	send_range(&r, 1, 1, 0);
	assert_true(sc_resend_next_deadline(&r) == 200 * MS);
	assert_int_equal(sc_resend_due(&r, 200 * MS - 1, out, 8), 0);
	for (size_t i = 0; i < sizeof(expect) / sizeof(expect[0]); i++) {
		now += expect[i] * MS;
		assert_true(sc_resend_next_deadline(&r) == now);
		assert_int_equal(sc_resend_due(&r, now, out, 8), 1);
		assert_true(out[0] == 1);
		assert_int_equal(sc_resend_due(&r, now, out, 8), 0);
	}
	assert_true(r.st.timeouts == 6 && r.st.resent == 6);
	sc_resend_free(&r);
}

/* A larger --retry-ms than the cap: the cap is the retry itself. */
static void
test_backoff_cap_below_initial(void **state)
{
	struct sc_resend r;
	struct sc_resend_conf c;
	uint64_t out[2];

	(void)state;
	setup_conf(&c);
	c.rto_initial_us = 3000 * MS;
	assert_int_equal(sc_resend_init(&r, &c), 0);
	send_range(&r, 1, 1, 0);
	assert_int_equal(sc_resend_due(&r, 3000 * MS, out, 2), 1);
	assert_true(sc_resend_next_deadline(&r) == 6000 * MS);
	assert_int_equal(sc_resend_due(&r, 6000 * MS, out, 2), 1);
	assert_true(sc_resend_next_deadline(&r) == 9000 * MS);
	sc_resend_free(&r);
}

/* Measured round trips set the first timeout: srtt + 4 rttvar, at least
 * 3 srtt and rto_min, at most rto_initial. */
static void
test_adaptive_first_timeout(void **state)
{
	struct sc_resend r;
	int64_t first;

	(void)state;
	init(&r);
	assert_true(sc_resend_first_timeout(&r) == 200 * MS);
	send_range(&r, 1, 1, 0);
	assert_int_equal(sc_resend_acked(&r, 1, 1 * MS, &first), 1);
	assert_true(first == 0);
	/* srtt 1 ms, rttvar 0.5 ms: 3 ms, but the floor is 20 ms */
	assert_true(r.rtt.srtt == 1 * MS);
	assert_true(sc_resend_first_timeout(&r) == 20 * MS);
	/* varying round trips: srtt + 4 rttvar */
	r.rtt.srtt = 10 * MS;
	r.rtt.rttvar = 10 * MS;
	assert_true(sc_resend_first_timeout(&r) == 50 * MS);
	/* steady ones: 3 srtt */
	r.rtt.srtt = 30 * MS;
	r.rtt.rttvar = 1 * MS;
	assert_true(sc_resend_first_timeout(&r) == 90 * MS);
	/* never above rto_initial */
	r.rtt.srtt = 150 * MS;
	assert_true(sc_resend_first_timeout(&r) == 200 * MS);
	/* a request sent now gets it */
	send_range(&r, 2, 2, 5 * MS);
	assert_true(sc_resend_next_deadline(&r) == 205 * MS);
	sc_resend_free(&r);
}

/* Karn: the ACK of a request sent twice gives no sample; of one sent
 * once, it does. */
static void
test_karn(void **state)
{
	struct sc_resend r;
	uint64_t out[4];
	struct sc_rtt before;

	(void)state;
	init(&r);
	send_range(&r, 1, 2, 0);
	assert_int_equal(sc_resend_due(&r, 200 * MS, out, 4), 2);
	/* resent at 200 ms; an ACK at 201 ms would "measure" 1 ms or 201 */
	sc_resend_acked(&r, 1, 201 * MS, NULL);
	assert_true(r.rtt.srtt == 0);
	before = r.rtt;
	send_range(&r, 3, 3, 300 * MS);
	sc_resend_acked(&r, 3, 304 * MS, NULL);
	assert_true(before.srtt == 0 && r.rtt.srtt == 4 * MS);
	/* a second ACK of the same request is no sample either */
	assert_int_equal(sc_resend_acked(&r, 3, 400 * MS, NULL), 0);
	assert_true(r.rtt.srtt == 4 * MS);
	sc_resend_free(&r);
}

/* Fast resend: a request more than 64 later acked, this one not: resent
 * at once, once; 64 later is not enough. Timer rescheduled, not
 * doubled. */
static void
test_fast_resend(void **state)
{
	struct sc_resend r;
	uint64_t out[8];

	(void)state;
	init(&r);
	send_range(&r, 1, 300, 0);
	ack_range(&r, 2, 65, 1 * MS);           /* 1 + 64 */
	assert_true(sc_resend_next_deadline(&r) > 1 * MS);
	assert_int_equal(sc_resend_due(&r, 1 * MS, out, 8), 0);
	ack_range(&r, 66, 66, 2 * MS);          /* 1 + 65 */
	assert_true(sc_resend_next_deadline(&r) <= 2 * MS);
	assert_int_equal(sc_resend_due(&r, 2 * MS, out, 8), 1);
	assert_true(out[0] == 1);
	assert_true(r.st.fast == 1 && r.st.timeouts == 0);
	/* its timer: 2 ms + its (unchanged) first timeout */
	assert_true(r.ring[1].due == 2 * MS + r.ring[1].delay);
	assert_true(r.ring[1].delay == 200 * MS);
	/* more ACKs: not resent again this way (until again-if-lost) */
	ack_range(&r, 67, 100, 3 * MS);
	assert_int_equal(sc_resend_due(&r, 3 * MS, out, 8), 0);
	sc_resend_free(&r);
}

/* Early retransmit: once the input is all sent, r counts as lost once
 * more than half of those sent after it are acked. */
static void
test_early_retransmit(void **state)
{
	struct sc_resend r;
	uint64_t out[8];

	(void)state;
	init(&r);
	send_range(&r, 1, 10, 0);
	ack_range(&r, 1, 4, 1 * MS);
	ack_range(&r, 6, 7, 1 * MS);            /* 2 of the 5 after 5 */
	assert_int_equal(sc_resend_due(&r, 1 * MS, out, 8), 0);
	sc_resend_input_done(&r);
	/* input done: 5 + (10 - 5) / 2 = 7, not < 7 */
	assert_int_equal(sc_resend_due(&r, 1 * MS, out, 8), 0);
	ack_range(&r, 8, 8, 2 * MS);
	assert_int_equal(sc_resend_due(&r, 2 * MS, out, 8), 1);
	assert_true(out[0] == 5 && r.st.fast == 1);
	/* the last but one: the last one's ACK shows it */
	ack_range(&r, 10, 10, 3 * MS);
	assert_int_equal(sc_resend_due(&r, 3 * MS, out, 8), 1);
	assert_true(out[0] == 9 && r.st.fast == 2);
	sc_resend_free(&r);
}

/* Again if lost: an early resend lost too is resent once more when
 * fast_gap requests sent after the resend are acked. */
static void
test_again_if_lost(void **state)
{
	struct sc_resend r;
	uint64_t out[8];

	(void)state;
	init(&r);
	send_range(&r, 1, 100, 0);
	ack_range(&r, 2, 66, 1 * MS);
	assert_int_equal(sc_resend_due(&r, 1 * MS, out, 8), 1);
	assert_true(out[0] == 1);               /* mark: next was 101 */
	send_range(&r, 101, 200, 2 * MS);
	ack_range(&r, 67, 165, 3 * MS);         /* 101 + 64 = 165: not yet */
	assert_int_equal(sc_resend_due(&r, 3 * MS, out, 8), 0);
	ack_range(&r, 166, 166, 4 * MS);
	assert_int_equal(sc_resend_due(&r, 4 * MS, out, 8), 1);
	assert_true(out[0] == 1 && r.st.fast == 2 && r.st.timeouts == 0);
	/* acked at last: no third time */
	ack_range(&r, 1, 1, 5 * MS);
	send_range(&r, 201, 300, 5 * MS);
	ack_range(&r, 167, 300, 6 * MS);
	assert_int_equal(sc_resend_due(&r, 6 * MS, out, 8), 0);
	sc_resend_free(&r);
}

/* Tail probe: the last request lost, nothing later can show it. Two
 * smoothed round trips after the last ACK it is sent again, and again
 * two round trips later; never before the input is all sent. */
static void
test_tail_probe(void **state)
{
	struct sc_resend r;
	uint64_t out[8];

	(void)state;
	init(&r);
	send_range(&r, 1, 20, 0);
	ack_range(&r, 1, 19, 5 * MS);           /* srtt 5 ms */
	assert_true(r.rtt.srtt == 5 * MS);
	assert_int_equal(sc_resend_due(&r, 50 * MS, out, 8), 0);
	sc_resend_input_done(&r);
	assert_true(sc_resend_next_deadline(&r) == 15 * MS);
	assert_int_equal(sc_resend_due(&r, 15 * MS - 1, out, 8), 0);
	assert_int_equal(sc_resend_due(&r, 15 * MS, out, 8), 1);
	assert_true(out[0] == 20 && r.st.probes == 1);
	assert_true(sc_resend_next_deadline(&r) == 25 * MS);
	assert_int_equal(sc_resend_due(&r, 25 * MS, out, 8), 1);
	assert_true(r.st.probes == 2 && r.st.fast == 0);
	/* the timer is still there behind the probes */
	assert_true(r.ring[20].due == 200 * MS);
	ack_range(&r, 20, 20, 26 * MS);
	assert_true(sc_resend_next_deadline(&r) == INT64_MAX);
	sc_resend_free(&r);
}

/* A probe and a timer at the same time: the request goes out once. */
static void
test_probe_and_timer_once(void **state)
{
	struct sc_resend r;
	uint64_t out[8];

	(void)state;
	init(&r);
	send_range(&r, 1, 2, 0);
	sc_resend_input_done(&r);
	ack_range(&r, 1, 1, 10 * MS);           /* probe from 30 ms */
	assert_int_equal(sc_resend_due(&r, 200 * MS, out, 8), 1);
	assert_true(out[0] == 2);
	assert_true(r.st.timeouts == 1 && r.st.probes == 1);
	assert_true(r.st.resent == 1);
	sc_resend_free(&r);
}

/* A probe resends everything outstanding, more than fits one call: the
 * rest comes with the next call at the same time, each once. */
static void
test_probe_in_parts(void **state)
{
	struct sc_resend r;
	uint64_t out[64], seen[41];
	uint32_t n;

	(void)state;
	init(&r);
	memset(seen, 0, sizeof(seen));
	send_range(&r, 1, 41, 0);
	ack_range(&r, 1, 1, 1 * MS);
	sc_resend_input_done(&r);
	n = due_all(&r, 3 * MS, out, 64);       /* 2 srtt = 2 ms */
	assert_int_equal(n, 40);
	for (uint32_t i = 0; i < n; i++)
		seen[out[i] - 1]++;
	for (uint32_t q = 1; q < 41; q++)
		assert_int_equal(seen[q], 1);
	assert_true(r.st.probes == 1);
	sc_resend_free(&r);
}

/* Busy: not taken, sent again after its timeout (not doubled). */
static void
test_busy(void **state)
{
	struct sc_resend r;
	uint64_t out[4];

	(void)state;
	init(&r);
	send_range(&r, 1, 1, 0);
	sc_resend_busy(&r, 1, 50 * MS);
	assert_true(sc_resend_next_deadline(&r) == 250 * MS);
	assert_int_equal(sc_resend_due(&r, 200 * MS, out, 4), 0);
	assert_int_equal(sc_resend_due(&r, 250 * MS, out, 4), 1);
	assert_true(sc_resend_outstanding(&r) == 1);
	sc_resend_free(&r);
}

/* Restart (a new server): everything outstanding at once, timeouts back
 * to the first, backoff forgotten. */
static void
test_restart(void **state)
{
	struct sc_resend r;
	uint64_t out[16];
	uint32_t n;

	(void)state;
	init(&r);
	send_range(&r, 1, 5, 0);
	ack_range(&r, 2, 2, 10 * MS);
	assert_int_equal(due_all(&r, 200 * MS, out, 16), 4);
	assert_int_equal(due_all(&r, 600 * MS, out, 16), 4);  /* 400 ms */
	sc_resend_restart(&r, 700 * MS);
	assert_true(sc_resend_next_deadline(&r) <= 700 * MS);
	n = due_all(&r, 700 * MS, out, 16);
	assert_int_equal(n, 4);
	assert_true(out[0] == 1 && out[1] == 3 && out[2] == 4 &&
	    out[3] == 5);
	/* the first timeout again (srtt 10 ms -> floor 30 ms), not 800 ms */
	assert_true(sc_resend_next_deadline(&r) == 730 * MS);
	assert_true(r.st.restarts == 1);
	sc_resend_free(&r);
}

/* Silence: every outstanding request resent twice with no ACK at all.
 * Any ACK starts it over; so does a restart (its sends do not count). */
static void
test_silence(void **state)
{
	struct sc_resend r;
	uint64_t out[16];

	(void)state;
	init(&r);
	send_range(&r, 1, 3, 0);
	assert_false(sc_resend_silent(&r));
	due_all(&r, 200 * MS, out, 16);         /* once each */
	assert_false(sc_resend_silent(&r));
	due_all(&r, 600 * MS, out, 16);         /* twice each */
	assert_true(sc_resend_silent(&r));
	/* an ACK (even a repeat) is an answer */
	assert_int_equal(sc_resend_acked(&r, 9, 601 * MS, NULL), 0);
	assert_false(sc_resend_silent(&r));
	due_all(&r, 1400 * MS, out, 16);
	assert_false(sc_resend_silent(&r));
	due_all(&r, 2400 * MS, out, 16);
	assert_true(sc_resend_silent(&r));
	sc_resend_restart(&r, 2500 * MS);
	due_all(&r, 2500 * MS, out, 16);        /* restart's sends */
	assert_false(sc_resend_silent(&r));
	due_all(&r, 2700 * MS, out, 16);
	assert_false(sc_resend_silent(&r));
	due_all(&r, 3100 * MS, out, 16);
	assert_true(sc_resend_silent(&r));
	/* a new request is not resent yet: not silent */
	send_range(&r, 4, 4, 3100 * MS);
	assert_false(sc_resend_silent(&r));
	sc_resend_free(&r);
}

/* One request stuck while thousands after it are acked: the table grows,
 * its timer survives the move; span_max bounds it. */
static void
test_grow_and_span(void **state)
{
	struct sc_resend r;
	struct sc_resend_conf c;
	uint64_t out[4];
	uint64_t q;

	(void)state;
	setup_conf(&c);
	c.span_max = 4096;
	c.fast_gap = 1u << 30;                  /* timers only */
	assert_int_equal(sc_resend_init(&r, &c), 0);
	for (q = 1; sc_resend_room(&r); q++) {
		assert_int_equal(sc_resend_sent(&r, q, 0), 0);
		if (q > 1)
			ack_range(&r, q, q, 1 * MS);
	}
	assert_true(q - 1 == 4096);
	assert_int_equal(sc_resend_sent(&r, q, 0), -1);
	assert_int_equal(sc_resend_sent(&r, q + 1, 0), -1);
	assert_true(sc_resend_outstanding(&r) == 1);
	assert_true(sc_resend_next_deadline(&r) == 200 * MS);
	assert_int_equal(sc_resend_due(&r, 200 * MS, out, 4), 1);
	assert_true(out[0] == 1);
	ack_range(&r, 1, 1, 201 * MS);
	assert_true(sc_resend_room(&r));
	assert_int_equal(sc_resend_sent(&r, q, 202 * MS), 0);
	sc_resend_free(&r);
}

/* A simulated client on a lossy path: 20% of requests and of ACKs are
 * lost, ACKs come back after 1-3 ms. Driven only by next_deadline and
 * due, every request must be acked, nothing resent that is not
 * outstanding, and after a call that returned less than max, nothing is
 * due at that time any more (no busy loop). */
enum { SIM_N = 3000, SIM_WINDOW = 64, SIM_EVENTS = 1 << 16 };

struct sim {
	struct sc_resend r;
	struct { int64_t at; uint64_t req; } ev[SIM_EVENTS];  /* ACKs */
	uint32_t nev;
	uint8_t acked[SIM_N + 1];
	uint64_t rng, next, done;
	int64_t now;
};

/* A copy of req goes out: 4 in 5 come back acknowledged, 1-3 ms on. */
static void
sim_send(struct sim *s, uint64_t req)
{
	if (below(&s->rng, 5) != 0 && s->nev < SIM_EVENTS) {
		s->ev[s->nev].at = s->now + 1000 +
		    (int64_t)below(&s->rng, 2000);
		s->ev[s->nev++].req = req;
	}
}

/* New requests while the window allows, then every resend due. */
static void
sim_sends(struct sim *s)
{
	uint64_t out[16];
	uint32_t n = 16;

	while (s->next <= SIM_N &&
	    sc_resend_outstanding(&s->r) < SIM_WINDOW) {
		assert_int_equal(sc_resend_sent(&s->r, s->next, s->now), 0);
		if (s->next == SIM_N)
			sc_resend_input_done(&s->r);
		sim_send(s, s->next++);
	}
	while (n == 16) {
		n = sc_resend_due(&s->r, s->now, out, 16);
		for (uint32_t i = 0; i < n; i++) {
			assert_true(out[i] >= 1 && out[i] < s->next);
			assert_false(s->acked[out[i]]);
			sim_send(s, out[i]);
		}
	}
	assert_true(sc_resend_next_deadline(&s->r) > s->now);
}

/* On to the next event: an ACK arriving (4 in 5 do), or a deadline. */
static void
sim_step(struct sim *s)
{
	int64_t t = sc_resend_next_deadline(&s->r);
	uint32_t first = UINT32_MAX;

	for (uint32_t i = 0; i < s->nev; i++)
		if (s->ev[i].at < t) {
			t = s->ev[i].at;
			first = i;
		}
	assert_true(t != INT64_MAX);
	s->now = t;
	if (first == UINT32_MAX)
		return;
	if (below(&s->rng, 5) != 0 &&
	    sc_resend_acked(&s->r, s->ev[first].req, s->now, NULL)) {
		s->acked[s->ev[first].req] = 1;
		s->done++;
	}
	s->ev[first] = s->ev[--s->nev];
}

static void
test_lossy_simulation(void **state)
{
	struct sim *s = calloc(1, sizeof(*s));

	(void)state;
	assert_non_null(s);
	s->rng = 1234;
	s->next = 1;
	init(&s->r);
	while (s->done < SIM_N) {
		sim_sends(s);
		sim_step(s);
	}
	assert_true(sc_resend_outstanding(&s->r) == 0);
	assert_true(s->r.st.fast > 0 && s->r.st.timeouts > 0);
	assert_true(s->now < 60 * 1000 * MS);
	print_message("  %u requests, 20%% loss each way: %llu resent "
	    "(%llu fast, %llu timers, %llu probes) in %lld simulated ms\n",
	    SIM_N, (unsigned long long)s->r.st.resent,
	    (unsigned long long)s->r.st.fast,
	    (unsigned long long)s->r.st.timeouts,
	    (unsigned long long)s->r.st.probes, (long long)(s->now / MS));
	sc_resend_free(&s->r);
	free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timer_backoff_cap),
		cmocka_unit_test(test_backoff_cap_below_initial),
		cmocka_unit_test(test_adaptive_first_timeout),
		cmocka_unit_test(test_karn),
		cmocka_unit_test(test_fast_resend),
		cmocka_unit_test(test_early_retransmit),
		cmocka_unit_test(test_again_if_lost),
		cmocka_unit_test(test_tail_probe),
		cmocka_unit_test(test_probe_and_timer_once),
		cmocka_unit_test(test_probe_in_parts),
		cmocka_unit_test(test_busy),
		cmocka_unit_test(test_restart),
		cmocka_unit_test(test_silence),
		cmocka_unit_test(test_grow_and_span),
		cmocka_unit_test(test_lossy_simulation),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
