/*
 * test_entries.c - a server's copy of the log (daemon/entries.c): appends,
 * read-back, the apply point and its digest, view segments and matching,
 * truncation, and values leaving memory for a file.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <sodium.h>

#include <stdlib.h>
#include <string.h>

#include "seqcast/entries.h"

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
append_id(struct sc_entries *l, uint64_t id)
{
	uint8_t buf[1024];
	uint32_t len = len_of(id);

	fill(buf, id, len);
	if (sc_entries_append(l, id, (uint32_t)(id / 1000), id * 11, id + 5,
	    buf, len) == -1)
		return -1;
	return sc_entries_apply(l, id) == id ? 0 : -1;
}

static void
check_id(struct sc_entries *l, uint64_t id)
{
	struct sc_item it;
	uint8_t buf[1024];
	uint32_t len = len_of(id);

	memset(&it, 0xff, sizeof it);
	assert_int_equal(sc_entries_get(l, id, &it), 0);
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
	struct sc_entries l;
	struct sc_item it;
	uint8_t b = 0;

	(void)state;
	assert_int_equal(sc_entries_init(&l, NULL, NULL), 0);
	assert_true(l.op == 0);
	assert_int_equal(sc_entries_get(&l, 0, &it), -1);
	assert_int_equal(sc_entries_get(&l, 1, &it), -1);
	assert_int_equal(sc_entries_append(&l, 0, 0, 1, 1, &b, 1), -1);
	assert_int_equal(sc_entries_append(&l, 2, 0, 1, 1, &b, 1), -1);
	assert_true(l.op == 0);
	assert_int_equal(append_id(&l, 1), 0);
	assert_int_equal(append_id(&l, 1), -1);
	assert_int_equal(append_id(&l, 3), -1);
	assert_int_equal(append_id(&l, 2), 0);
	assert_true(l.op == 2 && l.applied == 2);
	assert_int_equal(sc_entries_get(&l, 3, &it), -1);
	assert_int_equal(sc_entries_get(&l, 0, &it), -1);
	assert_int_equal(sc_entries_get(&l, UINT64_MAX, &it), -1);
	check_id(&l, 1);
	check_id(&l, 2);
	sc_entries_free(&l);
}

/* 100k entries (about 50 MB of values): chunks and blocks are added
 * many times; every value reads back exactly. */
static void
test_many(void **state)
{
	struct sc_entries l;

	(void)state;
	assert_int_equal(sc_entries_init(&l, NULL, NULL), 0);
	for (uint64_t id = 1; id <= N; id++) {
		assert_int_equal(append_id(&l, id), 0);
		assert_true(l.op == id);
		if (id % 9973 == 0) {
			check_id(&l, 1);
			check_id(&l, id / 2 + 1);
			check_id(&l, id);
		}
	}
	assert_true(l.nchunks >= 40);
	for (uint64_t id = 1; id <= N; id++)
		check_id(&l, id);
	assert_int_equal(sc_entries_view_at(&l, 1), 0);
	assert_int_equal(sc_entries_view_at(&l, N), N / 1000);
	sc_entries_free(&l);
}

/* Values that fill a chunk exactly to its end, then one byte more, then
 * an empty one (ASan catches a write past a chunk). */
static void
test_chunk_boundaries(void **state)
{
	struct sc_entries l;
	uint8_t buf[1024];
	uint64_t id = 0;
	int full = 0;

	(void)state;
	assert_int_equal(sc_entries_init(&l, NULL, NULL), 0);
	while (full < 3) {
		uint64_t room = l.nchunks ? SC_VALUE_CHUNK - l.fill : 1024;
		uint32_t len = room > 1024 ? 1024 : (uint32_t)room;
		uint64_t chunks = l.nchunks;

		id++;
		fill(buf, id, len);
		assert_int_equal(sc_entries_append(&l, id, 0, id, id, buf,
		    len), 0);
		if (chunks > 0 && len == room) {
			assert_true(l.fill == SC_VALUE_CHUNK);
			id++;
			fill(buf, id, 1);
			assert_int_equal(sc_entries_append(&l, id, 0, id, id,
			    buf, 1), 0);
			assert_true(l.nchunks == chunks + 1);
			id++;
			assert_int_equal(sc_entries_append(&l, id, 0, id, id,
			    buf, 0), 0);
			full++;
		}
	}
	for (uint64_t i = 1; i <= id; i++) {
		struct sc_item it;

		assert_int_equal(sc_entries_get(&l, i, &it), 0);
		fill(buf, i, it.len);
		if (it.len > 0)
			assert_memory_equal(it.value, buf, it.len);
	}
	sc_entries_free(&l);
}

