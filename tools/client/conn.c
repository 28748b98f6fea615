/*
 * conn.c - the socket to a server, the key, sending and receiving.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "seqcast/auth.h"
#include "seqcast/choice.h"
#include "seqcast/net.h"
#include "seqcast/num.h"

#include "client.h"
#include "conn.h"

#define RCVBUF_BYTES (4 << 20)
#define ECHOES 16       /* recent requests a COOKIE may answer */

/* With a key every datagram carries a MAC trailer (auth.h), so a request
 * holds that much less. One key per process: module state. */
static struct sc_auth client_auth;
static size_t dgram_limit = SC_DATAGRAM_MAX;

struct conn {
	int fd;
	uint32_t cluster;
	const struct conn_server *servers;
	uint32_t n, current;
	uint64_t cookie[SC_CHOICE_MAX]; /* each server's latest (0: none) */
	int cookie_news;        /* a new one came since last asked */
	uint64_t echo[ECHOES];  /* what COOKIEs for our requests echo */
	uint32_t echo_next;
	struct sc_decoder *dec;
	uint8_t rbuf[SC_RECV_MAX];
	uint8_t sbuf[SC_DATAGRAM_MAX];
	uint8_t sealed[SC_DATAGRAM_MAX];
};

static int64_t
wall_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int
conn_load_key(const char *path)
{
	char err[600];

	if (path == NULL)
		return RC_OK;
	if (sc_auth_load(&client_auth, path, err, sizeof(err)) < 0) {
		fprintf(stderr, "seqcast: %s\n", err);
		return RC_USAGE;
	}
	dgram_limit = SC_DATAGRAM_MAX - SC_AUTH_TRAILER;
	return RC_OK;
}

size_t
conn_datagram_limit(void)
{
	return dgram_limit;
}

static int
resolve(const char *host, struct sockaddr_in *sa)
{
	struct addrinfo hints = { .ai_family = AF_INET,
	    .ai_socktype = SOCK_DGRAM };
	struct addrinfo *res;
	int err = getaddrinfo(host, NULL, &hints, &res);

	if (err != 0) {
		fprintf(stderr, "seqcast: cannot resolve '%s': %s\n", host,
		    gai_strerror(err));
		return RC_FAIL;
	}
	memcpy(&sa->sin_addr,
	    &((struct sockaddr_in *)(void *)res->ai_addr)->sin_addr,
	    sizeof(sa->sin_addr));
	freeaddrinfo(res);
	return RC_OK;
}

int
conn_resolve(const char *s, struct sockaddr_in *sa)
{
	char host[256];
	uint64_t port;
	const char *colon = strrchr(s, ':');

	if (!colon || colon == s || (size_t)(colon - s) >= sizeof(host) ||
	    sc_parse_u64(colon + 1, 1, 65535, &port) != SC_NUM_OK)
		return RC_USAGE;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)port);
	return resolve(host, sa);
}

