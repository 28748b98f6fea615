/*
 * json.c - the JSON reader: recursive descent over the text, one node
 * per value.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

struct parser {
	const char *start, *p, *end;
	int depth;
	struct json_doc *d;
};

static int
fail(struct parser *ps, const char *what)
{
	if (ps->d->err[0] == '\0')
		snprintf(ps->d->err, sizeof(ps->d->err), "at byte %zu: %s",
		    (size_t)(ps->p - ps->start), what);
	return -1;
}

static void
skip_ws(struct parser *ps)
{
	while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' ||
	    *ps->p == '\n' || *ps->p == '\r'))
		ps->p++;
}

static int
hex4(struct parser *ps, unsigned *out)
{
	*out = 0;
	for (int i = 0; i < 4; i++, ps->p++) {
		char c = ps->p < ps->end ? *ps->p : '\0';

		*out <<= 4;
		if (c >= '0' && c <= '9')
			*out |= (unsigned)(c - '0');
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			*out |= (unsigned)((c | 0x20) - 'a' + 10);
		else
			return fail(ps, "bad \\u escape");
	}
	return 0;
}

static size_t
put_utf8(char *o, unsigned cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | cp >> 12);
		o[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | cp >> 18);
	o[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	o[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* \uXXXX (after the "\u"), a surrogate pair as one code point. */
static int
unicode_escape(struct parser *ps, unsigned *cp)
{
	unsigned lo;

	if (hex4(ps, cp) < 0)
		return -1;
	if (*cp >= 0xdc00 && *cp <= 0xdfff)
		return fail(ps, "lone low surrogate");
	if (*cp < 0xd800 || *cp > 0xdbff)
		return 0;
	if (ps->end - ps->p < 2 || ps->p[0] != '\\' || ps->p[1] != 'u')
		return fail(ps, "lone high surrogate");
	ps->p += 2;
	if (hex4(ps, &lo) < 0)
		return -1;
	if (lo < 0xdc00 || lo > 0xdfff)
		return fail(ps, "bad surrogate pair");
	*cp = 0x10000 + ((*cp - 0xd800) << 10) + (lo - 0xdc00);
	return 0;
}

/* One escape after the backslash, appended at o; bytes written or -1. */
static int
escape(struct parser *ps, char *o)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *hit;
	unsigned cp;

	if (ps->p >= ps->end)
		return fail(ps, "unterminated string");
	if (*ps->p == 'u') {
		ps->p++;
		return unicode_escape(ps, &cp) < 0 ? -1 :
		    (int)put_utf8(o, cp);
	}
	if ((hit = strchr(from, *ps->p)) == NULL || *ps->p == '\0')
		return fail(ps, "bad escape");
	ps->p++;
	*o = to[hit - from];
	return 1;
}

