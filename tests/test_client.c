/*
 * test_client.c - the real `seqcast` binary against scripted servers on
 * 127.0.0.1 (ephemeral ports, unicast only).
 *
 * How add recovers a lost request at the end of its input: a server that
 * loses the first copy of one chosen request and acknowledges everything
 * else at once. Before the whole input is sent, a request counts as lost
 * once more than 64 later ones are acknowledged; after, once more than
 * half of those sent after it are (early retransmit), and the very last
 * one is sent again when no ACK has come for two round trips (tail
 * probe). Both show in the --stats-line counters (fast=, probes=).
 *
 * How add chooses its server: it rides through a restart (a refusing
 * port that opens later), moves on from a server that answers
 * "unavailable", refuses or stays silent, and says why when it gives up.
 * And what the user sees of usage errors, --file limits and --version.
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
#include "client/input.h"
#include "testutil.h"

static char client_path[PATH_MAX];

enum mode {
	M_ACK,          /* acknowledge (but the first copy of `drop`) */
	M_UNAVAILABLE,  /* answer every request "unavailable" */
	M_SILENT,       /* read and say nothing */
};

/* A scripted server. It may open late (a restart): until then its port
 * is closed and the client's datagrams are refused. */
struct fake {
	enum mode mode;
	uint64_t drop;        /* request whose first copy is lost */
	int64_t open_at;      /* ms after the start; 0: at once */
	int fd;
	uint16_t port;
	char addr[32];
	uint32_t count;       /* requests the client will send */
	uint8_t *seen;
	uint32_t copies;      /* copies of `drop` received */
	uint32_t acked;       /* distinct requests acknowledged */
	uint32_t datagrams;   /* ADDs received */
};

struct outcome {
	int status;           /* the client's exit status */
	char out[8192];       /* its standard output */
	char err[8192];       /* its standard error */
	size_t nout, nerr;
	int64_t ms;           /* how long it ran */
};

static int
bound(uint16_t port, uint16_t *got)
{
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons(port);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
	*got = ntohs(a.sin_port);
	return fd;
}

/* Take a free port; a late server leaves it closed until open_at. */
static void
fake_init(struct fake *f, enum mode mode, uint32_t count)
{
	memset(f, 0, sizeof(*f));
	f->mode = mode;
	f->count = count;
	f->seen = calloc(count + 2, 1);
	assert_non_null(f->seen);
	f->fd = bound(0, &f->port);
	snprintf(f->addr, sizeof(f->addr), "127.0.0.1:%u", f->port);
}

static void
fake_close_until(struct fake *f, int64_t open_at)
{
	close(f->fd);
	f->fd = -1;
	f->open_at = open_at;
}

static void
fake_free(struct fake *f)
{
	if (f->fd >= 0)
		close(f->fd);
	free(f->seen);
}

static void
send_acks(int fd, const struct sockaddr_in *to, struct sc_item *items,
    uint32_t k)
{
	struct sc_msg ack;
	uint8_t out[SC_DATAGRAM_MAX];

	memset(&ack, 0, sizeof(ack));
	ack.h.magic = SC_MAGIC;
	ack.h.version = SC_VERSION;
	ack.h.type = SC_ACK;
	ack.h.sender = 0;
	/* one datagram holds about 50 acks */
	for (uint32_t at = 0; at < k; at += 40) {
		long n;

		ack.items = items + at;
		ack.count = k - at < 40 ? k - at : 40;
		n = sc_encode(&ack, out, sizeof(out));
		assert_true(n > 0);
		assert_true(sendto(fd, out, (size_t)n, 0,
		    (const struct sockaddr *)to, sizeof(*to)) == n);
	}
}

