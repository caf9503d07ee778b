/*
 * The one-call form: many requests in, results in input order out.
 *
 * A thin layer over a parallel block: requests are submitted through a
 * window (so a million requests do not all sit in memory as queued
 * requests at once), collected in completion order and put back in input
 * order by the tag each response carries. Keys get an open-addressing
 * index, so salvo_results_get is O(1).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "client.h"
#include "parallel.h"
#include "request.h"
#include "response.h"
#include "sized.h"

struct salvo_results {
  int error;
  char *errmsg;
  size_t n;
  size_t failed;
  salvo_response **items;
  size_t *index; /* key slots: item index + 1, 0 = empty */
  size_t index_mask;
};

static salvo_results *refuse(salvo_results *res, int err, char *msg) {
  res->error = err;
  res->errmsg = msg;
  return res;
}

/* Indexes the keys, refusing duplicates: keys name results, and two
 * results under one name would make one of them unreachable. */
static int index_keys(salvo_results *res, const salvo_request *reqs, size_t n) {
  size_t size = 16;
  while (size < 2 * n)
    size *= 2;
  res->index = calloc(size, sizeof(*res->index));
  if (!res->index)
    return SALVO_ENOMEM;
  res->index_mask = size - 1;
  for (size_t i = 0; i < n; i++) {
    const char *k = salvo__req_at(reqs, i)->key;
    if (!k)
      continue;
    size_t s = salvo__hash(k) & res->index_mask;
    for (; res->index[s]; s = (s + 1) & res->index_mask) {
      size_t j = res->index[s] - 1;
      if (!strcmp(salvo__req_at(reqs, j)->key, k)) {
        refuse(res, SALVO_EINVAL,
               salvo__fmt("duplicate key \"%.100s\" (requests %zu and %zu)", k,
                          j, i));
        return SALVO_EINVAL;
      }
    }
    res->index[s] = i + 1;
  }
  return 0;
}

/* A result that could not even be submitted (out of memory). */
static salvo_response *unsent(const salvo_request *req, uint64_t tag) {
  salvo_response *r = salvo__resp_new(0, req->key, req->user_data, req->url);
  if (r) {
    r->tag = tag;
    salvo__resp_set_error(r, SALVO_ENOMEM, NULL);
  }
  return r;
}

static void run(salvo_client *c, salvo_results *res, const salvo_request *reqs,
                size_t n) {
  salvo_parallel *b = NULL;
  salvo_parallel_open(c, &b);
  if (!b && errno == ECHILD) {
    refuse(res, SALVO_EINVAL,
           salvo__fmt("the client was made before fork(): make one in this "
                      "process"));
    return;
  }
  if (!b) {
    refuse(res, SALVO_ENOMEM, NULL);
    return;
  }
  size_t window = 4 * (size_t)c->cfg.concurrency;
  if (window < 1024)
    window = 1024;
  size_t next = 0, outstanding = 0;
  while (next < n || outstanding) {
    while (next < n && outstanding < window) {
      const salvo_request *req = salvo__req_at(reqs, next);
      if (salvo__submit(b, req, next).id)
        outstanding++;
      else
        res->items[next] = unsent(req, next);
      next++;
    }
    if (!outstanding)
      continue;
    salvo_response *r = salvo_parallel_next(b);
    outstanding--;
    res->items[r->tag] = r;
  }
  salvo_parallel_close(b);
  for (size_t i = 0; i < n; i++)
    if (!res->items[i] || res->items[i]->error)
      res->failed++;
}

salvo_results *salvo_client_parallel_requests(salvo_client *c,
                                              const salvo_request *reqs,
                                              size_t n) {
  salvo_results *res = calloc(1, sizeof(*res));
  if (!res)
    return NULL;
  if (!c || (n && !reqs))
    return refuse(res, SALVO_EINVAL, salvo__fmt("no client or no requests"));
  int err = index_keys(res, reqs, n);
  if (err)
    return res->error ? res : refuse(res, err, NULL);
  res->items = calloc(n ? n : 1, sizeof(*res->items));
  if (!res->items)
    return refuse(res, SALVO_ENOMEM, NULL);
  res->n = n;
  run(c, res, reqs, n);
  return res;
}

salvo_results *salvo_parallel_requests(const salvo_request *reqs, size_t n,
                                       const salvo_config *cfg) {
  salvo_client *c;
  int err = salvo_client_new(&c, cfg);
  if (err) {
    salvo_results *res = calloc(1, sizeof(*res));
    char why[256];
    if (err != SALVO_EINVAL || salvo_config_check(cfg, why, sizeof(why)) == 0)
      snprintf(why, sizeof(why), "%s", salvo_strerror(err));
    return res ? refuse(res, err, salvo__fmt("bad configuration: %s", why))
               : NULL;
  }
  salvo_results *res = salvo_client_parallel_requests(c, reqs, n);
  salvo_client_free(c);
  return res;
}

/* One item per URL, one for all, or none. */
static int fits(size_t have, size_t count, const char *what, char **msg) {
  if (have == 0 || have == 1 || have == count)
    return 1;
  *msg = salvo__fmt("%zu %s for %zu URLs: give one for every URL, or one "
                    "for all",
                    have, what, count);
  return 0;
}

