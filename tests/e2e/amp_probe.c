/*
 * amp_probe.c - test_amplification.sh's attacker: each datagram read
 * from standard input (one "PORT HEX" line each: a request a real
 * seqcast sent to 127.0.0.1:PORT, captured) is sent again from a socket
 * of its own, an address that never spoke to the server (what a forged
 * source address looks like to it); then, for --wait-ms, whatever comes
 * back to each socket is counted.
 *
 *   amp_probe [--wait-ms N] < requests
 *
 * Prints one line per kind of request (type, cookie or not, a long
 * poll's wait, a MAC): how many, bytes sent, bytes received, and the
 * largest received/sent ratio of one datagram; then "max ratio R". Exit
 * 1 if any socket got more than 3 times what it sent, 2 on a usage or
 * system error. Sends only to 127.0.0.0/8, each datagram once.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "seqcast/auth.h"
#include "seqcast/wire.h"
#include "../testutil.h"

#define BATCH 256
#define KINDS 64

struct probe {
	int fd;
	size_t sent, got;
	int kind;
};

struct kind {
	char name[64];
	unsigned n;
	size_t sent, got;
	double worst;
};

static struct kind kinds[KINDS];
static int nkinds;
static struct sc_decoder *dec;

/* "log_req+cookie+wait (keyed)" and the like. */
static int
kind_of(const uint8_t *buf, size_t len)
{
	char name[64];
	struct sc_header h;
	struct sc_msg m;
	int keyed = len > SC_HEADER_LEN && (buf[7] & SC_FLAG_MAC);
	size_t inner = keyed && len > SC_AUTH_TRAILER ? len - SC_AUTH_TRAILER :
	    len;
	int i;

	if (sc_decode_header(buf, inner, &h) != SC_REJ_NONE ||
	    sc_decode(dec, buf, inner, h.cluster, &m) != SC_REJ_NONE)
		snprintf(name, sizeof(name), "undecodable");
	else
		snprintf(name, sizeof(name), "%s%s%s%s%s",
		    sc_type_name(m.h.type), m.a ? "+cookie" : "",
		    m.h.type == SC_LOG_REQ && m.d ? "+wait" : "",
		    m.h.type == SC_STATS_REQ && m.c ? "+offset" : "",
		    keyed ? " (keyed)" : "");
	for (i = 0; i < nkinds; i++)
		if (strcmp(kinds[i].name, name) == 0)
			return i;
	if (nkinds == KINDS)
		return KINDS - 1;
	snprintf(kinds[nkinds].name, sizeof(kinds[nkinds].name), "%s", name);
	return nkinds++;
}

static int
hex_decode(const char *hex, uint8_t *out, size_t cap, size_t *len)
{
	size_t n = strlen(hex);

	if (n % 2 != 0 || n / 2 > cap)
		return -1;
	for (size_t i = 0; i < n / 2; i++) {
		unsigned v;

		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (uint8_t)v;
	}
	*len = n / 2;
	return 0;
}

/* Send one captured datagram from a fresh socket (a new port: a new
 * address as far as cookies and budgets go). */
static int
probe_send(struct probe *p, unsigned port, const uint8_t *buf, size_t len)
{
	struct sockaddr_in to = { .sin_family = AF_INET };

	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	to.sin_port = htons((uint16_t)port);
	if ((ntohl(to.sin_addr.s_addr) >> 24) != 127)
		return -1;              /* never anywhere but loopback */
	p->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (p->fd < 0)
		return -1;
	p->kind = kind_of(buf, len);
	p->sent = len;
	p->got = 0;
	if (sendto(p->fd, buf, len, 0, (struct sockaddr *)&to,
	    sizeof(to)) != (ssize_t)len)
		return -1;
	return 0;
}

/* Count what comes back to the batch's sockets for wait_ms. */
static void
collect(struct probe *p, int n, int wait_ms)
{
	static uint8_t buf[SC_RECV_MAX];
	struct pollfd pfd[BATCH];
	int64_t end = now_ms() + wait_ms;

	for (int i = 0; i < n; i++)
		pfd[i] = (struct pollfd){ .fd = p[i].fd, .events = POLLIN };
	for (int64_t left; (left = end - now_ms()) > 0;) {
		if (poll(pfd, (nfds_t)n, (int)left) <= 0)
			continue;
		for (int i = 0; i < n; i++) {
			ssize_t r;

			while ((r = recv(p[i].fd, buf, sizeof(buf), 0)) >= 0)
				p[i].got += (size_t)r;
		}
	}
	for (int i = 0; i < n; i++) {
		struct kind *k = &kinds[p[i].kind];
		double ratio = (double)p[i].got / (double)p[i].sent;

		k->n++;
		k->sent += p[i].sent;
		k->got += p[i].got;
		if (ratio > k->worst)
			k->worst = ratio;
		close(p[i].fd);
	}
}

static int
report(void)
{
	double worst = 0;

	for (int i = 0; i < nkinds; i++) {
		printf("%-32s %5u datagrams, sent %8zu bytes, got back %8zu "
		    "(%.2fx), worst one %.2fx\n", kinds[i].name, kinds[i].n,
		    kinds[i].sent, kinds[i].got,
		    (double)kinds[i].got / (double)kinds[i].sent,
		    kinds[i].worst);
		if (kinds[i].worst > worst)
			worst = kinds[i].worst;
	}
	printf("max ratio %.2f\n", worst);
	return worst > 3.0 ? 1 : 0;
}

int
main(int argc, char **argv)
{
	static struct probe p[BATCH];
	static uint8_t buf[SC_RECV_MAX];
	char line[2 * SC_RECV_MAX + 32], hex[2 * SC_RECV_MAX + 1];
	int wait_ms = 500, n = 0;
	unsigned port;
	size_t len;

	if (argc == 3 && strcmp(argv[1], "--wait-ms") == 0)
		wait_ms = atoi(argv[2]);
	else if (argc != 1) {
		fprintf(stderr, "usage: amp_probe [--wait-ms N] < requests\n");
		return 2;
	}
	sc_tpl_hooks_install();
	if ((dec = sc_decoder_new()) == NULL)
		return 2;
	while (fgets(line, sizeof(line), stdin) != NULL) {
		if (sscanf(line, "%u %s", &port, hex) != 2 || port == 0 ||
		    port > 65535 || hex_decode(hex, buf, sizeof(buf), &len))
			continue;
		if (probe_send(&p[n], port, buf, len) == -1) {
			fprintf(stderr, "amp_probe: send: %s\n", strerror(errno));
			return 2;
		}
		if (++n == BATCH) {
			collect(p, n, wait_ms);
			n = 0;
		}
	}
	if (n > 0)
		collect(p, n, wait_ms);
	sc_decoder_free(dec);
	return report();
}
