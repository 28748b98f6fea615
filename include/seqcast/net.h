/*
 * net.h - the socket set-up seqcastd and the tools share, so that the
 * benchmark's bare sockets and the test tools use the very path the
 * daemon does. (The protocol core never touches a socket.)
 */
#ifndef SEQCAST_NET_H
#define SEQCAST_NET_H

#include <stdint.h>
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

/* A unicast socket on addr that shares the port with a second one, the
 * control socket: the kernel steers every datagram whose type byte (offset
 * 5 of the payload) has its bit set in control_types into the control
 * socket (SO_REUSEPORT with a classic BPF selector), everything else into
 * the main one. A daemon that reads the control socket first answers
 * repair traffic (NACK, RETX, ...) ahead of a deep queue of requests.
 * Sets *main_fd and *ctl_fd; *ctl_fd is -1 if the kernel cannot steer (the
 * main socket then gets everything). The port is first probed without
 * SO_REUSEPORT, so a port already in use still fails with EADDRINUSE.
 * flags: 0 or SOCK_NONBLOCK. -1 with errno set on failure. */
int sc_net_steered_socket(const struct sockaddr_in *addr,
    uint32_t control_types, int flags, int *main_fd, int *ctl_fd);

/* The MTU of the interface that has address ifaddr; 0 if unknown. */
int sc_net_mtu(struct in_addr ifaddr);

#endif
