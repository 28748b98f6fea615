/*
 * test_gap.c - the gap tracker and NACK planner (daemon/gap.c).
 *
 * Ranges are compared after merging adjacent ones: whether [3,4],[5,6] or
 * [3,6] is kept is the tracker's business, which ids are missing is not.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seqcast/gap.h"
#include "testutil.h"

#define DELAY 1000
#define RETRY 10000
#define BOFF_MAX 150000   /* not RETRY * 2^k: the cap cuts a doubling */


static void
conf(struct sc_gap_conf *c, uint64_t seed)
{
	memset(c, 0, sizeof(*c));
	c->delay_max_us = DELAY;
	c->retry_us = RETRY;
	c->backoff_max_us = BOFF_MAX;
	c->max_ranges = 1024;
	c->seed = seed;
}

static int64_t first_due(struct sc_gaps *g, int64_t from, int64_t until,
    int64_t step, struct sc_gap_ask *ask, uint32_t *k);

/* The ranges are sorted, disjoint, non-empty. */
static void
check_sorted(const struct sc_gaps *g)
{
	int ok = 1;

	for (uint32_t i = 0; i < g->n; i++) {
		ok &= g->r[i].first <= g->r[i].last;
		if (i > 0)
			ok &= g->r[i - 1].last < g->r[i].first;
	}
	assert_true(ok);
	if (g->n > 0)
		assert_true(g->r[g->n - 1].last <= sc_gap_known(g));
}

/* Merged ranges of g as "a-b c-d ..." */
static void
merged(const struct sc_gaps *g, char *buf, size_t sz)
{
	size_t off = 0;

	buf[0] = 0;
	check_sorted(g);
	for (uint32_t i = 0; i < g->n;) {
		uint64_t f = g->r[i].first, l = g->r[i].last;

		while (++i < g->n && g->r[i].first == l + 1)
			l = g->r[i].last;
		off += (size_t)snprintf(buf + off, sz - off, "%s%llu-%llu",
		    off ? " " : "", (unsigned long long)f,
		    (unsigned long long)l);
		assert_true(off < sz);
	}
}

static void
expect(const struct sc_gaps *g, const char *want)
{
	char buf[4096];

	merged(g, buf, sizeof buf);
	assert_string_equal(buf, want);
}

/* ------------------------------------------------------------- ranges */

static void
test_ranges_merge_split(void **state)
{
	struct sc_gap_conf c;
	struct sc_gaps g;

	(void)state;
	conf(&c, 1);
	assert_int_equal(sc_gap_init(&g, &c, 0), 0);
	assert_true(sc_gap_known(&g) == 0);
	assert_true(sc_gap_next_due(&g) == INT64_MAX);
	sc_gap_seen(&g, 1, 0);
	sc_gap_seen(&g, 2, 0);
	expect(&g, "");
	assert_true(g.opened == 0);
	sc_gap_seen(&g, 5, 0);
	expect(&g, "3-4");
	assert_true(g.n == 1);
	assert_true(g.opened == 1);
	assert_true(sc_gap_missing(&g) == 2);
	assert_true(sc_gap_known(&g) == 5);
	sc_gap_seen(&g, 10, 0);
	expect(&g, "3-4 6-9");
	assert_true(g.n == 2);
	assert_true(sc_gap_missing(&g) == 6);
	assert_true(sc_gap_known(&g) == 10);
	/* filling the middle splits */
	sc_gap_seen(&g, 7, 0);
	expect(&g, "3-4 6-6 8-9");
	assert_true(sc_gap_missing(&g) == 5);
	/* duplicates of what is not missing change nothing */
	sc_gap_seen(&g, 7, 0);
	sc_gap_seen(&g, 5, 0);
	sc_gap_seen(&g, 1, 0);
	sc_gap_seen(&g, 10, 0);
	expect(&g, "3-4 6-6 8-9");
	assert_true(sc_gap_known(&g) == 10);
	/* filling ends shrinks */
	sc_gap_seen(&g, 3, 0);
	expect(&g, "4-4 6-6 8-9");
	sc_gap_seen(&g, 9, 0);
	expect(&g, "4-4 6-6 8-8");
	assert_true(sc_gap_missing(&g) == 3);
	sc_gap_seen(&g, 6, 0);
	expect(&g, "4-4 8-8");
	sc_gap_seen(&g, 4, 0);
	sc_gap_seen(&g, 8, 0);
	expect(&g, "");
	assert_true(sc_gap_missing(&g) == 0);
	assert_true(sc_gap_known(&g) == 10);
	/* the next in line opens nothing */
	sc_gap_seen(&g, 11, 0);
	expect(&g, "");
	assert_true(sc_gap_known(&g) == 11);
	/* a long gap, filled from both ends and the middle */
	sc_gap_seen(&g, 1000, 0);
	expect(&g, "12-999");
	assert_true(sc_gap_missing(&g) == 988);
	sc_gap_seen(&g, 12, 0);
	sc_gap_seen(&g, 999, 0);
	sc_gap_seen(&g, 500, 0);
	sc_gap_seen(&g, 502, 0);
	expect(&g, "13-499 501-501 503-998");
	assert_true(sc_gap_missing(&g) == 988 - 4);
	sc_gap_free(&g);
}

static void
test_ranges_init_applied(void **state)
{
	struct sc_gap_conf c;
	struct sc_gaps g;

	(void)state;
	conf(&c, 1);
	assert_int_equal(sc_gap_init(&g, &c, 50), 0);
	assert_true(sc_gap_known(&g) == 50);
	sc_gap_seen(&g, 51, 0);
	expect(&g, "");
	sc_gap_seen(&g, 53, 0);
	expect(&g, "52-52");
	sc_gap_head(&g, 60, 0);
	expect(&g, "52-52 54-60");
	sc_gap_free(&g);
}

