/*
 * shell.h - the daemon's shell, in three files: seqcastd.c (the
 * program: arguments, the cluster file, the key), seqcastd_loop.c (the
 * sockets, the libev loop, the passes that feed the node) and
 * seqcastd_io.c (the node's I/O interface on the data_dir's files).
 */
#ifndef SEQCAST_SHELL_H
#define SEQCAST_SHELL_H

#include <ev.h>
#include <stdint.h>
#include <time.h>

#include "seqcast/auth.h"
#include "seqcast/config.h"
#include "seqcast/faultnet.h"
#include "seqcast/logfile.h"
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
	int64_t timer_due;          /* when the armed timer should fire */
	uint8_t bufs[RECV_BATCH][SC_RECV_MAX];
	uint8_t cbufs[CONTROL_EVERY][SC_RECV_MAX];  /* control socket's */
};

/* Monotonic microseconds: the node's only clock. A step of the wall
 * clock (NTP, an operator) changes nothing in the protocol's timing. */
static inline int64_t
mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Wall microseconds: for authentication's freshness window only. */
static inline int64_t
wall_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* seqcastd_loop.c: open the sockets, make and start the node (-1 with
 * the reason logged); run until a signal; one pass's end. */
int shell_start(struct shell *s, uint32_t id);
void shell_run(struct shell *s);
void shell_flush(struct shell *s);

/* seqcastd_io.c: a node whose I/O goes to s's sockets and files; the
 * data_dir's log and state files into it. */
struct sc_node *shell_node(struct shell *s, uint32_t id);
int shell_load(struct shell *s);

#endif
