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

#endif /* SALVO_H1_CHUNK_H */
