/*
 * The engine's rooms, and what they share (private to src/engine/):
 *
 *   loop.c  the I/O thread: its loop, the commands other threads queue,
 *           creating and stopping it
 *   life.c  a request's life on it: the one function that moves its state
 *           (salvo__life_enter), the scheduler and the transports, retries,
 *           hand-over to its sink
 *
 * A request's states, and the only moves between them (life.c checks each
 * in debug builds):
 *
 *   NEW --admit--> QUEUED --pump--> RUNNING --headers--> STREAMING
 *                    ^                 |                     |
 *                    +--backoff ends-- BACKOFF <--retry--+   |
 *                                                        |   |
 *   QUEUED, RUNNING, BACKOFF, STREAMING --finish, cancel--> DONE (freed)
 */
#ifndef SALVO_ENGINE_INTERNAL_H
#define SALVO_ENGINE_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "../engine.h"
#include "../receive.h"
#include "../receive_state.h"
#include "../scheduler.h"
#include "../stream.h"
#include "../transport.h"

struct salvo__engine {
  const salvo__cfg *cfg;
  const salvo__clock *clock;
  pthread_t thread;
  int epfd;
  int wakefd;
  pthread_mutex_t mtx;
  pthread_cond_t cmd_cond;
  /* Submitted, not yet taken by the I/O thread: newest first, linked by
   * lnext. Pushed without a lock (the push that finds it empty wakes the
   * thread), taken whole. */
  _Atomic(salvo__req *) subs;
  /* mtx */
  salvo__sink *cancel_head;
  struct salvo__one_cmd *cancel_ones;
  int wake_pending;
  int stop;
  struct salvo__jar_cmd *jar_cmds; /* synchronous: their callers wait */
  /* I/O thread */
  salvo__transport *tp[SALVO__NTRANSPORTS]; /* salvo__transports' */
  salvo__jar *jar;                          /* NULL without cookies */
  salvo__auth_cache *auth;                  /* NULL without Digest */
  salvo__sched *sched;
  salvo__sink *dirty;          /* sinks with responses to deliver */
  salvo__stream_batch streams; /* streams whose readers are to be woken */
  salvo__recv_cache recvs;     /* receive states for the next requests */
  salvo__homes *homes;         /* responses' first homes, recycled */
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
 * op: SALVO__CMD_CANCEL, or a stream's SALVO__STREAM_RESUME or _CLOSE. */
enum { SALVO__CMD_CANCEL = 0 };

/* A command on the cookie jar from another thread (engine.h), which waits
 * on cmd_cond until `done`: the jar has one writer, the I/O thread. */
struct salvo__jar_cmd {
  struct salvo__jar_cmd *next;
  int op;           /* SALVO__JAR_CLEAR, _LINES or _ADD */
  const char *line; /* _ADD's */
  salvo__buf *out;  /* _LINES's */
  int rc;
  int done;
};

struct salvo__one_cmd {
  struct salvo__one_cmd *next;
  salvo__sink *sink;
  uint64_t id;
  int op;
};

/* What a stream's notify needs to reach its request. */
struct salvo__stream_note {
  salvo__engine *e;
  salvo__sink *sink;
  uint64_t id;
};

static inline int64_t salvo__engine_now(const salvo__engine *e) {
  return salvo__clock_ns(e->clock);
}

/* life.c, on the I/O thread. */
/* A submitted request joins its sink and the scheduler (NEW -> QUEUED). */
void salvo__life_admit(salvo__engine *e, salvo__req *r, int64_t now);
/* A command for one request: its stream resumes, or it is cancelled. */
void salvo__life_command(salvo__engine *e, const struct salvo__one_cmd *c);
/* Every request of the sink dropped; its responses freed. */
void salvo__life_cancel_sink(salvo__engine *e, salvo__sink *s);
/* Queue limits and backoffs that ran out; then what the scheduler allows
 * starts; then the finished responses go to their sinks. */
void salvo__life_expire(salvo__engine *e);
void salvo__life_pump(salvo__engine *e);
void salvo__life_flush(salvo__engine *e);
/* The transports' events (salvo__transport_events). */
void salvo__life_attempt_done(void *ctx, salvo__req *r,
                              salvo__attempt_result *res);
void salvo__life_headers(void *ctx, salvo__req *r);
void salvo__life_hold(void *ctx, salvo__req *r, int hold);
/* loop.c: the stream's notify (resume, close), on the reader's thread. */
void salvo__engine_stream_notify(void *ctx, int what);

#endif /* SALVO_ENGINE_INTERNAL_H */
