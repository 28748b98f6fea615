/*
 * wire_decode.c - decoding datagrams (wire.h): the header, then the tpl
 * image read in one pass, every read bounds-checked, into the decoder's
 * items (see wire.c's opening comment for the format and for why libtpl
 * is not called here).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "seqcast/bytes.h"
#include "seqcast/wire.h"
#include "wire_priv.h"

struct sc_decoder {
	struct sc_item items[SC_ITEMS_MAX];
	char text[SC_TEXT_MAX + 1];	/* STATS_REPLY text, NUL-terminated */
};

/* A read position in an image: what is left of it, and its byte order. */
struct cursor {
	const uint8_t *p;
	size_t left;
	int big;		/* image integers are big-endian */
	int nulls;		/* image uses tpl >= 1.3 string lengths */
	int too_long;		/* some value exceeds SC_VALUE_MAX */
};

/* ---- header ---- */

static void
header_get(const uint8_t *p, struct sc_header *h)
{
	h->magic = sc_get_be32(p);
	h->version = p[4];
	h->type = p[5];
	h->flags = (uint16_t)(p[6] << 8 | p[7]);
	h->cluster = sc_get_be32(p + 8);
	h->sender = sc_get_be32(p + 12);
	h->view = sc_get_be32(p + 16);
	h->config = sc_get_be32(p + 20);
	h->body_len = sc_get_be32(p + 24);
}

/* Checks that need no context: size, magic, version, type. */
static int
header_check(const void *buf, size_t len, struct sc_header *h)
{
	if (len < SC_HEADER_LEN)
		return SC_REJ_SHORT;
	header_get(buf, h);
	if (h->magic != SC_MAGIC)
		return SC_REJ_MAGIC;
	if (h->version != SC_VERSION)
		return SC_REJ_VERSION;
	if (!wire_type_valid(h->type))
		return SC_REJ_TYPE;
	return SC_REJ_NONE;
}

/* body_len must cover the rest exactly; no sender produces more than
 * SC_RECV_MAX, and no receive buffer holds it. */
static int
length_check(size_t len, const struct sc_header *h)
{
	if (len > SC_RECV_MAX || h->body_len != len - SC_HEADER_LEN)
		return SC_REJ_LENGTH;
	return SC_REJ_NONE;
}

int
sc_decode_header(const void *buf, size_t len, struct sc_header *h)
{
	struct sc_header tmp;
	int rc;

	if (h == NULL)
		h = &tmp;
	if ((rc = header_check(buf, len, h)) != SC_REJ_NONE)
		return rc;
	return length_check(len, h);
}

/* ---- reading an image ---- */

/* n bytes, if that many are left: *at points at them. */
static int
take(struct cursor *c, size_t n, const uint8_t **at)
{
	if (n > c->left)
		return -1;
	*at = c->p;
	c->p += n;
	c->left -= n;
	return 0;
}

/* Unchecked reads: the caller has made sure the bytes are there. */
static uint32_t
read32(struct cursor *c)
{
	uint32_t v = c->big ? sc_get_be32(c->p) : sc_get_le32(c->p);

	c->p += 4;
	c->left -= 4;
	return v;
}

static uint64_t
read64(struct cursor *c)
{
	uint64_t v = c->big ? sc_get_be64(c->p) : sc_get_le64(c->p);

	c->p += 8;
	c->left -= 8;
	return v;
}

/*
 * "tpl", the flags (nothing but byte order and null strings), the image
 * size (all of it, exactly), then the format and its NUL, exactly: that
 * also rules out '#' lengths and any other layout.
 */
static int
get_preamble(struct cursor *c, const struct shape_desc *s)
{
	const uint8_t *q;
	uint32_t size;

	if (take(c, TPL_PREAMBLE, &q) == -1 || memcmp(q, "tpl", 3) != 0)
		return -1;
	if (q[3] & ~(TPL_FLAG_BIG | TPL_FLAG_NULLS))
		return -1;
	c->big = (q[3] & TPL_FLAG_BIG) != 0;
	c->nulls = (q[3] & TPL_FLAG_NULLS) != 0;
	size = c->big ? sc_get_be32(q + 4) : sc_get_le32(q + 4);
	if (size != c->left + TPL_PREAMBLE)
		return -1;
	if (take(c, s->fmt_size, &q) == -1 ||
	    memcmp(q, s->fmt, s->fmt_size) != 0)
		return -1;
	return 0;
}

/* B: the length word (already known to be there), then that many bytes,
 * left where they are. A value too long is noted, not refused: the rest
 * of the image may still be malformed, which takes precedence. */
static int
get_value(struct cursor *c, struct sc_item *it)
{
	uint32_t n = read32(c);

	if (take(c, n, &it->value) == -1)
		return -1;
	it->len = n;
	if (n > SC_VALUE_MAX)
		c->too_long = 1;
	return 0;
}

