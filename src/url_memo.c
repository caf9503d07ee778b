/* The last origin parsed, per client: see url_memo.h. */
#include "url_memo.h"

#include <string.h>

#include "buf.h"

void salvo__url_memo_init(salvo__url_memo *m) {
  memset(m, 0, sizeof(*m));
  atomic_flag_clear(&m->busy);
}

/* Where a URL's authority may end: what url.c's parse stops at. */
static int ends_authority(char c) {
  return c == '\0' || c == '/' || c == '?' || c == '#';
}

/* The key of u, made once: the memo hands it out while its origin lasts. */
static void make_key(const salvo__url *u, salvo__url_key *key) {
  key->len = 0;
  if (salvo__url_origin_len(u) >= sizeof(key->text))
    return;
  char *end = salvo__url_put_origin(key->text, u);
  key->len = (size_t)(end - key->text);
  key->hash = salvo__hash_n(key->text, key->len);
}

/* m's entry for url, when url starts with m's prefix: u and key as a full
 * parse would give them. Under m->busy. */
static int hit(const salvo__url_memo *m, const char *url, size_t len,
               salvo__url *u, salvo__url_key *key) {
  if (!m->len || len < m->len || memcmp(url, m->prefix, m->len) ||
      !ends_authority(url[m->len]))
    return 0;
  *u = m->u;
  u->host = url + m->host_off;
  if (m->port_off != SIZE_MAX)
    u->port_text = url + m->port_off;
  u->len = len;
  *key = m->key;
  return 1;
}

/* Keeps url's parse in m: a URL without userinfo whose prefix and key
 * fit. Under m->busy. */
static void keep(salvo__url_memo *m, const char *url, const salvo__url *u,
                 const salvo__url_key *key) {
  if (u->userinfo || u->path > sizeof(m->prefix) || !key->len)
    return;
  m->len = u->path;
  memcpy(m->prefix, url, u->path);
  uintptr_t at = (uintptr_t)u->port_text, from = (uintptr_t)url;
  int in_url = at >= from && at < from + u->len;
  m->u = *u;
  m->u.host = NULL; /* both of url's, which goes */
  m->host_off = (size_t)(u->host - url);
  m->port_off = in_url ? (size_t)(u->port_text - url) : SIZE_MAX;
  if (in_url)
    m->u.port_text = NULL; /* else the scheme's literal, which stays */
  m->key = *key;
}

int salvo__url_parse_memo(salvo__url_memo *m, const char *url, salvo__url *u,
                          salvo__url_key *key, char **msg) {
  int mine =
      m && !atomic_flag_test_and_set_explicit(&m->busy, memory_order_acquire);
  if (mine) {
    size_t len = strlen(url);
    int found = hit(m, url, len, u, key);
    atomic_flag_clear_explicit(&m->busy, memory_order_release);
    if (found) /* the whole URL: one pass of sixteen bytes a step */
      return salvo__url_check(url, u, msg);
  }
  int rc = salvo__url_parse(url, u, msg);
  if (rc)
    return rc;
  make_key(u, key);
  if (m && !atomic_flag_test_and_set_explicit(&m->busy, memory_order_acquire)) {
    keep(m, url, u, key);
    atomic_flag_clear_explicit(&m->busy, memory_order_release);
  }
  return 0;
}
