/*
 * test_json.c - the client's JSON reader (strict RFC 8259 grammar,
 * escapes, nesting limit) and its JSON writer for entries (log --json):
 * whatever the bytes, the output is valid UTF-8 JSON, and a UTF-8 value
 * reads back exactly.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/json.h"
#include "client/print.h"
#include "testutil.h"

static void
test_reader_values(void **state)
{
	const char *text = " {\"n\": -12.5e+3, \"big\":18446744073709551615,"
	    "\"s\":\"a\\\"b\\\\c\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00\\u0000z\","
	    "\"o\":{\"t\":true,\"f\":false,\"z\":null,\"a\":[1,[],{}]},"
	    "\"n\":2} ";
	const struct json_value *v, *o;
	struct json_doc d;

	(void)state;
	assert_int_equal(json_parse(text, strlen(text), &d), 0);
	assert_int_equal(d.root->type, JSON_OBJECT);
	v = json_get(d.root, "n");              /* the first of repeats */
	assert_int_equal(v->type, JSON_NUMBER);
	assert_string_equal(v->text, "-12.5e+3");
	assert_string_equal(json_get(d.root, "big")->text,
	    "18446744073709551615");
	v = json_get(d.root, "s");
	assert_int_equal(v->type, JSON_STRING);
	assert_int_equal(v->len, 19);
	assert_memory_equal(v->text, "a\"b\\c/\b\f\n\r\t\xc3\xa9"
	    "\xf0\x9f\x98\x80\0z", 19);
	o = json_get(d.root, "o");
	assert_int_equal(json_get(o, "t")->type, JSON_TRUE);
	assert_int_equal(json_get(o, "f")->type, JSON_FALSE);
	assert_int_equal(json_get(o, "z")->type, JSON_NULL);
	v = json_get(o, "a");
	assert_int_equal(v->type, JSON_ARRAY);
	assert_string_equal(v->child->text, "1");
	assert_int_equal(v->child->next->type, JSON_ARRAY);
	assert_null(v->child->next->child);
	assert_int_equal(v->child->next->next->type, JSON_OBJECT);
	assert_null(json_get(o, "missing"));
	assert_null(json_get(v, "x"));          /* not an object */
	json_free(&d);
}

static void
test_reader_rejects(void **state)
{
	const char *bad[] = {
		"", " ", "{", "}", "{\"a\"}", "{\"a\":}", "{\"a\":1,}", "[1,]",
		"{a:1}", "01", "-", "1.", "1e", ".5", "+1", "1 2", "tru",
		"nul", "\"abc", "\"a\\x\"", "\"\\u12\"", "\"\\ud800\"",
		"\"\\udc00\"", "\"\\ud800\\u0041\"", "\"tab\there\"",
		"{\"a\":1}}", "[1 2]", "\"\\", "{\"a\" 1}",
	};
	char deep[200];
	struct json_doc d;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(json_parse(bad[i], strlen(bad[i]), &d), -1);
		assert_non_null(strstr(d.err, "at byte"));
		json_free(&d);
	}
	/* nesting: JSON_DEPTH_MAX is fine, one more is not */
	memset(deep, '[', JSON_DEPTH_MAX);
	memset(deep + JSON_DEPTH_MAX, ']', JSON_DEPTH_MAX);
	assert_int_equal(json_parse(deep, 2 * JSON_DEPTH_MAX, &d), 0);
	json_free(&d);
	memset(deep, '[', JSON_DEPTH_MAX + 1);
	memset(deep + JSON_DEPTH_MAX + 1, ']', JSON_DEPTH_MAX + 1);
	assert_int_equal(json_parse(deep, 2 * JSON_DEPTH_MAX + 2, &d), -1);
	assert_non_null(strstr(d.err, "deep"));
	json_free(&d);
	/* the length is the limit, not a NUL */
	assert_int_equal(json_parse("[1]xyz", 3, &d), 0);
	json_free(&d);
}

