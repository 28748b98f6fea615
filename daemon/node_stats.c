/*
 * node_stats.c - the node's counters as one JSON object (seqcast stats).
 */
#include <stdarg.h>
#include <stdio.h>

#include "node_rooms.h"

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
jview(struct json *j, const struct sc_node *n)
{
	const struct node_view *v = &n->vw;

	jnum(j, "view", v->view);
	jnum(j, "coordinator", node_coordinator_of(n, v->view));
	jnum(j, "normal_view", v->normal_view);
	jnum(j, "view_changes", v->changes);
	jnum(j, "last_failover_us", (uint64_t)v->last_failover_us);
	jnum(j, "truncated", v->truncated);
	jnum(j, "config_refused", v->config_refused);
	jnum(j, "quorum", (uint64_t)(v->role == SC_ROLE_COORDINATOR ?
	    v->quorum : 0));
}

static void
jrecovery(struct json *j, const struct sc_node *n)
{
	const struct node_repair *r = &n->rp;

	jnum(j, "gaps", r->gaps.opened);
	jnum(j, "gaps_from_heartbeat", r->gaps_by_heartbeat);
	jnum(j, "gaps_from_stamped", r->gaps_by_stamped);
	jnum(j, "missing", sc_gap_missing(&r->gaps));
	jnum(j, "nacks_sent", r->nacks_sent);
	jnum(j, "nacks_received", r->nacks_received);
	jnum(j, "nacks_suppressed", r->gaps.suppressed);
	jnum(j, "nacks_hurried", r->gaps.hurries);
	jnum(j, "hints_lost", r->gaps.passed);
	jnum(j, "repair_srtt_us", (uint64_t)r->gaps.repair.srtt);
	jnum(j, "repair_rttvar_us", (uint64_t)r->gaps.repair.rttvar);
	jnum(j, "retransmissions", r->retx_unicast + r->retx_multicast);
	jnum(j, "retx_unicast", r->retx_unicast);
	jnum(j, "retx_multicast", r->retx_multicast);
	jnum(j, "retx_skipped", r->retx_skipped);
	jnum(j, "duplicates_dropped", n->sm.duplicates);
	jnum(j, "beyond_window_dropped", n->sm.far);
	jnum(j, "out_of_memory_dropped", n->sm.no_memory);
	jnum(j, "stale_view_dropped", n->sm.stale);
	jnum(j, "gone_sent", r->gone_sent);
	jnum(j, "gone_received", r->gone_received);
	jnum(j, "gone_ids", r->gone_ids);
	jnum(j, "heartbeats_sent", r->heartbeats_sent);
	jnum(j, "reports_sent", r->reports_sent);
}

static void
jrequests(struct json *j, const struct sc_node *n)
{
	const struct node_req *q = &n->rq;

	jnum(j, "acks_sent", q->acks_sent);
	jnum(j, "forwards", q->forwards);
	jnum(j, "reforwards", q->reforwards);
	jnum(j, "fast_reforwards", q->fast_reforwards);
	jnum(j, "repeats", q->repeats);
	jnum(j, "busy", q->busy);
	jnum(j, "unavailable", q->unavailable);
	jnum(j, "too_large", q->too_large);
	jnum(j, "stamped_mismatch", q->stamped_mismatch);
	jopen(j, "pending");
	jnum(j, "count", q->pend.count);
	jnum(j, "peak", q->pend.peak);
	jnum(j, "cap", q->pend.cap);
	jclose(j);
	jopen(j, "holdback");
	jnum(j, "count", n->sm.hold.count);
	jnum(j, "peak", n->sm.hold.peak);
	jnum(j, "cap", n->sm.hold.cap);
	jclose(j);
	if (q->seq_on)
		jnum(j, "dedup_evicted", q->seq.evicted);
}

/* Clients' proof of address, the amplification budget, long polls. */
static void
jclients(struct json *j, const struct sc_node *n)
{
	const struct node_client *c = &n->cl;

	jnum(j, "requests_verified", c->requests_verified);
	jnum(j, "requests_unverified", c->requests_unverified);
	jnum(j, "cookies_sent", c->cookies_sent);
	jnum(j, "cookie_bad", c->cookie_bad);
	jnum(j, "amp_capped", c->amp.capped);
	jnum(j, "amp_capped_bytes", c->amp.capped_bytes);
	jnum(j, "amp_shrunk", c->shrunk);
	jnum(j, "amp_evicted", c->amp.evicted);
	jopen(j, "follow");
	jnum(j, "parked", c->parked);
	jnum(j, "parked_peak", c->parked_peak);
	jnum(j, "parked_cap", NODE_PARK_MAX);
	jnum(j, "long_polls", c->parks);
	jnum(j, "woken", c->woken);
	jnum(j, "expired", c->expired);
	jnum(j, "parked_full", c->park_full);
	jclose(j);
}

