/*
 * gap.c - missing-range bookkeeping and NACK timing.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "seqcast/rng.h"
#include "seqcast/gap.h"

int
sc_gap_init(struct sc_gaps *g, const struct sc_gap_conf *c, uint64_t applied)
{
	memset(g, 0, sizeof(*g));
	g->conf = *c;
	if (g->conf.max_ranges < 2)
		g->conf.max_ranges = 2;
	g->r = calloc(g->conf.max_ranges, sizeof(*g->r));
	if (g->r == NULL)
		return -1;
	g->next = applied + 1;
	g->next_due = INT64_MAX;
	g->rng = c->seed ? c->seed : 0x5eed;
	return 0;
}

void
sc_gap_free(struct sc_gaps *g)
{
	free(g->r);
	g->r = NULL;
	g->n = 0;
}

static int64_t
gap_jitter(struct sc_gaps *g, int64_t interval)
{
	/* +-25%: receivers that lost the same datagram drift apart. */
	int64_t quarter = interval / 4;

	if (quarter <= 0)
		return interval;
	return interval - quarter +
	    (int64_t)sc_rng_below(&g->rng, (uint64_t)(2 * quarter + 1));
}

static void
gap_set_due(struct sc_gaps *g, struct sc_gap_range *r, int64_t due)
{
	r->due = due;
	if (due < g->next_due)
		g->next_due = due;
}

