/*
 * faultnet.c - seeded fault injection wrapped around a server's network.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seqcast/auth.h"
#include "seqcast/bytes.h"
#include "seqcast/faultnet.h"
#include "seqcast/wire.h"

struct delayed {
	int64_t when;             /* release time */
	int dir;                  /* SC_IN or SC_OUT */
	int held;                 /* reorder: released after the next one */
	int to_group;
	struct sockaddr_in addr;  /* from (in) or to (out) */
	size_t len;
	uint8_t *buf;
};

struct sc_faultnet {
	struct sc_fault fault;
	int active;
	sc_faultnet_in_fn in;
	void *in_ctx;
	sc_faultnet_out_fn out;
	void *out_ctx;
	struct sc_decoder *dec;   /* only for drop_data_above */
	struct delayed q[SC_FAULT_DELAYED_MAX];
	uint32_t nq;
};

struct sc_faultnet *
sc_faultnet_new(const struct sc_fault_conf *c, uint32_t server_id,
    sc_faultnet_in_fn in, void *in_ctx, sc_faultnet_out_fn out,
    void *out_ctx)
{
	struct sc_faultnet *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return NULL;
	sc_fault_init(&f->fault, c, server_id);
	f->active = c != NULL && sc_fault_active(c);
	f->in = in;
	f->in_ctx = in_ctx;
	f->out = out;
	f->out_ctx = out_ctx;
	if (f->fault.conf.drop_data_above != 0 &&
	    (f->dec = sc_decoder_new()) == NULL) {
		free(f);
		return NULL;
	}
	return f;
}

void
sc_faultnet_free(struct sc_faultnet *f)
{
	if (f == NULL)
		return;
	for (uint32_t i = 0; i < f->nq; i++)
		free(f->q[i].buf);
	if (f->dec != NULL)
		sc_decoder_free(f->dec);
	free(f);
}

int
sc_faultnet_active(const struct sc_faultnet *f)
{
	return f->active;
}

static void
pass(struct sc_faultnet *f, int64_t now, int dir, int to_group,
    const struct sockaddr_in *addr, const void *buf, size_t len)
{
	if (dir == SC_IN)
		f->in(f->in_ctx, now, addr, buf, len);
	else
		f->out(f->out_ctx, to_group ? NULL : addr, buf, len);
}

/* Keep a datagram that is held (reorder) or delayed: 1 if kept. */
static int
keep(struct sc_faultnet *f, int64_t now, enum sc_fault_action act, int dir,
    const struct sockaddr_in *addr, const void *buf, size_t len)
{
	struct delayed *d;

	if ((act != SC_FAULT_HOLD && act != SC_FAULT_DELAY) ||
	    f->nq == SC_FAULT_DELAYED_MAX)
		return 0;
	d = &f->q[f->nq];
	if ((d->buf = malloc(len)) == NULL)
		return 0;
	memcpy(d->buf, buf, len);
	d->len = len;
	d->held = (act == SC_FAULT_HOLD);
	d->when = now + (d->held ? SC_FAULT_HOLD_MAX_US :
	    (int64_t)f->fault.conf.delay_ms * 1000);
	d->dir = dir;
	d->to_group = (addr == NULL);
	if (addr != NULL)
		d->addr = *addr;
	f->nq++;
	return 1;
}

/* Release what is due in direction dir (held_only: every held one, a
 * datagram has just passed them). Handing one on may add to the queue:
 * each pass takes one and starts over. */
static void
release(struct sc_faultnet *f, int64_t now, int dir, int held_only)
{
	uint32_t i = 0;

	while (i < f->nq) {
		struct delayed d = f->q[i];
		int go = held_only ? d.held : d.when <= now;

		if (d.dir != dir || !go) {
			i++;
			continue;
		}
		f->q[i] = f->q[--f->nq];
		pass(f, now, dir, d.to_group, &d.addr, d.buf, d.len);
		free(d.buf);
		i = 0;
	}
}

