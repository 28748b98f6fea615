/*
 * wire_priv.h - what the codec's two files share: the body shapes and
 * their tpl maps (wire.c: names, sizes, encoding; wire_decode.c: the
 * image check that runs before libtpl, and decoding).
 */
#ifndef SEQCAST_WIRE_PRIV_H
#define SEQCAST_WIRE_PRIV_H

#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>

#include <tpl.h>

#include "seqcast/wire.h"

/* Defined by libtpl; tpl.h 1.6.1 does not declare it. */
extern tpl_hook_t tpl_hook;

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

struct shape_desc {
	const char *fmt;	/* tpl format string */
	const char *head;	/* fields before the array, if any */
	const char *elem;	/* fields of one array element, or NULL */
	size_t elem_min;	/* bytes of one element without its value;
				   0: no array */
	uint8_t fmt_size;	/* strlen(fmt) + 1 */
	uint8_t nhead;		/* U scalars first */
	uint8_t text;		/* then an s (SH_TEXT) */
	uint8_t value;		/* an element ends in a B */
};

extern const struct shape_desc wire_shapes[SH_COUNT];
extern const unsigned char wire_type_shape[SC_TYPE_COUNT];

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

/*
 * Where tpl_hook.fatal unwinds to (wire.c): sc_encode() and sc_decode()
 * arm it around every tpl call, since libtpl's fatal paths must never
 * return into libtpl.
 */
extern _Thread_local jmp_buf *wire_unwind_to;

int wire_type_valid(int type);
/* Bytes of one scalar of a tpl format (U, i). */
size_t wire_field_size(char f);
/* tpl_map() of a shape onto v's variables. */
tpl_node *wire_shape_map(int sh, struct tpl_vars *v);

#endif
