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
	/* Counters only grow, across restarts too: the wall clock, unless
	 * we already sent more than one datagram a microsecond. */
	c = now_us > 0 && (uint64_t)now_us > a->counter ? (uint64_t)now_us :
	    a->counter + 1;
	a->counter = c;
	buf[7] |= SC_FLAG_MAC;      /* low byte of the big-endian flags */
	sc_put_be64(buf + len, c);
	crypto_auth(buf + len + 8, buf, len + 8, a->key);
	return (long)(len + SC_AUTH_TRAILER);
}

/* Accept counter c from server s if it is new: above the highest, or in
 * the window below it and not seen. */
static int
replay_check(struct sc_auth_peer *p, uint64_t c)
{
	uint64_t back;

	if (c > p->highest) {
		uint64_t shift = c - p->highest;

		if (shift >= SC_AUTH_WINDOW) {
			memset(p->seen, 0, sizeof(p->seen));
		} else {
			/* Move the window: bit i means highest - i. */
			for (uint64_t i = SC_AUTH_WINDOW - 1; i >= shift; i--) {
				uint64_t from = i - shift;

				if (p->seen[from / 64] >> (from % 64) & 1)
					p->seen[i / 64] |= 1ULL << (i % 64);
				else
					p->seen[i / 64] &= ~(1ULL << (i % 64));
			}
			for (uint64_t i = 0; i < shift; i++)
				p->seen[i / 64] &= ~(1ULL << (i % 64));
		}
		p->highest = c;
		p->seen[0] |= 1;
		return 0;
	}
	back = p->highest - c;
	if (back >= SC_AUTH_WINDOW || (p->seen[back / 64] >> (back % 64) & 1))
		return -1;
	p->seen[back / 64] |= 1ULL << (back % 64);
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
		if (replay_check(&a->peer[sender], c) == -1)
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
	    "auth_replay", "auth_unexpected" };

	return r >= 0 && r <= SC_AUTH_UNEXPECTED ? names[r] : "?";
}

void
sc_auth_wipe(struct sc_auth *a)
{
	sodium_memzero(a, sizeof(*a));
}
