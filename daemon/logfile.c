/*
 * logfile.c - the durable log: checksummed records, recovery that cuts a
 * torn tail and refuses corruption, buffered appends, fsync on demand.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "seqcast/bytes.h"
#include "seqcast/logfile.h"
#include "seqcast/wire.h"

static uint32_t crc_table[256];

static void
crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = (c & 1) ? (c >> 1) ^ 0x82f63b78u : c >> 1;
		crc_table[i] = c;
	}
}

uint32_t
sc_crc32c(uint32_t crc, const void *data, size_t len)
{
	const uint8_t *p = data;

	if (crc_table[1] == 0)
		crc_init();
	crc = ~crc;
	while (len--)
		crc = crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

static int
all_zero(const uint8_t *p, uint64_t n)
{
	while (n--)
		if (*p++)
			return 0;
	return 1;
}

uint64_t
sc_logfile_scan(const uint8_t *data, uint64_t size, sc_logfile_fn fn,
    void *ctx, uint64_t *bad, const char **why)
{
	uint64_t off = 0, expect = 1;

	*bad = UINT64_MAX;
	*why = NULL;
	while (off < size) {
		const uint8_t *h = data + off;
		uint64_t rem = size - off;
		uint32_t len;

		/* A crash mid-write leaves a prefix of the last record, or
		 * (after a power failure) zeroed blocks: cut them. */
		if (rem < SC_LOGREC_HEAD || all_zero(h, rem))
			break;
		if (sc_get_le32(h) != SC_LOGREC_MAGIC ||
		    sc_get_le32(h + 36) != sc_crc32c(0, h, 36)) {
			*bad = off;
			*why = "bad record header";
			break;
		}
		len = sc_get_le32(h + 4);
		if (len > SC_VALUE_MAX) {
			*bad = off;
			*why = "record length out of range";
			break;
		}
		if (rem < SC_LOGREC_HEAD + (uint64_t)len)
			break;                      /* torn: body cut short */
		if (sc_get_le32(h + 32) !=
		    sc_crc32c(0, h + SC_LOGREC_HEAD, len)) {
			if (rem == SC_LOGREC_HEAD + (uint64_t)len)
				break;              /* torn: last body */
			*bad = off;
			*why = "record checksum mismatch";
			break;
		}
		if (sc_get_le64(h + 8) != expect) {
			*bad = off;
			*why = "record id out of sequence";
			break;
		}
		if (fn != NULL && fn(ctx, expect, sc_get_le64(h + 16),
		    sc_get_le64(h + 24), h + SC_LOGREC_HEAD, len, off) == -1) {
			*bad = off;
			*why = "cannot load record";
			break;
		}
		expect++;
		off += SC_LOGREC_HEAD + len;
	}
	return off;
}

struct count_ctx {
	struct sc_logfile *f;
	sc_logfile_fn fn;
	void *ctx;
	uint64_t last;
};

static int
index_note(struct sc_logfile *f, uint64_t id, uint64_t offset)
{
	if ((id - 1) % SC_LOG_INDEX_EVERY != 0)
		return 0;
	if (f->index_len == f->index_cap) {
		uint64_t n = f->index_cap ? 2 * f->index_cap : 1024;
		uint64_t *x = realloc(f->index, n * sizeof(*x));

		if (x == NULL)
			return -1;
		f->index = x;
		f->index_cap = n;
	}
	f->index[f->index_len++] = offset;
	return 0;
}

static int
count_record(void *ctx, uint64_t id, uint64_t client, uint64_t req,
    const uint8_t *value, uint32_t len, uint64_t offset)
{
	struct count_ctx *c = ctx;

	c->last = id;
	if (index_note(c->f, id, offset) == -1)
		return -1;
	return c->fn ? c->fn(c->ctx, id, client, req, value, len, offset) : 0;
}

