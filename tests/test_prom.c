/*
 * test_prom.c - seqcast stats --prometheus: a stats JSON of the shape a
 * server prints (plus fields a newer server might add, and hostile keys)
 * converted, and the output checked by a small parser of the Prometheus
 * text format (0.0.4): valid names and labels, HELP and TYPE before every
 * family's samples, a family's samples together, no series twice, values
 * that parse; then particular samples by value.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/prom.h"

/* A coordinator's stats as seqcastd prints them, some counters made
 * non-zero, then what a newer server might add (unknown fields, a nested
 * object, a *_us field, a boolean, a string, odd keys, repeated keys). */
static const char sample_json[] =
"{\"id\":0,\"role\":\"coordinator\",\"applied\":20,\"highest\":20,"
"\"digest\":\"008257d8f202c5a66464a8029f9bf75c\",\"in\":{\"add\":0,"
"\"fwd\":1,\"data\":12,\"retx\":0,\"ack\":0,\"stamped\":0,\"heartbeat\":1,"
"\"nack\":0,\"report\":0,\"gone\":0,\"log_req\":0,\"log_reply\":0,"
"\"stats_req\":2,\"stats_reply\":0,\"data\":99},\"out\":{\"add\":0,"
"\"fwd\":0,\"data\":1,\"retx\":0,\"ack\":0,\"stamped\":0,\"heartbeat\":1,"
"\"nack\":0,\"report\":0,\"gone\":0,\"log_req\":0,\"log_reply\":0,"
"\"stats_req\":0,\"stats_reply\":1},\"bytes_in\":18446744073709551615,"
"\"bytes_out\":2602,\"gaps\":0,\"missing\":0,\"nacks_sent\":0,"
"\"nacks_received\":0,\"nacks_suppressed\":0,\"nacks_hurried\":0,"
"\"hints_lost\":0,\"repair_srtt_us\":1234,\"repair_rttvar_us\":0,"
"\"retransmissions\":0,\"retx_unicast\":0,\"retx_multicast\":0,"
"\"retx_local\":0,\"retx_skipped\":0,\"duplicates_dropped\":0,"
"\"beyond_window_dropped\":0,\"gone_sent\":0,\"gone_received\":0,"
"\"gone_ids\":0,\"stuck_at\":0,\"rejected\":3,\"rejected_by\":{\"short\":1,"
"\"magic\":0,\"version\":0,\"type\":0,\"cluster\":0,\"length\":0,"
"\"layout\":0,\"tpl\":0,\"value\":0,\"unexpected\":0,\"auth_missing\":2,"
"\"auth_bad\":0,\"auth_replay\":0,\"auth_unexpected\":0,"
"\"rate_limited\":0},\"acks_sent\":0,\"forwards\":0,\"reforwards\":0,"
"\"fast_reforwards\":0,\"repeats\":0,\"busy\":0,\"too_large\":0,"
"\"pending\":{\"count\":0,\"peak\":0,\"cap\":65536},\"holdback\":{"
"\"count\":0,\"peak\":0,\"cap\":65536},\"dedup_evicted\":0,\"store\":{"
"\"entries\":20,\"bytes\":1691,\"peak_bytes\":1691,"
"\"cap_bytes\":33554432,\"low\":1,\"stable\":0,\"freed\":0,\"evicted\":0},"
"\"catchup\":{\"behind\":0,\"recovered_from_file\":0,"
"\"served_from_log\":0},\"log_file\":{\"path\":\"/var/lib/x \\\"y\\\"\","
"\"bytes\":0,\"fsyncs\":0,\"cut_at_start\":0},\"faults\":{\"in\":{"
"\"dropped\":7,\"duplicated\":0,\"reordered\":0,\"delayed\":0},\"out\":{"
"\"dropped\":0,\"duplicated\":0,\"reordered\":0,\"delayed\":0}},"
"\"socket\":{\"rcvbuf\":16777216,\"sndbuf\":16777216,"
"\"control_socket\":1},"
"\"view_change_us\":2500000,\"weird-key.x\":5,\"9lives\":-1.5e3,"
"\"newobj\":{\"a\":1,\"b\":{\"c\":2,\"s\":\"text\"},\"list\":[1,2]},"
"\"flag\":true,\"off\":false,\"nothing\":null,\"note\":\"x\","
"\"gaps\":42,\"applied_entries\":7}";

