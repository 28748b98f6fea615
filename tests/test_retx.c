/*
 * test_retx.c - the coordinator's retransmit store (daemon/retx.c).
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


/* Entry id: value bytes, length 0..99, client and req from the id. */
static uint32_t
len_of(uint64_t id)
{
	return (uint32_t)((id * 13) % 100);
}

static int
put_id(struct sc_retx *r, uint64_t id)
{
	uint8_t buf[128];
	uint32_t len = len_of(id);

	for (uint32_t j = 0; j < len; j++)
		buf[j] = (uint8_t)(id * 131 + j);
	return sc_retx_put(r, id, id ^ 0xc0ffee, id * 3, buf, len);
}

/* Does the store hold id with exactly its content? */
static int
holds(const struct sc_retx *r, uint64_t id)
{
	const struct sc_stored *s = NULL;

	if (sc_retx_get(r, id, &s) != SC_RETX_HAVE)
		return 0;
	if (s == NULL || s->client != (id ^ 0xc0ffee) || s->req != id * 3 ||
	    s->len != len_of(id) || s->value == NULL)
		return 0;
	for (uint32_t j = 0; j < s->len; j++)
		if (s->value[j] != (uint8_t)(id * 131 + j))
			return 0;
	return 1;
}

/* bytes is the values plus a fixed cost per entry. */
static uint64_t per_entry;

static uint64_t
value_bytes(const struct sc_retx *r)
{
	uint64_t b = 0;

	for (uint64_t id = r->low; id <= r->high; id++)
		b += len_of(id);
	return b;
}

static void
learn_per_entry(void)
{
	struct sc_retx r;

	assert_int_equal(sc_retx_init(&r, 1 << 20, 1, 1), 0);
	assert_int_equal(put_id(&r, 1), 0);
	per_entry = r.bytes - len_of(1);
	assert_true(per_entry > 0 && per_entry < 1024);
	assert_int_equal(put_id(&r, 2), 0);
	assert_true(r.bytes == len_of(1) + len_of(2) + 2 * per_entry);
	sc_retx_free(&r);
}

static void
test_put_contiguous(void **state)
{
	struct sc_retx r;
	const struct sc_stored *s;

	(void)state;
	learn_per_entry();
	assert_int_equal(sc_retx_init(&r, 1 << 20, 3, 1), 0);
	assert_true(sc_retx_count(&r) == 0);
	assert_int_equal(sc_retx_get(&r, 1, &s), SC_RETX_FUTURE);
	assert_int_equal(put_id(&r, 2), -1);
	assert_int_equal(put_id(&r, 0), -1);
	assert_true(sc_retx_count(&r) == 0);
	assert_int_equal(put_id(&r, 1), 0);
	assert_int_equal(put_id(&r, 1), -1);
	assert_int_equal(put_id(&r, 3), -1);
	assert_int_equal(put_id(&r, 2), 0);
	assert_int_equal(put_id(&r, 3), 0);
	assert_true(sc_retx_count(&r) == 3);
	assert_true(r.low == 1 && r.high == 3);
	for (uint64_t id = 1; id <= 3; id++)
		assert_true(holds(&r, id));
	assert_int_equal(sc_retx_get(&r, 4, &s), SC_RETX_FUTURE);
	assert_int_equal(sc_retx_get(&r, 1000, &s), SC_RETX_FUTURE);
	assert_true(r.bytes == value_bytes(&r) + 3 * per_entry);
	sc_retx_free(&r);

	/* first_id continues a sequence */
	assert_int_equal(sc_retx_init(&r, 1 << 20, 3, 100), 0);
	assert_int_equal(sc_retx_get(&r, 99, &s), SC_RETX_GONE);
	assert_int_equal(sc_retx_get(&r, 100, &s), SC_RETX_FUTURE);
	assert_int_equal(put_id(&r, 1), -1);
	assert_int_equal(put_id(&r, 100), 0);
	assert_true(holds(&r, 100));
	assert_int_equal(sc_retx_get(&r, 1, &s), SC_RETX_GONE);
	sc_retx_free(&r);
}

