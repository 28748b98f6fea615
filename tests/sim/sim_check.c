/*
 * sim_check.c - the invariants. After every step of the world:
 *   - no two servers ever apply different entries at one id (each id's
 *     first applied entry is the truth; every other must equal it), ids
 *     applied contiguously, and an applied id is never unapplied;
 *   - an id is stamped with one entry only in a view, and only by the
 *     coordinator of that view ("an id the coordinator gave is never
 *     given again": a later view may reuse an id only if no majority
 *     held it, and then nothing acknowledged it);
 *   - with fsync = each nothing is announced (DATA, REPORT) before the
 *     sender's disk holds it synced;
 *   - an acknowledged id holds that very request;
 *   - tables stay within their caps.
 * At the end (after the faults stopped): the world converged within the
 * bound: every server in one view, the same entries applied (equal
 * digests), every request acknowledged, each on every server exactly
 * once at its acknowledged id.
 */
#include <stdlib.h>
#include <string.h>

#include "sim.h"

uint64_t
sim_hash(const uint8_t *v, uint32_t len, uint64_t client, uint64_t req)
{
	uint64_t h = 1469598103934665603ull ^ client * 0x9e3779b97f4a7c15ull;

	h = (h ^ req) * 1099511628211ull;
	for (uint32_t i = 0; i < len; i++)
		h = (h ^ v[i]) * 1099511628211ull;
	return (h ^ len) * 1099511628211ull;
}

static void
truth_check(struct sim *s, int srv, const struct sc_item *it)
{
	uint64_t h = sim_hash(it->value, it->len, it->client, it->req);

	if (it->id >= s->truth_cap) {
		uint64_t cap = s->truth_cap ? 2 * s->truth_cap : 4096;

		while (cap <= it->id)
			cap *= 2;
		s->truth = realloc(s->truth, cap * sizeof(*s->truth));
		if (s->truth == NULL)
			abort();
		memset(s->truth + s->truth_cap, 0,
		    (cap - s->truth_cap) * sizeof(*s->truth));
		s->truth_cap = cap;
	}
	if (s->truth[it->id].hash == 0) {
		s->truth[it->id].client = it->client;
		s->truth[it->id].req = it->req;
		s->truth[it->id].hash = h | 1;
		return;
	}
	if (s->truth[it->id].hash != (h | 1))
		sim_fail(s, "id %llu: server %d applied request %llx/%llu, "
		    "another server applied %llx/%llu there",
		    (unsigned long long)it->id, srv,
		    (unsigned long long)it->client,
		    (unsigned long long)it->req,
		    (unsigned long long)s->truth[it->id].client,
		    (unsigned long long)s->truth[it->id].req);
}

static void
check_caps(struct sim *s, int i)
{
	struct sc_node_usage u;

	sc_node_usage(s->srv[i].node, &u);
	if (u.pending > u.pending_cap || u.held > u.held_cap ||
	    u.gaps > u.gaps_cap || u.waiting > u.waiting_cap ||
	    u.uncommitted > u.uncommitted_cap)
		sim_fail(s, "server %d over a cap: pending %u/%u held %u/%u "
		    "gaps %u/%u waiting %u/%u uncommitted %llu/%llu", i,
		    u.pending, u.pending_cap, u.held, u.held_cap, u.gaps,
		    u.gaps_cap, u.waiting, u.waiting_cap,
		    (unsigned long long)u.uncommitted,
		    (unsigned long long)u.uncommitted_cap);
}

void
sim_check_step(struct sim *s)
{
	for (int i = 0; i < s->plan.nservers && !s->failed; i++) {
		struct sim_server *v = &s->srv[i];
		struct sc_node_info info;

		if (!v->alive)
			continue;
		sc_node_info(v->node, &info);
		if (info.view > s->views)
			s->views = info.view;
		if (info.applied < v->checked && s->plan.data_dir &&
		    s->plan.fsync == SC_FSYNC_EACH)
			sim_fail(s, "server %d: applied went back from %llu "
			    "to %llu", i, (unsigned long long)v->checked,
			    (unsigned long long)info.applied);
		if (info.applied < v->checked)
			v->checked = info.applied;
		for (uint64_t id = v->checked + 1; id <= info.applied; id++) {
			struct sc_item it;

			if (sc_node_entry(v->node, id, &it) == -1) {
				sim_fail(s, "server %d cannot read applied "
				    "entry %llu", i, (unsigned long long)id);
				return;
			}
			truth_check(s, i, &it);
		}
		v->checked = info.applied;
		check_caps(s, i);
	}
}

