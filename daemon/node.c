/*
 * node.c - one server's protocol engine: set-up, dispatch of received
 * datagrams, the request path (ADD -> FWD -> stamp) and the apply path
 * (DATA -> hold-back -> log -> ACK).
 */
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "seqcast/log.h"
#include "node_priv.h"

int
sc_node_init(struct sc_node *n, const struct sc_config *c, uint32_t id,
    sc_send_fn send, void *ctx, int64_t now)
{
	struct sc_gap_conf gc;
	const struct sc_fault_conf *fc;

	memset(n, 0, sizeof(*n));
	n->file.fd = -1;
	if (id >= c->nservers)
		return -1;
	n->conf = c;
	n->id = id;
	n->now = now;
	n->coordinator = (id == c->coordinator);
	n->coord_addr = c->servers[c->coordinator].listen;
	n->send = send;
	n->send_ctx = ctx;
	n->fwd_retry_us = ms_to_us(c->forward_retry_ms);
	n->dgram_max = SC_DATAGRAM_MAX;
	n->reply_max = SC_REPLY_MAX;
	n->retx_window_us = ms_to_us(c->retx_window_ms);

	memset(&gc, 0, sizeof(gc));
	/* The random delay spreads the NACKs of servers that lost the same
	 * datagram, so that a multicast repair caused by one spares the
	 * rest. The coordinator repairs its own losses from its store at
	 * once. It answers the first asker by unicast and multicasts from
	 * the second on, so only a third asker can be spared: with two
	 * members (three servers) waiting spares nothing and only delays
	 * every repair (by the wait and the wakeup for its timer): that is
	 * what nack_delay_ms = auto (the default) does. A wait set by hand
	 * is kept (it also tolerates reordering shorter than it). */
	if (n->coordinator)
		gc.delay_max_us = 0;
	else if (c->nack_delay_ms != SC_NACK_DELAY_AUTO)
		gc.delay_max_us = ms_to_us(c->nack_delay_ms);
	else
		gc.delay_max_us = c->nservers <= 3 ? 0 :
		    ms_to_us(SC_NACK_DELAY_AUTO_MS);
	/* Repeat no sooner than a retransmission can come back, and after
	 * the window in which the coordinator suppresses repeat multicasts. */
	gc.retry_us = ms_to_us(c->retx_window_ms) * 2;
	if (gc.retry_us < 3000)
		gc.retry_us = 3000;
	/* Once answers are timed, repeat after the measured repair time,
	 * but never inside the coordinator's retx window (a repeat there
	 * could find the id just multicast and be skipped). */
	gc.retry_min_us = ms_to_us(c->retx_window_ms) + 250;
	gc.backoff_max_us = ms_to_us(c->nack_backoff_max_ms);
	if (gc.backoff_max_us < gc.retry_us)
		gc.backoff_max_us = gc.retry_us;
	gc.max_ranges = c->holdback_max + 1;
	gc.seed = 0x9e3779b97f4a7c15ULL * (id + 1) ^ (uint64_t)now;

	fc = sc_config_fault(c, id);
	sc_fault_init(&n->fault, fc, id);
	n->faulty = sc_fault_active(fc);

	n->dec = sc_decoder_new();
	n->reply_items = calloc(SC_ITEMS_MAX, sizeof(*n->reply_items));
	n->reply_arena = malloc(SC_REPLY_MAX);
	if (n->dec == NULL || n->reply_items == NULL ||
	    n->reply_arena == NULL || sc_applog_init(&n->log) == -1 ||
	    sc_hold_init(&n->hold, c->holdback_max) == -1 ||
	    sc_gap_init(&n->gaps, &gc, 0) == -1 ||
	    sc_pending_init(&n->pend, c->pending_max) == -1)
		goto fail;
	if (n->coordinator &&
	    (sc_seq_init(&n->seq, c->dedup_max, 1) == -1 ||
	    sc_retx_init(&n->retx, c->store_bytes, c->nservers, 1) == -1))
		goto fail;
	n->next_heartbeat = now;
	n->next_report = now + ms_to_us(c->report_ms);
	n->next_sync = now;
	n->catchup_last = now;
	return 0;
fail:
	sc_node_free(n);
	return -1;
}

