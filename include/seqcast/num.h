/*
 * num.h - the one strict integer parser of the tree (cluster file,
 * command lines, tools).
 */
#ifndef SEQCAST_NUM_H
#define SEQCAST_NUM_H

#include <stdint.h>

enum sc_num_result {
	SC_NUM_OK = 0,
	SC_NUM_BAD = -1,     /* not a decimal number */
	SC_NUM_RANGE = -2,   /* a number, but negative or outside lo..hi */
};

/* Strict unsigned decimal: digits only (a leading '-' is read so that
 * "-5" is reported as out of range, not as garbage), no sign, no space,
 * no overflow, and lo <= value <= hi. *out is set only on SC_NUM_OK. */
enum sc_num_result sc_parse_u64(const char *s, uint64_t lo, uint64_t hi,
    uint64_t *out);

#endif