/* Heads (heartbeats) open tail gaps [known+1, head]. */
static void
test_heads(void **state)
{
	struct sc_gap_conf c;
	struct sc_gaps g;

	(void)state;
	conf(&c, 2);
	assert_int_equal(sc_gap_init(&g, &c, 0), 0);
	sc_gap_head(&g, 0, 0);
	expect(&g, "");
	assert_true(sc_gap_known(&g) == 0);
	sc_gap_seen(&g, 1, 0);
	sc_gap_seen(&g, 2, 0);
	sc_gap_seen(&g, 3, 0);
	sc_gap_head(&g, 3, 0);
	sc_gap_head(&g, 2, 0);
	expect(&g, "");
	assert_true(sc_gap_known(&g) == 3);
	sc_gap_head(&g, 7, 0);
	expect(&g, "4-7");
	assert_true(sc_gap_known(&g) == 7);
	assert_true(sc_gap_missing(&g) == 4);
	sc_gap_head(&g, 9, 0);
	expect(&g, "4-9");
	sc_gap_head(&g, 5, 0);              /* an old heartbeat */
	expect(&g, "4-9");
	assert_true(sc_gap_known(&g) == 9);
	/* the tail arrives */
	sc_gap_seen(&g, 5, 0);
	expect(&g, "4-4 6-9");
	sc_gap_seen(&g, 12, 0);
	expect(&g, "4-4 6-11");
	assert_true(sc_gap_known(&g) == 12);
	sc_gap_seen(&g, 9, 0);
	sc_gap_seen(&g, 10, 0);
	sc_gap_seen(&g, 11, 0);
	expect(&g, "4-4 6-8");
	/* after a NACK for the tail, a higher head still adds its ids */
	{
		struct sc_gap_ask ask[4];

		assert_true(sc_gap_due(&g, 1000000, ask, 4, 0) == 2);
	}
	sc_gap_head(&g, 20, 1000000);
	expect(&g, "4-4 6-8 13-20");
	assert_true(sc_gap_missing(&g) == 1 + 3 + 8);
	sc_gap_free(&g);
}

/* Ids a head announces after the tail range was asked for get their own
 * first ask within delay_max, not the tail range's backoff. */
static void
test_tail_after_nack(void **state)
{
	struct sc_gap_conf c;
	struct sc_gaps g;
	struct sc_gap_ask ask[4];
	int64_t t1;
	uint32_t k;

	(void)state;
	for (uint64_t seed = 1; seed <= 20; seed++) {
		conf(&c, seed);
		assert_int_equal(sc_gap_init(&g, &c, 0), 0);
		sc_gap_head(&g, 10, 0);
		t1 = first_due(&g, 0, DELAY, 1, ask, &k);
		assert_true(t1 <= DELAY);
		assert_true(k == 1 && ask[0].first == 1 && ask[0].last == 10);
		/* [1,10] is next due after about RETRY: well after now */
		sc_gap_head(&g, 20, t1 + 1);
		expect(&g, "1-20");
		assert_true(sc_gap_next_due(&g) <= t1 + 1 + DELAY);
		k = sc_gap_due(&g, t1 + 1 + DELAY, ask, 4, 0);
		assert_int_equal(k, 1);
		assert_true(ask[0].first <= 11 && ask[0].last == 20);
		sc_gap_free(&g);
	}
}

static void
test_applied(void **state)
{
	struct sc_gap_conf c;
	struct sc_gaps g;

	(void)state;
	conf(&c, 3);
	assert_int_equal(sc_gap_init(&g, &c, 0), 0);
	sc_gap_seen(&g, 1, 0);
	sc_gap_seen(&g, 2, 0);
	sc_gap_seen(&g, 5, 0);
	sc_gap_seen(&g, 10, 0);
	sc_gap_seen(&g, 11, 0);
	sc_gap_seen(&g, 13, 0);
	expect(&g, "3-4 6-9 12-12");
	sc_gap_applied(&g, 0);
	expect(&g, "3-4 6-9 12-12");
	sc_gap_applied(&g, 4);
	expect(&g, "6-9 12-12");
	sc_gap_applied(&g, 7);
	expect(&g, "8-9 12-12");
	assert_true(sc_gap_missing(&g) == 3);
	sc_gap_applied(&g, 12);
	expect(&g, "");
	assert_true(sc_gap_known(&g) == 13);
	/* applied beyond everything known moves the known head */
	sc_gap_applied(&g, 20);
	expect(&g, "");
	assert_true(sc_gap_known(&g) == 20);
	sc_gap_seen(&g, 21, 0);
	expect(&g, "");
	sc_gap_seen(&g, 23, 0);
	expect(&g, "22-22");
	assert_true(sc_gap_next_due(&g) <= DELAY);
	sc_gap_applied(&g, 22);
	expect(&g, "");
	assert_true(sc_gap_next_due(&g) == INT64_MAX);
	sc_gap_free(&g);
}

static void
test_forget(void **state)
{
	struct sc_gap_conf c;
	struct sc_gaps g;

	(void)state;
	conf(&c, 4);
	assert_int_equal(sc_gap_init(&g, &c, 0), 0);
	sc_gap_forget(&g, 1, 100);           /* nothing to forget */
	assert_true(g.given_up == 0);
	sc_gap_seen(&g, 1, 0);
	sc_gap_seen(&g, 2, 0);
	sc_gap_seen(&g, 21, 0);
	expect(&g, "3-20");
	sc_gap_forget(&g, 3, 5);              /* the front */
	expect(&g, "6-20");
	assert_true(g.given_up == 3);
	sc_gap_forget(&g, 18, 25);            /* the back, and beyond */
	expect(&g, "6-17");
	assert_true(g.given_up == 6);
	sc_gap_forget(&g, 10, 12);            /* the middle: split */
	expect(&g, "6-9 13-17");
	assert_true(g.given_up == 9);
	assert_true(sc_gap_missing(&g) == 9);
	sc_gap_forget(&g, 1, 2);              /* ids not missing */
	sc_gap_forget(&g, 10, 12);
	expect(&g, "6-9 13-17");
	assert_true(g.given_up == 9);
	/* across ranges */
	sc_gap_seen(&g, 30, 0);
	expect(&g, "6-9 13-17 22-29");
	sc_gap_forget(&g, 8, 14);
	expect(&g, "6-7 15-17 22-29");
	assert_true(g.given_up == 9 + 4);
	sc_gap_forget(&g, 16, 16);
	expect(&g, "6-7 15-15 17-17 22-29");
	sc_gap_forget(&g, 1, 1000);
	expect(&g, "");
	assert_true(g.given_up == 13 + 1 + 2 + 1 + 1 + 8);
	assert_true(sc_gap_known(&g) == 30);
	sc_gap_free(&g);
}

