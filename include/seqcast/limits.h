/*
 * limits.h - bounds several modules share.
 */
#ifndef SEQCAST_LIMITS_H
#define SEQCAST_LIMITS_H

/* Servers in one cluster: [server 0] .. [server SC_SERVERS_MAX - 1]; a
 * bitmap of servers fits one uint64_t. */
#define SC_SERVERS_MAX 64

#endif
