/*
 * sim_client.c - simulated clients: each adds its requests through one
 * server with a window of requests in flight, resends what is not
 * acknowledged (the retry policy of `seqcast add`), moves to another
 * server when its own is silent or answers UNAVAILABLE, and records
 * every acknowledged id for the checks.
 */
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "sim.h"

#define RTO_MIN 20000
#define RTO_MAX 1000000

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

void
sim_client_init(struct sim *s, struct sim_client *c, int idx)
{
	memset(c, 0, sizeof(*c));
	c->idx = idx;
	c->client_id = 0x1000 + (uint64_t)idx * 0x10001 + s->seed % 997;
	c->target = (int)sim_below(s, (uint64_t)s->plan.nservers);
	c->total = s->plan.reqs > SIM_REQS_MAX ? SIM_REQS_MAX : s->plan.reqs;
	c->next = 1;
	c->lo = 1;
	c->window = 1 + (uint32_t)sim_below(s, 24);
	c->start = 30000 + (int64_t)sim_below(s, 300000);
	c->rto = RTO_MIN;
	c->dec = sc_decoder_new();
	if (c->dec == NULL)
		abort();
}

void
sim_client_free(struct sim_client *c)
{
	if (c->dec != NULL)
		sc_decoder_free(c->dec);
	c->dec = NULL;
}

/* Send the requests in items (one ADD datagram). */
static void
send_add(struct sim *s, struct sim_client *c, struct sc_item *items,
    uint32_t n)
{
	uint8_t buf[SC_DATAGRAM_MAX];
	struct sockaddr_in from = client_addr(c->idx);
	struct sc_msg m;
	long len;

	if (n == 0)
		return;
	memset(&m, 0, sizeof(m));
	m.h.magic = SC_MAGIC;
	m.h.version = SC_VERSION;
	m.h.type = SC_ADD;
	m.h.sender = SC_SENDER_CLIENT;
	m.count = n;
	m.items = items;
	len = sc_encode(&m, buf, sizeof(buf));
	if (len < 0)
		abort();
	sim_net_send(s, -1, &from, &s->conf.servers[c->target].listen, buf,
	    (size_t)len);
}

/* Another server: the one we talk to says it cannot help, or is silent. */
static void
rotate(struct sim *s, struct sim_client *c)
{
	c->target = (c->target + 1) % s->plan.nservers;
	c->silent = 0;
	sim_trace(s, "c%d: now through s%d", c->idx, c->target);
}

void
sim_client_tick(struct sim *s, struct sim_client *c)
{
	static uint8_t vals[64][48];
	struct sc_item items[64];
	uint32_t n = 0;

	while (c->lo < c->next && c->req[c->lo].state == 2)
		c->lo++;
	for (uint32_t r = c->lo; r < c->next && n < 64; r++) {
		struct sim_req *q = &c->req[r];

		if (q->state != 1 || q->due > s->now)
			continue;
		/* A request unanswered: resend, with backoff. */
		if (++q->tries > 1 && ++c->silent >= 3 * c->window)
			rotate(s, c);
		q->due = s->now + (c->rto << (q->tries < 6 ? q->tries : 6));
		if (q->due - s->now > RTO_MAX)
			q->due = s->now + RTO_MAX;
		memset(&items[n], 0, sizeof(items[n]));
		items[n].client = c->client_id;
		items[n].req = r;
		sim_client_value(c->client_id, r, vals[n], &items[n].len);
		items[n].value = vals[n];
		n++;
	}
	while (s->now >= c->start && c->next <= c->total &&
	    c->next - 1 - c->acked < c->window && n < 64) {
		struct sim_req *q = &c->req[c->next];

		q->state = 1;
		q->sent = s->now;
		q->due = s->now + c->rto;
		memset(&items[n], 0, sizeof(items[n]));
		items[n].client = c->client_id;
		items[n].req = c->next;
		sim_client_value(c->client_id, c->next, vals[n],
		    &items[n].len);
		items[n].value = vals[n];
		n++;
		c->next++;
	}
	send_add(s, c, items, n);
}

void
sim_client_receive(struct sim *s, struct sim_client *c, const void *buf,
    size_t len)
{
	struct sc_msg m;

	if (sc_decode(c->dec, buf, len, s->conf.cluster_id, &m) !=
	    SC_REJ_NONE || m.h.type != SC_ACK)
		return;
	for (uint32_t i = 0; i < m.count; i++) {
		const struct sc_item *it = &m.items[i];
		struct sim_req *q;

		if (it->client != c->client_id || it->req == 0 ||
		    it->req >= c->next)
			continue;
		q = &c->req[it->req];
		c->silent = 0;
		if (it->status == SC_OK) {
			sim_check_acked(s, c->client_id, it->req, it->id);
			if (q->state == 2) {
				if (q->id != it->id)
					sim_fail(s, "client %llx request %llu "
					    "acked as %llu and as %llu",
					    (unsigned long long)c->client_id,
					    (unsigned long long)it->req,
					    (unsigned long long)q->id,
					    (unsigned long long)it->id);
				continue;
			}
			q->state = 2;
			q->id = it->id;
			c->acked++;
			if (q->tries == 0 && s->now > q->sent) {
				int64_t rtt = s->now - q->sent;

				c->rto = 2 * rtt > RTO_MIN ? 2 * rtt : RTO_MIN;
			}
		} else if (it->status == SC_ERR_UNAVAILABLE) {
			rotate(s, c);
			q->due = s->now + c->rto;
		} else if (it->status == SC_ERR_BUSY) {
			q->due = s->now + 2 * c->rto;
		} else {
			sim_fail(s, "client %llx: status %d",
			    (unsigned long long)c->client_id, it->status);
		}
	}
	/* Room in the window: send more now. */
	if (c->next <= c->total && c->next - 1 - c->acked < c->window)
		sim_client_tick(s, c);
}

int64_t
sim_client_deadline(const struct sim_client *c)
{
	int64_t t = INT64_MAX;

	if (c->next <= c->total && c->next - 1 - c->acked < c->window)
		t = c->start;
	for (uint32_t r = c->lo; r < c->next; r++)
		if (c->req[r].state == 1 && c->req[r].due < t)
			t = c->req[r].due;
	return t;
}
