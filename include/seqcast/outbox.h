/*
 * outbox.h - a server's outgoing datagrams: items batched per (type,
 * destination, view of the entries) and filled to the byte, and the
 * datagrams that must wait until the log records they announce are
 * durable (group commit).
 *
 * The node adds items as it decides; the outbox sends a batch when the
 * next item would not fit, when every batch slot is taken, or at the end
 * of the pass (sc_outbox_flush): a lone entry leaves at once, a burst
 * leaves packed. A batch that announces entries (DATA) carries the
 * durability ticket its entries need: if that ticket is not yet durable
 * at flush, the datagram is encoded and kept, and leaves when the node
 * reports the ticket durable (sc_outbox_durable), or is dropped if the
 * write failed (sc_outbox_discard).
 *
 * Pure: it encodes and calls the send function it was given; no socket.
 */
#ifndef SEQCAST_OUTBOX_H
#define SEQCAST_OUTBOX_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "seqcast/wire.h"

#define SC_BATCHES 16        /* open batches (per type, peer, view) */
#define SC_BATCH_ITEMS 256   /* more than fit one datagram of any type */
#define SC_WAITING_MAX 512   /* datagrams waiting for their ticket */

/* Send one encoded datagram (to == NULL: the group). */
typedef void (*sc_outbox_send_fn)(void *ctx, int type,
    const struct sockaddr_in *to, const void *buf, size_t len);
/* Fill a batch's message scalars just before it is encoded (DATA: head
 * and commit as they are now). */
typedef void (*sc_outbox_fill_fn)(void *ctx, struct sc_msg *m);

struct sc_batch {
	int type;                 /* 0 = free */
	int to_group;
	struct sockaddr_in to;
	uint32_t view;            /* the entries' view (message scalar c) */
	uint64_t ticket;          /* durability its entries need (0: none) */
	uint32_t count;
	size_t size;              /* encoded size so far */
	size_t arena_len;
	struct sc_item items[SC_BATCH_ITEMS];
	uint8_t *arena;           /* values, up to one datagram */
};

struct sc_waiting {
	uint64_t ticket;
	int type;
	int to_group;
	struct sockaddr_in to;
	size_t off, len;          /* in wait_buf */
};

struct sc_outbox {
	const struct sc_header *hdr; /* the node's current header fields */
	size_t dgram_max;         /* bytes a datagram may have */
	sc_outbox_send_fn send;
	sc_outbox_fill_fn fill;
	void *ctx;
	struct sc_batch batch[SC_BATCHES];
	struct sc_waiting wait[SC_WAITING_MAX];
	uint32_t nwait;
	uint8_t *wait_buf;        /* SC_WAITING_MAX datagrams */
	size_t wait_used;
	uint64_t durable;         /* highest ticket reported durable */
	uint64_t dgrams[SC_TYPE_COUNT]; /* datagrams handed to send */
	uint64_t discarded;       /* waiting datagrams dropped: write failed */
	uint64_t encode_errors;
};

int sc_outbox_init(struct sc_outbox *o, const struct sc_header *hdr,
    size_t dgram_max, sc_outbox_send_fn send, sc_outbox_fill_fn fill,
    void *ctx);
void sc_outbox_free(struct sc_outbox *o);
/* Add one item to the batch of (type, to, view); ticket: the durability
 * it needs before it may leave (0: none). */
void sc_outbox_add(struct sc_outbox *o, int type,
    const struct sockaddr_in *to, uint32_t view, const struct sc_item *it,
    uint64_t ticket);
/* Send one whole message now (control messages: heartbeat, NACK, ...). */
void sc_outbox_send_msg(struct sc_outbox *o, struct sc_msg *m,
    const struct sockaddr_in *to);
/* Close every open batch: send it, or keep it until its ticket. */
void sc_outbox_flush(struct sc_outbox *o);
/* Everything up to ticket is durable: send what waited for it. */
void sc_outbox_durable(struct sc_outbox *o, uint64_t ticket);
/* Room to keep more datagrams waiting? (The coordinator stamps only
 * while there is.) */
int sc_outbox_room(const struct sc_outbox *o);
/* Everything after `ticket` was cut (a failed write, a view change):
 * drop what waits for it (and open batches that need it), and take the
 * durable mark back to it; the count dropped. */
uint32_t sc_outbox_discard(struct sc_outbox *o, uint64_t ticket);
/* Drop open batches of this type (e.g. DATA of a view just left). */
void sc_outbox_drop(struct sc_outbox *o, int type);

#endif
