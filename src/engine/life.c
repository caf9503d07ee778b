/* A request's life on the I/O thread: admitted into its sink and the
 * scheduler, started on a transport, retried or settled, its response
 * handed to the sink. Its state moves through salvo__life_enter alone. */
#include <stddef.h>
#include <stdlib.h>

#include "../buf.h"
#include "../deadline.h"
#include "../list.h"
#include "../redact.h"
#include "../retry.h"
#include "../stream.h"
#include "internal.h"

/* ---- the state machine ----------------------------------------------- */

/* Which states each state may move to (internal.h has the diagram). */
#define TO(s) (1u << (s))
static const unsigned legal[] = {
    [SALVO__REQ_NEW] = TO(SALVO__REQ_QUEUED) | TO(SALVO__REQ_DONE),
    [SALVO__REQ_QUEUED] = TO(SALVO__REQ_RUNNING) | TO(SALVO__REQ_DONE),
    [SALVO__REQ_RUNNING] =
        TO(SALVO__REQ_STREAMING) | TO(SALVO__REQ_BACKOFF) | TO(SALVO__REQ_DONE),
    [SALVO__REQ_BACKOFF] = TO(SALVO__REQ_QUEUED) | TO(SALVO__REQ_DONE),
    [SALVO__REQ_STREAMING] = TO(SALVO__REQ_DONE),
    [SALVO__REQ_DONE] = 0,
};
#undef TO

/* The one place a request's state is written. */
static void enter(salvo__req *r, int state) {
  if (!(legal[r->state] & (1u << state)))
    abort(); /* a move the diagram does not have: a bug, never a state */
  r->state = state;
}

/* Whether an attempt of r is with a transport. */
static int running(const salvo__req *r) {
  return r->state == SALVO__REQ_RUNNING || r->state == SALVO__REQ_STREAMING;
}

/* ---- live requests by (sink, id) ------------------------------------- */

static salvo__req *req_of(salvo__sched_entry *e) {
  return e ? salvo__container_of(e, salvo__req, sched) : NULL;
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
      size_t k = index_slot(e, r->sink, salvo__req_id(r));
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
    return; /* no memory for an index: a command finds nothing */
  size_t k = index_slot(e, r->sink, salvo__req_id(r));
  r->inext = e->index[k];
  e->index[k] = r;
}

static void index_remove(salvo__engine *e, salvo__req *r) {
  e->nlive--;
  if (!e->index)
    return;
  salvo__req **pp = &e->index[index_slot(e, r->sink, salvo__req_id(r))];
  while (*pp && *pp != r)
    pp = &(*pp)->inext;
  if (*pp)
    *pp = r->inext;
}

static salvo__req *index_find(salvo__engine *e, salvo__sink *s, uint64_t id) {
  if (!e->index)
    return NULL;
  salvo__req *r = e->index[index_slot(e, s, id)];
  while (r && (r->sink != s || salvo__req_id(r) != id))
    r = r->inext;
  return r;
}

static void live_link(salvo__sink *s, salvo__req *r) {
  salvo__list_push_front(&s->live, &r->in_sink);
}

static void live_unlink(salvo__req *r) { salvo__list_remove(&r->in_sink); }

/* ---- settling -------------------------------------------------------- */

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
  salvo_response *resp = salvo__req_take_response(r);
  salvo__stream_end(resp->stream, err, msg);
  if (salvo__stream_detach(resp->stream)) {
    resp->stream = NULL;
    salvo_response_free(resp);
  }
}

/* Settles a request at `now` (the engine's clock): its response goes to
 * the sink's outbox (or, handed over already, its stream ends), the
 * request itself is freed. */
static void finish_at(salvo__engine *e, salvo__req *r, int err, char *msg,
                      int64_t now) {
  salvo__sink *s = r->sink;
  int streaming = r->state == SALVO__REQ_STREAMING;
  enter(r, SALVO__REQ_DONE);
  index_remove(e, r);
  live_unlink(r);
  if (streaming) {
    let_go(r, err, msg);
    salvo__req_free(r);
    return;
  }
  salvo_response *resp = salvo__req_take_response(r);
  if (err)
    salvo__resp_set_error(resp, err, msg);
  else
    free(msg);
  if (r->first_start)
    resp->elapsed = (double)(now - r->first_start) / 1e9;
  salvo__req_free(r);
  outbox(e, s, resp);
}

