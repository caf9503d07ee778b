/*
 * Blocks of one size, recycled per client (slab.h).
 *
 * Why not malloc: a caller submitting 20,000 requests at once puts 20,000
 * twins (a request and its response, about 850 bytes) in fresh memory,
 * which the kernel maps a 4 KiB page at a time, each a fault; on the
 * benchmark's virtual machine that was 0.28 faults and about 2.3 us of a
 * request's 17 (submit all, C=64). Chunks here are 2 MiB, aligned to their
 * size, and every chunk after a client's first is advised to be one huge
 * page (MADV_HUGEPAGE: where transparent huge pages are enabled, always or
 * on advice), one fault for 2,043 blocks. The first chunk keeps small
 * pages, so that a client making few requests touches few pages. Small
 * pages populated ahead (MADV_POPULATE_WRITE) were measured and saved
 * nothing. A block also costs a lock and a step in a list of indices where
 * malloc and free cost about 370 instructions for a block that no thread's
 * cache keeps. The lock is lock.h's: taking and giving a block is a few
 * dozen instructions under it, with no system call, and a pthread mutex
 * cost more than that (57 a pair, twice a request).
 *
 * A block finds its chunk by its address. A chunk's first blocks are its
 * header, which keeps the free list as indices, outside the blocks. Chunks
 * with a free block are on the slab's `partial` list, the one given to
 * last in front, so that holes fill before a chunk is mapped. One wholly
 * free chunk is kept; the others go back to the system at once (unmapping
 * small chunks for every 63 blocks was measured at 3 us a request; at this
 * size it is nothing). The slab lives until its client lets go and its
 * last chunk is unmapped, since responses outlive their client.
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

#if defined(__SANITIZE_ADDRESS__)
#define SALVO__SLAB_MALLOC 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SALVO__SLAB_MALLOC 1
#endif
#endif

#define NBLOCKS 2048
#define CHUNK ((size_t)NBLOCKS * SALVO__SLAB_BLOCK) /* 2 MiB */
#define NONE 0xffff

struct chunk {
  salvo__slab *s;
  salvo__list in_partial;
  int nfree;
  uint16_t first;         /* its first free block, NONE when full */
  uint16_t next[NBLOCKS]; /* of each free block */
};

/* The blocks the header takes, and those left for use. */
#define HDR                                                                    \
  ((int)((sizeof(struct chunk) + SALVO__SLAB_BLOCK - 1) / SALVO__SLAB_BLOCK))
#define USABLE (NBLOCKS - HDR)

struct salvo__slab {
  unsigned fork_gen; /* a parent's slab is never locked in a child */
  salvo__lock lock;
  int chunks; /* mapped */
  int closed; /* the client let go: the slab ends with its last chunk */
  salvo__list partial;
  struct chunk *empty; /* a wholly free chunk kept, or NULL */
};

salvo__slab *salvo__slab_new(void) {
  salvo__slab *s = calloc(1, sizeof(*s));
  if (!s)
    return NULL;
  salvo__list_init(&s->partial);
  s->fork_gen = salvo__fork_gen();
  return s;
}

#ifdef SALVO__SLAB_MALLOC
void salvo__slab_release(salvo__slab *s) { free(s); }
void *salvo__slab_take(salvo__slab *s) {
  (void)s;
  return malloc(SALVO__SLAB_BLOCK);
}
void salvo__slab_give(void *block) { free(block); }
#else

static struct chunk *chunk_of(void *block) {
  return (struct chunk *)((uintptr_t)block & ~(uintptr_t)(CHUNK - 1));
}

/* A chunk, aligned to its size: twice that mapped, the rest cut off. */
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
  c->nfree = USABLE;
  c->first = HDR;
  for (int i = HDR; i < NBLOCKS; i++)
    c->next[i] = i + 1 < NBLOCKS ? (uint16_t)(i + 1) : NONE;
  return c;
}

/* Lets a wholly free chunk go (under the lock): it is unmapped once the
 * lock is dropped. */
static struct chunk *drop(salvo__slab *s, struct chunk *c) {
  salvo__list_remove(&c->in_partial);
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

void *salvo__slab_take(salvo__slab *s) {
  salvo__lock_take(&s->lock);
  salvo__list *n = salvo__list_first(&s->partial);
  struct chunk *c;
  if (n) {
    c = salvo__container_of(n, struct chunk, in_partial);
  } else {
    int huge = s->chunks > 0;
    salvo__lock_give(&s->lock); /* no lock held across system calls */
    if (!(c = chunk_map(s, huge)))
      return NULL;
    salvo__lock_take(&s->lock);
    salvo__list_push_front(&s->partial, &c->in_partial);
    s->chunks++;
  }
  if (c == s->empty)
    s->empty = NULL;
  int i = c->first;
  c->first = c->next[i];
  if (--c->nfree == 0)
    salvo__list_remove(&c->in_partial);
  salvo__lock_give(&s->lock);
  return (char *)c + (size_t)i * SALVO__SLAB_BLOCK;
}

void salvo__slab_give(void *block) {
  struct chunk *c = chunk_of(block);
  salvo__slab *s = c->s;
  if (s->fork_gen != salvo__fork_gen())
    return; /* a parent's: its lock may be held by a thread gone with fork */
  int i = (int)(((char *)block - (char *)c) / (ptrdiff_t)SALVO__SLAB_BLOCK);
  struct chunk *unmap = NULL;
  salvo__lock_take(&s->lock);
  c->next[i] = c->first;
  c->first = (uint16_t)i;
  if (c->nfree++ == 0)
    salvo__list_push_front(&s->partial, &c->in_partial);
  if (c->nfree == USABLE) {
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
