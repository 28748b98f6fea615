/*
 * table.h - a fixed-capacity hash table from a (u64, u64) key to a u64
 * value: open addressing, linear probing in Robin Hood order, backward-
 * shift deletion (no tombstones, so lookups stay short however long the
 * daemon runs).
 *
 * Used for (client id, request number) lookups: the sequencer's dedup
 * memory and the pending forwards/acks. The capacity is fixed at creation;
 * an insert into a full table fails, so every caller decides what "full"
 * means (evict the oldest, or refuse with BUSY).
 */
#ifndef SEQCAST_TABLE_H
#define SEQCAST_TABLE_H

#include <stddef.h>
#include <stdint.h>

struct sc_table_slot {
	uint64_t k1, k2;   /* the key */
	uint64_t value;
	uint32_t dist;     /* distance from the key's home + 1; 0: empty */
};

struct sc_table {
	struct sc_table_slot *slots;
	uint32_t mask;     /* slots - 1; slots is a power of two */
	uint32_t count;    /* keys held */
	uint32_t max;      /* most keys allowed */
};

int sc_table_init(struct sc_table *t, uint32_t max);
/* Zeroed memory for a big table (huge pages where possible); free(). */
void *sc_big_alloc(size_t size);
void sc_table_free(struct sc_table *t);
/* 1 and *value if found, else 0. */
int sc_table_get(const struct sc_table *t, uint64_t k1, uint64_t k2,
    uint64_t *value);
/* Insert or overwrite. -1 when the key is new and the table holds max. */
int sc_table_put(struct sc_table *t, uint64_t k1, uint64_t k2,
    uint64_t value);
/* 1 if it was there, else 0. */
int sc_table_del(struct sc_table *t, uint64_t k1, uint64_t k2);

#endif