static int
logfile_replay(struct sc_logfile *f, sc_logfile_fn fn, void *ctx, char *err,
    size_t errlen)
{
	struct count_ctx c = { f, fn, ctx, 0 };
	struct stat st;
	uint8_t *map = NULL;
	uint64_t good = 0, bad;
	const char *why;

	if (fstat(f->fd, &st) == -1) {
		snprintf(err, errlen, "%s: %s", f->path, strerror(errno));
		return -1;
	}
	if (st.st_size > 0) {
		map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE,
		    f->fd, 0);
		if (map == MAP_FAILED) {
			snprintf(err, errlen, "%s: mmap: %s", f->path,
			    strerror(errno));
			return -1;
		}
		good = sc_logfile_scan(map, (uint64_t)st.st_size,
		    count_record, &c, &bad, &why);
		munmap(map, (size_t)st.st_size);
		if (bad != UINT64_MAX) {
			snprintf(err, errlen, "%s: corrupt at offset %llu: %s "
			    "(refusing to start; the entries before it are "
			    "intact)", f->path, (unsigned long long)bad, why);
			return -1;
		}
	}
	f->last_id = c.last;
	f->size = f->synced = good;
	if (good < (uint64_t)st.st_size) {
		f->cut_bytes = (uint64_t)st.st_size - good;
		if (ftruncate(f->fd, (off_t)good) == -1) {
			snprintf(err, errlen, "%s: cannot cut torn tail: %s",
			    f->path, strerror(errno));
			return -1;
		}
		snprintf(err, errlen, "%s: cut a torn last record: %llu bytes "
		    "at offset %llu", f->path,
		    (unsigned long long)f->cut_bytes, (unsigned long long)good);
		return 1;
	}
	return 0;
}

