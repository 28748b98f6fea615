/*
 * test_fault.c - seeded fault injection (daemon/fault.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "seqcast/fault.h"
#include "seqcast/rng.h"
#include "seqcast/wire.h"

#define DRAWS 100000

static void rates(struct sc_fault_conf *c, int dir, double drop, double dup,
    double reorder, double delay)
{
	c->dir[dir].drop = drop;
	c->dir[dir].dup = dup;
	c->dir[dir].reorder = reorder;
	c->dir[dir].delay = delay;
}

static void test_determinism(void **state)
{
	struct sc_fault_conf c;
	struct sc_fault a, b, other_seed, other_id;
	int diff_seed = 0, diff_id = 0;

	(void)state;
	memset(&c, 0, sizeof c);
	rates(&c, SC_IN, 0.2, 0.1, 0.1, 0.1);
	rates(&c, SC_OUT, 0.1, 0.1, 0.1, 0.1);
	c.seed = 12345;
	sc_fault_init(&a, &c, 1);
	sc_fault_init(&b, &c, 1);
	c.seed = 12346;
	sc_fault_init(&other_seed, &c, 1);
	c.seed = 12345;
	sc_fault_init(&other_id, &c, 2);
	for (int i = 0; i < DRAWS; i++) {
		enum sc_dir d = (i % 3) ? SC_IN : SC_OUT;
		int t = 1 + i % (SC_TYPE_COUNT - 1);
		enum sc_fault_action x = sc_fault_decide(&a, d, t, (uint64_t)i);
		assert_int_equal(x, sc_fault_decide(&b, d, t, (uint64_t)i));
		diff_seed += x != sc_fault_decide(&other_seed, d, t,
		    (uint64_t)i);
		diff_id += x != sc_fault_decide(&other_id, d, t, (uint64_t)i);
	}
	assert_memory_equal(&a.n, &b.n, sizeof a.n);
	assert_true(a.rng == b.rng);
	/* another seed, or another server with the same seed, differs */
	assert_true(diff_seed > DRAWS / 4);
	assert_true(diff_id > DRAWS / 4);

	/* seed 0: derived from the server id, still deterministic */
	c.seed = 0;
	sc_fault_init(&a, &c, 3);
	sc_fault_init(&b, &c, 3);
	sc_fault_init(&other_id, &c, 4);
	diff_id = 0;
	for (int i = 0; i < 1000; i++) {
		enum sc_fault_action x = sc_fault_decide(&a, SC_IN, SC_DATA, 1);
		assert_int_equal(x, sc_fault_decide(&b, SC_IN, SC_DATA, 1));
		diff_id += x != sc_fault_decide(&other_id, SC_IN, SC_DATA, 1);
	}
	assert_true(diff_id > 100);
	assert_true(a.rng != 0);
}

static void test_rates(void **state)
{
	struct sc_fault_conf c;
	struct sc_fault f;
	uint64_t n[5] = {0};

	(void)state;
	memset(&c, 0, sizeof c);
	rates(&c, SC_IN, 0.3, 0.1, 0.05, 0.15);
	c.seed = 99;
	sc_fault_init(&f, &c, 0);
	for (int i = 0; i < DRAWS; i++) {
		enum sc_fault_action x = sc_fault_decide(&f, SC_IN, SC_NACK, 0);
		assert_true(x <= SC_FAULT_DELAY);
		n[x]++;
	}
	assert_in_range(n[SC_FAULT_DROP], 28000, 32000);
	assert_in_range(n[SC_FAULT_DUP], 9000, 11000);
	assert_in_range(n[SC_FAULT_HOLD], 4000, 6000);
	assert_in_range(n[SC_FAULT_DELAY], 14000, 16000);
	assert_in_range(n[SC_FAULT_PASS], 38000, 42000);
	/* counts match the decisions, per direction */
	assert_true(f.n.dropped[SC_IN] == n[SC_FAULT_DROP]);
	assert_true(f.n.duplicated[SC_IN] == n[SC_FAULT_DUP]);
	assert_true(f.n.reordered[SC_IN] == n[SC_FAULT_HOLD]);
	assert_true(f.n.delayed[SC_IN] == n[SC_FAULT_DELAY]);
	assert_true(f.n.dropped[SC_OUT] == 0);
	assert_true(f.n.duplicated[SC_OUT] == 0);

	/* out has no faults: everything passes, nothing counted */
	for (int i = 0; i < 1000; i++)
		assert_int_equal(sc_fault_decide(&f, SC_OUT, SC_DATA, 5),
		    SC_FAULT_PASS);
	assert_true(f.n.dropped[SC_OUT] == 0);

	/* drop 1 drops everything, 0 nothing */
	memset(&c, 0, sizeof c);
	rates(&c, SC_OUT, 1, 0, 0, 0);
	sc_fault_init(&f, &c, 0);
	for (int i = 0; i < 1000; i++) {
		assert_int_equal(sc_fault_decide(&f, SC_OUT, SC_ACK, 0),
		    SC_FAULT_DROP);
		assert_int_equal(sc_fault_decide(&f, SC_IN, SC_ACK, 0),
		    SC_FAULT_PASS);
	}
	assert_true(f.n.dropped[SC_OUT] == 1000);
	assert_true(f.n.dropped[SC_IN] == 0);
}

