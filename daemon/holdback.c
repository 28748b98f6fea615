/*
 * holdback.c - id-indexed ring of early entries.
 */
#include <stdlib.h>
#include <string.h>

#include "seqcast/holdback.h"

int
sc_hold_init(struct sc_hold *h, uint32_t cap)
{
	memset(h, 0, sizeof(*h));
	if (cap == 0)
		return -1;
	h->ring = calloc(cap, sizeof(*h->ring));
	if (h->ring == NULL)
		return -1;
	h->cap = cap;
	return 0;
}

void
sc_hold_free(struct sc_hold *h)
{
	uint32_t i;

	for (i = 0; h->ring != NULL && i < h->cap; i++)
		sc_hold_remove(h, h->ring[i].id);
	free(h->ring);
	h->ring = NULL;
	h->count = 0;
	h->bytes = 0;
}

void
sc_hold_clear(struct sc_hold *h)
{
	for (uint32_t i = 0; h->count > 0 && i < h->cap; i++)
		if (h->ring[i].id != 0)
			sc_hold_remove(h, h->ring[i].id);
}

static struct sc_held *
hold_slot(const struct sc_hold *h, uint64_t id)
{
	return &h->ring[id % h->cap];
}

enum sc_hold_result
sc_hold_put(struct sc_hold *h, uint64_t applied, const struct sc_item *it)
{
	struct sc_held *s;

	if (it->id <= applied)
		return SC_HOLD_DUP;
	if (it->id - applied > h->cap)
		return SC_HOLD_FAR;
	s = hold_slot(h, it->id);
	/* Within the window, a slot is either empty or holds this very id:
	 * ids in (applied, applied+cap] map to distinct slots, and a slot is
	 * emptied when its id is applied. */
	if (s->id == it->id)
		return SC_HOLD_DUP;
	if (s->id != 0)
		sc_hold_remove(h, s->id);  /* stale: applied by other means */
	s->value = it->len <= SC_HOLD_INLINE ? s->small : malloc(it->len);
	if (s->value == NULL)
		return SC_HOLD_NOMEM;
	if (it->len > 0)
		memcpy(s->value, it->value, it->len);
	s->id = it->id;
	s->client = it->client;
	s->req = it->req;
	s->view = it->view;
	s->len = it->len;
	h->count++;
	h->bytes += it->len;
	if (h->count > h->peak)
		h->peak = h->count;
	return SC_HOLD_NEW;
}

const struct sc_held *
sc_hold_get(const struct sc_hold *h, uint64_t id)
{
	const struct sc_held *s = hold_slot(h, id);

	return (id != 0 && s->id == id) ? s : NULL;
}

int
sc_hold_has(const struct sc_hold *h, uint64_t id)
{
	return sc_hold_get(h, id) != NULL;
}

void
sc_hold_remove(struct sc_hold *h, uint64_t id)
{
	struct sc_held *s = hold_slot(h, id);

	if (id == 0 || s->id != id)
		return;
	if (s->value != s->small)
		free(s->value);
	h->bytes -= s->len;
	h->count--;
	s->id = 0;
	s->value = NULL;
	s->len = 0;
}
