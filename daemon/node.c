/*
 * node.c - the door of a server's protocol engine: set-up, the events
 * (datagrams, time, completed writes), and the checks every datagram
 * passes before a room sees it (node_auth.c: its MAC). The way out is
 * node_out.c.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "seqcast/rng.h"
#include "seqcast/bytes.h"
#include "node_rooms.h"

static size_t
path_max(const struct sc_config *c)
{
	/* IPv4 and UDP headers: 28 bytes. */
	if (c->mtu == 0)
		return SC_DATAGRAM_MAX;
	return c->mtu - 28 > SC_SEND_MAX ? SC_SEND_MAX : c->mtu - 28;
}

struct sc_node *
sc_node_new(const struct sc_config *c, uint32_t id, const struct sc_io *io,
    uint64_t seed)
{
	struct sc_node *n;

	if (id >= c->nservers || c->nservers > SC_SERVERS_MAX)
		return NULL;
	if ((n = calloc(1, sizeof(*n))) == NULL)
		return NULL;
	n->conf = c;
	n->id = id;
	n->nservers = c->nservers;
	n->majority = c->nservers / 2 + 1;
	n->io = *io;
	n->rng = sc_rng_seed(seed, id);
	n->warn_limit.period = 1000000;
	n->hdr.magic = SC_MAGIC;
	n->hdr.version = SC_VERSION;
	n->hdr.cluster = c->cluster_id;
	n->hdr.sender = id;
	sc_config_digest(c, &n->parts);
	n->hdr.config = sc_config_digest_word(&n->parts);
	n->dgram_max = path_max(c);
	node_client_init(n, NULL);
	n->dec = sc_decoder_new();
	if (n->dec == NULL || sc_outbox_init(&n->out, &n->hdr, n->dgram_max,
	    node_out_send, node_out_fill, n) == -1 || node_stream_init(n) == -1 ||
	    node_repair_init(n) == -1 || node_request_init(n) == -1) {
		sc_node_free(n);
		return NULL;
	}
	node_disk_init(n);
	node_view_init(n);
	return n;
}

void
sc_node_free(struct sc_node *n)
{
	if (n == NULL)
		return;
	node_client_free(n);
	node_request_free(n);
	node_repair_free(n);
	node_stream_free(n);
	sc_outbox_free(&n->out);
	if (n->dec != NULL)
		sc_decoder_free(n->dec);
	sc_auth_wipe(&n->auth);
	free(n);
}

void
sc_node_set_key(struct sc_node *n, const struct sc_auth *auth)
{
	n->auth = *auth;
	if (n->auth.on) {
		n->dgram_max = path_max(n->conf) - SC_AUTH_TRAILER;
		n->out.dgram_max = n->dgram_max;
	}
}

void
sc_node_set_wall_offset(struct sc_node *n, int64_t offset_us)
{
	n->wall_offset = offset_us;
	if (!n->wall_anchored) {
		n->wall_anchor = offset_us;
		n->wall_anchored = 1;
	}
}

void
sc_node_stop(struct sc_node *n)
{
	node_view_save(n);
}

void
sc_node_set_sockets(struct sc_node *n, int rcvbuf, int sndbuf,
    int control_socket)
{
	n->rcvbuf = rcvbuf;
	n->sndbuf = sndbuf;
	n->control_socket = control_socket;
}

void
sc_node_start(struct sc_node *n, int64_t now)
{
	n->now = now;
	node_view_start(n);
}

void
sc_node_start_as(struct sc_node *n, int64_t now, uint32_t view)
{
	n->now = now;
	node_view_start_as(n, view);
}

static int
is_client_request(int type)
{
	return type == SC_ADD || type == SC_LOG_REQ || type == SC_STATS_REQ;
}

/* Multicast types a server gets back from its own sends. */
static int
is_own_echo(const uint8_t *p, size_t len, uint32_t id)
{
	int type;

	if (len < SC_HEADER_LEN)
		return 0;
	type = p[5];
	return (type == SC_DATA || type == SC_HEARTBEAT ||
	    type == SC_VIEW_CHANGE || type == SC_RECOVERY ||
	    type == SC_RETX) && sc_get_be32(p + 12) == id;
}

/* Tell server s our shared settings, part by part (at most once a
 * second): both sides can then name what differs. */
static void
config_send(struct sc_node *n, uint32_t s)
{
	struct sc_item items[SC_DIGEST_PARTS];
	struct sc_msg m;

	if (n->now < n->vw.config_sent[s])
		return;
	n->vw.config_sent[s] = n->now + 1000000;
	memset(items, 0, sizeof(items));
	node_msg(n, &m, SC_CONFIG);
	m.a = SC_DIGEST_PARTS;
	for (int i = 0; i < SC_DIGEST_PARTS; i++) {
		items[i].first = (uint64_t)i;
		items[i].last = n->parts.part[i];
	}
	m.items = items;
	m.count = SC_DIGEST_PARTS;
	node_send(n, &m, node_addr(n, s));
}

