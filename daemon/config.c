/*
 * config.c - the cluster file: its lines, its sections and the checks over
 * the whole file. The keys (kinds, ranges, where values go) are in
 * config_keys.c, the digest servers compare in config_digest.c.
 *
 * libinih splits "key = value" (or "key: value"), trims both and removes
 * a " ; comment" from the value ('#' after a value is NOT a comment). We
 * feed it one line per call through our own reader, because Debian's
 * libinih (55, built with its defaults)
 *   - calls back only for key lines: a section header is never reported,
 *     so an empty, duplicate or unknown section would go unseen;
 *   - gives the handler no line number (ini.h declares the handler without
 *     one; libinih.so.55 happens to pass the line as a fifth argument, but
 *     the header does not promise it, so we do not rely on it);
 *   - joins a line that starts with white space to the previous value, and
 *     cuts a line longer than 198 characters into several lines, counting
 *     each: both shift the line numbers of what follows.
 * So the reader counts the lines (one per call, as inih counts them, so
 * inih's own error line agrees), handles blank lines, comments (';' or '#'
 * first) and section headers itself, hands inih only key lines, trimmed,
 * and refuses those that do not fit inih's buffer. It stops at the first
 * error; every error names the line it was found on.
 *
 * Error messages (one line, the first error only):
 *   FILE: cannot open: <strerror>
 *   FILE:LINE: syntax error
 *   FILE:LINE: unknown section [NAME]
 *   FILE:LINE: duplicate section [server N] (first at line M)
 *   FILE:LINE: key 'KEY': unknown key
 *   FILE:LINE: key 'KEY': <what is wrong with the value>
 *   FILE: [cluster]: missing key 'KEY'
 */
#include "config_priv.h"
#include "seqcast/num.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Largest file sc_config_load reads. */
#define FILE_MAX (1u << 20)

enum { SEC_NONE = -2, SEC_CLUSTER = -1 }; /* else a server id */

struct parse {
	struct sc_config *c;
	const char *name;            /* the file's name, for messages */
	const char *pos;             /* next unread character */
	int lineno;                  /* line last read */
	int sec;                     /* SEC_NONE, SEC_CLUSTER or a server id */
	int cluster_line;            /* line of [cluster], 0 = not seen */
	int server_line[SC_SERVERS_MAX];
	uint64_t seen[1 + SC_SERVERS_MAX]; /* keys set, bit = key index:
	                                      [cluster], then [server N] */
	int key_line[CONF_KEYS_MAX]; /* [cluster] key -> its line */
	char *err;
	size_t errlen;
	int err_line;                /* line of our first error, or 0 */
	int failed;
};

/* The first error wins; line 0 names the whole file. */
__attribute__((format(printf, 3, 4)))
static void fail(struct parse *p, int line, const char *fmt, ...)
{
	char msg[300];
	va_list ap;

	if (p->failed)
		return;
	p->failed = 1;
	p->err_line = line;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (p->err == NULL || p->errlen == 0)
		return;
	if (line > 0)
		snprintf(p->err, p->errlen, "%s:%d: %s", p->name, line, msg);
	else
		snprintf(p->err, p->errlen, "%s: %s", p->name, msg);
}

static int has_key(const struct parse *p, int sec, const char *name)
{
	size_t i = conf_key_index(conf_key_find(name));

	return (p->seen[sec + 1] >> i) & 1;
}

/* ------------------------------------------------------------------ */
/* lines and sections */

/* The next line, without its end of line, BOM and surrounding white
 * space, into s[0..n); 0 at the end of the text. */
static int next_line(struct parse *p, const char **s, size_t *n)
{
	const char *line = p->pos, *nl;
	size_t len;

	if (*line == '\0')
		return 0;
	nl = strchr(line, '\n');
	len = nl ? (size_t)(nl - line) : strlen(line);
	p->pos = line + len + (nl ? 1 : 0);
	if (++p->lineno == 1 && len >= 3 &&
	    memcmp(line, "\xef\xbb\xbf", 3) == 0) {
		line += 3; /* UTF-8 byte order mark */
		len -= 3;
	}
	while (len > 0 && isspace((unsigned char)line[0]))
		line++, len--;
	while (len > 0 && isspace((unsigned char)line[len - 1]))
		len--;
	*s = line;
	*n = len;
	return 1;
}

