/*
 * The engine: one I/O thread (a client has io_threads of them).
 *
 * The thread waits on an epoll descriptor that holds both transports'
 * sockets (native and libcurl; each attempt goes to the one
 * salvo__transport_choose picks) and an eventfd through which other
 * threads hand it work. Each loop iteration:
 *   1. waits for socket events, a wake-up or the earliest timer;
 *   2. takes every queued command at once (submissions, batch
 *      cancellations, stop) under one lock;
 *   3. lets each transport act on its sockets and timer, and collects the
 *      transfers that ended;
 *   4. starts whatever the scheduler allows;
 *   5. delivers the responses finished in this iteration to their batches,
 *      one lock and at most one wake-up per batch.
 * Step 5 is what keeps the hand-over cheap: a collector blocked in
 * salvo_batch_next wakes once for many responses, not once per response.
 */
#define _GNU_SOURCE
#include "engine.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "retry.h"
#include "scheduler.h"
#include "stream.h"
#include "transport.h"
#include "util.h"

#define MAX_EVENTS 512
#define WAKE_TAG UINT64_MAX
#define TIMER_TAG (UINT64_MAX - 1)
/* Transport i's tags carry i + 1 in their top bits (transport.h). */
#define TRANSPORT_TAG(i) ((uint64_t)((i) + 1) << SALVO__TAG_SHIFT)

struct salvo__engine {
  const salvo__cfg *cfg;
  pthread_t thread;
  int epfd;
  int wakefd;
  pthread_mutex_t mtx;
  pthread_cond_t cmd_cond;
  /* mtx */
  salvo__req *sub_head; /* submitted, not yet taken by the I/O thread */
  salvo__req *sub_tail;
  salvo__sink *cancel_head;
  struct cancel_one *cancel_ones;
  int wake_pending;
  int stop;
  uint64_t cookie_clear_asked; /* synchronous commands: asked and done */
  uint64_t cookie_clear_done;
  /* I/O thread */
  salvo__transport *tp[SALVO__NTRANSPORTS]; /* salvo__transports' */
  salvo__jar *jar;                          /* NULL without cookies */
  salvo__sched *sched;
  salvo__sink *dirty; /* sinks with responses to deliver */
  salvo__req **index; /* live requests by (sink, id), chained by inext */
  size_t index_mask;
  size_t nlive;
  uint64_t rng;        /* backoff jitter */
  int no_pwait2;       /* epoll_pwait2 is missing: use the timerfd */
  int timerfd;         /* -1 until needed */
  int64_t timer_armed; /* deadline the timerfd holds, -1 = none */
};

/* A command for one request, named by its sink and id: another thread
 * cannot hold a pointer to a request the I/O thread may free at any time.
 * op: ONE_CANCEL, or a stream's SALVO__STREAM_RESUME or _CLOSE. */
enum { ONE_CANCEL = 0 };

struct cancel_one {
  struct cancel_one *next;
  salvo__sink *sink;
  uint64_t id;
  int op;
};

/* What a stream's notify needs to reach its request. */
struct stream_note {
  salvo__engine *e;
  salvo__sink *sink;
  uint64_t id;
};

/* ---- commands from other threads ---------------------------------------- */

/* Called with e->mtx held: returns whether the caller must write to the
 * eventfd, so that a burst of submissions costs one write. */
static int need_wake(salvo__engine *e) {
  if (e->wake_pending)
    return 0;
  e->wake_pending = 1;
  return 1;
}

static void wake(salvo__engine *e) { salvo__fd_signal(e->wakefd); }

void salvo__engine_submit(salvo__engine *e, salvo__req *r) {
  r->lnext = NULL;
  pthread_mutex_lock(&e->mtx);
  if (e->sub_tail)
    e->sub_tail->lnext = r;
  else
    e->sub_head = r;
  e->sub_tail = r;
  int w = need_wake(e);
  pthread_mutex_unlock(&e->mtx);
  if (w)
    wake(e);
}

void salvo__engine_clear_cookies(salvo__engine *e) {
  pthread_mutex_lock(&e->mtx);
  uint64_t mine = ++e->cookie_clear_asked;
  int w = need_wake(e);
  pthread_mutex_unlock(&e->mtx);
  if (w)
    wake(e);
  pthread_mutex_lock(&e->mtx);
  while (e->cookie_clear_done < mine)
    pthread_cond_wait(&e->cmd_cond, &e->mtx);
  pthread_mutex_unlock(&e->mtx);
}

