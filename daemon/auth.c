/*
 * auth.c - HMAC trailer, replay window.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "seqcast/auth.h"

_Static_assert(SC_AUTH_KEY_BYTES == crypto_auth_KEYBYTES, "key size");
_Static_assert(SC_AUTH_TAG_BYTES == crypto_auth_BYTES, "tag size");
#include "seqcast/bytes.h"
#include "seqcast/wire.h"

void
sc_auth_set_key(struct sc_auth *a, const uint8_t *key)
{
	memset(a, 0, sizeof(*a));
	memcpy(a->key, key, sizeof(a->key));
	a->on = 1;
}

int
sc_auth_load(struct sc_auth *a, const char *path, char *err, size_t errlen)
{
	char text[256];
	uint8_t key[crypto_auth_KEYBYTES];
	size_t klen = 0;
	const char *end;
	ssize_t n;
	int fd;

	if (sodium_init() < 0) {
		snprintf(err, errlen, "libsodium: cannot initialise");
		return -1;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1) {
		snprintf(err, errlen, "%s: cannot open: %s", path,
		    strerror(errno));
		return -1;
	}
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n < 0) {
		snprintf(err, errlen, "%s: cannot read: %s", path,
		    strerror(errno));
		return -1;
	}
	text[n] = '\0';
	if (sodium_hex2bin(key, sizeof(key), text, (size_t)n, " \t\r\n",
	    &klen, &end) != 0 || klen != sizeof(key) ||
	    strspn(end, " \t\r\n") != strlen(end)) {
		snprintf(err, errlen, "%s: expected %zu bytes as %zu hex digits "
		    "(make one with seqcastd --gen-key FILE)", path,
		    sizeof(key), 2 * sizeof(key));
		return -1;
	}
	sc_auth_set_key(a, key);
	sodium_memzero(key, sizeof(key));
	return 0;
}

int
sc_auth_generate(const char *path, char *err, size_t errlen)
{
	uint8_t key[crypto_auth_KEYBYTES];
	char hex[2 * sizeof(key) + 2];
	int fd;

	if (sodium_init() < 0) {
		snprintf(err, errlen, "libsodium: cannot initialise");
		return -1;
	}
	crypto_auth_keygen(key);
	sodium_bin2hex(hex, sizeof(hex), key, sizeof(key));
	strcat(hex, "\n");
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd == -1 || write(fd, hex, strlen(hex)) != (ssize_t)strlen(hex)) {
		snprintf(err, errlen, "%s: cannot write: %s", path,
		    strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

long
sc_auth_seal(struct sc_auth *a, uint8_t *buf, size_t len, size_t cap,
    int64_t now_us)
{
	uint64_t c;

	if (len < SC_HEADER_LEN || len + SC_AUTH_TRAILER > cap)
		return -1;
	/* Counters only grow, across restarts too. A client's follow the
	 * wall clock (servers check that it is fresh); a server's start at
	 * the wall clock and then count datagrams, so that the receivers'
	 * window spans SC_AUTH_WINDOW datagrams whatever the send rate (a
	 * datagram that waited in one socket while later ones came through
	 * another is still in it). */
	if (sc_get_be32(buf + 12) == SC_SENDER_CLIENT || a->counter == 0)
		c = now_us > 0 && (uint64_t)now_us > a->counter ?
		    (uint64_t)now_us : a->counter + 1;
	else
		c = a->counter + 1;
	a->counter = c;
	buf[7] |= SC_FLAG_MAC;      /* low byte of the big-endian flags */
	sc_put_be64(buf + len, c);
	crypto_auth(buf + len + 8, buf, len + 8, a->key);
	return (long)(len + SC_AUTH_TRAILER);
}

#define WORDS (SC_AUTH_WINDOW / 64)

/* Accept counter c from a server if it is new: above the highest, or
 * less than SC_AUTH_WINDOW - 64 below it and not seen (-1: seen; -2:
 * below the window). The bitmap is a
 * ring indexed by counter (RFC 6479): moving up clears only the words
 * the move passes, never shifts. */
static int
replay_check(struct sc_auth_peer *p, uint64_t c)
{
	uint64_t bit = c % SC_AUTH_WINDOW, *w = &p->seen[bit / 64];

	if (c > p->highest) {
		uint64_t from = p->highest / 64, to = c / 64;

		if (to - from >= WORDS)
			memset(p->seen, 0, sizeof(p->seen));
		else
			for (uint64_t k = from + 1; k <= to; k++)
				p->seen[k % WORDS] = 0;
		p->highest = c;
		*w |= 1ULL << (bit % 64);
		return 0;
	}
	if (p->highest - c >= SC_AUTH_WINDOW - 64)
		return -2;
	if (*w >> (bit % 64) & 1)
		return -1;
	*w |= 1ULL << (bit % 64);
	return 0;
}

enum sc_auth_result
sc_auth_open(struct sc_auth *a, const uint8_t *buf, size_t len,
    int64_t now_us, size_t *inner)
{
	int has_mac = len >= SC_HEADER_LEN && (buf[7] & SC_FLAG_MAC);
	uint32_t sender;
	uint64_t c;
	size_t body;

	*inner = len;
	if (!a->on)
		return has_mac ? SC_AUTH_UNEXPECTED : SC_AUTH_OK;
	if (!has_mac || len < SC_HEADER_LEN + SC_AUTH_TRAILER)
		return SC_AUTH_MISSING;
	body = len - SC_AUTH_TRAILER;
	if (crypto_auth_verify(buf + body + 8, buf, body + 8, a->key) != 0)
		return SC_AUTH_BAD;
	c = sc_get_be64(buf + body);
	sender = sc_get_be32(buf + 12);
	if (sender < SC_SERVERS_MAX) {
		int r = replay_check(&a->peer[sender], c);

		if (r == -2) {
			*inner = body;  /* the caller may look at it */
			return SC_AUTH_STALE;
		}
		if (r == -1)
			return SC_AUTH_REPLAY;
	} else if (c + SC_AUTH_SKEW_US < (uint64_t)now_us ||
	    c > (uint64_t)now_us + SC_AUTH_SKEW_US) {
		return SC_AUTH_REPLAY;
	}
	*inner = body;
	return SC_AUTH_OK;
}

const char *
sc_auth_result_name(int r)
{
	static const char *names[] = { "ok", "auth_missing", "auth_bad",
	    "auth_replay", "auth_unexpected", "auth_stale" };

	return r >= 0 && r < SC_AUTH_RESULTS ? names[r] : "?";
}

void
sc_auth_restart_peer(struct sc_auth *a, uint32_t sender, const uint8_t *buf,
    size_t len)
{
	struct sc_auth_peer *p;
	uint64_t c;

	if (sender >= SC_SERVERS_MAX || len < SC_HEADER_LEN + SC_AUTH_TRAILER)
		return;
	p = &a->peer[sender];
	c = sc_get_be64(buf + len - SC_AUTH_TRAILER);
	memset(p, 0, sizeof(*p));
	(void)replay_check(p, c);
}

void
sc_auth_wipe(struct sc_auth *a)
{
	sodium_memzero(a, sizeof(*a));
}
