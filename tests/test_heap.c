/*
 * test_heap.c - the min-heap, plain and tracked, against a reference.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "seqcast/heap.h"
#include "testutil.h"

/* Plain: pushes in any order pop out sorted; the same value may be in
 * more than once; it grows from nothing. */
static void
test_plain_sorted(void **state)
{
	struct sc_heap h;
	int64_t keys[] = { 50, 10, 40, 10, -5, 30, 20, 10 };
	int64_t last = INT64_MIN;
	uint32_t n = sizeof(keys) / sizeof(keys[0]);

	(void)state;
	assert_int_equal(sc_heap_init(&h, 0), 0);
	assert_null(sc_heap_top(&h));
	for (uint32_t i = 0; i < n; i++)
		assert_int_equal(sc_heap_push(&h, keys[i], 7), 0);
	assert_int_equal(h.len, n);
	assert_true(sc_heap_top(&h)->key == -5);
	for (uint32_t i = 0; i < n; i++) {
		struct sc_heap_item it = sc_heap_pop(&h);

		assert_true(it.key >= last);
		assert_true(it.value == 7);
		last = it.key;
	}
	assert_true(last == 50);
	assert_null(sc_heap_top(&h));
	sc_heap_free(&h);
}

/* Plain, randomized: many pushes and pops interleaved; each pop is the
 * least key still in (the reference is a count per key). */
static void
test_plain_random(void **state)
{
	struct sc_heap h;
	uint32_t count[256];
	uint64_t rng = 7, in = 0;

	(void)state;
	memset(count, 0, sizeof(count));
	assert_int_equal(sc_heap_init(&h, 4), 0);
	for (int op = 0; op < 100000; op++) {
		if (in == 0 || below(&rng, 3) != 0) {
			uint32_t k = (uint32_t)below(&rng, 256);

			assert_int_equal(sc_heap_push(&h, k, k * 3), 0);
			count[k]++;
			in++;
		} else {
			struct sc_heap_item it = sc_heap_pop(&h);
			uint32_t least = 0;

			while (count[least] == 0)
				least++;
			assert_true(it.key == least);
			assert_true(it.value == (uint64_t)least * 3);
			count[least]--;
			in--;
		}
		assert_int_equal(h.len, in);
	}
	sc_heap_free(&h);
}

/* Tracked, randomized: set (insert or move, earlier or later), remove,
 * pop; the top is always a least key, contains() matches, and popping
 * everything yields the keys in order. */
#define VALUES 500
static void
test_tracked_random(void **state)
{
	struct sc_heap h;
	struct { int in; int64_t key; } ref[VALUES];
	uint64_t rng = 42;
	uint32_t in = 0;

	(void)state;
	memset(ref, 0, sizeof(ref));
	assert_int_equal(sc_heap_init_tracked(&h, VALUES), 0);
	for (int op = 0; op < 50000; op++) {
		uint32_t v = (uint32_t)below(&rng, VALUES);
		uint64_t r = below(&rng, 10);

		if (r < 6) {
			in += !ref[v].in;
			ref[v].in = 1;
			ref[v].key = (int64_t)below(&rng, 2000) - 1000;
			sc_heap_set(&h, v, ref[v].key);
		} else if (r < 8) {
			in -= ref[v].in;
			ref[v].in = 0;
			sc_heap_remove(&h, v);
		} else if (in > 0) {
			struct sc_heap_item it = sc_heap_pop(&h);

			assert_true(ref[it.value].in);
			assert_true(ref[it.value].key == it.key);
			ref[it.value].in = 0;
			in--;
		}
		assert_int_equal(h.len, in);
		assert_int_equal(sc_heap_contains(&h, v), ref[v].in);
		if (in > 0) {
			const struct sc_heap_item *t = sc_heap_top(&h);

			for (uint32_t j = 0; j < VALUES; j++)
				assert_false(ref[j].in && ref[j].key < t->key);
		}
	}
	for (int64_t last = INT64_MIN; h.len > 0;) {
		struct sc_heap_item it = sc_heap_pop(&h);

		assert_true(it.key >= last);
		assert_false(sc_heap_contains(&h, (uint32_t)it.value));
		last = it.key;
	}
	sc_heap_free(&h);
}

/* A tracked heap is fixed: it never grows, never takes a plain push,
 * and a value out of range is not "contained". */
static void
test_tracked_bounds(void **state)
{
	struct sc_heap h;

	(void)state;
	assert_int_equal(sc_heap_init_tracked(&h, 0), -1);
	assert_null(h.item);
	assert_int_equal(sc_heap_init_tracked(&h, 2), 0);
	sc_heap_set(&h, 1, 10);
	sc_heap_set(&h, 0, 20);
	assert_int_equal(sc_heap_push(&h, 5, 1), -1);
	assert_false(sc_heap_contains(&h, 2));
	assert_false(sc_heap_contains(&h, UINT32_MAX));
	assert_true(sc_heap_top(&h)->value == 1);
	sc_heap_set(&h, 1, 30);                 /* move later */
	assert_true(sc_heap_top(&h)->value == 0);
	sc_heap_remove(&h, 0);
	sc_heap_remove(&h, 0);                  /* twice: harmless */
	assert_true(sc_heap_top(&h)->value == 1);
	assert_int_equal(h.len, 1);
	sc_heap_free(&h);
	assert_null(h.item);
	assert_null(h.pos);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_sorted),
		cmocka_unit_test(test_plain_random),
		cmocka_unit_test(test_tracked_random),
		cmocka_unit_test(test_tracked_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
