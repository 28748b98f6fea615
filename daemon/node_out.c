/*
 * node_out.c - the node's way out, below every room: which server
 * coordinates a view and where a server listens, log lines, and
 * messages, built with our header, batched by the outbox (outbox.c),
 * then, as each datagram leaves, given its last scalars, checked against
 * a client address's budget (node_client.c), sealed (auth.c), counted
 * and handed to the shell (struct sc_io). The rooms call down into it;
 * it asks only the client budget (node_client.c) and reads the stream's
 * head and commit point (for DATA, RETX, STAMPED and ACK scalars).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "node_rooms.h"

/* The coordinator of a view: view 0's is the cluster file's, then the
 * next server id, round the ring. Every server computes the same. */
uint32_t
node_coordinator_of(const struct sc_node *n, uint32_t view)
{
	return (uint32_t)(((uint64_t)n->conf->coordinator + view) %
	    n->nservers);
}

const struct sockaddr_in *
node_addr(const struct sc_node *n, uint32_t id)
{
	return &n->conf->servers[id].listen;
}

static void
node_vsay(struct sc_node *n, int level, const char *fmt, va_list ap)
{
	char line[512];

	vsnprintf(line, sizeof(line), fmt, ap);
	if (n->io.log != NULL)
		n->io.log(n->io.ctx, level, line);
}

/* A line about what the protocol does (view changes, a failing disk):
 * rare by nature, never rate-limited. */
void
node_say(struct sc_node *n, int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	node_vsay(n, level, fmt, ap);
	va_end(ap);
}

/* A warning an outsider can cause (a bad datagram): at most one a
 * second, the rest counted. */
void
node_warn(struct sc_node *n, const char *fmt, ...)
{
	unsigned long long held;
	char line[480];
	va_list ap;

	if (!sc_ratelimit_allow(&n->warn_limit, n->now, &held))
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (held > 0)
		node_say(n, SC_LOG_WARN, "%s (%llu similar lines suppressed)",
		    line, held);
	else
		node_say(n, SC_LOG_WARN, "%s", line);
}

void
node_msg(const struct sc_node *n, struct sc_msg *m, int type)
{
	memset(m, 0, sizeof(*m));
	m->h = n->hdr;
	m->h.type = (uint8_t)type;
}

/* The way out of the node for every datagram. */
void
node_out_send(void *ctx, int type, const struct sockaddr_in *to, const void *buf,
    size_t len)
{
	struct sc_node *n = ctx;

	/* The budget counts the datagram as it leaves, MAC included, and
	 * is asked first: a refused reply costs no MAC. */
	if (!node_client_may_send(n, type, to,
	    len + (n->auth.on ? SC_AUTH_TRAILER : 0)))
		return;
	if (n->auth.on) {
		long sealed;

		memcpy(n->sealed, buf, len);
		sealed = sc_auth_seal(&n->auth, n->sealed, len,
		    sizeof(n->sealed), n->now + n->wall_offset);
		if (sealed < 0)
			return;
		buf = n->sealed;
		len = (size_t)sealed;
	}
	n->st.out[type]++;
	n->st.bytes_out += len;
	n->io.send(n->io.ctx, to, buf, len);
}

void
node_send(struct sc_node *n, struct sc_msg *m, const struct sockaddr_in *to)
{
	sc_outbox_send_msg(&n->out, m, to);
}

/* Scalars a batch gets as it leaves (the outbox asks). */
void
node_out_fill(void *ctx, struct sc_msg *m)
{
	struct sc_node *n = ctx;

	switch (m->h.type) {
	case SC_DATA:
		/* The coordinator holds these durably once they leave. */
		m->a = m->items[m->count - 1].id;
		m->b = n->sm.commit;
		break;
	case SC_RETX:
		m->a = node_stream_head(n);
		m->b = n->sm.commit;
		break;
	case SC_STAMPED:
		m->a = node_stream_head(n);
		break;
	case SC_ACK:
	case SC_LOG_REPLY:
		m->a = n->sm.log.applied;
		break;
	}
}
