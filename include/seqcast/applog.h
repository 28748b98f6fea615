/*
 * applog.h - a server's applied log: entries 1..count in id order, and a
 * running digest of them.
 *
 * The digest is BLAKE2b-128 (libsodium) over every applied record in order
 * (id and length as big-endian u64/u32, then the value bytes), i.e. over
 * exactly what `seqcast log` shows: two servers with equal logs have equal
 * digests, and a log that differs in any id or value byte differs in
 * digest.
 */
#ifndef SEQCAST_APPLOG_H
#define SEQCAST_APPLOG_H

#include <sodium.h>
#include <stdint.h>

#include "seqcast/logfile.h"
#include "seqcast/wire.h"

struct sc_logrec {
	uint64_t client;
	uint64_t req;
	uint64_t off;      /* into the arena */
	uint32_t len;
};

struct sc_applog {
	struct sc_logrec *rec;    /* rec[id - 1] */
	uint64_t count;           /* highest applied id */
	uint64_t cap;
	uint8_t *arena;           /* all values, back to back */
	uint64_t arena_len, arena_cap;
	crypto_generichash_state digest;
	struct sc_logfile *file;  /* set: values live in the log file, not
	                             in memory (bounded memory for long runs) */
};

int sc_applog_init(struct sc_applog *l);
void sc_applog_free(struct sc_applog *l);
/* Append entry id == count + 1. -1 on a wrong id or no memory. */
int sc_applog_append(struct sc_applog *l, uint64_t id, uint64_t client,
    uint64_t req, const uint8_t *value, uint32_t len);
/* Fill *out (id, client, req, value, len) for 1 <= id <= count. */
int sc_applog_get(const struct sc_applog *l, uint64_t id,
    struct sc_item *out);
/* From now on keep values in f (already holding ids 1..count+...)
 * instead of memory; frees the in-memory copies. */
void sc_applog_use_file(struct sc_applog *l, struct sc_logfile *f);
/* Hex digest of the log so far: 32 hex digits and a NUL. */
void sc_applog_digest(const struct sc_applog *l, char hex[33]);

#endif