void
sc_node_free(struct sc_node *n)
{
	if (n->coordinator) {
		if (n->seq.fifo != NULL)
			sc_seq_free(&n->seq);
		if (n->retx.ring != NULL)
			sc_retx_free(&n->retx);
	}
	sc_logfile_close(&n->file);
	free(n->outq_buf);
	n->outq_buf = NULL;
	sc_pending_free(&n->pend);
	sc_gap_free(&n->gaps);
	sc_hold_free(&n->hold);
	sc_applog_free(&n->log);
	node_delayed_free(n);
	if (n->dec != NULL)
		sc_decoder_free(n->dec);
	n->dec = NULL;
	free(n->reply_items);
	free(n->reply_arena);
	n->reply_items = NULL;
	n->reply_arena = NULL;
}

void
sc_node_set_key(struct sc_node *n, const struct sc_auth *auth)
{
	n->auth = *auth;
	if (n->auth.on) {
		n->dgram_max = SC_DATAGRAM_MAX - SC_AUTH_TRAILER;
		n->reply_max = SC_REPLY_MAX - SC_AUTH_TRAILER;
	}
}

uint64_t
sc_node_applied(const struct sc_node *n)
{
	return n->log.count;
}

const struct sockaddr_in *
node_server_addr(const struct sc_node *n, uint32_t server)
{
	return &n->conf->servers[server].listen;
}

static int
is_client_request(int type)
{
	return type == SC_ADD || type == SC_LOG_REQ || type == SC_STATS_REQ;
}

/* Decode into n->msg. Clients may send cluster 0: "whichever cluster this
 * server is in" (a client does not need the cluster file). */
int
node_decode(struct sc_node *n, const void *buf, size_t len)
{
	struct sc_header h;
	uint32_t cluster = n->conf->cluster_id;

	if (sc_decode_header(buf, len, &h) == SC_REJ_NONE && h.cluster == 0 &&
	    is_client_request(h.type))
		cluster = 0;
	return sc_decode(n->dec, buf, len, cluster, &n->msg);
}

void
sc_node_receive(struct sc_node *n, int64_t now, const struct sockaddr_in *from,
    const void *buf, size_t len)
{
	int rc, twice = 0, decided = 0;
	char addr[INET_ADDRSTRLEN];
	struct sc_header h;

	n->now = now;
	n->st.bytes_in += len;
	/* Without a key this only refuses datagrams that carry a MAC. */
	rc = sc_auth_open(&n->auth, buf, len, now, &len);
	if (rc != SC_AUTH_OK) {
		n->st.auth[rc]++;
		inet_ntop(AF_INET, &from->sin_addr, addr, sizeof(addr));
		node_warn(n, now, "refused a datagram from %s:%u: %s", addr,
		    ntohs(from->sin_port), sc_auth_result_name(rc));
		return;
	}
	/* A datagram lost on the wire never costs its receiver more than
	 * the read: injected loss is decided on the header, before the body
	 * is decoded (unless fault_drop_data_above needs the first id). */
	if (n->faulty && n->fault.conf.drop_data_above == 0 &&
	    sc_decode_header(buf, len, &h) == SC_REJ_NONE) {
		decided = 1;
		if (!node_fault_in(n, from, buf, len, h.type, 0, &twice))
			return;
	}
	rc = node_decode(n, buf, len);
	if (rc != SC_REJ_NONE) {
		n->st.rejected[rc]++;
		inet_ntop(AF_INET, &from->sin_addr, addr, sizeof(addr));
		node_warn(n, now, "rejected a %zu-byte datagram from %s:%u: %s",
		    len, addr, ntohs(from->sin_port), sc_reject_name(rc));
		return;
	}
	if (n->faulty && !decided && !node_fault_in(n, from, buf, len,
	    n->msg.h.type, msg_first_id(&n->msg), &twice))
		return;
	node_handle(n, now, from, &n->msg);
	if (twice)
		node_handle(n, now, from, &n->msg);
	if (n->ndelayed > 0)
		node_release_delayed(n, now, SC_IN, 1);
}

void
node_ack(struct sc_node *n, const struct sockaddr_in *to, uint64_t client,
    uint64_t req, uint64_t id, int status)
{
	struct sc_item it;

	memset(&it, 0, sizeof(it));
	it.client = client;
	it.req = req;
	it.id = id;
	it.status = status;
	n->st.acks_sent++;
	node_batch_add(n, SC_ACK, to, &it, 0);
}

/* First re-forward: forward_retry_ms, or twice the measured forward-to-
 * apply time when that is longer (a slow or loaded network), so that a
 * request is forwarded again only when it is likely lost. */
