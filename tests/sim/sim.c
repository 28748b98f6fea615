/*
 * sim.c - the world of one seed: the plan it draws, the servers (real
 * nodes over the simulated network and disks), the scheduler that runs
 * the next event of the whole world, the faults, and the run's phases:
 * faults until plan.fault_end, then everything healed and the world must
 * converge within plan.bound.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "seqcast/mutate.h"
#include "seqcast/rng.h"
#include "sim.h"

uint64_t
sim_rand(struct sim *s)
{
	return sc_rng_next(&s->rng);
}

uint64_t
sim_below(struct sim *s, uint64_t n)
{
	return sc_rng_below(&s->rng, n);
}

double
sim_uniform(struct sim *s)
{
	return sc_rng_uniform(&s->rng);
}

void
sim_trace(struct sim *s, const char *fmt, ...)
{
	char *line = s->trace[s->ntrace++ % SIM_TRACE];
	int k;
	va_list ap;

	k = snprintf(line, 160, "%8.3f ms ", (double)s->now / 1000);
	va_start(ap, fmt);
	vsnprintf(line + k, (size_t)(160 - k), fmt, ap);
	va_end(ap);
	if (s->verbose > 1)
		fprintf(stderr, "%s\n", line);
}

void
sim_fail(struct sim *s, const char *fmt, ...)
{
	va_list ap;

	if (s->failed)
		return;
	s->failed = 1;
	va_start(ap, fmt);
	vsnprintf(s->failure, sizeof(s->failure), fmt, ap);
	va_end(ap);
	sim_trace(s, "FAILED: %s", s->failure);
}

/* A server's own clock: monotonic, but not quite at the world's pace. */
int64_t
sim_local(const struct sim_server *v, int64_t now)
{
	return now + (int64_t)((double)now * v->drift / 1e6);
}

/* ---- the servers' I/O ---- */

static void
io_send(void *ctx, const struct sockaddr_in *to, const void *buf, size_t len)
{
	struct sim_server *v = ctx;
	struct sim *s = v->sim;

	sim_check_sent(s, v->idx, buf, len);
	sim_check_reply(s, v->idx, to, len);
	sim_net_send(s, v->idx, &s->conf.servers[v->idx].listen, to, buf, len);
}

static int
io_append(void *ctx, const struct sc_item *it)
{
	return sim_disk_append(ctx, it);
}

static int
io_truncate(void *ctx, uint64_t keep)
{
	return sim_disk_truncate(ctx, keep);
}

static int
io_read(void *ctx, uint64_t id, struct sc_item *out)
{
	return sim_disk_read(ctx, id, out);
}

static int
io_save(void *ctx, const struct sc_state *st)
{
	return sim_disk_save(ctx, st);
}

static void
io_sync(void *ctx, uint64_t ticket, int fds)
{
	sim_disk_sync(ctx, ticket, fds);
}

static void
io_log(void *ctx, int level, const char *line)
{
	struct sim_server *v = ctx;

	(void)level;
	sim_trace(v->sim, "s%d: %s", v->idx, line);
}

static void
server_start(struct sim *s, struct sim_server *v)
{
	struct sc_io io;

	memset(&io, 0, sizeof(io));
	io.ctx = v;
	io.send = io_send;
	io.log = io_log;
	if (s->plan.data_dir) {
		io.append = io_append;
		io.truncate = io_truncate;
		io.read = io_read;
		io.save_state = io_save;
		io.sync = io_sync;
	}
	v->node = sc_node_new(&s->conf, (uint32_t)v->idx, &io, sim_rand(s));
	if (v->node == NULL)
		abort();
	v->alive = 1;
	v->checked = 0;
	if (s->plan.data_dir) {
		if (sim_disk_load(v) == -1)
			return;
	} else {
		struct sc_state st;

		memset(&st, 0, sizeof(st));
		sc_node_load_state(v->node, &st, 0);
	}
	sc_node_start(v->node, sim_local(v, s->now));
}

static void
server_crash(struct sim *s, struct sim_server *v, int wipe)
{
	sim_trace(s, "s%d: CRASH%s", v->idx, wipe ? " (data_dir wiped)" : "");
	sc_node_free(v->node);
	v->node = NULL;
	v->alive = 0;
	sim_disk_crash(v);
	v->paused_until = 0;
	if (wipe) {
		v->disk.len = v->disk.synced = 0;
		v->disk.nrec = 0;
		v->disk.have_state = 0;
	}
	s->crashes++;
}

