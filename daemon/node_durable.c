/*
 * node_durable.c - the node's log file: replay at start, appends, the
 * fsync policy, and the rate limit on catch-up served from the log.
 *
 * Who writes what, when:
 * - A member appends an entry when it applies it.
 * - The coordinator appends an entry when it stamps it, before its DATA
 *   can leave: its log file is its record of every id it ever gave, so a
 *   restarted coordinator resumes at the next id and can never give one
 *   twice (no separate counter file). It still *applies* (counts, acks,
 *   shows in `seqcast log`) only when its own DATA comes back.
 * - Before any DATA or ACK datagram leaves, the records it depends on are
 *   written to the kernel (so a crashed process loses nothing it told
 *   anyone about) and, with fsync = each, fdatasync'ed: one fdatasync per
 *   batch, not per entry (group commit).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seqcast/log.h"
#include "node_priv.h"

static int
replay_entry(void *ctx, uint64_t id, uint64_t client, uint64_t req,
    const uint8_t *value, uint32_t len, uint64_t offset)
{
	struct sc_node *n = ctx;

	(void)offset;
	if (sc_applog_append(&n->log, id, client, req, value, len) == -1)
		return -1;
	if (n->coordinator)
		sc_seq_remember(&n->seq, client, req, id);
	n->recovered++;
	return 0;
}

int
sc_node_open_log(struct sc_node *n, char *err, size_t errlen)
{
	const char *dir = n->conf->servers[n->id].data_dir;
	uint64_t last;
	int rc;

	err[0] = '\0';
	n->file.fd = -1;
	if (dir[0] == '\0')
		return 0;
	/* Entries read back count as applied; their values stay on disk. */
	sc_applog_use_file(&n->log, &n->file);
	n->outq_buf = malloc((size_t)SC_OUTQ_MAX * SC_DATAGRAM_MAX);
	if (n->outq_buf == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	rc = sc_logfile_open(&n->file, dir, n->id, replay_entry, n, err,
	    errlen);
	if (rc == -1) {
		n->log.file = NULL;
		return -1;
	}
	last = n->log.count;
	/* Resume after the last entry: the gap tracker, and at the
	 * coordinator the counter and the (empty) retransmit store. */
	sc_gap_applied(&n->gaps, last);
	if (n->coordinator) {
		n->seq.next = last + 1;
		sc_retx_free(&n->retx);
		if (sc_retx_init(&n->retx, n->conf->store_bytes,
		    n->conf->nservers, last + 1) == -1) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
	}
	return rc;
}

void
node_persist(struct sc_node *n, uint64_t id, uint64_t client, uint64_t req,
    const uint8_t *value, uint32_t len)
{
	if (n->file.fd == -1)
		return;
	if (sc_logfile_append(&n->file, id, client, req, value, len) == -1)
		node_warn(n, n->now, "%s: cannot append entry %llu",
		    n->file.path, (unsigned long long)id);
}

/* Called before a DATA or ACK datagram leaves. */
void
node_make_durable(struct sc_node *n)
{
	int rc;

	if (n->file.fd == -1)
		return;
	if (n->conf->fsync == SC_FSYNC_EACH)
		rc = sc_logfile_sync(&n->file);
	else
		rc = sc_logfile_write(&n->file);
	if (rc == -1)
		node_warn(n, n->now, "%s: cannot write the log: %m",
		    n->file.path);
}

void
node_durable_tick(struct sc_node *n, int64_t now)
{
	if (n->file.fd == -1 || n->conf->fsync != SC_FSYNC_INTERVAL ||
	    now < n->next_sync)
		return;
	if (sc_logfile_sync(&n->file) == -1)
		node_warn(n, now, "%s: fdatasync failed: %m", n->file.path);
	n->next_sync = now + ms_to_us(n->conf->fsync_interval_ms);
}

int64_t
node_durable_deadline(const struct sc_node *n)
{
	if (n->file.fd == -1 || n->conf->fsync != SC_FSYNC_INTERVAL ||
	    !sc_logfile_dirty(&n->file))
		return INT64_MAX;
	return n->next_sync;
}

/* May the coordinator send one more entry from its log (not its store)
 * to a server catching up? A token bucket at catchup_rate entries/s with
 * a tenth of a second of burst, so catch-up never starves the live
 * stream. */
int
node_catchup_allow(struct sc_node *n, int64_t now)
{
	double rate = n->conf->catchup_rate, burst = rate / 10;

	if (rate == 0)
		return 1;
	if (burst < 64)
		burst = 64;
	return node_bucket_take(&n->catchup_tokens, &n->catchup_last, now,
	    rate, burst);
}
