/*
 * retx.c - retransmit store: a ring of entries by id, a byte cap,
 * stability-driven release.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "seqcast/retx.h"

/* What one entry costs beyond its value: the slot and malloc's header. */
#define RETX_OVERHEAD (sizeof(struct sc_stored) + 16)

int
sc_retx_init(struct sc_retx *r, uint64_t bytes_cap, uint32_t nservers,
    uint64_t first_id)
{
	memset(r, 0, sizeof(*r));
	r->slots = 1024;
	r->ring = calloc(r->slots, sizeof(*r->ring));
	if (r->ring == NULL)
		return -1;
	r->bytes_cap = bytes_cap;
	r->nservers = nservers > SC_SERVERS_MAX ? SC_SERVERS_MAX : nservers;
	r->low = first_id ? first_id : 1;
	r->high = r->low - 1;
	r->stable = r->high;
	for (uint32_t i = 0; i < r->nservers; i++)
		r->applied[i] = r->high;
	return 0;
}

static struct sc_stored *
retx_slot(const struct sc_retx *r, uint64_t id)
{
	return &r->ring[id & (r->slots - 1)];
}

static void
retx_drop_low(struct sc_retx *r)
{
	struct sc_stored *s = retx_slot(r, r->low);

	r->bytes -= s->len + RETX_OVERHEAD;
	free(s->value);
	memset(s, 0, sizeof(*s));
	r->low++;
}

void
sc_retx_free(struct sc_retx *r)
{
	while (r->low <= r->high)
		retx_drop_low(r);
	free(r->ring);
	r->ring = NULL;
}

static int
retx_grow(struct sc_retx *r)
{
	uint64_t n = r->slots * 2, id;
	struct sc_stored *ring = calloc(n, sizeof(*ring));

	if (ring == NULL)
		return -1;
	for (id = r->low; id <= r->high; id++)
		ring[id & (n - 1)] = *retx_slot(r, id);
	free(r->ring);
	r->ring = ring;
	r->slots = n;
	return 0;
}

int
sc_retx_put(struct sc_retx *r, uint64_t id, uint64_t client, uint64_t req,
    const uint8_t *value, uint32_t len)
{
	struct sc_stored *s;

	if (id != r->high + 1)
		return -1;
	if (r->high + 1 - r->low >= r->slots && retx_grow(r) == -1)
		return -1;
	s = retx_slot(r, id);
	s->value = malloc(len ? len : 1);
	if (s->value == NULL)
		return -1;
	memcpy(s->value, value, len);
	s->len = len;
	s->client = client;
	s->req = req;
	s->last_ask = INT64_MIN;
	s->last_mcast = INT64_MIN;
	s->last_asker = UINT32_MAX;
	s->mcast_by[0] = s->mcast_by[1] = UINT32_MAX;
	r->high = id;
	r->bytes += len + RETX_OVERHEAD;
	/* Over the cap: the oldest go even if not everyone has them. Never
	 * the newest entry itself, which is still to be multicast. */
	while (r->bytes > r->bytes_cap && r->low < r->high) {
		retx_drop_low(r);
		r->evicted++;
	}
	if (r->bytes > r->bytes_peak)
		r->bytes_peak = r->bytes;
	return 0;
}

enum sc_retx_lookup
sc_retx_get(const struct sc_retx *r, uint64_t id, const struct sc_stored **out)
{
	if (id < r->low)
		return SC_RETX_GONE;
	if (id > r->high)
		return SC_RETX_FUTURE;
	*out = retx_slot(r, id);
	return SC_RETX_HAVE;
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
	while (r->low <= r->high && r->low <= r->stable) {
		retx_drop_low(r);
		r->freed++;
	}
}

enum sc_retx_route
sc_retx_route(struct sc_retx *r, uint64_t id, uint32_t asker, int64_t now,
    int64_t window)
{
	struct sc_stored *s;

	if (id < r->low || id > r->high)
		return SC_ROUTE_SKIP;
	s = retx_slot(r, id);
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

uint64_t
sc_retx_count(const struct sc_retx *r)
{
	return r->high + 1 - r->low;
}
