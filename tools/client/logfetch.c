/*
 * logfetch.c - seqcast log (and --follow): pages of the applied log,
 * many in flight, printed in id order (logfetch.h says how).
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seqcast/rtt.h"

#include "client.h"
#include "logfetch.h"
#include "print.h"

#define PAGES_MAX     (2 * LOGFETCH_WINDOW) /* room for pages split */
#define BACKOFF_MAX_US 1000000
#define HOLD_US       200000  /* a long poll answered early: wait */

struct page {
	uint64_t from;          /* first id asked for */
	uint64_t max;           /* entries asked for (0: as many as fit) */
	uint32_t wait_ms;       /* a long poll's wait (0: none) */
	int64_t first_sent;     /* its first send */
	int64_t due;            /* ask again then */
	uint64_t seq;           /* number of its latest send */
	uint32_t tries;
	int fast;               /* asked again early since its latest send */
	int below;              /* asked for as applied: an empty answer
	                           means the server lost it (a restart) */
	uint64_t cookie;        /* what its latest send carried */
	int mixed;              /* sends with different cookies: an answer
	                           may be to one the server cut short */
	int got;                /* answered: the entries below */
	uint32_t count;
	struct sc_item *items;  /* copies, values in `values` */
	uint8_t *values;
};

struct fetch {
	const struct opts *o;
	struct conn *c;
	struct page page[PAGES_MAX]; /* in id order */
	uint32_t n;
	uint64_t next_print;    /* the next id to print */
	uint64_t next_ask;      /* the first id no page asks for */
	uint64_t end;           /* the last id wanted */
	int end_known;          /* (once the first answer told applied) */
	uint64_t applied;       /* the server's, as it last said */
	uint64_t per_page;      /* entries an answer holds (0: not known) */
	int open;               /* a page asking "as many as fit" is out:
	                           the next one starts where it ends */
	struct sc_rtt rtt;
	uint64_t seq;           /* requests sent */
	int64_t heard;          /* the last answer that was progress */
	int64_t hold_until;     /* no new long poll before */
	int refused;            /* the server refused since then */
};

static volatile sig_atomic_t interrupted;

static void
on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

/* --follow runs until SIGINT or SIGTERM: without SA_RESTART, a wait in
 * poll() ends at once, and the loop prints what it has and returns. */
static void
catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	(void)sigaction(SIGINT, &sa, NULL);
	(void)sigaction(SIGTERM, &sa, NULL);
}

static int64_t
rto(const struct fetch *f)
{
	int64_t first = (int64_t)f->o->retry_ms * 1000;
	int64_t r = sc_rtt_rto(&f->rtt);

	if (r == 0)
		return first;
	if (r < LOGFETCH_RTO_MIN_US)
		r = LOGFETCH_RTO_MIN_US;
	return r < first ? r : first;
}

static void
page_free(struct page *p)
{
	free(p->items);
	free(p->values);
	memset(p, 0, sizeof(*p));
}

/* Drop pages i.. (answered or not). */
static void
drop_from(struct fetch *f, uint32_t i)
{
	while (f->n > i)
		page_free(&f->page[--f->n]);
	f->open = 0;
	for (uint32_t k = 0; k < f->n; k++)
		f->open |= f->page[k].max == 0 && !f->page[k].got;
}

/* A new page at position i, due now. */
static struct page *
page_insert(struct fetch *f, uint32_t i, uint64_t from, uint64_t max,
    uint32_t wait_ms, int64_t now)
{
	struct page *p;
	int below = f->end_known && wait_ms == 0;

	memmove(&f->page[i + 1], &f->page[i], (f->n - i) * sizeof(*p));
	f->n++;
	p = &f->page[i];
	memset(p, 0, sizeof(*p));
	p->from = from;
	p->max = max;
	p->wait_ms = wait_ms;
	p->below = below;
	p->due = now;
	f->open |= max == 0;
	return p;
}

