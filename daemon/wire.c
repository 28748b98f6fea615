/*
 * wire.c - the seqcast datagram codec: a 24-byte header in network byte
 * order, then a libtpl image whose format is fixed by the message type.
 *
 * Decoding never hands libtpl bytes it has not checked first. libtpl 1.6.1
 * reads array counts into an int: a count >= 2^31 is negative there, so
 * tpl_load()'s own size check walks no elements and accepts the image,
 * and tpl_unpack() then reads up to 4G elements past the buffer. So
 * validate() walks the image against the format it must have, bounds
 * checking every read, and only then do tpl_load() and tpl_unpack() run.
 *
 * Image layout, as this libtpl writes it (verified with hexdumps):
 *   "tpl", flags byte (bit 0 big-endian integers, bit 1 "null strings"),
 *   uint32 image size (inclusive), the format string and its NUL, then
 *   the data: U 8 bytes, i 4 bytes, A(...) a uint32 count then the
 *   elements, B a uint32 length then the bytes, s a uint32 (length + 1,
 *   0 for NULL) then the bytes without NUL.
 */
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <tpl.h>

#include "seqcast/bytes.h"
#include "seqcast/wire.h"

/* Defined by libtpl; tpl.h 1.6.1 does not declare it. */
extern tpl_hook_t tpl_hook;

#define TPL_FLAG_BIG   0x01	/* TPL_FL_BIGENDIAN, private to tpl.c */
#define TPL_FLAG_NULLS 0x02	/* TPL_FL_NULLSTRINGS, likewise */
#define TPL_PREAMBLE   8	/* "tpl", flags, uint32 size */

/* The body layouts; several message types share one. */
enum shape {
	SH_REQ,		/* UA(UUB): cookie; client, req, value */
	SH_ENTRY,	/* UUUA(UUUB): head, commit, view; id, client, req,
			   value */
	SH_ACK,		/* UA(UUUi): scalar; client, req, id, status */
	SH_QUAD,	/* UUUU: four scalars */
	SH_RANGE,	/* UA(UU): scalar; first, last */
	SH_VIEW,	/* UUUUUA(UU): five scalars; first, last */
	SH_TEXT,	/* UUs: total, offset, text */
	SH_COUNT
};

struct shape_desc {
	const char *fmt;	/* tpl format string */
	const char *head;	/* fields before the array, if any */
	const char *elem;	/* fields of one array element, or NULL */
	size_t elem_min;	/* bytes of one element without its value */
};

static const struct shape_desc shapes[SH_COUNT] = {
	[SH_REQ] =   { "UA(UUB)",    "U",     "UUB",  8 + 8 + 4 },
	[SH_ENTRY] = { "UUUA(UUUB)", "UUU",   "UUUB", 8 + 8 + 8 + 4 },
	[SH_ACK] =   { "UA(UUUi)",   "U",     "UUUi", 8 + 8 + 8 + 4 },
	[SH_QUAD] =  { "UUUU",       "UUUU",  NULL,   0 },
	[SH_RANGE] = { "UA(UU)",     "U",     "UU",   8 + 8 },
	[SH_VIEW] =  { "UUUUUA(UU)", "UUUUU", "UU",   8 + 8 },
	[SH_TEXT] =  { "UUs",        "UUs",   NULL,   0 },
};

static const unsigned char type_shape[SC_TYPE_COUNT] = {
	[SC_ADD] = SH_REQ,	[SC_FWD] = SH_REQ,
	[SC_DATA] = SH_ENTRY,	[SC_RETX] = SH_ENTRY,
	[SC_ACK] = SH_ACK,	[SC_STAMPED] = SH_ACK,
	[SC_HEARTBEAT] = SH_VIEW, [SC_NACK] = SH_RANGE,
	[SC_REPORT] = SH_QUAD,	[SC_GONE] = SH_RANGE,
	[SC_LOG_REQ] = SH_QUAD,	[SC_LOG_REPLY] = SH_ENTRY,
	[SC_STATS_REQ] = SH_QUAD, [SC_STATS_REPLY] = SH_TEXT,
	[SC_VIEW_CHANGE] = SH_QUAD, [SC_DO_VIEW] = SH_QUAD,
	[SC_RECOVERY] = SH_QUAD, [SC_RECOVERY_REPLY] = SH_VIEW,
	[SC_CONFIG] = SH_RANGE,	[SC_COOKIE] = SH_QUAD,
};

