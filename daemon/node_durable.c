/*
 * node_durable.c - the log file, through the I/O interface: appends,
 * cuts, the writes that make them durable (group commit: one write, and
 * with fsync = each one fdatasync, per pass), the state file, and a disk
 * that fails.
 *
 * Nothing is announced before it is durable: the coordinator's DATA
 * waits in the outbox for the write that holds its entries, a member
 * reports (and so counts towards a majority) only what is durable, and
 * nothing is applied beyond it. Without a data_dir "durable" means "in
 * this process's memory", and a restarted server trusts nothing it had.
 *
 * A failed append or write (ENOSPC, EIO) stops this server from taking
 * entries: what was not yet durable is cut from memory and from the file
 * at the end of the pass, so that nothing unwritten is ever announced and
 * no id it cut is announced with another value unless a coordinator
 * stamps it anew; a coordinator falls silent (no stamps, no heartbeats),
 * so the others elect one whose disk works. Every second (then less
 * often) it tries again; once a write works it is a member again and
 * catches up.
 */
#include <errno.h>
#include <string.h>

#include "node_rooms.h"

#define RETRY_MAX_US 8000000

static int
read_back(void *ctx, uint64_t id, struct sc_item *out)
{
	struct sc_node *n = ctx;

	return n->io.read(n->io.ctx, id, out);
}

void
node_disk_init(struct sc_node *n)
{
	n->dk.on = n->io.append != NULL && n->io.sync != NULL &&
	    n->io.read != NULL && n->io.truncate != NULL;
	if (n->dk.on) {
		n->sm.log.read = read_back;
		n->sm.log.read_ctx = n;
	}
}

int
node_disk_ok(const struct sc_node *n)
{
	return !n->dk.failed;
}

static void
fail(struct sc_node *n, int err, const char *what)
{
	if (SC_MUTATED(SC_MUT_DISK_IGNORE))
		return;
	if (!n->dk.failed) {
		n->dk.failures++;
		n->dk.retry_at = n->now + NODE_DISK_RETRY_US;
		n->dk.file_keep = n->sm.durable;
		node_say(n, SC_LOG_ERROR, "cannot %s the log: %s: taking no "
		    "entries until it works again (retrying every second); "
		    "nothing after entry %llu is announced", what,
		    strerror(err), (unsigned long long)n->sm.durable);
	}
	n->dk.failed = 1;
	n->dk.err = err;
}

int
node_disk_append(struct sc_node *n, const struct sc_item *it)
{
	if (!n->dk.on) {
		node_stream_durable(n, it->id);
		return 0;
	}
	if (n->dk.failed)
		return -1;
	if (n->io.append(n->io.ctx, it) == -1) {
		fail(n, errno, "append to");
		if (!SC_MUTATED(SC_MUT_DISK_IGNORE))
			return -1;
	}
	n->dk.written = it->id;
	n->dk.dirty = 1;
	if (SC_MUTATED(SC_MUT_ACK_UNDURABLE))
		node_stream_durable(n, it->id);
	return 0;
}

void
node_disk_cut(struct sc_node *n, uint64_t keep)
{
	if (!n->dk.on)
		return;
	n->dk.written = min_u64(n->dk.written, keep);
	n->dk.ticket_op = min_u64(n->dk.ticket_op, keep);
	if (n->dk.failed) {
		n->dk.file_keep = min_u64(n->dk.file_keep, keep);
		return;
	}
	if (n->io.truncate(n->io.ctx, keep) == -1) {
		fail(n, errno, "cut");
		n->dk.file_keep = min_u64(n->dk.file_keep, keep);
		return;
	}
	n->dk.dirty = 1;
}

/* End of a pass: after a failure, cut back to what is durable; else ask
 * for the write of what this pass appended. */
void
node_disk_flush(struct sc_node *n)
{
	int fds;

	if (!n->dk.on)
		return;
	if (n->dk.failed) {
		if (n->sm.log.op > n->sm.durable)
			node_stream_cut(n, n->sm.durable);
		return;
	}
	if (!n->dk.dirty || n->dk.in_flight)
		return;
	fds = n->conf->fsync == SC_FSYNC_EACH ||
	    (n->conf->fsync == SC_FSYNC_INTERVAL && n->now >= n->dk.next_fsync);
	if (fds && n->conf->fsync == SC_FSYNC_INTERVAL)
		n->dk.next_fsync = n->now +
		    ms_to_us(n->conf->fsync_interval_ms);
	n->dk.ticket++;
	n->dk.ticket_op = n->dk.written;
	n->dk.in_flight = 1;
	n->dk.in_flight_fds = fds;
	n->dk.dirty = 0;
	n->io.sync(n->io.ctx, n->dk.ticket, fds);
}

