/*
 * rtt.h - a round-trip time estimator, as TCP's retransmission timer
 * (RFC 6298, Jacobson/Karels): a smoothed round trip and its mean
 * deviation, from which a retransmission timeout follows. The tree's one
 * estimator (the client's resend timer, a server's NACK repair timer).
 *
 *   first sample R:  srtt = R, rttvar = R / 2
 *   then:            rttvar = 3/4 rttvar + 1/4 |srtt - R|
 *                    srtt   = 7/8 srtt   + 1/8 R
 *   timeout:         srtt + 4 rttvar (callers apply their own floor/cap)
 *
 * Feed it only unambiguous samples (Karn's rule: the answer to something
 * sent more than once may belong to any of the copies). Integer
 * microseconds; pure.
 */
#ifndef SEQCAST_RTT_H
#define SEQCAST_RTT_H

#include <stdint.h>

struct sc_rtt {
	int64_t srtt;    /* smoothed round trip (us); 0 until a sample */
	int64_t rttvar;  /* its mean deviation (us) */
};

/* One measured round trip (us); below 1 counts as 1, so that srtt stays
 * above 0 once there is a sample. */
void sc_rtt_sample(struct sc_rtt *r, int64_t rtt);
/* srtt + 4 rttvar (us), or 0 before the first sample. */
int64_t sc_rtt_rto(const struct sc_rtt *r);

#endif
