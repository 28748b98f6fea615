/*
 * node_out.c - the node's output side: batches that fill a datagram to the
 * byte, the send path with outgoing fault injection, and the queue of
 * datagrams that fault injection delays or reorders (both directions).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seqcast/log.h"
#include "node_priv.h"

void
node_header(const struct sc_node *n, struct sc_msg *m, int type)
{
	memset(m, 0, sizeof(*m));
	m->h.magic = SC_MAGIC;
	m->h.version = SC_VERSION;
	m->h.type = (uint8_t)type;
	m->h.cluster = n->conf->cluster_id;
	m->h.sender = n->id;
	m->h.epoch = 0;
}

static void
node_deliver(struct sc_node *n, int type, const struct sockaddr_in *to,
    const void *buf, size_t len)
{
	if (n->auth.on) {
		long sealed;

		memcpy(n->sealed, buf, len);
		sealed = sc_auth_seal(&n->auth, n->sealed, len,
		    sizeof(n->sealed), n->now);
		if (sealed < 0)
			return;
		buf = n->sealed;
		len = (size_t)sealed;
	}
	n->st.out[type]++;
	n->st.bytes_out += len;
	n->send(n->send_ctx, to, buf, len);
}

/* Keep a datagram that fault injection reorders (HOLD) or delays (DELAY):
 * 1 if kept, 0 if it goes on now (other actions, or the queue is full). */
static int
node_delay(struct sc_node *n, enum sc_fault_action act, int dir, int type,
    const struct sockaddr_in *addr, const void *buf, size_t len)
{
	struct sc_delayed *d;

	if ((act != SC_FAULT_HOLD && act != SC_FAULT_DELAY) ||
	    n->ndelayed == SC_DELAYED_MAX)
		return 0;
	d = &n->delayed[n->ndelayed];
	d->buf = malloc(len);
	if (d->buf == NULL)
		return 0;
	memcpy(d->buf, buf, len);
	d->len = len;
	d->held = (act == SC_FAULT_HOLD);
	d->when = n->now + (d->held ? SC_HOLD_MAX_US :
	    ms_to_us(n->fault.conf.delay_ms));
	d->dir = dir;
	d->type = type;
	d->to_group = (addr == NULL);
	if (addr != NULL)
		d->addr = *addr;
	n->ndelayed++;
	return 1;
}

void
node_send_raw(struct sc_node *n, int type, uint64_t first_id,
    const struct sockaddr_in *to, const void *buf, size_t len)
{
	enum sc_fault_action act = SC_FAULT_PASS;

	if (n->faulty)
		act = sc_fault_decide(&n->fault, SC_OUT, type, first_id);
	if (act == SC_FAULT_DROP || node_delay(n, act, SC_OUT, type, to, buf,
	    len))
		return;
	if (act == SC_FAULT_DUP)
		node_deliver(n, type, to, buf, len);
	node_deliver(n, type, to, buf, len);
	if (n->ndelayed > 0)
		node_release_delayed(n, 0, SC_OUT, 1);
}

uint64_t
msg_first_id(const struct sc_msg *m)
{
	if ((m->h.type == SC_DATA || m->h.type == SC_RETX) && m->count > 0)
		return m->items[0].id;
	return 0;
}

void
node_send_msg(struct sc_node *n, const struct sc_msg *m,
    const struct sockaddr_in *to, size_t cap)
{
	long len;

	if (cap > sizeof(n->tx))
		cap = sizeof(n->tx);
	len = sc_encode(m, n->tx, cap);
	if (len < 0) {
		sc_warn("cannot encode a %s message (%u items)",
		    sc_type_name(m->h.type), m->count);
		return;
	}
	node_send_raw(n, m->h.type, msg_first_id(m), to, n->tx, (size_t)len);
}

/* Send what waited for the log: one write (and fdatasync) first. */
static void
outq_release(struct sc_node *n)
{
	if (n->noutq == 0)
		return;
	node_make_durable(n);
	for (uint32_t i = 0; i < n->noutq; i++) {
		struct sc_outq_item *q = &n->outq[i];

		node_send_raw(n, q->type, q->first_id, q->to_group ? NULL :
		    &q->to, n->outq_buf + q->off, q->len);
	}
	n->noutq = 0;
}

/* Queue an encoded DATA or ACK datagram until the log has its entries. */
static void
outq_put(struct sc_node *n, const struct sc_msg *m,
    const struct sockaddr_in *to)
{
	struct sc_outq_item *q;
	long len;

	if (n->noutq == SC_OUTQ_MAX)
		outq_release(n);
	q = &n->outq[n->noutq];
	q->off = (size_t)n->noutq * SC_DATAGRAM_MAX;
	len = sc_encode(m, n->outq_buf + q->off, n->dgram_max);
	if (len < 0)
		return;
	q->len = (size_t)len;
	q->type = m->h.type;
	q->to_group = (to == NULL);
	if (to != NULL)
		q->to = *to;
	q->first_id = msg_first_id(m);
	n->noutq++;
}

