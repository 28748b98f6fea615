/*
 * amp.c - the anti-amplification budget: per address, verified or a
 * credit of three times what it sent.
 */
#include <string.h>

#include "seqcast/amp.h"

_Static_assert((SC_AMP_SETS & (SC_AMP_SETS - 1)) == 0, "sets: power of 2");
_Static_assert(SC_AMP_CREDIT_MAX <= UINT32_MAX, "credit fits 32 bits");

void
sc_amp_init(struct sc_amp *a, uint64_t salt)
{
	memset(a, 0, sizeof(*a));
	a->salt = salt;
}

static struct sc_amp_slot *
set_of(const struct sc_amp *a, const struct sockaddr_in *sa)
{
	uint64_t h = ((uint64_t)sa->sin_addr.s_addr << 16 | sa->sin_port) ^
	    a->salt;

	/* splitmix64's finaliser: every input bit moves every output bit */
	h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ULL;
	h = (h ^ (h >> 27)) * 0x94d049bb133111ebULL;
	h ^= h >> 31;
	return (struct sc_amp_slot *)&a->slot[(h & (SC_AMP_SETS - 1)) *
	    SC_AMP_WAYS];
}

static int
is(const struct sc_amp_slot *s, const struct sockaddr_in *sa)
{
	return s->used && s->addr == sa->sin_addr.s_addr &&
	    s->port == sa->sin_port;
}

static struct sc_amp_slot *
find(const struct sc_amp *a, const struct sockaddr_in *sa)
{
	struct sc_amp_slot *set = set_of(a, sa);

	for (int w = 0; w < SC_AMP_WAYS; w++)
		if (is(&set[w], sa))
			return &set[w];
	return NULL;
}

/* The slot for sa, taken if need be: a free way, else the one heard
 * from longest ago among the unverified, else among all. */
static struct sc_amp_slot *
take(struct sc_amp *a, const struct sockaddr_in *sa, int64_t now)
{
	struct sc_amp_slot *set = set_of(a, sa), *victim = NULL, *s;
	int victim_verified = 1;

	if ((s = find(a, sa)) != NULL)
		return s;
	for (int w = 0; w < SC_AMP_WAYS; w++) {
		int verified;

		s = &set[w];
		if (!s->used) {
			victim = s;
			break;
		}
		verified = s->verified_until > now;
		if (victim == NULL || (victim_verified && !verified) ||
		    (verified == victim_verified && s->last < victim->last)) {
			victim = s;
			victim_verified = verified;
		}
	}
	if (victim->used)
		a->evicted++;
	memset(victim, 0, sizeof(*victim));
	victim->used = 1;
	victim->addr = sa->sin_addr.s_addr;
	victim->port = sa->sin_port;
	return victim;
}

void
sc_amp_received(struct sc_amp *a, const struct sockaddr_in *from,
    size_t len, int verified, int64_t now)
{
	struct sc_amp_slot *s = take(a, from, now);
	uint64_t credit = (uint64_t)s->credit + (uint64_t)SC_AMP_FACTOR * len;

	s->credit = credit > SC_AMP_CREDIT_MAX ? SC_AMP_CREDIT_MAX :
	    (uint32_t)credit;
	s->verified_until = verified ? now + SC_AMP_VERIFIED_US : 0;
	s->last = now;
}

int
sc_amp_verified(const struct sc_amp *a, const struct sockaddr_in *to,
    int64_t now)
{
	const struct sc_amp_slot *s = find(a, to);

	return s != NULL && s->verified_until > now;
}

size_t
sc_amp_room(const struct sc_amp *a, const struct sockaddr_in *to,
    int64_t now)
{
	const struct sc_amp_slot *s = find(a, to);

	if (s == NULL)
		return 0;
	return s->verified_until > now ? SIZE_MAX : s->credit;
}

int
sc_amp_spend(struct sc_amp *a, const struct sockaddr_in *to, size_t len,
    int64_t now)
{
	struct sc_amp_slot *s = find(a, to);

	if (s != NULL && s->verified_until > now)
		return 1;
	if (s == NULL || len > s->credit) {
		a->capped++;
		a->capped_bytes += len;
		return 0;
	}
	s->credit -= (uint32_t)len;
	return 1;
}
