/*
 * print.h - an entry on standard output: "ID<TAB>VALUE" with the value
 * escaped so that every entry is one line, or one JSON object per line.
 */
#ifndef SEQCAST_PRINT_H
#define SEQCAST_PRINT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* "ID<TAB>VALUE\n": \\, \n, \t, \r, and \xHH for other bytes below 0x20
 * and 0x7f; everything else as it is. */
void print_entry(FILE *f, uint64_t id, const uint8_t *v, size_t len);
/* {"id":ID,"value":"..."}\n (print_json_string). */
void print_entry_json(FILE *f, uint64_t id, const uint8_t *v, size_t len);
/* A JSON string of arbitrary bytes, always valid JSON: '"' and '\\'
 * escaped, control bytes as \n \t \r \b \f or \u00XX, valid UTF-8 as it
 * is (so a UTF-8 value reads back exactly), and each byte that is not
 * part of valid UTF-8 as \u00XX (the code point of the byte's number). */
void print_json_string(FILE *f, const uint8_t *v, size_t len);
/* Length of the valid UTF-8 sequence at v[0..len), or 0 if v[0] does not
 * start one (overlong forms, surrogates and code points beyond U+10FFFF
 * are not valid). */
size_t print_utf8_len(const uint8_t *v, size_t len);

#endif
