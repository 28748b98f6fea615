/*
 * node_priv.h - what the node's files share among themselves.
 */
#ifndef SEQCAST_NODE_PRIV_H
#define SEQCAST_NODE_PRIV_H

#include "seqcast/node.h"

static inline int64_t
ms_to_us(uint32_t ms)
{
	return (int64_t)ms * 1000;
}

/* A token bucket: rate tokens a second, at most burst saved up. Takes
 * one token if there is one. */
static inline int
node_bucket_take(double *tokens, int64_t *last, int64_t now, double rate,
    double burst)
{
	*tokens += (double)(now - *last) * rate / 1e6;
	*last = now;
	if (*tokens > burst)
		*tokens = burst;
	if (*tokens < 1)
		return 0;
	*tokens -= 1;
	return 1;
}

/* node.c */
int node_decode(struct sc_node *n, const void *buf, size_t len);
void node_handle(struct sc_node *n, int64_t now,
    const struct sockaddr_in *from, const struct sc_msg *m);
void node_offer_entry(struct sc_node *n, int64_t now,
    const struct sc_item *it);
void node_ack(struct sc_node *n, const struct sockaddr_in *to,
    uint64_t client, uint64_t req, uint64_t id, int status);
const struct sockaddr_in *node_server_addr(const struct sc_node *n,
    uint32_t server);

/* node_repair.c: the recovery protocol */
void node_repair_nack(struct sc_node *n, int64_t now, uint32_t asker,
    const struct sc_msg *m);
void node_repair_gone(struct sc_node *n, const struct sc_msg *m);
void node_repair_tick(struct sc_node *n, int64_t now);
void node_repair_gaps(struct sc_node *n, int64_t now);
uint64_t node_fill_local(struct sc_node *n, int64_t now, uint64_t first,
    uint64_t last, uint64_t budget, int forget);
int64_t node_repair_deadline(const struct sc_node *n);

/* node_durable.c: the log file */
void node_persist(struct sc_node *n, uint64_t id, uint64_t client,
    uint64_t req, const uint8_t *value, uint32_t len);
void node_make_durable(struct sc_node *n);
void node_durable_tick(struct sc_node *n, int64_t now);
int64_t node_durable_deadline(const struct sc_node *n);
int node_catchup_allow(struct sc_node *n, int64_t now);

/* node_out.c: batching, sending, fault injection on both directions */
void node_batch_add(struct sc_node *n, int type, const struct sockaddr_in *to,
    const struct sc_item *it, uint64_t a);
void node_send_msg(struct sc_node *n, const struct sc_msg *m,
    const struct sockaddr_in *to, size_t cap);
void node_send_raw(struct sc_node *n, int type, uint64_t first_id,
    const struct sockaddr_in *to, const void *buf, size_t len);
void node_header(const struct sc_node *n, struct sc_msg *m, int type);
/* The first id a DATA or RETX carries (0 for other types). */
uint64_t msg_first_id(const struct sc_msg *m);
int node_fault_in(struct sc_node *n, const struct sockaddr_in *from,
    const void *buf, size_t len, int type, uint64_t first_id, int *twice);
void node_release_delayed(struct sc_node *n, int64_t now, int dir,
    int held_only);
int64_t node_delayed_deadline(const struct sc_node *n);
void node_delayed_free(struct sc_node *n);
void node_warn(struct sc_node *n, int64_t now, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