#define MAXF 256
#define MAXS 1024

struct family { char name[160]; char type[16]; int help, closed; };
struct series { char key[512]; double value; };

struct scrape {
	struct family f[MAXF];
	size_t nf;
	struct series s[MAXS];
	size_t ns;
	struct family *open;            /* family whose samples are coming */
};

static int
name_ok(const char *s, size_t n, int colon)
{
	if (n == 0 || !((s[0] >= 'a' && s[0] <= 'z') ||
	    (s[0] >= 'A' && s[0] <= 'Z') || s[0] == '_' ||
	    (colon && s[0] == ':')))
		return 0;
	for (size_t i = 1; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') || s[i] == '_' ||
		    (s[i] >= '0' && s[i] <= '9') || (colon && s[i] == ':')))
			return 0;
	return 1;
}

static struct family *
find_family(struct scrape *sc, const char *name, size_t n)
{
	for (size_t i = 0; i < sc->nf; i++)
		if (strlen(sc->f[i].name) == n &&
		    memcmp(sc->f[i].name, name, n) == 0)
			return &sc->f[i];
	return NULL;
}

/* "# HELP name text" or "# TYPE name type". */
static void
meta_line(struct scrape *sc, const char *line)
{
	int help = strncmp(line, "# HELP ", 7) == 0;
	const char *name = line + 7, *sp = strchr(name, ' ');
	struct family *f;

	assert_true(help || strncmp(line, "# TYPE ", 7) == 0);
	assert_non_null(sp);
	assert_true(name_ok(name, (size_t)(sp - name), 1));
	assert_true(sp[1] != '\0');             /* a text, a type */
	f = find_family(sc, name, (size_t)(sp - name));
	if (f == NULL) {
		assert_true(sc->nf < MAXF);
		f = &sc->f[sc->nf++];
		memcpy(f->name, name, (size_t)(sp - name));
		if (sc->open)
			sc->open->closed = 1;
		sc->open = f;
	}
	assert_ptr_equal(f, sc->open);          /* HELP, TYPE together */
	if (help) {
		assert_false(f->help);
		f->help = 1;
		return;
	}
	assert_false(f->type[0]);
	assert_true(strcmp(sp + 1, "counter") == 0 ||
	    strcmp(sp + 1, "gauge") == 0 || strcmp(sp + 1, "untyped") == 0);
	snprintf(f->type, sizeof(f->type), "%s", sp + 1);
	if (strcmp(f->type, "counter") == 0)
		assert_true(strlen(f->name) > 6 && strcmp(f->name +
		    strlen(f->name) - 6, "_total") == 0);
}

/* {a="x",b="y"} at p: checked, unescaped, appended to key; returns the
 * end. Label names unique; must include server. */
static const char *
labels(const char *p, char *key, size_t klen)
{
	char seen[8][64];
	size_t nseen = 0, k = strlen(key);
	int server = 0;

	assert_true(*p++ == '{');
	while (*p != '}') {
		const char *eq = strchr(p, '=');

		assert_non_null(eq);
		assert_true(name_ok(p, (size_t)(eq - p), 0));
		assert_true(nseen < 8 && (size_t)(eq - p) < 64);
		memcpy(seen[nseen], p, (size_t)(eq - p));
		seen[nseen][eq - p] = '\0';
		for (size_t i = 0; i < nseen; i++)
			assert_string_not_equal(seen[i], seen[nseen]);
		server |= strcmp(seen[nseen++], "server") == 0;
		k += (size_t)snprintf(key + k, klen - k, "|%.*s=",
		    (int)(eq - p), p);
		p = eq + 1;
		assert_true(*p++ == '"');
		for (; *p != '"'; p++) {
			assert_true(*p != '\0' && *p != '\n');
			if (*p == '\\') {
				p++;
				assert_true(*p == '\\' || *p == '"' ||
				    *p == 'n');
			}
			assert_true(k + 1 < klen);
			key[k++] = *p;
			key[k] = '\0';
		}
		p++;
		assert_true(*p == ',' || *p == '}');
		if (*p == ',')
			p++;
	}
	assert_true(server);
	return p + 1;
}

