/*
 * print.c - an entry as text or as JSON.
 */
#include <inttypes.h>

#include "print.h"

void
print_entry(FILE *f, uint64_t id, const uint8_t *v, size_t len)
{
	fprintf(f, "%" PRIu64 "\t", id);
	for (size_t i = 0; i < len; i++) {
		unsigned c = v[i];

		if (c == '\\')
			fputs("\\\\", f);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c == '\t')
			fputs("\\t", f);
		else if (c == '\r')
			fputs("\\r", f);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\x%02x", c);
		else
			putc_unlocked((int)c, f);
	}
	putc_unlocked('\n', f);
}

size_t
print_utf8_len(const uint8_t *v, size_t len)
{
	uint32_t cp;
	size_t n;

	if (v[0] < 0x80)
		return 1;
	if (v[0] >= 0xc2 && v[0] <= 0xdf)
		n = 2, cp = v[0] & 0x1f;
	else if (v[0] >= 0xe0 && v[0] <= 0xef)
		n = 3, cp = v[0] & 0x0f;
	else if (v[0] >= 0xf0 && v[0] <= 0xf4)
		n = 4, cp = v[0] & 0x07;
	else
		return 0;               /* continuation, 0xc0/0xc1, 0xf5.. */
	if (len < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((v[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (v[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;               /* overlong, surrogate, too large */
	return n;
}

static void
json_byte(FILE *f, unsigned c)
{
	switch (c) {
	case '"':  fputs("\\\"", f); break;
	case '\\': fputs("\\\\", f); break;
	case '\n': fputs("\\n", f); break;
	case '\t': fputs("\\t", f); break;
	case '\r': fputs("\\r", f); break;
	case '\b': fputs("\\b", f); break;
	case '\f': fputs("\\f", f); break;
	default:
		if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			putc_unlocked((int)c, f);
	}
}

void
print_json_string(FILE *f, const uint8_t *v, size_t len)
{
	putc_unlocked('"', f);
	for (size_t i = 0; i < len;) {
		size_t n = print_utf8_len(v + i, len - i);

		if (n == 1) {
			json_byte(f, v[i]);
		} else if (n > 1) {
			fwrite(v + i, 1, n, f);
		} else {
			fprintf(f, "\\u%04x", v[i]);
			n = 1;
		}
		i += n;
	}
	putc_unlocked('"', f);
}

void
print_entry_json(FILE *f, uint64_t id, const uint8_t *v, size_t len)
{
	fprintf(f, "{\"id\":%" PRIu64 ",\"value\":", id);
	print_json_string(f, v, len);
	fputs("}\n", f);
}
