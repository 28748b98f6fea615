/*
 * heap.c - binary min-heap of (key, value), optionally position-tracked.
 */
#include <stdlib.h>
#include <string.h>

#include "seqcast/heap.h"

int
sc_heap_init(struct sc_heap *h, uint32_t cap)
{
	memset(h, 0, sizeof(*h));
	if (cap == 0)
		return 0;
	h->item = malloc((size_t)cap * sizeof(*h->item));
	if (h->item == NULL)
		return -1;
	h->cap = cap;
	return 0;
}

int
sc_heap_init_tracked(struct sc_heap *h, uint32_t nvalues)
{
	memset(h, 0, sizeof(*h));
	if (nvalues == 0 || nvalues == SC_HEAP_ABSENT)
		return -1;
	h->item = malloc((size_t)nvalues * sizeof(*h->item));
	h->pos = malloc((size_t)nvalues * sizeof(*h->pos));
	if (h->item == NULL || h->pos == NULL) {
		sc_heap_free(h);
		return -1;
	}
	memset(h->pos, 0xff, (size_t)nvalues * sizeof(*h->pos));
	h->cap = nvalues;
	h->nvalues = nvalues;
	return 0;
}

void
sc_heap_free(struct sc_heap *h)
{
	free(h->item);
	free(h->pos);
	memset(h, 0, sizeof(*h));
}

/* Item i is now it (and, tracked, it knows where it is). */
static void
heap_put(struct sc_heap *h, uint32_t i, struct sc_heap_item it)
{
	h->item[i] = it;
	if (h->pos != NULL)
		h->pos[it.value] = i;
}

static void
heap_swap(struct sc_heap *h, uint32_t a, uint32_t b)
{
	struct sc_heap_item t = h->item[a];

	heap_put(h, a, h->item[b]);
	heap_put(h, b, t);
}

static void
heap_up(struct sc_heap *h, uint32_t i)
{
	while (i > 0 && h->item[i].key < h->item[(i - 1) / 2].key) {
		heap_swap(h, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static void
heap_down(struct sc_heap *h, uint32_t i)
{
	for (;;) {
		uint32_t l = 2 * i + 1, r = l + 1, m = i;

		if (l < h->len && h->item[l].key < h->item[m].key)
			m = l;
		if (r < h->len && h->item[r].key < h->item[m].key)
			m = r;
		if (m == i)
			return;
		heap_swap(h, i, m);
		i = m;
	}
}

/* Take item i out: the last item fills its place and finds its level. */
static void
heap_take(struct sc_heap *h, uint32_t i)
{
	if (h->pos != NULL)
		h->pos[h->item[i].value] = SC_HEAP_ABSENT;
	h->len--;
	if (i == h->len)
		return;
	heap_put(h, i, h->item[h->len]);
	heap_down(h, i);
	heap_up(h, i);
}

int
sc_heap_push(struct sc_heap *h, int64_t key, uint64_t value)
{
	if (h->len == h->cap) {
		uint32_t ncap = h->cap ? 2 * h->cap : 64;
		struct sc_heap_item *n;

		if (h->pos != NULL || h->cap >= UINT32_MAX / 2)
			return -1;
		n = realloc(h->item, (size_t)ncap * sizeof(*n));
		if (n == NULL)
			return -1;
		h->item = n;
		h->cap = ncap;
	}
	heap_put(h, h->len, (struct sc_heap_item){ key, value });
	heap_up(h, h->len++);
	return 0;
}

const struct sc_heap_item *
sc_heap_top(const struct sc_heap *h)
{
	return h->len > 0 ? &h->item[0] : NULL;
}

struct sc_heap_item
sc_heap_pop(struct sc_heap *h)
{
	struct sc_heap_item top = h->item[0];

	heap_take(h, 0);
	return top;
}

void
sc_heap_set(struct sc_heap *h, uint32_t value, int64_t key)
{
	uint32_t i = h->pos[value];

	if (i == SC_HEAP_ABSENT) {
		heap_put(h, h->len, (struct sc_heap_item){ key, value });
		heap_up(h, h->len++);
		return;
	}
	h->item[i].key = key;
	heap_down(h, i);
	heap_up(h, h->pos[value]);
}

void
sc_heap_remove(struct sc_heap *h, uint32_t value)
{
	if (h->pos[value] != SC_HEAP_ABSENT)
		heap_take(h, h->pos[value]);
}

int
sc_heap_contains(const struct sc_heap *h, uint32_t value)
{
	return value < h->nvalues && h->pos[value] != SC_HEAP_ABSENT;
}
