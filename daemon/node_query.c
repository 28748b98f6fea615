/*
 * node_query.c - what clients ask a server about: its applied log, a
 * page at a time, and its stats, in pages. Every page is one datagram
 * that fits the path (dgram_max) and, for an address not verified, what
 * its budget allows (node_client.c): the client asks again from where a
 * page ended.
 *
 * A log request for entries not yet applied may wait here: its fourth
 * scalar is how long (ms), and it is answered as soon as entries past
 * its first id are applied, or empty when the wait ends (a long poll:
 * seqcast log --follow asks so, and an idle server spends nothing on
 * it). Only a request that proved its address waits; the table is
 * bounded (NODE_PARK_MAX, one request per address), and a request that
 * finds it full is answered at once.
 */
#include <string.h>

#include "node_rooms.h"

/* Send the page of the applied log that starts at id `first` (at most
 * max entries; 0: as many as fit) to `to`, in at most limit bytes; the
 * reply echoes `first` in its second scalar. The entries sent, or -1
 * when there were some and none fit (nothing is sent then). */
static int
send_page(struct sc_node *n, const struct sockaddr_in *to, uint64_t first,
    uint64_t max, size_t limit)
{
	static struct sc_item items[SC_BATCH_ITEMS];
	static uint8_t arena[SC_SEND_MAX];
	size_t size = sc_encoded_size(SC_LOG_REPLY, NULL, 0), used = 0;
	uint64_t id = first ? first : 1;
	int cut = 0;
	struct sc_msg m;

	node_msg(n, &m, SC_LOG_REPLY);
	m.a = n->sm.log.applied;
	m.b = first;
	m.items = items;
	if (max == 0)
		max = SC_ITEMS_MAX;
	if (limit > n->dgram_max)
		limit = n->dgram_max;
	while (id <= n->sm.log.applied && m.count < max &&
	    m.count < SC_BATCH_ITEMS) {
		struct sc_item *it = &items[m.count];

		if (sc_entries_get(&n->sm.log, id, it) == -1) {
			node_warn(n, "cannot read entry %llu back",
			    (unsigned long long)id);
			break;
		}
		size += sc_item_size(SC_LOG_REPLY, it);
		if (size > limit) {
			cut = size <= n->dgram_max;
			break;
		}
		/* The value may live in a read-back buffer that the next
		 * get reuses: keep a copy. */
		memcpy(arena + used, it->value, it->len);
		it->value = arena + used;
		used += it->len;
		m.count++;
		id++;
	}
	n->cl.shrunk += cut;
	if (sc_encoded_size(SC_LOG_REPLY, NULL, 0) > limit ||
	    (m.count == 0 && id <= n->sm.log.applied))
		return -1;
	node_send(n, &m, to);
	return (int)m.count;
}

/* The bytes a reply to `to` may have now. */
static size_t
reply_limit(struct sc_node *n, const struct sockaddr_in *to)
{
	size_t room = node_client_room(n, to);

	return room < n->dgram_max ? room : n->dgram_max;
}

/* Lowest first id and earliest deadline of what is parked. */
static void
park_scan(struct sc_node *n)
{
	struct node_client *c = &n->cl;

	c->park_from = UINT64_MAX;
	c->park_due = INT64_MAX;
	for (uint32_t i = 0; i < NODE_PARK_MAX && c->parked > 0; i++) {
		const struct node_park *p = &c->park[i];

		if (!p->used)
			continue;
		c->park_from = min_u64(c->park_from, p->from);
		c->park_due = min_i64(c->park_due, p->deadline);
	}
}

/* Answer parked request p now (with what is applied) and free its slot.
 * It proved its address when it came; its cookie must still be good. */
static void
park_answer(struct sc_node *n, struct node_park *p)
{
	struct node_client *c = &n->cl;

	c->send_verified = sc_cookie_check(&c->cookie, &p->addr, p->cookie,
	    n->now) == SC_COOKIE_OK;
	(void)send_page(n, &p->addr, p->from, p->max,
	    reply_limit(n, &p->addr));
	c->send_verified = 0;
	p->used = 0;
	c->parked--;
}

/* Park a log request from `from` (one per address: a newer one takes
 * the older one's place). 0, or -1 when the table is full. */
