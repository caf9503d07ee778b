/* Clients: the default client, life cycle. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "transport.h"

int salvo_client_new(salvo_client **out, const salvo_config *cfg) {
  if (!out)
    return SALVO_EINVAL;
  *out = NULL;
  int err = salvo__transport_global_init();
  if (err)
    return err;
  salvo_client *c = calloc(1, sizeof(*c));
  if (!c)
    return SALVO_ENOMEM;
  char *msg;
  err = salvo__cfg_resolve(&c->cfg, cfg, &msg);
  free(msg); /* salvo_config_check gives it to those who ask */
  if (err) {
    free(c);
    return err;
  }
  pthread_mutex_init(&c->mtx, NULL);
  pthread_cond_init(&c->cmd_cond, NULL);
  c->pool = salvo__pool_new();
  err = c->pool ? salvo__engine_start(c) : SALVO_ENOMEM;
  if (err) {
    salvo__pool_release(c->pool);
    pthread_cond_destroy(&c->cmd_cond);
    pthread_mutex_destroy(&c->mtx);
    salvo__cfg_free(&c->cfg);
    free(c);
    return err;
  }
  *out = c;
  return SALVO_OK;
}

void salvo_client_free(salvo_client *c) {
  if (!c)
    return;
  for (;;) {
    pthread_mutex_lock(&c->mtx);
    salvo_batch *b = c->batches;
    pthread_mutex_unlock(&c->mtx);
    if (!b)
      break;
    salvo_batch_close(b);
  }
  salvo__engine_stop(c);
  salvo__pool_release(c->pool); /* responses may still hold it */
  pthread_cond_destroy(&c->cmd_cond);
  pthread_mutex_destroy(&c->mtx);
  salvo__cfg_free(&c->cfg);
  free(c);
}

int salvo_client_clear_cookies(salvo_client *c) {
  if (!c)
    return SALVO_EINVAL;
  salvo__engine_clear_cookies(c);
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