/* Ids given up are not dropped when the table cannot split: given_up must
 * count only ids actually dropped (they are asked for again). */
static void
test_forget_full_table(void **state)
{
	struct sc_gap_conf c;
	struct sc_gaps g;
	uint64_t given_up, dropped;
	uint32_t n;

	(void)state;
	conf(&c, 4);
	c.max_ranges = 2;
	assert_int_equal(sc_gap_init(&g, &c, 0), 0);
	sc_gap_seen(&g, 11, 0);
	sc_gap_seen(&g, 13, 0);
	expect(&g, "1-10 12-12");
	assert_true(g.n == 2);
	/* [1,10] cannot be split in a full table: 4..6 stay in it (and will
	 * be asked for again), so they were not given up */
	sc_gap_forget(&g, 4, 6);
	n = g.n;
	given_up = g.given_up;
	dropped = 10 + 1 - sc_gap_missing(&g);
	sc_gap_free(&g);
	assert_true(n <= 2);
	if (given_up != dropped)
		fail_msg("given_up %llu, but %llu ids were dropped",
		    (unsigned long long)given_up,
		    (unsigned long long)dropped);
}

/* A full table never loses a missing id: it widens instead. */
static void
test_full_table_superset(void **state)
{
	struct sc_gap_conf c;
	struct sc_gaps g;

	(void)state;
	conf(&c, 5);
	c.max_ranges = 3;
	assert_int_equal(sc_gap_init(&g, &c, 0), 0);
	for (uint64_t id = 2; id <= 40; id += 2)
		sc_gap_seen(&g, id, 0);
	assert_true(g.n <= 3);
	for (uint64_t id = 1; id < 40; id += 2) {
		uint32_t i;

		for (i = 0; i < g.n; i++)
			if (g.r[i].first <= id && id <= g.r[i].last)
				break;
		assert_true(i < g.n);
	}
	sc_gap_free(&g);
}

/* -------------------------------------------------------------- timing */

/* Step the clock by `step` from `from` until the tracker asks; the time. */
static int64_t
first_due(struct sc_gaps *g, int64_t from, int64_t until, int64_t step,
    struct sc_gap_ask *ask, uint32_t *k)
{
	for (int64_t t = from; t <= until; t += step) {
		*k = sc_gap_due(g, t, ask, 16, 0);
		if (*k > 0)
			return t;
	}
	return INT64_MAX;
}

/* The first NACK comes in [now, now + delay_max], spread over it. */
static void
test_first_nack_delay(void **state)
{
	struct sc_gap_conf c;
	struct sc_gaps g;
	struct sc_gap_ask ask[16];
	int64_t lo = INT64_MAX, hi = 0, sum = 0;
	const int64_t T = 5000000;
	uint32_t k;
	const int seeds = 300;

	(void)state;
	for (int s = 1; s <= seeds; s++) {
		int64_t t;

		conf(&c, (uint64_t)s * 1000003);
		assert_int_equal(sc_gap_init(&g, &c, 0), 0);
		sc_gap_seen(&g, 1, 0);
		sc_gap_seen(&g, 3, T);
		assert_true(sc_gap_next_due(&g) >= T);
		assert_true(sc_gap_next_due(&g) <= T + DELAY);
		t = first_due(&g, T - 10, T + DELAY + 10, 1, ask, &k);
		assert_true(t >= T);
		assert_true(t <= T + DELAY);
		/* next_due is a lower bound of it */
		assert_int_equal(k, 1);
		assert_true(ask[0].first == 2 && ask[0].last == 2);
		assert_true(g.r[0].tries == 1);
		lo = t - T < lo ? t - T : lo;
		hi = t - T > hi ? t - T : hi;
		sum += t - T;
		sc_gap_free(&g);
	}
	/* random over the whole interval, not a constant */
	assert_true(lo < DELAY / 10);
	assert_true(hi > DELAY - DELAY / 10);
	assert_true(sum / seeds > DELAY * 4 / 10 && sum / seeds < DELAY * 6 / 10);

	/* delay_max 0: at once */
	conf(&c, 9);
	c.delay_max_us = 0;
	assert_int_equal(sc_gap_init(&g, &c, 0), 0);
	sc_gap_seen(&g, 3, T);
	assert_int_equal(sc_gap_due(&g, T - 1, ask, 16, 0), 0);
	assert_int_equal(sc_gap_due(&g, T, ask, 16, 0), 1);
	assert_true(ask[0].first == 1 && ask[0].last == 2);
	sc_gap_free(&g);
}

