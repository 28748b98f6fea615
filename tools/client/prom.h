/*
 * prom.h - `seqcast stats --prometheus`: a server's stats JSON in the
 * Prometheus text exposition format (version 0.0.4), ready for
 * node_exporter's textfile collector.
 *
 * Names follow Prometheus' conventions: a seqcast_ prefix, _total on
 * counters, base units (_bytes, _seconds: a *_us field is converted),
 * and labels where the stats hold a map: seqcast_datagrams_received_total
 * {type="data"}. Every sample carries server="ID", so the files of
 * several servers on one host can be collected side by side; the role is
 * seqcast_server_info{role="..."} 1. A field this converter does not know
 * yet (a newer server) still comes out, as an untyped metric named after
 * its path; strings other than the role are left out (a digest or a path
 * as a label would make a new series at every change).
 */
#ifndef SEQCAST_PROM_H
#define SEQCAST_PROM_H

#include <stddef.h>
#include <stdio.h>

/* Convert the stats JSON text and write it to f: 0, or -1 with the reason
 * in err (not JSON, not an object). */
int prom_write(FILE *f, const char *json, char *err, size_t errlen);

#endif
