/*
 * node_view.c - views, as in Viewstamped Replication Revisited (Liskov
 * and Cowling, 2012): who coordinates, when to change, how a new view
 * starts (node_join.c: how a server takes its place in one).
 *
 * A view change:
 *   member B, C   no word from coordinator A for failover_ms
 *   B, C          --VIEW_CHANGE(v+1)--> group    (a vote; repeated)
 *   B, C          a majority voted: enter v+1, --DO_VIEW(v+1: last
 *                 normal view, op, commit)--> coordinator of v+1 (say B)
 *   B             has DO_VIEWs from a majority (itself included): the
 *                 best log is the one of the latest normal view, then
 *                 the longest; B fetches what it lacks of it (NACK to
 *                 that server, RETX back), cutting what it held beyond
 *                 its commit point if its last view was older
 *   B             --HEARTBEAT(v+1: head, commit, view segments)--> group
 *   C, A later    cut their logs where they stop matching B's (by the
 *                 segments: same view at an id = same entries up to it),
 *                 fetch the rest by NACK, report
 * Every entry a majority held in the old view is in the majority's best
 * log, so nothing committed (nothing acknowledged) is lost; a server
 * that entered v+1 never accepts entries of an older view again.
 */
#include <string.h>

#include "seqcast/rng.h"
#include "node_rooms.h"

static int
popcount(uint64_t x)
{
	return __builtin_popcountll(x);
}

int64_t
node_view_resend_us(const struct sc_node *n)
{
	int64_t t = ms_to_us(n->conf->failover_ms) / 8;

	return t < 2000 ? 2000 : t;
}

void
node_view_init(struct sc_node *n)
{
	n->vw.nonce = sc_rng_next(&n->rng) | 1;
	n->vw.claim = UINT64_MAX;
	n->vw.status = SC_NODE_RECOVERING;
	n->vw.role = SC_ROLE_MEMBER;
	n->vw.fresh = 1;
}

/* Save view, last normal view and commit point (with a data_dir). */
void
node_view_save(struct sc_node *n)
{
	struct sc_state st;

	st.view = n->vw.view;
	st.normal_view = n->vw.normal_view;
	st.commit = n->sm.log.applied;
	st.claim = n->vw.claim;
	if (node_disk_save(n, &st) == 0)
		n->vw.saved_view = n->vw.view;
}

void
node_view_set(struct sc_node *n, uint32_t view)
{
	n->vw.view = view;
	n->hdr.view = view;
}

/* Leave the coordinator's role (a newer view exists, or we lost it). */
void
node_view_step_down(struct sc_node *n)
{
	if (n->vw.role != SC_ROLE_COORDINATOR)
		return;
	n->vw.role = SC_ROLE_MEMBER;
	node_request_step_down(n);
	n->rp.retx_on = 0;
	sc_retx_free(&n->rp.retx);
}

static void
send_vote(struct sc_node *n, uint32_t view)
{
	struct sc_msg m;

	node_msg(n, &m, SC_VIEW_CHANGE);
	m.h.view = view;
	/* d: we are in that view change already (a majority asked). */
	m.d = n->vw.status == SC_NODE_VIEW_CHANGE && view == n->vw.view;
	node_send(n, &m, NULL);
}

/* Ask for a view again, every failover_ms / 4 while it is wanted. */
static void
repeat_vote(struct sc_node *n, uint32_t view)
{
	if (n->now < n->vw.next_vote)
		return;
	send_vote(n, view);
	n->vw.next_vote = n->now + ms_to_us(n->conf->failover_ms) / 4;
}

static void
send_dvc(struct sc_node *n)
{
	uint32_t to = node_coordinator_of(n, n->vw.view);
	struct sc_msg m;

	if (to == n->id || !node_disk_ok(n))
		return;
	node_msg(n, &m, SC_DO_VIEW);
	m.a = n->vw.normal_view;
	m.b = node_view_claim(n);
	m.c = n->sm.commit;
	m.d = n->vw.lost != 0;     /* it may have lost its log */
	node_send(n, &m, node_addr(n, to));
}

/* Enter view change for view (higher than ours, or the first one of a
 * cold start): stop taking entries, promise the view, tell its
 * coordinator what we hold. */