static const char *const type_names[SC_TYPE_COUNT] = {
	[SC_ADD] = "add", [SC_FWD] = "fwd", [SC_DATA] = "data",
	[SC_RETX] = "retx", [SC_ACK] = "ack", [SC_STAMPED] = "stamped",
	[SC_HEARTBEAT] = "heartbeat", [SC_NACK] = "nack",
	[SC_REPORT] = "report", [SC_GONE] = "gone", [SC_LOG_REQ] = "log_req",
	[SC_LOG_REPLY] = "log_reply", [SC_STATS_REQ] = "stats_req",
	[SC_STATS_REPLY] = "stats_reply", [SC_VIEW_CHANGE] = "view_change",
	[SC_DO_VIEW] = "do_view", [SC_RECOVERY] = "recovery",
	[SC_RECOVERY_REPLY] = "recovery_reply", [SC_CONFIG] = "config",
	[SC_COOKIE] = "cookie",
};

static const char *const reject_names[SC_REJ_COUNT] = {
	[SC_REJ_NONE] = "none", [SC_REJ_SHORT] = "short",
	[SC_REJ_MAGIC] = "magic", [SC_REJ_VERSION] = "version",
	[SC_REJ_TYPE] = "type", [SC_REJ_CLUSTER] = "cluster",
	[SC_REJ_LENGTH] = "length", [SC_REJ_LAYOUT] = "layout",
	[SC_REJ_TPL] = "tpl", [SC_REJ_VALUE] = "value",
};

/*
 * The variables a tpl map points at. tpl_map() keeps their addresses, so
 * they live as long as the map: in the decoder for its cached maps, on
 * the stack for sc_encode()'s one-shot map.
 */
struct tpl_vars {
	uint64_t h[5];		/* head scalars, in order */
	uint64_t f0, f1, f2;	/* the element's U fields, in order */
	int32_t status;
	tpl_bin bin;
	char *text;
};

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

/*
 * Where tpl_hook.fatal unwinds to. libtpl calls fatal on out-of-memory
 * and on internal inconsistencies, and its default handler exits. Most
 * fatal sites are followed by code that dereferences what it failed to
 * get (fatal_oom() then a NULL store), so returning is not safe either:
 * the only safe continuation is not to return into libtpl at all.
 * sc_encode() and sc_decode() arm this around every tpl call.
 */
static _Thread_local jmp_buf *tpl_unwind_to;

static int
tpl_quiet(const char *fmt, ...)
{
	(void)fmt;
	return 0;
}

static void
tpl_unwind(const char *fmt, ...)
{
	(void)fmt;
	if (tpl_unwind_to != NULL)
		longjmp(*tpl_unwind_to, 1);
	/*
	 * Not inside sc_encode()/sc_decode(): nothing to unwind to. Every
	 * tpl call in seqcast is made here, so this is only reached by
	 * foreign code; returning keeps the promise not to exit.
	 */
}

/* Writes only when needed: sc_encode()/sc_decode() call this every
 * time, and after start-up that must be a read, not a racing write. */
void
sc_tpl_hooks_install(void)
{
	if (tpl_hook.oops != tpl_quiet)
		tpl_hook.oops = tpl_quiet;
	if (tpl_hook.fatal != tpl_unwind)
		tpl_hook.fatal = tpl_unwind;
}

const char *
sc_type_name(int type)
{
	if (type <= 0 || type >= SC_TYPE_COUNT)
		return "?";
	return type_names[type];
}

const char *
sc_reject_name(int reason)
{
	if (reason < 0 || reason >= SC_REJ_COUNT)
		return "?";
	return reject_names[reason];
}

static int
type_valid(int type)
{
	return type > 0 && type < SC_TYPE_COUNT;
}

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

