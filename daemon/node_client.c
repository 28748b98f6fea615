/*
 * node_client.c - what a server owes an address it has not verified: at
 * most three times the bytes it received from it (QUIC's rule, RFC 9000
 * section 8), until that address shows a cookie this server made for it
 * (cookie.h; the budget is amp.h).
 *
 * Every client request passes node_client_admit: its cookie is checked
 * and the budget learns its bytes. A request without a good cookie is
 * first answered with a COOKIE (73 bytes, 113 with a MAC: always within
 * its own budget, since no request is under 56 bytes), then with what
 * fits of its answer. Every datagram for a client (ACK, LOG_REPLY,
 * STATS_REPLY, COOKIE) passes node_client_may_send on its way out of the
 * door, so nothing added later can forget the rule.
 *
 * A shared key (auth.h) does not prove an address: every client holds
 * the key and may sign any source address, and a recorded request
 * replayed within the 60 s freshness window passes from any source. So
 * keyed clusters ask for cookies too: the cookie binds the proof to the
 * address it was sent to.
 */
#include <string.h>

#include "seqcast/rng.h"
#include "node_rooms.h"

static void
client_keys(struct sc_node *n, const uint8_t *secret)
{
	struct sockaddr_in none;

	sc_cookie_init(&n->cl.cookie, secret, SC_COOKIE_PERIOD_US, n->now);
	/* The table's salt comes from the secret too (a cookie for no
	 * address): whoever cannot make cookies cannot aim at slots. */
	memset(&none, 0, sizeof(none));
	sc_amp_init(&n->cl.amp, sc_cookie_make(&n->cl.cookie, &none, n->now));
}

/* secret NULL: one drawn from the node's seed (the simulator, tests);
 * the daemon gives a random one (sc_node_set_cookie_secret). */
void
node_client_init(struct sc_node *n, const uint8_t *secret)
{
	uint8_t seeded[SC_COOKIE_SECRET_BYTES];

	if (secret == NULL) {
		uint64_t r = sc_rng_seed(n->rng, 0xc00c1e);

		for (size_t i = 0; i < sizeof(seeded); i += 8) {
			uint64_t v = sc_rng_next(&r);

			memcpy(seeded + i, &v, 8);
		}
		secret = seeded;
	}
	client_keys(n, secret);
	n->cl.park_from = UINT64_MAX;
	n->cl.park_due = INT64_MAX;
	memset(seeded, 0, sizeof(seeded));
}

void
node_client_free(struct sc_node *n)
{
	sc_cookie_wipe(&n->cl.cookie);
}

void
sc_node_set_cookie_secret(struct sc_node *n, const uint8_t *secret)
{
	client_keys(n, secret);
}

/* What the COOKIE echoes, so a client can tell it answers its own
 * request: a stats request's nonce, a log request's first id, an ADD's
 * client id. */
static uint64_t
echo_of(const struct sc_msg *m)
{
	if (m->h.type == SC_ADD)
		return m->count > 0 ? m->items[0].client : 0;
	return m->b;
}

static void
send_cookie(struct sc_node *n, const struct sockaddr_in *to,
    const struct sc_msg *req)
{
	struct sc_msg m;

	node_msg(n, &m, SC_COOKIE);
	m.a = sc_cookie_make(&n->cl.cookie, to, n->now);
	m.b = echo_of(req);
	n->cl.cookies_sent++;
	node_send(n, &m, to);
}

/* A client's request of len bytes (as received, MAC included): count
 * it, check its cookie, and without a good one send a fresh cookie
 * first. 1: go on and answer it (within the budget). */
int
node_client_admit(struct sc_node *n, const struct sockaddr_in *from,
    size_t len, const struct sc_msg *m)
{
	enum sc_cookie_result r = sc_cookie_check(&n->cl.cookie, from, m->a,
	    n->now);

	n->cl.verified = r == SC_COOKIE_OK;
	sc_amp_received(&n->cl.amp, from, len, n->cl.verified, n->now);
	if (n->cl.verified) {
		n->cl.requests_verified++;
		return 1;
	}
	n->cl.requests_unverified++;
	if (r == SC_COOKIE_BAD)
		n->cl.cookie_bad++;
	send_cookie(n, from, m);
	return 1;
}

static int
is_client_reply(int type)
{
	return type == SC_ACK || type == SC_LOG_REPLY ||
	    type == SC_STATS_REPLY || type == SC_COOKIE;
}

/* The way out, for every datagram: one for a client leaves only if its
 * address is verified or its budget covers it. */
int
node_client_may_send(struct sc_node *n, int type,
    const struct sockaddr_in *to, size_t len)
{
	if (to == NULL || !is_client_reply(type) || n->cl.send_verified ||
	    SC_MUTATED(SC_MUT_AMP_UNBOUNDED))
		return 1;
	return sc_amp_spend(&n->cl.amp, to, len, n->now);
}

/* Bytes a reply to `to` may have before its MAC, now. */
size_t
node_client_room(struct sc_node *n, const struct sockaddr_in *to)
{
	size_t room = n->cl.send_verified ||
	    SC_MUTATED(SC_MUT_AMP_UNBOUNDED) ? SIZE_MAX :
	    sc_amp_room(&n->cl.amp, to, n->now);
	size_t mac = n->auth.on ? SC_AUTH_TRAILER : 0;

	if (room == SIZE_MAX)
		return room;
	return room > mac ? room - mac : 0;
}