int
sc_logfile_open(struct sc_logfile *f, const char *dir, uint32_t server,
    sc_logfile_fn fn, void *ctx, char *err, size_t errlen)
{
	int rc;

	memset(f, 0, sizeof(*f));
	f->fd = -1;
	if (mkdir(dir, 0755) == -1 && errno != EEXIST) {
		snprintf(err, errlen, "%s: cannot create: %s", dir,
		    strerror(errno));
		return -1;
	}
	snprintf(f->path, sizeof(f->path), "%s/server-%u.log", dir, server);
	f->fd = open(f->path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (f->fd == -1) {
		snprintf(err, errlen, "%s: cannot open: %s", f->path,
		    strerror(errno));
		return -1;
	}
	rc = logfile_replay(f, fn, ctx, err, errlen);
	if (rc == -1 || lseek(f->fd, (off_t)f->size, SEEK_SET) == -1) {
		close(f->fd);
		f->fd = -1;
		free(f->index);
		f->index = NULL;
		return -1;
	}
	f->buf_cap = 256 * 1024;
	f->buf = malloc(f->buf_cap);
	f->chunk = malloc(SC_LOG_CHUNK);
	if (f->buf == NULL || f->chunk == NULL) {
		snprintf(err, errlen, "out of memory");
		sc_logfile_close(f);
		return -1;
	}
	return rc;
}

void
sc_logfile_close(struct sc_logfile *f)
{
	if (f->fd != -1) {
		sc_logfile_sync(f);
		close(f->fd);
	}
	free(f->buf);
	free(f->chunk);
	free(f->index);
	f->buf = NULL;
	f->chunk = NULL;
	f->index = NULL;
	f->fd = -1;
}

int
sc_logfile_write(struct sc_logfile *f)
{
	size_t done = 0;

	while (done < f->buf_len) {
		ssize_t n = write(f->fd, f->buf + done, f->buf_len - done);

		if (n == -1) {
			if (errno == EINTR)
				continue;
			/* Keep what is not written: a later call retries. */
			memmove(f->buf, f->buf + done, f->buf_len - done);
			f->buf_len -= done;
			return -1;
		}
		done += (size_t)n;
	}
	f->buf_len = 0;
	return 0;
}

int64_t
sc_logfile_append(struct sc_logfile *f, uint64_t id, uint64_t client,
    uint64_t req, const uint8_t *value, uint32_t len)
{
	uint8_t *h;
	int64_t off = (int64_t)f->size;

	if (id != f->last_id + 1 || len > SC_VALUE_MAX ||
	    index_note(f, id, (uint64_t)off) == -1)
		return -1;
	if (f->buf_len + SC_LOGREC_HEAD + len > f->buf_cap &&
	    sc_logfile_write(f) == -1)
		return -1;
	h = f->buf + f->buf_len;
	sc_put_le32(h, SC_LOGREC_MAGIC);
	sc_put_le32(h + 4, len);
	sc_put_le64(h + 8, id);
	sc_put_le64(h + 16, client);
	sc_put_le64(h + 24, req);
	sc_put_le32(h + 32, sc_crc32c(0, value, len));
	sc_put_le32(h + 36, sc_crc32c(0, h, 36));
	memcpy(h + SC_LOGREC_HEAD, value, len);
	f->buf_len += SC_LOGREC_HEAD + len;
	f->size += SC_LOGREC_HEAD + len;
	f->last_id = id;
	return off;
}

int
sc_logfile_dirty(const struct sc_logfile *f)
{
	return f->fd != -1 && f->synced < f->size;
}

int
sc_logfile_sync(struct sc_logfile *f)
{
	if (!sc_logfile_dirty(f))
		return 0;
	if (sc_logfile_write(f) == -1 || fdatasync(f->fd) == -1)
		return -1;
	f->synced = f->size;
	f->syncs++;
	return 0;
}

/* Make [off, off + need) readable from the chunk buffer. */
static int
chunk_load(struct sc_logfile *f, uint64_t off, uint64_t need)
{
	ssize_t n;

	if (off >= f->chunk_off && off + need <= f->chunk_off + f->chunk_len)
		return 0;
	if (off + need > f->size - f->buf_len && sc_logfile_write(f) == -1)
		return -1;
	n = pread(f->fd, f->chunk, SC_LOG_CHUNK, (off_t)off);
	if (n < 0 || (uint64_t)n < need)
		return -1;
	f->chunk_off = off;
	f->chunk_len = (uint64_t)n;
	return 0;
}

int
sc_logfile_get(struct sc_logfile *f, uint64_t id, uint64_t *client,
    uint64_t *req, const uint8_t **value, uint32_t *len)
{
	uint64_t k = (id - 1) / SC_LOG_INDEX_EVERY, off, at;

	if (id == 0 || id > f->last_id || k >= f->index_len)
		return -1;
	off = f->index[k];
	/* Walk from the indexed record; the chunk holds at least the 64
	 * records of one index step (64 x 1064 bytes < 128 KiB). */
	for (at = k * SC_LOG_INDEX_EVERY + 1;; at++) {
		const uint8_t *h;
		uint32_t n;

		if (chunk_load(f, off, SC_LOGREC_HEAD) == -1)
			return -1;
		h = f->chunk + (off - f->chunk_off);
		n = sc_get_le32(h + 4);
		if (sc_get_le32(h) != SC_LOGREC_MAGIC || n > SC_VALUE_MAX ||
		    sc_get_le64(h + 8) != at)
			return -1;
		if (at == id) {
			if (chunk_load(f, off, SC_LOGREC_HEAD + n) == -1)
				return -1;
			h = f->chunk + (off - f->chunk_off);
			/* Read back as checked at start: a record damaged
			 * since (disk, another writer) is refused, never
			 * handed out. */
			if (sc_get_le32(h + 36) != sc_crc32c(0, h, 36) ||
			    sc_get_le32(h + 32) != sc_crc32c(0,
			    h + SC_LOGREC_HEAD, n))
				return -1;
			*client = sc_get_le64(h + 16);
			*req = sc_get_le64(h + 24);
			*value = h + SC_LOGREC_HEAD;
			*len = n;
			return 0;
		}
		off += SC_LOGREC_HEAD + n;
	}
}
