/*
 * config_digest.c - the digest of the settings every server of a cluster
 * must share (see config.h for which they are).
 *
 * Each part is FNV-1a (32 bits) over the part's number and then its
 * values, each integer as 4 (or 2, for a port) big-endian bytes. Only
 * values go in, never struct memory (padding, byte order), so two hosts
 * with equal settings compute equal parts. 32 bits per part is against
 * mistakes, not attackers: a forged peer is refused by the MAC.
 */
#include "seqcast/config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#define FNV_BASIS 2166136261u
#define FNV_PRIME 16777619u

static uint32_t fnv_byte(uint32_t h, uint8_t b)
{
	return (h ^ b) * FNV_PRIME;
}

static uint32_t fnv_u32(uint32_t h, uint32_t v)
{
	for (int shift = 24; shift >= 0; shift -= 8)
		h = fnv_byte(h, (uint8_t)(v >> shift));
	return h;
}

/* Address and port, as A.B.C.D and PORT read left to right. */
static uint32_t fnv_addr(uint32_t h, const struct sockaddr_in *sa)
{
	uint16_t port = ntohs(sa->sin_port);

	h = fnv_u32(h, ntohl(sa->sin_addr.s_addr));
	h = fnv_byte(h, (uint8_t)(port >> 8));
	return fnv_byte(h, (uint8_t)port);
}

static uint32_t part_start(int part)
{
	return fnv_byte(FNV_BASIS, (uint8_t)part);
}

static uint32_t members_hash(const struct sc_config *c)
{
	uint32_t h = fnv_u32(part_start(SC_DIGEST_MEMBERS), c->nservers);

	for (uint32_t i = 0; i < c->nservers && i < SC_SERVERS_MAX; i++)
		h = fnv_addr(fnv_u32(h, i), &c->servers[i].listen);
	return h;
}

void sc_config_digest(const struct sc_config *c, struct sc_config_digest *d)
{
	uint32_t *p = d->part;

	p[SC_DIGEST_ID] = fnv_u32(part_start(SC_DIGEST_ID), c->cluster_id);
	p[SC_DIGEST_COORDINATOR] = fnv_u32(part_start(SC_DIGEST_COORDINATOR),
	    c->coordinator);
	p[SC_DIGEST_MEMBERS] = members_hash(c);
	p[SC_DIGEST_GROUP] = fnv_addr(part_start(SC_DIGEST_GROUP), &c->group);
	p[SC_DIGEST_KEY] = fnv_u32(part_start(SC_DIGEST_KEY),
	    c->key_file[0] != '\0');
	p[SC_DIGEST_VALUE_MAX] = fnv_u32(part_start(SC_DIGEST_VALUE_MAX),
	    c->value_max);
	p[SC_DIGEST_HEARTBEAT] = fnv_u32(part_start(SC_DIGEST_HEARTBEAT),
	    c->heartbeat_ms);
	p[SC_DIGEST_FAILOVER] = fnv_u32(part_start(SC_DIGEST_FAILOVER),
	    c->failover_ms);
}

const char *sc_config_digest_part_name(int part)
{
	static const char *const names[SC_DIGEST_PARTS] = {
		[SC_DIGEST_ID] = "id",
		[SC_DIGEST_COORDINATOR] = "coordinator",
		[SC_DIGEST_MEMBERS] = "members",
		[SC_DIGEST_GROUP] = "group",
		[SC_DIGEST_KEY] = "key_file",
		[SC_DIGEST_VALUE_MAX] = "value_max",
		[SC_DIGEST_HEARTBEAT] = "heartbeat_ms",
		[SC_DIGEST_FAILOVER] = "failover_ms",
	};

	if (part < 0 || part >= SC_DIGEST_PARTS || names[part] == NULL)
		return "?";
	return names[part];
}

int sc_config_digest_diff(const struct sc_config_digest *mine,
    const struct sc_config_digest *theirs, char *buf, size_t len)
{
	size_t used = 0;
	int n = 0;

	if (buf != NULL && len > 0)
		buf[0] = '\0';
	for (int i = 0; i < SC_DIGEST_PARTS; i++) {
		if (mine->part[i] == theirs->part[i])
			continue;
		if (buf != NULL && used < len)
			used += (size_t)snprintf(buf + used, len - used, "%s%s",
			    n > 0 ? ", " : "", sc_config_digest_part_name(i));
		n++;
	}
	return n;
}

uint32_t sc_config_digest_word(const struct sc_config_digest *d)
{
	uint32_t h = 2166136261u;

	for (int i = 0; i < SC_DIGEST_PARTS; i++)
		for (int b = 24; b >= 0; b -= 8) {
			h ^= (d->part[i] >> b) & 0xff;
			h *= 16777619u;
		}
	return h ? h : 1;
}
