/*
 * sim_client.c - simulated clients: each adds its requests with a window
 * of them in flight, through the resend policy and the choice of server
 * that `seqcast add` itself uses (resend.h, choice.h: the same code, with
 * the simulated clock), listing every server as `--server` would. It
 * records every acknowledged id for the checks.
 */
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "sim.h"

#define BATCH 64

void
sim_client_value(uint64_t client, uint64_t req, uint8_t *buf, uint32_t *len)
{
	*len = (uint32_t)((client * 31 + req * 17) % 48);
	for (uint32_t i = 0; i < *len; i++)
		buf[i] = (uint8_t)(client * 7 + req * 13 + i);
}

static struct sockaddr_in
client_addr(int idx)
{
	struct sockaddr_in a;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(0x7f010001 + (uint32_t)idx);
	a.sin_port = htons((uint16_t)(SIM_CLIENT_PORT + idx));
	return a;
}

static int
target(const struct sim *s, const struct sim_client *c)
{
	return (int)((c->first + c->choice.current) % (uint32_t)s->plan.nservers);
}

void
sim_client_init(struct sim *s, struct sim_client *c, int idx)
{
	struct sc_resend_conf rc;

	memset(c, 0, sizeof(*c));
	c->idx = idx;
	c->client_id = 0x1000 + (uint64_t)idx * 0x10001 + s->seed % 997;
	c->first = (int)sim_below(s, (uint64_t)s->plan.nservers);
	c->total = s->plan.reqs > SIM_REQS_MAX ? SIM_REQS_MAX : s->plan.reqs;
	c->next = 1;
	c->window = 1 + (uint32_t)sim_below(s, 24);
	c->start = 30000 + (int64_t)sim_below(s, 300000);
	/* One client in four never echoes a cookie: its address is never
	 * verified, and the checks hold the servers to their budget. */
	c->cookies = (s->seed + (uint64_t)idx) % 4 != 0;
	sc_resend_defaults(&rc);
	if (sc_resend_init(&c->resend, &rc) == -1)
		abort();
	sc_choice_init(&c->choice, (uint32_t)s->plan.nservers, INT64_MAX / 4,
	    0);
	c->dec = sc_decoder_new();
	if (c->dec == NULL)
		abort();
}

void
sim_client_free(struct sim_client *c)
{
	sc_resend_free(&c->resend);
	if (c->dec != NULL)
		sc_decoder_free(c->dec);
	c->dec = NULL;
}

/* A request to the current server, with its cookie if this client
 * keeps them. */
static void
client_msg(const struct sim *s, const struct sim_client *c, struct sc_msg *m,
    int type)
{
	memset(m, 0, sizeof(*m));
	m->h.magic = SC_MAGIC;
	m->h.version = SC_VERSION;
	m->h.type = (uint8_t)type;
	m->h.sender = SC_SENDER_CLIENT;
	m->a = c->cookies ? c->cookie[target(s, c)] : 0;
}

static void
client_send(struct sim *s, struct sim_client *c, const struct sc_msg *m)
{
	uint8_t buf[SC_DATAGRAM_MAX];
	struct sockaddr_in from = client_addr(c->idx);
	long len = sc_encode(m, buf, sizeof(buf));

	if (len < 0)
		abort();
	sim_net_send(s, -1, &from, &s->conf.servers[target(s, c)].listen, buf,
	    (size_t)len);
}

/* Now and then a log or stats request, as `seqcast log`, `stats` and
 * `wait` send them: a page from somewhere in the log, a long poll past
 * the highest id this client knows of, a page of the stats. The answers
 * are held to the budget (sim_check_reply) and the pages checked. */
static void
send_query(struct sim *s, struct sim_client *c)
{
	struct sc_msg m;

	switch (c->queries++ % 4) {
	case 0:
	case 1:
		client_msg(s, c, &m, SC_LOG_REQ);
		m.b = 1 + (c->queries * 37ull) % (c->highest + 1);
		break;
	case 2:
		client_msg(s, c, &m, SC_LOG_REQ);
		m.b = c->highest + 1;
		m.d = 50;
		break;
	default:
		client_msg(s, c, &m, SC_STATS_REQ);
		m.b = c->client_id;
		m.c = (c->queries * 101ull) % 2000;
		break;
	}
	client_send(s, c, &m);
}

/* One ADD datagram with requests reqs[0..n). */
static void
send_add(struct sim *s, struct sim_client *c, const uint64_t *reqs,
    uint32_t n)
{
	static uint8_t vals[BATCH][48];
	struct sc_item items[BATCH];
	struct sc_msg m;

	if (n == 0)
		return;
	client_msg(s, c, &m, SC_ADD);
	memset(items, 0, sizeof(items));
	for (uint32_t i = 0; i < n; i++) {
		items[i].client = c->client_id;
		items[i].req = reqs[i];
		sim_client_value(c->client_id, reqs[i], vals[i], &items[i].len);
		items[i].value = vals[i];
	}
	m.count = n;
	m.items = items;
	client_send(s, c, &m);
}

