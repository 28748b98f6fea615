/*
 * node_request.c - clients' requests: taken by any server, forwarded to
 * the coordinator (FWD) until it has stamped them, stamped there once
 * per (client, request) (a repeat gets the id it already has, STAMPED to
 * a forwarder), and acknowledged by the server the client spoke to once
 * it has applied the entry: only committed entries are acknowledged.
 *
 * A server that is not in a working view keeps what it has and forwards
 * it to the next coordinator; it tells a client UNAVAILABLE only once it
 * has been without a coordinator for 2 x failover_ms (a partition's
 * minority side, a member of two servers whose peer is down), so that the
 * client tries another server.
 */
#include <string.h>

#include "node_rooms.h"

int
node_request_init(struct sc_node *n)
{
	n->rq.fwd_retry_us = ms_to_us(n->conf->forward_retry_ms);
	return sc_pending_init(&n->rq.pend, n->conf->pending_max);
}

void
node_request_free(struct sc_node *n)
{
	sc_pending_free(&n->rq.pend);
	if (n->rq.seq_on)
		sc_seq_free(&n->rq.seq);
	n->rq.seq_on = 0;
}

static void
ack(struct sc_node *n, const struct sockaddr_in *to, uint64_t client,
    uint64_t req, uint64_t id, int status)
{
	struct sc_item it;

	memset(&it, 0, sizeof(it));
	it.client = client;
	it.req = req;
	it.id = id;
	it.status = status;
	n->rq.acks_sent++;
	sc_outbox_add(&n->out, SC_ACK, to, 0, &it, 0);
}

/* First re-forward: forward_retry_ms, or twice the measured forward-to-
 * apply time when that is longer (a slow or loaded network), so that a
 * request is forwarded again only when it is likely lost. */
static int64_t
fwd_timeout(const struct sc_node *n)
{
	return 2 * n->rq.fwd_rtt_us > n->rq.fwd_retry_us ?
	    2 * n->rq.fwd_rtt_us : n->rq.fwd_retry_us;
}

static const struct sockaddr_in *
coordinator_addr(const struct sc_node *n)
{
	return node_addr(n, node_coordinator_of(n, n->vw.view));
}

/* A member in a view forwards to its coordinator; even while it
 * suspects it (only its heartbeats may be lost: the answers to forwards
 * reveal what it missed). */
static int
forwarding(const struct sc_node *n)
{
	return n->vw.status == SC_NODE_NORMAL &&
	    n->vw.role == SC_ROLE_MEMBER;
}

/* Send a pending request to the coordinator (again); due again at due
 * if that one is lost too. */
static void
forward(struct sc_node *n, struct sc_pend *p, int64_t due)
{
	struct sc_item it;

	memset(&it, 0, sizeof(it));
	it.client = p->client;
	it.req = p->req;
	it.value = p->value;
	it.len = p->len;
	p->tries++;
	p->sent = n->now;
	sc_pending_schedule(&n->rq.pend, p, due);
	sc_outbox_add(&n->out, SC_FWD, coordinator_addr(n), 0, &it, 0);
	/* FWD datagrams are numbered in sending order: this one goes in
	 * the batch open now, the one counted next. */
	sc_pending_forwarded(&n->rq.pend, p, n->out.dgrams[SC_FWD]);
}

/* Fast re-forward (as TCP's fast retransmit with SACK): when an entry we
 * forwarded once, in FWD datagram k, is applied, every request whose
 * latest forward went in a datagram before k and still has no id was lost
 * on the way (see sc_pending_overtaken): send it again now. */
static void
fast_reforward(struct sc_node *n, uint64_t dgram)
{
	struct sc_pend *p;

	while ((p = sc_pending_overtaken(&n->rq.pend, dgram)) != NULL) {
		n->rq.fast_reforwards++;
		n->rq.reforwards++;
		forward(n, p, n->now + 2 * fwd_timeout(n));
	}
}

/* The coordinator takes a request: stamp it or find its id. origin: who
 * forwarded it; client_addr when a client sent it here. */
