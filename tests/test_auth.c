/*
 * test_auth.c - the MAC trailer and the replay window.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "seqcast/auth.h"
#include "seqcast/bytes.h"
#include "seqcast/wire.h"

static const uint8_t key1[SC_AUTH_KEY_BYTES] = { 1, 2, 3 };
static const uint8_t key2[SC_AUTH_KEY_BYTES] = { 9, 9, 9 };

/* A valid datagram from sender s (a heartbeat), sealed at time t. */
static size_t
make(struct sc_auth *a, uint32_t sender, int64_t t, uint8_t *buf, size_t cap)
{
	struct sc_msg m;
	long len;

	memset(&m, 0, sizeof(m));
	m.h.type = SC_HEARTBEAT;
	m.h.cluster = 1;
	m.h.sender = sender;
	m.a = 42;
	len = sc_encode(&m, buf, cap);
	assert_true(len > 0);
	len = sc_auth_seal(a, buf, (size_t)len, cap, t);
	assert_true(len > 0);
	return (size_t)len;
}

static void
test_roundtrip_and_tamper(void **state)
{
	struct sc_auth tx, rx;
	uint8_t buf[256], bad[256];
	size_t len, inner;
	struct sc_decoder *d = sc_decoder_new();
	struct sc_msg m;

	(void)state;
	sc_auth_set_key(&tx, key1);
	sc_auth_set_key(&rx, key1);
	len = make(&tx, 3, 1000, buf, sizeof(buf));
	assert_int_equal(len, sc_encoded_size(SC_HEARTBEAT, NULL, 0) +
	    SC_AUTH_TRAILER);
	assert_int_equal(sc_auth_open(&rx, buf, len, 1000, &inner), SC_AUTH_OK);
	assert_int_equal(sc_decode(d, buf, inner, 1, &m), SC_REJ_NONE);
	assert_int_equal(m.a, 42);
	/* Every single-bit change anywhere is refused. */
	for (size_t i = 0; i < len; i++) {
		for (int b = 0; b < 8; b++) {
			struct sc_auth fresh;
			int r;

			sc_auth_set_key(&fresh, key1);
			memcpy(bad, buf, len);
			bad[i] ^= (uint8_t)(1 << b);
			r = sc_auth_open(&fresh, bad, len, 1000, &inner);
			assert_true(r == SC_AUTH_BAD || r == SC_AUTH_MISSING);
		}
	}
	/* Truncated: no valid MAC. */
	for (size_t l = 0; l < len; l++) {
		struct sc_auth fresh;

		sc_auth_set_key(&fresh, key1);
		assert_int_not_equal(sc_auth_open(&fresh, buf, l, 1000, &inner),
		    SC_AUTH_OK);
	}
	sc_decoder_free(d);
}

static void
test_wrong_key_and_missing(void **state)
{
	struct sc_auth tx, rx, none;
	uint8_t buf[256];
	size_t len, inner;
	struct sc_msg m;
	long plain;

	(void)state;
	sc_auth_set_key(&tx, key2);
	sc_auth_set_key(&rx, key1);
	memset(&none, 0, sizeof(none));
	len = make(&tx, 1, 5, buf, sizeof(buf));
	assert_int_equal(sc_auth_open(&rx, buf, len, 5, &inner), SC_AUTH_BAD);
	/* A datagram with a MAC at a server without a key. */
	assert_int_equal(sc_auth_open(&none, buf, len, 5, &inner),
	    SC_AUTH_UNEXPECTED);
	/* A datagram without a MAC at a server with a key. */
	memset(&m, 0, sizeof(m));
	m.h.type = SC_STATS_REQ;
	m.h.sender = SC_SENDER_CLIENT;
	plain = sc_encode(&m, buf, sizeof(buf));
	assert_true(plain > 0);
	assert_int_equal(sc_auth_open(&rx, buf, (size_t)plain, 5, &inner),
	    SC_AUTH_MISSING);
	/* Without a key on either side, nothing changes. */
	assert_int_equal(sc_auth_open(&none, buf, (size_t)plain, 5, &inner),
	    SC_AUTH_OK);
	assert_int_equal(inner, (size_t)plain);
}