/* (view, id) -> hash: open addressing. */
static struct sim_stamp *
stamp_slot(struct sim *s, uint32_t view, uint64_t id)
{
	uint64_t mask, k;

	if (2 * (s->nstamps + 1) > s->stamps_cap) {
		struct sim_stamp *old = s->stamps;
		uint64_t oldcap = s->stamps_cap;

		s->stamps_cap = oldcap ? 2 * oldcap : 8192;
		s->stamps = calloc(s->stamps_cap, sizeof(*s->stamps));
		if (s->stamps == NULL)
			abort();
		s->nstamps = 0;
		for (uint64_t i = 0; i < oldcap; i++)
			if (old[i].id != 0) {
				struct sim_stamp *p = stamp_slot(s,
				    old[i].view, old[i].id);

				*p = old[i];
				s->nstamps++;
			}
		free(old);
	}
	mask = s->stamps_cap - 1;
	k = (id * 0x9e3779b97f4a7c15ull ^ view) & mask;
	while (s->stamps[k].id != 0 &&
	    (s->stamps[k].id != id || s->stamps[k].view != view))
		k = (k + 1) & mask;
	return &s->stamps[k];
}

static void
check_stamps(struct sim *s, int srv, const struct sc_msg *m)
{
	uint32_t coord = (s->conf.coordinator + m->h.view) %
	    (uint32_t)s->plan.nservers;

	if ((uint32_t)srv != coord) {
		sim_fail(s, "server %d sent DATA in view %u, whose coordinator "
		    "is %u", srv, m->h.view, coord);
		return;
	}
	for (uint32_t i = 0; i < m->count; i++) {
		const struct sc_item *it = &m->items[i];
		uint64_t h = sim_hash(it->value, it->len, it->client, it->req);
		struct sim_stamp *p = stamp_slot(s, m->h.view, it->id);

		if (p->id == 0) {
			p->id = it->id;
			p->view = m->h.view;
			p->hash = h;
			s->nstamps++;
		} else if (p->hash != h) {
			sim_fail(s, "view %u: id %llu stamped twice, with "
			    "request %llx/%llu the second time", m->h.view,
			    (unsigned long long)it->id,
			    (unsigned long long)it->client,
			    (unsigned long long)it->req);
		}
	}
}

/* What a server announces must be on its disk, synced (fsync = each). */
static void
check_durable(struct sim *s, int srv, uint64_t id, const char *what)
{
	uint64_t d;

	if (!s->plan.data_dir || s->plan.fsync != SC_FSYNC_EACH)
		return;
	d = sim_disk_durable_id(&s->srv[srv]);
	if (id > d)
		sim_fail(s, "server %d announced %s up to %llu with only %llu "
		    "synced", srv, what, (unsigned long long)id,
		    (unsigned long long)d);
}

void
sim_check_sent(struct sim *s, int srv, const void *buf, size_t len)
{
	static struct sc_decoder *dec;
	struct sc_msg m;

	if (dec == NULL && (dec = sc_decoder_new()) == NULL)
		abort();
	if (len < SC_HEADER_LEN)
		return;
	if (((const uint8_t *)buf)[5] != SC_DATA &&
	    ((const uint8_t *)buf)[5] != SC_REPORT)
		return;
	if (sc_decode(dec, buf, len, s->conf.cluster_id, &m) != SC_REJ_NONE) {
		sim_fail(s, "server %d sent an undecodable datagram", srv);
		return;
	}
	if (m.h.type == SC_DATA) {
		check_stamps(s, srv, &m);
		if (m.count > 0)
			check_durable(s, srv, m.items[m.count - 1].id, "DATA");
	} else {
		check_durable(s, srv, m.a, "a REPORT");
	}
}

/* A page of a server's log, as a client got it: ids one after the
 * other from the first asked, each entry the truth. */
void
sim_check_page(struct sim *s, int srv, const struct sc_msg *m)
{
	for (uint32_t i = 0; i < m->count && !s->failed; i++) {
		if (m->items[i].id != m->b + i) {
			sim_fail(s, "server %d: a log page from %llu holds id "
			    "%llu at %u", srv, (unsigned long long)m->b,
			    (unsigned long long)m->items[i].id, i);
			return;
		}
		truth_check(s, srv, &m->items[i]);
	}
}

/* The client at address a, or NULL (a server's address). */
static struct sim_client *
client_at(struct sim *s, const struct sockaddr_in *a)
{
	int k;

	if (a == NULL || sim_addr_server(s, a) >= 0)
		return NULL;
	k = ntohs(a->sin_port) - SIM_CLIENT_PORT;
	return k >= 0 && k < s->plan.nclients ? &s->cli[k] : NULL;
}

