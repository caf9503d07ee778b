/*
 * Parallel blocks: pending handles, the ready list and collection.
 *
 * A pending handle is (generation << 32 | slot index + 1). Slots are
 * recycled as soon as their response is delivered, and the generation is
 * bumped, so a stale handle can never reach another request's response.
 * Everything here is under the batch mutex; the I/O thread only enters
 * through salvo__batch_deliver, once per loop iteration with every response
 * it finished in that iteration.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "parallel.h"

#include <stdatomic.h>

#include "client.h"
#include "clock.h"
#include "engine.h"
#include "lock.h"
#include "request.h"
#include "response.h"
#include "wake.h"

typedef struct salvo__slot {
  uint32_t gen;
  uint32_t next_free; /* index + 1 of the next free slot, 0 = none */
  uint8_t used;
  salvo_response *resp; /* set once the response is ready */
} salvo__slot;

struct salvo_parallel {
  salvo_client *client;
  salvo__sink *sinks;     /* the engines' side, one per engine */
  salvo__block_link link; /* in the client's list */
  salvo__lock lock;       /* lock.h's: two pairs a request, 57 instructions
                             each as a pthread mutex */
  salvo__cond cond;
  /* lock */
  salvo__slot *slots;
  uint32_t nslots;
  uint32_t cap;
  uint32_t free_head;
  salvo__list ready; /* responses come, not yet collected (in_ready) */
  /* submitted, not delivered; written under lock, read without it by
   * salvo_parallel_has_pending (every turn of a caller's loop) */
  _Atomic int pending;
  int nwaiters;
  int efd;          /* -1 until salvo_batch_fd */
  int cancels_left; /* engines that still hold some of its requests */
};

static salvo_parallel *batch_of(salvo__sink *s) { return s->owner; }

#define SLOT_OF(id) ((uint32_t)((id)&0xffffffffu))
#define GEN_OF(id) ((uint32_t)((id) >> 32))

static salvo__slot *slot_lookup(salvo_parallel *b, uint64_t id) {
  uint32_t s = SLOT_OF(id);
  if (s == 0 || s > b->nslots)
    return NULL;
  salvo__slot *sl = &b->slots[s - 1];
  return sl->used && sl->gen == GEN_OF(id) ? sl : NULL;
}

/* Returns a new handle id, or 0 when out of memory. */
static uint64_t slot_alloc(salvo_parallel *b) {
  uint32_t idx;
  if (b->free_head) {
    idx = b->free_head - 1;
    b->free_head = b->slots[idx].next_free;
  } else {
    if (b->nslots == UINT32_MAX - 1)
      return 0;
    if (b->nslots == b->cap) {
      uint32_t cap = b->cap ? b->cap * 2 : 64;
      salvo__slot *s = realloc(b->slots, (size_t)cap * sizeof(*s));
      if (!s)
        return 0;
      b->slots = s;
      b->cap = cap;
    }
    idx = b->nslots++;
    b->slots[idx].gen = 1;
  }
  salvo__slot *sl = &b->slots[idx];
  sl->used = 1;
  sl->resp = NULL;
  return (uint64_t)sl->gen << 32 | (idx + 1);
}

static void slot_release(salvo_parallel *b, uint64_t id) {
  salvo__slot *sl = &b->slots[SLOT_OF(id) - 1];
  sl->used = 0;
  sl->resp = NULL;
  if (++sl->gen == 0)
    sl->gen = 1;
  sl->next_free = b->free_head;
  b->free_head = SLOT_OF(id);
}

static salvo_response *ready_first(const salvo_parallel *b) {
  salvo__list *n = salvo__list_first(&b->ready);
  return n ? salvo__container_of(n, salvo_response, in_ready) : NULL;
}

/* Links a chain of responses (through next) at the tail of the ready
 * list, each in its slot, and signals the fd; returns whether a collector
 * waits, to be woken once the lock is given. */
