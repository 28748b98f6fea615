/*
 * bytes.h - integers to and from byte strings in a fixed byte order: the
 * wire header is big-endian, the log file little-endian, whatever the
 * host is. Copy byte by byte: never cast a buffer to an integer.
 */
#ifndef SEQCAST_BYTES_H
#define SEQCAST_BYTES_H

#include <stdint.h>

static inline uint32_t
sc_get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t
sc_get_be64(const uint8_t *p)
{
	return (uint64_t)sc_get_be32(p) << 32 | sc_get_be32(p + 4);
}

static inline void
sc_put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline void
sc_put_be64(uint8_t *p, uint64_t v)
{
	sc_put_be32(p, (uint32_t)(v >> 32));
	sc_put_be32(p + 4, (uint32_t)v);
}

static inline uint32_t
sc_get_le32(const uint8_t *p)
{
	return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[1] << 8 | p[0];
}

static inline uint64_t
sc_get_le64(const uint8_t *p)
{
	return (uint64_t)sc_get_le32(p + 4) << 32 | sc_get_le32(p);
}

static inline void
sc_put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static inline void
sc_put_le64(uint8_t *p, uint64_t v)
{
	sc_put_le32(p, (uint32_t)v);
	sc_put_le32(p + 4, (uint32_t)(v >> 32));
}

#endif
