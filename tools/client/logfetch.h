/*
 * logfetch.h - seqcast log: the applied log in pages of one datagram,
 * many asked for at once, printed in id order; with --follow, then every
 * new entry as the server applies it (a long poll), until interrupted.
 *
 * A page is (first id, how many): the first request asks for as many as
 * the server fits in one datagram, which tells how many a page holds;
 * then up to LOGFETCH_WINDOW pages are out at once. A page answered
 * short (larger values, or a server that has not seen our cookie yet)
 * is asked for again from where its answer ended. Lost requests and
 * answers are asked again after the measured round trip (srtt + 4
 * rttvar, at least LOGFETCH_RTO_MIN_US), at once when three pages asked
 * after one are answered and it is not (as TCP's fast retransmit), and
 * at once when the server sends a new cookie. A reply names the page it
 * answers (its first id, echoed), so duplicates and late answers are
 * recognised and dropped.
 *
 * Following: past the server's last applied entry the client asks with
 * a wait (LOG_REQ's fourth scalar, LOGFETCH_WAIT_MS); the server keeps
 * the request and answers when entries come, or empty when the wait
 * ends, and the client asks again. The server does nothing for an idle
 * follower but that one answer a wait. A server that restarts (or
 * another coordinator) changes nothing: the client asks for the id after
 * the last it printed, so nothing is printed twice or skipped.
 */
#ifndef SEQCAST_LOGFETCH_H
#define SEQCAST_LOGFETCH_H

#include "cli.h"
#include "conn.h"

#define LOGFETCH_WINDOW     32       /* pages out at once */
#define LOGFETCH_WAIT_MS    1000     /* a follower's long poll */
#define LOGFETCH_RTO_MIN_US 10000
#define LOGFETCH_DUPTHRESH  3        /* later pages answered: resend */

/* The log from --from to --to (or for ever with --follow): RC_OK, or
 * RC_FAIL (reported). With --follow, SIGINT and SIGTERM end it with
 * RC_OK once what was received is printed. */
int logfetch_run(const struct opts *o, struct conn *c);

#endif
