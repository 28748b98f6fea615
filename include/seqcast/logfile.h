/*
 * logfile.h - a server's durable files in its data_dir: the log of its
 * entries (server-N.log) and its small state file (server-N.state).
 *
 * Log record layout (little-endian, 48-byte header, then the value):
 *   off size
 *     0   4  magic     SC_LOGREC_MAGIC ("SCL2")
 *     4   4  len       value length (<= SC_VALUE_MAX)
 *     8   8  id
 *    16   8  client
 *    24   8  req
 *    32   4  view      the view the id was stamped in
 *    36   4  reserved  0
 *    40   4  body_crc  CRC-32C of the value
 *    44   4  head_crc  CRC-32C of bytes 0..43
 * The header has its own checksum so that a flipped bit in a length is
 * caught as corruption instead of being read as a torn record.
 *
 * Recovery reads records in order, checking magic, checksums, that ids
 * run 1, 2, 3, ... and that views never go down. A record cut short at
 * the end of the file (a write the crash interrupted) is cut off and
 * reported; anything wrong before the last record is corruption: the
 * server refuses to start, naming the file and offset, rather than skip
 * or apply a damaged entry. Entries a new view drops are cut from the end
 * (sc_logfile_truncate).
 *
 * The state file holds the view the server last entered, the last view
 * in which it was a normal member or coordinator, and a commit point
 * (entries up to it are known committed); it is replaced atomically
 * (write, fsync, rename, fsync of the folder).
 */
#ifndef SEQCAST_LOGFILE_H
#define SEQCAST_LOGFILE_H

#include <stddef.h>
#include <stdint.h>

#include "seqcast/wire.h"

#define SC_LOGREC_MAGIC 0x53434c32u /* "SCL2" */
#define SC_LOGREC_OLD   0x53434c31u /* "SCL1": before views */
#define SC_LOGREC_HEAD  48

enum sc_fsync {
	SC_FSYNC_EACH = 0,   /* fdatasync before anything that depends on it */
	SC_FSYNC_INTERVAL,   /* fdatasync every fsync_interval_ms */
	SC_FSYNC_NEVER,      /* leave it to the kernel */
};

struct sc_logfile {
	int fd;
	char path[512];
	uint64_t size;        /* bytes in the file (and the buffer) */
	uint64_t synced;      /* bytes known durable */
	uint64_t last_id;     /* id of the last record */
	uint32_t last_view;   /* its view */
	uint8_t *buf;         /* records not yet written */
	size_t buf_len, buf_cap;
	uint64_t syncs;       /* fdatasync calls */
	uint64_t cut_bytes;   /* torn tail removed at open */
	uint64_t truncated;   /* records cut by sc_logfile_truncate */
	uint64_t *index;      /* offset of ids 1, 1+K, 1+2K, ... */
	uint64_t index_len, index_cap;
	uint8_t *chunk;       /* last block read back, for sequential gets */
	uint64_t chunk_off, chunk_len;
};

/* The durable state beside the log. */
struct sc_state {
	uint32_t view;        /* highest view entered */
	uint32_t normal_view; /* last view whose log (all it held when the
	                         view began included) this server holds */
	uint64_t commit;      /* entries up to here are committed */
	uint64_t claim;       /* entries after this one are not vouched for
	                         in normal_view's log (catching up) */
};

/* Every SC_LOG_INDEX_EVERY-th record's offset is kept in memory (16 bytes
 * an entry for 2M entries: 256 KiB), so any id is one short scan away. */
#define SC_LOG_INDEX_EVERY 64
#define SC_LOG_CHUNK (128 * 1024)

/* Called for each record during recovery; it->value points into a buffer
 * valid for the call. Return -1 to stop. */
typedef int (*sc_logfile_fn)(void *ctx, const struct sc_item *it,
    uint64_t offset);

/* Open (creating) DIR/server-ID.log and replay it through fn. On error,
 * -1 and a message in err (file and offset for corruption). A torn tail is
 * cut and reported in err with return value 1 (not an error). */
int sc_logfile_open(struct sc_logfile *f, const char *dir, uint32_t server,
    sc_logfile_fn fn, void *ctx, char *err, size_t errlen);
void sc_logfile_close(struct sc_logfile *f);
/* Append one record (it->id must be last_id + 1, views must not go
 * down); buffered. Returns the record's offset, or -1. */
int64_t sc_logfile_append(struct sc_logfile *f, const struct sc_item *it);
/* Write buffered records to the file (no fsync). */
int sc_logfile_write(struct sc_logfile *f);
/* Write and fdatasync; a no-op when nothing is pending. */
int sc_logfile_sync(struct sc_logfile *f);
/* Is there anything written or buffered that is not yet durable? */
int sc_logfile_dirty(const struct sc_logfile *f);
/* Cut every record after id keep (written or buffered). 0 or -1. */
int sc_logfile_truncate(struct sc_logfile *f, uint64_t keep);
/* Read back the record with this id (1 <= id <= last_id). The value
 * points into the file's read buffer: valid until the next call. */
int sc_logfile_get(struct sc_logfile *f, uint64_t id, struct sc_item *out);

/* One record's bytes into buf (room for SC_LOGREC_HEAD + it->len); its
 * size. The simulator writes its disk images with it. */
size_t sc_logrec_encode(uint8_t *buf, const struct sc_item *it);
/* One record at buf (avail bytes there): checked (magic, both CRCs)
 * and decoded; the value points into buf. 0 or -1. */
int sc_logrec_decode(const uint8_t *buf, size_t avail, struct sc_item *out);
/* Scan a file image (for tests, the fuzzer and the simulator): returns
 * the number of good bytes, and in *bad the offset of corruption or
 * UINT64_MAX. */
uint64_t sc_logfile_scan(const uint8_t *data, uint64_t size,
    sc_logfile_fn fn, void *ctx, uint64_t *bad, const char **why);

/* The state file DIR/server-ID.state: load (1 if there is none, 0 ok,
 * -1 unreadable or damaged, with a message) and save atomically. */
int sc_state_load(const char *dir, uint32_t server, struct sc_state *st,
    char *err, size_t errlen);
int sc_state_save(const char *dir, uint32_t server, const struct sc_state *st,
    char *err, size_t errlen);
/* The state's bytes (36: magic, view, normal view, commit, claim, CRC). */
#define SC_STATE_LEN 36
void sc_state_encode(uint8_t buf[SC_STATE_LEN], const struct sc_state *st);
int sc_state_decode(const uint8_t *buf, size_t len, struct sc_state *st);

uint32_t sc_crc32c(uint32_t crc, const void *data, size_t len);

#endif
