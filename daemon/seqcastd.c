/*
 * seqcastd.c - the daemon: a thin libev shell around the protocol node.
 *
 * It owns the sockets (unicast: clients and peers, and every send; its
 * twin, the control socket, which the kernel gives repair and view
 * traffic so it is read first; the group: the multicast stream), the log
 * and state files of the data_dir, one timer set to the node's next
 * deadline, and the signal watchers. It hands the node monotonic time,
 * received datagrams (through the fault-injection wrapper) and completed
 * writes, and carries out what the node decides (struct sc_io). Every
 * protocol decision happens in node*.c.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <ev.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "seqcast/auth.h"
#include "seqcast/config.h"
#include "seqcast/faultnet.h"
#include "seqcast/log.h"
#include "seqcast/logfile.h"
#include "seqcast/net.h"
#include "seqcast/node.h"
#include "seqcast/wire.h"

#define RECV_BATCH 64       /* datagrams per recvmmsg */
#define RECV_ROUNDS 16      /* recvmmsg calls per wakeup, then timers run */
#define CONTROL_EVERY 16    /* datagrams handled between two looks at the
                               control socket */
#define SOCKBUF (8 << 20)   /* wanted socket buffer size */
#define FLUSH_ROUNDS 4      /* flush, write, flush again: at most */

struct shell {
	struct ev_loop *loop;
	struct sc_config conf;
	struct sc_node *node;
	struct sc_faultnet *fault;
	int ufd, gfd;               /* unicast and group sockets */
	int cfd;                    /* control socket (-1: none) */
	ev_io uw, gw, cw;
	ev_timer timer;
	ev_signal sigint, sigterm;
	struct sc_auth auth;
	struct sc_logfile file;     /* fd -1: no data_dir */
	const char *dir;
	uint32_t id;
	int sync_asked;             /* the node asked for a write */
	uint64_t sync_ticket;
	int sync_fds;
	uint64_t send_errors;
	uint8_t bufs[RECV_BATCH][SC_RECV_MAX];
	uint8_t cbufs[CONTROL_EVERY][SC_RECV_MAX];  /* control socket's */
};

/* Monotonic microseconds: the node's only clock. A step of the wall
 * clock (NTP, an operator) changes nothing in the protocol's timing. */
static int64_t
mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t
wall_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* To the socket: after fault injection. */
static void
sock_send(void *ctx, const struct sockaddr_in *to, const void *buf,
    size_t len)
{
	struct shell *s = ctx;
	const struct sockaddr_in *dst = to ? to : &s->conf.group;

	if (sendto(s->ufd, buf, len, 0, (const struct sockaddr *)dst,
	    sizeof(*dst)) == -1) {
		/* A full send buffer or an unreachable peer is a lost
		 * datagram: the protocol repairs it; count and go on. */
		s->send_errors++;
		if (errno != EAGAIN && errno != ENOBUFS &&
		    errno != ECONNREFUSED && s->send_errors % 1000 == 1)
			sc_warn("sendto: %s", strerror(errno));
	}
}

/* From the fault wrapper to the node. */
static void
to_node(void *ctx, int64_t now, const struct sockaddr_in *from,
    const void *buf, size_t len)
{
	struct shell *s = ctx;

	sc_node_receive(s->node, now, from, buf, len);
}

/* ---- the node's I/O interface ---- */

static void
io_send(void *ctx, const struct sockaddr_in *to, const void *buf, size_t len)
{
	struct shell *s = ctx;

	sc_faultnet_send(s->fault, mono_us(), to, buf, len);
}

static int
io_append(void *ctx, const struct sc_item *it)
{
	struct shell *s = ctx;

	errno = 0;
	if (sc_logfile_append(&s->file, it) < 0) {
		if (errno == 0)
			errno = EINVAL;
		return -1;
	}
	return 0;
}

static int
io_truncate(void *ctx, uint64_t keep)
{
	struct shell *s = ctx;

	errno = 0;
	if (sc_logfile_truncate(&s->file, keep) == -1) {
		if (errno == 0)
			errno = EIO;
		return -1;
	}
	return 0;
}

static int
io_read(void *ctx, uint64_t id, struct sc_item *out)
{
	struct shell *s = ctx;

	return sc_logfile_get(&s->file, id, out);
}

