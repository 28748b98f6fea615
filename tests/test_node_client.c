/*
 * test_node_client.c - a server's door for clients, driven with
 * datagrams the test writes: what it sends an address that has not
 * proved itself (at most three times what came from it, keyed or not),
 * cookies (made, echoed, refused from another address or after a
 * restart), pages that fit the path, and parked log requests (long
 * polls: answered when entries come or the wait ends; the table is
 * bounded; only a proved address waits).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "seqcast/auth.h"
#include "seqcast/config.h"
#include "seqcast/node.h"
#include "seqcast/wire.h"
#include "client/json.h"

#define SENT_MAX 512

struct sent {
	struct sockaddr_in to;
	size_t len;
	int type;
	uint64_t a, b;
	uint32_t count;
	uint64_t first;            /* first item's id */
};

static struct sc_config conf;
static struct sc_decoder *dec;
static struct sc_auth key;        /* on: the node and the test sign */
static struct sent sent[SENT_MAX];
static uint32_t nsent;
static int64_t wall = 1700000000000000LL;
static char last_text[SC_TEXT_MAX + 1];  /* the last STATS_REPLY's page */

static void
capture(void *ctx, const struct sockaddr_in *to, const void *buf,
    size_t len)
{
	struct sc_msg m;
	size_t inner = len;

	(void)ctx;
	if (nsent == SENT_MAX || to == NULL)
		return;
	if (key.on && sc_auth_open(&key, buf, len, wall, &inner) != SC_AUTH_OK)
		fail_msg("the node sent a datagram without a good MAC");
	if (sc_decode(dec, buf, inner, conf.cluster_id, &m) != SC_REJ_NONE)
		fail_msg("the node sent an undecodable datagram");
	if (m.h.type == SC_STATS_REPLY)
		snprintf(last_text, sizeof(last_text), "%s", m.text);
	sent[nsent] = (struct sent){ .to = *to, .len = len, .type = m.h.type,
	    .a = m.a, .b = m.b, .count = m.count,
	    .first = m.count ? m.items[0].id : 0 };
	nsent++;
}

static int
setup(void **state)
{
	char err[256];
	static const char text[] =
	    "[cluster]\nid = 9\ngroup = 239.255.9.9:4999\nmtu = 1500\n"
	    "[server 0]\nlisten = 127.0.0.1:4300\n";

	(void)state;
	sc_tpl_hooks_install();
	if (sc_config_parse(&conf, text, "t.conf", err, sizeof(err)) == -1)
		return -1;
	dec = sc_decoder_new();
	return dec == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	(void)state;
	sc_decoder_free(dec);
	return 0;
}

/* A one-server cluster (it stamps and applies alone) with `entries`
 * entries of 20 bytes; seed: its cookie secret. */
static struct sc_node *
server(uint64_t seed, int entries)
{
	struct sc_io io;
	struct sc_node *n;

	memset(&io, 0, sizeof(io));
	io.send = capture;
	n = sc_node_new(&conf, 0, &io, seed);
	assert_non_null(n);
	if (key.on)
		sc_node_set_key(n, &key);
	sc_node_set_wall_offset(n, wall - 1000);
	sc_node_start(n, 1000);
	sc_node_flush(n, 1000);
	for (int i = 0; i < entries; i++) {
		struct sockaddr_in feeder = conf.servers[0].listen;
		struct sc_item it = { .client = 0x77, .req = (uint64_t)i + 1,
		    .value = (const uint8_t *)"entry-of-twenty-byte", .len = 20 };
		struct sc_msg m;
		uint8_t buf[SC_DATAGRAM_MAX];
		long len;

		memset(&m, 0, sizeof(m));
		m.h.magic = SC_MAGIC;
		m.h.version = SC_VERSION;
		m.h.type = SC_ADD;
		m.h.sender = SC_SENDER_CLIENT;
		m.items = &it;
		m.count = 1;
		feeder.sin_port = htons(9999);
		len = sc_encode(&m, buf, sizeof(buf));
		if (key.on)
			len = sc_auth_seal(&key, buf, (size_t)len, sizeof(buf),
			    wall);
		sc_node_receive(n, 2000, &feeder, buf, (size_t)len);
		sc_node_flush(n, 2000);
	}
	nsent = 0;
	return n;
}

