/*
 * test_node.c - whole clusters in one process: real protocol nodes joined
 * by a simulated network with virtual time, seeded loss, duplication and
 * reordering, and simulated clients that retry like seqcast does.
 *
 * Every scenario ends with the same assertions: every server applied the
 * same entries in the same order (equal digests, equal logs), ids are
 * 1..N each once, every request sent is in the log exactly once with the
 * value sent, and every id a client was told matches the log.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <unistd.h>
#include <cmocka.h>

#include "seqcast/bytes.h"
#include "seqcast/config.h"
#include "seqcast/logfile.h"
#include "seqcast/log.h"
#include "seqcast/node.h"
#include "seqcast/wire.h"

#define MAXN 8
#define MAXC 8
#define CLIENT_PORT0 20000

struct pkt {
	int64_t when;
	int dest;              /* node index, or MAXN + client index */
	struct sockaddr_in from;
	size_t len;
	uint8_t *buf;
};

struct sim;

struct simnode {
	struct sim *sim;
	int idx;
	struct sc_node node;
};

struct simclient {
	int target;            /* node it talks to */
	uint64_t client_id;
	uint32_t total;        /* requests to make */
	uint32_t next;         /* next request number to send first time */
	uint64_t *acked_id;    /* [req] id from ACK, 0 = not yet */
	int64_t *due;          /* [req] retry time, 0 = not sent */
	uint32_t nacked;
	struct sc_decoder *dec;
	struct sc_auth auth;
};

struct sim {
	struct sc_config conf;
	int n;
	struct simnode nodes[MAXN];
	struct simclient clients[MAXC];
	int nclients;
	struct pkt *q;         /* min-heap by when */
	size_t qlen, qcap;
	int64_t now;
	uint64_t rng;
	double loss;           /* network loss per delivery */
	double dup;            /* network duplication */
	int64_t jitter_us;     /* uniform extra latency: reorders */
	uint64_t delivered, lost;
	int keyed;             /* every node and client has the key */
	uint8_t captured[SC_RECV_MAX];  /* first DATA datagram sent */
	size_t captured_len;
	uint8_t captured_add[SC_RECV_MAX]; /* first ADD datagram sent */
	size_t captured_add_len;
	uint64_t coord_gap_left;  /* coordinator gaps left after a receive */
};

static uint64_t
rnd(struct sim *s)
{
	s->rng ^= s->rng << 13;
	s->rng ^= s->rng >> 7;
	s->rng ^= s->rng << 17;
	return s->rng;
}

static double
urand(struct sim *s)
{
	return (double)(rnd(s) >> 11) / 9007199254740992.0;
}

static void
q_push(struct sim *s, struct pkt p)
{
	size_t i;

	if (s->qlen == s->qcap) {
		s->qcap = s->qcap ? 2 * s->qcap : 1024;
		s->q = realloc(s->q, s->qcap * sizeof(*s->q));
		assert_non_null(s->q);
	}
	i = s->qlen++;
	s->q[i] = p;
	while (i > 0 && s->q[(i - 1) / 2].when > s->q[i].when) {
		struct pkt t = s->q[i];

		s->q[i] = s->q[(i - 1) / 2];
		s->q[(i - 1) / 2] = t;
		i = (i - 1) / 2;
	}
}

static struct pkt
q_pop(struct sim *s)
{
	struct pkt top = s->q[0];
	size_t i = 0;

	s->q[0] = s->q[--s->qlen];
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;

		if (l < s->qlen && s->q[l].when < s->q[m].when)
			m = l;
		if (r < s->qlen && s->q[r].when < s->q[m].when)
			m = r;
		if (m == i)
			break;
		struct pkt t = s->q[i];
		s->q[i] = s->q[m];
		s->q[m] = t;
		i = m;
	}
	return top;
}

static void
net_send(struct sim *s, const struct sockaddr_in *from, int dest,
    const void *buf, size_t len)
{
	int copies = 1, c;

	if (len > 5 && buf != NULL) {
		const uint8_t *b = buf;

		if (b[5] == SC_DATA && s->captured_len == 0) {
			memcpy(s->captured, buf, len);
			s->captured_len = len;
		}
		if (b[5] == SC_ADD && s->captured_add_len == 0) {
			memcpy(s->captured_add, buf, len);
			s->captured_add_len = len;
		}
	}
	if (urand(s) < s->loss) {
		s->lost++;
		return;
	}
	if (urand(s) < s->dup)
		copies = 2;
	for (c = 0; c < copies; c++) {
		struct pkt p;

		p.when = s->now + 50 + (s->jitter_us ? (int64_t)(rnd(s) %
		    (uint64_t)s->jitter_us) : 0);
		p.dest = dest;
		p.from = *from;
		p.len = len;
		p.buf = malloc(len);
		assert_non_null(p.buf);
		memcpy(p.buf, buf, len);
		q_push(s, p);
	}
}

static int
dest_of(struct sim *s, const struct sockaddr_in *to)
{
	int port = ntohs(to->sin_port);

	for (int i = 0; i < s->n; i++)
		if (s->conf.servers[i].listen.sin_port == to->sin_port)
			return i;
	if (port >= CLIENT_PORT0 && port < CLIENT_PORT0 + MAXC)
		return MAXN + (port - CLIENT_PORT0);
	return -1;
}

static void
node_send_cb(void *ctx, const struct sockaddr_in *to, const void *buf,
    size_t len)
{
	struct simnode *sn = ctx;
	struct sim *s = sn->sim;
	const struct sockaddr_in *from = &s->conf.servers[sn->idx].listen;
	int d;

	if (to == NULL) {
		for (d = 0; d < s->n; d++)
			net_send(s, from, d, buf, len);
		return;
	}
	d = dest_of(s, to);
	assert_true(d >= 0);
	if (d >= MAXN + s->nclients)
		return;             /* a client the test plays by hand */
	net_send(s, from, d, buf, len);
}

