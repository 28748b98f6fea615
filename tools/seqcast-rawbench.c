/*
 * seqcast-rawbench - the raw datagram limit of a multicast path: one bare
 * sender (sendmmsg) and R bare receivers (recvmmsg), no protocol at all.
 *
 *   seqcast-rawbench --group 239.255.X.Y:PORT --interface 127.0.0.1
 *                    [--receivers R] [--seconds S] [--size BYTES]
 *                    [--batch N] [--any-destination]
 *   seqcast-rawbench --version
 *
 * Forks R receiver processes; each joins the group on the interface the
 * way seqcastd's group socket does (SO_REUSEADDR, bound to the group
 * address, IP_MULTICAST_ALL=0, a large forced SO_RCVBUF) and counts what
 * recvmmsg gives it. Once all have joined, the parent sends BYTES-byte
 * datagrams to the group in sendmmsg batches (IP_MULTICAST_IF, TTL 1,
 * IP_MULTICAST_LOOP 1) as fast as it can for S seconds, then tells the
 * receivers to stop; they drain their sockets and report.
 *
 * Prints the datagrams/s sent and, per receiver, the datagrams/s received
 * (count over the time from its first to its last datagram) and the share
 * lost; the last line, for scripts:
 *
 *   raw: sent_per_s=N recv_per_s_min=N recv_per_s_max=N lost_max=P% ...
 *
 * recv_per_s_min is "the raw limit": what every receiver actually gets.
 * Bounded: S <= 60, and every process has an alarm at S + 20 s. Refuses a
 * group outside 239.255.0.0/16 or an interface outside 127.0.0.0/8 unless
 * --any-destination (inside a network namespace one made oneself).
 * Exit status: 0 done, 1 failure, 2 usage.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "seqcast/config.h"
#include "seqcast/net.h"
#include "seqcast/num.h"

#ifndef SC_VERSION_STRING
#define SC_VERSION_STRING "unknown" /* the Makefile passes the real one */
#endif

#define RECV_MAX     32
#define BATCH_MAX    1024
#define SIZE_MAX_DG  65507
#define SECONDS_MAX  60.0
#define ALARM_SLACK  20
#define SOCKBUF      (8 << 20)
#define IDLE_MS      100     /* after "stop": this long without data, done */

struct rb_opts {
	struct sockaddr_in group;
	struct in_addr ifaddr;
	int receivers;
	double seconds;
	size_t size;
	int batch;
	int any;
};

/* What one receiver reports through the result pipe (atomic: small). */
struct rb_result {
	int index;
	int ok;
	uint64_t count;
	uint64_t bytes;
	double first, last;     /* CLOCK_MONOTONIC seconds */
};

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
usage(FILE *f)
{
	fputs("usage: seqcast-rawbench --group 239.255.X.Y:PORT --interface "
	    "127.0.0.1\n"
	    "           [--receivers R (3)] [--seconds S (3, at most 60)]\n"
	    "           [--size BYTES (1472)] [--batch N (64)] "
	    "[--any-destination]\n"
	    "       seqcast-rawbench --version\n"
	    "A bare sendmmsg sender and R recvmmsg receivers on one multicast "
	    "group:\nprints the datagrams/s sent and received by each "
	    "receiver.\n", f);
}

/* ------------------------------------------------------------------ */
/* arguments */

static int
in_net(struct in_addr a, uint32_t net, int bits)
{
	return (ntohl(a.s_addr) >> (32 - bits)) == (net >> (32 - bits));
}

static int
bad(const char *what, const char *arg)
{
	fprintf(stderr, "seqcast-rawbench: bad %s '%s'\n", what, arg);
	usage(stderr);
	return -1;
}

/* A decimal integer lo..hi (sc_parse_u64); -1 if it is not. */
static int
int_opt(const char *arg, uint64_t lo, uint64_t hi, uint64_t *out)
{
	return sc_parse_u64(arg, lo, hi, out) == SC_NUM_OK ? 0 : -1;
}

