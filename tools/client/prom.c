/*
 * prom.c - stats JSON to Prometheus text exposition.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "seqcast/num.h"

#include "json.h"
#include "prom.h"

#define NAME_MAX_LEN 128
#define FAMILIES_MAX 512

/* What a stats field is. labels: a map whose keys become these labels
 * (one per level) instead of a metric each. */
struct metric {
	const char *path;
	const char *name;       /* after "seqcast_" */
	const char *type;
	const char *labels[2];
	const char *help;
};

#define C "counter"
#define G "gauge"
static const struct metric metrics[] = {
	{ "applied", "applied_entries", G, { 0 },
	    "Entries this server has applied (its log length)." },
	{ "highest", "highest_id", G, { 0 },
	    "Highest entry id this server knows to exist." },
	{ "in", "datagrams_received_total", C, { "type" },
	    "Datagrams received, by message type." },
	{ "out", "datagrams_sent_total", C, { "type" },
	    "Datagrams sent, by message type." },
	{ "bytes_in", "received_bytes_total", C, { 0 },
	    "Bytes received in datagrams." },
	{ "bytes_out", "sent_bytes_total", C, { 0 },
	    "Bytes sent in datagrams." },
	{ "gaps", "gaps_total", C, { 0 },
	    "Gaps (ranges of missing ids) seen." },
	{ "missing", "missing_entries", G, { 0 },
	    "Ids known to exist and not received yet." },
	{ "nacks_sent", "nacks_sent_total", C, { 0 },
	    "NACKs sent." },
	{ "nacks_received", "nacks_received_total", C, { 0 },
	    "NACKs received." },
	{ "nacks_suppressed", "nacks_suppressed_total", C, { 0 },
	    "Missing ranges filled before their first NACK." },
	{ "nacks_hurried", "nacks_hurried_total", C, { 0 },
	    "Ranges asked for again early (an earlier answer was lost)." },
	{ "hints_lost", "hints_lost_total", C, { 0 },
	    "Announced ranges found lost once later DATA arrived." },
	{ "repair_srtt_us", "repair_srtt_seconds", G, { 0 },
	    "Smoothed time from a NACK to its first answer." },
	{ "repair_rttvar_us", "repair_rttvar_seconds", G, { 0 },
	    "Mean deviation of the NACK-to-answer time." },
	{ "retransmissions", "retransmissions_total", C, { 0 },
	    "Entries retransmitted (unicast, multicast, local)." },
	{ "retx_unicast", "retransmissions_unicast_total", C, { 0 },
	    "Entries retransmitted by unicast." },
	{ "retx_multicast", "retransmissions_multicast_total", C, { 0 },
	    "Entries retransmitted by multicast." },
	{ "retx_local", "retransmissions_local_total", C, { 0 },
	    "Coordinator gaps filled from its own store." },
	{ "retx_skipped", "retransmissions_skipped_total", C, { 0 },
	    "NACKed entries skipped (a multicast had just served them)." },
	{ "duplicates_dropped", "duplicates_dropped_total", C, { 0 },
	    "Entries received again and dropped." },
	{ "beyond_window_dropped", "beyond_window_dropped_total", C, { 0 },
	    "Entries beyond the hold-back window, dropped." },
	{ "gone_sent", "gone_sent_total", C, { 0 },
	    "GONE answers sent (ranges no longer held)." },
	{ "gone_received", "gone_received_total", C, { 0 },
	    "GONE answers received." },
	{ "gone_ids", "gone_ids_total", C, { 0 },
	    "Ids given up because no server held them." },
	{ "stuck_at", "stuck_at_id", G, { 0 },
	    "Id this server cannot get past (0: none)." },
	{ "rejected", "rejected_datagrams_total", C, { 0 },
	    "Datagrams rejected, every reason." },
	{ "rejected_by", "rejected_datagrams_by_reason_total", C, { "reason" },
	    "Datagrams rejected, by reason." },
	{ "acks_sent", "acks_sent_total", C, { 0 },
	    "Acknowledgements sent to clients." },
	{ "forwards", "forwards_total", C, { 0 },
	    "Requests forwarded to the coordinator." },
	{ "reforwards", "reforwards_total", C, { 0 },
	    "Requests forwarded again (timer)." },
	{ "fast_reforwards", "fast_reforwards_total", C, { 0 },
	    "Requests forwarded again early." },
	{ "repeats", "repeated_requests_total", C, { 0 },
	    "Requests that already had an id." },
	{ "busy", "busy_refusals_total", C, { 0 },
	    "Requests refused with BUSY." },
	{ "too_large", "too_large_refusals_total", C, { 0 },
	    "Requests refused as too large." },
	{ "dedup_evicted", "dedup_evicted_total", C, { 0 },
	    "Request ids the coordinator forgot (dedup memory full)." },
	{ "pending.count", "pending_requests", G, { 0 },
	    "Requests held for forwarding or acking." },
	{ "pending.peak", "pending_requests_peak", G, { 0 },
	    "Most requests held at once." },
	{ "pending.cap", "pending_requests_capacity", G, { 0 },
	    "Most requests it may hold." },
	{ "holdback.count", "holdback_entries", G, { 0 },
	    "Entries waiting for an earlier id." },
	{ "holdback.peak", "holdback_entries_peak", G, { 0 },
	    "Most entries waiting at once." },
	{ "holdback.cap", "holdback_entries_capacity", G, { 0 },
	    "Most entries that may wait." },
	{ "store.entries", "store_entries", G, { 0 },
	    "Entries in the coordinator's retransmit store." },
	{ "store.bytes", "store_bytes", G, { 0 },
	    "Bytes in the retransmit store." },
	{ "store.peak_bytes", "store_peak_bytes", G, { 0 },
	    "Most bytes the store held." },
	{ "store.cap_bytes", "store_capacity_bytes", G, { 0 },
	    "Most bytes the store may hold." },
	{ "store.low", "store_lowest_id", G, { 0 },
	    "Lowest id in the store." },
	{ "store.stable", "store_stable_id", G, { 0 },
	    "Highest id every server has applied." },
	{ "store.freed", "store_freed_total", C, { 0 },
	    "Entries freed from the store (stable)." },
	{ "store.evicted", "store_evicted_total", C, { 0 },
	    "Entries evicted from the store (full)." },
	{ "catchup.behind", "catchup_behind_entries", G, { 0 },
	    "Entries known to exist and not applied yet." },
	{ "catchup.recovered_from_file", "recovered_from_file_entries", G,
	    { 0 },
	    "Entries read back from the log file at start." },
	{ "catchup.served_from_log", "served_from_log_total", C, { 0 },
	    "Entries served to others from the log file." },
	{ "log_file.bytes", "log_file_bytes", G, { 0 },
	    "Size of the log file." },
	{ "log_file.fsyncs", "log_file_fsyncs_total", C, { 0 },
	    "fsync calls on the log file." },
	{ "log_file.cut_at_start", "log_file_cut_at_start_bytes", G, { 0 },
	    "Bytes of a torn tail cut off at start." },
	{ "faults", "faults_injected_total", C, { "direction", "kind" },
	    "Faults injected, by direction and kind." },
	{ "socket.rcvbuf", "socket_receive_buffer_bytes", G, { 0 },
	    "Receive buffer of the server's socket." },
	{ "socket.sndbuf", "socket_send_buffer_bytes", G, { 0 },
	    "Send buffer of the server's socket." },
	{ "socket.control_socket", "socket_control_socket", G, { 0 },
	    "1 if repair traffic has its own socket." },
};
#undef C
#undef G

