/* The receiving state of each attempt: its life, from the I/O thread's
 * cache to it (see receive_state.h). */
#include "receive_state.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "decode.h"

void salvo__recv_close_output(salvo__req *r) {
  if (r->recv->out_fd >= 0)
    close(r->recv->out_fd);
  r->recv->out_fd = -1;
}

void salvo__recv_drop_decoder(salvo__req *r) {
  salvo__decoder_free(r->recv->dec);
  r->recv->dec = NULL;
  r->recv->fed = 0;
  r->recv->held.len = r->recv->held_off = r->recv->held_in.len = 0;
}

static void recv_free(salvo__recv *v) {
  if (v->out_fd >= 0)
    close(v->out_fd);
  salvo__decoder_free(v->dec);
  salvo__buf_free(&v->held);
  salvo__buf_free(&v->held_in);
  salvo__recv_cache *c = v->cache;
  if (c && c->n < SALVO__RECV_CACHE_MAX) {
    v->next_free = c->free;
    c->free = v;
    c->n++;
    return;
  }
  free(v);
}

void salvo__recv_cache_drain(salvo__recv_cache *c) {
  for (salvo__recv *v = c->free, *next; v; v = next) {
    next = v->next_free;
    free(v);
  }
  c->free = NULL;
  c->n = 0;
}

/* A zeroed receive state, from r's cache when it has one. */
static salvo__recv *recv_new(salvo__req *r) {
  salvo__recv_cache *c = r->recv_cache;
  salvo__recv *v = c ? c->free : NULL;
  if (v) {
    c->free = v->next_free;
    c->n--;
  } else if (!(v = malloc(sizeof(*v)))) {
    return NULL;
  }
  memset(v, 0, sizeof(*v));
  v->cache = c;
  v->out_fd = -1;
  return v;
}

/* The current attempt's state of r, made or reset as needed: 0, or
 * SALVO_ENOMEM. A new attempt writes the output file from its start
 * again. */
int salvo__recv_renew(salvo__req *r) {
  int attempt = salvo__req_attempts(r);
  if (!r->recv) {
    if (!(r->recv = recv_new(r)))
      return SALVO_ENOMEM;
    r->recv_free = recv_free;
  } else {
    salvo__recv_close_output(r);
    salvo__recv_drop_decoder(r);
    r->recv->fail = 0;
    r->recv->why = NULL;
    r->recv->head_done = 0;
    memset(&r->recv->head, 0, sizeof(r->recv->head));
  }
  r->recv->attempt = attempt;
  return 0;
}
