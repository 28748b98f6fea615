/*
 * test_client.c - how `seqcast add` recovers a lost request at the end of
 * its input, against a scripted server on 127.0.0.1 that loses the first
 * copy of one chosen request and acknowledges everything else at once.
 *
 * Before the whole input is sent, a request counts as lost once 64 later
 * ones are acknowledged; after, once more than half of those sent after
 * it are (early retransmit), and the very last one is sent again when
 * no ACK has come for two round trips (tail probe). Both show in the
 * --stats-line counters (fast=, probes=), not in timings.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "seqcast/wire.h"

static char client_path[PATH_MAX];

struct outcome {
	uint32_t copies;      /* copies of the chosen request received */
	uint32_t acked;       /* distinct requests acknowledged */
	int status;           /* the client's exit status */
	char stats[512];      /* its --stats-line */
};

static uint64_t
stat_of(const struct outcome *o, const char *key)
{
	char pat[32];
	const char *p;

	snprintf(pat, sizeof(pat), " %s=", key);
	p = strstr(o->stats, pat);
	if (p == NULL)
		fail_msg("no %s in the stats line: %s", key, o->stats);
	return strtoull(p + strlen(pat), NULL, 10);
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Acknowledge every request of an ADD (id = request number), except the
 * first copy of request `drop`. */
static void
serve(int fd, struct sc_decoder *dec, const uint8_t *buf, size_t len,
    const struct sockaddr_in *from, uint64_t drop, uint8_t *seen,
    uint32_t count, struct outcome *o)
{
	struct sc_msg m, ack;
	struct sc_item items[SC_ITEMS_MAX];
	uint8_t out[SC_DATAGRAM_MAX];
	uint32_t k = 0;
	long n;

	assert_int_equal(sc_decode(dec, buf, len, 0, &m), SC_REJ_NONE);
	assert_int_equal(m.h.type, SC_ADD);
	for (uint32_t i = 0; i < m.count; i++) {
		uint64_t req = m.items[i].req;

		assert_true(req >= 1 && req <= count);
		if (req == drop && o->copies++ == 0)
			continue;
		if (!seen[req]) {
			seen[req] = 1;
			o->acked++;
		}
		memset(&items[k], 0, sizeof(items[k]));
		items[k].client = m.items[i].client;
		items[k].req = req;
		items[k].id = req;
		items[k].status = SC_OK;
		k++;
	}
	if (k == 0)
		return;
	memset(&ack, 0, sizeof(ack));
	ack.h.magic = SC_MAGIC;
	ack.h.version = SC_VERSION;
	ack.h.type = SC_ACK;
	ack.h.sender = 0;
	ack.items = items;
	/* one datagram holds about 50 acks */
	for (uint32_t at = 0; at < k; at += 40) {
		ack.items = items + at;
		ack.count = k - at < 40 ? k - at : 40;
		n = sc_encode(&ack, out, sizeof(out));
		assert_true(n > 0);
		assert_true(sendto(fd, out, (size_t)n, 0,
		    (const struct sockaddr *)from, sizeof(*from)) == n);
	}
}

/* Run `seqcast add --count count` against the scripted server. */
static void
run(uint32_t count, uint64_t drop, struct outcome *o)
{
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);
	struct sc_decoder *dec = sc_decoder_new();
	uint8_t *seen = calloc(count + 1, 1), buf[SC_RECV_MAX];
	char server[64], cnt[16];
	int fd, errpipe[2], done = 0;
	int64_t start = now_ms();
	size_t got = 0;
	pid_t pid;

	assert_non_null(dec);
	assert_non_null(seen);
	memset(o, 0, sizeof(*o));
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
	snprintf(server, sizeof(server), "127.0.0.1:%u", ntohs(a.sin_port));
	snprintf(cnt, sizeof(cnt), "%u", count);
	assert_int_equal(pipe(errpipe), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(errpipe[1], 2);
		close(errpipe[0]);
		close(fd);
		/* a timer far beyond the probe: only an early resend or a
		 * probe can finish in time */
		execl(client_path, client_path, "add", "--server", server,
		    "--count", cnt, "--value-size", "16", "--prefix", "t",
		    "--window", "1024", "--retry-ms", "3000", "--timeout",
		    "10", "--quiet", "--stats-line", (char *)NULL);
		_exit(127);
	}
	close(errpipe[1]);
	fcntl(errpipe[0], F_SETFL, O_NONBLOCK);
	while (!done) {
		struct pollfd p[2] = { { fd, POLLIN, 0 },
		    { errpipe[0], POLLIN, 0 } };
		struct sockaddr_in from;
		socklen_t flen = sizeof(from);

		if (now_ms() - start > 20000) {
			kill(pid, SIGKILL);
			fail_msg("the client did not finish in 20 s");
		}
		if (poll(p, 2, 100) < 0 && errno != EINTR)
			fail_msg("poll: %s", strerror(errno));
		if (p[0].revents & POLLIN) {
			ssize_t n = recvfrom(fd, buf, sizeof(buf), 0,
			    (struct sockaddr *)&from, &flen);

			assert_true(n > 0);
			serve(fd, dec, buf, (size_t)n, &from, drop, seen,
			    count, o);
		}
		if (p[1].revents & (POLLIN | POLLHUP)) {
			ssize_t n = read(errpipe[0], o->stats + got,
			    sizeof(o->stats) - 1 - got);

			if (n > 0)
				got += (size_t)n;
			else if (n == 0)
				done = 1;
		}
	}
	o->stats[got] = '\0';
	assert_int_equal(waitpid(pid, &o->status, 0), pid);
	print_message("  %u requests, first copy of %llu lost: %s",
	    count, (unsigned long long)drop, o->stats);
	close(errpipe[0]);
	close(fd);
	free(seen);
	sc_decoder_free(dec);
}

