/*
 * node_join.c - how a server takes its place in a view (part of the view
 * room, with node_view.c; both write struct node_view): starting,
 * recovering after a restart, adopting a coordinator's view with VR's
 * state transfer, and the cold start of a whole cluster.
 *
 * Recovery: every server starts RECOVERING. It asks the others
 * (RECOVERY) and adopts the view of the latest coordinator once enough
 * servers answered that no majority can be in a newer view unheard; it
 * never takes part in a view change on the strength of a memory it may
 * have lost. If every server that answered is recovering too, the whole
 * cluster (re)started: they hold a view change among themselves (view 0
 * with the configured coordinator if nobody holds anything).
 */
#include <stdio.h>
#include <string.h>

#include "seqcast/rng.h"
#include "node_rooms.h"

/* A server that cannot take part yet says what it waits for: answers
 * from n - majority + 1 others (a server without a trusted data_dir
 * cannot count its own word), or the coordinator's. */
static void
say_waiting(struct sc_node *n)
{
	uint32_t need = node_others_needed(n), got = 0;
	char silent[SC_SERVERS_MAX * 4 + 16] = "";
	size_t used = 0;

	for (uint32_t s = 0; s < n->nservers; s++) {
		if (n->vw.replied >> s & 1)
			got++;
		else if (s != n->id && used + 5 < sizeof(silent))
			used += (size_t)snprintf(silent + used,
			    sizeof(silent) - used, "%s%u", used ? " " : "", s);
	}
	node_say(n, SC_LOG_WARN, "still recovering: %u of the %u other "
	    "servers' answers it needs%s%s%s; a server without a data_dir "
	    "kept with fsync = each takes part only then (one whose cluster "
	    "file differs is refused: config_refused in stats)", got, need,
	    got >= need ? ", waiting for the coordinator's" : "",
	    used > 0 ? "; no answer from server(s) " : "", silent);
}

void
node_view_send_recovery(struct sc_node *n)
{
	struct sc_msg m;

	if (n->vw.recovery_say == 0) {
		n->vw.recovery_say = n->now + NODE_RECOVERY_SAY_US;
	} else if (n->now >= n->vw.recovery_say) {
		say_waiting(n);
		n->vw.recovery_say = n->now + NODE_RECOVERY_SAY_US;
	}
	node_msg(n, &m, SC_RECOVERY);
	m.a = n->vw.nonce;
	/* To each server's own address, not the group: a server whose
	 * group differs from ours is then still heard, and refused by
	 * name (its digest differs), instead of waiting unseen. */
	for (uint32_t s = 0; s < n->nservers; s++)
		if (s != n->id)
			node_send(n, &m, node_addr(n, s));
	n->vw.next_recovery = n->now + node_view_resend_us(n) * 2;
}

/* Ask server to for its view (a RECOVERY marked as a probe, b = 1): we
 * know a newer view exists, or our view change is slow; the answer from
 * that view's coordinator starts it for us (heartbeats may be lost). At
 * most one every node_view_resend_us. */
void
node_view_probe(struct sc_node *n, uint32_t to)
{
	struct sc_msg m;

	if (n->now < n->vw.next_probe || to == n->id)
		return;
	n->vw.next_probe = n->now + node_view_resend_us(n);
	node_msg(n, &m, SC_RECOVERY);
	m.a = n->vw.nonce;
	m.b = 1;
	node_send(n, &m, node_addr(n, to));
}

