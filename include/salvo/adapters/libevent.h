/*
 * salvo/adapters/libevent.h - a parallel block on a libevent base.
 *
 * Header-only: include it and link libevent.
 *
 *   salvo_event w;
 *   salvo_event_attach(&w, base, batch, on_response, arg);
 *   ... on_response(w, r, arg) runs on the base's thread for each
 *       response as it completes; it owns r ...
 *   salvo_event_detach(&w);         (before salvo_parallel_close)
 *
 * A streamed body (salvo_request.stream) is read on the base with
 * salvo_event_read_start, which calls back with each chunk and once at
 * the end. Both watch a descriptor of the library's (salvo_parallel_fd,
 * salvo_response_read_fd) with a persistent read event; nothing blocks.
 */
#ifndef SALVO_ADAPTERS_LIBEVENT_H
#define SALVO_ADAPTERS_LIBEVENT_H

#include <event2/event.h>
#include <salvo.h>

typedef struct salvo_event salvo_event;
typedef void (*salvo_event_response_cb)(salvo_event *w, salvo_response *r,
                                        void *arg);

struct salvo_event {
  struct event *ev;
  salvo_parallel *batch;
  salvo_event_response_cb cb;
  void *arg;
};

static void salvo__event_ready(evutil_socket_t fd, short what, void *p) {
  salvo_event *w = (salvo_event *)p;
  salvo_response *r;
  (void)fd, (void)what;
  /* Level-triggered: drain what is ready now; a callback may detach. */
  while (w->ev && (r = salvo_parallel_poll(w->batch)))
    w->cb(w, r, w->arg);
}

/* Starts calling cb for each response of batch. Returns 0, or -1 when
 * the batch has no descriptor or libevent fails. */
static inline int salvo_event_attach(salvo_event *w, struct event_base *base,
                                     salvo_parallel *batch,
                                     salvo_event_response_cb cb, void *arg) {
  int fd;
  if (salvo_parallel_fd(batch, &fd))
    return -1;
  w->batch = batch;
  w->cb = cb;
  w->arg = arg;
  w->ev = event_new(base, fd, EV_READ | EV_PERSIST, salvo__event_ready, w);
  if (!w->ev || event_add(w->ev, NULL)) {
    if (w->ev)
      event_free(w->ev);
    w->ev = NULL;
    return -1;
  }
  return 0;
}

/* Stops watching (responses stay in the batch). Call it before
 * salvo_parallel_close; it may be called from a callback. */
static inline void salvo_event_detach(salvo_event *w) {
  if (w->ev) {
    event_free(w->ev); /* deletes it first */
    w->ev = NULL;
  }
}

/* ---- streamed bodies ----------------------------------------------------- */

typedef struct salvo_event_reader salvo_event_reader;

struct salvo_event_reader {
  struct event *ev;
  salvo_response *r;
  /* A chunk of the body (valid during the call). */
  void (*on_data)(salvo_event_reader *rd, const char *data, size_t len);
  /* The end: 0, or the error that ended the body. The event is gone after
   * this; the response is still the caller's. */
  void (*on_end)(salvo_event_reader *rd, int status);
  void *arg;
  char buf[65536];
};

static void salvo__event_readable(evutil_socket_t fd, short what, void *p) {
  salvo_event_reader *rd = (salvo_event_reader *)p;
  (void)fd, (void)what;
  for (;;) {
    long n = salvo_response_read_nowait(rd->r, rd->buf, sizeof(rd->buf));
    if (n == SALVO_EAGAIN)
      return;
    if (n <= 0) {
      event_free(rd->ev);
      rd->ev = NULL;
      rd->on_end(rd, (int)n);
      return;
    }
    rd->on_data(rd, rd->buf, (size_t)n);
  }
}

/* Reads r's streamed body on the base. Returns 0, or -1 for a body that
 * is not streamed (read it at once) or when libevent fails. */
static inline int salvo_event_read_start(salvo_event_reader *rd,
                                         struct event_base *base,
                                         salvo_response *r) {
  int fd = salvo_response_read_fd(r);
  if (fd < 0)
    return -1;
  rd->r = r;
  rd->ev = event_new(base, fd, EV_READ | EV_PERSIST, salvo__event_readable, rd);
  if (!rd->ev || event_add(rd->ev, NULL)) {
    if (rd->ev)
      event_free(rd->ev);
    rd->ev = NULL;
    return -1;
  }
  return 0;
}

#endif /* SALVO_ADAPTERS_LIBEVENT_H */
