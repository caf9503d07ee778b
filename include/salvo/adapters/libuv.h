/*
 * salvo/adapters/libuv.h - a parallel block on a libuv loop.
 *
 * Header-only: include it (after <uv.h> is reachable) and link libuv.
 *
 *   salvo_uv w;
 *   salvo_uv_attach(&w, loop, batch, on_response, arg);
 *   ... on_response(w, r, arg) runs on the loop's thread for each
 *       response as it completes; it owns r ...
 *   salvo_uv_detach(&w);            (before salvo_parallel_close)
 *
 * A streamed body (salvo_request.stream) is read on the loop with
 * salvo_uv_read_start, which calls back with each chunk and once at the
 * end. Both watch a descriptor of the library's (salvo_parallel_fd,
 * salvo_response_read_fd) with a uv_poll_t; nothing blocks the loop.
 *
 * The structs belong to the caller and must stay put until their handle
 * is closed: detach and stop close it, and call `closed` (may be NULL)
 * once libuv is done with it.
 */
#ifndef SALVO_ADAPTERS_LIBUV_H
#define SALVO_ADAPTERS_LIBUV_H

#include <salvo.h>
#include <uv.h>

typedef struct salvo_uv salvo_uv;
typedef void (*salvo_uv_response_cb)(salvo_uv *w, salvo_response *r, void *arg);

struct salvo_uv {
  uv_poll_t poll; /* first: libuv gives callbacks the handle's address */
  salvo_parallel *batch;
  salvo_uv_response_cb cb;
  void *arg;
  void (*closed)(salvo_uv *w);
};

static void salvo__uv_ready(uv_poll_t *p, int status, int events) {
  salvo_uv *w = (salvo_uv *)p;
  salvo_response *r;
  (void)status, (void)events;
  /* The descriptor is level-triggered: drain what is ready now. A
   * callback may detach; then stop. */
  while (uv_is_active((uv_handle_t *)p) && (r = salvo_parallel_poll(w->batch)))
    w->cb(w, r, w->arg);
}

/* Starts calling cb for each response of batch. Returns 0 or a negative
 * libuv error (UV_EINVAL when the batch has no descriptor). */
static inline int salvo_uv_attach(salvo_uv *w, uv_loop_t *loop,
                                  salvo_parallel *batch,
                                  salvo_uv_response_cb cb, void *arg) {
  int fd;
  if (salvo_parallel_fd(batch, &fd))
    return UV_EINVAL;
  w->batch = batch;
  w->cb = cb;
  w->arg = arg;
  w->closed = NULL;
  int rc = uv_poll_init(loop, &w->poll, fd);
  return rc ? rc : uv_poll_start(&w->poll, UV_READABLE, salvo__uv_ready);
}

static void salvo__uv_closed(uv_handle_t *h) {
  salvo_uv *w = (salvo_uv *)h;
  if (w->closed)
    w->closed(w);
}

/* Stops watching (responses stay in the batch); `closed` runs when the
 * handle is gone. Call it before salvo_parallel_close. */
static inline void salvo_uv_detach(salvo_uv *w, void (*closed)(salvo_uv *)) {
  w->closed = closed;
  uv_poll_stop(&w->poll);
  uv_close((uv_handle_t *)&w->poll, salvo__uv_closed);
}

/* ---- streamed bodies ----------------------------------------------------- */

typedef struct salvo_uv_reader salvo_uv_reader;

struct salvo_uv_reader {
  uv_poll_t poll;
  salvo_response *r;
  /* A chunk of the body (valid during the call). */
  void (*on_data)(salvo_uv_reader *rd, const char *data, size_t len);
  /* The end: 0, or the error that ended the body. libuv is done with the
   * reader by then: it may be freed here. The response is still the
   * caller's. */
  void (*on_end)(salvo_uv_reader *rd, int status);
  void *arg;
  int status;
  char buf[65536];
};

static void salvo__uv_reader_closed(uv_handle_t *h) {
  salvo_uv_reader *rd = (salvo_uv_reader *)h;
  rd->on_end(rd, rd->status);
}

static void salvo__uv_readable(uv_poll_t *p, int status, int events) {
  salvo_uv_reader *rd = (salvo_uv_reader *)p;
  (void)status, (void)events;
  for (;;) {
    long n = salvo_response_read_nowait(rd->r, rd->buf, sizeof(rd->buf));
    if (n == SALVO_EAGAIN)
      return;
    if (n <= 0) {
      rd->status = (int)n;
      uv_poll_stop(p);
      uv_close((uv_handle_t *)p, salvo__uv_reader_closed);
      return;
    }
    rd->on_data(rd, rd->buf, (size_t)n);
  }
}

/* Reads r's streamed body on the loop. Returns 0 or a negative libuv
 * error (UV_EINVAL for a body that is not streamed: read it at once). */
static inline int salvo_uv_read_start(salvo_uv_reader *rd, uv_loop_t *loop,
                                      salvo_response *r) {
  int fd = salvo_response_read_fd(r);
  if (fd < 0)
    return UV_EINVAL;
  rd->r = r;
  int rc = uv_poll_init(loop, &rd->poll, fd);
  return rc ? rc : uv_poll_start(&rd->poll, UV_READABLE, salvo__uv_readable);
}

#endif /* SALVO_ADAPTERS_LIBUV_H */