static void
client_addr(int c, struct sockaddr_in *a)
{
	memset(a, 0, sizeof(*a));
	a->sin_family = AF_INET;
	a->sin_addr.s_addr = htonl(0x7f000001);
	a->sin_port = htons((uint16_t)(CLIENT_PORT0 + c));
}

static char *
value_of(uint64_t client_id, uint64_t req, char *buf, size_t len)
{
	snprintf(buf, len, "c%llx-r%llu", (unsigned long long)client_id,
	    (unsigned long long)req);
	return buf;
}

static void
client_put(struct sim *s, struct simclient *cl, const struct sc_msg *m,
    const struct sockaddr_in *from)
{
	uint8_t buf[SC_DATAGRAM_MAX + SC_AUTH_TRAILER];
	long len = sc_encode(m, buf, SC_DATAGRAM_MAX);

	assert_true(len > 0);
	if (s->keyed)
		len = sc_auth_seal(&cl->auth, buf, (size_t)len, sizeof(buf),
		    s->now);
	assert_true(len > 0);
	net_send(s, from, cl->target, buf, (size_t)len);
}

/* Send every request of client c that is new or due for a retry. */
static void
client_send(struct sim *s, int c)
{
	struct simclient *cl = &s->clients[c];
	struct sc_item items[32];
	char vals[32][40];
	struct sc_msg m;
	struct sockaddr_in from;
	uint32_t k = 0, inflight = 0;

	client_addr(c, &from);
	memset(&m, 0, sizeof(m));
	m.h.magic = SC_MAGIC;
	m.h.version = SC_VERSION;
	m.h.type = SC_ADD;
	m.h.sender = SC_SENDER_CLIENT;
	m.items = items;
	for (uint32_t r = 1; r <= cl->total; r++) {
		int fresh = (cl->due[r] == 0);

		if (cl->acked_id[r])
			continue;
		if (fresh && inflight >= 64)
			break;              /* window */
		if (!fresh)
			inflight++;
		if (!fresh && cl->due[r] > s->now)
			continue;
		if (fresh)
			inflight++;
		memset(&items[k], 0, sizeof(items[k]));
		items[k].client = cl->client_id;
		items[k].req = r;
		items[k].value = (const uint8_t *)value_of(cl->client_id, r,
		    vals[k], sizeof(vals[k]));
		items[k].len = (uint32_t)strlen(vals[k]);
		cl->due[r] = s->now + 200000;
		if (++k == 32) {
			m.count = k;
			client_put(s, cl, &m, &from);
			k = 0;
		}
	}
	if (k > 0) {
		m.count = k;
		client_put(s, cl, &m, &from);
	}
}

static void
client_receive(struct sim *s, int c, const struct pkt *p)
{
	struct simclient *cl = &s->clients[c];
	struct sc_msg m;
	size_t len = p->len;

	if (s->keyed)
		assert_int_equal(sc_auth_open(&cl->auth, p->buf, p->len,
		    s->now, &len), SC_AUTH_OK);
	assert_int_equal(sc_decode(cl->dec, p->buf, len,
	    s->conf.cluster_id, &m), SC_REJ_NONE);
	assert_int_equal(m.h.type, SC_ACK);
	for (uint32_t i = 0; i < m.count; i++) {
		const struct sc_item *it = &m.items[i];

		assert_int_equal(it->client, cl->client_id);
		assert_true(it->req >= 1 && it->req <= cl->total);
		if (it->status != SC_OK)
			continue;          /* busy: retried on its timer */
		if (cl->acked_id[it->req] == 0) {
			cl->acked_id[it->req] = it->id;
			cl->nacked++;
		} else {
			/* A repeated ACK must carry the same id. */
			assert_int_equal(cl->acked_id[it->req], it->id);
		}
	}
}

static const char *base_conf =
    "[cluster]\nid = 7\ngroup = 239.255.1.1:5000\ncoordinator = 0\n"
    "heartbeat_ms = 20\n";

static void
sim_init(struct sim *s, int n, const char *extra, uint64_t seed)
{
	char text[4096], err[256];
	size_t off;

	memset(s, 0, sizeof(*s));
	off = (size_t)snprintf(text, sizeof(text), "%s%s", base_conf,
	    extra ? extra : "");
	for (int i = 0; i < n; i++)
		off += (size_t)snprintf(text + off, sizeof(text) - off,
		    "[server %d]\nlisten = 127.0.0.1:%d\n", i, 4400 + i);
	if (sc_config_parse(&s->conf, text, "sim.conf", err, sizeof(err)) ==
	    -1)
		fail_msg("config: %s", err);
	s->n = n;
	s->rng = seed * 2654435761u + 1;
	for (int i = 0; i < n; i++) {
		s->nodes[i].sim = s;
		s->nodes[i].idx = i;
		assert_int_equal(sc_node_init(&s->nodes[i].node, &s->conf,
		    (uint32_t)i, node_send_cb, &s->nodes[i], 0), 0);
	}
}

static void
sim_client(struct sim *s, int target, uint32_t total)
{
	struct simclient *cl = &s->clients[s->nclients++];

	cl->target = target;
	cl->client_id = 0x1000 + (uint64_t)s->nclients * 0x10001;
	cl->total = total;
	cl->acked_id = calloc(total + 1, sizeof(uint64_t));
	cl->due = calloc(total + 1, sizeof(int64_t));
	cl->dec = sc_decoder_new();
	assert_non_null(cl->acked_id);
	assert_non_null(cl->dec);
}

