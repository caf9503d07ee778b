/*
 * Buffers and strings: the growable buffer every module writes into,
 * copies, formatting, a case-blind compare and the tables' hash. Depends
 * on nothing but libc and salvo.h's error codes.
 *
 * libsalvo is built with hidden visibility: nothing declared in src/ is
 * exported, only what salvo.h marks SALVO_EXTERN.
 */
#ifndef SALVO_BUF_H
#define SALVO_BUF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "salvo.h"

typedef struct salvo__buf {
  char *p;
  size_t len;
  size_t cap;
} salvo__buf;

/* Keeps one spare byte so that p[len] can always hold a NUL. */
int salvo__buf_reserve(salvo__buf *b, size_t extra);
/* The same for a buffer whose first home is inl[0..inl_cap), storage of
 * its owner's (b->p is inl until it needs more, then the heap): the owner
 * frees b only when b->p is not inl. Inline: on a response's hot path,
 * most calls find room. */
int salvo__buf_grow_in(salvo__buf *b, char *inl, size_t inl_cap, size_t extra);
static inline int salvo__buf_reserve_in(salvo__buf *b, char *inl,
                                        size_t inl_cap, size_t extra) {
  if (b->p && extra < b->cap && b->len + extra < b->cap)
    return 0;
  return salvo__buf_grow_in(b, inl, inl_cap, extra);
}
/* Appends n bytes (and keeps the NUL after them). Inline for the common
 * case of room to spare: requests' heads are written a piece at a time. */
int salvo__buf_append_grow(salvo__buf *b, const void *p, size_t n);
static inline int salvo__buf_append(salvo__buf *b, const void *p, size_t n) {
  if (!b->p || n >= b->cap - b->len)
    return salvo__buf_append_grow(b, p, n);
  if (n)
    memcpy(b->p + b->len, p, n);
  b->len += n;
  b->p[b->len] = '\0';
  return 0;
}
void salvo__buf_free(salvo__buf *b);
/* n rounded up to a multiple of 16: as aligned as malloc's, for objects
 * laid out one after another in one allocation. */
static inline size_t salvo__align16(size_t n) { return (n + 15) & ~(size_t)15; }
char *salvo__strdup(const char *s);
char *salvo__strndup(const char *s, size_t n);
/* Allocates a copy of the message formatted like printf. */
char *salvo__fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Compares n bytes in ASCII case-blind, stopping at a NUL. */
int salvo__casecmp_n(const char *a, const char *b, size_t n);
/* FNV-1a of a string: salvo_url_shard's (documented) and the tables'
 * that hash few strings. */
uint32_t salvo__hash(const char *s);
/* A hash of s[0..n) eight bytes a step, for the tables every request
 * looks up (origins, hosts): not FNV-1a, which costs a multiply a byte. */
uint32_t salvo__hash_n(const char *s, size_t n);

#endif /* SALVO_BUF_H */
