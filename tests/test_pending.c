/*
 * test_pending.c - pending client requests (daemon/pending.c): the slot
 * pool, the (client, req) index and the re-forward min-heap.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "seqcast/pending.h"
#include "testutil.h"


static struct sockaddr_in
addr_of(uint16_t port)
{
	struct sockaddr_in a;

	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_port = htons(port);
	a.sin_addr.s_addr = htonl(0x7f000001);
	return a;
}

static void
test_add_get_remove(void **state)
{
	struct sc_pending p;
	struct sockaddr_in a1 = addr_of(1001), a2 = addr_of(1002);
	uint8_t v[5] = { 1, 2, 3, 4, 5 };
	struct sc_pend *e, *f;

	(void)state;
	assert_int_equal(sc_pending_init(&p, 8), 0);
	assert_null(sc_pending_get(&p, 1, 1));
	assert_null(sc_pending_first(&p));
	e = sc_pending_add(&p, 1, 1, &a1, v, sizeof v);
	assert_non_null(e);
	v[0] = 99;                            /* the entry has a copy */
	assert_true(e->client == 1 && e->req == 1);
	assert_true(e->id == 0);
	assert_int_equal(e->len, 5);
	assert_non_null(e->value);
	assert_int_equal(e->value[0], 1);
	assert_int_equal(e->value[4], 5);
	assert_memory_equal(&e->addr, &a1, sizeof a1);
	assert_false(sc_heap_contains(&p.heap, (uint32_t)(e - p.e)));
	assert_int_equal(p.count, 1);
	f = sc_pending_add(&p, 1, 2, &a2, NULL, 0);   /* no copy wanted */
	assert_non_null(f);
	assert_true(f != e);
	assert_null(f->value);
	assert_int_equal(f->state, SC_PEND_LOCAL);
	assert_int_equal(e->state, SC_PEND_FORWARDED);
	assert_ptr_equal(sc_pending_get(&p, 1, 1), e);
	assert_ptr_equal(sc_pending_get(&p, 1, 2), f);
	assert_null(sc_pending_get(&p, 2, 1));
	assert_null(sc_pending_get(&p, 1, 3));
	assert_null(sc_pending_first(&p));    /* nothing scheduled */
	assert_int_equal(p.count, 2);
	assert_int_equal(p.peak, 2);
	sc_pending_remove(&p, e);
	assert_null(sc_pending_get(&p, 1, 1));
	assert_ptr_equal(sc_pending_get(&p, 1, 2), f);
	assert_int_equal(p.count, 1);
	sc_pending_remove(&p, e);             /* twice: nothing */
	assert_int_equal(p.count, 1);
	assert_ptr_equal(sc_pending_get(&p, 1, 2), f);
	/* an empty value is a value */
	e = sc_pending_add(&p, 3, 3, &a1, v, 0);
	assert_non_null(e);
	assert_non_null(e->value);
	assert_int_equal(e->len, 0);
	sc_pending_remove(&p, f);
	sc_pending_remove(&p, e);
	assert_int_equal(p.count, 0);
	assert_int_equal(p.peak, 2);
	sc_pending_free(&p);
}

static void
test_full(void **state)
{
	struct sc_pending p;
	struct sockaddr_in a = addr_of(7);
	uint8_t v[3] = { 7, 8, 9 };
	struct sc_pend *e[4];

	(void)state;
	assert_int_equal(sc_pending_init(&p, 4), 0);
	for (int i = 0; i < 4; i++) {
		e[i] = sc_pending_add(&p, 10, (uint64_t)i, &a, v, 3);
		assert_non_null(e[i]);
	}
	assert_null(sc_pending_add(&p, 10, 100, &a, v, 3));
	assert_null(sc_pending_add(&p, 11, 0, &a, NULL, 0));
	assert_null(sc_pending_get(&p, 10, 100));
	assert_int_equal(p.count, 4);
	for (int i = 0; i < 4; i++)
		assert_ptr_equal(sc_pending_get(&p, 10, (uint64_t)i), e[i]);
	/* room again after a remove, the freed slot reused */
	sc_pending_remove(&p, e[2]);
	e[2] = sc_pending_add(&p, 10, 100, &a, v, 3);
	assert_non_null(e[2]);
	assert_ptr_equal(sc_pending_get(&p, 10, 100), e[2]);
	assert_null(sc_pending_get(&p, 10, 2));
	assert_null(sc_pending_add(&p, 10, 101, &a, v, 3));
	/* the pool cycles many times without leaking a slot */
	for (uint64_t r = 1000; r < 5000; r++) {
		struct sc_pend *x = sc_pending_add(&p, 10, r, &a, v, 3);

		assert_null(x);
		sc_pending_remove(&p, sc_pending_get(&p, 10,
		    r == 1000 ? 0 : r - 1));
		x = sc_pending_add(&p, 10, r, &a, v, 3);
		assert_non_null(x);
		assert_int_equal(p.count, 4);
	}
	sc_pending_free(&p);   /* values still held are freed (ASan) */
}

