/*
 * test_holdback.c - the hold-back queue (daemon/holdback.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "seqcast/holdback.h"
#include "testutil.h"


/* The entry with this id: its value depends on the id, lengths 0..200
 * (kept in the slot up to SC_HOLD_INLINE bytes, allocated beyond). */
static uint32_t
len_of(uint64_t id)
{
	return (uint32_t)((id * 7) % 201);
}

static void
make_item(struct sc_item *it, uint8_t *buf, uint64_t id)
{
	memset(it, 0, sizeof(*it));
	it->id = id;
	it->client = id * 1000003;
	it->req = id + 17;
	it->len = len_of(id);
	for (uint32_t j = 0; j < it->len; j++)
		buf[j] = (uint8_t)(id * 31 + j * 7);
	it->value = buf;
}

static void
check_held(const struct sc_held *h, uint64_t id)
{
	assert_non_null(h);
	assert_true(h->id == id);
	assert_true(h->client == id * 1000003);
	assert_true(h->req == id + 17);
	assert_int_equal(h->len, len_of(id));
	assert_non_null(h->value);
	/* a short value costs no allocation */
	if (h->len <= SC_HOLD_INLINE)
		assert_ptr_equal(h->value, h->small);
	for (uint32_t j = 0; j < h->len; j++)
		assert_int_equal(h->value[j], (uint8_t)(id * 31 + j * 7));
}

static void
test_basic(void **state)
{
	struct sc_hold h;
	struct sc_item it;
	uint8_t buf[256];

	(void)state;
	assert_int_equal(sc_hold_init(&h, 0), -1);
	assert_int_equal(sc_hold_init(&h, 4), 0);
	assert_null(sc_hold_get(&h, 0));
	assert_false(sc_hold_has(&h, 0));
	assert_false(sc_hold_has(&h, 4));
	/* window (0, 4]: 4 held, 5 far */
	make_item(&it, buf, 4);
	assert_int_equal(sc_hold_put(&h, 0, &it), SC_HOLD_NEW);
	memset(buf, 0xee, sizeof buf);        /* the queue owns a copy */
	check_held(sc_hold_get(&h, 4), 4);
	assert_true(sc_hold_has(&h, 4));
	assert_false(sc_hold_has(&h, 8));     /* same slot, other id */
	assert_null(sc_hold_get(&h, 8));
	make_item(&it, buf, 4);
	assert_int_equal(sc_hold_put(&h, 0, &it), SC_HOLD_DUP);
	make_item(&it, buf, 5);
	assert_int_equal(sc_hold_put(&h, 0, &it), SC_HOLD_FAR);
	make_item(&it, buf, 1000);
	assert_int_equal(sc_hold_put(&h, 0, &it), SC_HOLD_FAR);
	assert_int_equal(h.count, 1);
	assert_true(h.bytes == len_of(4));
	/* with applied = 3: 4 is held (dup), 7 fits, 8 is far */
	make_item(&it, buf, 7);
	assert_int_equal(sc_hold_put(&h, 3, &it), SC_HOLD_NEW);
	make_item(&it, buf, 8);
	assert_int_equal(sc_hold_put(&h, 3, &it), SC_HOLD_FAR);
	/* ids <= applied are duplicates */
	make_item(&it, buf, 3);
	assert_int_equal(sc_hold_put(&h, 3, &it), SC_HOLD_DUP);
	make_item(&it, buf, 1);
	assert_int_equal(sc_hold_put(&h, 3, &it), SC_HOLD_DUP);
	assert_int_equal(h.count, 2);
	assert_true(h.bytes == len_of(4) + len_of(7));
	assert_int_equal(h.peak, 2);
	/* remove: an id not held (same slot) leaves the slot alone */
	sc_hold_remove(&h, 11);
	sc_hold_remove(&h, 0);
	assert_int_equal(h.count, 2);
	check_held(sc_hold_get(&h, 7), 7);
	sc_hold_remove(&h, 7);
	sc_hold_remove(&h, 7);
	assert_null(sc_hold_get(&h, 7));
	assert_int_equal(h.count, 1);
	sc_hold_remove(&h, 4);
	assert_int_equal(h.count, 0);
	assert_true(h.bytes == 0);
	assert_int_equal(h.peak, 2);
	sc_hold_free(&h);
}