static int
io_save_state(void *ctx, const struct sc_state *st)
{
	struct shell *s = ctx;
	char err[700];

	if (sc_state_save(s->dir, s->id, st, err, sizeof(err)) == 0)
		return 0;
	sc_warn("%s", err);
	return -1;
}

static void
io_sync(void *ctx, uint64_t ticket, int fds)
{
	struct shell *s = ctx;

	s->sync_asked = 1;
	s->sync_ticket = ticket;
	s->sync_fds = fds;
}

static void
io_log(void *ctx, int level, const char *line)
{
	(void)ctx;
	sc_log(level, "%s", line);
}

/* "path": the log file's, escaped as a JSON string. */
static int
json_path(char *buf, size_t len, const char *path)
{
	size_t used = 0;
	int k;

	for (const unsigned char *c = (const unsigned char *)path; *c; c++) {
		if (*c == '"' || *c == '\\')
			k = snprintf(buf + used, len - used, "\\%c", *c);
		else if (*c < 0x20 || *c == 0x7f)
			k = snprintf(buf + used, len - used, "\\u%04x", *c);
		else
			k = snprintf(buf + used, len - used, "%c", *c);
		if (k < 0 || (size_t)k >= len - used)
			return -1;
		used += (size_t)k;
	}
	return (int)used;
}

static int
io_stats(void *ctx, char *buf, size_t len)
{
	struct shell *s = ctx;
	char path[1200];
	int a, b;

	a = sc_faultnet_json(s->fault, buf, len);
	if (a < 0 || json_path(path, sizeof(path), s->file.fd == -1 ? "" :
	    s->file.path) < 0)
		return -1;
	b = snprintf(buf + a, len - (size_t)a, ",\"log_file\":{\"path\":"
	    "\"%s\",\"bytes\":%llu,\"fsyncs\":%llu,\"cut_at_start\":%llu,"
	    "\"truncated\":%llu},\"send_errors\":%llu", path,
	    (unsigned long long)s->file.size, (unsigned long long)s->file.syncs,
	    (unsigned long long)s->file.cut_bytes,
	    (unsigned long long)s->file.truncated,
	    (unsigned long long)s->send_errors);
	if (b < 0 || (size_t)b >= len - (size_t)a)
		return -1;
	return a + b;
}

/* ---- passes ---- */

/* End of a pass: the node flushes; what it appended is written (and,
 * with fsync = each, synced) and the node told, which may release DATA
 * and acks: flush again. */
static void
shell_flush(struct shell *s)
{
	for (int round = 0; round < FLUSH_ROUNDS; round++) {
		int ok, err = 0;

		sc_node_flush(s->node, mono_us());
		if (!s->sync_asked)
			return;
		s->sync_asked = 0;
		errno = 0;
		ok = (s->sync_fds ? sc_logfile_sync(&s->file) :
		    sc_logfile_write(&s->file)) == 0;
		if (!ok)
			err = errno ? errno : EIO;
		sc_node_synced(s->node, mono_us(), s->sync_ticket, ok, err);
	}
}

static void
shell_rearm(struct shell *s)
{
	int64_t now = mono_us(), due = sc_node_next_deadline(s->node);
	int64_t fdue = sc_faultnet_deadline(s->fault);
	double after;

	if (fdue < due)
		due = fdue;
	after = due <= now ? 0 : (double)(due - now) / 1e6;
	if (after > 1.0)
		after = 1.0;
	ev_timer_stop(s->loop, &s->timer);
	ev_timer_set(&s->timer, after, 0.);
	ev_timer_start(s->loop, &s->timer);
}

static void
shell_tick(struct shell *s)
{
	int64_t now = mono_us();

	sc_faultnet_tick(s->fault, now);
	sc_node_tick(s->node, now);
}

static void shell_control(struct shell *s);

/* One recvmmsg of up to `batch` datagrams on fd into bufs, every datagram
 * handed on; the count read (0 when none or on error). */
