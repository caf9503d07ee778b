/*
 * The engine's I/O thread (a client has io_threads of them): its loop,
 * the commands other threads queue for it, starting and stopping it.
 *
 * The thread waits on an epoll descriptor that holds both transports'
 * sockets (native and libcurl; each attempt goes to the one
 * salvo__transport_choose picks) and an eventfd through which other
 * threads hand it work. Each loop iteration:
 *   1. waits for socket events, a wake-up or the earliest timer;
 *   2. takes every queued command at once: batch cancellations and stop
 *      under one lock, then the submissions, pushed without one;
 *   3. lets each transport act on its sockets and timer, and collects the
 *      transfers that ended;
 *   4. starts whatever the scheduler allows;
 *   5. delivers the responses finished in this iteration to their batches,
 *      one lock and at most one wake-up per batch.
 * Step 5 is what keeps the hand-over cheap: a collector blocked in
 * salvo_parallel_next wakes once for many responses, not once per response.
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

#include "../redirect.h"
#include "../stream.h"
#include "../wake.h"
#include "internal.h"

/* Events taken per wait. Settled attempts are reaped and queued requests
 * started once per wait, so a connection freed early in a long batch sits
 * idle until its end; past 1 ms idle the pool peeks at it before reuse
 * (pool.c). At 1,024 connections, 512 events a wait left connections idle
 * for milliseconds: 0.78 peeks a request, 1 us of its 16. At 64 there are
 * none (0.04 more waits a request), and new requests start sooner. */
#define MAX_EVENTS 64
#define WAKE_TAG UINT64_MAX
#define TIMER_TAG (UINT64_MAX - 1)
/* Transport i's tags carry i + 1 in their top bits (transport.h). */
#define TRANSPORT_TAG(i) ((uint64_t)((i) + 1) << SALVO__TAG_SHIFT)

void salvo__sink_init(salvo__sink *s,
                      void (*deliver)(salvo__sink *, salvo_response *,
                                      salvo_response *),
                      void (*cancelled)(salvo__sink *), void *owner) {
  *s =
      (salvo__sink){.deliver = deliver, .cancelled = cancelled, .owner = owner};
  salvo__list_init(&s->live);
}

/* ---- commands from other threads ---------------------------------------- */

/* Called with e->mtx held: returns whether the caller must write to the
 * eventfd, so that a burst of submissions costs one write. */
static int need_wake(salvo__engine *e) {
  if (e->wake_pending)
    return 0;
  e->wake_pending = 1;
  return 1;
}

static void wake(salvo__engine *e) { salvo__wake_signal(e->wakefd); }

/* A compare-and-swap where a lock pair cost 57 instructions a request.
 * Only the I/O thread takes from the list, and only all of it, so a
 * request is never popped alone and no ABA can arise. */
void salvo__engine_submit(salvo__engine *e, salvo__sink *s, salvo__req *r) {
  r->sink = s;
  salvo__req *head = atomic_load_explicit(&e->subs, memory_order_relaxed);
  do
    r->lnext = head;
  while (!atomic_compare_exchange_weak_explicit(
      &e->subs, &head, r, memory_order_release, memory_order_relaxed));
  if (!head) /* the list was taken since the last wake-up */
    wake(e);
}

/* The submissions, oldest first. */
static salvo__req *take_submissions(salvo__engine *e) {
  salvo__req *l =
                 atomic_exchange_explicit(&e->subs, NULL, memory_order_acquire),
             *out = NULL;
  while (l) {
    salvo__req *next = l->lnext;
    l->lnext = out;
    out = l;
    l = next;
  }
  return out;
}

int salvo__engine_jar(salvo__engine *e, int op, const char *line,
                      salvo__buf *out) {
  struct salvo__jar_cmd c = {.op = op, .line = line, .out = out};
  pthread_mutex_lock(&e->mtx);
  c.next = e->jar_cmds;
  e->jar_cmds = &c;
  int w = need_wake(e);
  pthread_mutex_unlock(&e->mtx);
  if (w)
    wake(e);
  pthread_mutex_lock(&e->mtx);
  while (!c.done)
    pthread_cond_wait(&e->cmd_cond, &e->mtx);
  pthread_mutex_unlock(&e->mtx);
  return c.rc;
}