static int
set_opt(struct rb_opts *o, int ch, const char *arg, int *have)
{
	char *end;
	uint64_t v;

	errno = 0;
	switch (ch) {
	case 'g':
		if (sc_parse_addr(arg, &o->group) != 0)
			return bad("--group (A.B.C.D:PORT)", arg);
		*have |= 1;
		return 0;
	case 'i':
		if (inet_pton(AF_INET, arg, &o->ifaddr) != 1)
			return bad("--interface (A.B.C.D)", arg);
		*have |= 2;
		return 0;
	case 'r':
		if (int_opt(arg, 1, RECV_MAX, &v) == -1)
			return bad("--receivers (1..32)", arg);
		o->receivers = (int)v;
		return 0;
	case 's':
		o->seconds = strtod(arg, &end);
		return *end || errno || !(o->seconds > 0) ||
		    o->seconds > SECONDS_MAX ? bad("--seconds (0..60)", arg) : 0;
	case 'z':
		if (int_opt(arg, 1, SIZE_MAX_DG, &v) == -1)
			return bad("--size (1..65507)", arg);
		o->size = (size_t)v;
		return 0;
	case 'b':
		if (int_opt(arg, 1, BATCH_MAX, &v) == -1)
			return bad("--batch (1..1024)", arg);
		o->batch = (int)v;
		return 0;
	case 'A':
		o->any = 1;
		return 0;
	default:
		usage(stderr);
		return -1;
	}
}

static int
check_dest(const struct rb_opts *o, int have)
{
	if (have != 3) {
		fputs("seqcast-rawbench: --group and --interface are "
		    "required\n", stderr);
		usage(stderr);
		return -1;
	}
	if (!in_net(o->group.sin_addr, 0xefff0000u, 16) ||
	    !in_net(o->ifaddr, 0x7f000000u, 8)) {
		if (!o->any) {
			fputs("seqcast-rawbench: refusing a group outside "
			    "239.255.0.0/16 or an interface outside "
			    "127.0.0.0/8 (--any-destination to allow)\n",
			    stderr);
			return -1;
		}
		if (!in_net(o->group.sin_addr, 0xe0000000u, 4)) {
			fputs("seqcast-rawbench: --group is not a multicast "
			    "address\n", stderr);
			return -1;
		}
	}
	return 0;
}

