/*
 * The chunked transfer coding's size line (RFC 9112 7.1), read apart from
 * the framing (h1.c) that walks a chunked body: no I/O, no state.
 */
#ifndef SALVO_H1_CHUNK_H
#define SALVO_H1_CHUNK_H

#include <stddef.h>
#include <stdint.h>

/* A chunk's size line l[0..n), without its line ending: hex digits, then
 * nothing or a chunk-ext, not even whitespace without an extension after
 * it. NULL with *size, or what is wrong with the line. */
const char *salvo__h1_chunk_size(const char *l, size_t n, uint64_t *size);
/* Why a size line that has not ended (no LF in l[0..n)) is refused
 * already, in the words its whole reading gives, or NULL while what came
 * may still begin a good one. libcurl's de-chunker refuses such a line at
 * its first wrong byte; a server that sends no more would otherwise leave
 * the request to its timeout. */
const char *salvo__h1_chunk_unended(const char *l, size_t n);

#endif /* SALVO_H1_CHUNK_H */
