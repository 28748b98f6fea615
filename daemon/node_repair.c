/*
 * node_repair.c - finding and repairing lost entries: the gap tracker's
 * NACKs, answering them (the coordinator from its log, routed unicast or
 * multicast; any server for a new coordinator completing its log), GONE,
 * and the periodic datagrams that reveal a lost tail and keep the view
 * alive: heartbeats (coordinator) and reports (members).
 *
 * A loss and its repair:
 *   coordinator --DATA 41..80--x (lost at server 2)
 *   coordinator --DATA 81..120--> server 2: gap 41..80 opens
 *   server 2 waits a random 0..nack_delay_ms (none with three servers),
 *   then --NACK [41,80]--> coordinator
 *   coordinator --RETX 41..80--> server 2 (unicast; multicast if another
 *   server asked for them within retx_window_ms); server 2 holds 41..120.
 * A lost tail is found by the heartbeat (its head is the highest id the
 * coordinator holds); a NACK that is lost, or whose answer is lost, is
 * repeated with backoff.
 */
#include <string.h>

#include "seqcast/rng.h"
#include "node_rooms.h"

/* Entries one NACK may cost the answering server: bounds the work one
 * datagram can ask for (the receiver asks again for the rest). */
#define NACK_BUDGET 1024
/* Ranges per NACK: fits one datagram (16 bytes each). */
#define NACK_RANGES 80

static void
gap_conf(const struct sc_node *n, struct sc_gap_conf *gc)
{
	const struct sc_config *c = n->conf;

	memset(gc, 0, sizeof(*gc));
	/* The random delay spreads the NACKs of servers that lost the same
	 * datagram, so that a multicast repair caused by one spares the
	 * rest. The coordinator answers the first asker by unicast and
	 * multicasts from the second on, so only a third asker can be
	 * spared: with two members (three servers) waiting spares nothing
	 * and only delays every repair: that is what nack_delay_ms = auto
	 * (the default) does. A wait set by hand is kept. */
	if (c->nack_delay_ms != SC_NACK_DELAY_AUTO)
		gc->delay_max_us = ms_to_us(c->nack_delay_ms);
	else
		gc->delay_max_us = c->nservers <= 3 ? 0 :
		    ms_to_us(SC_NACK_DELAY_AUTO_MS);
	/* Repeat no sooner than a retransmission can come back, and after
	 * the window in which the coordinator suppresses repeat
	 * multicasts; once answers are timed, after the measured repair
	 * time, but never inside that window. */
	gc->retry_us = ms_to_us(c->retx_window_ms) * 2;
	if (gc->retry_us < 3000)
		gc->retry_us = 3000;
	gc->retry_min_us = ms_to_us(c->retx_window_ms) + 250;
	gc->backoff_max_us = ms_to_us(c->nack_backoff_max_ms);
	if (gc->backoff_max_us < gc->retry_us)
		gc->backoff_max_us = gc->retry_us;
	gc->max_ranges = c->holdback_max + 1;
	gc->seed = sc_rng_next((uint64_t *)&n->rng);
}

int
node_repair_init(struct sc_node *n)
{
	struct sc_gap_conf gc;

	gap_conf(n, &gc);
	n->rp.retx_window_us = ms_to_us(n->conf->retx_window_ms);
	return sc_gap_init(&n->rp.gaps, &gc, 0);
}

void
node_repair_free(struct sc_node *n)
{
	sc_gap_free(&n->rp.gaps);
	if (n->rp.retx_on)
		sc_retx_free(&n->rp.retx);
	n->rp.retx_on = 0;
}

/* Start over from our log: ids up to op are here, up to known exist. */
void
node_repair_reset(struct sc_node *n, uint64_t known)
{
	struct sc_gap_conf gc = n->rp.gaps.conf;

	sc_gap_free(&n->rp.gaps);
	if (sc_gap_init(&n->rp.gaps, &gc, n->sm.log.op) == -1)
		return;
	if (known > n->sm.log.op)
		sc_gap_head(&n->rp.gaps, known, n->now);
}