void
node_view_enter(struct sc_node *n, uint32_t view)
{
	uint32_t to = node_coordinator_of(n, view);

	/* A failover lasts from the last word of the old coordinator,
	 * whoever noticed its silence first (we may join on others'
	 * votes before our own timer runs out); for a coordinator that
	 * leaves its view, from now. */
	if (n->vw.suspected == 0)
		n->vw.suspected = n->vw.role == SC_ROLE_MEMBER &&
		    n->vw.heard < n->now ? n->vw.heard : n->now;
	node_view_step_down(n);
	n->vw.status = SC_NODE_VIEW_CHANGE;
	node_view_set(n, view);
	n->vw.dvc_got = 0;
	n->vw.dvc_lost = 0;
	n->vw.completing = 0;
	n->vw.change_deadline = n->now + 2 * ms_to_us(n->conf->failover_ms);
	n->vw.next_change_send = n->now + node_view_resend_us(n);
	node_stream_new_view(n);
	node_view_save(n);
	node_say(n, SC_LOG_INFO, "view %u: view change, server %u to "
	    "coordinate (holding %llu entries, %llu committed)", view, to,
	    (unsigned long long)n->sm.log.op,
	    (unsigned long long)n->sm.commit);
	send_vote(n, view);
	if (to == n->id)
		node_view_dvc(n, NULL);
	else
		send_dvc(n);
}

/* A majority voted for vote_view. */
int
node_view_voted(const struct sc_node *n)
{
	return popcount(n->vw.votes) >= (int)n->majority;
}

void
node_view_vote_for(struct sc_node *n, uint32_t view, uint32_t server)
{
	if (view > n->vw.vote_view) {
		n->vw.vote_view = view;
		n->vw.votes = 0;
	}
	if (view == n->vw.vote_view)
		n->vw.votes |= 1ull << server;
}

static int
suspecting(const struct sc_node *n)
{
	return n->vw.status == SC_NODE_NORMAL &&
	    n->vw.role == SC_ROLE_MEMBER &&
	    n->now - n->vw.heard >= ms_to_us(n->conf->failover_ms);
}

/* A server speaks from an older view (a deposed coordinator's heartbeat,
 * a member that missed the start of ours): as the coordinator of the
 * current view, tell it where we are (what a heartbeat would; at most
 * one a heartbeat interval each). */
static void
tell_view(struct sc_node *n, uint32_t s)
{
	if (n->vw.status != SC_NODE_NORMAL ||
	    n->vw.role != SC_ROLE_COORDINATOR || s >= n->nservers ||
	    s == n->id || n->now < n->vw.told[s])
		return;
	n->vw.told[s] = n->now + ms_to_us(n->conf->heartbeat_ms);
	node_repair_heartbeat(n, node_addr(n, s), SC_RECOVERY_REPLY, 0);
}

/* A server asks for a view change (VIEW_CHANGE, its view: the one it
 * wants). We join only if we lost the coordinator too, or if a majority
 * already left the current view (it cannot commit anything any more). */
void
node_view_vote(struct sc_node *n, const struct sc_msg *m)
{
	uint32_t view = m->h.view;

	/* Its sender wants a view past ours, or ours: tell it ours (as
	 * its coordinator). It may be a server stale in an older view
	 * asking past ours because another asked so (its vote_view): it
	 * would never hear of ours otherwise. */
	tell_view(n, m->h.sender);
	if (n->vw.status == SC_NODE_RECOVERING) {
		node_view_recovering_vote(n, m);
		return;
	}
	if (view <= n->vw.view)
		return;
	node_view_vote_for(n, view, m->h.sender);
	/* Its sender saw a majority ask for that view and is in it: that
	 * view change is under way (a minority that lost the votes of the
	 * others must not stay in it alone). */
	if (m->d) {
		node_view_enter(n, view);
		return;
	}
	if (suspecting(n) || (n->vw.status == SC_NODE_VIEW_CHANGE &&
	    n->now >= n->vw.change_deadline)) {
		if (!(n->vw.votes & (1ull << n->id)))
			send_vote(n, view);
		node_view_vote_for(n, view, n->id);
	}
	if (node_view_voted(n))
		node_view_enter(n, view);
}

