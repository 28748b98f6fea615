/*
 * query.c - log (logfetch.c), stats, wait: a request, its reply.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "seqcast/num.h"

#include "client.h"
#include "json.h"
#include "logfetch.h"
#include "print.h"
#include "prom.h"
#include "query.h"

#define RETRY_CAP_MS 1000
#define STATS_RESTARTS 5        /* pages of another moment: start again */

struct exchange {
	const struct sc_msg *req;
	int type;                                   /* reply type */
	int (*accept)(const struct sc_msg *, const void *ctx);
	const void *ctx;
};

static int
no_answer(const struct opts *o, const struct conn *c)
{
	fprintf(stderr, "seqcast: no answer from %s for %g s\n", conn_name(c),
	    o->timeout_s);
	return RC_FAIL;
}

static int
report_refused(const struct conn *c)
{
	fprintf(stderr, "seqcast: server %s unreachable: connection "
	    "refused\n", conn_name(c));
	return RC_FAIL;
}

static uint32_t
next_delay(const struct opts *o, uint32_t delay)
{
	uint32_t cap = o->retry_ms > RETRY_CAP_MS ? o->retry_ms : RETRY_CAP_MS;

	return delay >= cap / 2 ? cap : delay * 2;
}

/* Read replies until one is accepted: IO_OK, IO_NONE, IO_REFUSED... */
static int
recv_accepted(struct conn *c, const struct exchange *x, struct sc_msg *out)
{
	int io;

	while ((io = conn_recv(c, x->type, out)) == IO_OK)
		if (!x->accept || x->accept(out, x->ctx))
			return IO_OK;
	return io;
}

/* Send x->req until a reply is accepted, resending with backoff. */
static int
exchange(const struct opts *o, struct conn *c, const struct exchange *x,
    struct sc_msg *out)
{
	int64_t start = clock_us(), next = start, end = start + o->timeout_us;
	int64_t delay = (int64_t)o->retry_ms * 1000;

	for (;;) {
		int64_t now = clock_us();
		int io = IO_NONE;

		if (now >= end)
			return no_answer(o, c);
		if (now >= next) {
			io = conn_send_msg(c, x->req);
			next = now + delay;
			delay = (int64_t)next_delay(o,
			    (uint32_t)(delay / 1000)) * 1000;
		}
		if (io != IO_REFUSED && io != IO_ERR) {
			conn_wait(c, (next < end ? next : end) - now);
			io = recv_accepted(c, x, out);
		}
		/* The server sent a cookie: its answer to a request without
		 * one was cut short, or is not coming; ask again now. */
		if (conn_cookie_news(c))
			next = clock_us();
		if (io == IO_OK)
			return RC_OK;
		if (io == IO_REFUSED)
			return report_refused(c);
		if (io == IO_ERR)
			return RC_FAIL;
	}
}

int
query_log(const struct opts *o, struct conn *c)
{
	return logfetch_run(o, c);
}

/* A stats request: b a nonce, c the offset of the page wanted. */
static int
stats_request(const struct conn *c, struct sc_msg *req)
{
	conn_msg_init(c, req, SC_STATS_REQ);
	req->c = 0;
	do {
		if (getrandom(&req->b, sizeof(req->b), 0) !=
		    (ssize_t)sizeof(req->b)) {
			fprintf(stderr, "seqcast: getrandom: %s\n",
			    strerror(errno));
			return RC_FAIL;
		}
	} while (req->b == 0);
	return RC_OK;
}

/* The page at the offset asked for (ctx), within the total it gives. */
static int
stats_accept(const struct sc_msg *m, const void *ctx)
{
	return m->text != NULL && m->b == *(const uint64_t *)ctx &&
	    m->a <= SC_TEXT_MAX && m->b + strlen(m->text) <= m->a;
}

/* The stats come in pages of one datagram: ask for each in turn. Each
 * page is cut from the text as it is when the server answers, so pages
 * of two moments do not join: when the length changes on the way,
 * start again (a few times; under a load that changes the text faster,
 * take what came). */
static int
stats_fetch(const struct opts *o, struct conn *c, char *text)
{
	struct sc_msg req, reply;
	uint64_t off = 0, total = 1;
	struct exchange x = { &req, SC_STATS_REPLY, stats_accept, &off };
	int rc = stats_request(c, &req), restarts = 0;

	while (rc == RC_OK && off < total) {
		size_t n;

		req.c = off;
		if ((rc = exchange(o, c, &x, &reply)) != RC_OK)
			break;
		n = strlen(reply.text);
		if (off > 0 && reply.a != total &&
		    restarts++ < STATS_RESTARTS && off + n < reply.a) {
			off = 0;
			total = 1;
			continue;
		}
		total = reply.a;
		if (n == 0 && off < total) {
			fprintf(stderr, "seqcast: %s sent an empty stats "
			    "page\n", conn_name(c));
			return RC_FAIL;
		}
		memcpy(text + off, reply.text, n);
		off += n;
	}
	text[off] = '\0';
	return rc;
}