static void
jstore(struct json *j, const struct sc_node *n)
{
	jopen(j, "store");
	jnum(j, "memory_bytes", n->sm.log.mem_bytes);
	jnum(j, "cap_bytes", n->conf->store_bytes);
	jnum(j, "in_memory_from", n->sm.log.low);
	jnum(j, "stable", n->rp.retx_on ? n->rp.retx.stable : 0);
	jnum(j, "served_from_log", n->rp.served_from_log);
	jclose(j);
	jopen(j, "disk");
	jnum(j, "on", (uint64_t)n->dk.on);
	jnum(j, "failed", (uint64_t)n->dk.failed);
	jnum(j, "failures", n->dk.failures);
	jnum(j, "loaded", n->dk.loaded);
	jnum(j, "state_saves", n->dk.saves);
	jclose(j);
}

static void
jrejects(struct json *j, const struct sc_node *n)
{
	uint64_t total = n->st.unexpected + n->rq.rate_limited;

	for (int r = 1; r < SC_REJ_COUNT; r++)
		total += n->st.rejected[r];
	for (int a = SC_AUTH_MISSING; a < SC_AUTH_RESULTS; a++)
		total += n->st.auth[a];
	jnum(j, "rejected", total);
	jopen(j, "rejected_by");
	for (int r = 1; r < SC_REJ_COUNT; r++)
		jnum(j, sc_reject_name(r), n->st.rejected[r]);
	jnum(j, "unexpected", n->st.unexpected);
	for (int a = SC_AUTH_MISSING; a < SC_AUTH_RESULTS; a++)
		jnum(j, sc_auth_result_name(a), n->st.auth[a]);
	jnum(j, "rate_limited", n->rq.rate_limited);
	jclose(j);
	jnum(j, "auth_challenges_sent", n->ch.sent);
	jnum(j, "auth_challenges_answered", n->ch.answered);
	jnum(j, "log_suppressed", n->warn_limit.total);
}

static void
jextra(struct json *j, struct sc_node *n)
{
	int k;

	if (n->io.stats == NULL || j->bad)
		return;
	k = n->io.stats(n->io.ctx, j->buf + j->used, j->len - j->used);
	if (k < 0 || (size_t)k >= j->len - j->used)
		j->bad = 1;
	else
		j->used += (size_t)k;
	jput(j, ",");
}

int
sc_node_stats_json(struct sc_node *n, char *buf, size_t len)
{
	struct json j = { buf, len, 0, 0 };
	const char *role = n->vw.status != SC_NODE_NORMAL ?
	    sc_node_status_name(n->vw.status) :
	    n->vw.role == SC_ROLE_COORDINATOR ? "coordinator" : "member";
	uint64_t highest = n->sm.log.op;
	char digest[33];

	if (sc_gap_known(&n->rp.gaps) > highest)
		highest = sc_gap_known(&n->rp.gaps);
	sc_entries_digest(&n->sm.log, digest);
	jput(&j, "{\"id\":%u,\"role\":\"%s\",", n->id, role);
	jnum(&j, "applied", n->sm.log.applied);
	jnum(&j, "highest", highest);
	jput(&j, "\"digest\":\"%s\",", digest);
	jnum(&j, "commit", n->sm.commit);
	jnum(&j, "held", n->sm.log.op);
	jnum(&j, "durable", n->sm.durable);
	jview(&j, n);
	jcounts(&j, "in", n->st.in);
	jcounts(&j, "out", n->st.out);
	jnum(&j, "bytes_in", n->st.bytes_in);
	jnum(&j, "bytes_out", n->st.bytes_out);
	jnum(&j, "own_echoes", n->st.own);
	jstr(&j, "data_dir", n->conf->servers[n->id].data_dir);
	jrecovery(&j, n);
	jrejects(&j, n);
	jrequests(&j, n);
	jclients(&j, n);
	jstore(&j, n);
	jopen(&j, "catchup");
	jnum(&j, "behind", highest - n->sm.log.applied);
	jnum(&j, "fetched", n->rp.fetched);
	jclose(&j);
	jopen(&j, "socket");
	jnum(&j, "rcvbuf", (uint64_t)n->rcvbuf);
	jnum(&j, "sndbuf", (uint64_t)n->sndbuf);
	jnum(&j, "control_socket", (uint64_t)n->control_socket);
	jclose(&j);
	jextra(&j, n);
	jtrim(&j);
	jput(&j, "}");
	return j.bad ? -1 : (int)j.used;
}

const char *
sc_node_status_name(enum sc_node_status s)
{
	switch (s) {
	case SC_NODE_NORMAL:
		return "normal";
	case SC_NODE_VIEW_CHANGE:
		return "view_change";
	default:
		return "recovering";
	}
}
