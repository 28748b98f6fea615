/*
 * seqcastd.c - the daemon: a thin libev shell around the protocol node.
 * This file is the program (arguments, cluster file, key, start and
 * stop); seqcastd_loop.c the sockets and loop, seqcastd_io.c the files.
 *
 * It owns the sockets (unicast: clients and peers, and every send; its
 * twin, the control socket, which the kernel gives repair and view
 * traffic so it is read first; the group: the multicast stream), the log
 * and state files of the data_dir, one timer set to the node's next
 * deadline, and the signal watchers. It hands the node monotonic time,
 * received datagrams (through the fault-injection wrapper) and completed
 * writes, and carries out what the node decides (struct sc_io). Every
 * protocol decision happens in node*.c.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "seqcast/auth.h"
#include "seqcast/config.h"
#include "seqcast/log.h"
#include "seqcast/num.h"
#include "shell.h"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: seqcastd --config FILE --id N [options]\n"
	    "       seqcastd --check-config --config FILE\n"
	    "  -c, --config FILE    the cluster file\n"
	    "  -i, --id N           which [server N] of the file this is\n"
	    "  -n, --check-config   validate the file and exit\n"
	    "  -g, --gen-key FILE   write a new random shared key to FILE\n"
	    "  -d, --data-dir DIR   keep this server's log in DIR (durable)\n"
	    "  -f, --fault KEY=VAL  fault-injection key for this server\n"
	    "                       (fault_in_drop=0.1, ...; repeatable)\n"
	    "  -s, --set KEY=VAL    override any other key (repeatable)\n"
	    "  -v, --verbose        debug logging\n"
	    "  -q, --quiet          warnings and errors only\n"
	    "  -V, --version        print the version and exit\n"
	    "Runs in the foreground, logs to stderr; SIGINT/SIGTERM stop it.\n");
}

struct opts {
	const char *config;
	const char *gen_key;
	char data_dir[300];
	long id;
	int check;
	int level;
	const char *sets[64];
	int nsets;
};

static int
parse_id(const char *arg, struct opts *o)
{
	uint64_t v;

	if (sc_parse_u64(arg, 0, SC_SERVERS_MAX - 1, &v) != SC_NUM_OK) {
		fprintf(stderr, "seqcastd: bad --id '%s' (a server number "
		    "of the cluster file)\n", arg);
		return -1;
	}
	o->id = (long)v;
	return 0;
}

/* A KEY=VAL override (--set, --fault, --data-dir), at most 64. */
static int
add_set(struct opts *o, const char *kv)
{
	if (o->nsets == 64) {
		fprintf(stderr, "seqcastd: more than 64 --set/--fault/"
		    "--data-dir options\n");
		return -1;
	}
	o->sets[o->nsets++] = kv;
	return 0;
}

static int
parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "id", required_argument, NULL, 'i' },
		{ "check-config", no_argument, NULL, 'n' },
		{ "gen-key", required_argument, NULL, 'g' },
		{ "fault", required_argument, NULL, 'f' },
		{ "data-dir", required_argument, NULL, 'd' },
		{ "set", required_argument, NULL, 's' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	int ch;

	memset(o, 0, sizeof(*o));
	o->id = -1;
	o->level = SC_LOG_INFO;
	while ((ch = getopt_long(argc, argv, "c:i:ng:f:s:d:vqhV", lo, NULL)) != -1) {
		switch (ch) {
		case 'c': o->config = optarg; break;
		case 'n': o->check = 1; break;
		case 'g': o->gen_key = optarg; return 0;
		case 'v': o->level = SC_LOG_DEBUG; break;
		case 'q': o->level = SC_LOG_WARN; break;
		case 'h': usage(stdout); exit(0);
		case 'V': printf("seqcastd %s\n", SC_VERSION_STRING); exit(0);
		case 'i':
			if (parse_id(optarg, o) == -1)
				return -1;
			break;
		case 'd':
			if (snprintf(o->data_dir, sizeof(o->data_dir),
			    "data_dir=%s", optarg) >= (int)sizeof(o->data_dir) ||
			    add_set(o, o->data_dir) == -1)
				return -1;
			break;
		case 'f':
		case 's':
			if (add_set(o, optarg) == -1)
				return -1;
			break;
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind != argc || o->config == NULL || (!o->check && o->id < 0)) {
		usage(stderr);
		return -1;
	}
	return 0;
}

/* A relative key_file is relative to the cluster file's folder. */
static int
load_key(struct shell *s, const char *config)
{
	char path[600], err[700];
	const char *slash = strrchr(config, '/');
	struct sc_auth auth;

	if (s->conf.key_file[0] == '\0')
		return 0;
	if (s->conf.key_file[0] == '/' || slash == NULL)
		snprintf(path, sizeof(path), "%s", s->conf.key_file);
	else
		snprintf(path, sizeof(path), "%.*s/%s", (int)(slash - config),
		    config, s->conf.key_file);
	if (sc_auth_load(&auth, path, err, sizeof(err)) == -1) {
		fprintf(stderr, "seqcastd: %s\n", err);
		return -1;
	}
	s->auth = auth;
	sc_auth_wipe(&auth);
	return 0;
}

static int
load_config(struct shell *s, const struct opts *o)
{
	char err[512];

	if (sc_config_load(&s->conf, o->config, err, sizeof(err)) == -1) {
		fprintf(stderr, "seqcastd: %s\n", err);
		return -1;
	}
	for (int i = 0; i < o->nsets; i++) {
		if (sc_config_set(&s->conf, o->id < 0 ? 0 : (uint32_t)o->id,
		    o->sets[i], err, sizeof(err)) == -1) {
			fprintf(stderr, "seqcastd: %s\n", err);
			return -1;
		}
	}
	if (o->id >= (long)s->conf.nservers) {
		fprintf(stderr, "seqcastd: %s has no [server %ld]\n",
		    o->config, o->id);
		return -1;
	}
	return load_key(s, o->config);
}

int
main(int argc, char **argv)
{
	static struct shell s;
	struct sc_node_info info;
	struct opts o;
	char digest[33];

	if (parse_args(argc, argv, &o) == -1)
		return 2;
	if (o.gen_key != NULL) {
		char err[600];

		if (sc_auth_generate(o.gen_key, err, sizeof(err)) == -1) {
			fprintf(stderr, "seqcastd: %s\n", err);
			return 1;
		}
		printf("%s: new key written (keep it secret: anyone with it "
		    "can add and forge)\n", o.gen_key);
		return 0;
	}
	sc_tpl_hooks_install();
	if (load_config(&s, &o) == -1)
		return 1;
	if (o.check) {
		printf("%s: ok: cluster %u, %u servers, coordinator %u\n",
		    o.config, s.conf.cluster_id, s.conf.nservers,
		    s.conf.coordinator);
		return 0;
	}
	signal(SIGPIPE, SIG_IGN);
	sc_log_init("seqcastd", (int)o.id, o.level);
	s.ufd = s.gfd = s.cfd = -1;
	if (shell_start(&s, (uint32_t)o.id) == -1)
		return 1;
	shell_run(&s);
	sc_node_stop(s.node);
	sc_node_info(s.node, &info);
	sc_node_digest(s.node, digest);
	sc_info("stopped: applied %llu entries, digest %s",
	    (unsigned long long)info.applied, digest);
	close(s.ufd);
	close(s.gfd);
	if (s.cfd != -1)
		close(s.cfd);
	sc_node_free(s.node);
	sc_faultnet_free(s.fault);
	sc_logfile_close(&s.file);
	return 0;
}