void
node_view_start(struct sc_node *n)
{
	if (SC_MUTATED(SC_MUT_REUSE_ID)) {
		/* The old rule: trust one's own memory and go on. */
		n->vw.status = SC_NODE_NORMAL;
		node_view_set(n, n->vw.view);
		if (node_coordinator_of(n, n->vw.view) == n->id) {
			n->vw.role = SC_ROLE_COORDINATOR;
			node_request_coordinate(n);
			node_repair_coordinate(n);
			n->vw.quorum = 1;
		}
		n->vw.heard = n->now;
		return;
	}
	n->vw.heard = n->now;
	if (n->vw.trusted && n->nservers > 1) {
		/* Back where it was: a member of its view (never its
		 * coordinator: the others fail over), or in its view
		 * change. */
		if (n->vw.normal_view == n->vw.view) {
			n->vw.status = SC_NODE_NORMAL;
			n->vw.role = SC_ROLE_MEMBER;
			node_view_set(n, n->vw.view);
			node_repair_reset(n, n->sm.log.op);
			/* It coordinated that view: that coordinator is gone. */
			if (node_coordinator_of(n, n->vw.view) == n->id)
				n->vw.heard = n->now -
				    ms_to_us(n->conf->failover_ms);
			node_say(n, SC_LOG_INFO, "view %u: back as a member, "
			    "holding %llu entries", n->vw.view,
			    (unsigned long long)n->sm.log.op);
		} else {
			node_view_enter(n, n->vw.view);
		}
		return;
	}
	n->vw.status = SC_NODE_RECOVERING;
	n->vw.lost = n->nservers > 1;   /* alone: nothing to lose to others */
	n->vw.nonce = sc_rng_next(&n->rng) | 1;
	n->vw.replied = 0;
	n->vw.recovery_say = 0;
	if (n->nservers == 1) {
		/* Alone: nobody to ask, nothing to lose. */
		node_view_enter(n, n->vw.fresh ? 0 : n->vw.view + 1);
		return;
	}
	node_view_send_recovery(n);
}

void
node_view_start_as(struct sc_node *n, uint32_t view)
{
	n->vw.heard = n->now;
	n->vw.status = SC_NODE_NORMAL;
	n->vw.normal_view = view;
	n->vw.claim = UINT64_MAX;
	n->vw.fresh = 0;
	n->vw.lost = 0;
	node_view_set(n, view);
	if (node_coordinator_of(n, view) == n->id) {
		n->vw.role = SC_ROLE_COORDINATOR;
		n->vw.quorum = 1;
		for (uint32_t s = 0; s < n->nservers; s++)
			n->vw.heard_from[s] = n->now;
		node_repair_coordinate(n);
		node_request_coordinate(n);
	} else {
		n->vw.role = SC_ROLE_MEMBER;
		node_repair_reset(n, n->sm.log.op);
	}
}

/* Replies that rule out a majority in a view newer than view unheard:
 * n - majority + 1 of the others answered, none newer. */
static int
recovered_for(const struct sc_node *n, uint32_t view)
{
	uint32_t need = node_others_needed(n), got = 0;

	for (uint32_t s = 0; s < n->nservers; s++) {
		if (!(n->vw.replied >> s & 1))
			continue;
		if (n->vw.reply[s].view > view)
			return 0;
		got++;
	}
	return got >= need;
}

/* Cut our log where it stops matching the view segments of m (a
 * coordinator's heartbeat or recovery reply). */
static void
cut_to_match(struct sc_node *n, const struct sc_msg *m)
{
	struct sc_segment seg[NODE_SEGMENTS];
	uint32_t nseg = m->count < NODE_SEGMENTS ? m->count : NODE_SEGMENTS;
	uint64_t keep;

	for (uint32_t i = 0; i < nseg; i++) {
		seg[i].first = m->items[m->count - nseg + i].first;
		seg[i].view = (uint32_t)m->items[m->count - nseg + i].last;
	}
	keep = sc_entries_match(&n->sm.log, seg, nseg, m->a,
	    n->sm.log.applied);
	if (keep < n->sm.log.applied)
		keep = n->sm.log.applied;   /* never: applied is committed */
	if (keep < n->sm.log.op) {
		node_say(n, SC_LOG_WARN, "view %u: cutting %llu uncommitted "
		    "entries after %llu that the new coordinator's log does "
		    "not hold", m->h.view,
		    (unsigned long long)(n->sm.log.op - keep),
		    (unsigned long long)keep);
		node_stream_cut(n, keep);
	}
}

/* Adopt view m->h.view from its coordinator's heartbeat (or recovery
 * reply): cut our log where it stops matching, catch up the rest. */
