/*
 * entries.h - a server's copy of the replicated log: entries 1..op in id
 * order, the view each was stamped in, and how far it is applied.
 *
 *   1 ........ applied ........ op
 *   |-- applied: committed, shown by `seqcast log`, in the digest --|
 *                               |-- held, not known committed yet --|
 *
 * An entry is appended when it arrives in order (it is then "held");
 * it is applied once the server knows it is committed (a majority holds
 * it). Held entries beyond the applied point may be cut again when a new
 * view drops them (sc_entries_truncate); applied ones never are.
 *
 * The view of each entry is kept as a list of segments (the first id
 * stamped in each view): views only grow along a log, so a few segments
 * describe any log, and two logs that hold the same view at the same id
 * hold the same entries up to it (the log-matching rule of Raft and VR).
 *
 * Values live in memory in 1 MiB chunks. Without a log file that is all
 * of them; with one, the oldest chunks leave memory once their entries
 * are applied and durable (sc_entries_evict) and a read callback fetches
 * them back from the file. The digest is BLAKE2b-128 over every applied
 * entry in order (id and length big-endian, then the value): equal
 * applied logs, equal digests.
 *
 * Pure: no clock, no socket; file access only through the callback.
 */
#ifndef SEQCAST_ENTRIES_H
#define SEQCAST_ENTRIES_H

#include <stdint.h>

#include "seqcast/wire.h"

#define SC_ENTRY_BLOCK 4096         /* records per block */
#define SC_VALUE_CHUNK (1u << 20)   /* bytes per value chunk */

struct sc_entry_rec {
	uint64_t client;
	uint64_t req;
	uint32_t chunk;              /* value: chunk index ... */
	uint32_t off;                /* ... and offset in it */
	uint32_t len;
};

struct sc_segment {
	uint64_t first;              /* first id stamped in this view */
	uint32_t view;
};

/* Read entry id back from durable storage into *out (value valid until
 * the next call). 0 or -1. */
typedef int (*sc_entries_read_fn)(void *ctx, uint64_t id,
    struct sc_item *out);

struct sc_entries {
	uint64_t op;                 /* entries 1..op held */
	uint64_t applied;            /* 1..applied applied */
	uint64_t low;                /* lowest id whose value is in memory */
	struct sc_entry_rec **blocks;/* block b: ids b*BLOCK+1 .. */
	uint64_t blocks_cap;
	uint64_t first_block;        /* blocks below it are freed */
	uint8_t **chunks;            /* value chunks; NULL once evicted */
	uint64_t *chunk_last;        /* highest id with its value in chunk */
	uint64_t nchunks, chunks_cap;
	uint64_t first_chunk;        /* lowest chunk still in memory */
	uint32_t fill;               /* bytes used in the last chunk */
	uint64_t mem_bytes;          /* value chunks held */
	struct sc_segment *seg;
	uint32_t nseg, seg_cap;
	/* libsodium's crypto_generichash_state (384 bytes, 64-aligned;
	 * entries.c checks), so that this header needs no sodium.h */
	_Alignas(64) unsigned char digest[384];
	sc_entries_read_fn read;     /* NULL: everything stays in memory */
	void *read_ctx;
};

int sc_entries_init(struct sc_entries *e, sc_entries_read_fn read,
    void *read_ctx);
void sc_entries_free(struct sc_entries *e);
/* Append entry op + 1, stamped in view (views never go down along a
 * log). -1 on a wrong id or view, or no memory. */
int sc_entries_append(struct sc_entries *e, uint64_t id, uint32_t view,
    uint64_t client, uint64_t req, const uint8_t *value, uint32_t len);
/* Entry id (1 <= id <= op) into *out; the value stays valid until the
 * next append, truncate, evict or read-back. 0 or -1. */
int sc_entries_get(struct sc_entries *e, uint64_t id, struct sc_item *out);
/* Drop every entry after keep (applied <= keep <= op). -1 otherwise. */
int sc_entries_truncate(struct sc_entries *e, uint64_t keep);
/* Apply entries up to upto (<= op): the digest takes them in. Returns
 * the new applied id (short of upto if a value cannot be read back). */
uint64_t sc_entries_apply(struct sc_entries *e, uint64_t upto);
/* Let values of entries up to upto leave memory, oldest chunk first,
 * while more than cap bytes are held (only with a read callback). */
void sc_entries_evict(struct sc_entries *e, uint64_t upto, uint64_t cap);
/* The view entry id was stamped in (0 if id is 0 or beyond op). */
uint32_t sc_entries_view_at(const struct sc_entries *e, uint64_t id);
/* The last (up to) max segments, oldest first; their count. */
uint32_t sc_entries_segments(const struct sc_entries *e,
    struct sc_segment *out, uint32_t max);
/* Highest id k <= op that this log shares with a log whose last segments
 * are seg[0..n) and whose head is head: the two agree on 1..k. Ids below
 * seg[0].first are not described; floor is returned for them (the caller
 * passes an id it knows both hold, such as its commit point). */
uint64_t sc_entries_match(const struct sc_entries *e,
    const struct sc_segment *seg, uint32_t n, uint64_t head,
    uint64_t floor);
/* Hex digest of the applied entries: 32 hex digits and a NUL. */
void sc_entries_digest(const struct sc_entries *e, char hex[33]);

#endif