/* Index of the first range whose last >= id (n if none). */
static uint32_t
gap_search(const struct sc_gaps *g, uint64_t id)
{
	uint32_t lo = 0, hi = g->n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (g->r[mid].last < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void
gap_remove_at(struct sc_gaps *g, uint32_t i)
{
	if (g->r[i].hinted)
		g->nhinted--;
	memmove(&g->r[i], &g->r[i + 1], (g->n - i - 1) * sizeof(*g->r));
	g->n--;
}

/* How long an answer to a NACK takes, as TCP's retransmission timer:
 * smoothed repair time + 4 x its deviation, within [retry_min,
 * backoff_max]; retry_us (1 ms if 0) until the first measurement. */
static int64_t
gap_interval(const struct sc_gaps *g)
{
	int64_t t = sc_rtt_rto(&g->repair);

	if (t == 0)
		return g->conf.retry_us > 0 ? g->conf.retry_us : 1000;
	if (t < g->conf.retry_min_us)
		t = g->conf.retry_min_us;
	if (g->conf.backoff_max_us > 0 && t > g->conf.backoff_max_us)
		t = g->conf.backoff_max_us;
	return t;
}

/* The random wait before a first NACK. */
static int64_t
gap_delay(struct sc_gaps *g)
{
	if (g->conf.delay_max_us <= 0)
		return 0;
	return (int64_t)sc_rng_below(&g->rng,
	    (uint64_t)g->conf.delay_max_us + 1);
}

static void
gap_open(struct sc_gaps *g, uint64_t first, uint64_t last, int64_t now,
    int64_t wait)
{
	struct sc_gap_range *r;

	g->opened++;
	if (g->n > 0 && g->r[g->n - 1].last + 1 == first &&
	    g->r[g->n - 1].tries == 0) {
		/* Extends a range not yet asked for: one gap, one NACK. */
		g->r[g->n - 1].last = last;
		return;
	}
	if (g->n == g->conf.max_ranges) {
		/* Table full: widen the last range rather than lose the gap;
		 * asking for a few ids we have costs only duplicates. */
		g->r[g->n - 1].last = last;
		return;
	}
	r = &g->r[g->n++];
	r->first = first;
	r->last = last;
	r->tries = 0;
	r->asked = 0;
	r->sampled = 0;
	r->hinted = wait > 0;
	g->nhinted += r->hinted;
	gap_set_due(g, r, now + wait + gap_delay(g));
}

/* An answer to a range asked for once (Karn: a repeated NACK makes the
 * time ambiguous) arrived: one sample per NACK. */
static void
gap_sample(struct sc_gaps *g, struct sc_gap_range *r, int64_t now)
{
	if (r->tries != 1 || r->sampled || now < r->asked)
		return;
	r->sampled = 1;
	sc_rtt_sample(&g->repair, now - r->asked);
	g->rtt_samples++;
}

/* An answer to the NACK sent at `asked` arrived: every range asked for
 * before it that is still missing lost its answer: ask again now. Once
 * per NACK. */
static void
gap_hurry(struct sc_gaps *g, int64_t asked, int64_t now)
{
	if (asked <= g->hurried)
		return;
	g->hurried = asked;
	for (uint32_t i = 0; i < g->n; i++) {
		struct sc_gap_range *r = &g->r[i];

		if (r->tries > 0 && r->asked < asked && r->due > now) {
			gap_set_due(g, r, now);
			g->hurries++;
		}
	}
}

static void
gap_progress(struct sc_gaps *g, struct sc_gap_range *r, int64_t now)
{
	/* A retransmission is arriving: ask for the rest soon rather than
	 * after the full backoff, but not at once (more may be in flight). */
	int64_t t = gap_interval(g);

	if (r->tries > 0 && r->due > now + t)
		gap_set_due(g, r, now + t);
}

void
sc_gap_seen(struct sc_gaps *g, uint64_t id, int64_t now)
{
	uint32_t i;
	struct sc_gap_range *r;

	if (id >= g->next) {
		if (id > g->next)
			gap_open(g, g->next, id - 1, now, 0);
		g->next = id + 1;
		return;
	}
	i = gap_search(g, id);
	if (i == g->n || g->r[i].first > id)
		return;                 /* not missing: nothing to do */
	r = &g->r[i];
	gap_sample(g, r, now);
	/* Only a range asked for once tells which NACK this answers (a
	 * late answer to an earlier ask would look like one to the last). */
	if (r->tries == 1)
		gap_hurry(g, r->asked, now);
	if (r->first == r->last) {
		if (r->tries == 0)
			g->suppressed++;
		gap_remove_at(g, i);
		return;
	}
	if (id == r->first)
		r->first++;
	else if (id == r->last)
		r->last--;
	else if (g->n < g->conf.max_ranges) {
		memmove(&g->r[i + 1], &g->r[i], (g->n - i) * sizeof(*g->r));
		g->n++;
		g->r[i].last = id - 1;
		g->r[i + 1].first = id + 1;
		g->nhinted += g->r[i].hinted;
		gap_progress(g, &g->r[i + 1], now);
	}
	/* else: cannot split; the id stays "missing" and comes back as a
	 * duplicate if asked for. */
	gap_progress(g, &g->r[i], now);
}

void
sc_gap_head(struct sc_gaps *g, uint64_t head, int64_t now)
{
	if (head >= g->next) {
		gap_open(g, g->next, head, now, 0);
		g->next = head + 1;
	}
}

void
sc_gap_hint(struct sc_gaps *g, uint64_t head, int64_t now)
{
	if (head >= g->next) {
		gap_open(g, g->next, head, now, gap_interval(g));
		g->next = head + 1;
	}
}

void
sc_gap_passed(struct sc_gaps *g, uint64_t id, int64_t now)
{
	for (uint32_t i = 0; g->nhinted > 0 && i < g->n &&
	    g->r[i].last < id; i++) {
		struct sc_gap_range *r = &g->r[i];

		if (!r->hinted)
			continue;
		r->hinted = 0;
		g->nhinted--;
		g->passed++;
		gap_set_due(g, r, now + gap_delay(g));   /* never asked yet */
	}
}

void
sc_gap_forget(struct sc_gaps *g, uint64_t first, uint64_t last)
{
	uint32_t i = gap_search(g, first);

	while (i < g->n && g->r[i].first <= last) {
		struct sc_gap_range *r = &g->r[i];
		uint64_t lo = r->first > first ? r->first : first;
		uint64_t hi = r->last < last ? r->last : last;

		if (lo == r->first && hi == r->last) {
			g->given_up += hi - lo + 1;
			gap_remove_at(g, i);
			continue;
		}
		if (lo == r->first) {
			r->first = hi + 1;
		} else if (hi == r->last) {
			r->last = lo - 1;
		} else if (g->n < g->conf.max_ranges) {
			memmove(&g->r[i + 1], &g->r[i],
			    (g->n - i) * sizeof(*g->r));
			g->n++;
			g->r[i].last = lo - 1;
			g->r[i + 1].first = hi + 1;
			g->nhinted += g->r[i].hinted;
		} else {
			i++;        /* cannot split: keep asking for them */
			continue;
		}
		g->given_up += hi - lo + 1;
		i++;
	}
}

void
sc_gap_applied(struct sc_gaps *g, uint64_t applied)
{
	while (g->n > 0 && g->r[0].last <= applied)
		gap_remove_at(g, 0);
	if (g->n > 0 && g->r[0].first <= applied)
		g->r[0].first = applied + 1;
	if (g->next <= applied)
		g->next = applied + 1;
}

static int64_t
gap_backoff(struct sc_gaps *g, uint32_t tries)
{
	int64_t t = gap_interval(g);
	uint32_t i;

	for (i = 1; i < tries && t < g->conf.backoff_max_us; i++)
		t *= 2;
	if (t > g->conf.backoff_max_us && g->conf.backoff_max_us > 0)
		t = g->conf.backoff_max_us;
	return gap_jitter(g, t);
}

uint32_t
sc_gap_due(struct sc_gaps *g, int64_t now, struct sc_gap_ask *out,
    uint32_t max, uint64_t max_span)
{
	uint32_t i, k = 0;
	int64_t next_due = INT64_MAX;

	for (i = 0; i < g->n; i++) {
		struct sc_gap_range *r = &g->r[i];

		if (r->due <= now && k < max) {
			out[k].first = r->first;
			out[k].last = r->last;
			if (max_span > 0 && r->last - r->first >= max_span)
				out[k].last = r->first + max_span - 1;
			k++;
			r->tries++;
			if (r->hinted) {
				r->hinted = 0;
				g->nhinted--;
			}
			r->asked = now;
			r->sampled = 0;
			r->due = now + gap_backoff(g, r->tries);
		}
		if (r->due < next_due)
			next_due = r->due;
	}
	g->next_due = next_due;
	return k;
}

int64_t
sc_gap_next_due(const struct sc_gaps *g)
{
	return g->n ? g->next_due : INT64_MAX;
}

uint64_t
sc_gap_missing(const struct sc_gaps *g)
{
	uint64_t m = 0;
	uint32_t i;

	for (i = 0; i < g->n; i++)
		m += g->r[i].last - g->r[i].first + 1;
	return m;
}

uint64_t
sc_gap_known(const struct sc_gaps *g)
{
	return g->next - 1;
}