static int ready_append(salvo_parallel *b, salvo_response *head) {
  int was_empty = salvo__list_empty(&b->ready);
  for (salvo_response *r = head; r; r = r->next) {
    salvo__list_push_back(&b->ready, &r->in_ready);
    slot_lookup(b, r->id)->resp = r;
  }
  if (was_empty && b->efd >= 0)
    salvo__wake_signal(b->efd);
  return b->nwaiters > 0;
}

/* Hands one ready response to the caller. */
static salvo_response *take(salvo_parallel *b, salvo_response *r) {
  salvo__list_remove(&r->in_ready);
  r->next = NULL;
  if (salvo__list_empty(&b->ready) && b->efd >= 0)
    salvo__wake_drain(b->efd);
  slot_release(b, r->id);
  b->pending--;
  return r;
}

/* The caller's code (a parse callback) runs here: on the collecting
 * thread, outside the batch lock. */
static salvo_response *delivered(salvo_parallel *b, salvo_response *r) {
  if (r)
    salvo__resp_finalize(r, &b->client->cfg);
  return r;
}

/* The engine's hand-over, on the I/O thread. */
static void deliver(salvo__sink *s, salvo_response *head,
                    salvo_response *tail) {
  salvo_parallel *b = batch_of(s);
  (void)tail;
  salvo__lock_take(&b->lock);
  int waiters = ready_append(b, head);
  salvo__lock_give(&b->lock);
  /* After giving the lock: a collector woken on this core would find it
   * held. The list changed under the lock, so none can miss this wake-up
   * (lock.h); the block outlives it, since it is freed only after this
   * thread's `cancelled`. */
  if (waiters)
    salvo__cond_broadcast(&b->cond);
}

static void cancelled(salvo__sink *s) {
  salvo_parallel *b = batch_of(s);
  salvo__lock_take(&b->lock);
  if (--b->cancels_left == 0)
    salvo__cond_broadcast(&b->cond);
  salvo__lock_give(&b->lock);
}

/* The client closes a block still open when it is freed. */
static void close_link(salvo__block_link *l) {
  salvo_parallel_close(salvo__container_of(l, salvo_parallel, link));
}

static salvo_parallel *parallel_new(salvo_client *client, int *err) {
  *err = SALVO_ENOMEM;
  if (!client && !(client = salvo__default_client()))
    return NULL;
  if (salvo__client_forked(client)) {
    *err = SALVO_EINVAL;
    return NULL;
  }
  salvo_parallel *b = calloc(1, sizeof(*b));
  if (!b)
    return NULL;
  if (!(b->sinks = calloc((size_t)client->neng, sizeof(*b->sinks)))) {
    free(b);
    return NULL;
  }
  *err = SALVO_OK;
  for (int i = 0; i < client->neng; i++) {
    salvo__sink_init(&b->sinks[i], deliver, cancelled, b);
  }
  b->client = client;
  b->efd = -1;
  salvo__list_init(&b->ready);
  b->link.close = close_link;
  salvo__client_link(client, &b->link);
  return b;
}

int salvo_parallel_open(salvo_client *client, salvo_parallel **out) {
  int err = SALVO_EINVAL;
  if (out)
    *out = parallel_new(client, &err);
  return err;
}

salvo_parallel *salvo__parallel_former(salvo_client *client) {
  int err;
  salvo_parallel *b = parallel_new(client, &err);
  if (err == SALVO_EINVAL)
    errno = ECHILD;
  return b;
}

salvo_pending salvo_get(salvo_parallel *batch, const char *url) {
  salvo_request req;
  salvo_request_init(&req);
  req.url = url;
  return salvo_submit(batch, &req);
}

/* A request that failed validation completes at once, without the I/O
 * thread: its response is ready when salvo_submit returns. */
