/*
 * node_view.c - views, as in Viewstamped Replication Revisited (Liskov
 * and Cowling, 2012): who coordinates, when to change, how a new view
 * starts, and how a restarted server learns where the cluster is.
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
 *
 * Recovery: every server starts RECOVERING. It asks the others
 * (RECOVERY) and adopts the view of the latest coordinator once enough
 * servers answered that no majority can be in a newer view unheard; it
 * never takes part in a view change on the strength of a memory it may
 * have lost. If every server that answered is recovering too, the whole
 * cluster (re)started: they hold a view change among themselves (view 0
 * with the configured coordinator if nobody holds anything).
 */
#include <string.h>

#include "seqcast/rng.h"
#include "node_priv.h"

static int
popcount(uint64_t x)
{
	return __builtin_popcountll(x);
}

static int64_t
vc_resend_us(const struct sc_node *n)
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

static void
set_view(struct sc_node *n, uint32_t view)
{
	n->vw.view = view;
	n->hdr.view = view;
}

static void
send_recovery(struct sc_node *n)
{
	struct sc_msg m;

	node_msg(n, &m, SC_RECOVERY);
	m.a = n->vw.nonce;
	node_send(n, &m, NULL);
	n->vw.next_recovery = n->now + vc_resend_us(n) * 2;
}

static void enter_view_change(struct sc_node *n, uint32_t view);

/* Ask server to for its view (a RECOVERY marked as a probe, b = 1): we
 * know a newer view exists, or our view change is slow; the answer from
 * that view's coordinator starts it for us (heartbeats may be lost). At
 * most one every vc_resend_us. */
static void
send_probe(struct sc_node *n, uint32_t to)
{
	struct sc_msg m;

	if (n->now < n->vw.next_probe || to == n->id)
		return;
	n->vw.next_probe = n->now + vc_resend_us(n);
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
		set_view(n, n->vw.view);
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
			set_view(n, n->vw.view);
			node_repair_reset(n, n->sm.log.op);
			/* It coordinated that view: that coordinator is gone. */
			if (node_coordinator_of(n, n->vw.view) == n->id)
				n->vw.heard = n->now -
				    ms_to_us(n->conf->failover_ms);
			node_say(n, SC_LOG_INFO, "view %u: back as a member, "
			    "holding %llu entries", n->vw.view,
			    (unsigned long long)n->sm.log.op);
		} else {
			enter_view_change(n, n->vw.view);
		}
		return;
	}
	n->vw.status = SC_NODE_RECOVERING;
	n->vw.nonce = sc_rng_next(&n->rng) | 1;
	n->vw.replied = 0;
	if (n->nservers == 1) {
		/* Alone: nobody to ask, nothing to lose. */
		enter_view_change(n, n->vw.fresh ? 0 : n->vw.view + 1);
		return;
	}
	send_recovery(n);
}

void
node_view_start_as(struct sc_node *n, uint32_t view)
{
	n->vw.heard = n->now;
	n->vw.status = SC_NODE_NORMAL;
	n->vw.normal_view = view;
	n->vw.claim = UINT64_MAX;
	n->vw.fresh = 0;
	set_view(n, view);
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

/* Leave the coordinator's role (a newer view exists, or we lost it). */
static void
step_down(struct sc_node *n)
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
	node_send(n, &m, node_addr(n, to));
}

/* Enter view change for view (higher than ours, or the first one of a
 * cold start): stop taking entries, promise the view, tell its
 * coordinator what we hold. */
static void
enter_view_change(struct sc_node *n, uint32_t view)
{
	uint32_t to = node_coordinator_of(n, view);

	step_down(n);
	if (n->vw.suspected == 0)
		n->vw.suspected = n->now;
	n->vw.status = SC_NODE_VIEW_CHANGE;
	set_view(n, view);
	n->vw.dvc_got = 0;
	n->vw.completing = 0;
	n->vw.change_deadline = n->now + 2 * ms_to_us(n->conf->failover_ms);
	n->vw.next_change_send = n->now + vc_resend_us(n);
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

static void
vote_for(struct sc_node *n, uint32_t view, uint32_t server)
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

	if (view <= n->vw.view)
		tell_view(n, m->h.sender);
	if (n->vw.status == SC_NODE_RECOVERING || view <= n->vw.view)
		return;
	vote_for(n, view, m->h.sender);
	/* Its sender saw a majority ask for that view and is in it: that
	 * view change is under way (a minority that lost the votes of the
	 * others must not stay in it alone). */
	if (m->d) {
		enter_view_change(n, view);
		return;
	}
	if (suspecting(n) || (n->vw.status == SC_NODE_VIEW_CHANGE &&
	    n->now >= n->vw.change_deadline)) {
		if (!(n->vw.votes & (1ull << n->id)))
			send_vote(n, view);
		vote_for(n, view, n->id);
	}
	if (popcount(n->vw.votes) >= (int)n->majority)
		enter_view_change(n, view);
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
	n->vw.next_fetch = n->now + vc_resend_us(n);
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
	if (best == n->id || SC_MUTATED(SC_MUT_SKIP_COMPLETION)) {
		become_coordinator(n);
		return;
	}
	/* Our log is a prefix of the best one if we were normal in the
	 * same view; otherwise only up to what we know committed. */
	keep = n->vw.normal_view == n->vw.dvc[best].normal_view ?
	    node_view_claim(n) : n->sm.log.applied;
	keep = min_u64(keep, n->vw.dvc[best].op);
	if (keep < n->sm.log.op) {
		node_say(n, SC_LOG_WARN, "view %u: cutting %llu uncommitted "
		    "entries after %llu that server %u's log (the best of "
		    "the majority) does not hold", n->vw.view,
		    (unsigned long long)(n->sm.log.op - keep),
		    (unsigned long long)keep, best);
		node_stream_cut(n, keep);
	}
	n->vw.best = best;
	n->vw.best_op = n->vw.dvc[best].op;
	n->vw.completing = 1;
	if (n->sm.log.op >= n->vw.best_op) {
		become_coordinator(n);
		return;
	}
	fetch(n);
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
	if (popcount(n->vw.dvc_got) >= (int)n->majority)
		complete(n);
}

