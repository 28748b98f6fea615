/*
 * node.h - the protocol engine of one seqcast server: a state machine.
 *
 * Events in: a received datagram (sc_node_receive), time passing
 * (sc_node_tick when sc_node_next_deadline comes), a completed write of
 * the log (sc_node_synced). Decisions out, through the I/O interface it
 * was given: datagrams to send, log records to append or cut, the state
 * to save, writes to make durable, lines to log. After each event the
 * caller runs sc_node_flush, which applies what became committed, sends
 * what the pass batched and asks for the next write.
 *
 * The node never reads a clock (monotonic microseconds are passed in),
 * never blocks and never touches a socket or a file itself, so the
 * daemon runs it over sockets and files and the simulator (tests/sim)
 * runs whole clusters of it over a simulated network, disk and clock.
 *
 * The protocol (README "How it works"): views as in Viewstamped
 * Replication; the coordinator of a view stamps ids, multicasts entries,
 * and an entry is committed once a majority holds it; only committed
 * entries are applied (shown, counted, acknowledged).
 */
#ifndef SEQCAST_NODE_H
#define SEQCAST_NODE_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "seqcast/config.h"
#include "seqcast/logfile.h"
#include "seqcast/wire.h"

struct sc_auth;

/* What the node asks of the world. Without a data_dir the durable-log
 * functions are NULL: the log lives in memory and dies with the
 * process (a restarted server then has nothing to trust and catches up
 * from the others). */
struct sc_io {
	void *ctx;
	/* Send one datagram; to == NULL: the cluster's group. */
	void (*send)(void *ctx, const struct sockaddr_in *to,
	    const void *buf, size_t len);
	/* Append one entry to the log file (buffered). 0, or -1 with
	 * errno (ENOSPC, EIO, ...). */
	int (*append)(void *ctx, const struct sc_item *entry);
	/* Cut every record after id keep. 0 or -1 with errno. */
	int (*truncate)(void *ctx, uint64_t keep);
	/* Read entry id back from the file (value valid until the next
	 * call). 0 or -1. */
	int (*read)(void *ctx, uint64_t id, struct sc_item *out);
	/* Replace the state file, durably, before returning. 0 or -1. */
	int (*save_state)(void *ctx, const struct sc_state *st);
	/* Write what was appended (and cut) so far, with fdatasync when
	 * sync is set; answer later with sc_node_synced(ticket), never
	 * from inside this call. */
	void (*sync)(void *ctx, uint64_t ticket, int sync);
	/* One line for the operator (level: enum sc_log_level). */
	void (*log)(void *ctx, int level, const char *line);
	/* Extra members for the stats JSON (sockets, faults); the bytes
	 * written or -1. May be NULL. */
	int (*stats)(void *ctx, char *buf, size_t len);
};

enum sc_node_status {
	SC_NODE_RECOVERING = 0, /* (re)started: learning the view and log */
	SC_NODE_NORMAL,         /* in a view, as coordinator or member */
	SC_NODE_VIEW_CHANGE,    /* electing the next view's coordinator */
};

enum sc_node_role { SC_ROLE_MEMBER = 0, SC_ROLE_COORDINATOR };

struct sc_node_info {
	enum sc_node_status status;
	enum sc_node_role role;
	uint32_t view;
	uint32_t coordinator;      /* of the view */
	uint64_t op;               /* entries held */
	uint64_t durable;          /* held and durable */
	uint64_t commit;           /* known committed */
	uint64_t applied;          /* applied (shown) */
	uint64_t view_changes;     /* views entered */
	int disk_failed;           /* writes failing: not accepting entries */
	uint64_t stale;            /* datagrams of an older view refused */
};

/* Table sizes against their caps (the simulator checks them). */
struct sc_node_usage {
	uint32_t pending, pending_cap;
	uint32_t held, held_cap;
	uint32_t gaps, gaps_cap;
	uint32_t waiting, waiting_cap;
	uint64_t uncommitted, uncommitted_cap;
};

struct sc_node;

/* A server of the cluster c (which must outlive it). seed: its random
 * numbers (NACK jitter, recovery nonces). NULL on bad id or no memory. */
struct sc_node *sc_node_new(const struct sc_config *c, uint32_t id,
    const struct sc_io *io, uint64_t seed);
void sc_node_free(struct sc_node *n);
/* Use this shared key from now on (before sc_node_start). */
void sc_node_set_key(struct sc_node *n, const struct sc_auth *auth);
/* The secret clients' address cookies are made with (32 bytes, random:
 * the daemon draws one at start; without it the node derives one from
 * its seed, which is for the simulator and tests only). */
void sc_node_set_cookie_secret(struct sc_node *n, const uint8_t *secret);
/* Wall-clock microseconds = monotonic now + offset: authentication's
 * only use of time (a server's first counter, clients' freshness). The
 * shell sets it at start and again at every timer: a client's request is
 * fresh if near the wall clock as it is now, or as it was when the first
 * offset was set (followed by the monotonic clock since). Nothing else
 * in the node sees the wall clock. */
void sc_node_set_wall_offset(struct sc_node *n, int64_t offset_us);

/* Start-up, before sc_node_start: the records of the log file in order,
 * then its state file (have_state 0: there was none). -1 if a record
 * does not follow the last one. */
int sc_node_load(struct sc_node *n, const struct sc_item *entry);
void sc_node_load_state(struct sc_node *n, const struct sc_state *st,
    int have_state);
/* Begin: the server learns the current view from the others before it
 * takes part (it never trusts its own memory of being coordinator). */
void sc_node_start(struct sc_node *n, int64_t now);

/* Stopping cleanly: the state file gets the commit point, so a restart
 * applies what is known committed at once. */
void sc_node_stop(struct sc_node *n);

/* For tests and the fuzzer: start in view `view` at once, as its
 * coordinator if the rule makes us that, else as a member (what a
 * finished view change leaves), without asking anyone. */
void sc_node_start_as(struct sc_node *n, int64_t now, uint32_t view);

/* Events. now: monotonic microseconds, never going back. */
void sc_node_receive(struct sc_node *n, int64_t now,
    const struct sockaddr_in *from, const void *buf, size_t len);
void sc_node_tick(struct sc_node *n, int64_t now);
/* The write asked for with this ticket is done (ok) or failed (errno). */
void sc_node_synced(struct sc_node *n, int64_t now, uint64_t ticket,
    int ok, int err);
/* End of a pass: apply, send the batches, ask for the next write. */
void sc_node_flush(struct sc_node *n, int64_t now);
/* When sc_node_tick must next run (INT64_MAX: nothing due). */
int64_t sc_node_next_deadline(const struct sc_node *n);

/* Queries. */
void sc_node_info(const struct sc_node *n, struct sc_node_info *info);
void sc_node_usage(const struct sc_node *n, struct sc_node_usage *u);
/* An applied entry (1 <= id <= applied). 0 or -1. */
int sc_node_entry(struct sc_node *n, uint64_t id, struct sc_item *out);
/* Any held entry (1 <= id <= op), applied or not, with its view. */
int sc_node_held(struct sc_node *n, uint64_t id, struct sc_item *out);
/* Hex digest of the applied entries. */
void sc_node_digest(const struct sc_node *n, char hex[33]);
/* The stats as one JSON object; its length or -1. */
int sc_node_stats_json(struct sc_node *n, char *buf, size_t len);
/* The socket facts the stats show. */
void sc_node_set_sockets(struct sc_node *n, int rcvbuf, int sndbuf,
    int control_socket);
const char *sc_node_status_name(enum sc_node_status s);

#endif
