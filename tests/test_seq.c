/*
 * test_seq.c - the sequencer (daemon/seq.c) and the (u64, u64) -> u64 hash
 * table under it (daemon/table.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "seqcast/seq.h"
#include "seqcast/table.h"
#include "testutil.h"


/* ---------------------------------------------------------------- seq */

#define CLIENTS 997
#define REQUESTS 100000

/* 100k new requests from many clients, interleaved: ids 1, 2, 3, ... with
 * no gap and no repeat, and sc_seq_highest follows. */
static void
test_seq_ids_contiguous(void **state)
{
	struct sc_seq s;
	uint64_t reqno[CLIENTS], cids[CLIENTS], rng = 1, id;
	uint8_t *given = calloc(REQUESTS + 2, 1);

	(void)state;
	assert_non_null(given);
	for (int c = 0; c < CLIENTS; c++) {
		cids[c] = rnd(&rng);
		reqno[c] = 0;
	}
	assert_int_equal(sc_seq_init(&s, 4096, 1), 0);
	assert_true(sc_seq_highest(&s) == 0);
	for (uint64_t i = 1; i <= REQUESTS; i++) {
		int c = (int)below(&rng, CLIENTS);

		id = 0;
		assert_int_equal(sc_seq_stamp(&s, cids[c], ++reqno[c], &id),
		    SC_SEQ_NEW);
		assert_true(id == i);
		assert_false(given[id]);
		given[id] = 1;
		assert_true(sc_seq_highest(&s) == i);
		/* memory bounded at dedup_max */
		assert_true(s.dedup.count <= 4096);
	}
	for (uint64_t i = 1; i <= REQUESTS; i++)
		assert_true(given[i]);
	assert_true(s.evicted == REQUESTS - 4096);
	sc_seq_free(&s);
	free(given);
}

/* A repeated (client, req) gets its first id and the counter stays. */
static void
test_seq_repeat(void **state)
{
	struct sc_seq s;
	uint64_t id;

	(void)state;
	assert_int_equal(sc_seq_init(&s, 16, 0), 0);
	assert_true(sc_seq_highest(&s) == 0);
	assert_int_equal(sc_seq_stamp(&s, 7, 1, &id), SC_SEQ_NEW);
	assert_true(id == 1);
	for (int i = 0; i < 10; i++) {
		id = 999;
		assert_int_equal(sc_seq_stamp(&s, 7, 1, &id), SC_SEQ_REPEAT);
		assert_true(id == 1);
		assert_true(sc_seq_highest(&s) == 1);
	}
	/* same req number from another client, another req from the same
	 * client: both new */
	assert_int_equal(sc_seq_stamp(&s, 8, 1, &id), SC_SEQ_NEW);
	assert_true(id == 2);
	assert_int_equal(sc_seq_stamp(&s, 7, 2, &id), SC_SEQ_NEW);
	assert_true(id == 3);
	assert_int_equal(sc_seq_stamp(&s, 7, 1, &id), SC_SEQ_REPEAT);
	assert_true(id == 1);
	assert_int_equal(sc_seq_stamp(&s, 8, 1, &id), SC_SEQ_REPEAT);
	assert_true(id == 2);
	assert_true(sc_seq_highest(&s) == 3);
	assert_true(s.evicted == 0);
	sc_seq_free(&s);
}

/* A forgotten request (its entry was cut) is stamped anew; forgetting
 * with another id changes nothing; an old FIFO copy of a key stamped
 * again does not evict the newer memory. */
static void
test_seq_forget(void **state)
{
	struct sc_seq s;
	uint64_t id;

	(void)state;
	assert_int_equal(sc_seq_init(&s, 3, 1), 0);
	assert_int_equal(sc_seq_stamp(&s, 7, 1, &id), SC_SEQ_NEW);
	assert_true(id == 1);
	sc_seq_forget(&s, 7, 1, 2);
	assert_int_equal(sc_seq_stamp(&s, 7, 1, &id), SC_SEQ_REPEAT);
	sc_seq_forget(&s, 7, 1, 1);
	s.next = 1;                        /* the log was cut back */
	assert_int_equal(sc_seq_stamp(&s, 8, 1, &id), SC_SEQ_NEW);
	assert_true(id == 1);
	assert_int_equal(sc_seq_stamp(&s, 7, 1, &id), SC_SEQ_NEW);
	assert_true(id == 2);
	/* the FIFO now holds (7,1,1), (8,1,1), (7,1,2): one more evicts
	 * the stale (7,1,1) copy, which must leave (7,1) -> 2 alone */
	assert_int_equal(sc_seq_stamp(&s, 9, 1, &id), SC_SEQ_NEW);
	assert_int_equal(sc_seq_stamp(&s, 7, 1, &id), SC_SEQ_REPEAT);
	assert_true(id == 2);
	sc_seq_free(&s);
}