/* One ADD datagram: answer it as the mode says (id = request number). */
static void
serve(struct fake *f, struct sc_decoder *dec, const uint8_t *buf,
    size_t len, const struct sockaddr_in *from)
{
	static struct sc_item items[SC_ITEMS_MAX];
	struct sc_msg m;
	uint32_t k = 0;

	assert_int_equal(sc_decode(dec, buf, len, 0, &m), SC_REJ_NONE);
	assert_int_equal(m.h.type, SC_ADD);
	f->datagrams++;
	for (uint32_t i = 0; i < m.count && f->mode != M_SILENT; i++) {
		uint64_t req = m.items[i].req;

		assert_true(req >= 1 && req <= f->count);
		if (f->mode == M_ACK && req == f->drop && f->copies++ == 0)
			continue;
		if (f->mode == M_ACK && !f->seen[req]) {
			f->seen[req] = 1;
			f->acked++;
		}
		memset(&items[k], 0, sizeof(items[k]));
		items[k].client = m.items[i].client;
		items[k].req = req;
		items[k].id = f->mode == M_ACK ? req : 0;
		items[k].status = f->mode == M_ACK ? SC_OK :
		    SC_ERR_UNAVAILABLE;
		k++;
	}
	if (k > 0)
		send_acks(f->fd, from, items, k);
}

static void
read_pipe(int *fd, char *buf, size_t cap, size_t *used)
{
	ssize_t n = read(*fd, buf + *used, cap - 1 - *used);

	if (n > 0) {
		*used += (size_t)n;
		buf[*used] = '\0';
	} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
		close(*fd);
		*fd = -1;
	}
}

/* One round of the servers' and the pipes' work (up to 20 ms). */
static void
pump(struct fake *fakes, size_t nf, struct sc_decoder *dec, int *outfd,
    int *errfd, struct outcome *o, int64_t start)
{
	static uint8_t buf[SC_RECV_MAX];
	struct pollfd p[8];
	size_t n = 0;

	for (size_t i = 0; i < nf; i++) {
		if (fakes[i].fd < 0 && now_ms() - start >= fakes[i].open_at) {
			uint16_t port;

			fakes[i].fd = bound(fakes[i].port, &port);
		}
		p[n++] = (struct pollfd){ fakes[i].fd, POLLIN, 0 };
	}
	p[n++] = (struct pollfd){ *outfd, POLLIN, 0 };
	p[n++] = (struct pollfd){ *errfd, POLLIN, 0 };
	if (poll(p, n, 20) < 0 && errno != EINTR)
		fail_msg("poll: %s", strerror(errno));
	for (size_t i = 0; i < nf; i++) {
		struct sockaddr_in from;
		socklen_t flen = sizeof(from);
		ssize_t got;

		if (fakes[i].fd < 0 || !(p[i].revents & POLLIN))
			continue;
		got = recvfrom(fakes[i].fd, buf, sizeof(buf), 0,
		    (struct sockaddr *)&from, &flen);
		if (got > 0)
			serve(&fakes[i], dec, buf, (size_t)got, &from);
	}
	if (*outfd >= 0 && (p[nf].revents & (POLLIN | POLLHUP)))
		read_pipe(outfd, o->out, sizeof(o->out), &o->nout);
	if (*errfd >= 0 && (p[nf + 1].revents & (POLLIN | POLLHUP)))
		read_pipe(errfd, o->err, sizeof(o->err), &o->nerr);
}

/* Run `seqcast ARGS...` (NULL-terminated) against the scripted servers
 * until it exits. */
static void
run_client(const char *const *args, struct fake *fakes, size_t nf,
    struct outcome *o)
{
	struct sc_decoder *dec = sc_decoder_new();
	char *argv[40];
	int outp[2], errp[2];
	int64_t start = now_ms();
	size_t n = 0;
	pid_t pid;

	assert_non_null(dec);
	memset(o, 0, sizeof(*o));
	argv[n++] = client_path;
	for (; *args && n < 39; args++)
		argv[n++] = (char *)(uintptr_t)*args;
	argv[n] = NULL;
	assert_int_equal(pipe(outp), 0);
	assert_int_equal(pipe(errp), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(outp[1], 1);
		dup2(errp[1], 2);
		execv(client_path, argv);
		_exit(127);
	}
	close(outp[1]);
	close(errp[1]);
	fcntl(outp[0], F_SETFL, O_NONBLOCK);
	fcntl(errp[0], F_SETFL, O_NONBLOCK);
	while (outp[0] >= 0 || errp[0] >= 0) {
		if (now_ms() - start > 20000) {
			kill(pid, SIGKILL);
			fail_msg("the client did not finish in 20 s");
		}
		pump(fakes, nf, dec, &outp[0], &errp[0], o, start);
	}
	assert_int_equal(waitpid(pid, &o->status, 0), pid);
	o->ms = now_ms() - start;
	sc_decoder_free(dec);
}