static int
sim_done(struct sim *s, uint64_t total)
{
	for (int c = 0; c < s->nclients; c++)
		if (s->clients[c].nacked < s->clients[c].total)
			return 0;
	for (int i = 0; i < s->n; i++)
		if (sc_node_applied(&s->nodes[i].node) < total)
			return 0;
	return 1;
}

/* Run until every client is acked and every node applied total, or the
 * virtual time limit. Returns the virtual time taken (us). */
static int64_t
sim_run(struct sim *s, uint64_t total, int64_t limit_us)
{
	int64_t next_client = 0;

	while (!sim_done(s, total) && s->now < limit_us) {
		int64_t t = next_client;

		for (int i = 0; i < s->n; i++) {
			int64_t d = sc_node_next_deadline(&s->nodes[i].node);
			if (d < t)
				t = d;
		}
		if (s->qlen > 0 && s->q[0].when < t)
			t = s->q[0].when;
		if (t > s->now)
			s->now = t;
		while (s->qlen > 0 && s->q[0].when <= s->now) {
			struct pkt p = q_pop(s);

			s->delivered++;
			if (p.dest < MAXN) {
				struct sc_node *nd = &s->nodes[p.dest].node;

				sc_node_receive(nd, s->now, &p.from, p.buf,
				    p.len);
				if (nd->coordinator &&
				    sc_gap_missing(&nd->gaps) > 0)
					s->coord_gap_left++;
			} else
				client_receive(s, p.dest - MAXN, &p);
			free(p.buf);
		}
		for (int i = 0; i < s->n; i++) {
			struct sc_node *nd = &s->nodes[i].node;

			sc_node_flush(nd);
			if (sc_node_next_deadline(nd) <= s->now)
				sc_node_tick(nd, s->now);
		}
		if (s->now >= next_client) {
			for (int c = 0; c < s->nclients; c++)
				client_send(s, c);
			next_client = s->now + 1000;
		}
	}
	return s->now;
}

/* The assertions every scenario ends with. */
static void
sim_check(struct sim *s, uint64_t total)
{
	char d0[33], d[33];
	const struct sc_applog *l0 = &s->nodes[0].node.log;
	uint8_t *seen = calloc(total + 1, 1);

	assert_non_null(seen);
	sc_applog_digest(l0, d0);
	for (int i = 0; i < s->n; i++) {
		const struct sc_applog *l = &s->nodes[i].node.log;

		assert_int_equal(l->count, total);
		sc_applog_digest(l, d);
		assert_string_equal(d, d0);
		for (uint64_t id = 1; id <= total; id++) {
			struct sc_item a, b;

			assert_int_equal(sc_applog_get(l, id, &a), 0);
			assert_int_equal(sc_applog_get(l0, id, &b), 0);
			assert_int_equal(a.client, b.client);
			assert_int_equal(a.req, b.req);
			assert_int_equal(a.len, b.len);
			assert_memory_equal(a.value, b.value, a.len);
		}
	}
	/* Every request of every client is in the log once, with its value
	 * and the id its client was told. */
	for (int c = 0; c < s->nclients; c++) {
		struct simclient *cl = &s->clients[c];

		for (uint64_t r = 1; r <= cl->total; r++) {
			uint64_t id = cl->acked_id[r];
			struct sc_item e;
			char v[40];

			assert_true(id >= 1 && id <= total);
			assert_int_equal(seen[id], 0);
			seen[id] = 1;
			assert_int_equal(sc_applog_get(l0, id, &e), 0);
			assert_int_equal(e.client, cl->client_id);
			assert_int_equal(e.req, r);
			value_of(cl->client_id, r, v, sizeof(v));
			assert_int_equal(e.len, strlen(v));
			assert_memory_equal(e.value, v, e.len);
		}
	}
	free(seen);
}

static void
sim_free(struct sim *s)
{
	for (int i = 0; i < s->n; i++)
		sc_node_free(&s->nodes[i].node);
	for (int c = 0; c < s->nclients; c++) {
		free(s->clients[c].acked_id);
		free(s->clients[c].due);
		sc_decoder_free(s->clients[c].dec);
	}
	while (s->qlen > 0)
		free(q_pop(s).buf);
	free(s->q);
}

static uint64_t
stat_sum(struct sim *s, size_t off)
{
	uint64_t sum = 0;

	for (int i = 0; i < s->n; i++)
		sum += *(const uint64_t *)((const char *)&s->nodes[i].node.st +
		    off);
	return sum;
}

/* Three servers, clients on every server, a perfect network. */
static void
test_lossless(void **state)
{
	static struct sim s;

	(void)state;
	sim_init(&s, 3, NULL, 1);
	sim_client(&s, 0, 1000);
	sim_client(&s, 1, 2000);
	sim_client(&s, 2, 2000);
	sim_run(&s, 5000, 60 * 1000000LL);
	sim_check(&s, 5000);
	/* Nothing was lost, so nothing was asked for again. */
	assert_int_equal(stat_sum(&s, offsetof(struct sc_node_stats,
	    nacks_sent)), 0);
	sim_free(&s);
}

