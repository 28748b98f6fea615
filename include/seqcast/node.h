/*
 * node.h - the protocol engine of one seqcast server.
 *
 * Events in, decisions out: the shell hands it each received datagram
 * (sc_node_receive), calls sc_node_tick when sc_node_next_deadline comes,
 * and sc_node_flush once it has drained its sockets; the node answers by
 * calling the send function it was given. It never reads a clock (time is
 * passed in, microseconds), never touches a socket, and holds every table
 * bounded, so unit tests can run a whole cluster in one process over a
 * simulated network.
 */
#ifndef SEQCAST_NODE_H
#define SEQCAST_NODE_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "seqcast/applog.h"
#include "seqcast/auth.h"
#include "seqcast/config.h"
#include "seqcast/fault.h"
#include "seqcast/gap.h"
#include "seqcast/holdback.h"
#include "seqcast/logfile.h"
#include "seqcast/pending.h"
#include "seqcast/retx.h"
#include "seqcast/seq.h"
#include "seqcast/wire.h"

/* Send one datagram: to == NULL means the cluster's multicast group. */
typedef void (*sc_send_fn)(void *ctx, const struct sockaddr_in *to,
    const void *buf, size_t len);

#define SC_BATCHES 16        /* open output batches (per type, peer) */
#define SC_BATCH_ITEMS 128   /* more than fit one datagram of any type */
#define SC_DELAYED_MAX 4096  /* datagrams held by fault injection */
#define SC_HOLD_MAX_US 50000 /* a reordered datagram waits at most this */
#define SC_OUTQ_MAX 512      /* DATA/ACK datagrams waiting for the log */

/* A datagram that must not leave before the log records it depends on
 * are written (and, with fsync = each, synced): queued during a pass,
 * sent after one write and one fdatasync for all of them. */
struct sc_outq_item {
	int type;
	int to_group;
	struct sockaddr_in to;
	uint64_t first_id;
	size_t off, len;          /* in outq_buf */
};

struct sc_batch {
	int type;                 /* 0 = free */
	int to_group;
	struct sockaddr_in to;
	uint64_t a;               /* header scalar */
	uint32_t count;
	size_t size;              /* encoded size so far */
	size_t arena_len;
	struct sc_item items[SC_BATCH_ITEMS];
	uint8_t arena[SC_DATAGRAM_MAX];
};

/* A datagram kept back by fault injection (delay or reorder). */
struct sc_delayed {
	int64_t when;             /* release time */
	int dir;                  /* SC_IN or SC_OUT */
	int type;                 /* message type */
	int held;                 /* reorder: release after the next one */
	int to_group;
	struct sockaddr_in addr;  /* from (in) or to (out) */
	size_t len;
	uint8_t *buf;
};

struct sc_node_stats {
	uint64_t in[SC_TYPE_COUNT], out[SC_TYPE_COUNT];
	uint64_t bytes_in, bytes_out;
	uint64_t rejected[SC_REJ_COUNT];
	uint64_t unexpected;      /* well-formed but not for us / bad sender */
	uint64_t duplicates;      /* entries received again and dropped */
	uint64_t far;             /* entries beyond the hold-back window */
	uint64_t nacks_sent, nacks_received;
	uint64_t retx_unicast, retx_multicast, retx_local, retx_skipped;
	uint64_t gone_sent, gone_received, gone_ids;
	uint64_t acks_sent, busy, too_large;
	uint64_t forwards, reforwards, repeats;
	uint64_t fast_reforwards; /* re-forwards before their timer */
	uint64_t heartbeats_sent, reports_sent;
	uint64_t log_suppressed;  /* log lines held back by rate limiting */
	uint64_t auth[SC_AUTH_UNEXPECTED + 1]; /* datagrams refused by auth */
	uint64_t rate_limited;    /* ADD entries over a source's add_rate */
};

/* Per-source ADD rate limiting: a token bucket per hashed source. */
#define SC_RATE_BUCKETS 1024
struct sc_rate_bucket {
	uint32_t addr;            /* source IPv4 address */
	int used;
	double tokens;
	int64_t last;
};