static int
exit_code(const struct outcome *o)
{
	return WIFEXITED(o->status) ? WEXITSTATUS(o->status) : -1;
}

static uint64_t
stat_of(const struct outcome *o, const char *key)
{
	char pat[32];
	const char *p;

	snprintf(pat, sizeof(pat), " %s=", key);
	p = strstr(o->err, pat);
	if (p == NULL)
		fail_msg("no %s in the stats line: %s", key, o->err);
	return strtoull(p + strlen(pat), NULL, 10);
}

/* `seqcast add --count count` against one server that loses the first
 * copy of request `drop`, with a timer far beyond the probe: only an
 * early resend or a probe can finish in time. */
static void
run_lossy(uint32_t count, uint64_t drop, struct fake *f, struct outcome *o)
{
	char cnt[16];
	const char *args[] = { "add", "--server", NULL, "--count", cnt,
	    "--value-size", "16", "--prefix", "t", "--window", "1024",
	    "--retry-ms", "3000", "--timeout", "10", "--quiet",
	    "--stats-line", NULL };

	fake_init(f, M_ACK, count);
	f->drop = drop;
	args[2] = f->addr;
	snprintf(cnt, sizeof(cnt), "%u", count);
	run_client(args, f, 1, o);
	print_message("  %u requests, first copy of %llu lost: %s", count,
	    (unsigned long long)drop, o->err);
	assert_int_equal(exit_code(o), 0);
	assert_int_equal(f->acked, count);
	assert_true(stat_of(o, "acked") == count);
	assert_int_equal(f->copies, 2);
}

/* The last-but-one request is lost: the last one's ACK shows it, and it
 * is sent again at once (before: 64 later ACKs were needed, and only its
 * timer was left). */
static void
test_early_retransmit(void **state)
{
	struct fake f;
	struct outcome o;

	(void)state;
	run_lossy(200, 199, &f, &o);
	assert_true(stat_of(&o, "fast") == 1);
	assert_true(stat_of(&o, "probes") == 0);
	assert_true(stat_of(&o, "resent") == 1);
	fake_free(&f);
}

/* The very last request is lost: no later ACK can show it; after two
 * round trips without an ACK, the tail probe sends it again. */
static void
test_tail_probe(void **state)
{
	struct fake f;
	struct outcome o;

	(void)state;
	run_lossy(200, 200, &f, &o);
	assert_true(stat_of(&o, "fast") == 0);
	assert_true(stat_of(&o, "probes") >= 1);
	fake_free(&f);
}

/* Far from the end (hundreds of requests follow), the usual rule: once
 * 64 later requests are acked, one early resend. */
static void
test_fast_resend_mid_input(void **state)
{
	struct fake f;
	struct outcome o;

	(void)state;
	run_lossy(400, 10, &f, &o);
	assert_true(stat_of(&o, "fast") == 1);
	assert_true(stat_of(&o, "probes") == 0);
	fake_free(&f);
}

/* The server restarts: its port refuses for 0.7 s, then it answers. add
 * keeps trying until --timeout (before: it ended at the first refusal). */
static void
test_restart_ride_through(void **state)
{
	struct fake f;
	struct outcome o;
	const char *args[] = { "add", "--server", NULL, "--count", "5",
	    "--retry-ms", "100", "--timeout", "5", "--stats-line", NULL };

	(void)state;
	fake_init(&f, M_ACK, 5);
	fake_close_until(&f, 700);
	args[2] = f.addr;
	run_client(args, &f, 1, &o);
	print_message("  after %lld ms: %s", (long long)o.ms, o.err);
	assert_int_equal(exit_code(&o), 0);
	assert_int_equal(f.acked, 5);
	assert_true(o.ms >= 650);
	assert_non_null(strstr(o.out, "1\tload-"));
	assert_true(stat_of(&o, "acked") == 5);
	fake_free(&f);
}

