/*
 * The engine: one I/O thread per client.
 *
 * The thread waits on an epoll descriptor that holds the transport's
 * sockets and an eventfd through which other threads hand it work. Each
 * loop iteration:
 *   1. waits for socket events, a wake-up or the transport's timer;
 *   2. takes every queued command at once (submissions, batch
 *      cancellations, stop) under one lock;
 *   3. lets the transport act on its sockets and timer, and collects the
 *      transfers that ended;
 *   4. starts whatever the scheduler allows;
 *   5. delivers the responses finished in this iteration to their batches,
 *      one lock and at most one wake-up per batch.
 * Step 5 is what keeps the hand-over cheap: a collector blocked in
 * salvo_batch_next wakes once for many responses, not once per response.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "internal.h"
#include "transport.h"

#define MAX_EVENTS 512
#define WAKE_TAG UINT64_MAX
#define TIMER_TAG (UINT64_MAX - 1)

/* ---- commands from other threads ---------------------------------------- */

/* Called with c->mtx held: returns whether the caller must write to the
 * eventfd, so that a burst of submissions costs one write. */
static int need_wake(salvo_client *c) {
  if (c->wake_pending)
    return 0;
  c->wake_pending = 1;
  return 1;
}

static void wake(salvo_client *c) { salvo__fd_signal(c->wakefd); }

void salvo__engine_submit(salvo_client *c, salvo__req *r) {
  r->next = NULL;
  pthread_mutex_lock(&c->mtx);
  if (c->sub_tail)
    c->sub_tail->next = r;
  else
    c->sub_head = r;
  c->sub_tail = r;
  int w = need_wake(c);
  pthread_mutex_unlock(&c->mtx);
  if (w)
    wake(c);
}

void salvo__engine_clear_cookies(salvo_client *c) {
  pthread_mutex_lock(&c->mtx);
  uint64_t mine = ++c->cookie_clear_asked;
  int w = need_wake(c);
  pthread_mutex_unlock(&c->mtx);
  if (w)
    wake(c);
  pthread_mutex_lock(&c->mtx);
  while (c->cookie_clear_done < mine)
    pthread_cond_wait(&c->cmd_cond, &c->mtx);
  pthread_mutex_unlock(&c->mtx);
}

void salvo__engine_cancel_batch(salvo_client *c, salvo_batch *b) {
  pthread_mutex_lock(&c->mtx);
  if (b->cprev)
    b->cprev->cnext = b->cnext;
  else
    c->batches = b->cnext;
  if (b->cnext)
    b->cnext->cprev = b->cprev;
  b->cancel_next = c->cancel_head;
  c->cancel_head = b;
  int w = need_wake(c);
  pthread_mutex_unlock(&c->mtx);
  if (w)
    wake(c);
  pthread_mutex_lock(&b->mtx);
  while (!b->cancel_done)
    pthread_cond_wait(&b->cond, &b->mtx);
  pthread_mutex_unlock(&b->mtx);
}

/* ---- request bookkeeping (I/O thread) --------------------------------- */

static void live_link(salvo_batch *b, salvo__req *r) {
  r->bprev = NULL;
  r->bnext = b->live;
  if (b->live)
    b->live->bprev = r;
  b->live = r;
}

static void live_unlink(salvo_batch *b, salvo__req *r) {
  if (r->bprev)
    r->bprev->bnext = r->bnext;
  else
    b->live = r->bnext;
  if (r->bnext)
    r->bnext->bprev = r->bprev;
}

/* Settles a request: its response goes to the batch's outbox, the request
 * itself is freed. */
static void finish(salvo_client *c, salvo__req *r, int err, char *msg) {
  salvo_batch *b = r->batch;
  salvo_response *resp = r->resp;
  r->resp = NULL;
  if (err)
    salvo__resp_set_error(resp, err, msg);
  else
    free(msg);
  resp->attempts = r->attempts;
  if (r->first_start)
    resp->elapsed = (double)(salvo__now_ns() - r->first_start) / 1e9;
  live_unlink(b, r);
  salvo__req_free(r);
  resp->next = NULL;
  if (b->out_tail)
    b->out_tail->next = resp;
  else
    b->out_head = resp;
  b->out_tail = resp;
  if (!b->dirty) {
    b->dirty = 1;
    b->dirty_next = c->dirty;
    c->dirty = b;
  }
}

