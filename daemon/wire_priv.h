/*
 * wire_priv.h - what the codec's two files share: the body shapes, their
 * tpl formats and the tpl image's preamble (wire.c: names, sizes,
 * encoding; wire_decode.c: decoding). Neither calls libtpl: see wire.c's
 * opening comment.
 */
#ifndef SEQCAST_WIRE_PRIV_H
#define SEQCAST_WIRE_PRIV_H

#include <stddef.h>
#include <stdint.h>

#include "seqcast/wire.h"

#define TPL_FLAG_BIG   0x01	/* TPL_FL_BIGENDIAN, private to tpl.c */
#define TPL_FLAG_NULLS 0x02	/* TPL_FL_NULLSTRINGS, likewise */
#define TPL_PREAMBLE   8	/* "tpl", flags, uint32 size */

/* libtpl writes integers in the host's byte order, and says so. */
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define TPL_FLAG_HOST  TPL_FLAG_BIG
#else
#define TPL_FLAG_HOST  0
#endif

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

/* Every shape is some U scalars, then an s or an array (or neither). */
struct shape_desc {
	const char *fmt;	/* tpl format string */
	uint8_t fmt_size;	/* strlen(fmt) + 1 */
	uint8_t nhead;		/* U scalars first */
	uint8_t text;		/* then an s (SH_TEXT) */
	uint8_t elem_min;	/* bytes of one array element without its
				   value; 0: no array */
	uint8_t value;		/* an element ends in a B */
};

extern const struct shape_desc wire_shapes[SH_COUNT];
extern const unsigned char wire_type_shape[SC_TYPE_COUNT];

int wire_type_valid(int type);

#endif