static int
shell_read(struct shell *s, int fd, uint8_t (*bufs)[SC_RECV_MAX], int batch)
{
	struct mmsghdr msgs[RECV_BATCH];
	struct iovec iov[RECV_BATCH];
	struct sockaddr_in from[RECV_BATCH];
	int i, got;
	int64_t now;

	for (i = 0; i < batch; i++) {
		iov[i].iov_base = bufs[i];
		iov[i].iov_len = SC_RECV_MAX;
		memset(&msgs[i], 0, sizeof(msgs[i]));
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
		msgs[i].msg_hdr.msg_name = &from[i];
		msgs[i].msg_hdr.msg_namelen = sizeof(from[i]);
	}
	got = recvmmsg(fd, msgs, (unsigned)batch, MSG_DONTWAIT, NULL);
	if (got == -1) {
		if (errno != EAGAIN && errno != EWOULDBLOCK &&
		    errno != EINTR && errno != ECONNREFUSED)
			sc_warn("recvmmsg: %s", strerror(errno));
		return 0;
	}
	/* One wakeup may take milliseconds under load: the clock is read
	 * per batch (repair timing is a sub-millisecond decision). */
	now = mono_us();
	for (i = 0; i < got; i++) {
		sc_faultnet_receive(s->fault, now, &from[i], bufs[i],
		    msgs[i].msg_len);
		/* A batch of requests takes up to a millisecond: a NACK or a
		 * retransmission that came meanwhile is not kept waiting. */
		if (fd != s->cfd && (i + 1) % CONTROL_EVERY == 0 &&
		    i + 1 < got)
			shell_control(s);
	}
	return got;
}

/* Repair traffic first: whatever waits on the control socket is read,
 * and its answers sent, before the next batch of requests, so a NACK
 * never queues behind thousands of FWDs. */
static void
shell_control(struct shell *s)
{
	int round, got = 0;

	if (s->cfd == -1)
		return;
	for (round = 0; round < RECV_ROUNDS; round++) {
		int n = shell_read(s, s->cfd, s->cbufs, CONTROL_EVERY);

		got += n;
		if (n < CONTROL_EVERY)
			break;
	}
	if (got > 0)
		shell_flush(s);
}

static void
shell_drain(struct shell *s, int fd)
{
	int round;

	for (round = 0; round < RECV_ROUNDS; round++) {
		if (fd != s->cfd)
			shell_control(s);
		if (shell_read(s, fd, s->bufs, RECV_BATCH) < RECV_BATCH)
			break;
		/* A long wakeup does not hold back what is due meanwhile
		 * (a NACK for the gap just seen, a re-forward). */
		if (sc_node_next_deadline(s->node) <= mono_us())
			shell_tick(s);
	}
	/* Idle (or enough for one wakeup): send what the batches hold, so a
	 * lone entry goes out at once and a burst goes out packed. */
	shell_flush(s);
}

static void
on_readable(struct ev_loop *loop, ev_io *w, int revents)
{
	struct shell *s = w->data;

	(void)loop;
	(void)revents;
	shell_drain(s, w->fd);
	shell_rearm(s);
}

static void
on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct shell *s = w->data;

	(void)loop;
	(void)revents;
	shell_tick(s);
	shell_flush(s);
	shell_rearm(s);
}

static void
on_signal(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)revents;
	sc_info("signal %d: stopping", w->signum);
	ev_break(loop, EVBREAK_ALL);
}

static int
open_unicast(struct shell *s, const struct sc_server_conf *me,
    struct in_addr ifaddr, int *rcvbuf, int *sndbuf)
{
	int fd, saved;

	if (sc_net_steered_socket(&me->listen, SC_CONTROL_TYPES, SOCK_NONBLOCK,
	    &fd, &s->cfd) == -1)
		return -1;
	if (sc_net_mcast_sender(fd, ifaddr, s->conf.ttl) == -1) {
		saved = errno;
		close(fd);
		if (s->cfd != -1)
			close(s->cfd);
		s->cfd = -1;
		errno = saved;
		return -1;
	}
	*rcvbuf = sc_net_bufsize(fd, SO_RCVBUF, SOCKBUF);
	*sndbuf = sc_net_bufsize(fd, SO_SNDBUF, SOCKBUF);
	if (s->cfd != -1)
		(void)sc_net_bufsize(s->cfd, SO_RCVBUF, SOCKBUF);
	return fd;
}

