/*
 * sim_main.c - the simulator's command line: run seeds, report, replay.
 *
 *   sim [--seeds N] [--first S] [--servers 2|3|5] [--jobs J]
 *   sim --seed S [-v|-vv]             replay one seed (trace with -vv)
 *   sim --mutate RULE --expect-fail   a broken rule must fail a seed
 *
 * Exit status: 0 every seed held (or, with --expect-fail, one failed),
 * 1 otherwise, 2 usage.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "seqcast/log.h"
#include "seqcast/mutate.h"
#include "seqcast/num.h"
#include "sim.h"

void sim_setup(struct sim *s, uint64_t seed, int nservers);
void sim_teardown(struct sim *s);
int sim_step(struct sim *s);

struct totals {
	uint64_t seeds, failed, first_failed;
	uint64_t entries, crashes, restarts, partitions, disk_faults;
	uint64_t views, steps, sim_us, stale;
};

struct opts {
	uint64_t first, seeds;
	int one, nservers, jobs, verbose, expect_fail, mutation;
};

static void
report_failure(struct sim *s, const struct opts *o)
{
	const struct sim_plan *p = &s->plan;
	uint64_t from = s->ntrace > SIM_TRACE ? s->ntrace - SIM_TRACE : 0;
	char servers[24] = "";

	printf("seed %llu FAILED: %s\n", (unsigned long long)s->seed,
	    s->failure);
	printf("  plan: %d servers, %s, coordinator %u, %d clients x %u, "
	    "loss %.1f%% dup %.1f%% late %.1f%% jitter %lld us, faults "
	    "until %.2f s%s\n", p->nservers, p->data_dir ? (p->fsync == 0 ?
	    "data_dir fsync=each" : "data_dir fsync=interval") : "in memory",
	    s->conf.coordinator, p->nclients, p->reqs, p->loss * 100,
	    p->dup * 100, p->late * 100, (long long)p->jitter,
	    (double)p->fault_end / 1e6, p->persist_lost_type ?
	    ", heartbeats lost to one member throughout" : "");
	for (int i = 0; i < p->nservers; i++) {
		struct sc_node_info in;

		if (!s->srv[i].alive) {
			printf("  s%d: down\n", i);
			continue;
		}
		sc_node_info(s->srv[i].node, &in);
		printf("  s%d: %s %s view %u (coordinator %u), held %llu, "
		    "durable %llu, commit %llu, applied %llu%s\n", i,
		    sc_node_status_name(in.status), in.role ? "coordinator" :
		    "member", in.view, in.coordinator,
		    (unsigned long long)in.op, (unsigned long long)in.durable,
		    (unsigned long long)in.commit,
		    (unsigned long long)in.applied,
		    in.disk_failed ? ", disk failing" : "");
	}
	for (int i = 0; i < p->nclients; i++)
		printf("  c%d: %u of %u acknowledged, %llu outstanding\n", i,
		    s->cli[i].acked, s->cli[i].total,
		    (unsigned long long)sc_resend_outstanding(&s->cli[i].resend));
	if (!o->one) {
		printf("  the last events (the replay below prints them "
		    "all):\n");
		for (uint64_t i = from; i < s->ntrace; i++)
			printf("    %s\n", s->trace[i % SIM_TRACE]);
	}
	if (o->nservers)
		snprintf(servers, sizeof(servers), " --servers %d",
		    o->nservers);
	printf("  replay: build/%s --seed %llu%s%s%s -vv\n",
	    o->mutation ? "sim-mut" : "sim", (unsigned long long)s->seed,
	    servers, o->mutation ? " --mutate " : "",
	    o->mutation ? sc_mutation_name(o->mutation) : "");
}

/* One seed, start to end. 0 held, 1 failed. */
static int
run_seed(uint64_t seed, const struct opts *o, struct totals *t)
{
	struct sim *s = calloc(1, sizeof(*s));
	int rc;

	if (s == NULL)
		abort();
	sim_setup(s, seed, o->nservers);
	s->verbose = o->verbose;
	while (!s->failed) {
		if (s->healed && s->now > s->plan.fault_end + s->plan.bound) {
			sim_fail(s, "no convergence within %.0f s after the "
			    "faults stopped", (double)s->plan.bound / 1e6);
			break;
		}
		if (s->healed && (s->steps % 256 == 0) && sim_converged(s))
			break;
		if (!sim_step(s)) {
			if (!sim_converged(s))
				sim_fail(s, "the world stopped unconverged");
			break;
		}
	}
	if (!s->failed)
		sim_check_end(s);
	rc = s->failed;
	if (rc)
		report_failure(s, o);
	else if (o->one)
		printf("seed %llu held: %llu steps, %.2f s simulated, "
		    "%llu crashes, %llu partitions, %llu disk faults, "
		    "views up to %llu\n", (unsigned long long)seed,
		    (unsigned long long)s->steps, (double)s->now / 1e6,
		    (unsigned long long)s->crashes,
		    (unsigned long long)s->partitions,
		    (unsigned long long)s->disk_faults,
		    (unsigned long long)s->views);
	t->seeds++;
	t->failed += rc;
	if (rc && t->first_failed == 0)
		t->first_failed = seed;
	for (int i = 0; i < s->plan.nclients; i++)
		t->entries += s->cli[i].acked;
	t->crashes += s->crashes;
	t->restarts += s->restarts;
	t->partitions += s->partitions;
	t->disk_faults += s->disk_faults;
	t->views += s->views;
	for (int i = 0; i < s->plan.nservers; i++)
		if (s->srv[i].alive) {
			struct sc_node_info in;

			sc_node_info(s->srv[i].node, &in);
			t->stale += in.stale;
		}
	t->steps += s->steps;
	t->sim_us += (uint64_t)s->now;
	sim_teardown(s);
	free(s);
	return rc;
}

