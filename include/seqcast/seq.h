/*
 * seq.h - the sequencer: the coordinator's id counter and its memory of
 * which (client id, request number) already has an id.
 *
 * Atomic by construction: one event loop owns it, so two requests can never
 * get the same id. A repeated request (a client's retry, a re-forward)
 * gets the id it already has, never a second entry. The memory holds the
 * dedup_max most recent requests (FIFO): a retry older than that many newer
 * requests would get a new id; clients give up long before.
 */
#ifndef SEQCAST_SEQ_H
#define SEQCAST_SEQ_H

#include <stdint.h>

#include "seqcast/table.h"

enum sc_seq_result { SC_SEQ_NEW = 0, SC_SEQ_REPEAT = 1 };

struct sc_seq_key { uint64_t client, req, id; };

struct sc_seq {
	uint64_t next;             /* the id the next new request gets */
	struct sc_table dedup;     /* (client, req) -> id */
	struct sc_seq_key *fifo;   /* eviction order, a ring of dedup_max */
	uint32_t fifo_head;        /* oldest */
	uint32_t fifo_len;
	uint32_t cap;
	uint64_t evicted;          /* dedup memories forgotten */
};

int sc_seq_init(struct sc_seq *s, uint32_t dedup_max, uint64_t first_id);
void sc_seq_free(struct sc_seq *s);
/* Stamp a request: *id is its id, new or the one it already had. */
enum sc_seq_result sc_seq_stamp(struct sc_seq *s, uint64_t client,
    uint64_t req, uint64_t *id);
/* Remember that (client, req) has id, without moving the counter (used
 * when a restarted coordinator replays its log). */
void sc_seq_remember(struct sc_seq *s, uint64_t client, uint64_t req,
    uint64_t id);
/* The id (client, req) has, without stamping: 1 and *id, or 0. */
int sc_seq_find(const struct sc_seq *s, uint64_t client, uint64_t req,
    uint64_t *id);
/* Forget (client, req) if it has this id (the entry was cut from the
 * log: a view change, a failed write). */
void sc_seq_forget(struct sc_seq *s, uint64_t client, uint64_t req,
    uint64_t id);
/* Highest id given so far (0 if none). */
uint64_t sc_seq_highest(const struct sc_seq *s);

#endif
