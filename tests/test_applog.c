/*
 * test_applog.c - the applied log and its digest (daemon/applog.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "seqcast/applog.h"

#define N 100000

static uint32_t
len_of(uint64_t id)
{
	/* empty values, 1024-byte values, and everything between */
	if (id % 10 == 0)
		return 0;
	if (id % 10 == 1)
		return 1024;
	return (uint32_t)((id * 2654435761u) % 1025);
}

static void
fill(uint8_t *buf, uint64_t id, uint32_t len)
{
	for (uint32_t j = 0; j < len; j++)
		buf[j] = (uint8_t)(id * 7 + j * 13 + (j >> 8));
}

static int
append_id(struct sc_applog *l, uint64_t id)
{
	uint8_t buf[1024];
	uint32_t len = len_of(id);

	fill(buf, id, len);
	return sc_applog_append(l, id, id * 11, id + 5, buf, len);
}

static void
check_id(const struct sc_applog *l, uint64_t id)
{
	struct sc_item it;
	uint8_t buf[1024];
	uint32_t len = len_of(id);

	memset(&it, 0xff, sizeof it);
	assert_int_equal(sc_applog_get(l, id, &it), 0);
	assert_true(it.id == id);
	assert_true(it.client == id * 11);
	assert_true(it.req == id + 5);
	assert_int_equal(it.len, len);
	fill(buf, id, len);
	if (len > 0) {
		assert_non_null(it.value);
		assert_memory_equal(it.value, buf, len);
	}
}

static void
test_append_order(void **state)
{
	struct sc_applog l;
	struct sc_item it;
	uint8_t b = 0;

	(void)state;
	assert_int_equal(sc_applog_init(&l), 0);
	assert_true(l.count == 0);
	assert_int_equal(sc_applog_get(&l, 0, &it), -1);
	assert_int_equal(sc_applog_get(&l, 1, &it), -1);
	assert_int_equal(sc_applog_append(&l, 0, 1, 1, &b, 1), -1);
	assert_int_equal(sc_applog_append(&l, 2, 1, 1, &b, 1), -1);
	assert_true(l.count == 0);
	assert_int_equal(append_id(&l, 1), 0);
	assert_int_equal(append_id(&l, 1), -1);
	assert_int_equal(append_id(&l, 3), -1);
	assert_int_equal(append_id(&l, 2), 0);
	assert_true(l.count == 2);
	assert_int_equal(sc_applog_get(&l, 3, &it), -1);
	assert_int_equal(sc_applog_get(&l, 0, &it), -1);
	assert_int_equal(sc_applog_get(&l, UINT64_MAX, &it), -1);
	check_id(&l, 1);
	check_id(&l, 2);
	sc_applog_free(&l);
}

/* 100k entries (about 50 MB of values): the arena and the record array
 * grow many times; every value reads back exactly. */
static void
test_many(void **state)
{
	struct sc_applog l;
	uint64_t arena_caps = 0, last_cap;

	(void)state;
	assert_int_equal(sc_applog_init(&l), 0);
	last_cap = l.arena_cap;
	for (uint64_t id = 1; id <= N; id++) {
		assert_int_equal(append_id(&l, id), 0);
		assert_true(l.count == id);
		if (l.arena_cap != last_cap) {
			arena_caps++;
			last_cap = l.arena_cap;
			/* right after a move: old entries intact */
			check_id(&l, 1);
			check_id(&l, id / 2 + 1);
			check_id(&l, id);
		}
	}
	assert_true(arena_caps >= 5);
	assert_true(l.cap >= N);
	for (uint64_t id = 1; id <= N; id++)
		check_id(&l, id);
	sc_applog_free(&l);
}

/* Values that fill the arena exactly to its end, then one byte more, at
 * several sizes of the arena (ASan catches a write past it). */
