/*
 * faultnet.h - fault injection as a wrapper around a server's network:
 * between the sockets and the node on the way in, between the node and
 * the sockets on the way out. The node knows nothing of it.
 *
 * Each datagram's fate (pass, drop, duplicate, hold back until the next
 * one, delay) is decided by the seeded sc_fault rules on its header
 * alone, before anything decodes it: a datagram "lost on the wire" costs
 * its receiver the read and nothing more. Only fault_drop_data_above
 * needs the first id of a DATA, and decodes that one.
 *
 * Time is passed in; held and delayed datagrams (at most
 * SC_FAULT_DELAYED_MAX) are released by sc_faultnet_tick, at the latest
 * SC_FAULT_HOLD_MAX_US after they were held.
 */
#ifndef SEQCAST_FAULTNET_H
#define SEQCAST_FAULTNET_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "seqcast/fault.h"

#define SC_FAULT_DELAYED_MAX 4096  /* datagrams held back at once */
#define SC_FAULT_HOLD_MAX_US 50000 /* a reordered one waits at most this */

/* Hand a datagram on: in, to the node; out, to the socket. */
typedef void (*sc_faultnet_in_fn)(void *ctx, int64_t now,
    const struct sockaddr_in *from, const void *buf, size_t len);
typedef void (*sc_faultnet_out_fn)(void *ctx, const struct sockaddr_in *to,
    const void *buf, size_t len);

struct sc_faultnet;

struct sc_faultnet *sc_faultnet_new(const struct sc_fault_conf *c,
    uint32_t server_id, sc_faultnet_in_fn in, void *in_ctx,
    sc_faultnet_out_fn out, void *out_ctx);
void sc_faultnet_free(struct sc_faultnet *f);
/* Does this configuration inject anything? */
int sc_faultnet_active(const struct sc_faultnet *f);
void sc_faultnet_receive(struct sc_faultnet *f, int64_t now,
    const struct sockaddr_in *from, const void *buf, size_t len);
/* to == NULL: the group. */
void sc_faultnet_send(struct sc_faultnet *f, int64_t now,
    const struct sockaddr_in *to, const void *buf, size_t len);
void sc_faultnet_tick(struct sc_faultnet *f, int64_t now);
/* When sc_faultnet_tick must next run (INT64_MAX: nothing held). */
int64_t sc_faultnet_deadline(const struct sc_faultnet *f);
const struct sc_fault_counts *sc_faultnet_counts(const struct sc_faultnet *f);
/* The counts as JSON members ("faults":{...}); length or -1. */
int sc_faultnet_json(const struct sc_faultnet *f, char *buf, size_t len);

#endif