/* Stamped: out of the heap, value kept (a view change may need it),
 * still findable until removed; unstamped: scheduled again. */
static void
test_stamped(void **state)
{
	struct sc_pending p;
	struct sockaddr_in a = addr_of(9);
	uint8_t v[100];
	struct sc_pend *e[3];

	(void)state;
	memset(v, 0x5a, sizeof v);
	assert_int_equal(sc_pending_init(&p, 16), 0);
	for (int i = 0; i < 3; i++) {
		e[i] = sc_pending_add(&p, 1, (uint64_t)i, &a, v, sizeof v);
		assert_non_null(e[i]);
		sc_pending_schedule(&p, e[i], 100 * (i + 1));
	}
	assert_ptr_equal(sc_pending_first(&p), e[0]);
	assert_int_equal(e[0]->state, SC_PEND_FORWARDED);
	sc_pending_stamped(&p, e[0], 77);
	assert_true(e[0]->id == 77);
	assert_int_equal(e[0]->state, SC_PEND_STAMPED);
	assert_non_null(e[0]->value);
	assert_int_equal(e[0]->value[99], 0x5a);
	assert_false(sc_heap_contains(&p.heap, (uint32_t)(e[0] - p.e)));
	assert_ptr_equal(sc_pending_first(&p), e[1]);
	assert_ptr_equal(sc_pending_get(&p, 1, 0), e[0]);
	assert_int_equal(p.count, 3);
	/* stamping twice, or something not scheduled, is harmless */
	sc_pending_stamped(&p, e[0], 77);
	assert_ptr_equal(sc_pending_first(&p), e[1]);
	sc_pending_stamped(&p, e[2], 78);
	assert_ptr_equal(sc_pending_first(&p), e[1]);
	sc_pending_stamped(&p, e[1], 79);
	assert_null(sc_pending_first(&p));
	sc_pending_unstamp(&p, e[1], 50);
	assert_int_equal(e[1]->state, SC_PEND_FORWARDED);
	assert_true(e[1]->id == 0);
	assert_ptr_equal(sc_pending_first(&p), e[1]);
	for (int i = 0; i < 3; i++)
		sc_pending_remove(&p, e[i]);
	assert_int_equal(p.count, 0);
	sc_pending_free(&p);
}

/* Reschedule up, down, and removal of the first. */
static void
test_schedule_simple(void **state)
{
	struct sc_pending p;
	struct sockaddr_in a = addr_of(9);
	struct sc_pend *e[5];

	(void)state;
	assert_int_equal(sc_pending_init(&p, 8), 0);
	for (int i = 0; i < 5; i++) {
		e[i] = sc_pending_add(&p, 2, (uint64_t)i, &a, NULL, 0);
		assert_non_null(e[i]);
	}
	sc_pending_schedule(&p, e[0], 500);
	assert_ptr_equal(sc_pending_first(&p), e[0]);
	sc_pending_schedule(&p, e[1], 400);
	sc_pending_schedule(&p, e[2], 600);
	sc_pending_schedule(&p, e[3], 300);
	assert_ptr_equal(sc_pending_first(&p), e[3]);
	sc_pending_schedule(&p, e[3], 700);       /* later */
	assert_ptr_equal(sc_pending_first(&p), e[1]);
	sc_pending_schedule(&p, e[2], 100);       /* earlier */
	assert_ptr_equal(sc_pending_first(&p), e[2]);
	assert_true(sc_pending_first(&p)->due == 100);
	sc_pending_remove(&p, e[2]);
	assert_ptr_equal(sc_pending_first(&p), e[1]);
	sc_pending_remove(&p, e[1]);
	assert_ptr_equal(sc_pending_first(&p), e[0]);
	sc_pending_remove(&p, e[0]);
	assert_ptr_equal(sc_pending_first(&p), e[3]);
	sc_pending_remove(&p, e[3]);
	assert_null(sc_pending_first(&p));
	sc_pending_remove(&p, e[4]);
	assert_int_equal(p.count, 0);
	sc_pending_free(&p);
}