static void complete_invalid(salvo_parallel *b, salvo_response *resp, int err,
                             char *msg) {
  salvo__resp_set_error(resp, err, msg);
  resp->next = NULL;
  if (ready_append(b, resp))
    salvo__cond_broadcast(&b->cond);
}

salvo_pending salvo_submit(salvo_parallel *b, const salvo_request *req) {
  return salvo__submit(b, req, 0);
}

/* The response of a request refused at submission: key and user data as
 * the caller's struct has them (it may predate them: then it has none). */
static salvo_response *invalid_response(const salvo_request *req) {
  salvo_request copy;
  const salvo_request *in = salvo__req_fields(req, &copy);
  return salvo__resp_new(0, in->key, in->user_data, in->url);
}

salvo_pending salvo__submit(salvo_parallel *b, const salvo_request *req,
                            uint64_t tag) {
  salvo_pending p = {0};
  if (!b || !req || salvo__client_forked(b->client))
    return p;
  salvo_client *c = b->client;
  int err;
  char *msg;
  /* A valid request comes with its response, in one allocation. */
  salvo__req *r = salvo__req_new_paired(req, &c->cfg, c->pool, c->slab,
                                        &c->memo, &err, &msg);
  if (!r && err == SALVO_ENOMEM)
    return p;
  salvo_response *resp = r ? r->resp : invalid_response(req);
  if (!resp) {
    free(msg);
    return p;
  }
  resp->tag = tag;
  salvo__lock_take(&b->lock);
  p.id = slot_alloc(b);
  if (p.id) {
    b->pending++;
    resp->id = p.id;
    if (!r)
      complete_invalid(b, resp, err, msg);
  }
  salvo__lock_give(&b->lock);
  if (!p.id) {
    if (r)
      salvo__req_free(r); /* and its response */
    else
      salvo_response_free(resp);
    free(msg);
  } else if (r) {
    int e = salvo__client_engine_of(c, r->origin);
    salvo__engine_submit(c->eng[e], &b->sinks[e], r);
  }
  return p;
}

/* The response of handle `id` (0: the next to complete), waiting for it
 * until `deadline` (monotonic ns; -1 = for ever, 0 = no wait). NULL when
 * it can never come (not a live handle of this batch; for id 0, nothing
 * pending) or when the time ran out first. */
static salvo_response *collect(salvo_parallel *b, uint64_t id,
                               int64_t deadline) {
  salvo_response *r = NULL;
  if (salvo__client_forked(b->client))
    return NULL; /* nothing will ever come in this process */
  salvo__lock_take(&b->lock);
  for (;;) {
    salvo_response *ready;
    if (id) {
      salvo__slot *sl = slot_lookup(b, id);
      if (!sl)
        break;
      ready = sl->resp;
    } else {
      if (salvo__list_empty(&b->ready) && !b->pending)
        break;
      ready = ready_first(b);
    }
    if (ready) {
      r = take(b, ready);
      break;
    }
    if (!deadline)
      break;
    b->nwaiters++;
    int rc = salvo__cond_wait(&b->cond, &b->lock, deadline);
    b->nwaiters--;
    if (rc == ETIMEDOUT)
      deadline = 0; /* one last look */
  }
  salvo__lock_give(&b->lock);
  return delivered(b, r);
}

/* A timeout in seconds as a deadline for collect. */
static int64_t deadline_of(double timeout) {
  if (!(timeout >= 0))
    return -1; /* negative or NaN: for ever */
  if (timeout == 0)
    return 0;
  if (timeout > 1e9)
    timeout = 1e9;
  return salvo__now_ns() + (int64_t)(timeout * 1e9) + 1;
}

salvo_response *salvo_pending_response(salvo_parallel *b, salvo_pending p) {
  return b && p.id ? collect(b, p.id, -1) : NULL;
}

salvo_response *salvo_pending_response_timeout(salvo_parallel *b,
                                               salvo_pending p,
                                               double timeout) {
  return b && p.id ? collect(b, p.id, deadline_of(timeout)) : NULL;
}

