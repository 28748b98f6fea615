/*
 * sim_net.c - the simulated network: every datagram is a packet in a
 * queue ordered by delivery time; the seed decides its delay, whether it
 * is lost or duplicated; partitions cut server pairs; a message type can
 * be lost entirely on the way to some servers. Multicast goes to every
 * server, the sender included (as IP_MULTICAST_LOOP does).
 */
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "sim.h"

int
sim_addr_server(const struct sim *s, const struct sockaddr_in *a)
{
	for (int i = 0; i < s->plan.nservers; i++) {
		const struct sockaddr_in *l = &s->conf.servers[i].listen;

		if (l->sin_addr.s_addr == a->sin_addr.s_addr &&
		    l->sin_port == a->sin_port)
			return i;
	}
	return -1;
}

static int
earlier(const struct sim_packet *a, const struct sim_packet *b)
{
	return a->when < b->when || (a->when == b->when && a->seq < b->seq);
}

static void
push(struct sim *s, struct sim_packet p)
{
	struct sim_net *n = &s->net;
	size_t i;

	if (n->len == n->cap) {
		n->cap = n->cap ? 2 * n->cap : 1024;
		n->q = realloc(n->q, n->cap * sizeof(*n->q));
		if (n->q == NULL)
			abort();
	}
	i = n->len++;
	n->q[i] = p;
	while (i > 0 && earlier(&n->q[i], &n->q[(i - 1) / 2])) {
		struct sim_packet t = n->q[i];

		n->q[i] = n->q[(i - 1) / 2];
		n->q[(i - 1) / 2] = t;
		i = (i - 1) / 2;
	}
}

/* A packet back into the queue, at its (new) time. */
void
sim_net_requeue(struct sim *s, const struct sim_packet *p)
{
	struct sim_packet q = *p;

	q.seq = s->net.seq++;
	push(s, q);
}

int
sim_net_pop(struct sim *s, struct sim_packet *out)
{
	struct sim_net *n = &s->net;
	size_t i = 0;

	if (n->len == 0)
		return 0;
	*out = n->q[0];
	n->q[0] = n->q[--n->len];
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;

		if (l < n->len && earlier(&n->q[l], &n->q[m]))
			m = l;
		if (r < n->len && earlier(&n->q[r], &n->q[m]))
			m = r;
		if (m == i)
			break;
		struct sim_packet t = n->q[i];

		n->q[i] = n->q[m];
		n->q[m] = t;
		i = m;
	}
	return 1;
}

int64_t
sim_net_next(const struct sim *s)
{
	return s->net.len ? s->net.q[0].when : INT64_MAX;
}

void
sim_net_free(struct sim *s)
{
	struct sim_packet p;

	while (sim_net_pop(s, &p))
		free(p.buf);
	free(s->net.q);
	memset(&s->net, 0, sizeof(s->net));
}

static void
deliver(struct sim *s, int dest, const struct sockaddr_in *from,
    const void *buf, size_t len, int copies)
{
	for (int c = 0; c < copies; c++) {
		struct sim_packet p;

		p.when = s->now + s->net.delay_min +
		    (s->net.jitter ? (int64_t)sim_below(s,
		    (uint64_t)s->net.jitter) : 0);
		if (s->net.late > 0 && sim_uniform(s) < s->net.late)
			p.when += 5000 + (int64_t)sim_below(s, 495000);
		p.seq = s->net.seq++;
		p.dest = dest;
		p.from = *from;
		p.len = len;
		p.buf = malloc(len ? len : 1);
		if (p.buf == NULL)
			abort();
		memcpy(p.buf, buf, len);
		push(s, p);
	}
}

/* The fate of one copy on its way from server (or client, -1) to dest. */
static int
copies_for(struct sim *s, int from_srv, int dest, int type)
{
	struct sim_net *n = &s->net;

	if (from_srv >= 0 && dest < SIM_SERVERS_MAX &&
	    (n->cut[from_srv] >> dest & 1))
		return 0;
	if (dest < SIM_SERVERS_MAX && type > 0 && type < SC_TYPE_COUNT &&
	    (n->lost_to[type] >> dest & 1))
		return 0;
	if (from_srv != dest && sim_uniform(s) < n->loss)
		return 0;
	return sim_uniform(s) < n->dup ? 2 : 1;
}

void
sim_net_send(struct sim *s, int from_srv, const struct sockaddr_in *from,
    const struct sockaddr_in *to, const void *buf, size_t len)
{
	int type = len > 5 ? ((const uint8_t *)buf)[5] : 0, k;

	s->net.sent++;
	if (to == NULL) {
		for (int d = 0; d < s->plan.nservers; d++) {
			k = copies_for(s, from_srv, d, type);
			if (k == 0)
				s->net.dropped++;
			else
				deliver(s, d, from, buf, len, k);
		}
		return;
	}
	k = sim_addr_server(s, to);
	if (k < 0) {
		int port = ntohs(to->sin_port) - SIM_CLIENT_PORT;

		if (port < 0 || port >= SIM_CLIENTS_MAX)
			return;
		k = SIM_SERVERS_MAX + port;
	}
	{
		int copies = copies_for(s, from_srv, k, type);

		if (copies == 0)
			s->net.dropped++;
		else
			deliver(s, k, from, buf, len, copies);
	}
}
