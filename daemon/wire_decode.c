/*
 * wire_decode.c - decoding datagrams (wire.h): the header, then the tpl
 * image checked field by field before libtpl sees it (see wire.c's
 * opening comment for why), then unpacked into items and an arena.
 */
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <tpl.h>

#include "seqcast/bytes.h"
#include "seqcast/wire.h"
#include "wire_priv.h"

struct sc_decoder {
	struct sc_item items[SC_ITEMS_MAX];
	uint8_t arena[SC_RECV_MAX];	/* values and text of one datagram */
	size_t used;			/* bytes of arena in use */
	tpl_node *map[SH_COUNT];	/* built on first use, then reused */
	struct tpl_vars v;
};

/* What validate() learned about an image. */
struct layout {
	uint32_t count;		/* array elements */
	size_t value_bytes;	/* sum of B lengths */
	size_t text_len;	/* STATS_REPLY text, without NUL */
	int nullstrings;	/* image uses tpl >= 1.3 string lengths */
	int too_long;		/* some value exceeds SC_VALUE_MAX */
};

/* A bounds-checked read position in an image. */
struct cursor {
	const uint8_t *p;
	size_t left;
	int big;		/* image integers are big-endian */
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

/* body_len must cover the rest exactly; larger than SC_RECV_MAX would
 * not fit the decoder's arena, and no sender produces it. */
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

/* ---- tpl maps ---- */

/* The inverse, except the value, which the caller copies. */
static void
vars_to_item(int sh, const struct tpl_vars *v, struct sc_item *it)
{
	memset(it, 0, sizeof(*it));
	switch (sh) {
	case SH_REQ:
		it->client = v->f0;
		it->req = v->f1;
		break;
	case SH_ENTRY:
		it->id = v->f0;
		it->client = v->f1;
		it->req = v->f2;
		/* Every entry of a message was stamped in its view. */
		it->view = (uint32_t)v->h[2];
		break;
	case SH_ACK:
		it->client = v->f0;
		it->req = v->f1;
		it->id = v->f2;
		it->status = v->status;
		break;
	case SH_RANGE:
	case SH_VIEW:
		it->first = v->f0;
		it->last = v->f1;
		break;
	}
}

/* ---- validation ---- */

static int
take(struct cursor *c, size_t n, const uint8_t **at)
{
	if (n > c->left)
		return -1;
	if (at != NULL)
		*at = c->p;
	c->p += n;
	c->left -= n;
	return 0;
}

static int
take32(struct cursor *c, uint32_t *v)
{
	const uint8_t *q;

	if (take(c, 4, &q) == -1)
		return -1;
	*v = c->big ? sc_get_be32(q) : sc_get_le32(q);
	return 0;
}

/* B: length word, then that many bytes. */
static int
walk_bin(struct cursor *c, struct layout *lo)
{
	uint32_t n;

	if (take32(c, &n) == -1 || take(c, n, NULL) == -1)
		return -1;
	if (n > SC_VALUE_MAX)
		lo->too_long = 1;
	lo->value_bytes += n;
	return 0;
}

/*
 * s: length word, then the bytes. With the null-strings flag the word is
 * length + 1 and 0 means NULL. Without it (tpl < 1.3 images) the word is
 * the length, but tpl_load() in 1.6.1 drops that flag after checking the
 * image, so tpl_unpack() would cut the last byte off: refuse such images.
 * The text must be NUL-free: tpl would silently truncate at a NUL.
 */
static int
walk_str(struct cursor *c, struct layout *lo)
{
	const uint8_t *q;
	uint32_t n;

	if (!lo->nullstrings || take32(c, &n) == -1)
		return -1;
	n = n > 0 ? n - 1 : 0;
	if (n > SC_TEXT_MAX || take(c, n, &q) == -1)
		return -1;
	if (memchr(q, '\0', n) != NULL)
		return -1;
	lo->text_len = n;
	return 0;
}

static int
walk_fields(struct cursor *c, const char *f, struct layout *lo)
{
	for (; *f != '\0'; f++) {
		switch (*f) {
		case 'U':
		case 'i':
			if (take(c, wire_field_size(*f), NULL) == -1)
				return -1;
			break;
		case 'B':
			if (walk_bin(c, lo) == -1)
				return -1;
			break;
		case 's':
			if (walk_str(c, lo) == -1)
				return -1;
			break;
		default:
			return -1;
		}
	}
	return 0;
}

/* A(...): a count no larger than the bytes left could hold, then the
 * elements. The count bound is what libtpl 1.6.1 lacks. */
static int
walk_array(struct cursor *c, const struct shape_desc *s, struct layout *lo)
{
	uint32_t n, i;

	if (take32(c, &n) == -1)
		return -1;
	if (n > SC_ITEMS_MAX || n > c->left / s->elem_min)
		return -1;
	for (i = 0; i < n; i++)
		if (walk_fields(c, s->elem, lo) == -1)
			return -1;
	lo->count = n;
	return 0;
}

/*
 * Walk img[0..len) against the shape's format before libtpl sees it.
 * Accepts a subset of what tpl_load() accepts, and only images whose
 * every read tpl_unpack() will make lies inside img.
 */
static int
validate(const struct shape_desc *s, const uint8_t *img, size_t len,
    struct layout *lo)
{
	struct cursor c = { img, len, 0 };
	const uint8_t *q;
	size_t flen = strlen(s->fmt) + 1;
	uint32_t size;