static char *deadline_message(const salvo__req *r) {
  return salvo__fmt("deadline of %.3f s reached after %d attempt%s",
                    (double)r->deadline_ms / 1000, r->attempts,
                    r->attempts == 1 ? "" : "s");
}

void salvo__engine_done(salvo_client *c, salvo__req *r, int err, char *msg) {
  int64_t now = salvo__now_ns(), delay;
  /* An origin's first attempt ended before its handshake told what it
   * speaks (it failed to connect): stop sending one request at a time. */
  if (r->host->proto == SALVO__PROTO_UNKNOWN)
    salvo__sched_set_proto(&c->sched, r->host, SALVO__PROTO_GUESS_MUX);
  salvo__sched_release(&c->sched, r);
  int out_of_time = r->deadline_at && now >= r->deadline_at - 1000000;
  if (err == SALVO_ETIMEDOUT && out_of_time) {
    free(msg);
    msg = deadline_message(r);
  } else if (!out_of_time &&
             salvo__retry_decide(&c->cfg, r, err, &delay, &c->rng)) {
    int in_time = !r->deadline_at || now + delay < r->deadline_at;
    /* The slot is given back while waiting; the attempt's response stays
     * until the next one starts, in case the deadline ends it. If it
     * cannot even be parked (out of memory), it ends with this attempt's
     * outcome. */
    if (in_time && !salvo__sched_backoff(&c->sched, r, now + delay)) {
      free(msg);
      return;
    }
    if (err && !in_time) {
      char *why = salvo__fmt("%s; not retried: the deadline of %.3f s "
                             "comes first",
                             msg ? msg : salvo_strerror(err),
                             (double)r->deadline_ms / 1000);
      free(msg);
      msg = why;
    }
  }
  finish(c, r, err, msg);
}

/* Starts what the scheduler allows; the first attempt fixes the deadline,
 * which then bounds every attempt's timeout. */
static void pump(salvo_client *c) {
  salvo__req *r;
  int64_t now = salvo__now_ns();
  while ((r = salvo__sched_next(&c->sched, now))) {
    r->state = SALVO__REQ_RUNNING;
    if (!r->attempts) {
      r->first_start = now;
      if (r->deadline_ms)
        r->deadline_at = now + r->deadline_ms * 1000000;
    }
    r->attempt_timeout_ms = r->timeout_ms;
    if (r->deadline_at) {
      int64_t left = (r->deadline_at - now + 999999) / 1000000;
      if (left <= 0) {
        salvo__sched_release(&c->sched, r);
        finish(c, r, SALVO_ETIMEDOUT, deadline_message(r));
        continue;
      }
      if (!r->attempt_timeout_ms || left < r->attempt_timeout_ms)
        r->attempt_timeout_ms = left;
    }
    salvo__req_begin_attempt(r);
    char *msg;
    int err = salvo__transport_start(c->tp, r, &msg);
    if (err) {
      salvo__sched_release(&c->sched, r);
      finish(c, r, err, msg);
    }
  }
}

/* Queued requests whose wait ran out. */
static void expire(salvo_client *c) {
  salvo__req *r = salvo__sched_expire(&c->sched, salvo__now_ns());
  for (salvo__req *next; r; r = next) {
    next = r->next;
    char *msg = r->attempts
                    ? deadline_message(r)
                    : salvo__fmt("waited %.3f s in the queue for a slot "
                                 "(queue_timeout)",
                                 (double)r->queue_timeout_ms / 1000);
    finish(c, r, SALVO_ETIMEDOUT, msg);
  }
}

