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

/* Record id as the tests write it: views 0, 0, 0, 0, 1, 1, ... */
static struct sc_item
rec(uint64_t id, uint8_t *v)
{
	struct sc_item it;

	memset(&it, 0, sizeof(it));
	value_of(id, v, &it.len);
	it.id = id;
	it.client = 1000 + id;
	it.req = 7 * id;
	it.view = (uint32_t)(id / 4) * 3;
	it.value = v;
	return it;
}

static int
on_record(void *ctx, const struct sc_item *it, uint64_t offset)
{
	struct seen *s = ctx;
	uint8_t v[64];
	struct sc_item want = rec(it->id, v);

	assert_int_equal(it->id, s->last + 1);
	assert_int_equal(it->client, want.client);
	assert_int_equal(it->req, want.req);
	assert_int_equal(it->view, want.view);
	assert_int_equal(it->len, want.len);
	assert_memory_equal(it->value, v, want.len);
	assert_int_equal(offset, offsets[it->id - 1]);
	s->last = it->id;
	s->count++;
	return 0;
}

static void
check_get(struct sc_logfile *f, uint64_t id)
{
	uint8_t v[64];
	struct sc_item want = rec(id, v), got;

	assert_int_equal(sc_logfile_get(f, id, &got), 0);
	assert_int_equal(got.id, id);
	assert_int_equal(got.client, want.client);
	assert_int_equal(got.req, want.req);
	assert_int_equal(got.view, want.view);
	assert_int_equal(got.len, want.len);
	assert_memory_equal(got.value, v, want.len);
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
	struct sc_item it;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/seqcast-logfile-test.%d", getpid());
	unlink(path());
	rmdir(dir);
	assert_int_equal(sc_logfile_open(&f, dir, 0, NULL, NULL, err,
	    sizeof(err)), 0);
	for (uint64_t id = 1; id <= NREC; id++) {
		it = rec(id, v);
		offsets[id - 1] = (uint64_t)sc_logfile_append(&f, &it);
	}
	it = rec(NREC + 5, v);
	assert_int_equal(sc_logfile_append(&f, &it), -1);
	it = rec(NREC + 1, v);
	it.view = 0;     /* views never go down along a log */
	assert_int_equal(sc_logfile_append(&f, &it), -1);
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
	uint8_t v[64];
	struct sc_item it;

	(void)state;
	write_file(image, image_len);
	assert_int_equal(sc_logfile_open(&f, dir, 0, on_record, &s, err,
	    sizeof(err)), 0);
	assert_int_equal(s.count, NREC);
	assert_int_equal(f.last_view, rec(NREC, v).view);
	for (uint64_t k = 1; k <= NREC; k++)
		check_get(&f, k);
	/* Appending continues the sequence, and is readable before sync. */
	it = rec(NREC + 1, v);
	assert_true(sc_logfile_append(&f, &it) == (int64_t)image_len);
	check_get(&f, NREC + 1);
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
	struct sc_item it;
	uint64_t off = 0;
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
	assert_int_equal(sc_logfile_get(&f, 5, &it), -1);
	check_get(&f, 4);
	check_get(&f, 6);
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
		struct sc_item it;

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
		it = rec(k + 1, v);
		assert_true(sc_logfile_append(&f, &it) == (int64_t)offsets[k]);
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

/* Cut the log after every id: what is left reads back, the file has the
 * size of the kept records, the sequence goes on at keep + 1 (with any
 * view not below the kept one's), and a reopen finds exactly that. */
static void
test_truncate(void **state)
{
	(void)state;
	for (uint64_t keep = 0; keep <= NREC; keep++) {
		struct sc_logfile f;
		struct seen s = { 0, 0 };
		char err[512];
		uint8_t v[64];
		struct sc_item it;

		write_file(image, image_len);
		assert_int_equal(sc_logfile_open(&f, dir, 0, NULL, NULL, err,
		    sizeof(err)), 0);
		check_get(&f, NREC);          /* fills the read cache */
		assert_int_equal(sc_logfile_truncate(&f, keep), 0);
		assert_int_equal(f.last_id, keep);
		assert_int_equal(f.size, offsets[keep]);
		assert_int_equal(file_size(), offsets[keep]);
		for (uint64_t k = 1; k <= keep; k++)
			check_get(&f, k);
		assert_int_equal(sc_logfile_get(&f, keep + 1, &it), -1);
		assert_int_equal(sc_logfile_truncate(&f, keep + 1), -1);
		/* The same ids again, written anew: read back, not the
		 * cached bytes of before. */
		for (uint64_t k = keep + 1; k <= NREC; k++) {
			it = rec(k, v);
			assert_true(sc_logfile_append(&f, &it) ==
			    (int64_t)offsets[k - 1]);
		}
		for (uint64_t k = 1; k <= NREC; k++)
			check_get(&f, k);
		assert_int_equal(sc_logfile_truncate(&f, keep), 0);
		sc_logfile_close(&f);
		assert_int_equal(sc_logfile_open(&f, dir, 0, on_record, &s,
		    err, sizeof(err)), 0);
		assert_int_equal(s.count, keep);
		sc_logfile_close(&f);
	}
}

/* A record whose view is lower than the one before it is corruption; a
 * log of the format before views is refused with a clear message. */
static void
test_view_order_and_old_format(void **state)
{
	static uint8_t bad[sizeof(image)];
	uint8_t *h = bad + offsets[NREC - 2];
	uint64_t b, good;
	const char *why;

	(void)state;
	memcpy(bad, image, image_len);
	sc_put_le32(h + 32, 0);
	sc_put_le32(h + 44, sc_crc32c(0, h, 44));
	good = sc_logfile_scan(bad, image_len, NULL, NULL, &b, &why);
	assert_int_equal(good, offsets[NREC - 2]);
	assert_int_equal(b, offsets[NREC - 2]);
	assert_string_equal(why, "record view goes down");
	memcpy(bad, image, image_len);
	sc_put_le32(bad, SC_LOGREC_OLD);
	good = sc_logfile_scan(bad, image_len, NULL, NULL, &b, &why);
	assert_int_equal(good, 0);
	assert_non_null(strstr(why, "older seqcast"));
}

/* The state file: none, saved, read back, damaged. */
static void
test_state_file(void **state)
{
	struct sc_state st = { 7, 5, 123456789012ULL, 99 }, got;
	char err[512], p[600];
	uint8_t b[SC_STATE_LEN];
	FILE *f;

	(void)state;
	snprintf(p, sizeof(p), "%s/server-3.state", dir);
	unlink(p);
	assert_int_equal(sc_state_load(dir, 3, &got, err, sizeof(err)), 1);
	assert_int_equal(sc_state_save(dir, 3, &st, err, sizeof(err)), 0);
	assert_int_equal(sc_state_load(dir, 3, &got, err, sizeof(err)), 0);
	assert_int_equal(got.view, 7);
	assert_int_equal(got.normal_view, 5);
	assert_true(got.commit == st.commit);
	assert_true(got.claim == 99);
	for (size_t i = 0; i < SC_STATE_LEN * 8; i++) {
		sc_state_encode(b, &st);
		b[i / 8] ^= (uint8_t)(1u << (i % 8));
		assert_int_equal(sc_state_decode(b, sizeof(b), &got), -1);
	}
	f = fopen(p, "wb");
	assert_non_null(f);
	fputs("garbage", f);
	fclose(f);
	assert_int_equal(sc_state_load(dir, 3, &got, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "damaged"));
	unlink(p);
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
		cmocka_unit_test(test_truncate),
		cmocka_unit_test(test_view_order_and_old_format),
		cmocka_unit_test(test_state_file),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