struct sc_node {
	const struct sc_config *conf;
	uint32_t id;
	int64_t now;              /* time of the event being handled (us) */
	int coordinator;          /* this server stamps ids */
	struct sockaddr_in coord_addr;
	sc_send_fn send;
	void *send_ctx;

	struct sc_decoder *dec;
	struct sc_msg msg;

	struct sc_seq seq;        /* coordinator only */
	struct sc_retx retx;      /* coordinator only */
	struct sc_applog log;
	struct sc_hold hold;
	struct sc_gaps gaps;
	struct sc_pending pend;

	struct sc_logfile file;   /* durable log (file.fd == -1: memory) */
	int64_t next_sync;        /* fsync = interval: next fdatasync */
	double catchup_tokens;    /* log-served retransmissions allowed now */
	int64_t catchup_last;     /* when the tokens were last refilled */
	uint64_t served_from_log; /* coordinator: entries sent from its log */
	uint64_t recovered;       /* entries read back from the file at start */

	struct sc_auth auth;      /* shared key (auth.on == 0: none) */
	size_t dgram_max;         /* SC_DATAGRAM_MAX less the MAC trailer */
	size_t reply_max;         /* SC_REPLY_MAX less the MAC trailer */
	struct sc_rate_bucket rate[SC_RATE_BUCKETS];

	struct sc_fault fault;
	int faulty;               /* fault injection active */
	struct sc_delayed delayed[SC_DELAYED_MAX];
	uint32_t ndelayed;

	struct sc_batch batch[SC_BATCHES];
	struct sc_outq_item outq[SC_OUTQ_MAX];
	uint32_t noutq;
	uint8_t *outq_buf;        /* SC_OUTQ_MAX datagrams; with a log file */

	int64_t next_heartbeat;
	int64_t next_report;
	int64_t fwd_retry_us;
	int64_t fwd_rtt_us;       /* smoothed forward -> apply time */
	uint64_t fwd_dgrams;      /* FWD datagrams sent so far */
	int64_t retx_window_us;
	int64_t log_next;         /* rate limit for warnings */
	uint64_t gone_from;       /* first id we can never get (0 = none) */

	/* Scratch for LOG_REPLY and STATS_REPLY, one node's own. */
	struct sc_item *reply_items;   /* SC_ITEMS_MAX */
	uint8_t *reply_arena;          /* SC_REPLY_MAX */
	int rcvbuf, sndbuf;       /* socket buffer sizes, set by the shell */
	int control_socket;       /* repair traffic has its own socket */
	struct sc_node_stats st;
	uint8_t tx[SC_REPLY_MAX]; /* encode buffer */
	uint8_t sealed[SC_REPLY_MAX + SC_AUTH_TRAILER]; /* with the MAC */
};

int sc_node_init(struct sc_node *n, const struct sc_config *c, uint32_t id,
    sc_send_fn send, void *ctx, int64_t now);
void sc_node_free(struct sc_node *n);
/* Open this server's log file in data_dir (if it has one) and replay it:
 * the server resumes from its last entry. 0 ok, 1 ok with a note in err
 * (a torn last record was cut), -1 error (corruption: file and offset). */
int sc_node_open_log(struct sc_node *n, char *err, size_t errlen);
/* One received datagram (from: its source address). */
void sc_node_receive(struct sc_node *n, int64_t now,
    const struct sockaddr_in *from, const void *buf, size_t len);
/* Run whatever is due at now (heartbeat, reports, NACKs, re-forwards,
 * delayed datagrams), then flush. */
void sc_node_tick(struct sc_node *n, int64_t now);
/* Send every open batch (DATA, FWD, ACK, ...). */
void sc_node_flush(struct sc_node *n);
/* When sc_node_tick must next run. */
int64_t sc_node_next_deadline(const struct sc_node *n);
/* The stats as one JSON object; returns its length (or -1). */
int sc_node_stats_json(const struct sc_node *n, char *buf, size_t len);
/* Use this shared key from now on (call after init, before traffic). */
void sc_node_set_key(struct sc_node *n, const struct sc_auth *auth);
/* Highest applied id. */
uint64_t sc_node_applied(const struct sc_node *n);

#endif