/* A range filled before its first NACK is suppressed: never asked for. */
static void
test_suppressed(void **state)
{
	struct sc_gap_conf c;
	struct sc_gaps g;
	struct sc_gap_ask ask[16];
	uint32_t k;

	(void)state;
	conf(&c, 6);
	assert_int_equal(sc_gap_init(&g, &c, 0), 0);
	sc_gap_seen(&g, 1, 0);
	sc_gap_seen(&g, 2, 0);
	sc_gap_seen(&g, 5, 100);             /* [3,4] */
	sc_gap_seen(&g, 3, 150);
	assert_true(g.suppressed == 0);      /* half filled: not yet */
	sc_gap_seen(&g, 4, 200);
	expect(&g, "");
	assert_true(g.suppressed == 1);
	assert_true(sc_gap_next_due(&g) == INT64_MAX);
	assert_int_equal(first_due(&g, 0, 2000000, 997, ask, &k), INT64_MAX);

	/* late arrivals filling a range after its due time has passed, but
	 * before anyone asked, still suppress it */
	sc_gap_seen(&g, 7, 3000000);         /* [6,6] */
	sc_gap_seen(&g, 6, 3000000 + 10 * DELAY);
	assert_true(g.suppressed == 2);
	assert_int_equal(sc_gap_due(&g, 4000000, ask, 16, 0), 0);

	/* a range asked for, then filled: not suppressed */
	sc_gap_seen(&g, 9, 5000000);         /* [8,8] */
	assert_true(first_due(&g, 5000000, 5000000 + DELAY, 1, ask, &k) !=
	    INT64_MAX);
	assert_true(ask[0].first == 8 && ask[0].last == 8);
	sc_gap_seen(&g, 8, 5100000);
	expect(&g, "");
	assert_true(g.suppressed == 2);
	assert_int_equal(first_due(&g, 5100000, 9000000, 997, ask, &k),
	    INT64_MAX);

	/* one of two ranges filled in time: only the other is asked for */
	sc_gap_seen(&g, 11, 10000000);       /* [10,10] */
	sc_gap_seen(&g, 13, 10000000);       /* [12,12] */
	sc_gap_seen(&g, 10, 10000000 + 1);
	assert_true(g.suppressed == 3);
	assert_true(first_due(&g, 10000000, 10000000 + DELAY, 1, ask, &k) !=
	    INT64_MAX);
	assert_int_equal(k, 1);
	assert_true(ask[0].first == 12 && ask[0].last == 12);
	sc_gap_free(&g);
}

/* Repeats back off: intervals double (+-25%) up to backoff_max. */
static void
test_backoff(void **state)
{
	struct sc_gap_conf c;
	struct sc_gaps g;
	struct sc_gap_ask ask[16];
	const int64_t step = 100;

	(void)state;
	for (uint64_t seed = 1; seed <= 8; seed++) {
		int64_t t, prev, expect_iv = RETRY;
		int capped = 0, off_center = 0;
		uint32_t k;

		conf(&c, seed * 77);
		assert_int_equal(sc_gap_init(&g, &c, 0), 0);
		sc_gap_seen(&g, 2, 0);
		prev = first_due(&g, 0, DELAY, 1, ask, &k);
		assert_true(prev <= DELAY);
		for (int n = 1; n <= 14; n++) {
			int64_t iv, lo, hi;

			assert_true(sc_gap_next_due(&g) > prev);
			t = first_due(&g, prev + step, prev + 2 * BOFF_MAX,
			    step, ask, &k);
			assert_true(t != INT64_MAX);
			assert_int_equal(k, 1);
			assert_true(ask[0].first == 1 && ask[0].last == 1);
			assert_int_equal(g.r[0].tries, n + 1);
			iv = t - prev;
			lo = expect_iv - expect_iv / 4;
			hi = expect_iv + expect_iv / 4 + step;
			if (iv < lo || iv > hi)
				fail_msg("seed %llu repeat %d: interval %lld "
				    "not in [%lld, %lld]",
				    (unsigned long long)seed, n,
				    (long long)iv, (long long)lo,
				    (long long)hi);
			if (iv < expect_iv - expect_iv / 20 ||
			    iv > expect_iv + expect_iv / 20)
				off_center++;
			if (expect_iv == BOFF_MAX)
				capped++;
			prev = t;
			expect_iv = expect_iv * 2 > BOFF_MAX ? BOFF_MAX :
			    expect_iv * 2;
		}
		assert_true(capped >= 5);
		assert_true(off_center >= 3);    /* jittered */
		sc_gap_free(&g);
	}
}

/* max_span cuts a long range to its first max_span ids. */
static void
test_max_span(void **state)
{
	static const struct { uint64_t span, last; } cases[] = {
		{ 0, 100 }, { 1, 1 }, { 10, 10 }, { 99, 99 }, { 100, 100 },
		{ 101, 100 }, { 1000, 100 },
	};
	struct sc_gap_conf c;
	struct sc_gaps g;
	struct sc_gap_ask ask[4];

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		conf(&c, 7);
		c.delay_max_us = 0;
		assert_int_equal(sc_gap_init(&g, &c, 0), 0);
		sc_gap_head(&g, 100, 0);
		assert_int_equal(sc_gap_due(&g, 0, ask, 4, cases[i].span), 1);
		assert_true(ask[0].first == 1);
		assert_true(ask[0].last == cases[i].last);
		/* the cut is only in the NACK: all 100 still missing */
		expect(&g, "1-100");
		sc_gap_free(&g);
	}
}

/* The max argument limits the asks; the rest come on the next call. */
static void
test_max_asks(void **state)
{
	struct sc_gap_conf c;
	struct sc_gaps g;
	struct sc_gap_ask ask[16];
	const int64_t now = 10 * DELAY;

	(void)state;
	conf(&c, 8);
	assert_int_equal(sc_gap_init(&g, &c, 0), 0);
	for (uint64_t id = 2; id <= 12; id += 2)
		sc_gap_seen(&g, id, 0);
	expect(&g, "1-1 3-3 5-5 7-7 9-9 11-11");
	assert_int_equal(sc_gap_due(&g, now, ask, 0, 0), 0);
	assert_int_equal(sc_gap_due(&g, now, ask, 2, 0), 2);
	assert_true(ask[0].first == 1 && ask[1].first == 3);
	assert_true(sc_gap_next_due(&g) <= now);     /* 4 still due */
	assert_int_equal(sc_gap_due(&g, now, ask, 3, 0), 3);
	assert_true(ask[0].first == 5 && ask[1].first == 7 &&
	    ask[2].first == 9);
	assert_int_equal(sc_gap_due(&g, now, ask, 16, 0), 1);
	assert_true(ask[0].first == 11 && ask[0].last == 11);
	assert_int_equal(sc_gap_due(&g, now, ask, 16, 0), 0);
	assert_true(sc_gap_next_due(&g) > now);
	for (uint32_t i = 0; i < g.n; i++)
		assert_int_equal(g.r[i].tries, 1);
	sc_gap_free(&g);
}