static struct sockaddr_in
client(uint16_t port)
{
	struct sockaddr_in a = conf.servers[0].listen;

	a.sin_addr.s_addr = htonl(0x7f000063);
	a.sin_port = htons(port);
	return a;
}

/* Send a request from `from`; its size on the wire. */
static size_t
request(struct sc_node *n, int64_t now, const struct sockaddr_in *from,
    int type, uint64_t cookie, uint64_t b, uint64_t c, uint64_t d)
{
	struct sc_item it = { .client = 0x99, .req = b,
	    .value = (const uint8_t *)"x", .len = 1 };
	uint8_t buf[SC_DATAGRAM_MAX];
	struct sc_msg m;
	long len;

	memset(&m, 0, sizeof(m));
	m.h.magic = SC_MAGIC;
	m.h.version = SC_VERSION;
	m.h.type = (uint8_t)type;
	m.h.sender = SC_SENDER_CLIENT;
	m.a = cookie;
	if (type == SC_ADD) {
		m.items = &it;
		m.count = 1;
	} else {
		m.b = b;
		m.c = c;
		m.d = d;
	}
	len = sc_encode(&m, buf, sizeof(buf));
	assert_true(len > 0);
	if (key.on)
		len = sc_auth_seal(&key, buf, (size_t)len, sizeof(buf), wall);
	sc_node_receive(n, now, from, buf, (size_t)len);
	sc_node_flush(n, now);
	return (size_t)len;
}

static size_t
bytes_to(const struct sockaddr_in *to, int type)
{
	size_t k = 0;

	for (uint32_t i = 0; i < nsent; i++)
		if (sent[i].to.sin_port == to->sin_port &&
		    sent[i].to.sin_addr.s_addr == to->sin_addr.s_addr &&
		    (type == 0 || sent[i].type == type))
			k += sent[i].len;
	return k;
}

static const struct sent *
last_of(int type)
{
	for (uint32_t i = nsent; i > 0; i--)
		if (sent[i - 1].type == type)
			return &sent[i - 1];
	return NULL;
}

static uint64_t
stat(struct sc_node *n, const char *key_name)
{
	static char json[SC_TEXT_MAX + 1];
	char pat[64];
	const char *p;

	assert_true(sc_node_stats_json(n, json, sizeof(json)) > 0);
	snprintf(pat, sizeof(pat), "\"%s\":", key_name);
	p = strstr(json, pat);
	assert_non_null(p);
	return strtoull(p + strlen(pat), NULL, 10);
}

/* Log, stats and add from an address with no cookie: a COOKIE first,
 * then what fits, never over 3x the request; with the cookie, a full
 * page bounded by the path (mtu 1500: 1472 bytes). */
static void
check_unverified(void)
{
	struct sockaddr_in c = client(5000);
	struct sc_node *n = server(1, 400);
	const struct sent *ck, *page;
	size_t in;

	in = request(n, 3000, &c, SC_LOG_REQ, 0, 1, 0, 0);
	assert_true(bytes_to(&c, 0) <= 3 * in);
	ck = last_of(SC_COOKIE);
	assert_non_null(ck);
	assert_true(ck->a != 0 && ck->b == 1);
	page = last_of(SC_LOG_REPLY);
	assert_true(page == NULL || (page->first == 1 && page->count < 10));
	assert_true(stat(n, "amp_shrunk") >= 1);
	in = request(n, 3001, &c, SC_LOG_REQ, ck->a, 1, 0, 0);
	page = last_of(SC_LOG_REPLY);
	assert_true(page->first == 1 && page->count > 20);
	assert_true(page->len <= 1472 && page->b == 1);
	assert_true(stat(n, "requests_verified") == 1);
	/* stats and add from a fresh address */
	c = client(5001);
	nsent = 0;
	in = request(n, 3002, &c, SC_STATS_REQ, 0, 7, 0, 0);
	assert_true(bytes_to(&c, 0) <= 3 * in);
	assert_true(last_of(SC_COOKIE)->b == 7);
	/* no stats page cut short: the COOKIE alone, then whole pages */
	assert_null(last_of(SC_STATS_REPLY));
	(void)request(n, 3002, &c, SC_STATS_REQ, last_of(SC_COOKIE)->a, 7, 0,
	    0);
	assert_true(last_of(SC_STATS_REPLY)->len > 1000);
	c = client(5002);
	nsent = 0;
	in = request(n, 3003, &c, SC_ADD, 0, 1, 0, 0);
	assert_true(bytes_to(&c, 0) <= 3 * in);
	assert_true(last_of(SC_COOKIE)->b == 0x99);
	assert_non_null(last_of(SC_ACK));
	sc_node_free(n);
}

