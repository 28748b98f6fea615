/*
 * test_retx.c - retransmission routing and stability (daemon/retx.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "seqcast/retx.h"
#include "testutil.h"

static void
put_upto(struct sc_retx *r, uint64_t last)
{
	for (uint64_t id = r->high + 1; id <= last; id++)
		assert_int_equal(sc_retx_put(r, id), 0);
}

/* Puts must be contiguous; a truncation takes the head back. */
static void
test_put_contiguous(void **state)
{
	struct sc_retx r;

	(void)state;
	assert_int_equal(sc_retx_init(&r, 3, 0), 0);
	assert_int_equal(sc_retx_put(&r, 2), -1);
	put_upto(&r, 3);
	assert_int_equal(sc_retx_put(&r, 3), -1);
	assert_true(r.high == 3 && r.low == 1);
	sc_retx_truncate(&r, 1);
	assert_true(r.high == 1);
	assert_int_equal(sc_retx_put(&r, 3), -1);
	assert_int_equal(sc_retx_put(&r, 2), 0);
	sc_retx_free(&r);
	/* a store that starts after a log */
	assert_int_equal(sc_retx_init(&r, 3, 99), 0);
	assert_true(r.low == 100 && r.high == 99);
	assert_int_equal(sc_retx_put(&r, 1), -1);
	assert_int_equal(sc_retx_put(&r, 100), 0);
	sc_retx_free(&r);
}

/* Stable is the lowest applied id reported; reports only grow, are
 * clamped to what was stamped, and unknown servers are ignored. */
static void
test_stability(void **state)
{
	struct sc_retx r;

	(void)state;
	assert_int_equal(sc_retx_init(&r, 3, 0), 0);
	put_upto(&r, 100);
	sc_retx_report(&r, 0, 50);
	sc_retx_report(&r, 1, 60);
	assert_true(r.stable == 0 && r.low == 1);
	sc_retx_report(&r, 2, 40);
	assert_true(r.stable == 40 && r.low == 41);
	sc_retx_report(&r, 2, 10);          /* late report: ignored */
	assert_true(r.stable == 40);
	sc_retx_report(&r, 2, 1000);        /* clamped to 100 */
	assert_true(r.applied[2] == 100);
	sc_retx_report(&r, 3, 100);
	sc_retx_report(&r, 1000, 100);
	assert_true(r.stable == 50);
	sc_retx_report(&r, 0, 100);
	sc_retx_report(&r, 1, 100);
	assert_true(r.stable == 100 && r.low == 101);
	/* a truncation below what was reported takes it back too */
	sc_retx_truncate(&r, 80);
	assert_true(r.stable == 80 && r.high == 80 && r.low == 81);
	put_upto(&r, 90);
	sc_retx_free(&r);
}

/* 250k puts with a server that stalls: routing state is kept for at most
 * SC_RETX_SLOTS_MAX ids, the newest; stable follows the reports. */
static void
test_ring_bounded(void **state)
{
	struct sc_retx r;
	uint64_t rng = 4242, applied[3] = { 0, 0, 0 };

	(void)state;
	assert_int_equal(sc_retx_init(&r, 3, 0), 0);
	for (uint64_t id = 1; id <= 250000; id++) {
		assert_int_equal(sc_retx_put(&r, id), 0);
		for (uint32_t sv = 0; sv < 3; sv++) {
			int stalled = sv == 2 && (id / 100000) % 2 == 0;
			uint64_t st;

			if (stalled || below(&rng, 8) != 0)
				continue;
			applied[sv] += below(&rng, id - applied[sv] + 1);
			sc_retx_report(&r, sv, applied[sv]);
			st = applied[0] < applied[1] ? applied[0] : applied[1];
			st = applied[2] < st ? applied[2] : st;
			assert_true(r.stable == st);
		}
		assert_true(r.high - r.low + 1 <= SC_RETX_SLOTS_MAX);
		assert_true(r.low >= r.stable + 1);
		assert_true(r.slots <= SC_RETX_SLOTS_MAX);
	}
	assert_true(r.dropped > 0);
	sc_retx_free(&r);
}

