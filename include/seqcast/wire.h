/*
 * wire.h - the seqcast datagram codec.
 *
 * A datagram is a fixed 28-byte header (network byte order) followed by a
 * tpl image (libtpl) whose format is fixed by the message type:
 *
 *   off size field
 *     0   4  magic    SC_MAGIC
 *     4   1  version  SC_VERSION
 *     5   1  type     enum sc_type
 *     6   2  flags    SC_FLAG_MAC when a MAC trailer follows (auth.h)
 *     8   4  cluster  cluster id: two clusters on one group ignore each other
 *    12   4  sender   server id, or SC_SENDER_CLIENT for clients
 *    16   4  view     the sender's view (servers); 0 from clients
 *    20   4  config   digest of the sender's shared cluster settings
 *                     (servers; 0 from clients): servers refuse peers
 *                     whose cluster file differs from theirs
 *    24   4  body_len length of the tpl image that follows, exactly
 *
 * The image is libtpl's format, byte for byte what libtpl 1.6.1 writes,
 * but the codec reads and writes it itself, without libtpl and without
 * malloc (daemon/wire.c says why). Every received datagram is untrusted:
 * sc_decode() reads the image in one pass against the format it must
 * have, checking every size, count and length before it reads what they
 * cover.
 */
#ifndef SEQCAST_WIRE_H
#define SEQCAST_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define SC_MAGIC         0x53514331u /* "SQC1" */
#define SC_VERSION       2
#define SC_HEADER_LEN    28
#define SC_SENDER_CLIENT 0xffffffffu

/* One datagram on a 1500-byte MTU: 1500 - 20 (IPv4) - 8 (UDP). The
 * default bound for what servers send when the MTU is not known. */
#define SC_DATAGRAM_MAX  1472
/* Largest datagram we accept at all (receive buffer size), and the most
 * a path with a 64 KiB MTU (loopback) carries. */
#define SC_RECV_MAX      65536
#define SC_SEND_MAX      65507
/* Largest entry value: one entry with its headers fits one DATA datagram
 * on a 1500-byte MTU, with room left for a MAC trailer. */
#define SC_VALUE_MAX     1024
/* Most items one decoded message holds (bounded by SC_RECV_MAX anyway). */
#define SC_ITEMS_MAX     4096
/* Longest stats text; STATS_REPLY carries it in pages of one datagram. */
#define SC_TEXT_MAX      16384

enum sc_type {
	SC_ADD = 1,      /* client -> server: U cookie, A(UUB) requests */
	SC_FWD,          /* member -> coordinator: U 0, A(UUB) requests */
	SC_DATA,         /* coordinator -> group: UUU head, commit, view;
	                    A(UUUB) entries */
	SC_RETX,         /* -> asker or group: same as DATA */
	SC_ACK,          /* server -> client: U applied, A(UUUi) acks */
	SC_STAMPED,      /* coordinator -> forwarder: U head, A(UUUi) */
	SC_HEARTBEAT,    /* coordinator -> group: UUUUU head, commit, stable,
	                    0, 0; A(UU) view segments (first id, view) */
	SC_NACK,         /* member -> coordinator: U op, A(UU) ranges */
	SC_REPORT,       /* member -> coordinator: UUUU op, applied, 0, 0 */
	SC_GONE,         /* coordinator -> asker: U 0, A(UU) ranges */
	SC_LOG_REQ,      /* client -> server: UUUU cookie, from, max, wait ms */
	SC_LOG_REPLY,    /* server -> client: UUU applied, 0, 0; A(UUUB) */
	SC_STATS_REQ,    /* client -> server: UUUU cookie, nonce, offset, 0 */
	SC_STATS_REPLY,  /* server -> client: UUs total length, offset, text */
	SC_VIEW_CHANGE,  /* server -> group: UUUU 0 ... (view: the one asked) */
	SC_DO_VIEW,      /* server -> new coordinator: UUUU normal view, op,
	                    commit, flags */
	SC_RECOVERY,     /* restarted server -> group: UUUU nonce, 0, 0, 0 */
	SC_RECOVERY_REPLY, /* -> it: UUUUU op, commit, nonce, status, normal
	                    view; A(UU) segments (coordinator's only) */
	SC_CONFIG,       /* server -> server: U parts, A(UU) (part, hash) */
	SC_COOKIE,       /* server -> client: UUUU cookie, nonce, 0, 0 */
	SC_TYPE_COUNT
};

/* Repair and view traffic: a server reads these first (they reach its
 * control socket, see sc_net_steered_socket). */
#define SC_CONTROL_TYPES (1u << SC_NACK | 1u << SC_RETX | 1u << SC_STAMPED | \
	1u << SC_GONE | 1u << SC_REPORT | 1u << SC_VIEW_CHANGE | \
	1u << SC_DO_VIEW | 1u << SC_RECOVERY | 1u << SC_RECOVERY_REPLY | \
	1u << SC_CONFIG)

