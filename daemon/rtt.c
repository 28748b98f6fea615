/*
 * rtt.c - the RFC 6298 round-trip estimator.
 */
#include "seqcast/rtt.h"

void
sc_rtt_sample(struct sc_rtt *r, int64_t rtt)
{
	int64_t d;

	if (rtt < 1)
		rtt = 1;
	if (r->srtt == 0) {
		r->srtt = rtt;
		r->rttvar = rtt / 2;
		return;
	}
	d = r->srtt > rtt ? r->srtt - rtt : rtt - r->srtt;
	r->rttvar = (3 * r->rttvar + d) / 4;
	r->srtt = (7 * r->srtt + rtt) / 8;
}

int64_t
sc_rtt_rto(const struct sc_rtt *r)
{
	return r->srtt == 0 ? 0 : r->srtt + 4 * r->rttvar;
}
