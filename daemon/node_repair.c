/*
 * node_repair.c - the recovery protocol: heartbeats and reports, NACKs
 * from the gap tracker, retransmission from the store, GONE answers.
 *
 * A loss and its repair:
 *   coordinator --DATA 41..80--x (lost at server 2)
 *   coordinator --DATA 81..120--> server 2: gap 41..80 opens
 *   server 2 waits a random 0..nack_delay_ms (none with three servers),
 *   then --NACK [41,80]--> coord
 *   coordinator --RETX 41..80--> server 2 (unicast; multicast if another
 *   server asked for them within retx_window_ms); server 2 applies 41..120.
 * A lost tail is found by the heartbeat (its head is the highest id); a
 * NACK that is lost, or whose answer is lost, is repeated with backoff.
 */
#include <string.h>

#include "seqcast/log.h"
#include "node_priv.h"

/* Entries one NACK may cost the coordinator: bounds the work a single
 * datagram can ask for (the receiver asks again for the rest). */
#define NACK_BUDGET 1024
/* Ranges per NACK: fits one datagram (16 bytes each). */
#define NACK_RANGES 80

static uint64_t
coord_head(const struct sc_node *n)
{
	return sc_seq_highest(&n->seq);
}

static void
retx_item(struct sc_item *it, uint64_t id, const struct sc_stored *s)
{
	memset(it, 0, sizeof(*it));
	it->id = id;
	it->client = s->client;
	it->req = s->req;
	it->value = s->value;
	it->len = s->len;
}

/* Retransmit one id from the store: unicast, multicast or not at all. */
static void
nack_from_store(struct sc_node *n, int64_t now, uint32_t asker, uint64_t id,
    const struct sc_stored *s)
{
	struct sc_item it;

	retx_item(&it, id, s);
	switch (sc_retx_route(&n->retx, id, asker, now, n->retx_window_us)) {
	case SC_ROUTE_UNICAST:
		n->st.retx_unicast++;
		node_batch_add(n, SC_RETX, node_server_addr(n, asker), &it,
		    coord_head(n));
		break;
	case SC_ROUTE_MULTICAST:
		n->st.retx_multicast++;
		node_batch_add(n, SC_RETX, NULL, &it, coord_head(n));
		break;
	default:
		n->st.retx_skipped++;
		break;
	}
}

/* Serve ids [id, last] that left the store from the coordinator's own
 * log (catch-up of a restarted or new server), rate-limited. Returns the
 * first id not served (the asker repeats its NACK for the rest); *bad is
 * set if that id cannot be read back (the caller says GONE for it). */
static uint64_t
nack_from_log(struct sc_node *n, int64_t now, uint32_t asker, uint64_t id,
    uint64_t last, uint32_t *budget, int *bad)
{
	struct sc_item it;

	for (; id <= last && *budget > 0; id++) {
		if (!node_catchup_allow(n, now))
			break;
		if (sc_applog_get(&n->log, id, &it) == -1) {
			node_warn(n, now, "cannot read entry %llu back from "
			    "the log: answering GONE", (unsigned long long)id);
			*bad = 1;
			break;
		}
		n->served_from_log++;
		n->st.retx_unicast++;
		(*budget)--;
		node_batch_add(n, SC_RETX, node_server_addr(n, asker), &it,
		    coord_head(n));
	}
	return id;
}

/* Answer a NACK: retransmit what we hold (store, else log), say GONE for
 * what we do not. */
void
node_repair_nack(struct sc_node *n, int64_t now, uint32_t asker,
    const struct sc_msg *m)
{
	struct sc_item gone[NACK_RANGES];
	struct sc_msg g;
	uint32_t ngone = 0, budget = NACK_BUDGET;

	n->st.nacks_received++;
	sc_retx_report(&n->retx, asker, m->a);
	for (uint32_t i = 0; i < m->count && budget > 0; i++) {
		uint64_t id = m->items[i].first, last = m->items[i].last;
		const struct sc_stored *s;

		if (id == 0)
			id = 1;
		if (last > coord_head(n))
			last = coord_head(n);
		if (id < n->retx.low) {
			uint64_t below = last < n->retx.low ? last :
			    n->retx.low - 1;
			uint64_t logged = below < n->log.count ? below :
			    n->log.count;

			if (id <= logged) {
				int bad = 0;

				id = nack_from_log(n, now, asker, id, logged,
				    &budget, &bad);
				if (id <= logged && !bad)
					continue;   /* rate or budget spent */
			}
			/* Neither in the store nor in our log: say so. */
			if (id <= below && ngone < NACK_RANGES) {
				memset(&gone[ngone], 0, sizeof(gone[0]));
				gone[ngone].first = id;
				gone[ngone++].last = below;
			}
			id = below + 1;
		}
		for (; id <= last && budget > 0; id++, budget--) {
			if (sc_retx_get(&n->retx, id, &s) != SC_RETX_HAVE)
				break;
			nack_from_store(n, now, asker, id, s);
		}
	}
	if (ngone == 0)
		return;
	node_header(n, &g, SC_GONE);
	g.a = n->retx.low;
	g.count = ngone;
	g.items = gone;
	n->st.gone_sent++;
	node_send_msg(n, &g, node_server_addr(n, asker), n->dgram_max);
}

