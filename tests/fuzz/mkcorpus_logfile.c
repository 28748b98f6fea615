/*
 * mkcorpus_logfile.c - writes tests/fuzz/corpus/logfile with the real
 * record encoder (run from the top of the tree):
 *   cc -Iinclude -o /tmp/mk tests/fuzz/mkcorpus_logfile.c daemon/logfile.c
 *   /tmp/mk tests/fuzz/corpus/logfile
 */
#include <stdio.h>
#include <string.h>

#include "seqcast/bytes.h"
#include "seqcast/logfile.h"

static uint8_t img[8 * (SC_LOGREC_HEAD + 64)];
static size_t off[9];

static void
put(const char *dir, const char *name, const uint8_t *p, size_t n)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "wb")) == NULL || fwrite(p, 1, n, f) != n) {
		perror(path);
		return;
	}
	fclose(f);
}

int
main(int argc, char **argv)
{
	static const uint32_t views[] = { 0, 0, 0, 2, 2, 2, 5, 5 };
	static uint8_t bad[sizeof(img)];
	uint8_t v[64];
	size_t n = 0;

	if (argc != 2)
		return 2;
	for (int i = 0; i < 8; i++) {
		struct sc_item it;

		memset(&it, 0, sizeof(it));
		it.id = (uint64_t)i + 1;
		it.client = 0x1000 + (uint64_t)i;
		it.req = 7 * it.id;
		it.view = views[i];
		it.len = (uint32_t)(i * 5 % 31);
		for (uint32_t j = 0; j < it.len; j++)
			v[j] = (uint8_t)(i * 31 + j);
		it.value = v;
		off[i] = n;
		n += sc_logrec_encode(img + n, &it);
	}
	off[8] = n;
	put(argv[1], "valid-8", img, n);
	put(argv[1], "torn-tail", img, off[7] + 20);
	memcpy(bad, img, n);
	bad[off[1] + 9] ^= 0x10;             /* record 2's header */
	put(argv[1], "flipped-bit", bad, n);
	memcpy(bad, img, n);
	bad[off[2] + SC_LOGREC_HEAD + 2] ^= 0x04;   /* record 3's body */
	put(argv[1], "flipped-body", bad, n);
	memcpy(bad, img, n);
	bad[off[7] + SC_LOGREC_HEAD + 1] ^= 0x80;   /* the last body */
	put(argv[1], "bad-last-body", bad, n);
	memcpy(bad, img, n);
	sc_put_le32(bad + off[5] + 32, 1);          /* view goes down */
	sc_put_le32(bad + off[5] + 44, sc_crc32c(0, bad + off[5], 44));
	put(argv[1], "view-down", bad, n);
	memcpy(bad, img, n);
	sc_put_le32(bad, SC_LOGREC_OLD);            /* before views */
	put(argv[1], "old-format", bad, n);
	return 0;
}
