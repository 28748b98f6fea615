/*
 * test_logfile.c - the durable log file: a torn last record at every byte
 * offset is cut cleanly; a flipped bit anywhere in a record before the
 * last is reported as corruption with its offset, never applied or
 * skipped silently; reads return what was written.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <cmocka.h>

#include "seqcast/bytes.h"
#include "seqcast/logfile.h"
#include "seqcast/wire.h"

#define NREC 12

static char dir[256];
static uint8_t image[NREC * (SC_LOGREC_HEAD + 64)];
static uint64_t image_len;
static uint64_t offsets[NREC + 1];   /* offsets[i]: record id i+1 */

struct seen {
	uint64_t count;
	uint64_t last;
};

static void
value_of(uint64_t id, uint8_t *v, uint32_t *len)
{
	*len = (uint32_t)(id * 5 % 60);
	for (uint32_t i = 0; i < *len; i++)
		v[i] = (uint8_t)(id * 31 + i);
}

static int
on_record(void *ctx, uint64_t id, uint64_t client, uint64_t req,
    const uint8_t *value, uint32_t len, uint64_t offset)
{
	struct seen *s = ctx;
	uint8_t v[64];
	uint32_t n;

	value_of(id, v, &n);
	assert_int_equal(id, s->last + 1);
	assert_int_equal(client, 1000 + id);
	assert_int_equal(req, 7 * id);
	assert_int_equal(len, n);
	assert_memory_equal(value, v, n);
	assert_int_equal(offset, offsets[id - 1]);
	s->last = id;
	s->count++;
	return 0;
}

static char *
path(void)
{
	static char p[300];

	snprintf(p, sizeof(p), "%s/server-0.log", dir);
	return p;
}

