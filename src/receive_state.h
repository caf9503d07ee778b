/*
 * The receiving state of a request's current attempt: made at its first
 * data event, reset at each new attempt, and kept in its I/O thread's
 * cache between requests (receive_state.c). Its fields are written by
 * receive.c (bodies) and receive_head.c (heads) alone; the engine holds
 * the cache.
 */
#ifndef SALVO_RECEIVE_STATE_H
#define SALVO_RECEIVE_STATE_H

#include <stddef.h>

#include "buf.h"
#include "request.h"

struct salvo__decoder;

/* Receive states kept for the next requests of one I/O thread, which
 * alone takes and gives them back: each request needs one while it runs,
 * and 64 ending in one turn of the loop overflow glibc's per-thread cache
 * (7 chunks a size), so malloc and free cost 440 instructions a request.
 * At most SALVO__RECV_CACHE_MAX are kept. */
#define SALVO__RECV_CACHE_MAX 1024
struct salvo__recv_cache {
  salvo__recv *free;
  size_t n;
};
/* Frees what the cache keeps (the engine's close). */
void salvo__recv_cache_drain(salvo__recv_cache *c);

/* An attempt's receiving state: allocated at its request's first data
 * event, reset at the first of each new attempt, so that a request
 * waiting in the queue carries none of it. */
struct salvo__recv {
  int attempt;      /* the attempt it belongs to */
  int fail;         /* an error that stopped the transfer, or 0 */
  const char *why;  /* what was malformed, or why output_path was refused
                     (a constant string), or NULL */
  int fail_errno;   /* errno behind SALVO_EWRITE */
  int out_fd;       /* output_path while open, else -1 */
  int head_done;    /* the blank line after the last status line came */
  salvo__head head; /* the response being read */
  struct salvo__decoder *dec; /* its content coding, or NULL */
  int fed;                    /* encoded bytes went to dec */
  salvo__buf held;            /* decoded bytes the reader has not taken */
  size_t held_off;
  salvo__buf held_in;       /* encoded bytes not decoded yet (reader full) */
  salvo__recv_cache *cache; /* where it goes back to, or NULL */
  salvo__recv *next_free;   /* in the cache */
};

/* The state of the attempt running now, or NULL when it has none yet. */
static inline const salvo__recv *salvo__recv_now(const salvo__req *r) {
  return r->recv && r->recv->attempt == salvo__req_attempts(r) ? r->recv : NULL;
}

/* The current attempt's state of r, made or reset as needed: 0, or
 * SALVO_ENOMEM. A new attempt writes the output file from its start
 * again. */
int salvo__recv_renew(salvo__req *r);

/* Every line and piece of body asks: inline, so that the usual answer
 * (the state is this attempt's) costs a compare. */
static inline int salvo__recv_current(salvo__req *r) {
  return salvo__recv_now(r) ? 0 : salvo__recv_renew(r);
}

/* The data events keep the error that stops a transfer, and what was
 * wrong, for its message. */
static inline int salvo__recv_kept(salvo__req *r, int rc) {
  if (rc < 0)
    r->recv->fail = rc;
  return rc;
}

static inline int salvo__recv_malformed(salvo__req *r, const char *why) {
  r->recv->why = why;
  return SALVO_EPROTO;
}

/* The response's content decoder dropped, with what it held. */
void salvo__recv_drop_decoder(salvo__req *r);
/* The output file of the attempt closed, if open. */
void salvo__recv_close_output(salvo__req *r);

#endif /* SALVO_RECEIVE_STATE_H */