static int64_t
fwd_timeout(const struct sc_node *n)
{
	return 2 * n->fwd_rtt_us > n->fwd_retry_us ? 2 * n->fwd_rtt_us :
	    n->fwd_retry_us;
}

/* Send a pending request to the coordinator again; it is due again at
 * `due` if that one is lost too. */
static void
node_reforward(struct sc_node *n, struct sc_pend *p, int64_t due)
{
	struct sc_item it;

	memset(&it, 0, sizeof(it));
	it.client = p->client;
	it.req = p->req;
	it.value = p->value;
	it.len = p->len;
	n->st.reforwards++;
	p->tries++;
	p->sent = n->now;
	sc_pending_schedule(&n->pend, p, due);
	node_batch_add(n, SC_FWD, &n->coord_addr, &it, 0);
	sc_pending_forwarded(&n->pend, p, n->fwd_dgrams);
}

/* Fast re-forward (as TCP's fast retransmit with SACK): when an entry we
 * forwarded once, in FWD datagram k, is applied, every request whose
 * latest forward went in a datagram before k and still has no id was lost
 * on the way (see sc_pending_overtaken): send it again now instead of
 * waiting for its timer, and the same again if that forward is lost too.
 * A wrong guess (datagrams reordered by the network) costs only a STAMPED
 * answer. */
static void
node_fast_reforward(struct sc_node *n, uint64_t dgram)
{
	struct sc_pend *p;

	while ((p = sc_pending_overtaken(&n->pend, dgram)) != NULL) {
		n->st.fast_reforwards++;
		node_reforward(n, p, n->now + 2 * fwd_timeout(n));
	}
}

/* Apply the next entry: append, and ACK it if a client here waits. */
static void
node_apply(struct sc_node *n, uint64_t id, uint64_t client, uint64_t req,
    const uint8_t *value, uint32_t len)
{
	struct sc_pend *p;
	int64_t sent;
	uint64_t dgram;

	if (sc_applog_append(&n->log, id, client, req, value, len) == -1) {
		node_warn(n, n->now, "cannot append entry %llu: out of memory",
		    (unsigned long long)id);
		return;
	}
	if (!n->coordinator)
		node_persist(n, id, client, req, value, len);
	p = sc_pending_get(&n->pend, client, req);
	if (p == NULL)
		return;
	/* Only a request forwarded once tells when it was sent (Karn's
	 * rule): its forward-to-apply time sets how long to wait before
	 * forwarding again, and its FWD datagram shows which earlier forwards
	 * were lost. */
	sent = p->tries == 1 ? p->sent : 0;
	dgram = p->fwd_dgram;
	if (sent > 0 && n->now > sent)
		n->fwd_rtt_us = n->fwd_rtt_us ? (7 * n->fwd_rtt_us + n->now -
		    sent) / 8 : n->now - sent;
	node_ack(n, &p->addr, client, req, id, SC_OK);
	sc_pending_remove(&n->pend, p);
	if (!n->coordinator && sent > 0)
		node_fast_reforward(n, dgram);
}

/* Apply held entries that have become next in line. */
static void
node_drain(struct sc_node *n)
{
	const struct sc_held *h;

	while ((h = sc_hold_get(&n->hold, n->log.count + 1)) != NULL) {
		uint64_t id = h->id;

		node_apply(n, id, h->client, h->req, h->value, h->len);
		sc_hold_remove(&n->hold, id);
		if (n->log.count != id)
			break;      /* could not apply: stop, ask again */
	}
}