/* ---- set-up ---- */

static void
plan_draw(struct sim *s, int nservers)
{
	struct sim_plan *p = &s->plan;

	memset(p, 0, sizeof(*p));
	p->nservers = nservers ? nservers : (sim_below(s, 10) < 7 ? 3 : 5);
	p->data_dir = sim_below(s, 2) == 0;
	p->fsync = sim_below(s, 5) == 0 ? SC_FSYNC_INTERVAL : SC_FSYNC_EACH;
	p->nclients = 1 + (int)sim_below(s, SIM_CLIENTS_MAX);
	p->reqs = 20 + (uint32_t)sim_below(s, 120);
	p->fault_end = 1000000 + (int64_t)sim_below(s, 3000000);
	p->bound = 20000000;
	p->loss = sim_below(s, 3) == 0 ? 0 : sim_uniform(s) * 0.25;
	p->dup = sim_below(s, 3) == 0 ? 0 : sim_uniform(s) * 0.05;
	p->jitter = (int64_t)sim_below(s, 3000);
	p->late = sim_below(s, 3) == 0 ? sim_uniform(s) * 0.10 : 0;
	p->crashes = (int)sim_below(s, 4);
	p->partitions = (int)sim_below(s, 3);
	p->disk_faults = p->data_dir ? (int)sim_below(s, 3) : 0;
	p->type_losses = (int)sim_below(s, 3);
	p->pauses = (int)sim_below(s, 3);
	if (sim_below(s, 8) == 0)
		p->persist_lost_type = SC_HEARTBEAT;
}

static void
conf_build(struct sim *s)
{
	struct sc_config *c = &s->conf;

	sc_config_defaults(c);
	c->cluster_id = 7;
	c->group.sin_family = AF_INET;
	c->group.sin_addr.s_addr = htonl(0xefff0707);   /* 239.255.7.7 */
	c->group.sin_port = htons(4299);
	c->nservers = (uint32_t)s->plan.nservers;
	c->coordinator = (uint32_t)sim_below(s, c->nservers);
	c->pending_max = 512;
	c->holdback_max = 1024;
	c->dedup_max = 4096;
	c->store_bytes = 1 << 20;
	c->mtu = 1500;
	c->fsync = s->plan.fsync;
	c->catchup_rate = sim_below(s, 2) ? 0 : 20000;
	for (uint32_t i = 0; i < c->nservers; i++) {
		c->servers[i].present = 1;
		c->servers[i].listen.sin_family = AF_INET;
		c->servers[i].listen.sin_addr.s_addr = htonl(0x7f000001);
		c->servers[i].listen.sin_port = htons((uint16_t)(4300 + i));
		if (s->plan.data_dir)
			snprintf(c->servers[i].data_dir,
			    sizeof(c->servers[i].data_dir), "/sim/%u", i);
	}
}

void sim_setup(struct sim *s, uint64_t seed, int nservers);

void
sim_setup(struct sim *s, uint64_t seed, int nservers)
{
	memset(s, 0, sizeof(*s));
	s->seed = seed;
	s->rng = sc_rng_seed(seed, 0x51a1);
	plan_draw(s, nservers);
	conf_build(s);
	s->net.delay_min = 30;
	s->net.loss = s->plan.loss;
	s->net.dup = s->plan.dup;
	s->net.jitter = s->plan.jitter;
	s->net.late = s->plan.late;
	if (s->plan.persist_lost_type) {
		s->plan.persist_lost_to = 1u << (1 + sim_below(s,
		    (uint64_t)s->plan.nservers - 1) + s->conf.coordinator) %
		    (uint32_t)s->plan.nservers;
		s->net.lost_to[s->plan.persist_lost_type] =
		    s->plan.persist_lost_to;
	}
	for (int i = 0; i < s->plan.nservers; i++) {
		struct sim_server *v = &s->srv[i];

		v->sim = s;
		v->idx = i;
		v->drift = (double)sim_below(s, 2001) - 1000; /* +-1000 ppm */
		/* Servers come up within a few milliseconds of each other. */
		v->down_until = (int64_t)sim_below(s, 20000);
	}
	for (int i = 0; i < s->plan.nclients; i++)
		sim_client_init(s, &s->cli[i], i);
	s->next_fault = 200000 + (int64_t)sim_below(s, 300000);
}

