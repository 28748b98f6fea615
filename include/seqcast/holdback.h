/*
 * holdback.h - the hold-back queue: entries that arrived before the one
 * that must be applied next wait here, so that every server applies ids
 * strictly in order.
 *
 * A ring of `cap` slots indexed by id: only ids in (applied, applied+cap]
 * are held; an id further out is refused (SC_HOLD_FAR) and will be asked
 * for again once the window has moved, so a flood of far-future ids cannot
 * grow memory.
 */
#ifndef SEQCAST_HOLDBACK_H
#define SEQCAST_HOLDBACK_H

#include <stdint.h>

#include "seqcast/wire.h"

/* Values up to this size are kept in the slot itself: under steady loss
 * nearly every entry waits here for a repair, and a malloc, copy and free
 * per entry was the largest part of what loss cost a member. */
#define SC_HOLD_INLINE 88

struct sc_held {
	uint64_t id;       /* 0 = empty slot */
	uint64_t client;
	uint64_t req;
	uint32_t len;
	uint32_t view;     /* the view it was stamped in */
	uint8_t *value;    /* copy: `small` or, when longer, malloc'ed */
	uint8_t small[SC_HOLD_INLINE];
};

struct sc_hold {
	struct sc_held *ring;
	uint32_t cap;
	uint32_t count;    /* entries held */
	uint64_t bytes;    /* value bytes held */
	uint32_t peak;     /* most entries ever held */
};

enum sc_hold_result {
	SC_HOLD_NEW = 0,   /* kept */
	SC_HOLD_DUP,       /* already applied or already held: dropped */
	SC_HOLD_FAR,       /* beyond the window: dropped */
	SC_HOLD_NOMEM,     /* could not copy: dropped, will be asked again */
};

int sc_hold_init(struct sc_hold *h, uint32_t cap);
void sc_hold_free(struct sc_hold *h);
/* Offer an entry (it->id > 0) while `applied` is the highest applied id. */
enum sc_hold_result sc_hold_put(struct sc_hold *h, uint64_t applied,
    const struct sc_item *it);
/* The held entry with this id, or NULL. */
const struct sc_held *sc_hold_get(const struct sc_hold *h, uint64_t id);
/* Is this id held? */
int sc_hold_has(const struct sc_hold *h, uint64_t id);
/* Free the slot of this id (after applying it). */
void sc_hold_remove(struct sc_hold *h, uint64_t id);
/* Drop everything held (a new view: what an older one sent is void). */
void sc_hold_clear(struct sc_hold *h);

#endif
