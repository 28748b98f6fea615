/*
 * wire.c - the seqcast datagram codec: a 28-byte header in network byte
 * order, then a tpl image whose format is fixed by the message type.
 * This file: names, sizes, encoding; wire_decode.c: decoding.
 *
 * The body is libtpl's image format, byte for byte what libtpl 1.6.1's
 * tpl_pack() and tpl_dump() write (seqcastd builds that called libtpl,
 * the Wireshark dissector and any libtpl program read it), but the codec
 * reads and writes it itself:
 *   "tpl", a flags byte (0x01 big-endian integers, 0x02 "null strings",
 *   set by libtpl only for a format with an s), a uint32 image size (the
 *   whole image), the format string and its NUL, then the data in format
 *   order: U 8 bytes, i 4 bytes, A(...) a uint32 count then the elements,
 *   B a uint32 length then the bytes, s a uint32 length + 1 (0 for NULL)
 *   then the bytes without NUL. Integers are in the writer's byte order,
 *   which the flags byte names; both are read.
 *
 * Why not libtpl itself: on the hot path it cost the coordinator 15-20% of
 * its CPU (a node and a malloc per packed element, a malloc per unpacked
 * value that was then copied out, a map per message), and it can never be
 * handed untrusted bytes anyway: libtpl 1.6.1 reads array counts into an
 * int, so a count >= 2^31 makes tpl_load()'s own size check walk no
 * elements and accept the image, and tpl_unpack() then reads up to 4G
 * elements past the buffer. So the codec already walked every image
 * before libtpl saw it; now that walk is the decoder. libtpl stays the
 * reference: test_wire checks both directions against it.
 */
#include <stdint.h>
#include <string.h>

#include "seqcast/bytes.h"
#include "seqcast/wire.h"
#include "wire_priv.h"

/* format, U scalars first, then an s, bytes of an element without its
 * value (0: no array), elements end in a B */
#define SHAPE(fmt, nhead, text, elem_min, value) \
	{ fmt, sizeof(fmt), nhead, text, elem_min, value }
const struct shape_desc wire_shapes[SH_COUNT] = {
	[SH_REQ] =   SHAPE("UA(UUB)",    1, 0, 8 + 8 + 4, 1),
	[SH_ENTRY] = SHAPE("UUUA(UUUB)", 3, 0, 8 + 8 + 8 + 4, 1),
	[SH_ACK] =   SHAPE("UA(UUUi)",   1, 0, 8 + 8 + 8 + 4, 0),
	[SH_QUAD] =  SHAPE("UUUU",       4, 0, 0, 0),
	[SH_RANGE] = SHAPE("UA(UU)",     1, 0, 8 + 8, 0),
	[SH_VIEW] =  SHAPE("UUUUUA(UU)", 5, 0, 8 + 8, 0),
	[SH_TEXT] =  SHAPE("UUs",        2, 1, 0, 0),
};

