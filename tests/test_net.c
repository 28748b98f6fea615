/*
 * test_net.c - the steered unicast socket (daemon/net.c): repair traffic
 * into the control socket, everything else into the main one, and a port
 * in use still refused. Real sockets, on 127.0.0.1 only.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "seqcast/net.h"
#include "seqcast/wire.h"

/* A free port on 127.0.0.1 (asked of the kernel, then released). */
static void
free_addr(struct sockaddr_in *a)
{
	socklen_t len = sizeof(*a);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	assert_true(fd >= 0);
	memset(a, 0, sizeof(*a));
	a->sin_family = AF_INET;
	a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)a, sizeof(*a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)a, &len), 0);
	close(fd);
}

/* The first byte of the next datagram on fd within 1 s, or -1. */
static int
next_tag(int fd)
{
	struct pollfd p = { fd, POLLIN, 0 };
	uint8_t buf[64];

	if (poll(&p, 1, 1000) != 1)
		return -1;
	if (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) < 1)
		return -1;
	return buf[0];
}

static void
test_steered(void **state)
{
	static const struct { int type; size_t len; int control; } cases[] = {
		{ SC_NACK, 20, 1 }, { SC_RETX, 20, 1 }, { SC_STAMPED, 20, 1 },
		{ SC_GONE, 20, 1 }, { SC_REPORT, 20, 1 }, { SC_ADD, 20, 0 },
		{ SC_FWD, 20, 0 }, { SC_DATA, 20, 0 }, { SC_STATS_REQ, 20, 0 },
		{ SC_NACK, 5, 0 },      /* too short to have a type: main */
		{ 40, 20, 0 },          /* beyond the type bits: main */
		{ 255, 20, 0 },
	};
	struct sockaddr_in a;
	int m, c, out;

	(void)state;
	free_addr(&a);
	assert_int_equal(sc_net_steered_socket(&a, SC_CONTROL_TYPES,
	    SOCK_NONBLOCK, &m, &c), 0);
	assert_true(m >= 0);
	if (c == -1) {
		print_message("  this kernel cannot steer (%s): skipped\n",
		    strerror(errno));
		close(m);
		skip();
	}
	out = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(out >= 0);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		uint8_t buf[32];

		memset(buf, 0, sizeof(buf));
		buf[0] = (uint8_t)(i + 1);      /* tag: which case */
		if (cases[i].len > 5)
			buf[5] = (uint8_t)cases[i].type;
		assert_true(sendto(out, buf, cases[i].len, 0,
		    (struct sockaddr *)&a, sizeof(a)) ==
		    (ssize_t)cases[i].len);
		if (next_tag(cases[i].control ? c : m) != (int)(i + 1))
			fail_msg("case %zu (type %d, %zu bytes) not on the %s "
			    "socket", i, cases[i].type, cases[i].len,
			    cases[i].control ? "control" : "main");
	}
	/* nothing went to the wrong socket */
	{
		uint8_t buf[8];

		assert_true(recv(m, buf, sizeof(buf), MSG_DONTWAIT) == -1);
		assert_true(recv(c, buf, sizeof(buf), MSG_DONTWAIT) == -1);
	}
	close(out);
	close(m);
	close(c);
}

/* A port already bound (by a plain socket or another daemon's steered
 * pair) is refused with EADDRINUSE, not silently shared. */
static void
test_port_in_use(void **state)
{
	struct sockaddr_in a;
	int fd, m, c, m2, c2;

	(void)state;
	free_addr(&a);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(sc_net_steered_socket(&a, SC_CONTROL_TYPES, 0, &m,
	    &c), -1);
	assert_int_equal(errno, EADDRINUSE);
	close(fd);
	assert_int_equal(sc_net_steered_socket(&a, SC_CONTROL_TYPES, 0, &m,
	    &c), 0);
	assert_int_equal(sc_net_steered_socket(&a, SC_CONTROL_TYPES, 0, &m2,
	    &c2), -1);
	assert_int_equal(errno, EADDRINUSE);
	close(m);
	if (c != -1)
		close(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_steered),
		cmocka_unit_test(test_port_in_use),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
