/*
 * node_rooms.h - the node's rooms and what they offer each other. Only
 * the node's own files include it; everyone else sees node.h.
 *
 * Each part owns one struct of state and is the only one to write it:
 *   node.c         the door: events in, decode, dispatch
 *   node_auth.c    struct node_challenge: the door's MAC check, and
 *                  challenges to peers whose counters went back
 *   node_out.c     the way out: messages, batching, sealing, sending
 *   node_view.c    struct node_view: status, view, view changes
 *   node_join.c    (struct node_view too) start, recovery, adopting a
 *                  view with state transfer, cold start
 *   node_stream.c  struct node_stream: the entries, hold-back, commit,
 *                  apply
 *   node_repair.c  struct node_repair: gaps and NACKs, retransmission,
 *                  heartbeats and reports
 *   node_request.c struct node_req: client requests, forwarding,
 *                  stamping, acknowledgements
 *   node_durable.c struct node_disk: the log file through the I/O
 *                  interface, durability, a failing disk
 *   node_client.c  struct node_client: clients' proof of address
 *                  (cookies) and the amplification budget every reply
 *                  to a client passes
 *   node_query.c   (struct node_client's long polls) log and stats
 *                  requests from clients, parked log requests
 *   node_stats.c   the stats JSON
 * Calls go down one way within an event: door -> view -> stream/request
 * -> repair -> outbox; what an event makes committed is applied at the
 * end of the pass (sc_node_flush), never from inside another part.
 */
#ifndef SEQCAST_NODE_ROOMS_H
#define SEQCAST_NODE_ROOMS_H

#include <stdint.h>

#include "seqcast/amp.h"
#include "seqcast/auth.h"
#include "seqcast/bucket.h"
#include "seqcast/config.h"
#include "seqcast/cookie.h"
#include "seqcast/entries.h"
#include "seqcast/gap.h"
#include "seqcast/holdback.h"
#include "seqcast/log.h"
#include "seqcast/mutate.h"
#include "seqcast/node.h"
#include "seqcast/outbox.h"
#include "seqcast/pending.h"
#include "seqcast/retx.h"
#include "seqcast/seq.h"
#include "seqcast/wire.h"

#define NODE_SEGMENTS 32        /* view segments a heartbeat carries */
#define NODE_RATE_BUCKETS 1024  /* per-source ADD rate limits */
#define NODE_DISK_RETRY_US 1000000
#define NODE_CACHE_BYTES (4u << 20) /* values kept once no one needs them */
#define NODE_RECOVERY_SAY_US 5000000 /* "still recovering": first, then every */
#define NODE_PARK_MAX 256       /* log long polls parked at once */
#define NODE_PARK_WAIT_MAX_MS 30000 /* longest a long poll is parked */

static inline int64_t
ms_to_us(uint32_t ms)
{
	return (int64_t)ms * 1000;
}

static inline uint64_t
min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static inline int64_t
min_i64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

/* What a recovering server learnt from one RECOVERY_REPLY. */
struct node_reply {
	uint32_t view, normal_view;
	uint8_t status;           /* enum sc_node_status */
	uint8_t fresh;            /* never normal, holds nothing */
	uint8_t cold;             /* in a view change of a cold start */
	uint64_t op, commit;
};

/* What a new coordinator learnt from one DO_VIEW. */
struct node_dvc {
	uint32_t normal_view;
	uint64_t op, commit;
};

