/*
 * outbox.c - batches filled to the byte, and datagrams held until the
 * log records they announce are durable.
 */
#include <stdlib.h>
#include <string.h>

#include "seqcast/outbox.h"

int
sc_outbox_init(struct sc_outbox *o, const struct sc_header *hdr,
    size_t dgram_max, sc_outbox_send_fn send, sc_outbox_fill_fn fill,
    void *ctx)
{
	memset(o, 0, sizeof(*o));
	o->hdr = hdr;
	o->dgram_max = dgram_max > SC_SEND_MAX ? SC_SEND_MAX : dgram_max;
	o->send = send;
	o->fill = fill;
	o->ctx = ctx;
	for (int i = 0; i < SC_BATCHES; i++) {
		o->batch[i].arena = malloc(o->dgram_max);
		if (o->batch[i].arena == NULL)
			goto fail;
	}
	o->wait_buf = malloc((size_t)SC_WAITING_MAX * o->dgram_max);
	if (o->wait_buf == NULL)
		goto fail;
	return 0;
fail:
	sc_outbox_free(o);
	return -1;
}

void
sc_outbox_free(struct sc_outbox *o)
{
	for (int i = 0; i < SC_BATCHES; i++) {
		free(o->batch[i].arena);
		o->batch[i].arena = NULL;
	}
	free(o->wait_buf);
	o->wait_buf = NULL;
}

static void
deliver(struct sc_outbox *o, int type, const struct sockaddr_in *to,
    const void *buf, size_t len)
{
	o->dgrams[type]++;
	o->send(o->ctx, type, to, buf, len);
}

static void
send_waiting(struct sc_outbox *o)
{
	uint32_t i, kept = 0;

	for (i = 0; i < o->nwait; i++) {
		struct sc_waiting *w = &o->wait[i];

		if (w->ticket > o->durable) {
			o->wait[kept++] = *w;
			continue;
		}
		deliver(o, w->type, w->to_group ? NULL : &w->to,
		    o->wait_buf + w->off, w->len);
	}
	o->nwait = kept;
	if (kept == 0)
		o->wait_used = 0;
}

/* Move the waiting datagrams to the front of wait_buf. */
static void
wait_compact(struct sc_outbox *o)
{
	size_t used = 0;

	for (uint32_t i = 0; i < o->nwait; i++) {
		memmove(o->wait_buf + used, o->wait_buf + o->wait[i].off,
		    o->wait[i].len);
		o->wait[i].off = used;
		used += o->wait[i].len;
	}
	o->wait_used = used;
}

/* Keep an encoded batch until its ticket is durable. The node stops
 * stamping before this fills (sc_outbox_room), so a full queue only
 * loses a datagram the protocol repairs (a NACK asks for it again). */
static void
wait_put(struct sc_outbox *o, const struct sc_msg *m,
    const struct sc_batch *b)
{
	size_t cap = (size_t)SC_WAITING_MAX * o->dgram_max;
	struct sc_waiting *w;
	long len;

	if (o->wait_used + o->dgram_max > cap)
		wait_compact(o);
	if (o->nwait == SC_WAITING_MAX || o->wait_used + o->dgram_max > cap) {
		o->discarded++;
		return;
	}
	w = &o->wait[o->nwait];
	len = sc_encode(m, o->wait_buf + o->wait_used, o->dgram_max);
	if (len < 0) {
		o->encode_errors++;
		return;
	}
	w->ticket = b->ticket;
	w->type = b->type;
	w->to_group = b->to_group;
	w->to = b->to;
	w->off = o->wait_used;
	w->len = (size_t)len;
	o->wait_used += (size_t)len;
	o->nwait++;
}

