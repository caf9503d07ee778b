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
  int64_t key = x->deadline;
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

void salvo__nat_read_timer(salvo__transport *t, salvo__nxfer *x) {
  int64_t ms = x->req->attempt_timeout_ms;
  x->tbody = salvo__nat_now(t);
  x->deadline = ms ? x->tbody + ms * 1000000 : 0;
  salvo__nat_timer_update(t, x);
}

/* The body's pieces move tbody alone (salvo__nat_body): the timer list is
 * fixed up here, once a timeout, not once a piece. */
int salvo__nat_read_timed_out(salvo__transport *t, salvo__nxfer *x,
                              int64_t now) {
  int64_t next = x->tbody + x->req->attempt_timeout_ms * 1000000;
  if (!x->paused && next <= now)
    return 1;
  x->deadline = x->paused ? 0 : next; /* resuming starts it again */
  salvo__nat_timer_remove(x);
  salvo__nat_timer_update(t, x);
  return 0;
}
