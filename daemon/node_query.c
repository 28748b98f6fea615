/*
 * node_query.c - what clients ask a server about: its applied log, a
 * page at a time, and its stats, in pages of one datagram.
 */
#include <string.h>

#include "node_priv.h"

/* A page of the applied log from id b (at most c entries; 0: as many as
 * fit), in one datagram. */
void
node_query_log(struct sc_node *n, const struct sockaddr_in *from,
    const struct sc_msg *req)
{
	static struct sc_item items[SC_BATCH_ITEMS];
	static uint8_t arena[SC_SEND_MAX];
	uint64_t id = req->b ? req->b : 1;
	uint64_t max = req->c ? req->c : SC_ITEMS_MAX;
	size_t size = sc_encoded_size(SC_LOG_REPLY, NULL, 0), used = 0;
	struct sc_msg m;

	node_msg(n, &m, SC_LOG_REPLY);
	m.a = n->sm.log.applied;
	m.items = items;
	while (id <= n->sm.log.applied && m.count < max &&
	    m.count < SC_BATCH_ITEMS) {
		struct sc_item *it = &items[m.count];

		if (sc_entries_get(&n->sm.log, id, it) == -1) {
			node_warn(n, "cannot read entry %llu back",
			    (unsigned long long)id);
			break;
		}
		size += sc_item_size(SC_LOG_REPLY, it);
		if (size > n->dgram_max)
			break;
		/* The value may live in a read-back buffer that the next
		 * get reuses: keep a copy. */
		memcpy(arena + used, it->value, it->len);
		it->value = arena + used;
		used += it->len;
		m.count++;
		id++;
	}
	node_send(n, &m, from);
}

void
node_query_stats(struct sc_node *n, const struct sockaddr_in *from,
    const struct sc_msg *req)
{
	static const size_t overhead = SC_HEADER_LEN + 64;
	char json[SC_TEXT_MAX + 1], page[SC_TEXT_MAX + 1];
	size_t chunk = n->dgram_max > overhead ? n->dgram_max - overhead : 0;
	uint64_t off = req->c;
	struct sc_msg m;
	int len;

	len = sc_node_stats_json(n, json, sizeof(json));
	if (len < 0 || off > (uint64_t)len || chunk == 0)
		return;
	if (chunk > (size_t)len - off)
		chunk = (size_t)len - off;
	memcpy(page, json + off, chunk);
	page[chunk] = '\0';
	node_msg(n, &m, SC_STATS_REPLY);
	m.a = (uint64_t)len;
	m.b = off;
	m.text = page;
	node_send(n, &m, from);
}
