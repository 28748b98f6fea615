/*
 * seq.c - id stamping with duplicate-request memory.
 */
#include <stdlib.h>

#include "seqcast/seq.h"

int
sc_seq_init(struct sc_seq *s, uint32_t dedup_max, uint64_t first_id)
{
	s->next = first_id ? first_id : 1;
	s->fifo = calloc(dedup_max, sizeof(*s->fifo));
	if (s->fifo == NULL || sc_table_init(&s->dedup, dedup_max) == -1) {
		free(s->fifo);
		s->fifo = NULL;
		return -1;
	}
	s->fifo_head = 0;
	s->fifo_len = 0;
	s->cap = dedup_max;
	s->evicted = 0;
	return 0;
}

void
sc_seq_free(struct sc_seq *s)
{
	sc_table_free(&s->dedup);
	free(s->fifo);
	s->fifo = NULL;
}

static void
seq_forget_oldest(struct sc_seq *s)
{
	struct sc_seq_key *k = &s->fifo[s->fifo_head];
	uint64_t id;

	/* Only if it still names this id: a key forgotten and stamped
	 * again has a newer copy further on. */
	if (sc_table_get(&s->dedup, k->client, k->req, &id) && id == k->id)
		sc_table_del(&s->dedup, k->client, k->req);
	s->fifo_head = (s->fifo_head + 1) % s->cap;
	s->fifo_len--;
	s->evicted++;
}

static void
seq_keep(struct sc_seq *s, uint64_t client, uint64_t req, uint64_t id)
{
	struct sc_seq_key *k;

	if (s->fifo_len == s->cap)
		seq_forget_oldest(s);
	/* Cannot fail: there is room. */
	(void)sc_table_put(&s->dedup, client, req, id);
	k = &s->fifo[(s->fifo_head + s->fifo_len) % s->cap];
	k->client = client;
	k->req = req;
	k->id = id;
	s->fifo_len++;
}

void
sc_seq_remember(struct sc_seq *s, uint64_t client, uint64_t req, uint64_t id)
{
	if (!sc_table_get(&s->dedup, client, req, NULL))
		seq_keep(s, client, req, id);
}

enum sc_seq_result
sc_seq_stamp(struct sc_seq *s, uint64_t client, uint64_t req, uint64_t *id)
{
	if (sc_table_get(&s->dedup, client, req, id))
		return SC_SEQ_REPEAT;
	*id = s->next++;
	seq_keep(s, client, req, *id);
	return SC_SEQ_NEW;
}

int
sc_seq_find(const struct sc_seq *s, uint64_t client, uint64_t req,
    uint64_t *id)
{
	return sc_table_get(&s->dedup, client, req, id);
}

void
sc_seq_forget(struct sc_seq *s, uint64_t client, uint64_t req, uint64_t id)
{
	uint64_t have;

	if (sc_table_get(&s->dedup, client, req, &have) && have == id)
		sc_table_del(&s->dedup, client, req);
}

uint64_t
sc_seq_highest(const struct sc_seq *s)
{
	return s->next - 1;
}
