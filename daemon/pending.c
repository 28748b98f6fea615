/*
 * pending.c - pending requests: slot pool, (client, req) index, and a
 * min-heap of re-forward deadlines (heap.h, tracked by slot).
 */
#include <stdlib.h>
#include <string.h>

#include "seqcast/pending.h"

int
sc_pending_init(struct sc_pending *p, uint32_t cap)
{
	memset(p, 0, sizeof(*p));
	p->e = sc_big_alloc((size_t)cap * sizeof(*p->e));
	/* Room for every pending entry and one re-forward each. */
	p->fifo_cap = 2 * cap;
	p->fifo = malloc((size_t)p->fifo_cap * sizeof(*p->fifo));
	if (p->e == NULL || p->fifo == NULL ||
	    sc_heap_init_tracked(&p->heap, cap) == -1 ||
	    sc_table_init(&p->index, cap) == -1) {
		free(p->e);
		sc_heap_free(&p->heap);
		free(p->fifo);
		p->e = NULL;
		p->fifo = NULL;
		return -1;
	}
	p->cap = cap;
	for (uint32_t i = 0; i < cap; i++)
		p->e[i].next_free = i + 1;
	p->free_head = 0;
	return 0;
}

void
sc_pending_free(struct sc_pending *p)
{
	for (uint32_t i = 0; p->e != NULL && i < p->cap; i++)
		free(p->e[i].value);
	free(p->e);
	sc_heap_free(&p->heap);
	free(p->fifo);
	sc_table_free(&p->index);
	p->e = NULL;
	p->fifo = NULL;
}

static uint16_t *
client_count(struct sc_pending *p, uint64_t client)
{
	return &p->clients[(client * 0x9e3779b97f4a7c15ULL) >> 52];
}

static uint32_t
slot_of(const struct sc_pending *p, const struct sc_pend *e)
{
	return (uint32_t)(e - p->e);
}

struct sc_pend *
sc_pending_get(struct sc_pending *p, uint64_t client, uint64_t req)
{
	uint64_t slot;

	if (*client_count(p, client) == 0 ||
	    !sc_table_get(&p->index, client, req, &slot))
		return NULL;
	return &p->e[slot];
}

struct sc_pend *
sc_pending_add(struct sc_pending *p, uint64_t client, uint64_t req,
    const struct sockaddr_in *addr, const uint8_t *value, uint32_t len)
{
	struct sc_pend *e;
	uint32_t slot;

	if (p->count == p->cap)
		return NULL;
	slot = p->free_head;
	e = &p->e[slot];
	if (value != NULL) {
		e->value = malloc(len ? len : 1);
		if (e->value == NULL)
			return NULL;
		memcpy(e->value, value, len);
	}
	p->free_head = e->next_free;
	(void)sc_table_put(&p->index, client, req, slot);
	e->client = client;
	e->req = req;
	e->addr = *addr;
	e->id = 0;
	e->due = 0;
	e->tries = 0;
	e->len = len;
	e->used = 1;
	e->state = value != NULL ? SC_PEND_FORWARDED : SC_PEND_LOCAL;
	p->count++;
	/* Saturates rather than wraps: a stuck count only costs lookups. */
	if (*client_count(p, client) < UINT16_MAX)
		(*client_count(p, client))++;
	if (p->count > p->peak)
		p->peak = p->count;
	return e;
}

void
sc_pending_remove(struct sc_pending *p, struct sc_pend *e)
{
	uint32_t slot = slot_of(p, e), gen;

	if (!e->used)
		return;
	sc_heap_remove(&p->heap, slot);
	sc_table_del(&p->index, e->client, e->req);
	if (*client_count(p, e->client) < UINT16_MAX)
		(*client_count(p, e->client))--;
	free(e->value);
	gen = e->gen;
	memset(e, 0, sizeof(*e));
	e->gen = gen + 1;      /* older forward records no longer match */
	e->next_free = p->free_head;
	p->free_head = slot;
	p->count--;
}

void
sc_pending_schedule(struct sc_pending *p, struct sc_pend *e, int64_t due)
{
	e->due = due;
	sc_heap_set(&p->heap, slot_of(p, e), due);
}

void
sc_pending_stamped(struct sc_pending *p, struct sc_pend *e, uint64_t id)
{
	sc_heap_remove(&p->heap, slot_of(p, e));
	e->id = id;
	if (e->state == SC_PEND_FORWARDED)
		e->state = SC_PEND_STAMPED;
}

void
sc_pending_unstamp(struct sc_pending *p, struct sc_pend *e, int64_t due)
{
	if (e->state != SC_PEND_STAMPED)
		return;
	e->state = SC_PEND_FORWARDED;
	e->id = 0;
	sc_pending_schedule(p, e, due);
}

struct sc_pend *
sc_pending_first(const struct sc_pending *p)
{
	const struct sc_heap_item *top = sc_heap_top(&p->heap);

	return top != NULL ? &p->e[top->value] : NULL;
}

void
sc_pending_forwarded(struct sc_pending *p, struct sc_pend *e, uint64_t dgram)
{
	struct sc_fwdrec *r;

	e->fwd_dgram = dgram;
	if (p->fifo_len == p->fifo_cap) {
		/* Full: forget the oldest (its timer still covers it). */
		p->fifo_head = (p->fifo_head + 1) % p->fifo_cap;
		p->fifo_len--;
	}
	r = &p->fifo[(p->fifo_head + p->fifo_len++) % p->fifo_cap];
	r->slot = slot_of(p, e);
	r->gen = e->gen;
	r->dgram = dgram;
}

struct sc_pend *
sc_pending_overtaken(struct sc_pending *p, uint64_t dgram)
{
	while (p->fifo_len > 0) {
		const struct sc_fwdrec *r = &p->fifo[p->fifo_head];
		struct sc_pend *e = &p->e[r->slot];
		int lost;

		if (r->dgram >= dgram)
			return NULL;
		/* Still there, not stamped, and this was its latest forward
		 * (an older record of a re-forwarded entry is stale). */
		lost = e->used && e->gen == r->gen &&
		    e->state == SC_PEND_FORWARDED && e->fwd_dgram == r->dgram;
		p->fifo_head = (p->fifo_head + 1) % p->fifo_cap;
		p->fifo_len--;
		if (lost)
			return e;
	}
	return NULL;
}
