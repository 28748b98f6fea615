/*
 * fuzz_node.c - libFuzzer target for a whole server: the input is a
 * sequence of datagrams (2-byte big-endian length, then the bytes; the
 * first byte of the input picks coordinator or member and whether the
 * datagrams pass as coming from a server's own address) fed to a protocol
 * node, with time moving on and timers running between them. Nothing may
 * crash, leak or trip a sanitizer, and what the node holds must stay a
 * log: applied never beyond held, never going back, every applied id
 * readable as itself (check()).
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

/* What the node holds must stay a log: applied <= held, applied never
 * going back, every applied id readable as itself. */
static void
check(struct sc_node *n, uint64_t *applied)
{
	struct sc_node_info info;
	struct sc_item it;

	sc_node_info(n, &info);
	if (info.applied > info.op || info.applied < *applied ||
	    info.durable > info.op)
		abort();
	for (uint64_t id = *applied + 1; id <= info.applied; id++)
		if (sc_node_entry(n, id, &it) == -1 || it.id != id)
			abort();
	*applied = info.applied;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sc_node *n;
	struct sockaddr_in from;
	struct sc_io io;
	int64_t now = 1000000;
	uint64_t applied = 0;
	size_t off = 1;

	if (!ready)
		setup();
	if (size < 1)
		return 0;
	memset(&io, 0, sizeof(io));
	io.send = drop;
	/* Bit 0: server 0 (view 0's coordinator) or 1 (a member); bit 2:
	 * started in view 0 at once, or recovering as after a restart. */
	n = sc_node_new(&conf, data[0] & 1, &io, data[0]);
	if (n == NULL)
		abort();
	if (data[0] & 4)
		sc_node_start(n, now);
	else
		sc_node_start_as(n, now, 0);
	from = conf.servers[(data[0] >> 1) % 3].listen;
	if (data[0] & 8)
		from.sin_port = htons(9999);    /* a stranger */
	while (off + 2 <= size) {
		size_t len = (size_t)data[off] << 8 | data[off + 1];

		off += 2;
		if (len > size - off)
			len = size - off;
		sc_node_receive(n, now, &from, data + off, len);
		sc_node_flush(n, now);
		check(n, &applied);
		off += len;
		now += 7000;
		if (sc_node_next_deadline(n) <= now) {
			sc_node_tick(n, now);
			sc_node_flush(n, now);
			check(n, &applied);
		}
	}
	sc_node_free(n);
	return 0;
}