/* The first id of a DATA (its MAC trailer, if any, left out). */
static uint64_t
first_id(struct sc_faultnet *f, const uint8_t *p, size_t len)
{
	uint32_t body = sc_get_be32(p + 24);
	struct sc_msg m;

	if ((p[7] & SC_FLAG_MAC) && SC_HEADER_LEN + (size_t)body <= len)
		len = SC_HEADER_LEN + (size_t)body;
	if (sc_decode(f->dec, p, len, sc_get_be32(p + 8), &m) !=
	    SC_REJ_NONE || m.count == 0)
		return 0;
	return m.items[0].id;
}

static void
decide_and_pass(struct sc_faultnet *f, int64_t now, int dir,
    const struct sockaddr_in *addr, const void *buf, size_t len)
{
	enum sc_fault_action act;
	const uint8_t *p = buf;
	uint64_t first = 0;
	int type = 0;

	/* Only the type (and for DATA the first id) matter here: the node
	 * checks everything else. */
	if (len >= SC_HEADER_LEN) {
		type = p[5];
		if (f->dec != NULL && dir == SC_IN && type == SC_DATA)
			first = first_id(f, p, len);
	}
	act = sc_fault_decide(&f->fault, dir, type, first);
	if (act == SC_FAULT_DROP || keep(f, now, act, dir, addr, buf, len))
		return;
	if (act == SC_FAULT_DUP)
		pass(f, now, dir, addr == NULL, addr, buf, len);
	pass(f, now, dir, addr == NULL, addr, buf, len);
	if (f->nq > 0)
		release(f, now, dir, 1);
}

void
sc_faultnet_receive(struct sc_faultnet *f, int64_t now,
    const struct sockaddr_in *from, const void *buf, size_t len)
{
	if (!f->active) {
		f->in(f->in_ctx, now, from, buf, len);
		return;
	}
	decide_and_pass(f, now, SC_IN, from, buf, len);
}

void
sc_faultnet_send(struct sc_faultnet *f, int64_t now,
    const struct sockaddr_in *to, const void *buf, size_t len)
{
	if (!f->active) {
		f->out(f->out_ctx, to, buf, len);
		return;
	}
	decide_and_pass(f, now, SC_OUT, to, buf, len);
}

void
sc_faultnet_tick(struct sc_faultnet *f, int64_t now)
{
	if (f->nq == 0)
		return;
	release(f, now, SC_IN, 0);
	release(f, now, SC_OUT, 0);
}

int64_t
sc_faultnet_deadline(const struct sc_faultnet *f)
{
	int64_t t = INT64_MAX;

	for (uint32_t i = 0; i < f->nq; i++)
		if (f->q[i].when < t)
			t = f->q[i].when;
	return t;
}

const struct sc_fault_counts *
sc_faultnet_counts(const struct sc_faultnet *f)
{
	return &f->fault.n;
}

int
sc_faultnet_json(const struct sc_faultnet *f, char *buf, size_t len)
{
	const struct sc_fault_counts *c = &f->fault.n;
	int n;

	n = snprintf(buf, len, "\"faults\":{\"active\":%d,"
	    "\"in\":{\"dropped\":%llu,\"duplicated\":%llu,\"reordered\":%llu,"
	    "\"delayed\":%llu},\"out\":{\"dropped\":%llu,\"duplicated\":%llu,"
	    "\"reordered\":%llu,\"delayed\":%llu},\"held\":%u}", f->active,
	    (unsigned long long)c->dropped[SC_IN],
	    (unsigned long long)c->duplicated[SC_IN],
	    (unsigned long long)c->reordered[SC_IN],
	    (unsigned long long)c->delayed[SC_IN],
	    (unsigned long long)c->dropped[SC_OUT],
	    (unsigned long long)c->duplicated[SC_OUT],
	    (unsigned long long)c->reordered[SC_OUT],
	    (unsigned long long)c->delayed[SC_OUT], f->nq);
	return n < 0 || (size_t)n >= len ? -1 : n;
}