/* The coordinator no longer has what we asked for. */
void
node_repair_gone(struct sc_node *n, const struct sc_msg *m)
{
	n->st.gone_received++;
	for (uint32_t i = 0; i < m->count; i++) {
		const struct sc_item *r = &m->items[i];

		if (r->last < r->first || r->last <= n->log.count)
			continue;
		n->st.gone_ids += r->last - r->first + 1;
		if (n->gone_from == 0 || r->first < n->gone_from)
			n->gone_from = r->first > n->log.count ? r->first :
			    n->log.count + 1;
		sc_gap_forget(&n->gaps, r->first, r->last);
		node_warn(n, n->now, "entries %llu..%llu are gone from the "
		    "coordinator's store (evicted before every server had "
		    "them): this server cannot apply past %llu",
		    (unsigned long long)r->first, (unsigned long long)r->last,
		    (unsigned long long)(n->gone_from - 1));
	}
}

/* Offer [first, last] from the coordinator's store, at most budget ids;
 * the count offered. Stops at an id the store no longer has; `forget`:
 * stop asking for it and the rest of the range (nobody has it). */
uint64_t
node_fill_local(struct sc_node *n, int64_t now, uint64_t first,
    uint64_t last, uint64_t budget, int forget)
{
	uint64_t id;

	for (id = first; id <= last && id - first < budget; id++) {
		const struct sc_stored *s;
		struct sc_item it;

		if (sc_retx_get(&n->retx, id, &s) != SC_RETX_HAVE) {
			if (forget)
				sc_gap_forget(&n->gaps, id, last);
			break;
		}
		retx_item(&it, id, s);
		n->st.retx_local++;
		node_offer_entry(n, now, &it);
	}
	return id - first;
}

/* The coordinator's own gaps (it lost its own multicast): fill them from
 * its store directly, no datagram needed. */
static void
repair_local(struct sc_node *n, int64_t now, const struct sc_gap_ask *ask,
    uint32_t nask)
{
	uint64_t budget = NACK_BUDGET;

	for (uint32_t i = 0; i < nask && budget > 0; i++)
		budget -= node_fill_local(n, now, ask[i].first, ask[i].last,
		    budget, 1);
}

/* Ask for (a member: NACK) or fill from the store (the coordinator) the
 * missing ranges that are due. */
void
node_repair_gaps(struct sc_node *n, int64_t now)
{
	struct sc_gap_ask ask[NACK_RANGES];
	struct sc_item items[NACK_RANGES];
	struct sc_msg m;
	uint32_t k;

	if (sc_gap_next_due(&n->gaps) > now)
		return;
	/* Ask only for what fits the hold-back window: the rest would be
	 * dropped on arrival. */
	k = sc_gap_due(&n->gaps, now, ask, NACK_RANGES, n->hold.cap);
	if (k == 0)
		return;
	if (n->coordinator) {
		repair_local(n, now, ask, k);
		return;
	}
	node_header(n, &m, SC_NACK);
	m.a = n->log.count;
	m.count = k;
	m.items = items;
	memset(items, 0, sizeof(items));
	for (uint32_t i = 0; i < k; i++) {
		items[i].first = ask[i].first;
		items[i].last = ask[i].last;
	}
	n->st.nacks_sent++;
	node_send_msg(n, &m, &n->coord_addr, n->dgram_max);
}

void
node_repair_tick(struct sc_node *n, int64_t now)
{
	struct sc_msg m;

	if (n->coordinator) {
		sc_retx_report(&n->retx, n->id, n->log.count);
		if (now >= n->next_heartbeat) {
			/* Flush first, so the heartbeat's head never runs
			 * ahead of the DATA that carries it. */
			sc_node_flush(n);
			node_header(n, &m, SC_HEARTBEAT);
			m.a = coord_head(n);
			m.b = n->retx.stable;
			n->st.heartbeats_sent++;
			node_send_msg(n, &m, NULL, n->dgram_max);
			n->next_heartbeat = now +
			    ms_to_us(n->conf->heartbeat_ms);
		}
	} else if (now >= n->next_report) {
		node_header(n, &m, SC_REPORT);
		m.a = n->log.count;
		n->st.reports_sent++;
		node_send_msg(n, &m, &n->coord_addr, n->dgram_max);
		n->next_report = now + ms_to_us(n->conf->report_ms);
	}
	node_repair_gaps(n, now);
}

int64_t
node_repair_deadline(const struct sc_node *n)
{
	int64_t t = sc_gap_next_due(&n->gaps);
	int64_t own = n->coordinator ? n->next_heartbeat : n->next_report;

	return own < t ? own : t;
}