static void
run_lossy(double loss, double dup, int64_t jitter, uint64_t seed, int n,
    uint32_t per_client)
{
	static struct sim s;
	uint64_t total = 0;

	sim_init(&s, n, NULL, seed);
	s.loss = loss;
	s.dup = dup;
	s.jitter_us = jitter;
	for (int c = 0; c < n; c++) {
		sim_client(&s, c, per_client);
		total += per_client;
	}
	int64_t took = sim_run(&s, total, 600 * 1000000LL);

	sim_check(&s, total);
	print_message("  loss %.0f%% dup %.0f%% jitter %lldus, %d servers: "
	    "%llu entries in %.2f s virtual; %llu datagrams lost, %llu NACKs, "
	    "%llu retransmitted (%llu multicast)\n", loss * 100, dup * 100,
	    (long long)jitter, n, (unsigned long long)total, took / 1e6,
	    (unsigned long long)s.lost, (unsigned long long)stat_sum(&s,
	    offsetof(struct sc_node_stats, nacks_sent)),
	    (unsigned long long)(s.nodes[0].node.st.retx_unicast +
	    s.nodes[0].node.st.retx_multicast),
	    (unsigned long long)s.nodes[0].node.st.retx_multicast);
	if (loss > 0) {
		assert_true(stat_sum(&s, offsetof(struct sc_node_stats,
		    nacks_sent)) > 0);
		assert_true(s.nodes[0].node.st.retx_unicast +
		    s.nodes[0].node.st.retx_multicast > 0);
	}
	sim_free(&s);
}

static void test_loss_10(void **st) { (void)st; run_lossy(0.10, 0, 0, 2, 3, 1500); }
static void test_loss_30(void **st) { (void)st; run_lossy(0.30, 0, 0, 3, 3, 1000); }
static void test_loss_50(void **st) { (void)st; run_lossy(0.50, 0, 0, 4, 3, 500); }
static void test_dup_reorder(void **st) { (void)st; run_lossy(0.0, 0.2, 2000, 5, 3, 1500); }
static void test_everything_5(void **st) { (void)st; run_lossy(0.2, 0.2, 1000, 6, 5, 400); }

/* The daemon's own fault injection (per server, per direction). */
static void
test_injected_faults(void **state)
{
	static struct sim s;

	(void)state;
	sim_init(&s, 3, "fault_in_drop = 0.2\nfault_in_dup = 0.1\n"
	    "fault_in_reorder = 0.1\nfault_in_delay = 0.05\n"
	    "fault_delay_ms = 3\nfault_out_drop = 0.05\nfault_seed = 9\n", 7);
	sim_client(&s, 0, 600);
	sim_client(&s, 1, 600);
	sim_client(&s, 2, 600);
	sim_run(&s, 1800, 600 * 1000000LL);
	sim_check(&s, 1800);
	assert_true(s.nodes[1].node.fault.n.dropped[SC_IN] > 0);
	assert_true(s.nodes[1].node.fault.n.duplicated[SC_IN] > 0);
	assert_true(s.nodes[1].node.fault.n.reordered[SC_IN] > 0);
	assert_true(s.nodes[1].node.fault.n.delayed[SC_IN] > 0);
	sim_free(&s);
}

/* Server 2 loses every DATA after id 300: only the heartbeat can tell it
 * the tail exists; it must still converge. */
static void
test_tail_loss(void **state)
{
	static struct sim s;

	(void)state;
	sim_init(&s, 3, NULL, 8);
	s.nodes[2].node.fault.conf.drop_data_above = 300;
	s.nodes[2].node.faulty = 1;
	sim_client(&s, 0, 500);
	sim_run(&s, 500, 60 * 1000000LL);
	sim_check(&s, 500);
	assert_true(s.nodes[2].node.st.nacks_sent > 0);
	assert_true(s.nodes[2].node.fault.n.dropped[SC_IN] > 0);
	assert_int_equal(s.nodes[1].node.st.nacks_sent, 0);
	sim_free(&s);
}

/* The coordinator loses some of its own multicast (and the tail of it):
 * it fills the gap from its store as soon as it sees it, within the
 * same receive, never leaving its own clients waiting for a timer; an
 * entry that comes back past a gap is applied after the gap is filled
 * from the store, never copied into the hold-back queue. */
static void
test_coordinator_own_loss(void **state)
{
	static struct sim s;

	(void)state;
	sim_init(&s, 3, NULL, 12);
	s.nodes[0].node.fault.conf.dir[SC_IN].drop = 0.3;
	s.nodes[0].node.fault.conf.types = 1u << SC_DATA;
	s.nodes[0].node.faulty = 1;
	sim_client(&s, 0, 800);
	sim_client(&s, 1, 400);
	sim_run(&s, 1200, 60 * 1000000LL);
	sim_check(&s, 1200);
	print_message("  coordinator: %llu of its own DATA lost, %llu entries "
	    "repaired from its store\n",
	    (unsigned long long)s.nodes[0].node.fault.n.dropped[SC_IN],
	    (unsigned long long)s.nodes[0].node.st.retx_local);
	assert_true(s.nodes[0].node.fault.n.dropped[SC_IN] > 5);
	assert_true(s.nodes[0].node.st.retx_local > 100);
	assert_true(s.coord_gap_left == 0);
	assert_int_equal(s.nodes[0].node.st.nacks_sent, 0);
	assert_int_equal(s.nodes[0].node.hold.peak, 0);
	sim_free(&s);
}

/* Server 2 hears nothing (it is "down") while a client adds 300 entries
 * through server 0: server 1 has them all, server 2 none. */
static void
run_server2_down(struct sim *s)
{
	s->nodes[2].node.fault.conf.dir[SC_IN].drop = 1.0;
	s->nodes[2].node.faulty = 1;
	sim_client(s, 0, 300);
	sim_run(s, UINT64_MAX, 5000000);
	assert_int_equal(s->nodes[1].node.log.count, 300);
	assert_int_equal(s->nodes[2].node.log.count, 0);
}

/* The coordinator's log is damaged on disk after it was written: an
 * entry it can no longer read back is answered GONE, never served empty
 * or wrong. Server 2 (down while the store evicted) catches up to just
 * before it and stops there; what it applied equals server 1's log. */
