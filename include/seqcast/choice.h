/*
 * choice.h - which server a client talks to: `seqcast add --server A
 * --server B ...` keeps to one server and moves to the next when the
 * current one fails, and gives up only when no server has made progress
 * for the whole timeout. Pure: time is passed in, the caller acts.
 *
 * A server fails when it refuses (ECONNREFUSED: nothing listens on its
 * port, e.g. while it restarts), answers "unavailable" (SC_ERR_UNAVAILABLE:
 * it cannot reach a majority), or stays silent (sc_resend_silent: every
 * outstanding request resent twice with no answer). The next server is
 * the next one in the order given that has not failed since the last
 * progress: the caller then sends everything outstanding to it at once
 * (SC_CHOICE_SWITCH, sc_resend_restart). When every server has failed
 * since, the choice still moves on round the list, but the caller lets
 * its resend timers pace the sends (SC_CHOICE_ROTATE), so a cluster that
 * is down costs a datagram per timeout, not a busy loop. With one server,
 * the client stays (SC_CHOICE_STAY) and retries on its timers: it rides
 * through a restart of that server.
 *
 * Progress (an ACK: the entry was taken, or busy, or a repeat) clears
 * every failure and restarts the timeout.
 */
#ifndef SEQCAST_CHOICE_H
#define SEQCAST_CHOICE_H

#include <stdint.h>

#define SC_CHOICE_MAX 64

/* Why a server failed (its latest reason since the last progress). */
enum sc_choice_why {
	SC_CHOICE_NONE = 0,      /* has not failed */
	SC_CHOICE_REFUSED,       /* connection refused */
	SC_CHOICE_UNAVAILABLE,   /* answered "unavailable" */
	SC_CHOICE_SILENT,        /* resends went unanswered */
};

/* What the caller does after a failure. */
enum sc_choice_move {
	SC_CHOICE_STAY = 0,      /* the same server (the only one) */
	SC_CHOICE_SWITCH,        /* a fresh server: resend everything now */
	SC_CHOICE_ROTATE,        /* all have failed: next one, timers pace */
};

struct sc_choice {
	uint32_t n;              /* servers to choose from, 1..MAX */
	uint32_t current;        /* the one in use (index into the list) */
	int64_t timeout_us;      /* give up after this long without progress */
	int64_t progress;        /* last progress, or start of waiting */
	uint8_t why[SC_CHOICE_MAX];   /* enum sc_choice_why per server */
	uint64_t switches;       /* moves to another server */
};

/* n servers (capped to SC_CHOICE_MAX, at least 1), starting with the
 * first; the timeout runs from now. */
void sc_choice_init(struct sc_choice *c, uint32_t n, int64_t timeout_us,
    int64_t now);
/* Progress at now: failures forgotten, the timeout starts over. Also
 * call it when a client starts waiting after being idle. */
void sc_choice_progress(struct sc_choice *c, int64_t now);
/* The current server failed for this reason: what to do; c->current is
 * the server to use from now on. A server keeps its latest reason, except
 * that silence does not replace refused or unavailable (a server that
 * refuses is silent too). */
enum sc_choice_move sc_choice_failed(struct sc_choice *c,
    enum sc_choice_why why);
/* When to give up if nothing progresses. */
int64_t sc_choice_deadline(const struct sc_choice *c);
/* 1 if every server has failed for this reason since the last progress
 * (why: not SC_CHOICE_NONE). */
int sc_choice_all(const struct sc_choice *c, enum sc_choice_why why);
/* "no answer", "connection refused", "unavailable", "silent". */
const char *sc_choice_why_name(int why);

#endif