/* Randomized against a reference: adds, schedules, reschedules,
 * removals, stamps; sc_pending_first is always an earliest due, and
 * popping everything yields the deadlines in order. */
#define PCAP 300
#define KEYS 1000
static void
test_heap_random(void **state)
{
	struct sc_pending p;
	struct sockaddr_in a = addr_of(4);
	struct {
		int in;          /* in the table */
		int sched;       /* in the heap */
		int stamped;
		int64_t due;
	} ref[KEYS];
	uint64_t rng = 99;
	uint32_t count = 0;
	uint8_t v[16];

	(void)state;
	memset(ref, 0, sizeof ref);
	assert_int_equal(sc_pending_init(&p, PCAP), 0);
	for (int op = 0; op < 200000; op++) {
		int k = (int)below(&rng, KEYS);
		uint64_t r = below(&rng, 100);
		struct sc_pend *e = sc_pending_get(&p, 5, (uint64_t)k);

		assert_true((e != NULL) == ref[k].in);
		if (!ref[k].in) {
			if (r >= 60)
				continue;
			memset(v, k & 0xff, sizeof v);
			e = sc_pending_add(&p, 5, (uint64_t)k, &a, v,
			    (uint32_t)(k % 17));
			if (count == PCAP) {
				assert_null(e);
				continue;
			}
			assert_non_null(e);
			count++;
			ref[k].in = 1;
			ref[k].sched = 0;
			ref[k].stamped = 0;
			if (below(&rng, 4) != 0) {
				ref[k].due = (int64_t)below(&rng, 1000);
				sc_pending_schedule(&p, e, ref[k].due);
				ref[k].sched = 1;
			}
		} else if (r < 40) {
			/* reschedule (earlier or later) */
			ref[k].due = (int64_t)below(&rng, 1000);
			sc_pending_schedule(&p, e, ref[k].due);
			ref[k].sched = 1;
		} else if (r < 60) {
			sc_pending_remove(&p, e);
			ref[k].in = 0;
			ref[k].sched = 0;
			count--;
		} else if (r < 70) {
			sc_pending_stamped(&p, e, (uint64_t)k + 1);
			ref[k].sched = 0;
			ref[k].stamped = 1;
			assert_int_equal(e->state, SC_PEND_STAMPED);
		} else if (r < 80 && sc_pending_first(&p) != NULL) {
			/* the retry loop: take the first, push it back */
			struct sc_pend *f = sc_pending_first(&p);
			int fk = (int)f->req;

			ref[fk].due += 1 + (int64_t)below(&rng, 500);
			sc_pending_schedule(&p, f, ref[fk].due);
		} else {
			/* content intact */
			assert_true(e->client == 5 && e->req == (uint64_t)k);
			assert_int_equal(e->len, (uint32_t)(k % 17));
			if (ref[k].stamped)
				assert_true(e->id == (uint64_t)k + 1);
			assert_non_null(e->value);
			for (uint32_t j = 0; j < e->len; j++)
				assert_int_equal(e->value[j], k & 0xff);
		}
		assert_int_equal(p.count, count);
		/* the first is an earliest due among the scheduled */
		{
			int64_t lowest = INT64_MAX;
			uint32_t nsched = 0;
			struct sc_pend *f = sc_pending_first(&p);

			for (int j = 0; j < KEYS; j++)
				if (ref[j].in && ref[j].sched) {
					nsched++;
					if (ref[j].due < lowest)
						lowest = ref[j].due;
				}
			assert_int_equal(p.heap.len, nsched);
			if (nsched == 0) {
				assert_null(f);
			} else {
				assert_non_null(f);
				assert_true(f->due == lowest);
				assert_true(ref[f->req].in &&
				    ref[f->req].sched);
			}
		}
	}
	/* pop everything: deadlines come out in order */
	{
		int64_t last = INT64_MIN;
		struct sc_pend *f;
		uint32_t popped = 0;

		while ((f = sc_pending_first(&p)) != NULL) {
			assert_true(f->due >= last);
			last = f->due;
			if (popped % 2)
				sc_pending_stamped(&p, f, 1);
			else
				sc_pending_remove(&p, f);
			popped++;
		}
		assert_true(popped > 10);
	}
	sc_pending_free(&p);   /* the rest, values included (ASan) */
}

/*
 * A failed init must leave nothing behind: sc_node_free calls
 * sc_pending_free unconditionally after a failed sc_node_init. Here the
 * index table refuses its size after the slots and heap were allocated
 * (cap 0 here; in the daemon any pending_max in (2^30, 2^32), which the
 * config accepts). Checked without calling sc_pending_free, which would
 * double-free and take the whole test program down.
 */
