/*
 * auth.h - optional shared-key authentication of every datagram.
 *
 * Threat model: a host on the LAN can send anything to the group and to
 * every port, with any source address, and can record and replay what it
 * sees. With a key file, every datagram carries a trailer:
 *
 *     counter (8 bytes, big-endian) | tag (32 bytes)
 *
 * tag = HMAC-SHA-512-256 (libsodium crypto_auth) over header, body and
 * counter, and header flag SC_FLAG_MAC is set. Without the key nobody can
 * make a datagram a server accepts: no ADD, no forged DATA, heartbeat or
 * NACK. Replays are refused by the counter: each server sends counters that
 * only grow (the wall clock in microseconds when it starts, then + 1 per
 * datagram), and receivers keep, per server, the highest counter seen and
 * a window of SC_AUTH_WINDOW datagrams behind it (datagrams on the
 * unicast and multicast paths may arrive out of order: one may wait in
 * the group socket while thousands of later ones come through the
 * control socket). Clients have no id a server knows in advance, so a
 * client datagram must carry a counter within 60 s of the server's clock;
 * a replay of a client's ADD inside that minute is a repeated request and
 * gets the id it already has (dedup), a replayed LOG or STATS request only
 * sends the reply to the original client. Confidentiality is not a goal:
 * entries travel in clear.
 */
#ifndef SEQCAST_AUTH_H
#define SEQCAST_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "seqcast/limits.h"

#define SC_FLAG_MAC      0x0001
#define SC_AUTH_KEY_BYTES 32              /* crypto_auth_KEYBYTES */
#define SC_AUTH_TAG_BYTES 32              /* crypto_auth_BYTES */
#define SC_AUTH_TRAILER  (8 + SC_AUTH_TAG_BYTES)
#define SC_AUTH_WINDOW   16384   /* datagrams; a multiple of 64 */
#define SC_AUTH_SKEW_US  (60LL * 1000000)

struct sc_auth_peer {
	uint64_t highest;                 /* highest counter accepted */
	uint64_t seen[SC_AUTH_WINDOW / 64]; /* ring: bit c % SC_AUTH_WINDOW */
};

struct sc_auth {
	int on;
	uint8_t key[SC_AUTH_KEY_BYTES];
	uint64_t counter;                 /* last counter we sent */
	struct sc_auth_peer peer[SC_SERVERS_MAX];
};

enum sc_auth_result {
	SC_AUTH_OK = 0,
	SC_AUTH_MISSING,   /* no MAC on a datagram while a key is set */
	SC_AUTH_BAD,       /* the tag does not verify */
	SC_AUTH_REPLAY,    /* counter already seen or too old */
	SC_AUTH_UNEXPECTED,/* a MAC while we have no key */
	SC_AUTH_STALE,     /* a server's valid MAC, its counter below our
	                      window: a replay, or the server restarted with
	                      its clock behind (the node challenges it) */
	SC_AUTH_RESULTS
};

/* Server `sender` proved it is live (it answered our challenge with a
 * datagram whose MAC holds): start its window at that datagram's
 * counter. */
void sc_auth_restart_peer(struct sc_auth *a, uint32_t sender,
    const uint8_t *buf, size_t len);

/* Zero a's key and state (a copy about to be dropped). */
void sc_auth_wipe(struct sc_auth *a);

/* Read a key file: 64 hex digits (whitespace around them allowed). */
int sc_auth_load(struct sc_auth *a, const char *path, char *err,
    size_t errlen);
/* Write a new random key to path (mode 0600). */
int sc_auth_generate(const char *path, char *err, size_t errlen);
/* Set the key directly (tests). */
void sc_auth_set_key(struct sc_auth *a, const uint8_t *key);
/* Append the trailer to buf[0..len) (capacity cap), set the flag.
 * now_us: wall clock. Returns the new length or -1 if it does not fit. */
long sc_auth_seal(struct sc_auth *a, uint8_t *buf, size_t len, size_t cap,
    int64_t now_us);
/* Check a received datagram; on success *inner is its length without the
 * trailer (and the flag stays set in the header; the codec ignores it).
 * sender is the header's sender (a server id, or SC_SENDER_CLIENT). */
enum sc_auth_result sc_auth_open(struct sc_auth *a, const uint8_t *buf,
    size_t len, int64_t now_us, size_t *inner);
const char *sc_auth_result_name(int r);

#endif