static void
sample_line(struct scrape *sc, const char *line)
{
	size_t n = strcspn(line, "{ ");
	struct family *f = find_family(sc, line, n);
	struct series *s;
	const char *p = line + n;
	char *end;

	assert_true(name_ok(line, n, 1));
	assert_non_null(f);                     /* HELP/TYPE came first */
	assert_true(f->help && f->type[0]);
	assert_false(f->closed);                /* samples together */
	assert_true(sc->ns < MAXS);
	s = &sc->s[sc->ns];
	snprintf(s->key, sizeof(s->key), "%.*s", (int)n, line);
	assert_true(*p == '{');                 /* every sample: server= */
	p = labels(p, s->key, sizeof(s->key));
	assert_true(*p++ == ' ');
	s->value = strtod(p, &end);
	assert_true(end != p && *end == '\0');
	for (size_t i = 0; i < sc->ns; i++)
		assert_string_not_equal(sc->s[i].key, s->key);
	sc->ns++;
}

static void
scrape(const char *text, struct scrape *sc)
{
	char *copy = strdup(text), *save = NULL;

	assert_non_null(copy);
	memset(sc, 0, sizeof(*sc));
	assert_true(text[0] != '\0' && text[strlen(text) - 1] == '\n');
	for (char *l = strtok_r(copy, "\n", &save); l;
	    l = strtok_r(NULL, "\n", &save)) {
		if (l[0] == '#')
			meta_line(sc, l);
		else
			sample_line(sc, l);
	}
	for (size_t i = 0; i < sc->nf; i++)
		assert_true(sc->f[i].help && sc->f[i].type[0]);
	free(copy);
}

/* The value of the series "name|label=value|..." (fails if absent). */
static double
value_of(const struct scrape *sc, const char *key)
{
	for (size_t i = 0; i < sc->ns; i++)
		if (strcmp(sc->s[i].key, key) == 0)
			return sc->s[i].value;
	fail_msg("no series %s", key);
	return NAN;
}

static int
has_series(const struct scrape *sc, const char *key)
{
	for (size_t i = 0; i < sc->ns; i++)
		if (strcmp(sc->s[i].key, key) == 0)
			return 1;
	return 0;
}

static char *
convert(const char *json, int *rc, char *err, size_t errlen)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	*rc = prom_write(f, json, err, errlen);
	assert_int_equal(fclose(f), 0);
	return buf;
}