/* Traffic in a direction without faults draws nothing, so it does not
 * change the other direction's decisions. */
static void test_directions_independent(void **state)
{
	struct sc_fault_conf c;
	struct sc_fault a, b;

	(void)state;
	memset(&c, 0, sizeof c);
	rates(&c, SC_IN, 0.5, 0, 0, 0);
	c.seed = 7;
	sc_fault_init(&a, &c, 0);
	sc_fault_init(&b, &c, 0);
	for (int i = 0; i < 10000; i++) {
		if (i % 2)
			sc_fault_decide(&b, SC_OUT, SC_DATA, 0);
		assert_int_equal(sc_fault_decide(&a, SC_IN, SC_DATA, 0),
		    sc_fault_decide(&b, SC_IN, SC_DATA, 0));
	}
}

static void test_types_mask(void **state)
{
	struct sc_fault_conf c;
	struct sc_fault f;
	int dropped_data = 0;

	(void)state;
	memset(&c, 0, sizeof c);
	rates(&c, SC_IN, 0.5, 0, 0, 0);
	c.types = (1u << SC_DATA) | (1u << SC_RETX);
	c.seed = 1;
	sc_fault_init(&f, &c, 0);
	for (int i = 0; i < 10000; i++) {
		for (int t = 0; t < SC_TYPE_COUNT + 3; t++) {
			enum sc_fault_action x =
			    sc_fault_decide(&f, SC_IN, t, 0);
			if (t == SC_DATA || t == SC_RETX)
				dropped_data += x == SC_FAULT_DROP;
			else
				assert_int_equal(x, SC_FAULT_PASS);
		}
		/* types outside 0..31 are never in a mask */
		assert_int_equal(sc_fault_decide(&f, SC_IN, -1, 0),
		    SC_FAULT_PASS);
		assert_int_equal(sc_fault_decide(&f, SC_IN, 40, 0),
		    SC_FAULT_PASS);
	}
	assert_in_range(dropped_data, 9000, 11000);
	assert_true(f.n.dropped[SC_IN] == (uint64_t)dropped_data);

	/* mask 0 = every type */
	c.types = 0;
	rates(&c, SC_IN, 1, 0, 0, 0);
	sc_fault_init(&f, &c, 0);
	for (int t = 1; t < SC_TYPE_COUNT; t++)
		assert_int_equal(sc_fault_decide(&f, SC_IN, t, 0),
		    SC_FAULT_DROP);
}

