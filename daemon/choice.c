/*
 * choice.c - the client's choice of server (see choice.h).
 */
#include <string.h>

#include "seqcast/choice.h"

void
sc_choice_init(struct sc_choice *c, uint32_t n, int64_t timeout_us,
    int64_t now)
{
	memset(c, 0, sizeof(*c));
	c->n = n == 0 ? 1 : (n > SC_CHOICE_MAX ? SC_CHOICE_MAX : n);
	c->timeout_us = timeout_us;
	c->progress = now;
}

void
sc_choice_progress(struct sc_choice *c, int64_t now)
{
	memset(c->why, 0, sizeof(c->why));
	c->progress = now;
}

enum sc_choice_move
sc_choice_failed(struct sc_choice *c, enum sc_choice_why why)
{
	/* Silence does not hide a more precise reason: a server that refused
	 * is silent too. */
	if (why != SC_CHOICE_SILENT || c->why[c->current] == SC_CHOICE_NONE)
		c->why[c->current] = (uint8_t)why;
	if (c->n == 1)
		return SC_CHOICE_STAY;
	c->switches++;
	for (uint32_t k = 1; k < c->n; k++) {
		uint32_t i = (c->current + k) % c->n;

		if (c->why[i] == SC_CHOICE_NONE) {
			c->current = i;
			return SC_CHOICE_SWITCH;
		}
	}
	c->current = (c->current + 1) % c->n;
	return SC_CHOICE_ROTATE;
}

int64_t
sc_choice_deadline(const struct sc_choice *c)
{
	return c->progress + c->timeout_us;
}

int
sc_choice_all(const struct sc_choice *c, enum sc_choice_why why)
{
	for (uint32_t i = 0; i < c->n; i++)
		if (c->why[i] != why)
			return 0;
	return 1;
}

const char *
sc_choice_why_name(int why)
{
	switch (why) {
	case SC_CHOICE_REFUSED:     return "connection refused";
	case SC_CHOICE_UNAVAILABLE: return "unavailable";
	case SC_CHOICE_SILENT:      return "silent";
	default:                    return "no answer";
	}
}