/* A datagram from server s whose cluster file differs from ours. */
static void
config_refuse(struct sc_node *n, uint32_t s)
{
	n->vw.config_refused++;
	if (!(n->vw.peer_bad & (1ull << s)))
		node_say(n, SC_LOG_ERROR, "server %u's cluster file differs "
		    "from ours: refusing its datagrams until it is fixed", s);
	n->vw.peer_bad |= 1ull << s;
	config_send(n, s);
}

/* Server s's parts: name what differs (once per difference). */
static void
config_compare(struct sc_node *n, const struct sc_msg *m)
{
	struct sc_config_digest theirs = n->parts;
	uint32_t s = m->h.sender;
	char what[160];

	for (uint32_t i = 0; i < m->count; i++)
		if (m->items[i].first < SC_DIGEST_PARTS)
			theirs.part[m->items[i].first] =
			    (uint32_t)m->items[i].last;
	if (sc_config_digest_diff(&n->parts, &theirs, what,
	    sizeof(what)) == 0)
		return;
	/* Again every minute, and at once when what differs changes. */
	if (n->now >= n->vw.config_named[s] ||
	    m->h.config != n->vw.config_named_as[s]) {
		node_say(n, SC_LOG_ERROR, "server %u's cluster file differs "
		    "from ours in: %s (fix the file on one side; until then "
		    "neither side takes the other's datagrams)", s, what);
		n->vw.config_named[s] = n->now + 60000000;
		n->vw.config_named_as[s] = m->h.config;
	}
	n->vw.peer_bad |= 1ull << s;
	config_send(n, s);
}

/* Who may send what, whatever the view: server messages name a server
 * of this cluster, come from its own address (every server sends from
 * its listen socket) and carry our cluster file's digest; client
 * requests come from anyone; replies meant for clients never come in.
 * 1: take it; 0: unexpected; -1: refused for its cluster file. */
static int
sender_ok(struct sc_node *n, const struct sockaddr_in *from,
    const struct sc_msg *m)
{
	const struct sockaddr_in *a;
	uint32_t s = m->h.sender;

	if (is_client_request(m->h.type))
		return 1;
	if (m->h.type == SC_ACK || m->h.type == SC_LOG_REPLY ||
	    m->h.type == SC_STATS_REPLY || m->h.type == SC_COOKIE ||
	    s >= n->nservers || s == n->id)
		return 0;
	a = node_addr(n, s);
	if (from->sin_addr.s_addr != a->sin_addr.s_addr ||
	    from->sin_port != a->sin_port)
		return 0;
	if (m->h.config != n->hdr.config && m->h.type != SC_CONFIG) {
		config_refuse(n, s);
		return -1;      /* counted and said there */
	}
	if (n->vw.peer_bad & (1ull << s) && m->h.type != SC_CONFIG) {
		n->vw.peer_bad &= ~(1ull << s);
		node_say(n, SC_LOG_INFO, "server %u's cluster file now agrees "
		    "with ours", s);
	}
	return 1;
}

static void
dispatch(struct sc_node *n, const struct sockaddr_in *from,
    const struct sc_msg *m)
{
	switch (m->h.type) {
	case SC_ADD:
		node_request_add(n, from, m);
		break;
	case SC_LOG_REQ:
		node_query_log(n, from, m);
		break;
	case SC_STATS_REQ:
		node_query_stats(n, from, m);
		break;
	case SC_VIEW_CHANGE:
		node_view_vote(n, m);
		break;
	case SC_DO_VIEW:
		node_view_dvc(n, m);
		break;
	case SC_RECOVERY:
		if (!node_auth_recovery(n, m))
			node_view_recovery(n, m);
		break;
	case SC_RECOVERY_REPLY:
		node_view_recovery_reply(n, m);
		break;
	case SC_CONFIG:
		config_compare(n, m);
		break;
	default:
		/* Everything else belongs to a view: the view part decides
		 * whether this one may speak in it. */
		if (!node_view_accepts(n, m))
			return;
		switch (m->h.type) {
		case SC_FWD:
			node_request_fwd(n, m);
			break;
		case SC_STAMPED:
			node_request_stamped(n, m);
			break;
		case SC_DATA:
		case SC_RETX:
			node_stream_entries(n, m);
			break;
		case SC_HEARTBEAT:
			node_view_heartbeat(n, m);
			break;
		case SC_NACK:
			node_repair_nack(n, m);
			break;
		case SC_REPORT:
			node_stream_match(n, m->h.sender, m->a);
			node_repair_reported(n, m->h.sender, m->b, m->c != 0);
			break;
		case SC_GONE:
			node_repair_gone(n, m);
			break;
		}
	}
}

