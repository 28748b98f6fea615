/*
 * adder.h - `seqcast add`: the pipeline.
 *
 * Up to --window requests are outstanding at once, packed as many to an
 * ADD datagram as fit. Request numbers are 1..N (entry k of the input is
 * request k). ACKs arriving out of order wait in a ring indexed by request
 * number until the entries before them are acknowledged, so everything
 * is printed in input order; the ring starts at 4 windows and doubles
 * while the oldest request lags, so one slow request does not stall the
 * rest. What to send again and when is the resend policy's (resend.h),
 * which server to talk to the server choice's (choice.h), the pace of
 * --rate a token bucket's (bucket.h): this file carries their decisions
 * out.
 */
#ifndef SEQCAST_ADDER_H
#define SEQCAST_ADDER_H

#include <stdint.h>

#include "cli.h"
#include "conn.h"

/* Run add against servers[0..n): RC_OK or RC_FAIL (reported). */
int adder_run(const struct opts *o, const struct conn_server *servers,
    uint32_t n);

#endif