/* first_id continues a sequence. */
static void
test_seq_first_id(void **state)
{
	struct sc_seq s;
	uint64_t id;

	(void)state;
	assert_int_equal(sc_seq_init(&s, 4, 100), 0);
	assert_int_equal(sc_seq_stamp(&s, 1, 1, &id), SC_SEQ_NEW);
	assert_true(id == 100);
	assert_true(sc_seq_highest(&s) == 100);
	assert_int_equal(sc_seq_stamp(&s, 1, 2, &id), SC_SEQ_NEW);
	assert_true(id == 101);
	assert_true(sc_seq_highest(&s) == 101);
	sc_seq_free(&s);
}

/* New requests interleaved with repeats of recent ones (within the dedup
 * window): repeats always get their id, new ones the next id. */
#define WIN 512
static void
test_seq_interleaved_repeats(void **state)
{
	struct sc_seq s;
	struct { uint64_t client, req, id; } *hist;
	uint64_t rng = 42, id, next = 1, n = 0, repeats = 0;

	(void)state;
	hist = calloc(REQUESTS, sizeof(*hist));
	assert_non_null(hist);
	assert_int_equal(sc_seq_init(&s, WIN, 1), 0);
	while (n < REQUESTS) {
		if (n > 0 && below(&rng, 3) == 0) {
			/* a retry of one of the last WIN new requests */
			uint64_t back = below(&rng, n < WIN ? n : WIN);
			uint64_t k = n - 1 - back;

			assert_int_equal(sc_seq_stamp(&s, hist[k].client,
			    hist[k].req, &id), SC_SEQ_REPEAT);
			assert_true(id == hist[k].id);
			assert_true(sc_seq_highest(&s) == next - 1);
			repeats++;
			continue;
		}
		hist[n].client = below(&rng, 50);
		hist[n].req = n + 1;          /* unique per request */
		assert_int_equal(sc_seq_stamp(&s, hist[n].client, hist[n].req,
		    &id), SC_SEQ_NEW);
		assert_true(id == next);
		hist[n].id = next++;
		n++;
	}
	assert_true(repeats > REQUESTS / 4);
	assert_true(sc_seq_highest(&s) == REQUESTS);
	sc_seq_free(&s);
	free(hist);
}

/* The memory is bounded at dedup_max, FIFO: after dedup_max newer
 * requests an old one is forgotten and gets a new id. */
static void
test_seq_dedup_fifo(void **state)
{
	struct sc_seq s;
	const uint32_t max = 8;
	uint64_t id;

	(void)state;
	assert_int_equal(sc_seq_init(&s, max, 1), 0);
	/* A = (1, 1) gets id 1; then max-1 newer: A still remembered */
	assert_int_equal(sc_seq_stamp(&s, 1, 1, &id), SC_SEQ_NEW);
	for (uint64_t r = 2; r <= max; r++)
		assert_int_equal(sc_seq_stamp(&s, 2, r, &id), SC_SEQ_NEW);
	assert_int_equal(sc_seq_stamp(&s, 1, 1, &id), SC_SEQ_REPEAT);
	assert_true(id == 1);
	assert_true(s.evicted == 0);
	assert_true(s.dedup.count == max);
	/* the repeat did not refresh A (FIFO, not LRU): one more newer
	 * request forgets it */
	assert_int_equal(sc_seq_stamp(&s, 2, 100, &id), SC_SEQ_NEW);
	assert_true(id == max + 1);
	assert_true(s.evicted == 1);
	assert_true(s.dedup.count == max);
	/* (2, 2) is the oldest remembered: still a repeat */
	assert_int_equal(sc_seq_stamp(&s, 2, 2, &id), SC_SEQ_REPEAT);
	assert_true(id == 2);
	/* A is new again: a new id, and that evicts (2, 2) */
	assert_int_equal(sc_seq_stamp(&s, 1, 1, &id), SC_SEQ_NEW);
	assert_true(id == max + 2);
	assert_true(s.evicted == 2);
	assert_int_equal(sc_seq_stamp(&s, 1, 1, &id), SC_SEQ_REPEAT);
	assert_true(id == max + 2);
	assert_int_equal(sc_seq_stamp(&s, 2, 2, &id), SC_SEQ_NEW);
	assert_true(id == max + 3);
	assert_true(s.evicted == 3);
	assert_true(s.dedup.count == max);
	assert_true(sc_seq_highest(&s) == max + 3);
	sc_seq_free(&s);
}

