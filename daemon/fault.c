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
#include "seqcast/wire.h"

#include <string.h>

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* xorshift64*; the state is never 0. */
static uint64_t next(uint64_t *state)
{
	uint64_t x = *state;

	if (x == 0)
		x = 0x853c49e6748fea9bull;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545f4914f6cdd1dull;
}

double sc_fault_uniform(uint64_t *state)
{
	return (double)(next(state) >> 11) * 0x1.0p-53;
}

/* Lemire's multiply-shift with rejection: exactly uniform. */
uint64_t sc_rand_below(uint64_t *state, uint64_t n)
{
	unsigned __int128 m;
	uint64_t lo;

	if (n == 0)
		return 0;
	m = (unsigned __int128)next(state) * n;
	lo = (uint64_t)m;
	if (lo < n) {
		uint64_t t = -n % n;
		while (lo < t) {
			m = (unsigned __int128)next(state) * n;
			lo = (uint64_t)m;
		}
	}
	return (uint64_t)(m >> 64);
}

void sc_fault_init(struct sc_fault *f, const struct sc_fault_conf *c,
    uint32_t server_id)
{
	uint64_t s, id = server_id;

	memset(f, 0, sizeof *f);
	if (c)
		f->conf = *c;
	s = f->conf.seed;
	s = splitmix64(&s) ^ splitmix64(&id);
	f->rng = splitmix64(&s);
	if (f->rng == 0)
		f->rng = 0x853c49e6748fea9bull;
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

	u = sc_fault_uniform(&f->rng);
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