/* An empty value is kept as an empty value. */
static void
test_empty_value(void **state)
{
	struct sc_retx r;
	const struct sc_stored *s = NULL;
	uint8_t b = 1;

	(void)state;
	assert_int_equal(sc_retx_init(&r, 1 << 20, 1, 1), 0);
	assert_int_equal(sc_retx_put(&r, 1, 5, 6, &b, 0), 0);
	assert_int_equal(sc_retx_get(&r, 1, &s), SC_RETX_HAVE);
	assert_non_null(s);
	assert_int_equal(s->len, 0);
	assert_true(s->client == 5 && s->req == 6);
	sc_retx_free(&r);
}

/* Stable entries (applied by every server) are freed, exactly those. */
static void
test_stability(void **state)
{
	struct sc_retx r;
	const struct sc_stored *s;

	(void)state;
	learn_per_entry();
	assert_int_equal(sc_retx_init(&r, 1 << 30, 3, 1), 0);
	for (uint64_t id = 1; id <= 100; id++)
		assert_int_equal(put_id(&r, id), 0);
	assert_true(r.bytes == value_bytes(&r) + 100 * per_entry);
	sc_retx_report(&r, 0, 50);
	sc_retx_report(&r, 1, 60);
	/* server 2 never reported: everything stays */
	assert_true(sc_retx_count(&r) == 100);
	assert_true(r.freed == 0);
	assert_true(r.low == 1);
	sc_retx_report(&r, 2, 40);
	/* min(50, 60, 40) = 40 */
	assert_true(r.stable == 40);
	assert_true(r.low == 41);
	assert_true(r.freed == 40);
	assert_true(sc_retx_count(&r) == 60);
	assert_int_equal(sc_retx_get(&r, 40, &s), SC_RETX_GONE);
	assert_int_equal(sc_retx_get(&r, 1, &s), SC_RETX_GONE);
	assert_true(holds(&r, 41));
	assert_true(r.bytes == value_bytes(&r) + 60 * per_entry);
	/* an old report (out of order) does not go back */
	sc_retx_report(&r, 2, 10);
	assert_true(r.applied[2] == 40);
	assert_true(r.low == 41);
	/* server 2 catches up: now 50 */
	sc_retx_report(&r, 2, 100);
	assert_true(r.stable == 50);
	assert_true(r.low == 51);
	assert_true(r.freed == 50);
	/* a server that does not exist is ignored */
	sc_retx_report(&r, 3, 100);
	sc_retx_report(&r, 1000, 100);
	assert_true(r.low == 51);
	sc_retx_report(&r, 0, 100);
	assert_true(r.low == 61);
	sc_retx_report(&r, 1, 100);
	assert_true(r.low == 101);
	assert_true(sc_retx_count(&r) == 0);
	assert_true(r.freed == 100);
	assert_true(r.evicted == 0);
	assert_true(r.bytes == 0);
	/* and it goes on from there */
	assert_int_equal(put_id(&r, 101), 0);
	assert_true(holds(&r, 101));
	assert_true(r.bytes == len_of(101) + per_entry);
	sc_retx_free(&r);
}

/* A server that never reports keeps everything (below the cap). */
static void
test_silent_server(void **state)
{
	struct sc_retx r;

	(void)state;
	assert_int_equal(sc_retx_init(&r, 1 << 30, 2, 1), 0);
	for (uint64_t id = 1; id <= 5000; id++) {
		assert_int_equal(put_id(&r, id), 0);
		sc_retx_report(&r, 0, id);
	}
	assert_true(sc_retx_count(&r) == 5000);
	assert_true(r.freed == 0);
	for (uint64_t id = 1; id <= 5000; id++)
		assert_true(holds(&r, id));
	sc_retx_free(&r);
}