/* Status in an ACK item. */
enum sc_status {
	SC_OK = 0,
	SC_ERR_TOO_LARGE = 1, /* value longer than SC_VALUE_MAX: refused */
	SC_ERR_BUSY = 2,      /* a bounded table is full: retry later */
	SC_ERR_UNAVAILABLE = 3, /* no coordinator with a majority reachable
	                         from this server (view change, minority
	                         side of a partition): try another server */
};

struct sc_header {
	uint32_t magic;
	uint8_t  version;
	uint8_t  type;
	uint16_t flags;
	uint32_t cluster;
	uint32_t sender;
	uint32_t view;
	uint32_t config;
	uint32_t body_len;
};

/* One item of a message. Which fields are used depends on the type:
 *   requests (ADD, FWD):          client, req, value/len
 *   entries (DATA, RETX, LOG_REPLY): id, client, req, value/len; view
 *                                 (from the message's third scalar)
 *   acks (ACK, STAMPED):          client, req, id, status
 *   ranges (NACK, GONE):          first, last (inclusive)
 *   segments (HEARTBEAT, RECOVERY_REPLY): first (id), last (view)
 *   digest parts (CONFIG):        first (part), last (hash)         */
struct sc_item {
	uint64_t id;
	uint64_t client;
	uint64_t req;
	uint64_t first;
	uint64_t last;
	int32_t status;
	uint32_t len;
	uint32_t view;        /* entries: the view the id was stamped in */
	const uint8_t *value; /* not owned; decoded: into the datagram */
};

/* The scalars before a message's array, in order (see enum sc_type for
 * what each means per type); unused ones are 0. */
struct sc_msg {
	struct sc_header h;
	uint64_t a, b, c, d, e;
	uint32_t count;       /* items used */
	struct sc_item *items;
	const char *text;     /* STATS_REPLY only (NUL-terminated; decoded,
	                         a copy in the decoder) */
};

/* Why a datagram was rejected; counted per reason in the stats. */
enum sc_reject {
	SC_REJ_NONE = 0,
	SC_REJ_SHORT,        /* shorter than the header */
	SC_REJ_MAGIC,
	SC_REJ_VERSION,
	SC_REJ_TYPE,         /* unknown message type */
	SC_REJ_CLUSTER,      /* another cluster's datagram */
	SC_REJ_LENGTH,       /* body_len disagrees with the datagram size */
	SC_REJ_LAYOUT,       /* tpl image does not match its format */
	SC_REJ_TPL,          /* no longer returned: it was libtpl refusing
	                        an image the checks let through, and the
	                        codec no longer calls libtpl. Kept so that
	                        the values after it and the stats' names
	                        ("tpl": 0) stay as they were. */
	SC_REJ_VALUE,        /* a value longer than SC_VALUE_MAX */
	SC_REJ_COUNT
};

const char *sc_type_name(int type);     /* "add", "data", ...; "?" */
const char *sc_reject_name(int reason); /* "short", "magic", ... */

/* A decoder owns its item array and a copy of the last STATS_REPLY
 * text; one per receiving thread of control, reused for every datagram. */
struct sc_decoder;
struct sc_decoder *sc_decoder_new(void);
void sc_decoder_free(struct sc_decoder *d);

/* Decode buf[0..len) into *out. cluster is the expected cluster id.
 * Returns SC_REJ_NONE (0) or the reason for rejection; never reads outside
 * buf, never allocates. Items and the text are the decoder's, valid until
 * the next sc_decode() on it. Values point into buf (no copy): valid until
 * the next sc_decode() on this decoder or until buf changes or is freed,
 * whichever comes first; a caller that keeps one longer copies it. */
int sc_decode(struct sc_decoder *d, const void *buf, size_t len,
    uint32_t cluster, struct sc_msg *out);

/* Only the header (for peeking at the type, e.g. for fault injection).
 * Returns SC_REJ_NONE or a reason. */
int sc_decode_header(const void *buf, size_t len, struct sc_header *h);

/* Encode m into buf (capacity cap). m->h.body_len is ignored and
 * computed. Returns the datagram length, or -1 if it does not fit cap
 * or an item is invalid (value longer than SC_VALUE_MAX). */
long sc_encode(const struct sc_msg *m, void *buf, size_t cap);

/* Exact encoded size of a message of this type with these items, so that
 * batchers can fill a datagram to the byte. */
size_t sc_encoded_size(int type, const struct sc_item *items, uint32_t count);
/* Bytes one more item adds to a message of this type. */
size_t sc_item_size(int type, const struct sc_item *item);
/* Exact encoded size of m, STATS_REPLY text included (sc_encoded_size()
 * counts an empty text for it). 0 for an unknown type. */
size_t sc_msg_size(const struct sc_msg *m);

/* Does nothing: it installed libtpl hooks that never exit or print, when
 * the codec called libtpl. Kept for the callers that call it at
 * start-up. */
void sc_tpl_hooks_install(void);

#endif
