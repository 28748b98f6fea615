/*
 * test_bucket.c - the token bucket, with time passed in.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "seqcast/bucket.h"

/* Full at the start: burst takes succeed at once, the next does not. */
static void
test_burst(void **state)
{
	struct sc_bucket b;
	int taken = 0;

	(void)state;
	sc_bucket_init(&b, 1000, 5, 5, 0);
	while (sc_bucket_take(&b, 0))
		taken++;
	assert_int_equal(taken, 5);
	/* a token every 1000 us */
	assert_true(sc_bucket_wait(&b, 0) == 1000);
	assert_true(sc_bucket_wait(&b, 600) == 400);
	assert_false(sc_bucket_take(&b, 999));
	assert_true(sc_bucket_take(&b, 1000));
	assert_false(sc_bucket_take(&b, 1000));
}

/* Over a long run the rate holds: 100 tokens/s for 10 s gives about
 * 1000 takes (plus the burst), however often it is asked. */
static void
test_rate(void **state)
{
	struct sc_bucket b;
	int taken = 0;

	(void)state;
	sc_bucket_init(&b, 100, 2, 0, 0);
	for (int64_t t = 0; t <= 10000000; t += 777)
		taken += sc_bucket_take(&b, t);
	assert_in_range(taken, 999, 1001);
}

/* An idle bucket saves up at most burst. */
static void
test_cap(void **state)
{
	struct sc_bucket b;
	int taken = 0;

	(void)state;
	sc_bucket_init(&b, 10, 3, 0, 0);
	while (sc_bucket_take(&b, 3600000000LL))
		taken++;
	assert_int_equal(taken, 3);
	/* initial tokens above the burst are cut to it */
	sc_bucket_init(&b, 10, 2, 50, 0);
	assert_true(b.tokens == 2);
}

/* Rate 0: no limit. A time going backwards adds nothing. */
static void
test_unlimited_and_backwards(void **state)
{
	struct sc_bucket b;

	(void)state;
	sc_bucket_init(&b, 0, 1, 0, 0);
	for (int i = 0; i < 1000; i++)
		assert_true(sc_bucket_take(&b, 0));
	assert_true(sc_bucket_wait(&b, 0) == 0);
	sc_bucket_init(&b, 1000, 10, 0, 5000);
	assert_false(sc_bucket_take(&b, 1000));
	assert_true(b.last == 5000);
	assert_true(sc_bucket_take(&b, 6000));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_burst),
		cmocka_unit_test(test_rate),
		cmocka_unit_test(test_cap),
		cmocka_unit_test(test_unlimited_and_backwards),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