/* A port that keeps refusing: after --timeout, the reason. */
static void
test_refused_gives_up(void **state)
{
	struct fake f;
	struct outcome o;
	char want[160];
	const char *args[] = { "add", "--server", NULL, "a", "b", "c",
	    "--retry-ms", "50", "--timeout", "0.5", NULL };

	(void)state;
	fake_init(&f, M_ACK, 3);
	fake_close_until(&f, INT64_MAX);
	args[2] = f.addr;
	run_client(args, &f, 1, &o);
	snprintf(want, sizeof(want), "seqcast: server %s unreachable "
	    "(connection refused) for 0.5 s (0 of 3 entries acknowledged)\n",
	    f.addr);
	assert_int_equal(exit_code(&o), 1);
	assert_string_equal(o.err, want);
	assert_true(o.ms >= 450);
	fake_free(&f);
}

/* Several servers: the first one fails (as `mode`, or by refusing), add
 * moves to the second and finishes there. */
static void
run_two(enum mode first, int refuse, struct fake *f, struct outcome *o)
{
	char list[80];
	const char *args[] = { "add", "--server", list, "--count", "50",
	    "--retry-ms", "50", "--timeout", "5", "--quiet", "--stats-line",
	    NULL };

	fake_init(&f[0], first, 50);
	fake_init(&f[1], M_ACK, 50);
	if (refuse)
		fake_close_until(&f[0], INT64_MAX);
	snprintf(list, sizeof(list), "%s,%s", f[0].addr, f[1].addr);
	run_client(args, f, 2, o);
	print_message("  %s", o->err);
	assert_int_equal(exit_code(o), 0);
	assert_int_equal(f[1].acked, 50);
	assert_true(stat_of(o, "switches") >= 1);
	fake_free(&f[0]);
	fake_free(&f[1]);
}

static void
test_unavailable_moves_on(void **state)
{
	struct fake f[2];
	struct outcome o;

	(void)state;
	run_two(M_UNAVAILABLE, 0, f, &o);
	assert_true(f[0].datagrams >= 1);
}

static void
test_refused_moves_on(void **state)
{
	struct fake f[2];
	struct outcome o;

	(void)state;
	run_two(M_ACK, 1, f, &o);
	assert_true(o.ms < 3000);
}

/* A silent server: once every request has been resent twice with no
 * answer, the next server. */
static void
test_silent_moves_on(void **state)
{
	struct fake f[2];
	struct outcome o;

	(void)state;
	run_two(M_SILENT, 0, f, &o);
	assert_true(f[0].datagrams >= 3);
}

/* Every server "unavailable": no majority, said so. */
static void
test_no_majority(void **state)
{
	struct fake f[2];
	struct outcome o;
	char list[80], want[200];
	const char *args[] = { "add", "--server", list, "x",
	    "--retry-ms", "50", "--timeout", "0.5", NULL };

	(void)state;
	fake_init(&f[0], M_UNAVAILABLE, 1);
	fake_init(&f[1], M_UNAVAILABLE, 1);
	snprintf(list, sizeof(list), "%s,%s", f[0].addr, f[1].addr);
	run_client(args, f, 2, &o);
	snprintf(want, sizeof(want), "seqcast: no majority: servers %s, %s "
	    "answered 'unavailable' for 0.5 s (0 of 1 entries "
	    "acknowledged)\n", f[0].addr, f[1].addr);
	assert_int_equal(exit_code(&o), 1);
	assert_string_equal(o.err, want);
	assert_true(f[0].datagrams >= 1 && f[1].datagrams >= 1);
	fake_free(&f[0]);
	fake_free(&f[1]);
}