static void
test_replay_window(void **state)
{
	struct sc_auth tx, rx;
	static uint8_t bufs[3000][192];
	static size_t lens[3000];
	size_t inner;

	(void)state;
	sc_auth_set_key(&tx, key1);
	sc_auth_set_key(&rx, key1);
	for (int i = 0; i < 3000; i++)
		lens[i] = make(&tx, 2, 0, bufs[i], sizeof(bufs[i]));
	/* In order: all accepted once, every replay refused. */
	for (int i = 0; i < 100; i++)
		assert_int_equal(sc_auth_open(&rx, bufs[i], lens[i], 0, &inner),
		    SC_AUTH_OK);
	for (int i = 0; i < 100; i++)
		assert_int_equal(sc_auth_open(&rx, bufs[i], lens[i], 0, &inner),
		    SC_AUTH_REPLAY);
	/* Out of order within the window: accepted once. */
	assert_int_equal(sc_auth_open(&rx, bufs[1000], lens[1000], 0, &inner),
	    SC_AUTH_OK);
	for (int i = 999; i >= 200; i--)
		assert_int_equal(sc_auth_open(&rx, bufs[i], lens[i], 0, &inner),
		    SC_AUTH_OK);
	for (int i = 200; i <= 1000; i += 7)
		assert_int_equal(sc_auth_open(&rx, bufs[i], lens[i], 0, &inner),
		    SC_AUTH_REPLAY);
	/* Skipped ones still in the window are accepted; after a jump
	 * past the window they fall out of it and are refused as STALE (the
	 * node then challenges the sender: node_auth.c). */
	assert_int_equal(sc_auth_open(&rx, bufs[150], lens[150], 0, &inner),
	    SC_AUTH_OK);
	assert_int_equal(sc_auth_open(&rx, bufs[2999], lens[2999], 0, &inner),
	    SC_AUTH_OK);
	assert_int_equal(sc_auth_open(&rx, bufs[160], lens[160], 0, &inner),
	    SC_AUTH_OK);
	for (int i = 0; i < SC_AUTH_WINDOW; i++)
		(void)make(&tx, 2, 0, bufs[0], sizeof(bufs[0]));
	assert_int_equal(sc_auth_open(&rx, bufs[0], lens[0], 0, &inner),
	    SC_AUTH_OK);
	assert_int_equal(sc_auth_open(&rx, bufs[170], lens[170], 0, &inner),
	    SC_AUTH_STALE);
	assert_int_equal(sc_auth_open(&rx, bufs[2500], lens[2500], 0, &inner),
	    SC_AUTH_STALE);
	/* Restarting the window at a datagram (a challenge answered):
	 * that one counts as seen, later ones pass, older ones do not. */
	sc_auth_restart_peer(&rx, 2, bufs[2500], lens[2500]);
	assert_int_equal(sc_auth_open(&rx, bufs[2500], lens[2500], 0, &inner),
	    SC_AUTH_REPLAY);
	assert_int_equal(sc_auth_open(&rx, bufs[2600], lens[2600], 0, &inner),
	    SC_AUTH_OK);
	assert_int_equal(sc_auth_open(&rx, bufs[2400], lens[2400], 0, &inner),
	    SC_AUTH_OK);
}

/*
 * A server's counters count datagrams, whatever the clock does: a
 * datagram that waited in the group socket while 10,000 later ones (an
 * hour later by the clock) came through the control socket is accepted
 * once. With counters that followed the clock, a wait of a millisecond
 * was enough to fall out of the window.
 */
static void
test_server_reorder(void **state)
{
	struct sc_auth tx, rx;
	static uint8_t first[192], later[192];
	size_t lf, ll, inner;
	int64_t t = 1000LL * 1000000;

	(void)state;
	sc_auth_set_key(&tx, key1);
	sc_auth_set_key(&rx, key1);
	lf = make(&tx, 1, t, first, sizeof(first));
	for (int i = 0; i < 10000; i++) {
		ll = make(&tx, 1, t + 3600LL * 1000000, later, sizeof(later));
		assert_int_equal(sc_auth_open(&rx, later, ll, 0, &inner),
		    SC_AUTH_OK);
	}
	assert_int_equal(sc_auth_open(&rx, first, lf, 0, &inner),
	    SC_AUTH_OK);
	assert_int_equal(sc_auth_open(&rx, first, lf, 0, &inner),
	    SC_AUTH_REPLAY);
	/* 10,001 datagrams: the counter moved by 10,000, not by an hour. */
	assert_true(sc_get_be64(later + ll - SC_AUTH_TRAILER) -
	    sc_get_be64(first + lf - SC_AUTH_TRAILER) == 10000);
}

/* Clients: counters must be within a minute of the server's clock. */
static void
test_client_freshness(void **state)
{
	struct sc_auth tx, rx;
	uint8_t buf[256];
	size_t len, inner;
	int64_t now = 1000LL * 1000000;

	(void)state;
	sc_auth_set_key(&tx, key1);
	sc_auth_set_key(&rx, key1);
	len = make(&tx, SC_SENDER_CLIENT, now, buf, sizeof(buf));
	assert_int_equal(sc_auth_open(&rx, buf, len, now + 1000, &inner),
	    SC_AUTH_OK);
	assert_int_equal(sc_auth_open(&rx, buf, len, now + SC_AUTH_SKEW_US +
	    1, &inner), SC_AUTH_REPLAY);
	assert_int_equal(sc_auth_open(&rx, buf, len, now - SC_AUTH_SKEW_US -
	    1, &inner), SC_AUTH_REPLAY);
}

static void
test_counters_grow(void **state)
{
	struct sc_auth tx;
	uint8_t a[256], b[256];
	size_t la, lb;

	(void)state;
	sc_auth_set_key(&tx, key1);
	la = make(&tx, 1, 500, a, sizeof(a));
	lb = make(&tx, 1, 400, b, sizeof(b));   /* clock went back */
	assert_true(memcmp(a + la - SC_AUTH_TRAILER, b + lb - SC_AUTH_TRAILER,
	    8) < 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_and_tamper),
		cmocka_unit_test(test_wrong_key_and_missing),
		cmocka_unit_test(test_replay_window),
		cmocka_unit_test(test_server_reorder),
		cmocka_unit_test(test_client_freshness),
		cmocka_unit_test(test_counters_grow),
	};

	sc_tpl_hooks_install();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
