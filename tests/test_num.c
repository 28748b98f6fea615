/*
 * test_num.c - the strict integer parser.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "seqcast/num.h"

static void
test_good(void **state)
{
	uint64_t v = 7;

	(void)state;
	assert_int_equal(sc_parse_u64("0", 0, 10, &v), SC_NUM_OK);
	assert_int_equal(v, 0);
	assert_int_equal(sc_parse_u64("18446744073709551615", 0, UINT64_MAX,
	    &v), SC_NUM_OK);
	assert_true(v == UINT64_MAX);
	assert_int_equal(sc_parse_u64("0042", 1, 100, &v), SC_NUM_OK);
	assert_int_equal(v, 42);
}

static void
test_bad(void **state)
{
	const char *bad[] = { "", " 1", "1 ", "+1", "1x", "x", "1.5", "0x10",
	    "-", "--1" };
	uint64_t v = 7;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(sc_parse_u64(bad[i], 0, UINT64_MAX, &v),
		    SC_NUM_BAD);
	assert_int_equal(v, 7);
}

static void
test_range(void **state)
{
	uint64_t v = 7;

	(void)state;
	assert_int_equal(sc_parse_u64("-1", 0, 10, &v), SC_NUM_RANGE);
	assert_int_equal(sc_parse_u64("11", 0, 10, &v), SC_NUM_RANGE);
	assert_int_equal(sc_parse_u64("4", 5, 10, &v), SC_NUM_RANGE);
	assert_int_equal(sc_parse_u64("18446744073709551616", 0, UINT64_MAX,
	    &v), SC_NUM_RANGE);
	assert_int_equal(sc_parse_u64("99999999999999999999999", 0,
	    UINT64_MAX, &v), SC_NUM_RANGE);
	assert_int_equal(v, 7);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_range),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