/* A non-blocking socket connected to servers[i], or -1 (reported). */
static int
connect_to(const struct conn *c, uint32_t i)
{
	const struct sockaddr_in *a = &c->servers[i].addr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0 || connect(fd, (const struct sockaddr *)a,
	    sizeof(*a)) < 0) {
		fprintf(stderr, "seqcast: cannot open a socket to %s: %s\n",
		    c->servers[i].name, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	(void)sc_net_bufsize(fd, SO_RCVBUF, RCVBUF_BYTES);
	return fd;
}

int
conn_open(const struct conn_server *servers, uint32_t n, uint32_t cluster,
    struct conn **out)
{
	struct conn *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return oom();
	c->servers = servers;
	c->n = n < SC_CHOICE_MAX ? n : SC_CHOICE_MAX;
	c->cluster = cluster;
	c->dec = sc_decoder_new();
	c->fd = c->dec ? connect_to(c, 0) : -1;
	if (c->fd < 0) {
		if (!c->dec)
			oom();
		conn_free(c);
		return RC_FAIL;
	}
	*out = c;
	return RC_OK;
}

void
conn_free(struct conn *c)
{
	if (c == NULL)
		return;
	if (c->fd >= 0)
		close(c->fd);
	sc_decoder_free(c->dec);
	free(c);
}

int
conn_use(struct conn *c, uint32_t i)
{
	int fd = connect_to(c, i);

	if (fd < 0)
		return RC_FAIL;
	close(c->fd);
	c->fd = fd;
	c->current = i;
	return RC_OK;
}

const char *
conn_name(const struct conn *c)
{
	return c->servers[c->current].name;
}

const char *
conn_server_name(const struct conn *c, uint32_t i)
{
	return c->servers[i].name;
}

void
conn_msg_init(const struct conn *c, struct sc_msg *m, int type)
{
	memset(m, 0, sizeof(*m));
	m->h.magic = SC_MAGIC;
	m->h.version = SC_VERSION;
	m->h.type = (uint8_t)type;
	m->h.cluster = c->cluster;
	m->h.sender = SC_SENDER_CLIENT;
}

static int
io_error(const struct conn *c, const char *what, int err)
{
	if (err == ECONNREFUSED)
		return IO_REFUSED;
	if (err == EAGAIN || err == EWOULDBLOCK || err == EINTR ||
	    err == ENOBUFS || err == ENOMEM)
		return IO_NONE;
	fprintf(stderr, "seqcast: %s %s: %s\n", what, conn_name(c),
	    strerror(err));
	return IO_ERR;
}

static int
send_datagram(struct conn *c, const void *buf, size_t len)
{
	ssize_t n;

	if (client_auth.on) {
		long l;

		memcpy(c->sealed, buf, len);
		l = sc_auth_seal(&client_auth, c->sealed, len,
		    sizeof(c->sealed), wall_us());
		if (l < 0)
			return IO_ERR;
		buf = c->sealed;
		len = (size_t)l;
	}
	n = send(c->fd, buf, len, 0);
	if (n == (ssize_t)len)
		return IO_OK;
	return n < 0 ? io_error(c, "send to", errno) : IO_NONE;
}

static int
is_request(int type)
{
	return type == SC_ADD || type == SC_LOG_REQ || type == SC_STATS_REQ;
}

/* What a COOKIE answering this request echoes (node_client.c): an
 * ADD's first client id, a log request's first id, a stats nonce. */
static uint64_t
echo_of(const struct sc_msg *m)
{
	if (m->h.type == SC_ADD)
		return m->count > 0 ? m->items[0].client : 0;
	return m->b;
}

static int
echo_known(const struct conn *c, uint64_t v)
{
	for (uint32_t i = 0; i < ECHOES; i++)
		if (c->echo[i] == v)
			return 1;
	return 0;
}

/* A request carries the server's cookie, once we have one: the server
 * then knows our address is ours, and answers in full. */
int
conn_send_msg(struct conn *c, const struct sc_msg *msg)
{
	struct sc_msg copy = *msg, *m = &copy;
	long len;

	if (is_request(m->h.type)) {
		uint64_t e = echo_of(m);

		m->a = c->cookie[c->current];
		if (!echo_known(c, e))
			c->echo[c->echo_next++ % ECHOES] = e;
	}
	len = sc_encode(m, c->sbuf, dgram_limit);

	if (len < 0) {
		fprintf(stderr, "seqcast: cannot encode a %s request\n",
		    sc_type_name(m->h.type));
		return IO_ERR;
	}
	return send_datagram(c, c->sbuf, (size_t)len);
}

void
conn_wait(struct conn *c, int64_t us)
{
	struct pollfd p = { .fd = c->fd, .events = POLLIN };
	int64_t ms = us <= 0 ? 0 : (us + 999) / 1000;

	(void)poll(&p, 1, ms > INT_MAX ? INT_MAX : (int)ms);
}

uint64_t
conn_cookie(const struct conn *c)
{
	return c->cookie[c->current];
}

int
conn_cookie_news(struct conn *c)
{
	int news = c->cookie_news;

	c->cookie_news = 0;
	return news;
}

/* A COOKIE from the server in use that answers one of our recent
 * requests: keep it (a new one replaces a stale one, e.g. after the
 * server restarted). */
static void
take_cookie(struct conn *c, const struct sc_msg *m)
{
	if (m->a == 0 || !echo_known(c, m->b) ||
	    m->a == c->cookie[c->current])
		return;
	c->cookie[c->current] = m->a;
	c->cookie_news = 1;
}

static int
decode_reply(struct conn *c, size_t len, int type, struct sc_msg *m)
{
	struct sc_header h;
	size_t inner;

	/* With a key, a reply must carry a valid MAC and a fresh counter
	 * from its server (a forged or replayed ACK is dropped). */
	if (sc_auth_open(&client_auth, c->rbuf, len, wall_us(), &inner) !=
	    SC_AUTH_OK)
		return -1;
	len = inner;
	if (sc_decode_header(c->rbuf, len, &h) != SC_REJ_NONE ||
	    (h.type != type && h.type != SC_COOKIE))
		return -1;
	if (sc_decode(c->dec, c->rbuf, len, h.cluster, m) != SC_REJ_NONE)
		return -1;
	if (h.type == SC_COOKIE) {
		take_cookie(c, m);
		return -1;
	}
	return 0;
}

int
conn_recv(struct conn *c, int type, struct sc_msg *m)
{
	for (;;) {
		ssize_t n = recv(c->fd, c->rbuf, sizeof(c->rbuf), 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return io_error(c, "receive from", errno);
		if (decode_reply(c, (size_t)n, type, m) == 0)
			return IO_OK;
	}
}
