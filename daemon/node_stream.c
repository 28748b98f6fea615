/*
 * node_stream.c - the stream of entries through a server: received in
 * any order, held back until the gap before them is filled, appended in
 * id order (held), made durable, committed once a majority holds them,
 * applied (shown, counted, acknowledged) in id order.
 *
 *   DATA/RETX --> hold-back --> log (op) --> durable --> commit --> applied
 *
 * Commit: the coordinator counts, for every server, the highest id it
 * holds durably in this view (its own, and the members' REPORTs); an id
 * a majority holds is committed. A member learns the commit point from
 * the coordinator's DATA and heartbeats; with three servers (or two) it
 * need not wait for that: what it holds durably and the coordinator said
 * it holds durably is already held by a majority.
 */
#include <stdlib.h>
#include <string.h>

#include "node_rooms.h"

int
node_stream_init(struct sc_node *n)
{
	if (sc_entries_init(&n->sm.log, NULL, NULL) == -1 ||
	    sc_hold_init(&n->sm.hold, n->conf->holdback_max) == -1)
		return -1;
	return 0;
}

void
node_stream_free(struct sc_node *n)
{
	sc_entries_free(&n->sm.log);
	if (n->sm.hold.ring != NULL)
		sc_hold_free(&n->sm.hold);
}

/* What this server holds durably (and is sure of, in this view). */
uint64_t
node_stream_head(const struct sc_node *n)
{
	return n->sm.durable;
}

static int
append(struct sc_node *n, const struct sc_item *it, uint32_t view)
{
	struct sc_item relabel;

	/* A failing disk takes nothing, in memory either. */
	if (!node_disk_ok(n))
		return -1;
	/* Mutation old-view: an older view's entry taken as one of ours. */
	if (SC_MUTATED(SC_MUT_OLD_VIEW) &&
	    view < sc_entries_view_at(&n->sm.log, n->sm.log.op)) {
		view = sc_entries_view_at(&n->sm.log, n->sm.log.op);
		relabel = *it;
		relabel.view = view;
		it = &relabel;
	}
	if (sc_entries_append(&n->sm.log, it->id, view, it->client, it->req,
	    it->value, it->len) == -1) {
		n->sm.no_memory++;
		return -1;
	}
	if (node_disk_append(n, it) == -1)
		return -1;
	return 0;
}

/* Append held entries that have become next in line. */
static void
drain(struct sc_node *n)
{
	const struct sc_held *h;

	while ((h = sc_hold_get(&n->sm.hold, n->sm.log.op + 1)) != NULL) {
		struct sc_item it;

		memset(&it, 0, sizeof(it));
		it.id = h->id;
		it.client = h->client;
		it.req = h->req;
		it.value = h->value;
		it.len = h->len;
		it.view = h->view;
		if (append(n, &it, it.view) == -1)
			break;
		sc_hold_remove(&n->sm.hold, it.id);
	}
}

/* Mutation apply-early: what arrives past a gap is written into it. */
static void
fill_gap_wrongly(struct sc_node *n, const struct sc_item *it)
{
	struct sc_item fake = *it;

	while (n->sm.log.op + 1 < it->id) {
		fake.id = n->sm.log.op + 1;
		if (append(n, &fake, it->view) == -1)
			return;
	}
}

static void
offer(struct sc_node *n, const struct sc_item *it)
{
	uint64_t op = n->sm.log.op;

	if (it->id <= op) {
		n->sm.duplicates++;
		return;
	}
	if (SC_MUTATED(SC_MUT_APPLY_EARLY) && it->id > op + 1)
		fill_gap_wrongly(n, it);
	if (it->id == n->sm.log.op + 1) {
		if (append(n, it, it->view) == 0) {
			node_repair_got(n, it->id);
			sc_hold_remove(&n->sm.hold, it->id);
			drain(n);
			node_request_held(n, it);
		}
		return;
	}
	switch (sc_hold_put(&n->sm.hold, op, it)) {
	case SC_HOLD_NEW:
		node_repair_got(n, it->id);
		node_request_held(n, it);
		break;
	case SC_HOLD_DUP:
		n->sm.duplicates++;
		break;
	case SC_HOLD_NOMEM:
		n->sm.no_memory++;
		break;
	default:
		n->sm.far++;
		break;
	}
}

/* Entries from the coordinator (DATA, RETX), or from the server whose
 * log a new coordinator completes its own from. */
void
node_stream_entries(struct sc_node *n, const struct sc_msg *m)
{
	int from_coord = m->h.sender == node_coordinator_of(n, m->h.view);

	if (!node_disk_ok(n) || n->vw.role == SC_ROLE_COORDINATOR)
		return;
	for (uint32_t i = 0; i < m->count; i++)
		offer(n, &m->items[i]);
	/* A new coordinator completing its log: the end of the pass
	 * starts the view once it holds it durably (node_stream_advance). */
	if (n->vw.completing && n->vw.status == SC_NODE_VIEW_CHANGE)
		return;
	if (!from_coord)
		return;
	/* The coordinator holds what it sends durably (a: its head). */
	if (m->a > n->sm.coord_head)
		n->sm.coord_head = m->a;
	if (m->b > n->sm.commit)
		n->sm.commit = m->b;
	node_repair_seen(n, m);
}

/* The coordinator stamps a new entry: into its own log first (durable
 * before its DATA leaves), then out to the group. */