const unsigned char wire_type_shape[SC_TYPE_COUNT] = {
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

/* The codec no longer calls libtpl: there are no hooks to install. */
void
sc_tpl_hooks_install(void)
{
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

int
wire_type_valid(int type)
{
	return type > 0 && type < SC_TYPE_COUNT;
}

/* ---- header ---- */

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

/* ---- sizes ---- */

/* Image bytes of a message of this shape with no items (and empty
 * text): preamble, format string and NUL, head scalars, the text's length
 * word, the array count. */
static size_t
shape_base(const struct shape_desc *s)
{
	return TPL_PREAMBLE + s->fmt_size + 8u * s->nhead +
	    (s->text ? 4 : 0) + (s->elem_min != 0 ? 4 : 0);
}

size_t
sc_item_size(int type, const struct sc_item *item)
{
	const struct shape_desc *s;

	if (!wire_type_valid(type))
		return 0;
	s = &wire_shapes[wire_type_shape[type]];
	return s->elem_min + (s->value ? (size_t)item->len : 0);
}

size_t
sc_encoded_size(int type, const struct sc_item *items, uint32_t count)
{
	size_t n;
	uint32_t i;

	if (!wire_type_valid(type))
		return 0;
	n = SC_HEADER_LEN + shape_base(&wire_shapes[wire_type_shape[type]]);
	if (wire_shapes[wire_type_shape[type]].elem_min == 0)
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

/* ---- encoding ---- */

/* Fields of m that make an image malformed or oversized. */
static int
msg_valid(const struct sc_msg *m)
{
	const struct sc_item *it;
	uint32_t i;
	int sh;

	if (!wire_type_valid(m->h.type))
		return 0;
	sh = wire_type_shape[m->h.type];
	if (sh == SH_TEXT)
		return m->text == NULL || strlen(m->text) <= SC_TEXT_MAX;
	if (wire_shapes[sh].elem_min == 0)
		return 1;
	if (m->count > SC_ITEMS_MAX || (m->count > 0 && m->items == NULL))
		return 0;
	for (i = 0; wire_shapes[sh].value && i < m->count; i++) {
		it = &m->items[i];
		if (it->len > SC_VALUE_MAX || (it->len > 0 && it->value == NULL))
			return 0;
	}
	return 1;
}

/*
 * The image, written as libtpl 1.6.1's tpl_pack() and tpl_dump() write it
 * (test_wire compares the two byte for byte): integers in the host's byte
 * order, which the flags byte names, as libtpl does.
 */
static uint8_t *
put32(uint8_t *p, uint32_t v)
{
	if (TPL_FLAG_HOST & TPL_FLAG_BIG)
		sc_put_be32(p, v);
	else
		sc_put_le32(p, v);
	return p + 4;
}

static uint8_t *
put64(uint8_t *p, uint64_t v)
{
	if (TPL_FLAG_HOST & TPL_FLAG_BIG)
		sc_put_be64(p, v);
	else
		sc_put_le64(p, v);
	return p + 8;
}

/* B: the length word, then the bytes. */
static uint8_t *
put_bin(uint8_t *p, const uint8_t *v, uint32_t n)
{
	p = put32(p, n);
	if (n > 0)
		memcpy(p, v, n);
	return p + n;
}

/* The preamble (libtpl sets the null-strings flag only for a format with
 * an s), the format and its NUL, the scalars before the array. */
static uint8_t *
put_head(uint8_t *p, const struct shape_desc *s, const struct sc_msg *m,
    uint32_t size)
{
	const uint64_t h[5] = { m->a, m->b, m->c, m->d, m->e };
	unsigned i;

	memcpy(p, "tpl", 3);
	p[3] = TPL_FLAG_HOST | (s->text ? TPL_FLAG_NULLS : 0);
	p = put32(p + 4, size);
	memcpy(p, s->fmt, s->fmt_size);
	p += s->fmt_size;
	for (i = 0; i < s->nhead; i++)
		p = put64(p, h[i]);
	return p;
}

/* s: the length + 1 (0 would be a NULL string), the bytes without NUL.
 * NULL text is sent as "": one canonical form, and the receiver always
 * gets a string. */
static uint8_t *
put_text(uint8_t *p, const char *t)
{
	size_t n = t != NULL ? strlen(t) : 0;

	p = put32(p, (uint32_t)n + 1);
	if (n > 0)
		memcpy(p, t, n);
	return p + n;
}

/* A(...): the count, then each element's fields in format order. Never
 * past end: NULL if an element would not fit. */
static uint8_t *
put_items(uint8_t *p, const uint8_t *end, int sh, const struct sc_msg *m)
{
	const struct shape_desc *s = &wire_shapes[sh];
	const struct sc_item *it;
	uint32_t i;

	p = put32(p, m->count);
	for (i = 0; i < m->count; i++) {
		it = &m->items[i];
		if ((size_t)(end - p) < s->elem_min + (s->value ? it->len : 0))
			return NULL;
		switch (sh) {
		case SH_REQ:
			p = put64(p, it->client);
			p = put64(p, it->req);
			p = put_bin(p, it->value, it->len);
			break;
		case SH_ENTRY:
			p = put64(p, it->id);
			p = put64(p, it->client);
			p = put64(p, it->req);
			p = put_bin(p, it->value, it->len);
			break;
		case SH_ACK:
			p = put64(p, it->client);
			p = put64(p, it->req);
			p = put64(p, it->id);
			p = put32(p, (uint32_t)it->status);
			break;
		default:	/* SH_RANGE, SH_VIEW */
			p = put64(p, it->first);
			p = put64(p, it->last);
			break;
		}
	}
	return p;
}

long
sc_encode(const struct sc_msg *m, void *buf, size_t cap)
{
	const struct shape_desc *s;
	uint8_t *p, *end;
	size_t n;
	int sh;

	if (!msg_valid(m))
		return -1;
	n = sc_msg_size(m);
	if (n == 0 || n > cap || n - SC_HEADER_LEN > UINT32_MAX)
		return -1;
	sh = wire_type_shape[m->h.type];
	s = &wire_shapes[sh];
	end = (uint8_t *)buf + n;
	p = put_head((uint8_t *)buf + SC_HEADER_LEN, s, m,
	    (uint32_t)(n - SC_HEADER_LEN));
	if (s->text)
		p = put_text(p, m->text);
	if (s->elem_min != 0)
		p = put_items(p, end, sh, m);
	/* The writer and the size arithmetic agree to the byte: batchers
	 * rely on sc_encoded_size(). */
	if (p != end)
		return -1;
	header_put(buf, &m->h, (uint32_t)(n - SC_HEADER_LEN));
	return (long)n;
}