static int
parse_args(int argc, char **argv, struct rb_opts *o)
{
	static const struct option lo[] = {
		{ "group", required_argument, NULL, 'g' },
		{ "interface", required_argument, NULL, 'i' },
		{ "receivers", required_argument, NULL, 'r' },
		{ "seconds", required_argument, NULL, 's' },
		{ "size", required_argument, NULL, 'z' },
		{ "batch", required_argument, NULL, 'b' },
		{ "any-destination", no_argument, NULL, 'A' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	int ch, have = 0;

	memset(o, 0, sizeof(*o));
	o->receivers = 3;
	o->seconds = 3;
	o->size = 1472;
	o->batch = 64;
	while ((ch = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		if (ch == 'h') {
			usage(stdout);
			exit(0);
		}
		if (ch == 'V') {
			printf("seqcast-rawbench %s\n", SC_VERSION_STRING);
			exit(0);
		}
		if (set_opt(o, ch, optarg, &have) == -1)
			return -1;
	}
	if (optind != argc)
		return bad("argument", argv[optind]);
	return check_dest(o, have);
}

/* ------------------------------------------------------------------ */
/* sockets */

/* A group socket as seqcastd opens it; -1 on failure (reported). */
static int
open_receiver(const struct rb_opts *o)
{
	int fd = sc_net_group_socket(&o->group, o->ifaddr, SOCK_NONBLOCK);

	if (fd == -1) {
		perror("seqcast-rawbench: receiver socket");
		return -1;
	}
	(void)sc_net_bufsize(fd, SO_RCVBUF, SOCKBUF);
	return fd;
}

static int
open_sender(const struct rb_opts *o)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	if (fd == -1 || sc_net_mcast_sender(fd, o->ifaddr, 1) == -1) {
		perror("seqcast-rawbench: sender socket");
		if (fd != -1)
			close(fd);
		return -1;
	}
	(void)sc_net_bufsize(fd, SO_SNDBUF, SOCKBUF);
	return fd;
}

/* ------------------------------------------------------------------ */
/* receiver (a child process) */

struct rx {
	int fd;
	size_t bufsize;
	uint8_t *bufs;
	struct mmsghdr msgs[BATCH_MAX];
	struct iovec iov[BATCH_MAX];
	int batch;
	struct rb_result res;
};

/* Read everything waiting; 1 if anything came, 0 if none, -1 on error. */
static int
rx_drain(struct rx *r)
{
	int any = 0;

	for (;;) {
		for (int i = 0; i < r->batch; i++) {
			r->iov[i].iov_base = r->bufs + (size_t)i * r->bufsize;
			r->iov[i].iov_len = r->bufsize;
			memset(&r->msgs[i].msg_hdr, 0, sizeof(struct msghdr));
			r->msgs[i].msg_hdr.msg_iov = &r->iov[i];
			r->msgs[i].msg_hdr.msg_iovlen = 1;
		}
		int got = recvmmsg(r->fd, r->msgs, (unsigned)r->batch,
		    MSG_DONTWAIT, NULL);
		if (got == -1)
			return errno == EAGAIN || errno == EINTR ? any : -1;
		double t = now_s();
		if (r->res.count == 0)
			r->res.first = t;
		r->res.last = t;
		r->res.count += (uint64_t)got;
		for (int i = 0; i < got; i++)
			r->res.bytes += r->msgs[i].msg_len;
		any = 1;
	}
}

/* Count until the stop pipe closes and the socket stays idle IDLE_MS. */
static int
rx_loop(struct rx *r, int stop_fd)
{
	struct pollfd p[2] = { { r->fd, POLLIN, 0 }, { stop_fd, POLLIN, 0 } };
	int stopping = 0;

	for (;;) {
		if (poll(p, stopping ? 1 : 2, stopping ? IDLE_MS : 1000) == -1 &&
		    errno != EINTR)
			return -1;
		int got = rx_drain(r);
		if (got == -1)
			return -1;
		if (stopping && got == 0)
			return 0;
		if (!stopping && (p[1].revents & (POLLIN | POLLHUP)))
			stopping = 1;
	}
}

static void
receiver(const struct rb_opts *o, int index, int ready_fd, int stop_fd,
    int result_fd)
{
	static struct rx r;
	char c;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	alarm((unsigned)o->seconds + ALARM_SLACK);
	r.res.index = index;
	r.batch = o->batch;
	r.bufsize = o->size < 2048 ? 2048 : o->size + 1;
	r.bufs = malloc(r.bufsize * (size_t)o->batch);
	r.fd = r.bufs ? open_receiver(o) : -1;
	c = r.fd == -1 ? 'f' : 'r';     /* 'f': the parent gives up at once */
	if (write(ready_fd, &c, 1) == 1 && r.fd != -1)
		r.res.ok = rx_loop(&r, stop_fd) == 0;
	if (!r.res.ok && r.fd != -1)
		perror("seqcast-rawbench: receiver");
	if (write(result_fd, &r.res, sizeof(r.res)) != sizeof(r.res))
		_exit(1);
	_exit(r.res.ok ? 0 : 1);
}

/* ------------------------------------------------------------------ */
/* sender (the parent) */

struct tx_stats {
	uint64_t sent, errors;
	int first_errno;        /* of the first failed sendmmsg */
	double seconds;
};

static int
send_loop(const struct rb_opts *o, int fd, struct tx_stats *st)
{
	static struct mmsghdr msgs[BATCH_MAX];
	static struct iovec iov;
	uint8_t *payload = malloc(o->size);

	if (!payload)
		return -1;
	for (size_t i = 0; i < o->size; i++)
		payload[i] = (uint8_t)(i * 31 + 7);
	iov.iov_base = payload;
	iov.iov_len = o->size;
	for (int i = 0; i < o->batch; i++) {
		msgs[i].msg_hdr.msg_name = (void *)&o->group;
		msgs[i].msg_hdr.msg_namelen = sizeof(o->group);
		msgs[i].msg_hdr.msg_iov = &iov;
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	double start = now_s(), end = start + o->seconds, t = start;
	while (t < end) {
		int n = sendmmsg(fd, msgs, (unsigned)o->batch, 0);
		if (n > 0)
			st->sent += (uint64_t)n;
		else if (errno != EINTR && st->errors++ == 0)
			st->first_errno = errno;   /* ENOBUFS...: try again */
		t = now_s();
	}
	st->seconds = t - start;
	free(payload);
	return 0;
}

/* ------------------------------------------------------------------ */
/* report */

static double
rx_rate(const struct rb_result *r)
{
	double span = r->last - r->first;

	return r->count > 1 && span > 0 ? (double)(r->count - 1) / span : 0;
}

static int
report(const struct rb_opts *o, const struct tx_stats *st,
    const struct rb_result *res)
{
	double sent_rate = (double)st->sent / st->seconds, min = -1, max = 0;
	double lost_max = 0;
	int ok = 1;

	printf("rawbench: sent %llu datagrams of %zu bytes in %.3f s: %.0f "
	    "datagrams/s (%llu send errors%s%s)\n", (unsigned long long)st->sent,
	    o->size, st->seconds, sent_rate, (unsigned long long)st->errors,
	    st->errors ? ", the first: " : "",
	    st->errors ? strerror(st->first_errno) : "");
	for (int i = 0; i < o->receivers; i++) {
		const struct rb_result *r = &res[i];
		double rate = rx_rate(r), lost = st->sent ? 100.0 *
		    (1.0 - (double)r->count / (double)st->sent) : 0;
		ok &= r->ok;
		printf("rawbench: receiver %d: %llu datagrams in %.3f s: %.0f "
		    "datagrams/s, %.1f%% of the sent lost%s\n", i + 1,
		    (unsigned long long)r->count, r->last - r->first, rate,
		    lost, r->ok ? "" : " (FAILED)");
		if (min < 0 || rate < min)
			min = rate;
		if (rate > max)
			max = rate;
		if (lost > lost_max)
			lost_max = lost;
	}
	printf("raw: sent_per_s=%.0f recv_per_s_min=%.0f recv_per_s_max=%.0f "
	    "lost_max=%.1f%% receivers=%d size=%zu batch=%d seconds=%.3f\n",
	    sent_rate, min, max, lost_max, o->receivers, o->size, o->batch,
	    st->seconds);
	if (st->sent == 0 || min <= 0) {
		fputs("seqcast-rawbench: nothing went through\n", stderr);
		ok = 0;
	}
	return ok ? 0 : 1;
}

/* ------------------------------------------------------------------ */

struct pipes {
	int ready[2], stop[2], result[2];
};

/* Read exactly len bytes (blocking; the alarm bounds it). */
static int
read_full(int fd, void *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, (char *)buf + got, len - got);
		if (n == 0 || (n < 0 && errno != EINTR))
			return -1;
		if (n > 0)
			got += (size_t)n;
	}
	return 0;
}

static int
start_receivers(const struct rb_opts *o, struct pipes *p, pid_t *pids)
{
	for (int i = 0; i < o->receivers; i++) {
		pids[i] = fork();
		if (pids[i] == -1) {
			perror("seqcast-rawbench: fork");
			return -1;
		}
		if (pids[i] == 0) {
			close(p->ready[0]);
			close(p->stop[1]);
			close(p->result[0]);
			receiver(o, i, p->ready[1], p->stop[0], p->result[1]);
		}
	}
	close(p->ready[1]);
	close(p->stop[0]);
	close(p->result[1]);
	for (int i = 0; i < o->receivers; i++) {
		char c;
		if (read_full(p->ready[0], &c, 1) == -1 || c != 'r') {
			fputs("seqcast-rawbench: a receiver did not start\n",
			    stderr);
			return -1;
		}
	}
	return 0;
}

static int
collect(const struct rb_opts *o, struct pipes *p, struct rb_result *res)
{
	for (int i = 0; i < o->receivers; i++) {
		struct rb_result r;
		if (read_full(p->result[0], &r, sizeof(r)) == -1 ||
		    r.index < 0 || r.index >= o->receivers) {
			fputs("seqcast-rawbench: a receiver did not report\n",
			    stderr);
			return -1;
		}
		res[r.index] = r;
	}
	return 0;
}

static void
reap(const struct rb_opts *o, pid_t *pids, int kill_them)
{
	for (int i = 0; i < o->receivers; i++) {
		if (pids[i] <= 0)
			continue;
		if (kill_them)
			kill(pids[i], SIGKILL);
		waitpid(pids[i], NULL, 0);
	}
}

int
main(int argc, char **argv)
{
	struct rb_opts o;
	struct pipes p;
	pid_t pids[RECV_MAX] = { 0 };
	struct rb_result res[RECV_MAX];
	struct tx_stats st = { 0, 0, 0, 0 };
	int fd, rc = 1;

	if (parse_args(argc, argv, &o) == -1)
		return 2;
	signal(SIGPIPE, SIG_IGN);
	alarm((unsigned)o.seconds + ALARM_SLACK);  /* and each receiver */
	memset(res, 0, sizeof(res));
	if (pipe(p.ready) == -1 || pipe(p.stop) == -1 || pipe(p.result) == -1) {
		perror("seqcast-rawbench: pipe");
		return 1;
	}
	fflush(stdout);
	if (start_receivers(&o, &p, pids) == -1 ||
	    (fd = open_sender(&o)) == -1) {
		reap(&o, pids, 1);
		return 1;
	}
	if (send_loop(&o, fd, &st) == 0) {
		close(p.stop[1]);       /* receivers: drain, then report */
		if (collect(&o, &p, res) == 0)
			rc = report(&o, &st, res);
	}
	close(fd);
	reap(&o, pids, rc != 0);
	return rc;
}
