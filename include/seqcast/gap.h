/*
 * gap.h - the gap tracker and NACK planner of a receiver.
 *
 * It keeps the ranges of ids that the server knows exist but has not
 * received, and when to ask for each. A gap opens when an entry arrives
 * beyond the highest known id (k+2 while expecting k+1), or when a
 * heartbeat announces a head the server has not reached (a lost tail).
 * Each range is first asked for after a random delay in [0, delay_max]
 * (so n receivers missing the same datagram do not all NACK at once and a
 * retransmission multicast for one can serve the rest), then again with
 * exponential backoff capped at backoff_max, jittered by +-25%. The
 * repeat interval starts at retry_us and then follows the measured time
 * from a NACK to its first answer (srtt + 4 x deviation, as TCP's timer).
 * The coordinator answers NACKs in the order they come: when an answer to
 * a NACK arrives while a range asked for in an earlier NACK is still
 * missing, that earlier answer (or NACK) was lost, and the range is asked
 * for again at once instead of after its timer.
 *
 * Pure: time is passed in (microseconds), randomness comes from a seed.
 */
#ifndef SEQCAST_GAP_H
#define SEQCAST_GAP_H

#include <stdint.h>

#include "seqcast/rtt.h"

struct sc_gap_range {
	uint64_t first, last;  /* inclusive */
	int64_t due;           /* when to (re)ask, microseconds */
	int64_t asked;         /* when it was last asked for */
	uint32_t tries;        /* NACKs sent for it so far */
	uint32_t sampled;      /* its answer was timed already */
	uint32_t hinted;       /* opened by sc_gap_hint, not yet asked */
};

struct sc_gap_conf {
	int64_t delay_max_us;   /* random delay before the first NACK */
	int64_t retry_us;       /* first repeat interval until measured */
	int64_t retry_min_us;   /* the measured one's floor */
	int64_t backoff_max_us; /* repeat interval cap */
	uint32_t max_ranges;    /* table bound */
	uint64_t seed;
};

struct sc_gaps {
	struct sc_gap_conf conf;
	struct sc_gap_range *r; /* sorted by id, disjoint */
	uint32_t n;
	uint64_t next;          /* lowest id beyond everything known */
	int64_t next_due;       /* lower bound of every range's due */
	uint64_t rng;
	uint64_t opened;        /* gaps seen */
	uint64_t suppressed;    /* ranges filled before their first NACK */
	uint64_t given_up;      /* ids dropped because the store had lost them */
	struct sc_rtt repair;   /* NACK-to-repair time, smoothed (rtt.h) */
	int64_t hurried;        /* NACK time whose answer last hurried others */
	uint64_t hurries;       /* ranges asked again early (answer lost) */
	uint64_t rtt_samples;
	uint32_t nhinted;       /* ranges with hinted set */
	uint64_t passed;        /* hinted ranges found lost by sc_gap_passed */
};

/* One range to put in a NACK. */
struct sc_gap_ask { uint64_t first, last; };

int sc_gap_init(struct sc_gaps *g, const struct sc_gap_conf *c,
    uint64_t applied);
void sc_gap_free(struct sc_gaps *g);
/* A new entry with this id arrived. */
void sc_gap_seen(struct sc_gaps *g, uint64_t id, int64_t now);
/* Ids up to head exist (heartbeat, DATA head). */
void sc_gap_head(struct sc_gaps *g, uint64_t head, int64_t now);
/* The same, learnt from a datagram that may overtake the DATA carrying
 * those ids (a retransmission comes on another socket): ask for them only
 * after the repair interval, so what is merely on its way is not asked
 * for. */
void sc_gap_hint(struct sc_gaps *g, uint64_t head, int64_t now);
/* The in-order stream (multicast DATA, sent in id order) has delivered
 * id: a hinted id below it that is still missing was not on its way but
 * lost, so it is asked for after the usual short delay instead of the
 * repair interval. */
void sc_gap_passed(struct sc_gaps *g, uint64_t id, int64_t now);
/* Everything up to applied is done (no longer missing). */
void sc_gap_applied(struct sc_gaps *g, uint64_t applied);
/* Stop asking for [first, last] (the coordinator no longer has it). */
void sc_gap_forget(struct sc_gaps *g, uint64_t first, uint64_t last);
/* Ranges due at now, at most max, each rescheduled with backoff. Ranges
 * longer than max_span ids are cut to their first max_span. */
uint32_t sc_gap_due(struct sc_gaps *g, int64_t now, struct sc_gap_ask *out,
    uint32_t max, uint64_t max_span);
/* Earliest time a range may be due (INT64_MAX if none). */
int64_t sc_gap_next_due(const struct sc_gaps *g);
/* Ids currently missing. */
uint64_t sc_gap_missing(const struct sc_gaps *g);
/* Highest id known to exist. */
uint64_t sc_gap_known(const struct sc_gaps *g);

#endif