struct node_view {
	enum sc_node_status status;
	enum sc_node_role role;
	uint32_t view;            /* current, or the one being changed to */
	uint32_t normal_view;     /* last view whose log this server holds
	                             whole up to claim (what a DO_VIEW
	                             vouches for) */
	uint64_t claim;           /* ... entries after it are not vouched
	                             for (UINT64_MAX: none such) */
	int catching;             /* a member of view, fetching the log its
	                             coordinator began the view with */
	uint64_t start_head;      /* ... which ends at least here */
	uint32_t saved_view;      /* the view in the state file */
	int fresh;                /* never normal and nothing held */
	int lost;                 /* started without a trusted log (it
	                             recovers): may have lost what it
	                             vouched for, until it is in a view */
	int cold;                 /* this view change is a cold start's */
	int trusted;              /* restarted from a log it can vouch for
	                             (data_dir, fsync = each, state file) */
	int64_t heard;            /* member: last word from the coordinator */
	int64_t last_heartbeat;   /* member: its last heartbeat */
	int64_t next_vote;        /* member: when to repeat VIEW_CHANGE */
	uint32_t vote_view;       /* the view the votes below are for */
	uint64_t votes;           /* servers asking for vote_view (bits) */
	int64_t change_deadline;  /* view change: give up on this view */
	int64_t next_change_send; /* view change: repeat DO_VIEW */
	int64_t suspected;        /* when the last failover began (0: none) */
	uint64_t dvc_got;         /* servers whose DO_VIEW arrived (bits) */
	uint64_t dvc_lost;        /* ... from a server that may have lost
	                             its log (it vouches for nothing) */
	struct node_dvc dvc[SC_SERVERS_MAX];
	int completing;           /* new coordinator: fetching the best log */
	uint32_t best;            /* ... from this server */
	uint64_t best_op;         /* ... up to this id */
	uint64_t best_commit;     /* highest commit of the DO_VIEWs */
	int64_t next_fetch;
	uint64_t nonce;           /* recovery */
	uint64_t replied;         /* servers that answered it (bits) */
	struct node_reply reply[SC_SERVERS_MAX];
	int64_t next_recovery;
	int64_t recovery_say;     /* next "still recovering" line */
	int64_t next_probe;       /* asking a coordinator for its view */
	int64_t heard_from[SC_SERVERS_MAX]; /* coordinator: last datagram */
	int64_t told[SC_SERVERS_MAX]; /* coordinator: told a stale server
	                                 our view; not again before */
	int quorum;               /* coordinator: heard from a majority */
	uint64_t changes;         /* views entered */
	uint64_t truncated;       /* entries cut by view changes */
	int64_t last_failover_us; /* suspicion to normal, last time */
	uint64_t peer_bad;        /* servers whose cluster file differs */
	uint64_t config_refused;  /* datagrams refused for it */
	int64_t config_sent[SC_SERVERS_MAX];  /* our parts sent: not again
	                                         before this */
	int64_t config_named[SC_SERVERS_MAX]; /* a difference logged */
	uint32_t config_named_as[SC_SERVERS_MAX]; /* ... for this digest */
};

struct node_stream {
	struct sc_entries log;
	struct sc_hold hold;
	uint64_t durable;         /* held and durable here */
	uint64_t commit;          /* known committed */
	uint64_t coord_head;      /* member: what the coordinator holds
	                             durably, as it said in this view */
	uint64_t match[SC_SERVERS_MAX]; /* coordinator: what each server
	                             holds durably in this view */
	uint64_t reported;        /* member: op last reported */
	uint64_t duplicates;      /* entries received again */
	uint64_t far;             /* beyond the hold-back window */
	uint64_t no_memory;       /* dropped: no memory to hold them */
	uint64_t stale;           /* entries of another view refused */
};

struct node_repair {
	struct sc_gaps gaps;
	struct sc_retx retx;      /* coordinator */
	int retx_on;
	int64_t next_heartbeat;
	int64_t next_report;
	int64_t retx_window_us;
	struct sc_bucket catchup; /* entries the log may serve */
	uint64_t served_from_log;
	uint64_t nacks_sent, nacks_received;
	uint64_t gaps_by_heartbeat;  /* gaps a heartbeat's head opened */
	uint64_t gaps_by_stamped;    /* ... and a STAMPED id */
	uint64_t retx_unicast, retx_multicast, retx_skipped;
	uint64_t gone_sent, gone_received, gone_ids;
	uint64_t heartbeats_sent, reports_sent;
	uint64_t fetched;         /* entries a new coordinator fetched */
	uint64_t announced;       /* coordinator: commit last announced */
	int64_t next_push;        /* coordinator: next look at laggards */
	uint64_t lag_head[SC_SERVERS_MAX];   /* our head and commit at the */
	uint64_t lag_commit[SC_SERVERS_MAX]; /* last look at laggards */
	int64_t starving[SC_SERVERS_MAX]; /* a member said it gets no
	                                     heartbeats (its last REPORT) */
	uint64_t applied_of[SC_SERVERS_MAX]; /* each one's latest report */
	uint64_t pushed;          /* entries sent unasked to laggards */
};

