/*
 * retx.h - the coordinator's retransmit store.
 *
 * Every stamped entry is kept here, ids contiguous from `low` to `high`,
 * until it is stable: every server has reported that it applied it. Then
 * it leaves memory. The store also has a byte cap: when a server stops
 * reporting (dead, partitioned), the oldest entries are evicted anyway, and
 * a later request for them gets an explicit GONE answer, never silence.
 *
 * It also decides how to retransmit (sc_retx_route): a lone asker gets a
 * unicast copy, so one receiver's loss costs the others nothing; when a
 * second server asks for the same entry within the window, the loss is
 * shared and one multicast serves them all (and whoever lost it too but has
 * not asked yet); within the window after a multicast, a third server's
 * NACK is skipped (it crossed the multicast, which serves it), but one of
 * the two that caused it asks again only if it lost that copy too: it
 * gets a unicast one.
 */
#ifndef SEQCAST_RETX_H
#define SEQCAST_RETX_H

#include <stdint.h>

#include "seqcast/config.h"
#include "seqcast/wire.h"

struct sc_stored {
	uint64_t client;
	uint64_t req;
	uint8_t *value;       /* owned */
	uint32_t len;
	uint32_t last_asker;  /* server that last asked for it */
	int64_t last_ask;     /* when (us); INT64_MIN never */
	int64_t last_mcast;   /* last multicast retransmission (us) */
	uint32_t mcast_by[2]; /* the two askers that caused it */
};

struct sc_retx {
	struct sc_stored *ring;
	uint64_t slots;       /* ring size (power of two) */
	uint64_t low;         /* lowest id held (== high + 1 when empty) */
	uint64_t high;        /* highest id held */
	uint64_t bytes;       /* bytes held, values plus bookkeeping */
	uint64_t bytes_cap;
	uint64_t bytes_peak;
	uint64_t evicted;     /* entries dropped by the cap before stable */
	uint64_t freed;       /* entries dropped because stable */
	uint32_t nservers;
	uint64_t applied[SC_SERVERS_MAX]; /* reported applied id per server */
	uint64_t stable;      /* min of applied[]: what everyone has */
};

enum sc_retx_lookup { SC_RETX_HAVE = 0, SC_RETX_GONE, SC_RETX_FUTURE };
enum sc_retx_route { SC_ROUTE_UNICAST = 0, SC_ROUTE_MULTICAST, SC_ROUTE_SKIP };

/* first_id: the id the next put must carry (1 on a fresh cluster). */
int sc_retx_init(struct sc_retx *r, uint64_t bytes_cap, uint32_t nservers,
    uint64_t first_id);
void sc_retx_free(struct sc_retx *r);
/* Keep an entry; its id must be high + 1. -1 on memory failure. */
int sc_retx_put(struct sc_retx *r, uint64_t id, uint64_t client,
    uint64_t req, const uint8_t *value, uint32_t len);
/* Look an id up: HAVE (and *out), GONE (below low), FUTURE (above high). */
enum sc_retx_lookup sc_retx_get(const struct sc_retx *r, uint64_t id,
    const struct sc_stored **out);
/* A server reports the highest id it has applied; frees what is stable. */
void sc_retx_report(struct sc_retx *r, uint32_t server, uint64_t applied);
/* Unicast, multicast or skip a retransmission of a held id for asker. */
enum sc_retx_route sc_retx_route(struct sc_retx *r, uint64_t id,
    uint32_t asker, int64_t now, int64_t window);
uint64_t sc_retx_count(const struct sc_retx *r);

#endif
