/*
 * fuzz_logfile.c - libFuzzer target for the log-file reader: any bytes
 * as a log file image. Built and run by `make fuzz`; `make check` replays
 * tests/fuzz/corpus/logfile.
 *
 * The scan must never read outside the image, and must stop at the first
 * bad record:
 * - the records it hands out lie end to end from offset 0, carry ids
 *   1, 2, 3, ... and are each whole and intact (magic, checksums, and the
 *   fields handed out are those of the bytes at that offset);
 * - it returns the end of the last of them (good), and reports
 *   corruption at exactly that offset or not at all: nothing at or after
 *   a bad record is handed out;
 * - what it leaves unreported after good is a torn tail (less than a
 *   header, zeroes, a body cut short, or a last body whose checksum
 *   fails), never a bad record passed over in silence;
 * - the good prefix alone scans the same records, clean to its end.
 *
 * To see it fail: in daemon/logfile.c's sc_logfile_scan(), make a body
 * checksum mismatch skip the record (off += SC_LOGREC_HEAD + len;
 * continue;) or cut the log there as if torn (break): the replay of
 * corpus/logfile/flipped-body aborts (a bit flipped in the body of record
 * 3 of 8); treat a bad header as torn: flipped-bit (record 2's header)
 * aborts. bad-last-body (the last record's body damaged) must not abort:
 * that is a torn write. The corpus is written by tests/fuzz/mkcorpus_logfile
 * (`make build/fuzz/mkcorpus_logfile`), with sc_logrec_encode.
 */
#include <stdint.h>
#include <stdlib.h>

#include "seqcast/bytes.h"
#include "seqcast/logfile.h"
#include "seqcast/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct span {
	const uint8_t *lo, *hi;
	uint64_t next;     /* id the next record must carry */
	uint64_t end;      /* where the next record must start */
	uint64_t sum;      /* of what the records handed out */
	uint32_t view;     /* views never go down along a log */
};

static int
check(void *ctx, const struct sc_item *it, uint64_t offset)
{
	struct span *s = ctx;
	const uint8_t *h = s->lo + offset;
	uint32_t len = it->len;

	if (it->id != s->next++ || offset != s->end || len > SC_VALUE_MAX ||
	    (uint64_t)(s->hi - s->lo) - offset < SC_LOGREC_HEAD + (uint64_t)len ||
	    it->view < s->view)
		abort();
	/* The record at offset, whole, intact, and the one handed out. */
	if (it->value != h + SC_LOGREC_HEAD ||
	    sc_get_le32(h) != SC_LOGREC_MAGIC || sc_get_le32(h + 4) != len ||
	    sc_get_le64(h + 8) != it->id ||
	    sc_get_le64(h + 16) != it->client ||
	    sc_get_le64(h + 24) != it->req ||
	    sc_get_le32(h + 32) != it->view ||
	    sc_get_le32(h + 40) != sc_crc32c(0, it->value, len) ||
	    sc_get_le32(h + 44) != sc_crc32c(0, h, 44))
		abort();
	s->view = it->view;
	s->end = offset + SC_LOGREC_HEAD + len;
	s->sum = s->sum * 31 + it->id + offset * 7 + len + it->view;
	return 0;
}

static int
all_zero(const uint8_t *p, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		if (p[i] != 0)
			return 0;
	return 1;
}

/* Is data[0..rem) what a crash can leave of a last record? */
static int
torn(const uint8_t *h, uint64_t rem)
{
	uint32_t len;

	if (rem < SC_LOGREC_HEAD || all_zero(h, rem))
		return 1;
	if (sc_get_le32(h) != SC_LOGREC_MAGIC ||
	    sc_get_le32(h + 44) != sc_crc32c(0, h, 44))
		return 0;
	len = sc_get_le32(h + 4);
	if (len > SC_VALUE_MAX)
		return 0;
	if (rem < SC_LOGREC_HEAD + (uint64_t)len)
		return 1;
	return rem == SC_LOGREC_HEAD + (uint64_t)len &&
	    sc_get_le32(h + 40) != sc_crc32c(0, h + SC_LOGREC_HEAD, len);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct span s = { data, data + size, 1, 0, 0, 0 };
	struct span again = { data, data + size, 1, 0, 0, 0 };
	uint64_t bad, good, bad2, good2;
	const char *why, *why2;

	good = sc_logfile_scan(data, size, check, &s, &bad, &why);
	if (good != s.end)
		abort();
	if (bad != UINT64_MAX && (bad != good || why == NULL))
		abort();
	if (bad == UINT64_MAX && good < size && !torn(data + good, size - good))
		abort();
	good2 = sc_logfile_scan(data, good, check, &again, &bad2, &why2);
	if (good2 != good || bad2 != UINT64_MAX || again.next != s.next ||
	    again.sum != s.sum)
		abort();
	return 0;
}
