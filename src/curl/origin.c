/*
 * What origins speak, as the libcurl transport learns it: a small
 * open-addressing table, emptied when full rather than grown without
 * bound (an origin then learns again, at the cost of one handshake).
 */
#include <openssl/ssl.h>
#include <stdlib.h>
#include <string.h>

#include "../buf.h"
#include "internal.h"

#define ORIGINS_MAX 8192

salvo__curl_origin *salvo__curl_origin_find(salvo__transport *t,
                                            const char *key, int add) {
  if (!t->origins) {
    if (!add || !(t->origins = calloc(ORIGINS_MAX, sizeof(*t->origins))))
      return NULL;
  }
  size_t mask = ORIGINS_MAX - 1, i = salvo__hash(key) & mask;
  for (; t->origins[i].key; i = (i + 1) & mask)
    if (!strcmp(t->origins[i].key, key))
      return &t->origins[i];
  if (!add)
    return NULL;
  if (t->norigins >= ORIGINS_MAX / 2) {
    for (size_t j = 0; j <= mask; j++)
      free(t->origins[j].key);
    memset(t->origins, 0, ORIGINS_MAX * sizeof(*t->origins));
    t->norigins = 0;
    i = salvo__hash(key) & mask;
  }
  if (!(t->origins[i].key = salvo__strdup(key)))
    return NULL;
  t->origins[i].proto = SALVO__CURL_UNKNOWN;
  t->norigins++;
  return &t->origins[i];
}

void salvo__curl_origins_free(salvo__transport *t) {
  for (size_t i = 0; t->origins && i < ORIGINS_MAX; i++)
    free(t->origins[i].key);
  free(t->origins);
  t->origins = NULL;
}

/* libcurl before 8.0.0 (Debian 12 has 7.88.1) sets HTTP/2 up again on a
 * cleartext prior-knowledge connection for each request that reuses it,
 * whether it joins the first in flight or comes after (curl issue 10634,
 * fixed by curl pull request 10643): the requests fail with "Error in
 * the HTTP2 framing layer" (495 of 500 at 16 at once; 244 of 500 with
 * connections reused only once answered). There each request has a
 * connection of its own, in the multi that never shares one, and the
 * handle never reuses it (easy.c: CURLOPT_FORBID_REUSE). */
int salvo__curl_prior_proto(const salvo__transport *t, const char *url) {
  return t->h2c_alone && strncmp(url, "https:", 6) ? SALVO__CURL_H1
                                                   : SALVO__CURL_MUX;
}

/* libcurl 7.88 reads a cleartext HTTP/2 connection 32 KiB at a time; when
 * one read holds more of a stream than the transfer's buffer takes, the
 * rest waits for a wake-up that never comes, and the response times out
 * with its last bytes read (a 20,000-byte body in one burst did, every
 * time). A buffer larger than a read avoids it. Over TLS a read is one
 * record, at most 16 KiB, and nginx's answers of 16 to 100 KB came whole.
 * The libcurl is h2c_alone's: before 8.0.0. */
long salvo__curl_h2c_bufsize(const salvo__transport *t, const char *url) {
  int v = t->cfg->http_version;
  return t->h2c_alone &&
                 (v == SALVO_HTTP_2 || v == SALVO_HTTP_2_PRIOR_KNOWLEDGE) &&
                 strncmp(url, "https:", 6)
             ? 64L * 1024
             : 0;
}

int salvo__curl_origin_proto(salvo__transport *t, salvo__curl_xfer *x) {
  salvo__req *r = x->req;
  int v = t->cfg->http_version;
  x->learning = 0;
  if (v == SALVO_HTTP_2_PRIOR_KNOWLEDGE)
    return salvo__curl_prior_proto(t, r->origin);
  if (v == SALVO_HTTP_1_1 || strncmp(r->origin, "https:", 6))
    return SALVO__CURL_H1;
  salvo__curl_origin *o = salvo__curl_origin_find(t, r->origin, 1);
  if (!o)
    return SALVO__CURL_GUESS_MUX;
  x->learning =
      o->proto == SALVO__CURL_UNKNOWN || o->proto == SALVO__CURL_GUESS_MUX;
  if (o->proto == SALVO__CURL_UNKNOWN)
    t->ev.hold(t->ev.ctx, r, 1);
  return o->proto;
}

void salvo__curl_origin_learnt(salvo__transport *t, salvo__req *r, int proto) {
  salvo__curl_origin *o = salvo__curl_origin_find(t, r->origin, 0);
  if (o &&
      (o->proto == SALVO__CURL_UNKNOWN || o->proto == SALVO__CURL_GUESS_MUX)) {
    int was = o->proto;
    o->proto = proto ? proto : SALVO__CURL_GUESS_MUX;
    if (was == SALVO__CURL_UNKNOWN)
      t->ev.hold(t->ev.ctx, r, 0);
  }
}

/* MUX when it cannot be told (a TLS library other than OpenSSL), which is
 * safe for both kinds of server. */
int salvo__curl_alpn_proto(CURL *e) {
  struct curl_tlssessioninfo *ti = NULL;
  if (curl_easy_getinfo(e, CURLINFO_TLS_SSL_PTR, &ti) != CURLE_OK || !ti ||
      ti->backend != CURLSSLBACKEND_OPENSSL || !ti->internals)
    return SALVO__CURL_MUX;
  const unsigned char *p = NULL;
  unsigned int len = 0;
  SSL_get0_alpn_selected((SSL *)ti->internals, &p, &len);
  return len == 2 && !memcmp(p, "h2", 2) ? SALVO__CURL_MUX : SALVO__CURL_H1;
}