static void
test_unverified(void **state)
{
	(void)state;
	check_unverified();
}

static void
test_unverified_keyed(void **state)
{
	uint8_t k[SC_AUTH_KEY_BYTES];

	(void)state;
	memset(k, 0x5a, sizeof(k));
	sc_auth_set_key(&key, k);
	check_unverified();
	memset(&key, 0, sizeof(key));
}

/* A cookie proves only the address it was sent to, and only to the
 * server (run) that made it; a stale one is counted and replaced. */
static void
test_cookie_bound(void **state)
{
	struct sockaddr_in a = client(6000), b = client(6001);
	struct sc_node *n = server(1, 400), *restarted;
	uint64_t cookie;
	size_t in;

	(void)state;
	(void)request(n, 3000, &a, SC_STATS_REQ, 0, 1, 0, 0);
	cookie = last_of(SC_COOKIE)->a;
	nsent = 0;
	in = request(n, 3001, &b, SC_LOG_REQ, cookie, 1, 0, 0);
	assert_true(bytes_to(&b, 0) <= 3 * in);
	assert_true(stat(n, "cookie_bad") == 1);
	assert_true(last_of(SC_COOKIE)->a != cookie);
	/* another run of the server (another secret) */
	restarted = server(2, 400);
	in = request(restarted, 3002, &a, SC_LOG_REQ, cookie, 1, 0, 0);
	assert_true(bytes_to(&a, 0) <= 3 * in);
	assert_true(stat(restarted, "cookie_bad") == 1);
	sc_node_free(restarted);
	sc_node_free(n);
}

/* Many requests from one address without a cookie: what it is sent
 * stays under 3x what it sent, however they mix. */
static void
test_budget_total(void **state)
{
	struct sockaddr_in c = client(6100);
	struct sc_node *n = server(3, 400);
	size_t in = 0;

	(void)state;
	for (uint64_t i = 0; i < 300; i++) {
		int type = i % 3 == 0 ? SC_ADD : i % 3 == 1 ? SC_LOG_REQ :
		    SC_STATS_REQ;

		in += request(n, 3000 + (int64_t)i, &c, type, 0, i + 1,
		    i % 7, i % 2 ? 100 : 0);
		assert_true(bytes_to(&c, 0) <= 3 * in);
	}
	assert_true(stat(n, "amp_capped") + stat(n, "amp_shrunk") > 0);
	sc_node_free(n);
}

/* Get a cookie for c. */
static uint64_t
cookie_for(struct sc_node *n, const struct sockaddr_in *c, int64_t now)
{
	(void)request(n, now, c, SC_STATS_REQ, 0, 1, 0, 0);
	return last_of(SC_COOKIE)->a;
}

/* A log request past the end with a wait and a cookie waits; it is
 * answered when an entry is applied, or empty when the wait ends. */
static void
test_long_poll(void **state)
{
	struct sockaddr_in c = client(7000), other = client(7001);
	struct sc_node *n = server(4, 10);
	uint64_t cookie = cookie_for(n, &c, 3000);
	const struct sent *page;

	(void)state;
	nsent = 0;
	(void)request(n, 4000, &c, SC_LOG_REQ, cookie, 11, 0, 500);
	assert_int_equal(nsent, 0);
	assert_true(sc_node_next_deadline(n) <= 4000 + 500000);
	assert_true(stat(n, "parked") == 1);
	(void)request(n, 5000, &other, SC_ADD, 0, 1, 0, 0);
	page = last_of(SC_LOG_REPLY);
	assert_non_null(page);
	assert_true(page->first == 11 && page->count == 1 && page->b == 11);
	assert_true(stat(n, "woken") == 1 && stat(n, "parked") == 0);
	/* nothing comes: answered empty when the wait ends */
	nsent = 0;
	(void)request(n, 6000, &c, SC_LOG_REQ, cookie, 12, 0, 500);
	assert_int_equal(nsent, 0);
	sc_node_tick(n, 6000 + 499999);
	sc_node_flush(n, 6000 + 499999);
	assert_int_equal(nsent, 0);
	sc_node_tick(n, 6000 + 500000);
	sc_node_flush(n, 6000 + 500000);
	page = last_of(SC_LOG_REPLY);
	assert_true(page != NULL && page->count == 0 && page->a == 11 &&
	    page->b == 12);
	assert_true(stat(n, "expired") == 1);
	/* without a cookie: not parked, answered at once */
	nsent = 0;
	(void)request(n, 7000, &other, SC_LOG_REQ, 0, 12, 0, 500);
	assert_non_null(last_of(SC_COOKIE));
	assert_true(last_of(SC_LOG_REPLY)->count == 0);
	assert_true(stat(n, "parked") == 0);
	sc_node_free(n);
}