struct node_rate {
	uint32_t addr;            /* source IPv4 address */
	int used;
	struct sc_bucket b;
};

struct node_req {
	struct sc_pending pend;
	struct sc_seq seq;        /* coordinator */
	int seq_on;
	int64_t fwd_retry_us;
	int64_t fwd_rtt_us;       /* smoothed forward -> apply time */
	uint64_t fwd_dgrams;      /* FWD datagrams sent so far */
	struct node_rate rate[NODE_RATE_BUCKETS];
	uint64_t acks_sent, busy, too_large, unavailable, rate_limited;
	uint64_t forwards, reforwards, fast_reforwards, repeats;
	uint64_t stamped_mismatch; /* STAMPED ids naming another entry */
	uint64_t dropped_on_step_down;
};

struct node_disk {
	int on;                   /* there is a log file */
	int failed;               /* writes failed: no new entries */
	int err;                  /* errno of the failure */
	int64_t retry_at;
	uint64_t file_keep;       /* failed: cut the file back to this */
	uint64_t written;         /* highest id handed to the file */
	int dirty;                /* appended or cut since the last ask */
	int in_flight;            /* a write asked for, not answered */
	int in_flight_fds;        /* ... with fdatasync */
	int unsynced;             /* written, not fdatasync'ed (interval) */
	uint64_t ticket;          /* the last one asked for */
	uint64_t ticket_op;       /* the id it covers */
	int64_t next_fsync;       /* fsync = interval */
	uint64_t failures;
	uint64_t loaded;          /* records read at start */
	uint64_t saves;           /* state file writes */
};

/* A client's log request parked until entries past `from` are applied
 * (a long poll: seqcast log --follow) or its wait ends. */
struct node_park {
	int used;
	struct sockaddr_in addr;  /* where the answer goes */
	uint64_t from, max;       /* the page asked for */
	uint64_t cookie;          /* its proof of address, checked again */
	int64_t deadline;         /* answer (empty) by then */
};

/* Clients: proof of address, the amplification budget, long polls. */
/* The stats text as it was when a client asked for its first page: the
 * later pages of that request (same address, same nonce) are cut from
 * it, so that pages of two moments never join into broken JSON. */
#define NODE_STATS_SNAPS 4
#define NODE_STATS_SNAP_US 5000000
struct node_stats_snap {
	struct sockaddr_in who;
	uint64_t nonce;
	int64_t at;               /* 0: free */
	int len;
	char text[SC_TEXT_MAX + 1];
};

struct node_client {
	struct sc_cookie cookie;
	struct node_stats_snap snap[NODE_STATS_SNAPS];
	uint32_t snap_next;       /* the slot the next first page takes */
	struct sc_amp amp;
	int verified;             /* the request being handled proved its
	                             address */
	int send_verified;        /* sending the answer to a parked request
	                             that did */
	struct node_park park[NODE_PARK_MAX];
	uint32_t parked, parked_peak;
	uint64_t park_from;       /* lowest `from` parked (UINT64_MAX: none) */
	int64_t park_due;         /* earliest deadline (INT64_MAX: none) */
	uint64_t requests_verified, requests_unverified;
	uint64_t cookie_bad;      /* a cookie that is not (or no longer) good */
	uint64_t cookies_sent;
	uint64_t shrunk;          /* replies cut short to fit the budget */
	uint64_t parks, woken, expired, park_full;
};

struct node_counts {
	uint64_t in[SC_TYPE_COUNT], out[SC_TYPE_COUNT];
	uint64_t bytes_in, bytes_out;
	uint64_t rejected[SC_REJ_COUNT];
	uint64_t auth[SC_AUTH_RESULTS];
	uint64_t unexpected;      /* well-formed but not for us / bad sender */
	uint64_t own;             /* our own multicast, looped back */
};

/* node_auth.c: challenges to peers whose counters went back. */
struct node_challenge {
	uint64_t nonce[SC_SERVERS_MAX];  /* outstanding, 0: none */
	int64_t next[SC_SERVERS_MAX];    /* no new one before */
	uint64_t sent, answered;
};