int
query_stats(const struct opts *o, struct conn *c)
{
	static char text[SC_TEXT_MAX + 1];
	struct json_doc d;
	char err[256], why[sizeof(d.err)];
	int rc, tries = 0;

	/* Whole JSON or nothing: a server cuts every page of a request
	 * from one snapshot, but one that restarted (or forgot the
	 * snapshot) between two pages could join two moments. */
	do {
		if ((rc = stats_fetch(o, c, text)) != RC_OK)
			return rc;
		rc = json_parse(text, strlen(text), &d);
		memcpy(why, d.err, sizeof(why));
		json_free(&d);
	} while (rc < 0 && ++tries < STATS_RESTARTS);
	if (rc < 0) {
		fprintf(stderr, "seqcast: stats from %s: the pages did not "
		    "make one JSON text %d times in a row (the last: %s)\n",
		    conn_name(c), tries, why);
		return RC_FAIL;
	}
	if (!o->prometheus) {
		fputs(text, stdout);
		putchar('\n');
		return RC_OK;
	}
	if (prom_write(stdout, text, err, sizeof(err)) < 0) {
		fprintf(stderr, "seqcast: stats from %s: %s\n", conn_name(c),
		    err);
		return RC_FAIL;
	}
	return RC_OK;
}

struct waiter {
	const struct opts *o;
	struct conn *c;
	uint64_t applied;       /* latest reported */
	int answered;           /* any reply yet */
	int refused;            /* last send/receive was refused */
};

/* The top-level "applied" count of a stats reply, or -1. */
static int
stats_applied(const char *text, uint64_t *out)
{
	struct json_doc d;
	const struct json_value *v;
	int rc = -1;

	if (json_parse(text, strlen(text), &d) < 0) {
		/* The first page only (the stats come in pages): the count
		 * is near the top of the object, before any nested one. */
		const char *p = strstr(text, "\"applied\":");
		char digits[24];
		size_t k = 0;

		json_free(&d);  /* what was parsed before the page ended */
		if (p == NULL || strchr(text + 1, '{') < p)
			return -1;
		for (p += 10; k + 1 < sizeof(digits) && *p >= '0' && *p <= '9';
		    p++)
			digits[k++] = *p;
		digits[k] = '\0';
		/* A page that ends inside the number is no count. */
		if (*p != ',' && *p != '}')
			return -1;
		return sc_parse_u64(digits, 0, UINT64_MAX, out) == SC_NUM_OK ?
		    0 : -1;
	}
	v = json_get(d.root, "applied");
	if (v != NULL && v->type == JSON_NUMBER &&
	    sc_parse_u64(v->text, 0, UINT64_MAX, out) == SC_NUM_OK)
		rc = 0;
	json_free(&d);
	return rc;
}

static int
wait_receive(struct waiter *w)
{
	struct sc_msg m;
	int io;

	while ((io = conn_recv(w->c, SC_STATS_REPLY, &m)) == IO_OK) {
		w->refused = 0;
		if (m.text != NULL && stats_applied(m.text, &w->applied) == 0) {
			w->answered = 1;
			continue;
		}
		/* A page too short to hold the count: the server wants our
		 * cookie first (it came before this page). */
		if (m.text != NULL && strlen(m.text) < m.a)
			continue;
		fprintf(stderr, "seqcast: stats from %s have no \"applied\" "
		    "count\n", conn_name(w->c));
		return RC_FAIL;
	}
	if (io == IO_REFUSED)
		w->refused = 1;
	return io == IO_ERR ? RC_FAIL : RC_OK;
}

static int
wait_timed_out(const struct waiter *w)
{
	const struct opts *o = w->o;

	if (w->answered)
		fprintf(stderr, "seqcast: %s applied %" PRIu64 " of %" PRIu64
		    " entries after %g s\n", conn_name(w->c), w->applied,
		    o->applied, o->timeout_s);
	else if (w->refused)
		report_refused(w->c);
	else
		no_answer(o, w->c);
	return RC_FAIL;
}

int
query_wait(const struct opts *o, struct conn *c)
{
	struct waiter w = { .o = o, .c = c };
	struct sc_msg req;
	int64_t start = clock_us(), next = start, end = start + o->timeout_us;
	int rc = stats_request(c, &req);

	while (rc == RC_OK) {
		int64_t now = clock_us();

		if (now >= next) {
			int io = conn_send_msg(c, &req);

			if (io == IO_ERR)
				return RC_FAIL;
			w.refused |= io == IO_REFUSED;
			next = now + (int64_t)o->poll_ms * 1000;
		}
		if (now >= end)
			return wait_timed_out(&w);
		conn_wait(c, (next < end ? next : end) - now);
		rc = wait_receive(&w);
		if (rc == RC_OK && w.answered && w.applied >= o->applied)
			return RC_OK;
		if (conn_cookie_news(c))
			next = clock_us();      /* ask again with it, now */
	}
	return rc;
}