/* A string (at its opening quote) into a new NUL-terminated buffer. */
static int
parse_string(struct parser *ps, char **out, size_t *len)
{
	/* decoded is never longer than the source */
	char *buf = malloc((size_t)(ps->end - ps->p) + 1);
	size_t n = 0;

	if (buf == NULL)
		return fail(ps, "out of memory");
	for (ps->p++;; ) {
		unsigned char c = ps->p < ps->end ? (unsigned char)*ps->p : 0;
		int k;

		if (ps->p >= ps->end || c < 0x20) {
			free(buf);
			return fail(ps, ps->p >= ps->end ?
			    "unterminated string" : "control byte in string");
		}
		ps->p++;
		if (c == '"')
			break;
		if (c != '\\') {
			buf[n++] = (char)c;
			continue;
		}
		if ((k = escape(ps, buf + n)) < 0) {
			free(buf);
			return -1;
		}
		n += (size_t)k;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

static int
digits(struct parser *ps)
{
	const char *s = ps->p;

	while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
		ps->p++;
	return ps->p > s ? 0 : fail(ps, "expected a digit");
}

/* -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?, kept as written. */
static int
parse_number(struct parser *ps, struct json_value *v)
{
	const char *s = ps->p;

	if (ps->p < ps->end && *ps->p == '-')
		ps->p++;
	if (ps->p < ps->end && *ps->p == '0')
		ps->p++;
	else if (digits(ps) < 0)
		return -1;
	if (ps->p < ps->end && *ps->p == '.') {
		ps->p++;
		if (digits(ps) < 0)
			return -1;
	}
	if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
		ps->p++;
		if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-'))
			ps->p++;
		if (digits(ps) < 0)
			return -1;
	}
	v->type = JSON_NUMBER;
	v->len = (size_t)(ps->p - s);
	if ((v->text = strndup(s, v->len)) == NULL)
		return fail(ps, "out of memory");
	return 0;
}

static int
parse_literal(struct parser *ps, struct json_value *v)
{
	static const struct { const char *word; enum json_type type; } lit[] = {
		{ "null", JSON_NULL }, { "false", JSON_FALSE },
		{ "true", JSON_TRUE },
	};

	for (size_t i = 0; i < 3; i++) {
		size_t n = strlen(lit[i].word);

		if ((size_t)(ps->end - ps->p) >= n &&
		    memcmp(ps->p, lit[i].word, n) == 0) {
			ps->p += n;
			v->type = lit[i].type;
			return 0;
		}
	}
	return fail(ps, "expected a value");
}

static int parse_value(struct parser *ps, struct json_value *v);

/* Members of an object or array (at its opening bracket), each parsed
 * into a new node linked after the last. */
static int
parse_members(struct parser *ps, struct json_value *v, char close)
{
	struct json_value **tail = &v->child;

	ps->p++;
	skip_ws(ps);
	if (ps->p < ps->end && *ps->p == close) {
		ps->p++;
		return 0;
	}
	for (;;) {
		struct json_value *m = calloc(1, sizeof(*m));
		size_t klen;

		if (m == NULL)
			return fail(ps, "out of memory");
		*tail = m;
		tail = &m->next;
		skip_ws(ps);
		if (close == '}') {
			if (ps->p >= ps->end || *ps->p != '"')
				return fail(ps, "expected a member name");
			if (parse_string(ps, &m->key, &klen) < 0)
				return -1;
			skip_ws(ps);
			if (ps->p >= ps->end || *ps->p++ != ':')
				return fail(ps, "expected ':'");
		}
		if (parse_value(ps, m) < 0)
			return -1;
		skip_ws(ps);
		if (ps->p < ps->end && *ps->p == ',') {
			ps->p++;
			continue;
		}
		if (ps->p < ps->end && *ps->p++ == close)
			return 0;
		return fail(ps, close == '}' ? "expected ',' or '}'" :
		    "expected ',' or ']'");
	}
}

static int
parse_value(struct parser *ps, struct json_value *v)
{
	int rc;

	skip_ws(ps);
	if (ps->p >= ps->end)
		return fail(ps, "expected a value");
	switch (*ps->p) {
	case '{': case '[':
		if (++ps->depth > JSON_DEPTH_MAX)
			return fail(ps, "nested too deep");
		v->type = *ps->p == '{' ? JSON_OBJECT : JSON_ARRAY;
		rc = parse_members(ps, v, *ps->p == '{' ? '}' : ']');
		ps->depth--;
		return rc;
	case '"':
		v->type = JSON_STRING;
		return parse_string(ps, &v->text, &v->len);
	case '-': case '0': case '1': case '2': case '3': case '4':
	case '5': case '6': case '7': case '8': case '9':
		return parse_number(ps, v);
	default:
		return parse_literal(ps, v);
	}
}

int
json_parse(const char *text, size_t len, struct json_doc *d)
{
	struct parser ps = { text, text, text + len, 0, d };

	memset(d, 0, sizeof(*d));
	if ((d->root = calloc(1, sizeof(*d->root))) == NULL) {
		snprintf(d->err, sizeof(d->err), "out of memory");
		return -1;
	}
	if (parse_value(&ps, d->root) < 0)
		return -1;
	skip_ws(&ps);
	if (ps.p != ps.end)
		return fail(&ps, "text after the value");
	return 0;
}

static void
free_value(struct json_value *v)
{
	while (v != NULL) {
		struct json_value *next = v->next;

		free_value(v->child);
		free(v->key);
		free(v->text);
		free(v);
		v = next;
	}
}

void
json_free(struct json_doc *d)
{
	free_value(d->root);
	d->root = NULL;
}

const struct json_value *
json_get(const struct json_value *obj, const char *key)
{
	if (obj == NULL || obj->type != JSON_OBJECT)
		return NULL;
	for (const struct json_value *m = obj->child; m; m = m->next)
		if (strcmp(m->key, key) == 0)
			return m;
	return NULL;
}
