/*
 * query.h - the commands that ask one server one thing: log, stats,
 * wait. Each request is resent with backoff until a reply comes or
 * --timeout passes.
 */
#ifndef SEQCAST_QUERY_H
#define SEQCAST_QUERY_H

#include "cli.h"
#include "conn.h"

/* log: the applied log from --from to --to, as text or JSON lines. */
int query_log(const struct opts *o, struct conn *c);
/* stats: the server's stats JSON, or Prometheus text. */
int query_stats(const struct opts *o, struct conn *c);
/* wait: until the server has applied --applied entries. */
int query_wait(const struct opts *o, struct conn *c);

#endif
