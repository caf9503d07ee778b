/*
 * A body read by the caller (salvo_request.stream): a bounded buffer
 * between the I/O thread, which writes what the transport delivers, and
 * the reader, on its own thread. A full buffer pauses the transfer; a
 * reader that drains it below half asks for the transfer to resume.
 *
 * Two sides hold it: the writer (the engine, while the request runs) and
 * the reader (the response). The response's memory is freed by whichever
 * side lets go last.
 */
#ifndef SALVO_STREAM_H
#define SALVO_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "salvo.h"

typedef struct salvo__stream salvo__stream;

/* The streams written during one turn of the I/O loop. Their readers are
 * woken once, when the turn ends, not at each chunk: a reader woken per
 * 8 KiB DATA frame cost a pair of context switches per frame (150,000 for
 * 1 GiB), and on a shared core halved the throughput. I/O thread only. */
typedef struct salvo__stream_batch {
  salvo__stream *head;
} salvo__stream_batch;

/* Wakes the readers of every stream written since the last flush. */
void salvo__stream_batch_flush(salvo__stream_batch *b);

/* What the reader asks of the writer's side. */
enum { SALVO__STREAM_RESUME = 1, SALVO__STREAM_CLOSE = 2 };

/* notify(ctx, what) runs on the reader's thread, under the stream's lock,
 * only while the writer is attached; ctx is a copy of the ctx_len bytes
 * given here (at most 32), kept in the stream. Writes join `batch`, which
 * must outlive the writer's side (NULL: each write wakes the reader). */
salvo__stream *salvo__stream_new(size_t cap, salvo__stream_batch *batch,
                                 void (*notify)(void *ctx, int what),
                                 const void *ctx, size_t ctx_len);

/* ---- the writer (I/O thread) ---- */
/* Appends a chunk: 0, or SALVO__STREAM_FULL when it does not fit (nothing
 * taken: pause and offer it again on resume), or SALVO_ECANCELED when the
 * reader closed. */
#define SALVO__STREAM_FULL 1
int salvo__stream_write(salvo__stream *s, const char *data, size_t len);
/* The body ended: err 0 (complete) or why not, with a message (taken). */
void salvo__stream_end(salvo__stream *s, int err, char *msg);
/* The writer lets go (its batch is flushed first); returns non-zero when the
 * reader already had: the stream is then freed, and the caller must free the
 * response. */
int salvo__stream_detach(salvo__stream *s);

/* ---- the reader (any thread) ---- */
/* Bytes read (> 0), 0 at the end of the body, or a negative error code:
 * the transfer's error, SALVO_EAGAIN (wait 0, nothing yet),
 * SALVO_ECANCELED (closed). */
long salvo__stream_read(salvo__stream *s, void *buf, size_t len, int wait);
/* Why the transfer failed once the writer said so (the message of the
 * code read returns), or NULL: valid until the stream is released. */
const char *salvo__stream_errmsg(salvo__stream *s);
/* A descriptor readable while read would not block; -1 on failure. */
int salvo__stream_fd(salvo__stream *s);
/* No more reading: the transfer is abandoned. */
void salvo__stream_close(salvo__stream *s);
/* The reader lets go (the response is being freed), closing it first;
 * returns non-zero when the writer already had: the stream is then freed
 * and the response may be freed now; otherwise the writer frees it. */
int salvo__stream_release(salvo__stream *s);

#endif /* SALVO_STREAM_H */
