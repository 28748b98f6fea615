/*
 * sim.h - the deterministic simulator: whole seqcast clusters (3 or 5
 * servers) and their clients in one process, the real node code, and a
 * simulated network, disk and clock, all driven by one seed.
 *
 *   sim.c        the world: set-up, the scheduler, servers' I/O, crashes
 *   sim_net.c    the network: delays, loss, duplication, partitions
 *   sim_disk.c   each server's disk: file images, syncs, crashes, faults
 *   sim_client.c clients that add entries and retry like `seqcast add`
 *   sim_check.c  the invariants, checked after every step
 *
 * A failing seed prints the command that replays it and the events
 * around the failure.
 */
#ifndef SEQCAST_SIM_H
#define SEQCAST_SIM_H

#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>

#include "seqcast/choice.h"
#include "seqcast/config.h"
#include "seqcast/node.h"
#include "seqcast/resend.h"
#include "seqcast/wire.h"

#define SIM_SERVERS_MAX 5
#define SIM_CLIENTS_MAX 4
#define SIM_REQS_MAX 400
#define SIM_TRACE 64           /* events kept for a failure report */
#define SIM_CLIENT_PORT 20000

/* ---- the network ---- */

struct sim_packet {
	int64_t when;
	uint64_t seq;              /* ties broken in sending order */
	int dest;                  /* server index, or SIM_SERVERS_MAX + client */
	struct sockaddr_in from;
	size_t len;
	uint8_t *buf;
};

struct sim_net {
	struct sim_packet *q;      /* min-heap by (when, seq) */
	size_t len, cap;
	uint64_t seq;
	double loss, dup;          /* per delivery */
	double late;               /* ... delayed 5-300 ms more (reordered
	                              across view changes) */
	int64_t delay_min, jitter; /* microseconds */
	uint32_t cut[SIM_SERVERS_MAX]; /* bit j of cut[i]: i cannot reach j */
	uint32_t lost_to[SC_TYPE_COUNT]; /* per type: the servers it never
	                              reaches (bits) */
	uint64_t sent, delivered, dropped;
};

/* ---- the disk ---- */

struct sim_disk {
	uint8_t *file;             /* the log file's bytes */
	uint64_t len, cap;
	uint64_t synced;           /* bytes that survive a crash */
	uint64_t *off;             /* off[id]: offset of record id */
	uint64_t nrec, offcap;     /* records in the file (last id) */
	uint8_t state[SC_STATE_LEN];
	int have_state;
	int failing;               /* appends and syncs fail (ENOSPC/EIO) */
	int sync_pending;
	uint64_t sync_ticket;
	uint64_t sync_len;         /* what the pending sync covers */
	int sync_fds;
	int64_t sync_when;
	uint8_t rbuf[SC_LOGREC_HEAD + SC_VALUE_MAX];
	uint64_t syncs, fails, tears;
};

/* ---- servers and clients ---- */

struct sim;

struct sim_server {
	struct sim *sim;
	int idx;
	int alive;
	struct sc_node *node;
	struct sim_disk disk;
	int64_t down_until;        /* crashed: restart at */
	int64_t paused_until;      /* frozen (a long pause of the process:
	                              what reaches it waits, no timer runs) */
	uint64_t checked;          /* applied ids checked against the truth */
	uint64_t restarts;
	double drift;              /* its clock runs this much fast (ppm) */
};

struct sim_client {
	int idx;
	uint64_t client_id;
	int first;                 /* the server its list starts with */
	uint32_t total, next, acked;
	uint32_t window;
	int64_t start;
	struct sc_resend resend;   /* the policy of `seqcast add` */
	struct sc_choice choice;   /* ... and its choice of server */
	uint64_t id[SIM_REQS_MAX + 1]; /* acknowledged ids (0: not yet) */
	struct sc_decoder *dec;
	int cookies;               /* echoes the servers' cookies, as
	                              `seqcast` does (else its address is
	                              never verified) */
	uint64_t cookie[SIM_SERVERS_MAX]; /* each server's latest */
	uint64_t bytes_to[SIM_SERVERS_MAX];   /* each server received from
	                              it (duplicates the network made too) */
	uint64_t bytes_from[SIM_SERVERS_MAX]; /* each server sent it */
	int64_t next_query;        /* a log or stats request, now and then */
	uint32_t queries;
	uint64_t highest;          /* highest id acknowledged to it */
	uint64_t pages;            /* log entries received and checked */
};