/* print_json_string of v, as a string. */
static char *
json_of(const uint8_t *v, size_t len)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);

	assert_non_null(f);
	print_json_string(f, v, len);
	assert_int_equal(fclose(f), 0);
	return buf;
}

/* Valid JSON text: valid UTF-8 throughout, no raw control byte, and our
 * strict reader takes it; returns the decoded string. */
static struct json_doc
check_valid(const char *out)
{
	struct json_doc d;
	size_t len = strlen(out);

	for (size_t i = 0; i < len;) {
		size_t n = print_utf8_len((const uint8_t *)out + i, len - i);

		assert_true(n > 0);
		assert_true((unsigned char)out[i] >= 0x20);
		i += n;
	}
	assert_int_equal(json_parse(out, len, &d), 0);
	assert_int_equal(d.root->type, JSON_STRING);
	return d;
}

/* Every single byte, and random byte strings: valid JSON. A byte that is
 * not UTF-8 reads back as the code point of its number. */
static void
test_writer_any_bytes(void **state)
{
	uint64_t rng = 5;

	(void)state;
	for (unsigned b = 0; b < 256; b++) {
		uint8_t v = (uint8_t)b;
		char *out = json_of(&v, 1);
		struct json_doc d = check_valid(out);

		if (b < 0x80) {
			assert_int_equal(d.root->len, 1);
			assert_int_equal((uint8_t)d.root->text[0], b);
		} else {                /* U+0080..U+00FF: two bytes */
			assert_int_equal(d.root->len, 2);
			assert_int_equal((uint8_t)d.root->text[0], 0xc0 |
			    b >> 6);
		}
		json_free(&d);
		free(out);
	}
	for (int round = 0; round < 2000; round++) {
		uint8_t v[64];
		size_t len = (size_t)below(&rng, sizeof(v) + 1);
		char *out;
		struct json_doc d;

		for (size_t i = 0; i < len; i++)
			v[i] = (uint8_t)rnd(&rng);
		out = json_of(v, len);
		d = check_valid(out);
		json_free(&d);
		free(out);
	}
}

/* A UTF-8 value comes back byte for byte; invalid sequences (overlong,
 * surrogate, beyond U+10FFFF, cut short) are escaped byte by byte. */
static void
test_writer_utf8(void **state)
{
	const char *good = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \"q\""
	    " \\ \x7f end";
	const char *bad[] = { "\xc0\xaf", "\xe0\x80\xaf", "\xed\xa0\x80",
	    "\xf4\x90\x80\x80", "\xe2\x82", "\x80", "\xf8\x88\x80\x80\x80" };
	struct json_doc d;
	char *out;

	(void)state;
	out = json_of((const uint8_t *)good, strlen(good));
	d = check_valid(out);
	assert_int_equal(d.root->len, strlen(good));
	assert_memory_equal(d.root->text, good, strlen(good));
	json_free(&d);
	free(out);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		out = json_of((const uint8_t *)bad[i], strlen(bad[i]));
		d = check_valid(out);
		/* every byte became \u00XX: six characters each */
		assert_int_equal(strlen(out), 2 + 6 * strlen(bad[i]));
		json_free(&d);
		free(out);
	}
}

/* The entry line: {"id":N,"value":"..."} and a newline. */
static void
test_entry_line(void **state)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);

	(void)state;
	print_entry_json(f, 42, (const uint8_t *)"a\nb\x01", 4);
	print_entry(f, 43, (const uint8_t *)"a\nb\x01", 4);
	assert_int_equal(fclose(f), 0);
	assert_string_equal(buf, "{\"id\":42,\"value\":\"a\\nb\\u0001\"}\n"
	    "43\ta\\nb\\x01\n");
	free(buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reader_values),
		cmocka_unit_test(test_reader_rejects),
		cmocka_unit_test(test_writer_any_bytes),
		cmocka_unit_test(test_writer_utf8),
		cmocka_unit_test(test_entry_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