/* Finish a view change as its coordinator: the log is complete. */
static void
become_coordinator(struct sc_node *n)
{
	uint32_t was = n->vw.normal_view;

	if (node_coordinator_of(n, n->vw.view) != n->id ||
	    n->vw.status != SC_NODE_VIEW_CHANGE)
		return;                 /* never: only its coordinator starts */
	n->vw.completing = 0;
	n->vw.cold = 0;
	n->vw.status = SC_NODE_NORMAL;
	n->vw.role = SC_ROLE_COORDINATOR;
	n->vw.normal_view = n->vw.view;
	n->vw.claim = UINT64_MAX;
	n->vw.catching = 0;
	n->vw.fresh = 0;
	n->vw.lost = 0;
	n->vw.changes++;
	if (n->vw.best_commit > n->sm.commit)
		n->sm.commit = min_u64(n->vw.best_commit, n->sm.log.op);
	for (uint32_t s = 0; s < n->nservers; s++)
		n->vw.heard_from[s] = (n->vw.dvc_got >> s & 1) ? n->now : 0;
	n->vw.quorum = 1;
	if (n->vw.suspected != 0)
		n->vw.last_failover_us = n->now - n->vw.suspected;
	n->vw.suspected = 0;
	n->vw.votes = 0;
	node_stream_new_view(n);
	node_view_save(n);
	node_repair_coordinate(n);
	node_say(n, SC_LOG_INFO, "view %u: coordinator (last normal view "
	    "%u); the log holds %llu entries, %llu known committed",
	    n->vw.view, was, (unsigned long long)n->sm.log.op,
	    (unsigned long long)n->sm.commit);
	/* The view starts with its heartbeat; then our own clients'
	 * requests, which we were forwarding, are stamped here. */
	node_repair_heartbeat(n, NULL, SC_HEARTBEAT, 0);
	n->rp.next_heartbeat = n->now + ms_to_us(n->conf->heartbeat_ms);
	node_request_coordinate(n);
}

static void
fetch(struct sc_node *n)
{
	node_repair_ask(n, n->vw.best, n->sm.log.op + 1, n->vw.best_op);
	n->vw.next_fetch = n->now + node_view_resend_us(n);
}

/* A majority's DO_VIEWs are in: take the best log (latest normal view,
 * then longest; our own on a tie), and fetch what we lack of it. */
static void
complete(struct sc_node *n)
{
	uint32_t best = n->id;
	uint64_t keep;

	n->vw.best_commit = 0;
	for (uint32_t s = 0; s < n->nservers; s++) {
		const struct node_dvc *d = &n->vw.dvc[s];

		if (!(n->vw.dvc_got >> s & 1))
			continue;
		if (d->commit > n->vw.best_commit)
			n->vw.best_commit = d->commit;
		if (d->normal_view > n->vw.dvc[best].normal_view ||
		    (d->normal_view == n->vw.dvc[best].normal_view &&
		    d->op > n->vw.dvc[best].op))
			best = s;
	}
	if (SC_MUTATED(SC_MUT_SKIP_COMPLETION)) {
		become_coordinator(n);
		return;
	}
	/* Our log is a prefix of the best one if we were normal in the
	 * same view; otherwise only up to what we know committed. */
	keep = n->vw.normal_view == n->vw.dvc[best].normal_view ?
	    node_view_claim(n) : n->sm.log.applied;
	keep = min_u64(keep, n->vw.dvc[best].op);
	if (best != n->id && keep < n->sm.log.op) {
		node_say(n, SC_LOG_WARN, "view %u: cutting %llu uncommitted "
		    "entries after %llu that server %u's log (the best of "
		    "the majority) does not hold", n->vw.view,
		    (unsigned long long)(n->sm.log.op - keep),
		    (unsigned long long)keep, best);
		node_stream_cut(n, keep);
	}
	n->vw.best = best;
	n->vw.best_op = best == n->id ? n->sm.log.op : n->vw.dvc[best].op;
	n->vw.completing = 1;
	if (n->sm.log.op >= n->vw.best_op) {
		node_view_fetched(n);
		return;
	}
	fetch(n);
}

/* Enough DO_VIEWs of servers that kept their logs? A server that may
 * have lost its log (restarted without a data_dir kept with fsync =
 * each, and not yet in a view) counts towards the majority of DO_VIEWs,
 * but every acknowledged entry must be on a server that vouches for it:
 * those that kept their logs must meet every majority, n - majority + 1
 * of them (VR's recovery rule). With two servers that is the survivor
 * alone, so a pair goes on when its coordinator comes back empty; with
 * three or five a majority must have kept its log. A cold start (nobody
 * ever held anything, or all restarted) is the exception the recovery
 * rules already decided. */
static int
vouched(const struct sc_node *n)
{
	uint64_t kept = n->vw.dvc_got & ~n->vw.dvc_lost;

	if (n->vw.cold || SC_MUTATED(SC_MUT_FRESH_DVC))
		return 1;
	return popcount(kept) >= (int)node_others_needed(n);
}