void sim_teardown(struct sim *s);

void
sim_teardown(struct sim *s)
{
	for (int i = 0; i < s->plan.nservers; i++) {
		sc_node_free(s->srv[i].node);
		sim_disk_free(&s->srv[i].disk);
	}
	for (int i = 0; i < s->plan.nclients; i++)
		sim_client_free(&s->cli[i]);
	sim_net_free(s);
	free(s->truth);
	free(s->stamps);
}

/* ---- faults ---- */

static int
servers_down(const struct sim *s)
{
	int k = 0;

	for (int i = 0; i < s->plan.nservers; i++)
		k += !s->srv[i].alive;
	return k;
}

/* Every server up, in one view, caught up: a copy may be lost now. */
static int
healthy(struct sim *s)
{
	struct sc_node_info a, b;

	if (servers_down(s) > 0)
		return 0;
	sc_node_info(s->srv[0].node, &a);
	for (int i = 0; i < s->plan.nservers; i++) {
		sc_node_info(s->srv[i].node, &b);
		if (b.status != SC_NODE_NORMAL || b.view != a.view ||
		    b.applied != a.applied || b.op != b.applied)
			return 0;
	}
	return 1;
}

/* A crash with a durable log (fsync = each) loses nothing: any time.
 * Without one, or with the data_dir wiped, the server's copy is lost:
 * only one such fault at a time, and only once every server is caught
 * up again (two at once would be two faults, beyond the promise). */
static void
fault_crash(struct sim *s)
{
	struct sim_server *v = &s->srv[sim_below(s,
	    (uint64_t)s->plan.nservers)];
	struct sc_node_info info;

	/* Half the crashes are the coordinator's: failover is the point. */
	if (sim_below(s, 2) == 0 && v->alive) {
		sc_node_info(v->node, &info);
		v = &s->srv[info.coordinator];
	}
	int trusted = s->plan.data_dir && s->plan.fsync == SC_FSYNC_EACH;
	int wipe = s->plan.data_dir && sim_below(s, 4) == 0;

	if (!v->alive || s->plan.crashes <= 0)
		return;
	if ((wipe || !trusted) && !healthy(s))
		return;
	s->plan.crashes--;
	server_crash(s, v, wipe);
	v->down_until = s->now + (int64_t)sim_below(s, 800000);
}

/* A long pause of one server (a frozen VM, a stopped process), most
 * often the coordinator's: it wakes up believing what it believed. */
static void
fault_pause(struct sim *s)
{
	struct sim_server *v = &s->srv[sim_below(s,
	    (uint64_t)s->plan.nservers)];
	struct sc_node_info info;

	if (s->plan.pauses <= 0 || !v->alive)
		return;
	if (sim_below(s, 3) != 0) {
		sc_node_info(v->node, &info);
		v = &s->srv[info.coordinator];
		if (!v->alive)
			return;
	}
	s->plan.pauses--;
	v->paused_until = s->now + 100000 + (int64_t)sim_below(s, 700000);
	sim_trace(s, "s%d: PAUSED until %.3f ms", v->idx,
	    (double)v->paused_until / 1000);
}

static void
fault_partition(struct sim *s)
{
	uint32_t side = 0;
	int n = s->plan.nservers;

	if (s->plan.partitions <= 0)
		return;
	s->plan.partitions--;
	while (side == 0 || side == (1u << n) - 1)
		side = (uint32_t)sim_below(s, 1u << n);
	/* Often: the coordinator on the minority side, where it goes on a
	 * while (until it sees it has no majority). */
	if (sim_below(s, 2) == 0 && s->srv[0].alive) {
		struct sc_node_info info;

		sc_node_info(s->srv[0].node, &info);
		side = 1u << info.coordinator;
		if (n == 5)
			side |= 1u << (info.coordinator + 1) % 5;
	}
	for (int i = 0; i < n; i++)
		for (int j = 0; j < n; j++)
			if ((side >> i & 1) != (side >> j & 1))
				s->net.cut[i] |= 1u << j;
	s->partitions++;
	sim_trace(s, "PARTITION %#x | rest", side);
}