/* RECOVERY's b: 0 a restart, 1 a probe, these two the door's. */
#define SC_RECOVERY_CHALLENGE 2
#define SC_RECOVERY_ANSWER    3

struct sc_node {
	const struct sc_config *conf;
	uint32_t id;
	uint32_t nservers;
	uint32_t majority;        /* nservers / 2 + 1 */
	int64_t now;              /* time of the event being handled */
	int64_t wall_offset;      /* wall clock - monotonic, for auth: now */
	int64_t wall_anchor;      /* ... and as it was at the first setting */
	int wall_anchored;
	struct sc_io io;
	uint64_t rng;
	struct sc_decoder *dec;
	struct sc_msg msg;
	struct sc_auth auth;
	struct sc_header hdr;     /* cluster, sender, view, config digest */
	struct sc_config_digest parts; /* the shared settings, part by part */
	size_t dgram_max;         /* what fits the path, less the MAC */
	struct sc_outbox out;
	struct sc_ratelimit warn_limit;
	struct node_counts st;
	int rcvbuf, sndbuf, control_socket;
	uint8_t sealed[SC_SEND_MAX + SC_AUTH_TRAILER];
	struct node_view vw;
	struct node_stream sm;
	struct node_repair rp;
	struct node_req rq;
	struct node_disk dk;
	struct node_challenge ch;
	struct node_client cl;
};

/* Servers besides one that may have lost its log that must answer it,
 * or vouch in a view change, so that they meet every majority:
 * n - majority + 1 (VR's recovery quorum). */
static inline uint32_t
node_others_needed(const struct sc_node *n)
{
	return n->nservers - n->majority + 1;
}