/* [server N]: name[0..nl) is "server" and white space, then N. */
static void enter_server(struct parse *p, const char *name, size_t nl)
{
	size_t skip = 6 + strspn(name + 6, " \t"), dl = nl - skip;
	char num[16];
	uint64_t id;

	if (dl == 0 || dl >= sizeof num)
		goto bad;
	memcpy(num, name + skip, dl);
	num[dl] = '\0';
	if ((dl > 1 && num[0] == '0') || sc_parse_u64(num, 0,
	    SC_SERVERS_MAX - 1, &id) != SC_NUM_OK)
		goto bad;
	if (p->server_line[id]) {
		fail(p, p->lineno, "duplicate section [server %d] (first at "
		    "line %d)", (int)id, p->server_line[id]);
		return;
	}
	p->server_line[id] = p->lineno;
	p->c->servers[id].present = 1;
	p->sec = (int)id;
	return;
bad:
	fail(p, p->lineno, "section [%.*s]: bad server id (expected 0..%d)",
	    (int)(nl > 64 ? 64 : nl), name, SC_SERVERS_MAX - 1);
}

/* A section header line s[0..n), s[0] == '['. */
static void section(struct parse *p, const char *s, size_t n)
{
	const char *close = memchr(s, ']', n), *name = s + 1, *e = close, *t;

	if (close == NULL) {
		fail(p, p->lineno, "syntax error: missing ']'");
		return;
	}
	for (t = close + 1; t < s + n && isspace((unsigned char)*t); t++)
		;
	if (t < s + n && *t != ';' && *t != '#') {
		fail(p, p->lineno, "syntax error: text after ']'");
		return;
	}
	while (name < e && isspace((unsigned char)*name))
		name++;
	while (e > name && isspace((unsigned char)e[-1]))
		e--;
	if (e - name == 7 && memcmp(name, "cluster", 7) == 0) {
		if (p->cluster_line) {
			fail(p, p->lineno, "duplicate section [cluster] "
			    "(first at line %d)", p->cluster_line);
			return;
		}
		p->cluster_line = p->lineno;
		p->sec = SEC_CLUSTER;
	} else if (e - name > 6 && memcmp(name, "server", 6) == 0 &&
	    (name[6] == ' ' || name[6] == '\t')) {
		enter_server(p, name, (size_t)(e - name));
	} else {
		fail(p, p->lineno, "unknown section [%.*s]",
		    (int)(e - name > 64 ? 64 : e - name), name);
	}
}

/* inih's reader: one line per call; inih sees key lines only. */
static char *reader(char *buf, int num, void *stream)
{
	struct parse *p = stream;
	const char *s;
	size_t n;

	if (p->failed || num < 3 || !next_line(p, &s, &n))
		return NULL;
	buf[0] = '\0';
	if (n == 0 || *s == ';' || *s == '#')
		return buf;
	if (*s == '[') {
		section(p, s, n);
		return buf;
	}
	if (n + 2 > (size_t)num) {
		fail(p, p->lineno, "line too long (at most %d characters)",
		    num - 2);
		return buf;
	}
	memcpy(buf, s, n);
	memcpy(buf + n, "\n", 2);
	return buf;
}

/* ------------------------------------------------------------------ */
/* keys */

/* May key k be set here, now? */
static int key_allowed(struct parse *p, const struct conf_key *k)
{
	uint64_t bit = (uint64_t)1 << conf_key_index(k);

	if (p->sec == SEC_CLUSTER && !(k->where & IN_CLUSTER)) {
		fail(p, p->lineno, "key '%s': not allowed in [cluster] (only "
		    "in [server N])", k->name);
		return 0;
	}
	if (p->sec >= 0 && !(k->where & IN_SERVER)) {
		fail(p, p->lineno, "key '%s': not allowed in [server %d] (only "
		    "in [cluster])", k->name, p->sec);
		return 0;
	}
	if (p->seen[p->sec + 1] & bit) {
		fail(p, p->lineno, "key '%s': duplicate key", k->name);
		return 0;
	}
	p->seen[p->sec + 1] |= bit;
	return 1;
}

/* inih's handler: one "key = value" on line p->lineno. */
static int handler(void *user, const char *section_name, const char *name,
    const char *value)
{
	struct parse *p = user;
	const struct conf_key *k;
	char what[256];

	(void)section_name; /* ours, from the reader, is authoritative */
	if (p->failed)
		return 1; /* stopping; the reader ends the parse */
	if (*name == '\0') {
		fail(p, p->lineno, "syntax error: missing key name");
		return 0;
	}
	if (p->sec == SEC_NONE) {
		fail(p, p->lineno, "key '%.64s': outside any section "
		    "(expected [cluster] or [server N] first)", name);
		return 0;
	}
	k = conf_key_find(name);
	if (k == NULL) {
		fail(p, p->lineno, "key '%.64s': unknown key", name);
		return 0;
	}
	if (!key_allowed(p, k))
		return 0;
	if (conf_key_apply(p->c, p->sec, k, value, NULL, what,
	    sizeof what) < 0) {
		fail(p, p->lineno, "key '%s': %s", name, what);
		return 0;
	}
	if (p->sec == SEC_CLUSTER)
		p->key_line[conf_key_index(k)] = p->lineno;
	return 1;
}

