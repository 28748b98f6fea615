/*
 * input.h - the values `seqcast add` appends: its arguments, the lines of
 * a file (each remembered with its line number, for messages), or N
 * generated ones (PREFIX-1 .. PREFIX-N, made on demand, O(1) memory).
 * Entry i (0-based) is request i + 1.
 */
#ifndef SEQCAST_INPUT_H
#define SEQCAST_INPUT_H

#include <stddef.h>
#include <stdint.h>

#include "seqcast/wire.h"

#include "cli.h"

#define INPUT_VBUF_MAX (SC_VALUE_MAX + 32)

struct input_span {
	size_t off;             /* in the arena */
	uint32_t len;
	uint64_t line;          /* --file: its line number (1-based) */
};

struct input {
	size_t n;               /* entries */
	int generated;          /* --count: PREFIX-<k>, made on demand */
	const char *prefix;
	uint32_t size;          /* --value-size: padded to it, or 0 */
	const char *file;       /* --file name, for messages (NULL: none) */
	char *arena;            /* listed values back to back */
	size_t used, cap;
	struct input_span *v;
	size_t vcap;
};

/* Load the values the options name and check each against
 * o->value_max: RC_OK, RC_FAIL or RC_USAGE (reported, with the file's
 * line for a line too long). input_free() in every case. */
int input_load(const struct opts *o, struct input *in);
void input_free(struct input *in);
/* Value of entry i; buf (INPUT_VBUF_MAX bytes) holds made ones. */
const uint8_t *input_value(const struct input *in, size_t i, char *buf,
    uint32_t *len);
/* Where entry i came from, for messages: "value 3", or "F:5". */
void input_where(const struct input *in, size_t i, char *buf, size_t len);

#endif
