/*
 * retx.c - retransmission routing and stability: a ring of small routing
 * states by id, the applied id reported by every server.
 */
#include <stdlib.h>
#include <string.h>

#include "seqcast/retx.h"

int
sc_retx_init(struct sc_retx *r, uint32_t nservers, uint64_t head)
{
	memset(r, 0, sizeof(*r));
	r->slots = 1024;
	r->ring = calloc(r->slots, sizeof(*r->ring));
	if (r->ring == NULL)
		return -1;
	r->nservers = nservers > SC_RETX_SERVERS ? SC_RETX_SERVERS : nservers;
	r->low = head + 1;
	r->high = head;
	return 0;
}

void
sc_retx_free(struct sc_retx *r)
{
	free(r->ring);
	r->ring = NULL;
}

static struct sc_retx_slot *
slot(const struct sc_retx *r, uint64_t id)
{
	return &r->ring[id & (r->slots - 1)];
}

static int
grow(struct sc_retx *r)
{
	uint64_t n = r->slots * 2, id;
	struct sc_retx_slot *ring = calloc(n, sizeof(*ring));

	if (ring == NULL)
		return -1;
	for (id = r->low; id <= r->high; id++)
		ring[id & (n - 1)] = *slot(r, id);
	free(r->ring);
	r->ring = ring;
	r->slots = n;
	return 0;
}

int
sc_retx_put(struct sc_retx *r, uint64_t id)
{
	struct sc_retx_slot *s;

	if (id != r->high + 1)
		return -1;
	r->high = id;
	if (r->high + 1 - r->low > r->slots) {
		if (r->slots < SC_RETX_SLOTS_MAX && grow(r) == 0) {
			;
		} else {
			/* A server stopped reporting: keep routing state for
			 * the newest ids only. */
			r->low++;
			r->dropped++;
		}
	}
	s = slot(r, id);
	s->last_ask = INT64_MIN;
	s->last_mcast = INT64_MIN;
	s->last_asker = UINT32_MAX;
	s->mcast_by[0] = s->mcast_by[1] = UINT32_MAX;
	return 0;
}

void
sc_retx_truncate(struct sc_retx *r, uint64_t keep)
{
	if (keep >= r->high)
		return;
	r->high = keep;
	if (r->low > keep + 1)
		r->low = keep + 1;
	for (uint32_t i = 0; i < r->nservers; i++)
		if (r->applied[i] > keep)
			r->applied[i] = keep;
	if (r->stable > keep)
		r->stable = keep;
}

void
sc_retx_report(struct sc_retx *r, uint32_t server, uint64_t applied)
{
	uint64_t stable = UINT64_MAX;
	uint32_t i;

	if (server >= r->nservers)
		return;
	/* Reports can arrive out of order: applied only grows, and nobody
	 * can have applied what was never stamped. */
	if (applied > r->high)
		applied = r->high;
	if (applied > r->applied[server])
		r->applied[server] = applied;
	for (i = 0; i < r->nservers; i++)
		if (r->applied[i] < stable)
			stable = r->applied[i];
	if (stable > r->stable)
		r->stable = stable;
	if (r->low <= r->stable)
		r->low = r->stable + 1;
}

enum sc_retx_route
sc_retx_route(struct sc_retx *r, uint64_t id, uint32_t asker, int64_t now,
    int64_t window)
{
	struct sc_retx_slot *s;

	if (id < r->low || id > r->high)
		return SC_ROUTE_UNICAST;
	s = slot(r, id);
	if (s->last_mcast != INT64_MIN && now - s->last_mcast < window) {
		if (asker != s->mcast_by[0] && asker != s->mcast_by[1])
			return SC_ROUTE_SKIP;
		return SC_ROUTE_UNICAST;
	}
	if (s->last_ask != INT64_MIN && now - s->last_ask < window &&
	    s->last_asker != asker) {
		s->last_mcast = now;
		s->mcast_by[0] = s->last_asker;
		s->mcast_by[1] = asker;
		return SC_ROUTE_MULTICAST;
	}
	s->last_ask = now;
	s->last_asker = asker;
	return SC_ROUTE_UNICAST;
}