static void finish(salvo__engine *e, salvo__req *r, int err, char *msg) {
  finish_at(e, r, err, msg, salvo__engine_now(e));
}

static char *deadline_message(const salvo__req *r) {
  int n = salvo__req_attempts(r);
  return salvo__fmt("deadline of %.3f s reached after %d attempt%s",
                    (double)r->deadline_ms / 1000, n, n == 1 ? "" : "s");
}

/* Takes a request out of the transport or the scheduler, whichever holds
 * it. */
static void withdraw(salvo__engine *e, salvo__req *r) {
  if (running(r)) {
    salvo__transports[r->transport]->abort(e->tp[r->transport], r->xfer);
    r->xfer = NULL;
    salvo__sched_release(e->sched, &r->sched);
  } else {
    salvo__sched_forget(e->sched, &r->sched, r->state == SALVO__REQ_BACKOFF);
  }
}

/* ---- the transports' events ------------------------------------------ */

/* Why the attempt failed, as the caller will read it: what the data
 * events found wrong (a body over max_body, a malformed line) is why the
 * transfer stopped, whatever the transport saw; no secret in it. */
static int attempt_error(const salvo__engine *e, const salvo__req *r, int err,
                         char **msg) {
  if (salvo__req_failure(r)) {
    err = salvo__req_failure(r);
    free(*msg);
    *msg = salvo__req_fail_message(r);
  }
  const char *secrets[] = {e->cfg->password, e->cfg->bearer_token,
                           e->cfg->client_key_password};
  *msg = salvo__redact(*msg, secrets, sizeof(secrets) / sizeof(*secrets));
  return err;
}

