/*
 * fuzz_node.c - libFuzzer target for a whole server: the input is a
 * sequence of datagrams (2-byte big-endian length, then the bytes; the
 * first byte of the input picks coordinator or member and whether the
 * datagrams pass as coming from a server's own address) fed to a protocol
 * node, with time moving on and timers running between them. Nothing may
 * crash, leak or trip a sanitizer, and the applied log must stay
 * contiguous.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "seqcast/config.h"
#include "seqcast/log.h"
#include "seqcast/node.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct sc_config conf;
static int ready;

static void
drop(void *ctx, const struct sockaddr_in *to, const void *buf, size_t len)
{
	(void)ctx;
	(void)to;
	(void)buf;
	(void)len;
}

static void
setup(void)
{
	char err[256];
	static const char text[] =
	    "[cluster]\nid = 1\ngroup = 239.255.1.1:5000\n"
	    "holdback_max = 256\npending_max = 64\ndedup_max = 64\n"
	    "store_bytes = 65536\n"
	    "[server 0]\nlisten = 127.0.0.1:4300\n"
	    "[server 1]\nlisten = 127.0.0.1:4301\n"
	    "[server 2]\nlisten = 127.0.0.1:4302\n";

	if (sc_config_parse(&conf, text, "fuzz", err, sizeof(err)) == -1)
		abort();
	sc_log_init("fuzz_node", -1, -1);
	sc_tpl_hooks_install();
	ready = 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sc_node n;
	struct sockaddr_in from;
	int64_t now = 1000000;
	size_t off = 1;

	if (!ready)
		setup();
	if (size < 1)
		return 0;
	if (sc_node_init(&n, &conf, data[0] & 1, drop, NULL, now) == -1)
		abort();
	from = conf.servers[(data[0] >> 1) % 3].listen;
	if (data[0] & 8)
		from.sin_port = htons(9999);    /* a stranger */
	while (off + 2 <= size) {
		size_t len = (size_t)data[off] << 8 | data[off + 1];

		off += 2;
		if (len > size - off)
			len = size - off;
		sc_node_receive(&n, now, &from, data + off, len);
		sc_node_flush(&n);
		off += len;
		now += 7000;
		if (sc_node_next_deadline(&n) <= now)
			sc_node_tick(&n, now);
	}
	sc_node_free(&n);
	return 0;
}