static void
test_arena_boundaries(void **state)
{
	struct sc_applog l;
	uint8_t buf[1024];
	uint64_t id = 0;
	int grown = 0;

	(void)state;
	assert_int_equal(sc_applog_init(&l), 0);
	while (grown < 3) {
		uint64_t room = l.arena_cap - l.arena_len, cap0 = l.arena_cap;
		uint32_t len = room > 1024 ? 1024 : (uint32_t)room;

		id++;
		fill(buf, id, len);
		assert_int_equal(sc_applog_append(&l, id, id, id, buf, len), 0);
		if (len == room) {
			/* full to the last byte: one byte more, then empty */
			assert_true(l.arena_len == l.arena_cap);
			id++;
			fill(buf, id, 1);
			assert_int_equal(sc_applog_append(&l, id, id, id, buf, 1),
			    0);
			assert_true(l.arena_cap > cap0);
			id++;
			assert_int_equal(sc_applog_append(&l, id, id, id, buf, 0),
			    0);
			grown++;
		}
	}
	for (uint64_t i = 1; i <= id; i++) {
		struct sc_item it;

		assert_int_equal(sc_applog_get(&l, i, &it), 0);
		fill(buf, i, it.len);
		if (it.len > 0)
			assert_memory_equal(it.value, buf, it.len);
	}
	sc_applog_free(&l);
}

static void
digest_of(const struct sc_applog *l, char hex[33])
{
	memset(hex, 'x', 33);
	sc_applog_digest(l, hex);
	assert_int_equal(strlen(hex), 32);
	for (int i = 0; i < 32; i++)
		assert_non_null(strchr("0123456789abcdef", hex[i]));
}

/* The digest of the spec: BLAKE2b-128 over (id BE64, len BE32, value)
 * for every record in order, computed here independently. */
static void
reference_digest(const uint64_t *ids, const uint32_t *lens,
    const uint8_t *const *vals, size_t n, char hex[33])
{
	crypto_generichash_state st;
	uint8_t out[16], head[12];

	assert_int_equal(sodium_init() < 0, 0);
	crypto_generichash_init(&st, NULL, 0, sizeof out);
	for (size_t i = 0; i < n; i++) {
		for (int b = 0; b < 8; b++)
			head[b] = (uint8_t)(ids[i] >> (56 - 8 * b));
		for (int b = 0; b < 4; b++)
			head[8 + b] = (uint8_t)(lens[i] >> (24 - 8 * b));
		crypto_generichash_update(&st, head, sizeof head);
		crypto_generichash_update(&st, vals[i], lens[i]);
	}
	crypto_generichash_final(&st, out, sizeof out);
	sodium_bin2hex(hex, 33, out, sizeof out);
}

static void
test_digest_empty(void **state)
{
	struct sc_applog a, b;
	char da[33], db[33], dr[33];

	(void)state;
	assert_int_equal(sc_applog_init(&a), 0);
	assert_int_equal(sc_applog_init(&b), 0);
	digest_of(&a, da);
	digest_of(&b, db);
	assert_string_equal(da, db);
	digest_of(&a, db);                    /* reading it changes nothing */
	assert_string_equal(da, db);
	reference_digest(NULL, NULL, NULL, 0, dr);
	assert_string_equal(da, dr);
	/* BLAKE2b with a 16-byte output over nothing */
	assert_string_equal(da, "cae66941d9efbd404e4d88758ea67670");
	sc_applog_free(&a);
	sc_applog_free(&b);
}

/* Equal logs, equal digests, at every step; the digest matches the
 * specified encoding; reading it does not disturb it. */
static void
test_digest_equal(void **state)
{
	struct sc_applog a, b;
	char da[33], db[33], dr[33];
	static uint8_t vbuf[200][1024];
	uint64_t ids[200];
	uint32_t lens[200];
	const uint8_t *vals[200];

	(void)state;
	assert_int_equal(sc_applog_init(&a), 0);
	assert_int_equal(sc_applog_init(&b), 0);
	for (uint64_t id = 1; id <= 200; id++) {
		ids[id - 1] = id;
		lens[id - 1] = len_of(id);
		fill(vbuf[id - 1], id, lens[id - 1]);
		vals[id - 1] = vbuf[id - 1];
		assert_int_equal(append_id(&a, id), 0);
		if (id % 3 == 0)
			digest_of(&a, da);    /* mid-way reads */
		assert_int_equal(append_id(&b, id), 0);
		digest_of(&a, da);
		digest_of(&b, db);
		assert_string_equal(da, db);
		if (id % 20 == 0) {
			reference_digest(ids, lens, vals, id, dr);
			assert_string_equal(da, dr);
		}
	}
	sc_applog_free(&a);
	sc_applog_free(&b);
}