static void
stamp(struct sc_node *n, const struct sc_item *it, uint32_t origin,
    const struct sockaddr_in *client_addr)
{
	struct sc_pend *p = sc_pending_get(&n->rq.pend, it->client, it->req);
	struct sc_item e = *it;

	if (client_addr != NULL && p == NULL &&
	    n->rq.pend.count == n->rq.pend.cap) {
		n->rq.busy++;
		ack(n, client_addr, it->client, it->req, 0, SC_ERR_BUSY);
		return;
	}
	if (sc_seq_find(&n->rq.seq, it->client, it->req, &e.id)) {
		n->rq.repeats++;
		if (client_addr == NULL) {
			/* A re-forward: tell the forwarder the id. */
			e.status = SC_OK;
			sc_outbox_add(&n->out, SC_STAMPED,
			    node_addr(n, origin), 0, &e, 0);
			return;
		}
		if (e.id <= n->sm.log.applied) {
			ack(n, client_addr, it->client, it->req, e.id, SC_OK);
			return;
		}
	} else {
		e.id = n->sm.log.op + 1;
		if (node_stream_stamp(n, it) == -1) {
			if (client_addr != NULL) {
				n->rq.busy++;
				ack(n, client_addr, it->client, it->req, 0,
				    SC_ERR_BUSY);
			}
			return;
		}
		sc_seq_remember(&n->rq.seq, it->client, it->req, e.id);
		n->rq.seq.next = e.id + 1;
	}
	if (client_addr == NULL)
		return;
	if (p == NULL)
		p = sc_pending_add(&n->rq.pend, it->client, it->req,
		    client_addr, NULL, 0);
	if (p != NULL) {
		p->addr = *client_addr;
		p->id = e.id;
	}
}

/* A member takes a client's request: forward it, remember whom to ACK.
 * Without a working view it keeps it for the next coordinator. */
static void
take(struct sc_node *n, const struct sc_item *it,
    const struct sockaddr_in *client_addr)
{
	struct sc_pend *p = sc_pending_get(&n->rq.pend, it->client, it->req);
	int fwd = forwarding(n);

	if (p != NULL) {
		/* The client retried: ACK to where it is now, and if our own
		 * forward is unanswered for a while, forward again at once
		 * rather than wait out the backoff. */
		n->rq.repeats++;
		p->addr = *client_addr;
		if (fwd && p->state == SC_PEND_FORWARDED &&
		    n->now - p->sent >= fwd_timeout(n)) {
			n->rq.reforwards++;
			forward(n, p, n->now + fwd_timeout(n));
		}
	} else {
		p = sc_pending_add(&n->rq.pend, it->client, it->req,
		    client_addr, it->value, it->len);
		if (p == NULL) {
			n->rq.busy++;
			ack(n, client_addr, it->client, it->req, 0,
			    SC_ERR_BUSY);
			return;
		}
		if (fwd) {
			n->rq.forwards++;
			p->tries = 0;
			forward(n, p, n->now + fwd_timeout(n));
		} else {
			sc_pending_schedule(&n->rq.pend, p, INT64_MAX);
		}
	}
	/* Long without a coordinator (a minority side, or a member that
	 * cannot elect one: it still forwards, in case only the
	 * coordinator's words to us are lost): say so, so that the client
	 * tries another server or says why it gives up. */
	if (n->vw.role != SC_ROLE_COORDINATOR &&
	    (n->vw.suspected != 0 || n->vw.status == SC_NODE_RECOVERING) &&
	    n->now - n->vw.heard >= 2 * ms_to_us(n->conf->failover_ms)) {
		n->rq.unavailable++;
		ack(n, client_addr, it->client, it->req, 0,
		    SC_ERR_UNAVAILABLE);
	}
}

/* A token bucket per source address (hashed into a fixed table, so an
 * outsider cannot grow it): add_rate entries/s, one second of burst. */
static int
rate_ok(struct sc_node *n, const struct sockaddr_in *from)
{
	uint32_t ip = from->sin_addr.s_addr;
	struct node_rate *b = &n->rq.rate[(ip * 2654435761u) >> 22 &
	    (NODE_RATE_BUCKETS - 1)];
	double rate = n->conf->add_rate;

	if (rate == 0)
		return 1;
	if (b->addr != ip || !b->used) {
		b->used = 1;
		b->addr = ip;
		sc_bucket_init(&b->b, rate, rate, rate, n->now);
	}
	return sc_bucket_take(&b->b, n->now);
}