/* On the I/O thread, between requests' turns: no request reads the jar
 * while it changes. */
static void run_jar_commands(salvo__engine *e, struct salvo__jar_cmd *l) {
  if (!l)
    return;
  for (struct salvo__jar_cmd *c = l; c; c = c->next) {
    c->rc = 0;
    if (!e->jar)
      c->rc = c->op == SALVO__JAR_ADD ? SALVO_EINVAL : 0;
    else if (c->op == SALVO__JAR_CLEAR)
      salvo__jar_clear(e->jar);
    else if (c->op == SALVO__JAR_LINES)
      c->rc = salvo__jar_lines(e->jar, c->out);
    else
      c->rc = salvo__jar_add_line(e->jar, c->line);
  }
  /* A caller's command is on its stack: it may return as soon as it sees
   * `done`, which it reads under the lock held here, so next is read
   * before that. */
  pthread_mutex_lock(&e->mtx);
  for (; l; l = l->next)
    l->done = 1;
  pthread_cond_broadcast(&e->cmd_cond);
  pthread_mutex_unlock(&e->mtx);
}

static void one_command(salvo__engine *e, salvo__sink *s, uint64_t id, int op) {
  struct salvo__one_cmd *c = malloc(sizeof(*c));
  if (!c)
    return; /* out of memory: the request runs on */
  c->sink = s;
  c->id = id;
  c->op = op;
  pthread_mutex_lock(&e->mtx);
  c->next = e->cancel_ones;
  e->cancel_ones = c;
  int w = need_wake(e);
  pthread_mutex_unlock(&e->mtx);
  if (w)
    wake(e);
}

void salvo__engine_cancel_one(salvo__engine *e, salvo__sink *s, uint64_t id) {
  one_command(e, s, id, SALVO__CMD_CANCEL);
}

/* A reader's request (resume, close), on the reader's thread. */
void salvo__engine_stream_notify(void *ctx, int what) {
  struct salvo__stream_note *n = ctx;
  one_command(n->e, n->sink, n->id, what);
}

void salvo__engine_cancel(salvo__engine *e, salvo__sink *s) {
  pthread_mutex_lock(&e->mtx);
  s->cancel_next = e->cancel_head;
  e->cancel_head = s;
  int w = need_wake(e);
  pthread_mutex_unlock(&e->mtx);
  if (w)
    wake(e);
  /* The sink's owner waits for its cancelled callback. */
}

/* Takes every pending command; returns non-zero when asked to stop. */
static int drain_commands(salvo__engine *e) {
  salvo__wake_drain(e->wakefd);
  pthread_mutex_lock(&e->mtx);
  salvo__sink *cancels = e->cancel_head;
  struct salvo__one_cmd *ones = e->cancel_ones;
  int stop = e->stop;
  struct salvo__jar_cmd *jar = e->jar_cmds;
  e->jar_cmds = NULL;
  e->cancel_head = NULL;
  e->cancel_ones = NULL;
  e->wake_pending = 0;
  pthread_mutex_unlock(&e->mtx);
  /* After the commands: a command queued after a submission (a sink's
   * cancellation after its requests) then always finds it taken. */
  salvo__req *subs = take_submissions(e);
  run_jar_commands(e, jar);
  /* Submissions first: a sink's cancellation was queued after all of its
   * submissions, and must see them. */
  int64_t now = salvo__engine_now(e);
  for (salvo__req *r = subs, *next; r; r = next) {
    next = r->lnext;
    salvo__life_admit(e, r, now);
  }
  /* Single commands before whole sinks: a sink cancelled after one of its
   * requests was must still see that request gone. */
  for (struct salvo__one_cmd *c = ones, *next; c; c = next) {
    next = c->next;
    salvo__life_command(e, c);
    free(c);
  }
  for (salvo__sink *s = cancels, *next; s; s = next) {
    next = s->cancel_next;
    salvo__life_cancel_sink(e, s);
  }
  return stop;
}
/* ---- the loop ------------------------------------------------------------ */

/* Without epoll_pwait2 (Linux before 5.11, seccomp filters, valgrind), a
 * timerfd armed at the deadline keeps timers precise below a millisecond,
 * which the rate limiter needs at thousands of requests a second. */
