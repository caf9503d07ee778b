/*
 * Blocks in sizes a step apart, recycled per client: the home of a
 * request paired with its response (response.h's twin), where it fits.
 * The struct is private to slab.c, which says why.
 */
#ifndef SALVO_SLAB_H
#define SALVO_SLAB_H

#include <stddef.h>

typedef struct salvo__slab salvo__slab;

/* Blocks are SALVO__SLAB_MIN bytes, or a multiple of SALVO__SLAB_STEP
 * more, up to SALVO__SLAB_BLOCK, the largest. */
#define SALVO__SLAB_MIN ((size_t)512)
#define SALVO__SLAB_STEP ((size_t)64)
#define SALVO__SLAB_BLOCK ((size_t)1024)

/* 1 where blocks are malloc's (under AddressSanitizer, so that a block used
 * after its free or never freed is still found), else 0: the tests of
 * where blocks lie skip there. */
#if defined(__SANITIZE_ADDRESS__)
#define SALVO__SLAB_MALLOC 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SALVO__SLAB_MALLOC 1
#endif
#endif
#ifndef SALVO__SLAB_MALLOC
#define SALVO__SLAB_MALLOC 0
#endif

/* A slab with one reference, its client's; NULL when out of memory. */
salvo__slab *salvo__slab_new(void);
/* The client lets go: blocks still out keep what holds them, and their
 * chunks go back to the system as they empty. NULL is accepted. */
void salvo__slab_release(salvo__slab *s);
/* A block of at least `bytes` bytes (at most SALVO__SLAB_BLOCK): the
 * smallest size that holds them, 64-aligned, from any thread; NULL when
 * out of memory. */
void *salvo__slab_take(salvo__slab *s, size_t bytes);
/* Gives back a block from salvo__slab_take, from any thread. */
void salvo__slab_give(void *block);

#endif /* SALVO_SLAB_H */