struct prom {
	FILE *f;
	char server[32];        /* the id, as the server label; "" if none */
	char *families[FAMILIES_MAX];   /* names written, no repeats */
	size_t nfamilies;
};

static const struct metric *
lookup(const char *path)
{
	for (size_t i = 0; i < sizeof(metrics) / sizeof(metrics[0]); i++)
		if (strcmp(metrics[i].path, path) == 0)
			return &metrics[i];
	return NULL;
}

/* HELP and TYPE of a new family: 0, or -1 if the name was written
 * already (a repeated or colliding field: its samples are left out, so
 * no series is written twice). */
static int
family(struct prom *pr, const char *name, const char *type,
    const char *help)
{
	for (size_t i = 0; i < pr->nfamilies; i++)
		if (strcmp(pr->families[i], name) == 0)
			return -1;
	if (pr->nfamilies == FAMILIES_MAX ||
	    (pr->families[pr->nfamilies] = strdup(name)) == NULL)
		return -1;
	pr->nfamilies++;
	fprintf(pr->f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
	return 0;
}

static void
put_label(FILE *f, const char *name, const char *value)
{
	fprintf(f, "%s=\"", name);
	for (const char *c = value; *c; c++) {
		if (*c == '\\' || *c == '"')
			fprintf(f, "\\%c", *c);
		else if (*c == '\n')
			fputs("\\n", f);
		else
			putc(*c, f);
	}
	putc('"', f);
}

/* The value of a number or boolean; micro: microseconds to seconds
 * (exactly, for an unsigned integer). */
static void
put_value(FILE *f, const struct json_value *v, int micro)
{
	uint64_t u;

	if (v->type != JSON_NUMBER)
		fputs(v->type == JSON_TRUE ? "1" : "0", f);
	else if (!micro)
		fputs(v->text, f);
	else if (sc_parse_u64(v->text, 0, UINT64_MAX, &u) == SC_NUM_OK)
		fprintf(f, "%" PRIu64 ".%06" PRIu64, u / 1000000,
		    u % 1000000);
	else
		fprintf(f, "%.9g", strtod(v->text, NULL) / 1e6);
}

/* name{server="ID",label="value"...} value */
static void
sample(struct prom *pr, const char *name, const char *const *lnames,
    const char *const *lvalues, int nl, const struct json_value *v,
    int micro)
{
	int any = pr->server[0] != '\0';

	fputs(name, pr->f);
	if (any || nl > 0)
		putc('{', pr->f);
	if (any)
		put_label(pr->f, "server", pr->server);
	for (int i = 0; i < nl; i++) {
		if (any || i > 0)
			putc(',', pr->f);
		put_label(pr->f, lnames[i], lvalues[i]);
	}
	if (any || nl > 0)
		putc('}', pr->f);
	putc(' ', pr->f);
	put_value(pr->f, v, micro);
	putc('\n', pr->f);
}

static int
is_scalar(const struct json_value *v)
{
	return v->type == JSON_NUMBER || v->type == JSON_TRUE ||
	    v->type == JSON_FALSE;
}

/* m is an earlier sibling's key too (JSON allows repeats): skip it. */
static int
repeated(const struct json_value *first, const struct json_value *m)
{
	for (const struct json_value *s = first; s != m; s = s->next)
		if (strcmp(s->key, m->key) == 0)
			return 1;
	return 0;
}

/* A map: every number in it is a sample of one family, its keys (one
 * per level) the values of m's labels. */
static void
labelled(struct prom *pr, const char *name, const struct metric *m,
    const struct json_value *obj, const char **values, int depth)
{
	for (const struct json_value *c = obj->child; c; c = c->next) {
		if (repeated(obj->child, c))
			continue;
		values[depth] = c->key;
		if (is_scalar(c))
			sample(pr, name, m->labels, values, depth + 1, c, 0);
		else if (c->type == JSON_OBJECT && depth == 0 && m->labels[1])
			labelled(pr, name, m, c, values, 1);
	}
}

/* seqcast_ and the path, each byte a name may not hold as '_'; a *_us
 * field becomes *_seconds (and *micro is set). */
static void
generic_name(char *out, size_t len, const char *path, int *micro)
{
	size_t n = strlen(path), k, room;

	*micro = n > 3 && strcmp(path + n - 3, "_us") == 0;
	if (*micro)
		n -= 3;
	room = len - (*micro ? sizeof("_seconds") : 1);
	k = (size_t)snprintf(out, len, "seqcast_");
	for (size_t i = 0; i < n && k < room; i++) {
		char c = path[i];
		int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_';

		out[k++] = ok ? c : '_';
	}
	out[k] = '\0';
	if (*micro)
		strcat(out, "_seconds");
}

/* One field at path: a known metric, a known map, or (a field of a newer
 * server) an untyped metric named after its path. */
static void
field(struct prom *pr, const char *path, const struct json_value *v)
{
	const struct metric *m = lookup(path);
	const char *values[2];
	char name[NAME_MAX_LEN], help[NAME_MAX_LEN + 40];
	int micro;

	if (m != NULL) {
		snprintf(name, sizeof(name), "seqcast_%s", m->name);
		if (m->labels[0] != NULL && v->type == JSON_OBJECT) {
			if (family(pr, name, m->type, m->help) == 0)
				labelled(pr, name, m, v, values, 0);
			return;
		}
	}
	if (!is_scalar(v))
		return;
	generic_name(name, sizeof(name), path, &micro);
	if (m != NULL)
		snprintf(name, sizeof(name), "seqcast_%s", m->name);
	else
		snprintf(help, sizeof(help), "The stats field %s.", path);
	if (family(pr, name, m ? m->type : "untyped", m ? m->help : help) ==
	    0)
		sample(pr, name, NULL, NULL, 0, v, micro);
}

/* Every member of obj; an object not known as a map is walked into. */
static void
walk(struct prom *pr, const struct json_value *obj, const char *prefix)
{
	char path[NAME_MAX_LEN];

	for (const struct json_value *c = obj->child; c; c = c->next) {
		if (prefix[0] == '\0' && (strcmp(c->key, "id") == 0 ||
		    strcmp(c->key, "role") == 0))
			continue;       /* the server label, the info metric */
		snprintf(path, sizeof(path), "%s%s%s", prefix,
		    prefix[0] ? "." : "", c->key);
		if (c->type == JSON_OBJECT && (lookup(path) == NULL ||
		    lookup(path)->labels[0] == NULL))
			walk(pr, c, path);
		else
			field(pr, path, c);
	}
}

int
prom_write(FILE *f, const char *json, char *err, size_t errlen)
{
	struct prom pr = { .f = f };
	struct json_doc d;
	const struct json_value *id, *role;

	if (json_parse(json, strlen(json), &d) < 0 ||
	    d.root->type != JSON_OBJECT) {
		snprintf(err, errlen, "not a JSON object: %s",
		    d.err[0] ? d.err : "another value");
		json_free(&d);
		return -1;
	}
	id = json_get(d.root, "id");
	if (id != NULL && id->type == JSON_NUMBER)
		snprintf(pr.server, sizeof(pr.server), "%s", id->text);
	role = json_get(d.root, "role");
	if (role != NULL && role->type == JSON_STRING &&
	    family(&pr, "seqcast_server_info", "gauge",
	    "This server: its role (coordinator or member).") == 0) {
		const char *ln[] = { "role" }, *lv[] = { role->text };
		struct json_value one = { .type = JSON_TRUE };

		sample(&pr, "seqcast_server_info", ln, lv, 1, &one, 0);
	}
	walk(&pr, d.root, "");
	for (size_t i = 0; i < pr.nfamilies; i++)
		free(pr.families[i]);
	json_free(&d);
	return 0;
}
