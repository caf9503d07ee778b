/*
 * Responses' first homes, recycled (home.h says why).
 *
 * Homes given back are pushed onto `back`, a list the I/O thread takes
 * whole with one exchange, never one node at a time, so that no node is
 * ever popped from under a pusher (no ABA). The I/O thread then takes from
 * `local`, which only it touches. At most KEEP homes wait in `back`; a
 * give beyond that frees its home, so a burst of responses held and then
 * freed leaves no more than that cached.
 */
#include <stdatomic.h>
#include <stdlib.h>

#include "home.h"

#define KEEP 512

struct node {
  struct node *next;
};

struct salvo__homes {
  _Atomic(struct node *) back; /* given back, by any thread */
  atomic_size_t nback;         /* about how many: bounds the cache */
  atomic_int refs;             /* the engine's, and one per home out */
  atomic_int open;             /* the engine still takes homes */
  struct node *local;          /* the I/O thread's */
};

salvo__homes *salvo__homes_new(void) {
  salvo__homes *h = calloc(1, sizeof(*h));
  if (!h)
    return NULL;
  atomic_init(&h->refs, 1);
  atomic_init(&h->open, 1);
  return h;
}

static void free_list(struct node *n) {
  while (n) {
    struct node *next = n->next;
    free(n);
    n = next;
  }
}

static void unref(salvo__homes *h) {
  if (atomic_fetch_sub_explicit(&h->refs, 1, memory_order_acq_rel) != 1)
    return;
  /* The last: no one pushes any more. */
  free_list(atomic_load_explicit(&h->back, memory_order_acquire));
  free(h);
}

void salvo__homes_close(salvo__homes *h) {
  if (!h)
    return;
  atomic_store_explicit(&h->open, 0, memory_order_release);
  free_list(h->local);
  h->local = NULL;
  free_list(atomic_exchange_explicit(&h->back, NULL, memory_order_acquire));
  unref(h);
}

void *salvo__homes_take(salvo__homes *h) {
  struct node *n = h->local;
  if (!n &&
      (n = atomic_exchange_explicit(&h->back, NULL, memory_order_acquire))) {
    size_t got = 0;
    for (struct node *m = n; m; m = m->next)
      got++;
    atomic_fetch_sub_explicit(&h->nback, got, memory_order_relaxed);
  }
  if (n)
    h->local = n->next;
  else if (!(n = malloc(SALVO__HOME_BYTES)))
    return NULL;
  atomic_fetch_add_explicit(&h->refs, 1, memory_order_relaxed);
  return n;
}

void salvo__homes_give(salvo__homes *h, void *home) {
  if (atomic_load_explicit(&h->open, memory_order_acquire)) {
    if (atomic_fetch_add_explicit(&h->nback, 1, memory_order_relaxed) < KEEP) {
      struct node *n = home;
      n->next = atomic_load_explicit(&h->back, memory_order_relaxed);
      while (!atomic_compare_exchange_weak_explicit(
          &h->back, &n->next, n, memory_order_release, memory_order_relaxed))
        ;
      home = NULL;
    } else {
      atomic_fetch_sub_explicit(&h->nback, 1, memory_order_relaxed);
    }
  }
  free(home);
  unref(h);
}
