/*
 * config.h - the cluster file (INI, parsed with Debian's libinih).
 *
 *   [cluster]            settings shared by every server
 *   [server N]           one section per server, N = 0..SC_SERVERS_MAX-1
 *
 * Every key is known: an unknown key, a bad value or a duplicate section is
 * an error that names the file, the line and the key. Fault-injection keys
 * (fault_*) may appear in [cluster] (all servers) and in a [server N]
 * section (that server only, overriding the cluster's).
 */
#ifndef SEQCAST_CONFIG_H
#define SEQCAST_CONFIG_H

#include <netinet/in.h>
#include <stdint.h>
#include <stddef.h>

#include "seqcast/fault.h"
#include "seqcast/limits.h"

/* nack_delay_ms = auto: no wait with two members (three servers), where
 * no wait can spare a NACK; 1 ms with more. */
#define SC_NACK_DELAY_AUTO UINT32_MAX
#define SC_NACK_DELAY_AUTO_MS 1

struct sc_server_conf {
	int present;                 /* section seen */
	struct sockaddr_in listen;   /* unicast address: clients and peers */
	struct in_addr interface;    /* multicast interface; cluster's if unset */
	int has_interface;
	char data_dir[256];          /* "" = in memory */
	struct sc_fault_conf fault;  /* this server's fault injection */
	int has_fault;               /* any fault_* key in the section */
};

struct sc_config {
	uint32_t cluster_id;
	struct sockaddr_in group;    /* multicast group and port */
	struct in_addr interface;    /* default multicast interface */
	int ttl;                     /* multicast TTL, default 1 */
	uint32_t coordinator;        /* server id of the coordinator */
	uint32_t nservers;           /* highest server id + 1 */
	struct sc_server_conf servers[SC_SERVERS_MAX];

	/* timings, milliseconds */
	uint32_t heartbeat_ms;       /* coordinator heartbeat interval */
	uint32_t failover_ms;        /* no heartbeat or DATA from the
	                                coordinator for this long: members
	                                suspect it and start a view change */
	uint32_t nack_delay_ms;      /* max random delay before a first NACK,
	                                or SC_NACK_DELAY_AUTO */
	uint32_t nack_backoff_max_ms;/* NACK repeat interval cap */
	uint32_t report_ms;          /* applied-id report interval */
	uint32_t forward_retry_ms;   /* first re-forward delay */
	uint32_t retx_window_ms;     /* two askers within it: multicast */

	/* limits */
	uint64_t store_bytes;        /* retransmit store cap */
	uint32_t dedup_max;          /* (client, request) -> id memory */
	uint32_t pending_max;        /* pending forwards/acks per server */
	uint32_t holdback_max;       /* entries held beyond the applied id */
	uint32_t value_max;          /* <= SC_VALUE_MAX */
	uint32_t mtu;                /* bound of every datagram sent, bytes:
	                                0 = the MTU of the interface the
	                                server sends on (1500 if unknown),
	                                else 576..65535 */

	char data_dir[256];          /* default data folder ("" = memory) */
	char key_file[256];          /* shared key ("" = no authentication) */
	uint32_t add_rate;           /* ADD entries/s per source address at
	                                each server (0 = no limit) */
	int fsync;                   /* enum sc_fsync: each, interval, never */
	uint32_t fsync_interval_ms;  /* for fsync = interval */
	uint32_t catchup_rate;       /* entries/s served from the log to a
	                                server catching up (0 = no limit) */
	struct sc_fault_conf fault;  /* cluster-wide fault injection */
};

/* Defaults for every key (a config with no servers). */
void sc_config_defaults(struct sc_config *c);

/* Parse path into *c. On error returns -1 and writes one line
 * "FILE:LINE: key 'K': what is wrong" (or "FILE: ..." for whole-file
 * problems) into err. */
int sc_config_load(struct sc_config *c, const char *path,
    char *err, size_t errlen);

/* The same from a string (tests, fuzzing); name is used in messages. */
int sc_config_parse(struct sc_config *c, const char *text, const char *name,
    char *err, size_t errlen);

/* Fault settings in force for server id: the server's own if it has any
 * fault_* key, else the cluster's. */
const struct sc_fault_conf *sc_config_fault(const struct sc_config *c,
    uint32_t id);

/* Apply one "key=value" override (command line --fault / --set).
 * Returns -1 with a message in err on an unknown key or bad value. */
int sc_config_set(struct sc_config *c, uint32_t server, const char *kv,
    char *err, size_t errlen);

/* Parse "A.B.C.D:PORT" into *sa; -1 if malformed. */
int sc_parse_addr(const char *s, struct sockaddr_in *sa);

/*
 * One cluster, one configuration. Servers exchange a digest of the
 * settings they must share and refuse to work with a server whose digest
 * differs, naming the parts that differ (a server given "coordinator = 1"
 * while the others say 0 would stamp ids of its own). Each part is a
 * 32-bit FNV-1a hash of a canonical encoding (big-endian integers, never
 * struct memory): equal settings give equal parts on every host and
 * build, whatever the key order, comments or per-server keys.
 *
 * May differ per server (not in the digest): interface, ttl, mtu,
 * data_dir, fsync, fsync_interval_ms, the key_file's path, nack_*,
 * report_ms, forward_retry_ms, retx_window_ms, store_bytes, dedup_max,
 * pending_max, holdback_max, add_rate, catchup_rate and fault_*.
 */
enum sc_digest_part {
	SC_DIGEST_ID,           /* id: which cluster */
	SC_DIGEST_COORDINATOR,  /* coordinator: who stamps in view 0 */
	SC_DIGEST_MEMBERS,      /* each [server N]'s id and listen address:
	                           who is who, and what a majority is */
	SC_DIGEST_GROUP,        /* group address and port: where DATA goes */
	SC_DIGEST_KEY,          /* whether a key_file is set (the key itself
	                           is checked by every datagram's MAC) */
	SC_DIGEST_VALUE_MAX,    /* value_max: an entry one accepts, all must */
	SC_DIGEST_HEARTBEAT,    /* heartbeat_ms and failover_ms: members */
	SC_DIGEST_FAILOVER,     /* time the coordinator by its heartbeat */
	SC_DIGEST_PARTS
};

struct sc_config_digest {
	uint32_t part[SC_DIGEST_PARTS]; /* host order; send each as 4 bytes
	                                   in network order */
};

void sc_config_digest(const struct sc_config *c, struct sc_config_digest *d);

/* 0 if equal; else the number of parts that differ, with their names in
 * buf, e.g. "coordinator, members" (truncated to len; buf may be NULL). */
int sc_config_digest_diff(const struct sc_config_digest *mine,
    const struct sc_config_digest *theirs, char *buf, size_t len);

/* The parts folded into one word (FNV-1a over them, big-endian), never
 * 0: the digest every server datagram's header carries (clients send 0). */
uint32_t sc_config_digest_word(const struct sc_config_digest *d);

/* "id", "coordinator", "members", "group", "key_file", "value_max",
 * "heartbeat_ms", "failover_ms"; "?" for anything else. */
const char *sc_config_digest_part_name(int part);

#endif