void
node_disk_synced(struct sc_node *n, uint64_t ticket, int ok, int err)
{
	if (!n->dk.on || ticket != n->dk.ticket || !n->dk.in_flight)
		return;
	n->dk.in_flight = 0;
	if (!ok && !SC_MUTATED(SC_MUT_DISK_IGNORE)) {
		fail(n, err, "write");
		return;
	}
	n->dk.unsynced = !n->dk.in_flight_fds;
	node_stream_durable(n, min_u64(n->dk.ticket_op, n->dk.written));
}

void
node_disk_tick(struct sc_node *n)
{
	if (!n->dk.on)
		return;
	if (n->dk.failed && n->now >= n->dk.retry_at) {
		if (n->io.truncate(n->io.ctx, n->dk.file_keep) == 0) {
			n->dk.failed = 0;
			n->dk.written = n->dk.file_keep;
			n->dk.dirty = 1;
			/* The view first: nothing happens in it before. */
			node_view_save(n);
			if (!n->dk.failed) {
				node_say(n, SC_LOG_INFO, "the log takes writes "
				    "again (entries up to %llu kept)",
				    (unsigned long long)n->dk.file_keep);
				return;
			}
		}
		n->dk.retry_at = n->now + NODE_DISK_RETRY_US *
		    (int64_t)(n->dk.failures < 4 ? n->dk.failures : 8);
		if (n->dk.retry_at - n->now > RETRY_MAX_US)
			n->dk.retry_at = n->now + RETRY_MAX_US;
	}
	/* fsync = interval: an fdatasync when due, even in a quiet spell. */
	if (n->conf->fsync == SC_FSYNC_INTERVAL && !n->dk.failed &&
	    n->dk.unsynced && !n->dk.in_flight && n->now >= n->dk.next_fsync)
		n->dk.dirty = 1;
}

int64_t
node_disk_deadline(const struct sc_node *n)
{
	if (!n->dk.on)
		return INT64_MAX;
	if (n->dk.failed)
		return n->dk.retry_at;
	if (n->conf->fsync == SC_FSYNC_INTERVAL && n->dk.unsynced &&
	    !n->dk.in_flight)
		return n->dk.next_fsync;
	return INT64_MAX;
}

/* The state file holds the view this server promised (it may never act
 * in an older one again, even after a restart): a server that cannot
 * save it takes part in nothing (no report, no DO_VIEW, no stamp) until
 * it can, as with any failed write. */
int
node_disk_save(struct sc_node *n, const struct sc_state *st)
{
	if (!n->dk.on || n->io.save_state == NULL)
		return 0;
	if (n->dk.failed)
		return -1;
	if (n->io.save_state(n->io.ctx, st) == -1) {
		fail(n, errno, "save the state file of");
		return -1;
	}
	n->dk.saves++;
	return 0;
}

int
sc_node_load(struct sc_node *n, const struct sc_item *entry)
{
	if (sc_entries_append(&n->sm.log, entry->id, entry->view,
	    entry->client, entry->req, entry->value, entry->len) == -1)
		return -1;
	n->dk.written = entry->id;
	n->dk.loaded++;
	n->sm.durable = entry->id;
	/* What is on disk may leave memory at once. */
	if (n->dk.on && entry->id % SC_ENTRY_BLOCK == 0)
		sc_entries_evict(&n->sm.log, entry->id, NODE_CACHE_BYTES);
	return 0;
}

void
sc_node_load_state(struct sc_node *n, const struct sc_state *st,
    int have_state)
{
	n->vw.claim = UINT64_MAX;
	if (have_state) {
		n->vw.view = st->view;
		n->vw.saved_view = st->view;
		n->vw.normal_view = st->normal_view;
		n->vw.claim = st->claim;
		n->sm.commit = min_u64(st->commit, n->sm.log.op);
		sc_entries_apply(&n->sm.log, n->sm.commit);
	}
	n->vw.fresh = !have_state && n->sm.log.op == 0;
	/* A log synced before every report, with the state beside it and at
	 * least the entries the state says were committed (not wiped), is
	 * what this server promised: it may take part at once. Anything
	 * else may have lost what it acknowledged: it learns first. */
	n->vw.trusted = have_state && n->dk.on &&
	    n->conf->fsync == SC_FSYNC_EACH && n->sm.log.op >= st->commit;
	n->hdr.view = n->vw.view;
}