static void
header_put(uint8_t *p, const struct sc_header *h, uint32_t body_len)
{
	sc_put_be32(p, SC_MAGIC);
	p[4] = SC_VERSION;
	p[5] = h->type;
	p[6] = h->flags >> 8;
	p[7] = h->flags & 0xff;
	sc_put_be32(p + 8, h->cluster);
	sc_put_be32(p + 12, h->sender);
	sc_put_be32(p + 16, h->view);
	sc_put_be32(p + 20, h->config);
	sc_put_be32(p + 24, body_len);
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
	if (!type_valid(h->type))
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

/* ---- sizes ---- */

static size_t
field_size(char f)
{
	switch (f) {
	case 'U':
		return 8;
	case 'i':
		return 4;
	default:		/* B and s: their uint32 length word */
		return 4;
	}
}

/* Image bytes of a message of this shape with no items (and empty
 * text): preamble, format string and NUL, head fields, array count. */
static size_t
shape_base(const struct shape_desc *s)
{
	size_t n;
	const char *f;

	n = TPL_PREAMBLE + strlen(s->fmt) + 1;
	for (f = s->head; *f != '\0'; f++)
		n += field_size(*f);
	if (s->elem != NULL)
		n += 4;
	return n;
}

size_t
sc_item_size(int type, const struct sc_item *item)
{
	if (!type_valid(type))
		return 0;
	switch (type_shape[type]) {
	case SH_REQ:
		return 8 + 8 + 4 + (size_t)item->len;
	case SH_ENTRY:
		return 8 + 8 + 8 + 4 + (size_t)item->len;
	case SH_ACK:
		return 8 + 8 + 8 + 4;
	case SH_RANGE:
	case SH_VIEW:
		return 8 + 8;
	default:		/* no items */
		return 0;
	}
}

size_t
sc_encoded_size(int type, const struct sc_item *items, uint32_t count)
{
	size_t n;
	uint32_t i;

	if (!type_valid(type))
		return 0;
	n = SC_HEADER_LEN + shape_base(&shapes[type_shape[type]]);
	if (shapes[type_shape[type]].elem == NULL)
		return n;
	for (i = 0; i < count; i++)
		n += sc_item_size(type, &items[i]);
	return n;
}

size_t
sc_msg_size(const struct sc_msg *m)
{
	size_t n;

	n = sc_encoded_size(m->h.type, m->items, m->count);
	if (n != 0 && m->h.type == SC_STATS_REPLY && m->text != NULL)
		n += strlen(m->text);
	return n;
}

/* ---- tpl maps ---- */

/* tpl_map() takes char *, though it never writes the format. */
static tpl_node *
shape_map(int sh, struct tpl_vars *v)
{
	char *fmt = (char *)shapes[sh].fmt;
	uint64_t *h = v->h;

	switch (sh) {
	case SH_REQ:
		return tpl_map(fmt, &h[0], &v->f0, &v->f1, &v->bin);
	case SH_ENTRY:
		return tpl_map(fmt, &h[0], &h[1], &h[2], &v->f0, &v->f1,
		    &v->f2, &v->bin);
	case SH_ACK:
		return tpl_map(fmt, &h[0], &v->f0, &v->f1, &v->f2, &v->status);
	case SH_QUAD:
		return tpl_map(fmt, &h[0], &h[1], &h[2], &h[3]);
	case SH_RANGE:
		return tpl_map(fmt, &h[0], &v->f0, &v->f1);
	case SH_VIEW:
		return tpl_map(fmt, &h[0], &h[1], &h[2], &h[3], &h[4], &v->f0,
		    &v->f1);
	default:
		return tpl_map(fmt, &h[0], &h[1], &v->text);
	}
}

/* Item fields to map variables; tpl only reads bin.addr when packing. */
static void
item_to_vars(int sh, const struct sc_item *it, struct tpl_vars *v)
{
	switch (sh) {
	case SH_REQ:
		v->f0 = it->client;
		v->f1 = it->req;
		break;
	case SH_ENTRY:
		v->f0 = it->id;
		v->f1 = it->client;
		v->f2 = it->req;
		break;
	case SH_ACK:
		v->f0 = it->client;
		v->f1 = it->req;
		v->f2 = it->id;
		v->status = it->status;
		break;
	case SH_RANGE:
	case SH_VIEW:
		v->f0 = it->first;
		v->f1 = it->last;
		break;
	}
	v->bin.addr = (void *)it->value;
	v->bin.sz = it->len;
}

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

/* ---- encoding ---- */

/* Fields of m that make an image malformed or oversized. */
static int
msg_valid(const struct sc_msg *m)
{
	const struct sc_item *it;
	uint32_t i;
	int sh;

	if (!type_valid(m->h.type))
		return 0;
	sh = type_shape[m->h.type];
	if (sh == SH_TEXT)
		return m->text == NULL || strlen(m->text) <= SC_TEXT_MAX;
	if (shapes[sh].elem == NULL)
		return 1;
	if (m->count > SC_ITEMS_MAX || (m->count > 0 && m->items == NULL))
		return 0;
	for (i = 0; i < m->count; i++) {
		it = &m->items[i];
		if (sh != SH_REQ && sh != SH_ENTRY)
			continue;
		if (it->len > SC_VALUE_MAX || (it->len > 0 && it->value == NULL))
			return 0;
	}
	return 1;
}

static int
pack_armed(const struct sc_msg *m, struct tpl_vars *v, uint8_t *dst,
    size_t len)
{
	tpl_node *tn;
	size_t got;
	uint32_t i;
	int sh = type_shape[m->h.type], rc = -1;

	memset(v, 0, sizeof(*v));
	if ((tn = shape_map(sh, v)) == NULL)
		return -1;
	v->h[0] = m->a;
	v->h[1] = m->b;
	v->h[2] = m->c;
	v->h[3] = m->d;
	v->h[4] = m->e;
	/* NULL text is sent as "": one canonical form, and the receiver
	 * always gets a string. */
	v->text = m->text != NULL ? (char *)m->text : (char *)"";
	if (shapes[sh].head[0] != '\0' && tpl_pack(tn, 0) != 0)
		goto out;
	for (i = 0; shapes[sh].elem != NULL && i < m->count; i++) {
		item_to_vars(sh, &m->items[i], v);
		if (tpl_pack(tn, 1) != 0)
			goto out;
	}
	/* Our size arithmetic must agree with tpl's to the byte: batchers
	 * rely on sc_encoded_size(). */
	if (tpl_dump(tn, TPL_GETSIZE, &got) != 0 || got != len)
		goto out;
	if (tpl_dump(tn, TPL_MEM | TPL_PREALLOCD, dst, len) != 0)
		goto out;
	rc = 0;
out:
	tpl_free(tn);
	return rc;
}

/*
 * Pack m's body into dst[0..len). If tpl_hook.fatal fires (only out of
 * memory can do that here) the map is in an unknown state: it is leaked
 * rather than handed to tpl_free(), which could crash on it.
 */
static int
pack_body(const struct sc_msg *m, uint8_t *dst, size_t len)
{
	struct tpl_vars v;
	jmp_buf jb, *saved = tpl_unwind_to;
	int rc;

	sc_tpl_hooks_install();
	if (setjmp(jb) != 0) {
		tpl_unwind_to = saved;
		return -1;
	}
	tpl_unwind_to = &jb;
	rc = pack_armed(m, &v, dst, len);
	tpl_unwind_to = saved;
	return rc;
}

long
sc_encode(const struct sc_msg *m, void *buf, size_t cap)
{
	size_t n;

	if (!msg_valid(m))
		return -1;
	n = sc_msg_size(m);
	if (n == 0 || n > cap || n - SC_HEADER_LEN > UINT32_MAX)
		return -1;
	if (pack_body(m, (uint8_t *)buf + SC_HEADER_LEN,
	    n - SC_HEADER_LEN) != 0)
		return -1;
	header_put(buf, &m->h, (uint32_t)(n - SC_HEADER_LEN));
	return (long)n;
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
			if (take(c, field_size(*f), NULL) == -1)
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
		if ((tn = shape_map(sh, &d->v)) == NULL)
			return SC_REJ_TPL;
		d->map[sh] = tn;
	}
	/* Exact size (no TPL_EXCESS_OK): validate() checked the same. */
	if (tpl_load(tn, TPL_MEM, (void *)img, len) != 0)
		return SC_REJ_TPL;
	if (shapes[sh].head[0] != '\0' && tpl_unpack(tn, 0) < 0) {
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
	if (shapes[sh].elem != NULL && unpack_items(d, tn, sh, lo, out) != 0) {
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
	jmp_buf jb, *saved = tpl_unwind_to;
	int rc;

	memset(d->v.h, 0, sizeof(d->v.h));
	d->v.bin.addr = NULL;
	d->v.text = NULL;
	if (setjmp(jb) != 0) {
		tpl_unwind_to = saved;
		d->map[sh] = NULL;
		release_unpacked(d);
		return SC_REJ_TPL;
	}
	tpl_unwind_to = &jb;
	rc = unpack_armed(d, sh, img, len, lo, out);
	tpl_unwind_to = saved;
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
	s = &shapes[type_shape[out->h.type]];
	if ((rc = validate(s, (const uint8_t *)buf + SC_HEADER_LEN,
	    out->h.body_len, &lo)) != SC_REJ_NONE)
		return rc;
	rc = unpack_body(d, type_shape[out->h.type],
	    (const uint8_t *)buf + SC_HEADER_LEN, out->h.body_len, &lo, out);
	if (rc != SC_REJ_NONE) {
		/* nothing half-decoded escapes */
		out->a = out->b = out->c = out->d = out->e = 0;
		out->count = 0;
		out->text = NULL;
	}
	return rc;
}