/* Reports above high are clamped: nobody applied what was never put. */
static void
test_report_clamped(void **state)
{
	struct sc_retx r;
	const struct sc_stored *s;

	(void)state;
	assert_int_equal(sc_retx_init(&r, 1 << 30, 2, 1), 0);
	for (uint64_t id = 1; id <= 10; id++)
		assert_int_equal(put_id(&r, id), 0);
	sc_retx_report(&r, 0, 1000);
	assert_true(r.applied[0] == 10);
	for (uint64_t id = 11; id <= 20; id++)
		assert_int_equal(put_id(&r, id), 0);
	sc_retx_report(&r, 1, 20);
	/* server 0 has applied only up to 10 */
	assert_true(r.stable == 10);
	assert_true(r.low == 11);
	assert_true(holds(&r, 11) && holds(&r, 20));
	assert_int_equal(sc_retx_get(&r, 10, &s), SC_RETX_GONE);
	/* both report beyond: stable at high, store empty, puts go on */
	sc_retx_report(&r, 0, UINT64_MAX);
	sc_retx_report(&r, 1, UINT64_MAX);
	assert_true(r.stable == 20);
	assert_true(sc_retx_count(&r) == 0);
	assert_int_equal(put_id(&r, 21), 0);
	assert_true(holds(&r, 21));
	assert_int_equal(put_id(&r, 22), 0);
	sc_retx_report(&r, 0, 21);
	assert_true(r.low == 21);     /* server 1 reported 20 */
	sc_retx_free(&r);
}

/* The byte cap holds after every put; the newest entry is never evicted;
 * evicted entries answer GONE. */
static void
test_byte_cap(void **state)
{
	struct sc_retx r;
	const struct sc_stored *s;
	uint64_t cap, rng = 77, evicted = 0;

	(void)state;
	learn_per_entry();
	cap = 20 * (per_entry + 50);
	assert_int_equal(sc_retx_init(&r, cap, 2, 1), 0);
	for (uint64_t id = 1; id <= 20000; id++) {
		uint64_t low0 = r.low;

		assert_int_equal(put_id(&r, id), 0);
		assert_true(r.bytes <= cap);
		assert_true(r.high == id);
		assert_true(holds(&r, id));
		assert_true(r.bytes == value_bytes(&r) + sc_retx_count(&r) *
		    per_entry);
		evicted += r.low - low0;
		assert_true(r.evicted == evicted);
		assert_true(r.bytes_peak >= r.bytes);
		assert_true(r.bytes_peak <= cap);
		/* the evicted are GONE, the rest held */
		for (uint64_t x = low0; x < r.low; x++)
			assert_int_equal(sc_retx_get(&r, x, &s), SC_RETX_GONE);
		for (uint64_t x = r.low; x <= r.high; x++)
			assert_true(holds(&r, x));
		/* the cap evicts only the oldest, and no more than needed */
		if (r.low > low0)
			assert_true(r.bytes + len_of(r.low - 1) + per_entry >
			    cap);
		if (below(&rng, 50) == 0)
			sc_retx_report(&r, (uint32_t)below(&rng, 2),
			    r.low + below(&rng, 5));
	}
	assert_true(r.evicted > 10000);
	assert_true(r.freed < 1000);
	assert_int_equal(sc_retx_get(&r, 1, &s), SC_RETX_GONE);
	sc_retx_free(&r);

	/* a cap smaller than one entry: only the newest is kept */
	assert_int_equal(sc_retx_init(&r, 1, 1, 1), 0);
	for (uint64_t id = 1; id <= 100; id++) {
		assert_int_equal(put_id(&r, id), 0);
		assert_true(sc_retx_count(&r) == 1);
		assert_true(holds(&r, id));
		assert_true(r.evicted == id - 1);
		if (id > 1)
			assert_int_equal(sc_retx_get(&r, id - 1, &s),
			    SC_RETX_GONE);
	}
	sc_retx_free(&r);
}

/* 100k puts, random stability reports, a stalled server now and then: the
 * ring grows far past 1024 and keeps every held entry intact. */
