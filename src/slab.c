/*
 * Blocks in sizes 64 bytes apart, recycled per client (slab.h).
 *
 * Why not malloc: a caller submitting 20,000 requests at once puts 20,000
 * twins (a request and its response, about 850 bytes) in fresh memory,
 * which the kernel maps a 4 KiB page at a time, each a fault; on the
 * benchmark's virtual machine that was 0.28 faults and about 2.3 us of a
 * request's 17 (submit all, C=64). Chunks here are 2 MiB, aligned to their
 * size, and every chunk after a size's first is advised to be one huge
 * page (MADV_HUGEPAGE: where transparent huge pages are enabled, always or
 * on advice), one fault for 2,043 blocks. A size's first chunk keeps small
 * pages, so that a client making few requests touches few pages, whatever
 * sizes they take. Small pages populated ahead (MADV_POPULATE_WRITE) were
 * measured and saved nothing. A block also costs a lock and a step in a list of
 * indices where malloc and free cost about 370 instructions for a block that no
 * thread's cache keeps. The lock is lock.h's: taking and giving a block is a
 * few dozen instructions under it, with no system call, and a pthread mutex
 * cost more than that (57 a pair, twice a request).
 *
 * Why sizes: with huge pages what submitting all still pays is the
 * kernel zeroing each fresh page, a cost by the byte, so a twin takes
 * the smallest block that holds it, not one size for all. A chunk holds
 * blocks of one size, its class, set when it is mapped or, wholly free,
 * taken for another class.
 *
 * A block finds its chunk by its address. A chunk's first blocks are its
 * header, which keeps the free list as indices, outside the blocks. Chunks
 * with a free block are on their class's `partial` list, the one given to
 * last in front, so that holes fill before a chunk is mapped. One wholly
 * free chunk is kept, for any class; the others go back to the system at
 * once (unmapping small chunks for every 63 blocks was measured at 3 us a
 * request; at this size it is nothing). The slab lives until its client
 * lets go and its last chunk is unmapped, since responses outlive their
 * client.
 *
 * Under AddressSanitizer blocks are malloc's, so that a block used after
 * its free or never freed is still found.
 */
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "forkgen.h"
#include "list.h"
#include "lock.h"
#include "slab.h"

#define CHUNK ((size_t)2 << 20)
#define MAX_BLOCKS ((int)(CHUNK / SALVO__SLAB_MIN))
#define NCLASSES                                                               \
  ((int)((SALVO__SLAB_BLOCK - SALVO__SLAB_MIN) / SALVO__SLAB_STEP) + 1)
#define NONE 0xffff

struct chunk {
  salvo__slab *s;
  salvo__list in_partial;
  int cls;                   /* index of its class: block_size(cls) */
  int nfree;                 /* blocks given back or never taken */
  int usable;                /* blocks after its header */
  uint16_t first;            /* the block given back last, NONE when none */
  uint16_t fresh;            /* blocks from here to its end were never taken */
  uint16_t next[MAX_BLOCKS]; /* of each block given back */
};

struct salvo__slab {
  unsigned fork_gen; /* a parent's slab is never locked in a child */
  salvo__lock lock;
  int chunks; /* mapped */
  int closed; /* the client let go: the slab ends with its last chunk */
  salvo__list partial[NCLASSES]; /* of each class */
  int of_class[NCLASSES];        /* chunks carved for each class */
  struct chunk *empty;           /* a wholly free chunk kept, or NULL */
};

salvo__slab *salvo__slab_new(void) {
  salvo__slab *s = calloc(1, sizeof(*s));
  if (!s)
    return NULL;
  for (int k = 0; k < NCLASSES; k++)
    salvo__list_init(&s->partial[k]);
  s->fork_gen = salvo__fork_gen();
  return s;
}

#if SALVO__SLAB_MALLOC
void salvo__slab_release(salvo__slab *s) { free(s); }
void *salvo__slab_take(salvo__slab *s, size_t bytes) {
  (void)s;
  return malloc(bytes);
}
void salvo__slab_give(void *block) { free(block); }
#else

static size_t block_size(int k) {
  return SALVO__SLAB_MIN + (size_t)k * SALVO__SLAB_STEP;
}

static struct chunk *chunk_of(void *block) {
  return (struct chunk *)((uintptr_t)block & ~(uintptr_t)(CHUNK - 1));
}

/* A chunk, aligned to its size: twice that mapped, the rest cut off. Its
 * class is set by carve. */
