/*
 * logfile.h - a server's durable log: applied entries appended to
 * DATA_DIR/server-N.log as records framed with a length and checksums.
 *
 * Record layout (little-endian, 40-byte header, then the value):
 *   off size
 *     0   4  magic     SC_LOGREC_MAGIC
 *     4   4  len       value length (<= SC_VALUE_MAX)
 *     8   8  id
 *    16   8  client
 *    24   8  req
 *    32   4  body_crc  CRC-32C of the value
 *    36   4  head_crc  CRC-32C of bytes 0..35
 * The header has its own checksum so that a flipped bit in a length is
 * caught as corruption instead of being read as a torn record.
 *
 * Recovery reads records in order, checking magic, checksums and that ids
 * run 1, 2, 3, ... A record cut short at the end of the file (a write the
 * crash interrupted) is cut off and reported; anything wrong before the
 * last record is corruption: the server refuses to start, naming the file
 * and offset, rather than skip or apply a damaged entry.
 */
#ifndef SEQCAST_LOGFILE_H
#define SEQCAST_LOGFILE_H

#include <stddef.h>
#include <stdint.h>

#define SC_LOGREC_MAGIC 0x53434c31u /* "SCL1" */
#define SC_LOGREC_HEAD  40

enum sc_fsync {
	SC_FSYNC_EACH = 0,   /* fdatasync before any DATA or ACK leaves */
	SC_FSYNC_INTERVAL,   /* fdatasync every fsync_interval_ms */
	SC_FSYNC_NEVER,      /* leave it to the kernel */
};

struct sc_logfile {
	int fd;
	char path[512];
	uint64_t size;        /* bytes in the file (and the buffer) */
	uint64_t synced;      /* bytes known durable */
	uint64_t last_id;     /* id of the last record */
	uint8_t *buf;         /* records not yet written */
	size_t buf_len, buf_cap;
	uint64_t syncs;       /* fdatasync calls */
	uint64_t cut_bytes;   /* torn tail removed at open */
	uint64_t *index;      /* offset of ids 1, 1+K, 1+2K, ... */
	uint64_t index_len, index_cap;
	uint8_t *chunk;       /* last block read back, for sequential gets */
	uint64_t chunk_off, chunk_len;
};

/* Every SC_LOG_INDEX_EVERY-th record's offset is kept in memory (16 bytes
 * an entry for 2M entries: 256 KiB), so any id is one short scan away. */
#define SC_LOG_INDEX_EVERY 64
#define SC_LOG_CHUNK (128 * 1024)

/* Called for each record during recovery; value points into a buffer
 * valid for the call. Return -1 to stop. */
typedef int (*sc_logfile_fn)(void *ctx, uint64_t id, uint64_t client,
    uint64_t req, const uint8_t *value, uint32_t len, uint64_t offset);

/* Open (creating) DIR/server-ID.log and replay it through fn. On error,
 * -1 and a message in err (file and offset for corruption). A torn tail is
 * cut and reported in err with return value 1 (not an error). */
int sc_logfile_open(struct sc_logfile *f, const char *dir, uint32_t server,
    sc_logfile_fn fn, void *ctx, char *err, size_t errlen);
void sc_logfile_close(struct sc_logfile *f);
/* Append one record (id must be last_id + 1); buffered. Returns the
 * record's offset, or -1. */
int64_t sc_logfile_append(struct sc_logfile *f, uint64_t id, uint64_t client,
    uint64_t req, const uint8_t *value, uint32_t len);
/* Write buffered records to the file (no fsync). */
int sc_logfile_write(struct sc_logfile *f);
/* Write and fdatasync; a no-op when nothing is pending. */
int sc_logfile_sync(struct sc_logfile *f);
/* Is there anything written or buffered that is not yet durable? */
int sc_logfile_dirty(const struct sc_logfile *f);
/* Read back the record with this id (1 <= id <= last_id). The value
 * points into the file's read buffer: valid until the next call. */
int sc_logfile_get(struct sc_logfile *f, uint64_t id, uint64_t *client,
    uint64_t *req, const uint8_t **value, uint32_t *len);

/* Scan a file image (for tests and the fuzzer): returns the number of
 * good bytes, and in *bad the offset of corruption or UINT64_MAX. */
uint64_t sc_logfile_scan(const uint8_t *data, uint64_t size,
    sc_logfile_fn fn, void *ctx, uint64_t *bad, const char **why);

uint32_t sc_crc32c(uint32_t crc, const void *data, size_t len);

#endif