void
node_repair_coordinate(struct sc_node *n)
{
	double burst = n->conf->catchup_rate / 10;

	if (burst < 64)
		burst = 64;
	node_repair_reset(n, 0);
	if (n->rp.retx_on)
		sc_retx_free(&n->rp.retx);
	n->rp.retx_on = sc_retx_init(&n->rp.retx, n->nservers,
	    n->sm.log.op) == 0;
	n->rp.next_heartbeat = n->now;
	n->rp.next_push = n->now + ms_to_us(n->conf->report_ms);
	n->rp.announced = n->sm.commit;
	memset(n->rp.lag_head, 0, sizeof(n->rp.lag_head));
	memset(n->rp.lag_commit, 0, sizeof(n->rp.lag_commit));
	memset(n->rp.applied_of, 0, sizeof(n->rp.applied_of));
	memset(n->rp.starving, 0, sizeof(n->rp.starving));
	/* A tenth of a second's worth of burst, at least 64 entries. */
	sc_bucket_init(&n->rp.catchup, n->conf->catchup_rate, burst, burst,
	    n->now);
}

/* May the log serve one more entry to a server catching up? A token
 * bucket at catchup_rate entries/s with a tenth of a second of burst,
 * so catch-up never starves the live stream. */
static int
catchup_allow(struct sc_node *n)
{
	return sc_bucket_take(&n->rp.catchup, n->now);
}

/* One entry back to asker (or the group). */
static void
resend(struct sc_node *n, uint32_t asker, const struct sc_item *it,
    int coordinator)
{
	const struct sockaddr_in *to = node_addr(n, asker);
	uint32_t view = sc_entries_view_at(&n->sm.log, it->id);

	if (coordinator && n->rp.retx_on) {
		switch (sc_retx_route(&n->rp.retx, it->id, asker, n->now,
		    n->rp.retx_window_us)) {
		case SC_ROUTE_MULTICAST:
			n->rp.retx_multicast++;
			to = NULL;
			break;
		case SC_ROUTE_SKIP:
			n->rp.retx_skipped++;
			return;
		default:
			n->rp.retx_unicast++;
			break;
		}
	} else {
		n->rp.retx_unicast++;
	}
	sc_outbox_add(&n->out, SC_RETX, to, view, it, 0);
}

static void
send_gone(struct sc_node *n, uint32_t asker, struct sc_item *gone,
    uint32_t ngone)
{
	struct sc_msg g;

	node_msg(n, &g, SC_GONE);
	g.count = ngone;
	g.items = gone;
	n->rp.gone_sent++;
	node_send(n, &g, node_addr(n, asker));
}

/* Answer a NACK: as the coordinator, from our log up to what is durable
 * here (what left memory at catchup_rate); as the server whose log a new
 * coordinator completes its own from, everything it asks. An entry we
 * cannot read back is answered GONE, never skipped in silence. */
void
node_repair_nack(struct sc_node *n, const struct sc_msg *m)
{
	int coord = n->vw.role == SC_ROLE_COORDINATOR;
	uint64_t head = coord ? n->sm.durable : n->sm.log.op;
	uint32_t asker = m->h.sender, budget = NACK_BUDGET, ngone = 0;
	struct sc_item gone[NACK_RANGES];

	n->rp.nacks_received++;
	if (coord && n->rp.retx_on)
		sc_retx_report(&n->rp.retx, asker, m->a);
	for (uint32_t i = 0; i < m->count && budget > 0; i++) {
		uint64_t id = m->items[i].first ? m->items[i].first : 1;
		uint64_t last = min_u64(m->items[i].last, head);

		for (; id <= last && budget > 0; id++, budget--) {
			struct sc_item it;

			if (coord && id < n->sm.log.low && !catchup_allow(n))
				break;
			if (sc_entries_get(&n->sm.log, id, &it) == -1) {
				node_warn(n, "cannot read entry %llu back: "
				    "answering GONE", (unsigned long long)id);
				if (ngone < NACK_RANGES) {
					memset(&gone[ngone], 0,
					    sizeof(gone[0]));
					gone[ngone].first = id;
					gone[ngone++].last = id;
				}
				continue;
			}
			if (id < n->sm.log.low)
				n->rp.served_from_log++;
			resend(n, asker, &it, coord);
		}
	}
	if (ngone > 0)
		send_gone(n, asker, gone, ngone);
}