/* An empty value is held as an empty value. */
static void
test_empty_value(void **state)
{
	struct sc_hold h;
	struct sc_item it;
	const struct sc_held *x;
	uint8_t b = 0;

	(void)state;
	assert_int_equal(sc_hold_init(&h, 8), 0);
	memset(&it, 0, sizeof it);
	it.id = 2;
	it.client = 9;
	it.req = 3;
	it.value = &b;
	it.len = 0;
	assert_int_equal(sc_hold_put(&h, 0, &it), SC_HOLD_NEW);
	x = sc_hold_get(&h, 2);
	assert_non_null(x);
	assert_int_equal(x->len, 0);
	assert_true(x->client == 9 && x->req == 3);
	assert_int_equal(h.count, 1);
	assert_true(h.bytes == 0);
	sc_hold_remove(&h, 2);
	assert_int_equal(h.count, 0);
	sc_hold_free(&h);
}

/*
 * Any arrival order, duplicates mixed in, ids beyond the window refused
 * and offered again later (as a NACK would): the rule "put; then while
 * get(applied + 1): apply and remove" applies exactly 1..N in order.
 * Every result is checked against a model of the window.
 */
#define EXTRA (1ULL << 63)

static void
run_order(uint64_t seed, uint32_t cap, uint64_t n)
{
	struct sc_hold h;
	struct sc_item it;
	uint8_t buf[256];
	uint64_t *queue, qlen, qhead = 0, qn, applied = 0, rng = seed;
	uint64_t bytes = 0, dups = 0, fars = 0, news = 0;
	uint32_t count = 0, peak = 0;
	uint8_t *held = calloc(n + 1, 1);
	uint64_t qcap = 4 * n + 16;   /* a ring: ids waiting to arrive */

	queue = calloc(qcap, sizeof(*queue));
	assert_non_null(queue);
	assert_non_null(held);
	/* a random permutation of 1..n */
	for (uint64_t i = 0; i < n; i++)
		queue[i] = i + 1;
	for (uint64_t i = n - 1; i > 0; i--) {
		uint64_t j = below(&rng, i + 1), t = queue[i];

		queue[i] = queue[j];
		queue[j] = t;
	}
	qlen = n;
	qn = n;
	assert_int_equal(sc_hold_init(&h, cap), 0);
	while (qn > 0) {
		uint64_t id = queue[qhead] & ~EXTRA;
		int extra = (queue[qhead] & EXTRA) != 0;
		enum sc_hold_result want, got;

		qhead = (qhead + 1) % qcap;
		qn--;
		/* duplicates: an id offered again, now or later; an extra
		 * copy is offered once, never re-queued */
		if (!extra && below(&rng, 4) == 0) {
			assert_true(qn < qcap);
			queue[qlen] = EXTRA |
			    (below(&rng, 3) ? id : 1 + below(&rng, n));
			qlen = (qlen + 1) % qcap;
			qn++;
		}
		if (id <= applied)
			want = SC_HOLD_DUP;
		else if (id - applied > cap)
			want = SC_HOLD_FAR;
		else if (held[id])
			want = SC_HOLD_DUP;
		else
			want = SC_HOLD_NEW;
		make_item(&it, buf, id);
		got = sc_hold_put(&h, applied, &it);
		assert_int_equal(got, want);
		if (got == SC_HOLD_NEW) {
			held[id] = 1;
			count++;
			bytes += len_of(id);
			if (count > peak)
				peak = count;
			news++;
		} else if (got == SC_HOLD_FAR && !extra) {
			/* asked for again later */
			assert_true(qn < qcap);
			queue[qlen] = id;
			qlen = (qlen + 1) % qcap;
			qn++;
			fars++;
		} else if (got == SC_HOLD_FAR) {
			fars++;
		} else {
			dups++;
		}
		assert_int_equal(h.count, count);
		assert_true(h.bytes == bytes);
		assert_int_equal(h.peak, peak);
		/* apply what is next in line, strictly in order */
		for (;;) {
			const struct sc_held *x = sc_hold_get(&h, applied + 1);

			if (x == NULL)
				break;
			assert_true(held[applied + 1]);
			check_held(x, applied + 1);
			applied++;
			sc_hold_remove(&h, applied);
			assert_false(sc_hold_has(&h, applied));
			held[applied] = 0;
			count--;
			bytes -= len_of(applied);
			assert_int_equal(h.count, count);
			assert_true(h.bytes == bytes);
		}
		/* nothing waits that could have been applied */
		if (applied < n)
			assert_false(held[applied + 1]);
	}
	assert_true(applied == n);
	assert_int_equal(h.count, 0);
	assert_true(h.bytes == 0);
	assert_true(h.peak <= cap);
	assert_true(news == n);
	assert_true(dups > 0);
	if (cap <= n / 2)
		assert_true(fars > 0);
	if (cap >= n)
		assert_true(fars == 0);
	sc_hold_free(&h);
	free(queue);
	free(held);
}

