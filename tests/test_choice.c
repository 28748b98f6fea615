/*
 * test_choice.c - the client's choice of server: rotation on refusal,
 * "unavailable" and silence, progress, the timeout.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "seqcast/choice.h"

#define S 1000000

/* One server: it is kept whatever happens (the client rides through its
 * restart); the reason is remembered for the message; the timeout runs
 * from the last progress only. */
static void
test_single_server(void **state)
{
	struct sc_choice c;

	(void)state;
	sc_choice_init(&c, 1, 10 * S, 0);
	assert_true(sc_choice_deadline(&c) == 10 * S);
	assert_int_equal(sc_choice_failed(&c, SC_CHOICE_REFUSED),
	    SC_CHOICE_STAY);
	assert_int_equal(c.current, 0);
	assert_true(sc_choice_all(&c, SC_CHOICE_REFUSED));
	assert_false(sc_choice_all(&c, SC_CHOICE_UNAVAILABLE));
	assert_true(sc_choice_deadline(&c) == 10 * S);   /* no progress */
	/* a refusing server is silent too: refused is what it did */
	assert_int_equal(sc_choice_failed(&c, SC_CHOICE_SILENT),
	    SC_CHOICE_STAY);
	assert_true(sc_choice_all(&c, SC_CHOICE_REFUSED));
	assert_int_equal(sc_choice_failed(&c, SC_CHOICE_UNAVAILABLE),
	    SC_CHOICE_STAY);
	assert_true(sc_choice_all(&c, SC_CHOICE_UNAVAILABLE));
	assert_int_equal(sc_choice_failed(&c, SC_CHOICE_REFUSED),
	    SC_CHOICE_STAY);
	sc_choice_progress(&c, 4 * S);
	assert_true(sc_choice_deadline(&c) == 14 * S);
	assert_false(sc_choice_all(&c, SC_CHOICE_REFUSED));
	assert_true(c.switches == 0);
}

/* Three servers: each failure moves to the next one that has not failed
 * (switch: resend now); once all have failed, round the list (rotate:
 * timers pace); progress makes them all fresh again. */
static void
test_rotation(void **state)
{
	struct sc_choice c;

	(void)state;
	sc_choice_init(&c, 3, 10 * S, 0);
	assert_int_equal(sc_choice_failed(&c, SC_CHOICE_REFUSED),
	    SC_CHOICE_SWITCH);
	assert_int_equal(c.current, 1);
	assert_int_equal(sc_choice_failed(&c, SC_CHOICE_UNAVAILABLE),
	    SC_CHOICE_SWITCH);
	assert_int_equal(c.current, 2);
	assert_int_equal(sc_choice_failed(&c, SC_CHOICE_SILENT),
	    SC_CHOICE_ROTATE);
	assert_int_equal(c.current, 0);
	assert_int_equal(sc_choice_failed(&c, SC_CHOICE_REFUSED),
	    SC_CHOICE_ROTATE);
	assert_int_equal(c.current, 1);
	assert_false(sc_choice_all(&c, SC_CHOICE_REFUSED));
	/* server 1 answers after all */
	sc_choice_progress(&c, 3 * S);
	assert_int_equal(sc_choice_failed(&c, SC_CHOICE_SILENT),
	    SC_CHOICE_SWITCH);
	assert_int_equal(c.current, 2);
	assert_true(c.switches == 5);
}

/* Failures before the last progress are forgotten: a server that was
 * refusing may have come back, and it is tried as a fresh one. */
static void
test_forgets_before_progress(void **state)
{
	struct sc_choice c;

	(void)state;
	sc_choice_init(&c, 3, 10 * S, 0);
	assert_int_equal(sc_choice_failed(&c, SC_CHOICE_REFUSED),
	    SC_CHOICE_SWITCH);                  /* 0 -> 1 */
	sc_choice_progress(&c, 1 * S);          /* 1 works */
	assert_int_equal(sc_choice_failed(&c, SC_CHOICE_SILENT),
	    SC_CHOICE_SWITCH);                  /* 1 -> 2 */
	assert_int_equal(sc_choice_failed(&c, SC_CHOICE_REFUSED),
	    SC_CHOICE_SWITCH);                  /* 2 -> 0, fresh again */
	assert_int_equal(c.current, 0);
	assert_int_equal(sc_choice_failed(&c, SC_CHOICE_REFUSED),
	    SC_CHOICE_ROTATE);                  /* now all have failed */
	assert_int_equal(c.current, 1);
}

/* All "unavailable": the message can say "no majority". */
static void
test_all_unavailable(void **state)
{
	struct sc_choice c;

	(void)state;
	sc_choice_init(&c, 2, 5 * S, 0);
	sc_choice_failed(&c, SC_CHOICE_UNAVAILABLE);
	assert_false(sc_choice_all(&c, SC_CHOICE_UNAVAILABLE)); /* 1 of 2 */
	sc_choice_failed(&c, SC_CHOICE_UNAVAILABLE);
	assert_true(sc_choice_all(&c, SC_CHOICE_UNAVAILABLE));
	sc_choice_failed(&c, SC_CHOICE_REFUSED);
	assert_false(sc_choice_all(&c, SC_CHOICE_UNAVAILABLE));
	assert_string_equal(sc_choice_why_name(SC_CHOICE_UNAVAILABLE),
	    "unavailable");
	assert_string_equal(sc_choice_why_name(SC_CHOICE_NONE), "no answer");
}

/* More servers than it can hold: capped, never out of bounds. */
static void
test_bounds(void **state)
{
	struct sc_choice c;

	(void)state;
	sc_choice_init(&c, 1000, S, 0);
	assert_int_equal(c.n, SC_CHOICE_MAX);
	for (int i = 0; i < 3 * SC_CHOICE_MAX; i++) {
		sc_choice_failed(&c, SC_CHOICE_SILENT);
		assert_true(c.current < SC_CHOICE_MAX);
	}
	sc_choice_init(&c, 0, S, 0);
	assert_int_equal(c.n, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_single_server),
		cmocka_unit_test(test_rotation),
		cmocka_unit_test(test_forgets_before_progress),
		cmocka_unit_test(test_all_unavailable),
		cmocka_unit_test(test_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