/* An entry of a range already asked for (a retransmission coming in)
 * brings the next ask for the rest forward to within retry_us. */
static void
test_progress(void **state)
{
	struct sc_gap_conf c;
	struct sc_gaps g;
	struct sc_gap_ask ask[16];
	int64_t t = 0;
	uint32_t k;

	(void)state;
	conf(&c, 10);
	c.delay_max_us = 0;
	assert_int_equal(sc_gap_init(&g, &c, 0), 0);
	sc_gap_seen(&g, 11, 0);              /* [1,10] */
	for (int n = 0; n < 8; n++) {
		t = first_due(&g, t, t + 2 * BOFF_MAX, 10, ask, &k);
		assert_true(t != INT64_MAX);
	}
	/* backed off to about BOFF_MAX now */
	assert_true(g.r[0].due - t >= BOFF_MAX - BOFF_MAX / 4);
	sc_gap_seen(&g, 5, t + 10);
	expect(&g, "1-4 6-10");
	assert_true(sc_gap_next_due(&g) <= t + 10 + RETRY);
	k = sc_gap_due(&g, t + 10 + RETRY, ask, 16, 0);
	assert_int_equal(k, 2);
	sc_gap_free(&g);
}

/* Once a NACK's answer is timed (a range asked for once), the repeat
 * interval follows it: srtt + 4 x rttvar, within [retry_min, backoff_max];
 * an answer to a range asked twice is not timed (Karn). */
static void
test_repair_timer(void **state)
{
	struct sc_gap_conf c;
	struct sc_gaps g;
	struct sc_gap_ask ask[16];
	int64_t t;

	(void)state;
	conf(&c, 21);
	c.delay_max_us = 0;
	c.retry_min_us = 500;
	assert_int_equal(sc_gap_init(&g, &c, 0), 0);
	sc_gap_seen(&g, 11, 0);                      /* [1,10] */
	assert_int_equal(sc_gap_due(&g, 0, ask, 16, 0), 1);
	/* no measurement yet: the first repeat after about RETRY */
	assert_true(g.r[0].due >= RETRY - RETRY / 4);
	sc_gap_seen(&g, 1, 2000);                    /* answered in 2 ms */
	assert_true(g.repair.srtt == 2000 && g.repair.rttvar == 1000);
	assert_true(g.rtt_samples == 1);
	/* the rest of the range is now asked again within 6 ms, not 10 */
	assert_true(g.r[0].due <= 2000 + 6000);
	/* a second answer from the same NACK is not a new sample */
	sc_gap_seen(&g, 2, 2500);
	assert_true(g.rtt_samples == 1);
	/* a new gap, asked once: repeated after 6 ms +-25% */
	sc_gap_seen(&g, 21, 3000);                   /* [12,20] */
	t = 3000;
	assert_true(sc_gap_due(&g, t, ask, 16, 0) >= 1);
	for (uint32_t i = 0; i < g.n; i++)
		if (g.r[i].first == 12) {
			assert_true(g.r[i].due >= t + 4500);
			assert_true(g.r[i].due <= t + 7500);
		}
	/* asked twice, then answered: not timed */
	for (uint32_t i = 0; i < g.n; i++)
		if (g.r[i].first == 12) {
			t = g.r[i].due;
			assert_true(sc_gap_due(&g, t, ask, 16, 0) >= 1);
			assert_int_equal(g.r[i].tries, 2);
		}
	sc_gap_seen(&g, 12, t + 50);
	assert_true(g.rtt_samples == 1);
	/* quick answers: the interval never goes below retry_min */
	for (uint64_t id = 100; id < 4000; id += 10) {
		sc_gap_seen(&g, id + 5, t);
		assert_true(sc_gap_due(&g, t, ask, 16, 0) >= 1);
		sc_gap_seen(&g, id + 1, t + 10);
		sc_gap_applied(&g, id + 5);
		t += 100;
	}
	assert_true(g.repair.srtt < 100);
	sc_gap_seen(&g, 5000, t);
	assert_int_equal(sc_gap_due(&g, t, ask, 16, 0), 1);
	assert_true(g.r[g.n - 1].due >= t + 500 - 500 / 4);
	sc_gap_free(&g);
}

/* The coordinator answers NACKs in order: an answer to a later NACK
 * while a range of an earlier one is still missing means the earlier
 * answer was lost: that range is asked again at once. Ranges of the same
 * NACK, or of a later one, are left to their timers. */