/* Seeds first + k, first + k + jobs, ... (stops at a failure when a
 * failure is what we look for). */
static void
run_share(const struct opts *o, int k, struct totals *t)
{
	for (uint64_t i = (uint64_t)k; i < o->seeds; i += (uint64_t)o->jobs) {
		if (run_seed(o->first + i, o, t) && o->expect_fail)
			return;
		fflush(stdout);
	}
}

static int
run_all(const struct opts *o, struct totals *t)
{
	int fds[8][2];
	pid_t pid[8];

	if (o->jobs <= 1) {
		run_share(o, 0, t);
		return 0;
	}
	for (int k = 0; k < o->jobs; k++) {
		if (pipe(fds[k]) == -1 || (pid[k] = fork()) == -1)
			return -1;
		if (pid[k] == 0) {
			struct totals mine;

			memset(&mine, 0, sizeof(mine));
			close(fds[k][0]);
			run_share(o, k, &mine);
			if (write(fds[k][1], &mine, sizeof(mine)) < 0)
				_exit(3);
			_exit(0);
		}
		close(fds[k][1]);
	}
	for (int k = 0; k < o->jobs; k++) {
		struct totals w;
		int status;

		if (read(fds[k][0], &w, sizeof(w)) != (ssize_t)sizeof(w))
			memset(&w, 0, sizeof(w)), w.failed = 1;
		close(fds[k][0]);
		waitpid(pid[k], &status, 0);
		t->seeds += w.seeds;
		t->failed += w.failed;
		if (w.first_failed && (!t->first_failed ||
		    w.first_failed < t->first_failed))
			t->first_failed = w.first_failed;
		t->entries += w.entries;
		t->crashes += w.crashes;
		t->restarts += w.restarts;
		t->partitions += w.partitions;
		t->disk_faults += w.disk_faults;
		t->views += w.views;
		t->stale += w.stale;
		t->steps += w.steps;
		t->sim_us += w.sim_us;
	}
	return 0;
}

static int
usage(void)
{
	fprintf(stderr, "usage: sim [--seeds N] [--first S] [--servers 2|3|5] "
	    "[--jobs J] [--seed S] [-v|-vv]\n"
	    "           [--mutate RULE --expect-fail]\n");
	return 2;
}

static int
parse(int argc, char **argv, struct opts *o)
{
	uint64_t v;

	memset(o, 0, sizeof(*o));
	o->seeds = 100;
	o->first = 1;
	o->jobs = 1;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *next = i + 1 < argc ? argv[i + 1] :
		    "";

		if (strcmp(a, "-v") == 0 || strcmp(a, "-vv") == 0) {
			o->verbose = (int)strlen(a) - 1;
			continue;
		}
		if (strcmp(a, "--expect-fail") == 0) {
			o->expect_fail = 1;
			continue;
		}
		if (strcmp(a, "--mutate") == 0) {
			o->mutation = sc_mutation_by_name(next);
			if (o->mutation <= 0)
				return -1;
			i++;
			continue;
		}
		if (sc_parse_u64(next, 0, UINT64_MAX, &v) != SC_NUM_OK)
			return -1;
		i++;
		if (strcmp(a, "--seeds") == 0)
			o->seeds = v;
		else if (strcmp(a, "--first") == 0)
			o->first = v;
		else if (strcmp(a, "--seed") == 0) {
			o->first = v;
			o->seeds = 1;
			o->one = 1;
		} else if (strcmp(a, "--servers") == 0 && (v == 2 || v == 3 || v == 5))
			o->nservers = (int)v;
		else if (strcmp(a, "--jobs") == 0 && v >= 1 && v <= 8)
			o->jobs = (int)v;
		else
			return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct totals t;
	struct opts o;
	struct timespec a, b;
	double wall;

	if (parse(argc, argv, &o) == -1)
		return usage();
	if (o.mutation) {
#ifdef SC_MUTATIONS
		sc_mutation = o.mutation;
#else
		fprintf(stderr, "sim: built without mutations (use "
		    "build/sim-mut)\n");
		return 2;
#endif
	}
	sc_tpl_hooks_install();
	memset(&t, 0, sizeof(t));
	clock_gettime(CLOCK_MONOTONIC, &a);
	if (run_all(&o, &t) == -1) {
		perror("sim");
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	wall = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec -
	    a.tv_nsec) / 1e9;
	printf("sim%s%s: %llu seeds (from %llu) in %.1f s, %llu failed: "
	    "%llu entries acknowledged, %llu crashes (%llu restarts), "
	    "%llu partitions, %llu disk faults, %llu datagrams of older "
	    "views refused, %.0f s simulated, %llu steps\n", o.mutation ? " --mutate " : "",
	    o.mutation ? sc_mutation_name(o.mutation) : "",
	    (unsigned long long)t.seeds, (unsigned long long)o.first, wall,
	    (unsigned long long)t.failed, (unsigned long long)t.entries,
	    (unsigned long long)t.crashes, (unsigned long long)t.restarts,
	    (unsigned long long)t.partitions,
	    (unsigned long long)t.disk_faults, (unsigned long long)t.stale,
	    (double)t.sim_us / 1e6,
	    (unsigned long long)t.steps);
	if (o.expect_fail) {
		if (t.failed == 0) {
			printf("sim: rule '%s' broken and no seed failed: the "
			    "simulator cannot see this mistake\n",
			    sc_mutation_name(o.mutation));
			return 1;
		}
		printf("sim: rule '%s' broken: seed %llu fails, as it must\n",
		    sc_mutation_name(o.mutation),
		    (unsigned long long)t.first_failed);
		return 0;
	}
	return t.failed ? 1 : 0;
}
