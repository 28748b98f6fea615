/*
 * json.h - a small JSON reader (RFC 8259) for what servers send the
 * client: the stats object. Builds a tree; strings decoded to UTF-8
 * (\uXXXX escapes and surrogate pairs included); numbers kept as written
 * (a uint64 counter keeps every digit). Nesting is limited to
 * JSON_DEPTH_MAX; the whole text must be one value.
 */
#ifndef SEQCAST_JSON_H
#define SEQCAST_JSON_H

#include <stddef.h>

#define JSON_DEPTH_MAX 32

enum json_type {
	JSON_NULL, JSON_FALSE, JSON_TRUE, JSON_NUMBER, JSON_STRING,
	JSON_OBJECT, JSON_ARRAY
};

struct json_value {
	enum json_type type;
	char *key;                   /* member name in an object, or NULL */
	char *text;                  /* NUMBER: as written; STRING: decoded
	                                (NUL-terminated, len bytes) */
	size_t len;
	struct json_value *child;    /* OBJECT, ARRAY: first member */
	struct json_value *next;     /* the next member of its parent */
};

struct json_doc {
	struct json_value *root;
	char err[96];                /* why json_parse failed */
};

/* Parse text[0..len): 0, or -1 with d->err ("at byte N: ..."). Call
 * json_free(d) in both cases. */
int json_parse(const char *text, size_t len, struct json_doc *d);
void json_free(struct json_doc *d);
/* The member `key` of an object (the first, if repeated), or NULL. */
const struct json_value *json_get(const struct json_value *obj,
    const char *key);

#endif
