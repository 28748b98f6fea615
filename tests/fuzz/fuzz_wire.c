/*
 * fuzz_wire.c - libFuzzer target for the datagram decoder.
 *
 * `make fuzz` builds it (with every daemon/ source but seqcastd.c) as
 * build-fuzz/fuzz_wire and runs it FUZZ_SECONDS on a scratch copy of
 * tests/fuzz/corpus/wire; `make check` replays that corpus. Longer, after
 * `make fuzz`:
 *   build-fuzz/fuzz_wire -max_total_time=600 fuzz-out/wire \
 *       tests/fuzz/corpus/wire
 *
 * Each input is decoded twice: with the cluster id its own header names
 * (so the cluster check passes and the body gets exercised) and with a
 * fixed one. Whatever is accepted must re-encode, decode again to the
 * same message, and re-encode to the same bytes. SC_REJ_TPL is a crash
 * too: it means the validator let through an image libtpl refused, i.e.
 * the two disagree about the format.
 *
 * To see it fail: in daemon/wire.c's walk_array(), accept an array count
 * >= 0x80000000 unchecked, as libtpl does: the replays of
 * corpus/wire/crash-tpl-huge-count and crash-tpl-negative-count abort.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "seqcast/wire.h"

#define FIXED_CLUSTER 7

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct sc_decoder *dec, *dec2;
static uint8_t enc1[SC_RECV_MAX], enc2[SC_RECV_MAX];

static int
item_equal(const struct sc_item *a, const struct sc_item *b)
{
	return a->id == b->id && a->client == b->client &&
	    a->req == b->req && a->first == b->first && a->last == b->last &&
	    a->status == b->status && a->len == b->len && a->view == b->view &&
	    (a->len == 0 || memcmp(a->value, b->value, a->len) == 0);
}

static int
msg_equal(const struct sc_msg *x, const struct sc_msg *y)
{
	uint32_t i;

	if (x->h.magic != y->h.magic || x->h.version != y->h.version ||
	    x->h.type != y->h.type || x->h.flags != y->h.flags ||
	    x->h.cluster != y->h.cluster || x->h.sender != y->h.sender ||
	    x->h.view != y->h.view || x->h.config != y->h.config ||
	    x->a != y->a || x->b != y->b || x->c != y->c || x->d != y->d ||
	    x->e != y->e || x->count != y->count)
		return 0;
	if ((x->text == NULL) != (y->text == NULL))
		return 0;
	if (x->text != NULL && strcmp(x->text, y->text) != 0)
		return 0;
	for (i = 0; i < x->count; i++)
		if (!item_equal(&x->items[i], &y->items[i]))
			return 0;
	return 1;
}

/* m was accepted: encode, decode, encode again; all must agree. */
static void
roundtrip(const struct sc_msg *m)
{
	struct sc_msg again;
	long n1, n2;

	n1 = sc_encode(m, enc1, sizeof(enc1));
	if (n1 <= 0 || (size_t)n1 != sc_msg_size(m))
		abort();
	if (sc_decode(dec2, enc1, (size_t)n1, m->h.cluster, &again) !=
	    SC_REJ_NONE)
		abort();
	if (!msg_equal(m, &again))
		abort();
	n2 = sc_encode(&again, enc2, sizeof(enc2));
	if (n2 != n1 || memcmp(enc1, enc2, (size_t)n1) != 0)
		abort();
}

static void
decode_as(const uint8_t *data, size_t size, uint32_t cluster)
{
	struct sc_msg m;
	int rc;

	rc = sc_decode(dec, data, size, cluster, &m);
	if (rc == SC_REJ_TPL || rc < 0 || rc >= SC_REJ_COUNT)
		abort();
	if (rc == SC_REJ_NONE)
		roundtrip(&m);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint32_t cluster = 0;

	if (dec == NULL) {
		sc_tpl_hooks_install();
		if ((dec = sc_decoder_new()) == NULL ||
		    (dec2 = sc_decoder_new()) == NULL)
			abort();
	}
	if (size >= 12)
		cluster = (uint32_t)data[8] << 24 | (uint32_t)data[9] << 16 |
		    (uint32_t)data[10] << 8 | data[11];
	decode_as(data, size, cluster);
	decode_as(data, size, FIXED_CLUSTER);
	return 0;
}