/* Usage errors: exit 2, one line naming the argument at fault, a hint. */
static void
test_usage_errors(void **state)
{
	static const struct {
		const char *args[8];
		const char *err;
	} cases[] = {
		{ { "add", "--server", "127.0.0.1:4301", "-dash" },
		  "seqcast: unknown option '-dash' (put -- before values that "
		  "begin with '-')\n" },
		{ { "add", "--server", "127.0.0.1:4301", "--dash", "v" },
		  "seqcast: unknown option '--dash'\n" },
		{ { "log", "--server", "127.0.0.1:4301", "--from", "x" },
		  "seqcast: bad --from 'x': expected an integer from 1 to "
		  "9223372036854775807\n" },
		{ { "log", "--server", "127.0.0.1:4301", "--from", "5",
		    "--to", "3" },
		  "seqcast: --to 3 is before --from 5\n" },
		{ { "stats", "--server", "a:1,b:2" },
		  "seqcast: 'stats' asks one server (2 given); only add takes "
		  "several\n" },
		{ { "add", "--server", "nocolon", "v" },
		  "seqcast: bad server address 'nocolon': expected "
		  "HOST:PORT\n" },
		{ { "add", "--server", "127.0.0.1:1", "--prometheus", "v" },
		  "seqcast: --prometheus does not apply to 'add'\n" },
		{ { "frobnicate" },
		  "seqcast: unknown command 'frobnicate' (add, log, stats or "
		  "wait)\n" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct outcome o;
		char want[300];

		run_client(cases[i].args, NULL, 0, &o);
		snprintf(want, sizeof(want), "%stry 'seqcast --help'\n",
		    cases[i].err);
		assert_int_equal(exit_code(&o), 2);
		assert_string_equal(o.err, want);
		assert_int_equal(o.nout, 0);
	}
}

/* A line too long in --file: its file and line (blank lines count). */
static void
test_file_line(void **state)
{
	char path[] = "/tmp/seqcast-test-client.XXXXXX", want[200];
	const char *args[] = { "add", "--server", "127.0.0.1:1", "--file",
	    path, NULL };
	struct outcome o;
	int fd = mkstemp(path);
	FILE *f;

	(void)state;
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fputs("one\n\n\ntwo\n", f);
	for (int i = 0; i < 1500; i++)
		putc('x', f);
	fputs("\nthree\n", f);
	assert_int_equal(fclose(f), 0);
	run_client(args, NULL, 0, &o);
	unlink(path);
	snprintf(want, sizeof(want), "seqcast: %s:5: value is 1500 bytes; "
	    "the limit is 1024\n", path);
	assert_int_equal(exit_code(&o), 1);
	assert_string_equal(o.err, want);
}

static void
test_version(void **state)
{
	const char *args[] = { "--version", NULL };
	struct outcome o;

	(void)state;
	run_client(args, NULL, 0, &o);
	assert_int_equal(exit_code(&o), 0);
	assert_true(strncmp(o.out, "seqcast ", 8) == 0);
	assert_true(o.nout > 9 && o.out[o.nout - 1] == '\n');
	assert_false(strstr(o.out, "unknown"));
}

/* --count's values: "PREFIX-K" exactly as printf's "%s-%zu" writes it,
 * cut to INPUT_VBUF_MAX - 1 bytes, padded with dots to --value-size. */
static void
test_generated_values(void **state)
{
	static char longp[INPUT_VBUF_MAX + 10];
	const char *prefixes[] = { "", "t", "run-a", longp };
	char buf[INPUT_VBUF_MAX], want[INPUT_VBUF_MAX];
	struct input in;
	uint32_t len;

	(void)state;
	memset(longp, 'p', sizeof(longp) - 1);
	memset(&in, 0, sizeof(in));
	in.generated = 1;
	for (size_t p = 0; p < 4; p++) {
		in.prefix = prefixes[p];
		for (size_t k = 0; k < 100000; k = k * 3 + 1) {
			const uint8_t *v = input_value(&in, k, buf, &len);

			snprintf(want, sizeof(want), "%s-%zu", in.prefix, k + 1);
			assert_int_equal(len, strlen(want));
			assert_memory_equal(v, want, len);
		}
	}
	in.prefix = "x";
	in.size = 16;
	input_value(&in, 41, buf, &len);
	assert_int_equal(len, 16);
	assert_memory_equal(buf, "x-42............", 16);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_generated_values),
		cmocka_unit_test(test_early_retransmit),
		cmocka_unit_test(test_tail_probe),
		cmocka_unit_test(test_fast_resend_mid_input),
		cmocka_unit_test(test_restart_ride_through),
		cmocka_unit_test(test_refused_gives_up),
		cmocka_unit_test(test_unavailable_moves_on),
		cmocka_unit_test(test_refused_moves_on),
		cmocka_unit_test(test_silent_moves_on),
		cmocka_unit_test(test_no_majority),
		cmocka_unit_test(test_usage_errors),
		cmocka_unit_test(test_file_line),
		cmocka_unit_test(test_version),
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
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