/* What a server received from a client (as it reached the server). */
void
sim_check_request(struct sim *s, int srv, const struct sockaddr_in *from,
    size_t len)
{
	struct sim_client *c = client_at(s, from);

	if (c != NULL)
		c->bytes_to[srv] += len;
}

/* No server sends a client that never showed a cookie more than three
 * times what it received from that client (the anti-amplification
 * rule). */
void
sim_check_reply(struct sim *s, int srv, const struct sockaddr_in *to,
    size_t len)
{
	struct sim_client *c = client_at(s, to);
	int k;

	if (c == NULL)
		return;
	k = c->idx;
	c->bytes_from[srv] += len;
	if (!c->cookies && c->bytes_from[srv] > 3 * c->bytes_to[srv])
		sim_fail(s, "server %d sent client %d (no cookie) %llu bytes "
		    "for its %llu", srv, k,
		    (unsigned long long)c->bytes_from[srv],
		    (unsigned long long)c->bytes_to[srv]);
}

void
sim_check_acked(struct sim *s, uint64_t client, uint64_t req, uint64_t id)
{
	if (id == 0 || id >= s->truth_cap || s->truth[id].hash == 0) {
		sim_fail(s, "request %llx/%llu acknowledged as %llu, which no "
		    "server applied", (unsigned long long)client,
		    (unsigned long long)req, (unsigned long long)id);
		return;
	}
	if (s->truth[id].client != client || s->truth[id].req != req)
		sim_fail(s, "request %llx/%llu acknowledged as %llu, which "
		    "holds %llx/%llu", (unsigned long long)client,
		    (unsigned long long)req, (unsigned long long)id,
		    (unsigned long long)s->truth[id].client,
		    (unsigned long long)s->truth[id].req);
}

int
sim_converged(struct sim *s)
{
	struct sc_node_info a, b;
	char d0[33], d[33];

	for (int i = 0; i < s->plan.nclients; i++)
		if (s->cli[i].acked < s->cli[i].total)
			return 0;
	for (int i = 0; i < s->plan.nservers; i++)
		if (!s->srv[i].alive)
			return 0;
	sc_node_info(s->srv[0].node, &a);
	sc_node_digest(s->srv[0].node, d0);
	for (int i = 0; i < s->plan.nservers; i++) {
		sc_node_info(s->srv[i].node, &b);
		sc_node_digest(s->srv[i].node, d);
		if (b.status != SC_NODE_NORMAL || b.view != a.view ||
		    b.applied != a.applied || b.op != b.applied ||
		    strcmp(d, d0) != 0)
			return 0;
	}
	return 1;
}

/* Every acknowledged request on every server once, at its id; no
 * request twice in any log. */
void
sim_check_end(struct sim *s)
{
	for (int i = 0; i < s->plan.nservers && !s->failed; i++) {
		struct sc_node *n = s->srv[i].node;
		struct sc_node_info info;
		static uint8_t seen[SIM_CLIENTS_MAX][SIM_REQS_MAX + 1];

		memset(seen, 0, sizeof(seen));
		sc_node_info(n, &info);
		for (uint64_t id = 1; id <= info.applied; id++) {
			struct sc_item it;
			int c = -1;

			if (sc_node_entry(n, id, &it) == -1) {
				sim_fail(s, "server %d: entry %llu unreadable",
				    i, (unsigned long long)id);
				return;
			}
			for (int k = 0; k < s->plan.nclients; k++)
				if (s->cli[k].client_id == it.client)
					c = k;
			if (c < 0 || it.req == 0 || it.req > SIM_REQS_MAX) {
				sim_fail(s, "server %d: entry %llu is no "
				    "client's request", i,
				    (unsigned long long)id);
				return;
			}
			if (seen[c][it.req]++) {
				sim_fail(s, "server %d: request %llx/%llu twice "
				    "in the log (again at %llu)", i,
				    (unsigned long long)it.client,
				    (unsigned long long)it.req,
				    (unsigned long long)id);
				return;
			}
		}
		for (int c = 0; c < s->plan.nclients; c++)
			for (uint32_t r = 1; r <= s->cli[c].total; r++) {
				uint64_t qid = s->cli[c].id[r];
				struct sc_item it;
				uint8_t v[64];
				uint32_t len;

				if (qid == 0)
					continue;
				sim_client_value(s->cli[c].client_id, r, v,
				    &len);
				if (sc_node_entry(n, qid, &it) == -1 ||
				    it.client != s->cli[c].client_id ||
				    it.req != r || it.len != len ||
				    memcmp(it.value, v, len) != 0) {
					sim_fail(s, "server %d: request %llx/%u "
					    "acknowledged as %llu is not there",
					    i, (unsigned long long)
					    s->cli[c].client_id, r,
					    (unsigned long long)qid);
					return;
				}
			}
	}
}
