/*
 * cookie.c - address cookies: a keyed hash of (address, port, epoch)
 * under a secret that ratchets every period.
 */
#include <string.h>

#include <sodium.h>

#include "seqcast/bytes.h"
#include "seqcast/cookie.h"

_Static_assert(SC_COOKIE_SECRET_BYTES >= crypto_generichash_KEYBYTES_MIN &&
    SC_COOKIE_SECRET_BYTES <= crypto_generichash_KEYBYTES_MAX,
    "cookie secret size");

static const char ratchet_label[] = "seqcast cookie secret ratchet";

/* The next secret: a keyed hash of the current one under a label, so
 * that knowing it tells nothing of the one before. */
static void
ratchet(uint8_t *secret)
{
	uint8_t next[SC_COOKIE_SECRET_BYTES];

	crypto_generichash(next, sizeof(next),
	    (const unsigned char *)ratchet_label, sizeof(ratchet_label) - 1,
	    secret, SC_COOKIE_SECRET_BYTES);
	memcpy(secret, next, sizeof(next));
	sodium_memzero(next, sizeof(next));
}

static int64_t
epoch_of(const struct sc_cookie *c, int64_t now)
{
	return now < 0 ? 0 : now / c->period;
}

void
sc_cookie_init(struct sc_cookie *c, const uint8_t *secret, int64_t period,
    int64_t now)
{
	/* libsodium picks its fastest BLAKE2b (safe to call again); if it
	 * cannot, the portable one serves: nothing to do. */
	if (sodium_init() < 0) {
	}
	memset(c, 0, sizeof(*c));
	memcpy(c->cur, secret, sizeof(c->cur));
	c->period = period > 0 ? period : SC_COOKIE_PERIOD_US;
	c->epoch = epoch_of(c, now);
}

/* Bring the secrets to now's epoch. After a jump of two epochs or more
 * no cookie that is still out can be good: the previous secret is
 * dropped (and the current one ratcheted twice, whatever the jump). */
static void
rotate(struct sc_cookie *c, int64_t now)
{
	int64_t e = epoch_of(c, now);

	if (e <= c->epoch)
		return;
	if (e == c->epoch + 1) {
		memcpy(c->prev, c->cur, sizeof(c->prev));
		c->has_prev = 1;
		ratchet(c->cur);
	} else {
		sodium_memzero(c->prev, sizeof(c->prev));
		c->has_prev = 0;
		ratchet(c->cur);
		ratchet(c->cur);
	}
	c->epoch = e;
	c->rotations++;
}

static uint64_t
mac(const uint8_t *secret, const struct sockaddr_in *a, int64_t epoch)
{
	uint8_t in[4 + 2 + 8], out[crypto_generichash_BYTES_MIN];
	uint64_t v;

	/* Address and port as they travel (network order), epoch
	 * big-endian: the same bytes on any host. */
	memcpy(in, &a->sin_addr.s_addr, 4);
	memcpy(in + 4, &a->sin_port, 2);
	sc_put_be64(in + 6, (uint64_t)epoch);
	crypto_generichash(out, sizeof(out), in, sizeof(in), secret,
	    SC_COOKIE_SECRET_BYTES);
	v = sc_get_be64(out);
	return v != 0 ? v : 1;
}

uint64_t
sc_cookie_make(struct sc_cookie *c, const struct sockaddr_in *a, int64_t now)
{
	rotate(c, now);
	return mac(c->cur, a, c->epoch);
}

enum sc_cookie_result
sc_cookie_check(struct sc_cookie *c, const struct sockaddr_in *a,
    uint64_t cookie, int64_t now)
{
	if (cookie == 0)
		return SC_COOKIE_NONE;
	rotate(c, now);
	if (mac(c->cur, a, c->epoch) == cookie)
		return SC_COOKIE_OK;
	if (c->has_prev && mac(c->prev, a, c->epoch - 1) == cookie)
		return SC_COOKIE_OK;
	return SC_COOKIE_BAD;
}

void
sc_cookie_wipe(struct sc_cookie *c)
{
	sodium_memzero(c, sizeof(*c));
}