/* The coordinator could not read entries back from its log. */
void
node_repair_gone(struct sc_node *n, const struct sc_msg *m)
{
	n->rp.gone_received++;
	for (uint32_t i = 0; i < m->count; i++) {
		const struct sc_item *r = &m->items[i];

		if (r->last < r->first || r->last <= n->sm.log.op)
			continue;
		n->rp.gone_ids += r->last - r->first + 1;
		node_warn(n, "entries %llu..%llu cannot be read back from the "
		    "coordinator's log: asking again later",
		    (unsigned long long)r->first, (unsigned long long)r->last);
	}
}

/* An entry was taken (held, or appended): no longer missing. */
void
node_repair_got(struct sc_node *n, uint64_t id)
{
	sc_gap_seen(&n->rp.gaps, id, n->now);
}

/* A member took what it could of entries (DATA, RETX) of its view. */
void
node_repair_seen(struct sc_node *n, const struct sc_msg *m)
{
	sc_gap_applied(&n->rp.gaps, n->sm.log.op);
	/* A retransmission carries the coordinator's head: it may reveal
	 * a lost tail as well as a heartbeat would. DATA comes in id
	 * order: what such a head announced below this DATA is lost, not
	 * late. */
	if (m->h.type == SC_RETX)
		sc_gap_hint(&n->rp.gaps, m->a, n->now);
	else if (m->count > 0)
		sc_gap_passed(&n->rp.gaps, m->items[0].id, n->now);
}

void
node_repair_head(struct sc_node *n, uint64_t head, int heartbeat)
{
	uint64_t was = n->rp.gaps.opened;

	if (head <= n->sm.log.op)
		return;
	sc_gap_head(&n->rp.gaps, head, n->now);
	if (heartbeat)
		n->rp.gaps_by_heartbeat += n->rp.gaps.opened - was;
	else
		n->rp.gaps_by_stamped += n->rp.gaps.opened - was;
}

static void
send_nack(struct sc_node *n, uint32_t to, const struct sc_gap_ask *ask,
    uint32_t k)
{
	struct sc_item items[NACK_RANGES];
	struct sc_msg m;

	node_msg(n, &m, SC_NACK);
	m.a = n->sm.log.applied;
	m.count = k;
	m.items = items;
	memset(items, 0, sizeof(items));
	for (uint32_t i = 0; i < k; i++) {
		items[i].first = ask[i].first;
		items[i].last = ask[i].last;
	}
	n->rp.nacks_sent++;
	node_send(n, &m, node_addr(n, to));
}

/* Ask server for [first, last] (a new coordinator's fetch). */
void
node_repair_ask(struct sc_node *n, uint32_t server, uint64_t first,
    uint64_t last)
{
	struct sc_gap_ask a = { first, last };

	send_nack(n, server, &a, 1);
}

/* Ask the coordinator for the missing ranges that are due. */
static void
ask_gaps(struct sc_node *n)
{
	struct sc_gap_ask ask[NACK_RANGES];
	uint32_t k;

	if (sc_gap_next_due(&n->rp.gaps) > n->now || !node_disk_ok(n))
		return;
	/* Ask only for what fits the hold-back window: the rest would be
	 * dropped on arrival. */
	k = sc_gap_due(&n->rp.gaps, n->now, ask, NACK_RANGES,
	    n->sm.hold.cap);
	if (SC_MUTATED(SC_MUT_DROP_NACK_RANGE) && k > 0)
		k--;
	if (k > 0)
		send_nack(n, node_coordinator_of(n, n->vw.view), ask, k);
}

