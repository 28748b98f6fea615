/*
 * heap.h - a binary min-heap of (key, value) pairs: the deadline that
 * comes first is on top. The tree's one heap (the client's resend timers,
 * a server's re-forward timers).
 *
 * Two ways to use it:
 *   plain    (sc_heap_init): push and pop. A value may be in the heap more
 *            than once; a caller that reschedules pushes again and skips
 *            the stale copies as it pops them (lazy deletion). Grows as
 *            needed.
 *   tracked  (sc_heap_init_tracked): values are slot numbers below a bound
 *            fixed at creation, each in the heap at most once. The heap
 *            knows where each one is, so a value's key can be changed
 *            (sc_heap_set) or the value taken out (sc_heap_remove) in
 *            O(log n).
 *
 * Equal keys come out in no promised order (but always the same order for
 * the same sequence of calls). Pure: no clock, no I/O.
 */
#ifndef SEQCAST_HEAP_H
#define SEQCAST_HEAP_H

#include <stdint.h>

#define SC_HEAP_ABSENT UINT32_MAX

struct sc_heap_item {
	int64_t key;              /* a deadline, usually */
	uint64_t value;           /* what it is for */
};

struct sc_heap {
	struct sc_heap_item *item; /* item[0] has the least key */
	uint32_t len;              /* items held */
	uint32_t cap;              /* items allocated */
	uint32_t *pos;             /* tracked: pos[value] is its index in
	                              item, or SC_HEAP_ABSENT; NULL if plain */
	uint32_t nvalues;          /* tracked: every value is below this */
};

/* A plain heap with room for cap items to start with (0 is fine). 0, or
 * -1 if out of memory. */
int sc_heap_init(struct sc_heap *h, uint32_t cap);
/* A tracked heap of values 0 .. nvalues-1 (nvalues >= 1). 0 or -1. */
int sc_heap_init_tracked(struct sc_heap *h, uint32_t nvalues);
void sc_heap_free(struct sc_heap *h);

/* Plain heaps: add (key, value). 0, or -1 if out of memory. */
int sc_heap_push(struct sc_heap *h, int64_t key, uint64_t value);
/* The item with the least key, or NULL when empty. */
const struct sc_heap_item *sc_heap_top(const struct sc_heap *h);
/* Take the top item out (the heap must not be empty). */
struct sc_heap_item sc_heap_pop(struct sc_heap *h);

/* Tracked heaps: put value in with this key, or move it to this key. */
void sc_heap_set(struct sc_heap *h, uint32_t value, int64_t key);
/* Tracked heaps: take value out (nothing happens if it is not in). */
void sc_heap_remove(struct sc_heap *h, uint32_t value);
/* Tracked heaps: 1 if value is in the heap, else 0. */
int sc_heap_contains(const struct sc_heap *h, uint32_t value);

#endif