static void
write_file(const uint8_t *data, uint64_t len)
{
	FILE *f = fopen(path(), "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
}

static uint64_t
file_size(void)
{
	FILE *f = fopen(path(), "rb");
	long n;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fclose(f);
	return (uint64_t)n;
}

static int
setup(void **state)
{
	struct sc_logfile f;
	char err[512];
	FILE *fp;
	uint8_t v[64];
	uint32_t len;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/seqcast-logfile-test.%d", getpid());
	unlink(path());
	rmdir(dir);
	assert_int_equal(sc_logfile_open(&f, dir, 0, NULL, NULL, err,
	    sizeof(err)), 0);
	for (uint64_t id = 1; id <= NREC; id++) {
		value_of(id, v, &len);
		offsets[id - 1] = (uint64_t)sc_logfile_append(&f, id,
		    1000 + id, 7 * id, v, len);
	}
	assert_int_equal(sc_logfile_append(&f, NREC + 5, 0, 0, v, 1), -1);
	assert_int_equal(sc_logfile_sync(&f), 0);
	offsets[NREC] = f.size;
	sc_logfile_close(&f);
	fp = fopen(path(), "rb");
	assert_non_null(fp);
	image_len = fread(image, 1, sizeof(image), fp);
	fclose(fp);
	assert_int_equal(image_len, offsets[NREC]);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	unlink(path());
	rmdir(dir);
	return 0;
}

/* Records wholly before cut. */
static uint64_t
whole_before(uint64_t cut)
{
	uint64_t k = 0;

	while (k < NREC && offsets[k + 1] <= cut)
		k++;
	return k;
}

static void
test_roundtrip_and_read(void **state)
{
	struct sc_logfile f;
	struct seen s = { 0, 0 };
	char err[512];
	const uint8_t *buf;
	uint8_t v[64];
	uint64_t client, req;
	uint32_t len, n;

	(void)state;
	write_file(image, image_len);
	assert_int_equal(sc_logfile_open(&f, dir, 0, on_record, &s, err,
	    sizeof(err)), 0);
	assert_int_equal(s.count, NREC);
	for (uint64_t k = 1; k <= NREC; k++) {
		assert_int_equal(sc_logfile_get(&f, k, &client, &req, &buf,
		    &len), 0);
		value_of(k, v, &n);
		assert_int_equal(client, 1000 + k);
		assert_int_equal(len, n);
		assert_memory_equal(buf, v, n);
	}
	/* Appending continues the sequence, and is readable before sync. */
	value_of(NREC + 1, v, &n);
	assert_true(sc_logfile_append(&f, NREC + 1, 1, 2, v, n) ==
	    (int64_t)image_len);
	assert_int_equal(sc_logfile_get(&f, NREC + 1, &client, &req, &buf,
	    &len), 0);
	assert_int_equal(req, 2);
	sc_logfile_close(&f);
}

/* A record damaged after the log was opened (and checked) is refused on
 * read-back, its neighbours still served. */
static void
test_read_back_checked(void **state)
{
	struct sc_logfile f;
	struct seen s = { 0, 0 };
	char err[512], path[600];
	const uint8_t *buf;
	uint64_t client, req, off = 0;
	uint32_t len;
	int fd;

	(void)state;
	write_file(image, image_len);
	assert_int_equal(sc_logfile_open(&f, dir, 0, on_record, &s, err,
	    sizeof(err)), 0);
	/* flip a value byte of record 5 on disk */
	for (uint64_t k = 1; k < 5; k++)
		off += SC_LOGREC_HEAD + sc_get_le32(image + off + 4);
	snprintf(path, sizeof(path), "%s", f.path);
	fd = open(path, O_WRONLY);
	assert_true(fd >= 0);
	{
		uint8_t b = image[off + SC_LOGREC_HEAD] ^ 0x20;

		assert_true(pwrite(fd, &b, 1, (off_t)(off + SC_LOGREC_HEAD))
		    == 1);
	}
	close(fd);
	assert_int_equal(sc_logfile_get(&f, 5, &client, &req, &buf, &len),
	    -1);
	assert_int_equal(sc_logfile_get(&f, 4, &client, &req, &buf, &len), 0);
	assert_int_equal(sc_logfile_get(&f, 6, &client, &req, &buf, &len), 0);
	sc_logfile_close(&f);
}

/* Cut the file at every byte offset: the records wholly before the cut
 * are recovered, the partial one is cut off (and said so), the file is
 * truncated to the good length, and the log goes on from there. */
static void
test_torn_tail_every_offset(void **state)
{
	(void)state;
	for (uint64_t cut = 0; cut < image_len; cut++) {
		struct sc_logfile f;
		struct seen s = { 0, 0 };
		char err[512];
		uint64_t k = whole_before(cut);
		int rc;
		uint8_t v[64];
		uint32_t n;

		write_file(image, cut);
		rc = sc_logfile_open(&f, dir, 0, on_record, &s, err,
		    sizeof(err));
		assert_int_equal(s.count, k);
		assert_int_equal(f.last_id, k);
		if (cut == offsets[k]) {
			assert_int_equal(rc, 0);
		} else {
			assert_int_equal(rc, 1);
			assert_non_null(strstr(err, "torn"));
			assert_non_null(strstr(err, path()));
		}
		assert_int_equal(file_size(), offsets[k]);
		value_of(k + 1, v, &n);
		assert_true(sc_logfile_append(&f, k + 1, 1000 + k + 1,
		    7 * (k + 1), v, n) == (int64_t)offsets[k]);
		sc_logfile_close(&f);
	}
}

/* Zeroed blocks at the end (a power failure on some filesystems) are a
 * torn tail too. */
static void
test_zero_tail(void **state)
{
	struct sc_logfile f;
	struct seen s = { 0, 0 };
	char err[512];
	static uint8_t buf[sizeof(image) + 4096];

	(void)state;
	memcpy(buf, image, image_len);
	memset(buf + image_len, 0, 4096);
	write_file(buf, image_len + 4096);
	assert_int_equal(sc_logfile_open(&f, dir, 0, on_record, &s, err,
	    sizeof(err)), 1);
	assert_int_equal(s.count, NREC);
	sc_logfile_close(&f);
	assert_int_equal(file_size(), image_len);
}

/* Flip every bit of every record but the last: start is refused with the
 * file and the damaged record's offset, and no record from the damaged
 * one on is handed out. */
static void
test_flipped_bit_in_middle(void **state)
{
	static uint8_t bad[sizeof(image)];

	(void)state;
	for (uint64_t k = 0; k + 1 < NREC; k++) {
		for (uint64_t byte = offsets[k]; byte < offsets[k + 1]; byte++) {
			for (int bit = 0; bit < 8; bit++) {
				struct sc_logfile f;
				struct seen s = { 0, 0 };
				char err[512], want[400];

				memcpy(bad, image, image_len);
				bad[byte] ^= (uint8_t)(1u << bit);
				write_file(bad, image_len);
				assert_int_equal(sc_logfile_open(&f, dir, 0,
				    on_record, &s, err, sizeof(err)), -1);
				snprintf(want, sizeof(want),
				    "%s: corrupt at offset %llu", path(),
				    (unsigned long long)offsets[k]);
				if (strstr(err, want) == NULL)
					fail_msg("byte %llu bit %d: '%s'",
					    (unsigned long long)byte, bit, err);
				assert_int_equal(s.count, k);
				/* Nothing was cut or changed on disk. */
				assert_int_equal(file_size(), image_len);
			}
		}
	}
}

/* An id out of sequence (a record from another log spliced in) is
 * corruption too. */
static void
test_id_out_of_sequence(void **state)
{
	uint64_t bad, good;
	const char *why;
	static uint8_t two[sizeof(image) * 2];

	(void)state;
	memcpy(two, image, image_len);
	memcpy(two + image_len, image, image_len);
	good = sc_logfile_scan(two, 2 * image_len, NULL, NULL, &bad, &why);
	assert_int_equal(good, image_len);
	assert_int_equal(bad, image_len);
	assert_string_equal(why, "record id out of sequence");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_and_read),
		cmocka_unit_test(test_read_back_checked),
		cmocka_unit_test(test_torn_tail_every_offset),
		cmocka_unit_test(test_zero_tail),
		cmocka_unit_test(test_flipped_bit_in_middle),
		cmocka_unit_test(test_id_out_of_sequence),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