static void
test_damaged_log_not_served(void **state)
{
	static struct sim s;
	char dir[] = "/tmp/seqcast-test-node.XXXXXX", extra[256], err[512];
	char path[600];
	const uint64_t bad = 150;
	struct sc_item it;
	int fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(extra, sizeof(extra), "store_bytes = 4096\ndata_dir = %s\n"
	    "fsync = never\n", dir);
	sim_init(&s, 3, extra, 13);
	for (int i = 0; i < 3; i++)
		assert_int_equal(sc_node_open_log(&s.nodes[i].node, err,
		    sizeof(err)), 0);
	run_server2_down(&s);
	assert_true(s.nodes[0].node.retx.evicted > bad);
	/* flip one byte of entry 150's value in the coordinator's file */
	assert_int_equal(sc_logfile_write(&s.nodes[0].node.file), 0);
	assert_int_equal(sc_applog_get(&s.nodes[0].node.log, bad, &it), 0);
	snprintf(path, sizeof(path), "%s", s.nodes[0].node.file.path);
	{
		uint64_t off = s.nodes[0].node.file.index[(bad - 1) /
		    SC_LOG_INDEX_EVERY];
		uint8_t h[SC_LOGREC_HEAD], b;

		fd = open(path, O_RDWR);
		assert_true(fd >= 0);
		for (;;) {
			assert_true(pread(fd, h, sizeof(h), (off_t)off) ==
			    (ssize_t)sizeof(h));
			if (sc_get_le64(h + 8) == bad)
				break;
			off += SC_LOGREC_HEAD + sc_get_le32(h + 4);
		}
		assert_true(pread(fd, &b, 1, (off_t)(off + SC_LOGREC_HEAD))
		    == 1);
		b ^= 0x01;
		assert_true(pwrite(fd, &b, 1, (off_t)(off + SC_LOGREC_HEAD))
		    == 1);
		close(fd);
	}
	s.nodes[0].node.file.chunk_len = 0;     /* drop its read cache */
	s.nodes[2].node.faulty = 0;             /* back up */
	sim_run(&s, 300, s.now + 5000000);
	assert_int_equal(s.nodes[2].node.log.count, bad - 1);
	assert_true(s.nodes[2].node.st.gone_received > 0);
	for (uint64_t id = 1; id < bad; id++) {
		struct sc_item a, b;

		assert_int_equal(sc_applog_get(&s.nodes[2].node.log, id, &a),
		    0);
		assert_int_equal(sc_applog_get(&s.nodes[1].node.log, id, &b),
		    0);
		assert_true(a.client == b.client && a.req == b.req &&
		    a.len == b.len);
		assert_memory_equal(a.value, b.value, a.len);
	}
	sim_free(&s);
	for (int i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/server-%d.log", dir, i);
		unlink(path);
	}
	rmdir(dir);
}

/* The stats JSON escapes the log file's path: a data_dir with a quote,
 * a backslash and a tab still gives one well-formed string that reads
 * back as the path. */
static void
test_stats_path_escaped(void **state)
{
	static struct sim s;
	char dir[] = "/tmp/seqcast \"q\\ t\t.XXXXXX", extra[256], err[512];
	char json[8192], got[600], path[600];
	const char *p;
	size_t k = 0;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(extra, sizeof(extra), "data_dir = /tmp/placeholder\n");
	sim_init(&s, 1, extra, 14);
	snprintf(s.conf.servers[0].data_dir,
	    sizeof(s.conf.servers[0].data_dir), "%s", dir);
	assert_int_equal(sc_node_open_log(&s.nodes[0].node, err, sizeof(err)),
	    0);
	assert_true(sc_node_stats_json(&s.nodes[0].node, json,
	    sizeof(json)) > 0);
	p = strstr(json, "\"path\":\"");
	assert_non_null(p);
	for (p += 8; *p != '"'; p++) {
		assert_true(*p != '\0' && (unsigned char)*p >= 0x20);
		if (*p == '\\') {
			p++;
			if (*p == 'u') {
				unsigned v;

				assert_int_equal(sscanf(p + 1, "%4x", &v), 1);
				got[k++] = (char)v;
				p += 4;
				continue;
			}
		}
		got[k++] = *p;
	}
	got[k] = '\0';
	assert_string_equal(got, s.nodes[0].node.file.path);
	snprintf(path, sizeof(path), "%s", s.nodes[0].node.file.path);
	sim_free(&s);
	unlink(path);
	rmdir(dir);
}

/* A store too small for what a down server never acknowledges evicts;
 * when the server comes back, what left the store is served from the
 * coordinator's log, and it converges. */
static void
test_evicted_served_from_log(void **state)
{
	static struct sim s;

	(void)state;
	sim_init(&s, 3, "store_bytes = 4096\n", 9);
	run_server2_down(&s);
	assert_true(s.nodes[0].node.retx.evicted > 0);
	s.nodes[2].node.faulty = 0;   /* back up */
	sim_run(&s, 300, s.now + 5000000);
	sim_check(&s, 300);
	assert_true(s.nodes[0].node.served_from_log > 0);
	assert_int_equal(s.nodes[2].node.st.gone_received, 0);
	sim_free(&s);
}

/* A request for entries that are neither in the store nor in the
 * coordinator's applied log gets an explicit GONE, and the asker says so
 * and stops asking, never applying anything out of order. To get there,
 * the coordinator loses all of its own DATA (it stamps but lags in
 * applying) while its tiny store evicts, and server 2 is down. */