static void
digest_of(const struct sc_entries *l, char hex[33])
{
	memset(hex, 'x', 33);
	sc_entries_digest(l, hex);
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
	struct sc_entries a, b;
	char da[33], db[33], dr[33];

	(void)state;
	assert_int_equal(sc_entries_init(&a, NULL, NULL), 0);
	assert_int_equal(sc_entries_init(&b, NULL, NULL), 0);
	digest_of(&a, da);
	digest_of(&b, db);
	assert_string_equal(da, db);
	digest_of(&a, db);                    /* reading it changes nothing */
	assert_string_equal(da, db);
	reference_digest(NULL, NULL, NULL, 0, dr);
	assert_string_equal(da, dr);
	/* BLAKE2b with a 16-byte output over nothing */
	assert_string_equal(da, "cae66941d9efbd404e4d88758ea67670");
	sc_entries_free(&a);
	sc_entries_free(&b);
}

/* Equal logs, equal digests, at every step; the digest matches the
 * specified encoding; reading it does not disturb it. */
static void
test_digest_equal(void **state)
{
	struct sc_entries a, b;
	char da[33], db[33], dr[33];
	static uint8_t vbuf[200][1024];
	uint64_t ids[200];
	uint32_t lens[200];
	const uint8_t *vals[200];

	(void)state;
	assert_int_equal(sc_entries_init(&a, NULL, NULL), 0);
	assert_int_equal(sc_entries_init(&b, NULL, NULL), 0);
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
	sc_entries_free(&a);
	sc_entries_free(&b);
}

/* Build a log of n entries from (len, value) pairs; its digest. */
static void
log_digest(const uint32_t *lens, const char *const *vals, int n,
    char hex[33])
{
	struct sc_entries l;

	assert_int_equal(sc_entries_init(&l, NULL, NULL), 0);
	for (int i = 0; i < n; i++)
		assert_int_equal(sc_entries_append(&l, (uint64_t)i + 1, 0, 1,
		    (uint64_t)i + 1, (const uint8_t *)vals[i], lens[i]), 0);
	assert_true(sc_entries_apply(&l, (uint64_t)n) == (uint64_t)n);
	digest_of(&l, hex);
	sc_entries_free(&l);
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
	struct sc_entries a, b;
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
		assert_int_equal(sc_entries_init(&a, NULL, NULL), 0);
		assert_int_equal(sc_entries_init(&b, NULL, NULL), 0);
		for (uint64_t id = 1; id <= 2100; id++) {
			uint8_t buf[1024];
			uint32_t len = len_of(id);

			assert_int_equal(append_id(&a, id), 0);
			fill(buf, id, len);
			if (id == victim)
				buf[byte] ^= (uint8_t)(1u << (round % 8));
			assert_int_equal(sc_entries_append(&b, id, 0,
			    id * 11, id + 5, buf, len), 0);
			assert_true(sc_entries_apply(&b, id) == id);
		}
		digest_of(&a, da);
		digest_of(&b, db);
		assert_string_not_equal(da, db);
		sc_entries_free(&a);
		sc_entries_free(&b);
	}
}

/* Held entries are not in the digest until applied; applying in one
 * step or many gives the same digest; truncation never reaches below
 * the apply point. */
static void
test_apply_point(void **state)
{
	struct sc_entries a, b;
	char da[33], db[33];
	uint8_t v = 'x';

	(void)state;
	assert_int_equal(sc_entries_init(&a, NULL, NULL), 0);
	assert_int_equal(sc_entries_init(&b, NULL, NULL), 0);
	for (uint64_t id = 1; id <= 10; id++) {
		assert_int_equal(sc_entries_append(&a, id, 0, 1, id, &v, 1), 0);
		assert_int_equal(sc_entries_append(&b, id, 0, 1, id, &v, 1), 0);
		assert_true(sc_entries_apply(&b, id) == id);
	}
	digest_of(&a, da);
	assert_string_equal(da, "cae66941d9efbd404e4d88758ea67670");
	assert_true(sc_entries_apply(&a, 4) == 4);
	assert_int_equal(sc_entries_truncate(&a, 3), -1);
	assert_int_equal(sc_entries_truncate(&a, 11), -1);
	assert_true(sc_entries_apply(&a, 99) == 10);
	digest_of(&a, da);
	digest_of(&b, db);
	assert_string_equal(da, db);
	sc_entries_free(&a);
	sc_entries_free(&b);
}