/* An entry arrived (DATA, RETX, or the coordinator's own store). */
void
node_offer_entry(struct sc_node *n, int64_t now, const struct sc_item *it)
{
	uint64_t applied = n->log.count;

	/* The coordinator's own multicast came back past a gap: its store
	 * has what is missing, so apply that first instead of holding this
	 * entry back and filling the gap afterwards (no copy, no hold). */
	if (n->coordinator && it->id > applied + 1 &&
	    it->id - applied <= n->hold.cap) {
		node_fill_local(n, now, applied + 1, it->id - 1, n->hold.cap,
		    0);
		applied = n->log.count;
	}
	if (it->id <= applied) {
		n->st.duplicates++;
		return;
	}
	if (it->id == applied + 1) {
		sc_gap_seen(&n->gaps, it->id, now);
		node_apply(n, it->id, it->client, it->req, it->value, it->len);
		sc_hold_remove(&n->hold, it->id);
		node_drain(n);
		/* Nothing up to the applied id is missing any more (this
		 * also clears ids a full gap table could not split out). */
		sc_gap_applied(&n->gaps, n->log.count);
		return;
	}
	switch (sc_hold_put(&n->hold, applied, it)) {
	case SC_HOLD_NEW:
		sc_gap_seen(&n->gaps, it->id, now);
		/* One of ours, stamped: it only waits for the gap before it
		 * to be repaired, so stop re-forwarding it. */
		if (!n->coordinator) {
			struct sc_pend *p = sc_pending_get(&n->pend,
			    it->client, it->req);

			if (p != NULL && p->value != NULL)
				sc_pending_stamped(&n->pend, p, it->id);
		}
		break;
	case SC_HOLD_DUP:
		n->st.duplicates++;
		break;
	default:
		n->st.far++;
		break;
	}
}

/* The coordinator takes a request: stamp it (or find its id), multicast
 * new entries, answer repeats. origin: who forwarded it (our id if a
 * client sent it here); client_addr when a client sent it here. */
static void
node_stamp(struct sc_node *n, const struct sc_item *it, uint32_t origin,
    const struct sockaddr_in *client_addr)
{
	struct sc_item e = *it;
	struct sc_pend *p = NULL;

	if (client_addr != NULL &&
	    (p = sc_pending_get(&n->pend, it->client, it->req)) == NULL &&
	    n->pend.count == n->pend.cap) {
		n->st.busy++;
		node_ack(n, client_addr, it->client, it->req, 0, SC_ERR_BUSY);
		return;
	}
	if (sc_seq_stamp(&n->seq, it->client, it->req, &e.id) == SC_SEQ_NEW) {
		/* Durable before its DATA can leave (node_make_durable). */
		node_persist(n, e.id, it->client, it->req, it->value, it->len);
		if (sc_retx_put(&n->retx, e.id, it->client, it->req, it->value,
		    it->len) == -1)
			node_warn(n, n->now, "retransmit store: cannot keep "
			    "entry %llu", (unsigned long long)e.id);
		node_batch_add(n, SC_DATA, NULL, &e, 0);
	} else {
		n->st.repeats++;
		if (client_addr == NULL) {
			/* A re-forward: tell the forwarder the id. */
			e.status = SC_OK;
			node_batch_add(n, SC_STAMPED,
			    node_server_addr(n, origin), &e, 0);
			return;
		}
		if (e.id <= n->log.count) {
			node_ack(n, client_addr, it->client, it->req, e.id,
			    SC_OK);
			return;
		}
	}
	if (client_addr == NULL)
		return;
	if (p == NULL)
		p = sc_pending_add(&n->pend, it->client, it->req, client_addr,
		    NULL, 0);
	if (p != NULL) {
		p->addr = *client_addr;
		p->id = e.id;
	}
}

/* A member takes a client's request: forward it, remember whom to ACK. */
static void
node_forward(struct sc_node *n, int64_t now, const struct sc_item *it,
    const struct sockaddr_in *client_addr)
{
	struct sc_pend *p = sc_pending_get(&n->pend, it->client, it->req);

	if (p != NULL) {
		/* The client retried: ACK to where it is now, and if our own
		 * forward is unanswered for a while, forward again at once
		 * rather than wait out the backoff. */
		n->st.repeats++;
		p->addr = *client_addr;
		if (p->value != NULL && now - p->sent >= fwd_timeout(n))
			node_reforward(n, p, now + fwd_timeout(n));
		return;
	}
	p = sc_pending_add(&n->pend, it->client, it->req, client_addr,
	    it->value, it->len);
	if (p == NULL) {
		n->st.busy++;
		node_ack(n, client_addr, it->client, it->req, 0, SC_ERR_BUSY);
		return;
	}
	n->st.forwards++;
	p->tries = 1;
	p->sent = now;
	sc_pending_schedule(&n->pend, p, now + fwd_timeout(n));
	node_batch_add(n, SC_FWD, &n->coord_addr, it, 0);
	/* Numbered after the add: a full batch is sent first. */
	sc_pending_forwarded(&n->pend, p, n->fwd_dgrams);
}

/* A token bucket per source address (hashed into a fixed table, so an
 * outsider cannot grow it): add_rate entries/s, one second of burst. */
