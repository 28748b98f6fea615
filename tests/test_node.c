/*
 * test_node.c - one node driven directly through its door, with
 * datagrams the test writes itself: rules that the whole-cluster
 * simulator (tests/sim) cannot reach with honest peers, because the
 * protocol never produces the input that would break them.
 *
 *   - a STAMPED answer naming an applied id that holds another request
 *     is not acknowledged (the old bug (c): the member acked `1 newA-1`
 *     while its log held another value at id 1);
 *   - a server whose cluster file differs is refused, and the CONFIG
 *     exchange names the setting that differs;
 *   - entries stamped in an older view are refused;
 *   - a DO_VIEW of a server that lost its log does not vouch: a view
 *     change among three needs two that kept theirs;
 *   - a single-server cluster stamps, applies and acknowledges alone.
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
#include "seqcast/mutate.h"
#include "seqcast/node.h"
#include "seqcast/wire.h"

#define SENT_MAX 64

static struct sc_config conf;
static struct sc_config_digest parts;
static struct sc_decoder *dec;
static struct sc_msg sent[SENT_MAX];      /* headers and scalars only */
static struct sc_item sent_items[SENT_MAX][8];
static uint32_t nsent;
static char logged[4096];

static void
capture(void *ctx, const struct sockaddr_in *to, const void *buf,
    size_t len)
{
	struct sc_msg m;

	(void)ctx;
	(void)to;
	/* With a key, what the test reads is the datagram without its MAC
	 * (the MAC itself is auth.c's business, test_auth.c's). */
	if (len > SC_AUTH_TRAILER && (((const uint8_t *)buf)[7] & SC_FLAG_MAC))
		len -= SC_AUTH_TRAILER;
	if (nsent == SENT_MAX ||
	    sc_decode(dec, buf, len, conf.cluster_id, &m) != SC_REJ_NONE)
		return;
	sent[nsent] = m;
	for (uint32_t i = 0; i < m.count && i < 8; i++)
		sent_items[nsent][i] = m.items[i];
	sent[nsent].items = sent_items[nsent];
	nsent++;
}

static void
log_line(void *ctx, int level, const char *line)
{
	(void)ctx;
	(void)level;
	strncat(logged, line, sizeof(logged) - strlen(logged) - 2);
	strcat(logged, "\n");
}