/* What a DO_VIEW or REPORT may vouch for: our log, up to the claim. */
uint64_t
node_view_claim(const struct sc_node *n)
{
	return min_u64(n->sm.log.op, n->vw.claim);
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

/* Entries of the fetch arrived: done once we hold the best log. */
void
node_view_fetched(struct sc_node *n)
{
	if (n->vw.completing && n->vw.status == SC_NODE_VIEW_CHANGE &&
	    node_coordinator_of(n, n->vw.view) == n->id &&
	    n->sm.log.op >= n->vw.best_op)
		become_coordinator(n);
}

/* Replies that rule out a majority in a view newer than view unheard:
 * n - majority + 1 of the others answered, none newer. */
static int
recovered_for(const struct sc_node *n, uint32_t view)
{
	uint32_t need = n->nservers - n->majority + 1, got = 0;

	for (uint32_t s = 0; s < n->nservers; s++) {
		if (!(n->vw.replied >> s & 1))
			continue;
		if (n->vw.reply[s].view > view)
			return 0;
		got++;
	}
	return got >= need;
}

/* Adopt view m->h.view from its coordinator's heartbeat (or recovery
 * reply): cut our log where it stops matching, catch up the rest. */
static void
adopt(struct sc_node *n, const struct sc_msg *m)
{
	struct sc_segment seg[NODE_SEGMENTS];
	uint32_t nseg = m->count < NODE_SEGMENTS ? m->count : NODE_SEGMENTS;
	uint64_t keep;

	for (uint32_t i = 0; i < nseg; i++) {
		seg[i].first = m->items[m->count - nseg + i].first;
		seg[i].view = (uint32_t)m->items[m->count - nseg + i].last;
	}
	step_down(n);
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
	if (n->vw.suspected != 0)
		n->vw.last_failover_us = n->now - n->vw.suspected;
	n->vw.suspected = 0;
	n->vw.status = SC_NODE_NORMAL;
	n->vw.role = SC_ROLE_MEMBER;
	n->vw.cold = 0;
	n->vw.completing = 0;
	set_view(n, m->h.view);
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
	n->vw.changes++;
	n->vw.heard = n->now;
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
			node_repair_head(n, m->a);
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
	vote_for(n, view, n->id);
	enter_view_change(n, view);
	n->vw.cold = 1;
}

static void
check_recovery(struct sc_node *n)
{
	uint32_t need = n->nservers - n->majority + 1, got = 0, busy = 0;

	for (uint32_t s = 0; s < n->nservers; s++) {
		const struct node_reply *r = &n->vw.reply[s];

		if (!(n->vw.replied >> s & 1))
			continue;
		got++;
		if (r->status == SC_NODE_NORMAL ||
		    (r->status == SC_NODE_VIEW_CHANGE && !r->cold))
			busy++;
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
			send_probe(n, s);
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
	vote_for(n, want, n->id);
	if (popcount(n->vw.votes) >= (int)n->majority) {
		enter_view_change(n, want);
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
			vote_for(n, n->vw.view + 1, n->id);
		}
		vote_for(n, n->vw.vote_view, n->id);
		if (popcount(n->vw.votes) >= (int)n->majority) {
			enter_view_change(n, n->vw.vote_view);
			return;
		}
		repeat_vote(n, n->vw.vote_view);
	}
	if (n->now >= n->vw.next_change_send) {
		send_vote(n, n->vw.view);
		send_dvc(n);
		/* Its heartbeat may be what we lose: ask the coordinator. */
		send_probe(n, node_coordinator_of(n, n->vw.view));
		n->vw.next_change_send = n->now + vc_resend_us(n);
	}
	if (n->vw.completing && n->now >= n->vw.next_fetch)
		fetch(n);
}

void
node_view_tick(struct sc_node *n)
{
	switch (n->vw.status) {
	case SC_NODE_RECOVERING:
		if (n->now >= n->vw.next_recovery)
			send_recovery(n);
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

		return n->vw.completing ? min_i64(t, n->vw.next_fetch) : t;
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