/* A DO_VIEW (m == NULL: our own). */
void
node_view_dvc(struct sc_node *n, const struct sc_msg *m)
{
	uint32_t from = m ? m->h.sender : n->id;
	uint32_t view = m ? m->h.view : n->vw.view;

	/* A DO_VIEW of a view we have not entered: its sender saw a
	 * majority vote for it; we join when we see that too (it sends
	 * again), never on one server's word. */
	if (m != NULL && (n->vw.status == SC_NODE_RECOVERING ||
	    view != n->vw.view))
		return;
	if (n->vw.status != SC_NODE_VIEW_CHANGE || n->vw.completing ||
	    node_coordinator_of(n, view) != n->id ||
	    (m == NULL && !node_disk_ok(n)))
		return;
	if (m != NULL) {
		n->vw.dvc[from].normal_view = (uint32_t)m->a;
		n->vw.dvc[from].op = m->b;
		n->vw.dvc[from].commit = m->c;
	} else {
		n->vw.dvc[from].normal_view = n->vw.normal_view;
		n->vw.dvc[from].op = node_view_claim(n);
		n->vw.dvc[from].commit = n->sm.commit;
	}
	n->vw.dvc_got |= 1ull << from;
	if (m != NULL ? (m->d & 1) != 0 : n->vw.lost != 0)
		n->vw.dvc_lost |= 1ull << from;
	else
		n->vw.dvc_lost &= ~(1ull << from);
	if (popcount(n->vw.dvc_got) >= (int)n->majority && vouched(n))
		complete(n);
}

/* What a DO_VIEW or REPORT may vouch for: our log, up to the claim. */
uint64_t
node_view_claim(const struct sc_node *n)
{
	return min_u64(n->sm.log.op, n->vw.claim);
}

/* The view starts once we hold the best log durably: members adopt its
 * first heartbeat's head (what we hold durably) as the log it began
 * with, and one short of it cut entries committed in an older view. */
void
node_view_fetched(struct sc_node *n)
{
	if (n->vw.completing && n->vw.status == SC_NODE_VIEW_CHANGE &&
	    node_coordinator_of(n, n->vw.view) == n->id &&
	    n->sm.log.op >= n->vw.best_op &&
	    n->sm.durable >= n->sm.log.op)
		become_coordinator(n);
}

/* The coordinator we suspected spoke again before a view change: forget
 * the suspicion (a later failover is timed from its own silence). */
static void
suspicion_passed(struct sc_node *n)
{
	n->vw.suspected = 0;
	node_say(n, SC_LOG_INFO, "view %u: coordinator %u heard again",
	    n->vw.view, node_coordinator_of(n, n->vw.view));
}

/* May this datagram, which belongs to a view, speak to us now? Notes
 * who was heard from. */
int
node_view_accepts(struct sc_node *n, const struct sc_msg *m)
{
	uint32_t s = m->h.sender, view = m->h.view;
	uint32_t coord = node_coordinator_of(n, view);
	int type = m->h.type;

	if (view < n->vw.view) {
		if (SC_MUTATED(SC_MUT_OLD_VIEW) && (type == SC_DATA ||
		    type == SC_RETX) && s == node_coordinator_of(n, view)) {
			n->sm.stale++;
			return 1;
		}
		n->sm.stale++;
		tell_view(n, s);
		return 0;
	}
	if (view > n->vw.view || n->vw.status != SC_NODE_NORMAL) {
		/* Only a coordinator's heartbeat starts a view for us; in a
		 * view change, the fetch between its new coordinator and
		 * the server with the best log. */
		if (type == SC_HEARTBEAT)
			return s == coord;
		if (s == coord && n->vw.status != SC_NODE_RECOVERING &&
		    (view > n->vw.view || type == SC_DATA))
			node_view_probe(n, s);
		if (view != n->vw.view || n->vw.status != SC_NODE_VIEW_CHANGE)
			return 0;
		if (type == SC_NACK)
			return s == coord;
		return type == SC_RETX && n->vw.completing && s == n->vw.best;
	}
	if (n->vw.role == SC_ROLE_COORDINATOR) {
		if (type != SC_FWD && type != SC_NACK && type != SC_REPORT)
			return 0;
		n->vw.heard_from[s] = n->now;
		return 1;
	}
	if (s != coord)
		return 0;
	n->vw.heard = n->now;
	if (n->vw.suspected != 0 && n->vw.status == SC_NODE_NORMAL)
		suspicion_passed(n);
	return type == SC_DATA || type == SC_RETX || type == SC_HEARTBEAT ||
	    type == SC_STAMPED || type == SC_GONE;
}

