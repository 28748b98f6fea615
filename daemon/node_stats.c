/*
 * node_stats.c - the node's counters as one JSON object (seqcast stats).
 */
#include <stdarg.h>
#include <stdio.h>

#include "node_priv.h"

struct json {
	char *buf;
	size_t len, used;
	int bad;
};

static void
jput(struct json *j, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (j->bad)
		return;
	va_start(ap, fmt);
	n = vsnprintf(j->buf + j->used, j->len - j->used, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= j->len - j->used)
		j->bad = 1;
	else
		j->used += (size_t)n;
}

static void
jnum(struct json *j, const char *key, uint64_t v)
{
	jput(j, "\"%s\":%llu,", key, (unsigned long long)v);
}

/* "key":"text", with text escaped as JSON wants (a path may hold any
 * byte but NUL). */
static void
jstr(struct json *j, const char *key, const char *text)
{
	jput(j, "\"%s\":\"", key);
	for (const unsigned char *c = (const unsigned char *)text; *c; c++) {
		if (*c == '"' || *c == '\\')
			jput(j, "\\%c", *c);
		else if (*c < 0x20 || *c == 0x7f)
			jput(j, "\\u%04x", *c);
		else
			jput(j, "%c", *c);
	}
	jput(j, "\",");
}

static void
jtrim(struct json *j)
{
	if (!j->bad && j->used > 0 && j->buf[j->used - 1] == ',')
		j->buf[--j->used] = '\0';
}

/* "key":{ ... }, around the members written in between. */
static void
jopen(struct json *j, const char *key)
{
	jput(j, "\"%s\":{", key);
}

static void
jclose(struct json *j)
{
	jtrim(j);
	jput(j, "},");
}

static void
jcounts(struct json *j, const char *key, const uint64_t *v)
{
	jopen(j, key);
	for (int t = 1; t < SC_TYPE_COUNT; t++)
		jnum(j, sc_type_name(t), v[t]);
	jclose(j);
}

static void
jfaults(struct json *j, const struct sc_fault_counts *f, int dir)
{
	jopen(j, dir == SC_IN ? "in" : "out");
	jnum(j, "dropped", f->dropped[dir]);
	jnum(j, "duplicated", f->duplicated[dir]);
	jnum(j, "reordered", f->reordered[dir]);
	jnum(j, "delayed", f->delayed[dir]);
	jclose(j);
}

static void
jstore(struct json *j, const struct sc_node *n)
{
	const struct sc_retx *r = &n->retx;

	jopen(j, "store");
	jnum(j, "entries", sc_retx_count(r));
	jnum(j, "bytes", r->bytes);
	jnum(j, "peak_bytes", r->bytes_peak);
	jnum(j, "cap_bytes", r->bytes_cap);
	jnum(j, "low", r->low);
	jnum(j, "stable", r->stable);
	jnum(j, "freed", r->freed);
	jnum(j, "evicted", r->evicted);
	jclose(j);
}

static void
jrecovery(struct json *j, const struct sc_node *n)
{
	const struct sc_node_stats *s = &n->st;

	jnum(j, "gaps", n->gaps.opened);
	jnum(j, "missing", sc_gap_missing(&n->gaps));
	jnum(j, "nacks_sent", s->nacks_sent);
	jnum(j, "nacks_received", s->nacks_received);
	jnum(j, "nacks_suppressed", n->gaps.suppressed);
	jnum(j, "nacks_hurried", n->gaps.hurries);
	jnum(j, "hints_lost", n->gaps.passed);
	jnum(j, "repair_srtt_us", (uint64_t)n->gaps.srtt);
	jnum(j, "repair_rttvar_us", (uint64_t)n->gaps.rttvar);
	jnum(j, "retransmissions", s->retx_unicast + s->retx_multicast +
	    s->retx_local);
	jnum(j, "retx_unicast", s->retx_unicast);
	jnum(j, "retx_multicast", s->retx_multicast);
	jnum(j, "retx_local", s->retx_local);
	jnum(j, "retx_skipped", s->retx_skipped);
	jnum(j, "duplicates_dropped", s->duplicates);
	jnum(j, "beyond_window_dropped", s->far);
	jnum(j, "gone_sent", s->gone_sent);
	jnum(j, "gone_received", s->gone_received);
	jnum(j, "gone_ids", s->gone_ids);
	jnum(j, "stuck_at", n->gone_from ? n->gone_from - 1 : 0);
}

