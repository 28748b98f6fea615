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

size_t
sc_logrec_encode(uint8_t *h, const struct sc_item *it)
{
	sc_put_le32(h, SC_LOGREC_MAGIC);
	sc_put_le32(h + 4, it->len);
	sc_put_le64(h + 8, it->id);
	sc_put_le64(h + 16, it->client);
	sc_put_le64(h + 24, it->req);
	sc_put_le32(h + 32, it->view);
	sc_put_le32(h + 36, 0);
	sc_put_le32(h + 40, sc_crc32c(0, it->value, it->len));
	sc_put_le32(h + 44, sc_crc32c(0, h, 44));
	if (it->len > 0)
		memcpy(h + SC_LOGREC_HEAD, it->value, it->len);
	return SC_LOGREC_HEAD + it->len;
}

/* Check the header at h (rem bytes left in the image): NULL if good, else
 * why not. *torn: it is only cut short. */
static const char *
rec_check(const uint8_t *h, uint64_t rem, uint64_t expect, uint32_t view,
    int *torn)
{
	uint32_t len;

	*torn = 0;
	if (sc_get_le32(h) == SC_LOGREC_OLD)
		return "a log file of an older seqcast (format 1, before "
		    "views): move it away to start this server empty";
	if (sc_get_le32(h) != SC_LOGREC_MAGIC ||
	    sc_get_le32(h + 44) != sc_crc32c(0, h, 44))
		return "bad record header";
	len = sc_get_le32(h + 4);
	if (len > SC_VALUE_MAX)
		return "record length out of range";
	if (rem < SC_LOGREC_HEAD + (uint64_t)len) {
		*torn = 1;                  /* body cut short */
		return NULL;
	}
	if (sc_get_le32(h + 40) != sc_crc32c(0, h + SC_LOGREC_HEAD, len)) {
		*torn = (rem == SC_LOGREC_HEAD + (uint64_t)len);
		return *torn ? NULL : "record checksum mismatch";
	}
	if (sc_get_le64(h + 8) != expect)
		return "record id out of sequence";
	if (sc_get_le32(h + 32) < view)
		return "record view goes down";
	return NULL;
}

static void
rec_item(const uint8_t *h, struct sc_item *it)
{
	memset(it, 0, sizeof(*it));
	it->len = sc_get_le32(h + 4);
	it->id = sc_get_le64(h + 8);
	it->client = sc_get_le64(h + 16);
	it->req = sc_get_le64(h + 24);
	it->view = sc_get_le32(h + 32);
	it->value = h + SC_LOGREC_HEAD;
}

int
sc_logrec_decode(const uint8_t *h, size_t avail, struct sc_item *out)
{
	uint32_t len;

	if (avail < SC_LOGREC_HEAD || sc_get_le32(h) != SC_LOGREC_MAGIC ||
	    sc_get_le32(h + 44) != sc_crc32c(0, h, 44))
		return -1;
	len = sc_get_le32(h + 4);
	if (len > SC_VALUE_MAX || avail < SC_LOGREC_HEAD + (size_t)len ||
	    sc_get_le32(h + 40) != sc_crc32c(0, h + SC_LOGREC_HEAD, len))
		return -1;
	rec_item(h, out);
	return 0;
}

uint64_t
sc_logfile_scan(const uint8_t *data, uint64_t size, sc_logfile_fn fn,
    void *ctx, uint64_t *bad, const char **why)
{
	uint64_t off = 0, expect = 1;
	uint32_t view = 0;

	*bad = UINT64_MAX;
	*why = NULL;
	while (off < size) {
		const uint8_t *h = data + off;
		uint64_t rem = size - off;
		struct sc_item it;
		int torn;

		/* A crash mid-write leaves a prefix of the last record, or
		 * (after a power failure) zeroed blocks: cut them. */
		if (rem < SC_LOGREC_HEAD || all_zero(h, rem))
			break;
		*why = rec_check(h, rem, expect, view, &torn);
		if (*why != NULL) {
			*bad = off;
			break;
		}
		if (torn)
			break;
		rec_item(h, &it);
		if (fn != NULL && fn(ctx, &it, off) == -1) {
			*bad = off;
			*why = "cannot load record";
			break;
		}
		view = it.view;
		expect++;
		off += SC_LOGREC_HEAD + it.len;
	}
	return off;
}