void
node_request_add(struct sc_node *n, const struct sockaddr_in *from,
    const struct sc_msg *m)
{
	int coord = n->vw.status == SC_NODE_NORMAL &&
	    n->vw.role == SC_ROLE_COORDINATOR;

	for (uint32_t i = 0; i < m->count; i++) {
		const struct sc_item *it = &m->items[i];

		if (!rate_ok(n, from)) {
			/* Dropped, not refused: an answer to a spoofed
			 * source would make us a reflector. */
			n->rq.rate_limited++;
		} else if (it->len > n->conf->value_max) {
			n->rq.too_large++;
			ack(n, from, it->client, it->req, 0, SC_ERR_TOO_LARGE);
		} else if (coord && node_view_serving(n) &&
		    sc_outbox_room(&n->out)) {
			stamp(n, it, n->id, from);
		} else if (coord && node_view_serving(n)) {
			n->rq.busy++;
			ack(n, from, it->client, it->req, 0, SC_ERR_BUSY);
		} else if (coord) {
			n->rq.unavailable++;
			ack(n, from, it->client, it->req, 0,
			    SC_ERR_UNAVAILABLE);
		} else {
			take(n, it, from);
		}
	}
}

void
node_request_fwd(struct sc_node *n, const struct sc_msg *m)
{
	if (!node_view_serving(n))
		return;
	for (uint32_t i = 0; i < m->count; i++) {
		if (!sc_outbox_room(&n->out))
			return;
		if (m->items[i].len <= n->conf->value_max)
			stamp(n, &m->items[i], m->h.sender, NULL);
	}
}

/* Is the entry at id (applied here) this request? */
static int
entry_is(struct sc_node *n, uint64_t id, uint64_t client, uint64_t req)
{
	struct sc_item e;

	return sc_entries_get(&n->sm.log, id, &e) == 0 &&
	    e.client == client && e.req == req;
}

/* The coordinator says requests we forwarded already have ids. */
void
node_request_stamped(struct sc_node *n, const struct sc_msg *m)
{
	for (uint32_t i = 0; i < m->count; i++) {
		const struct sc_item *it = &m->items[i];
		struct sc_pend *p = sc_pending_get(&n->rq.pend, it->client,
		    it->req);

		if (p == NULL || it->id == 0)
			continue;
		/* The id exists: if we lack it, a gap (even with every
		 * heartbeat lost). */
		if (!SC_MUTATED(SC_MUT_TAIL_BY_HEARTBEAT))
			node_repair_head(n, it->id, 0);
		if (it->id <= n->sm.log.applied) {
			if (!SC_MUTATED(SC_MUT_STAMPED_UNCHECKED) &&
			    !entry_is(n, it->id, it->client, it->req)) {
				n->rq.stamped_mismatch++;
				continue;
			}
			ack(n, &p->addr, it->client, it->req, it->id, SC_OK);
			sc_pending_remove(&n->rq.pend, p);
		} else {
			sc_pending_stamped(&n->rq.pend, p, it->id);
		}
	}
}

/* An entry was applied here: acknowledge it if its client spoke to us. */
void
node_request_applied(struct sc_node *n, const struct sc_item *it)
{
	struct sc_pend *p = sc_pending_get(&n->rq.pend, it->client, it->req);
	int64_t sent;
	uint64_t dgram;

	if (p == NULL)
		return;
	/* Only a request forwarded once tells when it was sent (Karn's
	 * rule): its forward-to-apply time sets how long to wait before
	 * forwarding again, and its FWD datagram shows which earlier
	 * forwards were lost. */
	sent = p->tries == 1 && p->state != SC_PEND_LOCAL ? p->sent : 0;
	dgram = p->fwd_dgram;
	if (sent > 0 && n->now > sent)
		n->rq.fwd_rtt_us = n->rq.fwd_rtt_us ? (7 * n->rq.fwd_rtt_us +
		    n->now - sent) / 8 : n->now - sent;
	ack(n, &p->addr, it->client, it->req, it->id, SC_OK);
	sc_pending_remove(&n->rq.pend, p);
	if (sent > 0 && n->vw.role == SC_ROLE_MEMBER)
		fast_reforward(n, dgram);
}

/* One of our forwards reached this server as an entry (held, maybe
 * behind a gap): it is stamped, stop forwarding it. */
void
node_request_held(struct sc_node *n, const struct sc_item *it)
{
	struct sc_pend *p = sc_pending_get(&n->rq.pend, it->client, it->req);

	if (p != NULL && p->state == SC_PEND_FORWARDED)
		sc_pending_stamped(&n->rq.pend, p, it->id);
}