static void one_command(salvo__engine *e, salvo__sink *s, uint64_t id, int op) {
  struct cancel_one *c = malloc(sizeof(*c));
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
  one_command(e, s, id, ONE_CANCEL);
}

/* A reader's request (resume, close), on the reader's thread. */
static void stream_notify(void *ctx, int what) {
  struct stream_note *n = ctx;
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

/* ---- request bookkeeping (I/O thread) --------------------------------- */

static salvo__req *req_of(salvo__sched_entry *e) {
  return e ? (salvo__req *)((char *)e - offsetof(salvo__req, sched)) : NULL;
}

static size_t index_slot(const salvo__engine *e, const salvo__sink *s,
                         uint64_t id) {
  uint64_t h = (id ^ (uint64_t)(uintptr_t)s) * 0x9E3779B97F4A7C15ull;
  return (size_t)(h >> 32) & e->index_mask;
}

/* Doubles the index when it holds more requests than slots; without
 * memory it stays as it is (chains grow longer, lookups stay correct). */
static void index_grow(salvo__engine *e) {
  size_t n = e->index ? 2 * (e->index_mask + 1) : 256;
  salvo__req **v = calloc(n, sizeof(*v));
  if (!v)
    return;
  size_t old = e->index ? e->index_mask + 1 : 0;
  salvo__req **prev = e->index;
  e->index = v;
  e->index_mask = n - 1;
  for (size_t i = 0; i < old; i++)
    for (salvo__req *r = prev[i], *next; r; r = next) {
      next = r->inext;
      size_t k = index_slot(e, r->sink, r->resp->id);
      r->inext = v[k];
      v[k] = r;
    }
  free(prev);
}

static void index_add(salvo__engine *e, salvo__req *r) {
  if (++e->nlive > e->index_mask)
    index_grow(e);
  r->inext = NULL;
  if (!e->index)
    return; /* no memory for an index: cancel_one finds nothing */
  size_t k = index_slot(e, r->sink, r->resp->id);
  r->inext = e->index[k];
  e->index[k] = r;
}

static void index_remove(salvo__engine *e, salvo__req *r) {
  e->nlive--;
  if (!e->index)
    return;
  salvo__req **pp = &e->index[index_slot(e, r->sink, r->resp->id)];
  while (*pp && *pp != r)
    pp = &(*pp)->inext;
  if (*pp)
    *pp = r->inext;
}

static salvo__req *index_find(salvo__engine *e, salvo__sink *s, uint64_t id) {
  if (!e->index)
    return NULL;
  salvo__req *r = e->index[index_slot(e, s, id)];
  while (r && (r->sink != s || r->resp->id != id))
    r = r->inext;
  return r;
}

static void live_link(salvo__sink *s, salvo__req *r) {
  r->lprev = NULL;
  r->lnext = s->live;
  if (s->live)
    s->live->lprev = r;
  s->live = r;
}

static void live_unlink(salvo__sink *s, salvo__req *r) {
  if (r->lprev)
    r->lprev->lnext = r->lnext;
  else
    s->live = r->lnext;
  if (r->lnext)
    r->lnext->lprev = r->lprev;
}

/* Settles a request: its response goes to the sink's outbox, the request
 * itself is freed. */
/* Puts a response in its sink's outbox, to be handed over at the end of
 * this loop iteration. */
static void outbox(salvo__engine *e, salvo__sink *s, salvo_response *resp) {
  resp->next = NULL;
  if (s->out_tail)
    s->out_tail->next = resp;
  else
    s->out_head = resp;
  s->out_tail = resp;
  if (!s->dirty) {
    s->dirty = 1;
    s->dirty_next = e->dirty;
    e->dirty = s;
  }
}

/* A request whose streamed response was handed over ends: the stream
 * learns how, and whichever of writer and reader goes last frees the
 * response. */
static void let_go(salvo__req *r, int err, char *msg) {
  salvo_response *resp = r->resp;
  r->resp = NULL;
  salvo__stream_end(resp->stream, err, msg);
  if (salvo__stream_detach(resp->stream)) {
    resp->stream = NULL;
    salvo_response_free(resp);
  }
}

static void finish(salvo__engine *e, salvo__req *r, int err, char *msg) {
  salvo__sink *s = r->sink;
  salvo_response *resp = r->resp;
  index_remove(e, r);
  if (r->handed_over) {
    live_unlink(s, r);
    let_go(r, err, msg);
    salvo__req_free(r);
    return;
  }
  r->resp = NULL;
  if (err)
    salvo__resp_set_error(resp, err, msg);
  else
    free(msg);
  if (r->first_start)
    resp->elapsed = (double)(salvo__now_ns() - r->first_start) / 1e9;
  live_unlink(s, r);
  salvo__req_free(r);
  outbox(e, s, resp);
}

static char *deadline_message(const salvo__req *r) {
  int n = salvo__req_attempts(r);
  return salvo__fmt("deadline of %.3f s reached after %d attempt%s",
                    (double)r->deadline_ms / 1000, n, n == 1 ? "" : "s");
}

/* An attempt ended (the transport's report). */
static void on_attempt_done(void *ctx, salvo__req *r,
                            salvo__attempt_result *res) {
  salvo__engine *e = ctx;
  int64_t now = salvo__now_ns(), delay;
  int err = res->error;
  char *msg = res->errmsg;
  salvo_response *resp = r->resp;
  r->xfer = NULL;
  /* What the data events found wrong (a body over max_body, a malformed
   * line) is why the transfer stopped, whatever the transport saw. */
  if (r->fail) {
    err = r->fail;
    free(msg);
    msg = salvo__req_fail_message(r);
  }
  const char *secrets[] = {e->cfg->password, e->cfg->bearer_token};
  msg = salvo__redact(msg, secrets, 2);
  if (!r->handed_over) { /* else the caller's already: hands off */
    resp->redirects = res->redirects;
    resp->total_time = res->total_time;
    resp->ttfb = res->ttfb;
    if (res->final_url && res->redirects)
      salvo__resp_set_url(resp, res->final_url);
  }
  salvo__sched_release(e->sched, &r->sched);
  int out_of_time = r->deadline_at && now >= r->deadline_at - 1000000;
  if (err == SALVO_ETIMEDOUT && out_of_time) {
    free(msg);
    msg = deadline_message(r);
  } else if (!out_of_time && salvo__retry_decide(e->cfg, r, err, res->unsent,
                                                 &delay, &e->rng)) {
    int in_time = !r->deadline_at || now + delay < r->deadline_at;
    /* The slot is given back while waiting; the attempt's response stays
     * until the next one starts, in case the deadline ends it. If it
     * cannot even be parked (out of memory), it ends with this attempt's
     * outcome. */
    if (in_time && !salvo__sched_park(e->sched, &r->sched, now + delay)) {
      r->state = SALVO__REQ_BACKOFF;
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
  } else if (salvo__retry_maybe_processed(r, err, res->unsent)) {
    char *why = salvo__fmt("%s; the server may have processed this %s: it "
                           "is not sent again (a request that is not "
                           "idempotent goes at most once unless marked "
                           "idempotent)",
                           msg ? msg : salvo_strerror(err), r->method);
    free(msg);
    msg = why;
  }
  finish(e, r, err, msg);
}

/* The headers of a streamed 2xx are in: the response is handed over now,
 * and its body will come through a stream. Without memory for one, the
 * body is kept like any other and the response comes at the end. */
static void on_headers(void *ctx, salvo__req *r) {
  salvo__engine *e = ctx;
  salvo_response *resp = r->resp;
  struct stream_note note = {e, r->sink, resp->id};
  if (r->handed_over ||
      !(resp->stream = salvo__stream_new(SALVO_STREAM_BUFFER, stream_notify,
                                         &note, sizeof(note))))
    return;
  r->handed_over = 1;
  resp->elapsed = (double)(salvo__now_ns() - r->first_start) / 1e9;
  outbox(e, r->sink, resp);
}

static void on_hold(void *ctx, salvo__req *r, int hold) {
  salvo__engine *e = ctx;
  salvo__sched_hold(e->sched, &r->sched, hold);
}

/* Starts what the scheduler allows; the first attempt fixes the deadline,
 * which then bounds every attempt's timeout. */
static void pump(salvo__engine *e) {
  salvo__req *r;
  int64_t now = salvo__now_ns();
  while ((r = req_of(salvo__sched_next(e->sched, now)))) {
    r->state = SALVO__REQ_RUNNING;
    if (!salvo__req_attempts(r)) {
      r->first_start = now;
      if (r->deadline_ms)
        r->deadline_at = now + r->deadline_ms * 1000000;
    }
    r->attempt_timeout_ms = r->timeout_ms;
    if (r->deadline_at) {
      int64_t left = (r->deadline_at - now + 999999) / 1000000;
      if (left <= 0) {
        salvo__sched_release(e->sched, &r->sched);
        finish(e, r, SALVO_ETIMEDOUT, deadline_message(r));
        continue;
      }
      if (!r->attempt_timeout_ms || left < r->attempt_timeout_ms)
        r->attempt_timeout_ms = left;
    }
    salvo__req_begin_attempt(r);
    char *msg;
    int i = salvo__transport_choose(e->cfg, r);
    r->transport = i;
    int err = salvo__transports[i]->start(e->tp[i], r, &r->xfer, &msg);
    if (err) {
      salvo__sched_release(e->sched, &r->sched);
      finish(e, r, err, msg);
    }
  }
}

/* When a queued request stops waiting: its queue timeout (before its
 * first attempt only) or its deadline, whichever comes first; 0 = never. */
static int64_t queue_limit(const salvo__req *r, int64_t now) {
  int64_t at = 0;
  if (r->queue_timeout_ms && !salvo__req_attempts(r))
    at = now + r->queue_timeout_ms * 1000000;
  if (r->deadline_at && (!at || r->deadline_at < at))
    at = r->deadline_at;
  return at;
}

/* Queues a request, new or back from its backoff. */
static void enqueue(salvo__engine *e, salvo__req *r, int64_t now) {
  r->state = SALVO__REQ_QUEUED;
  if (salvo__sched_add(e->sched, &r->sched, r->origin, queue_limit(r, now),
                       now))
    finish(e, r, SALVO_ENOMEM, NULL);
}

/* Timers: queued requests whose wait ran out end; parked ones whose
 * backoff ended are queued again. */
static void expire(salvo__engine *e) {
  int64_t now = salvo__now_ns();
  salvo__sched_entry *unparked, *next;
  salvo__sched_entry *ent = salvo__sched_expire(e->sched, now, &unparked);
  for (; ent; ent = next) {
    next = ent->next;
    salvo__req *r = req_of(ent);
    char *msg = salvo__req_attempts(r)
                    ? deadline_message(r)
                    : salvo__fmt("waited %.3f s in the queue for a slot "
                                 "(queue_timeout)",
                                 (double)r->queue_timeout_ms / 1000);
    finish(e, r, SALVO_ETIMEDOUT, msg);
  }
  for (ent = unparked; ent; ent = next) {
    next = ent->next;
    enqueue(e, req_of(ent), now);
  }
}

static void flush(salvo__engine *e) {
  for (salvo__sink *s = e->dirty, *next; s; s = next) {
    next = s->dirty_next;
    s->dirty = 0;
    salvo_response *head = s->out_head, *tail = s->out_tail;
    s->out_head = s->out_tail = NULL;
    s->deliver(s, head, tail);
  }
  e->dirty = NULL;
}

/* Takes a request out of the transport or the scheduler, whichever holds
 * it. */
static void withdraw(salvo__engine *e, salvo__req *r) {
  if (r->state == SALVO__REQ_RUNNING) {
    salvo__transports[r->transport]->abort(e->tp[r->transport], r->xfer);
    r->xfer = NULL;
    salvo__sched_release(e->sched, &r->sched);
  } else {
    salvo__sched_forget(e->sched, &r->sched, r->state == SALVO__REQ_BACKOFF);
  }
}

static void cancel_sink(salvo__engine *e, salvo__sink *s) {
  for (salvo__req *r = s->live, *next; r; r = next) {
    next = r->lnext;
    withdraw(e, r);
    index_remove(e, r);
    if (r->handed_over)
      let_go(r, SALVO_ECANCELED, salvo__fmt("the parallel block was closed"));
    salvo__req_free(r);
  }
  s->live = NULL;
  if (s->dirty) {
    salvo__sink **pp = &e->dirty;
    while (*pp != s)
      pp = &(*pp)->dirty_next;
    *pp = s->dirty_next;
    s->dirty = 0;
  }
  for (salvo_response *r = s->out_head, *next; r; r = next) {
    next = r->next;
    salvo_response_free(r);
  }
  s->out_head = s->out_tail = NULL;
  s->cancelled(s);
}

/* Takes every pending command; returns non-zero when asked to stop. */
static int drain_commands(salvo__engine *e) {
  salvo__fd_drain(e->wakefd);
  pthread_mutex_lock(&e->mtx);
  salvo__req *subs = e->sub_head;
  salvo__sink *cancels = e->cancel_head;
  struct cancel_one *ones = e->cancel_ones;
  int stop = e->stop;
  uint64_t clear = e->cookie_clear_asked;
  e->sub_head = e->sub_tail = NULL;
  e->cancel_head = NULL;
  e->cancel_ones = NULL;
  e->wake_pending = 0;
  pthread_mutex_unlock(&e->mtx);
  if (clear != e->cookie_clear_done) {
    if (e->jar)
      salvo__jar_clear(e->jar);
    pthread_mutex_lock(&e->mtx);
    e->cookie_clear_done = clear;
    pthread_cond_broadcast(&e->cmd_cond);
    pthread_mutex_unlock(&e->mtx);
  }
  /* Submissions first: a sink's cancellation was queued after all of its
   * submissions, and must see them. */
  int64_t now = salvo__now_ns();
  for (salvo__req *r = subs, *next; r; r = next) {
    next = r->lnext;
    live_link(r->sink, r);
    index_add(e, r);
    enqueue(e, r, now);
  }
  /* Single cancellations before whole sinks: a sink cancelled after one of
   * its requests was must still see that request gone. */
  for (struct cancel_one *c = ones, *next; c; c = next) {
    next = c->next;
    salvo__req *r = index_find(e, c->sink, c->id);
    if (r && c->op == SALVO__STREAM_RESUME) {
      if (r->state == SALVO__REQ_RUNNING)
        salvo__transports[r->transport]->resume(e->tp[r->transport], r->xfer);
    } else if (r) {
      withdraw(e, r);
      finish(e, r, SALVO_ECANCELED,
             salvo__fmt(c->op == ONE_CANCEL ? "cancelled"
                                            : "closed by its reader"));
    }
    free(c);
  }
  for (salvo__sink *s = cancels, *next; s; s = next) {
    next = s->cancel_next;
    cancel_sink(e, s);
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
      int64_t left = dl < 0 ? -1 : dl - salvo__now_ns();
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
    int64_t left = dl < 0 ? 0 : dl - salvo__now_ns();
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
    int64_t now = salvo__now_ns();
    for (int i = 0; i < SALVO__NTRANSPORTS; i++) {
      const salvo__transport_ops *ops = salvo__transports[i];
      int64_t dl = ops->deadline(e->tp[i]);
      if (dl >= 0 && dl <= now)
        ops->on_timer(e->tp[i]);
      ops->reap(e->tp[i]);
    }
    expire(e);
    pump(e);
    flush(e);
  }
  return NULL;
}

static void engine_close(salvo__engine *e) {
  for (struct cancel_one *c = e->cancel_ones, *next; c; c = next) {
    next = c->next;
    free(c);
  }
  free(e->index);
  for (int i = 0; i < SALVO__NTRANSPORTS; i++)
    if (e->tp[i])
      salvo__transports[i]->destroy(e->tp[i]);
  salvo__jar_free(e->jar);
  salvo__sched_free(e->sched);
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
  e->rng = (uint64_t)salvo__now_ns() ^ (uint64_t)(uintptr_t)e;
  e->rng = e->rng ? e->rng : 1;
  e->sched = salvo__sched_new(cfg);
  if (!e->sched) {
    *err = SALVO_ENOMEM;
    goto fail;
  }
  if (cfg->cookies && !(e->jar = salvo__jar_new())) {
    *err = SALVO_ENOMEM;
    goto fail;
  }
  if (e->jar && cfg->cookie_file &&
      (*err = salvo__jar_load(e->jar, cfg->cookie_file)))
    goto fail;
  salvo__transport_events events = {
      .ctx = e,
      .clock = &salvo__system_clock,
      .jar = e->jar,
      .done = on_attempt_done,
      .hold = on_hold,
      .headers = on_headers,
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