static void
test_any_order(void **state)
{
	static const uint32_t caps[] = { 5000, 4999, 1000, 64, 7, 2, 1 };

	(void)state;
	for (uint64_t seed = 1; seed <= 5; seed++)
		for (size_t c = 0; c < sizeof caps / sizeof caps[0]; c++)
			run_order(seed * 7919, caps[c], caps[c] > 64 ? 5000 :
			    1000);
}

/* In order and in reverse order. */
static void
test_sorted_orders(void **state)
{
	struct sc_hold h;
	struct sc_item it;
	uint8_t buf[256];
	const uint64_t n = 300;
	uint64_t applied = 0;

	(void)state;
	assert_int_equal(sc_hold_init(&h, (uint32_t)n), 0);
	/* reverse: everything held until 1 arrives */
	for (uint64_t id = n; id >= 2; id--) {
		make_item(&it, buf, id);
		assert_int_equal(sc_hold_put(&h, applied, &it), SC_HOLD_NEW);
		assert_null(sc_hold_get(&h, 1));
	}
	assert_int_equal(h.count, n - 1);
	assert_int_equal(h.peak, n - 1);
	make_item(&it, buf, 1);
	assert_int_equal(sc_hold_put(&h, applied, &it), SC_HOLD_NEW);
	assert_int_equal(h.peak, n);
	while (sc_hold_get(&h, applied + 1) != NULL) {
		check_held(sc_hold_get(&h, applied + 1), applied + 1);
		sc_hold_remove(&h, ++applied);
	}
	assert_true(applied == n);
	assert_int_equal(h.count, 0);
	assert_true(h.bytes == 0);
	/* in order, with the window sliding: never more than one held */
	for (uint64_t id = n + 1; id <= 10 * n; id++) {
		make_item(&it, buf, id);
		assert_int_equal(sc_hold_put(&h, applied, &it), SC_HOLD_NEW);
		assert_int_equal(h.count, 1);
		check_held(sc_hold_get(&h, applied + 1), id);
		sc_hold_remove(&h, ++applied);
	}
	assert_int_equal(h.count, 0);
	assert_true(h.bytes == 0);
	sc_hold_free(&h);
}

/*
 * A stale slot: id 3 is held, then applied jumps past it (applied by
 * other means, never removed here). When id 11 takes the same slot the
 * stale copy is freed (ASan reports a leak otherwise) and the accounting
 * drops it.
 */
static void
test_stale_slot(void **state)
{
	struct sc_hold h;
	struct sc_item it;
	uint8_t buf[256];

	(void)state;
	assert_int_equal(sc_hold_init(&h, 4), 0);
	make_item(&it, buf, 3);
	assert_int_equal(sc_hold_put(&h, 0, &it), SC_HOLD_NEW);
	make_item(&it, buf, 2);
	assert_int_equal(sc_hold_put(&h, 0, &it), SC_HOLD_NEW);
	assert_int_equal(h.count, 2);
	/* applied jumps to 10: 2 and 3 are stale */
	make_item(&it, buf, 3);
	assert_int_equal(sc_hold_put(&h, 10, &it), SC_HOLD_DUP);
	make_item(&it, buf, 11);              /* slot 11 % 4 == 3 */
	assert_int_equal(sc_hold_put(&h, 10, &it), SC_HOLD_NEW);
	assert_int_equal(h.count, 2);         /* 3 freed, 11 added, 2 stale */
	assert_true(h.bytes == len_of(11) + len_of(2));
	assert_null(sc_hold_get(&h, 3));
	check_held(sc_hold_get(&h, 11), 11);
	make_item(&it, buf, 14);              /* slot 2: the stale 2 */
	assert_int_equal(sc_hold_put(&h, 10, &it), SC_HOLD_NEW);
	assert_int_equal(h.count, 2);
	assert_true(h.bytes == len_of(11) + len_of(14));
	assert_null(sc_hold_get(&h, 2));
	check_held(sc_hold_get(&h, 14), 14);
	sc_hold_remove(&h, 11);
	sc_hold_remove(&h, 14);
	assert_int_equal(h.count, 0);
	assert_true(h.bytes == 0);

	/* many stale slots reused, the window jumping by random amounts */
	{
		uint64_t rng = 5, applied = 10;

		for (int r = 0; r < 20000; r++) {
			uint64_t id = applied + 1 + below(&rng, 4);

			make_item(&it, buf, id);
			(void)sc_hold_put(&h, applied, &it);
			assert_true(sc_hold_has(&h, id));
			assert_true(h.count <= 4);
			applied += below(&rng, 6);
		}
	}
	sc_hold_free(&h);
	assert_int_equal(h.count, 0);
	assert_true(h.bytes == 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_empty_value),
		cmocka_unit_test(test_any_order),
		cmocka_unit_test(test_sorted_orders),
		cmocka_unit_test(test_stale_slot),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