static int wait_with_timerfd(salvo__engine *e, struct epoll_event *evs,
                             int64_t dl) {
  if (e->timerfd < 0) {
    e->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = TIMER_TAG};
    if (e->timerfd < 0 || epoll_ctl(e->epfd, EPOLL_CTL_ADD, e->timerfd, &ev)) {
      /* Millisecond steps, rounded up, are the last resort. */
      int64_t left = dl < 0 ? -1 : dl - salvo__engine_now(e);
      int ms = left < 0 ? (dl < 0 ? -1 : 0) : (int)((left + 999999) / 1000000);
      return epoll_wait(e->epfd, evs, MAX_EVENTS, ms);
    }
  }
  if (dl != e->timer_armed) {
    struct itimerspec its = {{0, 0}, {0, 0}};
    if (dl >= 0) {
      int64_t at = dl > 0 ? dl : 1; /* 0 would disarm */
      its.it_value.tv_sec = (time_t)(at / 1000000000);
      its.it_value.tv_nsec = (long)(at % 1000000000);
    }
    timerfd_settime(e->timerfd, TFD_TIMER_ABSTIME, &its, NULL);
    e->timer_armed = dl;
  }
  return epoll_wait(e->epfd, evs, MAX_EVENTS, -1);
}

/* The earliest time a transport wants its timer, or -1. */
static int64_t transports_deadline(salvo__engine *e) {
  int64_t dl = -1;
  for (int i = 0; i < SALVO__NTRANSPORTS; i++) {
    int64_t d = salvo__transports[i]->deadline(e->tp[i]);
    if (d >= 0 && (dl < 0 || d < dl))
      dl = d;
  }
  return dl;
}

static int wait_events(salvo__engine *e, struct epoll_event *evs) {
  int64_t dl = transports_deadline(e);
  int64_t sd = salvo__sched_deadline(e->sched);
  if (sd >= 0 && (dl < 0 || sd < dl))
    dl = sd;
  if (!e->no_pwait2) {
    int64_t left = dl < 0 ? 0 : dl - salvo__engine_now(e);
    if (left < 0)
      left = 0;
    struct timespec ts = {(time_t)(left / 1000000000),
                          (long)(left % 1000000000)};
    int n = epoll_pwait2(e->epfd, evs, MAX_EVENTS, dl < 0 ? NULL : &ts, NULL);
    if (n >= 0 || (errno != ENOSYS && errno != EPERM))
      return n;
    e->no_pwait2 = 1;
  }
  return wait_with_timerfd(e, evs, dl);
}

static void *io_main(void *arg) {
  salvo__engine *e = arg;
  struct epoll_event evs[MAX_EVENTS];
  /* Linux lets a thread's timers fire up to 50 us late by default. With a
   * rate limit of burst 1 every late start is lost for good (the next must
   * still wait a full interval), so this thread asks for exact wake-ups. */
  prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
  for (;;) {
    int n = wait_events(e, evs);
    int cmds = 0;
    for (int i = 0; i < n; i++) {
      if (evs[i].data.u64 == WAKE_TAG) {
        cmds = 1;
      } else if (evs[i].data.u64 == TIMER_TAG) {
        uint64_t expirations;
        if (read(e->timerfd, &expirations, sizeof(expirations)) > 0)
          e->timer_armed = -1;
      } else {
        uint64_t tp = (evs[i].data.u64 >> SALVO__TAG_SHIFT) - 1;
        if (tp < SALVO__NTRANSPORTS)
          salvo__transports[tp]->on_socket(e->tp[tp], evs[i].data.u64,
                                           evs[i].events);
      }
    }
    if (cmds && drain_commands(e))
      break;
    int64_t now = salvo__engine_now(e);
    for (int i = 0; i < SALVO__NTRANSPORTS; i++) {
      const salvo__transport_ops *ops = salvo__transports[i];
      int64_t dl = ops->deadline(e->tp[i]);
      if (dl >= 0 && dl <= now)
        ops->on_timer(e->tp[i]);
      ops->reap(e->tp[i]);
    }
    salvo__life_expire(e);
    salvo__life_pump(e);
    salvo__life_flush(e);
  }
  /* The transports end on this thread, whose signals are blocked: an
   * HTTP/2 connection's last GOAWAY may meet a socket the server reset,
   * and SSL_write's has no MSG_NOSIGNAL, so SIGPIPE could otherwise reach
   * the caller's thread. */
  for (int i = 0; i < SALVO__NTRANSPORTS; i++) {
    salvo__transports[i]->destroy(e->tp[i]);
    e->tp[i] = NULL;
  }
  return NULL;
}

