/*
 * fuzz_stats.c - libFuzzer target for what the client makes of a server's
 * reply text: the JSON reader, stats --prometheus, and (the other way)
 * log --json's writer.
 *
 * A STATS_REPLY is network input (forged by anyone on the LAN without a
 * key). The reader must never read past the text or crash; the converter
 * must write only whole lines; and whatever the bytes, the writer's
 * output must read back as one JSON string.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/json.h"
#include "client/print.h"
#include "client/prom.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_prom(const char *text)
{
	char *out = NULL, err[128];
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	int rc;

	if (f == NULL)
		return;
	rc = prom_write(f, text, err, sizeof(err));
	fclose(f);
	if (rc == 0 && len > 0 && out[len - 1] != '\n')
		abort();
	if (rc != 0 && len != 0)
		abort();
	free(out);
}

static void
check_writer(const uint8_t *data, size_t size)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	struct json_doc d;

	if (f == NULL)
		return;
	print_json_string(f, data, size);
	fclose(f);
	if (json_parse(out, len, &d) != 0 || d.root->type != JSON_STRING)
		abort();
	json_free(&d);
	free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	struct json_doc d;

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	/* the reader on the exact bytes (no NUL: it must keep to size) */
	(void)json_parse((const char *)data, size, &d);
	json_free(&d);
	check_prom(text);
	check_writer(data, size);
	free(text);
	return 0;
}