static struct chunk *chunk_map(salvo__slab *s, int huge) {
  char *m = mmap(NULL, 2 * CHUNK, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED)
    return NULL;
  char *c0 = (char *)(((uintptr_t)m + CHUNK - 1) & ~(uintptr_t)(CHUNK - 1));
  if (c0 > m)
    munmap(m, (size_t)(c0 - m));
  munmap(c0 + CHUNK, (size_t)(m + CHUNK - c0));
  if (huge)
    (void)madvise(c0, CHUNK, MADV_HUGEPAGE); /* advice: refused is fine */
  struct chunk *c = (struct chunk *)c0;
  c->s = s;
  return c;
}

/* Makes a wholly free chunk one of class k's, none of its blocks taken:
 * blocks are taken from `fresh` on until one is given back, so that
 * neither the free list nor the blocks are written before they are used
 * (a fresh page untouched is a page the kernel need not zero). */
static void carve(salvo__slab *s, struct chunk *c, int k) {
  size_t size = block_size(k);
  int hdr = (int)((sizeof(struct chunk) + size - 1) / size);
  c->cls = k;
  c->usable = (int)(CHUNK / size) - hdr;
  c->nfree = c->usable;
  c->first = NONE;
  c->fresh = (uint16_t)hdr;
  s->of_class[k]++;
  salvo__list_push_front(&s->partial[k], &c->in_partial);
}

/* Lets a wholly free chunk go (under the lock): it is unmapped once the
 * lock is dropped. */
static struct chunk *drop(salvo__slab *s, struct chunk *c) {
  salvo__list_remove(&c->in_partial);
  s->of_class[c->cls]--;
  s->chunks--;
  return c;
}

void salvo__slab_release(salvo__slab *s) {
  if (!s || s->fork_gen != salvo__fork_gen())
    return;
  salvo__lock_take(&s->lock);
  struct chunk *unmap = s->empty ? drop(s, s->empty) : NULL;
  s->empty = NULL;
  s->closed = 1;
  int last = s->chunks == 0;
  salvo__lock_give(&s->lock);
  if (unmap)
    munmap(unmap, CHUNK);
  if (last)
    free(s);
}

/* The smallest class whose blocks hold `bytes`. */
static int class_of(size_t bytes) {
  return bytes <= SALVO__SLAB_MIN
             ? 0
             : (int)((bytes - SALVO__SLAB_MIN + SALVO__SLAB_STEP - 1) /
                     SALVO__SLAB_STEP);
}

void *salvo__slab_take(salvo__slab *s, size_t bytes) {
  int k = class_of(bytes);
  salvo__lock_take(&s->lock);
  salvo__list *n = salvo__list_first(&s->partial[k]);
  struct chunk *c;
  if (n) {
    c = salvo__container_of(n, struct chunk, in_partial);
  } else if (s->empty) { /* kept for another class: it is carved anew */
    c = s->empty;
    salvo__list_remove(&c->in_partial);
    s->of_class[c->cls]--;
    carve(s, c, k);
  } else {
    int huge = s->of_class[k] > 0;
    salvo__lock_give(&s->lock); /* no lock held across system calls */
    if (!(c = chunk_map(s, huge)))
      return NULL;
    salvo__lock_take(&s->lock);
    carve(s, c, k);
    s->chunks++;
  }
  if (c == s->empty)
    s->empty = NULL;
  int i;
  if (c->first != NONE) {
    i = c->first;
    c->first = c->next[i];
  } else {
    i = c->fresh++;
  }
  if (--c->nfree == 0)
    salvo__list_remove(&c->in_partial);
  salvo__lock_give(&s->lock);
  return (char *)c + (size_t)i * block_size(c->cls);
}

void salvo__slab_give(void *block) {
  struct chunk *c = chunk_of(block);
  salvo__slab *s = c->s;
  if (s->fork_gen != salvo__fork_gen())
    return; /* a parent's: its lock may be held by a thread gone with fork */
  /* Outside the lock: a chunk's class holds while a block of it is out. */
  int i = (int)((size_t)((char *)block - (char *)c) / block_size(c->cls));
  struct chunk *unmap = NULL;
  salvo__lock_take(&s->lock);
  c->next[i] = c->first;
  c->first = (uint16_t)i;
  if (c->nfree++ == 0)
    salvo__list_push_front(&s->partial[c->cls], &c->in_partial);
  if (c->nfree == c->usable) {
    if (s->empty || s->closed)
      unmap = drop(s, c);
    else
      s->empty = c;
  }
  int last = s->closed && s->chunks == 0;
  salvo__lock_give(&s->lock);
  if (unmap)
    munmap(unmap, CHUNK);
  if (last)
    free(s);
}
#endif
