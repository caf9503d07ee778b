/* Origins: the table by "scheme://host:port", each one's Host line, TLS
 * session and addresses (dns.c finds them), and the requests waiting on
 * one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "native.h"

#define ORIGINS_MAX 8192

void salvo__nat_session_free(void *session); /* tls.c */

static void origin_free(salvo__origin *o) {
  free(o->addrs);
  free(o->dns_err);
  salvo__nat_session_free(o->session);
  free(o->key);
  free(o->name);
  free(o->host_line);
  free(o);
}

/* Forgets the origins with no connection, when there are too many. */
static void origins_trim(salvo__transport *t) {
  for (size_t i = 0; i < SALVO__NAT_ORIGIN_BUCKETS; i++) {
    for (salvo__origin **pp = &t->origins[i]; *pp;) {
      salvo__origin *o = *pp;
      if (o->nconns || o->resolving) {
        pp = &o->hnext;
        continue;
      }
      *pp = o->hnext;
      origin_free(o);
      t->norigins--;
    }
  }
}

salvo__origin *salvo__nat_origin(salvo__transport *t, const char *key,
                                 uint32_t hash) {
  uint32_t b = hash & (SALVO__NAT_ORIGIN_BUCKETS - 1);
  for (salvo__origin *o = t->origins[b]; o; o = o->hnext)
    if (!strcmp(o->key, key))
      return o;
  if (t->norigins >= ORIGINS_MAX)
    origins_trim(t);
  salvo__origin *o = calloc(1, sizeof(*o));
  if (!o)
    return NULL;
  salvo__list_init(&o->idle);
  salvo__list_init(&o->waiting);
  salvo__list_init(&o->h2conns);
  o->t = t;
  const char *auth = strstr(key, "://") + 3;
  const char *colon = strrchr(auth, ':');
  o->tls = key[4] == 's';
  o->key = salvo__strdup(key);
  int v6 = auth[0] == '[';
  o->name = salvo__strndup(auth + v6, (size_t)(colon - auth) - 2 * (size_t)v6);
  snprintf(o->port, sizeof(o->port), "%s", colon + 1);
  int dflt = !strcmp(o->port, o->tls ? "443" : "80");
  o->host_line =
      salvo__fmt("Host: %.*s\r\n",
                 (int)(dflt ? (size_t)(colon - auth) : strlen(auth)), auth);
  if (!o->key || !o->name || !o->host_line) {
    origin_free(o);
    return NULL;
  }
  o->host_line_len = strlen(o->host_line);
  o->hnext = t->origins[b];
  t->origins[b] = o;
  t->norigins++;
  return o;
}

void salvo__nat_wait(salvo__nxfer *x) {
  salvo__list_push_back(&x->o->waiting, &x->in_wait);
  x->waiting = 1;
  x->o->nwaiting++;
}

/* Also takes x off the batch salvo__nat_resolved (connect.c) is going
 * through, where it no longer counts as waiting. */
void salvo__nat_unwait(salvo__nxfer *x) {
  if (salvo__list_linked(&x->in_wait))
    salvo__list_remove(&x->in_wait);
  if (x->waiting)
    x->o->nwaiting--;
  x->waiting = 0;
}

void salvo__nat_origins_free(salvo__transport *t) {
  for (size_t i = 0; t->origins && i < SALVO__NAT_ORIGIN_BUCKETS; i++)
    for (salvo__origin *o = t->origins[i], *next; o; o = next) {
      next = o->hnext;
      origin_free(o);
    }
  free(t->origins);
  t->origins = NULL;
}