static void
test_gone(void **state)
{
	static struct sim s;
	struct sc_item a, b;

	(void)state;
	sim_init(&s, 3, "store_bytes = 2048\n", 10);
	s.nodes[0].node.fault.conf.types = 1u << SC_DATA;
	s.nodes[0].node.fault.conf.dir[SC_IN].drop = 1.0;
	s.nodes[0].node.faulty = 1;
	s.nodes[2].node.fault.conf.dir[SC_IN].drop = 1.0;
	s.nodes[2].node.faulty = 1;
	sim_client(&s, 1, 300);
	sim_run(&s, UINT64_MAX, 3000000);
	assert_int_equal(s.nodes[1].node.log.count, 300);
	assert_true(s.nodes[0].node.retx.evicted > 0);
	s.nodes[2].node.faulty = 0;
	sim_run(&s, UINT64_MAX, s.now + 3000000);
	assert_true(s.nodes[0].node.st.gone_sent > 0);
	assert_true(s.nodes[2].node.st.gone_received > 0);
	assert_true(s.nodes[2].node.st.gone_ids > 0);
	assert_true(s.nodes[2].node.gone_from >= 1);
	assert_true(s.nodes[2].node.log.count < 300);
	/* What it did apply is the same prefix as everyone's. */
	for (uint64_t id = 1; id <= s.nodes[2].node.log.count; id++) {
		assert_int_equal(sc_applog_get(&s.nodes[2].node.log, id,
		    &a), 0);
		assert_int_equal(sc_applog_get(&s.nodes[1].node.log, id,
		    &b), 0);
		assert_int_equal(a.req, b.req);
	}
	sim_free(&s);
}

static const uint8_t test_key[crypto_auth_KEYBYTES] = { 0x5e, 0xca, 0x57 };

static void
sim_key(struct sim *s)
{
	struct sc_auth a;

	sc_auth_set_key(&a, test_key);
	s->keyed = 1;
	for (int i = 0; i < s->n; i++)
		sc_node_set_key(&s->nodes[i].node, &a);
	for (int c = 0; c < MAXC; c++)
		s->clients[c].auth = a;
}

/* Deliver raw bytes to node d as if from address `from`. */
static void
inject(struct sim *s, int d, const struct sockaddr_in *from, const void *buf,
    size_t len)
{
	sc_node_receive(&s->nodes[d].node, s->now, from, buf, len);
	sc_node_flush(&s->nodes[d].node);
}

/* Injected loss stands for loss on the wire: it is decided on the
 * header, before the body is decoded. A datagram with a good header and
 * a broken body is dropped by a 100% loss (counted as a fault, not as a
 * reject); without the fault, it is rejected. */
static uint64_t
rejects(const struct sc_node *n)
{
	uint64_t t = 0;

	for (size_t i = 0; i < sizeof(n->st.rejected) /
	    sizeof(n->st.rejected[0]); i++)
		t += n->st.rejected[i];
	return t;
}

static void
test_fault_before_decode(void **state)
{
	static struct sim s;
	uint8_t bad[SC_RECV_MAX];
	struct sc_node *nd;
	uint64_t r0, d0;

	(void)state;
	sim_init(&s, 3, NULL, 15);
	sim_client(&s, 0, 50);
	sim_run(&s, 50, 10000000);
	sim_check(&s, 50);
	assert_true(s.captured_len > SC_HEADER_LEN + 8);
	memcpy(bad, s.captured, s.captured_len);
	bad[SC_HEADER_LEN + 4] ^= 0xff;          /* break the body */
	nd = &s.nodes[1].node;
	assert_int_equal(sc_decode_header(bad, s.captured_len, NULL),
	    SC_REJ_NONE);
	nd->fault.conf.dir[SC_IN].drop = 1.0;
	nd->faulty = 1;
	r0 = rejects(nd);
	d0 = nd->fault.n.dropped[SC_IN];
	inject(&s, 1, &s.conf.servers[0].listen, bad, s.captured_len);
	assert_true(nd->fault.n.dropped[SC_IN] == d0 + 1);
	assert_true(rejects(nd) == r0);
	nd->faulty = 0;
	inject(&s, 1, &s.conf.servers[0].listen, bad, s.captured_len);
	assert_true(rejects(nd) == r0 + 1);
	assert_true(nd->fault.n.dropped[SC_IN] == d0 + 1);
	sim_free(&s);
}

/* A member that sees the DATA of one of its forwards while a gap before
 * it is still open knows the entry is stamped: it stops re-forwarding it
 * however long the repair takes, and ACKs it once the gap is filled. */
static void
test_held_entry_not_reforwarded(void **state)
{
	static struct sim s;
	struct sc_node *nd;
	struct sc_item it[2];
	struct sc_msg m;
	struct sc_pend *p;
	struct sockaddr_in cl;
	uint8_t buf[SC_RECV_MAX];
	long len;

	(void)state;
	sim_init(&s, 3, NULL, 16);
	nd = &s.nodes[1].node;
	client_addr(0, &cl);
	/* a client's ADD to server 1: it forwards it */
	memset(&m, 0, sizeof(m));
	memset(it, 0, sizeof(it));
	m.h.magic = SC_MAGIC;
	m.h.version = SC_VERSION;
	m.h.type = SC_ADD;
	m.h.sender = SC_SENDER_CLIENT;
	it[0].client = 0x77;
	it[0].req = 1;
	it[0].value = (const uint8_t *)"held";
	it[0].len = 4;
	m.items = it;
	m.count = 1;
	len = sc_encode(&m, buf, sizeof(buf));
	assert_true(len > 0);
	inject(&s, 1, &cl, buf, (size_t)len);
	p = sc_pending_get(&nd->pend, 0x77, 1);
	assert_non_null(p);
	assert_non_null(p->value);
	/* the coordinator's DATA: id 2 is that entry, id 1 never came */
	m.h.type = SC_DATA;
	m.h.sender = 0;
	m.h.cluster = s.conf.cluster_id;
	it[0].id = 2;
	m.a = 2;
	len = sc_encode(&m, buf, sizeof(buf));
	assert_true(len > 0);
	inject(&s, 1, &s.conf.servers[0].listen, buf, (size_t)len);
	assert_int_equal(nd->log.count, 0);             /* held */
	assert_null(p->value);                          /* known stamped */
	assert_true(p->id == 2);
	/* a long repair: no re-forward however late */
	for (int k = 1; k <= 50; k++) {
		s.now += 10000;
		sc_node_tick(nd, s.now);
	}
	assert_int_equal(nd->st.reforwards, 0);
	assert_true(nd->st.nacks_sent > 0);
	/* id 1 arrives: both applied, the client acked with id 2 */
	it[0].id = 1;
	it[0].client = 0x99;
	it[0].req = 5;
	m.h.type = SC_RETX;
	len = sc_encode(&m, buf, sizeof(buf));
	inject(&s, 1, &s.conf.servers[0].listen, buf, (size_t)len);
	assert_int_equal(nd->log.count, 2);
	assert_null(sc_pending_get(&nd->pend, 0x77, 1));
	assert_true(nd->st.acks_sent >= 1);
	sim_free(&s);
}