/* Forwards in sending order: an entry applied from datagram k shows
 * every unstamped entry whose latest forward went before k as lost, once
 * per forward; stamped, removed and reused slots are not reported, and a
 * re-forward is reported again only when a later datagram overtakes it. */
static void
test_overtaken(void **state)
{
	struct sc_pending p;
	struct sockaddr_in a = addr_of(1);
	struct sc_pend *e[6];
	const uint8_t v[] = "v";

	(void)state;
	assert_int_equal(sc_pending_init(&p, 4), 0);
	for (int i = 0; i < 4; i++)
		assert_non_null(e[i] = sc_pending_add(&p, 7, (uint64_t)i + 1,
		    &a, v, 1));
	sc_pending_forwarded(&p, e[0], 0);      /* a, b in datagram 0 */
	sc_pending_forwarded(&p, e[1], 0);
	sc_pending_forwarded(&p, e[2], 1);      /* c in 1 */
	sc_pending_forwarded(&p, e[3], 2);      /* d in 2 */
	/* nothing is overtaken by datagram 0 */
	assert_null(sc_pending_overtaken(&p, 0));
	/* an entry of datagram 1 applied: a and b were lost, oldest first */
	assert_ptr_equal(sc_pending_overtaken(&p, 1), e[0]);
	assert_ptr_equal(sc_pending_overtaken(&p, 1), e[1]);
	assert_null(sc_pending_overtaken(&p, 1));
	/* a is forwarded again (datagram 3), b turns out stamped */
	sc_pending_forwarded(&p, e[0], 3);
	sc_pending_stamped(&p, e[1], 55);
	/* datagram 2 overtakes c only: a's new forward is later */
	assert_ptr_equal(sc_pending_overtaken(&p, 2), e[2]);
	assert_null(sc_pending_overtaken(&p, 2));
	/* d is applied and removed, its slot reused by a new request f
	 * forwarded in 4: d's old record must not report f */
	sc_pending_remove(&p, e[3]);
	assert_non_null(e[5] = sc_pending_add(&p, 7, 99, &a, v, 1));
	assert_ptr_equal(e[5], e[3]);           /* the same slot */
	sc_pending_forwarded(&p, e[5], 4);
	/* datagram 4 overtakes a's re-forward (3), not f */
	assert_ptr_equal(sc_pending_overtaken(&p, 4), e[0]);
	assert_null(sc_pending_overtaken(&p, 4));
	assert_ptr_equal(sc_pending_overtaken(&p, 5), e[5]);
	assert_null(sc_pending_overtaken(&p, 100));
	/* the record ring is bounded (2 x cap): the oldest is forgotten */
	for (uint64_t d = 10; d < 10 + 3 * 4; d++)
		sc_pending_forwarded(&p, e[0], d);
	assert_true(p.fifo_len == p.fifo_cap);
	assert_ptr_equal(sc_pending_overtaken(&p, 100), e[0]);  /* latest */
	assert_null(sc_pending_overtaken(&p, 100));
	sc_pending_free(&p);

	/* a slot reused within one datagram: the old record is stale (the
	 * slot's generation moved on), the new entry is reported once */
	assert_int_equal(sc_pending_init(&p, 4), 0);
	assert_non_null(e[0] = sc_pending_add(&p, 8, 1, &a, v, 1));
	sc_pending_forwarded(&p, e[0], 5);
	sc_pending_remove(&p, e[0]);
	assert_non_null(e[1] = sc_pending_add(&p, 8, 2, &a, v, 1));
	assert_ptr_equal(e[1], e[0]);
	sc_pending_forwarded(&p, e[1], 5);
	assert_ptr_equal(sc_pending_overtaken(&p, 6), e[1]);
	assert_null(sc_pending_overtaken(&p, 6));
	sc_pending_free(&p);
}

static void
test_init_failure(void **state)
{
	struct sc_pending p;

	(void)state;
	memset(&p, 0, sizeof p);
	assert_int_equal(sc_pending_init(&p, 0), -1);
	assert_null(p.e);
	assert_null(p.heap.item);
	assert_null(p.index.slots);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_get_remove),
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_stamped),
		cmocka_unit_test(test_schedule_simple),
		cmocka_unit_test(test_heap_random),
		cmocka_unit_test(test_init_failure),
		cmocka_unit_test(test_overtaken),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