salvo_response *salvo_parallel_next(salvo_parallel *b) {
  return b ? collect(b, 0, -1) : NULL;
}

salvo_response *salvo_parallel_next_timeout(salvo_parallel *b, double timeout) {
  return b ? collect(b, 0, deadline_of(timeout)) : NULL;
}

salvo_response *salvo_parallel_poll(salvo_parallel *b) {
  return b ? collect(b, 0, 0) : NULL;
}

int salvo_pending_ready(salvo_parallel *b, salvo_pending p) {
  if (!b || !p.id || salvo__client_forked(b->client))
    return SALVO_EINVAL;
  salvo__lock_take(&b->lock);
  salvo__slot *sl = slot_lookup(b, p.id);
  int rc = !sl ? SALVO_EINVAL : sl->resp != NULL;
  salvo__lock_give(&b->lock);
  return rc;
}

int salvo_pending_cancel(salvo_parallel *b, salvo_pending p) {
  if (!b || !p.id || salvo__client_forked(b->client))
    return SALVO_EINVAL;
  salvo__lock_take(&b->lock);
  salvo__slot *sl = slot_lookup(b, p.id);
  int live = sl && !sl->resp;
  int known = sl != NULL;
  salvo__lock_give(&b->lock);
  /* The handle does not say which thread runs it: each engine looks the
   * id up in its own sink and only one finds it. */
  for (int i = 0; live && i < b->client->neng; i++)
    salvo__engine_cancel_one(b->client->eng[i], &b->sinks[i], p.id);
  return known ? SALVO_OK : SALVO_EINVAL;
}

int salvo_parallel_fd(salvo_parallel *b, int *fd) {
  if (!b || !fd || salvo__client_forked(b->client))
    return SALVO_EINVAL;
  salvo__lock_take(&b->lock);
  if (b->efd < 0) {
    b->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (b->efd >= 0 && !salvo__list_empty(&b->ready))
      salvo__wake_signal(b->efd);
  }
  *fd = b->efd;
  salvo__lock_give(&b->lock);
  return *fd >= 0 ? SALVO_OK : SALVO_EINTERNAL;
}

int salvo_batch_fd(salvo_parallel *b) {
  int fd;
  int err = salvo_parallel_fd(b, &fd);
  if (err)
    errno = err == SALVO_EINVAL ? (b ? ECHILD : EINVAL) : EMFILE;
  return err ? -1 : fd;
}

int salvo_parallel_has_pending(salvo_parallel *b) {
  if (!b || salvo__client_forked(b->client))
    return 0;
  return atomic_load_explicit(&b->pending, memory_order_acquire);
}

void salvo_parallel_close(salvo_parallel *b) {
  if (!b)
    return;
  if (salvo__client_forked(b->client)) {
    /* In a child: no I/O thread to wait for, and locks that may have been
     * held at fork time. The block's memory goes; its responses, which
     * may hold pooled buffers, stay with the parent's copy. */
    if (b->efd >= 0)
      close(b->efd);
    free(b->slots);
    free(b->sinks);
    free(b);
    return;
  }
  salvo__client_unlink(b->client, &b->link);
  salvo__lock_take(&b->lock);
  b->cancels_left = b->client->neng;
  salvo__lock_give(&b->lock);
  for (int i = 0; i < b->client->neng; i++)
    salvo__engine_cancel(b->client->eng[i], &b->sinks[i]);
  salvo__lock_take(&b->lock);
  while (b->cancels_left)
    salvo__cond_wait(&b->cond, &b->lock, -1);
  salvo__lock_give(&b->lock);
  salvo_response *r;
  while ((r = ready_first(b))) {
    salvo__list_remove(&r->in_ready);
    salvo_response_free(r);
  }
  if (b->efd >= 0)
    close(b->efd);
  free(b->slots);
  free(b->sinks);
  free(b);
}
