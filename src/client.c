/* Clients: life cycle, the list of open blocks, the default client. */
#include "client.h"

#include "buf.h"
#include "forkgen.h"

#include <stdlib.h>
#include <string.h>

/* Process-wide: the default client and a fork generation, which a child
 * bumps so that objects of its parent's are known as such. Only the fork
 * handlers below and salvo__default_client touch them. */
static pthread_mutex_t default_mtx = PTHREAD_MUTEX_INITIALIZER;
static salvo_client *default_client;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void before_fork(void) { pthread_mutex_lock(&default_mtx); }
static void after_fork_parent(void) { pthread_mutex_unlock(&default_mtx); }

static void after_fork_child(void) {
  pthread_mutex_init(&default_mtx, NULL);
  default_client = NULL; /* the parent's lives on there, not here */
  salvo__fork_gen_bump();
}

static void install_fork_handlers(void) {
  pthread_atfork(before_fork, after_fork_parent, after_fork_child);
}

int salvo__client_forked(const salvo_client *c) {
  return c->fork_gen != salvo__fork_gen();
}

static void stop_engines(salvo_client *c) {
  for (int i = 0; i < c->neng; i++)
    salvo__engine_free(c->eng[i]);
  free(c->eng);
  free(c->eng_cfg);
  c->eng = NULL;
  c->eng_cfg = NULL;
  c->neng = 0;
}

/* One engine per I/O thread, each with an even share of the client-wide
 * concurrency and rate (the strings stay the client's). */
static int start_engines(salvo_client *c) {
  int n = c->cfg.io_threads;
  c->eng = calloc((size_t)n, sizeof(*c->eng));
  c->eng_cfg = calloc((size_t)n, sizeof(*c->eng_cfg));
  if (!c->eng || !c->eng_cfg)
    return SALVO_ENOMEM;
  for (int i = 0; i < n; i++) {
    salvo__cfg *ec = &c->eng_cfg[i];
    *ec = c->cfg;
    ec->concurrency = c->cfg.concurrency / n + (i < c->cfg.concurrency % n);
    if (ec->concurrency < 1)
      ec->concurrency = 1;
    ec->rate_limit = c->cfg.rate_limit / n;
    int err;
    if (!(c->eng[i] = salvo__engine_new(ec, &err)))
      return err;
    c->neng = i + 1;
  }
  return 0;
}

int salvo_client_new(salvo_client **out, const salvo_config *cfg) {
  if (!out)
    return SALVO_EINVAL;
  *out = NULL;
  pthread_once(&atfork_once, install_fork_handlers);
  salvo_client *c = calloc(1, sizeof(*c));
  if (!c)
    return SALVO_ENOMEM;
  c->fork_gen = salvo__fork_gen();
  char *msg;
  int err = salvo__cfg_resolve(&c->cfg, cfg, &msg);
  free(msg); /* salvo_config_check gives it to those who ask */
  if (err) {
    free(c);
    return err;
  }
  pthread_mutex_init(&c->mtx, NULL);
  salvo__list_init(&c->blocks);
  salvo__url_memo_init(&c->memo);
  c->pool = salvo__pool_new();
  c->slab = salvo__slab_new();
  if (!c->pool || !c->slab || (err = start_engines(c))) {
    stop_engines(c);
    salvo__pool_release(c->pool);
    salvo__slab_release(c->slab);
    pthread_mutex_destroy(&c->mtx);
    salvo__cfg_free(&c->cfg);
    free(c);
    return err ? err : SALVO_ENOMEM;
  }
  *out = c;
  return SALVO_OK;
}

int salvo__client_engine_of(const salvo_client *c, const char *origin) {
  return c->neng == 1 ? 0 : (int)(salvo__hash(origin) % (uint32_t)c->neng);
}

void salvo__client_link(salvo_client *c, salvo__block_link *l) {
  pthread_mutex_lock(&c->mtx);
  salvo__list_push_front(&c->blocks, &l->node);
  pthread_mutex_unlock(&c->mtx);
}

void salvo__client_unlink(salvo_client *c, salvo__block_link *l) {
  pthread_mutex_lock(&c->mtx);
  salvo__list_remove(&l->node);
  pthread_mutex_unlock(&c->mtx);
}

void salvo_client_free(salvo_client *c) {
  if (!c)
    return;
  if (salvo__client_forked(c)) {
    /* A parent's client in a child: its thread, connections and TLS state
     * are the parent's; releasing them here would close or shut down what
     * the parent still uses. Only this struct goes. */
    free(c);
    return;
  }
  for (;;) { /* each close unlinks its block */
    pthread_mutex_lock(&c->mtx);
    salvo__list *n = salvo__list_first(&c->blocks);
    pthread_mutex_unlock(&c->mtx);
    if (!n)
      break;
    salvo__block_link *l = salvo__container_of(n, salvo__block_link, node);
    l->close(l);
  }
  stop_engines(c);
  salvo__pool_release(c->pool); /* responses may still hold it */
  salvo__slab_release(c->slab); /* and their twins' chunks */
  pthread_mutex_destroy(&c->mtx);
  salvo__cfg_free(&c->cfg);
  free(c);
}

/* The jar is its I/O thread's, which a forked child does not have: a
 * command would wait for it for ever (salvo.h: a parent's client
 * refuses at once). */
int salvo_client_clear_cookies(salvo_client *c) {
  if (!c || salvo__client_forked(c))
    return SALVO_EINVAL;
  for (int i = 0; i < c->neng; i++)
    salvo__engine_jar(c->eng[i], SALVO__JAR_CLEAR, NULL, NULL);
  return SALVO_OK;
}

int salvo_client_cookies(salvo_client *c, char **out) {
  if (out)
    *out = NULL;
  if (!c || !out || salvo__client_forked(c))
    return SALVO_EINVAL;
  salvo__buf b = {0};
  int rc = salvo__buf_append(&b, "", 0);
  for (int i = 0; i < c->neng && !rc; i++)
    rc = salvo__engine_jar(c->eng[i], SALVO__JAR_LINES, NULL, &b);
  if (rc) {
    salvo__buf_free(&b);
    return rc;
  }
  *out = b.p;
  return SALVO_OK;
}

/* Into every engine's jar: each has its own (docs/scale-out.md), and the
 * cookie's domain may match origins of any of them. */
int salvo_client_cookie_set(salvo_client *c, const char *line) {
  if (!c || !line || strpbrk(line, "\r\n") || salvo__client_forked(c))
    return SALVO_EINVAL;
  int rc = SALVO_OK;
  for (int i = 0; i < c->neng && !rc; i++)
    rc = salvo__engine_jar(c->eng[i], SALVO__JAR_ADD, line, NULL);
  return rc;
}

salvo_client *salvo__default_client(void) {
  pthread_once(&atfork_once, install_fork_handlers);
  pthread_mutex_lock(&default_mtx);
  if (!default_client)
    salvo_client_new(&default_client, NULL);
  salvo_client *c = default_client;
  pthread_mutex_unlock(&default_mtx);
  return c;
}