static void flush(salvo_client *c) {
  for (salvo_batch *b = c->dirty, *next; b; b = next) {
    next = b->dirty_next;
    b->dirty = 0;
    salvo__batch_deliver(b, b->out_head, b->out_tail);
    b->out_head = b->out_tail = NULL;
  }
  c->dirty = NULL;
}

static void cancel_batch(salvo_client *c, salvo_batch *b) {
  for (salvo__req *r = b->live, *next; r; r = next) {
    next = r->bnext;
    if (r->state == SALVO__REQ_RUNNING) {
      salvo__transport_abort(c->tp, r);
      salvo__sched_release(&c->sched, r);
    } else {
      salvo__sched_forget(&c->sched, r);
    }
    salvo__req_free(r);
  }
  b->live = NULL;
  if (b->dirty) {
    salvo_batch **pp = &c->dirty;
    while (*pp != b)
      pp = &(*pp)->dirty_next;
    *pp = b->dirty_next;
    b->dirty = 0;
  }
  for (salvo_response *r = b->out_head, *next; r; r = next) {
    next = r->next;
    salvo_response_free(r);
  }
  b->out_head = b->out_tail = NULL;
  salvo__batch_cancel_done(b);
}

/* Takes every pending command; returns non-zero when asked to stop. */
static int drain_commands(salvo_client *c) {
  salvo__fd_drain(c->wakefd);
  pthread_mutex_lock(&c->mtx);
  salvo__req *subs = c->sub_head;
  salvo_batch *cancels = c->cancel_head;
  int stop = c->stop;
  uint64_t clear = c->cookie_clear_asked;
  c->sub_head = c->sub_tail = NULL;
  c->cancel_head = NULL;
  c->wake_pending = 0;
  pthread_mutex_unlock(&c->mtx);
  if (clear != c->cookie_clear_done) {
    salvo__transport_clear_cookies(c->tp);
    pthread_mutex_lock(&c->mtx);
    c->cookie_clear_done = clear;
    pthread_cond_broadcast(&c->cmd_cond);
    pthread_mutex_unlock(&c->mtx);
  }
  /* Submissions first: a batch's cancellation was queued after all of its
   * submissions, and must see them. */
  for (salvo__req *r = subs, *next; r; r = next) {
    next = r->next;
    r->seq = ++c->next_seq;
    r->state = SALVO__REQ_QUEUED;
    live_link(r->batch, r);
    if (salvo__sched_add(&c->sched, r, salvo__now_ns()))
      finish(c, r, SALVO_ENOMEM, NULL);
  }
  for (salvo_batch *b = cancels, *next; b; b = next) {
    next = b->cancel_next;
    cancel_batch(c, b);
  }
  return stop;
}

/* ---- the loop ------------------------------------------------------------ */

/* Without epoll_pwait2 (Linux before 5.11, seccomp filters, valgrind), a
 * timerfd armed at the deadline keeps timers precise below a millisecond,
 * which the rate limiter needs at thousands of requests a second. */
static int wait_with_timerfd(salvo_client *c, struct epoll_event *evs,
                             int64_t dl) {
  if (c->timerfd < 0) {
    c->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = TIMER_TAG};
    if (c->timerfd < 0 || epoll_ctl(c->epfd, EPOLL_CTL_ADD, c->timerfd, &ev)) {
      /* Millisecond steps, rounded up, are the last resort. */
      int64_t left = dl < 0 ? -1 : dl - salvo__now_ns();
      int ms = left < 0 ? (dl < 0 ? -1 : 0) : (int)((left + 999999) / 1000000);
      return epoll_wait(c->epfd, evs, MAX_EVENTS, ms);
    }
  }
  if (dl != c->timer_armed) {
    struct itimerspec its = {{0, 0}, {0, 0}};
    if (dl >= 0) {
      int64_t at = dl > 0 ? dl : 1; /* 0 would disarm */
      its.it_value.tv_sec = (time_t)(at / 1000000000);
      its.it_value.tv_nsec = (long)(at % 1000000000);
    }
    timerfd_settime(c->timerfd, TFD_TIMER_ABSTIME, &its, NULL);
    c->timer_armed = dl;
  }
  return epoll_wait(c->epfd, evs, MAX_EVENTS, -1);
}