/* One parked request per address; a full table answers at once. */
static void
test_park_table(void **state)
{
	struct sc_node *n = server(5, 1);
	struct sockaddr_in c = client(8000);
	uint64_t cookie;
	uint32_t parked = 0;

	(void)state;
	cookie = cookie_for(n, &c, 3000);
	(void)request(n, 3001, &c, SC_LOG_REQ, cookie, 2, 0, 1000);
	(void)request(n, 3002, &c, SC_LOG_REQ, cookie, 2, 0, 1000);
	assert_true(stat(n, "parked") == 1);
	for (uint16_t p = 1; stat(n, "parked_full") == 0; p++) {
		struct sockaddr_in x = client((uint16_t)(8000 + p));

		cookie = cookie_for(n, &x, 3003);
		nsent = 0;
		(void)request(n, 3004, &x, SC_LOG_REQ, cookie, 2, 0, 1000);
		parked += nsent == 0;
		assert_true(p < 1000);
	}
	assert_true(stat(n, "parked") == stat(n, "parked_cap"));
	assert_true(parked + 1 == stat(n, "parked_cap"));
	assert_true(last_of(SC_LOG_REPLY)->count == 0);
	sc_node_free(n);
}

/*
 * A stats request's pages are cut from one snapshot (its address and
 * nonce): entries applied between the first page and the second do not
 * shift the text under the client, and the pages join into one JSON
 * text. A new nonce gets a new snapshot, with the new count.
 */
static void
test_stats_snapshot(void **state)
{
	static char joined[SC_TEXT_MAX + 1];
	struct sc_node *n = server(5, 3);
	struct sockaddr_in c = client(5000);
	uint64_t cookie = cookie_for(n, &c, 3000);
	const struct sent *r;
	struct json_doc d;
	uint64_t total;

	(void)state;
	(void)request(n, 3001, &c, SC_STATS_REQ, cookie, 42, 0, 0);
	r = last_of(SC_STATS_REPLY);
	assert_non_null(r);
	total = r->a;
	snprintf(joined, sizeof(joined), "%s", last_text);
	assert_true(strlen(joined) < total);      /* more than one page */
	for (uint64_t k = 1; k <= 50; k++)        /* the text changes */
		(void)request(n, 3002, &c, SC_ADD, cookie, k, 0, 0);
	assert_true(stat(n, "applied") == 53);
	while (strlen(joined) < total) {
		(void)request(n, 3003, &c, SC_STATS_REQ, cookie, 42,
		    strlen(joined), 0);
		r = last_of(SC_STATS_REPLY);
		assert_true(r->a == total && r->b == strlen(joined));
		assert_true(strlen(last_text) > 0);
		strncat(joined, last_text, sizeof(joined) - strlen(joined) - 1);
	}
	assert_true(json_parse(joined, strlen(joined), &d) == 0);
	assert_non_null(json_get(d.root, "applied"));
	assert_string_equal(json_get(d.root, "applied")->text, "3");
	json_free(&d);
	/* Another request: today's count. */
	(void)request(n, 3004, &c, SC_STATS_REQ, cookie, 43, 0, 0);
	assert_non_null(strstr(last_text, "\"applied\":53"));
	sc_node_free(n);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unverified),
		cmocka_unit_test(test_unverified_keyed),
		cmocka_unit_test(test_cookie_bound),
		cmocka_unit_test(test_budget_total),
		cmocka_unit_test(test_long_poll),
		cmocka_unit_test(test_park_table),
		cmocka_unit_test(test_stats_snapshot),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