/* Coordinator: still in touch with a majority (itself included)? */
static void
check_quorum(struct sc_node *n)
{
	int64_t since = n->now - ms_to_us(n->conf->failover_ms);
	uint32_t heard = 1;
	int had = n->vw.quorum;

	for (uint32_t s = 0; s < n->nservers; s++)
		if (s != n->id && n->vw.heard_from[s] >= since &&
		    n->vw.heard_from[s] != 0)
			heard++;
	n->vw.quorum = heard >= n->majority;
	if (had && !n->vw.quorum)
		node_say(n, SC_LOG_WARN, "view %u: no word from a majority "
		    "for %u ms: stamping nothing until it is back",
		    n->vw.view, n->conf->failover_ms);
	else if (!had && n->vw.quorum)
		node_say(n, SC_LOG_INFO, "view %u: a majority is back",
		    n->vw.view);
}

static void
tick_member(struct sc_node *n)
{
	uint32_t want = n->vw.view + 1;

	if (!suspecting(n))
		return;
	if (n->vw.suspected == 0) {
		n->vw.suspected = n->vw.heard;
		node_say(n, SC_LOG_WARN, "view %u: no word from coordinator "
		    "%u for %u ms: asking for view %u", n->vw.view,
		    node_coordinator_of(n, n->vw.view), n->conf->failover_ms,
		    want);
	}
	if (n->vw.vote_view > want)
		want = n->vw.vote_view;
	node_view_vote_for(n, want, n->id);
	if (node_view_voted(n)) {
		node_view_enter(n, want);
		return;
	}
	repeat_vote(n, want);
}

static void
tick_change(struct sc_node *n)
{
	if (n->now >= n->vw.change_deadline) {
		/* This view's coordinator has not started it: ask for the
		 * next, which starts once a majority asks too. */
		if (n->vw.vote_view <= n->vw.view) {
			node_say(n, SC_LOG_WARN, "view %u: no start from "
			    "server %u: asking for view %u", n->vw.view,
			    node_coordinator_of(n, n->vw.view),
			    n->vw.view + 1);
			node_view_vote_for(n, n->vw.view + 1, n->id);
		}
		node_view_vote_for(n, n->vw.vote_view, n->id);
		if (node_view_voted(n)) {
			node_view_enter(n, n->vw.vote_view);
			return;
		}
		repeat_vote(n, n->vw.vote_view);
	}
	if (n->now >= n->vw.next_change_send) {
		send_vote(n, n->vw.view);
		send_dvc(n);
		/* Its heartbeat may be what we lose: ask the coordinator. */
		node_view_probe(n, node_coordinator_of(n, n->vw.view));
		n->vw.next_change_send = n->now + node_view_resend_us(n);
	}
	if (n->vw.completing && n->now >= n->vw.next_fetch &&
	    n->sm.log.op < n->vw.best_op)
		fetch(n);
}

void
node_view_tick(struct sc_node *n)
{
	switch (n->vw.status) {
	case SC_NODE_RECOVERING:
		if (n->now >= n->vw.next_recovery)
			node_view_send_recovery(n);
		break;
	case SC_NODE_VIEW_CHANGE:
		tick_change(n);
		break;
	case SC_NODE_NORMAL:
		if (n->vw.role == SC_ROLE_COORDINATOR)
			check_quorum(n);
		else
			tick_member(n);
		break;
	}
}

int64_t
node_view_deadline(const struct sc_node *n)
{
	switch (n->vw.status) {
	case SC_NODE_RECOVERING:
		return n->vw.next_recovery;
	case SC_NODE_VIEW_CHANGE: {
		int64_t t = n->now >= n->vw.change_deadline ? n->vw.next_vote :
		    n->vw.change_deadline;

		t = min_i64(t, n->vw.next_change_send);

		return n->vw.completing && n->sm.log.op < n->vw.best_op ?
		    min_i64(t, n->vw.next_fetch) : t;
	}
	default:
		if (n->vw.role == SC_ROLE_COORDINATOR)
			return n->now + ms_to_us(n->conf->failover_ms) / 4;
		if (suspecting(n))
			return n->vw.next_vote;
		return n->vw.heard + ms_to_us(n->conf->failover_ms);
	}
}

/* Taking new requests: a coordinator in touch with a majority whose
 * disk takes writes. */
int
node_view_serving(const struct sc_node *n)
{
	return n->vw.status == SC_NODE_NORMAL &&
	    n->vw.role == SC_ROLE_COORDINATOR && n->vw.quorum &&
	    node_disk_ok(n);
}