static void test_drop_data_above(void **state)
{
	struct sc_fault_conf c;
	struct sc_fault f;

	(void)state;
	memset(&c, 0, sizeof c);
	c.drop_data_above = 100;
	assert_true(sc_fault_active(&c));
	sc_fault_init(&f, &c, 0);
	assert_int_equal(sc_fault_decide(&f, SC_IN, SC_DATA, 100),
	    SC_FAULT_PASS);
	assert_int_equal(sc_fault_decide(&f, SC_IN, SC_DATA, 101),
	    SC_FAULT_DROP);
	assert_int_equal(sc_fault_decide(&f, SC_IN, SC_DATA, UINT64_MAX),
	    SC_FAULT_DROP);
	/* only incoming DATA */
	assert_int_equal(sc_fault_decide(&f, SC_OUT, SC_DATA, 500),
	    SC_FAULT_PASS);
	assert_int_equal(sc_fault_decide(&f, SC_IN, SC_RETX, 500),
	    SC_FAULT_PASS);
	assert_int_equal(sc_fault_decide(&f, SC_IN, SC_HEARTBEAT, 500),
	    SC_FAULT_PASS);
	assert_true(f.n.dropped[SC_IN] == 2);
	assert_true(f.n.dropped[SC_OUT] == 0);

	/* applies even when the types mask leaves DATA out */
	c.types = 1u << SC_NACK;
	sc_fault_init(&f, &c, 0);
	assert_int_equal(sc_fault_decide(&f, SC_IN, SC_DATA, 101),
	    SC_FAULT_DROP);
}

static void test_active(void **state)
{
	struct sc_fault_conf c;

	(void)state;
	memset(&c, 0, sizeof c);
	assert_false(sc_fault_active(&c));
	assert_false(sc_fault_active(NULL));
	c.seed = 5;
	c.types = 4;
	c.delay_ms = 10;
	assert_false(sc_fault_active(&c));
	c.dir[SC_OUT].delay = 0.01;
	assert_true(sc_fault_active(&c));
	c.dir[SC_OUT].delay = 0;
	c.dir[SC_IN].reorder = 0.01;
	assert_true(sc_fault_active(&c));
}

static void test_uniform_and_below(void **state)
{
	uint64_t s = 0; /* a zero state is replaced, never stuck */
	uint64_t hist[10] = {0};
	double sum = 0;

	(void)state;
	for (int i = 0; i < DRAWS; i++) {
		double u = sc_rng_uniform(&s);
		assert_true(u >= 0 && u < 1);
		sum += u;
		assert_true(s != 0);
	}
	assert_true(sum / DRAWS > 0.49 && sum / DRAWS < 0.51);

	for (int i = 0; i < DRAWS; i++) {
		uint64_t x = sc_rng_below(&s, 10);
		assert_true(x < 10);
		hist[x]++;
	}
	for (int i = 0; i < 10; i++)
		assert_in_range(hist[i], 9300, 10700);
	assert_true(sc_rng_below(&s, 1) == 0);
	assert_true(sc_rng_below(&s, 0) == 0);
	for (int i = 0; i < 1000; i++)
		(void)sc_rng_below(&s, UINT64_MAX);

	/* the same state gives the same numbers */
	{
		uint64_t a = 42, b = 42;
		for (int i = 0; i < 100; i++)
			assert_true(sc_rng_below(&a, 1000003) ==
			    sc_rng_below(&b, 1000003));
	}
}

static void test_bad_direction(void **state)
{
	struct sc_fault_conf c;
	struct sc_fault f;

	(void)state;
	memset(&c, 0, sizeof c);
	rates(&c, SC_IN, 1, 0, 0, 0);
	sc_fault_init(&f, &c, 0);
	assert_int_equal(sc_fault_decide(&f, (enum sc_dir)2, SC_DATA, 0),
	    SC_FAULT_PASS);
	/* NULL conf: no faults */
	sc_fault_init(&f, NULL, 3);
	assert_false(sc_fault_active(&f.conf));
	assert_int_equal(sc_fault_decide(&f, SC_IN, SC_DATA, 0),
	    SC_FAULT_PASS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_determinism),
		cmocka_unit_test(test_rates),
		cmocka_unit_test(test_directions_independent),
		cmocka_unit_test(test_types_mask),
		cmocka_unit_test(test_drop_data_above),
		cmocka_unit_test(test_active),
		cmocka_unit_test(test_uniform_and_below),
		cmocka_unit_test(test_bad_direction),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