static void
append_views(struct sc_entries *l, const uint32_t *views, uint64_t n,
    uint8_t tag)
{
	for (uint64_t id = l->op + 1; id <= n; id++)
		assert_int_equal(sc_entries_append(l, id, views[id - 1], tag,
		    id, &tag, 1), 0);
}

/* Segments describe the views; a lower view is refused; truncation cuts
 * segments and values, and appending again reuses the space. */
static void
test_views_and_truncate(void **state)
{
	static const uint32_t v[] = { 0, 0, 0, 2, 2, 5, 5, 5, 5, 9 };
	struct sc_entries l;
	struct sc_segment seg[8];
	struct sc_item it;
	uint8_t x = 1;

	(void)state;
	assert_int_equal(sc_entries_init(&l, NULL, NULL), 0);
	append_views(&l, v, 10, 'a');
	for (uint64_t id = 1; id <= 10; id++)
		assert_int_equal(sc_entries_view_at(&l, id), v[id - 1]);
	assert_int_equal(sc_entries_view_at(&l, 11), 0);
	assert_int_equal(sc_entries_segments(&l, seg, 8), 4);
	assert_true(seg[2].first == 6 && seg[2].view == 5);
	assert_int_equal(sc_entries_segments(&l, seg, 2), 2);
	assert_true(seg[0].first == 6 && seg[1].first == 10);
	assert_int_equal(sc_entries_append(&l, 11, 8, 1, 1, &x, 1), -1);
	assert_true(sc_entries_apply(&l, 3) == 3);
	assert_int_equal(sc_entries_truncate(&l, 5), 0);
	assert_true(l.op == 5);
	assert_int_equal(sc_entries_segments(&l, seg, 8), 2);
	assert_int_equal(sc_entries_get(&l, 6, &it), -1);
	/* id 6 again, from view 7, with another value */
	x = 'b';
	assert_int_equal(sc_entries_append(&l, 6, 7, 'b', 6, &x, 1), 0);
	assert_int_equal(sc_entries_get(&l, 6, &it), 0);
	assert_true(it.client == 'b' && it.value[0] == 'b');
	assert_int_equal(sc_entries_get(&l, 5, &it), 0);
	assert_true(it.client == 'a' && it.value[0] == 'a');
	assert_int_equal(sc_entries_view_at(&l, 6), 7);
	assert_int_equal(sc_entries_truncate(&l, 3), 0);
	assert_int_equal(sc_entries_segments(&l, seg, 8), 1);
	sc_entries_free(&l);
}

/* Match: where two logs given by their views agree. Checked against a
 * brute-force scan over random pairs of view sequences. */
static void
test_match(void **state)
{
	uint64_t s = 42;

	(void)state;
	for (int round = 0; round < 2000; round++) {
		uint32_t va[40], vb[40], cur;
		uint64_t na, nb, want, floor;
		struct sc_entries a, b;
		struct sc_segment seg[40];
		uint32_t nseg, keep;

		s = s * 6364136223846793005ULL + 1442695040888963407ULL;
		na = 1 + (s >> 40) % 40;
		nb = 1 + (s >> 20) % 40;
		/* A common prefix of length p, then two branches as two
		 * coordinators would write them: a may go on in the prefix's
		 * last view, then both only in views of their own (even for
		 * a, odd for b), so that equal views mean equal entries. */
		cur = 0;
		for (uint64_t i = 0; i < 40; i++) {
			s = s * 6364136223846793005ULL + 1;
			if ((s >> 60) == 0)
				cur += 2;
			va[i] = vb[i] = cur;
		}
		s = s * 6364136223846793005ULL + 1;
		{
			uint64_t p = (s >> 33) % 41, more = (s >> 20) % 5;
			uint32_t ca = va[p ? p - 1 : 0], cb = ca | 1;

			for (uint64_t i = p; i < 40; i++) {
				s = s * 6364136223846793005ULL + 1;
				if (i >= p + more && (s >> 61) == 0)
					ca += 2;
				if (i == p + more && ca == va[p ? p - 1 : 0])
					ca += 2;
				if ((s >> 58) % 8 == 1)
					cb += 2;
				va[i] = ca;
				vb[i] = cb;
			}
			want = p < na ? p : na;
			want = want < nb ? want : nb;
		}
		for (uint64_t k = 1; k <= want; k++)
			assert_int_equal(va[k - 1], vb[k - 1]);
		assert_int_equal(sc_entries_init(&a, NULL, NULL), 0);
		assert_int_equal(sc_entries_init(&b, NULL, NULL), 0);
		append_views(&a, va, na, 'a');
		append_views(&b, vb, nb, 'b');
		nseg = sc_entries_segments(&b, seg, 40);
		if (sc_entries_match(&a, seg, nseg, nb, 0) != want)
			fail_msg("round %d: match %llu, want %llu", round,
			    (unsigned long long)sc_entries_match(&a, seg, nseg,
			    nb, 0), (unsigned long long)want);
		/* with only the last segments, below them the floor */
		keep = nseg > 1 ? nseg - 1 : nseg;
		floor = seg[nseg - keep].first > 1 ?
		    seg[nseg - keep].first - 1 : 0;
		if (want >= seg[nseg - keep].first)
			assert_int_equal(sc_entries_match(&a,
			    seg + nseg - keep, keep, nb, floor), want);
		else
			assert_true(sc_entries_match(&a, seg + nseg - keep,
			    keep, nb, 0) == 0);
		sc_entries_free(&a);
		sc_entries_free(&b);
	}
}