/* An entry left the log (a view change, a failed write). */
void
node_request_cut(struct sc_node *n, const struct sc_item *it)
{
	struct sc_pend *p;

	if (n->rq.seq_on)
		sc_seq_forget(&n->rq.seq, it->client, it->req, it->id);
	p = sc_pending_get(&n->rq.pend, it->client, it->req);
	if (p == NULL || p->id != it->id)
		return;
	if (p->state == SC_PEND_STAMPED)
		sc_pending_unstamp(&n->rq.pend, p, n->now);
	else if (p->state == SC_PEND_LOCAL)
		p->id = 0;          /* the client's retry is stamped anew */
}

/* Becoming coordinator: the (client, request) -> id memory from our log,
 * then our own clients' requests, which we were forwarding, stamped. */
int
node_request_coordinate(struct sc_node *n)
{
	uint64_t op = n->sm.log.op, from;

	if (n->rq.seq_on)
		sc_seq_free(&n->rq.seq);
	n->rq.seq_on = sc_seq_init(&n->rq.seq, n->conf->dedup_max,
	    op + 1) == 0;
	if (!n->rq.seq_on)
		return -1;
	from = op > n->conf->dedup_max ? op - n->conf->dedup_max + 1 : 1;
	for (uint64_t id = from; id <= op; id++) {
		struct sc_item e;

		if (sc_entries_get(&n->sm.log, id, &e) == 0)
			sc_seq_remember(&n->rq.seq, e.client, e.req, id);
	}
	for (uint32_t s = 0; s < n->rq.pend.cap; s++) {
		struct sc_pend *p = &n->rq.pend.e[s];
		struct sc_item it;

		if (!p->used || p->state == SC_PEND_LOCAL)
			continue;
		memset(&it, 0, sizeof(it));
		it.client = p->client;
		it.req = p->req;
		it.value = p->value;
		it.len = p->len;
		if (sc_seq_find(&n->rq.seq, p->client, p->req, &it.id)) {
			sc_pending_stamped(&n->rq.pend, p, it.id);
			continue;
		}
		if (node_stream_stamp(n, &it) == 0) {
			sc_seq_remember(&n->rq.seq, it.client, it.req, op + 1);
			n->rq.seq.next = ++op + 1;
			sc_pending_stamped(&n->rq.pend, p, op);
		}
	}
	return 0;
}

/* No longer coordinator: requests our clients sent us directly have no
 * value kept; their clients will retry, and we forward the retries. */
void
node_request_step_down(struct sc_node *n)
{
	for (uint32_t s = 0; s < n->rq.pend.cap; s++) {
		struct sc_pend *p = &n->rq.pend.e[s];

		if (p->used && p->state == SC_PEND_LOCAL) {
			sc_pending_remove(&n->rq.pend, p);
			n->rq.dropped_on_step_down++;
		}
	}
	if (n->rq.seq_on)
		sc_seq_free(&n->rq.seq);
	n->rq.seq_on = 0;
}

/* A member of a new view: every request not yet applied goes to the new
 * coordinator (it answers a repeat with the id it already has). */
void
node_request_new_view(struct sc_node *n)
{
	for (uint32_t s = 0; s < n->rq.pend.cap; s++) {
		struct sc_pend *p = &n->rq.pend.e[s];

		if (!p->used || p->state == SC_PEND_LOCAL)
			continue;
		if (p->state == SC_PEND_STAMPED)
			sc_pending_unstamp(&n->rq.pend, p, n->now);
		else
			sc_pending_schedule(&n->rq.pend, p, n->now);
		p->tries = 1;       /* no RTT sample across views */
	}
}

/* Re-forward what the coordinator has not stamped yet, with exponential
 * backoff per request (capped at 8 x the first wait, at most 1 s). */
void
node_request_tick(struct sc_node *n)
{
	if (!forwarding(n))
		return;
	for (;;) {
		struct sc_pend *p = sc_pending_first(&n->rq.pend);
		int64_t backoff;

		if (p == NULL || p->due > n->now)
			break;
		backoff = fwd_timeout(n) << (p->tries < 3 ? p->tries : 3);
		n->rq.reforwards++;
		forward(n, p, n->now + min_i64(backoff, 1000000));
	}
}

int64_t
node_request_deadline(const struct sc_node *n)
{
	struct sc_pend *p;

	if (!forwarding(n))
		return INT64_MAX;
	p = sc_pending_first(&n->rq.pend);
	return p != NULL ? p->due : INT64_MAX;
}
