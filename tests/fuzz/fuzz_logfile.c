/*
 * fuzz_logfile.c - libFuzzer target for the log-file reader: any bytes
 * as a log file image. The scan must never read outside the image, must
 * stop at the first bad record, and every record it hands out must carry
 * the next id with a value inside the image.
 */
#include <stdint.h>
#include <stdlib.h>

#include "seqcast/logfile.h"
#include "seqcast/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct span { const uint8_t *lo, *hi; uint64_t next; };

static int
check(void *ctx, uint64_t id, uint64_t client, uint64_t req,
    const uint8_t *value, uint32_t len, uint64_t offset)
{
	struct span *s = ctx;

	(void)client;
	(void)req;
	(void)offset;
	if (id != s->next++ || len > SC_VALUE_MAX || value < s->lo ||
	    value + len > s->hi)
		abort();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct span s = { data, data + size, 1 };
	uint64_t bad, good;
	const char *why;

	good = sc_logfile_scan(data, size, check, &s, &bad, &why);
	if (good > size || (bad != UINT64_MAX && (bad > size || why == NULL)))
		abort();
	return 0;
}