static void
jrequests(struct json *j, const struct sc_node *n)
{
	const struct sc_node_stats *s = &n->st;

	jnum(j, "acks_sent", s->acks_sent);
	jnum(j, "forwards", s->forwards);
	jnum(j, "reforwards", s->reforwards);
	jnum(j, "fast_reforwards", s->fast_reforwards);
	jnum(j, "repeats", s->repeats);
	jnum(j, "busy", s->busy);
	jnum(j, "too_large", s->too_large);
	jopen(j, "pending");
	jnum(j, "count", n->pend.count);
	jnum(j, "peak", n->pend.peak);
	jnum(j, "cap", n->pend.cap);
	jclose(j);
	jopen(j, "holdback");
	jnum(j, "count", n->hold.count);
	jnum(j, "peak", n->hold.peak);
	jnum(j, "cap", n->hold.cap);
	jclose(j);
	if (n->coordinator)
		jnum(j, "dedup_evicted", n->seq.evicted);
}

static void
jrejects(struct json *j, const struct sc_node *n)
{
	uint64_t total = n->st.unexpected + n->st.rate_limited;

	for (int r = 1; r < SC_REJ_COUNT; r++)
		total += n->st.rejected[r];
	for (int a = SC_AUTH_MISSING; a <= SC_AUTH_UNEXPECTED; a++)
		total += n->st.auth[a];
	jnum(j, "rejected", total);
	jopen(j, "rejected_by");
	for (int r = 1; r < SC_REJ_COUNT; r++)
		jnum(j, sc_reject_name(r), n->st.rejected[r]);
	jnum(j, "unexpected", n->st.unexpected);
	for (int a = SC_AUTH_MISSING; a <= SC_AUTH_UNEXPECTED; a++)
		jnum(j, sc_auth_result_name(a), n->st.auth[a]);
	jnum(j, "rate_limited", n->st.rate_limited);
	jclose(j);
}

int
sc_node_stats_json(const struct sc_node *n, char *buf, size_t len)
{
	struct json j = { buf, len, 0, 0 };
	char digest[33];
	/* Highest id known to exist: stamped, or heard of. */
	uint64_t highest = n->coordinator ? sc_seq_highest(&n->seq) :
	    sc_gap_known(&n->gaps);

	sc_applog_digest(&n->log, digest);
	jput(&j, "{\"id\":%u,\"role\":\"%s\",", n->id,
	    n->coordinator ? "coordinator" : "member");
	jnum(&j, "applied", n->log.count);
	jnum(&j, "highest", highest);
	jput(&j, "\"digest\":\"%s\",", digest);
	jcounts(&j, "in", n->st.in);
	jcounts(&j, "out", n->st.out);
	jnum(&j, "bytes_in", n->st.bytes_in);
	jnum(&j, "bytes_out", n->st.bytes_out);
	jrecovery(&j, n);
	jrejects(&j, n);
	jrequests(&j, n);
	if (n->coordinator)
		jstore(&j, n);
	jopen(&j, "catchup");
	jnum(&j, "behind", highest - n->log.count);
	jnum(&j, "recovered_from_file", n->recovered);
	jnum(&j, "served_from_log", n->served_from_log);
	jclose(&j);
	jopen(&j, "log_file");
	jstr(&j, "path", n->file.fd == -1 ? "" : n->file.path);
	jnum(&j, "bytes", n->file.size);
	jnum(&j, "fsyncs", n->file.syncs);
	jnum(&j, "cut_at_start", n->file.cut_bytes);
	jclose(&j);
	jopen(&j, "faults");
	jfaults(&j, &n->fault.n, SC_IN);
	jfaults(&j, &n->fault.n, SC_OUT);
	jclose(&j);
	jopen(&j, "socket");
	jnum(&j, "rcvbuf", (uint64_t)n->rcvbuf);
	jnum(&j, "sndbuf", (uint64_t)n->sndbuf);
	jnum(&j, "control_socket", (uint64_t)n->control_socket);
	jclose(&j);
	jtrim(&j);
	jput(&j, "}");
	return j.bad ? -1 : (int)j.used;
}
