/*
 * adder.c - add's pipeline: batches out, ACKs in, entries printed in
 * input order; the policies (resend.h, choice.h, bucket.h) decide.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>

#include "seqcast/bucket.h"
#include "seqcast/choice.h"
#include "seqcast/resend.h"

#include "adder.h"
#include "client.h"
#include "input.h"
#include "lathist.h"
#include "print.h"

#define RING_MAX     (1u << 21)  /* requests between printed and newest */
#define RATE_BURST_S 0.02        /* the bucket holds 20 ms of entries */
#define RETRY_CAP_US 1000000     /* resend delays double up to 1 s */
#define RESEND_BATCH 256         /* resends asked for at a time */

struct slot {
	uint64_t req;       /* request number held, 0 = free */
	uint64_t id;        /* entry id once acknowledged */
	uint8_t acked;
};

/* One ADD datagram being filled. Value bytes are copied into arena. */
struct batch {
	struct sc_item items[SC_ITEMS_MAX];
	uint32_t count;
	size_t size;
	size_t used;
	uint8_t arena[SC_DATAGRAM_MAX];
};

struct adder {
	const struct opts *o;
	struct conn *c;
	const struct input *in;
	uint64_t client;
	struct slot *ring;      /* next_print .. next_req - 1 */
	uint64_t mask;          /* ring size - 1 */
	uint64_t next_req;      /* next new request number */
	uint64_t next_print;    /* lowest request not yet printed */
	uint64_t acked;
	uint64_t dups;          /* acks for done or unknown requests */
	uint64_t too_large;     /* a request the server refused, or 0 */
	struct sc_resend rs;    /* what to send again, when */
	struct sc_choice choice;        /* which server */
	struct sc_bucket rate;  /* --rate */
	int silent;             /* the server's silence was reported */
	struct batch batch;
	char vbuf[INPUT_VBUF_MAX];
	/* --stats-line and --latency */
	uint64_t datagrams, bytes;
	int64_t start_us, end_us;       /* start, last ACK */
	struct lat_hist *lat;
};

static struct slot *
slot_of(struct adder *a, uint64_t req)
{
	return &a->ring[req & a->mask];
}

/* Double the ring: the oldest unprinted request is stuck and the ones
 * after it are acknowledged faster than it. 0, or -1 if it cannot. */
static int
ring_grow(struct adder *a)
{
	uint64_t size = 2 * (a->mask + 1);
	struct slot *ring = size <= RING_MAX ? calloc(size, sizeof(*ring)) :
	    NULL;

	if (ring == NULL)
		return -1;
	for (uint64_t req = a->next_print; req < a->next_req; req++)
		ring[req & (size - 1)] = *slot_of(a, req);
	free(a->ring);
	a->ring = ring;
	a->mask = size - 1;
	return 0;
}

static int
random_client(uint64_t *v)
{
	do {
		if (getrandom(v, sizeof(*v), 0) != (ssize_t)sizeof(*v)) {
			fprintf(stderr, "seqcast: getrandom: %s\n",
			    strerror(errno));
			return RC_FAIL;
		}
	} while (*v == 0);
	return RC_OK;
}

static int
adder_init(struct adder *a, const struct opts *o, struct conn *c,
    const struct input *in, uint32_t nservers)
{
	struct sc_resend_conf rc;
	uint64_t size = 1024;
	double burst = o->rate * RATE_BURST_S;

	while (size < 4ull * o->window)
		size *= 2;
	a->o = o;
	a->c = c;
	a->in = in;
	a->mask = size - 1;
	a->next_req = a->next_print = 1;
	a->start_us = a->end_us = clock_us();
	sc_resend_defaults(&rc);
	rc.rto_initial_us = (int64_t)o->retry_ms * 1000;
	rc.backoff_max_us = RETRY_CAP_US;
	sc_choice_init(&a->choice, nservers, o->timeout_us, a->start_us);
	sc_bucket_init(&a->rate, o->rate, burst > 1 ? burst : 1, 1,
	    a->start_us);
	a->ring = calloc(size, sizeof(*a->ring));
	a->lat = o->latency ? calloc(1, sizeof(*a->lat)) : NULL;
	if (!a->ring || (o->latency && !a->lat) ||
	    sc_resend_init(&a->rs, &rc) == -1)
		return oom();
	return random_client(&a->client);
}

static void
adder_free(struct adder *a)
{
	free(a->ring);
	free(a->lat);
	sc_resend_free(&a->rs);
}