void salvo__life_attempt_done(void *ctx, salvo__req *r,
                              salvo__attempt_result *res) {
  salvo__engine *e = ctx;
  int64_t now = res->now ? res->now : salvo__engine_now(e), delay;
  char *msg = res->errmsg;
  int err = attempt_error(e, r, res->error, &msg);
  salvo_response *resp = r->resp;
  r->xfer = NULL;
  if (r->state != SALVO__REQ_STREAMING) { /* else the caller's: hands off */
    resp->total_time = res->total_time;
    resp->ttfb = res->ttfb;
  }
  salvo__sched_release(e->sched, &r->sched);
  int out_of_time = salvo__deadline_spent(r->deadline_at, now);
  if (err == SALVO_ETIMEDOUT && out_of_time) {
    free(msg);
    msg = deadline_message(r);
  } else if (!out_of_time &&
             salvo__retry_decide(e->cfg, e->clock, r, err, res->unsent, &delay,
                                 &e->rng)) {
    int in_time = salvo__deadline_fits(r->deadline_at, now, delay);
    /* The slot is given back while waiting; the attempt's response stays
     * until the next one starts, in case the deadline ends it. If it
     * cannot even be parked (out of memory), it ends with this attempt's
     * outcome. */
    if (in_time && !salvo__sched_park(e->sched, &r->sched, now + delay)) {
      enter(r, SALVO__REQ_BACKOFF);
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
  finish_at(e, r, err, msg, now);
}

/* The headers of a streamed 2xx are in: the response is handed over now,
 * and its body will come through a stream. Without memory for one, the
 * body is kept like any other and the response comes at the end. */
void salvo__life_headers(void *ctx, salvo__req *r) {
  salvo__engine *e = ctx;
  salvo_response *resp = r->resp;
  struct salvo__stream_note note = {e, r->sink, resp->id};
  if (r->state == SALVO__REQ_STREAMING ||
      !(resp->stream = salvo__stream_new(SALVO_STREAM_BUFFER, &e->streams,
                                         salvo__engine_stream_notify, &note,
                                         sizeof(note))))
    return;
  enter(r, SALVO__REQ_STREAMING);
  resp->elapsed = (double)(salvo__engine_now(e) - r->first_start) / 1e9;
  outbox(e, r->sink, resp);
}

void salvo__life_hold(void *ctx, salvo__req *r, int hold) {
  salvo__engine *e = ctx;
  salvo__sched_hold(e->sched, &r->sched, hold);
}

/* ---- queueing and starting ------------------------------------------- */

/* Queues a request, new or back from its backoff. */
static void enqueue(salvo__engine *e, salvo__req *r, int64_t now) {
  enter(r, SALVO__REQ_QUEUED);
  if (salvo__sched_add(e->sched, &r->sched, r->origin, r->origin_hash,
                       salvo__deadline_queue_limit(r->queue_timeout_ms,
                                                   salvo__req_attempts(r),
                                                   r->deadline_at, now),
                       now))
    finish(e, r, SALVO_ENOMEM, NULL);
}

void salvo__life_admit(salvo__engine *e, salvo__req *r, int64_t now) {
  r->recv_cache = &e->recvs;
  if (r->resp)
    r->resp->homes = e->homes;
  live_link(r->sink, r);
  index_add(e, r);
  enqueue(e, r, now);
}

/* The first attempt fixes the deadline, which then bounds every
 * attempt's timeout: 0, or how long this attempt may take (ms, 0 = no
 * limit), or -1 when the deadline has passed. */
static int64_t attempt_budget(salvo__req *r, int64_t now) {
  if (!salvo__req_attempts(r)) {
    r->first_start = now;
    if (r->deadline_ms)
      r->deadline_at = now + r->deadline_ms * 1000000;
  }
  return salvo__deadline_budget(r->timeout_ms, r->deadline_at, now);
}

void salvo__life_pump(salvo__engine *e) {
  salvo__req *r;
  int64_t now = salvo__engine_now(e);
  while ((r = req_of(salvo__sched_next(e->sched, now)))) {
    enter(r, SALVO__REQ_RUNNING);
    int64_t ms = attempt_budget(r, now);
    if (ms < 0) {
      salvo__sched_release(e->sched, &r->sched);
      finish(e, r, SALVO_ETIMEDOUT, deadline_message(r));
      continue;
    }
    r->attempt_timeout_ms = ms;
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

void salvo__life_expire(salvo__engine *e) {
  int64_t now = salvo__engine_now(e);
  salvo__sched_entry *unparked, *next;
  salvo__sched_entry *ent = salvo__sched_expire(e->sched, now, &unparked);
  for (; ent; ent = next) {
    next = ent->next;
    salvo__req *r = req_of(ent);
    /* The queue's words are read by the Python package as httpx's
     * PoolTimeout (test_exceptions.py). */
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

void salvo__life_flush(salvo__engine *e) {
  salvo__stream_batch_flush(&e->streams);
  for (salvo__sink *s = e->dirty, *next; s; s = next) {
    next = s->dirty_next;
    s->dirty = 0;
    salvo_response *head = s->out_head, *tail = s->out_tail;
    s->out_head = s->out_tail = NULL;
    s->deliver(s, head, tail);
  }
  e->dirty = NULL;
}

/* ---- cancelling ------------------------------------------------------ */

void salvo__life_command(salvo__engine *e, const struct salvo__one_cmd *c) {
  salvo__req *r = index_find(e, c->sink, c->id);
  if (!r)
    return;
  if (c->op == SALVO__STREAM_RESUME) {
    if (running(r))
      salvo__transports[r->transport]->resume(e->tp[r->transport], r->xfer);
    return;
  }
  withdraw(e, r);
  finish(e, r, SALVO_ECANCELED,
         salvo__fmt(c->op == SALVO__CMD_CANCEL ? "cancelled"
                                               : "closed by its reader"));
}

void salvo__life_cancel_sink(salvo__engine *e, salvo__sink *s) {
  salvo__list *n, *tmp;
  salvo__list_each_safe(n, tmp, &s->live) {
    salvo__req *r = salvo__container_of(n, salvo__req, in_sink);
    live_unlink(r);
    withdraw(e, r);
    index_remove(e, r);
    int streaming = r->state == SALVO__REQ_STREAMING;
    enter(r, SALVO__REQ_DONE);
    if (streaming)
      let_go(r, SALVO_ECANCELED, salvo__fmt("the parallel block was closed"));
    salvo__req_free(r);
  }
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