/* Deliver a DATA datagram carrying `id` to node d. */
static void
inject_data(struct sim *s, int d, uint64_t id)
{
	struct sc_item it;
	struct sc_msg m;
	uint8_t buf[SC_RECV_MAX];
	long len;

	memset(&m, 0, sizeof(m));
	memset(&it, 0, sizeof(it));
	m.h.magic = SC_MAGIC;
	m.h.version = SC_VERSION;
	m.h.type = SC_DATA;
	m.h.sender = 0;
	m.h.cluster = s->conf.cluster_id;
	it.id = id;
	it.client = 0x55;
	it.req = id;
	it.value = (const uint8_t *)"v";
	it.len = 1;
	m.items = &it;
	m.count = 1;
	m.a = id;
	len = sc_encode(&m, buf, sizeof(buf));
	assert_true(len > 0);
	inject(s, d, &s->conf.servers[0].listen, buf, (size_t)len);
}

/* When the first NACK for a gap goes out. nack_delay_ms = auto (the
 * default): at once with two members (the coordinator unicasts to the
 * first asker, so no wait can spare a NACK), after a random 0..1 ms with
 * three or more; a wait set by hand is kept. Eight gaps in turn, each
 * filled before the next opens; the waits go to `waits`. */
static void
first_nacks(int nservers, const char *extra, int64_t *waits)
{
	static struct sim s;
	struct sc_node *nd;

	sim_init(&s, nservers, extra, 21);
	nd = &s.nodes[1].node;
	s.now = 1000;
	inject_data(&s, 1, 1);
	for (uint64_t k = 0; k < 8; k++) {
		uint64_t sent = nd->st.nacks_sent, a = 1 + 2 * k;
		int64_t t0;

		inject_data(&s, 1, a + 2);        /* a + 1 is missing */
		assert_true(nd->gaps.n == 1);
		t0 = s.now;
		while (nd->st.nacks_sent == sent && s.now < t0 + 100000) {
			sc_node_tick(nd, s.now);
			if (nd->st.nacks_sent == sent)
				s.now += 10;
		}
		assert_true(nd->st.nacks_sent == sent + 1);
		waits[k] = s.now - t0;
		inject_data(&s, 1, a + 1);        /* repaired */
		assert_true(nd->log.count == a + 2);
		s.now += 1000;
	}
	sim_free(&s);
}

/* The waits are within [0, max] and spread over it. */
static void
check_spread(const int64_t *w, int64_t max)
{
	int64_t most = 0, least = INT64_MAX;

	for (int k = 0; k < 8; k++) {
		assert_true(w[k] <= max + 10);
		most = w[k] > most ? w[k] : most;
		least = w[k] < least ? w[k] : least;
	}
	assert_true(most - least >= max / 8);
}

static void
test_nack_delay_by_size(void **state)
{
	int64_t w[8];

	(void)state;
	first_nacks(3, NULL, w);
	for (int k = 0; k < 8; k++)
		assert_true(w[k] == 0);
	first_nacks(3, "nack_delay_ms = auto\n", w);
	for (int k = 0; k < 8; k++)
		assert_true(w[k] == 0);
	first_nacks(5, NULL, w);
	check_spread(w, 1000);
	first_nacks(3, "nack_delay_ms = 40\n", w);
	check_spread(w, 40000);
}

static uint64_t
auth_refused(struct sim *s)
{
	uint64_t n = 0;

	for (int i = 0; i < s->n; i++)
		for (int a = SC_AUTH_MISSING; a <= SC_AUTH_UNEXPECTED; a++)
			n += s->nodes[i].node.st.auth[a];
	return n;
}

/* With a key: a lossy cluster still converges; then a datagram from a
 * process without the key (unsigned, or signed with another key) and
 * replays of captured valid datagrams change nothing. */