void
sc_node_receive(struct sc_node *n, int64_t now, const struct sockaddr_in *from,
    const void *buf, size_t len)
{
	char addr[INET_ADDRSTRLEN];
	uint32_t cluster = n->conf->cluster_id;
	size_t wire_len = len;
	struct sc_header h;
	int rc, ok;

	n->now = now;
	n->st.bytes_in += len;
	if (is_own_echo(buf, len, n->id)) {
		n->st.own++;
		return;
	}
	if (node_auth_in(n, from, buf, &len) == -1)
		return;
	/* Clients may send cluster 0: "whichever cluster this server is
	 * in" (a client needs no cluster file). */
	if (sc_decode_header(buf, len, &h) == SC_REJ_NONE && h.cluster == 0 &&
	    is_client_request(h.type))
		cluster = 0;
	rc = sc_decode(n->dec, buf, len, cluster, &n->msg);
	if (rc != SC_REJ_NONE) {
		n->st.rejected[rc]++;
		inet_ntop(AF_INET, &from->sin_addr, addr, sizeof(addr));
		node_warn(n, "rejected a %zu-byte datagram from %s:%u: %s",
		    len, addr, ntohs(from->sin_port), sc_reject_name(rc));
		return;
	}
	n->st.in[n->msg.h.type]++;
	if ((ok = sender_ok(n, from, &n->msg)) < 0)
		return;
	if (ok == 0) {
		n->st.unexpected++;
		node_warn(n, "unexpected %s datagram from sender %u",
		    sc_type_name(n->msg.h.type), n->msg.h.sender);
		return;
	}
	if (is_client_request(n->msg.h.type) &&
	    !node_client_admit(n, from, wire_len, &n->msg))
		return;
	dispatch(n, from, &n->msg);
}

void
sc_node_tick(struct sc_node *n, int64_t now)
{
	n->now = now;
	node_view_tick(n);
	node_disk_tick(n);
	node_request_tick(n);
	node_repair_tick(n);
	node_query_tick(n);
}

void
sc_node_synced(struct sc_node *n, int64_t now, uint64_t ticket, int ok,
    int err)
{
	n->now = now;
	node_disk_synced(n, ticket, ok, err);
}

void
sc_node_flush(struct sc_node *n, int64_t now)
{
	n->now = now;
	node_stream_advance(n);
	node_query_wake(n);
	node_repair_report(n, 0);
	node_repair_announce(n);
	sc_outbox_flush(&n->out);
	node_disk_flush(n);
}

int64_t
sc_node_next_deadline(const struct sc_node *n)
{
	int64_t t = node_view_deadline(n);

	t = min_i64(t, node_repair_deadline(n));
	t = min_i64(t, node_request_deadline(n));
	t = min_i64(t, node_query_deadline(n));
	return min_i64(t, node_disk_deadline(n));
}

void
sc_node_info(const struct sc_node *n, struct sc_node_info *info)
{
	memset(info, 0, sizeof(*info));
	info->status = n->vw.status;
	info->role = n->vw.role;
	info->view = n->vw.view;
	info->coordinator = node_coordinator_of(n, n->vw.view);
	info->op = n->sm.log.op;
	info->durable = n->sm.durable;
	info->commit = n->sm.commit;
	info->applied = n->sm.log.applied;
	info->view_changes = n->vw.changes;
	info->disk_failed = n->dk.failed;
	info->stale = n->sm.stale;
}

void
sc_node_usage(const struct sc_node *n, struct sc_node_usage *u)
{
	memset(u, 0, sizeof(*u));
	u->pending = n->rq.pend.count;
	u->pending_cap = n->rq.pend.cap;
	u->held = n->sm.hold.count;
	u->held_cap = n->sm.hold.cap;
	u->gaps = n->rp.gaps.n;
	u->gaps_cap = n->rp.gaps.conf.max_ranges;
	u->waiting = n->out.nwait;
	u->waiting_cap = SC_WAITING_MAX;
	u->uncommitted = n->sm.log.op - n->sm.log.applied;
	u->uncommitted_cap = (uint64_t)n->conf->holdback_max +
	    SC_WAITING_MAX * (uint64_t)SC_BATCH_ITEMS;
}

int
sc_node_entry(struct sc_node *n, uint64_t id, struct sc_item *out)
{
	if (id == 0 || id > n->sm.log.applied)
		return -1;
	return sc_entries_get(&n->sm.log, id, out);
}

int
sc_node_held(struct sc_node *n, uint64_t id, struct sc_item *out)
{
	if (sc_entries_get(&n->sm.log, id, out) == -1)
		return -1;
	out->view = sc_entries_view_at(&n->sm.log, id);
	return 0;
}

void
sc_node_digest(const struct sc_node *n, char hex[33])
{
	sc_entries_digest(&n->sm.log, hex);
}