static void
batch_flush(struct sc_outbox *o, struct sc_batch *b)
{
	struct sc_msg m;

	if (b->type == 0)
		return;
	if (b->count > 0) {
		memset(&m, 0, sizeof(m));
		m.h = *o->hdr;
		m.h.type = (uint8_t)b->type;
		m.c = b->view;
		m.count = b->count;
		m.items = b->items;
		if (o->fill != NULL)
			o->fill(o->ctx, &m);
		if (b->ticket > o->durable)
			wait_put(o, &m, b);
		else
			sc_outbox_send_msg(o, &m, b->to_group ? NULL : &b->to);
	}
	b->type = 0;
	b->count = 0;
}

void
sc_outbox_send_msg(struct sc_outbox *o, struct sc_msg *m,
    const struct sockaddr_in *to)
{
	uint8_t buf[SC_SEND_MAX];
	long len;

	m->h.magic = SC_MAGIC;
	m->h.version = SC_VERSION;
	len = sc_encode(m, buf, o->dgram_max);
	if (len < 0) {
		o->encode_errors++;
		return;
	}
	deliver(o, m->h.type, to, buf, (size_t)len);
}

void
sc_outbox_flush(struct sc_outbox *o)
{
	for (int i = 0; i < SC_BATCHES; i++)
		batch_flush(o, &o->batch[i]);
}

void
sc_outbox_durable(struct sc_outbox *o, uint64_t ticket)
{
	if (ticket > o->durable)
		o->durable = ticket;
	if (o->nwait > 0)
		send_waiting(o);
}

int
sc_outbox_room(const struct sc_outbox *o)
{
	return o->nwait + SC_BATCHES < SC_WAITING_MAX;
}

uint32_t
sc_outbox_discard(struct sc_outbox *o, uint64_t ticket)
{
	uint32_t i, kept = 0, dropped = 0;

	/* What is cut is not durable any more: ids after it, written anew,
	 * wait for their own write. */
	if (o->durable > ticket)
		o->durable = ticket;
	for (i = 0; i < o->nwait; i++) {
		if (o->wait[i].ticket > ticket)
			dropped++;
		else
			o->wait[kept++] = o->wait[i];
	}
	o->nwait = kept;
	wait_compact(o);
	for (i = 0; i < SC_BATCHES; i++) {
		struct sc_batch *b = &o->batch[i];

		if (b->type != 0 && b->ticket > ticket) {
			dropped += b->count > 0;
			b->type = 0;
			b->count = 0;
		}
	}
	o->discarded += dropped;
	return dropped;
}

void
sc_outbox_drop(struct sc_outbox *o, int type)
{
	for (int i = 0; i < SC_BATCHES; i++)
		if (o->batch[i].type == type) {
			o->batch[i].type = 0;
			o->batch[i].count = 0;
		}
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
batch_find(struct sc_outbox *o, int type, const struct sockaddr_in *to,
    uint32_t view)
{
	struct sc_batch *free_b = NULL, *b;

	for (int i = 0; i < SC_BATCHES; i++) {
		b = &o->batch[i];
		if (b->type == type && b->view == view && same_dest(b, to))
			return b;
		if (b->type == 0 && free_b == NULL)
			free_b = b;
	}
	if (free_b == NULL) {
		/* Every batch is open: send one to make room. */
		free_b = &o->batch[0];
		batch_flush(o, free_b);
	}
	free_b->type = type;
	free_b->to_group = (to == NULL);
	if (to != NULL)
		free_b->to = *to;
	free_b->view = view;
	free_b->ticket = 0;
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
sc_outbox_add(struct sc_outbox *o, int type, const struct sockaddr_in *to,
    uint32_t view, const struct sc_item *it, uint64_t ticket)
{
	struct sc_batch *b = batch_find(o, type, to, view);
	size_t isz = sc_item_size(type, it);
	struct sc_item *dst;

	if (b->count == SC_BATCH_ITEMS || b->size + isz > o->dgram_max) {
		batch_flush(o, b);
		b = batch_find(o, type, to, view);
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
	if (ticket > b->ticket)
		b->ticket = ticket;
}