static void
test_auth(void **state)
{
	static struct sim s;
	uint8_t buf[SC_RECV_MAX + SC_AUTH_TRAILER];
	char d0[33], d[33];
	struct sc_auth wrong;
	struct sc_msg m;
	struct sc_item it;
	uint8_t other[crypto_auth_KEYBYTES] = { 1 };
	const struct sockaddr_in *coord = &s.conf.servers[0].listen;
	long len;

	(void)state;
	sim_init(&s, 3, NULL, 11);
	sim_key(&s);
	s.loss = 0.1;
	sim_client(&s, 1, 500);
	sim_client(&s, 2, 500);
	sim_run(&s, 1000, 60 * 1000000LL);
	sim_check(&s, 1000);
	s.loss = 0;
	sc_applog_digest(&s.nodes[1].node.log, d0);
	assert_int_equal(auth_refused(&s), 0);

	/* A forged DATA for id 1001 "from the coordinator", no MAC. */
	memset(&m, 0, sizeof(m));
	memset(&it, 0, sizeof(it));
	m.h.type = SC_DATA;
	m.h.cluster = s.conf.cluster_id;
	m.h.sender = 0;
	it.id = 1001;
	it.client = 77;
	it.req = 1;
	it.value = (const uint8_t *)"forged";
	it.len = 6;
	m.items = &it;
	m.count = 1;
	m.a = 1001;
	len = sc_encode(&m, buf, sizeof(buf));
	assert_true(len > 0);
	for (int i = 0; i < 3; i++)
		inject(&s, i, coord, buf, (size_t)len);
	/* The same signed with another key. */
	sc_auth_set_key(&wrong, other);
	len = sc_auth_seal(&wrong, buf, (size_t)len, sizeof(buf), s.now);
	for (int i = 0; i < 3; i++)
		inject(&s, i, coord, buf, (size_t)len);
	/* An unsigned ADD from a client without the key. */
	m.h.type = SC_ADD;
	m.h.sender = SC_SENDER_CLIENT;
	m.h.cluster = 0;
	len = sc_encode(&m, buf, sizeof(buf));
	inject(&s, 1, coord, buf, (size_t)len);
	/* Replays of a captured valid DATA and a captured valid ADD. */
	assert_true(s.captured_len > 0 && s.captured_add_len > 0);
	for (int i = 0; i < 3; i++)
		inject(&s, i, coord, s.captured, s.captured_len);
	for (int i = 0; i < 3; i++)
		inject(&s, i, &s.conf.servers[1].listen, s.captured_add,
		    s.captured_add_len);
	sim_run(&s, UINT64_MAX, s.now + 2000000);
	print_message("  %llu forged or replayed datagrams refused\n",
	    (unsigned long long)auth_refused(&s));
	assert_true(auth_refused(&s) >= 3 + 3 + 1 + 3);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(s.nodes[i].node.log.count, 1000);
		sc_applog_digest(&s.nodes[i].node.log, d);
		assert_string_equal(d, d0);
	}
	sim_check(&s, 1000);
	sim_free(&s);
}

/* add_rate: a source sending faster than add_rate entries/s at a server
 * gets the excess dropped and counted, other sources are not affected,
 * and the source's entries get through again once its bucket refills. */
static void
test_add_rate_limit(void **state)
{
	static struct sim s;
	struct sc_msg m;
	struct sc_item items[40];
	uint8_t buf[SC_DATAGRAM_MAX];
	struct sockaddr_in hog, other;
	long len;

	(void)state;
	sim_init(&s, 3, "add_rate = 100\n", 12);
	client_addr(0, &hog);
	client_addr(1, &other);
	other.sin_addr.s_addr = htonl(0x7f000002);
	memset(&m, 0, sizeof(m));
	m.h.type = SC_ADD;
	m.h.sender = SC_SENDER_CLIENT;
	m.items = items;
	m.count = 40;
	/* 10 datagrams of 40 entries at once from one source: 400 > 100. */
	for (int d = 0; d < 10; d++) {
		for (int i = 0; i < 40; i++) {
			memset(&items[i], 0, sizeof(items[i]));
			items[i].client = 0xabc;
			items[i].req = (uint64_t)(d * 40 + i + 1);
			items[i].value = (const uint8_t *)"x";
			items[i].len = 1;
		}
		len = sc_encode(&m, buf, sizeof(buf));
		assert_true(len > 0);
		sc_node_receive(&s.nodes[1].node, s.now, &hog, buf, (size_t)len);
	}
	/* Another source is not held back by the first one's bucket. */
	items[0].client = 0xdef;
	items[0].req = 1;
	m.count = 1;
	len = sc_encode(&m, buf, sizeof(buf));
	sc_node_receive(&s.nodes[1].node, s.now, &other, buf, (size_t)len);
	sc_node_flush(&s.nodes[1].node);
	sim_run(&s, UINT64_MAX, s.now + 1000000);
	print_message("  400 entries at once from one source, add_rate 100: "
	    "%llu applied, %llu rate-limited\n",
	    (unsigned long long)s.nodes[1].node.log.count,
	    (unsigned long long)s.nodes[1].node.st.rate_limited);
	assert_int_equal(s.nodes[1].node.st.rate_limited, 300);
	assert_int_equal(s.nodes[1].node.log.count, 101);
	assert_int_equal(s.nodes[0].node.log.count, 101);
	sim_free(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lossless),
		cmocka_unit_test(test_loss_10),
		cmocka_unit_test(test_loss_30),
		cmocka_unit_test(test_loss_50),
		cmocka_unit_test(test_dup_reorder),
		cmocka_unit_test(test_everything_5),
		cmocka_unit_test(test_injected_faults),
		cmocka_unit_test(test_tail_loss),
		cmocka_unit_test(test_coordinator_own_loss),
		cmocka_unit_test(test_damaged_log_not_served),
		cmocka_unit_test(test_stats_path_escaped),
		cmocka_unit_test(test_fault_before_decode),
		cmocka_unit_test(test_held_entry_not_reforwarded),
		cmocka_unit_test(test_nack_delay_by_size),
		cmocka_unit_test(test_evicted_served_from_log),
		cmocka_unit_test(test_gone),
		cmocka_unit_test(test_auth),
		cmocka_unit_test(test_add_rate_limit),
	};

	sc_log_init("test_node", -1, SC_LOG_ERROR);
	sc_tpl_hooks_install();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