static void
batch_flush(struct sc_node *n, struct sc_batch *b)
{
	struct sc_msg m;

	if (b->type == 0)
		return;
	if (b->count > 0) {
		node_header(n, &m, b->type);
		m.a = b->a;
		if (b->type == SC_DATA)
			m.a = b->items[b->count - 1].id;
		m.count = b->count;
		m.items = b->items;
		/* Nothing is announced (DATA) or acknowledged (ACK) before
		 * it is as durable as the fsync policy promises: with a log
		 * file these wait for the end of the pass (group commit). */
		if (n->outq_buf != NULL &&
		    (b->type == SC_DATA || b->type == SC_ACK))
			outq_put(n, &m, b->to_group ? NULL : &b->to);
		else
			node_send_msg(n, &m, b->to_group ? NULL : &b->to,
			    n->dgram_max);
		if (b->type == SC_FWD)
			n->fwd_dgrams++;
	}
	b->type = 0;
	b->count = 0;
}

void
sc_node_flush(struct sc_node *n)
{
	for (int i = 0; i < SC_BATCHES; i++)
		batch_flush(n, &n->batch[i]);
	outq_release(n);
}

static int
same_dest(const struct sc_batch *b, const struct sockaddr_in *to)
{
	if (to == NULL)
		return b->to_group;
	return !b->to_group && b->to.sin_addr.s_addr == to->sin_addr.s_addr &&
	    b->to.sin_port == to->sin_port;
}

static struct sc_batch *
batch_find(struct sc_node *n, int type, const struct sockaddr_in *to)
{
	struct sc_batch *free_b = NULL, *b;
	int i;

	for (i = 0; i < SC_BATCHES; i++) {
		b = &n->batch[i];
		if (b->type == type && same_dest(b, to))
			return b;
		if (b->type == 0 && free_b == NULL)
			free_b = b;
	}
	if (free_b == NULL) {
		/* Every batch is open: send one to make room. */
		free_b = &n->batch[0];
		batch_flush(n, free_b);
	}
	free_b->type = type;
	free_b->to_group = (to == NULL);
	if (to != NULL)
		free_b->to = *to;
	free_b->count = 0;
	free_b->arena_len = 0;
	free_b->size = sc_encoded_size(type, NULL, 0);
	return free_b;
}

static int
carries_value(int type)
{
	return type == SC_ADD || type == SC_FWD || type == SC_DATA ||
	    type == SC_RETX || type == SC_LOG_REPLY;
}

void
node_batch_add(struct sc_node *n, int type, const struct sockaddr_in *to,
    const struct sc_item *it, uint64_t a)
{
	struct sc_batch *b = batch_find(n, type, to);
	size_t isz = sc_item_size(type, it);
	struct sc_item *dst;

	if (b->count == SC_BATCH_ITEMS || b->size + isz > n->dgram_max) {
		batch_flush(n, b);
		b = batch_find(n, type, to);
	}
	dst = &b->items[b->count++];
	*dst = *it;
	if (!carries_value(type)) {
		dst->value = NULL;
		dst->len = 0;
	} else if (it->len > 0 && it->value != NULL) {
		memcpy(b->arena + b->arena_len, it->value, it->len);
		dst->value = b->arena + b->arena_len;
		b->arena_len += it->len;
	}
	b->size += isz;
	b->a = a;
}

/*
 * Incoming fault injection. Returns 1 if the caller should handle the
 * datagram now (*twice: handle it twice), 0 if it was dropped or kept.
 */
int
node_fault_in(struct sc_node *n, const struct sockaddr_in *from,
    const void *buf, size_t len, int type, uint64_t first_id, int *twice)
{
	enum sc_fault_action act;

	act = sc_fault_decide(&n->fault, SC_IN, type, first_id);
	*twice = (act == SC_FAULT_DUP);
	return act != SC_FAULT_DROP &&
	    !node_delay(n, act, SC_IN, type, from, buf, len);
}

/*
 * Release delayed datagrams of direction dir: those due at now, or with
 * held_only, every reordered one (a datagram has just passed them).
 */
void
node_release_delayed(struct sc_node *n, int64_t now, int dir, int held_only)
{
	uint32_t i = 0;

	while (i < n->ndelayed) {
		struct sc_delayed d = n->delayed[i];
		int go = held_only ? d.held : (d.when <= now);

		if (d.dir != dir || !go) {
			i++;
			continue;
		}
		n->delayed[i] = n->delayed[--n->ndelayed];
		if (dir == SC_OUT)
			node_deliver(n, d.type, d.to_group ? NULL : &d.addr,
			    d.buf, d.len);
		else if (node_decode(n, d.buf, d.len) == SC_REJ_NONE)
			node_handle(n, now, &d.addr, &n->msg);
		free(d.buf);
		/* Restart: handling may have changed the queue. */
		i = 0;
	}
}

int64_t
node_delayed_deadline(const struct sc_node *n)
{
	int64_t t = INT64_MAX;

	for (uint32_t i = 0; i < n->ndelayed; i++)
		if (n->delayed[i].when < t)
			t = n->delayed[i].when;
	return t;
}

void
node_delayed_free(struct sc_node *n)
{
	for (uint32_t i = 0; i < n->ndelayed; i++)
		free(n->delayed[i].buf);
	n->ndelayed = 0;
}

void
node_warn(struct sc_node *n, int64_t now, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	/* At most one warning a second: a flood of bad datagrams must not
	 * become a flood of log lines. */
	if (now < n->log_next) {
		n->st.log_suppressed++;
		return;
	}
	n->log_next = now + 1000000;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n->st.log_suppressed > 0)
		sc_warn("%s (%llu similar lines suppressed)", line,
		    (unsigned long long)n->st.log_suppressed);
	else
		sc_warn("%s", line);
	n->st.log_suppressed = 0;
}