static void
test_hurry(void **state)
{
	struct sc_gap_conf c;
	struct sc_gaps g;
	struct sc_gap_ask ask[16];

	(void)state;
	conf(&c, 22);
	c.delay_max_us = 0;
	assert_int_equal(sc_gap_init(&g, &c, 0), 0);
	sc_gap_seen(&g, 2, 0);                      /* A = [1,1] */
	assert_int_equal(sc_gap_due(&g, 0, ask, 16, 0), 1);  /* NACK 1 */
	sc_gap_seen(&g, 4, 100);                    /* B = [3,3] */
	sc_gap_seen(&g, 6, 100);                    /* C = [5,5] */
	assert_int_equal(sc_gap_due(&g, 100, ask, 16, 0), 2); /* NACK 2 */
	sc_gap_seen(&g, 8, 200);                    /* D = [7,7] */
	assert_int_equal(sc_gap_due(&g, 200, ask, 16, 0), 1); /* NACK 3 */
	expect(&g, "1-1 3-3 5-5 7-7");
	/* B's answer comes: C (same NACK) and D (later) wait, A is due */
	sc_gap_seen(&g, 3, 500);
	expect(&g, "1-1 5-5 7-7");
	assert_true(sc_gap_next_due(&g) <= 500);
	assert_int_equal(sc_gap_due(&g, 500, ask, 16, 0), 1);
	assert_true(ask[0].first == 1 && ask[0].last == 1);
	assert_true(g.hurries == 1);
	/* D's answer comes (NACK 3): C of NACK 2 was lost too */
	sc_gap_seen(&g, 7, 600);
	assert_int_equal(sc_gap_due(&g, 600, ask, 16, 0), 1);
	assert_true(ask[0].first == 5 && ask[0].last == 5);
	/* A (asked again at 500, after NACK 3) is not hurried by it */
	assert_true(g.hurries == 2);
	assert_int_equal(sc_gap_due(&g, 600, ask, 16, 0), 0);
	/* answers in order hurry nothing */
	sc_gap_seen(&g, 1, 700);
	sc_gap_seen(&g, 5, 800);
	expect(&g, "");
	assert_true(g.hurries == 2);

	/* an answer to a range asked twice may belong to either NACK: it
	 * hurries nothing (Karn) */
	sc_gap_free(&g);
	assert_int_equal(sc_gap_init(&g, &c, 0), 0);  /* no srtt yet */
	sc_gap_seen(&g, 3, 0);                      /* E = [1,2] */
	assert_int_equal(sc_gap_due(&g, 0, ask, 16, 0), 1);
	sc_gap_seen(&g, 5, 100);                    /* F = [4,4] */
	assert_int_equal(sc_gap_due(&g, 100, ask, 16, 0), 1);
	/* half of E's answer: timed (200 us), the rest asked again soon */
	sc_gap_seen(&g, 2, 200);
	assert_true(g.repair.srtt == 200 && g.r[0].due <= 200 + 600);
	assert_int_equal(sc_gap_due(&g, 800, ask, 1, 0), 1);
	assert_true(ask[0].first == 1 && g.r[0].tries == 2);
	/* the rest comes: from the first NACK or the second? F, asked
	 * between them, is left to its timer */
	sc_gap_seen(&g, 1, 810);
	expect(&g, "4-4");
	assert_true(g.hurries == 0);
	assert_true(g.r[0].due > 810 + 5000);
	sc_gap_free(&g);
}

/* A head learnt from a retransmission (sc_gap_hint) may run ahead of DATA
 * still on its way: those ids are asked for only after the repair
 * interval, and not at all if the DATA comes meanwhile. A heartbeat's
 * head (sc_gap_head) is asked for after the usual short delay. */
static void
test_hint(void **state)
{
	struct sc_gap_conf c;
	struct sc_gaps g;
	struct sc_gap_ask ask[16];

	(void)state;
	conf(&c, 23);
	c.delay_max_us = 0;
	assert_int_equal(sc_gap_init(&g, &c, 0), 0);
	sc_gap_seen(&g, 1, 0);
	sc_gap_hint(&g, 10, 0);
	expect(&g, "2-10");
	assert_int_equal(sc_gap_due(&g, RETRY - RETRY / 4 - 1, ask, 16, 0), 0);
	/* the DATA comes: nothing is ever asked for */
	for (uint64_t id = 2; id <= 10; id++)
		sc_gap_seen(&g, id, 100);
	expect(&g, "");
	assert_true(g.suppressed == 1);
	/* not coming: asked for once the interval has passed */
	sc_gap_hint(&g, 20, 1000);
	assert_int_equal(sc_gap_due(&g, 1000 + RETRY, ask, 16, 0), 1);
	assert_true(ask[0].first == 11 && ask[0].last == 20);
	sc_gap_applied(&g, 20);
	/* a heartbeat's head: asked for at once (delay_max 0 here) */
	sc_gap_head(&g, 30, 50000);
	assert_int_equal(sc_gap_due(&g, 50000, ask, 16, 0), 1);
	assert_true(ask[0].first == 21 && ask[0].last == 30);
	sc_gap_free(&g);
}

/* DATA comes in id order: once a DATA beyond a hinted range arrives, what
 * is still missing of that range was lost and is asked for after the
 * usual delay; a DATA inside it only settles what lies below it. */
static void
test_hint_passed(void **state)
{
	struct sc_gap_conf c;
	struct sc_gaps g;
	struct sc_gap_ask ask[16];

	(void)state;
	conf(&c, 29);
	c.delay_max_us = 0;
	assert_int_equal(sc_gap_init(&g, &c, 0), 0);
	sc_gap_seen(&g, 1, 0);
	sc_gap_hint(&g, 20, 0);
	expect(&g, "2-20");
	assert_int_equal(g.nhinted, 1);
	/* DATA 2..5 arrive, 6 is lost, 7..9 arrive */
	for (uint64_t id = 2; id <= 9; id++)
		if (id != 6)
			sc_gap_seen(&g, id, 100);
	sc_gap_passed(&g, 2, 100);
	assert_int_equal(sc_gap_due(&g, 100, ask, 16, 0), 0);
	sc_gap_passed(&g, 7, 100);
	expect(&g, "6-6 10-20");
	assert_true(g.passed == 1);
	/* 6 is due at once; 10-20 may still be on their way */
	assert_int_equal(sc_gap_due(&g, 100, ask, 16, 0), 1);
	assert_true(ask[0].first == 6 && ask[0].last == 6);
	assert_int_equal(sc_gap_due(&g, 200, ask, 16, 0), 0);
	/* a DATA beyond the whole range: the rest was lost too */
	sc_gap_seen(&g, 21, 300);
	sc_gap_passed(&g, 21, 300);
	assert_int_equal(g.nhinted, 0);
	assert_int_equal(sc_gap_due(&g, 300, ask, 16, 0), 1);
	assert_true(ask[0].first == 10 && ask[0].last == 20);
	/* a range asked for is no longer hinted; passing it changes
	 * nothing (its repeat follows the repair timer) */
	sc_gap_applied(&g, 21);
	sc_gap_hint(&g, 30, 400);
	assert_int_equal(sc_gap_due(&g, 400 + RETRY, ask, 16, 0), 1);
	assert_true(ask[0].first == 22 && ask[0].last == 30);
	assert_int_equal(g.nhinted, 0);
	sc_gap_passed(&g, 31, 400 + RETRY);
	assert_int_equal(sc_gap_due(&g, 400 + RETRY, ask, 16, 0), 0);
	assert_true(g.passed == 2);
	sc_gap_free(&g);
}