/* node_out.c: the way out (below every room) */
void node_warn(struct sc_node *n, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void node_say(struct sc_node *n, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
const struct sockaddr_in *node_addr(const struct sc_node *n, uint32_t id);
void node_send(struct sc_node *n, struct sc_msg *m,
    const struct sockaddr_in *to);
void node_msg(const struct sc_node *n, struct sc_msg *m, int type);
uint32_t node_coordinator_of(const struct sc_node *n, uint32_t view);
/* The outbox's callbacks: a datagram leaves; a batch's last scalars. */
void node_out_send(void *ctx, int type, const struct sockaddr_in *to,
    const void *buf, size_t len);
void node_out_fill(void *ctx, struct sc_msg *m);

/* node_auth.c: 0 if the datagram may go on (*len: without its MAC). */
int node_auth_in(struct sc_node *n, const struct sockaddr_in *from,
    const void *buf, size_t *len);
int node_auth_recovery(struct sc_node *n, const struct sc_msg *m);

/* node_view.c */
void node_view_init(struct sc_node *n);
void node_view_start(struct sc_node *n);
void node_view_start_as(struct sc_node *n, uint32_t view);
int node_view_accepts(struct sc_node *n, const struct sc_msg *m);
void node_view_heartbeat(struct sc_node *n, const struct sc_msg *m);
void node_view_vote(struct sc_node *n, const struct sc_msg *m);
void node_view_dvc(struct sc_node *n, const struct sc_msg *m);
void node_view_recovery(struct sc_node *n, const struct sc_msg *m);
void node_view_recovery_reply(struct sc_node *n, const struct sc_msg *m);
void node_view_recovering_vote(struct sc_node *n, const struct sc_msg *m);
void node_view_fetched(struct sc_node *n);
void node_view_tick(struct sc_node *n);
int64_t node_view_deadline(const struct sc_node *n);
int node_view_serving(const struct sc_node *n);
uint64_t node_view_claim(const struct sc_node *n);
void node_view_caught_up(struct sc_node *n);
void node_view_save(struct sc_node *n);
/* Between node_view.c and node_join.c only. */
void node_view_set(struct sc_node *n, uint32_t view);
void node_view_step_down(struct sc_node *n);
void node_view_enter(struct sc_node *n, uint32_t view);
void node_view_vote_for(struct sc_node *n, uint32_t view, uint32_t server);
int node_view_voted(const struct sc_node *n);
int64_t node_view_resend_us(const struct sc_node *n);
void node_view_send_recovery(struct sc_node *n);
void node_view_probe(struct sc_node *n, uint32_t to);

/* node_stream.c */
int node_stream_init(struct sc_node *n);
void node_stream_free(struct sc_node *n);
void node_stream_entries(struct sc_node *n, const struct sc_msg *m);
int node_stream_stamp(struct sc_node *n, const struct sc_item *it);
void node_stream_durable(struct sc_node *n, uint64_t durable);
void node_stream_advance(struct sc_node *n);
void node_stream_match(struct sc_node *n, uint32_t server, uint64_t op);
void node_stream_evict(struct sc_node *n);
void node_stream_cut(struct sc_node *n, uint64_t keep);
void node_stream_new_view(struct sc_node *n);
uint64_t node_stream_head(const struct sc_node *n);

/* node_repair.c */
int node_repair_init(struct sc_node *n);
void node_repair_free(struct sc_node *n);
void node_repair_reset(struct sc_node *n, uint64_t known);
void node_repair_coordinate(struct sc_node *n);
void node_repair_nack(struct sc_node *n, const struct sc_msg *m);
void node_repair_gone(struct sc_node *n, const struct sc_msg *m);
void node_repair_got(struct sc_node *n, uint64_t id);
void node_repair_seen(struct sc_node *n, const struct sc_msg *m);
void node_repair_head(struct sc_node *n, uint64_t head, int heartbeat);
void node_repair_ask(struct sc_node *n, uint32_t server, uint64_t first,
    uint64_t last);
void node_repair_tick(struct sc_node *n);
void node_repair_report(struct sc_node *n, int force);
void node_repair_reported(struct sc_node *n, uint32_t server,
    uint64_t applied, int starving);
void node_repair_announce(struct sc_node *n);
void node_repair_heartbeat(struct sc_node *n, const struct sockaddr_in *to,
    int type, uint64_t nonce);
int64_t node_repair_deadline(const struct sc_node *n);

/* node_request.c */
int node_request_init(struct sc_node *n);
void node_request_free(struct sc_node *n);
void node_request_add(struct sc_node *n, const struct sockaddr_in *from,
    const struct sc_msg *m);
void node_request_fwd(struct sc_node *n, const struct sc_msg *m);
void node_request_stamped(struct sc_node *n, const struct sc_msg *m);
void node_request_applied(struct sc_node *n, const struct sc_item *it);
void node_request_held(struct sc_node *n, const struct sc_item *it);
int node_request_coordinate(struct sc_node *n);
void node_request_step_down(struct sc_node *n);
void node_request_new_view(struct sc_node *n);
void node_request_cut(struct sc_node *n, const struct sc_item *it);
void node_request_tick(struct sc_node *n);
int64_t node_request_deadline(const struct sc_node *n);

/* node_durable.c */
void node_disk_init(struct sc_node *n);
int node_disk_append(struct sc_node *n, const struct sc_item *it);
void node_disk_cut(struct sc_node *n, uint64_t keep);
void node_disk_flush(struct sc_node *n);
void node_disk_synced(struct sc_node *n, uint64_t ticket, int ok, int err);
void node_disk_tick(struct sc_node *n);
int64_t node_disk_deadline(const struct sc_node *n);
int node_disk_ok(const struct sc_node *n);
int node_disk_save(struct sc_node *n, const struct sc_state *st);

/* node_client.c */
void node_client_init(struct sc_node *n, const uint8_t *secret);
void node_client_free(struct sc_node *n);
int node_client_admit(struct sc_node *n, const struct sockaddr_in *from,
    size_t len, const struct sc_msg *m);
int node_client_may_send(struct sc_node *n, int type,
    const struct sockaddr_in *to, size_t len);
size_t node_client_room(struct sc_node *n, const struct sockaddr_in *to);

/* node_query.c */
void node_query_log(struct sc_node *n, const struct sockaddr_in *from,
    const struct sc_msg *m);
void node_query_stats(struct sc_node *n, const struct sockaddr_in *from,
    const struct sc_msg *m);
void node_query_wake(struct sc_node *n);
void node_query_tick(struct sc_node *n);
int64_t node_query_deadline(const struct sc_node *n);

#endif