/* A heartbeat (to NULL: the group), or a recovery reply: where this
 * server stands, and the last segments of its log. */
void
node_repair_heartbeat(struct sc_node *n, const struct sockaddr_in *to,
    int type, uint64_t nonce)
{
	struct sc_segment seg[NODE_SEGMENTS];
	struct sc_item items[NODE_SEGMENTS];
	struct sc_msg m;
	uint32_t k;

	/* The head must never run ahead of the DATA that carries it. */
	sc_outbox_flush(&n->out);
	node_msg(n, &m, type);
	m.a = n->sm.durable;
	m.b = n->sm.commit;
	m.c = type == SC_HEARTBEAT ? (n->rp.retx_on ? n->rp.retx.stable : 0) :
	    nonce;
	m.d = (uint64_t)n->vw.status | (uint64_t)(n->vw.fresh != 0) << 8 |
	    (uint64_t)(n->vw.cold != 0) << 9;
	m.e = n->vw.normal_view;
	k = sc_entries_segments(&n->sm.log, seg, NODE_SEGMENTS);
	memset(items, 0, sizeof(items));
	for (uint32_t i = 0; i < k; i++) {
		items[i].first = seg[i].first;
		items[i].last = seg[i].view;
	}
	m.count = k;
	m.items = items;
	if (type == SC_HEARTBEAT)
		n->rp.heartbeats_sent++;
	node_send(n, &m, to);
}

/* A member tells the coordinator what it holds durably in this view
 * (so it counts towards a majority) and what it applied (what everyone
 * applied leaves the coordinator's memory first). */
void
node_repair_report(struct sc_node *n, int force)
{
	struct sc_msg m;

	if (n->vw.status != SC_NODE_NORMAL ||
	    n->vw.role != SC_ROLE_MEMBER ||
	    (!force && n->sm.durable == n->sm.reported &&
	    n->now < n->rp.next_report))
		return;
	if (!node_disk_ok(n)) {
		/* Nothing counts from us until the disk (and the state of
		 * our view) takes writes again. */
		n->rp.next_report = n->now + ms_to_us(n->conf->report_ms);
		return;
	}
	node_msg(n, &m, SC_REPORT);
	m.a = min_u64(n->sm.durable, n->vw.claim);
	m.b = n->sm.log.applied;
	/* c: no heartbeat from the coordinator for a heartbeat interval
	 * and more (it may be what we lose). */
	m.c = n->now - n->vw.last_heartbeat >
	    2 * ms_to_us(n->conf->heartbeat_ms);
	n->sm.reported = n->sm.durable;
	n->rp.next_report = n->now + ms_to_us(n->conf->report_ms);
	if (node_coordinator_of(n, n->vw.view) == n->id)
		return;             /* its coordinator was us: gone */
	n->rp.reports_sent++;
	node_send(n, &m, node_addr(n, node_coordinator_of(n, n->vw.view)));
}

/* A member's REPORT: what it applied (its latest word), and whether it
 * misses our heartbeats. */
void
node_repair_reported(struct sc_node *n, uint32_t server, uint64_t applied,
    int starving)
{
	if (server >= n->nservers)
		return;
	n->rp.applied_of[server] = applied;
	n->rp.starving[server] = starving ? n->now : 0;
	if (n->rp.retx_on)
		sc_retx_report(&n->rp.retx, server, applied);
}

/* One entry back to server s unasked: it carries our head and commit
 * point too (the DATA or heartbeats that would have told it are lost). */