/* The server failed us (silent, unavailable): maybe another. */
static void
failed(struct sim *s, struct sim_client *c, enum sc_choice_why why)
{
	int before = target(s, c);

	if (sc_choice_failed(&c->choice, why) == SC_CHOICE_SWITCH)
		sc_resend_restart(&c->resend, s->now);
	if (target(s, c) != before)
		sim_trace(s, "c%d: %s s%d, now through s%d", c->idx,
		    sc_choice_why_name(why), before, target(s, c));
}

void
sim_client_tick(struct sim *s, struct sim_client *c)
{
	uint64_t reqs[BATCH];
	uint32_t n;

	if (sc_resend_silent(&c->resend))
		failed(s, c, SC_CHOICE_SILENT);
	if (c->acked < c->total && s->now >= c->start &&
	    s->now >= c->next_query) {
		send_query(s, c);
		c->next_query = s->now + 20000 + 1000 * (int64_t)c->idx;
	}
	while ((n = sc_resend_due(&c->resend, s->now, reqs, BATCH)) > 0) {
		send_add(s, c, reqs, n);
		if (n < BATCH)
			break;
	}
	n = 0;
	while (s->now >= c->start && c->next <= c->total &&
	    sc_resend_outstanding(&c->resend) < c->window &&
	    sc_resend_room(&c->resend) && n < BATCH) {
		if (sc_resend_sent(&c->resend, c->next, s->now) == -1)
			abort();
		reqs[n++] = c->next++;
		if (c->next > c->total)
			sc_resend_input_done(&c->resend);
	}
	send_add(s, c, reqs, n);
}

void
sim_client_receive(struct sim *s, struct sim_client *c, const void *buf,
    size_t len)
{
	int unavailable = 0;
	struct sc_msg m;

	if (sc_decode(c->dec, buf, len, s->conf.cluster_id, &m) !=
	    SC_REJ_NONE)
		return;
	if (m.h.type == SC_COOKIE && m.h.sender < SIM_SERVERS_MAX &&
	    m.b == c->client_id) {
		c->cookie[m.h.sender] = m.a;
		return;
	}
	if (m.h.type == SC_LOG_REPLY && m.h.sender < SIM_SERVERS_MAX) {
		sim_check_page(s, (int)m.h.sender, &m);
		c->pages += m.count;
		return;
	}
	if (m.h.type != SC_ACK)
		return;
	for (uint32_t i = 0; i < m.count; i++) {
		const struct sc_item *it = &m.items[i];

		if (it->client != c->client_id || it->req == 0 ||
		    it->req >= c->next)
			continue;
		if (it->status == SC_OK) {
			sim_check_acked(s, c->client_id, it->req, it->id);
			if (c->id[it->req] != 0 && c->id[it->req] != it->id)
				sim_fail(s, "client %llx request %llu acked "
				    "as %llu and as %llu",
				    (unsigned long long)c->client_id,
				    (unsigned long long)it->req,
				    (unsigned long long)c->id[it->req],
				    (unsigned long long)it->id);
			if (sc_resend_acked(&c->resend, it->req, s->now,
			    NULL)) {
				c->id[it->req] = it->id;
				c->acked++;
			}
			if (it->id > c->highest)
				c->highest = it->id;
			sc_choice_progress(&c->choice, s->now);
		} else if (it->status == SC_ERR_BUSY) {
			sc_resend_busy(&c->resend, it->req, s->now);
			sc_choice_progress(&c->choice, s->now);
		} else if (it->status == SC_ERR_UNAVAILABLE) {
			sc_resend_busy(&c->resend, it->req, s->now);
			unavailable = 1;
		} else {
			sim_fail(s, "client %llx: status %d",
			    (unsigned long long)c->client_id, it->status);
		}
	}
	if (unavailable)
		failed(s, c, SC_CHOICE_UNAVAILABLE);
	sim_client_tick(s, c);
}

int64_t
sim_client_deadline(const struct sim_client *c)
{
	int64_t t = sc_resend_next_deadline(&c->resend);

	if (c->next <= c->total &&
	    sc_resend_outstanding(&c->resend) < c->window && c->start < t)
		t = c->start;
	if (c->acked < c->total) {
		int64_t q = c->next_query > c->start ? c->next_query :
		    c->start;

		if (q < t)
			t = q;
	}
	return t;
}