static void
fault_disk(struct sim *s)
{
	int i = (int)sim_below(s, (uint64_t)s->plan.nservers);

	if (s->plan.disk_faults <= 0 || !s->srv[i].alive)
		return;
	s->plan.disk_faults--;
	s->srv[i].disk.failing = 1;
	s->disk_faults++;
	sim_trace(s, "s%d: DISK FAILING", i);
}

static void
fault_type(struct sim *s)
{
	static const int types[] = { SC_HEARTBEAT, SC_DATA, SC_RETX, SC_NACK,
	    SC_REPORT, SC_STAMPED, SC_FWD, SC_ACK, SC_VIEW_CHANGE,
	    SC_DO_VIEW, SC_RECOVERY_REPLY };
	int t = types[sim_below(s, sizeof(types) / sizeof(types[0]))];

	if (s->plan.type_losses <= 0)
		return;
	s->plan.type_losses--;
	s->net.lost_to[t] |= (uint32_t)sim_below(s, 1u << s->plan.nservers);
	sim_trace(s, "LOSE %s to %#x", sc_type_name(t), s->net.lost_to[t]);
}

/* Undo what a window of faults did (not the crashes). */
static void
fault_clear(struct sim *s, int all)
{
	memset(s->net.cut, 0, sizeof(s->net.cut));
	for (int i = 0; i < s->plan.nservers; i++)
		s->srv[i].disk.failing = 0;
	memset(s->net.lost_to, 0, sizeof(s->net.lost_to));
	if (s->plan.persist_lost_type && !all)
		s->net.lost_to[s->plan.persist_lost_type] =
		    s->plan.persist_lost_to;
	sim_trace(s, "HEAL");
}

static void
fault_step(struct sim *s)
{
	switch (sim_below(s, 7)) {
	case 0:
		fault_crash(s);
		break;
	case 5:
		fault_pause(s);
		break;
	case 1:
		fault_partition(s);
		break;
	case 2:
		fault_disk(s);
		break;
	case 3:
		fault_type(s);
		break;
	default:
		fault_clear(s, 0);
		break;
	}
	s->next_fault = s->now + 100000 + (int64_t)sim_below(s, 700000);
}

/* The faults stop: heal the network, stop losing and duplicating,
 * restart the crashed. Only a plan's persistent fault remains (every
 * heartbeat lost on its way to one member): the cluster must converge
 * without them. */
static void
heal_all(struct sim *s)
{
	fault_clear(s, 0);
	s->net.loss = 0;
	s->net.dup = 0;
	s->net.late = 0;
	for (int i = 0; i < s->plan.nservers; i++) {
		if (!s->srv[i].alive && s->srv[i].down_until > s->now)
			s->srv[i].down_until = s->now;
		if (s->srv[i].paused_until > s->now)
			s->srv[i].paused_until = s->now;
	}
	s->healed = 1;
	s->next_fault = INT64_MAX;
	sim_trace(s, "FAULTS STOP");
}

/* ---- the scheduler ---- */

static void
server_flush(struct sim *s, struct sim_server *v)
{
	sc_node_flush(v->node, sim_local(v, s->now));
}

static void
sync_done(struct sim *s, struct sim_server *v)
{
	struct sim_disk *d = &v->disk;
	int ok = !d->failing;

	d->sync_pending = 0;
	if (ok && d->sync_fds) {
		if (d->sync_len > d->synced)
			d->synced = d->sync_len;
		d->syncs++;
	} else if (!ok) {
		d->fails++;
	}
	sc_node_synced(v->node, sim_local(v, s->now), d->sync_ticket, ok,
	    ok ? 0 : 5 /* EIO */);
	server_flush(s, v);
}