static const void *pick(const void *const *list, size_t have, size_t i) {
  return !list || !have ? NULL : list[have == 1 ? 0 : i];
}

void salvo_urls_init_size(salvo_urls *urls, size_t size) {
  static const salvo_urls defaults = {.size = sizeof(salvo_urls)};
  salvo__sized_init(urls, size, &defaults, sizeof(defaults));
}

/* Why a salvo_urls cannot run: SALVO_EINVAL with a message (NULL when out
 * of memory), or 0. */
static int check_urls(const salvo_urls *u, char **msg) {
  *msg = NULL;
  if (u && u->size < sizeof(size_t)) {
    *msg = salvo__fmt("salvo_urls.size is 0: set it up with salvo_urls_init");
    return SALVO_EINVAL;
  }
  if (!u || (u->count && !u->urls)) {
    *msg = salvo__fmt("no URLs");
    return SALVO_EINVAL;
  }
  if (u->nkeys && u->nkeys != u->count) {
    *msg = salvo__fmt("%zu keys for %zu URLs: give one key per URL", u->nkeys,
                      u->count);
    return SALVO_EINVAL;
  }
  if (!fits(u->nparams, u->count, "params lists", msg) ||
      !fits(u->nheaders, u->count, "header lists", msg) ||
      !fits(u->nbodies, u->count, "bodies", msg) ||
      !fits(u->njson, u->count, "JSON bodies", msg))
    return SALVO_EINVAL;
  return 0;
}

/* The requests a salvo_urls describes, or NULL with *refused saying why
 * (NULL too when out of memory). The strings stay the caller's;
 * submission copies them. */
static salvo_request *build_requests(const salvo_urls *caller,
                                     salvo_results **refused) {
  char *msg;
  *refused = NULL;
  /* The fields this library knows, from a struct of the caller's size. */
  salvo_urls full;
  const salvo_urls *u = caller;
  if (caller && caller->size >= sizeof(size_t) &&
      caller->size != sizeof(full)) {
    salvo_urls_init(&full);
    salvo__sized_read(&full, sizeof(full), caller, caller->size);
    u = &full;
  }
  if (check_urls(u, &msg)) {
    salvo_results *res = calloc(1, sizeof(*res));
    if (!res)
      free(msg);
    *refused = res ? refuse(res, SALVO_EINVAL, msg) : NULL;
    return NULL;
  }
  size_t n = u->count;
  salvo_request *reqs = calloc(n ? n : 1, sizeof(*reqs));
  for (size_t i = 0; reqs && i < n; i++) {
    salvo_request *r = &reqs[i];
    salvo_request_init(r);
    r->method = u->method;
    r->url = u->urls[i];
    r->key = u->nkeys ? u->keys[i] : NULL;
    r->params = pick((const void *const *)u->params, u->nparams, i);
    r->headers = pick((const void *const *)u->headers, u->nheaders, i);
    r->json = pick((const void *const *)u->json, u->njson, i);
    r->body = pick((const void *const *)u->bodies, u->nbodies, i);
    r->body_len = r->body ? strlen(r->body) : 0;
  }
  return reqs;
}

salvo_results *salvo_client_parallel_urls(salvo_client *c,
                                          const salvo_urls *u) {
  salvo_results *refused;
  salvo_request *reqs = build_requests(u, &refused);
  if (!reqs)
    return refused;
  salvo_results *res = salvo_client_parallel_requests(c, reqs, u->count);
  free(reqs);
  return res;
}

salvo_results *salvo_parallel_urls(const salvo_urls *u,
                                   const salvo_config *cfg) {
  salvo_results *refused;
  salvo_request *reqs = build_requests(u, &refused);
  if (!reqs)
    return refused;
  salvo_results *res = salvo_parallel_requests(reqs, u->count, cfg);
  free(reqs);
  return res;
}

int salvo_results_error(const salvo_results *res) {
  return res ? res->error : SALVO_EINVAL;
}

const char *salvo_results_errmsg(const salvo_results *res) {
  if (!res)
    return "no results";
  if (res->errmsg)
    return res->errmsg;
  return res->error ? salvo_strerror(res->error) : "";
}

size_t salvo_results_count(const salvo_results *res) {
  return res ? res->n : 0;
}

salvo_response *salvo_results_at(const salvo_results *res, size_t i) {
  return res && i < res->n ? res->items[i] : NULL;
}

salvo_response *salvo_results_get(const salvo_results *res, const char *key) {
  if (!res || !key || !res->index || !res->n)
    return NULL;
  for (size_t s = salvo__hash(key) & res->index_mask; res->index[s];
       s = (s + 1) & res->index_mask) {
    salvo_response *r = res->items[res->index[s] - 1];
    if (r && r->key && !strcmp(r->key, key))
      return r;
  }
  return NULL;
}

size_t salvo_results_failed(const salvo_results *res) {
  return res ? res->failed : 0;
}

void salvo_results_free(salvo_results *res) {
  if (!res)
    return;
  for (size_t i = 0; i < res->n; i++)
    salvo_response_free(res->items[i]);
  free(res->items);
  free(res->index);
  free(res->errmsg);
  free(res);
}