int
node_stream_stamp(struct sc_node *n, const struct sc_item *it)
{
	struct sc_item e = *it;

	e.id = n->sm.log.op + 1;
	e.view = n->vw.view;
	if (append(n, &e, e.view) == -1)
		return -1;
	if (n->rp.retx_on)
		(void)sc_retx_put(&n->rp.retx, e.id);
	sc_outbox_add(&n->out, SC_DATA, NULL, e.view, &e, e.id);
	return 0;
}

/* Writes reached the disk up to id durable. */
void
node_stream_durable(struct sc_node *n, uint64_t durable)
{
	if (durable > n->sm.log.op)
		durable = n->sm.log.op;
	if (durable <= n->sm.durable)
		return;
	n->sm.durable = durable;
	sc_outbox_durable(&n->out, durable);
}

/* A member's REPORT: it holds up to op durably, in our view. The latest
 * report counts, not the highest: a member that lost its copy (a
 * restart without its log) counts for what it holds now. A report that
 * arrives late only makes the count lower for a moment: safe. */
void
node_stream_match(struct sc_node *n, uint32_t server, uint64_t op)
{
	if (n->vw.role != SC_ROLE_COORDINATOR || server >= n->nservers)
		return;
	n->sm.match[server] = min_u64(op, n->sm.log.op);
}

static int
cmp_desc(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? 1 : x > y ? -1 : 0;
}

/* The commit point this server can vouch for now. */
static uint64_t
commit_now(struct sc_node *n)
{
	uint64_t c = n->sm.commit;

	if (n->vw.status != SC_NODE_NORMAL)
		return c;
	if (n->vw.role == SC_ROLE_COORDINATOR) {
		uint64_t v[SC_SERVERS_MAX];

		if (SC_MUTATED(SC_MUT_ACK_NO_MAJORITY))
			return n->sm.durable;
		n->sm.match[n->id] = n->sm.durable;
		memcpy(v, n->sm.match, n->nservers * sizeof(v[0]));
		qsort(v, n->nservers, sizeof(v[0]), cmp_desc);
		return v[n->majority - 1] > c ? v[n->majority - 1] : c;
	}
	/* Two of a majority of two: the coordinator and us (as far as we
	 * vouch for our log: catching up, only up to the claim). */
	if (n->majority == 2) {
		uint64_t both = min_u64(min_u64(n->sm.durable,
		    n->sm.coord_head), n->vw.claim);

		if (both > c)
			c = both;
	}
	return c;
}

/* End of a pass: apply what is committed and held durably here. */
void
node_stream_advance(struct sc_node *n)
{
	uint64_t from = n->sm.log.applied, upto;

	node_view_caught_up(n);
	node_view_fetched(n);       /* a new coordinator's log now durable */
	n->sm.commit = commit_now(n);
	upto = min_u64(n->sm.commit, n->sm.durable);
	if (upto <= from)
		return;
	sc_entries_apply(&n->sm.log, upto);
	for (uint64_t id = from + 1; id <= n->sm.log.applied; id++) {
		struct sc_item it;

		if (sc_entries_get(&n->sm.log, id, &it) == 0)
			node_request_applied(n, &it);
	}
	node_stream_evict(n);
}

/*
 * With a log file, values leave memory once they are applied and durable
 * (read back from the file when asked for): a member keeps the last
 * NODE_CACHE_BYTES; the coordinator also keeps, up to store_bytes, what
 * some server may still ask it for (above the stable point: not applied
 * everywhere yet).
 */
void
node_stream_evict(struct sc_node *n)
{
	uint64_t upto = min_u64(n->sm.log.applied, n->sm.durable);

	if (!n->dk.on)
		return;
	if (n->vw.role == SC_ROLE_COORDINATOR && n->rp.retx_on) {
		sc_entries_evict(&n->sm.log, min_u64(upto,
		    n->rp.retx.stable), NODE_CACHE_BYTES);
		sc_entries_evict(&n->sm.log, upto, n->conf->store_bytes);
	} else {
		sc_entries_evict(&n->sm.log, upto, NODE_CACHE_BYTES);
	}
}

/* Cut the log after keep (a view change, a failed write). */
void
node_stream_cut(struct sc_node *n, uint64_t keep)
{
	uint64_t op = n->sm.log.op;

	if (keep >= op)
		return;
	for (uint64_t id = keep + 1; id <= op; id++) {
		struct sc_item it;

		if (sc_entries_get(&n->sm.log, id, &it) == 0)
			node_request_cut(n, &it);
	}
	if (sc_entries_truncate(&n->sm.log, keep) == -1)
		return;
	n->vw.truncated += op - keep;
	node_disk_cut(n, keep);
	/* What was cut is missing again (if it still exists). */
	node_repair_reset(n, op > sc_gap_known(&n->rp.gaps) ? op :
	    sc_gap_known(&n->rp.gaps));
	if (n->rp.retx_on)
		sc_retx_truncate(&n->rp.retx, keep);
	if (n->sm.durable > keep)
		n->sm.durable = keep;
	if (n->sm.coord_head > keep && n->vw.role == SC_ROLE_COORDINATOR)
		n->sm.coord_head = keep;
	if (n->sm.reported > keep)
		n->sm.reported = keep;
	sc_outbox_discard(&n->out, keep);
}

/* A new view (entered or started): what an older view sent is void. */
void
node_stream_new_view(struct sc_node *n)
{
	sc_hold_clear(&n->sm.hold);
	sc_outbox_drop(&n->out, SC_DATA);
	n->sm.coord_head = 0;
	n->sm.reported = 0;
	memset(n->sm.match, 0, sizeof(n->sm.match));
}
