/*
 * cookie.h - stateless address cookies: a requester's proof that it
 * receives what is sent to the address its datagrams claim, as DNS
 * cookies (RFC 7873, RFC 9018), DTLS's HelloVerifyRequest and QUIC's
 * address validation (RFC 9000 section 8) do it.
 *
 *   cookie = BLAKE2b keyed with the server's secret over
 *            (IPv4 address, port, epoch), first 8 bytes (0 means "none")
 *   epoch  = now / period (monotonic time, passed in)
 *
 * The secret changes every period: the next one is a keyed hash of the
 * current (a one-way ratchet: a secret that leaks does not give the
 * earlier ones), and the previous one is kept, so a cookie is accepted
 * in the epoch it was made and the next one (one to two periods). A
 * server draws a fresh random secret when it starts, so a restart makes
 * every older cookie fail and clients fetch a new one. Nothing is kept
 * per client: checking a cookie is two hashes.
 */
#ifndef SEQCAST_COOKIE_H
#define SEQCAST_COOKIE_H

#include <netinet/in.h>
#include <stdint.h>

#define SC_COOKIE_SECRET_BYTES 32
#define SC_COOKIE_PERIOD_US (120LL * 1000000)   /* the default period */

struct sc_cookie {
	uint8_t cur[SC_COOKIE_SECRET_BYTES];  /* the epoch's secret */
	uint8_t prev[SC_COOKIE_SECRET_BYTES]; /* the epoch before's */
	int has_prev;             /* prev made cookies that may be out */
	int64_t epoch;            /* cur's epoch */
	int64_t period;           /* microseconds */
	uint64_t rotations;       /* secrets replaced so far */
};

enum sc_cookie_result {
	SC_COOKIE_NONE = 0,       /* the request carried no cookie (0) */
	SC_COOKIE_OK,             /* made here for this address, in time */
	SC_COOKIE_BAD,            /* another address's, too old, from before
	                             a restart, or forged */
};

/* Start with this secret (random in the daemon) at time now; period in
 * microseconds (> 0). */
void sc_cookie_init(struct sc_cookie *c, const uint8_t *secret,
    int64_t period, int64_t now);
/* The cookie for address a now (never 0). */
uint64_t sc_cookie_make(struct sc_cookie *c, const struct sockaddr_in *a,
    int64_t now);
/* Is `cookie` one this server made for a, now or in the epoch before? */
enum sc_cookie_result sc_cookie_check(struct sc_cookie *c,
    const struct sockaddr_in *a, uint64_t cookie, int64_t now);
/* Zero the secrets. */
void sc_cookie_wipe(struct sc_cookie *c);

#endif
