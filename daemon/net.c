/*
 * net.c - socket set-up shared by seqcastd and the tools.
 */
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/filter.h>

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

/* A datagram socket bound to addr; reuse: 0, or the SOL_SOCKET option
 * (SO_REUSEADDR, SO_REUSEPORT) set before the bind. -1 with errno set. */
static int
bound_socket(const struct sockaddr_in *addr, int flags, int reuse)
{
	int fd = socket(AF_INET, SOCK_DGRAM | flags, 0), one = 1, saved;

	if (fd == -1)
		return -1;
	if ((reuse && setsockopt(fd, SOL_SOCKET, reuse, &one,
	    sizeof(one)) == -1) ||
	    bind(fd, (const struct sockaddr *)addr, sizeof(*addr)) == -1) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

int
sc_net_group_socket(const struct sockaddr_in *group, struct in_addr ifaddr,
    int flags)
{
	struct ip_mreqn mreq;
	int fd = bound_socket(group, flags, SO_REUSEADDR), zero = 0, saved;

	if (fd == -1)
		return -1;
	memset(&mreq, 0, sizeof(mreq));
	mreq.imr_multiaddr = group->sin_addr;
	mreq.imr_address = ifaddr;
	if (setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mreq,
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

int
sc_net_steered_socket(const struct sockaddr_in *addr, uint32_t control_types,
    int flags, int *main_fd, int *ctl_fd)
{
	/* The reuseport group's selector sees the UDP payload at offset 0:
	 * return 1 (the control socket, second in the group) if the type's
	 * bit is set, else 0. A datagram too short to have a type byte ends
	 * the program, which returns 0: the main socket. */
	struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 5),
		BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 32, 5, 0),
		BPF_STMT(BPF_MISC | BPF_TAX, 0),
		BPF_STMT(BPF_LD | BPF_IMM, control_types),
		BPF_STMT(BPF_ALU | BPF_RSH | BPF_X, 0),
		BPF_STMT(BPF_ALU | BPF_AND | BPF_K, 1),
		BPF_STMT(BPF_RET | BPF_A, 0),
		BPF_STMT(BPF_RET | BPF_K, 0),
	};
	struct sock_fprog prog = { sizeof(code) / sizeof(code[0]), code };
	int probe, saved;

	*main_fd = *ctl_fd = -1;
	/* Nobody else on the port (SO_REUSEPORT would let a second daemon
	 * of the same user bind it silently). */
	if ((probe = bound_socket(addr, flags, 0)) == -1)
		return -1;
	close(probe);
	if ((*main_fd = bound_socket(addr, flags, SO_REUSEPORT)) == -1)
		return -1;
	if ((*ctl_fd = bound_socket(addr, flags, SO_REUSEPORT)) == -1)
		return 0;
	if (setsockopt(*ctl_fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &prog,
	    sizeof(prog)) == -1) {
		saved = errno;
		close(*ctl_fd);
		*ctl_fd = -1;
		errno = saved;
	}
	return 0;
}

int
sc_net_mtu(struct in_addr ifaddr)
{
	struct ifaddrs *ifs, *i;
	struct ifreq ifr;
	int mtu = 0, fd;

	if (getifaddrs(&ifs) == -1)
		return 0;
	memset(&ifr, 0, sizeof(ifr));
	for (i = ifs; i != NULL; i = i->ifa_next) {
		const struct sockaddr_in *a = (const void *)i->ifa_addr;

		if (a != NULL && a->sin_family == AF_INET &&
		    a->sin_addr.s_addr == ifaddr.s_addr) {
			snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s",
			    i->ifa_name);
			break;
		}
	}
	freeifaddrs(ifs);
	if (ifr.ifr_name[0] == '\0')
		return 0;
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd == -1)
		return 0;
	if (ioctl(fd, SIOCGIFMTU, &ifr) == 0)
		mtu = ifr.ifr_mtu;
	close(fd);
	return mtu;
}