static void
check_done(const struct outcome *o, uint32_t count)
{
	assert_true(WIFEXITED(o->status) && WEXITSTATUS(o->status) == 0);
	assert_int_equal(o->acked, count);
	assert_true(stat_of(o, "acked") == count);
}

/* The last-but-one request is lost: the last one's ACK shows it, and it
 * is sent again at once (before: 64 later ACKs were needed, and only its
 * timer was left). */
static void
test_early_retransmit(void **state)
{
	struct outcome o;

	(void)state;
	run(200, 199, &o);
	check_done(&o, 200);
	assert_int_equal(o.copies, 2);
	assert_true(stat_of(&o, "fast") == 1);
	assert_true(stat_of(&o, "probes") == 0);
	assert_true(stat_of(&o, "resent") == 1);
}

/* The very last request is lost: no later ACK can show it; after two
 * round trips without an ACK, the tail probe sends it again. */
static void
test_tail_probe(void **state)
{
	struct outcome o;

	(void)state;
	run(200, 200, &o);
	check_done(&o, 200);
	assert_int_equal(o.copies, 2);
	assert_true(stat_of(&o, "fast") == 0);
	assert_true(stat_of(&o, "probes") >= 1);
}

/* Far from the end (hundreds of requests follow), the usual rule: once
 * 64 later requests are acked, one early resend. */
static void
test_fast_resend_mid_input(void **state)
{
	struct outcome o;

	(void)state;
	run(400, 10, &o);
	check_done(&o, 400);
	assert_int_equal(o.copies, 2);
	assert_true(stat_of(&o, "fast") == 1);
	assert_true(stat_of(&o, "probes") == 0);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_early_retransmit),
		cmocka_unit_test(test_tail_probe),
		cmocka_unit_test(test_fast_resend_mid_input),
	};
	const char *slash = strrchr(argv[0], '/');

	(void)argc;
	/* BUILD/tests/test_client -> BUILD/seqcast */
	snprintf(client_path, sizeof(client_path), "%.*s/../seqcast",
	    slash ? (int)(slash - argv[0]) : 1, slash ? argv[0] : ".");
	if (access(client_path, X_OK) != 0) {
		fprintf(stderr, "test_client: no client at %s\n", client_path);
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
