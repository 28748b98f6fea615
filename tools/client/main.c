/*
 * main.c - seqcast, the command-line client of the seqcast daemon.
 *
 *   seqcast add   --server HOST:PORT[,...] VALUE... | --file F | --count N
 *   seqcast log   --server HOST:PORT [--from ID] [--to ID] [--json]
 *   seqcast stats --server HOST:PORT [--prometheus]
 *   seqcast wait  --server HOST:PORT --applied N [--timeout S]
 *
 * Exit status: 0 success, 1 failure, 2 usage error. The rooms of the
 * client are listed in client.h.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "seqcast/wire.h"

#include "adder.h"
#include "cli.h"
#include "client.h"
#include "conn.h"
#include "query.h"

#ifndef SC_VERSION_STRING
#define SC_VERSION_STRING "unknown"
#endif

static int
resolve_all(const struct opts *o, struct conn_server *servers)
{
	for (uint32_t i = 0; i < o->nservers; i++) {
		int rc = conn_resolve(o->server[i], &servers[i].addr);

		if (rc == RC_USAGE)
			return cli_usage_error("bad server address '%s': "
			    "expected HOST:PORT", o->server[i]);
		if (rc != RC_OK)
			return rc;
		servers[i].name = o->server[i];
	}
	return RC_OK;
}

static int
run_query(const struct opts *o, const struct conn_server *server)
{
	struct conn *c;
	int rc = conn_open(server, 1, o->cluster, &c);

	if (rc != RC_OK)
		return rc;
	switch (o->cmd) {
	case CMD_LOG:   rc = query_log(o, c); break;
	case CMD_STATS: rc = query_stats(o, c); break;
	default:        rc = query_wait(o, c); break;
	}
	conn_free(c);
	return rc;
}

static int
run(const struct opts *o)
{
	struct conn_server servers[SC_CHOICE_MAX];
	int rc = resolve_all(o, servers);

	if (rc != RC_OK)
		return rc;
	sc_tpl_hooks_install();
	if (o->cmd == CMD_ADD)
		return adder_run(o, servers, o->nservers);
	return run_query(o, servers);
}

static int
finish_stdout(int rc)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "seqcast: cannot write standard output: %s\n",
		    strerror(errno));
		return RC_FAIL;
	}
	return rc;
}

int
main(int argc, char **argv)
{
	struct opts o;
	int rc = cli_parse(argc, argv, &o);

	if (rc == RC_HELP) {
		cli_usage(stdout);
		rc = finish_stdout(RC_OK);
	} else if (rc == RC_VERSION) {
		printf("seqcast %s\n", SC_VERSION_STRING);
		rc = finish_stdout(RC_OK);
	} else if (rc == RC_OK && (rc = conn_load_key(o.key_file)) == RC_OK) {
		rc = finish_stdout(run(&o));
	}
	cli_free(&o);
	return rc;
}
