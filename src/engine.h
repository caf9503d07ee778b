/*
 * The engine: one I/O thread per client. It takes requests from any
 * thread, runs them through the scheduler and the transport, decides
 * retries, and hands finished responses to their sinks. Its state is
 * private to src/engine/ (loop.c the thread, life.c a request's life and
 * the one function that moves a request's state).
 */
#ifndef SALVO_ENGINE_H
#define SALVO_ENGINE_H

#include "config.h"
#include "list.h"
#include "request.h"
#include "response.h"

typedef struct salvo__engine salvo__engine;

/*
 * Where the engine hands finished responses: a parallel block embeds one.
 * The owner sets the two callbacks; the other fields are the engine's.
 */
struct salvo__sink {
  /* A list of finished responses (linked through next), once per loop
   * iteration at most. Runs on the I/O thread. */
  void (*deliver)(salvo__sink *s, salvo_response *head, salvo_response *tail);
  /* The engine holds nothing of the sink any more (after
   * salvo__engine_cancel). Runs on the I/O thread. */
  void (*cancelled)(salvo__sink *s);
  void *owner; /* the owner's, for its callbacks */
  /* the engine's (salvo__sink_init starts them) */
  salvo__list live; /* requests not yet settled (salvo__req.in_sink) */
  salvo_response *out_head;
  salvo_response *out_tail;
  salvo__sink *dirty_next;
  salvo__sink *cancel_next;
  int dirty;
};

/* Sets a sink up for its owner, before its first submission. */
void salvo__sink_init(salvo__sink *s,
                      void (*deliver)(salvo__sink *, salvo_response *,
                                      salvo_response *),
                      void (*cancelled)(salvo__sink *), void *owner);

/* Starts the I/O thread; NULL with *err set (SALVO_ENOMEM or
 * SALVO_EINTERNAL) on failure. cfg must outlive the engine. */
salvo__engine *salvo__engine_new(const salvo__cfg *cfg, int *err);
/* Stops the thread (after every sink was cancelled) and frees. */
void salvo__engine_free(salvo__engine *e);
/* From any thread: run a request; its response goes to sink s. */
void salvo__engine_submit(salvo__engine *e, salvo__sink *s, salvo__req *r);
/* From any thread, returning once the I/O thread did it: SALVO__JAR_CLEAR
 * empties the cookie jar; _LINES appends its cookies to out as a cookie
 * file's lines; _ADD stores one such line. 0, SALVO_EINVAL (a line that
 * is no cookie; a client without a jar, but for _CLEAR and _LINES, which
 * then do nothing) or SALVO_ENOMEM. */
enum { SALVO__JAR_CLEAR, SALVO__JAR_LINES, SALVO__JAR_ADD };
int salvo__engine_jar(salvo__engine *e, int op, const char *line,
                      salvo__buf *out);
/* From any thread: cancels the request of `id` in the sink if it is still
 * running, queued or waiting to retry: its response is delivered with
 * SALVO_ECANCELED. Returns at once. */
void salvo__engine_cancel_one(salvo__engine *e, salvo__sink *s, uint64_t id);
/* From any thread: drops every request of the sink (its responses are
 * freed, not delivered). Returns at once; the I/O thread calls the sink's
 * `cancelled` when it holds nothing of it any more, and the owner waits
 * for that. */
void salvo__engine_cancel(salvo__engine *e, salvo__sink *s);

#endif /* SALVO_ENGINE_H */