/* What a seed set up: printed with a failure. */
struct sim_plan {
	int nservers;
	int data_dir;              /* servers keep their log on the disk */
	int fsync;                 /* enum sc_fsync */
	int nclients;
	uint32_t reqs;             /* per client */
	int64_t fault_end;         /* faults stop here */
	int64_t bound;             /* converge by this long after */
	double loss, dup, late;
	int64_t jitter;
	int crashes, partitions, disk_faults, type_losses, pauses;
	int lost_type;             /* a type lost entirely (0: none) */
	int persist_lost_type;     /* ... to one member, for the whole run */
	uint32_t persist_lost_to;  /* that member (bit) */
};

struct sim {
	uint64_t seed;
	uint64_t rng;
	int64_t now;
	struct sc_config conf;
	struct sim_plan plan;
	struct sim_net net;
	struct sim_server srv[SIM_SERVERS_MAX];
	struct sim_client cli[SIM_CLIENTS_MAX];
	int64_t next_fault;        /* next fault action */
	int last_kind, last_which; /* the last event, to catch one that spins */
	uint64_t spins;
	int healed;
	int verbose;
	char trace[SIM_TRACE][160];
	uint64_t ntrace;
	char failure[512];
	int failed;
	/* the truth: what each id holds once any server applied it */
	struct { uint64_t client, req, hash; } *truth;
	uint64_t truth_cap;
	/* stamps seen on the wire: (view, id) -> hash */
	struct sim_stamp { uint32_t view; uint64_t id, hash; } *stamps;
	uint64_t nstamps, stamps_cap;
	uint64_t steps, crashes, restarts, partitions, disk_faults;
	uint64_t views;            /* highest view seen */
	uint64_t stale;            /* datagrams of an older view refused */
};

/* sim.c */
uint64_t sim_rand(struct sim *s);
uint64_t sim_below(struct sim *s, uint64_t n);
double sim_uniform(struct sim *s);
void sim_trace(struct sim *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void sim_fail(struct sim *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int64_t sim_local(const struct sim_server *v, int64_t now);

/* sim_net.c */
void sim_net_send(struct sim *s, int from_srv, const struct sockaddr_in *from,
    const struct sockaddr_in *to, const void *buf, size_t len);
int sim_net_pop(struct sim *s, struct sim_packet *p);
void sim_net_requeue(struct sim *s, const struct sim_packet *p);
int64_t sim_net_next(const struct sim *s);
void sim_net_free(struct sim *s);
int sim_addr_server(const struct sim *s, const struct sockaddr_in *a);

/* sim_disk.c */
int sim_disk_append(struct sim_server *v, const struct sc_item *it);
int sim_disk_truncate(struct sim_server *v, uint64_t keep);
int sim_disk_read(struct sim_server *v, uint64_t id, struct sc_item *out);
int sim_disk_save(struct sim_server *v, const struct sc_state *st);
void sim_disk_sync(struct sim_server *v, uint64_t ticket, int fds);
void sim_disk_crash(struct sim_server *v);
int sim_disk_load(struct sim_server *v);
uint64_t sim_disk_durable_id(const struct sim_server *v);
void sim_disk_free(struct sim_disk *d);

/* sim_client.c */
void sim_client_init(struct sim *s, struct sim_client *c, int idx);
void sim_client_tick(struct sim *s, struct sim_client *c);
void sim_client_receive(struct sim *s, struct sim_client *c,
    const void *buf, size_t len);
int64_t sim_client_deadline(const struct sim_client *c);
void sim_client_free(struct sim_client *c);
void sim_client_value(uint64_t client, uint64_t req, uint8_t *buf,
    uint32_t *len);

/* sim_check.c */
uint64_t sim_hash(const uint8_t *v, uint32_t len, uint64_t client,
    uint64_t req);
void sim_check_step(struct sim *s);
void sim_check_sent(struct sim *s, int srv, const void *buf, size_t len);
void sim_check_request(struct sim *s, int srv,
    const struct sockaddr_in *from, size_t len);
void sim_check_reply(struct sim *s, int srv, const struct sockaddr_in *to,
    size_t len);
void sim_check_acked(struct sim *s, uint64_t client, uint64_t req,
    uint64_t id);
void sim_check_page(struct sim *s, int srv, const struct sc_msg *m);
int sim_converged(struct sim *s);
void sim_check_end(struct sim *s);

#endif