static void
push(struct sc_node *n, uint32_t s, uint64_t id)
{
	struct sc_item it;

	if (id == 0 || sc_entries_get(&n->sm.log, id, &it) == -1)
		return;
	n->rp.pushed++;
	sc_outbox_add(&n->out, SC_RETX, node_addr(n, s),
	    sc_entries_view_at(&n->sm.log, id), &it, 0);
}

/* A member still behind what we already held and knew committed at the
 * last look (a report interval ago) may be losing exactly what would
 * tell it (heartbeats, the tail of the DATA): the coordinator sends it
 * what it lacks, unasked. */
static void
push_laggards(struct sc_node *n)
{
	uint64_t head = n->sm.durable, commit = n->sm.commit;

	if (n->now < n->rp.next_push)
		return;
	n->rp.next_push = n->now + ms_to_us(n->conf->report_ms);
	for (uint32_t s = 0; s < n->nservers; s++) {
		uint64_t have = n->sm.match[s];

		/* Only for a member that says it misses our heartbeats: the
		 * others ask for what they lack (NACK). */
		if (s != n->id && n->rp.starving[s] != 0 &&
		    !SC_MUTATED(SC_MUT_TAIL_BY_HEARTBEAT) &&
		    (have < n->rp.lag_head[s] ||
		    n->rp.applied_of[s] < n->rp.lag_commit[s])) {
			uint64_t from = have < head ? have + 1 : head;

			for (uint64_t id = from; id <= head &&
			    id < from + 64; id++)
				push(n, s, id);
		}
		n->rp.lag_head[s] = head;
		n->rp.lag_commit[s] = commit;
	}
}

/* With more than three servers a member cannot tell by itself that an
 * entry is committed: the coordinator says so as soon as it knows (a
 * heartbeat at the end of the pass), not at the next periodic one. */
void
node_repair_announce(struct sc_node *n)
{
	if (n->vw.status != SC_NODE_NORMAL ||
	    n->vw.role != SC_ROLE_COORDINATOR || n->majority <= 2 ||
	    n->sm.commit <= n->rp.announced || !node_disk_ok(n))
		return;
	n->rp.announced = n->sm.commit;
	node_repair_heartbeat(n, NULL, SC_HEARTBEAT, 0);
	/* Members that said they get no heartbeats: the news unicast. */
	for (uint32_t s = 0; s < n->nservers; s++)
		if (s != n->id && n->rp.starving[s] != 0 &&
		    !SC_MUTATED(SC_MUT_TAIL_BY_HEARTBEAT) &&
		    n->now - n->rp.starving[s] < 1000000)
			push(n, s, n->sm.commit);
}

void
node_repair_tick(struct sc_node *n)
{
	if (n->vw.status != SC_NODE_NORMAL)
		return;
	if (n->vw.role == SC_ROLE_COORDINATOR) {
		if (n->rp.retx_on)
			sc_retx_report(&n->rp.retx, n->id, n->sm.log.applied);
		/* A coordinator whose disk fails falls silent: the members
		 * elect one whose disk works. */
		if (n->now >= n->rp.next_heartbeat && node_disk_ok(n)) {
			node_repair_heartbeat(n, NULL, SC_HEARTBEAT, 0);
			n->rp.next_heartbeat = n->now +
			    ms_to_us(n->conf->heartbeat_ms);
		}
		if (node_disk_ok(n))
			push_laggards(n);
		return;
	}
	if (n->now >= n->rp.next_report)
		node_repair_report(n, 1);
	ask_gaps(n);
}

int64_t
node_repair_deadline(const struct sc_node *n)
{
	if (n->vw.status != SC_NODE_NORMAL)
		return INT64_MAX;
	if (n->vw.role == SC_ROLE_COORDINATOR)
		return node_disk_ok(n) ? min_i64(n->rp.next_heartbeat,
		    n->rp.next_push) : INT64_MAX;
	if (!node_disk_ok(n))
		return n->rp.next_report;   /* no NACK before the disk works */
	return min_i64(n->rp.next_report, sc_gap_next_due(&n->rp.gaps));
}