static int
report_refused(const struct fetch *f)
{
	fprintf(stderr, "seqcast: server %s unreachable: connection "
	    "refused\n", conn_name(f->c));
	return RC_FAIL;
}

/* Ask for page p (again). fast: early, before its timer. */
static int
page_send(struct fetch *f, struct page *p, int64_t now, int fast)
{
	struct sc_msg req;
	int64_t r = rto(f), wait = r << (p->tries < 6 ? p->tries : 6);
	int64_t cap = r > BACKOFF_MAX_US ? r : BACKOFF_MAX_US;
	int io;

	conn_msg_init(f->c, &req, SC_LOG_REQ);
	req.b = p->from;
	req.c = p->max;
	req.d = p->wait_ms;
	io = conn_send_msg(f->c, &req);
	p->mixed |= p->tries > 0 && p->cookie != conn_cookie(f->c);
	p->cookie = conn_cookie(f->c);
	if (p->tries++ == 0)
		p->first_sent = now;
	p->seq = ++f->seq;
	p->fast = fast;
	p->due = now + (wait < cap ? wait : cap) + (int64_t)p->wait_ms * 1000;
	if (io == IO_REFUSED) {
		f->refused = 1;
		return f->o->follow ? RC_OK : report_refused(f);
	}
	return io == IO_ERR ? RC_FAIL : RC_OK;
}

/* New pages, while the window has room: the next ids up to what is
 * wanted and applied; with --follow, past them, one long poll. */
static void
fill(struct fetch *f, int64_t now)
{
	const struct opts *o = f->o;

	while (f->n < LOGFETCH_WINDOW && !f->open) {
		uint64_t last = o->follow ?
		    (f->applied < o->to ? f->applied : o->to) : f->end, k;

		if (!f->end_known) {
			if (f->n == 0)
				(void)page_insert(f, f->n, f->next_ask, 0, 0, now);
			return;
		}
		if (f->next_ask > last) {
			if (o->follow && f->next_ask <= o->to &&
			    now >= f->hold_until)
				(void)page_insert(f, f->n, f->next_ask, 0,
				    LOGFETCH_WAIT_MS, now);
			return;
		}
		if (f->per_page == 0) {
			(void)page_insert(f, f->n, f->next_ask, 0, 0, now);
			return;
		}
		k = last - f->next_ask + 1;
		if (k > f->per_page)
			k = f->per_page;
		(void)page_insert(f, f->n, f->next_ask, k, 0, now);
		f->next_ask += k;
	}
}

/* Ask for every page whose timer ran out. */
static int
send_due(struct fetch *f, int64_t now)
{
	for (uint32_t i = 0; i < f->n; i++) {
		struct page *p = &f->page[i];
		int rc;

		if (!p->got && p->due <= now &&
		    (rc = page_send(f, p, now, 0)) != RC_OK)
			return rc;
	}
	return RC_OK;
}

/* Pages asked for before page `seq` and not answered when three asked
 * after them are: lost, ask again now (once per send). */
static int
fast_resend(struct fetch *f, uint64_t seq, int64_t now)
{
	for (uint32_t i = 0; i < f->n; i++) {
		struct page *p = &f->page[i];
		int rc;

		if (p->got || p->fast || p->wait_ms != 0 ||
		    p->seq + LOGFETCH_DUPTHRESH > seq)
			continue;
		if ((rc = page_send(f, p, now, 1)) != RC_OK)
			return rc;
	}
	return RC_OK;
}

static int
keep_entries(struct page *p, const struct sc_msg *m)
{
	size_t bytes = 0, used = 0;

	for (uint32_t i = 0; i < m->count; i++)
		bytes += m->items[i].len;
	p->items = malloc(m->count * sizeof(*p->items));
	p->values = malloc(bytes ? bytes : 1);
	if (p->items == NULL || p->values == NULL)
		return oom();
	for (uint32_t i = 0; i < m->count; i++) {
		p->items[i] = m->items[i];
		memcpy(p->values + used, m->items[i].value, m->items[i].len);
		p->items[i].value = p->values + used;
		used += m->items[i].len;
	}
	p->count = m->count;
	p->got = 1;
	return RC_OK;
}

