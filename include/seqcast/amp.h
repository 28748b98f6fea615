/*
 * amp.h - the anti-amplification budget, QUIC's rule (RFC 9000 section
 * 8): until a requester has shown that it receives at its address (a
 * valid cookie, cookie.h), a server sends that address at most
 * SC_AMP_FACTOR times the bytes it received from it. Otherwise a
 * datagram of 50 bytes with a forged source address could make the
 * server send kilobytes to a victim (the memcached and NTP monlist
 * floods worked so).
 *
 * A fixed table of addresses (IPv4 address and port), set-associative
 * and hashed with a secret salt, so an outsider can neither grow it nor
 * aim at one slot. Per address:
 *
 *   verified  while the latest request from it carried a valid cookie
 *             (for at most SC_AMP_VERIFIED_US after it); a request
 *             without one makes it unverified again, so whoever forges
 *             a verified client's address gets nothing unlimited;
 *   credit    SC_AMP_FACTOR x the bytes of its requests, less what was
 *             sent to it while unverified (capped at SC_AMP_CREDIT_MAX).
 *
 * An address that falls out of the table loses its credit and its
 * verification: the budget errs on the side of sending less (the client
 * asks again, with its cookie). Time passed in; pure.
 */
#ifndef SEQCAST_AMP_H
#define SEQCAST_AMP_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#define SC_AMP_FACTOR      3
#define SC_AMP_SETS        1024
#define SC_AMP_WAYS        4
#define SC_AMP_CREDIT_MAX  (SC_AMP_FACTOR * 65536)
#define SC_AMP_VERIFIED_US (10LL * 1000000)

struct sc_amp_slot {
	uint32_t addr;            /* network order */
	uint16_t port;            /* network order */
	uint8_t used;
	uint32_t credit;          /* bytes it may still be sent unverified */
	int64_t verified_until;   /* verified before this time */
	int64_t last;             /* last request: the oldest leaves first */
};

struct sc_amp {
	uint64_t salt;            /* keys the hash: slots cannot be aimed at */
	struct sc_amp_slot slot[SC_AMP_SETS * SC_AMP_WAYS];
	uint64_t capped;          /* datagrams not sent: over the budget */
	uint64_t capped_bytes;    /* ... their bytes */
	uint64_t evicted;         /* addresses pushed out of the table */
};

void sc_amp_init(struct sc_amp *a, uint64_t salt);
/* A client request of len bytes (MAC included) from `from`; verified:
 * it carried a valid cookie. */
void sc_amp_received(struct sc_amp *a, const struct sockaddr_in *from,
    size_t len, int verified, int64_t now);
/* Is `to` verified now? */
int sc_amp_verified(const struct sc_amp *a, const struct sockaddr_in *to,
    int64_t now);
/* Bytes `to` may be sent now: SIZE_MAX when verified, 0 when unknown. */
size_t sc_amp_room(const struct sc_amp *a, const struct sockaddr_in *to,
    int64_t now);
/* A datagram of len bytes for `to`: 1 send it (its bytes taken from the
 * credit unless verified), 0 do not (counted; nothing taken). */
int sc_amp_spend(struct sc_amp *a, const struct sockaddr_in *to, size_t len,
    int64_t now);

#endif