struct count_ctx {
	struct sc_logfile *f;
	sc_logfile_fn fn;
	void *ctx;
	uint64_t last;
	uint32_t last_view;
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
count_record(void *ctx, const struct sc_item *it, uint64_t offset)
{
	struct count_ctx *c = ctx;

	c->last = it->id;
	c->last_view = it->view;
	if (index_note(c->f, it->id, offset) == -1)
		return -1;
	return c->fn ? c->fn(c->ctx, it, offset) : 0;
}

static int
logfile_replay(struct sc_logfile *f, sc_logfile_fn fn, void *ctx, char *err,
    size_t errlen)
{
	struct count_ctx c = { f, fn, ctx, 0, 0 };
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
	f->last_view = c.last_view;
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
sc_logfile_append(struct sc_logfile *f, const struct sc_item *it)
{
	int64_t off = (int64_t)f->size;

	if (it->id != f->last_id + 1 || it->len > SC_VALUE_MAX ||
	    (it->id > 1 && it->view < f->last_view) ||
	    index_note(f, it->id, (uint64_t)off) == -1)
		return -1;
	if (f->buf_len + SC_LOGREC_HEAD + it->len > f->buf_cap &&
	    sc_logfile_write(f) == -1) {
		f->index_len -= ((it->id - 1) % SC_LOG_INDEX_EVERY == 0);
		return -1;
	}
	f->buf_len += sc_logrec_encode(f->buf + f->buf_len, it);
	f->size += SC_LOGREC_HEAD + it->len;
	f->last_id = it->id;
	f->last_view = it->view;
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

/* Offset of record id (1 <= id <= last_id + 1: one past the end is the
 * file's size), walking from the index; -1 if unreadable. */
static int64_t
rec_offset(struct sc_logfile *f, uint64_t id)
{
	uint64_t k = (id - 1) / SC_LOG_INDEX_EVERY, off, at;

	if (id == f->last_id + 1)
		return (int64_t)f->size;
	if (id == 0 || id > f->last_id || k >= f->index_len)
		return -1;
	off = f->index[k];
	/* The chunk holds at least the 64 records of one index step
	 * (64 x 1072 bytes < 128 KiB). */
	for (at = k * SC_LOG_INDEX_EVERY + 1; at < id; at++) {
		const uint8_t *h;

		if (chunk_load(f, off, SC_LOGREC_HEAD) == -1)
			return -1;
		h = f->chunk + (off - f->chunk_off);
		if (sc_get_le32(h) != SC_LOGREC_MAGIC ||
		    sc_get_le32(h + 4) > SC_VALUE_MAX ||
		    sc_get_le64(h + 8) != at)
			return -1;
		off += SC_LOGREC_HEAD + sc_get_le32(h + 4);
	}
	return (int64_t)off;
}

int
sc_logfile_get(struct sc_logfile *f, uint64_t id, struct sc_item *out)
{
	int64_t off = id <= f->last_id ? rec_offset(f, id) : -1;
	const uint8_t *h;
	uint32_t n;

	if (off < 0 || chunk_load(f, (uint64_t)off, SC_LOGREC_HEAD) == -1)
		return -1;
	h = f->chunk + ((uint64_t)off - f->chunk_off);
	n = sc_get_le32(h + 4);
	if (n > SC_VALUE_MAX || sc_get_le64(h + 8) != id ||
	    chunk_load(f, (uint64_t)off, SC_LOGREC_HEAD + n) == -1)
		return -1;
	h = f->chunk + ((uint64_t)off - f->chunk_off);
	/* Read back as checked at start: a record damaged since (disk,
	 * another writer) is refused, never handed out. */
	return sc_logrec_decode(h, SC_LOGREC_HEAD + n, out);
}

int
sc_logfile_truncate(struct sc_logfile *f, uint64_t keep)
{
	int64_t off;

	if (keep >= f->last_id)
		return keep == f->last_id ? 0 : -1;
	if (sc_logfile_write(f) == -1)
		return -1;
	off = rec_offset(f, keep + 1);
	if (off < 0 || ftruncate(f->fd, off) == -1 ||
	    lseek(f->fd, off, SEEK_SET) == -1)
		return -1;
	f->truncated += f->last_id - keep;
	f->size = (uint64_t)off;
	if (f->synced > f->size)
		f->synced = f->size;
	/* Bytes from the cut on are gone (and will be written again): the
	 * read cache must not serve them. */
	f->chunk_len = 0;
	f->index_len = keep == 0 ? 0 : (keep - 1) / SC_LOG_INDEX_EVERY + 1;
	f->last_id = keep;
	f->last_view = 0;
	if (keep > 0) {
		struct sc_item it;

		if (sc_logfile_get(f, keep, &it) == -1)
			return -1;
		f->last_view = it.view;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* The state file */

#define STATE_MAGIC 0x53435332u /* "SCS2" */

void
sc_state_encode(uint8_t b[SC_STATE_LEN], const struct sc_state *st)
{
	sc_put_le32(b, STATE_MAGIC);
	sc_put_le32(b + 4, st->view);
	sc_put_le32(b + 8, st->normal_view);
	sc_put_le64(b + 12, st->commit);
	sc_put_le64(b + 20, st->claim);
	sc_put_le32(b + 28, 0);
	sc_put_le32(b + 32, sc_crc32c(0, b, 32));
}

int
sc_state_decode(const uint8_t *b, size_t len, struct sc_state *st)
{
	if (len != SC_STATE_LEN || sc_get_le32(b) != STATE_MAGIC ||
	    sc_get_le32(b + 32) != sc_crc32c(0, b, 32))
		return -1;
	st->view = sc_get_le32(b + 4);
	st->normal_view = sc_get_le32(b + 8);
	st->commit = sc_get_le64(b + 12);
	st->claim = sc_get_le64(b + 20);
	return 0;
}

int
sc_state_load(const char *dir, uint32_t server, struct sc_state *st,
    char *err, size_t errlen)
{
	char path[600];
	uint8_t b[SC_STATE_LEN + 1];
	ssize_t n;
	int fd;

	memset(st, 0, sizeof(*st));
	snprintf(path, sizeof(path), "%s/server-%u.state", dir, server);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1) {
		if (errno == ENOENT)
			return 1;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	n = read(fd, b, sizeof(b));
	close(fd);
	if (n < 0 || sc_state_decode(b, (size_t)n, st) == -1) {
		snprintf(err, errlen, "%s: damaged state file", path);
		return -1;
	}
	return 0;
}

int
sc_state_save(const char *dir, uint32_t server, const struct sc_state *st,
    char *err, size_t errlen)
{
	char path[600], tmp[610];
	uint8_t b[SC_STATE_LEN];
	int fd, dfd, ok;

	sc_state_encode(b, st);
	snprintf(path, sizeof(path), "%s/server-%u.state", dir, server);
	snprintf(tmp, sizeof(tmp), "%s.new", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd == -1)
		goto fail;
	ok = write(fd, b, sizeof(b)) == (ssize_t)sizeof(b) && fsync(fd) == 0;
	if (close(fd) == -1 || !ok || rename(tmp, path) == -1)
		goto fail;
	/* The rename itself must reach the disk. */
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd == -1)
		goto fail;
	ok = fsync(dfd) == 0;
	close(dfd);
	if (!ok)
		goto fail;
	return 0;
fail:
	snprintf(err, errlen, "%s: cannot save: %s", path, strerror(errno));
	return -1;
}