/* An answer holding nothing: the end of the log (or, for a page below
 * it, a server that lost what it had applied: it restarted without its
 * log and catches up). Ask again from there. */
static void
on_empty(struct fetch *f, uint32_t i, int64_t now)
{
	struct page *p = &f->page[i];
	int long_poll = p->wait_ms != 0;
	int early = now - p->first_sent < (int64_t)p->wait_ms * 500;

	if (!f->o->follow && p->from > f->end) {
		drop_from(f, i);
		return;
	}
	if (long_poll)
		f->heard = now;   /* the server is there, nothing new */
	/* Wait a little before asking again when the server lost what it
	 * had, or answered a long poll at once with the cookie it made (its
	 * table of waiting requests is full): no busy polling. */
	if (p->below || (long_poll && early && p->cookie != 0 &&
	    p->cookie == conn_cookie(f->c)))
		f->hold_until = now + HOLD_US;
	f->next_ask = p->from;
	drop_from(f, i);
}

/* Where an answer to page i holding entries leads: the next page after
 * an open one, the rest of a page answered short, a measure of pages.
 * Only an answer that the datagram's size cut (the server had more)
 * measures a page: not one cut by the budget of an address the server
 * did not know yet (sent without the current cookie), nor one that
 * ended at the last applied entry (a long poll's few new ones). */
static void
on_entries(struct fetch *f, uint32_t i, uint64_t applied, int64_t now)
{
	struct page *p = &f->page[i];
	int full = p->cookie != 0 && !p->mixed &&
	    p->cookie == conn_cookie(f->c) && p->from + p->count <= applied;

	if (p->max == 0) {
		f->open = 0;
		f->next_ask = p->from + p->count;
		if (full)
			f->per_page = p->count;
		return;
	}
	if (p->count >= p->max)
		return;
	if (full && p->count < f->per_page)
		f->per_page = p->count;
	if (f->n == PAGES_MAX) {
		/* No room to split: ask for less, again. */
		p->max = p->count;
		free(p->items);
		free(p->values);
		p->items = NULL;
		p->values = NULL;
		p->got = 0;
		p->tries = 0;
		p->mixed = 0;
		p->due = now;
		return;
	}
	(void)page_insert(f, i + 1, p->from + p->count, p->max - p->count, 0,
	    now);
}

static int
skips(const struct fetch *f, uint64_t want, uint64_t got)
{
	fflush(stdout);
	fprintf(stderr, "seqcast: log from %s skips from id %" PRIu64 " to %"
	    PRIu64 "\n", conn_name(f->c), want, got);
	return RC_FAIL;
}

/* The page an answer is for (its first id, echoed), if still open. */
static int
page_of(const struct fetch *f, const struct sc_msg *m)
{
	uint64_t first = m->b != 0 ? m->b : m->count ? m->items[0].id : 0;

	for (uint32_t i = 0; i < f->n; i++)
		if (f->page[i].from == first && !f->page[i].got)
			return (int)i;
	return -1;
}

static int
on_reply(struct fetch *f, const struct sc_msg *m, int64_t now)
{
	int i = page_of(f, m), rc;
	struct page *p;

	if (i < 0)
		return RC_OK;           /* a late or repeated answer */
	p = &f->page[i];
	for (uint32_t k = 0; k < m->count; k++)
		if (m->items[k].id != p->from + k)
			return skips(f, p->from + k, m->items[k].id);
	f->applied = m->a;
	f->refused = 0;
	if (!f->end_known) {
		f->end = m->a < f->o->to ? m->a : f->o->to;
		f->end_known = 1;
	}
	if (p->tries == 1 && p->wait_ms == 0)
		sc_rtt_sample(&f->rtt, now - p->first_sent);
	if (m->count == 0) {
		on_empty(f, (uint32_t)i, now);
		return RC_OK;
	}
	f->heard = now;
	if ((rc = keep_entries(p, m)) != RC_OK)
		return rc;
	on_entries(f, (uint32_t)i, m->a, now);
	return fast_resend(f, p->seq, now);
}