/* Over a long run, exactly the last dedup_max new requests are
 * remembered. */
static void
test_seq_dedup_window_long(void **state)
{
	struct sc_seq s;
	const uint32_t max = 100;
	uint64_t id, rng = 9;

	(void)state;
	assert_int_equal(sc_seq_init(&s, max, 1), 0);
	for (uint64_t i = 1; i <= 20000; i++) {
		assert_int_equal(sc_seq_stamp(&s, 5, i, &id), SC_SEQ_NEW);
		assert_true(id == i);
		if (i % 97 == 0) {
			/* a random one of the last max: repeat */
			uint64_t k = i - below(&rng, max);

			assert_int_equal(sc_seq_stamp(&s, 5, k, &id),
			    SC_SEQ_REPEAT);
			assert_true(id == k);
		}
		assert_true(s.evicted == (i > max ? i - max : 0));
		assert_true(s.dedup.count == (i > max ? max : i));
	}
	/* one older than the window: forgotten, new id */
	assert_int_equal(sc_seq_stamp(&s, 5, 20000 - max, &id), SC_SEQ_NEW);
	assert_true(id == 20001);
	sc_seq_free(&s);
}

/* sc_seq_remember: a restarted coordinator replays its log into the dedup
 * memory; the counter does not move, repeats get the remembered ids, and
 * the memory stays bounded and FIFO. */
static void
test_seq_remember(void **state)
{
	struct sc_seq s;
	const uint32_t max = 100;
	uint64_t id;

	(void)state;
	assert_int_equal(sc_seq_init(&s, max, 1), 0);
	sc_seq_remember(&s, 9, 9, 5);
	assert_true(sc_seq_highest(&s) == 0);     /* counter not moved */
	assert_int_equal(sc_seq_stamp(&s, 9, 9, &id), SC_SEQ_REPEAT);
	assert_true(id == 5);
	/* remembering a known request again changes nothing */
	sc_seq_remember(&s, 9, 9, 6);
	assert_int_equal(sc_seq_stamp(&s, 9, 9, &id), SC_SEQ_REPEAT);
	assert_true(id == 5);
	assert_true(s.dedup.count == 1);
	assert_true(s.fifo_len == 1);
	sc_seq_free(&s);

	/* replay of 1000 entries, then the counter resumes after them */
	assert_int_equal(sc_seq_init(&s, max, 1), 0);
	for (uint64_t i = 1; i <= 1000; i++) {
		sc_seq_remember(&s, 3, 10 * i, i);
		assert_true(s.dedup.count == (i < max ? i : max));
	}
	assert_true(s.evicted == 1000 - max);
	s.next = 1001;                            /* as node_durable.c does */
	assert_true(sc_seq_highest(&s) == 1000);
	/* the last max are remembered */
	for (uint64_t i = 1000 - max + 1; i <= 1000; i++) {
		assert_int_equal(sc_seq_stamp(&s, 3, 10 * i, &id),
		    SC_SEQ_REPEAT);
		assert_true(id == i);
	}
	assert_true(sc_seq_highest(&s) == 1000);
	/* older ones are forgotten: a new id */
	assert_int_equal(sc_seq_stamp(&s, 3, 10 * (1000 - max), &id),
	    SC_SEQ_NEW);
	assert_true(id == 1001);
	/* remembered and stamped entries share one FIFO */
	assert_int_equal(sc_seq_stamp(&s, 3, 10 * (1000 - max + 1), &id),
	    SC_SEQ_NEW);
	assert_true(id == 1002);
	assert_true(s.dedup.count == max);
	sc_seq_free(&s);
}

/*
 * A failed init must leave nothing behind for a later free: sc_node_free
 * calls sc_seq_free when seq.fifo != NULL. Here the dedup table refuses
 * its size after the FIFO was allocated (dedup_max 0 here; in the daemon
 * any dedup_max in (2^30, 2^32), which the config accepts).
 */
static void
test_seq_init_bad(void **state)
{
	struct sc_seq s;

	(void)state;
	memset(&s, 0, sizeof s);
	assert_int_equal(sc_seq_init(&s, 0, 1), -1);
	/* freed but left dangling: sc_seq_free would free it again */
	assert_null(s.fifo);
}