static void
deliver(struct sim *s, struct sim_packet *p)
{
	if (p->dest >= SIM_SERVERS_MAX) {
		struct sim_client *c = &s->cli[p->dest - SIM_SERVERS_MAX];

		if (p->dest - SIM_SERVERS_MAX < s->plan.nclients)
			sim_client_receive(s, c, p->buf, p->len);
		return;
	}
	if (!s->srv[p->dest].alive)
		return;
	if (s->srv[p->dest].paused_until > s->now) {
		/* Waits in its socket until it wakes up. */
		struct sim_packet later = *p;

		later.when = s->srv[p->dest].paused_until;
		later.buf = malloc(p->len ? p->len : 1);
		if (later.buf == NULL)
			abort();
		memcpy(later.buf, p->buf, p->len);
		sim_net_requeue(s, &later);
		return;
	}
	sim_check_request(s, p->dest, &p->from, p->len);
	sc_node_receive(s->srv[p->dest].node,
	    sim_local(&s->srv[p->dest], s->now), &p->from, p->buf, p->len);
	server_flush(s, &s->srv[p->dest]);
	s->net.delivered++;
}

/* The first world time at which the server's own clock reads t. */
static int64_t
world_at(const struct sim_server *v, int64_t t)
{
	int64_t w;

	if (t == INT64_MAX)
		return t;
	w = (int64_t)((double)t / (1 + v->drift / 1e6));
	while (sim_local(v, w) < t)
		w++;
	return w;
}

/* What happens next: -1 packet, -2 fault, -3 restart of server k,
 * -4 sync of server k, k >= 0 server k's timer, 100 + k client k. */
static int
next_event(struct sim *s, int64_t *when, int *which)
{
	int64_t t = sim_net_next(s);
	int kind = -1;

	*which = 0;
	if (s->next_fault < t) {
		t = s->next_fault;
		kind = -2;
	}
	for (int i = 0; i < s->plan.nservers; i++) {
		struct sim_server *v = &s->srv[i];
		int64_t d;

		if (!v->alive) {
			if (v->down_until < t) {
				t = v->down_until;
				kind = -3;
				*which = i;
			}
			continue;
		}
		if (v->disk.sync_pending && v->disk.sync_when < t &&
		    v->paused_until < t) {
			t = v->disk.sync_when > v->paused_until ?
			    v->disk.sync_when : v->paused_until;
			kind = -4;
			*which = i;
		}
		d = world_at(v, sc_node_next_deadline(v->node));
		if (d < v->paused_until)
			d = v->paused_until;
		if (d < t) {
			t = d;
			kind = 0;
			*which = i;
		}
	}
	for (int i = 0; i < s->plan.nclients; i++) {
		int64_t d = sim_client_deadline(&s->cli[i]);

		if (d < t) {
			t = d;
			kind = 100;
			*which = i;
		}
	}
	*when = t < s->now ? s->now : t;
	return kind;
}

/* Run one event of the world. 0 when nothing is left to do. */
int sim_step(struct sim *s);

int
sim_step(struct sim *s)
{
	struct sim_packet p;
	int64_t when;
	int which, kind = next_event(s, &when, &which);

	if (when == INT64_MAX)
		return 0;
	if (!s->healed && when >= s->plan.fault_end) {
		s->now = s->plan.fault_end;
		heal_all(s);
		return 1;
	}
	/* A deadline that does not move when it is run would spin here
	 * forever (at one instant): that is a bug of its own. */
	if (when == s->now && kind == s->last_kind && which == s->last_which) {
		if (++s->spins > 100000) {
			sim_fail(s, "stuck at %.6f s: event %d of %d runs without "
			    "moving its deadline", (double)when / 1e6, kind,
			    which);
			return 0;
		}
	} else {
		s->spins = 0;
	}
	s->last_kind = kind;
	s->last_which = which;
	s->now = when;
	s->steps++;
	switch (kind) {
	case -1:
		sim_net_pop(s, &p);
		deliver(s, &p);
		free(p.buf);
		break;
	case -2:
		fault_step(s);
		break;
	case -3:
		s->srv[which].down_until = INT64_MAX;
		if (s->srv[which].restarts++ > 0) {
			sim_trace(s, "s%d: RESTART", which);
			s->restarts++;   /* the first start is not one */
		}
		server_start(s, &s->srv[which]);
		if (!s->failed)
			server_flush(s, &s->srv[which]);
		break;
	case -4:
		sync_done(s, &s->srv[which]);
		break;
	case 100:
		sim_client_tick(s, &s->cli[which]);
		break;
	default:
		sc_node_tick(s->srv[which].node,
		    sim_local(&s->srv[which], s->now));
		server_flush(s, &s->srv[which]);
		break;
	}
	if (!s->failed)
		sim_check_step(s);
	return 1;
}
