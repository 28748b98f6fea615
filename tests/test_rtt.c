/*
 * test_rtt.c - the round-trip estimator (RFC 6298 arithmetic).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "seqcast/rtt.h"

/* No sample: no timeout. The first sample sets srtt = R, rttvar = R/2. */
static void
test_first_sample(void **state)
{
	struct sc_rtt r = { 0, 0 };

	(void)state;
	assert_true(sc_rtt_rto(&r) == 0);
	sc_rtt_sample(&r, 2000);
	assert_true(r.srtt == 2000 && r.rttvar == 1000);
	assert_true(sc_rtt_rto(&r) == 6000);
}

/* Later samples: rttvar first (from the old srtt), then srtt. */
static void
test_update(void **state)
{
	struct sc_rtt r = { 0, 0 };

	(void)state;
	sc_rtt_sample(&r, 800);                 /* 800, 400 */
	sc_rtt_sample(&r, 1600);                /* d = 800 */
	assert_true(r.rttvar == (3 * 400 + 800) / 4);     /* 500 */
	assert_true(r.srtt == (7 * 800 + 1600) / 8);      /* 900 */
	sc_rtt_sample(&r, 100);                 /* d = 800, below */
	assert_true(r.rttvar == (3 * 500 + 800) / 4);     /* 575 */
	assert_true(r.srtt == (7 * 900 + 100) / 8);       /* 800 */
	assert_true(sc_rtt_rto(&r) == 800 + 4 * 575);
}

/* A steady round trip: srtt converges to it, the deviation to ~0. */
static void
test_converges(void **state)
{
	struct sc_rtt r = { 0, 0 };

	(void)state;
	sc_rtt_sample(&r, 10000);
	for (int i = 0; i < 200; i++)
		sc_rtt_sample(&r, 300);
	assert_true(r.srtt >= 300 && r.srtt <= 310);
	assert_true(r.rttvar <= 10);
}

/* Zero and negative samples count as 1 us: srtt never drops to 0 (which
 * would read as "no sample"). */
static void
test_tiny(void **state)
{
	struct sc_rtt r = { 0, 0 };

	(void)state;
	sc_rtt_sample(&r, 0);
	assert_true(r.srtt == 1 && r.rttvar == 0);
	for (int i = 0; i < 50; i++)
		sc_rtt_sample(&r, -5);
	assert_true(r.srtt == 1);
	assert_true(sc_rtt_rto(&r) >= 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_sample),
		cmocka_unit_test(test_update),
		cmocka_unit_test(test_converges),
		cmocka_unit_test(test_tiny),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
