/* Clients: life cycle, the list of open blocks, the default client. */
#include "client.h"

#include <stdlib.h>
#include <string.h>

int salvo_client_new(salvo_client **out, const salvo_config *cfg) {
  if (!out)
    return SALVO_EINVAL;
  *out = NULL;
  salvo_client *c = calloc(1, sizeof(*c));
  if (!c)
    return SALVO_ENOMEM;
  char *msg;
  int err = salvo__cfg_resolve(&c->cfg, cfg, &msg);
  free(msg); /* salvo_config_check gives it to those who ask */
  if (err) {
    free(c);
    return err;
  }
  pthread_mutex_init(&c->mtx, NULL);
  c->pool = salvo__pool_new();
  err = SALVO_ENOMEM;
  if (c->pool)
    c->eng = salvo__engine_new(&c->cfg, c->pool, &err);
  if (!c->eng) {
    salvo__pool_release(c->pool);
    pthread_mutex_destroy(&c->mtx);
    salvo__cfg_free(&c->cfg);
    free(c);
    return err;
  }
  *out = c;
  return SALVO_OK;
}

void salvo__client_link(salvo_client *c, salvo__batch_link *l) {
  pthread_mutex_lock(&c->mtx);
  l->prev = NULL;
  l->next = c->batches;
  if (c->batches)
    c->batches->prev = l;
  c->batches = l;
  pthread_mutex_unlock(&c->mtx);
}

void salvo__client_unlink(salvo_client *c, salvo__batch_link *l) {
  pthread_mutex_lock(&c->mtx);
  if (l->prev)
    l->prev->next = l->next;
  else
    c->batches = l->next;
  if (l->next)
    l->next->prev = l->prev;
  pthread_mutex_unlock(&c->mtx);
}

void salvo_client_free(salvo_client *c) {
  if (!c)
    return;
  for (;;) {
    pthread_mutex_lock(&c->mtx);
    salvo_batch *b = c->batches ? c->batches->batch : NULL;
    pthread_mutex_unlock(&c->mtx);
    if (!b)
      break;
    salvo_batch_close(b);
  }
  salvo__engine_free(c->eng);
  salvo__pool_release(c->pool); /* responses may still hold it */
  pthread_mutex_destroy(&c->mtx);
  salvo__cfg_free(&c->cfg);
  free(c);
}

int salvo_client_clear_cookies(salvo_client *c) {
  if (!c)
    return SALVO_EINVAL;
  salvo__engine_clear_cookies(c->eng);
  return SALVO_OK;
}

/* The process default client: the only global state, created on first use
 * and kept until exit (its I/O thread sleeps when idle). */
static pthread_once_t default_once = PTHREAD_ONCE_INIT;
static salvo_client *default_client;

static void default_init(void) { salvo_client_new(&default_client, NULL); }

salvo_client *salvo__default_client(void) {
  pthread_once(&default_once, default_init);
  return default_client;
}
