/*
 * mutate.c - names of the rules the simulator can break on purpose.
 */
#include <stddef.h>
#include <string.h>

#include "seqcast/mutate.h"

#ifdef SC_MUTATIONS
int sc_mutation;
#endif

static const char *const names[SC_MUT_COUNT] = {
	[SC_MUT_NONE] = "none",
	[SC_MUT_APPLY_EARLY] = "apply-early",
	[SC_MUT_REUSE_ID] = "reuse-id",
	[SC_MUT_ACK_UNDURABLE] = "ack-undurable",
	[SC_MUT_DROP_NACK_RANGE] = "drop-nack-range",
	[SC_MUT_DISK_IGNORE] = "disk-ignore",
	[SC_MUT_STAMPED_UNCHECKED] = "stamped-unchecked",
	[SC_MUT_TAIL_BY_HEARTBEAT] = "tail-by-heartbeat",
	[SC_MUT_ACK_NO_MAJORITY] = "ack-no-majority",
	[SC_MUT_SKIP_COMPLETION] = "skip-completion",
	[SC_MUT_OLD_VIEW] = "old-view",
	[SC_MUT_AMP_UNBOUNDED] = "amp-unbounded",
	[SC_MUT_FRESH_DVC] = "fresh-dvc",
};

const char *
sc_mutation_name(int m)
{
	return m >= 0 && m < SC_MUT_COUNT ? names[m] : NULL;
}

int
sc_mutation_by_name(const char *name)
{
	for (int m = 1; m < SC_MUT_COUNT; m++)
		if (strcmp(names[m], name) == 0)
			return m;
	return -1;
}
