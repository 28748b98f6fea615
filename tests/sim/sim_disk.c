/*
 * sim_disk.c - a server's disk: the bytes of its log file, written with
 * the real record encoder and read back at a restart with the real
 * scanner; what was synced survives a crash, what was not is lost, and
 * the crash may tear the record being written (a prefix of it survives).
 * In a fault window appends and syncs fail with ENOSPC or EIO.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "seqcast/logfile.h"
#include "sim.h"

static int
reserve(struct sim_disk *d, uint64_t more, uint64_t id)
{
	if (d->len + more > d->cap) {
		uint64_t cap = d->cap ? 2 * d->cap : 65536;

		while (cap < d->len + more)
			cap *= 2;
		d->file = realloc(d->file, cap);
		if (d->file == NULL)
			abort();
		d->cap = cap;
	}
	if (id + 1 >= d->offcap) {
		uint64_t cap = d->offcap ? 2 * d->offcap : 1024;

		while (cap <= id + 1)
			cap *= 2;
		d->off = realloc(d->off, cap * sizeof(*d->off));
		if (d->off == NULL)
			abort();
		d->offcap = cap;
	}
	return 0;
}

int
sim_disk_append(struct sim_server *v, const struct sc_item *it)
{
	struct sim_disk *d = &v->disk;

	if (d->failing) {
		d->fails++;
		errno = (v->sim->seed + it->id) % 2 ? ENOSPC : EIO;
		return -1;
	}
	if (it->id != d->nrec + 1) {
		errno = EINVAL;
		return -1;
	}
	reserve(d, SC_LOGREC_HEAD + it->len, it->id);
	d->off[it->id] = d->len;
	d->len += sc_logrec_encode(d->file + d->len, it);
	d->nrec = it->id;
	return 0;
}

int
sim_disk_truncate(struct sim_server *v, uint64_t keep)
{
	struct sim_disk *d = &v->disk;

	if (d->failing) {
		d->fails++;
		errno = EIO;
		return -1;
	}
	if (keep >= d->nrec)
		return 0;
	d->len = d->off[keep + 1];
	if (d->synced > d->len)
		d->synced = d->len;
	if (d->sync_len > d->len)
		d->sync_len = d->len;
	d->nrec = keep;
	return 0;
}

int
sim_disk_read(struct sim_server *v, uint64_t id, struct sc_item *out)
{
	struct sim_disk *d = &v->disk;

	if (id == 0 || id > d->nrec)
		return -1;
	return sc_logrec_decode(d->file + d->off[id], d->len - d->off[id],
	    out);
}

int
sim_disk_save(struct sim_server *v, const struct sc_state *st)
{
	struct sim_disk *d = &v->disk;

	if (d->failing) {
		d->fails++;
		errno = ENOSPC;
		return -1;
	}
	sc_state_encode(d->state, st);
	d->have_state = 1;
	return 0;
}

/* A write: done after a short latency (the scheduler completes it). */
void
sim_disk_sync(struct sim_server *v, uint64_t ticket, int fds)
{
	struct sim_disk *d = &v->disk;

	d->sync_pending = 1;
	d->sync_ticket = ticket;
	d->sync_len = d->len;
	d->sync_fds = fds;
	d->sync_when = v->sim->now + 20 + (int64_t)sim_below(v->sim, 400);
}

/* Power off: what was not synced is lost, the record being written may
 * survive in part. */
void
sim_disk_crash(struct sim_server *v)
{
	struct sim_disk *d = &v->disk;

	if (d->len > d->synced) {
		uint64_t keep = d->synced + sim_below(v->sim,
		    d->len - d->synced + 1);

		if (keep > d->synced && keep < d->len)
			d->tears++;
		d->len = keep;
	}
	d->sync_pending = 0;
	d->failing = 0;
}

static int
load_one(void *ctx, const struct sc_item *it, uint64_t offset)
{
	struct sim_server *v = ctx;

	v->disk.off[it->id] = offset;
	v->disk.nrec = it->id;
	return sc_node_load(v->node, it);
}

/* A restart: the scanner reads the image (cutting a torn tail) and the
 * node gets its records and its state. -1 on corruption. */
int
sim_disk_load(struct sim_server *v)
{
	struct sim_disk *d = &v->disk;
	struct sc_state st;
	uint64_t good, bad;
	const char *why;

	memset(&st, 0, sizeof(st));
	reserve(d, 0, d->nrec + 1);
	d->nrec = 0;
	good = sc_logfile_scan(d->file, d->len, load_one, v, &bad, &why);
	if (bad != UINT64_MAX) {
		sim_fail(v->sim, "server %d: its log is corrupt at %llu: %s",
		    v->idx, (unsigned long long)bad, why);
		return -1;
	}
	d->len = d->synced = good;
	if (d->have_state && sc_state_decode(d->state, SC_STATE_LEN, &st) ==
	    -1) {
		sim_fail(v->sim, "server %d: damaged state", v->idx);
		return -1;
	}
	sc_node_load_state(v->node, &st, d->have_state);
	return 0;
}

/* The highest id whose record is wholly in the synced part. */
uint64_t
sim_disk_durable_id(const struct sim_server *v)
{
	const struct sim_disk *d = &v->disk;
	uint64_t lo = 0, hi = d->nrec;

	while (lo < hi) {
		uint64_t mid = (lo + hi + 1) / 2;
		const uint8_t *h = d->file + d->off[mid];
		uint32_t len = (uint32_t)h[4] | (uint32_t)h[5] << 8 |
		    (uint32_t)h[6] << 16 | (uint32_t)h[7] << 24;

		if (d->off[mid] + SC_LOGREC_HEAD + len <= d->synced)
			lo = mid;
		else
			hi = mid - 1;
	}
	return lo;
}

void
sim_disk_free(struct sim_disk *d)
{
	free(d->file);
	free(d->off);
	memset(d, 0, sizeof(*d));
}