static int
rate_ok(struct sc_node *n, int64_t now, const struct sockaddr_in *from)
{
	uint32_t ip = from->sin_addr.s_addr;
	struct sc_rate_bucket *b = &n->rate[(ip * 2654435761u) >>
	    22 & (SC_RATE_BUCKETS - 1)];
	double rate = n->conf->add_rate;

	if (rate == 0)
		return 1;
	if (b->addr != ip || !b->used) {
		b->used = 1;
		b->addr = ip;
		b->tokens = rate;
		b->last = now;
	}
	return node_bucket_take(&b->tokens, &b->last, now, rate, rate);
}

static void
handle_add(struct sc_node *n, int64_t now, const struct sockaddr_in *from,
    const struct sc_msg *m)
{
	for (uint32_t i = 0; i < m->count; i++) {
		const struct sc_item *it = &m->items[i];

		if (!rate_ok(n, now, from)) {
			/* Dropped, not refused: an answer to a spoofed
			 * source would make us a reflector. */
			n->st.rate_limited++;
		} else if (it->len > n->conf->value_max) {
			n->st.too_large++;
			node_ack(n, from, it->client, it->req, 0,
			    SC_ERR_TOO_LARGE);
		} else if (n->coordinator) {
			node_stamp(n, it, n->id, from);
		} else {
			node_forward(n, now, it, from);
		}
	}
}

static void
handle_fwd(struct sc_node *n, const struct sc_msg *m)
{
	for (uint32_t i = 0; i < m->count; i++)
		if (m->items[i].len <= n->conf->value_max)
			node_stamp(n, &m->items[i], m->h.sender, NULL);
}

/* The coordinator says a request we forwarded already has an id. */
static void
handle_stamped(struct sc_node *n, const struct sc_msg *m)
{
	for (uint32_t i = 0; i < m->count; i++) {
		const struct sc_item *it = &m->items[i];
		struct sc_pend *p = sc_pending_get(&n->pend, it->client,
		    it->req);

		if (p == NULL || it->id == 0)
			continue;
		if (it->id <= n->log.count) {
			node_ack(n, &p->addr, it->client, it->req, it->id,
			    SC_OK);
			sc_pending_remove(&n->pend, p);
		} else {
			sc_pending_stamped(&n->pend, p, it->id);
		}
	}
}

static void
handle_entries(struct sc_node *n, int64_t now, const struct sc_msg *m)
{
	for (uint32_t i = 0; i < m->count; i++)
		node_offer_entry(n, now, &m->items[i]);
	/* A retransmission carries the coordinator's head: it may reveal a
	 * lost tail as well as a heartbeat would. DATA comes in id order:
	 * what such a head announced below this DATA is lost, not late. */
	if (m->h.type == SC_RETX)
		sc_gap_hint(&n->gaps, m->a, now);
	else if (m->count > 0)
		sc_gap_passed(&n->gaps, m->items[0].id, now);
}

static void
handle_log_req(struct sc_node *n, const struct sockaddr_in *from,
    const struct sc_msg *req)
{
	struct sc_item *items = n->reply_items;
	uint8_t *arena = n->reply_arena;
	struct sc_msg m;
	uint64_t id = req->a ? req->a : 1;
	uint64_t max = req->b ? req->b : SC_ITEMS_MAX;
	size_t size, used = 0;

	node_header(n, &m, SC_LOG_REPLY);
	m.a = n->log.count;
	m.items = items;
	size = sc_encoded_size(SC_LOG_REPLY, NULL, 0);
	while (id <= n->log.count && m.count < max && m.count < SC_ITEMS_MAX) {
		struct sc_item *it = &items[m.count];

		if (sc_applog_get(&n->log, id, it) == -1) {
			node_warn(n, n->now, "cannot read entry %llu back",
			    (unsigned long long)id);
			break;
		}
		if (size + sc_item_size(SC_LOG_REPLY, it) > n->reply_max)
			break;
		/* The value may point into a read buffer that the next get
		 * reuses: keep a copy. */
		memcpy(arena + used, it->value, it->len);
		it->value = arena + used;
		used += it->len;
		size += sc_item_size(SC_LOG_REPLY, it);
		m.count++;
		id++;
	}
	node_send_msg(n, &m, from, n->reply_max);
}