/* The current server failed: let the choice decide, and follow it. */
static int
on_failure(struct adder *a, enum sc_choice_why why, int64_t now)
{
	enum sc_choice_move move = sc_choice_failed(&a->choice, why);

	if (move == SC_CHOICE_STAY)
		return RC_OK;
	if (conn_use(a->c, a->choice.current) != RC_OK)
		return RC_FAIL;
	if (move == SC_CHOICE_SWITCH)
		sc_resend_restart(&a->rs, now);
	return RC_OK;
}

static void
batch_reset(struct batch *b)
{
	b->count = 0;
	b->used = 0;
	b->size = sc_encoded_size(SC_ADD, b->items, 0);
}

static int
batch_flush(struct adder *a, int64_t now)
{
	struct batch *b = &a->batch;
	struct sc_msg m;
	int io;

	if (b->count == 0)
		return RC_OK;
	conn_msg_init(a->c, &m, SC_ADD);
	m.count = b->count;
	m.items = b->items;
	io = conn_send_msg(a->c, &m);
	a->datagrams++;
	a->bytes += b->size;
	batch_reset(b);
	if (io == IO_REFUSED)
		return on_failure(a, SC_CHOICE_REFUSED, now);
	return io == IO_ERR ? RC_FAIL : RC_OK;
}

static int
batch_fits(const struct batch *b, const struct sc_item *it)
{
	return b->count < SC_ITEMS_MAX &&
	    b->used + it->len <= sizeof(b->arena) &&
	    b->size + sc_item_size(SC_ADD, it) <= conn_datagram_limit();
}

/* Put request req in the datagram being filled, sending it when full. */
static int
batch_add(struct adder *a, uint64_t req, int64_t now)
{
	struct batch *b = &a->batch;
	struct sc_item it = { .client = a->client, .req = req };
	int rc;

	it.value = input_value(a->in, (size_t)(req - 1), a->vbuf, &it.len);
	if (!batch_fits(b, &it) && (rc = batch_flush(a, now)) != RC_OK)
		return rc;
	if (it.len)
		memcpy(b->arena + b->used, it.value, it.len);
	it.value = b->arena + b->used;
	b->used += it.len;
	b->size += sc_item_size(SC_ADD, &it);
	b->items[b->count++] = it;
	return RC_OK;
}

/* May a new request go out now (window, memory and rate permitting)? A
 * token is taken only when everything else allows. */
static int
room_for_new(struct adder *a, int64_t now)
{
	if (a->next_req > a->in->n ||
	    sc_resend_outstanding(&a->rs) >= a->o->window)
		return 0;
	if (a->next_req - a->next_print > a->mask && ring_grow(a) != 0)
		return 0;
	return sc_resend_room(&a->rs) && sc_bucket_take(&a->rate, now);
}

static int
send_new(struct adder *a, int64_t now)
{
	uint64_t req = a->next_req++;

	*slot_of(a, req) = (struct slot){ .req = req };
	if (sc_resend_outstanding(&a->rs) == 0)
		sc_choice_progress(&a->choice, now);   /* the timeout runs */
	(void)sc_resend_sent(&a->rs, req, now);     /* room_for_new: room */
	if (req == a->in->n)
		sc_resend_input_done(&a->rs);
	return batch_add(a, req, now);
}

/* Send what the resend policy says is due, then as many new requests as
 * allowed. */
static int
add_send(struct adder *a, int64_t now)
{
	uint64_t due[RESEND_BATCH];
	uint32_t n;
	int rc = RC_OK, silent = sc_resend_silent(&a->rs);

	if (silent && !a->silent)
		rc = on_failure(a, SC_CHOICE_SILENT, now);
	a->silent = sc_resend_silent(&a->rs);
	do {
		n = sc_resend_due(&a->rs, now, due, RESEND_BATCH);
		for (uint32_t i = 0; rc == RC_OK && i < n; i++)
			rc = batch_add(a, due[i], now);
	} while (rc == RC_OK && n == RESEND_BATCH);
	while (rc == RC_OK && room_for_new(a, now))
		rc = send_new(a, now);
	return rc == RC_OK ? batch_flush(a, now) : rc;
}

static int
refused_value(struct adder *a)
{
	char where[600];
	uint32_t len;

	(void)input_value(a->in, (size_t)(a->too_large - 1), a->vbuf, &len);
	input_where(a->in, (size_t)(a->too_large - 1), where, sizeof(where));
	fprintf(stderr, "seqcast: %s refused %s (%" PRIu32 " bytes): too "
	    "large\n", conn_name(a->c), where, len);
	return RC_FAIL;
}