/* With a read callback, values of applied entries leave memory once over
 * the cap and come back through the callback; the digest is unchanged. */
static struct sc_entries *shadow;
static uint64_t reads;

static int
read_back(void *ctx, uint64_t id, struct sc_item *out)
{
	(void)ctx;
	reads++;
	return sc_entries_get(shadow, id, out);
}

static void
test_evict(void **state)
{
	struct sc_entries a, b;
	char da[33], db[33];

	(void)state;
	assert_int_equal(sc_entries_init(&a, read_back, NULL), 0);
	assert_int_equal(sc_entries_init(&b, NULL, NULL), 0);
	shadow = &b;
	for (uint64_t id = 1; id <= 20000; id++) {
		assert_int_equal(append_id(&b, id), 0);
		assert_int_equal(append_id(&a, id), 0);
		sc_entries_evict(&a, id - id % 7, 2 * SC_VALUE_CHUNK);
		assert_true(a.mem_bytes <= 3 * SC_VALUE_CHUNK);
	}
	assert_true(a.low > 10000);
	assert_true(a.first_block > 0);
	reads = 0;
	for (uint64_t id = 1; id <= 20000; id += 97)
		check_id(&a, id);
	assert_true(reads > 0);
	digest_of(&a, da);
	digest_of(&b, db);
	assert_string_equal(da, db);
	/* nothing leaves memory above the given id */
	sc_entries_evict(&a, 0, 0);
	assert_true(a.low > 10000 && a.low <= 20000);
	/* entries that left memory unapplied can be cut, and the log goes
	 * on from there */
	{
		struct sc_entries c;
		static uint8_t big[1000];
		uint8_t v;
		struct sc_item it;

		assert_int_equal(sc_entries_init(&c, read_back, NULL), 0);
		for (uint64_t id = 1; id <= 5000; id++)
			assert_int_equal(sc_entries_append(&c, id, 0, 1, id,
			    big, sizeof(big)), 0);
		assert_true(sc_entries_apply(&c, 1000) == 1000);
		sc_entries_evict(&c, 5000, 0);
		assert_true(c.low > 1000);
		assert_int_equal(sc_entries_truncate(&c, 1500), 0);
		assert_true(c.op == 1500 && c.low == 1501);
		v = 'y';
		for (uint64_t id = 1501; id <= 1600; id++)
			assert_int_equal(sc_entries_append(&c, id, 1, 2, id,
			    &v, id % 2), 0);
		assert_int_equal(sc_entries_get(&c, 1600, &it), 0);
		assert_true(it.client == 2 && it.len == 0);
		assert_int_equal(sc_entries_get(&c, 1599, &it), 0);
		assert_true(it.client == 2 && it.len == 1 &&
		    it.value[0] == 'y');
		assert_int_equal(sc_entries_view_at(&c, 1501), 1);
		sc_entries_free(&c);
	}
	sc_entries_free(&a);
	sc_entries_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_append_order),
		cmocka_unit_test(test_many),
		cmocka_unit_test(test_chunk_boundaries),
		cmocka_unit_test(test_digest_empty),
		cmocka_unit_test(test_digest_equal),
		cmocka_unit_test(test_digest_differs),
		cmocka_unit_test(test_digest_one_byte),
		cmocka_unit_test(test_apply_point),
		cmocka_unit_test(test_views_and_truncate),
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_evict),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