/* ------------------------------------------------------------------ */
/* the whole file */

/* Server sections 0..n-1, each present with a listen address. */
static void check_servers(struct parse *p)
{
	struct sc_config *c = p->c;
	uint32_t n = 0;

	for (uint32_t i = 0; i < SC_SERVERS_MAX; i++)
		if (c->servers[i].present)
			n = i + 1;
	if (n == 0)
		fail(p, 0, "no [server N] section (at least [server 0] is "
		    "required)");
	for (uint32_t i = 0; i < n; i++)
		if (!c->servers[i].present)
			fail(p, 0, "missing section [server %u] (server ids "
			    "must run 0..%u without holes)", i, n - 1);
	for (uint32_t i = 0; i < n; i++)
		if (!has_key(p, (int)i, "listen"))
			fail(p, 0, "[server %u]: missing key 'listen'", i);
	c->nservers = n;
}

/* After the last line: what the file as a whole must hold. */
static void finish(struct parse *p)
{
	struct sc_config *c = p->c;

	if (!p->cluster_line)
		fail(p, 0, "missing section [cluster]");
	if (!has_key(p, SEC_CLUSTER, "id"))
		fail(p, 0, "[cluster]: missing key 'id'");
	if (!has_key(p, SEC_CLUSTER, "group"))
		fail(p, 0, "[cluster]: missing key 'group'");
	check_servers(p);
	if (p->failed)
		return;
	if (c->coordinator >= c->nservers)
		fail(p, p->key_line[conf_key_index(conf_key_find(
		    "coordinator"))], "key 'coordinator': no [server %u] in "
		    "this file", c->coordinator);
	/* A server without its own interface or data_dir has the
	 * cluster's (has_interface stays 0). */
	for (uint32_t i = 0; i < c->nservers; i++) {
		if (!has_key(p, (int)i, "interface"))
			c->servers[i].interface = c->interface;
		if (!has_key(p, (int)i, "data_dir"))
			memcpy(c->servers[i].data_dir, c->data_dir,
			    sizeof c->data_dir);
	}
}

__attribute__((format(printf, 3, 4)))
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

int sc_config_parse(struct sc_config *c, const char *text, const char *name,
    char *err, size_t errlen)
{
	struct sc_config *tmp = NULL;
	struct parse *p;
	int r, rc = -1;

	name = name ? name : "(string)";
	set_err(err, errlen, "%s", "");
	if (c == NULL || text == NULL) {
		set_err(err, errlen, "%s: no input", name);
		return -1;
	}
	p = calloc(1, sizeof *p);
	tmp = malloc(sizeof *tmp);
	if (p == NULL || tmp == NULL) {
		set_err(err, errlen, "%s: out of memory", name);
		goto out;
	}
	sc_config_defaults(tmp);
	p->c = tmp;
	p->name = name;
	p->pos = text;
	p->sec = SEC_NONE;
	p->err = err;
	p->errlen = errlen;
	r = ini_parse_stream(reader, p, handler, p);
	if (r > 0 && (!p->failed || r < p->err_line)) {
		/* inih's own error (no '=' or ':'), before any of ours. */
		p->failed = 0;
		fail(p, r, "syntax error");
	} else if (r < 0) {
		fail(p, 0, "cannot parse (inih error %d)", r);
	}
	if (!p->failed)
		finish(p);
	if (!p->failed) {
		*c = *tmp;
		rc = 0;
	}
out:
	free(tmp);
	free(p);
	return rc;
}