/* -------------------------------------------------------------- table */

static void
test_table_basic(void **state)
{
	struct sc_table t;
	uint64_t v = 0;

	(void)state;
	assert_int_equal(sc_table_init(&t, 100), 0);
	assert_int_equal(sc_table_get(&t, 1, 2, &v), 0);
	assert_int_equal(sc_table_put(&t, 1, 2, 12), 0);
	assert_int_equal(sc_table_put(&t, 2, 1, 21), 0);
	assert_int_equal(sc_table_put(&t, 0, 0, 0), 0);
	assert_true(t.count == 3);
	assert_int_equal(sc_table_get(&t, 1, 2, &v), 1);
	assert_true(v == 12);
	assert_int_equal(sc_table_get(&t, 2, 1, &v), 1);
	assert_true(v == 21);
	v = 5;
	assert_int_equal(sc_table_get(&t, 0, 0, &v), 1);
	assert_true(v == 0);
	assert_int_equal(sc_table_get(&t, 1, 2, NULL), 1);
	assert_int_equal(sc_table_get(&t, 1, 1, NULL), 0);
	/* overwrite */
	assert_int_equal(sc_table_put(&t, 1, 2, 99), 0);
	assert_true(t.count == 3);
	assert_int_equal(sc_table_get(&t, 1, 2, &v), 1);
	assert_true(v == 99);
	/* delete */
	assert_int_equal(sc_table_del(&t, 1, 2), 1);
	assert_int_equal(sc_table_del(&t, 1, 2), 0);
	assert_int_equal(sc_table_del(&t, 7, 7), 0);
	assert_true(t.count == 2);
	assert_int_equal(sc_table_get(&t, 1, 2, &v), 0);
	assert_int_equal(sc_table_get(&t, 2, 1, &v), 1);
	assert_true(v == 21);
	sc_table_free(&t);
	assert_int_equal(sc_table_init(&t, 0), -1);
}

static void
test_table_full(void **state)
{
	struct sc_table t;
	uint64_t v;

	(void)state;
	assert_int_equal(sc_table_init(&t, 5), 0);
	for (uint64_t k = 0; k < 5; k++)
		assert_int_equal(sc_table_put(&t, k, k + 1, k * 10), 0);
	assert_true(t.count == 5);
	assert_int_equal(sc_table_put(&t, 100, 100, 1), -1);
	assert_int_equal(sc_table_get(&t, 100, 100, NULL), 0);
	assert_true(t.count == 5);
	/* overwrites still work when full */
	for (uint64_t k = 0; k < 5; k++)
		assert_int_equal(sc_table_put(&t, k, k + 1, k * 10 + 1), 0);
	assert_true(t.count == 5);
	for (uint64_t k = 0; k < 5; k++) {
		assert_int_equal(sc_table_get(&t, k, k + 1, &v), 1);
		assert_true(v == k * 10 + 1);
	}
	/* room after a delete */
	assert_int_equal(sc_table_del(&t, 2, 3), 1);
	assert_int_equal(sc_table_put(&t, 100, 100, 1), 0);
	assert_int_equal(sc_table_put(&t, 101, 101, 1), -1);
	assert_int_equal(sc_table_get(&t, 100, 100, &v), 1);
	assert_true(v == 1);
	sc_table_free(&t);
}

/* The slot a key lands in when it is alone in the table: its home. */
static uint32_t
home_of(struct sc_table *t, uint64_t k1, uint64_t k2)
{
	uint32_t i, home = UINT32_MAX;

	assert_true(t->count == 0);
	assert_int_equal(sc_table_put(t, k1, k2, 0), 0);
	for (i = 0; i <= t->mask; i++)
		if (t->slots[i].dist != 0)
			home = i;
	assert_int_equal(sc_table_del(t, k1, k2), 1);
	return home;
}

/* Crafted collisions around the wrap of the slot array: probe runs that
 * cross from the last slot to slot 0, with deletions in every order. */
