/*
 * test_cookie.c - address cookies, with time passed in.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "seqcast/cookie.h"
#include "testutil.h"

#define P 1000000               /* a period of 1 s */

static void
secret(uint8_t *s, uint8_t fill)
{
	memset(s, fill, SC_COOKIE_SECRET_BYTES);
}

/* A cookie is good for its own address and port only; 0 is "none". */
static void
test_cookie_address(void **state)
{
	struct sockaddr_in a = sa(0x7f000001, 5000), b = sa(0x7f000001, 5001);
	struct sockaddr_in c = sa(0x7f000002, 5000);
	struct sc_cookie ck;
	uint8_t s[SC_COOKIE_SECRET_BYTES];
	uint64_t k;

	(void)state;
	secret(s, 7);
	sc_cookie_init(&ck, s, P, 0);
	k = sc_cookie_make(&ck, &a, 10);
	assert_true(k != 0);
	assert_int_equal(sc_cookie_check(&ck, &a, k, 20), SC_COOKIE_OK);
	assert_int_equal(sc_cookie_check(&ck, &b, k, 20), SC_COOKIE_BAD);
	assert_int_equal(sc_cookie_check(&ck, &c, k, 20), SC_COOKIE_BAD);
	assert_int_equal(sc_cookie_check(&ck, &a, 0, 20), SC_COOKIE_NONE);
	assert_int_equal(sc_cookie_check(&ck, &a, k ^ 1, 20), SC_COOKIE_BAD);
	/* the same secret and time: the same cookie (stateless) */
	sc_cookie_init(&ck, s, P, 0);
	assert_true(sc_cookie_make(&ck, &a, 30) == k);
	/* another secret (a restarted server): refused */
	secret(s, 8);
	sc_cookie_init(&ck, s, P, 0);
	assert_int_equal(sc_cookie_check(&ck, &a, k, 20), SC_COOKIE_BAD);
}

/* Good in the epoch it was made and the next; refused after. */
static void
test_cookie_rotation(void **state)
{
	struct sockaddr_in a = sa(0x0a000001, 4300);
	struct sc_cookie ck;
	uint8_t s[SC_COOKIE_SECRET_BYTES];
	uint64_t k, k2;

	(void)state;
	secret(s, 1);
	sc_cookie_init(&ck, s, P, 5 * P);
	k = sc_cookie_make(&ck, &a, 5 * P + P / 2);
	assert_int_equal(sc_cookie_check(&ck, &a, k, 6 * P - 1), SC_COOKIE_OK);
	assert_int_equal(sc_cookie_check(&ck, &a, k, 6 * P), SC_COOKIE_OK);
	assert_true(ck.rotations == 1);
	k2 = sc_cookie_make(&ck, &a, 6 * P + 1);
	assert_true(k2 != k);
	assert_int_equal(sc_cookie_check(&ck, &a, k, 7 * P - 1), SC_COOKIE_OK);
	assert_int_equal(sc_cookie_check(&ck, &a, k, 7 * P), SC_COOKIE_BAD);
	assert_int_equal(sc_cookie_check(&ck, &a, k2, 7 * P), SC_COOKIE_OK);
	/* a jump of many epochs: nothing from before is good */
	assert_int_equal(sc_cookie_check(&ck, &a, k2, 100 * P),
	    SC_COOKIE_BAD);
	assert_false(ck.has_prev);
	k = sc_cookie_make(&ck, &a, 100 * P);
	assert_int_equal(sc_cookie_check(&ck, &a, k, 101 * P + 5),
	    SC_COOKIE_OK);
	/* the ratchet: the secret after a period is not the one before */
	assert_memory_not_equal(ck.cur, ck.prev, SC_COOKIE_SECRET_BYTES);
}

/* Distinct addresses get distinct cookies, and guesses fail. */
static void
test_cookie_spread(void **state)
{
	static uint64_t seen[4096];
	struct sc_cookie ck;
	uint8_t s[SC_COOKIE_SECRET_BYTES];
	uint64_t r = 42, hits = 0;

	(void)state;
	secret(s, 3);
	sc_cookie_init(&ck, s, P, 0);
	for (uint32_t i = 0; i < 4096; i++) {
		struct sockaddr_in a = sa(0x7f000001 + i / 64,
		    (uint16_t)(1000 + i % 64));

		seen[i] = sc_cookie_make(&ck, &a, 0);
		for (uint32_t j = 0; j < i; j += 97)
			assert_true(seen[j] != seen[i]);
		hits += sc_cookie_check(&ck, &a, rnd(&r), 0) == SC_COOKIE_OK;
	}
	assert_true(hits == 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cookie_address),
		cmocka_unit_test(test_cookie_rotation),
		cmocka_unit_test(test_cookie_spread),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
