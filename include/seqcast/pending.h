/*
 * pending.h - requests a server has accepted from clients and not yet
 * acknowledged: who to ACK, and (at a server that is not the coordinator)
 * the forward to resend until the coordinator has stamped it.
 *
 * Keyed by (client id, request number). Re-forwards are due in a min-heap
 * ordered by deadline, with exponential backoff per request. The table is
 * bounded: when full, a new request is refused with BUSY and the client
 * retries later.
 */
#ifndef SEQCAST_PENDING_H
#define SEQCAST_PENDING_H

#include <netinet/in.h>
#include <stdint.h>

#include "seqcast/heap.h"
#include "seqcast/table.h"

#define SC_PENDING_FILTER 4096

/* Where a request stands at this server. */
enum sc_pend_state {
	SC_PEND_FORWARDED = 0,  /* sent to the coordinator, no id yet:
	                           forwarded again until it has one */
	SC_PEND_STAMPED,        /* the coordinator gave it an id; waits to be
	                           applied here (the value is kept: a view
	                           change may drop the id, and the request is
	                           then forwarded again) */
	SC_PEND_LOCAL,          /* stamped by this server, the coordinator
	                           (no value kept) */
};

struct sc_pend {
	uint64_t client;
	uint64_t req;
	struct sockaddr_in addr;  /* where to send the ACK */
	uint64_t id;              /* stamped id, 0 while unknown */
	int64_t due;              /* next re-forward (us) */
	int64_t sent;             /* last forward (us) */
	uint32_t tries;           /* forwards sent */
	uint64_t fwd_dgram;       /* FWD datagram of its latest forward */
	uint32_t gen;             /* slot generation: grows on each remove */
	uint32_t len;
	uint8_t *value;           /* copy to forward (NULL when LOCAL) */
	uint32_t next_free;
	uint8_t used;
	uint8_t state;            /* enum sc_pend_state */
};

/* One forward, in the order forwards were sent (see sc_pending_forwarded). */
struct sc_fwdrec {
	uint32_t slot, gen;
	uint64_t dgram;
};

struct sc_pending {
	struct sc_pend *e;        /* slots */
	uint32_t cap;
	uint32_t count;
	uint32_t free_head;
	struct sc_table index;    /* (client, req) -> slot */
	struct sc_heap heap;      /* slots by due (tracked) */
	uint32_t peak;
	/* Entries per hashed client id: every server looks up every entry
	 * it applies, and most belong to clients of other servers; a zero
	 * here answers "not pending" without touching the big table. */
	uint16_t clients[SC_PENDING_FILTER];
	struct sc_fwdrec *fifo;   /* forwards in sending order (a ring) */
	uint32_t fifo_cap, fifo_head, fifo_len;
};

int sc_pending_init(struct sc_pending *p, uint32_t cap);
void sc_pending_free(struct sc_pending *p);
/* The entry for (client, req), or NULL. */
struct sc_pend *sc_pending_get(struct sc_pending *p, uint64_t client,
    uint64_t req);
/* A new entry (value copied when non-NULL: FORWARDED, else LOCAL), or
 * NULL when full. */
struct sc_pend *sc_pending_add(struct sc_pending *p, uint64_t client,
    uint64_t req, const struct sockaddr_in *addr, const uint8_t *value,
    uint32_t len);
void sc_pending_remove(struct sc_pending *p, struct sc_pend *e);
/* Schedule (or reschedule) a re-forward at due. */
void sc_pending_schedule(struct sc_pending *p, struct sc_pend *e,
    int64_t due);
/* It has been stamped with id: stop re-forwarding it (STAMPED). */
void sc_pending_stamped(struct sc_pending *p, struct sc_pend *e,
    uint64_t id);
/* Its id was dropped (a view change): FORWARDED again, due at due. */
void sc_pending_unstamp(struct sc_pending *p, struct sc_pend *e,
    int64_t due);
/* The entry with the earliest deadline, or NULL. */
struct sc_pend *sc_pending_first(const struct sc_pending *p);
/* e was just forwarded in FWD datagram number dgram (datagrams numbered
 * in sending order): remembered in sending order. */
void sc_pending_forwarded(struct sc_pending *p, struct sc_pend *e,
    uint64_t dgram);
/* Forwards go to the coordinator in sending order and it stamps them in
 * that order: once an entry forwarded in datagram dgram is applied, an
 * entry whose latest forward went in an earlier datagram and still has no
 * id was lost on the way (or its answer was). Returns the next such entry
 * (oldest first), or NULL; each forward is returned at most once. */
struct sc_pend *sc_pending_overtaken(struct sc_pending *p, uint64_t dgram);

#endif