	memset(lo, 0, sizeof(*lo));
	if (take(&c, 4, &q) == -1 || memcmp(q, "tpl", 3) != 0)
		return SC_REJ_LAYOUT;
	if (q[3] & ~(TPL_FLAG_BIG | TPL_FLAG_NULLS))
		return SC_REJ_LAYOUT;
	c.big = (q[3] & TPL_FLAG_BIG) != 0;
	lo->nullstrings = (q[3] & TPL_FLAG_NULLS) != 0;
	if (take32(&c, &size) == -1 || size != len)
		return SC_REJ_LAYOUT;
	/* The format and its NUL, exactly: also rules out '#' lengths. */
	if (take(&c, flen, &q) == -1 || memcmp(q, s->fmt, flen) != 0)
		return SC_REJ_LAYOUT;
	if (walk_fields(&c, s->head, lo) == -1)
		return SC_REJ_LAYOUT;
	if (s->elem != NULL && walk_array(&c, s, lo) == -1)
		return SC_REJ_LAYOUT;
	if (c.left != 0)
		return SC_REJ_LAYOUT;
	return lo->too_long ? SC_REJ_VALUE : SC_REJ_NONE;
}

/* ---- decoding ---- */

struct sc_decoder *
sc_decoder_new(void)
{
	struct sc_decoder *d;

	sc_tpl_hooks_install();
	if ((d = calloc(1, sizeof(*d))) == NULL)
		return NULL;
	return d;
}

void
sc_decoder_free(struct sc_decoder *d)
{
	int i;

	if (d == NULL)
		return;
	for (i = 0; i < SH_COUNT; i++)
		if (d->map[i] != NULL)
			tpl_free(d->map[i]);
	free(d);
}

/* Buffers tpl_unpack() allocated and we have not freed yet. */
static void
release_unpacked(struct sc_decoder *d)
{
	if (d->v.bin.addr != NULL)
		tpl_hook.free(d->v.bin.addr);
	d->v.bin.addr = NULL;
	d->v.bin.sz = 0;
	if (d->v.text != NULL)
		tpl_hook.free(d->v.text);
	d->v.text = NULL;
}

static uint8_t *
arena_copy(struct sc_decoder *d, const void *p, size_t n)
{
	uint8_t *at;

	if (n > sizeof(d->arena) - d->used)
		return NULL;
	at = d->arena + d->used;
	if (n > 0)
		memcpy(at, p, n);
	d->used += n;
	return at;
}

/* Move the value tpl_unpack() malloc'd into the arena. */
static int
take_value(struct sc_decoder *d, struct sc_item *it)
{
	uint32_t n = d->v.bin.sz;

	if (n > SC_VALUE_MAX || (n > 0 && d->v.bin.addr == NULL))
		return -1;
	it->value = arena_copy(d, d->v.bin.addr, n);
	it->len = n;
	release_unpacked(d);
	return it->value == NULL ? -1 : 0;
}

static int
take_text(struct sc_decoder *d, const struct layout *lo, struct sc_msg *out)
{
	const char *t = d->v.text != NULL ? d->v.text : "";
	size_t n = strlen(t);
	uint8_t *at;

	if (n != lo->text_len || (at = arena_copy(d, t, n + 1)) == NULL) {
		release_unpacked(d);
		return -1;
	}
	out->text = (const char *)at;
	release_unpacked(d);
	return 0;
}

static int
unpack_items(struct sc_decoder *d, tpl_node *tn, int sh,
    const struct layout *lo, struct sc_msg *out)
{
	struct sc_item *it;
	uint32_t i;

	/* Both walks of the same bytes must agree. */
	if (tpl_Alen(tn, 1) < 0 || (uint32_t)tpl_Alen(tn, 1) != lo->count)
		return -1;
	for (i = 0; i < lo->count; i++) {
		it = &d->items[i];
		if (tpl_unpack(tn, 1) <= 0)
			return -1;
		vars_to_item(sh, &d->v, it);
		if ((sh == SH_REQ || sh == SH_ENTRY) && take_value(d, it) != 0)
			return -1;
	}
	if (d->used != lo->value_bytes)
		return -1;
	out->count = lo->count;
	return 0;
}

static int
unpack_armed(struct sc_decoder *d, int sh, const uint8_t *img, size_t len,
    const struct layout *lo, struct sc_msg *out)
{
	tpl_node *tn;

	if ((tn = d->map[sh]) == NULL) {
		if ((tn = wire_shape_map(sh, &d->v)) == NULL)
			return SC_REJ_TPL;
		d->map[sh] = tn;
	}
	/* Exact size (no TPL_EXCESS_OK): validate() checked the same. */
	if (tpl_load(tn, TPL_MEM, (void *)img, len) != 0)
		return SC_REJ_TPL;
	if (wire_shapes[sh].head[0] != '\0' && tpl_unpack(tn, 0) < 0) {
		release_unpacked(d);
		return SC_REJ_TPL;
	}
	out->a = d->v.h[0];
	out->b = d->v.h[1];
	out->c = d->v.h[2];
	out->d = d->v.h[3];
	out->e = d->v.h[4];
	if (sh == SH_TEXT)
		return take_text(d, lo, out) == 0 ? SC_REJ_NONE : SC_REJ_TPL;
	if (wire_shapes[sh].elem != NULL && unpack_items(d, tn, sh, lo, out) != 0) {
		release_unpacked(d);
		out->count = 0;
		return SC_REJ_TPL;
	}
	return SC_REJ_NONE;
}

/*
 * Load and unpack a validated image. If tpl_hook.fatal fires, the cached
 * map may be half-updated (tpl_load() frees and reallocates parts of it):
 * it is dropped, leaked rather than trusted to tpl_free(). On a validated
 * image only out of memory can get there.
 */
static int
unpack_body(struct sc_decoder *d, int sh, const uint8_t *img, size_t len,
    const struct layout *lo, struct sc_msg *out)
{
	jmp_buf jb, *saved = wire_unwind_to;
	int rc;

	memset(d->v.h, 0, sizeof(d->v.h));
	d->v.bin.addr = NULL;
	d->v.text = NULL;
	if (setjmp(jb) != 0) {
		wire_unwind_to = saved;
		d->map[sh] = NULL;
		release_unpacked(d);
		return SC_REJ_TPL;
	}
	wire_unwind_to = &jb;
	rc = unpack_armed(d, sh, img, len, lo, out);
	wire_unwind_to = saved;
	return rc;
}

int
sc_decode(struct sc_decoder *d, const void *buf, size_t len,
    uint32_t cluster, struct sc_msg *out)
{
	const struct shape_desc *s;
	struct layout lo;
	int rc;

	sc_tpl_hooks_install();
	memset(out, 0, sizeof(*out));
	out->items = d->items;
	d->used = 0;
	if ((rc = header_check(buf, len, &out->h)) != SC_REJ_NONE)
		return rc;
	if (out->h.cluster != cluster)
		return SC_REJ_CLUSTER;
	if ((rc = length_check(len, &out->h)) != SC_REJ_NONE)
		return rc;
	s = &wire_shapes[wire_type_shape[out->h.type]];
	if ((rc = validate(s, (const uint8_t *)buf + SC_HEADER_LEN,
	    out->h.body_len, &lo)) != SC_REJ_NONE)
		return rc;
	rc = unpack_body(d, wire_type_shape[out->h.type],
	    (const uint8_t *)buf + SC_HEADER_LEN, out->h.body_len, &lo, out);
	if (rc != SC_REJ_NONE) {
		/* nothing half-decoded escapes */
		out->a = out->b = out->c = out->d = out->e = 0;
		out->count = 0;
		out->text = NULL;
	}
	return rc;
}
