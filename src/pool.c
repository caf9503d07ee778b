/*
 * Body buffers recycled between the responses of one client.
 *
 * A body is allocated on the I/O thread and freed by whoever collects its
 * response. With glibc, the freed buffers pile up at the top of the I/O
 * thread's arena, which is trimmed (madvise) as soon as it passes 128 KiB,
 * so the next bodies land on pages the kernel must fault in again: 4 faults
 * per 16 KiB body, a third of the CPU of a request. The pool keeps those
 * buffers warm instead. Small bodies (under 4 KiB) never come here; malloc
 * serves them well.
 *
 * Buffers are kept by power-of-two size class, up to a total of
 * SALVO__POOL_BYTES. The pool is reference-counted: the client holds one
 * reference, and every response holding a buffer meant to come back holds
 * one, since responses may outlive their client.
 */
#include <pthread.h>
#include <stdlib.h>

#include "forkgen.h"
#include "pool.h"

#define MIN_SHIFT 12 /* 4 KiB */
#define NCLASSES 9   /* up to 1 MiB */
#define PER_CLASS 64

struct salvo__pool {
  unsigned fork_gen; /* a parent's pool is never locked in a child */
  pthread_mutex_t mtx;
  int refs;
  size_t bytes; /* cached */
  size_t n[NCLASSES];
  char *bufs[NCLASSES][PER_CLASS];
};

salvo__pool *salvo__pool_new(void) {
  salvo__pool *p = calloc(1, sizeof(*p));
  if (!p)
    return NULL;
  pthread_mutex_init(&p->mtx, NULL);
  p->refs = 1;
  p->fork_gen = salvo__fork_gen();
  return p;
}

static void destroy(salvo__pool *p) {
  for (int c = 0; c < NCLASSES; c++)
    for (size_t i = 0; i < p->n[c]; i++)
      free(p->bufs[c][i]);
  pthread_mutex_destroy(&p->mtx);
  free(p);
}

void salvo__pool_release(salvo__pool *p) {
  if (!p || p->fork_gen != salvo__fork_gen())
    return;
  pthread_mutex_lock(&p->mtx);
  int last = --p->refs == 0;
  pthread_mutex_unlock(&p->mtx);
  if (last)
    destroy(p);
}

/* A power of two and room for the NUL a body ends with, so that a 16 KiB
 * body takes a 16 KiB buffer, not 32. */
static size_t class_cap(int c) { return ((size_t)1 << (MIN_SHIFT + c)) + 64; }

/* The smallest class whose buffers hold `size` bytes (NCLASSES: none). */
static int class_for(size_t size) {
  int c = 0;
  while (c < NCLASSES && class_cap(c) < size)
    c++;
  return c;
}

char *salvo__pool_take(salvo__pool *p, size_t want, size_t *cap) {
  int c = class_for(want);
  size_t size = c < NCLASSES ? class_cap(c) : want;
  char *buf = NULL;
  pthread_mutex_lock(&p->mtx);
  if (c < NCLASSES && p->n[c]) {
    buf = p->bufs[c][--p->n[c]];
    p->bytes -= size;
  }
  p->refs++;
  pthread_mutex_unlock(&p->mtx);
  if (!buf && !(buf = malloc(size))) {
    salvo__pool_release(p);
    return NULL;
  }
  *cap = size;
  return buf;
}

void salvo__pool_give(salvo__pool *p, char *buf, size_t cap) {
  if (p->fork_gen != salvo__fork_gen()) {
    free(buf); /* its mutex may have been held by a thread gone with fork */
    return;
  }
  /* Only exact class sizes come back, so a class holds one size. */
  int c = class_for(cap);
  int keep = c < NCLASSES && class_cap(c) == cap;
  pthread_mutex_lock(&p->mtx);
  if (keep && p->n[c] < PER_CLASS && p->bytes + cap <= SALVO__POOL_BYTES) {
    p->bufs[c][p->n[c]++] = buf;
    p->bytes += cap;
    buf = NULL;
  }
  int last = --p->refs == 0;
  pthread_mutex_unlock(&p->mtx);
  free(buf);
  if (last)
    destroy(p);
}
