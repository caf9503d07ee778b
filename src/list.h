/*
 * An intrusive doubly linked list with a sentinel (as the kernel's
 * list.h, h2o's linklist.h): a node lives in the struct it links, a list
 * is its sentinel node, and every operation is O(1) without a branch on
 * the ends. A node not in a list has next == NULL (a zeroed struct's
 * node is one), so membership needs no flag of its own.
 */
#ifndef SALVO_LIST_H
#define SALVO_LIST_H

#include <stddef.h>

typedef struct salvo__list {
  struct salvo__list *prev, *next;
} salvo__list;

/* The struct of `type` whose `member` is at p. */
#define salvo__container_of(p, type, member)                                   \
  ((type *)(void *)((char *)(p)-offsetof(type, member)))

/* An empty list: its sentinel pointing at itself. */
static inline void salvo__list_init(salvo__list *l) { l->prev = l->next = l; }

static inline int salvo__list_empty(const salvo__list *l) {
  return l->next == l;
}

/* Whether node n is in a list. */
static inline int salvo__list_linked(const salvo__list *n) {
  return n->next != NULL;
}

/* Links n after pos (pos: the sentinel for the front). */
static inline void salvo__list_insert_after(salvo__list *pos, salvo__list *n) {
  n->prev = pos;
  n->next = pos->next;
  pos->next->prev = n;
  pos->next = n;
}

static inline void salvo__list_push_front(salvo__list *l, salvo__list *n) {
  salvo__list_insert_after(l, n);
}

static inline void salvo__list_push_back(salvo__list *l, salvo__list *n) {
  salvo__list_insert_after(l->prev, n);
}

/* Unlinks n (a node in a list). */
static inline void salvo__list_remove(salvo__list *n) {
  n->prev->next = n->next;
  n->next->prev = n->prev;
  n->prev = n->next = NULL;
}

/* The first and last nodes, or NULL when the list is empty. */
static inline salvo__list *salvo__list_first(const salvo__list *l) {
  return l->next == l ? NULL : l->next;
}
static inline salvo__list *salvo__list_last(const salvo__list *l) {
  return l->prev == l ? NULL : l->prev;
}

/* Unlinks and returns the first node, or NULL. */
static inline salvo__list *salvo__list_pop_front(salvo__list *l) {
  salvo__list *n = salvo__list_first(l);
  if (n)
    salvo__list_remove(n);
  return n;
}

/* for (n = first; n != l; n = next), with next read before the body runs,
 * so that the body may unlink n. */
#define salvo__list_each_safe(n, tmp, l)                                       \
  for ((n) = (l)->next, (tmp) = (n)->next; (n) != (l);                         \
       (n) = (tmp), (tmp) = (n)->next)

#endif /* SALVO_LIST_H */
