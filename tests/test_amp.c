/*
 * test_amp.c - the anti-amplification budget, with time passed in.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "seqcast/amp.h"
#include "testutil.h"

/* Unknown addresses get nothing; an unverified one 3x what it sent. */
static void
test_amp_credit(void **state)
{
	static struct sc_amp a;
	struct sockaddr_in x = sa(0x7f000001, 7000), y = sa(0x7f000001, 7001);

	(void)state;
	sc_amp_init(&a, 99);
	assert_true(sc_amp_room(&a, &x, 0) == 0);
	assert_false(sc_amp_spend(&a, &x, 1, 0));
	assert_true(a.capped == 1 && a.capped_bytes == 1);
	sc_amp_received(&a, &x, 100, 0, 0);
	assert_true(sc_amp_room(&a, &x, 0) == 300);
	assert_true(sc_amp_room(&a, &y, 0) == 0);
	assert_true(sc_amp_spend(&a, &x, 200, 1));
	assert_false(sc_amp_spend(&a, &x, 101, 2));
	assert_true(sc_amp_room(&a, &x, 2) == 100);
	assert_true(sc_amp_spend(&a, &x, 100, 3));
	assert_false(sc_amp_spend(&a, &x, 1, 3));
	/* the credit is capped */
	for (int i = 0; i < 10; i++)
		sc_amp_received(&a, &x, 65536, 0, 4);
	assert_true(sc_amp_room(&a, &x, 4) == SC_AMP_CREDIT_MAX);
}

/* A valid cookie lifts the limit, for a while and until a request
 * without one comes from that address. */
static void
test_amp_verified(void **state)
{
	static struct sc_amp a;
	struct sockaddr_in x = sa(0x7f000001, 7000);

	(void)state;
	sc_amp_init(&a, 1);
	sc_amp_received(&a, &x, 50, 1, 1000);
	assert_true(sc_amp_verified(&a, &x, 1000));
	assert_true(sc_amp_room(&a, &x, 1000) == SIZE_MAX);
	for (int i = 0; i < 100; i++)
		assert_true(sc_amp_spend(&a, &x, 60000, 1000 + i));
	assert_true(sc_amp_room(&a, &x, 1000 + SC_AMP_VERIFIED_US - 1) ==
	    SIZE_MAX);
	/* expired: back to the credit, which verified sends did not use */
	assert_true(sc_amp_room(&a, &x, 1000 + SC_AMP_VERIFIED_US) == 150);
	sc_amp_received(&a, &x, 50, 1, 2000);
	sc_amp_received(&a, &x, 50, 0, 3000);  /* a forger's request */
	assert_false(sc_amp_verified(&a, &x, 3000));
	assert_true(sc_amp_room(&a, &x, 3000) == 450);
}

/* Whatever the mix of requests and replies, an address that never
 * showed a cookie is sent at most 3x what it sent; the table stays its
 * size under a flood of forged addresses, and verified clients keep
 * their place in it. */
static void
test_amp_flood(void **state)
{
	static struct sc_amp a;
	struct sockaddr_in v[64], x = sa(0x0a000001, 9);
	uint64_t r = 7, in = 0, out = 0;

	(void)state;
	sc_amp_init(&a, 12345);
	for (int i = 0; i < 64; i++) {
		v[i] = sa(0x0a010000 + (uint32_t)i, 4000);
		sc_amp_received(&a, &v[i], 60, 1, 0);
	}
	for (int64_t t = 1; t <= 200000; t++) {
		struct sockaddr_in f = sa((uint32_t)rnd(&r), (uint16_t)rnd(&r));
		size_t len = 20 + (size_t)below(&r, 1500);

		sc_amp_received(&a, &f, len, 0, t);
		if (below(&r, 4) == 0) {
			sc_amp_received(&a, &x, len, 0, t);
			in += len;
		}
		len = 1 + (size_t)below(&r, 2000);
		if (sc_amp_spend(&a, &x, len, t))
			out += len;
		assert_true(out <= SC_AMP_FACTOR * in);
	}
	assert_true(a.evicted > 100000);
	for (int i = 0; i < 64; i++)
		assert_true(sc_amp_verified(&a, &v[i], 200000));
	assert_true(out > 2 * in);     /* and the credit is really usable */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_amp_credit),
		cmocka_unit_test(test_amp_verified),
		cmocka_unit_test(test_amp_flood),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
