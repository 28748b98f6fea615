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
 * fixed one. Under ASan (make fuzz) no read may leave the input: the
 * decoded values point into it. Whatever is accepted must re-encode,
 * decode again to the same message, and re-encode to the same bytes; an
 * accepted input written as libtpl writes it on this host (its byte
 * order, the null-strings flag only with a text, no NULL string) must be
 * its own re-encoding, byte for byte. SC_REJ_TPL, which the decoder no
 * longer returns, is a crash too.
 *
 * To see it fail: in daemon/wire_decode.c's get_value(), take a value's
 * bytes without checking its length against the bytes left (it->value =
 * c->p, then c->p and c->left moved on by n): in under a second the
 * fuzzer finds an input it reads past the end of (ASan).
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

/* Whether data, accepted as m, is written as libtpl writes it on this
 * host: the flags byte it sets (this host's byte order, the null-strings
 * flag only with a text) and no NULL string (length word 0; sc_encode
 * sends "" as 1). sc_encode must then write the same bytes. */
static int
canonical(const uint8_t *data, const struct sc_msg *m)
{
	/* STATS_REPLY "UUs": the text's length word after two scalars */
	const size_t word = SC_HEADER_LEN + 8 + 4 + 16;
	const uint16_t one = 1;
	uint8_t flags = *(const uint8_t *)&one == 0 ? 0x01 : 0;
	uint32_t w;

	if (m->h.type == SC_STATS_REPLY)
		flags |= 0x02;
	if (data[SC_HEADER_LEN + 3] != flags)
		return 0;
	if (m->h.type != SC_STATS_REPLY)
		return 1;
	memcpy(&w, data + word, 4);	/* accepted: it is there, in this
					   host's order */
	return w != 0;
}

/* m was accepted from data: encode, decode, encode again; all must agree,
 * and with data itself if it was canonical. */
static void
roundtrip(const struct sc_msg *m, const uint8_t *data, size_t size)
{
	struct sc_msg again;
	long n1, n2;

	n1 = sc_encode(m, enc1, sizeof(enc1));
	if (n1 <= 0 || (size_t)n1 != sc_msg_size(m))
		abort();
	if (canonical(data, m) &&
	    ((size_t)n1 != size || memcmp(data, enc1, size) != 0))
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
		roundtrip(&m, data, size);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint32_t cluster = 0;

	if (dec == NULL) {
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