/* Retransmission routing for one id. */
static void
test_route(void **state)
{
	struct sc_retx r;
	const int64_t W = 1000;

	(void)state;
	assert_int_equal(sc_retx_init(&r, 4, 0), 0);
	put_upto(&r, 3);
	/* ids without state: unicast */
	assert_int_equal(sc_retx_route(&r, 0, 1, 0, W), SC_ROUTE_UNICAST);
	assert_int_equal(sc_retx_route(&r, 4, 1, 0, W), SC_ROUTE_UNICAST);
	assert_int_equal(sc_retx_route(&r, 4, 2, 1, W), SC_ROUTE_UNICAST);
	/* first asker: unicast; the same asker again: unicast */
	assert_int_equal(sc_retx_route(&r, 1, 1, 10000, W), SC_ROUTE_UNICAST);
	assert_int_equal(sc_retx_route(&r, 1, 1, 10100, W), SC_ROUTE_UNICAST);
	assert_int_equal(sc_retx_route(&r, 1, 1, 10200, W), SC_ROUTE_UNICAST);
	/* a second asker within the window: the loss is shared */
	assert_int_equal(sc_retx_route(&r, 1, 2, 10300, W),
	    SC_ROUTE_MULTICAST);
	/* within the window after the multicast: a third asker is skipped
	 * (the multicast serves it), one of the two that caused it asks
	 * again only if it lost that copy: unicast */
	assert_int_equal(sc_retx_route(&r, 1, 3, 10400, W), SC_ROUTE_SKIP);
	assert_int_equal(sc_retx_route(&r, 1, 0, 10450, W), SC_ROUTE_SKIP);
	assert_int_equal(sc_retx_route(&r, 1, 1, 10500, W), SC_ROUTE_UNICAST);
	assert_int_equal(sc_retx_route(&r, 1, 2, 10300 + W - 1, W),
	    SC_ROUTE_UNICAST);
	assert_int_equal(sc_retx_route(&r, 1, 3, 10300 + W - 1, W),
	    SC_ROUTE_SKIP);
	/* the window has passed: unicast again */
	assert_int_equal(sc_retx_route(&r, 1, 3, 10300 + W, W),
	    SC_ROUTE_UNICAST);
	assert_int_equal(sc_retx_route(&r, 1, 3, 10300 + W + 1, W),
	    SC_ROUTE_UNICAST);
	/* and a second asker soon after: multicast again */
	assert_int_equal(sc_retx_route(&r, 1, 0, 10300 + W + 2, W),
	    SC_ROUTE_MULTICAST);
	/* a second asker after the window of the first: unicast */
	assert_int_equal(sc_retx_route(&r, 2, 1, 0, W), SC_ROUTE_UNICAST);
	assert_int_equal(sc_retx_route(&r, 2, 2, W, W), SC_ROUTE_UNICAST);
	assert_int_equal(sc_retx_route(&r, 2, 1, W + 10, W),
	    SC_ROUTE_MULTICAST);
	/* routing state is per id */
	assert_int_equal(sc_retx_route(&r, 3, 2, 10300, W), SC_ROUTE_UNICAST);
	assert_int_equal(sc_retx_route(&r, 3, 3, 10301, W),
	    SC_ROUTE_MULTICAST);
	/* stable ids lose their state: unicast */
	for (uint32_t sv = 0; sv < 4; sv++)
		sc_retx_report(&r, sv, 3);
	assert_int_equal(sc_retx_route(&r, 1, 1, 10302, W), SC_ROUTE_UNICAST);
	assert_int_equal(sc_retx_route(&r, 1, 2, 10303, W), SC_ROUTE_UNICAST);
	/* a new id in a reused slot starts with a clean history */
	put_upto(&r, 1025);
	assert_int_equal(sc_retx_route(&r, 1025, 3, 10304, W),
	    SC_ROUTE_UNICAST);
	sc_retx_free(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_put_contiguous),
		cmocka_unit_test(test_stability),
		cmocka_unit_test(test_ring_bounded),
		cmocka_unit_test(test_route),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