static int
open_group(struct shell *s, struct in_addr ifaddr, int *rcvbuf)
{
	int fd = sc_net_group_socket(&s->conf.group, ifaddr, SOCK_NONBLOCK);
	int got;

	if (fd == -1)
		return -1;
	got = sc_net_bufsize(fd, SO_RCVBUF, SOCKBUF);
	if (got < *rcvbuf || *rcvbuf == 0)
		*rcvbuf = got;
	return fd;
}

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: seqcastd --config FILE --id N [options]\n"
	    "       seqcastd --check-config --config FILE\n"
	    "  -c, --config FILE    the cluster file\n"
	    "  -i, --id N           which [server N] of the file this is\n"
	    "  -n, --check-config   validate the file and exit\n"
	    "  -g, --gen-key FILE   write a new random shared key to FILE\n"
	    "  -d, --data-dir DIR   keep this server's log in DIR (durable)\n"
	    "  -f, --fault KEY=VAL  fault-injection key for this server\n"
	    "                       (fault_in_drop=0.1, ...; repeatable)\n"
	    "  -s, --set KEY=VAL    override any other key (repeatable)\n"
	    "  -v, --verbose        debug logging\n"
	    "  -q, --quiet          warnings and errors only\n"
	    "  -V, --version        print the version and exit\n"
	    "Runs in the foreground, logs to stderr; SIGINT/SIGTERM stop it.\n");
}

struct opts {
	const char *config;
	const char *gen_key;
	char data_dir[300];
	long id;
	int check;
	int level;
	const char *sets[64];
	int nsets;
};