static void
test_table_wrap_runs(void **state)
{
	struct sc_table t;
	uint64_t keys[8];
	uint32_t want[8] = { 15, 15, 14, 0, 15, 0, 1, 14 };
	int nk = 0;
	uint64_t rng = 3;

	(void)state;
	assert_int_equal(sc_table_init(&t, 8), 0);   /* 16 slots */
	assert_true(t.mask == 15);
	for (int w = 0; w < 8; w++) {
		for (uint64_t k = 1;; k++) {
			int dup = 0;

			for (int j = 0; j < nk; j++)
				dup |= keys[j] == k;
			if (!dup && home_of(&t, 77, k) == want[w]) {
				keys[nk++] = k;
				break;
			}
		}
	}
	for (int round = 0; round < 2000; round++) {
		int order[8], present[8];

		for (int j = 0; j < 8; j++) {
			order[j] = j;
			present[j] = 0;
		}
		/* insert in a random order, delete in another */
		for (int j = 7; j > 0; j--) {
			int x = (int)below(&rng, (uint64_t)j + 1), tmp = order[j];

			order[j] = order[x];
			order[x] = tmp;
		}
		for (int j = 0; j < 8; j++) {
			assert_int_equal(sc_table_put(&t, 77, keys[order[j]],
			    keys[order[j]] * 3), 0);
			present[order[j]] = 1;
		}
		for (int j = 7; j > 0; j--) {
			int x = (int)below(&rng, (uint64_t)j + 1), tmp = order[j];

			order[j] = order[x];
			order[x] = tmp;
		}
		for (int j = 0; j < 8; j++) {
			assert_int_equal(sc_table_del(&t, 77, keys[order[j]]),
			    1);
			present[order[j]] = 0;
			for (int m = 0; m < 8; m++) {
				uint64_t v = 0;

				assert_int_equal(sc_table_get(&t, 77, keys[m],
				    &v), present[m]);
				if (present[m])
					assert_true(v == keys[m] * 3);
			}
		}
		assert_true(t.count == 0);
	}
	sc_table_free(&t);
}

/* Randomized against a reference array: 100k operations, many deletes,
 * the table often full. */
#define TKEYS 3000
#define TMAX 1024
static void
test_table_random(void **state)
{
	struct sc_table t;
	struct { uint64_t k1, k2, v; int in; } *ref;
	uint64_t rng = 2024;
	uint32_t count = 0, fulls = 0, dels = 0;

	(void)state;
	ref = calloc(TKEYS, sizeof(*ref));
	assert_non_null(ref);
	for (int i = 0; i < TKEYS; i++) {
		/* few distinct k1: sequential request numbers per client */
		ref[i].k1 = 1000 + (uint64_t)(i % 7);
		ref[i].k2 = (uint64_t)(i / 7);
	}
	assert_int_equal(sc_table_init(&t, TMAX), 0);
	for (int op = 0; op < 100000; op++) {
		int i = (int)below(&rng, TKEYS);
		uint64_t r = below(&rng, 10), v;

		if (r < 5) {
			uint64_t nv = rnd(&rng);
			int rc = sc_table_put(&t, ref[i].k1, ref[i].k2, nv);

			if (!ref[i].in && count == TMAX) {
				assert_int_equal(rc, -1);
				fulls++;
			} else {
				assert_int_equal(rc, 0);
				if (!ref[i].in)
					count++;
				ref[i].in = 1;
				ref[i].v = nv;
			}
		} else if (r < 9) {
			assert_int_equal(sc_table_del(&t, ref[i].k1, ref[i].k2),
			    ref[i].in);
			if (ref[i].in) {
				count--;
				dels++;
			}
			ref[i].in = 0;
		} else {
			assert_int_equal(sc_table_get(&t, ref[i].k1, ref[i].k2,
			    &v), ref[i].in);
			if (ref[i].in)
				assert_true(v == ref[i].v);
		}
		assert_true(t.count == count);
		if (op % 500 == 0 || op > 99000) {
			for (int j = 0; j < TKEYS; j++) {
				v = ~0ULL;
				assert_int_equal(sc_table_get(&t, ref[j].k1,
				    ref[j].k2, &v), ref[j].in);
				if (ref[j].in)
					assert_true(v == ref[j].v);
			}
		}
	}
	assert_true(fulls > 1000);    /* the full case was exercised */
	assert_true(dels > 10000);
	sc_table_free(&t);
	free(ref);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seq_ids_contiguous),
		cmocka_unit_test(test_seq_repeat),
		cmocka_unit_test(test_seq_first_id),
		cmocka_unit_test(test_seq_forget),
		cmocka_unit_test(test_seq_interleaved_repeats),
		cmocka_unit_test(test_seq_dedup_fifo),
		cmocka_unit_test(test_seq_dedup_window_long),
		cmocka_unit_test(test_seq_remember),
		cmocka_unit_test(test_seq_init_bad),
		cmocka_unit_test(test_table_basic),
		cmocka_unit_test(test_table_full),
		cmocka_unit_test(test_table_wrap_runs),
		cmocka_unit_test(test_table_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
