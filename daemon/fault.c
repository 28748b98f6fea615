/*
 * fault.c - seeded fault injection (see fault.h).
 *
 * The generator is xorshift64* seeded through splitmix64. Its seed mixes
 * the configured seed with the server id, so that servers sharing one
 * cluster-wide fault_seed still make independent decisions; a seed of 0
 * is just another seed. Same (seed, server id, sequence of calls) -> same
 * decisions.
 *
 * A direction whose four rates are all zero draws no number, so traffic in
 * that direction does not shift the decisions of the other one.
 */
#include "seqcast/fault.h"
#include "seqcast/rng.h"
#include "seqcast/wire.h"

#include <string.h>

void sc_fault_init(struct sc_fault *f, const struct sc_fault_conf *c,
    uint32_t server_id)
{
	memset(f, 0, sizeof *f);
	if (c)
		f->conf = *c;
	f->rng = sc_rng_seed(f->conf.seed, server_id);
}

int sc_fault_active(const struct sc_fault_conf *c)
{
	if (c == NULL)
		return 0;
	for (int d = 0; d < 2; d++) {
		const struct sc_fault_rates *r = &c->dir[d];
		if (r->drop > 0 || r->dup > 0 || r->reorder > 0 ||
		    r->delay > 0)
			return 1;
	}
	return c->drop_data_above != 0;
}

enum sc_fault_action sc_fault_decide(struct sc_fault *f, enum sc_dir dir,
    int type, uint64_t first_id)
{
	const struct sc_fault_rates *r;
	double u, t;
	int d;

	if (dir != SC_IN && dir != SC_OUT)
		return SC_FAULT_PASS;
	d = (int)dir;
	if (f->conf.drop_data_above != 0 && dir == SC_IN &&
	    type == SC_DATA && first_id > f->conf.drop_data_above) {
		f->n.dropped[d]++;
		return SC_FAULT_DROP;
	}
	if (f->conf.types != 0 && (type < 0 || type >= 32 ||
	    !(f->conf.types & (1u << type))))
		return SC_FAULT_PASS;
	r = &f->conf.dir[d];
	if (!(r->drop > 0 || r->dup > 0 || r->reorder > 0 || r->delay > 0))
		return SC_FAULT_PASS;

	u = sc_rng_uniform(&f->rng);
	t = r->drop;
	if (u < t) {
		f->n.dropped[d]++;
		return SC_FAULT_DROP;
	}
	t += r->dup;
	if (u < t) {
		f->n.duplicated[d]++;
		return SC_FAULT_DUP;
	}
	t += r->reorder;
	if (u < t) {
		f->n.reordered[d]++;
		return SC_FAULT_HOLD;
	}
	t += r->delay;
	if (u < t) {
		f->n.delayed[d]++;
		return SC_FAULT_DELAY;
	}
	return SC_FAULT_PASS;
}
