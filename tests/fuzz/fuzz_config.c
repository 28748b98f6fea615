/*
 * fuzz_config.c - libFuzzer target for the cluster file parser.
 *
 * `make fuzz` builds it (with every daemon/ source but seqcastd.c, so the
 * parser's helpers never go missing from a hand-kept list) as
 * build-fuzz/fuzz_config and runs it FUZZ_SECONDS on a scratch copy of
 * tests/fuzz/corpus/config; `make check` replays that corpus. Longer:
 *   make fuzz FUZZ=config FUZZ_SECONDS=120
 *
 * The input is copied and NUL-terminated (sc_config_parse takes a string).
 * On success the result must satisfy what the parser promises, and a
 * per-server override must leave the digest of the shared settings alone;
 * on error the message must be one non-empty line.
 *
 * To see it fail: let the parser accept a listen address another server
 * already has; the replay of corpus/config/crlf-dup-listen.conf aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "seqcast/config.h"
#include "seqcast/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct sc_config *c)
{
	if (c->nservers < 1 || c->nservers > SC_SERVERS_MAX)
		abort();
	if (c->coordinator >= c->nservers)
		abort();
	if ((ntohl(c->group.sin_addr.s_addr) & 0xf0000000u) != 0xe0000000u)
		abort();
	if (c->ttl < 1 || c->ttl > 255)
		abort();
	if (c->value_max < 1 || c->value_max > SC_VALUE_MAX)
		abort();
	if (c->failover_ms < 10 || c->failover_ms > 60000)
		abort();
	if (c->mtu != 0 && (c->mtu < 576 || c->mtu > 65535))
		abort();
	for (uint32_t i = 0; i < c->nservers; i++) {
		const struct sc_server_conf *s = &c->servers[i];
		const struct sc_fault_conf *f = sc_config_fault(c, i);
		if (!s->present || s->listen.sin_family != AF_INET ||
		    s->listen.sin_port == 0)
			abort();
		if (memchr(s->data_dir, '\0', sizeof s->data_dir) == NULL)
			abort();
		for (uint32_t j = 0; j < i; j++)
			if (c->servers[j].listen.sin_addr.s_addr ==
			    s->listen.sin_addr.s_addr &&
			    c->servers[j].listen.sin_port == s->listen.sin_port)
				abort();
		for (int d = 0; d < 2; d++) {
			const struct sc_fault_rates *r = &f->dir[d];
			if (!(r->drop >= 0 && r->dup >= 0 && r->reorder >= 0 &&
			    r->delay >= 0) ||
			    r->drop + r->dup + r->reorder + r->delay > 1 + 1e-9)
				abort();
		}
	}
	for (uint32_t i = c->nservers; i < SC_SERVERS_MAX; i++)
		if (c->servers[i].present)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sc_config c;
	char err[256];
	char *text = malloc(size + 1);

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	memset(err, 'x', sizeof err);
	if (sc_config_parse(&c, text, "fuzz.conf", err, sizeof err) == 0) {
		struct sc_config_digest d1, d2;

		check(&c);
		sc_config_digest(&c, &d1);
		/* an override of a per-server key on top of a good file */
		sc_config_set(&c, 0, "fault_in_drop=0.5", err, sizeof err);
		check(&c);
		sc_config_digest(&c, &d2);
		if (sc_config_digest_diff(&d1, &d2, err, sizeof err) != 0)
			abort();
	} else {
		size_t n = strnlen(err, sizeof err);
		if (n == 0 || n == sizeof err || memchr(err, '\n', n))
			abort();
	}
	free(text);
	return 0;
}
