/*
 * seqcastd_io.c - the node's I/O interface (struct sc_io) as the daemon
 * implements it: sends through the fault wrapper to the sockets, the log
 * and state files of the data_dir, log lines to stderr, the shell's part
 * of the stats.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <ev.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "seqcast/log.h"
#include "shell.h"

static void
io_send(void *ctx, const struct sockaddr_in *to, const void *buf, size_t len)
{
	struct shell *s = ctx;

	sc_faultnet_send(s->fault, mono_us(), to, buf, len);
}

static int
io_append(void *ctx, const struct sc_item *it)
{
	struct shell *s = ctx;

	errno = 0;
	if (sc_logfile_append(&s->file, it) < 0) {
		if (errno == 0)
			errno = EINVAL;
		return -1;
	}
	return 0;
}

static int
io_truncate(void *ctx, uint64_t keep)
{
	struct shell *s = ctx;

	errno = 0;
	if (sc_logfile_truncate(&s->file, keep) == -1) {
		if (errno == 0)
			errno = EIO;
		return -1;
	}
	return 0;
}

static int
io_read(void *ctx, uint64_t id, struct sc_item *out)
{
	struct shell *s = ctx;

	return sc_logfile_get(&s->file, id, out);
}

static int
io_save_state(void *ctx, const struct sc_state *st)
{
	struct shell *s = ctx;
	char err[700];

	if (sc_state_save(s->dir, s->id, st, err, sizeof(err)) == 0)
		return 0;
	sc_warn("%s", err);
	return -1;
}

static void
io_sync(void *ctx, uint64_t ticket, int fds)
{
	struct shell *s = ctx;

	s->sync_asked = 1;
	s->sync_ticket = ticket;
	s->sync_fds = fds;
}

static void
io_log(void *ctx, int level, const char *line)
{
	(void)ctx;
	sc_log(level, "%s", line);
}

/* "path": the log file's, escaped as a JSON string. */
static int
json_path(char *buf, size_t len, const char *path)
{
	size_t used = 0;
	int k;

	if (len == 0)
		return -1;
	buf[0] = '\0';	/* an empty path writes nothing below */
	for (const unsigned char *c = (const unsigned char *)path; *c; c++) {
		if (*c == '"' || *c == '\\')
			k = snprintf(buf + used, len - used, "\\%c", *c);
		else if (*c < 0x20 || *c == 0x7f)
			k = snprintf(buf + used, len - used, "\\u%04x", *c);
		else
			k = snprintf(buf + used, len - used, "%c", *c);
		if (k < 0 || (size_t)k >= len - used)
			return -1;
		used += (size_t)k;
	}
	return (int)used;
}

static int
io_stats(void *ctx, char *buf, size_t len)
{
	struct shell *s = ctx;
	char path[1200];
	int a, b;

	a = sc_faultnet_json(s->fault, buf, len);
	if (a < 0 || json_path(path, sizeof(path), s->file.fd == -1 ? "" :
	    s->file.path) < 0)
		return -1;
	b = snprintf(buf + a, len - (size_t)a, ",\"log_file\":{\"path\":"
	    "\"%s\",\"bytes\":%llu,\"fsyncs\":%llu,\"cut_at_start\":%llu,"
	    "\"truncated\":%llu},\"send_errors\":%llu", path,
	    (unsigned long long)s->file.size, (unsigned long long)s->file.syncs,
	    (unsigned long long)s->file.cut_bytes,
	    (unsigned long long)s->file.truncated,
	    (unsigned long long)s->send_errors);
	if (b < 0 || (size_t)b >= len - (size_t)a)
		return -1;
	return a + b;
}

/* Each record of the log file, in order, into the node. */
static int
load_entry(void *ctx, const struct sc_item *it, uint64_t offset)
{
	struct shell *s = ctx;

	(void)offset;
	return sc_node_load(s->node, it);
}

/* The log and state files of the data_dir (if any) into the node. */
int
shell_load(struct shell *s)
{
	struct sc_state st;
	char err[700];
	int rc, have;

	memset(&st, 0, sizeof(st));
	if (s->dir == NULL) {
		sc_node_load_state(s->node, &st, 0);
		return 0;
	}
	rc = sc_logfile_open(&s->file, s->dir, s->id, load_entry, s, err,
	    sizeof(err));
	if (rc == -1) {
		sc_log(SC_LOG_ERROR, "%s", err);
		return -1;
	}
	if (rc == 1)
		sc_warn("%s", err);
	have = sc_state_load(s->dir, s->id, &st, err, sizeof(err));
	if (have == -1) {
		sc_log(SC_LOG_ERROR, "%s", err);
		return -1;
	}
	sc_node_load_state(s->node, &st, have == 0);
	sc_info("log %s: %llu entries recovered (%s state file)",
	    s->file.path, (unsigned long long)s->file.last_id,
	    have == 0 ? "with its" : "no");
	return 0;
}

struct sc_node *
shell_node(struct shell *s, uint32_t id)
{
	struct sc_io io;

	memset(&io, 0, sizeof(io));
	io.ctx = s;
	io.send = io_send;
	io.log = io_log;
	io.stats = io_stats;
	if (s->dir != NULL) {
		io.append = io_append;
		io.truncate = io_truncate;
		io.read = io_read;
		io.save_state = io_save_state;
		io.sync = io_sync;
	}
	return sc_node_new(&s->conf, id, &io, (uint64_t)wall_us() ^
	    ((uint64_t)getpid() << 32));
}
