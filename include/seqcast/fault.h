/*
 * fault.h - seeded fault injection, inside the daemon.
 *
 * Each datagram a server receives (direction in) or sends (out) may be
 * dropped, duplicated, reordered (held back and released after the next
 * datagram in that direction) or delayed, each with its own probability,
 * restricted to a set of message types. A seed makes a run replay: the same
 * seed and the same inputs give the same decisions.
 *
 * Pure: no clock reads, no sockets. The caller passes time in and gets
 * back what to deliver and when.
 */
#ifndef SEQCAST_FAULT_H
#define SEQCAST_FAULT_H

#include <stdint.h>
#include <stddef.h>

enum sc_dir { SC_IN = 0, SC_OUT = 1 };

struct sc_fault_rates {
	double drop;      /* probability a datagram is dropped */
	double dup;       /* ... delivered twice */
	double reorder;   /* ... held and released after the next one */
	double delay;     /* ... delayed by delay_ms */
};

struct sc_fault_conf {
	struct sc_fault_rates dir[2]; /* [SC_IN], [SC_OUT] */
	uint32_t types;               /* bit (1 << type); 0 = all types */
	uint32_t delay_ms;            /* delay for delayed datagrams */
	uint64_t seed;                /* 0 = derived from the server id */
	uint64_t drop_data_above;     /* drop incoming DATA whose first id is
	                                 above this (tail-loss experiments);
	                                 0 = off */
};

/* What to do with one datagram. */
enum sc_fault_action {
	SC_FAULT_PASS = 0,  /* deliver now */
	SC_FAULT_DROP,      /* discard */
	SC_FAULT_DUP,       /* deliver now, twice */
	SC_FAULT_HOLD,      /* keep; deliver after the next one passes */
	SC_FAULT_DELAY,     /* keep; deliver at now + delay */
};

struct sc_fault_counts {
	uint64_t dropped[2], duplicated[2], reordered[2], delayed[2];
};

struct sc_fault {
	struct sc_fault_conf conf;
	uint64_t rng;                 /* xorshift state */
	struct sc_fault_counts n;
};

void sc_fault_init(struct sc_fault *f, const struct sc_fault_conf *c,
    uint32_t server_id);
int sc_fault_active(const struct sc_fault_conf *c);
/* Decide for one datagram of message type `type` (first id for DATA in
 * first_id, else 0). Counts what it decides. */
enum sc_fault_action sc_fault_decide(struct sc_fault *f, enum sc_dir dir,
    int type, uint64_t first_id);

#endif
