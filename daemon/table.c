/*
 * table.c - fixed-capacity (u64, u64) -> u64 hash table.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "seqcast/table.h"

/*
 * The home slot. Keys are (client, request number), and a client's
 * requests come in order: 16 consecutive requests of a client share one
 * 16-slot block (the low 4 bits of the request pick the slot), the block
 * is placed by a splitmix64 finaliser over the client and the rest of the
 * request. Consecutive lookups then touch the same few cache lines
 * instead of a random line of a table of megabytes each (measured: a
 * put, two gets and a delete per request went from ~200 to ~100 ns of
 * CPU with 6 clients, equal with 64; the daemon's profile had table
 * lookups as its top cost).
 */
static uint64_t
table_hash(uint64_t k1, uint64_t k2)
{
	uint64_t x = k1 ^ ((k2 >> 4) * 0x9e3779b97f4a7c15ULL);

	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x << 4 | (k2 & 15);
}

int
sc_table_init(struct sc_table *t, uint32_t max)
{
	uint32_t n = 16;

	if (max == 0 || max > (1u << 30))
		return -1;
	/* Keep the load factor at or below 1/2. */
	while (n < 2 * max)
		n <<= 1;
	t->slots = sc_big_alloc((size_t)n * sizeof(*t->slots));
	if (t->slots == NULL)
		return -1;
	t->mask = n - 1;
	t->count = 0;
	t->max = max;
	return 0;
}

/*
 * Lookups land anywhere in a table of megabytes: every one is a cache miss
 * and, with 4 KiB pages, a TLB miss too (costly in a virtual machine: the
 * profile showed table lookups as the top cost). Big tables are therefore
 * 2 MiB-aligned and marked for transparent huge pages.
 */
void *
sc_big_alloc(size_t size)
{
	const size_t huge = 2u << 20;
	void *p;

	if (size < huge)
		return calloc(1, size);
	size = (size + huge - 1) & ~(huge - 1);
	if (posix_memalign(&p, huge, size) != 0)
		return NULL;
#ifdef MADV_HUGEPAGE
	(void)madvise(p, size, MADV_HUGEPAGE);
#endif
	memset(p, 0, size);
	return p;
}

void
sc_table_free(struct sc_table *t)
{
	free(t->slots);
	t->slots = NULL;
	t->count = 0;
}

/*
 * Robin Hood order: along a probe run, keys sit in order of their
 * distance from home, a key never further from home than the one after
 * it. So a lookup stops at the first slot whose key is closer to home
 * than the probe has come (the key would be there), and a delete shifts
 * the run back only while the next key is displaced (distance > 0): with
 * a client's requests in their own block, most keys sit at home and a
 * delete moves nothing. (Plain linear probing had to rescan whole runs on
 * every delete: 5% of the coordinator's CPU.) dist is the distance + 1,
 * 0 for an empty slot.
 */
static uint32_t
table_find(const struct sc_table *t, uint64_t k1, uint64_t k2, int *found,
    uint32_t *dist)
{
	uint32_t i = (uint32_t)table_hash(k1, k2) & t->mask, d = 1;

	for (;; d++, i = (i + 1) & t->mask) {
		const struct sc_table_slot *s = &t->slots[i];

		if (s->dist < d) {          /* empty, or a key closer to home */
			*found = 0;
			*dist = d;
			return i;
		}
		if (s->k1 == k1 && s->k2 == k2) {
			*found = 1;
			*dist = d;
			return i;
		}
	}
}

int
sc_table_get(const struct sc_table *t, uint64_t k1, uint64_t k2,
    uint64_t *value)
{
	int found;
	uint32_t d, i = table_find(t, k1, k2, &found, &d);

	if (found && value != NULL)
		*value = t->slots[i].value;
	return found;
}

int
sc_table_put(struct sc_table *t, uint64_t k1, uint64_t k2, uint64_t value)
{
	struct sc_table_slot e, tmp;
	int found;
	uint32_t d, i = table_find(t, k1, k2, &found, &d);

	if (found) {
		t->slots[i].value = value;
		return 0;
	}
	if (t->count >= t->max)
		return -1;
	/* Take slot i; whoever sat there (closer to home) moves on. */
	e.k1 = k1;
	e.k2 = k2;
	e.value = value;
	e.dist = d;
	while (t->slots[i].dist != 0) {
		if (t->slots[i].dist < e.dist) {
			tmp = t->slots[i];
			t->slots[i] = e;
			e = tmp;
		}
		i = (i + 1) & t->mask;
		e.dist++;
	}
	t->slots[i] = e;
	t->count++;
	return 0;
}

int
sc_table_del(struct sc_table *t, uint64_t k1, uint64_t k2)
{
	int found;
	uint32_t d, hole = table_find(t, k1, k2, &found, &d), i;

	if (!found)
		return 0;
	for (i = (hole + 1) & t->mask; t->slots[i].dist > 1;
	    hole = i, i = (i + 1) & t->mask) {
		t->slots[hole] = t->slots[i];
		t->slots[hole].dist--;
	}
	t->slots[hole].dist = 0;
	t->count--;
	return 1;
}
