/*
 * input.c - add's values: arguments, a file's lines, generated ones.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "input.h"

void
input_free(struct input *in)
{
	free(in->arena);
	free(in->v);
	in->arena = NULL;
	in->v = NULL;
}

/* Array p of *cap elements, grown (doubling) to hold need; NULL if out
 * of memory (p is then still valid). */
static void *
grow(void *p, size_t *cap, size_t need, size_t elem)
{
	size_t ncap = *cap ? *cap : 64;
	void *np;

	if (need <= *cap)
		return p;
	while (ncap < need)
		ncap *= 2;
	np = realloc(p, ncap * elem);
	if (np)
		*cap = ncap;
	return np;
}

static int
input_add(struct input *in, const char *v, size_t len, uint64_t line)
{
	char *arena = grow(in->arena, &in->cap, in->used + len + 1, 1);
	struct input_span *spans;

	if (arena)
		in->arena = arena;
	spans = grow(in->v, &in->vcap, in->n + 1, sizeof(*in->v));
	if (spans)
		in->v = spans;
	if (!arena || !spans || len > UINT32_MAX)
		return oom();
	if (len)
		memcpy(in->arena + in->used, v, len);
	in->v[in->n++] = (struct input_span){ in->used, (uint32_t)len, line };
	in->used += len;
	return RC_OK;
}

/* "PREFIX-K" into buf, cut to INPUT_VBUF_MAX - 1 bytes as snprintf would
 * (this runs once per entry sent: snprintf was a tenth of the client's
 * CPU in the profile). */
static uint32_t
generate(const char *prefix, size_t k, char *buf)
{
	char digits[24];
	size_t nd = 0, n = 0;

	do
		digits[nd++] = (char)('0' + k % 10);
	while ((k /= 10) != 0);
	while (*prefix != '\0' && n < INPUT_VBUF_MAX - 1)
		buf[n++] = *prefix++;
	if (n < INPUT_VBUF_MAX - 1)
		buf[n++] = '-';
	while (nd > 0 && n < INPUT_VBUF_MAX - 1)
		buf[n++] = digits[--nd];
	buf[n] = '\0';
	return (uint32_t)n;
}

const uint8_t *
input_value(const struct input *in, size_t i, char *buf, uint32_t *len)
{
	if (in->generated) {
		*len = generate(in->prefix, i + 1, buf);
		if (in->size > *len && in->size < INPUT_VBUF_MAX) {
			memset(buf + *len, '.', in->size - *len);
			*len = in->size;
		}
		return (const uint8_t *)buf;
	}
	*len = in->v[i].len;
	return (const uint8_t *)in->arena + in->v[i].off;
}

void
input_where(const struct input *in, size_t i, char *buf, size_t len)
{
	if (in->file != NULL && !in->generated)
		snprintf(buf, len, "%s:%" PRIu64, in->file, in->v[i].line);
	else
		snprintf(buf, len, "value %zu", i + 1);
}

static size_t
strip_eol(const char *line, size_t n)
{
	if (n > 0 && line[n - 1] == '\n') {
		n--;
		if (n > 0 && line[n - 1] == '\r')
			n--;
	}
	return n;
}

static int
read_lines(FILE *f, struct input *in)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	uint64_t lineno = 0;
	int rc = RC_OK;

	while (rc == RC_OK && (n = getline(&line, &cap, f)) >= 0) {
		size_t len = strip_eol(line, (size_t)n);

		lineno++;
		if (len > 0)
			rc = input_add(in, line, len, lineno);
	}
	if (rc == RC_OK && ferror(f)) {
		fprintf(stderr, "seqcast: cannot read %s: %s\n", in->file,
		    strerror(errno));
		rc = RC_FAIL;
	}
	free(line);
	return rc;
}

static int
input_file(const char *path, struct input *in)
{
	FILE *f;
	int rc;

	if (strcmp(path, "-") == 0) {
		in->file = "standard input";
		return read_lines(stdin, in);
	}
	in->file = path;
	if ((f = fopen(path, "r")) == NULL) {
		fprintf(stderr, "seqcast: cannot open %s: %s\n", path,
		    strerror(errno));
		return RC_FAIL;
	}
	rc = read_lines(f, in);
	fclose(f);
	return rc;
}

static int
too_long(uint64_t k, uint64_t len, uint32_t limit)
{
	fprintf(stderr, "seqcast: value %" PRIu64 " is %" PRIu64 " bytes; "
	    "the limit is %" PRIu32 " bytes\n", k, len, limit);
	return RC_FAIL;
}

/* --value-size: every value is that long, if PREFIX-N fits in it. */
static int
check_sized(const struct input *in, uint32_t limit)
{
	uint64_t len = strlen(in->prefix) + 1, n = in->n;

	for (; n > 0; n /= 10)
		len++;
	if (len > in->size)
		return cli_usage_error("value %zu (%" PRIu64 " bytes) does "
		    "not fit --value-size %" PRIu32, in->n, len, in->size);
	return in->size > limit ? too_long(1, in->size, limit) : RC_OK;
}

/* Generated values grow with k: find the first one over the limit. */
static int
check_generated(const struct input *in, uint32_t limit)
{
	uint64_t fixed = strlen(in->prefix) + 1, first = 1, digits = 1;

	if (in->n == 0)
		return RC_OK;
	if (in->size)
		return check_sized(in, limit);
	if (fixed + 1 > limit)
		return too_long(1, fixed + 1, limit);
	while (digits < 19 && fixed + digits + 1 <= limit)
		digits++, first *= 10;
	if (fixed + digits + 1 <= limit || first * 10 > in->n)
		return RC_OK;
	return too_long(first * 10, fixed + digits + 1, limit);
}

static int
check_values(const struct input *in, uint32_t limit)
{
	if (in->generated)
		return check_generated(in, limit);
	for (size_t i = 0; i < in->n; i++) {
		if (in->v[i].len <= limit)
			continue;
		if (in->file == NULL)
			return too_long(i + 1, in->v[i].len, limit);
		fprintf(stderr, "seqcast: %s:%" PRIu64 ": value is %" PRIu32
		    " bytes; the limit is %" PRIu32 "\n", in->file,
		    in->v[i].line, in->v[i].len, limit);
		return RC_FAIL;
	}
	return RC_OK;
}

int
input_load(const struct opts *o, struct input *in)
{
	int rc = RC_OK;

	memset(in, 0, sizeof(*in));
	if (o->has_count) {
		in->generated = 1;
		in->prefix = o->prefix;
		in->size = o->value_size;
		in->n = (size_t)o->count;
	} else if (o->file) {
		rc = input_file(o->file, in);
	} else {
		for (int i = 0; rc == RC_OK && i < o->nvalues; i++)
			rc = input_add(in, o->values[i],
			    strlen(o->values[i]), 0);
	}
	return rc == RC_OK ? check_values(in, o->value_max) : rc;
}
