/*
 * wire.h - the seqcast datagram codec.
 *
 * A datagram is a fixed 24-byte header (network byte order) followed by a
 * tpl image (libtpl) whose format is fixed by the message type:
 *
 *   off size field
 *     0   4  magic    SC_MAGIC
 *     4   1  version  SC_VERSION
 *     5   1  type     enum sc_type
 *     6   2  flags    0 (reserved; the auth issue adds a MAC flag)
 *     8   4  cluster  cluster id: two clusters on one group ignore each other
 *    12   4  sender   server id, or SC_SENDER_CLIENT for clients
 *    16   4  epoch    coordinator epoch, 0 until failover exists
 *    20   4  body_len length of the tpl image that follows, exactly
 *
 * Every received datagram is untrusted: sc_decode() checks the header and
 * walks the tpl image against the format it must have (sizes, counts,
 * lengths) before tpl_load() ever sees it, because libtpl 1.6.1 trusts the
 * array counts inside an image and reads past its buffer on a crafted one.
 */
#ifndef SEQCAST_WIRE_H
#define SEQCAST_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define SC_MAGIC         0x53514331u /* "SQC1" */
#define SC_VERSION       1
#define SC_HEADER_LEN    24
#define SC_SENDER_CLIENT 0xffffffffu

/* One datagram on a 1500-byte MTU: 1500 - 20 (IPv4) - 8 (UDP). Everything
 * servers multicast or forward fits this. */
#define SC_DATAGRAM_MAX  1472
/* Replies to a client's log/stats request may be larger (unicast, the
 * kernel fragments them); still one UDP datagram. */
#define SC_REPLY_MAX     32768
/* Largest datagram we accept at all (receive buffer size). */
#define SC_RECV_MAX      65536
/* Largest entry value: one entry with its headers fits one DATA datagram,
 * with room left for a MAC trailer. */
#define SC_VALUE_MAX     1024
/* Most items one decoded message holds (bounded by SC_RECV_MAX anyway). */
#define SC_ITEMS_MAX     4096
/* Longest STATS_REPLY text: the reply fits SC_REPLY_MAX exactly (the
 * "s" image adds 14 bytes: "tpl", flags, size, "s\0", length word). */
#define SC_TEXT_MAX      (SC_REPLY_MAX - SC_HEADER_LEN - 14)

enum sc_type {
	SC_ADD = 1,      /* client -> server: A(UUB) requests */
	SC_FWD,          /* server -> coordinator: A(UUB) requests */
	SC_DATA,         /* coordinator -> group: U head, A(UUUB) entries */
	SC_RETX,         /* coordinator -> asker or group: same as DATA */
	SC_ACK,          /* server -> client: A(UUUi) acks */
	SC_STAMPED,      /* coordinator -> forwarder, repeats: A(UUUi) */
	SC_HEARTBEAT,    /* coordinator -> group: UU highest, stable */
	SC_NACK,         /* server -> coordinator: U applied, A(UU) ranges */
	SC_REPORT,       /* server -> coordinator: UU applied, 0 */
	SC_GONE,         /* coordinator -> asker: U lowest held, A(UU) ranges */
	SC_LOG_REQ,      /* client -> server: UU from id, max entries */
	SC_LOG_REPLY,    /* server -> client: U applied, A(UUUB) entries */
	SC_STATS_REQ,    /* client -> server: UU nonce, 0 */
	SC_STATS_REPLY,  /* server -> client: s JSON text */
	SC_TYPE_COUNT
};

/* Repair traffic and its bookkeeping: a server reads these first (they
 * reach its control socket, see sc_net_steered_socket). */
#define SC_CONTROL_TYPES (1u << SC_NACK | 1u << SC_RETX | 1u << SC_STAMPED | \
	1u << SC_GONE | 1u << SC_REPORT)

/* Status in an ACK item. */
enum sc_status {
	SC_OK = 0,
	SC_ERR_TOO_LARGE = 1, /* value longer than SC_VALUE_MAX: refused */
	SC_ERR_BUSY = 2,      /* a bounded table is full: retry later */
	SC_ERR_UNAVAILABLE = 3, /* no majority behind it: try another server */
};

struct sc_header {
	uint32_t magic;
	uint8_t  version;
	uint8_t  type;
	uint16_t flags;
	uint32_t cluster;
	uint32_t sender;
	uint32_t epoch;
	uint32_t body_len;
};

/* One item of a message. Which fields are used depends on the type:
 *   requests (ADD, FWD):          client, req, value/len
 *   entries (DATA, RETX, LOG_REPLY): id, client, req, value/len
 *   acks (ACK, STAMPED):          client, req, id, status
 *   ranges (NACK, GONE):          first, last (inclusive)          */
struct sc_item {
	uint64_t id;
	uint64_t client;
	uint64_t req;
	uint64_t first;
	uint64_t last;
	int32_t status;
	uint32_t len;
	const uint8_t *value; /* not owned: into the caller's buffer or arena */
};

struct sc_msg {
	struct sc_header h;
	uint64_t a;           /* first scalar: head / applied / from / nonce */
	uint64_t b;           /* second scalar of UU messages */
	uint32_t count;       /* items used */
	struct sc_item *items;
	const char *text;     /* STATS_REPLY only (NUL-terminated) */
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
	SC_REJ_TPL,          /* tpl_load/unpack refused it anyway */
	SC_REJ_VALUE,        /* a value longer than SC_VALUE_MAX */
	SC_REJ_COUNT
};

const char *sc_type_name(int type);     /* "add", "data", ...; "?" */
const char *sc_reject_name(int reason); /* "short", "magic", ... */

/* A decoder owns its item array and value arena; one per receiving
 * thread of control, reused for every datagram. */
struct sc_decoder;
struct sc_decoder *sc_decoder_new(void);
void sc_decoder_free(struct sc_decoder *d);

/* Decode buf[0..len) into *out. Items and values stay valid until the
 * next call on the same decoder. cluster is the expected cluster id.
 * Returns SC_REJ_NONE (0) or the reason for rejection; never reads outside
 * buf and never lets libtpl exit the process. */
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

/* Install tpl hooks that never exit or print (call once at start-up;
 * sc_decode calls it too). */
void sc_tpl_hooks_install(void);

#endif