static int
parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "id", required_argument, NULL, 'i' },
		{ "check-config", no_argument, NULL, 'n' },
		{ "gen-key", required_argument, NULL, 'g' },
		{ "fault", required_argument, NULL, 'f' },
		{ "data-dir", required_argument, NULL, 'd' },
		{ "set", required_argument, NULL, 's' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	int ch;
	char *end;

	memset(o, 0, sizeof(*o));
	o->id = -1;
	o->level = SC_LOG_INFO;
	while ((ch = getopt_long(argc, argv, "c:i:ng:f:s:d:vqhV", lo, NULL)) != -1) {
		switch (ch) {
		case 'c': o->config = optarg; break;
		case 'n': o->check = 1; break;
		case 'g': o->gen_key = optarg; return 0;
		case 'v': o->level = SC_LOG_DEBUG; break;
		case 'q': o->level = SC_LOG_WARN; break;
		case 'h': usage(stdout); exit(0);
		case 'V': printf("seqcastd %s\n", SC_VERSION_STRING); exit(0);
		case 'i':
			errno = 0;
			o->id = strtol(optarg, &end, 10);
			if (errno || *end || end == optarg || o->id < 0 ||
			    o->id >= SC_SERVERS_MAX) {
				fprintf(stderr, "seqcastd: bad --id '%s'\n",
				    optarg);
				return -1;
			}
			break;
		case 'd':
			if (snprintf(o->data_dir, sizeof(o->data_dir),
			    "data_dir=%s", optarg) >= (int)sizeof(o->data_dir))
				return -1;
			if (o->nsets == 64)
				return -1;
			o->sets[o->nsets++] = o->data_dir;
			break;
		case 'f':
		case 's':
			if (o->nsets == 64)
				return -1;
			o->sets[o->nsets++] = optarg;
			break;
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind != argc || o->config == NULL || (!o->check && o->id < 0)) {
		usage(stderr);
		return -1;
	}
	return 0;
}

/* A relative key_file is relative to the cluster file's folder. */
static int
load_key(struct shell *s, const char *config)
{
	char path[600], err[700];
	const char *slash = strrchr(config, '/');
	struct sc_auth auth;

	if (s->conf.key_file[0] == '\0')
		return 0;
	if (s->conf.key_file[0] == '/' || slash == NULL)
		snprintf(path, sizeof(path), "%s", s->conf.key_file);
	else
		snprintf(path, sizeof(path), "%.*s/%s", (int)(slash - config),
		    config, s->conf.key_file);
	if (sc_auth_load(&auth, path, err, sizeof(err)) == -1) {
		fprintf(stderr, "seqcastd: %s\n", err);
		return -1;
	}
	s->auth = auth;
	sodium_memzero(&auth, sizeof(auth));
	return 0;
}

static int
load_config(struct shell *s, const struct opts *o)
{
	char err[512];

	if (sc_config_load(&s->conf, o->config, err, sizeof(err)) == -1) {
		fprintf(stderr, "seqcastd: %s\n", err);
		return -1;
	}
	for (int i = 0; i < o->nsets; i++) {
		if (sc_config_set(&s->conf, o->id < 0 ? 0 : (uint32_t)o->id,
		    o->sets[i], err, sizeof(err)) == -1) {
			fprintf(stderr, "seqcastd: %s\n", err);
			return -1;
		}
	}
	if (o->id >= (long)s->conf.nservers) {
		fprintf(stderr, "seqcastd: %s has no [server %ld]\n",
		    o->config, o->id);
		return -1;
	}
	return load_key(s, o->config);
}

/* Each record of the log file, in order, into the node. */
static int
load_entry(void *ctx, const struct sc_item *it, uint64_t offset)
{
	struct shell *s = ctx;

	(void)offset;
	return sc_node_load(s->node, it);
}

/* The log and state files of the data_dir (if any) into the node. */
static int
shell_load(struct shell *s)
{
	struct sc_state st;
	char err[700];
	int rc, have;

	memset(&st, 0, sizeof(st));
	if (s->dir == NULL) {
		sc_node_load_state(s->node, &st, 0);
		return 0;
	}
	rc = sc_logfile_open(&s->file, s->dir, s->id, load_entry, s, err,
	    sizeof(err));
	if (rc == -1) {
		sc_log(SC_LOG_ERROR, "%s", err);
		return -1;
	}
	if (rc == 1)
		sc_warn("%s", err);
	have = sc_state_load(s->dir, s->id, &st, err, sizeof(err));
	if (have == -1) {
		sc_log(SC_LOG_ERROR, "%s", err);
		return -1;
	}
	sc_node_load_state(s->node, &st, have == 0);
	sc_info("log %s: %llu entries recovered (%s state file)",
	    s->file.path, (unsigned long long)s->file.last_id,
	    have == 0 ? "with its" : "no");
	return 0;
}

static struct sc_node *
shell_node(struct shell *s, uint32_t id)
{
	struct sc_io io;

	memset(&io, 0, sizeof(io));
	io.ctx = s;
	io.send = io_send;
	io.log = io_log;
	io.stats = io_stats;
	if (s->dir != NULL) {
		io.append = io_append;
		io.truncate = io_truncate;
		io.read = io_read;
		io.save_state = io_save_state;
		io.sync = io_sync;
	}
	return sc_node_new(&s->conf, id, &io, (uint64_t)wall_us() ^
	    ((uint64_t)getpid() << 32));
}

static int
shell_start(struct shell *s, uint32_t id)
{
	const struct sc_server_conf *me = &s->conf.servers[id];
	struct in_addr ifaddr = me->has_interface ? me->interface :
	    s->conf.interface;
	char a[INET_ADDRSTRLEN], g[INET_ADDRSTRLEN], i[INET_ADDRSTRLEN];
	int rcvbuf = 0, sndbuf = 0;

	s->loop = EV_DEFAULT;
	s->id = id;
	s->file.fd = -1;
	s->dir = me->data_dir[0] != '\0' ? me->data_dir : NULL;
	inet_ntop(AF_INET, &me->listen.sin_addr, a, sizeof(a));
	inet_ntop(AF_INET, &s->conf.group.sin_addr, g, sizeof(g));
	inet_ntop(AF_INET, &ifaddr, i, sizeof(i));
	if ((s->ufd = open_unicast(s, me, ifaddr, &rcvbuf, &sndbuf)) == -1) {
		sc_log(SC_LOG_ERROR, "cannot listen on %s:%u (interface %s): "
		    "%s", a, ntohs(me->listen.sin_port), i, strerror(errno));
		return -1;
	}
	if ((s->gfd = open_group(s, ifaddr, &rcvbuf)) == -1) {
		sc_log(SC_LOG_ERROR, "cannot join group %s:%u on interface "
		    "%s: %s", g, ntohs(s->conf.group.sin_port), i,
		    strerror(errno));
		return -1;
	}
	/* Every datagram fits the path: the interface's MTU unless the
	 * cluster file says. */
	if (s->conf.mtu == 0)
		s->conf.mtu = (uint32_t)sc_net_mtu(ifaddr);
	if (s->conf.mtu == 0)
		s->conf.mtu = 1500;
	s->fault = sc_faultnet_new(sc_config_fault(&s->conf, id), id, to_node,
	    s, sock_send, s);
	s->node = s->fault ? shell_node(s, id) : NULL;
	if (s->node == NULL) {
		sc_log(SC_LOG_ERROR, "cannot set up the node: out of memory");
		return -1;
	}
	sc_node_set_key(s->node, &s->auth);
	sc_node_set_wall_offset(s->node, wall_us() - mono_us());
	sc_node_set_sockets(s->node, rcvbuf, sndbuf, s->cfd != -1);
	if (shell_load(s) == -1)
		return -1;
	sc_info("on %s:%u, group %s:%u via %s, cluster %u, %u servers, "
	    "datagrams up to %u bytes (MTU)", a, ntohs(me->listen.sin_port), g,
	    ntohs(s->conf.group.sin_port), i, s->conf.cluster_id,
	    s->conf.nservers, s->conf.mtu);
	if (sc_faultnet_active(s->fault))
		sc_warn("fault injection is on for this server");
	if (s->auth.on)
		sc_info("authentication on: every datagram without a valid "
		    "MAC is dropped");
	sc_node_start(s->node, mono_us());
	shell_flush(s);
	return 0;
}

static void
shell_run(struct shell *s)
{
	ev_io_init(&s->uw, on_readable, s->ufd, EV_READ);
	ev_io_init(&s->gw, on_readable, s->gfd, EV_READ);
	ev_io_init(&s->cw, on_readable, s->cfd, EV_READ);
	ev_set_priority(&s->cw, EV_MAXPRI);
	s->cw.data = s;
	ev_init(&s->timer, on_timer);
	ev_signal_init(&s->sigint, on_signal, SIGINT);
	ev_signal_init(&s->sigterm, on_signal, SIGTERM);
	s->uw.data = s->gw.data = s->timer.data = s;
	ev_io_start(s->loop, &s->uw);
	ev_io_start(s->loop, &s->gw);
	if (s->cfd != -1)
		ev_io_start(s->loop, &s->cw);
	ev_signal_start(s->loop, &s->sigint);
	ev_signal_start(s->loop, &s->sigterm);
	shell_rearm(s);
	ev_run(s->loop, 0);
	ev_io_stop(s->loop, &s->uw);
	ev_io_stop(s->loop, &s->gw);
	if (s->cfd != -1)
		ev_io_stop(s->loop, &s->cw);
	ev_timer_stop(s->loop, &s->timer);
	ev_signal_stop(s->loop, &s->sigint);
	ev_signal_stop(s->loop, &s->sigterm);
}

int
main(int argc, char **argv)
{
	static struct shell s;
	struct sc_node_info info;
	struct opts o;
	char digest[33];

	if (parse_args(argc, argv, &o) == -1)
		return 2;
	if (o.gen_key != NULL) {
		char err[600];

		if (sc_auth_generate(o.gen_key, err, sizeof(err)) == -1) {
			fprintf(stderr, "seqcastd: %s\n", err);
			return 1;
		}
		printf("%s: new key written (keep it secret: anyone with it "
		    "can add and forge)\n", o.gen_key);
		return 0;
	}
	sc_tpl_hooks_install();
	if (load_config(&s, &o) == -1)
		return 1;
	if (o.check) {
		printf("%s: ok: cluster %u, %u servers, coordinator %u\n",
		    o.config, s.conf.cluster_id, s.conf.nservers,
		    s.conf.coordinator);
		return 0;
	}
	signal(SIGPIPE, SIG_IGN);
	sc_log_init("seqcastd", (int)o.id, o.level);
	s.ufd = s.gfd = s.cfd = -1;
	if (shell_start(&s, (uint32_t)o.id) == -1)
		return 1;
	shell_run(&s);
	sc_node_stop(s.node);
	sc_node_info(s.node, &info);
	sc_node_digest(s.node, digest);
	sc_info("stopped: applied %llu entries, digest %s",
	    (unsigned long long)info.applied, digest);
	close(s.ufd);
	close(s.gfd);
	if (s.cfd != -1)
		close(s.cfd);
	sc_node_free(s.node);
	sc_faultnet_free(s.fault);
	sc_logfile_close(&s.file);
	return 0;
}