static void engine_close(salvo__engine *e) {
  for (struct salvo__one_cmd *c = e->cancel_ones, *next; c; c = next) {
    next = c->next;
    free(c);
  }
  free(e->index);
  for (int i = 0; i < SALVO__NTRANSPORTS; i++)
    if (e->tp[i])
      salvo__transports[i]->destroy(e->tp[i]);
  salvo__jar_free(e->jar);
  salvo__auth_cache_free(e->auth);
  salvo__sched_free(e->sched);
  salvo__recv_cache_drain(&e->recvs);
  salvo__homes_close(e->homes);
  if (e->epfd >= 0)
    close(e->epfd);
  if (e->wakefd >= 0)
    close(e->wakefd);
  if (e->timerfd >= 0)
    close(e->timerfd);
  pthread_cond_destroy(&e->cmd_cond);
  pthread_mutex_destroy(&e->mtx);
  free(e);
}

salvo__engine *salvo__engine_new(const salvo__cfg *cfg, int *err) {
  salvo__engine *e = calloc(1, sizeof(*e));
  if (!e) {
    *err = SALVO_ENOMEM;
    return NULL;
  }
  e->cfg = cfg;
  e->clock = &salvo__system_clock;
  e->timerfd = -1;
  e->timer_armed = -1;
  pthread_mutex_init(&e->mtx, NULL);
  pthread_cond_init(&e->cmd_cond, NULL);
  e->epfd = epoll_create1(EPOLL_CLOEXEC);
  e->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  struct epoll_event ev = {.events = EPOLLIN, .data.u64 = WAKE_TAG};
  *err = SALVO_EINTERNAL;
  if (e->epfd < 0 || e->wakefd < 0 ||
      epoll_ctl(e->epfd, EPOLL_CTL_ADD, e->wakefd, &ev))
    goto fail;
  e->rng = (uint64_t)salvo__engine_now(e) ^ (uint64_t)(uintptr_t)e;
  e->rng = e->rng ? e->rng : 1;
  e->sched = salvo__sched_new(cfg, e->clock);
  e->homes = salvo__homes_new();
  if (!e->sched || !e->homes) {
    *err = SALVO_ENOMEM;
    goto fail;
  }
  if (cfg->cookies && !(e->jar = salvo__jar_new(e->clock))) {
    *err = SALVO_ENOMEM;
    goto fail;
  }
  if (cfg->auth_scheme == SALVO_AUTH_DIGEST &&
      !(e->auth = salvo__auth_cache_new())) {
    *err = SALVO_ENOMEM;
    goto fail;
  }
  if (e->jar && cfg->cookie_file &&
      (*err = salvo__jar_load(e->jar, cfg->cookie_file)))
    goto fail;
  salvo__transport_events events = {
      .ctx = e,
      .clock = e->clock,
      .jar = e->jar,
      .auth = e->auth,
      .done = salvo__life_attempt_done,
      .hold = salvo__life_hold,
      .headers = salvo__life_headers,
  };
  for (int i = 0; i < SALVO__NTRANSPORTS; i++) {
    const salvo__transport_ops *ops = salvo__transports[i];
    if ((*err = ops->global_init()) ||
        (*err =
             ops->create(&e->tp[i], cfg, e->epfd, TRANSPORT_TAG(i), &events)))
      goto fail;
  }
  /* The I/O thread takes no signals: they belong to the application. */
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  int rc = pthread_create(&e->thread, NULL, io_main, e);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (rc == 0)
    return e;
  *err = SALVO_EINTERNAL;
fail:
  engine_close(e);
  return NULL;
}

void salvo__engine_free(salvo__engine *e) {
  if (!e)
    return;
  pthread_mutex_lock(&e->mtx);
  e->stop = 1;
  int w = need_wake(e);
  pthread_mutex_unlock(&e->mtx);
  if (w)
    wake(e);
  pthread_join(e->thread, NULL);
  if (e->jar && e->cfg->cookie_file)
    salvo__jar_save(e->jar, e->cfg->cookie_file);
  engine_close(e);
}
