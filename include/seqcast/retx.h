/*
 * retx.h - the coordinator's retransmission bookkeeping: how far every
 * server has applied (what is stable), and for the recent ids, who asked
 * for them and when, to route each retransmission.
 *
 * The values themselves are in the coordinator's own copy of the log
 * (entries.h): this module holds no value and copies nothing.
 *
 * Routing (sc_retx_route): a lone asker gets a unicast copy, so one
 * receiver's loss costs the others nothing; when a second server asks for
 * the same id within the window, the loss is shared and one multicast
 * serves them all (and whoever lost it too but has not asked yet); within
 * the window after a multicast, a third server's NACK is skipped (it
 * crossed the multicast, which serves it), but one of the two that caused
 * it asks again only if it lost that copy too: it gets a unicast one.
 * Ids without routing state (older than the ring, or stable) are sent by
 * unicast.
 *
 * Stability: servers report the highest id they applied; the lowest of
 * those is stable, and its routing state (and, in the caller, its value's
 * memory) can go.
 */
#ifndef SEQCAST_RETX_H
#define SEQCAST_RETX_H

#include <stdint.h>

#define SC_RETX_SERVERS 64      /* = SC_SERVERS_MAX */
#define SC_RETX_SLOTS_MAX 65536 /* routing state kept for this many ids */

struct sc_retx_slot {
	int64_t last_ask;     /* when it was last asked for; INT64_MIN never */
	int64_t last_mcast;   /* last multicast retransmission */
	uint32_t last_asker;  /* server that last asked for it */
	uint32_t mcast_by[2]; /* the two askers that caused it */
};

struct sc_retx {
	struct sc_retx_slot *ring;
	uint64_t slots;       /* ring size (power of two) */
	uint64_t low;         /* lowest id with routing state */
	uint64_t high;        /* highest id stamped */
	uint32_t nservers;
	uint64_t applied[SC_RETX_SERVERS]; /* reported applied id */
	uint64_t stable;      /* min of applied[]: what everyone has */
	uint64_t dropped;     /* routing states dropped before stable */
};

enum sc_retx_route { SC_ROUTE_UNICAST = 0, SC_ROUTE_MULTICAST, SC_ROUTE_SKIP };

/* head: the highest id already stamped (the next put is head + 1). */
int sc_retx_init(struct sc_retx *r, uint32_t nservers, uint64_t head);
void sc_retx_free(struct sc_retx *r);
/* Id head + 1 was stamped. -1 on memory failure (it is then routed as
 * an id without state). */
int sc_retx_put(struct sc_retx *r, uint64_t id);
/* Ids after keep are no longer stamped (a view change, a failed write). */
void sc_retx_truncate(struct sc_retx *r, uint64_t keep);
/* A server reports the highest id it has applied. */
void sc_retx_report(struct sc_retx *r, uint32_t server, uint64_t applied);
/* Unicast, multicast or skip a retransmission of id for asker. */
enum sc_retx_route sc_retx_route(struct sc_retx *r, uint64_t id,
    uint32_t asker, int64_t now, int64_t window);

#endif