/* ------------------------------------------------ randomized vs model */

#define MAXID 200000

struct model {
	uint8_t *miss;
	uint64_t known;
	uint64_t applied;
};

static void
model_span(struct model *m, uint64_t f, uint64_t l, uint8_t v)
{
	for (uint64_t i = f; i <= l; i++)
		m->miss[i] = v;
}

/* Model ranges as "a-b ..." over (applied, known]. */
static void
model_str(const struct model *m, char *buf, size_t sz)
{
	size_t off = 0;
	uint64_t i = m->applied + 1;

	buf[0] = 0;
	while (i <= m->known) {
		uint64_t f;

		if (!m->miss[i]) {
			i++;
			continue;
		}
		f = i;
		while (i + 1 <= m->known && m->miss[i + 1])
			i++;
		off += (size_t)snprintf(buf + off, sz - off, "%s%llu-%llu",
		    off ? " " : "", (unsigned long long)f,
		    (unsigned long long)i);
		assert_true(off < sz);
		i++;
	}
}

/* Do the merged ranges of g equal the model's missing runs? */
static int
model_equal(const struct sc_gaps *g, const struct model *m)
{
	uint64_t id = m->applied + 1;
	uint32_t i = 0;

	for (;;) {
		uint64_t f, l;

		while (id <= m->known && !m->miss[id])
			id++;
		if (id > m->known)
			return i == g->n;
		if (i == g->n)
			return 0;
		f = g->r[i].first;
		l = g->r[i].last;
		while (++i < g->n && g->r[i].first == l + 1)
			l = g->r[i].last;
		if (f != id)
			return 0;
		while (id <= m->known && m->miss[id])
			id++;
		if (l != id - 1)
			return 0;
	}
}

/*
 * Random arrivals, heads, applied, forgets and due calls with a clock the
 * test controls. With an unbounded table the ranges are exactly the
 * model's missing ids; with a small one a superset of them. Always:
 * sorted, disjoint, next_due never later than a real due.
 */
static void
run_random(uint64_t seed, uint32_t max_ranges, int steps)
{
	struct sc_gap_conf c;
	struct sc_gaps g;
	struct model m;
	struct sc_gap_ask ask[16];
	static char b1[1 << 16], b2[1 << 16];
	uint64_t rng = seed;
	int64_t now = 1000;
	uint64_t asks = 0;
	int exact = max_ranges >= 100000;

	m.miss = calloc(MAXID + 1, 1);
	assert_non_null(m.miss);
	m.known = 0;
	m.applied = 0;
	conf(&c, seed);
	c.max_ranges = max_ranges;
	assert_int_equal(sc_gap_init(&g, &c, 0), 0);
	for (int s = 0; s < steps; s++) {
		uint64_t r = below(&rng, 100);

		now += (int64_t)below(&rng, 3000);
		if (m.known + 100 >= MAXID)
			break;
		if (r < 50) {
			uint64_t id = m.applied + 1 +
			    below(&rng, m.known - m.applied + 12);

			sc_gap_seen(&g, id, now);
			/* as if it came by DATA: settles hinted ranges below */
			if (below(&rng, 2) == 0)
				sc_gap_passed(&g, id, now);
			if (id > m.known) {
				model_span(&m, m.known + 1, id - 1, 1);
				m.known = id;
			}
			m.miss[id] = 0;
		} else if (r < 56) {
			uint64_t h = m.known + below(&rng, 30);

			if (below(&rng, 4) == 0 && m.known > 10)
				h = m.known - below(&rng, 10);
			if (below(&rng, 2) == 0)
				sc_gap_head(&g, h, now);
			else
				sc_gap_hint(&g, h, now);
			if (h > m.known) {
				model_span(&m, m.known + 1, h, 1);
				m.known = h;
			}
		} else if (r < 62) {
			uint64_t a = m.applied;

			/* the lowest missing id - 1, or a jump */
			while (a < m.known && !m.miss[a + 1])
				a++;
			if (below(&rng, 4) == 0)
				a += below(&rng, 20);
			if (m.known > m.applied + 600)
				a = m.known - 300;
			sc_gap_applied(&g, a);
			if (a > m.applied)
				model_span(&m, m.applied + 1, a, 0);
			m.applied = a;
			if (a > m.known)
				m.known = a;
		} else if (r < 65) {
			uint64_t f = m.applied + 1 +
			    below(&rng, m.known - m.applied + 5);
			uint64_t l = f + below(&rng, 15);

			uint64_t miss0 = sc_gap_missing(&g), gu = g.given_up;

			sc_gap_forget(&g, f, l);
			model_span(&m, f, l, 0);
			/* given_up counts exactly the ids dropped */
			if (exact)
				assert_true(g.given_up - gu ==
				    miss0 - sc_gap_missing(&g));
		} else {
			uint32_t max = 1 + (uint32_t)below(&rng, 8);
			uint64_t span = below(&rng, 12);
			int64_t nd = sc_gap_next_due(&g);
			uint32_t due_n = 0, k, j = 0;
			static struct sc_gap_range before[8192];

			for (uint32_t i = 0; i < g.n; i++)
				due_n += g.r[i].due <= now;
			assert_true(g.n <= 8192);
			memcpy(before, g.r, g.n * sizeof(*g.r));
			k = sc_gap_due(&g, now, ask, max, span);
			assert_int_equal(k, due_n < max ? due_n : max);
			asks += k;
			/* never later than a real due */
			if (k > 0)
				assert_true(nd <= now);
			/* the asks are the first due ranges, cut to span */
			for (uint32_t i = 0; i < g.n && j < k; i++) {
				if (before[i].due > now)
					continue;
				assert_true(ask[j].first == before[i].first);
				if (span > 0 &&
				    before[i].last - before[i].first >= span)
					assert_true(ask[j].last ==
					    before[i].first + span - 1);
				else
					assert_true(ask[j].last ==
					    before[i].last);
				assert_true(g.r[i].due > now);
				assert_true(g.r[i].tries == before[i].tries + 1);
				j++;
			}
			assert_int_equal(j, k);
		}
		check_sorted(&g);
		assert_true(sc_gap_known(&g) == m.known);
		/* nhinted counts the hinted ranges, none of them asked yet */
		{
			uint32_t h = 0;

			for (uint32_t i = 0; i < g.n; i++) {
				h += g.r[i].hinted;
				if (g.r[i].hinted)
					assert_true(g.r[i].tries == 0);
			}
			assert_int_equal(h, g.nhinted);
		}
		/* next_due is a lower bound of every due */
		if (g.n == 0)
			assert_true(sc_gap_next_due(&g) == INT64_MAX);
		{
			int64_t lowest = INT64_MAX;

			for (uint32_t i = 0; i < g.n; i++)
				if (g.r[i].due < lowest)
					lowest = g.r[i].due;
			assert_true(sc_gap_next_due(&g) <= lowest);
		}
		if (exact && !model_equal(&g, &m)) {
			merged(&g, b1, sizeof b1);
			model_str(&m, b2, sizeof b2);
			fail_msg("step %d: tracker [%s] model [%s]", s, b1, b2);
		} else if (!exact) {
			uint32_t i = 0;
			int ok = 1;

			/* every missing id is inside a range (sorted scan) */
			for (uint64_t id = m.applied + 1; id <= m.known; id++) {
				if (!m.miss[id])
					continue;
				while (i < g.n && g.r[i].last < id)
					i++;
				ok &= i < g.n && g.r[i].first <= id;
			}
			assert_true(ok);
			assert_true(g.n <= max_ranges);
		}
	}
	assert_true(asks > 100);
	sc_gap_free(&g);
	free(m.miss);
}