static int
setup(void **state)
{
	char err[256];
	static const char text[] =
	    "[cluster]\nid = 9\ngroup = 239.255.9.9:4999\n"
	    "[server 0]\nlisten = 127.0.0.1:4300\n"
	    "[server 1]\nlisten = 127.0.0.1:4301\n"
	    "[server 2]\nlisten = 127.0.0.1:4302\n";

	(void)state;
	sc_tpl_hooks_install();
	if (sc_config_parse(&conf, text, "t.conf", err, sizeof(err)) == -1)
		return -1;
	sc_config_digest(&conf, &parts);
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

static struct sc_node *
node(uint32_t id, uint32_t view)
{
	struct sc_io io;
	struct sc_node *n;

	memset(&io, 0, sizeof(io));
	io.send = capture;
	io.log = log_line;
	n = sc_node_new(&conf, id, &io, 1);
	assert_non_null(n);
	sc_node_start_as(n, 1000, view);
	nsent = 0;
	logged[0] = '\0';
	return n;
}

/* A datagram from server `from` (its own address, our cluster file). */
static void
feed(struct sc_node *n, int64_t now, uint32_t from, struct sc_msg *m)
{
	uint8_t buf[SC_DATAGRAM_MAX];
	long len;

	m->h.magic = SC_MAGIC;
	m->h.version = SC_VERSION;
	m->h.cluster = conf.cluster_id;
	m->h.sender = from;
	if (m->h.config == 0)
		m->h.config = sc_config_digest_word(&parts);
	len = sc_encode(m, buf, sizeof(buf));
	assert_true(len > 0);
	sc_node_receive(n, now, &conf.servers[from].listen, buf, (size_t)len);
	sc_node_flush(n, now);
}

static void
feed_client(struct sc_node *n, int64_t now, const struct sockaddr_in *from,
    uint64_t client, uint64_t req, const char *value)
{
	struct sc_item it;
	struct sc_msg m;
	uint8_t buf[SC_DATAGRAM_MAX];
	long len;

	memset(&m, 0, sizeof(m));
	memset(&it, 0, sizeof(it));
	it.client = client;
	it.req = req;
	it.value = (const uint8_t *)value;
	it.len = (uint32_t)strlen(value);
	m.h.magic = SC_MAGIC;
	m.h.version = SC_VERSION;
	m.h.type = SC_ADD;
	m.h.sender = SC_SENDER_CLIENT;
	m.items = &it;
	m.count = 1;
	len = sc_encode(&m, buf, sizeof(buf));
	assert_true(len > 0);
	sc_node_receive(n, now, from, buf, (size_t)len);
	sc_node_flush(n, now);
}

/* DATA of view `view` from its coordinator with entries first.. */
static void
feed_data(struct sc_node *n, int64_t now, uint32_t view, uint64_t first,
    uint32_t count, uint64_t client, uint64_t commit)
{
	struct sc_item it[8];
	struct sc_msg m;

	memset(&m, 0, sizeof(m));
	memset(it, 0, sizeof(it));
	for (uint32_t i = 0; i < count; i++) {
		it[i].id = first + i;
		it[i].client = client;
		it[i].req = first + i;
		it[i].value = (const uint8_t *)"v";
		it[i].len = 1;
	}
	m.h.type = SC_DATA;
	m.h.view = view;
	m.a = first + count - 1;
	m.b = commit;
	m.c = view;
	m.items = it;
	m.count = count;
	feed(n, now, (conf.coordinator + view) % conf.nservers, &m);
}

static uint32_t
acks_for(uint64_t client, uint64_t req)
{
	uint32_t k = 0;

	for (uint32_t i = 0; i < nsent; i++)
		if (sent[i].h.type == SC_ACK)
			for (uint32_t j = 0; j < sent[i].count && j < 8; j++)
				if (sent[i].items[j].client == client &&
				    sent[i].items[j].req == req &&
				    sent[i].items[j].status == SC_OK)
					k++;
	return k;
}

/* A STAMPED naming an applied id that holds another request: no ACK.
 * The same answer naming the request's own id: ACK. */
static void
test_stamped_checked(void **state)
{
	struct sockaddr_in client = conf.servers[0].listen;
	struct sc_node *n = node(1, 0);
	struct sc_node_info info;
	struct sc_item st;
	struct sc_msg m;

	(void)state;
	client.sin_port = htons(7777);
	/* Entries 1..3 of client 0x99 (reqs 1..3), committed. */
	feed_data(n, 2000, 0, 1, 3, 0x99, 3);
	sc_node_info(n, &info);
	assert_int_equal(info.applied, 3);
	/* Client 0x55 asks, through us, for its request 7. */
	feed_client(n, 3000, &client, 0x55, 7, "mine");
	nsent = 0;
	/* The coordinator says: 0x55/7 has id 2 (which holds 0x99/2). */
	memset(&m, 0, sizeof(m));
	memset(&st, 0, sizeof(st));
	st.client = 0x55;
	st.req = 7;
	st.id = 2;
	m.h.type = SC_STAMPED;
	m.items = &st;
	m.count = 1;
	feed(n, 4000, 0, &m);
	assert_int_equal(acks_for(0x55, 7), 0);
	/* Entry 4 is 0x55/7 indeed: applied, it is acknowledged. */
	{
		struct sc_item it;

		memset(&it, 0, sizeof(it));
		it.id = 4;
		it.client = 0x55;
		it.req = 7;
		it.value = (const uint8_t *)"mine";
		it.len = 4;
		memset(&m, 0, sizeof(m));
		m.h.type = SC_DATA;
		m.a = 4;
		m.b = 4;
		m.items = &it;
		m.count = 1;
		feed(n, 5000, 0, &m);
	}
	assert_int_equal(acks_for(0x55, 7), 1);
	sc_node_free(n);
}

/* Server 2 with another coordinator in its file: refused, and told;
 * its CONFIG names the difference. */
static void
test_config_mismatch(void **state)
{
	struct sc_config other = conf;
	struct sc_config_digest theirs;
	struct sc_item items[SC_DIGEST_PARTS];
	struct sc_node *n = node(1, 0);
	struct sc_node_info info;
	struct sc_msg m;
	int told = 0;

	(void)state;
	other.coordinator = 2;
	sc_config_digest(&other, &theirs);
	/* DATA "from the coordinator" (server 0) with another file. */
	memset(&m, 0, sizeof(m));
	m.h.config = sc_config_digest_word(&theirs);
	feed_data(n, 2000, 0, 1, 0, 1, 0);
	{
		struct sc_item it;

		memset(&it, 0, sizeof(it));
		it.id = 1;
		it.client = 1;
		it.req = 1;
		m.h.type = SC_DATA;
		m.a = 1;
		m.b = 1;
		m.items = &it;
		m.count = 1;
		feed(n, 3000, 0, &m);
	}
	sc_node_info(n, &info);
	assert_int_equal(info.op, 0);
	assert_non_null(strstr(logged, "server 0's cluster file differs"));
	for (uint32_t i = 0; i < nsent; i++)
		told += sent[i].h.type == SC_CONFIG;
	assert_int_equal(told, 1);
	/* Its parts: the log names "coordinator", nothing else. */
	memset(&m, 0, sizeof(m));
	memset(items, 0, sizeof(items));
	for (int i = 0; i < SC_DIGEST_PARTS; i++) {
		items[i].first = (uint64_t)i;
		items[i].last = theirs.part[i];
	}
	m.h.type = SC_CONFIG;
	m.h.config = sc_config_digest_word(&theirs);
	m.a = SC_DIGEST_PARTS;
	m.items = items;
	m.count = SC_DIGEST_PARTS;
	feed(n, 4000, 0, &m);
	assert_non_null(strstr(logged, "differs from ours in: coordinator ("));
	sc_node_free(n);
}

/* In view 2, DATA of view 1 (from view 1's coordinator) is refused. */
static void
test_old_view_refused(void **state)
{
	struct sc_node *n = node(0, 2);
	struct sc_node_info info;

	(void)state;
	feed_data(n, 2000, 1, 1, 3, 0x11, 3);
	sc_node_info(n, &info);
	assert_int_equal(info.op, 0);
	assert_true(info.stale > 0);
	feed_data(n, 3000, 2, 1, 3, 0x11, 3);
	sc_node_info(n, &info);
	assert_int_equal(info.op, 3);
	assert_int_equal(info.applied, 3);
	sc_node_free(n);
}

/* A DO_VIEW of view `view` from server `from`: its last normal view, its
 * log's length, and whether it may have lost its log (recovering). */
static void
feed_dvc(struct sc_node *n, int64_t now, uint32_t from, uint32_t view,
    uint64_t normal_view, uint64_t op, int lost)
{
	struct sc_msg m;

	memset(&m, 0, sizeof(m));
	m.h.type = SC_DO_VIEW;
	m.h.view = view;
	m.a = normal_view;
	m.b = op;
	m.d = (uint64_t)lost;
	feed(n, now, from, &m);
}

/* A view change among three: the DO_VIEW of a server that lost its log
 * (it vouches for nothing) does not make the majority of DO_VIEWs alone
 * with ours: a server that kept its log must vouch too, or an entry
 * committed on the lost server and the third would be dropped. */
static void
test_lost_dvc_vouches_nothing(void **state)
{
	struct sc_node *n = node(1, 0);     /* view 1's coordinator-to-be */
	struct sc_node_info info;
	struct sc_msg m;

	(void)state;
	memset(&m, 0, sizeof(m));
	m.h.type = SC_VIEW_CHANGE;
	m.h.view = 1;
	m.d = 1;                            /* server 2 is in view change 1 */
	feed(n, 2000, 2, &m);
	sc_node_info(n, &info);
	assert_int_equal(info.status, SC_NODE_VIEW_CHANGE);
	assert_int_equal(info.view, 1);
	feed_dvc(n, 3000, 0, 1, 0, 0, 1);   /* server 0: lost its log */
	sc_node_info(n, &info);
	assert_int_equal(info.status, SC_NODE_VIEW_CHANGE);
	feed_dvc(n, 4000, 2, 1, 0, 0, 0);   /* server 2 kept its log */
	sc_node_info(n, &info);
	assert_int_equal(info.status, SC_NODE_NORMAL);
	assert_int_equal(info.role, SC_ROLE_COORDINATOR);
	sc_node_free(n);
}

/* One server: it is the majority; a client's entry is stamped, applied
 * and acknowledged in the same pass. */
static void
test_single_server(void **state)
{
	static const char text[] =
	    "[cluster]\nid = 9\ngroup = 239.255.9.9:4999\n"
	    "[server 0]\nlisten = 127.0.0.1:4300\n";
	struct sc_config one;
	struct sockaddr_in client = conf.servers[0].listen;
	struct sc_node_info info;
	struct sc_node *n;
	struct sc_io io;
	char err[256];

	(void)state;
	assert_int_equal(sc_config_parse(&one, text, "one.conf", err,
	    sizeof(err)), 0);
	memset(&io, 0, sizeof(io));
	io.send = capture;
	n = sc_node_new(&one, 0, &io, 1);
	assert_non_null(n);
	nsent = 0;
	sc_node_start(n, 1000);
	sc_node_flush(n, 1000);
	sc_node_info(n, &info);
	assert_int_equal(info.status, SC_NODE_NORMAL);
	assert_int_equal(info.role, SC_ROLE_COORDINATOR);
	client.sin_port = htons(7000);
	feed_client(n, 2000, &client, 0x42, 1, "alone");
	sc_node_info(n, &info);
	assert_int_equal(info.applied, 1);
	assert_int_equal(acks_for(0x42, 1), 1);
	sc_node_free(n);
}

/* A datagram from server `from`, sealed with tx at wall time wall. */
static void
feed_sealed(struct sc_node *n, int64_t now, uint32_t from, struct sc_msg *m,
    struct sc_auth *tx, int64_t wall)
{
	uint8_t buf[SC_DATAGRAM_MAX + SC_AUTH_TRAILER];
	long len;

	m->h.magic = SC_MAGIC;
	m->h.version = SC_VERSION;
	m->h.cluster = conf.cluster_id;
	m->h.sender = from;
	m->h.config = sc_config_digest_word(&parts);
	len = sc_encode(m, buf, SC_DATAGRAM_MAX);
	assert_true(len > 0);
	len = sc_auth_seal(tx, buf, (size_t)len, sizeof(buf), wall);
	assert_true(len > 0);
	sc_node_receive(n, now, &conf.servers[from].listen, buf, (size_t)len);
	sc_node_flush(n, now);
}

/* The challenge sent to server s (RECOVERY, b = 2): its nonce, 0 if none. */
static uint64_t
challenge_to(void)
{
	for (uint32_t i = 0; i < nsent; i++)
		if (sent[i].h.type == SC_RECOVERY && sent[i].b == 2)
			return sent[i].a;
	return 0;
}

/*
 * Server 0 restarts with its clock an hour behind: its counters fall
 * below the window we keep for it. Its datagrams are refused (they could
 * be replays), it is challenged, and once it answers with our nonce its
 * datagrams are taken again. A replayed answer with another nonce does
 * not do it.
 */
static void
test_auth_challenge(void **state)
{
	static const uint8_t key[SC_AUTH_KEY_BYTES] = { 7, 7, 7 };
	struct sc_auth mine, s0, s0b;
	struct sc_node_info info;
	struct sc_msg m;
	struct sc_node *n;
	int64_t wall = 1700000000LL * 1000000;
	uint64_t nonce;

	(void)state;
	sc_auth_set_key(&mine, key);
	sc_auth_set_key(&s0, key);
	sc_auth_set_key(&s0b, key);
	n = node(1, 0);
	sc_node_set_key(n, &mine);
	feed_data(n, 2000, 0, 1, 2, 0x11, 0);   /* unsealed: refused */
	sc_node_info(n, &info);
	assert_int_equal(info.op, 0);
	memset(&m, 0, sizeof(m));
	m.h.type = SC_HEARTBEAT;
	feed_sealed(n, 3000, 0, &m, &s0, wall);
	/* Restarted an hour behind. */
	nsent = 0;
	memset(&m, 0, sizeof(m));
	m.h.type = SC_HEARTBEAT;
	m.a = 5;
	feed_sealed(n, 4000, 0, &m, &s0b, wall - 3600LL * 1000000);
	nonce = challenge_to();
	assert_true(nonce != 0);
	/* A wrong nonce (a replayed answer) changes nothing. */
	memset(&m, 0, sizeof(m));
	m.h.type = SC_RECOVERY;
	m.a = nonce + 2;
	m.b = 3;
	feed_sealed(n, 5000, 0, &m, &s0b, wall - 3600LL * 1000000);
	assert_null(strstr(logged, "answered our challenge"));
	/* The right one restarts its window. */
	memset(&m, 0, sizeof(m));
	m.h.type = SC_RECOVERY;
	m.a = nonce;
	m.b = 3;
	feed_sealed(n, 6000, 0, &m, &s0b, wall - 3600LL * 1000000);
	assert_non_null(strstr(logged, "answered our challenge"));
	/* Its DATA is taken again. */
	{
		struct sc_item it[2];

		memset(it, 0, sizeof(it));
		for (int i = 0; i < 2; i++) {
			it[i].id = (uint64_t)i + 1;
			it[i].client = 0x11;
			it[i].req = (uint64_t)i + 1;
			it[i].value = (const uint8_t *)"v";
			it[i].len = 1;
		}
		memset(&m, 0, sizeof(m));
		m.h.type = SC_DATA;
		m.a = 2;
		m.items = it;
		m.count = 2;
		feed_sealed(n, 7000, 0, &m, &s0b, wall - 3600LL * 1000000);
	}
	sc_node_info(n, &info);
	assert_int_equal(info.op, 2);
	sc_node_free(n);
}

/*
 * Built with -DSC_MUTATIONS (build/mut/tests/test_node), SEQCAST_MUTATE
 * names a rule to break: the tests that guard it must then fail
 * (tests/sim/check.sh).
 */
int
main(void)
{
#ifdef SC_MUTATIONS
	const char *rule = getenv("SEQCAST_MUTATE");

	if (rule != NULL && (sc_mutation = sc_mutation_by_name(rule)) <= 0) {
		fprintf(stderr, "test_node: no rule named '%s'\n", rule);
		return 2;
	}
#endif
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stamped_checked),
		cmocka_unit_test(test_config_mismatch),
		cmocka_unit_test(test_old_view_refused),
		cmocka_unit_test(test_lost_dvc_vouches_nothing),
		cmocka_unit_test(test_single_server),
		cmocka_unit_test(test_auth_challenge),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
