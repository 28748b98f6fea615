/*
 * node_auth.c - the door's authentication (auth.h): every datagram's MAC
 * and counter, and the challenge that lets a peer whose counters went
 * back (it restarted while its clock was behind the one it ran with)
 * talk to us again.
 *
 * A server's counters start at its wall clock when it starts, then count
 * datagrams. Restarted with the clock set back, it sends counters below
 * the window we keep for it: auth.c says STALE, not REPLAY, since the MAC
 * holds. That may be a replay too, so we do not take its word: we send it
 * a challenge (RECOVERY, b = 2, a = a fresh nonce), and it answers with
 * a RECOVERY (b = 3) carrying the nonce; a MAC over our fresh nonce can
 * only come from a live holder of the key, so its window starts again at
 * that answer's counter. At most one challenge per peer per
 * NODE_CHALLENGE_US.
 *
 *   restarted s   --(anything, counter below our window)--> us   STALE
 *   us            --RECOVERY(b=2, nonce)--> s
 *   s             --RECOVERY(b=3, nonce)--> us    window restarts here
 */
#include <arpa/inet.h>
#include <string.h>

#include "seqcast/bytes.h"
#include "seqcast/rng.h"
#include "node_rooms.h"

#define NODE_CHALLENGE_US 100000

static void
challenge(struct sc_node *n, uint32_t s)
{
	struct sc_msg m;

	if (n->now < n->ch.next[s])
		return;
	n->ch.next[s] = n->now + NODE_CHALLENGE_US;
	n->ch.nonce[s] = sc_rng_next(&n->rng) | 1;
	n->ch.sent++;
	node_msg(n, &m, SC_RECOVERY);
	m.a = n->ch.nonce[s];
	m.b = SC_RECOVERY_CHALLENGE;
	node_send(n, &m, node_addr(n, s));
}

/* A STALE datagram from server s: the answer to our challenge (its
 * window restarts), or a reason to send one. Never dispatched. */
static void
stale(struct sc_node *n, const struct sockaddr_in *from, const void *buf,
    size_t full, size_t len)
{
	const struct sockaddr_in *a;
	uint32_t s = sc_get_be32((const uint8_t *)buf + 12);

	if (s >= n->nservers || s == n->id)
		return;
	a = node_addr(n, s);
	if (from->sin_addr.s_addr != a->sin_addr.s_addr ||
	    from->sin_port != a->sin_port)
		return;
	if (sc_decode(n->dec, buf, len, n->conf->cluster_id, &n->msg) ==
	    SC_REJ_NONE && n->msg.h.type == SC_RECOVERY &&
	    n->msg.b == SC_RECOVERY_ANSWER && n->ch.nonce[s] != 0 &&
	    n->msg.a == n->ch.nonce[s]) {
		sc_auth_restart_peer(&n->auth, s, buf, full);
		n->ch.nonce[s] = 0;
		n->ch.answered++;
		node_say(n, SC_LOG_INFO, "server %u answered our challenge: "
		    "its counters went back (restarted with its clock "
		    "behind?), taking its datagrams again", s);
		return;
	}
	challenge(n, s);
}

int
node_auth_in(struct sc_node *n, const struct sockaddr_in *from,
    const void *buf, size_t *len)
{
	char addr[INET_ADDRSTRLEN];
	size_t full = *len;
	int rc;

	/* Without a key this only refuses datagrams that carry a MAC. */
	rc = sc_auth_open(&n->auth, buf, full, n->now + n->wall_offset, len);
	/* A client's counter is its wall clock: fresh if near ours, as it
	 * is now or as it ran since we started (whichever our clock was
	 * right in: a step while we run, or a wrong clock at boot that NTP
	 * corrected since). */
	if (rc == SC_AUTH_REPLAY && n->wall_anchor != n->wall_offset &&
	    sc_get_be32((const uint8_t *)buf + 12) == SC_SENDER_CLIENT)
		rc = sc_auth_open(&n->auth, buf, full, n->now +
		    n->wall_anchor, len);
	if (rc == SC_AUTH_OK)
		return 0;
	n->st.auth[rc]++;
	if (rc == SC_AUTH_STALE)
		stale(n, from, buf, full, *len);
	inet_ntop(AF_INET, &from->sin_addr, addr, sizeof(addr));
	node_warn(n, "refused a datagram from %s:%u: %s", addr,
	    ntohs(from->sin_port), sc_auth_result_name(rc));
	return -1;
}

/* RECOVERY with b = CHALLENGE: prove we are live. b = ANSWER arriving
 * here was not needed (our counters were in its window): nothing to do.
 * 0: not the door's (a restart's RECOVERY or a probe). */
int
node_auth_recovery(struct sc_node *n, const struct sc_msg *m)
{
	struct sc_msg a;

	if (m->b < SC_RECOVERY_CHALLENGE)
		return 0;
	if (m->b == SC_RECOVERY_CHALLENGE) {
		node_msg(n, &a, SC_RECOVERY);
		a.a = m->a;
		a.b = SC_RECOVERY_ANSWER;
		node_send(n, &a, node_addr(n, m->h.sender));
	}
	return 1;
}
