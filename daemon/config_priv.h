/*
 * config_priv.h - what the cluster file's reader (config.c) and its keys
 * (config_keys.c) share: the key table's row and the one door to it.
 *
 * A key names its kind (a function that reads one kind of value and
 * stores it) and where its value goes (an offset into struct sc_config
 * for [cluster], into struct sc_server_conf for [server N]) and its
 * default, as written in the file. Adding a key is one line of the table
 * in config_keys.c (and its field in struct sc_config).
 */
#ifndef SEQCAST_CONFIG_PRIV_H
#define SEQCAST_CONFIG_PRIV_H

#include <stddef.h>
#include <stdint.h>

#include "seqcast/config.h"

/* Sections a key may appear in. */
enum { IN_CLUSTER = 1, IN_SERVER = 2, IN_BOTH = 3 };

/* Key flags. */
enum {
	K_FAULT = 1,    /* fault_*: a [server N] gets its own fault settings */
	K_ZERO = 2,     /* numbers: 0 is accepted besides lo..hi */
	K_AUTO = 4,     /* numbers: "auto" is accepted, stored as UINT32_MAX */
};

/* Most keys one table can hold (the parser keeps a 64-bit seen-mask). */
#define CONF_KEYS_MAX 64

struct conf_key;

/* One value being stored. */
struct conf_set {
	struct sc_config *c;
	int server;                  /* -1 in [cluster], else the server id */
	void *field;                 /* where the value goes */
	struct sc_fault_conf *fault; /* the fault settings being written */
	char *what;                  /* out: what is wrong with the value */
	size_t wl;
};

/* A kind of value: reads v, stores it in s->field; on error writes what
 * is wrong into s->what and returns -1. */
typedef int conf_kind_fn(const struct conf_key *k, const struct conf_set *s,
    const char *v);

struct conf_key {
	const char *name;
	conf_kind_fn *kind;
	unsigned where;              /* IN_CLUSTER, IN_SERVER or IN_BOTH */
	unsigned flags;              /* K_* */
	size_t coff;                 /* field in struct sc_config */
	size_t soff;                 /* field in struct sc_server_conf */
	uint64_t lo, hi;             /* numbers: range; paths: field size */
	int dir;                     /* probabilities: SC_IN or SC_OUT */
	const char *const *names;    /* enumerations: the words, in order */
	const char *def;             /* [cluster] default, as written in the
	                                file; NULL = zero */
};

/* The key called name, or NULL; its index in the table, 0..63. */
const struct conf_key *conf_key_find(const char *name);
size_t conf_key_index(const struct conf_key *k);

/*
 * Store k = v in [cluster] (server < 0) or in [server `server`]. A
 * server's first fault key starts its fault settings from *fault_base
 * (--set) or from none (fault_base NULL, the file). On error returns -1
 * with what is wrong in what; *c may then be half-changed, so callers
 * work on a copy.
 */
int conf_key_apply(struct sc_config *c, int server, const struct conf_key *k,
    const char *v, const struct sc_fault_conf *fault_base,
    char *what, size_t wl);

#endif