static void
test_random_exact(void **state)
{
	(void)state;
	for (uint64_t seed = 1; seed <= 6; seed++)
		run_random(seed, 1000000, 15000);
}

static void
test_random_small_table(void **state)
{
	static const uint32_t caps[] = { 2, 3, 5, 16 };

	(void)state;
	for (size_t i = 0; i < sizeof caps / sizeof caps[0]; i++)
		for (uint64_t seed = 1; seed <= 3; seed++)
			run_random(seed * 31 + i, caps[i], 10000);
}

/* ---------------------------------------------------------- determinism */

/* The same seed and the same inputs give the same schedule; another seed
 * gives another one. */
static int
schedule_equal(uint64_t seed_a, uint64_t seed_b)
{
	struct sc_gap_conf c;
	struct sc_gaps a, b;
	struct sc_gap_ask qa[16], qb[16];
	uint64_t rng = 12345, next = 1;
	int64_t now = 0;
	int same = 1;

	conf(&c, seed_a);
	assert_int_equal(sc_gap_init(&a, &c, 0), 0);
	conf(&c, seed_b);
	assert_int_equal(sc_gap_init(&b, &c, 0), 0);
	for (int s = 0; s < 5000; s++) {
		uint64_t r = below(&rng, 10);
		uint32_t ka, kb;

		now += (int64_t)below(&rng, 2000);
		if (r < 5) {
			uint64_t id = next + below(&rng, 4);

			if (below(&rng, 3) == 0 && next > 20)
				id = next - 1 - below(&rng, 20);
			sc_gap_seen(&a, id, now);
			sc_gap_seen(&b, id, now);
			if (id >= next)
				next = id + 1;
		} else {
			ka = sc_gap_due(&a, now, qa, 16, 8);
			kb = sc_gap_due(&b, now, qb, 16, 8);
			if (ka != kb)
				same = 0;
			for (uint32_t i = 0; same && i < ka; i++)
				if (qa[i].first != qb[i].first ||
				    qa[i].last != qb[i].last)
					same = 0;
		}
		if (sc_gap_next_due(&a) != sc_gap_next_due(&b) || a.n != b.n)
			same = 0;
		for (uint32_t i = 0; same && i < a.n; i++)
			if (a.r[i].first != b.r[i].first ||
			    a.r[i].last != b.r[i].last ||
			    a.r[i].due != b.r[i].due ||
			    a.r[i].tries != b.r[i].tries)
				same = 0;
	}
	sc_gap_free(&a);
	sc_gap_free(&b);
	return same;
}

static void
test_determinism(void **state)
{
	(void)state;
	assert_true(schedule_equal(1, 1));
	assert_true(schedule_equal(0xdeadbeef, 0xdeadbeef));
	assert_true(schedule_equal(0, 0));
	assert_false(schedule_equal(1, 2));
	assert_false(schedule_equal(0xdeadbeef, 0xdeadbef0));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ranges_merge_split),
		cmocka_unit_test(test_ranges_init_applied),
		cmocka_unit_test(test_heads),
		cmocka_unit_test(test_tail_after_nack),
		cmocka_unit_test(test_applied),
		cmocka_unit_test(test_forget),
		cmocka_unit_test(test_forget_full_table),
		cmocka_unit_test(test_full_table_superset),
		cmocka_unit_test(test_first_nack_delay),
		cmocka_unit_test(test_suppressed),
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_max_span),
		cmocka_unit_test(test_max_asks),
		cmocka_unit_test(test_progress),
		cmocka_unit_test(test_repair_timer),
		cmocka_unit_test(test_hurry),
		cmocka_unit_test(test_hint),
		cmocka_unit_test(test_hint_passed),
		cmocka_unit_test(test_random_exact),
		cmocka_unit_test(test_random_small_table),
		cmocka_unit_test(test_determinism),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
