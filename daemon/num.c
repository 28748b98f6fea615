/*
 * num.c - the strict integer parser.
 */
#include "seqcast/num.h"

enum sc_num_result
sc_parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
	const char *p = s;
	int neg = 0, over = 0;
	uint64_t v = 0;

	if (*p == '-') {
		neg = 1;
		p++;
	}
	if (*p < '0' || *p > '9')
		return SC_NUM_BAD;
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned d = (unsigned)(*p - '0');

		if (v > (UINT64_MAX - d) / 10)
			over = 1;
		else
			v = v * 10 + d;
	}
	if (*p != '\0')
		return SC_NUM_BAD;
	if (neg || over || v < lo || v > hi)
		return SC_NUM_RANGE;
	*out = v;
	return SC_NUM_OK;
}