static int
park(struct sc_node *n, const struct sockaddr_in *from,
    const struct sc_msg *req, uint64_t first)
{
	struct node_client *c = &n->cl;
	struct node_park *p = NULL;
	uint64_t wait = min_u64(req->d, NODE_PARK_WAIT_MAX_MS);

	for (uint32_t i = 0; i < NODE_PARK_MAX; i++) {
		struct node_park *q = &c->park[i];

		if (q->used && q->addr.sin_addr.s_addr ==
		    from->sin_addr.s_addr && q->addr.sin_port == from->sin_port) {
			p = q;
			break;
		}
		if (!q->used && p == NULL)
			p = q;
	}
	if (p == NULL)
		return -1;
	if (!p->used) {
		c->parked++;
		if (c->parked > c->parked_peak)
			c->parked_peak = c->parked;
	}
	p->used = 1;
	p->addr = *from;
	p->from = first;
	p->max = req->c;
	p->cookie = req->a;
	p->deadline = n->now + ms_to_us((uint32_t)wait);
	c->parks++;
	park_scan(n);
	return 0;
}

/* A page of the applied log from id b (at most c entries; 0: as many as
 * fit); if there is none yet and d > 0, wait up to d ms for one. */
void
node_query_log(struct sc_node *n, const struct sockaddr_in *from,
    const struct sc_msg *req)
{
	uint64_t first = req->b ? req->b : 1;

	if (first > n->sm.log.applied && req->d > 0 && n->cl.verified) {
		if (park(n, from, req, first) == 0)
			return;
		n->cl.park_full++;
	}
	(void)send_page(n, from, first, req->c, reply_limit(n, from));
}

/* End of a pass: answer what waited for entries now applied. */
void
node_query_wake(struct sc_node *n)
{
	struct node_client *c = &n->cl;

	if (c->parked == 0 || c->park_from > n->sm.log.applied)
		return;
	for (uint32_t i = 0; i < NODE_PARK_MAX; i++)
		if (c->park[i].used && c->park[i].from <= n->sm.log.applied) {
			c->woken++;
			park_answer(n, &c->park[i]);
		}
	park_scan(n);
}

/* Waits that ended: answer them, empty. */
void
node_query_tick(struct sc_node *n)
{
	struct node_client *c = &n->cl;

	if (c->park_due > n->now)
		return;
	for (uint32_t i = 0; i < NODE_PARK_MAX; i++)
		if (c->park[i].used && c->park[i].deadline <= n->now) {
			c->expired++;
			park_answer(n, &c->park[i]);
		}
	park_scan(n);
}

int64_t
node_query_deadline(const struct sc_node *n)
{
	return n->cl.park_due;
}

/* A page of the stats text from offset c, as much as fits the path.
 * Not cut shorter to fit a budget: the text changes from one request to
 * the next, and a client joins pages end to end, so a page cut short
 * (to be followed by one of a later text) would join two moments into
 * broken JSON. An address without a cookie gets the COOKIE alone, then,
 * asking again with it, whole pages. */
/* The text a stats request's page is cut from: a new snapshot for a
 * first page (offset 0), the snapshot of that request (address and
 * nonce) for the later ones, a fresh one if it is gone. NULL: no text. */
static const struct node_stats_snap *
stats_text(struct sc_node *n, const struct sockaddr_in *from,
    const struct sc_msg *req)
{
	struct node_stats_snap *s;

	for (uint32_t i = 0; req->c > 0 && i < NODE_STATS_SNAPS; i++) {
		s = &n->cl.snap[i];
		if (s->at != 0 && n->now - s->at < NODE_STATS_SNAP_US &&
		    s->nonce == req->b &&
		    s->who.sin_addr.s_addr == from->sin_addr.s_addr &&
		    s->who.sin_port == from->sin_port)
			return s;
	}
	s = &n->cl.snap[n->cl.snap_next++ % NODE_STATS_SNAPS];
	s->len = sc_node_stats_json(n, s->text, sizeof(s->text));
	if (s->len < 0) {
		s->at = 0;
		return NULL;
	}
	s->who = *from;
	s->nonce = req->b;
	s->at = n->now != 0 ? n->now : 1;
	return s;
}

void
node_query_stats(struct sc_node *n, const struct sockaddr_in *from,
    const struct sc_msg *req)
{
	const struct node_stats_snap *snap = stats_text(n, from, req);
	char page[SC_TEXT_MAX + 1];
	size_t limit = reply_limit(n, from), empty, chunk;
	uint64_t off = req->c;
	struct sc_msg m;

	if (snap == NULL || off > (uint64_t)snap->len)
		return;
	node_msg(n, &m, SC_STATS_REPLY);
	m.a = (uint64_t)snap->len;
	m.b = off;
	m.text = "";
	empty = sc_msg_size(&m);
	chunk = min_u64(n->dgram_max - empty, (size_t)snap->len - off);
	if (limit < empty + chunk) {
		n->cl.shrunk++;
		return;
	}
	memcpy(page, snap->text + off, chunk);
	page[chunk] = '\0';
	m.text = page;
	node_send(n, &m, from);
}
