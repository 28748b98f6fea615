/*
 * conn.h - the client's connection: one connected UDP socket to the
 * server in use (so an ICMP port-unreachable comes back as
 * ECONNREFUSED), the list of servers it may move between, the cluster's
 * key, plain poll() and recv(), no event library.
 */
#ifndef SEQCAST_CONN_H
#define SEQCAST_CONN_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "seqcast/wire.h"

/* What a socket operation came to. */
enum { IO_OK = 0, IO_NONE, IO_REFUSED, IO_ERR };

struct conn_server {
	const char *name;          /* HOST:PORT as given, for messages */
	struct sockaddr_in addr;
};

struct conn;

/* --key-file: every datagram is signed and every reply checked from now
 * on. RC_OK or RC_USAGE (reported). */
int conn_load_key(const char *path);
/* The most a request datagram may hold (less with a key: the MAC). */
size_t conn_datagram_limit(void);
/* HOST:PORT into an address: RC_OK, RC_USAGE (not of that form: the
 * caller reports it) or RC_FAIL (the name does not resolve: reported). */
int conn_resolve(const char *s, struct sockaddr_in *sa);

/* A connection to servers[0] (the list is not copied: keep it). n >= 1.
 * RC_OK or RC_FAIL (reported). */
int conn_open(const struct conn_server *servers, uint32_t n,
    uint32_t cluster, struct conn **out);
void conn_free(struct conn *c);
/* From now on talk to servers[i], through a new socket (an error queued
 * on the old one cannot be mistaken for the new server's). RC_OK or
 * RC_FAIL (reported). */
int conn_use(struct conn *c, uint32_t i);
/* The server in use, and any server's name. */
const char *conn_name(const struct conn *c);
const char *conn_server_name(const struct conn *c, uint32_t i);

/* Address cookies (node_client.c): every request (ADD, LOG_REQ,
 * STATS_REQ) carries the latest cookie of the server in use, kept per
 * server; a COOKIE that answers one of our recent requests replaces it
 * (conn_recv takes it on the way). Without a good cookie a server
 * answers within three times the request's size, so the first request
 * to a server, or the first after it restarted, costs a round trip. */
uint64_t conn_cookie(const struct conn *c);
/* 1 once after a new cookie came: what was sent without it may have
 * been answered short, and may be sent again at once. */
int conn_cookie_news(struct conn *c);

/* A request of this type with the header filled in. */
void conn_msg_init(const struct conn *c, struct sc_msg *m, int type);
/* Send one message (a request gets the server's cookie): IO_OK,
 * IO_NONE (dropped locally: a resend covers it), IO_REFUSED or IO_ERR
 * (reported). */
int conn_send_msg(struct conn *c, const struct sc_msg *m);
/* The next datagram of this type: IO_OK, IO_NONE (nothing waiting),
 * IO_REFUSED or IO_ERR. Others (and forged ones, with a key) are
 * dropped. m stays valid until the next call. */
int conn_recv(struct conn *c, int type, struct sc_msg *m);
/* Wait up to us microseconds for something to read. */
void conn_wait(struct conn *c, int64_t us);

#endif
