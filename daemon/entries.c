/*
 * entries.c - a server's copy of the replicated log: records in blocks,
 * values in chunks, view segments, the apply point and its digest.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "seqcast/bytes.h"
#include "seqcast/entries.h"

#define DIGEST_LEN 16
#define STATE(e) ((crypto_generichash_state *)(void *)(e)->digest)

_Static_assert(sizeof(crypto_generichash_state) <=
    sizeof(((struct sc_entries *)0)->digest), "digest state size");
_Static_assert(_Alignof(crypto_generichash_state) <= 64, "digest state alignment");

int
sc_entries_init(struct sc_entries *e, sc_entries_read_fn read,
    void *read_ctx)
{
	memset(e, 0, sizeof(*e));
	if (sodium_init() < 0)
		return -1;
	e->low = 1;
	e->read = read;
	e->read_ctx = read_ctx;
	crypto_generichash_init(STATE(e), NULL, 0, DIGEST_LEN);
	return 0;
}

void
sc_entries_free(struct sc_entries *e)
{
	for (uint64_t b = 0; b < e->blocks_cap; b++)
		free(e->blocks[b]);
	for (uint64_t c = 0; c < e->nchunks; c++)
		free(e->chunks[c]);
	free(e->blocks);
	free(e->chunks);
	free(e->chunk_last);
	free(e->seg);
	memset(e, 0, sizeof(*e));
}

static void *
grow(void *p, uint64_t *cap, uint64_t need, size_t elem)
{
	uint64_t n = *cap ? *cap : 16;
	void *q;

	while (n < need)
		n *= 2;
	if (n == *cap)
		return p;
	q = realloc(p, n * elem);
	if (q == NULL)
		return NULL;
	memset((char *)q + *cap * elem, 0, (n - *cap) * elem);
	*cap = n;
	return q;
}

static struct sc_entry_rec *
rec_slot(struct sc_entries *e, uint64_t id, int create)
{
	uint64_t b = (id - 1) / SC_ENTRY_BLOCK;

	if (b >= e->blocks_cap) {
		void *p;

		if (!create)
			return NULL;
		p = grow(e->blocks, &e->blocks_cap, b + 1, sizeof(*e->blocks));
		if (p == NULL)
			return NULL;
		e->blocks = p;
	}
	if (e->blocks[b] == NULL) {
		if (!create)
			return NULL;
		e->blocks[b] = malloc(SC_ENTRY_BLOCK * sizeof(**e->blocks));
		if (e->blocks[b] == NULL)
			return NULL;
	}
	return &e->blocks[b][(id - 1) % SC_ENTRY_BLOCK];
}

/* Room for len value bytes in the last chunk (a new one if needed). */
static int
value_room(struct sc_entries *e, uint32_t len)
{
	uint64_t cap = e->chunks_cap;
	void *p;

	if (e->nchunks > e->first_chunk && e->fill + len <= SC_VALUE_CHUNK)
		return 0;
	if (e->nchunks == e->chunks_cap) {
		p = grow(e->chunks, &cap, e->nchunks + 1, sizeof(*e->chunks));
		if (p == NULL)
			return -1;
		e->chunks = p;
		cap = e->chunks_cap;
		p = grow(e->chunk_last, &cap, e->nchunks + 1,
		    sizeof(*e->chunk_last));
		if (p == NULL)
			return -1;
		e->chunk_last = p;
		e->chunks_cap = cap;
	}
	e->chunks[e->nchunks] = malloc(SC_VALUE_CHUNK);
	if (e->chunks[e->nchunks] == NULL)
		return -1;
	e->chunk_last[e->nchunks] = e->op;
	e->nchunks++;
	e->fill = 0;
	e->mem_bytes += SC_VALUE_CHUNK;
	return 0;
}

static int
segment_note(struct sc_entries *e, uint64_t id, uint32_t view)
{
	if (e->nseg > 0 && e->seg[e->nseg - 1].view == view)
		return 0;
	if (e->nseg > 0 && e->seg[e->nseg - 1].view > view)
		return -1;
	if (e->nseg == e->seg_cap) {
		uint64_t cap = e->seg_cap;
		void *p = grow(e->seg, &cap, e->nseg + 1, sizeof(*e->seg));

		if (p == NULL)
			return -1;
		e->seg = p;
		e->seg_cap = (uint32_t)cap;
	}
	e->seg[e->nseg].first = id;
	e->seg[e->nseg].view = view;
	e->nseg++;
	return 0;
}

int
sc_entries_append(struct sc_entries *e, uint64_t id, uint32_t view,
    uint64_t client, uint64_t req, const uint8_t *value, uint32_t len)
{
	struct sc_entry_rec *r;

	if (id != e->op + 1 || len > SC_VALUE_MAX ||
	    (e->nseg > 0 && e->seg[e->nseg - 1].view > view))
		return -1;
	r = rec_slot(e, id, 1);
	if (r == NULL || value_room(e, len) == -1 ||
	    segment_note(e, id, view) == -1)
		return -1;
	r->client = client;
	r->req = req;
	r->chunk = (uint32_t)(e->nchunks - 1);
	r->off = e->fill;
	r->len = len;
	if (len > 0)
		memcpy(e->chunks[r->chunk] + r->off, value, len);
	e->fill += len;
	e->chunk_last[r->chunk] = id;
	e->op = id;
	return 0;
}