/* Build a log of n entries from (len, value) pairs; its digest. */
static void
log_digest(const uint32_t *lens, const char *const *vals, int n,
    char hex[33])
{
	struct sc_applog l;

	assert_int_equal(sc_applog_init(&l), 0);
	for (int i = 0; i < n; i++)
		assert_int_equal(sc_applog_append(&l, (uint64_t)i + 1, 1,
		    (uint64_t)i + 1, (const uint8_t *)vals[i], lens[i]), 0);
	digest_of(&l, hex);
	sc_applog_free(&l);
}

static void
test_digest_differs(void **state)
{
	char base[33], d[33];
	const char *v[3] = { "alpha", "beta", "gamma" };
	uint32_t n[3] = { 5, 4, 5 };

	(void)state;
	log_digest(n, v, 3, base);
	log_digest(n, v, 3, d);
	assert_string_equal(base, d);
	{   /* one byte of one value */
		const char *w[3] = { "alpha", "bexa", "gamma" };

		log_digest(n, w, 3, d);
		assert_string_not_equal(base, d);
	}
	{   /* the last byte of the last value */
		const char *w[3] = { "alpha", "beta", "gammb" };

		log_digest(n, w, 3, d);
		assert_string_not_equal(base, d);
	}
	{   /* another length, same bytes: "alph" + "abeta" */
		const char *w[3] = { "alph", "abeta", "gamma" };
		uint32_t m[3] = { 4, 5, 5 };

		log_digest(m, w, 3, d);
		assert_string_not_equal(base, d);
	}
	{   /* a shorter value: a prefix */
		uint32_t m[3] = { 5, 3, 5 };

		log_digest(m, v, 3, d);
		assert_string_not_equal(base, d);
	}
	{   /* another order */
		const char *w[3] = { "beta", "alpha", "gamma" };
		uint32_t m[3] = { 4, 5, 5 };

		log_digest(m, w, 3, d);
		assert_string_not_equal(base, d);
	}
	{   /* an entry fewer, an entry more, an empty entry more */
		const char *w[4] = { "alpha", "beta", "gamma", "" };
		uint32_t m[4] = { 5, 4, 5, 0 };

		log_digest(n, v, 2, d);
		assert_string_not_equal(base, d);
		log_digest(m, w, 4, d);
		assert_string_not_equal(base, d);
	}
	{   /* empty values in different places */
		const char *w[2] = { "", "x" }, *x[2] = { "x", "" };
		uint32_t m[2] = { 0, 1 }, k[2] = { 1, 0 };
		char d2[33];

		log_digest(m, w, 2, d);
		log_digest(k, x, 2, d2);
		assert_string_not_equal(d, d2);
	}
}

/* Random single-byte changes in a large log always change the digest. */
static void
test_digest_one_byte(void **state)
{
	struct sc_applog a, b;
	char da[33], db[33];
	uint64_t s = 1;

	(void)state;
	for (int round = 0; round < 20; round++) {
		uint64_t victim, byte;

		s = s * 6364136223846793005ULL + 1442695040888963407ULL;
		victim = 2 + (s >> 33) % 2000;
		while (len_of(victim) == 0)
			victim++;
		byte = (s >> 13) % len_of(victim);
		assert_int_equal(sc_applog_init(&a), 0);
		assert_int_equal(sc_applog_init(&b), 0);
		for (uint64_t id = 1; id <= 2100; id++) {
			uint8_t buf[1024];
			uint32_t len = len_of(id);

			assert_int_equal(append_id(&a, id), 0);
			fill(buf, id, len);
			if (id == victim)
				buf[byte] ^= (uint8_t)(1u << (round % 8));
			assert_int_equal(sc_applog_append(&b, id, id * 11,
			    id + 5, buf, len), 0);
		}
		digest_of(&a, da);
		digest_of(&b, db);
		assert_string_not_equal(da, db);
		sc_applog_free(&a);
		sc_applog_free(&b);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_append_order),
		cmocka_unit_test(test_many),
		cmocka_unit_test(test_arena_boundaries),
		cmocka_unit_test(test_digest_empty),
		cmocka_unit_test(test_digest_equal),
		cmocka_unit_test(test_digest_differs),
		cmocka_unit_test(test_digest_one_byte),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
