/* A client's configuration and a request, as a caller hands them over:
 * the input's lines (split at LF, NULs and all bytes kept) fill the string
 * fields and the header, param and resolve lists in turn, the first bytes
 * a few numbers. What libsalvo checks before any connection runs on them:
 * salvo_config_check, the resolved configuration (salvo__cfg_resolve),
 * and a request made from it (salvo__req_new). Files are never named: the
 * fields that open one stay NULL. Each either succeeds or says why; the
 * why is a non-empty string. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "pool.h"
#include "request.h"
#include "salvo.h"

#define MAXLINES 24

/* The next line of the input (its LF dropped), a copy the caller frees
 * with the rest, or NULL once the input is spent. */
static char *next_line(const char **p, const char *end, char **owned,
                       size_t *nowned) {
  if (*p >= end || *nowned == MAXLINES)
    return NULL;
  const char *nl = memchr(*p, '\n', (size_t)(end - *p));
  size_t n = (size_t)((nl ? nl : end) - *p);
  char *s = malloc(n + 1);
  if (!s)
    abort();
  memcpy(s, *p, n);
  s[n] = '\0';
  *p += n + (nl != NULL);
  owned[(*nowned)++] = s;
  return s;
}

/* Up to three lines as a NULL-terminated list (a line "-" ends it), or
 * NULL when the first is empty. */
static void list_of(const char **p, const char *end, char **owned,
                    size_t *nowned, const char **list) {
  size_t n = 0;
  char *s;
  while (n < 3 && (s = next_line(p, end, owned, nowned)) && strcmp(s, "-"))
    list[n++] = s;
  list[n] = NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 4)
    return 0;
  static salvo__pool *pool;
  if (!pool)
    pool = salvo__pool_new();
  char *owned[MAXLINES];
  size_t nowned = 0;
  const char *p = (const char *)data + 4, *end = (const char *)data + size;
  salvo_config c;
  salvo_config_init(&c);
  c.concurrency = (int)(int8_t)data[0];
  c.max_retries = (int)(int8_t)data[1];
  c.timeout = (double)(int8_t)data[2] / 4;
  c.http_version = data[3] & 7;
  c.transport = (data[3] >> 3) & 3;
  const char *hdrs[4], *resolve[4], *params[4], *rhdrs[4];
  list_of(&p, end, owned, &nowned, hdrs);
  c.headers = hdrs[0] ? hdrs : NULL;
  c.user_agent = next_line(&p, end, owned, &nowned);
  c.username = next_line(&p, end, owned, &nowned);
  c.password = next_line(&p, end, owned, &nowned);
  c.bearer_token = next_line(&p, end, owned, &nowned);
  c.proxy = next_line(&p, end, owned, &nowned);
  c.dns_servers = next_line(&p, end, owned, &nowned);
  list_of(&p, end, owned, &nowned, resolve);
  c.resolve = resolve[0] ? resolve : NULL;
  char why[256];
  int checked = salvo_config_check(&c, why, sizeof(why));
  if (checked && !why[0])
    abort(); /* refused without a word */
  salvo__cfg cfg;
  char *msg = NULL;
  int resolved = salvo__cfg_resolve(&cfg, &c, &msg);
  free(msg);
  if (!resolved) {
    salvo_request in;
    salvo_request_init(&in);
    in.url = next_line(&p, end, owned, &nowned);
    in.method = next_line(&p, end, owned, &nowned);
    in.key = next_line(&p, end, owned, &nowned);
    list_of(&p, end, owned, &nowned, params);
    in.params = params[0] ? params : NULL;
    list_of(&p, end, owned, &nowned, rhdrs);
    in.headers = rhdrs[0] ? rhdrs : NULL;
    if (p < end) {
      in.body = p;
      in.body_len = (size_t)(end - p);
    }
    int err = 0;
    msg = NULL;
    salvo__req *r = in.url ? salvo__req_new(&in, &cfg, pool, &err, &msg) : NULL;
    if (in.url && !r && err != SALVO_ENOMEM && (!msg || !*msg))
      abort(); /* a request refused without a word */
    free(msg);
    salvo__req_free(r);
    salvo__cfg_free(&cfg);
  }
  for (size_t i = 0; i < nowned; i++)
    free(owned[i]);
  return 0;
}