/* What one ACK item tells: taken (1), or an answer that does not move
 * this request on (0: busy, unavailable, too large), or an error (-1). */
static int
on_item(struct adder *a, const struct sc_item *it, int64_t now,
    int *unavailable)
{
	struct slot *s = slot_of(a, it->req);
	int64_t first;

	switch (it->status) {
	case SC_OK:
		if (!sc_resend_acked(&a->rs, it->req, now, &first)) {
			a->dups++;      /* a repeat, or never sent */
			return 1;
		}
		s->acked = 1;
		s->id = it->id;
		a->acked++;
		if (a->lat)
			lat_add(a->lat, now - first);
		return 1;
	case SC_ERR_BUSY:
	case SC_ERR_UNAVAILABLE:        /* both: resent after its timeout */
		sc_resend_busy(&a->rs, it->req, now);
		if (it->status == SC_ERR_BUSY)
			return 1;
		*unavailable = 1;
		return 0;
	case SC_ERR_TOO_LARGE:  /* reported once the batch is printed */
		if (!a->too_large && it->req >= a->next_print &&
		    it->req < a->next_req && !s->acked)
			a->too_large = it->req;
		return 1;
	default:
		fprintf(stderr, "seqcast: %s answered request %" PRIu64
		    " with unknown status %" PRId32 "\n", conn_name(a->c),
		    it->req, it->status);
		return -1;
	}
}

/* One ACK datagram. Any item that is not "unavailable" is progress
 * (the server works, if slowly); only "unavailable" makes it fail. */
static int
on_ack(struct adder *a, const struct sc_msg *m, int64_t now)
{
	int progress = 0, unavailable = 0;

	for (uint32_t i = 0; i < m->count; i++) {
		const struct sc_item *it = &m->items[i];
		int r;

		if (it->client != a->client) {
			a->dups++;      /* another client's */
			continue;
		}
		if ((r = on_item(a, it, now, &unavailable)) < 0)
			return RC_FAIL;
		progress |= r;
	}
	if (progress)
		sc_choice_progress(&a->choice, now);
	else if (unavailable)
		return on_failure(a, SC_CHOICE_UNAVAILABLE, now);
	return RC_OK;
}

/* Read every ACK waiting on the socket. */
static int
add_receive(struct adder *a)
{
	struct sc_msg m;
	int io, rc = RC_OK;

	while (rc == RC_OK && (io = conn_recv(a->c, SC_ACK, &m)) == IO_OK) {
		int64_t now = clock_us();

		a->end_us = now;
		rc = on_ack(a, &m, now);
	}
	if (rc != RC_OK)
		return rc;
	if (io == IO_REFUSED)
		return on_failure(a, SC_CHOICE_REFUSED, clock_us());
	return io == IO_ERR ? RC_FAIL : RC_OK;
}

/* Print the acknowledged entries that follow the printed ones. */
static void
add_print(struct adder *a)
{
	uint64_t start = a->next_print;

	for (;;) {
		struct slot *s = slot_of(a, a->next_print);

		if (s->req != a->next_print || !s->acked)
			break;
		if (!a->o->quiet) {
			uint32_t len;
			const uint8_t *v = input_value(a->in,
			    (size_t)(s->req - 1), a->vbuf, &len);

			print_entry(stdout, s->id, v, len);
		}
		s->req = 0;
		a->next_print++;
	}
	if (a->next_print != start && !a->o->quiet)
		fflush(stdout);
}

/* How long to sleep (us): until a resend, a rate token or the timeout. */
static int64_t
add_sleep(const struct adder *a, int64_t now)
{
	int64_t wake = now + 1000000, t = sc_resend_next_deadline(&a->rs);
	int64_t token = sc_bucket_wait(&a->rate, now);

	if (t < wake)
		wake = t;
	if (sc_resend_outstanding(&a->rs) > 0 &&
	    sc_choice_deadline(&a->choice) < wake)
		wake = sc_choice_deadline(&a->choice);
	/* a token is what holds the next request back (0: something else
	 * does, and an ACK will wake us) */
	if (token > 0 && a->next_req <= a->in->n &&
	    sc_resend_outstanding(&a->rs) < a->o->window &&
	    now + token < wake)
		wake = now + token;
	return wake - now;
}

/* "A (connection refused), B (silent)", or with `bare` only the names:
 * every server, and why it failed since the last progress. */