static void
adopt(struct sc_node *n, const struct sc_msg *m)
{
	node_view_step_down(n);
	cut_to_match(n, m);
	if (n->vw.suspected != 0)
		n->vw.last_failover_us = n->now - n->vw.suspected;
	n->vw.suspected = 0;
	n->vw.status = SC_NODE_NORMAL;
	n->vw.role = SC_ROLE_MEMBER;
	n->vw.cold = 0;
	n->vw.completing = 0;
	node_view_set(n, m->h.view);
	/* In this view's log only once we hold what its coordinator began
	 * it with (VR's state transfer): until then a DO_VIEW vouches for
	 * the old view's log, and only up to where the two agree. */
	n->vw.catching = n->sm.log.op < m->a;
	n->vw.start_head = m->a;
	if (n->vw.catching) {
		n->vw.claim = min_u64(n->vw.claim, n->sm.log.op);
	} else {
		n->vw.normal_view = m->h.view;
		n->vw.claim = UINT64_MAX;
	}
	n->vw.fresh = 0;
	n->vw.lost = 0;
	n->vw.changes++;
	n->vw.heard = n->now;
	/* It came with a heartbeat (or stands for one): our REPORTs must not
	 * say we starve for them (the coordinator would push to us). */
	n->vw.last_heartbeat = n->now;
	n->vw.votes = 0;
	node_stream_new_view(n);
	n->sm.coord_head = m->a;
	if (m->b > n->sm.commit)
		n->sm.commit = m->b;
	node_view_save(n);
	node_repair_reset(n, m->a);
	node_request_new_view(n);
	node_repair_report(n, 1);
	node_say(n, SC_LOG_INFO, "view %u: member, server %u coordinates; "
	    "holding %llu entries, its head %llu", m->h.view, m->h.sender,
	    (unsigned long long)n->sm.log.op, (unsigned long long)m->a);
}

/* A member catching up: once it holds durably what the coordinator
 * began the view with, it is in the view's log (and says so on disk
 * before it vouches for it). */
void
node_view_caught_up(struct sc_node *n)
{
	if (!n->vw.catching || n->sm.durable < n->vw.start_head)
		return;
	n->vw.catching = 0;
	n->vw.normal_view = n->vw.view;
	n->vw.claim = UINT64_MAX;
	node_view_save(n);
}

void
node_view_heartbeat(struct sc_node *n, const struct sc_msg *m)
{
	if (n->vw.status == SC_NODE_NORMAL && m->h.view == n->vw.view) {
		if (n->vw.role == SC_ROLE_MEMBER) {
			n->vw.last_heartbeat = n->now;
			if (m->a > n->sm.coord_head)
				n->sm.coord_head = m->a;
			if (m->b > n->sm.commit)
				n->sm.commit = m->b;
			node_repair_head(n, m->a, 1);
		}
		return;
	}
	if (n->vw.status == SC_NODE_RECOVERING &&
	    !recovered_for(n, m->h.view))
		return;
	adopt(n, m);
}

/* Every server answers a RECOVERY with where it stands; a coordinator
 * adds its log's segments (the recovering server adopts from that). A
 * member whose coordinator asks has seen it restart: it votes now. */
void
node_view_recovery(struct sc_node *n, const struct sc_msg *m)
{
	int type = SC_RECOVERY_REPLY;

	node_repair_heartbeat(n, node_addr(n, m->h.sender), type, m->a);
	if (m->b == 0 && n->vw.status == SC_NODE_NORMAL &&
	    n->vw.role == SC_ROLE_MEMBER &&
	    m->h.sender == node_coordinator_of(n, n->vw.view)) {
		n->vw.heard = n->now - ms_to_us(n->conf->failover_ms);
		node_view_tick(n);
	}
}

/* Everyone who answered is recovering too (or already in the view
 * change such a cold start began): the whole cluster started. Hold a
 * view change among us: view 0 if nobody ever was in a view and nobody
 * holds anything, else one past every view anyone saw. */
