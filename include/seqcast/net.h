/*
 * net.h - the socket set-up seqcastd and the tools share, so that the
 * benchmark's bare sockets and the test tools use the very path the
 * daemon does. (The protocol core never touches a socket.)
 */
#ifndef SEQCAST_NET_H
#define SEQCAST_NET_H

#include <netinet/in.h>

/* Ask for a want-byte SO_RCVBUF or SO_SNDBUF (opt), past the
 * rmem_max/wmem_max limits where allowed (root); returns the size now in
 * force (0 if unknown). */
int sc_net_bufsize(int fd, int opt, int want);

/* A socket that receives the group on interface ifaddr: SO_REUSEADDR
 * (several servers on one host share the group port), bound to the group
 * address (other groups' traffic on that port stays out), joined, and
 * IP_MULTICAST_ALL off (groups other sockets joined stay out). flags: 0 or
 * SOCK_NONBLOCK. -1 with errno set on failure. */
int sc_net_group_socket(const struct sockaddr_in *group,
    struct in_addr ifaddr, int flags);

/* Send multicast from fd on interface ifaddr with this TTL, looped back
 * to the group's members on this host. -1 with errno on failure. */
int sc_net_mcast_sender(int fd, struct in_addr ifaddr, int ttl);

#endif
