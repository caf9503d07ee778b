/* Streams: see stream.h. A ring buffer under one mutex; the reader waits
 * on a condition variable, or on an eventfd made when asked for. */
#include "stream.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "wake.h"

struct salvo__stream {
  pthread_mutex_t mtx;
  pthread_cond_t cond;
  char *buf;
  size_t cap, head, len; /* ring: len bytes from head */
  int ended, err;        /* the writer said the body ended, and how */
  char *errmsg;
  int closed;  /* the reader abandoned it */
  int paused;  /* the writer is waiting for room */
  int writer;  /* attached */
  int reader;  /* attached */
  int waiting; /* readers blocked in read */
  int efd;     /* -1 until salvo__stream_fd */
  int unwoken; /* written since the reader was last woken */
  void (*notify)(void *ctx, int what);
  /* I/O thread: the batch, and this stream's place in its list */
  salvo__stream_batch *batch;
  salvo__stream *batch_next;
  int in_batch;
  _Alignas(16) char ctx[32];
};

salvo__stream *salvo__stream_new(size_t cap, salvo__stream_batch *batch,
                                 void (*notify)(void *, int), const void *ctx,
                                 size_t ctx_len) {
  salvo__stream *s = calloc(1, sizeof(*s));
  if (!s || ctx_len > sizeof(s->ctx) || !(s->buf = malloc(cap))) {
    free(s);
    return NULL;
  }
  pthread_mutex_init(&s->mtx, NULL);
  pthread_cond_init(&s->cond, NULL);
  s->cap = cap;
  s->writer = s->reader = 1;
  s->efd = -1;
  s->notify = notify;
  s->batch = batch;
  memcpy(s->ctx, ctx, ctx_len);
  return s;
}

static void destroy(salvo__stream *s) {
  if (s->efd >= 0)
    close(s->efd);
  free(s->errmsg);
  free(s->buf);
  pthread_cond_destroy(&s->cond);
  pthread_mutex_destroy(&s->mtx);
  free(s);
}

/* Whether a read would return at once. */
static int readable(const salvo__stream *s) {
  return s->len || s->ended || s->closed;
}

/* Called with the lock held after a change the reader may wait for. */
static void wake_reader(salvo__stream *s, int was_readable) {
  /* Bytes written in this turn left the descriptor unsignalled, however
   * readable the stream already was. */
  if (s->efd >= 0 && (!was_readable || s->unwoken) && readable(s))
    salvo__wake_signal(s->efd);
  s->unwoken = 0;
  if (s->waiting)
    pthread_cond_broadcast(&s->cond);
}

void salvo__stream_batch_flush(salvo__stream_batch *b) {
  for (salvo__stream *s = b->head, *next; s; s = next) {
    next = s->batch_next;
    s->in_batch = 0;
    s->batch_next = NULL;
    pthread_mutex_lock(&s->mtx);
    /* The eventfd may be signalled already: a second signal only adds to
     * its count, which the reader drains. */
    if (s->unwoken)
      wake_reader(s, 0);
    pthread_mutex_unlock(&s->mtx);
  }
  b->head = NULL;
}

/* After a write: the reader is woken now, or when the turn ends. */
static void written(salvo__stream *s, int was_readable) {
  if (!s->batch) {
    wake_reader(s, was_readable);
    return;
  }
  s->unwoken = 1;
  if (!s->in_batch) {
    s->in_batch = 1;
    s->batch_next = s->batch->head;
    s->batch->head = s;
  }
}

int salvo__stream_write(salvo__stream *s, const char *data, size_t len) {
  pthread_mutex_lock(&s->mtx);
  int rc = 0;
  if (s->closed) {
    rc = SALVO_ECANCELED;
  } else if (len > s->cap - s->len) {
    s->paused = 1;
    rc = SALVO__STREAM_FULL;
  } else {
    int was = readable(s);
    size_t tail = (s->head + s->len) % s->cap;
    size_t first = len < s->cap - tail ? len : s->cap - tail;
    memcpy(s->buf + tail, data, first);
    memcpy(s->buf, data + first, len - first);
    s->len += len;
    written(s, was);
  }
  pthread_mutex_unlock(&s->mtx);
  return rc;
}

void salvo__stream_end(salvo__stream *s, int err, char *msg) {
  pthread_mutex_lock(&s->mtx);
  int was = readable(s);
  if (!s->ended) {
    s->ended = 1;
    s->err = err;
    s->errmsg = msg;
    msg = NULL;
  }
  wake_reader(s, was);
  pthread_mutex_unlock(&s->mtx);
  free(msg);
}

const char *salvo__stream_errmsg(salvo__stream *s) {
  pthread_mutex_lock(&s->mtx);
  const char *msg = s->ended && s->err ? s->errmsg : NULL;
  pthread_mutex_unlock(&s->mtx);
  return msg;
}

int salvo__stream_detach(salvo__stream *s) {
  if (s->in_batch) /* so that no list holds it once it may be freed */
    salvo__stream_batch_flush(s->batch);
  pthread_mutex_lock(&s->mtx);
  s->writer = 0;
  int last = !s->reader;
  pthread_mutex_unlock(&s->mtx);
  if (last)
    destroy(s);
  return last;
}

long salvo__stream_read(salvo__stream *s, void *buf, size_t len, int wait) {
  pthread_mutex_lock(&s->mtx);
  while (wait && !readable(s)) {
    s->waiting++;
    pthread_cond_wait(&s->cond, &s->mtx);
    s->waiting--;
  }
  long rc;
  if (s->closed) {
    rc = SALVO_ECANCELED;
  } else if (s->len) {
    size_t n = len < s->len ? len : s->len;
    size_t first = n < s->cap - s->head ? n : s->cap - s->head;
    memcpy(buf, s->buf + s->head, first);
    memcpy((char *)buf + first, s->buf, n - first);
    s->head = (s->head + n) % s->cap;
    s->len -= n;
    rc = (long)n;
    /* Half empty again: the paused transfer may go on. */
    if (s->paused && s->len <= s->cap / 2 && s->writer) {
      s->paused = 0;
      s->notify(s->ctx, SALVO__STREAM_RESUME);
    }
  } else if (s->ended) {
    rc = s->err;
  } else {
    rc = SALVO_EAGAIN;
  }
  if (s->efd >= 0 && !readable(s))
    salvo__wake_drain(s->efd);
  pthread_mutex_unlock(&s->mtx);
  return rc;
}

int salvo__stream_fd(salvo__stream *s) {
  pthread_mutex_lock(&s->mtx);
  if (s->efd < 0) {
    s->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (s->efd >= 0 && readable(s))
      salvo__wake_signal(s->efd);
  }
  int fd = s->efd;
  pthread_mutex_unlock(&s->mtx);
  return fd;
}

void salvo__stream_close(salvo__stream *s) {
  pthread_mutex_lock(&s->mtx);
  int was = readable(s);
  if (!s->closed) {
    s->closed = 1;
    s->len = 0;
    if (s->writer && !s->ended)
      s->notify(s->ctx, SALVO__STREAM_CLOSE);
  }
  wake_reader(s, was);
  pthread_mutex_unlock(&s->mtx);
}

int salvo__stream_release(salvo__stream *s) {
  salvo__stream_close(s);
  pthread_mutex_lock(&s->mtx);
  s->reader = 0;
  int last = !s->writer;
  pthread_mutex_unlock(&s->mtx);
  if (last)
    destroy(s);
  return last;
}