static int wait_events(salvo_client *c, struct epoll_event *evs) {
  int64_t dl = salvo__transport_deadline(c->tp);
  int64_t sd = salvo__sched_deadline(&c->sched);
  if (sd >= 0 && (dl < 0 || sd < dl))
    dl = sd;
  if (!c->no_pwait2) {
    int64_t left = dl < 0 ? 0 : dl - salvo__now_ns();
    if (left < 0)
      left = 0;
    struct timespec ts = {(time_t)(left / 1000000000),
                          (long)(left % 1000000000)};
    int n = epoll_pwait2(c->epfd, evs, MAX_EVENTS, dl < 0 ? NULL : &ts, NULL);
    if (n >= 0 || (errno != ENOSYS && errno != EPERM))
      return n;
    c->no_pwait2 = 1;
  }
  return wait_with_timerfd(c, evs, dl);
}

static void *io_main(void *arg) {
  salvo_client *c = arg;
  struct epoll_event evs[MAX_EVENTS];
  /* Linux lets a thread's timers fire up to 50 us late by default. With a
   * rate limit of burst 1 every late start is lost for good (the next must
   * still wait a full interval), so this thread asks for exact wake-ups. */
  prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
  for (;;) {
    int n = wait_events(c, evs);
    int cmds = 0;
    for (int i = 0; i < n; i++) {
      if (evs[i].data.u64 == WAKE_TAG) {
        cmds = 1;
      } else if (evs[i].data.u64 == TIMER_TAG) {
        uint64_t expirations;
        if (read(c->timerfd, &expirations, sizeof(expirations)) > 0)
          c->timer_armed = -1;
      } else {
        salvo__transport_on_socket(c->tp, evs[i].data.u64, evs[i].events);
      }
    }
    if (cmds && drain_commands(c))
      break;
    int64_t dl = salvo__transport_deadline(c->tp);
    if (dl >= 0 && dl <= salvo__now_ns())
      salvo__transport_on_timer(c->tp);
    salvo__transport_reap(c->tp);
    expire(c);
    pump(c);
    flush(c);
  }
  return NULL;
}

int salvo__engine_start(salvo_client *c) {
  c->timerfd = -1;
  c->timer_armed = -1;
  c->epfd = epoll_create1(EPOLL_CLOEXEC);
  c->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (c->epfd < 0 || c->wakefd < 0)
    goto fail;
  struct epoll_event ev = {.events = EPOLLIN, .data.u64 = WAKE_TAG};
  if (epoll_ctl(c->epfd, EPOLL_CTL_ADD, c->wakefd, &ev))
    goto fail;
  c->rng = (uint64_t)salvo__now_ns() ^ (uint64_t)(uintptr_t)c;
  c->rng = c->rng ? c->rng : 1;
  int err = salvo__sched_init(&c->sched, &c->cfg);
  if (err)
    goto fail_err;
  err = salvo__transport_new(&c->tp, c);
  if (err)
    goto fail_err;
  /* The I/O thread takes no signals: they belong to the application. */
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  int rc = pthread_create(&c->thread, NULL, io_main, c);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (rc == 0)
    return 0;
fail:
  err = SALVO_EINTERNAL;
fail_err:
  salvo__transport_free(c->tp);
  c->tp = NULL;
  salvo__sched_destroy(&c->sched);
  if (c->epfd >= 0)
    close(c->epfd);
  if (c->wakefd >= 0)
    close(c->wakefd);
  return err;
}

void salvo__engine_stop(salvo_client *c) {
  pthread_mutex_lock(&c->mtx);
  c->stop = 1;
  int w = need_wake(c);
  pthread_mutex_unlock(&c->mtx);
  if (w)
    wake(c);
  pthread_join(c->thread, NULL);
  salvo__transport_free(c->tp);
  salvo__sched_destroy(&c->sched);
  close(c->epfd);
  close(c->wakefd);
  if (c->timerfd >= 0)
    close(c->timerfd);
}