static void
test_ring_growth(void **state)
{
	struct sc_retx r;
	const struct sc_stored *s;
	uint64_t rng = 4242, applied[3] = { 0, 0, 0 }, grown = 0, freed = 0;
	const uint32_t ns = 3;

	(void)state;
	learn_per_entry();
	assert_int_equal(sc_retx_init(&r, UINT64_MAX, ns, 1), 0);
	for (uint64_t id = 1; id <= 100000; id++) {
		uint64_t low0 = r.low, slots0 = r.slots;

		assert_int_equal(put_id(&r, id), 0);
		if (r.slots != slots0) {
			/* grown: every held entry still there */
			assert_true(r.slots > slots0);
			assert_true(sc_retx_count(&r) > slots0);
			for (uint64_t x = r.low; x <= r.high; x++)
				assert_true(holds(&r, x));
			grown++;
		}
		assert_true(sc_retx_count(&r) <= r.slots);
		/* server 2 stalls in long stretches */
		for (uint32_t sv = 0; sv < ns; sv++) {
			int stalled = sv == 2 && (id / 15000) % 2 == 0;

			if (stalled || below(&rng, 8) != 0)
				continue;
			applied[sv] += below(&rng, id - applied[sv] + 1);
			sc_retx_report(&r, sv, applied[sv]);
		}
		{
			uint64_t st = applied[0];

			for (uint32_t sv = 1; sv < ns; sv++)
				st = applied[sv] < st ? applied[sv] : st;
			assert_true(r.stable == st);
			assert_true(r.low == st + 1);
		}
		freed += r.low - low0;
		assert_true(r.freed == freed);
		assert_true(r.evicted == 0);
		assert_true(r.high == id);
		/* spot checks of held ids */
		for (int k = 0; k < 4 && sc_retx_count(&r) > 0; k++) {
			uint64_t x = r.low + below(&rng, sc_retx_count(&r));

			assert_true(holds(&r, x));
		}
		if (r.low > 1)
			assert_int_equal(sc_retx_get(&r, r.low - 1, &s),
			    SC_RETX_GONE);
		assert_int_equal(sc_retx_get(&r, id + 1, &s), SC_RETX_FUTURE);
		if (id % 5000 == 0) {
			for (uint64_t x = r.low; x <= r.high; x++)
				assert_true(holds(&r, x));
			assert_true(r.bytes == value_bytes(&r) +
			    sc_retx_count(&r) * per_entry);
		}
	}
	assert_true(grown >= 3);
	assert_true(r.slots >= 8192);
	assert_true(r.freed > 50000);
	sc_retx_free(&r);
}

/* Retransmission routing for one id. */
static void
test_route(void **state)
{
	struct sc_retx r;
	const int64_t W = 1000;

	(void)state;
	assert_int_equal(sc_retx_init(&r, 1 << 20, 4, 1), 0);
	for (uint64_t id = 1; id <= 3; id++)
		assert_int_equal(put_id(&r, id), 0);
	/* ids not held */
	assert_int_equal(sc_retx_route(&r, 0, 1, 0, W), SC_ROUTE_SKIP);
	assert_int_equal(sc_retx_route(&r, 4, 1, 0, W), SC_ROUTE_SKIP);
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

	/* freed ids are skipped */
	sc_retx_report(&r, 0, 3);
	sc_retx_report(&r, 1, 3);
	sc_retx_report(&r, 2, 3);
	sc_retx_report(&r, 3, 3);
	assert_true(sc_retx_count(&r) == 0);
	assert_int_equal(sc_retx_route(&r, 1, 1, 50000, W), SC_ROUTE_SKIP);
	/* a new entry in a reused slot starts with a clean history */
	for (uint64_t id = 4; id <= 1024 + 1; id++)
		assert_int_equal(put_id(&r, id), 0);
	assert_int_equal(sc_retx_route(&r, 1025, 3, 10302, W),
	    SC_ROUTE_UNICAST);
	sc_retx_free(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_put_contiguous),
		cmocka_unit_test(test_empty_value),
		cmocka_unit_test(test_stability),
		cmocka_unit_test(test_silent_server),
		cmocka_unit_test(test_report_clamped),
		cmocka_unit_test(test_byte_cap),
		cmocka_unit_test(test_ring_growth),
		cmocka_unit_test(test_route),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