static void
servers_why(const struct adder *a, int bare, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (uint32_t i = 0; i < a->choice.n && used < len; i++) {
		int n = snprintf(buf + used, len - used, "%s%s%s%s%s",
		    i ? ", " : "", conn_server_name(a->c, i),
		    bare ? "" : " (", bare ? "" :
		    sc_choice_why_name(a->choice.why[i]), bare ? "" : ")");

		used += n > 0 ? (size_t)n : 0;
	}
}

/* No progress for --timeout: say why, as precisely as the servers let. */
static int
add_timed_out(const struct adder *a)
{
	const struct sc_choice *ch = &a->choice;
	const char *s = ch->n > 1 ? "s" : "";
	char names[2048], why[2048], done[96];

	snprintf(done, sizeof(done), "(%" PRIu64 " of %zu entries "
	    "acknowledged)", a->acked, a->in->n);
	servers_why(a, 1, names, sizeof(names));
	servers_why(a, 0, why, sizeof(why));
	if (sc_choice_all(ch, SC_CHOICE_REFUSED))
		fprintf(stderr, "seqcast: server%s %s unreachable (connection "
		    "refused) for %g s %s\n", s, names, a->o->timeout_s, done);
	else if (sc_choice_all(ch, SC_CHOICE_UNAVAILABLE))
		fprintf(stderr, "seqcast: no majority: server%s %s answered "
		    "'unavailable' for %g s %s\n", s, names, a->o->timeout_s,
		    done);
	else if (ch->n == 1)
		fprintf(stderr, "seqcast: no answer from %s for %g s %s\n",
		    names, a->o->timeout_s, done);
	else
		fprintf(stderr, "seqcast: no server made progress for %g s: "
		    "%s %s\n", a->o->timeout_s, why, done);
	return RC_FAIL;
}

static int
add_loop(struct adder *a)
{
	batch_reset(&a->batch);
	while (a->next_print <= a->in->n) {
		int64_t now = clock_us();
		int rc = add_send(a, now);

		if (rc != RC_OK)
			return rc;
		if (sc_resend_outstanding(&a->rs) > 0 &&
		    now >= sc_choice_deadline(&a->choice))
			return add_timed_out(a);
		conn_wait(a->c, add_sleep(a, now));
		rc = add_receive(a);
		add_print(a);
		if (rc != RC_OK)
			return rc;
		if (a->too_large)
			return refused_value(a);
	}
	return RC_OK;
}

/* CPU seconds (user + system) this process used so far. */
static double
cpu_seconds(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) != 0)
		return 0;
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	    (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* --stats-line and --latency output at the end of add; rc passes on. */
static int
add_report(const struct adder *a, int rc)
{
	const struct opts *o = a->o;
	const struct sc_resend_stats *st = &a->rs.st;
	double secs = (double)(a->end_us - a->start_us) / 1e6;

	if (o->stats_line)
		fprintf(stderr, "sent=%" PRIu64 " acked=%" PRIu64 " resent=%"
		    PRIu64 " datagrams=%" PRIu64 " bytes=%" PRIu64
		    " seconds=%.3f rate=%.0f/s cpu=%.3f fast=%" PRIu64
		    " probes=%" PRIu64 " switches=%" PRIu64 "\n",
		    a->next_req - 1, a->acked, st->resent, a->datagrams,
		    a->bytes, secs, secs > 0 ? (double)a->acked / secs : 0.0,
		    cpu_seconds(), st->fast, st->probes, a->choice.switches);
	if (!a->lat)
		return rc;
	lat_print(a->lat);
	if (o->latency_file && lat_write(a->lat, o->latency_file) != RC_OK)
		return rc == RC_OK ? RC_FAIL : rc;
	return rc;
}

int
adder_run(const struct opts *o, const struct conn_server *servers,
    uint32_t n)
{
	struct input in;
	struct adder *a = NULL;
	struct conn *c = NULL;
	int rc = input_load(o, &in);

	if (rc == RC_OK && in.n > 0 &&
	    (rc = conn_open(servers, n, o->cluster, &c)) == RC_OK) {
		a = calloc(1, sizeof(*a));
		rc = a ? adder_init(a, o, c, &in, n) : oom();
		if (rc == RC_OK)
			rc = add_loop(a);
		if (a && a->o)  /* initialised: report what happened */
			rc = add_report(a, rc);
	}
	if (a)
		adder_free(a);
	free(a);
	conn_free(c);
	input_free(&in);
	return rc;
}