static void
test_sample(void **state)
{
	struct scrape *sc = calloc(1, sizeof(*sc));
	char err[128];
	int rc;
	char *out = convert(sample_json, &rc, err, sizeof(err));

	(void)state;
	assert_non_null(sc);
	assert_int_equal(rc, 0);
	scrape(out, sc);
	print_message("  %zu families, %zu series\n", sc->nf, sc->ns);
	assert_true(sc->nf > 50 && sc->ns > 100);
	assert_true(value_of(sc, "seqcast_server_info|server=0"
	    "|role=coordinator") == 1);
	assert_true(value_of(sc, "seqcast_applied_entries|server=0") == 20);
	/* a map: one family, a label per key; a repeated key once */
	assert_true(value_of(sc, "seqcast_datagrams_received_total"
	    "|server=0|type=data") == 12);
	assert_true(value_of(sc, "seqcast_datagrams_sent_total"
	    "|server=0|type=stats_reply") == 1);
	assert_true(value_of(sc, "seqcast_rejected_datagrams_by_reason_total"
	    "|server=0|reason=auth_missing") == 2);
	assert_true(value_of(sc, "seqcast_faults_injected_total|server=0"
	    "|direction=in|kind=dropped") == 7);
	/* units: bytes as they are (every digit), microseconds as seconds */
	assert_non_null(strstr(out, "seqcast_received_bytes_total{server="
	    "\"0\"} 18446744073709551615\n"));
	assert_non_null(strstr(out, "seqcast_repair_srtt_seconds{server="
	    "\"0\"} 0.001234\n"));
	assert_true(value_of(sc, "seqcast_store_capacity_bytes|server=0") ==
	    33554432);
	assert_true(value_of(sc, "seqcast_socket_control_socket|server=0") ==
	    1);
	/* fields it does not know: named after their path, untyped */
	assert_true(value_of(sc, "seqcast_view_change_seconds|server=0") ==
	    2.5);
	assert_true(value_of(sc, "seqcast_weird_key_x|server=0") == 5);
	assert_true(value_of(sc, "seqcast_9lives|server=0") == -1500);
	assert_true(value_of(sc, "seqcast_newobj_a|server=0") == 1);
	assert_true(value_of(sc, "seqcast_newobj_b_c|server=0") == 2);
	assert_true(value_of(sc, "seqcast_flag|server=0") == 1);
	assert_true(value_of(sc, "seqcast_off|server=0") == 0);
	/* repeated or colliding names: the first one only */
	assert_true(value_of(sc, "seqcast_gaps_total|server=0") == 0);
	/* strings (but the role), nulls and arrays are left out */
	assert_null(strstr(out, "digest"));
	assert_null(strstr(out, "008257d8"));
	assert_null(strstr(out, "/var/lib"));
	assert_null(strstr(out, "note"));
	assert_null(strstr(out, "nothing"));
	assert_null(strstr(out, "list"));
	assert_false(has_series(sc, "seqcast_newobj_b_s|server=0"));
	free(out);
	free(sc);
}

/* Map keys become label values: escaped as the format wants. */
static void
test_label_escaping(void **state)
{
	struct scrape *sc = calloc(1, sizeof(*sc));
	char err[128];
	int rc;
	char *out = convert("{\"id\":3,\"in\":{\"we\\\"ird\\\\ \\nkey\":4,"
	    "\"\":5}}", &rc, err, sizeof(err));

	(void)state;
	assert_int_equal(rc, 0);
	assert_non_null(strstr(out, "type=\"we\\\"ird\\\\ \\nkey\"} 4\n"));
	scrape(out, sc);
	assert_true(value_of(sc, "seqcast_datagrams_received_total|server=3"
	    "|type=we\"ird\\ nkey") == 4);
	assert_true(value_of(sc, "seqcast_datagrams_received_total|server=3"
	    "|type=") == 5);
	free(out);
	free(sc);
}

/* No id: no server label at all ("name value"). */
static void
test_no_id(void **state)
{
	char err[128];
	int rc;
	char *out = convert("{\"applied\":5}", &rc, err, sizeof(err));

	(void)state;
	assert_int_equal(rc, 0);
	assert_non_null(strstr(out, "\nseqcast_applied_entries 5\n"));
	free(out);
}

/* Not a JSON object: an error, nothing written. */
static void
test_bad_input(void **state)
{
	const char *bad[] = { "", "not json", "[1,2]", "{\"a\":1", "{} x",
	    "{\"a\":01}", "\"text\"" };
	char err[128];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc;
		char *out;

		err[0] = '\0';
		out = convert(bad[i], &rc, err, sizeof(err));
		assert_int_equal(rc, -1);
		assert_non_null(strstr(err, "not a JSON object"));
		assert_true(out[0] == '\0');
		free(out);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sample),
		cmocka_unit_test(test_label_escaping),
		cmocka_unit_test(test_no_id),
		cmocka_unit_test(test_bad_input),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
