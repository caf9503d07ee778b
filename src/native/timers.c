/* Attempt and connect limits in one list ordered by expiry. They are
 * nearly always added in order (the same timeout from a later start), so
 * insertion walks back from the tail and costs O(1). */
#include "native.h"

void salvo__nat_timer_remove(salvo__nxfer *x) {
  if (!x->tkey)
    return;
  salvo__list_remove(&x->in_timers);
  x->tkey = 0;
}

void salvo__nat_timer_update(salvo__transport *t, salvo__nxfer *x) {
  /* An ended attempt waits for nothing: its connect limit too, or it
   * would stay in the list past its record's reuse. */
  if (x->finished) {
    salvo__nat_timer_remove(x);
    return;
  }
  int64_t key = x->handed_over ? 0 : x->deadline;
  if (x->cdeadline && (!key || x->cdeadline < key))
    key = x->cdeadline;
  int64_t dial = salvo__nat_dial_wake(x->c);
  if (dial && (!key || dial < key))
    key = dial;
  if (key == x->tkey)
    return;
  salvo__nat_timer_remove(x);
  if (!key)
    return;
  salvo__list *at = t->timers.prev;
  while (at != &t->timers &&
         salvo__container_of(at, salvo__nxfer, in_timers)->tkey > key)
    at = at->prev;
  salvo__list_insert_after(at, &x->in_timers);
  x->tkey = key;
}

salvo__nxfer *salvo__nat_timer_first(const salvo__transport *t) {
  salvo__list *n = salvo__list_first(&t->timers);
  return n ? salvo__container_of(n, salvo__nxfer, in_timers) : NULL;
}
