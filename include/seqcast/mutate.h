/*
 * mutate.h - rules broken on purpose, to show that the simulator catches
 * each mistake (tests/sim, `make check`). Compiled in only with
 * -DSC_MUTATIONS (the build/mut library the mutation runs link); in every
 * other build SC_MUTATED() is the constant 0 and the compiler drops the
 * broken branch.
 */
#ifndef SEQCAST_MUTATE_H
#define SEQCAST_MUTATE_H

enum sc_mutation {
	SC_MUT_NONE = 0,
	SC_MUT_APPLY_EARLY,      /* apply an entry before the gap before it
	                            is filled */
	SC_MUT_REUSE_ID,         /* a restarted server trusts its own log and
	                            stamps again as the coordinator it was */
	SC_MUT_ACK_UNDURABLE,    /* announce entries before they are durable
	                            (fsync = each) */
	SC_MUT_DROP_NACK_RANGE,  /* a NACK loses its last range */
	SC_MUT_DISK_IGNORE,      /* a failed write goes on as if it worked */
	SC_MUT_STAMPED_UNCHECKED,/* ack a STAMPED id without checking that
	                            the entry there is this request */
	SC_MUT_TAIL_BY_HEARTBEAT,/* only a heartbeat reveals a lost tail (a
	                            STAMPED id does not, the coordinator
	                            pushes nothing to a member that misses
	                            its heartbeats) */
	SC_MUT_ACK_NO_MAJORITY,  /* commit what the coordinator alone holds */
	SC_MUT_SKIP_COMPLETION,  /* a new coordinator skips completing its
	                            log from the best of the majority */
	SC_MUT_OLD_VIEW,         /* accept entries stamped in an older view */
	SC_MUT_AMP_UNBOUNDED,    /* answer clients whatever their address
	                            proved (no amplification budget) */
	SC_MUT_FRESH_DVC,        /* count a DO_VIEW from a server that lost
	                            its log like any other */
	SC_MUT_COUNT
};

#ifdef SC_MUTATIONS
extern int sc_mutation;
#define SC_MUTATED(m) (sc_mutation == (m))
#else
#define SC_MUTATED(m) 0
#endif

/* Its name ("apply-early", ...), NULL if out of range. */
const char *sc_mutation_name(int m);
/* The rule named `name`, -1 if none is. */
int sc_mutation_by_name(const char *name);

#endif
