/*
 * net.c - socket set-up shared by seqcastd and the tools.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "seqcast/net.h"

int
sc_net_bufsize(int fd, int opt, int want)
{
	int force = opt == SO_RCVBUF ? SO_RCVBUFFORCE : SO_SNDBUFFORCE, got;
	socklen_t len = sizeof(got);

	if (setsockopt(fd, SOL_SOCKET, force, &want, sizeof(want)) == -1)
		(void)setsockopt(fd, SOL_SOCKET, opt, &want, sizeof(want));
	if (getsockopt(fd, SOL_SOCKET, opt, &got, &len) == -1)
		return 0;
	return got;
}

int
sc_net_group_socket(const struct sockaddr_in *group, struct in_addr ifaddr,
    int flags)
{
	struct ip_mreqn mreq;
	int fd = socket(AF_INET, SOCK_DGRAM | flags, 0), one = 1, zero = 0;
	int saved;

	if (fd == -1)
		return -1;
	memset(&mreq, 0, sizeof(mreq));
	mreq.imr_multiaddr = group->sin_addr;
	mreq.imr_address = ifaddr;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ==
	    -1 || bind(fd, (const struct sockaddr *)group, sizeof(*group)) ==
	    -1 || setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mreq,
	    sizeof(mreq)) == -1) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	(void)setsockopt(fd, IPPROTO_IP, IP_MULTICAST_ALL, &zero,
	    sizeof(zero));
	return fd;
}

int
sc_net_mcast_sender(int fd, struct in_addr ifaddr, int ttl)
{
	unsigned char t = (unsigned char)ttl, loop = 1;

	if (setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &ifaddr,
	    sizeof(ifaddr)) == -1 || setsockopt(fd, IPPROTO_IP,
	    IP_MULTICAST_TTL, &t, sizeof(t)) == -1 || setsockopt(fd,
	    IPPROTO_IP, IP_MULTICAST_LOOP, &loop, sizeof(loop)) == -1)
		return -1;
	return 0;
}