static void
handle_stats_req(struct sc_node *n, const struct sockaddr_in *from)
{
	char *json = (char *)n->reply_arena;
	struct sc_msg m;

	if (sc_node_stats_json(n, json, SC_TEXT_MAX + 1) < 0)
		return;
	node_header(n, &m, SC_STATS_REPLY);
	m.text = json;
	node_send_msg(n, &m, from, n->reply_max);
}

/* Who may send what: server-to-server messages must name a server of
 * this cluster and come from that server's own address (every server
 * sends from its listen socket), and only the coordinator multicasts
 * entries. Not authentication (a LAN host can forge a source address;
 * that needs the shared key), but stray and garbage datagrams stop here. */
static int
sender_ok(const struct sc_node *n, const struct sockaddr_in *from,
    const struct sc_msg *m)
{
	uint32_t s = m->h.sender;

	if (!is_client_request(m->h.type)) {
		const struct sockaddr_in *a;

		if (s >= n->conf->nservers)
			return 0;
		a = node_server_addr(n, s);
		if (from->sin_addr.s_addr != a->sin_addr.s_addr ||
		    from->sin_port != a->sin_port)
			return 0;
	}
	switch (m->h.type) {
	case SC_ADD: case SC_LOG_REQ: case SC_STATS_REQ:
		return 1;
	case SC_FWD: case SC_NACK: case SC_REPORT:
		return n->coordinator && s != n->id;
	case SC_DATA: case SC_RETX: case SC_HEARTBEAT:
		return s == n->conf->coordinator;
	case SC_STAMPED: case SC_GONE:
		return !n->coordinator && s == n->conf->coordinator;
	default:
		return 0;   /* ACK, LOG_REPLY, STATS_REPLY are for clients */
	}
}

void
node_handle(struct sc_node *n, int64_t now, const struct sockaddr_in *from,
    const struct sc_msg *m)
{
	n->st.in[m->h.type]++;
	if (!sender_ok(n, from, m)) {
		n->st.unexpected++;
		node_warn(n, now, "unexpected %s datagram from sender %u",
		    sc_type_name(m->h.type), m->h.sender);
		return;
	}
	switch (m->h.type) {
	case SC_ADD:
		handle_add(n, now, from, m);
		break;
	case SC_FWD:
		handle_fwd(n, m);
		break;
	case SC_STAMPED:
		handle_stamped(n, m);
		break;
	case SC_DATA:
	case SC_RETX:
		handle_entries(n, now, m);
		break;
	case SC_HEARTBEAT:
		sc_gap_head(&n->gaps, m->a, now);
		/* The coordinator's lost tail is in its store: fill it now
		 * rather than on the next timer. (A gap before an entry that
		 * came back is filled as the entry is offered.) */
		if (n->coordinator)
			node_repair_gaps(n, now);
		break;
	case SC_NACK:
		node_repair_nack(n, now, m->h.sender, m);
		break;
	case SC_REPORT:
		sc_retx_report(&n->retx, m->h.sender, m->a);
		break;
	case SC_GONE:
		node_repair_gone(n, m);
		break;
	case SC_LOG_REQ:
		handle_log_req(n, from, m);
		break;
	case SC_STATS_REQ:
		handle_stats_req(n, from);
		break;
	}
}

static int64_t
min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

void
sc_node_tick(struct sc_node *n, int64_t now)
{
	n->now = now;
	if (n->ndelayed > 0) {
		node_release_delayed(n, now, SC_IN, 0);
		node_release_delayed(n, now, SC_OUT, 0);
	}
	node_repair_tick(n, now);
	node_durable_tick(n, now);
	/* Re-forward what the coordinator has not stamped yet, with
	 * exponential backoff per request (capped at 8 x forward_retry_ms,
	 * at most 1 s). */
	for (;;) {
		struct sc_pend *p = sc_pending_first(&n->pend);
		int64_t backoff;

		if (p == NULL || p->due > now)
			break;
		backoff = fwd_timeout(n) << (p->tries < 3 ? p->tries : 3);
		node_reforward(n, p, now + min64(backoff, 1000000));
	}
	sc_node_flush(n);
}

int64_t
sc_node_next_deadline(const struct sc_node *n)
{
	int64_t t = node_repair_deadline(n);
	struct sc_pend *p = sc_pending_first(&n->pend);

	if (p != NULL)
		t = min64(t, p->due);
	if (n->ndelayed > 0)
		t = min64(t, node_delayed_deadline(n));
	return min64(t, node_durable_deadline(n));
}
