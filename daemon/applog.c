/*
 * applog.c - in-memory applied log with a running digest.
 */
#include <stdlib.h>
#include <string.h>

#include "seqcast/applog.h"
#include "seqcast/bytes.h"

#define DIGEST_LEN 16

int
sc_applog_init(struct sc_applog *l)
{
	memset(l, 0, sizeof(*l));
	if (sodium_init() < 0)
		return -1;
	l->cap = 4096;
	l->rec = malloc(l->cap * sizeof(*l->rec));
	l->arena_cap = 1 << 20;
	l->arena = malloc(l->arena_cap);
	if (l->rec == NULL || l->arena == NULL) {
		sc_applog_free(l);
		return -1;
	}
	crypto_generichash_init(&l->digest, NULL, 0, DIGEST_LEN);
	return 0;
}

void
sc_applog_free(struct sc_applog *l)
{
	free(l->rec);
	free(l->arena);
	l->rec = NULL;
	l->arena = NULL;
	l->count = 0;
}

static int
applog_reserve(struct sc_applog *l, uint32_t len)
{
	if (l->count == l->cap) {
		struct sc_logrec *r = realloc(l->rec, 2 * l->cap * sizeof(*r));

		if (r == NULL)
			return -1;
		l->rec = r;
		l->cap *= 2;
	}
	while (l->arena_len + len > l->arena_cap) {
		uint8_t *a = realloc(l->arena, 2 * l->arena_cap);

		if (a == NULL)
			return -1;
		l->arena = a;
		l->arena_cap *= 2;
	}
	return 0;
}

int
sc_applog_append(struct sc_applog *l, uint64_t id, uint64_t client,
    uint64_t req, const uint8_t *value, uint32_t len)
{
	struct sc_logrec *r;
	uint8_t head[12];

	if (id != l->count + 1)
		return -1;
	if (l->file != NULL)
		goto digest;
	if (applog_reserve(l, len) == -1)
		return -1;
	r = &l->rec[l->count];
	r->client = client;
	r->req = req;
	r->off = l->arena_len;
	r->len = len;
	memcpy(l->arena + l->arena_len, value, len);
	l->arena_len += len;
digest:
	l->count++;
	sc_put_be64(head, id);
	sc_put_be32(head + 8, len);
	crypto_generichash_update(&l->digest, head, sizeof(head));
	crypto_generichash_update(&l->digest, value, len);
	return 0;
}

int
sc_applog_get(const struct sc_applog *l, uint64_t id, struct sc_item *out)
{
	const struct sc_logrec *r;

	if (id == 0 || id > l->count)
		return -1;
	memset(out, 0, sizeof(*out));
	if (l->file != NULL) {
		out->id = id;
		return sc_logfile_get(l->file, id, &out->client, &out->req,
		    &out->value, &out->len);
	}
	r = &l->rec[id - 1];
	out->id = id;
	out->client = r->client;
	out->req = r->req;
	out->len = r->len;
	out->value = l->arena + r->off;
	return 0;
}

void
sc_applog_use_file(struct sc_applog *l, struct sc_logfile *f)
{
	free(l->rec);
	free(l->arena);
	l->rec = NULL;
	l->arena = NULL;
	l->cap = l->arena_cap = l->arena_len = 0;
	l->file = f;
}

void
sc_applog_digest(const struct sc_applog *l, char hex[33])
{
	crypto_generichash_state copy = l->digest;
	uint8_t out[DIGEST_LEN];

	crypto_generichash_final(&copy, out, sizeof(out));
	sodium_bin2hex(hex, 33, out, sizeof(out));
}