static void
cold_start(struct sc_node *n)
{
	uint32_t view = n->vw.view > n->vw.saved_view ? n->vw.view :
	    n->vw.saved_view, joining = 0;
	int fresh = n->vw.fresh, join = 0;

	for (uint32_t s = 0; s < n->nservers; s++) {
		const struct node_reply *r = &n->vw.reply[s];

		if (!(n->vw.replied >> s & 1))
			continue;
		if (r->status == SC_NODE_VIEW_CHANGE) {
			if (!join || r->view > joining)
				joining = r->view;
			join = 1;
		}
		if (r->view > view)
			view = r->view;
		fresh = fresh && r->fresh;
	}
	if (join)
		view = joining;
	else if (!fresh || view > 0)
		view++;
	node_say(n, SC_LOG_INFO, "every server that answered is starting "
	    "too: %s view change to view %u", join ? "joining the" :
	    "holding a", view);
	node_view_vote_for(n, view, n->id);
	node_view_enter(n, view);
	n->vw.cold = 1;
}

/* The server that answered is in a view, or changing one (not in a
 * cold start): a cluster is running. */
static int
reply_busy(const struct node_reply *r)
{
	return r->status == SC_NODE_NORMAL ||
	    (r->status == SC_NODE_VIEW_CHANGE && !r->cold);
}

static void
check_recovery(struct sc_node *n)
{
	uint32_t need = node_others_needed(n), got = 0, busy = 0;

	for (uint32_t s = 0; s < n->nservers; s++) {
		if (!(n->vw.replied >> s & 1))
			continue;
		got++;
		busy += (uint32_t)reply_busy(&n->vw.reply[s]);
	}
	if (got >= need && busy == 0)
		cold_start(n);
	/* Otherwise the coordinator's reply, or its next heartbeat, lets
	 * us adopt its view (node_view_heartbeat). */
}

void
node_view_recovery_reply(struct sc_node *n, const struct sc_msg *m)
{
	struct node_reply *r = &n->vw.reply[m->h.sender];

	if (n->vw.status != SC_NODE_RECOVERING) {
		/* The answer to a probe: a coordinator of a newer view (or
		 * of ours, if we are not normal in it) starts it for us. */
		if ((m->d & 0xff) == SC_NODE_NORMAL &&
		    m->h.sender == node_coordinator_of(n, m->h.view) &&
		    (m->h.view > n->vw.view || (m->h.view == n->vw.view &&
		    n->vw.status != SC_NODE_NORMAL)))
			adopt(n, m);
		return;
	}
	if (m->c != n->vw.nonce)
		return;
	r->view = m->h.view;
	r->status = (uint8_t)(m->d & 0xff);
	r->fresh = (uint8_t)(m->d >> 8 & 1);
	r->cold = (uint8_t)(m->d >> 9 & 1);
	r->normal_view = (uint32_t)m->e;
	r->op = m->a;
	r->commit = m->b;
	n->vw.replied |= 1ull << m->h.sender;
	if (r->status == SC_NODE_NORMAL &&
	    m->h.sender == node_coordinator_of(n, m->h.view) &&
	    recovered_for(n, m->h.view)) {
		adopt(n, m);
		return;
	}
	check_recovery(n);
}

/* A vote (VIEW_CHANGE) while we recover. We may have lost our log and
 * we coordinated the latest view a running server reports (one in a
 * view or changing it: a cold start is check_recovery's): the others
 * may not elect without us (two servers: the survivor alone is no
 * majority). We vote (we promise nothing we could break: we hold
 * nothing we vouch for) and join the view change, where our DO_VIEW
 * says we may have lost our log (node_view.c, vouched()). */
void
node_view_recovering_vote(struct sc_node *n, const struct sc_msg *m)
{
	uint32_t vmax = 0;
	int busy = 0;

	for (uint32_t s = 0; s < n->nservers; s++) {
		const struct node_reply *r = &n->vw.reply[s];

		if (!(n->vw.replied >> s & 1))
			continue;
		if (r->view > vmax)
			vmax = r->view;
		busy |= reply_busy(r);
	}
	if (!n->vw.lost || !busy || m->h.view <= vmax ||
	    node_coordinator_of(n, vmax) != n->id)
		return;
	node_view_vote_for(n, m->h.view, m->h.sender);
	node_view_vote_for(n, m->h.view, n->id);
	if (!node_view_voted(n))
		return;
	node_say(n, SC_LOG_INFO, "view %u: we coordinated it and may have "
	    "lost our log; joining the change to view %u, vouching for "
	    "nothing", vmax, m->h.view);
	node_view_enter(n, m->h.view);
}