/* Read every answer waiting; a new cookie: ask again for what is out. */
static int
receive(struct fetch *f)
{
	struct sc_msg m;
	int io, rc = RC_OK;

	while (rc == RC_OK &&
	    (io = conn_recv(f->c, SC_LOG_REPLY, &m)) == IO_OK)
		rc = on_reply(f, &m, clock_us());
	if (rc != RC_OK)
		return rc;
	if (conn_cookie_news(f->c)) {
		for (uint32_t i = 0; i < f->n; i++)
			f->page[i].due = 0;
		f->hold_until = 0;
	}
	if (io == IO_REFUSED) {
		f->refused = 1;
		return f->o->follow ? RC_OK : report_refused(f);
	}
	return io == IO_ERR ? RC_FAIL : RC_OK;
}

/* Print the answered pages at the front, in id order. */
static void
print_ready(struct fetch *f)
{
	const struct opts *o = f->o;
	uint64_t last = o->follow ? o->to : f->end;
	int printed = 0;

	while (f->n > 0 && f->page[0].got) {
		struct page *p = &f->page[0];

		for (uint32_t i = 0; i < p->count; i++) {
			const struct sc_item *it = &p->items[i];

			if (it->id < f->next_print || it->id > last)
				continue;
			if (o->json)
				print_entry_json(stdout, it->id, it->value,
				    it->len);
			else
				print_entry(stdout, it->id, it->value, it->len);
			f->next_print = it->id + 1;
			printed = 1;
		}
		page_free(p);
		memmove(&f->page[0], &f->page[1], --f->n * sizeof(*p));
	}
	if (printed)
		fflush(stdout);
}

static int
finished(const struct fetch *f)
{
	if (f->o->follow)
		return f->next_print > f->o->to;
	return f->end_known && f->next_print > f->end;
}

/* How long to sleep: until a page is due, a long poll may go, or the
 * timeout. */
static int64_t
sleep_us(const struct fetch *f, int64_t now)
{
	int64_t wake = f->heard + f->o->timeout_us;

	for (uint32_t i = 0; i < f->n; i++)
		if (!f->page[i].got && f->page[i].due < wake)
			wake = f->page[i].due;
	if (f->hold_until > now && f->hold_until < wake)
		wake = f->hold_until;
	if (wake > now + 1000000)
		wake = now + 1000000;
	return wake > now ? wake - now : 0;
}

static int
timed_out(const struct fetch *f)
{
	if (f->refused)
		return report_refused(f);
	fprintf(stderr, "seqcast: no answer from %s for %g s\n",
	    conn_name(f->c), f->o->timeout_s);
	return RC_FAIL;
}

static int
fetch_loop(struct fetch *f)
{
	int rc = RC_OK;

	while (rc == RC_OK && !interrupted && !finished(f)) {
		int64_t now = clock_us();

		if (now - f->heard >= f->o->timeout_us)
			return timed_out(f);
		fill(f, now);
		if ((rc = send_due(f, now)) != RC_OK)
			break;
		conn_wait(f->c, sleep_us(f, now));
		rc = receive(f);
		print_ready(f);
	}
	fflush(stdout);
	return rc;
}

int
logfetch_run(const struct opts *o, struct conn *c)
{
	struct fetch *f = calloc(1, sizeof(*f));
	int rc;

	if (f == NULL)
		return oom();
	f->o = o;
	f->c = c;
	f->next_print = f->next_ask = o->from;
	f->end = o->to;
	f->heard = clock_us();
	if (o->follow)
		catch_signals();
	rc = fetch_loop(f);
	drop_from(f, 0);
	free(f);
	return rc;
}
