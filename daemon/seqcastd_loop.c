/*
 * seqcastd_loop.c - the daemon's sockets and libev loop: it reads
 * datagrams in batches (the control socket, where the kernel steers
 * repair and view traffic, first), hands them to the node through the
 * fault wrapper with monotonic time, writes and syncs what the node
 * appended at the end of each pass, and keeps one timer at the node's
 * next deadline.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <ev.h>
#include <signal.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "seqcast/cookie.h"
#include "seqcast/log.h"
#include "seqcast/net.h"
#include "shell.h"

#define LATE_US 10000       /* a timer this late: read the sockets first */

static void shell_control(struct shell *s);

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

/* End of a pass: the node flushes; what it appended is written (and,
 * with fsync = each, synced) and the node told, which may release DATA
 * and acks: flush again. */
void
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
	s->timer_due = now + (int64_t)(after * 1e6);
	ev_timer_stop(s->loop, &s->timer);
	ev_timer_set(&s->timer, after, 0.);
	ev_timer_start(s->loop, &s->timer);
}

static void
shell_tick(struct shell *s)
{
	int64_t now = mono_us();

	/* The wall clock only dates client requests (auth's freshness
	 * window): follow it, steps included, so that once NTP corrects
	 * this host's clock, clients with right clocks are taken. Protocol
	 * timers and server counters never see it. */
	sc_node_set_wall_offset(s->node, wall_us() - now);
	sc_faultnet_tick(s->fault, now);
	sc_node_tick(s->node, now);
}

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
	/* Late (the process was stopped, or the host stalled): epoll may
	 * have timed out without looking at the sockets. What waits there
	 * (the heartbeats that say the coordinator lives) is read before
	 * the timer can suspect anyone. */
	if (mono_us() - s->timer_due > LATE_US) {
		shell_drain(s, s->ufd);
		shell_drain(s, s->gfd);
	}
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

/* Clients' address cookies are made with a secret of this run's own:
 * random, never written anywhere, so a restart refuses every cookie
 * from before (clients fetch new ones). */
static int
cookie_secret(struct shell *s)
{
	uint8_t secret[SC_COOKIE_SECRET_BYTES];

	if (sodium_init() < 0) {
		sc_log(SC_LOG_ERROR, "libsodium: cannot initialise");
		return -1;
	}
	randombytes_buf(secret, sizeof(secret));
	sc_node_set_cookie_secret(s->node, secret);
	sodium_memzero(secret, sizeof(secret));
	return 0;
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

int
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
	if (cookie_secret(s) == -1)
		return -1;
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

void
shell_run(struct shell *s)
{
	ev_io_init(&s->uw, on_readable, s->ufd, EV_READ);
	ev_io_init(&s->gw, on_readable, s->gfd, EV_READ);
	ev_io_init(&s->cw, on_readable, s->cfd, EV_READ);
	/* Datagrams before timers: after a stall (a stopped process, a
	 * busy host) the heartbeats waiting in the sockets are read before
	 * the timer that would suspect their sender runs (libev invokes the
	 * higher priority's pending watchers first). */
	ev_set_priority(&s->cw, EV_MAXPRI);
	ev_set_priority(&s->uw, EV_MAXPRI - 1);
	ev_set_priority(&s->gw, EV_MAXPRI - 1);
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