/* The whole file into a NUL-terminated *buf. */
static int read_file(const char *path, char **buf, size_t *len,
    char *err, size_t errlen)
{
	FILE *fp = fopen(path, "r");
	size_t cap = 0, got = 1;
	char *b = NULL;

	*len = 0;
	if (fp == NULL) {
		set_err(err, errlen, "%s: cannot open: %s", path,
		    strerror(errno));
		return -1;
	}
	while (got > 0 && *len <= FILE_MAX) {
		if (cap - *len < 4096) {
			char *nb = realloc(b, (cap = cap ? cap * 2 : 8192) + 1);
			if (nb == NULL) {
				set_err(err, errlen, "%s: out of memory", path);
				goto fail;
			}
			b = nb;
		}
		got = fread(b + *len, 1, cap - *len, fp);
		*len += got;
	}
	if (*len > FILE_MAX) {
		set_err(err, errlen, "%s: too large (more than %u bytes)",
		    path, FILE_MAX);
		goto fail;
	}
	if (ferror(fp)) {
		set_err(err, errlen, "%s: cannot read: %s", path,
		    strerror(errno));
		goto fail;
	}
	fclose(fp);
	b[*len] = '\0';
	*buf = b;
	return 0;
fail:
	fclose(fp);
	free(b);
	return -1;
}

int sc_config_load(struct sc_config *c, const char *path,
    char *err, size_t errlen)
{
	char *buf, *nul;
	size_t len;
	int rc, line = 1;

	set_err(err, errlen, "%s", "");
	if (path == NULL) {
		set_err(err, errlen, "(null): cannot open: %s",
		    strerror(EINVAL));
		return -1;
	}
	if (read_file(path, &buf, &len, err, errlen) < 0)
		return -1;
	nul = memchr(buf, '\0', len);
	if (nul) {
		for (const char *q = buf; q < nul; q++)
			line += *q == '\n';
		set_err(err, errlen, "%s:%d: NUL byte in file", path, line);
		free(buf);
		return -1;
	}
	rc = sc_config_parse(c, buf, path, err, errlen);
	free(buf);
	return rc;
}

const struct sc_fault_conf *sc_config_fault(const struct sc_config *c,
    uint32_t id)
{
	if (id < SC_SERVERS_MAX && c->servers[id].has_fault)
		return &c->servers[id].fault;
	return &c->fault;
}

/* "  key = value " in buf -> trimmed key and value, in place. */
static int split_kv(char *buf, char **key, char **val)
{
	char *eq = strchr(buf, '='), *e;

	if (eq == NULL)
		return -1;
	*eq = '\0';
	*key = buf + strspn(buf, " \t\n\v\f\r");
	*val = eq + 1 + strspn(eq + 1, " \t\n\v\f\r");
	for (e = eq; e > *key && isspace((unsigned char)e[-1]); e--)
		e[-1] = '\0';
	for (e = *val + strlen(*val); e > *val &&
	    isspace((unsigned char)e[-1]); e--)
		e[-1] = '\0';
	return **key == '\0' ? -1 : 0;
}

int sc_config_set(struct sc_config *c, uint32_t server, const char *kv,
    char *err, size_t errlen)
{
	char buf[512], what[256], *key, *val;
	const struct conf_key *k;
	struct sc_config *tmp;
	int target, rc = -1;

	set_err(err, errlen, "%s", "");
	if (c == NULL || kv == NULL) {
		set_err(err, errlen, "no setting given");
		return -1;
	}
	if (strlen(kv) >= sizeof buf) {
		set_err(err, errlen, "setting too long: '%.64s...'", kv);
		return -1;
	}
	strcpy(buf, kv);
	if (split_kv(buf, &key, &val) < 0) {
		set_err(err, errlen, "expected key=value: '%.64s'", kv);
		return -1;
	}
	if ((k = conf_key_find(key)) == NULL) {
		set_err(err, errlen, "key '%.64s': unknown key", key);
		return -1;
	}
	/* Keys a [server N] may hold go to the server, the rest to the
	 * cluster. */
	target = (k->where & IN_SERVER) ? (int)server : SEC_CLUSTER;
	if (target >= 0 && (server >= SC_SERVERS_MAX ||
	    server >= c->nservers || !c->servers[server].present)) {
		set_err(err, errlen, "key '%s': no [server %u] in the "
		    "configuration", key, server);
		return -1;
	}
	if ((tmp = malloc(sizeof *tmp)) == NULL) {
		set_err(err, errlen, "out of memory");
		return -1;
	}
	*tmp = *c;
	if (conf_key_apply(tmp, target, k, val, &c->fault, what,
	    sizeof what) < 0)
		set_err(err, errlen, "key '%s': %s", key, what);
	else if (tmp->nservers > 0 && (tmp->coordinator >= tmp->nservers ||
	    !tmp->servers[tmp->coordinator].present))
		set_err(err, errlen, "key 'coordinator': no [server %u] in "
		    "the configuration", tmp->coordinator);
	else
		rc = 0;
	if (rc == 0)
		*c = *tmp;
	free(tmp);
	return rc;
}