/*
 * s: the length word, then the bytes, copied into the decoder with a NUL.
 * With the null-strings flag the word is length + 1 and 0 means NULL
 * (read as ""). Without it (tpl < 1.3 images) the word is the length, but
 * libtpl 1.6.1 drops that flag after tpl_load() and its tpl_unpack() would
 * cut the last byte off: such images are refused, as libtpl reads them
 * wrong. A NUL inside is refused too (libtpl would truncate there).
 */
static int
get_text(struct sc_decoder *d, struct cursor *c)
{
	const uint8_t *q;
	uint32_t n;

	if (!c->nulls || take(c, 4, &q) == -1)
		return -1;
	n = c->big ? sc_get_be32(q) : sc_get_le32(q);
	n = n > 0 ? n - 1 : 0;
	if (n > SC_TEXT_MAX || take(c, n, &q) == -1)
		return -1;
	if (memchr(q, '\0', n) != NULL)
		return -1;
	memcpy(d->text, q, n);
	d->text[n] = '\0';
	return 0;
}

/* One element of the array into it: its fixed part is checked at once,
 * its value (if any) on its own. view: the entries' view (SH_ENTRY). */
static int
get_item(struct cursor *c, int sh, uint32_t view, struct sc_item *it)
{
	if (c->left < wire_shapes[sh].elem_min)
		return -1;
	switch (sh) {
	case SH_REQ:
		*it = (struct sc_item){ .client = read64(c) };
		it->req = read64(c);
		return get_value(c, it);
	case SH_ENTRY:
		/* Every entry of a message was stamped in its view. */
		*it = (struct sc_item){ .id = read64(c), .view = view };
		it->client = read64(c);
		it->req = read64(c);
		return get_value(c, it);
	case SH_ACK:
		*it = (struct sc_item){ .client = read64(c) };
		it->req = read64(c);
		it->id = read64(c);
		it->status = (int32_t)read32(c);
		return 0;
	default:	/* SH_RANGE, SH_VIEW */
		*it = (struct sc_item){ .first = read64(c) };
		it->last = read64(c);
		return 0;
	}
}

/*
 * A(...): the count, then the elements. libtpl 1.6.1 trusts the count
 * (test_libtpl_trusts_counts); here it must fit the decoder's items and
 * the bytes left must be able to hold that many elements, before any is
 * read.
 */
static int
get_items(struct sc_decoder *d, struct cursor *c, int sh, uint32_t view,
    uint32_t *count)
{
	const struct shape_desc *s = &wire_shapes[sh];
	const uint8_t *q;
	uint32_t n, i;

	if (take(c, 4, &q) == -1)
		return -1;
	n = c->big ? sc_get_be32(q) : sc_get_le32(q);
	if (n > SC_ITEMS_MAX || n > c->left / s->elem_min)
		return -1;
	for (i = 0; i < n; i++)
		if (get_item(c, sh, view, &d->items[i]) == -1)
			return -1;
	*count = n;
	return 0;
}

/* The image img[0..len) of shape sh, read into out (whose header is
 * filled in): SC_REJ_NONE, SC_REJ_LAYOUT or SC_REJ_VALUE. */
static int
get_image(struct sc_decoder *d, int sh, const uint8_t *img, size_t len,
    struct sc_msg *out)
{
	const struct shape_desc *s = &wire_shapes[sh];
	struct cursor c = { .p = img, .left = len };
	uint64_t h[5] = { 0 };
	uint32_t count = 0;
	unsigned i;

	if (get_preamble(&c, s) == -1 || c.left < 8u * s->nhead)
		return SC_REJ_LAYOUT;
	for (i = 0; i < s->nhead; i++)
		h[i] = read64(&c);
	if (s->text && get_text(d, &c) == -1)
		return SC_REJ_LAYOUT;
	if (s->elem_min != 0 &&
	    get_items(d, &c, sh, (uint32_t)h[2], &count) == -1)
		return SC_REJ_LAYOUT;
	if (c.left != 0)
		return SC_REJ_LAYOUT;
	if (c.too_long)
		return SC_REJ_VALUE;
	out->a = h[0];
	out->b = h[1];
	out->c = h[2];
	out->d = h[3];
	out->e = h[4];
	out->count = count;
	out->text = s->text ? d->text : NULL;
	return SC_REJ_NONE;
}

/* ---- decoding ---- */

struct sc_decoder *
sc_decoder_new(void)
{
	return calloc(1, sizeof(struct sc_decoder));
}

void
sc_decoder_free(struct sc_decoder *d)
{
	free(d);
}

int
sc_decode(struct sc_decoder *d, const void *buf, size_t len,
    uint32_t cluster, struct sc_msg *out)
{
	int rc;

	memset(out, 0, sizeof(*out));
	out->items = d->items;
	if ((rc = header_check(buf, len, &out->h)) != SC_REJ_NONE)
		return rc;
	if (out->h.cluster != cluster)
		return SC_REJ_CLUSTER;
	if ((rc = length_check(len, &out->h)) != SC_REJ_NONE)
		return rc;
	/* Nothing half-decoded escapes: out is filled only on success. */
	return get_image(d, wire_type_shape[out->h.type],
	    (const uint8_t *)buf + SC_HEADER_LEN, out->h.body_len, out);
}