int
sc_entries_get(struct sc_entries *e, uint64_t id, struct sc_item *out)
{
	const struct sc_entry_rec *r;

	if (id == 0 || id > e->op)
		return -1;
	memset(out, 0, sizeof(*out));
	if (id < e->low) {
		if (e->read == NULL || e->read(e->read_ctx, id, out) == -1)
			return -1;
		out->id = id;
		return 0;
	}
	r = rec_slot(e, id, 0);
	if (r == NULL)
		return -1;
	out->id = id;
	out->client = r->client;
	out->req = r->req;
	out->len = r->len;
	out->value = e->chunks[r->chunk] + r->off;
	return 0;
}

/* Free the value chunks from c on. */
static void
chunks_drop(struct sc_entries *e, uint64_t c)
{
	while (e->nchunks > c) {
		e->nchunks--;
		free(e->chunks[e->nchunks]);
		e->chunks[e->nchunks] = NULL;
		e->mem_bytes -= SC_VALUE_CHUNK;
	}
}

int
sc_entries_truncate(struct sc_entries *e, uint64_t keep)
{
	const struct sc_entry_rec *r;

	if (keep < e->applied || keep > e->op)
		return -1;
	if (keep == e->op)
		return 0;
	while (e->nseg > 0 && e->seg[e->nseg - 1].first > keep)
		e->nseg--;
	if (keep + 1 < e->low) {
		/* Everything from keep + 1 on had left memory (it is in the
		 * file): nothing to free but the chunks still held. */
		chunks_drop(e, e->first_chunk);
		e->fill = SC_VALUE_CHUNK;   /* the next append opens one */
		e->low = keep + 1;
		e->op = keep;
		return 0;
	}
	r = rec_slot(e, keep + 1, 0);
	if (r == NULL)
		return -1;
	chunks_drop(e, (uint64_t)r->chunk + 1);
	e->fill = r->off;
	if (e->chunk_last[r->chunk] > keep)
		e->chunk_last[r->chunk] = keep;
	e->op = keep;
	return 0;
}

uint64_t
sc_entries_apply(struct sc_entries *e, uint64_t upto)
{
	uint8_t head[12];
	struct sc_item it;

	if (upto > e->op)
		upto = e->op;
	while (e->applied < upto) {
		if (sc_entries_get(e, e->applied + 1, &it) == -1)
			break;
		sc_put_be64(head, it.id);
		sc_put_be32(head + 8, it.len);
		crypto_generichash_update(STATE(e), head, sizeof(head));
		crypto_generichash_update(STATE(e), it.value, it.len);
		e->applied++;
	}
	return e->applied;
}

void
sc_entries_evict(struct sc_entries *e, uint64_t upto, uint64_t cap)
{
	if (e->read == NULL)
		return;
	/* Never the last chunk: appends go there. */
	while (e->mem_bytes > cap && e->first_chunk + 1 < e->nchunks &&
	    e->chunk_last[e->first_chunk] <= upto) {
		e->low = e->chunk_last[e->first_chunk] + 1;
		free(e->chunks[e->first_chunk]);
		e->chunks[e->first_chunk] = NULL;
		e->first_chunk++;
		e->mem_bytes -= SC_VALUE_CHUNK;
	}
	/* Records of blocks wholly below low go too. */
	while (e->first_block < e->blocks_cap &&
	    (e->first_block + 1) * SC_ENTRY_BLOCK < e->low) {
		free(e->blocks[e->first_block]);
		e->blocks[e->first_block++] = NULL;
	}
}

uint32_t
sc_entries_view_at(const struct sc_entries *e, uint64_t id)
{
	uint32_t lo = 0, hi = e->nseg;

	if (id == 0 || id > e->op || e->nseg == 0)
		return 0;
	/* The last segment whose first id is <= id. */
	while (hi - lo > 1) {
		uint32_t mid = (lo + hi) / 2;

		if (e->seg[mid].first <= id)
			lo = mid;
		else
			hi = mid;
	}
	return e->seg[lo].view;
}

uint32_t
sc_entries_segments(const struct sc_entries *e, struct sc_segment *out,
    uint32_t max)
{
	uint32_t n = e->nseg < max ? e->nseg : max;

	if (n > 0)      /* seg is NULL while the log is empty */
		memcpy(out, e->seg + (e->nseg - n), n * sizeof(*out));
	return n;
}

/* The segment of seg[0..n) holding id (id >= seg[0].first). */
static uint32_t
seg_index(const struct sc_segment *seg, uint32_t n, uint64_t id)
{
	uint32_t i = n - 1;

	while (i > 0 && seg[i].first > id)
		i--;
	return i;
}

uint64_t
sc_entries_match(const struct sc_entries *e, const struct sc_segment *seg,
    uint32_t n, uint64_t head, uint64_t floor)
{
	uint64_t k = e->op < head ? e->op : head;

	while (k > 0) {
		uint32_t mine, theirs, i;

		if (n == 0 || k < seg[0].first)
			return floor < k ? floor : k;
		i = seg_index(seg, n, k);
		theirs = seg[i].view;
		mine = sc_entries_view_at(e, k);
		if (mine == theirs)
			return k;
		/* Both views are constant back to the start of the segment
		 * that holds k on the side with the newer view. */
		if (mine > theirs) {
			uint32_t j = seg_index(e->seg, e->nseg, k);

			k = e->seg[j].first - 1;
		} else {
			k = seg[i].first - 1;
		}
	}
	return 0;
}

void
sc_entries_digest(const struct sc_entries *e, char hex[33])
{
	crypto_generichash_state copy;
	uint8_t out[DIGEST_LEN];

	memcpy(&copy, e->digest, sizeof(copy));
	crypto_generichash_final(&copy, out, sizeof(out));
	sodium_bin2hex(hex, 33, out, sizeof(out));
}
